/* SPDX-License-Identifier: GPL-2.0-or-later
 * behavior/dos/dos_int.h: the DoS detector's typing and mitigation rules,
 * exposed for unit tests (pure functions on already-measured values). */
#ifndef BF_BEHAVIOR_DOS_DOS_INT_H
#define BF_BEHAVIOR_DOS_DOS_INT_H

#include "behavior/dos/dos.h"

/* Vector name ("syn_flood", ...), and for BF_DOS_V_AMP the protocol's
 * ("dns_amplification"); signature id (gid 9000). */
const char *bf_dos_vector_name(unsigned v, int refl);
uint32_t bf_dos_vector_sid(unsigned v, int refl);
/* Reflector protocol of a UDP source port, or -1; its name ("dns"). */
int bf_dos_refl_index(uint16_t sport);
const char *bf_dos_refl_name(int i);
uint16_t bf_dos_refl_port(int i);

/* Typing: the vectors (bitmask of 1u << BF_DOS_V_*) that explain the
 * alarmed metrics (bitmask of 1u << BF_DOS_M_*).  rate: every metric over
 * the last second.  For a prefix: dst_distinct destinations, top_share the
 * largest single host's share of the prefix's traffic. */
uint32_t bf_dos_type(uint32_t alarms, const double *rate, bool prefix, double dst_distinct,
                     double top_share, uint32_t carpet_min_hosts);

/* Mitigation proposal. */
typedef struct bf_dos_mit_in {
    bf_addr victim;
    uint8_t ipver, plen;          /* plen < 32/128: the victim is a prefix */
    uint32_t vectors;             /* BF_DOS_V_* bits */
    unsigned primary;
    int refl;                     /* reflector protocol index or -1 */
    int dport;                    /* dominant destination port or -1 */
    int ttl;                      /* dominant TTL (exact) or -1 */
    uint32_t size_min, size_max;  /* packet sizes (frame bytes) */
    double rate_limit;            /* per-second limit proposed (threshold) */
    const bf_addr *sources;       /* top sources, best first */
    const uint8_t *src_ipver;
    unsigned nsources;
    double spoofed;               /* estimate 0..1 */
    bf_ts timeout;
    unsigned max_sources;
} bf_dos_mit_in;

typedef struct bf_dos_mit {
    char elems[32][80];           /* "203.0.113.7 timeout 600s" */
    unsigned nelems;
    char rule[512];
    char bpf[512];
} bf_dos_mit;

void bf_dos_mitigation(const bf_dos_mit_in *in, bf_dos_mit *out);

#endif
