/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/ftp/ owns the FTP control channel analyzer (BF_APP_FTP): command and
 * reply lines of both directions, multi-line replies ("230-..." up to
 * "230 ..."), pairing of each command with its reply (1xx preliminary
 * replies keep the command open, as Suricata does), the data channel port
 * announced by PORT / EPRT / PASV / EPSV, and the login outcome of each
 * USER / PASS exchange (2xx success, 4xx/5xx failure).
 *
 * Publishes one BF_BUS_LOGIN per password exchange (service "ftp", the user
 * name of the last USER; never the password).  Writes one EVE `ftp` event
 * per command (and per unsolicited reply such as the greeting, without
 * "command") with Suricata's fields: command, command_data,
 * command_truncated, completion_code[], reply[], dynamic_port, mode,
 * reply_received, reply_truncated.  Like Suricata, command_data holds the
 * argument as sent, PASS included.
 *
 * Caps: lines at BF_FTP_LINE_MAX (the rest is dropped, *_truncated set),
 * BF_FTP_MAX_PENDING commands awaiting a reply (the oldest is logged with
 * reply_received "no" to make room), BF_FTP_REPLY_MAX bytes of reply text
 * per command.  After AUTH TLS succeeds, or after a gap, parsing stops.
 */
#ifndef BF_APP_FTP_FTP_H
#define BF_APP_FTP_FTP_H

#include "app/applayer.h"

#define BF_FTP_LINE_MAX 4096
#define BF_FTP_MAX_PENDING 32
#define BF_FTP_REPLY_MAX 8192
#define BF_FTP_REPLY_LINES 64
#define BF_FTP_USER_MAX 256

extern const bf_app_parser bf_parser_ftp;

typedef struct bf_ftp_tx {
    char cmd[16];              /* "" for an unsolicited reply (greeting) */
    uint8_t cmd_id;            /* internal command id */
    char *data;                /* command_data (heap) or NULL */
    uint16_t data_len;
    bool cmd_trunc;
    char *reply;               /* reply lines, each ending in '\n' (heap) */
    uint32_t reply_len, reply_cap;
    uint16_t nlines;
    bool reply_trunc;
    bool done;                 /* final reply received */
    bool active;               /* PORT/EPRT parsed */
    uint16_t dyn_port;
    uint16_t code;             /* last completion code, 0 if none */
    uint64_t tx_id;            /* EVE tx_id: order in the flow */
} bf_ftp_tx;

typedef struct bf_ftp_stats {
    uint64_t commands, replies, logins, truncated_lines, pending_drops;
} bf_ftp_stats;

typedef struct bf_ftp_state {
    uint8_t *lbuf[2];          /* partial line per direction (heap) */
    uint16_t llen[2];
    bool ltrunc[2];            /* current line truncated: skip to LF */
    bf_ftp_tx q[BF_FTP_MAX_PENDING];   /* ring of commands, oldest first */
    uint8_t qhead, qcnt;
    char multi[3];             /* code of an open multi-line reply */
    bool in_multi;
    char user[BF_FTP_USER_MAX];
    uint16_t user_len;
    bool have_user;
    bool stopped;              /* TLS or gap: no more parsing */
    uint64_t next_tx_id;
    bf_ftp_stats st;
} bf_ftp_state;

#endif
