/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/unit/test_decode_pcaps.c: runs bf_decode, the dispatch hash and
 * defrag over every packet of every capture under ../shared (relative to
 * $BF_SRC, the project root).  Nothing is asserted about the content: this is
 * the robustness sweep (run it in the BF_SANITIZE build for the ASan sweep).
 * Skips when the data is absent.  .pcap.gz files are inflated in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <dirent.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <zlib.h>

#include "common/hash.h"
#include "decode/decode.h"

static bf_decode_cfg dcfg;
static bf_decode_stats dst;
static bf_defrag_stats fst;
static bf_defrag *df;
static uint64_t nfiles, nunreadable, npkts;

static void run_pcap(pcap_t *pc)
{
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        bf_packet p;
        memset(&p, 0, sizeof p);
        p.data = data;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = (uint16_t)dlt;
        p.ts = (bf_ts)h->ts.tv_sec * BF_SEC + (bf_ts)h->ts.tv_usec;
        p.pcap_cnt = ++npkts;
        bf_decode(&dcfg, &dst, &p);
        (void)bf_decode_dispatch_hash(data, h->caplen, (uint16_t)dlt);
        if (p.payload) /* touch the payload bounds: ASan checks them */
            assert_true(p.payload + p.payload_len <= data + h->caplen);
        if (p.l3)
            assert_true(p.l3 + p.l3_len <= data + h->caplen);
        if (p.flags & BF_PKT_FRAGMENT) {
            bf_packet out;
            if (bf_defrag_packet(df, &dcfg, &dst, &fst, &p, &out))
                assert_true(out.flags & BF_PKT_REASSEMBLED);
        }
        bf_defrag_timeout(df, &fst, p.ts);
    }
}

static void run_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    size_t l = strlen(path);
    pcap_t *pc = NULL;
    FILE *mf = NULL;
    char *mem = NULL;
    if (l > 3 && strcmp(path + l - 3, ".gz") == 0) {
        gzFile gz = gzopen(path, "rb");
        if (!gz)
            return;
        size_t cap = 1 << 20, n = 0;
        mem = malloc(cap);
        int r;
        while ((r = gzread(gz, mem + n, (unsigned)(cap - n))) > 0) {
            n += (size_t)r;
            if (n == cap) {
                if (cap >= (256u << 20))
                    break;
                cap *= 2;
                mem = realloc(mem, cap);
            }
        }
        gzclose(gz);
        mf = fmemopen(mem, n ? n : 1, "rb");
        if (mf)
            pc = pcap_fopen_offline(mf, err);
        if (!pc && mf)
            fclose(mf);
    } else {
        pc = pcap_open_offline(path, err);
    }
    if (!pc) {
        nunreadable++;
        free(mem);
        return;
    }
    nfiles++;
    run_pcap(pc);
    pcap_close(pc); /* closes mf too */
    free(mem);
}

static void walk(const char *dir, int depth)
{
    if (depth > 12)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk(path, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            const char *n = e->d_name;
            if (strstr(n, ".pcap") || strstr(n, ".cap") || strstr(n, ".trace"))
                run_file(path);
        }
    }
    closedir(d);
}

static void test_shared_pcaps(void **state)
{
    (void)state;
    const char *src = getenv("BF_SRC");
    char root[4096];
    snprintf(root, sizeof root, "%s/../shared", src ? src : ".");
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        print_message("SKIP: %s absent (set BF_SRC to the project root)\n", root);
        skip();
    }
    bf_decode_cfg_default(&dcfg);
    bf_defrag_cfg dfc;
    bf_defrag_cfg_default(&dfc);
    df = bf_defrag_new(&dfc);
    walk(root, 0);
    bf_defrag_free(df);
    print_message("pcap sweep: %llu files (%llu unreadable), %llu packets, %llu invalid, "
                  "%llu ipv4 %llu ipv6 %llu tcp %llu udp, %llu/%llu frags reassembled\n",
                  (unsigned long long)nfiles, (unsigned long long)nunreadable,
                  (unsigned long long)npkts, (unsigned long long)dst.invalid,
                  (unsigned long long)dst.ipv4, (unsigned long long)dst.ipv6,
                  (unsigned long long)dst.tcp, (unsigned long long)dst.udp,
                  (unsigned long long)(fst.ipv4_reassembled + fst.ipv6_reassembled),
                  (unsigned long long)(fst.ipv4_fragments + fst.ipv6_fragments));
    print_message("  link: eth %llu sll %llu sll2 %llu null %llu raw %llu; gre %llu vxlan %llu 4in4 %llu "
                  "6in4 %llu 4in6 %llu 6in6 %llu vlan %llu/%llu/%llu icmp %llu/%llu csum-bad ip %llu tcp %llu "
                  "udp %llu icmp %llu\n",
                  (unsigned long long)dst.ethernet, (unsigned long long)dst.sll, (unsigned long long)dst.sll2,
                  (unsigned long long)dst.null, (unsigned long long)dst.raw, (unsigned long long)dst.gre,
                  (unsigned long long)dst.vxlan, (unsigned long long)dst.ipv4_in_ipv4,
                  (unsigned long long)dst.ipv6_in_ipv4, (unsigned long long)dst.ipv4_in_ipv6,
                  (unsigned long long)dst.ipv6_in_ipv6, (unsigned long long)dst.vlan,
                  (unsigned long long)dst.vlan_qinq, (unsigned long long)dst.vlan_qinqinq,
                  (unsigned long long)dst.icmpv4, (unsigned long long)dst.icmpv6,
                  (unsigned long long)dst.csum_bad_ipv4, (unsigned long long)dst.csum_bad_tcp,
                  (unsigned long long)dst.csum_bad_udp, (unsigned long long)dst.csum_bad_icmp);
    for (uint16_t i = 1; i < BF_EV_MAX; i++)
        if (dst.events[i])
            print_message("  %-45s %llu\n", bf_event_name(i), (unsigned long long)dst.events[i]);
    assert_true(npkts > 0);
}

int main(void)
{
    bf_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_pcaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
