/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/alert.c: what a match does: flow state actions, thresholds, pass / drop /
 * reject / alert verdicts, and the per-packet alert queue written as EVE
 * `alert` and `drop` lines and fast.log lines.
 */
#include "detect/engine_int.h"
#include <arpa/inet.h>
#include <strings.h>
#include <time.h>


static pthread_mutex_t g_fast_lock = PTHREAD_MUTEX_INITIALIZER;

/* ============================================================ alerts */

static void qbuf_put(bf_detect_thread *t, const char *s, size_t len)
{
    if (t->qlen + len > t->qcap) {
        t->qcap = (t->qlen + len) * 2;
        t->qbuf = bf_realloc(t->qbuf, t->qcap);
    }
    memcpy(t->qbuf + t->qlen, s, len);
    t->qlen += len;
}

static void write_metadata(bf_json *j, const bf_sig *s)
{
    if (!s->nmeta)
        return;
    bf_json_open_obj(j, "metadata");
    for (uint32_t i = 0; i < s->nmeta; i++) {
        bool first = true;
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(s->meta[k].key, s->meta[i].key))
                first = false;
        if (!first)
            continue;
        bf_json_open_arr(j, s->meta[i].key);
        for (uint32_t k = i; k < s->nmeta; k++)
            if (!strcmp(s->meta[k].key, s->meta[i].key))
                bf_json_str(j, NULL, s->meta[k].value ? s->meta[k].value : "");
        bf_json_close_arr(j);
    }
    bf_json_close_obj(j);
}

/* Suricata's printable form: printable bytes, CR and LF as they are, others '.' */
static void json_printable(bf_json *j, const char *key, const uint8_t *d, size_t len)
{
    char buf[1024];
    size_t n = 0;
    bool first = true;
    /* bf_json_strn escapes; build in slices */
    char *all = len < sizeof buf ? buf : bf_malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = d[i];
        all[n++] = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' ? (char)c : '.';
    }
    (void)first;
    bf_json_strn(j, key, all, n);
    if (all != buf)
        free(all);
}

/* payload, payload_printable, stream, payload_length, packet, packet_info,
 * pkt_src: the options of outputs.eve.alert */
static void write_payload(bf_detect_thread *t, bf_json *j, const bf_packet *p, const bf_flow *f,
                          const bf_tx_view *v)
{
    const bf_eve_alert_opts *o = t->eve->opts ? &t->eve->opts->alert : NULL;
    bool pseudo = !p || (p->flags & BF_PKT_PSEUDO);
    if (o && (o->payload || o->payload_printable)) {
        uint8_t proto = p && p->ipver ? p->proto : f ? f->proto : 0;
        bool stream = proto == 6 && (t->cur_stream || v);
        const uint8_t *d = NULL;
        size_t len = 0;
        if (t->cur_stream && t->cur_spay && t->cur_spay_len) {
            d = t->cur_spay;
            len = t->cur_spay_len;
            if (o->payload_buffer_size && len > o->payload_buffer_size) {
                d += len - o->payload_buffer_size;
                len = o->payload_buffer_size;
            }
        } else if (!pseudo && p->payload_len) {
            d = p->payload;
            len = p->payload_len;
        }
        if (len) {
            if (o->payload)
                bf_json_base64(j, "payload", d, len);
            if (o->payload_printable)
                json_printable(j, "payload_printable", d, len);
        }
        bf_json_uint(j, "stream", stream);
    }
    if (o && o->payload_length)
        bf_json_uint(j, "payload_length", pseudo ? 0 : p->payload_len);
    if (o && o->packet && !pseudo && p->data && p->caplen) {
        bf_json_base64(j, "packet", p->data, p->caplen);
        bf_json_open_obj(j, "packet_info");
        bf_json_uint(j, "linktype", p->linktype);
        bf_json_str(j, "linktype_name", bf_eve_linktype_name(p->linktype));
        bf_json_close_obj(j);
    }
    bf_json_str(j, "pkt_src", t->cur_src ? t->cur_src : pseudo ? "stream (flow timeout)" : "wire/pcap");
}

/* The X-Forwarded-For address of the transaction (deployment reverse: the
 * last entry, forward: the first) into out, or false. */
static bool xff_addr(const bf_eve_alert_opts *o, const bf_tx_view *v, char *out, size_t outlen)
{
    if (!o || o->xff_mode == BF_XFF_OFF || !v || !v->req_header)
        return false;
    uint32_t len = 0;
    const uint8_t *h = v->req_header(v->log_ud, o->xff_header, &len);
    if (!h || !len)
        return false;
    uint32_t a = 0, z = len;
    if (o->xff_reverse) {
        for (uint32_t i = len; i > 0; i--)
            if (h[i - 1] == ',') {
                a = i;
                break;
            }
    } else {
        const uint8_t *c = memchr(h, ',', len);
        if (c)
            z = (uint32_t)(c - h);
    }
    while (a < z && (h[a] == ' ' || h[a] == '\t'))
        a++;
    while (z > a && (h[z - 1] == ' ' || h[z - 1] == '\t'))
        z--;
    if (z <= a || z - a >= outlen)
        return false;
    memcpy(out, h + a, z - a);
    out[z - a] = 0;
    uint8_t buf[16];
    return inet_pton(AF_INET, out, buf) == 1 || inet_pton(AF_INET6, out, buf) == 1;
}

static void queue_entry(bf_detect_thread *t, const bf_sig *s, uint8_t action, bool rate,
                        int dir, bool blocked, bool flow_scope, uint32_t len)
{
    if (t->nq == t->capq) {
        t->capq = t->capq ? t->capq * 2 : 16;
        t->q = bf_realloc(t->q, t->capq * sizeof *t->q);
    }
    t->q[t->nq++] = (qalert){s->idx, (uint32_t)t->qlen, len, (uint8_t)dir, blocked, flow_scope,
                             action, rate};
}

static void queue_alert(bf_detect_thread *t, const bf_sig *s, uint8_t action, bool rate,
                        const bf_packet *p, bf_flow *f, int dir, bool blocked, bool flow_scope,
                        const bf_tx_view *v)
{
    bf_eve *e = t->eve;
    bf_json *j = &e->j;
    bf_ts ts = p ? p->ts : f ? f->last : 0;
    const bf_eve_alert_opts *ao = e->opts ? &e->opts->alert : NULL;
    char xff[64];
    bool has_xff = xff_addr(ao, v, xff, sizeof xff);
    bf_packet xp;
    if (has_xff && ao->xff_mode == BF_XFF_OVERWRITE && p && p->ipver) {
        /* the client's address replaced by the forwarded one */
        bf_addr x = {0};
        int fam = p->ipver == 6 ? AF_INET6 : AF_INET;
        if (inet_pton(fam, xff, x.b) == 1) {
            xp = *p;
            if (dir)
                xp.dst = x;
            else
                xp.src = x;
            p = &xp;
        }
    }
    bf_eve_begin(e, "alert", ts, p, f);
    if (v)
        bf_json_uint(j, "tx_id", v->tx_id);
    bf_json_open_obj(j, "alert");
    bf_json_str(j, "action", blocked ? "blocked" : "allowed");
    bf_json_uint(j, "gid", s->gid);
    bf_json_uint(j, "signature_id", s->sid);
    bf_json_uint(j, "rev", s->rev);
    bf_json_str(j, "signature", s->msg ? s->msg : "");
    if (s->class_desc)
        bf_json_str(j, "category", s->class_desc);
    bf_json_int(j, "severity", s->prio);
    if (has_xff && ao->xff_mode == BF_XFF_EXTRA_DATA)
        bf_json_str(j, "xff", xff);
    if (!ao || ao->rule_metadata)
        write_metadata(j, s);
    bf_json_close_obj(j);
    if (f) {
        const char *ap = bf_app_proto_name(f->app_proto);
        if (ap)
            bf_json_str(j, "app_proto", ap);
    }
    if (v && v->log_meta && (!ao || ao->app_layer))
        v->log_meta(v->log_ud, j);
    if (v && v->log_files && (!ao || ao->app_layer))
        v->log_files(v->log_ud, j);
    if (f)
        bf_json_str(j, "direction", dir ? "to_client" : "to_server");
    if (f && (!ao || ao->flow)) {
        bf_json_open_obj(j, "flow");
        bf_json_uint(j, "pkts_toserver", f->pkts[0]);
        bf_json_uint(j, "pkts_toclient", f->pkts[1]);
        bf_json_uint(j, "bytes_toserver", f->bytes[0]);
        bf_json_uint(j, "bytes_toclient", f->bytes[1]);
        char tsb[48];
        bf_json_strn(j, "start", tsb, bf_ts_format(f->start, tsb, sizeof tsb));
        bf_json_close_obj(j);
    }
    write_payload(t, j, p, f, v);
    size_t len;
    const char *line = bf_eve_end_take(e, &len);
    /* kept without its closing "}\n": det_flush adds the verdict */
    if (len >= 2)
        len -= 2;
    queue_entry(t, s, action, rate, dir, blocked, flow_scope, (uint32_t)len);
    qbuf_put(t, line, len);
}

static int qa_cmp(const void *a, const void *b)
{
    const qalert *x = a, *y = b;
    if (x->sig != y->sig)
        return x->sig < y->sig ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static void fast_line(bf_detect_thread *t, const bf_sig *s, const bf_packet *p, const bf_flow *f,
                      int dir, bool blocked)
{
    char tsb[48], a1[64], a2[64], pb[8];
    bf_ts ts = p ? p->ts : f ? f->last : 0;
    time_t sec = (time_t)(ts / BF_SEC);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(tsb, sizeof tsb, "%02d/%02d/%04d-%02d:%02d:%02d.%06llu", tm.tm_mon + 1, tm.tm_mday,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned long long)(ts % BF_SEC));
    hdr h;
    if (!p && !f)
        return;
    det_hdr_from(&h, p, f, dir);
    uint8_t proto = p && p->ipver ? p->proto : f->proto;
    bool ports = proto == 6 || proto == 17 || proto == 132;
    bf_addr_str(h.src, h.ipver, a1, sizeof a1);
    bf_addr_str(h.dst, h.ipver, a2, sizeof a2);
    char sps[16] = "", dps[16] = "";
    if (ports) {
        snprintf(sps, sizeof sps, ":%u", h.sp);
        snprintf(dps, sizeof dps, ":%u", h.dp);
    }
    pthread_mutex_lock(&g_fast_lock);
    fprintf(t->fast, "%s  %s[**] [%u:%u:%u] %s [**] [Classification: %s] [Priority: %d] {%s} %s%s -> %s%s\n",
            tsb, blocked ? "[Drop] " : "", s->gid, s->sid, s->rev, s->msg ? s->msg : "",
            s->class_desc ? s->class_desc : "(null)", s->prio,
            bf_eve_proto_name(proto, pb, sizeof pb), a1, sps, a2, dps);
    pthread_mutex_unlock(&g_fast_lock);
}

static bool is_reject(uint8_t a)
{
    return a == BF_ACT_REJECT || a == BF_ACT_REJECTDST || a == BF_ACT_REJECTBOTH;
}

/* Is a drop event wanted for this packet?  drop.flows all: every dropped
 * packet; start (default): the first of each flow direction. */
static bool drop_log_wanted(const bf_detect *d, const bf_packet *p, bf_flow *f)
{
    if (d->drop_log_all || !f)
        return true;
    uint32_t bit = p->dir ? BF_FLOW_F_DROP_LOGGED_TC : BF_FLOW_F_DROP_LOGGED_TS;
    if (f->flags & bit)
        return false;
    f->flags |= bit;
    return true;
}

/* `"verdict":{...}` of a packet: drop (IPS drop or reject), pass, alert;
 * rejects name their target and what is sent. */
static size_t verdict_json(char *b, size_t n, const bf_detect *d, uint8_t proto, int verdict,
                           const bf_sig *rej)
{
    const char *act = verdict == 1 ? "drop" : verdict == 2 ? "pass" : "alert";
    if (rej)
        act = d->ips ? "drop" : "alert";
    int k = snprintf(b, n, "\"verdict\":{\"action\":\"%s\"", act);
    if (rej) {
        const char *tgt = rej->action == BF_ACT_REJECTDST    ? "to_server"
                          : rej->action == BF_ACT_REJECTBOTH ? "both"
                                                             : "to_client";
        k += snprintf(b + k, n - (size_t)k, ",\"reject_target\":\"%s\",\"reject\":[%s]", tgt,
                      proto == 6 ? "\"tcp-reset\""
                      : (proto == 17 || proto == 1 || proto == 58) ? "\"icmp-prohib\""
                                                                   : "");
    }
    k += snprintf(b + k, n - (size_t)k, "}");
    return (size_t)k;
}

static void log_drop(bf_detect_thread *t, const bf_packet *p, bf_flow *f, const char *reason,
                     const bf_sig *s)
{
    bf_eve *e = t->eve;
    bf_json *j = &e->j;
    bf_eve_begin(e, "drop", p->ts, p, f);
    bf_json_open_obj(j, "drop");
    bf_json_uint(j, "len", p->l3_len);
    bf_json_uint(j, "tos", p->tos);
    bf_json_uint(j, "ttl", p->ttl);
    if (p->ipver == 4)
        bf_json_uint(j, "ipid", p->ip_id);
    if (p->proto == 6) {
        bf_json_uint(j, "tcpseq", p->tcp_seq);
        bf_json_uint(j, "tcpack", p->tcp_ack);
        bf_json_uint(j, "tcpwin", p->tcp_win);
        bf_json_bool(j, "syn", p->tcp_flags & BF_TH_SYN);
        bf_json_bool(j, "ack", p->tcp_flags & BF_TH_ACK);
        bf_json_bool(j, "psh", p->tcp_flags & BF_TH_PSH);
        bf_json_bool(j, "rst", p->tcp_flags & BF_TH_RST);
        bf_json_bool(j, "urg", p->tcp_flags & BF_TH_URG);
        bf_json_bool(j, "fin", p->tcp_flags & BF_TH_FIN);
        bf_json_uint(j, "tcpres", 0);
        bf_json_uint(j, "tcpurgp", p->tcp_urp);
    } else if (p->proto == 17) {
        bf_json_uint(j, "udplen", p->l4_len);
    }
    if (reason)
        bf_json_str(j, "reason", reason);
    bf_json_close_obj(j);
    if (s) { /* drop.alerts: the rule that dropped the packet */
        bf_json_open_obj(j, "alert");
        bf_json_str(j, "action", "blocked");
        bf_json_uint(j, "gid", s->gid);
        bf_json_uint(j, "signature_id", s->sid);
        bf_json_uint(j, "rev", s->rev);
        bf_json_str(j, "signature", s->msg ? s->msg : "");
        if (s->class_desc)
            bf_json_str(j, "category", s->class_desc);
        bf_json_int(j, "severity", s->prio);
        bf_json_close_obj(j);
    }
    bf_json_open_obj(j, "verdict");
    bf_json_str(j, "action", "drop");
    bf_json_close_obj(j);
    bf_eve_end(e);
}

/* A packet of a dropped flow (IPS): dropped without inspection. */
void det_drop_flow_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f)
{
    if (p->flags & BF_PKT_DROP)
        return;
    p->flags |= BF_PKT_DROP;
    t->st.drops++;
    if (drop_log_wanted(t->d, p, f))
        log_drop(t, p, f, "flow drop", NULL);
}

/* A packet dropped by an exception policy (IPS). */
void bf_detect_drop_packet(bf_detect_thread *t, bf_packet *p, bf_flow *f, const char *reason)
{
    if (!t || (p->flags & BF_PKT_DROP))
        return;
    if (t->nq && t->qpkt != p)
        det_flush(t);
    p->flags |= BF_PKT_DROP;
    t->st.drops++;
    if (drop_log_wanted(t->d, p, f))
        log_drop(t, p, f, reason, NULL);
}

static void put_alert(bf_detect_thread *t, const qalert *a, const char *vj, size_t vlen)
{
    size_t need = a->len + vlen + 4;
    if (need > t->vcap) {
        t->vcap = need * 2;
        t->vbuf = bf_realloc(t->vbuf, t->vcap);
    }
    memcpy(t->vbuf, t->qbuf + a->off, a->len);
    size_t n = a->len;
    t->vbuf[n++] = ',';
    memcpy(t->vbuf + n, vj, vlen);
    n += vlen;
    t->vbuf[n++] = '}';
    t->vbuf[n++] = '\n';
    bf_eve_put_line(t->eve, t->vbuf, n);
}

/* The verdict of the queued packet (or flow, for matches without a packet):
 * matches in rule order; the first drop (IPS) or pass decides, applied to
 * the flow when the rule's scope is the flow; a pass ends the list (later
 * matches are not logged).  Then the alert lines (capped), the drop event. */
void det_flush(bf_detect_thread *t)
{
    bf_detect *d = t->d;
    bf_packet *p = t->qpkt;
    bf_flow *f = t->qflow;
    if (t->nq > 1)
        qsort(t->q, t->nq, sizeof *t->q, qa_cmp);
    int verdict = 0; /* 1 drop, 2 pass */
    const bf_sig *drop_sig = NULL, *rej_sig = NULL;
    const char *drop_reason = "rules";
    uint32_t n = t->nq;
    for (uint32_t i = 0; i < t->nq; i++) {
        const qalert *a = &t->q[i];
        const bf_sig *s = d->sigs[a->sig];
        bool pass = a->action == BF_ACT_PASS;
        bool rej = is_reject(a->action);
        bool drop = (a->action == BF_ACT_DROP || rej) && d->ips;
        if (rej && !verdict && !rej_sig)
            rej_sig = s;
        if ((drop || pass) && !verdict) {
            verdict = drop ? 1 : 2;
            if (drop) {
                drop_sig = s;
                drop_reason = a->rate ? "threshold detection_filter" : "rules";
            }
            if (f && a->flow_scope)
                f->flags |= drop ? BF_FLOW_F_DROP : BF_FLOW_F_PASS;
        }
        if (pass) {
            n = i;
            break;
        }
    }
    if (n) {
        char vj[192];
        uint8_t proto = p && p->ipver ? p->proto : f ? f->proto : 0;
        size_t vlen = verdict_json(vj, sizeof vj, d, proto, verdict, rej_sig);
        uint32_t emitted = 0;
        for (uint32_t i = 0; i < n; i++) {
            const qalert *a = &t->q[i];
            if (!a->len)
                continue;
            if (emitted >= d->alert_max) {
                t->st.alert_queue_overflow++;
                continue;
            }
            emitted++;
            put_alert(t, a, vj, vlen);
            t->st.alerts++;
            if (f)
                f->flags |= BF_FLOW_F_ALERTED;
            if (t->fast)
                fast_line(t, d->sigs[a->sig], p, f, a->dir, a->blocked);
        }
    }
    if (verdict == 1 && p && !(p->flags & BF_PKT_DROP)) {
        p->flags |= BF_PKT_DROP;
        t->st.drops++;
        if (drop_log_wanted(d, p, f))
            log_drop(t, p, f, drop_reason, drop_sig);
    }
    t->nq = 0;
    t->qlen = 0;
    t->qpkt = NULL;
    t->qflow = NULL;
    t->pass1 = 0;
}

/* Does a pass / drop of s apply to the flow (Suricata's action scope)?
 * IP-only, stream, app-layer and transaction rules: the flow; packet rules:
 * the packet, but content rules on an established TCP session stand for
 * Suricata's stream-matched packet-stream rules: the flow. */
static bool flow_scope(const bf_detect_thread *t, const bf_sig *s, const bf_flow *f,
                       const bf_tx_view *v)
{
    if (!f)
        return false;
    if (v)
        return true;
    const sinfo *si = &t->d->si[s->idx];
    if (si->kind != K_PKT)
        return true;
    if (si->app != BF_APP_UNKNOWN) /* an app rule with packet keywords (dsize...): the packet */
        return s->npkw == 0;
    return s->nbufs && s->proto != BF_SP_TCP_PKT && f->proto == 6 && det_flow_established(f);
}

/* A rule matched: flow state actions, thresholds; queued for the verdict. */
void det_on_match(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f, int dir,
                  const bf_tx_view *v)
{
    bf_detect *d = t->d;
    t->st.matches++;
    det_fb_actions(t, s, f);
    det_fi_actions(t, s, f);
    bf_ts now = p ? p->ts : f ? f->last : 0;
    uint8_t action = s->action;
    bool rate = false;
    int thr = THR_ALERT;
    if (d->sthr) {
        /* threshold.c: suppress, threshold, detection_filter, rate_filter */
        thr = det_thr_eval(d, s, p, f, dir, now, &action, &rate);
        if (thr == THR_DROP_MATCH) {
            t->st.alerts_suppressed++;
            return;
        }
    }
    if (t->qpkt != p || t->qflow != f) {
        if (t->nq)
            det_flush(t);
        t->qpkt = p;
        t->qflow = f;
    }
    bool fs = flow_scope(t, s, f, v);
    if (action == BF_ACT_PASS) {
        t->st.pass++;
        if (!t->pass1 || s->idx + 1 < t->pass1)
            t->pass1 = s->idx + 1;
        queue_entry(t, s, action, rate, dir, false, fs, 0);
        return;
    }
    bool blocked = action != BF_ACT_ALERT && d->ips;
    if ((s->flags & BF_SIG_NOALERT) || thr == THR_SILENT) {
        t->st.alerts_suppressed++;
        if (action != BF_ACT_ALERT)
            queue_entry(t, s, action, rate, dir, blocked, fs, 0);
        return;
    }
    queue_alert(t, s, action, rate, p, f, dir, blocked, fs, v);
}
