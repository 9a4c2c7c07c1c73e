/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target for app/dns.  The first input byte picks the mode:
 *   bit 0 clear: UDP, the rest is split into datagrams at "\xff\xfe\xfd"
 *                markers, sent alternately to the server and the client
 *                (bit 1 picks who starts);
 *   bit 0 set:   TCP, the rest is a byte stream cut into segments whose
 *                sizes come from the bytes themselves, with directions and
 *                gaps taken from the control byte of each segment.
 * EVE output is built in memory (no sink) and the bus has a subscriber, so
 * the logging and publishing paths run too. */
#include "app/dns/dns.h"

#include <stdlib.h>

static void on_bus(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_dns_event *e = m->data;
    /* touch what detectors read */
    volatile size_t x = strlen(e->qname) + e->nanswers;
    for (unsigned i = 0; i < e->nanswers && i < BF_DNS_BUS_ANSWERS; i++)
        x += strlen(e->answers[i].data);
    (void)x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static bf_eve eve;
    static bf_eve_opts opts = {.anomaly_events = true};
    static bf_bus bus;
    static bool init;
    if (!init) {
        bf_eve_init(&eve, NULL, &opts);
        bf_bus_init(&bus);
        bf_bus_subscribe(&bus, BF_BUS_DNS_QUERY, on_bus, NULL);
        bf_bus_subscribe(&bus, BF_BUS_DNS_ANSWER, on_bus, NULL);
        init = true;
    }
    bf_app_ctx ctx = {.eve = &eve, .bus = &bus, .ft = NULL};
    uint8_t mode = data[0];
    data++;
    size--;

    bf_flow f;
    memset(&f, 0, sizeof f);
    f.proto = (mode & 1) ? 6 : 17;
    f.ipver = 4;
    f.flow_id = 1;
    f.port[0] = 40000;
    f.port[1] = 53;
    bf_addr_parse("192.0.2.1", &f.addr[0]);
    bf_addr_parse("192.0.2.53", &f.addr[1]);
    bf_packet p;
    memset(&p, 0, sizeof p);
    p.ipver = 4;
    p.proto = f.proto;
    p.ts = BF_SEC;

    void *st = bf_parser_dns.state_new(&ctx, &f);
    if (!(mode & 1)) {
        int dir = (mode >> 1) & 1;
        size_t start = 0;
        for (size_t i = 0; i + 3 <= size; i++) {
            if (data[i] == 0xff && data[i + 1] == 0xfe && data[i + 2] == 0xfd) {
                /* exact-size copy so ASan sees any over-read */
                size_t n = i - start;
                uint8_t *c = malloc(n ? n : 1);
                memcpy(c, data + start, n);
                p.dir = (uint8_t)dir;
                bf_parser_dns.parse(&ctx, &f, st, &p, dir, c, (uint32_t)n, 0);
                free(c);
                dir ^= 1;
                start = i + 3;
                i += 2;
            }
        }
        size_t n = size - start;
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, data + start, n);
        bf_parser_dns.parse(&ctx, &f, st, &p, dir, c, (uint32_t)n, 0);
        free(c);
    } else {
        size_t off = 0;
        while (off < size) {
            uint8_t ctl = data[off++];
            int dir = ctl & 1;
            uint32_t seg = 1u + ((ctl >> 1) & 0x3f) * 7u;
            if (ctl & 0x80)
                bf_parser_dns.parse(&ctx, &f, st, &p, dir, NULL, 0, 1u + (ctl & 0x7f));
            if (off >= size)
                break;
            size_t n = BF_MIN((size_t)seg, size - off);
            uint8_t *c = malloc(n);
            memcpy(c, data + off, n);
            p.dir = (uint8_t)dir;
            bf_parser_dns.parse(&ctx, &f, st, &p, dir, c, (uint32_t)n, 0);
            free(c);
            off += n;
        }
    }
    bf_parser_dns.flow_end(&ctx, &f, st);
    bf_parser_dns.state_free(&ctx, &f, st);
    if (f.app_mem != 0)
        abort(); /* memory accounting must balance */
    eve.plen = 0; /* no sink: drop the lines */
    return 0;
}
