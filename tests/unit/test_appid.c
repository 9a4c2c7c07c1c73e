/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for app/appid: identification by content, not port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/app.h"

#define ID(proto, dir, s, port) bf_app_identify(proto, dir, (const uint8_t *)(s), sizeof(s) - 1, port)

static void test_tcp_text(void **st)
{
    (void)st;
    assert_int_equal(ID(6, 0, "GET / HTTP/1.1\r\nHost: x\r\n", 8080), BF_APP_HTTP);
    assert_int_equal(ID(6, 1, "HTTP/1.1 200 OK\r\n", 4444), BF_APP_HTTP);
    assert_int_equal(ID(6, 0, "GE", 80), BF_APP_UNKNOWN); /* needs more */
    assert_int_equal(ID(6, 0, "SSH-2.0-OpenSSH_9.2\r\n", 2222), BF_APP_SSH);
    assert_int_equal(ID(6, 1, "220 mail.ville.fr ESMTP Postfix\r\n", 2525), BF_APP_SMTP);
    assert_int_equal(ID(6, 1, "220 (vsFTPd 3.0.3)\r\n", 2121), BF_APP_FTP);
    assert_int_equal(ID(6, 0, "EHLO client\r\n", 25), BF_APP_SMTP);
    assert_int_equal(ID(6, 0, "USER anonymous\r\n", 21), BF_APP_FTP);
    assert_int_equal(ID(6, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 4443), BF_APP_TLS);
    assert_int_equal(ID(6, 0, "hello world, this is nothing known\n", 80), BF_APP_FAILED);
}

static void test_tcp_binary(void **st)
{
    (void)st;
    /* NetBIOS session + SMB2 header */
    assert_int_equal(ID(6, 0, "\x00\x00\x00\x40\xfeSMB\x40\x00", 445), BF_APP_SMB);
    assert_int_equal(ID(6, 0, "\x00\x00\x00\x40\xffSMBr", 139), BF_APP_SMB);
    /* RDP X.224 connection request with cookie */
    assert_int_equal(ID(6, 0, "\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00" "Cookie: mstshash=a", 3389),
                     BF_APP_RDP);
    /* DCERPC bind */
    assert_int_equal(ID(6, 0, "\x05\x00\x0b\x03\x10\x00\x00\x00\x48\x00\x00\x00", 135), BF_APP_DCERPC);
}

static void test_udp(void **st)
{
    (void)st;
    /* DNS query for www.example.com A IN on a non-standard port */
    static const char q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                            "\x03" "www\x07" "example\x03" "com\x00\x00\x01\x00\x01";
    assert_int_equal(bf_app_identify(17, 0, (const uint8_t *)q, sizeof q - 1, 5300), BF_APP_DNS);
    /* random bytes are not DNS */
    static const char r[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    assert_int_equal(bf_app_identify(17, 0, (const uint8_t *)r, sizeof r - 1, 53), BF_APP_FAILED);
    /* a label running past the end is refused, not read out of bounds */
    static const char t[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f" "abc";
    assert_int_equal(bf_app_identify(17, 0, (const uint8_t *)t, sizeof t - 1, 53), BF_APP_FAILED);
}

static void test_names(void **st)
{
    (void)st;
    assert_string_equal(bf_app_proto_name(BF_APP_SMB), "smb");
    assert_int_equal(bf_app_proto_lookup("tls"), BF_APP_TLS);
    assert_null(bf_app_proto_name(BF_APP_UNKNOWN));
    assert_null(bf_app_proto_name(999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_text),
        cmocka_unit_test(test_tcp_binary),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
