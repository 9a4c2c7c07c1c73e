/* SPDX-License-Identifier: GPL-2.0-or-later
 * flow/flow.c: the per-worker flow table.
 *
 * Layout: a power-of-two array of bucket heads with singly linked chains
 * (keyed symmetric hash, so an attacker cannot aim at one chain), one LRU
 * list per timeout class ordered by the table clock at last activity, and a
 * free list of flows carved from cache-line aligned slabs.  Slabs are only
 * allocated when a flow is created, the free list is empty and the memcap
 * has room, so the pool never holds more than memcap / flow size flows and
 * the steady state allocates nothing.
 *
 * The table clock (t->now) is the highest packet time seen: LRU lists are
 * ordered by it even when capture timestamps step backwards, so a timeout
 * pass only looks at list heads and stops at the first live flow.
 */
#include "flow/flow.h"

#include "common/hash.h"

#include <stdlib.h>

#define FLOW_ALIGN 64
#define FLOW_SLAB_MAX 64        /* flows per slab */
#define EVICT_BUDGET 4          /* flows evicted at most per flow created */
#define TIMEOUT_BUDGET_CAP 8    /* timeout work when at the cap in emergency */
#define ID_WORKER_BITS 10
#define ID_SEQ_MAX ((1ULL << (53 - ID_WORKER_BITS)) - 1)

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

typedef struct flow_slot {
    bf_flow f;
} __attribute__((aligned(FLOW_ALIGN))) flow_slot;

#define FLOW_MEM ((uint64_t)sizeof(flow_slot))

typedef struct flow_slab {
    struct flow_slab *next;
    uint32_t n;
    flow_slot *slots;
} flow_slab;

typedef struct lru_list {
    bf_flow *head, *tail;
} lru_list;

struct bf_flow_table {
    bf_flow_cfg cfg;
    bf_flow_end_fn on_end;
    void *ud;

    bf_flow **buckets;
    uint64_t mask;

    lru_list lru[BF_TC_MAX];
    const bf_ts *tmo;           /* cfg.timeout or cfg.emerg_timeout */
    bool emerg;
    uint64_t recovery_bytes;    /* leave emergency below this */

    bf_ts now;                  /* highest packet time seen */
    uint64_t id_seq;

    bf_flow *free_list;
    flow_slab *slabs;
    uint64_t pool_flows, pool_max;

    bf_flow_stats st;
};

/* ---------------------------------------------------------------- config */

void bf_flow_cfg_default(bf_flow_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->memcap = 128ULL << 20;
    c->hash_size = 65536;
    c->emerg_recovery_pct = 80;
    c->worker_id = 0;

    bf_ts *n = c->timeout, *e = c->emerg_timeout;
    n[BF_TC_TCP_NEW] = 60 * BF_SEC;
    n[BF_TC_TCP_EST] = 600 * BF_SEC;
    n[BF_TC_TCP_CLOSED] = 60 * BF_SEC;
    n[BF_TC_UDP_NEW] = 30 * BF_SEC;
    n[BF_TC_UDP_EST] = 300 * BF_SEC;
    n[BF_TC_ICMP_NEW] = 30 * BF_SEC;
    n[BF_TC_ICMP_EST] = 300 * BF_SEC;
    n[BF_TC_OTHER_NEW] = 30 * BF_SEC;
    n[BF_TC_OTHER_EST] = 300 * BF_SEC;

    e[BF_TC_TCP_NEW] = 10 * BF_SEC;
    e[BF_TC_TCP_EST] = 300 * BF_SEC;
    e[BF_TC_TCP_CLOSED] = 20 * BF_SEC;
    e[BF_TC_UDP_NEW] = 10 * BF_SEC;
    e[BF_TC_UDP_EST] = 100 * BF_SEC;
    e[BF_TC_ICMP_NEW] = 10 * BF_SEC;
    e[BF_TC_ICMP_EST] = 100 * BF_SEC;
    e[BF_TC_OTHER_NEW] = 10 * BF_SEC;
    e[BF_TC_OTHER_EST] = 100 * BF_SEC;
}

size_t bf_flow_mem_per_flow(void) { return sizeof(flow_slot); }

const char *bf_flow_state_name(uint8_t st)
{
    switch (st) {
    case BF_FLOW_NEW: return "new";
    case BF_FLOW_ESTABLISHED: return "established";
    case BF_FLOW_CLOSED: return "closed";
    }
    return "unknown";
}

const char *bf_flow_reason_name(enum bf_flow_end_reason r)
{
    switch (r) {
    case BF_FLOW_END_TIMEOUT: return "timeout";
    case BF_FLOW_END_FORCED: return "forced";
    case BF_FLOW_END_SHUTDOWN: return "shutdown";
    }
    return "unknown";
}

/* ------------------------------------------------------------------- key */

typedef struct flow_key {
    const bf_addr *src, *dst;
    uint16_t sp, dp;
    uint16_t vlan[2];
    uint8_t proto, ipver;
    uint8_t echo;               /* ICMP echo request/reply pair */
} flow_key;

static inline bool is_icmp(uint8_t proto)
{
    return proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
}

static inline bool icmp_is_echo(uint8_t proto, uint8_t type)
{
    if (proto == IPPROTO_ICMP_)
        return type == 8 || type == 0;
    return type == 128 || type == 129;
}

static inline bool forms_flow(const bf_packet *p)
{
    if (p->ipver != 4 && p->ipver != 6)
        return false;
    if (p->flags & BF_PKT_INVALID)
        return false;
    /* a fragment gets its flow once reassembled (as Suricata) */
    if ((p->flags & (BF_PKT_FRAGMENT | BF_PKT_REASSEMBLED)) == BF_PKT_FRAGMENT)
        return false;
    return true;
}

/* vlan.use-for-tracking: VLAN ids are part of the flow key (default) */
static bool g_vlan_tracking = true;
void bf_flow_set_vlan_tracking(bool on) { g_vlan_tracking = on; }

static inline void key_from_packet(const bf_packet *p, flow_key *k)
{
    k->src = &p->src;
    k->dst = &p->dst;
    k->proto = p->proto;
    k->ipver = p->ipver;
    k->echo = 0;
    k->vlan[0] = g_vlan_tracking && p->vlan_cnt > 0 ? p->vlan[0] : 0;
    k->vlan[1] = g_vlan_tracking && p->vlan_cnt > 1 ? p->vlan[1] : 0;
    if (BF_UNLIKELY(is_icmp(p->proto))) {
        if (icmp_is_echo(p->proto, p->icmp_type)) {
            uint16_t id = 0;
            if (p->l4 && p->l4_len >= 8)
                id = bf_be16(p->l4 + 4);
            k->sp = k->dp = id;
            k->echo = 1;
        } else {
            k->sp = p->icmp_type;
            k->dp = p->icmp_code;
        }
    } else {
        k->sp = p->sp;
        k->dp = p->dp;
    }
}

/* Symmetric: the endpoints are put in a canonical order first. */
static inline uint64_t key_hash(const flow_key *k)
{
    const bf_addr *a = k->src, *b = k->dst;
    uint16_t pa = k->sp, pb = k->dp;
    bool swap = a->q[0] > b->q[0] ||
                (a->q[0] == b->q[0] && (a->q[1] > b->q[1] || (a->q[1] == b->q[1] && pa > pb)));
    if (swap) {
        const bf_addr *ta = a;
        a = b;
        b = ta;
        uint16_t tp = pa;
        pa = pb;
        pb = tp;
    }
    uint64_t m0 = (uint64_t)pa << 48 | (uint64_t)pb << 32 | (uint64_t)k->vlan[0] << 16 | k->vlan[1];
    uint64_t m1 = (uint64_t)k->proto << 16 | (uint64_t)k->ipver << 8 | k->echo;
    if (k->ipver == 4) {
        uint64_t w[3] = {(uint64_t)a->w[0] << 32 | b->w[0], m0, m1};
        return bf_hash_words(w, 3);
    }
    uint64_t w[6] = {a->q[0], a->q[1], b->q[0], b->q[1], m0, m1};
    return bf_hash_words(w, 6);
}

uint64_t bf_flow_hash_packet(const bf_packet *p)
{
    if (!forms_flow(p))
        return 0;
    flow_key k;
    key_from_packet(p, &k);
    return key_hash(&k);
}

/* -1: no match, 0: packet goes client->server, 1: server->client */
static inline int flow_match(const bf_flow *f, const flow_key *k, uint64_t h)
{
    if (f->hash != h || f->proto != k->proto || f->ipver != k->ipver ||
        (g_vlan_tracking && (f->vlan[0] != k->vlan[0] || f->vlan[1] != k->vlan[1])))
        return -1;
    if (BF_UNLIKELY(is_icmp(k->proto)) && icmp_is_echo(f->proto, f->icmp_type) != (k->echo != 0))
        return -1;
    if (f->port[0] == k->sp && f->port[1] == k->dp && bf_addr_eq(&f->addr[0], k->src) &&
        bf_addr_eq(&f->addr[1], k->dst))
        return 0;
    if (f->port[0] == k->dp && f->port[1] == k->sp && bf_addr_eq(&f->addr[0], k->dst) &&
        bf_addr_eq(&f->addr[1], k->src))
        return 1;
    return -1;
}

/* ------------------------------------------------------------------- LRU */

static inline uint8_t tclass_of(uint8_t proto, uint8_t state)
{
    switch (proto) {
    case IPPROTO_TCP_:
        return state == BF_FLOW_NEW ? BF_TC_TCP_NEW
             : state == BF_FLOW_ESTABLISHED ? BF_TC_TCP_EST : BF_TC_TCP_CLOSED;
    case IPPROTO_UDP_:
        return state == BF_FLOW_NEW ? BF_TC_UDP_NEW : BF_TC_UDP_EST;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        return state == BF_FLOW_NEW ? BF_TC_ICMP_NEW : BF_TC_ICMP_EST;
    default:
        return state == BF_FLOW_NEW ? BF_TC_OTHER_NEW : BF_TC_OTHER_EST;
    }
}

static inline void lru_unlink(bf_flow_table *t, bf_flow *f)
{
    lru_list *l = &t->lru[f->tclass];
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static inline void lru_append(bf_flow_table *t, bf_flow *f)
{
    lru_list *l = &t->lru[f->tclass];
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail)
        l->tail->lnext = f;
    else
        l->head = f;
    l->tail = f;
}

/* Marks activity: the flow goes to the tail of its class list. */
static inline void lru_touch(bf_flow_table *t, bf_flow *f)
{
    f->lru_ts = t->now;
    if (t->lru[f->tclass].tail != f) {
        lru_unlink(t, f);
        lru_append(t, f);
    }
}

static inline void flow_state_change(bf_flow_table *t, bf_flow *f, uint8_t st)
{
    uint8_t tc = tclass_of(f->proto, st);
    f->state = st;
    if (tc != f->tclass) {
        lru_unlink(t, f);
        f->tclass = tc;
        f->lru_ts = BF_MAX(f->lru_ts, t->now);
        lru_append(t, f);
    }
}

/* ------------------------------------------------------- memory and ends */

static inline void emerg_check_over(bf_flow_table *t)
{
    if (BF_UNLIKELY(t->emerg) && t->st.memuse < t->recovery_bytes) {
        t->emerg = false;
        t->tmo = t->cfg.timeout;
        t->st.emerg_mode_over++;
    }
}

static void hash_unlink(bf_flow_table *t, bf_flow *f)
{
    bf_flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    f->hnext = NULL;
}

static void flow_end(bf_flow_table *t, bf_flow *f, enum bf_flow_end_reason why)
{
    if (t->on_end)
        t->on_end(t->ud, f, why);
    hash_unlink(t, f);
    lru_unlink(t, f);
    t->st.end_state[f->state < 3 ? f->state : BF_FLOW_CLOSED]++;
    t->st.active--;
    t->st.memuse = t->st.memuse >= FLOW_MEM ? t->st.memuse - FLOW_MEM : 0;
    f->hnext = t->free_list;
    t->free_list = f;
    emerg_check_over(t);
}

static inline bool flow_expired(const bf_flow_table *t, const bf_flow *f)
{
    return t->now >= f->lru_ts + t->tmo[f->tclass];
}

/* Ends expired flows from the class list heads, at most `budget`. */
static uint64_t timeout_pass(bf_flow_table *t, uint64_t budget)
{
    uint64_t n = 0;
    for (int c = 0; c < BF_TC_MAX && n < budget; c++) {
        bf_flow *f;
        while (n < budget && (f = t->lru[c].head) != NULL && flow_expired(t, f)) {
            flow_end(t, f, BF_FLOW_END_TIMEOUT);
            t->st.timeouts++;
            n++;
        }
    }
    return n;
}

/* Eviction order: flows that never saw an answer first (spoofed floods),
 * then closed TCP flows, then established ones; oldest within a group. */
static const uint8_t evict_groups[3][4] = {
    {BF_TC_TCP_NEW, BF_TC_UDP_NEW, BF_TC_ICMP_NEW, BF_TC_OTHER_NEW},
    {BF_TC_TCP_CLOSED, BF_TC_TCP_CLOSED, BF_TC_TCP_CLOSED, BF_TC_TCP_CLOSED},
    {BF_TC_TCP_EST, BF_TC_UDP_EST, BF_TC_ICMP_EST, BF_TC_OTHER_EST},
};

static bool evict_one(bf_flow_table *t)
{
    for (int g = 0; g < 3; g++) {
        bf_flow *best = NULL;
        for (int i = 0; i < 4; i++) {
            bf_flow *h = t->lru[evict_groups[g][i]].head;
            if (h && (!best || h->lru_ts < best->lru_ts))
                best = h;
        }
        if (best) {
            flow_end(t, best, BF_FLOW_END_FORCED);
            t->st.evicted++;
            return true;
        }
    }
    return false;
}

static inline bool has_room(const bf_flow_table *t)
{
    return t->st.memuse + FLOW_MEM <= t->cfg.memcap;
}

/* Makes room for one flow: emergency mode, timeouts, bounded eviction. */
static bool make_room(bf_flow_table *t)
{
    if (!t->emerg) {
        t->emerg = true;
        t->tmo = t->cfg.emerg_timeout;
        t->st.emerg_mode_entered++;
        timeout_pass(t, UINT64_MAX);
    } else {
        timeout_pass(t, TIMEOUT_BUDGET_CAP);
    }
    for (int i = 0; i < EVICT_BUDGET && !has_room(t); i++)
        if (!evict_one(t))
            break;
    return has_room(t);
}

static bf_flow *flow_alloc(bf_flow_table *t)
{
    if (BF_UNLIKELY(!has_room(t)) && !make_room(t))
        return NULL;
    if (BF_UNLIKELY(!t->free_list)) {
        uint64_t n = BF_MIN((uint64_t)FLOW_SLAB_MAX, t->pool_max - t->pool_flows);
        if (n == 0)
            return NULL; /* cannot happen: pool_max covers the cap */
        flow_slab *s = bf_malloc(sizeof *s);
        s->slots = aligned_alloc(FLOW_ALIGN, n * sizeof(flow_slot));
        if (!s->slots) {
            free(s);
            return NULL;
        }
        s->n = (uint32_t)n;
        s->next = t->slabs;
        t->slabs = s;
        t->pool_flows += n;
        for (uint64_t i = n; i-- > 0;) {
            s->slots[i].f.hnext = t->free_list;
            t->free_list = &s->slots[i].f;
        }
    }
    bf_flow *f = t->free_list;
    t->free_list = f->hnext;
    t->st.memuse += FLOW_MEM;
    t->st.active++;
    return f;
}

static uint64_t next_flow_id(bf_flow_table *t)
{
    if (BF_UNLIKELY(++t->id_seq > ID_SEQ_MAX))
        t->id_seq = 1;
    return t->id_seq << ID_WORKER_BITS | (t->cfg.worker_id & ((1u << ID_WORKER_BITS) - 1));
}

static bf_flow *flow_create(bf_flow_table *t, const bf_packet *p, const flow_key *k, uint64_t h)
{
    bf_flow *f = flow_alloc(t);
    if (!f) {
        t->st.memcap_drops++;
        return NULL;
    }
    memset(f, 0, sizeof *f);
    bool rev = p->proto == IPPROTO_TCP_ && (p->tcp_flags & (BF_TH_SYN | BF_TH_ACK)) == (BF_TH_SYN | BF_TH_ACK);
    int c = rev ? 1 : 0;
    f->addr[c] = *k->src;
    f->addr[c ^ 1] = *k->dst;
    f->port[c] = k->sp;
    f->port[c ^ 1] = k->dp;
    /* logged even when not part of the key */
    f->vlan[0] = p->vlan_cnt > 0 ? p->vlan[0] : 0;
    f->vlan[1] = p->vlan_cnt > 1 ? p->vlan[1] : 0;
    f->proto = k->proto;
    f->ipver = k->ipver;
    f->hash = h;
    f->flags = (rev ? BF_FLOW_F_REVERSED : 0) | (t->emerg ? BF_FLOW_F_EMERGENCY : 0);
    f->flow_id = next_flow_id(t);
    f->start = f->last = p->ts;
    f->lru_ts = t->now;
    if (is_icmp(k->proto)) {
        f->icmp_type = p->icmp_type;
        f->icmp_code = p->icmp_code;
    }
    f->state = BF_FLOW_NEW;
    f->tclass = tclass_of(f->proto, f->state);
    lru_append(t, f);
    bf_flow **b = &t->buckets[h & t->mask];
    f->hnext = *b;
    *b = f;

    t->st.total++;
    switch (k->proto) {
    case IPPROTO_TCP_: t->st.tcp++; break;
    case IPPROTO_UDP_: t->st.udp++; break;
    case IPPROTO_ICMP_: t->st.icmpv4++; break;
    case IPPROTO_ICMPV6_: t->st.icmpv6++; break;
    default: t->st.other++; break;
    }
    return f;
}

/* ----------------------------------------------------------------- table */

bf_flow_table *bf_flow_table_new(const bf_flow_cfg *cfg, bf_flow_end_fn on_end, void *ud)
{
    bf_flow_table *t = bf_calloc(1, sizeof *t);
    t->cfg = *cfg;
    t->on_end = on_end;
    t->ud = ud;

    t->pool_max = cfg->memcap / FLOW_MEM;
    /* hash_size is a minimum: a full table keeps chains at <= 2 flows per
     * bucket on average, so a flood at the cap does not walk long chains */
    uint64_t hs = BF_MAX((uint64_t)cfg->hash_size, t->pool_max / 2);
    if (hs > (1u << 28))
        hs = 1u << 28;
    uint64_t n = 1;
    while (n < hs)
        n <<= 1;
    t->buckets = bf_calloc(n, sizeof *t->buckets);
    t->mask = n - 1;

    uint32_t pct = cfg->emerg_recovery_pct;
    if (pct == 0 || pct > 100)
        pct = 80;
    t->recovery_bytes = cfg->memcap / 100 * pct + cfg->memcap % 100 * pct / 100;
    t->tmo = t->cfg.timeout;
    return t;
}

static int cmp_start(const void *a, const void *b)
{
    const bf_flow *x = *(bf_flow *const *)a, *y = *(bf_flow *const *)b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

void bf_flow_flush_all(bf_flow_table *t)
{
    uint64_t n = t->st.active, i = 0;
    if (n == 0)
        return;
    bf_flow **v = malloc(n * sizeof *v);
    if (v) {
        for (int c = 0; c < BF_TC_MAX; c++)
            for (bf_flow *f = t->lru[c].head; f && i < n; f = f->lnext)
                v[i++] = f;
        qsort(v, i, sizeof *v, cmp_start);
        for (uint64_t j = 0; j < i; j++)
            flow_end(t, v[j], BF_FLOW_END_SHUTDOWN);
        free(v);
    }
    /* whatever is left (no memory for the sort): list order */
    for (int c = 0; c < BF_TC_MAX; c++)
        while (t->lru[c].head)
            flow_end(t, t->lru[c].head, BF_FLOW_END_SHUTDOWN);
}

void bf_flow_table_free(bf_flow_table *t)
{
    if (!t)
        return;
    bf_flow_flush_all(t);
    for (flow_slab *s = t->slabs, *nx; s; s = nx) {
        nx = s->next;
        free(s->slots);
        free(s);
    }
    free(t->buckets);
    free(t);
}

const bf_flow_stats *bf_flow_table_stats(const bf_flow_table *t) { return &t->st; }

bool bf_flow_table_emergency(const bf_flow_table *t) { return t->emerg; }

void bf_flow_mem_adjust(bf_flow_table *t, int64_t delta)
{
    if (delta >= 0) {
        t->st.memuse += (uint64_t)delta;
    } else {
        uint64_t d = (uint64_t)(-(delta + 1)) + 1;
        t->st.memuse = t->st.memuse >= d ? t->st.memuse - d : 0;
        emerg_check_over(t);
    }
}

void bf_flow_set_state(bf_flow_table *t, bf_flow *f, enum bf_flow_state st)
{
    if ((unsigned)st > BF_FLOW_CLOSED)
        return;
    f->flags |= BF_FLOW_F_STATE_EXT;
    if (f->state != st)
        flow_state_change(t, f, (uint8_t)st);
}

void bf_flow_timeout(bf_flow_table *t, bf_ts now)
{
    if (now > t->now)
        t->now = now;
    timeout_pass(t, UINT64_MAX);
    emerg_check_over(t);
}

/* ---------------------------------------------------------------- packet */

static inline bool tcp_finished(const bf_flow *f)
{
    const uint8_t fr = BF_TH_FIN | BF_TH_RST;
    return f->state == BF_FLOW_CLOSED || ((f->tcp_flags[0] & fr) && (f->tcp_flags[1] & fr));
}

void bf_flow_swap(bf_flow *f, bf_packet *p)
{
#define SWAP2(T, a)                                                                                \
    do {                                                                                           \
        T tmp_ = (a)[0];                                                                           \
        (a)[0] = (a)[1];                                                                           \
        (a)[1] = tmp_;                                                                             \
    } while (0)
    SWAP2(bf_addr, f->addr);
    SWAP2(uint16_t, f->port);
    SWAP2(uint64_t, f->pkts);
    SWAP2(uint64_t, f->bytes);
    SWAP2(uint8_t, f->tcp_flags);
#undef SWAP2
    uint16_t ap = f->app_proto_ts;
    f->app_proto_ts = f->app_proto_tc;
    f->app_proto_tc = ap;
    f->flags ^= BF_FLOW_F_REVERSED;
    if (p && p->flow == f)
        p->dir ^= 1;
}

bf_flow *bf_flow_handle_packet(bf_flow_table *t, bf_packet *p)
{
    p->flow = NULL;
    p->dir = 0;
    if (BF_UNLIKELY(!forms_flow(p))) {
        p->flow_hash = 0;
        return NULL;
    }
    flow_key k;
    key_from_packet(p, &k);
    uint64_t h = key_hash(&k);
    p->flow_hash = h;
    if (p->ts > t->now)
        t->now = p->ts;

    bf_flow *f = t->buckets[h & t->mask];
    int dir = -1;
    for (; f; f = f->hnext)
        if ((dir = flow_match(f, &k, h)) >= 0)
            break;

    if (f) {
        if (BF_UNLIKELY(flow_expired(t, f))) {
            /* idle past its timeout but not collected yet: a new flow */
            flow_end(t, f, BF_FLOW_END_TIMEOUT);
            t->st.timeouts++;
            f = NULL;
        } else if (BF_UNLIKELY(k.proto == IPPROTO_TCP_ &&
                               (p->tcp_flags & (BF_TH_SYN | BF_TH_ACK)) == BF_TH_SYN) &&
                   tcp_finished(f)) {
            flow_end(t, f, BF_FLOW_END_TIMEOUT);
            t->st.tcp_reuse++;
            f = NULL;
        }
    }
    if (!f) {
        f = flow_create(t, p, &k, h);
        if (!f)
            return NULL;
        dir = (f->flags & BF_FLOW_F_REVERSED) ? 1 : 0;
    }

    f->pkts[dir]++;
    f->bytes[dir] += p->wirelen;
    f->last = p->ts;
    if (k.proto == IPPROTO_TCP_) {
        f->tcp_flags[dir] |= p->tcp_flags;
        if (!f->tcp && !(f->flags & BF_FLOW_F_STATE_EXT)) {
            /* nobody drives TCP state: infer it from what we see */
            uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
            if (f->state != BF_FLOW_CLOSED &&
                ((all & BF_TH_RST) || ((f->tcp_flags[0] & BF_TH_FIN) && (f->tcp_flags[1] & BF_TH_FIN))))
                flow_state_change(t, f, BF_FLOW_CLOSED);
            else if (f->state == BF_FLOW_NEW && f->pkts[0] && f->pkts[1])
                flow_state_change(t, f, BF_FLOW_ESTABLISHED);
        }
    } else if (f->state == BF_FLOW_NEW && f->pkts[0] && f->pkts[1]) {
        flow_state_change(t, f, BF_FLOW_ESTABLISHED);
    }
    lru_touch(t, f);

    p->flow = f;
    p->dir = (uint8_t)dir;
    return f;
}

const char *bf_exc_policy_name(uint8_t ep)
{
    static const char *const n[] = {NULL, "ignore", "pass_flow", "pass_packet", "drop_flow",
                                    "drop_packet", "reject", "bypass"};
    return ep < sizeof n / sizeof n[0] ? n[ep] : NULL;
}

uint8_t bf_exc_policy_parse(const char *name, bool ips, bool midstream)
{
    if (!strcmp(name, "auto"))
        return ips && !midstream ? BF_EP_DROP_FLOW : BF_EP_IGNORE;
    if (!strcmp(name, "ignore"))
        return BF_EP_IGNORE;
    if (!strcmp(name, "pass-flow") || !strcmp(name, "pass-packet"))
        return BF_EP_PASS_FLOW;
    if (!strcmp(name, "bypass"))
        return midstream ? BF_EP_IGNORE : BF_EP_BYPASS;
    if (!strcmp(name, "drop-flow") || !strcmp(name, "drop-packet"))
        return ips && !midstream ? BF_EP_DROP_FLOW : BF_EP_IGNORE;
    if (!strcmp(name, "reject"))
        return !midstream ? BF_EP_REJECT : BF_EP_IGNORE;
    return BF_EP_NONE;
}
