/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/http/http.c: the HTTP/1.x analyzer on libhtp 0.5 (see http.h).
 *
 * libhtp drives everything through hooks registered once on a shared,
 * read-only configuration; the hooks find the flow's state through the
 * connection parser's user data, and the packet being parsed through that
 * state (set around every libhtp call).  Transactions are destroyed by us,
 * between libhtp calls, once both halves are complete and the parser no
 * longer points at them (libhtp's own auto-destroy can free a transaction
 * the response parser still holds when a CONNECT is refused).
 */
#include "output/events.h"
#include "app/http/http.h"
#include "app/bus.h"
#include "app/tx.h"
#include "common/log.h"

#include <htp/htp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>

/* ---- limits and memory estimates --------------------------------------- */

#define FIELD_SOFT 9000u           /* libhtp line/header field limits */
#define FIELD_HARD 18000u
#define MAX_HEADERS 256u           /* per request / response */
#define PEND_MAX (64u * 1024)      /* bytes held while one side waits (CONNECT) */
#define MAX_MESSAGES 512u          /* libhtp log entries per flow before giving up */
#define MAX_ANOMALIES 64u          /* anomaly events per flow */
#define FILENAME_MAX_LEN 1024u

#define MEM_CONNP 6144             /* connp + conn + lists + line buffers (rough) */
#define MEM_TX 1024                /* a libhtp tx with its tables, plus ours */
#define MEM_TX_SLOT 16             /* the tx list slot libhtp keeps per tx */
#define MEM_MSG 192                /* one libhtp log entry */
#define MEM_SHA 512                /* one EVP_MD_CTX */
#define MEM_DECOMP (48 * 1024)     /* zlib inflate state + window */
#define RAW_HDR_MAX (64u * 1024)   /* raw header block kept per direction (views) */
#define BODY_LIMIT_DEF (100u * 1024)

/* ---- process-wide configuration ---------------------------------------- */

static bf_http_cfg g_cfg = {.log_headers = false,
                            .fileinfo = true,
                            .sha256 = true,
                            .max_tx = 256,
                            .req_body_limit = BODY_LIMIT_DEF,
                            .resp_body_limit = BODY_LIMIT_DEF,
                            .decomp_layers = 2};
static htp_cfg_t *g_htp;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void bf_http_cfg_default(bf_http_cfg *c)
{
    c->log_headers = false;
    c->fileinfo = true;
    c->sha256 = true;
    c->max_tx = 256;
    c->req_body_limit = BODY_LIMIT_DEF;
    c->resp_body_limit = BODY_LIMIT_DEF;
    c->decomp_layers = 2;
}

#define SURI_HTP "app-layer.protocols.http.libhtp.default-config."

void bf_http_cfg_load(bf_http_cfg *c, bf_config *cfg)
{
    c->log_headers = bf_config_bool(cfg, "app.http.log-headers", c->log_headers);
    c->fileinfo = bf_config_bool(cfg, "app.http.fileinfo", c->fileinfo);
    c->sha256 = bf_config_bool(cfg, "app.http.sha256", c->sha256);
    c->max_tx = (uint32_t)bf_config_uint(cfg, "app.http.max-tx", c->max_tx, 65536);
    if (c->max_tx == 0)
        c->max_tx = 1;
    uint64_t v = bf_config_size(cfg, SURI_HTP "request-body-limit", c->req_body_limit);
    v = bf_config_size(cfg, "app.http.request-body-limit", v);
    c->req_body_limit = (uint32_t)BF_MIN(v, (uint64_t)UINT32_MAX / 2);
    v = bf_config_size(cfg, SURI_HTP "response-body-limit", c->resp_body_limit);
    v = bf_config_size(cfg, "app.http.response-body-limit", v);
    c->resp_body_limit = (uint32_t)BF_MIN(v, (uint64_t)UINT32_MAX / 2);
    v = bf_config_uint(cfg, SURI_HTP "response-body-decompress-layer-limit", c->decomp_layers, 64);
    v = bf_config_uint(cfg, "app.http.response-body-decompress-layer-limit", v, 64);
    c->decomp_layers = (uint32_t)v;
}

void bf_http_configure(const bf_http_cfg *c) { g_cfg = *c; }

/* ---- per-flow and per-transaction state -------------------------------- */

typedef struct body {
    EVP_MD_CTX *sha;
    uint64_t size;
    bool open;       /* first byte seen, not yet logged */
    bool gap;
} body;

/* A growable byte buffer whose capacity is accounted to the transaction. */
typedef struct sbuf {
    uint8_t *p;
    uint32_t len, cap;
} sbuf;

/* What a transaction keeps for the signature engine's views (only while
 * BF_BUS_TX has a subscriber); freed after the transaction's last view. */
typedef struct txview {
    sbuf body[2];               /* decoded bodies, up to the body limits */
    bool body_full[2];          /* the limit was reached */
    bool file_seen[2];          /* a fileinfo file was opened that way */
    sbuf raw[2];                /* raw header blocks (with trailers) */
    /* built on first use; rebuilt only if the header count changed */
    sbuf hdr[2], names[2], start[2];
    uint32_t built_n[2];        /* header count + 1 when built, 0: not built */
    sbuf uri, host;             /* normalized URI, lowercase host (copies
                                 * only when they differ from libhtp's) */
    bool uri_built, host_built;
} txview;

typedef struct txd {
    bf_ts ts_req_start, ts_req_hdr, ts_req_done, ts_res_start, ts_res_done;
    bool req_published, res_published, logged;
    body b[2];                  /* 0: request body, 1: response body */
    uint64_t ev_mask;           /* anomalies already raised for this tx */
    int64_t mem;                /* bytes accounted for this tx */
    bool decomp;                /* MEM_DECOMP accounted */
    bool req_cut;               /* request only "completed" by the flow's end */
    bool mem_hdr;               /* request header bytes accounted */
    txview *v;                  /* NULL until the first view needs it */
    bool view_final;            /* the view with both sides done was shown */
    /* progress as the hooks saw it (libhtp updates its own after them) */
    bool hdr_done[2], msg_done[2];
} txd;

enum stop_reason { STOP_NONE = 0, STOP_GAP, STOP_ERROR, STOP_TUNNEL, STOP_LIMIT, STOP_END };

typedef struct http_state {
    htp_connp_t *connp;
    /* call context, valid during a parse/flow_end call */
    bf_app_ctx *ctx;
    bf_flow *f;
    bf_packet *p;
    bf_ts ts;
    int dir;
    /* data one direction could not hand over yet (libhtp said DATA_OTHER) */
    uint8_t *pend[2];
    uint32_t plen[2];
    int64_t mem;                /* bytes accounted against the flow memcap */
    uint32_t live_tx;           /* txd alive */
    uint32_t nslots;            /* txs libhtp keeps a list slot for */
    size_t reap_from;           /* txs below this index are destroyed */
    bool closing;               /* inside htp_connp_close at flow end */
    uint32_t nmsg, nanom;
    uint8_t stopped;            /* enum stop_reason */
    bool gap_seen;
} http_state;

static void mem_add(http_state *s, int64_t d)
{
    if (!d)
        return;
    s->mem += d;
    if (s->f)
        s->f->app_mem = (uint32_t)((int64_t)s->f->app_mem + d);
    if (s->ctx && s->ctx->ft)
        bf_flow_mem_adjust(s->ctx->ft, d);
}

static http_state *state_of(const htp_tx_t *tx)
{
    return tx && tx->connp ? htp_connp_get_user_data(tx->connp) : NULL;
}

static txd *txd_get(http_state *s, htp_tx_t *tx)
{
    txd *d = htp_tx_get_user_data(tx);
    if (d || !s)
        return d;
    d = bf_calloc(1, sizeof *d);
    d->mem = MEM_TX + MEM_TX_SLOT;
    mem_add(s, d->mem);
    s->live_tx++;
    s->nslots++;
    htp_tx_set_user_data(tx, d);
    return d;
}

static void body_free(http_state *s, body *b)
{
    if (b->sha) {
        EVP_MD_CTX_free(b->sha);
        b->sha = NULL;
        mem_add(s, -MEM_SHA);
    }
}

static void sb_free(http_state *s, txd *d, sbuf *b)
{
    if (b->p) {
        free(b->p);
        mem_add(s, -(int64_t)b->cap);
        d->mem -= b->cap;
    }
    memset(b, 0, sizeof *b);
}

/* Makes room for `need` more bytes; false if allocation is refused. */
static bool sb_reserve(http_state *s, txd *d, sbuf *b, uint32_t need)
{
    if (need <= b->cap - b->len)
        return true;
    uint64_t want = (uint64_t)b->len + need;
    uint64_t cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    if (cap > UINT32_MAX)
        return false;
    b->p = bf_realloc(b->p, (size_t)cap);
    mem_add(s, (int64_t)(cap - b->cap));
    d->mem += (int64_t)(cap - b->cap);
    b->cap = (uint32_t)cap;
    return true;
}

static void sb_add(http_state *s, txd *d, sbuf *b, const void *p, size_t n)
{
    if (n && n <= UINT32_MAX && sb_reserve(s, d, b, (uint32_t)n)) {
        memcpy(b->p + b->len, p, n);
        b->len += (uint32_t)n;
    }
}

static void txview_free(http_state *s, txd *d)
{
    txview *v = d->v;
    if (!v)
        return;
    for (int i = 0; i < 2; i++) {
        sb_free(s, d, &v->body[i]);
        sb_free(s, d, &v->raw[i]);
        sb_free(s, d, &v->hdr[i]);
        sb_free(s, d, &v->names[i]);
        sb_free(s, d, &v->start[i]);
    }
    sb_free(s, d, &v->uri);
    sb_free(s, d, &v->host);
    free(v);
    d->v = NULL;
    mem_add(s, -(int64_t)sizeof *v);
    d->mem -= (int64_t)sizeof *v;
}

static void txd_free(http_state *s, htp_tx_t *tx)
{
    txd *d = htp_tx_get_user_data(tx);
    if (!d)
        return;
    txview_free(s, d);
    body_free(s, &d->b[0]);
    body_free(s, &d->b[1]);
    /* the list slot stays with libhtp until the flow ends */
    mem_add(s, -(d->mem - MEM_TX_SLOT));
    s->live_tx--;
    free(d);
    htp_tx_set_user_data(tx, NULL);
}

/* ---- helpers over libhtp data ------------------------------------------ */

static bf_http_str bs(const bstr *b)
{
    bf_http_str r = {NULL, 0};
    if (b) {
        r.ptr = bstr_ptr(b);
        r.len = (uint32_t)BF_MIN(bstr_len(b), (size_t)UINT32_MAX);
    }
    return r;
}

static bf_http_str hdr(const htp_table_t *t, const char *name)
{
    const htp_header_t *h = t ? htp_table_get_c(t, name) : NULL;
    return h ? bs(h->value) : (bf_http_str){NULL, 0};
}

static const uint8_t *view_req_header(const void *ud, const char *name, uint32_t *len)
{
    const htp_tx_t *tx = ud;
    bf_http_str v = hdr(tx->request_headers, name);
    *len = v.len;
    return v.ptr;
}

/* Media type only: "text/html; charset=utf-8" -> "text/html". */
static bf_http_str media_type(bf_http_str v)
{
    if (v.ptr) {
        const uint8_t *semi = memchr(v.ptr, ';', v.len);
        if (semi)
            v.len = (uint32_t)(semi - v.ptr);
    }
    return v;
}

static void jstr(bf_json *j, const char *key, bf_http_str v)
{
    if (v.ptr)
        bf_json_strn(j, key, v.ptr, v.len);
}

static htp_time_t tv_of(bf_ts ts)
{
    htp_time_t t = {.tv_sec = (time_t)(ts / BF_SEC), .tv_usec = (suseconds_t)(ts % BF_SEC)};
    return t;
}

static bool ascii_ieq(const uint8_t *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != (uint8_t)b[i])
            return false;
    }
    return true;
}

/* filename= (or filename*=charset''name) of a Content-Disposition value. */
static bf_http_str cd_filename(bf_http_str v)
{
    bf_http_str r = {NULL, 0};
    if (!v.ptr)
        return r;
    const uint8_t *p = v.ptr, *end = v.ptr + v.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        const uint8_t *name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        size_t nlen = (size_t)(p - name);
        while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
            nlen--;
        if (p >= end || *p == ';')
            continue;
        p++; /* '=' */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const uint8_t *val = p;
        size_t vlen;
        if (p < end && *p == '"') {
            val = ++p;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            vlen = (size_t)(p - val);
            if (p < end)
                p++;
        } else {
            while (p < end && *p != ';')
                p++;
            vlen = (size_t)(p - val);
            while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
                vlen--;
        }
        if (nlen == 8 && ascii_ieq(name, "filename", 8)) {
            r.ptr = val;
            r.len = (uint32_t)vlen;
            return r; /* plain filename wins */
        }
        if (nlen == 9 && ascii_ieq(name, "filename*", 9) && !r.ptr) {
            /* charset'lang'name: keep the name part */
            const uint8_t *q = memchr(val, '\'', vlen);
            const uint8_t *q2 = q ? memchr(q + 1, '\'', (size_t)(val + vlen - q - 1)) : NULL;
            if (q2) {
                r.ptr = q2 + 1;
                r.len = (uint32_t)(val + vlen - q2 - 1);
            }
        }
    }
    return r;
}

/* Suricata names an HTTP file after Content-Disposition's filename, else
 * after the (normalized) URI path. */
static bf_http_str file_name(htp_tx_t *tx, int which)
{
    bf_http_str n = cd_filename(hdr(which ? tx->response_headers : tx->request_headers,
                                    "content-disposition"));
    if (!n.ptr || !n.len) {
        if (tx->parsed_uri && tx->parsed_uri->path)
            n = bs(tx->parsed_uri->path);
        else if (tx->request_uri)
            n = bs(tx->request_uri);
    }
    if (n.len > FILENAME_MAX_LEN)
        n.len = FILENAME_MAX_LEN;
    return n;
}

/* ---- bus payload ------------------------------------------------------- */

static void fill_tx(http_state *s, htp_tx_t *tx, const txd *d, bf_http_tx *o)
{
    memset(o, 0, sizeof *o);
    o->tx_id = tx->index;
    o->method = bs(tx->request_method);
    o->uri = bs(tx->request_uri);
    o->protocol = bs(tx->request_protocol);
    o->host = bs(tx->request_hostname);
    o->host_port = tx->request_port_number > 0 ? tx->request_port_number : -1;
    o->user_agent = hdr(tx->request_headers, "user-agent");
    o->referer = hdr(tx->request_headers, "referer");
    o->req_content_type = media_type(hdr(tx->request_headers, "content-type"));
    o->resp_content_type = media_type(hdr(tx->response_headers, "content-type"));
    o->location = hdr(tx->response_headers, "location");
    o->status = tx->response_status_number > 0 ? tx->response_status_number : 0;
    o->req_header_count = (uint32_t)htp_table_size(tx->request_headers);
    o->resp_header_count = (uint32_t)htp_table_size(tx->response_headers);
    o->req_body_len = d ? d->b[0].size : 0;
    o->resp_body_len = d ? d->b[1].size : 0;
    if (tx->response_message_len > 0)
        o->resp_message_len = (uint64_t)tx->response_message_len;
    o->req_headers_complete = d ? d->ts_req_hdr != 0 : tx->request_progress > HTP_REQUEST_HEADERS;
    o->req_complete = d ? d->ts_req_done != 0 : tx->request_progress == HTP_REQUEST_COMPLETE;
    o->resp_headers_complete = tx->response_progress > HTP_RESPONSE_HEADERS;
    o->resp_complete = tx->response_progress == HTP_RESPONSE_COMPLETE;
    if ((s->stopped || s->closing) && (!o->req_complete || !o->resp_complete))
        o->flags |= BF_HTTP_TX_TRUNCATED;
    if (s->stopped == STOP_TUNNEL)
        o->flags |= BF_HTTP_TX_TUNNEL;
    if (d && (d->b[0].gap || d->b[1].gap))
        o->flags |= BF_HTTP_TX_GAP;
    if (tx->seen_100continue)
        o->flags |= BF_HTTP_TX_100_CONTINUE;
    if (d) {
        o->req_start = d->ts_req_start;
        o->req_headers_done = d->ts_req_hdr;
        o->req_done = d->ts_req_done;
        o->resp_start = d->ts_res_start;
        o->resp_done = d->ts_res_done;
    }
}

static void publish(http_state *s, htp_tx_t *tx, txd *d, enum bf_bus_type t)
{
    if (!s->ctx || !s->ctx->bus)
        return;
    if (t == BF_BUS_HTTP_REQUEST) {
        if (d->req_published)
            return;
        d->req_published = true;
    } else {
        if (d->res_published)
            return;
        d->res_published = true;
    }
    if (!bf_bus_wanted(s->ctx->bus, t)) {
        s->ctx->bus->published[t]++;
        return;
    }
    bf_http_tx o;
    fill_tx(s, tx, d, &o);
    bf_bus_publish(s->ctx->bus, t, s->f, s->p, &o);
}

/* ---- EVE --------------------------------------------------------------- */

static bf_ts ev_ts(const http_state *s) { return s->p ? s->p->ts : s->ts; }

static void json_headers(bf_json *j, const char *key, const htp_table_t *t)
{
    size_t n = t ? htp_table_size(t) : 0;
    if (!n)
        return;
    bf_json_open_arr(j, key);
    for (size_t i = 0; i < n; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (!h || !h->name)
            continue;
        bf_json_open_obj(j, NULL);
        bf_json_strn(j, "name", bstr_ptr(h->name), bstr_len(h->name));
        if (h->value)
            bf_json_strn(j, "value", bstr_ptr(h->value), bstr_len(h->value));
        else
            bf_json_str(j, "value", "");
        bf_json_close_obj(j);
    }
    bf_json_close_arr(j);
}

/* The "http" object, as Suricata's EVE writes it. */
static void json_http(bf_json *j, htp_tx_t *tx, bool headers)
{
    bf_json_open_obj(j, "http");
    jstr(j, "hostname", bs(tx->request_hostname));
    if (tx->request_port_number > 0)
        bf_json_int(j, "http_port", tx->request_port_number);
    jstr(j, "url", bs(tx->request_uri));
    jstr(j, "http_user_agent", hdr(tx->request_headers, "user-agent"));
    jstr(j, "http_content_type", media_type(hdr(tx->response_headers, "content-type")));
    jstr(j, "http_refer", hdr(tx->request_headers, "referer"));
    jstr(j, "http_method", bs(tx->request_method));
    jstr(j, "protocol", bs(tx->request_protocol));
    if (tx->response_status_number > 0)
        bf_json_int(j, "status", tx->response_status_number);
    else if (tx->response_status)
        jstr(j, "status_string", bs(tx->response_status));
    jstr(j, "redirect", hdr(tx->response_headers, "location"));
    bf_json_uint(j, "length", tx->response_message_len > 0 ? (uint64_t)tx->response_message_len : 0);
    if (headers) {
        json_headers(j, "request_headers", tx->request_headers);
        json_headers(j, "response_headers", tx->response_headers);
    }
    bf_json_close_obj(j);
}

static void log_http(http_state *s, htp_tx_t *tx, txd *d)
{
    if (d->logged)
        return;
    d->logged = true;
    if (!s->ctx || !s->ctx->eve || (!tx->request_method && !tx->response_status))
        return; /* nothing worth a line: neither a request nor a response line */
    bf_eve *e = s->ctx->eve;
    bf_eve_begin_flow(e, "http", ev_ts(s), s->p, s->f);
    bf_json_uint(&e->j, "tx_id", tx->index);
    json_http(&e->j, tx, g_cfg.log_headers);
    bf_eve_end(e);
}

/* Logs a body's fileinfo and forgets it.  closed: the body ended normally. */
static void log_file(http_state *s, htp_tx_t *tx, txd *d, int which, bool closed)
{
    body *b = &d->b[which];
    if (!b->open)
        return;
    b->open = false;
    if (b->gap)
        closed = false;
    if (g_cfg.fileinfo && s->ctx && s->ctx->eve) {
        bf_eve *e = s->ctx->eve;
        bf_json *j = &e->j;
        /* oriented as the body travels, as Suricata: a response file goes
         * server -> client, whichever packet (or none) closed it */
        const bf_packet *pp = s->p;
        bf_packet tmp;
        if (s->f && (!pp || !pp->ipver || (pp->dir & 1) != which)) {
            memset(&tmp, 0, sizeof tmp);
            tmp.ipver = s->f->ipver;
            tmp.proto = s->f->proto;
            tmp.src = s->f->addr[which];
            tmp.dst = s->f->addr[which ^ 1];
            tmp.sp = s->f->port[which];
            tmp.dp = s->f->port[which ^ 1];
            tmp.pcap_cnt = pp ? pp->pcap_cnt : 0;
            tmp.dir = (uint8_t)which;
            pp = &tmp;
        }
        bf_eve_begin(e, "fileinfo", ev_ts(s), pp, s->f);
        json_http(j, tx, false);
        bf_json_str(j, "app_proto", "http");
        bf_json_open_obj(j, "fileinfo");
        bf_http_str n = file_name(tx, which);
        bf_json_strn(j, "filename", n.ptr ? n.ptr : (const uint8_t *)"", n.ptr ? n.len : 0);
        bf_json_bool(j, "gaps", b->gap);
        bf_json_str(j, "state", closed ? "CLOSED" : "TRUNCATED");
        if (closed && b->sha) {
            uint8_t md[EVP_MAX_MD_SIZE];
            unsigned int mdlen = 0;
            if (EVP_DigestFinal_ex(b->sha, md, &mdlen) == 1)
                bf_json_hex(j, "sha256", md, mdlen);
        }
        bf_json_bool(j, "stored", false);
        bf_json_uint(j, "size", b->size);
        bf_json_uint(j, "tx_id", tx->index);
        bf_json_close_obj(j);
        bf_eve_end(e);
    }
    body_free(s, b);
}

/* ---- signature-engine views (BF_BUS_TX) --------------------------------- */

static bool tx_wanted(const http_state *s)
{
    return s->ctx && s->ctx->bus && bf_bus_wanted(s->ctx->bus, BF_BUS_TX);
}

static txview *view_of(http_state *s, txd *d)
{
    if (!d->v) {
        d->v = bf_calloc(1, sizeof *d->v);
        mem_add(s, (int64_t)sizeof *d->v);
        d->mem += (int64_t)sizeof *d->v;
    }
    return d->v;
}

/* Keeps decoded body bytes for the views, up to the direction's limit. */
static void view_body(http_state *s, htp_tx_t *tx, int which, const uint8_t *data, size_t len)
{
    if (!data || !len || !tx_wanted(s))
        return;
    txd *d = txd_get(s, tx);
    if (!d || d->view_final)
        return;
    txview *v = view_of(s, d);
    uint32_t limit = which ? g_cfg.resp_body_limit : g_cfg.req_body_limit;
    sbuf *b = &v->body[which];
    if (v->body_full[which])
        return;
    if (len >= (size_t)(limit - b->len)) {
        len = limit - b->len;
        v->body_full[which] = true;
    }
    sb_add(s, d, b, data, len);
}

/* Raw header (and trailer) blocks, as libhtp hands them over. */
static void view_raw_hdr(htp_tx_data_t *dd, int which)
{
    if (!dd || !dd->tx || !dd->data || !dd->len)
        return;
    http_state *s = state_of(dd->tx);
    if (!s || !tx_wanted(s))
        return;
    txd *d = txd_get(s, dd->tx);
    if (!d || d->view_final)
        return;
    sbuf *b = &view_of(s, d)->raw[which];
    size_t n = BF_MIN(dd->len, (size_t)(RAW_HDR_MAX - BF_MIN(b->len, RAW_HDR_MAX)));
    sb_add(s, d, b, dd->data, n);
}

static int cb_req_hdr_data(htp_tx_data_t *dd)
{
    view_raw_hdr(dd, 0);
    return HTP_OK;
}

static int cb_res_hdr_data(htp_tx_data_t *dd)
{
    view_raw_hdr(dd, 1);
    return HTP_OK;
}

static bool name_is(const htp_header_t *h, const char *lc, size_t n)
{
    return h->name && bstr_len(h->name) == n && ascii_ieq(bstr_ptr(h->name), lc, n);
}

/* http.header ("Name: value\r\n" per header but Cookie / Set-Cookie, no
 * final empty line), http.header_names ("\r\nName\r\n...\r\n") and
 * http.start (line "\r\n", every header, "\r\n") of one direction, as
 * Suricata builds them.  Built once; rebuilt only if trailers added headers. */
static void build_hdrs(http_state *s, txd *d, htp_tx_t *tx, int dir)
{
    txview *v = d->v;
    const htp_table_t *t = dir ? tx->response_headers : tx->request_headers;
    size_t n = t ? htp_table_size(t) : 0;
    if (v->built_n[dir] == n + 1)
        return;
    v->built_n[dir] = (uint32_t)n + 1;
    sbuf *hb = &v->hdr[dir], *nb = &v->names[dir], *sb = &v->start[dir];
    hb->len = nb->len = sb->len = 0;
    const bstr *line = dir ? tx->response_line : tx->request_line;
    if (line) {
        sb_add(s, d, sb, bstr_ptr(line), bstr_len(line));
        sb_add(s, d, sb, "\r\n", 2);
    }
    if (n)
        sb_add(s, d, nb, "\r\n", 2);
    for (size_t i = 0; i < n; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (!h || !h->name)
            continue;
        const uint8_t *np = bstr_ptr(h->name), *vp = h->value ? bstr_ptr(h->value) : NULL;
        size_t nl = bstr_len(h->name), vl = h->value ? bstr_len(h->value) : 0;
        sb_add(s, d, nb, np, nl);
        sb_add(s, d, nb, "\r\n", 2);
        for (int k = 0; k < 2; k++) {
            sbuf *o = k ? sb : hb;
            if (!k && (dir ? name_is(h, "set-cookie", 10) : name_is(h, "cookie", 6)))
                continue;
            if (k && !line)
                continue;
            sb_add(s, d, o, np, nl);
            sb_add(s, d, o, ": ", 2);
            sb_add(s, d, o, vp, vl);
            sb_add(s, d, o, "\r\n", 2);
        }
    }
    if (n)
        sb_add(s, d, nb, "\r\n", 2);
    if (line)
        sb_add(s, d, sb, "\r\n", 2);
}

/* Suricata's normalized URI: libhtp's normalized path, '?' and the query
 * URL-decoded, '#' and the fragment.  Copied only when there is a query or
 * a fragment (else the path is shown in place). */
static void build_uri(http_state *s, txd *d, htp_tx_t *tx)
{
    txview *v = d->v;
    if (v->uri_built)
        return;
    v->uri_built = true;
    const htp_uri_t *u = tx->parsed_uri;
    if (!u || (!u->query && !u->fragment))
        return;
    if (u->path)
        sb_add(s, d, &v->uri, bstr_ptr(u->path), bstr_len(u->path));
    if (u->query) {
        bstr *q = bstr_dup(u->query);
        if (q) {
            uint64_t flags = 0;
            htp_urldecode_inplace(tx->cfg, HTP_DECODER_URLENCODED, q, &flags);
            sb_add(s, d, &v->uri, "?", 1);
            sb_add(s, d, &v->uri, bstr_ptr(q), bstr_len(q));
            bstr_free(q);
        }
    }
    if (u->fragment) {
        sb_add(s, d, &v->uri, "#", 1);
        sb_add(s, d, &v->uri, bstr_ptr(u->fragment), bstr_len(u->fragment));
    }
}

/* libhtp keeps the host's case: lowercase copy only when needed. */
static bf_http_str view_host(http_state *s, txd *d, htp_tx_t *tx)
{
    txview *v = d->v;
    bf_http_str h = bs(tx->request_hostname);
    if (!h.ptr)
        return h;
    /* "CONNECT /" without a Host header: libhtp takes the path for the
     * authority; no host name holds a '/', so there is no http.host */
    if (memchr(h.ptr, '/', h.len)) {
        h.ptr = NULL;
        h.len = 0;
        return h;
    }
    if (!v->host_built) {
        v->host_built = true;
        bool upper = false;
        for (uint32_t i = 0; i < h.len && !upper; i++)
            upper = h.ptr[i] >= 'A' && h.ptr[i] <= 'Z';
        if (upper) {
            sb_add(s, d, &v->host, h.ptr, h.len);
            for (uint32_t i = 0; i < v->host.len; i++)
                if (v->host.p[i] >= 'A' && v->host.p[i] <= 'Z')
                    v->host.p[i] = (uint8_t)(v->host.p[i] + 32);
        }
    }
    if (v->host.len == h.len && v->host.p)
        h.ptr = v->host.p;
    return h;
}

static void json_http(bf_json *j, htp_tx_t *tx, bool headers);

static void view_log_meta(const void *ud, bf_json *j)
{
    json_http(j, (htp_tx_t *)(uintptr_t)ud, g_cfg.log_headers);
}

static void vset(bf_tx_view *vw, bf_dbuf *slot, enum bf_dbuf_id id, bf_http_str v)
{
    if (v.ptr)
        bf_tx_set(vw, id, &slot[id], v.ptr, v.len);
}

static void vset_sb(bf_tx_view *vw, bf_dbuf *slot, enum bf_dbuf_id id, const sbuf *b)
{
    if (b->len)
        bf_tx_set(vw, id, &slot[id], b->p, b->len);
}

/* Shows the transaction to the signature engine: every buffer available so
 * far (request-side ones in every view; direction-dependent ones of `dir`).
 * final: the flow ends (or parsing stopped) with the tx unfinished.  The
 * view with both sides done is the last: what it kept is freed then. */
static void publish_view(http_state *s, htp_tx_t *tx, txd *d, int dir, bool final)
{
    if (!d || d->view_final || !tx_wanted(s))
        return;
    txview *v = view_of(s, d);
    bool req_done = final || d->msg_done[0];
    bool res_done = final || d->msg_done[1];
    bool req_hdr = final || d->hdr_done[0] || req_done;
    bool res_hdr = final || d->hdr_done[1] || res_done;
    bf_tx_view vw;
    bf_dbuf slot[BF_DBUF_MAX];
    memset(&vw, 0, sizeof vw);
    vw.app_proto = BF_APP_HTTP;
    vw.dir = (uint8_t)(dir & 1);
    vw.done[0] = req_done;
    vw.done[1] = res_done;
    vw.body_final[0] = req_done || v->body_full[0];
    vw.body_final[1] = res_done || v->body_full[1];
    vw.tx_id = tx->index;
    vw.log_meta = view_log_meta;
    vw.log_ud = tx;
    vw.req_header = view_req_header;

    /* request side */
    build_uri(s, d, tx);
    if (v->uri.len)
        vset_sb(&vw, slot, BF_DBUF_HTTP_URI, &v->uri);
    else if (tx->parsed_uri && tx->parsed_uri->path)
        vset(&vw, slot, BF_DBUF_HTTP_URI, bs(tx->parsed_uri->path));
    vset(&vw, slot, BF_DBUF_HTTP_URI_RAW, bs(tx->request_uri));
    vset(&vw, slot, BF_DBUF_HTTP_METHOD, bs(tx->request_method));
    vset(&vw, slot, BF_DBUF_HTTP_REQUEST_LINE, bs(tx->request_line));
    vset(&vw, slot, BF_DBUF_HTTP_HOST, view_host(s, d, tx));
    if (tx->parsed_uri && tx->parsed_uri->hostname)
        vset(&vw, slot, BF_DBUF_HTTP_HOST_RAW, bs(tx->parsed_uri->hostname));
    else if (req_hdr)
        vset(&vw, slot, BF_DBUF_HTTP_HOST_RAW, hdr(tx->request_headers, "host"));
    if (req_hdr) {
        const htp_table_t *t = tx->request_headers;
        vset(&vw, slot, BF_DBUF_HTTP_USER_AGENT, hdr(t, "user-agent"));
        vset(&vw, slot, BF_DBUF_HTTP_REFERER, hdr(t, "referer"));
        vset(&vw, slot, BF_DBUF_HTTP_ACCEPT, hdr(t, "accept"));
        vset(&vw, slot, BF_DBUF_HTTP_ACCEPT_LANG, hdr(t, "accept-language"));
        vset(&vw, slot, BF_DBUF_HTTP_ACCEPT_ENC, hdr(t, "accept-encoding"));
    }
    vset_sb(&vw, slot, BF_DBUF_HTTP_REQUEST_BODY, &v->body[0]);

    /* response side */
    if (tx->response_progress >= HTP_RESPONSE_HEADERS || final) {
        vset(&vw, slot, BF_DBUF_HTTP_STAT_CODE, bs(tx->response_status));
        vset(&vw, slot, BF_DBUF_HTTP_STAT_MSG, bs(tx->response_message));
        vset(&vw, slot, BF_DBUF_HTTP_RESPONSE_LINE, bs(tx->response_line));
    }
    if (res_hdr) {
        vset(&vw, slot, BF_DBUF_HTTP_SERVER, hdr(tx->response_headers, "server"));
        vset(&vw, slot, BF_DBUF_HTTP_LOCATION, hdr(tx->response_headers, "location"));
    }
    vset_sb(&vw, slot, BF_DBUF_HTTP_RESPONSE_BODY, &v->body[1]);

    /* direction-dependent: the `dir` side */
    int k = vw.dir;
    vset(&vw, slot, BF_DBUF_HTTP_PROTOCOL, bs(k ? tx->response_protocol : tx->request_protocol));
    if (k ? res_hdr : req_hdr) {
        const htp_table_t *t = k ? tx->response_headers : tx->request_headers;
        vset(&vw, slot, BF_DBUF_HTTP_CONNECTION, hdr(t, "connection"));
        vset(&vw, slot, BF_DBUF_HTTP_COOKIE, hdr(t, k ? "set-cookie" : "cookie"));
        vset(&vw, slot, BF_DBUF_HTTP_CONTENT_TYPE, hdr(t, "content-type"));
        vset(&vw, slot, BF_DBUF_HTTP_CONTENT_LEN, hdr(t, "content-length"));
        build_hdrs(s, d, tx, k);
        vset_sb(&vw, slot, BF_DBUF_HTTP_HEADER, &v->hdr[k]);
        vset_sb(&vw, slot, BF_DBUF_HTTP_HEADER_NAMES, &v->names[k]);
        vset_sb(&vw, slot, BF_DBUF_HTTP_START, &v->start[k]);
    }
    vset_sb(&vw, slot, BF_DBUF_HTTP_HEADER_RAW, &v->raw[k]);
    vset_sb(&vw, slot, BF_DBUF_FILE_DATA, &v->body[k]);
    if (v->file_seen[k] || v->body[k].len) {
        bf_http_str fn = file_name(tx, k);
        if (fn.ptr && fn.len)
            vset(&vw, slot, BF_DBUF_FILE_NAME, fn);
    }

    bf_bus_publish(s->ctx->bus, BF_BUS_TX, s->f, s->p, &vw);
    if (req_done && res_done) {
        d->view_final = true;
        txview_free(s, d);
    }
}

/* ---- anomalies --------------------------------------------------------- */

/* libhtp 0.5 log messages (prefixes) -> Suricata's http app-layer events. */
static const struct {
    const char *prefix;
    const char *event;
} msg_map[] = {
    {"GZip decompressor:", "GZIP_DECOMPRESSION_FAILED"},
    {"Request field invalid: colon missing", "REQUEST_FIELD_MISSING_COLON"},
    {"Response field invalid: missing colon", "RESPONSE_FIELD_MISSING_COLON"},
    {"Request chunk encoding: Invalid chunk length", "INVALID_REQUEST_CHUNK_LEN"},
    {"Response chunk encoding: Invalid chunk length", "INVALID_RESPONSE_CHUNK_LEN"},
    {"Invalid T-E value in request", "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"},
    {"Invalid T-E value in response", "INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE"},
    {"Invalid C-L field in request", "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST"},
    {"Invalid C-L field in response", "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE"},
    {"Already seen 100-Continue", "100_CONTINUE_ALREADY_SEEN"},
    {"Unable to match response to request", "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"},
    {"Invalid server port information in request", "INVALID_SERVER_PORT_IN_REQUEST"},
    {"Invalid authority port", "INVALID_AUTHORITY_PORT"},
    {"Request buffer over", "REQUEST_FIELD_TOO_LONG"},
    {"Response the buffer limit", "RESPONSE_FIELD_TOO_LONG"},
    {"Response buffer over", "RESPONSE_FIELD_TOO_LONG"},
    {"Request field length exceeds", "REQUEST_FIELD_TOO_LONG"},
    {"Response field length exceeds", "RESPONSE_FIELD_TOO_LONG"},
    {"C-T multipart/byteranges in responses not supported", "RESPONSE_MULTIPART_BYTERANGES"},
    {"Compression bomb:", "COMPRESSION_BOMB"},
    {"Request field invalid", "REQUEST_HEADER_INVALID"},
    {"Response field invalid", "RESPONSE_HEADER_INVALID"},
    {"Request header name is not a token", "REQUEST_HEADER_INVALID"},
    {"Response header name is not a token", "RESPONSE_HEADER_INVALID"},
    {"Host information in request headers required by HTTP/1.1", "MISSING_HOST_HEADER"},
    {"Host information ambiguous", "HOST_HEADER_AMBIGUOUS"},
    {"Invalid request field folding", "INVALID_REQUEST_FIELD_FOLDING"},
    {"Invalid response field folding", "INVALID_RESPONSE_FIELD_FOLDING"},
    {"Request server port=", "REQUEST_SERVER_PORT_TCP_PORT_MISMATCH"},
    {"Request line: URI contains non-compliant delimiter", "URI_DELIM_NON_COMPLIANT"},
    {"Request line: non-compliant delimiter between Method and URI", "METHOD_DELIM_NON_COMPLIANT"},
    {"Request line: leading whitespace", "REQUEST_LINE_LEADING_WHITESPACE"},
    {"Request line: missing protocol", "REQUEST_LINE_MISSING_PROTOCOL"},
    {"Request line: unknown method", "REQUEST_LINE_INVALID"},
    {"Too many response content encoding layers", "TOO_MANY_ENCODING_LAYERS"},
    {"C-E gzip has abnormal value", "ABNORMAL_CE_HEADER"},
    {"C-E deflate has abnormal value", "ABNORMAL_CE_HEADER"},
    {"C-E unknown setting", "ABNORMAL_CE_HEADER"},
    {"Excessive request header repetitions", "REQUEST_HEADER_REPETITION"},
    {"Excessive response header repetitions", "RESPONSE_HEADER_REPETITION"},
    {"Transfer-encoding has abnormal chunked value", "RESPONSE_ABNORMAL_TRANSFER_ENCODING"},
    {"Chunked transfer-encoding on HTTP/0.9 or HTTP/1.0", "RESPONSE_CHUNKED_OLD_PROTO"},
    {"Invalid response line: invalid protocol", "RESPONSE_INVALID_PROTOCOL"},
    {"Invalid response line: invalid response status", "RESPONSE_INVALID_STATUS"},
    {"Request line incomplete", "REQUEST_LINE_INCOMPLETE"},
    {"Unexpected request body", "REQUEST_BODY_UNEXPECTED"},
    {"LZMA decompressor: memory limit reached", "LZMA_MEMLIMIT_REACHED"},
    {"Ambiguous request C-L value", "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST"},
    {"Ambiguous response C-L value", "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE"},
    {"Too many request headers", "REQUEST_TOO_MANY_HEADERS"},
    {"Too many response headers", "RESPONSE_TOO_MANY_HEADERS"},
};

static void anomaly(http_state *s, htp_tx_t *tx, unsigned id, const char *event)
{
    txd *d = tx ? txd_get(s, tx) : NULL;
    if (d && id < 64) {
        if (d->ev_mask & (1ULL << id))
            return;
        d->ev_mask |= 1ULL << id;
    }
    if (s->nanom >= MAX_ANOMALIES)
        return;
    s->nanom++;
    if (!s->ctx || !s->ctx->eve || !s->ctx->eve->opts)
        return;
    bf_eve_log_app_anomaly(s->ctx->eve, ev_ts(s), s->p, s->f, "http", event,
                           tx ? (int64_t)tx->index : -1, true);
}

/* Conditions libhtp 0.5 reports only as transaction flags. */
static const struct {
    uint64_t flag;
    const char *event;
} flag_map[] = {
    {HTP_HOST_MISSING, "MISSING_HOST_HEADER"},
    {HTP_HOST_AMBIGUOUS, "HOST_HEADER_AMBIGUOUS"},
    {HTP_HOSTU_INVALID, "REQUEST_URI_HOST_INVALID"},
    {HTP_HOSTH_INVALID, "REQUEST_HEADER_HOST_INVALID"},
    {HTP_REQUEST_INVALID_T_E, "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"},
    {HTP_REQUEST_INVALID_C_L, "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST"},
};
#define ID_FLAG0 (BF_ARRAY_LEN(msg_map))
#define ID_AUTH (ID_FLAG0 + BF_ARRAY_LEN(flag_map))

static void flag_anomalies(http_state *s, htp_tx_t *tx)
{
    for (unsigned i = 0; i < BF_ARRAY_LEN(flag_map); i++)
        if (tx->flags & flag_map[i].flag)
            anomaly(s, tx, (unsigned)ID_FLAG0 + i, flag_map[i].event);
    if (tx->request_auth_type == HTP_AUTH_UNRECOGNIZED)
        anomaly(s, tx, (unsigned)ID_AUTH, "REQUEST_AUTH_UNRECOGNIZED");
}

static bool header_is(htp_table_t *hdrs, const char *name, const char *val)
{
    htp_header_t *h = hdrs ? htp_table_get_c(hdrs, name) : NULL;
    if (!h || !h->value)
        return false;
    size_t n = strlen(val);
    const unsigned char *p = bstr_ptr(h->value);
    size_t len = bstr_len(h->value);
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return len == n && strncasecmp((const char *)p, val, n) == 0;
}

static bool ce_is_identity(htp_tx_t *tx)
{
    return header_is(tx->response_headers, "content-encoding", "identity") ||
           header_is(tx->request_headers, "content-encoding", "identity");
}

static int cb_log(htp_log_t *log)
{
    http_state *s = log && log->connp ? htp_connp_get_user_data(log->connp) : NULL;
    if (!s || !log->msg || log->level > HTP_LOG_WARNING)
        return HTP_OK;
    s->nmsg++;
    mem_add(s, MEM_MSG);
    for (unsigned i = 0; i < BF_ARRAY_LEN(msg_map); i++) {
        if (strncmp(log->msg, msg_map[i].prefix, strlen(msg_map[i].prefix)) == 0) {
            /* libhtp 0.5 calls Content-Encoding "identity" unknown; it is the
             * standard "no encoding" (RFC 9110) and Suricata 8 accepts it */
            if (!strcmp(msg_map[i].prefix, "C-E unknown setting")) {
                htp_tx_t *t = log->tx ? log->tx : htp_connp_get_out_tx(log->connp);
                htp_tx_t *t2 = htp_connp_get_in_tx(log->connp);
                if ((t && ce_is_identity(t)) || (t2 && ce_is_identity(t2)))
                    break;
            }
            anomaly(s, log->tx, i, msg_map[i].event);
            break;
        }
    }
    return HTP_OK;
}

/* ---- libhtp hooks ------------------------------------------------------ */

static int cb_req_start(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (d)
        d->ts_req_start = s->ts;
    return HTP_OK;
}

static int64_t table_bytes(const htp_table_t *t)
{
    int64_t n = 0;
    size_t cnt = t ? htp_table_size(t) : 0;
    for (size_t i = 0; i < cnt; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (h)
            n += 96 + (h->name ? (int64_t)bstr_len(h->name) : 0) +
                 (h->value ? (int64_t)bstr_len(h->value) : 0);
    }
    return n;
}

static int cb_req_headers(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (!d)
        return HTP_OK;
    if (s->closing)
        d->req_cut = true; /* the stream ended inside the headers */
    else if (!d->ts_req_hdr)
        d->ts_req_hdr = s->ts;
    if (!d->mem_hdr) {
        d->mem_hdr = true;
        int64_t add = table_bytes(tx->request_headers) +
                      3 * (tx->request_uri ? (int64_t)bstr_len(tx->request_uri) : 0);
        d->mem += add;
        mem_add(s, add);
    }
    flag_anomalies(s, tx);
    if (!s->closing) {
        d->hdr_done[0] = true;
        publish_view(s, tx, d, 0, false);
    }
    return HTP_OK;
}

static void body_data(http_state *s, htp_tx_t *tx, int which, const uint8_t *data, size_t len)
{
    txd *d = txd_get(s, tx);
    if (!d || !data || !len)
        return;
    body *b = &d->b[which];
    if (!b->open && b->size == 0) {
        b->open = true;
        if (g_cfg.fileinfo && g_cfg.sha256) {
            b->sha = EVP_MD_CTX_new();
            if (b->sha && EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(b->sha);
                b->sha = NULL;
            }
            if (b->sha)
                mem_add(s, MEM_SHA);
        }
    }
    b->size += len;
    if (b->sha)
        EVP_DigestUpdate(b->sha, data, len);
    if (d->v)
        d->v->file_seen[which] = true;
    else if (tx_wanted(s) && !d->view_final)
        view_of(s, d)->file_seen[which] = true;
}

static int cb_req_body(htp_tx_data_t *dd)
{
    if (!dd || !dd->tx)
        return HTP_OK;
    htp_tx_t *tx = dd->tx;
    http_state *s = state_of(tx);
    view_body(s, tx, 0, dd->data, dd->len);
    /* files only for POST and PUT bodies, as Suricata */
    if (tx->request_method_number == HTP_M_POST || tx->request_method_number == HTP_M_PUT)
        body_data(s, tx, 0, dd->data, dd->len);
    else if (dd->data && dd->len) {
        txd *d = txd_get(s, tx);
        if (d)
            d->b[0].size += dd->len;
    }
    return HTP_OK;
}

static int cb_req_complete(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (!d)
        return HTP_OK;
    if (s->closing || d->req_cut) {
        d->req_cut = true;
    } else {
        d->ts_req_done = s->ts;
        if (!d->ts_req_hdr)
            d->ts_req_hdr = s->ts;
    }
    flag_anomalies(s, tx);
    log_file(s, tx, d, 0, !d->req_cut);
    publish(s, tx, d, BF_BUS_HTTP_REQUEST);
    if (!d->req_cut) {
        d->msg_done[0] = true;
        publish_view(s, tx, d, 0, false);
    }
    return HTP_OK;
}

static int cb_res_start(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (d && !d->ts_res_start)
        d->ts_res_start = s->ts;
    return HTP_OK;
}

static int cb_res_headers(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (!d)
        return HTP_OK;
    int64_t add = table_bytes(tx->response_headers);
    d->mem += add;
    mem_add(s, add);
    if (!d->decomp && tx->response_content_encoding_processing != HTP_COMPRESSION_NONE) {
        d->decomp = true;
        d->mem += MEM_DECOMP;
        mem_add(s, MEM_DECOMP);
    }
    d->hdr_done[1] = true;
    publish_view(s, tx, d, 1, false);
    return HTP_OK;
}

static int cb_res_body(htp_tx_data_t *dd)
{
    if (dd && dd->tx) {
        http_state *s = state_of(dd->tx);
        view_body(s, dd->tx, 1, dd->data, dd->len);
        body_data(s, dd->tx, 1, dd->data, dd->len);
    }
    return HTP_OK;
}

static int cb_res_complete(htp_tx_t *tx)
{
    http_state *s = state_of(tx);
    txd *d = txd_get(s, tx);
    if (!d)
        return HTP_OK;
    d->ts_res_done = s->ts;
    if (!d->ts_res_start)
        d->ts_res_start = s->ts;
    if (d->decomp) {
        d->decomp = false;
        d->mem -= MEM_DECOMP;
        mem_add(s, -MEM_DECOMP);
    }
    log_file(s, tx, d, 1, true);
    log_http(s, tx, d);
    publish(s, tx, d, BF_BUS_HTTP_RESPONSE);
    d->msg_done[1] = true;
    publish_view(s, tx, d, 1, false);
    return HTP_OK;
}

static void htp_setup(void)
{
    htp_cfg_t *c = htp_config_create();
    if (!c) {
        bf_err("http: libhtp configuration could not be created; HTTP is not analyzed");
        return;
    }
    htp_config_set_server_personality(c, HTP_SERVER_IDS);
    htp_config_set_response_decompression(c, 1);
    htp_config_set_request_decompression(c, 1);
    htp_config_set_response_decompression_layer_limit(c, (int)g_cfg.decomp_layers);
    htp_config_set_compression_bomb_limit(c, 1u << 20);
    htp_config_set_compression_time_limit(c, 100000);
    htp_config_set_lzma_memlimit(c, 1u << 20);
    htp_config_set_lzma_layers(c, 1);
    htp_config_set_field_limits(c, FIELD_SOFT, FIELD_HARD);
    htp_config_set_number_headers_limit(c, MAX_HEADERS);
    htp_config_set_parse_request_cookies(c, 0);
    htp_config_set_tx_auto_destroy(c, 0);
    htp_config_set_log_level(c, HTP_LOG_WARNING);
    htp_config_register_log(c, cb_log);
    htp_config_register_request_start(c, cb_req_start);
    htp_config_register_request_header_data(c, cb_req_hdr_data);
    htp_config_register_request_trailer_data(c, cb_req_hdr_data);
    htp_config_register_request_headers(c, cb_req_headers);
    htp_config_register_request_body_data(c, cb_req_body);
    htp_config_register_request_complete(c, cb_req_complete);
    htp_config_register_response_start(c, cb_res_start);
    htp_config_register_response_header_data(c, cb_res_hdr_data);
    htp_config_register_response_trailer_data(c, cb_res_hdr_data);
    htp_config_register_response_headers(c, cb_res_headers);
    htp_config_register_response_body_data(c, cb_res_body);
    htp_config_register_response_complete(c, cb_res_complete);
    g_htp = c;
}

/* ---- driving the parser ------------------------------------------------ */

/* Logs and frees what every live transaction holds (parsing is over). */
static void flush_all(http_state *s)
{
    if (!s->connp)
        return;
    htp_conn_t *conn = htp_connp_get_connection(s->connp);
    size_t n = conn && conn->transactions ? htp_list_size(conn->transactions) : 0;
    for (size_t i = 0; i < n; i++) {
        htp_tx_t *tx = htp_list_get(conn->transactions, i);
        txd *d = tx ? htp_tx_get_user_data(tx) : NULL;
        if (!d)
            continue;
        if (s->gap_seen) {
            if (d->b[0].open)
                d->b[0].gap = true;
            if (d->b[1].open)
                d->b[1].gap = true;
        }
        if (tx->request_progress > HTP_REQUEST_NOT_STARTED ||
            tx->response_progress > HTP_RESPONSE_NOT_STARTED)
            publish_view(s, tx, d, tx->response_progress > HTP_RESPONSE_NOT_STARTED, true);
        log_file(s, tx, d, 0, false);
        log_file(s, tx, d, 1, false);
        if (tx->request_progress > HTP_REQUEST_NOT_STARTED) {
            log_http(s, tx, d);
            publish(s, tx, d, BF_BUS_HTTP_REQUEST);
            if (tx->response_progress > HTP_RESPONSE_NOT_STARTED)
                publish(s, tx, d, BF_BUS_HTTP_RESPONSE);
        }
        txd_free(s, tx);
    }
}

static void destroy_connp(http_state *s)
{
    if (!s->connp)
        return;
    flush_all(s);
    htp_connp_destroy_all(s->connp);
    s->connp = NULL;
    mem_add(s, -(int64_t)s->nslots * MEM_TX_SLOT - MEM_CONNP - (int64_t)s->nmsg * MEM_MSG);
    s->nslots = 0;
    s->nmsg = 0;
    for (int d = 0; d < 2; d++) {
        if (s->pend[d]) {
            free(s->pend[d]);
            s->pend[d] = NULL;
            mem_add(s, -(int64_t)PEND_MAX);
        }
        s->plen[d] = 0;
    }
}

static void stop(http_state *s, enum stop_reason why)
{
    if (s->stopped)
        return;
    s->stopped = (uint8_t)why;
    destroy_connp(s);
}

/* Destroys the transactions libhtp is done with (after their logging). */
static void reap(http_state *s)
{
    htp_conn_t *conn = htp_connp_get_connection(s->connp);
    if (!conn || !conn->transactions)
        return;
    size_t n = htp_list_size(conn->transactions);
    htp_tx_t *in = htp_connp_get_in_tx(s->connp), *out = htp_connp_get_out_tx(s->connp);
    for (size_t i = s->reap_from; i < n; i++) {
        htp_tx_t *tx = htp_list_get(conn->transactions, i);
        if (tx && tx->request_progress == HTP_REQUEST_COMPLETE &&
            tx->response_progress == HTP_RESPONSE_COMPLETE && tx != in && tx != out) {
            txd_free(s, tx);
            htp_tx_destroy(tx);
            tx = htp_list_get(conn->transactions, i);
        }
        if (!tx && i == s->reap_from)
            s->reap_from++;
    }
}

/* Keeps bytes libhtp did not take (it waits for the other direction). */
static bool pend_keep(http_state *s, int dir, const uint8_t *data, uint32_t len)
{
    if (!len)
        return true;
    if (!s->pend[dir]) {
        s->pend[dir] = bf_malloc(PEND_MAX);
        mem_add(s, PEND_MAX);
    }
    if (len > PEND_MAX - s->plen[dir])
        return false;
    memmove(s->pend[dir] + s->plen[dir], data, len);
    s->plen[dir] += len;
    return true;
}

/* One call into libhtp.  Returns bytes consumed. */
static uint32_t feed(http_state *s, int dir, const uint8_t *data, uint32_t len)
{
    if (s->stopped || !s->connp || !len)
        return 0;
    htp_time_t tv = tv_of(s->ts);
    int rc = dir == 0 ? htp_connp_req_data(s->connp, &tv, data, len)
                      : htp_connp_res_data(s->connp, &tv, data, len);
    if (s->stopped)
        return len;
    size_t consumed = len;
    switch (rc) {
    case HTP_STREAM_DATA_OTHER:
        consumed = dir == 0 ? htp_connp_req_data_consumed(s->connp)
                            : htp_connp_res_data_consumed(s->connp);
        if (consumed > len)
            consumed = len;
        break;
    case HTP_STREAM_TUNNEL:
        stop(s, STOP_TUNNEL);
        break;
    case HTP_STREAM_ERROR:
    case HTP_STREAM_STOP:
        stop(s, STOP_ERROR);
        break;
    default:
        break;
    }
    if (!s->stopped)
        reap(s);
    if (!s->stopped && (s->live_tx > g_cfg.max_tx || s->nmsg > MAX_MESSAGES)) {
        if (s->nmsg > MAX_MESSAGES)
            anomaly(s, NULL, 63, "TOO_MANY_WARNINGS");
        stop(s, STOP_LIMIT);
    }
    return (uint32_t)consumed;
}

/* Re-offers held bytes while either side makes progress. */
static void pump(http_state *s)
{
    for (int round = 0; round < 8 && !s->stopped; round++) {
        bool progress = false;
        for (int d = 0; d < 2 && !s->stopped; d++) {
            if (!s->plen[d])
                continue;
            uint32_t n = s->plen[d];
            uint32_t c = feed(s, d, s->pend[d], n);
            if (s->stopped)
                return;
            if (c) {
                progress = true;
                memmove(s->pend[d], s->pend[d] + c, n - c);
                s->plen[d] = n - c;
                if (!s->plen[d]) {
                    free(s->pend[d]);
                    s->pend[d] = NULL;
                    mem_add(s, -(int64_t)PEND_MAX);
                }
            }
        }
        if (!progress)
            return;
    }
}

static void parse_dir(http_state *s, int dir, const uint8_t *data, uint32_t len)
{
    if (s->plen[dir]) {
        /* earlier bytes wait: keep order */
        if (!pend_keep(s, dir, data, len)) {
            stop(s, STOP_LIMIT);
            return;
        }
    } else {
        uint32_t c = feed(s, dir, data, len);
        if (!s->stopped && c < len && !pend_keep(s, dir, data + c, len - c)) {
            stop(s, STOP_LIMIT);
            return;
        }
    }
    pump(s);
}

/* ---- analyzer interface ------------------------------------------------ */

static void set_ctx(http_state *s, bf_app_ctx *ctx, bf_flow *f, bf_packet *p)
{
    s->ctx = ctx;
    s->f = f;
    s->p = p;
    s->ts = p ? p->ts : f->last;
}

static void *http_new(bf_app_ctx *ctx, bf_flow *f)
{
    pthread_once(&g_once, htp_setup);
    if (!g_htp)
        return NULL;
    http_state *s = bf_calloc(1, sizeof *s);
    s->connp = htp_connp_create(g_htp);
    if (!s->connp) {
        free(s);
        return NULL;
    }
    set_ctx(s, ctx, f, NULL);
    mem_add(s, (int64_t)sizeof *s + MEM_CONNP);
    htp_connp_set_user_data(s->connp, s);
    char ca[64], sa[64];
    bf_addr_str(&f->addr[0], f->ipver == 6 ? 6 : 4, ca, sizeof ca);
    bf_addr_str(&f->addr[1], f->ipver == 6 ? 6 : 4, sa, sizeof sa);
    htp_time_t tv = tv_of(f->start);
    htp_connp_open(s->connp, ca, f->port[0], sa, f->port[1], &tv);
    s->ctx = NULL;
    return s;
}

static void http_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                       const uint8_t *data, uint32_t len, uint32_t gap)
{
    http_state *s = st;
    if (!s || s->stopped)
        return;
    set_ctx(s, ctx, f, p);
    s->dir = dir & 1;
    if (gap) {
        /* libhtp cannot resynchronize after lost bytes */
        s->gap_seen = true;
        stop(s, STOP_GAP);
    } else if (data && len) {
        parse_dir(s, dir & 1, data, len);
    }
    s->ctx = NULL;
    s->p = NULL;
}

static void http_flow_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    http_state *s = st;
    if (!s)
        return;
    set_ctx(s, ctx, f, NULL);
    if (!s->stopped && s->connp) {
        /* close-delimited bodies end here */
        htp_time_t tv = tv_of(s->ts);
        s->closing = true;
        htp_connp_close(s->connp, &tv);
        s->closing = false;
    }
    stop(s, STOP_END);
    s->ctx = NULL;
}

static void http_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    http_state *s = st;
    if (!s)
        return;
    set_ctx(s, ctx, f, NULL);
    /* nothing is logged from here: flow_end did, unless it was not called */
    bf_eve *e = ctx ? ctx->eve : NULL;
    if (ctx)
        ctx->eve = NULL;
    destroy_connp(s);
    if (ctx)
        ctx->eve = e;
    mem_add(s, -(int64_t)sizeof *s);
    free(s);
}

static uint64_t http_tx_count(const void *st)
{
    const http_state *s = st;
    return s->connp && htp_connp_get_connection(s->connp) ?
               htp_list_size(htp_connp_get_connection(s->connp)->transactions) : 0;
}

const bf_app_parser bf_parser_http = {
    .tx_count = http_tx_count,
    .proto = BF_APP_HTTP,
    .state_new = http_new,
    .state_free = http_free,
    .parse = http_parse,
    .flow_end = http_flow_end,
};
