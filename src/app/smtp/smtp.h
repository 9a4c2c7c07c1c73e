/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smtp/ owns the SMTP analyzer (BF_APP_SMTP) and its MIME parser, the
 * feed of the phishing detector:
 *
 *  - smtp.c: the command / reply state machine of both directions: greeting,
 *    HELO/EHLO, MAIL FROM, RCPT TO, DATA (354, body up to CRLF.CRLF with
 *    dot-unstuffing), BDAT (CHUNKING), RSET, QUIT, STARTTLS (parsing stops
 *    once the server answers 220), AUTH (mechanism, user name when visible,
 *    outcome 235 / 535), multi-line replies, pipelining (a ring of commands
 *    waiting for their reply).  EVE `smtp` events (Suricata's smtp + email
 *    objects), `fileinfo` events per attachment, `anomaly` events with
 *    Suricata's smtp app-layer event names.  Publishes BF_BUS_LOGIN
 *    (service "smtp") per AUTH exchange and BF_BUS_SMTP_MAIL per mail.
 *  - mime.c: a streaming MIME parser fed with body lines: message and part
 *    headers (folding, RFC 2047 encoded-words, RFC 2231 parameters),
 *    multipart nesting up to BF_SMTP_MIME_DEPTH, base64 and quoted-printable
 *    decoded incrementally (attachments are never buffered: they stream to
 *    sha256, a size counter and a BF_SMTP_HEAD_MAX head for magic bytes),
 *    URLs of text parts and the visible text of HTML <a href> links (a small
 *    tolerant tag scanner).
 *  - smtp_int.h: internal state shared by the two.
 *
 * Every string and list is capped (drops are counted); per-flow memory is
 * accounted with bf_flow_mem_adjust and returns to 0 at state_free.  After a
 * gap, or once TLS starts, nothing more is parsed.
 */
#ifndef BF_APP_SMTP_SMTP_H
#define BF_APP_SMTP_SMTP_H

#include "app/applayer.h"

#define BF_SMTP_LINE_MAX 4096      /* command / reply / body line piece */
#define BF_SMTP_MAX_PENDING 64     /* commands waiting for their reply */
#define BF_SMTP_MAX_RCPT 64        /* RCPT TO kept per mail */
#define BF_SMTP_MAX_ATT 32         /* attachments kept per mail */
#define BF_SMTP_MAX_URL 64         /* URLs kept per mail */
#define BF_SMTP_MAX_ADDR 64        /* To / Cc entries kept per mail */
#define BF_SMTP_MIME_DEPTH 8       /* multipart nesting */
#define BF_SMTP_HEAD_MAX 512       /* decoded head of an attachment kept */
#define BF_SMTP_HDR_MAX 8192       /* one (unfolded) header value */
#define BF_SMTP_URL_MAX 1024       /* one URL (longer: truncated) */
#define BF_SMTP_LINKTEXT_MAX 256   /* visible text of one <a> link */
#define BF_SMTP_NAME_MAX 512       /* attachment file name */
#define BF_SMTP_TX_MEM_MAX (128 * 1024)   /* strings kept per mail */

extern const bf_app_parser bf_parser_smtp;

/* A string of the event: NUL-terminated, len bytes (may hold any byte but
 * NUL); {NULL, 0} when absent. */
typedef struct bf_smtp_str {
    const char *ptr;
    uint32_t len;
} bf_smtp_str;

/* Attachment flags (bf_smtp_attachment.flags). */
enum {
    BF_SMTP_ATT_EXECUTABLE = 1u << 0,   /* PE / ELF / script / LNK / HTA ... */
    BF_SMTP_ATT_MACRO_CAPABLE = 1u << 1, /* OLE2 (doc/xls) or OOXML with macros (docm) */
    BF_SMTP_ATT_DOUBLE_EXT = 1u << 2,   /* "facture.pdf.exe" */
    BF_SMTP_ATT_EXT_MISMATCH = 1u << 3, /* extension says one type, bytes another */
    BF_SMTP_ATT_DISK_IMAGE = 1u << 4,   /* ISO9660 / UDF / .img / .vhd */
    BF_SMTP_ATT_ARCHIVE = 1u << 5,      /* zip / rar / 7z / gz */
    BF_SMTP_ATT_TRUNCATED = 1u << 6,    /* not seen to its end (gap, cut) */
};

typedef struct bf_smtp_attachment {
    bf_smtp_str name;        /* file name, RFC 2231 / 2047 decoded; may be empty */
    bf_smtp_str ctype;       /* declared Content-Type media type, lowercase */
    const char *detected;    /* from the bytes: "pe", "elf", "zip", "docx",
                              * "xlsx", "pptx", "ooxml", "jar", "pdf", "ole2",
                              * "rtf", "iso9660", "udf", "lnk", "rar", "7z",
                              * "gzip", "html", "text" or "unknown" (static) */
    const char *ext;         /* lowercase last extension of name ("exe"), "" if none (static or in name) */
    uint64_t size;           /* decoded size */
    uint8_t sha256[32];
    bool have_sha256;        /* false when truncated */
    bool dangerous;          /* worth a look: executable, script, disk image,
                              * macros, double extension or mismatch */
    uint32_t flags;          /* BF_SMTP_ATT_* */
} bf_smtp_attachment;

typedef struct bf_smtp_url {
    bf_smtp_str url;         /* as written (entities &amp; decoded in HTML) */
    bf_smtp_str host;        /* lowercase host of url (userinfo and port removed) */
    bf_smtp_str text;        /* visible text of the <a> link, whitespace
                              * collapsed; {NULL,0} outside a link */
    bf_smtp_str text_host;   /* host named by the text when it looks like a
                              * URL or a domain, else {NULL,0} */
    bool html;               /* found in an HTML part */
    bool text_mismatch;      /* text_host set and differs from host (ignoring
                              * a leading "www.") */
} bf_smtp_url;

enum bf_smtp_mail_status {
    BF_SMTP_MAIL_COMPLETE = 0,   /* body ended (CRLF.CRLF / BDAT LAST) */
    BF_SMTP_MAIL_NO_BODY,        /* envelope only (RSET, QUIT, flow end) */
    BF_SMTP_MAIL_TRUNCATED,      /* body cut (gap, flow end, DATA refused) */
};

/* Payload of BF_BUS_SMTP_MAIL: one per mail transaction (MAIL FROM ... end
 * of body, or an envelope ended by RSET / flow end), published once the
 * server answered the end of the body (or at flow end).  Client is
 * f->addr[0], server f->addr[1].  Header fields are the first occurrence,
 * unfolded; *_decoded have RFC 2047 encoded-words decoded to UTF-8 (ISO-8859-1
 * and windows-1252 converted, other charsets passed through).  All pointers
 * are valid only during the callback. */
typedef struct bf_smtp_mail_event {
    /* envelope */
    bf_smtp_str helo;
    bf_smtp_str mail_from;            /* as Suricata: "<a@b>" token */
    const bf_smtp_str *rcpt;          /* rcpt[0 .. nrcpt) */
    uint32_t nrcpt, rcpt_dropped;
    /* headers */
    bf_smtp_str from, from_decoded, reply_to, return_path;
    const bf_smtp_str *to;            /* each address of To: */
    uint32_t nto;
    const bf_smtp_str *cc;
    uint32_t ncc, addr_dropped;
    bf_smtp_str subject, subject_decoded;
    bf_smtp_str message_id, date, x_mailer, auth_results;
    uint32_t received_count;          /* Received: headers */
    /* content */
    const bf_smtp_attachment *att;
    uint32_t natt, att_dropped;
    const bf_smtp_url *urls;
    uint32_t nurl, url_dropped;
    uint64_t msg_size;                /* body bytes after dot-unstuffing */
    enum bf_smtp_mail_status status;
    bool mime_error;                  /* a MIME anomaly was raised */
    /* session */
    bool authenticated;               /* an AUTH succeeded before this mail */
    const char *auth_mech;            /* "PLAIN", "LOGIN", ... or NULL */
    bf_smtp_str auth_user;            /* when visible (PLAIN / LOGIN) */
    uint64_t tx_id;                   /* EVE tx_id of the smtp event */
} bf_smtp_mail_event;

#endif
