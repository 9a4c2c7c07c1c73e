/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for detect/parse.c (rule parser) and detect/vars.c (address
 * and port sets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "detect/parse_int.h"

static bf_parse_ctx ctx;
static char err[512], reason[128];

static int setup(void **state)
{
    (void)state;
    bf_config *cfg = bf_config_new();
    char e[256];
    const char *yaml = "vars:\n"
                       "  address-groups:\n"
                       "    HOME_NET: \"[10.0.0.0/8,192.168.1.0/24]\"\n"
                       "    DMZ: \"[$HOME_NET,!10.1.0.0/16]\"\n"
                       "    V6NET: \"2001:db8::/32\"\n"
                       "  port-groups:\n"
                       "    HTTP_PORTS: \"[80,8080:8081]\"\n"
                       "    WEIRD: \"[!$HTTP_PORTS,1:1024]\"\n";
    assert_int_equal(bf_config_load_string(cfg, yaml, "test", e, sizeof e), 0);
    assert_true(bf_parse_ctx_init(&ctx, cfg, e, sizeof e));
    bf_config_free(cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bf_parse_ctx_free(&ctx);
    return 0;
}

static bf_sig *P(const char *rule)
{
    bf_sig *s = bf_sig_parse(&ctx, rule, err, sizeof err, reason, sizeof reason);
    if (!s)
        print_message("parse failed: %s [%s]\n  %s\n", err, reason, rule);
    return s;
}

static void fails(const char *rule, const char *why)
{
    bf_sig *s = bf_sig_parse(&ctx, rule, err, sizeof err, reason, sizeof reason);
    if (s)
        print_message("unexpectedly parsed: %s\n", rule);
    assert_null(s);
    if (why && strstr(reason, why) == NULL) {
        print_message("reason '%s' (err '%s'), expected '%s'\n", reason, err, why);
        fail();
    }
}

static bf_addr ip(const char *s)
{
    bf_addr a;
    assert_true(bf_addr_parse(s, &a) != 0);
    return a;
}
static bool in(const bf_ipset *s, const char *a)
{
    bf_addr x = ip(a);
    return bf_ipset_match(s, &x, strchr(a, ':') ? 6 : 4);
}

static const bf_sig_buf *buf(const bf_sig *s, int id)
{
    for (uint16_t i = 0; i < s->nbufs; i++)
        if (s->bufs[i].buf == id)
            return &s->bufs[i];
    return NULL;
}

/* ------------------------------------------------------------ header */

static void test_header_basic(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any 80 (msg:\"hello \\\"x\\\"\"; sid:1; rev:3;)");
    assert_non_null(s);
    assert_int_equal(s->action, BF_ACT_ALERT);
    assert_int_equal(s->proto, BF_SP_TCP);
    assert_string_equal(s->msg, "hello \"x\"");
    assert_int_equal(s->sid, 1);
    assert_int_equal(s->rev, 3);
    assert_int_equal(s->gid, 1);
    assert_int_equal(s->prio, 3);
    assert_true(s->src.any && s->dst.any && s->sp.any);
    assert_false(s->dp.any);
    assert_true(bf_portset_match(&s->dp, 80));
    assert_false(bf_portset_match(&s->dp, 81));
    assert_true(s->flags & BF_SIG_IPONLY);
    assert_int_equal(s->fp_buf, -1);
    assert_int_equal(s->dirs, BF_DIR_BOTH);
    bf_sig_free(s);

    static const struct { const char *a; int act; } acts[] = {
        {"alert", BF_ACT_ALERT}, {"drop", BF_ACT_DROP}, {"pass", BF_ACT_PASS},
        {"reject", BF_ACT_REJECT}, {"rejectsrc", BF_ACT_REJECT},
        {"rejectdst", BF_ACT_REJECTDST}, {"rejectboth", BF_ACT_REJECTBOTH}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        char r[200];
        snprintf(r, sizeof r, "%s ip any any <> any any (sid:2;)", acts[i].a);
        s = P(r);
        assert_non_null(s);
        assert_int_equal(s->action, acts[i].act);
        assert_true(s->flags & BF_SIG_BIDIR);
        bf_sig_free(s);
    }
    fails("hello ip any any -> any any (sid:2;)", "unknown action");
    fails("alert ip any any <- any any (sid:2;)", "syntax");
    fails("alert ip any any -> any (sid:2;)", "syntax");
    fails("alert ip any any -> any any (msg:\"x\";)", "rule has no sid");
    fails("alert ip any any -> any any (sid:1;", "syntax");
    fails("alert ip any any -> any any", "syntax");
    fails("", "syntax");
}

static void test_protocols(void **state)
{
    (void)state;
    static const struct { const char *p; int sp; int app; } t[] = {
        {"ip", BF_SP_IP, 0}, {"any", BF_SP_IP, 0}, {"tcp", BF_SP_TCP, 0},
        {"tcp-pkt", BF_SP_TCP_PKT, 0}, {"tcp-stream", BF_SP_TCP_STREAM, 0},
        {"udp", BF_SP_UDP, 0}, {"icmp", BF_SP_ICMP, 0}, {"icmpv4", BF_SP_ICMP, 0},
        {"icmpv6", BF_SP_ICMPV6, 0}, {"sctp", BF_SP_SCTP, 0},
        {"http", BF_SP_APP, BF_APP_HTTP}, {"http1", BF_SP_APP, BF_APP_HTTP},
        {"tls", BF_SP_APP, BF_APP_TLS}, {"ssl", BF_SP_APP, BF_APP_TLS},
        {"dns", BF_SP_APP, BF_APP_DNS}, {"smb", BF_SP_APP, BF_APP_SMB},
        {"smtp", BF_SP_APP, BF_APP_SMTP}, {"ssh", BF_SP_APP, BF_APP_SSH},
        {"ftp", BF_SP_APP, BF_APP_FTP}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char r[200];
        snprintf(r, sizeof r, "alert %s any any -> any any (sid:1;)", t[i].p);
        bf_sig *s = P(r);
        assert_non_null(s);
        assert_int_equal(s->proto, t[i].sp);
        assert_int_equal(s->app_proto, t[i].app);
        if (strcmp(t[i].p, "icmp") == 0)
            assert_true(s->flags & BF_SIG_ICMP_BOTH);
        if (t[i].sp == BF_SP_APP)
            assert_false(s->flags & BF_SIG_IPONLY);
        bf_sig_free(s);
    }
    bf_sig *s = P("alert dns any any -> any any (sid:1;)");
    assert_int_equal(s->app_l4, 0);
    bf_sig_free(s);
    s = P("alert http any any -> any any (sid:1;)");
    assert_int_equal(s->app_l4, 6);
    bf_sig_free(s);
    fails("alert modbus any any -> any any (sid:1;)", "unsupported protocol 'modbus'");
    fails("alert dnp3 any any -> any any (sid:1;)", "unsupported protocol 'dnp3'");
    fails("alert foo any any -> any any (sid:1;)", "unsupported protocol 'foo'");
    s = P("alert ipv6 any any -> any any (sid:1;)");
    assert_false(s->src.any);
    assert_true(in(&s->src, "2001::1"));
    assert_false(in(&s->src, "1.2.3.4"));
    bf_sig_free(s);
}

static void test_addresses(void **state)
{
    (void)state;
    bf_ipset a;
    char e[200];
    assert_true(bf_parse_addr_set(&ctx, "[1.2.3.4, 10.0.0.0/24 ,![10.0.0.5,10.0.0.7]]", &a, e,
                                  sizeof e));
    assert_true(in(&a, "1.2.3.4"));
    assert_false(in(&a, "1.2.3.5"));
    assert_true(in(&a, "10.0.0.4"));
    assert_false(in(&a, "10.0.0.5"));
    assert_true(in(&a, "10.0.0.6"));
    assert_false(in(&a, "10.0.0.7"));
    assert_false(in(&a, "::1"));
    assert_int_equal(a.n4, 4);
    free(a.r4);
    free(a.r6);

    /* config vars, nested and negated */
    assert_true(bf_parse_addr_set(&ctx, "$DMZ", &a, e, sizeof e));
    assert_true(in(&a, "10.2.0.1"));
    assert_false(in(&a, "10.1.2.3"));
    assert_true(in(&a, "192.168.1.9"));
    assert_false(in(&a, "192.168.2.9"));
    free(a.r4);
    free(a.r6);
    assert_true(bf_parse_addr_set(&ctx, "$EXTERNAL_NET", &a, e, sizeof e));
    assert_false(in(&a, "10.3.3.3"));
    assert_true(in(&a, "8.8.8.8"));
    assert_true(in(&a, "2001:db8::1"));
    free(a.r4);
    free(a.r6);
    assert_true(bf_parse_addr_set(&ctx, "![$V6NET,1.1.1.1]", &a, e, sizeof e));
    assert_false(in(&a, "2001:db8:1::1"));
    assert_true(in(&a, "2001:db9::1"));
    assert_false(in(&a, "1.1.1.1"));
    assert_true(in(&a, "1.1.1.2"));
    free(a.r4);
    free(a.r6);
    /* only negations in a list: everything but those */
    assert_true(bf_parse_addr_set(&ctx, "[!1.1.1.1,!2.2.2.0/24]", &a, e, sizeof e));
    assert_true(in(&a, "1.1.1.2"));
    assert_false(in(&a, "2.2.2.200"));
    free(a.r4);
    free(a.r6);
    /* Suricata default for a variable not in the config */
    assert_true(bf_parse_addr_set(&ctx, "$SQL_SERVERS", &a, e, sizeof e));
    assert_true(in(&a, "10.9.9.9"));
    free(a.r4);
    free(a.r6);
    assert_true(bf_parse_addr_set(&ctx, "any", &a, e, sizeof e));
    assert_true(a.any);
    assert_true(bf_parse_addr_set(&ctx, "[0.0.0.0/0,::/0]", &a, e, sizeof e));
    assert_true(a.any);
    assert_true(bf_parse_addr_set(&ctx, "192.168.0.0/255.255.0.0", &a, e, sizeof e));
    assert_true(in(&a, "192.168.77.1"));
    free(a.r4);
    free(a.r6);

    static const char *bad[] = {"$NOPE", "1.2.3.4/33", "[1.2.3.4", "1.2.3.4]", "300.1.1.1",
                                "[1.1.1.1,!1.1.1.1]", "[]", "[1.1.1.1,]", "!any", "!", "$",
                                "[[[[[[[[[[[[[[[[[[[[1.1.1.1]]]]]]]]]]]]]]]]]]]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bf_parse_addr_set(&ctx, bad[i], &a, e, sizeof e)) {
            print_message("accepted bad address %s\n", bad[i]);
            fail();
        }
    }
    fails("alert ip $NOPE any -> any any (sid:1;)", "bad address");
}

static void test_ports(void **state)
{
    (void)state;
    bf_portset p;
    char e[200];
    assert_true(bf_parse_port_set(&ctx, "[1:100,!50,200:,!65000:]", &p, e, sizeof e));
    assert_true(bf_portset_match(&p, 1));
    assert_true(bf_portset_match(&p, 49));
    assert_false(bf_portset_match(&p, 50));
    assert_false(bf_portset_match(&p, 150));
    assert_true(bf_portset_match(&p, 300));
    assert_false(bf_portset_match(&p, 65000));
    assert_false(bf_portset_match(&p, 0));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, ":1023", &p, e, sizeof e));
    assert_true(bf_portset_match(&p, 0));
    assert_false(bf_portset_match(&p, 1024));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "$HTTP_PORTS", &p, e, sizeof e));
    assert_true(bf_portset_match(&p, 8081));
    assert_false(bf_portset_match(&p, 8082));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "$WEIRD", &p, e, sizeof e));
    /* [!a,b] = b minus a, as Suricata */
    assert_false(bf_portset_match(&p, 80));
    assert_true(bf_portset_match(&p, 1000));
    assert_false(bf_portset_match(&p, 8080));
    assert_false(bf_portset_match(&p, 9000));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "$FILE_DATA_PORTS", &p, e, sizeof e));
    assert_true(bf_portset_match(&p, 110) && bf_portset_match(&p, 8080));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "$SHELLCODE_PORTS", &p, e, sizeof e));
    assert_false(bf_portset_match(&p, 80));
    assert_true(bf_portset_match(&p, 81));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "!5800,!445", &p, e, sizeof e));
    assert_false(bf_portset_match(&p, 445));
    assert_false(bf_portset_match(&p, 5800));
    assert_true(bf_portset_match(&p, 80));
    free(p.r);
    assert_true(bf_parse_port_set(&ctx, "[0:65535]", &p, e, sizeof e));
    assert_true(p.any);
    static const char *bad[] = {"65536", "10:5", ":", "[1,2", "$NOPE", "!any", "abc", "-1", "1:2:3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bf_parse_port_set(&ctx, bad[i], &p, e, sizeof e)) {
            print_message("accepted bad port %s\n", bad[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ options */

static void test_meta_options(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any any (msg:\"m\"; classtype:trojan-activity; "
                  "reference:url,example.com/a,b; reference:cve,2020-1234; "
                  "metadata:created_at 2020_01_01, former_category MALWARE, flag; "
                  "gid:3; sid:10; target:dest_ip;)");
    assert_non_null(s);
    assert_string_equal(s->classtype, "trojan-activity");
    assert_string_equal(s->class_desc, "A Network Trojan was Detected");
    assert_int_equal(s->prio, 1);
    assert_int_equal(s->nrefs, 2);
    assert_string_equal(s->refs[0].system, "url");
    assert_string_equal(s->refs[0].id, "example.com/a,b");
    assert_int_equal(s->nmeta, 3);
    assert_string_equal(s->meta[0].key, "created_at");
    assert_string_equal(s->meta[0].value, "2020_01_01");
    assert_string_equal(s->meta[2].key, "flag");
    assert_string_equal(s->meta[2].value, "");
    assert_int_equal(s->gid, 3);
    assert_int_equal(s->target, BF_TARGET_DST);
    bf_sig_free(s);
    s = P("alert tcp any any -> any any (classtype:trojan-activity; priority:4; sid:10;)");
    assert_int_equal(s->prio, 4);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (classtype:nope; sid:1;)", "unknown classtype");
    fails("alert tcp any any -> any any (sid:abc;)", "bad value");
    fails("alert tcp any any -> any any (sid:1; foo;)", "unknown keyword 'foo'");
    fails("alert tcp any any -> any any (sid:1; dce_iface:abc;)", "unsupported keyword 'dce_iface'");
    fails("alert tcp any any -> any any (sid:1; app-layer-event:http.x;)",
          "unsupported keyword 'app-layer-event'");

    /* classification.config from a file */
    char path[] = "/tmp/bf_cls_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *txt = "# c\nconfig classification: foo-bar,Foo Bar Desc, 2\n";
    assert_int_equal(write(fd, txt, strlen(txt)), (ssize_t)strlen(txt));
    close(fd);
    bf_parse_ctx c2;
    char e[200];
    assert_true(bf_parse_ctx_init(&c2, NULL, e, sizeof e));
    assert_true(bf_parse_ctx_load_classification(&c2, path, e, sizeof e));
    s = bf_sig_parse(&c2, "alert ip any any -> any any (classtype:foo-bar; sid:1;)", err,
                     sizeof err, reason, sizeof reason);
    assert_non_null(s);
    assert_string_equal(s->class_desc, "Foo Bar Desc");
    assert_int_equal(s->prio, 2);
    bf_sig_free(s);
    assert_null(bf_sig_parse(&c2, "alert ip any any -> any any (classtype:trojan-activity; sid:1;)",
                             err, sizeof err, reason, sizeof reason));
    bf_parse_ctx_free(&c2);
    unlink(path);
}

static void test_content(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any any (content:\"a|00 41|b\\;\\\"\\\\\\:\"; nocase; "
                  "offset:2; depth:10; content:!\"zz\"; distance:-3; within:5; "
                  "content:\"x\"; startswith; content:\"y\"; endswith; sid:1;)");
    assert_non_null(s);
    assert_int_equal(s->nbufs, 1);
    const bf_sig_buf *b = &s->bufs[0];
    assert_int_equal(b->buf, BF_DBUF_PKT);
    assert_int_equal(b->nsm, 4);
    assert_int_equal(b->sm[0].content.len, 8);
    assert_memory_equal(b->sm[0].content.pat, "a\0Ab;\"\\:", 8);
    assert_true(b->sm[0].flags & BF_SMF_NOCASE);
    assert_true(b->sm[0].flags & BF_SMF_HAS_OFFSET);
    assert_int_equal(b->sm[0].content.offset.v, 2);
    assert_int_equal(b->sm[0].content.offset.var, -1);
    assert_int_equal(b->sm[0].content.depth.v, 10);
    assert_true(b->sm[1].flags & BF_SMF_NEGATED);
    assert_true(b->sm[1].flags & BF_SMF_RELATIVE);
    assert_int_equal(b->sm[1].content.distance.v, -3);
    assert_int_equal(b->sm[1].content.within.v, 5);
    assert_true(b->sm[2].flags & BF_SMF_STARTSWITH);
    assert_true(b->sm[3].flags & BF_SMF_ENDSWITH);
    assert_true(s->flags & BF_SIG_NEEDS_PAYLOAD);
    assert_false(s->flags & BF_SIG_IPONLY);
    /* fast pattern: longest non-negated */
    assert_int_equal(s->fp_buf, 0);
    assert_int_equal(s->fp_sm, 0);
    bf_sig_free(s);

    fails("alert tcp any any -> any any (content:\"|0|\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (content:\"|zz|\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (content:\"|00\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (content:\"\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (content:abc; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (nocase; content:\"a\"; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (content:\"a\"; depth:x; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (content:\"a\"; within:0; sid:1;)", "bad value");
}

static void test_buffers(void **state)
{
    (void)state;
    /* legacy modifiers move the preceding content and keep its modifiers */
    bf_sig *s = P("alert http any any -> any any (flow:established,to_server; "
                  "content:\"GET\"; http_method; content:\"/index\"; nocase; http_uri; "
                  "content:\"abc\"; http_client_body; fast_pattern; uricontent:\"q=\"; "
                  "content:\"pkt\"; sid:1;)");
    assert_non_null(s);
    const bf_sig_buf *m = buf(s, BF_DBUF_HTTP_METHOD), *u = buf(s, BF_DBUF_HTTP_URI),
                     *cb = buf(s, BF_DBUF_HTTP_REQUEST_BODY), *pk = buf(s, BF_DBUF_PKT);
    assert_non_null(m);
    assert_non_null(u);
    assert_non_null(cb);
    assert_non_null(pk);
    assert_int_equal(u->nsm, 2);
    assert_true(u->sm[0].flags & BF_SMF_NOCASE);
    assert_memory_equal(u->sm[1].content.pat, "q=", 2);
    assert_int_equal(pk->nsm, 1);
    assert_true(s->flags & BF_SIG_HAS_APP_BUF);
    assert_true(s->flags & BF_SIG_NEEDS_PAYLOAD);
    assert_int_equal(s->flow, BF_FK_ESTABLISHED | BF_FK_TO_SERVER);
    assert_int_equal(s->dirs, BF_DIR_TS);
    /* explicit fast_pattern wins over the longer /index */
    assert_int_equal(s->bufs[s->fp_buf].buf, BF_DBUF_HTTP_REQUEST_BODY);
    assert_true(s->bufs[s->fp_buf].sm[s->fp_sm].flags & BF_SMF_FAST_PATTERN);
    bf_sig_free(s);

    /* sticky buffers, aliases, pkt_data, dirs from buffers */
    s = P("alert http any any -> any any (http.stat_code; content:\"200\"; file_data; "
          "content:\"MZ\"; pkt_data; content:\"HTTP\"; http_server_body; sid:2;)");
    assert_non_null(s);
    assert_non_null(buf(s, BF_DBUF_HTTP_STAT_CODE));
    assert_non_null(buf(s, BF_DBUF_FILE_DATA));
    assert_non_null(buf(s, BF_DBUF_HTTP_RESPONSE_BODY));
    assert_null(buf(s, BF_DBUF_PKT));
    assert_int_equal(s->dirs, BF_DIR_BOTH);
    bf_sig_free(s);
    s = P("alert tls any any -> any any (tls_sni; content:\"evil\"; tls.cert_subject; "
          "content:\"CN=x\"; sid:3;)");
    assert_non_null(buf(s, BF_DBUF_TLS_SNI));
    assert_non_null(buf(s, BF_DBUF_TLS_CERT_SUBJECT));
    assert_int_equal(s->dirs, BF_DIR_BOTH);
    bf_sig_free(s);
    s = P("alert dns any any -> any any (dns_query; content:\"example\"; sid:3;)");
    assert_non_null(buf(s, BF_DBUF_DNS_QUERY));
    assert_int_equal(s->dirs, BF_DIR_TS);
    /* tie on length: the app buffer is preferred */
    bf_sig_free(s);
    s = P("alert http any any -> any any (content:\"abcd\"; http.user_agent; content:\"efgh\"; "
          "sid:4;)");
    assert_int_equal(s->bufs[s->fp_buf].buf, BF_DBUF_HTTP_USER_AGENT);
    bf_sig_free(s);
    s = P("alert http any any -> any any (content:\"abcdef\"; fast_pattern:1,3; "
          "content:\"x\"; fast_pattern:only; sid:5;)");
    assert_int_equal(s->fp_sm, 0);
    assert_int_equal(s->bufs[0].sm[0].content.fp_off, 1);
    assert_int_equal(s->bufs[0].sm[0].content.fp_len, 3);
    assert_true(s->bufs[0].sm[1].flags & BF_SMF_FP_ONLY);
    bf_sig_free(s);
    s = P("alert tcp any any -> any any (content:!\"abc\"; sid:6;)");
    assert_int_equal(s->fp_buf, -1);
    bf_sig_free(s);
    /* transforms */
    s = P("alert http any any -> any any (http.uri; to_lowercase; url_decode; "
          "xor:\"0a0B\"; content:\"x\"; dns.query; dotprefix; content:\".a.com\"; endswith; "
          "sid:7;)");
    const bf_sig_buf *hu = buf(s, BF_DBUF_HTTP_URI);
    assert_int_equal(hu->nxf, 3);
    assert_int_equal(hu->xf[0], BF_XF_TO_LOWER);
    assert_int_equal(hu->xf[1], BF_XF_URL_DECODE);
    assert_int_equal(hu->xf[2], BF_XF_XOR);
    assert_int_equal(hu->xf_arg_len, 2);
    assert_int_equal(hu->xf_arg[1], 0x0b);
    assert_int_equal(buf(s, BF_DBUF_DNS_QUERY)->xf[0], BF_XF_DOTPREFIX);
    bf_sig_free(s);
    s = P("alert tcp any any -> any any (filename:\"a.exe\"; fileext:\"exe\"; filestore; "
          "sid:8;)");
    const bf_sig_buf *fn = buf(s, BF_DBUF_FILE_NAME);
    assert_int_equal(fn->nsm, 2);
    assert_memory_equal(fn->sm[1].content.pat, ".exe", 4);
    assert_true(s->flags & BF_SIG_FILESTORE);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (to_lowercase; content:\"x\"; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (http.uri; content:\"x\"; http_header; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (http_uri; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (http.uri:foo; sid:1;)", "syntax");
    fails("alert http any any -> any any (http.uri; a; b; xor:\"0\"; sid:1;)", NULL);
}

static void test_pcre(void **state)
{
    (void)state;
    bf_sig *s = P("alert http any any -> any any (content:\"a\"; pcre:\"/^x\\;y/Ui\"; "
                  "pcre:!\"/z/smxAEGR\"; pcre:\"/c/C\"; pcre:\"/h/H\"; pcre:\"/q/Q\"; "
                  "pcre:\"/(?P<pkt_v>a)/\"; pcre:\"/b/,flow:name\"; sid:1;)");
    assert_non_null(s);
    const bf_sig_buf *u = buf(s, BF_DBUF_HTTP_URI);
    assert_non_null(u);
    assert_int_equal(u->sm[0].type, BF_SM_PCRE);
    assert_non_null(u->sm[0].pcre.code);
    assert_true(buf(s, BF_DBUF_HTTP_COOKIE) && buf(s, BF_DBUF_HTTP_HEADER) &&
                buf(s, BF_DBUF_FILE_DATA));
    const bf_sig_buf *pk = buf(s, BF_DBUF_PKT);
    assert_int_equal(pk->nsm, 4);
    assert_true(pk->sm[1].flags & BF_SMF_NEGATED);
    assert_true(pk->sm[1].flags & BF_SMF_RELATIVE);
    assert_true(pk->sm[2].pcre.has_capture);
    assert_true(pk->sm[3].pcre.has_capture);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (pcre:\"/a(/\"; sid:1;)", "bad pcre");
    fails("alert tcp any any -> any any (pcre:\"/a/K\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (pcre:\"/a/UH\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (pcre:\"abc\"; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (pcre:\"/abc; sid:1;)", NULL);
}

static void test_byte_keywords(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any any (content:\"a\"; "
                  "byte_extract:2,0,len,relative,little; "
                  "byte_test:4,!&,0x80000000,len,relative,big; "
                  "byte_jump:2,1,relative,multiplier 2,post_offset -1,align,from_beginning; "
                  "byte_math:bytes 1,offset 0,oper <<,rvalue 2,result shifted,relative; "
                  "byte_test:1,>,shifted,0; content:\"b\"; within:len; "
                  "isdataat:!len,relative; byte_test:3,<,123,0,string,dec; sid:1;)");
    assert_non_null(s);
    assert_int_equal(s->nvars, 2);
    const bf_sm *m = s->bufs[0].sm;
    assert_int_equal(m[1].type, BF_SM_BYTE_EXTRACT);
    assert_int_equal(m[1].byte.var_out, 0);
    assert_true(m[1].byte.bflags & BF_BYTE_LITTLE);
    assert_int_equal(m[2].type, BF_SM_BYTE_TEST);
    assert_int_equal(m[2].byte.op, BF_BOP_AND);
    assert_true(m[2].byte.bflags & BF_BYTE_NEGATE);
    assert_int_equal((uint32_t)m[2].byte.value.v, 0x80000000u);
    assert_int_equal(m[2].byte.offset.var, 0);
    assert_int_equal(m[3].type, BF_SM_BYTE_JUMP);
    assert_int_equal(m[3].byte.multiplier, 2);
    assert_int_equal(m[3].byte.post_offset, -1);
    assert_true(m[3].byte.bflags & BF_BYTE_ALIGN);
    assert_true(m[3].byte.bflags & BF_BYTE_FROM_BEGINNING);
    assert_int_equal(m[4].type, BF_SM_BYTE_MATH);
    assert_int_equal(m[4].byte.op, BF_BOP_SHL);
    assert_int_equal(m[4].byte.var_out, 1);
    assert_int_equal(m[5].byte.value.var, 1);
    assert_int_equal(m[6].content.within.var, 0);
    assert_int_equal(m[7].type, BF_SM_ISDATAAT);
    assert_true(m[7].flags & BF_SMF_NEGATED);
    assert_int_equal(m[7].isdataat.offset.var, 0);
    assert_true(m[8].byte.bflags & BF_BYTE_STRING);
    assert_true(m[8].byte.bflags & BF_BYTE_DEC);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (byte_test:1,>,nope,0; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (byte_test:9,>,1,0; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (byte_test:1,~,1,0; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (byte_test:1,>; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (byte_jump:2; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (byte_extract:2,0,9x; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (byte_math:bytes 1,offset 0,oper %,rvalue 1,result r; "
          "sid:1;)", "bad value");
    fails("alert tcp any any -> any any (byte_math:bytes 1,offset 0; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (byte_test:1,=,1,0,foo; sid:1;)", "bad value");
}

static void test_sizes(void **state)
{
    (void)state;
    bf_sig *s = P("alert http any any -> any any (dsize:>10; urilen:5<>10; urilen:3,raw; "
                  "http.host; bsize:<=20; sid:1;)");
    assert_non_null(s);
    assert_int_equal(s->npkw, 1);
    assert_int_equal(s->pkw[0].type, BF_PK_DSIZE);
    assert_int_equal(s->pkw[0].cmp.op, BF_CMP_GT);
    assert_int_equal(s->pkw[0].cmp.a, 10);
    const bf_sig_buf *u = buf(s, BF_DBUF_HTTP_URI);
    assert_int_equal(u->sm[0].type, BF_SM_BSIZE);
    assert_int_equal(u->sm[0].size.op, BF_CMP_RANGE);
    assert_int_equal(u->sm[0].size.b, 10);
    assert_non_null(buf(s, BF_DBUF_HTTP_URI_RAW));
    assert_int_equal(buf(s, BF_DBUF_HTTP_HOST)->sm[0].size.op, BF_CMP_LE);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (dsize:10<>5; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (dsize:>; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (urilen:1,foo; sid:1;)", "bad value");
}

static void test_packet_keywords(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any any (flags:S+,CE; fragbits:!D; ttl:<5; tos:!8; "
                  "id:1234; ip_proto:!udp; window:!1024; seq:0; ack:1; tcp.mss:<536; "
                  "sameip; fragoffset:>0; stream_size:server,>,100; ipopts:lsrr; "
                  "app-layer-protocol:!tls; decode-event:ipv4.trunc_pkt; "
                  "stream-event:3whs_ack_in_wrong_dir; sid:1;)");
    assert_non_null(s);
    assert_int_equal(s->pkw[0].type, BF_PK_TCP_FLAGS);
    assert_int_equal(s->pkw[0].flags.mask, 0x02);
    assert_int_equal(s->pkw[0].flags.mode, BF_FLAGS_PLUS);
    assert_int_equal(s->pkw[0].flags.ignore, 0xC0);
    assert_int_equal(s->pkw[1].type, BF_PK_FRAGBITS);
    assert_int_equal(s->pkw[1].flags.mode, BF_FLAGS_NOT);
    assert_int_equal(s->pkw[2].cmp.op, BF_CMP_LT);
    assert_int_equal(s->pkw[3].cmp.op, BF_CMP_NE);
    assert_int_equal(s->pkw[5].type, BF_PK_IP_PROTO);
    assert_int_equal(s->pkw[5].cmp.a, 17);
    assert_int_equal(s->pkw[5].cmp.op, BF_CMP_NE);
    assert_int_equal(s->pkw[12].type, BF_PK_STREAM_SIZE);
    assert_int_equal(s->pkw[12].stream_dir, 0);
    assert_int_equal(s->pkw[14].type, BF_PK_APP_LAYER_PROTO);
    assert_int_equal(s->pkw[14].cmp.a, BF_APP_TLS);
    assert_true(s->pkw[14].negated);
    assert_int_equal(s->pkw[15].type, BF_PK_DECODE_EVENT);
    assert_int_equal(s->pkw[16].type, BF_PK_DECODE_EVENT);
    assert_false(s->flags & BF_SIG_IPONLY);
    bf_sig_free(s);
    s = P("alert icmp any any -> any any (itype:8; icode:0<>3; icmp_id:5; icmp_seq:1; sid:2;)");
    assert_int_equal(s->npkw, 4);
    assert_int_equal(s->pkw[1].cmp.op, BF_CMP_RANGE);
    bf_sig_free(s);
    s = P("alert ip any any -> any any (ip_proto:47; sid:3;)");
    assert_true(s->flags & BF_SIG_IPONLY);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (flags:Q; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (ttl:300; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (stream_size:foo,>,1; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (app-layer-protocol:modbus; sid:1;)",
          "unsupported protocol");
    fails("alert tcp any any -> any any (decode-event:nope.nope; sid:1;)", "unknown event");
    fails("alert tcp any any -> any any (ipopts:foo; sid:1;)", "bad value");
}

static void test_flow_state(void **state)
{
    (void)state;
    bf_sig *s = P("alert tcp any any -> any any (flow:to_client,established,only_stream; "
                  "flowbits:isset,a|b; flowbits:set,c&d; flowbits:noalert; flowbits:toggle,e; "
                  "flowint:cnt,+,1; flowint:cnt,>,other; flowint:x,isnotset; "
                  "threshold:type both, track by_dst, count 5, seconds 60; "
                  "detection_filter:track by_src, count 2, seconds 10; sid:1;)");
    assert_non_null(s);
    assert_int_equal(s->flow, BF_FK_TO_CLIENT | BF_FK_ESTABLISHED | BF_FK_ONLY_STREAM);
    assert_int_equal(s->dirs, BF_DIR_TC);
    assert_true(s->flags & BF_SIG_NOALERT);
    assert_int_equal(s->nfb, 3);
    assert_int_equal(s->fb[0].op, BF_FB_ISSET);
    assert_true(s->fb[0].or_);
    assert_int_equal(s->fb[0].nids, 2);
    assert_string_equal(ctx.flowbits.names[s->fb[0].ids[1]], "b");
    assert_int_equal(s->fb[1].op, BF_FB_SET);
    assert_false(s->fb[1].or_);
    assert_string_equal(ctx.flowbits.names[s->fb[1].ids[1]], "d");
    assert_int_equal(s->nfi, 3);
    assert_int_equal(s->fi[0].op, BF_FI_ADD);
    assert_int_equal(s->fi[0].value, 1);
    assert_int_equal(s->fi[1].op, BF_FI_CMP);
    assert_int_equal(s->fi[1].cmp_op, BF_CMP_GT);
    assert_string_equal(ctx.flowints.names[s->fi[1].value_var], "other");
    assert_int_equal(s->fi[2].op, BF_FI_NOTSET);
    assert_int_equal(s->thr.type, BF_THR_BOTH);
    assert_int_equal(s->thr.track, BF_TRACK_DST);
    assert_int_equal(s->thr.count, 5);
    assert_int_equal(s->thr.seconds, 60);
    assert_int_equal(s->dfilter.type, BF_THR_DETECTION_FILTER);
    assert_int_equal(s->dfilter.count, 2);
    assert_false(s->flags & BF_SIG_IPONLY);
    bf_sig_free(s);
    s = P("alert tcp any any -> any any (noalert; prefilter; content:\"x\"; tag:session,5,packets; "
          "rawbytes; sid:2;)");
    assert_true(s->flags & BF_SIG_NOALERT);
    assert_true(s->flags & BF_SIG_PREFILTER);
    bf_sig_free(s);
    fails("alert tcp any any -> any any (flow:sideways; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (flow:to_server,to_client; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (flowbits:set; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (flowbits:set,a|b; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (flowbits:isset,a|b|c|d|e; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (flowint:a,+; sid:1;)", "syntax");
    fails("alert tcp any any -> any any (flowint:a,~,1; sid:1;)", "bad value");
    fails("alert tcp any any -> any any (threshold:type limit, count 1, seconds 1; sid:1;)",
          "syntax");
    fails("alert tcp any any -> any any (threshold:type foo, track by_src, count 1, seconds 1; "
          "sid:1;)", "bad value");
}

/* ------------------------------------------------------------- files */

static unsigned nerr;
static uint32_t err_line;
static char err_reason[128];
static void on_err(void *ud, const char *file, uint32_t line, const char *e, const char *r)
{
    (void)ud;
    (void)file;
    (void)e;
    nerr++;
    err_line = line;
    snprintf(err_reason, sizeof err_reason, "%s", r);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/bf_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *txt =
        "# a comment\n"
        "\n"
        "alert tcp any any -> any any (msg:\"one\"; sid:1;)\n"
        "#alert tcp any any -> any any (msg:\"disabled\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"two\"; \\\n"
        "    content:\"x\"; \\\n"
        "    sid:3;)\r\n"
        "alert tcp any any -> any any (msg:\"bad\"; foo; sid:4;)\n"
        "   \t\n"
        "alert tcp any any -> any any (msg:\"last, no newline\"; sid:5;)";
    assert_int_equal(write(fd, txt, strlen(txt)), (ssize_t)strlen(txt));
    close(fd);
    bf_sig **sigs = NULL;
    size_t n = 0;
    char e[256];
    nerr = 0;
    assert_true(bf_rules_load_file(&ctx, path, &sigs, &n, on_err, NULL, e, sizeof e));
    assert_int_equal(n, 3);
    assert_int_equal(nerr, 1);
    assert_int_equal(err_line, 8);
    assert_string_equal(err_reason, "unknown keyword 'foo'");
    assert_int_equal(sigs[0]->line, 3);
    assert_int_equal(sigs[1]->sid, 3);
    assert_int_equal(sigs[1]->line, 5);
    assert_string_equal(sigs[1]->file, path);
    assert_non_null(strstr(sigs[1]->text, "content:\"x\""));
    assert_int_equal(sigs[2]->sid, 5);
    for (size_t i = 0; i < n; i++)
        bf_sig_free(sigs[i]);
    free(sigs);
    unlink(path);
    assert_false(bf_rules_load_file(&ctx, "/nonexistent/x.rules", &sigs, &n, on_err, NULL, e,
                                    sizeof e));
}

static void test_bad_config_var(void **state)
{
    (void)state;
    bf_config *cfg = bf_config_new();
    char e[256];
    assert_int_equal(bf_config_load_string(cfg, "vars:\n  address-groups:\n    HOME_NET: "
                                                "\"[1.2.3.4,\"\n", "t", e, sizeof e), 0);
    bf_parse_ctx c;
    assert_false(bf_parse_ctx_init(&c, cfg, e, sizeof e));
    assert_non_null(strstr(e, "HOME_NET"));
    bf_parse_ctx_free(&c);
    bf_config_free(cfg);
    cfg = bf_config_new();
    assert_int_equal(bf_config_load_string(cfg, "vars:\n  address-groups:\n    A: \"$B\"\n"
                                                "    B: \"$A\"\n", "t", e, sizeof e), 0);
    assert_false(bf_parse_ctx_init(&c, cfg, e, sizeof e));
    bf_parse_ctx_free(&c);
    bf_config_free(cfg);
}

/* Garbage must never crash: truncations of a rich rule. */
static void test_truncations(void **state)
{
    (void)state;
    const char *r = "alert http [$HOME_NET,!10.0.0.1] ![80,443] <> $EXTERNAL_NET $HTTP_PORTS "
                    "(msg:\"x\\;y\"; flow:established,to_server; content:\"|41 42|c\"; nocase; "
                    "http_uri; pcre:\"/a(b)c/Ui\"; byte_extract:2,0,v; byte_test:1,>,v,0; "
                    "flowbits:isset,a|b; threshold:type limit,track by_src,count 1,seconds 2; "
                    "http.uri; to_lowercase; content:\"q\"; fast_pattern:0,1; sid:9; rev:2;)";
    char buf[1024];
    size_t n = strlen(r);
    for (size_t i = 0; i <= n; i++) {
        memcpy(buf, r, i);
        buf[i] = 0;
        bf_sig *s = bf_sig_parse(&ctx, buf, err, sizeof err, reason, sizeof reason);
        if (i == n)
            assert_non_null(s);
        else if (!s)
            assert_true(reason[0] != 0);
        bf_sig_free(s);
    }
}

/* Counters cannot wrap: thousands of options fail cleanly. */
static void test_limits(void **state)
{
    (void)state;
    static const char *opts[] = {"sameip; ", "content:\"a\"; ", "reference:url,x; ",
                                 "flowbits:set,x; ", "byte_extract:1,0,v%u; "};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        size_t cap = 400000, n = 0;
        char *r = malloc(cap);
        n += (size_t)snprintf(r, cap, "alert tcp any any -> any any (");
        for (unsigned i = 0; i < 5000 && n + 64 < cap; i++)
            n += (size_t)snprintf(r + n, cap - n, opts[k], i);
        snprintf(r + n, cap - n, "sid:1;)");
        fails(r, "bad value");
        free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_basic),   cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_addresses),      cmocka_unit_test(test_ports),
        cmocka_unit_test(test_meta_options),   cmocka_unit_test(test_content),
        cmocka_unit_test(test_buffers),        cmocka_unit_test(test_pcre),
        cmocka_unit_test(test_byte_keywords),  cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_packet_keywords), cmocka_unit_test(test_flow_state),
        cmocka_unit_test(test_load_file),      cmocka_unit_test(test_bad_config_var),
        cmocka_unit_test(test_truncations),    cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
