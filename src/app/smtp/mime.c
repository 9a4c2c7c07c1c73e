/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smtp/mime.c: a streaming MIME parser over the body lines of one mail
 * (see smtp.h): headers, multipart nesting, base64 / quoted-printable
 * decoding into attachments (sha256, size, head) and text parts (URLs, the
 * visible text of HTML links).  Every buffer is fixed-size: nothing grows
 * with the message. */
#include "app/smtp/smtp_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

/* ------------------------------------------------------------ helpers */

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    return an == bn && strncasecmp(a, b, bn) == 0;
}

static bool iprefix(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    return an >= bn && strncasecmp(a, b, bn) == 0;
}

static void trim(const char **p, size_t *n)
{
    while (*n && isspace((unsigned char)**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Appends byte c (in charset latin1: converted to UTF-8) to out. */
static size_t put_cs(char *out, size_t o, size_t cap, uint8_t c, bool latin1)
{
    if (latin1 && c >= 0x80) {
        if (o + 2 > cap)
            return o;
        out[o++] = (char)(0xC0 | (c >> 6));
        out[o++] = (char)(0x80 | (c & 0x3F));
        return o;
    }
    if (o < cap)
        out[o++] = (char)c;
    return o;
}

static bool charset_latin1(const char *cs, size_t n)
{
    return iprefix(cs, n, "iso-8859-1") || iprefix(cs, n, "windows-125") ||
           ieq(cs, n, "latin1") || iprefix(cs, n, "iso-8859-15") || ieq(cs, n, "cp1252");
}

size_t sm_decode_2047(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    bool last_ew = false;     /* the previous token was an encoded-word */
    size_t ws_start = 0;      /* output position of pending whitespace */
    bool ws_pend = false;
    while (i < n && o < cap) {
        if (in[i] == '=' && i + 1 < n && in[i + 1] == '?') {
            /* =?charset?E?text?= */
            size_t cs = i + 2, j = cs;
            while (j < n && in[j] != '?' && j - cs < 64)
                j++;
            if (j + 3 < n && in[j] == '?' && in[j + 2] == '?') {
                char e = (char)toupper((unsigned char)in[j + 1]);
                size_t ts = j + 3, te = ts;
                while (te + 1 < n && !(in[te] == '?' && in[te + 1] == '=') && in[te] != ' ')
                    te++;
                if ((e == 'B' || e == 'Q') && te + 1 < n && in[te] == '?' && in[te + 1] == '=') {
                    if (last_ew && ws_pend)
                        o = ws_start;   /* whitespace between encoded-words */
                    bool l1 = charset_latin1(in + cs, j - cs);
                    if (e == 'Q') {
                        for (size_t k = ts; k < te; k++) {
                            uint8_t c = (uint8_t)in[k];
                            if (c == '_')
                                c = ' ';
                            else if (c == '=' && k + 2 < te + 1 && hexv(in[k + 1]) >= 0 &&
                                     hexv(in[k + 2]) >= 0) {
                                c = (uint8_t)(hexv(in[k + 1]) * 16 + hexv(in[k + 2]));
                                k += 2;
                            }
                            o = put_cs(out, o, cap, c, l1);
                        }
                    } else {
                        uint32_t acc = 0;
                        int bits = 0;
                        for (size_t k = ts; k < te; k++) {
                            int v = b64v((unsigned char)in[k]);
                            if (v < 0)
                                continue;
                            acc = (acc << 6) | (uint32_t)v;
                            bits += 6;
                            if (bits >= 8) {
                                bits -= 8;
                                o = put_cs(out, o, cap, (uint8_t)(acc >> bits), l1);
                                acc &= (1u << bits) - 1;
                            }
                        }
                    }
                    i = te + 2;
                    last_ew = true;
                    ws_pend = false;
                    continue;
                }
            }
        }
        if (in[i] == ' ' || in[i] == '\t') {
            if (!ws_pend) {
                ws_pend = true;
                ws_start = o;
            }
        } else {
            ws_pend = false;
            last_ew = false;
        }
        out[o++] = in[i++];
    }
    return o;
}

size_t sm_url_host(const char *u, size_t n, char *out, size_t cap)
{
    const char *p = u, *end = u + n;
    const char *ss = NULL;
    for (const char *q = u; q + 2 < end && q < u + 16; q++)
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            ss = q + 3;
            break;
        }
    if (ss)
        p = ss;
    /* authority ends at / ? # or whitespace */
    const char *ae = p;
    while (ae < end && *ae != '/' && *ae != '?' && *ae != '#' && *ae != '\\' &&
           !isspace((unsigned char)*ae))
        ae++;
    const char *at = NULL;
    for (const char *q = p; q < ae; q++)
        if (*q == '@')
            at = q;
    if (at)
        p = at + 1;
    const char *he = p;
    if (he < ae && *he == '[') {   /* IPv6 literal */
        while (he < ae && *he != ']')
            he++;
        if (he < ae)
            he++;
    } else {
        while (he < ae && *he != ':')
            he++;
    }
    size_t o = 0;
    for (const char *q = p; q < he && o + 1 < cap; q++)
        out[o++] = (char)tolower((unsigned char)*q);
    while (o && out[o - 1] == '.')
        o--;
    if (cap)
        out[o] = 0;
    return o;
}

/* ------------------------------------------------------------ parameters */

static size_t pct_decode(const char *v, size_t n, char *out, size_t o, size_t cap, bool l1)
{
    for (size_t i = 0; i < n && o < cap; i++) {
        uint8_t c = (uint8_t)v[i];
        if (c == '%' && i + 2 < n && hexv(v[i + 1]) >= 0 && hexv(v[i + 2]) >= 0) {
            c = (uint8_t)(hexv(v[i + 1]) * 16 + hexv(v[i + 2]));
            i += 2;
        }
        o = put_cs(out, o, cap, c, l1);
    }
    return o;
}

/* Value of parameter `name` of a structured header ("type; a=b; c="d""),
 * RFC 2231 forms included (name*, name*0, name*1*, ...).  Returns the
 * length written to out (< cap), *found when present, *trunc when cut. */
static size_t param_get(const char *v, size_t n, const char *name, char *out, size_t cap,
                        bool *found, bool *trunc)
{
    size_t nl = strlen(name);
    size_t plain = 0, ext = 0;
    bool have_plain = false, have_ext = false, l1 = false;
    char *tmp = out;   /* plain value goes to out; extended to the tail */
    char ebuf[BF_SMTP_NAME_MAX];
    size_t ecap = BF_MIN(cap, sizeof ebuf);
    *found = false;
    size_t i = 0;
    /* skip the media type / disposition */
    while (i < n && v[i] != ';')
        i++;
    while (i < n) {
        i++;   /* ';' */
        while (i < n && isspace((unsigned char)v[i]))
            i++;
        size_t ks = i;
        while (i < n && v[i] != '=' && v[i] != ';')
            i++;
        size_t ke = i;
        while (ke > ks && isspace((unsigned char)v[ke - 1]))
            ke--;
        if (i >= n || v[i] == ';')
            continue;
        i++;   /* '=' */
        while (i < n && isspace((unsigned char)v[i]))
            i++;
        const char *val = v + i;
        size_t vl = 0;
        char qbuf[BF_SMTP_NAME_MAX];
        bool quoted = i < n && v[i] == '"';
        if (quoted) {
            i++;
            while (i < n && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                if (vl < sizeof qbuf)
                    qbuf[vl++] = v[i];
                else
                    *trunc = true;
                i++;
            }
            if (i < n)
                i++;
            val = qbuf;
            while (i < n && v[i] != ';')
                i++;
        } else {
            while (i < n && v[i] != ';')
                i++;
            vl = (size_t)(v + i - val);
            while (vl && isspace((unsigned char)val[vl - 1]))
                vl--;
        }
        const char *k = v + ks;
        size_t kl = ke - ks;
        if (kl < nl || strncasecmp(k, name, nl) != 0)
            continue;
        if (kl == nl) {
            if (!have_plain) {
                have_plain = true;
                plain = BF_MIN(vl, cap - 1);
                if (vl > plain)
                    *trunc = true;
                memcpy(tmp, val, plain);
            }
            continue;
        }
        if (k[nl] != '*')
            continue;
        /* name* or name*N or name*N* */
        bool enc = k[kl - 1] == '*';
        bool first = kl == nl + 1 || (kl >= nl + 2 && k[nl + 1] == '0');
        const char *d = val;
        size_t dl = vl;
        if (enc && first) {
            /* charset'lang'value */
            const char *q1 = memchr(d, '\'', dl);
            const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(d + dl - q1 - 1)) : NULL;
            if (q2) {
                l1 = charset_latin1(d, (size_t)(q1 - d));
                dl -= (size_t)(q2 + 1 - d);
                d = q2 + 1;
            }
        }
        have_ext = true;
        size_t before = ext;
        if (enc)
            ext = pct_decode(d, dl, ebuf, ext, ecap - 1, l1);
        else {
            size_t c = BF_MIN(dl, ecap - 1 - ext);
            memcpy(ebuf + ext, d, c);
            ext += c;
        }
        if (ext - before < dl && ext >= ecap - 1)
            *trunc = true;
    }
    if (have_ext) {
        memcpy(out, ebuf, ext);
        out[ext] = 0;
        *found = true;
        return ext;
    }
    if (have_plain) {
        out[plain] = 0;
        *found = true;
        return plain;
    }
    out[0] = 0;
    return 0;
}

/* ------------------------------------------------------------ URLs */

static bool url_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' &&
           c != '{' && c != '}' && c != '|' && c != '\\' && c != '^';
}

/* Does text name a host?  (a URL, "www.x.y", or a bare domain "a.b") */
static size_t text_host(const char *t, size_t n, char *out, size_t cap)
{
    trim(&t, &n);
    if (!n)
        return 0;
    if (iprefix(t, n, "http://") || iprefix(t, n, "https://") || iprefix(t, n, "www."))
        return sm_url_host(t, n, out, cap);
    /* bare domain: label.label with a final alphabetic label, no spaces */
    size_t e = 0;
    while (e < n && !isspace((unsigned char)t[e]) && t[e] != '/')
        e++;
    if (e != n && !(e < n && t[e] == '/'))
        return 0;
    int dots = 0;
    size_t last = 0;
    for (size_t i = 0; i < e; i++) {
        char c = t[i];
        if (c == '.') {
            dots++;
            last = i + 1;
        } else if (!isalnum((unsigned char)c) && c != '-')
            return 0;
    }
    if (!dots || e - last < 2)
        return 0;
    for (size_t i = last; i < e; i++)
        if (!isalpha((unsigned char)t[i]))
            return 0;
    return sm_url_host(t, e, out, cap);
}

static const char *strip_www(const char *h)
{
    return strncmp(h, "www.", 4) == 0 ? h + 4 : h;
}

static void add_url(smtp_state *s, sm_tx *t, const char *u, size_t n, const char *txt,
                    size_t tn, bool html)
{
    while (n && strchr(".,;:!?)", u[n - 1]))
        n--;
    if (n < 8)
        return;
    n = BF_MIN(n, (size_t)BF_SMTP_URL_MAX);
    if (txt)
        trim(&txt, &tn);
    char h[256];
    size_t hl = sm_url_host(u, n, h, sizeof h);
    bf_smtp_url *x = NULL;
    for (uint32_t i = 0; i < t->nurl && !x; i++)
        if (t->url[i].url.len == n && memcmp(t->url[i].url.ptr, u, n) == 0)
            x = &t->url[i];
    if (x && (!tn || x->text.ptr))
        return;   /* known, nothing to add */
    if (!x) {
        if (t->nurl >= BF_SMTP_MAX_URL) {
            t->url_dropped++;
            s->st.drops++;
            return;
        }
        bf_smtp_url nu = {0};
        nu.url = sm_strdup(s, t, u, n);
        if (!nu.url.ptr)
            return;
        nu.host = sm_strdup(s, t, h, hl);
        x = &t->url[t->nurl++];
        *x = nu;
        s->st.urls++;
    }
    x->html = x->html || html;
    if (tn) {
        x->text = sm_strdup(s, t, txt, tn);
        char th[256];
        size_t thl = text_host(txt, tn, th, sizeof th);
        if (thl) {
            x->text_host = sm_strdup(s, t, th, thl);
            x->text_mismatch = strcmp(strip_www(th), strip_www(h)) != 0;
        }
    }
}

/* URLs in one line of decoded text. */
static void scan_urls(smtp_state *s, sm_tx *t, const char *l, size_t n)
{
    size_t i = 0;
    while (i + 4 <= n) {
        size_t start = i;
        bool hit = false;
        if ((l[i] == 'h' || l[i] == 'H') &&
            (iprefix(l + i, n - i, "http://") || iprefix(l + i, n - i, "https://")))
            hit = true;
        else if ((l[i] == 'w' || l[i] == 'W') && iprefix(l + i, n - i, "www.") &&
                 (i == 0 || !(isalnum((unsigned char)l[i - 1]) || l[i - 1] == '/' ||
                              l[i - 1] == '.')))
            hit = true;
        if (!hit) {
            i++;
            continue;
        }
        size_t e = i;
        while (e < n && url_char((uint8_t)l[e]))
            e++;
        add_url(s, t, l + start, e - start, NULL, 0, false);
        i = e;
    }
}

/* ------------------------------------------------------------ text / HTML */

static void tline_flush(smtp_state *s, sm_tx *t, sm_mime *m)
{
    if (m->tlen)
        scan_urls(s, t, m->tline, m->tlen);
    m->tlen = 0;
}

static void tline_put(smtp_state *s, sm_tx *t, sm_mime *m, char c)
{
    if (c == '\n' || c == '\r') {
        tline_flush(s, t, m);
        return;
    }
    if (m->tlen == sizeof m->tline)
        tline_flush(s, t, m);
    m->tline[m->tlen++] = c;
}

static void anchor_text_put(sm_mime *m, char c)
{
    if (isspace((unsigned char)c)) {
        m->at_space = m->atlen > 0;
        return;
    }
    if (m->at_space && m->atlen < sizeof m->atext)
        m->atext[m->atlen++] = ' ';
    m->at_space = false;
    if (m->atlen < sizeof m->atext)
        m->atext[m->atlen++] = c;
}

static void anchor_end(smtp_state *s, sm_tx *t, sm_mime *m)
{
    if (!m->in_anchor)
        return;
    m->in_anchor = false;
    const char *h = m->href;
    size_t hn = m->hreflen;
    trim(&h, &hn);
    if (iprefix(h, hn, "http://") || iprefix(h, hn, "https://") || iprefix(h, hn, "ftp://") ||
        iprefix(h, hn, "www."))
        add_url(s, t, h, hn, m->atext, m->atlen, true);
}

/* attribute `name` of a tag (tag[0..n)), entity &amp; decoded, into out */
static size_t tag_attr(const char *tag, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (size_t i = 1; i + nl < n; i++) {
        if (!isspace((unsigned char)tag[i - 1]) && tag[i - 1] != '"' && tag[i - 1] != '\'' &&
            tag[i - 1] != '/')
            continue;
        if (strncasecmp(tag + i, name, nl) != 0)
            continue;
        size_t j = i + nl;
        while (j < n && isspace((unsigned char)tag[j]))
            j++;
        if (j >= n || tag[j] != '=')
            continue;
        j++;
        while (j < n && isspace((unsigned char)tag[j]))
            j++;
        char q = 0;
        if (j < n && (tag[j] == '"' || tag[j] == '\''))
            q = tag[j++];
        size_t o = 0;
        while (j < n && o < cap) {
            char c = tag[j];
            if (q ? c == q : isspace((unsigned char)c))
                break;
            if (c == '&' && iprefix(tag + j, n - j, "&amp;")) {
                out[o++] = '&';
                j += 5;
                continue;
            }
            if (c != '\r' && c != '\n' && c != '\t')
                out[o++] = c;
            j++;
        }
        return o;
    }
    return 0;
}

static void tag_done(smtp_state *s, sm_tx *t, sm_mime *m)
{
    const char *g = m->tag;
    size_t n = m->taglen;
    size_t ne = 0;
    while (ne < n && !isspace((unsigned char)g[ne]) && (ne == 0 || g[ne] != '/'))
        ne++;
    if (ieq(g, ne, "a")) {
        anchor_end(s, t, m);
        m->hreflen = (uint32_t)tag_attr(g, n, "href", m->href, sizeof m->href);
        if (m->hreflen) {
            m->in_anchor = true;
            m->atlen = 0;
            m->at_space = false;
        }
    } else if (ieq(g, ne, "/a")) {
        anchor_end(s, t, m);
    } else if (ieq(g, ne, "script")) {
        m->skip_tag = 1;
    } else if (ieq(g, ne, "style")) {
        m->skip_tag = 2;
    } else if (ieq(g, ne, "/script") || ieq(g, ne, "/style")) {
        m->skip_tag = 0;
    } else if (ieq(g, ne, "br") || ieq(g, ne, "p") || ieq(g, ne, "/p") || ieq(g, ne, "div") ||
               ieq(g, ne, "/div") || ieq(g, ne, "td") || ieq(g, ne, "tr") || ieq(g, ne, "li")) {
        tline_put(s, t, m, '\n');
        if (m->in_anchor)
            anchor_text_put(m, ' ');
    }
}

static void html_bytes(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = (char)d[i];
        if (m->in_tag) {
            if (c == '>') {
                m->in_tag = false;
                tag_done(s, t, m);
            } else if (m->taglen < sizeof m->tag) {
                m->tag[m->taglen++] = c;
            }
            continue;
        }
        if (c == '<') {
            m->in_tag = true;
            m->taglen = 0;
            continue;
        }
        if (m->skip_tag)
            continue;
        if (m->in_anchor)
            anchor_text_put(m, c);   /* the link text is not a link */
        else
            tline_put(s, t, m, c);
    }
}

static void text_bytes(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *d, size_t n)
{
    if (m->kind == PK_HTML) {
        html_bytes(s, t, m, d, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        tline_put(s, t, m, (char)d[i]);
}

/* ------------------------------------------------------------ files */

static void file_open(smtp_state *s, sm_mime *m)
{
    sm_file *fi = &m->file;
    memset(fi, 0, sizeof *fi);
    fi->open = true;
    memcpy(fi->name, m->fname, m->fname_len);
    fi->name_len = m->fname_len;
    snprintf(fi->ctype, sizeof fi->ctype, "%s", m->ctype);
    fi->sha = EVP_MD_CTX_new();
    if (fi->sha && EVP_DigestInit_ex(fi->sha, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(fi->sha);
        fi->sha = NULL;
    }
    if (fi->sha)
        sm_mem(s, SM_MEM_SHA);
}

static void file_data(sm_file *fi, const uint8_t *d, size_t n)
{
    if (!n)
        return;
    if (fi->head_len < sizeof fi->head) {
        size_t c = BF_MIN(n, sizeof fi->head - fi->head_len);
        memcpy(fi->head + fi->head_len, d, c);
        fi->head_len = (uint16_t)(fi->head_len + c);
    }
    /* bytes 0x8001..0x8005: ISO9660 "CD001" / UDF "BEA01" */
    uint64_t a = fi->size, b = fi->size + n;
    if (fi->iso_len < 5 && b > 0x8001 && a < 0x8006) {
        for (uint64_t o = BF_MAX(a, (uint64_t)0x8001 + fi->iso_len); o < b && o < 0x8006; o++)
            fi->iso[fi->iso_len++] = d[o - a];
    }
    fi->size += n;
    if (fi->sha)
        EVP_DigestUpdate(fi->sha, d, n);
}

static void file_close(smtp_state *s, sm_tx *t, sm_mime *m, bool complete)
{
    sm_file *fi = &m->file;
    if (!fi->open)
        return;
    sm_file_closed(s, t, fi, complete && !fi->gap);
    if (fi->sha) {
        EVP_MD_CTX_free(fi->sha);
        fi->sha = NULL;
        sm_mem(s, -SM_MEM_SHA);
    }
    fi->open = false;
}

/* ------------------------------------------------------------ content */

static void emit(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *d, size_t n)
{
    if (m->file.open) {
        file_data(&m->file, d, n);
        sm_file_bytes(s, t, d, n);
    } else if (m->kind != PK_IGNORE)
        text_bytes(s, t, m, d, n);
}

static void emit_peol(smtp_state *s, sm_tx *t, sm_mime *m)
{
    if (m->peol == 2)
        emit(s, t, m, (const uint8_t *)"\r\n", 2);
    else if (m->peol == 1)
        emit(s, t, m, (const uint8_t *)"\n", 1);
    m->peol = 0;
}

static void b64_content(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *l, size_t n)
{
    uint8_t out[768];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = l[i];
        int v = b64v(c);
        if (v < 0) {
            if (c == '=') {
                /* padding: flush a partial quantum */
                if (m->nq >= 2) {
                    out[o++] = (uint8_t)(m->quad[0] << 2 | m->quad[1] >> 4);
                    if (m->nq == 3)
                        out[o++] = (uint8_t)(m->quad[1] << 4 | m->quad[2] >> 2);
                }
                m->nq = 0;
            } else if (!isspace(c)) {
                sm_event(s, EV_MIME_INVALID_BASE64);
                t->mime_error = true;
            }
        } else {
            m->quad[m->nq++] = (uint8_t)v;
            if (m->nq == 4) {
                out[o++] = (uint8_t)(m->quad[0] << 2 | m->quad[1] >> 4);
                out[o++] = (uint8_t)(m->quad[1] << 4 | m->quad[2] >> 2);
                out[o++] = (uint8_t)(m->quad[2] << 6 | m->quad[3]);
                m->nq = 0;
            }
        }
        if (o + 3 > sizeof out) {
            emit(s, t, m, out, o);
            o = 0;
        }
    }
    emit(s, t, m, out, o);
}

static void b64_flush(smtp_state *s, sm_tx *t, sm_mime *m)
{
    uint8_t out[2];
    size_t o = 0;
    if (m->nq >= 2) {
        out[o++] = (uint8_t)(m->quad[0] << 2 | m->quad[1] >> 4);
        if (m->nq == 3)
            out[o++] = (uint8_t)(m->quad[1] << 4 | m->quad[2] >> 2);
    } else if (m->nq == 1) {
        sm_event(s, EV_MIME_INVALID_BASE64);
        t->mime_error = true;
    }
    m->nq = 0;
    emit(s, t, m, out, o);
}

static void qp_content(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *l, size_t n,
                       bool eol, bool crlf)
{
    uint8_t out[768];
    size_t o = 0;
    if (n || eol)
        emit_peol(s, t, m);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = l[i];
        if (m->nqp) {
            m->qp[m->nqp++] = c;
            if (m->nqp < 3)
                continue;
            int h = hexv(m->qp[1]), lo = hexv(m->qp[2]);
            if (h >= 0 && lo >= 0) {
                out[o++] = (uint8_t)(h * 16 + lo);
            } else {
                sm_event(s, EV_MIME_INVALID_QP);
                t->mime_error = true;
                memcpy(out + o, m->qp, 3);
                o += 3;
            }
            m->nqp = 0;
        } else if (c == '=') {
            m->qp[0] = c;
            m->nqp = 1;
        } else {
            out[o++] = c;
        }
        if (o + 4 > sizeof out) {
            emit(s, t, m, out, o);
            o = 0;
        }
    }
    if (eol) {
        if (m->nqp == 1) {
            m->nqp = 0;   /* soft line break */
        } else {
            if (m->nqp) {
                /* "=X" at the end of a line */
                sm_event(s, EV_MIME_INVALID_QP);
                t->mime_error = true;
                memcpy(out + o, m->qp, m->nqp);
                o += m->nqp;
                m->nqp = 0;
            }
            /* trailing whitespace is kept, as Suricata does */
            m->peol = crlf ? 2 : 1;
        }
    }
    emit(s, t, m, out, o);
}

static void content(smtp_state *s, sm_tx *t, sm_mime *m, const uint8_t *l, size_t n, bool bol,
                    bool eol, bool crlf)
{
    if (m->enc == ENC_B64) {
        if (m->line_len > 76 + 2 && (bol || eol))
            sm_event(s, EV_MIME_LONG_ENC_LINE);
        b64_content(s, t, m, l, n);
    } else if (m->enc == ENC_QP) {
        qp_content(s, t, m, l, n, eol, crlf);
    } else {
        if (n || eol)
            emit_peol(s, t, m);
        emit(s, t, m, l, n);
        if (eol)
            m->peol = crlf ? 2 : 1;
    }
}

/* The current part's body ends (boundary or end of message). */
static void part_end(smtp_state *s, sm_tx *t, sm_mime *m, bool complete)
{
    if (m->state == MS_BODY) {
        if (m->enc == ENC_B64)
            b64_flush(s, t, m);
        else if (m->enc == ENC_QP && m->nqp) {
            sm_event(s, EV_MIME_INVALID_QP);
            emit(s, t, m, m->qp, m->nqp);
        }
        m->peol = 0;   /* the line end before a boundary belongs to it */
        m->nqp = 0;
        file_close(s, t, m, complete);
        anchor_end(s, t, m);
        tline_flush(s, t, m);
    }
    m->in_tag = m->in_anchor = false;
    m->skip_tag = 0;
    m->taglen = m->atlen = 0;
}

static void part_reset(sm_mime *m)
{
    m->ctype[0] = 0;
    m->pblen = 0;
    m->fname_len = 0;
    m->has_fname = m->disp_attach = m->fname_trunc = false;
    m->penc = ENC_NONE;
    m->have_hdr = false;
    m->hlen = 0;
    m->hdr_trunc = false;
}

/* ------------------------------------------------------------ headers */

static void set_first(smtp_state *s, sm_tx *t, bf_smtp_str *dst, const char *v, size_t n)
{
    if (dst->ptr) {
        sm_event(s, EV_DUPLICATE_FIELDS);
        return;
    }
    *dst = sm_strdup(s, t, v, n);
}

/* Splits an address list at commas outside quotes and <>. */
static void addr_list(smtp_state *s, sm_tx *t, bf_smtp_str *arr, uint32_t *cnt, const char *v,
                      size_t n)
{
    size_t st = 0;
    bool q = false;
    int ang = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? v[i] : ',';
        if (c == '"')
            q = !q;
        else if (!q && c == '<')
            ang++;
        else if (!q && c == '>' && ang)
            ang--;
        if (c != ',' || q || ang) {
            if (i == n)   /* unbalanced: take the rest */
                c = ',';
            else
                continue;
        }
        const char *a = v + st;
        size_t al = i - st;
        trim(&a, &al);
        st = i + 1;
        if (!al)
            continue;
        if (*cnt >= BF_SMTP_MAX_ADDR) {
            t->addr_dropped++;
            s->st.drops++;
            continue;
        }
        bf_smtp_str x = sm_strdup(s, t, a, al);
        if (x.ptr)
            arr[(*cnt)++] = x;
    }
}

static void header(smtp_state *s, sm_tx *t, sm_mime *m)
{
    const char *h = m->hdr;
    size_t n = m->hlen;
    const char *colon = memchr(h, ':', n);
    if (!colon) {
        if (n > 256)
            sm_event(s, EV_MIME_LONG_HEADER_NAME);
        return;
    }
    size_t nl = (size_t)(colon - h);
    while (nl && isspace((unsigned char)h[nl - 1]))
        nl--;
    if (nl > 256)
        sm_event(s, EV_MIME_LONG_HEADER_NAME);
    if (m->hdr_trunc)
        sm_event(s, EV_MIME_LONG_HEADER_VALUE);
    const char *v = colon + 1;
    size_t vl = (size_t)(h + n - v);
    trim(&v, &vl);
    if (ieq(h, nl, "content-type")) {
        size_t e = 0;
        while (e < vl && v[e] != ';' && !isspace((unsigned char)v[e]) &&
               e + 1 < sizeof m->ctype) {
            m->ctype[e] = (char)tolower((unsigned char)v[e]);
            e++;
        }
        m->ctype[e] = 0;
        bool found, trunc = false;
        char tmp[BF_SMTP_NAME_MAX];
        size_t bl = param_get(v, vl, "boundary", tmp, sizeof tmp, &found, &trunc);
        if (found) {
            if (bl > SM_BOUNDARY_MAX) {
                sm_event(s, EV_MIME_LONG_BOUNDARY);
                bl = SM_BOUNDARY_MAX;
            }
            memcpy(m->pbound, tmp, bl);
            m->pblen = (uint16_t)bl;
        }
        if (!m->has_fname) {
            size_t fl = param_get(v, vl, "name", m->fname, sizeof m->fname, &found, &trunc);
            if (found) {
                m->fname_len = (uint16_t)fl;
                m->has_fname = true;
                m->fname_trunc = trunc;
            }
        }
    } else if (ieq(h, nl, "content-transfer-encoding")) {
        if (iprefix(v, vl, "base64"))
            m->penc = ENC_B64;
        else if (iprefix(v, vl, "quoted-printable"))
            m->penc = ENC_QP;
        else
            m->penc = ENC_NONE;
    } else if (ieq(h, nl, "content-disposition")) {
        if (iprefix(v, vl, "attachment"))
            m->disp_attach = true;
        bool found, trunc = false;
        char tmp[BF_SMTP_NAME_MAX];
        size_t fl = param_get(v, vl, "filename", tmp, sizeof tmp, &found, &trunc);
        if (found) {
            memcpy(m->fname, tmp, fl);
            m->fname_len = (uint16_t)fl;
            m->has_fname = true;
            m->fname_trunc = trunc;
        }
    }
    if (!m->top)
        return;
    char dec[1024];
    if (ieq(h, nl, "from")) {
        if (!t->from.ptr)
            t->from_dec = sm_strdup(s, t, dec, sm_decode_2047(v, vl, dec, sizeof dec));
        set_first(s, t, &t->from, v, vl);
    } else if (ieq(h, nl, "subject")) {
        if (!t->subject.ptr)
            t->subject_dec = sm_strdup(s, t, dec, sm_decode_2047(v, vl, dec, sizeof dec));
        set_first(s, t, &t->subject, v, vl);
    } else if (ieq(h, nl, "to")) {
        addr_list(s, t, t->to, &t->nto, v, vl);
    } else if (ieq(h, nl, "cc")) {
        addr_list(s, t, t->cc, &t->ncc, v, vl);
    } else if (ieq(h, nl, "reply-to")) {
        set_first(s, t, &t->reply_to, v, vl);
    } else if (ieq(h, nl, "return-path")) {
        set_first(s, t, &t->return_path, v, vl);
    } else if (ieq(h, nl, "message-id")) {
        set_first(s, t, &t->message_id, v, vl);
    } else if (ieq(h, nl, "date")) {
        set_first(s, t, &t->date, v, vl);
    } else if (ieq(h, nl, "x-mailer")) {
        set_first(s, t, &t->x_mailer, v, vl);
    } else if (ieq(h, nl, "authentication-results")) {
        if (!t->auth_results.ptr)
            t->auth_results = sm_strdup(s, t, v, vl);
    } else if (ieq(h, nl, "received")) {
        t->received++;
    }
}

static void hdr_append(sm_mime *m, const uint8_t *l, size_t n)
{
    size_t room = sizeof m->hdr - m->hlen;
    if (n > room) {
        m->hdr_trunc = true;
        n = room;
    }
    memcpy(m->hdr + m->hlen, l, n);
    m->hlen += (uint32_t)n;
}

static void hdr_flush(smtp_state *s, sm_tx *t, sm_mime *m)
{
    if (m->have_hdr)
        header(s, t, m);
    m->have_hdr = false;
    m->hlen = 0;
    m->hdr_trunc = false;
}

/* The blank line after a header block. */
static void headers_done(smtp_state *s, sm_tx *t, sm_mime *m)
{
    hdr_flush(s, t, m);
    bool was_top = m->top;
    m->top = false;
    if (strncmp(m->ctype, "multipart/", 10) == 0 && m->pblen) {
        if (m->depth >= BF_SMTP_MIME_DEPTH) {
            sm_event(s, EV_MIME_PARSE_FAILED);
            t->mime_error = true;
            m->state = MS_SKIP;
            return;
        }
        memcpy(m->bnd[m->depth], m->pbound, m->pblen);
        m->blen[m->depth] = m->pblen;
        m->depth++;
        m->state = MS_SKIP;   /* preamble */
        return;
    }
    if (strncmp(m->ctype, "multipart/", 10) == 0) {
        sm_event(s, EV_MIME_PARSE_FAILED);   /* no boundary */
        t->mime_error = true;
    }
    if (strcmp(m->ctype, "message/rfc822") == 0) {
        /* the encapsulated message's headers follow, whatever the part
         * claims (a base64 encoding or a file name on message/rfc822 is a
         * known way to hide the inner parts: suricata-verify
         * mime/smtp-mime-encap-8649-combined) */
        part_reset(m);
        m->state = MS_HEADERS;
        return;
    }
    m->state = MS_BODY;
    m->enc = m->penc;
    m->nq = m->nqp = 0;
    m->peol = 0;
    m->kind = PK_IGNORE;
    if (m->has_fname || m->disp_attach) {
        if (m->fname_trunc)
            sm_event(s, EV_MIME_LONG_FILENAME);
        file_open(s, m);
    } else if (!m->ctype[0] || strcmp(m->ctype, "text/plain") == 0) {
        m->kind = PK_TEXT;
    } else if (strcmp(m->ctype, "text/html") == 0) {
        m->kind = PK_HTML;
    }
    (void)was_top;
}

/* ------------------------------------------------------------ entry points */

sm_mime *sm_mime_new(smtp_state *s)
{
    sm_mime *m = bf_calloc(1, sizeof *m);
    sm_mem(s, (int64_t)sizeof *m);
    m->top = true;
    m->state = MS_HEADERS;
    return m;
}

void sm_mime_free(smtp_state *s, sm_mime *m)
{
    if (!m)
        return;
    if (m->file.sha) {
        EVP_MD_CTX_free(m->file.sha);
        sm_mem(s, -SM_MEM_SHA);
    }
    free(m);
    sm_mem(s, -(int64_t)sizeof *m);
}

/* Level of the boundary this line is, or -1; *close for "--b--". */
static int boundary(const sm_mime *m, const uint8_t *l, size_t n, bool *close)
{
    if (n < 3 || l[0] != '-' || l[1] != '-')
        return -1;
    for (int k = m->depth - 1; k >= 0; k--) {
        size_t bl = m->blen[k];
        if (n < 2 + bl || memcmp(l + 2, m->bnd[k], bl) != 0)
            continue;
        size_t r = 2 + bl;
        bool c = false;
        if (r + 2 <= n && l[r] == '-' && l[r + 1] == '-') {
            c = true;
            r += 2;
        }
        while (r < n && (l[r] == ' ' || l[r] == '\t' || l[r] == '\r'))
            r++;
        if (r != n)
            continue;
        *close = c;
        return k;
    }
    return -1;
}

void sm_mime_line(smtp_state *s, sm_tx *t, const uint8_t *l, size_t n, bool bol, bool eol,
                  bool crlf)
{
    sm_mime *m = s->mime;
    if (!m)
        return;
    if (bol)
        m->line_len = 0;
    m->line_len += (uint32_t)n;
    if (m->line_len > 998)
        sm_event(s, EV_MIME_LONG_LINE);
    if (bol && eol && m->depth) {
        bool close = false;
        int k = boundary(m, l, n, &close);
        if (k >= 0) {
            if (m->state == MS_HEADERS)
                hdr_flush(s, t, m);
            part_end(s, t, m, true);
            m->depth = (uint8_t)(close ? k : k + 1);
            part_reset(m);
            m->top = false;
            m->state = close ? MS_SKIP : MS_HEADERS;
            return;
        }
    }
    switch (m->state) {
    case MS_HEADERS:
        if (!bol) {
            hdr_append(m, l, n);
            return;
        }
        if (n == 0 && eol) {
            headers_done(s, t, m);
            return;
        }
        if ((l[0] == ' ' || l[0] == '\t') && m->have_hdr) {
            hdr_append(m, l, n);   /* folded: CRLF dropped, WSP kept */
            return;
        }
        hdr_flush(s, t, m);
        m->have_hdr = true;
        hdr_append(m, l, n);
        return;
    case MS_BODY:
        content(s, t, m, l, n, bol, eol, crlf);
        return;
    default:
        return;
    }
}

void sm_mime_end(smtp_state *s, sm_tx *t, bool complete)
{
    sm_mime *m = s->mime;
    if (!m)
        return;
    if (m->state == MS_HEADERS)
        headers_done(s, t, m);   /* headers only: nothing follows */
    if (complete && m->depth) {
        sm_event(s, EV_MIME_MALFORMED_MSG);   /* a multipart never closed */
        t->mime_error = true;
    }
    part_end(s, t, m, complete);
    t->mime_status = complete ? "PARSE_DONE"
                              : (m->state == MS_HEADERS ? "HEADER_STARTED" : "BODY_STARTED");
}
