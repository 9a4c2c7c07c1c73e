/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/hash.c: seed set-up and byte-string hashing. */
#include "common/hash.h"

#include <stdlib.h>
#include <sys/random.h>

uint64_t bf_hash_seed = 0x243f6a8885a308d3ULL;

void bf_hash_init(void)
{
    const char *s = getenv("BF_HASH_SEED");
    if (s) {
        bf_hash_seed = strtoull(s, NULL, 0);
        return;
    }
    uint64_t v;
    if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v)
        bf_hash_seed = v;
}

uint64_t bf_hash_bytes(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t h = bf_hash_seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = bf_mix64(h ^ w, 0xa0761d6478bd642fULL);
        b += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, len);
    h = bf_mix64(h ^ w, 0xa0761d6478bd642fULL);
    return bf_mix64(h, 0xe7037ed1a0b428dbULL);
}
