/* SPDX-License-Identifier: GPL-2.0-or-later
 * fuzz/app_fuzz.h: drives one app-layer analyzer directly with
 * attacker-chosen deliveries (no decoder, no stream).  Input: records of
 * [h][l][data]: h & 1 is the direction; h == 0xfe / 0xff announces a gap of
 * l + 1 bytes in direction h & 1 (no data); otherwise l + 1 bytes of data
 * follow (fewer at the end of the input).  EVE goes to /dev/null; bus
 * messages are read in full so a bad pointer or length shows up. */
#ifndef BF_FUZZ_APP_FUZZ_H
#define BF_FUZZ_APP_FUZZ_H

#include "app/applayer.h"

#include <stdlib.h>

static volatile uint32_t app_fuzz_sink;

static inline void app_fuzz_login(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_login_event *ev = m->data;
    uint32_t h = (uint32_t)strlen(ev->service) + ev->attempts + (uint32_t)ev->outcome;
    for (uint16_t i = 0; ev->user && i < ev->user_len; i++)
        h = h * 31 + (uint8_t)ev->user[i];
    if (ev->detail)
        h += (uint32_t)strlen(ev->detail);
    app_fuzz_sink += h;
}

/* What differs between analyzers' fuzzers. */
typedef struct app_fuzz_opts {
    uint16_t server_port;       /* f.port[1] */
    bool anomaly_events;        /* EVE anomaly logging on */
    enum bf_bus_type extra_type;/* one more bus subscription, when extra_fn */
    bf_bus_fn extra_fn;
} app_fuzz_opts;

static inline int app_fuzz_run_opts(const bf_app_parser *ps, const uint8_t *data, size_t size,
                             const app_fuzz_opts *fo)
{
    /* one writer per fuzz binary: each binary calls with one option set */
    static bf_eve_sink *sink;
    static bf_eve_opts opts;
    static bf_eve eve;
    if (!sink) {
        char err[128];
        sink = bf_eve_sink_open("/dev/null", err, sizeof err);
        if (!sink)
            abort();
        opts.anomaly_events = fo->anomaly_events;
        bf_eve_init(&eve, sink, &opts);
    }
    bf_bus bus;
    bf_bus_init(&bus);
    bf_bus_subscribe(&bus, BF_BUS_LOGIN, app_fuzz_login, NULL);
    if (fo->extra_fn)
        bf_bus_subscribe(&bus, fo->extra_type, fo->extra_fn, NULL);
    bf_app_ctx ctx = {.eve = &eve, .bus = &bus, .ft = NULL};
    bf_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    f.ipver = 4;
    f.port[0] = 40000;
    f.port[1] = fo->server_port;
    void *st = ps->state_new(&ctx, &f);
    size_t o = 0;
    while (o + 2 <= size) {
        uint8_t h = data[o], l = data[o + 1];
        o += 2;
        int dir = h & 1;
        if (h >= 0xfe) {
            ps->parse(&ctx, &f, st, NULL, dir, NULL, 0, (uint32_t)l + 1);
            continue;
        }
        size_t n = BF_MIN((size_t)l + 1, size - o);
        if (!n)
            break;
        /* a private copy, so reads past the delivery are caught */
        uint8_t *b = malloc(n);
        memcpy(b, data + o, n);
        ps->parse(&ctx, &f, st, NULL, dir, b, (uint32_t)n, 0);
        free(b);
        o += n;
    }
    if (ps->flow_end)
        ps->flow_end(&ctx, &f, st);
    ps->state_free(&ctx, &f, st);
    if (f.app_mem != 0)
        abort();   /* accounting must balance */
    bf_eve_flush(&eve);
    return 0;
}

static inline int app_fuzz_run(const bf_app_parser *ps, const uint8_t *data, size_t size)
{
    static const app_fuzz_opts o = {.server_port = 22};
    return app_fuzz_run_opts(ps, data, size, &o);
}

#endif
