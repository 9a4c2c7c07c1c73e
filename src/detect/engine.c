/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/engine.c: loading rules into an engine (inspect.c runs it).
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
#include <time.h>

#include "common/log.h"
#include "detect/engine_int.h"

/* ------------------------------------------------------------ buffers */

const struct bf_det_buf_info bf_det_buf[BF_DBUF_MAX] = {
#define X(id, kw, legacy, app, dirs, multi) {kw, app, dirs, multi},
#include "detect/buffers.def"
#undef X
};

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
        if (bf_det_buf[b].app != BF_APP_UNKNOWN && si->app == BF_APP_UNKNOWN)
            si->app = bf_det_buf[b].app;
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

/* stream: the group is scanned over stream chunks (BF_DBUF_STREAM), where
 * payload contents (BF_DBUF_PKT) are looked for too */
static void gb_add_ex(gbuild *g, const bf_sig *s, uint32_t idx, bool stream)
{
    uint16_t b;
    const bf_sm *c;
    if (fp_of(s, &b, &c)) {
        if (stream && b == BF_DBUF_PKT)
            b = BF_DBUF_STREAM;
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

static void gb_add(gbuild *g, const bf_sig *s, uint32_t idx) { gb_add_ex(g, s, idx, false); }

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
        size_t k0 = det_seg_find(b, (uint32_t)nb, r[i].lo);
        for (size_t k = k0; k < nb && b[k] < r[i].hi1; k++)
            cnt[k + 1]++;
    }
    for (size_t k = 1; k <= nb; k++)
        cnt[k] += cnt[k - 1];
    uint32_t *sigs = bf_malloc((cnt[nb] + 1) * sizeof *sigs);
    uint32_t *fill = bf_malloc((nb + 1) * sizeof *fill);
    memcpy(fill, cnt, (nb + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        size_t k0 = det_seg_find(b, (uint32_t)nb, r[i].lo);
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
    group *all[] = {&d->pkt[0][0], &d->stream[0], &d->app[0][0], &d->pktstream[0]};
    size_t counts[] = {NCLASS * 2, 2, BF_APP_MAX * 2, 2};
    for (size_t a = 0; a < 4; a++)
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
    gbuild gb_pktstream[2] = {0};
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
            if (det_pkt_sig_on_stream(s, si)) {
                d->any_pktstream = true;
                for (unsigned dir = 0; dir < 2; dir++)
                    if (dirs & (1u << dir))
                        gb_add_ex(&gb_pktstream[dir], s, i, true);
            }
            break;
        case K_STREAM:
            d->any_stream = true;
            for (unsigned dir = 0; dir < 2; dir++)
                if (dirs & (1u << dir))
                    gb_add_ex(&gb_stream[dir], s, i, true);
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
    for (unsigned i = 0; ok && i < 2; i++)
        ok = gb_finish(&gb_pktstream[i], &d->pktstream[i], rep, err, errlen);
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
    for (unsigned i = 0; i < 2; i++) {
        free(gb_stream[i].nonmpm);
        free(gb_pktstream[i].nonmpm);
    }
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

