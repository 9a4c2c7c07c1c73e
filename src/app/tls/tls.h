/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tls/ owns the TLS analyzer (bf_parser_tls for BF_APP_TLS): record
 * reassembly per direction, handshake message reassembly across records,
 * ClientHello / ServerHello / Certificate parsing (certificates decoded with
 * OpenSSL), JA3 / JA3S / JA4 fingerprints, the EVE `tls` event (Suricata's
 * field names), TLS anomaly events (Suricata's tls-events names), and the
 * BF_BUS_TLS_HELLO / BF_BUS_TLS_CERT bus payloads defined below.
 *
 * Everything after ChangeCipherSpec (or, in TLS 1.3, after the ServerHello)
 * is encrypted: only record headers are read and bytes counted.  In TLS 1.3
 * the certificates are encrypted and never seen (bf_tls_hello.certs_encrypted).
 */
#ifndef BF_APP_TLS_TLS_H
#define BF_APP_TLS_TLS_H

#include "app/applayer.h"

extern const bf_app_parser bf_parser_tls;

/* Caps (attacker-controlled sizes stay bounded). */
#define BF_TLS_MAX_HS_MSG (64u * 1024)   /* one handshake message */
#define BF_TLS_MAX_ALPN 8                /* ALPN names kept per side */
#define BF_TLS_MAX_SAN 32                /* DNS SANs kept for the leaf */
#define BF_TLS_MAX_CHAIN_PARSE 8         /* certificates decoded per chain */
#define BF_TLS_MAX_STR 1024              /* subject / issuer / SNI bytes kept */

/* BF_BUS_TLS_HELLO, published once for the (first) ClientHello (dir 0) and
 * once for the ServerHello (dir 1).  Strings are NUL-terminated, may hold any
 * byte from the wire, and are NULL when absent. */
typedef struct bf_tls_hello {
    int dir;                      /* 0: ClientHello, 1: ServerHello */
    const char *sni;              /* the client's server_name (both dirs) */
    const char *const *alpn;      /* dir 0: offered; dir 1: chosen (<= 1) */
    unsigned nalpn;
    uint16_t version;             /* dir 0: highest offered (supported_versions,
                                   * else legacy); dir 1: negotiated */
    uint16_t cipher;              /* dir 1: the chosen cipher suite */
    const char *ja3_hash;         /* md5 hex of the JA3 string (both dirs) */
    const char *ja4;              /* JA4 (both dirs) */
    const char *ja3s_hash;        /* dir 1 only */
    bool session_resumed;         /* dir 1 */
    bool certs_encrypted;         /* dir 1: TLS 1.3, no certificate in clear */
} bf_tls_hello;

/* BF_BUS_TLS_CERT: one per Certificate message, describing its leaf
 * certificate (dir 1: the server's chain, dir 0: a client certificate). */
typedef struct bf_tls_cert {
    int dir;
    const char *subject;          /* "C=US, O=..., CN=..." */
    const char *subject_cn;       /* last CN of the subject, or NULL */
    const char *issuer;
    const char *serial;           /* "0A:1B:..." */
    const char *fingerprint;      /* sha1 "aa:bb:..." */
    const char *const *san;       /* DNS subjectAltNames */
    unsigned nsan;
    uint32_t san_dropped;         /* DNS SANs beyond BF_TLS_MAX_SAN */
    int64_t not_before, not_after;/* seconds since the epoch, UTC */
    bool self_signed;             /* issuer name == subject name, and the
                                   * key identifiers (if any) agree */
    uint16_t chain_len;           /* certificates in the message */
    const char *sni;              /* the flow's SNI, or NULL */
} bf_tls_cert;

/* Per-flow counters (what the caps dropped, what was skipped). */
typedef struct bf_tls_counters {
    uint64_t records, hs_msgs, certs;
    uint64_t anomalies, anomalies_suppressed; /* repeats of one anomaly type */
    uint64_t dropped_bytes;          /* handshake bytes over a cap / skipped */
    uint64_t encrypted_bytes[2];     /* record bodies after encryption, per dir */
    uint32_t strings_truncated;      /* names / lists cut at a cap */
} bf_tls_counters;

/* The counters of a state made by bf_parser_tls.state_new (tests, stats). */
const bf_tls_counters *bf_tls_state_counters(const void *st);

/* The JA4 "a_b_c" fingerprint from its parts (exposed for unit tests).
 * out must hold 37 bytes.  alpn0 is the first ALPN value (may be NULL). */
void bf_tls_ja4(char out[37], bool quic, uint16_t version, bool sni,
                const uint16_t *ciphers, size_t nc, const uint16_t *exts, size_t ne,
                const uint16_t *sigalgs, size_t ns, const uint8_t *alpn0, size_t alpn0_len);

/* True for the RFC 8701 GREASE values (0x?a?a with equal bytes). */
static inline bool bf_tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* "TLS 1.2", "TLS 1.3", "TLSv1", "SSLv3", "UNDETERMINED", ... (Suricata). */
const char *bf_tls_version_str(uint16_t v, char *buf, size_t len);

#endif
