/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/smb/smb.c: the SMB analyzer core (see smb.h): NetBIOS framing and
 * resynchronisation per direction, the bounded tables (pending requests,
 * files, trees, sessions), READ / WRITE data streaming (counters, SHA-256,
 * entropy), the EVE `smb` / `fileinfo` / anomaly events and the bus. */
#include "output/events.h"
#include "app/smb/smb_int.h"

#include "app/tx.h"

#include <stdio.h>
#include <stdlib.h>

#define MEM_SHA 512   /* one EVP_MD_CTX, roughly */

static const char *const ev_names[SMB_EV_MAX] = {
#define X(n) #n,
    SMB_EVENTS(X)
#undef X
};

/* ---- memory ------------------------------------------------------------ */

static void mem_sync(smb_state *st)
{
    int64_t delta = (int64_t)st->mem - (int64_t)st->mem_acct;
    if (!delta)
        return;
    if (st->ctx && st->ctx->ft)
        bf_flow_mem_adjust(st->ctx->ft, delta);
    if (st->f)
        st->f->app_mem += (uint32_t)delta;
    st->mem_acct = st->mem;
}

void *smb_alloc(smb_state *st, size_t n)
{
    st->mem += n;
    return bf_calloc(1, n);
}

void smb_free(smb_state *st, void *p, size_t n)
{
    if (!p)
        return;
    st->mem -= n;
    free(p);
}

char *smb_strdup(smb_state *st, const char *s, size_t n)
{
    if (n >= BF_SMB_NAME_MAX) {
        n = BF_SMB_NAME_MAX - 1;
        st->cnt.names_truncated++;
    }
    char *r = smb_alloc(st, n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    /* account what strlen will see at free time */
    size_t real = strlen(r);
    st->mem -= n - real;
    return r;
}

char *smb_u16dup(smb_state *st, const uint8_t *p, size_t n)
{
    char tmp[BF_SMB_NAME_MAX];
    bool cut = false;
    size_t l = bf_smb_utf16_to_utf8(p, n, tmp, sizeof tmp, &cut);
    if (cut)
        st->cnt.names_truncated++;
    return smb_strdup(st, tmp, l);
}

void smb_strfree(smb_state *st, char **s)
{
    if (!*s)
        return;
    st->mem -= strlen(*s) + 1;
    free(*s);
    *s = NULL;
}

/* ---- events ------------------------------------------------------------ */

static bf_ts now(const smb_state *st) { return st->p ? st->p->ts : st->f ? st->f->last : 0; }

void smb_event(smb_state *st, enum smb_event ev)
{
    if (st->ev_seen & (1u << ev)) {
        st->cnt.anomalies_suppressed++;
        return;
    }
    st->ev_seen |= 1u << ev;
    st->cnt.anomalies++;
    bf_eve_log_app_anomaly(st->ctx ? st->ctx->eve : NULL, now(st), st->p, st->f, "smb",
                           ev_names[ev], -1, false);
}

/* ---- tables ------------------------------------------------------------ */

smb_tree *smb_tree_find(smb_state *st, uint32_t tid)
{
    for (uint32_t i = 0; i < st->ntrees; i++)
        if (st->trees[i].tid == tid)
            return &st->trees[i];
    return NULL;
}

void smb_tree_set(smb_state *st, uint64_t sid, uint32_t tid, const char *share, uint8_t type,
                  bool pipe)
{
    smb_tree *t = smb_tree_find(st, tid);
    if (!t) {
        if (st->ntrees >= BF_SMB_MAX_TREES) {
            st->cnt.trees_dropped++;
            smb_strfree(st, &st->trees[0].share);
            memmove(&st->trees[0], &st->trees[1], (st->ntrees - 1) * sizeof st->trees[0]);
            st->ntrees--;
        }
        t = &st->trees[st->ntrees++];
        memset(t, 0, sizeof *t);
    }
    smb_strfree(st, &t->share);
    t->sid = sid;
    t->tid = tid;
    t->share = share ? smb_strdup(st, share, strlen(share)) : NULL;
    t->type = type;
    t->pipe = pipe;
}

void smb_tree_del(smb_state *st, uint32_t tid)
{
    smb_tree *t = smb_tree_find(st, tid);
    if (!t)
        return;
    smb_strfree(st, &t->share);
    size_t i = (size_t)(t - st->trees);
    memmove(t, t + 1, (st->ntrees - i - 1) * sizeof *t);
    st->ntrees--;
}

smb_sess *smb_sess_get(smb_state *st, uint64_t sid, bool create)
{
    for (uint32_t i = 0; i < st->nsess; i++)
        if (st->sess[i].sid == sid)
            return &st->sess[i];
    if (!create)
        return NULL;
    if (st->nsess >= BF_SMB_MAX_SESSIONS) {
        st->cnt.sessions_dropped++;
        smb_strfree(st, &st->sess[0].user);
        memmove(&st->sess[0], &st->sess[1], (st->nsess - 1) * sizeof st->sess[0]);
        st->nsess--;
    }
    smb_sess *s = &st->sess[st->nsess++];
    memset(s, 0, sizeof *s);
    s->sid = sid;
    return s;
}

static void req_free(smb_state *st, smb_req *r)
{
    smb_strfree(st, &r->name);
    smb_strfree(st, &r->name2);
    smb_strfree(st, &r->ntlm_user);
    smb_strfree(st, &r->ntlm_domain);
    smb_strfree(st, &r->ntlm_host);
    for (int i = 0; i < 2; i++) {
        smb_strfree(st, &r->os[i]);
        smb_strfree(st, &r->lm[i]);
        smb_strfree(st, &r->svc[i]);
    }
    if (r->dialects1)
        smb_free(st, r->dialects1, r->dialects1_len);
    smb_free(st, r, sizeof *r);
}

static void log_tx(smb_state *st, const smb_req *r);

static void req_remove(smb_state *st, smb_req *r, bool log)
{
    for (uint32_t i = 0; i < st->nreq; i++) {
        if (st->req[i] != r)
            continue;
        memmove(&st->req[i], &st->req[i + 1], (st->nreq - i - 1) * sizeof st->req[0]);
        st->nreq--;
        break;
    }
    if (log && r->has_tx) {
        smb_tx_publish(st, r, r->responded ? 1 : 0, true, true);
        log_tx(st, r);
    }
    req_free(st, r);
}

smb_req *smb_req_new(smb_state *st, uint8_t ver, uint16_t cmd, uint64_t mid, bool tx)
{
    /* a reused message id replaces the old request */
    smb_req *old = smb_req_find(st, ver, mid, cmd);
    if (old)
        req_remove(st, old, true);
    if (st->nreq >= BF_SMB_MAX_PENDING) {
        st->cnt.pending_dropped++;
        smb_event(st, SMB_EV_too_many_transactions);
        req_remove(st, st->req[0], true);
    }
    if (st->nreq == st->creq) {
        uint32_t c = st->creq ? st->creq * 2 : 8;
        c = BF_MIN(c, (uint32_t)BF_SMB_MAX_PENDING);
        st->req = bf_realloc(st->req, c * sizeof *st->req);
        st->mem += (c - st->creq) * sizeof *st->req;
        st->creq = c;
    }
    smb_req *r = smb_alloc(st, sizeof *r);
    r->ver = ver;
    r->cmd = cmd;
    r->mid = mid;
    r->has_tx = tx;
    if (tx)
        r->tx_id = ++st->next_tx;
    st->req[st->nreq++] = r;
    return r;
}

smb_req *smb_req_find(smb_state *st, uint8_t ver, uint64_t mid, uint16_t cmd)
{
    for (uint32_t i = st->nreq; i-- > 0;) {
        smb_req *r = st->req[i];
        if (r->mid == mid && r->ver == ver && r->cmd == cmd)
            return r;
    }
    return NULL;
}

void smb_req_done(smb_state *st, smb_req *r) { req_remove(st, r, true); }

smb_file *smb_file_find(smb_state *st, const uint8_t fid[16])
{
    for (uint32_t i = st->nfiles; i-- > 0;)
        if (!memcmp(st->files[i]->fid, fid, 16))
            return st->files[i];
    return NULL;
}

static void file_remove(smb_state *st, smb_file *fl)
{
    for (uint32_t i = 0; i < st->nfiles; i++) {
        if (st->files[i] != fl)
            continue;
        memmove(&st->files[i], &st->files[i + 1], (st->nfiles - i - 1) * sizeof st->files[0]);
        st->nfiles--;
        break;
    }
    for (int d = 0; d < 2; d++) {
        if (fl->x[d].sha) {
            EVP_MD_CTX_free(fl->x[d].sha);
            st->mem -= MEM_SHA;
        }
    }
    for (int d = 0; d < 2; d++)
        if (fl->x[d].data)
            smb_free(st, fl->x[d].data, BF_SMB_TX_DATA_MAX);
    smb_strfree(st, &fl->name);
    smb_free(st, fl, sizeof *fl);
}

smb_file *smb_file_add(smb_state *st, const uint8_t fid[16], uint8_t ver)
{
    smb_file *fl = smb_file_find(st, fid);
    if (fl) {   /* a reused file id: the old file is gone */
        smb_file_close(st, fl, false);
    }
    if (st->nfiles >= BF_SMB_MAX_FILES) {
        st->cnt.files_dropped++;
        smb_file_close(st, st->files[0], false);
    }
    if (st->nfiles == st->cfiles) {
        uint32_t c = st->cfiles ? st->cfiles * 2 : 8;
        c = BF_MIN(c, (uint32_t)BF_SMB_MAX_FILES);
        st->files = bf_realloc(st->files, c * sizeof *st->files);
        st->mem += (c - st->cfiles) * sizeof *st->files;
        st->cfiles = c;
    }
    fl = smb_alloc(st, sizeof *fl);
    memcpy(fl->fid, fid, 16);
    fl->ver = ver;
    fl->seq = ++st->file_seq;
    st->files[st->nfiles++] = fl;
    return fl;
}

/* ---- EVE ----------------------------------------------------------------- */

static void fuid_str(char out[37], const uint8_t fid[16], uint8_t ver)
{
    if (ver == 1)
        snprintf(out, 37, "%02x%02x", fid[1], fid[0]);
    else
        smb_guid_str(out, fid);
}

static void json_status(bf_json *j, uint8_t ver, uint32_t status)
{
    char b[24];
    if (ver == 1 && (status & 0xc0000000u) == 0x40000000u) {
        /* SMB1 DOS error packed by smb1.c: 0x4000_0000 | class << 16 | code */
        unsigned cls = (status >> 16) & 0xff, code = status & 0xffff;
        if (cls == 2 && code == 91)
            bf_json_str(j, "status", "SRV_BADUID");
        else if (cls == 2 && code == 5)
            bf_json_str(j, "status", "SRV_INVTID");
        else if (cls == 1 && code == 2)
            bf_json_str(j, "status", "DOS_BADFILE");
        else if (cls == 1 && code == 5)
            bf_json_str(j, "status", "DOS_NOACCESS");
        else {
            snprintf(b, sizeof b, "UNKNOWN_%02x_%04x", cls, code);
            bf_json_str(j, "status", b);
        }
        snprintf(b, sizeof b, "0x%04x", code);
        bf_json_str(j, "status_code", b);
        return;
    }
    const char *n = bf_smb_ntstatus_name(status);
    if (!n) {
        snprintf(b, sizeof b, "%u", status);
        n = b;
    }
    bf_json_str(j, "status", n);
    char h[16];
    snprintf(h, sizeof h, "0x%x", status);
    bf_json_str(j, "status_code", h);
}

static void json_common(smb_state *st, bf_json *j, uint64_t id, uint8_t ver, uint16_t cmd,
                        bool has_status, uint32_t status, uint64_t sid, uint32_t tid)
{
    char b[24];
    bf_json_uint(j, "id", id);
    if (st->dialect)
        bf_json_str(j, "dialect", smb2_dialect_name(st->dialect));
    else
        bf_json_str(j, "dialect", st->dialect1 ? st->dialect1 : "unknown");
    bf_json_str(j, "command", ver == 1 ? smb1_command_name((uint8_t)cmd)
                                       : smb2_command_name(cmd, b, sizeof b));
    if (has_status)
        json_status(j, ver, status);
    bf_json_uint(j, "session_id", sid);
    bf_json_uint(j, "tree_id", tid);
}

/* The "smb" object of a command tx (EVE event, alert metadata). */
static void json_req(smb_state *st, bf_json *j, const smb_req *r)
{
    char g[40];
    bf_json_open_obj(j, "smb");
    json_common(st, j, r->tx_id, r->ver, r->cmd, r->responded, r->status, r->sid, r->tid);
    switch (r->txtype) {
    case TX_SESSION:
        if (r->ntlm) {
            bf_json_open_obj(j, "ntlmssp");
            bf_json_str(j, "domain", r->ntlm_domain ? r->ntlm_domain : "");
            bf_json_str(j, "user", r->ntlm_user ? r->ntlm_user : "");
            bf_json_str(j, "host", r->ntlm_host ? r->ntlm_host : "");
            bf_json_close_obj(j);
        }
        for (int d = 0; d < 2; d++) {
            if (!r->os[d] && !r->lm[d])
                continue;
            bf_json_open_obj(j, d ? "response" : "request");
            bf_json_str(j, "native_os", r->os[d] ? r->os[d] : "");
            bf_json_str(j, "native_lm", r->lm[d] ? r->lm[d] : "");
            bf_json_close_obj(j);
        }
        break;
    case TX_CREATE: {
        const char *n = r->name && r->name[0] ? r->name : NULL;
        if (n)
            bf_json_str(j, r->directory ? "directory" : "filename", n);
        else
            bf_json_str(j, "filename", "<share_root>");
        static const char *const disp[] = {"FILE_SUPERSEDE", "FILE_OPEN", "FILE_CREATE",
                                           "FILE_OPEN_IF", "FILE_OVERWRITE", "FILE_OVERWRITE_IF"};
        bf_json_str(j, "disposition", r->disposition < 6 ? disp[r->disposition] : "UNKNOWN");
        bf_json_str(j, "access", (r->options & 0x1000) ? "delete on close" : "normal");
        bf_json_uint(j, "created", r->times[0]);
        bf_json_uint(j, "accessed", r->times[1]);
        bf_json_uint(j, "modified", r->times[2]);
        bf_json_uint(j, "changed", r->times[3]);
        bf_json_uint(j, "size", r->size);
        uint8_t zero[16] = {0};
        fuid_str(g, r->has_fid ? r->fid : zero, r->ver);
        bf_json_str(j, "fuid", g);
        break;
    }
    case TX_NEGOTIATE:
        if (r->ver == 1 && r->dialects1) {
            bf_json_open_arr(j, "client_dialects");
            for (uint32_t o = 0; o < r->dialects1_len;) {
                size_t l = strnlen(r->dialects1 + o, r->dialects1_len - o);
                bf_json_strn(j, NULL, r->dialects1 + o, l);
                o += (uint32_t)l + 1;
            }
            bf_json_close_arr(j);
        } else if (r->ver == 2 && r->ndialects) {
            bf_json_open_arr(j, "client_dialects");
            for (unsigned i = 0; i < r->ndialects; i++)
                bf_json_str(j, NULL, smb2_dialect_name(r->dialects[i]));
            bf_json_close_arr(j);
        }
        if (r->has_cguid) {
            smb_guid_str(g, r->cguid);
            bf_json_str(j, "client_guid", g);
        }
        if (r->has_sguid)
            smb_guid_str(g, r->sguid);
        else
            g[0] = 0;
        bf_json_str(j, "server_guid", g);
        if (st->max_read)
            bf_json_uint(j, "max_read_size", st->max_read);
        if (st->max_write)
            bf_json_uint(j, "max_write_size", st->max_write);
        break;
    case TX_TREE:
        bf_json_str(j, r->is_pipe ? "named_pipe" : "share", r->name ? r->name : "");
        if (r->ver == 1) {
            bf_json_open_obj(j, "service");
            if (r->svc[0])
                bf_json_str(j, "request", r->svc[0]);
            if (r->svc[1])
                bf_json_str(j, "response", r->svc[1]);
            bf_json_close_obj(j);
        } else if (r->responded && !r->status) {
            static const char *const types[] = {"UNKNOWN", "FILE", "PIPE", "PRINT"};
            bf_json_str(j, "share_type", r->share_type < 4 ? types[r->share_type] : "UNKNOWN");
        }
        break;
    case TX_RENAME:
        if (r->ver == 2) {
            bf_json_open_obj(j, "set_info");
            bf_json_str(j, "class", "FILE_INFO");
            bf_json_str(j, "info_level", "SMB2_FILE_RENAME_INFO");
            bf_json_close_obj(j);
        }
        bf_json_open_obj(j, "rename");
        bf_json_str(j, "from", r->name2 ? r->name2 : "");
        bf_json_str(j, "to", r->name ? r->name : "");
        bf_json_close_obj(j);
        fuid_str(g, r->fid, r->ver);
        bf_json_str(j, "fuid", g);
        break;
    case TX_DISPOSITION:
        bf_json_str(j, "filename", r->name2 && r->name2[0] ? r->name2 : "<share_root>");
        bf_json_str(j, "access", r->del ? "delete on close" : "normal");
        if (r->ver == 2) {
            bf_json_open_obj(j, "set_info");
            bf_json_str(j, "class", "FILE_INFO");
            bf_json_str(j, "info_level", r->info_class == 64 ? "SMB2_FILE_DISPOSITION_INFO_EX"
                                                             : "SMB2_FILE_DISPOSITION_INFO");
            bf_json_close_obj(j);
        }
        fuid_str(g, r->fid, r->ver);
        bf_json_str(j, "fuid", g);
        break;
    case TX_IOCTL:
        bf_json_str(j, "function", smb_fsctl_name(r->ctl, g, sizeof g));
        break;
    default:
        break;
    }
    bf_json_close_obj(j);
}

static void log_tx(smb_state *st, const smb_req *r)
{
    bf_eve *e = st->ctx ? st->ctx->eve : NULL;
    if (!e)
        return;
    bf_eve_begin_flow(e, "smb", now(st), st->p, st->f);
    bf_json_uint(&e->j, "tx_id", r->tx_id - 1);
    json_req(st, &e->j, r);
    bf_eve_end(e);
}

/* ---- detect (BF_BUS_TX) ------------------------------------------------- */

static bool tx_wanted(const smb_state *st)
{
    return !st->quiet && st->ctx && st->ctx->bus && bf_bus_wanted(st->ctx->bus, BF_BUS_TX);
}

typedef struct meta_ud {
    smb_state *st;
    const smb_req *r;
    smb_file *fl;
    int dir;
    const char *fstate;   /* file tx: "OPEN", "CLOSED" or "TRUNCATED" */
} meta_ud;

static void json_xfer(smb_state *st, bf_json *j, smb_file *fl, int dir);

static void tx_meta(const void *ud, bf_json *j)
{
    const meta_ud *m = ud;
    if (m->r)
        json_req(m->st, j, m->r);
    else
        json_xfer(m->st, j, m->fl, m->dir);
}

/* The alert's "files" array of a file tx: its one file. */
static void tx_files(const void *ud, bf_json *j)
{
    const meta_ud *m = ud;
    if (m->r || !m->fl)
        return;
    const smb_xfer *x = &m->fl->x[m->dir];
    bf_json_open_arr(j, "files");
    bf_json_open_obj(j, NULL);
    bf_json_str(j, "filename", m->fl->name ? m->fl->name : "");
    bf_json_bool(j, "gaps", x->gaps);
    bf_json_str(j, "state", m->fstate ? m->fstate : "OPEN");
    bf_json_bool(j, "stored", false);
    bf_json_uint(j, "size", x->size);
    bf_json_uint(j, "tx_id", x->tx_id - 1);
    bf_json_close_obj(j);
    bf_json_close_arr(j);
}

static void view_init(bf_tx_view *v, uint64_t tx_id, int dir, bool done0, bool done1,
                      const meta_ud *m)
{
    memset(v, 0, sizeof *v);
    v->app_proto = BF_APP_SMB;
    v->dir = (uint8_t)dir;
    v->done[0] = done0;
    v->done[1] = done1;
    v->body_final[0] = done0;
    v->body_final[1] = done1;
    v->tx_id = tx_id - 1;   /* as EVE's tx_id */
    v->log_meta = tx_meta;
    v->log_files = tx_files;
    v->log_ud = m;
}

void smb_tx_publish(smb_state *st, const smb_req *r, int dir, bool done0, bool done1)
{
    if (!r->has_tx || !tx_wanted(st))
        return;
    meta_ud m = {st, r, NULL, 0, NULL};
    bf_tx_view v;
    view_init(&v, r->tx_id, dir, done0, done1, &m);
    bf_dbuf b;
    if (r->txtype == TX_TREE && done0 && r->name && r->name[0])
        /* as Suricata: the tree connect's path, smb.named_pipe when the
         * tree is IPC$ (pipe share type), else smb.share */
        bf_tx_set(&v, r->is_pipe ? BF_DBUF_SMB_NAMED_PIPE : BF_DBUF_SMB_SHARE, &b, r->name,
                  (uint32_t)strlen(r->name));
    else if (r->txtype == TX_CREATE && r->name && r->name[0])
        bf_tx_set(&v, BF_DBUF_FILE_NAME, &b, r->name, (uint32_t)strlen(r->name));
    bf_bus_publish(st->ctx->bus, BF_BUS_TX, st->f, st->p, &v);
}

/* The file tx of the data written (dir 0) or read (dir 1) on a file:
 * file.name and the first BF_SMB_TX_DATA_MAX bytes (sequential from
 * offset 0) as file.data; final once the file is closed. */
static void xfer_publish(smb_state *st, smb_file *fl, int dir, bool final, bool closed)
{
    smb_xfer *x = &fl->x[dir];
    if (!x->active || !tx_wanted(st))
        return;
    /* the file's state as its fileinfo event will tell */
    const char *fstate = !final ? "OPEN" : closed && !x->gaps ? "CLOSED" : "TRUNCATED";
    meta_ud m = {st, NULL, fl, dir, fstate};
    bf_tx_view v;
    view_init(&v, x->tx_id, dir, final, final, &m);
    bf_dbuf bn, bd;
    if (fl->name && fl->name[0])
        bf_tx_set(&v, BF_DBUF_FILE_NAME, &bn, fl->name, (uint32_t)strlen(fl->name));
    if (x->data_len)
        bf_tx_set(&v, BF_DBUF_FILE_DATA, &bd, x->data, x->data_len);
    v.body_final[dir] = final || x->data_len == BF_SMB_TX_DATA_MAX || !x->data_ok;
    bf_bus_publish(st->ctx->bus, BF_BUS_TX, st->f, st->p, &v);
}

static const char *tree_share(smb_state *st, uint32_t tid, bool *pipe)
{
    smb_tree *t = smb_tree_find(st, tid);
    if (pipe)
        *pipe = t ? t->pipe : false;
    return t ? t->share : NULL;
}

/* The smb event of a READ / WRITE file tx, and its fileinfo event. */
static void json_xfer(smb_state *st, bf_json *j, smb_file *fl, int dir)
{
    smb_xfer *x = &fl->x[dir];
    char g[40];
    const char *share = tree_share(st, fl->tid, NULL);
    uint16_t cmd = fl->ver == 1 ? (dir ? 0x2e : 0x2f) : (dir ? SMB2_READ : SMB2_WRITE);
    bf_json_open_obj(j, "smb");
    json_common(st, j, x->tx_id, fl->ver, cmd, x->status_known, x->status, fl->sid, fl->tid);
    bf_json_str(j, "filename", fl->name ? fl->name : "");
    bf_json_str(j, "share", share ? share : "");
    fuid_str(g, fl->fid, fl->ver);
    bf_json_str(j, "fuid", g);
    bf_json_close_obj(j);
}

static void log_xfer(smb_state *st, smb_file *fl, int dir, bool closed)
{
    smb_xfer *x = &fl->x[dir];
    if (!x->active || x->logged)
        return;
    x->logged = true;
    xfer_publish(st, fl, dir, true, closed);
    bf_eve *e = st->ctx ? st->ctx->eve : NULL;
    if (!e)
        return;
    bf_json *j = &e->j;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            bf_eve_begin_flow(e, "smb", now(st), st->p, st->f);
        } else {
            /* fileinfo oriented as the data travels */
            bf_packet tmp;
            const bf_packet *pp = st->p;
            if (st->f && (!pp || !pp->ipver || (pp->dir & 1) != dir)) {
                memset(&tmp, 0, sizeof tmp);
                tmp.ipver = st->f->ipver;
                tmp.proto = st->f->proto;
                tmp.src = st->f->addr[dir];
                tmp.dst = st->f->addr[dir ^ 1];
                tmp.sp = st->f->port[dir];
                tmp.dp = st->f->port[dir ^ 1];
                tmp.pcap_cnt = pp ? pp->pcap_cnt : 0;
                tmp.dir = (uint8_t)dir;
                pp = &tmp;
            }
            bf_eve_begin(e, "fileinfo", now(st), pp, st->f);
        }
        bf_json_uint(j, "tx_id", x->tx_id - 1);
        json_xfer(st, j, fl, dir);
        if (pass == 1) {
            bf_json_str(j, "app_proto", "smb");
            bf_json_open_obj(j, "fileinfo");
            bf_json_str(j, "filename", fl->name ? fl->name : "");
            bf_json_bool(j, "gaps", x->gaps);
            bf_json_str(j, "state", closed && !x->gaps ? "CLOSED" : "TRUNCATED");
            if (closed && x->sha_ok && x->sha) {
                uint8_t md[EVP_MAX_MD_SIZE];
                unsigned int mdlen = 0;
                if (EVP_DigestFinal_ex(x->sha, md, &mdlen) == 1)
                    bf_json_hex(j, "sha256", md, mdlen);
            }
            bf_json_bool(j, "stored", false);
            bf_json_uint(j, "size", x->size);
            bf_json_uint(j, "tx_id", x->tx_id - 1);
            bf_json_close_obj(j);
        }
        bf_eve_end(e);
    }
}

void smb_file_close(smb_state *st, smb_file *fl, bool closed)
{
    log_xfer(st, fl, 0, closed);
    log_xfer(st, fl, 1, closed);
    file_remove(st, fl);
}

/* ---- bus ---------------------------------------------------------------- */

void smb_file_closed(smb_state *st, const uint8_t fid[16], uint8_t version, uint64_t sid,
                     uint32_t tid)
{
    smb_file *fl = smb_file_find(st, fid);
    if (!fl)
        return;
    bf_smb_file_event ev = {.version = version, .status_known = true, .session_id = sid,
                            .tree_id = tid};
    if (fl->doc && !fl->deleted) {
        ev.op = BF_SMB_OP_DELETE;
        smb_publish(st, &ev, fl);
    }
    ev.op = BF_SMB_OP_CLOSE;
    smb_publish(st, &ev, fl);
    smb_file_close(st, fl, true);
}

void smb_publish(smb_state *st, bf_smb_file_event *ev, const smb_file *fl)
{
    if (!st->ctx || !st->ctx->bus || !bf_bus_wanted(st->ctx->bus, BF_BUS_SMB_FILE))
        return;
    if (fl) {
        memcpy(ev->fid, fl->fid, 16);
        if (!ev->name)
            ev->name = fl->name;
        ev->bytes_written = fl->x[0].size;
        ev->bytes_read = fl->x[1].size;
        ev->disposition = fl->disposition;
        ev->access = fl->access;
        ev->create_options = fl->options;
        ev->create_action = fl->action;
        ev->directory = fl->directory;
        ev->delete_on_close = fl->doc;
        if (!ev->session_id)
            ev->session_id = fl->sid;
        if (!ev->tree_id)
            ev->tree_id = fl->tid;
    }
    if (!ev->version)
        ev->version = fl ? (fl->ver == 1 ? 1 : 2) : 2;
    if (!ev->share)
        ev->share = tree_share(st, ev->tree_id, &ev->is_pipe);
    smb_sess *s = smb_sess_get(st, ev->session_id, false);
    if (s) {
        if (!ev->user)
            ev->user = s->user;
        ev->encrypted = s->encrypted;
    }
    bf_bus_publish(st->ctx->bus, BF_BUS_SMB_FILE, st->f, st->p, ev);
}

void smb_login(smb_state *st, const smb_req *r, uint32_t status, uint64_t sid)
{
    char user[2 * BF_SMB_NAME_MAX + 2];
    size_t ul = 0;
    bool have = (r->ntlm_user && r->ntlm_user[0]) || (r->ntlm_domain && r->ntlm_domain[0]);
    if (have)
        ul = (size_t)snprintf(user, sizeof user, "%s\\%s", r->ntlm_domain ? r->ntlm_domain : "",
                              r->ntlm_user ? r->ntlm_user : "");
    ul = BF_MIN(ul, sizeof user - 1);
    smb_sess *s = smb_sess_get(st, sid, true);
    if (have && !status) {
        smb_strfree(st, &s->user);
        s->user = smb_strdup(st, user, ul);
    }
    if (st->ctx && st->ctx->bus) {
        bf_login_event ev = {
            .service = "smb",
            .user = have ? user : NULL,
            .user_len = (uint16_t)(have ? ul : 0),
            .outcome = !status ? BF_LOGIN_SUCCESS
                       : smb_status_logon_failure(status) ? BF_LOGIN_FAILURE : BF_LOGIN_UNKNOWN,
            .attempts = 1,
            .detail = r->ntlm ? "ntlmssp status" : r->krb ? "kerberos status" : "status",
        };
        bf_bus_publish(st->ctx->bus, BF_BUS_LOGIN, st->f, st->p, &ev);
        if (!status) {
            bf_smb_file_event fe = {.op = BF_SMB_OP_SESSION, .version = r->ver,
                                    .status_known = true, .session_id = sid,
                                    .user = have ? s->user : NULL};
            smb_publish(st, &fe, NULL);
        }
    }
}

/* ---- READ / WRITE data ---------------------------------------------------- */

static smb_file *op_file(smb_state *st, smb_op *op)
{
    smb_file *fl = smb_file_find(st, op->fid);
    if (!fl) {   /* opened before the capture started: counted, unnamed */
        fl = smb_file_add(st, op->fid, op->ver);
        fl->sid = op->sid;
        fl->tid = op->tid;
    }
    return fl;
}

void smb_op_begin(smb_state *st, int dir, uint8_t ver, const uint8_t fid[16], uint64_t sid,
                  uint32_t tid, uint64_t off, uint32_t len)
{
    smb_op *op = &st->d[dir].op;
    if (op->active)
        smb_op_end(st, dir);
    memset(op, 0, sizeof *op);
    op->active = true;
    op->ver = ver;
    memcpy(op->fid, fid, 16);
    op->sid = sid;
    op->tid = tid;
    op->off = off;
    op->len = len;
    op->from_zero = off == 0;
    smb_file *fl = op_file(st, op);
    smb_xfer *x = &fl->x[dir];
    if (!x->active) {
        x->active = true;
        x->tx_id = ++st->next_tx;
        x->next = off;
        x->data_ok = off == 0 && tx_wanted(st);
        x->sha_ok = off == 0;
        if (x->sha_ok) {
            x->sha = EVP_MD_CTX_new();
            if (x->sha && EVP_DigestInit_ex(x->sha, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(x->sha);
                x->sha = NULL;
            }
            if (x->sha)
                st->mem += MEM_SHA;
        }
    } else if (off != x->next) {
        x->data_ok = false;   /* file.data: only the sequential head */
        bool pipe = false;
        tree_share(st, tid, &pipe);
        if (off < x->next && x->sha_ok && !pipe)   /* pipes restart at 0 */
            smb_event(st, SMB_EV_file_overlap);
        x->sha_ok = false;
    }
    if (!x->sha_ok && x->sha) {
        EVP_MD_CTX_free(x->sha);
        x->sha = NULL;
        st->mem -= MEM_SHA;
    }
    x->next = off;
}

void smb_op_data(smb_state *st, int dir, const uint8_t *d, uint32_t n)
{
    smb_op *op = &st->d[dir].op;
    if (!op->active || !n)
        return;
    st->cnt.data_bytes[dir] += n;
    smb_file *fl = op_file(st, op);
    smb_xfer *x = &fl->x[dir];
    if (x->sha)
        EVP_DigestUpdate(x->sha, d, n);
    if (x->data_ok && x->next == x->data_len && x->data_len < BF_SMB_TX_DATA_MAX) {
        if (!x->data)
            x->data = smb_alloc(st, BF_SMB_TX_DATA_MAX);
        uint32_t c = BF_MIN(n, BF_SMB_TX_DATA_MAX - x->data_len);
        memcpy(x->data + x->data_len, d, c);
        x->data_len += c;
        x->data_new = true;
    }
    x->size += n;
    x->next += n;
    op->got += n;
    uint32_t take = BF_MIN(n, BF_SMB_ENTROPY_SAMPLE - op->sampled);
    for (uint32_t i = 0; i < take; i++)
        op->hist[d[i]]++;
    op->sampled += take;
}

void smb_op_lost(smb_state *st, int dir, uint32_t n)
{
    smb_op *op = &st->d[dir].op;
    if (!op->active || !n)
        return;
    op->gap = true;
    smb_file *fl = op_file(st, op);
    smb_xfer *x = &fl->x[dir];
    x->gaps = true;
    x->sha_ok = false;
    x->data_ok = false;
    if (x->sha) {
        EVP_MD_CTX_free(x->sha);
        x->sha = NULL;
        st->mem -= MEM_SHA;
    }
    x->next += n;
    op->got += n;
}

void smb_op_end(smb_state *st, int dir)
{
    smb_op *op = &st->d[dir].op;
    if (!op->active)
        return;
    op->active = false;
    smb_file *fl = smb_file_find(st, op->fid);
    uint32_t hist[256];
    for (int i = 0; i < 256; i++)
        hist[i] = op->hist[i];
    bf_smb_file_event ev = {
        .op = dir ? BF_SMB_OP_READ : BF_SMB_OP_WRITE,
        .version = op->ver,
        .session_id = op->sid,
        .tree_id = op->tid,
        .offset = op->off,
        .length = (uint32_t)BF_MIN(op->got, (uint64_t)UINT32_MAX),
        .from_zero = op->from_zero,
        .overwrite = op->from_zero && fl && fl->opened && fl->action != 2,
        .entropy = bf_smb_entropy(hist, op->sampled),
        .entropy_bytes = op->sampled,
        .gap = op->gap,
    };
    smb_publish(st, &ev, fl);
    if (fl && fl->x[dir].data_new) {
        fl->x[dir].data_new = false;
        xfer_publish(st, fl, dir, false, false);
    }
}

void smb_xfer_status(smb_state *st, const uint8_t fid[16], int dir, uint32_t status)
{
    smb_file *fl = smb_file_find(st, fid);
    if (fl && !fl->x[dir].status_known) {
        fl->x[dir].status_known = true;
        fl->x[dir].status = status;
    }
}

/* ---- framing ---------------------------------------------------------------- */

static void buf_reserve(smb_state *st, smb_dir *D, uint32_t need)
{
    if (need <= D->bcap)
        return;
    uint32_t c = BF_MAX(D->bcap * 2, need);
    c = BF_MAX(c, 256u);
    c = BF_MIN(c, BF_SMB_BUF_MAX);
    D->buf = bf_realloc(D->buf, c);
    st->mem += c - D->bcap;
    D->bcap = c;
}

static void buf_shrink(smb_state *st, smb_dir *D)
{
    if (D->bcap > 16384) {
        free(D->buf);
        st->mem -= D->bcap;
        D->buf = NULL;
        D->bcap = 0;
    }
}

static void msg_done(smb_state *st, smb_dir *D)
{
    D->blen = 0;
    D->nblen = 0;
    D->mode = D->left ? M_SKIP : M_HDR;
    buf_shrink(st, D);
}

static void start_resync(smb_state *st, smb_dir *D)
{
    if (D->op.active)
        smb_op_end(st, (int)(D - st->d));
    D->mode = M_RESYNC;
    D->wlen = 0;
    D->scanned = 0;
    D->blen = 0;
    D->nblen = 0;
    D->left = 0;
    D->data_left = 0;
    st->cnt.resyncs++;
}

static void malformed(smb_state *st, smb_dir *D)
{
    smb_event(st, SMB_EV_malformed_data);
    start_resync(st, D);
}

static bool plausible(const uint8_t w[8])
{
    if (w[0] != 0 || w[5] != 'S' || w[6] != 'M' || w[7] != 'B')
        return false;
    uint32_t len = (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3];
    return (w[4] == 0xfe && len >= 64) || (w[4] == 0xff && len >= 32) ||
           (w[4] == 0xfd && len >= 52);
}

/* A new NetBIOS message of len bytes begins. */
static void msg_begin(smb_dir *D, uint32_t len)
{
    D->msg_len = len;
    D->left = len;
    D->blen = 0;
    D->mode = M_BUF;
    D->stage = S_PROTO;
    D->want = BF_MIN(len, 4u);
}

/* Scans for the next plausible header; returns bytes consumed. */
static uint32_t resync(smb_state *st, smb_dir *D, const uint8_t *d, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        if (D->wlen == 8) {
            memmove(D->win, D->win + 1, 7);
            D->wlen = 7;
        }
        D->win[D->wlen++] = d[i++];
        D->scanned++;
        if (D->wlen == 8 && plausible(D->win)) {
            uint32_t len = (uint32_t)D->win[1] << 16 | (uint32_t)D->win[2] << 8 | D->win[3];
            msg_begin(D, len);
            memcpy(D->nb, D->win, 4);
            D->nblen = 4;
            buf_reserve(st, D, 4);
            memcpy(D->buf, D->win + 4, 4);
            D->blen = 4;
            D->left -= 4;
            D->want = 4;
            D->wlen = 0;
            return i;
        }
        if (D->scanned >= BF_SMB_RESYNC_MAX) {
            D->mode = M_DEAD;
            st->cnt.gave_up++;
            st->cnt.lost_bytes += n - i;
            return n;
        }
    }
    return i;
}

/* The buffered bytes reached D->want: decide what to read next. */
static void head_step(smb_state *st, int dir)
{
    smb_dir *D = &st->d[dir];
    const uint8_t *b = D->buf;
    switch (D->stage) {
    case S_PROTO:
        if (D->blen < 4) {
            malformed(st, D);
            return;
        }
        if (b[1] != 'S' || b[2] != 'M' || b[3] != 'B') {
            malformed(st, D);
            return;
        }
        if (b[0] == 0xfe) {
            if (D->msg_len < 64) {
                malformed(st, D);
                return;
            }
            st->cnt.smb2++;
            D->stage = S_HDR2;
            D->want = 64;
        } else if (b[0] == 0xfd) {
            if (D->msg_len < 52) {
                malformed(st, D);
                return;
            }
            st->cnt.transform++;
            D->stage = S_XFORM;
            D->want = 52;
        } else if (b[0] == 0xff) {
            st->cnt.smb1++;
            D->stage = S_FULL;
            D->want = BF_MIN(D->msg_len, BF_SMB_BUF_MAX);
        } else if (b[0] == 0xfc) {   /* compression transform: counted, skipped */
            st->cnt.transform++;
            msg_done(st, D);
        } else {
            malformed(st, D);
        }
        return;
    case S_HDR2: {
        uint16_t cmd = bf_le16(b + 12);
        uint32_t status = bf_le32(b + 8);
        uint32_t flags = bf_le32(b + 16), next = bf_le32(b + 20);
        bool resp = flags & SMB2_FLAGS_RESPONSE;
        if (cmd == SMB2_WRITE && !resp && !next && D->msg_len >= 64 + 48) {
            D->stage = S_WRITEHDR;
            D->want = 64 + 48;
        } else if (cmd == SMB2_READ && resp && !next && D->msg_len >= 64 + 16 &&
                   (status == ST_SUCCESS || status == ST_BUFFER_OVERFLOW)) {
            D->stage = S_READHDR;
            D->want = 64 + 16;
        } else {
            D->stage = S_FULL;
            D->want = BF_MIN(D->msg_len, BF_SMB_BUF_MAX);
        }
        return;
    }
    case S_WRITEHDR:
    case S_READHDR: {
        uint32_t doff = D->stage == S_WRITEHDR ? bf_le16(b + 64 + 2) : b[64 + 2];
        uint32_t fixed = D->stage == S_WRITEHDR ? 64 + 48 : 64 + 16;
        if (doff < fixed || doff > D->msg_len || doff > BF_SMB_BUF_MAX) {
            /* not streamable: parse what can be buffered */
            D->stage = S_FULL;
            D->want = BF_MIN(D->msg_len, BF_SMB_BUF_MAX);
            return;
        }
        D->stage = D->stage == S_WRITEHDR ? S_WRITEDATA : S_READDATA;
        D->want = doff;
        return;
    }
    case S_WRITEDATA:
    case S_READDATA: {
        uint32_t n = D->stage == S_WRITEDATA
                         ? smb2_write_head(st, dir, b, D->blen, D->msg_len)
                         : smb2_read_head(st, dir, b, D->blen, D->msg_len);
        n = BF_MIN(n, D->left);
        D->blen = 0;
        if (n) {
            D->data_left = n;
            D->mode = M_DATA;
        } else {
            smb_op_end(st, dir);
            msg_done(st, D);
        }
        return;
    }
    case S_XFORM: {
        smb2_transform(st, dir, b, D->blen, D->msg_len);
        msg_done(st, D);
        return;
    }
    case S_FULL:
    default:
        if (D->msg_len > D->blen)
            st->cnt.truncated++;
        if (b[0] == 0xff)
            smb1_message(st, dir, b, D->blen);
        else
            smb2_message(st, dir, b, D->blen);
        msg_done(st, D);
        return;
    }
}

static void dir_input(smb_state *st, int dir, const uint8_t *d, uint32_t n)
{
    smb_dir *D = &st->d[dir];
    /* every pass consumes at least one byte or ends a buffered stage; the
     * stage chain per message is bounded, so this bound is never reached
     * on valid input */
    for (uint32_t guard = 0; guard < n + 64 * 1024 && (n || (D->mode == M_BUF &&
                                                         D->blen >= D->want && D->want));
         guard++) {
        uint32_t take = 0;
        switch (D->mode) {
        case M_DEAD:
            st->cnt.lost_bytes += n;
            return;
        case M_RESYNC:
            take = resync(st, D, d, n);
            break;
        case M_HDR:
            take = BF_MIN(4u - D->nblen, n);
            memcpy(D->nb + D->nblen, d, take);
            D->nblen += (uint8_t)take;
            if (D->nblen == 4) {
                uint8_t type = D->nb[0];
                uint32_t len = (uint32_t)D->nb[1] << 16 | (uint32_t)D->nb[2] << 8 | D->nb[3];
                st->cnt.messages[dir]++;
                if (type == 0x00) {
                    if (len == 0) {
                        D->nblen = 0;
                    } else if (len < 4) {
                        d += take;
                        n -= take;
                        malformed(st, D);
                        continue;
                    } else {
                        msg_begin(D, len);
                    }
                } else if (type >= 0x81 && type <= 0x85 && len <= 1024) {
                    D->left = len;   /* session request / response / keep-alive */
                    D->nblen = 0;
                    D->mode = len ? M_SKIP : M_HDR;
                } else {
                    d += take;
                    n -= take;
                    malformed(st, D);
                    continue;
                }
            }
            break;
        case M_BUF:
            if (D->blen < D->want) {
                take = BF_MIN(D->want - D->blen, n);
                take = BF_MIN(take, D->left);
                buf_reserve(st, D, D->blen + take);
                memcpy(D->buf + D->blen, d, take);
                D->blen += take;
                D->left -= take;
            }
            if (D->blen >= D->want || (!D->left && D->blen < D->want)) {
                if (D->blen < D->want)   /* message shorter than a stage needs */
                    D->want = D->blen;
                d += take;
                n -= take;
                head_step(st, dir);
                continue;
            }
            break;
        case M_DATA:
            take = BF_MIN(D->data_left, n);
            smb_op_data(st, dir, d, take);
            D->data_left -= take;
            D->left -= take;
            if (!D->data_left) {
                smb_op_end(st, dir);
                msg_done(st, D);
            }
            break;
        case M_SKIP:
            take = BF_MIN(D->left, n);
            D->left -= take;
            if (!D->left)
                D->mode = M_HDR;
            break;
        }
        d += take;
        n -= take;
    }
}

/* A gap of n bytes in direction dir. */
static void dir_gap(smb_state *st, int dir, uint32_t n)
{
    smb_dir *D = &st->d[dir];
    st->cnt.lost_bytes += n;
    if (D->mode == M_DEAD)
        return;
    /* inside the data or tail of a known message: stay in sync */
    if ((D->mode == M_DATA || D->mode == M_SKIP) && n < D->left) {
        if (D->mode == M_DATA) {
            uint32_t lost = BF_MIN(n, D->data_left);
            smb_op_lost(st, dir, lost);
            D->data_left -= lost;
            D->left -= lost;
            n -= lost;
            if (!D->data_left) {
                smb_op_end(st, dir);
                msg_done(st, D);
            }
        }
        if (n) {
            D->left -= n;
            if (!D->left)
                D->mode = M_HDR;
        }
        return;
    }
    if (D->mode == M_DATA)
        smb_op_lost(st, dir, D->data_left);
    if (D->mode == M_HDR && D->nblen == 0 && n == 0)
        return;
    start_resync(st, D);
}

/* ---- analyzer interface ------------------------------------------------------ */

static void *smb_state_new(bf_app_ctx *ctx, bf_flow *f)
{
    smb_state *st = bf_calloc(1, sizeof *st);
    st->ctx = ctx;
    st->f = f;
    st->mem = sizeof *st;
    mem_sync(st);
    return st;
}

/* Logs what is pending (flow end). */
static void flush_all(smb_state *st)
{
    for (int dir = 0; dir < 2; dir++)
        smb_op_end(st, dir);
    while (st->nreq)
        req_remove(st, st->req[0], true);
    while (st->nfiles)
        smb_file_close(st, st->files[0], false);
}

static void smb_state_free(bf_app_ctx *ctx, bf_flow *f, void *vst)
{
    smb_state *st = vst;
    if (!st)
        return;
    st->ctx = ctx;
    st->f = f;
    st->p = NULL;
    /* free without logging: flow_end logged already */
    bf_eve *eve = ctx ? ctx->eve : NULL;
    if (ctx)
        ctx->eve = NULL;
    st->quiet = true;   /* nor publishing */
    flush_all(st);
    if (ctx)
        ctx->eve = eve;
    for (int i = 0; i < 2; i++) {
        free(st->d[i].buf);
        st->d[i].buf = NULL;
    }
    for (uint32_t i = 0; i < st->ntrees; i++)
        free(st->trees[i].share);
    for (uint32_t i = 0; i < st->nsess; i++)
        free(st->sess[i].user);
    free(st->dialect1);
    free(st->req);
    free(st->files);
    st->mem = 0;
    mem_sync(st);
    free(st);
}

static void smb_parse(bf_app_ctx *ctx, bf_flow *f, void *vst, bf_packet *p, int dir,
                      const uint8_t *data, uint32_t len, uint32_t gap)
{
    smb_state *st = vst;
    dir &= 1;
    st->ctx = ctx;
    st->f = f;
    st->p = p;
    if (gap)
        dir_gap(st, dir, gap);
    if (data && len)
        dir_input(st, dir, data, len);
    mem_sync(st);
    st->p = NULL;
}

static void smb_flow_end(bf_app_ctx *ctx, bf_flow *f, void *vst)
{
    smb_state *st = vst;
    st->ctx = ctx;
    st->f = f;
    st->p = NULL;
    flush_all(st);
    mem_sync(st);
}

const bf_smb_counters *bf_smb_state_counters(const void *st)
{
    return &((const smb_state *)st)->cnt;
}

static uint64_t smb_tx_count(const void *st) { return ((const smb_state *)st)->next_tx; }

const bf_app_parser bf_parser_smb = {
    .tx_count = smb_tx_count,
    .proto = BF_APP_SMB,
    .state_new = smb_state_new,
    .state_free = smb_state_free,
    .parse = smb_parse,
    .flow_end = smb_flow_end,
};
