/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tls/tls_cert.c: the Certificate handshake message: chain walk with
 * bounds checks, DER certificates decoded with OpenSSL (d2i_X509), fields
 * formatted as Suricata logs them (subject/issuer "C=US, O=..., CN=...",
 * serial "0A:1B", dates "2019-01-01T00:00:00", sha1 fingerprint "aa:bb"). */
#include "app/tls/tls_int.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

const char *const tls_event_names[TLS_EV_MAX] = {
#define X(n) #n,
    TLS_EVENTS(X)
#undef X
};

char *tls_strndup(const void *s, size_t len, size_t *mem, uint32_t *truncated)
{
    /* C strings from here on: a NUL from the wire ends the name (counted) */
    size_t z = len ? strnlen(s, len) : 0;
    if (z < len) {
        len = z;
        if (truncated)
            (*truncated)++;
    }
    if (len > BF_TLS_MAX_STR) {
        len = BF_TLS_MAX_STR;
        if (truncated)
            (*truncated)++;
    }
    char *d = bf_malloc(len + 1);
    if (len)
        memcpy(d, s, len);
    d[len] = 0;
    *mem += len + 1;
    return d;
}

void tls_strfree(char **s, size_t *mem)
{
    if (*s) {
        *mem -= strlen(*s) + 1;
        free(*s);
        *s = NULL;
    }
}

void tls_hex(char *out, const uint8_t *p, size_t n, char sep, bool upper)
{
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (sep && i)
            out[o++] = sep;
        out[o++] = dig[p[i] >> 4];
        out[o++] = dig[p[i] & 15];
    }
    out[o] = 0;
}

static void digest_hex(const EVP_MD *md, char *out, const void *p, size_t n)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (!EVP_Digest(p, n, d, &dl, md, NULL))
        dl = 0;
    tls_hex(out, d, dl, 0, false);
}

void tls_md5_hex(char out[33], const void *p, size_t n) { digest_hex(EVP_md5(), out, p, n); }
void tls_sha256_hex(char out[65], const void *p, size_t n) { digest_hex(EVP_sha256(), out, p, n); }

void tls_cert_clear(tls_cert_info *ci, size_t *mem)
{
    tls_strfree(&ci->subject, mem);
    tls_strfree(&ci->issuer, mem);
    tls_strfree(&ci->serial, mem);
    tls_strfree(&ci->fingerprint, mem);
    tls_strfree(&ci->cn, mem);
    for (unsigned i = 0; i < ci->nsan; i++)
        tls_strfree(&ci->san[i], mem);
    memset(ci, 0, sizeof *ci);
}

/* A bounded string builder over a fixed buffer. */
typedef struct sbuf {
    char b[BF_TLS_MAX_STR + 1];
    size_t n;
    bool cut;
} sbuf;

static void sb_add(sbuf *s, const void *p, size_t n)
{
    size_t room = BF_TLS_MAX_STR - s->n;
    if (n > room) {
        n = room;
        s->cut = true;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = 0;
}

/* X509_NAME as "C=US, ST=CA, O=Org, CN=name" (RDN order as encoded,
 * multi-valued RDNs joined with " + "); the last CN goes to *cn. */
static bool name_str(const X509_NAME *nm, sbuf *s, sbuf *cn)
{
    s->n = 0;
    s->b[0] = 0;
    s->cut = false;
    int cnt = X509_NAME_entry_count(nm);
    int prev_set = -1;
    bool ok = true;
    for (int i = 0; i < cnt && i < 64; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
        if (!e)
            break;
        int set = X509_NAME_ENTRY_set(e);
        if (i)
            sb_add(s, set == prev_set ? " + " : ", ", set == prev_set ? 3 : 2);
        prev_set = set;
        const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
        int nid = OBJ_obj2nid(o);
        char key[80];
        const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
        if (!sn) {
            if (OBJ_obj2txt(key, sizeof key, o, 1) <= 0)
                snprintf(key, sizeof key, "?");
            sn = key;
        }
        sb_add(s, sn, strlen(sn));
        sb_add(s, "=", 1);
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
        unsigned char *u = NULL;
        int ul = ASN1_STRING_to_UTF8(&u, v);
        if (ul >= 0 && u) {
            sb_add(s, u, (size_t)ul);
            if (nid == NID_commonName && cn) {
                cn->n = 0;
                cn->cut = false;
                sb_add(cn, u, (size_t)ul);
            }
        } else {
            ok = false;
            /* undecodable string type: log its bytes as they are */
            sb_add(s, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
        }
        OPENSSL_free(u);
    }
    return ok;
}

/* Serial as its DER content bytes (Suricata keeps a leading 00), upper-case
 * hex joined by ':'. */
static bool serial_str(X509 *x, char *out, size_t outlen)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    unsigned char *der = NULL;
    int dl = sn ? i2d_ASN1_INTEGER(sn, &der) : -1;
    out[0] = 0;
    if (dl < 2 || !der) {
        OPENSSL_free(der);
        return false;
    }
    size_t off = 2, len = der[1];
    if (der[1] & 0x80) {
        size_t nb = der[1] & 0x7f;
        len = 0;
        if (nb > 3 || (size_t)dl < 2 + nb) {
            OPENSSL_free(der);
            return false;
        }
        for (size_t i = 0; i < nb; i++)
            len = len << 8 | der[2 + i];
        off = 2 + nb;
    }
    if (off + len > (size_t)dl || len == 0) {
        OPENSSL_free(der);
        return false;
    }
    size_t maxb = (outlen - 1) / 3;
    tls_hex(out, der + off, BF_MIN(len, maxb), ':', true);
    OPENSSL_free(der);
    return len <= 20 + 1; /* RFC 5280: at most 20 octets (plus sign byte) */
}

static bool time_str(const ASN1_TIME *t, char out[24], int64_t *ts)
{
    struct tm tm;
    out[0] = 0;
    *ts = 0;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return false;
    *ts = (int64_t)timegm(&tm);
    int year = tm.tm_year + 1900;
    if (year < 1000 || year > 2999)
        return false; /* outside the EVE date pattern: not logged */
    snprintf(out, 24, "%04u-%02u-%02uT%02u:%02u:%02u", (unsigned)year % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
    return true;
}

static void leaf(tls_cert_info *ci, X509 *x, const uint8_t *der, size_t derlen, size_t *mem,
                 uint32_t *trunc, tls_event_fn ev, void *ud)
{
    static _Thread_local sbuf s, cn;
    cn.n = 0;
    cn.b[0] = 0;
    const X509_NAME *subj = X509_get_subject_name(x);
    if (!subj || !name_str(subj, &s, &cn))
        ev(ud, TLS_EV_CERTIFICATE_INVALID_SUBJECT);
    ci->subject = tls_strndup(s.b, s.n, mem, trunc);
    if (s.cut)
        (*trunc)++;
    if (cn.n)
        ci->cn = tls_strndup(cn.b, cn.n, mem, trunc);
    const X509_NAME *iss = X509_get_issuer_name(x);
    if (!iss || !name_str(iss, &s, NULL))
        ev(ud, TLS_EV_CERTIFICATE_INVALID_ISSUER);
    ci->issuer = tls_strndup(s.b, s.n, mem, trunc);
    if (s.cut)
        (*trunc)++;

    char ser[3 * 64 + 1];
    if (!serial_str(x, ser, sizeof ser))
        ev(ud, TLS_EV_CERTIFICATE_INVALID_SERIAL);
    if (ser[0])
        ci->serial = tls_strndup(ser, strlen(ser), mem, trunc);

    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned ml = 0;
    if (EVP_Digest(der, derlen, md, &ml, EVP_sha1(), NULL) && ml == 20) {
        char fp[3 * 20 + 1];
        tls_hex(fp, md, ml, ':', false);
        ci->fingerprint = tls_strndup(fp, strlen(fp), mem, trunc);
    }

    bool d1 = time_str(X509_get0_notBefore(x), ci->notbefore, &ci->nb_ts);
    bool d2 = time_str(X509_get0_notAfter(x), ci->notafter, &ci->na_ts);
    if (!d1 || !d2)
        ev(ud, TLS_EV_CERTIFICATE_INVALID_DATE);

    if (X509_get_version(x) > 2)
        ev(ud, TLS_EV_CERTIFICATE_INVALID_VERSION);

    int crit = 0;
    GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    if (gn) {
        int n = sk_GENERAL_NAME_num(gn);
        for (int i = 0; i < n; i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
            if (!g || g->type != GEN_DNS)
                continue;
            if (ci->nsan >= BF_TLS_MAX_SAN) {
                ci->san_dropped++;
                continue;
            }
            const ASN1_STRING *d = g->d.dNSName;
            ci->san[ci->nsan++] = tls_strndup(ASN1_STRING_get0_data(d),
                                              (size_t)ASN1_STRING_length(d), mem, trunc);
        }
        GENERAL_NAMES_free(gn);
    } else if (crit != -1) {
        /* present but undecodable (crit -2: several instances) */
        ev(ud, TLS_EV_CERTIFICATE_INVALID_EXTENSIONS);
    }
    /* names match and, when both are present, AKID matches SKID; no
     * signature check (an attacker could make every flow cost one) */
    ci->self_signed = subj && iss && X509_NAME_cmp(subj, iss) == 0;
    if (ci->self_signed) {
        const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
        const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
        if (skid && akid && ASN1_OCTET_STRING_cmp(skid, akid) != 0)
            ci->self_signed = false;
    }
}

bool tls_cert_parse(tls_cert_info *ci, const uint8_t *msg, uint32_t len, size_t *mem,
                    uint32_t *truncated, tls_event_fn ev, void *ud)
{
    tls_cert_clear(ci, mem);
    ci->present = true;
    if (len < 3) {
        ev(ud, TLS_EV_CERTIFICATE_INVALID_LENGTH);
        return false;
    }
    uint32_t list = (uint32_t)msg[0] << 16 | (uint32_t)msg[1] << 8 | msg[2];
    if (list != len - 3) {
        ev(ud, TLS_EV_CERTIFICATE_INVALID_LENGTH);
        if (list > len - 3)
            list = len - 3;
    }
    const uint8_t *p = msg + 3, *end = p + list;
    bool ok = true;
    unsigned idx = 0;
    while (end - p >= 3) {
        uint32_t cl = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        p += 3;
        if (cl == 0 || cl > (uint32_t)(end - p)) {
            ev(ud, TLS_EV_CERTIFICATE_INVALID_LENGTH);
            ok = false;
            break;
        }
        if (ci->chain_len < UINT16_MAX)
            ci->chain_len++;
        if (idx < BF_TLS_MAX_CHAIN_PARSE) {
            const unsigned char *q = p;
            X509 *x = d2i_X509(NULL, &q, (long)cl);
            if (!x) {
                ev(ud, TLS_EV_INVALID_CERTIFICATE);
                ev(ud, TLS_EV_CERTIFICATE_INVALID_DER);
                ok = false;
            } else {
                if (q != p + cl)
                    ev(ud, TLS_EV_CERTIFICATE_INVALID_DER);
                if (idx == 0)
                    leaf(ci, x, p, cl, mem, truncated, ev, ud);
                X509_free(x);
            }
        }
        idx++;
        p += cl;
    }
    if (p != end) {
        ev(ud, TLS_EV_CERTIFICATE_INVALID_LENGTH);
        ok = false;
    }
    return ok;
}
