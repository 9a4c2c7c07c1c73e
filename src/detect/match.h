/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/match.h: runs one rule's options against data, once the engine
 * has decided the rule is a candidate (its fast pattern hit, or it has none):
 * the payload matches of one buffer (content with offset/depth/distance/
 * within and backtracking as Suricata does, pcre2 with JIT, byte_test,
 * byte_jump, byte_extract, byte_math, isdataat, bsize, startswith/endswith),
 * buffer transforms, and the packet keywords (dsize, ttl, flags, itype ...).
 * No allocation on the match path: a per-worker scratch holds pcre2 match
 * data, transform output and byte_extract variables.
 */
#ifndef BF_DETECT_MATCH_H
#define BF_DETECT_MATCH_H

#include "decode/packet.h"
#include "detect/sig.h"

#define BF_MAX_BYTE_VARS 16

typedef struct bf_match_scratch bf_match_scratch;

bf_match_scratch *bf_match_scratch_new(void);
void bf_match_scratch_free(bf_match_scratch *s);

/* Clears byte_extract variables: call before evaluating a sig. */
void bf_match_begin_sig(bf_match_scratch *s);

/* Applies sb's transforms to data (returns data itself when there are
 * none; else a pointer into the scratch valid until the next call). */
const uint8_t *bf_match_transform(bf_match_scratch *s, const bf_sig_buf *sb, const uint8_t *data,
                                  uint32_t len, uint32_t *out_len);

/* All of sb's matches against the (transformed) buffer.  True on match. */
bool bf_match_buffer(bf_match_scratch *s, const bf_sig *sig, const bf_sig_buf *sb,
                     const uint8_t *data, uint32_t len);

/* The packet keywords of sig (sig->pkw) against p (p->flow may be NULL). */
bool bf_match_packet_kw(const bf_sig *sig, const bf_packet *p);

/* Counters of pcre/match limits hit (for stats). */
uint64_t bf_match_pcre_errors(const bf_match_scratch *s);

#endif
