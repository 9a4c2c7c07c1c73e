/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/ftp/ftp.c: FTP control channel lines, command/reply pairing, data
 * ports, login outcomes, EVE `ftp` events (see ftp.h). */
#include "app/ftp/ftp.h"

#include "app/tx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

enum {
    C_OTHER = 0, C_USER, C_PASS, C_PORT, C_EPRT, C_PASV, C_EPSV, C_AUTH_TLS, C_AUTH,
};

static void mem(bf_app_ctx *ctx, bf_flow *f, int64_t d)
{
    if (f)
        f->app_mem += (uint32_t)d;
    if (ctx && ctx->ft)
        bf_flow_mem_adjust(ctx->ft, d);
}

static void *ftp_new(bf_app_ctx *ctx, bf_flow *f)
{
    bf_ftp_state *s = bf_calloc(1, sizeof *s);
    mem(ctx, f, (int64_t)sizeof *s);
    return s;
}

static void tx_clear(bf_app_ctx *ctx, bf_flow *f, bf_ftp_tx *t)
{
    if (t->data) {
        free(t->data);
        mem(ctx, f, -(int64_t)t->data_len);
    }
    if (t->reply) {
        free(t->reply);
        mem(ctx, f, -(int64_t)t->reply_cap);
    }
    memset(t, 0, sizeof *t);
}

static void ftp_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    bf_ftp_state *s = st;
    if (!s)
        return;
    for (int i = 0; i < 2; i++)
        if (s->lbuf[i]) {
            free(s->lbuf[i]);
            mem(ctx, f, -(int64_t)BF_FTP_LINE_MAX);
        }
    for (unsigned i = 0; i < BF_FTP_MAX_PENDING; i++)
        tx_clear(ctx, f, &s->q[i]);
    free(s);
    mem(ctx, f, -(int64_t)sizeof *s);
}

/* ------------------------------------------------------------ EVE */

static bool is3digits(const char *l, size_t n)
{
    return n >= 3 && isdigit((unsigned char)l[0]) && isdigit((unsigned char)l[1]) &&
           isdigit((unsigned char)l[2]);
}

/* The "ftp" object of a tx (EVE event, alert metadata). */
static void json_ftp(bf_json *j, const bf_ftp_tx *t)
{
    bf_json_open_obj(j, "ftp");
    if (t->cmd[0])
        bf_json_str(j, "command", t->cmd);
    if (t->data) {
        bf_json_strn(j, "command_data", t->data, t->data_len);
        bf_json_bool(j, "command_truncated", t->cmd_trunc);
    }
    /* completion codes then reply texts, line by line, as Suricata */
    bool any_code = false;
    for (int pass = 0; pass < 2; pass++) {
        bool open = false;
        size_t o = 0;
        while (o < t->reply_len) {
            const char *l = t->reply + o;
            const char *nl = memchr(l, '\n', t->reply_len - o);
            size_t n = nl ? (size_t)(nl - l) : t->reply_len - o;
            o += n + 1;
            bool code = is3digits(l, n);
            if (pass == 0 && code) {
                if (!open) {
                    bf_json_open_arr(j, "completion_code");
                    open = any_code = true;
                }
                bf_json_strn(j, NULL, l, 3);
            } else if (pass == 1) {
                size_t off = code ? 4 : 0;
                if (n < off)
                    continue;
                if (!open) {
                    bf_json_open_arr(j, "reply");
                    open = true;
                }
                bf_json_strn(j, NULL, l + off, n - off);
            }
        }
        if (open)
            bf_json_close_arr(j);
    }
    (void)any_code;
    if (t->dyn_port)
        bf_json_uint(j, "dynamic_port", t->dyn_port);
    if (t->cmd_id == C_PORT || t->cmd_id == C_EPRT)
        bf_json_str(j, "mode", t->active ? "active" : "passive");
    bf_json_str(j, "reply_received", t->done ? "yes" : "no");
    bf_json_bool(j, "reply_truncated", t->reply_trunc);
    bf_json_close_obj(j);
}

static void log_tx(bf_app_ctx *ctx, bf_flow *f, bf_packet *p, const bf_ftp_tx *t)
{
    if (!ctx || !ctx->eve)
        return;
    bf_eve *e = ctx->eve;
    bf_eve_begin_flow(e, "ftp", p ? p->ts : f->last, p, f);
    bf_json_uint(&e->j, "tx_id", t->tx_id);
    json_ftp(&e->j, t);
    bf_eve_end(e);
}

/* ------------------------------------------------------------ detect */

static void tx_meta(const void *ud, bf_json *j) { json_ftp(j, ud); }

/* BF_BUS_TX for t: dir 0 with done[0] when the command is parsed, both
 * done on its final reply (or when it is given up: flow end, ring full). */
static void publish_tx(bf_app_ctx *ctx, bf_flow *f, bf_packet *p, const bf_ftp_tx *t, int dir,
                       bool final)
{
    if (!ctx || !ctx->bus || !bf_bus_wanted(ctx->bus, BF_BUS_TX))
        return;
    bf_tx_view v;
    memset(&v, 0, sizeof v);
    v.app_proto = BF_APP_FTP;
    v.dir = (uint8_t)dir;
    v.done[0] = true;
    v.done[1] = final;
    v.body_final[0] = true;
    v.body_final[1] = final;
    v.tx_id = t->tx_id;
    bf_dbuf cmd, data;
    if (t->cmd[0])
        bf_tx_set(&v, BF_DBUF_FTP_COMMAND, &cmd, t->cmd, (uint32_t)strlen(t->cmd));
    if (t->data)
        bf_tx_set(&v, BF_DBUF_FTP_COMMAND_DATA, &data, t->data, t->data_len);
    v.log_meta = tx_meta;
    v.log_ud = t;
    bf_bus_publish(ctx->bus, BF_BUS_TX, f, p, &v);
}

/* ------------------------------------------------------------ ports */

/* Reads a decimal number <= max at *p (< end); false if none. */
static bool num(const char **p, const char *end, uint32_t max, uint32_t *out)
{
    const char *q = *p;
    uint32_t v = 0;
    int digits = 0;
    while (q < end && isdigit((unsigned char)*q) && digits < 6) {
        v = v * 10 + (uint32_t)(*q - '0');
        q++;
        digits++;
    }
    if (!digits || v > max || (q < end && isdigit((unsigned char)*q)))
        return false;
    *p = q;
    *out = v;
    return true;
}

/* "h1,h2,h3,h4,p1,p2" starting at the first digit at or after p. */
static uint16_t port_6tuple(const char *p, const char *end)
{
    while (p < end && !isdigit((unsigned char)*p))
        p++;
    uint32_t v[6];
    for (int i = 0; i < 6; i++) {
        if (i) {
            while (p < end && *p == ' ')
                p++;
            if (p >= end || *p != ',')
                return 0;
            p++;
            while (p < end && *p == ' ')
                p++;
        }
        if (!num(&p, end, 255, &v[i]))
            return 0;
    }
    return (uint16_t)(v[4] * 256 + v[5]);
}

/* EPRT |af|addr|port|  and 229 (|||port|): the port after the 3rd delimiter */
static uint16_t port_delim(const char *p, const char *end)
{
    if (p >= end)
        return 0;
    char d = *p;
    if (d < 33 || d > 126 || isalnum((unsigned char)d))
        return 0;
    int seen = 0;
    while (p < end && seen < 3) {
        if (*p == d)
            seen++;
        p++;
    }
    uint32_t v;
    if (seen < 3 || !num(&p, end, 65535, &v) || p >= end || *p != d)
        return 0;
    return (uint16_t)v;
}

/* ------------------------------------------------------------ commands */

static const struct { const char *name; uint8_t id; } known[] = {
    {"USER", C_USER}, {"PASS", C_PASS}, {"PORT", C_PORT}, {"EPRT", C_EPRT},
    {"PASV", C_PASV}, {"EPSV", C_EPSV}, {"AUTH", C_AUTH},
};

static void tx_set_data(bf_app_ctx *ctx, bf_flow *f, bf_ftp_tx *t, const char *d, size_t n)
{
    if (!n)
        return;
    t->data = bf_malloc(n);
    memcpy(t->data, d, n);
    t->data_len = (uint16_t)n;
    mem(ctx, f, (int64_t)n);
}

static bf_ftp_tx *q_at(bf_ftp_state *s, unsigned i)
{
    return &s->q[(s->qhead + i) % BF_FTP_MAX_PENDING];
}

static void q_pop(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s)
{
    tx_clear(ctx, f, q_at(s, 0));
    s->qhead = (uint8_t)((s->qhead + 1) % BF_FTP_MAX_PENDING);
    s->qcnt--;
}

static bf_ftp_tx *q_push(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p)
{
    if (s->qcnt == BF_FTP_MAX_PENDING) {
        s->st.pending_drops++;
        if (!q_at(s, 0)->done)
            publish_tx(ctx, f, p, q_at(s, 0), 0, true);
        log_tx(ctx, f, p, q_at(s, 0));
        q_pop(ctx, f, s);
    }
    bf_ftp_tx *t = q_at(s, s->qcnt++);
    memset(t, 0, sizeof *t);
    t->tx_id = s->next_tx_id++;
    return t;
}

static void command(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p, const char *l,
                    size_t n, bool trunc)
{
    while (n && (l[n - 1] == '\r' || l[n - 1] == ' '))
        n--;
    if (!n)
        return;
    s->st.commands++;
    bf_ftp_tx *t = q_push(ctx, f, s, p);
    size_t v = 0;
    while (v < n && l[v] != ' ')
        v++;
    size_t vl = 0;
    for (size_t i = 0; i < v && vl < sizeof t->cmd - 1; i++)
        if (isalnum((unsigned char)l[i]))
            t->cmd[vl++] = (char)toupper((unsigned char)l[i]);
    t->cmd[vl] = 0;
    if (!vl)
        snprintf(t->cmd, sizeof t->cmd, "UNKNOWN");
    for (size_t i = 0; i < BF_ARRAY_LEN(known); i++)
        if (strcmp(t->cmd, known[i].name) == 0)
            t->cmd_id = known[i].id;
    const char *arg = v < n ? l + v + 1 : l + n;
    size_t al = (size_t)(l + n - arg);
    if (t->cmd_id == C_AUTH && al >= 3 &&
        (strncasecmp(arg, "TLS", 3) == 0 || strncasecmp(arg, "SSL", 3) == 0)) {
        /* Suricata names this command "AUTH TLS" */
        t->cmd_id = C_AUTH_TLS;
        snprintf(t->cmd, sizeof t->cmd, "AUTH TLS");
        arg += 3;
        al -= 3;
        while (al && *arg == ' ') {
            arg++;
            al--;
        }
    }
    tx_set_data(ctx, f, t, arg, al);
    t->cmd_trunc = trunc;
    if (t->cmd_id == C_USER) {
        s->user_len = (uint16_t)BF_MIN(al, (size_t)BF_FTP_USER_MAX);
        memcpy(s->user, arg, s->user_len);
        s->have_user = true;
    }
    publish_tx(ctx, f, p, t, 0, false);
}

/* ------------------------------------------------------------ replies */

static void publish_login(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p,
                          enum bf_login_outcome o, const char *detail)
{
    s->st.logins++;
    if (!ctx || !ctx->bus)
        return;
    bf_login_event ev = {
        .service = "ftp",
        .user = s->have_user ? s->user : NULL,
        .user_len = s->have_user ? s->user_len : 0,
        .outcome = o,
        .attempts = 1,
        .detail = detail,
    };
    bf_bus_publish(ctx->bus, BF_BUS_LOGIN, f, p, &ev);
}

static void tx_done(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p, bf_ftp_tx *t,
                    const char *last, size_t ln)
{
    t->done = true;
    const char *end = last + ln;
    switch (t->cmd_id) {
    case C_PORT:
        if (t->data)
            t->dyn_port = port_6tuple(t->data, t->data + t->data_len);
        t->active = t->dyn_port != 0;
        break;
    case C_EPRT:
        if (t->data)
            t->dyn_port = port_delim(t->data, t->data + t->data_len);
        t->active = t->dyn_port != 0;
        break;
    case C_PASV:
        if (t->code == 227 && ln > 4) {
            const char *par = memchr(last + 4, '(', ln - 4);
            t->dyn_port = port_6tuple(par ? par + 1 : last + 4, end);
        }
        break;
    case C_EPSV:
        if (t->code == 229 && ln > 4) {
            const char *par = memchr(last + 4, '(', ln - 4);
            if (par)
                t->dyn_port = port_delim(par + 1, end);
        }
        break;
    case C_AUTH_TLS:
        if (t->code == 234)
            s->stopped = true;   /* TLS from here on */
        break;
    case C_PASS:
        if (t->code >= 200 && t->code < 300)
            publish_login(ctx, f, s, p, BF_LOGIN_SUCCESS, "reply 2xx");
        else if (t->code >= 400 && t->code < 600)
            publish_login(ctx, f, s, p, BF_LOGIN_FAILURE, "reply 4xx/5xx");
        else if (t->code != 332)   /* 332: needs ACCT, outcome comes later */
            publish_login(ctx, f, s, p, BF_LOGIN_UNKNOWN, "unexpected reply");
        break;
    case C_USER:
        /* 230 without a password, or 530 refusing the user */
        if (t->code == 230)
            publish_login(ctx, f, s, p, BF_LOGIN_SUCCESS, "reply 230 to USER");
        else if (t->code == 530 || t->code == 430)
            publish_login(ctx, f, s, p, BF_LOGIN_FAILURE, "reply 530 to USER");
        break;
    }
}

static void reply_append(bf_app_ctx *ctx, bf_flow *f, bf_ftp_tx *t, const char *l, size_t n,
                         bool trunc)
{
    if (trunc)
        t->reply_trunc = true;
    if (t->nlines >= BF_FTP_REPLY_LINES || t->reply_len + n + 1 > BF_FTP_REPLY_MAX) {
        t->reply_trunc = true;
        return;
    }
    if (!t->reply) {
        t->reply_cap = BF_FTP_REPLY_MAX;
        t->reply = bf_malloc(t->reply_cap);
        mem(ctx, f, t->reply_cap);
    }
    memcpy(t->reply + t->reply_len, l, n);
    t->reply_len += (uint32_t)n;
    t->reply[t->reply_len++] = '\n';
    t->nlines++;
}

static void reply(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p, const char *l,
                  size_t n, bool trunc)
{
    while (n && l[n - 1] == '\r')
        n--;
    s->st.replies++;
    /* the oldest command waiting for its reply, or a new unsolicited one */
    bf_ftp_tx *t = NULL;
    for (unsigned i = 0; i < s->qcnt && !t; i++)
        if (!q_at(s, i)->done)
            t = q_at(s, i);
    if (!t)
        t = q_push(ctx, f, s, p);
    reply_append(ctx, f, t, l, n, trunc);
    bool code = is3digits(l, n);
    uint16_t c = code ? (uint16_t)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0')) : 0;
    bool final = false;
    if (s->in_multi) {
        /* RFC 959 4.2: ends with the same code followed by a space */
        if (code && memcmp(l, s->multi, 3) == 0 && (n == 3 || l[3] == ' ')) {
            s->in_multi = false;
            final = true;
        }
    } else if (code && n > 3 && l[3] == '-') {
        s->in_multi = true;
        memcpy(s->multi, l, 3);
    } else {
        final = true;
    }
    if (c)
        t->code = c;
    if (!final)
        return;
    if (t->code >= 100 && t->code < 200)
        return;   /* preliminary: the command stays open (150 then 226) */
    tx_done(ctx, f, s, p, t, l, n);
    publish_tx(ctx, f, p, t, 1, true);
    /* log and drop the finished commands at the head, in order */
    while (s->qcnt && q_at(s, 0)->done) {
        log_tx(ctx, f, p, q_at(s, 0));
        q_pop(ctx, f, s);
    }
}

/* ------------------------------------------------------------ lines */

static void line(bf_app_ctx *ctx, bf_flow *f, bf_ftp_state *s, bf_packet *p, int dir,
                 const uint8_t *l, size_t n, bool trunc)
{
    if (trunc)
        s->st.truncated_lines++;
    if (dir == 0)
        command(ctx, f, s, p, (const char *)l, n, trunc);
    else
        reply(ctx, f, s, p, (const char *)l, n, trunc);
}

static void ftp_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    bf_ftp_state *s = st;
    dir &= 1;
    if (gap)
        s->stopped = true;   /* pairing is lost: give up */
    if (s->stopped || !data)
        return;
    uint32_t used = 0;
    while (used < len && !s->stopped) {
        const uint8_t *q = data + used;
        uint32_t avail = len - used;
        const uint8_t *nl = memchr(q, '\n', avail);
        uint32_t take = nl ? (uint32_t)(nl - q) + 1 : avail;
        uint32_t body = nl ? take - 1 : take;   /* without the LF */
        used += take;
        if (s->ltrunc[dir]) {
            /* the head of this line was already handed over */
            if (nl)
                s->ltrunc[dir] = false;
            continue;
        }
        if (!s->llen[dir] && nl && body <= BF_FTP_LINE_MAX) {
            line(ctx, f, s, p, dir, q, body, false);   /* whole line, no copy */
            continue;
        }
        if (!s->lbuf[dir]) {
            s->lbuf[dir] = bf_malloc(BF_FTP_LINE_MAX);
            mem(ctx, f, BF_FTP_LINE_MAX);
        }
        uint32_t room = BF_FTP_LINE_MAX - s->llen[dir];
        uint32_t c = BF_MIN(body, room);
        memcpy(s->lbuf[dir] + s->llen[dir], q, c);
        s->llen[dir] = (uint16_t)(s->llen[dir] + c);
        if (c < body || (!nl && s->llen[dir] == BF_FTP_LINE_MAX)) {
            /* over the cap: hand over the head, drop the rest of the line */
            line(ctx, f, s, p, dir, s->lbuf[dir], s->llen[dir], true);
            s->llen[dir] = 0;
            s->ltrunc[dir] = !nl;
        } else if (nl) {
            line(ctx, f, s, p, dir, s->lbuf[dir], s->llen[dir], false);
            s->llen[dir] = 0;
        }
        if (!s->llen[dir] && s->lbuf[dir]) {
            free(s->lbuf[dir]);
            s->lbuf[dir] = NULL;
            mem(ctx, f, -(int64_t)BF_FTP_LINE_MAX);
        }
    }
}

static void ftp_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    bf_ftp_state *s = st;
    while (s->qcnt) {
        bf_ftp_tx *t = q_at(s, 0);
        if (t->cmd_id == C_PASS && !t->done)
            publish_login(ctx, f, s, NULL, BF_LOGIN_UNKNOWN, "no reply");
        if (!t->done)
            publish_tx(ctx, f, NULL, t, 0, true);
        log_tx(ctx, f, NULL, t);
        q_pop(ctx, f, s);
    }
}

const bf_app_parser bf_parser_ftp = {
    .proto = BF_APP_FTP,
    .state_new = ftp_new,
    .state_free = ftp_free,
    .parse = ftp_parse,
    .flow_end = ftp_end,
};
