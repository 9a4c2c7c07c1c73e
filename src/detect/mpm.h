/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/mpm.h: multi-pattern matching (the prefilter) on Vectorscan.
 * A database is built once from literal patterns (bytes, optionally
 * caseless), each with a caller id; scanning a buffer reports each id
 * that occurs, once per scan.  Databases are immutable and shared by
 * workers; each worker has one scratch that fits every database.
 */
#ifndef BF_DETECT_MPM_H
#define BF_DETECT_MPM_H

#include "common/bf.h"

typedef struct bf_mpm bf_mpm;
typedef struct bf_mpm_builder bf_mpm_builder;
typedef struct bf_mpm_scratch bf_mpm_scratch;

bf_mpm_builder *bf_mpm_builder_new(void);
/* Adds a literal; identical (bytes, nocase) literals are merged and all
 * their ids reported. */
void bf_mpm_add(bf_mpm_builder *b, const uint8_t *pat, uint32_t len, bool nocase, uint32_t id);
uint32_t bf_mpm_builder_count(const bf_mpm_builder *b);
/* Compiles and frees the builder.  NULL with err on failure. */
bf_mpm *bf_mpm_build(bf_mpm_builder *b, char *err, size_t errlen);
void bf_mpm_free(bf_mpm *m);
size_t bf_mpm_bytes(const bf_mpm *m);     /* database size */

/* A scratch able to scan every database in dbs (grows an existing one). */
bf_mpm_scratch *bf_mpm_scratch_new(void);
bool bf_mpm_scratch_fit(bf_mpm_scratch *s, const bf_mpm *m);
void bf_mpm_scratch_free(bf_mpm_scratch *s);

/* Calls hit(ud, id) for each id whose literal occurs in data (each id at
 * most once per scan).  Returns the number of distinct ids reported. */
typedef void (*bf_mpm_hit_fn)(void *ud, uint32_t id);
uint32_t bf_mpm_scan(const bf_mpm *m, bf_mpm_scratch *s, const uint8_t *data, uint32_t len,
                     bf_mpm_hit_fn hit, void *ud);

#endif
