/* SPDX-License-Identifier: GPL-2.0-or-later
 * tests/detect/etopen_load: loads rule files with bf_rules_load_file and
 * prints loaded / failed counts, failures by reason, and the time taken.
 *
 *   etopen_load [-v] [-f min_percent] [--default|--sv] [SHARED_DIR | files...]
 *
 * Without files: every SHARED_DIR/rules/et-open/ .rules file (SHARED_DIR
 * defaults to $BF_SHARED or ../shared); --default: only the files listed in
 * default-rule-files.txt; --sv: every .rules file under suricata-verify/tests
 * (each failure printed).  Exits 77 (skip) when the shared folder is
 * absent, 1 when fewer than min_percent of the rules load. */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "detect/parse.h"

typedef struct {
    char reason[128];
    unsigned count;
    char example[256];
} rstat;

static rstat reasons[512];
static unsigned nreasons, nfailed;
static int verbose;

static void on_err(void *ud, const char *file, uint32_t line, const char *err, const char *reason)
{
    (void)ud;
    nfailed++;
    if (verbose)
        printf("  FAIL %s:%u: %s [%s]\n", file, line, err, reason);
    for (unsigned i = 0; i < nreasons; i++)
        if (strcmp(reasons[i].reason, reason) == 0) {
            reasons[i].count++;
            return;
        }
    if (nreasons < 512) {
        snprintf(reasons[nreasons].reason, sizeof reasons[0].reason, "%s", reason);
        snprintf(reasons[nreasons].example, sizeof reasons[0].example, "%s:%u: %s", file, line,
                 err);
        reasons[nreasons++].count = 1;
    }
}

static int cmp_reason(const void *a, const void *b)
{
    const rstat *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static char **files;
static size_t nfiles;
static void add_file(const char *p)
{
    files = realloc(files, (nfiles + 1) * sizeof(*files));
    files[nfiles++] = strdup(p);
}

static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(p);
        else if (strlen(e->d_name) > 6 && strcmp(e->d_name + strlen(e->d_name) - 6, ".rules") == 0)
            add_file(p);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *shared = getenv("BF_SHARED");
    char defshared[4096];
    if (!shared) {
        const char *src = getenv("BF_SRC");
        snprintf(defshared, sizeof defshared, "%s/../shared", src ? src : ".");
        shared = defshared;
    }
    double min_pct = 0;
    int mode = 0; /* 0 all et-open, 1 default list, 2 suricata-verify */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "--default") == 0)
            mode = 1;
        else if (strcmp(argv[i], "--sv") == 0)
            mode = 2, verbose = 1;
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            min_pct = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [-v] [-f min_percent] [--default|--sv] [SHARED_DIR | "
                            "files...]\n", argv[0]);
            return 2;
        }
    }
    if (i < argc) {
        struct stat st;
        if (argc - i == 1 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            shared = argv[i];
        else
            for (; i < argc; i++)
                add_file(argv[i]);
    }
    char et[4400];
    snprintf(et, sizeof et, "%s/rules/et-open", shared);
    if (!nfiles) {
        struct stat st;
        if (stat(shared, &st) != 0) {
            printf("SKIP: %s absent (no shared rules)\n", shared);
            return 77;
        }
        if (mode == 0) {
            char pat[4800];
            snprintf(pat, sizeof pat, "%s/*.rules", et);
            glob_t g;
            if (glob(pat, 0, NULL, &g) == 0)
                for (size_t k = 0; k < g.gl_pathc; k++)
                    add_file(g.gl_pathv[k]);
            globfree(&g);
        } else if (mode == 1) {
            char lp[4800], line[512];
            snprintf(lp, sizeof lp, "%s/default-rule-files.txt", et);
            FILE *f = fopen(lp, "r");
            if (!f) {
                printf("SKIP: %s absent\n", lp);
                return 77;
            }
            while (fgets(line, sizeof line, f)) {
                char *t = strtok(line, " \t\r\n");
                if (!t || *t == '#')
                    continue;
                char p[5400];
                snprintf(p, sizeof p, "%s/%s", et, t);
                struct stat s2;
                if (stat(p, &s2) == 0)
                    add_file(p);
                else
                    printf("  (not in et-open: %s)\n", t);
            }
            fclose(f);
        } else {
            char d[4800];
            snprintf(d, sizeof d, "%s/suricata-verify/tests", shared);
            walk(d);
            qsort(files, nfiles, sizeof(*files), cmp_str);
        }
        if (!nfiles) {
            printf("SKIP: no rule files found under %s\n", shared);
            return 77;
        }
    }
    char err[512];
    bf_parse_ctx c;
    if (!bf_parse_ctx_init(&c, NULL, err, sizeof err)) {
        fprintf(stderr, "ctx: %s\n", err);
        return 1;
    }
    char cls[4800];
    snprintf(cls, sizeof cls, "%s/classification.config", et);
    if (mode != 2 && !bf_parse_ctx_load_classification(&c, cls, err, sizeof err))
        printf("(no classification.config: built-in list)\n");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bf_sig **sigs = NULL;
    size_t nsigs = 0;
    for (size_t k = 0; k < nfiles; k++)
        if (!bf_rules_load_file(&c, files[k], &sigs, &nsigs, on_err, NULL, err, sizeof err))
            fprintf(stderr, "%s\n", err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    unsigned total = (unsigned)nsigs + nfailed;
    double pct = total ? 100.0 * (double)nsigs / total : 100.0;
    printf("%zu files: %zu loaded, %u failed of %u (%.2f%%) in %.2f s; %u flowbits, %u flowints\n",
           nfiles, nsigs, nfailed, total, pct, sec, c.flowbits.n, c.flowints.n);
    qsort(reasons, nreasons, sizeof reasons[0], cmp_reason);
    for (unsigned k = 0; k < nreasons; k++)
        printf("  %6u  %-40s e.g. %s\n", reasons[k].count, reasons[k].reason, reasons[k].example);
    for (size_t k = 0; k < nsigs; k++)
        bf_sig_free(sigs[k]);
    free(sigs);
    for (size_t k = 0; k < nfiles; k++)
        free(files[k]);
    free(files);
    bf_parse_ctx_free(&c);
    return pct + 1e-9 < min_pct ? 1 : 0;
}
