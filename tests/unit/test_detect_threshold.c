/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for detect/threshold.c (threshold types, detection_filter,
 * rate_filter, suppress, the shared table) and detect/thresholdcfg.c
 * (threshold.config parsing and precedence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "detect/engine_int.h"

static char rules_path[64], thr_path[64];

static void write_tmp(char *path, const char *text)
{
    strcpy(path, "/tmp/bf-thr-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Loads rules (and a threshold.config when thr is not NULL). */
static bf_detect *load(const char *rules, const char *thr)
{
    write_tmp(rules_path, rules);
    bf_config *cfg = bf_config_new();
    char e[512];
    const char *yaml = "vars:\n  address-groups:\n    SUP: \"[10.0.0.0/8,20.0.0.0/16]\"\n";
    assert_int_equal(bf_config_load_string(cfg, yaml, "test", e, sizeof e), 0);
    if (thr) {
        write_tmp(thr_path, thr);
        char kv[128];
        snprintf(kv, sizeof kv, "threshold-file=%s", thr_path);
        assert_int_equal(bf_config_set(cfg, kv, e, sizeof e), 0);
    }
    const char *files[] = {rules_path};
    bf_detect_opts o = {.rule_files = files, .nrule_files = 1, .quiet = true,
                        .simulate_ips = true};
    bf_detect_report rep;
    bf_detect *d = bf_detect_load(cfg, &o, &rep, e, sizeof e);
    assert_non_null(d);
    bf_config_free(cfg);
    unlink(rules_path);
    if (thr)
        unlink(thr_path);
    return d;
}

static const bf_sig *sig(const bf_detect *d, uint32_t sid)
{
    for (uint32_t i = 0; i < d->nsigs; i++)
        if (d->sigs[i]->sid == sid)
            return d->sigs[i];
    fail_msg("sid %u not loaded", sid);
    return NULL;
}

static bf_packet pkt(const char *src, const char *dst, uint16_t sp, uint16_t dp, double sec)
{
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ipver = 4;
    p.proto = 6;
    assert_int_equal(bf_addr_parse(src, &p.src), 4);
    assert_int_equal(bf_addr_parse(dst, &p.dst), 4);
    p.sp = sp;
    p.dp = dp;
    p.ts = (bf_ts)(1000000000.0 * BF_SEC) + (bf_ts)(sec * BF_SEC);
    return p;
}

/* det_thr_eval on a packet: result, and the action after rate filters */
static int ev(bf_detect *d, uint32_t sid, const bf_packet *p, uint8_t *act, bool *mod)
{
    const bf_sig *s = sig(d, sid);
    uint8_t a = s->action;
    bool m = false;
    int r = det_thr_eval(d, s, p, NULL, 0, p->ts, &a, &m);
    if (act)
        *act = a;
    if (mod)
        *mod = m;
    return r;
}

static int evs(bf_detect *d, uint32_t sid, const char *src, double sec)
{
    bf_packet p = pkt(src, "192.168.0.1", 1024, 80, sec);
    return ev(d, sid, &p, NULL, NULL);
}

static void test_types(void **state)
{
    (void)state;
    bf_detect *d = load(
        "alert tcp any any -> any any (threshold:type limit, track by_src, count 2, seconds 60; sid:1;)\n"
        "alert tcp any any -> any any (threshold:type threshold, track by_src, count 3, seconds 60; sid:2;)\n"
        "alert tcp any any -> any any (threshold:type both, track by_src, count 2, seconds 60; sid:3;)\n"
        "alert tcp any any -> any any (detection_filter:track by_src, count 2, seconds 60; sid:4;)\n"
        "alert tcp any any -> any any (threshold:type backoff, track by_rule, count 1, multiplier 2; sid:5;)\n"
        "alert tcp any any -> any any (threshold:type backoff, track by_rule, count 3, multiplier 2; sid:6;)\n"
        "alert tcp any any -> any any (threshold:type threshold, track by_rule, count 1, seconds 60; sid:7;)\n"
        "alert tcp any any -> any any (sid:8;)\n",
        NULL);
    /* limit: the first 2 per window, then silent (actions apply) */
    assert_int_equal(evs(d, 1, "10.0.0.1", 0), THR_ALERT);
    assert_int_equal(evs(d, 1, "10.0.0.1", 1), THR_ALERT);
    assert_int_equal(evs(d, 1, "10.0.0.1", 2), THR_SILENT);
    assert_int_equal(evs(d, 1, "10.0.0.2", 2), THR_ALERT);     /* another source */
    assert_int_equal(evs(d, 1, "10.0.0.1", 61), THR_ALERT);    /* new window */
    /* threshold: every 3rd match, no action before */
    int exp2[] = {THR_DROP_MATCH, THR_DROP_MATCH, THR_ALERT, THR_DROP_MATCH, THR_DROP_MATCH,
                  THR_ALERT};
    for (int i = 0; i < 6; i++)
        assert_int_equal(evs(d, 2, "10.0.0.1", i), exp2[i]);
    /* both: once at the count, silent after */
    int exp3[] = {THR_DROP_MATCH, THR_ALERT, THR_SILENT, THR_SILENT};
    for (int i = 0; i < 4; i++)
        assert_int_equal(evs(d, 3, "10.0.0.1", i), exp3[i]);
    assert_int_equal(evs(d, 3, "10.0.0.1", 100), THR_DROP_MATCH);
    /* detection_filter: every match over the count */
    int exp4[] = {THR_DROP_MATCH, THR_DROP_MATCH, THR_ALERT, THR_ALERT};
    for (int i = 0; i < 4; i++)
        assert_int_equal(evs(d, 4, "10.0.0.1", i), exp4[i]);
    /* backoff count 1, multiplier 2: matches 1, 2, 4, 8, 16 alert */
    int n5 = 0;
    for (int i = 1; i <= 20; i++) {
        int r = evs(d, 5, "10.0.0.1", i);
        if (i == 1 || i == 2 || i == 4 || i == 8 || i == 16)
            assert_int_equal(r, THR_ALERT);
        else
            assert_int_equal(r, THR_SILENT);
        n5 += r == THR_ALERT;
    }
    assert_int_equal(n5, 5);
    /* backoff count 3: the first match has no action, alerts at 3, 6, 12 */
    for (int i = 1; i <= 12; i++) {
        int r = evs(d, 6, "10.0.0.1", i);
        int want = i == 1 ? THR_DROP_MATCH : (i == 3 || i == 6 || i == 12) ? THR_ALERT : THR_SILENT;
        assert_int_equal(r, want);
    }
    /* threshold count 1: every match */
    for (int i = 0; i < 3; i++)
        assert_int_equal(evs(d, 7, "10.0.0.1", i), THR_ALERT);
    assert_int_equal(evs(d, 8, "10.0.0.1", 0), THR_ALERT);
    bf_detect_unref(d);
}

static void test_tracks(void **state)
{
    (void)state;
    bf_detect *d = load(
        "alert tcp any any -> any any (threshold:type limit, track by_both, count 1, seconds 60; sid:1;)\n"
        "alert tcp any any -> any any (threshold:type limit, track by_flow, count 1, seconds 60; sid:2;)\n"
        "alert tcp any any -> any any (threshold:type limit, track by_dst, count 1, seconds 60; sid:3;)\n"
        "alert tcp any any -> any any (detection_filter:track by_dst, count 2, seconds 60, unique_on dst_port; sid:4;)\n",
        NULL);
    bf_packet a = pkt("10.0.0.1", "10.0.0.2", 1, 80, 0);
    bf_packet b = pkt("10.0.0.2", "10.0.0.1", 80, 1, 1);
    bf_packet c = pkt("10.0.0.3", "10.0.0.2", 1, 80, 1);
    /* by_both: the pair in either direction */
    assert_int_equal(ev(d, 1, &a, NULL, NULL), THR_ALERT);
    assert_int_equal(ev(d, 1, &b, NULL, NULL), THR_SILENT);
    assert_int_equal(ev(d, 1, &c, NULL, NULL), THR_ALERT);
    /* by_dst */
    assert_int_equal(ev(d, 3, &a, NULL, NULL), THR_ALERT);
    assert_int_equal(ev(d, 3, &c, NULL, NULL), THR_SILENT);
    assert_int_equal(ev(d, 3, &b, NULL, NULL), THR_ALERT);
    /* by_flow: keyed on the flow id */
    bf_flow f1, f2;
    memset(&f1, 0, sizeof f1);
    memset(&f2, 0, sizeof f2);
    f1.flow_id = 7;
    f2.flow_id = 8;
    const bf_sig *s2 = sig(d, 2);
    uint8_t act = 0;
    bool mod = false;
    assert_int_equal(det_thr_eval(d, s2, &a, &f1, 0, a.ts, &act, &mod), THR_ALERT);
    assert_int_equal(det_thr_eval(d, s2, &a, &f1, 0, a.ts, &act, &mod), THR_SILENT);
    assert_int_equal(det_thr_eval(d, s2, &a, &f2, 0, a.ts, &act, &mod), THR_ALERT);
    /* unique_on dst_port: only new ports count */
    int ports[] = {80, 80, 81, 81, 82, 83};
    int want[] = {THR_DROP_MATCH, THR_DROP_MATCH, THR_DROP_MATCH, THR_DROP_MATCH, THR_ALERT,
                  THR_ALERT};
    for (int i = 0; i < 6; i++) {
        bf_packet p = pkt("10.0.0.1", "10.9.9.9", 1000, (uint16_t)ports[i], i);
        assert_int_equal(ev(d, 4, &p, NULL, NULL), want[i]);
    }
    bf_detect_unref(d);
}

static void test_rate_filter_and_suppress(void **state)
{
    (void)state;
    bf_detect *d = load(
        "drop tcp any any -> any any (sid:1;)\n"
        "alert tcp any any -> any any (sid:2;)\n"
        "alert tcp any any -> any any (sid:3;)\n"
        "alert tcp any any -> any any (sid:4;)\n"
        "alert tcp any any -> any any (sid:5;)\n",
        "# comment\n"
        "rate_filter gen_id 1, sig_id 1, track by_rule, count 1, seconds 60, new_action alert, timeout 10\n"
        "rate_filter gen_id 1, sig_id 2, track by_src, count 2, seconds 60, \\\n"
        "   new_action drop, timeout 1000\n"
        "suppress gen_id 1, sig_id 3, track by_either, ip $SUP\n"
        "suppress gen_id 1, sig_id 4\n"
        "suppress gen_id 1, sig_id 5, track by_dst, ip [192.168.0.0/24, 1.2.3.4]\n");
    uint8_t act;
    bool mod;
    bf_packet p = pkt("10.0.0.1", "192.168.0.1", 1, 80, 0);
    assert_int_equal(ev(d, 1, &p, &act, &mod), THR_ALERT);
    assert_int_equal(act, BF_ACT_DROP);
    assert_false(mod);
    p.ts += BF_SEC;
    assert_int_equal(ev(d, 1, &p, &act, &mod), THR_ALERT);
    assert_int_equal(act, BF_ACT_ALERT);
    assert_true(mod);
    p.ts += 5 * BF_SEC;      /* within the timeout */
    ev(d, 1, &p, &act, &mod);
    assert_int_equal(act, BF_ACT_ALERT);
    p.ts += 20 * BF_SEC;     /* timeout over: the rule's action again */
    ev(d, 1, &p, &act, &mod);
    assert_int_equal(act, BF_ACT_DROP);
    assert_false(mod);
    /* by_src count 2: the 3rd match of a source drops */
    for (int i = 0; i < 3; i++) {
        ev(d, 2, &p, &act, &mod);
        assert_int_equal(act, i < 2 ? BF_ACT_ALERT : BF_ACT_DROP);
    }
    bf_packet q = pkt("11.0.0.1", "192.168.0.1", 1, 80, 0);
    ev(d, 2, &q, &act, &mod);
    assert_int_equal(act, BF_ACT_ALERT);
    /* suppress by_either with a variable */
    assert_int_equal(ev(d, 3, &p, NULL, NULL), THR_SILENT);
    bf_packet r = pkt("192.168.0.1", "20.0.1.1", 1, 80, 0);
    assert_int_equal(ev(d, 3, &r, NULL, NULL), THR_SILENT);
    bf_packet o = pkt("30.0.0.1", "40.0.0.1", 1, 80, 0);
    assert_int_equal(ev(d, 3, &o, NULL, NULL), THR_ALERT);
    /* suppress without track: noalert */
    assert_true(sig(d, 4)->flags & BF_SIG_NOALERT);
    /* suppress by_dst with a list */
    assert_int_equal(ev(d, 5, &p, NULL, NULL), THR_SILENT);
    assert_int_equal(ev(d, 5, &r, NULL, NULL), THR_ALERT);
    bf_detect_unref(d);
}

static void test_config_precedence(void **state)
{
    (void)state;
    bf_detect *d = load(
        "alert tcp any any -> any any (threshold:type limit, track by_src, count 5, seconds 60; sid:1;)\n"
        "alert tcp any any -> any any (detection_filter:track by_src, count 5, seconds 60; sid:2;)\n"
        "alert tcp any any -> any any (sid:3;)\n"
        "alert tcp any any -> any any (gid:7; sid:4;)\n"
        "alert tcp any any -> any any (threshold:type limit, track by_src, count 5, seconds 60; sid:5;)\n",
        "threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n"
        "event_filter gen_id 1, sig_id 2, type limit, track by_src, count 1, seconds 60\n"
        "threshold gen_id 7, sig_id 0, type limit, track by_rule, count 1, seconds 60\n"
        "rate_filter gen_id 1, sig_id 5, track by_rule, count 1, seconds 60, new_action drop, timeout 5\n"
        "bogus gen_id 1, sig_id 3\n"
        "threshold gen_id 1, sig_id 3, type sometimes, track by_src, count 1, seconds 60\n"
        "threshold gen_id 1, sig_id 3, type limit, track by_src, count 1\n"
        "suppress gen_id 1, sig_id 3, track by_src\n"
        "suppress gen_id 1, sig_id 3, track by_src, ip 300.1.1.1\n"
        "threshold gen_id 1, sig_id 999, type limit, track by_src, count 1, seconds 60\n"
        "threshold gen_id 0, sig_id 0, type limit, track by_src, count 2, seconds 60\n");
    /* sid 1: the file's limit replaced the rule's */
    const det_thr_list *l = &d->sthr[sig(d, 1)->idx];
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].th.count, 1);
    /* sid 2: its detection_filter takes precedence */
    l = &d->sthr[sig(d, 2)->idx];
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].th.type, BF_THR_DETECTION_FILTER);
    /* sid 3: the bad lines were skipped, only the global line applies */
    l = &d->sthr[sig(d, 3)->idx];
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].th.type, BF_THR_LIMIT);
    assert_int_equal(l->e[0].th.count, 2);
    /* gid 7 sid 0 */
    l = &d->sthr[sig(d, 4)->idx];
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].th.track, BF_TRACK_RULE);
    /* sid 5: a rate_filter does not override the rule's threshold */
    l = &d->sthr[sig(d, 5)->idx];
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].th.type, BF_THR_LIMIT);
    assert_int_equal(l->e[0].th.count, 5);
    bf_detect_unref(d);

    /* no thresholds at all: no table */
    d = load("alert tcp any any -> any any (sid:1;)\n", NULL);
    assert_null(d->sthr);
    assert_null(d->thr[0].e);
    bf_detect_unref(d);
}

static void test_bounded_table(void **state)
{
    (void)state;
    bf_detect *d = load(
        "alert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 60; sid:1;)\n",
        NULL);
    bf_packet p = pkt("10.0.0.1", "192.168.0.1", 1, 80, 0);
    uint32_t total = THR_SHARDS * THR_SLOTS + 5000;
    for (uint32_t i = 0; i < total; i++) {
        p.src.b[0] = (uint8_t)(i >> 24 | 10);
        p.src.b[1] = (uint8_t)(i >> 16);
        p.src.b[2] = (uint8_t)(i >> 8);
        p.src.b[3] = (uint8_t)i;
        assert_int_equal(ev(d, 1, &p, NULL, NULL), THR_ALERT);
    }
    assert_true(atomic_load(&d->thr_evicted) >= 5000);
    assert_true(bf_detect_thr_evicted(d) >= 5000);
    bf_detect_unref(d);
}

static void test_parser(void **state)
{
    (void)state;
    bf_parse_ctx c;
    char e[256], r[64];
    assert_true(bf_parse_ctx_init(&c, NULL, e, sizeof e));
    bf_sig *s = bf_sig_parse(&c,
                             "alert tcp any any -> any any (threshold:type backoff, track by_flow, "
                             "count 3, multiplier 10; sid:1;)",
                             e, sizeof e, r, sizeof r);
    assert_non_null(s);
    assert_int_equal(s->thr.type, BF_THR_BACKOFF);
    assert_int_equal(s->thr.multiplier, 10);
    assert_int_equal(s->thr.track, BF_TRACK_FLOW);
    bf_sig_free(s);
    s = bf_sig_parse(&c,
                     "alert tcp any any -> any any (detection_filter:track by_dst, count 3, "
                     "seconds 60, unique_on src_port; sid:1;)",
                     e, sizeof e, r, sizeof r);
    assert_non_null(s);
    assert_int_equal(s->dfilter.unique_on, BF_THR_UNIQUE_SRC_PORT);
    bf_sig_free(s);
    const char *bad[] = {
        "alert tcp any any -> any any (threshold:type backoff, track by_flow, count 3, seconds 5; sid:1;)",
        "alert tcp any any -> any any (threshold:type backoff, track by_flow, count 3; sid:1;)",
        "alert tcp any any -> any any (threshold:type limit, track by_src, count 3, seconds 5, multiplier 2; sid:1;)",
        "alert tcp any any -> any any (detection_filter:track by_flow, count 3, seconds 5, unique_on dst_port; sid:1;)",
        "alert tcp any any -> any any (detection_filter:track by_src, count 3, seconds 5, unique_on proto; sid:1;)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        s = bf_sig_parse(&c, bad[i], e, sizeof e, r, sizeof r);
        if (s)
            fail_msg("accepted: %s", bad[i]);
    }
    bf_parse_ctx_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_tracks),
        cmocka_unit_test(test_rate_filter_and_suppress),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_bounded_table),
        cmocka_unit_test(test_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
