/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/json: an append-only JSON builder for EVE lines.  No tree, no
 * allocation per field: keys and values are escaped straight into a growable
 * buffer.  Commas are managed by a small nesting stack.  Strings from the
 * wire may hold any byte: control characters, quotes, backslashes and bytes
 * that are not valid UTF-8 are escaped (\u00XX), so every line is valid JSON.
 */
#ifndef BF_COMMON_JSON_H
#define BF_COMMON_JSON_H

#include "common/bf.h"

#define BF_JSON_MAX_DEPTH 32

typedef struct bf_json {
    char *buf;
    size_t len, cap;
    int depth;
    bool need_comma[BF_JSON_MAX_DEPTH];
} bf_json;

void bf_json_init(bf_json *j, size_t initial_cap);
void bf_json_free(bf_json *j);
/* Empties the buffer for reuse (keeps the allocation). */
static inline void bf_json_reset(bf_json *j)
{
    j->len = 0;
    j->depth = 0;
    j->need_comma[0] = false;
}

/* key is NULL inside arrays and for the top-level object. */
void bf_json_open_obj(bf_json *j, const char *key);
void bf_json_close_obj(bf_json *j);
void bf_json_open_arr(bf_json *j, const char *key);
void bf_json_close_arr(bf_json *j);

void bf_json_str(bf_json *j, const char *key, const char *val);
void bf_json_strn(bf_json *j, const char *key, const void *val, size_t len);
void bf_json_uint(bf_json *j, const char *key, uint64_t v);
void bf_json_int(bf_json *j, const char *key, int64_t v);
void bf_json_bool(bf_json *j, const char *key, bool v);
void bf_json_double(bf_json *j, const char *key, double v);
/* Lower-case hex of len bytes, as a JSON string. */
void bf_json_hex(bf_json *j, const char *key, const uint8_t *p, size_t len);
/* Base64 of len bytes, as a JSON string (EVE payload fields). */
void bf_json_base64(bf_json *j, const char *key, const uint8_t *p, size_t len);
/* Appends pre-formatted JSON text as a value (trusted text only). */
void bf_json_raw(bf_json *j, const char *key, const char *json, size_t len);
/* Raw byte append with no comma handling (used for the final newline). */
void bf_json_append(bf_json *j, const char *s, size_t len);

#endif
