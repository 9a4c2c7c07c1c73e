/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the TLS analyzer alone (app/tls), both directions
 * interleaved.  The input is a series of chunks: 1 control byte (bit 0: the
 * direction; 0xfe/0xff: a gap in that direction), 2 bytes of length, the
 * bytes.  EVE lines are built (and written to /dev/null) and bus payloads
 * are read by subscribers, so every string handed out is checked too. */
#include "app/tls/tls.h"

#include <stdlib.h>

static size_t sink_bytes;

static void touch(const char *s)
{
    if (s)
        sink_bytes += strlen(s);
}

static void on_hello(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_tls_hello *h = m->data;
    touch(h->sni);
    touch(h->ja3_hash);
    touch(h->ja4);
    touch(h->ja3s_hash);
    for (unsigned i = 0; i < h->nalpn; i++)
        touch(h->alpn[i]);
}

static void on_cert(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_tls_cert *c = m->data;
    touch(c->subject);
    touch(c->subject_cn);
    touch(c->issuer);
    touch(c->serial);
    touch(c->fingerprint);
    touch(c->sni);
    for (unsigned i = 0; i < c->nsan; i++)
        touch(c->san[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bf_eve_sink *sink;
    static bf_eve_opts opts = {.anomaly_events = true, .community_id = true};
    static bf_bus bus;
    if (!sink) {
        char err[128];
        sink = bf_eve_sink_open("/dev/null", err, sizeof err);
        bf_bus_init(&bus);
        bf_bus_subscribe(&bus, BF_BUS_TLS_HELLO, on_hello, NULL);
        bf_bus_subscribe(&bus, BF_BUS_TLS_CERT, on_cert, NULL);
    }
    bf_eve e;
    bf_eve_init(&e, sink, &opts);
    bf_app_ctx ctx = {.eve = &e, .bus = &bus, .ft = NULL};
    bf_flow f;
    memset(&f, 0, sizeof f);
    f.ipver = 4;
    f.proto = 6;
    f.addr[0].b[0] = 10;
    f.addr[1].b[0] = 192;
    f.port[0] = 40000;
    f.port[1] = 443;
    f.flow_id = 1;
    f.app_proto = BF_APP_TLS;
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ts = 1700000000ULL * BF_SEC;

    void *st = bf_parser_tls.state_new(&ctx, &f);
    size_t off = 0;
    while (off + 3 <= size) {
        uint8_t ctl = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        int dir = ctl & 1;
        p.ts += 1000;
        if ((ctl & 0xfe) == 0xfe) {
            bf_parser_tls.parse(&ctx, &f, st, &p, dir, NULL, 0, (uint32_t)len + 1);
            continue;
        }
        /* a private copy, so reads past len are caught by ASan */
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, data + off, len);
        bf_parser_tls.parse(&ctx, &f, st, &p, dir, c, (uint32_t)len, 0);
        free(c);
        off += len;
    }
    bf_parser_tls.flow_end(&ctx, &f, st);
    bf_parser_tls.state_free(&ctx, &f, st);
    if (f.app_mem != 0)
        abort(); /* memory accounting must balance */
    bf_eve_fini(&e);
    return 0;
}
