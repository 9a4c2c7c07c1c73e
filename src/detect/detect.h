/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/ owns the signature engine: Suricata-compatible rules loaded from
 * files (parse.c), grouped by protocol and direction with a Vectorscan
 * prefilter per inspection buffer (mpm.c, engine.c), verified by the
 * matcher (match.c), with flowbits, flowints, thresholds, pass/drop/reject
 * and alert/drop EVE events plus fast.log lines.
 *
 * A loaded bf_detect is immutable and shared by every worker (reload builds
 * a new one and swaps it between packets).  Each worker has a
 * bf_detect_thread: scratch, per-packet alert queue, and the subscriptions
 * to its bus: BF_BUS_TX (app buffers), BF_BUS_STREAM (in-order TCP data),
 * BF_BUS_PACKET (packet rules, then the alerts of the packet are written)
 * and BF_BUS_FLOW_END (flow state freed).  Per-flow state (flowbits,
 * flowints, per-transaction progress) hangs off f->detect_state.
 */
#ifndef BF_DETECT_DETECT_H
#define BF_DETECT_DETECT_H

#include <stdio.h>

#include "app/bus.h"
#include "common/config.h"
#include "output/eve.h"

typedef struct bf_detect bf_detect;
typedef struct bf_detect_thread bf_detect_thread;

typedef struct bf_detect_opts {
    const char *const *rule_files;  /* -S files, or rule-files from the config */
    size_t nrule_files;
    const char *classification_file;   /* NULL: config's classification-file or built-in */
    bool simulate_ips;              /* drop rules drop (IPS), else they alert */
    uint32_t alert_max;             /* alerts logged per packet (packet-alert-max) */
    bool quiet;                     /* no per-rule error lines on stderr */
    bool profiling;                 /* per-rule counters, report at exit */
} bf_detect_opts;

/* What loading found: counts and failures by reason. */
typedef struct bf_detect_report {
    uint32_t files, loaded, failed, skipped;
    struct {
        char reason[96];
        uint32_t count;
        char example[160];          /* "file:line" of the first one */
    } reasons[64];
    uint32_t nreasons;
    double load_sec;
    uint32_t mpm_patterns, mpm_dbs;
} bf_detect_report;

/* Loads the rules (errors per rule go to stderr as "file:line: message"
 * unless quiet, and into rep).  Returns NULL only on a fatal error (a rule
 * file that cannot be read, a bad variable in the config; err set).  */
bf_detect *bf_detect_load(bf_config *cfg, const bf_detect_opts *o, bf_detect_report *rep,
                          char *err, size_t errlen);
void bf_detect_ref(bf_detect *d);
void bf_detect_unref(bf_detect *d);
uint32_t bf_detect_sig_count(const bf_detect *d);
/* With opts.profiling: the rules that cost the most verification time
 * (checks, matches, time), summed over the threads that ended. */
void bf_detect_profile_print(const bf_detect *d, FILE *f, unsigned top);
/* Times a stream buffer could not grow under detect.stream-memcap. */
uint64_t bf_detect_stream_memcap_drops(void);
/* Prints the load summary (counts, failures by reason) to f. */
void bf_detect_report_print(const bf_detect_report *rep, FILE *f);

typedef struct bf_detect_stats {
    uint64_t alerts;                /* alerts logged */
    uint64_t alert_queue_overflow;  /* alerts over alert_max for a packet */
    uint64_t alerts_suppressed;     /* noalert, threshold, suppress */
    uint64_t drops;                 /* packets dropped by a rule (IPS) */
    uint64_t pass;                  /* packets/flows passed by a pass rule */
    uint64_t mpm_scans, candidates, matches;
    uint64_t memuse;                /* per-flow detect state bytes */
} bf_detect_stats;

/* fast_log: a FILE* shared by all threads (line writes are locked), or NULL. */
bf_detect_thread *bf_detect_thread_new(bf_detect *d, bf_eve *eve, bf_bus *bus, FILE *fast_log);
void bf_detect_thread_free(bf_detect_thread *t);
/* IPS: drops packet p (of flow f, may be NULL) for reason (EVE drop.reason,
 * e.g. "stream midstream"), writing the drop event (drop.flows). */
void bf_detect_drop_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f, const char *reason);
/* Reload: switch the thread to a new engine (between packets). Flow state
 * created under the old engine is dropped lazily (flowbits do not survive a
 * reload whose names changed). */
void bf_detect_thread_swap(bf_detect_thread *t, bf_detect *d);
const bf_detect_stats *bf_detect_thread_stats(const bf_detect_thread *t);
/* Threshold entries evicted from the (bounded, shared) threshold table. */
uint64_t bf_detect_thr_evicted(const bf_detect *d);

#endif
