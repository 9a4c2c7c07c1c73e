/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/applayer.h: the application-layer stage of a worker.  It receives
 * in-order TCP stream data (from stream/) and UDP payloads, identifies the
 * protocol per direction (app/appid.c), sets f->app_proto, and (issue 4
 * onwards) hands data to the protocol's analyzer.  Per-flow app state is
 * accounted against the flow memcap.
 */
#ifndef BF_APP_APPLAYER_H
#define BF_APP_APPLAYER_H

#include "app/app.h"
#include "app/bus.h"
#include "output/eve.h"

/* What an analyzer gets on every call: where to log, where to publish. */
typedef struct bf_app_ctx {
    bf_eve *eve;              /* the worker's EVE writer */
    bf_bus *bus;              /* publish parsed events here */
    bf_flow_table *ft;        /* for bf_flow_mem_adjust */
} bf_app_ctx;

/* One protocol analyzer (app/<proto>/).  All callbacks run in the worker
 * that owns the flow.  State is created on the first data of the flow once
 * its protocol is known, and freed at flow end after flow_end.  An analyzer
 * accounts the memory it holds with bf_flow_mem_adjust and caps it. */
typedef struct bf_app_parser {
    uint16_t proto;           /* enum bf_app_proto */
    void *(*state_new)(bf_app_ctx *ctx, bf_flow *f);
    void (*state_free)(bf_app_ctx *ctx, bf_flow *f, void *st);
    /* In-order data of one direction (0 to server, 1 to client); gap > 0:
     * that many bytes were lost just before data (data may be NULL). For UDP,
     * one call per datagram. */
    void (*parse)(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                  const uint8_t *data, uint32_t len, uint32_t gap);
    /* The flow ends: log what is pending (p is NULL). */
    void (*flow_end)(bf_app_ctx *ctx, bf_flow *f, void *st);
    /* Transactions the analyzer made for the flow (EVE flow.tx_cnt), or
     * NULL. Called at flow end, before state_free. */
    uint64_t (*tx_count)(const void *st);
} bf_app_parser;

/* The registered analyzer for a protocol, or NULL (app/registry.c). */
const bf_app_parser *bf_app_parser_get(uint16_t proto);
/* Switches a protocol's analyzer off or on (start-up only; identification
 * still runs, so app_proto is still logged). */
void bf_app_parser_enable(uint16_t proto, bool on);

typedef struct bf_app_stats {
    uint64_t flows[BF_APP_MAX];   /* TCP flows identified per protocol */
    uint64_t flows_udp[BF_APP_MAX]; /* UDP flows identified per protocol */
    uint64_t failed_tcp, failed_udp;
    uint64_t gaps;                /* stream gaps seen by the app layer */
    uint64_t memuse;
} bf_app_stats;

typedef struct bf_applayer bf_applayer;

bf_applayer *bf_applayer_new(bf_flow_table *ft, bf_bus *bus, bf_eve *eve);
void bf_applayer_free(bf_applayer *a);
const bf_app_stats *bf_applayer_stats(const bf_applayer *a);

/* Matches bf_stream_data_fn with ud = the bf_applayer. */
void bf_applayer_stream_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data,
                             uint32_t len, uint32_t gap);
void bf_applayer_udp(bf_applayer *a, bf_flow *f, bf_packet *p);
/* Frees the flow's app state (f->app_state becomes NULL). */
void bf_applayer_flow_end(bf_applayer *a, bf_flow *f);

#endif
