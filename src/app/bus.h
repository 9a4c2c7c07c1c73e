/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/bus.h: the one interface between protocol analyzers and detectors.
 *
 * Analyzers publish typed, already-parsed events (a DNS answer, an HTTP
 * transaction, an SMB rename, a failed login, a flow that ended...);
 * detectors subscribe to the types they need with a callback.  Publishing is
 * synchronous, inside the worker that owns the flow, so a detector's
 * per-worker state needs no lock.  Detectors never see raw bytes: when they
 * need a field, the analyzer adds it to the event struct.
 *
 * Event payload structs live in the analyzer's header (app/<proto>/...);
 * the bus only carries (type, flow, packet, payload pointer) and the payload
 * is valid only during the callback.
 */
#ifndef BF_APP_BUS_H
#define BF_APP_BUS_H

#include "decode/packet.h"
#include "flow/flow.h"

enum bf_bus_type {
    BF_BUS_PACKET = 0,     /* every decoded packet (payload: NULL) */
    BF_BUS_FLOW_START,     /* a flow was created */
    BF_BUS_FLOW_END,       /* a flow ended (payload: enum bf_flow_end_reason *) */
    BF_BUS_APP_DETECTED,   /* f->app_proto was just decided */
    BF_BUS_DNS_QUERY,
    BF_BUS_DNS_ANSWER,
    BF_BUS_HTTP_REQUEST,
    BF_BUS_HTTP_RESPONSE,
    BF_BUS_TLS_HELLO,
    BF_BUS_TLS_CERT,
    BF_BUS_SMTP_MAIL,
    BF_BUS_SMB_FILE,       /* create / read / write / rename / delete / close */
    BF_BUS_SSH_BANNER,     /* payload: bf_ssh_banner_event (app/ssh/ssh.h) */
    BF_BUS_LOGIN,          /* an authentication attempt and its outcome
                            * (payload: bf_login_event, below) */
    BF_BUS_TX,             /* a transaction made progress rules can inspect
                            * (payload: bf_tx_view, app/tx.h) */
    BF_BUS_STREAM,         /* in-order TCP data of a packet (payload:
                            * bf_stream_chunk, below), for stream rules */
    BF_BUS_MAX
};

/* Payload of BF_BUS_LOGIN, shared by every analyzer that sees logins (ssh,
 * ftp, rdp, ...): one message per authentication exchange the analyzer can
 * see, for the brute-force and lateral-movement detectors.  Who tried from
 * where and against what are the flow's client (f->addr[0]) and server
 * (f->addr[1], f->port[1]); the fields below say the rest.  Strings are not
 * NUL-terminated, may hold any byte, and are valid only during the callback.
 * A password is never carried. */
enum bf_login_outcome {
    BF_LOGIN_UNKNOWN = 0,   /* could not tell (encrypted, cut short, gap) */
    BF_LOGIN_SUCCESS,
    BF_LOGIN_FAILURE,
};

typedef struct bf_login_event {
    const char *service;    /* "ssh", "ftp", "rdp": NUL-terminated, static */
    const char *user;       /* user name as sent, or NULL when not visible */
    uint16_t user_len;
    enum bf_login_outcome outcome;
    uint32_t attempts;      /* credentials tried in this exchange (>= 1) */
    const char *detail;     /* NUL-terminated static hint or NULL: how the
                             * outcome was decided ("reply 530",
                             * "size heuristic", "negotiation failure") */
} bf_login_event;

/* "unknown", "success", "failure" */
static inline const char *bf_login_outcome_name(enum bf_login_outcome o)
{
    return o == BF_LOGIN_SUCCESS ? "success" : o == BF_LOGIN_FAILURE ? "failure" : "unknown";
}

/* Payload of BF_BUS_STREAM. */
typedef struct bf_stream_chunk {
    int dir;                /* 0 to server, 1 to client */
    const uint8_t *data;
    uint32_t len;
    uint32_t gap;           /* bytes lost just before data */
} bf_stream_chunk;

typedef struct bf_bus_msg {
    enum bf_bus_type type;
    bf_flow *flow;          /* may be NULL for BF_BUS_PACKET without flow */
    bf_packet *pkt;         /* the packet that completed the event, or NULL */
    const void *data;       /* type-specific payload */
} bf_bus_msg;

typedef void (*bf_bus_fn)(void *ud, const bf_bus_msg *m);

#define BF_BUS_MAX_SUBS 16

typedef struct bf_bus {
    struct {
        bf_bus_fn fn;
        void *ud;
    } subs[BF_BUS_MAX][BF_BUS_MAX_SUBS];
    uint8_t nsubs[BF_BUS_MAX];
    uint64_t published[BF_BUS_MAX];
} bf_bus;

void bf_bus_init(bf_bus *b);
/* Returns false when the type already has BF_BUS_MAX_SUBS subscribers. */
bool bf_bus_subscribe(bf_bus *b, enum bf_bus_type t, bf_bus_fn fn, void *ud);

static inline bool bf_bus_wanted(const bf_bus *b, enum bf_bus_type t) { return b->nsubs[t] != 0; }

static inline void bf_bus_publish(bf_bus *b, enum bf_bus_type t, bf_flow *f, bf_packet *p,
                                  const void *data)
{
    b->published[t]++;
    if (!b->nsubs[t])
        return;
    bf_bus_msg m = {t, f, p, data};
    for (unsigned i = 0; i < b->nsubs[t]; i++)
        b->subs[t][i].fn(b->subs[t][i].ud, &m);
}

#endif
