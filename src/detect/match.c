/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/match.c: the payload matcher (content / pcre / byte_* / isdataat /
 * bsize inspection of one buffer, after Suricata's
 * DetectEngineContentInspection) and the packet keywords.
 *
 * Inspection walks a buffer's matches in order with a cursor (the end of the
 * previous match).  A content or pcre followed by options relative to it is
 * retried at its next occurrence when the rest of the list fails
 * (backtracking); the retries of one buffer inspection share a budget of
 * BF_MATCH_MAX_STEPS, after which the inspection gives up (no match) and the
 * limit is counted.  Every read is bounds checked against the buffer: the
 * data is attacker-controlled.  Nothing here allocates except the transform
 * buffers, which grow (up to BF_XF_CAP) and are then reused.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "detect/match.h"
#include "flow/flow.h"
#include "stream/stream.h"

#define BF_MATCH_MAX_STEPS 3000      /* retries per buffer inspection (Suricata: 3000) */
#define BF_PCRE_MATCH_LIMIT 3500     /* Suricata's pcre.match-limit default */
#define BF_PCRE_DEPTH_LIMIT 1500     /* Suricata's pcre.match-limit-recursion default */
#define BF_PCRE_OVEC 64
#define BF_XF_CAP (1u << 20)         /* transform output cap */
#define BF_XF_INIT 4096
#define BF_NUM_MAX ((int64_t)1 << 40) /* clamp for values read from the data */

struct bf_match_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    uint8_t *xbuf[2];
    uint32_t xcap[2];
    EVP_MD_CTX *mdctx;
    EVP_MD *md5, *sha1, *sha256;
    uint64_t vars[BF_MAX_BYTE_VARS];
    /* per buffer inspection */
    uint32_t steps;
    /* counters */
    uint64_t pcre_errors;    /* pcre2_match errors (match/depth limit, JIT stack) */
    uint64_t step_limit;     /* inspections stopped by BF_MATCH_MAX_STEPS */
    uint64_t xf_capped;      /* transform input truncated to BF_XF_CAP */
};

/* ---------------------------------------------------------------- scratch */

bf_match_scratch *bf_match_scratch_new(void)
{
    bf_match_scratch *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->md = pcre2_match_data_create(BF_PCRE_OVEC, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->md || !s->mctx)
        goto fail;
    pcre2_set_match_limit(s->mctx, BF_PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, BF_PCRE_DEPTH_LIMIT);
    s->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (s->jstack)
        pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
    for (int i = 0; i < 2; i++) {
        s->xbuf[i] = malloc(BF_XF_INIT);
        if (!s->xbuf[i])
            goto fail;
        s->xcap[i] = BF_XF_INIT;
    }
    s->mdctx = EVP_MD_CTX_new();
    s->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    s->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    return s;
fail:
    bf_match_scratch_free(s);
    return NULL;
}

void bf_match_scratch_free(bf_match_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    if (s->jstack)
        pcre2_jit_stack_free(s->jstack);
    free(s->xbuf[0]);
    free(s->xbuf[1]);
    EVP_MD_CTX_free(s->mdctx);
    EVP_MD_free(s->md5);
    EVP_MD_free(s->sha1);
    EVP_MD_free(s->sha256);
    free(s);
}

void bf_match_begin_sig(bf_match_scratch *s)
{
    memset(s->vars, 0, sizeof(s->vars));
}

uint64_t bf_match_pcre_errors(const bf_match_scratch *s)
{
    return s->pcre_errors + s->step_limit + s->xf_capped;
}

/* ------------------------------------------------------------- transforms */

static const uint8_t lc_tab[256] = {
#define L(c) (uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define R4(b) L(b), L(b + 1), L(b + 2), L(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
    R16(0), R16(16), R16(32), R16(48), R16(64), R16(80), R16(96), R16(112),
    R16(128), R16(144), R16(160), R16(176), R16(192), R16(208), R16(224), R16(240)
#undef R16
#undef R4
#undef L
};


/* Makes buffer k hold at least need bytes (need <= BF_XF_CAP). */
static bool xbuf_reserve(bf_match_scratch *s, int k, uint32_t need)
{
    if (s->xcap[k] >= need)
        return true;
    uint32_t c = s->xcap[k];
    while (c < need)
        c *= 2;
    if (c > BF_XF_CAP)
        c = BF_XF_CAP;
    uint8_t *n = realloc(s->xbuf[k], c);
    if (!n)
        return false;
    s->xbuf[k] = n;
    s->xcap[k] = c;
    return true;
}

static inline bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static inline int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* One transform: in[0..n) -> out (capacity >= n + 1, and >= 64); returns the
 * output length. */
static uint32_t xform_one(bf_match_scratch *s, const bf_sig_buf *sb, uint8_t xf,
                          const uint8_t *in, uint32_t n, uint8_t *out)
{
    uint32_t o = 0;
    switch (xf) {
    case BF_XF_TO_LOWER:
        for (uint32_t i = 0; i < n; i++)
            out[i] = (uint8_t)tolower(in[i]);
        return n;
    case BF_XF_TO_UPPER:
        for (uint32_t i = 0; i < n; i++)
            out[i] = (uint8_t)toupper(in[i]);
        return n;
    case BF_XF_STRIP_WHITESPACE:
        for (uint32_t i = 0; i < n; i++)
            if (!is_ws(in[i]))
                out[o++] = in[i];
        return o;
    case BF_XF_COMPRESS_WHITESPACE:
        /* a run of whitespace becomes its first character (as Suricata) */
        for (uint32_t i = 0; i < n; i++) {
            if (is_ws(in[i]) && o > 0 && is_ws(out[o - 1]))
                continue;
            out[o++] = in[i];
        }
        return o;
    case BF_XF_DOTPREFIX:
        out[0] = '.';
        if (n)
            memcpy(out + 1, in, n);
        return n + 1;
    case BF_XF_URL_DECODE:
        for (uint32_t i = 0; i < n; i++) {
            if (in[i] == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 &&
                hexval(in[i + 2]) >= 0) {
                out[o++] = (uint8_t)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
                i += 2;
            } else if (in[i] == '+') {
                out[o++] = ' ';
            } else {
                out[o++] = in[i];
            }
        }
        return o;
    case BF_XF_MD5:
    case BF_XF_SHA1:
    case BF_XF_SHA256: {
        EVP_MD *md = xf == BF_XF_MD5 ? s->md5 : xf == BF_XF_SHA1 ? s->sha1 : s->sha256;
        unsigned int olen = 0;
        if (!md || !s->mdctx || !EVP_DigestInit_ex(s->mdctx, md, NULL) ||
            !EVP_DigestUpdate(s->mdctx, in, n) || !EVP_DigestFinal_ex(s->mdctx, out, &olen))
            return 0;
        return olen;
    }
    case BF_XF_XOR:
        if (!sb->xf_arg || sb->xf_arg_len == 0) {
            memcpy(out, in, n);
            return n;
        }
        for (uint32_t i = 0, k = 0; i < n; i++) {
            out[i] = in[i] ^ sb->xf_arg[k];
            if (++k == sb->xf_arg_len)
                k = 0;
        }
        return n;
    case BF_XF_FROM_BASE64: {
        /* RFC 4648: decode until the first character outside the alphabet
         * (padding included); a trailing partial group gives its whole bytes */
        uint32_t acc = 0, nb = 0;
        for (uint32_t i = 0; i < n; i++) {
            int v = b64val(in[i]);
            if (v < 0)
                break;
            acc = acc << 6 | (uint32_t)v;
            if (++nb == 4) {
                out[o++] = (uint8_t)(acc >> 16);
                out[o++] = (uint8_t)(acc >> 8);
                out[o++] = (uint8_t)acc;
                acc = 0;
                nb = 0;
            }
        }
        if (nb == 2) {
            out[o++] = (uint8_t)(acc >> 4);
        } else if (nb == 3) {
            out[o++] = (uint8_t)(acc >> 10);
            out[o++] = (uint8_t)(acc >> 2);
        }
        return o;
    }
    case BF_XF_STRIP_PSEUDO_HEADERS: {
        /* "name: value\r\n" lines: drop the ones whose name starts with ':' */
        uint32_t i = 0;
        while (i < n) {
            uint32_t e = i;
            while (e < n && in[e] != '\n')
                e++;
            if (e < n)
                e++;                  /* include the '\n' */
            if (in[i] != ':') {
                memcpy(out + o, in + i, e - i);
                o += e - i;
            }
            i = e;
        }
        return o;
    }
    case BF_XF_HEADER_LOWERCASE: {
        /* lowercase the header names: from a line start to the first ':'
         * that is not the line's first character (":method" is a name) */
        bool name = true;
        uint32_t ls = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = in[i];
            if (c == '\n') {
                name = true;
                ls = i + 1;
            } else if (c == ':' && name && i != ls) {
                name = false;
            }
            out[i] = name ? lc_tab[c] : c;
        }
        return n;
    }
    default:
        memcpy(out, in, n);
        return n;
    }
}

const uint8_t *bf_match_transform(bf_match_scratch *s, const bf_sig_buf *sb, const uint8_t *data,
                                  uint32_t len, uint32_t *out_len)
{
    if (!sb || sb->nxf == 0) {
        *out_len = len;
        return data;
    }
    const uint8_t *in = data;
    uint32_t n = len;
    /* write first into the buffer the input does not live in */
    int k = (data >= s->xbuf[0] && data < s->xbuf[0] + s->xcap[0]) ? 1 : 0;
    uint8_t nxf = sb->nxf > BF_MAX_XFORMS ? BF_MAX_XFORMS : sb->nxf;
    for (uint8_t t = 0; t < nxf; t++) {
        if (n > BF_XF_CAP - 64) {
            n = BF_XF_CAP - 64;
            s->xf_capped++;
        }
        uint32_t need = n + 1 < 64 ? 64 : n + 1;
        if (!xbuf_reserve(s, k, need)) {
            n = s->xcap[k] > 64 ? s->xcap[k] - 1 : 0;
            s->xf_capped++;
            if (s->xcap[k] < 64) {
                *out_len = 0;
                return (const uint8_t *)"";
            }
        }
        if (!in)
            n = 0;
        n = xform_one(s, sb, sb->xf[t], in ? in : (const uint8_t *)"", n, s->xbuf[k]);
        in = s->xbuf[k];
        k ^= 1;
    }
    *out_len = n;
    return in;
}

/* ------------------------------------------------------ buffer inspection */

typedef struct insp {
    bf_match_scratch *s;
    const bf_sm *sm;
    uint32_t nsm;
    const uint8_t *buf;
    int64_t len;
} insp;

static inline int64_t num(const insp *m, const bf_num *n)
{
    if (n->var < 0)
        return n->v;
    if (n->var >= BF_MAX_BYTE_VARS)
        return 0;
    uint64_t v = m->s->vars[n->var];
    return v > (uint64_t)BF_NUM_MAX ? BF_NUM_MAX : (int64_t)v;
}

static inline bool sm_relative(const bf_sm *sm)
{
    if (sm->flags & (BF_SMF_RELATIVE | BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN))
        return true;
    switch (sm->type) {
    case BF_SM_BYTE_TEST:
    case BF_SM_BYTE_JUMP:
    case BF_SM_BYTE_EXTRACT:
    case BF_SM_BYTE_MATH:
        return (sm->byte.bflags & BF_BYTE_RELATIVE) != 0;
    default:
        return false;
    }
}

/* Whether sm sets the cursor whatever the previous one was (so the options
 * after it cannot depend on earlier matches' positions). */
static inline bool sm_sets_cursor(const bf_sm *sm)
{
    switch (sm->type) {
    case BF_SM_CONTENT:
    case BF_SM_PCRE:
        return !(sm->flags & BF_SMF_NEGATED);
    case BF_SM_BYTE_JUMP:
    case BF_SM_BYTE_EXTRACT:
    case BF_SM_BYTE_MATH:
        return true;
    default:
        return false;
    }
}

/* Whether retrying sm i at another position can change the outcome: some
 * option after it is relative to its cursor. */
static bool next_is_relative(const insp *m, uint32_t i)
{
    for (uint32_t j = i + 1; j < m->nsm; j++) {
        if (sm_relative(&m->sm[j]))
            return true;
        if (sm_sets_cursor(&m->sm[j]))
            return false;
    }
    return false;
}

static inline bool content_uses_var(const bf_sm *sm)
{
    uint16_t f = sm->flags;
    return ((f & BF_SMF_HAS_OFFSET) && sm->content.offset.var >= 0) ||
           ((f & BF_SMF_HAS_DEPTH) && sm->content.depth.var >= 0);
}

/* Position of pat in h[0..hn) (ASCII case-insensitive when nocase), or -1. */
static int64_t search(const uint8_t *h, uint32_t hn, const uint8_t *pat, uint32_t pn, bool nocase)
{
    if (pn == 0)
        return 0;
    if (hn < pn)
        return -1;
    if (!nocase) {
        const uint8_t *f = memmem(h, hn, pat, pn);
        return f ? f - h : -1;
    }
    uint8_t c0 = lc_tab[pat[0]];
    uint8_t c1 = (c0 >= 'a' && c0 <= 'z') ? (uint8_t)(c0 - 32) : c0;
    uint32_t last = hn - pn;
    for (uint32_t i = 0; i <= last; i++) {
        if (c0 == c1) {
            /* first byte without case: let memchr skip ahead */
            const uint8_t *f = memchr(h + i, c0, last - i + 1);
            if (!f)
                return -1;
            i = (uint32_t)(f - h);
        } else if (h[i] != c0 && h[i] != c1) {
            continue;
        }
        uint32_t k = 1;
        while (k < pn && lc_tab[h[i + k]] == lc_tab[pat[k]])
            k++;
        if (k == pn)
            return i;
    }
    return -1;
}

static int run(insp *m, uint32_t i, int64_t cur);

/* Returns 1 match, 0 no match, -1 stop the whole inspection (no match). */
static int do_content(insp *m, uint32_t i, int64_t cur)
{
    const bf_sm *sm = &m->sm[i];
    const uint16_t f = sm->flags;
    const uint32_t plen = sm->content.len;
    const int64_t len = m->len;
    const bool rel = (f & (BF_SMF_RELATIVE | BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN)) != 0;
    const bool neg = (f & BF_SMF_NEGATED) != 0;
    int64_t start, end;

    if (rel) {
        int64_t dist = (f & BF_SMF_HAS_DISTANCE) ? num(m, &sm->content.distance) : 0;
        start = cur + dist;
        if (start < 0)
            start = 0;
        end = len;
        if (f & BF_SMF_HAS_WITHIN) {
            int64_t e = cur + dist + num(m, &sm->content.within);
            if (e < end)
                end = e;
        }
        if (f & BF_SMF_HAS_DEPTH) {
            int64_t e = cur + num(m, &sm->content.depth);
            if (e < end)
                end = e;
        }
        if (f & BF_SMF_HAS_OFFSET) {
            int64_t o = num(m, &sm->content.offset);
            if (o > start)
                start = o;
        }
    } else {
        start = (f & BF_SMF_HAS_OFFSET) ? num(m, &sm->content.offset) : 0;
        if (start < 0)
            start = 0;
        end = (f & BF_SMF_HAS_DEPTH) ? start + num(m, &sm->content.depth) : len;
    }
    if (f & BF_SMF_STARTSWITH) {
        if (start > 0)
            end = -1;               /* cannot start at 0 any more */
        else if (end > (int64_t)plen)
            end = plen;
    }
    if (end > len)
        end = len;
    if (f & BF_SMF_ENDSWITH) {
        if (end < len)
            end = -1;               /* cannot reach the buffer end */
        else if (start < len - (int64_t)plen)
            start = len - (int64_t)plen;
    }

    const bool single = !rel && !content_uses_var(sm);
    const bool retry = !neg && next_is_relative(m, i);
    int64_t pos = start;
    for (;;) {
        int64_t found = -1;
        if (pos >= 0 && end - pos >= (int64_t)plen)
            found = search(m->buf + pos, (uint32_t)(end - pos), sm->content.pat, plen,
                           (f & BF_SMF_NOCASE) != 0);
        if (found < 0) {
            if (neg)
                return run(m, i + 1, cur);
            return single ? -1 : 0;
        }
        found += pos;
        if (neg)
            return single ? -1 : 0;
        int r = run(m, i + 1, found + plen);
        if (r != 0 || !retry)
            return r;
        if (++m->s->steps > BF_MATCH_MAX_STEPS) {
            m->s->step_limit++;
            return -1;
        }
        pos = found + 1;
    }
}

static int do_pcre(insp *m, uint32_t i, int64_t cur)
{
    const bf_sm *sm = &m->sm[i];
    const bool neg = (sm->flags & BF_SMF_NEGATED) != 0;
    const pcre2_code *code = sm->pcre.code;
    if (!code)
        return 0;
    const int64_t base = (sm->flags & BF_SMF_RELATIVE) ? cur : 0;
    const uint8_t *subj = m->buf ? m->buf + base : (const uint8_t *)"";
    const PCRE2_SIZE slen = (PCRE2_SIZE)(m->len - base);
    const bool retry = !neg && next_is_relative(m, i);
    PCRE2_SIZE so = 0;
    for (;;) {
        int rc = pcre2_match(code, subj, slen, so, 0, m->s->md, m->s->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return neg ? run(m, i + 1, cur) : 0;
        if (rc < 0) {
            if (rc != PCRE2_ERROR_BADUTFOFFSET)
                m->s->pcre_errors++;
            return 0;
        }
        if (neg)
            return 0;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->s->md);
        PCRE2_SIZE mend = ov[1] < slen ? ov[1] : slen;
        int r = run(m, i + 1, base + (int64_t)mend);
        if (r != 0 || !retry)
            return r;
        if (++m->s->steps > BF_MATCH_MAX_STEPS) {
            m->s->step_limit++;
            return -1;
        }
        so = ov[0] + 1;
        if (so > slen)
            return 0;
    }
}

/* Reads the number of a byte_* option.  *after: position after the bytes
 * used.  False when the bytes are not in the buffer or not a number. */
static bool byte_read(const insp *m, const bf_sm *sm, int64_t cur, uint64_t *val, int64_t *after)
{
    const uint16_t bf = sm->byte.bflags;
    const uint32_t nb = sm->byte.nbytes;
    int64_t p = num(m, &sm->byte.offset);
    if ((bf & BF_BYTE_RELATIVE) || (sm->flags & BF_SMF_RELATIVE)) {
        p += cur;
        if (m->len - p <= 0)
            return false;
    }
    if (p < 0 || nb == 0 || (int64_t)nb > m->len - p)
        return false;
    const uint8_t *d = m->buf + p;
    uint64_t v = 0;
    uint32_t used;
    if (bf & BF_BYTE_STRING) {
        unsigned base = (bf & BF_BYTE_HEX) ? 16 : (bf & BF_BYTE_OCT) ? 8 : 10;
        uint32_t k = 0;
        while (k < nb && is_ws(d[k]))
            k++;
        if (k < nb && d[k] == '+')
            k++;
        if (base == 16 && k + 2 < nb && d[k] == '0' && (d[k + 1] | 0x20) == 'x' &&
            hexval(d[k + 2]) >= 0)
            k += 2;             /* strtoull accepts a 0x prefix */
        uint32_t digits = 0;
        for (; k < nb; k++, digits++) {
            int dv = hexval(d[k]);
            if (dv < 0 || (unsigned)dv >= base)
                break;
            if (v > (UINT64_MAX - (uint64_t)dv) / base)
                return false;       /* overflow: strtoull's ERANGE */
            v = v * base + (uint64_t)dv;
        }
        if (digits == 0)
            return false;
        used = k;
    } else {
        if (nb > 8)
            return false;
        if (bf & (BF_BYTE_LITTLE | BF_BYTE_DCE)) {
            for (uint32_t k = nb; k-- > 0;)
                v = v << 8 | d[k];
        } else {
            for (uint32_t k = 0; k < nb; k++)
                v = v << 8 | d[k];
        }
        used = nb;
    }
    *val = v;
    *after = p + used;
    return true;
}

static inline uint64_t apply_bitmask(const bf_sm *sm, uint64_t v)
{
    if (!(sm->byte.bflags & BF_BYTE_BITMASK))
        return v;
    uint32_t mask = sm->byte.bitmask;
    v &= mask;
    if (v && mask)
        v >>= __builtin_ctz(mask);
    return v;
}

/* The constant (or variable) operand of byte_test / byte_math. */
static inline uint64_t byte_value(const insp *m, const bf_sm *sm)
{
    if (sm->byte.value.var >= 0)
        return (uint64_t)num(m, &sm->byte.value);
    return (uint32_t)sm->byte.value.v;   /* values up to 2^32-1 stored in int32 */
}

static inline void set_var(insp *m, int8_t var, uint64_t v)
{
    if (var >= 0 && var < BF_MAX_BYTE_VARS)
        m->s->vars[var] = v;
}

static int run(insp *m, uint32_t i, int64_t cur)
{
    for (; i < m->nsm; i++) {
        const bf_sm *sm = &m->sm[i];
        const bool neg = (sm->flags & BF_SMF_NEGATED) != 0;
        switch (sm->type) {
        case BF_SM_CONTENT:
            return do_content(m, i, cur);
        case BF_SM_PCRE:
            return do_pcre(m, i, cur);
        case BF_SM_BYTE_TEST: {
            uint64_t v;
            int64_t after;
            if (!byte_read(m, sm, cur, &v, &after))
                return 0;
            v = apply_bitmask(sm, v);
            uint64_t x = byte_value(m, sm);
            bool ok;
            switch (sm->byte.op) {
            case BF_BOP_LT: ok = v < x; break;
            case BF_BOP_GT: ok = v > x; break;
            case BF_BOP_LE: ok = v <= x; break;
            case BF_BOP_GE: ok = v >= x; break;
            case BF_BOP_EQ: ok = v == x; break;
            case BF_BOP_AND: ok = (v & x) != 0; break;
            case BF_BOP_OR: ok = (v ^ x) != 0; break;   /* '^' as Suricata */
            default: ok = false; break;
            }
            if (sm->byte.bflags & BF_BYTE_NEGATE)
                ok = !ok;
            if (!ok)
                return 0;
            break;
        }
        case BF_SM_BYTE_JUMP: {
            uint64_t v;
            int64_t after;
            if (!byte_read(m, sm, cur, &v, &after))
                return 0;
            v = apply_bitmask(sm, v);
            int64_t jv = v > (uint64_t)BF_NUM_MAX ? BF_NUM_MAX : (int64_t)v;
            int64_t mul = sm->byte.multiplier > 1 ? sm->byte.multiplier : 1;
            jv = jv > BF_NUM_MAX / mul ? BF_NUM_MAX : jv * mul;
            if ((sm->byte.bflags & BF_BYTE_ALIGN) && jv % 4)
                jv += 4 - jv % 4;
            jv += sm->byte.post_offset;
            int64_t t;
            if (sm->byte.bflags & BF_BYTE_FROM_BEGINNING)
                t = jv;
            else if (sm->byte.bflags & BF_BYTE_FROM_END)
                t = m->len + jv;
            else
                t = after + jv;
            if (t < 0)
                t = 0;
            else if (t > m->len)
                return 0;
            cur = t;
            break;
        }
        case BF_SM_BYTE_EXTRACT: {
            uint64_t v;
            int64_t after;
            if (!byte_read(m, sm, cur, &v, &after))
                return 0;
            v = apply_bitmask(sm, v);
            if (sm->byte.multiplier > 1)
                v *= (uint64_t)sm->byte.multiplier;
            if (sm->byte.bflags & BF_BYTE_ALIGN) {
                uint64_t a = sm->byte.post_offset > 0 ? (uint64_t)sm->byte.post_offset : 4;
                if (v % a)
                    v += a - v % a;
            }
            set_var(m, sm->byte.var_out, v);
            cur = after;
            break;
        }
        case BF_SM_BYTE_MATH: {
            uint64_t v;
            int64_t after;
            if (!byte_read(m, sm, cur, &v, &after))
                return 0;
            uint64_t r = byte_value(m, sm);
            switch (sm->byte.op) {
            case BF_BOP_ADD: v += r; break;
            case BF_BOP_SUB: v -= r; break;
            case BF_BOP_MUL: v *= r; break;
            case BF_BOP_DIV:
                if (r == 0)
                    return 0;
                v /= r;
                break;
            case BF_BOP_SHL: v = r >= 64 ? 0 : v << r; break;
            case BF_BOP_SHR: v = r >= 64 ? 0 : v >> r; break;
            default: break;
            }
            v = apply_bitmask(sm, v);
            set_var(m, sm->byte.var_out, v);
            cur = after;
            break;
        }
        case BF_SM_ISDATAAT: {
            int64_t n = num(m, &sm->isdataat.offset);
            bool ok = (sm->flags & BF_SMF_RELATIVE) ? cur + n <= m->len : n < m->len;
            if (ok == neg)
                return 0;
            break;
        }
        case BF_SM_BSIZE:
            if (bf_cmp_eval(&sm->size, (uint64_t)m->len) == neg)
                return 0;
            break;
        case BF_SM_ABSENT:
        default:
            break;
        }
    }
    return 1;
}

bool bf_match_buffer(bf_match_scratch *s, const bf_sig *sig, const bf_sig_buf *sb,
                     const uint8_t *data, uint32_t len)
{
    (void)sig;
    if (!sb)
        return false;
    if (!data)
        len = 0;
    insp m = {
        .s = s, .sm = sb->sm, .nsm = sb->nsm,
        .buf = data ? data : (const uint8_t *)"", .len = len,
    };
    s->steps = 0;
    return run(&m, 0, 0) == 1;
}

/* -------------------------------------------------------- packet keywords */

static bool is_icmp(const bf_packet *p)
{
    return p->proto == 1 || p->proto == 58;
}

static bool is_tcp(const bf_packet *p)
{
    return p->proto == 6 && p->l4 && !(p->flags & BF_PKT_INVALID);
}

/* flags / fragbits modes (Suricata's DetectFlagsMatch) */
static bool bits_match(uint8_t have, uint8_t want, uint8_t mode, bool fragbits)
{
    switch (mode) {
    case BF_FLAGS_PLUS:
        if (fragbits)
            return (have & want) == want && have != want;
        return (have & want) == want;
    case BF_FLAGS_ANY:
        return (have & want) != 0;
    case BF_FLAGS_NOT:
        return (have & want) != want;
    default:
        return have == want;
    }
}

/* IPv4 options: true if the header has option type t (BF_IPOPT_ANY: any). */
static bool has_ipopt(const bf_packet *p, uint32_t t)
{
    if (p->ipver != 4 || !p->l3 || p->l3_hlen <= 20 || p->l3_hlen > p->l3_len)
        return false;
    const uint8_t *o = p->l3 + 20;
    uint32_t n = p->l3_hlen - 20u, i = 0;
    while (i < n) {
        uint8_t ty = o[i];
        if (t == BF_IPOPT_ANY || ty == t)
            return true;
        if (ty == 0)
            break;                  /* EOL */
        if (ty == 1) {
            i++;                    /* NOP */
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2)
            break;
        i += o[i + 1];
    }
    return false;
}

/* Evaluates one keyword: 1 true, 0 false, -1 does not apply to p. */
static int pkw_eval(const bf_pkw *k, const bf_packet *p)
{
    switch (k->type) {
    case BF_PK_DSIZE:
        /* As Suricata's signature mask: "!N" (like ">N", ranges) needs a
         * payload, so it never matches an empty packet. */
        if ((k->negated || k->cmp.op == BF_CMP_NE) && !p->payload_len)
            return -1;
        return bf_cmp_eval(&k->cmp, p->payload_len);
    case BF_PK_TTL:
        if (!p->ipver)
            return -1;
        return bf_cmp_eval(&k->cmp, p->ttl);
    case BF_PK_TOS:
        if (p->ipver != 4)
            return -1;
        return bf_cmp_eval(&k->cmp, p->tos);
    case BF_PK_IPID:
        if (p->ipver != 4)
            return -1;
        return bf_cmp_eval(&k->cmp, p->ip_id);
    case BF_PK_IP_PROTO:
        if (!p->ipver)
            return -1;
        return bf_cmp_eval(&k->cmp, p->proto);
    case BF_PK_ITYPE:
        if (!is_icmp(p) || !p->l4)
            return -1;
        return bf_cmp_eval(&k->cmp, p->icmp_type);
    case BF_PK_ICODE:
        if (!is_icmp(p) || !p->l4)
            return -1;
        return bf_cmp_eval(&k->cmp, p->icmp_code);
    case BF_PK_ICMP_ID:
    case BF_PK_ICMP_SEQ: {
        if (!is_icmp(p) || !p->l4 || p->l4_len < 8)
            return -1;
        uint8_t t = p->icmp_type;
        bool echo = p->proto == 1 ? (t == 0 || t == 8 || (t >= 13 && t <= 18))
                                  : (t == 128 || t == 129);
        if (!echo)
            return -1;
        uint16_t v = bf_be16(p->l4 + (k->type == BF_PK_ICMP_ID ? 4 : 6));
        return bf_cmp_eval(&k->cmp, v);
    }
    case BF_PK_TCP_FLAGS:
        if (!is_tcp(p))
            return -1;
        return bits_match(p->tcp_flags & (uint8_t)~k->flags.ignore, k->flags.mask, k->flags.mode,
                          false);
    case BF_PK_TCP_SEQ:
        if (!is_tcp(p))
            return -1;
        return bf_cmp_eval(&k->cmp, p->tcp_seq);
    case BF_PK_TCP_ACK:
        if (!is_tcp(p))
            return -1;
        return bf_cmp_eval(&k->cmp, p->tcp_ack);
    case BF_PK_TCP_WINDOW:
        if (!is_tcp(p))
            return -1;
        return bf_cmp_eval(&k->cmp, p->tcp_win);
    case BF_PK_TCP_MSS:
        if (!is_tcp(p) || !(p->flags & BF_PKT_TCP_OPT_MSS))
            return -1;
        return bf_cmp_eval(&k->cmp, p->tcp_mss);
    case BF_PK_SAMEIP:
        if (!p->ipver)
            return -1;
        return bf_addr_eq(&p->src, &p->dst);
    case BF_PK_FRAGBITS: {
        if (!p->ipver)
            return -1;
        uint8_t have = 0;
        if (p->frag_mf)
            have |= BF_FRAGBIT_M;
        if (p->ipver == 4 && p->l3 && p->l3_len >= 20) {
            uint16_t off = bf_be16(p->l3 + 6);
            if (off & 0x4000)
                have |= BF_FRAGBIT_D;
            if (off & 0x8000)
                have |= BF_FRAGBIT_R;
            if (off & 0x2000)
                have |= BF_FRAGBIT_M;
        }
        return bits_match(have & (uint8_t)~k->flags.ignore, k->flags.mask, k->flags.mode, true);
    }
    case BF_PK_FRAGOFFSET:
        if (!p->ipver)
            return -1;
        /* the IP header field: units of 8 bytes */
        return bf_cmp_eval(&k->cmp, (uint64_t)(p->frag_off / 8));
    case BF_PK_IPOPTS:
        if (p->ipver != 4)
            return -1;
        return has_ipopt(p, (uint32_t)k->cmp.a);
    case BF_PK_STREAM_SIZE: {
        if (!is_tcp(p) || !p->flow || !p->flow->tcp)
            return -1;
        const bf_tcp_session *ssn = p->flow->tcp;
        /* bytes sent each way: next expected sequence number minus ISN */
        uint64_t sz[2];
        bool ok[2];
        for (int d = 0; d < 2; d++) {
            ok[d] = ssn->d[d].isn_known && ssn->d[d].next_known;
            sz[d] = ok[d] ? (uint32_t)(ssn->d[d].next_seq - ssn->d[d].isn) : 0;
        }
        /* stream_dir: 0 server (server->client), 1 client, 2 both, 3 either */
        bool srv = ok[1] && bf_cmp_eval(&k->cmp, sz[1]);
        bool cli = ok[0] && bf_cmp_eval(&k->cmp, sz[0]);
        switch (k->stream_dir) {
        case 0: return srv;
        case 1: return cli;
        case 2: return srv && cli;
        default: return srv || cli;
        }
    }
    case BF_PK_APP_LAYER_PROTO:
        if (!p->flow)
            return -1;
        return bf_cmp_eval(&k->cmp, p->flow->app_proto);
    case BF_PK_DECODE_EVENT:
        return bf_packet_has_event(p, (uint16_t)k->cmp.a);
    case BF_PK_TEMPLATE:
    default:
        return 1;
    }
}

bool bf_match_packet_kw(const bf_sig *sig, const bf_packet *p)
{
    for (uint16_t i = 0; i < sig->npkw; i++) {
        const bf_pkw *k = &sig->pkw[i];
        int r = pkw_eval(k, p);
        if (r < 0)
            return false;
        if ((r == 1) == k->negated)
            return false;
    }
    return true;
}
