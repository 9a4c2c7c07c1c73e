/* SPDX-License-Identifier: GPL-2.0-or-later
 * pcap_readloop.c: the ceiling for pcap-file benchmarks.  A plain libpcap
 * read loop: open, pcap_next_ex, touch the first byte of each packet, count
 * packets and bytes.  Prints packets, bytes, CPU seconds (user+sys from
 * getrusage), packets per CPU-second and Mbit/s (captured bytes per CPU time).
 *
 *   pcap_readloop FILE [FILE...]
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static double tv_sec(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.pcap [FILE...]\n", argv[0]);
        return 1;
    }
    uint64_t packets = 0, bytes = 0, wire_bytes = 0;
    volatile unsigned sink = 0; /* keeps the byte touch from being optimised out */
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);

    for (int i = 1; i < argc; i++) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(argv[i], err);
        if (!p) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
            packets++;
            bytes += h->caplen;
            wire_bytes += h->len;
            if (h->caplen)
                sink += data[0];
        }
        if (rc == PCAP_ERROR)
            fprintf(stderr, "%s: %s (read up to the error)\n", argv[i], pcap_geterr(p));
        pcap_close(p);
    }

    clock_gettime(CLOCK_MONOTONIC, &w1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = tv_sec(ru.ru_utime) + tv_sec(ru.ru_stime);
    double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
    double denom = cpu > 0 ? cpu : 1e-9;

    printf("packets        %llu\n", (unsigned long long)packets);
    printf("bytes          %llu\n", (unsigned long long)bytes);
    printf("wire_bytes     %llu\n", (unsigned long long)wire_bytes);
    printf("wall_seconds   %.3f\n", wall);
    printf("cpu_seconds    %.3f\n", cpu);
    printf("pkts_per_cpu_s %.0f\n", (double)packets / denom);
    printf("mbit_per_s     %.1f\n", (double)bytes * 8 / 1e6 / denom);
    printf("max_rss_kib    %ld\n", ru.ru_maxrss);
    (void)sink;
    return 0;
}
