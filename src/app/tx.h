/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tx.h: what an analyzer shows the signature engine about one
 * application transaction (an HTTP request/response pair, a DNS message, a
 * TLS handshake, an SSH banner exchange, an SMB command, a mail...).
 *
 * The analyzer publishes BF_BUS_TX with a bf_tx_view each time a
 * transaction makes progress that rules can inspect (request headers done,
 * a body chunk, the response done...).  The view holds the parsed buffers
 * (already normalised and decoded: the URI normalised, bodies de-chunked and
 * decompressed, names decoded...), so detect/ never parses protocol bytes.
 * Everything pointed to is valid only during the callback.
 *
 * Rules: a buffer is "available" once bufs[id].n > 0 or done[dir] of its
 * direction is set (then an absent buffer is final: it will never come).
 * Every call carries all buffers available so far for the transaction,
 * not only the new ones: detect/ decides what to re-inspect.  The last call
 * for a transaction has done[0] and done[1] set (or the flow ends: the
 * analyzer then publishes the pending transactions once more with both
 * set).  Bodies (file.data...) may grow between calls; `body_final` tells
 * whether more can come.
 */
#ifndef BF_APP_TX_H
#define BF_APP_TX_H

#include "common/bf.h"
#include "common/json.h"

enum bf_dbuf_id {
#define X(id, kw, legacy, app, dirs, multi) BF_DBUF_##id,
#include "detect/buffers.def"
#undef X
    BF_DBUF_MAX
};

/* One instance of a buffer. */
typedef struct bf_dbuf {
    const uint8_t *p;
    uint32_t len;
} bf_dbuf;

/* The instances of one buffer in a view: n == 0 means not (yet) there. */
typedef struct bf_dbuf_set {
    const bf_dbuf *v;     /* n instances */
    uint16_t n;
} bf_dbuf_set;

typedef struct bf_tx_view {
    uint16_t app_proto;       /* enum bf_app_proto */
    uint8_t dir;              /* direction of the data that made progress:
                               * 0 to server, 1 to client */
    bool done[2];             /* [0] request side complete, [1] response side */
    bool body_final[2];       /* no more body bytes will come that way */
    uint64_t tx_id;           /* per flow, increasing from 0 */
    bf_dbuf_set bufs[BF_DBUF_MAX];
    /* Writes the transaction's app-layer object into an alert being built
     * (e.g. "http": {...} with Suricata's field names), as the analyzer's
     * own EVE event would, or NULL.  May be called during the callback. */
    void (*log_meta)(const void *ud, bf_json *j);
    /* Writes the transaction's files into an alert being built, as
     * Suricata's alert `files` array: one object per file of the tx with
     * the fields of its fileinfo event (filename, gaps, state "OPEN" /
     * "CLOSED" / "TRUNCATED", sha256 when known, stored, size, tx_id);
     * writes nothing when the tx has no file.  NULL: no files.  Same
     * log_ud as log_meta. */
    void (*log_files)(const void *ud, bf_json *j);
    const void *log_ud;
    /* A request header's value (name case-insensitive) or NULL; for alert
     * options such as X-Forwarded-For.  May be NULL. */
    const uint8_t *(*req_header)(const void *ud, const char *name, uint32_t *len);
} bf_tx_view;

/* Helper for analyzers: sets a single-instance buffer (storage for the
 * bf_dbuf is in the caller's `slot`). */
static inline void bf_tx_set(bf_tx_view *v, enum bf_dbuf_id id, bf_dbuf *slot, const void *p,
                             uint32_t len)
{
    slot->p = (const uint8_t *)p;
    slot->len = len;
    v->bufs[id].v = slot;
    v->bufs[id].n = 1;
}

#endif
