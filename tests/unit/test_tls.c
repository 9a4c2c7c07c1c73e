/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/tls: real handshakes made in-process by OpenSSL's TLS
 * stack over memory BIOs (libssl is loaded with dlopen, so the test links
 * only what the core links), fed to the analyzer in odd chunk sizes; JA4
 * against the specification's example; malformed and random input; EVE
 * lines validated against Suricata's schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/tls/tls.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- libssl through dlopen ------------------------------------------------ */

static struct {
    void *h;
    __typeof__(&TLS_method) TLS_method;
    __typeof__(&SSL_CTX_new) SSL_CTX_new;
    __typeof__(&SSL_CTX_free) SSL_CTX_free;
    __typeof__(&SSL_CTX_use_certificate) SSL_CTX_use_certificate;
    __typeof__(&SSL_CTX_use_PrivateKey) SSL_CTX_use_PrivateKey;
    __typeof__(&SSL_CTX_ctrl) SSL_CTX_ctrl;
    __typeof__(&SSL_CTX_set_alpn_select_cb) SSL_CTX_set_alpn_select_cb;
    __typeof__(&SSL_new) SSL_new;
    __typeof__(&SSL_free) SSL_free;
    __typeof__(&SSL_set_bio) SSL_set_bio;
    __typeof__(&SSL_set_connect_state) SSL_set_connect_state;
    __typeof__(&SSL_set_accept_state) SSL_set_accept_state;
    __typeof__(&SSL_do_handshake) SSL_do_handshake;
    __typeof__(&SSL_ctrl) SSL_ctrl;
    __typeof__(&SSL_set_alpn_protos) SSL_set_alpn_protos;
    __typeof__(&SSL_write) SSL_write;
    __typeof__(&SSL_read) SSL_read;
    __typeof__(&SSL_get1_session) SSL_get1_session;
    __typeof__(&SSL_set_session) SSL_set_session;
    __typeof__(&SSL_SESSION_free) SSL_SESSION_free;
    __typeof__(&SSL_set_shutdown) SSL_set_shutdown;
    __typeof__(&SSL_CTX_set_verify) SSL_CTX_set_verify;
} L;

static bool load_ssl(void)
{
    if (L.h)
        return true;
    L.h = dlopen("libssl.so.3", RTLD_NOW);
    if (!L.h)
        return false;
#define SYM(n) L.n = (__typeof__(L.n))dlsym(L.h, #n); if (!L.n) return false;
    SYM(TLS_method) SYM(SSL_CTX_new) SYM(SSL_CTX_free) SYM(SSL_CTX_use_certificate)
    SYM(SSL_CTX_use_PrivateKey) SYM(SSL_CTX_ctrl) SYM(SSL_CTX_set_alpn_select_cb) SYM(SSL_new)
    SYM(SSL_free) SYM(SSL_set_bio) SYM(SSL_set_connect_state) SYM(SSL_set_accept_state)
    SYM(SSL_do_handshake) SYM(SSL_ctrl) SYM(SSL_set_alpn_protos) SYM(SSL_write) SYM(SSL_read)
    SYM(SSL_get1_session) SYM(SSL_set_session) SYM(SSL_SESSION_free) SYM(SSL_set_shutdown) SYM(SSL_CTX_set_verify)
#undef SYM
    return true;
}

/* ---- a self-signed certificate ----------------------------------------------- */

static EVP_PKEY *key;
static X509 *cert;

static void make_cert(void)
{
    if (cert)
        return;
    key = EVP_EC_gen("P-256");
    assert_non_null(key);
    cert = X509_new();
    X509_set_version(cert, 2);
    /* high bit set: DER adds a 00 byte that Suricata's format shows */
    static const uint8_t ser[] = {0x8a, 0xbc, 0x01, 0x02, 0x03};
    BIGNUM *bn = BN_bin2bn(ser, sizeof ser, NULL);
    ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
    X509_set_serialNumber(cert, ai);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME_set_string_X509(t, "20190101000000Z");
    X509_set1_notBefore(cert, t);
    ASN1_TIME_set_string_X509(t, "20391231235959Z");
    X509_set1_notAfter(cert, t);
    ASN1_TIME_free(t);
    X509_NAME *n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"FR", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Ville de Test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"mairie.example",
                               -1, -1, 0);
    X509_set_issuer_name(cert, n);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                                              "DNS:mairie.example,DNS:www.mairie.example,IP:10.0.0.1");
    assert_non_null(ext);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    X509_set_pubkey(cert, key);
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
}

/* ---- capturing a handshake --------------------------------------------------- */

typedef struct chunk {
    int dir;
    uint8_t *b;
    size_t n;
} chunk;

typedef struct capture {
    chunk c[64];
    int n;
} capture;

static void cap_free(capture *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->c[i].b);
    c->n = 0;
}

static void drain(BIO *from, BIO *to, capture *cap, int dir)
{
    uint8_t buf[16384];
    int r;
    while ((r = BIO_read(from, buf, sizeof buf)) > 0) {
        BIO_write(to, buf, r);
        assert_true(cap->n < 64);
        chunk *c = &cap->c[cap->n++];
        c->dir = dir;
        c->b = malloc((size_t)r);
        memcpy(c->b, buf, (size_t)r);
        c->n = (size_t)r;
    }
}

static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg)
{
    (void)s; (void)arg; (void)in; (void)inlen;
    *out = (const unsigned char *)"h2";
    *outlen = 2;
    return SSL_TLSEXT_ERR_OK;
}

/* Runs a handshake (plus one application record each way) and captures the
 * bytes of each side in order.  max_version 0: the library's default. */
static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok; (void)x;
    return 1;
}

static bool want_client_cert;

static SSL_SESSION *handshake(capture *cap, long max_version, SSL_SESSION *resume)
{
    make_cert();
    SSL_CTX *sc = L.SSL_CTX_new(L.TLS_method());
    SSL_CTX *cc = L.SSL_CTX_new(L.TLS_method());
    assert_int_equal(L.SSL_CTX_use_certificate(sc, cert), 1);
    assert_int_equal(L.SSL_CTX_use_PrivateKey(sc, key), 1);
    if (max_version)
        L.SSL_CTX_ctrl(sc, SSL_CTRL_SET_MAX_PROTO_VERSION, max_version, NULL);
    L.SSL_CTX_set_alpn_select_cb(sc, alpn_cb, NULL);
    if (want_client_cert) {
        L.SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, accept_any);
        assert_int_equal(L.SSL_CTX_use_certificate(cc, cert), 1);
        assert_int_equal(L.SSL_CTX_use_PrivateKey(cc, key), 1);
    }
    static SSL_CTX *keep_sc; /* session resumption needs the same server ctx */
    static SSL_CTX *keep_cc;
    if (resume) {
        L.SSL_CTX_free(sc);
        L.SSL_CTX_free(cc);
        sc = keep_sc;
        cc = keep_cc;
    }
    SSL *s = L.SSL_new(sc), *c = L.SSL_new(cc);
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    L.SSL_set_bio(c, c_in, c_out);
    L.SSL_set_bio(s, s_in, s_out);
    L.SSL_set_connect_state(c);
    L.SSL_set_accept_state(s);
    L.SSL_ctrl(c, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               (void *)"mairie.example");
    static const unsigned char protos[] = "\x02h2\x08http/1.1";
    L.SSL_set_alpn_protos(c, protos, sizeof protos - 1);
    if (resume)
        L.SSL_set_session(c, resume);
    int cd = 0, sd = 0;
    for (int i = 0; i < 20 && !(cd == 1 && sd == 1); i++) {
        if (cd != 1)
            cd = L.SSL_do_handshake(c);
        drain(c_out, s_in, cap, 0);
        if (sd != 1)
            sd = L.SSL_do_handshake(s);
        drain(s_out, c_in, cap, 1);
    }
    assert_int_equal(cd, 1);
    assert_int_equal(sd, 1);
    char buf[64];
    L.SSL_write(c, "GET / HTTP/1.1\r\n\r\n", 18);
    drain(c_out, s_in, cap, 0);
    L.SSL_read(s, buf, sizeof buf);
    L.SSL_write(s, "HTTP/1.1 200 OK\r\n\r\n", 19);
    drain(s_out, c_in, cap, 1);
    L.SSL_read(c, buf, sizeof buf);
    drain(c_out, s_in, cap, 0); /* TLS 1.3: nothing; tickets went server->client */
    SSL_SESSION *sess = L.SSL_get1_session(c);
    /* a session freed without shutdown is made non-resumable */
    L.SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    L.SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    L.SSL_free(c);
    L.SSL_free(s);
    if (!resume) {
        if (keep_sc) {
            L.SSL_CTX_free(keep_sc);
            L.SSL_CTX_free(keep_cc);
        }
        keep_sc = sc;
        keep_cc = cc;
    }
    return sess;
}

/* ---- the analyzer harness --------------------------------------------------- */

static int n_hello, n_cert;
static bf_tls_hello last_hello[2];
static char hello_sni[256], hello_ja4[40], cert_cn[256], cert_san1[256];
static bf_tls_cert last_cert;

static void on_hello(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_tls_hello *h = m->data;
    n_hello++;
    last_hello[h->dir & 1] = *h;
    if (h->dir == 0) {
        snprintf(hello_sni, sizeof hello_sni, "%s", h->sni ? h->sni : "");
        snprintf(hello_ja4, sizeof hello_ja4, "%s", h->ja4 ? h->ja4 : "");
    }
}

static void on_cert(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_tls_cert *c = m->data;
    n_cert++;
    last_cert = *c;
    snprintf(cert_cn, sizeof cert_cn, "%s", c->subject_cn ? c->subject_cn : "");
    snprintf(cert_san1, sizeof cert_san1, "%s", c->nsan > 1 ? c->san[1] : "");
}

typedef struct harness {
    char path[64];
    bf_eve_sink *sink;
    bf_eve_opts opts;
    bf_eve e;
    bf_bus bus;
    bf_app_ctx ctx;
    bf_flow f;
    bf_packet p;
    void *st;
    bool novalidate;
} harness;

static void h_init(harness *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->path, sizeof h->path, "/tmp/test_tls_XXXXXX");
    int fd = mkstemp(h->path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    h->sink = bf_eve_sink_open(h->path, err, sizeof err);
    assert_non_null(h->sink);
    h->opts.anomaly_events = true;
    h->opts.flow_events = true;
    bf_eve_init(&h->e, h->sink, &h->opts);
    bf_bus_init(&h->bus);
    bf_bus_subscribe(&h->bus, BF_BUS_TLS_HELLO, on_hello, NULL);
    bf_bus_subscribe(&h->bus, BF_BUS_TLS_CERT, on_cert, NULL);
    h->ctx.eve = &h->e;
    h->ctx.bus = &h->bus;
    h->f.ipver = 4;
    h->f.proto = 6;
    bf_addr_parse("192.0.2.10", &h->f.addr[0]);
    bf_addr_parse("198.51.100.7", &h->f.addr[1]);
    h->f.port[0] = 51000;
    h->f.port[1] = 443;
    h->f.flow_id = 1234;
    h->f.app_proto = BF_APP_TLS;
    h->f.last = h->p.ts = 1700000000ULL * BF_SEC;
    n_hello = n_cert = 0;
    memset(&last_cert, 0, sizeof last_cert);
    assert_ptr_equal(bf_app_parser_get(BF_APP_TLS), &bf_parser_tls);
    h->st = bf_parser_tls.state_new(&h->ctx, &h->f);
    assert_non_null(h->st);
}

static void h_feed(harness *h, int dir, const uint8_t *b, size_t n, unsigned split)
{
    static const unsigned sizes[] = {1, 3, 7, 13, 2, 101, 5, 1400, 4, 9};
    size_t off = 0;
    unsigned k = split;
    while (off < n) {
        size_t step = split ? sizes[k++ % BF_ARRAY_LEN(sizes)] : n;
        if (step > n - off)
            step = n - off;
        /* a private copy: ASan sees any read past the chunk */
        uint8_t *c = malloc(step);
        memcpy(c, b + off, step);
        h->p.ts += 1000;
        bf_parser_tls.parse(&h->ctx, &h->f, h->st, &h->p, dir, c, (uint32_t)step, 0);
        free(c);
        off += step;
    }
}

/* Ends the flow, returns the EVE text (malloc'd). */
static char *h_finish(harness *h, bf_tls_counters *cnt)
{
    bf_parser_tls.flow_end(&h->ctx, &h->f, h->st);
    if (cnt)
        *cnt = *bf_tls_state_counters(h->st);
    bf_parser_tls.state_free(&h->ctx, &h->f, h->st);
    assert_int_equal(h->f.app_mem, 0);
    bf_eve_fini(&h->e);
    bf_eve_sink_close(h->sink);
    FILE *fp = fopen(h->path, "r");
    assert_non_null(fp);
    char *txt = calloc(1, 1 << 20);
    size_t r = fread(txt, 1, (1 << 20) - 1, fp);
    txt[r] = 0;
    fclose(fp);
    /* every line must validate against Suricata's EVE schema */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys,jsonschema\n"
             "s=json.load(open(\"/work/shared/suricata-eve-schema/schema.json\"))\n"
             "v=jsonschema.Draft202012Validator(s)\n"
             "for l in open(sys.argv[1]):\n"
             "  v.validate(json.loads(l))\n' %s",
             h->path);
    if (!h->novalidate && access("/work/shared/suricata-eve-schema/schema.json", R_OK) == 0)
        assert_int_equal(system(cmd), 0);
    unlink(h->path);
    return txt;
}

static void feed_capture(harness *h, const capture *cap, unsigned split)
{
    for (int i = 0; i < cap->n; i++)
        h_feed(h, cap->c[i].dir, cap->c[i].b, cap->c[i].n, split ? split + (unsigned)i : 0);
}

static int count(const char *txt, const char *needle)
{
    int n = 0;
    for (const char *p = txt; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The JA3 string of the event, checked for shape and against its hash. */
static void check_ja3(const char *txt, const char *key, int fields)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":{\"hash\":\"", key);
    const char *p = strstr(txt, pat);
    assert_non_null(p);
    p += strlen(pat);
    char hash[33];
    memcpy(hash, p, 32);
    hash[32] = 0;
    const char *s = strstr(p, "\"string\":\"");
    assert_non_null(s);
    s += 10;
    const char *e = strchr(s, '"');
    int commas = 0;
    for (const char *q = s; q < e; q++) {
        assert_true((*q >= '0' && *q <= '9') || *q == ',' || *q == '-');
        commas += *q == ',';
    }
    assert_int_equal(commas, fields - 1);
    uint8_t md[16];
    unsigned ml;
    EVP_Digest(s, (size_t)(e - s), md, &ml, EVP_md5(), NULL);
    char hex[33];
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    assert_string_equal(hex, hash);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_tls12_handshake(void **state)
{
    (void)state;
    if (!load_ssl())
        skip();
    capture cap = {0};
    SSL_SESSION *sess = handshake(&cap, TLS1_2_VERSION, NULL);
    for (unsigned split = 0; split < 4; split++) {
        harness h;
        h_init(&h);
        feed_capture(&h, &cap, split);
        bf_tls_counters cnt;
        char *txt = h_finish(&h, &cnt);
        assert_int_equal(count(txt, "\"event_type\":\"tls\""), 1);
        assert_int_equal(count(txt, "\"event_type\":\"anomaly\""), 0);
        assert_non_null(strstr(txt, "\"sni\":\"mairie.example\""));
        assert_non_null(strstr(txt, "\"version\":\"TLS 1.2\""));
        assert_non_null(strstr(txt, "\"subject\":\"C=FR, O=Ville de Test, CN=mairie.example\""));
        assert_non_null(strstr(txt, "\"issuerdn\":\"C=FR, O=Ville de Test, CN=mairie.example\""));
        assert_non_null(strstr(txt, "\"serial\":\"00:8A:BC:01:02:03\""));
        assert_non_null(strstr(txt, "\"notbefore\":\"2019-01-01T00:00:00\""));
        assert_non_null(strstr(txt, "\"notafter\":\"2039-12-31T23:59:59\""));
        assert_non_null(
            strstr(txt, "\"subjectaltname\":[\"mairie.example\",\"www.mairie.example\"]"));
        assert_non_null(strstr(txt, "\"client_alpns\":[\"h2\",\"http/1.1\"]"));
        assert_non_null(strstr(txt, "\"server_alpns\":[\"h2\"]"));
        assert_non_null(strstr(txt, "\"ja4\":\"t13d"));
        assert_non_null(strstr(txt, "h2_"));
        assert_null(strstr(txt, "session_resumed"));
        check_ja3(txt, "ja3", 5);
        check_ja3(txt, "ja3s", 3);
        assert_non_null(strstr(txt, "\"ja3s\":{\"hash\":\""));
        assert_non_null(strstr(txt, "\"string\":\"771,"));
        /* the fingerprint is the SHA-1 of the DER certificate */
        uint8_t md[20];
        unsigned ml;
        X509_digest(cert, EVP_sha1(), md, &ml);
        char fp[61];
        for (int i = 0; i < 20; i++)
            sprintf(fp + 3 * i, "%02x%s", md[i], i < 19 ? ":" : "");
        char want[80];
        snprintf(want, sizeof want, "\"fingerprint\":\"%s\"", fp);
        assert_non_null(strstr(txt, want));
        /* the bus */
        assert_int_equal(n_hello, 2);
        assert_int_equal(n_cert, 1);
        assert_string_equal(hello_sni, "mairie.example");
        assert_int_equal(last_hello[0].version, 0x0304); /* offered */
        assert_int_equal(last_hello[1].version, 0x0303); /* negotiated */
        assert_false(last_hello[1].certs_encrypted);
        assert_string_equal(cert_cn, "mairie.example");
        assert_string_equal(cert_san1, "www.mairie.example");
        assert_int_equal(last_cert.nsan, 2);
        assert_true(last_cert.self_signed);
        assert_int_equal(last_cert.chain_len, 1);
        assert_int_equal(last_cert.not_before, 1546300800);
        assert_int_equal(last_cert.dir, 1);
        assert_int_equal(cnt.certs, 1);
        assert_true(cnt.encrypted_bytes[0] > 0 && cnt.encrypted_bytes[1] > 0);
        free(txt);
    }

    /* resumption of that session: no certificate, session_resumed */
    capture cap2 = {0};
    SSL_SESSION *s2 = handshake(&cap2, TLS1_2_VERSION, sess);
    harness h;
    h_init(&h);
    feed_capture(&h, &cap2, 1);
    char *txt = h_finish(&h, NULL);
    assert_int_equal(count(txt, "\"event_type\":\"tls\""), 1);
    if (!strstr(txt, "\"session_resumed\":true")) fprintf(stderr, "%s\n", txt);
    assert_non_null(strstr(txt, "\"session_resumed\":true"));
    assert_null(strstr(txt, "\"subject\""));
    assert_int_equal(n_cert, 0);
    free(txt);
    L.SSL_SESSION_free(s2);
    L.SSL_SESSION_free(sess);
    cap_free(&cap);
    cap_free(&cap2);
}

static void test_tls13_handshake(void **state)
{
    (void)state;
    if (!load_ssl())
        skip();
    capture cap = {0};
    SSL_SESSION *sess = handshake(&cap, 0, NULL);
    harness h;
    h_init(&h);
    feed_capture(&h, &cap, 3);
    bf_tls_counters cnt;
    char *txt = h_finish(&h, &cnt);
    assert_int_equal(count(txt, "\"event_type\":\"tls\""), 1);
    assert_int_equal(count(txt, "\"event_type\":\"anomaly\""), 0);
    assert_non_null(strstr(txt, "\"version\":\"TLS 1.3\""));
    assert_non_null(strstr(txt, "\"sni\":\"mairie.example\""));
    assert_null(strstr(txt, "\"subject\""));       /* encrypted certificates */
    assert_null(strstr(txt, "server_alpns")); /* in EncryptedExtensions */
    assert_non_null(strstr(txt, "\"ja4\":\"t13d"));
    assert_true(last_hello[1].certs_encrypted);
    assert_int_equal(last_hello[1].version, 0x0304);
    assert_int_equal(n_cert, 0);
    assert_true(cnt.encrypted_bytes[1] > 500); /* the certificate is in there */
    check_ja3(txt, "ja3", 5);
    free(txt);
    L.SSL_SESSION_free(sess);
    cap_free(&cap);
}

/* Mutual TLS 1.2: the event waits for the client certificate (tls.client). */
static void test_client_cert(void **state)
{
    (void)state;
    if (!load_ssl())
        skip();
    capture cap = {0};
    want_client_cert = true;
    SSL_SESSION *sess = handshake(&cap, TLS1_2_VERSION, NULL);
    want_client_cert = false;
    harness h;
    h_init(&h);
    feed_capture(&h, &cap, 5);
    char *txt = h_finish(&h, NULL);
    assert_int_equal(count(txt, "\"event_type\":\"tls\""), 1);
    assert_non_null(strstr(txt, "\"client\":{\"subject\":\"C=FR, O=Ville de Test, CN=mairie.example\""));
    assert_non_null(strstr(txt, "\"serial\":\"00:8A:BC:01:02:03\",\"fingerprint\""));
    assert_int_equal(n_cert, 2);
    assert_int_equal(last_cert.dir, 0);
    free(txt);
    L.SSL_SESSION_free(sess);
    cap_free(&cap);
}

static void test_ja4_spec(void **state)
{
    (void)state;
    /* the raw example of FoxIO's JA4.md (its JA4_r gives ..._e5627efa2ab1),
     * GREASE values added (ignored) */
    static const uint16_t ciphers[] = {0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
                                       0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
                                       0x002f, 0x0035};
    static const uint16_t exts[] = {0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                    0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
                                    0x000b, 0x000a, 0x0015, 0xfafa};
    static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
                                    0x0601};
    char out[37];
    bf_tls_ja4(out, false, 0x0304, true, ciphers, BF_ARRAY_LEN(ciphers), exts,
               BF_ARRAY_LEN(exts), sigs, BF_ARRAY_LEN(sigs), (const uint8_t *)"h2", 2);
    assert_string_equal(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    /* no ciphers, no extensions, no ALPN; non-alphanumeric ALPN as hex */
    bf_tls_ja4(out, false, 0x0303, false, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    assert_string_equal(out, "t12i000000_000000000000_000000000000");
    bf_tls_ja4(out, true, 0x0300, false, NULL, 0, NULL, 0, NULL, 0, (const uint8_t *)"\xab\xcd", 2);
    assert_string_equal(out, "qs3i0000ad_000000000000_000000000000");
    assert_true(bf_tls_is_grease(0xdada));
    assert_false(bf_tls_is_grease(0xdadb));
    char vb[32];
    assert_string_equal(bf_tls_version_str(0x0301, vb, sizeof vb), "TLSv1");
    assert_string_equal(bf_tls_version_str(0, vb, sizeof vb), "UNDETERMINED");
    assert_string_equal(bf_tls_version_str(0x7f1c, vb, sizeof vb), "TLS 1.3 draft-28");
}

/* A hand-made ClientHello with SNI and the given tail bytes. */
static size_t client_hello(uint8_t *b, const char *sni)
{
    size_t sl = strlen(sni);
    uint8_t body[512];
    size_t o = 0;
    body[o++] = 3; body[o++] = 3;
    memset(body + o, 0x11, 32); o += 32;
    body[o++] = 0;                         /* session id */
    body[o++] = 0; body[o++] = 4;          /* 2 ciphers */
    body[o++] = 0xc0; body[o++] = 0x2f; body[o++] = 0x00; body[o++] = 0x9c;
    body[o++] = 1; body[o++] = 0;          /* compression */
    size_t el = 4 + 5 + sl;
    body[o++] = (uint8_t)(el >> 8); body[o++] = (uint8_t)el;
    body[o++] = 0; body[o++] = 0;          /* server_name */
    body[o++] = (uint8_t)((sl + 5) >> 8); body[o++] = (uint8_t)(sl + 5);
    body[o++] = (uint8_t)((sl + 3) >> 8); body[o++] = (uint8_t)(sl + 3);
    body[o++] = 0;
    body[o++] = (uint8_t)(sl >> 8); body[o++] = (uint8_t)sl;
    memcpy(body + o, sni, sl); o += sl;
    size_t n = 0;
    b[n++] = 22; b[n++] = 3; b[n++] = 1;
    b[n++] = (uint8_t)((o + 4) >> 8); b[n++] = (uint8_t)(o + 4);
    b[n++] = 1; b[n++] = 0; b[n++] = (uint8_t)(o >> 8); b[n++] = (uint8_t)o;
    memcpy(b + n, body, o);
    return n + o;
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t b[2048];
    /* a bad record type after a good ClientHello: anomaly, tls event at end */
    {
        harness h;
        h_init(&h);
        size_t n = client_hello(b, "a.example");
        h_feed(&h, 0, b, n, 1);
        static const uint8_t bad[] = {0x42, 3, 3, 0, 1, 0};
        h_feed(&h, 1, bad, sizeof bad, 0);
        h_feed(&h, 1, bad, sizeof bad, 0); /* the direction is dead: ignored */
        char *txt = h_finish(&h, NULL);
        assert_non_null(strstr(txt, "\"event\":\"INVALID_RECORD_TYPE\""));
        assert_non_null(strstr(txt, "\"app_proto\":\"tls\",\"type\":\"applayer\",\"event\":\"INVALID_RECORD_TYPE\",\"layer\":\"proto_parser\""));
        assert_int_equal(count(txt, "\"event_type\":\"anomaly\""), 1);
        assert_non_null(strstr(txt, "\"sni\":\"a.example\""));
        assert_non_null(strstr(txt, "\"version\":\"UNDETERMINED\""));
        assert_non_null(strstr(txt, "\"ja3\":{\"hash\":\""));
        assert_non_null(strstr(txt, "\"string\":\"771,49199-156,0,,\""));
        free(txt);
    }
    /* huge record length, bad version */
    {
        harness h;
        h_init(&h);
        static const uint8_t huge[] = {22, 3, 3, 0xff, 0xff, 1};
        h_feed(&h, 0, huge, sizeof huge, 0);
        static const uint8_t ver[] = {22, 9, 9, 0, 4, 1, 0, 0, 0};
        h_feed(&h, 1, ver, sizeof ver, 0);
        char *txt = h_finish(&h, NULL);
        assert_non_null(strstr(txt, "INVALID_TLS_HEADER"));
        assert_non_null(strstr(txt, "INVALID_RECORD_VERSION"));
        assert_int_equal(count(txt, "\"event_type\":\"tls\""), 0); /* no handshake seen */
        free(txt);
    }
    /* handshake message over the cap: skipped and counted; garbage cert */
    {
        harness h;
        h_init(&h);
        static const uint8_t big[] = {22, 3, 3, 0, 4, 11, 0x10, 0, 0};
        h_feed(&h, 1, big, sizeof big, 0);
        /* the rest of that message is skipped even though it is 1 MiB */
        uint8_t rec[5 + 16384];
        rec[0] = 22; rec[1] = 3; rec[2] = 3; rec[3] = 0x40; rec[4] = 0;
        memset(rec + 5, 0x5a, 16384);
        for (int i = 0; i < 4; i++)
            h_feed(&h, 1, rec, sizeof rec, 0);
        bf_tls_counters cnt = *bf_tls_state_counters(h.st);
        assert_int_equal(cnt.dropped_bytes, 4 * 16384);
        char *txt = h_finish(&h, NULL);
        assert_non_null(strstr(txt, "HANDSHAKE_INVALID_LENGTH"));
        free(txt);

        h_init(&h);
        /* Certificate with a 10-byte "certificate" of junk, then a length
         * running past the message */
        static const uint8_t cm[] = {22, 3, 3, 0, 24, 11, 0, 0, 20, 0, 0, 17, 0, 0, 10,
                                     0x30, 0x82, 0xff, 0xff, 1, 2, 3, 4, 5, 6,
                                     0, 0, 99, 1};
        h_feed(&h, 1, cm, sizeof cm, 1);
        txt = h_finish(&h, NULL);
        assert_non_null(strstr(txt, "INVALID_CERTIFICATE"));
        assert_non_null(strstr(txt, "CERTIFICATE_INVALID_DER"));
        assert_non_null(strstr(txt, "CERTIFICATE_INVALID_LENGTH"));
        assert_int_equal(n_cert, 0);
        free(txt);
    }
    /* SNI anomalies, heartbeat overflow, unknown handshake type, truncation */
    {
        harness h;
        h_init(&h);
        size_t n = client_hello(b, "x.example");
        b[n - 9 - 3] = 7; /* name type 7 */
        h_feed(&h, 0, b, n, 0);
        static const uint8_t hb[] = {24, 3, 3, 0, 3, 1, 0x40, 0x00};
        h_feed(&h, 0, hb, sizeof hb, 0);
        static const uint8_t hs[] = {22, 3, 3, 0, 4, 99, 0, 0, 0};
        h_feed(&h, 1, hs, sizeof hs, 0);
        static const uint8_t trunc[] = {22, 3, 3, 0, 50, 2, 0, 0, 46, 3};
        h_feed(&h, 1, trunc, sizeof trunc, 0); /* flow ends mid-record */
        char *txt = h_finish(&h, NULL);
        assert_non_null(strstr(txt, "INVALID_SNI_TYPE"));
        assert_non_null(strstr(txt, "HEARTBEAT_MESSAGE"));
        assert_non_null(strstr(txt, "OVERFLOW_HEARTBEAT_MESSAGE"));
        assert_non_null(strstr(txt, "INVALID_HANDSHAKE_MESSAGE"));
        assert_null(strstr(txt, "\"sni\""));
        free(txt);
    }
    /* a gap: give up, log what was seen, ignore the rest */
    {
        harness h;
        h_init(&h);
        size_t n = client_hello(b, "gap.example");
        h_feed(&h, 0, b, n - 3, 0);
        bf_parser_tls.parse(&h.ctx, &h.f, h.st, &h.p, 0, NULL, 0, 100);
        h_feed(&h, 0, b, n, 0);
        char *txt = h_finish(&h, NULL);
        assert_int_equal(count(txt, "\"event_type\":\"tls\""), 0); /* hello incomplete */
        free(txt);
        h_init(&h);
        h_feed(&h, 0, b, n, 0);
        bf_parser_tls.parse(&h.ctx, &h.f, h.st, &h.p, 1, NULL, 0, 100);
        txt = h_finish(&h, NULL);
        assert_int_equal(count(txt, "\"event_type\":\"tls\""), 1);
        assert_non_null(strstr(txt, "gap.example"));
        free(txt);
    }
}

/* Random bytes, and a real handshake with bytes flipped: no crash, no leak,
 * valid EVE. */
static void test_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    capture cap = {0};
    bool have = load_ssl();
    SSL_SESSION *sess = have ? handshake(&cap, TLS1_2_VERSION, NULL) : NULL;
    for (int it = 0; it < 300; it++) {
        harness h;
        h_init(&h);
        h.novalidate = it % 50 > 1;
        if (have && it % 2) {
            for (int i = 0; i < cap.n; i++) {
                uint8_t *c = malloc(cap.c[i].n);
                memcpy(c, cap.c[i].b, cap.c[i].n);
                for (int k = 0; k < 3; k++) {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    c[x % cap.c[i].n] ^= (uint8_t)(x >> 24);
                }
                h_feed(&h, cap.c[i].dir, c, cap.c[i].n, (unsigned)it);
                free(c);
            }
        } else {
            uint8_t buf[600];
            for (int r = 0; r < 6; r++) {
                for (size_t i = 0; i < sizeof buf; i++) {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    buf[i] = (uint8_t)x;
                }
                /* mostly plausible record headers */
                buf[0] = (uint8_t)(20 + x % 5);
                buf[1] = 3;
                buf[2] = (uint8_t)(x % 4);
                buf[3] = 0;
                buf[5] = (uint8_t)(x % 16);
                h_feed(&h, r & 1, buf, sizeof buf, (unsigned)it);
            }
        }
        char *txt = h_finish(&h, NULL);
        free(txt);
    }
    if (sess)
        L.SSL_SESSION_free(sess);
    cap_free(&cap);
}


/* ---- BF_BUS_TX views (signature engine) -------------------------------------- */

#include "app/tx.h"

static const char *const g_dbuf_names[] = {
#define X(id, kw, legacy, app, dirs, multi) #id,
#include "detect/buffers.def"
#undef X
};

typedef struct txrec {
    int dir;
    bool done[2];
    uint64_t tx_id;
    uint16_t app;
    char dump[4096];       /* "NAME[i]=value\n"; TLS_CERTS as "TLS_CERTS[i]=<len>" */
    bool cert_der_ok;      /* TLS_CERTS[0] is the DER of the test certificate */
    char meta[4096];
} txrec;

static txrec g_tx[32];
static int g_ntx;
static uint8_t *g_der;
static int g_derlen;
static harness *g_txh;

static void on_tx(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_tx_view *v = m->data;
    if (g_ntx >= 32)
        return;
    txrec *r = &g_tx[g_ntx++];
    memset(r, 0, sizeof *r);
    r->dir = v->dir;
    r->done[0] = v->done[0];
    r->done[1] = v->done[1];
    r->tx_id = v->tx_id;
    r->app = v->app_proto;
    size_t o = 0;
    for (int id = 0; id < BF_DBUF_MAX; id++) {
        for (unsigned k = 0; k < v->bufs[id].n; k++) {
            const bf_dbuf *d = &v->bufs[id].v[k];
            o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "%s[%u]=", g_dbuf_names[id], k);
            if (id == BF_DBUF_TLS_CERTS) {
                o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "<%u>", d->len);
                if (k == 0)
                    r->cert_der_ok = g_der && d->len == (uint32_t)g_derlen &&
                                     memcmp(d->p, g_der, d->len) == 0;
            } else {
                for (uint32_t i = 0; i < d->len && o + 2 < sizeof r->dump; i++)
                    r->dump[o++] = (d->p[i] >= 32 && d->p[i] < 127) ? (char)d->p[i] : '.';
            }
            o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "\n");
        }
    }
    assert_non_null(v->log_meta);
    bf_json j;
    bf_json_init(&j, 256);
    bf_json_open_obj(&j, NULL);
    v->log_meta(v->log_ud, &j);
    bf_json_close_obj(&j);
    snprintf(r->meta, sizeof r->meta, "%.*s", (int)j.len, j.buf);
    bf_json_free(&j);
    if (g_txh) { /* an alert line with the object: checked against the schema */
        bf_eve *e = &g_txh->e;
        bf_eve_begin(e, "alert", g_txh->p.ts, NULL, &g_txh->f);
        bf_json_open_obj(&e->j, "alert");
        bf_json_uint(&e->j, "signature_id", 1);
        bf_json_str(&e->j, "signature", "tx view test");
        bf_json_close_obj(&e->j);
        v->log_meta(v->log_ud, &e->j);
        bf_eve_end(e);
    }
}

/* "NAME[0]=" value of a record's dump, or NULL. */
static const char *tx_val(const txrec *r, const char *name, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s[0]=", name);
    const char *p = r->dump;
    while ((p = strstr(p, pat)) && p != r->dump && p[-1] != '\n')
        p++;
    if (!p)
        return NULL;
    p += strlen(pat);
    const char *e = strchr(p, '\n');
    snprintf(out, outlen, "%.*s", (int)(e - p), p);
    return out;
}

static void test_tx_views(void **state)
{
    (void)state;
    if (!load_ssl())
        skip();
    capture cap = {0};
    SSL_SESSION *sess = handshake(&cap, TLS1_2_VERSION, NULL);
    g_derlen = i2d_X509(cert, NULL);
    g_der = malloc((size_t)g_derlen);
    uint8_t *q = g_der;
    i2d_X509(cert, &q);
    uint8_t md[20];
    unsigned ml;
    X509_digest(cert, EVP_sha1(), md, &ml);
    char fp[61];
    for (int i = 0; i < 20; i++)
        sprintf(fp + 3 * i, "%02x%s", md[i], i < 19 ? ":" : "");
    for (unsigned split = 0; split < 3; split++) {
        harness h;
        h_init(&h);
        bf_bus_subscribe(&h.bus, BF_BUS_TX, on_tx, NULL);
        g_ntx = 0;
        g_txh = &h;
        feed_capture(&h, &cap, split);
        char v[512];
        /* the ClientHello first: dir 0, nothing done */
        assert_true(g_ntx >= 3);
        txrec *r = &g_tx[0];
        assert_int_equal(r->app, BF_APP_TLS);
        assert_int_equal(r->dir, 0);
        assert_false(r->done[0]);
        assert_false(r->done[1]);
        assert_int_equal(r->tx_id, 0);
        assert_string_equal(tx_val(r, "TLS_SNI", v, sizeof v), "mairie.example");
        char ja3s[512], ja3h[64];
        assert_non_null(tx_val(r, "JA3_STRING", ja3s, sizeof ja3s));
        assert_non_null(tx_val(r, "JA3_HASH", ja3h, sizeof ja3h));
        assert_int_equal(strlen(ja3h), 32);
        uint8_t d5[16];
        unsigned dl;
        EVP_Digest(ja3s, strlen(ja3s), d5, &dl, EVP_md5(), NULL);
        char hex[33];
        for (int i = 0; i < 16; i++)
            sprintf(hex + 2 * i, "%02x", d5[i]);
        assert_string_equal(hex, ja3h);
        assert_non_null(tx_val(r, "JA4_HASH", v, sizeof v));
        assert_int_equal(strncmp(v, "t13d", 4), 0);
        assert_null(tx_val(r, "JA3S_HASH", v, sizeof v));
        assert_null(tx_val(r, "TLS_CERT_SUBJECT", v, sizeof v));
        assert_non_null(strstr(r->meta, "{\"tls\":{"));
        assert_non_null(strstr(r->meta, "\"sni\":\"mairie.example\""));
        /* the server's flight: dir 1, JA3S and the certificate */
        int ci = -1;
        for (int i = 1; i < g_ntx && ci < 0; i++)
            if (tx_val(&g_tx[i], "TLS_CERT_SUBJECT", v, sizeof v))
                ci = i;
        assert_true(ci > 0);
        r = &g_tx[ci];
        assert_int_equal(r->dir, 1);
        assert_string_equal(v, "C=FR, O=Ville de Test, CN=mairie.example");
        assert_string_equal(tx_val(r, "TLS_CERT_ISSUER", v, sizeof v),
                            "C=FR, O=Ville de Test, CN=mairie.example");
        assert_string_equal(tx_val(r, "TLS_CERT_SERIAL", v, sizeof v), "00:8A:BC:01:02:03");
        assert_string_equal(tx_val(r, "TLS_CERT_FP", v, sizeof v), fp);
        assert_non_null(tx_val(r, "JA3S_HASH", v, sizeof v));
        assert_int_equal(strlen(v), 32);
        assert_non_null(tx_val(r, "JA3S_STRING", v, sizeof v));
        assert_int_equal(strncmp(v, "771,", 4), 0);
        assert_string_equal(tx_val(r, "TLS_SNI", v, sizeof v), "mairie.example");
        assert_true(r->cert_der_ok);
        assert_null(strstr(r->dump, "TLS_CERTS[1]"));
        /* both sides end (CCS): exactly one view with both done, the last,
         * still carrying everything */
        int nfinal = 0;
        for (int i = 0; i < g_ntx; i++) {
            nfinal += g_tx[i].done[0] && g_tx[i].done[1];
            assert_int_equal(g_tx[i].tx_id, 0);
            if (i)  /* done flags never go back */
                assert_true((!g_tx[i - 1].done[0] || g_tx[i].done[0]) &&
                            (!g_tx[i - 1].done[1] || g_tx[i].done[1]));
        }
        assert_int_equal(nfinal, 1);
        r = &g_tx[g_ntx - 1];
        assert_true(r->done[0] && r->done[1]);
        assert_true(r->cert_der_ok);
        assert_non_null(tx_val(r, "JA3_HASH", v, sizeof v));
        assert_non_null(tx_val(r, "TLS_CERT_FP", v, sizeof v));
        int before = g_ntx;
        char *txt = h_finish(&h, NULL);
        assert_int_equal(g_ntx, before); /* already final: nothing at flow end */
        assert_int_equal(count(txt, "\"event_type\":\"alert\""), g_ntx);
        free(txt);
        g_txh = NULL;
    }

    /* cut before the server answers: the flow end publishes both done */
    harness h;
    h_init(&h);
    bf_bus_subscribe(&h.bus, BF_BUS_TX, on_tx, NULL);
    g_ntx = 0;
    g_txh = &h;
    h_feed(&h, cap.c[0].dir, cap.c[0].b, cap.c[0].n, 0);
    assert_int_equal(g_ntx, 1);
    char *txt = h_finish(&h, NULL);
    assert_int_equal(g_ntx, 2);
    assert_true(g_tx[1].done[0] && g_tx[1].done[1]);
    char v[256];
    assert_string_equal(tx_val(&g_tx[1], "TLS_SNI", v, sizeof v), "mairie.example");
    free(txt);
    g_txh = NULL;

    /* without a BF_BUS_TX subscriber: nothing published */
    h_init(&h);
    feed_capture(&h, &cap, 0);
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);
    free(h_finish(&h, NULL));
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);

    free(g_der);
    g_der = NULL;
    L.SSL_SESSION_free(sess);
    cap_free(&cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja4_spec),
        cmocka_unit_test(test_tls12_handshake),
        cmocka_unit_test(test_tls13_handshake),
        cmocka_unit_test(test_client_cert),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_tx_views),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    X509_free(cert);
    EVP_PKEY_free(key);
    return r;
}
