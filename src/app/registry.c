/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/registry.c: the table of protocol analyzers.  An analyzer in
 * app/<proto>/ defines `const bf_app_parser bf_parser_<proto>` and gets one
 * line here. */
#include "app/applayer.h"
#include "app/dns/dns.h"
#include "app/ftp/ftp.h"
#include "app/http/http.h"
#include "app/rdp/rdp.h"
#include "app/smtp/smtp.h"
#include "app/smb/smb.h"
#include "app/ssh/ssh.h"
#include "app/tls/tls.h"

static const bf_app_parser *const parsers[] = {
    &bf_parser_dns, &bf_parser_http, &bf_parser_tls,
    &bf_parser_ssh, &bf_parser_ftp,  &bf_parser_rdp,
    &bf_parser_smtp, &bf_parser_smb,
};

/* Protocols whose analyzer is switched off by the configuration (set once
 * at start-up, before the workers run; read-only afterwards). */
static bool disabled[BF_APP_MAX];

void bf_app_parser_enable(uint16_t proto, bool on)
{
    if (proto < BF_APP_MAX)
        disabled[proto] = !on;
}

const bf_app_parser *bf_app_parser_get(uint16_t proto)
{
    if (proto >= BF_APP_MAX || disabled[proto])
        return NULL;
    for (size_t i = 0; i < BF_ARRAY_LEN(parsers); i++)
        if (parsers[i]->proto == proto)
            return parsers[i];
    return NULL;
}
