/* SPDX-License-Identifier: GPL-2.0-or-later
 * behavior/dos/dos.c: the DoS detector (see dos.h). */
#include "behavior/dos/dos.h"
#include "app/app.h"
#include "app/http/http.h"
#include "behavior/dos/dos_int.h"
#include "behavior/dos/est.h"
#include "common/hash.h"
#include "common/log.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BIN_US (100 * BF_MSEC)
#define WIN 10                     /* bins in the 1 s measurement window */
#define NSIZE 7
#define NTTL 32
#define K_SRC 8                    /* per-bin top sources */
#define K_PORT 4
#define K_URL 4
#define URL_MAX 96
#define A_SRC 32                   /* per-attack top sources */
#define A_PORT 8
#define A_URL 8
#define NO_BIN UINT64_MAX

/* ------------------------------------------------------------------ */
/* Reflector protocols                                                 */

static const struct {
    uint16_t port;
    const char *name;
} refl_tab[BF_DOS_NREFL] = {
    {53, "dns"},       {123, "ntp"},        {1900, "ssdp"},   {11211, "memcached"},
    {389, "cldap"},    {161, "snmp"},       {19, "chargen"},  {137, "netbios"},
    {47808, "bacnet"}, {500, "isakmp"},     {3702, "ws_discovery"}, {111, "portmap"},
    {17, "qotd"},      {5353, "mdns"},      {69, "tftp"},     {520, "rip"},
    {3283, "ard"},     {10001, "ubiquiti"}, {5683, "coap"},   {1434, "mssql"},
};

int bf_dos_refl_index(uint16_t sport)
{
    for (int i = 0; i < BF_DOS_NREFL; i++)
        if (refl_tab[i].port == sport)
            return i;
    return -1;
}
const char *bf_dos_refl_name(int i) { return i >= 0 && i < BF_DOS_NREFL ? refl_tab[i].name : "udp"; }
uint16_t bf_dos_refl_port(int i) { return i >= 0 && i < BF_DOS_NREFL ? refl_tab[i].port : 0; }

static const char *const vec_names[BF_DOS_NVEC] = {
    "syn_flood", "synack_flood", "ack_flood", "rst_flood", "udp_flood", "icmp_flood",
    "fragment_flood", "amplification", "carpet_bombing", "connection_exhaustion",
    "http_flood", "slowloris",
};
static const char *const vec_titles[BF_DOS_NVEC] = {
    "SYN flood", "SYN-ACK flood", "ACK flood", "RST flood", "UDP flood", "ICMP flood",
    "fragment flood", "amplification", "carpet bombing", "TCP connection exhaustion",
    "HTTP request flood", "slowloris (slow HTTP requests)",
};

const char *bf_dos_vector_name(unsigned v, int refl)
{
    static __thread char buf[48];
    if (v == BF_DOS_V_AMP && refl >= 0) {
        snprintf(buf, sizeof buf, "%s_amplification", bf_dos_refl_name(refl));
        return buf;
    }
    return v < BF_DOS_NVEC ? vec_names[v] : "unknown";
}

uint32_t bf_dos_vector_sid(unsigned v, int refl)
{
    if (v == BF_DOS_V_AMP && refl >= 0)
        return 9000100u + (uint32_t)refl;
    return 9000001u + v;
}

static const char *const metric_keys[BF_DOS_NTRIG] = {
    "syn", "synack", "ack", "rst", "udp", "udp-bps", "icmp", "fragment",
    "amplification", "amplification-bps", "http", "slow", "connections",
};
static const char *const metric_names[BF_DOS_NMET] = {
    "syn_pps", "synack_pps", "ack_pps", "rst_pps", "udp_pps", "udp_bps", "icmp_pps",
    "fragment_pps", "amplification_pps", "amplification_bps", "http_rps", "slow_requests",
    "connections", "pps", "bps", "new_flows_ps", "fragments_pps",
};

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

void bf_dos_cfg_default(bf_dos_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    static const double floors[BF_DOS_NTRIG] = {
        [BF_DOS_M_SYN] = 1000,      [BF_DOS_M_SYNACK] = 1000,  [BF_DOS_M_ACK] = 2000,
        [BF_DOS_M_RST] = 1000,      [BF_DOS_M_UDP] = 1000,     [BF_DOS_M_UDP_BPS] = 100e6,
        [BF_DOS_M_ICMP] = 1000,     [BF_DOS_M_FRAG] = 1000,    [BF_DOS_M_REFL] = 200,
        [BF_DOS_M_REFL_BPS] = 20e6, [BF_DOS_M_HTTP] = 200,     [BF_DOS_M_SLOW] = 100,
        [BF_DOS_M_CONNS] = 5000,
    };
    static const double ceilings[BF_DOS_NTRIG] = {
        [BF_DOS_M_SYN] = 50000,     [BF_DOS_M_SYNACK] = 50000, [BF_DOS_M_ACK] = 100000,
        [BF_DOS_M_RST] = 50000,     [BF_DOS_M_UDP] = 200000,   [BF_DOS_M_UDP_BPS] = 2e9,
        [BF_DOS_M_ICMP] = 50000,    [BF_DOS_M_FRAG] = 50000,   [BF_DOS_M_REFL] = 20000,
        [BF_DOS_M_REFL_BPS] = 1e9,  [BF_DOS_M_HTTP] = 5000,    [BF_DOS_M_SLOW] = 2000,
        [BF_DOS_M_CONNS] = 100000,
    };
    memcpy(c->floor, floors, sizeof floors);
    memcpy(c->ceiling, ceilings, sizeof ceilings);
    c->baseline_window = 600 * BF_SEC;
    c->factor = 3;
    c->sigmas = 6;
    c->cusum_drift = 2;
    c->cusum_h = 60;
    c->confirm = 200 * BF_MSEC;
    c->hysteresis = 3 * BF_SEC;
    c->end_ratio = 0.5;
    c->update_interval = 10 * BF_SEC;
    c->slow_age = 500 * BF_MSEC;
    c->carpet_min_hosts = 16;
    c->mitigation_timeout = 600 * BF_SEC;
    c->mitigation_max_sources = 16;
    c->max_hosts = 4096;
    c->max_http_flows = 131072;
    c->memcap = 64ull << 20;
    c->mitigation_file = bf_strdup("dos-mitigation.nft");
}

void bf_dos_cfg_free(bf_dos_cfg *c)
{
    free(c->prefixes);
    free(c->mitigation_file);
    c->prefixes = NULL;
    c->mitigation_file = NULL;
}

/* "[192.0.2.0/24, 10.0.0.0/8, 2001:db8::/32]": negations and $VARS skipped */
static void parse_prefixes(bf_dos_cfg *c, bf_config *cfg, const char *key, const char *v)
{
    free(c->prefixes);
    c->prefixes = NULL;
    c->nprefixes = 0;
    char *s = bf_strdup(v), *save = NULL;
    for (char *t = strtok_r(s, "[], \t\"'", &save); t; t = strtok_r(NULL, "[], \t\"'", &save)) {
        if (t[0] == '!' || t[0] == '$' || !strcasecmp(t, "any"))
            continue;
        char *slash = strchr(t, '/');
        int len = -1;
        if (slash) {
            *slash = 0;
            char *end;
            len = (int)strtol(slash + 1, &end, 10);
            if (*end)
                len = -2;
        }
        bf_addr a;
        int ver = bf_addr_parse(t, &a);
        int max = ver == 6 ? 128 : 32;
        if (!ver || len == -2 || len > max) {
            bf_config_error(cfg, key, "'%s' is not an address or prefix", t);
            continue;
        }
        if (len < 0)
            len = max;
        for (int i = len; i < 128; i++)
            a.b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
        c->prefixes = bf_realloc(c->prefixes, (c->nprefixes + 1) * sizeof *c->prefixes);
        c->prefixes[c->nprefixes++] = (bf_dos_prefix){a, (uint8_t)ver, (uint8_t)len};
    }
    free(s);
}

static double cfg_double(bf_config *cfg, const char *key, double def, double min, double max)
{
    const char *v = bf_config_str(cfg, key, NULL);
    if (!v)
        return def;
    char *end;
    double d = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (end == v || *end || !(d >= min && d <= max)) {
        bf_config_error(cfg, key, "'%s' is not a number from %g to %g", v, min, max);
        return def;
    }
    return d;
}

struct keycheck {
    bf_config *cfg;
    const char *prefix;
    const char *const *ok;
};

static void check_key(void *ud, const char *name, const char *value)
{
    struct keycheck *k = ud;
    for (const char *const *o = k->ok; *o; o++)
        if (!strcmp(*o, name))
            return;
    char key[160];
    snprintf(key, sizeof key, "%s.%s", k->prefix, name);
    bf_config_error(k->cfg, key, "unknown key");
}

void bf_dos_cfg_load(bf_dos_cfg *c, bf_config *cfg)
{
    static const char *const top[] = {
        "enabled", "home-networks", "baseline", "cusum", "confirm", "hysteresis",
        "end-percent", "update-interval", "slow", "carpet", "mitigation", "max-hosts",
        "max-http-flows", "memcap", "syn", "synack", "ack", "rst", "udp", "udp-bps", "icmp",
        "fragment", "amplification", "amplification-bps", "http", "connections", NULL};
    struct keycheck k = {cfg, "dos", top};
    bf_config_children(cfg, "dos", check_key, &k);
    static const char *const fc[] = {"floor", "ceiling", NULL};
    for (int m = 0; m < BF_DOS_NTRIG; m++) {
        char p[64];
        snprintf(p, sizeof p, "dos.%s", metric_keys[m]);
        if (m == BF_DOS_M_SLOW) {
            static const char *const sl[] = {"floor", "ceiling", "min-age", NULL};
            struct keycheck ks = {cfg, p, sl};
            bf_config_children(cfg, p, check_key, &ks);
        } else {
            struct keycheck kk = {cfg, p, fc};
            bf_config_children(cfg, p, check_key, &kk);
        }
        char key[96];
        snprintf(key, sizeof key, "%s.floor", p);
        c->floor[m] = cfg_double(cfg, key, c->floor[m], 0, 1e13);
        snprintf(key, sizeof key, "%s.ceiling", p);
        c->ceiling[m] = cfg_double(cfg, key, c->ceiling[m], 0, 1e13);
    }
    static const char *const bl[] = {"window", "factor", "sigmas", NULL};
    struct keycheck kb = {cfg, "dos.baseline", bl};
    bf_config_children(cfg, "dos.baseline", check_key, &kb);
    static const char *const cu[] = {"drift", "threshold", NULL};
    struct keycheck kc = {cfg, "dos.cusum", cu};
    bf_config_children(cfg, "dos.cusum", check_key, &kc);
    static const char *const ca[] = {"min-hosts", NULL};
    struct keycheck kca = {cfg, "dos.carpet", ca};
    bf_config_children(cfg, "dos.carpet", check_key, &kca);
    static const char *const mi[] = {"timeout", "max-sources", "file", NULL};
    struct keycheck km = {cfg, "dos.mitigation", mi};
    bf_config_children(cfg, "dos.mitigation", check_key, &km);

    c->enabled = bf_config_bool(cfg, "dos.enabled", c->enabled);
    const char *hn = bf_config_str(cfg, "dos.home-networks", NULL);
    if (hn)
        parse_prefixes(c, cfg, "dos.home-networks", hn);
    else if ((hn = bf_config_str(cfg, "vars.address-groups.HOME_NET", NULL)))
        parse_prefixes(c, cfg, "vars.address-groups.HOME_NET", hn);
    c->baseline_window = bf_config_duration(cfg, "dos.baseline.window", c->baseline_window);
    if (c->baseline_window < BIN_US) {
        bf_config_error(cfg, "dos.baseline.window", "must be at least 100ms");
        c->baseline_window = BIN_US;
    }
    c->factor = cfg_double(cfg, "dos.baseline.factor", c->factor, 1, 1000);
    c->sigmas = cfg_double(cfg, "dos.baseline.sigmas", c->sigmas, 0, 1000);
    c->cusum_drift = cfg_double(cfg, "dos.cusum.drift", c->cusum_drift, 0, 1000);
    c->cusum_h = cfg_double(cfg, "dos.cusum.threshold", c->cusum_h, 0, 1e6);
    c->confirm = bf_config_duration(cfg, "dos.confirm", c->confirm);
    c->hysteresis = bf_config_duration(cfg, "dos.hysteresis", c->hysteresis);
    if (c->hysteresis < BIN_US) {
        bf_config_error(cfg, "dos.hysteresis", "must be at least 100ms");
        c->hysteresis = BIN_US;
    }
    c->end_ratio = cfg_double(cfg, "dos.end-percent", c->end_ratio * 100, 1, 100) / 100;
    c->update_interval = bf_config_duration(cfg, "dos.update-interval", c->update_interval);
    c->slow_age = bf_config_duration(cfg, "dos.slow.min-age", c->slow_age);
    c->carpet_min_hosts =
        (uint32_t)bf_config_uint(cfg, "dos.carpet.min-hosts", c->carpet_min_hosts, 1u << 24);
    c->mitigation_timeout = bf_config_duration(cfg, "dos.mitigation.timeout", c->mitigation_timeout);
    c->mitigation_max_sources = (uint32_t)bf_config_uint(cfg, "dos.mitigation.max-sources",
                                                         c->mitigation_max_sources, 32);
    const char *mf = bf_config_str(cfg, "dos.mitigation.file", NULL);
    if (mf) {
        free(c->mitigation_file);
        c->mitigation_file = bf_strdup(mf);
    }
    c->max_hosts = (uint32_t)bf_config_uint(cfg, "dos.max-hosts", c->max_hosts, 1u << 22);
    if (c->max_hosts < 16) {
        bf_config_error(cfg, "dos.max-hosts", "must be at least 16");
        c->max_hosts = 16;
    }
    c->max_http_flows =
        (uint32_t)bf_config_uint(cfg, "dos.max-http-flows", c->max_http_flows, 1u << 26);
    c->memcap = bf_config_size(cfg, "dos.memcap", c->memcap);
    if (c->memcap < (1u << 20)) {
        bf_config_error(cfg, "dos.memcap", "must be at least 1mb");
        c->memcap = 1u << 20;
    }
}

/* ------------------------------------------------------------------ */
/* Bins                                                                */

enum { C_SYN, C_SYNACK, C_ACK, C_RST, C_TCP, C_UDP, C_ICMP, C_FRAG, C_REFL, C_OTHER, NCLS };

/* What one destination (or prefix) received in one 100 ms bin. */
typedef struct dbin {
    bf_addr key;
    uint8_t ipver;
    uint8_t used;
    int16_t pfx;                      /* -1: a host; else a prefix index */
    uint32_t pkts[NCLS];
    uint64_t bytes[NCLS];
    uint32_t newflows, http_req, slow, conns;
    uint32_t reasm_dgrams;            /* reassembled datagrams (all) */
    uint64_t reasm_bytes;
    uint32_t udp_dgrams;              /* reassembled UDP datagrams (not reflected) */
    uint64_t udp_dgram_bytes;
    uint32_t refl_pkts[BF_DOS_NREFL];
    uint64_t refl_bytes[BF_DOS_NREFL];
    uint32_t size_hist[NSIZE], ttl_hist[NTTL];
    uint16_t size_min, size_max;
    uint8_t ttl_min, ttl_max;
    uint16_t nsrc, ndport, nsport, nurl, nhsrc;
    bf_ss_item src[K_SRC];            /* by packets */
    bf_ss_item hsrc[K_SRC];           /* HTTP requests by source */
    bf_ss_item dport[K_PORT], sport[K_PORT];
    bf_ss_item url[K_URL];            /* tag: hash; key: index into urltxt */
    char urltxt[K_URL][URL_MAX];
    bf_hll hsrc_hll;                  /* distinct sources */
} dbin;

/* open-addressing table of dbins (fixed capacity) */
typedef struct btab {
    dbin *e;
    uint32_t *slot;                   /* index + 1, 0 = empty */
    uint32_t cap, nslot, n;
    uint32_t hw;                      /* entries ever used (resident) */
    bf_hll *pdst;                     /* per prefix: distinct destinations */
    unsigned npfx;
} btab;

static void btab_init(btab *t, uint32_t cap, unsigned npfx)
{
    t->npfx = npfx;
    t->pdst = npfx ? bf_calloc(npfx, sizeof *t->pdst) : NULL;
    t->hw = 0;
    t->cap = cap;
    t->nslot = 1;
    while (t->nslot < cap * 2)
        t->nslot <<= 1;
    t->e = bf_calloc(cap, sizeof *t->e);
    t->slot = bf_calloc(t->nslot, sizeof *t->slot);
    t->n = 0;
}

static void btab_free(btab *t)
{
    free(t->pdst);
    free(t->e);
    free(t->slot);
}

static uint64_t addr_hash(const bf_addr *a, int pfx)
{
    uint64_t h = bf_mix64(a->q[0] ^ 0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL ^ (uint64_t)(pfx + 7));
    return bf_mix64(h ^ a->q[1], 0x8ebc6af09c88c6e3ULL) ^ h;
}

static void dbin_init(dbin *b, const bf_addr *a, uint8_t ipver, int pfx)
{
    memset(b, 0, offsetof(dbin, urltxt));
    memset(&b->hsrc_hll, 0, sizeof b->hsrc_hll);
    b->key = *a;
    b->ipver = ipver;
    b->used = 1;
    b->pfx = (int16_t)pfx;
    b->size_min = UINT16_MAX;
    b->ttl_min = 255;
}

/* Finds or (room permitting) creates the entry. */
static dbin *btab_get(btab *t, const bf_addr *a, uint8_t ipver, int pfx, bool create)
{
    uint32_t mask = t->nslot - 1;
    uint32_t i = (uint32_t)addr_hash(a, pfx) & mask;
    for (;;) {
        uint32_t s = t->slot[i];
        if (!s)
            break;
        dbin *b = &t->e[s - 1];
        if (b->pfx == pfx && bf_addr_eq(&b->key, a))
            return b;
        i = (i + 1) & mask;
    }
    if (!create || t->n >= t->cap)
        return NULL;
    dbin *b = &t->e[t->n];
    t->slot[i] = ++t->n;
    if (t->n > t->hw)
        t->hw = t->n;
    dbin_init(b, a, ipver, pfx);
    return b;
}

static void btab_clear(btab *t)
{
    if (t->pdst)
        memset(t->pdst, 0, t->npfx * sizeof *t->pdst);
    if (!t->n)
        return;
    if (t->n * 8 < t->nslot) {
        uint32_t mask = t->nslot - 1;
        for (uint32_t k = 0; k < t->n; k++) {
            uint32_t i = (uint32_t)addr_hash(&t->e[k].key, t->e[k].pfx) & mask;
            while (t->slot[i])
                t->slot[i] = 0, i = (i + 1) & mask;
        }
    } else {
        memset(t->slot, 0, t->nslot * sizeof *t->slot);
    }
    t->n = 0;
}

static void ss_add_into(bf_ss_item *it, uint16_t *n, uint16_t k, const bf_addr *key,
                        uint32_t tag, uint64_t cnt)
{
    bf_ss s = {k, *n, it};
    bf_ss_add(&s, key, tag, cnt);
    *n = s.n;
}

static void ss_merge_into(bf_ss_item *dit, uint16_t *dn, uint16_t dk, const bf_ss_item *sit,
                          uint16_t sn)
{
    bf_ss d = {dk, *dn, dit};
    bf_ss s = {sn, sn, (bf_ss_item *)sit};
    bf_ss_merge(&d, &s);
    *dn = d.n;
}

static void url_add(dbin *b, uint32_t h, const uint8_t *u, uint32_t len, uint64_t cnt)
{
    /* the slot's text follows its item: find by hash, else take the
     * Space-Saving victim's slot */
    bf_addr key = {0};
    for (unsigned i = 0; i < b->nurl; i++)
        if (b->url[i].tag == h) {
            b->url[i].count += cnt;
            return;
        }
    unsigned slot;
    if (b->nurl < K_URL) {
        slot = b->nurl++;
        b->url[slot] = (bf_ss_item){key, h, 0, cnt};
    } else {
        slot = 0;
        for (unsigned i = 1; i < K_URL; i++)
            if (b->url[i].count < b->url[slot].count)
                slot = i;
        uint64_t base = b->url[slot].count;
        b->url[slot] = (bf_ss_item){key, h, (uint32_t)base, base + cnt};
    }
    uint32_t l = len < URL_MAX - 1 ? len : URL_MAX - 1;
    memcpy(b->urltxt[slot], u, l);
    b->urltxt[slot][l] = 0;
}

static void dbin_merge(dbin *d, const dbin *s)
{
    for (int i = 0; i < NCLS; i++) {
        d->pkts[i] += s->pkts[i];
        d->bytes[i] += s->bytes[i];
    }
    d->newflows += s->newflows;
    d->http_req += s->http_req;
    d->slow += s->slow;
    d->conns += s->conns;
    d->reasm_dgrams += s->reasm_dgrams;
    d->reasm_bytes += s->reasm_bytes;
    d->udp_dgrams += s->udp_dgrams;
    d->udp_dgram_bytes += s->udp_dgram_bytes;
    for (int i = 0; i < BF_DOS_NREFL; i++) {
        d->refl_pkts[i] += s->refl_pkts[i];
        d->refl_bytes[i] += s->refl_bytes[i];
    }
    for (int i = 0; i < NSIZE; i++)
        d->size_hist[i] += s->size_hist[i];
    for (int i = 0; i < NTTL; i++)
        d->ttl_hist[i] += s->ttl_hist[i];
    if (s->size_min < d->size_min)
        d->size_min = s->size_min;
    if (s->size_max > d->size_max)
        d->size_max = s->size_max;
    if (s->ttl_min < d->ttl_min)
        d->ttl_min = s->ttl_min;
    if (s->ttl_max > d->ttl_max)
        d->ttl_max = s->ttl_max;
    ss_merge_into(d->src, &d->nsrc, K_SRC, s->src, s->nsrc);
    ss_merge_into(d->hsrc, &d->nhsrc, K_SRC, s->hsrc, s->nhsrc);
    ss_merge_into(d->dport, &d->ndport, K_PORT, s->dport, s->ndport);
    ss_merge_into(d->sport, &d->nsport, K_PORT, s->sport, s->nsport);
    for (unsigned i = 0; i < s->nurl; i++)
        url_add(d, s->url[i].tag, (const uint8_t *)s->urltxt[i], (uint32_t)strlen(s->urltxt[i]),
                s->url[i].count);
    bf_hll_merge(&d->hsrc_hll, &s->hsrc_hll);
}

/* ------------------------------------------------------------------ */
/* Per-worker state                                                    */

typedef struct gauge {                /* per server: open TCP connections */
    bf_addr key;
    uint8_t ipver, used;
    int32_t conns, slow;
} gauge;

typedef struct hflow {                /* an HTTP flow followed for slow requests */
    uint64_t flow_id;                 /* 0: empty */
    bf_addr server;
    uint8_t ipver;
    bf_ts inprog;                     /* a request started then, not complete yet */
    uint64_t done_cnt;                /* pcap_cnt of the packet that completed one */
} hflow;

struct bf_dos_worker {
    bf_dos *d;
    unsigned id;
    bf_eve *eve;
    uint64_t bin;                     /* bin being filled (NO_BIN: none yet) */
    btab t;
    gauge *g;
    uint32_t gslots, gn;
    uint32_t gbig;                 /* gauges at or over the connections floor / 4 */
    hflow *hf;
    uint32_t hslots, hn, hmax;
    uint64_t host_drops, http_drops;
    bool finished;
};

/* ------------------------------------------------------------------ */
/* Coordinator state                                                   */

typedef struct pending {
    uint64_t bin;                     /* NO_BIN: free */
    btab t;                           /* allocated on first use, kept */
} pending;

typedef struct attack attack;

typedef struct host {
    bf_addr key;
    uint8_t ipver, used, active;
    int16_t pfx;
    uint64_t last_bin;                /* last bin evaluated */
    float win[BF_DOS_NMET][WIN];
    uint8_t wpos;
    uint8_t quiet;                    /* consecutive empty bins */
    bf_dos_trig trig[BF_DOS_NTRIG];
    attack *att;
} host;

struct attack {
    uint64_t id;
    host *h;
    uint32_t vectors;                 /* BF_DOS_V_* bits */
    unsigned primary;
    int refl;                         /* dominant reflector protocol or -1 */
    uint32_t sid;
    bf_ts start, detected, last_over, end, next_update;
    double thr[BF_DOS_NTRIG], base[BF_DOS_NTRIG];
    double rate[BF_DOS_NMET];         /* current (last second) */
    double peak_pps, peak_bps, peak_metric[BF_DOS_NMET];
    uint32_t under;
    uint64_t pkts, bytes, http_req;
    uint64_t refl_pkts[BF_DOS_NREFL], refl_bytes[BF_DOS_NREFL];
    uint64_t size_hist[NSIZE], ttl_hist[NTTL];
    uint16_t size_min, size_max;
    uint8_t ttl_min, ttl_max;
    uint16_t nsrc, nhsrc, ndport, nsport, nurl;
    bf_ss_item src[A_SRC], hsrc[A_SRC], dport[A_PORT], sport[A_PORT];
    bf_ss_item url[A_URL];
    char urltxt[A_URL][URL_MAX];
    bf_hll src_hll, dst_hll;
    double dst_distinct;
    attack *next;                     /* all attacks (summary) */
    bool over;
    char summary[768];                /* one line for the end-of-run summary */
};

struct bf_dos {
    bf_dos_cfg cfg;
    bf_dos_trig_cfg tc[BF_DOS_NTRIG];
    unsigned nw;
    bf_dos_worker *ws;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t *done;                   /* per worker: bins < done[w] are closed */
    uint64_t next;                    /* next bin to evaluate (NO_BIN: none yet) */
    pending *pend;
    unsigned npend;
    uint64_t pend_hw;                 /* entries resident in pending tables */
    host *hosts;
    uint32_t hcap, hslots, hn;
    uint32_t *hslot;
    uint32_t hand;                    /* eviction clock hand */
    host **act;                       /* hosts evaluated every bin */
    uint32_t nact;
    host **work;                      /* scratch */
    attack *attacks;
    uint64_t next_id;
    bf_dos_stats st;
    uint32_t confirm_bins, end_bins;
};

/* ------------------------------------------------------------------ */
/* Worker side: measurements                                           */

static unsigned size_bucket(uint32_t len)
{
    return len <= 64 ? 0 : len <= 128 ? 1 : len <= 256 ? 2 : len <= 512 ? 3 : len <= 1024 ? 4
           : len <= 1518 ? 5 : 6;
}

static int prefix_of(const bf_dos_cfg *c, const bf_addr *a, uint8_t ipver)
{
    for (unsigned i = 0; i < c->nprefixes; i++) {
        const bf_dos_prefix *p = &c->prefixes[i];
        if (p->ipver != ipver)
            continue;
        unsigned full = p->len / 8, rem = p->len % 8;
        if (memcmp(a->b, p->net.b, full))
            continue;
        if (rem && ((a->b[full] & (uint8_t)(0xff << (8 - rem))) != p->net.b[full]))
            continue;
        return (int)i;
    }
    return -1;
}

/* Connections from which a server's gauge goes into the bins (floor / 4). */
static inline int64_t conn_big(const bf_dos_worker *w)
{
    double m = w->d->cfg.floor[BF_DOS_M_CONNS] / 4;
    return m < 1 ? 1 : (int64_t)(m + 0.999999);
}

static gauge *gauge_get(bf_dos_worker *w, const bf_addr *a, uint8_t ipver, bool create)
{
    uint32_t mask = w->gslots - 1;
    uint32_t i = (uint32_t)addr_hash(a, -2) & mask;
    for (uint32_t n = 0; n < w->gslots; n++, i = (i + 1) & mask) {
        gauge *g = &w->g[i];
        if (!g->used) {
            if (!create || w->gn * 2 >= w->gslots)
                return NULL;
            g->used = 1;
            g->key = *a;
            g->ipver = ipver;
            g->conns = g->slow = 0;
            w->gn++;
            return g;
        }
        if (bf_addr_eq(&g->key, a))
            return g;
    }
    return NULL;
}

static void gauge_del(bf_dos_worker *w, gauge *g)
{
    /* backward-shift deletion */
    uint32_t mask = w->gslots - 1;
    uint32_t i = (uint32_t)(g - w->g), j = i;
    w->g[i].used = 0;
    w->gn--;
    for (;;) {
        j = (j + 1) & mask;
        if (!w->g[j].used)
            return;
        uint32_t k = (uint32_t)addr_hash(&w->g[j].key, -2) & mask;
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            w->g[i] = w->g[j];
            w->g[j].used = 0;
            i = j;
        }
    }
}

static hflow *hflow_find(bf_dos_worker *w, uint64_t id)
{
    uint32_t mask = w->hslots - 1;
    uint32_t i = (uint32_t)bf_mix64(id, 0x51ed) & mask;
    for (;;) {
        hflow *h = &w->hf[i];
        if (!h->flow_id)
            return NULL;
        if (h->flow_id == id)
            return h;
        i = (i + 1) & mask;
    }
}

static void hflow_grow(bf_dos_worker *w)
{
    hflow *old = w->hf;
    uint32_t on = w->hslots;
    w->hslots *= 2;
    w->hf = bf_calloc(w->hslots, sizeof *w->hf);
    uint32_t mask = w->hslots - 1;
    for (uint32_t k = 0; k < on; k++) {
        if (!old[k].flow_id)
            continue;
        uint32_t i = (uint32_t)bf_mix64(old[k].flow_id, 0x51ed) & mask;
        while (w->hf[i].flow_id)
            i = (i + 1) & mask;
        w->hf[i] = old[k];
    }
    free(old);
}

static hflow *hflow_add(bf_dos_worker *w, uint64_t id)
{
    if (w->hn >= w->hmax) {
        w->http_drops++;
        return NULL;
    }
    /* the table grows with the flows followed (it is walked every bin) */
    if ((w->hn + 1) * 2 > w->hslots)
        hflow_grow(w);
    uint32_t mask = w->hslots - 1;
    uint32_t i = (uint32_t)bf_mix64(id, 0x51ed) & mask;
    while (w->hf[i].flow_id) {
        if (w->hf[i].flow_id == id)
            return &w->hf[i];
        i = (i + 1) & mask;
    }
    w->hn++;
    memset(&w->hf[i], 0, sizeof w->hf[i]);
    w->hf[i].flow_id = id;
    return &w->hf[i];
}

static void hflow_del(bf_dos_worker *w, hflow *h)
{
    /* backward-shift deletion keeps probe chains intact */
    uint32_t mask = w->hslots - 1;
    uint32_t i = (uint32_t)(h - w->hf), j = i;
    w->hf[i].flow_id = 0;
    w->hn--;
    for (;;) {
        j = (j + 1) & mask;
        if (!w->hf[j].flow_id)
            return;
        uint32_t k = (uint32_t)bf_mix64(w->hf[j].flow_id, 0x51ed) & mask;
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            w->hf[i] = w->hf[j];
            w->hf[j].flow_id = 0;
            i = j;
        }
    }
}

static void merge_bin(bf_dos_worker *w, uint64_t bin, uint64_t next_bin);

/* Closes the current bin when ts is past it. */
static void advance(bf_dos_worker *w, bf_ts ts)
{
    uint64_t b = ts / BIN_US;
    if (w->bin == NO_BIN) {
        w->bin = b;
        return;
    }
    if (b <= w->bin)
        return;
    merge_bin(w, w->bin, b);
    w->bin = b;
}

static dbin *host_bin(bf_dos_worker *w, const bf_addr *a, uint8_t ipver)
{
    dbin *b = btab_get(&w->t, a, ipver, -1, true);
    if (!b)
        w->host_drops++;
    return b;
}

static void measure(bf_dos_worker *w, dbin *b, const bf_packet *p, int cls, uint32_t len,
                    bool newflow)
{
    b->pkts[cls]++;
    b->bytes[cls] += len;
    unsigned sb = size_bucket(len);
    b->size_hist[sb]++;
    uint16_t l16 = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
    if (l16 < b->size_min)
        b->size_min = l16;
    if (l16 > b->size_max)
        b->size_max = l16;
    b->ttl_hist[p->ttl >> 3]++;
    if (p->ttl < b->ttl_min)
        b->ttl_min = p->ttl;
    if (p->ttl > b->ttl_max)
        b->ttl_max = p->ttl;
    bf_hll_add(&b->hsrc_hll, addr_hash(&p->src, p->ipver));
    ss_add_into(b->src, &b->nsrc, K_SRC, &p->src, p->ipver, 1);
    if (p->proto == 6 || p->proto == 17) {
        if (!(p->flags & BF_PKT_FRAGMENT) || p->frag_off == 0) {
            bf_addr z = {0};
            ss_add_into(b->dport, &b->ndport, K_PORT, &z, (uint32_t)p->proto << 16 | p->dp, 1);
            ss_add_into(b->sport, &b->nsport, K_PORT, &z, (uint32_t)p->proto << 16 | p->sp, 1);
        }
    }
    if (newflow)
        b->newflows++;
}

static void on_packet(void *ud, const bf_bus_msg *m)
{
    bf_dos_worker *w = ud;
    bf_packet *p = m->pkt;
    if (!p || (p->flags & BF_PKT_PSEUDO))
        return;
    advance(w, p->ts);
    if (!p->ipver)
        return;
    bf_flow *f = m->flow;
    const bf_dos_cfg *c = &w->d->cfg;

    /* slow HTTP requests: client data on a followed flow starts a request */
    if (f && f->app_proto == BF_APP_HTTP && w->hn) {
        if (p->tcp_flags & (BF_TH_FIN | BF_TH_RST)) {
            /* a closing connection holds no request any more */
            hflow *h = hflow_find(w, f->flow_id);
            if (h)
                hflow_del(w, h);
        } else if (p->dir == 0 && p->payload_len) {
            hflow *h = hflow_find(w, f->flow_id);
            if (h && !h->inprog && h->done_cnt != p->pcap_cnt)
                h->inprog = p->ts;
        }
    }
    bool newflow = f && f->pkts[0] + f->pkts[1] == 1 && !(p->flags & BF_PKT_REASSEMBLED);
    /* an established connection: the client's second packet after the
     * server answered (half-open SYN flood flows never get there) */
    if (f && f->proto == 6 && p->dir == 0 && f->pkts[0] == 2 && f->pkts[1] > 0) {
        gauge *g = gauge_get(w, &f->addr[1], f->ipver, true);
        if (g && ++g->conns == conn_big(w))
            w->gbig++;
    }
    /* only traffic toward servers, or one-way (unsolicited) traffic, or
     * large answers from reflector ports (an amplification's answers may
     * sit on flows whose forged queries were seen too) */
    bool oneway = f && f->pkts[p->dir ^ 1] == 0;
    bool refl_big = p->proto == 17 && (p->l3_len >= 512 || (p->flags & BF_PKT_REASSEMBLED)) &&
                    bf_dos_refl_index(p->sp) >= 0;
    if (f && p->dir != 0 && !oneway && !refl_big)
        return;
    int pfx = c->nprefixes ? prefix_of(c, &p->dst, p->ipver) : -1;
    if (c->nprefixes && pfx < 0)
        return; /* home networks configured: only they are watched */
    uint32_t len = p->wirelen;

    if (p->flags & BF_PKT_REASSEMBLED) {
        /* the rebuilt datagram: its fragments were counted already; it only
         * says what they carried */
        dbin *b = host_bin(w, &p->dst, p->ipver);
        dbin *pb = pfx >= 0 ? btab_get(&w->t, &c->prefixes[pfx].net, p->ipver, pfx, true) : NULL;
        int ri = p->proto == 17 && (oneway || refl_big) ? bf_dos_refl_index(p->sp) : -1;
        for (int k = 0; k < 2; k++) {
            dbin *x = k ? pb : b;
            if (!x)
                continue;
            x->reasm_dgrams++;
            x->reasm_bytes += p->l3_len;
            if (ri >= 0) {
                x->refl_pkts[ri]++;
                x->refl_bytes[ri] += p->l3_len;
            } else if (p->proto == 17) {
                x->udp_dgrams++;
                x->udp_dgram_bytes += p->l3_len;
            }
        }
        return;
    }

    int cls;
    int ri = -1;
    if (p->flags & BF_PKT_FRAGMENT) {
        cls = C_FRAG;
    } else if (p->proto == 6) {
        uint8_t fl = p->tcp_flags & (BF_TH_SYN | BF_TH_ACK | BF_TH_RST);
        if (fl == BF_TH_SYN)
            cls = C_SYN;
        else if (!oneway)
            cls = C_TCP;
        else if ((fl & (BF_TH_SYN | BF_TH_ACK)) == (BF_TH_SYN | BF_TH_ACK))
            cls = C_SYNACK;
        else if (fl & BF_TH_RST)
            cls = C_RST;
        else if (fl & BF_TH_ACK)
            cls = C_ACK;
        else
            cls = C_TCP;
    } else if (p->proto == 17) {
        ri = oneway || !f || refl_big ? bf_dos_refl_index(p->sp) : -1;
        cls = ri >= 0 ? C_REFL : C_UDP;
    } else if (p->proto == 1 || p->proto == 58) {
        cls = C_ICMP;
    } else {
        cls = C_OTHER;
    }
    dbin *b = host_bin(w, &p->dst, p->ipver);
    if (b) {
        measure(w, b, p, cls, len, newflow);
        if (ri >= 0) {
            b->refl_pkts[ri]++;
            b->refl_bytes[ri] += len;
        }
    }
    if (pfx >= 0) {
        dbin *pb = btab_get(&w->t, &c->prefixes[pfx].net, p->ipver, pfx, true);
        if (pb) {
            measure(w, pb, p, cls, len, newflow);
            if (ri >= 0) {
                pb->refl_pkts[ri]++;
                pb->refl_bytes[ri] += len;
            }
            bf_hll_add(&w->t.pdst[pfx], addr_hash(&p->dst, 99));
        } else {
            w->host_drops++;
        }
    }
}

static void on_app_detected(void *ud, const bf_bus_msg *m)
{
    bf_dos_worker *w = ud;
    bf_flow *f = m->flow;
    if (!f || f->app_proto != BF_APP_HTTP || f->proto != 6)
        return;
    hflow *h = hflow_add(w, f->flow_id);
    if (!h)
        return;
    h->server = f->addr[1];
    h->ipver = f->ipver;
    h->inprog = m->pkt ? m->pkt->ts : f->last;
}

static void on_http_request(void *ud, const bf_bus_msg *m)
{
    bf_dos_worker *w = ud;
    bf_flow *f = m->flow;
    const bf_http_tx *tx = m->data;
    if (!f || !tx)
        return;
    if (m->pkt)
        advance(w, m->pkt->ts);
    hflow *h = w->hn ? hflow_find(w, f->flow_id) : NULL;
    if (h && tx->req_complete) {
        h->inprog = 0;
        h->done_cnt = m->pkt ? m->pkt->pcap_cnt : 0;
    }
    if (!tx->req_headers_complete)
        return;
    const bf_dos_cfg *c = &w->d->cfg;
    int pfx = c->nprefixes ? prefix_of(c, &f->addr[1], f->ipver) : -1;
    if (c->nprefixes && pfx < 0)
        return;
    dbin *b = host_bin(w, &f->addr[1], f->ipver);
    if (!b)
        return;
    b->http_req++;
    ss_add_into(b->hsrc, &b->nhsrc, K_SRC, &f->addr[0], f->ipver, 1);
    if (tx->uri.ptr)
        url_add(b, (uint32_t)bf_hash_bytes(tx->uri.ptr, tx->uri.len), tx->uri.ptr, tx->uri.len, 1);
}

static void on_flow_end(void *ud, const bf_bus_msg *m)
{
    bf_dos_worker *w = ud;
    bf_flow *f = m->flow;
    if (!f)
        return;
    if (f->proto == 6 && f->pkts[0] >= 2 && f->pkts[1] > 0) {
        gauge *g = gauge_get(w, &f->addr[1], f->ipver, false);
        if (g && g->conns > 0) {
            if (g->conns == conn_big(w) && w->gbig)
                w->gbig--;
            if (--g->conns == 0)
                gauge_del(w, g);
        }
    }
    if (w->hn) {
        hflow *h = hflow_find(w, f->flow_id);
        if (h)
            hflow_del(w, h);
    }
}

/* Gauges of the closing bin: open connections and slow requests. */
static void write_gauges(bf_dos_worker *w, uint64_t bin)
{
    const bf_dos_cfg *c = &w->d->cfg;
    bf_ts end = (bin + 1) * BIN_US;
    /* slow counts are zero here: the loop below resets them after use */
    uint32_t nslow = 0;
    if (w->hn) {
        for (uint32_t i = 0; i < w->hslots; i++) {
            hflow *h = &w->hf[i];
            if (h->flow_id && h->inprog && end > h->inprog && end - h->inprog >= c->slow_age) {
                gauge *g = gauge_get(w, &h->server, h->ipver, true);
                if (g) {
                    g->slow++;
                    nslow++;
                }
            }
        }
    }
    /* nothing to report (no slow request, no server at the connections
     * floor): skip the walk over the gauge table */
    if (!w->gn || (!nslow && !w->gbig))
        return;
    double conn_min = c->floor[BF_DOS_M_CONNS] / 4;
    bool dead = false;
    for (uint32_t i = 0; i < w->gslots; i++) {
        gauge *g = &w->g[i];
        if (!g->used)
            continue;
        if (g->conns <= 0)
            dead = true;
        uint32_t slow = (uint32_t)g->slow;
        g->slow = 0;
        if (slow == 0 && g->conns < conn_min)
            continue;
        int pfx = c->nprefixes ? prefix_of(c, &g->key, g->ipver) : -1;
        if (c->nprefixes && pfx < 0)
            continue;
        dbin *b = host_bin(w, &g->key, g->ipver);
        if (b) {
            b->slow += slow;
            b->conns += (uint32_t)g->conns;
        }
    }
    /* entries only made for slow requests go */
    for (uint32_t i = 0; dead && i < w->gslots; i++)
        while (w->g[i].used && w->g[i].conns <= 0)
            gauge_del(w, &w->g[i]);
}

/* ------------------------------------------------------------------ */
/* Coordinator: merge, evaluate                                        */

enum { PR_CLOSED, PR_OLDEST, PR_ALL };
static void process_ready(bf_dos *d, bf_eve *eve, int mode);

static pending *pending_get(bf_dos *d, uint64_t bin)
{
    pending *free_p = NULL;
    for (unsigned i = 0; i < d->npend; i++) {
        if (d->pend[i].bin == bin)
            return &d->pend[i];
        if (d->pend[i].bin == NO_BIN && !free_p)
            free_p = &d->pend[i];
    }
    if (!free_p)
        return NULL;
    free_p->bin = bin;
    if (!free_p->t.e)
        btab_init(&free_p->t, d->cfg.max_hosts + d->cfg.nprefixes, d->cfg.nprefixes);
    return free_p;
}

static uint64_t min_done(bf_dos *d)
{
    uint64_t m = UINT64_MAX;
    for (unsigned i = 0; i < d->nw; i++)
        if (d->done[i] < m)
            m = d->done[i];
    return m;
}

/* The worker closed `bin` (next_bin is its new current bin). */
static void merge_bin(bf_dos_worker *w, uint64_t bin, uint64_t next_bin)
{
    bf_dos *d = w->d;
    write_gauges(w, bin);
    pthread_mutex_lock(&d->mu);
    if (w->t.n) {
        uint64_t target = bin;
        if (d->next != NO_BIN && bin < d->next) {
            target = d->next; /* evaluated already: joins the next bin */
            d->st.late_merges++;
        }
        pending *p = pending_get(d, target);
        int waits = 0;
        while (!p && d->nw > 1 && waits < 200) {
            /* every pending slot is taken by bins other workers have not
             * closed yet: wait for them a little, then force */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            waits++;
            if (d->next != NO_BIN && bin < d->next)
                target = d->next;
            p = pending_get(d, target);
        }
        if (!p) {
            /* force: evaluate the oldest pending bin, then retry */
            process_ready(d, w->eve, PR_OLDEST);
            if (d->next != NO_BIN && bin < d->next)
                target = d->next;
            p = pending_get(d, target);
        }
        if (p) {
            /* resident memory of the pending bins: the high-water marks of
             * their tables, capped by dos.memcap */
            uint64_t max_entries = d->cfg.memcap / sizeof(dbin);
            for (uint32_t i = 0; i < w->t.n; i++) {
                dbin *s = &w->t.e[i];
                bool grow = p->t.n >= p->t.hw;
                dbin *x = btab_get(&p->t, &s->key, s->ipver, s->pfx, !grow || d->pend_hw < max_entries);
                if (x)
                    dbin_merge(x, s);
                else
                    d->st.pending_drops++;
                if (x && grow)
                    d->pend_hw++;
            }
            d->pend_hw = 0;
            for (unsigned i = 0; i < d->npend; i++)
                d->pend_hw += d->pend[i].t.hw;
            for (unsigned k = 0; k < d->cfg.nprefixes; k++)
                bf_hll_merge(&p->t.pdst[k], &w->t.pdst[k]);
        } else {
            d->st.pending_drops += w->t.n;
        }
        d->st.bins_merged++;
    }
    d->done[w->id] = next_bin;
    process_ready(d, w->eve, PR_CLOSED);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    btab_clear(&w->t);
}

/* ---- hosts ---------------------------------------------------------- */

static host *host_get(bf_dos *d, const bf_addr *a, uint8_t ipver, int pfx, uint64_t bin)
{
    uint32_t mask = d->hslots - 1;
    uint32_t i = (uint32_t)addr_hash(a, pfx) & mask;
    for (;;) {
        uint32_t s = d->hslot[i];
        if (!s)
            break;
        host *h = &d->hosts[s - 1];
        if (h->used && h->pfx == pfx && bf_addr_eq(&h->key, a))
            return h;
        i = (i + 1) & mask;
    }
    host *h = NULL;
    if (d->hn < d->hcap) {
        h = &d->hosts[d->hn++];
    } else {
        /* evict an idle host (clock hand: amortized O(1)) */
        host *best = NULL;
        for (uint32_t k = 0; k < d->hcap; k++) {
            host *x = &d->hosts[d->hand];
            d->hand = (d->hand + 1) % d->hcap;
            if (!x->active && !x->att) {
                best = x;
                break;
            }
        }
        if (!best) {
            d->st.hosts_full++;
            return NULL;
        }
        d->st.hosts_evicted++;
        /* unlink from the index: rebuild its probe chain */
        uint32_t j = (uint32_t)addr_hash(&best->key, best->pfx) & mask;
        uint32_t idx = (uint32_t)(best - d->hosts) + 1;
        while (d->hslot[j] != idx)
            j = (j + 1) & mask;
        d->hslot[j] = 0;
        for (uint32_t k = (j + 1) & mask; d->hslot[k]; k = (k + 1) & mask) {
            uint32_t v = d->hslot[k];
            d->hslot[k] = 0;
            host *y = &d->hosts[v - 1];
            uint32_t q = (uint32_t)addr_hash(&y->key, y->pfx) & mask;
            while (d->hslot[q])
                q = (q + 1) & mask;
            d->hslot[q] = v;
        }
        h = best;
        i = (uint32_t)addr_hash(a, pfx) & mask;
        while (d->hslot[i])
            i = (i + 1) & mask;
    }
    memset(h, 0, sizeof *h);
    h->key = *a;
    h->ipver = ipver;
    h->pfx = (int16_t)pfx;
    h->used = 1;
    h->last_bin = bin ? bin - 1 : 0;
    d->hslot[i] = (uint32_t)(h - d->hosts) + 1;
    return h;
}

static int host_cmp(const void *a, const void *b)
{
    const host *x = *(host *const *)a, *y = *(host *const *)b;
    if (x->pfx != y->pfx)
        return x->pfx < y->pfx ? -1 : 1;
    if (x->ipver != y->ipver)
        return x->ipver < y->ipver ? -1 : 1;
    return bf_addr_cmp(&x->key, &y->key);
}

/* per-bin values of every metric from a merged bin */
static void bin_values(const dbin *b, double *v)
{
    memset(v, 0, sizeof(double) * BF_DOS_NMET);
    if (!b)
        return;
    v[BF_DOS_M_SYN] = b->pkts[C_SYN];
    v[BF_DOS_M_SYNACK] = b->pkts[C_SYNACK];
    v[BF_DOS_M_ACK] = b->pkts[C_ACK];
    v[BF_DOS_M_RST] = b->pkts[C_RST];
    v[BF_DOS_M_UDP] = b->pkts[C_UDP] + b->udp_dgrams;
    v[BF_DOS_M_UDP_BPS] = (double)(b->bytes[C_UDP] + b->udp_dgram_bytes) * 8;
    v[BF_DOS_M_ICMP] = b->pkts[C_ICMP];
    double refl = 0, reflb = 0;
    for (int i = 0; i < BF_DOS_NREFL; i++) {
        refl += b->refl_pkts[i];
        reflb += (double)b->refl_bytes[i];
    }
    v[BF_DOS_M_REFL] = refl;
    v[BF_DOS_M_REFL_BPS] = reflb * 8;
    /* fragments not explained by datagrams that reassembled */
    double fb = (double)b->bytes[C_FRAG];
    double expl = fb > 0 ? (double)b->reasm_bytes / fb : 0;
    if (expl > 1)
        expl = 1;
    v[BF_DOS_M_FRAG] = b->pkts[C_FRAG] * (1 - expl);
    v[BF_DOS_M_FRAG_ALL] = b->pkts[C_FRAG];
    v[BF_DOS_M_HTTP] = b->http_req;
    v[BF_DOS_M_SLOW] = b->slow;
    v[BF_DOS_M_CONNS] = b->conns;
    double pk = 0, by = 0;
    for (int i = 0; i < NCLS; i++) {
        pk += b->pkts[i];
        by += (double)b->bytes[i];
    }
    v[BF_DOS_M_PPS] = pk;
    v[BF_DOS_M_BPS] = by * 8;
    v[BF_DOS_M_NEWFLOWS] = b->newflows;
}

static bool is_gauge(int m) { return m == BF_DOS_M_SLOW || m == BF_DOS_M_CONNS; }

/* rates over the last second, from the window */
static void host_rates(const host *h, double *r)
{
    for (int m = 0; m < BF_DOS_NMET; m++) {
        double s = 0, mx = 0;
        for (int k = 0; k < WIN; k++) {
            s += h->win[m][k];
            if (h->win[m][k] > mx)
                mx = h->win[m][k];
        }
        r[m] = is_gauge(m) ? mx : s * (1e6 / (double)(WIN * BIN_US));
    }
}

/* ---- typing ---------------------------------------------------------- */

uint32_t bf_dos_type(uint32_t alarms, const double *rate, bool prefix, double dst_distinct,
                     double top_share, uint32_t carpet_min_hosts)
{
    uint32_t v = 0;
#define A(m) (alarms & (1u << (m)))
    if (A(BF_DOS_M_SYN))
        v |= 1u << BF_DOS_V_SYN;
    if (A(BF_DOS_M_SYNACK))
        v |= 1u << BF_DOS_V_SYNACK;
    if (A(BF_DOS_M_ACK))
        v |= 1u << BF_DOS_V_ACK;
    if (A(BF_DOS_M_RST))
        v |= 1u << BF_DOS_V_RST;
    if (A(BF_DOS_M_REFL) || A(BF_DOS_M_REFL_BPS))
        v |= 1u << BF_DOS_V_AMP;
    if (A(BF_DOS_M_UDP) || A(BF_DOS_M_UDP_BPS))
        v |= 1u << BF_DOS_V_UDP;
    if (A(BF_DOS_M_ICMP))
        v |= 1u << BF_DOS_V_ICMP;
    /* fragments that reassemble into the reflected/UDP datagrams are that
     * attack's, not a fragment flood of their own */
    if (A(BF_DOS_M_FRAG) && !(v & (1u << BF_DOS_V_AMP | 1u << BF_DOS_V_UDP)))
        v |= 1u << BF_DOS_V_FRAG;
    if (A(BF_DOS_M_HTTP))
        v |= 1u << BF_DOS_V_HTTP;
    if (A(BF_DOS_M_SLOW))
        v |= 1u << BF_DOS_V_SLOW;
    /* many open connections: exhaustion, unless they are a SYN flood's
     * half-open ones or slow requests already named */
    if (A(BF_DOS_M_CONNS) && !(v & (1u << BF_DOS_V_SYN | 1u << BF_DOS_V_SLOW)) &&
        rate[BF_DOS_M_SYN] < rate[BF_DOS_M_CONNS] / 10)
        v |= 1u << BF_DOS_V_CONN;
#undef A
    if (prefix) {
        /* a prefix alarm counts only when spread over many hosts; one hot
         * host is that host's attack */
        if (!v || dst_distinct < carpet_min_hosts || top_share >= 0.5)
            return 0;
        v |= 1u << BF_DOS_V_CARPET;
    }
    return v;
}

/* ---- mitigation ---------------------------------------------------------- */

static bool addr_in(const bf_addr *a, uint8_t av, const bf_addr *net, uint8_t nv, uint8_t plen)
{
    if (av != nv)
        return false;
    unsigned full = plen / 8, rem = plen % 8;
    if (memcmp(a->b, net->b, full))
        return false;
    return !rem || (a->b[full] & (uint8_t)(0xff << (8 - rem))) == net->b[full];
}

void bf_dos_mitigation(const bf_dos_mit_in *in, bf_dos_mit *out)
{
    memset(out, 0, sizeof *out);
    char vs[80], abuf[64];
    bf_addr_str(&in->victim, in->ipver, abuf, sizeof abuf);
    unsigned full = in->ipver == 6 ? 128 : 32;
    if (in->plen && in->plen < full)
        snprintf(vs, sizeof vs, "%s/%u", abuf, in->plen);
    else
        snprintf(vs, sizeof vs, "%s", abuf);
    const char *ipk = in->ipver == 6 ? "ip6" : "ip";
    uint8_t plen = in->plen ? in->plen : (uint8_t)full;

    /* sources worth blocking: not forged, never the victim (or inside it) */
    bool src_real = in->spoofed < 0.5;
    if (src_real) {
        for (unsigned i = 0; i < in->nsources && out->nelems < in->max_sources && out->nelems < 32; i++) {
            if (addr_in(&in->sources[i], in->src_ipver[i], &in->victim, in->ipver, plen))
                continue;
            char sb[64];
            snprintf(out->elems[out->nelems++], sizeof out->elems[0], "%s timeout %llus",
                     bf_addr_str(&in->sources[i], in->src_ipver[i], sb, sizeof sb),
                     (unsigned long long)(in->timeout / BF_SEC));
        }
    }
    char ttl_n[32] = "", ttl_b[32] = "", len_n[48] = "", len_b[64] = "";
    if (in->ttl >= 0 && in->ipver == 4) {
        snprintf(ttl_n, sizeof ttl_n, " ip ttl %d", in->ttl);
        snprintf(ttl_b, sizeof ttl_b, " and ip[8] == %d", in->ttl);
    }
    if (in->size_max && in->size_max - in->size_min <= 64) {
        /* meta length is the L3 length; frame sizes include 14 bytes of Ethernet */
        uint32_t lo = in->size_min > 14 ? in->size_min - 14 : 0, hi = in->size_max > 14 ? in->size_max - 14 : 0;
        snprintf(len_n, sizeof len_n, " meta length %u-%u", lo, hi);
        snprintf(len_b, sizeof len_b, " and len >= %u and len <= %u", in->size_min, in->size_max);
    }
    unsigned lim = in->rate_limit >= 1 ? (unsigned)in->rate_limit : 1;
    char dport_n[32] = "", dport_b[32] = "";
    if (in->dport >= 0) {
        snprintf(dport_n, sizeof dport_n, " dport %d", in->dport);
        snprintf(dport_b, sizeof dport_b, " and dst port %d", in->dport);
    }
    char dst_b[100];
    snprintf(dst_b, sizeof dst_b, "dst %s %s", in->plen && in->plen < full ? "net" : "host", vs);
    switch (in->primary) {
    case BF_DOS_V_SYN:
        snprintf(out->rule, sizeof out->rule,
                 "%s daddr %s tcp%s tcp flags & (fin|syn|rst|ack) == syn%s%s limit rate over %u/second drop",
                 ipk, vs, dport_n, ttl_n, len_n, lim);
        snprintf(out->bpf, sizeof out->bpf, "%s and tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst) == tcp-syn%s%s%s",
                 dst_b, dport_b, ttl_b, len_b);
        break;
    case BF_DOS_V_SYNACK:
    case BF_DOS_V_ACK:
    case BF_DOS_V_RST: {
        const char *fl = in->primary == BF_DOS_V_SYNACK ? "syn|ack" : in->primary == BF_DOS_V_RST ? "rst" : "ack";
        const char *fb = in->primary == BF_DOS_V_SYNACK ? "tcp-syn|tcp-ack" : in->primary == BF_DOS_V_RST ? "tcp-rst" : "tcp-ack";
        snprintf(out->rule, sizeof out->rule,
                 "%s daddr %s tcp flags & (syn|ack|rst) == %s ct state invalid,new%s%s drop", ipk, vs,
                 fl, ttl_n, len_n);
        snprintf(out->bpf, sizeof out->bpf, "%s and tcp[tcpflags] & (tcp-syn|tcp-ack|tcp-rst) == (%s)%s%s",
                 dst_b, fb, ttl_b, len_b);
        break;
    }
    case BF_DOS_V_AMP: {
        int port = bf_dos_refl_port(in->refl);
        uint32_t big = in->size_min > 14 + 100 ? in->size_min - 14 - 1 : 100;
        if (port) {
            snprintf(out->rule, sizeof out->rule,
                     "%s daddr %s udp sport %d meta length > %u drop; %s daddr %s ip frag-off & 0x1fff != 0 drop",
                     ipk, vs, port, big, ipk, vs);
            if (in->ipver == 6)
                snprintf(out->rule, sizeof out->rule, "ip6 daddr %s udp sport %d meta length > %u drop", vs,
                         port, big);
            snprintf(out->bpf, sizeof out->bpf,
                     "%s and ((udp and src port %d and greater %u) or (ip[6:2] & 0x1fff != 0))", dst_b, port,
                     big + 14);
        } else {
            snprintf(out->rule, sizeof out->rule, "%s daddr %s meta l4proto udp meta length > %u drop", ipk, vs, big);
            snprintf(out->bpf, sizeof out->bpf, "%s and udp and greater %u", dst_b, big + 14);
        }
        break;
    }
    case BF_DOS_V_UDP:
        snprintf(out->rule, sizeof out->rule, "%s daddr %s meta l4proto udp%s%s limit rate over %u/second drop",
                 ipk, vs, ttl_n, len_n, lim);
        snprintf(out->bpf, sizeof out->bpf, "%s and udp%s%s", dst_b, ttl_b, len_b);
        break;
    case BF_DOS_V_ICMP:
        snprintf(out->rule, sizeof out->rule, "%s daddr %s meta l4proto %s%s limit rate over %u/second drop", ipk,
                 vs, in->ipver == 6 ? "ipv6-icmp" : "icmp", len_n, lim);
        snprintf(out->bpf, sizeof out->bpf, "%s and %s%s", dst_b, in->ipver == 6 ? "icmp6" : "icmp", len_b);
        break;
    case BF_DOS_V_FRAG:
        snprintf(out->rule, sizeof out->rule, "%s daddr %s ip frag-off & 0x1fff != 0%s drop", ipk, vs, ttl_n);
        snprintf(out->bpf, sizeof out->bpf, "%s and ip[6:2] & 0x1fff != 0%s", dst_b, ttl_b);
        break;
    case BF_DOS_V_HTTP:
        snprintf(out->rule, sizeof out->rule,
                 "%s daddr %s tcp dport %d meter bf_dos_http { %s saddr limit rate over %u/second } drop", ipk,
                 vs, in->dport >= 0 ? in->dport : 80, ipk, lim / 10 > 10 ? lim / 10 : 10);
        snprintf(out->bpf, sizeof out->bpf, "%s and tcp dst port %d", dst_b, in->dport >= 0 ? in->dport : 80);
        break;
    case BF_DOS_V_SLOW:
    case BF_DOS_V_CONN:
        snprintf(out->rule, sizeof out->rule,
                 "%s daddr %s tcp dport %d ct state new meter bf_dos_conn { %s saddr ct count over 20 } reject", ipk, vs,
                 in->dport >= 0 ? in->dport : 80, ipk);
        snprintf(out->bpf, sizeof out->bpf, "%s and tcp dst port %d", dst_b, in->dport >= 0 ? in->dport : 80);
        break;
    default:
        snprintf(out->rule, sizeof out->rule, "%s daddr %s limit rate over %u/second drop", ipk, vs, lim);
        snprintf(out->bpf, sizeof out->bpf, "%s", dst_b);
        break;
    }
}

/* ---- attacks ------------------------------------------------------------- */

static int refl_dominant(const attack *a)
{
    int best = -1;
    uint64_t bb = 0;
    for (int i = 0; i < BF_DOS_NREFL; i++)
        if (a->refl_bytes[i] > bb) {
            bb = a->refl_bytes[i];
            best = i;
        }
    return best;
}

static void attack_absorb(attack *a, const dbin *b, const bf_hll *pdst)
{
    if (pdst) {
        bf_hll_merge(&a->dst_hll, pdst);
        a->dst_distinct = bf_hll_count(&a->dst_hll);
    }
    if (!b)
        return;
    for (int i = 0; i < NCLS; i++) {
        a->pkts += b->pkts[i];
        a->bytes += b->bytes[i];
    }
    a->http_req += b->http_req;
    for (int i = 0; i < BF_DOS_NREFL; i++) {
        a->refl_pkts[i] += b->refl_pkts[i];
        a->refl_bytes[i] += b->refl_bytes[i];
    }
    for (int i = 0; i < NSIZE; i++)
        a->size_hist[i] += b->size_hist[i];
    for (int i = 0; i < NTTL; i++)
        a->ttl_hist[i] += b->ttl_hist[i];
    if (b->size_min < a->size_min)
        a->size_min = b->size_min;
    if (b->size_max > a->size_max)
        a->size_max = b->size_max;
    if (b->ttl_min < a->ttl_min)
        a->ttl_min = b->ttl_min;
    if (b->ttl_max > a->ttl_max)
        a->ttl_max = b->ttl_max;
    ss_merge_into(a->src, &a->nsrc, A_SRC, b->src, b->nsrc);
    ss_merge_into(a->hsrc, &a->nhsrc, A_SRC, b->hsrc, b->nhsrc);
    ss_merge_into(a->dport, &a->ndport, A_PORT, b->dport, b->ndport);
    ss_merge_into(a->sport, &a->nsport, A_PORT, b->sport, b->nsport);
    for (unsigned i = 0; i < b->nurl; i++) {
        unsigned slot = A_URL;
        for (unsigned k = 0; k < a->nurl; k++)
            if (a->url[k].tag == b->url[i].tag)
                slot = k;
        if (slot < A_URL) {
            a->url[slot].count += b->url[i].count;
            continue;
        }
        if (a->nurl < A_URL) {
            slot = a->nurl++;
            a->url[slot] = b->url[i];
        } else {
            slot = 0;
            for (unsigned k = 1; k < A_URL; k++)
                if (a->url[k].count < a->url[slot].count)
                    slot = k;
            uint64_t base = a->url[slot].count;
            a->url[slot] = b->url[i];
            a->url[slot].count += base;
            a->url[slot].err = (uint32_t)base;
        }
        memcpy(a->urltxt[slot], b->urltxt[i], URL_MAX);
    }
    bf_hll_merge(&a->src_hll, &b->hsrc_hll);
}

static double ttl_top_share(const attack *a, int *top)
{
    uint64_t tot = 0, mx = 0;
    int ti = 0;
    for (int i = 0; i < NTTL; i++) {
        tot += a->ttl_hist[i];
        if (a->ttl_hist[i] > mx) {
            mx = a->ttl_hist[i];
            ti = i;
        }
    }
    if (top)
        *top = ti;
    return tot ? (double)mx / (double)tot : 0;
}

static double attack_spoof(const attack *a)
{
    bool refl = a->vectors & (1u << BF_DOS_V_AMP);
    bool hs = a->vectors & (1u << BF_DOS_V_HTTP | 1u << BF_DOS_V_SLOW | 1u << BF_DOS_V_CONN);
    return bf_dos_spoof_estimate(bf_hll_count(&a->src_hll), (double)a->pkts, ttl_top_share(a, NULL),
                                 refl, hs);
}

static void attack_mitigation(const bf_dos *d, attack *a, bf_dos_mit *mit)
{
    bf_dos_mit_in in = {0};
    const host *h = a->h;
    in.victim = h->key;
    in.ipver = h->ipver;
    in.plen = h->pfx >= 0 ? d->cfg.prefixes[h->pfx].len : 0;
    in.vectors = a->vectors;
    in.primary = a->primary;
    in.refl = refl_dominant(a);
    in.dport = -1;
    in.ttl = a->ttl_min == a->ttl_max ? a->ttl_min : -1;
    in.size_min = a->size_min == UINT16_MAX ? 0 : a->size_min;
    in.size_max = a->size_max;
    unsigned pm = BF_DOS_M_PPS;
    switch (a->primary) {
    case BF_DOS_V_SYN: pm = BF_DOS_M_SYN; break;
    case BF_DOS_V_UDP: pm = BF_DOS_M_UDP; break;
    case BF_DOS_V_ICMP: pm = BF_DOS_M_ICMP; break;
    case BF_DOS_V_HTTP: pm = BF_DOS_M_HTTP; break;
    default: break;
    }
    in.rate_limit = pm < BF_DOS_NTRIG ? a->thr[pm] : 0;
    if (in.rate_limit <= 0)
        in.rate_limit = d->cfg.floor[pm < BF_DOS_NTRIG ? pm : BF_DOS_M_SYN];
    /* the dominant destination port when it carries most packets */
    bf_ss ds = {A_PORT, a->ndport, (bf_ss_item *)a->dport};
    bf_ss_sort(&ds);
    uint64_t tot = 0;
    for (unsigned i = 0; i < a->ndport; i++)
        tot += a->dport[i].count;
    if (a->ndport && a->dport[0].count * 10 >= tot * 9 && a->primary != BF_DOS_V_AMP)
        in.dport = (int)(a->dport[0].tag & 0xffff);
    if ((a->primary == BF_DOS_V_HTTP || a->primary == BF_DOS_V_SLOW || a->primary == BF_DOS_V_CONN) &&
        in.dport < 0 && a->ndport)
        in.dport = (int)(a->dport[0].tag & 0xffff);
    bf_addr srcs[A_SRC];
    uint8_t sv[A_SRC];
    bool http = a->primary == BF_DOS_V_HTTP && a->nhsrc;
    const bf_ss_item *it = http ? a->hsrc : a->src;
    unsigned n = http ? a->nhsrc : a->nsrc;
    bf_ss ss = {A_SRC, (uint16_t)n, (bf_ss_item *)it};
    bf_ss_sort(&ss);
    for (unsigned i = 0; i < n; i++) {
        srcs[i] = it[i].key;
        sv[i] = (uint8_t)it[i].tag;
    }
    in.sources = srcs;
    in.src_ipver = sv;
    in.nsources = n;
    in.spoofed = attack_spoof(a);
    in.timeout = d->cfg.mitigation_timeout;
    in.max_sources = d->cfg.mitigation_max_sources;
    bf_dos_mitigation(&in, mit);
}

static const char *victim_str(const bf_dos *d, const host *h, char *buf, size_t len)
{
    char ab[64];
    bf_addr_str(&h->key, h->ipver, ab, sizeof ab);
    if (h->pfx >= 0)
        snprintf(buf, len, "%s/%u", ab, d->cfg.prefixes[h->pfx].len);
    else
        snprintf(buf, len, "%s", ab);
    return buf;
}

static void json_ts(bf_json *j, const char *k, bf_ts t)
{
    char b[48];
    bf_json_strn(j, k, b, bf_ts_format(t, b, sizeof b));
}

static double round3(double x) { return floor(x * 1000 + 0.5) / 1000; }

static void emit(bf_dos *d, bf_eve *eve, attack *a, const char *phase, bf_ts ts)
{
    const host *h = a->h;
    char vs[80];
    victim_str(d, h, vs, sizeof vs);
    /* the event's endpoints: top source -> victim */
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ipver = h->ipver;
    p.dst = h->key;
    bf_ss ss = {A_SRC, a->nsrc, a->src};
    bf_ss_sort(&ss);
    p.src = a->nsrc ? a->src[0].key : h->key;
    if (!a->nsrc)
        memset(&p.src, 0, sizeof p.src);
    switch (a->primary) {
    case BF_DOS_V_UDP: case BF_DOS_V_AMP: p.proto = 17; break;
    case BF_DOS_V_ICMP: p.proto = h->ipver == 6 ? 58 : 1; break;
    case BF_DOS_V_FRAG: case BF_DOS_V_CARPET: p.proto = 0; break;
    default: p.proto = 6; break;
    }
    if (a->primary == BF_DOS_V_CARPET)
        p.proto = 17;
    bf_ss ds = {A_PORT, a->ndport, a->dport};
    bf_ss_sort(&ds);
    bf_ss sps = {A_PORT, a->nsport, a->sport};
    bf_ss_sort(&sps);
    if (p.proto == 6 || p.proto == 17) {
        for (unsigned i = 0; i < a->nsport; i++)
            if ((a->sport[i].tag >> 16) == p.proto) {
                p.sp = (uint16_t)a->sport[i].tag;
                break;
            }
        for (unsigned i = 0; i < a->ndport; i++)
            if ((a->dport[i].tag >> 16) == p.proto) {
                p.dp = (uint16_t)a->dport[i].tag;
                break;
            }
    }
    bf_eve_begin(eve, "alert", ts, p.proto ? &p : NULL, NULL);
    bf_json *j = &eve->j;
    if (!p.proto) {
        /* no single protocol: addresses only */
        char ab[64];
        if (a->nsrc)
            bf_json_str(j, "src_ip", bf_addr_str(&p.src, h->ipver, ab, sizeof ab));
        bf_json_str(j, "dest_ip", bf_addr_str(&h->key, h->ipver, ab, sizeof ab));
        bf_json_str(j, "proto", "IP");
    }
    int refl = refl_dominant(a);
    bf_json_open_obj(j, "alert");
    bf_json_str(j, "action", "allowed");
    bf_json_uint(j, "gid", 9000);
    bf_json_uint(j, "signature_id", a->sid);
    bf_json_uint(j, "rev", 1);
    char sig[200];
    const char *title = a->primary == BF_DOS_V_AMP && refl >= 0 ? NULL : vec_titles[a->primary];
    if (title)
        snprintf(sig, sizeof sig, "BEFFROI DoS %s against %s", title, vs);
    else {
        char up[24];
        snprintf(up, sizeof up, "%s", bf_dos_refl_name(refl));
        for (char *c = up; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        snprintf(sig, sizeof sig, "BEFFROI DoS %s amplification against %s", up, vs);
    }
    bf_json_str(j, "signature", sig);
    bf_json_str(j, "category", "Attempted Denial of Service");
    bf_json_int(j, "severity", 1);
    bf_json_open_obj(j, "context");
    bf_json_open_obj(j, "dos");
    bf_json_uint(j, "attack_id", a->id);
    bf_json_str(j, "phase", phase);
    bf_json_open_arr(j, "vectors");
    for (unsigned v = 0; v < BF_DOS_NVEC; v++)
        if (a->vectors & (1u << v)) {
            if (v == BF_DOS_V_AMP) {
                bool any = false;
                uint64_t tb = 0;
                for (int i = 0; i < BF_DOS_NREFL; i++)
                    tb += a->refl_bytes[i];
                for (int i = 0; i < BF_DOS_NREFL; i++)
                    if (a->refl_bytes[i] && a->refl_bytes[i] * 10 >= tb) {
                        bf_json_str(j, NULL, bf_dos_vector_name(v, i));
                        any = true;
                    }
                if (!any)
                    bf_json_str(j, NULL, bf_dos_vector_name(v, -1));
            } else {
                bf_json_str(j, NULL, bf_dos_vector_name(v, -1));
            }
        }
    bf_json_close_arr(j);
    bf_json_str(j, "victim", vs);
    json_ts(j, "start", a->start);
    json_ts(j, "detected", a->detected);
    if (a->end)
        json_ts(j, "end", a->end);
    bf_json_double(j, "duration", round3((double)((a->end ? a->end : ts) - a->start) / 1e6));
    bf_json_uint(j, "pps", (uint64_t)llround(a->rate[BF_DOS_M_PPS]));
    bf_json_uint(j, "bps", (uint64_t)llround(a->rate[BF_DOS_M_BPS]));
    bf_json_uint(j, "peak_pps", (uint64_t)llround(a->peak_pps));
    bf_json_uint(j, "peak_bps", (uint64_t)llround(a->peak_bps));
    bf_json_uint(j, "packets", a->pkts);
    bf_json_uint(j, "bytes", a->bytes);
    bf_json_double(j, "new_flows_ps", round3(a->rate[BF_DOS_M_NEWFLOWS]));
    bf_json_double(j, "fragment_share",
                   round3(a->rate[BF_DOS_M_PPS] > 0 ? a->rate[BF_DOS_M_FRAG_ALL] / a->rate[BF_DOS_M_PPS] : 0));
    /* per trigger metric of the attack: current, peak, baseline, threshold */
    bf_json_open_obj(j, "metrics");
    for (int m = 0; m < BF_DOS_NTRIG; m++) {
        if (a->thr[m] <= 0)
            continue;
        bf_json_open_obj(j, metric_names[m]);
        bf_json_double(j, "rate", round3(a->rate[m]));
        bf_json_double(j, "peak", round3(a->peak_metric[m]));
        bf_json_double(j, "baseline", round3(a->base[m]));
        bf_json_double(j, "threshold", round3(a->thr[m]));
        bf_json_close_obj(j);
    }
    bf_json_close_obj(j);
    /* the primary metric's baseline and threshold */
    int pm = -1;
    for (int m = 0; m < BF_DOS_NTRIG; m++)
        if (a->thr[m] > 0 && (pm < 0 || a->peak_metric[m] / a->thr[m] > a->peak_metric[pm] / a->thr[pm]))
            pm = m;
    if (pm >= 0) {
        bf_json_str(j, "metric", metric_names[pm]);
        bf_json_double(j, "baseline", round3(a->base[pm]));
        bf_json_double(j, "threshold", round3(a->thr[pm]));
    }
    uint64_t distinct = (uint64_t)llround(bf_hll_count(&a->src_hll));
    bf_json_uint(j, "sources_distinct", distinct);
    if (h->pfx >= 0)
        bf_json_uint(j, "destinations_distinct", (uint64_t)llround(a->dst_distinct));
    bf_json_double(j, "spoofed_estimate", round3(attack_spoof(a)));
    bool http = (a->vectors & (1u << BF_DOS_V_HTTP)) && a->nhsrc;
    bf_json_open_arr(j, "top_sources");
    const bf_ss_item *src = http ? a->hsrc : a->src;
    unsigned ns = http ? a->nhsrc : a->nsrc;
    if (http) {
        bf_ss hs = {A_SRC, a->nhsrc, a->hsrc};
        bf_ss_sort(&hs);
    }
    for (unsigned i = 0; i < ns && i < 10; i++) {
        char ab[64];
        bf_json_open_obj(j, NULL);
        bf_json_str(j, "ip", bf_addr_str(&src[i].key, (int)src[i].tag, ab, sizeof ab));
        bf_json_uint(j, http ? "requests" : "packets", src[i].count);
        bf_json_close_obj(j);
    }
    bf_json_close_arr(j);
    bf_json_open_arr(j, "top_ports");
    for (int side = 0; side < 2; side++) {
        const bf_ss_item *it = side ? a->sport : a->dport;
        unsigned n = side ? a->nsport : a->ndport;
        for (unsigned i = 0; i < n && i < 5; i++) {
            bf_json_open_obj(j, NULL);
            bf_json_str(j, "direction", side ? "src" : "dest");
            bf_json_str(j, "proto", (it[i].tag >> 16) == 6 ? "TCP" : "UDP");
            bf_json_uint(j, "port", it[i].tag & 0xffff);
            bf_json_uint(j, "packets", it[i].count);
            bf_json_close_obj(j);
        }
    }
    bf_json_close_arr(j);
    if (a->nurl) {
        bf_json_open_arr(j, "top_urls");
        unsigned order[A_URL];
        for (unsigned i = 0; i < a->nurl; i++)
            order[i] = i;
        for (unsigned i = 0; i < a->nurl; i++)
            for (unsigned k = i + 1; k < a->nurl; k++)
                if (a->url[order[k]].count > a->url[order[i]].count ||
                    (a->url[order[k]].count == a->url[order[i]].count &&
                     strcmp(a->urltxt[order[k]], a->urltxt[order[i]]) < 0)) {
                    unsigned t = order[i];
                    order[i] = order[k];
                    order[k] = t;
                }
        for (unsigned i = 0; i < a->nurl && i < 5; i++) {
            bf_json_open_obj(j, NULL);
            bf_json_str(j, "url", a->urltxt[order[i]]);
            bf_json_uint(j, "requests", a->url[order[i]].count);
            bf_json_close_obj(j);
        }
        bf_json_close_arr(j);
        bf_json_uint(j, "http_requests", a->http_req);
    }
    if (a->vectors & (1u << BF_DOS_V_AMP)) {
        bf_json_open_arr(j, "reflectors");
        for (int i = 0; i < BF_DOS_NREFL; i++)
            if (a->refl_pkts[i]) {
                bf_json_open_obj(j, NULL);
                bf_json_str(j, "protocol", bf_dos_refl_name(i));
                bf_json_uint(j, "port", bf_dos_refl_port(i));
                bf_json_uint(j, "datagrams", a->refl_pkts[i]);
                bf_json_uint(j, "bytes", a->refl_bytes[i]);
                bf_json_close_obj(j);
            }
        bf_json_close_arr(j);
    }
    static const char *const sz[NSIZE] = {"0-64", "65-128", "129-256", "257-512", "513-1024",
                                          "1025-1518", "1519+"};
    bf_json_open_obj(j, "sizes");
    uint64_t tp = 0;
    for (int i = 0; i < NSIZE; i++)
        tp += a->size_hist[i];
    bf_json_uint(j, "min", a->size_min == UINT16_MAX ? 0 : a->size_min);
    bf_json_uint(j, "max", a->size_max);
    bf_json_uint(j, "mean", tp ? a->bytes / tp : 0);
    bf_json_open_obj(j, "histogram");
    for (int i = 0; i < NSIZE; i++)
        if (a->size_hist[i])
            bf_json_uint(j, sz[i], a->size_hist[i]);
    bf_json_close_obj(j);
    bf_json_close_obj(j);
    bf_json_open_obj(j, "ttl");
    int tb;
    double tshare = ttl_top_share(a, &tb);
    bf_json_uint(j, "min", a->ttl_min == 255 && !a->ttl_max ? 0 : a->ttl_min);
    bf_json_uint(j, "max", a->ttl_max);
    char tr[32];
    snprintf(tr, sizeof tr, "%d-%d", tb * 8, tb * 8 + 7);
    bf_json_str(j, "top_range", tr);
    bf_json_double(j, "top_share", round3(tshare));
    bf_json_close_obj(j);
    bf_dos_mit mit;
    attack_mitigation(d, a, &mit);
    bf_json_open_obj(j, "mitigation");
    bf_json_open_arr(j, "nft_set_elements");
    for (unsigned i = 0; i < mit.nelems; i++)
        bf_json_str(j, NULL, mit.elems[i]);
    bf_json_close_arr(j);
    bf_json_str(j, "nft_rule", mit.rule);
    bf_json_str(j, "bpf", mit.bpf);
    bf_json_close_obj(j);
    bf_json_close_obj(j); /* dos */
    bf_json_close_obj(j); /* context */
    bf_json_close_obj(j); /* alert */
    bf_eve_end(eve);
    d->st.events++;
    snprintf(a->summary, sizeof a->summary, "#%llu %s: %s, peak %llu pps %.1f Mbit/s, %llu sources; nft: %s",
             (unsigned long long)a->id, sig + 12, phase, (unsigned long long)llround(a->peak_pps),
             a->peak_bps / 1e6, (unsigned long long)distinct, mit.rule);
}

static void write_mitigation_file(bf_dos *d)
{
    const char *fn = d->cfg.mitigation_file;
    if (!fn || !*fn)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", fn);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "# Beffroi DoS mitigation proposals for the attacks in progress (review before use:\n"
               "#   nft -f %s). Rules go in a chain of your inet table; never the victim.\n",
            fn);
    for (attack *a = d->attacks; a; a = a->next) {
        if (a->over)
            continue;
        bf_dos_mit mit;
        attack_mitigation(d, a, &mit);
        char vs[80];
        fprintf(f, "\n# attack %llu against %s (%s)\n", (unsigned long long)a->id,
                victim_str(d, a->h, vs, sizeof vs), bf_dos_vector_name(a->primary, refl_dominant(a)));
        if (mit.nelems) {
            fprintf(f, "add element inet filter beffroi_dos_block%s { ", a->h->ipver == 6 ? "6" : "");
            for (unsigned i = 0; i < mit.nelems; i++)
                fprintf(f, "%s%s", i ? ", " : "", mit.elems[i]);
            fprintf(f, " }\n");
        }
        fprintf(f, "# rule: %s\n# bpf: %s\n", mit.rule, mit.bpf);
    }
    fclose(f);
    rename(tmp, fn);
}

/* ended attacks kept for the summary: the last 256 */
static void prune_attacks(bf_dos *d)
{
    unsigned ended = 0;
    for (attack **pp = &d->attacks; *pp;) {
        attack *a = *pp;
        if (a->over && ++ended > 256) {
            *pp = a->next;
            free(a);
            continue;
        }
        pp = &a->next;
    }
}

static unsigned primary_of(uint32_t vec, const double *rate, const bf_dos_trig_cfg *tc,
                           const bf_dos_trig *trig)
{
    static const int vm[BF_DOS_NVEC] = {
        [BF_DOS_V_SYN] = BF_DOS_M_SYN,   [BF_DOS_V_SYNACK] = BF_DOS_M_SYNACK,
        [BF_DOS_V_ACK] = BF_DOS_M_ACK,   [BF_DOS_V_RST] = BF_DOS_M_RST,
        [BF_DOS_V_UDP] = BF_DOS_M_UDP,   [BF_DOS_V_ICMP] = BF_DOS_M_ICMP,
        [BF_DOS_V_FRAG] = BF_DOS_M_FRAG, [BF_DOS_V_AMP] = BF_DOS_M_REFL,
        [BF_DOS_V_CARPET] = -1,          [BF_DOS_V_CONN] = BF_DOS_M_CONNS,
        [BF_DOS_V_HTTP] = BF_DOS_M_HTTP, [BF_DOS_V_SLOW] = BF_DOS_M_SLOW,
    };
    unsigned best = BF_DOS_NVEC;
    double br = -1;
    for (unsigned v = 0; v < BF_DOS_NVEC; v++) {
        if (!(vec & (1u << v)) || vm[v] < 0)
            continue;
        int m = vm[v];
        double r = rate[m] / bf_dos_trig_threshold(&tc[m], &trig[m]);
        if (v == BF_DOS_V_AMP || v == BF_DOS_V_UDP) {
            int mb = v == BF_DOS_V_AMP ? BF_DOS_M_REFL_BPS : BF_DOS_M_UDP_BPS;
            double rb = rate[mb] / bf_dos_trig_threshold(&tc[mb], &trig[mb]);
            if (rb > r)
                r = rb;
        }
        if (r > br) {
            br = r;
            best = v;
        }
    }
    if (best == BF_DOS_NVEC)
        best = BF_DOS_V_CARPET;
    return best;
}

/* start of the attack: the first bin of the window already over half the
 * threshold (per second) on an alarmed metric */
static bf_ts attack_start(const host *h, uint32_t alarms, const double *thr, uint64_t bin)
{
    int first = WIN;
    for (int m = 0; m < BF_DOS_NTRIG; m++) {
        if (!(alarms & (1u << m)))
            continue;
        for (int k = 0; k < WIN; k++) {
            int idx = (h->wpos + k) % WIN; /* oldest first */
            double per_s = is_gauge(m) ? h->win[m][idx] : h->win[m][idx] * 10;
            if (per_s >= thr[m] * 0.5) {
                if (k < first)
                    first = k;
                break;
            }
        }
    }
    if (first == WIN)
        first = WIN - 1;
    uint64_t b0 = bin + 1 - WIN + (uint64_t)first;
    return b0 * BIN_US;
}

static void evaluate(bf_dos *d, bf_eve *eve, host *h, const dbin *b, uint64_t bin,
                     const double *pfx_top_share, const bf_hll *pdst)
{
    /* catch up bins without traffic */
    if (h->last_bin + 1 < bin) {
        uint64_t gap = bin - h->last_bin - 1;
        if (gap >= WIN) {
            memset(h->win, 0, sizeof h->win);
        } else {
            for (uint64_t k = 0; k < gap; k++) {
                for (int m = 0; m < BF_DOS_NMET; m++)
                    h->win[m][h->wpos] = 0;
                h->wpos = (uint8_t)((h->wpos + 1) % WIN);
            }
        }
        for (int m = 0; m < BF_DOS_NTRIG; m++)
            bf_dos_trig_idle(&d->tc[m], &h->trig[m], gap);
    }
    h->last_bin = bin;
    double v[BF_DOS_NMET];
    bin_values(b, v);
    bool any = false;
    for (int m = 0; m < BF_DOS_NMET; m++) {
        h->win[m][h->wpos] = (float)v[m];
        if (v[m] != 0)
            any = true;
    }
    h->wpos = (uint8_t)((h->wpos + 1) % WIN);
    h->quiet = any ? 0 : (uint8_t)(h->quiet < 255 ? h->quiet + 1 : 255);
    double r[BF_DOS_NMET];
    host_rates(h, r);
    attack *a = h->att;
    uint32_t alarms = 0;
    for (int m = 0; m < BF_DOS_NTRIG; m++)
        if (bf_dos_trig_step(&d->tc[m], &h->trig[m], r[m], a == NULL))
            alarms |= 1u << m;
    bf_ts bend = (bin + 1) * BIN_US;
    if (!a) {
        if (alarms) {
            double dd = 0, share = 0;
            if (h->pfx >= 0) {
                /* destinations of this bin, largest host's share */
                dd = pdst ? bf_hll_count(pdst) : 0;
                share = pfx_top_share ? pfx_top_share[h->pfx] : 0;
            }
            uint32_t vec = bf_dos_type(alarms, r, h->pfx >= 0, dd, share, d->cfg.carpet_min_hosts);
            if (vec) {
                a = bf_calloc(1, sizeof *a);
                a->h = h;
                a->vectors = vec;
                a->primary = primary_of(vec, r, d->tc, h->trig);
                a->size_min = UINT16_MAX;
                a->ttl_min = 255;
                double thr[BF_DOS_NTRIG];
                for (int m = 0; m < BF_DOS_NTRIG; m++)
                    thr[m] = bf_dos_trig_threshold(&d->tc[m], &h->trig[m]);
                for (int m = 0; m < BF_DOS_NTRIG; m++)
                    if (alarms & (1u << m)) {
                        a->thr[m] = thr[m];
                        a->base[m] = h->trig[m].mean;
                    }
                a->start = attack_start(h, alarms, thr, bin);
                a->detected = bend;
                a->last_over = bend;
                a->next_update = bend + d->cfg.update_interval;
                h->att = a;
                a->next = d->attacks;
                d->attacks = a;
                d->st.attacks++;
                /* the id is given once the bin's new attacks are sorted */
                a->id = 0;
            }
        }
    }
    if (a) {
        attack_absorb(a, b, pdst);
        memcpy(a->rate, r, sizeof r);
        if (r[BF_DOS_M_PPS] > a->peak_pps)
            a->peak_pps = r[BF_DOS_M_PPS];
        if (r[BF_DOS_M_BPS] > a->peak_bps)
            a->peak_bps = r[BF_DOS_M_BPS];
        for (int m = 0; m < BF_DOS_NMET; m++)
            if (r[m] > a->peak_metric[m])
                a->peak_metric[m] = r[m];
        if (a->id) {
            /* new vectors joining an attack in progress */
            uint32_t nv = alarms ? bf_dos_type(alarms, r, false, 0, 0, 0) : 0;
            if (h->pfx >= 0)
                nv = 0;
            if (nv & ~a->vectors) {
                for (int m = 0; m < BF_DOS_NTRIG; m++)
                    if ((alarms & (1u << m)) && a->thr[m] <= 0) {
                        a->thr[m] = bf_dos_trig_threshold(&d->tc[m], &h->trig[m]);
                        a->base[m] = h->trig[m].mean;
                    }
                a->vectors |= nv;
                /* a new vector is news: say it now */
                emit(d, eve, a, "update", bend);
                a->next_update = bend + d->cfg.update_interval;
            }
            bool over = false;
            for (int m = 0; m < BF_DOS_NTRIG; m++)
                if (a->thr[m] > 0 && r[m] >= d->cfg.end_ratio * a->thr[m])
                    over = true;
            if (over) {
                a->under = 0;
                a->last_over = bend;
            } else if (++a->under >= d->end_bins) {
                a->end = a->last_over;
                a->over = true;
                emit(d, eve, a, "end", bend);
                h->att = NULL;
                prune_attacks(d);
                /* the baseline resumes from where it was before */
                for (int m = 0; m < BF_DOS_NTRIG; m++) {
                    h->trig[m].over = 0;
                    h->trig[m].cusum = 0;
                }
                write_mitigation_file(d);
                a = NULL;
            }
            if (a && bend >= a->next_update) {
                emit(d, eve, a, "update", bend);
                a->next_update = bend + d->cfg.update_interval;
                write_mitigation_file(d);
            }
        }
    }
    bool wnz = false;
    for (int m = 0; m < BF_DOS_NMET && !wnz; m++)
        for (int k = 0; k < WIN; k++)
            if (h->win[m][k] != 0) {
                wnz = true;
                break;
            }
    h->active = wnz || h->att != NULL;
}

static void eval_bin(bf_dos *d, bf_eve *eve, uint64_t bin, btab *t)
{
    /* hosts of this bin plus those still active */
    uint32_t n = 0;
    if (t)
        for (uint32_t i = 0; i < t->n; i++) {
            dbin *b = &t->e[i];
            host *h = host_get(d, &b->key, b->ipver, b->pfx, bin);
            if (!h)
                continue;
            if (!h->active) {
                h->active = 1;
                d->act[d->nact++] = h;
            }
        }
    for (uint32_t i = 0; i < d->nact; i++)
        d->work[n++] = d->act[i];
    qsort(d->work, n, sizeof *d->work, host_cmp);
    /* carpet bombing: the largest single host's share of each prefix */
    double *share = NULL;
    if (d->cfg.nprefixes && t) {
        share = bf_calloc(d->cfg.nprefixes * 2, sizeof *share);
        double *tot = share + d->cfg.nprefixes;
        for (uint32_t i = 0; i < t->n; i++) {
            dbin *b = &t->e[i];
            double pk = 0;
            for (int c = 0; c < NCLS; c++)
                pk += b->pkts[c];
            if (b->pfx >= 0) {
                tot[b->pfx] = pk;
            } else {
                int p = prefix_of(&d->cfg, &b->key, b->ipver);
                if (p >= 0 && pk > share[p])
                    share[p] = pk;
            }
        }
        for (unsigned p = 0; p < d->cfg.nprefixes; p++)
            share[p] = tot[p] > 0 ? share[p] / tot[p] : 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        host *h = d->work[i];
        const dbin *b = t ? btab_get(t, &h->key, h->ipver, h->pfx, false) : NULL;
        evaluate(d, eve, h, b, bin, share, t && h->pfx >= 0 ? &t->pdst[h->pfx] : NULL);
    }
    free(share);
    /* ids for the attacks that started in this bin, in victim order */
    bool any_new = false;
    for (uint32_t i = 0; i < n; i++) {
        host *h = d->work[i];
        if (h->att && !h->att->id) {
            h->att->id = ++d->next_id;
            h->att->sid = bf_dos_vector_sid(h->att->primary, h->att->primary == BF_DOS_V_AMP ? refl_dominant(h->att) : -1);
            emit(d, eve, h->att, "start", h->att->detected);
            any_new = true;
        }
    }
    if (any_new)
        write_mitigation_file(d);
    /* drop the hosts that went quiet from the active list */
    uint32_t k = 0;
    for (uint32_t i = 0; i < d->nact; i++)
        if (d->act[i]->active)
            d->act[k++] = d->act[i];
    d->nact = k;
    d->st.bins_processed++;
}

/* Evaluates bins in order: PR_CLOSED every bin all workers have closed,
 * PR_OLDEST up to the oldest pending one (forced: a worker is too far
 * ahead), PR_ALL everything (end of input; active hosts run down). */
static void process_ready(bf_dos *d, bf_eve *eve, int mode)
{
    pending *p = NULL;
    for (unsigned i = 0; i < d->npend; i++)
        if (d->pend[i].bin != NO_BIN && (!p || d->pend[i].bin < p->bin))
            p = &d->pend[i];
    uint64_t upto = mode == PR_ALL ? UINT64_MAX : mode == PR_OLDEST ? (p ? p->bin + 1 : 0)
                                                                     : min_done(d);
    if (d->next == NO_BIN) {
        /* start at the first bin once every earlier bin is complete */
        if (!p || p->bin >= upto)
            return;
        d->next = p->bin;
    }
    for (;;) {
        p = NULL;
        for (unsigned i = 0; i < d->npend; i++)
            if (d->pend[i].bin != NO_BIN && (!p || d->pend[i].bin < p->bin))
                p = &d->pend[i];
        if (!d->nact) {
            if (!p)
                break;
            if (p->bin > d->next) /* nothing active: jump to the next data */
                d->next = p->bin < upto ? p->bin : (upto > d->next ? upto : d->next);
        }
        if (d->next >= upto)
            break;
        if (p && p->bin == d->next) {
            eval_bin(d, eve, d->next, &p->t);
            btab_clear(&p->t);
            p->bin = NO_BIN;
        } else {
            eval_bin(d, eve, d->next, NULL);
        }
        d->next++;
    }
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

bf_dos *bf_dos_new(const bf_dos_cfg *c, unsigned nworkers)
{
    bf_dos *d = bf_calloc(1, sizeof *d);
    d->cfg = *c;
    d->cfg.prefixes = NULL;
    if (c->nprefixes) {
        d->cfg.prefixes = bf_malloc(c->nprefixes * sizeof *c->prefixes);
        memcpy(d->cfg.prefixes, c->prefixes, c->nprefixes * sizeof *c->prefixes);
    }
    d->cfg.mitigation_file = c->mitigation_file ? bf_strdup(c->mitigation_file) : NULL;
    d->nw = nworkers ? nworkers : 1;
    d->confirm_bins = (uint32_t)((c->confirm + BIN_US - 1) / BIN_US);
    d->end_bins = (uint32_t)((c->hysteresis + BIN_US - 1) / BIN_US);
    double alpha = 1 - exp(-(double)BIN_US / (double)c->baseline_window);
    for (int m = 0; m < BF_DOS_NTRIG; m++) {
        bf_dos_trig_cfg *t = &d->tc[m];
        t->floor = c->floor[m];
        t->ceiling = c->ceiling[m];
        t->alpha = alpha;
        t->factor = c->factor;
        t->sigmas = c->sigmas;
        t->cusum_drift = c->cusum_drift;
        t->cusum_h = c->cusum_h;
        t->confirm = d->confirm_bins ? d->confirm_bins : 1;
        t->end_ratio = c->end_ratio;
        t->end_bins = d->end_bins;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->ws = bf_calloc(d->nw, sizeof *d->ws);
    d->done = bf_calloc(d->nw, sizeof *d->done);
    d->next = NO_BIN;
    d->npend = 64;
    d->pend = bf_calloc(d->npend, sizeof *d->pend);
    for (unsigned i = 0; i < d->npend; i++)
        d->pend[i].bin = NO_BIN;
    d->hcap = c->max_hosts * 2 + c->nprefixes;
    d->hslots = 1;
    while (d->hslots < d->hcap * 2)
        d->hslots <<= 1;
    d->hosts = bf_calloc(d->hcap, sizeof *d->hosts);
    d->hslot = bf_calloc(d->hslots, sizeof *d->hslot);
    d->act = bf_calloc(d->hcap, sizeof *d->act);
    d->work = bf_calloc(d->hcap, sizeof *d->work);
    return d;
}

bf_dos_worker *bf_dos_worker_attach(bf_dos *d, unsigned id, bf_bus *bus, bf_eve *eve)
{
    if (id >= d->nw)
        return NULL;
    bf_dos_worker *w = &d->ws[id];
    w->d = d;
    w->id = id;
    w->eve = eve;
    w->bin = NO_BIN;
    btab_init(&w->t, d->cfg.max_hosts + d->cfg.nprefixes, d->cfg.nprefixes);
    w->gslots = 1;
    while (w->gslots < d->cfg.max_hosts * 2)
        w->gslots <<= 1;
    w->g = bf_calloc(w->gslots, sizeof *w->g);
    w->hmax = d->cfg.max_http_flows / d->nw;
    if (w->hmax < 64)
        w->hmax = 64;
    w->hslots = 1024;
    w->hf = bf_calloc(w->hslots, sizeof *w->hf);
    d->done[id] = 0;
    bf_bus_subscribe(bus, BF_BUS_PACKET, on_packet, w);
    bf_bus_subscribe(bus, BF_BUS_FLOW_END, on_flow_end, w);
    bf_bus_subscribe(bus, BF_BUS_APP_DETECTED, on_app_detected, w);
    bf_bus_subscribe(bus, BF_BUS_HTTP_REQUEST, on_http_request, w);
    return w;
}

void bf_dos_worker_tick(bf_dos_worker *w, bf_ts now)
{
    if (w && now)
        advance(w, now);
}

void bf_dos_worker_finish(bf_dos_worker *w, bf_ts last)
{
    if (!w || w->finished)
        return;
    bf_dos *d = w->d;
    if (w->bin != NO_BIN)
        merge_bin(w, w->bin, UINT64_MAX);
    pthread_mutex_lock(&d->mu);
    w->finished = true;
    d->done[w->id] = UINT64_MAX;
    bool all = true;
    for (unsigned i = 0; i < d->nw; i++)
        if (d->ws[i].d && !d->ws[i].finished)
            all = false;
    if (all) {
        process_ready(d, w->eve, PR_ALL);
        /* attacks still in progress end with the input */
        bool any = false;
        for (attack *a = d->attacks; a; a = a->next)
            if (!a->over && a->id) {
                a->end = last > a->last_over ? a->last_over : last;
                a->over = true;
                emit(d, w->eve, a, "end", last);
                a->h->att = NULL;
                any = true;
            }
        if (any)
            write_mitigation_file(d);
    }
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void bf_dos_get_stats(bf_dos *d, bf_dos_stats *out)
{
    pthread_mutex_lock(&d->mu);
    *out = d->st;
    for (unsigned i = 0; i < d->nw; i++) {
        out->host_drops += d->ws[i].host_drops;
        out->http_flow_drops += d->ws[i].http_drops;
    }
    uint64_t mem = sizeof *d + d->hcap * (sizeof(host) + 2 * sizeof(host *)) + d->hslots * sizeof(uint32_t) +
                   d->pend_hw * sizeof(dbin);
    for (unsigned i = 0; i < d->nw; i++) {
        const bf_dos_worker *w = &d->ws[i];
        mem += (uint64_t)w->t.cap * sizeof(dbin) + w->t.nslot * sizeof(uint32_t) +
               (uint64_t)w->gslots * sizeof(gauge) + (uint64_t)w->hslots * sizeof(hflow);
    }
    for (attack *a = d->attacks; a; a = a->next)
        mem += sizeof *a;
    out->mem_bytes = mem;
    pthread_mutex_unlock(&d->mu);
}

void bf_dos_print_summary(bf_dos *d, FILE *o)
{
    bf_dos_stats s;
    bf_dos_get_stats(d, &s);
    fprintf(o, "  dos          %llu attack(s), %llu event(s); bins merged %llu, evaluated %llu; "
               "tables %.1f MiB reserved; drops: hosts %llu, merge %llu, late %llu, http flows %llu, "
               "host table full %llu (evicted %llu)\n",
            (unsigned long long)s.attacks, (unsigned long long)s.events,
            (unsigned long long)s.bins_merged, (unsigned long long)s.bins_processed,
            (double)s.mem_bytes / 1048576.0, (unsigned long long)s.host_drops,
            (unsigned long long)s.pending_drops, (unsigned long long)s.late_merges,
            (unsigned long long)s.http_flow_drops, (unsigned long long)s.hosts_full,
            (unsigned long long)s.hosts_evicted);
    /* oldest first */
    unsigned n = 0;
    for (attack *a = d->attacks; a; a = a->next)
        n++;
    attack **v = bf_calloc(n ? n : 1, sizeof *v);
    unsigned k = 0;
    for (attack *a = d->attacks; a; a = a->next)
        v[k++] = a;
    for (unsigned i = n; i-- > 0;)
        if (v[i]->id)
            fprintf(o, "    %s\n", v[i]->summary);
    free(v);
}

void bf_dos_free(bf_dos *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < d->nw; i++) {
        bf_dos_worker *w = &d->ws[i];
        btab_free(&w->t);
        free(w->g);
        free(w->hf);
    }
    for (unsigned i = 0; i < d->npend; i++)
        btab_free(&d->pend[i].t);
    attack *a = d->attacks;
    while (a) {
        attack *n = a->next;
        free(a);
        a = n;
    }
    free(d->pend);
    free(d->hosts);
    free(d->hslot);
    free(d->act);
    free(d->work);
    free(d->ws);
    free(d->done);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    bf_dos_cfg_free(&d->cfg);
    free(d);
}
