/* SPDX-License-Identifier: GPL-2.0-or-later
 * libFuzzer target: the smb analyzer alone, both directions, arbitrary
 * delivery boundaries and gaps (record format in app_fuzz.h), with a
 * BF_BUS_SMB_FILE subscriber that reads every payload
 * in full (strings, file id) so a bad pointer or length shows up. */
#include "app/smb/smb.h"
#include "app_fuzz.h"

static void fuzz_smb_file(void *ud, const bf_bus_msg *m)
{
    (void)ud;
    const bf_smb_file_event *e = m->data;
    uint32_t h = (uint32_t)e->op + e->length + (uint32_t)e->offset + (uint32_t)e->entropy;
    const char *s[] = {e->user, e->share, e->name, e->new_name};
    for (unsigned k = 0; k < 4; k++)
        h += s[k] ? (uint32_t)strlen(s[k]) : 0;
    for (unsigned k = 0; k < 16; k++)
        h += e->fid[k];
    app_fuzz_sink += h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const app_fuzz_opts o = {.server_port = 445,
                                    .anomaly_events = true,
                                    .extra_type = BF_BUS_SMB_FILE,
                                    .extra_fn = fuzz_smb_file};
    return app_fuzz_run_opts(&bf_parser_smb, data, size, &o);
}
