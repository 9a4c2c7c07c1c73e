/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/smb2.c: SMB2/3 messages (see smb.h): compound chains, requests
 * and responses per command, the transform header, NTLMSSP in session
 * setup security blobs.  Offsets inside a command are relative to its own
 * 64-byte header and checked against the bytes of that command. */
#include "app/smb/smb_int.h"

#include <strings.h>

#define FSCTL_PIPE_TRANSCEIVE 0x0011c017u

static const uint8_t ALL_FF[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* What one compound chain carries from one command to the next. */
typedef struct chain {
    char cname[BF_SMB_NAME_MAX];   /* request: name of the CREATE in the chain */
    bool has_cname;
    uint8_t fid[16];               /* response: file id of the CREATE */
    bool has_fid;
} chain;

/* ---- NTLMSSP ---------------------------------------------------------------- */

static char *ntlm_str(smb_state *st, const uint8_t *p, size_t n, size_t off, bool uni, bool *bad)
{
    uint16_t len = bf_le16(p + off);
    uint32_t o = bf_le32(p + off + 4);
    if (!len)
        return NULL;
    if (!smb_rng(n, o, len)) {
        *bad = true;
        return NULL;
    }
    if (uni)
        return smb_u16dup(st, p + o, len);
    char tmp[BF_SMB_NAME_MAX];
    bool cut = false;
    size_t l = smb_ascii_copy(p + o, len, tmp, sizeof tmp, &cut);
    return smb_strdup(st, tmp, l);
}

void smb_parse_secblob(smb_state *st, smb_req *r, const uint8_t *p, size_t n)
{
    size_t len = 0;
    const uint8_t *m = bf_smb_find_ntlmssp(p, n, &len);
    if (!m) {
        if (smb_blob_is_kerberos(p, n))
            r->krb = true;
        return;
    }
    if (len < 12 || bf_le32(m + 8) != 3)
        return;   /* NEGOTIATE / CHALLENGE: nothing to log */
    if (len < 52) {
        smb_event(st, SMB_EV_malformed_ntlmssp_request);
        return;
    }
    uint32_t flags = len >= 64 ? bf_le32(m + 60) : 0x1;
    bool uni = flags & 0x1;
    bool bad = false;
    smb_strfree(st, &r->ntlm_domain);
    smb_strfree(st, &r->ntlm_user);
    smb_strfree(st, &r->ntlm_host);
    r->ntlm_domain = ntlm_str(st, m, len, 28, uni, &bad);
    r->ntlm_user = ntlm_str(st, m, len, 36, uni, &bad);
    r->ntlm_host = ntlm_str(st, m, len, 44, uni, &bad);
    r->ntlm = true;
    if (bad)
        smb_event(st, SMB_EV_malformed_ntlmssp_request);
}

/* ---- helpers ---------------------------------------------------------------- */

static bool ends_ipc(const char *s)
{
    size_t l = s ? strlen(s) : 0;
    return l >= 4 && !strcasecmp(s + l - 4, "IPC$");
}

static bool logged_cmd(uint16_t cmd)
{
    switch (cmd) {
    case SMB2_READ: case SMB2_WRITE: case SMB2_QUERY_INFO: case SMB2_SET_INFO:
    case SMB2_OPLOCK_BREAK:
        return false;
    default:
        return true;
    }
}

static uint8_t txtype_of(uint16_t cmd)
{
    switch (cmd) {
    case SMB2_NEGOTIATE: return TX_NEGOTIATE;
    case SMB2_SESSION_SETUP: return TX_SESSION;
    case SMB2_TREE_CONNECT: return TX_TREE;
    case SMB2_CREATE: return TX_CREATE;
    case SMB2_IOCTL: return TX_IOCTL;
    default: return TX_GENERIC;
    }
}

typedef struct hdr {
    const uint8_t *h;    /* the 64-byte header */
    uint32_t len;        /* bytes of this command (header included) */
    const uint8_t *b;    /* body */
    uint32_t blen;
    uint32_t status, flags;
    uint16_t cmd;
    uint64_t mid, sid;
    uint32_t tid;
} hdr;

static void name_of_fid(smb_state *st, const uint8_t fid[16], const chain *c, char **out)
{
    smb_file *fl = smb_file_find(st, fid);
    if (fl && fl->name)
        *out = smb_strdup(st, fl->name, strlen(fl->name));
    else if (!memcmp(fid, ALL_FF, 16) && c->has_cname)
        *out = smb_strdup(st, c->cname, strlen(c->cname));
}

/* ---- requests --------------------------------------------------------------- */

static void request(smb_state *st, int dir, const hdr *x, chain *c)
{
    const uint8_t *b = x->b;
    uint32_t n = x->blen;
    smb_req *r = NULL;
    switch (x->cmd) {
    case SMB2_NEGOTIATE: {
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 36) {
            smb_event(st, SMB_EV_negotiate_malformed_dialects);
            break;
        }
        uint16_t cnt = bf_le16(b + 2);
        memcpy(r->cguid, b + 12, 16);
        r->has_cguid = true;
        if (!cnt || !smb_rng(n, 36, 2u * cnt))
            smb_event(st, SMB_EV_negotiate_malformed_dialects);
        for (uint32_t i = 0; i < cnt && smb_rng(n, 36 + 2 * i, 2); i++) {
            if (r->ndialects >= BF_SMB_MAX_DIALECTS) {
                st->cnt.dialects_dropped++;
                break;
            }
            r->dialects[r->ndialects++] = bf_le16(b + 36 + 2 * i);
        }
        break;
    }
    case SMB2_SESSION_SETUP: {
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 24)
            break;
        uint16_t off = bf_le16(b + 12), len = bf_le16(b + 14);
        if (smb_rng(x->len, off, len))
            smb_parse_secblob(st, r, x->h + off, len);
        else if (len)
            smb_event(st, SMB_EV_malformed_data);
        break;
    }
    case SMB2_TREE_CONNECT: {
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 8)
            break;
        uint16_t off = bf_le16(b + 4), len = bf_le16(b + 6);
        if (smb_rng(x->len, off, len))
            r->name = smb_u16dup(st, x->h + off, len);
        else
            smb_event(st, SMB_EV_malformed_data);
        r->is_pipe = ends_ipc(r->name);
        break;
    }
    case SMB2_CREATE: {
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 56) {
            smb_event(st, SMB_EV_malformed_data);
            break;
        }
        r->access = bf_le32(b + 24);
        r->disposition = bf_le32(b + 36);
        r->options = bf_le32(b + 40);
        r->directory = r->options & 0x1;
        uint16_t off = bf_le16(b + 44), len = bf_le16(b + 46);
        if (len && smb_rng(x->len, off, len))
            r->name = smb_u16dup(st, x->h + off, len);
        else if (len)
            smb_event(st, SMB_EV_malformed_data);
        const char *nm = r->name ? r->name : "";
        size_t l = BF_MIN(strlen(nm), sizeof c->cname - 1);
        memcpy(c->cname, nm, l);
        c->cname[l] = 0;
        c->has_cname = true;
        break;
    }
    case SMB2_CLOSE:
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n >= 24) {
            memcpy(r->fid, b + 8, 16);
            r->has_fid = true;
        }
        break;
    case SMB2_READ: {
        if (n < 32)
            break;
        r = smb_req_new(st, 2, x->cmd, x->mid, false);
        r->len = bf_le32(b + 4);
        r->off = bf_le64(b + 8);
        memcpy(r->fid, b + 16, 16);
        r->has_fid = true;
        if (r->len > SMB_MAX_RW || (st->max_read && r->len > st->max_read))
            smb_event(st, SMB_EV_read_response_too_large);
        break;
    }
    case SMB2_WRITE: {
        if (n < 32)
            break;
        r = smb_req_new(st, 2, x->cmd, x->mid, false);
        uint16_t doff = bf_le16(b + 2);
        r->len = bf_le32(b + 4);
        r->off = bf_le64(b + 8);
        memcpy(r->fid, b + 16, 16);
        r->has_fid = true;
        if (r->len > SMB_MAX_RW || (st->max_write && r->len > st->max_write))
            smb_event(st, SMB_EV_write_request_too_large);
        if (!memcmp(r->fid, ALL_FF, 16) && c->has_cname) {
            /* related to the chain's CREATE: named now, re-keyed when the
             * CREATE response gives the file id */
            smb_file *fl = smb_file_find(st, r->fid);
            if (!fl) {
                fl = smb_file_add(st, r->fid, 2);
                fl->name = smb_strdup(st, c->cname, strlen(c->cname));
                fl->sid = x->sid;
                fl->tid = x->tid;
            }
        }
        /* data inside a buffered message (compound, or not streamed) */
        if (doff >= 64 && doff <= x->len) {
            uint32_t have = BF_MIN(r->len, x->len - doff);
            smb_op_begin(st, dir, 2, r->fid, x->sid, x->tid, r->off, r->len);
            smb_op_data(st, dir, x->h + doff, have);
            if (have < r->len)
                smb_op_lost(st, dir, r->len - have);
            smb_op_end(st, dir);
        } else {
            smb_event(st, SMB_EV_malformed_data);
        }
        break;
    }
    case SMB2_SET_INFO: {
        if (n < 32)
            break;
        uint8_t type = b[2], cls = b[3];
        uint32_t blen = bf_le32(b + 4);
        uint16_t boff = bf_le16(b + 8);
        if (type != 1 || (cls != 10 && cls != 65 && cls != 13 && cls != 64))
            break;
        if (!smb_rng(x->len, boff, blen)) {
            smb_event(st, SMB_EV_malformed_data);
            break;
        }
        const uint8_t *ib = x->h + boff;
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        r->info_type = type;
        r->info_class = cls;
        memcpy(r->fid, b + 16, 16);
        r->has_fid = true;
        name_of_fid(st, r->fid, c, &r->name2);
        if (cls == 10 || cls == 65) {
            r->txtype = TX_RENAME;
            if (blen >= 20) {
                uint32_t nl = bf_le32(ib + 16);
                if (smb_rng(blen, 20, nl))
                    r->name = smb_u16dup(st, ib + 20, nl);
                else
                    smb_event(st, SMB_EV_malformed_data);
            }
        } else {
            r->txtype = TX_DISPOSITION;
            if (cls == 13 && blen >= 1)
                r->del = ib[0] != 0;
            else if (cls == 64 && blen >= 4)
                r->del = bf_le32(ib) & 0x1;
        }
        break;
    }
    case SMB2_QUERY_DIRECTORY: {
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 32)
            break;
        memcpy(r->fid, b + 8, 16);
        r->has_fid = true;
        uint16_t off = bf_le16(b + 24), len = bf_le16(b + 26);
        if (len && smb_rng(x->len, off, len))
            r->name = smb_u16dup(st, x->h + off, len);   /* the search pattern */
        break;
    }
    case SMB2_IOCTL:
        r = smb_req_new(st, 2, x->cmd, x->mid, true);
        if (n < 24)
            break;
        r->ctl = bf_le32(b + 4);
        memcpy(r->fid, b + 8, 16);
        r->has_fid = true;
        if (r->ctl == FSCTL_PIPE_TRANSCEIVE)
            st->cnt.pipe_transceive++;   /* DCERPC over a named pipe */
        break;
    default:
        if (logged_cmd(x->cmd))
            r = smb_req_new(st, 2, x->cmd, x->mid, true);
        break;
    }
    if (r) {
        if (!r->txtype)
            r->txtype = txtype_of(x->cmd);
        r->sid = x->sid;
        r->tid = x->tid;
    }
    /* a tree connect's request side waits for the response: whether the
     * path is a share or a named pipe is decided there */
    if (r)
        smb_tx_publish(st, r, 0, r->txtype != TX_TREE, false);
}

/* ---- responses -------------------------------------------------------------- */

static void response(smb_state *st, int dir, const hdr *x, chain *c)
{
    const uint8_t *b = x->b;
    uint32_t n = x->blen;
    if ((x->flags & SMB2_FLAGS_ASYNC) && x->status == ST_PENDING)
        return;   /* interim response: the final one follows */
    smb_req *r = smb_req_find(st, 2, x->mid, x->cmd);
    if (!r && x->cmd == SMB2_NEGOTIATE)   /* SMB1 negotiate upgraded to SMB2 */
        r = smb_req_find(st, 1, x->mid, 0x72);
    if (!r) {
        switch (x->cmd) {   /* response only: still learn from it */
        case SMB2_NEGOTIATE: case SMB2_SESSION_SETUP: case SMB2_TREE_CONNECT:
        case SMB2_CREATE:
            r = smb_req_new(st, 2, x->cmd, x->mid, true);
            r->txtype = txtype_of(x->cmd);
            break;
        default:
            return;
        }
    }
    r->responded = true;
    r->status = x->status;
    if (x->sid)
        r->sid = x->sid;
    if (x->tid && x->cmd == SMB2_TREE_CONNECT)
        r->tid = x->tid;
    if (r->has_fid && !memcmp(r->fid, ALL_FF, 16) && c->has_fid)
        memcpy(r->fid, c->fid, 16);
    bool ok = x->status == ST_SUCCESS;
    switch (x->cmd) {
    case SMB2_NEGOTIATE:
        if (n >= 40) {
            uint16_t d = bf_le16(b + 4);
            if (d)
                st->dialect = d;
            memcpy(r->sguid, b + 8, 16);
            r->has_sguid = true;
            st->max_read = bf_le32(b + 32);
            st->max_write = bf_le32(b + 36);
            if (st->max_read > SMB_MAX_RW)
                smb_event(st, SMB_EV_negotiate_max_read_size_too_large);
            if (st->max_write > SMB_MAX_RW)
                smb_event(st, SMB_EV_negotiate_max_write_size_too_large);
        }
        break;
    case SMB2_SESSION_SETUP:
        if (x->status != ST_MORE_PROCESSING) {
            if (ok && n >= 4 && (bf_le16(b + 2) & 0x4)) {
                smb_sess *s = smb_sess_get(st, x->sid, true);
                s->encrypted = true;
            }
            if (r->ntlm || r->krb || ok)
                smb_login(st, r, x->status, x->sid);
        }
        break;
    case SMB2_TREE_CONNECT:
        if (ok && n >= 4) {
            r->share_type = b[2];
            r->is_pipe = r->share_type == 2 || ends_ipc(r->name);
            smb_tree_set(st, x->sid, x->tid, r->name, r->share_type, r->is_pipe);
            bf_smb_file_event ev = {.op = BF_SMB_OP_TREE_CONNECT, .version = 2,
                                    .status_known = true, .session_id = x->sid,
                                    .tree_id = x->tid};
            smb_publish(st, &ev, NULL);
        }
        break;
    case SMB2_TREE_DISCONNECT:
        if (ok)
            smb_tree_del(st, r->tid);
        break;
    case SMB2_CREATE:
        if (ok && n >= 80) {
            r->action = bf_le32(b + 4);
            for (int i = 0; i < 4; i++)
                r->times[i] = smb_filetime(bf_le64(b + 8 + 8 * i));
            r->size = bf_le64(b + 48);
            if (bf_le32(b + 56) & 0x10)
                r->directory = true;
            memcpy(r->fid, b + 64, 16);
            r->has_fid = true;
            memcpy(c->fid, r->fid, 16);
            c->has_fid = true;
            smb_file *fl = smb_file_find(st, ALL_FF);
            if (fl && fl->name && r->name && !strcmp(fl->name, r->name) &&
                !smb_file_find(st, r->fid)) {
                memcpy(fl->fid, r->fid, 16);   /* the related WRITE's file */
            } else {
                fl = smb_file_add(st, r->fid, 2);
                fl->name = r->name ? smb_strdup(st, r->name, strlen(r->name)) : NULL;
            }
            fl->sid = r->sid;
            fl->tid = r->tid;
            fl->disposition = r->disposition;
            fl->access = r->access;
            fl->options = r->options;
            fl->action = r->action;
            fl->opened = true;
            fl->directory = r->directory;
            fl->doc = r->options & 0x1000;
        }
        {
            smb_file *fl = ok && r->has_fid ? smb_file_find(st, r->fid) : NULL;
            bf_smb_file_event ev = {
                .op = ok && r->action != 1 ? BF_SMB_OP_CREATE : BF_SMB_OP_OPEN,
                .version = 2, .status = x->status, .status_known = true,
                .session_id = r->sid, .tree_id = r->tid, .name = r->name,
                .disposition = r->disposition, .access = r->access,
                .create_options = r->options,
            };
            smb_publish(st, &ev, fl);
        }
        break;
    case SMB2_CLOSE:
        if (ok && r->has_fid)
            smb_file_closed(st, r->fid, 2, r->sid, r->tid);
        break;
    case SMB2_WRITE:
        if (r->has_fid)
            smb_xfer_status(st, r->fid, 0, x->status);
        break;
    case SMB2_READ:
        /* a READ response that was not streamed (error, compound) */
        if (r->has_fid)
            smb_xfer_status(st, r->fid, 1, x->status);
        if ((ok || x->status == ST_BUFFER_OVERFLOW) && n >= 16 && r->has_fid) {
            uint32_t doff = b[2], dlen = bf_le32(b + 4);
            if (doff >= 64 && doff <= x->len) {
                uint32_t have = BF_MIN(dlen, x->len - doff);
                smb_op_begin(st, dir, 2, r->fid, r->sid, r->tid, r->off, dlen);
                smb_op_data(st, dir, x->h + doff, have);
                if (have < dlen)
                    smb_op_lost(st, dir, dlen - have);
                smb_op_end(st, dir);
            }
        }
        break;
    case SMB2_SET_INFO:
        if (ok) {
            smb_file *fl = smb_file_find(st, r->fid);
            bf_smb_file_event ev = {.version = 2, .status_known = true, .session_id = r->sid,
                                    .tree_id = r->tid, .name = r->name2};
            if (r->txtype == TX_RENAME) {
                ev.op = BF_SMB_OP_RENAME;
                ev.new_name = r->name;
                smb_publish(st, &ev, fl);
                if (fl && r->name) {
                    smb_strfree(st, &fl->name);
                    fl->name = smb_strdup(st, r->name, strlen(r->name));
                }
            } else if (r->del) {
                ev.op = BF_SMB_OP_DELETE;
                smb_publish(st, &ev, fl);
                if (fl)
                    fl->deleted = true;
            }
        }
        break;
    default:
        break;
    }
    smb_req_done(st, r);
}

/* ---- messages ----------------------------------------------------------------- */

static void one(smb_state *st, int dir, const uint8_t *h, uint32_t len, chain *c)
{
    hdr x = {.h = h, .len = len, .b = h + 64, .blen = len - 64};
    x.status = bf_le32(h + 8);
    x.cmd = bf_le16(h + 12);
    x.flags = bf_le32(h + 16);
    x.mid = bf_le64(h + 24);
    x.tid = (x.flags & SMB2_FLAGS_ASYNC) ? 0 : bf_le32(h + 36);
    x.sid = bf_le64(h + 40);
    bool resp = x.flags & SMB2_FLAGS_RESPONSE;
    if (resp && dir == 0)
        smb_event(st, SMB_EV_response_to_server);
    else if (!resp && dir == 1)
        smb_event(st, SMB_EV_request_to_client);
    if (resp)
        response(st, dir, &x, c);
    else
        request(st, dir, &x, c);
}

void smb2_message(smb_state *st, int dir, const uint8_t *m, uint32_t n)
{
    chain c;
    c.has_cname = false;
    c.has_fid = false;
    c.cname[0] = 0;
    uint32_t o = 0;
    for (unsigned k = 0;; k++) {
        if (k >= BF_SMB_MAX_CHAIN) {
            st->cnt.chain_dropped++;
            smb_event(st, SMB_EV_malformed_data);
            return;
        }
        if (!smb_rng(n, o, 64) || m[o] != 0xfe || m[o + 1] != 'S' || m[o + 2] != 'M' ||
            m[o + 3] != 'B' || bf_le16(m + o + 4) != 64) {
            smb_event(st, SMB_EV_malformed_data);
            return;
        }
        uint32_t next = bf_le32(m + o + 20);
        uint32_t clen = n - o;
        if (next) {
            if (next < 64 || next > n - o || (next & 7)) {
                smb_event(st, SMB_EV_malformed_data);
                next = 0;
            } else {
                clen = next;
            }
        }
        one(st, dir, m + o, clen, &c);
        if (!next)
            return;
        o += next;
    }
}

/* Header of a streamed message: fills x (n >= 64 checked by the caller). */
static void head(hdr *x, const uint8_t *m, uint32_t n)
{
    x->h = m;
    x->len = n;
    x->b = m + 64;
    x->blen = n - 64;
    x->status = bf_le32(m + 8);
    x->cmd = bf_le16(m + 12);
    x->flags = bf_le32(m + 16);
    x->mid = bf_le64(m + 24);
    x->tid = (x->flags & SMB2_FLAGS_ASYNC) ? 0 : bf_le32(m + 36);
    x->sid = bf_le64(m + 40);
}

uint32_t smb2_write_head(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len)
{
    if (n < 64 + 48)
        return 0;
    hdr x;
    head(&x, m, n);
    if (dir == 1)
        smb_event(st, SMB_EV_request_to_client);
    uint16_t doff = bf_le16(x.b + 2);
    uint32_t len = bf_le32(x.b + 4);
    smb_req *r = smb_req_new(st, 2, SMB2_WRITE, x.mid, false);
    r->len = len;
    r->off = bf_le64(x.b + 8);
    memcpy(r->fid, x.b + 16, 16);
    r->has_fid = true;
    r->sid = x.sid;
    r->tid = x.tid;
    if (len > SMB_MAX_RW || (st->max_write && len > st->max_write))
        smb_event(st, SMB_EV_write_request_too_large);
    if (doff > msg_len)
        return 0;
    uint32_t data = BF_MIN(len, msg_len - doff);
    smb_op_begin(st, dir, 2, r->fid, x.sid, x.tid, r->off, len);
    return data;
}

uint32_t smb2_read_head(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len)
{
    if (n < 64 + 16)
        return 0;
    hdr x;
    head(&x, m, n);
    if (dir == 0)
        smb_event(st, SMB_EV_response_to_server);
    uint32_t doff = x.b[2], dlen = bf_le32(x.b + 4);
    smb_req *r = smb_req_find(st, 2, x.mid, SMB2_READ);
    uint32_t data = doff <= msg_len ? BF_MIN(dlen, msg_len - doff) : 0;
    if (!r)
        return data;   /* unknown read: skipped */
    if (dlen > SMB_MAX_RW || (st->max_read && dlen > st->max_read))
        smb_event(st, SMB_EV_read_response_too_large);
    smb_xfer_status(st, r->fid, 1, x.status);
    smb_op_begin(st, dir, 2, r->fid, r->sid, r->tid, r->off, dlen);
    smb_req_done(st, r);
    return data;
}

void smb2_transform(smb_state *st, int dir, const uint8_t *m, uint32_t n, uint32_t msg_len)
{
    st->cnt.encrypted_bytes[dir] += msg_len;
    if (n < 52)
        return;
    uint64_t sid = bf_le64(m + 44);
    smb_sess *s = smb_sess_get(st, sid, true);
    s->encrypted = true;
}
