/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target for stream/: the input is a configuration byte, then
 * synthetic TCP segments for two flows: per segment a selector (flow, dir,
 * absolute or relative numbers, flow end), TCP flags, sequence and ACK
 * (16-bit offsets from per-direction bases near 2^32, or raw 32-bit
 * values), window, options and a payload length whose bytes come from the
 * input.  Every delivered byte is read (ASan sees over-reads of the
 * zero-copy payload), the memory cap and depth are checked after every
 * packet, and all memory must be released at flow end.
 *
 * bf_flow_set_state / bf_flow_mem_adjust are weak doubles here, so the
 * real flow module wins if it is ever linked in. */
#include "stream/stream.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t g_mem;

__attribute__((weak)) void bf_flow_set_state(bf_flow_table *t, bf_flow *f, enum bf_flow_state st)
{
    (void)t;
    f->state = (uint8_t)st;
}

__attribute__((weak)) void bf_flow_mem_adjust(bf_flow_table *t, int64_t delta)
{
    (void)t;
    g_mem += delta;
}

typedef struct sink {
    uint64_t bytes[2][2], gaps[2][2];
    uint32_t sum;
    bf_flow *flows;
} sink;

static void on_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data, uint32_t len,
                    uint32_t gap)
{
    sink *k = ud;
    if ((dir != 0 && dir != 1) || (!len && !gap) || (len && !data))
        abort();
    if (p && p->flow != f)
        abort();
    int fi = (int)(f - k->flows);
    for (uint32_t i = 0; i < len; i++)
        k->sum = k->sum * 31 + data[i];
    k->bytes[fi][dir] += len;
    k->gaps[fi][dir] += gap;
}

static uint32_t rd32(const uint8_t *d) { return (uint32_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t conf = data[0], isnsel = data[1];
    size_t off = 2;
    bf_stream_cfg cfg;
    bf_stream_cfg_default(&cfg);
    cfg.midstream = conf & 1;
    cfg.async_oneside = conf & 2;
    cfg.max_ooo_segments = (conf & 4) ? 3 : 64;
    cfg.reassembly_depth = (conf & 8) ? 100 : ((conf & 0x40) ? 0 : 1u << 20);
    cfg.memcap = (conf & 16) ? 2048 : 32768;
    cfg.checksum_validation = conf & 32;

    bf_flow flows[2];
    memset(flows, 0, sizeof flows);
    sink k;
    memset(&k, 0, sizeof k);
    k.flows = flows;
    g_mem = 0;
    bf_stream *s = bf_stream_new(&cfg, (bf_flow_table *)(uintptr_t)1, on_data, &k);
    /* per-direction bases: near the wrap, or small */
    uint32_t base[2] = {0xFFFFFFFFu - (isnsel & 0xF) * 0x1000u, (uint32_t)(isnsel >> 4) * 0x11111111u};

    while (off + 8 <= size) {
        uint8_t sel = data[off], fl = data[off + 1];
        int fi = sel & 1, dir = (sel >> 1) & 1;
        bf_flow *f = &flows[fi];
        if ((sel & 0xF0) == 0xF0) { /* end the flow */
            bf_stream_flow_end(s, f);
            if (f->tcp)
                abort();
            off += 1;
            continue;
        }
        uint32_t seq, ack;
        if (sel & 4) {
            if (off + 14 > size)
                break;
            seq = rd32(data + off + 2);
            ack = rd32(data + off + 6);
            off += 10;
        } else {
            seq = base[dir] + (uint32_t)(int32_t)(int16_t)(data[off + 2] << 8 | data[off + 3]);
            ack = base[dir ^ 1] + (uint32_t)(int32_t)(int16_t)(data[off + 4] << 8 | data[off + 5]);
            off += 6;
        }
        uint8_t win = data[off], plen = data[off + 1];
        off += 2;
        if (plen > size - off)
            plen = (uint8_t)(size - off);
        bf_packet p;
        memset(&p, 0, sizeof p);
        p.proto = 6;
        p.ipver = 4;
        p.dir = (uint8_t)dir;
        p.flow = f;
        p.tcp_flags = fl;
        p.tcp_seq = seq;
        p.tcp_ack = ack;
        p.tcp_win = (uint16_t)(win << 8 | win);
        if (sel & 8) {
            p.flags |= BF_PKT_TCP_OPT_WSCALE;
            p.tcp_wscale = win & 15;
        }
        if (sel & 0x10)
            p.flags |= BF_PKT_L4_CSUM_BAD;
        uint8_t *pl = NULL;
        if (plen) {
            pl = malloc(plen); /* exact size: over-reads are caught */
            memcpy(pl, data + off, plen);
            p.payload = pl;
            p.payload_len = plen;
            off += plen;
        }
        bf_stream_packet(s, f, &p);
        free(pl);
        const bf_stream_stats *st = bf_stream_get_stats(s);
        if (st->memuse > cfg.memcap || g_mem < 0 || (uint64_t)g_mem != st->memuse)
            abort();
        if (p.nevents > BF_MAX_PKT_EVENTS)
            abort();
        for (int i = 0; i < 2; i++) {
            const bf_tcp_session *t = flows[i].tcp;
            if (t && !bf_stream_session_check(t))
                abort();
            if (!t)
                continue;
            for (int d = 0; d < 2; d++) {
                if (t->d[d].ooo_cnt > cfg.max_ooo_segments)
                    abort();
                if (cfg.reassembly_depth &&
                    t->d[d].delivered + t->d[d].gap_bytes > cfg.reassembly_depth)
                    abort();
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        bf_stream_flow_end(s, &flows[i]);
        if (flows[i].tcp)
            abort();
    }
    if (bf_stream_get_stats(s)->memuse != 0 || g_mem != 0)
        abort();
    bf_stream_free(s);
    return 0;
}
