/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/engine_int.h: what the files of the signature engine share (not
 * a public API): the loaded engine (engine.c builds it), per-flow state
 * (flowstate.c), thresholds (threshold.c), verdicts and alert output
 * (alert.c), and inspection of packets, streams and transactions
 * (inspect.c).
 */
#ifndef BF_DETECT_ENGINE_INT_H
#define BF_DETECT_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/match.h"
#include "detect/mpm.h"
#include "detect/parse.h"
#include "stream/stream.h"

extern const struct bf_det_buf_info {
    const char *kw;
    uint16_t app;
    uint8_t dirs;
    bool multi;
} bf_det_buf[BF_DBUF_MAX];

/* ------------------------------------------------------------- model */

enum { K_IPONLY = 0, K_PKT, K_STREAM, K_TX };
enum { C_TCP = 0, C_UDP, C_ICMP4, C_ICMP6, C_OTHER, NCLASS };

typedef struct sinfo {
    uint8_t kind;
    uint8_t classes;    /* bit per C_* (packet / ip-only rules) */
    uint16_t app;       /* app filter (packet rules) / app group (tx rules);
                         * BF_APP_UNKNOWN: every app */
    bool fb_read, fb_write;
} sinfo;

/* IPv4 interval index: segment k = [b[k], b[k+1]) holds sigs[off[k]..off[k+1]) */
typedef struct ipidx {
    uint32_t nb;
    uint64_t *b;
    uint32_t *off;
    uint32_t *sigs;
} ipidx;

/* The rules a group inspects.  Those with a fast pattern are found by the
 * prefilter (one database per buffer); the others are indexed so a packet
 * only meets those that can match it: by a specific IPv4 source or
 * destination set, else by a short destination or source port list, else
 * in the generic list. */
typedef struct group {
    bf_mpm *mpm[BF_DBUF_MAX];
    uint32_t *nonmpm;        /* generic */
    uint32_t nnonmpm;
    ipidx nm_src, nm_dst;    /* by the packet's IPv4 source / destination */
    ipidx nm_src6, nm_dst6;  /* IPv6: keyed by the upper 64 bits */
    uint32_t *nm_port_off[2], *nm_port_sigs[2];  /* [0] dest port, [1] source port:
                                                  * sigs[off[port]..off[port+1]) */
    uint32_t nindexed;
} group;


#define THR_SHARDS 16
#define THR_SLOTS 4096        /* per shard: the table is bounded (evictions are counted) */
#define THR_PROBE 16
#define THR_UNIQUE_MAX 1024   /* live unique_on port bitmaps (8 KiB each) */

typedef struct thr_entry {
    uint32_t sig1;           /* sig idx + 1; 0: free */
    uint16_t kind;           /* index in the sig's threshold list */
    bf_addr a, b;
    uint64_t fid;
    bf_ts start;             /* window start */
    bf_ts tmo;               /* rate_filter: new action active since (0: not) */
    uint64_t next;           /* backoff: next count that alerts */
    uint32_t count;
    uint64_t *ports;         /* detection_filter unique_on: port bitmap, or NULL */
} thr_entry;

typedef struct thr_shard {
    pthread_mutex_t lock;
    thr_entry *e;
} thr_shard;

typedef struct det_prof {
    uint64_t checks, matches, ns;
} det_prof;

/* One threshold of a sig: the rule's own (threshold, detection_filter) and
 * those of threshold.config (threshold/event_filter, rate_filter, suppress
 * with addresses), in Suricata's order: suppressions first. */
typedef struct det_thr {
    bf_threshold th;
    bf_ipset ips;            /* suppress: the addresses */
} det_thr;

typedef struct det_thr_list {
    uint16_t n;
    det_thr *e;
} det_thr_list;

/* threshold.c: what the thresholds of a match say */
enum { THR_DROP_MATCH = 0,   /* no alert, no action */
       THR_ALERT = 1,        /* alert and action */
       THR_SILENT = 2 };     /* action, no alert (suppressed, over a limit) */

struct bf_detect {
    atomic_int refs;
    bf_parse_ctx pctx;
    bf_sig **sigs;
    sinfo *si;
    uint32_t nsigs;
    bool ips;
    bool drop_log_all;       /* drop events: every dropped packet (else the
                              * first of each flow direction) */
    uint32_t alert_max;

    group pkt[NCLASS][2];
    group stream[2];
    group pktstream[2];      /* tcp payload rules, also run over stream chunks */
    group app[BF_APP_MAX][2];
    bool any_tx, any_stream, any_pktstream;
    bool stream_payload;     /* detect.stream-payload: tcp rules on stream data too */

    group iponly;            /* IP-only rules: generic list + address index */
    bool any_iponly;

    det_prof *prof;          /* per rule, when profiling (merged at thread end) */
    pthread_mutex_t prof_lock;

    det_thr_list *sthr;      /* per sig (NULL: no thresholds anywhere) */
    thr_shard thr[THR_SHARDS];  /* allocated when sthr is */
    atomic_ullong thr_evicted;
    atomic_uint thr_unique_live;
};

/* ----------------------------------------------------- per-flow state */

typedef struct txrec {
    uint64_t tx_id;
    uint16_t app;
    uint16_t ndone, cap;
    uint32_t *done;          /* sigs that matched in this transaction */
} txrec;

#define MAX_TXREC 32

/* Stream data of one direction kept for stream inspection and alert
 * payloads: the last bytes delivered, lost ranges written as
 * "[N bytes missing]" (marks[] says where). */
#define SBUF_MARKS 8
typedef struct sbuf {
    uint8_t *b;
    uint32_t len, cap;
    uint32_t run;            /* start of the data after the last gap */
    uint32_t pend;           /* start of data tcp-stream rules have not seen */
    uint32_t nmarks;
    struct { uint32_t a, z; } marks[SBUF_MARKS];
} sbuf;

typedef struct dstate {
    const bf_detect *d;      /* engine that made it (reload: reset) */
    uint64_t *bits;          /* flowbits */
    int64_t *ints;           /* flowints */
    uint64_t *int_set;
    uint32_t ntx;
    txrec tx[MAX_TXREC];
    sbuf sb[2];
} dstate;

/* -------------------------------------------------------- the thread */

/* A match of the current packet, kept until the packet's verdict is made
 * (det_flush): pass / drop apply in rule order, a pass ends the list. */
typedef struct qalert {
    uint32_t sig;
    uint32_t off, len;       /* alert line in qbuf, without its closing "}\n";
                              * len 0: no alert (pass, noalert, suppressed) */
    uint8_t dir;
    bool blocked;
    bool flow_scope;         /* pass / drop apply to the flow, else the packet */
    uint8_t action;          /* the rule's action, or a rate_filter's new one */
    bool rate;               /* a rate_filter changed the action */
} qalert;

struct bf_detect_thread {
    bf_detect *d;
    bf_eve *eve;
    bf_bus *bus;
    FILE *fast;
    bf_match_scratch *ms;
    bf_mpm_scratch *mps;
    uint32_t *cand;
    uint32_t ncand, capcand;
    uint32_t *seen;
    uint32_t gen;
    qalert *q;
    uint32_t nq, capq;
    char *qbuf;
    size_t qlen, qcap;
    bf_packet *qpkt;
    bf_flow *qflow;
    uint32_t pass1;          /* 1 + lowest pass rule matched on the queued
                              * packet (0: none): later rules need no look */
    char *vbuf;              /* alert line + verdict */
    size_t vcap;
    /* the match being reported (alert fields) */
    bool cur_stream;         /* matched on stream data */
    const uint8_t *cur_spay; /* stream payload to log */
    uint32_t cur_spay_len;
    const char *cur_src;     /* pkt_src override ("stream (flow timeout)") */
    /* sigs matched on the stream for the packet cur_spkt (no second alert
     * from the packet payload) */
    const bf_packet *sm_pkt;
    uint32_t *sm;
    uint32_t nsm, capsm;
    bf_detect_stats st;
    det_prof *prof;          /* this thread's, when profiling */
};


static inline size_t det_seg_find(const uint64_t *b, uint32_t nb, uint64_t v)
{
    /* largest k with b[k] <= v; nb if none */
    size_t lo = 0, hi = nb;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : nb;
}
static inline int det_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static inline unsigned det_class_of_proto(uint8_t ipproto, int ipver)
{
    switch (ipproto) {
    case 6: return C_TCP;
    case 17: return C_UDP;
    case 1: return C_ICMP4;
    case 58: return C_ICMP6;
    default: (void)ipver; return C_OTHER;
    }
}

/* ============================================================ header */

typedef struct hdr {
    const bf_addr *src, *dst;
    uint16_t sp, dp;
    int ipver;
} hdr;

static inline void det_hdr_from(hdr *h, const bf_packet *p, const bf_flow *f, int dir)
{
    if (p && p->ipver) {
        *h = (hdr){&p->src, &p->dst, p->sp, p->dp, p->ipver};
    } else {
        *h = (hdr){&f->addr[dir], &f->addr[!dir], f->port[dir], f->port[!dir], f->ipver};
    }
}

static inline bool det_hdr_match(const bf_sig *s, const hdr *h)
{
    if (bf_ipset_match(&s->src, h->src, h->ipver) && bf_ipset_match(&s->dst, h->dst, h->ipver) &&
        bf_portset_match(&s->sp, h->sp) && bf_portset_match(&s->dp, h->dp))
        return true;
    if (s->flags & BF_SIG_BIDIR)
        return bf_ipset_match(&s->src, h->dst, h->ipver) &&
               bf_ipset_match(&s->dst, h->src, h->ipver) && bf_portset_match(&s->sp, h->dp) &&
               bf_portset_match(&s->dp, h->sp);
    return false;
}

/* flow:established: TCP needs a session that completed its handshake (or
 * was picked up midstream); other protocols, traffic both ways. */
static inline bool det_flow_established(const bf_flow *f)
{
    if (!f || f->state == BF_FLOW_NEW)
        return false;
    if (f->proto == 6)
        return f->tcp && f->tcp->state >= BF_TCP_ESTABLISHED;
    return true;
}

static inline bool det_flow_kw_match(const bf_sig *s, const bf_flow *f, int dir, const bf_packet *p)
{
    uint16_t fl = s->flow;
    if (!fl)
        return true;
    if ((fl & BF_FK_TO_SERVER) && dir != 0)
        return false;
    if ((fl & BF_FK_TO_CLIENT) && dir != 1)
        return false;
    if ((fl & BF_FK_ESTABLISHED) && !det_flow_established(f))
        return false;
    if ((fl & BF_FK_NOT_ESTABLISHED) && det_flow_established(f))
        return false;
    if (p) {
        bool frag = (p->flags & BF_PKT_REASSEMBLED) != 0;
        if ((fl & BF_FK_ONLY_FRAG) && !frag)
            return false;
        if ((fl & BF_FK_NO_FRAG) && frag)
            return false;
    }
    return true;
}


/* Is a packet rule run over stream chunks too (tcp payload rules)? */
static inline bool det_pkt_sig_on_stream(const bf_sig *s, const sinfo *si)
{
    if (!(si->classes & (1u << C_TCP)) || s->proto == BF_SP_TCP_PKT || !s->nbufs || s->npkw ||
        (s->flow & BF_FK_NO_STREAM))
        return false;
    for (unsigned i = 0; i < s->nbufs; i++)
        if (s->bufs[i].buf != BF_DBUF_PKT)
            return false;
    return true;
}

/* flowstate.c */
void det_txrec_clear(txrec *r);
void det_dstate_free(dstate *ds);
dstate *det_dstate_get(bf_detect_thread *t, bf_flow *f, bool create);
bool det_fb_conditions(const bf_sig *s, const bf_flow *f);
bool det_fi_conditions(const bf_sig *s, const bf_flow *f);
void det_fb_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f);
void det_fi_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f);
txrec *det_tx_get(bf_detect_thread *t, dstate *ds, uint16_t app, uint64_t id);
void det_tx_drop(dstate *ds, txrec *r);
bool det_tx_done_has(const txrec *r, uint32_t sig);
void det_tx_done_add(txrec *r, uint32_t sig);

/* threshold.c: the thresholds of sig s for a match (THR_*); a rate_filter that
 * fires replaces *action (and sets *rate_modified). */
int det_thr_eval(bf_detect *d, const bf_sig *s, const bf_packet *p, const bf_flow *f, int dir,
                 bf_ts now, uint8_t *action, bool *rate_modified);
/* One threshold against one match (exposed for unit tests). */
int det_thr_one(bf_detect *d, const bf_sig *s, const det_thr *t, uint16_t kind,
                const bf_packet *p, const bf_flow *f, int dir, bf_ts now, uint8_t *action,
                bool *rate_modified);
/* Builds d->sthr from the sigs' own thresholds and the threshold file (config
 * key threshold-file; NULL/absent: none).  Bad lines are reported as
 * "file:line: message" through on_err and skipped.  False only when the file
 * cannot be read (err set). */
bool det_thr_setup(bf_detect *d, bf_config *cfg, bool quiet, char *err, size_t errlen);
void det_thr_free(bf_detect *d);

/* inspect.c: the stream-buffer memory budget (detect.stream-memcap) */
void det_sbuf_setcap(uint64_t cap);
void det_sbuf_release(uint64_t bytes);

/* alert.c */
void det_on_match(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f, int dir,
                  const bf_tx_view *v);
void det_flush(bf_detect_thread *t);
void det_drop_flow_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f);

#endif
