/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/config.c: YAML loading and typed lookups (see config.h). */
#include "common/config.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

typedef struct entry {
    char *key, *val, *origin;
} entry;

struct bf_config {
    entry *e;
    size_t n, cap;
    bool bad;
};

bf_config *bf_config_new(void) { return bf_calloc(1, sizeof(bf_config)); }

void bf_config_free(bf_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].val);
        free(c->e[i].origin);
    }
    free(c->e);
    free(c);
}

static entry *find(const bf_config *c, const char *key)
{
    for (size_t i = c->n; i-- > 0;)
        if (strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

static void put(bf_config *c, const char *key, const char *val, const char *origin)
{
    entry *e = find(c, key);
    if (!e) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->e = bf_realloc(c->e, c->cap * sizeof(entry));
        }
        e = &c->e[c->n++];
        e->key = bf_strdup(key);
    } else {
        free(e->val);
        free(e->origin);
    }
    e->val = val ? bf_strdup(val) : NULL;
    e->origin = bf_strdup(origin);
}

/* Nodes one document may expand to.  Aliases are resolved by libyaml to
 * shared nodes, and an anchor may even be used inside itself ("&a [*a]"):
 * without a budget, a few lines expand exponentially (or forever). */
#define CONFIG_MAX_NODES (1u << 14) /* a full suricata.yaml has ~2000 */

/* Recursive walk of the libyaml document tree. */
static void walk(bf_config *c, yaml_document_t *doc, yaml_node_t *node, char *path, size_t plen,
                 size_t pcap, const char *file, int depth, size_t *budget)
{
    if (depth > 32 || *budget == 0)
        return;
    (*budget)--;
    char origin[512];
    snprintf(origin, sizeof origin, "%s:%lu", file, (unsigned long)node->start_mark.line + 1);
    switch (node->type) {
    case YAML_SCALAR_NODE:
        put(c, path, (const char *)node->data.scalar.value, origin);
        break;
    case YAML_SEQUENCE_NODE: {
        if (plen)
            put(c, path, NULL, origin);
        int idx = 0;
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++, idx++) {
            yaml_node_t *child = yaml_document_get_node(doc, *it);
            if (!child)
                continue;
            int n = snprintf(path + plen, pcap - plen, "%s%d", plen ? "." : "", idx);
            if (n < 0 || (size_t)n >= pcap - plen)
                continue;
            walk(c, doc, child, path, plen + (size_t)n, pcap, file, depth + 1, budget);
            path[plen] = 0;
        }
        break;
    }
    case YAML_MAPPING_NODE:
        if (plen)
            put(c, path, NULL, origin);
        for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
             pr < node->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            yaml_node_t *v = yaml_document_get_node(doc, pr->value);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                continue;
            int n = snprintf(path + plen, pcap - plen, "%s%s", plen ? "." : "",
                             (const char *)k->data.scalar.value);
            if (n < 0 || (size_t)n >= pcap - plen)
                continue;
            walk(c, doc, v, path, plen + (size_t)n, pcap, file, depth + 1, budget);
            path[plen] = 0;
        }
        break;
    default:
        break;
    }
}

static int load_parser(bf_config *c, yaml_parser_t *p, const char *name, char *err, size_t errlen)
{
    int rc = 0;
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(p, &doc)) {
            snprintf(err, errlen, "%s:%lu:%lu: %s", name, (unsigned long)p->problem_mark.line + 1,
                     (unsigned long)p->problem_mark.column + 1,
                     p->problem ? p->problem : "YAML error");
            rc = -1;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        char path[1024] = "";
        size_t budget = CONFIG_MAX_NODES;
        walk(c, &doc, root, path, 0, sizeof path, name, 0, &budget);
        yaml_document_delete(&doc);
        if (budget == 0) {
            snprintf(err, errlen, "%s: more than %u values (aliases expanding?)", name,
                     CONFIG_MAX_NODES);
            rc = -1;
            break;
        }
    }
    return rc;
}

int bf_config_load(bf_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = load_parser(c, &p, path, err, errlen);
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

int bf_config_load_string(bf_config *c, const char *yaml, const char *name, char *err,
                          size_t errlen)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
    int rc = load_parser(c, &p, name, err, errlen);
    yaml_parser_delete(&p);
    return rc;
}

int bf_config_set(bf_config *c, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, errlen, "--set %s: expected key=value", kv);
        return -1;
    }
    char key[512];
    size_t kl = (size_t)(eq - kv);
    if (kl >= sizeof key) {
        snprintf(err, errlen, "--set: key too long");
        return -1;
    }
    memcpy(key, kv, kl);
    key[kl] = 0;
    put(c, key, eq + 1, "--set");
    return 0;
}

const char *bf_config_str(const bf_config *c, const char *key, const char *def)
{
    entry *e = find(c, key);
    return e && e->val ? e->val : def;
}

bool bf_config_has(const bf_config *c, const char *key) { return find(c, key) != NULL; }

const char *bf_config_origin(const bf_config *c, const char *key)
{
    entry *e = find(c, key);
    return e ? e->origin : "default";
}

const char *bf_config_eve_key(const bf_config *c, const char *type, const char *leaf, char *key,
                              size_t klen)
{
    snprintf(key, klen, "outputs.eve.%s.%s", type, leaf);
    if (bf_config_has(c, key))
        return key;
    for (unsigned i = 0; i < 16; i++)
        for (unsigned k = 0; k < 32; k++) {
            snprintf(key, klen, "outputs.%u.eve-log.types.%u.%s.%s", i, k, type, leaf);
            if (bf_config_has(c, key))
                return key;
        }
    return NULL;
}

void bf_config_error(bf_config *c, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bf_err("config: %s (%s): %s", key, bf_config_origin(c, key), msg);
    c->bad = true;
}

bool bf_config_ok(const bf_config *c) { return !c->bad; }

bool bf_config_bool(bf_config *c, const char *key, bool def)
{
    const char *v = bf_config_str(c, key, NULL);
    if (!v)
        return def;
    static const char *yes[] = {"yes", "true", "on", "1", "enabled", "y"};
    static const char *no[] = {"no", "false", "off", "0", "disabled", "n"};
    for (size_t i = 0; i < BF_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return true;
        if (strcasecmp(v, no[i]) == 0)
            return false;
    }
    bf_config_error(c, key, "'%s' is not a boolean (yes/no)", v);
    return def;
}

uint64_t bf_config_uint(bf_config *c, const char *key, uint64_t def, uint64_t max)
{
    const char *v = bf_config_str(c, key, NULL);
    if (!v)
        return def;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    while (*end && isspace((unsigned char)*end))
        end++;
    if (errno || end == v || *end || v[0] == '-' || x > max) {
        bf_config_error(c, key, "'%s' is not a whole number from 0 to %llu", v,
                        (unsigned long long)max);
        return def;
    }
    return x;
}

uint64_t bf_config_size(bf_config *c, const char *key, uint64_t def)
{
    const char *v = bf_config_str(c, key, NULL);
    if (!v)
        return def;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || !(x >= 0)) /* also refuses nan */
        goto bad;
    while (*end == ' ')
        end++;
    uint64_t mul = 1;
    char u = (char)tolower((unsigned char)*end);
    if (u == 'k')
        mul = 1ULL << 10;
    else if (u == 'm')
        mul = 1ULL << 20;
    else if (u == 'g')
        mul = 1ULL << 30;
    else if (u == 't')
        mul = 1ULL << 40;
    else if (u != 0 && u != 'b')
        goto bad;
    if (u && u != 'b') {
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
    } else if (u == 'b') {
        end++;
    }
    if (*end)
        goto bad;
    if (!(x * (double)mul <= 1.8e19))
        goto bad;
    return (uint64_t)(x * (double)mul);
bad:
    bf_config_error(c, key, "'%s' is not a size (e.g. 4096, 512kb, 64mb, 1gb)", v);
    return def;
}

bf_ts bf_config_duration(bf_config *c, const char *key, bf_ts def)
{
    const char *v = bf_config_str(c, key, NULL);
    if (!v)
        return def;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || !(x >= 0)) /* also refuses nan */
        goto bad;
    while (*end == ' ')
        end++;
    double mul = 1e6;
    if (strcmp(end, "ms") == 0)
        mul = 1e3;
    else if (strcmp(end, "us") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0 || *end == 0)
        mul = 1e6;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mul = 60e6;
    else if (strcmp(end, "h") == 0)
        mul = 3600e6;
    else
        goto bad;
    if (!(x * mul <= 1e18))
        goto bad;
    return (bf_ts)(x * mul);
bad:
    bf_config_error(c, key, "'%s' is not a duration (e.g. 30, 30s, 250ms, 5m, 1h)", v);
    return def;
}

void bf_config_children(const bf_config *c, const char *prefix,
                        void (*fn)(void *ud, const char *name, const char *value), void *ud)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->e[i].key;
        if (strncmp(k, prefix, pl) != 0 || k[pl] != '.')
            continue;
        const char *name = k + pl + 1;
        if (strchr(name, '.'))
            continue;
        /* skip entries overridden later under the same key */
        if (find(c, k) != &c->e[i])
            continue;
        fn(ud, name, c->e[i].val);
    }
}
