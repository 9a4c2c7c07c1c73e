/* SPDX-License-Identifier: GPL-2.0-or-later
 * fuzz/fuzz_match.c: libFuzzer target for the payload matcher.  A few fixed
 * sigs (relative contents with backtracking, byte_extract variables used as
 * offsets, byte_jump/byte_math/byte_test with odd flags, pcre, isdataat,
 * transform chains) run against the input; the input is also read as an IP
 * header + L4 for the packet keywords (ipopts, fragbits, icmp_id). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "detect/match.h"

#define NSIG 8
#define MAXSM 12

static bf_match_scratch *S;
static bf_sig sigs[NSIG];
static bf_sig_buf bufs[NSIG];
static bf_sm sms[NSIG][MAXSM];
static uint8_t xorkey[3] = { 0x5a, 0x00, 0xff };

static bf_num N(int32_t v) { return (bf_num){ .v = v, .var = -1 }; }
static bf_num V(int8_t var) { return (bf_num){ .v = 0, .var = var }; }

static bf_sm *add(int s, uint8_t type, uint16_t flags)
{
    bf_sm *m = &sms[s][bufs[s].nsm++];
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->flags = flags;
    if (type == BF_SM_CONTENT) {
        m->content.offset = m->content.depth = m->content.distance = m->content.within = N(0);
    } else if (type >= BF_SM_BYTE_TEST && type <= BF_SM_BYTE_MATH) {
        m->byte.value = m->byte.offset = N(0);
        m->byte.multiplier = 1;
        m->byte.var_out = -1;
    } else if (type == BF_SM_ISDATAAT) {
        m->isdataat.offset = N(0);
    }
    return m;
}

static bf_sm *content(int s, const char *pat, uint16_t flags)
{
    bf_sm *m = add(s, BF_SM_CONTENT, flags);
    m->content.pat = (uint8_t *)pat;
    m->content.len = (uint16_t)strlen(pat);
    return m;
}

static bf_sm *byteop(int s, uint8_t type, uint8_t nb, uint8_t op, bf_num val, bf_num off,
                     uint16_t bflags)
{
    bf_sm *m = add(s, type, (bflags & BF_BYTE_RELATIVE) ? BF_SMF_RELATIVE : 0);
    m->byte.nbytes = nb;
    m->byte.op = op;
    m->byte.value = val;
    m->byte.offset = off;
    m->byte.bflags = bflags;
    return m;
}

static bf_sm *pcre(int s, const char *re, uint32_t opts, uint16_t flags)
{
    int err;
    PCRE2_SIZE eo;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &err, &eo, NULL);
    if (!c)
        abort();
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    bf_sm *m = add(s, BF_SM_PCRE, flags);
    m->pcre.code = c;
    return m;
}

static void build(void)
{
    S = bf_match_scratch_new();
    if (!S)
        abort();
    for (int i = 0; i < NSIG; i++) {
        bufs[i].sm = sms[i];
        sigs[i].bufs = &bufs[i];
        sigs[i].nbufs = 1;
    }
    bf_sm *m;
    /* 0: backtracking chain, negative distance, nocase */
    content(0, "a", 0);
    m = content(0, "b", BF_SMF_HAS_WITHIN);
    m->content.within = N(1);
    m = content(0, "Cd", BF_SMF_NOCASE | BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN);
    m->content.distance = N(-2);
    m->content.within = N(6);
    m = content(0, "e", BF_SMF_NEGATED | BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN);
    m->content.distance = N(0);
    m->content.within = N(2);
    add(0, BF_SM_ISDATAAT, BF_SMF_RELATIVE | BF_SMF_NEGATED)->isdataat.offset = N(3);

    /* 1: byte_extract vars as offset/depth/distance, byte_jump, byte_test */
    m = byteop(1, BF_SM_BYTE_EXTRACT, 2, 0, N(0), N(0), BF_BYTE_LITTLE);
    m->byte.var_out = 0;
    m = content(1, "X", BF_SMF_HAS_OFFSET | BF_SMF_HAS_DEPTH);
    m->content.offset = V(0);
    m->content.depth = V(0);
    m = byteop(1, BF_SM_BYTE_JUMP, 1, 0, N(0), N(-1), BF_BYTE_RELATIVE | BF_BYTE_ALIGN);
    m->byte.multiplier = 3;
    m->byte.post_offset = -2;
    m = byteop(1, BF_SM_BYTE_EXTRACT, 3, 0, N(0), N(0),
               BF_BYTE_RELATIVE | BF_BYTE_STRING | BF_BYTE_HEX | BF_BYTE_BITMASK);
    m->byte.bitmask = 0xff0;
    m->byte.var_out = 1;
    m = content(1, "YZ", BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN);
    m->content.distance = V(1);
    m->content.within = V(0);
    byteop(1, BF_SM_BYTE_TEST, 4, BF_BOP_AND, N(0xf0), N(-4), BF_BYTE_RELATIVE | BF_BYTE_DCE);

    /* 2: pcre relative with backtracking, then relative content */
    content(2, "x", 0);
    pcre(2, "(a|b)+c", 0, BF_SMF_RELATIVE);
    m = content(2, "zz", BF_SMF_HAS_DISTANCE | BF_SMF_HAS_WITHIN);
    m->content.distance = N(0);
    m->content.within = N(4);
    pcre(2, "^q", PCRE2_CASELESS, BF_SMF_RELATIVE | BF_SMF_NEGATED);

    /* 3: byte_math (string, shifts by a var), byte_jump from_end */
    m = byteop(3, BF_SM_BYTE_EXTRACT, 1, 0, N(0), N(0), 0);
    m->byte.var_out = 2;
    m = byteop(3, BF_SM_BYTE_MATH, 3, BF_BOP_SHL, V(2), N(1), BF_BYTE_STRING | BF_BYTE_DEC);
    m->byte.var_out = 3;
    m = byteop(3, BF_SM_BYTE_MATH, 2, BF_BOP_DIV, V(3), N(0), BF_BYTE_RELATIVE);
    m->byte.var_out = 4;
    m = byteop(3, BF_SM_BYTE_JUMP, 2, 0, N(0), V(4), BF_BYTE_FROM_END | BF_BYTE_STRING | BF_BYTE_OCT);
    m->byte.post_offset = -5;
    m->byte.multiplier = 1000;
    content(3, "!", BF_SMF_RELATIVE);
    add(3, BF_SM_BSIZE, 0)->size = (bf_cmp){ .op = BF_CMP_RANGE, .a = 3, .b = 5000 };

    /* 4: startswith/endswith with transforms */
    content(4, "get", BF_SMF_STARTSWITH);
    content(4, "=", BF_SMF_ENDSWITH | BF_SMF_RELATIVE);
    bufs[4].nxf = 4;
    bufs[4].xf[0] = BF_XF_URL_DECODE;
    bufs[4].xf[1] = BF_XF_FROM_BASE64;
    bufs[4].xf[2] = BF_XF_COMPRESS_WHITESPACE;
    bufs[4].xf[3] = BF_XF_TO_LOWER;

    /* 5: hashes, xor, dotprefix */
    add(5, BF_SM_ISDATAAT, 0)->isdataat.offset = N(31);
    bufs[5].nxf = 4;
    bufs[5].xf[0] = BF_XF_XOR;
    bufs[5].xf[1] = BF_XF_DOTPREFIX;
    bufs[5].xf[2] = BF_XF_SHA256;
    bufs[5].xf[3] = BF_XF_MD5;
    bufs[5].xf_arg = xorkey;
    bufs[5].xf_arg_len = sizeof(xorkey);

    /* 6: header transforms, byte_test strings */
    byteop(6, BF_SM_BYTE_TEST, 10, BF_BOP_GT, N(7), N(2), BF_BYTE_STRING | BF_BYTE_DEC);
    content(6, "host:", 0);
    bufs[6].nxf = 3;
    bufs[6].xf[0] = BF_XF_STRIP_PSEUDO_HEADERS;
    bufs[6].xf[1] = BF_XF_HEADER_LOWERCASE;
    bufs[6].xf[2] = BF_XF_STRIP_WHITESPACE;

    /* 7: many relative "a" (step budget) */
    content(7, "a", 0);
    for (int i = 0; i < 6; i++) {
        m = content(7, "a", BF_SMF_HAS_DISTANCE);
        m->content.distance = N(0);
    }
    m = content(7, "b", BF_SMF_HAS_WITHIN);
    m->content.within = N(1);
    bufs[7].nxf = 1;
    bufs[7].xf[0] = BF_XF_TO_LOWER;
}

static bf_sig psig;
static bf_pkw pkws[BF_PK_TEMPLATE + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!S)
        build();
    uint32_t len = size > 70000 ? 70000 : (uint32_t)size;
    for (int i = 0; i < NSIG; i++) {
        bf_match_begin_sig(S);
        uint32_t olen;
        const uint8_t *x = bf_match_transform(S, &bufs[i], data, len, &olen);
        (void)bf_match_buffer(S, &sigs[i], &bufs[i], x, olen);
    }

    /* packet keywords over the input as an IPv4/ICMP/TCP header */
    if (size >= 2) {
        bf_packet p;
        memset(&p, 0, sizeof(p));
        p.ipver = (data[0] & 1) ? 4 : 6;
        p.proto = (data[1] & 3) == 0 ? 1 : (data[1] & 3) == 1 ? 6 : (data[1] & 3) == 2 ? 58 : 17;
        p.l3 = data;
        p.l3_len = len;
        uint32_t hl = (uint32_t)(data[0] & 0x0f) * 4;
        p.l3_hlen = (uint16_t)(hl <= len ? hl : len);
        p.l4 = data + p.l3_hlen;
        p.l4_len = len - p.l3_hlen;
        p.icmp_type = data[1] >> 2 & 1 ? 8 : 128;
        p.tcp_flags = data[0];
        p.frag_mf = data[1] & 0x80;
        memset(&psig, 0, sizeof(psig));
        psig.pkw = pkws;
        psig.npkw = 1;
        for (int t = 0; t <= BF_PK_TEMPLATE; t++) {
            memset(&pkws[0], 0, sizeof(pkws[0]));
            pkws[0].type = (uint8_t)t;
            pkws[0].cmp.op = data[1] % 7;
            pkws[0].cmp.a = t == BF_PK_IPOPTS ? (data[1] & 0x40 ? BF_IPOPT_ANY : data[1]) : data[1];
            pkws[0].cmp.b = 300;
            pkws[0].flags.mask = data[1];
            pkws[0].flags.mode = data[1] & 3;
            pkws[0].negated = data[0] & 0x80;
            (void)bf_match_packet_kw(&psig, &p);
        }
    }
    return 0;
}
