/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for engine/: one worker's pipeline driven directly
 * (bf_pipeline): a TCP session through decode, flow, stream and the app
 * layer, checksum auto mode, timeouts in packet time, and counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/engine.h"
#include "common/log.h"
#include "pktbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

typedef struct sess {
    bf_pipeline *w;
    bf_ts ts;
    uint64_t cnt;
    bool bad_csum;
} sess;

/* one Ethernet/IPv4/TCP packet from a (1) or b (0) */
static void tcp_pkt(sess *s, bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
                    const char *data)
{
    uint8_t buf[1600];
    size_t o = w_eth(buf, 0x0800);
    uint8_t *ip = buf + o;
    uint32_t c = 0x0a000001, v = 0x0a000002;
    o += w_ip4(buf + o, 6, from_client ? c : v, from_client ? v : c);
    uint8_t *l4 = buf + o;
    o += w_tcp(buf + o, from_client ? 40000 : 80, from_client ? 80 : 40000, seq, ack, flags, NULL, 0);
    size_t dl = data ? strlen(data) : 0;
    memcpy(buf + o, data ? data : "", dl);
    o += dl;
    fin_ip4(ip, (size_t)(buf + o - ip), l4, 6);
    if (s->bad_csum)
        l4[16] ^= 0xff;
    s->ts += 1000;
    bf_raw_pkt raw = {buf, (uint32_t)o, (uint32_t)o, s->ts, 1, 0};
    bf_pipeline_packet(s->w, &raw, ++s->cnt);
}

static void http_session(sess *s)
{
    const char *req = "GET /index.html HTTP/1.1\r\nHost: www.ville-exemple.fr\r\n\r\n";
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello";
    uint32_t rl = (uint32_t)strlen(req), sl = (uint32_t)strlen(resp);
    tcp_pkt(s, true, 100, 0, BF_TH_SYN, NULL);
    tcp_pkt(s, false, 900, 101, BF_TH_SYN | BF_TH_ACK, NULL);
    tcp_pkt(s, true, 101, 901, BF_TH_ACK, NULL);
    tcp_pkt(s, true, 101, 901, BF_TH_ACK | BF_TH_PSH, req);
    tcp_pkt(s, false, 901, 101 + rl, BF_TH_ACK | BF_TH_PSH, resp);
    tcp_pkt(s, true, 101 + rl, 901 + sl, BF_TH_ACK | BF_TH_FIN, NULL);
    tcp_pkt(s, false, 901 + sl, 102 + rl, BF_TH_ACK | BF_TH_FIN, NULL);
    tcp_pkt(s, true, 102 + rl, 902 + sl, BF_TH_ACK, NULL);
}

static char *run(bool bad_csum, bool auto_mode, bf_counters *c)
{
    unlink(path);
    char err[128];
    bf_eve_sink *sink = bf_eve_sink_open(path, err, sizeof err);
    assert_non_null(sink);
    bf_engine_cfg cfg;
    bf_engine_cfg_default(&cfg);
    cfg.checksum_auto = auto_mode;
    sess s = {bf_pipeline_new(&cfg, sink), 1700000000ULL * BF_SEC, 0, bad_csum};
    http_session(&s);
    bf_pipeline_finish(s.w, c);
    bf_pipeline_free(s.w);
    bf_eve_sink_close(sink);
    FILE *f = fopen(path, "r");
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    return out;
}

static void test_http_session(void **st)
{
    (void)st;
    bf_counters c;
    char *out = run(false, false, &c);
    assert_int_equal(c.decode.pkts, 8);
    assert_int_equal(c.flow.total, 1);
    assert_int_equal(c.stream.sessions, 1);
    assert_int_equal(c.app.flows[BF_APP_HTTP], 1);
    assert_non_null(strstr(out, "\"event_type\":\"http\""));
    assert_non_null(strstr(out, "\"hostname\":\"www.ville-exemple.fr\""));
    assert_non_null(strstr(out, "\"event_type\":\"flow\""));
    assert_non_null(strstr(out, "\"app_proto\":\"http\""));
    assert_non_null(strstr(out, "\"pkts_toserver\":5,\"pkts_toclient\":3"));
    assert_non_null(strstr(out, "\"reason\":\"shutdown\""));
}

static void test_bad_checksums(void **st)
{
    (void)st;
    bf_log_verbosity = BF_LOG_WARN;
    bf_counters c;
    /* -k all: packets with bad TCP checksums carry no data to the app layer */
    char *out = run(true, false, &c);
    assert_null(strstr(out, "\"event_type\":\"http\""));
    assert_true(c.stream.invalid_checksum > 0);
    /* -k auto: in the sampling window checksums are not acted on */
    out = run(true, true, &c);
    assert_non_null(strstr(out, "\"event_type\":\"http\""));
    assert_int_equal(c.stream.invalid_checksum, 0);
}

static void test_timeout_in_packet_time(void **st)
{
    (void)st;
    unlink(path);
    char err[128];
    bf_eve_sink *sink = bf_eve_sink_open(path, err, sizeof err);
    bf_engine_cfg cfg;
    bf_engine_cfg_default(&cfg);
    sess s = {bf_pipeline_new(&cfg, sink), 1700000000ULL * BF_SEC, 0, false};
    /* a lone SYN, then traffic 10 minutes later on another flow */
    tcp_pkt(&s, true, 100, 0, BF_TH_SYN, NULL);
    uint8_t buf[128];
    size_t o = w_eth(buf, 0x0800);
    uint8_t *ip = buf + o;
    o += w_ip4(buf + o, 17, 0x0a000003, 0x0a000004);
    uint8_t *l4 = buf + o;
    o += w_udp(buf + o, 1000, 2000);
    fin_ip4(ip, (size_t)(buf + o - ip), l4, 17);
    bf_raw_pkt raw = {buf, (uint32_t)o, (uint32_t)o, s.ts + 600 * BF_SEC, 1, 0};
    bf_pipeline_packet(s.w, &raw, ++s.cnt);
    bf_counters c;
    bf_pipeline_finish(s.w, &c);
    bf_pipeline_free(s.w);
    bf_eve_sink_close(sink);
    assert_int_equal(c.flow.timeouts, 1); /* the SYN flow timed out in packet time */
    assert_int_equal(c.flow.total, 2);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/bf-test-engine-%d.json", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_session),
        cmocka_unit_test(test_bad_checksums),
        cmocka_unit_test(test_timeout_in_packet_time),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return r;
}
