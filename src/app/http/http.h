/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/http/ owns the HTTP/1.x analyzer: one libhtp connection parser per
 * flow (shared read-only libhtp configuration, IDS personality, gzip/deflate
 * decompression), transaction tracking with pipelining, EVE `http` and
 * `fileinfo` events with Suricata's field names, libhtp warnings mapped to
 * Suricata's http anomaly names, and the BF_BUS_HTTP_REQUEST /
 * BF_BUS_HTTP_RESPONSE events detectors read.  Bodies are streamed into
 * size counters and SHA-256; they are buffered (up to the body limits) only
 * while BF_BUS_TX has a subscriber: then each transaction is shown to the
 * signature engine as a bf_tx_view (app/tx.h) when its request headers, its
 * request, its response headers and its response are complete, and once
 * more at the flow's end when it never completed.
 */
#ifndef BF_APP_HTTP_HTTP_H
#define BF_APP_HTTP_HTTP_H

#include "app/applayer.h"
#include "common/config.h"

extern const bf_app_parser bf_parser_http;

typedef struct bf_http_cfg {
    bool log_headers;        /* http.request_headers / response_headers */
    bool fileinfo;           /* log `fileinfo` events (default on) */
    bool sha256;             /* fileinfo.sha256 (default on) */
    uint32_t max_tx;         /* open transactions per flow before giving up */
    /* signature engine views (BF_BUS_TX, only with a subscriber): body bytes
     * kept per transaction and direction (decoded), 0 = none kept */
    uint32_t req_body_limit, resp_body_limit;
    uint32_t decomp_layers;  /* response Content-Encoding layers decoded */
} bf_http_cfg;

void bf_http_cfg_default(bf_http_cfg *c);
/* Keys: app.http.log-headers, app.http.fileinfo, app.http.sha256,
 * app.http.max-tx, app.http.request-body-limit, app.http.response-body-limit,
 * app.http.response-body-decompress-layer-limit (the last three default to
 * Suricata's app-layer.protocols.http.libhtp.default-config.* keys when those
 * are set). */
void bf_http_cfg_load(bf_http_cfg *c, bf_config *cfg);
/* Sets the process-wide options; call before any worker starts. */
void bf_http_configure(const bf_http_cfg *c);

/* A byte string from the wire (not NUL-terminated; valid only during the
 * bus callback).  ptr is NULL when absent. */
typedef struct bf_http_str {
    const uint8_t *ptr;
    uint32_t len;
} bf_http_str;

/* bf_http_tx.flags */
enum {
    BF_HTTP_TX_TRUNCATED = 1u << 0,  /* parsing stopped before completion */
    BF_HTTP_TX_GAP = 1u << 1,        /* bytes were lost in this transaction */
    BF_HTTP_TX_TUNNEL = 1u << 2,     /* CONNECT/Upgrade switched protocols */
    BF_HTTP_TX_100_CONTINUE = 1u << 3,
};

/* Payload of BF_BUS_HTTP_REQUEST (published when the request is complete,
 * or when the flow ends/parsing stops with the request unfinished:
 * req_headers_complete false is a slow or abandoned request) and of
 * BF_BUS_HTTP_RESPONSE (the response is complete, or the flow ended).
 * Timestamps are packet time, 0 when the stage was not reached. */
typedef struct bf_http_tx {
    uint64_t tx_id;              /* 0-based, per flow, as EVE tx_id */
    bf_http_str method, uri, protocol;
    bf_http_str host;            /* host from the URI or Host header (case kept) */
    int32_t host_port;           /* port in Host/URI authority, -1 if none */
    bf_http_str user_agent, referer;
    bf_http_str req_content_type; /* media type only (before ';') */
    bf_http_str resp_content_type;
    bf_http_str location;        /* response Location header */
    int32_t status;              /* 0 when there is no response (yet) */
    uint32_t req_header_count, resp_header_count;
    uint64_t req_body_len;       /* request body bytes (decoded) */
    uint64_t resp_body_len;      /* response body bytes (decoded, decompressed) */
    uint64_t resp_message_len;   /* response body bytes as transferred */
    bool req_headers_complete, req_complete;
    bool resp_headers_complete, resp_complete;
    uint32_t flags;              /* BF_HTTP_TX_* */
    bf_ts req_start, req_headers_done, req_done;
    bf_ts resp_start, resp_done;
} bf_http_tx;

#endif
