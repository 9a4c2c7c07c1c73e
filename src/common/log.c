/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/log.c: stderr diagnostics, one whole line per call. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

int bf_log_verbosity = BF_LOG_INFO;

void bf_log(enum bf_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if ((int)lvl > bf_log_verbosity)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "beffroi: %s: ", names[lvl]);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line); /* one stdio call: lines do not interleave */
}
