/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/parse.c: Suricata rules -> bf_sig.
 *
 * A rule is copied into a scratch buffer and cut in place: the header
 * (action, protocol, addresses, ports, direction) then the options, each
 * "name[:value];" with '\' escaping ';'.  Options are applied in order to a
 * small state: the current sticky buffer, the last content (for nocase,
 * depth, distance, fast_pattern... and the legacy http_* modifiers that
 * move it to another buffer), the byte_extract variable names.  Every
 * failure sets a message and a short reason; nothing is assumed about the
 * input (the fuzzer feeds arbitrary bytes).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "detect/parse_int.h"

#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/events.h"

#define MAX_RULE_LEN (1u << 20)
#define MAX_VARS 16

/* ------------------------------------------------------------- names */

uint32_t bf_names_intern(bf_names *t, const char *name)
{
    int64_t i = bf_names_find(t, name);
    if (i >= 0)
        return (uint32_t)i;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->names, nc * sizeof(*n));
        if (!n)
            abort();
        t->names = n;
        t->cap = nc;
    }
    t->names[t->n] = strdup(name);
    if (!t->names[t->n])
        abort();
    return t->n++;
}

int64_t bf_names_find(const bf_names *t, const char *name)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    return -1;
}

void bf_names_free(bf_names *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    memset(t, 0, sizeof(*t));
}

/* ---------------------------------------------------- context, vars */

static const struct { const char *name, *value; } addr_defaults[] = {
    {"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
    {"EXTERNAL_NET", "!$HOME_NET"},
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"AIM_SERVERS", "$EXTERNAL_NET"},
    {"DC_SERVERS", "$HOME_NET"},
    {"DNP3_SERVER", "$HOME_NET"},
    {"DNP3_CLIENT", "$HOME_NET"},
    {"MODBUS_CLIENT", "$HOME_NET"},
    {"MODBUS_SERVER", "$HOME_NET"},
    {"ENIP_CLIENT", "$HOME_NET"},
    {"ENIP_SERVER", "$HOME_NET"},
};
static const struct { const char *name, *value; } port_defaults[] = {
    {"HTTP_PORTS", "80"},        {"SHELLCODE_PORTS", "!80"},
    {"ORACLE_PORTS", "1521"},    {"SSH_PORTS", "22"},
    {"DNP3_PORTS", "20000"},     {"MODBUS_PORTS", "502"},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
    {"FTP_PORTS", "21"},         {"GENEVE_PORTS", "6081"},
    {"VXLAN_PORTS", "4789"},     {"TEREDO_PORTS", "3544"},
};

static void set_var(bf_names *n, char ***vals, const char *name, const char *value)
{
    uint32_t before = n->n;
    uint32_t id = bf_names_intern(n, name);
    if (n->n != before) {
        char **v = realloc(*vals, n->cap * sizeof(char *));
        if (!v)
            abort();
        *vals = v;
        (*vals)[id] = NULL;
    }
    free((*vals)[id]);
    (*vals)[id] = strdup(value ? value : "");
}

static void cfg_addr(void *ud, const char *name, const char *value)
{
    bf_parse_ctx *c = ud;
    if (value)
        set_var(&c->addr_var_names, &c->addr_var_values, name, value);
}
static void cfg_port(void *ud, const char *name, const char *value)
{
    bf_parse_ctx *c = ud;
    if (value)
        set_var(&c->port_var_names, &c->port_var_values, name, value);
}

bool bf_parse_ctx_init(bf_parse_ctx *c, bf_config *cfg, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof addr_defaults / sizeof addr_defaults[0]; i++)
        set_var(&c->addr_var_names, &c->addr_var_values, addr_defaults[i].name,
                addr_defaults[i].value);
    for (size_t i = 0; i < sizeof port_defaults / sizeof port_defaults[0]; i++)
        set_var(&c->port_var_names, &c->port_var_values, port_defaults[i].name,
                port_defaults[i].value);
    if (cfg) {
        bf_config_children(cfg, "vars.address-groups", cfg_addr, c);
        bf_config_children(cfg, "vars.port-groups", cfg_port, c);
    }
    char e[256];
    for (uint32_t i = 0; i < c->addr_var_names.n; i++) {
        bf_ipset s;
        if (!bf_parse_addr_set(c, c->addr_var_values[i], &s, e, sizeof e)) {
            snprintf(err, errlen, "vars.address-groups.%s: '%s': %s", c->addr_var_names.names[i],
                     c->addr_var_values[i], e);
            return false;
        }
        free(s.r4);
        free(s.r6);
    }
    for (uint32_t i = 0; i < c->port_var_names.n; i++) {
        bf_portset s;
        if (!bf_parse_port_set(c, c->port_var_values[i], &s, e, sizeof e)) {
            snprintf(err, errlen, "vars.port-groups.%s: '%s': %s", c->port_var_names.names[i],
                     c->port_var_values[i], e);
            return false;
        }
        free(s.r);
    }
    return true;
}

static const bf_classtype builtin_classes[] = {
    {"not-suspicious", "Not Suspicious Traffic", 3},
    {"unknown", "Unknown Traffic", 3},
    {"bad-unknown", "Potentially Bad Traffic", 2},
    {"attempted-recon", "Attempted Information Leak", 2},
    {"successful-recon-limited", "Information Leak", 2},
    {"successful-recon-largescale", "Large Scale Information Leak", 2},
    {"attempted-dos", "Attempted Denial of Service", 2},
    {"successful-dos", "Denial of Service", 2},
    {"attempted-user", "Attempted User Privilege Gain", 1},
    {"unsuccessful-user", "Unsuccessful User Privilege Gain", 1},
    {"successful-user", "Successful User Privilege Gain", 1},
    {"attempted-admin", "Attempted Administrator Privilege Gain", 1},
    {"successful-admin", "Successful Administrator Privilege Gain", 1},
    {"rpc-portmap-decode", "Decode of an RPC Query", 2},
    {"shellcode-detect", "Executable Code was Detected", 1},
    {"string-detect", "A Suspicious String was Detected", 3},
    {"suspicious-filename-detect", "A Suspicious Filename was Detected", 2},
    {"suspicious-login", "An Attempted Login Using a Suspicious Username was Detected", 2},
    {"system-call-detect", "A System Call was Detected", 2},
    {"tcp-connection", "A TCP Connection was Detected", 4},
    {"trojan-activity", "A Network Trojan was Detected", 1},
    {"unusual-client-port-connection", "A Client was Using an Unusual Port", 2},
    {"network-scan", "Detection of a Network Scan", 3},
    {"denial-of-service", "Detection of a Denial of Service Attack", 2},
    {"non-standard-protocol", "Detection of a Non-Standard Protocol or Event", 2},
    {"protocol-command-decode", "Generic Protocol Command Decode", 3},
    {"web-application-activity", "Access to a Potentially Vulnerable Web Application", 2},
    {"web-application-attack", "Web Application Attack", 1},
    {"misc-activity", "Misc activity", 3},
    {"misc-attack", "Misc Attack", 2},
    {"icmp-event", "Generic ICMP event", 3},
    {"inappropriate-content", "Inappropriate Content was Detected", 1},
    {"policy-violation", "Potential Corporate Privacy Violation", 1},
    {"default-login-attempt", "Attempt to Login By a Default Username and Password", 2},
    {"targeted-activity", "Targeted Malicious Activity was Detected", 1},
    {"exploit-kit", "Exploit Kit Activity Detected", 1},
    {"external-ip-check", "Device Retrieving External IP Address Detected", 2},
    {"domain-c2", "Domain Observed Used for C2 Detected", 1},
    {"pup-activity", "Possibly Unwanted Program Detected", 2},
    {"credential-theft", "Successful Credential Theft Detected", 1},
    {"social-engineering", "Possible Social Engineering Attempted", 2},
    {"coin-mining", "Crypto Currency Mining Activity Detected", 2},
    {"command-and-control", "Malware Command and Control Activity Detected", 1},
};

static void classes_free(bf_parse_ctx *c)
{
    for (uint32_t i = 0; i < c->nclasses; i++) {
        free(c->classes[i].name);
        free(c->classes[i].desc);
    }
    free(c->classes);
    c->classes = NULL;
    c->nclasses = 0;
}

static char *trim_str(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

bool bf_parse_ctx_load_classification(bf_parse_ctx *c, const char *path, char *err,
                                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    classes_free(c);
    char line[1024];
    uint32_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *l = trim_str(line);
        if (strncmp(l, "config classification:", 22) != 0)
            continue;
        l += 22;
        char *c1 = strchr(l, ','), *c2 = c1 ? strrchr(c1 + 1, ',') : NULL;
        if (!c1 || !c2)
            continue;
        *c1 = *c2 = 0;
        char *name = trim_str(l), *desc = trim_str(c1 + 1), *prio = trim_str(c2 + 1);
        if (c->nclasses == cap) {
            cap = cap ? cap * 2 : 64;
            bf_classtype *n = realloc(c->classes, cap * sizeof(*n));
            if (!n)
                abort();
            c->classes = n;
        }
        bf_classtype *ct = &c->classes[c->nclasses++];
        ct->name = strdup(name);
        ct->desc = strdup(desc);
        ct->prio = atoi(prio);
    }
    fclose(f);
    return true;
}

void bf_parse_ctx_free(bf_parse_ctx *c)
{
    for (uint32_t i = 0; i < c->addr_var_names.n; i++)
        free(c->addr_var_values[i]);
    for (uint32_t i = 0; i < c->port_var_names.n; i++)
        free(c->port_var_values[i]);
    free(c->addr_var_values);
    free(c->port_var_values);
    bf_names_free(&c->addr_var_names);
    bf_names_free(&c->port_var_names);
    classes_free(c);
    bf_names_free(&c->flowbits);
    bf_names_free(&c->flowints);
    memset(c, 0, sizeof(*c));
}

const char *bf_sig_action_name(uint8_t action)
{
    static const char *n[] = {"alert", "pass", "drop", "reject", "rejectdst", "rejectboth"};
    return action < sizeof n / sizeof n[0] ? n[action] : "?";
}

/* ------------------------------------------------------------ buffers */

static const struct {
    const char *kw, *legacy;
    uint16_t app;
    uint8_t dirs;
} dbufs[BF_DBUF_MAX] = {
#define X(id, kw, legacy, app, dirs, multi) {kw, legacy, app, dirs},
#include "detect/buffers.def"
#undef X
};

static const struct { const char *kw; int id; } sticky_alias[] = {
    {"file_data", BF_DBUF_FILE_DATA},
    {"http_request_line", BF_DBUF_HTTP_REQUEST_LINE},
    {"http_response_line", BF_DBUF_HTTP_RESPONSE_LINE},
    {"http_header_names", BF_DBUF_HTTP_HEADER_NAMES},
    {"http_accept", BF_DBUF_HTTP_ACCEPT},
    {"http_accept_enc", BF_DBUF_HTTP_ACCEPT_ENC},
    {"http_accept_lang", BF_DBUF_HTTP_ACCEPT_LANG},
    {"http_connection", BF_DBUF_HTTP_CONNECTION},
    {"http_content_len", BF_DBUF_HTTP_CONTENT_LEN},
    {"http_content_type", BF_DBUF_HTTP_CONTENT_TYPE},
    {"http_protocol", BF_DBUF_HTTP_PROTOCOL},
    {"http_referer", BF_DBUF_HTTP_REFERER},
    {"http_start", BF_DBUF_HTTP_START},
    {"http.request_header", -1},
    {"tls_sni", BF_DBUF_TLS_SNI},
    {"tls_cert_subject", BF_DBUF_TLS_CERT_SUBJECT},
    {"tls_cert_issuer", BF_DBUF_TLS_CERT_ISSUER},
    {"tls_cert_serial", BF_DBUF_TLS_CERT_SERIAL},
    {"tls_cert_fingerprint", BF_DBUF_TLS_CERT_FP},
    {"tls.cert_chain", BF_DBUF_TLS_CERTS},
    {"ja3_hash", BF_DBUF_JA3_HASH},
    {"ja3_string", BF_DBUF_JA3_STRING},
    {"ja3s_hash", BF_DBUF_JA3S_HASH},
    {"ja3s_string", BF_DBUF_JA3S_STRING},
    {"dns_query", BF_DBUF_DNS_QUERY},
    {"ssh_proto", BF_DBUF_SSH_PROTO},
    {"ssh_software", BF_DBUF_SSH_SOFTWARE},
    {"ssh.hassh.server_string", BF_DBUF_SSH_HASSH_SERVER_STRING},
    {"smb_named_pipe", BF_DBUF_SMB_NAMED_PIPE},
    {"smb_share", BF_DBUF_SMB_SHARE},
    {"http.uri_raw", BF_DBUF_HTTP_URI_RAW},
    {"http.header_raw", BF_DBUF_HTTP_HEADER_RAW},
    {"http.host_raw", BF_DBUF_HTTP_HOST_RAW},
};

static bool is_app_buf(int id) { return id != BF_DBUF_PKT && id != BF_DBUF_STREAM; }

/* ------------------------------------------------------------- state */

typedef struct pstate {
    bf_parse_ctx *c;
    bf_sig *s;
    char *err;
    size_t errlen;
    char *reason;
    size_t reasonlen;
    int cur;               /* sticky buffer id */
    int last_buf, last_sm; /* last content */
    char vars[MAX_VARS][32];
    int nvars;
    bool has_sid, has_prio, has_thr, has_df;
    int class_prio;
} pstate;

static bool perr(pstate *st, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool perr(pstate *st, const char *reason, const char *fmt, ...)
{
    if (st->err && st->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->err, st->errlen, fmt, ap);
        va_end(ap);
    }
    if (st->reason && st->reasonlen)
        snprintf(st->reason, st->reasonlen, "%s", reason);
    return false;
}

static bool perr_kw(pstate *st, const char *what, const char *name)
{
    char r[96];
    snprintf(r, sizeof r, "%s '%.60s'", what, name);
    return perr(st, r, "%s '%.60s'", what, name);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static bf_sig_buf *find_buf(pstate *st, int id)
{
    for (uint16_t i = 0; i < st->s->nbufs; i++)
        if (st->s->bufs[i].buf == id)
            return &st->s->bufs[i];
    return NULL;
}

static bf_sig_buf *get_buf(pstate *st, int id)
{
    bf_sig_buf *b = find_buf(st, id);
    if (b)
        return b;
    bf_sig *s = st->s;
    s->bufs = xrealloc(s->bufs, (s->nbufs + 1u) * sizeof(*s->bufs));
    b = &s->bufs[s->nbufs++];
    memset(b, 0, sizeof(*b));
    b->buf = (uint16_t)id;
    return b;
}

static bf_sm *add_sm(pstate *st, int id, uint8_t type)
{
    bf_sig_buf *b = get_buf(st, id);
    if (b->nsm >= 4096) {
        perr(st, "bad value", "too many matches in one buffer");
        return NULL;
    }
    b->sm = xrealloc(b->sm, (b->nsm + 1u) * sizeof(*b->sm));
    bf_sm *m = &b->sm[b->nsm++];
    memset(m, 0, sizeof(*m));
    m->type = type;
    switch (type) {
    case BF_SM_CONTENT:
        m->content.offset.var = m->content.depth.var = -1;
        m->content.distance.var = m->content.within.var = -1;
        break;
    case BF_SM_BYTE_TEST: case BF_SM_BYTE_JUMP: case BF_SM_BYTE_EXTRACT: case BF_SM_BYTE_MATH:
        m->byte.value.var = m->byte.offset.var = -1;
        m->byte.multiplier = 1;
        m->byte.var_out = -1;
        break;
    case BF_SM_ISDATAAT:
        m->isdataat.offset.var = -1;
        break;
    default:
        break;
    }
    return m;
}

static bf_sm *last_content(pstate *st)
{
    if (st->last_buf < 0)
        return NULL;
    bf_sig_buf *b = find_buf(st, st->last_buf);
    if (!b || st->last_sm < 0 || st->last_sm >= b->nsm)
        return NULL;
    return &b->sm[st->last_sm];
}

static bf_pkw *add_pkw(pstate *st, uint8_t type)
{
    bf_sig *s = st->s;
    if (s->npkw >= 1024) {
        perr(st, "bad value", "too many packet keywords");
        return NULL;
    }
    s->pkw = xrealloc(s->pkw, (s->npkw + 1u) * sizeof(*s->pkw));
    bf_pkw *k = &s->pkw[s->npkw++];
    memset(k, 0, sizeof(*k));
    k->type = type;
    return k;
}

/* ------------------------------------------------------------ values */

static bool parse_i64(const char *s, int64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    errno = 0;
    char *end;
    long long v;
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ||
        ((s[0] == '-' || s[0] == '+') && s[1] == '0' && (s[2] == 'x' || s[2] == 'X'))) {
        unsigned long long u = strtoull(s + (s[0] == '-' || s[0] == '+'), &end, 16);
        if (u > INT64_MAX)
            return false;
        v = s[0] == '-' ? -(long long)u : (long long)u;
        if (end == s + 2 + (s[0] == '-' || s[0] == '+'))
            return false;
    } else {
        v = strtoll(s, &end, 10);
        if (end == s)
            return false;
    }
    if (errno)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool parse_range(pstate *st, const char *kw, const char *s, int64_t min, int64_t max,
                        int64_t *out)
{
    int64_t v = 0;
    if (!s || !parse_i64(s, &v) || v < min || v > max)
        return perr(st, "bad value", "%s: bad number '%.40s'", kw, s ? s : "");
    *out = v;
    return true;
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }

/* number or byte_extract variable */
static bool parse_num(pstate *st, const char *kw, const char *s, int64_t min, int64_t max,
                      bf_num *out)
{
    while (s && isspace((unsigned char)*s))
        s++;
    if (s && is_ident_start(*s)) {
        for (int i = 0; i < st->nvars; i++)
            if (strcmp(st->vars[i], s) == 0) {
                out->var = (int8_t)i;
                out->v = 0;
                return true;
            }
        return perr(st, "bad value", "%s: unknown variable '%.40s'", kw, s);
    }
    int64_t v = 0;
    if (!parse_range(st, kw, s, min, max, &v))
        return false;
    out->v = (int32_t)v;
    out->var = -1;
    return true;
}

/* splits s at commas (in place) into at most max trimmed fields */
static int split(char *s, char sep, char **argv, int max)
{
    int n = 0;
    if (!s)
        return 0;
    for (;;) {
        char *c = strchr(s, sep);
        if (c)
            *c = 0;
        if (n == max)
            return -1;
        argv[n++] = trim_str(s);
        if (!c)
            break;
        s = c + 1;
    }
    return n;
}

/* "5", "!5", "<5", ">=5", "1<>5", "1-5" */
static bool parse_cmp(pstate *st, const char *kw, const char *s, uint64_t max, bf_cmp *c)
{
    char buf[64];
    if (!s)
        return perr(st, "bad value", "%s needs a value", kw);
    snprintf(buf, sizeof buf, "%s", s);
    char *p = trim_str(buf);
    memset(c, 0, sizeof(*c));
    c->op = BF_CMP_EQ;
    char *r = strstr(p, "<>");
    char *dash = strchr(p + (*p == '-' ? 1 : 0), '-');
    if (r || (dash && dash != p)) {
        char *sep = r ? r : dash;
        *sep = 0;
        int64_t a = 0, b = 0;
        if (!parse_range(st, kw, p, 0, (int64_t)max, &a) ||
            !parse_range(st, kw, sep + (r ? 2 : 1), 0, (int64_t)max, &b))
            return false;
        if (a >= b)
            return perr(st, "bad value", "%s: bad range '%.40s'", kw, s);
        c->op = BF_CMP_RANGE;
        c->a = (uint64_t)a;
        c->b = (uint64_t)b;
        return true;
    }
    if (p[0] == '!' && p[1] == '=') {
        c->op = BF_CMP_NE;
        p += 2;
    } else if (p[0] == '!') {
        c->op = BF_CMP_NE;
        p++;
    } else if (p[0] == '<' && p[1] == '=') {
        c->op = BF_CMP_LE;
        p += 2;
    } else if (p[0] == '>' && p[1] == '=') {
        c->op = BF_CMP_GE;
        p += 2;
    } else if (p[0] == '<') {
        c->op = BF_CMP_LT;
        p++;
    } else if (p[0] == '>') {
        c->op = BF_CMP_GT;
        p++;
    } else if (p[0] == '=') {
        p += p[1] == '=' ? 2 : 1;
    }
    int64_t a = 0;
    if (!parse_range(st, kw, p, 0, (int64_t)max, &a))
        return false;
    c->a = (uint64_t)a;
    return true;
}

/* strips optional surrounding quotes; returns NULL if unbalanced */
static char *unquote(char *s)
{
    s = trim_str(s);
    size_t n = strlen(s);
    if (n && s[0] == '"') {
        if (n < 2 || s[n - 1] != '"')
            return NULL;
        s[n - 1] = 0;
        return s + 1;
    }
    return s;
}

/* removes \ escapes in place */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1])
            s++;
        *o++ = *s;
    }
    *o = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* content string (quotes stripped) -> bytes */
static bool decode_content(pstate *st, const char *kw, const char *s, uint8_t **out,
                           uint16_t *outlen)
{
    size_t n = strlen(s);
    uint8_t *b = malloc(n + 1);
    if (!b)
        abort();
    size_t o = 0;
    bool hex = false;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '|') {
            if (hex && hi >= 0)
                goto bad;
            hex = !hex;
            continue;
        }
        if (hex) {
            if (isspace((unsigned char)ch))
                continue;
            int v = hexval(ch);
            if (v < 0)
                goto bad;
            if (hi < 0) {
                hi = v;
            } else {
                b[o++] = (uint8_t)(hi << 4 | v);
                hi = -1;
            }
            continue;
        }
        if (ch == '\\') {
            if (i + 1 >= n)
                goto bad;
            ch = s[++i];
        } else if (ch == '"') {
            goto bad;
        }
        b[o++] = (uint8_t)ch;
    }
    if (hex || o == 0 || o > 65535)
        goto bad;
    *out = b;
    *outlen = (uint16_t)o;
    return true;
bad:
    free(b);
    return perr(st, "bad value", "%s: bad string '%.60s'", kw, s);
}

/* ------------------------------------------------------ keyword handlers */

typedef bool (*kw_fn)(pstate *st, const char *kw, char *val);

static bool need_val(pstate *st, const char *kw, const char *val)
{
    if (!val || !*val)
        return perr(st, "syntax", "%s needs a value", kw);
    return true;
}

static bool kw_msg(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *v = unquote(val);
    if (!v)
        return perr(st, "syntax", "msg: unbalanced quotes");
    unescape(v);
    free(st->s->msg);
    st->s->msg = strdup(v);
    return true;
}

static bool kw_u32(pstate *st, const char *kw, char *val, uint32_t *out, int64_t min)
{
    int64_t v = 0;
    if (!need_val(st, kw, val) || !parse_range(st, kw, val, min, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}
static bool kw_sid(pstate *st, const char *kw, char *val)
{
    st->has_sid = true;
    return kw_u32(st, kw, val, &st->s->sid, 1);
}
static bool kw_rev(pstate *st, const char *kw, char *val) { return kw_u32(st, kw, val, &st->s->rev, 0); }
static bool kw_gid(pstate *st, const char *kw, char *val) { return kw_u32(st, kw, val, &st->s->gid, 0); }
static bool kw_priority(pstate *st, const char *kw, char *val)
{
    int64_t v = 0;
    if (!need_val(st, kw, val) || !parse_range(st, kw, val, 1, 255, &v))
        return false;
    st->s->prio = (int32_t)v;
    st->has_prio = true;
    return true;
}

static bool kw_classtype(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    const bf_classtype *tab = st->c->nclasses ? st->c->classes : builtin_classes;
    uint32_t n = st->c->nclasses ? st->c->nclasses
                                 : (uint32_t)(sizeof builtin_classes / sizeof builtin_classes[0]);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(tab[i].name, v) == 0) {
            free(st->s->classtype);
            free(st->s->class_desc);
            st->s->classtype = strdup(tab[i].name);
            st->s->class_desc = strdup(tab[i].desc);
            st->class_prio = tab[i].prio;
            return true;
        }
    return perr(st, "unknown classtype", "unknown classtype '%.60s'", v);
}

static bool kw_reference(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *c = strchr(val, ',');
    if (!c)
        return perr(st, "syntax", "reference: expected system,id");
    *c = 0;
    bf_sig *s = st->s;
    if (s->nrefs >= 1024)
        return perr(st, "bad value", "too many references");
    s->refs = xrealloc(s->refs, (s->nrefs + 1) * sizeof(*s->refs));
    s->refs[s->nrefs].system = strdup(trim_str(val));
    s->refs[s->nrefs].id = strdup(trim_str(c + 1));
    s->nrefs++;
    return true;
}

static bool kw_metadata(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *argv[256];
    int n = split(val, ',', argv, 256);
    if (n < 0)
        return perr(st, "bad value", "metadata: too many entries");
    bf_sig *s = st->s;
    for (int i = 0; i < n; i++) {
        if (!*argv[i])
            continue;
        char *k = argv[i], *sp = k;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        char *v = sp;
        if (*sp) {
            *sp = 0;
            v = trim_str(sp + 1);
        }
        s->meta = xrealloc(s->meta, (s->nmeta + 1) * sizeof(*s->meta));
        s->meta[s->nmeta].key = strdup(k);
        s->meta[s->nmeta].value = strdup(v);
        s->nmeta++;
    }
    return true;
}

static bool kw_target(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    val = trim_str(val);
    if (strcmp(val, "src_ip") == 0)
        st->s->target = BF_TARGET_SRC;
    else if (strcmp(val, "dest_ip") == 0)
        st->s->target = BF_TARGET_DST;
    else
        return perr(st, "bad value", "target: expected src_ip or dest_ip");
    return true;
}

static bool add_content(pstate *st, const char *kw, char *val, int buf, bf_sm **out)
{
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    bool neg = false;
    if (*v == '!') {
        neg = true;
        v = trim_str(v + 1);
    }
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"' || (n >= 3 && v[n - 2] == '\\' &&
                                                   (n < 4 || v[n - 3] != '\\')))
        return perr(st, "syntax", "%s: value must be a quoted string", kw);
    v[n - 1] = 0;
    v++;
    uint8_t *pat = NULL;
    uint16_t len = 0;
    if (!decode_content(st, kw, v, &pat, &len))
        return false;
    bf_sm *m = add_sm(st, buf, BF_SM_CONTENT);
    if (!m) {
        free(pat);
        return false;
    }
    m->content.pat = pat;
    m->content.len = len;
    if (neg)
        m->flags |= BF_SMF_NEGATED;
    st->last_buf = buf;
    st->last_sm = get_buf(st, buf)->nsm - 1;
    if (out)
        *out = m;
    return true;
}

static bool kw_content(pstate *st, const char *kw, char *val)
{
    return add_content(st, kw, val, st->cur, NULL);
}
static bool kw_uricontent(pstate *st, const char *kw, char *val)
{
    return add_content(st, kw, val, BF_DBUF_HTTP_URI, NULL);
}

/* tls.subject:"x" / tls.issuerdn:"x" (old Suricata keywords): a content in
 * the certificate buffer */
static bool kw_tls_old(pstate *st, const char *kw, char *val)
{
    int b = strcmp(kw, "tls.subject") == 0 ? BF_DBUF_TLS_CERT_SUBJECT
                                           : BF_DBUF_TLS_CERT_ISSUER;
    char *v = val ? trim_str(val) : val;
    if (v && *v && *v != '"' && *v != '!') {
        char buf[1024];
        snprintf(buf, sizeof buf, "\"%s\"", v);
        return add_content(st, kw, buf, b, NULL);
    }
    return add_content(st, kw, val, b, NULL);
}

/* filename:"x" / fileext:"x": content in file.name */
static bool kw_filename(pstate *st, const char *kw, char *val)
{
    bf_sm *m;
    if (!add_content(st, kw, val, BF_DBUF_FILE_NAME, &m))
        return false;
    if (strcmp(kw, "fileext") == 0) {
        uint8_t *p = xrealloc(m->content.pat, m->content.len + 1u);
        memmove(p + 1, p, m->content.len);
        p[0] = '.';
        m->content.pat = p;
        if (m->content.len == 65535)
            return perr(st, "bad value", "fileext too long");
        m->content.len++;
        m->flags |= BF_SMF_ENDSWITH | BF_SMF_NOCASE;
    } else {
        m->flags |= BF_SMF_NOCASE;
    }
    return true;
}

static bf_sm *need_content(pstate *st, const char *kw)
{
    bf_sm *m = last_content(st);
    if (!m)
        perr(st, "syntax", "%s needs a preceding content", kw);
    return m;
}

static bool kw_nocase(pstate *st, const char *kw, char *val)
{
    bf_sm *m = need_content(st, kw);
    if (!m)
        return false;
    m->flags |= BF_SMF_NOCASE;
    return true;
}
static bool kw_ignore(pstate *st, const char *kw, char *val) { return true; }

static bool kw_offset_like(pstate *st, const char *kw, char *val)
{
    bf_sm *m = need_content(st, kw);
    if (!m || !need_val(st, kw, val))
        return false;
    bf_num n;
    bool rel = strcmp(kw, "distance") == 0 || strcmp(kw, "within") == 0;
    if (!parse_num(st, kw, val, rel && kw[0] == 'd' ? -65535 : 0, 65535, &n))
        return false;
    if (strcmp(kw, "offset") == 0) {
        m->content.offset = n;
        m->flags |= BF_SMF_HAS_OFFSET;
    } else if (strcmp(kw, "depth") == 0) {
        if (n.var < 0 && n.v == 0)
            return perr(st, "bad value", "depth: must be > 0");
        m->content.depth = n;
        m->flags |= BF_SMF_HAS_DEPTH;
    } else if (kw[0] == 'd') {
        m->content.distance = n;
        m->flags |= BF_SMF_HAS_DISTANCE | BF_SMF_RELATIVE;
    } else {
        if (n.var < 0 && n.v == 0)
            return perr(st, "bad value", "within: must be > 0");
        m->content.within = n;
        m->flags |= BF_SMF_HAS_WITHIN | BF_SMF_RELATIVE;
    }
    return true;
}

static bool kw_startswith(pstate *st, const char *kw, char *val)
{
    bf_sm *m = need_content(st, kw);
    if (!m)
        return false;
    m->flags |= kw[0] == 's' ? BF_SMF_STARTSWITH : BF_SMF_ENDSWITH;
    return true;
}

static bool kw_fast_pattern(pstate *st, const char *kw, char *val)
{
    bf_sm *m = need_content(st, kw);
    if (!m)
        return false;
    m->flags |= BF_SMF_FAST_PATTERN;
    if (!val || !*trim_str(val))
        return true;
    val = trim_str(val);
    if (strcmp(val, "only") == 0) {
        m->flags |= BF_SMF_FP_ONLY;
        return true;
    }
    char *argv[2];
    int64_t off = 0, len = 0;
    if (split(val, ',', argv, 2) != 2 || !parse_range(st, kw, argv[0], 0, 65535, &off) ||
        !parse_range(st, kw, argv[1], 1, 65535, &len))
        return perr(st, "bad value", "fast_pattern: expected only or <offset>,<length>");
    if (off + len > m->content.len)
        return perr(st, "bad value", "fast_pattern: chop beyond the content");
    m->content.fp_off = (uint16_t)off;
    m->content.fp_len = (uint16_t)len;
    return true;
}

/* legacy content modifier (http_uri ...): moves the last content to buf */
static bool legacy_move(pstate *st, const char *kw, int buf)
{
    if (st->last_buf < 0)
        return perr(st, "syntax", "%s needs a preceding content", kw);
    if (st->last_buf == buf)
        return true;
    if (st->last_buf != BF_DBUF_PKT)
        return perr(st, "syntax", "%s: the content is already in another buffer", kw);
    bf_sig_buf *from = find_buf(st, BF_DBUF_PKT);
    if (!from || st->last_sm >= from->nsm)
        return perr(st, "syntax", "%s needs a preceding content", kw);
    bf_sm m = from->sm[st->last_sm];
    memmove(&from->sm[st->last_sm], &from->sm[st->last_sm + 1],
            (size_t)(from->nsm - st->last_sm - 1) * sizeof(bf_sm));
    from->nsm--;
    bf_sm *to = add_sm(st, buf, BF_SM_CONTENT);
    if (!to) {
        free(m.content.pat);
        return false;
    }
    *to = m;
    st->last_buf = buf;
    st->last_sm = get_buf(st, buf)->nsm - 1;
    return true;
}

static int xform_id(const char *kw)
{
    static const struct { const char *n; int id; } t[] = {
        {"to_lowercase", BF_XF_TO_LOWER},         {"to_uppercase", BF_XF_TO_UPPER},
        {"strip_whitespace", BF_XF_STRIP_WHITESPACE},
        {"compress_whitespace", BF_XF_COMPRESS_WHITESPACE},
        {"dotprefix", BF_XF_DOTPREFIX},           {"url_decode", BF_XF_URL_DECODE},
        {"to_md5", BF_XF_MD5},                    {"to_sha1", BF_XF_SHA1},
        {"to_sha256", BF_XF_SHA256},              {"strip_pseudo_headers", BF_XF_STRIP_PSEUDO_HEADERS},
        {"header_lowercase", BF_XF_HEADER_LOWERCASE}, {"xor", BF_XF_XOR},
        {"from_base64", BF_XF_FROM_BASE64},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].n, kw) == 0)
            return t[i].id;
    return -1;
}

static bool kw_xform(pstate *st, const char *kw, char *val)
{
    int id = xform_id(kw);
    if (st->cur == BF_DBUF_PKT || st->cur == BF_DBUF_STREAM)
        return perr(st, "syntax", "transform %s needs a sticky buffer", kw);
    bf_sig_buf *b = get_buf(st, st->cur);
    if (b->nxf >= BF_MAX_XFORMS)
        return perr(st, "bad value", "too many transforms");
    if (id == BF_XF_XOR) {
        if (!need_val(st, kw, val))
            return false;
        char *v = unquote(val);
        size_t n = v ? strlen(v) : 0;
        if (!v || n == 0 || n % 2 || n > 510 || b->xf_arg)
            return perr(st, "bad value", "xor: expected a quoted even-length hex key");
        uint8_t *k = malloc(n / 2);
        if (!k)
            abort();
        for (size_t i = 0; i < n; i += 2) {
            int h = hexval(v[i]), l = hexval(v[i + 1]);
            if (h < 0 || l < 0) {
                free(k);
                return perr(st, "bad value", "xor: bad hex key");
            }
            k[i / 2] = (uint8_t)(h << 4 | l);
        }
        b->xf_arg = k;
        b->xf_arg_len = (uint16_t)(n / 2);
    }
    b->xf[b->nxf++] = (uint8_t)id;
    return true;
}

/* ------------------------------------------------------------- pcre */

static int pcre_buf(char f)
{
    switch (f) {
    case 'U': return BF_DBUF_HTTP_URI;
    case 'I': return BF_DBUF_HTTP_URI_RAW;
    case 'P': return BF_DBUF_HTTP_REQUEST_BODY;
    case 'Q': return BF_DBUF_FILE_DATA;
    case 'H': return BF_DBUF_HTTP_HEADER;
    case 'D': return BF_DBUF_HTTP_HEADER_RAW;
    case 'M': return BF_DBUF_HTTP_METHOD;
    case 'C': return BF_DBUF_HTTP_COOKIE;
    case 'S': return BF_DBUF_HTTP_STAT_CODE;
    case 'Y': return BF_DBUF_HTTP_STAT_MSG;
    case 'V': return BF_DBUF_HTTP_USER_AGENT;
    case 'W': return BF_DBUF_HTTP_HOST;
    case 'Z': return BF_DBUF_HTTP_HOST_RAW;
    default: return -1;
    }
}

static bool kw_pcre(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    bool neg = false;
    if (*v == '!') {
        neg = true;
        v = trim_str(v + 1);
    }
    char *q;
    if (*v == '/') { /* unquoted (accepted by Suricata) */
        q = v + strlen(v);
        v--;
    } else if (*v != '"') {
        return perr(st, "syntax", "pcre: value must be quoted");
    } else {
        q = strrchr(v + 1, '"');
    }
    if (!q)
        return perr(st, "syntax", "pcre: unbalanced quotes");
    bool capture = false;
    char *after = *q ? trim_str(q + 1) : q;
    if (*after) {
        if (*after != ',')
            return perr(st, "syntax", "pcre: junk after the pattern");
        capture = true;
    }
    *q = 0;
    v++;
    if (*v != '/')
        return perr(st, "bad value", "pcre: pattern must start with '/'");
    char *last = strrchr(v + 1, '/');
    if (!last)
        return perr(st, "bad value", "pcre: pattern must end with '/'");
    *last = 0;
    const char *pat = v + 1, *flags = last + 1;
    uint32_t opts = 0;
    int buf = -1;
    bool rel = false;
    for (const char *f = flags; *f; f++) {
        if (*f == ',') {    /* "/re/flags, flow:var" capture into variables */
            capture = true;
            break;
        }
        if (*f == '"' && f[1] == 0 && *after == 0)   /* pcre:/x/i" (unquoted, stray quote) */
            break;
        switch (*f) {
        case 'i': opts |= PCRE2_CASELESS; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        case 'A': opts |= PCRE2_ANCHORED; break;
        case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': opts |= PCRE2_UNGREEDY; break;
        case 'R': rel = true; break;
        case 'O': case 'B': break;
        default: {
            int b = pcre_buf(*f);
            if (b < 0)
                return perr(st, "bad value", "pcre: unknown flag '%c'", *f);
            if (buf >= 0 && buf != b)
                return perr(st, "bad value", "pcre: several buffer flags");
            buf = b;
        }
        }
    }
    if (strstr(pat, "(?P<pkt_") || strstr(pat, "(?P<flow_") || strstr(pat, "(?P<alert_"))
        capture = true;
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return perr(st, "bad pcre", "pcre: compile error at %zu: %s", (size_t)eo, (char *)msg);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    bf_sm *m = add_sm(st, buf >= 0 ? buf : st->cur, BF_SM_PCRE);
    if (!m) {
        pcre2_code_free(code);
        return false;
    }
    m->pcre.code = code;
    m->pcre.cflags = opts;
    m->pcre.has_capture = capture;
    if (neg)
        m->flags |= BF_SMF_NEGATED;
    if (rel)
        m->flags |= BF_SMF_RELATIVE;
    return true;
}

/* --------------------------------------------------------- byte_* */

static bool endian_or_flag(pstate *st, const char *a, bf_sm *m, bool *string_next)
{
    if (strcmp(a, "relative") == 0)
        m->byte.bflags |= BF_BYTE_RELATIVE;
    else if (strcmp(a, "little") == 0)
        m->byte.bflags |= BF_BYTE_LITTLE;
    else if (strcmp(a, "big") == 0)
        m->byte.bflags &= (uint16_t)~BF_BYTE_LITTLE;
    else if (strcmp(a, "dce") == 0)
        m->byte.bflags |= BF_BYTE_DCE;
    else if (strcmp(a, "string") == 0)
        m->byte.bflags |= BF_BYTE_STRING;
    else if (strcmp(a, "hex") == 0)
        m->byte.bflags |= BF_BYTE_HEX;
    else if (strcmp(a, "dec") == 0)
        m->byte.bflags |= BF_BYTE_DEC;
    else if (strcmp(a, "oct") == 0)
        m->byte.bflags |= BF_BYTE_OCT;
    else if (strcmp(a, "align") == 0)
        m->byte.bflags |= BF_BYTE_ALIGN;
    else if (strcmp(a, "from_beginning") == 0)
        m->byte.bflags |= BF_BYTE_FROM_BEGINNING;
    else if (strcmp(a, "from_end") == 0)
        m->byte.bflags |= BF_BYTE_FROM_END;
    else
        return false;
    (void)st;
    (void)string_next;
    return true;
}

/* "bitmask 0x..", "multiplier N", "post_offset N" style options */
static bool kv_opt(pstate *st, const char *kw, char *a, bf_sm *m, bool *handled)
{
    *handled = false;
    char *sp = a;
    while (*sp && !isspace((unsigned char)*sp))
        sp++;
    if (!*sp)
        return true;
    *sp = 0;
    char *v = trim_str(sp + 1);
    int64_t n = 0;
    *handled = true;
    if (strcmp(a, "bitmask") == 0) {
        if (!parse_range(st, kw, v, 0, UINT32_MAX, &n))
            return false;
        m->byte.bitmask = (uint32_t)n;
        m->byte.bflags |= BF_BYTE_BITMASK;
    } else if (strcmp(a, "multiplier") == 0) {
        if (!parse_range(st, kw, v, 1, 65535, &n))
            return false;
        m->byte.multiplier = (int32_t)n;
    } else if (strcmp(a, "post_offset") == 0) {
        if (!parse_range(st, kw, v, -65535, 65535, &n))
            return false;
        m->byte.post_offset = (int32_t)n;
    } else if (strcmp(a, "align") == 0) {
        /* byte_extract align 2|4: kept in post_offset */
        if (!parse_range(st, kw, v, 2, 4, &n) || n == 3)
            return perr(st, "bad value", "%s: align must be 2 or 4", kw);
        m->byte.post_offset = (int32_t)n;
        m->byte.bflags |= BF_BYTE_ALIGN;
    } else if (strcmp(a, "string") == 0) {
        m->byte.bflags |= BF_BYTE_STRING;
        if (strcmp(v, "hex") == 0)
            m->byte.bflags |= BF_BYTE_HEX;
        else if (strcmp(v, "dec") == 0)
            m->byte.bflags |= BF_BYTE_DEC;
        else if (strcmp(v, "oct") == 0)
            m->byte.bflags |= BF_BYTE_OCT;
        else
            return perr(st, "bad value", "%s: bad string base '%.20s'", kw, v);
    } else if (strcmp(a, "endian") == 0) {
        if (strcmp(v, "little") == 0)
            m->byte.bflags |= BF_BYTE_LITTLE;
        else if (strcmp(v, "dce") == 0)
            m->byte.bflags |= BF_BYTE_DCE;
        else if (strcmp(v, "big") != 0)
            return perr(st, "bad value", "%s: bad endian '%.20s'", kw, v);
    } else {
        *sp = ' ';
        *handled = false;
    }
    return true;
}

static bool byte_opts(pstate *st, const char *kw, char **argv, int from, int n, bf_sm *m)
{
    for (int i = from; i < n; i++) {
        bool h;
        if (endian_or_flag(st, argv[i], m, NULL))
            continue;
        if (!kv_opt(st, kw, argv[i], m, &h))
            return false;
        if (!h)
            return perr(st, "bad value", "%s: unknown option '%.30s'", kw, argv[i]);
    }
    uint16_t f = m->byte.bflags;
    if ((f & (BF_BYTE_HEX | BF_BYTE_DEC | BF_BYTE_OCT)) && !(f & BF_BYTE_STRING))
        m->byte.bflags |= BF_BYTE_STRING;
    if ((m->byte.bflags & BF_BYTE_STRING) && !(f & (BF_BYTE_HEX | BF_BYTE_OCT)))
        m->byte.bflags |= BF_BYTE_DEC;
    /* 0 with string: as many digits as there are (ET uses byte_test:0,...,string) */
    int maxb = (m->byte.bflags & BF_BYTE_STRING) ? 10 : 8;
    int minb = (m->byte.bflags & BF_BYTE_STRING) ? 0 : 1;
    if (m->byte.nbytes < minb || m->byte.nbytes > maxb)
        return perr(st, "bad value", "%s: bad number of bytes %d", kw, m->byte.nbytes);
    return true;
}

static bool parse_nbytes(pstate *st, const char *kw, const char *s, bf_sm *m)
{
    int64_t n = 0;
    if (!parse_range(st, kw, s, 0, 10, &n))
        return false;
    m->byte.nbytes = (uint8_t)n;
    return true;
}

static bool kw_byte_test(pstate *st, const char *kw, char *val)
{
    char *argv[16];
    int n = split(val, ',', argv, 16);
    if (n < 4)
        return perr(st, "syntax", "byte_test: expected nbytes, op, value, offset");
    bf_sm *m = add_sm(st, st->cur, BF_SM_BYTE_TEST);
    if (!m || !parse_nbytes(st, kw, argv[0], m))
        return false;
    char *op = argv[1];
    if (*op == '!') {
        m->byte.bflags |= BF_BYTE_NEGATE;
        op = trim_str(op + 1);
    }
    if (strcmp(op, "<") == 0) m->byte.op = BF_BOP_LT;
    else if (strcmp(op, ">") == 0) m->byte.op = BF_BOP_GT;
    else if (strcmp(op, "<=") == 0) m->byte.op = BF_BOP_LE;
    else if (strcmp(op, ">=") == 0) m->byte.op = BF_BOP_GE;
    else if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0) m->byte.op = BF_BOP_EQ;
    else if (strcmp(op, "&") == 0) m->byte.op = BF_BOP_AND;
    else if (strcmp(op, "^") == 0 || strcmp(op, "|") == 0) m->byte.op = BF_BOP_OR;
    else if (strcmp(op, "!=") == 0 || (op != argv[1] && strcmp(op, "=") == 0)) {
        m->byte.op = BF_BOP_EQ;
        m->byte.bflags |= BF_BYTE_NEGATE;
    } else
        return perr(st, "bad value", "byte_test: bad operator '%.10s'", argv[1]);
    /* values up to 2^32-1 are kept as their 32-bit pattern */
    if (!parse_num(st, kw, argv[2], INT32_MIN, UINT32_MAX, &m->byte.value))
        return false;
    if (!parse_num(st, kw, argv[3], -65535, 65535, &m->byte.offset))
        return false;
    return byte_opts(st, kw, argv, 4, n, m);
}

static bool kw_byte_jump(pstate *st, const char *kw, char *val)
{
    char *argv[16];
    int n = split(val, ',', argv, 16);
    if (n < 2)
        return perr(st, "syntax", "byte_jump: expected nbytes, offset");
    bf_sm *m = add_sm(st, st->cur, BF_SM_BYTE_JUMP);
    if (!m || !parse_nbytes(st, kw, argv[0], m) ||
        !parse_num(st, kw, argv[1], -65535, 65535, &m->byte.offset))
        return false;
    return byte_opts(st, kw, argv, 2, n, m);
}

static bool new_var(pstate *st, const char *kw, const char *name, int8_t *out)
{
    if (!is_ident_start(*name) || strlen(name) >= sizeof st->vars[0])
        return perr(st, "bad value", "%s: bad variable name '%.40s'", kw, name);
    for (int i = 0; i < st->nvars; i++)
        if (strcmp(st->vars[i], name) == 0) {
            *out = (int8_t)i;
            return true;
        }
    if (st->nvars >= MAX_VARS)
        return perr(st, "bad value", "%s: too many variables", kw);
    snprintf(st->vars[st->nvars], sizeof st->vars[0], "%s", name);
    *out = (int8_t)st->nvars++;
    st->s->nvars = (uint8_t)st->nvars;
    return true;
}

static bool kw_byte_extract(pstate *st, const char *kw, char *val)
{
    char *argv[16];
    int n = split(val, ',', argv, 16);
    if (n < 3)
        return perr(st, "syntax", "byte_extract: expected nbytes, offset, name");
    bf_sm *m = add_sm(st, st->cur, BF_SM_BYTE_EXTRACT);
    if (!m || !parse_nbytes(st, kw, argv[0], m) ||
        !parse_num(st, kw, argv[1], -65535, 65535, &m->byte.offset))
        return false;
    if (!byte_opts(st, kw, argv, 3, n, m))
        return false;
    return new_var(st, kw, argv[2], &m->byte.var_out);
}

static bool kw_byte_math(pstate *st, const char *kw, char *val)
{
    char *argv[16];
    int n = split(val, ',', argv, 16);
    if (n < 0)
        return perr(st, "syntax", "byte_math: too many options");
    bf_sm *m = add_sm(st, st->cur, BF_SM_BYTE_MATH);
    if (!m)
        return false;
    bool have_bytes = false, have_off = false, have_op = false, have_rv = false;
    const char *result = NULL;
    for (int i = 0; i < n; i++) {
        char *a = argv[i], *sp = a;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        char *v = NULL;
        if (*sp) {
            *sp = 0;
            v = trim_str(sp + 1);
        }
        if (strcmp(a, "bytes") == 0 && v) {
            if (!parse_nbytes(st, kw, v, m))
                return false;
            have_bytes = true;
        } else if (strcmp(a, "offset") == 0 && v) {
            if (!parse_num(st, kw, v, -65535, 65535, &m->byte.offset))
                return false;
            have_off = true;
        } else if (strcmp(a, "oper") == 0 && v) {
            static const struct { const char *s; uint8_t op; } ops[] = {
                {"+", BF_BOP_ADD}, {"-", BF_BOP_SUB}, {"*", BF_BOP_MUL}, {"/", BF_BOP_DIV},
                {"<<", BF_BOP_SHL}, {">>", BF_BOP_SHR}};
            size_t k;
            for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
                if (strcmp(ops[k].s, v) == 0)
                    break;
            if (k == sizeof ops / sizeof ops[0])
                return perr(st, "bad value", "byte_math: bad oper '%.10s'", v);
            m->byte.op = ops[k].op;
            have_op = true;
        } else if (strcmp(a, "rvalue") == 0 && v) {
            if (!parse_num(st, kw, v, 0, UINT32_MAX, &m->byte.value))
                return false;
            have_rv = true;
        } else if (strcmp(a, "result") == 0 && v) {
            result = v;
        } else {
            if (v)
                *sp = ' ';
            bool h;
            if (endian_or_flag(st, a, m, NULL))
                continue;
            if (!kv_opt(st, kw, a, m, &h))
                return false;
            if (!h)
                return perr(st, "bad value", "byte_math: unknown option '%.30s'", a);
        }
    }
    if (!have_bytes || !have_off || !have_op || !have_rv || !result)
        return perr(st, "syntax", "byte_math: needs bytes, offset, oper, rvalue and result");
    if (!byte_opts(st, kw, argv, n, n, m))
        return false;
    return new_var(st, kw, result, &m->byte.var_out);
}

static bool kw_isdataat(pstate *st, const char *kw, char *val)
{
    char *argv[4];
    int n = split(val, ',', argv, 4);
    if (n < 1 || !*argv[0])
        return perr(st, "syntax", "isdataat: expected [!]offset[,relative]");
    /* Without a sticky buffer, a relative isdataat goes with the previous
     * content, wherever a legacy modifier (http_uri...) or uricontent put
     * it, as Suricata does. */
    int buf = st->cur;
    for (int i = 1; i < n && buf == BF_DBUF_PKT; i++)
        if (strcmp(trim_str(argv[i]), "relative") == 0 && st->last_buf >= 0)
            buf = st->last_buf;
    bf_sm *m = add_sm(st, buf, BF_SM_ISDATAAT);
    if (!m)
        return false;
    char *o = argv[0];
    if (*o == '!') {
        m->flags |= BF_SMF_NEGATED;
        o = trim_str(o + 1);
    }
    if (!parse_num(st, kw, o, 0, 65535, &m->isdataat.offset))
        return false;
    for (int i = 1; i < n; i++) {
        if (strcmp(argv[i], "relative") == 0)
            m->flags |= BF_SMF_RELATIVE;
        else if (strcmp(argv[i], "rawbytes") != 0)
            return perr(st, "bad value", "isdataat: unknown option '%.20s'", argv[i]);
    }
    return true;
}

static bool kw_bsize(pstate *st, const char *kw, char *val)
{
    bf_sm *m = add_sm(st, st->cur, BF_SM_BSIZE);
    return m && parse_cmp(st, kw, val, UINT32_MAX, &m->size);
}

static bool kw_absent(pstate *st, const char *kw, char *val)
{
    if (st->cur == BF_DBUF_PKT)
        return perr(st, "syntax", "absent needs a sticky buffer");
    return add_sm(st, st->cur, BF_SM_ABSENT) != NULL;
}

static bool kw_urilen(pstate *st, const char *kw, char *val)
{
    char *argv[3];
    int n = split(val, ',', argv, 3);
    if (n < 1)
        return perr(st, "syntax", "urilen needs a value");
    int buf = BF_DBUF_HTTP_URI;
    if (n > 1) {
        if (strcmp(argv[1], "raw") == 0)
            buf = BF_DBUF_HTTP_URI_RAW;
        else if (strcmp(argv[1], "norm") != 0)
            return perr(st, "bad value", "urilen: expected raw or norm");
    }
    bf_cmp c;
    if (!parse_cmp(st, kw, argv[0], 65535, &c))
        return false;
    bf_sm *m = add_sm(st, buf, BF_SM_BSIZE);
    if (!m)
        return false;
    m->size = c;
    return true;
}

/* ------------------------------------------------------ packet keywords */

static bool pkw_cmp(pstate *st, const char *kw, char *val, uint8_t type, uint64_t max)
{
    bf_cmp c;
    if (!parse_cmp(st, kw, val, max, &c))
        return false;
    bf_pkw *k = add_pkw(st, type);
    if (!k)
        return false;
    /* "!N" is the comparison NE itself: not also negated (that would
     * invert it twice in bf_match_packet_kw) */
    k->cmp = c;
    return true;
}

static bool kw_dsize(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_DSIZE, 65535); }
static bool kw_ttl(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TTL, 255); }
static bool kw_tos(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TOS, 255); }
static bool kw_id(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_IPID, 65535); }
static bool kw_itype(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_ITYPE, 255); }
static bool kw_icode(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_ICODE, 255); }
static bool kw_icmp_id(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_ICMP_ID, 65535); }
static bool kw_icmp_seq(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_ICMP_SEQ, 65535); }
static bool kw_seq(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TCP_SEQ, UINT32_MAX); }
static bool kw_ack(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TCP_ACK, UINT32_MAX); }
static bool kw_window(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TCP_WINDOW, 65535); }
static bool kw_mss(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_TCP_MSS, 65535); }
static bool kw_fragoffset(pstate *st, const char *kw, char *val) { return pkw_cmp(st, kw, val, BF_PK_FRAGOFFSET, 65535); }

static bool kw_sameip(pstate *st, const char *kw, char *val)
{
    return add_pkw(st, BF_PK_SAMEIP) != NULL;
}

static bool kw_ip_proto(pstate *st, const char *kw, char *val)
{
    static const struct { const char *n; int v; } names[] = {
        {"ip", 0}, {"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"ipencap", 4},
        {"tcp", 6}, {"egp", 8}, {"udp", 17}, {"ipv6", 41}, {"ipv6-route", 43},
        {"ipv6-frag", 44}, {"rsvp", 46}, {"gre", 47}, {"esp", 50}, {"ah", 51},
        {"ipv6-icmp", 58}, {"icmpv6", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60},
        {"ospf", 89}, {"pim", 103}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132}};
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    char pre[3] = {0};
    size_t np = 0;
    while (np < 2 && (*v == '!' || *v == '<' || *v == '>' || *v == '=')) {
        pre[np++] = *v;
        v = trim_str(v + 1);
    }
    char buf[48];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(names[i].n, v) == 0) {
            snprintf(buf, sizeof buf, "%s%d", pre, names[i].v);
            return pkw_cmp(st, kw, buf, BF_PK_IP_PROTO, 255);
        }
    snprintf(buf, sizeof buf, "%s%.30s", pre, v);
    return pkw_cmp(st, kw, buf, BF_PK_IP_PROTO, 255);
}

static bool kw_flags(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *argv[2];
    int n = split(val, ',', argv, 2);
    if (n < 1)
        return perr(st, "bad value", "flags: bad value");
    uint8_t mask = 0, ignore = 0, mode = BF_FLAGS_EXACT;
    bool zero = false, any = false;
    for (const char *p = argv[0]; *p; p++) {
        switch (*p) {
        case 'F': mask |= 0x01; break;
        case 'S': mask |= 0x02; break;
        case 'R': mask |= 0x04; break;
        case 'P': mask |= 0x08; break;
        case 'A': mask |= 0x10; break;
        case 'U': mask |= 0x20; break;
        case 'E': case '2': mask |= 0x40; break;
        case 'C': case '1': mask |= 0x80; break;
        case '0': zero = true; break;
        case '+': mode = BF_FLAGS_PLUS; any = true; break;
        case '*': mode = BF_FLAGS_ANY; any = true; break;
        case '!': mode = BF_FLAGS_NOT; any = true; break;
        case ' ': break;
        default: return perr(st, "bad value", "flags: bad flag '%c'", *p);
        }
    }
    if (!mask && !zero && !(any && mode == BF_FLAGS_NOT))
        return perr(st, "bad value", "flags: no flag given");
    if (n == 2)
        for (const char *p = argv[1]; *p; p++) {
            switch (*p) {
            case 'F': ignore |= 0x01; break;
            case 'S': ignore |= 0x02; break;
            case 'R': ignore |= 0x04; break;
            case 'P': ignore |= 0x08; break;
            case 'A': ignore |= 0x10; break;
            case 'U': ignore |= 0x20; break;
            case 'E': case '2': ignore |= 0x40; break;
            case 'C': case '1': ignore |= 0x80; break;
            case ' ': break;
            default: return perr(st, "bad value", "flags: bad ignore flag '%c'", *p);
            }
        }
    bf_pkw *k = add_pkw(st, BF_PK_TCP_FLAGS);
    if (!k)
        return false;
    k->flags.mask = mask;
    k->flags.ignore = ignore;
    k->flags.mode = mode;
    k->negated = mode == BF_FLAGS_NOT;
    return true;
}

/* fragbits: M (more fragments) = 1, D (don't fragment) = 2, R (reserved) = 4 */
static bool kw_fragbits(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    uint8_t mask = 0, mode = BF_FLAGS_EXACT;
    for (const char *p = trim_str(val); *p; p++) {
        switch (*p) {
        case 'M': mask |= 1; break;
        case 'D': mask |= 2; break;
        case 'R': mask |= 4; break;
        case '+': mode = BF_FLAGS_PLUS; break;
        case '*': mode = BF_FLAGS_ANY; break;
        case '!': mode = BF_FLAGS_NOT; break;
        case ' ': break;
        default: return perr(st, "bad value", "fragbits: bad flag '%c'", *p);
        }
    }
    if (!mask)
        return perr(st, "bad value", "fragbits: no flag given");
    bf_pkw *k = add_pkw(st, BF_PK_FRAGBITS);
    if (!k)
        return false;
    k->flags.mask = mask;
    k->flags.mode = mode;
    k->negated = mode == BF_FLAGS_NOT;
    return true;
}

/* ipopts: cmp.a = IP option type (any = 255) */
static bool kw_ipopts(pstate *st, const char *kw, char *val)
{
    static const struct { const char *n; int v; } t[] = {
        {"eol", 0}, {"nop", 1}, {"rr", 7}, {"ts", 68}, {"sec", 130}, {"esec", 133},
        {"lsrr", 131}, {"ssrr", 137}, {"satid", 136}, {"any", 255}};
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].n, v) == 0) {
            bf_pkw *k = add_pkw(st, BF_PK_IPOPTS);
            if (!k)
                return false;
            k->cmp.a = (uint64_t)t[i].v;
            return true;
        }
    return perr(st, "bad value", "ipopts: unknown option '%.20s'", v);
}

static bool kw_stream_size(pstate *st, const char *kw, char *val)
{
    char *argv[3];
    if (split(val, ',', argv, 3) != 3)
        return perr(st, "syntax", "stream_size: expected dir, op, value");
    static const char *dirs[] = {"server", "client", "both", "either"};
    int d = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[0], dirs[i]) == 0)
            d = i;
    if (d < 0)
        return perr(st, "bad value", "stream_size: bad direction '%.20s'", argv[0]);
    char buf[64];
    snprintf(buf, sizeof buf, "%s%s", argv[1], argv[2]);
    bf_cmp c;
    if (strcmp(argv[1], "=") != 0 && strcmp(argv[1], "!=") != 0 && strcmp(argv[1], "<") != 0 &&
        strcmp(argv[1], ">") != 0 && strcmp(argv[1], "<=") != 0 && strcmp(argv[1], ">=") != 0)
        return perr(st, "bad value", "stream_size: bad operator '%.10s'", argv[1]);
    if (!parse_cmp(st, kw, buf, UINT32_MAX, &c))
        return false;
    bf_pkw *k = add_pkw(st, BF_PK_STREAM_SIZE);
    if (!k)
        return false;
    k->cmp = c;
    k->stream_dir = (uint8_t)d;
    return true;
}

static bool kw_app_layer_protocol(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *argv[2];
    split(val, ',', argv, 2);
    char *v = argv[0];
    bool neg = false;
    if (*v == '!') {
        neg = true;
        v = trim_str(v + 1);
    }
    uint16_t ap;
    if (strcmp(v, "http1") == 0)
        ap = BF_APP_HTTP;
    else if (strcmp(v, "ssl") == 0)
        ap = BF_APP_TLS;
    else if (strcmp(v, "unknown") == 0)
        ap = BF_APP_UNKNOWN;
    else if ((ap = bf_app_proto_lookup(v)) == BF_APP_UNKNOWN)
        return perr_kw(st, "unsupported protocol", v);
    bf_pkw *k = add_pkw(st, BF_PK_APP_LAYER_PROTO);
    if (!k)
        return false;
    k->cmp.op = BF_CMP_EQ;   /* "!name": negated (inverted once) */
    k->cmp.a = ap;
    k->negated = neg;
    return true;
}

static bool kw_event(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *v = trim_str(val);
    enum bf_event_layer layer = kw[0] == 'd' ? BF_EVL_DECODE : BF_EVL_STREAM;
    uint16_t id = bf_event_lookup(layer, v);
    if (id == BF_EV_NONE)
        return perr(st, "unknown event", "%s: unknown event '%.60s'", kw, v);
    bf_pkw *k = add_pkw(st, BF_PK_DECODE_EVENT);
    if (!k)
        return false;
    k->cmp.a = id;
    return true;
}

/* ------------------------------------------------------------ flow */

static bool kw_flow(pstate *st, const char *kw, char *val)
{
    char *argv[8];
    int n = split(val, ',', argv, 8);
    if (n < 1)
        return perr(st, "syntax", "flow: too many options");
    static const struct { const char *n; uint16_t f; } t[] = {
        {"to_server", BF_FK_TO_SERVER}, {"from_client", BF_FK_TO_SERVER},
        {"to_client", BF_FK_TO_CLIENT}, {"from_server", BF_FK_TO_CLIENT},
        {"established", BF_FK_ESTABLISHED}, {"not_established", BF_FK_NOT_ESTABLISHED},
        {"stateless", BF_FK_STATELESS}, {"only_stream", BF_FK_ONLY_STREAM},
        {"no_stream", BF_FK_NO_STREAM}, {"only_frag", BF_FK_ONLY_FRAG},
        {"no_frag", BF_FK_NO_FRAG}};
    for (int i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < sizeof t / sizeof t[0]; k++)
            if (strcmp(t[k].n, argv[i]) == 0)
                break;
        if (k == sizeof t / sizeof t[0])
            return perr(st, "bad value", "flow: unknown option '%.30s'", argv[i]);
        st->s->flow |= t[k].f;
    }
    uint16_t f = st->s->flow;
    if ((f & BF_FK_TO_SERVER) && (f & BF_FK_TO_CLIENT))
        return perr(st, "bad value", "flow: to_server and to_client together");
    if ((f & BF_FK_ESTABLISHED) && (f & BF_FK_NOT_ESTABLISHED))
        return perr(st, "bad value", "flow: established and not_established together");
    if ((f & BF_FK_ONLY_STREAM) && (f & BF_FK_NO_STREAM))
        return perr(st, "bad value", "flow: only_stream and no_stream together");
    return true;
}

static bool kw_flowbits(pstate *st, const char *kw, char *val)
{
    if (!need_val(st, kw, val))
        return false;
    char *argv[2];
    int n = split(val, ',', argv, 2);
    if (n < 1)
        return perr(st, "syntax", "flowbits: bad value");
    static const char *ops[] = {"set", "unset", "toggle", "isset", "isnotset"};
    if (strcmp(argv[0], "noalert") == 0) {
        if (n != 1)
            return perr(st, "syntax", "flowbits: noalert takes no name");
        st->s->flags |= BF_SIG_NOALERT;
        return true;
    }
    int op = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(ops[i], argv[0]) == 0)
            op = i;
    if (op < 0)
        return perr(st, "bad value", "flowbits: unknown command '%.20s'", argv[0]);
    if (n != 2 || !*argv[1])
        return perr(st, "syntax", "flowbits: %s needs a name", argv[0]);
    bf_flowbit_op fb = {.op = (uint8_t)op};
    char *names = argv[1];
    bool has_or = strchr(names, '|') != NULL, has_and = strchr(names, '&') != NULL;
    if (has_or && has_and)
        return perr(st, "bad value", "flowbits: cannot mix & and |");
    if (has_or && op != BF_FB_ISSET && op != BF_FB_ISNOTSET)
        return perr(st, "bad value", "flowbits: | only with isset/isnotset");
    fb.or_ = has_or;
    char *parts[5];
    int np = split(names, has_or ? '|' : '&', parts, 5);
    if (np < 1 || np > 4)
        return perr(st, "bad value", "flowbits: too many names");
    for (int i = 0; i < np; i++) {
        if (!*parts[i])
            return perr(st, "bad value", "flowbits: empty name");
        for (const char *p = parts[i]; *p; p++)
            if (isspace((unsigned char)*p))
                return perr(st, "bad value", "flowbits: bad name '%.40s'", parts[i]);
        fb.ids[i] = bf_names_intern(&st->c->flowbits, parts[i]);
    }
    fb.nids = (uint8_t)np;
    bf_sig *s = st->s;
    if (s->nfb >= 64)
        return perr(st, "bad value", "too many flowbits");
    s->fb = xrealloc(s->fb, (s->nfb + 1u) * sizeof(*s->fb));
    s->fb[s->nfb++] = fb;
    return true;
}

static bool kw_flowint(pstate *st, const char *kw, char *val)
{
    char *argv[4];
    int n = split(val, ',', argv, 4);
    if (n < 2 || !*argv[0])
        return perr(st, "syntax", "flowint: expected name, op[, value]");
    bf_flowint_op fi = {.value_var = -1};
    const char *op = argv[1];
    bool needv = true;
    if (strcmp(op, "=") == 0) fi.op = BF_FI_SET;
    else if (strcmp(op, "+") == 0) fi.op = BF_FI_ADD;
    else if (strcmp(op, "-") == 0) fi.op = BF_FI_SUB;
    else if (strcmp(op, "isset") == 0) { fi.op = BF_FI_ISSET; needv = false; }
    else if (strcmp(op, "notset") == 0 || strcmp(op, "isnotset") == 0) { fi.op = BF_FI_NOTSET; needv = false; }
    else {
        fi.op = BF_FI_CMP;
        if (strcmp(op, "==") == 0) fi.cmp_op = BF_CMP_EQ;
        else if (strcmp(op, "!=") == 0) fi.cmp_op = BF_CMP_NE;
        else if (strcmp(op, "<") == 0) fi.cmp_op = BF_CMP_LT;
        else if (strcmp(op, "<=") == 0) fi.cmp_op = BF_CMP_LE;
        else if (strcmp(op, ">") == 0) fi.cmp_op = BF_CMP_GT;
        else if (strcmp(op, ">=") == 0) fi.cmp_op = BF_CMP_GE;
        else return perr(st, "bad value", "flowint: bad operator '%.10s'", op);
    }
    if (needv != (n == 3))
        return perr(st, "syntax", "flowint: %s value", needv ? "missing" : "unexpected");
    if (needv) {
        if (is_ident_start(*argv[2])) {
            fi.value_var = (int32_t)bf_names_intern(&st->c->flowints, argv[2]);
        } else {
            int64_t v = 0;
            if (!parse_range(st, kw, argv[2], INT64_MIN, INT64_MAX, &v))
                return false;
            fi.value = v;
        }
    }
    fi.id = bf_names_intern(&st->c->flowints, argv[0]);
    bf_sig *s = st->s;
    if (s->nfi >= 64)
        return perr(st, "bad value", "too many flowints");
    s->fi = xrealloc(s->fi, (s->nfi + 1u) * sizeof(*s->fi));
    s->fi[s->nfi++] = fi;
    return true;
}

static bool kw_threshold(pstate *st, const char *kw, char *val)
{
    bool df = strcmp(kw, "detection_filter") == 0;
    if ((df && st->has_df) || (!df && st->has_thr))
        return perr(st, "bad value", "%s given twice", kw);
    char *argv[8];
    int n = split(val, ',', argv, 8);
    if (n < 1)
        return perr(st, "syntax", "%s: too many options", kw);
    bf_threshold t = {.type = df ? BF_THR_DETECTION_FILTER : BF_THR_NONE};
    bool have_track = false, have_count = false, have_sec = false;
    for (int i = 0; i < n; i++) {
        char *k = argv[i], *sp = k;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        if (!*sp)
            return perr(st, "syntax", "%s: bad option '%.30s'", kw, k);
        *sp = 0;
        char *v = trim_str(sp + 1);
        int64_t x = 0;
        if (strcmp(k, "type") == 0 && !df) {
            if (strcmp(v, "limit") == 0) t.type = BF_THR_LIMIT;
            else if (strcmp(v, "threshold") == 0) t.type = BF_THR_THRESHOLD;
            else if (strcmp(v, "both") == 0) t.type = BF_THR_BOTH;
            else if (strcmp(v, "backoff") == 0) t.type = BF_THR_BACKOFF;
            else return perr(st, "bad value", "%s: bad type '%.20s'", kw, v);
        } else if (strcmp(k, "track") == 0) {
            if (strcmp(v, "by_src") == 0) t.track = BF_TRACK_SRC;
            else if (strcmp(v, "by_dst") == 0) t.track = BF_TRACK_DST;
            else if (strcmp(v, "by_rule") == 0) t.track = BF_TRACK_RULE;
            else if (strcmp(v, "by_both") == 0) t.track = BF_TRACK_BOTH;
            else if (strcmp(v, "by_flow") == 0) t.track = BF_TRACK_FLOW;
            else return perr(st, "bad value", "%s: bad track '%.20s'", kw, v);
            have_track = true;
        } else if (strcmp(k, "count") == 0) {
            if (!parse_range(st, kw, v, 1, UINT32_MAX, &x))
                return false;
            t.count = (uint32_t)x;
            have_count = true;
        } else if (strcmp(k, "seconds") == 0) {
            if (!parse_range(st, kw, v, 1, UINT32_MAX, &x))
                return false;
            t.seconds = (uint32_t)x;
            have_sec = true;
        } else if (strcmp(k, "multiplier") == 0 && !df) {
            if (!parse_range(st, kw, v, 1, UINT32_MAX, &x))
                return false;
            t.multiplier = (uint32_t)x;
        } else if (strcmp(k, "unique_on") == 0 && df) {
            if (strcmp(v, "src_port") == 0) t.unique_on = BF_THR_UNIQUE_SRC_PORT;
            else if (strcmp(v, "dst_port") == 0) t.unique_on = BF_THR_UNIQUE_DST_PORT;
            else return perr(st, "bad value", "%s: bad unique_on '%.20s'", kw, v);
        } else {
            return perr(st, "bad value", "%s: unknown option '%.20s'", kw, k);
        }
    }
    if (t.type == BF_THR_BACKOFF) {
        /* backoff: count and multiplier, no seconds */
        if (!have_track || !have_count || !t.multiplier || have_sec)
            return perr(st, "syntax", "%s: backoff needs track, count and multiplier (no seconds)",
                        kw);
    } else if (t.type == BF_THR_NONE || !have_track || !have_count || !have_sec || t.multiplier) {
        return perr(st, "syntax", "%s: needs %strack, count and seconds", kw,
                    df ? "" : "type, ");
    }
    if (t.unique_on && t.track != BF_TRACK_SRC && t.track != BF_TRACK_DST &&
        t.track != BF_TRACK_BOTH && t.track != BF_TRACK_RULE)
        return perr(st, "bad value", "%s: unique_on needs track by_src, by_dst, by_both or by_rule",
                    kw);
    if (df) {
        st->s->dfilter = t;
        st->has_df = true;
    } else {
        st->s->thr = t;
        st->has_thr = true;
    }
    return true;
}

static bool kw_noalert(pstate *st, const char *kw, char *val)
{
    st->s->flags |= BF_SIG_NOALERT;
    return true;
}
static bool kw_prefilter(pstate *st, const char *kw, char *val)
{
    st->s->flags |= BF_SIG_PREFILTER;
    return true;
}
static bool kw_filestore(pstate *st, const char *kw, char *val)
{
    st->s->flags |= BF_SIG_FILESTORE;
    return true;
}

/* ------------------------------------------------------ keyword table */

static const struct kwdef { const char *name; kw_fn fn; } keywords[] = {
    {"msg", kw_msg}, {"sid", kw_sid}, {"rev", kw_rev}, {"gid", kw_gid},
    {"classtype", kw_classtype}, {"priority", kw_priority}, {"reference", kw_reference},
    {"metadata", kw_metadata}, {"target", kw_target},
    {"content", kw_content}, {"uricontent", kw_uricontent}, {"nocase", kw_nocase},
    {"rawbytes", kw_ignore}, {"depth", kw_offset_like}, {"offset", kw_offset_like},
    {"distance", kw_offset_like}, {"within", kw_offset_like}, {"startswith", kw_startswith},
    {"endswith", kw_startswith}, {"fast_pattern", kw_fast_pattern},
    {"isdataat", kw_isdataat}, {"bsize", kw_bsize}, {"dsize", kw_dsize}, {"urilen", kw_urilen},
    {"pcre", kw_pcre}, {"byte_test", kw_byte_test}, {"byte_jump", kw_byte_jump},
    {"byte_extract", kw_byte_extract}, {"byte_math", kw_byte_math}, {"absent", kw_absent},
    {"flow", kw_flow}, {"flowbits", kw_flowbits}, {"flowint", kw_flowint},
    {"threshold", kw_threshold}, {"detection_filter", kw_threshold}, {"noalert", kw_noalert},
    {"itype", kw_itype}, {"icode", kw_icode}, {"icmp_id", kw_icmp_id},
    {"icmp_seq", kw_icmp_seq}, {"ttl", kw_ttl}, {"tos", kw_tos}, {"id", kw_id},
    {"ip_proto", kw_ip_proto}, {"flags", kw_flags}, {"tcp.flags", kw_flags},
    {"fragbits", kw_fragbits}, {"fragoffset", kw_fragoffset}, {"sameip", kw_sameip},
    {"ack", kw_ack}, {"seq", kw_seq}, {"window", kw_window}, {"tcp.mss", kw_mss},
    {"ipopts", kw_ipopts}, {"stream_size", kw_stream_size},
    {"app-layer-protocol", kw_app_layer_protocol}, {"decode-event", kw_event},
    {"stream-event", kw_event}, {"prefilter", kw_prefilter}, {"tag", kw_ignore},
    {"filestore", kw_filestore}, {"filename", kw_filename}, {"fileext", kw_filename},
    {"tls.subject", kw_tls_old}, {"tls.issuerdn", kw_tls_old}, {"requires", kw_ignore},
};

static const char *unsupported[] = {
    "dce_iface", "dce_opnum", "dce_stub_data", "asn1", "lua", "luajit", "base64_decode",
    "base64_data", "xbits", "iprep", "dataset", "datarep", "ssl_state", "ssl_version",
    "tls.version", "tls.store", "tls_store", "tls_cert_notbefore", "tls_cert_notafter",
    "tls_cert_expired", "tls_cert_valid", "tls.fingerprint", "app-layer-event", "filemagic",
    "filemd5", "filesha1", "filesha256", "filesize", "file.magic", "tcpv4-csum", "tcpv6-csum",
    "udpv4-csum", "udpv6-csum", "icmpv4-csum", "icmpv6-csum", "ipv4-csum", "ftpbounce",
    "ftpdata_command", "replace", "pktvar", "flowvar", "config", "bypass", "ssh.protoversion",
    "ssh.softwareversion", "rpc", "http.request_header", "http.response_header", "template",
    "template2", "krb5_msg_type", "krb5_cname", "krb5_sname", "krb5_err_code", "sip_method",
    "sip_uri", "snmp.version", "snmp.community", "snmp.pdu_type", "enip_command", "cip_service",
    "modbus", "dnp3_func", "dnp3_ind", "dnp3_obj", "dnp3_data", "nfs_procedure",
    "nfs.version", "rfb.name", "rfb.sectype", "mqtt.type", "tls.random", "stream_data",
    "icmpv6.hdr", "ipv4.hdr", "ipv6.hdr", "tcp.hdr", "udp.hdr", "icmpv4.hdr", "l3_proto",
    "dns.opcode", "dns.answer.name", "dns.queries.rrname", "dns.answers.rrname",
    "transform", "pcrexform", "luaxform", "dataset", "xor_decode", "hostbits", "urilen_raw",
    "http2.frametype", "http2.errorcode", "http2.priority", "http2.window", "http2.settings",
    "http2.header_name", "http2.header", "http2.size_update", "http.request_header",
    "frame", "pkt_data_raw", "ike.", "quic", "ja4.hash", "tls.cert_serial_raw",
};

static bool is_unsupported(const char *kw)
{
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (strcmp(unsupported[i], kw) == 0)
            return true;
    static const char *prefixes[] = {"dnp3", "modbus", "enip", "cip", "http2", "mqtt", "krb5",
                                     "snmp", "sip", "rfb", "nfs", "ike", "quic", "dhcp", "dcerpc",
                                     "smb.", "smb_", "ssh.", "tls.", "ja3", "ja4", "dns.",
                                     "file.", "http.", "ldap", "websocket", "pgsql", "bittorrent",
                                     "email", "smtp", "ftp", "rdp", "ntp", "tftp", "vlan",
                                     "entropy", "ipsec", "mime", "pop3", "imap", "sdp"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(kw, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static int sticky_id(const char *kw)
{
    for (int i = 0; i < BF_DBUF_MAX; i++)
        if (strcmp(dbufs[i].kw, kw) == 0)
            return i;
    for (size_t i = 0; i < sizeof sticky_alias / sizeof sticky_alias[0]; i++)
        if (strcmp(sticky_alias[i].kw, kw) == 0)
            return sticky_alias[i].id;
    return -1;
}

static int legacy_id(const char *kw)
{
    for (int i = 0; i < BF_DBUF_MAX; i++)
        if (dbufs[i].legacy && strcmp(dbufs[i].legacy, kw) == 0)
            return i;
    return -1;
}

static bool apply_option(pstate *st, const char *kw, char *val)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(keywords[i].name, kw) == 0)
            return keywords[i].fn(st, kw, val);
    int id = sticky_id(kw);
    if (id >= 0) {
        if (val && *trim_str(val))
            return perr(st, "syntax", "%s takes no value", kw);
        st->cur = id;
        return true;
    }
    id = legacy_id(kw);
    if (id >= 0)
        return legacy_move(st, kw, id);
    if (xform_id(kw) >= 0)
        return kw_xform(st, kw, val);
    if (is_unsupported(kw))
        return perr_kw(st, "unsupported keyword", kw);
    return perr_kw(st, "unknown keyword", kw);
}

/* -------------------------------------------------------------- header */

static const char *next_token(char **p)
{
    char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || *s == '(')
        return NULL;
    char *start = s;
    int depth = 0;
    while (*s && (depth > 0 || (!isspace((unsigned char)*s) && *s != '('))) {
        if (*s == '[')
            depth++;
        else if (*s == ']' && depth > 0)
            depth--;
        s++;
    }
    if (*s == '(') {
        /* keep '(' for the caller: copy the token's end marker */
        *p = s;
        return NULL;
    }
    if (*s)
        *s++ = 0;
    *p = s;
    return start;
}

static bool parse_proto(pstate *st, const char *p)
{
    bf_sig *s = st->s;
    static const struct { const char *n; uint8_t sp; } l4[] = {
        {"ip", BF_SP_IP}, {"any", BF_SP_IP}, {"pkthdr", BF_SP_IP}, {"ipv4", BF_SP_IP},
        {"ip4", BF_SP_IP}, {"ipv6", BF_SP_IP}, {"ip6", BF_SP_IP}, {"tcp", BF_SP_TCP},
        {"tcp-pkt", BF_SP_TCP_PKT}, {"tcp-stream", BF_SP_TCP_STREAM}, {"udp", BF_SP_UDP},
        {"icmp", BF_SP_ICMP}, {"icmpv4", BF_SP_ICMP}, {"icmpv6", BF_SP_ICMPV6},
        {"sctp", BF_SP_SCTP}};
    for (size_t i = 0; i < sizeof l4 / sizeof l4[0]; i++)
        if (strcasecmp(l4[i].n, p) == 0) {
            s->proto = l4[i].sp;
            if (strcasecmp(p, "icmp") == 0)
                s->flags |= BF_SIG_ICMP_BOTH;
            return true;
        }
    uint16_t ap;
    if (strcasecmp(p, "http1") == 0)
        ap = BF_APP_HTTP;
    else if (strcasecmp(p, "ssl") == 0)
        ap = BF_APP_TLS;
    else if (strcasecmp(p, "failed") == 0 || strcasecmp(p, "unknown") == 0)
        ap = BF_APP_UNKNOWN;
    else
        ap = bf_app_proto_lookup(p);
    if (ap == BF_APP_UNKNOWN || ap == BF_APP_FAILED)
        return perr_kw(st, "unsupported protocol", p);
    s->proto = BF_SP_APP;
    s->app_proto = ap;
    switch (ap) {
    case BF_APP_DNS: case BF_APP_KRB5: case BF_APP_SIP: case BF_APP_SNMP: case BF_APP_DCERPC:
        s->app_l4 = 0;
        break;
    case BF_APP_NTP: case BF_APP_DHCP:
        s->app_l4 = 17;
        break;
    default:
        s->app_l4 = 6;
    }
    return true;
}

/* ---------------------------------------------------------- finishing */

static void finish(pstate *st)
{
    bf_sig *s = st->s;
    /* drop empty buffers (a legacy modifier emptied PKT) */
    uint16_t o = 0;
    for (uint16_t i = 0; i < s->nbufs; i++) {
        if (s->bufs[i].nsm == 0 && s->bufs[i].nxf == 0) {
            free(s->bufs[i].sm);
            free(s->bufs[i].xf_arg);
            continue;
        }
        s->bufs[o++] = s->bufs[i];
    }
    s->nbufs = o;
    uint8_t dirs = 0;
    for (uint16_t i = 0; i < s->nbufs; i++) {
        int id = s->bufs[i].buf;
        if (is_app_buf(id)) {
            s->flags |= BF_SIG_HAS_APP_BUF;
            dirs |= dbufs[id].dirs;
        } else if (s->bufs[i].nsm) {
            s->flags |= BF_SIG_NEEDS_PAYLOAD;
        }
    }
    if (s->flow & BF_FK_TO_SERVER)
        s->dirs = BF_DIR_TS;
    else if (s->flow & BF_FK_TO_CLIENT)
        s->dirs = BF_DIR_TC;
    else
        s->dirs = dirs ? dirs : BF_DIR_BOTH;

    /* fast pattern */
    s->fp_buf = s->fp_sm = -1;
    int best_len = -1;
    bool best_app = false;
    for (uint16_t i = 0; i < s->nbufs && s->fp_buf < 0; i++)
        for (uint16_t j = 0; j < s->bufs[i].nsm; j++)
            if (s->bufs[i].sm[j].type == BF_SM_CONTENT &&
                (s->bufs[i].sm[j].flags & BF_SMF_FAST_PATTERN)) {
                s->fp_buf = (int16_t)i;
                s->fp_sm = (int16_t)j;
                if (s->bufs[i].sm[j].flags & BF_SMF_NEGATED)
                    s->flags |= BF_SIG_FP_NEGATED;
                break;
            }
    if (s->fp_buf < 0)
        for (uint16_t i = 0; i < s->nbufs; i++) {
            bool app = is_app_buf(s->bufs[i].buf);
            for (uint16_t j = 0; j < s->bufs[i].nsm; j++) {
                const bf_sm *m = &s->bufs[i].sm[j];
                if (m->type != BF_SM_CONTENT || (m->flags & BF_SMF_NEGATED))
                    continue;
                if (m->content.len > best_len || (m->content.len == best_len && app && !best_app)) {
                    best_len = m->content.len;
                    best_app = app;
                    s->fp_buf = (int16_t)i;
                    s->fp_sm = (int16_t)j;
                }
            }
        }

    bool only_ipproto = true;
    for (uint16_t i = 0; i < s->npkw; i++)
        if (s->pkw[i].type != BF_PK_IP_PROTO)
            only_ipproto = false;
    if (s->nbufs == 0 && only_ipproto && s->flow == 0 && s->proto != BF_SP_APP && s->nfb == 0 &&
        s->nfi == 0)
        s->flags |= BF_SIG_IPONLY;

    if (!s->gid)
        s->gid = 1;
    if (!st->has_prio)
        s->prio = st->class_prio ? st->class_prio : 3;
}

bf_sig *bf_sig_parse(bf_parse_ctx *c, const char *text, char *err, size_t errlen, char *reason,
                     size_t reasonlen)
{
    if (err && errlen)
        err[0] = 0;
    if (reason && reasonlen)
        reason[0] = 0;
    pstate st = {.c = c, .err = err, .errlen = errlen, .reason = reason,
                 .reasonlen = reasonlen, .cur = BF_DBUF_PKT, .last_buf = -1, .last_sm = -1};
    size_t tlen = strlen(text);
    if (tlen > MAX_RULE_LEN) {
        perr(&st, "syntax", "rule too long");
        return NULL;
    }
    char *buf = malloc(tlen + 1);
    bf_sig *s = calloc(1, sizeof(*s));
    if (!buf || !s)
        abort();
    memcpy(buf, text, tlen + 1);
    st.s = s;
    s->fp_buf = s->fp_sm = -1;
    s->text = strdup(text);
    s->gid = 0;

    char *p = buf;
    const char *tok[7];
    int nt = 0;
    while (nt < 7 && (tok[nt] = next_token(&p)) != NULL)
        nt++;
    while (isspace((unsigned char)*p))
        p++;
    if (nt != 7 || *p != '(') {
        perr(&st, "syntax", "bad rule header (expected action proto src sport dir dst dport)");
        goto fail;
    }
    static const char *acts[] = {"alert", "pass", "drop", "reject", "rejectdst", "rejectboth"};
    int act = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(acts[i], tok[0]) == 0)
            act = i;
    if (strcmp(tok[0], "rejectsrc") == 0)
        act = BF_ACT_REJECT;
    if (act < 0) {
        perr_kw(&st, "unknown action", tok[0]);
        goto fail;
    }
    s->action = (uint8_t)act;
    if (!parse_proto(&st, tok[1]))
        goto fail;
    char e[200];
    if (!bf_parse_addr_set(c, tok[2], &s->src, e, sizeof e) ||
        !bf_parse_addr_set(c, tok[5], &s->dst, e, sizeof e)) {
        perr(&st, "bad address", "%s", e);
        goto fail;
    }
    if (!bf_parse_port_set(c, tok[3], &s->sp, e, sizeof e) ||
        !bf_parse_port_set(c, tok[6], &s->dp, e, sizeof e)) {
        perr(&st, "bad port", "%s", e);
        goto fail;
    }
    if (strcmp(tok[4], "<>") == 0) {
        s->flags |= BF_SIG_BIDIR;
    } else if (strcmp(tok[4], "->") != 0) {
        perr(&st, "syntax", "bad direction '%.10s'", tok[4]);
        goto fail;
    }
    {
        int ver = strcasecmp(tok[1], "ipv4") == 0 || strcasecmp(tok[1], "ip4") == 0   ? 4
                  : strcasecmp(tok[1], "ipv6") == 0 || strcasecmp(tok[1], "ip6") == 0 ? 6
                                                                                     : 0;
        if (ver) {
            bf_ipset_restrict(&s->src, ver);
            bf_ipset_restrict(&s->dst, ver);
        }
    }

    /* options */
    p++;
    char *end = p + strlen(p);
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (end == p || end[-1] != ')') {
        perr(&st, "syntax", "rule does not end with ')'");
        goto fail;
    }
    *--end = 0;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end)
            break;
        char *name = p;
        while (p < end && *p != ':' && *p != ';' && !isspace((unsigned char)*p))
            p++;
        char *name_end = p;
        while (p < end && isspace((unsigned char)*p))
            p++;
        char *val = NULL;
        if (p < end && *p == ':') {
            p++;
            val = p;
            while (p < end && *p != ';') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            if (p < end)
                *p++ = 0; /* else: last option without ';' */
            val = trim_str(val);
        } else if (p < end && *p == ';') {
            p++;
        } else if (p < end) {
            *name_end = 0;
            perr(&st, "syntax", "expected ':' or ';' after '%.40s'", name);
            goto fail;
        }
        *name_end = 0;
        if (!*name) {
            perr(&st, "syntax", "empty option name");
            goto fail;
        }
        if (!apply_option(&st, name, val))
            goto fail;
    }
    if (!st.has_sid) {
        perr(&st, "rule has no sid", "rule has no sid");
        goto fail;
    }
    finish(&st);
    free(buf);
    return s;
fail:
    if (reason && reasonlen && !reason[0])
        snprintf(reason, reasonlen, "syntax");
    free(buf);
    bf_sig_free(s);
    return NULL;
}

/* ------------------------------------------------------------- files */

bool bf_rules_load_file(bf_parse_ctx *c, const char *path, bf_sig ***sigs, size_t *nsigs,
                        bf_rule_error_fn on_error, void *ud, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    char *rule = NULL;
    size_t rlen = 0, rcap = 0;
    uint32_t lineno = 0, first = 0;
    size_t cap = *nsigs;
    char e[512], r[128];
    for (;;) {
        n = getline(&line, &lcap, f);
        if (n >= 0)
            lineno++;
        if (n > 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            bool cont = n > 0 && line[n - 1] == '\\';
            if (cont)
                line[--n] = 0;
            if (rlen == 0) {
                char *t = line;
                while (isspace((unsigned char)*t))
                    t++;
                if ((*t == 0 || *t == '#') && !cont)
                    continue;
                if (*t == 0 && cont)
                    continue;
                first = lineno;
            }
            if (rlen + (size_t)n + 1 > rcap) {
                rcap = (rlen + (size_t)n + 1) * 2;
                rule = xrealloc(rule, rcap);
            }
            memcpy(rule + rlen, line, (size_t)n);
            rlen += (size_t)n;
            rule[rlen] = 0;
            if (cont)
                continue;
        } else if (n == 0 || (n < 0 && rlen == 0)) {
            if (n < 0)
                break;
            continue;
        }
        /* a complete rule (or EOF after a continuation) */
        if (rlen) {
            char *t = rule;
            while (isspace((unsigned char)*t))
                t++;
            if (*t != '#') {
                bf_sig *s = bf_sig_parse(c, t, e, sizeof e, r, sizeof r);
                if (s) {
                    s->file = strdup(path);
                    s->line = first;
                    if (*nsigs == cap || *sigs == NULL) {
                        cap = cap < 64 ? 64 : cap * 2;
                        if (cap <= *nsigs)
                            cap = *nsigs * 2 + 64;
                        *sigs = xrealloc(*sigs, cap * sizeof(**sigs));
                    }
                    (*sigs)[(*nsigs)++] = s;
                } else if (on_error) {
                    on_error(ud, path, first, e, r);
                }
            }
            rlen = 0;
        }
        if (n < 0)
            break;
    }
    free(line);
    free(rule);
    fclose(f);
    return true;
}
