/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/ owns the application layer: identifying a flow's protocol from its
 * first bytes (not only its port), and handing stream data to the protocol
 * analyzer (app/<proto>/) that owns the flow's app state.  Analyzers publish
 * parsed events to detectors through app/bus.h; detectors never see bytes.
 */
#ifndef BF_APP_APP_H
#define BF_APP_APP_H

#include "flow/flow.h"

enum bf_app_proto {
    BF_APP_UNKNOWN = 0,   /* not decided yet */
    BF_APP_FAILED,        /* gave up: EVE "failed" */
    BF_APP_HTTP,
    BF_APP_TLS,
    BF_APP_DNS,
    BF_APP_SMTP,
    BF_APP_SMB,
    BF_APP_SSH,
    BF_APP_FTP,
    BF_APP_RDP,
    BF_APP_DCERPC,
    BF_APP_NTP,
    BF_APP_DHCP,
    BF_APP_SIP,
    BF_APP_KRB5,
    BF_APP_SNMP,
    BF_APP_IMAP,
    BF_APP_POP3,
    BF_APP_MAX
};

/* EVE name ("http", "tls", "smb", ...); "failed"; NULL for unknown. */
const char *bf_app_proto_name(uint16_t ap);
uint16_t bf_app_proto_lookup(const char *name);

/* Protocol identification from the first bytes of one direction.
 * Returns a protocol, BF_APP_UNKNOWN when more bytes are needed, or
 * BF_APP_FAILED when nothing matches.  `port` is the server port (a hint
 * only: every decision is made from content).  `ipproto` is 6 or 17. */
uint16_t bf_app_identify(uint8_t ipproto, int dir, const uint8_t *data, uint32_t len,
                         uint16_t port);

/* Which way a UDP datagram identified as protocol ap goes by its content:
 * 0 a request (to the server), 1 a response (to the client), -1 cannot
 * tell.  Only DNS answers (the QR bit), as Suricata's probing parsers. */
int bf_app_udp_msg_dir(uint16_t ap, const uint8_t *data, uint32_t len);

#endif
