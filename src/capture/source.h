/* SPDX-License-Identifier: GPL-2.0-or-later
 * capture/ owns packet input: pcap and pcapng files through libpcap (also
 * gzip-compressed, read through zlib), several files or a folder taken in
 * time order, standard input (`-r -`), and live interfaces through libpcap.
 * A truncated or corrupt file is read up to the break: a warning gives the
 * file and byte offset, the next file is opened, and the run remembers it
 * (distinct exit status).
 */
#ifndef BF_CAPTURE_SOURCE_H
#define BF_CAPTURE_SOURCE_H

#include "common/bf.h"

typedef struct bf_raw_pkt {
    const uint8_t *data;   /* valid until the next bf_source_next */
    uint32_t caplen, wirelen;
    bf_ts ts;
    uint16_t linktype;
    uint16_t input_id;     /* index of the file / interface */
} bf_raw_pkt;

typedef struct bf_source bf_source;

/* Opens files, folders (their regular files, not recursive) and "-" for
 * stdin, ordered by the time of each file's first packet.  `bpf` may be
 * NULL.  Files that cannot be opened are reported and skipped (counted as
 * errors); returns NULL only when no input at all can be read. */
bf_source *bf_source_open_files(const char *const *paths, size_t n, const char *bpf, char *err,
                                size_t errlen);

/* Opens a live interface (promiscuous, snaplen 65535). */
bf_source *bf_source_open_live(const char *ifname, const char *bpf, char *err, size_t errlen);

/* 1: a packet in *out; 0: end of all input (or stop requested). */
int bf_source_next(bf_source *s, bf_raw_pkt *out);

/* Makes a blocking bf_source_next return 0 soon (signal-safe). */
void bf_source_stop(bf_source *s);

/* Inputs that were truncated, corrupt or unreadable so far. */
unsigned bf_source_errors(const bf_source *s);
/* Name of the input being read ("-" for stdin). */
const char *bf_source_name(const bf_source *s);
bool bf_source_is_live(const bf_source *s);
/* Bytes of input consumed so far and in all (0 when unknown), for progress. */
void bf_source_progress(const bf_source *s, uint64_t *done, uint64_t *total);
/* Kernel counters for live capture (0 for files). */
void bf_source_live_stats(bf_source *s, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);

void bf_source_close(bf_source *s);

#endif
