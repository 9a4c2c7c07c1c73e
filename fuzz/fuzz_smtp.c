/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the smtp analyzer (commands, replies, AUTH, BDAT and
 * the MIME parser) alone, both directions, arbitrary delivery boundaries
 * and gaps (record format in app_fuzz.h). */
#include "app/smtp/smtp.h"
#include "app_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return app_fuzz_run(&bf_parser_smtp, data, size);
}
