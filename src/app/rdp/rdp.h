/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/rdp/ owns the RDP analyzer (BF_APP_RDP): the TPKT + X.224 Connection
 * Request of the client (routing token or "Cookie: mstshash=USER",
 * RDP_NEG_REQ flags and requested protocols) and the Connection Confirm of
 * the server (RDP_NEG_RSP selected protocol, or RDP_NEG_FAILURE code), then
 * the bytes of each direction once the connection is negotiated (TLS /
 * CredSSP bytes when a TLS-based protocol was selected).
 *
 * Publishes one BF_BUS_LOGIN per connection (service "rdp", user = the
 * mstshash cookie, attempts 1, outcome failure on a negotiation failure,
 * else unknown: the credentials travel inside TLS/CredSSP).  Writes EVE
 * `rdp` events as Suricata: {tx_id, event_type "initial_request", cookie}
 * and {tx_id, event_type "initial_response"}.  Suricata also writes
 * flags / protocol / server_supports / error_code / reason, which the EVE
 * schema (master) does not allow: those stay in bf_rdp_state and on the
 * bus only.
 */
#ifndef BF_APP_RDP_RDP_H
#define BF_APP_RDP_RDP_H

#include "app/applayer.h"

#define BF_RDP_PDU_MAX 2048       /* largest X.224 CR/CC buffered */
#define BF_RDP_COOKIE_MAX 128

extern const bf_app_parser bf_parser_rdp;

/* requestedProtocols / selectedProtocol bits (MS-RDPBCGR 2.2.1.1.1) */
enum {
    BF_RDP_PROTO_RDP = 0,        /* standard RDP security: value 0 */
    BF_RDP_PROTO_SSL = 0x1,
    BF_RDP_PROTO_HYBRID = 0x2,   /* CredSSP (NLA) */
    BF_RDP_PROTO_RDSTLS = 0x4,
    BF_RDP_PROTO_HYBRID_EX = 0x8,
    BF_RDP_PROTO_RDSAAD = 0x10,
};

enum bf_rdp_phase {
    BF_RDP_X224 = 0,     /* waiting for CR (client) / CC (server) */
    BF_RDP_DATA,         /* negotiated: counting */
    BF_RDP_DONE,         /* gave up (not TPKT, gap, too long) */
};

typedef struct bf_rdp_state {
    uint8_t phase[2];
    uint8_t *buf[2];             /* TPKT being assembled (heap) */
    uint16_t blen[2], bneed[2];
    bool req_seen, rsp_seen;
    char cookie[BF_RDP_COOKIE_MAX];
    uint16_t cookie_len;
    bool has_cookie;
    bool neg_req;                /* RDP_NEG_REQ present */
    uint8_t req_flags;
    uint32_t requested;          /* requestedProtocols */
    bool neg_rsp, neg_fail;
    uint8_t rsp_flags;
    uint32_t selected;           /* selectedProtocol */
    uint32_t fail_code;          /* RDP_NEG_FAILURE failureCode */
    bool tls;                    /* a TLS-based protocol was selected */
    uint64_t data_bytes[2], data_pkts[2];   /* after the negotiation */
    uint32_t drops;
    uint64_t tx_id;
    bool login_published;
} bf_rdp_state;

/* "rdp", "ssl", "hybrid", "rds_tls", "hybrid_ex", "rdsaad" (Suricata's names) */
const char *bf_rdp_protocol_name(uint32_t p);
/* Suricata's reasons ("ssl required by server", ...) or "unknown" */
const char *bf_rdp_failure_reason(uint32_t code);

#endif
