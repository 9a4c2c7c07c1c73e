/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/pktbuild.h: tiny packet builders for the decode/defrag tests.
 * Checksums here use a plain byte-wise reference implementation, so the
 * tests also cross-check the decoder's word-at-a-time checksum. */
#ifndef BF_TEST_PKTBUILD_H
#define BF_TEST_PKTBUILD_H

#include <stdint.h>
#include <string.h>

static inline void w16(uint8_t *o, uint16_t v) { o[0] = (uint8_t)(v >> 8); o[1] = (uint8_t)v; }
static inline void w32(uint8_t *o, uint32_t v)
{
    o[0] = (uint8_t)(v >> 24); o[1] = (uint8_t)(v >> 16); o[2] = (uint8_t)(v >> 8); o[3] = (uint8_t)v;
}

static inline uint32_t ref_sum(uint32_t s, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(d[i] << 8 | d[i + 1]);
    if (n & 1)
        s += (uint32_t)d[n - 1] << 8;
    return s;
}
static inline uint16_t ref_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

__attribute__((unused)) static const uint8_t MAC_A[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
__attribute__((unused)) static const uint8_t MAC_B[6] = {0x00, 0x66, 0x77, 0x88, 0x99, 0xaa};

static inline size_t w_eth(uint8_t *o, uint16_t type)
{
    memcpy(o, MAC_B, 6);
    memcpy(o + 6, MAC_A, 6);
    w16(o + 12, type);
    return 14;
}

/* an 802.1Q/ad tag body: TCI then the next ethertype */
static inline size_t w_tag(uint8_t *o, uint16_t vid, uint16_t next)
{
    w16(o, vid);
    w16(o + 2, next);
    return 4;
}

static inline size_t w_ip4o(uint8_t *o, uint8_t proto, uint32_t src, uint32_t dst, const uint8_t *opt, size_t optlen)
{
    size_t hl = 20 + optlen;
    memset(o, 0, hl);
    o[0] = (uint8_t)(0x40 | (hl / 4));
    o[8] = 64;
    o[9] = proto;
    w16(o + 4, 0x1234);
    w32(o + 12, src);
    w32(o + 16, dst);
    if (optlen)
        memcpy(o + 20, opt, optlen);
    return hl;
}
static inline size_t w_ip4(uint8_t *o, uint8_t proto, uint32_t src, uint32_t dst)
{
    return w_ip4o(o, proto, src, dst, NULL, 0);
}

__attribute__((unused)) static const uint8_t V6A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
__attribute__((unused)) static const uint8_t V6B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static inline size_t w_ip6(uint8_t *o, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
    memset(o, 0, 40);
    o[0] = 0x60;
    o[6] = nh;
    o[7] = 64;
    memcpy(o + 8, src, 16);
    memcpy(o + 24, dst, 16);
    return 40;
}

static inline size_t w_tcp(uint8_t *o, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                    const uint8_t *opt, size_t optlen)
{
    size_t hl = 20 + optlen;
    memset(o, 0, hl);
    w16(o, sp);
    w16(o + 2, dp);
    w32(o + 4, seq);
    w32(o + 8, ack);
    o[12] = (uint8_t)((hl / 4) << 4);
    o[13] = flags;
    w16(o + 14, 65535);
    if (optlen)
        memcpy(o + 20, opt, optlen);
    return hl;
}

static inline size_t w_udp(uint8_t *o, uint16_t sp, uint16_t dp)
{
    memset(o, 0, 8);
    w16(o, sp);
    w16(o + 2, dp);
    return 8;
}

/* L4 checksum field offset for a protocol, or -1 */
static inline int csum_off(uint8_t proto)
{
    switch (proto) {
    case 6: return 16;
    case 17: return 6;
    case 1: case 58: return 2;
    default: return -1;
    }
}

/* Finishes an IPv4 header at ip whose datagram is total bytes long: length,
 * header checksum and (when l4 != NULL) the L4 checksum of proto. */
static inline void fin_ip4(uint8_t *ip, size_t total, uint8_t *l4, uint8_t proto)
{
    size_t hl = (size_t)(ip[0] & 0xf) * 4;
    w16(ip + 2, (uint16_t)total);
    ip[10] = ip[11] = 0;
    w16(ip + 10, ref_fold(ref_sum(0, ip, hl)));
    if (!l4 || csum_off(proto) < 0)
        return;
    size_t l4len = total - (size_t)(l4 - ip);
    int co = csum_off(proto);
    if (proto == 17)
        w16(l4 + 4, (uint16_t)l4len);
    l4[co] = l4[co + 1] = 0;
    uint32_t s = 0;
    if (proto != 1) {
        s = ref_sum(s, ip + 12, 8);
        s += proto;
        s += (uint32_t)l4len;
    }
    uint16_t c = ref_fold(ref_sum(s, l4, l4len));
    if (proto == 17 && c == 0)
        c = 0xffff;
    w16(l4 + co, c);
}

static inline void fin_ip6(uint8_t *ip, size_t total, uint8_t *l4, uint8_t proto)
{
    w16(ip + 4, (uint16_t)(total - 40));
    if (!l4 || csum_off(proto) < 0)
        return;
    size_t l4len = total - (size_t)(l4 - ip);
    int co = csum_off(proto);
    if (proto == 17)
        w16(l4 + 4, (uint16_t)l4len);
    l4[co] = l4[co + 1] = 0;
    uint32_t s = ref_sum(0, ip + 8, 32);
    s += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
    s += proto;
    uint16_t c = ref_fold(ref_sum(s, l4, l4len));
    if (proto == 17 && c == 0)
        c = 0xffff;
    w16(l4 + co, c);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#endif
