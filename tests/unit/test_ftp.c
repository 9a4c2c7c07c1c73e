/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/ftp: a whole control session (multi-line greeting,
 * failed and successful logins, PASV/PORT/EPSV/EPRT, preliminary replies,
 * pipelining) fed in odd chunks; caps; AUTH TLS; gaps; EVE schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/ftp/ftp.h"
#include "app_harness.h"

static const uint32_t odd[] = {1, 3, 7, 2, 13, 5, 0};

/* ---- BF_BUS_TX capture: one text line per publish -------------------- */

#include "txcap.h"


static void session(harness *h, const uint32_t *ch)
{
    h_str(h, 1, "220-Welcome\r\n220-to the server\r\n220 ready\r\n", ch);
    h_str(h, 0, "USER alice\r\n", ch);
    h_str(h, 1, "331 Password required for alice\r\n", ch);
    h_str(h, 0, "PASS wrong\r\n", ch);
    h_str(h, 1, "530 Login incorrect.\r\n", ch);
    /* pipelined: both commands before the replies */
    h_str(h, 0, "USER alice\r\nPASS secret\r\n", ch);
    h_str(h, 1, "331 Password required\r\n230-Hello\r\n230 Login successful.\r\n", ch);
    h_str(h, 0, "PASV\r\n", ch);
    h_str(h, 1, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n", ch);
    h_str(h, 0, "PORT 10,0,0,1,4,1\r\n", ch);
    h_str(h, 1, "200 PORT command successful\r\n", ch);
    h_str(h, 0, "EPSV\r\n", ch);
    h_str(h, 1, "229 Entering Extended Passive Mode (|||6446|)\r\n", ch);
    h_str(h, 0, "EPRT |1|10.0.0.1|6275|\r\n", ch);
    h_str(h, 1, "200 EPRT ok\r\n", ch);
    h_str(h, 0, "retr file.txt\n", ch);
    h_str(h, 1, "150 Opening BINARY mode\r\n", ch);
    h_str(h, 1, "226 Transfer complete\r\n", ch);
    h_str(h, 0, "QUIT\r\n", ch);
}

static void test_session(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        harness h;
        h_init(&h, &bf_parser_ftp, 40001, 21);
        session(&h, pass ? odd : NULL);
        char *eve = h_end(&h);
        assert_int_equal(h.nlogin, 2);
        assert_string_equal(h.logins[0].service, "ftp");
        assert_string_equal(h.logins[0].user, "alice");
        assert_int_equal(h.logins[0].outcome, BF_LOGIN_FAILURE);
        assert_int_equal(h.logins[0].attempts, 1);
        assert_int_equal(h.logins[1].outcome, BF_LOGIN_SUCCESS);
        assert_int_equal(h_count(eve, "\"event_type\":\"ftp\""), 11);
        assert_non_null(strstr(eve, "\"ftp\":{\"completion_code\":[\"220\",\"220\",\"220\"],"
                                    "\"reply\":[\"Welcome\",\"to the server\",\"ready\"],"
                                    "\"reply_received\":\"yes\",\"reply_truncated\":false}"));
        assert_non_null(strstr(eve, "\"command\":\"PASS\",\"command_data\":\"wrong\","
                                    "\"command_truncated\":false,\"completion_code\":[\"530\"]"));
        assert_non_null(strstr(eve, "\"completion_code\":[\"230\",\"230\"],\"reply\":[\"Hello\","
                                    "\"Login successful.\"]"));
        assert_non_null(strstr(eve, "\"command\":\"PASV\",\"completion_code\":[\"227\"],"
                                    "\"reply\":[\"Entering Passive Mode (10,0,0,2,195,80).\"],"
                                    "\"dynamic_port\":50000,"));
        assert_non_null(strstr(eve, "\"dynamic_port\":1025,\"mode\":\"active\""));
        assert_non_null(strstr(eve, "\"dynamic_port\":6446,\"reply_received\""));
        assert_non_null(strstr(eve, "\"dynamic_port\":6275,\"mode\":\"active\""));
        assert_non_null(strstr(eve, "\"command\":\"RETR\",\"command_data\":\"file.txt\","
                                    "\"command_truncated\":false,\"completion_code\":[\"150\","
                                    "\"226\"]"));
        assert_non_null(strstr(eve, "\"command\":\"QUIT\",\"reply_received\":\"no\""));
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }
}

static void test_caps(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ftp, 40001, 21);
    /* a 10 KiB command in odd chunks: truncated at the cap */
    char *big = malloc(10002);
    memcpy(big, "STOR ", 5);
    memset(big + 5, 'x', 10002 - 5);
    big[10000] = '\r';
    big[10001] = '\n';
    h_feed(&h, 0, big, 10002, odd);
    /* and one without any LF at all, then a normal command */
    h_feed(&h, 0, big, 9000, NULL);
    h_str(&h, 0, "\r\nNOOP\r\n", NULL);
    /* many unanswered commands */
    for (int i = 0; i < 100; i++)
        h_str(&h, 0, "NOOP\r\n", NULL);
    bf_ftp_state *s = h.st;
    assert_int_equal(s->qcnt, BF_FTP_MAX_PENDING);
    assert_true(s->st.pending_drops > 0);
    assert_int_equal(s->st.truncated_lines, 2);
    /* a reply with too many lines */
    h_str(&h, 1, "200-start\r\n", NULL);
    for (int i = 0; i < 200; i++)
        h_str(&h, 1, "just a continuation line\r\n", odd);
    h_str(&h, 1, "200 end\r\n", NULL);
    char *eve = h_end(&h);
    assert_non_null(strstr(eve, "\"command_truncated\":true"));
    assert_non_null(strstr(eve, "\"reply_truncated\":true"));
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
    free(big);
}

static void test_tls_gap_malformed(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_ftp, 40001, 21);
    h_str(&h, 1, "220 hi\r\n", NULL);
    h_str(&h, 0, "AUTH TLS\r\n", NULL);
    h_str(&h, 1, "234 AUTH TLS OK.\r\n", NULL);
    h_str(&h, 0, "\x16\x03\x01 binary tls USER x\r\nPASS y\r\n", NULL);
    char *eve = h_end(&h);
    assert_int_equal(h_count(eve, "\"event_type\":\"ftp\""), 2);
    assert_non_null(strstr(eve, "\"command\":\"AUTH TLS\",\"completion_code\":[\"234\"]"));
    assert_int_equal(h.nlogin, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    h_init(&h, &bf_parser_ftp, 40001, 21);
    h_str(&h, 0, "USER bob\r\nPASS x\r\n", NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 1, NULL, 0, 100);
    h_str(&h, 1, "530 no\r\n", NULL);
    eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);   /* PASS never answered: unknown */
    assert_int_equal(h.logins[0].outcome, BF_LOGIN_UNKNOWN);
    assert_string_equal(h.logins[0].user, "bob");
    free(eve);
    unlink(h.path);

    /* garbage replies, bad ports, NUL bytes, lone codes */
    h_init(&h, &bf_parser_ftp, 40001, 21);
    h_str(&h, 0, "PORT 999,1,1,1,1,1\r\nPASV\r\nEPSV\r\nEPRT |1|x|99999|\r\nPORT\r\n", odd);
    h_str(&h, 1, "200\r\n227 (1,2,3)\r\n229 (|||)\r\n200 ok\r\n\r\n", odd);
    static const uint8_t nul[] = {'S', 'T', 'O', 'R', ' ', 0, 0xff, '"', '\\', '\r', '\n'};
    h_feed(&h, 0, nul, sizeof nul, NULL);
    h_str(&h, 1, "xyz no code\r\n999-open\r\n", NULL);
    eve = h_end(&h);
    assert_null(strstr(eve, "dynamic_port"));
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

/* BF_BUS_TX: one tx per command (dir 0, done[0]) completed by its final
 * reply (both done); unanswered ones at flow end; nothing without a
 * subscriber; log_meta writes the "ftp" object of EVE (schema-valid). */
static void test_tx(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        harness h;
        h_init(&h, &bf_parser_ftp, 40001, 21);
        txcap c;
        txcap_init(&c, &h, true);
        session(&h, pass ? odd : NULL);
        char *eve = h_end(&h);
        const char *want[] = {
            "tx=0 dir=1 done=11\n",   /* the greeting: no command */
            "tx=1 dir=0 done=10 FTP_COMMAND=[USER] FTP_COMMAND_DATA=[alice]\n",
            "tx=1 dir=1 done=11 FTP_COMMAND=[USER] FTP_COMMAND_DATA=[alice]\n",
            "tx=2 dir=0 done=10 FTP_COMMAND=[PASS] FTP_COMMAND_DATA=[wrong]\n",
            "tx=2 dir=1 done=11 FTP_COMMAND=[PASS] FTP_COMMAND_DATA=[wrong]\n",
            "tx=3 dir=0 done=10 FTP_COMMAND=[USER] FTP_COMMAND_DATA=[alice]\n"
            "tx=4 dir=0 done=10 FTP_COMMAND=[PASS] FTP_COMMAND_DATA=[secret]\n"
            "tx=3 dir=1 done=11 FTP_COMMAND=[USER] FTP_COMMAND_DATA=[alice]\n"
            "tx=4 dir=1 done=11 FTP_COMMAND=[PASS] FTP_COMMAND_DATA=[secret]\n",
            "tx=5 dir=1 done=11 FTP_COMMAND=[PASV]\n",
            "tx=9 dir=0 done=10 FTP_COMMAND=[RETR] FTP_COMMAND_DATA=[file.txt]\n"
            "tx=9 dir=1 done=11 FTP_COMMAND=[RETR] FTP_COMMAND_DATA=[file.txt]\n",
            "tx=10 dir=0 done=10 FTP_COMMAND=[QUIT]\n"
            "tx=10 dir=0 done=11 FTP_COMMAND=[QUIT]\n",   /* flow end */
        };
        for (size_t i = 0; i < BF_ARRAY_LEN(want); i++) {
            if (!strstr(c.log, want[i]))
                fprintf(stderr, "missing: %s\nin:\n%s", want[i], c.log);
            assert_non_null(strstr(c.log, want[i]));
        }
        /* 10 commands published twice, the greeting once */
        assert_int_equal(c.n, 21);
        assert_int_equal(h_count(c.log, "done=11"), 11);
        assert_non_null(strstr(eve, "\"event_type\":\"alert\""));
        assert_non_null(strstr(eve, "\"tx_id\":4,\"alert\":{"));
        assert_non_null(strstr(eve, "\"ftp\":{\"command\":\"PASS\",\"command_data\":\"secret\""));
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
        free(c.log);
    }
    /* no subscriber: nothing published */
    harness h;
    h_init(&h, &bf_parser_ftp, 40001, 21);
    session(&h, NULL);
    free(h_end(&h));
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);
    unlink(h.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_tls_gap_malformed),
        cmocka_unit_test(test_tx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
