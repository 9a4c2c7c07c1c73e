/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * common/ owns what every module shares and nothing protocol-specific:
 * base types (timestamps, addresses), logging, the JSON line builder,
 * keyed hashing, the YAML config tree and small helpers.
 */
#ifndef BF_COMMON_BF_H
#define BF_COMMON_BF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BF_LIKELY(x) __builtin_expect(!!(x), 1)
#define BF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BF_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Time in microseconds since the Unix epoch (packet time, not wall time). */
typedef uint64_t bf_ts;
#define BF_USEC 1ULL
#define BF_MSEC 1000ULL
#define BF_SEC 1000000ULL

/* An IPv4 or IPv6 address.  IPv4 lives in the first 4 bytes, rest zero. */
typedef struct bf_addr {
    union {
        uint8_t b[16];
        uint32_t w[4];
        uint64_t q[2];
    };
} bf_addr;

static inline bool bf_addr_eq(const bf_addr *a, const bf_addr *b)
{
    return a->q[0] == b->q[0] && a->q[1] == b->q[1];
}
static inline int bf_addr_cmp(const bf_addr *a, const bf_addr *b)
{
    return memcmp(a->b, b->b, 16);
}
/* Formats into buf (>= 46 bytes); returns buf. ipver is 4 or 6. */
const char *bf_addr_str(const bf_addr *a, int ipver, char *buf, size_t len);
/* Parses dotted IPv4 or IPv6 text; returns ipver (4/6) or 0. */
int bf_addr_parse(const char *s, bf_addr *out);

/* Unaligned big-endian loads: every parser reads attacker bytes with these. */
static inline uint16_t bf_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t bf_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t bf_le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static inline uint32_t bf_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint64_t bf_le64(const uint8_t *p)
{
    return (uint64_t)bf_le32(p + 4) << 32 | bf_le32(p);
}

/* Allocation that aborts on exhaustion of the process (not of a memcap:
 * memcaps are checked by their owners before allocating). */
void *bf_malloc(size_t n);
void *bf_calloc(size_t n, size_t m);
void *bf_realloc(void *p, size_t n);
char *bf_strdup(const char *s);

/* Formats ts as Suricata does: 2009-11-04T18:09:48.123456+0100 (local time). */
size_t bf_ts_format(bf_ts ts, char *buf, size_t len);

/* Monotonic wall clock in microseconds (for progress and uptime only). */
uint64_t bf_wall_usec(void);

/* Peak resident set size of the process in KiB (from getrusage). */
long bf_peak_rss_kib(void);

#endif
