/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/sig.h: the parsed form of a rule, shared by the parser
 * (detect/parse.c), the payload matcher (detect/match.c) and the detection
 * engine (detect/engine.c).  A bf_sig is immutable once loaded: workers read
 * it concurrently; everything per-packet or per-flow lives elsewhere.
 */
#ifndef BF_DETECT_SIG_H
#define BF_DETECT_SIG_H

#include "app/app.h"
#include "app/tx.h"
#include "common/bf.h"

/* Directions a buffer / rule applies to. */
enum { BF_DIR_TS = 1, BF_DIR_TC = 2, BF_DIR_BOTH = 3 };

enum bf_sig_action {
    BF_ACT_ALERT = 0,
    BF_ACT_PASS,
    BF_ACT_DROP,
    BF_ACT_REJECT,       /* reject, rejectsrc: drop + TCP RST / ICMP unreach to the source */
    BF_ACT_REJECTDST,
    BF_ACT_REJECTBOTH,
};

/* Protocol on the rule header: L3/L4, or an app protocol (then also the L4). */
enum bf_sig_proto {
    BF_SP_IP = 0,        /* ip, any: every IP packet */
    BF_SP_TCP,           /* tcp (both packet and stream) */
    BF_SP_TCP_PKT,       /* tcp-pkt: packet payload only */
    BF_SP_TCP_STREAM,    /* tcp-stream: stream data only */
    BF_SP_UDP,
    BF_SP_ICMP,          /* ICMPv4 */
    BF_SP_ICMPV6,
    BF_SP_SCTP,
    BF_SP_APP,           /* an app protocol (sig->app_proto), over tcp or udp */
};

/* ---------------------------------------------------------------- values */

/* An integer option that may name a byte_extract variable instead. */
typedef struct bf_num {
    int32_t v;
    int8_t var;          /* -1: use v; else index of a byte_extract variable */
} bf_num;

/* A comparison as in dsize:<10, ttl:1<>5, urilen:>3, bsize:!=4 ... */
enum bf_cmp_op { BF_CMP_EQ = 0, BF_CMP_NE, BF_CMP_LT, BF_CMP_LE, BF_CMP_GT, BF_CMP_GE,
                 BF_CMP_RANGE /* a < x < b (exclusive, as Suricata) */ };
typedef struct bf_cmp {
    uint8_t op;          /* enum bf_cmp_op */
    uint64_t a, b;
} bf_cmp;

static inline bool bf_cmp_eval(const bf_cmp *c, uint64_t x)
{
    switch (c->op) {
    case BF_CMP_EQ: return x == c->a;
    case BF_CMP_NE: return x != c->a;
    case BF_CMP_LT: return x < c->a;
    case BF_CMP_LE: return x <= c->a;
    case BF_CMP_GT: return x > c->a;
    case BF_CMP_GE: return x >= c->a;
    default: return x > c->a && x < c->b;
    }
}

/* ------------------------------------------------- addresses and ports */

/* A set of addresses as sorted, disjoint, inclusive intervals (negations,
 * groups and variables already resolved by the parser).  IPv4 addresses
 * are host-order uint32; IPv6 ones are bf_addr compared with bf_addr_cmp. */
typedef struct bf_ip4_range { uint32_t lo, hi; } bf_ip4_range;
typedef struct bf_ip6_range { bf_addr lo, hi; } bf_ip6_range;
typedef struct bf_ipset {
    bool any;            /* matches every address: the ranges are empty */
    uint32_t n4, n6;
    bf_ip4_range *r4;
    bf_ip6_range *r6;
} bf_ipset;

typedef struct bf_port_range { uint16_t lo, hi; } bf_port_range;
typedef struct bf_portset {
    bool any;
    uint32_t n;
    bf_port_range *r;    /* sorted, disjoint, inclusive */
} bf_portset;

/* ----------------------------------------------------- payload matches */

enum bf_sm_type {
    BF_SM_CONTENT = 0,
    BF_SM_PCRE,
    BF_SM_BYTE_TEST,
    BF_SM_BYTE_JUMP,
    BF_SM_BYTE_EXTRACT,
    BF_SM_BYTE_MATH,
    BF_SM_ISDATAAT,
    BF_SM_BSIZE,         /* buffer size compare (bsize; urilen on http.uri) */
    BF_SM_ABSENT,        /* the buffer is absent (absent keyword) */
};

/* bf_sm.flags */
enum {
    BF_SMF_NEGATED = 1u << 0,       /* content:!"..", pcre:!"..", isdataat:! */
    BF_SMF_NOCASE = 1u << 1,
    BF_SMF_RELATIVE = 1u << 2,      /* distance/within given, pcre /R,
                                     * byte_* relative, isdataat relative */
    BF_SMF_STARTSWITH = 1u << 3,
    BF_SMF_ENDSWITH = 1u << 4,
    BF_SMF_FAST_PATTERN = 1u << 5,  /* fast_pattern given explicitly */
    BF_SMF_FP_ONLY = 1u << 6,       /* fast_pattern:only (legacy) */
    BF_SMF_HAS_OFFSET = 1u << 7,
    BF_SMF_HAS_DEPTH = 1u << 8,
    BF_SMF_HAS_DISTANCE = 1u << 9,
    BF_SMF_HAS_WITHIN = 1u << 10,
};

/* byte_test / byte_jump / byte_extract / byte_math flags */
enum {
    BF_BYTE_BIG = 0,                /* default endianness */
    BF_BYTE_LITTLE = 1u << 0,
    BF_BYTE_STRING = 1u << 1,       /* ASCII number */
    BF_BYTE_HEX = 1u << 2,
    BF_BYTE_DEC = 1u << 3,
    BF_BYTE_OCT = 1u << 4,
    BF_BYTE_RELATIVE = 1u << 5,
    BF_BYTE_ALIGN = 1u << 6,        /* byte_jump align */
    BF_BYTE_FROM_BEGINNING = 1u << 7,
    BF_BYTE_FROM_END = 1u << 8,
    BF_BYTE_DCE = 1u << 9,
    BF_BYTE_BITMASK = 1u << 10,
    BF_BYTE_NEGATE = 1u << 11,      /* byte_test operator prefixed with ! */
};

enum bf_byte_op { BF_BOP_LT = 0, BF_BOP_GT, BF_BOP_LE, BF_BOP_GE, BF_BOP_EQ, BF_BOP_AND,
                  BF_BOP_OR, /* byte_math: */ BF_BOP_ADD, BF_BOP_SUB, BF_BOP_MUL, BF_BOP_DIV,
                  BF_BOP_SHL, BF_BOP_SHR };

/* pcre buffer flags that were not turned into a buffer (the buffer letter
 * flags /U /H /P ... select bf_sig_buf, so only these stay) */
typedef struct bf_sm {
    uint8_t type;        /* enum bf_sm_type */
    uint16_t flags;      /* BF_SMF_* */
    union {
        struct {
            uint8_t *pat;          /* raw bytes (escapes and |hex| decoded) */
            uint16_t len;
            bf_num offset, depth, distance, within;
            uint16_t fp_off, fp_len;   /* fast_pattern:<off>,<len> chop */
        } content;
        struct {
            void *code;            /* pcre2_code * (JIT compiled when possible) */
            uint32_t cflags;       /* pcre2 compile options used */
            bool has_capture;      /* captures into flowvar/pktvar (parsed, ignored) */
        } pcre;
        struct {
            uint8_t nbytes;        /* 1..10 (string) or 1,2,3,4,8 */
            uint8_t op;            /* enum bf_byte_op */
            uint16_t bflags;       /* BF_BYTE_* */
            bf_num value;          /* byte_test compare value / byte_math rvalue */
            bf_num offset;
            int32_t multiplier;    /* byte_jump multiplier (default 1) */
            int32_t post_offset;   /* byte_jump post_offset */
            uint32_t bitmask;
            int8_t var_out;        /* byte_extract / byte_math result variable */
        } byte;
        struct {
            bf_num offset;         /* isdataat */
        } isdataat;
        bf_cmp size;               /* bsize / urilen */
    };
} bf_sm;

/* Buffer transforms (applied in order before the matches). */
enum bf_xform {
    BF_XF_NONE = 0,
    BF_XF_TO_LOWER, BF_XF_TO_UPPER, BF_XF_STRIP_WHITESPACE, BF_XF_COMPRESS_WHITESPACE,
    BF_XF_DOTPREFIX, BF_XF_URL_DECODE, BF_XF_MD5, BF_XF_SHA1, BF_XF_SHA256,
    BF_XF_STRIP_PSEUDO_HEADERS, BF_XF_HEADER_LOWERCASE, BF_XF_XOR, BF_XF_FROM_BASE64,
};
#define BF_MAX_XFORMS 4

/* The matches a rule runs against one buffer, in rule order. */
typedef struct bf_sig_buf {
    uint16_t buf;        /* enum bf_dbuf_id */
    uint8_t nxf;
    uint8_t xf[BF_MAX_XFORMS];   /* enum bf_xform */
    uint8_t *xf_arg;     /* xor key (BF_XF_XOR), else NULL */
    uint16_t xf_arg_len;
    uint16_t nsm;
    bf_sm *sm;
} bf_sig_buf;

/* ---------------------------------------------------- packet keywords */

enum bf_pkw_type {
    BF_PK_DSIZE = 0,     /* cmp on payload length */
    BF_PK_TTL,
    BF_PK_TOS,
    BF_PK_IPID,
    BF_PK_IP_PROTO,      /* cmp on p->proto (ip_proto:6, ip_proto:!17, ip_proto:<10) */
    BF_PK_ITYPE,
    BF_PK_ICODE,
    BF_PK_ICMP_ID,
    BF_PK_ICMP_SEQ,
    BF_PK_TCP_FLAGS,     /* flags */
    BF_PK_TCP_SEQ,
    BF_PK_TCP_ACK,
    BF_PK_TCP_WINDOW,
    BF_PK_TCP_MSS,
    BF_PK_SAMEIP,
    BF_PK_FRAGBITS,
    BF_PK_FRAGOFFSET,
    BF_PK_IPOPTS,
    BF_PK_STREAM_SIZE,
    BF_PK_APP_LAYER_PROTO,  /* app-layer-protocol:[!]<name> (cmp.a = proto, EQ; negated) */
    BF_PK_DECODE_EVENT,     /* decode-event / stream-event / app-layer-event (cmp.a = event id) */
    BF_PK_TEMPLATE,
};

/* flags keyword: match when (tcp_flags & ~ignore) satisfies mode on mask */
enum bf_flags_mode { BF_FLAGS_EXACT = 0, BF_FLAGS_PLUS /* + : all of these and any other */,
                     BF_FLAGS_ANY /* * : any of these */, BF_FLAGS_NOT /* ! : none of these */ };

/* fragbits: bits of bf_pkw.flags.mask / ignore */
enum { BF_FRAGBIT_M = 1u << 0 /* more fragments */, BF_FRAGBIT_D = 1u << 1 /* don't fragment */,
       BF_FRAGBIT_R = 1u << 2 /* reserved */ };

/* ipopts: bf_pkw.cmp.a is the IPv4 option type (rr 7, eol 0, nop 1, ts 68,
 * sec 130, esec 133, lsrr 131, ssrr 137, satid 136), or BF_IPOPT_ANY */
#define BF_IPOPT_ANY 0x100

typedef struct bf_pkw {
    uint8_t type;        /* enum bf_pkw_type */
    bool negated;
    bf_cmp cmp;
    struct {
        uint8_t mask, ignore, mode;   /* flags / fragbits */
    } flags;
    uint8_t stream_dir;  /* stream_size: 0 server, 1 client, 2 both, 3 either */
} bf_pkw;

/* flow keyword bits (bf_sig.flow) */
enum {
    BF_FK_TO_SERVER = 1u << 0,     /* to_server / from_client */
    BF_FK_TO_CLIENT = 1u << 1,     /* to_client / from_server */
    BF_FK_ESTABLISHED = 1u << 2,
    BF_FK_NOT_ESTABLISHED = 1u << 3,
    BF_FK_STATELESS = 1u << 4,
    BF_FK_ONLY_STREAM = 1u << 5,
    BF_FK_NO_STREAM = 1u << 6,
    BF_FK_ONLY_FRAG = 1u << 7,
    BF_FK_NO_FRAG = 1u << 8,
};

/* ------------------------------------------------ flow state keywords */

enum bf_fb_op { BF_FB_SET = 0, BF_FB_UNSET, BF_FB_TOGGLE, BF_FB_ISSET, BF_FB_ISNOTSET };
typedef struct bf_flowbit_op {
    uint8_t op;          /* enum bf_fb_op */
    uint8_t nids;        /* isset a|b (OR) / set a&b: several bits */
    bool or_;            /* isset with '|': any of them */
    uint32_t ids[4];     /* indexes into the engine's flowbit name table */
} bf_flowbit_op;

enum bf_fi_op { BF_FI_SET = 0, BF_FI_ADD, BF_FI_SUB, BF_FI_ISSET, BF_FI_NOTSET,
                BF_FI_CMP /* cmp with value */ };
typedef struct bf_flowint_op {
    uint8_t op;          /* enum bf_fi_op */
    uint8_t cmp_op;      /* enum bf_cmp_op for BF_FI_CMP */
    uint32_t id;         /* flowint name index */
    int64_t value;
    int32_t value_var;   /* -1 or another flowint's index used as the value */
} bf_flowint_op;

enum bf_thr_type { BF_THR_NONE = 0, BF_THR_LIMIT, BF_THR_THRESHOLD, BF_THR_BOTH,
                   BF_THR_DETECTION_FILTER, BF_THR_SUPPRESS, BF_THR_BACKOFF, BF_THR_RATE };
enum bf_thr_track { BF_TRACK_SRC = 0, BF_TRACK_DST, BF_TRACK_RULE, BF_TRACK_BOTH,
                    BF_TRACK_FLOW, BF_TRACK_EITHER /* suppress only */ };
/* detection_filter unique_on (Suricata 8): count distinct ports */
enum { BF_THR_UNIQUE_NONE = 0, BF_THR_UNIQUE_SRC_PORT, BF_THR_UNIQUE_DST_PORT };
typedef struct bf_threshold {
    uint8_t type;        /* enum bf_thr_type */
    uint8_t track;       /* enum bf_thr_track */
    uint8_t unique_on;   /* detection_filter: BF_THR_UNIQUE_* */
    uint8_t new_action;  /* rate_filter: enum bf_sig_action */
    uint32_t count;
    uint32_t seconds;    /* 0 with backoff */
    uint32_t multiplier; /* backoff */
    uint32_t timeout;    /* rate_filter: seconds the new action lasts */
} bf_threshold;

/* --------------------------------------------------------------- rule */

/* bf_sig.flags */
enum {
    BF_SIG_NOALERT = 1u << 0,        /* flowbits:noalert / noalert */
    BF_SIG_BIDIR = 1u << 1,          /* <> */
    BF_SIG_IPONLY = 1u << 2,         /* only addresses/ports: no payload */
    BF_SIG_HAS_APP_BUF = 1u << 3,    /* inspects at least one app buffer */
    BF_SIG_NEEDS_PAYLOAD = 1u << 4,  /* content/pcre on PKT/STREAM */
    BF_SIG_FP_NEGATED = 1u << 5,     /* the fast pattern is a negated content */
    BF_SIG_PREFILTER = 1u << 6,      /* prefilter keyword */
    BF_SIG_FILESTORE = 1u << 7,
    BF_SIG_ICMP_BOTH = 1u << 8,      /* proto "icmp": BF_SP_ICMP that also matches ICMPv6 */
};

/* bf_sig.target (target keyword) */
enum { BF_TARGET_NONE = 0, BF_TARGET_SRC, BF_TARGET_DST };

typedef struct bf_sig_ref {
    char *system;
    char *id;
} bf_sig_ref;

typedef struct bf_sig_meta {
    char *key;
    char *value;
} bf_sig_meta;

typedef struct bf_sig {
    uint32_t idx;        /* position in the engine's table (set by the engine) */
    uint32_t sid, gid, rev;
    uint8_t action;      /* enum bf_sig_action */
    uint8_t proto;       /* enum bf_sig_proto */
    uint16_t app_proto;  /* BF_APP_* when proto == BF_SP_APP, else 0 */
    uint8_t app_l4;      /* for BF_SP_APP: 0 any, 6 tcp, 17 udp (e.g. "dns" rules) */
    uint32_t flags;      /* BF_SIG_* */
    int32_t prio;        /* priority (from classtype or priority:), 1 is highest */
    char *msg;
    char *classtype;     /* short name, or NULL */
    char *class_desc;    /* classification.config description (EVE "category") */
    uint32_t nrefs, nmeta;
    bf_sig_ref *refs;
    bf_sig_meta *meta;   /* metadata: key value pairs, in order */

    bf_ipset src, dst;
    bf_portset sp, dp;

    uint16_t flow;       /* BF_FLOW_* */
    uint8_t dirs;        /* BF_DIR_* the rule can match (from flow and buffers) */
    uint8_t target;      /* BF_TARGET_* */

    uint16_t npkw;
    bf_pkw *pkw;

    uint16_t nbufs;
    bf_sig_buf *bufs;    /* in rule order; a buffer may appear once */
    uint8_t nvars;       /* byte_extract / byte_math variables used */

    /* fast pattern chosen by the parser: bufs[fp_buf].sm[fp_sm], a content;
     * -1 when the rule has no content usable as one */
    int16_t fp_buf, fp_sm;

    uint8_t nfb, nfi;
    bf_flowbit_op *fb;   /* conditions (isset/isnotset) and actions (set...) */
    bf_flowint_op *fi;

    bf_threshold thr;    /* threshold / detection_filter (one of each kind max) */
    bf_threshold dfilter;

    char *file;          /* where it was loaded from (for reports) */
    uint32_t line;
    char *text;          /* the rule as written (for --test-rules, profiling) */
} bf_sig;

/* Frees everything a sig owns, and the sig. */
void bf_sig_free(bf_sig *s);

/* Address / port set lookups (sig.c). */
bool bf_ipset_match(const bf_ipset *s, const bf_addr *a, int ipver);
bool bf_portset_match(const bf_portset *s, uint16_t port);

#endif
