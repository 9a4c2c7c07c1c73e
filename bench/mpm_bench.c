/* SPDX-License-Identifier: GPL-2.0-or-later
 * bench/mpm_bench: compile time, database size and scan throughput of the
 * detect/mpm prefilter.
 *
 *   mpm_bench [npatterns [buffer_mb [phrase_every]]]   (20000, 100, 100)
 *
 * Builds a database of npatterns random literals of 4-30 bytes (about a
 * quarter caseless; half arbitrary bytes, half random printable characters
 * of which 1 in phrase_every/2 is a phrase of the text corpus, none if
 * phrase_every is 0: those are what hit in the text buffer) and reports
 * its compile time and size, first with no literal starting with NUL (the
 * pure literal API) and then with one more that does (the hex-escaped regex
 * fallback).  Then scans a buffer of random bytes and one of text, each
 * buffer_mb MB, in 1500-byte and 64 KiB slices, and reports MB/s and hits.
 * Times are process CPU time.  Random data is from a fixed seed, so runs
 * are comparable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/bf.h"
#include "detect/mpm.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char words[] =
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no will "
    "GET POST HTTP Host User-Agent Content-Type Mozilla cmd.exe /bin/sh admin login password "
    "select union from where script alert eval base64 php?id= .exe .dll powershell wget curl ";

static void fill_text(uint8_t *p, size_t len)
{
    size_t wl = sizeof(words) - 1;
    for (size_t i = 0; i < len;) {
        size_t at = rnd() % wl, n = 1 + rnd() % 24;
        for (size_t k = 0; k < n && i < len; k++)
            p[i++] = (uint8_t)words[(at + k) % wl];
        if (i < len && rnd() % 8 == 0)
            p[i++] = '\n';
    }
}

static bf_mpm_builder *make_patterns(uint32_t n, bool lead_nul, uint32_t phrase_every)
{
    bf_mpm_builder *b = bf_mpm_builder_new();
    uint8_t pat[32];
    rng = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = 4 + rnd() % 27;
        if (i & 1) {
            for (uint32_t k = 0; k < len; k++)
                pat[k] = (uint8_t)rnd();
            if (pat[0] == 0)
                pat[0] = 1;
        } else if (phrase_every && i % phrase_every == 0) { /* phrases of the text corpus */
            fill_text(pat, len);
        } else {
            static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                     "/.-_=?&:% ";
            for (uint32_t k = 0; k < len; k++)
                pat[k] = (uint8_t)cs[rnd() % (sizeof(cs) - 1)];
        }
        bf_mpm_add(b, pat, len, rnd() % 4 == 0, i);
    }
    if (lead_nul) {
        static const uint8_t z[] = {0x00, 0x00, 0x01, 0x42, 0x99};
        bf_mpm_add(b, z, sizeof(z), false, n);
    }
    return b;
}

static uint64_t hits_total;
static void on_hit(void *ud, uint32_t id)
{
    (void)ud;
    (void)id;
    hits_total++;
}

static void scan_bench(const char *what, const bf_mpm *m, bf_mpm_scratch *s, const uint8_t *buf,
                       size_t len, uint32_t slice)
{
    hits_total = 0;
    double t0 = now();
    for (size_t off = 0; off < len; off += slice) {
        uint32_t n = (uint32_t)BF_MIN((size_t)slice, len - off);
        bf_mpm_scan(m, s, buf + off, n, on_hit, NULL);
    }
    double dt = now() - t0;
    printf("  scan %-6s slices of %6u B: %8.1f MB/s  (%.3f s, %llu hits)\n", what, slice,
           (double)len / 1e6 / dt, dt, (unsigned long long)hits_total);
}

int main(int argc, char **argv)
{
    uint32_t npat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 20000;
    size_t mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    uint32_t phrase_every = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100;
    char err[512];
    bf_mpm *m = NULL;

    for (int pass = 0; pass < 2; pass++) {
        bf_mpm_builder *b = make_patterns(npat, pass == 1, phrase_every);
        uint32_t distinct = bf_mpm_builder_count(b);
        double t0 = now();
        bf_mpm *db = bf_mpm_build(b, err, sizeof(err));
        double dt = now() - t0;
        if (!db) {
            fprintf(stderr, "build failed: %s\n", err);
            return 1;
        }
        printf("%s: %u literals (%u distinct): compile %.3f s, %.2f MiB\n",
               pass ? "regex fallback (a literal starts with NUL)" : "literal API", npat + pass,
               distinct, dt, (double)bf_mpm_bytes(db) / (1024.0 * 1024.0));
        if (pass == 0)
            m = db;
        else
            bf_mpm_free(db);
    }

    bf_mpm_scratch *s = bf_mpm_scratch_new();
    if (!bf_mpm_scratch_fit(s, m)) {
        fprintf(stderr, "scratch allocation failed\n");
        return 1;
    }
    size_t len = mb * 1000 * 1000;
    uint8_t *buf = malloc(len);
    if (!buf)
        return 1;
    rng = 0x123456789abcdefULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd();
    printf("scanning %zu MB (literal-API database):\n", mb);
    scan_bench("random", m, s, buf, len, 1500);
    scan_bench("random", m, s, buf, len, 65536);
    fill_text(buf, len);
    scan_bench("text", m, s, buf, len, 1500);
    scan_bench("text", m, s, buf, len, 65536);
    free(buf);
    bf_mpm_scratch_free(s);
    bf_mpm_free(m);
    return 0;
}
