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

static void queue_alert(bf_detect_thread *t, const bf_sig *s, const bf_packet *p, bf_flow *f,
                        int dir, bool blocked, const bf_tx_view *v)
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
    if (t->nq == t->capq) {
        t->capq = t->capq ? t->capq * 2 : 16;
        t->q = bf_realloc(t->q, t->capq * sizeof *t->q);
    }
    t->q[t->nq++] = (qalert){s->idx, (uint32_t)t->qlen, (uint32_t)len, (uint8_t)dir, blocked};
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

static void log_drop(bf_detect_thread *t, const bf_packet *p, bf_flow *f)
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
    bf_json_close_obj(j);
    bf_eve_end(e);
}

/* Writes the queued alerts (ordered, capped) of the current packet. */
void det_flush(bf_detect_thread *t)
{
    if (t->nq) {
        if (t->nq > 1)
            qsort(t->q, t->nq, sizeof *t->q, qa_cmp);
        uint32_t n = t->nq;
        if (n > t->d->alert_max) {
            t->st.alert_queue_overflow += n - t->d->alert_max;
            n = t->d->alert_max;
        }
        for (uint32_t i = 0; i < n; i++) {
            const qalert *a = &t->q[i];
            bf_eve_put_line(t->eve, t->qbuf + a->off, a->len);
            t->st.alerts++;
            if (t->fast)
                fast_line(t, t->d->sigs[a->sig], t->qpkt, t->qflow, a->dir, a->blocked);
        }
    }
    if (t->drop_pending && t->qpkt)
        log_drop(t, t->qpkt, t->qflow);
    t->nq = 0;
    t->qlen = 0;
    t->qpkt = NULL;
    t->qflow = NULL;
    t->drop_pending = false;
}

/* A rule matched: flow state actions, thresholds, action, alert. */
void det_on_match(bf_detect_thread *t, const bf_sig *s, bf_packet *p, bf_flow *f, int dir,
                     const bf_tx_view *v)
{
    bf_detect *d = t->d;
    t->st.matches++;
    det_fb_actions(t, s, f);
    det_fi_actions(t, s, f);
    bf_ts now = p ? p->ts : f ? f->last : 0;
    if (s->dfilter.type != BF_THR_NONE &&
        !det_thr_check(d, s, &s->dfilter, 1, p, f, dir, now)) {
        t->st.alerts_suppressed++;
        return;
    }
    if (s->action == BF_ACT_PASS) {
        t->pass_now = true;
        t->st.pass++;
        if (f)
            f->flags |= BF_FLOW_F_PASS;
        return;
    }
    bool blocked = false;
    if (s->action != BF_ACT_ALERT && d->ips) {
        blocked = true;
        if (p) {
            if (!(p->flags & BF_PKT_DROP)) {
                t->st.drops++;
                t->drop_pending = !f || !(f->flags & BF_FLOW_F_DROP);
            }
            p->flags |= BF_PKT_DROP;
        }
        if (f)
            f->flags |= BF_FLOW_F_DROP;
    }
    if ((s->flags & BF_SIG_NOALERT) ||
        (s->thr.type != BF_THR_NONE && !det_thr_check(d, s, &s->thr, 0, p, f, dir, now))) {
        t->st.alerts_suppressed++;
        return;
    }
    if (t->qpkt != p || t->qflow != f) {
        if (t->nq || t->drop_pending) {
            bool dp = t->drop_pending;
            t->drop_pending = false;
            det_flush(t);
            t->drop_pending = dp;
        }
        t->qpkt = p;
        t->qflow = f;
    }
    if (f)
        f->flags |= BF_FLOW_F_ALERTED;
    queue_alert(t, s, p, f, dir, blocked, v);
}

