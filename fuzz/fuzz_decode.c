/* SPDX-License-Identifier: GPL-2.0-or-later
 * fuzz/fuzz_decode.c: libFuzzer target for the decoder, the dispatch hash
 * and defrag.  The first byte selects the link type and config knobs; the
 * rest is the packet.  Every fragment goes through one static defrag
 * instance, so fragments of successive inputs combine; a small memcap and
 * packet time that moves forward exercise refusals and timeouts. */
#include <stdlib.h>

#include "common/hash.h"
#include "decode/decode.h"

static const uint16_t links[16] = {
    BF_LINK_ETHERNET, BF_LINK_ETHERNET, BF_LINK_ETHERNET, BF_LINK_ETHERNET,
    BF_LINK_SLL, BF_LINK_SLL2, BF_LINK_NULL, BF_LINK_LOOP,
    BF_LINK_RAW, BF_LINK_DLT_RAW, BF_LINK_DLT_RAW2, BF_LINK_IPV4,
    BF_LINK_IPV6, BF_LINK_RAW, BF_LINK_IPV4, 999,
};

static bf_defrag *df;
static bf_defrag_stats fst;
static bf_decode_stats dst;
static bf_ts now;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!df) {
        bf_defrag_cfg c;
        bf_defrag_cfg_default(&c);
        c.memcap = 256 * 1024;
        c.max_frags = 64;
        c.timeout = 5 * BF_SEC;
        df = bf_defrag_new(&c);
    }
    uint8_t sel = data[0];
    bf_decode_cfg cfg;
    bf_decode_cfg_default(&cfg);
    cfg.checksum_validation = (sel & 0x10) == 0;
    cfg.max_layers = (sel & 0x20) ? 2 : 8;
    data++;
    size--;

    /* a private copy of exactly size bytes: ASan sees any overread */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.data = copy;
    p.caplen = (uint32_t)size;
    p.wirelen = (sel & 0x40) ? (uint32_t)size + 100 : (uint32_t)size; /* snaplen cut */
    p.linktype = links[sel & 0x0f];
    now += (sel & 0x80) ? BF_SEC : 1;
    p.ts = now;
    p.pcap_cnt = 1;
    bf_decode(&cfg, &dst, &p);
    (void)bf_decode_dispatch_hash(copy, (uint32_t)size, p.linktype);
    (void)bf_decode_packet_hash(&p);
    if (p.payload && p.payload_len) {
        volatile uint8_t x = p.payload[p.payload_len - 1];
        (void)x;
    }
    if (p.flags & BF_PKT_FRAGMENT) {
        bf_packet out;
        if (bf_defrag_packet(df, &cfg, &dst, &fst, &p, &out)) {
            (void)bf_decode_packet_hash(&out);
            (void)bf_decode_dispatch_hash(out.data, out.caplen, out.linktype);
            if (out.payload && out.payload_len) {
                volatile uint8_t x = out.payload[out.payload_len - 1];
                (void)x;
            }
        }
    }
    if ((sel & 0x0f) == 0x0f)
        bf_defrag_timeout(df, &fst, now);
    free(copy);
    return 0;
}
