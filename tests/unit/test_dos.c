/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for behavior/dos: HyperLogLog accuracy and merging, the
 * trigger (floor, EWMA baseline, ceiling, CUSUM, hysteresis), typing rules,
 * mitigation text (never the victim), spoofing estimate, and the detector
 * end to end on synthetic packets with one and two workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "behavior/dos/dos.h"
#include "behavior/dos/dos_int.h"
#include "behavior/dos/est.h"
#include "common/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void test_hll_accuracy(void **st)
{
    (void)st;
    static const unsigned ns[] = {10, 1000, 50000, 1000000};
    for (unsigned k = 0; k < 4; k++) {
        bf_hll h, a, b;
        memset(&h, 0, sizeof h);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        for (unsigned i = 0; i < ns[k]; i++) {
            uint64_t x = bf_mix64(i + 1, 0x9e3779b97f4a7c15ULL) ^ (i * 0xbf58476d1ce4e5b9ULL);
            bf_hll_add(&h, x);
            bf_hll_add(&h, x); /* duplicates do not count */
            bf_hll_add(i & 1 ? &a : &b, x);
        }
        double e = bf_hll_count(&h);
        double err = fabs(e - ns[k]) / ns[k];
        assert_true(err < 0.08);
        bf_hll_merge(&a, &b); /* the union's sketch, whatever the split */
        assert_memory_equal(&a, &h, sizeof h);
    }
    bf_hll z;
    memset(&z, 0, sizeof z);
    assert_true(bf_hll_empty(&z));
    assert_true(bf_hll_count(&z) < 0.5);
}

static void test_space_saving(void **st)
{
    (void)st;
    bf_ss_item it[4];
    bf_ss s;
    bf_ss_init(&s, it, 4);
    bf_addr a = {0};
    for (int i = 0; i < 1000; i++) {
        a.b[0] = (uint8_t)(i % 3 == 0 ? 1 : 10 + rnd() % 50); /* 1 is a third of the stream */
        bf_ss_add(&s, &a, 4, 1);
    }
    bf_ss_sort(&s);
    assert_int_equal(s.it[0].key.b[0], 1);
    assert_true(s.it[0].count >= 333);
}

static bf_dos_trig_cfg tcfg(void)
{
    bf_dos_trig_cfg c = {.floor = 1000, .ceiling = 50000, .alpha = 0.01, .factor = 3, .sigmas = 6,
                         .cusum_drift = 2, .cusum_h = 60, .confirm = 2, .end_ratio = 0.5, .end_bins = 30};
    return c;
}

static void test_trigger_floor(void **st)
{
    (void)st;
    bf_dos_trig_cfg c = tcfg();
    bf_dos_trig t = {0};
    for (int i = 0; i < 1000; i++)
        assert_false(bf_dos_trig_step(&c, &t, 100 + (double)(rnd() % 50), true));
    assert_true(bf_dos_trig_threshold(&c, &t) == 1000); /* the floor rules a quiet host */
    assert_false(bf_dos_trig_step(&c, &t, 2000, true)); /* one bin over: not yet */
    assert_true(bf_dos_trig_step(&c, &t, 2000, true));  /* confirmed */
}

static void test_trigger_baseline_cusum_ceiling(void **st)
{
    (void)st;
    bf_dos_trig_cfg c = tcfg();
    /* a busy host, learned: 5000/s +- 10 % */
    bf_dos_trig t = {.mean = 5000, .var = 300 * 300, .warm = true};
    for (int i = 0; i < 3000; i++)
        assert_false(bf_dos_trig_step(&c, &t, 4500 + (double)(rnd() % 1000), true));
    double thr = bf_dos_trig_threshold(&c, &t);
    assert_true(thr > 14000 && thr < 16000); /* 3 x mean */
    /* a busy day is not an attack: 8000/s for a short burst stays under */
    bf_dos_trig t2 = t;
    for (int i = 0; i < 5; i++)
        assert_false(bf_dos_trig_step(&c, &t2, 8000, true));
    /* sustained, it is a change: CUSUM alarms within a few seconds */
    int n = 0;
    while (!bf_dos_trig_step(&c, &t2, 8000, true) && n < 100)
        n++;
    assert_true(n < 60);
    /* a poisoned baseline (mean 1e6): the ceiling still alarms */
    bf_dos_trig t3 = {.mean = 1e6, .var = 0, .warm = true};
    assert_true(bf_dos_trig_threshold(&c, &t3) == 50000);
    assert_true(bf_dos_trig_step(&c, &t3, 60000, false));
}

static void test_hysteresis_end(void **st)
{
    (void)st;
    bf_dos_trig_cfg c = tcfg();
    bf_dos_trig t = {0};
    for (int i = 0; i < 29; i++)
        assert_false(bf_dos_trig_end_step(&c, &t, 100, 1000));
    assert_false(bf_dos_trig_end_step(&c, &t, 600, 1000)); /* back over half: reset */
    for (int i = 0; i < 29; i++)
        assert_false(bf_dos_trig_end_step(&c, &t, 499, 1000));
    assert_true(bf_dos_trig_end_step(&c, &t, 0, 1000));
}

static void test_typing(void **st)
{
    (void)st;
    double r[BF_DOS_NMET] = {0};
#define M(x) (1u << BF_DOS_M_##x)
#define V(x) (1u << BF_DOS_V_##x)
    assert_int_equal(bf_dos_type(M(SYN), r, false, 0, 0, 16), V(SYN));
    assert_int_equal(bf_dos_type(M(SYNACK), r, false, 0, 0, 16), V(SYNACK));
    assert_int_equal(bf_dos_type(M(ACK) | M(RST), r, false, 0, 0, 16), V(ACK) | V(RST));
    assert_int_equal(bf_dos_type(M(UDP_BPS), r, false, 0, 0, 16), V(UDP));
    assert_int_equal(bf_dos_type(M(ICMP), r, false, 0, 0, 16), V(ICMP));
    /* fragments of an amplification are the amplification */
    assert_int_equal(bf_dos_type(M(FRAG) | M(REFL_BPS), r, false, 0, 0, 16), V(AMP));
    assert_int_equal(bf_dos_type(M(FRAG), r, false, 0, 0, 16), V(FRAG));
    assert_int_equal(bf_dos_type(M(HTTP), r, false, 0, 0, 16), V(HTTP));
    assert_int_equal(bf_dos_type(M(SLOW) | M(CONNS), r, false, 0, 0, 16), V(SLOW));
    /* many connections during a SYN flood are its half-open ones */
    r[BF_DOS_M_SYN] = 5000;
    r[BF_DOS_M_CONNS] = 6000;
    assert_int_equal(bf_dos_type(M(SYN) | M(CONNS), r, false, 0, 0, 16), V(SYN));
    r[BF_DOS_M_SYN] = 10;
    assert_int_equal(bf_dos_type(M(CONNS), r, false, 0, 0, 16), V(CONN));
    /* a prefix: carpet bombing only when spread over many hosts */
    assert_int_equal(bf_dos_type(M(UDP), r, true, 200, 0.05, 16), V(UDP) | V(CARPET));
    assert_int_equal(bf_dos_type(M(UDP), r, true, 3, 0.05, 16), 0);
    assert_int_equal(bf_dos_type(M(UDP), r, true, 200, 0.9, 16), 0);
    assert_int_equal(bf_dos_type(0, r, false, 0, 0, 16), 0);
    assert_string_equal(bf_dos_vector_name(BF_DOS_V_AMP, bf_dos_refl_index(123)), "ntp_amplification");
    assert_string_equal(bf_dos_vector_name(BF_DOS_V_AMP, bf_dos_refl_index(11211)), "memcached_amplification");
    assert_int_equal(bf_dos_refl_index(12345), -1);
    assert_int_equal(bf_dos_vector_sid(BF_DOS_V_SYN, -1), 9000001);
#undef M
#undef V
}

static void test_mitigation_never_victim(void **st)
{
    (void)st;
    bf_addr srcs[4];
    uint8_t sv[4] = {4, 4, 4, 4};
    bf_dos_mit_in in = {0};
    bf_addr_parse("192.0.2.10", &in.victim);
    in.ipver = 4;
    bf_addr_parse("192.0.2.10", &srcs[0]);   /* the victim itself */
    bf_addr_parse("203.0.113.7", &srcs[1]);
    bf_addr_parse("198.51.100.53", &srcs[2]);
    bf_addr_parse("203.0.113.8", &srcs[3]);
    in.sources = srcs;
    in.src_ipver = sv;
    in.nsources = 4;
    in.timeout = 600 * BF_SEC;
    in.max_sources = 16;
    in.vectors = 1u << BF_DOS_V_AMP;
    in.primary = BF_DOS_V_AMP;
    in.refl = bf_dos_refl_index(123);
    in.dport = -1;
    in.ttl = -1;
    in.size_min = 482;
    in.size_max = 482;
    in.rate_limit = 200;
    bf_dos_mit m;
    bf_dos_mitigation(&in, &m);
    assert_int_equal(m.nelems, 3);
    for (unsigned i = 0; i < m.nelems; i++)
        assert_null(strstr(m.elems[i], "192.0.2.10"));
    assert_string_equal(m.elems[0], "203.0.113.7 timeout 600s");
    assert_non_null(strstr(m.rule, "ip daddr 192.0.2.10 udp sport 123 meta length > 467 drop"));
    assert_null(strstr(m.rule, "saddr 192.0.2.10"));
    assert_non_null(strstr(m.bpf, "dst host 192.0.2.10 and ((udp and src port 123"));
    /* a prefix victim: nothing inside it is proposed */
    bf_addr_parse("192.0.2.0", &in.victim);
    in.plen = 24;
    in.primary = BF_DOS_V_UDP;
    bf_addr_parse("192.0.2.77", &srcs[1]);
    bf_dos_mitigation(&in, &m);
    assert_int_equal(m.nelems, 2);
    for (unsigned i = 0; i < m.nelems; i++)
        assert_null(strstr(m.elems[i], "192.0.2."));
    assert_non_null(strstr(m.rule, "ip daddr 192.0.2.0/24"));
    /* forged sources: no set elements, the fingerprint only */
    in.spoofed = 0.95;
    in.primary = BF_DOS_V_SYN;
    in.plen = 0;
    bf_addr_parse("192.0.2.10", &in.victim);
    in.ttl = 64;
    in.size_min = 54;
    in.size_max = 60;
    in.dport = 80;
    in.rate_limit = 1000;
    bf_dos_mitigation(&in, &m);
    assert_int_equal(m.nelems, 0);
    assert_string_equal(m.rule, "ip daddr 192.0.2.10 tcp dport 80 tcp flags & (fin|syn|rst|ack) == syn ip ttl 64 "
                                "meta length 40-46 limit rate over 1000/second drop");
    assert_non_null(strstr(m.bpf, "tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst) == tcp-syn and dst port 80"));
}

static void test_spoof_estimate(void **st)
{
    (void)st;
    assert_true(bf_dos_spoof_estimate(49000, 50000, 0.99, false, false) > 0.9);  /* random sources */
    assert_true(bf_dos_spoof_estimate(300, 300000, 0.2, false, false) < 0.05);   /* a botnet */
    assert_true(bf_dos_spoof_estimate(5000, 50000, 1.0, false, false) >= 0.9);   /* one box, many "sources" */
    assert_true(bf_dos_spoof_estimate(50000, 50000, 0.5, true, false) == 0);     /* reflectors are real */
    assert_true(bf_dos_spoof_estimate(50000, 50000, 0.5, false, true) == 0);     /* handshakes done */
}

/* ---- end to end on synthetic packets ------------------------------------ */

typedef struct run_out {
    char start[64], detected[64], end[64];
    char vectors[128];
    long peak_pps, starts, ends;
    long sources;
} run_out;

static void field(const char *line, const char *key, char *out, size_t len)
{
    out[0] = 0;
    const char *p = strstr(line, key);
    if (!p)
        return;
    p += strlen(key);
    size_t i = 0;
    while (p[i] && p[i] != '"' && p[i] != ',' && p[i] != '}' && i + 1 < len) {
        out[i] = p[i];
        i++;
    }
    out[i] = 0;
}

/* A SYN flood of `pps` from random sources against 192.0.2.10 for 3 s,
 * after 2 s of light traffic, through `nw` workers (packets split by
 * source, as the engine's dispatch would). */
static void run_flood(unsigned nw, unsigned pps, run_out *o)
{
    char path[] = "/tmp/bf-test-dos-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char err[256];
    bf_eve_sink *sink = bf_eve_sink_open(path, err, sizeof err);
    assert_non_null(sink);
    bf_dos_cfg c;
    bf_dos_cfg_default(&c);
    free(c.mitigation_file);
    c.mitigation_file = NULL;
    bf_dos *d = bf_dos_new(&c, nw);
    bf_eve_opts eo = {0};
    bf_bus bus[2];
    bf_eve eve[2];
    bf_dos_worker *w[2];
    for (unsigned i = 0; i < nw; i++) {
        bf_bus_init(&bus[i]);
        bf_eve_init(&eve[i], sink, &eo);
        w[i] = bf_dos_worker_attach(d, i, &bus[i], &eve[i]);
        assert_non_null(w[i]);
    }
    rnd_state = 12345;
    bf_ts t0 = 1800000000ull * BF_SEC, t = t0;
    uint64_t cnt = 0;
    /* 2 s at 50 pps, then 3 s of flood, then 5 s at 50 pps */
    while (t < t0 + 10 * BF_SEC) {
        bool flood = t >= t0 + 2 * BF_SEC && t < t0 + 5 * BF_SEC;
        bf_packet p;
        memset(&p, 0, sizeof p);
        p.ts = t;
        p.pcap_cnt = ++cnt;
        p.ipver = 4;
        p.proto = 6;
        p.ttl = 64;
        p.wirelen = 60;
        p.tcp_flags = BF_TH_SYN;
        p.dp = 80;
        p.sp = (uint16_t)(1024 + rnd() % 60000);
        bf_addr_parse("192.0.2.10", &p.dst);
        uint32_t s = (uint32_t)rnd();
        if (!flood)
            s = 0xcb007100u | (s & 3); /* 203.0.113.0-3 */
        p.src.b[0] = (uint8_t)(s >> 24);
        p.src.b[1] = (uint8_t)(s >> 16);
        p.src.b[2] = (uint8_t)(s >> 8);
        p.src.b[3] = (uint8_t)s;
        unsigned wi = nw > 1 ? (p.src.b[3] & 1) : 0;
        bf_bus_publish(&bus[wi], BF_BUS_PACKET, NULL, &p, NULL);
        t += flood ? BF_SEC / pps : BF_SEC / 50;
    }
    for (unsigned i = 0; i < nw; i++)
        bf_dos_worker_finish(w[i], t);
    for (unsigned i = 0; i < nw; i++)
        bf_eve_fini(&eve[i]);
    bf_eve_sink_close(sink);
    bf_dos_free(d);
    bf_dos_cfg_free(&c);

    memset(o, 0, sizeof *o);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "\"event_type\":\"alert\""));
        assert_non_null(strstr(line, "\"category\":\"Attempted Denial of Service\""));
        assert_non_null(strstr(line, "\"dest_ip\":\"192.0.2.10\""));
        char ph[32], v[32];
        field(line, "\"phase\":\"", ph, sizeof ph);
        if (!strcmp(ph, "start")) {
            o->starts++;
            field(line, "\"start\":\"", o->start, sizeof o->start);
            field(line, "\"detected\":\"", o->detected, sizeof o->detected);
            field(line, "\"vectors\":[\"", o->vectors, sizeof o->vectors);
        } else if (!strcmp(ph, "end")) {
            o->ends++;
            field(line, "\"end\":\"", o->end, sizeof o->end);
            field(line, "\"peak_pps\":", v, sizeof v);
            o->peak_pps = atol(v);
            field(line, "\"sources_distinct\":", v, sizeof v);
            o->sources = atol(v);
            /* the victim is never proposed for blocking */
            char el[256];
            field(line, "\"nft_set_elements\":[", el, sizeof el);
            assert_null(strstr(el, "192.0.2.10"));
        }
    }
    fclose(f);
    unlink(path);
}

static void test_end_to_end_threads(void **st)
{
    (void)st;
    run_out a, b;
    run_flood(1, 10000, &a);
    assert_int_equal(a.starts, 1);
    assert_int_equal(a.ends, 1);
    assert_string_equal(a.vectors, "syn_flood");
    /* 10x the floor: detected within 1 s of the start (2 s after t0) */
    assert_non_null(strstr(a.start, ":02.0"));
    assert_true(strstr(a.detected, ":02.") != NULL);
    /* the real peak rate: 10000 SYN/s (+ the light traffic) */
    assert_true(a.peak_pps >= 9900 && a.peak_pps <= 10100);
    assert_true(a.sources > 27000 && a.sources < 33000);
    run_flood(2, 10000, &b);
    assert_string_equal(a.start, b.start);
    assert_string_equal(a.detected, b.detected);
    assert_string_equal(a.end, b.end);
    assert_string_equal(a.vectors, b.vectors);
    assert_int_equal(a.peak_pps, b.peak_pps);
    assert_int_equal(a.sources, b.sources);
    /* 2x: within 2 s */
    run_flood(1, 2000, &a);
    assert_int_equal(a.starts, 1);
    assert_true(strstr(a.detected, ":02.") != NULL || strstr(a.detected, ":03.") != NULL);
    /* under the floor: nothing */
    run_flood(2, 800, &a);
    assert_int_equal(a.starts, 0);
}

static void test_config(void **st)
{
    (void)st;
    bf_config *cfg = bf_config_new();
    char err[256];
    assert_int_equal(bf_config_load_string(cfg,
                                           "vars:\n  address-groups:\n    HOME_NET: \"[192.0.2.0/24,10.0.0.0/8,!10.1.0.0/16]\"\n"
                                           "dos:\n  syn:\n    floor: 500\n  hysteresis: 2s\n",
                                           "t", err, sizeof err),
                     0);
    bf_dos_cfg c;
    bf_dos_cfg_default(&c);
    bf_dos_cfg_load(&c, cfg);
    assert_true(bf_config_ok(cfg));
    assert_int_equal(c.nprefixes, 2);
    assert_int_equal(c.prefixes[1].len, 8);
    assert_true(c.floor[BF_DOS_M_SYN] == 500);
    assert_true(c.hysteresis == 2 * BF_SEC);
    bf_dos_cfg_free(&c);
    bf_config_free(cfg);
    /* unknown keys and bad values are refused, naming the key */
    cfg = bf_config_new();
    assert_int_equal(bf_config_load_string(cfg, "dos:\n  syn:\n    flor: 5\n  udp:\n    floor: lots\n", "t", err,
                                           sizeof err),
                     0);
    bf_dos_cfg_default(&c);
    bf_dos_cfg_load(&c, cfg);
    assert_false(bf_config_ok(cfg));
    bf_dos_cfg_free(&c);
    bf_config_free(cfg);
}

int main(void)
{
    bf_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hll_accuracy),
        cmocka_unit_test(test_space_saving),
        cmocka_unit_test(test_trigger_floor),
        cmocka_unit_test(test_trigger_baseline_cusum_ceiling),
        cmocka_unit_test(test_hysteresis_end),
        cmocka_unit_test(test_typing),
        cmocka_unit_test(test_mitigation_never_victim),
        cmocka_unit_test(test_spoof_estimate),
        cmocka_unit_test(test_end_to_end_threads),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
