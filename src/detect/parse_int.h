/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/parse_int.h: internals shared by parse.c and vars.c. */
#ifndef BF_DETECT_PARSE_INT_H
#define BF_DETECT_PARSE_INT_H

#include "detect/parse.h"

/* Address / port expressions ("[$HOME_NET,!10.0.0.1]", "[80,8000:8080]")
 * -> sorted disjoint interval sets.  False with err on a bad value. */
bool bf_parse_addr_set(const bf_parse_ctx *c, const char *text, bf_ipset *out, char *err,
                       size_t errlen);
bool bf_parse_port_set(const bf_parse_ctx *c, const char *text, bf_portset *out, char *err,
                       size_t errlen);
/* Restricts an address set to one family (proto ipv4 / ipv6). */
void bf_ipset_restrict(bf_ipset *s, int ipver);

#endif
