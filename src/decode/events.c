/* SPDX-License-Identifier: GPL-2.0-or-later
 * decode/events.c: event id <-> name tables built from events.def. */
#include "decode/events.h"

#include <string.h>

static const struct {
    const char *name;
    enum bf_event_layer layer;
} table[BF_EV_MAX] = {
    [BF_EV_NONE] = {NULL, BF_EVL_DECODE},
#define BF_EV(id, nm, ly) [BF_EV_##id] = {nm, ly},
#include "decode/events.def"
#undef BF_EV
};

const char *bf_event_name(uint16_t id)
{
    return id < BF_EV_MAX ? table[id].name : NULL;
}

enum bf_event_layer bf_event_layer(uint16_t id)
{
    return id < BF_EV_MAX ? table[id].layer : BF_EVL_DECODE;
}

uint16_t bf_event_lookup(enum bf_event_layer layer, const char *name)
{
    static const char *prefix[] = {"decoder.", "stream.", ""};
    size_t pl = strlen(prefix[layer]);
    for (uint16_t i = 1; i < BF_EV_MAX; i++) {
        if (table[i].layer != layer || !table[i].name)
            continue;
        if (strcmp(table[i].name + pl, name) == 0 || strcmp(table[i].name, name) == 0)
            return i;
    }
    return 0;
}
