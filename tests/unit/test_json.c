/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for common/json: escaping, nesting, numbers, encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/json.h"

static char *done(bf_json *j)
{
    bf_json_append(j, "", 1);
    return j->buf;
}

static void test_nesting(void **st)
{
    (void)st;
    bf_json j;
    bf_json_init(&j, 4);
    bf_json_open_obj(&j, NULL);
    bf_json_str(&j, "a", "x");
    bf_json_open_obj(&j, "o");
    bf_json_uint(&j, "n", 0);
    bf_json_int(&j, "m", -42);
    bf_json_close_obj(&j);
    bf_json_open_arr(&j, "arr");
    bf_json_uint(&j, NULL, 1);
    bf_json_uint(&j, NULL, 18446744073709551615ULL);
    bf_json_bool(&j, NULL, false);
    bf_json_close_arr(&j);
    bf_json_bool(&j, "t", true);
    bf_json_close_obj(&j);
    assert_string_equal(done(&j),
                        "{\"a\":\"x\",\"o\":{\"n\":0,\"m\":-42},\"arr\":[1,18446744073709551615,"
                        "false],\"t\":true}");
    bf_json_free(&j);
}

static void test_escaping(void **st)
{
    (void)st;
    bf_json j;
    bf_json_init(&j, 8);
    bf_json_open_obj(&j, NULL);
    const char raw[] = "q\"b\\n\n\t\x01\x7f";
    bf_json_strn(&j, "k\"", raw, sizeof raw - 1);
    bf_json_close_obj(&j);
    assert_string_equal(done(&j), "{\"k\\\"\":\"q\\\"b\\\\n\\n\\t\\u0001\x7f\"}");
    bf_json_free(&j);
}

static void test_utf8(void **st)
{
    (void)st;
    bf_json j;
    bf_json_init(&j, 8);
    /* valid: é (c3 a9), € (e2 82 ac), 😀 (f0 9f 98 80) pass through */
    const uint8_t ok[] = {0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80};
    bf_json_strn(&j, NULL, ok, sizeof ok);
    assert_int_equal(j.len, sizeof ok + 2);
    assert_memory_equal(j.buf + 1, ok, sizeof ok);
    bf_json_reset(&j);
    /* invalid: lone continuation, truncated sequence, overlong, surrogate */
    const uint8_t bad[] = {0x80, 0xc3, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe2, 0x82};
    bf_json_strn(&j, NULL, bad, sizeof bad);
    assert_string_equal(done(&j), "\"\\u0080\\u00c3\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u00e2\\u0082\"");
    bf_json_free(&j);
}

static void test_encodings(void **st)
{
    (void)st;
    bf_json j;
    bf_json_init(&j, 8);
    bf_json_open_obj(&j, NULL);
    const uint8_t b[] = {0xde, 0xad, 0x00, 0x01};
    bf_json_hex(&j, "h", b, sizeof b);
    bf_json_base64(&j, "b1", (const uint8_t *)"M", 1);
    bf_json_base64(&j, "b2", (const uint8_t *)"Ma", 2);
    bf_json_base64(&j, "b3", (const uint8_t *)"Man", 3);
    bf_json_double(&j, "d", 0.5);
    bf_json_close_obj(&j);
    assert_string_equal(done(&j),
                        "{\"h\":\"dead0001\",\"b1\":\"TQ==\",\"b2\":\"TWE=\",\"b3\":\"TWFu\",\"d\":0.5}");
    bf_json_free(&j);
}

static void test_growth(void **st)
{
    (void)st;
    bf_json j;
    bf_json_init(&j, 1);
    bf_json_open_arr(&j, NULL);
    for (int i = 0; i < 10000; i++)
        bf_json_str(&j, NULL, "abcdefghij");
    bf_json_close_arr(&j);
    assert_int_equal(j.len, 2 + 10000 * 12 + 9999 - 0 * 1);
    bf_json_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting),   cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_utf8),      cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
