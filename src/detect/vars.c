/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/vars.c: address and port groups of rule headers.  Expressions are
 * parsed recursively ('!', '[...]' lists, $VARS from the context) into
 * interval sets over 128-bit integers (IPv4, IPv6 and ports share the
 * code), then stored as bf_ipset / bf_portset. */
#include "detect/parse_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct { u128 lo, hi; } rng;
typedef struct {
    rng *r;
    uint32_t n, cap;
} iset;

enum { F4 = 0, F6 = 1, FP = 2 };   /* families: v4, v6, ports */
static const u128 fmax[3] = {0xFFFFFFFFu, ~(u128)0, 65535};

#define MAX_DEPTH 16
#define MAX_RANGES 65536

static bool iset_add(iset *s, u128 lo, u128 hi)
{
    if (s->n == s->cap) {
        if (s->cap >= MAX_RANGES)
            return false;
        uint32_t nc = s->cap ? s->cap * 2 : 4;
        rng *r = realloc(s->r, nc * sizeof(*r));
        if (!r)
            return false;
        s->r = r;
        s->cap = nc;
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
    return true;
}

static int rng_cmp(const void *a, const void *b)
{
    const rng *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

static void iset_norm(iset *s)
{
    if (s->n < 2)
        return;
    qsort(s->r, s->n, sizeof(rng), rng_cmp);
    uint32_t o = 0;
    for (uint32_t i = 1; i < s->n; i++) {
        rng *last = &s->r[o];
        if (s->r[i].lo <= last->hi || (last->hi != ~(u128)0 && s->r[i].lo == last->hi + 1)) {
            if (s->r[i].hi > last->hi)
                last->hi = s->r[i].hi;
        } else {
            s->r[++o] = s->r[i];
        }
    }
    s->n = o + 1;
}

/* complement within [0, max]; s normalised */
static bool iset_not(iset *s, u128 max)
{
    iset o = {0};
    u128 next = 0;
    bool more = true;
    for (uint32_t i = 0; i < s->n && more; i++) {
        if (s->r[i].lo > next && !iset_add(&o, next, s->r[i].lo - 1))
            goto fail;
        if (s->r[i].hi >= max)
            more = false;
        else
            next = s->r[i].hi + 1;
    }
    if (more && !iset_add(&o, next, max))
        goto fail;
    free(s->r);
    *s = o;
    return true;
fail:
    free(o.r);
    return false;
}

/* a = a minus b (both normalised): a & ~b */
static bool iset_sub(iset *a, const iset *b, u128 max)
{
    iset nb = {0};
    for (uint32_t i = 0; i < b->n; i++)
        if (!iset_add(&nb, b->r[i].lo, b->r[i].hi))
            goto fail;
    if (!iset_not(&nb, max))
        goto fail;
    iset o = {0};
    uint32_t i = 0, j = 0;
    while (i < a->n && j < nb.n) {
        u128 lo = a->r[i].lo > nb.r[j].lo ? a->r[i].lo : nb.r[j].lo;
        u128 hi = a->r[i].hi < nb.r[j].hi ? a->r[i].hi : nb.r[j].hi;
        if (lo <= hi && !iset_add(&o, lo, hi)) {
            free(o.r);
            goto fail;
        }
        if (a->r[i].hi < nb.r[j].hi)
            i++;
        else
            j++;
    }
    free(nb.r);
    free(a->r);
    *a = o;
    return true;
fail:
    free(nb.r);
    return false;
}

static bool iset_union(iset *a, const iset *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (!iset_add(a, b->r[i].lo, b->r[i].hi))
            return false;
    iset_norm(a);
    return true;
}

/* ------------------------------------------------------------ parser */

typedef struct {
    const bf_parse_ctx *c;
    bool port;          /* parsing ports (one family FP) */
    char *err;
    size_t errlen;
} pstate;

/* The sets of one expression: [F4], [F6] for addresses, [0] for ports */
typedef struct { iset s[2]; } val;

static void val_free(val *v)
{
    free(v->s[0].r);
    free(v->s[1].r);
    memset(v, 0, sizeof(*v));
}

static int nfam(const pstate *st) { return st->port ? 1 : 2; }
static u128 famax(const pstate *st, int f) { return st->port ? fmax[FP] : fmax[f]; }

static bool set_all(const pstate *st, val *v)
{
    for (int f = 0; f < nfam(st); f++)
        if (!iset_add(&v->s[f], 0, famax(st, f)))
            return false;
    return true;
}

static bool fail(pstate *st, const char *fmt, const char *arg)
{
    if (st->err && st->errlen)
        snprintf(st->err, st->errlen, fmt, arg);
    return false;
}

static const char *var_value(const pstate *st, const char *name)
{
    const bf_names *n = st->port ? &st->c->port_var_names : &st->c->addr_var_names;
    char **vals = st->port ? st->c->port_var_values : st->c->addr_var_values;
    int64_t i = bf_names_find(n, name);
    return i < 0 ? NULL : vals[i];
}

static bool parse_expr(pstate *st, const char *s, size_t len, val *out, int depth);

static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static bool parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    if (len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_atom(pstate *st, const char *s, size_t len, val *out, int depth)
{
    char buf[128];
    if (len == 3 && strncasecmp(s, "any", 3) == 0)
        return set_all(st, out);
    if (s[0] == '$') {
        if (len - 1 >= sizeof buf || len < 2)
            return fail(st, "bad variable name", "");
        memcpy(buf, s + 1, len - 1);
        buf[len - 1] = 0;
        const char *v = var_value(st, buf);
        if (!v)
            return fail(st, "undefined variable $%s", buf);
        if (depth >= MAX_DEPTH)
            return fail(st, "variable $%s nests too deep (loop?)", buf);
        return parse_expr(st, v, strlen(v), out, depth + 1);
    }
    if (len >= sizeof buf)
        return fail(st, "bad value '%s'", "(too long)");
    memcpy(buf, s, len);
    buf[len] = 0;
    if (st->port) {
        char *colon = strchr(buf, ':');
        uint32_t lo = 0, hi = 65535;
        if (colon) {
            size_t l1 = (size_t)(colon - buf), l2 = strlen(colon + 1);
            if (l1 && !parse_u32(buf, l1, 65535, &lo))
                return fail(st, "bad port '%s'", buf);
            if (l2 && !parse_u32(colon + 1, l2, 65535, &hi))
                return fail(st, "bad port '%s'", buf);
            if (!l1 && !l2)
                return fail(st, "bad port '%s'", buf);
        } else {
            if (!parse_u32(buf, len, 65535, &lo))
                return fail(st, "bad port '%s'", buf);
            hi = lo;
        }
        if (lo > hi)
            return fail(st, "bad port range '%s'", buf);
        return iset_add(&out->s[0], lo, hi);
    }
    /* address: ip, ip/prefix, ip/netmask, lo-hi */
    char *slash = strchr(buf, '/');
    char *dash = strchr(buf, '-');
    bf_addr a, b;
    int ver;
    if (dash && !slash) {
        *dash = 0;
        int v1 = bf_addr_parse(buf, &a), v2 = bf_addr_parse(dash + 1, &b);
        if (!v1 || v1 != v2)
            return fail(st, "bad address '%s'", s);
        int f = v1 == 4 ? F4 : F6;
        u128 lo = 0, hi = 0;
        int n = v1 == 4 ? 4 : 16;
        for (int i = 0; i < n; i++) {
            lo = lo << 8 | a.b[i];
            hi = hi << 8 | b.b[i];
        }
        if (lo > hi)
            return fail(st, "bad address range '%s'", s);
        return iset_add(&out->s[f], lo, hi);
    }
    if (slash)
        *slash = 0;
    ver = bf_addr_parse(buf, &a);
    if (!ver)
        return fail(st, "bad address '%s'", buf);
    int bits = ver == 4 ? 32 : 128, prefix = bits;
    if (slash) {
        uint32_t pl;
        if (parse_u32(slash + 1, strlen(slash + 1), (uint32_t)bits, &pl)) {
            prefix = (int)pl;
        } else if (ver == 4 && bf_addr_parse(slash + 1, &b) == 4) {
            uint32_t m = bf_be32(b.b);
            prefix = 0;
            while (prefix < 32 && (m & (0x80000000u >> prefix)))
                prefix++;
            if (prefix < 32 && (m << prefix) != 0)
                return fail(st, "bad netmask in '%s'", s);
        } else {
            return fail(st, "bad prefix in '%s'", s);
        }
    }
    u128 x = 0;
    for (int i = 0; i < bits / 8; i++)
        x = x << 8 | a.b[i];
    u128 hostmask = prefix >= bits ? 0 : prefix == 0 ? fmax[ver == 4 ? F4 : F6]
                                                     : ((u128)1 << (bits - prefix)) - 1;
    return iset_add(&out->s[ver == 4 ? F4 : F6], x & ~hostmask, x | hostmask);
}

/* list or single item (possibly negated) */
static bool parse_expr(pstate *st, const char *s, size_t len, val *out, int depth)
{
    trim(&s, &len);
    if (len == 0)
        return fail(st, "empty %s", st->port ? "port" : "address");
    if (depth > MAX_DEPTH)
        return fail(st, "%s nests too deep", st->port ? "port list" : "address list");
    bool bare_list = false;
    {
        int d = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '[')
                d++;
            else if (s[i] == ']' && --d < 0)
                return fail(st, "unbalanced brackets", "");
            else if (s[i] == ',' && d == 0)
                bare_list = true;   /* "a,!b" without brackets, as Suricata accepts */
        }
        if (d != 0)
            return fail(st, "unbalanced brackets", "");
    }
    if (s[0] == '!' && !bare_list) {
        val v = {0};
        if (!parse_expr(st, s + 1, len - 1, &v, depth + 1)) {
            val_free(&v);
            return false;
        }
        for (int f = 0; f < nfam(st); f++) {
            iset_norm(&v.s[f]);
            if (!iset_not(&v.s[f], famax(st, f)) || !iset_union(&out->s[f], &v.s[f])) {
                val_free(&v);
                return fail(st, "%s", "set too large");
            }
        }
        val_free(&v);
        return true;
    }
    if (s[0] != '[' || bare_list) {
        if (!bare_list)
            return parse_atom(st, s, len, out, depth);
    } else {
        if (s[len - 1] != ']')
            return fail(st, "unbalanced brackets", "");
        s++;
        len -= 2;
    }
    /* items: union of the positive ones minus union of the negated ones
     * (all when only negated items), as Suricata */
    val pos = {0}, neg = {0};
    bool have_pos = false, have_neg = false, ok = true;
    size_t i = 0;
    while (ok && i <= len) {
        size_t start = i;
        int d = 0;
        while (i < len && (d > 0 || s[i] != ',')) {
            if (s[i] == '[')
                d++;
            else if (s[i] == ']' && --d < 0)
                break;
            i++;
        }
        if (d != 0) {
            ok = fail(st, "unbalanced brackets", "");
            break;
        }
        const char *it = s + start;
        size_t il = i - start;
        trim(&it, &il);
        if (il == 0) {
            ok = fail(st, "empty item in list", "");
            break;
        }
        if (it[0] == '!') {
            have_neg = true;
            ok = parse_expr(st, it + 1, il - 1, &neg, depth + 1);
        } else {
            have_pos = true;
            ok = parse_expr(st, it, il, &pos, depth + 1);
        }
        i++;
    }
    if (ok && !have_pos)
        ok = set_all(st, &pos);
    for (int f = 0; ok && f < nfam(st); f++) {
        iset_norm(&pos.s[f]);
        iset_norm(&neg.s[f]);
        if (have_neg && !iset_sub(&pos.s[f], &neg.s[f], famax(st, f)))
            ok = fail(st, "%s", "set too large");
        else if (!iset_union(&out->s[f], &pos.s[f]))
            ok = fail(st, "%s", "set too large");
    }
    val_free(&pos);
    val_free(&neg);
    return ok;
}

bool bf_parse_addr_set(const bf_parse_ctx *c, const char *text, bf_ipset *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof(*out));
    pstate st = {.c = c, .port = false, .err = err, .errlen = errlen};
    val v = {0};
    if (!parse_expr(&st, text, strlen(text), &v, 0)) {
        val_free(&v);
        return false;
    }
    iset_norm(&v.s[F4]);
    iset_norm(&v.s[F6]);
    if (v.s[F4].n == 0 && v.s[F6].n == 0) {
        val_free(&v);
        return fail(&st, "address '%s' matches nothing", text);
    }
    if (v.s[F4].n == 1 && v.s[F4].r[0].lo == 0 && v.s[F4].r[0].hi == fmax[F4] && v.s[F6].n == 1 &&
        v.s[F6].r[0].lo == 0 && v.s[F6].r[0].hi == fmax[F6]) {
        out->any = true;
        val_free(&v);
        return true;
    }
    out->n4 = v.s[F4].n;
    out->n6 = v.s[F6].n;
    if (out->n4) {
        out->r4 = malloc(out->n4 * sizeof(*out->r4));
        if (!out->r4)
            goto oom;
        for (uint32_t i = 0; i < out->n4; i++) {
            out->r4[i].lo = (uint32_t)v.s[F4].r[i].lo;
            out->r4[i].hi = (uint32_t)v.s[F4].r[i].hi;
        }
    }
    if (out->n6) {
        out->r6 = malloc(out->n6 * sizeof(*out->r6));
        if (!out->r6)
            goto oom;
        for (uint32_t i = 0; i < out->n6; i++)
            for (int k = 0; k < 16; k++) {
                out->r6[i].lo.b[k] = (uint8_t)(v.s[F6].r[i].lo >> (8 * (15 - k)));
                out->r6[i].hi.b[k] = (uint8_t)(v.s[F6].r[i].hi >> (8 * (15 - k)));
            }
    }
    val_free(&v);
    return true;
oom:
    val_free(&v);
    free(out->r4);
    free(out->r6);
    memset(out, 0, sizeof(*out));
    return fail(&st, "%s", "out of memory");
}

void bf_ipset_restrict(bf_ipset *s, int ipver)
{
    if (s->any) {
        s->any = false;
        if (ipver == 4) {
            s->r4 = calloc(1, sizeof(*s->r4));
            if (s->r4) {
                s->r4[0].hi = 0xFFFFFFFFu;
                s->n4 = 1;
            }
        } else {
            s->r6 = calloc(1, sizeof(*s->r6));
            if (s->r6) {
                memset(s->r6[0].hi.b, 0xff, 16);
                s->n6 = 1;
            }
        }
        return;
    }
    if (ipver == 4) {
        free(s->r6);
        s->r6 = NULL;
        s->n6 = 0;
    } else {
        free(s->r4);
        s->r4 = NULL;
        s->n4 = 0;
    }
}

bool bf_parse_port_set(const bf_parse_ctx *c, const char *text, bf_portset *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof(*out));
    pstate st = {.c = c, .port = true, .err = err, .errlen = errlen};
    val v = {0};
    if (!parse_expr(&st, text, strlen(text), &v, 0)) {
        val_free(&v);
        return false;
    }
    iset *s = &v.s[0];
    iset_norm(s);
    if (s->n == 0) {
        val_free(&v);
        return fail(&st, "port '%s' matches nothing", text);
    }
    if (s->n == 1 && s->r[0].lo == 0 && s->r[0].hi == 65535) {
        out->any = true;
        val_free(&v);
        return true;
    }
    out->r = malloc(s->n * sizeof(*out->r));
    if (!out->r) {
        val_free(&v);
        return fail(&st, "%s", "out of memory");
    }
    out->n = s->n;
    for (uint32_t i = 0; i < s->n; i++) {
        out->r[i].lo = (uint16_t)s->r[i].lo;
        out->r[i].hi = (uint16_t)s->r[i].hi;
    }
    val_free(&v);
    return true;
}
