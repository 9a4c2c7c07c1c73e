/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for detect/mpm: the Vectorscan multi-pattern prefilter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/mpm.h"

#define MAXHITS 64

typedef struct hits {
    uint32_t ids[MAXHITS];
    uint32_t n;
} hits;

static void on_hit(void *ud, uint32_t id)
{
    hits *h = ud;
    assert_true(h->n < MAXHITS);
    h->ids[h->n++] = id;
}

static bool has(const hits *h, uint32_t id)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->ids[i] == id)
            return true;
    return false;
}

static uint32_t scan(const bf_mpm *m, bf_mpm_scratch *s, const void *data, size_t len, hits *h)
{
    memset(h, 0, sizeof(*h));
    uint32_t n = bf_mpm_scan(m, s, data, (uint32_t)len, on_hit, h);
    assert_int_equal(n, h->n);
    /* every id at most once */
    for (uint32_t i = 0; i < h->n; i++)
        for (uint32_t j = i + 1; j < h->n; j++)
            assert_int_not_equal(h->ids[i], h->ids[j]);
    return n;
}

static void add_str(bf_mpm_builder *b, const char *s, bool nocase, uint32_t id)
{
    bf_mpm_add(b, (const uint8_t *)s, (uint32_t)strlen(s), nocase, id);
}

static bf_mpm *build_ok(bf_mpm_builder *b)
{
    char err[256];
    bf_mpm *m = bf_mpm_build(b, err, sizeof(err));
    if (!m)
        fail_msg("build failed: %s", err);
    return m;
}

static void test_exact_and_caseless(void **st)
{
    (void)st;
    bf_mpm_builder *b = bf_mpm_builder_new();
    add_str(b, "GET /admin", false, 1);
    add_str(b, "user-agent: evil", true, 2);
    add_str(b, "Password", false, 3);
    assert_int_equal(bf_mpm_builder_count(b), 3);
    bf_mpm *m = build_ok(b);
    assert_true(bf_mpm_bytes(m) > 0);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;

    const char *t1 = "GET /admin HTTP/1.1\r\nUser-Agent: EVIL\r\n";
    assert_int_equal(scan(m, s, t1, strlen(t1), &h), 2);
    assert_true(has(&h, 1));
    assert_true(has(&h, 2));

    const char *t2 = "get /admin HTTP/1.1\r\npassword=x";
    assert_int_equal(scan(m, s, t2, strlen(t2), &h), 0);

    const char *t3 = "xxPasswordxx uSeR-aGeNt: eViL";
    assert_int_equal(scan(m, s, t3, strlen(t3), &h), 2);
    assert_true(has(&h, 2));
    assert_true(has(&h, 3));

    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

static void test_duplicates_merged(void **st)
{
    (void)st;
    bf_mpm_builder *b = bf_mpm_builder_new();
    add_str(b, "shared", false, 10);
    add_str(b, "shared", false, 11);
    add_str(b, "shared", false, 12);
    add_str(b, "shared", false, 12); /* same id twice: still one report */
    add_str(b, "shared", true, 13);  /* caseless is a separate literal */
    add_str(b, "other", false, 10);  /* id 10 also on another literal */
    assert_int_equal(bf_mpm_builder_count(b), 3);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;

    const char *t = "a shared and other shared";
    assert_int_equal(scan(m, s, t, strlen(t), &h), 4);
    assert_true(has(&h, 10));
    assert_true(has(&h, 11));
    assert_true(has(&h, 12));
    assert_true(has(&h, 13));

    const char *u = "SHARED";
    assert_int_equal(scan(m, s, u, strlen(u), &h), 1);
    assert_true(has(&h, 13));

    const char *v = "other";
    assert_int_equal(scan(m, s, v, strlen(v), &h), 1);
    assert_true(has(&h, 10));

    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

static void test_binary(void **st)
{
    (void)st;
    static const uint8_t p1[] = {0x00, 0xff, 0x00, 0x41};
    static const uint8_t p2[] = {0xff, 0xfe, 0x00};
    static const uint8_t p3[] = {'a', 0x00, 'b'}; /* caseless with a NUL */
    static const uint8_t p4[] = {'.', '*', '(', '\\', '['}; /* regex metacharacters */
    bf_mpm_builder *b = bf_mpm_builder_new();
    bf_mpm_add(b, p1, sizeof(p1), false, 1);
    bf_mpm_add(b, p2, sizeof(p2), false, 2);
    bf_mpm_add(b, p3, sizeof(p3), true, 3);
    bf_mpm_add(b, p4, sizeof(p4), false, 4);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;

    static const uint8_t d1[] = {0x10, 0x00, 0xff, 0x00, 0x41, 0x20, 'A', 0x00, 'B'};
    assert_int_equal(scan(m, s, d1, sizeof(d1), &h), 2);
    assert_true(has(&h, 1));
    assert_true(has(&h, 3));

    static const uint8_t d2[] = {0x00, 0xff, 0x00, 0x61, 0xff, 0xfe, 0x00};
    assert_int_equal(scan(m, s, d2, sizeof(d2), &h), 1);
    assert_true(has(&h, 2));

    static const uint8_t d3[] = {'x', '.', '*', '(', '\\', '[', 'y'};
    assert_int_equal(scan(m, s, d3, sizeof(d3), &h), 1);
    assert_true(has(&h, 4));
    static const uint8_t d4[] = {'x', 'a', 'a', '(', '\\', '[', 'y'};
    assert_int_equal(scan(m, s, d4, sizeof(d4), &h), 0);

    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

/* No literal starts with NUL: the pure literal API compiles these. */
static void test_binary_lit_api(void **st)
{
    (void)st;
    static const uint8_t p1[] = {0xff, 0x00, 0x00, 0xff};
    static const uint8_t p2[] = {'x', 0x00, 'Y', 0x00}; /* caseless, NULs inside and last */
    static const uint8_t p3[] = {0xff};
    bf_mpm_builder *b = bf_mpm_builder_new();
    bf_mpm_add(b, p1, sizeof(p1), false, 1);
    bf_mpm_add(b, p2, sizeof(p2), true, 2);
    bf_mpm_add(b, p3, sizeof(p3), false, 3);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;
    static const uint8_t d1[] = {0xff, 0x00, 0x00, 0xff, 'X', 0x00, 'y', 0x00};
    assert_int_equal(scan(m, s, d1, sizeof(d1), &h), 3);
    static const uint8_t d2[] = {0xff, 0x00, 0x01, 0xff, 'X', 0x00, 'y', 0x01};
    assert_int_equal(scan(m, s, d2, sizeof(d2), &h), 1);
    assert_true(has(&h, 3));
    static const uint8_t d3[] = {'x', 'Y', 0x00};
    assert_int_equal(scan(m, s, d3, sizeof(d3), &h), 0);
    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

static void test_once_per_scan(void **st)
{
    (void)st;
    bf_mpm_builder *b = bf_mpm_builder_new();
    add_str(b, "ab", false, 7);
    add_str(b, "abab", false, 8);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    size_t len = 10000;
    char *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (i & 1) ? 'b' : 'a';
    hits h;
    for (int round = 0; round < 3; round++) { /* and again on the same scratch */
        assert_int_equal(scan(m, s, buf, len, &h), 2);
        assert_true(has(&h, 7));
        assert_true(has(&h, 8));
    }
    /* a scan with nothing to find in between, then hits again */
    assert_int_equal(scan(m, s, "zzzz", 4, &h), 0);
    assert_int_equal(scan(m, s, buf, 3, &h), 1);
    assert_true(has(&h, 7));
    /* no callback: the count still says how many */
    assert_int_equal(bf_mpm_scan(m, s, (const uint8_t *)buf, (uint32_t)len, NULL, NULL), 2);
    free(buf);
    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

static void test_empty_db(void **st)
{
    (void)st;
    bf_mpm_builder *b = bf_mpm_builder_new();
    bf_mpm_add(b, (const uint8_t *)"x", 0, false, 1); /* empty literal: ignored */
    assert_int_equal(bf_mpm_builder_count(b), 0);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;
    assert_int_equal(scan(m, s, "anything", 8, &h), 0);
    assert_int_equal(scan(m, s, "", 0, &h), 0);
    /* an empty database next to a real one on the same scratch */
    bf_mpm_builder *b2 = bf_mpm_builder_new();
    add_str(b2, "thing", false, 5);
    bf_mpm *m2 = build_ok(b2);
    assert_true(bf_mpm_scratch_fit(s, m2));
    assert_int_equal(scan(m, s, "anything", 8, &h), 0);
    assert_int_equal(scan(m2, s, "anything", 8, &h), 1);
    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
    bf_mpm_free(m2);
    /* NULL-tolerant */
    bf_mpm_free(NULL);
    bf_mpm_scratch_free(NULL);
    assert_int_equal(bf_mpm_scan(NULL, NULL, (const uint8_t *)"a", 1, on_hit, &h), 0);
}

static void test_scratch_two_dbs(void **st)
{
    (void)st;
    bf_mpm_builder *b1 = bf_mpm_builder_new();
    add_str(b1, "alpha", false, 1);
    bf_mpm *m1 = build_ok(b1);

    bf_mpm_builder *b2 = bf_mpm_builder_new();
    char pat[32];
    for (uint32_t i = 0; i < 500; i++) {
        snprintf(pat, sizeof(pat), "pattern-%u-x", i);
        add_str(b2, pat, (i & 1) != 0, 1000 + i);
    }
    add_str(b2, "alpha", true, 2);
    bf_mpm *m2 = build_ok(b2);

    bf_mpm_scratch *s = bf_mpm_scratch_new();
    /* a scratch not yet fitted for a database finds nothing, without crashing */
    hits h;
    assert_int_equal(scan(m1, s, "alpha", 5, &h), 0);
    assert_true(bf_mpm_scratch_fit(s, m1));
    assert_true(bf_mpm_scratch_fit(s, m2));
    assert_true(bf_mpm_scratch_fit(s, m1)); /* refitting never shrinks */

    const char *t = "ALPHA alpha PATTERN-7-X pattern-8-x pattern-499-x";
    assert_int_equal(scan(m1, s, t, strlen(t), &h), 1);
    assert_true(has(&h, 1));
    assert_int_equal(scan(m2, s, t, strlen(t), &h), 4);
    assert_true(has(&h, 2));
    assert_true(has(&h, 1007));
    assert_true(has(&h, 1008));
    assert_true(has(&h, 1499));
    assert_int_equal(scan(m1, s, t, strlen(t), &h), 1);

    bf_mpm_scratch_free(s);
    bf_mpm_free(m1);
    bf_mpm_free(m2);
}

static void test_edges(void **st)
{
    (void)st;
    bf_mpm_builder *b = bf_mpm_builder_new();
    add_str(b, "start", false, 1);
    add_str(b, "end", false, 2);
    add_str(b, "Z", false, 3);  /* length 1 */
    add_str(b, "q", true, 4);   /* length 1, caseless */
    add_str(b, "ok", false, 5); /* length 2 */
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;

    assert_int_equal(scan(m, s, "start...the end", 15, &h), 2);
    assert_true(has(&h, 1));
    assert_true(has(&h, 2));
    /* the whole buffer is the literal */
    assert_int_equal(scan(m, s, "end", 3, &h), 1);
    assert_true(has(&h, 2));
    /* cut one byte short: no match */
    assert_int_equal(scan(m, s, "start...the end", 14, &h), 1);
    assert_true(has(&h, 1));
    assert_int_equal(scan(m, s, "Z", 1, &h), 1);
    assert_true(has(&h, 3));
    assert_int_equal(scan(m, s, "z", 1, &h), 0);
    assert_int_equal(scan(m, s, "Q", 1, &h), 1);
    assert_true(has(&h, 4));
    assert_int_equal(scan(m, s, "xxZxxqxxQxxok", 13, &h), 3);
    assert_true(has(&h, 3));
    assert_true(has(&h, 4));
    assert_true(has(&h, 5));

    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

static void test_many_ids_dense(void **st)
{
    (void)st;
    /* sparse, large caller ids and one literal shared by many rules */
    bf_mpm_builder *b = bf_mpm_builder_new();
    for (uint32_t i = 0; i < 40; i++)
        add_str(b, "common", false, 0xffffff00u + i);
    add_str(b, "rare", false, 0);
    add_str(b, "rare", false, 0xffffffffu);
    bf_mpm *m = build_ok(b);
    bf_mpm_scratch *s = bf_mpm_scratch_new();
    assert_true(bf_mpm_scratch_fit(s, m));
    hits h;
    assert_int_equal(scan(m, s, "common rare", 11, &h), 42);
    for (uint32_t i = 0; i < 40; i++)
        assert_true(has(&h, 0xffffff00u + i));
    assert_true(has(&h, 0));
    assert_true(has(&h, 0xffffffffu));
    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_caseless), cmocka_unit_test(test_duplicates_merged),
        cmocka_unit_test(test_binary),             cmocka_unit_test(test_binary_lit_api),
        cmocka_unit_test(test_once_per_scan),
        cmocka_unit_test(test_empty_db),           cmocka_unit_test(test_scratch_two_dbs),
        cmocka_unit_test(test_edges),              cmocka_unit_test(test_many_ids_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
