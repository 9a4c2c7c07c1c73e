/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/smb1.c: SMB1 (\xffSMB), kept modest: every command is matched
 * with its response (by MID) and logged with its name; NEGOTIATE (client
 * dialects, selected dialect), SESSION_SETUP_ANDX (NTLMSSP or plain account,
 * native OS / LM), TREE_CONNECT_ANDX (path, service), NT_CREATE_ANDX,
 * READ_ANDX / WRITE_ANDX (data in buffered messages) and CLOSE are decoded.
 * AndX chains: only the first command is read. */
#include "app/smb/smb_int.h"

#include <strings.h>

enum { C_CLOSE = 0x04, C_READ_ANDX = 0x2e, C_WRITE_ANDX = 0x2f, C_TREE_DISC = 0x71,
       C_NEGOTIATE = 0x72, C_SESSION = 0x73, C_TREE = 0x75, C_NT_CREATE = 0xa2 };

typedef struct m1 {
    const uint8_t *m;
    uint32_t n;
    uint8_t cmd, wc;
    const uint8_t *w;      /* words */
    uint32_t bo, be;       /* bytes: offsets from m (start, end) */
    bool uni, resp;
    uint32_t status;
    uint16_t tid, uid, mid;
} m1;

/* A string of the bytes area at *o (UTF-16LE aligned on the header when
 * uni), NUL-terminated or ending at the area's end; owned or NULL. */
static char *rd_str(smb_state *st, const m1 *x, uint32_t *o, bool uni)
{
    if (*o >= x->be)
        return NULL;
    if (uni) {
        if (*o & 1)
            (*o)++;
        uint32_t s = *o, e = s;
        while (e + 1 < x->be && (x->m[e] || x->m[e + 1]))
            e += 2;
        *o = BF_MIN(e + 2, x->be);
        return e > s ? smb_u16dup(st, x->m + s, e - s) : NULL;
    }
    uint32_t s = *o, e = s;
    while (e < x->be && x->m[e])
        e++;
    *o = BF_MIN(e + 1, x->be);
    char tmp[BF_SMB_NAME_MAX];
    bool cut = false;
    size_t l = smb_ascii_copy(x->m + s, e - s, tmp, sizeof tmp, &cut);
    return l ? smb_strdup(st, tmp, l) : NULL;
}

static void fid1(uint8_t out[16], const uint8_t *p)
{
    memset(out, 0, 16);
    out[0] = p[0];
    out[1] = p[1];
    out[15] = 0x01;   /* never equal to an SMB2 file id in practice */
}

static bool ends_ipc(const char *s)
{
    size_t l = s ? strlen(s) : 0;
    return l >= 4 && !strcasecmp(s + l - 4, "IPC$");
}

static void request(smb_state *st, int dir, const m1 *x)
{
    bool tx = x->cmd != C_READ_ANDX && x->cmd != C_WRITE_ANDX;
    smb_req *r = smb_req_new(st, 1, x->cmd, x->mid, tx);
    r->sid = x->uid;
    r->tid = x->tid;
    uint32_t o = x->bo;
    switch (x->cmd) {
    case C_NEGOTIATE: {
        r->txtype = TX_NEGOTIATE;
        char tmp[BF_SMB_NAME_MAX];
        uint32_t tl = 0;
        unsigned k = 0;
        while (o < x->be && x->m[o] == 0x02) {
            o++;
            uint32_t s = o;
            while (o < x->be && x->m[o])
                o++;
            uint32_t l = o - s;
            o++;
            if (k >= BF_SMB_MAX_DIALECTS || tl + l + 1 > sizeof tmp) {
                st->cnt.dialects_dropped++;
                continue;
            }
            memcpy(tmp + tl, x->m + s, l);
            tl += l;
            tmp[tl++] = 0;
            k++;
        }
        if (!k)
            smb_event(st, SMB_EV_negotiate_malformed_dialects);
        if (tl) {
            r->dialects1 = smb_alloc(st, tl);
            memcpy(r->dialects1, tmp, tl);
            r->dialects1_len = tl;
        }
        break;
    }
    case C_SESSION:
        r->txtype = TX_SESSION;
        if (x->wc == 12) {
            uint16_t bl = bf_le16(x->w + 14);
            if (smb_rng(x->be, o, bl))
                smb_parse_secblob(st, r, x->m + o, bl);
            o += bl;
        } else if (x->wc == 13) {
            o += (uint32_t)bf_le16(x->w + 14) + bf_le16(x->w + 16);
            r->ntlm_user = rd_str(st, x, &o, x->uni);
            r->ntlm_domain = rd_str(st, x, &o, x->uni);
        } else {
            break;
        }
        r->os[0] = rd_str(st, x, &o, x->uni);
        r->lm[0] = rd_str(st, x, &o, x->uni);
        break;
    case C_TREE:
        r->txtype = TX_TREE;
        if (x->wc >= 4) {
            o += bf_le16(x->w + 6);
            r->name = rd_str(st, x, &o, x->uni);
            r->svc[0] = rd_str(st, x, &o, false);
            r->is_pipe = ends_ipc(r->name);
        }
        break;
    case C_NT_CREATE:
        r->txtype = TX_CREATE;
        if (x->wc >= 24) {
            r->access = bf_le32(x->w + 15);
            r->disposition = bf_le32(x->w + 35);
            r->options = bf_le32(x->w + 39);
            r->directory = r->options & 0x1;
            r->name = rd_str(st, x, &o, x->uni);
        }
        break;
    case C_CLOSE:
        if (x->wc >= 3) {
            fid1(r->fid, x->w);
            r->has_fid = true;
        }
        break;
    case C_READ_ANDX:
        if (x->wc >= 10) {
            fid1(r->fid, x->w + 4);
            r->has_fid = true;
            r->off = bf_le32(x->w + 6);
            if (x->wc >= 12)
                r->off |= (uint64_t)bf_le32(x->w + 20) << 32;
        }
        break;
    case C_WRITE_ANDX:
        if (x->wc >= 12) {
            fid1(r->fid, x->w + 4);
            r->has_fid = true;
            r->off = bf_le32(x->w + 6);
            if (x->wc >= 14)
                r->off |= (uint64_t)bf_le32(x->w + 24) << 32;
            uint32_t dlen = bf_le16(x->w + 20) | (uint32_t)bf_le16(x->w + 18) << 16;
            uint32_t doff = bf_le16(x->w + 22);
            if (dlen > SMB_MAX_RW)
                smb_event(st, SMB_EV_write_request_too_large);
            if (doff >= 32 && doff <= x->n) {
                uint32_t have = BF_MIN(dlen, x->n - doff);
                smb_op_begin(st, dir, 1, r->fid, x->uid, x->tid, r->off, dlen);
                smb_op_data(st, dir, x->m + doff, have);
                if (have < dlen)
                    smb_op_lost(st, dir, dlen - have);
                smb_op_end(st, dir);
            }
        }
        break;
    default:
        break;
    }
    /* a tree connect waits for its response (share or named pipe) */
    smb_tx_publish(st, r, 0, r->txtype != TX_TREE, false);
}

static void response(smb_state *st, int dir, const m1 *x)
{
    smb_req *r = smb_req_find(st, 1, x->mid, x->cmd);
    if (!r) {
        if (x->cmd != C_NEGOTIATE && x->cmd != C_SESSION && x->cmd != C_TREE)
            return;
        r = smb_req_new(st, 1, x->cmd, x->mid, true);
        r->txtype = x->cmd == C_NEGOTIATE ? TX_NEGOTIATE : x->cmd == C_SESSION ? TX_SESSION
                                                                                : TX_TREE;
        r->sid = x->uid;
        r->tid = x->tid;
    }
    r->responded = true;
    r->status = x->status;
    if (x->uid)
        r->sid = x->uid;
    if (x->cmd == C_TREE)
        r->tid = x->tid;
    bool ok = x->status == 0;
    uint32_t o = x->bo;
    switch (x->cmd) {
    case C_NEGOTIATE:
        if (x->wc >= 1 && r->dialects1) {
            uint16_t idx = bf_le16(x->w);
            uint32_t p = 0;
            for (uint16_t i = 0; i < idx && p < r->dialects1_len; i++)
                p += (uint32_t)strnlen(r->dialects1 + p, r->dialects1_len - p) + 1;
            if (p < r->dialects1_len) {
                smb_strfree(st, &st->dialect1);
                st->dialect1 = smb_strdup(st, r->dialects1 + p,
                                          strnlen(r->dialects1 + p, r->dialects1_len - p));
            }
        }
        if (x->wc >= 17 && (bf_le32(x->w + 19) & 0x80000000u) && smb_rng(x->be, o, 16)) {
            memcpy(r->sguid, x->m + o, 16);
            r->has_sguid = true;
        }
        break;
    case C_SESSION:
        if (x->wc == 4) {
            uint16_t bl = bf_le16(x->w + 6);
            o += bl;
        }
        if (x->wc == 4 || x->wc == 3) {
            smb_strfree(st, &r->os[1]);
            smb_strfree(st, &r->lm[1]);
            r->os[1] = rd_str(st, x, &o, x->uni);
            r->lm[1] = rd_str(st, x, &o, x->uni);
        }
        if (x->status != ST_MORE_PROCESSING && (r->ntlm || r->krb || r->ntlm_user || ok))
            smb_login(st, r, x->status, x->uid);
        break;
    case C_TREE:
        if (ok) {
            r->svc[1] = rd_str(st, x, &o, false);
            if (r->svc[1] && !strcmp(r->svc[1], "IPC"))
                r->is_pipe = true;
            smb_tree_set(st, x->uid, x->tid, r->name, r->is_pipe ? 2 : 1, r->is_pipe);
            bf_smb_file_event ev = {.op = BF_SMB_OP_TREE_CONNECT, .version = 1,
                                    .status_known = true, .session_id = x->uid,
                                    .tree_id = x->tid};
            smb_publish(st, &ev, NULL);
        }
        break;
    case C_TREE_DISC:
        if (ok)
            smb_tree_del(st, r->tid);
        break;
    case C_NT_CREATE: {
        smb_file *fl = NULL;
        if (ok && x->wc >= 34) {
            fid1(r->fid, x->w + 5);
            r->has_fid = true;
            r->action = bf_le32(x->w + 7);
            for (int i = 0; i < 4; i++)
                r->times[i] = smb_filetime(bf_le64(x->w + 11 + 8 * i));
            r->size = bf_le64(x->w + 55);
            if (x->w[67])
                r->directory = true;
            fl = smb_file_add(st, r->fid, 1);
            fl->name = r->name ? smb_strdup(st, r->name, strlen(r->name)) : NULL;
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
        bf_smb_file_event ev = {
            .op = ok && r->action != 1 ? BF_SMB_OP_CREATE : BF_SMB_OP_OPEN, .version = 1,
            .status = x->status, .status_known = true, .session_id = r->sid,
            .tree_id = r->tid, .name = r->name, .disposition = r->disposition,
            .access = r->access, .create_options = r->options,
        };
        smb_publish(st, &ev, fl);
        break;
    }
    case C_CLOSE:
        if (ok && r->has_fid)
            smb_file_closed(st, r->fid, 1, r->sid, r->tid);
        break;
    case C_WRITE_ANDX:
        if (r->has_fid)
            smb_xfer_status(st, r->fid, 0, x->status);
        break;
    case C_READ_ANDX:
        if (r->has_fid)
            smb_xfer_status(st, r->fid, 1, x->status);
        if (ok && r->has_fid && x->wc >= 12) {
            uint32_t dlen = bf_le16(x->w + 10) | (uint32_t)bf_le16(x->w + 14) << 16;
            uint32_t doff = bf_le16(x->w + 12);
            if (doff >= 32 && doff <= x->n) {
                uint32_t have = BF_MIN(dlen, x->n - doff);
                smb_op_begin(st, dir, 1, r->fid, r->sid, r->tid, r->off, dlen);
                smb_op_data(st, dir, x->m + doff, have);
                if (have < dlen)
                    smb_op_lost(st, dir, dlen - have);
                smb_op_end(st, dir);
            }
        }
        break;
    default:
        break;
    }
    smb_req_done(st, r);
}

void smb1_message(smb_state *st, int dir, const uint8_t *m, uint32_t n)
{
    if (n < 35) {
        smb_event(st, SMB_EV_malformed_data);
        return;
    }
    m1 x = {.m = m, .n = n, .cmd = m[4]};
    uint16_t flags2 = bf_le16(m + 10);
    x.resp = m[9] & 0x80;
    x.uni = flags2 & 0x8000;
    if (flags2 & 0x4000)
        x.status = bf_le32(m + 5);
    else if (m[5] || bf_le16(m + 7))
        x.status = 0x40000000u | (uint32_t)m[5] << 16 | bf_le16(m + 7);
    x.tid = bf_le16(m + 24);
    x.uid = bf_le16(m + 28);
    x.mid = bf_le16(m + 30);
    x.wc = m[32];
    x.w = m + 33;
    uint32_t bcpos = 33 + 2u * x.wc;
    if (!smb_rng(n, bcpos, 2)) {
        /* error responses may carry no words; anything else is cut */
        if (!x.resp || x.wc) {
            smb_event(st, SMB_EV_malformed_data);
            return;
        }
    }
    uint16_t bc = smb_rng(n, bcpos, 2) ? bf_le16(m + bcpos) : 0;
    x.bo = BF_MIN(bcpos + 2, n);
    x.be = (uint32_t)BF_MIN((uint64_t)x.bo + bc, (uint64_t)n);
    if (x.resp && dir == 0)
        smb_event(st, SMB_EV_response_to_server);
    else if (!x.resp && dir == 1)
        smb_event(st, SMB_EV_request_to_client);
    if (x.resp)
        response(st, dir, &x);
    else
        request(st, dir, &x);
}
