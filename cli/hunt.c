/*
 * hunt.c — `traccia hunt`: read every piece of evidence under the given
 * paths, run every Sigma rule (the built-in pack and --rules paths) over
 * every event, and report: detections (as JSON lines with --jsonl), a
 * summary of what fired, and what was read and skipped and why.
 */
#include <stdlib.h>
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
          "  -r, --rules PATH     also run the Sigma rules under PATH (repeatable); the\n"
          "                       built-in pack always runs unless --no-builtin\n"
          "  --logsources FILE    add a logsource mapping (docs/LOGSOURCES.md)\n"
          "  --placeholders FILE  values for the %placeholders% of |expand rules\n"
          "  --no-builtin         leave out the built-in rule pack\n"
          "  --jsonl FILE         write every detection as a JSON line ('-': stdout)\n"
          "  --no-prefilter       evaluate every rule in full (for measurements)\n"
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

typedef struct hunt_state hunt_state;
typedef struct hunt_diag {
    cli_diag_opts *diag;
    hunt_state *h;
} hunt_diag;

static void hunt_print_diag(void *user, const tr_diag *d)
{
    cli_print_diag(((hunt_diag *)user)->diag, d);
}

struct hunt_state {
    tr_matcher *matcher;
    FILE *jsonl;
    const tr_ruleset *rs;
    unsigned long long *per_rule; /* detections per rule index */
    unsigned long long per_level[TR_LEVEL_CRITICAL + 1];
    unsigned long long total;
    tr_time first, last;
    int write_failed;
};

static void on_detection(void *user, const tr_detection *d)
{
    hunt_state *h = user;
    h->total++;
    h->per_level[d->rule->level >= 0 && d->rule->level <= TR_LEVEL_CRITICAL ? d->rule->level : 0]++;
    h->per_rule[d->rule->index]++;
    if (d->time != TR_TIME_NONE) {
        if (h->first == TR_TIME_NONE || d->time < h->first)
            h->first = d->time;
        if (h->last == TR_TIME_NONE || d->time > h->last)
            h->last = d->time;
    }
    if (h->jsonl && !h->write_failed && tr_detection_write_json(h->jsonl, d) != TR_OK)
        h->write_failed = 1;
}

static int on_batch(void *user, const tr_batch *b)
{
    hunt_state *h = ((hunt_diag *)user)->h;
    for (size_t i = 0; i < b->count; i++)
        tr_matcher_event(h->matcher, b->events[i], on_detection, h);
    return 0;
}

static int cmp_count(const void *a, const void *b, void *ctx)
{
    const unsigned long long *c = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (c[x] != c[y])
        return c[x] < c[y] ? 1 : -1;
    return x < y ? -1 : x > y;
}

static void print_detections(const hunt_state *h)
{
    char a[32], t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
    printf("  detections:       %s", grouped(h->total, a, sizeof a));
    const char *sep = " (";
    for (int l = TR_LEVEL_CRITICAL; l >= 0; l--) {
        if (!h->per_level[l])
            continue;
        printf("%s%s %llu", sep, l ? tr_level_name(l) : "no level", h->per_level[l]);
        sep = ", ";
    }
    printf("%s\n", strcmp(sep, ", ") == 0 ? ")" : "");
    if (h->first != TR_TIME_NONE) {
        tr_time_format(h->first, t1);
        tr_time_format(h->last, t2);
        printf("  detected:         %s .. %s\n", t1, t2);
    }
    size_t n = tr_ruleset_count(h->rs), nz = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return;
    for (size_t i = 0; i < n; i++)
        if (h->per_rule[i])
            idx[nz++] = i;
    qsort_r(idx, nz, sizeof *idx, cmp_count, h->per_rule);
    for (size_t k = 0; k < nz && k < 15; k++) {
        const tr_rule_info *r = tr_ruleset_rule(h->rs, idx[k]);
        printf("  %8llu  %-13s %s\n", h->per_rule[idx[k]], r->level ? tr_level_name(r->level) : "-", r->title);
    }
    if (nz > 15)
        printf("  ... and %zu more rules\n", nz - 15);
    free(idx);
}

int cmd_hunt(int argc, char **argv)
{
    cli_diag_opts diag = {0};
    unsigned flags = 0;
    int first_path = 0;
    cli_rules_opts ropts = {0};
    const char *jsonl_path = NULL;
    unsigned match_flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_rules_option(argc, argv, &i, &ropts);
        if (r < 0)
            return TR_EXIT_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            hunt_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--jsonl") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "traccia hunt: --jsonl needs a file name ('-' for stdout)\n");
                return TR_EXIT_USAGE;
            }
            jsonl_path = argv[++i];
        } else if (strcmp(a, "--no-prefilter") == 0) {
            match_flags |= TR_MATCH_NO_PREFILTER;
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
    hunt_state h = {.first = TR_TIME_NONE, .last = TR_TIME_NONE};
    tr_ruleset *rs;
    int lrc = cli_load_rules(&ropts, cli_print_diag, &diag, &rs);
    if (lrc != TR_EXIT_OK)
        return lrc;
    h.rs = rs;
    h.per_rule = calloc(tr_ruleset_count(rs) + 1, sizeof *h.per_rule);
    if (!h.per_rule || tr_matcher_create(&h.matcher, rs, match_flags) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        free(h.per_rule);
        tr_ruleset_destroy(rs);
        return TR_EXIT_NO_INPUT;
    }
    if (jsonl_path) {
        h.jsonl = strcmp(jsonl_path, "-") == 0 ? stdout : fopen(jsonl_path, "w");
        if (!h.jsonl) {
            fprintf(stderr, "traccia hunt: cannot write %s\n", jsonl_path);
            tr_matcher_destroy(h.matcher);
            free(h.per_rule);
            tr_ruleset_destroy(rs);
            return TR_EXIT_USAGE;
        }
    }
    tr_scan *scan;
    tr_scan_options opts = {.on_batch = on_batch, .on_diag = cli_print_diag, .user = &diag, .flags = flags};
    hunt_diag hd = {&diag, &h};
    opts.user = &hd;
    opts.on_diag = hunt_print_diag;
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
    tr_matcher_flush(h.matcher, on_detection, &h);
    const tr_scan_stats *s = tr_scan_get_stats(scan);
    FILE *summary_out = h.jsonl == stdout ? stderr : stdout;
    FILE *saved = stdout;
    stdout = summary_out;
    print_summary(s, now_seconds() - t0, diag.verbose, (flags & TR_SCAN_RECOVER) != 0);
    const tr_ruleset_stats *rstat = tr_ruleset_get_stats(rs);
    printf("  rules:            %llu loaded, %llu not loaded, %llu not run (traccia rules check names them)\n",
           (unsigned long long)rstat->loaded, (unsigned long long)rstat->failed,
           (unsigned long long)rstat->not_runnable);
    print_detections(&h);
    fflush(stdout);
    stdout = saved;
    if (h.jsonl && h.jsonl != stdout) {
        if (fclose(h.jsonl) != 0)
            h.write_failed = 1;
    } else if (h.jsonl) {
        fflush(h.jsonl);
    }
    if (h.write_failed)
        fprintf(stderr, "traccia: error: writing %s failed\n", jsonl_path);
    tr_matcher_destroy(h.matcher);
    free(h.per_rule);
    if (rc == TR_EXIT_OK && s->files_read == 0) {
        fprintf(stderr, "traccia: no input could be read (%llu file(s) found)\n", (unsigned long long)s->files_seen);
        rc = TR_EXIT_NO_INPUT;
    }
    tr_scan_destroy(scan);
    tr_ruleset_destroy(rs);
    return rc;
}
