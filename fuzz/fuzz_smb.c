/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the smb analyzer alone, both directions, arbitrary
 * delivery boundaries and gaps (record format in app_fuzz.h).  Like
 * app_fuzz_run, plus a BF_BUS_SMB_FILE subscriber that reads every payload
 * in full (strings, file id) so a bad pointer or length shows up. */
#include "app/smb/smb.h"
#include "app_fuzz.h"

static void fuzz_smb_file(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_smb_file_event *e = m->data;
    uint32_t h = (uint32_t)e->op + e->length + (uint32_t)e->offset + (uint32_t)e->entropy;
    const char *s[] = {e->user, e->share, e->name, e->new_name};
    for (unsigned k = 0; k < 4; k++)
        h += s[k] ? (uint32_t)strlen(s[k]) : 0;
    for (unsigned k = 0; k < 16; k++)
        h += e->fid[k];
    app_fuzz_sink += h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bf_eve_sink *sink;
    static bf_eve_opts opts = {.anomaly_events = true};
    static bf_eve eve;
    if (!sink) {
        char err[128];
        sink = bf_eve_sink_open("/dev/null", err, sizeof err);
        if (!sink)
            abort();
        bf_eve_init(&eve, sink, &opts);
    }
    bf_bus bus;
    bf_bus_init(&bus);
    bf_bus_subscribe(&bus, BF_BUS_LOGIN, app_fuzz_login, NULL);
    bf_bus_subscribe(&bus, BF_BUS_SMB_FILE, fuzz_smb_file, NULL);
    bf_app_ctx ctx = {.eve = &eve, .bus = &bus, .ft = NULL};
    bf_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    f.ipver = 4;
    f.port[0] = 40000;
    f.port[1] = 445;
    const bf_app_parser *ps = &bf_parser_smb;
    if (size == 1)   /* the shared loop, so both stay exercised */
        return app_fuzz_run(ps, data, size);
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
        uint8_t *b = malloc(n);
        memcpy(b, data + o, n);
        ps->parse(&ctx, &f, st, NULL, dir, b, (uint32_t)n, 0);
        free(b);
        o += n;
    }
    ps->flow_end(&ctx, &f, st);
    ps->state_free(&ctx, &f, st);
    if (f.app_mem != 0)
        abort();
    bf_eve_flush(&eve);
    return 0;
}
