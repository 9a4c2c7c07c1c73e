/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/alert.c: what a match does: flow state actions, thresholds, pass / drop /
 * reject / alert verdicts, and the per-packet alert queue written as EVE
 * `alert` and `drop` lines and fast.log lines.
 */
#include "detect/engine_int.h"
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

static void queue_alert(bf_detect_thread *t, const bf_sig *s, const bf_packet *p, bf_flow *f,
                        int dir, bool blocked, const bf_tx_view *v)
{
    bf_eve *e = t->eve;
    bf_json *j = &e->j;
    bf_ts ts = p ? p->ts : f ? f->last : 0;
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
    write_metadata(j, s);
    bf_json_close_obj(j);
    if (f) {
        const char *ap = bf_app_proto_name(f->app_proto);
        if (ap)
            bf_json_str(j, "app_proto", ap);
    }
    if (v && v->log_meta)
        v->log_meta(v->log_ud, j);
    if (v && v->log_files)
        v->log_files(v->log_ud, j);
    if (f) {
        bf_json_str(j, "direction", dir ? "to_client" : "to_server");
        bf_json_open_obj(j, "flow");
        bf_json_uint(j, "pkts_toserver", f->pkts[0]);
        bf_json_uint(j, "pkts_toclient", f->pkts[1]);
        bf_json_uint(j, "bytes_toserver", f->bytes[0]);
        bf_json_uint(j, "bytes_toclient", f->bytes[1]);
        char tsb[48];
        bf_json_strn(j, "start", tsb, bf_ts_format(f->start, tsb, sizeof tsb));
        bf_json_close_obj(j);
    }
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

static void log_drop(bf_detect_thread *t, const bf_packet *p, bf_flow *f, const char *reason)
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
    if (t->drop_pending && t->qpkt) {
        log_drop(t, t->qpkt, t->qflow, t->drop_reason);
        if (t->qflow)
            t->qflow->flags |= BF_FLOW_F_DROP_LOGGED;
    }
    t->nq = 0;
    t->qlen = 0;
    t->qpkt = NULL;
    t->qflow = NULL;
    t->drop_pending = false;
    t->drop_reason = NULL;
}

void det_drop_note(bf_detect_thread *t, const bf_packet *p, bf_flow *f, const char *reason)
{
    if (t->drop_pending || (!t->d->drop_log_all && f && (f->flags & BF_FLOW_F_DROP_LOGGED)))
        return;
    if (t->qpkt != p || t->qflow != f) {
        if (t->nq)
            det_flush(t);
        t->qpkt = p;
        t->qflow = f;
    }
    t->drop_pending = true;
    t->drop_reason = reason;
}

/* Does a drop by s apply to the whole flow?  As Suricata: IP-only rules,
 * matches in app-layer transactions or the stream, and app-layer rules
 * without packet keywords; a packet rule drops its packet only. */
static bool drop_flow_scope(const bf_detect *d, const bf_sig *s, const bf_tx_view *v)
{
    if (v)
        return true;
    uint8_t kind = d->si[s->idx].kind;
    if (kind != K_PKT)
        return true;
    return s->proto == BF_SP_APP && !s->npkw && !s->nbufs;
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
    uint8_t action = s->action;
    bool rate_modified = false;
    int thr = THR_ALERT;
    if (d->sthr) {
        /* threshold.c: suppress, threshold, detection_filter, rate_filter */
        thr = det_thr_eval(d, s, p, f, dir, now, &action, &rate_modified);
        if (thr == THR_DROP_MATCH) {
            t->st.alerts_suppressed++;
            return;
        }
    }
    if (action == BF_ACT_PASS) {
        t->pass_now = true;
        t->st.pass++;
        if (f)
            f->flags |= BF_FLOW_F_PASS;
        return;
    }
    bool blocked = false;
    if (action != BF_ACT_ALERT && d->ips) {
        blocked = true;
        if (p) {
            if (!(p->flags & BF_PKT_DROP)) {
                t->st.drops++;
                det_drop_note(t, p, f, rate_modified ? "threshold detection_filter" : "rules");
            }
            p->flags |= BF_PKT_DROP;
        }
        if (f && drop_flow_scope(d, s, v))
            f->flags |= BF_FLOW_F_DROP;
    }
    if ((s->flags & BF_SIG_NOALERT) || thr == THR_SILENT) {
        t->st.alerts_suppressed++;
        return;
    }
    if (t->qpkt != p || t->qflow != f) {
        if (t->nq || t->drop_pending)
            det_flush(t);    /* they belong to the previous packet */
        t->qpkt = p;
        t->qflow = f;
    }
    if (f)
        f->flags |= BF_FLOW_F_ALERTED;
    queue_alert(t, s, p, f, dir, blocked, v);
}

