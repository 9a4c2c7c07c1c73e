/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/tls/tls_int.h: definitions shared by the files of the TLS analyzer
 * (not for other modules: they use tls.h and the bus payloads). */
#ifndef BF_APP_TLS_TLS_INT_H
#define BF_APP_TLS_TLS_INT_H

#include "app/tls/tls.h"

/* Anomalies, named as Suricata's app-layer-event:tls.* (upper case in EVE). */
#define TLS_EVENTS(X)                                                                             \
    X(INVALID_SSLV2_HEADER) X(INVALID_TLS_HEADER) X(INVALID_RECORD_VERSION)                       \
    X(INVALID_RECORD_TYPE) X(INVALID_HANDSHAKE_MESSAGE) X(INVALID_CERTIFICATE)                    \
    X(CERTIFICATE_INVALID_LENGTH) X(ERROR_MESSAGE_ENCOUNTERED) X(INVALID_SSL_RECORD)              \
    X(HEARTBEAT_MESSAGE) X(OVERFLOW_HEARTBEAT_MESSAGE) X(INVALID_HEARTBEAT_MESSAGE)               \
    X(MULTIPLE_SNI_EXTENSIONS) X(INVALID_SNI_TYPE) X(INVALID_SNI_LENGTH)                          \
    X(HANDSHAKE_INVALID_LENGTH) X(TOO_MANY_RECORDS_IN_PACKET) X(CERTIFICATE_INVALID_VERSION)      \
    X(CERTIFICATE_INVALID_SERIAL) X(CERTIFICATE_INVALID_DATE) X(CERTIFICATE_INVALID_EXTENSIONS)   \
    X(CERTIFICATE_INVALID_DER) X(CERTIFICATE_INVALID_SUBJECT) X(CERTIFICATE_INVALID_ISSUER)       \
    X(INVALID_ALERT_MESSAGE)

enum tls_event {
#define X(n) TLS_EV_##n,
    TLS_EVENTS(X)
#undef X
    TLS_EV_MAX
};
extern const char *const tls_event_names[TLS_EV_MAX];

/* Decoded leaf certificate of one Certificate message.  Strings are owned
 * (malloc) and their bytes counted in *mem by the functions below. */
typedef struct tls_cert_info {
    bool present;
    char *subject, *issuer, *serial, *fingerprint, *cn;
    char notbefore[24], notafter[24];   /* "2019-01-01T00:00:00" or "" */
    int64_t nb_ts, na_ts;
    char *san[BF_TLS_MAX_SAN];
    unsigned nsan;
    uint32_t san_dropped;
    bool self_signed;
    uint16_t chain_len;
} tls_cert_info;

/* Raises anomaly ev (the caller dedups and logs). */
typedef void (*tls_event_fn)(void *ud, enum tls_event ev);

/* Parses a Certificate handshake message body (TLS <= 1.2 layout:
 * certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>) into ci (cleared
 * first).  Returns false when the message is malformed (events raised). */
bool tls_cert_parse(tls_cert_info *ci, const uint8_t *msg, uint32_t len, size_t *mem,
                    uint32_t *truncated, tls_event_fn ev, void *ud);
void tls_cert_clear(tls_cert_info *ci, size_t *mem);

/* Owned copy of len bytes (NUL-terminated, cut at BF_TLS_MAX_STR). */
char *tls_strndup(const void *s, size_t len, size_t *mem, uint32_t *truncated);
void tls_strfree(char **s, size_t *mem);

/* Hex helpers: "aa:bb" (sep != 0) or "aabb"; out must hold 3*n+1 bytes. */
void tls_hex(char *out, const uint8_t *p, size_t n, char sep, bool upper);

/* MD5 / SHA-256 digests as lower-case hex (OpenSSL EVP). */
void tls_md5_hex(char out[33], const void *p, size_t n);
void tls_sha256_hex(char out[65], const void *p, size_t n);

#endif
