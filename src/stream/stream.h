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
 *
 * What "different data" can be detected: delivered bytes are not kept, so a
 * retransmission overlapping already-delivered data is trimmed (first wins)
 * without comparison; only overlaps with out-of-order bytes still held are
 * compared.  TCP Fast Open data on a SYN is held (not delivered) until the
 * SYN-ACK acknowledges it, so data the server refused is never delivered.
 *
 * Limits (everything here is attacker-written): all sequence arithmetic is
 * modular 32-bit; held segments per direction are capped (max_ooo_segments;
 * reaching the cap declares a gap up to the first held segment), session and
 * segment memory is capped (memcap; drops counted); data is delivered up to
 * reassembly_depth bytes of stream offset (data plus gaps) per direction.
 * Every per-packet walk is bounded by the held-segment cap.
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
    uint32_t max_regions;     /* most disjoint regions held at once (the
                               * in-order edge plus out-of-order runs), as
                               * Suricata's ts/tc_max_regions */
    uint64_t delivered;       /* bytes given to the consumer */
    uint64_t urgent_oob;
    struct bf_tcp_seg *ooo;   /* out-of-order segments, sorted by seq */
    uint32_t ooo_cnt;
    uint32_t ooo_bytes;
    /* added by stream/ (private bookkeeping) */
    struct bf_tcp_seg *ooo_tail;
    uint32_t regions;         /* disjoint out-of-order runs held now */
    uint32_t fin_seq;         /* sequence number of this side's FIN */
    uint64_t gap_bytes;       /* bytes declared lost (stream offset =
                               * delivered + gap_bytes) */
    bool next_known;          /* next_seq is meaningful */
    bool ack_known;           /* last_ack/window are meaningful */
    bool fin_acked;           /* the peer acknowledged this side's FIN */
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
    uint8_t midstream_policy; /* enum bf_exc_policy (BF_EP_IGNORE by default) */
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
    /* added */
    uint64_t no_session;      /* packets not tracked: no SYN, midstream off */
    uint64_t ooo_limit;       /* gaps declared because the queue was full */
    uint64_t ooo_limit_drop;  /* out-of-order pieces dropped at the cap */
    uint64_t ep_midstream[8]; /* midstream exception policy applied, by
                               * enum bf_exc_policy (EVE
                               * stats.exception_policy.tcp.midstream) */
} bf_stream_stats;

/* Receives stream data in order for one direction.  `gap` > 0 means that
 * many bytes were lost just before `data` (data may then be empty: NULL with
 * len 0).  `p` is the packet being processed, which may belong to the other
 * direction (an ACK declaring a gap, a SYN-ACK releasing TFO data), and is
 * NULL when called from bf_stream_flow_end. */
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

/* Consistency check of a session's held segments (sorted, disjoint, ahead
 * of next_seq, counters right); for tests and fuzzing: O(held). */
bool bf_stream_session_check(const bf_tcp_session *t);

/* "syn_sent", "established", "fin_wait1", ... as Suricata logs tcp.state */
const char *bf_tcp_state_name(uint8_t st);

#endif
