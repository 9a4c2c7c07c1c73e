/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/smtp: a phishing mail (HTML link whose text shows one
 * domain and whose href goes to another, a base64 "facture.pdf.exe" that is
 * really a PE, a quoted-printable body, nested multipart, RFC 2047 subject)
 * sent with AUTH and pipelining, fed whole and in odd chunks; STARTTLS;
 * BDAT; malformed MIME; caps; EVE schema; memory back to 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/smtp/smtp.h"
#include "app/smtp/smtp_int.h"
#include "app_harness.h"

static const uint32_t odd[] = {1, 3, 7, 2, 13, 5, 64, 0};
static const uint32_t odd2[] = {11, 1, 1, 29, 2, 0};

/* What the tests keep of BF_BUS_SMTP_MAIL (the payload dies with the call) */
typedef struct mail_copy {
    char helo[64], mail_from[128], from_dec[256], subject_dec[256], subject[256];
    char msgid[128], auth_user[64], auth_mech[16];
    uint32_t nrcpt, rcpt_dropped, nto, ncc, natt, nurl, url_dropped, received;
    char rcpt1[64];
    char att_name[4][128], att_det[4][16], att_ctype[4][64];
    uint32_t att_flags[4];
    bool att_danger[4], att_sha[4];
    uint64_t att_size[4];
    char url[8][256], host[8][128], text[8][256];
    bool mismatch[8];
    int status;
    bool authenticated, mime_error;
} mail_copy;

static mail_copy mails[8];
static int nmails;

static void cp(char *dst, size_t cap, bf_smtp_str s)
{
    size_t n = s.ptr ? BF_MIN((size_t)s.len, cap - 1) : 0;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

static void on_mail(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_smtp_mail_event *ev = m->data;
    if (nmails >= 8)
        return;
    mail_copy *c = &mails[nmails++];
    memset(c, 0, sizeof *c);
    cp(c->helo, sizeof c->helo, ev->helo);
    cp(c->mail_from, sizeof c->mail_from, ev->mail_from);
    cp(c->from_dec, sizeof c->from_dec, ev->from_decoded);
    cp(c->subject, sizeof c->subject, ev->subject);
    cp(c->subject_dec, sizeof c->subject_dec, ev->subject_decoded);
    cp(c->msgid, sizeof c->msgid, ev->message_id);
    cp(c->auth_user, sizeof c->auth_user, ev->auth_user);
    snprintf(c->auth_mech, sizeof c->auth_mech, "%s", ev->auth_mech ? ev->auth_mech : "");
    c->nrcpt = ev->nrcpt;
    c->rcpt_dropped = ev->rcpt_dropped;
    if (ev->nrcpt > 1)
        cp(c->rcpt1, sizeof c->rcpt1, ev->rcpt[1]);
    c->nto = ev->nto;
    c->ncc = ev->ncc;
    c->received = ev->received_count;
    c->natt = ev->natt;
    for (uint32_t i = 0; i < ev->natt && i < 4; i++) {
        cp(c->att_name[i], sizeof c->att_name[i], ev->att[i].name);
        cp(c->att_ctype[i], sizeof c->att_ctype[i], ev->att[i].ctype);
        snprintf(c->att_det[i], sizeof c->att_det[i], "%s", ev->att[i].detected);
        c->att_flags[i] = ev->att[i].flags;
        c->att_danger[i] = ev->att[i].dangerous;
        c->att_sha[i] = ev->att[i].have_sha256;
        c->att_size[i] = ev->att[i].size;
    }
    c->nurl = ev->nurl;
    c->url_dropped = ev->url_dropped;
    for (uint32_t i = 0; i < ev->nurl && i < 8; i++) {
        cp(c->url[i], sizeof c->url[i], ev->urls[i].url);
        cp(c->host[i], sizeof c->host[i], ev->urls[i].host);
        cp(c->text[i], sizeof c->text[i], ev->urls[i].text);
        c->mismatch[i] = ev->urls[i].text_mismatch;
    }
    c->status = (int)ev->status;
    c->authenticated = ev->authenticated;
    c->mime_error = ev->mime_error;
}

/* ---- BF_BUS_TX capture: one text line per publish -------------------- */

#include "txcap.h"

static void init(harness *h)
{
    nmails = 0;
    h_init(h, &bf_parser_smtp, 40001, 25);
    bf_bus_subscribe(&h->bus, BF_BUS_SMTP_MAIL, on_mail, NULL);
    h->opts.anomaly_events = true;
}

static const char phish[] =
    "Received: from a by b\r\n"
    "Received: from c by d\r\n"
    "From: =?UTF-8?B?U2VydmljZSBkZXMgSW1ww7R0cw==?= <impots@vi11e-exemple.fr>\r\n"
    "To: alice@ville-exemple.fr, \"Martin, Bob\" <bob@ville-exemple.fr>\r\n"
    "Cc: compta@ville-exemple.fr\r\n"
    "Subject: =?ISO-8859-1?Q?Facture_impay=E9e?= =?UTF-8?Q?_urgente?=\r\n"
    "Message-ID: <123@vi11e-exemple.fr>\r\n"
    "Date: Mon, 2 Jun 2025 10:00:00 +0200\r\n"
    "X-Mailer: PhishKit 1.0\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"outer\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Bonjour, veuillez r=C3=A9gler la facture sur https://www.ville-exemple.fr/pai=\r\n"
    "ement avant vendredi.\r\n"
    "..Ligne qui commence par un point.\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body><p>Cliquez sur <a class=\"btn\"\r\n"
    " href=\"http://vi11e-exemple.fr/login?a=1&amp;b=2\">https://www.ville-exemple.fr</a>\r\n"
    "ou <A HREF='https://www.ville-exemple.fr/aide'>aide</A></p></body></html>\r\n"
    "--inner--\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"facture.pdf.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"facture.pdf.exe\"\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA//8AAFRoaXMgcHJvZ3JhbSBjYW5ub3QgYmUgcnVuIGluIERPUyBtb2RlLg0K\r\n"
    "VGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW4gaW4gRE9TIG1vZGUuDQpUaGlzIHByb2dyYW0gY2Fu\r\n"
    "bm90IGJlIHJ1biBpbiBET1MgbW9kZS4NCg==\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
    "\r\n"
    "plain text file\r\n"
    "second line\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

static void session(harness *h, const uint32_t *ch)
{
    h_str(h, 1, "220-mx.ville-exemple.fr ESMTP\r\n220 ready\r\n", ch);
    h_str(h, 0, "EHLO pc-42.example\r\n", ch);
    h_str(h, 1, "250-mx.ville-exemple.fr\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n", ch);
    /* AUTH LOGIN refused */
    h_str(h, 0, "AUTH LOGIN\r\n", ch);
    h_str(h, 1, "334 VXNlcm5hbWU6\r\n", ch);
    h_str(h, 0, "bWFsbG9yeQ==\r\n", ch);           /* mallory */
    h_str(h, 1, "334 UGFzc3dvcmQ6\r\n", ch);
    h_str(h, 0, "d3Jvbmc=\r\n", ch);
    h_str(h, 1, "535 5.7.8 Authentication failed\r\n", ch);
    /* AUTH PLAIN accepted: \0alice\0secret */
    h_str(h, 0, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", ch);
    h_str(h, 1, "235 2.7.0 Authentication successful\r\n", ch);
    /* pipelined envelope */
    h_str(h, 0, "MAIL FROM:<impots@vi11e-exemple.fr> SIZE=1000\r\nRCPT TO:<alice@ville-exemple.fr>\r\n"
                "RCPT TO:<bob@ville-exemple.fr>\r\nDATA\r\n", ch);
    h_str(h, 1, "250 ok\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n", ch);
    h_str(h, 0, phish, ch);
    h_str(h, 0, ".\r\n", ch);
    h_str(h, 1, "250 2.0.0 queued\r\n", ch);
    h_str(h, 0, "QUIT\r\n", ch);
    h_str(h, 1, "221 bye\r\n", ch);
}

static void test_phishing(void **unused)
{
    (void)unused;
    const uint32_t *chunks[] = {NULL, odd, odd2};
    for (int pass = 0; pass < 3; pass++) {
        harness h;
        init(&h);
        session(&h, chunks[pass]);
        char *eve = h_end(&h);
        /* logins */
        assert_int_equal(h.nlogin, 2);
        assert_string_equal(h.logins[0].service, "smtp");
        assert_string_equal(h.logins[0].user, "mallory");
        assert_int_equal(h.logins[0].outcome, BF_LOGIN_FAILURE);
        assert_string_equal(h.logins[1].user, "alice");
        assert_int_equal(h.logins[1].outcome, BF_LOGIN_SUCCESS);
        /* the mail on the bus */
        assert_int_equal(nmails, 1);
        mail_copy *m = &mails[0];
        assert_string_equal(m->helo, "pc-42.example");
        assert_string_equal(m->mail_from, "<impots@vi11e-exemple.fr>");
        assert_int_equal(m->nrcpt, 2);
        assert_string_equal(m->rcpt1, "<bob@ville-exemple.fr>");
        assert_string_equal(m->from_dec, "Service des Impôts <impots@vi11e-exemple.fr>");
        assert_string_equal(m->subject_dec, "Facture impayée urgente");
        assert_string_equal(m->msgid, "<123@vi11e-exemple.fr>");
        assert_int_equal(m->nto, 2);
        assert_int_equal(m->ncc, 1);
        assert_int_equal(m->received, 2);
        assert_true(m->authenticated);
        assert_string_equal(m->auth_mech, "PLAIN");
        assert_string_equal(m->auth_user, "alice");
        assert_int_equal(m->status, BF_SMTP_MAIL_COMPLETE);
        /* attachments */
        assert_int_equal(m->natt, 2);
        assert_string_equal(m->att_name[0], "facture.pdf.exe");
        assert_string_equal(m->att_ctype[0], "application/pdf");
        assert_string_equal(m->att_det[0], "pe");
        assert_int_equal(m->att_size[0], 139);
        assert_true(m->att_sha[0]);
        assert_true(m->att_danger[0]);
        assert_true(m->att_flags[0] & BF_SMTP_ATT_EXECUTABLE);
        assert_true(m->att_flags[0] & BF_SMTP_ATT_DOUBLE_EXT);
        assert_string_equal(m->att_name[1], "résumé.txt");
        assert_string_equal(m->att_det[1], "text");
        assert_int_equal(m->att_size[1], 28);   /* the CRLF before the boundary excluded */
        assert_false(m->att_danger[1]);
        /* URLs: QP soft break joined; link text vs href */
        assert_int_equal(m->nurl, 3);
        assert_string_equal(m->url[0], "https://www.ville-exemple.fr/paiement");
        assert_string_equal(m->text[0], "");
        assert_string_equal(m->url[1], "http://vi11e-exemple.fr/login?a=1&b=2");
        assert_string_equal(m->host[1], "vi11e-exemple.fr");
        assert_string_equal(m->text[1], "https://www.ville-exemple.fr");
        assert_true(m->mismatch[1]);
        assert_string_equal(m->url[2], "https://www.ville-exemple.fr/aide");
        assert_string_equal(m->text[2], "aide");
        assert_false(m->mismatch[2]);
        /* EVE */
        assert_int_equal(h_count(eve, "\"event_type\":\"smtp\""), 1);
        assert_int_equal(h_count(eve, "\"event_type\":\"fileinfo\""), 2);
        assert_non_null(strstr(eve, "\"smtp\":{\"helo\":\"pc-42.example\",\"mail_from\":"
                                    "\"<impots@vi11e-exemple.fr>\",\"rcpt_to\":["
                                    "\"<alice@ville-exemple.fr>\",\"<bob@ville-exemple.fr>\"]}"));
        assert_non_null(strstr(eve, "\"email\":{\"status\":\"PARSE_DONE\",\"from\":"
                                    "\"=?UTF-8?B?U2VydmljZSBkZXMgSW1ww7R0cw==?= "
                                    "<impots@vi11e-exemple.fr>\",\"to\":["
                                    "\"alice@ville-exemple.fr\",\"\\\"Martin, Bob\\\" "
                                    "<bob@ville-exemple.fr>\"],\"cc\":[\"compta@ville-exemple.fr\"],"
                                    "\"subject\":\"=?ISO-8859-1?Q?Facture_impay=E9e?= "
                                    "=?UTF-8?Q?_urgente?=\""));
        assert_non_null(strstr(eve, "\"attachment\":[\"facture.pdf.exe\",\"résumé.txt\"],"
                                    "\"url\":[\"https://www.ville-exemple.fr/paiement\","
                                    "\"http://vi11e-exemple.fr/login?a=1&b=2\","
                                    "\"https://www.ville-exemple.fr/aide\"]}"));
        assert_non_null(strstr(eve, "\"app_proto\":\"smtp\",\"fileinfo\":{\"filename\":"
                                    "\"facture.pdf.exe\",\"gaps\":false,\"state\":\"CLOSED\","
                                    "\"sha256\":\"3f7c660e0167e5e57bf1d704aa286da0d776ebca998debbb"
                                    "d7c36e13f6a438c1\",\"stored\":false,\"size\":139,\"tx_id\":0}"));
        assert_int_equal(h_count(eve, "\"event_type\":\"anomaly\""), 0);
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }
}

static void test_starttls_bdat(void **unused)
{
    (void)unused;
    for (int pass = 0; pass < 2; pass++) {
        harness h;
        init(&h);
        const uint32_t *ch = pass ? odd : NULL;
        h_str(&h, 1, "220 mx ESMTP\r\n", ch);
        h_str(&h, 0, "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n", ch);
        h_str(&h, 1, "250 mx\r\n250 ok\r\n250 ok\r\n", ch);
        /* BDAT: body in two chunks, a line cut across them, no dot-stuffing */
        h_str(&h, 0, "BDAT 34\r\nSubject: chunked\r\n\r\n.hello www.exa", ch);
        h_str(&h, 0, "BDAT 12 LAST\r\nmple.org/x\r\n", ch);
        h_str(&h, 1, "250 34 octets\r\n250 done\r\n", ch);
        h_str(&h, 0, "STARTTLS\r\n", ch);
        h_str(&h, 1, "220 go\r\n", ch);
        h_str(&h, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 MAIL FROM:<x@y>\r\n", ch);
        h_str(&h, 1, "\x16\x03\x03\x00\x5d\x02\r\n", ch);
        char *eve = h_end(&h);
        assert_int_equal(nmails, 1);
        assert_string_equal(mails[0].subject, "chunked");
        assert_int_equal(mails[0].nurl, 1);
        assert_string_equal(mails[0].url[0], "www.example.org/x");
        assert_string_equal(mails[0].host[0], "www.example.org");
        assert_int_equal(mails[0].status, BF_SMTP_MAIL_COMPLETE);
        assert_int_equal(h_count(eve, "\"event_type\":\"smtp\""), 1);
        assert_int_equal(h_count(eve, "\"event_type\":\"anomaly\""), 0);
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
    }
}

static void test_malformed(void **unused)
{
    (void)unused;
    harness h;
    init(&h);
    h_str(&h, 1, "hello there\r\n", NULL);   /* no 220: not a reply */
    h_str(&h, 1, "554 no\r\n250 what\r\n", NULL);   /* no greeting; unmatched */
    h_str(&h, 0, "HELO x\r\nMAIL FROM:<a@b>\r\nDATA\r\n", NULL);
    h_str(&h, 1, "250 a\r\n250 b\r\n354 c\r\n", NULL);
    /* nesting deeper than the cap, bad base64, bad QP, a never closed
     * multipart, a long header, a long boundary */
    h_str(&h, 0, "Content-Type: multipart/mixed; boundary=b0\r\n\r\n", NULL);
    for (int i = 0; i < 12; i++) {
        char l[128];
        snprintf(l, sizeof l, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i,
                 i + 1);
        h_str(&h, 0, l, NULL);
    }
    h_str(&h, 0, "--b3\r\nContent-Type: application/zip; name=a.zip\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\nUEsD!!BBQ=\r\n", NULL);
    h_str(&h, 0, "--b3\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                 "Content-Disposition: attachment; filename=q.bin\r\n\r\nab=ZZcd=\r\n=4\r\n", NULL);
    h_str(&h, 0, "--b3\r\nX-Long: ", NULL);
    for (int i = 0; i < 1000; i++)
        h_str(&h, 0, "0123456789", NULL);
    h_str(&h, 0, "\r\nContent-Type: multipart/mixed; boundary=", NULL);
    for (int i = 0; i < 30; i++)
        h_str(&h, 0, "0123456789", NULL);
    h_str(&h, 0, "\r\n\r\n", NULL);
    /* a body line of 10000 bytes and 200 URLs */
    for (int i = 0; i < 1000; i++)
        h_str(&h, 0, "aaaaaaaaaa", NULL);
    h_str(&h, 0, "\r\n", NULL);
    h_str(&h, 0, ".\r\n", NULL);
    h_str(&h, 1, "250 ok\r\n", NULL);
    /* second mail: caps */
    h_str(&h, 0, "MAIL FROM:<a@b>\r\n", NULL);
    for (int i = 0; i < 100; i++)
        h_str(&h, 0, "RCPT TO:<r@x>\r\n", NULL);
    h_str(&h, 0, "DATA\r\n\r\n", NULL);
    for (int i = 0; i < 200; i++) {
        char l[64];
        snprintf(l, sizeof l, "see http://h%d.example/\r\n", i);
        h_str(&h, 0, l, NULL);
    }
    h_str(&h, 0, "\r\n.\r\n", NULL);
    /* a long command, then a cut body at flow end */
    h_str(&h, 0, "NOOP ", NULL);
    for (int i = 0; i < 600; i++)
        h_str(&h, 0, "0123456789", NULL);
    h_str(&h, 0, "\r\nMAIL FROM:<z@z>\r\nDATA\r\nContent-Type: text/plain; name=cut.exe\r\n\r\nMZ",
          NULL);
    char *eve = h_end(&h);
    assert_int_equal(nmails, 3);
    assert_true(mails[0].mime_error);
    assert_int_equal(mails[1].nrcpt, BF_SMTP_MAX_RCPT);
    assert_int_equal(mails[1].rcpt_dropped, 100 - BF_SMTP_MAX_RCPT);
    assert_int_equal(mails[1].nurl, BF_SMTP_MAX_URL);
    assert_int_equal(mails[1].url_dropped, 200 - BF_SMTP_MAX_URL);
    assert_int_equal(mails[2].status, BF_SMTP_MAIL_TRUNCATED);
    assert_int_equal(mails[2].natt, 1);
    assert_string_equal(mails[2].att_det[0], "pe");
    assert_true(mails[2].att_flags[0] & BF_SMTP_ATT_TRUNCATED);
    const char *evs[] = {"INVALID_REPLY", "UNABLE_TO_MATCH_REPLY_WITH_REQUEST",
                         "NO_SERVER_WELCOME_MESSAGE", "MIME_PARSE_FAILED",
                         "MIME_INVALID_BASE64", "MIME_INVALID_QP", "MIME_LONG_HEADER_VALUE",
                         "MIME_LONG_BOUNDARY", "MIME_LONG_LINE", "MIME_MALFORMED_MSG",
                         "MAX_COMMAND_LINE_LEN_EXCEEDED"};
    for (size_t i = 0; i < BF_ARRAY_LEN(evs); i++) {
        char k[96];
        snprintf(k, sizeof k, "\"event\":\"%s\"", evs[i]);
        if (!strstr(eve, k))
            fail_msg("missing anomaly %s", evs[i]);
    }
    assert_non_null(strstr(eve, "\"state\":\"TRUNCATED\""));
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_gap_and_refused(void **unused)
{
    (void)unused;
    harness h;
    init(&h);
    h_str(&h, 1, "220 mx\r\n", NULL);
    h_str(&h, 0, "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", NULL);
    h_str(&h, 1, "250 a\r\n250 b\r\n250 c\r\n554 no valid recipients\r\n", NULL);
    h_str(&h, 0, "RSET\r\nMAIL FROM:<e@f>\r\nDATA\r\nSubject: x\r\n\r\nbody", NULL);
    h.ps->parse(&h.ctx, &h.f, h.st, NULL, 0, NULL, 0, 100);
    h_str(&h, 0, "more\r\n.\r\n", NULL);
    char *eve = h_end(&h);
    assert_int_equal(nmails, 2);
    assert_int_equal(mails[0].status, BF_SMTP_MAIL_TRUNCATED);
    assert_int_equal(mails[1].status, BF_SMTP_MAIL_TRUNCATED);
    assert_string_equal(mails[1].mail_from, "<e@f>");
    assert_non_null(strstr(eve, "DATA_COMMAND_REJECTED"));
    assert_int_equal(h.f.app_mem, 0);
    assert_int_equal(h_validate(&h), 0);
    free(eve);
}

static void test_helpers(void **unused)
{
    (void)unused;
    char out[128];
    size_t n = sm_decode_2047("=?utf-8?q?a_b?=  =?utf-8?b?w6k=?= c", 35, out, sizeof out);
    out[n] = 0;
    assert_string_equal(out, "a bé c");
    n = sm_url_host("https://user:pw@WWW.Bank.example:8443/x?y", 41, out, sizeof out);
    assert_string_equal(out, "www.bank.example");
    n = sm_url_host("http://www.bank.com@evil.example/", 33, out, sizeof out);
    assert_string_equal(out, "evil.example");
    (void)n;
}

/* BF_BUS_TX: one tx per mail: after the envelope (DATA), at the end of the
 * body (done[0]), on the server's answer (both done); envelope-only mails
 * end with RSET; nothing without a subscriber. */
static void test_tx(void **unused)
{
    (void)unused;
    const uint32_t *chunks[] = {NULL, odd, odd2};
    for (int pass = 0; pass < 3; pass++) {
        harness h;
        init(&h);
        txcap c;
        txcap_init(&c, &h, true);
        session(&h, chunks[pass]);
        h_str(&h, 0, "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nRSET\r\n", chunks[pass]);
        h_str(&h, 1, "250 ok\r\n250 ok\r\n250 ok\r\n", chunks[pass]);
        char *eve = h_end(&h);
        if (getenv("BF_TX_DUMP"))
            fprintf(stderr, "%s", c.log);
        const char *env = "SMTP_HELO=[pc-42.example] SMTP_MAIL_FROM=[<impots@vi11e-exemple.fr>] "
                          "SMTP_RCPT_TO=[<alice@ville-exemple.fr>][<bob@ville-exemple.fr>]";
        const char *body = "FILE_DATA=[MZ\\x90\\x00\\x03\\x00\\x00\\x00\\x04\\x00\\x00"
                           "\\x00\\xff\\xff\\x00\\x00...(139)][plain text file\\x0d\\x0a"
                           "second line] FILE_NAME=[facture.pdf.exe][r\\xc3\\xa9sum\\xc3"
                           "\\xa9.txt] ";
        const char *hdrs = " EMAIL_SUBJECT=[=?ISO-8859-1?Q?Facture_impay=E9e?= =?UTF-8?Q?_urgente"
                           "?=] EMAIL_FROM=[=?UTF-8?B?U2Vydm...(66)]\n";
        char want[2048];
        snprintf(want, sizeof want, "tx=0 dir=0 done=00 %s\ntx=0 dir=0 done=10 %s%s%s"
                 "tx=0 dir=1 done=11 %s%s%s", env, body, env, hdrs, body, env, hdrs);
        if (!strstr(c.log, want))
            fprintf(stderr, "missing: %s\nin:\n%s", want, c.log);
        assert_non_null(strstr(c.log, want));
        /* envelope only, ended by RSET */
        assert_non_null(strstr(c.log, "tx=1 dir=0 done=11 SMTP_HELO=[pc-42.example] "
                                      "SMTP_MAIL_FROM=[<x@y>] SMTP_RCPT_TO=[<z@w>]\n"));
        assert_int_equal(c.n, 4);
        /* alerts carry the smtp and email objects */
        assert_non_null(strstr(eve, "\"tx_id\":0,\"alert\":{"));
        assert_non_null(strstr(eve, "\"smtp\":{\"helo\":\"pc-42.example\",\"mail_from\":"
                                    "\"<impots@vi11e-exemple.fr>\""));
        assert_non_null(strstr(eve, "\"email\":{\"status\":\"PARSE_DONE\""));
        assert_int_equal(h.f.app_mem, 0);
        assert_int_equal(h_validate(&h), 0);
        free(eve);
        free(c.log);
    }
    /* no subscriber: nothing published */
    harness h;
    init(&h);
    session(&h, NULL);
    free(h_end(&h));
    assert_int_equal(h.bus.published[BF_BUS_TX], 0);
    unlink(h.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phishing),
        cmocka_unit_test(test_starttls_bdat),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_gap_and_refused),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_tx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
