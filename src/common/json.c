/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/json.c: JSON builder (see json.h). */
#include "common/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void bf_json_init(bf_json *j, size_t initial_cap)
{
    memset(j, 0, sizeof(*j));
    j->cap = initial_cap ? initial_cap : 1024;
    j->buf = bf_malloc(j->cap);
}

void bf_json_free(bf_json *j)
{
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

static inline void reserve(bf_json *j, size_t n)
{
    if (BF_UNLIKELY(j->len + n > j->cap)) {
        size_t c = j->cap * 2;
        while (c < j->len + n)
            c *= 2;
        j->buf = bf_realloc(j->buf, c);
        j->cap = c;
    }
}

void bf_json_append(bf_json *j, const char *s, size_t len)
{
    reserve(j, len);
    memcpy(j->buf + j->len, s, len);
    j->len += len;
}

static inline void putc_(bf_json *j, char c)
{
    reserve(j, 1);
    j->buf[j->len++] = c;
}

static const char hexd[] = "0123456789abcdef";

/* Appends the escaped body of a string (no quotes). Valid UTF-8 sequences
 * pass through; any other byte >= 0x80 becomes \u00XX. */
static void escape(bf_json *j, const uint8_t *s, size_t n)
{
    reserve(j, n + 8);
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            /* fast run of plain ASCII */
            size_t k = i + 1;
            while (k < n && s[k] >= 0x20 && s[k] < 0x80 && s[k] != '"' && s[k] != '\\')
                k++;
            bf_json_append(j, (const char *)s + i, k - i);
            i = k;
            continue;
        }
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            bf_json_append(j, e, 2);
            i++;
            continue;
        }
        if (c < 0x20) {
            const char *e = NULL;
            switch (c) {
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            case '\b': e = "\\b"; break;
            case '\f': e = "\\f"; break;
            }
            if (e) {
                bf_json_append(j, e, 2);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
                bf_json_append(j, u, 6);
            }
            i++;
            continue;
        }
        /* c >= 0x80: accept a well-formed UTF-8 sequence, else escape byte */
        size_t need = 0;
        uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0) { need = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { need = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { need = 3; cp = c & 0x07; }
        bool ok = need > 0 && i + need < n;
        if (ok) {
            for (size_t k = 1; k <= need; k++) {
                if ((s[i + k] & 0xc0) != 0x80) { ok = false; break; }
                cp = cp << 6 | (s[i + k] & 0x3f);
            }
        }
        if (ok) {
            /* reject overlong forms, surrogates and out-of-range */
            static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
            if (cp < min_cp[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                ok = false;
        }
        if (ok) {
            bf_json_append(j, (const char *)s + i, need + 1);
            i += need + 1;
        } else {
            char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
            bf_json_append(j, u, 6);
            i++;
        }
    }
}

static void key_(bf_json *j, const char *key)
{
    if (j->need_comma[j->depth])
        putc_(j, ',');
    j->need_comma[j->depth] = true;
    if (key) {
        putc_(j, '"');
        escape(j, (const uint8_t *)key, strlen(key));
        bf_json_append(j, "\":", 2);
    }
}

void bf_json_open_obj(bf_json *j, const char *key)
{
    key_(j, key);
    putc_(j, '{');
    if (j->depth + 1 < BF_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

void bf_json_close_obj(bf_json *j)
{
    putc_(j, '}');
    if (j->depth > 0)
        j->depth--;
}

void bf_json_open_arr(bf_json *j, const char *key)
{
    key_(j, key);
    putc_(j, '[');
    if (j->depth + 1 < BF_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

void bf_json_close_arr(bf_json *j)
{
    putc_(j, ']');
    if (j->depth > 0)
        j->depth--;
}

void bf_json_strn(bf_json *j, const char *key, const void *val, size_t len)
{
    key_(j, key);
    putc_(j, '"');
    escape(j, val, len);
    putc_(j, '"');
}

void bf_json_str(bf_json *j, const char *key, const char *val)
{
    bf_json_strn(j, key, val ? val : "", val ? strlen(val) : 0);
}

void bf_json_uint(bf_json *j, const char *key, uint64_t v)
{
    key_(j, key);
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    reserve(j, (size_t)n);
    while (n)
        j->buf[j->len++] = tmp[--n];
}

void bf_json_int(bf_json *j, const char *key, int64_t v)
{
    if (v >= 0) {
        bf_json_uint(j, key, (uint64_t)v);
        return;
    }
    key_(j, key);
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    bf_json_append(j, tmp, (size_t)n);
}

void bf_json_bool(bf_json *j, const char *key, bool v)
{
    key_(j, key);
    if (v)
        bf_json_append(j, "true", 4);
    else
        bf_json_append(j, "false", 5);
}

void bf_json_double(bf_json *j, const char *key, double v)
{
    key_(j, key);
    char tmp[40];
    int n;
    if (!isfinite(v))
        n = snprintf(tmp, sizeof tmp, "0");
    else
        n = snprintf(tmp, sizeof tmp, "%.6g", v);
    bf_json_append(j, tmp, (size_t)n);
}

void bf_json_hex(bf_json *j, const char *key, const uint8_t *p, size_t len)
{
    key_(j, key);
    reserve(j, len * 2 + 2);
    j->buf[j->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        j->buf[j->len++] = hexd[p[i] >> 4];
        j->buf[j->len++] = hexd[p[i] & 15];
    }
    j->buf[j->len++] = '"';
}

void bf_json_base64(bf_json *j, const char *key, const uint8_t *p, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    key_(j, key);
    reserve(j, (len + 2) / 3 * 4 + 2);
    j->buf[j->len++] = '"';
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        j->buf[j->len++] = b64[v >> 18];
        j->buf[j->len++] = b64[(v >> 12) & 63];
        j->buf[j->len++] = b64[(v >> 6) & 63];
        j->buf[j->len++] = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        j->buf[j->len++] = b64[v >> 18];
        j->buf[j->len++] = b64[(v >> 12) & 63];
        j->buf[j->len++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        j->buf[j->len++] = '=';
    }
    j->buf[j->len++] = '"';
}

void bf_json_raw(bf_json *j, const char *key, const char *json, size_t len)
{
    key_(j, key);
    bf_json_append(j, json, len);
}
