/* SPDX-License-Identifier: GPL-2.0-or-later
 * output/ owns what Beffroi writes: EVE JSON lines (to a file, stdout or a
 * unix socket), with Suricata's field names so jq, EveBox, Kibana and Splunk
 * read them unchanged.
 *
 * One bf_eve_sink is shared by all workers; each worker has its own bf_eve
 * writer that builds lines in a private buffer and hands whole chunks of
 * lines to the sink (one short lock per chunk, never per packet), so the
 * output is one valid stream of lines.
 */
#ifndef BF_OUTPUT_EVE_H
#define BF_OUTPUT_EVE_H

#include "common/json.h"
#include "decode/packet.h"
#include "flow/flow.h"

typedef struct bf_eve_sink bf_eve_sink;

/* spec: a file path (appended), "-" for stdout, "unix:/path" (stream
 * socket) or "unix-dgram:/path". */
bf_eve_sink *bf_eve_sink_open(const char *spec, char *err, size_t errlen);
void bf_eve_sink_write(bf_eve_sink *s, const char *buf, size_t len);
uint64_t bf_eve_sink_lines(const bf_eve_sink *s);
void bf_eve_sink_close(bf_eve_sink *s);

/* Optional parts of `alert` events (Suricata's eve-log alert options). */
enum { BF_XFF_OFF = 0, BF_XFF_EXTRA_DATA, BF_XFF_OVERWRITE };
typedef struct bf_eve_alert_opts {
    bool payload;            /* "payload": base64 of the payload / stream data */
    bool payload_printable;  /* "payload_printable" */
    bool payload_length;     /* "payload_length" */
    bool packet;             /* "packet" (base64) and "packet_info" */
    uint32_t payload_buffer_size; /* stream data logged at most (bytes) */
    bool flow;               /* metadata: the "flow" object */
    bool app_layer;          /* metadata: the app-layer object ("http", ...) */
    bool rule_metadata;      /* metadata: alert.metadata */
    uint8_t xff_mode;        /* BF_XFF_* */
    bool xff_reverse;        /* deployment reverse: the first address */
    char xff_header[64];
} bf_eve_alert_opts;

typedef struct bf_eve_opts {
    bool community_id;       /* add community_id to flow-bearing events */
    uint16_t community_id_seed;
    bool flow_events;        /* log `flow` events (default on) */
    bool anomaly_events;     /* log `anomaly` events (default on) */
    bool ether;              /* add MAC addresses ("ether") to events */
    uint8_t dns_version;     /* `dns` events: 2 (Suricata 5-7 layout: one
                              * event per query, "answer" events) or 3
                              * (Suricata 8, the default; 0 means 3) */
    uint8_t dns_formats;     /* answers of `dns` events: BF_EVE_DNS_DETAILED
                              * and/or BF_EVE_DNS_GROUPED (0 means both) */
    bf_eve_alert_opts alert;
} bf_eve_opts;

enum { BF_EVE_DNS_DETAILED = 1, BF_EVE_DNS_GROUPED = 2 };

typedef struct bf_eve {
    bf_eve_sink *sink;
    const bf_eve_opts *opts;
    bf_json j;               /* the event being built */
    char *pend;              /* finished lines not yet given to the sink */
    size_t plen, pcap;
    uint64_t events;         /* lines written by this writer */
} bf_eve;

void bf_eve_init(bf_eve *e, bf_eve_sink *sink, const bf_eve_opts *opts);
void bf_eve_fini(bf_eve *e); /* flushes */
void bf_eve_flush(bf_eve *e);

/* Starts an event: timestamp, flow_id, pcap_cnt, event_type, vlan,
 * src/dest ip and port, proto (and icmp_type/code, community_id).
 * Addresses come from the packet when given (src = packet source), else
 * from the flow (src = client).  Leaves the top-level object open. */
void bf_eve_begin(bf_eve *e, const char *event_type, bf_ts ts, const bf_packet *p,
                  const bf_flow *f);
/* Same, but with the flow's orientation even when a packet is given
 * (flow and app-layer transaction events). */
void bf_eve_begin_flow(bf_eve *e, const char *event_type, bf_ts ts, const bf_packet *p,
                       const bf_flow *f);
/* Closes the event and queues the line. */
void bf_eve_end(bf_eve *e);
/* Closes the event and returns the finished line (with its newline) without
 * queueing it: valid until the next bf_eve_begin.  For writers that order
 * lines themselves (alerts of a packet), with bf_eve_put_line. */
const char *bf_eve_end_take(bf_eve *e, size_t *len);
/* Queues a finished line (as bf_eve_end does). */
void bf_eve_put_line(bf_eve *e, const char *line, size_t len);

/* Link type name as Suricata writes it in packet_info ("EN10MB", ...). */
const char *bf_eve_linktype_name(uint16_t linktype);

/* Protocol name as EVE writes it ("TCP", "UDP", "ICMP", "IPv6-ICMP", ...). */
const char *bf_eve_proto_name(uint8_t proto, char *buf, size_t len);

/* Community ID v1 ("1:base64") of a flow, into buf (>= 64 bytes). */
const char *bf_community_id(const bf_flow *f, uint16_t seed, char *buf, size_t len);

#endif
