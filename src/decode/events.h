/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/events.h: ids of the anomalies the decoder, defrag and stream
 * layers raise on a packet.  The list itself is events.def (one X-macro line
 * an event: id, Suricata's event name, layer), so the names in EVE
 * `anomaly` events and in `decode-event:` / `stream-event:` rule keywords
 * are Suricata's own. */
#ifndef BF_DECODE_EVENTS_H
#define BF_DECODE_EVENTS_H

#include <stdint.h>

enum bf_event_layer { BF_EVL_DECODE, BF_EVL_STREAM, BF_EVL_APPLAYER };

enum bf_pkt_event_id {
    BF_EV_NONE = 0,
#define BF_EV(id, name, layer) BF_EV_##id,
#include "decode/events.def"
#undef BF_EV
    BF_EV_MAX
};

/* The mechanical id of "decoder.ethernet.pkt_too_small" (the historical id
 * BF_EV_PKT_TOO_SMALL_ETH is kept). */
#define BF_EV_ETHERNET_PKT_TOO_SMALL BF_EV_PKT_TOO_SMALL_ETH

/* "decoder.ipv4.trunc_pkt" etc.; NULL for an unknown id. */
const char *bf_event_name(uint16_t id);
enum bf_event_layer bf_event_layer(uint16_t id);
/* Looks an event up by its name without the layer prefix, as rules write it
 * ("ipv4.trunc_pkt" for decode-event, "3whs_synack_bad_ack" for stream-event).
 * Returns BF_EV_NONE when unknown. */
uint16_t bf_event_lookup(enum bf_event_layer layer, const char *name);

#endif
