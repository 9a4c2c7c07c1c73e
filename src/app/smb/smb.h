/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/ owns the SMB analyzer (bf_parser_smb for BF_APP_SMB): NetBIOS
 * session framing per direction, SMB2/3 in depth (compound chains,
 * request/response matching by message id, NEGOTIATE, SESSION_SETUP with
 * NTLMSSP inside SPNEGO, TREE_CONNECT, CREATE, CLOSE, READ, WRITE, SET_INFO
 * rename / delete, QUERY_DIRECTORY, IOCTL, the \xfdSMB transform header of
 * encrypted messages), SMB1 recognised (command names, negotiate, session
 * setup, tree connect), the EVE `smb` and `fileinfo` events (Suricata's field
 * names), SMB anomaly events (Suricata's smb-events names), BF_BUS_LOGIN
 * (service "smb") and the BF_BUS_SMB_FILE payload defined below.
 *
 * READ / WRITE data is never buffered: the header and fixed part of the
 * message are, the data is streamed to per-file counters, SHA-256 (sequential
 * transfers from offset 0 only) and an entropy sample.  Every table is capped
 * (BF_SMB_MAX_*) and what a cap drops is counted (bf_smb_counters).  After a
 * gap the analyzer resynchronises on the next NetBIOS header followed by
 * \xfeSMB / \xffSMB / \xfdSMB, or gives up on the direction after
 * BF_SMB_RESYNC_MAX bytes.
 */
#ifndef BF_APP_SMB_SMB_H
#define BF_APP_SMB_SMB_H

#include "app/applayer.h"

extern const bf_app_parser bf_parser_smb;

#define BF_SMB_BUF_MAX (64u * 1024)     /* message bytes buffered (not R/W data) */
#define BF_SMB_MAX_PENDING 256          /* requests awaiting a response */
#define BF_SMB_MAX_FILES 4096           /* file ids known per flow */
#define BF_SMB_MAX_TREES 64
#define BF_SMB_MAX_SESSIONS 16
#define BF_SMB_MAX_CHAIN 32             /* commands in one compound message */
#define BF_SMB_MAX_DIALECTS 16          /* client dialects kept */
#define BF_SMB_NAME_MAX 1024            /* UTF-8 bytes kept of a name / path */
#define BF_SMB_ENTROPY_SAMPLE 4096      /* bytes of each write sampled */
#define BF_SMB_RESYNC_MAX (1024u * 1024)

/* BF_BUS_SMB_FILE payload: one message per file operation (and per tree
 * connect / session setup, so a detector sees who and where).  Strings are
 * NUL-terminated UTF-8 (converted from UTF-16LE, NUL code points dropped),
 * NULL when unknown, and valid only during the callback. */
enum bf_smb_op {
    BF_SMB_OP_OPEN = 0,      /* CREATE that opened an existing file */
    BF_SMB_OP_CREATE,        /* CREATE that created / overwrote / superseded */
    BF_SMB_OP_READ,          /* one READ response's data, once received */
    BF_SMB_OP_WRITE,         /* one WRITE request's data, once received */
    BF_SMB_OP_RENAME,        /* SET_INFO FileRenameInformation */
    BF_SMB_OP_DELETE,        /* SET_INFO FileDisposition(Ex), or a close of
                              * a file opened DELETE_ON_CLOSE */
    BF_SMB_OP_CLOSE,
    BF_SMB_OP_TREE_CONNECT,  /* share set, name NULL */
    BF_SMB_OP_SESSION,       /* session setup completed; user set */
};

typedef struct bf_smb_file_event {
    enum bf_smb_op op;
    uint8_t version;             /* 1: SMB1, 2: SMB2/3 */
    uint32_t status;             /* NT status of the response (0 when
                                  * !status_known: WRITE before its response) */
    bool status_known;
    uint64_t session_id;
    uint32_t tree_id;
    const char *user;            /* "DOMAIN\\user" of the session, or NULL */
    const char *share;           /* "\\\\server\\share", or NULL */
    bool is_pipe;                /* the share is IPC$ (named pipes) */
    const char *name;            /* file name relative to the share */
    const char *new_name;        /* RENAME: the new name */
    uint8_t fid[16];             /* SMB2 FileId (persistent, volatile) */
    uint64_t offset;             /* READ / WRITE */
    uint32_t length;             /* READ / WRITE: data bytes of this op */
    uint64_t bytes_read;         /* so far for this file id (this flow) */
    uint64_t bytes_written;
    uint32_t disposition;        /* CREATE: FILE_SUPERSEDE(0) .. OVERWRITE_IF(5) */
    uint32_t access;             /* CREATE: desired access mask */
    uint32_t create_options;     /* CREATE */
    uint32_t create_action;      /* CREATE response: 0 superseded, 1 opened,
                                  * 2 created, 3 overwritten */
    bool directory;
    bool delete_on_close;
    bool from_zero;              /* WRITE: starts at offset 0 */
    bool overwrite;              /* WRITE: from_zero on a file that existed
                                  * (opened / overwritten / superseded) */
    double entropy;              /* WRITE / READ: Shannon entropy (bits per
                                  * byte, 0..8) of the first sampled bytes */
    uint32_t entropy_bytes;      /* bytes sampled (<= BF_SMB_ENTROPY_SAMPLE) */
    bool encrypted;              /* the session is encrypted (SMB3) */
    bool gap;                    /* data of this op was lost to a gap */
} bf_smb_file_event;

/* Per-flow counters (what caps dropped, what was skipped). */
typedef struct bf_smb_counters {
    uint64_t messages[2];        /* NetBIOS session messages per direction */
    uint64_t smb1, smb2, transform;
    uint64_t encrypted_bytes[2]; /* bytes of \xfdSMB messages per direction */
    uint64_t data_bytes[2];      /* READ / WRITE data streamed */
    uint64_t truncated;          /* messages over BF_SMB_BUF_MAX (tail dropped) */
    uint64_t pending_dropped, files_dropped, trees_dropped, sessions_dropped;
    uint64_t names_truncated, dialects_dropped, chain_dropped;
    uint64_t resyncs, gave_up, lost_bytes;
    uint64_t pipe_transceive;    /* DCERPC over FSCTL_PIPE_TRANSCEIVE */
    uint64_t anomalies, anomalies_suppressed;
} bf_smb_counters;

const bf_smb_counters *bf_smb_state_counters(const void *st);

/* Helpers exposed for unit tests. */
/* UTF-16LE -> UTF-8 (NUL code points dropped, bad surrogates -> U+FFFD),
 * NUL-terminated, at most cap - 1 bytes; *cut set when truncated. */
size_t bf_smb_utf16_to_utf8(const uint8_t *p, size_t n, char *out, size_t cap, bool *cut);
/* Finds an NTLMSSP message inside a GSS-API / SPNEGO blob (or raw).
 * Returns its start (and *len) or NULL. */
const uint8_t *bf_smb_find_ntlmssp(const uint8_t *p, size_t n, size_t *len);
/* Shannon entropy (bits per byte) of a byte histogram of n bytes. */
double bf_smb_entropy(const uint32_t hist[256], uint32_t n);
/* "STATUS_SUCCESS", ... or NULL for an unknown NT status. */
const char *bf_smb_ntstatus_name(uint32_t st);

#endif
