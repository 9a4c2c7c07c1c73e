/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/applayer.c: protocol identification per direction and dispatch (see
 * applayer.h). */
#include "app/applayer.h"

#include <stdlib.h>

#define ID_BUF 512   /* bytes kept per direction while a probe needs more */

typedef struct app_flow {
    uint16_t det[2];           /* per-direction decision */
    uint16_t blen[2];
    uint8_t *buf[2];           /* only while a probe asked for more */
    const bf_app_parser *parser;
    void *pstate;              /* the analyzer's state */
    bool parser_failed;        /* analyzer could not be started */
    bool lost[2];              /* a hole came before this direction was
                                * identified: its bytes never reach the analyzer */
} app_flow;

struct bf_applayer {
    bf_flow_table *ft;
    bf_bus *bus;
    bf_app_ctx ctx;
    bf_app_stats st;
};

bf_applayer *bf_applayer_new(bf_flow_table *ft, bf_bus *bus, bf_eve *eve)
{
    bf_applayer *a = bf_calloc(1, sizeof *a);
    a->ft = ft;
    a->bus = bus;
    a->ctx.eve = eve;
    a->ctx.bus = bus;
    a->ctx.ft = ft;
    return a;
}

void bf_applayer_free(bf_applayer *a) { free(a); }

const bf_app_stats *bf_applayer_stats(const bf_applayer *a) { return &a->st; }

static void mem(bf_applayer *a, bf_flow *f, int64_t d)
{
    a->st.memuse += (uint64_t)d;
    f->app_mem += (uint32_t)d;
    if (a->ft)
        bf_flow_mem_adjust(a->ft, d);
}

static app_flow *state(bf_applayer *a, bf_flow *f)
{
    if (!f->app_state) {
        f->app_state = bf_calloc(1, sizeof(app_flow));
        mem(a, f, (int64_t)sizeof(app_flow));
    }
    return f->app_state;
}

static void free_buf(bf_applayer *a, bf_flow *f, app_flow *s, int dir)
{
    if (s->buf[dir]) {
        free(s->buf[dir]);
        s->buf[dir] = NULL;
        mem(a, f, -(int64_t)ID_BUF);
    }
    s->blen[dir] = 0;
}

/* Combines the two directions' decisions into f->app_proto. */
static void decide(bf_applayer *a, bf_flow *f, bf_packet *p, app_flow *s)
{
    uint16_t ts = s->det[0], tc = s->det[1];
    f->app_proto_ts = ts > BF_APP_FAILED ? ts : f->app_proto_ts;
    f->app_proto_tc = tc > BF_APP_FAILED ? tc : f->app_proto_tc;
    if (f->app_proto > BF_APP_FAILED)
        return;
    uint16_t ap = BF_APP_UNKNOWN;
    if (ts > BF_APP_FAILED)
        ap = ts;
    else if (tc > BF_APP_FAILED)
        ap = tc;
    else if (ts == BF_APP_FAILED && (tc == BF_APP_FAILED || f->proto == 17))
        ap = BF_APP_FAILED;
    if (ap == BF_APP_UNKNOWN)
        return;
    f->app_proto = ap;
    if (ap == BF_APP_FAILED) {
        if (f->proto == 6)
            a->st.failed_tcp++;
        else
            a->st.failed_udp++;
    } else if (f->proto == 17) {
        a->st.flows_udp[ap]++;
    } else {
        a->st.flows[ap]++;
    }
    bf_bus_publish(a->bus, BF_BUS_APP_DETECTED, f, p, NULL);
}

/* Hands data to the flow's analyzer, starting it once the protocol is known. */
static void feed(bf_applayer *a, bf_flow *f, app_flow *s, bf_packet *p, int dir,
                 const uint8_t *data, uint32_t len, uint32_t gap)
{
    if (f->app_proto <= BF_APP_FAILED || s->parser_failed || s->lost[dir & 1])
        return;
    if (!s->parser) {
        const bf_app_parser *ps = bf_app_parser_get(f->app_proto);
        if (!ps) {
            s->parser_failed = true;
            return;
        }
        s->pstate = ps->state_new(&a->ctx, f);
        if (!s->pstate) {
            s->parser_failed = true;
            return;
        }
        s->parser = ps;
    }
    s->parser->parse(&a->ctx, f, s->pstate, p, dir, data, len, gap);
}

/* Hands the bytes a direction held while its probe wanted more to the
 * analyzer, then releases the buffer. */
static void feed_held(bf_applayer *a, bf_flow *f, app_flow *s, bf_packet *p, int dir)
{
    if (!s->blen[dir])
        return;
    uint8_t *b = s->buf[dir];
    uint32_t bl = s->blen[dir];
    s->buf[dir] = NULL; /* feed() must not see a half-released buffer */
    s->blen[dir] = 0;
    feed(a, f, s, p, dir, b, bl, 0);
    free(b);
    mem(a, f, -(int64_t)ID_BUF);
}

/* Identifies the direction's protocol (buffering up to ID_BUF bytes while a
 * probe needs more), then feeds the analyzer every byte in order. */
static void identify(bf_applayer *a, bf_flow *f, bf_packet *p, int dir, const uint8_t *data,
                     uint32_t len)
{
    app_flow *s = state(a, f);
    if (s->det[dir] == BF_APP_UNKNOWN && f->app_proto > BF_APP_FAILED && !s->blen[dir]) {
        /* the other direction decided the flow: check this one, but feed it */
        uint16_t r = bf_app_identify(f->proto, dir, data, len, f->port[1]);
        s->det[dir] = r == BF_APP_UNKNOWN ? f->app_proto : r;
        decide(a, f, p, s);
    }
    if (s->det[dir] != BF_APP_UNKNOWN) {
        feed(a, f, s, p, dir, data, len, 0);
        return;
    }
    const uint8_t *d = data;
    uint32_t n = len, take = 0;
    if (s->blen[dir]) {
        take = BF_MIN(len, (uint32_t)ID_BUF - s->blen[dir]);
        memcpy(s->buf[dir] + s->blen[dir], data, take);
        s->blen[dir] = (uint16_t)(s->blen[dir] + take);
        d = s->buf[dir];
        n = s->blen[dir];
    }
    uint16_t r = bf_app_identify(f->proto, dir, d, n, f->port[1]);
    if (r == BF_APP_UNKNOWN && (n >= ID_BUF || f->proto != 6))
        r = BF_APP_FAILED;
    if (r == BF_APP_UNKNOWN) {
        if (!s->buf[dir]) {
            s->buf[dir] = bf_malloc(ID_BUF);
            mem(a, f, ID_BUF);
            take = BF_MIN(len, (uint32_t)ID_BUF);
            memcpy(s->buf[dir], data, take);
            s->blen[dir] = (uint16_t)take;
            if (take < len) { /* cannot happen: n < ID_BUF here */
                r = BF_APP_FAILED;
            }
        }
        if (r == BF_APP_UNKNOWN)
            return;
    }
    s->det[dir] = r;
    decide(a, f, p, s);
    if (s->blen[dir]) {
        /* the buffer holds earlier bytes plus `take` bytes of this data */
        feed_held(a, f, s, p, dir);
        if (take < len)
            feed(a, f, s, p, dir, data + take, len - take, 0);
    } else {
        feed(a, f, s, p, dir, data, len, 0);
    }
    /* the other direction may hold bytes waiting for a decision */
    int o = dir ^ 1;
    if (f->app_proto > BF_APP_FAILED && s->det[o] == BF_APP_UNKNOWN && s->blen[o]) {
        s->det[o] = f->app_proto;
        feed_held(a, f, s, p, o);
    }
}

void bf_applayer_stream_data(void *ud, bf_flow *f, bf_packet *p, int dir, const uint8_t *data,
                             uint32_t len, uint32_t gap)
{
    bf_applayer *a = ud;
    dir &= 1;
    if (gap) {
        a->st.gaps++;
        app_flow *s = state(a, f);
        if (s->det[dir] == BF_APP_UNKNOWN && f->app_proto > BF_APP_FAILED) {
            /* the other direction decided the flow: hand over what this
             * direction held, then the hole, so the analyzer sees the gap */
            s->det[dir] = f->app_proto;
            feed_held(a, f, s, p, dir);
            feed(a, f, s, p, dir, NULL, 0, gap);
        } else if (s->det[dir] == BF_APP_UNKNOWN) {
            /* cannot identify across a hole */
            s->det[dir] = BF_APP_FAILED;
            s->lost[dir] = true;
            free_buf(a, f, s, dir);
            decide(a, f, p, s);
        } else {
            feed(a, f, s, p, dir, NULL, 0, gap);
        }
    }
    if (len && data)
        identify(a, f, p, dir, data, len);
}

void bf_applayer_udp(bf_applayer *a, bf_flow *f, bf_packet *p)
{
    if (!p->payload_len)
        return;
    /* The first datagram of a flow is taken as client -> server.  When it
     * is a response (a DNS answer whose query was not captured), reverse
     * the flow before anything sees it, as Suricata's UDP protocol
     * detection does (AppLayerHandleUdp: reverse_flow -> FlowSwap): the
     * responder becomes the server for the analyzer, the rules and EVE. */
    if (p->dir == 0 && f->pkts[0] == 1 && f->pkts[1] == 0 && !f->app_state &&
        f->app_proto == BF_APP_UNKNOWN) {
        uint16_t r = bf_app_identify(17, 0, p->payload, p->payload_len, f->port[1]);
        if (r > BF_APP_FAILED && bf_app_udp_msg_dir(r, p->payload, p->payload_len) == 1)
            bf_flow_swap(f, p);
    }
    identify(a, f, p, p->dir & 1, p->payload, p->payload_len);
}

void bf_applayer_flow_end(bf_applayer *a, bf_flow *f)
{
    app_flow *s = f->app_state;
    if (!s)
        return;
    /* a direction still waiting for bytes: decide with what we have */
    if (f->app_proto == BF_APP_UNKNOWN && (s->blen[0] || s->blen[1])) {
        for (int d = 0; d < 2; d++)
            if (s->det[d] == BF_APP_UNKNOWN && s->blen[d])
                s->det[d] = BF_APP_FAILED;
        decide(a, f, NULL, s);
    }
    free_buf(a, f, s, 0);
    free_buf(a, f, s, 1);
    if (s->parser) {
        if (s->parser->flow_end)
            s->parser->flow_end(&a->ctx, f, s->pstate);
        if (s->parser->tx_count) {
            uint64_t n = s->parser->tx_count(s->pstate);
            f->tx_cnt = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        }
        s->parser->state_free(&a->ctx, f, s->pstate);
    }
    free(s);
    mem(a, f, -(int64_t)sizeof(app_flow));
    f->app_state = NULL;
}
