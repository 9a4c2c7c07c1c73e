/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/defrag.c: IPv4 and IPv6 fragment reassembly, one instance per
 * worker (no locks).
 *
 * A tracker per datagram, keyed by (src, dst, id, proto for IPv4, ip
 * version, VLANs) in a chained hash table (common/hash.h, keyed so chains
 * cannot be aimed at).  Fragment data is copied straight to its offset in a
 * per-tracker buffer; a sorted list of covered intervals tells which bytes
 * are already there.  Policy is first-wins: bytes already covered are kept,
 * and a later fragment that disagrees with them flags an overlap (event on
 * the reassembled datagram).  Memory (trackers, buffers, interval lists,
 * saved headers) is accounted against the memcap before it is allocated; a
 * fragment that does not fit after expiring old trackers is refused
 * (memcap_drops).  Trackers live on a list in creation order, so timeouts
 * (creation + timeout, lazily on lookup and by bf_defrag_timeout) cost
 * O(expired).
 */
#include "decode/decode.h"
#include "decode/decode_int.h"
#include "common/hash.h"

#include <stdlib.h>

#define DF_BUCKETS 4096u
#define DF_MAX_DGRAM 65535u          /* IPv4 total length / IPv6 payload length */
#define DF_OUT_SIZE (DF_MAX_DGRAM + 40u)

typedef struct df_seg {
    uint32_t s, e;
} df_seg;

typedef struct df_trk {
    struct df_trk *hnext;
    struct df_trk *prev, *next;  /* creation order: d->old is the oldest */
    uint64_t key[6];
    uint64_t hash;
    bf_ts expire;
    uint8_t *buf;                /* fragmentable part, at its offsets */
    uint32_t cap;
    uint8_t *hdr;                /* unfragmentable part from the offset-0 fragment */
    uint32_t hdr_len;
    uint32_t nh_pos;             /* IPv6: byte holding the next header before the FH */
    uint32_t total;              /* datagram data length, once the last fragment is seen */
    uint32_t nfrags;
    df_seg *seg;
    uint32_t nseg, segcap;
    size_t mem;
    uint8_t ipver, ip6_nh;
    bool have_first, have_last, overlap;
} df_trk;

struct bf_defrag {
    bf_defrag_cfg cfg;
    df_trk **buckets;
    df_trk *old, *young;
    uint64_t memuse;
    uint8_t *out;
};

void bf_defrag_cfg_default(bf_defrag_cfg *c)
{
    c->memcap = 32ull << 20;
    c->timeout = 60 * BF_SEC;
    c->max_frags = 256;
}

bf_defrag *bf_defrag_new(const bf_defrag_cfg *cfg)
{
    bf_defrag *d = bf_calloc(1, sizeof *d);
    d->cfg = *cfg;
    if (d->cfg.max_frags == 0)
        d->cfg.max_frags = 1;
    d->buckets = bf_calloc(DF_BUCKETS, sizeof *d->buckets);
    d->out = bf_malloc(DF_OUT_SIZE);
    return d;
}

static void trk_unlink_free(bf_defrag *d, df_trk *t)
{
    df_trk **pp = &d->buckets[t->hash & (DF_BUCKETS - 1)];
    while (*pp && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = t->hnext;
    if (t->prev)
        t->prev->next = t->next;
    else
        d->old = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        d->young = t->prev;
    d->memuse -= t->mem;
    free(t->buf);
    free(t->hdr);
    free(t->seg);
    free(t);
}

void bf_defrag_free(bf_defrag *d)
{
    if (!d)
        return;
    while (d->old)
        trk_unlink_free(d, d->old);
    free(d->buckets);
    free(d->out);
    free(d);
}

static void expire_old(bf_defrag *d, bf_defrag_stats *st, bf_ts now, const df_trk *keep)
{
    while (d->old && d->old != keep && now > d->old->expire) {
        trk_unlink_free(d, d->old);
        st->timeouts++;
    }
    st->memuse = d->memuse;
}

void bf_defrag_timeout(bf_defrag *d, bf_defrag_stats *st, bf_ts now)
{
    expire_old(d, st, now, NULL);
}

/* Accounts n more bytes to t (NULL: a tracker being created). */
static bool mem_reserve(bf_defrag *d, bf_defrag_stats *st, df_trk *t, size_t n, bf_ts now)
{
    if (d->memuse + n > d->cfg.memcap) {
        expire_old(d, st, now, t);
        if (d->memuse + n > d->cfg.memcap) {
            st->memcap_drops++;
            return false;
        }
    }
    d->memuse += n;
    if (t)
        t->mem += n;
    st->memuse = d->memuse;
    return true;
}

/* IPv6: finds the byte that names the fragment header as next header by
 * walking the unfragmentable extension headers.  Returns 0 when the chain
 * does not land on fh exactly. */
static uint32_t ip6_nh_pos(const uint8_t *l3, uint32_t fh)
{
    uint32_t pos = 6, off = 40;
    uint8_t nh = l3[6];
    for (int n = 0; n < 64 && off < fh; n++) {
        if (fh - off < 2)
            return 0;
        uint32_t el;
        if (nh == 51)
            el = ((uint32_t)l3[off + 1] + 2) * 4;
        else if (nh == 0 || nh == 60 || nh == 43 || nh == 135 || nh == 139 || nh == 140)
            el = ((uint32_t)l3[off + 1] + 1) * 8;
        else
            return 0;
        pos = off;
        nh = l3[off];
        off += el;
    }
    return (off == fh && nh == 44) ? pos : 0;
}

static uint32_t seg_max_end(const df_trk *t)
{
    return t->nseg ? t->seg[t->nseg - 1].e : 0;
}

/* Copies [fs, fe) of data where not yet covered and compares it where it
 * is; then merges the interval into the sorted, disjoint segment list
 * (the caller reserved room for one more entry). */
static void trk_insert(df_trk *t, uint32_t fs, uint32_t fe, const uint8_t *data)
{
    uint32_t pos = fs;
    uint32_t i = 0;
    while (i < t->nseg && t->seg[i].e <= fs)
        i++;
    uint32_t first = i;
    for (; i < t->nseg && t->seg[i].s < fe; i++) {
        const df_seg *s = &t->seg[i];
        if (s->s > pos) {
            memcpy(t->buf + pos, data + (pos - fs), s->s - pos);
            pos = s->s;
        }
        uint32_t ovs = BF_MAX(s->s, fs), ove = BF_MIN(s->e, fe);
        if (ove > ovs && memcmp(t->buf + ovs, data + (ovs - fs), ove - ovs) != 0)
            t->overlap = true;
        if (ove > pos)
            pos = ove;
    }
    if (pos < fe)
        memcpy(t->buf + pos, data + (pos - fs), fe - pos);

    /* merge: segments first..i-1 intersect [fs, fe); also absorb adjacent ones */
    uint32_t lo = first, hi = i; /* [lo, hi) get replaced */
    if (lo > 0 && t->seg[lo - 1].e == fs)
        lo--;
    if (hi < t->nseg && t->seg[hi].s == fe)
        hi++;
    df_seg m = {fs, fe};
    if (hi > lo) {
        m.s = BF_MIN(m.s, t->seg[lo].s);
        m.e = BF_MAX(m.e, t->seg[hi - 1].e);
    }
    uint32_t removed = hi - lo;
    if (removed == 0) {
        memmove(&t->seg[lo + 1], &t->seg[lo], (t->nseg - lo) * sizeof(df_seg));
        t->nseg++;
    } else if (removed > 1) {
        memmove(&t->seg[lo + 1], &t->seg[hi], (t->nseg - hi) * sizeof(df_seg));
        t->nseg -= removed - 1;
    }
    t->seg[lo] = m;
}

static uint32_t build_datagram(bf_defrag *d, const df_trk *t)
{
    uint8_t *o = d->out;
    memcpy(o, t->hdr, t->hdr_len);
    memcpy(o + t->hdr_len, t->buf, t->total);
    if (t->ipver == 4) {
        uint32_t tl = t->hdr_len + t->total;
        o[2] = (uint8_t)(tl >> 8);
        o[3] = (uint8_t)tl;
        o[6] &= 0x40; /* keep DF, clear MF and the offset */
        o[7] = 0;
        o[10] = o[11] = 0;
        uint16_t cs = (uint16_t)~bf_csum_fold(bf_csum_add(0, o, t->hdr_len));
        memcpy(o + 10, &cs, 2); /* native-order sum written back natively */
        return tl;
    }
    uint32_t pl = t->hdr_len - 40 + t->total;
    o[4] = (uint8_t)(pl >> 8);
    o[5] = (uint8_t)pl;
    o[t->nh_pos] = t->ip6_nh;
    return t->hdr_len + t->total;
}

bool bf_defrag_packet(bf_defrag *d, const bf_decode_cfg *dcfg, bf_decode_stats *dst,
                      bf_defrag_stats *st, bf_packet *frag, bf_packet *out)
{
    if (!(frag->flags & BF_PKT_FRAGMENT) || (frag->flags & BF_PKT_INVALID) || !frag->l3)
        return false;
    const uint8_t *l3 = frag->l3;
    bf_ts now = frag->ts;
    const uint8_t *data;
    uint32_t dlen, hlen, fs = frag->frag_off;
    bool mf = frag->frag_mf;

    if (frag->ipver == 4) {
        if (frag->l3_len < 20 || frag->l3_len != bf_be16(l3 + 2)) /* cut by the snaplen */
            return false;
        st->ipv4_fragments++;
        hlen = frag->l3_hlen;
        if (hlen < 20 || hlen > frag->l3_len)
            return false;
        data = l3 + hlen;
        dlen = frag->l3_len - hlen;
        if (fs + dlen + hlen > DF_MAX_DGRAM) {
            bf_decode_event(dst, frag, BF_EV_IPV4_FRAG_PKT_TOO_LARGE);
            return false;
        }
    } else if (frag->ipver == 6) {
        if (frag->l3_len < 40 || frag->l3_len != 40u + bf_be16(l3 + 4))
            return false;
        st->ipv6_fragments++;
        hlen = frag->ip6_fh_off;
        if (hlen < 40 || hlen + 8 > frag->l3_len)
            return false;
        data = l3 + hlen + 8;
        dlen = frag->l3_len - hlen - 8;
        if (fs + dlen + (hlen - 40) > DF_MAX_DGRAM) {
            bf_decode_event(dst, frag, BF_EV_IPV6_FRAG_PKT_TOO_LARGE);
            return false;
        }
    } else {
        return false;
    }
    if (dlen == 0 && mf)
        return false;
    uint32_t fe = fs + dlen;
    uint16_t ev_ignored = frag->ipver == 4 ? BF_EV_IPV4_FRAG_IGNORED : BF_EV_IPV6_FRAG_IGNORED;

    uint64_t key[6] = {
        frag->src.q[0], frag->src.q[1], frag->dst.q[0], frag->dst.q[1],
        (uint64_t)frag->frag_id | (uint64_t)(frag->ipver == 4 ? frag->proto : 0) << 32 |
            (uint64_t)frag->ipver << 40,
        (uint64_t)frag->vlan[0] | (uint64_t)frag->vlan[1] << 16 | (uint64_t)frag->vlan[2] << 32 |
            (uint64_t)frag->vlan_cnt << 48,
    };
    uint64_t h = bf_hash_words(key, 6);
    df_trk *t = d->buckets[h & (DF_BUCKETS - 1)];
    for (; t; t = t->hnext)
        if (t->hash == h && memcmp(t->key, key, sizeof key) == 0)
            break;
    if (t && now > t->expire) {
        trk_unlink_free(d, t);
        st->timeouts++;
        t = NULL;
    }
    if (!t) {
        if (!mem_reserve(d, st, NULL, sizeof *t, now)) {
            bf_decode_event(dst, frag, ev_ignored);
            return false;
        }
        t = bf_calloc(1, sizeof *t);
        t->mem = sizeof *t;
        memcpy(t->key, key, sizeof key);
        t->hash = h;
        t->ipver = frag->ipver;
        t->expire = now + d->cfg.timeout;
        uint32_t b = (uint32_t)(h & (DF_BUCKETS - 1));
        t->hnext = d->buckets[b];
        d->buckets[b] = t;
        t->prev = d->young;
        if (d->young)
            d->young->next = t;
        else
            d->old = t;
        d->young = t;
    }

    if (t->nfrags >= d->cfg.max_frags) {
        st->max_frags_reached++;
        bf_decode_event(dst, frag, ev_ignored);
        return false;
    }
    /* the end of the datagram: first word wins, data past it is ignored */
    if (!mf) {
        if (t->have_last ? fe != t->total : seg_max_end(t) > fe) {
            if (!t->overlap)
                st->overlaps++;
            t->overlap = true;
            bf_decode_event(dst, frag, ev_ignored);
            return false;
        }
    } else if (t->have_last && fe > t->total) {
        if (!t->overlap)
            st->overlaps++;
        t->overlap = true;
        bf_decode_event(dst, frag, ev_ignored);
        return false;
    }

    /* reserve everything this fragment may need */
    if (fe > t->cap) {
        uint32_t nc = t->cap ? t->cap : 2048;
        while (nc < fe)
            nc *= 2;
        if (nc > DF_MAX_DGRAM)
            nc = DF_MAX_DGRAM;
        if (!mem_reserve(d, st, t, nc - t->cap, now)) {
            bf_decode_event(dst, frag, ev_ignored);
            return false;
        }
        t->buf = bf_realloc(t->buf, nc);
        t->cap = nc;
    }
    if (t->nseg + 1 > t->segcap) {
        uint32_t nc = t->segcap ? t->segcap * 2 : 4;
        if (!mem_reserve(d, st, t, (nc - t->segcap) * sizeof(df_seg), now)) {
            bf_decode_event(dst, frag, ev_ignored);
            return false;
        }
        t->seg = bf_realloc(t->seg, nc * sizeof(df_seg));
        t->segcap = nc;
    }
    if (fs == 0 && !t->have_first) {
        uint32_t np = 0;
        if (t->ipver == 6 && !(np = ip6_nh_pos(l3, hlen)))
            return false;
        if (!mem_reserve(d, st, t, hlen, now)) {
            bf_decode_event(dst, frag, ev_ignored);
            return false;
        }
        t->hdr = bf_malloc(hlen);
        memcpy(t->hdr, l3, hlen);
        t->hdr_len = hlen;
        t->nh_pos = np;
        if (t->ipver == 6)
            t->ip6_nh = l3[hlen];
        t->have_first = true;
    }
    if (!mf) {
        t->have_last = true;
        t->total = fe;
    }
    bool had_overlap = t->overlap;
    if (fe > fs)
        trk_insert(t, fs, fe, data);
    if (t->overlap && !had_overlap)
        st->overlaps++;
    t->nfrags++;

    if (!(t->have_first && t->have_last && t->nseg == 1 && t->seg[0].s == 0 &&
          t->seg[0].e == t->total))
        return false;

    /* complete: rebuild and decode */
    uint8_t ipver = t->ipver;
    bool overlap = t->overlap;
    uint32_t len = build_datagram(d, t);
    trk_unlink_free(d, t);
    st->memuse = d->memuse;
    if (ipver == 4)
        st->ipv4_reassembled++;
    else
        st->ipv6_reassembled++;

    memset(out, 0, sizeof *out);
    out->ts = frag->ts;
    out->pcap_cnt = frag->pcap_cnt;
    out->input_id = frag->input_id;
    out->data = d->out;
    out->caplen = out->wirelen = len;
    out->linktype = ipver == 4 ? BF_LINK_IPV4 : BF_LINK_IPV6;
    memcpy(out->vlan, frag->vlan, sizeof out->vlan);
    out->vlan_cnt = frag->vlan_cnt;
    out->tunnel_depth = frag->tunnel_depth;
    out->flags = BF_PKT_REASSEMBLED | (frag->flags & BF_PKT_TUNNEL);
    if (overlap)
        bf_decode_event(dst, out, ipver == 4 ? BF_EV_IPV4_FRAG_OVERLAP : BF_EV_IPV6_FRAG_OVERLAP);
    bf_decode_ip_at(dcfg, dst, out, ipver);
    return true;
}
