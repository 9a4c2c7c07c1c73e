/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/smb_int.h: definitions shared by the files of the SMB analyzer
 * (smb.c: framing, tables, files, EVE, bus; smb2.c: SMB2/3 commands;
 * smb1.c: SMB1 commands; smb_util.c: helpers).  Not for other modules. */
#ifndef BF_APP_SMB_SMB_INT_H
#define BF_APP_SMB_SMB_INT_H

#include "app/smb/smb.h"

#include <openssl/evp.h>

/* Anomalies, named as Suricata's app-layer-event:smb.* */
#define SMB_EVENTS(X)                                                                             \
    X(internal_error) X(malformed_data) X(malformed_ntlmssp_request)                              \
    X(negotiate_malformed_dialects) X(negotiate_max_read_size_too_large)                          \
    X(negotiate_max_write_size_too_large) X(read_response_too_large) X(write_request_too_large)   \
    X(request_to_client) X(response_to_server) X(too_many_transactions) X(file_overlap)

enum smb_event {
#define X(n) SMB_EV_##n,
    SMB_EVENTS(X)
#undef X
    SMB_EV_MAX
};

#define SMB_MAX_RW (16u * 1024 * 1024)   /* larger READ / WRITE: anomaly */
#define BF_SMB_TX_DATA_MAX (64u * 1024)  /* file.data kept per file and direction */

enum { SMB2_NEGOTIATE = 0, SMB2_SESSION_SETUP, SMB2_LOGOFF, SMB2_TREE_CONNECT,
       SMB2_TREE_DISCONNECT, SMB2_CREATE, SMB2_CLOSE, SMB2_FLUSH, SMB2_READ, SMB2_WRITE,
       SMB2_LOCK, SMB2_IOCTL, SMB2_CANCEL, SMB2_ECHO, SMB2_QUERY_DIRECTORY, SMB2_CHANGE_NOTIFY,
       SMB2_QUERY_INFO, SMB2_SET_INFO, SMB2_OPLOCK_BREAK };

#define SMB2_FLAGS_RESPONSE 0x1u
#define SMB2_FLAGS_ASYNC 0x2u
#define SMB2_FLAGS_RELATED 0x4u
#define ST_SUCCESS 0u
#define ST_PENDING 0x103u
#define ST_MORE_PROCESSING 0xc0000016u
#define ST_BUFFER_OVERFLOW 0x80000005u

/* What a tx logs (type-specific part). */
enum smb_txtype { TX_GENERIC = 0, TX_NEGOTIATE, TX_SESSION, TX_TREE, TX_CREATE, TX_RENAME,
                  TX_DISPOSITION, TX_IOCTL };

/* A request awaiting its response (and, when logged, its EVE tx). */
typedef struct smb_req {
    uint64_t mid;
    uint16_t cmd;
    uint8_t ver;                 /* 1 or 2 */
    uint8_t txtype;
    bool has_tx, has_fid;
    uint64_t tx_id;              /* EVE smb.id (1-based) */
    uint64_t sid;
    uint32_t tid;
    uint8_t fid[16];
    char *name;                  /* create name, tree path, rename target,
                                  * query pattern (owned) */
    char *name2;                 /* rename: the old name (owned) */
    uint32_t disposition, access, options;
    uint64_t off;                /* READ / WRITE */
    uint32_t len;
    uint8_t info_type, info_class;
    bool del;                    /* disposition: delete pending */
    uint32_t ctl;                /* IOCTL code */
    /* negotiate */
    uint16_t dialects[BF_SMB_MAX_DIALECTS];
    uint8_t ndialects;
    char *dialects1;             /* SMB1: NUL-separated strings (owned) */
    uint32_t dialects1_len;
    uint8_t cguid[16], sguid[16];
    bool has_cguid, has_sguid;
    /* session setup */
    char *ntlm_user, *ntlm_domain, *ntlm_host;   /* owned */
    bool ntlm, krb;
    char *os[2], *lm[2];         /* SMB1 native OS / LM, request / response */
    char *svc[2];                /* SMB1 tree connect service */
    /* response */
    bool responded;
    uint32_t status;
    uint8_t share_type;
    bool is_pipe, directory;
    uint64_t times[4], size;     /* create: unix seconds; end of file */
    uint32_t action;
} smb_req;

/* One direction of data on a file: 0 written (to server), 1 read. */
typedef struct smb_xfer {
    bool active, gaps, sha_ok, logged, status_known;
    uint64_t size, next;
    EVP_MD_CTX *sha;
    uint64_t tx_id;
    uint32_t status;
    /* file.data for the signature engine (only with a BF_BUS_TX
     * subscriber): the first bytes, sequential from offset 0 */
    uint8_t *data;               /* BF_SMB_TX_DATA_MAX bytes, or NULL */
    uint32_t data_len;
    bool data_ok, data_new;
} smb_xfer;

typedef struct smb_file {
    uint8_t fid[16];
    uint8_t ver;                 /* 1: 2-byte SMB1 FID in fid[0..1] */
    uint64_t sid;
    uint32_t tid;
    char *name;                  /* owned, may be NULL (opened before capture) */
    uint32_t disposition, access, options, action;
    bool directory, doc, deleted;
    bool opened;                 /* its CREATE response was seen */
    smb_xfer x[2];
    uint64_t seq;                /* insertion order */
} smb_file;

typedef struct smb_tree {
    uint64_t sid;
    uint32_t tid;
    char *share;                 /* owned */
    uint8_t type;
    bool pipe;
} smb_tree;

typedef struct smb_sess {
    uint64_t sid;
    char *user;                  /* "DOMAIN\\user" (owned) or NULL */
    bool encrypted;
} smb_sess;

enum { M_HDR = 0, M_BUF, M_DATA, M_SKIP, M_RESYNC, M_DEAD };
enum { S_PROTO = 0, S_HDR2, S_WRITEHDR, S_WRITEDATA, S_READHDR, S_READDATA, S_FULL, S_XFORM };

/* The READ / WRITE being streamed (or handed whole from a buffered
 * message) in one direction. */
typedef struct smb_op {
    bool active, gap, from_zero;
    uint8_t ver;
    uint8_t fid[16];
    uint64_t sid;
    uint32_t tid;
    uint64_t off, got;
    uint32_t len;
    uint32_t sampled;
    uint16_t hist[256];
} smb_op;

typedef struct smb_dir {
    uint8_t mode, stage;
    uint8_t nb[4];
    uint8_t nblen;
    uint32_t msg_len, left;      /* NetBIOS message length, bytes still to come */
    uint8_t *buf;
    uint32_t blen, bcap, want;
    uint32_t data_left;
    smb_op op;
    uint8_t win[8];
    uint8_t wlen;
    uint64_t scanned;            /* resync bytes scanned */
} smb_dir;

typedef struct smb_state {
    smb_dir d[2];
    smb_req **req;
    uint32_t nreq, creq;
    smb_file **files;
    uint32_t nfiles, cfiles;
    uint64_t file_seq;
    smb_tree trees[BF_SMB_MAX_TREES];
    uint32_t ntrees;
    smb_sess sess[BF_SMB_MAX_SESSIONS];
    uint32_t nsess;
    uint64_t next_tx;            /* last tx id handed out */
    uint16_t dialect;            /* SMB2 dialect selected (0: none) */
    char *dialect1;              /* SMB1 dialect selected (owned) */
    uint32_t max_read, max_write;
    uint32_t ev_seen;
    bf_smb_counters cnt;
    size_t mem, mem_acct;
    bf_app_ctx *ctx;
    bf_flow *f;
    bf_packet *p;
    bool quiet;                  /* freeing: no BF_BUS_TX */
} smb_state;

/* smb.c */
void smb_event(smb_state *st, enum smb_event ev);
void *smb_alloc(smb_state *st, size_t n);
void smb_free(smb_state *st, void *p, size_t n);
char *smb_strdup(smb_state *st, const char *s, size_t n);
char *smb_u16dup(smb_state *st, const uint8_t *p, size_t n);  /* UTF-16LE */
void smb_strfree(smb_state *st, char **s);
smb_req *smb_req_new(smb_state *st, uint8_t ver, uint16_t cmd, uint64_t mid, bool tx);
smb_req *smb_req_find(smb_state *st, uint8_t ver, uint64_t mid, uint16_t cmd);
void smb_req_done(smb_state *st, smb_req *r);     /* logs (if tx) and frees */
smb_file *smb_file_find(smb_state *st, const uint8_t fid[16]);
smb_file *smb_file_add(smb_state *st, const uint8_t fid[16], uint8_t ver);
void smb_file_close(smb_state *st, smb_file *fl, bool closed);
/* A successful CLOSE of fid (SMB1 or SMB2): publishes the delete of a
 * delete-on-close document, then the close, and ends the file. */
void smb_file_closed(smb_state *st, const uint8_t fid[16], uint8_t version, uint64_t sid,
                     uint32_t tid);
smb_tree *smb_tree_find(smb_state *st, uint32_t tid);
void smb_tree_set(smb_state *st, uint64_t sid, uint32_t tid, const char *share, uint8_t type,
                  bool pipe);
void smb_tree_del(smb_state *st, uint32_t tid);
smb_sess *smb_sess_get(smb_state *st, uint64_t sid, bool create);
void smb_publish(smb_state *st, bf_smb_file_event *ev, const smb_file *fl);
void smb_login(smb_state *st, const smb_req *r, uint32_t status, uint64_t sid);
/* BF_BUS_TX for a command tx (nothing without a subscriber): dir 0 after
 * the request, both done when it is logged (response, flow end). */
void smb_tx_publish(smb_state *st, const smb_req *r, int dir, bool done0, bool done1);
/* data of READ / WRITE ops in direction dir */
void smb_op_begin(smb_state *st, int dir, uint8_t ver, const uint8_t fid[16], uint64_t sid,
                  uint32_t tid, uint64_t off, uint32_t len);
void smb_op_data(smb_state *st, int dir, const uint8_t *d, uint32_t n);
void smb_op_lost(smb_state *st, int dir, uint32_t n);
void smb_op_end(smb_state *st, int dir);
void smb_xfer_status(smb_state *st, const uint8_t fid[16], int dir, uint32_t status);

/* smb2.c: one buffered message (after the 4-byte NetBIOS header) */
void smb2_message(smb_state *st, int dir, const uint8_t *m, uint32_t n);
/* The head of a streamed WRITE request / READ response (header + fixed
 * part up to the data offset): sets up the op; returns the data bytes that
 * follow in the message (0: nothing to stream). */
uint32_t smb2_write_head(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len);
uint32_t smb2_read_head(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len);
void smb2_transform(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len);
/* smb1.c */
void smb1_message(smb_state *st, int dir, const uint8_t *m, uint32_t n);

/* smb_util.c */
size_t smb_ascii_copy(const uint8_t *p, size_t n, char *out, size_t cap, bool *cut);
bool smb_blob_is_kerberos(const uint8_t *p, size_t n);
bool smb_status_logon_failure(uint32_t st);
const char *smb2_command_name(uint16_t c, char *buf, size_t len);
const char *smb1_command_name(uint8_t c);
const char *smb2_dialect_name(uint16_t d);
const char *smb_fsctl_name(uint32_t c, char *buf, size_t len);
void smb_guid_str(char out[37], const uint8_t g[16]);
/* NTLMSSP AUTHENTICATE in a security blob -> r->ntlm_*; raises
 * malformed_ntlmssp_request when an AUTHENTICATE is malformed. */
void smb_parse_secblob(smb_state *st, smb_req *r, const uint8_t *p, size_t n);

static inline bool smb_rng(size_t avail, size_t off, size_t len)
{
    return off <= avail && len <= avail - off;
}

/* FILETIME (100 ns since 1601) -> unix seconds (0 when before 1970). */
static inline uint64_t smb_filetime(uint64_t ft)
{
    uint64_t s = ft / 10000000ULL;
    return s > 11644473600ULL ? s - 11644473600ULL : 0;
}

#endif
