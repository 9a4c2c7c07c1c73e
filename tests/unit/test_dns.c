/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/dns: crafted messages of every record type, name
 * compression and its abuse, truncation, TCP framing and gaps, request /
 * response matching, the pending-query cap, EVE lines (validated against
 * Suricata's EVE schema when python3 + jsonschema are present) and a replay
 * of the DNS packets of shared pcaps (skipped when /work/shared is absent).
 * The decoder is not used: the pcap walk below is a minimal
 * Ethernet / IPv4 / IPv6 / UDP / TCP reader of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/dns/dns.h"
#include "common/config.h"
#include "engine/engine.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* harness                                                             */

static char g_path[256];
static bf_eve_sink *g_sink;
static bf_eve g_eve;
static bf_eve_opts g_opts = {.anomaly_events = true, .flow_events = true};
static bf_bus g_bus;
static bf_app_ctx g_ctx;

#define MAX_CAP 512
static bf_dns_event g_evs[MAX_CAP];
static int g_nev;
static int g_nq, g_na, g_nun;

static void on_dns(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_dns_event *e = m->data;
    if (m->type == BF_BUS_DNS_QUERY)
        g_nq++;
    else if (e->kind == BF_DNS_KIND_UNANSWERED)
        g_nun++;
    else
        g_na++;
    if (g_nev < MAX_CAP)
        g_evs[g_nev++] = *e;
}

static int setup(void **st)
{
    (void)st;
    snprintf(g_path, sizeof g_path, "/tmp/bf_test_dns_%d.json", (int)getpid());
    unlink(g_path);
    char err[256];
    g_sink = bf_eve_sink_open(g_path, err, sizeof err);
    assert_non_null(g_sink);
    bf_eve_init(&g_eve, g_sink, &g_opts);
    bf_bus_init(&g_bus);
    bf_bus_subscribe(&g_bus, BF_BUS_DNS_QUERY, on_dns, NULL);
    bf_bus_subscribe(&g_bus, BF_BUS_DNS_ANSWER, on_dns, NULL);
    g_ctx.eve = &g_eve;
    g_ctx.bus = &g_bus;
    g_ctx.ft = NULL;
    g_nev = g_nq = g_na = g_nun = 0;
    return 0;
}

/* Validates every line written so far against Suricata's EVE schema. */
static void validate_eve(void)
{
    bf_eve_flush(&g_eve);
    const char *schema = "/work/shared/suricata-eve-schema/schema.json";
    if (access(schema, R_OK) != 0 || system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null"))
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys,jsonschema\n"
             "s=json.load(open(\"%s\"))\n"
             "v=jsonschema.Draft202012Validator(s) if hasattr(jsonschema,\"Draft202012Validator\") "
             "else jsonschema.Draft7Validator(s)\n"
             "bad=0\n"
             "for n,l in enumerate(open(sys.argv[1])):\n"
             "  e=json.loads(l)\n"
             "  for x in v.iter_errors(e):\n"
             "    bad+=1; print(\"line\",n+1,x.message[:300],file=sys.stderr)\n"
             "sys.exit(1 if bad else 0)' %s",
             schema, g_path);
    assert_int_equal(system(cmd), 0);
}

static int teardown(void **st)
{
    (void)st;
    validate_eve();
    bf_eve_fini(&g_eve);
    if (getenv("BF_DNS_KEEP")) { /* debugging: keep the EVE output */
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cat %s >> %s", g_path, getenv("BF_DNS_KEEP"));
        if (system(cmd) != 0)
            fprintf(stderr, "could not keep %s\n", g_path);
    }
    bf_eve_sink_close(g_sink);
    unlink(g_path);
    return 0;
}

/* The whole EVE output so far (caller frees). */
static char *eve_text(void)
{
    bf_eve_flush(&g_eve);
    FILE *fp = fopen(g_path, "r");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t r = fread(b, 1, (size_t)n, fp);
    b[r] = 0;
    fclose(fp);
    return b;
}

static int count_str(const char *hay, const char *needle)
{
    int c = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        c++;
    return c;
}

static void expect(const char *needle, int n)
{
    char *t = eve_text();
    int c = count_str(t, needle);
    if (c != n)
        fprintf(stderr, "expected %d x %s, got %d in:\n%s\n", n, needle, c, t);
    free(t);
    assert_int_equal(c, n);
}

static void flow_init(bf_flow *f, uint8_t proto)
{
    memset(f, 0, sizeof *f);
    f->proto = proto;
    f->ipver = 4;
    f->flow_id = 1234;
    bf_addr_parse("10.0.0.1", &f->addr[0]);
    bf_addr_parse("10.0.0.53", &f->addr[1]);
    f->port[0] = 40000;
    f->port[1] = 53;
}

static void pkt_init(bf_packet *p, const bf_flow *f, int dir)
{
    memset(p, 0, sizeof *p);
    p->ts = 1700000000ULL * BF_SEC;
    p->ipver = 4;
    p->proto = f->proto;
    p->src = f->addr[dir];
    p->dst = f->addr[dir ^ 1];
    p->sp = f->port[dir];
    p->dp = f->port[dir ^ 1];
    p->dir = (uint8_t)dir;
    p->pcap_cnt = 1;
}

/* message builder */
typedef struct mb {
    uint8_t b[70000];
    uint32_t n;
} mb;

static void u8(mb *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void u16(mb *m, unsigned v) { u8(m, v >> 8); u8(m, v & 0xff); }
static void u32(mb *m, uint32_t v) { u16(m, v >> 16); u16(m, v & 0xffff); }
static void raw(mb *m, const void *p, size_t n) { memcpy(m->b + m->n, p, n); m->n += (uint32_t)n; }
static void name(mb *m, const char *s)
{
    while (*s) {
        const char *d = strchr(s, '.');
        size_t l = d ? (size_t)(d - s) : strlen(s);
        u8(m, (unsigned)l);
        raw(m, s, l);
        s += l + (d ? 1 : 0);
    }
    u8(m, 0);
}
static void hdr(mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                unsigned ar)
{
    m->n = 0;
    u16(m, id); u16(m, flags); u16(m, qd); u16(m, an); u16(m, ns); u16(m, ar);
}
static void question(mb *m, const char *n, unsigned type)
{
    name(m, n);
    u16(m, type);
    u16(m, 1);
}
/* a record owned by the name at offset 12 (the question) */
static void rr_start(mb *m, unsigned type, uint32_t ttl)
{
    u16(m, 0xc000 | 12);
    u16(m, type);
    u16(m, 1);
    u32(m, ttl);
}
static uint32_t rd_begin(mb *m) { u16(m, 0); return m->n; }
static void rd_end(mb *m, uint32_t at)
{
    uint32_t l = m->n - at;
    m->b[at - 2] = (uint8_t)(l >> 8);
    m->b[at - 1] = (uint8_t)l;
}

static void *new_state(bf_flow *f) { return bf_parser_dns.state_new(&g_ctx, f); }
static void end_state(bf_flow *f, void *s)
{
    bf_parser_dns.flow_end(&g_ctx, f, s);
    bf_parser_dns.state_free(&g_ctx, f, s);
    assert_int_equal(f->app_mem, 0);
}

static void feed(bf_flow *f, void *s, int dir, const mb *m)
{
    bf_packet p;
    pkt_init(&p, f, dir);
    bf_parser_dns.parse(&g_ctx, f, s, &p, dir, m->b, m->n, 0);
}


/* ------------------------------------------------------------------ */
/* BF_BUS_TX capture (signature engine views)                          */

#include "app/tx.h"

static const char *const g_dbuf_names[] = {
#define X(id, kw, legacy, app, dirs, multi) #id,
#include "detect/buffers.def"
#undef X
};

typedef struct txrec {
    uint16_t app;
    int dir;
    bool done[2];
    uint64_t tx_id;
    char dump[2048];   /* "NAME[i]=value\n" per instance */
    char meta[4096];   /* what log_meta wrote, inside {} */
} txrec;

#define TX_CAP 64
static txrec g_tx[TX_CAP];
static int g_ntx;

static void on_tx(void *ud, const bf_bus_msg *m)
{
    bf_flow *f = ud ? ud : m->flow;
    const bf_tx_view *v = m->data;
    if (g_ntx >= TX_CAP)
        return;
    txrec *r = &g_tx[g_ntx++];
    memset(r, 0, sizeof *r);
    r->app = v->app_proto;
    r->dir = v->dir;
    r->done[0] = v->done[0];
    r->done[1] = v->done[1];
    r->tx_id = v->tx_id;
    size_t o = 0;
    for (int id = 0; id < BF_DBUF_MAX; id++) {
        for (unsigned k = 0; k < v->bufs[id].n; k++) {
            const bf_dbuf *d = &v->bufs[id].v[k];
            o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "%s[%u]=", g_dbuf_names[id], k);
            for (uint32_t i = 0; i < d->len && o + 2 < sizeof r->dump; i++)
                r->dump[o++] = (d->p[i] >= 32 && d->p[i] < 127) ? (char)d->p[i] : '.';
            o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "\n");
        }
    }
    if (v->log_meta) {
        bf_json j;
        bf_json_init(&j, 256);
        bf_json_open_obj(&j, NULL);
        v->log_meta(v->log_ud, &j);
        bf_json_close_obj(&j);
        snprintf(r->meta, sizeof r->meta, "%.*s", (int)j.len, j.buf);
        bf_json_free(&j);
        /* an alert line carrying the object, for the schema check */
        if (f && g_ctx.eve) {
            bf_eve_begin(g_ctx.eve, "alert", f->last, NULL, f);
            bf_json_open_obj(&g_ctx.eve->j, "alert");
            bf_json_uint(&g_ctx.eve->j, "signature_id", 1);
            bf_json_str(&g_ctx.eve->j, "signature", "tx view test");
            bf_json_close_obj(&g_ctx.eve->j);
            bf_json_uint(&g_ctx.eve->j, "tx_id", v->tx_id);
            v->log_meta(v->log_ud, &g_ctx.eve->j);
            bf_eve_end(g_ctx.eve);
        }
    }
}

static void tx_subscribe(void)
{
    g_ntx = 0;
    bf_bus_subscribe(&g_bus, BF_BUS_TX, on_tx, NULL);
}

static void expect_tx(int i, int dir, bool d0, bool d1, uint64_t tx_id, const char *dump)
{
    assert_true(i < g_ntx);
    txrec *r = &g_tx[i];
    if (r->dir != dir || r->done[0] != d0 || r->done[1] != d1 || r->tx_id != tx_id ||
        strcmp(r->dump, dump) != 0)
        fprintf(stderr, "tx %d: dir %d done %d/%d tx_id %llu dump:\n%s\nexpected:\n%s\n", i,
                r->dir, r->done[0], r->done[1], (unsigned long long)r->tx_id, r->dump, dump);
    assert_int_equal(r->app, BF_APP_DNS);
    assert_int_equal(r->dir, dir);
    assert_int_equal(r->done[0], d0);
    assert_int_equal(r->done[1], d1);
    assert_int_equal(r->tx_id, tx_id);
    assert_string_equal(r->dump, dump);
}

/* Several questions, a response, an unmatched response, an unanswered
 * request published once more at flow end. */
static void test_tx_udp(void **st)
{
    (void)st;
    tx_subscribe();
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 7, 0x0100, 2, 0, 0, 0);
    question(m, "Www.Example.COM", 1);
    question(m, "mail.example.org", 15);
    feed(&f, s, 0, m);
    assert_int_equal(g_ntx, 1);
    expect_tx(0, 0, true, false, 0,
              "DNS_QUERY[0]=Www.Example.COM\nDNS_QUERY[1]=mail.example.org\n");
    assert_non_null(strstr(g_tx[0].meta, "\"dns\":{\"version\":3,\"type\":\"request\""));
    assert_non_null(strstr(g_tx[0].meta, "\"queries\":[{\"rrname\":\"Www.Example.COM\","
                                         "\"rrtype\":\"A\"},{\"rrname\":\"mail.example.org\","
                                         "\"rrtype\":\"MX\"}]"));

    /* a request with one question, never answered */
    hdr(m, 8, 0x0100, 1, 0, 0, 0);
    question(m, "lost.example", 28);
    feed(&f, s, 0, m);
    expect_tx(1, 0, true, false, 1, "DNS_QUERY[0]=lost.example\n");

    /* the response to 7 echoes only the first question: the view keeps the
     * request's two */
    hdr(m, 7, 0x8180, 1, 1, 0, 0);
    question(m, "www.example.com", 1);
    rr_start(m, 1, 60);
    uint32_t at = rd_begin(m);
    u32(m, 0x01020304);
    rd_end(m, at);
    feed(&f, s, 1, m);
    expect_tx(2, 1, true, true, 0,
              "DNS_QUERY[0]=Www.Example.COM\nDNS_QUERY[1]=mail.example.org\n");
    assert_non_null(strstr(g_tx[2].meta, "\"type\":\"response\""));
    assert_non_null(strstr(g_tx[2].meta, "\"rdata\":\"1.2.3.4\""));

    /* a response whose request was not seen: its own questions */
    hdr(m, 99, 0x8183, 1, 0, 0, 0);
    question(m, "orphan.example", 1);
    feed(&f, s, 1, m);
    expect_tx(3, 1, true, true, 3, "DNS_QUERY[0]=orphan.example\n");

    end_state(&f, s);
    assert_int_equal(g_ntx, 5);
    expect_tx(4, 0, true, true, 1, "DNS_QUERY[0]=lost.example\n");
    assert_non_null(strstr(g_tx[4].meta, "\"queries\":[{\"rrname\":\"lost.example\","
                                         "\"rrtype\":\"AAAA\"}]"));
    assert_non_null(strstr(g_tx[4].meta, "\"id\":8,"));
    free(m);
}

/* DNS over TCP: two queries in one segment, the answers split. */
static void test_tx_tcp(void **st)
{
    (void)st;
    tx_subscribe();
    bf_flow f;
    flow_init(&f, 6);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    mb *t = calloc(1, sizeof *t);
    hdr(m, 1, 0x0100, 1, 0, 0, 0);
    question(m, "first.example", 1);
    u16(t, m->n);
    raw(t, m->b, m->n);
    hdr(m, 2, 0x0100, 1, 0, 0, 0);
    question(m, "second.example", 16);
    u16(t, m->n);
    raw(t, m->b, m->n);
    bf_packet p;
    pkt_init(&p, &f, 0);
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b, t->n, 0);
    assert_int_equal(g_ntx, 2);
    expect_tx(0, 0, true, false, 0, "DNS_QUERY[0]=first.example\n");
    expect_tx(1, 0, true, false, 1, "DNS_QUERY[0]=second.example\n");

    t->n = 0;
    hdr(m, 2, 0x8180, 1, 0, 0, 0);
    question(m, "second.example", 16);
    u16(t, m->n);
    raw(t, m->b, m->n);
    pkt_init(&p, &f, 1);
    for (uint32_t i = 0; i < t->n; i += 5)
        bf_parser_dns.parse(&g_ctx, &f, s, &p, 1, t->b + i, BF_MIN(5u, t->n - i), 0);
    assert_int_equal(g_ntx, 3);
    expect_tx(2, 1, true, true, 1, "DNS_QUERY[0]=second.example\n");
    end_state(&f, s);
    assert_int_equal(g_ntx, 4);
    expect_tx(3, 0, true, true, 0, "DNS_QUERY[0]=first.example\n");
    free(m);
    free(t);
}

/* Without a BF_BUS_TX subscriber nothing is published (nor kept). */
static void test_tx_unwanted(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 5, 0x0100, 1, 0, 0, 0);
    question(m, "quiet.example", 1);
    feed(&f, s, 0, m);
    hdr(m, 6, 0x0100, 1, 0, 0, 0);
    question(m, "quiet2.example", 1);
    feed(&f, s, 0, m);
    hdr(m, 5, 0x8180, 1, 0, 0, 0);
    question(m, "quiet.example", 1);
    feed(&f, s, 1, m);
    end_state(&f, s);
    assert_int_equal(g_bus.published[BF_BUS_TX], 0);
    free(m);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */

static void test_registered(void **st)
{
    (void)st;
    assert_ptr_equal(bf_app_parser_get(BF_APP_DNS), &bf_parser_dns);
}

static void test_udp_query_response(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 0x1234, 0x0100, 1, 0, 0, 1);
    question(m, "WWW.Example.com", 1);
    /* EDNS0 OPT, udp size 4096, DO */
    u8(m, 0); u16(m, 41); u16(m, 4096); u32(m, 0x8000); u16(m, 0);
    uint32_t qlen = m->n;
    feed(&f, s, 0, m);

    hdr(m, 0x1234, 0x8180, 1, 4, 0, 0);
    question(m, "WWW.Example.com", 1);
    rr_start(m, 5, 300);
    uint32_t at = rd_begin(m);
    uint32_t cname_off = m->n;
    name(m, "web.example.net");
    rd_end(m, at);
    u16(m, 0xc000 | cname_off); u16(m, 1); u16(m, 1); u32(m, 60);
    at = rd_begin(m); raw(m, "\x5d\xb8\xd8\x22", 4); rd_end(m, at);
    u16(m, 0xc000 | cname_off); u16(m, 1); u16(m, 1); u32(m, 30);
    at = rd_begin(m); raw(m, "\x01\x02\x03\x04", 4); rd_end(m, at);
    u16(m, 0xc000 | cname_off); u16(m, 28); u16(m, 1); u32(m, 45);
    at = rd_begin(m);
    raw(m, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
    rd_end(m, at);
    uint32_t rlen = m->n;
    feed(&f, s, 1, m);

    expect("\"event_type\":\"dns\"", 2);
    expect("\"dns\":{\"version\":3,\"type\":\"request\",\"tx_id\":0,\"id\":4660,\"flags\":\"100\","
           "\"rd\":true,\"opcode\":0,\"rcode\":\"NOERROR\",\"queries\":[{\"rrname\":"
           "\"WWW.Example.com\",\"rrtype\":\"A\"}]}",
           1);
    expect("\"type\":\"response\",\"tx_id\":1,\"id\":4660,\"flags\":\"8180\",\"qr\":true,"
           "\"rd\":true,\"ra\":true,\"opcode\":0,\"rcode\":\"NOERROR\"",
           1);
    expect("{\"rrname\":\"WWW.Example.com\",\"rrtype\":\"CNAME\",\"ttl\":300,\"rdata\":"
           "\"web.example.net\"}",
           1);
    expect("{\"rrname\":\"web.example.net\",\"rrtype\":\"A\",\"ttl\":60,\"rdata\":\"93.184.216.34\"}", 1);
    expect("\"rdata\":\"2001:0db8:0000:0000:0000:0000:0000:0001\"", 1);
    expect("\"grouped\":{\"CNAME\":[\"web.example.net\"],\"A\":[\"93.184.216.34\",\"1.2.3.4\"],"
           "\"AAAA\":[\"2001:0db8:0000:0000:0000:0000:0000:0001\"]}",
           1);
    /* the response is logged from the packet's point of view */
    expect("\"src_ip\":\"10.0.0.53\",\"src_port\":53,\"dest_ip\":\"10.0.0.1\"", 1);
    expect("\"anomaly\"", 0);
    /* OPT without options: not logged in additionals */
    expect("additionals", 0);

    assert_int_equal(g_nq, 1);
    assert_int_equal(g_na, 1);
    const bf_dns_event *q = &g_evs[0], *a = &g_evs[1];
    assert_string_equal(q->qname, "www.example.com");
    assert_int_equal(q->qname_len, 15);
    assert_int_equal(q->qname_labels, 3);
    assert_int_equal(q->qtype, 1);
    assert_int_equal(q->request_len, qlen);
    assert_int_equal(q->edns_udp_size, 4096);
    assert_true(q->edns_do);
    assert_int_equal(a->kind, BF_DNS_KIND_RESPONSE);
    assert_true(a->matched);
    assert_int_equal(a->request_len, qlen);
    assert_int_equal(a->response_len, rlen);
    assert_int_equal(a->rcode, 0);
    assert_int_equal(a->nanswers, 4);
    assert_int_equal(a->min_ttl, 30);
    assert_string_equal(a->answers[0].data, "web.example.net");
    assert_string_equal(a->answers[1].data, "93.184.216.34");
    assert_int_equal(a->answers[1].addr_len, 4);
    assert_string_equal(a->answers[3].data, "2001:db8::1");
    end_state(&f, s);
    assert_int_equal(g_nun, 0);
    free(m);
}

static void test_rr_types(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 7, 0x8580, 1, 9, 1, 2);
    question(m, "example.org", 255);
    uint32_t at;
    rr_start(m, 15, 100); at = rd_begin(m); u16(m, 10); name(m, "mx.example.org"); rd_end(m, at);
    rr_start(m, 2, 100); at = rd_begin(m); name(m, "ns1.example.org"); rd_end(m, at);
    rr_start(m, 12, 100); at = rd_begin(m); name(m, "host.example.org"); rd_end(m, at);
    rr_start(m, 33, 100); at = rd_begin(m); u16(m, 1); u16(m, 5); u16(m, 5060);
    name(m, "sip.example.org"); rd_end(m, at);
    rr_start(m, 16, 100); at = rd_begin(m); u8(m, 5); raw(m, "hello", 5); u8(m, 3);
    raw(m, "v=1", 3); rd_end(m, at);
    rr_start(m, 10, 100); at = rd_begin(m); raw(m, "nul", 3); rd_end(m, at);
    rr_start(m, 65, 100); at = rd_begin(m); u16(m, 1); u8(m, 0); u16(m, 1); u16(m, 3);
    raw(m, "\x02h2", 3); rd_end(m, at);
    rr_start(m, 44, 100); at = rd_begin(m); u8(m, 1); u8(m, 2); raw(m, "\xab\xcd\xef", 3);
    rd_end(m, at);
    rr_start(m, 257, 100); at = rd_begin(m); raw(m, "\x00\x05issueca", 9); rd_end(m, at);
    /* authority SOA */
    rr_start(m, 6, 3600); at = rd_begin(m); name(m, "ns1.example.org");
    name(m, "hostmaster.example.org"); u32(m, 2024010101); u32(m, 7200); u32(m, 900);
    u32(m, 1209600); u32(m, 300); rd_end(m, at);
    /* additionals: A glue and OPT with a cookie option */
    rr_start(m, 1, 50); at = rd_begin(m); raw(m, "\x0a\x00\x00\x01", 4); rd_end(m, at);
    u8(m, 0); u16(m, 41); u16(m, 1232); u32(m, 0); at = rd_begin(m); u16(m, 10); u16(m, 8);
    raw(m, "\x01\x02\x03\x04\x05\x06\x07\x08", 8); rd_end(m, at);
    feed(&f, s, 1, m);

    expect("\"aa\":true", 1);
    expect("{\"rrname\":\"example.org\",\"rrtype\":\"MX\",\"ttl\":100,\"rdata\":\"mx.example.org\"}", 1);
    expect("\"rrtype\":\"NS\",\"ttl\":100,\"rdata\":\"ns1.example.org\"}", 1);
    expect("\"rrtype\":\"PTR\",\"ttl\":100,\"rdata\":\"host.example.org\"}", 1);
    expect("{\"priority\":1,\"weight\":5,\"port\":5060,\"name\":\"sip.example.org\"}", 2);
    expect("\"rrtype\":\"TXT\",\"ttl\":100,\"rdata\":\"hello\"}", 1);
    expect("\"rrtype\":\"TXT\",\"ttl\":100,\"rdata\":\"v=1\"}", 1);
    expect("\"TXT\":[\"hello\",\"v=1\"]", 1);
    expect("\"rrtype\":\"NULL\",\"ttl\":100,\"rdata\":\"nul\"}", 1);
    expect("{\"rrname\":\"example.org\",\"rrtype\":\"HTTPS\",\"ttl\":100}", 1);
    expect("{\"fingerprint\":\"ab:cd:ef\",\"algo\":1,\"type\":2}", 2);
    expect("{\"rrname\":\"example.org\",\"rrtype\":\"257\",\"ttl\":100}", 1);
    expect("\"authorities\":[{\"rrname\":\"example.org\",\"rrtype\":\"SOA\",\"ttl\":3600,\"soa\":{"
           "\"mname\":\"ns1.example.org\",\"rname\":\"hostmaster.example.org\",\"serial\":2024010101,"
           "\"refresh\":7200,\"retry\":900,\"expire\":1209600,\"minimum\":300}}]",
           1);
    expect("\"additionals\":[{\"rrname\":\"example.org\",\"rrtype\":\"A\",\"ttl\":50,\"rdata\":"
           "\"10.0.0.1\"},{\"rrname\":\"\",\"rrtype\":\"OPT\",\"ttl\":0,\"opt\":[{\"code\":10,"
           "\"data\":\"0102030405060708\"}]}]",
           1);
    expect("\"queries\":[{\"rrname\":\"example.org\",\"rrtype\":\"ANY\"}]", 1);
    expect("\"anomaly\"", 0);
    /* a response with no pending query is unmatched */
    assert_int_equal(g_na, 1);
    assert_false(g_evs[0].matched);
    assert_int_equal(g_evs[0].nanswers, 9);
    assert_string_equal(g_evs[0].answers[0].data, "mx.example.org");
    assert_int_equal(g_evs[0].answers[0].priority, 10);
    assert_int_equal(g_evs[0].answers[3].port, 5060);
    assert_string_equal(g_evs[0].answers[6].data, "");   /* HTTPS target "." */
    assert_int_equal(g_evs[0].answers[6].priority, 1);
    assert_int_equal(g_evs[0].answers[8].rdlen, 9);
    assert_int_equal(g_evs[0].edns_udp_size, 1232);
    end_state(&f, s);
    free(m);
}

static void test_compression(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);

    /* forward pointer (legal): the question name points after itself */
    hdr(m, 1, 0x0100, 1, 0, 0, 0);
    u8(m, 3); raw(m, "www", 3); u16(m, 0xc000 | 22); u16(m, 1); u16(m, 1);
    name(m, "fwd.example");
    feed(&f, s, 0, m);
    expect("\"rrname\":\"www.fwd.example\"", 1);

    /* a pointer to itself */
    hdr(m, 2, 0x0100, 1, 0, 0, 0);
    u16(m, 0xc000 | 12); u16(m, 1); u16(m, 1);
    feed(&f, s, 0, m);
    expect("\"event\":\"infinite_loop\"", 1);

    /* a loop that emits a label each turn */
    hdr(m, 3, 0x0100, 1, 0, 0, 0);
    u8(m, 1); raw(m, "a", 1); u16(m, 0xc000 | 12); u16(m, 1); u16(m, 1);
    feed(&f, s, 0, m);

    /* pointer outside the message, reserved label type, label past end */
    hdr(m, 4, 0x0100, 1, 0, 0, 0);
    u16(m, 0xc000 | 0x3fff); u16(m, 1); u16(m, 1);
    feed(&f, s, 0, m);
    hdr(m, 5, 0x0100, 1, 0, 0, 0);
    u8(m, 0x41); u16(m, 1); u16(m, 1);
    feed(&f, s, 0, m);
    hdr(m, 6, 0x0100, 1, 0, 0, 0);
    u8(m, 60); raw(m, "abc", 3);
    feed(&f, s, 0, m);
    expect("\"event\":\"malformed_data\"", 3);
    expect("\"app_proto\":\"dns\",\"type\":\"applayer\"", 5);
    expect("\"layer\":\"proto_parser\"", 5);
    assert_true(bf_dns_stats_get()->malformed >= 3);
    end_state(&f, s);
    free(m);
}

static void test_long_name(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 9, 0x0100, 1, 0, 0, 0);
    char lab[64];
    memset(lab, 'x', 63);
    lab[63] = 0;
    for (int i = 0; i < 5; i++) {
        u8(m, 63);
        raw(m, lab, 63);
    }
    u8(m, 0); u16(m, 16); u16(m, 1);
    feed(&f, s, 0, m);
    expect("\"rrname_truncated\":true", 1);
    expect("\"event\":\"name_too_long\"", 1);
    assert_int_equal(g_nq, 1);
    assert_true(g_evs[0].qname_truncated);
    assert_true(g_evs[0].qname_len <= BF_DNS_NAME_MAX);
    assert_int_equal(strlen(g_evs[0].qname), g_evs[0].qname_len);
    assert_int_equal(g_evs[0].qtype, 16);

    /* 129 one-letter labels: too many labels */
    hdr(m, 10, 0x0100, 1, 0, 0, 0);
    for (int i = 0; i < 129; i++) {
        u8(m, 1);
        u8(m, 'a');
    }
    u8(m, 0); u16(m, 1); u16(m, 1);
    feed(&f, s, 0, m);
    expect("\"event\":\"too_many_labels\"", 1);
    end_state(&f, s);
    free(m);
}

/* Every prefix of a valid response: no crash, malformed_data for the cut ones. */
static void test_truncated(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 0x55, 0x8180, 1, 2, 1, 0);
    question(m, "cut.example", 1);
    uint32_t at;
    rr_start(m, 1, 5); at = rd_begin(m); raw(m, "\x01\x01\x01\x01", 4); rd_end(m, at);
    rr_start(m, 16, 5); at = rd_begin(m); u8(m, 4); raw(m, "text", 4); rd_end(m, at);
    rr_start(m, 6, 5); at = rd_begin(m); name(m, "a.b"); name(m, "c.d");
    for (int i = 0; i < 5; i++)
        u32(m, 1);
    rd_end(m, at);
    uint32_t full = m->n;
    for (uint32_t n = 0; n < full; n++) {
        void *s = new_state(&f);
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches over-reads */
        memcpy(copy, m->b, n);
        bf_packet p;
        pkt_init(&p, &f, 1);
        bf_parser_dns.parse(&g_ctx, &f, s, &p, 1, copy, n, 0);
        free(copy);
        end_state(&f, s);
    }
    /* a cut in the authority section still logs the answers */
    char *txt = eve_text();
    assert_true(count_str(txt, "\"event\":\"invalid_authorities\"") >= 1);
    assert_true(count_str(txt, "\"event\":\"malformed_data\"") >= 20);
    /* only the complete message and the ones cut in the authority section log */
    assert_int_equal(count_str(txt, "\"event_type\":\"dns\""),
                     count_str(txt, "\"event\":\"invalid_authorities\"") + 0);
    free(txt);
    free(m);
}

static void test_tcp_split(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 6);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    mb *t = calloc(1, sizeof *t);
    /* three length-prefixed queries in one byte stream */
    const char *names[] = {"one.example", "two.example", "three.example"};
    for (int i = 0; i < 3; i++) {
        hdr(m, 100 + (unsigned)i, 0x0100, 1, 0, 0, 0);
        question(m, names[i], 1);
        u16(t, m->n);
        raw(t, m->b, m->n);
    }
    bf_packet p;
    pkt_init(&p, &f, 0);
    /* byte by byte */
    for (uint32_t i = 0; i < t->n; i++)
        bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b + i, 1, 0);
    /* all at once */
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b, t->n, 0);
    /* in chunks of 7 */
    for (uint32_t i = 0; i < t->n; i += 7)
        bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b + i, BF_MIN(7u, t->n - i), 0);
    expect("\"rrname\":\"one.example\"", 3);
    expect("\"rrname\":\"two.example\"", 3);
    expect("\"rrname\":\"three.example\"", 3);
    expect("\"tx_id\":8,", 1);
    expect("\"proto\":\"TCP\"", 9);

    /* a gap in the middle of a message: resync on the next message start */
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b, 5, 0);
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, NULL, 0, 100);
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, (const uint8_t *)"garbage-garbage-garbage", 23, 0);
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b, t->n, 0);
    expect("\"rrname\":\"one.example\"", 4);
    expect("\"rrname\":\"three.example\"", 4);
    assert_true(bf_dns_stats_get()->resyncs >= 1);

    /* after too many non-DNS chunks the direction is given up */
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, NULL, 0, 10);
    for (int i = 0; i < 20; i++)
        bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, (const uint8_t *)"xxxxxxxxxxxxxxxxxxxx", 20, 0);
    bf_parser_dns.parse(&g_ctx, &f, s, &p, 0, t->b, t->n, 0);
    expect("\"rrname\":\"one.example\"", 4);

    /* an oversized message (65535 bytes) is skipped, the next one parsed */
    bf_flow f2;
    flow_init(&f2, 6);
    void *s2 = new_state(&f2);
    mb *big = calloc(1, sizeof *big);
    u16(big, 65535);
    big->n += 65535;
    raw(big, t->b, t->n);
    for (uint32_t i = 0; i < big->n; i += 1000)
        bf_parser_dns.parse(&g_ctx, &f2, s2, &p, 0, big->b + i, BF_MIN(1000u, big->n - i), 0);
    expect("\"rrname\":\"one.example\"", 5);
    assert_true(bf_dns_stats_get()->tcp_oversize >= 1);
    end_state(&f2, s2);
    end_state(&f, s);
    free(big);
    free(m);
    free(t);
}

static void test_matching(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 1, 0x0100, 1, 0, 0, 0); question(m, "a.example", 1); feed(&f, s, 0, m);
    hdr(m, 2, 0x0100, 1, 0, 0, 0); question(m, "b.example", 28); feed(&f, s, 0, m);
    hdr(m, 3, 0x0100, 1, 0, 0, 0); question(m, "c.example", 1); feed(&f, s, 0, m);
    /* response to 2 first (out of order), case differs */
    hdr(m, 2, 0x8183, 1, 0, 0, 0); question(m, "B.EXAMPLE", 28); feed(&f, s, 1, m);
    /* id 1 but another name: not a match */
    hdr(m, 1, 0x8180, 1, 0, 0, 0); question(m, "zzz.example", 1); feed(&f, s, 1, m);
    /* id 1, right question */
    hdr(m, 1, 0x8180, 1, 0, 0, 0); question(m, "a.example", 1); feed(&f, s, 1, m);
    expect("\"rcode\":\"NXDOMAIN\"", 1);
    assert_int_equal(g_nq, 3);
    assert_int_equal(g_na, 3);
    assert_true(g_evs[3].matched);
    assert_int_equal(g_evs[3].rcode, 3);
    assert_string_equal(g_evs[3].qname, "b.example");
    assert_false(g_evs[4].matched);
    assert_true(g_evs[5].matched);
    /* c.example is unanswered: published at flow end, no extra EVE line */
    end_state(&f, s);
    assert_int_equal(g_nun, 1);
    assert_int_equal(g_evs[6].kind, BF_DNS_KIND_UNANSWERED);
    assert_string_equal(g_evs[6].qname, "c.example");
    assert_int_equal(g_evs[6].id, 3);
    expect("\"event_type\":\"dns\"", 6);
    free(m);
}

static void test_pending_cap(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    uint64_t ev0 = bf_dns_stats_get()->pending_evicted;
    for (unsigned i = 0; i < 300; i++) {
        char n[32];
        snprintf(n, sizeof n, "q%u.example", i);
        hdr(m, i, 0x0100, 1, 0, 0, 0);
        question(m, n, 1);
        feed(&f, s, 0, m);
    }
    assert_int_equal(bf_dns_stats_get()->pending_evicted - ev0, 44);
    assert_int_equal(g_nun, 44);
    assert_true(f.app_mem < 300 * 400);
    end_state(&f, s);
    assert_int_equal(g_nun, 300);
    free(m);
}

static void test_direction_flags(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    mb *m = calloc(1, sizeof *m);
    /* a response sent to the server: not_request, not logged */
    hdr(m, 1, 0x8180, 1, 0, 0, 0); question(m, "x.example", 1); feed(&f, s, 0, m);
    /* a query sent to the client: not_response, logged as response */
    hdr(m, 2, 0x0100, 1, 0, 0, 0); question(m, "y.example", 1); feed(&f, s, 1, m);
    /* Z flag and an unassigned opcode */
    hdr(m, 3, 0x1940, 1, 0, 0, 0); question(m, "z.example", 1); feed(&f, s, 0, m);
    /* too short */
    hdr(m, 4, 0x0100, 0, 0, 0, 0); m->n = 11; feed(&f, s, 0, m);
    expect("\"event\":\"not_request\"", 1);
    expect("\"event\":\"not_response\"", 1);
    expect("\"event\":\"z_flag_set\"", 1);
    expect("\"event\":\"invalid_opcode\"", 1);
    expect("\"event\":\"malformed_data\"", 1);
    expect("\"event_type\":\"dns\"", 2);
    expect("\"z\":true,\"opcode\":3", 1);
    end_state(&f, s);
    free(m);
}

/* ------------------------------------------------------------------ */
/* pcap replay                                                         */

typedef struct pflow {
    bool used, tcp;
    bf_flow f;
    void *st;
    uint32_t next[2];
    bool seq_known[2];
} pflow;

#define PFLOWS 4096
static pflow *g_pf;
static unsigned g_npf;
static unsigned g_msgs;

static pflow *pf_get(uint8_t proto, int ipver, const uint8_t *sa, const uint8_t *da, uint16_t sp,
                     uint16_t dp, int *dir)
{
    size_t al = ipver == 4 ? 4 : 16;
    for (unsigned i = 0; i < g_npf; i++) {
        pflow *x = &g_pf[i];
        if (x->f.proto != proto || x->f.ipver != ipver)
            continue;
        if (!memcmp(x->f.addr[0].b, sa, al) && !memcmp(x->f.addr[1].b, da, al) &&
            x->f.port[0] == sp && x->f.port[1] == dp) {
            *dir = 0;
            return x;
        }
        if (!memcmp(x->f.addr[0].b, da, al) && !memcmp(x->f.addr[1].b, sa, al) &&
            x->f.port[0] == dp && x->f.port[1] == sp) {
            *dir = 1;
            return x;
        }
    }
    if (g_npf >= PFLOWS)
        return NULL;
    pflow *x = &g_pf[g_npf++];
    memset(x, 0, sizeof *x);
    /* the server is the side on a DNS port */
    bool rev = (sp == 53 || sp == 5353 || sp == 5355) && !(dp == 53 || dp == 5353 || dp == 5355);
    x->f.proto = proto;
    x->f.ipver = (uint8_t)ipver;
    x->f.flow_id = g_npf;
    memcpy(x->f.addr[0].b, rev ? da : sa, al);
    memcpy(x->f.addr[1].b, rev ? sa : da, al);
    x->f.port[0] = rev ? dp : sp;
    x->f.port[1] = rev ? sp : dp;
    x->tcp = proto == 6;
    x->st = bf_parser_dns.state_new(&g_ctx, &x->f);
    *dir = rev ? 1 : 0;
    return x;
}

static void pcap_packet(u_char *ud, const struct pcap_pkthdr *h, const u_char *d)
{
    int dlt = *(int *)ud;
    uint32_t n = h->caplen, off = 0;
    uint16_t et = 0;
    if (dlt == DLT_EN10MB) {
        if (n < 14)
            return;
        et = (uint16_t)(d[12] << 8 | d[13]);
        off = 14;
        while ((et == 0x8100 || et == 0x88a8) && off + 4 <= n) {
            et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
            off += 4;
        }
    } else if (dlt == DLT_LINUX_SLL) {
        if (n < 16)
            return;
        et = (uint16_t)(d[14] << 8 | d[15]);
        off = 16;
    } else if (dlt == DLT_RAW || dlt == 101) {
        et = n && (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
    } else if (dlt == DLT_NULL) {
        if (n < 4)
            return;
        et = (d[0] == 2 || d[3] == 2) ? 0x0800 : 0x86dd;
        off = 4;
    } else {
        return;
    }
    const uint8_t *ip = d + off, *sa, *da;
    uint32_t il = n - off, hl;
    uint8_t proto;
    int ipver;
    if (et == 0x0800) {
        if (il < 20 || (ip[0] >> 4) != 4)
            return;
        hl = (ip[0] & 15u) * 4;
        uint32_t tl = (uint32_t)(ip[2] << 8 | ip[3]);
        if (hl < 20 || tl < hl || il < hl)
            return;
        if (tl < il)
            il = tl;
        if ((ip[6] & 0x3f) || ip[7])
            return; /* fragment */
        proto = ip[9];
        sa = ip + 12;
        da = ip + 16;
        ipver = 4;
    } else if (et == 0x86dd) {
        if (il < 40)
            return;
        hl = 40;
        proto = ip[6];
        uint32_t pl = (uint32_t)(ip[4] << 8 | ip[5]);
        if (pl + 40 < il)
            il = pl + 40;
        sa = ip + 8;
        da = ip + 24;
        ipver = 6;
    } else {
        return;
    }
    const uint8_t *l4 = ip + hl;
    uint32_t l4n = il - hl;
    uint16_t sp, dp;
    const uint8_t *pay;
    uint32_t pn;
    uint8_t tflags = 0;
    uint32_t seq = 0;
    if (proto == 17) {
        if (l4n < 8)
            return;
        sp = (uint16_t)(l4[0] << 8 | l4[1]);
        dp = (uint16_t)(l4[2] << 8 | l4[3]);
        pay = l4 + 8;
        pn = l4n - 8;
    } else if (proto == 6) {
        if (l4n < 20)
            return;
        sp = (uint16_t)(l4[0] << 8 | l4[1]);
        dp = (uint16_t)(l4[2] << 8 | l4[3]);
        seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
        uint32_t th = (l4[12] >> 4) * 4u;
        tflags = l4[13];
        if (th < 20 || th > l4n)
            return;
        pay = l4 + th;
        pn = l4n - th;
    } else {
        return;
    }
    bool dnsport = sp == 53 || dp == 53 || sp == 5353 || dp == 5353 || sp == 5355 || dp == 5355;
    if (!dnsport)
        return;
    int dir;
    pflow *x = pf_get(proto, ipver, sa, da, sp, dp, &dir);
    if (!x)
        return;
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ts = (bf_ts)h->ts.tv_sec * BF_SEC + (bf_ts)h->ts.tv_usec;
    p.ipver = (uint8_t)ipver;
    p.proto = proto;
    memcpy(p.src.b, sa, ipver == 4 ? 4 : 16);
    memcpy(p.dst.b, da, ipver == 4 ? 4 : 16);
    p.sp = sp;
    p.dp = dp;
    p.dir = (uint8_t)dir;
    p.pcap_cnt = 1;
    x->f.last = p.ts;
    if (proto == 17) {
        if (pn) {
            bf_parser_dns.parse(&g_ctx, &x->f, x->st, &p, dir, pay, pn, 0);
            g_msgs++;
        }
        return;
    }
    if (tflags & 0x02) { /* SYN */
        x->next[dir] = seq + 1;
        x->seq_known[dir] = true;
        return;
    }
    if (!pn)
        return;
    if (!x->seq_known[dir]) {
        x->next[dir] = seq;
        x->seq_known[dir] = true;
    }
    int32_t diff = (int32_t)(seq - x->next[dir]);
    if (diff < 0)
        return; /* retransmission */
    bf_parser_dns.parse(&g_ctx, &x->f, x->st, &p, dir, pay, pn, (uint32_t)diff);
    x->next[dir] = seq + pn;
    g_msgs++;
}

static bool replay(const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, eb);
    if (!pc)
        return false;
    int dlt = pcap_datalink(pc);
    pcap_loop(pc, -1, pcap_packet, (u_char *)&dlt);
    pcap_close(pc);
    for (unsigned i = 0; i < g_npf; i++) {
        end_state(&g_pf[i].f, g_pf[i].st);
    }
    g_npf = 0;
    return true;
}

static void replay_dir(const char *dir, unsigned *files)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find %s -name '*.pcap' -o -name '*.pcapng' 2>/dev/null | sort", dir);
    FILE *fp = popen(cmd, "r");
    if (!fp)
        return;
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = 0;
        if (replay(line))
            (*files)++;
    }
    pclose(fp);
}

static void test_pcaps(void **st)
{
    (void)st;
    struct stat sb;
    if (stat("/work/shared", &sb) != 0) {
        skip();
        return;
    }
    g_pf = calloc(PFLOWS, sizeof *g_pf);
    const char *sv = "/work/shared/suricata-verify/tests";
    char p[512];

    /* suricata-verify dns/bug-990: one unanswered UDP request */
    snprintf(p, sizeof p, "%s/dns/bug-990/input.pcap", sv);
    if (replay(p)) {
        expect("\"dns\":{\"version\":3,\"type\":\"request\",\"tx_id\":0,\"id\":28390,", 1);
        expect("\"queries\":[{\"rrname\":\"code.msdn.microsoft.com\",\"rrtype\":\"A\"}]", 1);
        expect("\"src_ip\":\"192.168.69.156\",\"src_port\":49379,\"dest_ip\":\"192.38.129.234\","
               "\"dest_port\":53,\"proto\":\"UDP\"",
               1);
        assert_int_equal(g_nun, 1);
    }
    /* task-7018: DNS over TCP, three requests and three responses */
    snprintf(p, sizeof p, "%s/dns/task-7018-ids-dns-keywords/input.pcap", sv);
    if (replay(p)) {
        expect("\"rrname\":\"suricata.io\",\"rrtype\":\"A\",\"ttl\":490,\"rdata\":\"35.212.0.44\"", 1);
        expect("\"grouped\":{\"A\":[\"192.0.78.190\",\"192.0.78.209\"]}", 1);
        expect("\"grouped\":{\"A\":[\"15.197.148.33\",\"3.33.130.190\"]}", 1);
        expect("\"type\":\"request\",\"tx_id\":4,\"id\":0,", 1);
        expect("\"type\":\"response\",\"tx_id\":5,\"id\":0,\"flags\":\"8180\"", 1);
    }
    /* dns-incomplete: a request split over two segments */
    snprintf(p, sizeof p, "%s/dns/dns-incomplete/input.pcap", sv);
    if (replay(p))
        expect("\"type\":\"request\",\"tx_id\":2,\"id\":4146,\"flags\":\"100\",\"rd\":true,"
               "\"opcode\":0,\"rcode\":\"NOERROR\",\"queries\":[{\"rrname\":\"google.com\"",
               1);
    /* issue-4759: 4 DNS events over TCP */
    int before = 0;
    {
        char *t = eve_text();
        before = count_str(t, "\"event_type\":\"dns\"");
        free(t);
    }
    snprintf(p, sizeof p, "%s/issues/issue-4759.1/tcpdns.pcap", sv);
    if (replay(p))
        expect("\"event_type\":\"dns\"", before + 4);
    snprintf(p, sizeof p, "%s/bug-5197/input.pcap", sv);
    if (replay(p))
        expect("\"rdata\":\"1234567890ABCDEFGHIJKLMNO \"", 1);

    /* every DNS packet of the Zeek traces: no crash, schema-valid output */
    unsigned files = 0;
    replay_dir("/work/shared/captures/zeek-traces/dns", &files);
    char pat[] = "/work/shared/captures/zeek-traces";
    {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "ls %s/dns*.pcap %s/dnssec/*.pcap 2>/dev/null", pat, pat);
        FILE *fp = popen(cmd, "r");
        char line[1024];
        while (fp && fgets(line, sizeof line, fp)) {
            line[strcspn(line, "\n")] = 0;
            if (replay(line))
                files++;
        }
        if (fp)
            pclose(fp);
    }
    fprintf(stderr, "pcaps: %u files, %u DNS payloads, %d bus events\n", files, g_msgs, g_nev);
    assert_true(files > 10);
    assert_true(g_msgs > 100);
    free(g_pf);
}

/* ------------------------------------------------------------------ */
/* EVE DNS version 2                                                   */

static int setup_v2(void **st)
{
    g_opts.dns_version = 2;
    g_opts.dns_formats = 0;
    return setup(st);
}

static int teardown_v2(void **st)
{
    int r = teardown(st);
    g_opts.dns_version = 0;
    g_opts.dns_formats = 0;
    return r;
}

/* A request with two questions: one "query" event per question (same
 * tx_id); the response: one "answer" event, in the flow's orientation. */
static void test_v2_query_answer(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 17);
    void *s = new_state(&f);
    tx_subscribe();
    mb *m = calloc(1, sizeof *m);
    hdr(m, 0x1234, 0x0140, 2, 0, 0, 0);   /* rd, z */
    question(m, "WWW.Example.com", 1);
    question(m, "www.example.com", 28);
    feed(&f, s, 0, m);

    hdr(m, 0x1234, 0x8580, 1, 3, 1, 1);   /* qr aa rd ra */
    question(m, "WWW.Example.com", 1);
    rr_start(m, 5, 300);
    uint32_t at = rd_begin(m);
    uint32_t cname_off = m->n;
    name(m, "web.example.net");
    rd_end(m, at);
    u16(m, 0xc000 | cname_off); u16(m, 1); u16(m, 1); u32(m, 60);
    at = rd_begin(m); raw(m, "\x5d\xb8\xd8\x22", 4); rd_end(m, at);
    u16(m, 0xc000 | cname_off); u16(m, 1); u16(m, 1); u32(m, 30);
    at = rd_begin(m); raw(m, "\x01\x02\x03\x04", 4); rd_end(m, at);
    rr_start(m, 6, 3600); at = rd_begin(m); name(m, "ns1.example.com");
    name(m, "hostmaster.example.com"); u32(m, 1); u32(m, 2); u32(m, 3); u32(m, 4); u32(m, 5);
    rd_end(m, at);
    rr_start(m, 1, 50); at = rd_begin(m); raw(m, "\x0a\x00\x00\x01", 4); rd_end(m, at);
    feed(&f, s, 1, m);

    expect("\"event_type\":\"dns\"", 3);
    expect("\"dns\":{\"version\":2,\"type\":\"query\",\"id\":4660,\"rrname\":\"WWW.Example.com\","
           "\"rrtype\":\"A\",\"tx_id\":0,\"z\":true,\"opcode\":0}",
           1);
    expect("\"dns\":{\"version\":2,\"type\":\"query\",\"id\":4660,\"rrname\":\"www.example.com\","
           "\"rrtype\":\"AAAA\",\"tx_id\":0,\"z\":true,\"opcode\":0}",
           1);
    expect("\"dns\":{\"version\":2,\"type\":\"answer\",\"id\":4660,\"flags\":\"8580\",\"qr\":true,"
           "\"aa\":true,\"rd\":true,\"ra\":true,\"opcode\":0,\"rrname\":\"WWW.Example.com\","
           "\"rrtype\":\"A\",\"rcode\":\"NOERROR\",\"answers\":[{\"rrname\":\"WWW.Example.com\","
           "\"rrtype\":\"CNAME\",\"ttl\":300,\"rdata\":\"web.example.net\"},{\"rrname\":"
           "\"web.example.net\",\"rrtype\":\"A\",\"ttl\":60,\"rdata\":\"93.184.216.34\"},"
           "{\"rrname\":\"web.example.net\",\"rrtype\":\"A\",\"ttl\":30,\"rdata\":\"1.2.3.4\"}],"
           "\"grouped\":{\"CNAME\":[\"web.example.net\"],\"A\":[\"93.184.216.34\",\"1.2.3.4\"]},"
           "\"authorities\":[{\"rrname\":\"WWW.Example.com\",\"rrtype\":\"SOA\",\"ttl\":3600,"
           "\"soa\":{\"mname\":\"ns1.example.com\",\"rname\":\"hostmaster.example.com\","
           "\"serial\":1,\"refresh\":2,\"retry\":3,\"expire\":4,\"minimum\":5}}],"
           "\"additionals\":[{\"rrname\":\"WWW.Example.com\",\"rrtype\":\"A\",\"ttl\":50,"
           "\"rdata\":\"10.0.0.1\"}]}",
           1);
    /* every dns event in the flow's orientation (client 10.0.0.1) */
    expect("\"src_ip\":\"10.0.0.1\",\"src_port\":40000,\"dest_ip\":\"10.0.0.53\","
           "\"dest_port\":53",
           3 + 2 /* the test's alerts */ + 1 /* z_flag_set anomaly */);
    expect("\"src_ip\":\"10.0.0.53\"", 0);
    expect("\"queries\"", 2);      /* alert metadata stays version 3 */
    expect("\"version\":3", 2);
    expect("\"type\":\"request\"", 1);
    expect("\"type\":\"response\"", 1);
    /* the bus events do not depend on the EVE format */
    assert_int_equal(g_nq, 1);
    assert_int_equal(g_na, 1);
    assert_true(g_evs[1].matched);
    assert_int_equal(g_evs[1].nanswers, 3);

    /* a response without questions: no v2 event (as Suricata) */
    hdr(m, 0x4321, 0x8183, 0, 0, 0, 0);
    feed(&f, s, 1, m);
    expect("\"event_type\":\"dns\"", 3);
    /* NXDOMAIN with no answers: no answers / grouped */
    hdr(m, 0x5555, 0x0100, 1, 0, 0, 0);
    question(m, "nx.example.com", 16);
    feed(&f, s, 0, m);
    hdr(m, 0x5555, 0x8183, 1, 0, 0, 0);
    question(m, "nx.example.com", 16);
    feed(&f, s, 1, m);
    expect("\"type\":\"answer\",\"id\":21845,\"flags\":\"8183\",\"qr\":true,\"rd\":true,"
           "\"ra\":true,\"opcode\":0,\"rrname\":\"nx.example.com\",\"rrtype\":\"TXT\","
           "\"rcode\":\"NXDOMAIN\"}}",
           1);
    expect("\"type\":\"query\",\"id\":21845,\"rrname\":\"nx.example.com\",\"rrtype\":\"TXT\","
           "\"tx_id\":3,\"opcode\":0}",
           1);
    end_state(&f, s);
    free(m);
}

/* Record types of the answer section in both formats, and the formats
 * option (detailed only, grouped only); every line schema-valid. */
static void test_v2_formats(void **st)
{
    (void)st;
    bf_flow f;
    flow_init(&f, 6);
    mb *m = calloc(1, sizeof *m);
    hdr(m, 9, 0x8180, 1, 6, 0, 1);
    question(m, "example.org", 255);
    uint32_t at;
    rr_start(m, 15, 100); at = rd_begin(m); u16(m, 10); name(m, "mx.example.org"); rd_end(m, at);
    rr_start(m, 33, 100); at = rd_begin(m); u16(m, 1); u16(m, 5); u16(m, 5060);
    name(m, "sip.example.org"); rd_end(m, at);
    rr_start(m, 16, 100); at = rd_begin(m); u8(m, 5); raw(m, "hello", 5); rd_end(m, at);
    rr_start(m, 44, 100); at = rd_begin(m); u8(m, 1); u8(m, 2); raw(m, "\xab\xcd", 2);
    rd_end(m, at);
    rr_start(m, 28, 100); at = rd_begin(m);
    raw(m, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
    rd_end(m, at);
    rr_start(m, 46, 100); at = rd_begin(m); raw(m, "sig", 3); rd_end(m, at);
    u8(m, 0); u16(m, 41); u16(m, 1232); u32(m, 0); at = rd_begin(m); u16(m, 10); u16(m, 2);
    raw(m, "\x01\x02", 2); rd_end(m, at);

    static const uint8_t fm[3] = {0, BF_EVE_DNS_DETAILED, BF_EVE_DNS_GROUPED};
    for (int i = 0; i < 3; i++) {
        g_opts.dns_formats = fm[i];
        void *s = new_state(&f);
        bf_packet p;
        pkt_init(&p, &f, 1);
        bf_dns_parse_message(&g_ctx, &f, s, &p, 1, m->b, m->n);
        end_state(&f, s);
    }
    expect("\"type\":\"answer\"", 3);
    expect("\"rrtype\":\"ANY\",\"rcode\":\"NOERROR\",\"answers\":[", 2);
    expect("\"grouped\":{\"MX\":[\"mx.example.org\"],\"SRV\":[{\"priority\":1,\"weight\":5,"
           "\"port\":5060,\"name\":\"sip.example.org\"}],\"TXT\":[\"hello\"],\"SSHFP\":[{"
           "\"fingerprint\":\"ab:cd\",\"algo\":1,\"type\":2}],\"AAAA\":[\"2001:0db8:0000:0000:"
           "0000:0000:0000:0001\"]}",
           2);
    expect("{\"rrname\":\"example.org\",\"rrtype\":\"RRSIG\",\"ttl\":100}", 2);
    expect("\"additionals\":[{\"rrname\":\"\",\"rrtype\":\"OPT\",\"ttl\":0,\"opt\":[{\"code\":10,"
           "\"data\":\"0102\"}]}]",
           3);
    expect("\"rrtype\":\"ANY\",\"rcode\":\"NOERROR\",\"grouped\"", 1);
    expect("\"rrtype\":\"ANY\",\"rcode\":\"NOERROR\",\"answers\":[{\"rrname\":\"example.org\","
           "\"rrtype\":\"MX\"",
           2);
    free(m);
}

/* outputs.eve.dns.version / formats, Suricata's eve-log layout, and the
 * SURICATA_EVE_DNS_VERSION environment variable (which wins). */
static void test_v2_config(void **st)
{
    (void)st;
    char err[256];
    bf_engine_cfg c;
    unsetenv("SURICATA_EVE_DNS_VERSION");

    bf_config *cfg = bf_config_new();
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_int_equal(c.eve.dns_version, 3);
    assert_int_equal(c.eve.dns_formats, BF_EVE_DNS_DETAILED | BF_EVE_DNS_GROUPED);
    assert_int_equal(bf_config_set(cfg, "outputs.eve.dns.version=2", err, sizeof err), 0);
    assert_int_equal(bf_config_set(cfg, "outputs.eve.dns.formats=grouped", err, sizeof err), 0);
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_int_equal(c.eve.dns_version, 2);
    assert_int_equal(c.eve.dns_formats, BF_EVE_DNS_GROUPED);
    assert_true(bf_config_ok(cfg));
    bf_config_free(cfg);

    cfg = bf_config_new();
    static const char yaml[] = "outputs:\n"
                               "  - fast:\n"
                               "      enabled: yes\n"
                               "  - eve-log:\n"
                               "      enabled: yes\n"
                               "      types:\n"
                               "        - alert\n"
                               "        - dns:\n"
                               "            version: 2\n"
                               "            formats: [detailed]\n";
    assert_int_equal(bf_config_load_string(cfg, yaml, "test", err, sizeof err), 0);
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_int_equal(c.eve.dns_version, 2);
    assert_int_equal(c.eve.dns_formats, BF_EVE_DNS_DETAILED);
    assert_true(bf_config_ok(cfg));

    setenv("SURICATA_EVE_DNS_VERSION", "3", 1);
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_int_equal(c.eve.dns_version, 3);
    setenv("SURICATA_EVE_DNS_VERSION", "7", 1);   /* ignored with a warning */
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_int_equal(c.eve.dns_version, 2);
    assert_true(bf_config_ok(cfg));
    unsetenv("SURICATA_EVE_DNS_VERSION");
    bf_config_free(cfg);

    /* bad values are configuration errors */
    cfg = bf_config_new();
    assert_int_equal(bf_config_set(cfg, "outputs.eve.dns.version=1", err, sizeof err), 0);
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_false(bf_config_ok(cfg));
    assert_int_equal(c.eve.dns_version, 3);
    bf_config_free(cfg);
    cfg = bf_config_new();
    assert_int_equal(bf_config_set(cfg, "outputs.eve.dns.formats=compact", err, sizeof err), 0);
    bf_engine_cfg_default(&c);
    bf_engine_cfg_load(&c, cfg);
    assert_false(bf_config_ok(cfg));
    bf_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),
        cmocka_unit_test_setup_teardown(test_udp_query_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rr_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direction_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_unwanted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_query_answer, setup_v2, teardown_v2),
        cmocka_unit_test_setup_teardown(test_v2_formats, setup_v2, teardown_v2),
        cmocka_unit_test(test_v2_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
