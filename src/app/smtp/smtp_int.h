/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smtp/smtp_int.h: state shared by smtp.c (commands, replies, EVE, bus)
 * and mime.c (message parsing).  Not for other modules: see smtp.h. */
#ifndef BF_APP_SMTP_SMTP_INT_H
#define BF_APP_SMTP_SMTP_INT_H

#include "app/smtp/smtp.h"

#include <openssl/evp.h>

#define SM_BOUNDARY_MAX 254       /* RFC 2046: 70; Suricata allows 254 */
#define SM_CTYPE_MAX 128
#define SM_TEXTLINE_MAX 2048      /* decoded text line scanned for URLs */
#define SM_TAG_MAX 1024           /* one HTML tag */
#define SM_MEM_SHA 512            /* one EVP_MD_CTX (estimate) */
#define SM_TX_DATA_MAX (64 * 1024)   /* file.data kept per attachment */

/* Anomalies, named as Suricata's smtp app-layer events. */
enum sm_event {
    EV_INVALID_REPLY = 0,
    EV_UNABLE_TO_MATCH_REPLY_WITH_REQUEST,
    EV_MAX_COMMAND_LINE_LEN_EXCEEDED,
    EV_MAX_REPLY_LINE_LEN_EXCEEDED,
    EV_INVALID_PIPELINED_SEQUENCE,
    EV_BDAT_CHUNK_LEN_EXCEEDED,
    EV_NO_SERVER_WELCOME_MESSAGE,
    EV_TLS_REJECTED,
    EV_DATA_COMMAND_REJECTED,
    EV_MIME_PARSE_FAILED,
    EV_MIME_MALFORMED_MSG,
    EV_MIME_INVALID_BASE64,
    EV_MIME_LONG_HEADER_NAME,
    EV_MIME_LONG_HEADER_VALUE,
    EV_MIME_INVALID_QP,
    EV_MIME_LONG_LINE,
    EV_MIME_LONG_ENC_LINE,
    EV_MIME_LONG_BOUNDARY,
    EV_MIME_LONG_FILENAME,
    EV_DUPLICATE_FIELDS,
    EV_UNPARSABLE_CONTENT,
    EV_INVALID_BDAT,
    EV_MAX
};

typedef struct sm_chunk {
    struct sm_chunk *next;
    uint32_t used, cap;
    char d[];
} sm_chunk;

/* One mail transaction. */
typedef struct sm_tx {
    uint64_t tx_id;
    sm_chunk *arena;            /* strings of this tx */
    uint32_t arena_mem;         /* bytes accounted for the arena */
    uint32_t str_dropped;       /* strings not kept: arena full */
    bf_smtp_str mail_from;
    bf_smtp_str rcpt[BF_SMTP_MAX_RCPT];
    uint32_t nrcpt, rcpt_dropped;
    bf_smtp_str from, from_dec, reply_to, return_path, subject, subject_dec;
    bf_smtp_str message_id, date, x_mailer, auth_results;
    bf_smtp_str to[BF_SMTP_MAX_ADDR], cc[BF_SMTP_MAX_ADDR];
    uint32_t nto, ncc, addr_dropped, received;
    bf_smtp_attachment att[BF_SMTP_MAX_ATT];
    bf_smtp_str att_eve_name[BF_SMTP_MAX_ATT];   /* as logged (Suricata's form) */
    bool att_gap[BF_SMTP_MAX_ATT];               /* its data had a gap */
    uint32_t natt, att_dropped;
    bf_smtp_url url[BF_SMTP_MAX_URL];
    uint32_t nurl, url_dropped;
    uint64_t msg_size;
    bool has_body;              /* DATA / BDAT started */
    bool body_done;             /* CRLF.CRLF / BDAT LAST seen */
    bool truncated;
    bool mime_error;
    const char *mime_status;    /* EVE email.status */
    /* file.data for the signature engine (only with a BF_BUS_TX
     * subscriber): the decoded head of each attachment */
    struct sm_fdata {
        uint8_t *p;
        uint32_t len, cap;
    } fdata[BF_SMTP_MAX_ATT];
    uint32_t nfdata;
    bool fdata_open;            /* fdata[nfdata - 1] is the open attachment's */
} sm_tx;

/* The attachment being decoded. */
typedef struct sm_file {
    bool open;
    bool gap;
    char name[BF_SMTP_NAME_MAX];
    uint16_t name_len;
    char ctype[SM_CTYPE_MAX];
    EVP_MD_CTX *sha;
    uint64_t size;
    uint8_t head[BF_SMTP_HEAD_MAX];
    uint16_t head_len;
    uint8_t iso[5];             /* bytes at 0x8001 (ISO9660 / UDF) */
    uint8_t iso_len;
} sm_file;

enum { MS_HEADERS = 0, MS_BODY, MS_SKIP };          /* sm_mime.state */
enum { ENC_NONE = 0, ENC_B64, ENC_QP };
enum { PK_IGNORE = 0, PK_TEXT, PK_HTML };           /* text kind of a part */

typedef struct sm_mime {
    uint8_t state;
    bool top;                   /* headers are the message's own */
    bool in_rfc822;             /* next headers: an encapsulated message */
    /* header being unfolded */
    char hdr[BF_SMTP_HDR_MAX];
    uint32_t hlen;
    bool have_hdr, hdr_trunc;
    /* current part, from its headers */
    char ctype[SM_CTYPE_MAX];   /* media type, lowercase */
    char pbound[SM_BOUNDARY_MAX + 1];
    uint16_t pblen;
    char fname[BF_SMTP_NAME_MAX];
    uint16_t fname_len;
    bool has_fname, disp_attach, fname_trunc;
    uint8_t enc, penc;          /* encoding of the body, of the headers read */
    uint8_t kind;
    /* boundaries, outermost first */
    char bnd[BF_SMTP_MIME_DEPTH][SM_BOUNDARY_MAX + 1];
    uint16_t blen[BF_SMTP_MIME_DEPTH];
    uint8_t depth;
    /* decoding */
    uint8_t quad[4], nq;        /* base64 pending */
    uint8_t qp[3], nqp;         /* '=' and up to 2 chars pending */
    uint8_t peol;               /* raw parts: line end held back (1 LF, 2 CRLF) */
    uint32_t line_len;          /* length of the current body line so far */
    sm_file file;
    /* text scanning */
    char tline[SM_TEXTLINE_MAX];
    uint32_t tlen;
    char tag[SM_TAG_MAX];
    uint32_t taglen;
    bool in_tag, tag_trunc, in_anchor;
    char href[BF_SMTP_URL_MAX];
    uint32_t hreflen;
    char atext[BF_SMTP_LINKTEXT_MAX];
    uint32_t atlen;
    bool at_space;
    uint8_t skip_tag;           /* inside <script> (1) / <style> (2) */
} sm_mime;

typedef struct sm_split {
    uint8_t *buf;
    uint16_t len;
    bool cont;                  /* the next piece continues a long line */
    bool dropping;              /* command lines: drop up to the LF */
} sm_split;

typedef struct smtp_state {
    /* call context, set on every entry */
    bf_app_ctx *ctx;
    bf_flow *f;
    bf_packet *p;
    int64_t mem;
    sm_split sp[2];             /* command lines, reply lines */
    sm_split body;              /* DATA / BDAT body lines */
    uint8_t q[BF_SMTP_MAX_PENDING];   /* ring of commands awaiting a reply */
    uint8_t qhead, qcnt;
    char multi[3];
    bool in_multi;
    uint16_t reply_code;        /* first code of the reply being read */
    uint8_t mode;               /* client side: command, data, bdat, auth */
    uint64_t bdat_left;
    bool bdat_last;
    char helo[256];
    uint16_t helo_len;
    bool have_helo;
    /* AUTH */
    char auth_mech[32];
    char auth_user[256];
    uint16_t auth_user_len;
    bool auth_have_user, authenticated, auth_open;
    uint8_t auth_step;          /* client lines of the exchange so far */
    uint32_t auth_attempts;
    sm_tx *tx;                  /* the mail being sent */
    sm_tx *done_tx;             /* body ended, waiting for its reply */
    bool any_tx;
    uint64_t next_tx_id;
    uint8_t pdir;               /* direction being parsed */
    sm_mime *mime;
    bool stopped, greeting_seen, data_refused_pending;
    uint32_t ev_seen;
    uint32_t nanom;
    struct {
        uint64_t commands, replies, mails, attachments, urls, logins, drops;
    } st;
} smtp_state;

/* smtp.c services for mime.c */
void sm_mem(smtp_state *s, int64_t d);
void sm_event(smtp_state *s, enum sm_event ev);
/* A copy of n bytes in the tx arena (NUL-terminated); {NULL,0} when full. */
bf_smtp_str sm_strdup(smtp_state *s, sm_tx *t, const void *p, size_t n);
/* An attachment was closed: logged as fileinfo, kept for the mail event. */
void sm_file_closed(smtp_state *s, sm_tx *t, sm_file *fi, bool complete);
/* Decoded bytes of the open attachment (kept for file.data when wanted). */
void sm_file_bytes(smtp_state *s, sm_tx *t, const uint8_t *d, size_t n);
/* Decoded head -> type name; flags for the attachment. */
const char *sm_detect_type(const sm_file *fi, const char *ext);
/* BF_SMTP_ATT_* from the name, its lowercase last extension and the type. */
uint32_t sm_att_flags(const char *name, size_t nlen, const char *ext, const char *det);

/* mime.c */
sm_mime *sm_mime_new(smtp_state *s);
/* One body piece: bol = starts a line, eol = ends it (crlf: with CR). */
void sm_mime_line(smtp_state *s, sm_tx *t, const uint8_t *l, size_t n, bool bol, bool eol,
                  bool crlf);
/* The body ended (complete = at its normal end); closes what is open. */
void sm_mime_end(smtp_state *s, sm_tx *t, bool complete);
void sm_mime_free(smtp_state *s, sm_mime *m);
/* RFC 2047 decoding of a header value into out (cap), returns the length. */
size_t sm_decode_2047(const char *in, size_t n, char *out, size_t cap);
/* Lowercase host of a URL (after "scheme://" or from "www."), into out. */
size_t sm_url_host(const char *u, size_t n, char *out, size_t cap);

#endif
