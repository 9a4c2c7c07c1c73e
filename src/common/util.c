/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/util.c: allocation, address and time formatting helpers. */
#include "common/bf.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static void oom(size_t n)
{
    fprintf(stderr, "beffroi: out of memory allocating %zu bytes\n", n);
    abort();
}

void *bf_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *bf_calloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom(n * m);
    return p;
}

void *bf_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *bf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = bf_malloc(n);
    memcpy(d, s, n);
    return d;
}

const char *bf_addr_str(const bf_addr *a, int ipver, char *buf, size_t len)
{
    if (!inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, a->b, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

int bf_addr_parse(const char *s, bf_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->b) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, out->b) == 1)
        return 6;
    return 0;
}

size_t bf_ts_format(bf_ts ts, char *buf, size_t len)
{
    /* localtime_r is costly (tz lookups): cache the last second formatted.
     * Per thread, so no locking. */
    static __thread time_t last_sec = -1;
    static __thread char last[40];
    time_t sec = (time_t)(ts / BF_SEC);
    unsigned usec = (unsigned)(ts % BF_SEC);
    if (sec != last_sec) {
        struct tm tm;
        localtime_r(&sec, &tm);
        strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%S", &tm);
        long off = tm.tm_gmtoff;
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
            off = -off;
        /* stash offset after a NUL so the cached prefix stays intact */
        int hh = (int)(off / 3600 % 100), mm = (int)(off % 3600 / 60);
        snprintf(last + 20, sizeof last - 20, "%c%02d%02d", sign, hh, mm);
        last_sec = sec;
    }
    int n = snprintf(buf, len, "%s.%06u%s", last, usec, last + 20);
    return n < 0 ? 0 : (size_t)n;
}

uint64_t bf_wall_usec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * BF_SEC + (uint64_t)t.tv_nsec / 1000;
}

long bf_peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}
