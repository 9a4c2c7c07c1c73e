/* SPDX-License-Identifier: GPL-2.0-or-later
 * capture/pcap_source.c: file and live input through libpcap (source.h). */
#include "capture/source.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

typedef struct input {
    char *path;
    bf_ts first_ts;
    uint64_t size;
} input;

struct bf_source {
    input *in;
    size_t nin, cur;
    pcap_t *pc;
    FILE *fp;           /* file under pc (ours when gz or stdin) */
    char *bpf;
    bool live;
    volatile sig_atomic_t stop;
    unsigned errors;
    uint64_t done_bytes; /* sizes of finished inputs */
    uint64_t total_bytes;
    uint16_t linktype;
};

/* ---- gzip through a stdio cookie, so libpcap reads it like a file ---- */

static ssize_t gz_read(void *c, char *buf, size_t n)
{
    int r = gzread((gzFile)c, buf, (unsigned)BF_MIN(n, (size_t)1 << 30));
    return r < 0 ? -1 : r;
}
static int gz_close(void *c) { return gzclose((gzFile)c) == Z_OK ? 0 : -1; }

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static FILE *open_input(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    if (has_suffix(path, ".gz")) {
        gzFile g = gzopen(path, "rb");
        if (!g)
            return NULL;
        cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
        return fopencookie(g, "rb", io);
    }
    return fopen(path, "rb");
}

static pcap_t *open_pcap(const char *path, FILE **fpo, char *err)
{
    FILE *fp = open_input(path);
    if (!fp) {
        snprintf(err, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
        return NULL;
    }
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!pc) {
        if (fp != stdin)
            fclose(fp);
        return NULL;
    }
    *fpo = fp;
    return pc;
}

static void add_input(bf_source *s, const char *path)
{
    s->in = bf_realloc(s->in, (s->nin + 1) * sizeof(input));
    input *in = &s->in[s->nin++];
    memset(in, 0, sizeof *in);
    in->path = bf_strdup(path);
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0)
        in->size = (uint64_t)st.st_size;
    s->total_bytes += in->size;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_dir(bf_source *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        bf_warn("cannot read folder %s: %s", dir, strerror(errno));
        s->errors++;
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        names = bf_realloc(names, (n + 1) * sizeof(char *));
        names[n++] = bf_strdup(p);
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_name);
    for (size_t i = 0; i < n; i++) {
        add_input(s, names[i]);
        free(names[i]);
    }
    free(names);
}

static int cmp_first_ts(const void *a, const void *b)
{
    const input *x = a, *y = b;
    if (x->first_ts != y->first_ts)
        return x->first_ts < y->first_ts ? -1 : 1;
    return strcmp(x->path, y->path);
}

bf_source *bf_source_open_files(const char *const *paths, size_t n, const char *bpf, char *err,
                                size_t errlen)
{
    bf_source *s = bf_calloc(1, sizeof *s);
    s->bpf = bpf ? bf_strdup(bpf) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            add_dir(s, paths[i]);
        else
            add_input(s, paths[i]);
    }
    if (s->nin == 0) {
        snprintf(err, errlen, "no input files");
        bf_source_close(s);
        return NULL;
    }
    /* time order: peek at each file's first packet (stdin stays in place) */
    if (s->nin > 1) {
        for (size_t i = 0; i < s->nin; i++) {
            char e[PCAP_ERRBUF_SIZE];
            FILE *fp;
            s->in[i].first_ts = UINT64_MAX;
            if (strcmp(s->in[i].path, "-") == 0)
                continue;
            pcap_t *pc = open_pcap(s->in[i].path, &fp, e);
            if (!pc)
                continue;
            struct pcap_pkthdr *h;
            const u_char *d;
            if (pcap_next_ex(pc, &h, &d) == 1)
                s->in[i].first_ts = (bf_ts)h->ts.tv_sec * BF_SEC + (bf_ts)h->ts.tv_usec;
            pcap_close(pc);
        }
        qsort(s->in, s->nin, sizeof(input), cmp_first_ts);
    }
    return s;
}

bf_source *bf_source_open_live(const char *ifname, const char *bpf, char *err, size_t errlen)
{
    char e[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_create(ifname, e);
    if (!pc) {
        snprintf(err, errlen, "%s: %s", ifname, e);
        return NULL;
    }
    pcap_set_snaplen(pc, 65535);
    pcap_set_promisc(pc, 1);
    pcap_set_timeout(pc, 100);
    pcap_set_buffer_size(pc, 64 << 20);
    pcap_set_immediate_mode(pc, 0);
    if (pcap_activate(pc) < 0) {
        snprintf(err, errlen, "%s: %s", ifname, pcap_geterr(pc));
        pcap_close(pc);
        return NULL;
    }
    bf_source *s = bf_calloc(1, sizeof *s);
    s->live = true;
    s->pc = pc;
    s->linktype = (uint16_t)pcap_datalink(pc);
    add_input(s, ifname);
    s->cur = 0;
    if (bpf) {
        struct bpf_program prog;
        if (pcap_compile(pc, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(pc, &prog) < 0) {
            snprintf(err, errlen, "bad BPF filter '%s': %s", bpf, pcap_geterr(pc));
            bf_source_close(s);
            return NULL;
        }
        pcap_freecode(&prog);
    }
    return s;
}

static void close_current(bf_source *s)
{
    if (!s->pc)
        return;
    pcap_close(s->pc); /* closes the FILE too */
    s->pc = NULL;
    s->fp = NULL;
    s->done_bytes += s->in[s->cur].size;
    s->cur++;
}

static bool open_next(bf_source *s)
{
    while (s->cur < s->nin) {
        char e[PCAP_ERRBUF_SIZE] = "";
        const char *path = s->in[s->cur].path;
        s->pc = open_pcap(path, &s->fp, e);
        if (!s->pc) {
            bf_warn("%s: cannot read: %s", path, e);
            s->errors++;
            s->done_bytes += s->in[s->cur].size;
            s->cur++;
            continue;
        }
        s->linktype = (uint16_t)pcap_datalink(s->pc);
        if (s->bpf) {
            struct bpf_program prog;
            if (pcap_compile(s->pc, &prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
                pcap_setfilter(s->pc, &prog) < 0) {
                bf_err("bad BPF filter '%s': %s", s->bpf, pcap_geterr(s->pc));
                s->errors++;
                s->stop = 1;
                return false;
            }
            pcap_freecode(&prog);
        }
        return true;
    }
    return false;
}

int bf_source_next(bf_source *s, bf_raw_pkt *out)
{
    for (;;) {
        if (s->stop)
            return 0;
        if (!s->pc && (s->live || !open_next(s)))
            return 0;
        struct pcap_pkthdr *h;
        const u_char *d;
        int r = pcap_next_ex(s->pc, &h, &d);
        if (r == 1) {
            out->data = d;
            out->caplen = h->caplen;
            out->wirelen = h->len;
            out->ts = (bf_ts)h->ts.tv_sec * BF_SEC + (bf_ts)h->ts.tv_usec;
            out->linktype = s->linktype;
            out->input_id = (uint16_t)s->cur;
            return 1;
        }
        if (r == 0) /* live timeout */
            continue;
        if (r == PCAP_ERROR_BREAK) {
            if (s->live)
                return 0;
            close_current(s);
            continue;
        }
        /* PCAP_ERROR: truncated or corrupt record; or a read cut short by
         * the signal that asked us to stop: not damage */
        if (s->stop)
            return 0;
        long off = -1;
        if (!s->live) {
            FILE *fp = pcap_file(s->pc);
            if (fp && fp != stdin)
                off = ftell(fp);
        }
        if (off >= 0)
            bf_warn("%s: input broken at byte offset %ld: %s; continuing with the next input",
                    s->in[s->cur].path, off, pcap_geterr(s->pc));
        else
            bf_warn("%s: input broken: %s; continuing with the next input", s->in[s->cur].path,
                    pcap_geterr(s->pc));
        s->errors++;
        if (s->live)
            return 0;
        close_current(s);
    }
}

void bf_source_stop(bf_source *s)
{
    s->stop = 1;
    if (s->pc && s->live)
        pcap_breakloop(s->pc);
}

unsigned bf_source_errors(const bf_source *s) { return s->errors; }

const char *bf_source_name(const bf_source *s)
{
    size_t i = s->cur < s->nin ? s->cur : s->nin - 1;
    return s->nin ? s->in[i].path : "";
}

bool bf_source_is_live(const bf_source *s) { return s->live; }

void bf_source_progress(const bf_source *s, uint64_t *done, uint64_t *total)
{
    uint64_t d = s->done_bytes;
    if (s->pc && !s->live && s->fp && s->fp != stdin) {
        long off = ftell(s->fp);
        if (off > 0)
            d += (uint64_t)off;
    }
    *done = d;
    *total = s->total_bytes;
}

void bf_source_live_stats(bf_source *s, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    *recv = *drop = *ifdrop = 0;
    struct pcap_stat ps;
    if (s->live && s->pc && pcap_stats(s->pc, &ps) == 0) {
        *recv = ps.ps_recv;
        *drop = ps.ps_drop;
        *ifdrop = ps.ps_ifdrop;
    }
}

void bf_source_close(bf_source *s)
{
    if (!s)
        return;
    if (s->pc)
        pcap_close(s->pc);
    for (size_t i = 0; i < s->nin; i++)
        free(s->in[i].path);
    free(s->in);
    free(s->bpf);
    free(s);
}
