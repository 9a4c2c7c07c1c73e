/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/ owns link, network and transport decoding (Ethernet, 802.1Q/ad,
 * Linux cooked v1/v2, BSD null/loop, raw IP, IPv4 with options, IPv6 with
 * extension headers, TCP with options, UDP, ICMPv4/v6, GRE, VXLAN,
 * IP-in-IP), checksum validation, and IPv4/IPv6 fragment reassembly (defrag,
 * with timeouts and a memory cap).  Input is attacker-written: every read is
 * bounds-checked against caplen, malformed input raises a packet event
 * (decode/events.def) and never aborts decoding of the rest.
 */
#ifndef BF_DECODE_DECODE_H
#define BF_DECODE_DECODE_H

#include "decode/packet.h"

typedef struct bf_decode_cfg {
    bool checksum_validation;   /* -k none turns it off */
    uint16_t vxlan_port;        /* 4789 */
    uint8_t max_layers;         /* encapsulation depth limit (default 8) */
} bf_decode_cfg;

void bf_decode_cfg_default(bf_decode_cfg *c);

/* Counters, named as in Suricata's stats.decoder.* where they exist. */
typedef struct bf_decode_stats {
    uint64_t pkts, bytes, invalid;
    uint64_t ethernet, sll, sll2, null, raw;
    uint64_t ipv4, ipv6, tcp, udp, icmpv4, icmpv6, gre, vxlan;
    uint64_t vlan, vlan_qinq, vlan_qinqinq;
    uint64_t ipv4_in_ipv4, ipv6_in_ipv4, ipv4_in_ipv6, ipv6_in_ipv6;
    uint64_t unknown_ethertype, too_many_layers;
    uint64_t max_pkt_size;
    uint64_t csum_bad_ipv4, csum_bad_tcp, csum_bad_udp, csum_bad_icmp;
    uint64_t events[BF_EV_MAX];  /* per anomaly id */
} bf_decode_stats;

/* Decodes p in place.  Before the call p->data, caplen, wirelen, linktype,
 * ts and pcap_cnt are set and every other field is zero.  After it, the layer
 * fields are filled as far as the packet allows; BF_PKT_INVALID is set when
 * decoding stopped at an error (the event says which). */
void bf_decode(const bf_decode_cfg *cfg, bf_decode_stats *st, bf_packet *p);

/* Symmetric hash of (lower address, higher address, outer VLAN) found by a
 * light walk of the headers (through VLAN and tunnels), for dispatching
 * packets to workers: every packet of a flow, and every fragment of a
 * datagram, hashes the same.  Returns 0 for non-IP packets. */
uint64_t bf_decode_dispatch_hash(const uint8_t *data, uint32_t caplen, uint16_t linktype);
/* vlan.use-for-tracking false: VLAN ids are left out of the dispatch hash
 * (process-wide, set before the workers start). */
void bf_decode_set_dispatch_vlan(bool on);

/* The same hash from a decoded packet's innermost addresses and first VLAN
 * (equal to bf_decode_dispatch_hash of its bytes for non-fragmented packets,
 * and usable for reassembled datagrams, whose link header is gone). */
uint64_t bf_decode_packet_hash(const bf_packet *p);

/* ---- defrag ---- */

typedef struct bf_defrag bf_defrag;

typedef struct bf_defrag_cfg {
    uint64_t memcap;          /* bytes for trackers + fragment copies */
    bf_ts timeout;            /* a datagram not completed by then is dropped */
    uint32_t max_frags;       /* per datagram */
} bf_defrag_cfg;

void bf_defrag_cfg_default(bf_defrag_cfg *c);

typedef struct bf_defrag_stats {
    uint64_t ipv4_fragments, ipv4_reassembled, ipv6_fragments, ipv6_reassembled;
    uint64_t timeouts, memcap_drops, max_frags_reached, overlaps;
    uint64_t memuse;          /* current bytes in use */
} bf_defrag_stats;

bf_defrag *bf_defrag_new(const bf_defrag_cfg *cfg);
void bf_defrag_free(bf_defrag *d);

/* Feeds a decoded fragment (BF_PKT_FRAGMENT set).  When it completes its
 * datagram, returns true and fills *out with the reassembled datagram,
 * decoded (BF_PKT_REASSEMBLED set, same ts/vlan/tunnel context as the last
 * fragment).  out->data stays valid until the next call on this defrag or
 * bf_defrag_timeout.  Overlap policy: first fragment wins (BSD-like), overlaps
 * with different data raise an event on *out. */
bool bf_defrag_packet(bf_defrag *d, const bf_decode_cfg *dcfg, bf_decode_stats *dst,
                      bf_defrag_stats *st, bf_packet *frag, bf_packet *out);

/* Drops trackers idle past the timeout (packet time). */
void bf_defrag_timeout(bf_defrag *d, bf_defrag_stats *st, bf_ts now);

#endif
