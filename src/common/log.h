/* SPDX-License-Identifier: GPL-2.0-or-later
 * common/log: diagnostics on stderr.  Errors and warnings always show;
 * info is silenced by -q. */
#ifndef BF_COMMON_LOG_H
#define BF_COMMON_LOG_H

enum bf_log_level { BF_LOG_ERROR, BF_LOG_WARN, BF_LOG_INFO, BF_LOG_DEBUG };

extern int bf_log_verbosity; /* highest level printed; default BF_LOG_INFO */

void bf_log(enum bf_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define bf_err(...) bf_log(BF_LOG_ERROR, __VA_ARGS__)
#define bf_warn(...) bf_log(BF_LOG_WARN, __VA_ARGS__)
#define bf_info(...) bf_log(BF_LOG_INFO, __VA_ARGS__)
#define bf_debug(...) bf_log(BF_LOG_DEBUG, __VA_ARGS__)

#endif
