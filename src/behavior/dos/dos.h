/* SPDX-License-Identifier: GPL-2.0-or-later
 * behavior/dos/ owns the denial-of-service detector: per-destination (and
 * per home prefix) traffic measurements in 100 ms bins of packet time,
 * computed by each worker from bus events (BF_BUS_PACKET, BF_BUS_FLOW_END,
 * BF_BUS_APP_DETECTED, BF_BUS_HTTP_REQUEST: never from payload bytes), merged
 * across workers at bin boundaries (one short lock per worker per bin), an
 * adaptive per-host baseline with floors, ceilings, CUSUM and hysteresis on
 * the merged view, typing of the attack vector(s), EVE `alert` events at the
 * start, periodically and at the end of each attack (details under
 * alert.context.dos), and mitigation proposals (nftables set elements and
 * rule, BPF expression; never the victim).
 *
 * Data flows one way: analyzers -> bus -> per-worker bins -> merged bins ->
 * detection -> EVE.  Memory is bounded: fixed per-worker bin tables, a
 * pending-merge pool capped by dos.memcap, a capped host table, sketches
 * (HyperLogLog, Space-Saving) for sources; what a cap drops is counted.
 */
#ifndef BF_BEHAVIOR_DOS_DOS_H
#define BF_BEHAVIOR_DOS_DOS_H

#include "app/bus.h"
#include "common/config.h"
#include "output/eve.h"
#include <stdio.h>

/* trigger metrics (each has dos.<key>.floor / .ceiling) */
enum bf_dos_metric {
    BF_DOS_M_SYN, BF_DOS_M_SYNACK, BF_DOS_M_ACK, BF_DOS_M_RST, BF_DOS_M_UDP,
    BF_DOS_M_UDP_BPS, BF_DOS_M_ICMP, BF_DOS_M_FRAG, BF_DOS_M_REFL, BF_DOS_M_REFL_BPS,
    BF_DOS_M_HTTP, BF_DOS_M_SLOW, BF_DOS_M_CONNS,
    BF_DOS_NTRIG,
    /* measured and reported, no trigger of their own */
    BF_DOS_M_PPS = BF_DOS_NTRIG, BF_DOS_M_BPS, BF_DOS_M_NEWFLOWS, BF_DOS_M_FRAG_ALL,
    BF_DOS_NMET
};

enum bf_dos_vector {
    BF_DOS_V_SYN, BF_DOS_V_SYNACK, BF_DOS_V_ACK, BF_DOS_V_RST, BF_DOS_V_UDP, BF_DOS_V_ICMP,
    BF_DOS_V_FRAG, BF_DOS_V_AMP, BF_DOS_V_CARPET, BF_DOS_V_CONN, BF_DOS_V_HTTP, BF_DOS_V_SLOW,
    BF_DOS_NVEC
};

/* reflector protocols, by UDP source port */
#define BF_DOS_NREFL 20

typedef struct bf_dos_prefix {
    bf_addr net;
    uint8_t ipver, len;
} bf_dos_prefix;

typedef struct bf_dos_cfg {
    bool enabled;
    bf_dos_prefix *prefixes;      /* home networks (owned) */
    unsigned nprefixes;
    double floor[BF_DOS_NTRIG], ceiling[BF_DOS_NTRIG];
    bf_ts baseline_window;        /* EWMA time constant */
    double factor, sigmas;        /* threshold >= factor*mean, mean+sigmas*sd */
    double cusum_drift, cusum_h;
    bf_ts confirm;                /* time over the threshold before an alarm */
    bf_ts hysteresis;             /* time under end-percent before the end */
    double end_ratio;
    bf_ts update_interval;        /* periodic `update` events */
    bf_ts slow_age;               /* a request incomplete this long is slow */
    uint32_t carpet_min_hosts;
    bf_ts mitigation_timeout;     /* nft set element timeout */
    uint32_t mitigation_max_sources;
    uint32_t max_hosts;           /* destinations per worker bin / merged view */
    uint32_t max_http_flows;      /* HTTP flows followed (total) */
    uint64_t memcap;              /* pending merged bins */
    char *mitigation_file;        /* written with the proposals of live attacks */
} bf_dos_cfg;

void bf_dos_cfg_default(bf_dos_cfg *c);
/* Keys under dos.* (README); unknown keys and bad values are reported
 * naming the key.  HOME_NET comes from vars.address-groups.HOME_NET when
 * dos.home-networks is not set. */
void bf_dos_cfg_load(bf_dos_cfg *c, bf_config *cfg);
void bf_dos_cfg_free(bf_dos_cfg *c);

typedef struct bf_dos bf_dos;
typedef struct bf_dos_worker bf_dos_worker;

bf_dos *bf_dos_new(const bf_dos_cfg *c, unsigned nworkers);
void bf_dos_free(bf_dos *d);
/* Once per worker, from that worker's thread or before it starts. */
bf_dos_worker *bf_dos_worker_attach(bf_dos *d, unsigned id, bf_bus *bus, bf_eve *eve);
/* Packet time advanced (engine tick). */
void bf_dos_worker_tick(bf_dos_worker *w, bf_ts now);
/* End of input: closes this worker's bins; the last worker to finish ends
 * every attack in progress (phase end) at packet time `last`. */
void bf_dos_worker_finish(bf_dos_worker *w, bf_ts last);

typedef struct bf_dos_stats {
    uint64_t bins_merged;         /* worker bins merged */
    uint64_t bins_processed;      /* merged bins evaluated */
    uint64_t host_drops;          /* packets not measured: worker bin table full */
    uint64_t pending_drops;       /* entries lost: dos.memcap reached while merging */
    uint64_t late_merges;         /* worker bins merged after their bin was evaluated */
    uint64_t hosts_evicted, hosts_full;
    uint64_t http_flow_drops;     /* HTTP flows not followed: table full */
    uint64_t attacks, events;
    uint64_t mem_bytes;           /* allocated now */
} bf_dos_stats;

void bf_dos_get_stats(bf_dos *d, bf_dos_stats *out);
/* Summary lines: counters and the attacks seen (with mitigations). */
void bf_dos_print_summary(bf_dos *d, FILE *o);

#endif
