/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tls/tls_fp.c: the JA4 client fingerprint (FoxIO JA4 specification,
 * technical_details/JA4.md) and version names as Suricata writes them. */
#include "app/tls/tls_int.h"

#include <stdio.h>
#include <stdlib.h>

const char *bf_tls_version_str(uint16_t v, char *buf, size_t len)
{
    switch (v) {
    case 0: return "UNDETERMINED";
    case 0x0002:
    case 0x0200: return "SSLv2";
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    }
    if (v >= 0x7f10 && v <= 0x7f1c)
        snprintf(buf, len, "TLS 1.3 draft-%u", v & 0xff);
    else
        snprintf(buf, len, "0x%04x", v);
    return buf;
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002:
    case 0x0200: return "s2";
    case 0x0100: return "s1";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    }
    return "00";
}

static int cmp16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static bool alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* "xxxx,yyyy" of n values into a malloc'd string. */
static char *hexlist(const uint16_t *v, size_t n, size_t extra)
{
    char *s = bf_malloc(n * 5 + extra + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        static const char d[] = "0123456789abcdef";
        if (i)
            s[o++] = ',';
        s[o++] = d[v[i] >> 12];
        s[o++] = d[(v[i] >> 8) & 15];
        s[o++] = d[(v[i] >> 4) & 15];
        s[o++] = d[v[i] & 15];
    }
    s[o] = 0;
    return s;
}

void bf_tls_ja4(char out[37], bool quic, uint16_t version, bool sni, const uint16_t *ciphers,
                size_t nc, const uint16_t *exts, size_t ne, const uint16_t *sigalgs, size_t ns,
                const uint8_t *alpn0, size_t alpn0_len)
{
    /* GREASE-free copies; SNI (0x0000) and ALPN (0x0010) count in ja4_a but
     * are left out of the ja4_c hash */
    uint16_t *c = bf_malloc((nc + 1) * sizeof *c);
    uint16_t *e = bf_malloc((ne + 1) * sizeof *e);
    uint16_t *sa = bf_malloc((ns + 1) * sizeof *sa);
    size_t cn = 0, en = 0, ecount = 0, sn = 0;
    for (size_t i = 0; i < nc; i++)
        if (!bf_tls_is_grease(ciphers[i]))
            c[cn++] = ciphers[i];
    for (size_t i = 0; i < ne; i++) {
        if (bf_tls_is_grease(exts[i]))
            continue;
        ecount++;
        if (exts[i] != 0x0000 && exts[i] != 0x0010)
            e[en++] = exts[i];
    }
    for (size_t i = 0; i < ns; i++)
        if (!bf_tls_is_grease(sigalgs[i]))
            sa[sn++] = sigalgs[i];
    qsort(c, cn, sizeof *c, cmp16);
    qsort(e, en, sizeof *e, cmp16);

    char a0 = '0', a1 = '0';
    if (alpn0 && alpn0_len) {
        uint8_t f = alpn0[0], l = alpn0[alpn0_len - 1];
        if (alnum(f) && alnum(l)) {
            a0 = (char)f;
            a1 = (char)l;
        } else {
            static const char d[] = "0123456789abcdef";
            a0 = d[f >> 4];
            a1 = d[l & 15];
        }
    }
    char a[11];
    snprintf(a, sizeof a, "%c%s%c%02u%02u%c%c", quic ? 'q' : 't', ja4_version(version),
             sni ? 'd' : 'i', (unsigned)BF_MIN(cn, 99), (unsigned)BF_MIN(ecount, 99), a0, a1);

    char b[65] = "000000000000", hc[65] = "000000000000";
    if (cn) {
        char *s = hexlist(c, cn, 0);
        tls_sha256_hex(b, s, strlen(s));
        free(s);
    }
    if (en) {
        char *s = hexlist(e, en, 1 + sn * 5);
        if (sn) {
            char *t = hexlist(sa, sn, 0);
            strcat(s, "_");
            strcat(s, t);
            free(t);
        }
        tls_sha256_hex(hc, s, strlen(s));
        free(s);
    }
    b[12] = hc[12] = 0;
    snprintf(out, 37, "%s_%s_%s", a, b, hc);
    free(c);
    free(e);
    free(sa);
}
