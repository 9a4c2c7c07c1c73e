/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/decode_int.h: what decode.c shares with defrag.c (module-private). */
#ifndef BF_DECODE_DECODE_INT_H
#define BF_DECODE_DECODE_INT_H

#include "decode/decode.h"

/* Decodes p starting at an IP header (data/caplen of p, version 4 or 6),
 * keeping the vlan/tunnel context already set in p.  Used for reassembled
 * datagrams; does not count pkts/bytes. */
void bf_decode_ip_at(const bf_decode_cfg *cfg, bf_decode_stats *st, bf_packet *p, uint8_t ipver);

/* Internet checksum helpers (native-order accumulation, see decode.c). */
uint64_t bf_csum_add(uint64_t sum, const uint8_t *d, size_t n);
uint16_t bf_csum_fold(uint64_t sum);

/* Raises an event on p and counts it. */
static inline void bf_decode_event(bf_decode_stats *st, bf_packet *p, uint16_t ev)
{
    if (ev < BF_EV_MAX) {
        if (st)
            st->events[ev]++;
        bf_packet_event(p, ev);
    }
}

#endif
