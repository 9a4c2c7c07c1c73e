/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/thresholdcfg.c: threshold.config (config key threshold-file) and the
 * per-sig threshold lists the engine evaluates (threshold.c).
 *
 * Lines, as Suricata's (util-threshold-config.c):
 *   threshold    gen_id G, sig_id S, type limit|threshold|both, track T, count C, seconds N
 *   event_filter (the same)
 *   suppress     gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDRS]
 *   rate_filter  gen_id G, sig_id S, track T, count C, seconds N,
 *                new_action alert|drop|pass|reject, timeout N
 * T is by_src, by_dst, by_both, by_rule or by_flow; ADDRS an address, a
 * CIDR, a list "[a,b/16]" or a $VARIABLE of vars.address-groups.
 * sig_id 0 applies to every rule (of gen_id G, or of every gid when G is 0).
 * Precedence, as Suricata: a rule with its own detection_filter ignores the
 * file's thresholds; for one sid, a file threshold/limit/both replaces the
 * rule's threshold and a rate_filter on a rule with a threshold is ignored;
 * the sid-0 lines skip rules that already have one.  A suppress without
 * track/ip silences the rule (its actions still apply).  '#' comments, blank
 * lines and '\' continuations; a bad line is reported as "file:line:
 * message" and skipped.
 */
#include <ctype.h>
#include <errno.h>

#include "common/log.h"
#include "detect/engine_int.h"
#include "detect/parse_int.h"

typedef struct cfgline {
    uint8_t type;            /* BF_THR_*: SUPPRESS, RATE or a threshold type */
    bool has_track;          /* suppress with track/ip */
    uint32_t gid, sid;
    bf_threshold th;
    bf_ipset ips;
} cfgline;

/* growable per-sig list while building */
typedef struct blist {
    det_thr *e;
    uint16_t n, cap;
} blist;

static void blist_add(blist *l, const det_thr *t, bool front)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? (uint16_t)(l->cap * 2) : 2;
        l->e = bf_realloc(l->e, l->cap * sizeof *l->e);
    }
    if (front) {
        memmove(l->e + 1, l->e, l->n * sizeof *l->e);
        l->e[0] = *t;
    } else {
        l->e[l->n] = *t;
    }
    l->n++;
}

static void ipset_copy(bf_ipset *dst, const bf_ipset *src)
{
    *dst = *src;
    dst->r4 = NULL;
    dst->r6 = NULL;
    if (src->n4) {
        dst->r4 = bf_malloc(src->n4 * sizeof *src->r4);
        memcpy(dst->r4, src->r4, src->n4 * sizeof *src->r4);
    }
    if (src->n6) {
        dst->r6 = bf_malloc(src->n6 * sizeof *src->r6);
        memcpy(dst->r6, src->r6, src->n6 * sizeof *src->r6);
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static bool parse_u32(const char *v, uint32_t *out)
{
    if (!*v || !isdigit((unsigned char)*v))
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

static bool parse_track(const char *v, uint8_t *t, bool suppress)
{
    if (!strcmp(v, "by_src")) *t = BF_TRACK_SRC;
    else if (!strcmp(v, "by_dst")) *t = BF_TRACK_DST;
    else if (suppress && !strcmp(v, "by_either")) *t = BF_TRACK_EITHER;
    else if (!suppress && !strcmp(v, "by_both")) *t = BF_TRACK_BOTH;
    else if (!suppress && !strcmp(v, "by_rule")) *t = BF_TRACK_RULE;
    else if (!suppress && !strcmp(v, "by_flow")) *t = BF_TRACK_FLOW;
    else return false;
    return true;
}

/* Parses one line (comments and continuations already removed). */
static bool parse_line(const bf_parse_ctx *pc, char *line, cfgline *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *p = line;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = 0;
    const char *kw = line;
    bool thr = false, sup = false, rate = false;
    if (!strcmp(kw, "threshold") || !strcmp(kw, "event_filter"))
        thr = true;
    else if (!strcmp(kw, "suppress"))
        sup = true;
    else if (!strcmp(kw, "rate_filter"))
        rate = true;
    else {
        snprintf(err, errlen, "unknown directive '%.30s'", kw);
        return false;
    }
    /* options, split on commas outside [] */
    char *opts[16];
    int n = 0, depth = 0;
    char *start = p;
    for (char *q = p;; q++) {
        if (*q == '[')
            depth++;
        else if (*q == ']' && depth)
            depth--;
        if ((*q == ',' && !depth) || !*q) {
            bool end = !*q;
            *q = 0;
            if (n == 16) {
                snprintf(err, errlen, "too many options");
                return false;
            }
            opts[n++] = trim(start);
            start = q + 1;
            if (end)
                break;
        }
    }
    bool have_gid = false, have_sid = false, have_type = false, have_track = false,
         have_count = false, have_sec = false, have_act = false, have_tmo = false,
         have_ip = false, have_mult = false;
    out->th.type = sup ? BF_THR_SUPPRESS : rate ? BF_THR_RATE : BF_THR_NONE;
    for (int i = 0; i < n; i++) {
        char *k = opts[i], *v = k;
        if (!*k) {
            snprintf(err, errlen, "empty option");
            return false;
        }
        while (*v && !isspace((unsigned char)*v))
            v++;
        if (*v)
            *v++ = 0;
        v = trim(v);
        bool ok = true;
        if (!strcmp(k, "gen_id") && !have_gid) {
            ok = parse_u32(v, &out->gid);
            have_gid = true;
        } else if (!strcmp(k, "sig_id") && !have_sid) {
            ok = parse_u32(v, &out->sid);
            have_sid = true;
        } else if (!strcmp(k, "type") && thr && !have_type) {
            if (!strcmp(v, "limit")) out->th.type = BF_THR_LIMIT;
            else if (!strcmp(v, "threshold")) out->th.type = BF_THR_THRESHOLD;
            else if (!strcmp(v, "both")) out->th.type = BF_THR_BOTH;
            else if (!strcmp(v, "backoff")) out->th.type = BF_THR_BACKOFF;
            else ok = false;
            have_type = true;
        } else if (!strcmp(k, "track") && !have_track) {
            ok = parse_track(v, &out->th.track, sup);
            have_track = true;
        } else if (!strcmp(k, "count") && !sup && !have_count) {
            ok = parse_u32(v, &out->th.count) && out->th.count > 0;
            have_count = true;
        } else if (!strcmp(k, "seconds") && !sup && !have_sec) {
            ok = parse_u32(v, &out->th.seconds) && out->th.seconds > 0;
            have_sec = true;
        } else if (!strcmp(k, "multiplier") && thr && !have_mult) {
            ok = parse_u32(v, &out->th.multiplier) && out->th.multiplier > 0;
            have_mult = true;
        } else if (!strcmp(k, "new_action") && rate && !have_act) {
            if (!strcmp(v, "alert") || !strcmp(v, "log")) out->th.new_action = BF_ACT_ALERT;
            else if (!strcmp(v, "drop") || !strcmp(v, "sdrop")) out->th.new_action = BF_ACT_DROP;
            else if (!strcmp(v, "pass")) out->th.new_action = BF_ACT_PASS;
            else if (!strcmp(v, "reject")) out->th.new_action = BF_ACT_REJECT;
            else ok = false;
            have_act = true;
        } else if (!strcmp(k, "timeout") && rate && !have_tmo) {
            ok = parse_u32(v, &out->th.timeout);
            have_tmo = true;
        } else if (!strcmp(k, "ip") && sup && !have_ip) {
            char e2[160];
            if (!*v || !bf_parse_addr_set(pc, v, &out->ips, e2, sizeof e2)) {
                snprintf(err, errlen, "%s: bad ip '%.60s': %s", kw, v, *v ? e2 : "empty");
                return false;
            }
            have_ip = true;
        } else {
            snprintf(err, errlen, "%s: unexpected option '%.30s'", kw, k);
            goto fail;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: bad %s '%.40s'", kw, k, v);
            goto fail;
        }
    }
    if (!have_gid || !have_sid) {
        snprintf(err, errlen, "%s: needs gen_id and sig_id", kw);
        goto fail;
    }
    if (sup) {
        if (have_track != have_ip) {
            snprintf(err, errlen, "suppress: track and ip go together");
            goto fail;
        }
        out->has_track = have_track;
    } else if (rate) {
        if (!have_track || !have_count || !have_sec || !have_act || !have_tmo) {
            snprintf(err, errlen,
                     "rate_filter: needs track, count, seconds, new_action and timeout");
            goto fail;
        }
    } else if (out->th.type == BF_THR_BACKOFF) {
        if (!have_track || !have_count || !have_mult || have_sec) {
            snprintf(err, errlen, "%s: backoff needs track, count and multiplier", kw);
            goto fail;
        }
    } else if (!have_type || !have_track || !have_count || !have_sec || have_mult) {
        snprintf(err, errlen, "%s: needs type, track, count and seconds", kw);
        goto fail;
    }
    out->type = out->th.type;
    return true;
fail:
    free(out->ips.r4);
    free(out->ips.r6);
    memset(&out->ips, 0, sizeof out->ips);
    return false;
}

static bool is_thr_kind(uint8_t type)
{
    /* Suricata's DETECT_THRESHOLD sigmatches (not detection_filter, suppress) */
    return type != BF_THR_DETECTION_FILTER && type != BF_THR_SUPPRESS;
}

static bool has_type(const blist *l, bool thr_kind)
{
    for (uint16_t i = 0; i < l->n; i++) {
        uint8_t t = l->e[i].th.type;
        if (t == BF_THR_SUPPRESS)
            continue;
        if (thr_kind ? is_thr_kind(t) : t == BF_THR_DETECTION_FILTER)
            return true;
    }
    return false;
}

static void apply(bf_detect *d, blist *bl, const cfgline *c, uint32_t i, bool specific,
                  const char *where, bool quiet)
{
    bf_sig *s = d->sigs[i];
    blist *l = &bl[i];
    det_thr t = {c->th, {0}};
    if (c->type == BF_THR_SUPPRESS) {
        if (!c->has_track) {
            s->flags |= BF_SIG_NOALERT;
            return;
        }
        ipset_copy(&t.ips, &c->ips);
        uint16_t nsup = 0;
        while (nsup < l->n && l->e[nsup].th.type == BF_THR_SUPPRESS)
            nsup++;
        /* after the other suppressions, before the thresholds */
        blist_add(l, &t, false);
        memmove(l->e + nsup + 1, l->e + nsup, (l->n - 1 - nsup) * sizeof *l->e);
        l->e[nsup] = t;
        return;
    }
    if (!specific) {
        if (has_type(l, true) || has_type(l, false))
            return;
    } else {
        if (has_type(l, false)) {
            if (!quiet)
                bf_info("%s: sig %u:%u has a detection_filter: it takes precedence", where, s->gid,
                    s->sid);
            return;
        }
        bool replace = c->type == BF_THR_LIMIT || c->type == BF_THR_THRESHOLD ||
                       c->type == BF_THR_BOTH || c->type == BF_THR_BACKOFF;
        if (!replace && has_type(l, true)) {
            if (!quiet)
                bf_info("%s: sig %u:%u has a threshold: it takes precedence", where, s->gid, s->sid);
            return;
        }
        if (replace) {
            /* the file's threshold replaces the last one of the rule */
            for (int k = l->n - 1; k >= 0; k--)
                if (is_thr_kind(l->e[k].th.type)) {
                    memmove(l->e + k, l->e + k + 1, (l->n - 1 - (uint16_t)k) * sizeof *l->e);
                    l->n--;
                    break;
                }
        }
    }
    blist_add(l, &t, false);
}

typedef struct sidref {
    uint32_t gid, sid, idx;
} sidref;

static int sidref_cmp(const void *a, const void *b)
{
    const sidref *x = a, *y = b;
    if (x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    if (x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void apply_line(bf_detect *d, blist *bl, const sidref *refs, const cfgline *c,
                       const char *where, bool quiet)
{
    if (c->sid == 0) {
        for (uint32_t i = 0; i < d->nsigs; i++)
            if (c->gid == 0 || d->sigs[i]->gid == c->gid)
                apply(d, bl, c, i, false, where, quiet);
        return;
    }
    /* first ref with (gid, sid) */
    size_t lo = 0, hi = d->nsigs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (refs[mid].gid < c->gid || (refs[mid].gid == c->gid && refs[mid].sid < c->sid))
            lo = mid + 1;
        else
            hi = mid;
    }
    bool found = false;
    for (size_t k = lo; k < d->nsigs && refs[k].gid == c->gid && refs[k].sid == c->sid; k++) {
        apply(d, bl, c, refs[k].idx, true, where, quiet);
        found = true;
    }
    if (!found && !quiet)
        bf_warn("%s: no rule %u:%u loaded", where, c->gid, c->sid);
}

static bool load_file(bf_detect *d, blist *bl, const char *path, bool quiet, char *err,
                      size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "threshold-file %s: %s", path, strerror(errno));
        return false;
    }
    sidref *refs = bf_malloc((d->nsigs ? d->nsigs : 1) * sizeof *refs);
    for (uint32_t i = 0; i < d->nsigs; i++)
        refs[i] = (sidref){d->sigs[i]->gid, d->sigs[i]->sid, i};
    qsort(refs, d->nsigs, sizeof *refs, sidref_cmp);
    char *buf = NULL, *acc = NULL;
    size_t cap = 0, alen = 0;
    ssize_t len;
    uint32_t lineno = 0, first = 0;
    while ((len = getline(&buf, &cap, fp)) >= 0) {
        lineno++;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = 0;
        if (!alen)
            first = lineno;
        bool cont = len && buf[len - 1] == '\\';
        if (cont)
            buf[--len] = 0;
        acc = bf_realloc(acc, alen + (size_t)len + 2);
        memcpy(acc + alen, buf, (size_t)len);
        alen += (size_t)len;
        acc[alen] = 0;
        if (cont)
            continue;
        char *l = trim(acc);
        alen = 0;
        if (!*l || *l == '#')
            continue;
        char where[512], e2[256];
        snprintf(where, sizeof where, "%s:%u", path, first);
        cfgline c;
        if (!parse_line(&d->pctx, l, &c, e2, sizeof e2)) {
            if (!quiet)
                bf_warn("%s: %s", where, e2);
            continue;
        }
        apply_line(d, bl, refs, &c, where, quiet);
        free(c.ips.r4);
        free(c.ips.r6);
    }
    free(buf);
    free(acc);
    free(refs);
    fclose(fp);
    return true;
}

bool det_thr_setup(bf_detect *d, bf_config *cfg, bool quiet, char *err, size_t errlen)
{
    blist *bl = bf_calloc(d->nsigs ? d->nsigs : 1, sizeof *bl);
    for (uint32_t i = 0; i < d->nsigs; i++) {
        const bf_sig *s = d->sigs[i];
        if (s->thr.type != BF_THR_NONE)
            blist_add(&bl[i], &(det_thr){s->thr, {0}}, false);
        if (s->dfilter.type != BF_THR_NONE)
            blist_add(&bl[i], &(det_thr){s->dfilter, {0}}, false);
    }
    const char *path = cfg ? bf_config_str(cfg, "threshold-file", NULL) : NULL;
    bool ok = true;
    if (path && *path)
        ok = load_file(d, bl, path, quiet, err, errlen);
    bool any = false;
    for (uint32_t i = 0; i < d->nsigs; i++)
        if (bl[i].n)
            any = true;
    if (!ok || !any) {
        for (uint32_t i = 0; i < d->nsigs; i++) {
            for (uint16_t k = 0; k < bl[i].n; k++) {
                free(bl[i].e[k].ips.r4);
                free(bl[i].e[k].ips.r6);
            }
            free(bl[i].e);
        }
        free(bl);
        return ok;
    }
    d->sthr = bf_calloc(d->nsigs, sizeof *d->sthr);
    for (uint32_t i = 0; i < d->nsigs; i++)
        d->sthr[i] = (det_thr_list){bl[i].n, bl[i].e};
    free(bl);
    for (unsigned i = 0; i < THR_SHARDS; i++) {
        pthread_mutex_init(&d->thr[i].lock, NULL);
        d->thr[i].e = bf_calloc(THR_SLOTS, sizeof(thr_entry));
    }
    return true;
}
