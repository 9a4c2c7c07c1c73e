/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/inspect.c: inspection of packets (IP-only and packet rules), stream chunks and
 * app-layer transactions: prefilter, candidates in rule order, verification;
 * the per-worker bf_detect_thread and its bus subscriptions.
 */
#include <stdatomic.h>
#include <time.h>

#include "common/log.h"
#include "detect/engine_int.h"
#include "stream/stream.h"

/* ========================================================= matching */

static void cand_hit(void *ud, uint32_t id)
{
    bf_detect_thread *t = ud;
    if (t->seen[id] == t->gen)
        return;
    t->seen[id] = t->gen;
    if (t->ncand == t->capcand) {
        t->capcand = t->capcand ? t->capcand * 2 : 256;
        t->cand = bf_realloc(t->cand, t->capcand * sizeof *t->cand);
    }
    t->cand[t->ncand++] = id;
}

static void cand_begin(bf_detect_thread *t)
{
    t->ncand = 0;
    if (++t->gen == 0) {
        memset(t->seen, 0, t->d->nsigs * sizeof *t->seen);
        t->gen = 1;
    }
}

static void cand_list(bf_detect_thread *t, const uint32_t *l, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        cand_hit(t, l[i]);
}

/* In-place sort of small unsigned arrays, no allocation (glibc's qsort
 * mallocs a merge buffer): insertion sort below 24, else heap sort. */
static void sift(uint32_t *a, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && a[l] > a[m])
            m = l;
        if (l + 1 < n && a[l + 1] > a[m])
            m = l + 1;
        if (m == i)
            return;
        uint32_t x = a[i];
        a[i] = a[m];
        a[m] = x;
        i = m;
    }
}

static void u32_sort(uint32_t *a, size_t n)
{
    if (n < 24) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = a[i];
            size_t j = i;
            for (; j && a[j - 1] > x; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift(a, n, i);
    for (size_t e = n - 1; e > 0; e--) {
        uint32_t x = a[0];
        a[0] = a[e];
        a[e] = x;
        sift(a, e, 0);
    }
}

static void cand_sort(bf_detect_thread *t)
{
    if (t->ncand > 1)
        u32_sort(t->cand, t->ncand);
}

/* The indexed rules without prefilter that this packet can meet. */
static void cand_indexed(bf_detect_thread *t, const group *g, const bf_packet *p, int dir,
                         const bf_flow *f)
{
    if (!g->nindexed)
        return;
    const bf_addr *src, *dst;
    uint16_t sp, dp;
    int ipver;
    if (p && p->ipver) {
        src = &p->src; dst = &p->dst; sp = p->sp; dp = p->dp; ipver = p->ipver;
    } else if (f) {
        src = &f->addr[dir]; dst = &f->addr[!dir]; sp = f->port[dir]; dp = f->port[!dir];
        ipver = f->ipver;
    } else {
        return;
    }
    const ipidx *xs[2] = {ipver == 4 ? &g->nm_src : &g->nm_src6,
                          ipver == 4 ? &g->nm_dst : &g->nm_dst6};
    const bf_addr *as[2] = {src, dst};
    for (int k = 0; k < 2; k++) {
        const ipidx *x = xs[k];
        if (!x->nb)
            continue;
        uint64_t key = ipver == 4 ? bf_be32(as[k]->b)
                                  : (uint64_t)bf_be32(as[k]->b) << 32 | bf_be32(as[k]->b + 4);
        size_t seg = det_seg_find(x->b, x->nb, key);
        if (seg < x->nb)
            cand_list(t, x->sigs + x->off[seg], x->off[seg + 1] - x->off[seg]);
    }
    uint16_t ports[2] = {dp, sp};
    for (int k = 0; k < 2; k++)
        if (g->nm_port_off[k]) {
            const uint32_t *off = g->nm_port_off[k];
            cand_list(t, g->nm_port_sigs[k] + off[ports[k]], off[ports[k] + 1] - off[ports[k]]);
        }
}

static void scan(bf_detect_thread *t, const bf_mpm *m, const uint8_t *data, uint32_t len)
{
    if (!m || !len)
        return;
    t->st.mpm_scans++;
    bf_mpm_scan(m, t->mps, data, len, cand_hit, t);
}

/* One buffer's matches on one instance (transforms applied). */
static bool buf_match(bf_detect_thread *t, const bf_sig *s, const bf_sig_buf *sb,
                      const uint8_t *data, uint32_t len)
{
    uint32_t tl = len;
    const uint8_t *td = sb->nxf ? bf_match_transform(t->ms, sb, data, len, &tl) : data;
    if (!td)
        return false;
    return bf_match_buffer(t->ms, s, sb, td, tl);
}

/* Packet / stream rule: everything but the prefilter. */
static bool eval_pkt_sig(bf_detect_thread *t, const bf_sig *s, const sinfo *si, bf_packet *p,
                         bf_flow *f, int dir, const uint8_t *data, uint32_t len)
{
    if (si->app != BF_APP_UNKNOWN && (!f || f->app_proto != si->app))
        return false;
    hdr h;
    det_hdr_from(&h, p, f, dir);
    if (!det_hdr_match(s, &h) || !det_flow_kw_match(s, f, dir, p))
        return false;
    if (s->npkw && (!p || !bf_match_packet_kw(s, p)))
        return false;
    if (s->nfb && !det_fb_conditions(s, f))
        return false;
    if (s->nfi && !det_fi_conditions(s, f))
        return false;
    bf_match_begin_sig(t->ms);
    for (unsigned i = 0; i < s->nbufs; i++) {
        const bf_sig_buf *sb = &s->bufs[i];
        if (!len || !buf_match(t, s, sb, data, len))
            return false;
    }
    return true;
}

static inline uint64_t prof_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Per-rule profiling (detect.profiling): checks, matches and time. */
static bool prof_pkt(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f, int dir,
                     const uint8_t *data, uint32_t len)
{
    if (!t->prof)
        return eval_pkt_sig(t, s, &t->d->si[s->idx], p, f, dir, data, len);
    uint64_t t0 = prof_now();
    bool m = eval_pkt_sig(t, s, &t->d->si[s->idx], p, f, dir, data, len);
    det_prof *pr = &t->prof[s->idx];
    pr->ns += prof_now() - t0;
    pr->checks++;
    pr->matches += m;
    return m;
}

/* A pass rule matched the packet before rule idx: idx need not be looked at. */
static inline bool pass_ends(const bf_detect_thread *t, uint32_t idx)
{
    return t->pass1 && idx >= t->pass1;
}

/* sigs that matched on stream data for the packet t->sm_pkt */
static bool sm_has(const bf_detect_thread *t, uint32_t idx)
{
    for (uint32_t i = 0; i < t->nsm; i++)
        if (t->sm[i] == idx)
            return true;
    return false;
}

static void sm_add(bf_detect_thread *t, uint32_t idx)
{
    if (t->nsm == t->capsm) {
        t->capsm = t->capsm ? t->capsm * 2 : 16;
        t->sm = bf_realloc(t->sm, t->capsm * sizeof *t->sm);
    }
    t->sm[t->nsm++] = idx;
}

static void sm_begin(bf_detect_thread *t, const bf_packet *p)
{
    if (t->sm_pkt != p || !p) {
        t->sm_pkt = p;
        t->nsm = 0;
    }
}

static void run_iponly(bf_detect_thread *t, bf_packet *p, bf_flow *f, int dir)
{
    bf_detect *d = t->d;
    cand_begin(t);
    cand_list(t, d->iponly.nonmpm, d->iponly.nnonmpm);
    cand_indexed(t, &d->iponly, p, dir, f);
    cand_sort(t);
    for (uint32_t i = 0; i < t->ncand && !pass_ends(t, t->cand[i]); i++) {
        const bf_sig *s = d->sigs[t->cand[i]];
        if (!(d->si[s->idx].classes & (1u << det_class_of_proto(p->proto, p->ipver))))
            continue;
        if (prof_pkt(t, s, p, f, dir, NULL, 0)) {
            t->st.candidates++;
            det_on_match(t, s, p, f, dir, NULL);
        }
    }
}

/* Runs a group over a buffer.  Over stream data (buf BF_DBUF_STREAM) a rule
 * alerts at most once per packet (t->sm), and not when it already matches
 * the first `tail` bytes (data inspected before); over the packet payload,
 * rules that matched the packet's stream data are skipped. */
static void run_group_ex(bf_detect_thread *t, const group *g, uint16_t buf, bf_packet *p,
                         bf_flow *f, int dir, const uint8_t *data, uint32_t len, uint32_t tail)
{
    bf_detect *d = t->d;
    bool stream = buf == BF_DBUF_STREAM;
    bool skip = t->nsm && t->sm_pkt == p && p;
    cand_begin(t);
    scan(t, g->mpm[buf], data, len);
    cand_list(t, g->nonmpm, g->nnonmpm);
    cand_indexed(t, g, p, dir, f);
    cand_sort(t);
    t->st.candidates += t->ncand;
    for (uint32_t i = 0; i < t->ncand && !pass_ends(t, t->cand[i]); i++) {
        const bf_sig *s = d->sigs[t->cand[i]];
        if ((stream || skip) && sm_has(t, s->idx))
            continue;
        if (!prof_pkt(t, s, p, f, dir, data, len))
            continue;
        if (stream && tail && eval_pkt_sig(t, s, &d->si[s->idx], p, f, dir, data, tail))
            continue;
        if (stream)
            sm_add(t, s->idx);
        t->cur_stream = stream;
        det_on_match(t, s, p, f, dir, NULL);
        t->cur_stream = false;
    }
}

static void run_group(bf_detect_thread *t, const group *g, uint16_t buf, bf_packet *p, bf_flow *f,
                      int dir, const uint8_t *data, uint32_t len)
{
    run_group_ex(t, g, buf, p, f, dir, data, len, 0);
}

static void stream_on_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f, int dir);

static void on_packet(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    bf_packet *p = m->pkt;
    bf_flow *f = m->flow;
    bf_detect *d = t->d;
    if (t->nq && t->qpkt != p)
        det_flush(t);
    if (!p || !p->ipver || (p->flags & BF_PKT_PSEUDO) ||
        ((p->flags & BF_PKT_FRAGMENT) && !(p->flags & BF_PKT_REASSEMBLED)))
        goto out;
    if (p->flags & BF_PKT_INVALID) {
        /* a valid IP header before the broken part: IP-only rules still
         * see it (as Suricata) */
        if (d->any_iponly && !f) {
            t->qpkt = p;
            t->qflow = NULL;
            run_iponly(t, p, NULL, 0);
        }
        goto out;
    }
    if (f && (f->flags & BF_FLOW_F_DROP) && d->ips) {
        if (!t->nq)
            det_drop_flow_packet(t, p, f);
        goto out;
    }
    if ((f && (f->flags & BF_FLOW_F_PASS)) || (p->flags & BF_PKT_DROP))
        goto out;
    int dir = f ? p->dir : 0;
    t->qpkt = p;
    t->qflow = f;
    if (d->any_iponly) {
        uint32_t bit = dir ? BF_FLOW_F_IPONLY_TC : BF_FLOW_F_IPONLY_TS;
        if (!f || !(f->flags & bit)) {
            if (f)
                f->flags |= bit;
            run_iponly(t, p, f, dir);
        }
    }
    if (f && p->proto == 6 && d->any_stream && !d->ips)
        stream_on_packet(t, p, f, dir);
    const group *g = &d->pkt[det_class_of_proto(p->proto, p->ipver)][dir];
    if (g->nnonmpm || g->nindexed || (g->mpm[BF_DBUF_PKT] && p->payload_len))
        run_group(t, g, BF_DBUF_PKT, p, f, dir, p->payload, p->payload_len);
out:
    if (t->nq)
        det_flush(t);
    t->qpkt = NULL;
    t->qflow = NULL;
    t->pass1 = 0;
    t->sm_pkt = NULL; /* packet structs are reused */
    t->nsm = 0;
}

/* ---------------------------------------------------- stream buffers */

#define SBUF_CAP (16u * 1024)   /* stream bytes kept per direction */
#define SBUF_TAIL 256u          /* earlier bytes payload rules see again (patterns across segments) */

static void sbuf_drop_front(sbuf *b, uint32_t n)
{
    if (n > b->len)
        n = b->len;
    memmove(b->b, b->b + n, b->len - n);
    b->len -= n;
    b->run = b->run > n ? b->run - n : 0;
    b->pend = b->pend > n ? b->pend - n : 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < b->nmarks; i++) {
        if (b->marks[i].z <= n)
            continue;
        b->marks[k].a = b->marks[i].a > n ? b->marks[i].a - n : 0;
        b->marks[k].z = b->marks[i].z - n;
        k++;
    }
    b->nmarks = k;
}

/* Stream bytes kept for rules, all flows and workers together: bounded by
 * detect.stream-memcap (default 64 MiB); a buffer that cannot grow keeps
 * the last bytes that fit, one that has no room at all keeps nothing
 * (counted: bf_detect_stream_memcap_drops). */
static atomic_ullong g_sb_mem, g_sb_drops;
static uint64_t g_sb_cap = 64ull << 20;

void det_sbuf_setcap(uint64_t cap) { g_sb_cap = cap; }
void det_sbuf_release(uint64_t bytes) { atomic_fetch_sub(&g_sb_mem, bytes); }
uint64_t bf_detect_stream_memcap_drops(void) { return atomic_load(&g_sb_drops); }

/* Appends (keeps the last SBUF_CAP bytes). */
static void sbuf_put(sbuf *b, const uint8_t *data, uint32_t len)
{
    if (len >= SBUF_CAP) {
        data += len - SBUF_CAP;
        len = SBUF_CAP;
    }
    if (b->len + len > SBUF_CAP)
        sbuf_drop_front(b, b->len + len - SBUF_CAP);
    if (b->len + len > b->cap) {
        uint32_t nc = b->cap ? b->cap : 1024;
        while (nc < b->len + len)
            nc *= 2;
        if (nc > SBUF_CAP)
            nc = SBUF_CAP;
        uint64_t grow = nc - b->cap;
        if (atomic_fetch_add(&g_sb_mem, grow) + grow > g_sb_cap) {
            atomic_fetch_sub(&g_sb_mem, grow);
            atomic_fetch_add(&g_sb_drops, 1);
            if (!b->cap)
                return;
            if (len > b->cap) {
                data += len - b->cap;
                len = b->cap;
            }
            if (b->len + len > b->cap)
                sbuf_drop_front(b, b->len + len - b->cap);
        } else {
            b->cap = nc;
            b->b = bf_realloc(b->b, b->cap);
        }
    }
    memcpy(b->b + b->len, data, len);
    b->len += len;
}

static void sbuf_gap(sbuf *b, uint32_t gap)
{
    char m[48];
    int n = snprintf(m, sizeof m, "[%u bytes missing]", gap);
    if (b->nmarks == SBUF_MARKS) {
        /* forget the oldest gap and what precedes it */
        sbuf_drop_front(b, b->marks[0].z);
        if (b->nmarks == SBUF_MARKS)
            b->nmarks--;
    }
    sbuf_put(b, (const uint8_t *)m, (uint32_t)n);
    if (b->len >= (uint32_t)n) {
        b->marks[b->nmarks].a = b->len - (uint32_t)n;
        b->marks[b->nmarks].z = b->len;
        b->nmarks++;
    }
    b->run = b->len;
}

/* tcp-stream rules over the stream data they have not seen, one run between
 * gaps at a time; the alerts log the kept stream data. */
static void stream_inspect_pending(bf_detect_thread *t, bf_flow *f, sbuf *b, int dir,
                                   bf_packet *p, const char *src)
{
    const group *g = &t->d->stream[dir];
    if (b->pend >= b->len || (!g->nnonmpm && !g->nindexed && !g->mpm[BF_DBUF_STREAM])) {
        b->pend = b->len;
        return;
    }
    t->sm_pkt = NULL;
    t->nsm = 0;
    t->cur_spay = b->b;
    t->cur_spay_len = b->len;
    t->cur_src = src;
    uint32_t x = b->pend;
    while (x < b->len) {
        uint32_t y = b->len, nx = b->len;
        for (uint32_t i = 0; i < b->nmarks; i++)
            if (b->marks[i].z > x && b->marks[i].a < y) {
                y = b->marks[i].a > x ? b->marks[i].a : x;
                nx = b->marks[i].z;
            }
        if (y > x)
            run_group_ex(t, g, BF_DBUF_STREAM, p, f, dir, b->b + x, y - x, 0);
        x = nx;
    }
    b->pend = b->len;
    t->nsm = 0;
    if (!p)
        det_flush(t);
    t->cur_spay = NULL;
    t->cur_spay_len = 0;
    t->cur_src = NULL;
}

static void on_stream(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    const bf_stream_chunk *c = m->data;
    bf_flow *f = m->flow;
    bf_detect *d = t->d;
    if (!(d->any_stream || d->any_pktstream) || !f || (!c->len && !c->gap) ||
        (f->flags & (BF_FLOW_F_PASS | BF_FLOW_F_DROP)))
        return;
    int dir = c->dir ? 1 : 0;
    /* a packet of the other direction (an ACK declaring a gap) does not
     * carry this data */
    bf_packet *p = m->pkt && !(m->pkt->flags & BF_PKT_PSEUDO) && m->pkt->dir == dir ? m->pkt : NULL;
    dstate *ds = det_dstate_get(t, f, true);
    sbuf *b = &ds->sb[dir];
    uint32_t before = b->len;
    if (d->any_stream && !d->ips && b->len - b->pend + c->len + 48 > SBUF_CAP)
        stream_inspect_pending(t, f, b, dir, p, p ? NULL : "stream (flow timeout)");
    if (c->gap)
        sbuf_gap(b, c->gap);
    if (c->len)
        sbuf_put(b, c->data, c->len);
    (void)before;
    /* payload rules see the stream where a packet brings its own data (held
     * segments, TFO data released later, data flushed at flow end were
     * inspected in their packets) */
    bool own = p && c->len && c->data >= p->payload &&
               c->data + c->len <= p->payload + p->payload_len;
    if (own && d->any_pktstream) {
        const group *g = &d->pktstream[dir];
        if (g->nnonmpm || g->nindexed || g->mpm[BF_DBUF_STREAM]) {
            const uint8_t *w = c->data;
            uint32_t wl = c->len, tail = 0;
            if (c->len <= b->len && c->len < SBUF_CAP) {
                uint32_t cs = b->len - c->len;
                uint32_t ws = cs > b->run + SBUF_TAIL ? cs - SBUF_TAIL : b->run;
                if (ws > cs)
                    ws = cs;
                w = b->b + ws;
                wl = b->len - ws;
                tail = cs - ws;
            }
            sm_begin(t, p);
            t->cur_spay = b->b;
            t->cur_spay_len = b->len;
            t->cur_src = p ? NULL : "stream (flow timeout)";
            run_group_ex(t, g, BF_DBUF_STREAM, p, f, dir, w, wl, tail);
            t->cur_spay = NULL;
            t->cur_spay_len = 0;
            t->cur_src = NULL;
            if (!p)
                det_flush(t);
        }
    }
    /* tcp-stream rules: inline (IPS) at once; else once the data is
     * acknowledged (on_packet) or at flow end */
    if (d->any_stream && d->ips)
        stream_inspect_pending(t, f, b, dir, p, p ? NULL : "stream (flow timeout)");
}

/* IDS: tcp-stream rules see a direction's data on its next packet once the
 * peer acknowledged all of it. */
static void stream_on_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f, int dir)
{
    dstate *ds = f->detect_state;
    if (!ds || ds->d != t->d || !f->tcp)
        return;
    sbuf *b = &ds->sb[dir];
    if (b->pend >= b->len)
        return;
    const bf_tcp_session *ts = f->tcp;
    if (!ts->d[!dir].ack_known || !ts->d[dir].next_known ||
        (int32_t)(ts->d[!dir].last_ack - ts->d[dir].next_seq) < 0)
        return;
    stream_inspect_pending(t, f, b, dir, p, NULL);
}

/* Is buffer b final-or-present in view v (inspected in direction dir)? */
static bool buf_ready(const bf_tx_view *v, uint16_t b)
{
    if (v->bufs[b].n)
        return true;
    uint8_t dirs = bf_det_buf[b].dirs;
    if (dirs == BF_DIR_TS)
        return v->done[0];
    if (dirs == BF_DIR_TC)
        return v->done[1];
    return v->done[v->dir];
}

/* 1 match, 0 no match (final), -1 not yet decidable */
static int eval_tx_sig(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f,
                       const bf_tx_view *v)
{
    int dir = v->dir;
    for (unsigned i = 0; i < s->nbufs; i++) {
        uint16_t b = s->bufs[i].buf;
        if (b != BF_DBUF_PKT && b != BF_DBUF_STREAM && !buf_ready(v, b))
            return -1;
    }
    hdr h;
    det_hdr_from(&h, p, f, dir);
    if (!det_hdr_match(s, &h) || !det_flow_kw_match(s, f, dir, p))
        return 0;
    if (s->npkw && (!p || !bf_match_packet_kw(s, p)))
        return 0;
    if (s->nfb && !det_fb_conditions(s, f))
        return 0;
    if (s->nfi && !det_fi_conditions(s, f))
        return 0;
    bf_match_begin_sig(t->ms);
    bool growing = false;
    for (unsigned i = 0; i < s->nbufs; i++) {
        const bf_sig_buf *sb = &s->bufs[i];
        uint16_t b = sb->buf;
        if (b == BF_DBUF_PKT || b == BF_DBUF_STREAM) {
            if (!p || !p->payload_len || !buf_match(t, s, sb, p->payload, p->payload_len))
                return 0;
            continue;
        }
        const bf_dbuf_set *set = &v->bufs[b];
        if (sb->nsm == 1 && sb->sm[0].type == BF_SM_ABSENT) {
            if (set->n)
                return 0;
            continue;
        }
        bool ok = false;
        for (uint16_t k = 0; k < set->n && !ok; k++)
            ok = buf_match(t, s, sb, set->v[k].p, set->v[k].len);
        if (!ok) {
            bool body = b == BF_DBUF_FILE_DATA || b == BF_DBUF_HTTP_REQUEST_BODY ||
                        b == BF_DBUF_HTTP_RESPONSE_BODY;
            if (body && !v->body_final[bf_det_buf[b].dirs == BF_DIR_TC ? 1 :
                                       bf_det_buf[b].dirs == BF_DIR_TS ? 0 : dir])
                growing = true;
            else if (!set->n && !v->done[dir])
                growing = true;
            if (!growing)
                return 0;
            return -1;
        }
    }
    return 1;
}

static void on_tx(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    const bf_tx_view *v = m->data;
    bf_flow *f = m->flow;
    bf_packet *p = m->pkt;
    bf_detect *d = t->d;
    if (!d->any_tx || !f || v->app_proto >= BF_APP_MAX || v->dir > 1 ||
        (f->flags & (BF_FLOW_F_PASS)))
        return;
    if (p && (p->flags & BF_PKT_PSEUDO))
        p = NULL;
    if ((f->flags & BF_FLOW_F_DROP) && d->ips)
        return;
    const group *g = &d->app[v->app_proto][v->dir];
    bool any = g->nnonmpm != 0;
    for (unsigned b = 0; b < BF_DBUF_MAX && !any; b++)
        any = g->mpm[b] && v->bufs[b].n;
    bool last = v->done[0] && v->done[1];
    dstate *ds = det_dstate_get(t, f, any);
    txrec *r = NULL;
    if (any) {
        r = det_tx_get(t, ds, v->app_proto, v->tx_id);
        cand_begin(t);
        for (unsigned b = 0; b < BF_DBUF_MAX; b++) {
            if (!g->mpm[b])
                continue;
            const bf_dbuf_set *set = &v->bufs[b];
            for (uint16_t k = 0; k < set->n; k++)
                scan(t, g->mpm[b], set->v[k].p, set->v[k].len);
        }
        cand_list(t, g->nonmpm, g->nnonmpm);
        cand_sort(t);
        t->st.candidates += t->ncand;
        for (uint32_t i = 0; i < t->ncand && !pass_ends(t, t->cand[i]); i++) {
            uint32_t idx = t->cand[i];
            if (det_tx_done_has(r, idx))
                continue;
            const bf_sig *s = d->sigs[idx];
            uint64_t t0 = t->prof ? prof_now() : 0;
            int rc = eval_tx_sig(t, s, p, f, v);
            if (t->prof) {
                t->prof[idx].ns += prof_now() - t0;
                t->prof[idx].checks++;
                t->prof[idx].matches += rc == 1;
            }
            if (rc == 1) {
                det_tx_done_add(r, idx);
                det_on_match(t, s, p, f, v->dir, v);
            } else if (rc == 0 && last) {
                det_tx_done_add(r, idx);
            }
        }
    }
    if (last && ds) {
        if (!r) {
            for (uint32_t i = 0; i < ds->ntx; i++)
                if (ds->tx[i].tx_id == v->tx_id && ds->tx[i].app == v->app_proto)
                    r = &ds->tx[i];
        }
        if (r)
            det_tx_drop(ds, r);
    }
    if (!p && t->nq)
        det_flush(t);
}

static void on_flow_end(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    bf_flow *f = m->flow;
    if (t->nq)
        det_flush(t);
    dstate *ds = f ? f->detect_state : NULL;
    if (ds && ds->d == t->d && t->d->any_stream && !(f->flags & (BF_FLOW_F_PASS | BF_FLOW_F_DROP)))
        for (int dir = 0; dir < 2; dir++)
            stream_inspect_pending(t, f, &ds->sb[dir], dir, NULL, "stream (flow timeout)");
    if (f && f->detect_state) {
        det_dstate_free(f->detect_state);
        t->st.memuse -= sizeof(dstate);
        f->detect_state = NULL;
    }
}

/* ============================================================ thread */

static void thread_attach(bf_detect_thread *t, bf_detect *d)
{
    t->d = d;
    free(t->seen);
    t->seen = bf_calloc(d->nsigs ? d->nsigs : 1, sizeof *t->seen);
    t->gen = 0;
    group *all[] = {&d->pkt[0][0], &d->stream[0], &d->app[0][0], &d->pktstream[0]};
    size_t counts[] = {NCLASS * 2, 2, BF_APP_MAX * 2, 2};
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < counts[a]; i++)
            for (unsigned b = 0; b < BF_DBUF_MAX; b++)
                if (all[a][i].mpm[b] && !bf_mpm_scratch_fit(t->mps, all[a][i].mpm[b]))
                    bf_err("detect: cannot allocate prefilter scratch");
}

bf_detect_thread *bf_detect_thread_new(bf_detect *d, bf_eve *eve, bf_bus *bus, FILE *fast_log)
{
    bf_detect_thread *t = bf_calloc(1, sizeof *t);
    bf_detect_ref(d);
    t->eve = eve;
    t->bus = bus;
    t->fast = fast_log;
    t->ms = bf_match_scratch_new();
    t->mps = bf_mpm_scratch_new();
    thread_attach(t, d);
    if (d->prof)
        t->prof = bf_calloc(d->nsigs ? d->nsigs : 1, sizeof *t->prof);
    bf_bus_subscribe(bus, BF_BUS_PACKET, on_packet, t);
    bf_bus_subscribe(bus, BF_BUS_TX, on_tx, t);
    bf_bus_subscribe(bus, BF_BUS_STREAM, on_stream, t);
    bf_bus_subscribe(bus, BF_BUS_FLOW_END, on_flow_end, t);
    return t;
}

void bf_detect_thread_swap(bf_detect_thread *t, bf_detect *d)
{
    if (d == t->d)
        return;
    det_flush(t);
    bf_detect_ref(d);
    bf_detect *old = t->d;
    thread_attach(t, d);
    bf_detect_unref(old);
}

void bf_detect_thread_free(bf_detect_thread *t)
{
    if (!t)
        return;
    det_flush(t);
    if (t->prof) {
        pthread_mutex_lock(&t->d->prof_lock);
        for (uint32_t i = 0; i < t->d->nsigs; i++) {
            t->d->prof[i].checks += t->prof[i].checks;
            t->d->prof[i].matches += t->prof[i].matches;
            t->d->prof[i].ns += t->prof[i].ns;
        }
        pthread_mutex_unlock(&t->d->prof_lock);
        free(t->prof);
    }
    bf_match_scratch_free(t->ms);
    bf_mpm_scratch_free(t->mps);
    free(t->cand);
    free(t->seen);
    free(t->q);
    free(t->qbuf);
    free(t->vbuf);
    free(t->sm);
    bf_detect_unref(t->d);
    free(t);
}

const bf_detect_stats *bf_detect_thread_stats(const bf_detect_thread *t) { return &t->st; }
