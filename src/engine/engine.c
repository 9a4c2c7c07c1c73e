/* SPDX-License-Identifier: GPL-2.0-or-later
 * engine/engine.c: reader, dispatch and workers (see engine.h). */
#include "engine/engine.h"
#include "behavior/dos/dos.h"
#include "common/log.h"
#include "detect/detect.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* SPSC ring of variable-length records                                */

enum { REC_PKT = 1, REC_TICK, REC_STOP, REC_PAD };

typedef struct rec {
    uint32_t len;       /* whole record, 8-aligned */
    uint16_t type;
    uint16_t linktype;
    uint32_t caplen, wirelen;
    uint64_t ts;
    uint64_t pcap_cnt;
    uint16_t input_id;
    uint8_t pad[6];
} rec;

typedef struct ring {
    uint8_t *buf;
    uint64_t size;                  /* power of two */
    _Alignas(64) _Atomic uint64_t head;  /* written by producer */
    _Alignas(64) _Atomic uint64_t tail;  /* written by consumer */
    _Alignas(64) uint64_t cached_tail;   /* producer's view */
    uint64_t cached_head;                /* consumer's view */
} ring;

static void backoff(unsigned *n)
{
    if (*n < 64) {
        __builtin_ia32_pause();
    } else if (*n < 128) {
        sched_yield();
    } else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    (*n)++;
}

/* Reserves len contiguous bytes; returns a pointer to write into. */
static uint8_t *ring_reserve(ring *r, uint32_t len, volatile sig_atomic_t *stop)
{
    unsigned spins = 0;
    for (;;) {
        uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint64_t off = head & (r->size - 1);
        uint64_t need = len;
        if (off + len > r->size)
            need += r->size - off; /* pad to the end, then wrap */
        if (head + need - r->cached_tail > r->size) {
            r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (head + need - r->cached_tail > r->size) {
                if (stop && *stop)
                    return NULL;
                backoff(&spins);
                continue;
            }
        }
        if (off + len > r->size) {
            rec *pad = (rec *)(r->buf + off);
            pad->len = (uint32_t)(r->size - off);
            pad->type = REC_PAD;
            atomic_store_explicit(&r->head, head + pad->len, memory_order_release);
            continue;
        }
        return r->buf + off;
    }
}

static void ring_commit(ring *r, uint32_t len)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + len, memory_order_release);
}

/* Next record, or NULL after waiting a little. */
static rec *ring_peek(ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    unsigned spins = 0;
    for (;;) {
        if (tail == r->cached_head) {
            r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail == r->cached_head) {
                backoff(&spins);
                if (spins > 4096)
                    return NULL;
                continue;
            }
        }
        rec *x = (rec *)(r->buf + (tail & (r->size - 1)));
        if (x->type == REC_PAD) {
            tail += x->len;
            atomic_store_explicit(&r->tail, tail, memory_order_release);
            continue;
        }
        return x;
    }
}

static void ring_pop(ring *r, rec *x)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + x->len, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

#define CSUM_SAMPLE 1000   /* -k auto: TCP/UDP packets sampled per worker */

typedef struct worker {
    unsigned id;
    const bf_engine_cfg *cfg;
    bf_decode_cfg dcfg;       /* the worker's copy: -k auto may turn checksums off */
    bool csum_sampling;
    uint32_t csum_seen, csum_bad;
    bf_defrag *defrag;
    bf_flow_table *ft;
    bf_stream *stream;
    bf_applayer *app;
    bf_detect_thread *detect;
    bf_bus bus;
    bf_eve eve;
    bf_dos_worker *dos;       /* DoS detector's measurements (NULL: off) */
    bf_counters c;            /* decode, defrag and logging counters live here */
    bf_ts now, next_tick;

    pthread_t thread;
    ring ring;

    pthread_mutex_t snap_lock;
    bf_counters snap;         /* copy for the stats writer */
} worker;

static volatile sig_atomic_t g_stop;
static _Atomic(bf_detect *) g_detect_next;

void bf_engine_stop(void) { g_stop = 1; }

void bf_engine_set_detect(bf_detect *d) { atomic_store(&g_detect_next, d); }

static void on_stream_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data,
                           uint32_t len, uint32_t gap)
{
    worker *w = ud;
    bf_applayer_stream_data(w->app, f, p, dir, data, len, gap);
    if (bf_bus_wanted(&w->bus, BF_BUS_STREAM) && (len || gap)) {
        bf_stream_chunk c = {dir, data, len, gap};
        bf_bus_publish(&w->bus, BF_BUS_STREAM, f, p, &c);
    }
}

static void on_flow_end(void *ud, bf_flow *f, enum bf_flow_end_reason why)
{
    worker *w = ud;
    bf_tcp_session snapshot;
    bool had_tcp = f->tcp != NULL;
    if (had_tcp) {
        snapshot = *f->tcp;
        bf_stream_flow_end(w->stream, f); /* delivers what is held, frees */
    }
    /* the analyzers log (and show rules) what is pending, then detectors
     * see the end, then the flow is logged with its final flags */
    bf_applayer_flow_end(w->app, f);
    bf_bus_publish(&w->bus, BF_BUS_FLOW_END, f, NULL, &why);
    if (w->cfg->eve.flow_events) {
        f->tcp = had_tcp ? &snapshot : NULL; /* for the log only */
        bf_eve_log_flow(&w->eve, f, why);
        f->tcp = NULL;
        w->c.flows_logged++;
    }
}

static void worker_snapshot(worker *w)
{
    w->c.flow = *bf_flow_table_stats(w->ft);
    w->c.stream = *bf_stream_get_stats(w->stream);
    w->c.app = *bf_applayer_stats(w->app);
    if (w->detect) {
        const bf_detect_stats *ds = bf_detect_thread_stats(w->detect);
        w->c.detect.alert = ds->alerts;
        w->c.detect.alert_queue_overflow = ds->alert_queue_overflow;
        w->c.detect.alerts_suppressed = ds->alerts_suppressed;
        w->c.detect.drops = ds->drops;
    }
    pthread_mutex_lock(&w->snap_lock);
    w->snap = w->c;
    pthread_mutex_unlock(&w->snap_lock);
}

static void worker_tick(worker *w, bf_ts now)
{
    if (now > w->now)
        w->now = now;
    if (w->detect) {
        bf_detect *nd = atomic_load(&g_detect_next);
        if (nd)
            bf_detect_thread_swap(w->detect, nd);
    }
    bf_flow_timeout(w->ft, w->now);
    bf_defrag_timeout(w->defrag, &w->c.defrag, w->now);
    bf_dos_worker_tick(w->dos, w->now);
    w->next_tick = w->now + BF_SEC;
    worker_snapshot(w);
}

static void log_anomalies(worker *w, bf_packet *p)
{
    for (unsigned i = 0; i < p->nevents; i++) {
        uint16_t ev = p->events[i];
        enum bf_event_layer l = bf_event_layer(ev);
        if ((l == BF_EVL_DECODE && !w->cfg->log_decode_anomalies) ||
            (l == BF_EVL_STREAM && !w->cfg->log_stream_anomalies))
            continue;
        if (!w->cfg->eve.anomaly_events)
            continue;
        bf_eve_log_anomaly(&w->eve, p, ev);
        w->c.anomalies_logged++;
    }
    p->nevents = 0;
}

static void worker_l3(worker *w, bf_packet *p)
{
    bf_flow *f = NULL;
    if (p->ipver && !(p->flags & BF_PKT_INVALID)) {
        f = bf_flow_handle_packet(w->ft, p);
        if (f) {
            if (p->proto == 6) {
                /* drop-flow / reject / bypass exception policies: no more
                 * stream or app-layer work for the flow */
                uint8_t ep = f->ep_midstream;
                bool stop = ep == BF_EP_BYPASS ||
                            ((ep == BF_EP_DROP_FLOW || ep == BF_EP_REJECT) && w->cfg->ips);
                if (!stop)
                    bf_stream_packet(w->stream, f, p);
                if (!ep && (f->ep_midstream == BF_EP_DROP_FLOW || f->ep_midstream == BF_EP_REJECT) &&
                    w->cfg->ips) {
                    f->flags |= BF_FLOW_F_DROP; /* reject: dropped in IPS mode only */
                    if (w->detect)
                        bf_detect_drop_packet(w->detect, p, f, "stream midstream");
                }
            }
            else if (p->proto == 17)
                bf_applayer_udp(w->app, f, p);
        }
    }
    bf_bus_publish(&w->bus, BF_BUS_PACKET, f, p, NULL);
    if (p->nevents)
        log_anomalies(w, p);
}

/* -k auto, as Suricata's checksum-checks: auto: while sampling, checksums
 * are computed but not acted on; after CSUM_SAMPLE TCP/UDP packets, keep
 * validating if fewer than 10% were bad, else (offloading NIC, capture on a
 * veth) stop validating. */
static void checksum_sample(worker *w, bf_packet *p)
{
    if ((p->proto != 6 && p->proto != 17) || (p->flags & (BF_PKT_FRAGMENT | BF_PKT_INVALID)))
        return;
    w->csum_seen++;
    if (p->flags & BF_PKT_L4_CSUM_BAD)
        w->csum_bad++;
    p->flags &= ~(uint32_t)(BF_PKT_L4_CSUM_BAD | BF_PKT_IPV4_CSUM_BAD);
    if (w->csum_seen < CSUM_SAMPLE)
        return;
    w->csum_sampling = false;
    if ((uint64_t)w->csum_bad * 10 > w->csum_seen) {
        w->dcfg.checksum_validation = false;
        bf_info("worker %u: %u of %u packets had bad checksums (checksum offloading?): "
                "checksum validation is off (-k all forces it)",
                w->id, w->csum_bad, w->csum_seen);
    }
}

static void worker_packet(worker *w, bf_packet *p)
{
    bf_decode(&w->dcfg, &w->c.decode, p);
    if (BF_UNLIKELY(w->csum_sampling))
        checksum_sample(w, p);
    if (p->ts > w->now)
        w->now = p->ts;
    if ((p->flags & BF_PKT_FRAGMENT) && !(p->flags & BF_PKT_INVALID)) {
        bf_packet r;
        bool done = bf_defrag_packet(w->defrag, &w->dcfg, &w->c.decode, &w->c.defrag, p, &r);
        if (p->nevents)
            log_anomalies(w, p);
        bf_bus_publish(&w->bus, BF_BUS_PACKET, NULL, p, NULL);
        if (done)
            worker_l3(w, &r);
    } else {
        worker_l3(w, p);
    }
    if (w->now >= w->next_tick)
        worker_tick(w, w->now);
}

static void worker_init(worker *w, unsigned id, const bf_engine_cfg *cfg, bf_eve_sink *sink)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->cfg = cfg;
    w->dcfg = cfg->decode;
    w->csum_sampling = cfg->checksum_auto && cfg->decode.checksum_validation;
    unsigned n = cfg->threads ? cfg->threads : 1;
    bf_flow_cfg fc = cfg->flow;
    fc.memcap /= n;
    fc.worker_id = id;
    bf_stream_cfg sc = cfg->stream;
    sc.memcap /= n;
    bf_defrag_cfg dc = cfg->defrag;
    dc.memcap /= n;
    w->defrag = bf_defrag_new(&dc);
    w->ft = bf_flow_table_new(&fc, on_flow_end, w);
    w->stream = bf_stream_new(&sc, w->ft, on_stream_data, w);
    bf_bus_init(&w->bus);
    w->app = bf_applayer_new(w->ft, &w->bus, &w->eve);
    bf_eve_init(&w->eve, sink, &cfg->eve);
    if (cfg->dos)
        w->dos = bf_dos_worker_attach(cfg->dos, id, &w->bus, &w->eve);
    if (cfg->detect)
        w->detect = bf_detect_thread_new(cfg->detect, &w->eve, &w->bus, cfg->fast_log);
    pthread_mutex_init(&w->snap_lock, NULL);
    if (n > 1) {
        w->ring.size = cfg->ring_bytes;
        w->ring.buf = aligned_alloc(64, w->ring.size);
        if (!w->ring.buf)
            abort();
    }
}

/* End of input at packet time `last`: expire what has timed out by then
 * (so the result does not depend on when ticks happened), then end the
 * rest with reason shutdown. */
static void worker_finish(worker *w, bf_ts last)
{
    if (last)
        worker_tick(w, last);
    bf_flow_flush_all(w->ft);
    bf_dos_worker_finish(w->dos, last);
    worker_snapshot(w);
    bf_eve_flush(&w->eve);
}

static void worker_free(worker *w)
{
    bf_flow_table_free(w->ft);
    bf_stream_free(w->stream);
    bf_applayer_free(w->app);
    bf_detect_thread_free(w->detect);
    bf_defrag_free(w->defrag);
    bf_eve_fini(&w->eve);
    pthread_mutex_destroy(&w->snap_lock);
    free(w->ring.buf);
}

static void raw_to_packet(bf_packet *p, const bf_raw_pkt *raw, uint64_t pcap_cnt)
{
    memset(p, 0, sizeof *p);
    p->data = raw->data;
    p->caplen = raw->caplen;
    p->wirelen = raw->wirelen;
    p->linktype = raw->linktype;
    p->ts = raw->ts;
    p->pcap_cnt = pcap_cnt;
    p->input_id = raw->input_id;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "bf-worker-%u", w->id);
    pthread_setname_np(pthread_self(), name);
    for (;;) {
        rec *x = ring_peek(&w->ring);
        if (!x) {
            bf_eve_flush(&w->eve); /* idle: push pending lines out */
            continue;
        }
        if (x->type == REC_PKT) {
            bf_raw_pkt raw = {(const uint8_t *)(x + 1), x->caplen, x->wirelen, x->ts,
                              x->linktype, x->input_id};
            bf_packet p;
            raw_to_packet(&p, &raw, x->pcap_cnt);
            worker_packet(w, &p);
        } else if (x->type == REC_TICK) {
            worker_tick(w, x->ts);
        } else if (x->type == REC_STOP) {
            bf_ts last = x->ts;
            ring_pop(&w->ring, x);
            worker_finish(w, last);
            break;
        }
        ring_pop(&w->ring, x);
    }
    return NULL;
}

bf_pipeline *bf_pipeline_new(const bf_engine_cfg *cfg, bf_eve_sink *sink)
{
    worker *w = bf_malloc(sizeof *w);
    bf_engine_cfg *c = bf_malloc(sizeof *c);
    *c = *cfg;
    c->threads = 1;
    worker_init(w, 0, c, sink);
    return w;
}

void bf_pipeline_packet(bf_pipeline *w, const bf_raw_pkt *raw, uint64_t pcap_cnt)
{
    bf_packet p;
    raw_to_packet(&p, raw, pcap_cnt);
    worker_packet(w, &p);
}

void bf_pipeline_finish(bf_pipeline *w, bf_counters *out)
{
    worker_finish(w, w->now);
    if (out)
        *out = w->snap;
}

void bf_pipeline_free(bf_pipeline *w)
{
    const bf_engine_cfg *c = w->cfg;
    worker_free(w);
    free((void *)c);
    free(w);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

void bf_engine_cfg_default(bf_engine_cfg *c)
{
    memset(c, 0, sizeof *c);
    bf_decode_cfg_default(&c->decode);
    bf_defrag_cfg_default(&c->defrag);
    bf_flow_cfg_default(&c->flow);
    bf_stream_cfg_default(&c->stream);
    c->eve.flow_events = true;
    c->eve.alert.payload_buffer_size = 4096;
    c->eve.alert.flow = c->eve.alert.app_layer = c->eve.alert.rule_metadata = true;
    c->eve.alert.xff_reverse = true;
    snprintf(c->eve.alert.xff_header, sizeof c->eve.alert.xff_header, "X-Forwarded-For");
    c->eve.anomaly_events = true;
    c->eve.dns_version = 3;
    c->eve.dns_formats = BF_EVE_DNS_DETAILED | BF_EVE_DNS_GROUPED;
    c->checksum_auto = true;
    c->log_decode_anomalies = true;
    c->log_stream_anomalies = false;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = ncpu > 0 ? (unsigned)ncpu : 1;
    c->stats_interval = 8 * BF_SEC;
    c->ring_bytes = 8u << 20;
}

static const char *const tclass_keys[BF_TC_MAX] = {
    [BF_TC_TCP_NEW] = "flow-timeouts.tcp.new",
    [BF_TC_TCP_EST] = "flow-timeouts.tcp.established",
    [BF_TC_TCP_CLOSED] = "flow-timeouts.tcp.closed",
    [BF_TC_UDP_NEW] = "flow-timeouts.udp.new",
    [BF_TC_UDP_EST] = "flow-timeouts.udp.established",
    [BF_TC_ICMP_NEW] = "flow-timeouts.icmp.new",
    [BF_TC_ICMP_EST] = "flow-timeouts.icmp.established",
    [BF_TC_OTHER_NEW] = "flow-timeouts.default.new",
    [BF_TC_OTHER_EST] = "flow-timeouts.default.established",
};

static int dns_format_bit(const char *v)
{
    if (!strcmp(v, "detailed"))
        return BF_EVE_DNS_DETAILED;
    if (!strcmp(v, "grouped"))
        return BF_EVE_DNS_GROUPED;
    return -1;
}

/* EVE `dns` options: Beffroi's outputs.eve.dns.{version,formats}, else
 * Suricata's eve-log layout (outputs.N.eve-log.types.M.dns.*); the
 * environment variable SURICATA_EVE_DNS_VERSION (as Suricata reads it)
 * overrides the version. */
static void load_eve_dns(bf_eve_opts *o, bf_config *cfg)
{
    char key[128];
    const char *k = bf_config_eve_key(cfg, "dns", "version", key, sizeof key);
    if (k) {
        uint64_t v = bf_config_uint(cfg, k, 3, 255);
        if (v == 2 || v == 3)
            o->dns_version = (uint8_t)v;
        else
            bf_config_error(cfg, k, "must be 2 or 3");
    }
    /* formats: a sequence ("[detailed, grouped]") or one word */
    k = bf_config_eve_key(cfg, "dns", "formats", key, sizeof key);
    if (k) {
        char ik[160];
        snprintf(ik, sizeof ik, "%s.0", k);
        bool seq = bf_config_has(cfg, ik);
        uint8_t bits = 0;
        for (unsigned i = 0; i < (seq ? 8u : 1u); i++) {
            if (seq)
                snprintf(ik, sizeof ik, "%s.%u", k, i);
            else
                snprintf(ik, sizeof ik, "%s", k);
            const char *v = bf_config_str(cfg, ik, NULL);
            if (!v)
                break;
            int b = dns_format_bit(v);
            if (b < 0)
                bf_config_error(cfg, ik, "'%s' is not a DNS format (detailed, grouped)", v);
            else
                bits |= (uint8_t)b;
        }
        if (bits)
            o->dns_formats = bits;
    }
    const char *env = getenv("SURICATA_EVE_DNS_VERSION");
    if (env && *env) {
        if (!strcmp(env, "2") || !strcmp(env, "3"))
            o->dns_version = (uint8_t)(env[0] - '0');
        else
            bf_warn("SURICATA_EVE_DNS_VERSION='%s' ignored: must be 2 or 3", env);
    }
}

/* Alert options under `p` (Beffroi's outputs.eve.alert, or a Suricata
 * outputs.N.eve-log.types.M.alert). */
static void alert_opts_load(bf_config *cfg, const char *p, bf_eve_alert_opts *a)
{
    char k[256];
#define K(sub) (snprintf(k, sizeof k, "%s.%s", p, sub), k)
    a->payload = bf_config_bool(cfg, K("payload"), a->payload);
    a->payload_printable = bf_config_bool(cfg, K("payload-printable"), a->payload_printable);
    a->payload_length = bf_config_bool(cfg, K("payload-length"), a->payload_length);
    a->packet = bf_config_bool(cfg, K("packet"), a->packet);
    uint64_t pbs = bf_config_size(cfg, K("payload-buffer-size"), a->payload_buffer_size);
    a->payload_buffer_size = pbs > (1u << 20) ? (1u << 20) : (uint32_t)pbs;
    if (bf_config_str(cfg, K("metadata"), NULL)) {
        /* metadata: yes / no: flow, app-layer and rule metadata together */
        bool on = bf_config_bool(cfg, K("metadata"), true);
        a->flow = a->app_layer = a->rule_metadata = on;
    } else {
        a->flow = bf_config_bool(cfg, K("metadata.flow"), a->flow);
        a->app_layer = bf_config_bool(cfg, K("metadata.app-layer"), a->app_layer);
        a->rule_metadata = bf_config_bool(cfg, K("metadata.rule.metadata"), a->rule_metadata);
    }
    if (bf_config_bool(cfg, K("xff.enabled"), a->xff_mode != BF_XFF_OFF)) {
        const char *mode = bf_config_str(cfg, K("xff.mode"), NULL);
        if (a->xff_mode == BF_XFF_OFF)
            a->xff_mode = BF_XFF_EXTRA_DATA;
        if (mode && !strcasecmp(mode, "overwrite"))
            a->xff_mode = BF_XFF_OVERWRITE;
        else if (mode && !strcasecmp(mode, "extra-data"))
            a->xff_mode = BF_XFF_EXTRA_DATA;
        else if (mode)
            bf_config_error(cfg, k, "'%s' is not extra-data or overwrite", mode);
        const char *dep = bf_config_str(cfg, K("xff.deployment"), NULL);
        if (dep && (!strcasecmp(dep, "reverse") || !strcasecmp(dep, "forward")))
            a->xff_reverse = !strcasecmp(dep, "reverse");
        else if (dep)
            bf_config_error(cfg, k, "'%s' is not reverse or forward", dep);
        const char *h = bf_config_str(cfg, K("xff.header"), NULL);
        if (h && *h)
            snprintf(a->xff_header, sizeof a->xff_header, "%s", h);
    } else {
        a->xff_mode = BF_XFF_OFF;
    }
#undef K
}

/* Suricata's layout: outputs is a list; the eve-log item has `types`, a
 * list whose items are either "alert" or a map {alert: {options}}. */
static void suricata_eve_load(bf_config *cfg, bf_eve_opts *e)
{
    char k[160];
    for (unsigned n = 0; n < 64; n++) {
        snprintf(k, sizeof k, "outputs.%u", n);
        if (!bf_config_has(cfg, k))
            break;
        snprintf(k, sizeof k, "outputs.%u.eve-log", n);
        if (!bf_config_has(cfg, k))
            continue;
        snprintf(k, sizeof k, "outputs.%u.eve-log.enabled", n);
        if (!bf_config_bool(cfg, k, true))
            continue;
        snprintf(k, sizeof k, "outputs.%u.eve-log.ethernet", n);
        e->ether = bf_config_bool(cfg, k, e->ether);
        snprintf(k, sizeof k, "outputs.%u.eve-log.community-id", n);
        e->community_id = bf_config_bool(cfg, k, e->community_id);
        snprintf(k, sizeof k, "outputs.%u.eve-log.community-id-seed", n);
        e->community_id_seed = (uint16_t)bf_config_uint(cfg, k, e->community_id_seed, 65535);
        for (unsigned m = 0; m < 128; m++) {
            snprintf(k, sizeof k, "outputs.%u.eve-log.types.%u", n, m);
            if (!bf_config_has(cfg, k))
                break;
            snprintf(k, sizeof k, "outputs.%u.eve-log.types.%u.alert", n, m);
            if (bf_config_has(cfg, k))
                alert_opts_load(cfg, k, &e->alert);
        }
    }
}

void bf_engine_cfg_load(bf_engine_cfg *c, bf_config *cfg)
{
    const char *csum = bf_config_str(cfg, "stream.checksum-validation", NULL);
    if (csum && strcasecmp(csum, "auto") == 0) {
        c->checksum_auto = true;
        c->decode.checksum_validation = true;
    } else if (csum) {
        c->decode.checksum_validation = bf_config_bool(cfg, "stream.checksum-validation", true);
        c->checksum_auto = false;
    }
    c->decode.vxlan_port =
        (uint16_t)bf_config_uint(cfg, "decoder.vxlan.ports", c->decode.vxlan_port, 65535);
    c->stream.checksum_validation = c->decode.checksum_validation;

    c->defrag.memcap = bf_config_size(cfg, "defrag.memcap", c->defrag.memcap);
    c->defrag.timeout = bf_config_duration(cfg, "defrag.timeout", c->defrag.timeout);
    c->defrag.max_frags =
        (uint32_t)bf_config_uint(cfg, "defrag.max-frags", c->defrag.max_frags, 1u << 20);

    bool vlan_tracking = bf_config_bool(cfg, "vlan.use-for-tracking", true);
    bf_flow_set_vlan_tracking(vlan_tracking);
    bf_decode_set_dispatch_vlan(vlan_tracking);
    c->flow.memcap = bf_config_size(cfg, "flow.memcap", c->flow.memcap);
    c->flow.hash_size = (uint32_t)bf_config_uint(cfg, "flow.hash-size", c->flow.hash_size, 1u << 26);
    c->flow.emerg_recovery_pct =
        (uint32_t)bf_config_uint(cfg, "flow.emergency-recovery", c->flow.emerg_recovery_pct, 100);
    for (int i = 0; i < BF_TC_MAX; i++) {
        char k[128];
        c->flow.timeout[i] = bf_config_duration(cfg, tclass_keys[i], c->flow.timeout[i]);
        snprintf(k, sizeof k, "%s", tclass_keys[i]);
        char *last = strrchr(k, '.');
        char ek[160];
        snprintf(ek, sizeof ek, "%.*s.emergency-%s", (int)(last - k), k, last + 1);
        c->flow.emerg_timeout[i] = bf_config_duration(cfg, ek, c->flow.emerg_timeout[i]);
    }

    c->stream.memcap = bf_config_size(cfg, "stream.memcap", c->stream.memcap);
    c->stream.reassembly_depth = bf_config_size(cfg, "stream.reassembly.depth",
                                                c->stream.reassembly_depth);
    c->stream.midstream = bf_config_bool(cfg, "stream.midstream", c->stream.midstream);
    c->stream.async_oneside = bf_config_bool(cfg, "stream.async-oneside", c->stream.async_oneside);
    /* stream.midstream-policy, else the exception-policy master switch */
    const char *mkey = "stream.midstream-policy";
    const char *mp = bf_config_str(cfg, mkey, NULL);
    if (!mp) {
        mkey = "exception-policy";
        mp = bf_config_str(cfg, mkey, NULL);
    }
    if (mp) {
        uint8_t ep = bf_exc_policy_parse(mp, c->ips, c->stream.midstream);
        if (!ep)
            bf_config_error(cfg, mkey, "'%s' is not an exception policy (auto, ignore, "
                            "drop-flow, drop-packet, pass-flow, pass-packet, bypass, reject)", mp);
        else
            c->stream.midstream_policy = ep;
    }
    c->stream.max_ooo_segments = (uint32_t)bf_config_uint(
        cfg, "stream.reassembly.max-ooo-segments", c->stream.max_ooo_segments, 1u << 20);

    c->eve.community_id = bf_config_bool(cfg, "outputs.eve.community-id", c->eve.community_id);
    c->eve.community_id_seed = (uint16_t)bf_config_uint(cfg, "outputs.eve.community-id-seed",
                                                        c->eve.community_id_seed, 65535);
    c->eve.flow_events = bf_config_bool(cfg, "outputs.eve.flow", c->eve.flow_events);
    c->eve.anomaly_events = bf_config_bool(cfg, "outputs.eve.anomaly.enabled", c->eve.anomaly_events);
    c->eve.ether = bf_config_bool(cfg, "outputs.eve.ethernet", c->eve.ether);
    load_eve_dns(&c->eve, cfg);
    suricata_eve_load(cfg, &c->eve);
    alert_opts_load(cfg, "outputs.eve.alert", &c->eve.alert);
    c->log_decode_anomalies =
        bf_config_bool(cfg, "outputs.eve.anomaly.decode", c->log_decode_anomalies);
    c->log_stream_anomalies =
        bf_config_bool(cfg, "outputs.eve.anomaly.stream", c->log_stream_anomalies);
    c->stats_interval = bf_config_duration(cfg, "stats.interval", c->stats_interval);
    uint64_t rb = bf_config_size(cfg, "threading.ring-size", c->ring_bytes);
    if (rb < (1u << 20) || rb > (1u << 30) || (rb & (rb - 1)))
        bf_config_error(cfg, "threading.ring-size", "must be a power of two from 1mb to 1gb");
    else
        c->ring_bytes = (uint32_t)rb;
}

static void sum_counters(worker *ws, unsigned n, bf_counters *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < n; i++) {
        pthread_mutex_lock(&ws[i].snap_lock);
        bf_counters_add(out, &ws[i].snap);
        pthread_mutex_unlock(&ws[i].snap_lock);
    }
}

static void emit_stats(bf_eve *e, worker *ws, unsigned n, bf_source *src, bf_ts ts,
                       uint64_t start_wall)
{
    bf_counters c;
    sum_counters(ws, n, &c);
    bf_capture_counters cap = {0};
    bf_source_live_stats(src, &cap.kernel_packets, &cap.kernel_drops, &cap.kernel_ifdrops);
    cap.input_errors = bf_source_errors(src);
    bf_eve_log_stats(e, ts, (bf_wall_usec() - start_wall) / BF_SEC, &c, &cap);
    bf_eve_flush(e);
}

static void progress(bf_source *src, uint64_t pkts, uint64_t bytes, uint64_t start_wall)
{
    uint64_t done, total;
    bf_source_progress(src, &done, &total);
    double el = (double)(bf_wall_usec() - start_wall) / 1e6;
    if (el <= 0)
        el = 1e-6;
    if (total)
        fprintf(stderr, "\r%5.1f%%  %llu pkts  %.1f Mbit/s  %.0f pkt/s   ",
                100.0 * (double)done / (double)total, (unsigned long long)pkts,
                (double)bytes * 8 / el / 1e6, (double)pkts / el);
    else
        fprintf(stderr, "\r%llu pkts  %.1f Mbit/s  %.0f pkt/s   ", (unsigned long long)pkts,
                (double)bytes * 8 / el / 1e6, (double)pkts / el);
}

int bf_engine_run(const bf_engine_cfg *cfg, bf_source *src, bf_eve_sink *sink,
                  bf_engine_summary *out)
{
    unsigned n = cfg->threads ? cfg->threads : 1;
    worker *ws = bf_calloc(n, sizeof(worker));
    for (unsigned i = 0; i < n; i++)
        worker_init(&ws[i], i, cfg, sink);
    if (n > 1) {
        /* signals go to the reader (it may be blocked reading the input;
         * a signal taken by a worker would not interrupt that read) */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        for (unsigned i = 0; i < n; i++)
            pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }

    bf_eve stats_eve;
    bf_eve_init(&stats_eve, sink, &cfg->eve);
    uint64_t start_wall = bf_wall_usec();
    uint64_t last_stats_wall = start_wall, last_progress_wall = start_wall;
    uint64_t pcap_cnt = 0, bytes = 0;
    bf_ts first_ts = 0, last_ts = 0, next_tick = 0;
    bf_raw_pkt raw;

    while (!g_stop && bf_source_next(src, &raw) == 1) {
        pcap_cnt++;
        bytes += raw.wirelen;
        if (!first_ts)
            first_ts = raw.ts;
        if (raw.ts > last_ts)
            last_ts = raw.ts;
        if (n == 1) {
            bf_packet p;
            raw_to_packet(&p, &raw, pcap_cnt);
            worker_packet(&ws[0], &p);
        } else {
            uint64_t h = bf_decode_dispatch_hash(raw.data, raw.caplen, raw.linktype);
            worker *w = &ws[h % n];
            uint32_t len = (uint32_t)((sizeof(rec) + raw.caplen + 7) & ~7u);
            if (len > w->ring.size / 4) {
                bf_warn("packet %llu: %u bytes captured exceed the ring; skipped",
                        (unsigned long long)pcap_cnt, raw.caplen);
                continue;
            }
            rec *x = (rec *)ring_reserve(&w->ring, len, &g_stop);
            if (!x)
                break;
            x->len = len;
            x->type = REC_PKT;
            x->linktype = raw.linktype;
            x->caplen = raw.caplen;
            x->wirelen = raw.wirelen;
            x->ts = raw.ts;
            x->pcap_cnt = pcap_cnt;
            x->input_id = raw.input_id;
            memcpy(x + 1, raw.data, raw.caplen);
            ring_commit(&w->ring, len);
            if (raw.ts >= next_tick) {
                if (next_tick)
                    for (unsigned i = 0; i < n; i++) {
                        rec *t = (rec *)ring_reserve(&ws[i].ring, sizeof(rec), &g_stop);
                        if (!t)
                            break;
                        memset(t, 0, sizeof *t);
                        t->len = sizeof(rec);
                        t->type = REC_TICK;
                        t->ts = raw.ts;
                        ring_commit(&ws[i].ring, sizeof(rec));
                    }
                next_tick = raw.ts + BF_SEC;
            }
        }
        if ((pcap_cnt & 4095) == 0) {
            uint64_t now = bf_wall_usec();
            if (cfg->progress && now - last_progress_wall > 500 * BF_MSEC) {
                progress(src, pcap_cnt, bytes, start_wall);
                last_progress_wall = now;
            }
            if (cfg->stats_interval && now - last_stats_wall >= cfg->stats_interval) {
                emit_stats(&stats_eve, ws, n, src, last_ts, start_wall);
                last_stats_wall = now;
            }
        }
    }
    if (cfg->progress) {
        progress(src, pcap_cnt, bytes, start_wall);
        fputc('\n', stderr);
    }

    if (n == 1) {
        worker_finish(&ws[0], last_ts);
    } else {
        for (unsigned i = 0; i < n; i++) {
            rec *t = (rec *)ring_reserve(&ws[i].ring, sizeof(rec), NULL);
            memset(t, 0, sizeof *t);
            t->len = sizeof(rec);
            t->type = REC_STOP;
            t->ts = last_ts;
            ring_commit(&ws[i].ring, sizeof(rec));
        }
        for (unsigned i = 0; i < n; i++)
            pthread_join(ws[i].thread, NULL);
    }
    emit_stats(&stats_eve, ws, n, src, last_ts ? last_ts : (bf_ts)time(NULL) * BF_SEC,
               start_wall);

    if (out) {
        memset(out, 0, sizeof *out);
        sum_counters(ws, n, &out->total);
        out->input_errors = bf_source_errors(src);
        out->wall_sec = (double)(bf_wall_usec() - start_wall) / 1e6;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        out->cpu_sec = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        out->first_ts = first_ts;
        out->last_ts = last_ts;
    }
    bf_eve_fini(&stats_eve);
    for (unsigned i = 0; i < n; i++)
        worker_free(&ws[i]);
    free(ws);
    if (out) {
        out->eve_lines = bf_eve_sink_lines(sink);
        out->peak_rss_kib = bf_peak_rss_kib();
    }
    return 0;
}
