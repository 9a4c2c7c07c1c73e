/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/test_defrag.c: IPv4/IPv6 reassembly: in order, out of order,
 * overlaps (first wins + event), timeouts, memcap, max_frags, too large. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/hash.h"
#include "decode/decode.h"
#include "pktbuild.h"

static bf_decode_cfg dcfg;
static bf_decode_stats dst;
static bf_defrag_stats fst;
static bf_defrag_cfg fcfg;

static const uint32_t A4 = IP(10, 0, 0, 1), B4 = IP(10, 0, 0, 2);

/* The whole datagram: IPv4/UDP with a payload of len bytes (pattern seed). */
static uint8_t dgram[70000];
static size_t dgram_len;
static uint8_t frames[64][2048];
static size_t frame_len[64];

static size_t mk_dgram4(size_t len, uint8_t seed)
{
    size_t n = w_ip4(dgram, 17, A4, B4);
    uint8_t *l4 = dgram + n;
    n += w_udp(l4, 4444, 5555);
    for (size_t i = 0; i < len; i++)
        dgram[n + i] = (uint8_t)(seed + i * 13);
    n += len;
    fin_ip4(dgram, n, l4, 17);
    dgram_len = n;
    return n;
}

/* Ethernet frame k holding bytes [off, off+len) of the datagram's data. */
static void frag4(int k, size_t off, size_t len, bool mf)
{
    uint8_t *o = frames[k];
    size_t n = w_eth(o, 0x0800);
    memcpy(o + n, dgram, 20);
    w16(o + n + 6, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
    memcpy(o + n + 20, dgram + 20 + off, len);
    fin_ip4(o + n, 20 + len, NULL, 17);
    frame_len[k] = n + 20 + len;
}

static void decode_frame(bf_packet *p, int k, bf_ts ts)
{
    memset(p, 0, sizeof *p);
    p->data = frames[k];
    p->caplen = p->wirelen = (uint32_t)frame_len[k];
    p->linktype = BF_LINK_ETHERNET;
    p->ts = ts;
    p->pcap_cnt = (uint64_t)k + 1;
    bf_decode(&dcfg, &dst, p);
}

/* feeds frames in the given order; returns the index at which reassembly completed, or -1 */
static int feed(bf_defrag *d, const int *order, int n, bf_packet *out, bf_ts ts)
{
    int done = -1;
    for (int i = 0; i < n; i++) {
        bf_packet p;
        decode_frame(&p, order[i], ts);
        assert_true(p.flags & BF_PKT_FRAGMENT);
        if (bf_defrag_packet(d, &dcfg, &dst, &fst, &p, out)) {
            assert_int_equal(done, -1);
            done = i;
            assert_int_equal(bf_decode_dispatch_hash(p.data, p.caplen, p.linktype),
                             bf_decode_dispatch_hash(out->data, out->caplen, out->linktype));
            assert_int_equal(bf_decode_packet_hash(out), bf_decode_packet_hash(&p));
        }
    }
    return done;
}

static void check_out4(const bf_packet *out, size_t plen)
{
    assert_true(out->flags & BF_PKT_REASSEMBLED);
    assert_false(out->flags & (BF_PKT_INVALID | BF_PKT_FRAGMENT | BF_PKT_IPV4_CSUM_BAD | BF_PKT_L4_CSUM_BAD));
    assert_int_equal(out->ipver, 4);
    assert_int_equal(out->proto, 17);
    assert_int_equal(out->sp, 4444);
    assert_int_equal(out->dp, 5555);
    assert_int_equal(out->payload_len, plen);
    assert_int_equal(out->caplen, dgram_len);
    assert_memory_equal(out->data + 20, dgram + 20, dgram_len - 20);
}

static int setup(void **state)
{
    (void)state;
    bf_decode_cfg_default(&dcfg);
    bf_defrag_cfg_default(&fcfg);
    memset(&dst, 0, sizeof dst);
    memset(&fst, 0, sizeof fst);
    return 0;
}

static void test_in_order(void **state)
{
    (void)state;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(1000, 1); /* 1008 bytes of data: 3 fragments */
    frag4(0, 0, 400, true);
    frag4(1, 400, 400, true);
    frag4(2, 800, 208, false);
    bf_packet out;
    int order[] = {0, 1, 2};
    assert_int_equal(feed(d, order, 3, &out, 1000), 2);
    check_out4(&out, 1000);
    assert_int_equal(out.pcap_cnt, 3);
    assert_int_equal(out.ts, 1000);
    assert_int_equal(fst.ipv4_fragments, 3);
    assert_int_equal(fst.ipv4_reassembled, 1);
    assert_int_equal(fst.memuse, 0);
    assert_int_equal(out.nevents, 0);
    bf_defrag_free(d);
}

static void test_out_of_order(void **state)
{
    (void)state;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(3000, 7);
    for (int k = 0; k < 8; k++)
        frag4(k, (size_t)k * 376, k == 7 ? 3008 - 7 * 376 : 376, k != 7);
    int orders[3][8] = {{7, 6, 5, 4, 3, 2, 1, 0}, {3, 7, 0, 5, 1, 6, 2, 4}, {0, 2, 4, 6, 7, 1, 3, 5}};
    for (int o = 0; o < 3; o++) {
        bf_packet out;
        assert_int_equal(feed(d, orders[o], 8, &out, 1000), 7);
        check_out4(&out, 3000);
        assert_int_equal(out.nevents, 0);
    }
    assert_int_equal(fst.ipv4_reassembled, 3);
    assert_int_equal(fst.overlaps, 0);
    bf_defrag_free(d);
}

static void test_overlap(void **state)
{
    (void)state;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(200, 3); /* 208 bytes */
    frag4(0, 0, 104, true);
    frag4(1, 96, 112, false);
    /* same bytes overlapping: no event */
    int order[] = {0, 1};
    bf_packet out;
    assert_int_equal(feed(d, order, 2, &out, 1), 1);
    check_out4(&out, 200);
    assert_int_equal(out.nevents, 0);
    /* differing overlap: the first bytes win and the event is raised */
    frame_len[1] = frame_len[1];
    frames[1][14 + 20] ^= 0xff; /* byte 96, already given by fragment 0 */
    assert_int_equal(feed(d, order, 2, &out, 2), 1);
    check_out4(&out, 200);
    assert_true(bf_packet_has_event(&out, BF_EV_IPV4_FRAG_OVERLAP));
    assert_int_equal(fst.overlaps, 1);
    assert_int_equal(dst.events[BF_EV_IPV4_FRAG_OVERLAP], 1);
    /* reversed: fragment 1 first, so its (altered) byte wins */
    int rev[] = {1, 0};
    assert_int_equal(feed(d, rev, 2, &out, 3), 1);
    assert_true(bf_packet_has_event(&out, BF_EV_IPV4_FRAG_OVERLAP));
    assert_int_equal(out.data[20 + 96], dgram[20 + 96] ^ 0xff);
    /* a fragment inside another one, and a duplicate */
    mk_dgram4(200, 3);
    frag4(0, 0, 208, true);   /* everything but "last" */
    frag4(1, 8, 16, true);
    frag4(2, 0, 208, true);
    frag4(3, 208, 0, false);  /* empty last fragment */
    int o3[] = {0, 1, 2, 3};
    assert_int_equal(feed(d, o3, 4, &out, 4), 3);
    check_out4(&out, 200);
    assert_int_equal(out.nevents, 0);
    bf_defrag_free(d);
}

static void test_timeout(void **state)
{
    (void)state;
    fcfg.timeout = 30 * BF_SEC;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(200, 3);
    frag4(0, 0, 104, true);
    frag4(1, 104, 104, false);
    bf_packet p, out;
    decode_frame(&p, 0, 1 * BF_SEC);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    assert_true(fst.memuse > 0);
    /* lazily: the second half after the timeout starts a new datagram */
    decode_frame(&p, 1, 40 * BF_SEC);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    assert_int_equal(fst.timeouts, 1);
    /* by bf_defrag_timeout */
    bf_defrag_timeout(d, &fst, 60 * BF_SEC);
    assert_int_equal(fst.timeouts, 1);
    bf_defrag_timeout(d, &fst, 71 * BF_SEC);
    assert_int_equal(fst.timeouts, 2);
    assert_int_equal(fst.memuse, 0);
    /* within the timeout it completes */
    decode_frame(&p, 0, 100 * BF_SEC);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    decode_frame(&p, 1, 129 * BF_SEC);
    assert_true(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    check_out4(&out, 200);
    bf_defrag_free(d);
}

static void test_memcap(void **state)
{
    (void)state;
    fcfg.memcap = 64 * 1024;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(1400, 3);
    bf_packet p, out;
    /* many half datagrams with distinct ids */
    int refused = 0;
    for (int i = 0; i < 200; i++) {
        frag4(0, 0, 704, true);
        w16(frames[0] + 14 + 4, (uint16_t)i);
        fin_ip4(frames[0] + 14, 20 + 704, NULL, 17);
        decode_frame(&p, 0, BF_SEC);
        assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
        if (bf_packet_has_event(&p, BF_EV_IPV4_FRAG_IGNORED))
            refused++;
        assert_true(fst.memuse <= fcfg.memcap);
    }
    assert_true(refused > 0);
    assert_true(fst.memcap_drops > 0);
    /* after the timeout, memory is reclaimed when needed */
    frag4(0, 0, 704, true);
    w16(frames[0] + 14 + 4, 999);
    fin_ip4(frames[0] + 14, 20 + 704, NULL, 17);
    frag4(1, 704, 1408 - 704, false);
    w16(frames[1] + 14 + 4, 999);
    fin_ip4(frames[1] + 14, 20 + 704, NULL, 17);
    decode_frame(&p, 0, 100 * BF_SEC);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    decode_frame(&p, 1, 100 * BF_SEC);
    assert_true(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    assert_true(fst.timeouts > 0);
    bf_defrag_free(d);
}

static void test_max_frags(void **state)
{
    (void)state;
    fcfg.max_frags = 4;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(200, 3);
    for (int k = 0; k < 6; k++)
        frag4(k, (size_t)k * 32, k == 5 ? 208 - 160 : 32, k != 5);
    int order[] = {0, 1, 2, 3, 4, 5};
    bf_packet out;
    assert_int_equal(feed(d, order, 6, &out, 1), -1);
    assert_int_equal(fst.max_frags_reached, 2);
    assert_int_equal(dst.events[BF_EV_IPV4_FRAG_IGNORED], 2);
    bf_defrag_free(d);
}

static void test_too_large(void **state)
{
    (void)state;
    bf_defrag *d = bf_defrag_new(&fcfg);
    mk_dgram4(200, 3);
    frag4(0, 65528, 100, false);
    bf_packet p, out;
    decode_frame(&p, 0, 1);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_FRAG_PKT_TOO_LARGE));
    /* the biggest legal datagram reassembles */
    size_t plen = 65535 - 28;
    mk_dgram4(plen, 9);
    size_t data = plen + 8, off = 0;
    bf_packet o2;
    int k = 0;
    bool done = false;
    while (off < data) {
        size_t l = data - off > 1480 ? 1480 : data - off;
        frag4(0, off, l, off + l < data);
        decode_frame(&p, 0, 1);
        done = bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &o2);
        off += l;
        k++;
    }
    assert_true(done);
    check_out4(&o2, plen);
    bf_defrag_free(d);
}

/* frame k: IPv6 / HBH / FH carrying [off, off+len) of whole's data (after
 * its 48 bytes of unfragmentable headers) */
static void frag6(int k, const uint8_t *whole, size_t off, size_t len, bool mf, bool flip)
{
    uint8_t *o = frames[k];
    size_t m = w_eth(o, 0x86dd);
    memcpy(o + m, whole, 48);
    o[m + 40] = 44; /* HBH next header: fragment */
    uint8_t fh[8] = {17, 0, 0, 0, 0, 0, 0x12, 0x34};
    w16(fh + 2, (uint16_t)(off | (mf ? 1 : 0)));
    memcpy(o + m + 48, fh, 8);
    if (off + len <= 1008)
        memcpy(o + m + 56, whole + 48 + off, len);
    else
        memset(o + m + 56, 0, len);
    if (flip)
        o[m + 56] ^= 1;
    w16(o + m + 4, (uint16_t)(16 + len));
    frame_len[k] = m + 56 + len;
}

/* IPv6: unfragmentable hop-by-hop header kept, fragment header dropped */
static void test_ipv6(void **state)
{
    (void)state;
    bf_defrag *d = bf_defrag_new(&fcfg);
    /* the datagram as it would be unfragmented: IPv6 / HBH / UDP */
    uint8_t whole[1200];
    size_t n = w_ip6(whole, 0, V6A, V6B);
    uint8_t hbh[8] = {17, 0, 5, 2, 0, 0, 0, 0};
    memcpy(whole + n, hbh, 8);
    n += 8;
    uint8_t *l4 = whole + n;
    n += w_udp(l4, 4444, 5555);
    for (int i = 0; i < 1000; i++)
        whole[n++] = (uint8_t)(i * 7);
    fin_ip6(whole, n, l4, 17);
    size_t offs[3] = {0, 504, 1000}, lens[3] = {504, 496, 8};
    for (int k = 0; k < 3; k++)
        frag6(k, whole, offs[k], lens[k], k < 2, false);
    int order[] = {2, 0, 1};
    bf_packet out;
    assert_int_equal(feed(d, order, 3, &out, 5), 2);
    assert_true(out.flags & BF_PKT_REASSEMBLED);
    assert_false(out.flags & (BF_PKT_INVALID | BF_PKT_FRAGMENT | BF_PKT_L4_CSUM_BAD));
    assert_int_equal(out.ipver, 6);
    assert_int_equal(out.proto, 17);
    assert_int_equal(out.dp, 5555);
    assert_int_equal(out.payload_len, 1000);
    assert_int_equal(out.caplen, n);
    assert_memory_equal(out.data, whole, n);
    assert_int_equal(out.nevents, 0);
    assert_int_equal(fst.ipv6_reassembled, 1);
    assert_int_equal(fst.ipv6_fragments, 3);
    /* overlap with different data: first wins, event */
    frag6(1, whole, 496, 504, true, true);
    int o2[] = {0, 1, 2};
    assert_int_equal(feed(d, o2, 3, &out, 6), 2);
    assert_memory_equal(out.data, whole, n);
    assert_true(bf_packet_has_event(&out, BF_EV_IPV6_FRAG_OVERLAP));
    /* too large */
    frag6(0, whole, 65528, 8, true, false);
    bf_packet p;
    decode_frame(&p, 0, 7);
    assert_false(bf_defrag_packet(d, &dcfg, &dst, &fst, &p, &out));
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_FRAG_PKT_TOO_LARGE));
    bf_defrag_free(d);
}

int main(void)
{
    bf_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_in_order, setup),
        cmocka_unit_test_setup(test_out_of_order, setup),
        cmocka_unit_test_setup(test_overlap, setup),
        cmocka_unit_test_setup(test_timeout, setup),
        cmocka_unit_test_setup(test_memcap, setup),
        cmocka_unit_test_setup(test_max_frags, setup),
        cmocka_unit_test_setup(test_too_large, setup),
        cmocka_unit_test_setup(test_ipv6, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
