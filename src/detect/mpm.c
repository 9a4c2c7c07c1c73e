/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/mpm.c: the multi-pattern prefilter on Vectorscan.
 *
 * The builder merges identical (bytes, nocase) literals in a hash table;
 * each distinct literal becomes one Vectorscan pattern (hs_compile_lit_multi,
 * HS_FLAG_SINGLEMATCH, HS_FLAG_CASELESS for nocase, block mode; see
 * compile_db for literals that start with NUL) whose
 * Vectorscan id is its index in the pattern table.  The pattern table
 * lists the caller ids of each literal, mapped to dense indices so that a
 * scratch can stamp them (a caller id shared by two literals is still
 * reported once per scan).  An empty builder gives a database that never
 * matches and needs no Vectorscan database.
 */
#include "detect/mpm.h"

#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/hash.h"

/* ---- builder ------------------------------------------------------------ */

typedef struct mpm_lit {
    uint8_t *bytes;
    uint32_t len;
    bool nocase;
    uint32_t *ids;
    uint32_t nids, capids;
    uint64_t hash;
} mpm_lit;

struct bf_mpm_builder {
    mpm_lit *lits;
    uint32_t nlits, caplits;
    uint32_t *slots; /* open addressing: lit index + 1, 0 = empty */
    uint32_t nslots; /* power of two */
};

bf_mpm_builder *bf_mpm_builder_new(void)
{
    bf_mpm_builder *b = bf_calloc(1, sizeof(*b));
    b->nslots = 64;
    b->slots = bf_calloc(b->nslots, sizeof(*b->slots));
    return b;
}

static uint64_t lit_hash(const uint8_t *p, uint32_t len, bool nocase)
{
    return bf_hash_bytes(p, len) ^ (nocase ? 0x9e3779b97f4a7c15ULL : 0);
}

static void builder_grow(bf_mpm_builder *b)
{
    uint32_t n = b->nslots * 2;
    uint32_t *s = bf_calloc(n, sizeof(*s));
    for (uint32_t i = 0; i < b->nlits; i++) {
        uint32_t j = (uint32_t)b->lits[i].hash & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = i + 1;
    }
    free(b->slots);
    b->slots = s;
    b->nslots = n;
}

void bf_mpm_add(bf_mpm_builder *b, const uint8_t *pat, uint32_t len, bool nocase, uint32_t id)
{
    if (!b || !pat || len == 0) /* an empty literal cannot prefilter anything */
        return;
    uint64_t h = lit_hash(pat, len, nocase);
    uint32_t mask = b->nslots - 1, j = (uint32_t)h & mask;
    mpm_lit *l = NULL;
    for (; b->slots[j]; j = (j + 1) & mask) {
        mpm_lit *c = &b->lits[b->slots[j] - 1];
        if (c->hash == h && c->len == len && c->nocase == nocase && !memcmp(c->bytes, pat, len)) {
            l = c;
            break;
        }
    }
    if (!l) {
        if (b->nlits == b->caplits) {
            b->caplits = b->caplits ? b->caplits * 2 : 64;
            b->lits = bf_realloc(b->lits, b->caplits * sizeof(*b->lits));
        }
        l = &b->lits[b->nlits++];
        memset(l, 0, sizeof(*l));
        l->bytes = bf_malloc(len);
        memcpy(l->bytes, pat, len);
        l->len = len;
        l->nocase = nocase;
        l->hash = h;
        b->slots[j] = b->nlits;
        if (b->nlits * 2 > b->nslots)
            builder_grow(b);
    }
    for (uint32_t i = 0; i < l->nids; i++)
        if (l->ids[i] == id)
            return;
    if (l->nids == l->capids) {
        l->capids = l->capids ? l->capids * 2 : 2;
        l->ids = bf_realloc(l->ids, l->capids * sizeof(*l->ids));
    }
    l->ids[l->nids++] = id;
}

uint32_t bf_mpm_builder_count(const bf_mpm_builder *b)
{
    return b ? b->nlits : 0;
}

static void builder_free(bf_mpm_builder *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < b->nlits; i++) {
        free(b->lits[i].bytes);
        free(b->lits[i].ids);
    }
    free(b->lits);
    free(b->slots);
    free(b);
}

/* ---- database ----------------------------------------------------------- */

struct bf_mpm {
    hs_database_t *db;   /* NULL when there are no patterns */
    uint32_t npat;       /* distinct literals = Vectorscan ids 0..npat-1 */
    uint32_t *first;     /* npat + 1 offsets into dense[] */
    uint32_t *dense;     /* dense id index of each (literal, id) pair */
    uint32_t *ids;       /* ndense caller ids, by dense index */
    uint32_t ndense;     /* distinct caller ids */
    size_t bytes;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t dense_of(const uint32_t *ids, uint32_t n, uint32_t id)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Vectorscan 5.4.9's literal API rejects a literal whose first byte is NUL
 * ("doesn't support empty string"): when one is present, the whole set is
 * compiled as regexes with every byte hex-escaped (\xHH) instead. */
static hs_error_t compile_db(const bf_mpm_builder *b, hs_database_t **db, hs_compile_error_t **ce)
{
    uint32_t n = b->nlits;
    bool lit_api = true;
    for (uint32_t i = 0; i < n; i++)
        if (b->lits[i].bytes[0] == 0)
            lit_api = false;
    const char **exprs = bf_malloc(n * sizeof(*exprs));
    unsigned *flags = bf_malloc(n * sizeof(*flags));
    unsigned *hsids = bf_malloc(n * sizeof(*hsids));
    size_t *lens = bf_malloc(n * sizeof(*lens));
    char *rx = NULL;
    if (!lit_api) {
        size_t total = 0;
        for (uint32_t i = 0; i < n; i++)
            total += (size_t)b->lits[i].len * 4 + 1;
        rx = bf_malloc(total);
    }
    static const char hex[] = "0123456789abcdef";
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        const mpm_lit *l = &b->lits[i];
        flags[i] = HS_FLAG_SINGLEMATCH | (l->nocase ? HS_FLAG_CASELESS : 0);
        hsids[i] = i;
        lens[i] = l->len;
        if (lit_api) {
            exprs[i] = (const char *)l->bytes;
            continue;
        }
        exprs[i] = rx + off;
        for (uint32_t k = 0; k < l->len; k++) {
            rx[off++] = '\\';
            rx[off++] = 'x';
            rx[off++] = hex[l->bytes[k] >> 4];
            rx[off++] = hex[l->bytes[k] & 15];
        }
        rx[off++] = 0;
    }
    hs_error_t rc = lit_api ? hs_compile_lit_multi(exprs, flags, hsids, lens, n, HS_MODE_BLOCK,
                                                   NULL, db, ce)
                            : hs_compile_multi(exprs, flags, hsids, n, HS_MODE_BLOCK, NULL, db, ce);
    free(rx);
    free(exprs);
    free(flags);
    free(hsids);
    free(lens);
    return rc;
}

bf_mpm *bf_mpm_build(bf_mpm_builder *b, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    bf_mpm *m = bf_calloc(1, sizeof(*m));
    if (!b) {
        m->first = bf_calloc(1, sizeof(*m->first));
        m->bytes = sizeof(*m);
        return m;
    }
    uint32_t n = b->nlits, npairs = 0;
    for (uint32_t i = 0; i < n; i++)
        npairs += b->lits[i].nids;

    /* Caller ids, sorted and unique: their positions are the dense ids. */
    uint32_t *all = bf_malloc((npairs ? npairs : 1) * sizeof(*all));
    for (uint32_t i = 0, k = 0; i < n; i++)
        for (uint32_t j = 0; j < b->lits[i].nids; j++)
            all[k++] = b->lits[i].ids[j];
    qsort(all, npairs, sizeof(*all), cmp_u32);
    uint32_t nd = 0;
    for (uint32_t i = 0; i < npairs; i++)
        if (nd == 0 || all[nd - 1] != all[i])
            all[nd++] = all[i];
    m->ids = all;
    m->ndense = nd;
    m->npat = n;
    m->first = bf_malloc((n + 1) * sizeof(*m->first));
    m->dense = bf_malloc((npairs ? npairs : 1) * sizeof(*m->dense));
    for (uint32_t i = 0, k = 0; i < n; i++) {
        m->first[i] = k;
        for (uint32_t j = 0; j < b->lits[i].nids; j++)
            m->dense[k++] = dense_of(all, nd, b->lits[i].ids[j]);
    }
    m->first[n] = npairs;
    m->bytes = sizeof(*m) + (size_t)(n + 1) * sizeof(*m->first) +
               (size_t)npairs * sizeof(*m->dense) + (size_t)nd * sizeof(*m->ids);

    if (n > 0) {
        hs_compile_error_t *ce = NULL;
        if (compile_db(b, &m->db, &ce) != HS_SUCCESS) {
            if (err && errlen) {
                if (ce && ce->expression >= 0 && (uint32_t)ce->expression < n)
                    snprintf(err, errlen, "vectorscan: literal of id %u: %s",
                             b->lits[ce->expression].ids[0],
                             ce->message ? ce->message : "compile error");
                else
                    snprintf(err, errlen, "vectorscan: %s",
                             ce && ce->message ? ce->message : "compile error");
            }
            hs_free_compile_error(ce);
            m->db = NULL;
            builder_free(b);
            bf_mpm_free(m);
            return NULL;
        }
        size_t dbsz = 0;
        if (hs_database_size(m->db, &dbsz) == HS_SUCCESS)
            m->bytes += dbsz;
    }
    builder_free(b);
    return m;
}

void bf_mpm_free(bf_mpm *m)
{
    if (!m)
        return;
    if (m->db)
        hs_free_database(m->db);
    free(m->first);
    free(m->dense);
    free(m->ids);
    free(m);
}

size_t bf_mpm_bytes(const bf_mpm *m)
{
    return m ? m->bytes : 0;
}

/* ---- scratch ------------------------------------------------------------ */

struct bf_mpm_scratch {
    hs_scratch_t *hs;
    uint32_t *stamp; /* per dense id: gen of the scan that reported it */
    uint32_t cap;
    uint32_t gen;
};

bf_mpm_scratch *bf_mpm_scratch_new(void)
{
    return bf_calloc(1, sizeof(bf_mpm_scratch));
}

bool bf_mpm_scratch_fit(bf_mpm_scratch *s, const bf_mpm *m)
{
    if (!s || !m)
        return false;
    if (m->db && hs_alloc_scratch(m->db, &s->hs) != HS_SUCCESS)
        return false;
    if (m->ndense > s->cap) {
        s->stamp = bf_realloc(s->stamp, m->ndense * sizeof(*s->stamp));
        memset(s->stamp + s->cap, 0, (m->ndense - s->cap) * sizeof(*s->stamp));
        s->cap = m->ndense;
    }
    return true;
}

void bf_mpm_scratch_free(bf_mpm_scratch *s)
{
    if (!s)
        return;
    if (s->hs)
        hs_free_scratch(s->hs);
    free(s->stamp);
    free(s);
}

/* ---- scan --------------------------------------------------------------- */

typedef struct scan_ctx {
    const bf_mpm *m;
    bf_mpm_scratch *s;
    bf_mpm_hit_fn hit;
    void *ud;
    uint32_t count;
} scan_ctx;

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    scan_ctx *c = ctx;
    const bf_mpm *m = c->m;
    if (BF_UNLIKELY(id >= m->npat))
        return 0;
    uint32_t gen = c->s->gen, *stamp = c->s->stamp;
    for (uint32_t k = m->first[id]; k < m->first[id + 1]; k++) {
        uint32_t d = m->dense[k];
        if (stamp[d] == gen)
            continue;
        stamp[d] = gen;
        c->count++;
        if (c->hit)
            c->hit(c->ud, m->ids[d]);
    }
    return 0;
}

uint32_t bf_mpm_scan(const bf_mpm *m, bf_mpm_scratch *s, const uint8_t *data, uint32_t len,
                     bf_mpm_hit_fn hit, void *ud)
{
    if (!m || !m->db || !s || !s->hs || !data || len == 0 || s->cap < m->ndense)
        return 0;
    if (BF_UNLIKELY(++s->gen == 0)) { /* wrapped: forget every stamp */
        memset(s->stamp, 0, s->cap * sizeof(*s->stamp));
        s->gen = 1;
    }
    scan_ctx c = {.m = m, .s = s, .hit = hit, .ud = ud};
    /* A scratch not fitted for m makes hs_scan fail (HS_INVALID) before any
     * match: nothing is reported and the count stays 0. */
    (void)hs_scan(m->db, (const char *)data, len, 0, s->hs, on_match, &c);
    return c.count;
}
