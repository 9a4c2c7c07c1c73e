/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/txcap.h: records every BF_BUS_TX an analyzer publishes in an
 * app_harness as one text line ("tx=ID dir=D done=XY NAME=[v][v] ..."), and
 * optionally writes an alert carrying the view's log_meta object (for the
 * schema checks).  Include after app_harness.h.
 */
#ifndef BF_TEST_TXCAP_H
#define BF_TEST_TXCAP_H

#include "app/tx.h"

static const char *const txbuf_names[BF_DBUF_MAX] = {
#define X(id, kw, legacy, app, dirs, multi) #id,
#include "detect/buffers.def"
#undef X
};

typedef struct txcap {
    harness *h;
    bool alerts;        /* also write an "alert" event with log_meta's object */
    char *log;          /* "tx=ID dir=D done=XY NAME=[v][v] ...\n" per publish */
    size_t len, cap;
    int n;
} txcap;

static void txcap_put(txcap *c, const void *p, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = (c->len + n + 1) * 2;
        c->log = realloc(c->log, c->cap);
    }
    memcpy(c->log + c->len, p, n);
    c->len += n;
    c->log[c->len] = 0;
}

static void txcap_fn(void *ud, const bf_bus_msg *m)
{
    txcap *c = ud;
    const bf_tx_view *v = m->data;
    char b[96];
    int k = snprintf(b, sizeof b, "tx=%llu dir=%u done=%d%d", (unsigned long long)v->tx_id,
                     v->dir, v->done[0], v->done[1]);
    txcap_put(c, b, (size_t)k);
    for (int i = 0; i < BF_DBUF_MAX; i++) {
        if (!v->bufs[i].n)
            continue;
        txcap_put(c, " ", 1);
        txcap_put(c, txbuf_names[i], strlen(txbuf_names[i]));
        txcap_put(c, "=", 1);
        for (unsigned j = 0; j < v->bufs[i].n; j++) {
            /* long instances: their head and length */
            uint32_t l = v->bufs[i].v[j].len;
            txcap_put(c, "[", 1);
            const uint8_t *q = v->bufs[i].v[j].p;
            for (uint32_t o = 0; o < (l > 64 ? 16 : l); o++) {
                if (q[o] >= 0x20 && q[o] < 0x7f) {
                    txcap_put(c, q + o, 1);
                } else {
                    k = snprintf(b, sizeof b, "\\x%02x", q[o]);
                    txcap_put(c, b, (size_t)k);
                }
            }
            if (l > 64) {
                k = snprintf(b, sizeof b, "...(%u)", l);
                txcap_put(c, b, (size_t)k);
            }
            txcap_put(c, "]", 1);
        }
    }
    txcap_put(c, "\n", 1);
    c->n++;
    if (c->alerts && v->log_meta && c->h->ctx.eve) {
        bf_eve *e = c->h->ctx.eve;
        bf_eve_begin_flow(e, "alert", c->h->f.last, NULL, &c->h->f);
        bf_json_uint(&e->j, "tx_id", v->tx_id);
        bf_json_open_obj(&e->j, "alert");
        bf_json_str(&e->j, "action", "allowed");
        bf_json_uint(&e->j, "gid", 1);
        bf_json_uint(&e->j, "signature_id", 1);
        bf_json_uint(&e->j, "rev", 1);
        bf_json_str(&e->j, "signature", "tx test");
        bf_json_str(&e->j, "category", "");
        bf_json_uint(&e->j, "severity", 3);
        bf_json_close_obj(&e->j);
        v->log_meta(v->log_ud, &e->j);
        bf_eve_end(e);
    }
}

static void txcap_init(txcap *c, harness *h, bool alerts)
{
    memset(c, 0, sizeof *c);
    c->h = h;
    c->alerts = alerts;
    txcap_put(c, "", 0);
    bf_bus_subscribe(&h->bus, BF_BUS_TX, txcap_fn, c);
}

#endif
