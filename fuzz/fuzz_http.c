/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the HTTP analyzer (app/http) called directly with
 * interleaved client and server data.  Input: records of 1 control byte
 * (bit 0: direction; bits 1-3 == 7: a gap instead of data), 1 length byte,
 * then that many bytes.  The first byte selects header logging (bit 0) and
 * small body limits for the signature-engine views (bit 1).  Bus
 * subscribers read every string of the published transactions and every
 * buffer of the BF_BUS_TX views (and write their log_meta) so stale
 * pointers are caught by ASan; memory accounting must return to zero. */
#include "app/http/http.h"
#include "app/tx.h"

#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink_sum;

static void touch(bf_http_str s)
{
    for (uint32_t i = 0; s.ptr && i < s.len; i++)
        sink_sum += s.ptr[i];
}

static void on_tx(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_http_tx *t = m->data;
    touch(t->method);
    touch(t->uri);
    touch(t->protocol);
    touch(t->host);
    touch(t->user_agent);
    touch(t->referer);
    touch(t->req_content_type);
    touch(t->resp_content_type);
    touch(t->location);
    sink_sum += t->status + t->req_body_len + t->resp_body_len;
}

static void on_view(void *ud, const bf_bus_msg *m)
{
    static bf_json j;
    (void)ud;
    const bf_tx_view *v = m->data;
    for (int i = 0; i < BF_DBUF_MAX; i++)
        for (unsigned k = 0; k < v->bufs[i].n; k++)
            for (uint32_t b = 0; b < v->bufs[i].v[k].len; b++)
                sink_sum += v->bufs[i].v[k].p[b];
    if (v->log_meta) {
        if (!j.buf)
            bf_json_init(&j, 512);
        bf_json_reset(&j);
        bf_json_open_obj(&j, NULL);
        v->log_meta(v->log_ud, &j);
        bf_json_close_obj(&j);
        sink_sum += j.len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bf_eve_sink *sink;
    static bf_eve_opts opts = {.anomaly_events = true};
    if (!sink) {
        char err[128];
        sink = bf_eve_sink_open("/dev/null", err, sizeof err);
        if (!sink)
            abort();
    }
    if (size < 1)
        return 0;
    bf_http_cfg c;
    bf_http_cfg_default(&c);
    c.log_headers = data[0] & 1;
    c.max_tx = 8 + (data[0] >> 1);
    if (data[0] & 2)
        c.req_body_limit = c.resp_body_limit = 64;
    bf_http_configure(&c);
    data++;
    size--;

    bf_eve eve;
    bf_eve_init(&eve, sink, &opts);
    bf_bus bus;
    bf_bus_init(&bus);
    bf_bus_subscribe(&bus, BF_BUS_HTTP_REQUEST, on_tx, NULL);
    bf_bus_subscribe(&bus, BF_BUS_HTTP_RESPONSE, on_tx, NULL);
    bf_bus_subscribe(&bus, BF_BUS_TX, on_view, NULL);
    bf_app_ctx ctx = {.eve = &eve, .bus = &bus, .ft = NULL};
    bf_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    f.ipver = 4;
    bf_addr_parse("192.0.2.1", &f.addr[0]);
    bf_addr_parse("192.0.2.2", &f.addr[1]);
    f.port[0] = 51000;
    f.port[1] = 80;
    f.flow_id = 1;
    f.start = f.last = 1700000000ULL * BF_SEC;
    f.app_proto = BF_APP_HTTP;

    void *st = bf_parser_http.state_new(&ctx, &f);
    if (!st)
        abort();
    bf_ts ts = f.start;
    uint64_t cnt = 0;
    size_t off = 0;
    while (off + 2 <= size) {
        uint8_t ctl = data[off];
        size_t len = data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        int dir = ctl & 1;
        bf_packet p;
        memset(&p, 0, sizeof p);
        ts += (ctl >> 4) * 1000;
        p.ts = ts;
        p.pcap_cnt = ++cnt;
        p.ipver = 4;
        p.proto = 6;
        p.flow = &f;
        p.dir = (uint8_t)dir;
        p.src = f.addr[dir];
        p.dst = f.addr[dir ^ 1];
        p.sp = f.port[dir];
        p.dp = f.port[dir ^ 1];
        f.last = ts;
        if (((ctl >> 1) & 7) == 7) {
            bf_parser_http.parse(&ctx, &f, st, &p, dir, NULL, 0, (uint32_t)len + 1);
            continue;
        }
        /* a private copy, so reads past len are caught */
        uint8_t *buf = malloc(len ? len : 1);
        memcpy(buf, data + off, len);
        if (len)
            bf_parser_http.parse(&ctx, &f, st, &p, dir, buf, (uint32_t)len, 0);
        free(buf);
        off += len;
    }
    bf_parser_http.flow_end(&ctx, &f, st);
    bf_parser_http.state_free(&ctx, &f, st);
    if (f.app_mem != 0) {
        fprintf(stderr, "http: app_mem %u after free\n", f.app_mem);
        abort();
    }
    bf_eve_fini(&eve);
    return 0;
}
