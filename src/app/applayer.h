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

typedef struct bf_app_stats {
    uint64_t flows[BF_APP_MAX];   /* flows identified per protocol */
    uint64_t failed_tcp, failed_udp;
    uint64_t gaps;                /* stream gaps seen by the app layer */
    uint64_t memuse;
} bf_app_stats;

typedef struct bf_applayer bf_applayer;

bf_applayer *bf_applayer_new(bf_flow_table *ft, bf_bus *bus);
void bf_applayer_free(bf_applayer *a);
const bf_app_stats *bf_applayer_stats(const bf_applayer *a);

/* Matches bf_stream_data_fn with ud = the bf_applayer. */
void bf_applayer_stream_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data,
                             uint32_t len, uint32_t gap);
void bf_applayer_udp(bf_applayer *a, bf_flow *f, bf_packet *p);
/* Frees the flow's app state (f->app_state becomes NULL). */
void bf_applayer_flow_end(bf_applayer *a, bf_flow *f);

#endif
