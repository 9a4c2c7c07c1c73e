/* SPDX-License-Identifier: GPL-2.0-or-later
 * output/events.c: `flow`, `anomaly` and `stats` EVE events (events.h). */
#include "output/events.h"

#include <stdio.h>

void bf_counters_add(bf_counters *a, const bf_counters *b)
{
    /* every member is a uint64_t counter: add them as arrays */
#define ADD_ALL(x, y)                                                                              \
    do {                                                                                           \
        uint64_t *pa = (uint64_t *)&(x);                                                           \
        const uint64_t *pb = (const uint64_t *)&(y);                                               \
        for (size_t i = 0; i < sizeof(x) / sizeof(uint64_t); i++)                                  \
            pa[i] += pb[i];                                                                        \
    } while (0)
    uint64_t maxsz = BF_MAX(a->decode.max_pkt_size, b->decode.max_pkt_size);
    ADD_ALL(a->decode, b->decode);
    a->decode.max_pkt_size = maxsz;
    ADD_ALL(a->defrag, b->defrag);
    ADD_ALL(a->flow, b->flow);
    ADD_ALL(a->stream, b->stream);
    ADD_ALL(a->app, b->app);
    ADD_ALL(a->detect, b->detect);
    a->anomalies_logged += b->anomalies_logged;
    a->flows_logged += b->flows_logged;
#undef ADD_ALL
}

_Static_assert(sizeof(bf_decode_stats) % sizeof(uint64_t) == 0, "decode stats are u64s");
_Static_assert(sizeof(bf_defrag_stats) % sizeof(uint64_t) == 0, "defrag stats are u64s");
_Static_assert(sizeof(bf_flow_stats) % sizeof(uint64_t) == 0, "flow stats are u64s");
_Static_assert(sizeof(bf_stream_stats) % sizeof(uint64_t) == 0, "stream stats are u64s");
_Static_assert(sizeof(bf_app_stats) % sizeof(uint64_t) == 0, "app stats are u64s");

static void flags_hex(bf_json *j, const char *key, uint8_t fl)
{
    char b[3];
    snprintf(b, sizeof b, "%02x", fl);
    bf_json_str(j, key, b);
}

void bf_eve_log_flow(bf_eve *e, const bf_flow *f, enum bf_flow_end_reason why)
{
    bf_json *j = &e->j;
    bf_eve_begin_flow(e, "flow", f->start, NULL, f);
    const char *ap = bf_app_proto_name(f->app_proto);
    if (ap)
        bf_json_str(j, "app_proto", ap);
    if (f->app_proto_ts && f->app_proto_ts != f->app_proto && bf_app_proto_name(f->app_proto_ts))
        bf_json_str(j, "app_proto_ts", bf_app_proto_name(f->app_proto_ts));
    if (f->app_proto_tc && f->app_proto_tc != f->app_proto && bf_app_proto_name(f->app_proto_tc))
        bf_json_str(j, "app_proto_tc", bf_app_proto_name(f->app_proto_tc));

    bf_json_open_obj(j, "flow");
    bf_json_uint(j, "pkts_toserver", f->pkts[0]);
    bf_json_uint(j, "pkts_toclient", f->pkts[1]);
    bf_json_uint(j, "bytes_toserver", f->bytes[0]);
    bf_json_uint(j, "bytes_toclient", f->bytes[1]);
    char tsb[48];
    bf_json_strn(j, "start", tsb, bf_ts_format(f->start, tsb, sizeof tsb));
    bf_json_strn(j, "end", tsb, bf_ts_format(f->last, tsb, sizeof tsb));
    bf_json_uint(j, "age", f->last / BF_SEC - f->start / BF_SEC);
    if (f->flags & BF_FLOW_F_EMERGENCY)
        bf_json_bool(j, "emergency", true);
    bf_json_str(j, "state", (f->flags & BF_FLOW_F_BYPASSED) ? "bypassed"
                                                            : bf_flow_state_name(f->state));
    bf_json_str(j, "reason", bf_flow_reason_name(why));
    bf_json_bool(j, "alerted", (f->flags & BF_FLOW_F_ALERTED) != 0);
    if (f->tx_cnt)
        bf_json_uint(j, "tx_cnt", f->tx_cnt);
    if (f->flags & BF_FLOW_F_DROP)
        bf_json_str(j, "action", "drop");
    else if (f->flags & BF_FLOW_F_PASS)
        bf_json_str(j, "action", "pass");
    if (f->ep_midstream) {
        bf_json_open_arr(j, "exception_policy");
        bf_json_open_obj(j, NULL);
        bf_json_str(j, "target", "stream_midstream");
        bf_json_str(j, "policy", bf_exc_policy_name(f->ep_midstream));
        bf_json_close_obj(j);
        bf_json_close_arr(j);
    }
    bf_json_close_obj(j);

    if (f->proto == 6) {
        uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
        bf_json_open_obj(j, "tcp");
        flags_hex(j, "tcp_flags", all);
        flags_hex(j, "tcp_flags_ts", f->tcp_flags[0]);
        flags_hex(j, "tcp_flags_tc", f->tcp_flags[1]);
        static const struct { uint8_t bit; const char *name; } names[] = {
            {BF_TH_FIN, "fin"}, {BF_TH_SYN, "syn"}, {BF_TH_RST, "rst"}, {BF_TH_PSH, "psh"},
            {BF_TH_ACK, "ack"}, {BF_TH_URG, "urg"}, {BF_TH_ECE, "ecn"}, {BF_TH_CWR, "cwr"},
        };
        for (size_t i = 0; i < BF_ARRAY_LEN(names); i++)
            if (all & names[i].bit)
                bf_json_bool(j, names[i].name, true);
        const bf_tcp_session *t = f->tcp;
        if (t) {
            bf_json_str(j, "state", bf_tcp_state_name(t->state));
            if (t->d[0].gap)
                bf_json_bool(j, "ts_gap", true);
            if (t->d[1].gap)
                bf_json_bool(j, "tc_gap", true);
            bf_json_uint(j, "ts_max_regions", BF_MAX(t->d[0].max_regions, 1u));
            bf_json_uint(j, "tc_max_regions", BF_MAX(t->d[1].max_regions, 1u));
            if (t->d[0].urgent_oob)
                bf_json_uint(j, "ts_urgent_oob_data", t->d[0].urgent_oob);
            if (t->d[1].urgent_oob)
                bf_json_uint(j, "tc_urgent_oob_data", t->d[1].urgent_oob);
        }
        bf_json_close_obj(j);
    }
    bf_eve_end(e);
}

void bf_eve_log_app_anomaly(bf_eve *e, bf_ts ts, const bf_packet *p, const bf_flow *f,
                            const char *app_proto, const char *event, int64_t tx_id,
                            bool top_app_proto)
{
    if (!e || (e->opts && !e->opts->anomaly_events))
        return;
    bf_json *j = &e->j;
    bf_eve_begin(e, "anomaly", ts, p, f);
    if (tx_id >= 0)
        bf_json_uint(j, "tx_id", (uint64_t)tx_id);
    if (top_app_proto)
        bf_json_str(j, "app_proto", app_proto);
    bf_json_open_obj(j, "anomaly");
    bf_json_str(j, "app_proto", app_proto);
    bf_json_str(j, "type", "applayer");
    bf_json_str(j, "event", event);
    bf_json_str(j, "layer", "proto_parser");
    bf_json_close_obj(j);
    bf_eve_end(e);
}

void bf_eve_log_anomaly(bf_eve *e, const bf_packet *p, uint16_t ev)
{
    const char *name = bf_event_name(ev);
    if (!name)
        return;
    bf_json *j = &e->j;
    bf_eve_begin(e, "anomaly", p->ts, p, p->flow);
    bf_json_open_obj(j, "anomaly");
    static const char *types[] = {"decode", "stream", "applayer"};
    bf_json_str(j, "type", types[bf_event_layer(ev)]);
    bf_json_str(j, "event", name);
    bf_json_close_obj(j);
    bf_eve_end(e);
}

/* ---- stats ---- */

/* Writes "decoder.event.<layer>.<name>" counters for events seen.  The
 * nesting follows the event name: "decoder.ipv4.trunc_pkt" goes to
 * decoder.event.ipv4.trunc_pkt; stream events to stream? no: Suricata keeps
 * them in decoder.event too only for decode; stream event counters are not
 * part of the schema and are left out. */
static void decoder_events(bf_json *j, const bf_decode_stats *d)
{
    bool open = false;
    char cur[32] = "";
    for (uint16_t id = 1; id < BF_EV_MAX; id++) {
        if (!d->events[id] || bf_event_layer(id) != BF_EVL_DECODE)
            continue;
        const char *n = bf_event_name(id);
        if (strncmp(n, "decoder.", 8) != 0)
            continue;
        n += 8;
        const char *dot = strchr(n, '.');
        if (!dot || (size_t)(dot - n) >= sizeof cur)
            continue;
        if (!open) {
            bf_json_open_obj(j, "event");
            open = true;
        }
        if (strncmp(cur, n, (size_t)(dot - n)) != 0 || cur[dot - n] != 0) {
            if (cur[0])
                bf_json_close_obj(j);
            memcpy(cur, n, (size_t)(dot - n));
            cur[dot - n] = 0;
            bf_json_open_obj(j, cur);
        }
        bf_json_uint(j, dot + 1, d->events[id]);
    }
    if (cur[0])
        bf_json_close_obj(j);
    if (open)
        bf_json_close_obj(j);
}

void bf_eve_log_stats(bf_eve *e, bf_ts ts, uint64_t uptime_sec, const bf_counters *c,
                      const bf_capture_counters *cap)
{
    bf_json *j = &e->j;
    bf_eve_begin(e, "stats", ts, NULL, NULL);
    bf_json_open_obj(j, "stats");
    bf_json_uint(j, "uptime", uptime_sec);

    if (cap) {
        bf_json_open_obj(j, "capture");
        bf_json_uint(j, "kernel_packets", cap->kernel_packets);
        bf_json_uint(j, "kernel_drops", cap->kernel_drops);
        bf_json_uint(j, "kernel_ifdrops", cap->kernel_ifdrops);
        bf_json_uint(j, "errors", cap->input_errors);
        bf_json_close_obj(j);
    }

    const bf_decode_stats *d = &c->decode;
    bf_json_open_obj(j, "decoder");
    bf_json_uint(j, "pkts", d->pkts);
    bf_json_uint(j, "bytes", d->bytes);
    bf_json_uint(j, "invalid", d->invalid);
    bf_json_uint(j, "ipv4", d->ipv4);
    bf_json_uint(j, "ipv6", d->ipv6);
    bf_json_uint(j, "ethernet", d->ethernet);
    bf_json_uint(j, "sll", d->sll);
    bf_json_uint(j, "sll2", d->sll2);
    bf_json_uint(j, "null", d->null);
    bf_json_uint(j, "raw", d->raw);
    bf_json_uint(j, "tcp", d->tcp);
    bf_json_uint(j, "udp", d->udp);
    bf_json_uint(j, "icmpv4", d->icmpv4);
    bf_json_uint(j, "icmpv6", d->icmpv6);
    bf_json_uint(j, "gre", d->gre);
    bf_json_uint(j, "vxlan", d->vxlan);
    bf_json_uint(j, "vlan", d->vlan);
    bf_json_uint(j, "vlan_qinq", d->vlan_qinq);
    bf_json_uint(j, "vlan_qinqinq", d->vlan_qinqinq);
    bf_json_uint(j, "ipv4_in_ipv4", d->ipv4_in_ipv4);
    bf_json_uint(j, "ipv6_in_ipv4", d->ipv6_in_ipv4);
    bf_json_uint(j, "ipv4_in_ipv6", d->ipv4_in_ipv6);
    bf_json_uint(j, "ipv6_in_ipv6", d->ipv6_in_ipv6);
    bf_json_uint(j, "unknown_ethertype", d->unknown_ethertype);
    bf_json_uint(j, "too_many_layers", d->too_many_layers);
    bf_json_uint(j, "avg_pkt_size", d->pkts ? d->bytes / d->pkts : 0);
    bf_json_uint(j, "max_pkt_size", d->max_pkt_size);
    decoder_events(j, d);
    bf_json_close_obj(j);

    const bf_flow_stats *f = &c->flow;
    bf_json_open_obj(j, "flow");
    bf_json_uint(j, "total", f->total);
    bf_json_uint(j, "active", f->active);
    bf_json_uint(j, "tcp", f->tcp);
    bf_json_uint(j, "udp", f->udp);
    bf_json_uint(j, "icmpv4", f->icmpv4);
    bf_json_uint(j, "icmpv6", f->icmpv6);
    bf_json_uint(j, "tcp_reuse", f->tcp_reuse);
    bf_json_uint(j, "memcap", f->memcap_drops);
    bf_json_uint(j, "emerg_mode_entered", f->emerg_mode_entered);
    bf_json_uint(j, "emerg_mode_over", f->emerg_mode_over);
    bf_json_uint(j, "memuse", f->memuse);
    bf_json_open_obj(j, "end");
    bf_json_open_obj(j, "state");
    bf_json_uint(j, "new", f->end_state[BF_FLOW_NEW]);
    bf_json_uint(j, "established", f->end_state[BF_FLOW_ESTABLISHED]);
    bf_json_uint(j, "closed", f->end_state[BF_FLOW_CLOSED]);
    bf_json_close_obj(j);
    bf_json_close_obj(j);
    bf_json_open_obj(j, "mgr");
    bf_json_uint(j, "flows_timeout", f->timeouts);
    bf_json_uint(j, "flows_evicted", f->evicted);
    bf_json_close_obj(j);
    bf_json_close_obj(j);

    const bf_stream_stats *s = &c->stream;
    bf_json_open_obj(j, "tcp");
    bf_json_uint(j, "sessions", s->sessions);
    bf_json_uint(j, "ssn_memcap_drop", s->ssn_memcap_drop);
    bf_json_uint(j, "midstream_pickups", s->midstream_pickups);
    bf_json_uint(j, "syn", s->syn);
    bf_json_uint(j, "synack", s->synack);
    bf_json_uint(j, "rst", s->rst);
    bf_json_uint(j, "invalid_checksum", s->invalid_checksum);
    bf_json_uint(j, "segment_memcap_drop", s->segment_memcap_drop);
    bf_json_uint(j, "stream_depth_reached", s->stream_depth_reached);
    bf_json_uint(j, "reassembly_gap", s->reassembly_gap);
    bf_json_uint(j, "overlap", s->overlap);
    bf_json_uint(j, "overlap_diff_data", s->overlap_diff_data);
    bf_json_uint(j, "memuse", s->memuse);
    bf_json_close_obj(j);

    const bf_defrag_stats *df = &c->defrag;
    bf_json_open_obj(j, "defrag");
    bf_json_open_obj(j, "ipv4");
    bf_json_uint(j, "fragments", df->ipv4_fragments);
    bf_json_uint(j, "reassembled", df->ipv4_reassembled);
    bf_json_close_obj(j);
    bf_json_open_obj(j, "ipv6");
    bf_json_uint(j, "fragments", df->ipv6_fragments);
    bf_json_uint(j, "reassembled", df->ipv6_reassembled);
    bf_json_close_obj(j);
    bf_json_uint(j, "max_frags_reached", df->max_frags_reached);
    bf_json_uint(j, "max_trackers_reached", df->memcap_drops);
    bf_json_uint(j, "memuse", df->memuse);
    bf_json_open_obj(j, "mgr");
    bf_json_uint(j, "tracker_timeout", df->timeouts);
    bf_json_close_obj(j);
    bf_json_close_obj(j);

    const bf_app_stats *a = &c->app;
    {
        const uint64_t *ep = c->stream.ep_midstream;
        bool any = false;
        for (unsigned i = 0; i < 8; i++)
            any |= ep[i] != 0;
        if (any) {
            bf_json_open_obj(j, "exception_policy");
            bf_json_open_obj(j, "tcp");
            bf_json_open_obj(j, "midstream");
            for (uint8_t i = BF_EP_PASS_FLOW; i < 8; i++)
                if (bf_exc_policy_name(i))
                    bf_json_uint(j, bf_exc_policy_name(i), ep[i]);
            bf_json_close_obj(j);
            bf_json_close_obj(j);
            bf_json_close_obj(j);
        }
    }
    bf_json_open_obj(j, "detect");
    bf_json_uint(j, "alert", c->detect.alert);
    bf_json_uint(j, "alert_queue_overflow", c->detect.alert_queue_overflow);
    bf_json_uint(j, "alerts_suppressed", c->detect.alerts_suppressed);
    bf_json_close_obj(j);
    bf_json_open_obj(j, "app_layer");
    bf_json_open_obj(j, "flow");
    for (uint16_t i = BF_APP_FAILED + 1; i < BF_APP_MAX; i++) {
        const char *n = bf_app_proto_name(i);
        if (!n)
            continue;
        /* Suricata splits the protocols that run over both transports */
        bool split = i == BF_APP_DNS || i == BF_APP_DCERPC || i == BF_APP_KRB5 || i == BF_APP_SIP;
        if (split) {
            char k[32];
            snprintf(k, sizeof k, "%s_tcp", n);
            bf_json_uint(j, k, a->flows[i]);
            snprintf(k, sizeof k, "%s_udp", n);
            bf_json_uint(j, k, a->flows_udp[i]);
        } else {
            bf_json_uint(j, n, a->flows[i] + a->flows_udp[i]);
        }
    }
    bf_json_uint(j, "failed_tcp", a->failed_tcp);
    bf_json_uint(j, "failed_udp", a->failed_udp);
    bf_json_close_obj(j);
    bf_json_close_obj(j);

    bf_json_close_obj(j); /* stats */
    bf_eve_end(e);
}
