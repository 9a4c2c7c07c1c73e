/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for capture/: files in time order, folders, gzip, and a
 * truncated file read up to the break with the error counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "capture/source.h"
#include "common/log.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];

/* Writes n packets of 60 bytes, timestamps t0, t0+1s, ...; byte 0 = tag. */
static void write_pcap(const char *path, int n, long t0, uint8_t tag)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (int i = 0; i < n; i++) {
        uint8_t pkt[60] = {tag, (uint8_t)i};
        struct pcap_pkthdr h = {.ts = {t0 + i, 0}, .caplen = 60, .len = 60};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/bf-test-capture-XXXXXX");
    assert_non_null(mkdtemp(dir));
    bf_log_verbosity = -1;
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int drain(bf_source *s, uint8_t *tags, int max)
{
    bf_raw_pkt r;
    int n = 0;
    while (bf_source_next(s, &r) == 1) {
        if (n < max)
            tags[n] = r.data[0];
        assert_int_equal(r.caplen, 60);
        assert_int_equal(r.linktype, DLT_EN10MB);
        n++;
    }
    return n;
}

static void test_time_order(void **st)
{
    (void)st;
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/a.pcap", dir);
    snprintf(b, sizeof b, "%s/b.pcap", dir);
    write_pcap(a, 3, 2000, 'A'); /* later */
    write_pcap(b, 2, 1000, 'B'); /* earlier */
    const char *paths[] = {a, b};
    char err[256];
    bf_source *s = bf_source_open_files(paths, 2, NULL, err, sizeof err);
    assert_non_null(s);
    uint8_t tags[8];
    assert_int_equal(drain(s, tags, 8), 5);
    assert_memory_equal(tags, "BBAAA", 5);
    assert_int_equal(bf_source_errors(s), 0);
    bf_source_close(s);

    /* the folder gives the same order */
    const char *d[] = {dir};
    s = bf_source_open_files(d, 1, NULL, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(drain(s, tags, 8), 5);
    assert_memory_equal(tags, "BBAAA", 5);
    bf_source_close(s);
}

static void test_truncated(void **st)
{
    (void)st;
    char a[300];
    snprintf(a, sizeof a, "%s/t.pcap", dir);
    write_pcap(a, 10, 1000, 'T');
    /* 24-byte header + 10 * (16 + 60); cut in the middle of packet 8 */
    assert_int_equal(truncate(a, 24 + 7 * 76 + 30), 0);
    const char *paths[] = {a};
    char err[256];
    bf_source *s = bf_source_open_files(paths, 1, NULL, err, sizeof err);
    uint8_t tags[16];
    assert_int_equal(drain(s, tags, 16), 7);
    assert_int_equal(bf_source_errors(s), 1);
    bf_source_close(s);
    unlink(a);

    /* garbage is an unreadable input, counted, not a crash */
    FILE *f = fopen(a, "w");
    fputs("this is not a capture file at all", f);
    fclose(f);
    s = bf_source_open_files(paths, 1, NULL, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(drain(s, tags, 16), 0);
    assert_int_equal(bf_source_errors(s), 1);
    bf_source_close(s);
    unlink(a);
}

static void test_gzip(void **st)
{
    (void)st;
    char a[300], g[300];
    snprintf(a, sizeof a, "%s/z.pcap", dir);
    snprintf(g, sizeof g, "%s/z.pcap.gz", dir);
    write_pcap(a, 4, 1000, 'Z');
    FILE *in = fopen(a, "rb");
    gzFile out = gzopen(g, "wb");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        gzwrite(out, buf, (unsigned)n);
    fclose(in);
    gzclose(out);
    unlink(a);
    const char *paths[] = {g};
    char err[256];
    bf_source *s = bf_source_open_files(paths, 1, NULL, err, sizeof err);
    uint8_t tags[8];
    assert_int_equal(drain(s, tags, 8), 4);
    assert_int_equal(bf_source_errors(s), 0);
    bf_source_close(s);
    unlink(g);
}

static void test_bpf(void **st)
{
    (void)st;
    char a[300];
    snprintf(a, sizeof a, "%s/f.pcap", dir);
    write_pcap(a, 4, 1000, 'F');
    const char *paths[] = {a};
    char err[256];
    bf_source *s = bf_source_open_files(paths, 1, "tcp", err, sizeof err);
    uint8_t tags[8];
    assert_int_equal(drain(s, tags, 8), 0); /* zero bytes are not TCP */
    bf_source_close(s);
    s = bf_source_open_files(paths, 1, "tcp and (", err, sizeof err);
    assert_int_equal(drain(s, tags, 8), 0);
    assert_int_equal(bf_source_errors(s), 1); /* bad filter reported */
    bf_source_close(s);
    unlink(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_order),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_bpf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
