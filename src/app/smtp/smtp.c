/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smtp/smtp.c: SMTP commands and replies, mail transactions, AUTH
 * logins, EVE `smtp` / `fileinfo` / `anomaly` events and the bus (see
 * smtp.h). */
#include "output/events.h"
#include "app/smtp/smtp_int.h"

#include "app/tx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

enum {
    C_OTHER = 0, C_HELO, C_MAIL, C_RCPT, C_DATA, C_DATA_END, C_BDAT, C_BDAT_LAST, C_RSET,
    C_QUIT, C_STARTTLS, C_AUTH, C_NOOP,
};

enum { MODE_CMD = 0, MODE_DATA, MODE_BDAT, MODE_AUTH };

static const char *const ev_names[EV_MAX] = {
    [EV_INVALID_REPLY] = "INVALID_REPLY",
    [EV_UNABLE_TO_MATCH_REPLY_WITH_REQUEST] = "UNABLE_TO_MATCH_REPLY_WITH_REQUEST",
    [EV_MAX_COMMAND_LINE_LEN_EXCEEDED] = "MAX_COMMAND_LINE_LEN_EXCEEDED",
    [EV_MAX_REPLY_LINE_LEN_EXCEEDED] = "MAX_REPLY_LINE_LEN_EXCEEDED",
    [EV_INVALID_PIPELINED_SEQUENCE] = "INVALID_PIPELINED_SEQUENCE",
    [EV_BDAT_CHUNK_LEN_EXCEEDED] = "BDAT_CHUNK_LEN_EXCEEDED",
    [EV_NO_SERVER_WELCOME_MESSAGE] = "NO_SERVER_WELCOME_MESSAGE",
    [EV_TLS_REJECTED] = "TLS_REJECTED",
    [EV_DATA_COMMAND_REJECTED] = "DATA_COMMAND_REJECTED",
    [EV_MIME_PARSE_FAILED] = "MIME_PARSE_FAILED",
    [EV_MIME_MALFORMED_MSG] = "MIME_MALFORMED_MSG",
    [EV_MIME_INVALID_BASE64] = "MIME_INVALID_BASE64",
    [EV_MIME_LONG_HEADER_NAME] = "MIME_LONG_HEADER_NAME",
    [EV_MIME_LONG_HEADER_VALUE] = "MIME_LONG_HEADER_VALUE",
    [EV_MIME_INVALID_QP] = "MIME_INVALID_QP",
    [EV_MIME_LONG_LINE] = "MIME_LONG_LINE",
    [EV_MIME_LONG_ENC_LINE] = "MIME_LONG_ENC_LINE",
    [EV_MIME_LONG_BOUNDARY] = "MIME_LONG_BOUNDARY",
    [EV_MIME_LONG_FILENAME] = "MIME_LONG_FILENAME",
    [EV_DUPLICATE_FIELDS] = "DUPLICATE_FIELDS",
    [EV_UNPARSABLE_CONTENT] = "UNPARSABLE_CONTENT",
    [EV_INVALID_BDAT] = "INVALID_BDAT",
};

/* ------------------------------------------------------------ memory */

void sm_mem(smtp_state *s, int64_t d)
{
    if (!d)
        return;
    s->mem += d;
    if (s->f)
        s->f->app_mem = (uint32_t)((int64_t)s->f->app_mem + d);
    if (s->ctx && s->ctx->ft)
        bf_flow_mem_adjust(s->ctx->ft, d);
}

bf_smtp_str sm_strdup(smtp_state *s, sm_tx *t, const void *p, size_t n)
{
    bf_smtp_str r = {NULL, 0};
    n = BF_MIN(n, (size_t)BF_SMTP_HDR_MAX);
    sm_chunk *c = t->arena;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = BF_MAX((size_t)4096, n + 1);
        if (t->arena_mem + cap + sizeof *c > BF_SMTP_TX_MEM_MAX) {
            t->str_dropped++;
            s->st.drops++;
            return r;
        }
        c = bf_malloc(sizeof *c + cap);
        c->cap = (uint32_t)cap;
        c->used = 0;
        c->next = t->arena;
        t->arena = c;
        t->arena_mem += (uint32_t)(cap + sizeof *c);
        sm_mem(s, (int64_t)(cap + sizeof *c));
    }
    char *d = c->d + c->used;
    if (n)
        memcpy(d, p, n);
    for (size_t i = 0; i < n; i++)
        if (!d[i])
            d[i] = ' ';   /* the event promises NUL-terminated strings */
    d[n] = 0;
    c->used += (uint32_t)(n + 1);
    r.ptr = d;
    r.len = (uint32_t)n;
    return r;
}

static sm_tx *tx_new(smtp_state *s)
{
    sm_tx *t = bf_calloc(1, sizeof *t);
    sm_mem(s, (int64_t)sizeof *t);
    t->tx_id = s->next_tx_id++;
    s->any_tx = true;
    return t;
}

static void tx_free(smtp_state *s, sm_tx *t)
{
    if (!t)
        return;
    for (sm_chunk *c = t->arena; c;) {
        sm_chunk *n = c->next;
        free(c);
        c = n;
    }
    sm_mem(s, -(int64_t)t->arena_mem);
    for (uint32_t i = 0; i < t->nfdata; i++) {
        free(t->fdata[i].p);
        sm_mem(s, -(int64_t)t->fdata[i].cap);
    }
    free(t);
    sm_mem(s, -(int64_t)sizeof *t);
}

/* ------------------------------------------------------------ events */

static bf_ts now(const smtp_state *s)
{
    return s->p ? s->p->ts : s->f ? s->f->last : 0;
}

void sm_event(smtp_state *s, enum sm_event ev)
{
    if (s->ev_seen & (1u << ev))
        return;
    s->ev_seen |= 1u << ev;
    s->nanom++;
    bf_eve_log_app_anomaly(s->ctx ? s->ctx->eve : NULL, now(s), s->p, s->f, "smtp", ev_names[ev],
                           -1, true);
}

/* ------------------------------------------------------------ EVE */

static void jstr(bf_json *j, const char *k, bf_smtp_str v)
{
    if (v.ptr)
        bf_json_strn(j, k, v.ptr, v.len);
}

static void jarr(bf_json *j, const char *k, const bf_smtp_str *a, uint32_t n)
{
    if (!n)
        return;
    bf_json_open_arr(j, k);
    for (uint32_t i = 0; i < n; i++)
        bf_json_strn(j, NULL, a[i].ptr, a[i].len);
    bf_json_close_arr(j);
}

/* "smtp" and "email" objects of a transaction, as Suricata. */
static void json_smtp(bf_json *j, const smtp_state *s, const sm_tx *t)
{
    bf_json_open_obj(j, "smtp");
    if (s->have_helo)
        bf_json_strn(j, "helo", s->helo, s->helo_len);
    if (t) {
        jstr(j, "mail_from", t->mail_from);
        jarr(j, "rcpt_to", t->rcpt, t->nrcpt);
    }
    bf_json_close_obj(j);
    if (!t || !t->has_body)
        return;
    bf_json_open_obj(j, "email");
    bf_json_str(j, "status", t->mime_status ? t->mime_status : "BODY_STARTED");
    jstr(j, "from", t->from);
    jarr(j, "to", t->to, t->nto);
    jarr(j, "cc", t->cc, t->ncc);
    jstr(j, "subject", t->subject);
    jstr(j, "message_id", t->message_id);
    jstr(j, "date", t->date);
    jstr(j, "x_mailer", t->x_mailer);
    jarr(j, "attachment", t->att_eve_name, t->natt);
    if (t->nurl) {
        bf_json_open_arr(j, "url");
        for (uint32_t i = 0; i < t->nurl; i++)
            bf_json_strn(j, NULL, t->url[i].url.ptr, t->url[i].url.len);
        bf_json_close_arr(j);
    }
    bf_json_close_obj(j);
}

static void log_tx(smtp_state *s, const sm_tx *t)
{
    bf_eve *e = s->ctx ? s->ctx->eve : NULL;
    if (!e)
        return;
    bf_eve_begin_flow(e, "smtp", now(s), s->p, s->f);
    bf_json_uint(&e->j, "tx_id", t ? t->tx_id : 0);
    json_smtp(&e->j, s, t);
    bf_eve_end(e);
}

static bool tx_wanted(const smtp_state *s)
{
    return s->ctx && s->ctx->bus && bf_bus_wanted(s->ctx->bus, BF_BUS_TX);
}

void sm_file_bytes(smtp_state *s, sm_tx *t, const uint8_t *d, size_t n)
{
    if (!n || !tx_wanted(s))
        return;
    if (!t->fdata_open) {
        if (t->nfdata >= BF_SMTP_MAX_ATT)
            return;
        t->nfdata++;
        t->fdata_open = true;
    }
    struct sm_fdata *b = &t->fdata[t->nfdata - 1];
    uint32_t c = (uint32_t)BF_MIN(n, (size_t)(SM_TX_DATA_MAX - b->len));
    if (!c)
        return;
    if (b->len + c > b->cap) {
        uint32_t cap = BF_MAX(b->cap * 2, 4096u);
        while (cap < b->len + c)
            cap *= 2;
        cap = BF_MIN(cap, (uint32_t)SM_TX_DATA_MAX);
        b->p = bf_realloc(b->p, cap);
        sm_mem(s, (int64_t)cap - (int64_t)b->cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, c);
    b->len += c;
}

void sm_file_closed(smtp_state *s, sm_tx *t, sm_file *fi, bool complete)
{
    s->st.attachments++;
    t->fdata_open = false;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    bool have_sha = complete && fi->sha && EVP_DigestFinal_ex(fi->sha, md, &mdlen) == 1 &&
                    mdlen == 32;
    if (t->natt < BF_SMTP_MAX_ATT) {
        bf_smtp_attachment *a = &t->att[t->natt];
        memset(a, 0, sizeof *a);
        bf_smtp_str eve_name = sm_strdup(s, t, fi->name, fi->name_len);
        char dec[BF_SMTP_NAME_MAX];
        size_t dl = sm_decode_2047(fi->name, fi->name_len, dec, sizeof dec);
        a->name = sm_strdup(s, t, dec, dl);
        a->ctype = sm_strdup(s, t, fi->ctype, strlen(fi->ctype));
        char ext[16];
        size_t el = 0;
        const char *dot = a->name.ptr ? strrchr(a->name.ptr, '.') : NULL;
        if (dot && strlen(dot + 1) < sizeof ext)
            for (const char *q = dot + 1; *q; q++)
                if (!isspace((unsigned char)*q))
                    ext[el++] = (char)tolower((unsigned char)*q);
        ext[el] = 0;
        bf_smtp_str es = sm_strdup(s, t, ext, el);
        a->ext = es.ptr ? es.ptr : "";
        a->detected = sm_detect_type(fi, ext);
        a->flags = sm_att_flags(dec, dl, ext, a->detected);
        if (!complete)
            a->flags |= BF_SMTP_ATT_TRUNCATED;
        a->dangerous = (a->flags & (BF_SMTP_ATT_EXECUTABLE | BF_SMTP_ATT_MACRO_CAPABLE |
                                    BF_SMTP_ATT_DOUBLE_EXT | BF_SMTP_ATT_EXT_MISMATCH |
                                    BF_SMTP_ATT_DISK_IMAGE)) != 0;
        a->size = fi->size;
        if (have_sha) {
            memcpy(a->sha256, md, 32);
            a->have_sha256 = true;
        }
        t->att_gap[t->natt] = fi->gap;
        if (eve_name.ptr && a->name.ptr) {
            t->att_eve_name[t->natt] = eve_name;
            t->natt++;
        }
    } else {
        t->att_dropped++;
        s->st.drops++;
    }
    bf_eve *e = s->ctx ? s->ctx->eve : NULL;
    if (!e)
        return;
    bf_json *j = &e->j;
    bf_eve_begin_flow(e, "fileinfo", now(s), s->p, s->f);
    json_smtp(j, s, t);
    bf_json_str(j, "app_proto", "smtp");
    bf_json_open_obj(j, "fileinfo");
    bf_json_strn(j, "filename", fi->name, fi->name_len);
    bf_json_bool(j, "gaps", fi->gap);
    bf_json_str(j, "state", complete ? "CLOSED" : "TRUNCATED");
    if (have_sha)
        bf_json_hex(j, "sha256", md, 32);
    bf_json_bool(j, "stored", false);
    bf_json_uint(j, "size", fi->size);
    bf_json_uint(j, "tx_id", t->tx_id);
    bf_json_close_obj(j);
    bf_eve_end(e);
}

/* ------------------------------------------------------------ detect */

typedef struct meta_ud {
    const smtp_state *s;
    const sm_tx *t;
} meta_ud;

static void tx_meta(const void *ud, bf_json *j)
{
    const meta_ud *m = ud;
    json_smtp(j, m->s, m->t);
}

/* The alert's "files" array: the mail's attachments as their fileinfo
 * events tell (those logged with a name), then the one being decoded. */
static void tx_files(const void *ud, bf_json *j)
{
    const meta_ud *m = ud;
    const sm_tx *t = m->t;
    const sm_file *open = m->s->mime && m->s->tx == t && m->s->mime->file.open
                              ? &m->s->mime->file : NULL;
    bool any = open != NULL;
    for (uint32_t i = 0; i < t->natt && !any; i++)
        any = t->att_eve_name[i].ptr != NULL;
    if (!any)
        return;
    bf_json_open_arr(j, "files");
    for (uint32_t i = 0; i < t->natt; i++) {
        const bf_smtp_attachment *a = &t->att[i];
        if (!t->att_eve_name[i].ptr)
            continue;
        bf_json_open_obj(j, NULL);
        bf_json_strn(j, "filename", t->att_eve_name[i].ptr, t->att_eve_name[i].len);
        bf_json_bool(j, "gaps", t->att_gap[i]);
        bf_json_str(j, "state", (a->flags & BF_SMTP_ATT_TRUNCATED) ? "TRUNCATED" : "CLOSED");
        if (a->have_sha256)
            bf_json_hex(j, "sha256", a->sha256, 32);
        bf_json_bool(j, "stored", false);
        bf_json_uint(j, "size", a->size);
        bf_json_uint(j, "tx_id", t->tx_id);
        bf_json_close_obj(j);
    }
    if (open) {
        bf_json_open_obj(j, NULL);
        bf_json_strn(j, "filename", open->name, open->name_len);
        bf_json_bool(j, "gaps", open->gap);
        bf_json_str(j, "state", "OPEN");
        bf_json_bool(j, "stored", false);
        bf_json_uint(j, "size", open->size);
        bf_json_uint(j, "tx_id", t->tx_id);
        bf_json_close_obj(j);
    }
    bf_json_close_arr(j);
}

static void set_str(bf_tx_view *v, enum bf_dbuf_id id, bf_dbuf *slot, bf_smtp_str x)
{
    if (x.ptr)
        bf_tx_set(v, id, slot, x.ptr, x.len);
}

/* BF_BUS_TX for a mail: dir 0 once the envelope is done (DATA / BDAT),
 * dir 0 with done[0] at the end of the body, both done once the server
 * answered it (or the mail ends otherwise: RSET, new MAIL, flow end). */
static void publish_tx(smtp_state *s, const sm_tx *t, int dir, bool done0, bool done1)
{
    if (!tx_wanted(s))
        return;
    bf_tx_view v;
    memset(&v, 0, sizeof v);
    v.app_proto = BF_APP_SMTP;
    v.dir = (uint8_t)dir;
    v.done[0] = done0;
    v.done[1] = done1;
    v.body_final[0] = done0;
    v.body_final[1] = true;
    v.tx_id = t->tx_id;
    bf_dbuf helo, from, subj, efrom;
    bf_dbuf rcpt[BF_SMTP_MAX_RCPT], names[BF_SMTP_MAX_ATT + 1], data[BF_SMTP_MAX_ATT];
    if (s->have_helo)
        bf_tx_set(&v, BF_DBUF_SMTP_HELO, &helo, s->helo, s->helo_len);
    set_str(&v, BF_DBUF_SMTP_MAIL_FROM, &from, t->mail_from);
    set_str(&v, BF_DBUF_EMAIL_SUBJECT, &subj, t->subject);
    set_str(&v, BF_DBUF_EMAIL_FROM, &efrom, t->from);
    for (uint32_t i = 0; i < t->nrcpt; i++)
        rcpt[i] = (bf_dbuf){(const uint8_t *)t->rcpt[i].ptr, t->rcpt[i].len};
    v.bufs[BF_DBUF_SMTP_RCPT_TO] = (bf_dbuf_set){rcpt, (uint16_t)t->nrcpt};
    /* attachment names as logged (fileinfo.filename), the open one last */
    uint16_t nn = 0;
    for (uint32_t i = 0; i < t->natt; i++)
        if (t->att_eve_name[i].len)
            names[nn++] = (bf_dbuf){(const uint8_t *)t->att_eve_name[i].ptr,
                                    t->att_eve_name[i].len};
    if (s->mime && s->tx == t && s->mime->file.open && s->mime->file.name_len)
        names[nn++] = (bf_dbuf){(const uint8_t *)s->mime->file.name, s->mime->file.name_len};
    v.bufs[BF_DBUF_FILE_NAME] = (bf_dbuf_set){names, nn};
    uint16_t nd = 0;
    for (uint32_t i = 0; i < t->nfdata; i++)
        if (t->fdata[i].len)
            data[nd++] = (bf_dbuf){t->fdata[i].p, t->fdata[i].len};
    v.bufs[BF_DBUF_FILE_DATA] = (bf_dbuf_set){data, nd};
    meta_ud m = {s, t};
    v.log_meta = tx_meta;
    v.log_files = tx_files;
    v.log_ud = &m;
    bf_bus_publish(s->ctx->bus, BF_BUS_TX, s->f, s->p, &v);
}

/* ------------------------------------------------------------ mails */

static void publish_mail(smtp_state *s, sm_tx *t)
{
    s->st.mails++;
    if (!s->ctx || !s->ctx->bus || !bf_bus_wanted(s->ctx->bus, BF_BUS_SMTP_MAIL))
        return;
    bf_smtp_mail_event ev = {
        .helo = {s->have_helo ? s->helo : NULL, s->have_helo ? s->helo_len : 0},
        .mail_from = t->mail_from,
        .rcpt = t->rcpt, .nrcpt = t->nrcpt, .rcpt_dropped = t->rcpt_dropped,
        .from = t->from, .from_decoded = t->from_dec, .reply_to = t->reply_to,
        .return_path = t->return_path,
        .to = t->to, .nto = t->nto, .cc = t->cc, .ncc = t->ncc, .addr_dropped = t->addr_dropped,
        .subject = t->subject, .subject_decoded = t->subject_dec,
        .message_id = t->message_id, .date = t->date, .x_mailer = t->x_mailer,
        .auth_results = t->auth_results, .received_count = t->received,
        .att = t->att, .natt = t->natt, .att_dropped = t->att_dropped,
        .urls = t->url, .nurl = t->nurl, .url_dropped = t->url_dropped,
        .msg_size = t->msg_size,
        .status = t->body_done ? BF_SMTP_MAIL_COMPLETE
                  : t->has_body ? BF_SMTP_MAIL_TRUNCATED : BF_SMTP_MAIL_NO_BODY,
        .mime_error = t->mime_error,
        .authenticated = s->authenticated,
        .auth_mech = s->auth_mech[0] ? s->auth_mech : NULL,
        .auth_user = {s->auth_have_user ? s->auth_user : NULL,
                      s->auth_have_user ? s->auth_user_len : 0},
        .tx_id = t->tx_id,
    };
    if (t->truncated && ev.status == BF_SMTP_MAIL_COMPLETE)
        ev.status = BF_SMTP_MAIL_TRUNCATED;
    bf_bus_publish(s->ctx->bus, BF_BUS_SMTP_MAIL, s->f, s->p, &ev);
}

/* Logs, publishes and frees a mail transaction. */
static void tx_finish(smtp_state *s, sm_tx *t)
{
    if (!t)
        return;
    publish_tx(s, t, s->pdir, true, true);
    log_tx(s, t);
    publish_mail(s, t);
    tx_free(s, t);
}

/* The body being received stops: complete at its end, else cut. */
static void body_stop(smtp_state *s, bool complete)
{
    sm_tx *t = s->tx;
    if (!t)
        return;
    if (s->mime) {
        sm_mime_end(s, t, complete);
        sm_mime_free(s, s->mime);
        s->mime = NULL;
    }
    t->body_done = complete;
    if (!complete)
        t->truncated = true;
    if (s->body.buf) {
        free(s->body.buf);
        s->body.buf = NULL;
        sm_mem(s, -(int64_t)BF_SMTP_LINE_MAX);
    }
    s->body.len = 0;
    s->body.cont = false;
    s->mode = MODE_CMD;
    publish_tx(s, t, 0, true, false);
    /* waits for the server's answer to the end of the body */
    if (s->done_tx)
        tx_finish(s, s->done_tx);
    s->done_tx = t;
    s->tx = NULL;
}

static sm_tx *cur_tx(smtp_state *s)
{
    if (!s->tx)
        s->tx = tx_new(s);
    return s->tx;
}

static void body_start(smtp_state *s)
{
    sm_tx *t = cur_tx(s);
    bool first = !t->has_body;
    t->has_body = true;
    if (!s->mime)
        s->mime = sm_mime_new(s);
    if (first)   /* the envelope is complete */
        publish_tx(s, t, 0, false, false);
}

/* ------------------------------------------------------------ AUTH */

static size_t b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        int c = (unsigned char)in[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o;
}

static void auth_set_user(smtp_state *s, const uint8_t *u, size_t n)
{
    n = BF_MIN(n, sizeof s->auth_user);
    memcpy(s->auth_user, u, n);
    s->auth_user_len = (uint16_t)n;
    s->auth_have_user = true;
}

/* One base64 response of the client (the initial response included). */
static void auth_response(smtp_state *s, const char *l, size_t n)
{
    s->auth_step++;
    uint8_t d[768];
    size_t dl = b64_decode(l, BF_MIN(n, (size_t)1024), d, sizeof d);
    const char *m = s->auth_mech;
    if (strcasecmp(m, "LOGIN") == 0 && s->auth_step == 1) {
        auth_set_user(s, d, dl);
    } else if (strcasecmp(m, "PLAIN") == 0 && s->auth_step == 1) {
        /* authzid NUL authcid NUL passwd */
        uint8_t *z1 = memchr(d, 0, dl);
        if (z1) {
            uint8_t *u = z1 + 1;
            uint8_t *z2 = memchr(u, 0, (size_t)(d + dl - u));
            if (z2)
                auth_set_user(s, u, (size_t)(z2 - u));
        }
    } else if (strcasecmp(m, "CRAM-MD5") == 0 && s->auth_step == 1) {
        uint8_t *sp = memchr(d, ' ', dl);
        if (sp)
            auth_set_user(s, d, (size_t)(sp - d));
    }
    memset(d, 0, sizeof d);   /* no password kept */
}

static void publish_login(smtp_state *s, enum bf_login_outcome o, const char *detail)
{
    s->st.logins++;
    if (!s->ctx || !s->ctx->bus)
        return;
    bf_login_event ev = {
        .service = "smtp",
        .user = s->auth_have_user ? s->auth_user : NULL,
        .user_len = s->auth_have_user ? s->auth_user_len : 0,
        .outcome = o,
        .attempts = 1,
        .detail = detail,
    };
    bf_bus_publish(s->ctx->bus, BF_BUS_LOGIN, s->f, s->p, &ev);
}

/* ------------------------------------------------------------ commands */

static void q_push(smtp_state *s, uint8_t c)
{
    if (s->qcnt == BF_SMTP_MAX_PENDING) {
        s->qhead = (uint8_t)((s->qhead + 1) % BF_SMTP_MAX_PENDING);
        s->qcnt--;
        s->st.drops++;
    }
    s->q[(s->qhead + s->qcnt) % BF_SMTP_MAX_PENDING] = c;
    s->qcnt++;
}

static int q_front(const smtp_state *s)
{
    return s->qcnt ? s->q[s->qhead] : -1;
}

static void q_pop(smtp_state *s)
{
    if (!s->qcnt)
        return;
    s->qhead = (uint8_t)((s->qhead + 1) % BF_SMTP_MAX_PENDING);
    s->qcnt--;
}

/* Suricata's argument: after the prefix and ':' / spaces, up to a space. */
static void arg_token(const char *l, size_t n, size_t skip, const char **a, size_t *al)
{
    size_t i = BF_MIN(skip, n);
    if (i < n && l[i] == ':')
        i++;
    while (i < n && l[i] == ' ')
        i++;
    size_t e = i;
    while (e < n && l[e] != ' ')
        e++;
    *a = l + i;
    *al = e - i;
}

static bool verb_is(const char *l, size_t n, const char *v)
{
    size_t vl = strlen(v);
    return n >= vl && strncasecmp(l, v, vl) == 0 && (n == vl || l[vl] == ' ' || l[vl] == ':');
}

static bool looks_command(const char *l, size_t n)
{
    static const char *const v[] = {"MAIL", "RCPT", "EHLO", "HELO", "QUIT", "RSET", "NOOP",
                                    "DATA", "AUTH", "STARTTLS", "BDAT", "VRFY", "EXPN"};
    for (size_t i = 0; i < BF_ARRAY_LEN(v); i++)
        if (verb_is(l, n, v[i]))
            return true;
    return false;
}

static void command(smtp_state *s, const char *l, size_t n, bool trunc)
{
    while (n && (l[n - 1] == '\r' || l[n - 1] == ' '))
        n--;
    if (trunc)
        sm_event(s, EV_MAX_COMMAND_LINE_LEN_EXCEEDED);
    if (s->mode == MODE_AUTH) {
        if (!looks_command(l, n)) {
            if (n == 1 && l[0] == '*')
                s->mode = MODE_CMD;   /* cancelled; the 501 closes it */
            else
                auth_response(s, l, n);
            return;
        }
        s->mode = MODE_CMD;
    }
    if (!n)
        return;
    s->st.commands++;
    const char *a;
    size_t al;
    if (verb_is(l, n, "HELO") || verb_is(l, n, "EHLO")) {
        arg_token(l, n, 5, &a, &al);
        s->helo_len = (uint16_t)BF_MIN(al, sizeof s->helo);
        memcpy(s->helo, a, s->helo_len);
        s->have_helo = true;
        q_push(s, C_HELO);
    } else if (n >= 9 && strncasecmp(l, "MAIL FROM", 9) == 0) {
        if (s->tx && (s->tx->mail_from.ptr || s->tx->has_body)) {
            tx_finish(s, s->tx);   /* a new mail without RSET */
            s->tx = NULL;
        }
        sm_tx *t = cur_tx(s);
        arg_token(l, n, 9, &a, &al);
        t->mail_from = sm_strdup(s, t, a, al);
        q_push(s, C_MAIL);
    } else if (n >= 7 && strncasecmp(l, "RCPT TO", 7) == 0) {
        sm_tx *t = cur_tx(s);
        arg_token(l, n, 7, &a, &al);
        if (t->nrcpt < BF_SMTP_MAX_RCPT) {
            bf_smtp_str r = sm_strdup(s, t, a, al);
            if (r.ptr)
                t->rcpt[t->nrcpt++] = r;
        } else {
            t->rcpt_dropped++;
            s->st.drops++;
        }
        q_push(s, C_RCPT);
    } else if (verb_is(l, n, "DATA")) {
        q_push(s, C_DATA);
        body_start(s);
        s->mode = MODE_DATA;
    } else if (verb_is(l, n, "BDAT")) {
        const char *p = l + 4, *e = l + n;
        while (p < e && *p == ' ')
            p++;
        uint64_t sz = 0;
        int digits = 0;
        while (p < e && isdigit((unsigned char)*p) && digits < 16) {
            sz = sz * 10 + (uint64_t)(*p - '0');
            p++;
            digits++;
        }
        while (p < e && *p == ' ')
            p++;
        bool last = (size_t)(e - p) >= 4 && strncasecmp(p, "LAST", 4) == 0;
        if (!digits || (p < e && !last) || (p < e && isdigit((unsigned char)*p))) {
            sm_event(s, EV_INVALID_BDAT);
            q_push(s, C_OTHER);
            return;
        }
        q_push(s, last ? C_BDAT_LAST : C_BDAT);
        body_start(s);
        s->bdat_left = sz;
        s->bdat_last = last;
        s->mode = MODE_BDAT;
        if (!sz && last)
            body_stop(s, true);
        else if (!sz)
            s->mode = MODE_CMD;
    } else if (verb_is(l, n, "RSET")) {
        if (s->tx) {
            tx_finish(s, s->tx);
            s->tx = NULL;
        }
        q_push(s, C_RSET);
    } else if (verb_is(l, n, "QUIT")) {
        q_push(s, C_QUIT);
    } else if (verb_is(l, n, "STARTTLS")) {
        q_push(s, C_STARTTLS);
    } else if (verb_is(l, n, "AUTH")) {
        arg_token(l, n, 4, &a, &al);
        size_t ml = BF_MIN(al, sizeof s->auth_mech - 1);
        for (size_t i = 0; i < ml; i++)
            s->auth_mech[i] = (char)toupper((unsigned char)a[i]);
        s->auth_mech[ml] = 0;
        s->auth_step = 0;
        s->auth_have_user = false;
        s->auth_open = true;
        q_push(s, C_AUTH);
        const char *ir = a + al;
        size_t irl = (size_t)(l + n - ir);
        while (irl && *ir == ' ') {
            ir++;
            irl--;
        }
        bool has_ir = irl > 0 && !(irl == 1 && *ir == '=');
        if (has_ir)
            auth_response(s, ir, irl);
        /* more client lines unless PLAIN's initial response did it all */
        if (!(has_ir && strcmp(s->auth_mech, "PLAIN") == 0))
            s->mode = MODE_AUTH;
    } else if (verb_is(l, n, "NOOP")) {
        q_push(s, C_NOOP);
    } else {
        q_push(s, C_OTHER);
    }
}

/* ------------------------------------------------------------ replies */

static void reply_done(smtp_state *s, int cmd, uint16_t code)
{
    switch (cmd) {
    case C_DATA:
        if (code != 354) {
            sm_event(s, EV_DATA_COMMAND_REJECTED);
            if (s->mode == MODE_DATA) {
                /* no body follows: what was taken as one is dropped */
                body_stop(s, false);
                tx_finish(s, s->done_tx);
                s->done_tx = NULL;
            }
        }
        break;
    case C_DATA_END:
    case C_BDAT_LAST:
        tx_finish(s, s->done_tx);
        s->done_tx = NULL;
        break;
    case C_STARTTLS:
        if (code == 220)
            s->stopped = true;
        else
            sm_event(s, EV_TLS_REJECTED);
        break;
    case C_AUTH:
        s->mode = s->mode == MODE_AUTH ? MODE_CMD : s->mode;
        s->auth_open = false;
        if (code == 235) {
            s->authenticated = true;
            publish_login(s, BF_LOGIN_SUCCESS, "reply 235");
        } else if (code == 535 || code == 534 || code == 530) {
            publish_login(s, BF_LOGIN_FAILURE, "reply 535");
        } else if (code >= 500) {
            publish_login(s, BF_LOGIN_FAILURE, "reply 5xx");
        } else {
            publish_login(s, BF_LOGIN_UNKNOWN, "reply 4xx");
        }
        break;
    default:
        break;
    }
}

static void reply(smtp_state *s, const char *l, size_t n, bool trunc)
{
    while (n && l[n - 1] == '\r')
        n--;
    if (trunc)
        sm_event(s, EV_MAX_REPLY_LINE_LEN_EXCEEDED);
    bool code = n >= 3 && isdigit((unsigned char)l[0]) && isdigit((unsigned char)l[1]) &&
                isdigit((unsigned char)l[2]) && (n == 3 || l[3] == ' ' || l[3] == '-');
    if (!code) {
        if (n)
            sm_event(s, EV_INVALID_REPLY);
        return;
    }
    s->st.replies++;
    uint16_t c = (uint16_t)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
    if (!s->in_multi)
        s->reply_code = c;
    if (n > 3 && l[3] == '-') {
        if (!s->in_multi)
            memcpy(s->multi, l, 3);
        s->in_multi = true;
        return;
    }
    s->in_multi = false;
    c = s->reply_code;
    if (!s->greeting_seen) {
        s->greeting_seen = true;
        if (c != 220)
            sm_event(s, EV_NO_SERVER_WELCOME_MESSAGE);
        if (c == 220 || !s->qcnt)
            return;   /* the greeting */
    }
    int cmd = q_front(s);
    if (cmd < 0) {
        sm_event(s, EV_UNABLE_TO_MATCH_REPLY_WITH_REQUEST);
        return;
    }
    if (cmd == C_AUTH && c == 334)
        return;   /* a challenge: the exchange goes on */
    q_pop(s);
    reply_done(s, cmd, c);
}

/* ------------------------------------------------------------ lines */

/* Next line piece of sp from data: returns the bytes used; *ln / *n set
 * when a piece is ready (*bol: starts a line, *eol: ends it, *cr: CR
 * before the LF, removed). */
static uint32_t next_piece(smtp_state *s, sm_split *sp, const uint8_t *d, uint32_t avail,
                           const uint8_t **ln, size_t *n, bool *bol, bool *eol, bool *cr)
{
    const uint8_t *nl = memchr(d, '\n', avail);
    uint32_t take = nl ? (uint32_t)(nl - d) + 1 : avail;
    uint32_t body = nl ? take - 1 : take;
    *ln = NULL;
    *bol = !sp->cont;
    if (!sp->len && nl && body <= BF_SMTP_LINE_MAX) {
        *ln = d;
        *n = body;
        *eol = true;
        sp->cont = false;
    } else {
        if (!sp->buf) {
            sp->buf = bf_malloc(BF_SMTP_LINE_MAX);
            sm_mem(s, BF_SMTP_LINE_MAX);
        }
        uint32_t room = BF_SMTP_LINE_MAX - sp->len;
        uint32_t c = BF_MIN(body, room);
        memcpy(sp->buf + sp->len, d, c);
        sp->len = (uint16_t)(sp->len + c);
        if (c < body) {
            take = c;   /* full: hand over this piece, the rest follows */
            nl = NULL;
        }
        if (nl || sp->len == BF_SMTP_LINE_MAX) {
            *ln = sp->buf;
            *n = sp->len;
            *eol = nl != NULL;
            sp->cont = !nl;
            sp->len = 0;
        }
    }
    *cr = false;
    if (*ln && *eol && *n && (*ln)[*n - 1] == '\r') {
        (*n)--;
        *cr = true;
    }
    return take;
}

static void split_release(smtp_state *s, sm_split *sp)
{
    if (sp->buf && !sp->len) {
        free(sp->buf);
        sp->buf = NULL;
        sm_mem(s, -(int64_t)BF_SMTP_LINE_MAX);
    }
}

static void body_piece(smtp_state *s, const uint8_t *l, size_t n, bool bol, bool eol, bool cr,
                       bool dot)
{
    sm_tx *t = s->tx;
    if (!t)
        return;
    if (dot && bol && eol && n == 1 && l[0] == '.') {
        q_push(s, C_DATA_END);
        body_stop(s, true);
        return;
    }
    if (dot && bol && n && l[0] == '.') {
        l++;
        n--;
    }
    t->msg_size += n + (eol ? (cr ? 2 : 1) : 0);
    sm_mime_line(s, t, l, n, bol, eol, cr);
}

static void parse_client(smtp_state *s, const uint8_t *data, uint32_t len)
{
    uint32_t used = 0;
    while (used < len && !s->stopped) {
        const uint8_t *d = data + used;
        uint32_t avail = len - used;
        const uint8_t *ln;
        size_t n;
        bool bol, eol, cr;
        if (s->mode == MODE_BDAT) {
            uint32_t c = (uint32_t)BF_MIN((uint64_t)avail, s->bdat_left);
            uint32_t o = 0;
            while (o < c && s->mode == MODE_BDAT) {
                o += next_piece(s, &s->body, d + o, c - o, &ln, &n, &bol, &eol, &cr);
                if (ln)
                    body_piece(s, ln, n, bol, eol, cr, false);
            }
            used += c;
            s->bdat_left -= c;
            if (!s->bdat_left && s->mode == MODE_BDAT) {
                if (s->bdat_last) {
                    if (s->body.len && s->tx) {
                        sm_mime_line(s, s->tx, s->body.buf, s->body.len, !s->body.cont, true,
                                     false);
                        s->body.len = 0;
                    }
                    body_stop(s, true);
                } else {
                    s->mode = MODE_CMD;
                }
            }
            continue;
        }
        if (s->mode == MODE_DATA) {
            used += next_piece(s, &s->body, d, avail, &ln, &n, &bol, &eol, &cr);
            if (ln)
                body_piece(s, ln, n, bol, eol, cr, true);
            continue;
        }
        sm_split *sp = &s->sp[0];
        used += next_piece(s, sp, d, avail, &ln, &n, &bol, &eol, &cr);
        if (!ln)
            continue;
        if (!bol) {
            sp->dropping = !eol;
            continue;   /* the rest of a too long command line */
        }
        command(s, (const char *)ln, n, !eol);
        split_release(s, sp);
    }
    split_release(s, &s->sp[0]);
}

static void parse_server(smtp_state *s, const uint8_t *data, uint32_t len)
{
    uint32_t used = 0;
    while (used < len && !s->stopped) {
        const uint8_t *ln;
        size_t n;
        bool bol, eol, cr;
        used += next_piece(s, &s->sp[1], data + used, len - used, &ln, &n, &bol, &eol, &cr);
        if (ln && bol)
            reply(s, (const char *)ln, n, !eol);
    }
    split_release(s, &s->sp[1]);
}

/* ------------------------------------------------------------ interface */

static void ctx_set(smtp_state *s, bf_app_ctx *ctx, bf_flow *f, bf_packet *p)
{
    s->ctx = ctx;
    s->f = f;
    s->p = p;
}

static void *smtp_new(bf_app_ctx *ctx, bf_flow *f)
{
    smtp_state *s = bf_calloc(1, sizeof *s);
    ctx_set(s, ctx, f, NULL);
    sm_mem(s, (int64_t)sizeof *s);
    return s;
}

static void smtp_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                       const uint8_t *data, uint32_t len, uint32_t gap)
{
    smtp_state *s = st;
    ctx_set(s, ctx, f, p);
    dir &= 1;
    s->pdir = (uint8_t)dir;
    if (gap && !s->stopped) {
        /* pairing and framing are lost: close what is open, stop */
        if (s->mime && s->mime->file.open)
            s->mime->file.gap = true;
        if (s->mode == MODE_DATA || s->mode == MODE_BDAT)
            body_stop(s, false);
        s->stopped = true;
    }
    if (s->stopped || !data || !len)
        return;
    if (dir == 0)
        parse_client(s, data, len);
    else
        parse_server(s, data, len);
}

static void smtp_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    smtp_state *s = st;
    ctx_set(s, ctx, f, NULL);
    if (s->mode == MODE_DATA || s->mode == MODE_BDAT || s->mime) {
        if (s->body.len && s->tx && s->mime)
            sm_mime_line(s, s->tx, s->body.buf, s->body.len, !s->body.cont, true, false);
        s->body.len = 0;
        body_stop(s, false);
    }
    if (s->done_tx) {
        tx_finish(s, s->done_tx);
        s->done_tx = NULL;
    }
    if (s->tx) {
        tx_finish(s, s->tx);
        s->tx = NULL;
    }
    if (!s->any_tx && s->have_helo)
        log_tx(s, NULL);   /* a session without mail: its helo */
    if (s->auth_open) {
        s->auth_open = false;
        publish_login(s, BF_LOGIN_UNKNOWN, "no reply");
    }
}

static void smtp_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    smtp_state *s = st;
    if (!s)
        return;
    ctx_set(s, ctx, f, NULL);
    sm_mime_free(s, s->mime);
    s->mime = NULL;
    tx_free(s, s->tx);
    tx_free(s, s->done_tx);
    sm_split *sps[3] = {&s->sp[0], &s->sp[1], &s->body};
    for (int i = 0; i < 3; i++)
        if (sps[i]->buf) {
            free(sps[i]->buf);
            sm_mem(s, -(int64_t)BF_SMTP_LINE_MAX);
        }
    sm_mem(s, -(int64_t)sizeof *s);
    free(s);
}

static uint64_t smtp_tx_count(const void *st) { return ((const smtp_state *)st)->next_tx_id; }

const bf_app_parser bf_parser_smtp = {
    .tx_count = smtp_tx_count,
    .proto = BF_APP_SMTP,
    .state_new = smtp_new,
    .state_free = smtp_free,
    .parse = smtp_parse,
    .flow_end = smtp_end,
};
