/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/threshold.c: threshold / detection_filter state, shared by the workers in a
 * sharded, fixed-size table (one short lock per match, never per packet).
 */
#include "detect/engine_int.h"

/* ======================================================== thresholds */

bool det_thr_check(bf_detect *d, const bf_sig *s, const bf_threshold *th, uint8_t kind,
                      const bf_packet *p, const bf_flow *f, int dir, bf_ts now)
{
    if (th->type == BF_THR_NONE)
        return true;
    bf_addr a = {0}, b = {0};
    uint64_t fid = 0;
    const bf_addr *src = p ? &p->src : f ? &f->addr[dir] : NULL;
    const bf_addr *dst = p ? &p->dst : f ? &f->addr[!dir] : NULL;
    switch (th->track) {
    case BF_TRACK_SRC: if (src) a = *src; break;
    case BF_TRACK_DST: if (dst) a = *dst; break;
    case BF_TRACK_BOTH:
        if (src && dst) {
            /* by_both: the pair, in either order */
            if (bf_addr_cmp(src, dst) <= 0) { a = *src; b = *dst; }
            else { a = *dst; b = *src; }
        }
        break;
    case BF_TRACK_FLOW: fid = f ? f->flow_id : 0; break;
    default: break;
    }
    if (th->type == BF_THR_SUPPRESS)
        return false;
    uint64_t h = (uint64_t)s->idx * 0x9e3779b97f4a7c15ull ^ a.q[0] * 0xc2b2ae3d27d4eb4full ^
                 a.q[1] ^ b.q[0] * 31 ^ b.q[1] ^ fid * 0x165667b19e3779f9ull ^ kind;
    h ^= h >> 29;
    thr_shard *sh = &d->thr[h % THR_SHARDS];
    size_t base = (h >> 8) % THR_SLOTS;
    bf_ts win = (bf_ts)th->seconds * BF_SEC;
    pthread_mutex_lock(&sh->lock);
    thr_entry *e = NULL, *free_slot = NULL, *oldest = NULL;
    for (size_t k = 0; k < THR_PROBE; k++) {
        thr_entry *x = &sh->e[(base + k) % THR_SLOTS];
        if (!x->sig1) {
            if (!free_slot)
                free_slot = x;
            continue;
        }
        if (x->sig1 == s->idx + 1 && x->kind == kind && bf_addr_eq(&x->a, &a) &&
            bf_addr_eq(&x->b, &b) && x->fid == fid) {
            e = x;
            break;
        }
        if (!oldest || x->start < oldest->start)
            oldest = x;
    }
    bool alert;
    if (!e) {
        e = free_slot ? free_slot : oldest;
        if (!free_slot)
            atomic_fetch_add(&d->thr_evicted, 1);
        *e = (thr_entry){s->idx + 1, kind, a, b, fid, now, 0};
    }
    bool in_win = now >= e->start && now - e->start <= win;
    if (!in_win) {
        e->start = now;
        e->count = 0;
    }
    e->count++;
    switch (th->type) {
    case BF_THR_LIMIT:
        alert = e->count <= th->count;
        break;
    case BF_THR_THRESHOLD:
        alert = e->count >= th->count;
        if (alert)
            e->count = 0;
        break;
    case BF_THR_BOTH:
        alert = e->count == th->count;
        break;
    case BF_THR_DETECTION_FILTER:
        alert = e->count > th->count;
        break;
    default:
        alert = true;
    }
    pthread_mutex_unlock(&sh->lock);
    return alert;
}

