/* SPDX-License-Identifier: GPL-2.0-or-later
 * stream/tcp.c: TCP session tracking and in-order reassembly (see
 * stream.h for the policies).
 *
 * Naming: d[i] describes endpoint i (i = p->dir of the packets it sends):
 * the data it sends (isn, next_seq, held out-of-order segments) and what it
 * acknowledges and advertises (last_ack, window, wscale).  The session
 * states follow Suricata, whose closing states are named from the server's
 * point of view (client FIN first: close_wait, last_ack; server FIN first:
 * fin_wait1, fin_wait2 / closing, time_wait).
 */
#include "stream/stream.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define WSCALE_MAX 14
/* never hold or accept data further ahead than this (keeps every held
 * sequence number within 2^31 of next_seq, so the order is well defined) */
#define MAX_AHEAD (1u << 30)

/* session flags */
enum {
    SF_CLI1 = 1u << 0,      /* the client is endpoint 1 */
    SF_MIDSTREAM = 1u << 1,
    SF_4WHS = 1u << 2,      /* the server answered the SYN with a SYN */
    SF_SA1 = 1u << 3,       /* the SYN-ACK came from endpoint 1 */
    SF_TFO = 1u << 4,       /* data on the SYN, held until acknowledged */
    SF_ASYNC = 1u << 5,     /* one-sided: SYN-ACK never seen */
    SF_SYN_WS = 1u << 6,    /* the SYN carried the window scale option */
    SF_SRV_FIN1 = 1u << 7,  /* the server sent the first FIN */
};

struct bf_tcp_seg {
    struct bf_tcp_seg *prev, *next;
    uint32_t seq, len;
    uint8_t data[];
};

struct bf_stream {
    bf_stream_cfg cfg;
    bf_flow_table *ft;
    bf_stream_data_fn on_data;
    void *ud;
    bf_stream_stats st;
};

/* what one packet's processing needs */
typedef struct ctx {
    bf_stream *s;
    bf_flow *f;
    bf_packet *p;             /* NULL at flow end */
    bf_tcp_session *t;
} ctx;

static inline void ev(ctx *c, uint16_t id)
{
    if (c->p)
        bf_packet_event(c->p, id);
}

void bf_stream_cfg_default(bf_stream_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->memcap = 64ull << 20;
    c->reassembly_depth = 1ull << 20;
    c->midstream = false;
    c->async_oneside = false;
    c->max_ooo_segments = 1024;
    c->checksum_validation = true;
}

bf_stream *bf_stream_new(const bf_stream_cfg *cfg, bf_flow_table *ft, bf_stream_data_fn on_data,
                         void *ud)
{
    bf_stream *s = bf_calloc(1, sizeof *s);
    if (cfg)
        s->cfg = *cfg;
    else
        bf_stream_cfg_default(&s->cfg);
    s->ft = ft;
    s->on_data = on_data;
    s->ud = ud;
    return s;
}

/* Sessions belong to flows: end the flows (bf_stream_flow_end) first. */
void bf_stream_free(bf_stream *s) { free(s); }

const bf_stream_stats *bf_stream_get_stats(const bf_stream *s) { return &s->st; }

const char *bf_tcp_state_name(uint8_t st)
{
    static const char *const names[] = {
        [BF_TCP_NONE] = "none",           [BF_TCP_SYN_SENT] = "syn_sent",
        [BF_TCP_SYN_RECV] = "syn_recv",   [BF_TCP_ESTABLISHED] = "established",
        [BF_TCP_FIN_WAIT1] = "fin_wait1", [BF_TCP_FIN_WAIT2] = "fin_wait2",
        [BF_TCP_TIME_WAIT] = "time_wait", [BF_TCP_LAST_ACK] = "last_ack",
        [BF_TCP_CLOSE_WAIT] = "close_wait", [BF_TCP_CLOSING] = "closing",
        [BF_TCP_CLOSED] = "closed",
    };
    return st < BF_ARRAY_LEN(names) ? names[st] : "unknown";
}

/* ------------------------------------------------------------- memory */

static bool mem_take(bf_stream *s, uint64_t n)
{
    if (s->cfg.memcap && (s->st.memuse + n > s->cfg.memcap || s->st.memuse + n < n))
        return false;
    s->st.memuse += n;
    bf_flow_mem_adjust(s->ft, (int64_t)n);
    return true;
}

static void mem_give(bf_stream *s, uint64_t n)
{
    s->st.memuse = s->st.memuse >= n ? s->st.memuse - n : 0;
    bf_flow_mem_adjust(s->ft, -(int64_t)n);
}

static inline uint64_t seg_size(uint32_t len) { return sizeof(struct bf_tcp_seg) + len; }

static void seg_unlink_free(bf_stream *s, bf_tcp_dir *d, struct bf_tcp_seg *g)
{
    /* the run g belonged to ends with g unless the next segment follows it */
    bool run_start = !g->prev || g->prev->seq + g->prev->len != g->seq;
    bool run_end = !g->next || g->seq + g->len != g->next->seq;
    if (run_start && run_end && d->regions)
        d->regions--;
    else if (!run_start && !run_end)
        d->regions++; /* g split its run in two */
    if (g->prev)
        g->prev->next = g->next;
    else
        d->ooo = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        d->ooo_tail = g->prev;
    d->ooo_cnt--;
    d->ooo_bytes -= g->len;
    mem_give(s, seg_size(g->len));
    free(g);
}

static void ooo_free_all(bf_stream *s, bf_tcp_dir *d)
{
    uint64_t bytes = 0;
    struct bf_tcp_seg *g = d->ooo;
    while (g) {
        struct bf_tcp_seg *n = g->next;
        bytes += seg_size(g->len);
        free(g);
        g = n;
    }
    if (bytes)
        mem_give(s, bytes);
    d->ooo = d->ooo_tail = NULL;
    d->ooo_cnt = d->ooo_bytes = d->regions = 0;
}

/* ----------------------------------------------------------- delivery */

/* Hands `len` bytes after a hole of `gap` bytes to the consumer, within the
 * reassembly depth. */
static void emit(ctx *c, int di, const uint8_t *data, uint32_t len, uint32_t gap)
{
    bf_stream *s = c->s;
    bf_tcp_dir *d = &c->t->d[di];
    if (d->depth_reached || (!len && !gap))
        return;
    uint64_t depth = s->cfg.reassembly_depth;
    uint64_t off = d->delivered + d->gap_bytes;
    bool hit = false;
    if (depth) {
        if (off + gap >= depth) {
            len = 0;
            gap = (uint32_t)(depth - off);
            hit = true;
        } else if (off + gap + len >= depth) {
            len = (uint32_t)(depth - off - gap);
            hit = true;
        }
    }
    if (gap) {
        d->gap = true;
        d->gap_bytes += gap;
        s->st.reassembly_gap++;
        ev(c, BF_EV_STREAM_REASSEMBLY_SEQ_GAP);
    }
    d->delivered += len;
    if (len || gap)
        s->on_data(s->ud, c->f, c->p, di, len ? data : NULL, len, gap);
    if (hit) {
        d->depth_reached = true;
        s->st.stream_depth_reached++;
        ev(c, BF_EV_STREAM_REASSEMBLY_DEPTH_REACHED);
    }
}

/* After a depth stop nothing is delivered any more: drop what is held. */
static void depth_cleanup(ctx *c, int di)
{
    bf_tcp_dir *d = &c->t->d[di];
    if (d->depth_reached && d->ooo)
        ooo_free_all(c->s, d);
}

/* Delivers from next_seq: the packet's bytes [seq, seq+len) (which must
 * not start after next_seq; data may be NULL) interleaved with the held
 * segments, held bytes winning where both exist, then every held segment
 * that has become contiguous.  Each round frees a segment or moves
 * next_seq forward, so this ends after at most ooo_cnt + 1 + ooo_cnt
 * rounds. */
static void advance(ctx *c, int di, uint32_t seq, const uint8_t *data, uint32_t len)
{
    bf_tcp_dir *d = &c->t->d[di];
    uint32_t end = seq + len;
    if (!data)
        end = seq = d->next_seq;
    for (;;) {
        struct bf_tcp_seg *g = d->ooo;
        uint32_t cur = d->next_seq;
        if (g && SEQ_LEQ(g->seq, cur)) {
            uint32_t gend = g->seq + g->len;
            if (SEQ_GT(gend, cur)) {
                uint32_t off = cur - g->seq, n = g->len - off;
                if (data && SEQ_LT(cur, end)) {
                    uint32_t ov = BF_MIN(n, end - cur);
                    c->s->st.overlap++;
                    if (memcmp(g->data + off, data + (cur - seq), ov) != 0) {
                        c->s->st.overlap_diff_data++;
                        ev(c, BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA);
                    }
                }
                emit(c, di, g->data + off, n, 0);
                d->next_seq = gend;
            }
            seg_unlink_free(c->s, d, g);
            continue;
        }
        if (data && SEQ_LT(cur, end)) {
            uint32_t stop = (g && SEQ_LT(g->seq, end)) ? g->seq : end;
            emit(c, di, data + (cur - seq), stop - cur, 0);
            d->next_seq = stop;
            continue;
        }
        break;
    }
    depth_cleanup(c, di);
}

/* Declares the bytes from next_seq up to `target` lost, except those held:
 * holes are reported as gaps and held runs delivered. */
static void gap_to(ctx *c, int di, uint32_t target)
{
    bf_tcp_dir *d = &c->t->d[di];
    for (uint32_t rounds = d->ooo_cnt + 2; rounds && SEQ_LT(d->next_seq, target); rounds--) {
        struct bf_tcp_seg *g = d->ooo;
        uint32_t cur = d->next_seq;
        uint32_t to = (g && SEQ_LT(g->seq, target)) ? g->seq : target;
        if (SEQ_GT(to, cur)) {
            emit(c, di, NULL, 0, to - cur);
            d->next_seq = to;
        }
        advance(c, di, 0, NULL, 0);
    }
    depth_cleanup(c, di);
}

/* Copies the parts of [seq, seq+len) not already held into the sorted
 * list (seq is after next_seq).  Held bytes win; differing overlaps are
 * reported. */
static void ooo_insert(ctx *c, int di, uint32_t seq, const uint8_t *data, uint32_t len)
{
    bf_stream *s = c->s;
    bf_tcp_dir *d = &c->t->d[di];
    uint32_t end = seq + len;
    /* first held segment ending after seq: walk back from the tail (O(1)
     * for the usual ascending arrival) */
    struct bf_tcp_seg *prev = d->ooo_tail, *next = NULL;
    if (d->ooo && SEQ_LEQ(end, d->ooo->seq)) { /* before everything held */
        next = d->ooo;
        prev = NULL;
    }
    while (prev && SEQ_GT(prev->seq + prev->len, seq)) {
        next = prev;
        prev = prev->prev;
    }
    uint32_t cur = seq;
    bool overlapped = false;
    while (SEQ_LT(cur, end)) {
        if (next && SEQ_LEQ(next->seq, cur)) {
            uint32_t ne = next->seq + next->len;
            uint32_t oe = SEQ_LT(ne, end) ? ne : end;
            if (memcmp(next->data + (cur - next->seq), data + (cur - seq), oe - cur) != 0) {
                s->st.overlap_diff_data++;
                ev(c, BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA);
            }
            overlapped = true;
            cur = oe;
            prev = next;
            next = next->next;
            continue;
        }
        uint32_t pe = (next && SEQ_LT(next->seq, end)) ? next->seq : end;
        uint32_t n = pe - cur;
        if (d->ooo_cnt >= s->cfg.max_ooo_segments) {
            s->st.ooo_limit_drop++;
            break;
        }
        if (!mem_take(s, seg_size(n))) {
            s->st.segment_memcap_drop++;
            break;
        }
        struct bf_tcp_seg *g = malloc(seg_size(n));
        if (!g) {
            mem_give(s, seg_size(n));
            s->st.segment_memcap_drop++;
            break;
        }
        g->seq = cur;
        g->len = n;
        memcpy(g->data, data + (cur - seq), n);
        bool adj_prev = prev && prev->seq + prev->len == cur;
        bool adj_next = next && next->seq == pe;
        if (!adj_prev && !adj_next)
            d->regions++;
        else if (adj_prev && adj_next && d->regions)
            d->regions--;
        g->prev = prev;
        g->next = next;
        if (prev)
            prev->next = g;
        else
            d->ooo = g;
        if (next)
            next->prev = g;
        else
            d->ooo_tail = g;
        d->ooo_cnt++;
        d->ooo_bytes += n;
        prev = g;
        cur = pe;
    }
    if (overlapped)
        s->st.overlap++;
    if (d->regions + 1 > d->max_regions)
        d->max_regions = d->regions + 1;
}

/* One segment of payload from endpoint di. */
static void reassemble(ctx *c, int di, uint32_t seq, const uint8_t *data, uint32_t len)
{
    bf_stream *s = c->s;
    bf_tcp_dir *d = &c->t->d[di];
    if (!len)
        return;
    if (!d->next_known) {
        d->next_seq = seq;
        d->next_known = true;
    }
    /* nothing after this side's FIN is data */
    if (d->fin_seen && SEQ_GT(seq + len, d->fin_seq)) {
        if (SEQ_GEQ(seq, d->fin_seq))
            return;
        len = d->fin_seq - seq;
    }
    for (int tries = 0; tries < 2; tries++) {
        uint32_t end = seq + len;
        if (SEQ_LEQ(end, d->next_seq)) {
            if (tries == 0) {
                s->st.pkt_retransmission++;
                ev(c, BF_EV_STREAM_PKT_RETRANSMISSION);
            }
            return;
        }
        if (SEQ_LEQ(seq, d->next_seq)) {
            if (SEQ_LT(seq, d->next_seq))
                s->st.overlap++; /* partial retransmission: trimmed */
            advance(c, di, seq, data, len);
            return;
        }
        if (d->depth_reached) {
            return;
        }
        if (seq - d->next_seq >= MAX_AHEAD) {
            s->st.pkt_invalid++;
            ev(c, BF_EV_STREAM_EST_PACKET_OUT_OF_WINDOW);
            return;
        }
        if (d->ooo_cnt < s->cfg.max_ooo_segments)
            break;
        /* queue full: the hole before the first held segment is a gap */
        s->st.ooo_limit++;
        gap_to(c, di, d->ooo ? d->ooo->seq : seq);
    }
    if (d->depth_reached || !SEQ_GT(seq, d->next_seq))
        return;
    ooo_insert(c, di, seq, data, len);
}

/* -------------------------------------------------------------- state */

static void set_state(ctx *c, uint8_t st)
{
    bf_tcp_session *t = c->t;
    if (t->state == st)
        return;
    t->state = st;
    switch (st) {
    case BF_TCP_ESTABLISHED:
        bf_flow_set_state(c->s->ft, c->f, BF_FLOW_ESTABLISHED);
        break;
    case BF_TCP_LAST_ACK:
    case BF_TCP_TIME_WAIT:
    case BF_TCP_CLOSED:
        bf_flow_set_state(c->s->ft, c->f, BF_FLOW_CLOSED);
        break;
    default:
        break;
    }
}

static inline int cli_of(const bf_tcp_session *t) { return (t->flags & SF_CLI1) ? 1 : 0; }
static inline int sa_of(const bf_tcp_session *t) { return (t->flags & SF_SA1) ? 1 : 0; }

static inline uint32_t scaled_win(const bf_packet *p, uint8_t ws)
{
    return (uint32_t)p->tcp_win << ws;
}

static bf_tcp_session *session_new(bf_stream *s, bf_flow *f)
{
    if (!mem_take(s, sizeof(bf_tcp_session))) {
        s->st.ssn_memcap_drop++;
        return NULL;
    }
    bf_tcp_session *t = calloc(1, sizeof *t);
    if (!t) {
        mem_give(s, sizeof(bf_tcp_session));
        s->st.ssn_memcap_drop++;
        return NULL;
    }
    s->st.sessions++;
    f->tcp = t;
    return t;
}

/* Records a SYN's sequence number, window and scale option for endpoint di. */
static void take_syn(bf_tcp_dir *d, const bf_packet *p)
{
    d->isn = p->tcp_seq;
    d->next_seq = p->tcp_seq + 1;
    d->isn_known = d->next_known = true;
    d->window = p->tcp_win; /* never scaled on a SYN */
    d->wscale = (p->flags & BF_PKT_TCP_OPT_WSCALE) ? BF_MIN(p->tcp_wscale, WSCALE_MAX) : 0;
}

static void mark_midstream(ctx *c)
{
    c->t->flags |= SF_MIDSTREAM;
    c->f->flags |= BF_FLOW_F_MIDSTREAM;
    c->s->st.midstream_pickups++;
}

/* Is ACK value a from endpoint di plausible?  It acknowledges the peer's
 * data: it may pass what we saw of it (lost packets) by at most the
 * acker's window. */
static bool ack_plausible(const bf_tcp_session *t, int di, uint32_t a)
{
    const bf_tcp_dir *me = &t->d[di], *peer = &t->d[di ^ 1];
    if (!peer->next_known)
        return true;
    uint32_t base = peer->next_seq;
    if (me->ack_known && SEQ_GT(me->last_ack, base))
        base = me->last_ack;
    uint32_t allow = BF_MAX(me->window, 65535u);
    if (allow > MAX_AHEAD)
        allow = MAX_AHEAD;
    return SEQ_LEQ(a, base + allow + 1);
}

/* The packet from di acknowledges a: update, and declare a gap in the
 * peer's direction when the ACK passes data we never saw. */
static void take_ack(ctx *c, int di, uint32_t a)
{
    bf_tcp_dir *me = &c->t->d[di], *peer = &c->t->d[di ^ 1];
    if (!me->ack_known || SEQ_GT(a, me->last_ack))
        me->last_ack = a;
    me->ack_known = true;
    me->window = scaled_win(c->p, me->wscale);
    if (!peer->next_known)
        return;
    uint32_t target = a;
    if (peer->fin_seen && SEQ_GT(target, peer->fin_seq))
        target = peer->fin_seq;
    if (SEQ_GT(target, peer->next_seq)) {
        if (peer->depth_reached)
            peer->next_seq = target;
        else
            gap_to(c, di ^ 1, target);
    }
}

/* Closing states from the FIN/ACK facts (Suricata's names). */
static void close_state(ctx *c)
{
    bf_tcp_session *t = c->t;
    if (t->state < BF_TCP_ESTABLISHED || t->state == BF_TCP_CLOSED)
        return;
    const bf_tcp_dir *cl = &t->d[cli_of(t)], *sv = &t->d[cli_of(t) ^ 1];
    uint8_t st;
    if (!cl->fin_seen && !sv->fin_seen)
        st = BF_TCP_ESTABLISHED;
    else if (!sv->fin_seen)
        st = BF_TCP_CLOSE_WAIT;
    else if (!cl->fin_seen)
        st = sv->fin_acked ? BF_TCP_FIN_WAIT2 : BF_TCP_FIN_WAIT1;
    else if (cl->fin_acked && sv->fin_acked)
        st = BF_TCP_CLOSED;
    else if (!(t->flags & SF_SRV_FIN1))
        st = BF_TCP_LAST_ACK;
    else if (!sv->fin_acked)
        st = BF_TCP_CLOSING;
    else
        st = BF_TCP_TIME_WAIT;
    set_state(c, st); /* the facts only grow, so the state only moves on */
}

static bool rst_valid(ctx *c, int di)
{
    bf_tcp_session *t = c->t;
    const bf_packet *p = c->p;
    bf_tcp_dir *me = &t->d[di], *peer = &t->d[di ^ 1];
    if (t->state == BF_TCP_SYN_SENT && di != cli_of(t) && !(t->flags & SF_4WHS)) {
        /* refusing the SYN: must acknowledge it */
        uint32_t a = p->tcp_ack;
        if (!(p->tcp_flags & BF_TH_ACK) || !SEQ_GT(a, peer->isn) ||
            SEQ_GT(a, peer->next_seq + peer->ooo_bytes)) {
            ev(c, BF_EV_STREAM_RST_INVALID_ACK);
            return false;
        }
        return true;
    }
    if ((p->tcp_flags & BF_TH_ACK) && !ack_plausible(t, di, p->tcp_ack)) {
        ev(c, BF_EV_STREAM_RST_INVALID_ACK);
        return false;
    }
    if (!me->next_known)
        return true;
    uint32_t seq = p->tcp_seq;
    if (seq == me->next_seq || (peer->ack_known && seq == peer->last_ack))
        return true;
    uint32_t win = peer->ack_known ? BF_MAX(peer->window, 1u) : 65535u;
    if (win > MAX_AHEAD)
        win = MAX_AHEAD;
    return SEQ_GT(seq, me->next_seq) && SEQ_LT(seq, me->next_seq + win);
}

static void handle_rst(ctx *c, int di)
{
    if (!rst_valid(c, di)) {
        c->s->st.pkt_invalid++;
        return;
    }
    c->t->d[di].rst_seen = true;
    if (c->t->flags & SF_TFO) { /* the SYN's data was never accepted */
        ooo_free_all(c->s, &c->t->d[cli_of(c->t)]);
        c->t->flags &= (uint8_t)~SF_TFO;
    }
    set_state(c, BF_TCP_CLOSED);
}

/* SYN or SYN-ACK on a session past the handshake: reported, ignored. */
static void syn_late(ctx *c, int di)
{
    bf_tcp_session *t = c->t;
    const bf_packet *p = c->p;
    const bf_tcp_dir *me = &t->d[di], *peer = &t->d[di ^ 1];
    bool est = t->state == BF_TCP_ESTABLISHED;
    if (!(p->tcp_flags & BF_TH_ACK)) {
        if (!est)
            ev(c, BF_EV_STREAM_SHUTDOWN_SYN_RESEND);
        else if (di != cli_of(t))
            ev(c, BF_EV_STREAM_EST_SYN_TOCLIENT);
        else if (me->isn_known && p->tcp_seq == me->isn)
            ev(c, BF_EV_STREAM_EST_SYN_RESEND);
        else
            ev(c, BF_EV_STREAM_EST_SYN_RESEND_DIFF_SEQ);
        return;
    }
    if (!est)
        return;
    if (di != sa_of(t))
        ev(c, BF_EV_STREAM_EST_SYNACK_TOSERVER);
    else if (!me->isn_known || p->tcp_seq != me->isn)
        ev(c, BF_EV_STREAM_EST_SYNACK_RESEND_WITH_DIFF_SEQ);
    else if (!peer->isn_known || !SEQ_GT(p->tcp_ack, peer->isn) ||
             SEQ_GT(p->tcp_ack, peer->next_seq))
        ev(c, BF_EV_STREAM_EST_SYNACK_RESEND_WITH_DIFFERENT_ACK);
    else
        ev(c, BF_EV_STREAM_EST_SYNACK_RESEND);
}

static uint16_t invalid_ack_event(uint8_t st)
{
    switch (st) {
    case BF_TCP_FIN_WAIT1: return BF_EV_STREAM_FIN1_INVALID_ACK;
    case BF_TCP_FIN_WAIT2: return BF_EV_STREAM_FIN2_INVALID_ACK;
    case BF_TCP_CLOSE_WAIT: return BF_EV_STREAM_CLOSEWAIT_INVALID_ACK;
    case BF_TCP_LAST_ACK: return BF_EV_STREAM_LASTACK_INVALID_ACK;
    case BF_TCP_CLOSING: return BF_EV_STREAM_CLOSING_INVALID_ACK;
    case BF_TCP_TIME_WAIT: return BF_EV_STREAM_TIMEWAIT_INVALID_ACK;
    default: return BF_EV_STREAM_EST_INVALID_ACK;
    }
}

/* A packet on an established (or closing) session. */
static void track(ctx *c, int di)
{
    bf_tcp_session *t = c->t;
    bf_packet *p = c->p;
    uint8_t fl = p->tcp_flags;
    bf_tcp_dir *me = &t->d[di], *peer = &t->d[di ^ 1];
    if (fl & BF_TH_RST) {
        handle_rst(c, di);
        return;
    }
    if (fl & BF_TH_SYN) {
        syn_late(c, di);
        return;
    }
    if ((fl & BF_TH_ACK) && !ack_plausible(t, di, p->tcp_ack)) {
        ev(c, invalid_ack_event(t->state));
        c->s->st.pkt_invalid++;
        return;
    }
    uint32_t seq = p->tcp_seq, len = p->payload_len;
    if ((len || (fl & BF_TH_FIN)) && me->next_known && peer->ack_known) {
        /* the right edge of what the peer allows (lenient when its ACKs
         * lag behind what we saw) */
        uint32_t base = SEQ_GT(me->next_seq, peer->last_ack) ? me->next_seq : peer->last_ack;
        uint32_t right = base + BF_MIN(BF_MAX(peer->window, 1u), MAX_AHEAD);
        if (SEQ_GT(seq, right)) {
            ev(c, (fl & BF_TH_FIN) ? BF_EV_STREAM_FIN_OUT_OF_WINDOW
                                   : BF_EV_STREAM_EST_PACKET_OUT_OF_WINDOW);
            c->s->st.pkt_invalid++;
            return;
        }
    }
    if (fl & BF_TH_ACK)
        take_ack(c, di, p->tcp_ack);
    if (len)
        reassemble(c, di, seq, p->payload, len);
    if ((fl & BF_TH_FIN) && !me->fin_seen) {
        me->fin_seen = true;
        me->fin_seq = seq + len;
        if (di != cli_of(t) && !peer->fin_seen)
            t->flags |= SF_SRV_FIN1;
        if (!me->next_known) {
            me->next_seq = me->fin_seq;
            me->next_known = true;
        }
    }
    if ((fl & BF_TH_ACK) && peer->fin_seen && SEQ_GT(p->tcp_ack, peer->fin_seq))
        peer->fin_acked = true;
    close_state(c);
}

/* The handshake is complete (or given up on, one-sided). */
static void establish(ctx *c)
{
    set_state(c, BF_TCP_ESTABLISHED);
    if (c->t->flags & SF_TFO) {
        /* the SYN's data: acknowledged, or nobody will tell us otherwise */
        c->t->flags &= (uint8_t)~SF_TFO;
        advance(c, cli_of(c->t), 0, NULL, 0);
    }
}

static void syn_sent(ctx *c, int di)
{
    bf_tcp_session *t = c->t;
    bf_packet *p = c->p;
    uint8_t fl = p->tcp_flags;
    int cl = cli_of(t), sv = cl ^ 1;
    bf_tcp_dir *C = &t->d[cl], *S = &t->d[sv];
    if (fl & BF_TH_RST) {
        handle_rst(c, di);
        return;
    }
    if ((fl & (BF_TH_SYN | BF_TH_ACK)) == BF_TH_SYN) {
        if (di == cl) {
            if (p->tcp_seq != C->isn) { /* a new attempt with another ISN */
                ooo_free_all(c->s, C);
                t->flags &= (uint8_t)~(SF_TFO | SF_SYN_WS);
                take_syn(C, p);
                if (p->flags & BF_PKT_TCP_OPT_WSCALE)
                    t->flags |= SF_SYN_WS;
                if (p->payload_len) {
                    t->flags |= SF_TFO;
                    ooo_insert(c, cl, p->tcp_seq + 1, p->payload, p->payload_len);
                }
            }
            return; /* same ISN: retransmission */
        }
        /* the server answers with its own SYN: split handshake or
         * simultaneous open */
        take_syn(S, p);
        t->flags |= SF_4WHS;
        return;
    }
    if ((fl & (BF_TH_SYN | BF_TH_ACK)) == (BF_TH_SYN | BF_TH_ACK)) {
        uint32_t a = p->tcp_ack;
        if (di == cl) {
            if (!(t->flags & SF_4WHS)) {
                ev(c, BF_EV_STREAM_3WHS_SYNACK_IN_WRONG_DIRECTION);
                c->s->st.pkt_invalid++;
                return;
            }
            if (a != S->isn + 1) {
                ev(c, BF_EV_STREAM_4WHS_SYNACK_WITH_WRONG_ACK);
                c->s->st.pkt_invalid++;
                return;
            }
            if (p->tcp_seq != C->isn) {
                ev(c, BF_EV_STREAM_4WHS_SYNACK_WITH_WRONG_SYN);
                c->s->st.pkt_invalid++;
                return;
            }
            C->last_ack = a;
            C->ack_known = true;
            C->window = p->tcp_win;
            if (!(t->flags & SF_SYN_WS) || !(p->flags & BF_PKT_TCP_OPT_WSCALE))
                C->wscale = S->wscale = 0;
            t->flags = (uint8_t)((t->flags & ~SF_SA1) | (cl ? SF_SA1 : 0));
            set_state(c, BF_TCP_SYN_RECV);
            return;
        }
        if (!SEQ_GT(a, C->isn) || SEQ_GT(a, C->next_seq + C->ooo_bytes)) {
            ev(c, BF_EV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK);
            c->s->st.pkt_invalid++;
            return;
        }
        if ((t->flags & SF_TFO) && a == C->isn + 1) {
            ev(c, BF_EV_STREAM_3WHS_SYNACK_TFO_DATA_IGNORED);
            ooo_free_all(c->s, C);
            t->flags &= (uint8_t)~SF_TFO;
        }
        take_syn(S, p);
        if (!(t->flags & SF_SYN_WS) || !(p->flags & BF_PKT_TCP_OPT_WSCALE))
            C->wscale = S->wscale = 0;
        S->last_ack = a;
        S->ack_known = true;
        t->flags = (uint8_t)((t->flags & ~SF_SA1) | (sv ? SF_SA1 : 0));
        set_state(c, BF_TCP_SYN_RECV);
        if (t->flags & SF_TFO) { /* the server took the SYN's data */
            t->flags &= (uint8_t)~SF_TFO;
            advance(c, cl, 0, NULL, 0);
        }
        if (p->payload_len)
            reassemble(c, sv, p->tcp_seq + 1, p->payload, p->payload_len);
        return;
    }
    /* no SYN: the SYN-ACK may never come (one-sided capture) */
    if (di == cl && (fl & BF_TH_ACK) && c->s->cfg.async_oneside) {
        uint32_t seq = p->tcp_seq;
        if (!SEQ_GEQ(seq, C->next_seq) || SEQ_GT(seq, C->next_seq + C->ooo_bytes)) {
            ev(c, BF_EV_STREAM_3WHS_ASYNC_WRONG_SEQ);
            c->s->st.pkt_invalid++;
            return;
        }
        t->flags |= SF_ASYNC;
        S->next_seq = p->tcp_ack;
        S->isn = p->tcp_ack - 1;
        S->next_known = S->isn_known = true;
        establish(c);
        track(c, di);
        return;
    }
    c->s->st.pkt_invalid++;
}

static void syn_recv(ctx *c, int di)
{
    bf_tcp_session *t = c->t;
    bf_packet *p = c->p;
    uint8_t fl = p->tcp_flags;
    int sa = sa_of(t), ak = sa ^ 1;
    bf_tcp_dir *SA = &t->d[sa], *A = &t->d[ak];
    bool fourw = (t->flags & SF_4WHS) && sa == cli_of(t);
    if (fl & BF_TH_RST) {
        handle_rst(c, di);
        return;
    }
    if (fl & BF_TH_SYN) {
        if (di == sa) {
            if (fl & BF_TH_ACK) {
                if (p->tcp_seq != SA->isn)
                    ev(c, BF_EV_STREAM_3WHS_SYNACK_RESEND_WITH_DIFF_SEQ);
                else if (p->tcp_ack != SA->last_ack)
                    ev(c, BF_EV_STREAM_3WHS_SYNACK_RESEND_WITH_DIFFERENT_ACK);
            } else if (di != cli_of(t)) {
                ev(c, BF_EV_STREAM_3WHS_SYN_TOCLIENT_ON_SYN_RECV);
            }
            return;
        }
        if (fl & BF_TH_ACK) {
            /* simultaneous open: the other side's SYN-ACK completes it */
            if ((t->flags & SF_4WHS) && A->isn_known && p->tcp_seq == A->isn &&
                p->tcp_ack == SA->isn + 1) {
                A->last_ack = p->tcp_ack;
                A->ack_known = true;
                A->window = p->tcp_win;
                establish(c);
                return;
            }
            ev(c, BF_EV_STREAM_3WHS_SYNACK_TOSERVER_ON_SYN_RECV);
            c->s->st.pkt_invalid++;
            return;
        }
        if (!A->isn_known || p->tcp_seq != A->isn)
            ev(c, BF_EV_STREAM_3WHS_SYN_RESEND_DIFF_SEQ_ON_SYN_RECV);
        return;
    }
    if (!(fl & BF_TH_ACK)) {
        c->s->st.pkt_invalid++;
        return;
    }
    uint32_t a = p->tcp_ack, seq = p->tcp_seq;
    if (di == sa) {
        /* the final ACK was not seen: take the SYN-ACK side's next
         * packet if it fits exactly */
        if (seq == SA->next_seq && a == A->next_seq) {
            establish(c);
            track(c, di);
            return;
        }
        ev(c, BF_EV_STREAM_3WHS_ACK_IN_WRONG_DIR);
        c->s->st.pkt_invalid++;
        return;
    }
    bool ack_ok = SEQ_GT(a, SA->isn) && SEQ_LEQ(a, SA->next_seq);
    uint32_t win = BF_MIN(BF_MAX(SA->window, 1u), MAX_AHEAD);
    bool seq_ok = SEQ_GEQ(seq, A->next_seq) && SEQ_LEQ(seq, A->next_seq + win);
    if (!ack_ok) {
        ev(c, fourw ? BF_EV_STREAM_4WHS_INVALID_ACK
               : seq_ok ? BF_EV_STREAM_3WHS_RIGHT_SEQ_WRONG_ACK_EVASION
                        : BF_EV_STREAM_3WHS_WRONG_SEQ_WRONG_ACK);
        c->s->st.pkt_invalid++;
        return;
    }
    if (!seq_ok) {
        ev(c, fourw ? BF_EV_STREAM_4WHS_WRONG_SEQ : BF_EV_STREAM_3WHS_WRONG_SEQ_WRONG_ACK);
        c->s->st.pkt_invalid++;
        return;
    }
    establish(c);
    track(c, di);
}

/* A session seen without its handshake: the midstream exception policy
 * (recorded on the flow once). False: the session is not tracked. */
static bool midstream_policy(ctx *c)
{
    bf_stream *s = c->s;
    bf_flow *f = c->f;
    bool first = !f->ep_midstream;
    if (first) {
        f->ep_midstream = s->cfg.midstream_policy ? s->cfg.midstream_policy : BF_EP_IGNORE;
        switch (f->ep_midstream) {
        case BF_EP_PASS_FLOW:
            f->flags |= BF_FLOW_F_PASS;
            break;
        case BF_EP_DROP_FLOW: /* IPS only (bf_exc_policy_parse) */
            f->flags |= BF_FLOW_F_DROP;
            break;
        case BF_EP_BYPASS:
            f->flags |= BF_FLOW_F_PASS | BF_FLOW_F_BYPASSED;
            break;
        default:
            break;
        }
    }
    /* as Suricata counts them: a flow-wide policy once, a per-packet one
     * (pass-flow here leaves the packets untracked) each time it acts */
    uint8_t ep = f->ep_midstream;
    if (ep > BF_EP_IGNORE && ep < 8 &&
        (first || ep == BF_EP_PASS_FLOW || ep == BF_EP_PASS_PACKET || ep == BF_EP_DROP_PACKET))
        s->st.ep_midstream[ep]++;
    switch (f->ep_midstream) {
    case BF_EP_DROP_FLOW:
    case BF_EP_REJECT:
    case BF_EP_BYPASS:
        return false;
    default:
        return s->cfg.midstream;
    }
}

/* First packet of a flow without a session. */
static void start(ctx *c, int di)
{
    bf_stream *s = c->s;
    bf_packet *p = c->p;
    uint8_t fl = p->tcp_flags;
    if ((fl & (BF_TH_SYN | BF_TH_ACK)) == BF_TH_SYN) {
        bf_tcp_session *t = c->t = session_new(s, c->f);
        if (!t)
            return;
        t->flags = (uint8_t)((di ? SF_CLI1 : 0) | (di ? 0 : SF_SA1));
        take_syn(&t->d[di], p);
        if (p->flags & BF_PKT_TCP_OPT_WSCALE)
            t->flags |= SF_SYN_WS;
        t->state = BF_TCP_SYN_SENT;
        if (p->payload_len) { /* TCP Fast Open: held until the SYN-ACK */
            t->flags |= SF_TFO;
            ooo_insert(c, di, p->tcp_seq + 1, p->payload, p->payload_len);
        }
        return;
    }
    if (fl & BF_TH_RST) {
        ev(c, BF_EV_STREAM_RST_BUT_NO_SESSION);
        s->st.no_session++;
        return;
    }
    if ((fl & (BF_TH_SYN | BF_TH_ACK)) == (BF_TH_SYN | BF_TH_ACK)) {
        /* as Suricata: a SYN-ACK starts a session midstream, or when only
         * one side of the conversation is expected (async-oneside) */
        if (!(s->cfg.async_oneside && !s->cfg.midstream) && !midstream_policy(c)) {
            s->st.no_session++;
            return;
        }
        bf_tcp_session *t = c->t = session_new(s, c->f);
        if (!t)
            return;
        int sv = di, cl = di ^ 1;
        bf_tcp_dir *C = &t->d[cl], *S = &t->d[sv];
        t->flags = (uint8_t)((cl ? SF_CLI1 : 0) | (sv ? SF_SA1 : 0));
        take_syn(S, p);
        C->isn = p->tcp_ack - 1;
        C->next_seq = p->tcp_ack;
        C->isn_known = C->next_known = true;
        S->last_ack = p->tcp_ack;
        S->ack_known = true;
        if (p->flags & BF_PKT_TCP_OPT_WSCALE) {
            C->wscale = WSCALE_MAX; /* the SYN's is unknown */
        } else {
            C->wscale = S->wscale = 0;
        }
        mark_midstream(c);
        t->state = BF_TCP_SYN_RECV;
        if (p->payload_len)
            reassemble(c, sv, p->tcp_seq + 1, p->payload, p->payload_len);
        return;
    }
    if (fl & BF_TH_FIN) {
        ev(c, BF_EV_STREAM_FIN_BUT_NO_SESSION);
        s->st.no_session++;
        return;
    }
    if (!(fl & BF_TH_ACK) || !midstream_policy(c)) {
        s->st.no_session++;
        return;
    }
    bf_tcp_session *t = c->t = session_new(s, c->f);
    if (!t)
        return;
    t->flags = SF_SA1; /* assume endpoint 0 is the client */
    bf_tcp_dir *me = &t->d[di], *peer = &t->d[di ^ 1];
    me->next_seq = p->tcp_seq;
    me->isn = p->tcp_seq - 1;
    me->next_known = true;
    peer->next_seq = p->tcp_ack;
    peer->isn = p->tcp_ack - 1;
    peer->next_known = true;
    me->wscale = peer->wscale = WSCALE_MAX; /* unknown: assume the largest */
    mark_midstream(c);
    t->state = BF_TCP_SYN_RECV; /* so set_state reports the change */
    set_state(c, BF_TCP_ESTABLISHED);
    track(c, di);
}

void bf_stream_packet(bf_stream *s, bf_flow *f, bf_packet *p)
{
    if (!s || !f || !p || (p->flags & BF_PKT_PSEUDO))
        return;
    if (s->cfg.checksum_validation && (p->flags & BF_PKT_L4_CSUM_BAD)) {
        s->st.invalid_checksum++;
        return;
    }
    uint8_t fl = p->tcp_flags;
    if (fl & BF_TH_SYN) {
        if (fl & BF_TH_ACK)
            s->st.synack++;
        else
            s->st.syn++;
    }
    if (fl & BF_TH_RST)
        s->st.rst++;
    /* a payload pointer must come with its length (and the reverse) */
    if (!p->payload)
        p->payload_len = 0;
    int di = p->dir & 1;
    ctx c = {s, f, p, f->tcp};
    if ((fl & (BF_TH_SYN | BF_TH_FIN)) == (BF_TH_SYN | BF_TH_FIN)) {
        ev(&c, BF_EV_STREAM_FIN_SYN);
        s->st.pkt_invalid++;
        return;
    }
    if ((fl & (BF_TH_SYN | BF_TH_RST)) == (BF_TH_SYN | BF_TH_RST)) {
        s->st.pkt_invalid++;
        return;
    }
    if (!c.t) {
        start(&c, di);
        return;
    }
    switch (c.t->state) {
    case BF_TCP_SYN_SENT:
        syn_sent(&c, di);
        break;
    case BF_TCP_SYN_RECV:
        syn_recv(&c, di);
        break;
    case BF_TCP_CLOSED:
    case BF_TCP_NONE:
        break;
    default:
        track(&c, di);
        break;
    }
}

void bf_stream_flow_end(bf_stream *s, bf_flow *f)
{
    bf_tcp_session *t = f ? f->tcp : NULL;
    if (!s || !t)
        return;
    ctx c = {s, f, NULL, t};
    for (int di = 0; di < 2; di++) {
        bf_tcp_dir *d = &t->d[di];
        if (d->ooo && d->next_known && !d->depth_reached)
            gap_to(&c, di, d->ooo_tail->seq + d->ooo_tail->len);
        ooo_free_all(s, d);
    }
    free(t);
    mem_give(s, sizeof(bf_tcp_session));
    f->tcp = NULL;
}

bool bf_stream_session_check(const bf_tcp_session *t)
{
    for (int di = 0; di < 2; di++) {
        const bf_tcp_dir *d = &t->d[di];
        uint32_t n = 0, bytes = 0, regions = 0;
        const struct bf_tcp_seg *prev = NULL;
        for (const struct bf_tcp_seg *g = d->ooo; g; prev = g, g = g->next) {
            if (g->prev != prev || !g->len || ++n > d->ooo_cnt)
                return false;
            bytes += g->len;
            /* held bytes start after next_seq, except SYN data waiting
             * for its SYN-ACK, which starts at next_seq */
            if (!SEQ_GEQ(g->seq, d->next_seq) || g->seq - d->next_seq >= 2 * MAX_AHEAD)
                return false;
            if (g->seq == d->next_seq && !(t->flags & SF_TFO))
                return false;
            if (prev && !SEQ_GEQ(g->seq, prev->seq + prev->len))
                return false;
            if (!prev || prev->seq + prev->len != g->seq)
                regions++;
        }
        if (prev != d->ooo_tail || n != d->ooo_cnt || bytes != d->ooo_bytes ||
            regions != d->regions)
            return false;
    }
    return true;
}
