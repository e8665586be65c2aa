/*
 * hunt.c — `traccia hunt`: read every piece of evidence under the given
 * paths and report. Detection (Sigma rules, indicators) plugs in here as it
 * lands; today the hunt reports what it read: files per format, events, the
 * time range they cover, and everything skipped with the reason.
 */
#include <string.h>
#include <time.h>

#include "cli.h"

static void hunt_usage(FILE *out)
{
    fputs("usage: traccia hunt [options] PATH...\n"
          "\n"
          "Reads every supported file under PATH (files, or folders walked\n"
          "recursively; formats recognised from content, .gz read as is) and\n"
          "prints a summary: files read per format, events, the time range they\n"
          "cover, malformed records skipped, files skipped and why, throughput.\n"
          "Problems are reported on standard error as they are met; one bad file\n"
          "or record never stops the hunt.\n"
          "\n"
          "options:\n"
          "  --recover      also read deleted records left in the slack space of EVTX\n"
          "                 chunks and chunks carved off the 64 KiB grid (counted\n"
          "                 as records recovered)\n"
          "  -v, --verbose  also name every skipped file and the reason\n"
          "  -q, --quiet    report only errors on standard error\n"
          "  -h, --help     this help\n"
          "\n"
          "exit status: 0 the hunt ran, 1 usage error, 2 no input could be read.\n",
          out);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(unsigned long long v, char *buf, size_t sz)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < sz; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_summary(const tr_scan_stats *s, double secs, bool verbose, bool recover)
{
    char a[32], b[32], t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
    printf("traccia %s hunt summary\n", tr_version());
    printf("  files read:       %s", grouped(s->files_read, a, sizeof a));
    const char *sep = " (";
    for (size_t i = 0; tr_format_name(i); i++) {
        if (!s->per_format_files[i])
            continue;
        printf("%s%s %llu", sep, tr_format_name(i), (unsigned long long)s->per_format_files[i]);
        sep = ", ";
    }
    printf("%s\n", strcmp(sep, ", ") == 0 ? ")" : "");
    if (s->files_damaged)
        printf("  files damaged:    %s (read in part; see the errors above)\n",
               grouped(s->files_damaged, a, sizeof a));
    printf("  files skipped:    %s", grouped(s->files_skipped, a, sizeof a));
    if (s->files_skipped) {
        sep = " (";
        for (size_t i = 0; tr_format_name(i); i++) {
            if (!s->per_format_skipped[i])
                continue;
            printf("%s%llu %s: no reader yet", sep, (unsigned long long)s->per_format_skipped[i], tr_format_name(i));
            sep = ", ";
        }
        const struct {
            unsigned long long n;
            const char *why;
        } why[] = {{s->skip_unknown, "format not recognised"},
                   {s->skip_empty, "empty"},
                   {s->skip_io, "unreadable"}};
        for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
            if (!why[i].n)
                continue;
            printf("%s%llu %s", sep, why[i].n, why[i].why);
            sep = ", ";
        }
        printf(")%s", verbose ? "" : "; -v names them");
    }
    printf("\n");
    if (s->paths_missing)
        printf("  paths missing:    %s\n", grouped(s->paths_missing, a, sizeof a));
    printf("  events:           %s", grouped(s->events, a, sizeof a));
    if (s->events_untimed)
        printf(" (%s without a timestamp)", grouped(s->events_untimed, b, sizeof b));
    printf("\n");
    if (s->first_time != TR_TIME_NONE) {
        tr_time_format(s->first_time, t1);
        tr_time_format(s->last_time, t2);
        printf("  time range:       %s .. %s\n", t1, t2);
    }
    for (size_t i = 0; tr_format_name(i); i++)
        if (s->per_format_events[i])
            printf("  events (%s):%*s%s\n", tr_format_name(i), (int)(10 - strlen(tr_format_name(i))), "",
                   grouped(s->per_format_events[i], a, sizeof a));
    printf("  records skipped:  %s (malformed)\n", grouped(s->records_skipped, a, sizeof a));
    if (recover)
        printf("  recovered:        %s (deleted records, carved chunks; counted in events)\n",
               grouped(s->records_recovered, a, sizeof a));
    if (s->values_repaired)
        printf("  values repaired:  %s (invalid UTF-8 replaced)\n", grouped(s->values_repaired, a, sizeof a));
    double mb = (double)s->bytes_read / 1e6;
    printf("  input:            %.1f MB in %.2f s (%.0f MB/s, %s events/s)\n", mb, secs,
           secs > 0 ? mb / secs : 0.0,
           grouped((unsigned long long)(secs > 0 ? (double)s->events / secs : 0.0), a, sizeof a));
}

int cmd_hunt(int argc, char **argv)
{
    cli_diag_opts diag = {0};
    unsigned flags = 0;
    int first_path = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            hunt_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--recover") == 0) {
            flags |= TR_SCAN_RECOVER;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            diag.verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            diag.quiet = true;
        } else if (strcmp(a, "--") == 0) {
            first_path = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "traccia hunt: unknown option '%s'\n", a);
            hunt_usage(stderr);
            return TR_EXIT_USAGE;
        } else {
            first_path = i;
            break;
        }
    }
    if (!first_path || first_path >= argc) {
        fprintf(stderr, "traccia hunt: no PATH given\n");
        hunt_usage(stderr);
        return TR_EXIT_USAGE;
    }
    tr_scan *scan;
    tr_scan_options opts = {.on_diag = cli_print_diag, .user = &diag, .flags = flags};
    if (tr_scan_create(&scan, &opts)) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    double t0 = now_seconds();
    int rc = TR_EXIT_OK;
    for (int i = first_path; i < argc; i++) {
        if (tr_scan_path(scan, argv[i]) == TR_ERR_NOMEM) {
            fprintf(stderr, "traccia: out of memory\n");
            rc = TR_EXIT_NO_INPUT;
            break;
        }
    }
    const tr_scan_stats *s = tr_scan_get_stats(scan);
    print_summary(s, now_seconds() - t0, diag.verbose, (flags & TR_SCAN_RECOVER) != 0);
    if (rc == TR_EXIT_OK && s->files_read == 0) {
        fprintf(stderr, "traccia: no input could be read (%llu file(s) found)\n", (unsigned long long)s->files_seen);
        rc = TR_EXIT_NO_INPUT;
    }
    tr_scan_destroy(scan);
    return rc;
}
