/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/app_harness.h: drives one app-layer analyzer directly (no
 * decoder, no stream): a hand-made flow, an EVE writer to a temp file, a bus
 * that records BF_BUS_LOGIN messages, chunked feeding, and EVE validation
 * against Suricata's schema (python3 + jsonschema). */
#ifndef BF_TESTS_APP_HARNESS_H
#define BF_TESTS_APP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/applayer.h"

/* ../shared from the project root (BF_SRC, set by ctest), as the other tests */
static const char *h_schema(void)
{
    static char path[1024];
    const char *src = getenv("BF_SRC");
    snprintf(path, sizeof path, "%s/../shared/suricata-eve-schema/schema.json", src ? src : "..");
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "/work/shared/suricata-eve-schema/schema.json");
    return path;
}

typedef struct h_login {
    char service[8];
    char user[300];
    int user_len;            /* -1: NULL */
    enum bf_login_outcome outcome;
    uint32_t attempts;
} h_login;

typedef struct harness {
    char path[64];
    bf_eve_sink *sink;
    bf_eve_opts opts;
    bf_eve eve;
    bf_bus bus;
    bf_app_ctx ctx;
    bf_flow f;
    const bf_app_parser *ps;
    void *st;
    h_login logins[64];
    int nlogin;
    int banners;
} harness;

static void h_on_login(void *ud, const bf_bus_msg *m)
{
    harness *h = ud;
    const bf_login_event *ev = m->data;
    if (h->nlogin >= 64)
        return;
    h_login *l = &h->logins[h->nlogin++];
    snprintf(l->service, sizeof l->service, "%s", ev->service);
    l->user_len = ev->user ? ev->user_len : -1;
    if (ev->user)
        memcpy(l->user, ev->user, BF_MIN((size_t)ev->user_len, sizeof l->user - 1));
    l->user[ev->user ? BF_MIN((size_t)ev->user_len, sizeof l->user - 1) : 0] = 0;
    l->outcome = ev->outcome;
    l->attempts = ev->attempts;
}

static void h_on_banner(void *ud, const bf_bus_msg *m)
{
    (void)m;
    ((harness *)ud)->banners++;
}

static void h_init(harness *h, const bf_app_parser *ps, uint16_t sport, uint16_t dport)
{
    memset(h, 0, sizeof *h);
    snprintf(h->path, sizeof h->path, "/tmp/bf_app_test_XXXXXX");
    int fd = mkstemp(h->path);
    if (fd >= 0)
        close(fd);
    char err[256];
    h->sink = bf_eve_sink_open(h->path, err, sizeof err);
    bf_eve_init(&h->eve, h->sink, &h->opts);
    bf_bus_init(&h->bus);
    bf_bus_subscribe(&h->bus, BF_BUS_LOGIN, h_on_login, h);
    bf_bus_subscribe(&h->bus, BF_BUS_SSH_BANNER, h_on_banner, h);
    h->ctx.eve = &h->eve;
    h->ctx.bus = &h->bus;
    h->ctx.ft = NULL;
    h->f.proto = 6;
    h->f.ipver = 4;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(h->f.addr[0].b, c, 4);
    memcpy(h->f.addr[1].b, s, 4);
    h->f.port[0] = sport;
    h->f.port[1] = dport;
    h->f.flow_id = 1234;
    h->f.start = h->f.last = 1700000000ULL * BF_SEC;
    h->ps = ps;
    h->st = ps->state_new(&h->ctx, &h->f);
}

/* Feeds len bytes in chunks cycling through the sizes in chunks[] (0-ended;
 * NULL: one call). */
static void h_feed(harness *h, int dir, const void *data, size_t len, const uint32_t *chunks)
{
    const uint8_t *d = data;
    size_t o = 0;
    unsigned ci = 0;
    while (o < len) {
        size_t n = len - o;
        if (chunks && chunks[0]) {
            n = BF_MIN(n, (size_t)chunks[ci]);
            ci = chunks[ci + 1] ? ci + 1 : 0;
        }
        h->ps->parse(&h->ctx, &h->f, h->st, NULL, dir, d + o, (uint32_t)n, 0);
        o += n;
    }
}

static void h_str(harness *h, int dir, const char *s, const uint32_t *chunks)
{
    h_feed(h, dir, s, strlen(s), chunks);
}

/* Ends the flow, frees the state, flushes EVE; returns the EVE text
 * (malloc'd).  The accounted app memory must be back to zero. */
static char *h_end(harness *h)
{
    if (h->ps->flow_end)
        h->ps->flow_end(&h->ctx, &h->f, h->st);
    h->ps->state_free(&h->ctx, &h->f, h->st);
    h->st = NULL;
    bf_eve_fini(&h->eve);
    bf_eve_sink_close(h->sink);
    FILE *fp = fopen(h->path, "rb");
    char *buf = calloc(1, 1 << 20);
    if (fp) {
        size_t n = fread(buf, 1, (1 << 20) - 1, fp);
        buf[n] = 0;
        fclose(fp);
    }
    return buf;
}

static int h_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* 0 when every line validates against Suricata's EVE schema (or when the
 * schema / python3 are absent: skipped with a message). */
static int h_validate(harness *h)
{
    if (access(h_schema(), R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "schema or python3 absent: EVE validation skipped\n");
        return 0;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys,jsonschema\n"
             "s=json.load(open(\"%s\"))\n"
             "v=jsonschema.validators.validator_for(s)(s)\n"
             "n=0\n"
             "for l in open(\"%s\"):\n"
             "  v.validate(json.loads(l)); n+=1\n"
             "sys.exit(0 if n else 3)'",
             h_schema(), h->path);
    int rc = system(cmd);
    if (rc != 0 || getenv("BF_EVE_DUMP")) {
        snprintf(cmd, sizeof cmd, "cat %s >&2", h->path);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot show %s\n", h->path);
    }
    unlink(h->path);
    return rc;
}

#endif
