/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the whole packet path of one worker (decode, defrag,
 * flow, TCP stream, app-layer identification, EVE writing).  The input is a
 * series of records: 1 byte link type selector, 2 bytes length, the packet;
 * timestamps advance by a byte of each record so timeouts run too. */
#include "engine/engine.h"

#include <stdlib.h>

static const uint16_t links[] = {1, 113, 276, 101, 0, 108, 228, 229};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bf_eve_sink *sink;
    static bf_engine_cfg cfg;
    if (!sink) {
        char err[128];
        sink = bf_eve_sink_open("/dev/null", err, sizeof err);
        bf_engine_cfg_default(&cfg);
        cfg.threads = 1;
        cfg.flow.memcap = 1 << 20;
        cfg.flow.hash_size = 256;
        cfg.stream.memcap = 1 << 20;
        cfg.defrag.memcap = 1 << 20;
        cfg.stream.midstream = true;
        cfg.log_stream_anomalies = true;
        cfg.eve.community_id = true;
        cfg.decode.checksum_validation = false;
        cfg.stream.checksum_validation = false;
    }
    bf_pipeline *w = bf_pipeline_new(&cfg, sink);
    bf_ts ts = 1700000000ULL * BF_SEC;
    uint64_t cnt = 0;
    size_t off = 0;
    while (off + 3 <= size) {
        uint8_t sel = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        /* a private copy, so reads past len are caught by ASan */
        uint8_t *pkt = malloc(len ? len : 1);
        memcpy(pkt, data + off, len);
        ts += (bf_ts)(sel >> 3) * 100 * BF_MSEC;
        bf_raw_pkt raw = {pkt, (uint32_t)len, (uint32_t)len, ts, links[sel & 7], 0};
        bf_pipeline_packet(w, &raw, ++cnt);
        free(pkt);
        off += len;
    }
    bf_pipeline_finish(w, NULL);
    bf_pipeline_free(w);
    return 0;
}
