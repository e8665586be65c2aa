/*
 * case.c — `traccia case`: the questions asked of a case a hunt wrote
 * (`traccia hunt --case CASE.db`): summary, hosts, timeline, evidence, problems. The
 * library answers (tr_case_write_*); this file reads the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void case_usage(FILE *out)
{
    fputs("usage: traccia case summary|hosts|timeline|evidence|problems [options] CASE.db\n"
          "\n"
          "Answers from a case written by 'traccia hunt --case CASE.db' (docs/CASE.md):\n"
          "  summary    hosts touched, first trace, last activity, findings by level,\n"
          "             evidence read, hunts run\n"
          "  hosts      per host: first trace (and the finding it rests on), last\n"
          "             activity, dwell time, findings by level, top techniques;\n"
          "             sorted by first trace\n"
          "  timeline   every finding, merged and in time order\n"
          "  evidence   the inventory: path, size, SHA-256, format, records, time\n"
          "             range, status (chain of custody)\n"
          "  problems   everything said about the evidence when it was last read:\n"
          "             damage, limits hit, files skipped and why\n"
          "\n"
          "options:\n"
          "  --json               one JSON document (every subcommand)\n"
          "  --jsonl, --csv       JSON lines or CSV (timeline, evidence, problems)\n"
          "  --host NAME          only this host (name, FQDN or key)\n"
          "  --from TIME, --to TIME   timeline: only findings in this span\n"
          "  --min-level LEVEL    timeline: only findings at this level or above\n"
          "  --trace-level LEVEL  the level a finding needs to count as a trace by\n"
          "                       itself (default medium; docs/CASE.md)\n"
          "  -h, --help           this help\n"
          "\n"
          "exit status: 0 answered, 1 usage error, 2 the case could not be read.\n",
          out);
}

static int parse_level(const char *opt, const char *v, int *out)
{
    *out = tr_level_parse(v);
    if (*out <= 0) {
        fprintf(stderr, "traccia case: %s takes informational, low, medium, high or critical\n", opt);
        return -1;
    }
    return 0;
}

int cmd_case(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        case_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TR_EXIT_USAGE : TR_EXIT_OK;
    }
    const char *sub = argv[1];
    tr_status (*fn)(tr_case *, const tr_case_query *, int, FILE *) = NULL;
    if (strcmp(sub, "summary") == 0)
        fn = tr_case_write_summary;
    else if (strcmp(sub, "hosts") == 0)
        fn = tr_case_write_hosts;
    else if (strcmp(sub, "timeline") == 0)
        fn = tr_case_write_timeline;
    else if (strcmp(sub, "evidence") == 0)
        fn = tr_case_write_evidence;
    else if (strcmp(sub, "problems") == 0)
        fn = tr_case_write_problems;
    if (!fn) {
        fprintf(stderr, "traccia case: unknown question '%s'\n", sub);
        case_usage(stderr);
        return TR_EXIT_USAGE;
    }
    tr_case_query q = {.from = TR_TIME_NONE, .to = TR_TIME_NONE};
    int as = TR_CASE_TEXT;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (cli_is_help(a)) {
            case_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            as = TR_CASE_JSON;
        } else if (strcmp(a, "--jsonl") == 0 || strcmp(a, "--csv") == 0) {
            if (fn == tr_case_write_summary || fn == tr_case_write_hosts) {
                fprintf(stderr, "traccia case: %s is for timeline, evidence and problems; %s takes --json\n", a, sub);
                return TR_EXIT_USAGE;
            }
            as = strcmp(a, "--csv") == 0 ? TR_CASE_CSV : TR_CASE_JSONL;
        } else if ((strcmp(a, "--host") == 0 || strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0 ||
                    strcmp(a, "--min-level") == 0 || strcmp(a, "--trace-level") == 0) &&
                   !has_value) {
            fprintf(stderr, "traccia case: %s needs a value\n", a);
            return TR_EXIT_USAGE;
        } else if (strcmp(a, "--host") == 0) {
            q.host = argv[++i];
        } else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            const char *v = argv[++i];
            tr_time *t = a[2] == 'f' ? &q.from : &q.to;
            if (tr_time_parse(v, strlen(v), t) != TR_OK) {
                fprintf(stderr, "traccia case: %s '%s' is not an ISO 8601 time\n", a, v);
                return TR_EXIT_USAGE;
            }
        } else if (strcmp(a, "--min-level") == 0) {
            if (parse_level(a, argv[++i], &q.min_level))
                return TR_EXIT_USAGE;
        } else if (strcmp(a, "--trace-level") == 0) {
            if (parse_level(a, argv[++i], &q.trace_level))
                return TR_EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "traccia case: unknown option '%s'\n", a);
            return TR_EXIT_USAGE;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "traccia case: one CASE.db at a time ('%s' and '%s')\n", path, a);
            return TR_EXIT_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "traccia case: no CASE.db given\n");
        case_usage(stderr);
        return TR_EXIT_USAGE;
    }
    tr_case *c;
    char err[512];
    tr_status st = tr_case_open(&c, path, 0, err, sizeof err);
    if (st != TR_OK) {
        fprintf(stderr, "traccia case: %s: %s\n", path, err);
        return TR_EXIT_NO_INPUT;
    }
    st = fn(c, &q, as, stdout);
    int rc = TR_EXIT_OK;
    if (st == TR_ERR_IO) {
        fprintf(stderr, "traccia case: writing the answer failed\n");
        rc = TR_EXIT_NO_INPUT;
    } else if (st != TR_OK) {
        fprintf(stderr, "traccia case: %s: %s\n", path, *tr_case_error(c) ? tr_case_error(c) : tr_strerror(st));
        rc = TR_EXIT_NO_INPUT;
    }
    tr_case_close(c);
    return rc;
}
