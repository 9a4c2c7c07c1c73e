/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/hash: keyed 64-bit hashing for tables an attacker can fill (flows,
 * fragments, hosts).  The key is random per process unless BF_HASH_SEED is
 * set (tests), so colliding tuples cannot be precomputed. */
#ifndef BF_COMMON_HASH_H
#define BF_COMMON_HASH_H

#include "common/bf.h"

extern uint64_t bf_hash_seed;
void bf_hash_init(void); /* once at start-up */

static inline uint64_t bf_mix64(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Hash of whole 64-bit words (keys are padded to 8 bytes by their owners). */
static inline uint64_t bf_hash_words(const uint64_t *w, size_t n)
{
    uint64_t h = bf_hash_seed ^ (n * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < n; i++)
        h = bf_mix64(h ^ w[i], 0xa0761d6478bd642fULL);
    return bf_mix64(h, 0xe7037ed1a0b428dbULL);
}

uint64_t bf_hash_bytes(const void *p, size_t len);

#endif
