/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/rdp: X.224 Connection Request (cookie, RDP_NEG_REQ) and
 * Confirm (RDP_NEG_RSP / RDP_NEG_FAILURE) built per MS-RDPBCGR, fed in odd
 * chunks; TLS byte counts; malformed input; EVE schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/rdp/rdp.h"
#include "app_harness.h"

static const uint32_t odd[] = {1, 3, 7, 2, 13, 5, 0};

/* TPKT + X.224 CR with "Cookie: mstshash=administrator" + NEG_REQ(SSL|HYBRID) */
static const uint8_t cr[] = {
    0x03, 0x00, 0x00, 0x33, 0x2e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    'C', 'o', 'o', 'k', 'i', 'e', ':', ' ', 'm', 's', 't', 's', 'h', 'a', 's', 'h', '=',
    'a', 'd', 'm', 'i', 'n', 'i', 's', 't', 'r', 'a', 't', 'o', 'r', '\r', '\n',
    0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
};
/* CC with NEG_RSP: hybrid (CredSSP) */
static const uint8_t cc_ok[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
    0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00,
};
/* CC with NEG_FAILURE: HYBRID_REQUIRED_BY_SERVER */
static const uint8_t cc_fail[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
    0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00,
};
static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};

static void test_negotiated(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        const uint32_t *ch = pass ? odd : NULL;
        harness h;
        h_init(&h, &bf_parser_rdp, 40002, 3389);
        h_feed(&h, 0, cr, sizeof cr, ch);
        h_feed(&h, 1, cc_ok, sizeof cc_ok, ch);
        h_feed(&h, 0, tls, sizeof tls, ch);
        h_feed(&h, 1, tls, sizeof tls, ch);
        h_feed(&h, 1, tls, sizeof tls, ch);
        bf_rdp_state *s = h.st;
        assert_true(s->neg_req);
        assert_int_equal(s->requested, BF_RDP_PROTO_SSL | BF_RDP_PROTO_HYBRID);
        assert_true(s->neg_rsp);
        assert_int_equal(s->selected, BF_RDP_PROTO_HYBRID);
        assert_string_equal(bf_rdp_protocol_name(s->selected), "hybrid");
        assert_true(s->tls);
        assert_int_equal(s->data_bytes[0], sizeof tls);
        assert_int_equal(s->data_bytes[1], 2 * sizeof tls);
        char *eve = h_end(&h);
        assert_int_equal(h.nlogin, 1);
        assert_string_equal(h.logins[0].service, "rdp");
        assert_string_equal(h.logins[0].user, "administrator");
        assert_int_equal(h.logins[0].outcome, BF_LOGIN_UNKNOWN);
        assert_int_equal(h.logins[0].attempts, 1);
        assert_non_null(strstr(eve, "\"rdp\":{\"tx_id\":0,\"event_type\":\"initial_request\","
                                    "\"cookie\":\"administrator\"}"));
        assert_non_null(strstr(eve, "\"rdp\":{\"tx_id\":1,\"event_type\":\"initial_response\"}"));
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }
}

static void test_failure_and_no_cookie(void **unused)
{
    (void)unused;
    harness h;
    h_init(&h, &bf_parser_rdp, 40002, 3389);
    h_feed(&h, 0, cr, sizeof cr, odd);
    h_feed(&h, 1, cc_fail, sizeof cc_fail, odd);
    bf_rdp_state *s = h.st;
    assert_true(s->neg_fail);
    assert_int_equal(s->fail_code, 5);
    assert_string_equal(bf_rdp_failure_reason(s->fail_code), "hybrid required by server");
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].outcome, BF_LOGIN_FAILURE);
    assert_int_equal(h_validate(&h), 0);
    free(eve);

    /* CR without cookie nor NEG_REQ, no answer: one attempt, no user */
    static const uint8_t bare[] = {0x03, 0x00, 0x00, 0x0b, 0x06, 0xe0, 0, 0, 0, 0, 0};
    h_init(&h, &bf_parser_rdp, 40002, 3389);
    h_feed(&h, 0, bare, sizeof bare, NULL);
    eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].user_len, -1);
    assert_int_equal(h_count(eve, "\"event_type\":\"rdp\""), 1);
    assert_null(strstr(eve, "cookie"));
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_malformed(void **unused)
{
    (void)unused;
    harness h;
    /* not TPKT */
    h_init(&h, &bf_parser_rdp, 40002, 3389);
    h_str(&h, 0, "GET / HTTP/1.1\r\n\r\n", odd);
    assert_int_equal(((bf_rdp_state *)h.st)->phase[0], BF_RDP_DONE);
    char *eve = h_end(&h);
    assert_int_equal(h.nlogin, 0);
    assert_string_equal(eve, "");
    free(eve);
    unlink(h.path);

    /* TPKT longer than the cap, TPKT too short, truncated cookie, cut CR */
    static const uint8_t huge[] = {0x03, 0x00, 0xff, 0xff, 0x06, 0xe0};
    static const uint8_t tiny[] = {0x03, 0x00, 0x00, 0x05, 0x00};
    h_init(&h, &bf_parser_rdp, 40002, 3389);
    h_feed(&h, 0, huge, sizeof huge, NULL);
    h_feed(&h, 1, tiny, sizeof tiny, NULL);
    eve = h_end(&h);
    assert_int_equal(h.nlogin, 0);
    free(eve);
    unlink(h.path);

    h_init(&h, &bf_parser_rdp, 40002, 3389);
    uint8_t c2[600];
    size_t n = 0;
    c2[n++] = 3; c2[n++] = 0; c2[n++] = 0x02; c2[n++] = 0x58;   /* 600 */
    c2[n++] = 0x06; c2[n++] = 0xe0;
    memset(c2 + n, 0, 5);
    n += 5;
    memcpy(c2 + n, "Cookie: mstshash=", 17);
    n += 17;
    memset(c2 + n, 'u', sizeof c2 - n);   /* no CRLF, longer than the cap */
    h_feed(&h, 0, c2, sizeof c2, odd);
    bf_rdp_state *s = h.st;
    assert_int_equal(s->cookie_len, BF_RDP_COOKIE_MAX);
    assert_false(s->neg_req);
    /* cut in the middle, then a gap */
    h_feed(&h, 1, cc_ok, 7, NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 1, NULL, 0, 20);
    h_feed(&h, 1, cc_ok, sizeof cc_ok, NULL);
    assert_false(s->rsp_seen);
    eve = h_end(&h);
    assert_int_equal(h.nlogin, 1);
    assert_int_equal(h.logins[0].user_len, BF_RDP_COOKIE_MAX);
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiated),
        cmocka_unit_test(test_failure_and_no_cookie),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
