/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for flow/: packets are built by hand, no decoder involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "flow/flow.h"

#define T0 (1700000000ULL * BF_SEC)

/* ------------------------------------------------------------- helpers */

typedef struct ended {
    uint64_t n[3];              /* per reason */
    uint64_t ids[64];           /* first flow ids, in end order */
    uint64_t starts[64];
    uint64_t cnt;
    bool check_sorted;
} ended;

static void on_end(void *ud, bf_flow *f, enum bf_flow_end_reason why)
{
    ended *e = ud;
    assert_true(why <= BF_FLOW_END_SHUTDOWN);
    e->n[why]++;
    if (e->cnt < 64) {
        e->ids[e->cnt] = f->flow_id;
        e->starts[e->cnt] = f->start;
    }
    e->cnt++;
    f->tcp = NULL;
    f->app_state = NULL;
}

static bf_addr a4(uint32_t v)
{
    bf_addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = (uint8_t)(v >> 24);
    a.b[1] = (uint8_t)(v >> 16);
    a.b[2] = (uint8_t)(v >> 8);
    a.b[3] = (uint8_t)v;
    return a;
}

static bf_addr a6(uint16_t first, uint16_t last)
{
    bf_addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = (uint8_t)(first >> 8);
    a.b[1] = (uint8_t)first;
    a.b[14] = (uint8_t)(last >> 8);
    a.b[15] = (uint8_t)last;
    return a;
}

static void pkt(bf_packet *p, uint8_t ipver, uint8_t proto, bf_addr src, bf_addr dst, uint16_t sp,
                uint16_t dp, uint8_t tcp_flags, bf_ts ts, uint32_t len)
{
    memset(p, 0, sizeof *p);
    p->ipver = ipver;
    p->proto = proto;
    p->src = src;
    p->dst = dst;
    p->sp = sp;
    p->dp = dp;
    p->tcp_flags = tcp_flags;
    p->ts = ts;
    p->caplen = p->wirelen = len;
}

static void tcp4(bf_packet *p, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t fl, bf_ts ts)
{
    pkt(p, 4, 6, a4(s), a4(d), sp, dp, fl, ts, 60);
}

static void udp4(bf_packet *p, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, bf_ts ts)
{
    pkt(p, 4, 17, a4(s), a4(d), sp, dp, 0, ts, 100);
}

/* ICMP with an 8-byte header in buf (id at offset 4) */
static void icmp(bf_packet *p, uint8_t ipver, bf_addr s, bf_addr d, uint8_t type, uint8_t code,
                 uint16_t id, uint8_t *buf, bf_ts ts)
{
    pkt(p, ipver, ipver == 4 ? 1 : 58, s, d, type, code, 0, ts, 84);
    p->icmp_type = type;
    p->icmp_code = code;
    memset(buf, 0, 8);
    buf[0] = type;
    buf[1] = code;
    buf[4] = (uint8_t)(id >> 8);
    buf[5] = (uint8_t)id;
    p->l4 = buf;
    p->l4_len = 8;
}

static bf_flow_table *mk_table(ended *e, uint64_t memcap)
{
    bf_flow_cfg c;
    bf_flow_cfg_default(&c);
    if (memcap)
        c.memcap = memcap;
    memset(e, 0, sizeof *e);
    return bf_flow_table_new(&c, on_end, e);
}

static uint64_t ended_total(const bf_flow_stats *st)
{
    return st->end_state[0] + st->end_state[1] + st->end_state[2];
}

/* --------------------------------------------------------------- tests */

static void test_defaults(void **state)
{
    (void)state;
    bf_flow_cfg c;
    bf_flow_cfg_default(&c);
    assert_int_equal(c.memcap, 128ULL << 20);
    assert_int_equal(c.hash_size, 65536);
    assert_int_equal(c.emerg_recovery_pct, 80);
    assert_int_equal(c.timeout[BF_TC_TCP_NEW], 60 * BF_SEC);
    assert_int_equal(c.timeout[BF_TC_TCP_EST], 600 * BF_SEC);
    assert_int_equal(c.timeout[BF_TC_TCP_CLOSED], 60 * BF_SEC);
    assert_int_equal(c.timeout[BF_TC_UDP_NEW], 30 * BF_SEC);
    assert_int_equal(c.timeout[BF_TC_UDP_EST], 300 * BF_SEC);
    assert_int_equal(c.emerg_timeout[BF_TC_TCP_NEW], 10 * BF_SEC);
    assert_int_equal(c.emerg_timeout[BF_TC_TCP_EST], 300 * BF_SEC);
    assert_int_equal(c.emerg_timeout[BF_TC_TCP_CLOSED], 20 * BF_SEC);
    assert_int_equal(c.emerg_timeout[BF_TC_ICMP_EST], 100 * BF_SEC);
    assert_string_equal(bf_flow_state_name(BF_FLOW_ESTABLISHED), "established");
    assert_string_equal(bf_flow_reason_name(BF_FLOW_END_FORCED), "forced");
    assert_true(bf_flow_mem_per_flow() >= sizeof(bf_flow));
    assert_int_equal(bf_flow_mem_per_flow() % 64, 0);
}

static void test_both_directions(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    uint32_t C = 0x0a000001, S = 0xc0a80001;

    tcp4(&p, C, S, 40000, 80, BF_TH_SYN, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    assert_non_null(f);
    assert_ptr_equal(p.flow, f);
    assert_int_equal(p.dir, 0);
    assert_int_equal(p.flow_hash, bf_flow_hash_packet(&p));
    assert_true(bf_addr_eq(&f->addr[0], &p.src));
    assert_int_equal(f->port[0], 40000);
    assert_int_equal(f->port[1], 80);
    assert_int_equal(f->state, BF_FLOW_NEW);
    assert_int_equal(f->tclass, BF_TC_TCP_NEW);
    assert_true(f->flow_id > 0);
    uint64_t h0 = p.flow_hash;

    tcp4(&p, S, C, 80, 40000, BF_TH_SYN | BF_TH_ACK, T0 + 1000);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f);
    assert_int_equal(p.dir, 1);
    assert_int_equal(p.flow_hash, h0);
    /* nobody drives TCP state here: seen both ways -> established */
    assert_int_equal(f->state, BF_FLOW_ESTABLISHED);
    assert_int_equal(f->tclass, BF_TC_TCP_EST);

    tcp4(&p, C, S, 40000, 80, BF_TH_ACK, T0 + 2000);
    p.wirelen = 1514;
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f);
    assert_int_equal(p.dir, 0);

    assert_int_equal(f->pkts[0], 2);
    assert_int_equal(f->pkts[1], 1);
    assert_int_equal(f->bytes[0], 60 + 1514);
    assert_int_equal(f->bytes[1], 60);
    assert_int_equal(f->tcp_flags[0], BF_TH_SYN | BF_TH_ACK);
    assert_int_equal(f->tcp_flags[1], BF_TH_SYN | BF_TH_ACK);
    assert_int_equal(f->start, T0);
    assert_int_equal(f->last, T0 + 2000);
    assert_int_equal(f->flags & BF_FLOW_F_REVERSED, 0);

    /* other ports: another flow */
    tcp4(&p, C, S, 40001, 80, BF_TH_SYN, T0 + 3000);
    bf_flow *g = bf_flow_handle_packet(t, &p);
    assert_non_null(g);
    assert_ptr_not_equal(g, f);
    assert_int_not_equal(g->flow_id, f->flow_id);

    const bf_flow_stats *st = bf_flow_table_stats(t);
    assert_int_equal(st->total, 2);
    assert_int_equal(st->tcp, 2);
    assert_int_equal(st->active, 2);
    assert_int_equal(st->memuse, 2 * bf_flow_mem_per_flow());
    bf_flow_table_free(t);
    assert_int_equal(e.n[BF_FLOW_END_SHUTDOWN], 2);
}

static void test_udp_state_and_ipv6(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    udp4(&p, 1, 2, 5353, 53, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_NEW);
    assert_int_equal(f->tclass, BF_TC_UDP_NEW);
    udp4(&p, 1, 2, 5353, 53, T0 + 1);
    bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_NEW);
    udp4(&p, 2, 1, 53, 5353, T0 + 2);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f);
    assert_int_equal(f->state, BF_FLOW_ESTABLISHED);
    assert_int_equal(f->tclass, BF_TC_UDP_EST);

    /* IPv6, and an IPv4 address whose bytes look like the v6 one */
    pkt(&p, 6, 17, a6(0x2001, 1), a6(0x2001, 2), 1000, 2000, 0, T0, 100);
    bf_flow *v6 = bf_flow_handle_packet(t, &p);
    assert_non_null(v6);
    assert_ptr_not_equal(v6, f);
    pkt(&p, 6, 17, a6(0x2001, 2), a6(0x2001, 1), 2000, 1000, 0, T0, 100);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), v6);
    assert_int_equal(p.dir, 1);

    /* other protocol (GRE): ports 0 */
    pkt(&p, 4, 47, a4(1), a4(2), 0, 0, 0, T0, 100);
    bf_flow *o = bf_flow_handle_packet(t, &p);
    assert_int_equal(o->tclass, BF_TC_OTHER_NEW);
    pkt(&p, 4, 47, a4(2), a4(1), 0, 0, 0, T0, 100);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), o);
    assert_int_equal(o->tclass, BF_TC_OTHER_EST);
    assert_int_equal(bf_flow_table_stats(t)->other, 1);
    assert_int_equal(bf_flow_table_stats(t)->udp, 2);
    bf_flow_table_free(t);
}

static void test_tcp_stream_driven(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    int dummy;
    tcp4(&p, 1, 2, 1234, 443, BF_TH_SYN, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    f->tcp = (struct bf_tcp_session *)(void *)&dummy; /* stream took it */
    tcp4(&p, 2, 1, 443, 1234, BF_TH_SYN | BF_TH_ACK, T0 + 1);
    bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_NEW);
    assert_int_equal(f->tclass, BF_TC_TCP_NEW);
    bf_flow_set_state(t, f, BF_FLOW_ESTABLISHED);
    assert_int_equal(f->state, BF_FLOW_ESTABLISHED);
    assert_int_equal(f->tclass, BF_TC_TCP_EST);
    assert_true(f->flags & BF_FLOW_F_STATE_EXT);
    /* RST seen but stream decides */
    tcp4(&p, 2, 1, 443, 1234, BF_TH_RST, T0 + 2);
    bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_ESTABLISHED);
    bf_flow_set_state(t, f, BF_FLOW_CLOSED);
    assert_int_equal(f->tclass, BF_TC_TCP_CLOSED);
    /* closed timeout (60 s) now applies, not established (600 s) */
    bf_flow_timeout(t, T0 + 2 + 59 * BF_SEC);
    assert_int_equal(bf_flow_table_stats(t)->active, 1);
    bf_flow_timeout(t, T0 + 2 + 60 * BF_SEC);
    assert_int_equal(bf_flow_table_stats(t)->active, 0);
    assert_int_equal(e.n[BF_FLOW_END_TIMEOUT], 1);
    assert_int_equal(bf_flow_table_stats(t)->end_state[BF_FLOW_CLOSED], 1);
    bf_flow_table_free(t);
}

static void test_tcp_auto_close(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    tcp4(&p, 1, 2, 1234, 80, BF_TH_SYN, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    tcp4(&p, 2, 1, 80, 1234, BF_TH_RST | BF_TH_ACK, T0 + 1);
    bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_CLOSED);
    assert_int_equal(f->tclass, BF_TC_TCP_CLOSED);
    bf_flow_table_free(t);
}

static void test_vlan(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    bf_flow *f[4];
    static const uint16_t v[4][2] = {{0, 0}, {10, 0}, {20, 0}, {10, 30}};
    for (int i = 0; i < 4; i++) {
        udp4(&p, 1, 2, 1000, 53, T0);
        p.vlan_cnt = (uint8_t)(v[i][0] ? (v[i][1] ? 2 : 1) : 0);
        p.vlan[0] = v[i][0];
        p.vlan[1] = v[i][1];
        f[i] = bf_flow_handle_packet(t, &p);
        assert_non_null(f[i]);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(f[i], f[j]);
    }
    assert_int_equal(f[3]->vlan[0], 10);
    assert_int_equal(f[3]->vlan[1], 30);
    /* reply with the same tags, and a third tag that is not part of the key */
    udp4(&p, 2, 1, 53, 1000, T0);
    p.vlan_cnt = 3;
    p.vlan[0] = 10;
    p.vlan[1] = 30;
    p.vlan[2] = 99;
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f[3]);
    assert_int_equal(p.dir, 1);
    /* stale vlan[] beyond vlan_cnt is ignored */
    udp4(&p, 2, 1, 53, 1000, T0);
    p.vlan_cnt = 1;
    p.vlan[0] = 20;
    p.vlan[1] = 777;
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f[2]);
    assert_int_equal(bf_flow_table_stats(t)->total, 4);
    bf_flow_table_free(t);
}

static void test_icmp_echo(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    uint8_t b[8];
    bf_addr A = a4(0x0a000001), B = a4(0x08080808), R = a4(0x0a0000fe);

    icmp(&p, 4, A, B, 8, 0, 0x1234, b, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    assert_non_null(f);
    assert_int_equal(f->icmp_type, 8);
    assert_int_equal(f->tclass, BF_TC_ICMP_NEW);
    icmp(&p, 4, B, A, 0, 0, 0x1234, b, T0 + 1);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f);
    assert_int_equal(p.dir, 1);
    assert_int_equal(f->state, BF_FLOW_ESTABLISHED);
    assert_int_equal(f->tclass, BF_TC_ICMP_EST);
    /* another id: another flow */
    icmp(&p, 4, A, B, 8, 0, 0x9999, b, T0 + 2);
    bf_flow *g = bf_flow_handle_packet(t, &p);
    assert_ptr_not_equal(g, f);
    /* echo id 3 vs dest-unreachable type 3 code 3 between the same hosts */
    icmp(&p, 4, A, B, 8, 0, 3, b, T0 + 3);
    bf_flow *e3 = bf_flow_handle_packet(t, &p);
    icmp(&p, 4, A, B, 3, 3, 0, b, T0 + 3);
    p.flags |= BF_PKT_ICMP_ERROR;
    bf_flow *u3 = bf_flow_handle_packet(t, &p);
    assert_non_null(u3);
    assert_ptr_not_equal(e3, u3);
    assert_int_equal(u3->port[0], 3);
    assert_int_equal(u3->port[1], 3);
    /* ICMP error from a router: its own flow */
    icmp(&p, 4, R, A, 11, 0, 0, b, T0 + 4);
    p.flags |= BF_PKT_ICMP_ERROR;
    bf_flow *err = bf_flow_handle_packet(t, &p);
    assert_non_null(err);
    assert_ptr_not_equal(err, f);
    assert_int_equal(err->icmp_type, 11);
    /* truncated echo: id reads as 0, still a flow */
    icmp(&p, 4, A, B, 8, 0, 0x4444, b, T0 + 5);
    p.l4_len = 4;
    assert_non_null(bf_flow_handle_packet(t, &p));
    assert_int_equal(bf_flow_table_stats(t)->icmpv4, 6);

    /* ICMPv6 echo 128/129 */
    bf_addr X = a6(0xfe80, 1), Y = a6(0xfe80, 2);
    icmp(&p, 6, X, Y, 128, 0, 77, b, T0);
    bf_flow *h = bf_flow_handle_packet(t, &p);
    icmp(&p, 6, Y, X, 129, 0, 77, b, T0 + 1);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), h);
    assert_int_equal(p.dir, 1);
    assert_int_equal(h->state, BF_FLOW_ESTABLISHED);
    assert_int_equal(bf_flow_table_stats(t)->icmpv6, 1);
    bf_flow_table_free(t);
}

static void test_synack_first(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    uint32_t C = 0x0a000001, S = 0x0a000002;
    tcp4(&p, S, C, 80, 51000, BF_TH_SYN | BF_TH_ACK, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    assert_non_null(f);
    assert_int_equal(p.dir, 1);
    assert_true(f->flags & BF_FLOW_F_REVERSED);
    bf_addr c = a4(C), s = a4(S);
    assert_true(bf_addr_eq(&f->addr[0], &c));
    assert_true(bf_addr_eq(&f->addr[1], &s));
    assert_int_equal(f->port[0], 51000);
    assert_int_equal(f->port[1], 80);
    assert_int_equal(f->pkts[1], 1);
    assert_int_equal(f->pkts[0], 0);
    assert_int_equal(f->tcp_flags[1], BF_TH_SYN | BF_TH_ACK);
    tcp4(&p, C, S, 51000, 80, BF_TH_ACK, T0 + 1);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), f);
    assert_int_equal(p.dir, 0);
    assert_int_equal(f->pkts[0], 1);
    /* a plain ACK first keeps the packet's orientation */
    tcp4(&p, S, C, 80, 51001, BF_TH_ACK, T0 + 2);
    bf_flow *g = bf_flow_handle_packet(t, &p);
    assert_int_equal(p.dir, 0);
    assert_false(g->flags & BF_FLOW_F_REVERSED);
    bf_flow_table_free(t);
}

static void test_timeouts(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    const bf_flow_stats *st = bf_flow_table_stats(t);
    bf_packet p;
    uint8_t b[8];

    tcp4(&p, 1, 2, 1000, 80, BF_TH_SYN, T0);           /* tcp new: 60 */
    bf_flow_handle_packet(t, &p);
    udp4(&p, 1, 2, 1000, 53, T0);                       /* udp new: 30 */
    bf_flow_handle_packet(t, &p);
    udp4(&p, 3, 4, 1000, 53, T0);                       /* udp est: 300 */
    bf_flow_handle_packet(t, &p);
    udp4(&p, 4, 3, 53, 1000, T0);
    bf_flow_handle_packet(t, &p);
    icmp(&p, 4, a4(1), a4(2), 8, 0, 1, b, T0);          /* icmp new: 30 */
    bf_flow_handle_packet(t, &p);
    pkt(&p, 4, 132, a4(1), a4(2), 0, 0, 0, T0, 80);      /* other new: 30 */
    bf_flow_handle_packet(t, &p);
    tcp4(&p, 5, 6, 1000, 22, BF_TH_SYN, T0);            /* tcp est: 600 */
    bf_flow_handle_packet(t, &p);
    tcp4(&p, 6, 5, 22, 1000, BF_TH_SYN | BF_TH_ACK, T0);
    bf_flow_handle_packet(t, &p);
    /* refreshed: udp new at T0+20 lives until T0+50 */
    udp4(&p, 7, 8, 1, 2, T0);
    bf_flow *r = bf_flow_handle_packet(t, &p);
    udp4(&p, 7, 8, 1, 2, T0 + 20 * BF_SEC);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), r);
    assert_int_equal(st->active, 7);

    bf_flow_timeout(t, T0 + 30 * BF_SEC - 1);
    assert_int_equal(st->active, 7);
    bf_flow_timeout(t, T0 + 30 * BF_SEC);
    assert_int_equal(st->active, 4); /* udp new, icmp new, other new */
    bf_flow_timeout(t, T0 + 50 * BF_SEC);
    assert_int_equal(st->active, 3); /* refreshed udp */
    bf_flow_timeout(t, T0 + 60 * BF_SEC);
    assert_int_equal(st->active, 2); /* tcp new */
    bf_flow_timeout(t, T0 + 300 * BF_SEC);
    assert_int_equal(st->active, 1); /* udp est */
    bf_flow_timeout(t, T0 + 599 * BF_SEC);
    assert_int_equal(st->active, 1);
    bf_flow_timeout(t, T0 + 600 * BF_SEC);
    assert_int_equal(st->active, 0); /* tcp est */
    assert_int_equal(st->timeouts, 7);
    assert_int_equal(e.n[BF_FLOW_END_TIMEOUT], 7);
    assert_int_equal(st->memuse, 0);
    assert_int_equal(st->end_state[BF_FLOW_NEW], 5);
    assert_int_equal(st->end_state[BF_FLOW_ESTABLISHED], 2);

    /* a packet on a flow idle past its timeout that nobody collected yet
     * ends it and starts a new one */
    udp4(&p, 1, 2, 1000, 53, T0 + 1000 * BF_SEC);
    bf_flow *a = bf_flow_handle_packet(t, &p);
    uint64_t id = a->flow_id;
    udp4(&p, 1, 2, 1000, 53, T0 + 1029 * BF_SEC);
    assert_ptr_equal(bf_flow_handle_packet(t, &p), a);
    udp4(&p, 1, 2, 1000, 53, T0 + 1059 * BF_SEC);
    bf_flow *a2 = bf_flow_handle_packet(t, &p);
    assert_int_not_equal(a2->flow_id, id);
    assert_int_equal(a2->pkts[0], 1);
    assert_int_equal(st->timeouts, 8);
    assert_int_equal(st->active, 1);

    /* timestamps going backwards do not break the LRU order */
    udp4(&p, 9, 9, 1, 1, T0 + 1000 * BF_SEC);
    bf_flow_handle_packet(t, &p);
    bf_flow_timeout(t, T0 + 1059 * BF_SEC + 30 * BF_SEC);
    assert_int_equal(st->active, 0);
    bf_flow_table_free(t);
}

/* The SYN flood: a million spoofed sources into a 2 MiB table. */
static void test_memcap_flood(void **state)
{
    (void)state;
    ended e;
    const uint64_t cap = 2ULL << 20;
    bf_flow_table *t = mk_table(&e, cap);
    const bf_flow_stats *st = bf_flow_table_stats(t);
    bf_packet p;

    /* a few established flows from before the flood */
    bf_flow *est[10];
    for (int i = 0; i < 10; i++) {
        udp4(&p, 0xc0a80000u + (uint32_t)i, 0xc0a800ffu, 5000, 53, T0);
        est[i] = bf_flow_handle_packet(t, &p);
        udp4(&p, 0xc0a800ffu, 0xc0a80000u + (uint32_t)i, 53, 5000, T0);
        bf_flow_handle_packet(t, &p);
        assert_int_equal(est[i]->state, BF_FLOW_ESTABLISHED);
    }
    uint64_t ids[10];
    for (int i = 0; i < 10; i++)
        ids[i] = est[i]->flow_id;

    const uint32_t N = 1000000;
    uint64_t got = 0, maxmem = 0, emerg_flagged = 0;
    for (uint32_t i = 0; i < N; i++) {
        tcp4(&p, 0x0b000000u + i, 0x0a000001u, (uint16_t)(1024 + i % 60000), 80, BF_TH_SYN,
             T0 + BF_SEC + i);
        bf_flow *f = bf_flow_handle_packet(t, &p);
        if (f) {
            got++;
            emerg_flagged += (f->flags & BF_FLOW_F_EMERGENCY) != 0;
        }
        if (st->memuse > maxmem)
            maxmem = st->memuse;
    }
    assert_true(maxmem <= cap);
    assert_true(st->memuse <= cap);
    assert_int_equal(got + st->memcap_drops, N);
    assert_int_equal(st->total, got + 10);
    /* every flow is accounted for: active, evicted, or dropped */
    assert_int_equal(st->evicted + st->memcap_drops + st->active + st->timeouts, N + 10);
    assert_int_equal(st->total, st->active + ended_total(st));
    assert_int_equal(e.n[BF_FLOW_END_FORCED], st->evicted);
    assert_int_equal(st->timeouts, 0);
    assert_int_equal(st->memcap_drops, 0);
    assert_true(st->evicted > N - 20000);
    assert_int_equal(st->emerg_mode_entered, 1);
    assert_true(bf_flow_table_emergency(t));
    assert_true(emerg_flagged > 0);
    assert_true(st->active >= cap / bf_flow_mem_per_flow() - 1);

    /* the established flows survived the flood (NEW flows go first) */
    for (int i = 0; i < 10; i++) {
        udp4(&p, 0xc0a80000u + (uint32_t)i, 0xc0a800ffu, 5000, 53, T0 + 2 * BF_SEC);
        bf_flow *f = bf_flow_handle_packet(t, &p);
        assert_non_null(f);
        assert_int_equal(f->flow_id, ids[i]);
        assert_int_equal(f->pkts[0], 2);
    }

    /* emergency timeouts (tcp new: 10 s) clear the flood until memuse is
     * under the recovery level, then normal timeouts apply again */
    bf_flow_timeout(t, T0 + 13 * BF_SEC);
    assert_false(bf_flow_table_emergency(t));
    assert_int_equal(st->emerg_mode_over, 1);
    assert_true(st->memuse < cap * 80 / 100);
    assert_true(st->active > 10);
    bf_flow_timeout(t, T0 + 61 * BF_SEC);
    assert_true(st->active > 10);
    bf_flow_timeout(t, T0 + 62 * BF_SEC);
    assert_int_equal(st->active, 10);
    assert_int_equal(st->memuse, 10 * bf_flow_mem_per_flow());
    assert_int_equal(st->total, st->active + ended_total(st));
    bf_flow_table_free(t);
    assert_int_equal(e.n[BF_FLOW_END_SHUTDOWN], 10);
    assert_int_equal(e.cnt, N + 10);
}

static void test_memcap_drop(void **state)
{
    (void)state;
    ended e;
    const uint64_t cap = 64 * bf_flow_mem_per_flow();
    bf_flow_table *t = mk_table(&e, cap);
    const bf_flow_stats *st = bf_flow_table_stats(t);
    bf_packet p;

    /* other state holds the whole cap: nothing to evict, the packet drops */
    bf_flow_mem_adjust(t, (int64_t)cap);
    udp4(&p, 1, 2, 3, 4, T0);
    assert_null(bf_flow_handle_packet(t, &p));
    assert_null(p.flow);
    assert_int_equal(st->memcap_drops, 1);
    assert_int_equal(st->emerg_mode_entered, 1);
    bf_flow_mem_adjust(t, -(int64_t)cap);
    assert_int_equal(st->memuse, 0);
    assert_int_equal(st->emerg_mode_over, 1);
    assert_non_null(bf_flow_handle_packet(t, &p));
    assert_int_equal(st->memuse, bf_flow_mem_per_flow());
    bf_flow_mem_adjust(t, 1000);
    assert_int_equal(st->memuse, bf_flow_mem_per_flow() + 1000);
    bf_flow_mem_adjust(t, -1000);
    assert_int_equal(st->memuse, bf_flow_mem_per_flow());

    /* at the cap, new flows evict old ones and memuse stays under it */
    for (uint32_t i = 0; i < 200; i++) {
        udp4(&p, 100 + i, 2, 3, 4, T0 + i);
        bf_flow_handle_packet(t, &p);
        assert_true(st->memuse <= cap);
    }
    assert_int_equal(st->memcap_drops, 1);
    assert_int_equal(st->total, st->active + ended_total(st));
    bf_flow_table_free(t);

    /* a cap below one flow: every packet drops */
    t = mk_table(&e, 10);
    udp4(&p, 1, 2, 3, 4, T0);
    assert_null(bf_flow_handle_packet(t, &p));
    assert_int_equal(bf_flow_table_stats(t)->memcap_drops, 1);
    bf_flow_table_free(t);
}

static void test_tcp_reuse(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    const bf_flow_stats *st = bf_flow_table_stats(t);
    bf_packet p;
    uint32_t C = 1, S = 2;

    /* no stream: FIN both ways */
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN, T0);
    bf_flow *f = bf_flow_handle_packet(t, &p);
    uint64_t id = f->flow_id;
    tcp4(&p, S, C, 80, 1000, BF_TH_SYN | BF_TH_ACK, T0 + 1);
    bf_flow_handle_packet(t, &p);
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN, T0 + 2); /* retransmitted SYN: same flow */
    assert_int_equal(bf_flow_handle_packet(t, &p)->flow_id, id);
    tcp4(&p, C, S, 1000, 80, BF_TH_FIN | BF_TH_ACK, T0 + 3);
    bf_flow_handle_packet(t, &p);
    tcp4(&p, S, C, 80, 1000, BF_TH_FIN | BF_TH_ACK, T0 + 4);
    bf_flow_handle_packet(t, &p);
    assert_int_equal(f->state, BF_FLOW_CLOSED);
    assert_int_equal(st->tcp_reuse, 0);
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN, T0 + 5);
    bf_flow *g = bf_flow_handle_packet(t, &p);
    assert_non_null(g);
    assert_int_not_equal(g->flow_id, id);
    assert_int_equal(g->pkts[0], 1);
    assert_int_equal(g->state, BF_FLOW_NEW);
    assert_int_equal(st->tcp_reuse, 1);
    assert_int_equal(e.n[BF_FLOW_END_TIMEOUT], 1);
    assert_int_equal(e.ids[0], id);
    assert_int_equal(st->total, 2);
    assert_int_equal(st->active, 1);

    /* stream-driven: CLOSED set by stream */
    int dummy;
    g->tcp = (struct bf_tcp_session *)(void *)&dummy;
    bf_flow_set_state(t, g, BF_FLOW_CLOSED);
    uint64_t gid = g->flow_id;
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN | BF_TH_ACK, T0 + 6); /* not a plain SYN */
    assert_int_equal(bf_flow_handle_packet(t, &p)->flow_id, gid);
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN, T0 + 7);
    bf_flow *h = bf_flow_handle_packet(t, &p);
    assert_int_not_equal(h->flow_id, gid);
    assert_int_equal(st->tcp_reuse, 2);

    /* RST both ways without stream (flags say finished); h is not used
     * after the next handle_packet (its slot may be reused) */
    uint64_t hid = h->flow_id;
    tcp4(&p, S, C, 80, 1000, BF_TH_RST, T0 + 8);
    bf_flow_handle_packet(t, &p);
    tcp4(&p, C, S, 1000, 80, BF_TH_SYN, T0 + 9);
    assert_int_not_equal(bf_flow_handle_packet(t, &p)->flow_id, hid);
    assert_int_equal(st->tcp_reuse, 3);
    bf_flow_table_free(t);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_flow_ids(void **state)
{
    (void)state;
    const uint32_t N = 50000;
    uint64_t *ids = malloc(2 * N * sizeof *ids);
    assert_non_null(ids);
    uint32_t n = 0;
    for (uint32_t w = 0; w < 2; w++) {
        bf_flow_cfg c;
        bf_flow_cfg_default(&c);
        c.worker_id = w;
        bf_flow_table *t = bf_flow_table_new(&c, NULL, NULL);
        bf_packet p;
        for (uint32_t i = 0; i < N; i++) {
            udp4(&p, i, 7, 1, 2, T0);
            bf_flow *f = bf_flow_handle_packet(t, &p);
            assert_non_null(f);
            assert_true(f->flow_id > 0);
            assert_true(f->flow_id < (1ULL << 53));
            ids[n++] = f->flow_id;
        }
        bf_flow_table_free(t);
    }
    qsort(ids, n, sizeof *ids, cmp_u64);
    for (uint32_t i = 1; i < n; i++)
        assert_true(ids[i] != ids[i - 1]);
    free(ids);
}

static void test_no_flow(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    udp4(&p, 1, 2, 3, 4, T0);
    p.ipver = 0;
    assert_null(bf_flow_handle_packet(t, &p));
    assert_int_equal(bf_flow_hash_packet(&p), 0);
    udp4(&p, 1, 2, 3, 4, T0);
    p.flags = BF_PKT_INVALID;
    assert_null(bf_flow_handle_packet(t, &p));
    udp4(&p, 1, 2, 3, 4, T0);
    p.flags = BF_PKT_FRAGMENT;
    assert_null(bf_flow_handle_packet(t, &p));
    const bf_flow_stats *st = bf_flow_table_stats(t);
    assert_int_equal(st->total, 0);
    assert_int_equal(st->memcap_drops, 0);
    /* a reassembled datagram does get its flow */
    udp4(&p, 1, 2, 3, 4, T0);
    p.flags = BF_PKT_FRAGMENT | BF_PKT_REASSEMBLED;
    assert_non_null(bf_flow_handle_packet(t, &p));
    bf_flow_table_free(t);
}

static void test_hash_symmetric(void **state)
{
    (void)state;
    bf_packet p, q;
    uint32_t x = 12345;
    for (int i = 0; i < 10000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t s = x, d = x * 2654435761u;
        uint16_t sp = (uint16_t)(x >> 7), dp = (uint16_t)(x >> 19);
        if (i % 3 == 0) {
            s = d; /* same address both ends */
        }
        if (i % 2) {
            udp4(&p, s, d, sp, dp, T0);
            udp4(&q, d, s, dp, sp, T0);
        } else {
            pkt(&p, 6, 6, a6((uint16_t)s, (uint16_t)d), a6((uint16_t)d, (uint16_t)s), sp, dp, 0, T0, 60);
            pkt(&q, 6, 6, a6((uint16_t)d, (uint16_t)s), a6((uint16_t)s, (uint16_t)d), dp, sp, 0, T0, 60);
        }
        assert_int_equal(bf_flow_hash_packet(&p), bf_flow_hash_packet(&q));
        q.vlan_cnt = 1;
        q.vlan[0] = 5;
        assert_int_not_equal(bf_flow_hash_packet(&p), bf_flow_hash_packet(&q));
    }
}

static void test_shutdown_order(void **state)
{
    (void)state;
    ended e;
    bf_flow_table *t = mk_table(&e, 0);
    bf_packet p;
    /* starts out of order across classes */
    static const uint64_t starts[] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        if (i % 2)
            tcp4(&p, (uint32_t)i, 99, 1, 2, BF_TH_SYN, T0 + starts[i]);
        else
            udp4(&p, (uint32_t)i, 99, 1, 2, T0 + starts[i]);
        bf_flow_handle_packet(t, &p);
    }
    bf_flow_flush_all(t);
    assert_int_equal(e.n[BF_FLOW_END_SHUTDOWN], 5);
    for (int i = 1; i < 5; i++)
        assert_true(e.starts[i] > e.starts[i - 1]);
    const bf_flow_stats *st = bf_flow_table_stats(t);
    assert_int_equal(st->active, 0);
    assert_int_equal(st->memuse, 0);
    /* the table is still usable */
    udp4(&p, 1, 2, 3, 4, T0 + 100);
    assert_non_null(bf_flow_handle_packet(t, &p));
    bf_flow_table_free(t);
    assert_int_equal(e.n[BF_FLOW_END_SHUTDOWN], 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_both_directions),
        cmocka_unit_test(test_udp_state_and_ipv6),
        cmocka_unit_test(test_tcp_stream_driven),
        cmocka_unit_test(test_tcp_auto_close),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_icmp_echo),
        cmocka_unit_test(test_synack_first),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_memcap_flood),
        cmocka_unit_test(test_memcap_drop),
        cmocka_unit_test(test_tcp_reuse),
        cmocka_unit_test(test_flow_ids),
        cmocka_unit_test(test_no_flow),
        cmocka_unit_test(test_hash_symmetric),
        cmocka_unit_test(test_shutdown_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
