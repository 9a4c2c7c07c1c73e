/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for stream/: packets and flows are built by hand; the two flow
 * functions stream/ calls are replaced by recording test doubles (weak, so
 * the real ones win if flow.c ever gets linked in: the doubles' records
 * would then stay empty and the tests fail loudly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "stream/stream.h"

/* ------------------------------------------------------ flow doubles */

static struct {
    int states[32];
    int nstates;
    int64_t mem;
    int64_t mem_max;
} g_flow;

__attribute__((weak)) void bf_flow_set_state(bf_flow_table *t, bf_flow *f, enum bf_flow_state st)
{
    (void)t;
    if (g_flow.nstates < 32)
        g_flow.states[g_flow.nstates++] = (int)st;
    f->state = (uint8_t)st;
}

__attribute__((weak)) void bf_flow_mem_adjust(bf_flow_table *t, int64_t delta)
{
    (void)t;
    g_flow.mem += delta;
    if (g_flow.mem > g_flow.mem_max)
        g_flow.mem_max = g_flow.mem;
}

/* ------------------------------------------------------------ sink */

#define OUT_MAX 8192
typedef struct sink {
    uint8_t buf[2][OUT_MAX]; /* delivered bytes; gaps filled with '#' */
    uint32_t len[2];
    uint32_t gaps[2][16];    /* gap lengths in order */
    uint32_t ngaps[2];
    uint32_t calls;
    const uint8_t *last_ptr; /* to check zero-copy delivery */
} sink;

static void on_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data, uint32_t len,
                    uint32_t gap)
{
    sink *k = ud;
    (void)f;
    (void)p;
    assert_true(dir == 0 || dir == 1);
    assert_true(len || gap);
    k->calls++;
    if (gap) {
        if (k->ngaps[dir] < 16)
            k->gaps[dir][k->ngaps[dir]++] = gap;
        for (uint32_t i = 0; i < gap && k->len[dir] < OUT_MAX; i++)
            k->buf[dir][k->len[dir]++] = '#';
    }
    if (len) {
        assert_non_null(data);
        k->last_ptr = data;
        for (uint32_t i = 0; i < len && k->len[dir] < OUT_MAX; i++)
            k->buf[dir][k->len[dir]++] = data[i];
    }
}

/* ---------------------------------------------------------- fixture */

typedef struct fx {
    bf_stream_cfg cfg;
    bf_stream *s;
    bf_flow f;
    sink k;
    bf_packet p;
    uint32_t cisn, sisn;
} fx;

static fx *fx_new(void (*tweak)(bf_stream_cfg *))
{
    fx *x = calloc(1, sizeof *x);
    memset(&g_flow, 0, sizeof g_flow);
    bf_stream_cfg_default(&x->cfg);
    if (tweak)
        tweak(&x->cfg);
    x->s = bf_stream_new(&x->cfg, (bf_flow_table *)(uintptr_t)0x1, on_data, &x->k);
    x->f.proto = 6;
    x->cisn = 1000;
    x->sisn = 5000;
    return x;
}

static void fx_free(fx *x)
{
    bf_stream_flow_end(x->s, &x->f);
    assert_null(x->f.tcp);
    assert_int_equal(bf_stream_get_stats(x->s)->memuse, 0);
    assert_int_equal(g_flow.mem, 0);
    bf_stream_free(x->s);
    free(x);
}

/* Sends one segment; returns the packet (events readable until the next). */
static bf_packet *seg(fx *x, int dir, uint8_t fl, uint32_t seq, uint32_t ack, const char *data)
{
    bf_packet *p = &x->p;
    memset(p, 0, sizeof *p);
    p->proto = 6;
    p->ipver = 4;
    p->dir = (uint8_t)dir;
    p->flow = &x->f;
    p->tcp_flags = fl;
    p->tcp_seq = seq;
    p->tcp_ack = ack;
    p->tcp_win = 65535;
    if (data) {
        p->payload = (const uint8_t *)data;
        p->payload_len = (uint32_t)strlen(data);
    }
    bf_stream_packet(x->s, &x->f, p);
    if (x->f.tcp)
        assert_true(bf_stream_session_check(x->f.tcp));
    return p;
}

static bool has_event(const bf_packet *p, uint16_t ev)
{
    for (unsigned i = 0; i < p->nevents; i++)
        if (p->events[i] == ev)
            return true;
    return false;
}

#define SYN BF_TH_SYN
#define ACK BF_TH_ACK
#define FIN BF_TH_FIN
#define RST BF_TH_RST
#define PSH BF_TH_PSH

/* client seq / server seq relative to the ISNs (+1 for the SYN) */
#define C(n) (x->cisn + 1 + (uint32_t)(n))
#define S(n) (x->sisn + 1 + (uint32_t)(n))

static void handshake(fx *x)
{
    seg(x, 0, SYN, x->cisn, 0, NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_SENT);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_RECV);
    seg(x, 0, ACK, C(0), S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
}

static void out_is(fx *x, int dir, const char *want)
{
    size_t n = strlen(want);
    assert_int_equal(x->k.len[dir], n);
    assert_memory_equal(x->k.buf[dir], want, n);
}

/* ------------------------------------------------------------ tests */

static void t_3whs_data(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    assert_int_equal(g_flow.nstates, 1);
    assert_int_equal(g_flow.states[0], BF_FLOW_ESTABLISHED);
    bf_packet *p = seg(x, 0, ACK | PSH, C(0), S(0), "GET / HTTP/1.0\r\n\r\n");
    assert_ptr_equal(x->k.last_ptr, p->payload); /* zero-copy */
    p = seg(x, 1, ACK | PSH, S(0), C(18), "HTTP/1.0 200 OK\r\n");
    assert_ptr_equal(x->k.last_ptr, p->payload);
    seg(x, 0, ACK | PSH, C(18), S(17), "more");
    out_is(x, 0, "GET / HTTP/1.0\r\n\r\nmore");
    out_is(x, 1, "HTTP/1.0 200 OK\r\n");
    assert_int_equal(x->f.tcp->d[0].delivered, 22);
    assert_int_equal(x->f.tcp->d[1].delivered, 17);
    assert_false(x->f.tcp->d[0].gap);
    assert_int_equal(bf_stream_get_stats(x->s)->sessions, 1);
    assert_int_equal(g_flow.mem, (int64_t)sizeof(bf_tcp_session));
    fx_free(x);
}

static void t_ooo_retrans(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "AAAAA");
    seg(x, 0, ACK, C(10), S(0), "CCCCC");     /* ahead: held */
    assert_int_equal(x->f.tcp->d[0].ooo_cnt, 1);
    assert_int_equal(x->f.tcp->d[0].ooo_bytes, 5);
    seg(x, 0, ACK, C(15), S(0), "DDD");       /* ahead, adjacent to the held run */
    bf_packet *p = seg(x, 0, ACK, C(0), S(0), "AAAAA"); /* retransmission */
    assert_true(has_event(p, BF_EV_STREAM_PKT_RETRANSMISSION));
    seg(x, 0, ACK, C(12), S(0), "CCC");       /* duplicate of held bytes */
    out_is(x, 0, "AAAAA");
    seg(x, 0, ACK, C(3), S(0), "AABBBBB");    /* fills the hole, overlaps delivered */
    out_is(x, 0, "AAAAABBBBBCCCCCDDD");
    assert_int_equal(x->f.tcp->d[0].ooo_cnt, 0);
    assert_int_equal(x->f.tcp->d[0].next_seq, C(18));
    assert_int_equal(x->f.tcp->d[0].max_regions, 2);
    assert_int_equal(bf_stream_get_stats(x->s)->overlap_diff_data, 0);
    assert_int_equal(bf_stream_get_stats(x->s)->pkt_retransmission, 1);
    assert_int_equal(g_flow.mem, (int64_t)sizeof(bf_tcp_session));
    fx_free(x);
}

static void t_overlap_first_wins(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(5), S(0), "held");          /* [5,9) */
    bf_packet *p = seg(x, 0, ACK, C(7), S(0), "XXyy"); /* [7,11): 7-8 differ */
    assert_true(has_event(p, BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    seg(x, 0, ACK, C(12), S(0), "zz");           /* [12,14) */
    p = seg(x, 0, ACK, C(0), S(0), "01234HELDyy!ZZ#"); /* [0,15) overlaps all */
    assert_true(has_event(p, BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    out_is(x, 0, "01234heldyy!zz#");
    assert_int_equal(bf_stream_get_stats(x->s)->overlap_diff_data, 3);
    /* same data again, overlapping a held segment: no event */
    seg(x, 0, ACK, C(20), S(0), "abcdef");
    p = seg(x, 0, ACK, C(22), S(0), "cdefgh");
    assert_false(has_event(p, BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    seg(x, 0, ACK, C(15), S(0), "-----");
    out_is(x, 0, "01234heldyy!zz#-----abcdefgh");
    fx_free(x);
}

static void t_gap_ack(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "AAAAA");
    seg(x, 0, ACK, C(10), S(0), "CCCCC");        /* [5,10) lost */
    seg(x, 0, ACK, C(20), S(0), "EE");           /* [15,20) lost too */
    out_is(x, 0, "AAAAA");
    bf_packet *p = seg(x, 1, ACK, S(0), C(15), NULL); /* server has [5,15) */
    assert_true(has_event(p, BF_EV_STREAM_REASSEMBLY_SEQ_GAP));
    out_is(x, 0, "AAAAA#####CCCCC");
    assert_int_equal(x->k.ngaps[0], 1);
    assert_int_equal(x->k.gaps[0][0], 5);
    seg(x, 1, ACK, S(0), C(30), NULL);           /* past everything held */
    out_is(x, 0, "AAAAA#####CCCCC#####EE########");
    assert_int_equal(x->k.ngaps[0], 3);
    assert_int_equal(x->k.gaps[0][1], 5);
    assert_int_equal(x->k.gaps[0][2], 8);
    assert_true(x->f.tcp->d[0].gap);
    assert_int_equal(bf_stream_get_stats(x->s)->reassembly_gap, 3);
    /* the lost bytes arriving late are old news */
    seg(x, 0, ACK, C(5), S(0), "BBBBB");
    assert_int_equal(x->k.len[0], 30);
    /* an ACK absurdly far ahead is not believed */
    p = seg(x, 1, ACK, S(0), C(30) + 0x40000000u, NULL);
    assert_true(has_event(p, BF_EV_STREAM_EST_INVALID_ACK));
    assert_int_equal(x->k.len[0], 30);
    fx_free(x);
}

static void t_gap_flow_end(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "AAAAA");
    seg(x, 0, ACK, C(12), S(0), "CCC");
    seg(x, 0, ACK, C(20), S(0), "DD");
    seg(x, 1, ACK, S(3), C(5), "zz");            /* server side: hole at [0,3) */
    assert_true(g_flow.mem > (int64_t)sizeof(bf_tcp_session));
    bf_stream_flow_end(x->s, &x->f);
    assert_null(x->f.tcp);
    assert_int_equal(x->k.len[0], 22);
    assert_memory_equal(x->k.buf[0], "AAAAA#######CCC#####DD", 22);
    assert_int_equal(x->k.gaps[0][0], 7);
    assert_int_equal(x->k.gaps[0][1], 5);
    out_is(x, 1, "###zz");
    assert_int_equal(g_flow.mem, 0);
    fx_free(x);
}

static void t_wraparound(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    x->cisn = 0xFFFFFFF8u;
    x->sisn = 0xFFFFFFFFu; /* server data starts at 0 */
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "0123");            /* 0xFFFFFFF9.. */
    seg(x, 0, ACK, C(10), S(0), "abcdef");         /* crosses 2^32, held */
    seg(x, 0, ACK, C(4), S(0), "456789");          /* fills the hole */
    seg(x, 0, ACK, C(16), S(0), "xyz");
    out_is(x, 0, "0123456789abcdefxyz");
    assert_int_equal(x->f.tcp->d[0].next_seq, C(19));
    assert_true(x->f.tcp->d[0].next_seq < 0x100);
    seg(x, 1, ACK, S(0), C(19), "hello");
    seg(x, 1, ACK, S(5), C(19), "world");
    out_is(x, 1, "helloworld");
    /* ACK across the wrap declaring a gap */
    seg(x, 1, ACK, S(10), C(25), NULL);
    assert_int_equal(x->k.gaps[0][0], 6);
    /* retransmission from before the wrap */
    bf_packet *p = seg(x, 0, ACK, C(0), S(10), "0123");
    assert_true(has_event(p, BF_EV_STREAM_PKT_RETRANSMISSION));
    assert_int_equal(x->k.len[0], 25);
    fx_free(x);
}

static void t_rst(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "data");
    bf_packet *p = seg(x, 1, RST | ACK, S(0) + 0x20000000u, C(4), NULL); /* far out of window */
    (void)p;
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    p = seg(x, 1, RST | ACK, S(0), C(4) + 0x40000000u, NULL);            /* bad ack */
    assert_true(has_event(p, BF_EV_STREAM_RST_INVALID_ACK));
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 1, RST | ACK, S(0), C(4), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSED);
    assert_true(x->f.tcp->d[1].rst_seen);
    assert_int_equal(g_flow.states[g_flow.nstates - 1], BF_FLOW_CLOSED);
    /* nothing is delivered after the reset */
    seg(x, 0, ACK, C(4), S(0), "late");
    out_is(x, 0, "data");
    fx_free(x);

    /* RST refusing a SYN */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 1, RST | ACK, 0, x->cisn + 7, NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_SENT);
    seg(x, 1, RST | ACK, 0, C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSED);
    fx_free(x);
}

static void t_fin_client_first(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "bye");
    seg(x, 0, FIN | ACK, C(3), S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSE_WAIT);
    seg(x, 1, ACK, S(0), C(4), "ok");
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSE_WAIT);
    seg(x, 1, FIN | ACK, S(2), C(4), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_LAST_ACK);
    assert_int_equal(x->f.state, BF_FLOW_CLOSED);
    seg(x, 0, ACK, C(4), S(3), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSED);
    out_is(x, 0, "bye");
    out_is(x, 1, "ok");
    assert_int_equal(x->k.ngaps[0] + x->k.ngaps[1], 0);
    fx_free(x);
}

static void t_fin_server_first(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    seg(x, 1, FIN | ACK, S(0), C(0), "last");
    assert_int_equal(x->f.tcp->state, BF_TCP_FIN_WAIT1);
    assert_int_equal(x->f.state, BF_FLOW_ESTABLISHED);
    seg(x, 0, ACK, C(0), S(5), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_FIN_WAIT2);
    /* a FIN far outside the window is ignored */
    bf_packet *p = seg(x, 0, FIN | ACK, C(0) + 0x10000000u, S(5), NULL);
    assert_true(has_event(p, BF_EV_STREAM_FIN_OUT_OF_WINDOW));
    assert_int_equal(x->f.tcp->state, BF_TCP_FIN_WAIT2);
    seg(x, 0, FIN | ACK, C(0), S(5), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_TIME_WAIT);
    assert_int_equal(x->f.state, BF_FLOW_CLOSED);
    seg(x, 1, ACK, S(5), C(1), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSED);
    out_is(x, 1, "last");
    fx_free(x);

    /* simultaneous close */
    x = fx_new(NULL);
    handshake(x);
    seg(x, 1, FIN | ACK, S(0), C(0), NULL);
    seg(x, 0, FIN | ACK, C(0), S(0), NULL); /* does not ack the server FIN */
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSING);
    seg(x, 0, ACK, C(1), S(1), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_TIME_WAIT);
    seg(x, 1, ACK, S(1), C(1), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_CLOSED);
    fx_free(x);
}

static void midstream_on(bf_stream_cfg *c) { c->midstream = true; }

static void t_midstream(void **st)
{
    (void)st;
    /* off: not tracked */
    fx *x = fx_new(NULL);
    seg(x, 0, ACK, 100, 200, "data");
    assert_null(x->f.tcp);
    bf_packet *p = seg(x, 0, RST | ACK, 100, 200, NULL);
    assert_true(has_event(p, BF_EV_STREAM_RST_BUT_NO_SESSION));
    seg(x, 1, SYN | ACK, 200, 100, NULL);
    assert_null(x->f.tcp);
    assert_int_equal(bf_stream_get_stats(x->s)->no_session, 3);
    assert_int_equal(x->k.calls, 0);
    fx_free(x);

    /* on: data packet picked up */
    x = fx_new(midstream_on);
    seg(x, 0, ACK, 100, 200, "abc");
    assert_non_null(x->f.tcp);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    assert_true(x->f.flags & BF_FLOW_F_MIDSTREAM);
    assert_int_equal(g_flow.states[0], BF_FLOW_ESTABLISHED);
    seg(x, 1, ACK, 200, 103, "xyz");
    seg(x, 0, ACK, 103, 203, "def");
    out_is(x, 0, "abcdef");
    out_is(x, 1, "xyz");
    assert_int_equal(bf_stream_get_stats(x->s)->midstream_pickups, 1);
    fx_free(x);

    /* on: SYN-ACK first (the flow module gives it dir 1) */
    x = fx_new(midstream_on);
    seg(x, 1, SYN | ACK, 7000, 3001, NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_RECV);
    seg(x, 0, ACK, 3001, 7001, "hi");
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 1, ACK, 7001, 3003, "yo");
    out_is(x, 0, "hi");
    out_is(x, 1, "yo");
    fx_free(x);
}

static void small_mem(bf_stream_cfg *c)
{
    c->memcap = sizeof(bf_tcp_session) + 20000;
}

static void t_memcap(void **st)
{
    (void)st;
    fx *x = fx_new(small_mem);
    handshake(x);
    static char chunk[101];
    memset(chunk, 'm', 100);
    for (uint32_t i = 0; i < 1000; i++)
        seg(x, 0, ACK, C(200 * (i + 1)), S(0), chunk); /* disjoint holes */
    const bf_stream_stats *ss = bf_stream_get_stats(x->s);
    assert_true(ss->segment_memcap_drop > 0);
    assert_true(ss->memuse <= x->cfg.memcap);
    assert_true(g_flow.mem_max <= (int64_t)x->cfg.memcap);
    assert_true(x->f.tcp->d[0].ooo_cnt < 1000);
    /* a second session does not fit at all */
    bf_flow f2;
    memset(&f2, 0, sizeof f2);
    x->p.dir = 0;
    x->p.tcp_flags = SYN;
    x->p.payload = NULL;
    x->p.payload_len = 0;
    uint64_t before = ss->ssn_memcap_drop;
    /* fill the cap with held bytes so no session fits */
    bf_stream_packet(x->s, &f2, &x->p);
    if (ss->memuse + sizeof(bf_tcp_session) > x->cfg.memcap)
        assert_int_equal(ss->ssn_memcap_drop, before + 1);
    bf_stream_flow_end(x->s, &f2);
    fx_free(x);
}

static void few_ooo(bf_stream_cfg *c) { c->max_ooo_segments = 4; }

static void t_ooo_limit(void **st)
{
    (void)st;
    fx *x = fx_new(few_ooo);
    handshake(x);
    for (uint32_t i = 1; i <= 6; i++) {
        char b[2] = {(char)('0' + i), 0};
        seg(x, 0, ACK, C(2 * i), S(0), b); /* one-byte holes between */
        assert_true(x->f.tcp->d[0].ooo_cnt <= 4);
    }
    /* at the 5th and 6th the first holes were declared gaps */
    assert_int_equal(bf_stream_get_stats(x->s)->ooo_limit, 2);
    out_is(x, 0, "##1#2");
    bf_stream_flow_end(x->s, &x->f);
    out_is(x, 0, "##1#2#3#4#5#6");
    fx_free(x);
}

static void depth10(bf_stream_cfg *c) { c->reassembly_depth = 10; }

static void t_depth(void **st)
{
    (void)st;
    fx *x = fx_new(depth10);
    handshake(x);
    seg(x, 0, ACK, C(0), S(0), "0123456");
    seg(x, 0, ACK, C(12), S(0), "held");
    bf_packet *p = seg(x, 0, ACK, C(7), S(0), "789abcdef");
    assert_true(has_event(p, BF_EV_STREAM_REASSEMBLY_DEPTH_REACHED));
    out_is(x, 0, "0123456789");
    assert_true(x->f.tcp->d[0].depth_reached);
    assert_int_equal(x->f.tcp->d[0].ooo_cnt, 0);
    seg(x, 0, ACK, C(16), S(0), "more");
    seg(x, 0, ACK, C(40), S(0), "ahead");
    assert_int_equal(x->f.tcp->d[0].ooo_cnt, 0);
    out_is(x, 0, "0123456789");
    assert_int_equal(bf_stream_get_stats(x->s)->stream_depth_reached, 1);
    /* the other direction is unaffected until its own depth */
    seg(x, 1, ACK, S(0), C(20), "abc");
    out_is(x, 1, "abc");
    fx_free(x);
}

static void t_tfo(void **st)
{
    (void)st;
    /* accepted: the SYN-ACK acknowledges the data */
    fx *x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, "early");
    assert_int_equal(x->k.len[0], 0);
    seg(x, 1, SYN | ACK, x->sisn, C(5), NULL);
    out_is(x, 0, "early");
    seg(x, 0, ACK, C(5), S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 0, ACK, C(5), S(0), "late");
    out_is(x, 0, "earlylate");
    fx_free(x);

    /* refused: only the SYN is acknowledged, the data comes again */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, "evil!");
    bf_packet *p = seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    assert_true(has_event(p, BF_EV_STREAM_3WHS_SYNACK_TFO_DATA_IGNORED));
    seg(x, 0, ACK, C(0), S(0), NULL);
    seg(x, 0, ACK, C(0), S(0), "good!");
    out_is(x, 0, "good!");
    fx_free(x);
}

static void t_wscale(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    bf_packet *p = &x->p;
    memset(p, 0, sizeof *p);
    p->dir = 0;
    p->tcp_flags = SYN;
    p->tcp_seq = x->cisn;
    p->tcp_win = 1000;
    p->flags = BF_PKT_TCP_OPT_WSCALE;
    p->tcp_wscale = 7;
    bf_stream_packet(x->s, &x->f, p);
    memset(p, 0, sizeof *p);
    p->dir = 1;
    p->tcp_flags = SYN | ACK;
    p->tcp_seq = x->sisn;
    p->tcp_ack = C(0);
    p->tcp_win = 2000;
    p->flags = BF_PKT_TCP_OPT_WSCALE;
    p->tcp_wscale = 20; /* clamped to 14 */
    bf_stream_packet(x->s, &x->f, p);
    assert_int_equal(x->f.tcp->d[1].window, 2000); /* SYN-ACK window unscaled */
    seg(x, 0, ACK, C(0), S(0), NULL);
    assert_int_equal(x->f.tcp->d[0].window, 65535u << 7);
    seg(x, 1, ACK, S(0), C(0), NULL);
    assert_int_equal(x->f.tcp->d[1].window, 65535u << 14);
    fx_free(x);

    /* only one side offers it: no scaling */
    x = fx_new(NULL);
    p = &x->p;
    memset(p, 0, sizeof *p);
    p->tcp_flags = SYN;
    p->tcp_seq = x->cisn;
    p->flags = BF_PKT_TCP_OPT_WSCALE;
    p->tcp_wscale = 7;
    bf_stream_packet(x->s, &x->f, p);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    seg(x, 0, ACK, C(0), S(0), NULL);
    assert_int_equal(x->f.tcp->d[0].window, 65535);
    assert_int_equal(x->f.tcp->d[0].wscale, 0);
    fx_free(x);
}

static void t_checksum(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    bf_packet *p = &x->p;
    memset(p, 0, sizeof *p);
    p->tcp_flags = ACK;
    p->tcp_seq = C(0);
    p->tcp_ack = S(0);
    p->payload = (const uint8_t *)"bad";
    p->payload_len = 3;
    p->flags = BF_PKT_L4_CSUM_BAD;
    bf_stream_packet(x->s, &x->f, p);
    assert_int_equal(bf_stream_get_stats(x->s)->invalid_checksum, 1);
    seg(x, 0, ACK, C(0), S(0), "good");
    out_is(x, 0, "good");
    fx_free(x);
}

static void t_handshake_variants(void **st)
{
    (void)st;
    /* SYN and SYN-ACK retransmissions, SYN-ACK with a wrong ACK */
    fx *x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    bf_packet *p = seg(x, 1, SYN | ACK, x->sisn, x->cisn + 50, NULL);
    assert_true(has_event(p, BF_EV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK));
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_SENT);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    p = seg(x, 1, SYN | ACK, x->sisn + 9, C(0), NULL);
    assert_true(has_event(p, BF_EV_STREAM_3WHS_SYNACK_RESEND_WITH_DIFF_SEQ));
    p = seg(x, 0, ACK, C(0), S(0) + 77, NULL);
    assert_true(has_event(p, BF_EV_STREAM_3WHS_RIGHT_SEQ_WRONG_ACK_EVASION));
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_RECV);
    seg(x, 0, ACK | PSH, C(0), S(0), "x"); /* final ACK carrying data */
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    p = seg(x, 0, SYN, x->cisn, 0, NULL);
    assert_true(has_event(p, BF_EV_STREAM_EST_SYN_RESEND));
    p = seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    assert_true(has_event(p, BF_EV_STREAM_EST_SYNACK_RESEND));
    out_is(x, 0, "x");
    fx_free(x);

    /* split handshake: SYN, SYN, SYN-ACK (client), ACK (server) */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 1, SYN, x->sisn, 0, NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_SENT);
    seg(x, 0, SYN | ACK, x->cisn, S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_RECV);
    seg(x, 1, ACK, S(0), C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 0, ACK, C(0), S(0), "4whs");
    out_is(x, 0, "4whs");
    fx_free(x);

    /* 5-way split handshake: SYN, ACK (server), SYN (server), SYN-ACK
     * (client), ACK (server) */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 1, ACK, x->sisn, C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_SENT);
    seg(x, 1, SYN, x->sisn, 0, NULL);
    seg(x, 0, SYN | ACK, x->cisn, S(0), NULL);
    p = seg(x, 1, ACK, S(0), C(0) + 100, NULL); /* wrong ACK first */
    assert_true(has_event(p, BF_EV_STREAM_4WHS_INVALID_ACK));
    seg(x, 1, ACK, S(0), C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 1, ACK, S(0), C(0), "5whs");
    out_is(x, 1, "5whs");
    fx_free(x);

    /* simultaneous open: SYN, SYN, SYN-ACK both ways */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 1, SYN, x->sisn, 0, NULL);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_SYN_RECV);
    seg(x, 0, SYN | ACK, x->cisn, S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 1, ACK, S(0), C(0), "sim");
    out_is(x, 1, "sim");
    fx_free(x);

    /* final ACK lost: the server's data completes the handshake */
    x = fx_new(NULL);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 1, SYN | ACK, x->sisn, C(0), NULL);
    seg(x, 1, ACK, S(0), C(0), "banner");
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    out_is(x, 1, "banner");
    fx_free(x);
}

static void async_on(bf_stream_cfg *c) { c->async_oneside = true; }

static void t_async(void **st)
{
    (void)st;
    fx *x = fx_new(async_on);
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 0, ACK, C(0), S(0), NULL);
    assert_int_equal(x->f.tcp->state, BF_TCP_ESTABLISHED);
    seg(x, 0, ACK, C(0), S(0), "one");
    seg(x, 0, ACK, C(3), S(0), "side");
    out_is(x, 0, "oneside");
    fx_free(x);

    x = fx_new(NULL); /* without async_oneside: not reassembled */
    seg(x, 0, SYN, x->cisn, 0, NULL);
    seg(x, 0, ACK, C(0), S(0), "one");
    assert_int_equal(x->k.len[0], 0);
    fx_free(x);
}

static void t_state_names(void **st)
{
    (void)st;
    assert_string_equal(bf_tcp_state_name(BF_TCP_NONE), "none");
    assert_string_equal(bf_tcp_state_name(BF_TCP_SYN_SENT), "syn_sent");
    assert_string_equal(bf_tcp_state_name(BF_TCP_SYN_RECV), "syn_recv");
    assert_string_equal(bf_tcp_state_name(BF_TCP_ESTABLISHED), "established");
    assert_string_equal(bf_tcp_state_name(BF_TCP_FIN_WAIT1), "fin_wait1");
    assert_string_equal(bf_tcp_state_name(BF_TCP_FIN_WAIT2), "fin_wait2");
    assert_string_equal(bf_tcp_state_name(BF_TCP_TIME_WAIT), "time_wait");
    assert_string_equal(bf_tcp_state_name(BF_TCP_LAST_ACK), "last_ack");
    assert_string_equal(bf_tcp_state_name(BF_TCP_CLOSE_WAIT), "close_wait");
    assert_string_equal(bf_tcp_state_name(BF_TCP_CLOSING), "closing");
    assert_string_equal(bf_tcp_state_name(BF_TCP_CLOSED), "closed");
    assert_string_equal(bf_tcp_state_name(200), "unknown");
    bf_stream_cfg c;
    bf_stream_cfg_default(&c);
    assert_int_equal(c.memcap, 64u << 20);
    assert_int_equal(c.reassembly_depth, 1u << 20);
    assert_false(c.midstream);
    assert_false(c.async_oneside);
    assert_int_equal(c.max_ooo_segments, 1024);
    assert_true(c.checksum_validation);
    assert_string_equal(bf_event_name(BF_EV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK),
                        "stream.3whs_synack_with_wrong_ack");
    assert_int_equal(bf_event_lookup(BF_EVL_STREAM, "reassembly_overlap_different_data"),
                     BF_EV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA);
}

/* Descending arrival of many one-byte segments, then the head: delivered
 * once, in order, and the cap keeps the work bounded. */
static void t_reverse_order(void **st)
{
    (void)st;
    fx *x = fx_new(NULL);
    handshake(x);
    char want[1001];
    for (int i = 1000; i >= 1; i--) {
        char b[2] = {(char)('a' + i % 26), 0};
        want[i] = b[0];
        seg(x, 0, ACK, C(i), S(0), b);
    }
    assert_int_equal(x->f.tcp->d[0].ooo_cnt, 1000);
    assert_int_equal(x->f.tcp->d[0].max_regions, 2);
    want[0] = '@';
    seg(x, 0, ACK, C(0), S(0), "@");
    assert_int_equal(x->k.len[0], 1001);
    assert_memory_equal(x->k.buf[0], want, 1001);
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_3whs_data),       cmocka_unit_test(t_ooo_retrans),
        cmocka_unit_test(t_overlap_first_wins), cmocka_unit_test(t_gap_ack),
        cmocka_unit_test(t_gap_flow_end),    cmocka_unit_test(t_wraparound),
        cmocka_unit_test(t_rst),             cmocka_unit_test(t_fin_client_first),
        cmocka_unit_test(t_fin_server_first), cmocka_unit_test(t_midstream),
        cmocka_unit_test(t_memcap),          cmocka_unit_test(t_ooo_limit),
        cmocka_unit_test(t_depth),           cmocka_unit_test(t_tfo),
        cmocka_unit_test(t_wscale),          cmocka_unit_test(t_checksum),
        cmocka_unit_test(t_handshake_variants), cmocka_unit_test(t_async),
        cmocka_unit_test(t_state_names),     cmocka_unit_test(t_reverse_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
