/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/smb_util.c: helpers of the SMB analyzer with no state: UTF-16LE
 * conversion, the tolerant GSS-API / SPNEGO walker that finds an NTLMSSP
 * message, entropy, and the name tables (NT status, commands, dialects,
 * FSCTL codes) with Suricata's spellings. */
#include "app/smb/smb_int.h"

#include <math.h>
#include <stdio.h>

static size_t put_utf8(char *out, size_t o, size_t cap, uint32_t cp, bool *cut)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (o + n + 1 > cap) {
        *cut = true;
        return o;
    }
    memcpy(out + o, b, n);
    return o + n;
}

size_t bf_smb_utf16_to_utf8(const uint8_t *p, size_t n, char *out, size_t cap, bool *cut)
{
    bool dummy = false;
    if (!cut)
        cut = &dummy;
    if (!cap)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i + 1 < n && !*cut; i += 2) {
        uint32_t c = bf_le16(p + i);
        if (!c)
            continue;
        if (c >= 0xd800 && c < 0xdc00) {
            uint32_t c2 = i + 3 < n ? bf_le16(p + i + 2) : 0;
            if (c2 >= 0xdc00 && c2 < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
                i += 2;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xdc00 && c < 0xe000) {
            c = 0xfffd;
        }
        o = put_utf8(out, o, cap, c, cut);
    }
    out[o] = 0;
    return o;
}

/* Copies OEM / ASCII bytes (NULs dropped). */
size_t smb_ascii_copy(const uint8_t *p, size_t n, char *out, size_t cap, bool *cut)
{
    size_t o = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            continue;
        if (o + 2 > cap) {
            *cut = true;
            break;
        }
        out[o++] = (char)p[i];
    }
    out[o] = 0;
    return o;
}

/* ---- GSS-API / SPNEGO ------------------------------------------------- */

static const uint8_t NTLMSSP_SIG[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* One DER/BER TLV header: tag (single or multi-byte), definite length. */
static bool asn1_hdr(const uint8_t *p, size_t n, size_t *hlen, uint8_t *tag, size_t *len)
{
    size_t o = 0;
    if (n < 2)
        return false;
    *tag = p[o++];
    if ((*tag & 0x1f) == 0x1f) {
        while (o < n && o < 6 && (p[o] & 0x80))
            o++;
        o++;
        if (o >= n)
            return false;
    }
    uint8_t l = p[o++];
    if (l < 0x80) {
        *len = l;
    } else {
        unsigned k = l & 0x7f;
        if (!k || k > 4 || o + k > n)
            return false;   /* indefinite or oversized */
        size_t v = 0;
        for (unsigned i = 0; i < k; i++)
            v = (v << 8) | p[o++];
        *len = v;
    }
    *hlen = o;
    return *len <= n - o;
}

/* Depth-first over constructed elements (bounded depth and steps) for an
 * OCTET STRING (or any primitive) holding an NTLMSSP message. */
static const uint8_t *asn1_walk(const uint8_t *p, size_t n, int depth, unsigned *steps,
                                size_t *out_len)
{
    size_t o = 0;
    while (o < n) {
        if (++*steps > 256)
            return NULL;
        size_t hl, len;
        uint8_t tag;
        if (!asn1_hdr(p + o, n - o, &hl, &tag, &len))
            return NULL;
        const uint8_t *v = p + o + hl;
        if (len >= 8 && !memcmp(v, NTLMSSP_SIG, 8)) {
            *out_len = len;
            return v;
        }
        if ((tag & 0x20) && depth < 10) {
            const uint8_t *r = asn1_walk(v, len, depth + 1, steps, out_len);
            if (r)
                return r;
        }
        o += hl + len;
    }
    return NULL;
}

const uint8_t *bf_smb_find_ntlmssp(const uint8_t *p, size_t n, size_t *len)
{
    if (!p || n < 8)
        return NULL;
    if (!memcmp(p, NTLMSSP_SIG, 8)) {   /* raw NTLMSSP (no SPNEGO) */
        *len = n;
        return p;
    }
    unsigned steps = 0;
    const uint8_t *r = asn1_walk(p, n, 0, &steps, len);
    if (r)
        return r;
    /* tolerant fallback: a walker-defeating encoding still carries it */
    r = memmem(p, n, NTLMSSP_SIG, 8);
    if (r)
        *len = n - (size_t)(r - p);
    return r;
}

bool smb_blob_is_kerberos(const uint8_t *p, size_t n)
{
    /* OIDs 1.2.840.113554.1.2.2 (krb5) and 1.2.840.48018.1.2.2 (MS krb5) */
    static const uint8_t k1[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    static const uint8_t k2[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
    return p && n && (memmem(p, n, k1, sizeof k1) || memmem(p, n, k2, sizeof k2));
}

/* ---- entropy ----------------------------------------------------------- */

double bf_smb_entropy(const uint32_t hist[256], uint32_t n)
{
    if (!n)
        return 0.0;
    double h = 0.0;
    for (int i = 0; i < 256; i++) {
        if (!hist[i])
            continue;
        double q = (double)hist[i] / n;
        h -= q * log2(q);
    }
    return h < 0 ? 0.0 : h;
}

/* ---- names ------------------------------------------------------------- */

static const struct {
    uint32_t v;
    const char *n;
} ntstatus[] = {
    {0x00000000, "STATUS_SUCCESS"},
    {0x00000103, "STATUS_PENDING"},
    {0x0000010c, "STATUS_NOTIFY_ENUM_DIR"},
    {0x80000005, "STATUS_BUFFER_OVERFLOW"},
    {0x80000006, "STATUS_NO_MORE_FILES"},
    {0x8000002d, "STATUS_STOPPED_ON_SYMLINK"},
    {0xc0000001, "STATUS_UNSUCCESSFUL"},
    {0xc0000002, "STATUS_NOT_IMPLEMENTED"},
    {0xc0000003, "STATUS_INVALID_INFO_CLASS"},
    {0xc0000004, "STATUS_INFO_LENGTH_MISMATCH"},
    {0xc0000008, "STATUS_INVALID_HANDLE"},
    {0xc000000d, "STATUS_INVALID_PARAMETER"},
    {0xc000000f, "STATUS_NO_SUCH_FILE"},
    {0xc0000010, "STATUS_INVALID_DEVICE_REQUEST"},
    {0xc0000011, "STATUS_END_OF_FILE"},
    {0xc0000016, "STATUS_MORE_PROCESSING_REQUIRED"},
    {0xc0000022, "STATUS_ACCESS_DENIED"},
    {0xc0000023, "STATUS_BUFFER_TOO_SMALL"},
    {0xc0000033, "STATUS_OBJECT_NAME_INVALID"},
    {0xc0000034, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xc0000035, "STATUS_OBJECT_NAME_COLLISION"},
    {0xc000003a, "STATUS_OBJECT_PATH_NOT_FOUND"},
    {0xc0000043, "STATUS_SHARING_VIOLATION"},
    {0xc0000056, "STATUS_DELETE_PENDING"},
    {0xc0000064, "STATUS_NO_SUCH_USER"},
    {0xc000006a, "STATUS_WRONG_PASSWORD"},
    {0xc000006d, "STATUS_LOGON_FAILURE"},
    {0xc000006e, "STATUS_ACCOUNT_RESTRICTION"},
    {0xc000006f, "STATUS_INVALID_LOGON_HOURS"},
    {0xc0000070, "STATUS_INVALID_WORKSTATION"},
    {0xc0000071, "STATUS_PASSWORD_EXPIRED"},
    {0xc0000072, "STATUS_ACCOUNT_DISABLED"},
    {0xc000009a, "STATUS_INSUFFICIENT_RESOURCES"},
    {0xc00000ba, "STATUS_FILE_IS_A_DIRECTORY"},
    {0xc00000bb, "STATUS_NOT_SUPPORTED"},
    {0xc00000c9, "STATUS_NETWORK_NAME_DELETED"},
    {0xc00000cc, "STATUS_BAD_NETWORK_NAME"},
    {0xc0000101, "STATUS_DIRECTORY_NOT_EMPTY"},
    {0xc0000103, "STATUS_NOT_A_DIRECTORY"},
    {0xc0000120, "STATUS_CANCELLED"},
    {0xc0000128, "STATUS_FILE_CLOSED"},
    {0xc000014b, "STATUS_PIPE_BROKEN"},
    {0xc0000193, "STATUS_ACCOUNT_EXPIRED"},
    {0xc000019c, "STATUS_FS_DRIVER_REQUIRED"},
    {0xc0000203, "STATUS_USER_SESSION_DELETED"},
    {0xc0000224, "STATUS_PASSWORD_MUST_CHANGE"},
    {0xc0000225, "STATUS_NOT_FOUND"},
    {0xc0000234, "STATUS_ACCOUNT_LOCKED_OUT"},
    {0xc000035c, "STATUS_NETWORK_SESSION_EXPIRED"},
    {0xc00000b0, "STATUS_PIPE_DISCONNECTED"},
    {0xc00000b5, "STATUS_IO_TIMEOUT"},
};

const char *bf_smb_ntstatus_name(uint32_t st)
{
    for (size_t i = 0; i < BF_ARRAY_LEN(ntstatus); i++)
        if (ntstatus[i].v == st)
            return ntstatus[i].n;
    return NULL;
}

/* Statuses that say the credentials were refused. */
bool smb_status_logon_failure(uint32_t st)
{
    switch (st) {
    case 0xc000006d: case 0xc0000064: case 0xc000006a: case 0xc000006e: case 0xc000006f:
    case 0xc0000070: case 0xc0000071: case 0xc0000072: case 0xc0000193: case 0xc0000224:
    case 0xc0000234: case 0xc0000022:
        return true;
    default:
        return false;
    }
}

static const char *const smb2_cmds[] = {
    "SMB2_COMMAND_NEGOTIATE_PROTOCOL", "SMB2_COMMAND_SESSION_SETUP", "SMB2_COMMAND_SESSION_LOGOFF",
    "SMB2_COMMAND_TREE_CONNECT",       "SMB2_COMMAND_TREE_DISCONNECT", "SMB2_COMMAND_CREATE",
    "SMB2_COMMAND_CLOSE",              "SMB2_COMMAND_FLUSH",        "SMB2_COMMAND_READ",
    "SMB2_COMMAND_WRITE",              "SMB2_COMMAND_LOCK",         "SMB2_COMMAND_IOCTL",
    "SMB2_COMMAND_CANCEL",             "SMB2_COMMAND_KEEPALIVE",    "SMB2_COMMAND_FIND",
    "SMB2_COMMAND_CHANGE_NOTIFY",      "SMB2_COMMAND_GET_INFO",     "SMB2_COMMAND_SET_INFO",
    "SMB2_COMMAND_OPLOCK_BREAK",
};

const char *smb2_command_name(uint16_t c, char *buf, size_t len)
{
    if (c < BF_ARRAY_LEN(smb2_cmds))
        return smb2_cmds[c];
    snprintf(buf, len, "%u", c);
    return buf;
}

const char *smb1_command_name(uint8_t c)
{
    switch (c) {
    case 0x00: return "SMB1_COMMAND_CREATE_DIRECTORY";
    case 0x01: return "SMB1_COMMAND_DELETE_DIRECTORY";
    case 0x02: return "SMB1_COMMAND_OPEN";
    case 0x03: return "SMB1_COMMAND_CREATE";
    case 0x04: return "SMB1_COMMAND_CLOSE";
    case 0x05: return "SMB1_COMMAND_FLUSH";
    case 0x06: return "SMB1_COMMAND_DELETE";
    case 0x07: return "SMB1_COMMAND_RENAME";
    case 0x08: return "SMB1_COMMAND_QUERY_INFORMATION";
    case 0x09: return "SMB1_COMMAND_SET_INFORMATION";
    case 0x0a: return "SMB1_COMMAND_READ";
    case 0x0b: return "SMB1_COMMAND_WRITE";
    case 0x0c: return "SMB1_COMMAND_LOCK_BYTE_RANGE";
    case 0x0d: return "SMB1_COMMAND_UNLOCK_BYTE_RANGE";
    case 0x0e: return "SMB1_COMMAND_CREATE_TEMPORARY";
    case 0x0f: return "SMB1_COMMAND_CREATE_NEW";
    case 0x10: return "SMB1_COMMAND_CHECK_DIRECTORY";
    case 0x11: return "SMB1_COMMAND_PROCESS_EXIT";
    case 0x12: return "SMB1_COMMAND_SEEK";
    case 0x13: return "SMB1_COMMAND_LOCK_AND_READ";
    case 0x14: return "SMB1_COMMAND_WRITE_AND_UNLOCK";
    case 0x1a: return "SMB1_COMMAND_READ_RAW";
    case 0x1d: return "SMB1_COMMAND_WRITE_RAW";
    case 0x22: return "SMB1_COMMAND_SET_INFORMATION2";
    case 0x23: return "SMB1_COMMAND_QUERY_INFORMATION2";
    case 0x24: return "SMB1_COMMAND_LOCKING_ANDX";
    case 0x25: return "SMB1_COMMAND_TRANS";
    case 0x26: return "SMB1_COMMAND_TRANS_SECONDARY";
    case 0x27: return "SMB1_COMMAND_IOCTL";
    case 0x2b: return "SMB1_COMMAND_ECHO";
    case 0x2c: return "SMB1_COMMAND_WRITE_AND_CLOSE";
    case 0x2d: return "SMB1_COMMAND_OPEN_ANDX";
    case 0x2e: return "SMB1_COMMAND_READ_ANDX";
    case 0x2f: return "SMB1_COMMAND_WRITE_ANDX";
    case 0x31: return "SMB1_COMMAND_CLOSE_AND_TREE_DISC";
    case 0x32: return "SMB1_COMMAND_TRANS2";
    case 0x33: return "SMB1_COMMAND_TRANS2_SECONDARY";
    case 0x34: return "SMB1_COMMAND_FIND_CLOSE2";
    case 0x70: return "SMB1_COMMAND_TREE_CONNECT";
    case 0x71: return "SMB1_COMMAND_TREE_DISCONNECT";
    case 0x72: return "SMB1_COMMAND_NEGOTIATE_PROTOCOL";
    case 0x73: return "SMB1_COMMAND_SESSION_SETUP_ANDX";
    case 0x74: return "SMB1_COMMAND_LOGOFF_ANDX";
    case 0x75: return "SMB1_COMMAND_TREE_CONNECT_ANDX";
    case 0x80: return "SMB1_COMMAND_QUERY_INFO_DISK";
    case 0x81: return "SMB1_COMMAND_SEARCH";
    case 0x82: return "SMB1_COMMAND_FIND";
    case 0x83: return "SMB1_COMMAND_FIND_UNIQUE";
    case 0x84: return "SMB1_COMMAND_FIND_CLOSE";
    case 0xa0: return "SMB1_COMMAND_NT_TRANS";
    case 0xa1: return "SMB1_COMMAND_NT_TRANS_SECONDARY";
    case 0xa2: return "SMB1_COMMAND_NT_CREATE_ANDX";
    case 0xa4: return "SMB1_COMMAND_NT_CANCEL";
    case 0xa5: return "SMB1_COMMAND_NT_RENAME";
    case 0xc0: return "SMB1_COMMAND_OPEN_PRINT_FILE";
    case 0xc1: return "SMB1_COMMAND_WRITE_PRINT_FILE";
    case 0xc2: return "SMB1_COMMAND_CLOSE_PRINT_FILE";
    case 0xc3: return "SMB1_COMMAND_GET_PRINT_QUEUE";
    default: return "SMB1_COMMAND_UNKNOWN";
    }
}

const char *smb2_dialect_name(uint16_t d)
{
    switch (d) {
    case 0x0202: return "2.02";
    case 0x0210: return "2.10";
    case 0x0222: return "2.22";
    case 0x0224: return "2.24";
    case 0x02ff: return "2.??";
    case 0x0300: return "3.00";
    case 0x0302: return "3.02";
    case 0x0310: return "3.10";
    case 0x0311: return "3.11";
    default: return "unknown";
    }
}

const char *smb_fsctl_name(uint32_t c, char *buf, size_t len)
{
    switch (c) {
    case 0x00060194: return "FSCTL_DFS_GET_REFERRALS";
    case 0x000601b0: return "FSCTL_DFS_GET_REFERRALS_EX";
    case 0x0011c017: return "FSCTL_PIPE_TRANSCEIVE";
    case 0x00110018: return "FSCTL_PIPE_WAIT";
    case 0x0011400c: return "FSCTL_PIPE_PEEK";
    case 0x00140078: return "FSCTL_SRV_REQUEST_RESUME_KEY";
    case 0x001440f2: return "FSCTL_SRV_COPYCHUNK";
    case 0x001480f2: return "FSCTL_SRV_COPYCHUNK_WRITE";
    case 0x001441bb: return "FSCTL_SRV_READ_HASH";
    case 0x00144064: return "FSCTL_SRV_ENUMERATE_SNAPSHOTS";
    case 0x001401d4: return "FSCTL_LMR_REQUEST_RESILIENCY";
    case 0x001401fc: return "FSCTL_QUERY_NETWORK_INTERFACE_INFO";
    case 0x00140204: return "FSCTL_VALIDATE_NEGOTIATE_INFO";
    case 0x000900a4: return "FSCTL_SET_REPARSE_POINT";
    case 0x000900a8: return "FSCTL_GET_REPARSE_POINT";
    case 0x000900c0: return "FSCTL_CREATE_OR_GET_OBJECT_ID";
    case 0x000980c8: return "FSCTL_SET_ZERO_DATA";
    case 0x000940cf: return "FSCTL_QUERY_ALLOCATED_RANGES";
    case 0x000900c4: return "FSCTL_SET_SPARSE";
    case 0x00090000: return "FSCTL_REQUEST_OPLOCK_LEVEL_1";
    case 0x0009009c: return "FSCTL_GET_OBJECT_ID";
    default:
        snprintf(buf, len, "0x%08x", c);
        return buf;
    }
}

/* Suricata's GUID text (mixed-endian groups). out holds 37 bytes. */
void smb_guid_str(char out[37], const uint8_t g[16])
{
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
             g[1], g[0], g[5], g[4], g[7], g[6], g[9], g[8], g[11], g[10], g[15], g[14], g[13],
             g[12]);
}
