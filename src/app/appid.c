/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/appid.c: protocol identification by content.  Each probe looks at the
 * first bytes of one direction and answers yes / no / need more.  Ports are
 * only a hint used to order ambiguous answers (e.g. a 220 greeting is SMTP
 * or FTP depending on what follows).  Every probe is bounds-checked. */
#include "app/app.h"

#include <ctype.h>
#include <strings.h>

static const char *const names[BF_APP_MAX] = {
    [BF_APP_UNKNOWN] = NULL,  [BF_APP_FAILED] = "failed", [BF_APP_HTTP] = "http",
    [BF_APP_TLS] = "tls",     [BF_APP_DNS] = "dns",       [BF_APP_SMTP] = "smtp",
    [BF_APP_SMB] = "smb",     [BF_APP_SSH] = "ssh",       [BF_APP_FTP] = "ftp",
    [BF_APP_RDP] = "rdp",     [BF_APP_DCERPC] = "dcerpc", [BF_APP_NTP] = "ntp",
    [BF_APP_DHCP] = "dhcp",   [BF_APP_SIP] = "sip",       [BF_APP_KRB5] = "krb5",
    [BF_APP_SNMP] = "snmp",   [BF_APP_IMAP] = "imap",     [BF_APP_POP3] = "pop3",
};

const char *bf_app_proto_name(uint16_t ap) { return ap < BF_APP_MAX ? names[ap] : NULL; }

uint16_t bf_app_proto_lookup(const char *name)
{
    for (uint16_t i = 1; i < BF_APP_MAX; i++)
        if (names[i] && strcasecmp(names[i], name) == 0)
            return i;
    return BF_APP_UNKNOWN;
}

enum { NO = 0, YES = 1, MORE = 2 };

/* data starts with the literal s (case-sensitive); MORE if data is a prefix */
static int starts(const uint8_t *d, uint32_t n, const char *s)
{
    size_t l = strlen(s);
    if (n < l)
        return memcmp(d, s, n) == 0 ? MORE : NO;
    return memcmp(d, s, l) == 0 ? YES : NO;
}

static int probe_http_req(const uint8_t *d, uint32_t n)
{
    static const char *const methods[] = {
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "TRACE ",
        "PATCH ", "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ", "UNLOCK ",
        "SEARCH ", "REPORT ", "CHECKOUT ", "MERGE ", "SUBSCRIBE ", "NOTIFY ", "POLL ",
        "BCOPY ", "BDELETE ", "BMOVE ", "BPROPFIND ", "BPROPPATCH ",
    };
    int best = NO;
    for (size_t i = 0; i < BF_ARRAY_LEN(methods); i++) {
        int r = starts(d, n, methods[i]);
        if (r == YES) {
            /* SIP shares the request shape: "INVITE sip:" ... but not these
             * methods except OPTIONS/NOTIFY/SUBSCRIBE; check the URI */
            size_t ml = strlen(methods[i]);
            if (n >= ml + 4 && strncasecmp((const char *)d + ml, "sip:", 4) == 0)
                return NO;
            return YES;
        }
        if (r == MORE)
            best = MORE;
    }
    return best;
}

static int probe_http_resp(const uint8_t *d, uint32_t n)
{
    int r = starts(d, n, "HTTP/");
    if (r != YES)
        return r;
    if (n < 6)
        return MORE;
    return isdigit(d[5]) ? YES : NO;
}

static int probe_tls(const uint8_t *d, uint32_t n)
{
    /* record: type 0x16 handshake (or 0x15 alert), version 3.x, length */
    if (n < 1)
        return MORE;
    if (d[0] == 0x16 || d[0] == 0x15 || d[0] == 0x17) {
        if (n < 3)
            return MORE;
        if (d[1] != 3 || d[2] > 4)
            return NO;
        if (n < 6)
            return MORE;
        uint16_t rl = bf_be16(d + 3);
        if (rl == 0 || rl > 18432)
            return NO;
        if (d[0] == 0x16)
            return (d[5] >= 1 && d[5] <= 24) ? YES : NO; /* handshake type */
        return YES;
    }
    /* SSLv2 ClientHello: 0x80 len, type 1, version 3.x or 2 */
    if (d[0] & 0x80) {
        if (n < 5)
            return MORE;
        return d[2] == 1 && (d[3] == 3 || d[3] == 0 || d[3] == 2) ? YES : NO;
    }
    return NO;
}

static int probe_ssh(const uint8_t *d, uint32_t n) { return starts(d, n, "SSH-"); }

/* SMB over NetBIOS session service / direct TCP: 4-byte header then
 * \xffSMB (SMB1), \xfeSMB (SMB2/3) or \xfdSMB (SMB3 transform). */
static int probe_smb(const uint8_t *d, uint32_t n)
{
    if (n < 1)
        return MORE;
    if (d[0] != 0x00 && d[0] != 0x81 && d[0] != 0x85 && d[0] != 0x82)
        return NO;
    if (d[0] != 0x00)
        return n >= 4 && d[0] == 0x81 ? YES : (n < 4 ? MORE : NO); /* session request */
    if (n < 8)
        return MORE;
    if ((d[5] == 'S' && d[6] == 'M' && d[7] == 'B') &&
        (d[4] == 0xff || d[4] == 0xfe || d[4] == 0xfd))
        return YES;
    return NO;
}

/* DCERPC connection-oriented: version 5.0, packet type bind (11) etc. */
static int probe_dcerpc(const uint8_t *d, uint32_t n)
{
    if (n < 2)
        return n && d[0] == 5 ? MORE : NO;
    if (d[0] != 5 || d[1] != 0)
        return NO;
    if (n < 10)
        return MORE;
    uint8_t type = d[2];
    uint16_t frag = (d[4] & 0x10) ? bf_le16(d + 8) : bf_be16(d + 8);
    return type <= 20 && frag >= 16 ? YES : NO;
}

/* RDP: TPKT (3, 0, len) + X.224 connection request (0xe0) */
static int probe_rdp(const uint8_t *d, uint32_t n)
{
    if (n < 1)
        return MORE;
    if (d[0] != 3)
        return NO;
    if (n < 6)
        return MORE;
    if (d[1] != 0)
        return NO;
    uint16_t l = bf_be16(d + 2);
    if (l < 11)
        return NO;
    return (d[5] & 0xf0) == 0xe0 || (d[5] & 0xf0) == 0xd0 ? YES : NO;
}

/* Client side of SMTP / FTP / POP3 / IMAP. */
static uint16_t probe_text_client(const uint8_t *d, uint32_t n, uint16_t port, int *res)
{
    struct { const char *cmd; uint16_t ap; } cmds[] = {
        {"EHLO ", BF_APP_SMTP}, {"HELO ", BF_APP_SMTP}, {"EHLO\r", BF_APP_SMTP},
        {"USER ", BF_APP_FTP},  {"AUTH TLS", BF_APP_FTP}, {"AUTH SSL", BF_APP_FTP},
        {"CAPA\r", BF_APP_POP3},
    };
    int best = NO;
    for (size_t i = 0; i < BF_ARRAY_LEN(cmds); i++) {
        uint32_t l = (uint32_t)strlen(cmds[i].cmd);
        if (n >= l && strncasecmp((const char *)d, cmds[i].cmd, l) == 0) {
            *res = YES;
            /* USER is FTP or POP3: the port decides */
            if (cmds[i].ap == BF_APP_FTP && (port == 110 || port == 995))
                return BF_APP_POP3;
            return cmds[i].ap;
        }
        if (n < l && strncasecmp((const char *)d, cmds[i].cmd, n) == 0)
            best = MORE;
    }
    /* IMAP: "tag CAPABILITY" / "tag LOGIN" */
    const uint8_t *sp = memchr(d, ' ', BF_MIN(n, 32u));
    if (sp) {
        uint32_t off = (uint32_t)(sp - d) + 1;
        if (n - off >= 10 && strncasecmp((const char *)d + off, "CAPABILITY", 10) == 0) {
            *res = YES;
            return BF_APP_IMAP;
        }
    }
    *res = best;
    return BF_APP_UNKNOWN;
}

/* Server greeting "220 ..." is SMTP or FTP; "+OK" POP3; "* OK" IMAP. */
static uint16_t probe_text_server(const uint8_t *d, uint32_t n, uint16_t port, int *res)
{
    *res = NO;
    if (n < 4) {
        if (n && (d[0] == '2' || d[0] == '+' || d[0] == '*'))
            *res = MORE;
        return BF_APP_UNKNOWN;
    }
    if (memcmp(d, "+OK", 3) == 0) {
        *res = YES;
        return BF_APP_POP3;
    }
    if (memcmp(d, "* OK", 4) == 0) {
        *res = YES;
        return BF_APP_IMAP;
    }
    if (memcmp(d, "220", 3) == 0 && (d[3] == ' ' || d[3] == '-')) {
        /* look for a hint in the greeting line */
        uint32_t l = BF_MIN(n, 512u);
        const uint8_t *nl = memchr(d, '\n', l);
        if (!nl && n < 512) {
            *res = MORE;
            return BF_APP_UNKNOWN;
        }
        uint32_t ll = nl ? (uint32_t)(nl - d) : l;
        *res = YES;
        if (memmem(d, ll, "SMTP", 4) || memmem(d, ll, "smtp", 4) || memmem(d, ll, "Postfix", 7) ||
            memmem(d, ll, "Exim", 4) || memmem(d, ll, "ESMTP", 5))
            return BF_APP_SMTP;
        if (memmem(d, ll, "FTP", 3) || memmem(d, ll, "ftp", 3) || memmem(d, ll, "FileZilla", 9))
            return BF_APP_FTP;
        return (port == 21 || port == 2121) ? BF_APP_FTP : BF_APP_SMTP;
    }
    return BF_APP_UNKNOWN;
}

static int probe_sip(const uint8_t *d, uint32_t n)
{
    int r = starts(d, n, "SIP/2.0");
    if (r != NO)
        return r;
    static const char *const m[] = {"INVITE ", "REGISTER ", "OPTIONS ", "ACK ", "BYE ",
                                    "CANCEL ", "SUBSCRIBE ", "NOTIFY ", "MESSAGE ", "INFO "};
    for (size_t i = 0; i < BF_ARRAY_LEN(m); i++) {
        size_t l = strlen(m[i]);
        if (n >= l + 4 && memcmp(d, m[i], l) == 0 && strncasecmp((const char *)d + l, "sip:", 4) == 0)
            return YES;
    }
    return NO;
}

/* DNS message sanity: header, counts, and the first question name. */
static int probe_dns(const uint8_t *d, uint32_t n, bool tcp)
{
    if (tcp) {
        if (n < 2)
            return MORE;
        uint16_t l = bf_be16(d);
        if (l < 12)
            return NO;
        d += 2;
        n -= 2;
    }
    if (n < 12)
        return tcp ? MORE : NO;
    uint8_t opcode = (d[2] >> 3) & 0x0f;
    if (opcode > 6 || opcode == 3)
        return NO;
    uint16_t qd = bf_be16(d + 4), an = bf_be16(d + 6), ns = bf_be16(d + 8), ar = bf_be16(d + 10);
    if (qd > 4 || an > 256 || ns > 256 || ar > 256)
        return NO;
    if (qd == 0) {
        /* responses without question are rare; only accept with answers */
        return (d[2] & 0x80) && (an || ns) ? YES : NO;
    }
    /* walk the first question name (no compression allowed there) */
    uint32_t off = 12, labels = 0;
    while (off < n) {
        uint8_t l = d[off];
        if (l == 0) {
            off++;
            return off + 4 <= n ? YES : (tcp ? MORE : NO);
        }
        if (l > 63 || ++labels > 127)
            return NO;
        off += 1u + l;
    }
    return tcp ? MORE : NO;
}

static int probe_ntp(const uint8_t *d, uint32_t n)
{
    if (n < 48)
        return NO;
    uint8_t vn = (d[0] >> 3) & 7, mode = d[0] & 7;
    return vn >= 1 && vn <= 4 && mode >= 1 && mode <= 5 ? YES : NO;
}

static int probe_dhcp(const uint8_t *d, uint32_t n)
{
    if (n < 240)
        return NO;
    return (d[0] == 1 || d[0] == 2) && bf_be32(d + 236) == 0x63825363 ? YES : NO;
}

uint16_t bf_app_identify(uint8_t ipproto, int dir, const uint8_t *d, uint32_t n, uint16_t port)
{
    if (n == 0)
        return BF_APP_UNKNOWN;
    bool more = false;
    int r;
#define TRY(expr, ap)                                                                              \
    do {                                                                                           \
        r = (expr);                                                                                \
        if (r == YES)                                                                              \
            return (ap);                                                                           \
        if (r == MORE)                                                                             \
            more = true;                                                                           \
    } while (0)

    if (ipproto == 17) {
        if (port == 5060 || port == 5061)
            TRY(probe_sip(d, n), BF_APP_SIP);
        if (port == 123)
            TRY(probe_ntp(d, n), BF_APP_NTP);
        if (port == 67 || port == 68)
            TRY(probe_dhcp(d, n), BF_APP_DHCP);
        TRY(probe_dns(d, n, false), BF_APP_DNS);
        TRY(probe_sip(d, n), BF_APP_SIP);
        return BF_APP_FAILED;
    }

    /* TCP: the binary protocols first, they decide on a few bytes */
    TRY(probe_tls(d, n), BF_APP_TLS);
    TRY(probe_smb(d, n), BF_APP_SMB);
    TRY(probe_dcerpc(d, n), BF_APP_DCERPC);
    TRY(probe_ssh(d, n), BF_APP_SSH);
    if (dir == 0) {
        TRY(probe_http_req(d, n), BF_APP_HTTP);
        int tr;
        uint16_t ap = probe_text_client(d, n, port, &tr);
        if (tr == YES)
            return ap;
        if (tr == MORE)
            more = true;
        TRY(probe_rdp(d, n), BF_APP_RDP);
    } else {
        TRY(probe_http_resp(d, n), BF_APP_HTTP);
        int tr;
        uint16_t ap = probe_text_server(d, n, port, &tr);
        if (tr == YES)
            return ap;
        if (tr == MORE)
            more = true;
    }
    TRY(probe_sip(d, n), BF_APP_SIP);
    if (port == 53 || port == 5353)
        TRY(probe_dns(d, n, true), BF_APP_DNS);
#undef TRY
    /* give up after enough bytes without a match */
    if (more && n < 2048)
        return BF_APP_UNKNOWN;
    return BF_APP_FAILED;
}

int bf_app_udp_msg_dir(uint16_t ap, const uint8_t *d, uint32_t n)
{
    if (ap == BF_APP_DNS && n >= 12)
        return (d[2] & 0x80) ? 1 : 0;
    return -1;
}
