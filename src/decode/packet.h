/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/packet.h: the decoded packet every later stage reads.
 *
 * A bf_packet never owns its bytes: `data` points into the capture buffer
 * (or into a defrag buffer for a reassembled datagram) and stays valid for
 * the packet's trip through the pipeline.  Decoding fills the layer fields
 * below and never reads past data + caplen.  When the packet is tunnelled
 * (GRE, VXLAN, IP-in-IP), the L3/L4 fields describe the innermost packet and
 * `tunnel_depth` says how many encapsulations were removed.
 */
#ifndef BF_DECODE_PACKET_H
#define BF_DECODE_PACKET_H

#include "common/bf.h"
#include "decode/events.h"

struct bf_flow;

/* Link types (values of libpcap's DLT_ / LINKTYPE_ we decode). */
enum {
    BF_LINK_NULL = 0,        /* BSD loopback, host-order AF_ */
    BF_LINK_ETHERNET = 1,
    BF_LINK_RAW = 101,       /* LINKTYPE_RAW: starts at IP header */
    BF_LINK_LOOP = 108,      /* OpenBSD loopback, network-order AF_ */
    BF_LINK_SLL = 113,       /* Linux cooked v1 */
    BF_LINK_SLL2 = 276,      /* Linux cooked v2 */
    BF_LINK_IPV4 = 228,
    BF_LINK_IPV6 = 229,
    BF_LINK_DLT_RAW = 12,    /* DLT_RAW on some BSDs (= 14 on others) */
    BF_LINK_DLT_RAW2 = 14,
};

/* TCP flag bits, as on the wire. */
enum {
    BF_TH_FIN = 0x01, BF_TH_SYN = 0x02, BF_TH_RST = 0x04, BF_TH_PSH = 0x08,
    BF_TH_ACK = 0x10, BF_TH_URG = 0x20, BF_TH_ECE = 0x40, BF_TH_CWR = 0x80,
};

/* bf_packet.flags */
enum {
    BF_PKT_IPV4_CSUM_BAD = 1u << 0,
    BF_PKT_L4_CSUM_BAD = 1u << 1,    /* TCP/UDP/ICMP checksum wrong */
    BF_PKT_FRAGMENT = 1u << 2,       /* an IP fragment (not yet reassembled) */
    BF_PKT_REASSEMBLED = 1u << 3,    /* the datagram rebuilt by defrag */
    BF_PKT_INVALID = 1u << 4,        /* decoding stopped on an error: no L4 */
    BF_PKT_TCP_OPT_TS = 1u << 5,     /* TCP timestamp option present */
    BF_PKT_TCP_OPT_SACKOK = 1u << 6,
    BF_PKT_TCP_OPT_WSCALE = 1u << 7,
    BF_PKT_TCP_OPT_MSS = 1u << 8,
    BF_PKT_TCP_OPT_SACK = 1u << 9,
    BF_PKT_TCP_OPT_TFO = 1u << 10,   /* TCP fast open cookie option */
    BF_PKT_TUNNEL = 1u << 11,
    BF_PKT_PSEUDO = 1u << 12,        /* made by the engine (flush, tick) */
    BF_PKT_DROP = 1u << 13,          /* verdict: drop (IPS) */
    BF_PKT_ICMP_ERROR = 1u << 14,    /* ICMP error carrying an inner header */
};

#define BF_MAX_PKT_EVENTS 8
#define BF_MAX_VLAN 3

typedef struct bf_packet {
    /* capture */
    bf_ts ts;
    uint64_t pcap_cnt;       /* 1-based index in the input, as Suricata */
    const uint8_t *data;     /* first byte of the link layer */
    uint32_t caplen;         /* bytes available at data */
    uint32_t wirelen;        /* original length on the wire */
    uint16_t linktype;
    uint16_t input_id;       /* which input file/interface */

    uint32_t flags;

    /* L2 */
    const uint8_t *eth;      /* Ethernet header, NULL if none */
    uint16_t vlan[BF_MAX_VLAN];
    uint8_t vlan_cnt;
    uint8_t tunnel_depth;

    /* L3 (innermost) */
    uint8_t ipver;           /* 4, 6, or 0 when not IP */
    uint8_t proto;           /* IP protocol number of the L4 payload */
    uint8_t ttl;             /* TTL / hop limit */
    uint8_t tos;
    uint16_t ip_id;          /* IPv4 id; IPv6: 32-bit frag id folded (hi ^ lo) */
    uint16_t frag_off;       /* fragment offset in bytes */
    bool frag_mf;            /* more fragments */
    uint16_t ip6_fh_off;     /* IPv6 fragment: offset of the fragment header from l3 */
    uint32_t frag_id;        /* full fragment id (IPv4: 16 bits, IPv6: 32 bits) */
    bf_addr src, dst;
    const uint8_t *l3;
    uint32_t l3_len;         /* IP total length as bounded by caplen */
    uint16_t l3_hlen;        /* IP header length incl. IPv6 extension headers */

    /* L4 */
    uint16_t sp, dp;         /* ports; ICMP: sp = type, dp = code (as Suricata) */
    const uint8_t *l4;
    uint32_t l4_len;
    uint8_t icmp_type, icmp_code;
    uint8_t tcp_flags;
    uint8_t tcp_hlen;
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_win;
    uint16_t tcp_urp;
    uint16_t tcp_mss;
    uint8_t tcp_wscale;
    uint8_t tcp_sack_cnt;
    uint32_t tcp_tsval, tcp_tsecr;
    const uint8_t *payload;
    uint32_t payload_len;

    /* ICMP errors (BF_PKT_ICMP_ERROR): the embedded offending header, as
     * sent (src/sp are the sender of the original packet, i.e. usually the
     * receiver of this ICMP message). */
    const uint8_t *icmp_inner;   /* embedded IP header */
    uint32_t icmp_inner_len;     /* bytes available there */
    bf_addr icmp_inner_src, icmp_inner_dst;
    uint16_t icmp_inner_sp, icmp_inner_dp;   /* 0 unless TCP/UDP/SCTP */
    uint8_t icmp_inner_proto;

    /* anomalies raised while decoding and tracking this packet */
    uint16_t events[BF_MAX_PKT_EVENTS];
    uint8_t nevents;

    /* set by the flow stage */
    struct bf_flow *flow;
    uint8_t dir;             /* 0: to server (client->server), 1: to client */
    uint64_t flow_hash;      /* symmetric hash of the flow key (dispatch) */
} bf_packet;

static inline void bf_packet_event(bf_packet *p, uint16_t ev)
{
    for (uint8_t i = 0; i < p->nevents; i++)
        if (p->events[i] == ev)
            return;
    if (p->nevents < BF_MAX_PKT_EVENTS)
        p->events[p->nevents++] = ev;
}

static inline bool bf_packet_has_event(const bf_packet *p, uint16_t ev)
{
    for (uint8_t i = 0; i < p->nevents; i++)
        if (p->events[i] == ev)
            return true;
    return false;
}

#endif
