/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/engine.c: the signature engine at run time.
 *
 * Loading sorts the rules (action order pass, drop, reject, alert; flowbit
 * setters before readers; priority; file order), classifies each one:
 *   - IP-only (addresses, no payload, no packet keyword): inspected once per
 *     flow direction, found through an interval index on its most specific
 *     address side;
 *   - packet rules: per L4 class and direction, a Vectorscan database over
 *     the packet payload for those with a fast pattern, a short list for the
 *     others;
 *   - stream rules (tcp-stream): same over the in-order stream chunks;
 *   - transaction rules (any app-layer buffer, or an app protocol with no
 *     payload): per app protocol and direction, one database per buffer,
 *     inspected on each BF_BUS_TX the analyzers publish; a rule alerts at
 *     most once per transaction.
 * Candidates are verified in rule order by detect/match.c; matches run
 * flowbits/flowint actions, thresholds, and pass/drop/reject/alert; alerts
 * of a packet are queued, ordered, capped (alert_max) and written after the
 * packet's inspection as EVE `alert` lines (+ fast.log, + `drop`).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "detect/detect.h"
#include "detect/match.h"
#include "detect/mpm.h"
#include "detect/parse.h"

/* ------------------------------------------------------------ buffers */

static const struct {
    const char *kw;
    uint16_t app;
    uint8_t dirs;
    bool multi;
} g_buf[BF_DBUF_MAX] = {
#define X(id, kw, legacy, app, dirs, multi) {kw, app, dirs, multi},
#include "detect/buffers.def"
#undef X
};

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

typedef struct group {
    bf_mpm *mpm[BF_DBUF_MAX];
    uint32_t *nonmpm;
    uint32_t nnonmpm;
} group;

/* IPv4 interval index: segment k = [b[k], b[k+1]) holds sigs[off[k]..off[k+1]) */
typedef struct ipidx {
    uint32_t nb;
    uint64_t *b;
    uint32_t *off;
    uint32_t *sigs;
} ipidx;

#define THR_SHARDS 16
#define THR_SLOTS 4096        /* per shard */
#define THR_PROBE 16

typedef struct thr_entry {
    uint32_t sig1;           /* sig idx + 1; 0: free */
    uint8_t kind;            /* 0 threshold, 1 detection_filter */
    bf_addr a, b;
    uint64_t fid;
    bf_ts start;
    uint32_t count;
} thr_entry;

typedef struct thr_shard {
    pthread_mutex_t lock;
    thr_entry *e;
} thr_shard;

struct bf_detect {
    atomic_int refs;
    bf_parse_ctx pctx;
    bf_sig **sigs;
    sinfo *si;
    uint32_t nsigs;
    bool ips;
    uint32_t alert_max;

    group pkt[NCLASS][2];
    group stream[2];
    group app[BF_APP_MAX][2];
    bool any_tx, any_stream;

    uint32_t *iponly_generic;
    uint32_t niponly_generic;
    ipidx ip_src, ip_dst;    /* indexed on the packet's source / destination */
    bool any_iponly;

    thr_shard thr[THR_SHARDS];
    atomic_ullong thr_evicted;
};

/* ----------------------------------------------------- per-flow state */

typedef struct txrec {
    uint64_t tx_id;
    uint16_t app;
    uint16_t ndone, cap;
    uint32_t *done;          /* sigs that matched in this transaction */
} txrec;

#define MAX_TXREC 32

typedef struct dstate {
    const bf_detect *d;      /* engine that made it (reload: reset) */
    uint64_t *bits;          /* flowbits */
    int64_t *ints;           /* flowints */
    uint64_t *int_set;
    uint32_t ntx;
    txrec tx[MAX_TXREC];
} dstate;

/* -------------------------------------------------------- the thread */

typedef struct qalert {
    uint32_t sig;
    uint32_t off, len;       /* line in qbuf */
    uint8_t dir;
    bool blocked;
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
    const bf_packet *qpkt;
    bf_flow *qflow;
    bool drop_pending;
    bool pass_now;
    bf_detect_stats st;
};

static pthread_mutex_t g_fast_lock = PTHREAD_MUTEX_INITIALIZER;

/* ============================================================ loading */

static int action_rank(uint8_t a)
{
    switch (a) {
    case BF_ACT_PASS: return 0;
    case BF_ACT_DROP: return 1;
    case BF_ACT_REJECT:
    case BF_ACT_REJECTDST:
    case BF_ACT_REJECTBOTH: return 2;
    default: return 3;
    }
}

static void fb_rw(const bf_sig *s, bool *r, bool *w)
{
    *r = *w = false;
    for (unsigned i = 0; i < s->nfb; i++) {
        if (s->fb[i].op == BF_FB_ISSET || s->fb[i].op == BF_FB_ISNOTSET)
            *r = true;
        else
            *w = true;
    }
}

static int fb_rank(const bf_sig *s)
{
    bool r, w;
    fb_rw(s, &r, &w);
    if (w && !r)
        return 0;
    if (w && r)
        return 1;
    if (!r)
        return 2;
    return 3;
}

typedef struct sortent {
    bf_sig *s;
    uint32_t pos;
} sortent;

static int sig_cmp(const void *a, const void *b)
{
    const sortent *x = a, *y = b;
    int d = action_rank(x->s->action) - action_rank(y->s->action);
    if (d)
        return d;
    d = fb_rank(x->s) - fb_rank(y->s);
    if (d)
        return d;
    if (x->s->prio != y->s->prio)
        return x->s->prio < y->s->prio ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static unsigned class_of_proto(uint8_t ipproto, int ipver)
{
    switch (ipproto) {
    case 6: return C_TCP;
    case 17: return C_UDP;
    case 1: return C_ICMP4;
    case 58: return C_ICMP6;
    default: (void)ipver; return C_OTHER;
    }
}

static uint8_t classes_of(const bf_sig *s)
{
    switch (s->proto) {
    case BF_SP_TCP:
    case BF_SP_TCP_PKT:
    case BF_SP_TCP_STREAM: return 1u << C_TCP;
    case BF_SP_UDP: return 1u << C_UDP;
    case BF_SP_ICMP:
        return (s->flags & BF_SIG_ICMP_BOTH) ? (1u << C_ICMP4 | 1u << C_ICMP6) : 1u << C_ICMP4;
    case BF_SP_ICMPV6: return 1u << C_ICMP6;
    case BF_SP_SCTP: return 1u << C_OTHER;
    case BF_SP_APP:
        if (s->app_l4 == 6)
            return 1u << C_TCP;
        if (s->app_l4 == 17)
            return 1u << C_UDP;
        return 1u << C_TCP | 1u << C_UDP;
    default: return 0x1f;
    }
}

static bool sig_has_buf(const bf_sig *s, uint16_t b)
{
    for (unsigned i = 0; i < s->nbufs; i++)
        if (s->bufs[i].buf == b)
            return true;
    return false;
}

static void classify(const bf_sig *s, sinfo *si)
{
    memset(si, 0, sizeof *si);
    fb_rw(s, &si->fb_read, &si->fb_write);
    si->classes = classes_of(s);
    si->app = s->proto == BF_SP_APP ? s->app_proto : BF_APP_UNKNOWN;
    bool app_buf = false;
    for (unsigned i = 0; i < s->nbufs; i++) {
        uint16_t b = s->bufs[i].buf;
        if (b == BF_DBUF_PKT || b == BF_DBUF_STREAM)
            continue;
        app_buf = true;
        if (g_buf[b].app != BF_APP_UNKNOWN && si->app == BF_APP_UNKNOWN)
            si->app = g_buf[b].app;
    }
    if (app_buf) {
        si->kind = K_TX;
        return;
    }
    if (s->proto == BF_SP_TCP_STREAM || sig_has_buf(s, BF_DBUF_STREAM)) {
        si->kind = K_STREAM;
        return;
    }
    if (s->proto == BF_SP_APP && s->nbufs == 0 && s->npkw == 0) {
        si->kind = K_TX;     /* "alert http ... (flow:...; sid:..)": once per tx */
        return;
    }
    bool ports_any = s->sp.any && s->dp.any;
    if (s->nbufs == 0 && s->npkw == 0 && ports_any && s->flow == 0 &&
        s->proto == BF_SP_IP && !si->fb_read) {
        si->kind = K_IPONLY;
        return;
    }
    si->kind = K_PKT;
}

/* Is the sig's fast pattern usable by the prefilter of buffer b? */
static bool fp_of(const bf_sig *s, uint16_t *buf, const bf_sm **sm)
{
    if (s->fp_buf < 0 || s->fp_sm < 0 || s->fp_buf >= (int)s->nbufs)
        return false;
    const bf_sig_buf *sb = &s->bufs[s->fp_buf];
    if (s->fp_sm >= (int)sb->nsm || sb->nxf)
        return false;
    const bf_sm *c = &sb->sm[s->fp_sm];
    if (c->type != BF_SM_CONTENT || (c->flags & BF_SMF_NEGATED) || !c->content.len)
        return false;
    *buf = sb->buf;
    *sm = c;
    return true;
}

typedef struct gbuild {
    bf_mpm_builder *mb[BF_DBUF_MAX];
    uint32_t *nonmpm;
    uint32_t n, cap;
} gbuild;

static void gb_add_nonmpm(gbuild *g, uint32_t idx)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->nonmpm = bf_realloc(g->nonmpm, g->cap * sizeof *g->nonmpm);
    }
    g->nonmpm[g->n++] = idx;
}

static void gb_add(gbuild *g, const bf_sig *s, uint32_t idx)
{
    uint16_t b;
    const bf_sm *c;
    if (fp_of(s, &b, &c)) {
        if (!g->mb[b])
            g->mb[b] = bf_mpm_builder_new();
        const uint8_t *pat = c->content.pat;
        uint32_t len = c->content.len;
        if (c->content.fp_len && (uint32_t)c->content.fp_off + c->content.fp_len <= len) {
            pat += c->content.fp_off;
            len = c->content.fp_len;
        }
        bf_mpm_add(g->mb[b], pat, len, (c->flags & BF_SMF_NOCASE) != 0, idx);
    } else {
        gb_add_nonmpm(g, idx);
    }
}

static bool gb_finish(gbuild *gb, group *g, bf_detect_report *rep, char *err, size_t errlen)
{
    for (unsigned b = 0; b < BF_DBUF_MAX; b++) {
        if (!gb->mb[b])
            continue;
        rep->mpm_patterns += bf_mpm_builder_count(gb->mb[b]);
        g->mpm[b] = bf_mpm_build(gb->mb[b], err, errlen);
        gb->mb[b] = NULL;
        if (!g->mpm[b])
            return false;
        rep->mpm_dbs++;
    }
    g->nonmpm = gb->nonmpm;
    g->nnonmpm = gb->n;
    gb->nonmpm = NULL;
    gb->n = gb->cap = 0;
    return true;
}

/* IPv4 coverage of a set (addresses), or UINT64_MAX when unusable. */
static uint64_t ip4_cover(const bf_ipset *s)
{
    if (s->any || s->n6 || !s->n4)
        return UINT64_MAX;
    uint64_t c = 0;
    for (uint32_t i = 0; i < s->n4; i++)
        c += (uint64_t)s->r4[i].hi - s->r4[i].lo + 1;
    return c;
}

typedef struct iprange {
    uint64_t lo, hi1;        /* [lo, hi1) */
    uint32_t sig;
} iprange;

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t seg_find(const uint64_t *b, uint32_t nb, uint64_t v)
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

static void ipidx_build(ipidx *x, iprange *r, size_t n)
{
    memset(x, 0, sizeof *x);
    if (!n)
        return;
    uint64_t *b = bf_malloc(2 * n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        b[2 * i] = r[i].lo;
        b[2 * i + 1] = r[i].hi1;
    }
    qsort(b, 2 * n, sizeof *b, u64_cmp);
    size_t nb = 0;
    for (size_t i = 0; i < 2 * n; i++)
        if (!nb || b[nb - 1] != b[i])
            b[nb++] = b[i];
    uint32_t *cnt = bf_calloc(nb + 1, sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        size_t k0 = seg_find(b, (uint32_t)nb, r[i].lo);
        for (size_t k = k0; k < nb && b[k] < r[i].hi1; k++)
            cnt[k + 1]++;
    }
    for (size_t k = 1; k <= nb; k++)
        cnt[k] += cnt[k - 1];
    uint32_t *sigs = bf_malloc((cnt[nb] + 1) * sizeof *sigs);
    uint32_t *fill = bf_malloc((nb + 1) * sizeof *fill);
    memcpy(fill, cnt, (nb + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        size_t k0 = seg_find(b, (uint32_t)nb, r[i].lo);
        for (size_t k = k0; k < nb && b[k] < r[i].hi1; k++)
            sigs[fill[k]++] = r[i].sig;
    }
    free(fill);
    x->nb = (uint32_t)nb;
    x->b = b;
    x->off = cnt;
    x->sigs = sigs;
}

static void ipidx_free(ipidx *x)
{
    free(x->b);
    free(x->off);
    free(x->sigs);
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct loadctx {
    bf_detect_report *rep;
    bool quiet;
} loadctx;

static void on_rule_error(void *ud, const char *file, uint32_t line, const char *err,
                          const char *reason)
{
    loadctx *lc = ud;
    bf_detect_report *rep = lc->rep;
    rep->failed++;
    if (!lc->quiet)
        bf_warn("%s:%u: %s", file, line, err);
    for (uint32_t i = 0; i < rep->nreasons; i++)
        if (!strcmp(rep->reasons[i].reason, reason)) {
            rep->reasons[i].count++;
            return;
        }
    uint32_t i = rep->nreasons < BF_ARRAY_LEN(rep->reasons) ? rep->nreasons++
                                                             : BF_ARRAY_LEN(rep->reasons) - 1;
    if (i == BF_ARRAY_LEN(rep->reasons) - 1 && rep->reasons[i].count) {
        snprintf(rep->reasons[i].reason, sizeof rep->reasons[i].reason, "other reasons");
        rep->reasons[i].count++;
        return;
    }
    snprintf(rep->reasons[i].reason, sizeof rep->reasons[i].reason, "%s", reason);
    snprintf(rep->reasons[i].example, sizeof rep->reasons[i].example, "%s:%u", file, line);
    rep->reasons[i].count = 1;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void detect_free(bf_detect *d)
{
    for (uint32_t i = 0; i < d->nsigs; i++)
        bf_sig_free(d->sigs[i]);
    free(d->sigs);
    free(d->si);
    group *all[] = {&d->pkt[0][0], &d->stream[0], &d->app[0][0]};
    size_t counts[] = {NCLASS * 2, 2, BF_APP_MAX * 2};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < counts[a]; i++) {
            group *g = &all[a][i];
            for (unsigned b = 0; b < BF_DBUF_MAX; b++)
                if (g->mpm[b])
                    bf_mpm_free(g->mpm[b]);
            free(g->nonmpm);
        }
    free(d->iponly_generic);
    ipidx_free(&d->ip_src);
    ipidx_free(&d->ip_dst);
    for (unsigned i = 0; i < THR_SHARDS; i++) {
        pthread_mutex_destroy(&d->thr[i].lock);
        free(d->thr[i].e);
    }
    bf_parse_ctx_free(&d->pctx);
    free(d);
}

static bool build(bf_detect *d, bf_detect_report *rep, char *err, size_t errlen)
{
    gbuild *gb_pkt = bf_calloc(NCLASS * 2, sizeof *gb_pkt);
    gbuild gb_stream[2] = {0};
    gbuild *gb_app = bf_calloc(BF_APP_MAX * 2, sizeof *gb_app);
    iprange *rs = NULL, *rd = NULL;
    size_t nrs = 0, nrd = 0, caps = 0, capd = 0;
    uint32_t *gen = NULL;
    size_t ngen = 0;

    for (uint32_t i = 0; i < d->nsigs; i++) {
        const bf_sig *s = d->sigs[i];
        sinfo *si = &d->si[i];
        uint8_t dirs = s->dirs ? s->dirs : BF_DIR_BOTH;
        if (s->flow & BF_FK_TO_SERVER)
            dirs &= BF_DIR_TS;
        else if (s->flow & BF_FK_TO_CLIENT)
            dirs &= BF_DIR_TC;
        if (!dirs)
            dirs = BF_DIR_BOTH;
        switch (si->kind) {
        case K_IPONLY: {
            d->any_iponly = true;
            uint64_t cs = ip4_cover(&s->src), cd = ip4_cover(&s->dst);
            bool use_src = cs <= cd;
            uint64_t c = use_src ? cs : cd;
            if ((s->flags & BF_SIG_BIDIR) || c > (1ull << 24)) {
                gen = bf_realloc(gen, (ngen + 1) * sizeof *gen);
                gen[ngen++] = i;
                break;
            }
            const bf_ipset *set = use_src ? &s->src : &s->dst;
            for (uint32_t k = 0; k < set->n4; k++) {
                iprange r = {set->r4[k].lo, (uint64_t)set->r4[k].hi + 1, i};
                if (use_src) {
                    if (nrs == caps) {
                        caps = caps ? caps * 2 : 256;
                        rs = bf_realloc(rs, caps * sizeof *rs);
                    }
                    rs[nrs++] = r;
                } else {
                    if (nrd == capd) {
                        capd = capd ? capd * 2 : 256;
                        rd = bf_realloc(rd, capd * sizeof *rd);
                    }
                    rd[nrd++] = r;
                }
            }
            break;
        }
        case K_PKT:
            for (unsigned c = 0; c < NCLASS; c++)
                if (si->classes & (1u << c))
                    for (unsigned dir = 0; dir < 2; dir++)
                        if (dirs & (1u << dir))
                            gb_add(&gb_pkt[c * 2 + dir], s, i);
            break;
        case K_STREAM:
            d->any_stream = true;
            for (unsigned dir = 0; dir < 2; dir++)
                if (dirs & (1u << dir))
                    gb_add(&gb_stream[dir], s, i);
            break;
        case K_TX:
            d->any_tx = true;
            for (unsigned a = BF_APP_HTTP; a < BF_APP_MAX; a++) {
                if (si->app != BF_APP_UNKNOWN && si->app != a)
                    continue;
                for (unsigned dir = 0; dir < 2; dir++)
                    if (dirs & (1u << dir))
                        gb_add(&gb_app[a * 2 + dir], s, i);
            }
            break;
        }
    }
    bool ok = true;
    for (unsigned i = 0; ok && i < NCLASS * 2; i++)
        ok = gb_finish(&gb_pkt[i], &d->pkt[i / 2][i % 2], rep, err, errlen);
    for (unsigned i = 0; ok && i < 2; i++)
        ok = gb_finish(&gb_stream[i], &d->stream[i], rep, err, errlen);
    for (unsigned i = 0; ok && i < BF_APP_MAX * 2; i++)
        ok = gb_finish(&gb_app[i], &d->app[i / 2][i % 2], rep, err, errlen);
    for (unsigned i = 0; i < NCLASS * 2; i++) {
        free(gb_pkt[i].nonmpm);
        for (unsigned b = 0; b < BF_DBUF_MAX; b++)
            if (gb_pkt[i].mb[b])
                bf_mpm_free(bf_mpm_build(gb_pkt[i].mb[b], NULL, 0));
    }
    for (unsigned i = 0; i < BF_APP_MAX * 2; i++) {
        free(gb_app[i].nonmpm);
        for (unsigned b = 0; b < BF_DBUF_MAX; b++)
            if (gb_app[i].mb[b])
                bf_mpm_free(bf_mpm_build(gb_app[i].mb[b], NULL, 0));
    }
    for (unsigned i = 0; i < 2; i++)
        free(gb_stream[i].nonmpm);
    free(gb_pkt);
    free(gb_app);
    ipidx_build(&d->ip_src, rs, nrs);
    ipidx_build(&d->ip_dst, rd, nrd);
    free(rs);
    free(rd);
    d->iponly_generic = gen;
    d->niponly_generic = (uint32_t)ngen;
    return ok;
}

bf_detect *bf_detect_load(bf_config *cfg, const bf_detect_opts *o, bf_detect_report *rep,
                          char *err, size_t errlen)
{
    double t0 = now_sec();
    memset(rep, 0, sizeof *rep);
    bf_detect *d = bf_calloc(1, sizeof *d);
    atomic_init(&d->refs, 1);
    d->ips = o->simulate_ips;
    d->alert_max = o->alert_max ? o->alert_max : 15;
    for (unsigned i = 0; i < THR_SHARDS; i++) {
        pthread_mutex_init(&d->thr[i].lock, NULL);
        d->thr[i].e = bf_calloc(THR_SLOTS, sizeof(thr_entry));
    }
    if (!bf_parse_ctx_init(&d->pctx, cfg, err, errlen)) {
        detect_free(d);
        return NULL;
    }
    const char *cls = o->classification_file;
    if (!cls && cfg)
        cls = bf_config_str(cfg, "classification-file", NULL);
    if (cls && !bf_parse_ctx_load_classification(&d->pctx, cls, err, errlen)) {
        detect_free(d);
        return NULL;
    }
    loadctx lc = {rep, o->quiet};
    size_t n = 0;
    for (size_t i = 0; i < o->nrule_files; i++) {
        rep->files++;
        if (!bf_rules_load_file(&d->pctx, o->rule_files[i], &d->sigs, &n, on_rule_error, &lc,
                                err, errlen)) {
            detect_free(d);
            return NULL;
        }
    }
    /* Sort and number. */
    sortent *se = bf_malloc((n ? n : 1) * sizeof *se);
    for (size_t i = 0; i < n; i++)
        se[i] = (sortent){d->sigs[i], (uint32_t)i};
    qsort(se, n, sizeof *se, sig_cmp);
    for (size_t i = 0; i < n; i++) {
        d->sigs[i] = se[i].s;
        d->sigs[i]->idx = (uint32_t)i;
    }
    free(se);
    d->nsigs = (uint32_t)n;
    rep->loaded = (uint32_t)n;
    d->si = bf_calloc(n ? n : 1, sizeof *d->si);
    for (size_t i = 0; i < n; i++)
        classify(d->sigs[i], &d->si[i]);
    if (!build(d, rep, err, errlen)) {
        detect_free(d);
        return NULL;
    }
    rep->load_sec = now_sec() - t0;
    return d;
}

void bf_detect_ref(bf_detect *d) { atomic_fetch_add(&d->refs, 1); }

void bf_detect_unref(bf_detect *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1)
        detect_free(d);
}

uint32_t bf_detect_sig_count(const bf_detect *d) { return d->nsigs; }

void bf_detect_report_print(const bf_detect_report *rep, FILE *f)
{
    fprintf(f, "rules: %u loaded, %u failed from %u file%s in %.2f s (%u prefilter patterns in %u "
               "databases)\n",
            rep->loaded, rep->failed, rep->files, rep->files == 1 ? "" : "s", rep->load_sec,
            rep->mpm_patterns, rep->mpm_dbs);
    for (uint32_t i = 0; i < rep->nreasons; i++)
        fprintf(f, "  %6u  %s (first: %s)\n", rep->reasons[i].count, rep->reasons[i].reason,
                rep->reasons[i].example);
}

/* ===================================================== per-flow state */

static void txrec_clear(txrec *r)
{
    free(r->done);
    memset(r, 0, sizeof *r);
}

static void dstate_free(dstate *ds)
{
    if (!ds)
        return;
    free(ds->bits);
    free(ds->ints);
    free(ds->int_set);
    for (uint32_t i = 0; i < ds->ntx; i++)
        txrec_clear(&ds->tx[i]);
    free(ds);
}

static dstate *dstate_get(bf_detect_thread *t, bf_flow *f, bool create)
{
    dstate *ds = f->detect_state;
    if (ds && ds->d != t->d) {
        dstate_free(ds);
        t->st.memuse -= sizeof *ds;
        f->detect_state = ds = NULL;
    }
    if (!ds && create) {
        ds = bf_calloc(1, sizeof *ds);
        ds->d = t->d;
        f->detect_state = ds;
        t->st.memuse += sizeof *ds;
    }
    return ds;
}

static bool fb_isset(const dstate *ds, uint32_t id)
{
    return ds && ds->bits && (ds->bits[id / 64] >> (id % 64) & 1);
}

static void fb_write(bf_detect_thread *t, dstate *ds, uint32_t id, int op)
{
    if (!ds->bits) {
        uint32_t n = (t->d->pctx.flowbits.n + 63) / 64;
        ds->bits = bf_calloc(n ? n : 1, sizeof *ds->bits);
    }
    uint64_t m = 1ull << (id % 64);
    if (op == BF_FB_SET)
        ds->bits[id / 64] |= m;
    else if (op == BF_FB_UNSET)
        ds->bits[id / 64] &= ~m;
    else
        ds->bits[id / 64] ^= m;
}

static bool fb_conditions(const bf_sig *s, const bf_flow *f)
{
    const dstate *ds = f ? f->detect_state : NULL;
    for (unsigned i = 0; i < s->nfb; i++) {
        const bf_flowbit_op *op = &s->fb[i];
        if (op->op != BF_FB_ISSET && op->op != BF_FB_ISNOTSET)
            continue;
        bool want = op->op == BF_FB_ISSET;
        if (op->or_) {
            bool any = false;
            for (unsigned k = 0; k < op->nids; k++)
                if (fb_isset(ds, op->ids[k]) == want)
                    any = true;
            if (!any)
                return false;
        } else {
            for (unsigned k = 0; k < op->nids; k++)
                if (fb_isset(ds, op->ids[k]) != want)
                    return false;
        }
    }
    return true;
}

static bool fi_get(const dstate *ds, uint32_t id, int64_t *v)
{
    if (!ds || !ds->int_set || !(ds->int_set[id / 64] >> (id % 64) & 1))
        return false;
    *v = ds->ints[id];
    return true;
}

static bool fi_conditions(const bf_sig *s, const bf_flow *f)
{
    const dstate *ds = f ? f->detect_state : NULL;
    for (unsigned i = 0; i < s->nfi; i++) {
        const bf_flowint_op *op = &s->fi[i];
        int64_t v, w;
        bool set = fi_get(ds, op->id, &v);
        switch (op->op) {
        case BF_FI_ISSET:
            if (!set)
                return false;
            break;
        case BF_FI_NOTSET:
            if (set)
                return false;
            break;
        case BF_FI_CMP:
            if (!set)
                return false;
            w = op->value;
            if (op->value_var >= 0 && !fi_get(ds, (uint32_t)op->value_var, &w))
                return false;
            switch (op->cmp_op) {
            case BF_CMP_EQ: if (!(v == w)) return false; break;
            case BF_CMP_NE: if (!(v != w)) return false; break;
            case BF_CMP_LT: if (!(v < w)) return false; break;
            case BF_CMP_LE: if (!(v <= w)) return false; break;
            case BF_CMP_GT: if (!(v > w)) return false; break;
            case BF_CMP_GE: if (!(v >= w)) return false; break;
            default: return false;
            }
            break;
        default:
            break;
        }
    }
    return true;
}

static void fi_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f)
{
    if (!s->nfi || !f)
        return;
    dstate *ds = NULL;
    for (unsigned i = 0; i < s->nfi; i++) {
        const bf_flowint_op *op = &s->fi[i];
        if (op->op != BF_FI_SET && op->op != BF_FI_ADD && op->op != BF_FI_SUB)
            continue;
        if (!ds)
            ds = dstate_get(t, f, true);
        uint32_t n = t->d->pctx.flowints.n ? t->d->pctx.flowints.n : 1;
        if (!ds->ints) {
            ds->ints = bf_calloc(n, sizeof *ds->ints);
            ds->int_set = bf_calloc((n + 63) / 64, sizeof *ds->int_set);
        }
        int64_t val = op->value, cur = 0;
        if (op->value_var >= 0 && !fi_get(ds, (uint32_t)op->value_var, &val))
            continue;
        bool set = fi_get(ds, op->id, &cur);
        if (op->op == BF_FI_SET)
            cur = val;
        else if (op->op == BF_FI_ADD)
            cur = (set ? cur : 0) + val;
        else
            cur = (set ? cur : 0) - val;
        ds->ints[op->id] = cur;
        ds->int_set[op->id / 64] |= 1ull << (op->id % 64);
    }
}

static void fb_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f)
{
    if (!s->nfb || !f)
        return;
    dstate *ds = NULL;
    for (unsigned i = 0; i < s->nfb; i++) {
        const bf_flowbit_op *op = &s->fb[i];
        if (op->op == BF_FB_ISSET || op->op == BF_FB_ISNOTSET)
            continue;
        if (!ds)
            ds = dstate_get(t, f, true);
        for (unsigned k = 0; k < op->nids; k++)
            fb_write(t, ds, op->ids[k], op->op);
    }
}

/* ======================================================== thresholds */

static bool thr_check(bf_detect *d, const bf_sig *s, const bf_threshold *th, uint8_t kind,
                      const bf_packet *p, const bf_flow *f, int dir, bf_ts now)
{
    if (th->type == BF_THR_NONE)
        return true;
    bf_addr a = {0}, b = {0};
    uint64_t fid = 0;
    const bf_addr *src = p ? &p->src : f ? &f->addr[dir] : NULL;
    const bf_addr *dst = p ? &p->dst : f ? &f->addr[!dir] : NULL;
    switch (th->track) {
    case BF_TRACK_SRC: if (src) a = *src; break;
    case BF_TRACK_DST: if (dst) a = *dst; break;
    case BF_TRACK_BOTH:
        if (src && dst) {
            /* by_both: the pair, in either order */
            if (bf_addr_cmp(src, dst) <= 0) { a = *src; b = *dst; }
            else { a = *dst; b = *src; }
        }
        break;
    case BF_TRACK_FLOW: fid = f ? f->flow_id : 0; break;
    default: break;
    }
    if (th->type == BF_THR_SUPPRESS)
        return false;
    uint64_t h = (uint64_t)s->idx * 0x9e3779b97f4a7c15ull ^ a.q[0] * 0xc2b2ae3d27d4eb4full ^
                 a.q[1] ^ b.q[0] * 31 ^ b.q[1] ^ fid * 0x165667b19e3779f9ull ^ kind;
    h ^= h >> 29;
    thr_shard *sh = &d->thr[h % THR_SHARDS];
    size_t base = (h >> 8) % THR_SLOTS;
    bf_ts win = (bf_ts)th->seconds * BF_SEC;
    pthread_mutex_lock(&sh->lock);
    thr_entry *e = NULL, *free_slot = NULL, *oldest = NULL;
    for (size_t k = 0; k < THR_PROBE; k++) {
        thr_entry *x = &sh->e[(base + k) % THR_SLOTS];
        if (!x->sig1) {
            if (!free_slot)
                free_slot = x;
            continue;
        }
        if (x->sig1 == s->idx + 1 && x->kind == kind && bf_addr_eq(&x->a, &a) &&
            bf_addr_eq(&x->b, &b) && x->fid == fid) {
            e = x;
            break;
        }
        if (!oldest || x->start < oldest->start)
            oldest = x;
    }
    bool alert;
    if (!e) {
        e = free_slot ? free_slot : oldest;
        if (!free_slot)
            atomic_fetch_add(&d->thr_evicted, 1);
        *e = (thr_entry){s->idx + 1, kind, a, b, fid, now, 0};
    }
    bool in_win = now >= e->start && now - e->start <= win;
    if (!in_win) {
        e->start = now;
        e->count = 0;
    }
    e->count++;
    switch (th->type) {
    case BF_THR_LIMIT:
        alert = e->count <= th->count;
        break;
    case BF_THR_THRESHOLD:
        alert = e->count >= th->count;
        if (alert)
            e->count = 0;
        break;
    case BF_THR_BOTH:
        alert = e->count == th->count;
        break;
    case BF_THR_DETECTION_FILTER:
        alert = e->count > th->count;
        break;
    default:
        alert = true;
    }
    pthread_mutex_unlock(&sh->lock);
    return alert;
}

/* ============================================================ header */

typedef struct hdr {
    const bf_addr *src, *dst;
    uint16_t sp, dp;
    int ipver;
} hdr;

static void hdr_from(hdr *h, const bf_packet *p, const bf_flow *f, int dir)
{
    if (p && p->ipver) {
        *h = (hdr){&p->src, &p->dst, p->sp, p->dp, p->ipver};
    } else {
        *h = (hdr){&f->addr[dir], &f->addr[!dir], f->port[dir], f->port[!dir], f->ipver};
    }
}

static bool hdr_match(const bf_sig *s, const hdr *h)
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

static bool flow_kw_match(const bf_sig *s, const bf_flow *f, int dir, const bf_packet *p)
{
    uint16_t fl = s->flow;
    if (!fl)
        return true;
    if ((fl & BF_FK_TO_SERVER) && dir != 0)
        return false;
    if ((fl & BF_FK_TO_CLIENT) && dir != 1)
        return false;
    if ((fl & BF_FK_ESTABLISHED) && (!f || f->state == BF_FLOW_NEW))
        return false;
    if ((fl & BF_FK_NOT_ESTABLISHED) && f && f->state != BF_FLOW_NEW)
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

/* ============================================================ alerts */

static void qbuf_put(bf_detect_thread *t, const char *s, size_t len)
{
    if (t->qlen + len > t->qcap) {
        t->qcap = (t->qlen + len) * 2;
        t->qbuf = bf_realloc(t->qbuf, t->qcap);
    }
    memcpy(t->qbuf + t->qlen, s, len);
    t->qlen += len;
}

static void write_metadata(bf_json *j, const bf_sig *s)
{
    if (!s->nmeta)
        return;
    bf_json_open_obj(j, "metadata");
    for (uint32_t i = 0; i < s->nmeta; i++) {
        bool first = true;
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(s->meta[k].key, s->meta[i].key))
                first = false;
        if (!first)
            continue;
        bf_json_open_arr(j, s->meta[i].key);
        for (uint32_t k = i; k < s->nmeta; k++)
            if (!strcmp(s->meta[k].key, s->meta[i].key))
                bf_json_str(j, NULL, s->meta[k].value ? s->meta[k].value : "");
        bf_json_close_arr(j);
    }
    bf_json_close_obj(j);
}

static void queue_alert(bf_detect_thread *t, const bf_sig *s, const bf_packet *p, bf_flow *f,
                        int dir, bool blocked, const bf_tx_view *v)
{
    bf_eve *e = t->eve;
    bf_json *j = &e->j;
    bf_ts ts = p ? p->ts : f ? f->last : 0;
    bf_eve_begin(e, "alert", ts, p, f);
    if (v)
        bf_json_uint(j, "tx_id", v->tx_id);
    bf_json_open_obj(j, "alert");
    bf_json_str(j, "action", blocked ? "blocked" : "allowed");
    bf_json_uint(j, "gid", s->gid);
    bf_json_uint(j, "signature_id", s->sid);
    bf_json_uint(j, "rev", s->rev);
    bf_json_str(j, "signature", s->msg ? s->msg : "");
    if (s->class_desc)
        bf_json_str(j, "category", s->class_desc);
    bf_json_int(j, "severity", s->prio);
    write_metadata(j, s);
    bf_json_close_obj(j);
    if (f) {
        const char *ap = bf_app_proto_name(f->app_proto);
        if (ap)
            bf_json_str(j, "app_proto", ap);
    }
    if (v && v->log_meta)
        v->log_meta(v->log_ud, j);
    if (f) {
        bf_json_str(j, "direction", dir ? "to_client" : "to_server");
        bf_json_open_obj(j, "flow");
        bf_json_uint(j, "pkts_toserver", f->pkts[0]);
        bf_json_uint(j, "pkts_toclient", f->pkts[1]);
        bf_json_uint(j, "bytes_toserver", f->bytes[0]);
        bf_json_uint(j, "bytes_toclient", f->bytes[1]);
        char tsb[48];
        bf_json_strn(j, "start", tsb, bf_ts_format(f->start, tsb, sizeof tsb));
        bf_json_close_obj(j);
    }
    size_t len;
    const char *line = bf_eve_end_take(e, &len);
    if (t->nq == t->capq) {
        t->capq = t->capq ? t->capq * 2 : 16;
        t->q = bf_realloc(t->q, t->capq * sizeof *t->q);
    }
    t->q[t->nq++] = (qalert){s->idx, (uint32_t)t->qlen, (uint32_t)len, (uint8_t)dir, blocked};
    qbuf_put(t, line, len);
}

static int qa_cmp(const void *a, const void *b)
{
    const qalert *x = a, *y = b;
    if (x->sig != y->sig)
        return x->sig < y->sig ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static void fast_line(bf_detect_thread *t, const bf_sig *s, const bf_packet *p, const bf_flow *f,
                      int dir, bool blocked)
{
    char tsb[48], a1[64], a2[64], pb[8];
    bf_ts ts = p ? p->ts : f ? f->last : 0;
    time_t sec = (time_t)(ts / BF_SEC);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(tsb, sizeof tsb, "%02d/%02d/%04d-%02d:%02d:%02d.%06llu", tm.tm_mon + 1, tm.tm_mday,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned long long)(ts % BF_SEC));
    hdr h;
    if (!p && !f)
        return;
    hdr_from(&h, p, f, dir);
    uint8_t proto = p && p->ipver ? p->proto : f->proto;
    bool ports = proto == 6 || proto == 17 || proto == 132;
    bf_addr_str(h.src, h.ipver, a1, sizeof a1);
    bf_addr_str(h.dst, h.ipver, a2, sizeof a2);
    char sps[16] = "", dps[16] = "";
    if (ports) {
        snprintf(sps, sizeof sps, ":%u", h.sp);
        snprintf(dps, sizeof dps, ":%u", h.dp);
    }
    pthread_mutex_lock(&g_fast_lock);
    fprintf(t->fast, "%s  %s[**] [%u:%u:%u] %s [**] [Classification: %s] [Priority: %d] {%s} %s%s -> %s%s\n",
            tsb, blocked ? "[Drop] " : "", s->gid, s->sid, s->rev, s->msg ? s->msg : "",
            s->class_desc ? s->class_desc : "(null)", s->prio,
            bf_eve_proto_name(proto, pb, sizeof pb), a1, sps, a2, dps);
    pthread_mutex_unlock(&g_fast_lock);
}

static void log_drop(bf_detect_thread *t, const bf_packet *p, bf_flow *f)
{
    bf_eve *e = t->eve;
    bf_json *j = &e->j;
    bf_eve_begin(e, "drop", p->ts, p, f);
    bf_json_open_obj(j, "drop");
    bf_json_uint(j, "len", p->l3_len);
    bf_json_uint(j, "tos", p->tos);
    bf_json_uint(j, "ttl", p->ttl);
    if (p->ipver == 4)
        bf_json_uint(j, "ipid", p->ip_id);
    if (p->proto == 6) {
        bf_json_uint(j, "tcpseq", p->tcp_seq);
        bf_json_uint(j, "tcpack", p->tcp_ack);
        bf_json_uint(j, "tcpwin", p->tcp_win);
        bf_json_bool(j, "syn", p->tcp_flags & BF_TH_SYN);
        bf_json_bool(j, "ack", p->tcp_flags & BF_TH_ACK);
        bf_json_bool(j, "psh", p->tcp_flags & BF_TH_PSH);
        bf_json_bool(j, "rst", p->tcp_flags & BF_TH_RST);
        bf_json_bool(j, "urg", p->tcp_flags & BF_TH_URG);
        bf_json_bool(j, "fin", p->tcp_flags & BF_TH_FIN);
        bf_json_uint(j, "tcpres", 0);
        bf_json_uint(j, "tcpurgp", p->tcp_urp);
    } else if (p->proto == 17) {
        bf_json_uint(j, "udplen", p->l4_len);
    }
    bf_json_close_obj(j);
    bf_eve_end(e);
}

/* Writes the queued alerts (ordered, capped) of the current packet. */
static void flush(bf_detect_thread *t)
{
    if (t->nq) {
        if (t->nq > 1)
            qsort(t->q, t->nq, sizeof *t->q, qa_cmp);
        uint32_t n = t->nq;
        if (n > t->d->alert_max) {
            t->st.alert_queue_overflow += n - t->d->alert_max;
            n = t->d->alert_max;
        }
        for (uint32_t i = 0; i < n; i++) {
            const qalert *a = &t->q[i];
            bf_eve_put_line(t->eve, t->qbuf + a->off, a->len);
            t->st.alerts++;
            if (t->fast)
                fast_line(t, t->d->sigs[a->sig], t->qpkt, t->qflow, a->dir, a->blocked);
        }
    }
    if (t->drop_pending && t->qpkt)
        log_drop(t, t->qpkt, t->qflow);
    t->nq = 0;
    t->qlen = 0;
    t->qpkt = NULL;
    t->qflow = NULL;
    t->drop_pending = false;
}

/* A rule matched: flow state actions, thresholds, action, alert. */
static void on_match(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f, int dir,
                     const bf_tx_view *v)
{
    bf_detect *d = t->d;
    t->st.matches++;
    fb_actions(t, s, f);
    fi_actions(t, s, f);
    bf_ts now = p ? p->ts : f ? f->last : 0;
    if (s->dfilter.type != BF_THR_NONE &&
        !thr_check(d, s, &s->dfilter, 1, p, f, dir, now)) {
        t->st.alerts_suppressed++;
        return;
    }
    if (s->action == BF_ACT_PASS) {
        t->pass_now = true;
        t->st.pass++;
        if (f)
            f->flags |= BF_FLOW_F_PASS;
        return;
    }
    bool blocked = false;
    if (s->action != BF_ACT_ALERT && d->ips) {
        blocked = true;
        if (p) {
            if (!(p->flags & BF_PKT_DROP)) {
                t->st.drops++;
                t->drop_pending = !f || !(f->flags & BF_FLOW_F_DROP);
            }
            p->flags |= BF_PKT_DROP;
        }
        if (f)
            f->flags |= BF_FLOW_F_DROP;
    }
    if ((s->flags & BF_SIG_NOALERT) ||
        (s->thr.type != BF_THR_NONE && !thr_check(d, s, &s->thr, 0, p, f, dir, now))) {
        t->st.alerts_suppressed++;
        return;
    }
    if (t->qpkt != p || t->qflow != f) {
        if (t->nq || t->drop_pending) {
            bool dp = t->drop_pending;
            t->drop_pending = false;
            flush(t);
            t->drop_pending = dp;
        }
        t->qpkt = p;
        t->qflow = f;
    }
    if (f)
        f->flags |= BF_FLOW_F_ALERTED;
    queue_alert(t, s, p, f, dir, blocked, v);
}

/* ========================================================= matching */

static void cand_hit(void *ud, uint32_t id)
{
    bf_detect_thread *t = ud;
    if (t->seen[id] == t->gen)
        return;
    t->seen[id] = t->gen;
    if (t->ncand == t->capcand) {
        t->capcand = t->capcand ? t->capcand * 2 : 256;
        t->cand = bf_realloc(t->cand, t->capcand * sizeof *t->cand);
    }
    t->cand[t->ncand++] = id;
}

static void cand_begin(bf_detect_thread *t)
{
    t->ncand = 0;
    if (++t->gen == 0) {
        memset(t->seen, 0, t->d->nsigs * sizeof *t->seen);
        t->gen = 1;
    }
}

static void cand_list(bf_detect_thread *t, const uint32_t *l, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        cand_hit(t, l[i]);
}

static void cand_sort(bf_detect_thread *t)
{
    if (t->ncand > 1)
        qsort(t->cand, t->ncand, sizeof *t->cand, u32_cmp);
}

static void scan(bf_detect_thread *t, const bf_mpm *m, const uint8_t *data, uint32_t len)
{
    if (!m || !len)
        return;
    t->st.mpm_scans++;
    bf_mpm_scan(m, t->mps, data, len, cand_hit, t);
}

/* One buffer's matches on one instance (transforms applied). */
static bool buf_match(bf_detect_thread *t, const bf_sig *s, const bf_sig_buf *sb,
                      const uint8_t *data, uint32_t len)
{
    uint32_t tl = len;
    const uint8_t *td = sb->nxf ? bf_match_transform(t->ms, sb, data, len, &tl) : data;
    if (!td)
        return false;
    return bf_match_buffer(t->ms, s, sb, td, tl);
}

/* Packet / stream rule: everything but the prefilter. */
static bool eval_pkt_sig(bf_detect_thread *t, const bf_sig *s, const sinfo *si, bf_packet *p,
                         bf_flow *f, int dir, const uint8_t *data, uint32_t len)
{
    if (si->app != BF_APP_UNKNOWN && (!f || f->app_proto != si->app))
        return false;
    hdr h;
    hdr_from(&h, p, f, dir);
    if (!hdr_match(s, &h) || !flow_kw_match(s, f, dir, p))
        return false;
    if (s->npkw && !bf_match_packet_kw(s, p))
        return false;
    if (s->nfb && !fb_conditions(s, f))
        return false;
    if (s->nfi && !fi_conditions(s, f))
        return false;
    bf_match_begin_sig(t->ms);
    for (unsigned i = 0; i < s->nbufs; i++) {
        const bf_sig_buf *sb = &s->bufs[i];
        if (!len || !buf_match(t, s, sb, data, len))
            return false;
    }
    return true;
}

static void run_iponly(bf_detect_thread *t, bf_packet *p, bf_flow *f, int dir)
{
    bf_detect *d = t->d;
    cand_begin(t);
    cand_list(t, d->iponly_generic, d->niponly_generic);
    if (p->ipver == 4) {
        const ipidx *xs[2] = {&d->ip_src, &d->ip_dst};
        const bf_addr *as[2] = {&p->src, &p->dst};
        for (int k = 0; k < 2; k++) {
            const ipidx *x = xs[k];
            if (!x->nb)
                continue;
            uint64_t v = bf_be32(as[k]->b);
            size_t seg = seg_find(x->b, x->nb, v);
            if (seg >= x->nb)
                continue;
            cand_list(t, x->sigs + x->off[seg], x->off[seg + 1] - x->off[seg]);
        }
    }
    cand_sort(t);
    for (uint32_t i = 0; i < t->ncand && !t->pass_now; i++) {
        const bf_sig *s = d->sigs[t->cand[i]];
        if (!(d->si[s->idx].classes & (1u << class_of_proto(p->proto, p->ipver))))
            continue;
        if (eval_pkt_sig(t, s, &d->si[s->idx], p, f, dir, NULL, 0)) {
            t->st.candidates++;
            on_match(t, s, p, f, dir, NULL);
        }
    }
}

static void run_group(bf_detect_thread *t, const group *g, uint16_t buf, bf_packet *p, bf_flow *f,
                      int dir, const uint8_t *data, uint32_t len)
{
    bf_detect *d = t->d;
    cand_begin(t);
    scan(t, g->mpm[buf], data, len);
    cand_list(t, g->nonmpm, g->nnonmpm);
    cand_sort(t);
    t->st.candidates += t->ncand;
    for (uint32_t i = 0; i < t->ncand && !t->pass_now; i++) {
        const bf_sig *s = d->sigs[t->cand[i]];
        if (eval_pkt_sig(t, s, &d->si[s->idx], p, f, dir, data, len))
            on_match(t, s, p, f, dir, NULL);
    }
}

static void on_packet(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    bf_packet *p = m->pkt;
    bf_flow *f = m->flow;
    bf_detect *d = t->d;
    t->pass_now = false;
    if (t->nq || t->drop_pending) {
        if (t->qpkt != p)
            flush(t);
    }
    if (!p || !p->ipver || (p->flags & (BF_PKT_INVALID | BF_PKT_PSEUDO)) ||
        ((p->flags & BF_PKT_FRAGMENT) && !(p->flags & BF_PKT_REASSEMBLED)))
        goto out;
    if (f && (f->flags & BF_FLOW_F_PASS))
        goto out;
    if (f && (f->flags & BF_FLOW_F_DROP) && d->ips) {
        if (!(p->flags & BF_PKT_DROP)) {
            p->flags |= BF_PKT_DROP;
            t->st.drops++;
        }
        goto out;
    }
    int dir = f ? p->dir : 0;
    t->qpkt = p;
    t->qflow = f;
    if (d->any_iponly) {
        uint32_t bit = dir ? BF_FLOW_F_IPONLY_TC : BF_FLOW_F_IPONLY_TS;
        if (!f || !(f->flags & bit)) {
            if (f)
                f->flags |= bit;
            run_iponly(t, p, f, dir);
        }
    }
    if (!t->pass_now) {
        const group *g = &d->pkt[class_of_proto(p->proto, p->ipver)][dir];
        if (g->nnonmpm || (g->mpm[BF_DBUF_PKT] && p->payload_len))
            run_group(t, g, BF_DBUF_PKT, p, f, dir, p->payload, p->payload_len);
    }
out:
    if (t->nq || t->drop_pending)
        flush(t);
    t->qpkt = NULL;
    t->qflow = NULL;
}

static void on_stream(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    const bf_stream_chunk *c = m->data;
    bf_flow *f = m->flow;
    if (!t->d->any_stream || !f || !c->len || (f->flags & (BF_FLOW_F_PASS | BF_FLOW_F_DROP)))
        return;
    const group *g = &t->d->stream[c->dir ? 1 : 0];
    if (!g->nnonmpm && !g->mpm[BF_DBUF_STREAM])
        return;
    run_group(t, g, BF_DBUF_STREAM, m->pkt, f, c->dir ? 1 : 0, c->data, c->len);
    if (!m->pkt)
        flush(t);
}

/* ------------------------------------------------------ transactions */

static txrec *tx_get(bf_detect_thread *t, dstate *ds, uint16_t app, uint64_t id)
{
    for (uint32_t i = 0; i < ds->ntx; i++)
        if (ds->tx[i].tx_id == id && ds->tx[i].app == app)
            return &ds->tx[i];
    if (ds->ntx == MAX_TXREC) {
        txrec_clear(&ds->tx[0]);
        memmove(&ds->tx[0], &ds->tx[1], (MAX_TXREC - 1) * sizeof ds->tx[0]);
        ds->ntx--;
        memset(&ds->tx[ds->ntx], 0, sizeof ds->tx[0]);
    }
    (void)t;
    txrec *r = &ds->tx[ds->ntx++];
    r->tx_id = id;
    r->app = app;
    return r;
}

static void tx_drop(dstate *ds, txrec *r)
{
    size_t i = (size_t)(r - ds->tx);
    txrec_clear(r);
    memmove(&ds->tx[i], &ds->tx[i + 1], (ds->ntx - i - 1) * sizeof ds->tx[0]);
    ds->ntx--;
    memset(&ds->tx[ds->ntx], 0, sizeof ds->tx[0]);
}

static bool tx_done_has(const txrec *r, uint32_t sig)
{
    for (uint32_t i = 0; i < r->ndone; i++)
        if (r->done[i] == sig)
            return true;
    return false;
}

static void tx_done_add(txrec *r, uint32_t sig)
{
    if (r->ndone == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->done = bf_realloc(r->done, r->cap * sizeof *r->done);
    }
    r->done[r->ndone++] = sig;
}

/* Is buffer b final-or-present in view v (inspected in direction dir)? */
static bool buf_ready(const bf_tx_view *v, uint16_t b)
{
    if (v->bufs[b].n)
        return true;
    uint8_t dirs = g_buf[b].dirs;
    if (dirs == BF_DIR_TS)
        return v->done[0];
    if (dirs == BF_DIR_TC)
        return v->done[1];
    return v->done[v->dir];
}

/* 1 match, 0 no match (final), -1 not yet decidable */
static int eval_tx_sig(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f,
                       const bf_tx_view *v)
{
    int dir = v->dir;
    for (unsigned i = 0; i < s->nbufs; i++) {
        uint16_t b = s->bufs[i].buf;
        if (b != BF_DBUF_PKT && b != BF_DBUF_STREAM && !buf_ready(v, b))
            return -1;
    }
    hdr h;
    hdr_from(&h, p, f, dir);
    if (!hdr_match(s, &h) || !flow_kw_match(s, f, dir, p))
        return 0;
    if (s->npkw && (!p || !bf_match_packet_kw(s, p)))
        return 0;
    if (s->nfb && !fb_conditions(s, f))
        return 0;
    if (s->nfi && !fi_conditions(s, f))
        return 0;
    bf_match_begin_sig(t->ms);
    bool growing = false;
    for (unsigned i = 0; i < s->nbufs; i++) {
        const bf_sig_buf *sb = &s->bufs[i];
        uint16_t b = sb->buf;
        if (b == BF_DBUF_PKT || b == BF_DBUF_STREAM) {
            if (!p || !p->payload_len || !buf_match(t, s, sb, p->payload, p->payload_len))
                return 0;
            continue;
        }
        const bf_dbuf_set *set = &v->bufs[b];
        if (sb->nsm == 1 && sb->sm[0].type == BF_SM_ABSENT) {
            if (set->n)
                return 0;
            continue;
        }
        bool ok = false;
        for (uint16_t k = 0; k < set->n && !ok; k++)
            ok = buf_match(t, s, sb, set->v[k].p, set->v[k].len);
        if (!ok) {
            bool body = b == BF_DBUF_FILE_DATA || b == BF_DBUF_HTTP_REQUEST_BODY ||
                        b == BF_DBUF_HTTP_RESPONSE_BODY;
            if (body && !v->body_final[g_buf[b].dirs == BF_DIR_TC ? 1 :
                                       g_buf[b].dirs == BF_DIR_TS ? 0 : dir])
                growing = true;
            else if (!set->n && !v->done[dir])
                growing = true;
            if (!growing)
                return 0;
            return -1;
        }
    }
    return 1;
}

static void on_tx(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    const bf_tx_view *v = m->data;
    bf_flow *f = m->flow;
    bf_packet *p = m->pkt;
    bf_detect *d = t->d;
    if (!d->any_tx || !f || v->app_proto >= BF_APP_MAX || v->dir > 1 ||
        (f->flags & (BF_FLOW_F_PASS)))
        return;
    if (p && (p->flags & BF_PKT_PSEUDO))
        p = NULL;
    if ((f->flags & BF_FLOW_F_DROP) && d->ips)
        return;
    const group *g = &d->app[v->app_proto][v->dir];
    bool any = g->nnonmpm != 0;
    for (unsigned b = 0; b < BF_DBUF_MAX && !any; b++)
        any = g->mpm[b] && v->bufs[b].n;
    bool last = v->done[0] && v->done[1];
    dstate *ds = dstate_get(t, f, any);
    txrec *r = NULL;
    if (any) {
        r = tx_get(t, ds, v->app_proto, v->tx_id);
        cand_begin(t);
        for (unsigned b = 0; b < BF_DBUF_MAX; b++) {
            if (!g->mpm[b])
                continue;
            const bf_dbuf_set *set = &v->bufs[b];
            for (uint16_t k = 0; k < set->n; k++)
                scan(t, g->mpm[b], set->v[k].p, set->v[k].len);
        }
        cand_list(t, g->nonmpm, g->nnonmpm);
        cand_sort(t);
        t->st.candidates += t->ncand;
        t->pass_now = false;
        for (uint32_t i = 0; i < t->ncand && !t->pass_now; i++) {
            uint32_t idx = t->cand[i];
            if (tx_done_has(r, idx))
                continue;
            const bf_sig *s = d->sigs[idx];
            int rc = eval_tx_sig(t, s, p, f, v);
            if (rc == 1) {
                tx_done_add(r, idx);
                on_match(t, s, p, f, v->dir, v);
            } else if (rc == 0 && last) {
                tx_done_add(r, idx);
            }
        }
        t->pass_now = false;
    }
    if (last && ds) {
        if (!r) {
            for (uint32_t i = 0; i < ds->ntx; i++)
                if (ds->tx[i].tx_id == v->tx_id && ds->tx[i].app == v->app_proto)
                    r = &ds->tx[i];
        }
        if (r)
            tx_drop(ds, r);
    }
    if (!p && (t->nq || t->drop_pending))
        flush(t);
}

static void on_flow_end(void *ud, const bf_bus_msg *m)
{
    bf_detect_thread *t = ud;
    bf_flow *f = m->flow;
    if (t->nq || t->drop_pending)
        flush(t);
    if (f && f->detect_state) {
        dstate_free(f->detect_state);
        t->st.memuse -= sizeof(dstate);
        f->detect_state = NULL;
    }
}

/* ============================================================ thread */

static void thread_attach(bf_detect_thread *t, bf_detect *d)
{
    t->d = d;
    free(t->seen);
    t->seen = bf_calloc(d->nsigs ? d->nsigs : 1, sizeof *t->seen);
    t->gen = 0;
    group *all[] = {&d->pkt[0][0], &d->stream[0], &d->app[0][0]};
    size_t counts[] = {NCLASS * 2, 2, BF_APP_MAX * 2};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < counts[a]; i++)
            for (unsigned b = 0; b < BF_DBUF_MAX; b++)
                if (all[a][i].mpm[b] && !bf_mpm_scratch_fit(t->mps, all[a][i].mpm[b]))
                    bf_err("detect: cannot allocate prefilter scratch");
}

bf_detect_thread *bf_detect_thread_new(bf_detect *d, bf_eve *eve, bf_bus *bus, FILE *fast_log)
{
    bf_detect_thread *t = bf_calloc(1, sizeof *t);
    bf_detect_ref(d);
    t->eve = eve;
    t->bus = bus;
    t->fast = fast_log;
    t->ms = bf_match_scratch_new();
    t->mps = bf_mpm_scratch_new();
    thread_attach(t, d);
    bf_bus_subscribe(bus, BF_BUS_PACKET, on_packet, t);
    bf_bus_subscribe(bus, BF_BUS_TX, on_tx, t);
    bf_bus_subscribe(bus, BF_BUS_STREAM, on_stream, t);
    bf_bus_subscribe(bus, BF_BUS_FLOW_END, on_flow_end, t);
    return t;
}

void bf_detect_thread_swap(bf_detect_thread *t, bf_detect *d)
{
    if (d == t->d)
        return;
    flush(t);
    bf_detect_ref(d);
    bf_detect *old = t->d;
    thread_attach(t, d);
    bf_detect_unref(old);
}

void bf_detect_thread_free(bf_detect_thread *t)
{
    if (!t)
        return;
    flush(t);
    bf_match_scratch_free(t->ms);
    bf_mpm_scratch_free(t->mps);
    free(t->cand);
    free(t->seen);
    free(t->q);
    free(t->qbuf);
    bf_detect_unref(t->d);
    free(t);
}

const bf_detect_stats *bf_detect_thread_stats(const bf_detect_thread *t) { return &t->st; }
