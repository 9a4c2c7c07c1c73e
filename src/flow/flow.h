/* SPDX-License-Identifier: GPL-2.0-or-later
 * flow/ owns the per-worker flow table: bidirectional lookup by 5-tuple and
 * VLAN, flow creation, per-protocol and per-state timeouts driven by packet
 * time, the memory cap with its emergency mode, and the end of flows
 * (timeout, eviction under pressure, shutdown).  It knows nothing of stream
 * or application state: it only carries opaque pointers to them and calls
 * the owner's end hook before freeing a flow.  Every table belongs to one
 * worker thread: no locks.
 */
#ifndef BF_FLOW_FLOW_H
#define BF_FLOW_FLOW_H

#include "decode/packet.h"

struct bf_tcp_session;

enum bf_flow_state {
    BF_FLOW_NEW = 0,          /* packets seen one way only / handshake */
    BF_FLOW_ESTABLISHED,      /* packets seen both ways / TCP established */
    BF_FLOW_CLOSED,           /* TCP FIN both ways or RST */
};

enum bf_flow_end_reason {
    BF_FLOW_END_TIMEOUT = 0,  /* EVE "timeout" */
    BF_FLOW_END_FORCED,       /* evicted under memory pressure: "forced" */
    BF_FLOW_END_SHUTDOWN,     /* end of input: "shutdown" */
};

/* timeout classes: one LRU list each, so expiry is O(expired) */
enum bf_flow_tclass {
    BF_TC_TCP_NEW, BF_TC_TCP_EST, BF_TC_TCP_CLOSED,
    BF_TC_UDP_NEW, BF_TC_UDP_EST,
    BF_TC_ICMP_NEW, BF_TC_ICMP_EST,
    BF_TC_OTHER_NEW, BF_TC_OTHER_EST,
    BF_TC_MAX
};

/* flow->flags */
enum {
    BF_FLOW_F_ALERTED = 1u << 0,
    BF_FLOW_F_EMERGENCY = 1u << 1,   /* created while in emergency mode */
    BF_FLOW_F_DROP = 1u << 2,        /* IPS: drop every packet of the flow */
    BF_FLOW_F_PASS = 1u << 3,        /* no more inspection */
    BF_FLOW_F_MIDSTREAM = 1u << 4,   /* TCP picked up without handshake */
    BF_FLOW_F_REVERSED = 1u << 5,    /* first packet seen was server->client */
    BF_FLOW_F_STATE_EXT = 1u << 6,   /* state driven by bf_flow_set_state */
    BF_FLOW_F_IPONLY_TS = 1u << 7,   /* detect: IP-only rules ran to server */
    BF_FLOW_F_IPONLY_TC = 1u << 8,   /* detect: IP-only rules ran to client */
    BF_FLOW_F_DROP_LOGGED_TS = 1u << 9,  /* detect: a drop event was written to server */
    BF_FLOW_F_DROP_LOGGED_TC = 1u << 10, /* detect: ... to client */
    BF_FLOW_F_BYPASSED = 1u << 11,   /* exception policy bypass: no more work */
};

/* Exception policies (Suricata's exception-policy, stream.midstream-policy) */
enum bf_exc_policy {
    BF_EP_NONE = 0,           /* not triggered */
    BF_EP_IGNORE,
    BF_EP_PASS_FLOW,
    BF_EP_PASS_PACKET,
    BF_EP_DROP_FLOW,
    BF_EP_DROP_PACKET,
    BF_EP_REJECT,
    BF_EP_BYPASS,
};

typedef struct bf_flow {
    /* --- cache line 1: what a hash chain walk reads --------------------- */
    struct bf_flow *hnext;    /* hash chain / free list (owned by flow/) */
    uint64_t hash;            /* bf_flow_hash_packet() of the key */
    /* key, oriented client -> server (addr[0]/port[0] is the client).
     * ICMP echo request/reply: both ports hold the echo id; other ICMP:
     * port[0] = type, port[1] = code. */
    bf_addr addr[2];
    uint16_t port[2];
    uint16_t vlan[2];         /* outer, inner VLAN id (0: none) */
    uint8_t proto;
    uint8_t ipver;
    uint8_t state;            /* enum bf_flow_state */
    uint8_t tclass;           /* enum bf_flow_tclass: which LRU list */
    uint32_t flags;

    /* --- cache line 2: what every packet updates ------------------------ */
    struct bf_flow *lprev, *lnext;  /* timeout-class LRU (owned by flow/) */
    bf_ts lru_ts;             /* table clock at last activity (LRU order) */
    bf_ts last;               /* timestamp of the last packet */
    uint64_t pkts[2], bytes[2];   /* [0] to server, [1] to client */

    /* --- cache line 3 --------------------------------------------------- */
    uint8_t tcp_flags[2];         /* OR of flags each way */
    uint8_t icmp_type, icmp_code; /* first ICMP packet's type/code */
    uint16_t app_proto;           /* enum bf_app_proto (app/app.h) */
    uint16_t app_proto_ts, app_proto_tc;
    uint16_t alert_cnt;
    uint32_t tx_cnt;              /* app-layer transactions (set at flow end) */
    uint8_t ep_midstream;         /* enum bf_exc_policy applied on midstream pick-up */
    uint32_t app_mem;             /* bytes held by app state (accounting) */
    uint64_t flow_id;         /* EVE flow_id, unique in the run, < 2^53 */
    bf_ts start;              /* timestamp of the first packet */
    struct bf_tcp_session *tcp;   /* owned by stream/ */
    void *app_state;              /* owned by app/ */
    void *detect_state;           /* owned by detect/ (flowbits, tx progress) */
} bf_flow;

typedef struct bf_flow_cfg {
    uint64_t memcap;              /* bytes for this table's flows (and the
                                   * bf_flow_mem_adjust extras; the bucket
                                   * array is not counted) */
    uint32_t hash_size;           /* buckets (power of two; rounded up;
                                   * raised so a full table averages at
                                   * most 2 flows per bucket) */
    bf_ts timeout[BF_TC_MAX];     /* normal timeouts */
    bf_ts emerg_timeout[BF_TC_MAX];
    uint32_t emerg_recovery_pct;  /* leave emergency below this % of memcap */
    uint32_t worker_id;           /* folded into flow ids (low 10 bits) */
} bf_flow_cfg;

void bf_flow_cfg_default(bf_flow_cfg *c);
/* vlan.use-for-tracking (process-wide, set before the workers start):
 * false: VLAN ids are not part of the flow key (still logged from the
 * packet that created the flow). */
void bf_flow_set_vlan_tracking(bool on);

typedef struct bf_flow_stats {
    uint64_t total, tcp, udp, icmpv4, icmpv6, other;  /* flows created */
    uint64_t active;                /* in the table now */
    uint64_t memuse;                /* bytes now */
    uint64_t memcap_drops;          /* packets that got no flow: cap hit */
    uint64_t emerg_mode_entered, emerg_mode_over;
    uint64_t evicted;               /* flows ended early to make room */
    uint64_t timeouts;              /* flows ended by timeout */
    uint64_t tcp_reuse;             /* new SYN on a closed 5-tuple */
    uint64_t end_state[3];          /* flows ended by state */
} bf_flow_stats;

typedef struct bf_flow_table bf_flow_table;

/* Called for every flow that ends, before its memory is reused.  The hook
 * logs the flow and frees stream/app state (setting the pointers to NULL). */
typedef void (*bf_flow_end_fn)(void *ud, bf_flow *f, enum bf_flow_end_reason why);

bf_flow_table *bf_flow_table_new(const bf_flow_cfg *cfg, bf_flow_end_fn on_end, void *ud);
/* Ends every flow (reason shutdown) and frees the table. */
void bf_flow_table_free(bf_flow_table *t);
const bf_flow_stats *bf_flow_table_stats(const bf_flow_table *t);

/* Finds or creates the flow of a decoded packet (needs ipver != 0), updates
 * counters, flags, last-seen, state class, and sets p->flow, p->dir and
 * p->flow_hash.
 * Returns NULL (and counts memcap_drops) when the cap leaves no room even
 * after emergency eviction, or for packets that do not form flows (not IP,
 * BF_PKT_INVALID, or an IP fragment not yet reassembled; not counted).
 * A TCP SYN on a flow in CLOSED state (or with FIN/RST seen both ways) ends
 * the old flow and starts a new one; so does any packet on a flow idle past
 * its timeout that bf_flow_timeout has not collected yet.
 *
 * State: a flow becomes ESTABLISHED once packets were seen both ways.  For
 * TCP this automatic rule (and an automatic CLOSED on RST, or FIN both ways)
 * applies only while nobody drives the state: once f->tcp is set or
 * bf_flow_set_state was called, stream/ owns the TCP state.
 *
 * Making room may end other flows (through the end hook): a bf_flow pointer
 * stays valid only until the next bf_flow_handle_packet / bf_flow_timeout /
 * bf_flow_flush_all call on the table. */
bf_flow *bf_flow_handle_packet(bf_flow_table *t, bf_packet *p);

/* Moves f to the state and to the matching timeout list (stream/ calls this
 * when TCP state changes). */
void bf_flow_set_state(bf_flow_table *t, bf_flow *f, enum bf_flow_state st);

/* Reverses the flow's orientation: the endpoint taken as the client becomes
 * the server (addresses, ports, per-direction counters, TCP flags and
 * app-layer protocols swap; BF_FLOW_F_REVERSED toggles), and p->dir flips
 * when p (the packet being handled) is given.  Lookups stay valid (the hash
 * is symmetric).  Only for a flow nothing has yet recorded per-direction
 * state for: the app layer calls it on the first datagram of a UDP flow
 * when that datagram is a response (Suricata's probing-parser "reverse
 * flow", e.g. a DNS response whose query was not captured). */
void bf_flow_swap(bf_flow *f, bf_packet *p);

/* Accounts extra bytes held for a flow (stream/app state) against the flow
 * memcap; negative to release. */
void bf_flow_mem_adjust(bf_flow_table *t, int64_t delta);

/* Ends flows idle past their timeout at packet time `now`.  Cheap when
 * nothing expires; call at least once a second of packet time. */
void bf_flow_timeout(bf_flow_table *t, bf_ts now);

/* Ends every flow (reason shutdown). */
void bf_flow_flush_all(bf_flow_table *t);

/* "new", "established", "closed" */
const char *bf_flow_state_name(uint8_t st);
/* "drop_flow", ... (EVE); NULL for BF_EP_NONE */
const char *bf_exc_policy_name(uint8_t ep);
/* Parses "drop-flow", "pass-packet", "auto", ... for a flow-wide policy
 * (midstream): ips decides auto and what is valid (IDS: drops are ignored);
 * returns BF_EP_NONE for an unknown name. */
uint8_t bf_exc_policy_parse(const char *name, bool ips, bool midstream);
/* "timeout", "forced", "shutdown" */
const char *bf_flow_reason_name(enum bf_flow_end_reason r);

/* Symmetric hash of a packet's flow key (same both directions); 0 for
 * packets that form no flow. */
uint64_t bf_flow_hash_packet(const bf_packet *p);

/* Bytes accounted against the memcap for each flow (sizeof(bf_flow)
 * rounded up to whole cache lines, as allocated). */
size_t bf_flow_mem_per_flow(void);

/* True while the table is in emergency mode (emergency timeouts). */
bool bf_flow_table_emergency(const bf_flow_table *t);

#endif
