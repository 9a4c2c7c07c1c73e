/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/threshold.c: threshold / detection_filter / rate_filter / suppress
 * state and logic (Suricata's detect-engine-threshold.c semantics).
 *
 * The state is shared by the workers in a sharded, fixed-size table (one
 * short lock per match of a thresholded rule, never per packet): memory is
 * bounded; when the probe window of a key is full, the entry with the oldest
 * window is evicted (counted in thr_evicted).  by_flow entries are keyed on
 * the flow id, so they need no per-flow storage.
 */
#include "detect/engine_int.h"

static void entry_clear(bf_detect *d, thr_entry *e)
{
    if (e->ports) {
        free(e->ports);
        atomic_fetch_sub(&d->thr_unique_live, 1);
    }
    memset(e, 0, sizeof *e);
}

/* detection_filter unique_on: true when port was not seen in the window */
static bool unique_add(bf_detect *d, thr_entry *e, uint16_t port)
{
    if (!e->ports) {
        if (atomic_fetch_add(&d->thr_unique_live, 1) >= THR_UNIQUE_MAX) {
            atomic_fetch_sub(&d->thr_unique_live, 1);
            return true;     /* out of bitmaps: count every match */
        }
        e->ports = bf_calloc(65536 / 64, sizeof(uint64_t));
    }
    uint64_t bit = 1ull << (port & 63);
    if (e->ports[port >> 6] & bit)
        return false;
    e->ports[port >> 6] |= bit;
    return true;
}

static void set_rate_action(const bf_threshold *th, uint8_t *action, bool *modified)
{
    *action = th->new_action;
    *modified = true;
}

/* Suricata's IsThresholdReached() for rate_filter */
static bool rate_reached(thr_entry *e, const bf_threshold *th, bf_ts now)
{
    if (e->tmo) {
        if (now / BF_SEC - e->tmo / BF_SEC > th->timeout) {
            e->tmo = 0;
            return false;
        }
        return true;
    }
    if (now < e->start + (bf_ts)th->seconds * BF_SEC) {
        e->count++;
        if (e->count > th->count) {
            e->tmo = now ? now : 1;
            return true;
        }
    } else {
        e->start = now;
        e->count = 1;
    }
    return false;
}

static int logic(bf_detect *d, thr_entry *e, bool fresh, const bf_threshold *th, bf_ts now,
                 uint16_t port, uint8_t *action, bool *modified)
{
    bool in_win = now >= e->start && now < e->start + (bf_ts)th->seconds * BF_SEC;
    if (fresh) {
        e->start = now;
        e->count = 1;
        e->tmo = 0;
        e->next = th->count;
    }
    switch (th->type) {
    case BF_THR_LIMIT:
        if (fresh)
            return THR_ALERT;
        if (in_win)
            return ++e->count <= th->count ? THR_ALERT : THR_SILENT;
        e->start = now;
        e->count = 1;
        return THR_ALERT;
    case BF_THR_THRESHOLD:
        if (fresh)
            return THR_DROP_MATCH;
        if (in_win) {
            if (++e->count >= th->count) {
                e->count = 0;
                return THR_ALERT;
            }
            return THR_DROP_MATCH;
        }
        e->start = now;
        e->count = 1;
        return THR_DROP_MATCH;
    case BF_THR_BOTH:
        if (fresh)
            return th->count == 1 ? THR_ALERT : THR_DROP_MATCH;
        if (in_win) {
            e->count++;
            if (e->count == th->count)
                return THR_ALERT;
            return e->count > th->count ? THR_SILENT : THR_DROP_MATCH;
        }
        e->start = now;
        e->count = 1;
        return e->count == th->count ? THR_ALERT : THR_DROP_MATCH;
    case BF_THR_DETECTION_FILTER:
        if (th->unique_on) {
            if (fresh || !in_win) {
                if (e->ports)
                    memset(e->ports, 0, 65536 / 8);
                e->start = now;
                e->count = 1;
                unique_add(d, e, port);
                return THR_DROP_MATCH;
            }
            if (unique_add(d, e, port))
                e->count++;
            return e->count > th->count ? THR_ALERT : THR_DROP_MATCH;
        }
        if (fresh)
            return THR_DROP_MATCH;
        if (in_win)
            return ++e->count > th->count ? THR_ALERT : THR_DROP_MATCH;
        e->start = now;
        e->count = 1;
        return THR_DROP_MATCH;
    case BF_THR_BACKOFF: {
        /* alerts on match count, count*m, count*m^2 ... (no time window);
         * the action is applied to the matches in between, not the first */
        uint64_t mult = th->multiplier ? th->multiplier : 1;
        if (!fresh)
            e->count++;
        if (e->count == e->next) {
            e->next = e->next > UINT32_MAX / mult ? UINT64_MAX : e->next * mult;
            return THR_ALERT;
        }
        return fresh ? THR_DROP_MATCH : THR_SILENT;
    }
    case BF_THR_RATE:
        if (!fresh && rate_reached(e, th, now))
            set_rate_action(th, action, modified);
        return THR_ALERT;
    default:
        return THR_ALERT;
    }
}

int det_thr_one(bf_detect *d, const bf_sig *s, const det_thr *t, uint16_t kind,
                const bf_packet *p, const bf_flow *f, int dir, bf_ts now, uint8_t *action,
                bool *rate_modified)
{
    const bf_threshold *th = &t->th;
    const bf_addr *src = p && p->ipver ? &p->src : f ? &f->addr[dir] : NULL;
    const bf_addr *dst = p && p->ipver ? &p->dst : f ? &f->addr[!dir] : NULL;
    int ipver = p && p->ipver ? p->ipver : f ? f->ipver : 0;
    if (th->type == BF_THR_SUPPRESS) {
        bool hit = false;
        if ((th->track == BF_TRACK_SRC || th->track == BF_TRACK_EITHER) && src)
            hit = bf_ipset_match(&t->ips, src, ipver);
        if (!hit && (th->track == BF_TRACK_DST || th->track == BF_TRACK_EITHER) && dst)
            hit = bf_ipset_match(&t->ips, dst, ipver);
        return hit ? THR_SILENT : THR_ALERT;
    }
    if (th->type == BF_THR_THRESHOLD && th->count == 1)
        return THR_ALERT;    /* Suricata keeps no state for it */
    bf_addr a = {0}, b = {0};
    uint64_t fid = 0;
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
    case BF_TRACK_FLOW:
        if (!f)
            return THR_ALERT;
        fid = f->flow_id;
        break;
    default: break;
    }
    uint16_t port = 0;
    if (th->unique_on) {
        hdr h;
        if (p || f) {
            det_hdr_from(&h, p, f, dir);
            port = th->unique_on == BF_THR_UNIQUE_SRC_PORT ? h.sp : h.dp;
        }
    }
    uint64_t hh = (uint64_t)s->idx * 0x9e3779b97f4a7c15ull ^ a.q[0] * 0xc2b2ae3d27d4eb4full ^
                  a.q[1] ^ b.q[0] * 31 ^ b.q[1] ^ fid * 0x165667b19e3779f9ull ^
                  (uint64_t)kind << 48;
    hh ^= hh >> 29;
    hh *= 0xbf58476d1ce4e5b9ull;
    hh ^= hh >> 32;
    thr_shard *sh = &d->thr[hh % THR_SHARDS];
    size_t base = (hh >> 8) % THR_SLOTS;
    pthread_mutex_lock(&sh->lock);
    thr_entry *e = NULL, *free_slot = NULL, *oldest = NULL;
    for (size_t k = 0; k < THR_PROBE; k++) {
        thr_entry *x = &sh->e[(base + k) % THR_SLOTS];
        if (!x->sig1) {
            if (!free_slot)
                free_slot = x;
            continue;
        }
        if (x->sig1 == s->idx + 1 && x->kind == kind && x->fid == fid && bf_addr_eq(&x->a, &a) &&
            bf_addr_eq(&x->b, &b)) {
            e = x;
            break;
        }
        if (!oldest || x->start < oldest->start)
            oldest = x;
    }
    bool fresh = false;
    if (!e) {
        e = free_slot ? free_slot : oldest;
        if (!free_slot) {
            atomic_fetch_add(&d->thr_evicted, 1);
            entry_clear(d, e);
        }
        e->sig1 = s->idx + 1;
        e->kind = kind;
        e->a = a;
        e->b = b;
        e->fid = fid;
        fresh = true;
    }
    int r = logic(d, e, fresh, th, now, port, action, rate_modified);
    pthread_mutex_unlock(&sh->lock);
    return r;
}

/* Suricata's PacketAlertHandle(): suppressions first (a suppressed match is
 * silent), then the thresholds in order; the first that drops the match
 * ends it. */
int det_thr_eval(bf_detect *d, const bf_sig *s, const bf_packet *p, const bf_flow *f, int dir,
                 bf_ts now, uint8_t *action, bool *rate_modified)
{
    if (!d->sthr)
        return THR_ALERT;
    const det_thr_list *l = &d->sthr[s->idx];
    int ret = THR_ALERT;
    uint16_t k = 0;
    for (; k < l->n && l->e[k].th.type == BF_THR_SUPPRESS; k++) {
        ret = det_thr_one(d, s, &l->e[k], k, p, f, dir, now, action, rate_modified);
        if (ret != THR_ALERT)
            return ret;
    }
    for (; k < l->n; k++) {
        ret = det_thr_one(d, s, &l->e[k], k, p, f, dir, now, action, rate_modified);
        if (ret == THR_DROP_MATCH)
            return ret;
    }
    return ret;
}

void det_thr_free(bf_detect *d)
{
    if (d->sthr) {
        for (uint32_t i = 0; i < d->nsigs; i++) {
            for (uint16_t k = 0; k < d->sthr[i].n; k++) {
                free(d->sthr[i].e[k].ips.r4);
                free(d->sthr[i].e[k].ips.r6);
            }
            free(d->sthr[i].e);
        }
        free(d->sthr);
        d->sthr = NULL;
    }
    for (unsigned i = 0; i < THR_SHARDS; i++) {
        if (!d->thr[i].e)
            continue;
        for (size_t k = 0; k < THR_SLOTS; k++)
            free(d->thr[i].e[k].ports);
        pthread_mutex_destroy(&d->thr[i].lock);
        free(d->thr[i].e);
        d->thr[i].e = NULL;
    }
}

uint64_t bf_detect_thr_evicted(const bf_detect *d)
{
    return atomic_load(&((bf_detect *)d)->thr_evicted);
}
