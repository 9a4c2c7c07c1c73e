/* SPDX-License-Identifier: GPL-2.0-or-later
 * output/eve.c: EVE sink (file / stdout / unix socket), per-worker writers
 * and the common event header (see eve.h). */
#include "output/eve.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EVE_CHUNK (64 * 1024)

struct bf_eve_sink {
    int fd;
    bool own_fd;
    bool dgram;
    bool broken;
    pthread_mutex_t lock;
    uint64_t lines;
};

bf_eve_sink *bf_eve_sink_open(const char *spec, char *err, size_t errlen)
{
    bf_eve_sink *s = bf_calloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    if (strcmp(spec, "-") == 0) {
        s->fd = STDOUT_FILENO;
        return s;
    }
    bool dgram = strncmp(spec, "unix-dgram:", 11) == 0;
    if (dgram || strncmp(spec, "unix:", 5) == 0) {
        const char *path = spec + (dgram ? 11 : 5);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path) {
            snprintf(err, errlen, "%s: socket path too long", path);
            goto fail;
        }
        strcpy(sa.sun_path, path);
        s->fd = socket(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            if (s->fd >= 0)
                close(s->fd);
            goto fail;
        }
        s->own_fd = true;
        s->dgram = dgram;
        return s;
    }
    s->fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (s->fd < 0) {
        snprintf(err, errlen, "%s: %s", spec, strerror(errno));
        goto fail;
    }
    s->own_fd = true;
    return s;
fail:
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

static void write_all(bf_eve_sink *s, const char *buf, size_t len)
{
    while (len && !s->broken) {
        ssize_t n = write(s->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            bf_err("eve output: write failed: %s; further events are lost", strerror(errno));
            s->broken = true;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void bf_eve_sink_write(bf_eve_sink *s, const char *buf, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    pthread_mutex_lock(&s->lock);
    if (s->dgram) {
        /* one datagram per line */
        const char *p = buf, *end = buf + len;
        while (p < end && !s->broken) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            if (send(s->fd, p, l, 0) < 0) {
                if (errno == EINTR)
                    continue; /* the same line again */
                if (errno == EMSGSIZE) {
                    /* this line exceeds a datagram: lose it, not the rest */
                    bf_warn("eve output: a %zu-byte event is too large for a datagram; dropped", l);
                    lines--;
                } else {
                    bf_err("eve output: send failed: %s; further events are lost",
                           strerror(errno));
                    s->broken = true;
                }
            }
            p += l;
        }
    } else {
        write_all(s, buf, len);
    }
    s->lines += lines;
    pthread_mutex_unlock(&s->lock);
}

uint64_t bf_eve_sink_lines(const bf_eve_sink *s) { return s->lines; }

void bf_eve_sink_close(bf_eve_sink *s)
{
    if (!s)
        return;
    if (s->own_fd)
        close(s->fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void bf_eve_init(bf_eve *e, bf_eve_sink *sink, const bf_eve_opts *opts)
{
    memset(e, 0, sizeof *e);
    e->sink = sink;
    e->opts = opts;
    bf_json_init(&e->j, 4096);
    e->pcap = EVE_CHUNK * 2;
    e->pend = bf_malloc(e->pcap);
}

void bf_eve_flush(bf_eve *e)
{
    if (e->plen && e->sink)
        bf_eve_sink_write(e->sink, e->pend, e->plen);
    e->plen = 0;
}

void bf_eve_fini(bf_eve *e)
{
    bf_eve_flush(e);
    bf_json_free(&e->j);
    free(e->pend);
    e->pend = NULL;
}

const char *bf_eve_proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "IPv6-ICMP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 132: return "SCTP";
    case 2: return "IGMP";
    case 4: return "IPIP";
    case 41: return "IPv6";
    case 89: return "OSPF";
    case 103: return "PIM";
    case 112: return "VRRP";
    }
    snprintf(buf, len, "%u", proto);
    return buf;
}

const char *bf_eve_linktype_name(uint16_t linktype)
{
    switch (linktype) {
    case 0: return "NULL";
    case 1: return "EN10MB";
    case 12:
    case 14:
    case 101: return "RAW";
    case 9: return "PPP";
    case 50: return "PPP_HDLC";
    case 104: return "C_HDLC";
    case 113: return "LINUX_SLL";
    case 276: return "LINUX_SLL2";
    case 127: return "IEEE802_11_RADIO";
    case 105: return "IEEE802_11";
    case 228: return "IPV4";
    case 229: return "IPV6";
    default: return "unknown";
    }
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Community ID "port" of the other side of an ICMP request/response pair
 * (the spec's table, as Suricata's counterpart types), or -1. */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
    static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
    static const uint8_t v6[][2] = {{128, 129}, {130, 131}, {133, 134}, {135, 136},
                                    {139, 140}, {144, 145}};
    const uint8_t(*t)[2] = proto == 1 ? v4 : v6;
    size_t n = proto == 1 ? BF_ARRAY_LEN(v4) : BF_ARRAY_LEN(v6);
    for (size_t i = 0; i < n; i++) {
        if (t[i][0] == type)
            return t[i][1];
        if (t[i][1] == type)
            return t[i][0];
    }
    return -1;
}

const char *bf_community_id(const bf_flow *f, uint16_t seed, char *buf, size_t len)
{
    /* https://github.com/corelight/community-id-spec v1 */
    size_t alen = f->ipver == 6 ? 16 : 4;
    const uint8_t *a = f->addr[0].b, *b = f->addr[1].b;
    uint16_t pa = f->port[0], pb = f->port[1];
    bool icmp = f->proto == 1 || f->proto == 58;
    if (icmp) {
        /* type, and the counterpart's type for request/response pairs
         * (echo, ND, ...), else the code */
        int cp = icmp_counterpart(f->proto, f->icmp_type);
        pa = f->icmp_type;
        pb = cp >= 0 ? (uint16_t)cp : f->icmp_code;
    }
    int c = memcmp(a, b, alen);
    if (c > 0 || (c == 0 && pa > pb)) {
        const uint8_t *t = a; a = b; b = t;
        uint16_t tp = pa; pa = pb; pb = tp;
    }
    uint8_t in[2 + 32 + 2 + 4], *p = in;
    *p++ = (uint8_t)(seed >> 8);
    *p++ = (uint8_t)seed;
    memcpy(p, a, alen); p += alen;
    memcpy(p, b, alen); p += alen;
    *p++ = f->proto;
    *p++ = 0;
    *p++ = (uint8_t)(pa >> 8); *p++ = (uint8_t)pa;
    *p++ = (uint8_t)(pb >> 8); *p++ = (uint8_t)pb;
    uint8_t md[SHA_DIGEST_LENGTH];
    SHA1(in, (size_t)(p - in), md);
    char out[64] = "1:";
    size_t o = 2;
    for (size_t i = 0; i < 21; i += 3) {
        uint32_t v = (uint32_t)md[i] << 16 | (i + 1 < 20 ? (uint32_t)md[i + 1] << 8 : 0) |
                     (i + 2 < 20 ? md[i + 2] : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < 20 ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
    }
    out[o] = 0;
    snprintf(buf, len, "%s", out);
    return buf;
}

static void header(bf_eve *e, const char *event_type, bf_ts ts, const bf_packet *p,
                   const bf_flow *f, bool flow_orient)
{
    bf_json *j = &e->j;
    bf_json_reset(j);
    bf_json_open_obj(j, NULL);
    char tsb[48];
    size_t tl = bf_ts_format(ts, tsb, sizeof tsb);
    bf_json_strn(j, "timestamp", tsb, tl);
    if (f)
        bf_json_uint(j, "flow_id", f->flow_id);
    if (p && p->pcap_cnt)
        bf_json_uint(j, "pcap_cnt", p->pcap_cnt);
    bf_json_str(j, "event_type", event_type);

    const uint16_t *vlan = NULL;
    unsigned nvlan = 0;
    if (f) {
        vlan = f->vlan;
        nvlan = f->vlan[1] ? 2 : f->vlan[0] ? 1 : 0;
    }
    if (!nvlan && p) {
        vlan = p->vlan;
        nvlan = p->vlan_cnt;
    }
    if (nvlan) {
        bf_json_open_arr(j, "vlan");
        for (unsigned i = 0; i < nvlan; i++)
            bf_json_uint(j, NULL, vlan[i]);
        bf_json_close_arr(j);
    }

    const bf_addr *sa = NULL, *da = NULL;
    uint16_t sp = 0, dp = 0;
    uint8_t proto = 0, ipver = 0;
    if (f && (flow_orient || !p || !p->ipver)) {
        sa = &f->addr[0]; da = &f->addr[1];
        sp = f->port[0]; dp = f->port[1];
        proto = f->proto; ipver = f->ipver;
    } else if (p && p->ipver) {
        sa = &p->src; da = &p->dst;
        sp = p->sp; dp = p->dp;
        proto = p->proto; ipver = p->ipver;
    }
    if (sa) {
        char ab[64], pb[8];
        bool ports = proto == 6 || proto == 17 || proto == 132;
        bf_json_str(j, "src_ip", bf_addr_str(sa, ipver, ab, sizeof ab));
        if (ports)
            bf_json_uint(j, "src_port", sp);
        bf_json_str(j, "dest_ip", bf_addr_str(da, ipver, ab, sizeof ab));
        if (ports)
            bf_json_uint(j, "dest_port", dp);
        bf_json_str(j, "proto", bf_eve_proto_name(proto, pb, sizeof pb));
        bf_json_uint(j, "ip_v", ipver);
        if (proto == 1 || proto == 58) {
            if (p && p->ipver && (proto == p->proto)) {
                bf_json_uint(j, "icmp_type", p->icmp_type);
                bf_json_uint(j, "icmp_code", p->icmp_code);
            } else if (f) {
                bf_json_uint(j, "icmp_type", f->icmp_type);
                bf_json_uint(j, "icmp_code", f->icmp_code);
            }
        }
        if (f && e->opts && e->opts->community_id) {
            char cid[64];
            bf_json_str(j, "community_id",
                        bf_community_id(f, e->opts->community_id_seed, cid, sizeof cid));
        }
    }
    if (p && p->eth && e->opts && e->opts->ether) {
        char mac[18];
        bf_json_open_obj(j, "ether");
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", p->eth[6], p->eth[7],
                 p->eth[8], p->eth[9], p->eth[10], p->eth[11]);
        bf_json_str(j, "src_mac", mac);
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", p->eth[0], p->eth[1],
                 p->eth[2], p->eth[3], p->eth[4], p->eth[5]);
        bf_json_str(j, "dest_mac", mac);
        bf_json_close_obj(j);
    }
}

void bf_eve_begin(bf_eve *e, const char *event_type, bf_ts ts, const bf_packet *p,
                  const bf_flow *f)
{
    header(e, event_type, ts, p, f, false);
}

void bf_eve_begin_flow(bf_eve *e, const char *event_type, bf_ts ts, const bf_packet *p,
                       const bf_flow *f)
{
    header(e, event_type, ts, p, f, true);
}

void bf_eve_put_line(bf_eve *e, const char *line, size_t len)
{
    if (e->plen + len > e->pcap) {
        bf_eve_flush(e);
        if (len > e->pcap) {
            e->pcap = len * 2;
            e->pend = bf_realloc(e->pend, e->pcap);
        }
    }
    memcpy(e->pend + e->plen, line, len);
    e->plen += len;
    e->events++;
    if (e->plen >= EVE_CHUNK)
        bf_eve_flush(e);
}

const char *bf_eve_end_take(bf_eve *e, size_t *len)
{
    bf_json_close_obj(&e->j);
    bf_json_append(&e->j, "\n", 1);
    *len = e->j.len;
    return e->j.buf;
}

void bf_eve_end(bf_eve *e)
{
    size_t len;
    const char *line = bf_eve_end_take(e, &len);
    bf_eve_put_line(e, line, len);
}
