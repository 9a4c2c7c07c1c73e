/* SPDX-License-Identifier: GPL-2.0-or-later
 * main.c: the command line.  Options follow Suricata's where they overlap
 * (-r, -i, -l, -c, -S, -k none, --simulate-ips, --set, -q, -F and a
 * trailing BPF expression), so users and scripts carry over. */
#include "capture/source.h"
#include "common/config.h"
#include "common/hash.h"
#include "common/log.h"
#include "engine/engine.h"
#include "app/applayer.h"
#include "app/http/http.h"
#include "detect/detect.h"
#include "behavior/dos/dos.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_USAGE = 1, EXIT_RUNTIME = 2, EXIT_INPUT_DAMAGED = 3 };

static void usage(FILE *o)
{
    fprintf(o,
            "Beffroi %s - network security monitor and intrusion prevention\n"
            "\n"
            "usage: beffroi -r FILE|DIR|- [-r ...] [options] [BPF expression]\n"
            "       beffroi -i IFACE [options] [BPF expression]\n"
            "       beffroi -T [-S FILE] [-c FILE]\n"
            "\n"
            "SIGHUP reloads the rules without losing flows.\n"
            "\n"
            "  -r PATH            read a pcap/pcapng file (also .gz), a folder of them, or - (stdin);\n"
            "                     repeatable: inputs are taken in time order\n"
            "  -i IFACE           capture live on an interface (libpcap)\n"
            "  -l DIR             log directory (default: current directory)\n"
            "  -c FILE            YAML configuration file\n"
            "  -S FILE            signature rules file (repeatable; replaces the config's\n"
            "                     rule-files)\n"
            "  -T, --test-rules   load the rules (and the config), print the load report and\n"
            "                     exit: 0 when every rule loaded, 1 otherwise\n"
            "  -k all|none|auto   checksum validation (default auto: off when most of the first\n"
            "                     packets have bad checksums, as with NIC offloading)\n"
            "  -F FILE            read the BPF filter from FILE\n"
            "  --set KEY=VALUE    override a configuration key (repeatable)\n"
            "  --threads N        worker threads (default: number of cores)\n"
            "  --simulate-ips     act as an inline IPS on pcap input (drop and reject rules\n"
            "                     drop the packet and the rest of its flow; EVE drop events)\n"
            "  --no-fast-log      do not write DIR/fast.log\n"
            "  --eve SPEC         EVE output: a file, - (stdout), unix:/path or unix-dgram:/path\n"
            "                     (default: DIR/eve.json)\n"
            "  --community-id     add community_id to events\n"
            "  --no-progress      no progress line on stderr\n"
            "  -q                 quiet: warnings and errors only, no summary\n"
            "  -v                 more verbose (repeatable)\n"
            "  -V, --version      print the version\n"
            "  -h, --help         this help\n"
            "\n"
            "exit status: 0 done; 1 usage or configuration error; 2 runtime error;\n"
            "             3 done, but an input was truncated or corrupt (read up to the break)\n",
            BF_VERSION);
}

static bf_source *volatile g_src; /* for the signal handler */

/* Rule reload on SIGHUP: a thread loads the new rules beside the running
 * engine and hands them to the workers, which switch between packets. */
static volatile sig_atomic_t g_reload_req, g_reload_quit;
static bf_detect_opts g_reload_opts;
static bf_config *g_reload_cfg;
static bf_detect *g_current, *g_prev;

static void on_sighup(int sig)
{
    (void)sig;
    g_reload_req = 1;
}

static void *reload_main(void *arg)
{
    (void)arg;
    while (!g_reload_quit) {
        usleep(100000);
        if (!g_reload_req)
            continue;
        g_reload_req = 0;
        bf_detect_report rep;
        char err[1024];
        bf_detect *d = bf_detect_load(g_reload_cfg, &g_reload_opts, &rep, err, sizeof err);
        if (!d) {
            bf_err("rule reload failed, keeping the running rules: %s", err);
            continue;
        }
        bf_info("rules reloaded on SIGHUP");
        bf_detect_report_print(&rep, stderr);
        bf_engine_set_detect(d);
        /* a worker may have just read the previous pointer without taking
         * its reference yet: release engines one reload late */
        bf_detect *old = g_prev;
        g_prev = g_current;
        g_current = d;
        if (old)
            bf_detect_unref(old);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    bf_engine_stop();
    /* the reader may be blocked inside the source (a quiet interface, a
     * pipe on stdin): make it return too */
    bf_source *s = g_src;
    if (s)
        bf_source_stop(s);
}

static char *read_file_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 256;
            buf = bf_realloc(buf, cap);
        }
        buf[n++] = (char)(c == '\n' ? ' ' : c);
    }
    fclose(f);
    if (!buf)
        buf = bf_strdup("");
    else
        buf[n] = 0;
    return buf;
}

static void print_summary(FILE *o, const bf_engine_summary *s, const char *eve_path)
{
    const bf_counters *c = &s->total;
    double span = s->last_ts > s->first_ts ? (double)(s->last_ts - s->first_ts) / 1e6 : 0;
    fprintf(o, "\nBeffroi summary\n");
    fprintf(o, "  packets      %llu (%llu bytes, %.1f s of traffic)\n",
            (unsigned long long)c->decode.pkts, (unsigned long long)c->decode.bytes, span);
    fprintf(o, "  processed in %.2f s wall, %.2f s CPU: %.0f pkt/s, %.1f Mbit/s; peak RSS %.1f MiB\n",
            s->wall_sec, s->cpu_sec, s->wall_sec > 0 ? (double)c->decode.pkts / s->wall_sec : 0,
            s->wall_sec > 0 ? (double)c->decode.bytes * 8 / s->wall_sec / 1e6 : 0,
            (double)s->peak_rss_kib / 1024);
    fprintf(o, "  decoded      IPv4 %llu, IPv6 %llu, TCP %llu, UDP %llu, ICMP %llu, invalid %llu\n",
            (unsigned long long)c->decode.ipv4, (unsigned long long)c->decode.ipv6,
            (unsigned long long)c->decode.tcp, (unsigned long long)c->decode.udp,
            (unsigned long long)(c->decode.icmpv4 + c->decode.icmpv6),
            (unsigned long long)c->decode.invalid);
    fprintf(o, "  flows        %llu (TCP %llu, UDP %llu, ICMP %llu); TCP sessions %llu\n",
            (unsigned long long)c->flow.total, (unsigned long long)c->flow.tcp,
            (unsigned long long)c->flow.udp,
            (unsigned long long)(c->flow.icmpv4 + c->flow.icmpv6),
            (unsigned long long)c->stream.sessions);
    fprintf(o, "  app-layer   ");
    bool any = false;
    for (uint16_t i = BF_APP_FAILED + 1; i < BF_APP_MAX; i++)
        if (c->app.flows[i] + c->app.flows_udp[i]) {
            fprintf(o, " %s %llu", bf_app_proto_name(i),
                    (unsigned long long)(c->app.flows[i] + c->app.flows_udp[i]));
            any = true;
        }
    fprintf(o, "%s; unidentified TCP %llu, UDP %llu\n", any ? "" : " none",
            (unsigned long long)c->app.failed_tcp, (unsigned long long)c->app.failed_udp);
    fprintf(o, "  anomalies    %llu logged; reassembly gaps %llu\n",
            (unsigned long long)c->anomalies_logged, (unsigned long long)c->stream.reassembly_gap);
    uint64_t drops = c->flow.memcap_drops + c->stream.segment_memcap_drop +
                     c->stream.ssn_memcap_drop + c->defrag.memcap_drops;
    fprintf(o, "  memcap drops %llu (flow %llu, stream %llu, defrag %llu); flows evicted %llu\n",
            (unsigned long long)drops, (unsigned long long)c->flow.memcap_drops,
            (unsigned long long)(c->stream.segment_memcap_drop + c->stream.ssn_memcap_drop),
            (unsigned long long)c->defrag.memcap_drops, (unsigned long long)c->flow.evicted);
    fprintf(o, "  EVE          %llu events -> %s\n", (unsigned long long)s->eve_lines, eve_path);
    if (s->input_errors)
        fprintf(o, "  WARNING      %u input(s) truncated or corrupt: read up to the break\n",
                s->input_errors);
}

int main(int argc, char **argv)
{
    enum { OPT_SET = 256, OPT_THREADS, OPT_SIMIPS, OPT_EVE, OPT_CID, OPT_NOPROG, OPT_NOFAST };
    static const struct option longopts[] = {
        {"set", required_argument, NULL, OPT_SET},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"simulate-ips", no_argument, NULL, OPT_SIMIPS},
        {"eve", required_argument, NULL, OPT_EVE},
        {"community-id", no_argument, NULL, OPT_CID},
        {"no-progress", no_argument, NULL, OPT_NOPROG},
        {"test-rules", no_argument, NULL, 'T'},
        {"no-fast-log", no_argument, NULL, OPT_NOFAST},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char **inputs = NULL;
    size_t ninputs = 0;
    const char *iface = NULL, *logdir = ".", *cfgfile = NULL, *bpf_file = NULL, *eve_spec = NULL;
    const char **rules = NULL;
    size_t nrules = 0;
    const char **sets = NULL;
    size_t nsets = 0;
    int checksum = -1;
    long threads = -1;
    bool quiet = false, simulate_ips = false, cid = false, noprog = false;
    bool test_rules = false, no_fast = false;
    int verbose = 0;

    int opt;
    while ((opt = getopt_long(argc, argv, "r:i:l:c:S:k:F:TqvVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            inputs = bf_realloc(inputs, (ninputs + 1) * sizeof(char *));
            inputs[ninputs++] = optarg;
            break;
        case 'i': iface = optarg; break;
        case 'l': logdir = optarg; break;
        case 'c': cfgfile = optarg; break;
        case 'S':
            rules = bf_realloc(rules, (nrules + 1) * sizeof(char *));
            rules[nrules++] = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "none") == 0)
                checksum = 0;
            else if (strcmp(optarg, "all") == 0)
                checksum = 1;
            else if (strcmp(optarg, "auto") == 0)
                checksum = 2;
            else {
                fprintf(stderr, "beffroi: -k takes 'all', 'none' or 'auto', not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'F': bpf_file = optarg; break;
        case 'q': quiet = true; break;
        case 'v': verbose++; break;
        case 'V': printf("Beffroi %s\n", BF_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        case OPT_SET:
            sets = bf_realloc(sets, (nsets + 1) * sizeof(char *));
            sets[nsets++] = optarg;
            break;
        case OPT_THREADS: {
            char *end;
            threads = strtol(optarg, &end, 10);
            if (*end || threads < 1 || threads > 256) {
                fprintf(stderr, "beffroi: --threads takes a number from 1 to 256\n");
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_SIMIPS: simulate_ips = true; break;
        case OPT_EVE: eve_spec = optarg; break;
        case OPT_CID: cid = true; break;
        case OPT_NOPROG: noprog = true; break;
        case 'T': test_rules = true; break;
        case OPT_NOFAST: no_fast = true; break;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    bf_log_verbosity = quiet ? BF_LOG_WARN : BF_LOG_INFO + (verbose > 0);
    if (!test_rules && (ninputs == 0) == (iface == NULL)) {
        fprintf(stderr, "beffroi: give either -r (capture files) or -i (interface)\n\n");
        usage(stderr);
        return EXIT_USAGE;
    }

    /* BPF: trailing arguments, or -F */
    char *bpf = NULL;
    if (bpf_file) {
        bpf = read_file_text(bpf_file);
        if (!bpf) {
            bf_err("-F %s: %s", bpf_file, strerror(errno));
            return EXIT_USAGE;
        }
    } else if (optind < argc) {
        size_t len = 1;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        bpf = bf_calloc(1, len);
        for (int i = optind; i < argc; i++) {
            strcat(bpf, argv[i]);
            if (i + 1 < argc)
                strcat(bpf, " ");
        }
    }

    bf_hash_init();

    /* configuration */
    bf_config *cfg = bf_config_new();
    char err[1024];
    if (cfgfile && bf_config_load(cfg, cfgfile, err, sizeof err) != 0) {
        bf_err("config: %s", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < nsets; i++)
        if (bf_config_set(cfg, sets[i], err, sizeof err) != 0) {
            bf_err("%s", err);
            return EXIT_USAGE;
        }
    bf_engine_cfg ecfg;
    bf_engine_cfg_default(&ecfg);
    ecfg.ips = simulate_ips;
    bf_engine_cfg_load(&ecfg, cfg);
    bf_http_cfg hcfg;
    bf_http_cfg_default(&hcfg);
    bf_http_cfg_load(&hcfg, cfg);
    bf_http_configure(&hcfg);
    bf_dos_cfg dcfg;
    bf_dos_cfg_default(&dcfg);
    bf_dos_cfg_load(&dcfg, cfg);
    /* app-layer.parsers: no switches every analyzer off (identification
     * stays); app-layer.protocols.<proto>.enabled: no switches one off */
    bool parsers_on = bf_config_bool(cfg, "app-layer.parsers", true);
    for (uint16_t ap = BF_APP_FAILED + 1; ap < BF_APP_MAX; ap++) {
        char key[96];
        snprintf(key, sizeof key, "app-layer.protocols.%s.enabled", bf_app_proto_name(ap));
        bf_app_parser_enable(ap, parsers_on && bf_config_bool(cfg, key, true));
    }
    if (checksum >= 0) {
        ecfg.decode.checksum_validation = checksum != 0;
        ecfg.stream.checksum_validation = checksum != 0;
        ecfg.checksum_auto = checksum == 2;
    }
    if (threads > 0)
        ecfg.threads = (unsigned)threads;
    if (cid)
        ecfg.eve.community_id = true;
    ecfg.progress = !noprog && !quiet && isatty(STDERR_FILENO);
    const char *eve_name = bf_config_str(cfg, "outputs.eve.filename", "eve.json");
    if (!bf_config_ok(cfg)) {
        bf_err("configuration refused (see the errors above)");
        return EXIT_USAGE;
    }

    /* rules: -S, else the config's rule-files (relative to default-rule-path) */
    char **cfg_rules = NULL;
    size_t ncfg_rules = 0;
    if (!nrules) {
        const char *base = bf_config_str(cfg, "default-rule-path", NULL);
        for (unsigned i = 0;; i++) {
            char key[64];
            snprintf(key, sizeof key, "rule-files.%u", i);
            const char *rf = bf_config_str(cfg, key, NULL);
            if (!rf)
                break;
            char path[4096];
            if (base && rf[0] != '/')
                snprintf(path, sizeof path, "%s/%s", base, rf);
            else
                snprintf(path, sizeof path, "%s", rf);
            cfg_rules = bf_realloc(cfg_rules, (ncfg_rules + 1) * sizeof *cfg_rules);
            cfg_rules[ncfg_rules++] = bf_strdup(path);
        }
    }
    bf_detect_opts dopts = {
        .rule_files = nrules ? rules : (const char *const *)cfg_rules,
        .nrule_files = nrules ? nrules : ncfg_rules,
        .simulate_ips = simulate_ips,
        .alert_max = (uint32_t)bf_config_uint(cfg, "packet-alert-max", 15, 1000),
        .quiet = quiet && !test_rules,
        .profiling = bf_config_bool(cfg, "detect.profiling", false),
    };
    bf_detect *detect = NULL;
    if (dopts.nrule_files || test_rules) {
        bf_detect_report rep;
        detect = bf_detect_load(cfg, &dopts, &rep, err, sizeof err);
        if (!detect) {
            bf_err("rules: %s", err);
            return EXIT_USAGE;
        }
        if (test_rules || !quiet || rep.failed)
            bf_detect_report_print(&rep, stderr);
        if (test_rules) {
            bf_detect_unref(detect);
            return rep.failed ? EXIT_USAGE : 0;
        }
        g_reload_opts = dopts;
        g_reload_cfg = cfg;
    }
    ecfg.detect = detect;

    /* output */
    char eve_path[4096];
    if (eve_spec)
        snprintf(eve_path, sizeof eve_path, "%s", eve_spec);
    else if (strcmp(eve_name, "-") == 0 || eve_name[0] == '/' || strncmp(eve_name, "unix", 4) == 0)
        snprintf(eve_path, sizeof eve_path, "%s", eve_name);
    else
        snprintf(eve_path, sizeof eve_path, "%s/%s", logdir, eve_name);
    struct stat st;
    if (stat(logdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bf_err("-l %s: not a directory", logdir);
        return EXIT_USAGE;
    }
    bf_eve_sink *sink = bf_eve_sink_open(eve_path, err, sizeof err);
    if (!sink) {
        bf_err("cannot open EVE output %s", err);
        return EXIT_RUNTIME;
    }

    /* input */
    bf_source *src = iface ? bf_source_open_live(iface, bpf, err, sizeof err)
                           : bf_source_open_files(inputs, ninputs, bpf, err, sizeof err);
    if (!src) {
        bf_err("input: %s", err);
        bf_eve_sink_close(sink);
        return EXIT_RUNTIME;
    }

    FILE *fast = NULL;
    if (detect && !no_fast) {
        char fpath[4096];
        snprintf(fpath, sizeof fpath, "%s/fast.log", logdir);
        fast = fopen(fpath, "a");
        if (!fast)
            bf_warn("cannot open %s: %s (no fast.log)", fpath, strerror(errno));
    }
    ecfg.fast_log = fast;

    g_src = src;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t reloader;
    bool reloading = false;
    if (detect) {
        g_current = detect;
        struct sigaction sh = {.sa_handler = on_sighup, .sa_flags = SA_RESTART};
        sigaction(SIGHUP, &sh, NULL);
        reloading = pthread_create(&reloader, NULL, reload_main, NULL) == 0;
    }

    /* DoS detector: its mitigation file lives in the log directory */
    bf_dos *dos = NULL;
    if (dcfg.enabled) {
        if (dcfg.mitigation_file && *dcfg.mitigation_file && dcfg.mitigation_file[0] != '/') {
            char mp[4400];
            snprintf(mp, sizeof mp, "%s/%s", logdir, dcfg.mitigation_file);
            free(dcfg.mitigation_file);
            dcfg.mitigation_file = bf_strdup(mp);
        }
        dos = bf_dos_new(&dcfg, ecfg.threads ? ecfg.threads : 1);
        ecfg.dos = dos;
    }

    bf_engine_summary sum;
    bf_engine_run(&ecfg, src, sink, &sum);
    if (reloading) {
        g_reload_quit = 1;
        pthread_join(reloader, NULL);
    }
    if (g_current) {
        bf_detect_profile_print(g_current, stderr, 20);
        bf_detect_unref(g_current);
    }
    if (g_prev)
        bf_detect_unref(g_prev);
    if (fast)
        fclose(fast);
    for (size_t i = 0; i < ncfg_rules; i++)
        free(cfg_rules[i]);
    free(cfg_rules);
    if (!quiet) {
        bool eve_stdout = strcmp(eve_path, "-") == 0;
        print_summary(eve_stdout ? stderr : stdout, &sum, eve_stdout ? "stdout" : eve_path);
        if (dos)
            bf_dos_print_summary(dos, eve_stdout ? stderr : stdout);
    }
    bf_dos_free(dos);
    bf_dos_cfg_free(&dcfg);
    unsigned input_errors = bf_source_errors(src);
    g_src = NULL;
    bf_source_close(src);
    bf_eve_sink_close(sink);
    bf_config_free(cfg);
    free(bpf);
    free(inputs);
    free(rules);
    free(sets);
    return input_errors ? EXIT_INPUT_DAMAGED : 0;
}
