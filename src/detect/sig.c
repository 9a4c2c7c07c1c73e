/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/sig.c: freeing a parsed rule, address and port set lookups. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "detect/sig.h"

#include <pcre2.h>
#include <stdlib.h>

void bf_sig_free(bf_sig *s)
{
    if (!s)
        return;
    free(s->msg);
    free(s->classtype);
    free(s->class_desc);
    for (uint32_t i = 0; i < s->nrefs; i++) {
        free(s->refs[i].system);
        free(s->refs[i].id);
    }
    free(s->refs);
    for (uint32_t i = 0; i < s->nmeta; i++) {
        free(s->meta[i].key);
        free(s->meta[i].value);
    }
    free(s->meta);
    free(s->src.r4);
    free(s->src.r6);
    free(s->dst.r4);
    free(s->dst.r6);
    free(s->sp.r);
    free(s->dp.r);
    free(s->pkw);
    for (uint16_t b = 0; b < s->nbufs; b++) {
        bf_sig_buf *sb = &s->bufs[b];
        for (uint16_t i = 0; i < sb->nsm; i++) {
            bf_sm *sm = &sb->sm[i];
            if (sm->type == BF_SM_CONTENT)
                free(sm->content.pat);
            else if (sm->type == BF_SM_PCRE && sm->pcre.code)
                pcre2_code_free((pcre2_code *)sm->pcre.code);
        }
        free(sb->sm);
        free(sb->xf_arg);
    }
    free(s->bufs);
    free(s->fb);
    free(s->fi);
    free(s->file);
    free(s->text);
    free(s);
}

bool bf_ipset_match(const bf_ipset *s, const bf_addr *a, int ipver)
{
    if (s->any)
        return true;
    if (ipver == 4) {
        uint32_t x = bf_be32(a->b);
        uint32_t lo = 0, hi = s->n4;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (x < s->r4[mid].lo)
                hi = mid;
            else if (x > s->r4[mid].hi)
                lo = mid + 1;
            else
                return true;
        }
        return false;
    }
    if (ipver == 6) {
        uint32_t lo = 0, hi = s->n6;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (bf_addr_cmp(a, &s->r6[mid].lo) < 0)
                hi = mid;
            else if (bf_addr_cmp(a, &s->r6[mid].hi) > 0)
                lo = mid + 1;
            else
                return true;
        }
        return false;
    }
    return false;
}

bool bf_portset_match(const bf_portset *s, uint16_t port)
{
    if (s->any)
        return true;
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (port < s->r[mid].lo)
            hi = mid;
        else if (port > s->r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}
