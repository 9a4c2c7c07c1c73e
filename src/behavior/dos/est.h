/* SPDX-License-Identifier: GPL-2.0-or-later
 * behavior/dos/est.h: the DoS detector's estimator pieces, pure functions
 * with no engine dependency (unit-tested on synthetic series):
 *  - HyperLogLog distinct counter (2^10 registers, ~3 % error), mergeable
 *    across workers by register max (the union's sketch whatever the split);
 *  - Space-Saving top-k counters (heavy hitters: top sources, ports, URLs);
 *  - the per-metric trigger: EWMA mean/variance baseline with a floor, a
 *    static ceiling, a CUSUM change detector, confirmation and hysteresis;
 *  - the spoofing estimate.
 */
#ifndef BF_BEHAVIOR_DOS_EST_H
#define BF_BEHAVIOR_DOS_EST_H

#include "common/bf.h"

/* ---- HyperLogLog ---------------------------------------------------- */
#define BF_HLL_P 10
#define BF_HLL_M (1u << BF_HLL_P)
typedef struct bf_hll {
    uint8_t reg[BF_HLL_M];
} bf_hll;

static inline void bf_hll_add(bf_hll *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - BF_HLL_P));
    uint64_t rest = (hash << BF_HLL_P) | (1ULL << (BF_HLL_P - 1)); /* never 0 */
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}
void bf_hll_merge(bf_hll *dst, const bf_hll *src);
double bf_hll_count(const bf_hll *h);
bool bf_hll_empty(const bf_hll *h);

/* ---- Space-Saving top-k ----------------------------------------------- */
/* Keys are 16 bytes + a 32-bit tag (address + ipver, or port + proto, or a
 * URL hash); counts are packets / bytes / requests. */
typedef struct bf_ss_item {
    bf_addr key;
    uint32_t tag;
    uint32_t err;            /* over-estimation bound inherited on eviction */
    uint64_t count;
} bf_ss_item;

typedef struct bf_ss {
    uint16_t k, n;
    bf_ss_item *it;          /* k slots */
} bf_ss;

void bf_ss_init(bf_ss *s, bf_ss_item *slots, uint16_t k);
void bf_ss_reset(bf_ss *s);
void bf_ss_add(bf_ss *s, const bf_addr *key, uint32_t tag, uint64_t count);
/* Adds every item of src into dst (counts of equal keys sum). */
void bf_ss_merge(bf_ss *dst, const bf_ss *src);
/* Sorts by count, descending (ties by key): deterministic order. */
void bf_ss_sort(bf_ss *s);

/* ---- trigger ---------------------------------------------------------- */
typedef struct bf_dos_trig_cfg {
    double floor;            /* never alarm below this rate */
    double ceiling;          /* alarm above this rate whatever the baseline */
    double alpha;            /* EWMA weight per bin */
    double factor;           /* threshold >= factor * mean */
    double sigmas;           /* threshold >= mean + sigmas * stddev */
    double cusum_drift;      /* in units of max(stddev, floor/10) */
    double cusum_h;          /* alarm when the CUSUM sum exceeds h units */
    uint32_t confirm;        /* bins over threshold before an alarm */
    double end_ratio;        /* attack over when rate < end_ratio * threshold */
    uint32_t end_bins;       /* ... for this many bins (hysteresis) */
} bf_dos_trig_cfg;

typedef struct bf_dos_trig {
    double mean, var, cusum;
    uint32_t over;           /* consecutive bins over the threshold */
    uint32_t under;          /* consecutive bins under the end threshold */
    bool warm;               /* the baseline has seen one value */
} bf_dos_trig;

/* Current threshold: min(ceiling, max(floor, factor*mean, mean+sigmas*sd)). */
double bf_dos_trig_threshold(const bf_dos_trig_cfg *c, const bf_dos_trig *t);
/* One bin: rate is the metric over the last second.  Returns true when the
 * metric alarms (threshold crossed for `confirm` bins, above the ceiling,
 * or CUSUM with the rate above the floor).  learn: update the baseline
 * with this value (false while the host is under attack). */
bool bf_dos_trig_step(const bf_dos_trig_cfg *c, bf_dos_trig *t, double rate, bool learn);
/* For an attack in progress with threshold thr: counts bins under
 * end_ratio*thr; returns true when the attack is over. */
bool bf_dos_trig_end_step(const bf_dos_trig_cfg *c, bf_dos_trig *t, double rate, double thr);
/* Ages the baseline over `bins` bins without traffic (closed form). */
void bf_dos_trig_idle(const bf_dos_trig_cfg *c, bf_dos_trig *t, uint64_t bins);

/* ---- spoofing ------------------------------------------------------------ */
/* Share (0..1) of the packets estimated to come from forged source
 * addresses.  distinct: distinct sources; pkts: packets of the attack;
 * ttl_top_share: share of the packets in the most common TTL bucket;
 * reflection: the sources are reflectors (real addresses: 0);
 * handshake: the sources completed TCP handshakes / sent HTTP requests
 * (real addresses: 0). */
double bf_dos_spoof_estimate(double distinct, double pkts, double ttl_top_share,
                             bool reflection, bool handshake);

#endif
