/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/smb: a crafted SMB2 session (negotiate, session setup
 * with NTLMSSP in SPNEGO, tree connect, create, read, write, rename, delete,
 * close, a compound request, an encrypted message) fed whole and in odd
 * chunks; bus payloads; login events; SMB1 basics; malformed input, gaps
 * and resynchronisation; table caps; memory back to 0; EVE schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/smb/smb.h"
#include "app_harness.h"

static const uint32_t odd[] = {1, 3, 7, 2, 13, 5, 61, 0};

/* ---- builders -------------------------------------------------------------- */

typedef struct mb {
    uint8_t b[70000];
    uint32_t n;
} mb;

static void put(mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += (uint32_t)n;
}
static void u8(mb *m, uint8_t v) { put(m, &v, 1); }
static void u16(mb *m, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(m, b, 2);
}
static void u32(mb *m, uint32_t v)
{
    u16(m, (uint16_t)v);
    u16(m, (uint16_t)(v >> 16));
}
static void u64(mb *m, uint64_t v)
{
    u32(m, (uint32_t)v);
    u32(m, (uint32_t)(v >> 32));
}
static void zero(mb *m, size_t n)
{
    memset(m->b + m->n, 0, n);
    m->n += (uint32_t)n;
}
static void set16(mb *m, uint32_t at, uint16_t v)
{
    m->b[at] = (uint8_t)v;
    m->b[at + 1] = (uint8_t)(v >> 8);
}
static void set32(mb *m, uint32_t at, uint32_t v)
{
    set16(m, at, (uint16_t)v);
    set16(m, at + 2, (uint16_t)(v >> 16));
}
static void utf16(mb *m, const char *s)
{
    for (; *s; s++)
        u16(m, (uint8_t)*s);
}

#define SID 0x0000100000000005ULL
#define TID 5u

/* SMB2 header at the current position (returns its offset). */
static uint32_t hdr2(mb *m, uint16_t cmd, bool resp, uint64_t mid, uint32_t status, uint32_t tid,
                     uint64_t sid, uint32_t flags)
{
    uint32_t at = m->n;
    put(m, "\xfeSMB", 4);
    u16(m, 64);
    u16(m, 1);
    u32(m, status);
    u16(m, cmd);
    u16(m, 1);
    u32(m, (resp ? 1u : 0u) | flags);
    u32(m, 0);   /* next */
    u64(m, mid);
    u32(m, 0);
    u32(m, tid);
    u64(m, sid);
    zero(m, 16);
    return at;
}

/* Sends m (an SMB2 message, possibly compound) with its NetBIOS header. */
static void send(harness *h, int dir, const mb *m, const uint32_t *ch)
{
    uint8_t *b = malloc(m->n + 4);
    b[0] = 0;
    b[1] = (uint8_t)(m->n >> 16);
    b[2] = (uint8_t)(m->n >> 8);
    b[3] = (uint8_t)m->n;
    memcpy(b + 4, m->b, m->n);
    h_feed(h, dir, b, m->n + 4, ch);
    free(b);
}

static const uint8_t F1[16] = {0x4d, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
static const uint8_t F2[16] = {0x4e, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
static const uint8_t F3[16] = {0x4f, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
static const uint8_t FF[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void negotiate(harness *h, const uint32_t *ch)
{
    mb m = {.n = 0};
    hdr2(&m, 0, false, 0, 0, 0, 0, 0);
    u16(&m, 36);
    u16(&m, 4);
    u16(&m, 1);
    u16(&m, 0);
    u32(&m, 0x7f);
    put(&m, "0123456789abcdef", 16);
    u64(&m, 0);
    u16(&m, 0x202);
    u16(&m, 0x210);
    u16(&m, 0x300);
    u16(&m, 0x311);
    send(h, 0, &m, ch);
    m.n = 0;
    hdr2(&m, 0, true, 0, 0, 0, 0, 0);
    u16(&m, 65);
    u16(&m, 1);
    u16(&m, 0x311);
    u16(&m, 0);
    put(&m, "fedcba9876543210", 16);
    u32(&m, 0x2f);
    u32(&m, 8388608);
    u32(&m, 8388608);
    u32(&m, 8388608);
    zero(&m, 16 + 8);
    send(h, 1, &m, ch);
}

/* SPNEGO negTokenResp { responseToken OCTET STRING { NTLMSSP AUTHENTICATE } } */
static void ntlm_auth(mb *o, const char *dom, const char *user, const char *host)
{
    mb t = {.n = 0};
    put(&t, "NTLMSSP\0", 8);
    u32(&t, 3);
    uint32_t pay = 72, dl = 2 * (uint32_t)strlen(dom), ul = 2 * (uint32_t)strlen(user),
             hl = 2 * (uint32_t)strlen(host);
    /* lm, nt: empty */
    u16(&t, 0); u16(&t, 0); u32(&t, pay);
    u16(&t, 0); u16(&t, 0); u32(&t, pay);
    u16(&t, (uint16_t)dl); u16(&t, (uint16_t)dl); u32(&t, pay);
    u16(&t, (uint16_t)ul); u16(&t, (uint16_t)ul); u32(&t, pay + dl);
    u16(&t, (uint16_t)hl); u16(&t, (uint16_t)hl); u32(&t, pay + dl + ul);
    u16(&t, 0); u16(&t, 0); u32(&t, pay + dl + ul + hl);
    u32(&t, 0xe2888215);   /* unicode among others */
    zero(&t, 8);
    utf16(&t, dom);
    utf16(&t, user);
    utf16(&t, host);
    /* wrap: a1 { 30 { a2 { 04 { t } } } } (long form lengths) */
    uint32_t l4 = t.n, l3 = l4 + 4, l2 = l3 + 4, l1 = l2 + 4;
    uint8_t w[] = {0xa1, 0x82, (uint8_t)(l1 >> 8), (uint8_t)l1, 0x30, 0x82, (uint8_t)(l2 >> 8),
                   (uint8_t)l2, 0xa2, 0x82, (uint8_t)(l3 >> 8), (uint8_t)l3, 0x04, 0x82,
                   (uint8_t)(l4 >> 8), (uint8_t)l4};
    put(o, w, sizeof w);
    put(o, t.b, t.n);
}

static void session(harness *h, const uint32_t *ch, uint64_t mid, const char *user,
                    uint32_t status)
{
    mb m = {.n = 0};
    hdr2(&m, 1, false, mid, 0, 0, SID, 0);
    u16(&m, 25);
    u8(&m, 0);
    u8(&m, 1);
    u32(&m, 0);
    u32(&m, 0);
    u16(&m, 64 + 24);
    uint32_t lat = m.n;
    u16(&m, 0);
    u64(&m, 0);
    uint32_t s = m.n;
    ntlm_auth(&m, "CONTOSO", user, "WS01");
    set16(&m, lat, (uint16_t)(m.n - s));
    send(h, 0, &m, ch);
    m.n = 0;
    hdr2(&m, 1, true, mid, status, 0, SID, 0);
    u16(&m, 9);
    u16(&m, 0);
    u16(&m, 72);
    u16(&m, 0);
    send(h, 1, &m, ch);
}

static void tree(harness *h, const uint32_t *ch, uint64_t mid, const char *path, uint32_t tid,
                 uint8_t type)
{
    mb m = {.n = 0};
    hdr2(&m, 3, false, mid, 0, 0, SID, 0);
    u16(&m, 9);
    u16(&m, 0);
    u16(&m, 72);
    u16(&m, (uint16_t)(2 * strlen(path)));
    utf16(&m, path);
    send(h, 0, &m, ch);
    m.n = 0;
    hdr2(&m, 3, true, mid, 0, tid, SID, 0);
    u16(&m, 16);
    u8(&m, type);
    u8(&m, 0);
    u32(&m, 0);
    u32(&m, 0);
    u32(&m, 0x1f01ff);
    send(h, 1, &m, ch);
}

static void create_req(mb *m, uint64_t mid, const char *name, uint32_t disp, uint32_t opts,
                       uint32_t flags)
{
    uint32_t at = hdr2(m, 5, false, mid, 0, TID, SID, flags);
    u16(m, 57);
    u8(m, 0);
    u8(m, 0);
    u32(m, 2);
    zero(m, 16);
    u32(m, 0x0012019f);   /* desired access */
    u32(m, 0x80);
    u32(m, 7);
    u32(m, disp);
    u32(m, opts);
    u16(m, 120);
    u16(m, (uint16_t)(2 * strlen(name)));
    u32(m, 0);
    u32(m, 0);
    utf16(m, name);
    (void)at;
}

static void create_resp(mb *m, uint64_t mid, const uint8_t fid[16], uint32_t action)
{
    hdr2(m, 5, true, mid, 0, TID, SID, 0);
    u16(m, 89);
    u8(m, 0);
    u8(m, 0);
    u32(m, action);
    for (int i = 0; i < 4; i++)
        u64(m, 131000000000000000ULL);   /* 2016 */
    u64(m, 8192);
    u64(m, 4321);
    u32(m, 0x20);
    u32(m, 0);
    put(m, fid, 16);
    u32(m, 0);
    u32(m, 0);
}

static void simple_resp(mb *m, uint16_t cmd, uint64_t mid, uint32_t status, uint16_t ss)
{
    hdr2(m, cmd, true, mid, status, TID, SID, 0);
    u16(m, ss);
    zero(m, ss > 3 ? (size_t)(ss - 2 - (ss & 1)) : 0);
}

static void write_req(mb *m, uint64_t mid, const uint8_t fid[16], uint64_t off,
                      const uint8_t *d, uint32_t n, uint32_t flags)
{
    hdr2(m, 9, false, mid, 0, TID, SID, flags);
    u16(m, 49);
    u16(m, 112);
    u32(m, n);
    u64(m, off);
    put(m, fid, 16);
    zero(m, 16);
    put(m, d, n);
}

static void close_req(mb *m, uint64_t mid, const uint8_t fid[16], uint32_t flags)
{
    hdr2(m, 6, false, mid, 0, TID, SID, flags);
    u16(m, 24);
    u16(m, 0);
    u32(m, 0);
    put(m, fid, 16);
}

static void set_info(harness *h, const uint32_t *ch, uint64_t mid, const uint8_t fid[16],
                     uint8_t cls, const char *newname)
{
    mb m = {.n = 0};
    hdr2(&m, 17, false, mid, 0, TID, SID, 0);
    u16(&m, 33);
    u8(&m, 1);
    u8(&m, cls);
    uint32_t lat = m.n;
    u32(&m, 0);
    u16(&m, 96);
    u16(&m, 0);
    u32(&m, 0);
    put(&m, fid, 16);
    uint32_t s = m.n;
    if (newname) {
        u8(&m, 0);
        zero(&m, 7);
        u64(&m, 0);
        u32(&m, (uint32_t)(2 * strlen(newname)));
        utf16(&m, newname);
    } else {
        u8(&m, 1);
    }
    set32(&m, lat, m.n - s);
    send(h, 0, &m, ch);
    m.n = 0;
    simple_resp(&m, 17, mid, 0, 2);
    send(h, 1, &m, ch);
}

/* ---- bus capture --------------------------------------------------------------- */

typedef struct cap_ev {
    enum bf_smb_op op;
    char name[128], new_name[128], share[64], user[64];
    uint64_t offset, bytes_read, bytes_written;
    uint32_t length, status;
    double entropy;
    bool overwrite, from_zero, encrypted;
} cap_ev;

static cap_ev evs[256];
static int nev;

static void on_smb(void *ud, const bf_bus_msg *msg)
{
    (void)ud;
    const bf_smb_file_event *e = msg->data;
    if (nev >= 256)
        return;
    cap_ev *c = &evs[nev++];
    memset(c, 0, sizeof *c);
    c->op = e->op;
    snprintf(c->name, sizeof c->name, "%s", e->name ? e->name : "");
    snprintf(c->new_name, sizeof c->new_name, "%s", e->new_name ? e->new_name : "");
    snprintf(c->share, sizeof c->share, "%s", e->share ? e->share : "");
    snprintf(c->user, sizeof c->user, "%s", e->user ? e->user : "");
    c->offset = e->offset;
    c->length = e->length;
    c->bytes_read = e->bytes_read;
    c->bytes_written = e->bytes_written;
    c->entropy = e->entropy;
    c->overwrite = e->overwrite;
    c->from_zero = e->from_zero;
    c->encrypted = e->encrypted;
    c->status = e->status;
}

static int find_ev(enum bf_smb_op op, const char *name)
{
    for (int i = 0; i < nev; i++)
        if (evs[i].op == op && (!name || !strcmp(evs[i].name, name)))
            return i;
    return -1;
}

static void init(harness *h)
{
    h_init(h, &bf_parser_smb, 49152, 445);
    h->opts.anomaly_events = true;
    bf_bus_subscribe(&h->bus, BF_BUS_SMB_FILE, on_smb, NULL);
    nev = 0;
}

/* ---- BF_BUS_TX capture: one text line per publish -------------------- */

#include "txcap.h"

/* ---- tests ------------------------------------------------------------------------ */

static void full_session(harness *h, const uint32_t *ch)
{
    negotiate(h, ch);
    session(h, ch, 1, "mallory", 0xc000006d);   /* refused */
    session(h, ch, 2, "alice", 0);
    tree(h, ch, 3, "\\\\srv\\share", TID, 1);
    tree(h, ch, 4, "\\\\srv\\IPC$", 9, 2);
    /* open an existing file, read it, overwrite it with random bytes */
    mb m = {.n = 0};
    create_req(&m, 5, "docs\\report.docx", 1, 0, 0);
    send(h, 0, &m, ch);
    m.n = 0;
    create_resp(&m, 5, F1, 1);
    send(h, 1, &m, ch);
    m.n = 0;
    hdr2(&m, 8, false, 6, 0, TID, SID, 0);   /* READ 3000 at 0 */
    u16(&m, 49);
    u8(&m, 0x50);
    u8(&m, 0);
    u32(&m, 3000);
    u64(&m, 0);
    put(&m, F1, 16);
    zero(&m, 17);
    send(h, 0, &m, ch);
    m.n = 0;
    hdr2(&m, 8, true, 6, 0, TID, SID, 0);
    u16(&m, 17);
    u8(&m, 80);
    u8(&m, 0);
    u32(&m, 3000);
    u32(&m, 0);
    u32(&m, 0);
    memset(m.b + m.n, 'A', 3000);
    m.n += 3000;
    send(h, 1, &m, ch);
    uint8_t rnd[5000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) {
        x = x * 1103515245 + 12345;
        rnd[i] = (uint8_t)(x >> 16);
    }
    m.n = 0;
    write_req(&m, 7, F1, 0, rnd, sizeof rnd, 0);
    send(h, 0, &m, ch);
    m.n = 0;
    simple_resp(&m, 9, 7, 0, 17);
    send(h, 1, &m, ch);
    set_info(h, ch, 8, F1, 10, "docs\\report.docx.locked");
    m.n = 0;
    close_req(&m, 9, F1, 0);
    send(h, 0, &m, ch);
    m.n = 0;
    simple_resp(&m, 6, 9, 0, 60);
    send(h, 1, &m, ch);
    /* compound: CREATE README.txt + WRITE (related) + CLOSE (related) */
    m.n = 0;
    create_req(&m, 10, "README.txt", 2, 0, 0);
    while (m.n % 8)
        u8(&m, 0);
    uint32_t second = m.n;
    set32(&m, 20, second);
    write_req(&m, 11, FF, 0, (const uint8_t *)"pay 1 BTC to get your files back", 32,
              0x4);
    while (m.n % 8)
        u8(&m, 0);
    set32(&m, second + 20, m.n - second);
    close_req(&m, 12, FF, 0x4);
    send(h, 0, &m, ch);
    m.n = 0;
    create_resp(&m, 10, F2, 2);
    set32(&m, 20, m.n);
    second = m.n;
    simple_resp(&m, 9, 11, 0, 17);
    while (m.n % 8)
        u8(&m, 0);
    set32(&m, second + 20, m.n - second);
    simple_resp(&m, 6, 12, 0, 60);
    send(h, 1, &m, ch);
    /* open + delete + close */
    m.n = 0;
    create_req(&m, 13, "old.bak", 1, 0, 0);
    send(h, 0, &m, ch);
    m.n = 0;
    create_resp(&m, 13, F3, 1);
    send(h, 1, &m, ch);
    set_info(h, ch, 14, F3, 13, NULL);
    m.n = 0;
    close_req(&m, 15, F3, 0);
    send(h, 0, &m, ch);
    m.n = 0;
    simple_resp(&m, 6, 15, 0, 60);
    send(h, 1, &m, ch);
    /* an encrypted message (transform header) */
    m.n = 0;
    put(&m, "\xfdSMB", 4);
    zero(&m, 32);
    u32(&m, 200);
    u16(&m, 0);
    u16(&m, 1);
    u64(&m, SID);
    zero(&m, 200);
    send(h, 0, &m, ch);
}

static void test_session(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        harness h;
        init(&h);
        full_session(&h, pass ? odd : NULL);
        const bf_smb_counters *c = bf_smb_state_counters(h.st);
        assert_int_equal(c->encrypted_bytes[0], 252);
        assert_int_equal(c->anomalies, 0);
        char *eve = h_end(&h);
        if (getenv("SMB_DUMP"))
            fputs(eve, stderr);
        /* logins */
        assert_int_equal(h.nlogin, 2);
        assert_string_equal(h.logins[0].service, "smb");
        assert_string_equal(h.logins[0].user, "CONTOSO\\mallory");
        assert_int_equal(h.logins[0].outcome, BF_LOGIN_FAILURE);
        assert_string_equal(h.logins[1].user, "CONTOSO\\alice");
        assert_int_equal(h.logins[1].outcome, BF_LOGIN_SUCCESS);
        /* EVE */
        assert_non_null(strstr(eve, "\"smb\":{\"id\":1,\"dialect\":\"3.11\",\"command\":"
                                    "\"SMB2_COMMAND_NEGOTIATE_PROTOCOL\",\"status\":"
                                    "\"STATUS_SUCCESS\",\"status_code\":\"0x0\""));
        assert_non_null(strstr(eve, "\"client_dialects\":[\"2.02\",\"2.10\",\"3.00\",\"3.11\"]"));
        assert_non_null(strstr(eve, "\"status\":\"STATUS_LOGON_FAILURE\",\"status_code\":"
                                    "\"0xc000006d\""));
        assert_non_null(strstr(eve, "\"ntlmssp\":{\"domain\":\"CONTOSO\",\"user\":\"alice\","
                                    "\"host\":\"WS01\"}"));
        assert_non_null(strstr(eve, "\"tree_id\":5,\"share\":\"\\\\\\\\srv\\\\share\","
                                    "\"share_type\":\"FILE\""));
        assert_non_null(strstr(eve, "\"named_pipe\":\"\\\\\\\\srv\\\\IPC$\",\"share_type\":"
                                    "\"PIPE\""));
        assert_non_null(strstr(eve, "\"filename\":\"docs\\\\report.docx\",\"disposition\":"
                                    "\"FILE_OPEN\",\"access\":\"normal\",\"created\":"));
        assert_non_null(strstr(eve, "\"size\":4321,\"fuid\":\"0000004d-0000-0000-0009-0000ffffffff\""));
        assert_non_null(strstr(eve, "\"set_info\":{\"class\":\"FILE_INFO\",\"info_level\":"
                                    "\"SMB2_FILE_RENAME_INFO\"},\"rename\":{\"from\":"
                                    "\"docs\\\\report.docx\",\"to\":\"docs\\\\report.docx.locked\"}"));
        assert_non_null(strstr(eve, "\"command\":\"SMB2_COMMAND_WRITE\""));
        assert_non_null(strstr(eve, "\"filename\":\"old.bak\",\"access\":\"delete on close\""));
        assert_int_equal(h_count(eve, "\"event_type\":\"fileinfo\""), 3);
        /* the sequential write of README.txt from 0: hashed */
        assert_non_null(strstr(eve, "\"filename\":\"README.txt\",\"gaps\":false,\"state\":"
                                    "\"CLOSED\",\"sha256\":"));
        assert_non_null(strstr(eve, "\"state\":\"CLOSED\",\"sha256\":\"") );
        assert_non_null(strstr(eve, "\"stored\":false,\"size\":5000"));
        /* bus */
        if (getenv("SMB_DUMP"))
            for (int k = 0; k < nev; k++)
                fprintf(stderr, "ev %d %s len %u ow %d z %d\n", evs[k].op, evs[k].name,
                        evs[k].length, evs[k].overwrite, evs[k].from_zero);
        int i = find_ev(BF_SMB_OP_OPEN, "docs\\report.docx");
        assert_true(i >= 0);
        assert_string_equal(evs[i].share, "\\\\srv\\share");
        assert_string_equal(evs[i].user, "CONTOSO\\alice");
        i = find_ev(BF_SMB_OP_READ, "docs\\report.docx");
        assert_true(i >= 0);
        assert_int_equal(evs[i].length, 3000);
        assert_true(evs[i].entropy < 0.01);
        i = find_ev(BF_SMB_OP_WRITE, "docs\\report.docx");
        assert_true(i >= 0);
        assert_int_equal(evs[i].length, 5000);
        assert_true(evs[i].entropy > 7.5);
        assert_true(evs[i].overwrite);
        assert_int_equal(evs[i].bytes_read, 3000);
        assert_int_equal(evs[i].bytes_written, 5000);
        i = find_ev(BF_SMB_OP_RENAME, "docs\\report.docx");
        assert_true(i >= 0);
        assert_string_equal(evs[i].new_name, "docs\\report.docx.locked");
        assert_true(find_ev(BF_SMB_OP_CLOSE, "docs\\report.docx.locked") >= 0);
        i = find_ev(BF_SMB_OP_CREATE, "README.txt");
        assert_true(i >= 0);
        i = find_ev(BF_SMB_OP_WRITE, "README.txt");
        assert_true(i >= 0);
        assert_false(evs[i].overwrite);
        assert_true(evs[i].from_zero);
        assert_true(find_ev(BF_SMB_OP_DELETE, "old.bak") >= 0);
        assert_true(find_ev(BF_SMB_OP_TREE_CONNECT, NULL) >= 0);
        assert_true(find_ev(BF_SMB_OP_SESSION, NULL) >= 0);
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }
}

static void test_smb1(void **unused)
{
    (void)unused;
    harness h;
    init(&h);
    mb m = {.n = 0};
    put(&m, "\xffSMB", 4);
    u8(&m, 0x72);
    zero(&m, 4);
    u8(&m, 0x18);
    u16(&m, 0xc853);
    zero(&m, 12);
    u16(&m, 0xffff);
    u16(&m, 0xfeff);
    u16(&m, 0);
    u16(&m, 0);
    u8(&m, 0);
    const char d[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
    u16(&m, sizeof d);
    put(&m, d, sizeof d);
    send(&h, 0, &m, odd);
    m.n = 0;   /* answered in SMB2 */
    hdr2(&m, 0, true, 0, 0, 0, 0, 0);
    u16(&m, 65);
    u16(&m, 1);
    u16(&m, 0x2ff);
    u16(&m, 0);
    put(&m, "fedcba9876543210", 16);
    zero(&m, 40);
    send(&h, 1, &m, odd);
    char *eve = h_end(&h);
        if (getenv("SMB_DUMP"))
            fputs(eve, stderr);
    assert_non_null(strstr(eve, "\"command\":\"SMB1_COMMAND_NEGOTIATE_PROTOCOL\""));
    assert_non_null(strstr(eve, "\"client_dialects\":[\"NT LM 0.12\",\"SMB 2.002\",\"SMB 2.???\"]"));
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_malformed_gap(void **unused)
{
    (void)unused;
    harness h;
    init(&h);
    /* garbage, then a valid exchange: resynchronised */
    h_feed(&h, 0, "\x00\x00\x00\x10GARBAGEGARBAGE!!", 20, NULL);
    negotiate(&h, odd);
    /* a gap in the middle of a WRITE's data keeps sync and marks the file */
    mb m = {.n = 0};
    create_req(&m, 5, "a.txt", 2, 0, 0);
    send(&h, 0, &m, NULL);
    m.n = 0;
    create_resp(&m, 5, F1, 2);
    send(&h, 1, &m, NULL);
    static uint8_t data[20000];
    m.n = 0;
    write_req(&m, 6, F1, 0, data, sizeof data, 0);
    uint8_t *b = malloc(m.n + 4);
    b[0] = 0;
    b[1] = (uint8_t)(m.n >> 16);
    b[2] = (uint8_t)(m.n >> 8);
    b[3] = (uint8_t)m.n;
    memcpy(b + 4, m.b, m.n);
    h_feed(&h, 0, b, 4000, odd);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 0, NULL, 0, 1000);
    h_feed(&h, 0, b + 5000, m.n + 4 - 5000, NULL);
    free(b);
    /* a gap inside a header: resync on the next header */
    m.n = 0;
    close_req(&m, 7, F1, 0);
    send(&h, 0, &m, NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 1, NULL, 0, 33);
    h_str(&h, 1, "junk", NULL);
    m.n = 0;
    simple_resp(&m, 6, 7, 0, 60);
    send(&h, 1, &m, odd);
    /* a malformed compound chain and short messages */
    m.n = 0;
    hdr2(&m, 5, false, 20, 0, TID, SID, 0);
    set32(&m, 20, 12);   /* NextCommand not aligned / too short */
    zero(&m, 8);
    send(&h, 0, &m, NULL);
    m.n = 0;
    hdr2(&m, 1, false, 21, 0, 0, 0, 0);
    u16(&m, 25);
    zero(&m, 10);
    u16(&m, 60000);   /* security buffer out of bounds */
    u16(&m, 60000);
    zero(&m, 8);
    send(&h, 0, &m, NULL);
    /* a response in the request direction */
    m.n = 0;
    simple_resp(&m, 4, 22, 0, 4);
    send(&h, 0, &m, NULL);
    const bf_smb_counters *c = bf_smb_state_counters(h.st);
    assert_true(c->resyncs >= 2);
    char *eve = h_end(&h);
        if (getenv("SMB_DUMP"))
            fputs(eve, stderr);
    assert_non_null(strstr(eve, "\"event\":\"malformed_data\""));
    assert_non_null(strstr(eve, "\"event\":\"response_to_server\""));
    assert_non_null(strstr(eve, "\"filename\":\"a.txt\",\"gaps\":true,\"state\":\"TRUNCATED\""));
    assert_non_null(strstr(eve, "\"size\":19000"));   /* bytes seen */
    assert_non_null(strstr(eve, "\"command\":\"SMB2_COMMAND_CLOSE\",\"status\":"));
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_caps(void **unused)
{
    (void)unused;
    harness h;
    init(&h);
    mb m;
    for (uint32_t i = 0; i < BF_SMB_MAX_FILES + 50; i++) {
        uint8_t fid[16] = {0};
        memcpy(fid, &i, 4);
        m.n = 0;
        create_req(&m, 100 + i, "f", 1, 0, 0);
        send(&h, 0, &m, NULL);
        m.n = 0;
        create_resp(&m, 100 + i, fid, 1);
        send(&h, 1, &m, NULL);
    }
    for (uint32_t i = 0; i < BF_SMB_MAX_PENDING + 10; i++) {
        m.n = 0;
        hdr2(&m, 13, false, 100000 + i, 0, TID, SID, 0);   /* ECHO, never answered */
        u16(&m, 4);
        u16(&m, 0);
        send(&h, 0, &m, NULL);
    }
    const bf_smb_counters *c = bf_smb_state_counters(h.st);
    assert_int_equal(c->files_dropped, 50);
    assert_int_equal(c->pending_dropped, 10);
    assert_true(c->anomalies >= 1);   /* too_many_transactions (EVE > harness buffer) */
    char *eve = h_end(&h);
    assert_int_equal(h.f.app_mem, 0);
    free(eve);
    unlink(h.path);

    /* helpers */
    char out[8];
    bool cut = false;
    const uint8_t u[] = {'a', 0, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xdc, 'b', 0};
    bf_smb_utf16_to_utf8(u, sizeof u, out, sizeof out, &cut);
    assert_true(cut);   /* U+FFFD for the lone surrogate does not fit */
    assert_string_equal(out, "a\xf0\x9f\x98\x80");
    size_t len = 0;
    assert_null(bf_smb_find_ntlmssp((const uint8_t *)"\xa1\x05\x30\x03\x04\x01x", 7, &len));
}

/* BF_BUS_TX: a tx per command (request: dir 0, done[0]; logged: both
 * done), smb.share / smb.named_pipe on tree connects once the response
 * says which, file.name on creates, file txs with file.name and file.data
 * (READ / WRITE data); nothing without a subscriber. */
static void test_tx(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        harness h;
        init(&h);
        txcap c;
        txcap_init(&c, &h, true);
        full_session(&h, pass ? odd : NULL);
        char *eve = h_end(&h);
        if (getenv("BF_TX_DUMP"))
            fprintf(stderr, "%s", c.log);
        const char *want[] = {
            "tx=2 dir=0 done=10\ntx=2 dir=1 done=11\n",   /* session setup */
            /* tree connects: nothing until the response decides */
            "tx=3 dir=0 done=00\ntx=3 dir=1 done=11 SMB_SHARE=[\\\\srv\\share]\n",
            "tx=4 dir=0 done=00\ntx=4 dir=1 done=11 SMB_NAMED_PIPE=[\\\\srv\\IPC$]\n",
            "tx=5 dir=0 done=10 FILE_NAME=[docs\\report.docx]\n"
            "tx=5 dir=1 done=11 FILE_NAME=[docs\\report.docx]\n",
            /* file txs: the READ data, the WRITE data, final at close */
            "tx=6 dir=1 done=00 FILE_DATA=[AAAAAAAAAAAAAAAA...(3000)] "
            "FILE_NAME=[docs\\report.docx]\n",
            "tx=7 dir=0 done=00 FILE_DATA=[",
            "...(5000)] FILE_NAME=[docs\\report.docx]\n",
            "tx=6 dir=1 done=11 FILE_DATA=[AAAAAAAAAAAAAAAA...(3000)] "
            "FILE_NAME=[docs\\report.docx.locked]\n",
            "tx=10 dir=0 done=10 FILE_NAME=[README.txt]\n",
            "tx=11 dir=0 done=00 FILE_DATA=[pay 1 BTC to get your files back] "
            "FILE_NAME=[README.txt]\n",
            "tx=11 dir=0 done=11 FILE_DATA=[pay 1 BTC to get your files back] "
            "FILE_NAME=[README.txt]\n",
            "tx=13 dir=1 done=11 FILE_NAME=[old.bak]\n",
        };
        for (size_t i = 0; i < BF_ARRAY_LEN(want); i++) {
            if (!strstr(c.log, want[i]))
                fprintf(stderr, "missing: %s\nin:\n%s", want[i], c.log);
            assert_non_null(strstr(c.log, want[i]));
        }
        assert_null(strstr(c.log, "SMB_SHARE=[\\\\srv\\IPC$]"));
        /* every tx ends once with both done: 13 commands + 3 file txs */
        assert_int_equal(h_count(c.log, "done=11"), 13 + 3);
        /* alerts carry the smb object of the tx */
        assert_non_null(strstr(eve, "\"tx_id\":3,\"alert\":{"));
        assert_non_null(strstr(eve, "\"command\":\"SMB2_COMMAND_TREE_CONNECT\",\"status\":"
                                    "\"STATUS_SUCCESS\",\"status_code\":\"0x0\",\"session_id\""));
        assert_non_null(strstr(eve, "\"tx_id\":11,\"alert\":{"));
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
        free(c.log);
    }
    /* no subscriber: nothing published, no data kept */
    harness h;
    init(&h);
    full_session(&h, NULL);
    free(h_end(&h));
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);
    unlink(h.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_smb1),
        cmocka_unit_test(test_malformed_gap),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_tx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
