/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/rdp/rdp.c: TPKT / X.224 connection request and confirm, negotiation,
 * byte counts, login publication, EVE `rdp` events (see rdp.h). */
#include "app/rdp/rdp.h"

#include <stdlib.h>

enum { X224_CR = 0xe0, X224_CC = 0xd0 };
enum { NEG_REQ = 1, NEG_RSP = 2, NEG_FAIL = 3 };

static void mem(bf_app_ctx *ctx, bf_flow *f, int64_t d)
{
    if (f)
        f->app_mem += (uint32_t)d;
    if (ctx && ctx->ft)
        bf_flow_mem_adjust(ctx->ft, d);
}

static void *rdp_new(bf_app_ctx *ctx, bf_flow *f)
{
    bf_rdp_state *s = bf_calloc(1, sizeof *s);
    mem(ctx, f, (int64_t)sizeof *s);
    return s;
}

static void free_buf(bf_app_ctx *ctx, bf_flow *f, bf_rdp_state *s, int dir)
{
    if (s->buf[dir]) {
        free(s->buf[dir]);
        s->buf[dir] = NULL;
        mem(ctx, f, -(int64_t)BF_RDP_PDU_MAX);
    }
    s->blen[dir] = s->bneed[dir] = 0;
}

static void rdp_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    bf_rdp_state *s = st;
    if (!s)
        return;
    free_buf(ctx, f, s, 0);
    free_buf(ctx, f, s, 1);
    free(s);
    mem(ctx, f, -(int64_t)sizeof *s);
}

const char *bf_rdp_protocol_name(uint32_t p)
{
    switch (p) {
    case BF_RDP_PROTO_RDP: return "rdp";
    case BF_RDP_PROTO_SSL: return "ssl";
    case BF_RDP_PROTO_HYBRID: return "hybrid";
    case BF_RDP_PROTO_RDSTLS: return "rds_tls";
    case BF_RDP_PROTO_HYBRID_EX: return "hybrid_ex";
    case BF_RDP_PROTO_RDSAAD: return "rdsaad";
    }
    return "unknown";
}

const char *bf_rdp_failure_reason(uint32_t code)
{
    switch (code) {
    case 1: return "ssl required by server";
    case 2: return "ssl not allowed by server";
    case 3: return "ssl cert not on server";
    case 4: return "inconsistent flags";
    case 5: return "hybrid required by server";
    case 6: return "ssl with user auth required by server";
    }
    return "unknown";
}

static void log_event(bf_app_ctx *ctx, bf_flow *f, bf_rdp_state *s, bf_packet *p, bool request)
{
    uint64_t id = s->tx_id++;
    if (!ctx || !ctx->eve)
        return;
    bf_eve *e = ctx->eve;
    bf_json *j = &e->j;
    bf_eve_begin_flow(e, "rdp", p ? p->ts : f->last, p, f);
    bf_json_uint(j, "tx_id", id);
    bf_json_open_obj(j, "rdp");
    bf_json_uint(j, "tx_id", id);
    bf_json_str(j, "event_type", request ? "initial_request" : "initial_response");
    if (request && s->has_cookie)
        bf_json_strn(j, "cookie", s->cookie, s->cookie_len);
    bf_json_close_obj(j);
    bf_eve_end(e);
}

static void publish_login(bf_app_ctx *ctx, bf_flow *f, bf_rdp_state *s, bf_packet *p)
{
    if (s->login_published || !s->req_seen)
        return;
    s->login_published = true;
    if (!ctx || !ctx->bus)
        return;
    bf_login_event ev = {
        .service = "rdp",
        .user = s->has_cookie ? s->cookie : NULL,
        .user_len = s->has_cookie ? s->cookie_len : 0,
        .outcome = s->neg_fail ? BF_LOGIN_FAILURE : BF_LOGIN_UNKNOWN,
        .attempts = 1,
        .detail = s->neg_fail ? "negotiation failure" : NULL,
    };
    bf_bus_publish(ctx->bus, BF_BUS_LOGIN, f, p, &ev);
}

/* X.224 CR variable part (after the 7-byte fixed header): optional
 * "Cookie: ...\r\n" line, then optional RDP_NEG_REQ. */
static void parse_cr(bf_rdp_state *s, const uint8_t *v, uint32_t n)
{
    uint32_t o = 0;
    if (n >= 8 && memcmp(v, "Cookie: ", 8) == 0) {
        const uint8_t *end = NULL;
        for (uint32_t i = 8; i + 1 < n; i++)
            if (v[i] == '\r' && v[i + 1] == '\n') {
                end = v + i;
                break;
            }
        uint32_t ll = end ? (uint32_t)(end - v) : n;
        static const char pfx[] = "Cookie: mstshash=";
        if (ll >= sizeof pfx - 1 && memcmp(v, pfx, sizeof pfx - 1) == 0) {
            uint32_t cl = ll - (uint32_t)(sizeof pfx - 1);
            if (cl > BF_RDP_COOKIE_MAX) {
                cl = BF_RDP_COOKIE_MAX;
                s->drops++;
            }
            memcpy(s->cookie, v + sizeof pfx - 1, cl);
            s->cookie_len = (uint16_t)cl;
            s->has_cookie = true;
        }
        if (!end)
            return;
        o = ll + 2;
    }
    if (n - o >= 8 && v[o] == NEG_REQ && bf_le16(v + o + 2) == 8) {
        s->neg_req = true;
        s->req_flags = v[o + 1];
        s->requested = bf_le32(v + o + 4);
    }
}

static void parse_cc(bf_rdp_state *s, const uint8_t *v, uint32_t n)
{
    if (n < 8 || bf_le16(v + 2) != 8)
        return;
    if (v[0] == NEG_RSP) {
        s->neg_rsp = true;
        s->rsp_flags = v[1];
        s->selected = bf_le32(v + 4);
        s->tls = s->selected != BF_RDP_PROTO_RDP;
    } else if (v[0] == NEG_FAIL) {
        s->neg_fail = true;
        s->fail_code = bf_le32(v + 4);
    }
}

/* One whole TPKT of direction dir. */
static void tpkt(bf_app_ctx *ctx, bf_flow *f, bf_rdp_state *s, bf_packet *p, int dir,
                 const uint8_t *b, uint32_t n)
{
    /* TPKT (4) + X.224 LI, code, dst-ref(2), src-ref(2), class */
    if (n < 11 || b[4] < 6) {
        s->phase[dir] = BF_RDP_DONE;
        return;
    }
    uint8_t code = b[5] & 0xf0;
    const uint8_t *v = b + 11;
    /* the variable part runs to the end of the TPKT (cookie and RDP_NEG_*
     * are inside LI for conforming clients; some do not count them) */
    uint32_t vn = n - 11;
    if (dir == 0 && code == X224_CR && !s->req_seen) {
        s->req_seen = true;
        parse_cr(s, v, vn);
        log_event(ctx, f, s, p, true);
        s->phase[0] = BF_RDP_DATA;
    } else if (dir == 1 && code == X224_CC && !s->rsp_seen) {
        s->rsp_seen = true;
        parse_cc(s, v, vn);
        log_event(ctx, f, s, p, false);
        s->phase[1] = BF_RDP_DATA;
        publish_login(ctx, f, s, p);
    } else {
        s->phase[dir] = BF_RDP_DONE;
    }
}

static void rdp_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    bf_rdp_state *s = st;
    dir &= 1;
    if (gap) {
        if (s->phase[dir] == BF_RDP_X224) {
            free_buf(ctx, f, s, dir);
            s->phase[dir] = BF_RDP_DONE;
        }
    }
    if (!data)
        return;
    uint32_t used = 0;
    while (used < len && s->phase[dir] == BF_RDP_X224) {
        if (!s->buf[dir]) {
            s->buf[dir] = bf_malloc(BF_RDP_PDU_MAX);
            mem(ctx, f, BF_RDP_PDU_MAX);
            s->blen[dir] = 0;
            s->bneed[dir] = 4;
        }
        uint32_t c = BF_MIN(len - used, (uint32_t)(s->bneed[dir] - s->blen[dir]));
        memcpy(s->buf[dir] + s->blen[dir], data + used, c);
        s->blen[dir] = (uint16_t)(s->blen[dir] + c);
        used += c;
        if (s->blen[dir] < s->bneed[dir])
            break;
        const uint8_t *b = s->buf[dir];
        if (s->bneed[dir] == 4) {
            uint16_t tl = bf_be16(b + 2);
            if (b[0] != 3 || b[1] != 0 || tl < 11 || tl > BF_RDP_PDU_MAX) {
                s->phase[dir] = BF_RDP_DONE;
                if (tl > BF_RDP_PDU_MAX)
                    s->drops++;
                break;
            }
            s->bneed[dir] = tl;
            continue;
        }
        tpkt(ctx, f, s, p, dir, b, s->blen[dir]);
        free_buf(ctx, f, s, dir);
    }
    if (s->phase[dir] != BF_RDP_X224)
        free_buf(ctx, f, s, dir);
    if (s->phase[dir] == BF_RDP_DATA && used < len) {
        s->data_bytes[dir] += len - used;
        s->data_pkts[dir]++;
    }
}

static void rdp_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    publish_login(ctx, f, st, NULL);
}

const bf_app_parser bf_parser_rdp = {
    .proto = BF_APP_RDP,
    .state_new = rdp_new,
    .state_free = rdp_free,
    .parse = rdp_parse,
    .flow_end = rdp_end,
};
