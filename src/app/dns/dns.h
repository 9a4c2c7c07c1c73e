/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/dns/ owns the DNS analyzer (bf_parser_dns): DNS over UDP (one message
 * per datagram) and over TCP (2-byte length prefix, messages split or merged
 * across segments, buffered per direction up to a cap, resync after gaps).
 * It parses the header, questions and every answer / authority / additional
 * record (name decompression bounded against pointer loops), writes EVE
 * `dns` events in Suricata 8's version 3 format (one per request, one per
 * response) or, with bf_eve_opts.dns_version 2, Suricata's version 2 format
 * (one "query" event per question, one "answer" per response), raises Suricata's DNS app-layer anomalies, matches responses to
 * pending queries (transaction id + question), and publishes
 * BF_BUS_DNS_QUERY / BF_BUS_DNS_ANSWER with the bf_dns_event payload below,
 * so detectors (lookalike domains, tunnelling, amplification) never parse
 * DNS bytes themselves.
 */
#ifndef BF_APP_DNS_DNS_H
#define BF_APP_DNS_DNS_H

#include "app/applayer.h"

extern const bf_app_parser bf_parser_dns;

#define BF_DNS_NAME_MAX 255        /* decoded name chars kept (NUL not counted) */
#define BF_DNS_BUS_ANSWERS 16      /* answer records carried in a bus event */
#define BF_DNS_PENDING_MAX 256     /* unanswered queries remembered per flow */
#define BF_DNS_TCP_BUF_MAX 65536   /* bytes buffered per direction (TCP) */
#define BF_DNS_MAX_RRS 256         /* records parsed and logged per message */

/* What a bus event describes (bf_dns_event.kind). */
enum bf_dns_kind {
    BF_DNS_KIND_QUERY = 0,      /* BF_BUS_DNS_QUERY: a request was seen */
    BF_DNS_KIND_RESPONSE,       /* BF_BUS_DNS_ANSWER: a response was seen */
    BF_DNS_KIND_UNANSWERED,     /* BF_BUS_DNS_ANSWER: a query got no response
                                 * (flow ended, or evicted from the pending
                                 * table); only the query fields are set */
};

/* One answer-section record, decoded (bounded copy). */
typedef struct bf_dns_answer {
    uint16_t rrtype;
    uint16_t rdlen;             /* raw rdata length on the wire */
    uint32_t ttl;
    uint16_t priority;          /* MX preference, SRV / SVCB / HTTPS priority */
    uint16_t port;              /* SRV port */
    uint8_t addr_len;           /* 4 (A), 16 (AAAA), else 0 */
    uint8_t addr[16];
    /* A/AAAA: address text; CNAME/NS/PTR/MX/SRV/SVCB/HTTPS: the target
     * name, lower-cased; TXT: the first string; else empty. */
    char data[BF_DNS_NAME_MAX + 1];
} bf_dns_answer;

/* Payload of BF_BUS_DNS_QUERY and BF_BUS_DNS_ANSWER. */
typedef struct bf_dns_event {
    uint8_t kind;               /* enum bf_dns_kind */
    bool tcp;
    bool matched;               /* response: a pending query matched it */
    bool qname_truncated;       /* the name was longer than BF_DNS_NAME_MAX */
    uint16_t id;                /* DNS transaction id (wire) */
    uint16_t flags;             /* header flags word */
    uint8_t opcode;
    uint8_t rcode;              /* header rcode (0..15) */
    uint16_t qdcount, ancount, nscount, arcount;  /* header counts */

    /* first question: decoded, lower-cased, NUL-terminated */
    char qname[BF_DNS_NAME_MAX + 1];
    uint16_t qname_len;         /* chars in qname */
    uint8_t qname_labels;       /* label count (www.example.com: 3) */
    uint16_t qtype, qclass;

    uint16_t edns_udp_size;     /* EDNS0 OPT: advertised UDP size (0: none) */
    bool edns_do;               /* EDNS0 DNSSEC OK bit */

    /* sizes for amplification: DNS message bytes (without the TCP prefix) */
    uint32_t request_len;       /* query size (query, unanswered, matched response) */
    uint32_t response_len;      /* response size (response only) */
    bf_ts request_ts;           /* when the query was seen (0: unknown) */
    bf_ts response_ts;

    uint32_t min_ttl;           /* smallest answer TTL (0 when no answers) */
    uint16_t nanswers;          /* entries in answers[] */
    uint16_t answers_dropped;   /* answer records beyond BF_DNS_BUS_ANSWERS */
    bf_dns_answer answers[BF_DNS_BUS_ANSWERS];
} bf_dns_event;

/* Analyzer counters (summed over flows of this process; per worker use
 * only: plain increments). */
typedef struct bf_dns_stats {
    uint64_t requests, responses;
    uint64_t malformed;         /* messages that could not be parsed */
    uint64_t matched, unmatched_responses, unanswered;
    uint64_t pending_evicted;   /* pending table full: oldest dropped */
    uint64_t tcp_oversize;      /* TCP messages over the buffer cap */
    uint64_t gaps, resyncs, gave_up;
    uint64_t rrs_dropped;       /* records beyond BF_DNS_MAX_RRS */
    uint64_t anomalies_dropped; /* anomaly events beyond the per-flow cap */
} bf_dns_stats;

/* Thread-local counters of the calling worker. */
const bf_dns_stats *bf_dns_stats_get(void);

/* The DNS message parse and log step, for tests and fuzzing: parses one
 * message of direction dir as the analyzer does for a UDP datagram. */
void bf_dns_parse_message(bf_app_ctx *ctx, bf_flow *f, void *st, bf_packet *p, int dir,
                          const uint8_t *msg, uint32_t len);

#endif
