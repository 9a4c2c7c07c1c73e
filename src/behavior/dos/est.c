/* SPDX-License-Identifier: GPL-2.0-or-later
 * behavior/dos/est.c: HyperLogLog, Space-Saving, trigger, spoofing (est.h). */
#include "behavior/dos/est.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- HyperLogLog ---------------------------------------------------- */

void bf_hll_merge(bf_hll *dst, const bf_hll *src)
{
    for (unsigned i = 0; i < BF_HLL_M; i++)
        if (src->reg[i] > dst->reg[i])
            dst->reg[i] = src->reg[i];
}

bool bf_hll_empty(const bf_hll *h)
{
    const uint64_t *w = (const uint64_t *)h->reg;
    for (unsigned i = 0; i < BF_HLL_M / 8; i++)
        if (w[i])
            return false;
    return true;
}

double bf_hll_count(const bf_hll *h)
{
    const double m = BF_HLL_M;
    double sum = 0;
    unsigned zeros = 0;
    for (unsigned i = 0; i < BF_HLL_M; i++) {
        sum += ldexp(1.0, -(int)h->reg[i]);
        if (!h->reg[i])
            zeros++;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros) /* small range: linear counting */
        e = m * log(m / zeros);
    return e;
}

/* ---- Space-Saving ------------------------------------------------------ */

void bf_ss_init(bf_ss *s, bf_ss_item *slots, uint16_t k)
{
    s->k = k;
    s->n = 0;
    s->it = slots;
}

void bf_ss_reset(bf_ss *s) { s->n = 0; }

static bool ss_same(const bf_ss_item *i, const bf_addr *key, uint32_t tag)
{
    return i->tag == tag && bf_addr_eq(&i->key, key);
}

static void ss_add_err(bf_ss *s, const bf_addr *key, uint32_t tag, uint64_t count, uint32_t err)
{
    for (unsigned i = 0; i < s->n; i++)
        if (ss_same(&s->it[i], key, tag)) {
            s->it[i].count += count;
            s->it[i].err += err;
            return;
        }
    if (s->n < s->k) {
        s->it[s->n++] = (bf_ss_item){*key, tag, err, count};
        return;
    }
    unsigned mi = 0;
    for (unsigned i = 1; i < s->n; i++)
        if (s->it[i].count < s->it[mi].count)
            mi = i;
    uint64_t base = s->it[mi].count;
    s->it[mi] = (bf_ss_item){*key, tag, (uint32_t)(base > UINT32_MAX ? UINT32_MAX : base) + err,
                             base + count};
}

void bf_ss_add(bf_ss *s, const bf_addr *key, uint32_t tag, uint64_t count)
{
    ss_add_err(s, key, tag, count, 0);
}

void bf_ss_merge(bf_ss *dst, const bf_ss *src)
{
    for (unsigned i = 0; i < src->n; i++)
        ss_add_err(dst, &src->it[i].key, src->it[i].tag, src->it[i].count, src->it[i].err);
}

static int ss_cmp(const void *a, const void *b)
{
    const bf_ss_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return bf_addr_cmp(&x->key, &y->key);
}

void bf_ss_sort(bf_ss *s) { qsort(s->it, s->n, sizeof *s->it, ss_cmp); }

/* ---- trigger ---------------------------------------------------------- */

double bf_dos_trig_threshold(const bf_dos_trig_cfg *c, const bf_dos_trig *t)
{
    double thr = c->floor;
    if (t->warm) {
        double sd = sqrt(t->var > 0 ? t->var : 0);
        if (c->factor * t->mean > thr)
            thr = c->factor * t->mean;
        if (t->mean + c->sigmas * sd > thr)
            thr = t->mean + c->sigmas * sd;
    }
    if (c->ceiling > 0 && thr > c->ceiling)
        thr = c->ceiling;
    return thr;
}

bool bf_dos_trig_step(const bf_dos_trig_cfg *c, bf_dos_trig *t, double rate, bool learn)
{
    double thr = bf_dos_trig_threshold(c, t);
    bool alarm = false;
    if (rate > thr) {
        t->over++;
        if (t->over >= (c->confirm ? c->confirm : 1))
            alarm = true;
    } else {
        t->over = 0;
    }
    if (c->ceiling > 0 && rate > c->ceiling)
        alarm = true;
    /* CUSUM of the excess over the baseline (scale: stddev, at least a
     * tenth of the floor so a flat baseline does not make it hair-trigger) */
    double unit = sqrt(t->var > 0 ? t->var : 0);
    if (unit < c->floor / 10)
        unit = c->floor / 10;
    if (unit <= 0)
        unit = 1;
    t->cusum += (rate - t->mean) / unit - c->cusum_drift;
    if (t->cusum < 0)
        t->cusum = 0;
    if (c->cusum_h > 0 && t->cusum > c->cusum_h && rate > c->floor)
        alarm = true;
    /* learn from normal bins only: not while the CUSUM already suspects a
     * change (it would chase the attack), and with the deviation clipped
     * (winsorized) so one burst does not blow the variance up */
    if (learn && !alarm && t->over == 0 && t->cusum < c->cusum_h / 2) {
        if (!t->warm) {
            t->mean = rate;
            t->var = 0;
            t->warm = true;
        } else {
            double d = rate - t->mean;
            double lim = 3 * unit;
            double dv = d > lim ? lim : d < -lim ? -lim : d;
            t->mean += c->alpha * d;
            t->var = (1 - c->alpha) * (t->var + c->alpha * dv * dv);
        }
    }
    if (alarm)
        t->under = 0;
    return alarm;
}

bool bf_dos_trig_end_step(const bf_dos_trig_cfg *c, bf_dos_trig *t, double rate, double thr)
{
    if (rate < c->end_ratio * thr)
        t->under++;
    else
        t->under = 0;
    return t->under >= (c->end_bins ? c->end_bins : 1);
}

void bf_dos_trig_idle(const bf_dos_trig_cfg *c, bf_dos_trig *t, uint64_t bins)
{
    if (!bins || !t->warm)
        return;
    /* a zero rate for `bins` bins: mean and variance decay geometrically
     * (the variance term added by the zeros is neglected) */
    double k = pow(1 - c->alpha, (double)bins);
    t->mean *= k;
    t->var *= k;
    t->over = 0;
    double unit = sqrt(t->var > 0 ? t->var : 0);
    if (unit < c->floor / 10)
        unit = c->floor / 10;
    if (unit <= 0)
        unit = 1;
    t->cusum = 0;
}

/* ---- spoofing ------------------------------------------------------------ */

double bf_dos_spoof_estimate(double distinct, double pkts, double ttl_top_share,
                             bool reflection, bool handshake)
{
    if (reflection || handshake || pkts <= 0 || distinct <= 1)
        return 0;
    /* real senders (even a large botnet) send many packets each; forged
     * random sources are mostly seen once */
    double r = distinct / pkts;
    double s = (r - 0.01) / (0.2 - 0.01);
    if (s < 0)
        s = 0;
    if (s > 1)
        s = 1;
    /* many "sources" that all sit at the same hop distance: one box */
    if (distinct >= 256 && ttl_top_share >= 0.9 && s < 0.9)
        s = 0.9;
    return s;
}
