/* SPDX-License-Identifier: GPL-2.0-or-later
 * stream/ owns TCP: the connection state machine (handshake, midstream
 * pick-up, FIN/RST), sequence and acknowledgement tracking per direction,
 * and in-order reassembly for the application layer.  In-order data is
 * handed over without copying; only out-of-order segments are copied, held
 * under a memory cap until the hole fills or is declared a gap.
 *
 * Overlap policy ("first"): bytes already accepted in a direction are never
 * replaced; an overlapping segment that disagrees with them raises
 * stream.reassembly_overlap_different_data and its differing bytes are
 * ignored.
 *
 * Delivery: data is delivered when it is in order (it does not wait for the
 * peer's ACK), as Zeek does and as an inline IPS must.  A hole is declared a
 * gap when the peer acknowledges past it, when the out-of-order queue for
 * the direction reaches its limit, or at flow end; the consumer is told of
 * every gap and its length before the data that follows it.
 */
#ifndef BF_STREAM_STREAM_H
#define BF_STREAM_STREAM_H

#include "flow/flow.h"

enum bf_tcp_state {
    BF_TCP_NONE = 0,
    BF_TCP_SYN_SENT,
    BF_TCP_SYN_RECV,
    BF_TCP_ESTABLISHED,
    BF_TCP_FIN_WAIT1,
    BF_TCP_FIN_WAIT2,
    BF_TCP_TIME_WAIT,
    BF_TCP_LAST_ACK,
    BF_TCP_CLOSE_WAIT,
    BF_TCP_CLOSING,
    BF_TCP_CLOSED,
};

struct bf_tcp_seg; /* out-of-order segment (stream-private) */

typedef struct bf_tcp_dir {
    uint32_t isn;             /* initial sequence number */
    uint32_t next_seq;        /* next in-order byte expected (relative: absolute) */
    uint32_t last_ack;        /* highest ACK this side sent */
    uint32_t window;          /* scaled */
    uint8_t wscale;
    bool isn_known;
    bool fin_seen, rst_seen;
    bool gap;                 /* a gap was declared in this direction */
    bool depth_reached;
    uint32_t max_regions;     /* most disjoint out-of-order regions held */
    uint64_t delivered;       /* bytes given to the consumer */
    uint64_t urgent_oob;
    struct bf_tcp_seg *ooo;   /* out-of-order segments, sorted by seq */
    uint32_t ooo_cnt;
    uint32_t ooo_bytes;
} bf_tcp_dir;

typedef struct bf_tcp_session {
    uint8_t state;            /* enum bf_tcp_state */
    uint8_t flags;
    bf_tcp_dir d[2];          /* [0] client->server, [1] server->client */
} bf_tcp_session;

typedef struct bf_stream_cfg {
    uint64_t memcap;          /* sessions + held segments, per worker */
    uint64_t reassembly_depth;/* bytes per direction delivered (0: no limit) */
    bool midstream;           /* pick up sessions without a handshake */
    bool async_oneside;       /* accept one-sided sessions */
    uint32_t max_ooo_segments;/* per direction before declaring a gap */
    bool checksum_validation; /* ignore packets with a bad TCP checksum */
} bf_stream_cfg;

void bf_stream_cfg_default(bf_stream_cfg *c);

typedef struct bf_stream_stats {
    uint64_t sessions, midstream_pickups, syn, synack, rst;
    uint64_t invalid_checksum;
    uint64_t reassembly_gap, overlap, overlap_diff_data;
    uint64_t segment_memcap_drop, ssn_memcap_drop;
    uint64_t stream_depth_reached, pkt_retransmission, pkt_invalid;
    uint64_t memuse;
} bf_stream_stats;

/* Receives stream data in order for one direction.  `gap` > 0 means that
 * many bytes were lost just before `data` (data may then be empty). */
typedef void (*bf_stream_data_fn)(void *ud, bf_flow *f, bf_packet *p, int dir,
                                  const uint8_t *data, uint32_t len, uint32_t gap);

typedef struct bf_stream bf_stream;

bf_stream *bf_stream_new(const bf_stream_cfg *cfg, bf_flow_table *ft, bf_stream_data_fn on_data,
                         void *ud);
void bf_stream_free(bf_stream *s);
const bf_stream_stats *bf_stream_get_stats(const bf_stream *s);

/* Tracks one TCP packet of flow f (p->flow == f, p->dir set): updates the
 * session (creating it on first packet), raises stream events on p, calls
 * bf_flow_set_state on state changes, and delivers in-order payload. */
void bf_stream_packet(bf_stream *s, bf_flow *f, bf_packet *p);

/* At flow end: delivers what is still held (declaring gaps) and frees the
 * session; f->tcp becomes NULL. */
void bf_stream_flow_end(bf_stream *s, bf_flow *f);

/* "syn_sent", "established", "fin_wait1", ... as Suricata logs tcp.state */
const char *bf_tcp_state_name(uint8_t st);

#endif
