/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/ssh: banners, KEXINIT built by hand per RFC 4253
 * (HASSH, agreed kex), NEWKEYS, the authentication inference, odd chunking,
 * malformed input, gaps; EVE validated against Suricata's schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/ssh/ssh.h"
#include "app_harness.h"

static const uint32_t odd[] = {1, 3, 7, 2, 13, 5, 0};

#define C_HASSH_STR                                                                          \
    "curve25519-sha256,ecdh-sha2-nistp256,ext-info-c;chacha20-poly1305@openssh.com,aes128-" \
    "ctr;umac-64-etm@openssh.com,hmac-sha2-256;none,zlib@openssh.com"
#define C_HASSH "0bb74784ad0d73f539e0da36974c0eef"
#define S_HASSH_STR                                                                          \
    "ecdh-sha2-nistp256,curve25519-sha256,ext-info-s;chacha20-poly1305@openssh.com;hmac-"   \
    "sha2-512;none"
#define S_HASSH "94afcc8a59bfe45724810aced60152d5"

/* An unencrypted binary packet: payload padded to a multiple of 8. */
static size_t packet(uint8_t *out, const uint8_t *payload, size_t plen)
{
    size_t pad = 8 - ((5 + plen) % 8);
    if (pad < 4)
        pad += 8;
    uint32_t len = (uint32_t)(1 + plen + pad);
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    out[4] = (uint8_t)pad;
    memcpy(out + 5, payload, plen);
    memset(out + 5 + plen, 0, pad);
    return 4 + len;
}

static size_t put_list(uint8_t *p, const char *s)
{
    uint32_t l = (uint32_t)strlen(s);
    p[0] = (uint8_t)(l >> 24);
    p[1] = (uint8_t)(l >> 16);
    p[2] = (uint8_t)(l >> 8);
    p[3] = (uint8_t)l;
    memcpy(p + 4, s, l);
    return 4 + l;
}

static size_t kexinit(uint8_t *out, const char *const lists[10])
{
    uint8_t pl[4096];
    size_t o = 0;
    pl[o++] = 20;
    for (int i = 0; i < 16; i++)
        pl[o++] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 10; i++)
        o += put_list(pl + o, lists[i]);
    pl[o++] = 0;
    memset(pl + o, 0, 4);
    o += 4;
    return packet(out, pl, o);
}

static const char *const cli_lists[10] = {
    "curve25519-sha256,ecdh-sha2-nistp256,ext-info-c", "ssh-ed25519,rsa-sha2-512",
    "chacha20-poly1305@openssh.com,aes128-ctr", "aes256-ctr",
    "umac-64-etm@openssh.com,hmac-sha2-256", "hmac-sha1",
    "none,zlib@openssh.com", "none", "", ""};
static const char *const srv_lists[10] = {
    "ecdh-sha2-nistp256,curve25519-sha256,ext-info-s", "ssh-ed25519",
    "aes128-ctr", "chacha20-poly1305@openssh.com",
    "hmac-sha2-256", "hmac-sha2-512",
    "none", "none", "", ""};

static uint8_t junk[4096];

/* Banners, KEXINITs, kex packets, NEWKEYS both ways.  The server's NEWKEYS
 * is followed by 100 encrypted bytes (EXT_INFO) in the same delivery, the
 * client's by its 64-byte SERVICE_REQUEST. */
static void handshake(harness *h, const uint32_t *ch)
{
    uint8_t buf[8192];
    h_str(h, 1, "Pre-banner notice\r\nSSH-2.0-OpenSSH_8.4p1 Debian-5\r\n", ch);
    h_str(h, 0, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", ch);
    size_t n = kexinit(buf, srv_lists);
    h_feed(h, 1, buf, n, ch);
    n = kexinit(buf, cli_lists);
    h_feed(h, 0, buf, n, ch);
    uint8_t init[40] = {30};
    n = packet(buf, init, sizeof init);
    h_feed(h, 0, buf, n, ch);
    uint8_t reply[300] = {31};
    n = packet(buf, reply, sizeof reply);
    uint8_t nk[1] = {21};
    n += packet(buf + n, nk, 1);
    memcpy(buf + n, junk, 100);
    n += 100;
    h_feed(h, 1, buf, n, ch);
    n = packet(buf, nk, 1);
    memcpy(buf + n, junk, 64);
    n += 64;
    h_feed(h, 0, buf, n, ch);
}

static void enc(harness *h, int dir, uint32_t len, const uint32_t *ch)
{
    h_feed(h, dir, junk, len, ch);
}

static void check_eve(harness *h, char *eve)
{
    assert_int_equal(h_count(eve, "\"event_type\":\"ssh\""), 1);
    assert_non_null(strstr(eve, "\"client\":{\"proto_version\":\"2.0\",\"software_version\":"
                                "\"OpenSSH_9.2p1\",\"hassh\":{\"hash\":\"" C_HASSH
                                "\",\"string\":\"" C_HASSH_STR "\"}}"));
    assert_non_null(strstr(eve, "\"server\":{\"proto_version\":\"2.0\",\"software_version\":"
                                "\"OpenSSH_8.4p1\",\"hassh\":{\"hash\":\"" S_HASSH
                                "\",\"string\":\"" S_HASSH_STR "\"}}"));
    assert_non_null(strstr(eve, "\"src_ip\":\"10.0.0.1\",\"src_port\":40000"));
    assert_int_equal(h_validate(h), 0);
}

static void test_failures(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        const uint32_t *ch = pass ? odd : NULL;
        harness h;
        h_init(&h, &bf_parser_ssh, 40000, 22);
        handshake(&h, ch);
        bf_ssh_state *s = h.st;
        assert_string_equal(s->kex, "curve25519-sha256");
        assert_int_equal(s->side[0].phase, BF_SSH_ENCRYPTED);
        assert_int_equal(s->side[1].phase, BF_SSH_ENCRYPTED);
        assert_int_equal(h.banners, 2);
        enc(&h, 1, 64, ch);   /* SERVICE_ACCEPT */
        enc(&h, 0, 80, ch);   /* "none" */
        enc(&h, 1, 80, ch);   /* FAILURE */
        for (int i = 0; i < 3; i++) {
            enc(&h, 0, 96, ch);   /* password */
            enc(&h, 1, 80, ch);   /* FAILURE */
        }
        assert_int_equal(s->side[0].enc_bytes, 64 + 80 + 3 * 96);
        char *eve = h_end(&h);
        assert_int_equal(h.nlogin, 1);
        assert_string_equal(h.logins[0].service, "ssh");
        assert_int_equal(h.logins[0].user_len, -1);
        assert_int_equal(h.logins[0].outcome, BF_LOGIN_FAILURE);
        assert_int_equal(h.logins[0].attempts, 3);
        assert_int_equal(h.f.app_mem, 0);
        check_eve(&h, eve);
        free(eve);
    }
}

static void test_success_small_packet(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ssh, 40000, 22);
    handshake(&h, odd);
    enc(&h, 1, 64, NULL);
    enc(&h, 0, 80, NULL);
    enc(&h, 1, 80, NULL);   /* none -> failure list */
    enc(&h, 0, 96, NULL);
    enc(&h, 1, 80, NULL);   /* wrong password */
    enc(&h, 0, 96, NULL);
    enc(&h, 1, 48, NULL);   /* USERAUTH_SUCCESS */
    enc(&h, 0, 112, NULL);
    enc(&h, 1, 600, NULL);
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].outcome, BF_LOGIN_SUCCESS);
    assert_int_equal(h.logins[0].attempts, 2);
    check_eve(&h, eve);
    free(eve);
}

static void test_success_activity(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ssh, 40000, 22);
    handshake(&h, NULL);
    enc(&h, 1, 64, NULL);
    enc(&h, 0, 80, NULL);
    enc(&h, 1, 80, NULL);    /* none */
    enc(&h, 0, 700, NULL);   /* publickey + signature */
    enc(&h, 1, 160, NULL);   /* success + ext-info, coalesced */
    enc(&h, 0, 120, NULL);   /* channel open */
    enc(&h, 1, 900, NULL);   /* hostkeys, confirmation */
    enc(&h, 0, 200, NULL);
    enc(&h, 1, 300, NULL);
    enc(&h, 0, 100, NULL);
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].outcome, BF_LOGIN_SUCCESS);
    assert_int_equal(h.logins[0].attempts, 1);
    free(eve);
    unlink(h.path);
}

static void test_banner_only_and_ssh1(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ssh, 40000, 22);
    h_str(&h, 1, "SSH-1.5-Cisco-1.25\n", odd);
    h_str(&h, 0, "SSH-1.5-PuTTY_Release_0.60\r\n", odd);
    h_feed(&h, 0, junk, 500, odd);
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 0);   /* no authentication visible */
    assert_non_null(strstr(eve, "\"server\":{\"proto_version\":\"1.5\",\"software_version\":"
                                "\"Cisco-1.25\"}"));
    assert_non_null(strstr(eve, "\"software_version\":\"PuTTY_Release_0.60\""));
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* a server banner only (scanner) */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    h_str(&h, 1, "SSH-1.99-Cisco_server-1.24\r\n", NULL);
    eve = h_end(&h);
    assert_non_null(strstr(eve, "\"ssh\":{\"server\":{\"proto_version\":\"1.99\","
                                "\"software_version\":\"Cisco_server-1.24\"}}"));
    assert_null(strstr(eve, "\"client\""));
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* nothing at all: no event */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    eve = h_end(&h);
    assert_string_equal(eve, "");
    free(eve);
    unlink(h.path);
}

static void test_malformed(void **unused)
{
    (void)unused;
    harness h;
    /* absurd packet length, then garbage */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    h_str(&h, 0, "SSH-2.0-x\r\n", NULL);
    uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 4, 20, 1, 2, 3};
    h_feed(&h, 0, bad, sizeof bad, NULL);
    assert_int_equal(((bf_ssh_state *)h.st)->side[0].phase, BF_SSH_DONE);
    h_feed(&h, 0, junk, sizeof junk, odd);
    /* a KEXINIT whose name-lists overrun the packet */
    h_str(&h, 1, "SSH-2.0-y\r\n", NULL);
    uint8_t kx[64] = {20};
    kx[17] = 0x7f;   /* first list length 0x7f000000.. */
    uint8_t pk[128];
    size_t n = packet(pk, kx, sizeof kx);
    h_feed(&h, 1, pk, n, odd);
    assert_false(((bf_ssh_state *)h.st)->side[1].kexinit);
    /* lines without a banner: gives up past the cap, no unbounded buffer */
    for (int i = 0; i < 200; i++)
        h_str(&h, 1, "garbage line that is not a banner at all..........\r\n", NULL);
    char *eve = h_end(&h);
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* a banner longer than the line cap */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    char longb[2000];
    memset(longb, 'A', sizeof longb);
    memcpy(longb, "SSH-2.0-", 8);
    longb[sizeof longb - 2] = '\r';
    longb[sizeof longb - 1] = '\n';
    h_feed(&h, 0, longb, sizeof longb, odd);
    bf_ssh_state *s = h.st;
    assert_true(s->side[0].banner);
    assert_int_equal(strlen(s->side[0].soft), BF_SSH_LINE_MAX - 8);
    assert_int_equal(s->side[0].drops, 1);
    assert_int_equal(s->side[0].phase, BF_SSH_PACKETS);
    eve = h_end(&h);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_gap(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ssh, 40000, 22);
    handshake(&h, NULL);
    enc(&h, 1, 64, NULL);
    enc(&h, 0, 80, NULL);
    enc(&h, 1, 80, NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 0, NULL, 0, 500);
    enc(&h, 0, 96, NULL);
    enc(&h, 1, 80, NULL);
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].outcome, BF_LOGIN_UNKNOWN);
    free(eve);
    unlink(h.path);

    /* a gap during the handshake: parsing stops, nothing breaks */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    h_str(&h, 0, "SSH-2.0-Open", NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 0, NULL, 0, 10);
    h_feed(&h, 0, junk, 300, NULL);
    eve = h_end(&h);
    assert_string_equal(eve, "");
    assert_int_equal(h.nlogin, 0);
    free(eve);
    unlink(h.path);
}

static void test_eve_helper(void **unused)
{
    (void)unused;
    bf_ssh_state s;
    memset(&s, 0, sizeof s);
    bf_json j;
    bf_json_init(&j, 64);
    assert_false(bf_ssh_eve_fields(&j, &s));
    assert_int_equal(j.len, 0);
    bf_json_free(&j);
}


/* ------------------------------------------------------------ BF_BUS_TX */

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
    char dump[2048];
    char meta[2048];
} txrec;

static txrec g_tx[32];
static int g_ntx;

static void on_tx(void *ud, const bf_bus_msg *m)
{
    harness *h = ud;
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
            o += (size_t)snprintf(r->dump + o, sizeof r->dump - o, "%s[%u]=%.*s\n",
                                  g_dbuf_names[id], k, (int)d->len, (const char *)d->p);
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
    /* an alert line with the object, validated with the rest of the EVE */
    bf_eve_begin(&h->eve, "alert", h->f.last, NULL, &h->f);
    bf_json_open_obj(&h->eve.j, "alert");
    bf_json_uint(&h->eve.j, "signature_id", 1);
    bf_json_str(&h->eve.j, "signature", "tx view test");
    bf_json_close_obj(&h->eve.j);
    v->log_meta(v->log_ud, &h->eve.j);
    bf_eve_end(&h->eve);
}

static void expect_tx(int i, int dir, bool d0, bool d1, const char *dump)
{
    assert_true(i < g_ntx);
    const txrec *r = &g_tx[i];
    if (r->dir != dir || r->done[0] != d0 || r->done[1] != d1 || strcmp(r->dump, dump) != 0)
        fprintf(stderr, "tx %d: dir %d done %d/%d dump:\n%s\nexpected:\n%s\n", i, r->dir,
                r->done[0], r->done[1], r->dump, dump);
    assert_int_equal(r->app, BF_APP_SSH);
    assert_int_equal(r->tx_id, 0);
    assert_int_equal(r->dir, dir);
    assert_int_equal(r->done[0], d0);
    assert_int_equal(r->done[1], d1);
    assert_string_equal(r->dump, dump);
}

#define TX_C_BANNER "SSH_PROTO[0]=2.0\nSSH_SOFTWARE[0]=OpenSSH_9.2p1\n"
#define TX_S_BANNER "SSH_PROTO[0]=2.0\nSSH_SOFTWARE[0]=OpenSSH_8.4p1\n"
#define TX_C_HASSH "SSH_HASSH[0]=" C_HASSH "\nSSH_HASSH_STRING[0]=" C_HASSH_STR "\n"
#define TX_S_HASSH "SSH_HASSH_SERVER[0]=" S_HASSH "\nSSH_HASSH_SERVER_STRING[0]=" S_HASSH_STR "\n"

static void test_tx_views(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        const uint32_t *ch = pass ? odd : NULL;
        harness h;
        h_init(&h, &bf_parser_ssh, 40000, 22);
        bf_bus_subscribe(&h.bus, BF_BUS_TX, on_tx, &h);
        g_ntx = 0;
        handshake(&h, ch);
        enc(&h, 0, 200, ch);
        enc(&h, 1, 300, ch);
        /* banners (each side's proto/software in its own direction), the
         * KEXINITs, then each side's NEWKEYS */
        assert_int_equal(g_ntx, 6);
        expect_tx(0, 1, false, false, TX_S_BANNER);
        expect_tx(1, 0, false, false, TX_C_BANNER);
        expect_tx(2, 1, false, false, TX_S_BANNER TX_S_HASSH);
        expect_tx(3, 0, false, false, TX_C_BANNER TX_C_HASSH TX_S_HASSH);
        expect_tx(4, 1, false, true, TX_S_BANNER TX_C_HASSH TX_S_HASSH);
        expect_tx(5, 0, true, true, TX_C_BANNER TX_C_HASSH TX_S_HASSH);
        assert_non_null(strstr(g_tx[5].meta, "{\"ssh\":{\"client\":{\"proto_version\":\"2.0\""));
        assert_non_null(strstr(g_tx[5].meta, "\"server\":{\"proto_version\":\"2.0\","
                                             "\"software_version\":\"OpenSSH_8.4p1\""));
        char *eve = h_end(&h);
        assert_int_equal(g_ntx, 6); /* already final */
        assert_int_equal(h_count(eve, "\"event_type\":\"alert\""), 6);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }

    /* a server banner only (suricata-verify bug-4903-01's banner, trailing
     * space): published, then once more with both done at flow end */
    harness h;
    h_init(&h, &bf_parser_ssh, 40000, 22);
    bf_bus_subscribe(&h.bus, BF_BUS_TX, on_tx, &h);
    g_ntx = 0;
    h_str(&h, 1, "SSH-1.99-Cisco_server-1.24 \r\n", NULL);
    expect_tx(0, 1, false, false, "SSH_PROTO[0]=1.99\nSSH_SOFTWARE[0]=Cisco_server-1.24\n");
    char *eve = h_end(&h);
    assert_int_equal(g_ntx, 2);
    expect_tx(1, 1, true, true, "SSH_PROTO[0]=1.99\nSSH_SOFTWARE[0]=Cisco_server-1.24\n");
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* SSH-1: the side is not parsed further, done at once */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    bf_bus_subscribe(&h.bus, BF_BUS_TX, on_tx, &h);
    g_ntx = 0;
    h_str(&h, 0, "SSH-2.0-Cisco_client-1.25\r\n", odd);
    h_str(&h, 1, "SSH-1.5-Cisco-1.25\n", odd);
    assert_int_equal(g_ntx, 2);
    expect_tx(0, 0, false, false, "SSH_PROTO[0]=2.0\nSSH_SOFTWARE[0]=Cisco_client-1.25\n");
    expect_tx(1, 1, false, true, "SSH_PROTO[0]=1.5\nSSH_SOFTWARE[0]=Cisco-1.25\n");
    eve = h_end(&h);
    assert_int_equal(g_ntx, 3);
    expect_tx(2, 1, true, true, "SSH_PROTO[0]=1.5\nSSH_SOFTWARE[0]=Cisco-1.25\n");
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* no subscriber: nothing published */
    h_init(&h, &bf_parser_ssh, 40000, 22);
    handshake(&h, NULL);
    eve = h_end(&h);
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

int main(void)
{
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failures),       cmocka_unit_test(test_success_small_packet),
        cmocka_unit_test(test_success_activity), cmocka_unit_test(test_banner_only_and_ssh1),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_gap),
        cmocka_unit_test(test_eve_helper),
        cmocka_unit_test(test_tx_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
