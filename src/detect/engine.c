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
#include <strings.h>
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

/* action-order (config): rank of pass, drop, reject, alert; default
 * pass > drop > reject > alert. Set by bf_detect_load before sorting (a
 * load holds g_action_lock while it sorts). */
enum { AO_PASS, AO_DROP, AO_REJECT, AO_ALERT };
static int g_action_rank[4] = {0, 1, 2, 3};
static pthread_mutex_t g_action_lock = PTHREAD_MUTEX_INITIALIZER;

static int action_rank(uint8_t a)
{
    switch (a) {
    case BF_ACT_PASS: return g_action_rank[AO_PASS];
    case BF_ACT_DROP: return g_action_rank[AO_DROP];
    case BF_ACT_REJECT:
    case BF_ACT_REJECTDST:
    case BF_ACT_REJECTBOTH: return g_action_rank[AO_REJECT];
    default: return g_action_rank[AO_ALERT];
    }
}

/* Reads action-order (a list of pass, drop, reject, alert, each once). */
static bool action_order_load(bf_config *cfg, int rank[4], char *err, size_t errlen)
{
    static const char *const names[4] = {"pass", "drop", "reject", "alert"};
    for (int i = 0; i < 4; i++)
        rank[i] = i;
    if (!cfg || !bf_config_has(cfg, "action-order.0"))
        return true;
    bool seen[4] = {false};
    int n = 0;
    for (unsigned i = 0;; i++) {
        char key[32];
        snprintf(key, sizeof key, "action-order.%u", i);
        const char *v = bf_config_str(cfg, key, NULL);
        if (!v)
            break;
        int k = -1;
        for (int j = 0; j < 4; j++)
            if (!strcasecmp(v, names[j]))
                k = j;
        if (k < 0 || seen[k]) {
            snprintf(err, errlen, "action-order: '%s' is not pass, drop, reject or alert (or "
                     "appears twice)", v);
            return false;
        }
        seen[k] = true;
        rank[k] = n++;
    }
    for (int j = 0; j < 4; j++)
        if (!seen[j])
            rank[j] = n++;
    return true;
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
    for (unsigned i = 0; i < s->npkw; i++)
        if (s->pkw[i].type == BF_PK_IP_PROTO && !s->pkw[i].negated && s->pkw[i].cmp.op == BF_CMP_EQ)
            si->classes &= (uint8_t)(1u << det_class_of_proto((uint8_t)s->pkw[i].cmp.a, 4));
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
    /* IP-only (Suricata's ip_only): addresses and ports only, no flow
     * keyword, no flowbits/flowint condition: once per flow direction. */
    if (s->proto != BF_SP_APP && s->proto != BF_SP_TCP_PKT && s->nbufs == 0 && s->npkw == 0 &&
        s->flow == 0 && !si->fb_read && s->nfi == 0) {
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

typedef struct iprange {
    uint64_t lo, hi1;        /* [lo, hi1) */
    uint32_t sig;
} iprange;

typedef struct portent {
    uint16_t port;
    uint32_t sig;
} portent;

typedef struct gbuild {
    bf_mpm_builder *mb[BF_DBUF_MAX];
    uint32_t *nonmpm;
    uint32_t n, cap;
    bool index_nonmpm;       /* packet groups: index the rules without prefilter */
    iprange *r[2];           /* [0] by source, [1] by destination (IPv4) */
    size_t nr[2], capr[2];
    iprange *r6[2];          /* same for IPv6, upper 64 bits */
    size_t nr6[2], capr6[2];
    portent *pe[2];          /* [0] by dest port, [1] by source port */
    size_t npe[2], cappe[2];
} gbuild;

static uint64_t ip_cover(const bf_ipset *s);
static void ipidx_build(ipidx *x, iprange *r, size_t n);

static uint64_t hi64(const bf_addr *a)
{
    return (uint64_t)bf_be32(a->b) << 32 | bf_be32(a->b + 4);
}

static void range_push(iprange **v, size_t *n, size_t *cap, iprange r)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = bf_realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = r;
}

#define PORT_INDEX_MAX 64    /* rules with more ports than this stay generic */

static uint32_t port_count(const bf_portset *ps)
{
    if (ps->any)
        return UINT32_MAX;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ps->n; i++) {
        n += (uint32_t)ps->r[i].hi - ps->r[i].lo + 1;
        if (n > PORT_INDEX_MAX)
            return UINT32_MAX;
    }
    return n;
}

/* Index a rule that has no fast pattern; false: it stays generic. */
static bool gb_index(gbuild *g, const bf_sig *s, uint32_t idx)
{
    if (!g->index_nonmpm)
        return false;
    /* a bidirectional rule (<>) is indexed on both sides of the packet */
    bool bidir = (s->flags & BF_SIG_BIDIR) != 0;
    uint64_t cs = ip_cover(&s->src), cd = ip_cover(&s->dst);
    if (BF_MIN(cs, cd) <= (1ull << 24)) {
        int side = cs <= cd ? 0 : 1;
        const bf_ipset *set = side == 0 ? &s->src : &s->dst;
        for (int k = 0; k < 2; k++) {
            int to = k == 0 ? side : !side;
            if (k == 1 && !bidir)
                break;
            for (uint32_t i = 0; i < set->n4; i++)
                range_push(&g->r[to], &g->nr[to], &g->capr[to],
                           (iprange){set->r4[i].lo, (uint64_t)set->r4[i].hi + 1, idx});
            for (uint32_t i = 0; i < set->n6; i++) {
                uint64_t lo = hi64(&set->r6[i].lo), hi = hi64(&set->r6[i].hi);
                range_push(&g->r6[to], &g->nr6[to], &g->capr6[to],
                           (iprange){lo, hi == UINT64_MAX ? hi : hi + 1, idx});
            }
        }
        return true;
    }
    for (int side = 0; side < 2; side++) {
        const bf_portset *ps = side == 0 ? &s->dp : &s->sp;
        if (port_count(ps) == UINT32_MAX)
            continue;
        for (int k = 0; k < 2; k++) {
            int to = k == 0 ? side : !side;
            if (k == 1 && !bidir)
                break;
            for (uint32_t i = 0; i < ps->n; i++)
                for (uint32_t port = ps->r[i].lo; port <= ps->r[i].hi; port++) {
                    if (g->npe[to] == g->cappe[to]) {
                        g->cappe[to] = g->cappe[to] ? g->cappe[to] * 2 : 256;
                        g->pe[to] = bf_realloc(g->pe[to], g->cappe[to] * sizeof *g->pe[to]);
                    }
                    g->pe[to][g->npe[to]++] = (portent){(uint16_t)port, idx};
                }
        }
        return true;
    }
    return false;
}

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
    } else if (!gb_index(g, s, idx)) {
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
    for (int side = 0; side < 2; side++) {
        ipidx_build(side == 0 ? &g->nm_src : &g->nm_dst, gb->r[side], gb->nr[side]);
        ipidx_build(side == 0 ? &g->nm_src6 : &g->nm_dst6, gb->r6[side], gb->nr6[side]);
        g->nindexed += (uint32_t)(gb->nr[side] + gb->nr6[side]);
        free(gb->r[side]);
        free(gb->r6[side]);
        gb->r[side] = gb->r6[side] = NULL;
        if (!gb->npe[side])
            continue;
        /* counting sort by port; the rule order (ascending idx) is kept */
        uint32_t *off = bf_calloc(65537, sizeof *off);
        uint32_t *sigs = bf_malloc(gb->npe[side] * sizeof *sigs);
        for (size_t i = 0; i < gb->npe[side]; i++)
            off[gb->pe[side][i].port + 1]++;
        for (uint32_t k = 1; k <= 65536; k++)
            off[k] += off[k - 1];
        uint32_t *fill = bf_malloc(65536 * sizeof *fill);
        memcpy(fill, off, 65536 * sizeof *fill);
        for (size_t i = 0; i < gb->npe[side]; i++)
            sigs[fill[gb->pe[side][i].port]++] = gb->pe[side][i].sig;
        free(fill);
        g->nm_port_off[side] = off;
        g->nm_port_sigs[side] = sigs;
        g->nindexed += (uint32_t)gb->npe[side];
        free(gb->pe[side]);
        gb->pe[side] = NULL;
    }
    return true;
}

/* Size of an address set for indexing: IPv4 addresses plus IPv6 /64s
 * (saturating), or UINT64_MAX when unusable (any, empty). */
static uint64_t ip_cover(const bf_ipset *s)
{
    if (s->any || (!s->n4 && !s->n6))
        return UINT64_MAX;
    uint64_t c = 0;
    for (uint32_t i = 0; i < s->n4; i++)
        c += (uint64_t)s->r4[i].hi - s->r4[i].lo + 1;
    for (uint32_t i = 0; i < s->n6; i++) {
        uint64_t d = hi64(&s->r6[i].hi) - hi64(&s->r6[i].lo);
        if (d >= (1ull << 40))
            return UINT64_MAX;
        c += d + 1;
    }
    return c;
}


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
    group *all[] = {&d->pkt[0][0], &d->stream[0], &d->app[0][0], &d->iponly, &d->pktstream[0]};
    size_t counts[] = {NCLASS * 2, 2, BF_APP_MAX * 2, 1, 2};
    for (size_t a = 0; a < 5; a++)
        for (size_t i = 0; i < counts[a]; i++) {
            group *g = &all[a][i];
            for (unsigned b = 0; b < BF_DBUF_MAX; b++)
                if (g->mpm[b])
                    bf_mpm_free(g->mpm[b]);
            free(g->nonmpm);
            ipidx_free(&g->nm_src);
            ipidx_free(&g->nm_dst);
            ipidx_free(&g->nm_src6);
            ipidx_free(&g->nm_dst6);
            for (int k = 0; k < 2; k++) {
                free(g->nm_port_off[k]);
                free(g->nm_port_sigs[k]);
            }
        }
    det_thr_free(d);
    bf_parse_ctx_free(&d->pctx);
    free(d->prof);
    pthread_mutex_destroy(&d->prof_lock);
    free(d);
}

static bool build(bf_detect *d, bf_detect_report *rep, char *err, size_t errlen)
{
    gbuild *gb_pkt = bf_calloc(NCLASS * 2, sizeof *gb_pkt);
    gbuild gb_stream[2] = {0};
    gbuild gb_ip = {.index_nonmpm = true};
    for (unsigned i = 0; i < NCLASS * 2; i++)
        gb_pkt[i].index_nonmpm = true;
    gb_stream[0].index_nonmpm = gb_stream[1].index_nonmpm = true;
    gbuild gb_pktstream[2] = {0};
    gbuild *gb_app = bf_calloc(BF_APP_MAX * 2, sizeof *gb_app);

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
        case K_IPONLY:
            d->any_iponly = true;
            gb_add(&gb_ip, s, i);
            break;
        case K_PKT:
            for (unsigned c = 0; c < NCLASS; c++)
                if (si->classes & (1u << c))
                    for (unsigned dir = 0; dir < 2; dir++)
                        if (dirs & (1u << dir))
                            gb_add(&gb_pkt[c * 2 + dir], s, i);
            if (d->stream_payload && det_pkt_sig_on_stream(s, si)) {
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
    if (ok)
        ok = gb_finish(&gb_ip, &d->iponly, rep, err, errlen);
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
    return ok;
}

/* EVE drop events: Suricata's eve-log "drop: flows: all" (one per dropped
 * packet) or "start" (default: the first of each flow); Beffroi's own key is
 * outputs.eve.drop.flows. */
static bool drop_log_all(bf_config *cfg)
{
    if (!cfg)
        return false;
    char key[96];
    const char *k = bf_config_eve_key(cfg, "drop", "flows", key, sizeof key);
    const char *v = k ? bf_config_str(cfg, k, NULL) : NULL;
    return v && !strcmp(v, "all");
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
    pthread_mutex_init(&d->prof_lock, NULL);
    /* tcp payload rules also over the reassembled stream (as Suricata:
     * content across segments, stream=1 alerts) */
    d->stream_payload = cfg && bf_config_bool(cfg, "detect.stream-payload", false);
    det_sbuf_setcap(cfg ? bf_config_size(cfg, "detect.stream-memcap", 64ull << 20) : 64ull << 20);
    d->drop_log_all = drop_log_all(cfg);
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
    int rank[4];
    if (!action_order_load(cfg, rank, err, errlen)) {
        detect_free(d);
        return NULL;
    }
    sortent *se = bf_malloc((n ? n : 1) * sizeof *se);
    for (size_t i = 0; i < n; i++)
        se[i] = (sortent){d->sigs[i], (uint32_t)i};
    pthread_mutex_lock(&g_action_lock);
    memcpy(g_action_rank, rank, sizeof rank);
    qsort(se, n, sizeof *se, sig_cmp);
    pthread_mutex_unlock(&g_action_lock);
    for (size_t i = 0; i < n; i++) {
        d->sigs[i] = se[i].s;
        d->sigs[i]->idx = (uint32_t)i;
    }
    free(se);
    d->nsigs = (uint32_t)n;
    rep->loaded = (uint32_t)n;
    if (o->profiling)
        d->prof = bf_calloc(n ? n : 1, sizeof *d->prof);
    if (!det_thr_setup(d, cfg, o->quiet, err, errlen)) {
        detect_free(d);
        return NULL;
    }
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


static int prof_cmp(const void *a, const void *b, void *ud)
{
    const det_prof *p = ud;
    uint64_t x = p[*(const uint32_t *)a].ns, y = p[*(const uint32_t *)b].ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

void bf_detect_profile_print(const bf_detect *d, FILE *f, unsigned top)
{
    if (!d->prof)
        return;
    uint32_t *ix = bf_malloc((d->nsigs ? d->nsigs : 1) * sizeof *ix);
    uint64_t total = 0;
    for (uint32_t i = 0; i < d->nsigs; i++) {
        ix[i] = i;
        total += d->prof[i].ns;
    }
    qsort_r(ix, d->nsigs, sizeof *ix, prof_cmp, d->prof);
    fprintf(f, "rule profiling: %.3f s spent verifying candidates; top rules by time:\n",
            total / 1e9);
    fprintf(f, "  %10s %10s %12s %9s %8s  %s\n", "sid", "checks", "matches", "ms", "ns/chk", "msg");
    for (uint32_t k = 0; k < d->nsigs && k < top; k++) {
        const det_prof *p = &d->prof[ix[k]];
        if (!p->checks)
            break;
        const bf_sig *s = d->sigs[ix[k]];
        fprintf(f, "  %10u %10llu %12llu %9.2f %8.0f  %.60s\n", s->sid,
                (unsigned long long)p->checks, (unsigned long long)p->matches, p->ns / 1e6,
                (double)p->ns / (double)p->checks, s->msg ? s->msg : "");
    }
    free(ix);
}
