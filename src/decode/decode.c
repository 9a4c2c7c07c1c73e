/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/decode.c: link, network and transport decoding, checksums and the
 * dispatch hash.  Every read is bounded by the length handed down from the
 * layer above (itself bounded by caplen and by the IP total length), so a
 * layer can never look at Ethernet padding or past the capture.  Recursion
 * only happens through VLAN tags (at most BF_MAX_VLAN) and tunnels (at most
 * cfg->max_layers, hard-capped): stack depth is bounded.
 */
#include "decode/decode.h"
#include "decode/decode_int.h"
#include "common/hash.h"

#include <stddef.h>

/* ethertypes */
enum {
    ET_IPV4 = 0x0800, ET_ARP = 0x0806, ET_IPV6 = 0x86dd, ET_VLAN = 0x8100,
    ET_QINQ = 0x88a8, ET_QINQ_OLD = 0x9100, ET_TEB = 0x6558, ET_PPP = 0x880b,
    ET_ERSPAN = 0x88be, ET_WCCP = 0x883e, ET_PPPOE_DISC = 0x8863,
    ET_PPPOE_SESS = 0x8864, ET_MPLS_UC = 0x8847, ET_MPLS_MC = 0x8848,
    ET_8021AH = 0x88e7, ET_DCE = 0x8903, ET_VNTAG = 0x8926, ET_ETAG = 0x893f,
    ET_NSH = 0x894f, ET_LLDP = 0x88cc, ET_RARP = 0x8035,
};

/* IP protocol numbers */
enum {
    IPP_HOPOPTS = 0, IPP_ICMP = 1, IPP_IPIP = 4, IPP_TCP = 6, IPP_UDP = 17,
    IPP_IPV6 = 41, IPP_ROUTING = 43, IPP_FRAGMENT = 44, IPP_GRE = 47, IPP_ESP = 50,
    IPP_AH = 51, IPP_ICMPV6 = 58, IPP_NONE = 59, IPP_DSTOPTS = 60, IPP_SCTP = 132,
    IPP_MH = 135, IPP_HIP = 139, IPP_SHIM6 = 140,
};

#define HARD_MAX_LAYERS 32
#define MAX_IPV6_EXTHDRS 32

void bf_decode_cfg_default(bf_decode_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->checksum_validation = true;
    c->vxlan_port = 4789;
    c->max_layers = 8;
}

/* ---- checksums ----
 * The one's complement sum is independent of byte order: we add the data as
 * native 64-bit words with end-around carry and fold to 16 bits at the end.
 * A correct checksum over data that includes its checksum field folds to
 * 0xffff in either byte order.  Chunks must have even length except the
 * last (odd parity shifts bytes between the two lanes). */
uint64_t bf_csum_add(uint64_t s, const uint8_t *d, size_t n)
{
    while (n >= 32) {
        uint64_t w[4];
        memcpy(w, d, 32);
        s += w[0]; s += (s < w[0]);
        s += w[1]; s += (s < w[1]);
        s += w[2]; s += (s < w[2]);
        s += w[3]; s += (s < w[3]);
        d += 32;
        n -= 32;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, d, 8);
        s += w; s += (s < w);
        d += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, d, n);   /* zero padding: trailing odd byte is the high byte */
        s += w; s += (s < w);
    }
    return s;
}

uint16_t bf_csum_fold(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* sum of the pseudo header for p's innermost IP layer; for IPv6, ph_src /
 * ph_dst (when not NULL) are the home address (HAO option) and the final
 * destination (routing header), which the pseudo header uses (RFC 8200 8.1,
 * RFC 6275 6.3) */
static uint64_t csum_pseudo(const bf_packet *p, const uint8_t *ph_src, const uint8_t *ph_dst,
                            uint8_t proto, uint32_t l4len)
{
    uint8_t ph[40];
    if (p->ipver == 4) {
        memcpy(ph, p->src.b, 4);
        memcpy(ph + 4, p->dst.b, 4);
        ph[8] = 0;
        ph[9] = proto;
        ph[10] = (uint8_t)(l4len >> 8);
        ph[11] = (uint8_t)l4len;
        return bf_csum_add(0, ph, 12);
    }
    memcpy(ph, ph_src ? ph_src : p->src.b, 16);
    memcpy(ph + 16, ph_dst ? ph_dst : p->dst.b, 16);
    ph[32] = (uint8_t)(l4len >> 24);
    ph[33] = (uint8_t)(l4len >> 16);
    ph[34] = (uint8_t)(l4len >> 8);
    ph[35] = (uint8_t)l4len;
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return bf_csum_add(0, ph, 40);
}

/* ---- decoder context ---- */

typedef struct dctx {
    const bf_decode_cfg *cfg;
    bf_decode_stats *st;
    bf_packet *p;
    bool snapped;       /* caplen < wirelen: truncation explained by snaplen */
    bool complete;      /* the current IP layer's payload is all there */
    const uint8_t *ph_src, *ph_dst; /* IPv6 pseudo header overrides (HAO, RH) */
    uint8_t max_layers;
} dctx;

/* vlan.use-for-tracking: the dispatch hash includes the VLAN id */
static bool g_dispatch_vlan = true;
void bf_decode_set_dispatch_vlan(bool on) { g_dispatch_vlan = on; }

static inline void ev(dctx *c, uint16_t id)
{
    c->st->events[id]++;
    bf_packet_event(c->p, id);
}

static inline void inval(dctx *c, uint16_t id)
{
    ev(c, id);
    c->p->flags |= BF_PKT_INVALID;
}

static void decode_ether(dctx *c, const uint8_t *d, uint32_t len);
static void decode_ethertype(dctx *c, uint16_t type, const uint8_t *d, uint32_t len, bool in_vlan);
static void decode_ipv4(dctx *c, const uint8_t *d, uint32_t len);
static void decode_ipv6(dctx *c, const uint8_t *d, uint32_t len);

static bool tunnel_enter(dctx *c)
{
    if (c->p->tunnel_depth >= c->max_layers) {
        c->st->too_many_layers++;
        inval(c, BF_EV_TOO_MANY_LAYERS);
        return false;
    }
    c->p->tunnel_depth++;
    c->p->flags |= BF_PKT_TUNNEL;
    return true;
}

/* Clears the L4 fields before a (new, inner) IP layer fills them. */
static inline void reset_l4(bf_packet *p)
{
    memset(&p->sp, 0, offsetof(bf_packet, payload_len) + sizeof p->payload_len - offsetof(bf_packet, sp));
    p->flags &= ~(uint32_t)(BF_PKT_TCP_OPT_TS | BF_PKT_TCP_OPT_SACKOK | BF_PKT_TCP_OPT_WSCALE |
                            BF_PKT_TCP_OPT_MSS | BF_PKT_TCP_OPT_SACK | BF_PKT_TCP_OPT_TFO |
                            BF_PKT_ICMP_ERROR | BF_PKT_FRAGMENT);
    p->icmp_inner = NULL;
    p->icmp_inner_len = 0;
}

/* ---- TCP ---- */

static void tcp_options(dctx *c, const uint8_t *o, uint32_t n)
{
    bf_packet *p = c->p;
    while (n > 0) {
        uint8_t t = o[0];
        if (t == 0) /* EOL */
            break;
        if (t == 1) { /* NOP */
            o++;
            n--;
            continue;
        }
        if (n < 2) {
            ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            break;
        }
        uint8_t ol = o[1];
        if (ol < 2 || ol > n) {
            ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            break;
        }
        switch (t) {
        case 2: /* MSS */
            if (ol != 4)
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_MSS)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else {
                p->flags |= BF_PKT_TCP_OPT_MSS;
                p->tcp_mss = bf_be16(o + 2);
            }
            break;
        case 3: /* window scale */
            if (ol != 3)
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_WSCALE)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else {
                p->flags |= BF_PKT_TCP_OPT_WSCALE;
                p->tcp_wscale = o[2];
            }
            break;
        case 4: /* SACK permitted */
            if (ol != 2)
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_SACKOK)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else
                p->flags |= BF_PKT_TCP_OPT_SACKOK;
            break;
        case 5: /* SACK */
            if (ol < 10 || ol > 34 || (ol - 2) % 8 != 0)
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_SACK)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else {
                p->flags |= BF_PKT_TCP_OPT_SACK;
                p->tcp_sack_cnt = (uint8_t)((ol - 2) / 8);
            }
            break;
        case 8: /* timestamps */
            if (ol != 10)
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_TS)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else {
                p->flags |= BF_PKT_TCP_OPT_TS;
                p->tcp_tsval = bf_be32(o + 2);
                p->tcp_tsecr = bf_be32(o + 6);
            }
            break;
        case 34: /* TCP fast open */
            if (ol != 2 && (ol < 6 || ol > 18 || ((ol - 2) & 1)))
                ev(c, BF_EV_TCP_OPT_INVALID_LEN);
            else if (p->flags & BF_PKT_TCP_OPT_TFO)
                ev(c, BF_EV_TCP_OPT_DUPLICATE);
            else
                p->flags |= BF_PKT_TCP_OPT_TFO;
            break;
        case 253:
        case 254: /* experimental: TFO before its number (magic 0xf989) */
            if (ol >= 4 && bf_be16(o + 2) == 0xf989) {
                if (ol != 4 && (ol < 8 || ol > 20 || (ol & 1)))
                    ev(c, BF_EV_TCP_OPT_INVALID_LEN);
                else if (p->flags & BF_PKT_TCP_OPT_TFO)
                    ev(c, BF_EV_TCP_OPT_DUPLICATE);
                else
                    p->flags |= BF_PKT_TCP_OPT_TFO;
            }
            break;
        default:
            break;
        }
        o += ol;
        n -= ol;
    }
}

static void decode_tcp(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 20) {
        inval(c, BF_EV_TCP_PKT_TOO_SMALL);
        return;
    }
    uint32_t hlen = (uint32_t)(d[12] >> 4) * 4;
    if (hlen < 20) {
        inval(c, BF_EV_TCP_HLEN_TOO_SMALL);
        return;
    }
    if (hlen > len) {
        inval(c, BF_EV_TCP_PKT_TOO_SMALL);
        return;
    }
    c->st->tcp++;
    p->sp = bf_be16(d);
    p->dp = bf_be16(d + 2);
    p->tcp_seq = bf_be32(d + 4);
    p->tcp_ack = bf_be32(d + 8);
    p->tcp_flags = d[13];
    p->tcp_win = bf_be16(d + 14);
    p->tcp_urp = bf_be16(d + 18);
    p->tcp_hlen = (uint8_t)hlen;
    p->l4 = d;
    p->l4_len = len;
    p->payload = d + hlen;
    p->payload_len = len - hlen;
    if (hlen > 20)
        tcp_options(c, d + 20, hlen - 20);
    if (c->cfg->checksum_validation && c->complete) {
        uint64_t s = csum_pseudo(p, c->ph_src, c->ph_dst, IPP_TCP, len);
        if (bf_csum_fold(bf_csum_add(s, d, len)) != 0xffff) {
            p->flags |= BF_PKT_L4_CSUM_BAD;
            c->st->csum_bad_tcp++;
        }
    }
}

/* ---- UDP and VXLAN ---- */

static void decode_vxlan(dctx *c, const uint8_t *d, uint32_t len)
{
    /* flags: I bit set, reserved zero; then at least an Ethernet header */
    if (len < 8 + 14 || d[0] != 0x08 || d[7] != 0)
        return;
    uint16_t et = bf_be16(d + 8 + 12);
    if (et != ET_IPV4 && et != ET_IPV6 && et != ET_ARP && et != ET_VLAN && et != ET_QINQ) {
        ev(c, BF_EV_VXLAN_UNKNOWN_PAYLOAD_TYPE);
        return;
    }
    if (!tunnel_enter(c))
        return;
    c->st->vxlan++;
    decode_ether(c, d + 8, len - 8);
}

static void decode_udp(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 8) {
        inval(c, BF_EV_UDP_HLEN_TOO_SMALL);
        return;
    }
    uint32_t ulen = bf_be16(d + 4);
    if (ulen > len) {
        if (!(c->snapped && !c->complete)) {
            inval(c, BF_EV_UDP_PKT_TOO_SMALL);
            return;
        }
        ulen = len; /* cut by the snaplen: decode what is there */
    } else if (ulen < 8) {
        inval(c, BF_EV_UDP_LEN_INVALID);
        return;
    }
    c->st->udp++;
    p->sp = bf_be16(d);
    p->dp = bf_be16(d + 2);
    p->l4 = d;
    p->l4_len = ulen;
    p->payload = d + 8;
    p->payload_len = ulen - 8;
    uint16_t sum = bf_be16(d + 6);
    if (c->cfg->checksum_validation && c->complete && (sum != 0 || p->ipver == 6)) {
        uint64_t s = csum_pseudo(p, c->ph_src, c->ph_dst, IPP_UDP, ulen);
        if (sum == 0 || bf_csum_fold(bf_csum_add(s, d, ulen)) != 0xffff) {
            p->flags |= BF_PKT_L4_CSUM_BAD;
            c->st->csum_bad_udp++;
        }
    }
    if (p->dp == c->cfg->vxlan_port && c->cfg->vxlan_port != 0)
        decode_vxlan(c, d + 8, ulen - 8);
}

/* ---- ICMP ---- */

/* Ports of an embedded transport header, when its first 4 bytes are there. */
static void icmp_inner_ports(bf_packet *p, const uint8_t *l4, uint32_t len)
{
    uint8_t pr = p->icmp_inner_proto;
    if ((pr == IPP_TCP || pr == IPP_UDP || pr == IPP_SCTP) && len >= 4) {
        p->icmp_inner_sp = bf_be16(l4);
        p->icmp_inner_dp = bf_be16(l4 + 2);
    }
}

static void icmpv4_error(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 20) {
        ev(c, BF_EV_ICMPV4_IPV4_TRUNC_PKT);
        return;
    }
    if ((d[0] >> 4) != 4) {
        ev(c, BF_EV_ICMPV4_IPV4_UNKNOWN_VER);
        return;
    }
    uint32_t hl = (uint32_t)(d[0] & 0xf) * 4;
    if (hl < 20 || hl > len) {
        ev(c, BF_EV_ICMPV4_IPV4_TRUNC_PKT);
        return;
    }
    p->flags |= BF_PKT_ICMP_ERROR;
    p->icmp_inner = d;
    p->icmp_inner_len = len;
    memset(&p->icmp_inner_src, 0, sizeof p->icmp_inner_src);
    memset(&p->icmp_inner_dst, 0, sizeof p->icmp_inner_dst);
    memcpy(p->icmp_inner_src.b, d + 12, 4);
    memcpy(p->icmp_inner_dst.b, d + 16, 4);
    p->icmp_inner_proto = d[9];
    if ((bf_be16(d + 6) & 0x1fff) == 0) /* only the first fragment has ports */
        icmp_inner_ports(p, d + hl, len - hl);
}

static void decode_icmpv4(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 8) {
        inval(c, BF_EV_ICMPV4_PKT_TOO_SMALL);
        return;
    }
    c->st->icmpv4++;
    uint8_t type = d[0], code = d[1];
    p->icmp_type = type;
    p->icmp_code = code;
    p->sp = type;
    p->dp = code;
    p->l4 = d;
    p->l4_len = len;
    p->payload = d + 8;
    p->payload_len = len - 8;
    bool err = false;
    uint8_t maxcode = 0;
    switch (type) {
    case 0: case 8: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
        break;
    case 3: maxcode = 15; err = true; break;
    case 4: err = true; break;
    case 5: maxcode = 3; err = true; break;
    case 9: maxcode = code == 16 ? 16 : 0; break;
    case 11: maxcode = 1; err = true; break;
    case 12: maxcode = 2; err = true; break;
    default:
        ev(c, BF_EV_ICMPV4_UNKNOWN_TYPE);
        maxcode = 255;
        break;
    }
    if (code > maxcode)
        ev(c, BF_EV_ICMPV4_UNKNOWN_CODE);
    if (err)
        icmpv4_error(c, d + 8, len - 8);
    if (c->cfg->checksum_validation && c->complete &&
        bf_csum_fold(bf_csum_add(0, d, len)) != 0xffff) {
        p->flags |= BF_PKT_L4_CSUM_BAD;
        c->st->csum_bad_icmp++;
    }
}

static void icmpv6_error(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 40) {
        ev(c, BF_EV_ICMPV6_IPV6_TRUNC_PKT);
        return;
    }
    if ((d[0] >> 4) != 6) {
        ev(c, BF_EV_ICMPV6_IPV6_UNKNOWN_VERSION);
        return;
    }
    p->flags |= BF_PKT_ICMP_ERROR;
    p->icmp_inner = d;
    p->icmp_inner_len = len;
    memcpy(p->icmp_inner_src.b, d + 8, 16);
    memcpy(p->icmp_inner_dst.b, d + 24, 16);
    p->icmp_inner_proto = d[6];
    icmp_inner_ports(p, d + 40, len - 40);
}

static void decode_icmpv6(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 8) {
        inval(c, BF_EV_ICMPV6_PKT_TOO_SMALL);
        return;
    }
    c->st->icmpv6++;
    uint8_t type = d[0], code = d[1];
    p->icmp_type = type;
    p->icmp_code = code;
    p->sp = type;
    p->dp = code;
    p->l4 = d;
    p->l4_len = len;
    p->payload = d + 8;
    p->payload_len = len - 8;
    uint8_t maxcode = 0;
    bool err = false;
    switch (type) {
    case 1: maxcode = 8; err = true; break;   /* destination unreachable */
    case 2: err = true; break;                 /* packet too big */
    case 3: maxcode = 1; err = true; break;   /* time exceeded */
    case 4: maxcode = 10; err = true; break;  /* parameter problem */
    case 128: case 129: break;
    case 130: case 131: case 132: case 143:   /* MLD */
        if (p->ttl != 1)
            ev(c, BF_EV_ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
        break;
    case 100: case 101: case 200: case 201:
        ev(c, BF_EV_ICMPV6_EXPERIMENTATION_TYPE);
        maxcode = 255;
        break;
    default:
        if ((type > 4 && type < 100) || (type > 101 && type < 127) ||
            (type > 161 && type < 200) || (type > 201 && type < 255))
            ev(c, BF_EV_ICMPV6_UNASSIGNED_TYPE);
        maxcode = 255; /* informational types we do not check further */
        break;
    }
    if (code > maxcode)
        ev(c, BF_EV_ICMPV6_UNKNOWN_CODE);
    if (err)
        icmpv6_error(c, d + 8, len - 8);
    if (c->cfg->checksum_validation && c->complete) {
        uint64_t s = csum_pseudo(p, c->ph_src, c->ph_dst, IPP_ICMPV6, len);
        if (bf_csum_fold(bf_csum_add(s, d, len)) != 0xffff) {
            p->flags |= BF_PKT_L4_CSUM_BAD;
            c->st->csum_bad_icmp++;
        }
    }
}

/* ---- GRE ---- */

static void decode_ppp(dctx *c, const uint8_t *d, uint32_t len)
{
    if (len >= 2 && d[0] == 0xff && d[1] == 0x03) {
        d += 2;
        len -= 2;
    }
    if (len < 1) {
        inval(c, BF_EV_PPP_PKT_TOO_SMALL);
        return;
    }
    uint16_t proto;
    if (d[0] & 1) { /* protocol field compression */
        proto = d[0];
        d += 1;
        len -= 1;
    } else {
        if (len < 2) {
            inval(c, BF_EV_PPP_PKT_TOO_SMALL);
            return;
        }
        proto = bf_be16(d);
        d += 2;
        len -= 2;
    }
    switch (proto) {
    case 0x0021:
        if (len < 20) {
            inval(c, BF_EV_PPP_IP4_PKT_TOO_SMALL);
            return;
        }
        if (tunnel_enter(c))
            decode_ipv4(c, d, len);
        break;
    case 0x0057:
        if (len < 40) {
            inval(c, BF_EV_PPP_IP6_PKT_TOO_SMALL);
            return;
        }
        if (tunnel_enter(c))
            decode_ipv6(c, d, len);
        break;
    default: /* control protocols, compressed data: nothing to inspect */
        break;
    }
}

static void decode_gre(dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 4) {
        inval(c, BF_EV_GRE_PKT_TOO_SMALL);
        return;
    }
    uint16_t fl = bf_be16(d);
    uint16_t type = bf_be16(d + 2);
    uint32_t hlen;
    switch (fl & 0x7) {
    case 0:
        if (fl & 0x0700) {
            inval(c, BF_EV_GRE_VERSION0_RECUR);
            return;
        }
        if (fl & 0x00f8) {
            inval(c, BF_EV_GRE_VERSION0_FLAGS);
            return;
        }
        hlen = 4 + ((fl & 0xc000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) + ((fl & 0x1000) ? 4 : 0);
        if (hlen > len) {
            inval(c, BF_EV_GRE_VERSION0_HDR_TOO_BIG);
            return;
        }
        if (fl & 0x4000) { /* source routing entries, ended by a NULL SRE */
            for (;;) {
                if (len - hlen < 4) {
                    inval(c, BF_EV_GRE_VERSION0_MALFORMED_SRE_HDR);
                    return;
                }
                uint8_t sl = d[hlen + 3];
                uint16_t af = bf_be16(d + hlen);
                hlen += 4;
                if (af == 0 && sl == 0)
                    break;
                if (sl > len - hlen) {
                    inval(c, BF_EV_GRE_VERSION0_MALFORMED_SRE_HDR);
                    return;
                }
                hlen += sl;
            }
        }
        break;
    case 1: /* enhanced GRE (PPTP) */
        if (fl & 0x8000) { inval(c, BF_EV_GRE_VERSION1_CHKSUM); return; }
        if (fl & 0x4000) { inval(c, BF_EV_GRE_VERSION1_ROUTE); return; }
        if (fl & 0x0800) { inval(c, BF_EV_GRE_VERSION1_SSR); return; }
        if (fl & 0x0700) { inval(c, BF_EV_GRE_VERSION1_RECUR); return; }
        if (fl & 0x0078) { inval(c, BF_EV_GRE_VERSION1_FLAGS); return; }
        if (!(fl & 0x2000)) { inval(c, BF_EV_GRE_VERSION1_NO_KEY); return; }
        if (type != ET_PPP) { inval(c, BF_EV_GRE_VERSION1_WRONG_PROTOCOL); return; }
        hlen = 8 + ((fl & 0x1000) ? 4 : 0) + ((fl & 0x0080) ? 4 : 0);
        if (hlen > len) {
            inval(c, BF_EV_GRE_VERSION1_HDR_TOO_BIG);
            return;
        }
        break;
    default:
        inval(c, BF_EV_GRE_WRONG_VERSION);
        return;
    }
    c->st->gre++;
    bf_packet *p = c->p;
    p->l4 = d;
    p->l4_len = len;
    p->payload = d + hlen;
    p->payload_len = len - hlen;
    const uint8_t *in = d + hlen;
    uint32_t il = len - hlen;
    if (il == 0)
        return;
    switch (type) {
    case ET_IPV4:
        if (tunnel_enter(c))
            decode_ipv4(c, in, il);
        break;
    case ET_IPV6:
        if (tunnel_enter(c))
            decode_ipv6(c, in, il);
        break;
    case ET_TEB:
        if (tunnel_enter(c))
            decode_ether(c, in, il);
        break;
    case ET_ERSPAN: /* type II has an 8-byte header (S bit set), type I none */
        if (fl & 0x1000) {
            if (il < 8) {
                inval(c, BF_EV_ERSPAN_HEADER_TOO_SMALL);
                return;
            }
            if ((in[0] >> 4) != 1) {
                ev(c, BF_EV_ERSPAN_UNSUPPORTED_VERSION);
                return;
            }
            in += 8;
            il -= 8;
        }
        if (tunnel_enter(c))
            decode_ether(c, in, il);
        break;
    case ET_WCCP: /* optional 4-byte redirect header before IPv4 */
        if (il >= 4 && (in[0] >> 4) != 4) {
            in += 4;
            il -= 4;
        }
        if (tunnel_enter(c))
            decode_ipv4(c, in, il);
        break;
    case ET_PPP:
        decode_ppp(c, in, il);
        break;
    default:
        break;
    }
}

/* ---- L4 dispatch ---- */

/* first_frag: the first fragment of a datagram: only the fields of the start
 * of the transport header are taken (ports, ICMP type/code), silently, since
 * the header and payload continue in later fragments. */
static void decode_l4(dctx *c, uint8_t proto, const uint8_t *d, uint32_t len, bool first_frag)
{
    bf_packet *p = c->p;
    if (first_frag) {
        p->l4 = d;
        p->l4_len = len;
        if ((proto == IPP_TCP || proto == IPP_UDP || proto == IPP_SCTP) && len >= 4) {
            p->sp = bf_be16(d);
            p->dp = bf_be16(d + 2);
        } else if ((proto == IPP_ICMP || proto == IPP_ICMPV6) && len >= 2) {
            p->icmp_type = d[0];
            p->icmp_code = d[1];
            p->sp = d[0];
            p->dp = d[1];
        }
        return;
    }
    switch (proto) {
    case IPP_TCP:
        decode_tcp(c, d, len);
        break;
    case IPP_UDP:
        decode_udp(c, d, len);
        break;
    case IPP_ICMP:
        if (p->ipver == 6) {
            ev(c, BF_EV_IPV6_ICMPV4);
            break;
        }
        decode_icmpv4(c, d, len);
        break;
    case IPP_ICMPV6:
        if (p->ipver == 4) {
            ev(c, BF_EV_IPV4_ICMPV6);
            break;
        }
        decode_icmpv6(c, d, len);
        break;
    case IPP_GRE:
        decode_gre(c, d, len);
        break;
    case IPP_IPIP:
        if (p->ipver == 6) {
            if (len < 20) {
                inval(c, BF_EV_IPV6_IPV4_IN_IPV6_TOO_SMALL);
                break;
            }
            if ((d[0] >> 4) != 4) {
                inval(c, BF_EV_IPV6_IPV4_IN_IPV6_WRONG_VERSION);
                break;
            }
            c->st->ipv4_in_ipv6++;
        } else {
            c->st->ipv4_in_ipv4++;
        }
        if (tunnel_enter(c))
            decode_ipv4(c, d, len);
        break;
    case IPP_IPV6:
        if (p->ipver == 6) {
            if (len < 40) {
                inval(c, BF_EV_IPV6_IPV6_IN_IPV6_TOO_SMALL);
                break;
            }
            if ((d[0] >> 4) != 6) {
                inval(c, BF_EV_IPV6_IPV6_IN_IPV6_WRONG_VERSION);
                break;
            }
            c->st->ipv6_in_ipv6++;
        } else {
            c->st->ipv6_in_ipv4++;
        }
        if (tunnel_enter(c))
            decode_ipv6(c, d, len);
        break;
    case IPP_SCTP:
        p->l4 = d;
        p->l4_len = len;
        if (len >= 12) {
            p->sp = bf_be16(d);
            p->dp = bf_be16(d + 2);
            p->payload = d + 12;
            p->payload_len = len - 12;
        }
        break;
    default:
        p->l4 = d;
        p->l4_len = len;
        if (p->ipver == 4 && proto >= 143 && proto <= 252)
            ev(c, BF_EV_IPV4_UNKNOWN_PROTOCOL);
        break;
    }
}

/* ---- IPv4 ---- */

/* Returns false when an option is malformed (packet invalid). */
static bool ipv4_options(dctx *c, const uint8_t *o, uint32_t n)
{
    uint16_t seen = 0; /* bit per known option kind, for duplicates */
    while (n > 0) {
        uint8_t t = o[0];
        if (t == 0) /* EOL */
            break;
        if (t == 1) { /* NOP */
            o++;
            n--;
            continue;
        }
        if (n < 2) {
            ev(c, BF_EV_IPV4_OPT_EOL_REQUIRED);
            return false;
        }
        uint8_t ol = o[1];
        if (ol < 2 || ol > n) {
            inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
            return false;
        }
        int bit = -1;
        switch (t) {
        case 7:   /* record route */
        case 131: /* loose source route */
        case 137: /* strict source route */
            bit = t == 7 ? 0 : t == 131 ? 1 : 2;
            if (ol < 3) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            if (o[2] < 4 || o[2] % 4 || o[2] > ol + 1) {
                inval(c, BF_EV_IPV4_OPT_MALFORMED);
                return false;
            }
            break;
        case 68: { /* timestamp */
            bit = 3;
            if (ol < 5) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            uint8_t ptr = o[2], flag = o[3] & 0x0f;
            uint8_t rec = (flag == 1 || flag == 3) ? 8 : 4;
            if (ptr < 5 || (ptr - 5) % rec || ptr > ol + 1) {
                inval(c, BF_EV_IPV4_OPT_MALFORMED);
                return false;
            }
            break;
        }
        case 25: /* quick start */
            bit = 4;
            if (ol != 8) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            break;
        case 130: /* security (RFC 1108) */
            bit = 5;
            if (ol < 3) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            break;
        case 133: /* extended security */
            bit = 6;
            if (ol < 3) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            break;
        case 134: { /* CIPSO: DOI (4) then tags of (type, len>=2) */
            bit = 7;
            if (ol < 8) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            uint32_t i = 6;
            while (i < ol) {
                if (ol - i < 2 || o[i + 1] < 2 || o[i + 1] > ol - i) {
                    inval(c, BF_EV_IPV4_OPT_MALFORMED);
                    return false;
                }
                i += o[i + 1];
            }
            break;
        }
        case 136: /* stream id */
            bit = 8;
            if (ol != 4) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            break;
        case 148: /* router alert */
            bit = 9;
            if (ol != 4) {
                inval(c, BF_EV_IPV4_OPT_INVALID_LEN);
                return false;
            }
            break;
        default:
            ev(c, BF_EV_IPV4_OPT_INVALID);
            break;
        }
        if (bit >= 0) {
            if (seen & (1u << bit))
                ev(c, BF_EV_IPV4_OPT_DUPLICATE);
            seen |= (uint16_t)(1u << bit);
        }
        o += ol;
        n -= ol;
    }
    return true;
}

static void decode_ipv4(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 20) {
        inval(c, BF_EV_IPV4_PKT_TOO_SMALL);
        return;
    }
    if ((d[0] >> 4) != 4) {
        inval(c, BF_EV_IPV4_WRONG_IP_VERSION);
        return;
    }
    uint32_t hlen = (uint32_t)(d[0] & 0x0f) * 4;
    if (hlen < 20) {
        inval(c, BF_EV_IPV4_HLEN_TOO_SMALL);
        return;
    }
    uint32_t iplen = bf_be16(d + 2);
    if (iplen < hlen) {
        inval(c, BF_EV_IPV4_IPLEN_SMALLER_THAN_HLEN);
        return;
    }
    bool complete = true;
    if (iplen > len) {
        ev(c, BF_EV_IPV4_TRUNC_PKT);
        if (!c->snapped || len < hlen) {
            p->flags |= BF_PKT_INVALID;
            return;
        }
        iplen = len; /* cut by the snaplen */
        complete = false;
    }
    if (hlen > 20 && !ipv4_options(c, d + 20, hlen - 20))
        return;

    c->st->ipv4++;
    reset_l4(p);
    c->complete = complete;
    p->ipver = 4;
    p->tos = d[1];
    p->ttl = d[8];
    p->proto = d[9];
    p->src.q[0] = p->src.q[1] = 0;
    p->dst.q[0] = p->dst.q[1] = 0;
    memcpy(p->src.b, d + 12, 4);
    memcpy(p->dst.b, d + 16, 4);
    p->l3 = d;
    p->l3_len = iplen;
    p->l3_hlen = (uint16_t)hlen;
    p->ip_id = bf_be16(d + 4);
    p->frag_id = p->ip_id;
    p->ip6_fh_off = 0;
    uint16_t fo = bf_be16(d + 6);
    p->frag_off = (uint16_t)((fo & 0x1fff) * 8);
    p->frag_mf = (fo & 0x2000) != 0;

    if (c->cfg->checksum_validation && bf_csum_fold(bf_csum_add(0, d, hlen)) != 0xffff) {
        p->flags |= BF_PKT_IPV4_CSUM_BAD;
        c->st->csum_bad_ipv4++;
    }
    if (p->frag_off || p->frag_mf) {
        p->flags |= BF_PKT_FRAGMENT;
        if (p->frag_off == 0)
            decode_l4(c, p->proto, d + hlen, iplen - hlen, true);
        else {
            p->l4 = d + hlen;
            p->l4_len = iplen - hlen;
        }
        return;
    }
    decode_l4(c, p->proto, d + hlen, iplen - hlen, false);
}

/* ---- IPv6 ---- */

static void ipv6_options(dctx *c, const uint8_t *o, uint32_t n, bool hop)
{
    bool only_pad = true;
    uint32_t i = 0;
    while (i < n) {
        uint8_t t = o[i];
        if (t == 0) { /* Pad1 */
            i++;
            continue;
        }
        if (n - i < 2) {
            ev(c, BF_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            return;
        }
        uint8_t ol = o[i + 1];
        if (ol > n - i - 2) {
            ev(c, BF_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            return;
        }
        switch (t) {
        case 1: /* PadN */
            if (ol == 0)
                ev(c, BF_EV_IPV6_ZERO_LEN_PADN);
            break;
        case 0x05: /* router alert */
            only_pad = false;
            if (ol != 2)
                ev(c, BF_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            break;
        case 0xc2: /* jumbo payload */
            only_pad = false;
            if (ol != 4)
                ev(c, BF_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            break;
        case 0xc9: /* home address */
            only_pad = false;
            if (ol != 16)
                ev(c, BF_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            else if (!hop)
                c->ph_src = o + i + 2;
            break;
        default:
            only_pad = false;
            ev(c, hop ? BF_EV_IPV6_HOPOPTS_UNKNOWN_OPT : BF_EV_IPV6_DSTOPTS_UNKNOWN_OPT);
            break;
        }
        i += 2u + ol;
    }
    if (only_pad)
        ev(c, hop ? BF_EV_IPV6_HOPOPTS_ONLY_PADDING : BF_EV_IPV6_DSTOPTS_ONLY_PADDING);
}

static void decode_ipv6(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (len < 40) {
        inval(c, BF_EV_IPV6_PKT_TOO_SMALL);
        return;
    }
    if ((d[0] >> 4) != 6) {
        inval(c, BF_EV_IPV6_WRONG_IP_VERSION);
        return;
    }
    uint32_t total = 40u + bf_be16(d + 4);
    bool complete = true;
    if (total > len) {
        ev(c, BF_EV_IPV6_TRUNC_PKT);
        if (!c->snapped) {
            p->flags |= BF_PKT_INVALID;
            return;
        }
        total = len;
        complete = false;
    }
    c->st->ipv6++;
    reset_l4(p);
    c->complete = complete;
    c->ph_src = c->ph_dst = NULL;
    p->ipver = 6;
    p->tos = (uint8_t)(bf_be16(d) >> 4);
    p->ttl = d[7];
    memcpy(p->src.b, d + 8, 16);
    memcpy(p->dst.b, d + 24, 16);
    p->l3 = d;
    p->l3_len = total;
    p->ip_id = 0;
    p->frag_id = 0;
    p->frag_off = 0;
    p->frag_mf = false;
    p->ip6_fh_off = 0;

    uint8_t nh = d[6];
    uint32_t off = 40;
    bool hh = false, rh = false, fh = false, ah = false, eh = false, first_frag = false;
    int dh = 0;
    for (int n = 0;; n++) {
        const uint8_t *e = d + off;
        uint32_t rem = total - off;
        uint32_t elen;
        if (n >= MAX_IPV6_EXTHDRS && (nh == IPP_HOPOPTS || nh == IPP_DSTOPTS || nh == IPP_ROUTING ||
                                      nh == IPP_FRAGMENT || nh == IPP_AH || nh == IPP_MH ||
                                      nh == IPP_HIP || nh == IPP_SHIM6)) {
            inval(c, BF_EV_TOO_MANY_LAYERS);
            return;
        }
        switch (nh) {
        case IPP_HOPOPTS:
        case IPP_DSTOPTS:
            if (rem < 2 || (elen = ((uint32_t)e[1] + 1) * 8) > rem) {
                inval(c, BF_EV_IPV6_TRUNC_EXTHDR);
                return;
            }
            if (nh == IPP_HOPOPTS) {
                if (hh)
                    ev(c, BF_EV_IPV6_EXTHDR_DUPL_HH);
                hh = true;
            } else if (++dh > 2) {
                ev(c, BF_EV_IPV6_EXTHDR_DUPL_DH);
            }
            ipv6_options(c, e + 2, elen - 2, nh == IPP_HOPOPTS);
            break;
        case IPP_ROUTING:
            if (rem < 4 || (elen = ((uint32_t)e[1] + 1) * 8) > rem) {
                inval(c, BF_EV_IPV6_TRUNC_EXTHDR);
                return;
            }
            if (rh)
                ev(c, BF_EV_IPV6_EXTHDR_DUPL_RH);
            rh = true;
            if (e[2] == 0)
                ev(c, BF_EV_IPV6_RH_TYPE_0);
            /* types 0 and 2 list addresses from byte 8: the last one is the
             * final destination while segments remain */
            if ((e[2] == 0 || e[2] == 2) && e[3] > 0 && elen >= 24)
                c->ph_dst = e + elen - 16;
            break;
        case IPP_MH:
        case IPP_HIP:
        case IPP_SHIM6:
            if (rem < 2 || (elen = ((uint32_t)e[1] + 1) * 8) > rem) {
                inval(c, BF_EV_IPV6_TRUNC_EXTHDR);
                return;
            }
            break;
        case IPP_AH:
            if (rem < 4 || (elen = ((uint32_t)e[1] + 2) * 4) > rem) {
                inval(c, BF_EV_IPV6_TRUNC_EXTHDR);
                return;
            }
            if (ah)
                ev(c, BF_EV_IPV6_EXTHDR_DUPL_AH);
            ah = true;
            if (bf_be16(e + 2) != 0)
                ev(c, BF_EV_IPV6_EXTHDR_AH_RES_NOT_NULL);
            break;
        case IPP_FRAGMENT: {
            if (rem < 8) {
                inval(c, BF_EV_IPV6_TRUNC_EXTHDR);
                return;
            }
            elen = 8;
            if (fh) {
                inval(c, BF_EV_IPV6_EXTHDR_DUPL_FH);
                return;
            }
            fh = true;
            if (e[1] != 0)
                ev(c, BF_EV_IPV6_FH_NON_ZERO_RESERVED_FIELD);
            uint16_t fo = bf_be16(e + 2);
            uint16_t foff = fo & 0xfff8;
            bool mf = fo & 1;
            if (foff == 0 && !mf) { /* atomic fragment: just a header */
                ev(c, BF_EV_IPV6_EXTHDR_USELESS_FH);
                break;
            }
            uint32_t id = bf_be32(e + 4);
            p->flags |= BF_PKT_FRAGMENT;
            p->frag_off = foff;
            p->frag_mf = mf;
            p->frag_id = id;
            p->ip_id = (uint16_t)((id >> 16) ^ (id & 0xffff));
            p->ip6_fh_off = (uint16_t)off;
            if (mf && complete && ((rem - 8) % 8) != 0) {
                inval(c, BF_EV_IPV6_FRAG_INVALID_LENGTH);
                p->proto = e[0];
                p->l3_hlen = (uint16_t)(off + 8);
                return;
            }
            if (foff != 0) { /* rest is the middle of the datagram */
                p->proto = e[0];
                p->l3_hlen = (uint16_t)(off + 8);
                p->l4 = e + 8;
                p->l4_len = rem - 8;
                return;
            }
            first_frag = true;
            break;
        }
        case IPP_ESP:
            if (eh)
                ev(c, BF_EV_IPV6_EXTHDR_DUPL_EH);
            eh = true;
            goto l4;
        case IPP_NONE:
            if (rem > 0)
                ev(c, BF_EV_IPV6_DATA_AFTER_NONE_HEADER);
            goto l4;
        default:
            goto l4;
        }
        nh = e[0];
        off += elen;
    }
l4:
    p->proto = nh;
    p->l3_hlen = (uint16_t)off;
    if (nh == IPP_ESP || nh == IPP_NONE) {
        p->l4 = d + off;
        p->l4_len = total - off;
        return;
    }
    decode_l4(c, nh, d + off, total - off, first_frag);
}

/* ---- link layers ---- */

static void decode_vlan(dctx *c, const uint8_t *d, uint32_t len)
{
    bf_packet *p = c->p;
    if (p->vlan_cnt >= BF_MAX_VLAN) {
        inval(c, BF_EV_VLAN_TOO_MANY_LAYERS);
        return;
    }
    if (len < 4) {
        inval(c, BF_EV_VLAN_HEADER_TOO_SMALL);
        return;
    }
    if (p->vlan_cnt == 0)
        c->st->vlan++;
    else if (p->vlan_cnt == 1)
        c->st->vlan_qinq++;
    else
        c->st->vlan_qinqinq++;
    p->vlan[p->vlan_cnt++] = bf_be16(d) & 0x0fff;
    decode_ethertype(c, bf_be16(d + 2), d + 4, len - 4, true);
}

static void decode_ethertype(dctx *c, uint16_t type, const uint8_t *d, uint32_t len, bool in_vlan)
{
    switch (type) {
    case ET_IPV4:
        decode_ipv4(c, d, len);
        break;
    case ET_IPV6:
        decode_ipv6(c, d, len);
        break;
    case ET_VLAN:
    case ET_QINQ:
    case ET_QINQ_OLD:
        decode_vlan(c, d, len);
        break;
    /* known, not decoded */
    case ET_ARP: case ET_RARP: case ET_PPPOE_DISC: case ET_PPPOE_SESS: case ET_MPLS_UC:
    case ET_MPLS_MC: case ET_8021AH: case ET_DCE: case ET_VNTAG: case ET_ETAG: case ET_NSH:
    case ET_LLDP: case ET_ERSPAN:
        break;
    default:
        c->st->unknown_ethertype++;
        ev(c, in_vlan ? BF_EV_VLAN_UNKNOWN_TYPE : BF_EV_ETHERNET_UNKNOWN_ETHERTYPE);
        break;
    }
}

static void decode_ether(dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 14) {
        inval(c, BF_EV_PKT_TOO_SMALL_ETH);
        return;
    }
    c->st->ethernet++;
    if (!c->p->eth)
        c->p->eth = d;
    decode_ethertype(c, bf_be16(d + 12), d + 14, len - 14, false);
}

static void decode_raw(dctx *c, const uint8_t *d, uint32_t len)
{
    c->st->raw++;
    if (len < 1) {
        inval(c, BF_EV_IPV4_PKT_TOO_SMALL);
        return;
    }
    switch (d[0] >> 4) {
    case 4:
        decode_ipv4(c, d, len);
        break;
    case 6:
        decode_ipv6(c, d, len);
        break;
    default:
        inval(c, BF_EV_IPRAW_INVALID_IP_VERSION);
        break;
    }
}

/* AF_ value of a BSD loopback header, in either byte order */
static int null_af_ipver(const uint8_t *d)
{
    uint32_t af = bf_le32(d);
    if (af > 0xffff)
        af = bf_be32(d);
    switch (af) {
    case 2:
        return 4;
    case 10: /* Linux */
    case 23: /* Windows */
    case 24: /* NetBSD, OpenBSD, BSD/OS */
    case 28: /* FreeBSD, DragonFly */
    case 30: /* Darwin */
        return 6;
    default:
        return 0;
    }
}

static void decode_null(dctx *c, const uint8_t *d, uint32_t len)
{
    c->st->null++;
    if (len < 4) {
        inval(c, BF_EV_LTNULL_PKT_TOO_SMALL);
        return;
    }
    switch (null_af_ipver(d)) {
    case 4:
        decode_ipv4(c, d + 4, len - 4);
        break;
    case 6:
        decode_ipv6(c, d + 4, len - 4);
        break;
    default:
        inval(c, BF_EV_LTNULL_UNSUPPORTED_TYPE);
        break;
    }
}

static uint8_t eff_max_layers(const bf_decode_cfg *cfg)
{
    uint8_t m = cfg->max_layers ? cfg->max_layers : 8;
    return m > HARD_MAX_LAYERS ? HARD_MAX_LAYERS : m;
}

void bf_decode(const bf_decode_cfg *cfg, bf_decode_stats *st, bf_packet *p)
{
    dctx c = {
        .cfg = cfg, .st = st, .p = p,
        .snapped = p->caplen < p->wirelen, .complete = true,
        .max_layers = eff_max_layers(cfg),
    };
    const uint8_t *d = p->data;
    uint32_t len = d ? p->caplen : 0;
    st->pkts++;
    st->bytes += len;
    if (len > st->max_pkt_size)
        st->max_pkt_size = len;

    switch (p->linktype) {
    case BF_LINK_ETHERNET:
        decode_ether(&c, d, len);
        break;
    case BF_LINK_SLL:
        st->sll++;
        if (len < 16) {
            inval(&c, BF_EV_SLL_PKT_TOO_SMALL);
            break;
        }
        decode_ethertype(&c, bf_be16(d + 14), d + 16, len - 16, false);
        break;
    case BF_LINK_SLL2:
        st->sll2++;
        if (len < 20) {
            inval(&c, BF_EV_SLL_PKT_TOO_SMALL);
            break;
        }
        decode_ethertype(&c, bf_be16(d), d + 20, len - 20, false);
        break;
    case BF_LINK_NULL:
    case BF_LINK_LOOP:
        decode_null(&c, d, len);
        break;
    case BF_LINK_RAW:
    case BF_LINK_DLT_RAW:
    case BF_LINK_DLT_RAW2:
        decode_raw(&c, d, len);
        break;
    case BF_LINK_IPV4:
        st->raw++;
        decode_ipv4(&c, d, len);
        break;
    case BF_LINK_IPV6:
        st->raw++;
        decode_ipv6(&c, d, len);
        break;
    default:
        p->flags |= BF_PKT_INVALID;
        break;
    }
    if (p->flags & BF_PKT_INVALID)
        st->invalid++;
}

void bf_decode_ip_at(const bf_decode_cfg *cfg, bf_decode_stats *st, bf_packet *p, uint8_t ipver)
{
    dctx c = {
        .cfg = cfg, .st = st, .p = p,
        .snapped = false, .complete = true,
        .max_layers = eff_max_layers(cfg),
    };
    if (ipver == 4)
        decode_ipv4(&c, p->data, p->caplen);
    else
        decode_ipv6(&c, p->data, p->caplen);
    if (p->flags & BF_PKT_INVALID)
        st->invalid++;
}

/* ---- dispatch hash ----
 * A light walk: no validation beyond bounds, no options, no checksums.  It
 * follows the same tunnels as bf_decode (GRE, VXLAN on 4789, IP-in-IP) so a
 * tunnelled flow hashes on its inner addresses, but never looks inside a
 * fragment (its inner headers are not reliably there): fragments hash on the
 * addresses of the fragmented IP layer, like their reassembled datagram. */

typedef struct hwalk {
    bf_addr a, b;
    uint16_t vlan;
    bool have_vlan, ip;
} hwalk;

static void hw_ether(hwalk *w, const uint8_t *d, uint32_t len, int depth);
static void hw_ip(hwalk *w, const uint8_t *d, uint32_t len, int depth);

static void hw_ethertype(hwalk *w, uint16_t type, const uint8_t *d, uint32_t len, int depth)
{
    for (int i = 0; i < BF_MAX_VLAN + 1 && (type == ET_VLAN || type == ET_QINQ || type == ET_QINQ_OLD); i++) {
        if (len < 4)
            return;
        if (!w->have_vlan) {
            w->vlan = g_dispatch_vlan ? bf_be16(d) & 0x0fff : 0;
            w->have_vlan = true;
        }
        type = bf_be16(d + 2);
        d += 4;
        len -= 4;
    }
    if (type == ET_IPV4 || type == ET_IPV6)
        hw_ip(w, d, len, depth);
}

static void hw_ether(hwalk *w, const uint8_t *d, uint32_t len, int depth)
{
    if (len >= 14)
        hw_ethertype(w, bf_be16(d + 12), d + 14, len - 14, depth);
}

static void hw_ip(hwalk *w, const uint8_t *d, uint32_t len, int depth)
{
    if (depth > HARD_MAX_LAYERS || len < 1)
        return;
    uint8_t proto;
    const uint8_t *l4;
    uint32_t l4len;
    bf_addr a = {0}, b = {0};
    if ((d[0] >> 4) == 4) {
        if (len < 20)
            return;
        uint32_t hl = (uint32_t)(d[0] & 0xf) * 4;
        uint32_t tl = bf_be16(d + 2);
        if (hl < 20 || hl > len)
            return;
        memcpy(a.b, d + 12, 4);
        memcpy(b.b, d + 16, 4);
        w->a = a;
        w->b = b;
        w->ip = true;
        if (bf_be16(d + 6) & 0x3fff) /* fragment */
            return;
        if (tl > len || tl < hl)
            tl = len;
        proto = d[9];
        l4 = d + hl;
        l4len = tl - hl;
    } else if ((d[0] >> 4) == 6) {
        if (len < 40)
            return;
        memcpy(a.b, d + 8, 16);
        memcpy(b.b, d + 24, 16);
        w->a = a;
        w->b = b;
        w->ip = true;
        uint32_t tl = 40u + bf_be16(d + 4);
        if (tl > len)
            tl = len;
        proto = d[6];
        uint32_t off = 40;
        for (int n = 0; n < 8; n++) {
            if (proto == IPP_HOPOPTS || proto == IPP_DSTOPTS || proto == IPP_ROUTING) {
                if (tl - off < 8)
                    return;
                uint32_t el = ((uint32_t)d[off + 1] + 1) * 8;
                if (el > tl - off)
                    return;
                proto = d[off];
                off += el;
            } else if (proto == IPP_FRAGMENT) {
                if (tl - off < 8)
                    return;
                if (bf_be16(d + off + 2) & 0xfff9) /* a real fragment */
                    return;
                proto = d[off];
                off += 8;
            } else {
                break;
            }
        }
        l4 = d + off;
        l4len = tl - off;
    } else {
        return;
    }
    switch (proto) {
    case IPP_IPIP:
    case IPP_IPV6:
        hw_ip(w, l4, l4len, depth + 1);
        break;
    case IPP_GRE: {
        if (l4len < 4)
            return;
        uint16_t fl = bf_be16(l4), type = bf_be16(l4 + 2);
        uint32_t hl;
        if ((fl & 7) == 0) {
            if (fl & 0x4000) /* source routing: rare, not followed */
                return;
            hl = 4 + ((fl & 0x8000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) + ((fl & 0x1000) ? 4 : 0);
        } else if ((fl & 7) == 1) {
            hl = 8 + ((fl & 0x1000) ? 4 : 0) + ((fl & 0x0080) ? 4 : 0);
        } else {
            return;
        }
        if (hl > l4len)
            return;
        const uint8_t *in = l4 + hl;
        uint32_t il = l4len - hl;
        if (type == ET_IPV4 || type == ET_IPV6) {
            hw_ip(w, in, il, depth + 1);
        } else if (type == ET_TEB) {
            hw_ether(w, in, il, depth + 1);
        } else if (type == ET_ERSPAN) {
            if (!(fl & 0x1000))
                hw_ether(w, in, il, depth + 1);
            else if (il >= 8)
                hw_ether(w, in + 8, il - 8, depth + 1);
        } else if (type == ET_WCCP) {
            if (il >= 4 && (in[0] >> 4) != 4)
                hw_ip(w, in + 4, il - 4, depth + 1);
            else
                hw_ip(w, in, il, depth + 1);
        } else if (type == ET_PPP) {
            if (il >= 2 && in[0] == 0xff && in[1] == 0x03) {
                in += 2;
                il -= 2;
            }
            if (il >= 1 && (in[0] == 0x21 || in[0] == 0x57))
                hw_ip(w, in + 1, il - 1, depth + 1);
            else if (il >= 2 && in[0] == 0 && (in[1] == 0x21 || in[1] == 0x57))
                hw_ip(w, in + 2, il - 2, depth + 1);
        }
        break;
    }
    case IPP_UDP:
        if (l4len >= 8 + 8 + 14 && bf_be16(l4 + 2) == 4789 && l4[8] == 0x08 && l4[15] == 0)
            hw_ether(w, l4 + 16, l4len - 16, depth + 1);
        break;
    default:
        break;
    }
}

static uint64_t hash_pair(const bf_addr *x, const bf_addr *y, uint16_t vlan)
{
    const bf_addr *lo = x, *hi = y;
    if (bf_addr_cmp(x, y) > 0) {
        lo = y;
        hi = x;
    }
    uint64_t w[5] = {lo->q[0], lo->q[1], hi->q[0], hi->q[1], vlan};
    return bf_hash_words(w, 5);
}

uint64_t bf_decode_dispatch_hash(const uint8_t *data, uint32_t caplen, uint16_t linktype)
{
    hwalk w = {0};
    if (!data)
        return 0;
    switch (linktype) {
    case BF_LINK_ETHERNET:
        hw_ether(&w, data, caplen, 0);
        break;
    case BF_LINK_SLL:
        if (caplen >= 16)
            hw_ethertype(&w, bf_be16(data + 14), data + 16, caplen - 16, 0);
        break;
    case BF_LINK_SLL2:
        if (caplen >= 20)
            hw_ethertype(&w, bf_be16(data), data + 20, caplen - 20, 0);
        break;
    case BF_LINK_NULL:
    case BF_LINK_LOOP:
        if (caplen >= 4 && null_af_ipver(data))
            hw_ip(&w, data + 4, caplen - 4, 0);
        break;
    case BF_LINK_RAW:
    case BF_LINK_DLT_RAW:
    case BF_LINK_DLT_RAW2:
    case BF_LINK_IPV4:
    case BF_LINK_IPV6:
        hw_ip(&w, data, caplen, 0);
        break;
    default:
        break;
    }
    if (!w.ip)
        return 0;
    return hash_pair(&w.a, &w.b, w.vlan);
}

uint64_t bf_decode_packet_hash(const bf_packet *p)
{
    if (p->ipver != 4 && p->ipver != 6)
        return 0;
    return hash_pair(&p->src, &p->dst, p->vlan_cnt ? p->vlan[0] : 0);
}
