/* SPDX-License-Identifier: GPL-2.0-or-later
 * app/bus.c: subscriber registration (see bus.h). */
#include "app/bus.h"

void bf_bus_init(bf_bus *b) { memset(b, 0, sizeof *b); }

bool bf_bus_subscribe(bf_bus *b, enum bf_bus_type t, bf_bus_fn fn, void *ud)
{
    if ((unsigned)t >= BF_BUS_MAX || b->nsubs[t] >= BF_BUS_MAX_SUBS)
        return false;
    b->subs[t][b->nsubs[t]].fn = fn;
    b->subs[t][b->nsubs[t]].ud = ud;
    b->nsubs[t]++;
    return true;
}
