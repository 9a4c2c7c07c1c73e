/* SPDX-License-Identifier: GPL-2.0-or-later
 * Unit tests for detect/match: payload inspection (content offset/depth/
 * distance/within, backtracking, negation, startswith/endswith, pcre,
 * byte_test/jump/extract/math, isdataat, bsize), transforms and the packet
 * keywords.  Sigs are built by hand (the parser is tested elsewhere). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/match.h"
#include "flow/flow.h"
#include "stream/stream.h"

/* ------------------------------------------------------------ helpers */

#define MAXSM 16
static bf_match_scratch *S;
static bf_sig SIG;
static bf_sig_buf SB;
static bf_sm SM[MAXSM];
static pcre2_code *codes[64];
static int ncodes;

static void reset(void)
{
    memset(&SIG, 0, sizeof(SIG));
    memset(&SB, 0, sizeof(SB));
    memset(SM, 0, sizeof(SM));
    SB.sm = SM;
    SIG.bufs = &SB;
    SIG.nbufs = 1;
}

static bf_num N(int32_t v) { return (bf_num){ .v = v, .var = -1 }; }
static bf_num VAR(int8_t var) { return (bf_num){ .v = 0, .var = var }; }

static bf_sm *add(uint8_t type, uint16_t flags)
{
    assert_true(SB.nsm < MAXSM);
    bf_sm *s = &SM[SB.nsm++];
    memset(s, 0, sizeof(*s));
    s->type = type;
    s->flags = flags;
    switch (type) {
    case BF_SM_CONTENT:
        s->content.offset = s->content.depth = s->content.distance = s->content.within = N(0);
        break;
    case BF_SM_BYTE_TEST:
    case BF_SM_BYTE_JUMP:
    case BF_SM_BYTE_EXTRACT:
    case BF_SM_BYTE_MATH:
        s->byte.value = s->byte.offset = N(0);
        s->byte.multiplier = 1;
        s->byte.var_out = -1;
        break;
    case BF_SM_ISDATAAT:
        s->isdataat.offset = N(0);
        break;
    default:
        break;
    }
    return s;
}

static bf_sm *content_n(const void *pat, uint16_t len, uint16_t flags)
{
    bf_sm *s = add(BF_SM_CONTENT, flags);
    s->content.pat = (uint8_t *)pat;
    s->content.len = len;
    return s;
}
static bf_sm *content(const char *pat, uint16_t flags)
{
    return content_n(pat, (uint16_t)strlen(pat), flags);
}
static bf_sm *offset(bf_sm *s, bf_num v) { s->content.offset = v; s->flags |= BF_SMF_HAS_OFFSET; return s; }
static bf_sm *depth(bf_sm *s, bf_num v) { s->content.depth = v; s->flags |= BF_SMF_HAS_DEPTH; return s; }
static bf_sm *distance(bf_sm *s, bf_num v) { s->content.distance = v; s->flags |= BF_SMF_HAS_DISTANCE; return s; }
static bf_sm *within(bf_sm *s, bf_num v) { s->content.within = v; s->flags |= BF_SMF_HAS_WITHIN; return s; }

static bf_sm *pcre(const char *re, uint32_t opts, uint16_t flags)
{
    int err;
    PCRE2_SIZE eoff;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &err, &eoff, NULL);
    assert_non_null(c);
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    assert_true(ncodes < 64);
    codes[ncodes++] = c;
    bf_sm *s = add(BF_SM_PCRE, flags);
    s->pcre.code = c;
    s->pcre.cflags = opts;
    return s;
}

static bf_sm *byteop(uint8_t type, uint8_t nbytes, uint8_t op, bf_num value, bf_num off,
                     uint16_t bflags)
{
    bf_sm *s = add(type, (bflags & BF_BYTE_RELATIVE) ? BF_SMF_RELATIVE : 0);
    s->byte.nbytes = nbytes;
    s->byte.op = op;
    s->byte.value = value;
    s->byte.offset = off;
    s->byte.bflags = bflags;
    return s;
}

static bf_sm *isdataat(bf_num n, uint16_t flags)
{
    bf_sm *s = add(BF_SM_ISDATAAT, flags);
    s->isdataat.offset = n;
    return s;
}

static bool MB(const void *d, uint32_t len)
{
    bf_match_begin_sig(S);
    uint32_t olen;
    const uint8_t *x = bf_match_transform(S, &SB, d, len, &olen);
    return bf_match_buffer(S, &SIG, &SB, x, olen);
}
static bool M(const char *d) { return MB(d, (uint32_t)strlen(d)); }

static int setup(void **st)
{
    (void)st;
    S = bf_match_scratch_new();
    return S ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    bf_match_scratch_free(S);
    for (int i = 0; i < ncodes; i++)
        pcre2_code_free(codes[i]);
    return 0;
}

/* ------------------------------------------------------------ content */

static void test_content_basic(void **st)
{
    (void)st;
    reset();
    content("bar", 0);
    assert_true(M("foobarbaz"));
    assert_false(M("fooBARbaz"));
    assert_false(M(""));
    assert_false(M("ba"));
    SM[0].flags |= BF_SMF_NOCASE;
    assert_true(M("fooBaRbaz"));
    assert_true(M("BAR"));
    assert_false(M("BA"));

    reset();   /* nocase with a non-letter first byte, and binary bytes */
    content_n("\x00\xffZ", 3, BF_SMF_NOCASE);
    assert_true(MB("ab\x00\xffz", 5));
    assert_false(MB("ab\x00\xfez", 5));

    reset();   /* several contents, all absolute */
    content("abc", 0);
    content("xyz", 0);
    assert_true(M("xyz..abc"));
    assert_false(M("xyz..ab"));
    /* no data at all */
    assert_false(bf_match_buffer(S, &SIG, &SB, NULL, 0));
}

static void test_content_offset_depth(void **st)
{
    (void)st;
    reset();
    depth(offset(content("cd", 0), N(2)), N(2));
    assert_true(M("abcdef"));
    SM[0].content.offset = N(3);
    assert_false(M("abcdef"));
    SM[0].content.offset = N(2);
    SM[0].content.depth = N(1);      /* window too short for the pattern */
    assert_false(M("abcdef"));

    reset();   /* match ending exactly at the buffer end */
    depth(offset(content("ef", 0), N(4)), N(2));
    assert_true(M("abcdef"));
    SM[0].content.depth = N(100);    /* depth past the end is clamped */
    assert_true(M("abcdef"));
    SM[0].content.offset = N(5);
    assert_false(M("abcdef"));
    SM[0].content.offset = N(6);
    assert_false(M("abcdef"));
    SM[0].content.offset = N(1000);
    assert_false(M("abcdef"));

    reset();   /* depth only */
    depth(content("abc", 0), N(3));
    assert_true(M("abcabc"));
    assert_false(M("xabc"));

    reset();   /* negated content whose window is past the end: matches */
    offset(content("zz", BF_SMF_NEGATED), N(100));
    assert_true(M("zzzz"));
    reset();
    depth(content("zz", BF_SMF_NEGATED), N(3));
    assert_true(M("abzz"));
    assert_false(M("azzb"));
}

static void test_content_distance_within(void **st)
{
    (void)st;
    reset();
    content("abc", 0);
    within(distance(content("def", 0), N(1)), N(3));
    assert_true(M("abcXdef"));
    SM[1].content.within = N(2);
    assert_false(M("abcXdef"));
    SM[1].content.distance = N(0);
    SM[1].content.within = N(3);
    assert_false(M("abcXdef"));
    SM[1].content.within = N(4);
    assert_true(M("abcXdef"));
    SM[1].content.distance = N(2);
    SM[1].content.within = N(100);
    assert_false(M("abcXdef"));

    reset();   /* negative distance */
    content("abc", 0);
    within(distance(content("bc", 0), N(-2)), N(2));
    assert_true(M("abc"));
    SM[1].content.within = N(1);
    assert_false(M("abc"));
    SM[1].content.distance = N(-100);     /* clamps to the buffer start */
    SM[1].content.within = N(200);
    assert_true(M("abc"));
    SM[1].content.within = N(-50);        /* window ends before the start */
    assert_false(M("abc"));

    reset();   /* distance only: anywhere after */
    content("GET", 0);
    distance(content("HTTP", 0), N(0));
    assert_true(M("GET /index HTTP/1.1"));
    assert_false(M("HTTP GET /index"));

    reset();   /* bare relative flag = distance 0 */
    content("ab", 0);
    content("cd", BF_SMF_RELATIVE);
    assert_true(M("abxxcd"));
    assert_false(M("cdxxab"));
}

static void test_content_backtracking(void **st)
{
    (void)st;
    reset();
    content("a", 0);
    within(distance(content("b", 0), N(0)), N(1));
    assert_true(M("aXab"));
    assert_false(M("aXaX"));
    assert_false(M("aXa"));
    assert_true(M("ab"));

    reset();   /* two levels */
    content("a", 0);
    within(content("b", 0), N(1));
    within(content("c", 0), N(1));
    assert_true(M("abXabXabc"));
    assert_false(M("abXabXab"));

    reset();   /* the retry of the first content is needed because of the
                * third one */
    content("x=", 0);
    within(distance(content("1", 0), N(0)), N(5));
    within(distance(content(";", 0), N(0)), N(1));
    assert_true(M("x=123 x=1;"));

    reset();   /* absolute content not found: nothing else is tried */
    content("a", 0);
    within(content("b", 0), N(1));
    content("zzz", 0);
    assert_false(M("aXabab"));
}

static void test_content_negated(void **st)
{
    (void)st;
    reset();
    content("evil", BF_SMF_NEGATED);
    assert_true(M("good"));
    assert_false(M("very evil"));
    assert_true(M(""));

    reset();   /* negated relative: does not move the cursor */
    content("abc", 0);
    within(distance(content("X", BF_SMF_NEGATED), N(0)), N(1));
    assert_false(M("abcX"));
    assert_true(M("abcY"));
    assert_true(M("abc"));
    assert_true(M("abcXabcY"));    /* retry of "abc" at its next occurrence */

    reset();   /* cursor unchanged after a negated content */
    content("ab", 0);
    within(distance(content("Q", BF_SMF_NEGATED), N(0)), N(1));
    within(distance(content("cd", 0), N(0)), N(2));
    assert_true(M("abcd"));
    assert_false(M("abQcd"));
}

static void test_startswith_endswith(void **st)
{
    (void)st;
    reset();
    content("GET", BF_SMF_STARTSWITH);
    assert_true(M("GET /x"));
    assert_false(M(" GET /x"));
    assert_false(M("GE"));
    reset();
    content("/x", BF_SMF_ENDSWITH);
    assert_true(M("GET /x"));
    assert_false(M("GET /x "));
    assert_true(M("/x/x"));
    assert_true(M("/x"));
    assert_false(M("x"));
    reset();
    content("ab", BF_SMF_ENDSWITH | BF_SMF_NEGATED);
    assert_false(M("xxab"));
    assert_true(M("abxx"));
    reset();
    content("ab", BF_SMF_STARTSWITH | BF_SMF_ENDSWITH);
    assert_true(M("ab"));
    assert_false(M("abab"));
    reset();   /* relative + endswith */
    content("a", 0);
    distance(content("z", BF_SMF_ENDSWITH), N(0));
    assert_true(M("abcz"));
    assert_false(M("zbca"));
}

/* --------------------------------------------------------------- pcre */

static void test_pcre(void **st)
{
    (void)st;
    reset();
    pcre("b+c", 0, 0);
    assert_true(M("abbbc"));
    assert_false(M("ac"));
    assert_false(M(""));

    reset();
    pcre("hello", PCRE2_CASELESS, BF_SMF_NEGATED);
    assert_true(M("goodbye"));
    assert_false(M("say HeLLo"));

    reset();   /* relative: anchored at the cursor */
    content("foo", 0);
    pcre("^bar", 0, BF_SMF_RELATIVE);
    assert_true(M("foobar"));
    assert_false(M("barfoo"));
    assert_false(M("foo bar"));
    assert_true(M("foo bar foobar"));   /* retry of "foo" */

    reset();   /* cursor moves to the match end; pcre backtracking */
    pcre("a.", PCRE2_DOTALL, 0);
    within(distance(content("Z", 0), N(0)), N(1));
    assert_true(M("aXaYZ"));
    assert_false(M("aXaY"));

    reset();   /* absolute pcre after a content ignores the cursor */
    content("zzz", 0);
    pcre("^ab", 0, 0);
    assert_true(M("ab zzz"));

    reset();   /* match limit: counted, no match */
    pcre("^(a+)+$", 0, 0);
    char buf[64];
    memset(buf, 'a', 40);
    buf[40] = 'b';
    buf[41] = 0;
    uint64_t e0 = bf_match_pcre_errors(S);
    assert_false(M(buf));
    assert_true(bf_match_pcre_errors(S) > e0);
}

/* ----------------------------------------------------------- byte_test */

static void test_byte_test(void **st)
{
    (void)st;
    reset();
    byteop(BF_SM_BYTE_TEST, 2, BF_BOP_EQ, N(16), N(0), 0);
    assert_true(MB("\x00\x10rest", 6));
    assert_false(MB("\x10\x00rest", 6));
    assert_false(MB("\x00", 1));
    SM[0].byte.bflags = BF_BYTE_LITTLE;
    assert_true(MB("\x10\x00rest", 6));
    SM[0].byte.bflags = BF_BYTE_DCE;
    assert_true(MB("\x10\x00rest", 6));

    reset();   /* operators */
    byteop(BF_SM_BYTE_TEST, 1, BF_BOP_LT, N(5), N(1), 0);
    assert_true(MB("\xff\x04", 2));
    assert_false(MB("\xff\x05", 2));
    SM[0].byte.op = BF_BOP_LE;
    assert_true(MB("\xff\x05", 2));
    SM[0].byte.op = BF_BOP_GT;
    assert_true(MB("\xff\x06", 2));
    SM[0].byte.op = BF_BOP_GE;
    assert_true(MB("\xff\x05", 2));
    assert_false(MB("\xff\x04", 2));
    SM[0].byte.op = BF_BOP_AND;
    assert_true(MB("\xff\x04", 2));
    assert_false(MB("\xff\x02", 2));
    SM[0].byte.op = BF_BOP_OR;   /* '^' */
    assert_false(MB("\xff\x05", 2));
    assert_true(MB("\xff\x07", 2));
    SM[0].byte.op = BF_BOP_EQ;
    SM[0].byte.bflags = BF_BYTE_NEGATE;
    assert_false(MB("\xff\x05", 2));
    assert_true(MB("\xff\x06", 2));

    reset();   /* strings */
    byteop(BF_SM_BYTE_TEST, 3, BF_BOP_GT, N(100), N(4), BF_BYTE_STRING | BF_BYTE_DEC);
    assert_true(M("len=123;"));
    assert_false(M("len=099;"));
    assert_false(M("len=abc;"));
    assert_false(M("len=12"));
    SM[0].byte.op = BF_BOP_EQ;
    SM[0].byte.value = N(2);
    assert_true(M("len=2;;"));            /* strtoull stops at ';' */
    assert_true(M("len= 2;"));            /* and skips leading spaces */
    reset();
    byteop(BF_SM_BYTE_TEST, 2, BF_BOP_EQ, N(255), N(0), BF_BYTE_STRING | BF_BYTE_HEX);
    assert_true(M("ff"));
    assert_true(M("FF"));
    assert_false(M("fg"));
    SM[0].byte.nbytes = 4;
    assert_true(M("0xff"));
    reset();
    byteop(BF_SM_BYTE_TEST, 3, BF_BOP_EQ, N(8), N(0), BF_BYTE_STRING | BF_BYTE_OCT);
    assert_true(M("010"));
    assert_false(M("018"));   /* stops at 8: 01 = 1 */

    reset();   /* bitmask: masked then shifted by the mask's trailing zeros */
    bf_sm *b = byteop(BF_SM_BYTE_TEST, 1, BF_BOP_EQ, N(1), N(0), BF_BYTE_BITMASK);
    b->byte.bitmask = 0xf0;
    assert_true(MB("\x1f", 1));
    assert_false(MB("\x2f", 1));

    reset();   /* relative, negative offset */
    content("KEY", 0);
    byteop(BF_SM_BYTE_TEST, 1, BF_BOP_EQ, N('Y'), N(-1), BF_BYTE_RELATIVE);
    assert_true(M("xKEY"));
    SM[1].byte.offset = N(0);
    assert_false(M("xKEY"));          /* nothing after the match */
    assert_true(M("xKEYY"));
    SM[1].byte.offset = N(-10);
    assert_false(M("xKEYY"));         /* before the buffer */

    reset();   /* 4 and 8 byte values, big values in the int32 slot */
    byteop(BF_SM_BYTE_TEST, 4, BF_BOP_EQ, N((int32_t)0xfffffffe), N(0), 0);
    assert_true(MB("\xff\xff\xff\xfe", 4));
    reset();
    byteop(BF_SM_BYTE_TEST, 8, BF_BOP_GT, N(0), N(0), 0);
    assert_true(MB("\0\0\0\0\0\0\0\1", 8));
    assert_false(MB("\0\0\0\0\0\0\0", 7));
}

/* ----------------------------------------------------------- byte_jump */

static void test_byte_jump(void **st)
{
    (void)st;
    static const uint8_t d[] = { 0x00, 0x03, 'a', 'b', 'c', 'X', 'Y', 'Z' };
    reset();
    byteop(BF_SM_BYTE_JUMP, 2, 0, N(0), N(0), 0);
    within(distance(content("XYZ", 0), N(0)), N(3));
    assert_true(MB(d, sizeof(d)));
    SM[1].content.pat = (uint8_t *)"c";
    SM[1].content.len = 1;
    assert_false(MB(d, sizeof(d)));

    reset();   /* from_beginning */
    byteop(BF_SM_BYTE_JUMP, 1, 0, N(0), N(1), BF_BYTE_FROM_BEGINNING);
    within(distance(content("bc", 0), N(0)), N(2));
    assert_true(MB(d, sizeof(d)));

    reset();   /* post_offset, multiplier */
    bf_sm *j = byteop(BF_SM_BYTE_JUMP, 2, 0, N(0), N(0), 0);
    j->byte.multiplier = 2;      /* 3*2 = 6: 2 + 6 = 8 = end */
    isdataat(N(1), BF_SMF_RELATIVE | BF_SMF_NEGATED);
    assert_true(MB(d, sizeof(d)));
    j->byte.post_offset = -3;    /* -> 5 */
    SB.nsm = 1;
    within(distance(content("XYZ", 0), N(0)), N(3));
    assert_true(MB(d, sizeof(d)));
    j->byte.post_offset = 1;     /* past the end: no match */
    assert_false(MB(d, sizeof(d)));

    reset();   /* align: 3 -> 4 */
    byteop(BF_SM_BYTE_JUMP, 2, 0, N(0), N(0), BF_BYTE_ALIGN);
    within(distance(content("YZ", 0), N(0)), N(2));
    assert_true(MB(d, sizeof(d)));

    reset();   /* from_end with negative post_offset */
    j = byteop(BF_SM_BYTE_JUMP, 1, 0, N(0), N(0), BF_BYTE_FROM_END);
    j->byte.post_offset = -3;    /* 8 + 0 - 3 = 5 */
    within(distance(content("XYZ", 0), N(0)), N(3));
    assert_true(MB(d, sizeof(d)));

    reset();   /* a jump before the start clamps to 0 */
    j = byteop(BF_SM_BYTE_JUMP, 1, 0, N(0), N(0), BF_BYTE_FROM_BEGINNING);
    j->byte.post_offset = -100;
    within(distance(content_n("\x00\x03", 2, 0), N(0)), N(2));
    assert_true(MB(d, sizeof(d)));

    reset();   /* relative to a content, string value */
    content("len:", 0);
    byteop(BF_SM_BYTE_JUMP, 2, 0, N(0), N(0), BF_BYTE_RELATIVE | BF_BYTE_STRING | BF_BYTE_DEC);
    within(distance(content("!", 0), N(0)), N(1));
    assert_true(M("xx len:03abc!"));
    assert_false(M("xx len:02abc!"));
    assert_false(M("xx len:99abc!"));

    reset();   /* huge values do not overflow */
    j = byteop(BF_SM_BYTE_JUMP, 8, 0, N(0), N(0), 0);
    j->byte.multiplier = 1000000;
    assert_false(MB("\xff\xff\xff\xff\xff\xff\xff\xff" "abc", 11));
}

/* ------------------------------------------------ byte_extract / math */

static void test_byte_extract(void **st)
{
    (void)st;
    reset();   /* extracted value used as a later content's offset */
    bf_sm *e = byteop(BF_SM_BYTE_EXTRACT, 1, 0, N(0), N(0), 0);
    e->byte.var_out = 0;
    offset(content("HELLO", 0), VAR(0));
    assert_true(M("\x06xxxxxHELLO"));
    assert_true(M("\x03xxxxxHELLO"));
    assert_false(M("\x07xxxxxHELLO"));
    /* as depth too: offset 1, depth var */
    SM[1].content.offset = N(1);
    depth(&SM[1], VAR(0));
    assert_true(M("\x0axxxxxHELLO"));
    assert_false(M("\x09xxxxxHELLO"));

    reset();   /* string, relative, used by distance and byte_test */
    content("size=", 0);
    e = byteop(BF_SM_BYTE_EXTRACT, 2, 0, N(0), N(0),
               BF_BYTE_RELATIVE | BF_BYTE_STRING | BF_BYTE_DEC);
    e->byte.var_out = 3;
    within(distance(content("END", 0), VAR(3)), N(3));
    assert_true(M("size=04abcdEND"));
    assert_false(M("size=03abcdEND"));
    byteop(BF_SM_BYTE_TEST, 1, BF_BOP_EQ, VAR(3), N(0), 0);
    assert_false(M("size=04abcdEND"));

    reset();   /* multiplier, align, bitmask */
    e = byteop(BF_SM_BYTE_EXTRACT, 1, 0, N(0), N(0), BF_BYTE_ALIGN);
    e->byte.var_out = 1;
    e->byte.multiplier = 3;        /* 1*3 = 3, aligned to 4 */
    byteop(BF_SM_BYTE_TEST, 1, BF_BOP_EQ, VAR(1), N(1), 0);
    assert_true(MB("\x01\x04", 2));
    assert_false(MB("\x01\x03", 2));

    reset();   /* out of bounds */
    e = byteop(BF_SM_BYTE_EXTRACT, 4, 0, N(0), N(2), 0);
    e->byte.var_out = 0;
    assert_false(MB("abcde", 5));
    assert_true(MB("abcdef", 6));

    reset();   /* byte_math */
    bf_sm *bm = byteop(BF_SM_BYTE_MATH, 2, BF_BOP_ADD, N(2), N(0), 0);
    bm->byte.var_out = 1;
    offset(content("Q", 0), VAR(1));
    assert_true(MB("\x00\x04....Q", 7));    /* 4 + 2 = 6 */
    assert_false(MB("\x00\x04...Q.", 7));
    bm->byte.op = BF_BOP_SUB;               /* 4 - 2 = 2 */
    assert_true(MB("\x00\x04Q", 3));
    bm->byte.op = BF_BOP_MUL;               /* 4 * 2 = 8 */
    assert_true(MB("\x00\x04......Q", 9));
    bm->byte.op = BF_BOP_DIV;               /* 4 / 2 = 2 */
    assert_true(MB("\x00\x04Q", 3));
    bm->byte.value = N(0);                  /* division by zero: no match */
    assert_false(MB("\x00\x04Q", 3));
    bm->byte.value = N(1);
    bm->byte.op = BF_BOP_SHL;               /* 4 << 1 = 8 */
    assert_true(MB("\x00\x04......Q", 9));
    bm->byte.op = BF_BOP_SHR;               /* 4 >> 1 = 2 */
    assert_true(MB("\x00\x04Q", 3));
    bm->byte.value = N(200);                /* oversized shift */
    offset(&SM[1], N(0));
    assert_true(MB("\x00\x04Q", 3));
    /* rvalue from a variable: extract then math */
    reset();
    e = byteop(BF_SM_BYTE_EXTRACT, 1, 0, N(0), N(0), 0);
    e->byte.var_out = 0;
    bm = byteop(BF_SM_BYTE_MATH, 1, BF_BOP_ADD, VAR(0), N(1), 0);
    bm->byte.var_out = 2;
    byteop(BF_SM_BYTE_TEST, 1, BF_BOP_EQ, VAR(2), N(2), 0);
    assert_true(MB("\x02\x03\x05", 3));
    assert_false(MB("\x02\x03\x06", 3));
}

/* ------------------------------------------------- isdataat / bsize */

static void test_isdataat_bsize(void **st)
{
    (void)st;
    reset();
    isdataat(N(5), 0);
    assert_true(M("abcdef"));
    assert_false(M("abcde"));
    SM[0].flags |= BF_SMF_NEGATED;
    assert_false(M("abcdef"));
    assert_true(M("abcde"));
    assert_true(M(""));

    reset();   /* relative */
    content("abc", 0);
    isdataat(N(3), BF_SMF_RELATIVE);
    assert_true(M("abcdef"));
    assert_false(M("abcde"));
    reset();
    content("def", 0);
    isdataat(N(1), BF_SMF_RELATIVE | BF_SMF_NEGATED);
    assert_true(M("abcdef"));
    assert_false(M("abcdefg"));
    assert_true(M("defgdef"));            /* second occurrence */

    reset();
    bf_sm *b = add(BF_SM_BSIZE, 0);
    b->size = (bf_cmp){ .op = BF_CMP_EQ, .a = 6 };
    assert_true(M("abcdef"));
    assert_false(M("abcde"));
    b->size = (bf_cmp){ .op = BF_CMP_RANGE, .a = 2, .b = 5 };
    assert_true(M("abcd"));
    assert_false(M("abcde"));
    assert_false(M("ab"));
    add(BF_SM_ABSENT, 0);
    assert_true(M("abc"));
}

static void test_step_budget(void **st)
{
    (void)st;
    reset();   /* exponential backtracking is cut short */
    for (int i = 0; i < 6; i++)
        distance(content("a", 0), N(0));
    SM[0].flags &= (uint16_t)~BF_SMF_HAS_DISTANCE;
    within(distance(content("b", 0), N(0)), N(1));
    static char buf[4001];
    memset(buf, 'a', 4000);
    uint64_t e0 = bf_match_pcre_errors(S);
    clock_t t0 = clock();
    assert_false(M(buf));
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    assert_true(bf_match_pcre_errors(S) > e0);
    buf[3990] = 'b';
    assert_false(M(buf));   /* budget spent before reaching it */
    buf[3990] = 'a';
    buf[7] = 'b';
    assert_true(M(buf));
}

/* --------------------------------------------------------- transforms */

static const uint8_t *xf(const uint8_t *xfs, int n, const char *in, uint32_t *olen)
{
    reset();
    SB.nxf = (uint8_t)n;
    memcpy(SB.xf, xfs, (size_t)n);
    return bf_match_transform(S, &SB, (const uint8_t *)in, (uint32_t)strlen(in), olen);
}

static void assert_xf(uint8_t t, const char *in, const void *want, uint32_t wlen)
{
    uint32_t olen;
    const uint8_t *o = xf(&t, 1, in, &olen);
    assert_int_equal(olen, wlen);
    assert_memory_equal(o, want, wlen);
}

static void test_transforms(void **st)
{
    (void)st;
    uint32_t olen;
    reset();
    const char *in = "abc";
    assert_ptr_equal(bf_match_transform(S, &SB, (const uint8_t *)in, 3, &olen), in);
    assert_int_equal(olen, 3);

    assert_xf(BF_XF_TO_LOWER, "HeLLo 1!", "hello 1!", 8);
    assert_xf(BF_XF_TO_UPPER, "HeLLo 1!", "HELLO 1!", 8);
    assert_xf(BF_XF_STRIP_WHITESPACE, " a b\t\r\nc ", "abc", 3);
    assert_xf(BF_XF_COMPRESS_WHITESPACE, "a  b\t\t c  ", "a b\tc ", 6);
    assert_xf(BF_XF_DOTPREFIX, "example.com", ".example.com", 12);
    assert_xf(BF_XF_DOTPREFIX, "", ".", 1);
    assert_xf(BF_XF_URL_DECODE, "%41+b%zz%4", "A b%zz%4", 8);
    assert_xf(BF_XF_MD5, "abc",
              "\x90\x01\x50\x98\x3c\xd2\x4f\xb0\xd6\x96\x3f\x7d\x28\xe1\x7f\x72", 16);
    assert_xf(BF_XF_SHA1, "abc",
              "\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c\x9c\xd0\xd8\x9d",
              20);
    assert_xf(BF_XF_SHA256, "",
              "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24"
              "\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55", 32);
    assert_xf(BF_XF_FROM_BASE64, "aGVsbG8=", "hello", 5);
    assert_xf(BF_XF_FROM_BASE64, "aGVsbG8", "hello", 5);
    assert_xf(BF_XF_FROM_BASE64, "aGVs bG8", "hel", 3);
    assert_xf(BF_XF_FROM_BASE64, "", "", 0);
    assert_xf(BF_XF_STRIP_PSEUDO_HEADERS, ":method: GET\r\nHost: x\r\n:path: /\r\n",
              "Host: x\r\n", 9);
    assert_xf(BF_XF_HEADER_LOWERCASE, "Host: ABC\r\nX-Y: Z\r\n:Auth: Q",
              "host: ABC\r\nx-y: Z\r\n:auth: Q", 27);

    /* xor with a key */
    reset();
    SB.nxf = 1;
    SB.xf[0] = BF_XF_XOR;
    uint8_t key[2] = { 0x01, 0x02 };
    SB.xf_arg = key;
    SB.xf_arg_len = 2;
    const uint8_t *o = bf_match_transform(S, &SB, (const uint8_t *)"abcd", 4, &olen);
    assert_int_equal(olen, 4);
    assert_memory_equal(o, "\x60\x60\x62\x66", 4);

    /* chained: url_decode, to_lower, then content on the result */
    reset();
    SB.nxf = 3;
    SB.xf[0] = BF_XF_URL_DECODE;
    SB.xf[1] = BF_XF_TO_LOWER;
    SB.xf[2] = BF_XF_COMPRESS_WHITESPACE;
    content("select * from", 0);
    assert_true(M("SELECT%20%20*+FROM users"));
    assert_false(M("SELECT%2A FROM users"));

    /* hash then content on the digest */
    reset();
    SB.nxf = 1;
    SB.xf[0] = BF_XF_MD5;
    content_n("\x90\x01\x50\x98", 4, BF_SMF_STARTSWITH);
    assert_true(M("abc"));
    assert_false(M("abd"));

    /* big input: capped, counted */
    size_t big = (2u << 20);
    char *b = malloc(big + 1);
    assert_non_null(b);
    memset(b, 'A', big);
    b[big] = 0;
    uint64_t e0 = bf_match_pcre_errors(S);
    uint8_t t = BF_XF_TO_LOWER;
    o = xf(&t, 1, b, &olen);
    assert_true(olen < (1u << 20));
    assert_int_equal(o[olen - 1], 'a');
    assert_true(bf_match_pcre_errors(S) > e0);
    free(b);
}

/* ------------------------------------------------------ packet keywords */

static bf_sig PSIG;
static bf_pkw PKW[8];

static bf_pkw *pkw(uint8_t type, uint8_t op, uint64_t a, uint64_t b, bool neg)
{
    memset(&PSIG, 0, sizeof(PSIG));
    memset(PKW, 0, sizeof(PKW));
    PSIG.pkw = PKW;
    PSIG.npkw = 1;
    PKW[0].type = type;
    PKW[0].negated = neg;
    PKW[0].cmp = (bf_cmp){ .op = op, .a = a, .b = b };
    return &PKW[0];
}

static bf_pkw *flagkw(uint8_t type, uint8_t mask, uint8_t mode, uint8_t ignore)
{
    bf_pkw *k = pkw(type, 0, 0, 0, false);
    k->flags.mask = mask;
    k->flags.mode = mode;
    k->flags.ignore = ignore;
    return k;
}

static uint8_t ip4hdr[24];
static uint8_t tcphdr[20];
static uint8_t icmphdr[8] = { 8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07 };

static void tcp_pkt(bf_packet *p)
{
    memset(p, 0, sizeof(*p));
    memset(ip4hdr, 0, sizeof(ip4hdr));
    ip4hdr[0] = 0x45;
    ip4hdr[6] = 0x40;   /* DF */
    p->ipver = 4;
    p->proto = 6;
    p->ttl = 64;
    p->tos = 0x10;
    p->ip_id = 4242;
    p->l3 = ip4hdr;
    p->l3_len = 60;
    p->l3_hlen = 20;
    p->l4 = tcphdr;
    p->l4_len = 20;
    p->tcp_flags = BF_TH_SYN | BF_TH_ACK;
    p->tcp_seq = 1000;
    p->tcp_ack = 2000;
    p->tcp_win = 512;
    p->payload_len = 20;
    p->src.w[0] = 1;
    p->dst.w[0] = 2;
}

static void icmp_pkt(bf_packet *p)
{
    memset(p, 0, sizeof(*p));
    p->ipver = 4;
    p->proto = 1;
    p->ttl = 3;
    p->l3 = ip4hdr;
    p->l3_len = 28;
    p->l3_hlen = 20;
    p->l4 = icmphdr;
    p->l4_len = 8;
    p->icmp_type = 8;
    p->icmp_code = 0;
}

static void test_pkw_ip(void **st)
{
    (void)st;
    bf_packet p;
    tcp_pkt(&p);
    pkw(BF_PK_DSIZE, BF_CMP_EQ, 20, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_DSIZE, BF_CMP_GT, 20, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_DSIZE, BF_CMP_RANGE, 10, 30, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TTL, BF_CMP_LT, 65, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TTL, BF_CMP_EQ, 64, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TOS, BF_CMP_EQ, 0x10, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_IPID, BF_CMP_EQ, 4242, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_IP_PROTO, BF_CMP_NE, 17, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_IP_PROTO, BF_CMP_EQ, 6, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_SAMEIP, 0, 0, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    PKW[0].negated = true;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    p.dst = p.src;
    assert_false(bf_match_packet_kw(&PSIG, &p));

    /* several keywords: all must hold */
    tcp_pkt(&p);
    pkw(BF_PK_DSIZE, BF_CMP_EQ, 20, 0, false);
    PSIG.npkw = 2;
    PKW[1].type = BF_PK_TTL;
    PKW[1].cmp = (bf_cmp){ .op = BF_CMP_EQ, .a = 63 };
    assert_false(bf_match_packet_kw(&PSIG, &p));
    PKW[1].cmp.a = 64;
    assert_true(bf_match_packet_kw(&PSIG, &p));

    /* not IP */
    memset(&p, 0, sizeof(p));
    pkw(BF_PK_TTL, BF_CMP_EQ, 0, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
}

static void test_pkw_tcp(void **st)
{
    (void)st;
    bf_packet p;
    tcp_pkt(&p);
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN | BF_TH_ACK, BF_FLAGS_EXACT, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN, BF_FLAGS_EXACT, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN, BF_FLAGS_EXACT, BF_TH_ACK);   /* flags:S,A */
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN, BF_FLAGS_PLUS, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN | BF_TH_FIN, BF_FLAGS_PLUS, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN | BF_TH_FIN, BF_FLAGS_ANY, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_RST | BF_TH_FIN, BF_FLAGS_ANY, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_RST, BF_FLAGS_NOT, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN, BF_FLAGS_NOT, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_TCP_FLAGS, 0, BF_FLAGS_EXACT, 0);                  /* flags:0 */
    assert_false(bf_match_packet_kw(&PSIG, &p));
    p.tcp_flags = 0;
    assert_true(bf_match_packet_kw(&PSIG, &p));

    tcp_pkt(&p);
    pkw(BF_PK_TCP_SEQ, BF_CMP_EQ, 1000, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TCP_ACK, BF_CMP_EQ, 2001, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TCP_WINDOW, BF_CMP_EQ, 512, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TCP_WINDOW, BF_CMP_EQ, 512, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TCP_MSS, BF_CMP_LT, 1000, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));   /* no MSS option */
    p.flags |= BF_PKT_TCP_OPT_MSS;
    p.tcp_mss = 536;
    assert_true(bf_match_packet_kw(&PSIG, &p));

    /* TCP keywords on an ICMP packet never match, even negated */
    icmp_pkt(&p);
    flagkw(BF_PK_TCP_FLAGS, BF_TH_SYN, BF_FLAGS_NOT, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_TCP_SEQ, BF_CMP_EQ, 1, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));

    /* stream_size */
    tcp_pkt(&p);
    bf_flow f;
    bf_tcp_session ssn;
    memset(&f, 0, sizeof(f));
    memset(&ssn, 0, sizeof(ssn));
    ssn.d[0].isn = 0xfffffff0u;
    ssn.d[0].next_seq = 40;     /* 56 bytes from the client, wrapped */
    ssn.d[0].isn_known = ssn.d[0].next_known = true;
    ssn.d[1].isn = 1000;
    ssn.d[1].next_seq = 1010;
    ssn.d[1].isn_known = ssn.d[1].next_known = true;
    f.tcp = &ssn;
    bf_pkw *k = pkw(BF_PK_STREAM_SIZE, BF_CMP_GT, 50, 0, false);
    k->stream_dir = 1;
    assert_false(bf_match_packet_kw(&PSIG, &p));   /* no flow */
    p.flow = &f;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    k->stream_dir = 0;
    assert_false(bf_match_packet_kw(&PSIG, &p));
    k->stream_dir = 3;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    k->stream_dir = 2;
    assert_false(bf_match_packet_kw(&PSIG, &p));
}

static void test_pkw_icmp(void **st)
{
    (void)st;
    bf_packet p;
    icmp_pkt(&p);
    pkw(BF_PK_ITYPE, BF_CMP_EQ, 8, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ITYPE, BF_CMP_EQ, 0, 0, true);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ICODE, BF_CMP_GT, 0, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ICMP_ID, BF_CMP_EQ, 0x1234, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ICMP_SEQ, BF_CMP_EQ, 7, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ICMP_SEQ, BF_CMP_EQ, 8, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    p.icmp_type = 3;              /* unreachable: no echo id */
    pkw(BF_PK_ICMP_ID, BF_CMP_EQ, 0x1234, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    p.icmp_type = 8;
    p.l4_len = 6;                 /* truncated */
    pkw(BF_PK_ICMP_SEQ, BF_CMP_EQ, 7, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));

    /* ICMP keywords on TCP do not match, even negated */
    tcp_pkt(&p);
    pkw(BF_PK_ITYPE, BF_CMP_EQ, 8, 0, true);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_ICODE, BF_CMP_EQ, 0, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
}

static void test_pkw_frag_misc(void **st)
{
    (void)st;
    bf_packet p;
    tcp_pkt(&p);   /* DF set */
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_D, BF_FLAGS_EXACT, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_M, BF_FLAGS_EXACT, 0);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_M | BF_FRAGBIT_D, BF_FLAGS_ANY, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_M, BF_FLAGS_NOT, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    p.frag_mf = true;
    p.flags |= BF_PKT_FRAGMENT;
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_M, BF_FLAGS_PLUS, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_M | BF_FRAGBIT_D, BF_FLAGS_EXACT, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    ip4hdr[6] |= 0x80;            /* reserved bit */
    flagkw(BF_PK_FRAGBITS, BF_FRAGBIT_R, BF_FLAGS_ANY, 0);
    assert_true(bf_match_packet_kw(&PSIG, &p));

    p.frag_off = 1480;
    pkw(BF_PK_FRAGOFFSET, BF_CMP_EQ, 185, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_FRAGOFFSET, BF_CMP_EQ, 0, 0, true);
    assert_true(bf_match_packet_kw(&PSIG, &p));

    /* ipopts */
    tcp_pkt(&p);
    pkw(BF_PK_IPOPTS, BF_CMP_EQ, 7, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    ip4hdr[0] = 0x46;
    ip4hdr[20] = 1;               /* NOP */
    ip4hdr[21] = 7;               /* RR, len 3 */
    ip4hdr[22] = 3;
    ip4hdr[23] = 4;
    p.l3_hlen = 24;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    PKW[0].cmp.a = 68;
    assert_false(bf_match_packet_kw(&PSIG, &p));
    PKW[0].cmp.a = BF_IPOPT_ANY;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    ip4hdr[22] = 0;               /* bad option length: stop */
    PKW[0].cmp.a = 68;
    assert_false(bf_match_packet_kw(&PSIG, &p));

    /* app-layer-protocol */
    tcp_pkt(&p);
    bf_flow f;
    memset(&f, 0, sizeof(f));
    f.app_proto = 3;
    pkw(BF_PK_APP_LAYER_PROTO, BF_CMP_EQ, 3, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));   /* no flow */
    p.flow = &f;
    assert_true(bf_match_packet_kw(&PSIG, &p));
    PKW[0].negated = true;
    assert_false(bf_match_packet_kw(&PSIG, &p));
    pkw(BF_PK_APP_LAYER_PROTO, BF_CMP_NE, 4, 0, false);
    assert_true(bf_match_packet_kw(&PSIG, &p));

    /* decode events */
    pkw(BF_PK_DECODE_EVENT, BF_CMP_EQ, 12, 0, false);
    assert_false(bf_match_packet_kw(&PSIG, &p));
    bf_packet_event(&p, 12);
    assert_true(bf_match_packet_kw(&PSIG, &p));
    PKW[0].negated = true;
    assert_false(bf_match_packet_kw(&PSIG, &p));

    /* no keywords */
    memset(&PSIG, 0, sizeof(PSIG));
    assert_true(bf_match_packet_kw(&PSIG, &p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_basic),
        cmocka_unit_test(test_content_offset_depth),
        cmocka_unit_test(test_content_distance_within),
        cmocka_unit_test(test_content_backtracking),
        cmocka_unit_test(test_content_negated),
        cmocka_unit_test(test_startswith_endswith),
        cmocka_unit_test(test_pcre),
        cmocka_unit_test(test_byte_test),
        cmocka_unit_test(test_byte_jump),
        cmocka_unit_test(test_byte_extract),
        cmocka_unit_test(test_isdataat_bsize),
        cmocka_unit_test(test_step_budget),
        cmocka_unit_test(test_transforms),
        cmocka_unit_test(test_pkw_ip),
        cmocka_unit_test(test_pkw_tcp),
        cmocka_unit_test(test_pkw_icmp),
        cmocka_unit_test(test_pkw_frag_misc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
