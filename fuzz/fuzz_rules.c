/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target for detect/parse.c: the input is one rule (NUL-cut),
 * parsed with bf_sig_parse against a context holding Suricata's default
 * variables plus a few from a config, then freed.  Interned flowbit and
 * flowint names accumulate in the context (bounded by resetting it). */
#include <stdlib.h>
#include <string.h>

#include "detect/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bf_parse_ctx ctx;
    static bool init;
    static unsigned runs;
    if (!init || ++runs % 5000 == 0) {
        if (init)
            bf_parse_ctx_free(&ctx);
        bf_config *cfg = bf_config_new();
        char e[256];
        bf_config_load_string(cfg,
                              "vars:\n  address-groups:\n    HOME_NET: \"[10.0.0.0/8,fe80::/10]\"\n"
                              "    NEST: \"[$HOME_NET,!10.1.0.0/16,$DNS_SERVERS]\"\n"
                              "  port-groups:\n    P: \"[$HTTP_PORTS,!81,1000:]\"\n",
                              "fuzz", e, sizeof e);
        if (!bf_parse_ctx_init(&ctx, cfg, e, sizeof e))
            abort();
        bf_config_free(cfg);
        init = true;
    }
    if (size > 65536)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    char err[256], reason[96];
    bf_sig *sig = bf_sig_parse(&ctx, s, err, sizeof err, reason, sizeof reason);
    if (sig) {
        /* touch what consumers read */
        volatile size_t x = sig->nbufs + sig->npkw;
        if (sig->fp_buf >= 0)
            x += sig->bufs[sig->fp_buf].sm[sig->fp_sm].content.len;
        (void)x;
    } else if (!reason[0]) {
        abort();    /* every failure has a reason */
    }
    bf_sig_free(sig);
    free(s);
    return 0;
}
