/*
 * ioc.c — `traccia ioc check FILE...`: load indicator files the way a hunt
 * would (STIX 2.1 bundles, MISP events and feeds, CSV and plain lists) and
 * say what loaded, by type and by source, and what did not and why.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void ioc_usage(FILE *out)
{
    fputs("usage: traccia ioc check [options] FILE...\n"
          "\n"
          "Loads indicator files (formats recognised from content): STIX 2.1 bundles,\n"
          "MISP event JSON, MISP feed folders (manifest.json), CSV and plain-text\n"
          "lists (one indicator per line, type detected, defanged forms accepted).\n"
          "Every indicator that does not load is named on standard error with its\n"
          "file, line or id, and the reason; then the counts, by type and by file.\n"
          "Exit status 0 when every indicator loaded, 2 when some did not or no\n"
          "file could be read.\n"
          "\n"
          "options:\n"
          "  --list         also print every indicator: id, type, value, file (tab-separated)\n"
          "  --run-report FILE  also write what loaded and what did not as JSON\n"
          "  -q, --quiet    the counts, and only the first few problems\n"
          "  -h, --help     this help\n",
          out);
}

static void print_types(const tr_ioc_counts *c)
{
    const char *sep = "";
    for (int t = 0; t < TR_IOC_TYPE_COUNT; t++) {
        if (!c->per_type[t])
            continue;
        printf("%s%s %llu", sep, tr_ioc_type_name(t), (unsigned long long)c->per_type[t]);
        sep = ", ";
    }
}

int cmd_ioc(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        ioc_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TR_EXIT_USAGE : TR_EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "traccia ioc: unknown subcommand '%s'\n", argv[1]);
        ioc_usage(stderr);
        return TR_EXIT_USAGE;
    }
    cli_diag_opts diag = {0};
    diag.verbose = true; /* naming each indicator that did not load is what check is for */
    const char *report_path = NULL;
    bool list = false;
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    bool only_files = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !a[1]) {
            files[nfiles++] = a;
        } else if (cli_is_help(a)) {
            ioc_usage(stdout);
            free(files);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--list") == 0) {
            list = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            diag.quiet = true;
            diag.verbose = false;
        } else if (strcmp(a, "--run-report") == 0 && i + 1 < argc) {
            report_path = argv[++i];
        } else if (strcmp(a, "--") == 0) {
            only_files = true;
        } else {
            fprintf(stderr, "traccia ioc: unknown option '%s'\n", a);
            free(files);
            return TR_EXIT_USAGE;
        }
    }
    if (!nfiles) {
        fprintf(stderr, "traccia ioc check: no FILE given\n");
        free(files);
        return TR_EXIT_USAGE;
    }
    if (report_path && tr_run_report_create(&diag.report, "ioc check", argc, argv) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        free(files);
        return TR_EXIT_NO_INPUT;
    }
    tr_iocset *set;
    tr_iocset_options o = {cli_print_diag, &diag};
    if (tr_iocset_create(&set, &o) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        free(files);
        return TR_EXIT_NO_INPUT;
    }
    int rc = TR_EXIT_OK;
    unsigned long missing = 0;
    for (size_t i = 0; i < nfiles; i++) {
        tr_status s = tr_iocset_add_path(set, files[i]);
        if (s == TR_ERR_NOTFOUND) {
            missing++;
        } else if (s == TR_ERR_NOMEM) {
            fprintf(stderr, "traccia: out of memory while loading indicators\n");
            tr_iocset_destroy(set);
            free(files);
            return TR_EXIT_NO_INPUT;
        }
    }
    free(files);
    cli_diag_flush_rules(&diag, "traccia ioc check without -q");
    if (tr_iocset_compile(set) != TR_OK) {
        fprintf(stderr, "traccia: out of memory while compiling indicators\n");
        tr_iocset_destroy(set);
        return TR_EXIT_NO_INPUT;
    }
    const tr_iocset_stats *st = tr_iocset_get_stats(set);
    const tr_ioc_counts *c = &st->counts;
    if (list) {
        for (size_t i = 0; i < tr_iocset_count(set); i++) {
            const tr_rule_info *r = tr_iocset_indicator(set, i);
            const char *v = tr_iocset_indicator_value(set, i);
            if (!r || !r->runnable)
                continue;
            printf("%s\t%s\t%s\t%s\n", r->id, tr_ioc_type_name(tr_iocset_indicator_type(set, i)), v ? v : "",
                   r->path);
        }
    }
    printf("indicator files:    %llu", (unsigned long long)st->files);
    if (st->files_failed || missing)
        printf(" (%llu could not be read or recognised, %lu missing)", (unsigned long long)st->files_failed, missing);
    printf("\nindicators loaded:  %llu", (unsigned long long)c->loaded);
    if (c->loaded) {
        printf(" (");
        print_types(c);
        printf(")");
    }
    printf("\nnot loaded:         %llu", (unsigned long long)c->rejected);
    if (c->rejected)
        printf(" (%llu of them not supported; %s)", (unsigned long long)c->unsupported,
               diag.verbose ? "each named above with its reason" : "run without -q for each one and why");
    printf("\n");
    if (c->duplicates)
        printf("duplicates:         %llu (the same value again in one file, counted once)\n",
               (unsigned long long)c->duplicates);
    if (c->not_ids)
        printf("MISP not for IDS:   %llu (to_ids false, left out as MISP says)\n", (unsigned long long)c->not_ids);
    if (c->revoked)
        printf("STIX revoked:       %llu (left out)\n", (unsigned long long)c->revoked);
    printf("distinct values:    %llu\n", (unsigned long long)st->keys);
    if (tr_iocset_source_count(set))
        printf("by file:\n");
    for (size_t i = 0; i < tr_iocset_source_count(set); i++) {
        const tr_ioc_source *s = tr_iocset_source(set, i);
        printf("  %s [%s]: %llu loaded", s->path, tr_ioc_format_name(s->format), (unsigned long long)s->counts.loaded);
        if (s->counts.rejected)
            printf(", %llu not loaded", (unsigned long long)s->counts.rejected);
        if (s->counts.loaded) {
            printf(" (");
            print_types(&s->counts);
            printf(")");
        }
        printf("\n");
    }
    if (c->rejected || st->files_failed || missing || c->loaded == 0)
        rc = TR_EXIT_NO_INPUT;
    if (diag.report)
        tr_run_report_indicators(diag.report, set);
    rc = cli_write_run_report(&diag, report_path, rc);
    tr_iocset_destroy(set);
    tr_run_report_destroy(diag.report);
    cli_diag_free(&diag);
    return rc;
}
