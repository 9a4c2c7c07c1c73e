/* SPDX-License-Identifier: GPL-2.0-or-later
 * engine/ owns the packet path and its threads: the reader that pulls
 * packets from capture/ and dispatches them by address-pair hash to workers,
 * and the workers, each owning its decoder state, defrag, flow table, TCP
 * streams, app layer, bus and EVE writer.  No lock on the packet path: a
 * worker shares nothing with another; the reader talks to each worker
 * through a single-producer single-consumer ring.  With one thread, the
 * reader runs the worker's code inline (no copy, no ring).
 *
 * Time is packet time: flow timeouts, defrag timeouts and periodic stats
 * follow the capture's clock; the reader sends a tick to every worker each
 * second of packet time so idle workers still expire their flows.
 */
#ifndef BF_ENGINE_ENGINE_H
#define BF_ENGINE_ENGINE_H

#include "capture/source.h"
#include "common/config.h"
#include <stdio.h>

#include "output/events.h"

typedef struct bf_engine_cfg {
    bf_decode_cfg decode;
    bf_defrag_cfg defrag;
    bf_flow_cfg flow;          /* memcap is the total; split across workers */
    bf_stream_cfg stream;      /* memcap is the total; split across workers */
    bf_eve_opts eve;
    bool log_decode_anomalies; /* EVE anomaly events of type decode */
    bool log_stream_anomalies; /* EVE anomaly events of type stream */
    bool checksum_auto;        /* -k auto: sample the first packets, then decide */
    unsigned threads;          /* workers */
    bf_ts stats_interval;      /* wall-clock interval of periodic stats (0: end only) */
    bool progress;             /* progress line on stderr */
    uint32_t ring_bytes;       /* per-worker ring size (threads > 1) */
    struct bf_dos *dos;        /* DoS detector (NULL: none); one worker
                                * attachment per worker */
    bool ips;                  /* --simulate-ips: drops drop (exception policies) */
    struct bf_detect *detect;  /* signature engine (NULL: none); the engine
                                * takes a reference per worker */
    FILE *fast_log;            /* fast.log lines (NULL: none) */
} bf_engine_cfg;

/* Defaults, then values from the config (keys documented in README). */
void bf_engine_cfg_default(bf_engine_cfg *c);
void bf_engine_cfg_load(bf_engine_cfg *c, bf_config *cfg);

typedef struct bf_engine_summary {
    bf_counters total;
    uint64_t eve_lines;
    unsigned input_errors;
    double wall_sec, cpu_sec;
    bf_ts first_ts, last_ts;
    long peak_rss_kib;
} bf_engine_summary;

/* Runs until the source ends or bf_engine_stop(). */
int bf_engine_run(const bf_engine_cfg *cfg, bf_source *src, bf_eve_sink *sink,
                  bf_engine_summary *out);
/* Signal-safe. */
void bf_engine_stop(void);
/* Rule reload: workers switch to d (between packets, at their next tick of
 * packet time) and drop their reference to the previous engine.  The
 * caller keeps its own reference to d. */
void bf_engine_set_detect(struct bf_detect *d);

/* One worker's pipeline driven directly, without threads: for fuzzing and
 * tests (decode -> defrag -> flow -> stream -> app layer -> EVE). */
typedef struct worker bf_pipeline;
bf_pipeline *bf_pipeline_new(const bf_engine_cfg *cfg, bf_eve_sink *sink);
void bf_pipeline_packet(bf_pipeline *w, const bf_raw_pkt *raw, uint64_t pcap_cnt);
/* Ends every flow (reason shutdown) and returns the counters. */
void bf_pipeline_finish(bf_pipeline *w, bf_counters *out);
void bf_pipeline_free(bf_pipeline *w);

#endif
