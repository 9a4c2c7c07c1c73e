/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/flowstate.c: per-flow detection state: flowbits, flowints and the progress of each
 * transaction (which rules already matched in it).
 */
#include "detect/engine_int.h"

/* ===================================================== per-flow state */

void det_txrec_clear(txrec *r)
{
    free(r->done);
    memset(r, 0, sizeof *r);
}

void det_dstate_free(dstate *ds)
{
    if (!ds)
        return;
    free(ds->bits);
    free(ds->ints);
    free(ds->int_set);
    for (uint32_t i = 0; i < ds->ntx; i++)
        det_txrec_clear(&ds->tx[i]);
    det_sbuf_release((uint64_t)ds->sb[0].cap + ds->sb[1].cap);
    free(ds->sb[0].b);
    free(ds->sb[1].b);
    free(ds);
}

dstate *det_dstate_get(bf_detect_thread *t, bf_flow *f, bool create)
{
    dstate *ds = f->detect_state;
    if (ds && ds->d != t->d) {
        det_dstate_free(ds);
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

bool det_fb_conditions(const bf_sig *s, const bf_flow *f)
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

bool det_fi_conditions(const bf_sig *s, const bf_flow *f)
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

void det_fi_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f)
{
    if (!s->nfi || !f)
        return;
    dstate *ds = NULL;
    for (unsigned i = 0; i < s->nfi; i++) {
        const bf_flowint_op *op = &s->fi[i];
        if (op->op != BF_FI_SET && op->op != BF_FI_ADD && op->op != BF_FI_SUB)
            continue;
        if (!ds)
            ds = det_dstate_get(t, f, true);
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

void det_fb_actions(bf_detect_thread *t, const bf_sig *s, bf_flow *f)
{
    if (!s->nfb || !f)
        return;
    dstate *ds = NULL;
    for (unsigned i = 0; i < s->nfb; i++) {
        const bf_flowbit_op *op = &s->fb[i];
        if (op->op == BF_FB_ISSET || op->op == BF_FB_ISNOTSET)
            continue;
        if (!ds)
            ds = det_dstate_get(t, f, true);
        for (unsigned k = 0; k < op->nids; k++)
            fb_write(t, ds, op->ids[k], op->op);
    }
}

/* ------------------------------------------------------ transactions */

txrec *det_tx_get(bf_detect_thread *t, dstate *ds, uint16_t app, uint64_t id)
{
    for (uint32_t i = 0; i < ds->ntx; i++)
        if (ds->tx[i].tx_id == id && ds->tx[i].app == app)
            return &ds->tx[i];
    if (ds->ntx == MAX_TXREC) {
        det_txrec_clear(&ds->tx[0]);
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

void det_tx_drop(dstate *ds, txrec *r)
{
    size_t i = (size_t)(r - ds->tx);
    det_txrec_clear(r);
    memmove(&ds->tx[i], &ds->tx[i + 1], (ds->ntx - i - 1) * sizeof ds->tx[0]);
    ds->ntx--;
    memset(&ds->tx[ds->ntx], 0, sizeof ds->tx[0]);
}

bool det_tx_done_has(const txrec *r, uint32_t sig)
{
    for (uint32_t i = 0; i < r->ndone; i++)
        if (r->done[i] == sig)
            return true;
    return false;
}

void det_tx_done_add(txrec *r, uint32_t sig)
{
    if (r->ndone == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->done = bf_realloc(r->done, r->cap * sizeof *r->done);
    }
    r->done[r->ndone++] = sig;
}

