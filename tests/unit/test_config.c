/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for common/config: YAML flattening, overrides, typed values
 * and errors that name the key and its origin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/log.h"

static const char *yaml =
    "%YAML 1.1\n---\n"
    "vars:\n"
    "  address-groups:\n"
    "    HOME_NET: \"[10.0.0.0/8,192.168.0.0/16]\"\n"
    "    EXTERNAL_NET: \"!$HOME_NET\"\n"
    "flow:\n"
    "  memcap: 64mb\n"
    "  hash-size: 1024\n"
    "stream:\n"
    "  midstream: true\n"
    "  reassembly:\n"
    "    depth: 1 MiB\n"
    "outputs:\n"
    "  - eve-log:\n"
    "      enabled: yes\n"
    "  - fast:\n"
    "      enabled: no\n"
    "timeout: 250ms\n";

static void collect(void *ud, const char *name, const char *value)
{
    int *n = ud;
    (*n)++;
    assert_non_null(value);
    assert_true(strcmp(name, "HOME_NET") == 0 || strcmp(name, "EXTERNAL_NET") == 0);
}

static void test_load(void **st)
{
    (void)st;
    bf_config *c = bf_config_new();
    char err[256];
    assert_int_equal(bf_config_load_string(c, yaml, "t.yaml", err, sizeof err), 0);
    assert_string_equal(bf_config_str(c, "vars.address-groups.HOME_NET", ""),
                        "[10.0.0.0/8,192.168.0.0/16]");
    assert_int_equal(bf_config_size(c, "flow.memcap", 0), 64ull << 20);
    assert_int_equal(bf_config_uint(c, "flow.hash-size", 0, 1u << 30), 1024);
    assert_true(bf_config_bool(c, "stream.midstream", false));
    assert_int_equal(bf_config_size(c, "stream.reassembly.depth", 0), 1ull << 20);
    assert_true(bf_config_bool(c, "outputs.0.eve-log.enabled", false));
    assert_false(bf_config_bool(c, "outputs.1.fast.enabled", true));
    assert_int_equal(bf_config_duration(c, "timeout", 0), 250000);
    assert_string_equal(bf_config_origin(c, "flow.memcap"), "t.yaml:8");
    int n = 0;
    bf_config_children(c, "vars.address-groups", collect, &n);
    assert_int_equal(n, 2);
    assert_true(bf_config_ok(c));
    /* defaults for absent keys */
    assert_int_equal(bf_config_size(c, "nope", 77), 77);
    bf_config_free(c);
}

static void test_set_and_errors(void **st)
{
    (void)st;
    bf_log_verbosity = -1; /* keep the expected errors off the test output */
    bf_config *c = bf_config_new();
    char err[256];
    assert_int_equal(bf_config_set(c, "flow.memcap=12kb", err, sizeof err), 0);
    assert_int_equal(bf_config_size(c, "flow.memcap", 0), 12 * 1024);
    assert_string_equal(bf_config_origin(c, "flow.memcap"), "--set");
    assert_int_not_equal(bf_config_set(c, "novalue", err, sizeof err), 0);
    assert_true(bf_config_ok(c));
    bf_config_set(c, "a=maybe", err, sizeof err);
    assert_true(bf_config_bool(c, "a", true));
    assert_false(bf_config_ok(c));
    bf_config_free(c);

    c = bf_config_new();
    bf_config_set(c, "s=12 parsecs", err, sizeof err);
    assert_int_equal(bf_config_size(c, "s", 5), 5);
    assert_false(bf_config_ok(c));
    bf_config_free(c);

    c = bf_config_new();
    bf_config_set(c, "n=-3", err, sizeof err);
    assert_int_equal(bf_config_uint(c, "n", 9, 100), 9);
    assert_false(bf_config_ok(c));
    bf_config_free(c);

    /* nan is neither a size nor a duration (and must not reach a cast) */
    c = bf_config_new();
    bf_config_set(c, "s=nan", err, sizeof err);
    bf_config_set(c, "d=NaN ms", err, sizeof err);
    assert_int_equal(bf_config_size(c, "s", 5), 5);
    assert_int_equal(bf_config_duration(c, "d", 6), 6);
    assert_false(bf_config_ok(c));
    bf_config_free(c);

    /* an anchor used inside itself, and a "billion laughs": refused quickly */
    c = bf_config_new();
    assert_int_not_equal(bf_config_load_string(c, "a: &x [1, *x, *x]\n", "cyc.yaml", err, sizeof err), 0);
    bf_config_free(c);
    c = bf_config_new();
    assert_int_not_equal(bf_config_load_string(c,
                             "a: &a [1, 2, 3, 4, 5, 6, 7, 8]\n"
                             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
                             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
                             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
                             "f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
                             "g: &g [*f, *f, *f, *f, *f, *f, *f, *f]\n",
                             "laughs.yaml", err, sizeof err),
                         0);
    assert_non_null(strstr(err, "laughs.yaml"));
    bf_config_free(c);
    /* ordinary aliases still work */
    c = bf_config_new();
    assert_int_equal(bf_config_load_string(c, "a: &x {k: 1}\nb: *x\n", "ok.yaml", err, sizeof err), 0);
    assert_string_equal(bf_config_str(c, "b.k", ""), "1");
    bf_config_free(c);

    c = bf_config_new();
    assert_int_not_equal(bf_config_load_string(c, "a: [1, 2\nb: c\n", "bad.yaml", err, sizeof err), 0);
    assert_non_null(strstr(err, "bad.yaml:"));
    bf_config_free(c);
    bf_log_verbosity = BF_LOG_INFO;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_set_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
