/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/ssh/ssh.c: SSH banners, KEXINIT / HASSH, NEWKEYS, encrypted counts and
 * the authentication outcome inference (see ssh.h). */
#include "app/ssh/ssh.h"

#include "app/tx.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

enum { MSG_KEXINIT = 20, MSG_NEWKEYS = 21 };

static void mem(bf_app_ctx *ctx, bf_flow *f, int64_t d)
{
    if (f)
        f->app_mem += (uint32_t)d;
    if (ctx && ctx->ft)
        bf_flow_mem_adjust(ctx->ft, d);
}

static void *ssh_new(bf_app_ctx *ctx, bf_flow *f)
{
    bf_ssh_state *s = bf_calloc(1, sizeof *s);
    s->burst_dir = -1;
    mem(ctx, f, (int64_t)sizeof *s);
    return s;
}

static void free_pkt(bf_app_ctx *ctx, bf_flow *f, bf_ssh_side *d)
{
    if (d->pkt) {
        free(d->pkt);
        mem(ctx, f, -(int64_t)d->pneed);
        d->pkt = NULL;
    }
    d->plen = d->pneed = 0;
}

static void ssh_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    bf_ssh_state *s = st;
    if (!s)
        return;
    for (int i = 0; i < 2; i++) {
        free_pkt(ctx, f, &s->side[i]);
        if (s->side[i].hassh_str) {
            free(s->side[i].hassh_str);
            mem(ctx, f, -(int64_t)(s->side[i].hassh_len + 1));
        }
    }
    free(s);
    mem(ctx, f, -(int64_t)sizeof *s);
}

/* ------------------------------------------------------------ banners */

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    n = BF_MIN(n, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* One complete (or truncated) line of direction dir. */
static void banner_line(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, bf_packet *p, int dir,
                        const uint8_t *l, uint32_t n)
{
    bf_ssh_side *d = &s->side[dir];
    while (n && (l[n - 1] == '\r' || l[n - 1] == '\n'))
        n--;
    if (n < 4 || memcmp(l, "SSH-", 4) != 0) {
        /* RFC 4253 4.2: the server may send other lines first */
        d->prebanner += n + 1;
        if (d->prebanner > BF_SSH_PREBANNER_MAX)
            d->phase = BF_SSH_DONE;
        return;
    }
    const uint8_t *pv = l + 4, *end = l + n;
    const uint8_t *dash = memchr(pv, '-', (size_t)(end - pv));
    if (!dash) {
        d->phase = BF_SSH_DONE;
        return;
    }
    copy_str(d->proto, sizeof d->proto, pv, (size_t)(dash - pv));
    const uint8_t *sv = dash + 1, *se = sv;
    while (se < end && *se != ' ')
        se++;
    copy_str(d->soft, sizeof d->soft, sv, (size_t)(se - sv));
    d->banner = true;
    /* SSH-1 ("1.5"): binary packets differ; "1.99" is SSH-2 compatible */
    if (d->proto[0] == '1' && strcmp(d->proto, "1.99") != 0)
        d->phase = BF_SSH_DONE;
    else
        d->phase = BF_SSH_PACKETS;
    s->tx_dirty = true;
    if (ctx && ctx->bus) {
        bf_ssh_banner_event ev = {dir, d->proto, d->soft};
        bf_bus_publish(ctx->bus, BF_BUS_SSH_BANNER, f, p, &ev);
    }
}

/* Consumes banner bytes; returns bytes used. */
static uint32_t parse_banner(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, bf_packet *p,
                             int dir, const uint8_t *data, uint32_t len)
{
    bf_ssh_side *d = &s->side[dir];
    uint32_t used = 0;
    while (used < len && d->phase == BF_SSH_BANNER) {
        const uint8_t *q = data + used;
        uint32_t avail = len - used;
        const uint8_t *nl = memchr(q, '\n', avail);
        uint32_t take = nl ? (uint32_t)(nl - q) + 1 : avail;
        used += take;
        if (d->line_skip) {
            d->prebanner += take;
            if (nl)
                d->line_skip = false;
            if (d->prebanner > BF_SSH_PREBANNER_MAX)
                d->phase = BF_SSH_DONE;
            continue;
        }
        uint32_t room = BF_SSH_LINE_MAX - d->line_len;
        uint32_t c = BF_MIN(take, room);
        memcpy(d->line + d->line_len, q, c);
        d->line_len = (uint16_t)(d->line_len + c);
        if (nl && c == take) {
            banner_line(ctx, f, s, p, dir, d->line, d->line_len);
            d->line_len = 0;
        } else if (d->line_len == BF_SSH_LINE_MAX) {
            /* too long: parse what we have, drop the rest of the line */
            d->drops++;
            banner_line(ctx, f, s, p, dir, d->line, d->line_len);
            d->line_len = 0;
            /* the rest of this line, up to and including its LF, is
             * skipped (by ssh_parse once the banner is parsed) */
            used -= take - c;
            d->line_skip = true;
            if (d->phase != BF_SSH_BANNER)
                break;
        }
    }
    return used;
}

/* ------------------------------------------------------------ KEXINIT */

/* Reads an SSH name-list at *off; false if it does not fit. */
static bool name_list(const uint8_t *b, uint32_t n, uint32_t *off, const uint8_t **v,
                      uint32_t *vl)
{
    if (n - *off < 4)
        return false;
    uint32_t l = bf_be32(b + *off);
    if (l > n - *off - 4)
        return false;
    *v = b + *off + 4;
    *vl = l;
    *off += 4 + l;
    return true;
}

static void md5_hex(const char *s, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!EVP_Digest(s, n, md, &ml, EVP_md5(), NULL) || ml != 16) {
        out[0] = 0;
        return;
    }
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* True if name (len n) is in the comma-separated list l. */
static bool in_list(const char *l, uint32_t ll, const char *name, uint32_t n)
{
    uint32_t i = 0;
    while (i <= ll) {
        uint32_t j = i;
        while (j < ll && l[j] != ',')
            j++;
        if (j - i == n && memcmp(l + i, name, n) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

/* RFC 4253 7.1: the first of the client's kex methods the server supports. */
static void choose_kex(bf_ssh_state *s)
{
    const bf_ssh_side *c = &s->side[0], *sv = &s->side[1];
    if (!c->kexinit || !sv->kexinit)
        return;
    const char *cl = c->hassh_str, *sl = sv->hassh_str;
    uint32_t i = 0;
    while (i <= c->kex_len) {
        uint32_t j = i;
        while (j < c->kex_len && cl[j] != ',')
            j++;
        if (j > i && in_list(sl, sv->kex_len, cl + i, j - i)) {
            copy_str(s->kex, sizeof s->kex, (const uint8_t *)cl + i, j - i);
            return;
        }
        i = j + 1;
    }
}

/* payload: the KEXINIT after its message byte. */
static void parse_kexinit(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, int dir,
                          const uint8_t *b, uint32_t n)
{
    bf_ssh_side *d = &s->side[dir];
    if (d->kexinit || n < 16)
        return;   /* only the first KEXINIT (re-keying is encrypted anyway) */
    uint32_t off = 16;   /* cookie */
    const uint8_t *v[10];
    uint32_t vl[10];
    for (int i = 0; i < 10; i++)
        if (!name_list(b, n, &off, &v[i], &vl[i]))
            return;
    /* client: kex;enc_c2s;mac_c2s;cmp_c2s  server: kex;enc_s2c;mac_s2c;cmp_s2c */
    int idx[4] = {0, 2 + dir, 4 + dir, 6 + dir};
    size_t total = 3;
    for (int i = 0; i < 4; i++)
        total += vl[idx[i]];
    char *str = bf_malloc(total + 1);
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            str[o++] = ';';
        memcpy(str + o, v[idx[i]], vl[idx[i]]);
        o += vl[idx[i]];
    }
    str[o] = 0;
    d->hassh_str = str;
    d->hassh_len = (uint32_t)o;
    d->kex_len = vl[0];
    mem(ctx, f, (int64_t)(o + 1));
    md5_hex(str, o, d->hassh);
    d->kexinit = true;
    s->tx_dirty = true;
    choose_kex(s);
}

/* ------------------------------------------------------------ bursts */

static void close_burst(bf_ssh_state *s)
{
    if (s->burst_dir < 0 || !s->burst_len)
        return;
    uint32_t L = s->burst_len;
    int dir = s->burst_dir;
    s->burst_len = 0;
    if (dir == 0) {
        s->cli_bursts++;
        s->cli_since++;
        return;
    }
    if (!s->cli_bursts)
        return;   /* EXT_INFO or anything before the SERVICE_REQUEST */
    s->srv_bursts++;
    if (s->srv_bursts == 1) {
        s->S = L;
        return;
    }
    if (L < s->S) {
        s->success = true;
        s->srv_since++;
        return;
    }
    if (!s->F && !s->success)
        s->F = L;
    if (L == s->F && !s->success) {
        s->fails++;
        s->srv_since = s->cli_since = 0;
        return;
    }
    s->srv_since++;
}

static void encrypted(bf_ssh_state *s, int dir, uint32_t n)
{
    bf_ssh_side *d = &s->side[dir];
    d->enc_pkts++;
    d->enc_bytes += n;
    if (s->burst_dir != dir) {
        close_burst(s);
        s->burst_dir = (int8_t)dir;
    }
    if (s->burst_len > UINT32_MAX - n)
        s->burst_len = UINT32_MAX;
    else
        s->burst_len += n;
}

bool bf_ssh_auth_decide(bf_ssh_state *s)
{
    close_burst(s);
    s->burst_dir = -1;
    /* the client's first burst is the SERVICE_REQUEST */
    bool reached = s->cli_bursts >= 2 || s->fails || s->success;
    uint32_t probe = s->fails ? 1 : 0;
    uint32_t fails = s->fails - probe;
    if (s->success) {
        s->outcome = BF_LOGIN_SUCCESS;
        s->attempts = fails + 1;
    } else if (!s->heur_broken && s->side[0].newkeys && s->side[1].newkeys &&
               s->srv_since >= 2 && s->cli_since >= 2 && s->srv_bursts >= 2) {
        s->outcome = BF_LOGIN_SUCCESS;
        s->attempts = fails + 1;
    } else if (!s->heur_broken && s->fails) {
        s->outcome = BF_LOGIN_FAILURE;
        s->attempts = BF_MAX(fails, 1u);
    } else {
        s->outcome = BF_LOGIN_UNKNOWN;
        s->attempts = BF_MAX(fails, 1u);
    }
    return reached;
}

/* ------------------------------------------------------------ packets */

/* Binary packets until NEWKEYS; returns bytes used. */
static uint32_t parse_packets(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, int dir,
                              const uint8_t *data, uint32_t len)
{
    bf_ssh_side *d = &s->side[dir];
    uint32_t used = 0;
    while (used < len && d->phase == BF_SSH_PACKETS) {
        const uint8_t *q = data + used;
        uint32_t avail = len - used;
        if (d->skip) {
            uint32_t c = BF_MIN(avail, d->skip);
            d->skip -= c;
            used += c;
            if (!d->skip && d->hdr[5] == MSG_NEWKEYS) {
                d->newkeys = true;
                d->phase = BF_SSH_ENCRYPTED;
            }
            if (!d->skip)
                d->hlen = 0;
            continue;
        }
        if (d->pkt) {
            uint32_t c = BF_MIN(avail, d->pneed - d->plen);
            memcpy(d->pkt + d->plen, q, c);
            d->plen += c;
            used += c;
            if (d->plen == d->pneed) {
                /* payload after the message byte, without the padding */
                uint32_t pl = d->pneed >= d->padlen ? d->pneed - d->padlen : 0;
                parse_kexinit(ctx, f, s, dir, d->pkt, pl);
                free_pkt(ctx, f, d);
                d->hlen = 0;
            }
            continue;
        }
        uint32_t c = BF_MIN(avail, (uint32_t)(6 - d->hlen));
        memcpy(d->hdr + d->hlen, q, c);
        d->hlen = (uint8_t)(d->hlen + c);
        used += c;
        if (d->hlen < 6)
            continue;
        uint32_t plen = bf_be32(d->hdr);
        uint8_t pad = d->hdr[4];
        /* RFC 4253 6: padding >= 4, payload >= 1 (the message byte) */
        if (plen < 6 || plen > BF_SSH_PACKET_MAX || pad < 4 || pad > plen - 2) {
            d->phase = BF_SSH_DONE;
            break;
        }
        d->packets++;
        uint32_t rest = plen - 2;   /* after padding_length and msg */
        d->padlen = pad;
        if (d->hdr[5] == MSG_KEXINIT && !d->kexinit && rest <= BF_SSH_KEXINIT_MAX) {
            d->pkt = bf_malloc(rest);
            d->pneed = rest;
            d->plen = 0;
            mem(ctx, f, rest);
            if (!rest) {
                free_pkt(ctx, f, d);
                d->hlen = 0;
            }
            continue;
        }
        if (d->hdr[5] == MSG_KEXINIT && !d->kexinit)
            d->drops++;
        d->skip = rest;
        if (!rest) {
            if (d->hdr[5] == MSG_NEWKEYS) {
                d->newkeys = true;
                d->phase = BF_SSH_ENCRYPTED;
            }
            d->hlen = 0;
        }
    }
    return used;
}

static void log_event(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, bf_packet *p)
{
    if (s->logged || !ctx || !ctx->eve)
        return;
    if (!s->side[0].banner && !s->side[1].banner)
        return;
    s->logged = true;
    bf_eve *e = ctx->eve;
    bf_eve_begin_flow(e, "ssh", p ? p->ts : f->last, p, f);
    bf_json_uint(&e->j, "tx_id", 0);   /* one transaction per flow, as Suricata */
    bf_ssh_eve_fields(&e->j, s);
    bf_eve_end(e);
}

/* ------------------------------------------------------------ BF_BUS_TX */

static bool tx_wanted(const bf_app_ctx *ctx)
{
    return ctx && ctx->bus && bf_bus_wanted(ctx->bus, BF_BUS_TX);
}

static void tx_log_meta(const void *ud, bf_json *j) { bf_ssh_eve_fields(j, ud); }

static void tx_publish(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, bf_packet *p, bool final)
{
    s->tx_dirty = false;
    if (s->tx_final || !tx_wanted(ctx))
        return;
    if (final)
        s->tx_done[0] = s->tx_done[1] = true;
    bf_tx_view v;
    bf_dbuf b[6];
    memset(&v, 0, sizeof v);
    v.app_proto = BF_APP_SSH;
    v.dir = s->tx_dir;
    for (int i = 0; i < 2; i++)
        v.done[i] = v.body_final[i] = s->tx_done[i];
    v.tx_id = 0;
    /* ssh.proto / ssh.software: the side of the publishing direction */
    const bf_ssh_side *d = &s->side[v.dir];
    if (d->banner && d->proto[0]) {
        bf_tx_set(&v, BF_DBUF_SSH_PROTO, &b[0], d->proto, (uint32_t)strlen(d->proto));
        if (d->soft[0])
            bf_tx_set(&v, BF_DBUF_SSH_SOFTWARE, &b[1], d->soft, (uint32_t)strlen(d->soft));
    }
    const bf_ssh_side *c = &s->side[0], *sv = &s->side[1];
    if (c->kexinit && c->hassh[0]) {
        bf_tx_set(&v, BF_DBUF_SSH_HASSH, &b[2], c->hassh, 32);
        bf_tx_set(&v, BF_DBUF_SSH_HASSH_STRING, &b[3], c->hassh_str, c->hassh_len);
    }
    if (sv->kexinit && sv->hassh[0]) {
        bf_tx_set(&v, BF_DBUF_SSH_HASSH_SERVER, &b[4], sv->hassh, 32);
        bf_tx_set(&v, BF_DBUF_SSH_HASSH_SERVER_STRING, &b[5], sv->hassh_str, sv->hassh_len);
    }
    v.log_meta = tx_log_meta;
    v.log_ud = s;
    s->tx_any = true;
    bf_bus_publish(ctx->bus, BF_BUS_TX, f, p, &v);
    if (s->tx_done[0] && s->tx_done[1])
        s->tx_final = true;
}

/* After a call for direction dir: what progressed is published. */
static void tx_update(bf_app_ctx *ctx, bf_flow *f, bf_ssh_state *s, bf_packet *p, int dir)
{
    if (s->tx_final)
        return;
    const bf_ssh_side *d = &s->side[dir];
    bool done = d->phase == BF_SSH_ENCRYPTED || d->phase == BF_SSH_DONE;
    if (done && !s->tx_done[dir]) {
        s->tx_done[dir] = true;
        s->tx_dirty = true;
    }
    if (s->tx_dirty) {
        s->tx_dir = (uint8_t)dir;
        tx_publish(ctx, f, s, p, false);
    }
}

static void ssh_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    bf_ssh_state *s = st;
    dir &= 1;
    bf_ssh_side *d = &s->side[dir];
    if (gap) {
        if (d->phase == BF_SSH_ENCRYPTED) {
            s->heur_broken = true;
        } else if (d->phase != BF_SSH_DONE) {
            free_pkt(ctx, f, d);
            d->phase = BF_SSH_DONE;
        }
    }
    if (!data) {
        tx_update(ctx, f, s, p, dir);
        return;
    }
    uint32_t used = 0;
    for (int guard = 0; used < len && guard < 5; guard++) {
        if (d->line_skip && d->phase != BF_SSH_BANNER) {
            /* the tail of a banner longer than the cap */
            const uint8_t *nl = memchr(data + used, '\n', len - used);
            if (!nl)
                break;
            d->line_skip = false;
            used = (uint32_t)(nl - data) + 1;
            continue;
        }
        switch (d->phase) {
        case BF_SSH_BANNER:
            used += parse_banner(ctx, f, s, p, dir, data + used, len - used);
            break;
        case BF_SSH_PACKETS:
            used += parse_packets(ctx, f, s, dir, data + used, len - used);
            break;
        case BF_SSH_ENCRYPTED:
            encrypted(s, dir, len - used);
            used = len;
            break;
        default:
            used = len;
            break;
        }
    }
    if (s->side[0].phase >= BF_SSH_ENCRYPTED && s->side[1].phase >= BF_SSH_ENCRYPTED)
        log_event(ctx, f, s, p);
    tx_update(ctx, f, s, p, dir);
}

static void ssh_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    bf_ssh_state *s = st;
    log_event(ctx, f, s, NULL);
    if (s->tx_any || s->tx_dirty || s->side[0].banner || s->side[1].banner)
        tx_publish(ctx, f, s, NULL, true);
    bool reached = bf_ssh_auth_decide(s);
    if (reached && !s->login_published && ctx && ctx->bus) {
        s->login_published = true;
        bf_login_event ev = {
            .service = "ssh",
            .user = NULL,
            .user_len = 0,
            .outcome = s->outcome,
            .attempts = s->attempts,
            .detail = "size heuristic",
        };
        bf_bus_publish(ctx->bus, BF_BUS_LOGIN, f, NULL, &ev);
    }
}

static void side_json(bf_json *j, const char *key, const bf_ssh_side *d)
{
    if (!d->banner || !d->proto[0])
        return;
    bf_json_open_obj(j, key);
    bf_json_str(j, "proto_version", d->proto);
    if (d->soft[0])
        bf_json_str(j, "software_version", d->soft);
    if (d->kexinit) {
        bf_json_open_obj(j, "hassh");
        if (d->hassh[0])
            bf_json_str(j, "hash", d->hassh);
        bf_json_strn(j, "string", d->hassh_str, d->hassh_len);
        bf_json_close_obj(j);
    }
    bf_json_close_obj(j);
}

bool bf_ssh_eve_fields(bf_json *j, const bf_ssh_state *s)
{
    if (!(s->side[0].banner && s->side[0].proto[0]) && !(s->side[1].banner && s->side[1].proto[0]))
        return false;
    bf_json_open_obj(j, "ssh");
    side_json(j, "client", &s->side[0]);
    side_json(j, "server", &s->side[1]);
    bf_json_close_obj(j);
    return true;
}

const bf_app_parser bf_parser_ssh = {
    .proto = BF_APP_SSH,
    .state_new = ssh_new,
    .state_free = ssh_free,
    .parse = ssh_parse,
    .flow_end = ssh_end,
};
