/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tls/tls.c: the TLS analyzer (see tls.h).  Per direction: record
 * headers are reassembled across segments, handshake records are fed into a
 * handshake-message reassembler (messages may span records; one message is
 * buffered up to BF_TLS_MAX_HS_MSG, larger ones are skipped and counted),
 * and once a direction is encrypted only record headers are read. */
#include "output/events.h"
#include "app/tls/tls_int.h"

#include "app/tx.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_RECORD_LEN (16384 + 2048)    /* TLSCiphertext limit (RFC 5246) */
#define MAX_RECORDS_PER_CALL 255
#define JA3_MAX 16384                    /* JA3 string cap */
#define TX_CERTS_MAX 16                  /* tls.certs instances kept */

enum { REC_CCS = 20, REC_ALERT = 21, REC_HANDSHAKE = 22, REC_APPDATA = 23, REC_HEARTBEAT = 24 };

typedef struct tls_dir {
    uint8_t hdr[5];
    uint8_t hlen;             /* record header bytes held */
    bool in_body;
    uint8_t rec_type;
    uint32_t rec_len, rec_left;
    uint8_t rbody[4];         /* first bytes of the record body */
    uint8_t rblen;
    /* handshake message reassembly */
    uint8_t hs_hdr[4];
    uint8_t hs_hlen;
    uint32_t hs_need, hs_have, hs_skip;
    uint8_t *hs_buf;
    uint32_t hs_cap;
    bool encrypted, dead;
    uint64_t nrec;
    uint32_t call_rec;
} tls_dir;

typedef struct tls_state {
    tls_dir d[2];
    size_t mem, mem_acct;
    bf_tls_counters cnt;
    uint32_t ev_seen;
    bool ch_seen, sh_seen, sslv2, logged, cert_req, gave_up, hrr, tls13, resumed, sni_seen;
    bool srv_full;            /* the server sent a full handshake flight */
    /* ClientHello */
    uint16_t ch_version, ch_max_version;
    uint8_t sid[32], sid_len;
    char *sni;
    char *c_alpn[BF_TLS_MAX_ALPN];
    unsigned nc_alpn;
    char *ja3;
    char ja3_hash[33], ja4[37];
    /* ServerHello */
    uint16_t version, cipher, rec_version_srv;
    char *s_alpn;
    char *ja3s;
    char ja3s_hash[33];
    tls_cert_info scert, ccert;
    /* the signature engine's view of the handshake (one transaction), kept
     * only while BF_BUS_TX has subscribers */
    bool tx_dirty;            /* progress since the last publish */
    bool tx_any;              /* published at least once */
    bool tx_done[2];          /* that side of the handshake is over */
    bool tx_final;            /* published with both sides done */
    uint8_t tx_dir;           /* direction of the last progress */
    uint8_t *tx_certs;        /* copy of the server's Certificate message */
    uint32_t tx_certs_len;
    bf_dbuf tx_cert_v[TX_CERTS_MAX]; /* its certificates (DER), into tx_certs */
    uint16_t tx_ncert;
    /* the call being served (for events and logging) */
    bf_app_ctx *ctx;
    bf_flow *f;
    bf_packet *p;
} tls_state;

/* ---- helpers ------------------------------------------------------------ */

static bf_ts now(const tls_state *st) { return st->p ? st->p->ts : st->f ? st->f->last : 0; }

static void mem_sync(tls_state *st)
{
    int64_t delta = (int64_t)st->mem - (int64_t)st->mem_acct;
    if (!delta)
        return;
    if (st->ctx && st->ctx->ft)
        bf_flow_mem_adjust(st->ctx->ft, delta);
    if (st->f)
        st->f->app_mem += (uint32_t)delta;
    st->mem_acct = st->mem;
}

static void event(void *ud, enum tls_event ev)
{
    tls_state *st = ud;
    if (st->ev_seen & (1u << ev)) {
        st->cnt.anomalies_suppressed++;
        return;
    }
    st->ev_seen |= 1u << ev;
    st->cnt.anomalies++;
    bf_eve_log_app_anomaly(st->ctx ? st->ctx->eve : NULL, now(st), st->p, st->f, "tls",
                           tls_event_names[ev], -1, false);
}

/* A bounded, growable string (JA3). */
typedef struct strb {
    char *b;
    size_t n, cap;
    bool cut;
} strb;

static void sb_putn(strb *s, const char *p, size_t n)
{
    if (s->cut || s->n + n > JA3_MAX) {
        s->cut = true;
        return;
    }
    if (s->n + n + 1 > s->cap) {
        size_t c = BF_MAX(s->cap * 2, s->n + n + 1);
        c = BF_MIN(c, (size_t)JA3_MAX + 1);
        s->b = bf_realloc(s->b, c);
        s->cap = c;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = 0;
}

static void sb_u(strb *s, unsigned v)
{
    char t[12];
    int n = snprintf(t, sizeof t, "%u", v);
    sb_putn(s, t, (size_t)n);
}

/* "-"-joined decimal values of a u16 big-endian list, GREASE left out. */
static void sb_list16(strb *s, const uint8_t *p, size_t n)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        uint16_t v = bf_be16(p + 2 * i);
        if (bf_tls_is_grease(v))
            continue;
        if (!first)
            sb_putn(s, "-", 1);
        sb_u(s, v);
        first = false;
    }
}

/* Bounded reader over a handshake message. */
typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
} rd;

static size_t rleft(const rd *r) { return (size_t)(r->end - r->p); }
static const uint8_t *rtake(rd *r, size_t n)
{
    if (r->bad || rleft(r) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}
static unsigned ru8(rd *r)
{
    const uint8_t *q = rtake(r, 1);
    return q ? q[0] : 0;
}
static unsigned ru16(rd *r)
{
    const uint8_t *q = rtake(r, 2);
    return q ? bf_be16(q) : 0;
}

/* ---- logging ------------------------------------------------------------ */

static void json_cert(bf_json *j, const tls_cert_info *c)
{
    if (c->subject)
        bf_json_str(j, "subject", c->subject);
    if (c->issuer)
        bf_json_str(j, "issuerdn", c->issuer);
    if (c->serial)
        bf_json_str(j, "serial", c->serial);
    if (c->fingerprint)
        bf_json_str(j, "fingerprint", c->fingerprint);
}

static void json_cert_dates(bf_json *j, const tls_cert_info *c)
{
    if (c->notbefore[0])
        bf_json_str(j, "notbefore", c->notbefore);
    if (c->notafter[0])
        bf_json_str(j, "notafter", c->notafter);
    if (c->nsan) {
        bf_json_open_arr(j, "subjectaltname");
        for (unsigned i = 0; i < c->nsan; i++)
            bf_json_str(j, NULL, c->san[i]);
        bf_json_close_arr(j);
    }
}

static void json_tls(bf_json *j, const tls_state *st);

/* The `tls` event, once per flow. */
static void log_tls(tls_state *st)
{
    if (st->logged || (!st->ch_seen && !st->sh_seen && !st->sslv2))
        return;
    st->logged = true;
    bf_eve *e = st->ctx ? st->ctx->eve : NULL;
    if (!e)
        return;
    bf_eve_begin_flow(e, "tls", now(st), st->p, st->f);
    json_tls(&e->j, st);
    bf_eve_end(e);
}

/* The "tls" object of the `tls` event, also written into alerts (as
 * Suricata's extended TLS alert metadata). */
static void json_tls(bf_json *j, const tls_state *st)
{
    bf_json_open_obj(j, "tls");
    json_cert(j, &st->scert);
    if (st->resumed)
        bf_json_bool(j, "session_resumed", true);
    if (st->sni)
        bf_json_str(j, "sni", st->sni);
    char vb[32];
    uint16_t v = st->version ? st->version : st->rec_version_srv;
    bf_json_str(j, "version", bf_tls_version_str(v, vb, sizeof vb));
    json_cert_dates(j, &st->scert);
    if (st->ja3) {
        bf_json_open_obj(j, "ja3");
        bf_json_str(j, "hash", st->ja3_hash);
        bf_json_str(j, "string", st->ja3);
        bf_json_close_obj(j);
    }
    if (st->ja3s) {
        bf_json_open_obj(j, "ja3s");
        bf_json_str(j, "hash", st->ja3s_hash);
        bf_json_str(j, "string", st->ja3s);
        bf_json_close_obj(j);
    }
    if (st->ch_seen)
        bf_json_str(j, "ja4", st->ja4);
    if (st->nc_alpn) {
        bf_json_open_arr(j, "client_alpns");
        for (unsigned i = 0; i < st->nc_alpn; i++)
            bf_json_str(j, NULL, st->c_alpn[i]);
        bf_json_close_arr(j);
    }
    if (st->s_alpn) {
        bf_json_open_arr(j, "server_alpns");
        bf_json_str(j, NULL, st->s_alpn);
        bf_json_close_arr(j);
    }
    if (st->ccert.subject) {
        bf_json_open_obj(j, "client");
        json_cert(j, &st->ccert);
        json_cert_dates(j, &st->ccert);
        bf_json_close_obj(j);
    }
    bf_json_close_obj(j);
}

/* ---- handshake messages ------------------------------------------------- */

/* ---- signature engine view (BF_BUS_TX) ----------------------------------- */

static bool tx_wanted(const tls_state *st)
{
    return st->ctx && st->ctx->bus && bf_bus_wanted(st->ctx->bus, BF_BUS_TX);
}

static void tx_progress(tls_state *st, int dir)
{
    if (st->tx_final)
        return;
    st->tx_dirty = true;
    st->tx_dir = (uint8_t)dir;
}

static void tx_certs_free(tls_state *st)
{
    if (st->tx_certs) {
        free(st->tx_certs);
        st->mem -= st->tx_certs_len;
        st->tx_certs = NULL;
    }
    st->tx_certs_len = 0;
    st->tx_ncert = 0;
}

/* Keeps the server's certificates (DER) for tls.certs. */
static void tx_certs_keep(tls_state *st, const uint8_t *m, uint32_t len)
{
    tx_certs_free(st);
    if (len < 3)
        return;
    st->tx_certs = bf_malloc(len);
    memcpy(st->tx_certs, m, len);
    st->tx_certs_len = len;
    st->mem += len;
    uint32_t list = (uint32_t)m[0] << 16 | (uint32_t)m[1] << 8 | m[2];
    const uint8_t *p = st->tx_certs + 3, *end = p + BF_MIN(list, len - 3);
    while (end - p >= 3 && st->tx_ncert < TX_CERTS_MAX) {
        uint32_t cl = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        p += 3;
        if (cl == 0 || cl > (uint32_t)(end - p))
            break;
        st->tx_cert_v[st->tx_ncert].p = p;
        st->tx_cert_v[st->tx_ncert].len = cl;
        st->tx_ncert++;
        p += cl;
    }
}

static void tx_log_meta(const void *ud, bf_json *j) { json_tls(j, ud); }

static void tx_str(bf_tx_view *v, enum bf_dbuf_id id, bf_dbuf *slot, const char *s)
{
    if (s)
        bf_tx_set(v, id, slot, s, (uint32_t)strlen(s));
}

/* Publishes the handshake as it is now (final: both sides done). */
static void tx_publish(tls_state *st, bool final)
{
    st->tx_dirty = false;
    if (st->tx_final || !tx_wanted(st))
        return;
    if (final)
        st->tx_done[0] = st->tx_done[1] = true;
    bf_tx_view v;
    bf_dbuf b[BF_DBUF_MAX];
    memset(&v, 0, sizeof v);
    v.app_proto = BF_APP_TLS;
    v.dir = st->tx_dir;
    for (int i = 0; i < 2; i++)
        v.done[i] = v.body_final[i] = st->tx_done[i];
    v.tx_id = 0;
    tx_str(&v, BF_DBUF_TLS_SNI, &b[BF_DBUF_TLS_SNI], st->sni);
    if (st->ch_seen && st->ja3) {
        tx_str(&v, BF_DBUF_JA3_HASH, &b[BF_DBUF_JA3_HASH], st->ja3_hash);
        tx_str(&v, BF_DBUF_JA3_STRING, &b[BF_DBUF_JA3_STRING], st->ja3);
        tx_str(&v, BF_DBUF_JA4_HASH, &b[BF_DBUF_JA4_HASH], st->ja4);
    }
    if (st->sh_seen && st->ja3s) {
        tx_str(&v, BF_DBUF_JA3S_HASH, &b[BF_DBUF_JA3S_HASH], st->ja3s_hash);
        tx_str(&v, BF_DBUF_JA3S_STRING, &b[BF_DBUF_JA3S_STRING], st->ja3s);
    }
    tx_str(&v, BF_DBUF_TLS_CERT_SUBJECT, &b[BF_DBUF_TLS_CERT_SUBJECT], st->scert.subject);
    tx_str(&v, BF_DBUF_TLS_CERT_ISSUER, &b[BF_DBUF_TLS_CERT_ISSUER], st->scert.issuer);
    tx_str(&v, BF_DBUF_TLS_CERT_SERIAL, &b[BF_DBUF_TLS_CERT_SERIAL], st->scert.serial);
    tx_str(&v, BF_DBUF_TLS_CERT_FP, &b[BF_DBUF_TLS_CERT_FP], st->scert.fingerprint);
    if (st->tx_ncert) {
        v.bufs[BF_DBUF_TLS_CERTS].v = st->tx_cert_v;
        v.bufs[BF_DBUF_TLS_CERTS].n = st->tx_ncert;
    }
    v.log_meta = tx_log_meta;
    v.log_ud = st;
    st->tx_any = true;
    bf_bus_publish(st->ctx->bus, BF_BUS_TX, st->f, st->p, &v);
    if (st->tx_done[0] && st->tx_done[1]) {
        st->tx_final = true;
        tx_certs_free(st);
    }
}

static void set_encrypted(tls_state *st, int dir)
{
    tls_dir *d = &st->d[dir];
    if (d->encrypted)
        return;
    d->encrypted = true;
    if (!st->tx_done[dir]) {
        st->tx_done[dir] = true;
        tx_progress(st, dir);
    }
    /* a partial handshake message cannot continue in ciphertext */
    if (d->hs_hlen || d->hs_skip) {
        st->cnt.dropped_bytes += d->hs_have;
        d->hs_hlen = 0;
        d->hs_have = d->hs_need = d->hs_skip = 0;
    }
    if (d->hs_buf) {
        free(d->hs_buf);
        st->mem -= d->hs_cap;
        d->hs_buf = NULL;
        d->hs_cap = 0;
    }
    log_tls(st);
}

static void client_hello(tls_state *st, const uint8_t *m, uint32_t len)
{
    if (st->ch_seen)
        return; /* a second ClientHello (after HelloRetryRequest): keep the first */
    rd r = {m, m + len, false};
    uint16_t ver = (uint16_t)ru16(&r);
    rtake(&r, 32);
    unsigned sidl = ru8(&r);
    const uint8_t *sid = rtake(&r, sidl);
    unsigned cl = ru16(&r);
    const uint8_t *ciph = rtake(&r, cl);
    unsigned coml = ru8(&r);
    rtake(&r, coml);
    if (r.bad || sidl > 32 || (cl & 1)) {
        event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
        return;
    }
    st->ch_seen = true;
    st->ch_version = ver;
    st->sid_len = (uint8_t)sidl;
    if (sidl)
        memcpy(st->sid, sid, sidl);
    size_t nc = cl / 2;
    const uint8_t *ext = NULL;
    size_t el = 0;
    if (rleft(&r) >= 2) {
        el = ru16(&r);
        if (el > rleft(&r)) {
            event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
            el = rleft(&r);
        }
        ext = rtake(&r, el);
    }

    /* walk the extensions */
    uint16_t *etypes = bf_malloc((el / 4 + 1) * sizeof *etypes);
    size_t ne = 0;
    const uint8_t *groups = NULL, *formats = NULL, *sigs = NULL, *alpn0 = NULL;
    size_t ngroups = 0, nformats = 0, nsigs = 0, alpn0_len = 0;
    uint16_t maxver = 0;
    bool sv_seen = false;
    rd e = {ext, ext ? ext + el : NULL, false};
    while (ext && rleft(&e) >= 4) {
        uint16_t t = (uint16_t)ru16(&e);
        unsigned l = ru16(&e);
        const uint8_t *d = rtake(&e, l);
        if (!d) {
            event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
            break;
        }
        etypes[ne++] = t;
        rd x = {d, d + l, false};
        switch (t) {
        case 0x0000: { /* server_name */
            if (st->sni_seen) {
                event(st, TLS_EV_MULTIPLE_SNI_EXTENSIONS);
                break;
            }
            st->sni_seen = true;
            unsigned ll = ru16(&x);
            if (x.bad || ll != rleft(&x)) {
                event(st, TLS_EV_INVALID_SNI_LENGTH);
                break;
            }
            while (rleft(&x) >= 3) {
                unsigned nt = ru8(&x), nl = ru16(&x);
                const uint8_t *nm = rtake(&x, nl);
                if (!nm) {
                    event(st, TLS_EV_INVALID_SNI_LENGTH);
                    break;
                }
                if (nt != 0) {
                    event(st, TLS_EV_INVALID_SNI_TYPE);
                    break;
                }
                if (!st->sni)
                    st->sni = tls_strndup(nm, nl, &st->mem, &st->cnt.strings_truncated);
            }
            break;
        }
        case 0x0010: { /* ALPN */
            unsigned ll = ru16(&x);
            if (ll != rleft(&x))
                event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
            while (rleft(&x) >= 1) {
                unsigned nl = ru8(&x);
                const uint8_t *nm = rtake(&x, nl);
                if (!nm || !nl)
                    break;
                if (!alpn0) {
                    alpn0 = nm;
                    alpn0_len = nl;
                }
                if (st->nc_alpn < BF_TLS_MAX_ALPN)
                    st->c_alpn[st->nc_alpn++] =
                        tls_strndup(nm, nl, &st->mem, &st->cnt.strings_truncated);
                else
                    st->cnt.strings_truncated++;
            }
            break;
        }
        case 0x002b: { /* supported_versions */
            unsigned ll = ru8(&x);
            const uint8_t *v = rtake(&x, ll);
            if (!v)
                break;
            sv_seen = true;
            for (unsigned i = 0; i + 1 < ll; i += 2) {
                uint16_t vv = bf_be16(v + i);
                if (!bf_tls_is_grease(vv) && vv > maxver)
                    maxver = vv;
            }
            break;
        }
        case 0x000a: { /* supported_groups */
            unsigned ll = ru16(&x);
            groups = rtake(&x, ll);
            ngroups = groups ? ll / 2 : 0;
            break;
        }
        case 0x000b: { /* ec_point_formats */
            unsigned ll = ru8(&x);
            formats = rtake(&x, ll);
            nformats = formats ? ll : 0;
            break;
        }
        case 0x000d: { /* signature_algorithms */
            unsigned ll = ru16(&x);
            sigs = rtake(&x, ll);
            nsigs = sigs ? ll / 2 : 0;
            break;
        }
        default:
            break;
        }
    }
    if (ext && rleft(&e) != 0)
        event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
    st->ch_max_version = sv_seen && maxver ? maxver : ver;

    /* JA3: version,ciphers,extensions,groups,formats (decimal, GREASE out) */
    strb s = {0};
    sb_u(&s, ver);
    sb_putn(&s, ",", 1);
    sb_list16(&s, ciph, nc);
    sb_putn(&s, ",", 1);
    bool first = true;
    for (size_t i = 0; i < ne; i++) {
        if (bf_tls_is_grease(etypes[i]))
            continue;
        if (!first)
            sb_putn(&s, "-", 1);
        sb_u(&s, etypes[i]);
        first = false;
    }
    sb_putn(&s, ",", 1);
    sb_list16(&s, groups, ngroups);
    sb_putn(&s, ",", 1);
    for (size_t i = 0; i < nformats; i++) {
        if (i)
            sb_putn(&s, "-", 1);
        sb_u(&s, formats[i]);
    }
    if (s.cut)
        st->cnt.strings_truncated++;
    st->ja3 = s.b ? s.b : bf_strdup("");
    st->mem += s.cap ? s.cap : 1;
    tls_md5_hex(st->ja3_hash, st->ja3, strlen(st->ja3));

    /* JA4 */
    uint16_t *cv = bf_malloc((nc + 1) * sizeof *cv);
    uint16_t *sv = bf_malloc((nsigs + 1) * sizeof *sv);
    for (size_t i = 0; i < nc; i++)
        cv[i] = bf_be16(ciph + 2 * i);
    for (size_t i = 0; i < nsigs; i++)
        sv[i] = bf_be16(sigs + 2 * i);
    bool has_sni = false;
    for (size_t i = 0; i < ne; i++)
        has_sni |= etypes[i] == 0;
    bf_tls_ja4(st->ja4, false, st->ch_max_version, has_sni, cv, nc, etypes, ne, sv, nsigs, alpn0,
               alpn0_len);
    free(cv);
    free(sv);
    free(etypes);

    if (st->ctx && st->ctx->bus) {
        bf_tls_hello h = {.dir = 0, .sni = st->sni, .alpn = (const char *const *)st->c_alpn,
                          .nalpn = st->nc_alpn, .version = st->ch_max_version,
                          .ja3_hash = st->ja3_hash, .ja4 = st->ja4};
        bf_bus_publish(st->ctx->bus, BF_BUS_TLS_HELLO, st->f, st->p, &h);
    }
    tx_progress(st, 0);
}

/* SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static void server_hello(tls_state *st, const uint8_t *m, uint32_t len)
{
    rd r = {m, m + len, false};
    uint16_t ver = (uint16_t)ru16(&r);
    const uint8_t *rnd = rtake(&r, 32);
    unsigned sidl = 0;
    const uint8_t *sid = NULL;
    if ((ver >> 8) != 0x7f) {
        sidl = ru8(&r);
        sid = rtake(&r, sidl);
    }
    uint16_t cipher = (uint16_t)ru16(&r);
    if ((ver >> 8) != 0x7f)
        ru8(&r); /* compression; TLS 1.3 drafts < 22 have neither */
    if (r.bad || sidl > 32) {
        event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
        return;
    }
    bool hrr = memcmp(rnd, hrr_random, 32) == 0;
    const uint8_t *ext = NULL;
    size_t el = 0;
    if (rleft(&r) >= 2) {
        el = ru16(&r);
        if (el > rleft(&r)) {
            event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
            el = rleft(&r);
        }
        ext = rtake(&r, el);
    }
    uint16_t selected = 0;
    bool psk = false;
    strb s = {0};
    sb_u(&s, ver);
    sb_putn(&s, ",", 1);
    sb_u(&s, cipher);
    sb_putn(&s, ",", 1);
    bool first = true;
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    rd e = {ext, ext ? ext + el : NULL, false};
    while (ext && rleft(&e) >= 4) {
        uint16_t t = (uint16_t)ru16(&e);
        unsigned l = ru16(&e);
        const uint8_t *d = rtake(&e, l);
        if (!d) {
            event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
            break;
        }
        if (!bf_tls_is_grease(t)) {
            if (!first)
                sb_putn(&s, "-", 1);
            sb_u(&s, t);
            first = false;
        }
        if (t == 0x002b && l == 2)
            selected = bf_be16(d);
        else if (t == 0x0029)
            psk = true;
        else if (t == 0x0010 && l >= 3) {
            rd x = {d + 2, d + l, false};
            unsigned nl = ru8(&x);
            alpn = rtake(&x, nl);
            alpn_len = alpn ? nl : 0;
        }
    }
    if (hrr) {
        /* HelloRetryRequest: the real ServerHello follows in clear */
        st->hrr = true;
        free(s.b);
        return;
    }
    st->sh_seen = true;
    st->version = selected ? selected : ver;
    st->cipher = cipher;
    st->tls13 = st->version == 0x0304 || (st->version >> 8) == 0x7f;
    if (st->tls13)
        st->resumed = psk;
    else
        st->resumed = st->sid_len && sid && sidl == st->sid_len && memcmp(sid, st->sid, sidl) == 0;
    tls_strfree(&st->s_alpn, &st->mem);
    if (alpn && alpn_len)
        st->s_alpn = tls_strndup(alpn, alpn_len, &st->mem, &st->cnt.strings_truncated);
    if (st->ja3s) {
        st->mem -= strlen(st->ja3s) + 1;
        free(st->ja3s);
    }
    if (s.cut)
        st->cnt.strings_truncated++;
    st->ja3s = s.b;
    st->mem += strlen(s.b) + 1;
    tls_md5_hex(st->ja3s_hash, st->ja3s, strlen(st->ja3s));

    if (st->ctx && st->ctx->bus) {
        bf_tls_hello h = {.dir = 1, .sni = st->sni, .alpn = (const char *const *)&st->s_alpn,
                          .nalpn = st->s_alpn ? 1 : 0, .version = st->version,
                          .cipher = cipher, .ja3_hash = st->ch_seen ? st->ja3_hash : NULL,
                          .ja4 = st->ch_seen ? st->ja4 : NULL, .ja3s_hash = st->ja3s_hash,
                          .session_resumed = st->resumed, .certs_encrypted = st->tls13};
        bf_bus_publish(st->ctx->bus, BF_BUS_TLS_HELLO, st->f, st->p, &h);
    }
    tx_progress(st, 1);
    if (st->tls13)
        set_encrypted(st, 1); /* everything after the ServerHello is */
}

static void certificate(tls_state *st, int dir, const uint8_t *m, uint32_t len)
{
    tls_cert_info *ci = dir ? &st->scert : &st->ccert;
    tls_cert_parse(ci, m, len, &st->mem, &st->cnt.strings_truncated, event, st);
    st->cnt.certs += ci->chain_len;
    if (dir == 1 && !st->tx_final && tx_wanted(st)) {
        tx_certs_keep(st, m, len);
        tx_progress(st, 1);
    }
    if (!ci->subject || !st->ctx || !st->ctx->bus)
        return;
    bf_tls_cert c = {.dir = dir, .subject = ci->subject, .subject_cn = ci->cn,
                     .issuer = ci->issuer, .serial = ci->serial, .fingerprint = ci->fingerprint,
                     .san = (const char *const *)ci->san, .nsan = ci->nsan,
                     .san_dropped = ci->san_dropped, .not_before = ci->nb_ts,
                     .not_after = ci->na_ts, .self_signed = ci->self_signed,
                     .chain_len = ci->chain_len, .sni = st->sni};
    bf_bus_publish(st->ctx->bus, BF_BUS_TLS_CERT, st->f, st->p, &c);
}

static void hs_message(tls_state *st, int dir, uint8_t type, const uint8_t *m, uint32_t len)
{
    st->cnt.hs_msgs++;
    switch (type) {
    case 1: /* client_hello */
        if (dir != 0)
            event(st, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        else
            client_hello(st, m, len);
        break;
    case 2: /* server_hello */
        if (dir != 1)
            event(st, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        else
            server_hello(st, m, len);
        break;
    case 11: /* certificate */
        st->srv_full |= dir == 1;
        certificate(st, dir, m, len);
        break;
    case 12: /* server_key_exchange */
        st->srv_full |= dir == 1;
        break;
    case 13: /* certificate_request: a client certificate may follow */
        st->srv_full |= dir == 1;
        if (dir == 1)
            st->cert_req = true;
        break;
    case 14: /* server_hello_done: the server's flight is complete */
        st->srv_full |= dir == 1;
        if (dir == 1 && !st->cert_req)
            log_tls(st);
        break;
    case 0: case 4: case 5: case 8: case 15: case 16: case 20: case 21: case 22:
    case 23: case 24: case 25: case 67: case 254:
        break;
    default:
        event(st, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        break;
    }
}

/* Handshake record bytes of one direction (messages span records). */
static void hs_feed(tls_state *st, int dir, const uint8_t *p, uint32_t n)
{
    tls_dir *d = &st->d[dir];
    while (n) {
        if (d->encrypted) {
            st->cnt.encrypted_bytes[dir] += n;
            return;
        }
        if (d->hs_skip) {
            uint32_t k = BF_MIN(n, d->hs_skip);
            d->hs_skip -= k;
            st->cnt.dropped_bytes += k;
            p += k;
            n -= k;
            continue;
        }
        if (d->hs_hlen < 4) {
            uint32_t k = BF_MIN(n, 4u - d->hs_hlen);
            memcpy(d->hs_hdr + d->hs_hlen, p, k);
            d->hs_hlen = (uint8_t)(d->hs_hlen + k);
            p += k;
            n -= k;
            if (d->hs_hlen < 4)
                return;
            uint32_t ml = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
            d->hs_need = ml;
            d->hs_have = 0;
            if (ml > BF_TLS_MAX_HS_MSG) {
                event(st, TLS_EV_HANDSHAKE_INVALID_LENGTH);
                d->hs_skip = ml;
                d->hs_hlen = 0;
                continue;
            }
            if (n >= ml) { /* whole message here: no copy */
                d->hs_hlen = 0;
                hs_message(st, dir, d->hs_hdr[0], p, ml);
                p += ml;
                n -= ml;
                continue;
            }
            if (d->hs_cap < ml) {
                free(d->hs_buf);
                st->mem -= d->hs_cap;
                d->hs_buf = bf_malloc(ml);
                d->hs_cap = ml;
                st->mem += ml;
            }
        }
        uint32_t k = BF_MIN(n, d->hs_need - d->hs_have);
        memcpy(d->hs_buf + d->hs_have, p, k);
        d->hs_have += k;
        p += k;
        n -= k;
        if (d->hs_have == d->hs_need) {
            d->hs_hlen = 0;
            hs_message(st, dir, d->hs_hdr[0], d->hs_buf, d->hs_need);
            /* do not hold a certificate-sized buffer for the flow's life */
            if (d->hs_buf && d->hs_cap > 4096) {
                free(d->hs_buf);
                st->mem -= d->hs_cap;
                d->hs_buf = NULL;
                d->hs_cap = 0;
            }
        }
    }
}

/* ---- records ------------------------------------------------------------ */

static void record_end(tls_state *st, int dir)
{
    tls_dir *d = &st->d[dir];
    switch (d->rec_type) {
    case REC_CCS:
        if (!d->encrypted && (d->rec_len != 1 || d->rbody[0] != 1))
            event(st, TLS_EV_INVALID_SSL_RECORD);
        /* TLS <= 1.2 abbreviated handshake: ServerHello then CCS, without
         * certificate or key exchange (session id or ticket resumption) */
        if (dir == 1 && !d->encrypted && st->sh_seen && !st->tls13 && !st->srv_full)
            st->resumed = true;
        /* TLS 1.3 middlebox-compatibility CCS around a HelloRetryRequest is a
         * dummy: the second ClientHello and the ServerHello follow in clear */
        if (st->hrr && !st->sh_seen)
            break;
        set_encrypted(st, dir);
        break;
    case REC_ALERT:
        if (d->encrypted)
            break;
        if (d->rec_len != 2)
            event(st, TLS_EV_INVALID_ALERT_MESSAGE);
        else if (d->rbody[0] == 2)
            event(st, TLS_EV_ERROR_MESSAGE_ENCOUNTERED);
        break;
    case REC_HEARTBEAT:
        if (d->encrypted)
            break;
        if (d->rec_len < 3) {
            event(st, TLS_EV_INVALID_HEARTBEAT_MESSAGE);
        } else {
            uint32_t pl = bf_be16(d->rbody + 1);
            if (pl + 3 + 16 > d->rec_len)
                event(st, TLS_EV_OVERFLOW_HEARTBEAT_MESSAGE);
        }
        break;
    default:
        break;
    }
}

/* Returns false when the header is invalid (the direction stops). */
static bool record_start(tls_state *st, int dir)
{
    tls_dir *d = &st->d[dir];
    const uint8_t *h = d->hdr;
    if ((h[0] & 0x80) && d->nrec == 0) {
        /* SSLv2 record header: note the version, parse no further */
        uint32_t l = (uint32_t)(h[0] & 0x7f) << 8 | h[1];
        if (l < 3) {
            event(st, TLS_EV_INVALID_SSLV2_HEADER);
            return false;
        }
        if (dir == 0 && h[2] == 1)
            st->ch_version = bf_be16(h + 3);
        if (dir == 1 && h[2] == 4)
            st->version = 0x0200;
        st->sslv2 = true;
        return false;
    }
    uint8_t type = h[0];
    uint16_t ver = bf_be16(h + 1);
    uint16_t len = bf_be16(h + 3);
    if (type < REC_CCS || type > REC_HEARTBEAT) {
        event(st, TLS_EV_INVALID_RECORD_TYPE);
        return false;
    }
    if (h[1] != 3 || h[2] > 4) {
        event(st, TLS_EV_INVALID_RECORD_VERSION);
        return false;
    }
    if (len > MAX_RECORD_LEN) {
        event(st, TLS_EV_INVALID_TLS_HEADER);
        return false;
    }
    d->nrec++;
    st->cnt.records++;
    if (++d->call_rec == MAX_RECORDS_PER_CALL + 1)
        event(st, TLS_EV_TOO_MANY_RECORDS_IN_PACKET);
    if (dir == 1 && !st->rec_version_srv)
        st->rec_version_srv = ver;
    d->rec_type = type;
    d->rec_len = d->rec_left = len;
    d->rblen = 0;
    d->in_body = true;
    if (type == REC_HEARTBEAT)
        event(st, TLS_EV_HEARTBEAT_MESSAGE);
    if (type == REC_APPDATA)
        set_encrypted(st, dir);
    return true;
}

static void records(tls_state *st, int dir, const uint8_t *p, uint32_t n)
{
    tls_dir *d = &st->d[dir];
    while (n && !d->dead && !st->gave_up) {
        if (!d->in_body) {
            uint32_t k = BF_MIN(n, 5u - d->hlen);
            memcpy(d->hdr + d->hlen, p, k);
            d->hlen = (uint8_t)(d->hlen + k);
            p += k;
            n -= k;
            if (d->hlen < 5)
                return;
            d->hlen = 0;
            if (!record_start(st, dir)) {
                d->dead = true;
                st->cnt.dropped_bytes += n;
                return;
            }
            if (d->rec_left == 0) {
                d->in_body = false;
                record_end(st, dir);
            }
            continue;
        }
        uint32_t k = BF_MIN(n, d->rec_left);
        if (d->rblen < sizeof d->rbody) {
            uint32_t c = BF_MIN(k, (uint32_t)sizeof d->rbody - d->rblen);
            memcpy(d->rbody + d->rblen, p, c);
            d->rblen = (uint8_t)(d->rblen + c);
        }
        if (d->encrypted || d->rec_type == REC_APPDATA)
            st->cnt.encrypted_bytes[dir] += k;
        else if (d->rec_type == REC_HANDSHAKE)
            hs_feed(st, dir, p, k);
        p += k;
        n -= k;
        d->rec_left -= k;
        if (d->rec_left == 0) {
            d->in_body = false;
            record_end(st, dir);
        }
    }
}

/* ---- analyzer interface -------------------------------------------------- */

static void *tls_state_new(bf_app_ctx *ctx, bf_flow *f)
{
    tls_state *st = bf_calloc(1, sizeof *st);
    st->ctx = ctx;
    st->f = f;
    st->mem = sizeof *st;
    mem_sync(st);
    return st;
}

static void free_bufs(tls_state *st)
{
    for (int i = 0; i < 2; i++) {
        tls_dir *d = &st->d[i];
        if (d->hs_buf) {
            free(d->hs_buf);
            st->mem -= d->hs_cap;
            d->hs_buf = NULL;
            d->hs_cap = 0;
        }
    }
}

static void tls_state_free(bf_app_ctx *ctx, bf_flow *f, void *vst)
{
    tls_state *st = vst;
    if (!st)
        return;
    st->ctx = ctx;
    st->f = f;
    free_bufs(st);
    tls_strfree(&st->sni, &st->mem);
    for (unsigned i = 0; i < st->nc_alpn; i++)
        tls_strfree(&st->c_alpn[i], &st->mem);
    tls_strfree(&st->s_alpn, &st->mem);
    tls_strfree(&st->ja3s, &st->mem);
    if (st->ja3) {
        free(st->ja3);
        st->ja3 = NULL;
    }
    tls_cert_clear(&st->scert, &st->mem);
    tls_cert_clear(&st->ccert, &st->mem);
    tx_certs_free(st);
    st->mem = 0;
    mem_sync(st);
    free(st);
}

static void tls_parse(bf_app_ctx *ctx, bf_flow *f, void *vst, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    tls_state *st = vst;
    dir &= 1;
    st->ctx = ctx;
    st->f = f;
    st->p = p;
    if (gap && !st->gave_up) {
        /* cannot resynchronise on records: keep what was parsed, log it */
        st->gave_up = true;
        log_tls(st);
        free_bufs(st);
        if (st->tx_any || st->tx_dirty) {
            st->tx_dir = (uint8_t)dir;
            tx_publish(st, true); /* nothing more will be parsed */
        }
    }
    if (st->gave_up || st->d[dir].dead) {
        if (data)
            st->cnt.dropped_bytes += len;
    } else if (data && len) {
        st->d[dir].call_rec = 0;
        records(st, dir, data, len);
        if (st->d[dir].dead && !st->tx_done[dir]) {
            st->tx_done[dir] = true; /* that side is not parsed any more */
            tx_progress(st, dir);
        }
    }
    if (st->tx_dirty)
        tx_publish(st, false);
    mem_sync(st);
    st->p = NULL;
}

static void tls_flow_end(bf_app_ctx *ctx, bf_flow *f, void *vst)
{
    tls_state *st = vst;
    st->ctx = ctx;
    st->f = f;
    st->p = NULL;
    log_tls(st);
    if (st->tx_any || st->tx_dirty || st->sslv2)
        tx_publish(st, true);
}

const bf_tls_counters *bf_tls_state_counters(const void *st)
{
    return &((const tls_state *)st)->cnt;
}

const bf_app_parser bf_parser_tls = {
    .proto = BF_APP_TLS,
    .state_new = tls_state_new,
    .state_free = tls_state_free,
    .parse = tls_parse,
    .flow_end = tls_flow_end,
};
