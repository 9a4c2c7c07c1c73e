/* SPDX-License-Identifier: GPL-2.0-or-later
 * detect/parse.h: the Suricata rule language -> bf_sig (detect/sig.h).
 *
 * Variables ($HOME_NET, $HTTP_PORTS ...) come from the config's
 * vars.address-groups / vars.port-groups (Suricata's suricata.yaml layout),
 * with Suricata's defaults for the ones not set.  classification.config
 * gives each classtype its description and default priority.
 * Flowbit and flowint names are interned into per-engine tables: a sig
 * stores indexes.
 *
 * A rule that cannot be loaded gives a message (for "file:line: message")
 * and a short reason used to count failures by kind ("unsupported keyword
 * 'dce_iface'", "unsupported protocol 'modbus'", "syntax", "bad value").
 */
#ifndef BF_DETECT_PARSE_H
#define BF_DETECT_PARSE_H

#include "common/config.h"
#include "detect/sig.h"

/* Interned names (flowbits, flowints, byte_extract vars): id = index. */
typedef struct bf_names {
    char **names;
    uint32_t n, cap;
} bf_names;
uint32_t bf_names_intern(bf_names *t, const char *name);   /* returns id */
int64_t bf_names_find(const bf_names *t, const char *name); /* -1 if absent */
void bf_names_free(bf_names *t);

typedef struct bf_classtype {
    char *name, *desc;
    int prio;
} bf_classtype;

typedef struct bf_parse_ctx {
    /* variables: name (without '$') -> value text, as in the config */
    bf_names addr_var_names;
    char **addr_var_values;
    bf_names port_var_names;
    char **port_var_values;
    bf_classtype *classes;
    uint32_t nclasses;
    bf_names flowbits;
    bf_names flowints;
} bf_parse_ctx;

/* Reads vars.address-groups.* and vars.port-groups.* from cfg (may be
 * NULL: Suricata's defaults only).  False (err set, naming the key) on a
 * variable whose value does not parse. */
bool bf_parse_ctx_init(bf_parse_ctx *c, bf_config *cfg, char *err, size_t errlen);
/* Loads a classification.config ("config classification: name,desc,prio"
 * lines).  Without one, Suricata's built-in list is used. */
bool bf_parse_ctx_load_classification(bf_parse_ctx *c, const char *path, char *err,
                                      size_t errlen);
void bf_parse_ctx_free(bf_parse_ctx *c);

/* Parses one rule (no trailing newline needed; comments are the caller's).
 * Returns the sig, or NULL with err (human message) and reason (short
 * category, static or in reason_buf) set. */
bf_sig *bf_sig_parse(bf_parse_ctx *c, const char *text, char *err, size_t errlen,
                     char *reason, size_t reasonlen);

/* One rule file: lines, '\' continuations, comments, blank lines.
 * For each rule that fails, calls on_error(ud, file, line, err, reason);
 * every good one is appended to *sigs (realloc'd, *nsigs updated) with
 * file/line set.  Returns false only when the file cannot be read (err). */
typedef void (*bf_rule_error_fn)(void *ud, const char *file, uint32_t line, const char *err,
                                 const char *reason);
bool bf_rules_load_file(bf_parse_ctx *c, const char *path, bf_sig ***sigs, size_t *nsigs,
                        bf_rule_error_fn on_error, void *ud, char *err, size_t errlen);

/* Name of an action ("alert", "drop" ...) */
const char *bf_sig_action_name(uint8_t action);

#endif
