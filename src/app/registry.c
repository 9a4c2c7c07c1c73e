/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/registry.c: the table of protocol analyzers.  An analyzer in
 * app/<proto>/ defines `const bf_app_parser bf_parser_<proto>` and gets one
 * line here. */
#include "app/applayer.h"
#include "app/dns/dns.h"
#include "app/ftp/ftp.h"
#include "app/http/http.h"
#include "app/rdp/rdp.h"
#include "app/ssh/ssh.h"
#include "app/tls/tls.h"

static const bf_app_parser *const parsers[] = {
    &bf_parser_dns, &bf_parser_http, &bf_parser_tls,
    &bf_parser_ssh, &bf_parser_ftp,  &bf_parser_rdp,
};

const bf_app_parser *bf_app_parser_get(uint16_t proto)
{
    for (size_t i = 0; i < BF_ARRAY_LEN(parsers); i++)
        if (parsers[i]->proto == proto)
            return parsers[i];
    return NULL;
}
