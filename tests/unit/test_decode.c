/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/test_decode.c: bf_decode over hand-built packets: every link
 * type, VLAN stacks, IPv4 options, IPv6 extension headers, TCP options,
 * ICMP, tunnels, checksums, malformed variants and their events, and the
 * dispatch hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/hash.h"
#include "decode/decode.h"
#include "pktbuild.h"

static bf_decode_cfg cfg;
static bf_decode_stats st;
static uint8_t buf[4096];

static void dec_ex(bf_packet *p, const uint8_t *d, size_t n, uint16_t lt, uint32_t wirelen)
{
    memset(p, 0, sizeof *p);
    p->data = d;
    p->caplen = (uint32_t)n;
    p->wirelen = wirelen;
    p->linktype = lt;
    p->pcap_cnt = 1;
    bf_decode(&cfg, &st, p);
}
static void dec(bf_packet *p, const uint8_t *d, size_t n, uint16_t lt) { dec_ex(p, d, n, lt, (uint32_t)n); }

static int setup(void **state)
{
    (void)state;
    bf_decode_cfg_default(&cfg);
    memset(&st, 0, sizeof st);
    memset(buf, 0, sizeof buf);
    return 0;
}

static const uint32_t A4 = IP(10, 0, 0, 1), B4 = IP(192, 168, 1, 2);

/* Ethernet / IPv4 / TCP with the common options and a payload */
static size_t mk_eth4_tcp(uint8_t *o, const uint8_t *opt, size_t optlen, const char *pl)
{
    size_t n = w_eth(o, 0x0800);
    uint8_t *ip = o + n;
    n += w_ip4(ip, 6, A4, B4);
    uint8_t *l4 = o + n;
    n += w_tcp(l4, 40000, 80, 1000, 2000, BF_TH_SYN | BF_TH_ACK, opt, optlen);
    size_t pl_len = pl ? strlen(pl) : 0;
    if (pl_len)
        memcpy(o + n, pl, pl_len);
    n += pl_len;
    fin_ip4(ip, (size_t)(o + n - ip), l4, 6);
    return n;
}

static void test_eth_ipv4_tcp(void **state)
{
    (void)state;
    static const uint8_t opt[] = {2, 4, 0x05, 0xb4,          /* MSS 1460 */
                                  1, 3, 3, 7,                /* NOP, wscale 7 */
                                  4, 2,                      /* SACK permitted */
                                  8, 10, 0, 0, 0, 1, 0, 0, 0, 2, /* TS 1/2 */
                                  5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, /* 2 SACK blocks */
                                  34, 2 /* TFO cookie request */};
    size_t n = mk_eth4_tcp(buf, opt, sizeof opt, "hello");
    bf_packet p;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD | BF_PKT_IPV4_CSUM_BAD), 0);
    assert_ptr_equal(p.eth, buf);
    assert_int_equal(p.ipver, 4);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.ip_id, 0x1234);
    assert_int_equal(p.src.b[0], 10);
    assert_int_equal(p.dst.b[3], 2);
    assert_int_equal(p.src.w[1], 0);
    assert_int_equal(p.sp, 40000);
    assert_int_equal(p.dp, 80);
    assert_int_equal(p.tcp_seq, 1000);
    assert_int_equal(p.tcp_ack, 2000);
    assert_int_equal(p.tcp_flags, BF_TH_SYN | BF_TH_ACK);
    assert_int_equal(p.tcp_hlen, 20 + sizeof opt);
    assert_int_equal(p.tcp_mss, 1460);
    assert_int_equal(p.tcp_wscale, 7);
    assert_int_equal(p.tcp_sack_cnt, 2);
    assert_int_equal(p.tcp_tsval, 1);
    assert_int_equal(p.tcp_tsecr, 2);
    uint32_t want = BF_PKT_TCP_OPT_MSS | BF_PKT_TCP_OPT_WSCALE | BF_PKT_TCP_OPT_SACKOK | BF_PKT_TCP_OPT_TS |
                    BF_PKT_TCP_OPT_SACK | BF_PKT_TCP_OPT_TFO;
    assert_int_equal(p.flags & want, want);
    assert_int_equal(p.payload_len, 5);
    assert_memory_equal(p.payload, "hello", 5);
    assert_int_equal(p.nevents, 0);
    assert_int_equal(st.tcp, 1);
    assert_int_equal(st.ethernet, 1);
    assert_int_equal(st.ipv4, 1);
    assert_int_equal(bf_decode_packet_hash(&p), bf_decode_dispatch_hash(buf, (uint32_t)n, BF_LINK_ETHERNET));
}

static void test_tcp_options_bad(void **state)
{
    (void)state;
    bf_packet p;
    static const uint8_t dup[] = {2, 4, 1, 0, 2, 4, 1, 0};
    size_t n = mk_eth4_tcp(buf, dup, sizeof dup, NULL);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_OPT_DUPLICATE));
    assert_int_equal(p.tcp_mss, 256);
    static const uint8_t badlen[] = {3, 4, 1, 0};     /* wscale of length 4 */
    n = mk_eth4_tcp(buf, badlen, sizeof badlen, NULL);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_OPT_INVALID_LEN));
    assert_false(p.flags & BF_PKT_TCP_OPT_WSCALE);
    static const uint8_t overrun[] = {1, 1, 8, 40};   /* length past the header */
    n = mk_eth4_tcp(buf, overrun, sizeof overrun, NULL);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_OPT_INVALID_LEN));
    assert_false(p.flags & BF_PKT_INVALID);
    static const uint8_t sack_bad[] = {5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    n = mk_eth4_tcp(buf, sack_bad, sizeof sack_bad, NULL);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_OPT_INVALID_LEN));
}

static void test_tcp_malformed(void **state)
{
    (void)state;
    bf_packet p;
    size_t n = mk_eth4_tcp(buf, NULL, 0, "xyz");
    buf[14 + 20 + 12] = 0x40; /* data offset 16 */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_HLEN_TOO_SMALL));
    assert_true(p.flags & BF_PKT_INVALID);
    n = mk_eth4_tcp(buf, NULL, 0, "xyz");
    buf[14 + 20 + 12] = 0xf0; /* data offset 60 > 23 */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_PKT_TOO_SMALL));
    /* 10 bytes of TCP only */
    n = w_eth(buf, 0x0800);
    n += w_ip4(buf + n, 6, A4, B4);
    n += 10;
    fin_ip4(buf + 14, n - 14, NULL, 6);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_TCP_PKT_TOO_SMALL));
    assert_int_equal(st.tcp, 0);
}

static void test_checksums(void **state)
{
    (void)state;
    bf_packet p;
    size_t n = mk_eth4_tcp(buf, NULL, 0, "odd");
    buf[n - 1] ^= 0x55;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(p.flags & BF_PKT_L4_CSUM_BAD);
    assert_false(p.flags & BF_PKT_IPV4_CSUM_BAD);
    assert_int_equal(st.csum_bad_tcp, 1);
    buf[14 + 8] ^= 1; /* TTL */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(p.flags & BF_PKT_IPV4_CSUM_BAD);
    assert_int_equal(st.csum_bad_ipv4, 1);
    cfg.checksum_validation = false;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_false(p.flags & (BF_PKT_IPV4_CSUM_BAD | BF_PKT_L4_CSUM_BAD));
    cfg.checksum_validation = true;

    /* every payload length 0..200 with its correct checksum is accepted */
    for (int len = 0; len < 200; len++) {
        char pl[256];
        memset(pl, 'a' + len % 26, (size_t)len);
        pl[len] = 0;
        for (int i = 0; i < len; i++)
            pl[i] = (char)(0x21 + (i * 7 + len) % 90);
        n = mk_eth4_tcp(buf, NULL, 0, pl);
        dec(&p, buf, n, BF_LINK_ETHERNET);
        assert_false(p.flags & (BF_PKT_IPV4_CSUM_BAD | BF_PKT_L4_CSUM_BAD));
        if (len) {
            buf[n - 1 - (size_t)(len / 2)] ^= 0x80;
            dec(&p, buf, n, BF_LINK_ETHERNET);
            assert_true(p.flags & BF_PKT_L4_CSUM_BAD);
        }
    }

    /* UDP over IPv4: zero checksum means none */
    n = w_eth(buf, 0x0800);
    uint8_t *ip = buf + n;
    n += w_ip4(ip, 17, A4, B4);
    uint8_t *l4 = buf + n;
    n += w_udp(l4, 53, 1053);
    memcpy(buf + n, "abcde", 5);
    n += 5;
    fin_ip4(ip, (size_t)(buf + n - ip), l4, 17);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_false(p.flags & BF_PKT_L4_CSUM_BAD);
    l4[6] = l4[7] = 0;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_false(p.flags & BF_PKT_L4_CSUM_BAD);
    l4[6] = 0x12;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(p.flags & BF_PKT_L4_CSUM_BAD);
    assert_int_equal(st.csum_bad_udp, 1);
}

static void test_ethernet_padding(void **state)
{
    (void)state;
    size_t n = w_eth(buf, 0x0800);
    uint8_t *ip = buf + n;
    n += w_ip4(ip, 17, A4, B4);
    uint8_t *l4 = buf + n;
    n += w_udp(l4, 1000, 2000);
    buf[n++] = 'Z';
    fin_ip4(ip, (size_t)(buf + n - ip), l4, 17);
    memset(buf + n, 0xee, 60 - n);
    bf_packet p;
    dec(&p, buf, 60, BF_LINK_ETHERNET);
    assert_int_equal(p.flags & BF_PKT_INVALID, 0);
    assert_int_equal(p.l3_len, 29);
    assert_int_equal(p.payload_len, 1);
    assert_int_equal(p.payload[0], 'Z');
    assert_false(p.flags & BF_PKT_L4_CSUM_BAD);
}

static void test_vlan(void **state)
{
    (void)state;
    static const uint16_t tp[3] = {0x88a8, 0x8100, 0x8100};
    for (int tags = 1; tags <= 4; tags++) {
        size_t n = w_eth(buf, tags == 4 ? 0x9100 : tp[0]);
        for (int i = 0; i < tags; i++)
            n += w_tag(buf + n, (uint16_t)(0x2000 | (100 + i)), i == tags - 1 ? 0x0800 : 0x8100);
        uint8_t *ip = buf + n;
        n += w_ip4(ip, 17, A4, B4);
        uint8_t *l4 = buf + n;
        n += w_udp(l4, 1, 2);
        fin_ip4(ip, (size_t)(buf + n - ip), l4, 17);
        bf_packet p;
        memset(&st, 0, sizeof st);
        dec(&p, buf, n, BF_LINK_ETHERNET);
        if (tags <= 3) {
            assert_int_equal(p.vlan_cnt, tags);
            for (int i = 0; i < tags; i++)
                assert_int_equal(p.vlan[i], 100 + i);
            assert_int_equal(p.ipver, 4);
            assert_int_equal(p.dp, 2);
            assert_int_equal(st.vlan, 1);
            assert_int_equal(st.vlan_qinq, tags >= 2);
            assert_int_equal(st.vlan_qinqinq, tags >= 3);
        } else {
            assert_true(bf_packet_has_event(&p, BF_EV_VLAN_TOO_MANY_LAYERS));
            assert_true(p.flags & BF_PKT_INVALID);
        }
    }
    /* truncated tag, unknown inner type */
    size_t n = w_eth(buf, 0x8100);
    bf_packet p;
    dec(&p, buf, n + 2, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_VLAN_HEADER_TOO_SMALL));
    n += w_tag(buf + n, 5, 0x1234);
    dec(&p, buf, n + 10, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_VLAN_UNKNOWN_TYPE));
    /* short Ethernet and unknown ethertype */
    dec(&p, buf, 13, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_PKT_TOO_SMALL_ETH));
    assert_true(bf_packet_has_event(&p, BF_EV_ETHERNET_PKT_TOO_SMALL));
    w_eth(buf, 0x4321);
    dec(&p, buf, 20, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_ETHERNET_UNKNOWN_ETHERTYPE));
    w_eth(buf, 0x0806); /* ARP: known, not decoded, no event */
    dec(&p, buf, 42, BF_LINK_ETHERNET);
    assert_int_equal(p.nevents, 0);
    assert_int_equal(p.ipver, 0);
}

/* IPv4/UDP datagram at o, returns its length */
static size_t mk_ip4_udp(uint8_t *o, uint16_t sp, uint16_t dp, const char *pl)
{
    size_t n = w_ip4(o, 17, A4, B4);
    uint8_t *l4 = o + n;
    n += w_udp(l4, sp, dp);
    size_t l = strlen(pl);
    memcpy(o + n, pl, l);
    n += l;
    fin_ip4(o, n, l4, 17);
    return n;
}

static size_t mk_ip6_udp(uint8_t *o, uint16_t sp, uint16_t dp, const char *pl)
{
    size_t n = w_ip6(o, 17, V6A, V6B);
    uint8_t *l4 = o + n;
    n += w_udp(l4, sp, dp);
    size_t l = strlen(pl);
    memcpy(o + n, pl, l);
    n += l;
    fin_ip6(o, n, l4, 17);
    return n;
}

static void check_udp4(const bf_packet *p)
{
    assert_int_equal(p->flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD | BF_PKT_IPV4_CSUM_BAD), 0);
    assert_int_equal(p->ipver, 4);
    assert_int_equal(p->proto, 17);
    assert_int_equal(p->sp, 1111);
    assert_int_equal(p->dp, 2222);
    assert_int_equal(p->payload_len, 4);
    assert_memory_equal(p->payload, "data", 4);
}
static void check_udp6(const bf_packet *p)
{
    assert_int_equal(p->flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_int_equal(p->ipver, 6);
    assert_int_equal(p->proto, 17);
    assert_memory_equal(p->src.b, V6A, 16);
    assert_int_equal(p->sp, 1111);
    assert_int_equal(p->payload_len, 4);
}

static void test_link_types(void **state)
{
    (void)state;
    bf_packet p;
    uint8_t ip4[64], ip6[128];
    size_t n4 = mk_ip4_udp(ip4, 1111, 2222, "data");
    size_t n6 = mk_ip6_udp(ip6, 1111, 2222, "data");

    /* SLL: 16-byte header, protocol at 14 */
    memset(buf, 0, 16);
    w16(buf + 14, 0x0800);
    memcpy(buf + 16, ip4, n4);
    dec(&p, buf, 16 + n4, BF_LINK_SLL);
    check_udp4(&p);
    assert_null(p.eth);
    dec(&p, buf, 10, BF_LINK_SLL);
    assert_true(bf_packet_has_event(&p, BF_EV_SLL_PKT_TOO_SMALL));
    /* SLL2: 20-byte header, protocol at 0 */
    memset(buf, 0, 20);
    w16(buf, 0x86dd);
    memcpy(buf + 20, ip6, n6);
    dec(&p, buf, 20 + n6, BF_LINK_SLL2);
    check_udp6(&p);
    assert_int_equal(st.sll2, 1);
    /* BSD null, host order either way, and the AF_INET6 variants */
    static const uint32_t afs6[] = {10, 24, 28, 30};
    for (int order = 0; order < 2; order++) {
        memset(buf, 0, 4);
        buf[order ? 3 : 0] = 2;
        memcpy(buf + 4, ip4, n4);
        dec(&p, buf, 4 + n4, BF_LINK_NULL);
        check_udp4(&p);
        dec(&p, buf, 4 + n4, BF_LINK_LOOP);
        check_udp4(&p);
        for (size_t i = 0; i < BF_ARRAY_LEN(afs6); i++) {
            memset(buf, 0, 4);
            buf[order ? 3 : 0] = (uint8_t)afs6[i];
            memcpy(buf + 4, ip6, n6);
            dec(&p, buf, 4 + n6, order ? BF_LINK_LOOP : BF_LINK_NULL);
            check_udp6(&p);
        }
    }
    buf[0] = 99;
    buf[3] = 0;
    dec(&p, buf, 4 + n6, BF_LINK_NULL);
    assert_true(bf_packet_has_event(&p, BF_EV_LTNULL_UNSUPPORTED_TYPE));
    dec(&p, buf, 3, BF_LINK_NULL);
    assert_true(bf_packet_has_event(&p, BF_EV_LTNULL_PKT_TOO_SMALL));
    /* raw variants */
    static const uint16_t raws[] = {BF_LINK_RAW, BF_LINK_DLT_RAW, BF_LINK_DLT_RAW2};
    for (size_t i = 0; i < BF_ARRAY_LEN(raws); i++) {
        dec(&p, ip4, n4, raws[i]);
        check_udp4(&p);
        dec(&p, ip6, n6, raws[i]);
        check_udp6(&p);
    }
    dec(&p, ip4, n4, BF_LINK_IPV4);
    check_udp4(&p);
    dec(&p, ip6, n6, BF_LINK_IPV6);
    check_udp6(&p);
    uint8_t bad[40] = {0x50};
    dec(&p, bad, sizeof bad, BF_LINK_RAW);
    assert_true(bf_packet_has_event(&p, BF_EV_IPRAW_INVALID_IP_VERSION));
    dec(&p, ip6, n6, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_WRONG_IP_VERSION));
    memset(ip4 + n4, 0, sizeof ip4 - n4);
    dec(&p, ip4, sizeof ip4, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_WRONG_IP_VERSION));
    /* unknown link type */
    dec(&p, ip4, n4, 147);
    assert_true(p.flags & BF_PKT_INVALID);
}

static void test_ipv4_malformed(void **state)
{
    (void)state;
    bf_packet p;
    uint8_t ip[64];
    size_t n = mk_ip4_udp(ip, 1111, 2222, "data");
    dec(&p, ip, 19, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_PKT_TOO_SMALL));
    ip[0] = 0x44;
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_HLEN_TOO_SMALL));
    ip[0] = 0x45;
    w16(ip + 2, 12);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_IPLEN_SMALLER_THAN_HLEN));
    n = mk_ip4_udp(ip, 1111, 2222, "data");
    dec(&p, ip, n - 1, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_TRUNC_PKT));
    assert_true(p.flags & BF_PKT_INVALID);
    assert_int_equal(p.proto, 0);
    /* cut by the snaplen: the event, but what is there is decoded */
    dec_ex(&p, ip, n - 1, BF_LINK_IPV4, (uint32_t)n);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_TRUNC_PKT));
    assert_false(p.flags & BF_PKT_INVALID);
    assert_int_equal(p.dp, 2222);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.l3_len, n - 1);
    assert_false(p.flags & BF_PKT_L4_CSUM_BAD); /* not checked when incomplete */
    /* UDP length field */
    n = mk_ip4_udp(ip, 1111, 2222, "data");
    w16(ip + 24, 4);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_UDP_LEN_INVALID));
    w16(ip + 24, 40);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_UDP_PKT_TOO_SMALL));
    w16(ip + 24, 10); /* shorter than the IP payload: bytes after it ignored */
    cfg.checksum_validation = false;
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_int_equal(p.payload_len, 2);
    cfg.checksum_validation = true;
    /* 5 bytes of UDP */
    n = w_ip4(ip, 17, A4, B4) + 5;
    fin_ip4(ip, n, NULL, 17);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_UDP_HLEN_TOO_SMALL));
    /* ICMPv6 carried by IPv4; unassigned protocol */
    n = w_ip4(ip, 58, A4, B4) + 8;
    fin_ip4(ip, n, NULL, 58);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_ICMPV6));
    n = w_ip4(ip, 200, A4, B4) + 8;
    fin_ip4(ip, n, NULL, 200);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_UNKNOWN_PROTOCOL));
    assert_int_equal(p.proto, 200);
    assert_int_equal(p.l4_len, 8);
}

static bf_packet dec_opts(const uint8_t *opt, size_t optlen)
{
    static uint8_t ip[128];
    size_t n = w_ip4o(ip, 17, A4, B4, opt, optlen);
    uint8_t *l4 = ip + n;
    n += w_udp(l4, 1, 2);
    fin_ip4(ip, n, l4, 17);
    bf_packet p;
    dec(&p, ip, n, BF_LINK_IPV4);
    return p;
}

static void test_ipv4_options(void **state)
{
    (void)state;
    static const uint8_t rr[] = {7, 7, 4, 0, 0, 0, 0, 1, 1, 1, 0, 0}; /* RR, NOPs, EOL pad */
    bf_packet p = dec_opts(rr, sizeof rr);
    assert_int_equal(p.nevents, 0);
    assert_int_equal(p.dp, 2);
    assert_int_equal(p.l3_hlen, 32);
    static const uint8_t ts[] = {68, 12, 5, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    p = dec_opts(ts, sizeof ts);
    assert_int_equal(p.nevents, 0);
    static const uint8_t ra[] = {148, 4, 0, 0};
    p = dec_opts(ra, sizeof ra);
    assert_int_equal(p.nevents, 0);
    static const uint8_t badlen[] = {148, 9, 0, 0};
    p = dec_opts(badlen, sizeof badlen);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_INVALID_LEN));
    assert_true(p.flags & BF_PKT_INVALID);
    static const uint8_t zerolen[] = {148, 0, 0, 0};
    p = dec_opts(zerolen, sizeof zerolen);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_INVALID_LEN));
    static const uint8_t sid_len[] = {136, 3, 0, 0};
    p = dec_opts(sid_len, sizeof sid_len);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_INVALID_LEN));
    static const uint8_t rr_ptr[] = {7, 7, 5, 0, 0, 0, 0, 0};
    p = dec_opts(rr_ptr, sizeof rr_ptr);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_MALFORMED));
    static const uint8_t unknown[] = {0x9e, 4, 0, 0};
    p = dec_opts(unknown, sizeof unknown);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_INVALID));
    assert_false(p.flags & BF_PKT_INVALID);
    assert_int_equal(p.dp, 2);
    static const uint8_t dupl[] = {148, 4, 0, 0, 148, 4, 0, 0};
    p = dec_opts(dupl, sizeof dupl);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_DUPLICATE));
    static const uint8_t eol_req[] = {1, 1, 1, 7};
    p = dec_opts(eol_req, sizeof eol_req);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_EOL_REQUIRED));
    static const uint8_t tsbad[] = {68, 8, 6, 0, 0, 0, 0, 0};
    p = dec_opts(tsbad, sizeof tsbad);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_OPT_MALFORMED));
}

static void test_ipv6_exthdrs(void **state)
{
    (void)state;
    bf_packet p;
    uint8_t ip[256];
    /* hop-by-hop (router alert) / routing type 2 / dest opts (PadN) / AH / UDP */
    size_t n = w_ip6(ip, 0, V6A, V6B);
    uint8_t hop[8] = {43, 0, 5, 2, 0, 0, 1, 0};
    memcpy(ip + n, hop, 8);
    n += 8;
    uint8_t rt[24] = {60, 2, 2, 1};
    memcpy(rt + 8, V6B, 16); /* final destination, as in the pseudo header */
    memcpy(ip + n, rt, 24);
    n += 24;
    uint8_t dst[8] = {51, 0, 0xc9 - 0xc9 + 0x1e, 4, 0, 0, 0, 0}; /* unknown opt 0x1e */
    memcpy(ip + n, dst, 8);
    n += 8;
    uint8_t ah[16] = {17, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(ip + n, ah, 16);
    n += 16;
    uint8_t *l4 = ip + n;
    n += w_udp(l4, 7, 9);
    fin_ip6(ip, n, l4, 17);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.l3_hlen, 40 + 8 + 24 + 8 + 16);
    assert_int_equal(p.dp, 9);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_DSTOPTS_UNKNOWN_OPT));
    assert_false(bf_packet_has_event(&p, BF_EV_IPV6_HOPOPTS_UNKNOWN_OPT));

    /* routing type 0, hop-by-hop of padding only, zero length PadN */
    n = w_ip6(ip, 0, V6A, V6B);
    uint8_t hop2[8] = {43, 0, 1, 0, 1, 2, 0, 0};
    memcpy(ip + n, hop2, 8);
    n += 8;
    uint8_t rt0[8] = {59, 0, 0, 0};
    memcpy(ip + n, rt0, 8);
    n += 8;
    fin_ip6(ip, n, NULL, 59);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_RH_TYPE_0));
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_HOPOPTS_ONLY_PADDING));
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_ZERO_LEN_PADN));
    assert_int_equal(p.proto, 59);
    /* data after the no-next-header */
    ip[n++] = 0xaa;
    fin_ip6(ip, n, NULL, 59);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_DATA_AFTER_NONE_HEADER));

    /* duplicated hop-by-hop, truncated ext header */
    n = w_ip6(ip, 0, V6A, V6B);
    uint8_t h[8] = {0, 0, 5, 2, 0, 0, 1, 0};
    memcpy(ip + n, h, 8);
    n += 8;
    h[0] = 59;
    memcpy(ip + n, h, 8);
    n += 8;
    fin_ip6(ip, n, NULL, 59);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_EXTHDR_DUPL_HH));
    ip[41] = 5; /* hop-by-hop claims 48 bytes */
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_TRUNC_EXTHDR));
    assert_true(p.flags & BF_PKT_INVALID);

    /* ESP stops decoding */
    n = w_ip6(ip, 50, V6A, V6B) + 16;
    fin_ip6(ip, n, NULL, 50);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_int_equal(p.proto, 50);
    assert_int_equal(p.l4_len, 16);
    assert_int_equal(p.nevents, 0);
    /* truncated */
    n = mk_ip6_udp(ip, 1, 2, "abc");
    dec(&p, ip, n - 1, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_TRUNC_PKT));
    dec(&p, ip, 39, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_PKT_TOO_SMALL));
    /* AH with reserved bits set */
    n = w_ip6(ip, 51, V6A, V6B);
    uint8_t ah2[12] = {59, 1, 0, 1};
    memcpy(ip + n, ah2, 12);
    n += 12;
    fin_ip6(ip, n, NULL, 59);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_EXTHDR_AH_RES_NOT_NULL));
    assert_int_equal(p.l3_hlen, 52);
}

static void test_fragments(void **state)
{
    (void)state;
    bf_packet p;
    uint8_t ip[128];
    /* IPv4 first fragment: ports taken, L4 not decoded further */
    size_t n = w_ip4(ip, 17, A4, B4);
    n += w_udp(ip + n, 5000, 53);
    w16(ip + 24, 100); /* whole datagram's UDP length */
    n += 16;
    w16(ip + 6, 0x2000);
    fin_ip4(ip, n, NULL, 17);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(p.flags & BF_PKT_FRAGMENT);
    assert_false(p.flags & BF_PKT_INVALID);
    assert_int_equal(p.nevents, 0);
    assert_true(p.frag_mf);
    assert_int_equal(p.frag_off, 0);
    assert_int_equal(p.sp, 5000);
    assert_int_equal(p.dp, 53);
    assert_int_equal(st.udp, 0);
    assert_null(p.payload);
    uint64_t h1 = bf_decode_dispatch_hash(ip, (uint32_t)n, BF_LINK_IPV4);
    /* non-first fragment: nothing of L4 */
    w16(ip + 6, 3); /* offset 24, last */
    fin_ip4(ip, n, NULL, 17);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(p.flags & BF_PKT_FRAGMENT);
    assert_false(p.frag_mf);
    assert_int_equal(p.frag_off, 24);
    assert_int_equal(p.sp, 0);
    assert_int_equal(p.ip_id, 0x1234);
    assert_int_equal(bf_decode_dispatch_hash(ip, (uint32_t)n, BF_LINK_IPV4), h1);

    /* IPv6 fragment header */
    n = w_ip6(ip, 44, V6A, V6B);
    uint8_t fh[8] = {17, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
    memcpy(ip + n, fh, 8);
    n += 8;
    n += w_udp(ip + n, 5000, 53);
    n += 8;
    fin_ip6(ip, n, NULL, 17);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(p.flags & BF_PKT_FRAGMENT);
    assert_true(p.frag_mf);
    assert_int_equal(p.frag_id, 0xdeadbeef);
    assert_int_equal(p.ip_id, 0xdead ^ 0xbeef);
    assert_int_equal(p.ip6_fh_off, 40);
    assert_int_equal(p.sp, 5000);
    assert_int_equal(p.proto, 17);
    uint64_t h6 = bf_decode_dispatch_hash(ip, (uint32_t)n, BF_LINK_IPV6);
    ip[42] = 0;
    ip[43] = 16; /* offset 16 */
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_int_equal(p.frag_off, 16);
    assert_int_equal(p.sp, 0);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.l3_hlen, 48);
    assert_int_equal(bf_decode_dispatch_hash(ip, (uint32_t)n, BF_LINK_IPV6), h6);
    /* MF fragment whose length is not a multiple of 8 */
    ip[43] = 17;
    fin_ip6(ip, n - 3, NULL, 17);
    dec(&p, ip, n - 3, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_FRAG_INVALID_LENGTH));
    /* atomic fragment: useless, decoded through */
    ip[43] = 0;
    fin_ip6(ip, n, ip + 48, 17);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_EXTHDR_USELESS_FH));
    assert_false(p.flags & BF_PKT_FRAGMENT);
    assert_int_equal(p.payload_len, 8);
    /* reserved field */
    ip[41] = 1;
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_FH_NON_ZERO_RESERVED_FIELD));
}

static void test_icmp(void **state)
{
    (void)state;
    bf_packet p;
    uint8_t ip[256];
    /* echo request */
    size_t n = w_ip4(ip, 1, A4, B4);
    uint8_t *l4 = ip + n;
    uint8_t echo[12] = {8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'};
    memcpy(l4, echo, 12);
    n += 12;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_int_equal(p.icmp_type, 8);
    assert_int_equal(p.sp, 8);
    assert_int_equal(p.dp, 0);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(st.icmpv4, 1);
    l4[9] ^= 1;
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(p.flags & BF_PKT_L4_CSUM_BAD);
    assert_int_equal(st.csum_bad_icmp, 1);
    /* unknown type / code */
    l4[0] = 42;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV4_UNKNOWN_TYPE));
    l4[0] = 0;
    l4[1] = 3;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV4_UNKNOWN_CODE));
    /* too small */
    n = w_ip4(ip, 1, A4, B4) + 4;
    fin_ip4(ip, n, NULL, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV4_PKT_TOO_SMALL));

    /* port unreachable carrying the offending UDP header */
    n = w_ip4(ip, 1, B4, A4);
    l4 = ip + n;
    memset(l4, 0, 8);
    l4[0] = 3;
    l4[1] = 3;
    n += 8;
    size_t in = mk_ip4_udp(ip + n, 1111, 2222, "data");
    n += in;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_true(p.flags & BF_PKT_ICMP_ERROR);
    assert_int_equal(p.icmp_inner_proto, 17);
    assert_int_equal(p.icmp_inner_sp, 1111);
    assert_int_equal(p.icmp_inner_dp, 2222);
    assert_int_equal(p.icmp_inner_src.b[0], 10);
    assert_ptr_equal(p.icmp_inner, l4 + 8);
    /* inner truncated / wrong version */
    n = 20 + 8 + 12;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV4_IPV4_TRUNC_PKT));
    assert_false(p.flags & BF_PKT_ICMP_ERROR);
    n = 20 + 8 + in;
    ip[28] = 0x65;
    fin_ip4(ip, n, l4, 1);
    dec(&p, ip, n, BF_LINK_IPV4);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV4_IPV4_UNKNOWN_VER));

    /* ICMPv6 echo, checksum with the pseudo header */
    n = w_ip6(ip, 58, V6A, V6B);
    l4 = ip + n;
    memcpy(l4, echo, 12);
    l4[0] = 128;
    n += 12;
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_int_equal(p.icmp_type, 128);
    assert_int_equal(p.sp, 128);
    assert_int_equal(st.icmpv6, 1);
    ip[23] ^= 1; /* source address: pseudo header */
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(p.flags & BF_PKT_L4_CSUM_BAD);
    ip[23] ^= 1;
    /* MLD query with hop limit 64 */
    l4[0] = 130;
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV6_MLD_MESSAGE_WITH_INVALID_HL));
    l4[0] = 50;
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV6_UNASSIGNED_TYPE));
    l4[0] = 200;
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV6_EXPERIMENTATION_TYPE));
    /* ICMPv6 packet too big carrying IPv6/UDP */
    n = w_ip6(ip, 58, V6B, V6A);
    l4 = ip + n;
    memset(l4, 0, 8);
    l4[0] = 2;
    n += 8;
    n += mk_ip6_udp(ip + n, 1111, 2222, "data");
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_int_equal(p.flags & (BF_PKT_INVALID | BF_PKT_L4_CSUM_BAD), 0);
    assert_true(p.flags & BF_PKT_ICMP_ERROR);
    assert_int_equal(p.icmp_inner_dp, 2222);
    assert_memory_equal(p.icmp_inner_src.b, V6A, 16);
    n = 40 + 8 + 20;
    fin_ip6(ip, n, l4, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV6_IPV6_TRUNC_PKT));
    /* too small; ICMPv4 carried by IPv6 */
    n = w_ip6(ip, 58, V6A, V6B) + 4;
    fin_ip6(ip, n, NULL, 58);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_ICMPV6_PKT_TOO_SMALL));
    n = w_ip6(ip, 1, V6A, V6B) + 8;
    fin_ip6(ip, n, NULL, 1);
    dec(&p, ip, n, BF_LINK_IPV6);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_ICMPV4));
}

/* outer Ethernet/IPv4 (proto) at buf; returns offset of the IPv4 header */
static size_t outer4(uint8_t *o, uint8_t proto, size_t *n)
{
    *n = w_eth(o, 0x0800);
    size_t ipo = *n;
    *n += w_ip4(o + *n, proto, IP(1, 1, 1, 1), IP(2, 2, 2, 2));
    return ipo;
}

static void test_tunnels(void **state)
{
    (void)state;
    bf_packet p;
    size_t n, ipo;
    uint8_t in4[64], in6[128];
    size_t n4 = mk_ip4_udp(in4, 1111, 2222, "data");
    size_t n6 = mk_ip6_udp(in6, 1111, 2222, "data");
    uint64_t h4 = bf_decode_dispatch_hash(in4, (uint32_t)n4, BF_LINK_RAW);

    /* GRE v0 with key and sequence carrying IPv4 */
    ipo = outer4(buf, 47, &n);
    w16(buf + n, 0x3000);
    w16(buf + n + 2, 0x0800);
    n += 12;
    memcpy(buf + n, in4, n4);
    n += n4;
    fin_ip4(buf + ipo, n - ipo, NULL, 47);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    check_udp4(&p);
    assert_int_equal(p.tunnel_depth, 1);
    assert_true(p.flags & BF_PKT_TUNNEL);
    assert_int_equal(p.src.b[0], 10);
    assert_int_equal(st.gre, 1);
    assert_int_equal(bf_decode_dispatch_hash(buf, (uint32_t)n, BF_LINK_ETHERNET), h4);
    /* unknown version, recursion, header too big */
    buf[ipo + 20 + 1] = 0x03;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_WRONG_VERSION));
    buf[ipo + 20 + 1] = 0x00;
    buf[ipo + 20] = 0x31;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_VERSION0_RECUR));
    buf[ipo + 20] = 0xb0;
    dec(&p, buf, ipo + 20 + 8, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV4_TRUNC_PKT));
    fin_ip4(buf + ipo, 28, NULL, 47);
    dec(&p, buf, ipo + 28, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_VERSION0_HDR_TOO_BIG));
    fin_ip4(buf + ipo, 23, NULL, 47);
    dec(&p, buf, ipo + 23, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_PKT_TOO_SMALL));

    /* GRE transparent Ethernet bridging carrying VLAN + IPv6 */
    ipo = outer4(buf, 47, &n);
    w16(buf + n, 0);
    w16(buf + n + 2, 0x6558);
    n += 4;
    n += w_eth(buf + n, 0x8100);
    n += w_tag(buf + n, 42, 0x86dd);
    memcpy(buf + n, in6, n6);
    n += n6;
    fin_ip4(buf + ipo, n - ipo, NULL, 47);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    check_udp6(&p);
    assert_int_equal(p.tunnel_depth, 1);
    assert_int_equal(p.vlan_cnt, 1);
    assert_int_equal(p.vlan[0], 42);
    assert_ptr_equal(p.eth, buf);

    /* GRE v1 (PPTP) with PPP carrying IPv4 */
    ipo = outer4(buf, 47, &n);
    w16(buf + n, 0x3081); /* K, S, A, ver 1 */
    w16(buf + n + 2, 0x880b);
    n += 16;
    buf[n++] = 0xff;
    buf[n++] = 0x03;
    buf[n++] = 0x00;
    buf[n++] = 0x21;
    memcpy(buf + n, in4, n4);
    n += n4;
    fin_ip4(buf + ipo, n - ipo, NULL, 47);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    check_udp4(&p);
    assert_int_equal(p.tunnel_depth, 1);
    assert_int_equal(bf_decode_dispatch_hash(buf, (uint32_t)n, BF_LINK_ETHERNET), h4);
    buf[ipo + 20] = 0x10; /* no key */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_VERSION1_NO_KEY));
    buf[ipo + 20] = 0xb0; /* checksum */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_VERSION1_CHKSUM));
    buf[ipo + 20] = 0x30;
    buf[ipo + 23] = 0x0c; /* protocol */
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_GRE_VERSION1_WRONG_PROTOCOL));

    /* VXLAN */
    ipo = outer4(buf, 17, &n);
    size_t udpo = n;
    n += w_udp(buf + n, 33333, 4789);
    memset(buf + n, 0, 8);
    buf[n] = 0x08;
    n += 8;
    n += w_eth(buf + n, 0x0800);
    memcpy(buf + n, in4, n4);
    n += n4;
    fin_ip4(buf + ipo, n - ipo, buf + udpo, 17);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    check_udp4(&p);
    assert_int_equal(p.tunnel_depth, 1);
    assert_int_equal(st.vxlan, 1);
    assert_ptr_equal(p.eth, buf);
    assert_int_equal(bf_decode_dispatch_hash(buf, (uint32_t)n, BF_LINK_ETHERNET), h4);
    cfg.vxlan_port = 8472;
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_int_equal(p.tunnel_depth, 0);
    assert_int_equal(p.dp, 4789);
    cfg.vxlan_port = 4789;

    /* IP-in-IP: 4in4, 6in4, 4in6, 6in6 */
    for (int o6 = 0; o6 < 2; o6++) {
        for (int i6 = 0; i6 < 2; i6++) {
            uint8_t proto = i6 ? 41 : 4;
            if (o6) {
                n = w_eth(buf, 0x86dd);
                ipo = n;
                n += w_ip6(buf + n, proto, V6B, V6A);
            } else {
                ipo = outer4(buf, proto, &n);
            }
            memcpy(buf + n, i6 ? in6 : in4, i6 ? n6 : n4);
            n += i6 ? n6 : n4;
            if (o6)
                fin_ip6(buf + ipo, n - ipo, NULL, proto);
            else
                fin_ip4(buf + ipo, n - ipo, NULL, proto);
            memset(&st, 0, sizeof st);
            dec(&p, buf, n, BF_LINK_ETHERNET);
            if (i6)
                check_udp6(&p);
            else
                check_udp4(&p);
            assert_int_equal(p.tunnel_depth, 1);
            assert_int_equal(o6 ? (i6 ? st.ipv6_in_ipv6 : st.ipv4_in_ipv6) : (i6 ? st.ipv6_in_ipv4 : st.ipv4_in_ipv4), 1);
            assert_int_equal(bf_decode_dispatch_hash(buf, (uint32_t)n, BF_LINK_ETHERNET),
                             bf_decode_packet_hash(&p));
        }
    }
    /* 4in6 too small, 6in6 wrong version */
    n = w_eth(buf, 0x86dd);
    n += w_ip6(buf + n, 4, V6B, V6A);
    memset(buf + n, 0x45, 10);
    n += 10;
    fin_ip6(buf + 14, n - 14, NULL, 4);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_IPV4_IN_IPV6_TOO_SMALL));
    n = w_eth(buf, 0x86dd);
    n += w_ip6(buf + n, 41, V6B, V6A);
    memcpy(buf + n, in4, n4);
    memset(buf + n + n4, 0, 40);
    n += 40;
    fin_ip6(buf + 14, n - 14, NULL, 41);
    dec(&p, buf, n, BF_LINK_ETHERNET);
    assert_true(bf_packet_has_event(&p, BF_EV_IPV6_IPV6_IN_IPV6_WRONG_VERSION));
}

/* nesting IPv4-in-IPv4 deeper than max_layers */
static void test_too_many_layers(void **state)
{
    (void)state;
    bf_packet p;
    for (int depth = 1; depth <= 12; depth++) {
        size_t n = 0;
        size_t offs[16];
        for (int i = 0; i < depth; i++) {
            offs[i] = n;
            n += w_ip4(buf + n, 4, IP(1, 1, 1, (uint8_t)i), IP(2, 2, 2, (uint8_t)i));
        }
        size_t in = mk_ip4_udp(buf + n, 1111, 2222, "data");
        n += in;
        for (int i = depth - 1; i >= 0; i--)
            fin_ip4(buf + offs[i], n - offs[i], NULL, 4);
        memset(&st, 0, sizeof st);
        dec(&p, buf, n, BF_LINK_RAW);
        if (depth <= cfg.max_layers) {
            check_udp4(&p);
            assert_int_equal(p.tunnel_depth, depth);
        } else {
            assert_true(bf_packet_has_event(&p, BF_EV_TOO_MANY_LAYERS));
            assert_true(p.flags & BF_PKT_INVALID);
            assert_int_equal(st.too_many_layers, 1);
        }
    }
}

static void test_dispatch_hash(void **state)
{
    (void)state;
    uint8_t a[128], b[128];
    size_t n = w_eth(a, 0x8100);
    n += w_tag(a + n, 7, 0x0800);
    n += w_ip4(a + n, 6, A4, B4);
    n += w_tcp(a + n, 1, 2, 0, 0, BF_TH_SYN, NULL, 0);
    fin_ip4(a + 18, n - 18, a + 38, 6);
    size_t m = w_eth(b, 0x8100);
    m += w_tag(b + m, 7, 0x0800);
    m += w_ip4(b + m, 6, B4, A4);
    m += w_tcp(b + m, 2, 1, 0, 0, BF_TH_SYN | BF_TH_ACK, NULL, 0);
    fin_ip4(b + 18, m - 18, b + 38, 6);
    uint64_t ha = bf_decode_dispatch_hash(a, (uint32_t)n, BF_LINK_ETHERNET);
    uint64_t hb = bf_decode_dispatch_hash(b, (uint32_t)m, BF_LINK_ETHERNET);
    assert_int_not_equal(ha, 0);
    assert_int_equal(ha, hb);
    bf_packet p;
    dec(&p, a, n, BF_LINK_ETHERNET);
    assert_int_equal(bf_decode_packet_hash(&p), ha);
    /* another VLAN: another hash */
    b[15] = 8;
    assert_int_not_equal(bf_decode_dispatch_hash(b, (uint32_t)m, BF_LINK_ETHERNET), ha);
    /* non-IP and truncated input */
    w_eth(a, 0x0806);
    assert_int_equal(bf_decode_dispatch_hash(a, 60, BF_LINK_ETHERNET), 0);
    for (uint32_t i = 0; i < m; i++)
        (void)bf_decode_dispatch_hash(b, i, BF_LINK_ETHERNET);
    assert_int_equal(bf_decode_dispatch_hash(NULL, 0, BF_LINK_ETHERNET), 0);
}

static void test_event_names(void **state)
{
    (void)state;
    assert_string_equal(bf_event_name(BF_EV_IPV4_TRUNC_PKT), "decoder.ipv4.trunc_pkt");
    assert_string_equal(bf_event_name(BF_EV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK), "stream.3whs_synack_with_wrong_ack");
    assert_int_equal(bf_event_lookup(BF_EVL_DECODE, "ipv4.frag_overlap"), BF_EV_IPV4_FRAG_OVERLAP);
    assert_int_equal(bf_event_lookup(BF_EVL_STREAM, "pkt_invalid_ack"), BF_EV_STREAM_PKT_INVALID_ACK);
    assert_int_equal(bf_event_lookup(BF_EVL_DECODE, "too_many_layers"), BF_EV_TOO_MANY_LAYERS);
    assert_int_equal(bf_event_lookup(BF_EVL_DECODE, "no.such"), BF_EV_NONE);
    assert_int_equal(bf_event_layer(BF_EV_STREAM_REASSEMBLY_SEQ_GAP), BF_EVL_STREAM);
    assert_null(bf_event_name(BF_EV_MAX));
    for (uint16_t i = 1; i < BF_EV_MAX; i++)
        assert_non_null(bf_event_name(i));
}

/* every truncation of every test packet decodes without reading past caplen
 * (run under ASan) */
static void test_truncations(void **state)
{
    (void)state;
    static const uint8_t opt[] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
    size_t n = mk_eth4_tcp(buf, opt, sizeof opt, "payload!");
    for (size_t i = 0; i <= n; i++) {
        uint8_t *c = malloc(i ? i : 1);
        memcpy(c, buf, i);
        bf_packet p;
        dec(&p, c, i, BF_LINK_ETHERNET);
        dec_ex(&p, c, i, BF_LINK_ETHERNET, (uint32_t)n);
        (void)bf_decode_dispatch_hash(c, (uint32_t)i, BF_LINK_ETHERNET);
        free(c);
    }
}

int main(void)
{
    bf_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_eth_ipv4_tcp, setup),
        cmocka_unit_test_setup(test_tcp_options_bad, setup),
        cmocka_unit_test_setup(test_tcp_malformed, setup),
        cmocka_unit_test_setup(test_checksums, setup),
        cmocka_unit_test_setup(test_ethernet_padding, setup),
        cmocka_unit_test_setup(test_vlan, setup),
        cmocka_unit_test_setup(test_link_types, setup),
        cmocka_unit_test_setup(test_ipv4_malformed, setup),
        cmocka_unit_test_setup(test_ipv4_options, setup),
        cmocka_unit_test_setup(test_ipv6_exthdrs, setup),
        cmocka_unit_test_setup(test_fragments, setup),
        cmocka_unit_test_setup(test_icmp, setup),
        cmocka_unit_test_setup(test_tunnels, setup),
        cmocka_unit_test_setup(test_too_many_layers, setup),
        cmocka_unit_test_setup(test_dispatch_hash, setup),
        cmocka_unit_test_setup(test_event_names, setup),
        cmocka_unit_test_setup(test_truncations, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
