/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/http: the libhtp-driven analyzer called directly (no
 * decode/stream), its EVE http/fileinfo/anomaly lines checked for content
 * and against Suricata's EVE schema, its bus events and its memory
 * accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/http/http.h"
#include "app/tx.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

/* ---- harness ----------------------------------------------------------- */

typedef struct cap {
    int n;
    bf_http_tx last;
    char method[32], uri[256], host[128], ua[128], ctype[64];
    uint64_t tx_ids[16];
} cap;

/* One BF_BUS_TX view, deep-copied. */
typedef struct txrec {
    uint64_t tx_id;
    int dir;
    bool done[2], body_final[2];
    bool has_pkt;
    char *buf[BF_DBUF_MAX];     /* NUL-terminated copies, NULL: absent */
    uint32_t len[BF_DBUF_MAX];
    char *meta;                 /* log_meta output */
} txrec;

#define MAXREC 64

typedef struct h {
    char path[128];
    bf_eve_sink *sink;
    bf_eve_opts opts;
    bf_eve eve;
    bf_bus bus;
    bf_app_ctx ctx;
    bf_flow f;
    void *st;
    bf_ts ts;
    uint64_t cnt;
    cap req, res;
    char *out;      /* EVE text after finish() */
    txrec rec[MAXREC];
    int nrec;
} h;

static void on_tx(void *ud, const bf_bus_msg *m)
{
    h *x = ud;
    const bf_tx_view *v = m->data;
    assert_int_equal(v->app_proto, BF_APP_HTTP);
    if (x->nrec >= MAXREC)
        return;
    txrec *r = &x->rec[x->nrec++];
    r->tx_id = v->tx_id;
    r->dir = v->dir;
    r->done[0] = v->done[0];
    r->done[1] = v->done[1];
    r->body_final[0] = v->body_final[0];
    r->body_final[1] = v->body_final[1];
    r->has_pkt = m->pkt != NULL;
    for (int i = 0; i < BF_DBUF_MAX; i++) {
        if (!v->bufs[i].n)
            continue;
        assert_int_equal(v->bufs[i].n, 1);
        r->len[i] = v->bufs[i].v[0].len;
        r->buf[i] = malloc(r->len[i] + 1);
        memcpy(r->buf[i], v->bufs[i].v[0].p, r->len[i]);
        r->buf[i][r->len[i]] = 0;
    }
    if (v->log_meta) {
        bf_json j;
        bf_json_init(&j, 256);
        bf_json_open_obj(&j, NULL);
        v->log_meta(v->log_ud, &j);
        bf_json_close_obj(&j);
        r->meta = strndup(j.buf, j.len);
        bf_json_free(&j);
    }
}

static void cpy(char *dst, size_t cap_, bf_http_str s)
{
    size_t n = s.ptr ? BF_MIN((size_t)s.len, cap_ - 1) : 0;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

static void on_msg(void *ud, const bf_bus_msg *m)
{
    cap *c = ud;
    const bf_http_tx *t = m->data;
    if (c->n < 16)
        c->tx_ids[c->n] = t->tx_id;
    c->n++;
    c->last = *t;
    cpy(c->method, sizeof c->method, t->method);
    cpy(c->uri, sizeof c->uri, t->uri);
    cpy(c->host, sizeof c->host, t->host);
    cpy(c->ua, sizeof c->ua, t->user_agent);
    cpy(c->ctype, sizeof c->ctype, t->resp_content_type);
    memset(&c->last.method, 0, sizeof c->last.method); /* pointers die after the callback */
}

static h *start(void)
{
    h *x = calloc(1, sizeof *x);
    snprintf(x->path, sizeof x->path, "/tmp/bf_test_http_%d_XXXXXX", (int)getpid());
    int fd = mkstemp(x->path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    x->sink = bf_eve_sink_open(x->path, err, sizeof err);
    assert_non_null(x->sink);
    x->opts.anomaly_events = true;
    x->opts.flow_events = true;
    bf_eve_init(&x->eve, x->sink, &x->opts);
    bf_bus_init(&x->bus);
    bf_bus_subscribe(&x->bus, BF_BUS_HTTP_REQUEST, on_msg, &x->req);
    bf_bus_subscribe(&x->bus, BF_BUS_HTTP_RESPONSE, on_msg, &x->res);
    bf_bus_subscribe(&x->bus, BF_BUS_TX, on_tx, x);
    x->ctx.eve = &x->eve;
    x->ctx.bus = &x->bus;
    x->ctx.ft = NULL;
    x->ts = 1700000000ULL * BF_SEC;
    bf_flow *f = &x->f;
    f->proto = 6;
    f->ipver = 4;
    bf_addr_parse("10.0.0.1", &f->addr[0]);
    bf_addr_parse("10.0.0.2", &f->addr[1]);
    f->port[0] = 40000;
    f->port[1] = 80;
    f->flow_id = 1234567;
    f->start = f->last = x->ts;
    f->app_proto = BF_APP_HTTP;
    x->st = bf_parser_http.state_new(&x->ctx, f);
    assert_non_null(x->st);
    assert_true(f->app_mem > 0);
    return x;
}

/* Feeds one direction in chunks of `step` bytes (0: all at once). */
static void feed(h *x, int dir, const void *data, size_t len, size_t step)
{
    const uint8_t *d = data;
    if (!step)
        step = len;
    for (size_t off = 0; off < len; off += step) {
        size_t n = BF_MIN(step, len - off);
        bf_packet p;
        memset(&p, 0, sizeof p);
        x->ts += 1000;
        p.ts = x->ts;
        p.pcap_cnt = ++x->cnt;
        p.ipver = 4;
        p.proto = 6;
        p.flow = &x->f;
        p.dir = (uint8_t)dir;
        p.src = x->f.addr[dir];
        p.dst = x->f.addr[dir ^ 1];
        p.sp = x->f.port[dir];
        p.dp = x->f.port[dir ^ 1];
        x->f.last = p.ts;
        bf_parser_http.parse(&x->ctx, &x->f, x->st, &p, dir, d + off, (uint32_t)n, 0);
    }
}
#define FEEDS(x, dir, s, step) feed(x, dir, s, sizeof(s) - 1, step)

static void gap(h *x, int dir, uint32_t n)
{
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ts = (x->ts += 1000);
    p.pcap_cnt = ++x->cnt;
    p.flow = &x->f;
    p.dir = (uint8_t)dir;
    bf_parser_http.parse(&x->ctx, &x->f, x->st, &p, dir, NULL, 0, n);
}

static const char *schema_path(void)
{
    static char buf[512];
    const char *e = getenv("BF_SHARED");
    if (e) {
        snprintf(buf, sizeof buf, "%s/suricata-eve-schema/schema.json", e);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    e = getenv("BF_SRC");
    if (e) {
        snprintf(buf, sizeof buf, "%s/../shared/suricata-eve-schema/schema.json", e);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    if (access("/work/shared/suricata-eve-schema/schema.json", R_OK) == 0)
        return "/work/shared/suricata-eve-schema/schema.json";
    return NULL;
}

static bool g_skip_validate;

static void validate(const char *path)
{
    if (g_skip_validate)
        return;
    const char *schema = schema_path();
    assert_non_null(schema);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import json, sys, jsonschema\n"
             "s = json.load(open(sys.argv[1]))\n"
             "V = jsonschema.validators.validator_for(s)\n"
             "v = V(s)\n"
             "bad = 0\n"
             "for n, line in enumerate(open(sys.argv[2]), 1):\n"
             "    ev = json.loads(line)\n"
             "    for e in v.iter_errors(ev):\n"
             "        bad += 1\n"
             "        print(\"line %%d: %%s at %%s\" %% (n, e.message, list(e.path)))\n"
             "sys.exit(1 if bad else 0)\n"
             "' '%s' '%s'",
             schema, path);
    int rc = system(cmd);
    assert_int_equal(rc, 0);
}

/* Ends the flow, frees the state, checks memory went back to zero,
 * validates the EVE lines and loads them into x->out. */
static void finish(h *x)
{
    bf_parser_http.flow_end(&x->ctx, &x->f, x->st);
    bf_parser_http.state_free(&x->ctx, &x->f, x->st);
    x->st = NULL;
    assert_int_equal(x->f.app_mem, 0);
    bf_eve_fini(&x->eve);
    bf_eve_sink_close(x->sink);
    FILE *fp = fopen(x->path, "r");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    x->out = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(x->out, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    if (getenv("BF_TEST_VERBOSE"))
        fputs(x->out, stderr);
    validate(x->path);
}

static void done(h *x)
{
    unlink(x->path);
    for (int i = 0; i < x->nrec; i++) {
        for (int k = 0; k < BF_DBUF_MAX; k++)
            free(x->rec[i].buf[k]);
        free(x->rec[i].meta);
    }
    free(x->out);
    free(x);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The line holding `a` must also hold `b`. */
static bool line_has(const char *out, const char *a, const char *b)
{
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        bool ok = strstr(line, a) && strstr(line, b);
        free(line);
        if (ok)
            return true;
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned int l = 0;
    EVP_Digest(d, n, md, &l, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* Buffer `id` of view `i` must be exactly `want` (NULL: absent). */
static void vbuf(h *x, int i, enum bf_dbuf_id id, const char *want)
{
    assert_true(i < x->nrec);
    const txrec *r = &x->rec[i];
    if (!want) {
        if (r->buf[id])
            fprintf(stderr, "view %d buffer %d: unexpected \"%s\"\n", i, (int)id, r->buf[id]);
        assert_null(r->buf[id]);
        return;
    }
    if (!r->buf[id] || r->len[id] != strlen(want) || memcmp(r->buf[id], want, r->len[id]))
        fprintf(stderr, "view %d buffer %d: got \"%s\" want \"%s\"\n", i, (int)id,
                r->buf[id] ? r->buf[id] : "(absent)", want);
    assert_non_null(r->buf[id]);
    assert_int_equal(r->len[id], strlen(want));
    assert_memory_equal(r->buf[id], want, r->len[id]);
}

static void vstate(h *x, int i, uint64_t tx_id, int dir, bool d0, bool d1)
{
    assert_true(i < x->nrec);
    assert_int_equal(x->rec[i].tx_id, tx_id);
    assert_int_equal(x->rec[i].dir, dir);
    assert_int_equal(x->rec[i].done[0], d0);
    assert_int_equal(x->rec[i].done[1], d1);
}

/* ---- tests ------------------------------------------------------------- */

static const char REQ1[] = "GET /dir/index.html?q=1 HTTP/1.1\r\n"
                           "Host: www.Mairie-Exemple.fr:8080\r\n"
                           "User-Agent: Mozilla/5.0 (test)\r\n"
                           "Referer: http://www.mairie-exemple.fr/\r\n"
                           "\r\n";
static const char BODY1[] = "<html>hello city hall</html>";
static const char RES1[] = "HTTP/1.1 200 OK\r\n"
                           "Content-Type: text/html; charset=utf-8\r\n"
                           "Content-Length: 28\r\n"
                           "\r\n"
                           "<html>hello city hall</html>";

static void check_simple(h *x)
{
    const char *o = x->out;
    assert_int_equal(count(o, "\"event_type\":\"http\""), 1);
    /* libhtp keeps the Host header's case, and so does Suricata's EVE */
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"hostname\":\"www.Mairie-Exemple.fr\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"http_port\":8080"));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"url\":\"/dir/index.html?q=1\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"http_user_agent\":\"Mozilla/5.0 (test)\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"http_content_type\":\"text/html\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"http_refer\":\"http://www.mairie-exemple.fr/\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"http_method\":\"GET\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"protocol\":\"HTTP/1.1\""));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"status\":200"));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"length\":28"));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"tx_id\":0"));
    assert_true(line_has(o, "\"event_type\":\"http\"", "\"src_ip\":\"10.0.0.1\""));
    assert_false(line_has(o, "\"event_type\":\"http\"", "request_headers"));
    /* the response file */
    char sha[65], want[100];
    sha256_hex(BODY1, sizeof BODY1 - 1, sha);
    snprintf(want, sizeof want, "\"sha256\":\"%s\"", sha);
    assert_int_equal(count(o, "\"event_type\":\"fileinfo\""), 1);
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"filename\":\"/dir/index.html\""));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"size\":28"));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"state\":\"CLOSED\""));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"gaps\":false"));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"stored\":false"));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"app_proto\":\"http\""));
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", want));
    /* a response file goes server -> client */
    assert_true(line_has(o, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"10.0.0.2\""));
    /* bus */
    assert_int_equal(x->req.n, 1);
    assert_int_equal(x->res.n, 1);
    assert_string_equal(x->res.method, "GET");
    assert_string_equal(x->res.host, "www.Mairie-Exemple.fr");
    assert_string_equal(x->res.ua, "Mozilla/5.0 (test)");
    assert_string_equal(x->res.ctype, "text/html");
    assert_int_equal(x->res.last.status, 200);
    assert_int_equal(x->res.last.host_port, 8080);
    assert_int_equal(x->res.last.resp_body_len, 28);
    assert_true(x->res.last.req_headers_complete);
    assert_true(x->res.last.resp_complete);
    assert_true(x->res.last.req_start > 0 && x->res.last.req_start <= x->res.last.req_done);
    assert_true(x->res.last.req_done <= x->res.last.resp_done);
    assert_true(x->req.last.req_complete);
    assert_int_equal(x->req.last.status, 0);
}

static void test_simple_whole(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, REQ1, 0);
    FEEDS(x, 1, RES1, 0);
    finish(x);
    check_simple(x);
    done(x);
}

static void test_simple_split(void **state)
{
    (void)state;
    static const size_t steps[] = {1, 2, 3, 7, 13, 31};
    for (size_t i = 0; i < BF_ARRAY_LEN(steps); i++) {
        h *x = start();
        FEEDS(x, 0, REQ1, steps[i]);
        FEEDS(x, 1, RES1, steps[BF_ARRAY_LEN(steps) - 1 - i]);
        finish(x);
        check_simple(x);
        done(x);
    }
}

static void test_headers_option(void **state)
{
    (void)state;
    bf_http_cfg c;
    bf_http_cfg_default(&c);
    c.log_headers = true;
    bf_http_configure(&c);
    h *x = start();
    FEEDS(x, 0, REQ1, 0);
    FEEDS(x, 1, RES1, 0);
    finish(x);
    assert_true(line_has(x->out, "\"event_type\":\"http\"", "\"request_headers\":[{\"name\":\"Host\""));
    assert_true(line_has(x->out, "\"event_type\":\"http\"", "\"response_headers\":[{\"name\":\"Content-Type\""));
    bf_http_cfg_default(&c);
    bf_http_configure(&c);
    done(x);
}

static void test_pipelining(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0,
          "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
          "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
          "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
          5);
    assert_int_equal(x->req.n, 3);
    assert_int_equal(x->res.n, 0);
    FEEDS(x, 1,
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
          "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBB"
          "HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n",
          0);
    assert_int_equal(x->res.n, 3);
    assert_int_equal(x->res.tx_ids[0], 0);
    assert_int_equal(x->res.tx_ids[1], 1);
    assert_int_equal(x->res.tx_ids[2], 2);
    assert_int_equal(x->res.last.status, 302);
    assert_int_equal(x->res.last.req_body_len, 3);
    finish(x);
    const char *o = x->out;
    assert_int_equal(count(o, "\"event_type\":\"http\""), 3);
    assert_true(line_has(o, "\"url\":\"/a\"", "\"tx_id\":0"));
    assert_true(line_has(o, "\"url\":\"/b\"", "\"tx_id\":1"));
    assert_true(line_has(o, "\"url\":\"/b\"", "\"status\":404"));
    assert_true(line_has(o, "\"event_type\":\"http\",", "\"redirect\":\"/login\""));
    /* files: /a, /b response bodies and the POST body of /c */
    assert_int_equal(count(o, "\"event_type\":\"fileinfo\""), 3);
    assert_true(line_has(o, "\"filename\":\"/c\"", "\"size\":3"));
    assert_true(line_has(o, "\"filename\":\"/c\"", "\"tx_id\":2"));
    done(x);
}

static size_t gzip(const void *in, size_t n, uint8_t *out, size_t cap_)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap_;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t r = z.total_out;
    deflateEnd(&z);
    return r;
}

static void test_chunked_gzip(void **state)
{
    (void)state;
    char plain[4000];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = "Le conseil municipal se reunit ce soir. "[i % 40];
    uint8_t gz[8192];
    size_t gzn = gzip(plain, sizeof plain, gz, sizeof gz);
    /* chunked: three chunks of odd sizes */
    char res[16384];
    size_t r = (size_t)snprintf(res, sizeof res,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t cuts[] = {0, 7, gzn / 2, gzn};
    for (int i = 0; i < 3; i++) {
        size_t n = cuts[i + 1] - cuts[i];
        r += (size_t)snprintf(res + r, sizeof res - r, "%zx\r\n", n);
        memcpy(res + r, gz + cuts[i], n);
        r += n;
        memcpy(res + r, "\r\n", 2);
        r += 2;
    }
    r += (size_t)snprintf(res + r, sizeof res - r, "0\r\n\r\n");

    h *x = start();
    FEEDS(x, 0, "GET /news.txt HTTP/1.1\r\nHost: ville.fr\r\nAccept-Encoding: gzip\r\n\r\n", 0);
    feed(x, 1, res, r, 11);
    assert_int_equal(x->res.n, 1);
    assert_int_equal(x->res.last.resp_body_len, sizeof plain);
    /* libhtp's response_message_len (EVE length) counts the chunked framing */
    uint64_t mlen = x->res.last.resp_message_len;
    assert_true(mlen >= gzn && mlen < gzn + 64);
    finish(x);
    char sha[65], want[100], len[64];
    sha256_hex(plain, sizeof plain, sha);
    snprintf(want, sizeof want, "\"sha256\":\"%s\"", sha);
    snprintf(len, sizeof len, "\"length\":%llu", (unsigned long long)mlen);
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", want));
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"size\":4000"));
    assert_true(line_has(x->out, "\"event_type\":\"http\"", len));
    done(x);
}

static void test_post_content_disposition(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0,
          "POST /upload HTTP/1.1\r\nHost: intranet\r\n"
          "Content-Type: application/pdf\r\n"
          "Content-Disposition: attachment; filename=\"dossier patient.pdf\"\r\n"
          "Content-Length: 10\r\n\r\n0123456789",
          4);
    assert_int_equal(x->req.n, 1);
    assert_int_equal(x->req.last.req_body_len, 10);
    FEEDS(x, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0);
    finish(x);
    char sha[65], want[100];
    sha256_hex("0123456789", 10, sha);
    snprintf(want, sizeof want, "\"sha256\":\"%s\"", sha);
    assert_int_equal(count(x->out, "\"event_type\":\"fileinfo\""), 1);
    assert_true(line_has(x->out, "\"filename\":\"dossier patient.pdf\"", "\"size\":10"));
    assert_true(line_has(x->out, "\"filename\":\"dossier patient.pdf\"", want));
    /* a request file goes client -> server */
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"10.0.0.1\""));
    assert_true(line_has(x->out, "\"event_type\":\"http\"", "\"status\":201"));
    done(x);
}

static void test_head(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "HEAD /big.iso HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    FEEDS(x, 1,
          "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
          3);
    assert_int_equal(x->res.n, 2);
    finish(x);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 2);
    assert_true(line_has(x->out, "\"http_method\":\"HEAD\"", "\"length\":0"));
    assert_int_equal(count(x->out, "\"event_type\":\"fileinfo\""), 1);
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"filename\":\"/x\""));
    done(x);
}

static void test_100_continue(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0,
          "POST /login HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
          "Content-Length: 17\r\n\r\n",
          0);
    FEEDS(x, 1, "HTTP/1.1 100 Continue\r\n\r\n", 0);
    FEEDS(x, 0, "user=a&pass=b1234", 0);
    FEEDS(x, 1, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope", 2);
    assert_int_equal(x->res.n, 1);
    assert_int_equal(x->res.last.status, 401);
    assert_true(x->res.last.flags & BF_HTTP_TX_100_CONTINUE);
    /* the last view shows the final response, and the request body */
    assert_true(x->nrec >= 3);
    vstate(x, x->nrec - 1, 0, 1, true, true);
    vbuf(x, x->nrec - 1, BF_DBUF_HTTP_STAT_CODE, "401");
    vbuf(x, x->nrec - 1, BF_DBUF_HTTP_HEADER, "Content-Length: 4\r\n");
    vbuf(x, x->nrec - 1, BF_DBUF_FILE_DATA, "nope");
    vbuf(x, x->nrec - 1, BF_DBUF_HTTP_REQUEST_BODY, "user=a&pass=b1234");
    finish(x);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 1);
    assert_true(line_has(x->out, "\"event_type\":\"http\"", "\"status\":401"));
    done(x);
}

static void test_connect(void **state)
{
    (void)state;
    h *x = start();
    /* the client sends its TLS hello before the proxy answers */
    FEEDS(x, 0,
          "CONNECT secure.example:443 HTTP/1.1\r\nHost: secure.example:443\r\n\r\n"
          "\x16\x03\x01\x00\x05hello",
          0);
    FEEDS(x, 1, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02hi", 0);
    FEEDS(x, 0, "\x17\x03\x03\x00\x10 encrypted bytes", 0);
    FEEDS(x, 1, "\x17\x03\x03\x00\x10 encrypted bytes", 0);
    finish(x);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 1);
    assert_true(line_has(x->out, "\"http_method\":\"CONNECT\"", "\"status\":200"));
    assert_true(line_has(x->out, "\"http_method\":\"CONNECT\"", "\"url\":\"secure.example:443\""));
    done(x);
}

static void test_connect_refused(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0,
          "CONNECT secure.example:443 HTTP/1.1\r\nHost: secure.example:443\r\n\r\n"
          "GET /after HTTP/1.1\r\nHost: h\r\n\r\n",
          0);
    FEEDS(x, 1,
          "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          0);
    finish(x);
    assert_true(line_has(x->out, "\"http_method\":\"CONNECT\"", "\"status\":403"));
    assert_true(line_has(x->out, "\"url\":\"/after\"", "\"status\":200"));
    done(x);
}

static void test_upgrade(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello", 0);
    FEEDS(x, 0, "\x81\x85\x00\x00\x00\x00hello", 0);
    finish(x);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 1);
    assert_true(line_has(x->out, "\"event_type\":\"http\"", "\"status\":101"));
    done(x);
}

static void test_gap(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "GET /file.bin HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 0);
    gap(x, 1, 50);
    FEEDS(x, 1, "0123456789", 0); /* ignored: parsing stopped */
    FEEDS(x, 0, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    assert_int_equal(x->res.n, 1);
    assert_true(x->res.last.flags & BF_HTTP_TX_TRUNCATED);
    assert_true(x->res.last.flags & BF_HTTP_TX_GAP);
    assert_false(x->res.last.resp_complete);
    finish(x);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 1);
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"state\":\"TRUNCATED\""));
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"gaps\":true"));
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"size\":10"));
    assert_false(line_has(x->out, "\"event_type\":\"fileinfo\"", "sha256"));
    done(x);
}

static void test_slow_request(void **state)
{
    (void)state;
    /* slowloris: headers never finish; the request is still published at
     * flow end with req_headers_complete false */
    h *x = start();
    FEEDS(x, 0, "GET / HTTP/1.1\r\nHost: h\r\nX-a: b\r\n", 1);
    assert_int_equal(x->req.n, 0);
    finish(x);
    assert_int_equal(x->req.n, 1);
    assert_false(x->req.last.req_headers_complete);
    assert_true(x->req.last.req_start > 0);
    assert_int_equal(x->req.last.req_headers_done, 0);
    assert_int_equal(count(x->out, "\"event_type\":\"http\""), 1);
    done(x);
}

static void test_close_delimited(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "GET /old HTTP/1.0\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", 0);
    assert_int_equal(x->res.n, 0);
    finish(x);
    assert_int_equal(x->res.n, 1);
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"size\":11"));
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"state\":\"CLOSED\""));
    assert_true(line_has(x->out, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"10.0.0.2\""));
    done(x);
}

static void test_anomalies(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "GET /nohost HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0); /* no request */
    finish(x);
    assert_true(line_has(x->out, "\"event_type\":\"anomaly\"", "\"event\":\"MISSING_HOST_HEADER\""));
    assert_true(line_has(x->out, "\"event\":\"MISSING_HOST_HEADER\"", "\"type\":\"applayer\""));
    assert_true(line_has(x->out, "\"event\":\"MISSING_HOST_HEADER\"", "\"layer\":\"proto_parser\""));
    assert_true(line_has(x->out, "\"event_type\":\"anomaly\"",
                         "\"event\":\"UNABLE_TO_MATCH_RESPONSE_TO_REQUEST\""));
    done(x);
}


/* ---- signature-engine views (BF_BUS_TX) -------------------------------- */

static const char TXREQ[] = "GET /dir/a%2fb/../page.html?q=a%20b&x=%41 HTTP/1.1\r\n"
                            "Host: www.Ville-Exemple.FR:8080\r\n"
                            "User-Agent: Mozilla/5.0 (rules)\r\n"
                            "Accept: text/html\r\n"
                            "Accept-Language: fr-FR\r\n"
                            "Accept-Encoding: gzip, deflate\r\n"
                            "Referer: http://ville.fr/\r\n"
                            "Cookie: session=abc123\r\n"
                            "Connection:   keep-alive  \r\n"
                            "\r\n";
static const char TXRES[] = "HTTP/1.1 200 OK\r\n"
                            "Server: nginx/1.2\r\n"
                            "Set-Cookie: id=42; HttpOnly\r\n"
                            "Content-Type: text/html; charset=utf-8\r\n"
                            "Content-Length: 5\r\n"
                            "Connection: close\r\n"
                            "\r\n"
                            "hello";

static void test_tx_get_cookie(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, TXREQ, 0);
    assert_int_equal(x->nrec, 2); /* headers, then request complete */
    FEEDS(x, 1, TXRES, 7);
    assert_int_equal(x->nrec, 4); /* response headers, response complete */
    finish(x);
    assert_int_equal(x->nrec, 4); /* nothing more at the flow's end */
    if (getenv("BF_TEST_VERBOSE"))
        for (int i = 0; i < x->nrec; i++)
            for (int k = 0; k < BF_DBUF_MAX; k++)
                if (x->rec[i].buf[k])
                    fprintf(stderr, "view %d dir %d buf %d: [%s]\n", i, x->rec[i].dir, k,
                            x->rec[i].buf[k]);
    vstate(x, 0, 0, 0, false, false);
    vstate(x, 1, 0, 0, true, false);
    vstate(x, 2, 0, 1, true, false);
    vstate(x, 3, 0, 1, true, true);
    assert_true(x->rec[1].body_final[0]);
    assert_false(x->rec[2].body_final[1]);
    assert_true(x->rec[3].body_final[1]);
    assert_true(x->rec[0].has_pkt);
    for (int i = 0; i < 4; i++) {
        /* request-only buffers are in every view */
        vbuf(x, i, BF_DBUF_HTTP_URI_RAW, "/dir/a%2fb/../page.html?q=a%20b&x=%41");
        vbuf(x, i, BF_DBUF_HTTP_METHOD, "GET");
        vbuf(x, i, BF_DBUF_HTTP_REQUEST_LINE,
             "GET /dir/a%2fb/../page.html?q=a%20b&x=%41 HTTP/1.1");
        vbuf(x, i, BF_DBUF_HTTP_HOST, "www.ville-exemple.fr");
        vbuf(x, i, BF_DBUF_HTTP_HOST_RAW, "www.Ville-Exemple.FR:8080");
        vbuf(x, i, BF_DBUF_HTTP_USER_AGENT, "Mozilla/5.0 (rules)");
        vbuf(x, i, BF_DBUF_HTTP_ACCEPT, "text/html");
        vbuf(x, i, BF_DBUF_HTTP_ACCEPT_LANG, "fr-FR");
        vbuf(x, i, BF_DBUF_HTTP_ACCEPT_ENC, "gzip, deflate");
        vbuf(x, i, BF_DBUF_HTTP_REFERER, "http://ville.fr/");
        vbuf(x, i, BF_DBUF_HTTP_REQUEST_BODY, NULL);
        assert_non_null(x->rec[i].buf[BF_DBUF_HTTP_URI]);
        assert_non_null(strstr(x->rec[i].buf[BF_DBUF_HTTP_URI], "page.html?q=a b&x=A"));
        assert_null(strstr(x->rec[i].buf[BF_DBUF_HTTP_URI], ".."));
        assert_non_null(x->rec[i].meta);
        assert_non_null(strstr(x->rec[i].meta, "\"http\":{\"hostname\":\"www.Ville-Exemple.FR\""));
        assert_non_null(strstr(x->rec[i].meta, "\"http_method\":\"GET\""));
    }
    /* request side, dir 0 */
    for (int i = 0; i < 2; i++) {
        vbuf(x, i, BF_DBUF_HTTP_PROTOCOL, "HTTP/1.1");
        vbuf(x, i, BF_DBUF_HTTP_COOKIE, "session=abc123");
        vbuf(x, i, BF_DBUF_HTTP_CONNECTION, "keep-alive");
        vbuf(x, i, BF_DBUF_HTTP_CONTENT_TYPE, NULL);
        vbuf(x, i, BF_DBUF_HTTP_CONTENT_LEN, NULL);
        vbuf(x, i, BF_DBUF_HTTP_HEADER,
             "Host: www.Ville-Exemple.FR:8080\r\n"
             "User-Agent: Mozilla/5.0 (rules)\r\n"
             "Accept: text/html\r\n"
             "Accept-Language: fr-FR\r\n"
             "Accept-Encoding: gzip, deflate\r\n"
             "Referer: http://ville.fr/\r\n"
             "Connection: keep-alive\r\n");
        vbuf(x, i, BF_DBUF_HTTP_HEADER_NAMES,
             "\r\nHost\r\nUser-Agent\r\nAccept\r\nAccept-Language\r\nAccept-Encoding\r\n"
             "Referer\r\nCookie\r\nConnection\r\n\r\n");
        vbuf(x, i, BF_DBUF_HTTP_HEADER_RAW, strchr(TXREQ, '\n') + 1);
        vbuf(x, i, BF_DBUF_HTTP_START,
             "GET /dir/a%2fb/../page.html?q=a%20b&x=%41 HTTP/1.1\r\n"
             "Host: www.Ville-Exemple.FR:8080\r\n"
             "User-Agent: Mozilla/5.0 (rules)\r\n"
             "Accept: text/html\r\n"
             "Accept-Language: fr-FR\r\n"
             "Accept-Encoding: gzip, deflate\r\n"
             "Referer: http://ville.fr/\r\n"
             "Cookie: session=abc123\r\n"
             "Connection: keep-alive\r\n"
             "\r\n");
        vbuf(x, i, BF_DBUF_HTTP_STAT_CODE, NULL);
        vbuf(x, i, BF_DBUF_FILE_DATA, NULL);
        vbuf(x, i, BF_DBUF_FILE_NAME, NULL);
    }
    /* response side, dir 1 */
    for (int i = 2; i < 4; i++) {
        vbuf(x, i, BF_DBUF_HTTP_PROTOCOL, "HTTP/1.1");
        vbuf(x, i, BF_DBUF_HTTP_STAT_CODE, "200");
        vbuf(x, i, BF_DBUF_HTTP_STAT_MSG, "OK");
        vbuf(x, i, BF_DBUF_HTTP_RESPONSE_LINE, "HTTP/1.1 200 OK");
        vbuf(x, i, BF_DBUF_HTTP_SERVER, "nginx/1.2");
        vbuf(x, i, BF_DBUF_HTTP_LOCATION, NULL);
        vbuf(x, i, BF_DBUF_HTTP_COOKIE, "id=42; HttpOnly");
        vbuf(x, i, BF_DBUF_HTTP_CONNECTION, "close");
        vbuf(x, i, BF_DBUF_HTTP_CONTENT_TYPE, "text/html; charset=utf-8");
        vbuf(x, i, BF_DBUF_HTTP_CONTENT_LEN, "5");
        vbuf(x, i, BF_DBUF_HTTP_HEADER,
             "Server: nginx/1.2\r\n"
             "Content-Type: text/html; charset=utf-8\r\n"
             "Content-Length: 5\r\n"
             "Connection: close\r\n");
        vbuf(x, i, BF_DBUF_HTTP_HEADER_NAMES,
             "\r\nServer\r\nSet-Cookie\r\nContent-Type\r\nContent-Length\r\nConnection\r\n\r\n");
        vbuf(x, i, BF_DBUF_HTTP_HEADER_RAW,
             "Server: nginx/1.2\r\n"
             "Set-Cookie: id=42; HttpOnly\r\n"
             "Content-Type: text/html; charset=utf-8\r\n"
             "Content-Length: 5\r\n"
             "Connection: close\r\n"
             "\r\n");
        vbuf(x, i, BF_DBUF_HTTP_START,
             "HTTP/1.1 200 OK\r\n"
             "Server: nginx/1.2\r\n"
             "Set-Cookie: id=42; HttpOnly\r\n"
             "Content-Type: text/html; charset=utf-8\r\n"
             "Content-Length: 5\r\n"
             "Connection: close\r\n"
             "\r\n");
    }
    vbuf(x, 2, BF_DBUF_FILE_DATA, NULL);
    vbuf(x, 3, BF_DBUF_FILE_DATA, "hello");
    vbuf(x, 3, BF_DBUF_HTTP_RESPONSE_BODY, "hello");
    assert_non_null(x->rec[3].buf[BF_DBUF_FILE_NAME]);
    assert_non_null(strstr(x->rec[3].buf[BF_DBUF_FILE_NAME], "page.html"));
    assert_non_null(strstr(x->rec[3].meta, "\"status\":200"));
    assert_non_null(strstr(x->rec[3].meta, "\"http_content_type\":\"text/html\""));
    assert_null(strstr(x->rec[1].meta, "\"status\""));
    done(x);
}

static void test_tx_post_body(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0,
          "POST /login.php HTTP/1.1\r\nHost: intranet\r\n"
          "Content-Type: application/x-www-form-urlencoded\r\n"
          "Content-Length: 23\r\n\r\n",
          0);
    assert_int_equal(x->nrec, 1);
    vstate(x, 0, 0, 0, false, false);
    assert_false(x->rec[0].body_final[0]);
    vbuf(x, 0, BF_DBUF_HTTP_REQUEST_BODY, NULL);
    vbuf(x, 0, BF_DBUF_HTTP_CONTENT_LEN, "23");
    FEEDS(x, 0, "user=admin&pass=s3cr3t!", 4);
    assert_int_equal(x->nrec, 2);
    vstate(x, 1, 0, 0, true, false);
    assert_true(x->rec[1].body_final[0]);
    vbuf(x, 1, BF_DBUF_HTTP_REQUEST_BODY, "user=admin&pass=s3cr3t!");
    vbuf(x, 1, BF_DBUF_FILE_DATA, "user=admin&pass=s3cr3t!");
    vbuf(x, 1, BF_DBUF_FILE_NAME, "/login.php");
    vbuf(x, 1, BF_DBUF_HTTP_CONTENT_TYPE, "application/x-www-form-urlencoded");
    vbuf(x, 1, BF_DBUF_HTTP_URI, "/login.php");
    FEEDS(x, 1, "HTTP/1.1 302 Found\r\nLocation: /home\r\nContent-Length: 0\r\n\r\n", 0);
    assert_int_equal(x->nrec, 4);
    vstate(x, 3, 0, 1, true, true);
    /* the request body stays visible; file data is now the response's (none) */
    vbuf(x, 3, BF_DBUF_HTTP_REQUEST_BODY, "user=admin&pass=s3cr3t!");
    vbuf(x, 3, BF_DBUF_FILE_DATA, NULL);
    vbuf(x, 3, BF_DBUF_HTTP_CONTENT_LEN, "0");
    vbuf(x, 3, BF_DBUF_HTTP_LOCATION, "/home");
    vbuf(x, 3, BF_DBUF_HTTP_STAT_CODE, "302");
    finish(x);
    assert_int_equal(x->nrec, 4);
    done(x);
}

static size_t gzip(const void *in, size_t n, uint8_t *out, size_t cap_);

/* A chunked response of `plain` gzip'ed, cut in three chunks. */
static size_t chunked_gzip(const char *plain, size_t pn, char *res, size_t cap_)
{
    static uint8_t gz[65536];
    size_t gzn = gzip(plain, pn, gz, sizeof gz);
    size_t r = (size_t)snprintf(res, cap_,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t cuts[] = {0, 7, gzn / 2, gzn};
    for (int i = 0; i < 3; i++) {
        size_t n = cuts[i + 1] - cuts[i];
        r += (size_t)snprintf(res + r, cap_ - r, "%zx\r\n", n);
        memcpy(res + r, gz + cuts[i], n);
        r += n;
        memcpy(res + r, "\r\n", 2);
        r += 2;
    }
    r += (size_t)snprintf(res + r, cap_ - r, "0\r\n\r\n");
    return r;
}

static void test_tx_chunked_gzip(void **state)
{
    (void)state;
    static char plain[6000], res[65536];
    for (size_t i = 0; i < sizeof plain - 1; i++)
        plain[i] = "Le conseil municipal se reunit ce soir. "[i % 40];
    size_t r = chunked_gzip(plain, strlen(plain), res, sizeof res);
    h *x = start();
    FEEDS(x, 0, "GET /news.txt HTTP/1.1\r\nHost: ville.fr\r\nAccept-Encoding: gzip\r\n\r\n", 0);
    feed(x, 1, res, r, 11);
    assert_int_equal(x->nrec, 4);
    vstate(x, 3, 0, 1, true, true);
    vbuf(x, 3, BF_DBUF_FILE_DATA, plain);
    vbuf(x, 3, BF_DBUF_HTTP_RESPONSE_BODY, plain);
    vbuf(x, 3, BF_DBUF_FILE_NAME, "/news.txt");
    finish(x);
    done(x);

    /* with a response body limit: the first bytes only */
    bf_http_cfg c;
    bf_http_cfg_default(&c);
    c.resp_body_limit = 1000;
    bf_http_configure(&c);
    x = start();
    FEEDS(x, 0, "GET /news.txt HTTP/1.1\r\nHost: ville.fr\r\n\r\n", 0);
    feed(x, 1, res, r - 5, 0); /* all but the last chunk */
    assert_int_equal(x->nrec, 3);
    finish(x); /* the flow ends before the last chunk */
    assert_int_equal(x->nrec, 4);
    vstate(x, 3, 0, 1, true, true);
    assert_true(x->rec[3].body_final[0] && x->rec[3].body_final[1]);
    assert_false(x->rec[3].has_pkt);
    assert_int_equal(x->rec[3].len[BF_DBUF_FILE_DATA], 1000);
    assert_memory_equal(x->rec[3].buf[BF_DBUF_FILE_DATA], plain, 1000);
    bf_http_cfg_default(&c);
    bf_http_configure(&c);
    done(x);
}

static void test_tx_pipelined(void **state)
{
    (void)state;
    h *x = start();
    FEEDS(x, 0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    assert_int_equal(x->nrec, 4);
    vstate(x, 0, 0, 0, false, false);
    vstate(x, 1, 0, 0, true, false);
    vstate(x, 2, 1, 0, false, false);
    vstate(x, 3, 1, 0, true, false);
    vbuf(x, 1, BF_DBUF_HTTP_URI, "/a");
    vbuf(x, 3, BF_DBUF_HTTP_URI, "/b");
    FEEDS(x, 1,
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
          "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nBB",
          0);
    assert_int_equal(x->nrec, 8);
    vstate(x, 4, 0, 1, true, false);
    vstate(x, 5, 0, 1, true, true);
    vstate(x, 6, 1, 1, true, false);
    vstate(x, 7, 1, 1, true, true);
    vbuf(x, 5, BF_DBUF_FILE_DATA, "A");
    vbuf(x, 5, BF_DBUF_HTTP_URI, "/a");
    vbuf(x, 7, BF_DBUF_FILE_DATA, "BB");
    vbuf(x, 7, BF_DBUF_HTTP_URI, "/b");
    vbuf(x, 7, BF_DBUF_HTTP_STAT_MSG, "Not Found");
    vbuf(x, 7, BF_DBUF_HTTP_PROTOCOL, "HTTP/1.0");
    vbuf(x, 3, BF_DBUF_HTTP_PROTOCOL, "HTTP/1.1");
    finish(x);
    assert_int_equal(x->nrec, 8);
    done(x);
}

static void test_tx_cut(void **state)
{
    (void)state;
    /* no response at all */
    h *x = start();
    FEEDS(x, 0, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    assert_int_equal(x->nrec, 2);
    finish(x);
    assert_int_equal(x->nrec, 3);
    vstate(x, 2, 0, 0, true, true);
    assert_true(x->rec[2].body_final[0] && x->rec[2].body_final[1]);
    assert_false(x->rec[2].has_pkt);
    vbuf(x, 2, BF_DBUF_HTTP_URI, "/x");
    vbuf(x, 2, BF_DBUF_HTTP_STAT_CODE, NULL);
    done(x);

    /* the response body cut short */
    x = start();
    FEEDS(x, 0, "GET /f.bin HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 0);
    assert_int_equal(x->nrec, 3);
    finish(x);
    assert_int_equal(x->nrec, 4);
    vstate(x, 3, 0, 1, true, true);
    vbuf(x, 3, BF_DBUF_FILE_DATA, "0123456789");
    vbuf(x, 3, BF_DBUF_HTTP_STAT_CODE, "200");
    done(x);

    /* headers never finished (slowloris): one view, at the end */
    x = start();
    FEEDS(x, 0, "GET /slow HTTP/1.1\r\nHost: h\r\nX-a: b\r\n", 1);
    assert_int_equal(x->nrec, 0);
    finish(x);
    assert_int_equal(x->nrec, 1);
    vstate(x, 0, 0, 0, true, true);
    vbuf(x, 0, BF_DBUF_HTTP_METHOD, "GET");
    done(x);

    /* a gap stops parsing: the unfinished tx gets its last view then */
    x = start();
    FEEDS(x, 0, "GET /g HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    FEEDS(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234", 0);
    gap(x, 1, 50);
    assert_int_equal(x->nrec, 4);
    vstate(x, 3, 0, 1, true, true);
    vbuf(x, 3, BF_DBUF_FILE_DATA, "01234");
    finish(x);
    assert_int_equal(x->nrec, 4);
    done(x);
}

static void test_garbage(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        g_skip_validate = round != 199;
        h *x = start();
        for (int i = 0; i < 20; i++) {
            uint8_t buf[300];
            size_t n = 1 + (seed = seed * 1103515245 + 12345) % sizeof buf;
            for (size_t k = 0; k < n; k++) {
                seed = seed * 1103515245 + 12345;
                /* mostly HTTP-ish tokens to get deep into the parser */
                static const char *tok[] = {"GET ", "HTTP/1.1 ", "\r\n", "Host: a\r\n",
                                            "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n",
                                            "5\r\n", "Content-Encoding: gzip\r\n", "200 OK", ":",
                                            "\x1f\x8b\x08", "POST /", "CONNECT a:1 ", "\0"};
                if ((seed >> 16) % 3 == 0) {
                    const char *t = tok[(seed >> 8) % BF_ARRAY_LEN(tok)];
                    size_t tl = strlen(t) ? strlen(t) : 1;
                    if (k + tl > n)
                        tl = n - k;
                    memcpy(buf + k, t, tl);
                    k += tl - 1;
                } else {
                    buf[k] = (uint8_t)(seed >> 16);
                }
            }
            feed(x, (seed >> 5) & 1, buf, n, 0);
        }
        finish(x);
        done(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_whole),
        cmocka_unit_test(test_simple_split),
        cmocka_unit_test(test_headers_option),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_chunked_gzip),
        cmocka_unit_test(test_post_content_disposition),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_100_continue),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_upgrade),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_slow_request),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_anomalies),
        cmocka_unit_test(test_tx_get_cookie),
        cmocka_unit_test(test_tx_post_body),
        cmocka_unit_test(test_tx_chunked_gzip),
        cmocka_unit_test(test_tx_pipelined),
        cmocka_unit_test(test_tx_cut),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
