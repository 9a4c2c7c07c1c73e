/* SPDX-License-Identifier: GPL-2.0-or-later
 * output/events.h: the engine's own EVE events: `flow` (a flow ended),
 * `anomaly` (decoder / stream / app-layer events), `stats` (counters of
 * every stage, with Suricata's stats field names).
 */
#ifndef BF_OUTPUT_EVENTS_H
#define BF_OUTPUT_EVENTS_H

#include "app/applayer.h"
#include "decode/decode.h"
#include "output/eve.h"
#include "stream/stream.h"

/* Counters of one worker (or their sum). */
typedef struct bf_counters {
    bf_decode_stats decode;
    bf_defrag_stats defrag;
    bf_flow_stats flow;
    bf_stream_stats stream;
    bf_app_stats app;
    struct {
        uint64_t alert, alert_queue_overflow, alerts_suppressed, drops;
    } detect;
    uint64_t anomalies_logged;
    uint64_t flows_logged;
} bf_counters;

/* Adds b into a (memuse-style gauges add too: they are per worker). */
void bf_counters_add(bf_counters *a, const bf_counters *b);

void bf_eve_log_flow(bf_eve *e, const bf_flow *f, enum bf_flow_end_reason why);
void bf_eve_log_anomaly(bf_eve *e, const bf_packet *p, uint16_t ev);
/* An app-layer parser event, as Suricata logs it: `anomaly` with
 * {app_proto, type: applayer, event, layer: proto_parser}; tx_id when >= 0;
 * top_app_proto: the event's top-level app_proto too.  Nothing when the
 * writer's options switch anomaly events off. */
void bf_eve_log_app_anomaly(bf_eve *e, bf_ts ts, const bf_packet *p, const bf_flow *f,
                            const char *app_proto, const char *event, int64_t tx_id,
                            bool top_app_proto);

typedef struct bf_capture_counters {
    uint64_t kernel_packets, kernel_drops, kernel_ifdrops;
    unsigned input_errors;
} bf_capture_counters;

void bf_eve_log_stats(bf_eve *e, bf_ts ts, uint64_t uptime_sec, const bf_counters *c,
                      const bf_capture_counters *cap);

#endif
