/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/dns/dns.c: the DNS analyzer (see dns.h).
 *
 * A message is parsed in one bounded pass that validates every name and
 * record and remembers where they are (offsets into the message); the EVE
 * writer then decodes names again from those offsets, so no per-record
 * allocation is needed.  Every loop is bounded by the message length, by
 * BF_DNS_MAX_RRS records and, for names, by MAX_JUMPS compression pointers.
 */
#include "output/events.h"
#include "app/dns/dns.h"

#include "app/tx.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_JUMPS 64          /* compression pointers followed per name */
#define MAX_LABELS 128        /* labels per name (255 wire bytes hold 127) */
#define WIRE_NAME_MAX 255     /* RFC 1035 name length limit */
#define MAX_QUESTIONS 32      /* questions kept per message */
#define TXT_LOG_MAX 1024      /* bytes of one TXT string / NULL rdata logged */
#define TXT_STRINGS_MAX 32    /* strings of one TXT record logged */
#define OPT_LOG_MAX 16        /* EDNS options of one OPT record logged */
#define ANOMALIES_PER_FLOW 64 /* anomaly events logged per flow */
#define RESYNC_TRIES 16       /* TCP chunks tried after a gap before giving up */

/* app-layer events, as Suricata names them (dns-events.rules) */
enum {
    EV_MALFORMED_DATA = 1u << 0,
    EV_NOT_REQUEST = 1u << 1,
    EV_NOT_RESPONSE = 1u << 2,
    EV_Z_FLAG_SET = 1u << 3,
    EV_INVALID_OPCODE = 1u << 4,
    EV_NAME_TOO_LONG = 1u << 5,
    EV_INFINITE_LOOP = 1u << 6,
    EV_TOO_MANY_LABELS = 1u << 7,
    EV_INVALID_ADDITIONALS = 1u << 8,
    EV_INVALID_AUTHORITIES = 1u << 9,
};
static const char *const ev_names[] = {
    "malformed_data", "not_request", "not_response", "z_flag_set", "invalid_opcode",
    "name_too_long", "infinite_loop", "too_many_labels", "invalid_additionals",
    "invalid_authorities",
};

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_NULL = 10, T_PTR = 12, T_MX = 15,
       T_TXT = 16, T_AAAA = 28, T_SRV = 33, T_OPT = 41, T_SSHFP = 44, T_SVCB = 64,
       T_HTTPS = 65 };

enum { SEC_ANSWER = 0, SEC_AUTHORITY, SEC_ADDITIONAL };

static _Thread_local bf_dns_stats g_stats;

const bf_dns_stats *bf_dns_stats_get(void) { return &g_stats; }

/* ------------------------------------------------------------------ */
/* names                                                               */

typedef struct dns_name {
    char s[BF_DNS_NAME_MAX + 1];
    uint16_t len;
    uint16_t labels;
    bool truncated;
} dns_name;

/* Decodes the name at *off of message m (length n) and moves *off past it
 * (past the first compression pointer when there is one).  Event bits go to
 * *ev.  Returns false when the name is malformed: it runs past the message,
 * a pointer points outside it, or a label type is reserved (0x40, 0x80).
 * A pointer loop (more than MAX_JUMPS pointers) or an oversized name gives
 * a truncated name, not an error: where the name ends is still known. */
static bool read_name(const uint8_t *m, uint32_t n, uint32_t *off, dns_name *out, uint32_t *ev)
{
    uint32_t pos = *off, end = 0, wire = 1;
    unsigned jumps = 0;
    bool jumped = false;
    out->len = 0;
    out->labels = 0;
    out->truncated = false;
    out->s[0] = 0;
    for (;;) {
        if (pos >= n)
            return false;
        uint8_t l = m[pos];
        if (l == 0) {
            if (!jumped)
                end = pos + 1;
            break;
        }
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= n)
                return false;
            uint32_t target = (uint32_t)(l & 0x3f) << 8 | m[pos + 1];
            if (!jumped) {
                end = pos + 2;
                jumped = true;
            }
            if (target >= n)
                return false;
            if (++jumps > MAX_JUMPS) {
                *ev |= EV_INFINITE_LOOP;
                out->truncated = true;
                break;
            }
            pos = target;
            continue;
        }
        if (l & 0xc0)
            return false;
        if (pos + 1u + l > n)
            return false;
        wire += 1u + l;
        if (++out->labels > MAX_LABELS) {
            *ev |= EV_TOO_MANY_LABELS;
            out->truncated = true;
            if (jumped)
                break;
        }
        if (wire > WIRE_NAME_MAX)
            *ev |= EV_NAME_TOO_LONG;
        if (!out->truncated) {
            uint32_t need = (out->len ? 1u : 0u) + l;
            if (out->len + need > BF_DNS_NAME_MAX) {
                out->truncated = true;
                *ev |= EV_NAME_TOO_LONG;
                if (jumped)
                    break; /* the end is known: stop walking */
            } else {
                if (out->len)
                    out->s[out->len++] = '.';
                memcpy(out->s + out->len, m + pos + 1, l);
                out->len = (uint16_t)(out->len + l);
                out->s[out->len] = 0;
            }
        }
        pos += 1u + l;
    }
    *off = end;
    return true;
}

static void lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    dst[len] = 0;
}

static bool name_eq_nocase(const char *a, uint16_t alen, const char *b, uint16_t blen)
{
    if (alen != blen)
        return false;
    for (uint16_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* message parsing                                                     */

typedef struct dns_q {
    uint32_t name_off;
    uint16_t type, cls;
} dns_q;

typedef struct dns_rr {
    uint32_t name_off;
    uint32_t rdoff;
    uint32_t ttl;
    uint16_t type, cls;
    uint16_t rdlen;
    uint8_t section;
    bool bad;            /* rdata does not match its type: logged without it */
} dns_rr;

typedef struct dns_msg {
    const uint8_t *m;
    uint32_t n;
    uint16_t id, flags, qd, an, ns, ar;
    dns_q q[MAX_QUESTIONS];
    unsigned nq;
    dns_rr rr[BF_DNS_MAX_RRS];
    unsigned nrr;
    unsigned nsec[3];    /* records kept per section */
    uint32_t ev;
} dns_msg;

/* Checks rdata of known types; false when it does not fit its type. */
static bool check_rdata(const dns_msg *mm, const dns_rr *r, uint32_t *ev)
{
    const uint8_t *m = mm->m;
    uint32_t n = mm->n, off = r->rdoff, end = r->rdoff + r->rdlen;
    dns_name nm;
    switch (r->type) {
    case T_A:
        return r->rdlen == 4;
    case T_AAAA:
        return r->rdlen == 16;
    case T_CNAME:
    case T_NS:
    case T_PTR:
        return read_name(m, n, &off, &nm, ev) && off <= end;
    case T_MX:
        if (r->rdlen < 3)
            return false;
        off += 2;
        return read_name(m, n, &off, &nm, ev) && off <= end;
    case T_SRV:
        if (r->rdlen < 7)
            return false;
        off += 6;
        return read_name(m, n, &off, &nm, ev) && off <= end;
    case T_SVCB:
    case T_HTTPS:
        if (r->rdlen < 3)
            return false;
        off += 2;
        return read_name(m, n, &off, &nm, ev) && off <= end;
    case T_SOA:
        if (!read_name(m, n, &off, &nm, ev) || off > end)
            return false;
        if (!read_name(m, n, &off, &nm, ev) || off > end)
            return false;
        return end - off >= 20;
    case T_TXT:
        while (off < end) {
            off += 1u + m[off];
            if (off > end)
                return false;
        }
        return true;
    case T_SSHFP:
        return r->rdlen >= 2;
    case T_OPT:
        while (off < end) {
            if (end - off < 4)
                return false;
            off += 4u + bf_be16(m + off + 2);
            if (off > end)
                return false;
        }
        return true;
    }
    return true;
}

/* Parses and validates a message into mm.  Returns false when it is
 * malformed (EV_MALFORMED_DATA is set): too short, a question or answer
 * record that does not parse.  Bad authority / additional records only cut
 * the message there (with their own event). */
static bool parse_msg(dns_msg *mm, const uint8_t *m, uint32_t n)
{
    memset(mm, 0, offsetof(dns_msg, q));
    mm->nq = 0;
    mm->nrr = 0;
    mm->nsec[0] = mm->nsec[1] = mm->nsec[2] = 0;
    mm->ev = 0;
    mm->m = m;
    mm->n = n;
    if (n < 12) {
        mm->ev |= EV_MALFORMED_DATA;
        return false;
    }
    mm->id = bf_be16(m);
    mm->flags = bf_be16(m + 2);
    mm->qd = bf_be16(m + 4);
    mm->an = bf_be16(m + 6);
    mm->ns = bf_be16(m + 8);
    mm->ar = bf_be16(m + 10);
    uint32_t off = 12;
    dns_name nm;
    for (unsigned i = 0; i < mm->qd; i++) {
        uint32_t start = off;
        if (!read_name(m, n, &off, &nm, &mm->ev) || n - off < 4) {
            mm->ev |= EV_MALFORMED_DATA;
            return false;
        }
        if (mm->nq < MAX_QUESTIONS) {
            dns_q *q = &mm->q[mm->nq++];
            q->name_off = start;
            q->type = bf_be16(m + off);
            q->cls = bf_be16(m + off + 2);
        }
        off += 4;
    }
    const uint16_t cnt[3] = {mm->an, mm->ns, mm->ar};
    for (int sec = 0; sec < 3; sec++) {
        for (unsigned i = 0; i < cnt[sec]; i++) {
            if (mm->nrr >= BF_DNS_MAX_RRS) {
                unsigned left = cnt[sec] - i;
                for (int s2 = sec + 1; s2 < 3; s2++)
                    left += cnt[s2];
                g_stats.rrs_dropped += left;
                return true;
            }
            uint32_t start = off;
            bool ok = read_name(m, n, &off, &nm, &mm->ev) && n - off >= 10;
            uint16_t rdlen = ok ? bf_be16(m + off + 8) : 0;
            if (ok && n - off - 10 < rdlen)
                ok = false;
            if (!ok) {
                if (sec == SEC_ANSWER) {
                    mm->ev |= EV_MALFORMED_DATA;
                    return false;
                }
                mm->ev |= sec == SEC_AUTHORITY ? EV_INVALID_AUTHORITIES : EV_INVALID_ADDITIONALS;
                return true;
            }
            dns_rr *r = &mm->rr[mm->nrr++];
            r->name_off = start;
            r->type = bf_be16(m + off);
            r->cls = bf_be16(m + off + 2);
            r->ttl = bf_be32(m + off + 4);
            r->rdlen = rdlen;
            r->rdoff = off + 10;
            r->section = (uint8_t)sec;
            uint32_t rev = 0;
            r->bad = !check_rdata(mm, r, &rev);
            mm->ev |= rev;
            if (r->bad)
                mm->ev |= EV_MALFORMED_DATA;
            mm->nsec[sec]++;
            off = r->rdoff + rdlen;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* strings Suricata uses                                               */

static const char *rrtype_str(uint16_t t, char *buf, size_t len)
{
    static const struct { uint16_t t; const char *s; } names[] = {
        {1, "A"}, {2, "NS"}, {3, "MD"}, {4, "MF"}, {5, "CNAME"}, {6, "SOA"}, {7, "MB"},
        {8, "MG"}, {9, "MR"}, {10, "NULL"}, {11, "WKS"}, {12, "PTR"}, {13, "HINFO"},
        {14, "MINFO"}, {15, "MX"}, {16, "TXT"}, {17, "RP"}, {18, "AFSDB"}, {19, "X25"},
        {20, "ISDN"}, {21, "RT"}, {22, "NSAP"}, {23, "NSAPPTR"}, {24, "SIG"}, {25, "KEY"},
        {26, "PX"}, {27, "GPOS"}, {28, "AAAA"}, {29, "LOC"}, {30, "NXT"}, {33, "SRV"},
        {34, "ATMA"}, {35, "NAPTR"}, {36, "KX"}, {37, "CERT"}, {38, "A6"}, {39, "DNAME"},
        {41, "OPT"}, {42, "APL"}, {43, "DS"}, {44, "SSHFP"}, {45, "IPSECKEY"}, {46, "RRSIG"},
        {47, "NSEC"}, {48, "DNSKEY"}, {49, "DHCID"}, {50, "NSEC3"}, {51, "NSEC3PARAM"},
        {52, "TLSA"}, {55, "HIP"}, {59, "CDS"}, {60, "CDNSKEY"}, {64, "SVCB"}, {65, "HTTPS"},
        {99, "SPF"}, {249, "TKEY"}, {250, "TSIG"}, {254, "MAILA"}, {255, "ANY"}, {256, "URI"},
    };
    for (size_t i = 0; i < BF_ARRAY_LEN(names); i++)
        if (names[i].t == t)
            return names[i].s;
    snprintf(buf, len, "%u", t);
    return buf;
}

static const char *rcode_str(uint16_t flags, char *buf, size_t len)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    unsigned rc = flags & 0x0f;
    if (rc < BF_ARRAY_LEN(names))
        return names[rc];
    snprintf(buf, len, "%u", rc);
    return buf;
}

/* Suricata's address text: dotted IPv4, IPv6 as 8 groups of 4 hex digits. */
static void addr_str(const uint8_t *a, unsigned alen, char *buf, size_t len)
{
    if (alen == 4)
        snprintf(buf, len, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    else
        snprintf(buf, len,
                 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
                 a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11],
                 a[12], a[13], a[14], a[15]);
}

/* ------------------------------------------------------------------ */
/* EVE                                                                 */

/* What the schema allows per section (answers / authorities / additionals). */
enum { AL_RDATA = 1, AL_SOA = 2, AL_SRV = 4, AL_SSHFP = 8, AL_OPT = 16, AL_TRUNC = 32 };
static const unsigned sec_allowed[3] = {
    AL_RDATA | AL_SOA | AL_SRV | AL_SSHFP,
    AL_RDATA | AL_SOA | AL_TRUNC,
    AL_RDATA | AL_OPT,
};

/* How many EVE entries a record makes (TXT: one per string). */
static unsigned rr_entries(const dns_msg *mm, const dns_rr *r)
{
    if (r->type != T_TXT || r->bad)
        return 1;
    unsigned k = 0;
    uint32_t off = r->rdoff, end = r->rdoff + r->rdlen;
    while (off < end && k < TXT_STRINGS_MAX) {
        off += 1u + mm->m[off];
        k++;
    }
    return k;
}

static bool opt_logged(const dns_rr *r) { return !(r->type == T_OPT && (r->bad || r->rdlen == 0)); }

static void json_name(bf_json *j, const char *key, const dns_msg *mm, uint32_t off,
                      const char *trunc_key)
{
    dns_name nm;
    uint32_t ev = 0;
    if (!read_name(mm->m, mm->n, &off, &nm, &ev)) /* validated before: cannot fail */
        nm.len = 0;
    bf_json_strn(j, key, nm.s, nm.len);
    if (nm.truncated && trunc_key)
        bf_json_bool(j, trunc_key, true);
}

static void json_soa(bf_json *j, const char *key, const dns_msg *mm, const dns_rr *r)
{
    uint32_t off = r->rdoff, ev = 0;
    dns_name a, b;
    read_name(mm->m, mm->n, &off, &a, &ev);
    read_name(mm->m, mm->n, &off, &b, &ev);
    const uint8_t *x = mm->m + off;
    bf_json_open_obj(j, key);
    bf_json_strn(j, "mname", a.s, a.len);
    if (a.truncated)
        bf_json_bool(j, "mname_truncated", true);
    bf_json_strn(j, "rname", b.s, b.len);
    bf_json_uint(j, "serial", bf_be32(x));
    bf_json_uint(j, "refresh", bf_be32(x + 4));
    bf_json_uint(j, "retry", bf_be32(x + 8));
    bf_json_uint(j, "expire", bf_be32(x + 12));
    bf_json_uint(j, "minimum", bf_be32(x + 16));
    bf_json_close_obj(j);
}

static void json_srv(bf_json *j, const char *key, const dns_msg *mm, const dns_rr *r)
{
    const uint8_t *x = mm->m + r->rdoff;
    bf_json_open_obj(j, key);
    bf_json_uint(j, "priority", bf_be16(x));
    bf_json_uint(j, "weight", bf_be16(x + 2));
    bf_json_uint(j, "port", bf_be16(x + 4));
    json_name(j, "name", mm, r->rdoff + 6, NULL);
    bf_json_close_obj(j);
}

static void json_sshfp(bf_json *j, const char *key, const dns_msg *mm, const dns_rr *r)
{
    const uint8_t *x = mm->m + r->rdoff;
    unsigned fl = BF_MIN((unsigned)r->rdlen - 2, 64u);
    char hex[64 * 3 + 1];
    size_t o = 0;
    for (unsigned i = 0; i < fl; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, i ? ":%02x" : "%02x", x[2 + i]);
    hex[o] = 0;
    bf_json_open_obj(j, key);
    bf_json_strn(j, "fingerprint", hex, o);
    bf_json_uint(j, "algo", x[0]);
    bf_json_uint(j, "type", x[1]);
    bf_json_close_obj(j);
}

/* The idx-th string of a TXT record (bounded). */
static void txt_string(const dns_msg *mm, const dns_rr *r, unsigned idx, const uint8_t **s,
                       unsigned *len)
{
    uint32_t off = r->rdoff, end = r->rdoff + r->rdlen;
    for (unsigned k = 0; off < end; k++) {
        unsigned l = mm->m[off];
        if (k == idx) {
            *s = mm->m + off + 1;
            *len = BF_MIN(l, (unsigned)TXT_LOG_MAX);
            return;
        }
        off += 1u + l;
    }
    *s = NULL;
    *len = 0;
}

/* One record (the idx-th string for TXT) as an object of its section. */
static void json_rr(bf_json *j, const dns_msg *mm, const dns_rr *r, unsigned idx)
{
    unsigned al = sec_allowed[r->section];
    char tb[8], ab[48];
    bf_json_open_obj(j, NULL);
    json_name(j, "rrname", mm, r->name_off, (al & AL_TRUNC) ? "rrname_truncated" : NULL);
    bf_json_str(j, "rrtype", rrtype_str(r->type, tb, sizeof tb));
    bf_json_uint(j, "ttl", r->ttl);
    if (!r->bad) {
        const uint8_t *x = mm->m + r->rdoff;
        switch (r->type) {
        case T_A:
        case T_AAAA:
            addr_str(x, r->rdlen, ab, sizeof ab);
            bf_json_str(j, "rdata", ab);
            break;
        case T_CNAME:
        case T_NS:
        case T_PTR:
            json_name(j, "rdata", mm, r->rdoff, (al & AL_TRUNC) ? "rdata_truncated" : NULL);
            break;
        case T_MX:
            json_name(j, "rdata", mm, r->rdoff + 2, (al & AL_TRUNC) ? "rdata_truncated" : NULL);
            break;
        case T_TXT: {
            const uint8_t *s;
            unsigned l;
            txt_string(mm, r, idx, &s, &l);
            if (s)
                bf_json_strn(j, "rdata", s, l);
            break;
        }
        case T_NULL:
            bf_json_strn(j, "rdata", x, BF_MIN((unsigned)r->rdlen, (unsigned)TXT_LOG_MAX));
            break;
        case T_SOA:
            if (al & AL_SOA)
                json_soa(j, "soa", mm, r);
            break;
        case T_SRV:
            if (al & AL_SRV)
                json_srv(j, "srv", mm, r);
            break;
        case T_SSHFP:
            if (al & AL_SSHFP)
                json_sshfp(j, "sshfp", mm, r);
            break;
        case T_OPT:
            if (al & AL_OPT) {
                bf_json_open_arr(j, "opt");
                uint32_t off = r->rdoff, end = r->rdoff + r->rdlen;
                for (unsigned k = 0; off + 4 <= end && k < OPT_LOG_MAX; k++) {
                    uint16_t ol = bf_be16(mm->m + off + 2);
                    bf_json_open_obj(j, NULL);
                    bf_json_uint(j, "code", bf_be16(mm->m + off));
                    bf_json_hex(j, "data", mm->m + off + 4, ol);
                    bf_json_close_obj(j);
                    off += 4u + ol;
                }
                bf_json_close_arr(j);
            }
            break;
        }
    }
    bf_json_close_obj(j);
}

static bool groupable(uint16_t t)
{
    switch (t) {
    case T_A: case T_AAAA: case T_CNAME: case T_MX: case T_NS: case T_PTR: case T_TXT:
    case T_NULL: case T_SOA: case T_SRV: case T_SSHFP:
        return true;
    }
    return false;
}

static void json_grouped(bf_json *j, const dns_msg *mm)
{
    bf_json_open_obj(j, "grouped");
    uint16_t seen[16];
    unsigned nseen = 0;
    for (unsigned i = 0; i < mm->nrr; i++) {
        const dns_rr *r = &mm->rr[i];
        if (r->section != SEC_ANSWER || r->bad || !groupable(r->type))
            continue;
        bool done = false;
        for (unsigned k = 0; k < nseen; k++)
            done |= seen[k] == r->type;
        if (done || nseen >= BF_ARRAY_LEN(seen))
            continue;
        seen[nseen++] = r->type;
        if (r->type == T_TXT) {
            /* only open the array when some record has a string */
            bool any = false;
            for (unsigned k = i; k < mm->nrr && !any; k++)
                any = mm->rr[k].section == SEC_ANSWER && mm->rr[k].type == T_TXT &&
                      !mm->rr[k].bad && mm->rr[k].rdlen;
            if (!any)
                continue;
        }
        char tb[8], ab[48];
        bf_json_open_arr(j, rrtype_str(r->type, tb, sizeof tb));
        for (unsigned k = i; k < mm->nrr; k++) {
            const dns_rr *x = &mm->rr[k];
            if (x->section != SEC_ANSWER || x->bad || x->type != r->type)
                continue;
            const uint8_t *d = mm->m + x->rdoff;
            switch (x->type) {
            case T_A:
            case T_AAAA:
                addr_str(d, x->rdlen, ab, sizeof ab);
                bf_json_str(j, NULL, ab);
                break;
            case T_CNAME:
            case T_NS:
            case T_PTR:
                json_name(j, NULL, mm, x->rdoff, NULL);
                break;
            case T_MX:
                json_name(j, NULL, mm, x->rdoff + 2, NULL);
                break;
            case T_TXT: {
                unsigned ns = rr_entries(mm, x);
                for (unsigned s = 0; s < ns; s++) {
                    const uint8_t *p;
                    unsigned l;
                    txt_string(mm, x, s, &p, &l);
                    if (p)
                        bf_json_strn(j, NULL, p, l);
                }
                break;
            }
            case T_NULL:
                bf_json_strn(j, NULL, d, BF_MIN((unsigned)x->rdlen, (unsigned)TXT_LOG_MAX));
                break;
            case T_SOA:
                json_soa(j, NULL, mm, x);
                break;
            case T_SRV:
                json_srv(j, NULL, mm, x);
                break;
            case T_SSHFP:
                json_sshfp(j, NULL, mm, x);
                break;
            }
        }
        bf_json_close_arr(j);
    }
    bf_json_close_obj(j);
}

static void json_section(bf_json *j, const char *key, const dns_msg *mm, int sec)
{
    unsigned total = 0;
    for (unsigned i = 0; i < mm->nrr; i++)
        if (mm->rr[i].section == sec && opt_logged(&mm->rr[i]))
            total += rr_entries(mm, &mm->rr[i]);
    if (!total)
        return;
    bf_json_open_arr(j, key);
    for (unsigned i = 0; i < mm->nrr; i++) {
        const dns_rr *r = &mm->rr[i];
        if (r->section != sec || !opt_logged(r))
            continue;
        unsigned ne = rr_entries(mm, r);
        for (unsigned k = 0; k < ne; k++)
            json_rr(j, mm, r, k);
    }
    bf_json_close_arr(j);
}

/* The questions of a request kept for the signature engine (only when
 * BF_BUS_TX has subscribers): per question 2 bytes type, 1 byte flags
 * (bit 0: name truncated), 1 byte name length, the name (as sent, dotted). */
#define QBLOB_MAX (MAX_QUESTIONS * (4 + BF_DNS_NAME_MAX))

typedef struct dns_pending {
    uint64_t seq;
    uint64_t tx_id;      /* bf_tx_view id of the exchange (the request's) */
    bf_ts ts;
    uint32_t req_len;
    uint16_t id, qtype, qclass, flags;
    uint16_t qname_len;
    uint8_t labels;
    bool trunc;
    uint16_t edns_udp_size;
    bool edns_do;
    bool tx_pub;         /* its BF_BUS_TX view was published */
    uint8_t *qblob;      /* see QBLOB_MAX, or NULL */
    uint16_t qblob_len;
    char qname[BF_DNS_NAME_MAX + 1];    /* lower-cased */
} dns_pending;

/* What the "dns" object describes: a parsed message, or an unanswered
 * request of which only the header fields and the questions were kept. */
typedef struct dns_meta {
    const dns_msg *mm;          /* or NULL: */
    const dns_pending *q;
    bool response;
    uint64_t tx_id;             /* EVE tx_id of the message */
    unsigned formats;           /* BF_EVE_DNS_* answer formats (0: both) */
} dns_meta;

static void json_header(bf_json *j, uint16_t id, uint16_t flags, bool response, uint64_t tx_id)
{
    char b[16];
    bf_json_int(j, "version", 3);
    bf_json_str(j, "type", response ? "response" : "request");
    bf_json_uint(j, "tx_id", tx_id);
    bf_json_uint(j, "id", id);
    snprintf(b, sizeof b, "%x", flags);
    bf_json_str(j, "flags", b);
    if (flags & 0x8000)
        bf_json_bool(j, "qr", true);
    if (flags & 0x0400)
        bf_json_bool(j, "aa", true);
    if (flags & 0x0200)
        bf_json_bool(j, "tc", true);
    if (flags & 0x0100)
        bf_json_bool(j, "rd", true);
    if (flags & 0x0080)
        bf_json_bool(j, "ra", true);
    if (flags & 0x0040)
        bf_json_bool(j, "z", true);
    bf_json_uint(j, "opcode", (flags >> 11) & 0x0f);
    bf_json_str(j, "rcode", rcode_str(flags, b, sizeof b));
}

/* The "dns" object (Suricata 8: the same version 3 object in `dns` events
 * and in alerts). */
static void json_dns(bf_json *j, const dns_meta *dm)
{
    const dns_msg *mm = dm->mm;
    char tb[8];
    bf_json_open_obj(j, "dns");
    if (!mm) {
        const dns_pending *q = dm->q;
        json_header(j, q->id, q->flags, false, dm->tx_id);
        if (q->qblob_len) {
            bf_json_open_arr(j, "queries");
            for (uint32_t o = 0; o + 4 <= q->qblob_len;) {
                const uint8_t *e = q->qblob + o;
                bf_json_open_obj(j, NULL);
                bf_json_strn(j, "rrname", e + 4, e[3]);
                bf_json_str(j, "rrtype", rrtype_str(bf_be16(e), tb, sizeof tb));
                if (e[2] & 1)
                    bf_json_bool(j, "rrname_truncated", true);
                bf_json_close_obj(j);
                o += 4u + e[3];
            }
            bf_json_close_arr(j);
        }
        bf_json_close_obj(j);
        return;
    }
    json_header(j, mm->id, mm->flags, dm->response, dm->tx_id);
    if (mm->nq) {
        bf_json_open_arr(j, "queries");
        for (unsigned i = 0; i < mm->nq; i++) {
            bf_json_open_obj(j, NULL);
            json_name(j, "rrname", mm, mm->q[i].name_off, NULL);
            bf_json_str(j, "rrtype", rrtype_str(mm->q[i].type, tb, sizeof tb));
            dns_name nm;
            uint32_t off = mm->q[i].name_off, ev = 0;
            if (read_name(mm->m, mm->n, &off, &nm, &ev) && nm.truncated)
                bf_json_bool(j, "rrname_truncated", true);
            bf_json_close_obj(j);
        }
        bf_json_close_arr(j);
    }
    if (mm->nsec[SEC_ANSWER]) {
        unsigned fm = dm->formats ? dm->formats : (BF_EVE_DNS_DETAILED | BF_EVE_DNS_GROUPED);
        if (fm & BF_EVE_DNS_DETAILED)
            json_section(j, "answers", mm, SEC_ANSWER);
        if (fm & BF_EVE_DNS_GROUPED)
            json_grouped(j, mm);
    }
    json_section(j, "authorities", mm, SEC_AUTHORITY);
    json_section(j, "additionals", mm, SEC_ADDITIONAL);
    bf_json_close_obj(j);
}

/* EVE DNS version 2 (Suricata 5 to 7, still selectable in 8), in the flow's
 * orientation: a request makes one "query" event per question; a response
 * one "answer" event with the header, its first question, the answers
 * (detailed array and/or grouped by type), the authorities and the
 * additionals.  A message without questions is not logged (as Suricata). */
static void log_eve_v2(bf_eve *e, bf_flow *f, bf_packet *p, bf_ts ts, const dns_msg *mm,
                       bool response, uint64_t tx_id, unsigned formats)
{
    bf_json *j = &e->j;
    char tb[8], b[16];
    unsigned opcode = (mm->flags >> 11) & 0x0f;
    if (!response) {
        for (unsigned i = 0; i < mm->nq; i++) {
            bf_eve_begin_flow(e, "dns", ts, p, f);
            bf_json_open_obj(j, "dns");
            bf_json_int(j, "version", 2);
            bf_json_str(j, "type", "query");
            bf_json_uint(j, "id", mm->id);
            json_name(j, "rrname", mm, mm->q[i].name_off, NULL);
            bf_json_str(j, "rrtype", rrtype_str(mm->q[i].type, tb, sizeof tb));
            bf_json_uint(j, "tx_id", tx_id);
            if (mm->flags & 0x0040)
                bf_json_bool(j, "z", true);
            bf_json_uint(j, "opcode", opcode);
            bf_json_close_obj(j);
            bf_eve_end(e);
        }
        return;
    }
    if (!mm->nq)
        return;
    uint16_t fl = mm->flags;
    bf_eve_begin_flow(e, "dns", ts, p, f);
    bf_json_open_obj(j, "dns");
    bf_json_int(j, "version", 2);
    bf_json_str(j, "type", "answer");
    bf_json_uint(j, "id", mm->id);
    snprintf(b, sizeof b, "%x", fl);
    bf_json_str(j, "flags", b);
    if (fl & 0x8000)
        bf_json_bool(j, "qr", true);
    if (fl & 0x0400)
        bf_json_bool(j, "aa", true);
    if (fl & 0x0200)
        bf_json_bool(j, "tc", true);
    if (fl & 0x0100)
        bf_json_bool(j, "rd", true);
    if (fl & 0x0080)
        bf_json_bool(j, "ra", true);
    if (fl & 0x0040)
        bf_json_bool(j, "z", true);
    bf_json_uint(j, "opcode", opcode);
    json_name(j, "rrname", mm, mm->q[0].name_off, NULL);
    bf_json_str(j, "rrtype", rrtype_str(mm->q[0].type, tb, sizeof tb));
    bf_json_str(j, "rcode", rcode_str(fl, b, sizeof b));
    if (mm->nsec[SEC_ANSWER]) {
        if (formats & BF_EVE_DNS_DETAILED)
            json_section(j, "answers", mm, SEC_ANSWER);
        if (formats & BF_EVE_DNS_GROUPED)
            json_grouped(j, mm);
    }
    json_section(j, "authorities", mm, SEC_AUTHORITY);
    json_section(j, "additionals", mm, SEC_ADDITIONAL);
    bf_json_close_obj(j);
    bf_eve_end(e);
}

static void log_eve(bf_eve *e, bf_flow *f, bf_packet *p, bf_ts ts, const dns_msg *mm,
                    bool response, uint64_t tx_id)
{
    unsigned formats = e->opts && e->opts->dns_formats
                           ? e->opts->dns_formats
                           : (unsigned)(BF_EVE_DNS_DETAILED | BF_EVE_DNS_GROUPED);
    if (e->opts && e->opts->dns_version == 2) {
        log_eve_v2(e, f, p, ts, mm, response, tx_id, formats);
        return;
    }
    dns_meta dm = {.mm = mm, .response = response, .tx_id = tx_id, .formats = formats};
    bf_eve_begin(e, "dns", ts, p, f);
    json_dns(&e->j, &dm);
    bf_eve_end(e);
}

/* bf_tx_view.log_meta */
static void tx_log_meta(const void *ud, bf_json *j) { json_dns(j, ud); }

/* The questions of a message as a blob (QBLOB_MAX bytes); returns its length. */
static uint32_t qblob_build(const dns_msg *mm, uint8_t *out)
{
    uint32_t o = 0;
    for (unsigned i = 0; i < mm->nq; i++) {
        dns_name nm;
        uint32_t off = mm->q[i].name_off, ev = 0;
        if (!read_name(mm->m, mm->n, &off, &nm, &ev))
            continue;
        uint32_t l = BF_MIN((uint32_t)nm.len, 255u);
        out[o] = (uint8_t)(mm->q[i].type >> 8);
        out[o + 1] = (uint8_t)mm->q[i].type;
        out[o + 2] = nm.truncated ? 1 : 0;
        out[o + 3] = (uint8_t)l;
        memcpy(out + o + 4, nm.s, l);
        o += 4 + l;
    }
    return o;
}

/* Publishes BF_BUS_TX for one exchange: dir 0 (request seen, response
 * pending) or final (both done).  The DNS_QUERY instances come from blob. */
static void publish_tx(bf_app_ctx *ctx, bf_flow *f, bf_packet *p, int dir, bool final,
                       uint64_t tx_id, const uint8_t *blob, uint32_t blen, const dns_meta *dm)
{
    bf_tx_view v;
    bf_dbuf q[MAX_QUESTIONS];
    memset(&v, 0, sizeof v);
    v.app_proto = BF_APP_DNS;
    v.dir = (uint8_t)dir;
    v.done[0] = v.body_final[0] = true;
    v.done[1] = v.body_final[1] = final;
    v.tx_id = tx_id;
    uint16_t n = 0;
    for (uint32_t o = 0; o + 4 <= blen && n < MAX_QUESTIONS; n++) {
        q[n].p = blob + o + 4;
        q[n].len = blob[o + 3];
        o += 4u + blob[o + 3];
    }
    if (n) {
        v.bufs[BF_DBUF_DNS_QUERY].v = q;
        v.bufs[BF_DBUF_DNS_QUERY].n = n;
    }
    v.log_meta = tx_log_meta;
    v.log_ud = dm;
    bf_bus_publish(ctx->bus, BF_BUS_TX, f, p, &v);
}

static bool tx_wanted(const bf_app_ctx *ctx)
{
    return ctx && ctx->bus && bf_bus_wanted(ctx->bus, BF_BUS_TX);
}

/* ------------------------------------------------------------------ */
/* flow state                                                          */


typedef struct dns_dir {
    uint8_t *buf;
    uint32_t len, cap;
    uint32_t skip;       /* bytes of an over-cap message still to skip */
    uint16_t resync_fail;
    bool gap;            /* waiting for a message start after a gap */
    bool dead;           /* gave up on this direction */
} dns_dir;

typedef struct dns_state {
    uint64_t tx_id;
    uint64_t seq;
    dns_dir d[2];
    dns_pending *pend;
    uint32_t npend, cpend;
    uint32_t anomalies;
} dns_state;

static void mem(bf_app_ctx *ctx, bf_flow *f, int64_t d)
{
    f->app_mem += (uint32_t)d;
    if (ctx && ctx->ft)
        bf_flow_mem_adjust(ctx->ft, d);
}

static void *dns_state_new(bf_app_ctx *ctx, bf_flow *f)
{
    dns_state *s = bf_calloc(1, sizeof *s);
    mem(ctx, f, (int64_t)sizeof *s);
    return s;
}

static void dir_free(bf_app_ctx *ctx, bf_flow *f, dns_dir *d)
{
    if (d->buf) {
        free(d->buf);
        mem(ctx, f, -(int64_t)d->cap);
    }
    d->buf = NULL;
    d->len = d->cap = 0;
}

static void qblob_free(bf_app_ctx *ctx, bf_flow *f, dns_pending *q)
{
    if (q->qblob) {
        free(q->qblob);
        mem(ctx, f, -(int64_t)q->qblob_len);
        q->qblob = NULL;
        q->qblob_len = 0;
    }
}

static void dns_state_free(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    dns_state *s = st;
    if (!s)
        return;
    dir_free(ctx, f, &s->d[0]);
    dir_free(ctx, f, &s->d[1]);
    if (s->pend) {
        for (uint32_t i = 0; i < s->npend; i++)
            qblob_free(ctx, f, &s->pend[i]);
        free(s->pend);
        mem(ctx, f, -(int64_t)(s->cpend * sizeof(dns_pending)));
    }
    free(s);
    mem(ctx, f, -(int64_t)sizeof *s);
}

static void emit_anomalies(bf_app_ctx *ctx, bf_flow *f, dns_state *s, bf_packet *p, bf_ts ts,
                           uint32_t ev)
{
    for (unsigned i = 0; ev && i < BF_ARRAY_LEN(ev_names); i++) {
        if (!(ev & (1u << i)))
            continue;
        ev &= ~(1u << i);
        if (s->anomalies >= ANOMALIES_PER_FLOW) {
            g_stats.anomalies_dropped++;
            continue;
        }
        s->anomalies++;
        bf_eve_log_app_anomaly(ctx->eve, ts, p, f, "dns", ev_names[i], -1, false);
    }
}

static void pending_to_event(const dns_pending *q, bf_dns_event *ev)
{
    ev->id = q->id;
    ev->flags = q->flags;
    ev->opcode = (uint8_t)((q->flags >> 11) & 0x0f);
    memcpy(ev->qname, q->qname, (size_t)q->qname_len + 1);
    ev->qname_len = q->qname_len;
    ev->qname_labels = q->labels;
    ev->qname_truncated = q->trunc;
    ev->qtype = q->qtype;
    ev->qclass = q->qclass;
    ev->edns_udp_size = q->edns_udp_size;
    ev->edns_do = q->edns_do;
    ev->request_len = q->req_len;
    ev->request_ts = q->ts;
}

/* q was removed from the table: its last publish (both sides done, the
 * response will never come), then its blob is freed. */
static void publish_unanswered(bf_app_ctx *ctx, bf_flow *f, bf_packet *p, dns_pending *q)
{
    g_stats.unanswered++;
    if (q->tx_pub && tx_wanted(ctx)) {
        dns_meta dm = {.q = q, .tx_id = q->tx_id};
        publish_tx(ctx, f, p, 0, true, q->tx_id, q->qblob, q->qblob_len, &dm);
    }
    qblob_free(ctx, f, q);
    if (!ctx->bus || !bf_bus_wanted(ctx->bus, BF_BUS_DNS_ANSWER))
        return;
    bf_dns_event ev;
    memset(&ev, 0, offsetof(bf_dns_event, answers));
    ev.kind = BF_DNS_KIND_UNANSWERED;
    ev.tcp = f->proto == 6;
    pending_to_event(q, &ev);
    bf_bus_publish(ctx->bus, BF_BUS_DNS_ANSWER, f, p, &ev);
}

static void pending_add(bf_app_ctx *ctx, bf_flow *f, dns_state *s, bf_packet *p,
                        const bf_dns_event *ev, uint64_t tx_id, const uint8_t *blob,
                        uint32_t blen)
{
    if (s->npend == s->cpend) {
        if (s->cpend >= BF_DNS_PENDING_MAX) {
            /* full: the oldest query is given up as unanswered */
            uint32_t old = 0;
            for (uint32_t i = 1; i < s->npend; i++)
                if (s->pend[i].seq < s->pend[old].seq)
                    old = i;
            g_stats.pending_evicted++;
            dns_pending ev_q = s->pend[old];
            s->pend[old] = s->pend[--s->npend];
            publish_unanswered(ctx, f, p, &ev_q);
        } else {
            uint32_t nc = s->cpend ? s->cpend * 2 : 4;
            if (nc > BF_DNS_PENDING_MAX)
                nc = BF_DNS_PENDING_MAX;
            s->pend = bf_realloc(s->pend, nc * sizeof(dns_pending));
            mem(ctx, f, (int64_t)((nc - s->cpend) * sizeof(dns_pending)));
            s->cpend = nc;
        }
    }
    dns_pending *q = &s->pend[s->npend++];
    q->seq = s->seq++;
    q->tx_id = tx_id;
    q->qblob = NULL;
    q->qblob_len = 0;
    q->tx_pub = blob != NULL;
    if (blob && blen) {
        q->qblob = bf_malloc(blen);
        memcpy(q->qblob, blob, blen);
        q->qblob_len = (uint16_t)blen;
        mem(ctx, f, (int64_t)blen);
    }
    q->ts = ev->request_ts;
    q->req_len = ev->request_len;
    q->id = ev->id;
    q->flags = ev->flags;
    q->qtype = ev->qtype;
    q->qclass = ev->qclass;
    q->qname_len = ev->qname_len;
    q->labels = ev->qname_labels;
    q->trunc = ev->qname_truncated;
    q->edns_udp_size = ev->edns_udp_size;
    q->edns_do = ev->edns_do;
    memcpy(q->qname, ev->qname, (size_t)ev->qname_len + 1);
}

/* Finds (and removes into *out) the oldest pending query the response
 * answers: same id and, when the response has a question, same question. */
static bool pending_match(dns_state *s, const bf_dns_event *ev, bool has_q, dns_pending *out)
{
    int best = -1;
    for (uint32_t i = 0; i < s->npend; i++) {
        const dns_pending *q = &s->pend[i];
        if (q->id != ev->id)
            continue;
        if (has_q && (q->qtype != ev->qtype ||
                      !name_eq_nocase(q->qname, q->qname_len, ev->qname, ev->qname_len)))
            continue;
        if (best < 0 || q->seq < s->pend[best].seq)
            best = (int)i;
    }
    if (best < 0)
        return false;
    *out = s->pend[best];
    s->pend[best] = s->pend[--s->npend];
    return true;
}

/* Fills the bus event from a parsed message (first question, answers). */
static void fill_event(bf_dns_event *ev, const dns_msg *mm)
{
    memset(ev, 0, offsetof(bf_dns_event, answers));
    ev->id = mm->id;
    ev->flags = mm->flags;
    ev->opcode = (uint8_t)((mm->flags >> 11) & 0x0f);
    ev->rcode = (uint8_t)(mm->flags & 0x0f);
    ev->qdcount = mm->qd;
    ev->ancount = mm->an;
    ev->nscount = mm->ns;
    ev->arcount = mm->ar;
    if (mm->nq) {
        dns_name nm;
        uint32_t off = mm->q[0].name_off, e = 0;
        if (read_name(mm->m, mm->n, &off, &nm, &e)) {
            lower_copy(ev->qname, nm.s, nm.len);
            ev->qname_len = nm.len;
            ev->qname_labels = (uint8_t)BF_MIN(nm.labels, 255u);
            ev->qname_truncated = nm.truncated;
        }
        ev->qtype = mm->q[0].type;
        ev->qclass = mm->q[0].cls;
    }
    bool first_ttl = true;
    for (unsigned i = 0; i < mm->nrr; i++) {
        const dns_rr *r = &mm->rr[i];
        if (r->section == SEC_ADDITIONAL && r->type == T_OPT) {
            ev->edns_udp_size = r->cls;
            ev->edns_do = (r->ttl & 0x8000) != 0;
            continue;
        }
        if (r->section != SEC_ANSWER)
            continue;
        if (first_ttl || r->ttl < ev->min_ttl)
            ev->min_ttl = r->ttl;
        first_ttl = false;
        if (ev->nanswers >= BF_DNS_BUS_ANSWERS) {
            ev->answers_dropped++;
            continue;
        }
        bf_dns_answer *a = &ev->answers[ev->nanswers++];
        memset(a, 0, offsetof(bf_dns_answer, data) + 1);
        a->rrtype = r->type;
        a->rdlen = r->rdlen;
        a->ttl = r->ttl;
        if (r->bad)
            continue;
        const uint8_t *x = mm->m + r->rdoff;
        uint32_t noff = 0, e = 0;
        dns_name nm;
        switch (r->type) {
        case T_A:
        case T_AAAA:
            a->addr_len = (uint8_t)r->rdlen;
            memcpy(a->addr, x, r->rdlen);
            inet_ntop(r->type == T_A ? AF_INET : AF_INET6, x, a->data, sizeof a->data);
            break;
        case T_CNAME: case T_NS: case T_PTR:
            noff = r->rdoff;
            break;
        case T_MX:
            a->priority = bf_be16(x);
            noff = r->rdoff + 2;
            break;
        case T_SRV:
            a->priority = bf_be16(x);
            a->port = bf_be16(x + 4);
            noff = r->rdoff + 6;
            break;
        case T_SVCB:
        case T_HTTPS:
            a->priority = bf_be16(x);
            noff = r->rdoff + 2;
            break;
        case T_TXT:
            if (r->rdlen) {
                unsigned l = BF_MIN((unsigned)x[0], (unsigned)BF_DNS_NAME_MAX);
                memcpy(a->data, x + 1, l);
                a->data[l] = 0;
            }
            break;
        }
        if (noff && read_name(mm->m, mm->n, &noff, &nm, &e))
            lower_copy(a->data, nm.s, nm.len);
    }
}

/* One complete DNS message of direction dir. */
void bf_dns_parse_message(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                          const uint8_t *msg, uint32_t len)
{
    dns_state *s = st;
    bf_ts ts = p ? p->ts : f->last;
    /* ~5 KiB each: per-thread scratch, off small worker stacks (the bus
     * callbacks never re-enter the parser) */
    static _Thread_local dns_msg tl_msg;
    static _Thread_local bf_dns_event tl_ev;
    dns_msg *mm = &tl_msg;
    bool ok = parse_msg(mm, msg, len);
    bool qr = ok && (mm->flags & 0x8000);
    bool response = dir == 1;
    if (!ok) {
        g_stats.malformed++;
        emit_anomalies(ctx, f, s, p, ts, mm->ev);
        return;
    }
    uint8_t opcode = (mm->flags >> 11) & 0x0f;
    if (opcode == 3 || opcode > 6)
        mm->ev |= EV_INVALID_OPCODE;
    if (mm->flags & 0x0040)
        mm->ev |= EV_Z_FLAG_SET;
    if (!response && qr) {
        /* a response sent to the server: Suricata drops it */
        mm->ev |= EV_NOT_REQUEST;
        emit_anomalies(ctx, f, s, p, ts, mm->ev);
        return;
    }
    if (response && !qr)
        mm->ev |= EV_NOT_RESPONSE;

    uint64_t tx = s->tx_id++;
    if (ctx->eve)
        log_eve(ctx->eve, f, p, ts, mm, response, tx);

    bf_dns_event *ev = &tl_ev;
    static _Thread_local uint8_t tl_blob[QBLOB_MAX];
    bool want_tx = tx_wanted(ctx);
    uint32_t blen = want_tx ? qblob_build(mm, tl_blob) : 0;
    dns_meta dm = {.mm = mm, .response = response, .tx_id = tx};
    {
        fill_event(ev, mm);
        ev->tcp = f->proto == 6;
        if (!response) {
            g_stats.requests++;
            ev->kind = BF_DNS_KIND_QUERY;
            ev->request_len = len;
            ev->request_ts = ts;
            pending_add(ctx, f, s, p, ev, tx, want_tx ? tl_blob : NULL, blen);
            if (ctx->bus)
                bf_bus_publish(ctx->bus, BF_BUS_DNS_QUERY, f, p, ev);
            if (want_tx)
                publish_tx(ctx, f, p, 0, false, tx, tl_blob, blen, &dm);
        } else {
            g_stats.responses++;
            ev->kind = BF_DNS_KIND_RESPONSE;
            ev->response_len = len;
            ev->response_ts = ts;
            dns_pending q;
            uint64_t txv = tx;           /* the exchange: the request's id */
            const uint8_t *qb = tl_blob; /* its questions: the request's */
            uint32_t qbl = blen;
            bool have_q = pending_match(s, ev, mm->nq > 0, &q);
            if (have_q) {
                txv = q.tx_id;
                if (q.qblob) {
                    qb = q.qblob;
                    qbl = q.qblob_len;
                }
            }
            if (have_q) {
                g_stats.matched++;
                ev->matched = true;
                ev->request_len = q.req_len;
                ev->request_ts = q.ts;
                ev->edns_udp_size = ev->edns_udp_size ? ev->edns_udp_size : q.edns_udp_size;
            } else {
                g_stats.unmatched_responses++;
            }
            if (ctx->bus)
                bf_bus_publish(ctx->bus, BF_BUS_DNS_ANSWER, f, p, ev);
            if (want_tx)
                publish_tx(ctx, f, p, 1, true, txv, qb, qbl, &dm);
            if (have_q)
                qblob_free(ctx, f, &q);
        }
    }
    emit_anomalies(ctx, f, s, p, ts, mm->ev);
}

/* ------------------------------------------------------------------ */
/* TCP framing                                                         */

/* Does data look like the start of a length-prefixed DNS message? */
static bool tcp_probe(const uint8_t *d, uint32_t n)
{
    if (n < 14)
        return false;
    uint16_t l = bf_be16(d);
    if (l < 12)
        return false;
    const uint8_t *h = d + 2;
    uint8_t opcode = (h[2] >> 3) & 0x0f;
    if (opcode == 3 || opcode > 6)
        return false;
    uint16_t qd = bf_be16(h + 4);
    return qd <= 4 && bf_be16(h + 6) <= 1024 && bf_be16(h + 8) <= 1024 &&
           bf_be16(h + 10) <= 1024;
}

static void dir_reserve(bf_app_ctx *ctx, bf_flow *f, dns_dir *d, uint32_t need)
{
    if (d->cap >= need)
        return;
    d->buf = bf_realloc(d->buf, need);
    mem(ctx, f, (int64_t)(need - d->cap));
    d->cap = need;
}

static void tcp_data(bf_app_ctx *ctx, bf_flow *f, dns_state *s, bf_packet *p, int dir,
                     const uint8_t *data, uint32_t len)
{
    dns_dir *d = &s->d[dir];
    if (d->dead || !data)
        return;
    if (d->gap) {
        if (!tcp_probe(data, len)) {
            if (++d->resync_fail >= RESYNC_TRIES) {
                d->dead = true;
                g_stats.gave_up++;
            }
            return;
        }
        d->gap = false;
        d->resync_fail = 0;
        g_stats.resyncs++;
    }
    while (len) {
        if (d->skip) {
            uint32_t k = BF_MIN(d->skip, len);
            d->skip -= k;
            data += k;
            len -= k;
            continue;
        }
        if (d->len == 0) {
            if (len < 2) {
                dir_reserve(ctx, f, d, 2);
                d->buf[0] = data[0];
                d->len = 1;
                return;
            }
            uint32_t ml = bf_be16(data);
            if (2 + ml > BF_DNS_TCP_BUF_MAX) {
                g_stats.tcp_oversize++;
                d->skip = 2 + ml;
                continue;
            }
            if (len >= 2 + ml) {
                bf_dns_parse_message(ctx, f, s, p, dir, data + 2, ml);
                data += 2 + ml;
                len -= 2 + ml;
                continue;
            }
            dir_reserve(ctx, f, d, 2 + ml);
            memcpy(d->buf, data, len);
            d->len = len;
            return;
        }
        if (d->len < 2) {
            d->buf[1] = data[0];
            d->len = 2;
            data++;
            len--;
            uint32_t ml = bf_be16(d->buf);
            if (2 + ml > BF_DNS_TCP_BUF_MAX) {
                g_stats.tcp_oversize++;
                d->skip = ml;
                d->len = 0;
                continue;
            }
            dir_reserve(ctx, f, d, 2 + ml);
            if (!len)
                return;
        }
        uint32_t total = 2u + bf_be16(d->buf);
        uint32_t take = BF_MIN(len, total - d->len);
        memcpy(d->buf + d->len, data, take);
        d->len += take;
        data += take;
        len -= take;
        if (d->len == total) {
            d->len = 0;
            bf_dns_parse_message(ctx, f, s, p, dir, d->buf + 2, total - 2);
            dir_free(ctx, f, d);  /* idle flows hold no buffer */
        }
    }
}

static void dns_parse(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    dns_state *s = st;
    if (!s)
        return;
    dir &= 1;
    if (f->proto != 6) {
        if (data && len)
            bf_dns_parse_message(ctx, f, s, p, dir, data, len);
        return;
    }
    if (gap) {
        dns_dir *d = &s->d[dir];
        g_stats.gaps++;
        dir_free(ctx, f, d);
        d->skip = 0;
        if (!d->dead)
            d->gap = true;
    }
    if (data && len)
        tcp_data(ctx, f, s, p, dir, data, len);
}

static void dns_flow_end(bf_app_ctx *ctx, bf_flow *f, void *st)
{
    dns_state *s = st;
    if (!s)
        return;
    /* oldest first, so detectors see them in order */
    while (s->npend) {
        uint32_t old = 0;
        for (uint32_t i = 1; i < s->npend; i++)
            if (s->pend[i].seq < s->pend[old].seq)
                old = i;
        dns_pending q = s->pend[old];
        s->pend[old] = s->pend[--s->npend];
        publish_unanswered(ctx, f, NULL, &q);
    }
}

const bf_app_parser bf_parser_dns = {
    .proto = BF_APP_DNS,
    .state_new = dns_state_new,
    .state_free = dns_state_free,
    .parse = dns_parse,
    .flow_end = dns_flow_end,
};
