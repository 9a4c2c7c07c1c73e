/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/config: the YAML configuration (libyaml), flattened into dotted
 * keys ("flow.memcap", "vars.address-groups.HOME_NET", sequences as
 * "outputs.0.eve-log.enabled"), each remembering the file:line it came from.
 * `--set key=value` overrides land in the same table.  Typed getters report
 * a bad value naming the key and its origin, and mark the config bad, so
 * start-up can refuse it after reading every key (all errors at once).
 */
#ifndef BF_COMMON_CONFIG_H
#define BF_COMMON_CONFIG_H

#include "common/bf.h"

typedef struct bf_config bf_config;

bf_config *bf_config_new(void);
void bf_config_free(bf_config *c);

/* Loads a YAML file (merging over what is there).  On a syntax error,
 * returns -1 with "file:line:col: reason" in err. */
int bf_config_load(bf_config *c, const char *path, char *err, size_t errlen);
/* Loads YAML from memory (tests, built-in defaults). */
int bf_config_load_string(bf_config *c, const char *yaml, const char *name, char *err,
                          size_t errlen);
/* "key=value" override (as --set). */
int bf_config_set(bf_config *c, const char *kv, char *err, size_t errlen);

/* Raw value or def. */
const char *bf_config_str(const bf_config *c, const char *key, const char *def);
bool bf_config_has(const bf_config *c, const char *key);
/* Where an EVE event type's option is set: Beffroi's outputs.eve.TYPE.LEAF,
 * else Suricata's layout outputs.N.eve-log.types.M.TYPE.LEAF.  Returns key
 * (filled in) or NULL when neither is there. */
const char *bf_config_eve_key(const bf_config *c, const char *type, const char *leaf, char *key,
                              size_t klen);
/* "file:line" where key was set, or "--set", or "default". */
const char *bf_config_origin(const bf_config *c, const char *key);

/* Typed getters: return the value (or def when absent).  A present but
 * invalid value logs "config: KEY (ORIGIN): 'VALUE' is not ..." and marks
 * the config bad; def is returned. */
bool bf_config_bool(bf_config *c, const char *key, bool def);
uint64_t bf_config_uint(bf_config *c, const char *key, uint64_t def, uint64_t max);
/* Sizes: "64mb", "1 GiB", "4096", "512kb" (1024-based). */
uint64_t bf_config_size(bf_config *c, const char *key, uint64_t def);
/* Durations in seconds, "30", "30s", "5m", "1h", "250ms" -> microseconds. */
bf_ts bf_config_duration(bf_config *c, const char *key, bf_ts def);

/* Calls fn for each direct child of prefix ("vars.address-groups" -> each
 * group name and its value; a child that is itself a map gets value NULL). */
void bf_config_children(const bf_config *c, const char *prefix,
                        void (*fn)(void *ud, const char *name, const char *value), void *ud);

/* Marks the config bad with a message naming the key (for checks done by
 * modules themselves, e.g. an unknown enum value). */
void bf_config_error(bf_config *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool bf_config_ok(const bf_config *c);

#endif
