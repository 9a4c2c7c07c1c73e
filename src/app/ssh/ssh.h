/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/ssh/ owns the SSH analyzer (BF_APP_SSH): the identification banners of
 * both sides, the unencrypted binary packets up to NEWKEYS (KEXINIT of each
 * side -> HASSH / HASSH server, the key exchange method both sides agree
 * on), the packet and byte counts of each direction once encrypted, and a
 * size-based inference of the (encrypted) user authentication outcome.
 *
 * It publishes BF_BUS_SSH_BANNER for each banner and, at flow end, one
 * BF_BUS_LOGIN (service "ssh", user unknown) when the client reached the
 * authentication phase.  When BF_BUS_TX has subscribers, it shows the
 * signature engine one transaction per flow (app/tx.h): ssh.proto and
 * ssh.software of the publishing direction's side, ssh.hassh(.string) of the
 * client and ssh.hassh.server(.string) once the KEXINITs are seen; a side is
 * done at its NEWKEYS (or when it is no longer parsed), both at flow end.  It writes one EVE `ssh` event per flow with
 * Suricata's fields (ssh.client / ssh.server: proto_version,
 * software_version, hassh.hash, hassh.string).
 *
 * Authentication inference (the bytes are encrypted; Zeek infers the same
 * way, from the server's message sizes).  Encrypted bytes are grouped into
 * "bursts": everything one side sends until the other side sends.  Server
 * bursts sent before the client's first encrypted burst (EXT_INFO) are
 * ignored.  Then:
 *   - the server burst answering the client's first burst is the
 *     SERVICE_ACCEPT; its size S is the reference;
 *   - a later server burst smaller than S is a USERAUTH_SUCCESS (1-byte
 *     payload, the smallest message of the protocol): success;
 *   - the first other server burst sets the failure size F (a
 *     USERAUTH_FAILURE lists the same methods every time, so all failures
 *     have the same size); each burst of size F is one failure;
 *   - the first failure is taken to answer the "none" method probe that
 *     OpenSSH, libssh (hydra...) and paramiko send first, and is not counted
 *     as an attempt, unless it is the only one;
 *   - after the last failure, >= 2 server bursts of another size and >= 2
 *     client bursts mean a session is running: success (a failed attempt
 *     ends with a failure, or with one DISCONNECT; a keyboard-interactive
 *     INFO_REQUEST is answered by one client burst, then a failure);
 *   - otherwise failure if a failure was seen, else unknown.
 * A gap, a missing side, or SSH-1 make the outcome unknown (an explicit
 * success seen before stays).  Known limit: a post-authentication message
 * that happens to have size F resets the session count; checked against
 * Zeek's traces sshguess.pcap (all failures), ssh.pcap, single-conn.pcap,
 * ssh_kex_curve25519.pcap (successes).
 */
#ifndef BF_APP_SSH_SSH_H
#define BF_APP_SSH_SSH_H

#include "app/applayer.h"

#define BF_SSH_LINE_MAX 256         /* banner line (RFC 4253 4.2: 255 + LF) */
#define BF_SSH_PREBANNER_MAX 8192   /* bytes of other lines before the banner */
#define BF_SSH_KEXINIT_MAX 65536    /* largest KEXINIT buffered for HASSH */
#define BF_SSH_PACKET_MAX (256u * 1024) /* larger packet_length: not SSH */
#define BF_SSH_PROTO_MAX 32
#define BF_SSH_SOFT_MAX 256

extern const bf_app_parser bf_parser_ssh;

/* Payload of BF_BUS_SSH_BANNER. */
typedef struct bf_ssh_banner_event {
    int dir;                      /* 0: the client's banner, 1: the server's */
    const char *proto_version;    /* NUL-terminated ("2.0", "1.99") */
    const char *software_version; /* NUL-terminated ("OpenSSH_9.2p1") */
} bf_ssh_banner_event;

enum bf_ssh_phase {
    BF_SSH_BANNER = 0,   /* waiting for the SSH- line */
    BF_SSH_PACKETS,      /* unencrypted binary packets */
    BF_SSH_ENCRYPTED,    /* after NEWKEYS: counting only */
    BF_SSH_DONE,         /* gave up (gap, SSH-1, not SSH): nothing parsed */
};

/* One direction (0: client -> server). */
typedef struct bf_ssh_side {
    uint8_t phase;                /* enum bf_ssh_phase */
    bool banner;                  /* banner parsed */
    bool kexinit;                 /* KEXINIT parsed: hassh valid */
    bool newkeys;
    char proto[BF_SSH_PROTO_MAX];
    char soft[BF_SSH_SOFT_MAX];
    char hassh[33];               /* md5 hex of hassh_str */
    char *hassh_str;              /* "kex;enc;mac;cmp" (heap, NUL-terminated) */
    uint32_t hassh_len;
    uint32_t kex_len;             /* length of the kex list at hassh_str */
    /* assembly */
    uint8_t line[BF_SSH_LINE_MAX];
    uint16_t line_len;
    bool line_skip;               /* discarding the rest of a too long line */
    uint32_t prebanner;           /* bytes of non-banner lines seen */
    uint8_t hdr[6];               /* packet_length, padding_length, msg */
    uint8_t hlen;
    uint32_t skip;                /* bytes of the current packet to skip */
    uint8_t *pkt;                 /* KEXINIT being buffered (heap) */
    uint32_t plen, pneed;
    uint8_t padlen;
    uint32_t packets;             /* unencrypted packets */
    uint64_t enc_pkts, enc_bytes; /* after NEWKEYS (pkts: data deliveries) */
    uint32_t drops;               /* truncated or skipped for a cap */
} bf_ssh_side;

typedef struct bf_ssh_state {
    bf_ssh_side side[2];
    char kex[128];                /* method agreed on, "" if unknown */
    /* authentication inference (see the header comment) */
    int8_t burst_dir;             /* -1: none yet */
    uint32_t burst_len;
    uint32_t cli_bursts, srv_bursts;  /* counted after the client's first */
    uint32_t S, F;                /* SERVICE_ACCEPT and failure sizes */
    uint32_t fails;               /* bursts of size F */
    uint32_t srv_since, cli_since;/* bursts since the last failure */
    bool success;                 /* explicit (small packet) success */
    bool heur_broken;             /* gap while encrypted */
    bool logged, login_published;
    enum bf_login_outcome outcome;    /* after bf_ssh_auth_decide */
    uint32_t attempts;
    /* the signature engine's view (BF_BUS_TX, one transaction per flow) */
    bool tx_dirty;                /* progress since the last publish */
    bool tx_any;                  /* published at least once */
    bool tx_done[2];              /* that side's key exchange is encrypted
                                   * (NEWKEYS) or the side is not parsed */
    bool tx_final;                /* published with both sides done */
    uint8_t tx_dir;               /* direction of the last progress */
} bf_ssh_state;

/* Writes the "ssh" object (Suricata's shape) into j; false, and nothing
 * written, when no banner was seen.  Also for alert enrichment. */
bool bf_ssh_eve_fields(bf_json *j, const bf_ssh_state *s);

/* Closes the pending burst and computes s->outcome / s->attempts from what
 * was seen so far; returns whether the client reached authentication. */
bool bf_ssh_auth_decide(bf_ssh_state *s);

#endif
