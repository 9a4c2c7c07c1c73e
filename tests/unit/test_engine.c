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

/* one Ethernet/IPv4/UDP datagram */
static void udp_pkt(sess *s, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                    const uint8_t *data, size_t dl)
{
    uint8_t buf[1600];
    size_t o = w_eth(buf, 0x0800);
    uint8_t *ip = buf + o;
    o += w_ip4(buf + o, 17, src, dst);
    uint8_t *l4 = buf + o;
    o += w_udp(buf + o, sp, dp);
    memcpy(buf + o, data, dl);
    o += dl;
    fin_ip4(ip, (size_t)(buf + o - ip), l4, 17);
    s->ts += 1000;
    bf_raw_pkt raw = {buf, (uint32_t)o, (uint32_t)o, s->ts, 1, 0};
    bf_pipeline_packet(s->w, &raw, ++s->cnt);
}

/* a DNS message for example.com A: flags 0x0100 (query) or 0x8180 (answer
 * with one A record) */
static size_t dns_msg(uint8_t *b, uint16_t id, bool response)
{
    static const uint8_t q[] = "\x07" "example" "\x03" "com" "\x00" "\x00\x01\x00\x01";
    size_t o = 0;
    w16(b, id);
    w16(b + 2, response ? 0x8180 : 0x0100);
    w16(b + 4, 1);
    w16(b + 6, response ? 1 : 0);
    w16(b + 8, 0);
    w16(b + 10, 0);
    o = 12;
    memcpy(b + o, q, sizeof q - 1);
    o += sizeof q - 1;
    if (response) {
        static const uint8_t a[] = "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22";
        memcpy(b + o, a, sizeof a - 1);
        o += sizeof a - 1;
    }
    return o;
}

static char *read_out(void)
{
    FILE *f = fopen(path, "r");
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    return out;
}

/* A UDP flow whose first datagram is a DNS response (its query was not
 * captured) is reversed as Suricata does: the responder is the server, so
 * no not_request anomaly and the flow event has the client as src.  A flow
 * starting with a query, and a non-DNS datagram from port 53, are not. */
static void test_udp_response_first(void **st)
{
    (void)st;
    unlink(path);
    char err[128];
    bf_eve_sink *sink = bf_eve_sink_open(path, err, sizeof err);
    bf_engine_cfg cfg;
    bf_engine_cfg_default(&cfg);
    sess s = {bf_pipeline_new(&cfg, sink), 1700000000ULL * BF_SEC, 0, false};
    uint8_t m[512];
    uint32_t cli = IP(10, 0, 0, 1), srv = IP(10, 0, 0, 53);
    /* flow 1: answer first, then a new query and its answer on the same 5-tuple */
    size_t n = dns_msg(m, 0x1111, true);
    udp_pkt(&s, srv, 53, cli, 40000, m, n);
    n = dns_msg(m, 0x2222, false);
    udp_pkt(&s, cli, 40000, srv, 53, m, n);
    n = dns_msg(m, 0x2222, true);
    udp_pkt(&s, srv, 53, cli, 40000, m, n);
    /* flow 2: query first (unchanged) */
    n = dns_msg(m, 0x3333, false);
    udp_pkt(&s, cli, 40001, srv, 53, m, n);
    /* flow 3: not DNS, from port 53 (unchanged) */
    memset(m, 'x', 64);
    udp_pkt(&s, srv, 53, cli, 40002, m, 64);
    bf_counters c;
    bf_pipeline_finish(s.w, &c);
    bf_pipeline_free(s.w);
    bf_eve_sink_close(sink);
    char *out = read_out();
    assert_null(strstr(out, "not_request"));
    assert_null(strstr(out, "not_response"));
    assert_null(strstr(out, "\"event_type\":\"anomaly\""));
    assert_non_null(strstr(out, "\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"src_port\":"
                                "40000,\"dest_ip\":\"10.0.0.53\",\"dest_port\":53,\"proto\":"
                                "\"UDP\",\"ip_v\":4,\"app_proto\":\"dns\",\"flow\":{\"pkts_toserver\":1,"
                                "\"pkts_toclient\":2"));
    assert_non_null(strstr(out, "\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"src_port\":"
                                "40001,\"dest_ip\":\"10.0.0.53\",\"dest_port\":53"));
    assert_non_null(strstr(out, "\"event_type\":\"flow\",\"src_ip\":\"10.0.0.53\",\"src_port\":"
                                "53,\"dest_ip\":\"10.0.0.1\",\"dest_port\":40002"));
    /* the unsolicited answer is logged as a response, from the server */
    assert_non_null(strstr(out, "\"src_ip\":\"10.0.0.53\",\"src_port\":53,\"dest_ip\":"
                                "\"10.0.0.1\",\"dest_port\":40000,\"proto\":\"UDP\",\"ip_v\":4,\"dns\":{"
                                "\"version\":3,\"type\":\"response\",\"tx_id\":0,\"id\":4369"));
    assert_int_equal(c.flow.total, 3);
    assert_int_equal(c.app.flows_udp[BF_APP_DNS], 2);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/bf-test-engine-%d.json", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_session),
        cmocka_unit_test(test_bad_checksums),
        cmocka_unit_test(test_timeout_in_packet_time),
        cmocka_unit_test(test_udp_response_first),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return r;
}
