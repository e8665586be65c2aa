/*
 * hunt.c — `traccia hunt`: the responder's command. Parses the options,
 * loads the rules (the built-in pack and --rules paths), runs the hunt
 * (tr_hunt_run: parallel, ordered), draws a progress bar on a terminal,
 * and prints the summary: what fired, where, since when, and what was read
 * and skipped and why. Detections go to --jsonl and --csv.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void hunt_usage(FILE *out)
{
    fputs("usage: traccia hunt [options] PATH...\n"
          "\n"
          "Reads every supported file under PATH (files, or folders walked\n"
          "recursively; formats recognised from content, .gz read as is), runs\n"
          "every Sigma rule over every event, and prints a summary: detections by\n"
          "level, the top rules, detections per computer, the first and last\n"
          "detection, files read and skipped with the reasons, events read and\n"
          "throughput. Standard error gets a few counted lines: rules that will\n"
          "not run by cause, the first problems with the evidence (the summary\n"
          "names every damaged file up to ten); -v prints each. One bad file or\n"
          "record never stops the hunt.\n"
          "\n"
          "rules:\n"
          "  -r, --rules PATH     also run the Sigma rules under PATH (repeatable), e.g.\n"
          "                       a SigmaHQ checkout; the built-in pack always runs\n"
          "  --no-builtin         leave out the built-in rule pack\n"
          "  --regex-match-limit N  steps a regular expression may take on one value\n"
          "                       (default 10,000,000); past it the rule is reported cut short\n"
          "  --regex-depth-limit N  backtracking depth likewise (default 10,000,000)\n"
          "  --logsources FILE    add a logsource mapping (docs/LOGSOURCES.md)\n"
          "  --placeholders FILE  values for the %placeholders% of |expand rules\n"
          "\n"
          "indicators (docs/IOC.md):\n"
          "  --ioc FILE           also sweep for the indicators in FILE (STIX 2.1, MISP event\n"
          "                       or feed folder, CSV or plain list; repeatable), in the same pass\n"
          "  --stix-out FILE      write the sightings as a STIX 2.1 bundle\n"
          "\n"
          "findings (docs/OUTPUT.md):\n"
          "  --jsonl FILE         every detection as a JSON line ('-': standard output)\n"
          "  --csv FILE           every detection as a CSV timeline row (Timesketch)\n"
          "\n"
          "the case (docs/CASE.md):\n"
          "  --case FILE          also record evidence, hosts and findings in the case FILE\n"
          "                       (SQLite, created when missing); files it holds unchanged\n"
          "                       are not read again, grown logs only from where they ended\n"
          "  --full               with --case: read every file again (no finding is added twice)\n"
          "\n"
          "filters:\n"
          "  --from TIME, --to TIME   only events in this span (ISO 8601, UTC if no offset)\n"
          "  --min-level LEVEL    informational, low, medium, high or critical\n"
          "  --status LIST        rule statuses to keep, comma-separated (e.g. stable,test)\n"
          "  --tags LIST          keep rules with a tag starting with one of these\n"
          "                       (e.g. attack.t1003,attack.credential-access)\n"
          "  --exclude-rule ID    leave out a rule (id or title; repeatable)\n"
          "\n"
          "running:\n"
          "  -j, --threads N      threads (default: every core); output order is the\n"
          "                       same whatever N\n"
          "  --recover            also read deleted EVTX records (slack space, carved chunks)\n"
          "  --no-prefilter       evaluate every rule in full (for measurements)\n"
          "  --no-progress        no progress bar (there is none unless stderr is a terminal)\n"
          "  --run-report FILE    write a JSON report of the run ('-': standard output): every\n"
          "                       rule not loaded or not run, every file read or skipped,\n"
          "                       every problem met, the totals and the exit status\n"
          "  -v, --verbose        print every diagnostic: each rule that will not run, each\n"
          "                       skipped file, each problem with the evidence\n"
          "  -q, --quiet          report only errors on standard error\n"
          "  -h, --help           this help\n"
          "\n"
          "Colours: on a terminal, unless NO_COLOR is set.\n"
          "exit status: 0 the hunt ran on readable input (with or without detections),\n"
          "1 usage error, 2 nothing could be read (every file missing, unreadable, of\n"
          "an unknown format, or damaged without one readable event), 3 the hunt ran\n"
          "but is incomplete (a file damaged or unreadable, a rule not loaded, an\n"
          "output that failed).\n",
          out);
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

typedef struct colours {
    const char *level[TR_LEVEL_CRITICAL + 1];
    const char *bold, *reset;
} colours;

static colours pick_colours(FILE *f)
{
    colours c = {{"", "", "", "", "", ""}, "", ""};
    const char *no = getenv("NO_COLOR");
    if (isatty(fileno(f)) && !(no && no[0])) {
        c.level[TR_LEVEL_INFORMATIONAL] = "\033[2m";
        c.level[TR_LEVEL_LOW] = "\033[36m";
        c.level[TR_LEVEL_MEDIUM] = "\033[33m";
        c.level[TR_LEVEL_HIGH] = "\033[31m";
        c.level[TR_LEVEL_CRITICAL] = "\033[1;97;41m";
        c.bold = "\033[1m";
        c.reset = "\033[0m";
    }
    return c;
}

static void print_read_summary(FILE *out, const tr_scan_stats *s, const cli_diag_opts *diag, bool recover)
{
    char a[32], b[32], t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
    fprintf(out, "  files read:       %s", grouped(s->files_read, a, sizeof a));
    const char *sep = " (";
    for (size_t i = 0; tr_format_name(i); i++) {
        if (!s->per_format_files[i])
            continue;
        fprintf(out, "%s%s %llu", sep, tr_format_name(i), (unsigned long long)s->per_format_files[i]);
        sep = ", ";
    }
    fprintf(out, "%s\n", strcmp(sep, ", ") == 0 ? ")" : "");
    if (s->files_damaged)
        fprintf(out, "  files damaged:    %s (read in part; named under evidence problems)\n",
                grouped(s->files_damaged, a, sizeof a));
    fprintf(out, "  files skipped:    %s", grouped(s->files_skipped, a, sizeof a));
    if (s->files_skipped) {
        sep = " (";
        for (size_t i = 0; tr_format_name(i); i++) {
            if (!s->per_format_skipped[i])
                continue;
            fprintf(out, "%s%llu %s: no reader yet", sep, (unsigned long long)s->per_format_skipped[i],
                    tr_format_name(i));
            sep = ", ";
        }
        const struct {
            unsigned long long n;
            const char *why;
        } why[] = {{s->skip_unknown, "format not recognised"}, {s->skip_empty, "empty"}, {s->skip_io, "unreadable"}};
        for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
            if (!why[i].n)
                continue;
            fprintf(out, "%s%llu %s", sep, why[i].n, why[i].why);
            sep = ", ";
        }
        fprintf(out, ")%s", diag->verbose ? "" : "; -v names them");
    }
    fprintf(out, "\n");
    cli_print_skipped_names(diag, out, s->files_skipped);
    if (s->paths_missing)
        fprintf(out, "  paths missing:    %s\n", grouped(s->paths_missing, a, sizeof a));
    fprintf(out, "  events:           %s", grouped(s->events, a, sizeof a));
    if (s->events_untimed)
        fprintf(out, " (%s without a timestamp)", grouped(s->events_untimed, b, sizeof b));
    fprintf(out, "\n");
    if (s->first_time != TR_TIME_NONE) {
        tr_time_format(s->first_time, t1);
        tr_time_format(s->last_time, t2);
        fprintf(out, "  time range:       %s .. %s\n", t1, t2);
    }
    for (size_t i = 0; tr_format_name(i); i++)
        if (s->per_format_events[i])
            fprintf(out, "  events (%s):%*s%s\n", tr_format_name(i), (int)(10 - strlen(tr_format_name(i))), "",
                    grouped(s->per_format_events[i], a, sizeof a));
    fprintf(out, "  records skipped:  %s (malformed)\n", grouped(s->records_skipped, a, sizeof a));
    if (recover)
        fprintf(out, "  recovered:        %s (deleted records, carved chunks; counted in events)\n",
                grouped(s->records_recovered, a, sizeof a));
    if (s->values_repaired)
        fprintf(out, "  values repaired:  %s (invalid UTF-8 replaced)\n", grouped(s->values_repaired, a, sizeof a));
}

static const tr_hunt_result *sort_res;
static int by_count(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (sort_res->per_rule[x] != sort_res->per_rule[y])
        return sort_res->per_rule[x] < sort_res->per_rule[y] ? 1 : -1;
    return x < y ? -1 : x > y;
}

static void print_detections(FILE *out, const tr_hunt_result *r, const tr_ruleset *rs, const colours *c)
{
    char a[32], t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
    fprintf(out, "  detections:       %s%s%s", c->bold, grouped(r->detections, a, sizeof a), c->reset);
    const char *sep = " (";
    for (int l = TR_LEVEL_CRITICAL; l >= 0; l--) {
        if (!r->per_level[l])
            continue;
        fprintf(out, "%s%s%s %llu%s", sep, c->level[l], l ? tr_level_name(l) : "no level",
                (unsigned long long)r->per_level[l], c->reset);
        sep = ", ";
    }
    fprintf(out, "%s\n", strcmp(sep, ", ") == 0 ? ")" : "");
    if (r->filtered_out)
        fprintf(out, "  filtered out:     %s (by --from/--to/--min-level/--status/--tags/--exclude-rule)\n",
                grouped(r->filtered_out, a, sizeof a));
    if (r->first != TR_TIME_NONE) {
        tr_time_format(r->first, t1);
        tr_time_format(r->last, t2);
        fprintf(out, "  first detection:  %s\n  last detection:   %s\n", t1, t2);
    }
    size_t n = tr_ruleset_count(rs), nz = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return;
    for (size_t i = 0; i < n; i++)
        if (r->per_rule[i])
            idx[nz++] = i;
    sort_res = r;
    qsort(idx, nz, sizeof *idx, by_count);
    if (nz)
        fprintf(out, "  top rules:\n");
    for (size_t k = 0; k < nz && k < 15; k++) {
        const tr_rule_info *ri = tr_ruleset_rule(rs, idx[k]);
        int l = ri->level >= 0 && ri->level <= TR_LEVEL_CRITICAL ? ri->level : 0;
        fprintf(out, "    %8llu  %s%-13s%s %s\n", (unsigned long long)r->per_rule[idx[k]], c->level[l],
                l ? tr_level_name(l) : "-", c->reset, ri->title);
    }
    if (nz > 15)
        fprintf(out, "    ... and %zu more rules (--jsonl or --csv has every detection)\n", nz - 15);
    free(idx);
    if (r->ncomputers)
        fprintf(out, "  per computer:\n");
    for (size_t k = 0; k < r->ncomputers && k < 10; k++)
        fprintf(out, "    %8llu  %s\n", (unsigned long long)r->computers[k].count, r->computers[k].name);
    if (r->ncomputers > 10)
        fprintf(out, "    ... and %zu more computers\n", r->ncomputers - 10);
    if (r->computers_other)
        fprintf(out, "    %8llu  on further computers past the table's cap\n", (unsigned long long)r->computers_other);
}

/* Rules an engine limit cut short: they may have missed events. */
static void print_limited(FILE *out, const tr_hunt_result *r, const tr_ruleset *rs)
{
    if (!r->limited || !r->per_rule_limited)
        return;
    size_t n = tr_ruleset_count(rs), rules = 0, shown = 0;
    for (size_t i = 0; i < n; i++)
        rules += r->per_rule_limited[i] != 0;
    fprintf(out, "  rules cut short:  %zu rule%s on %llu event%s by an engine limit: they may have missed them "
                 "(--regex-match-limit)\n",
            rules, rules == 1 ? "" : "s", (unsigned long long)r->limited, r->limited == 1 ? "" : "s");
    for (size_t i = 0; i < n && shown < 10; i++)
        if (r->per_rule_limited[i]) {
            fprintf(out, "    %8llu  %s\n", (unsigned long long)r->per_rule_limited[i], tr_ruleset_rule(rs, i)->title);
            shown++;
        }
    if (rules > shown)
        fprintf(out, "    ... and %zu more rules\n", rules - shown);
}

/* ---------------------------------------------------------------- progress */

typedef struct cli_hunt {
    cli_diag_opts diag;
    bool bar;        /* a progress line is on the terminal */
    bool bar_drawn;
} cli_hunt;

static void clear_bar(cli_hunt *h)
{
    if (h->bar_drawn) {
        fputs("\r\033[K", stderr);
        h->bar_drawn = false;
    }
}

static void on_diag(void *user, const tr_diag *d)
{
    cli_hunt *h = user;
    clear_bar(h);
    cli_print_diag(&h->diag, d);
}

static void on_progress(void *user, const tr_hunt_progress *p)
{
    cli_hunt *h = user;
    if (!h->bar)
        return;
    char a[32], b[32];
    double mb = (double)p->bytes / 1e6;
    int width = 24, fill = p->files_total ? (int)(width * p->files_done / p->files_total) : 0;
    fprintf(stderr, "\r\033[K[");
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %llu/%llu files  %.0f MB  %s events/s  %s detections",
            (unsigned long long)p->files_done, (unsigned long long)p->files_total, mb,
            grouped((unsigned long long)(p->seconds > 0 ? (double)p->events / p->seconds : 0), a, sizeof a),
            grouped(p->detections, b, sizeof b));
    fflush(stderr);
    h->bar_drawn = true;
}

/* ---------------------------------------------------------------- options */

static int split_list(const char *arg, const char ***out, size_t *n)
{
    char *copy = strdup(arg);
    if (!copy)
        return -1;
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        const char **l = realloc(*out, (*n + 1) * sizeof *l);
        if (!l)
            return -1;
        *out = l;
        l[(*n)++] = tok;
    }
    return 0; /* copy lives as long as the process: the list points into it */
}

static int parse_time_arg(const char *opt, const char *v, tr_time *t)
{
    if (tr_time_parse(v, strlen(v), t) != TR_OK) {
        fprintf(stderr, "traccia hunt: %s '%s' is not an ISO 8601 time (e.g. 2021-03-02 or 2021-03-02T07:00:00Z)\n",
                opt, v);
        return -1;
    }
    return 0;
}


int cmd_hunt(int argc, char **argv)
{
    cli_hunt ch = {0};
    cli_rules_opts ropts = {0};
    tr_hunt_options ho = {0};
    ho.filter.from = ho.filter.to = TR_TIME_NONE;
    const char *jsonl_path = NULL, *csv_path = NULL, *stix_path = NULL, *case_path = NULL, *report_path = NULL;
    const char **iocs = NULL;
    size_t niocs = 0;
    const char **paths = NULL, **statuses = NULL, **tags = NULL, **exclude = NULL;
    size_t npaths = 0, nstatuses = 0, ntags = 0, nexclude = 0;
    bool no_progress = false, only_paths = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_paths) {
            int r = cli_rules_option(argc, argv, &i, &ropts);
            if (r < 0)
                return TR_EXIT_USAGE;
            if (r > 0)
                continue;
        }
        const char *needs = NULL;
        if (only_paths || a[0] != '-' || !a[1]) {
            const char **l = realloc(paths, (npaths + 1) * sizeof *l);
            if (!l)
                return TR_EXIT_NO_INPUT;
            paths = l;
            paths[npaths++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_paths = true;
        } else if (cli_is_help(a)) {
            hunt_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--recover") == 0) {
            ho.scan_flags |= TR_SCAN_RECOVER;
        } else if (strcmp(a, "--no-prefilter") == 0) {
            ho.match_flags |= TR_MATCH_NO_PREFILTER;
        } else if (strcmp(a, "--no-progress") == 0) {
            no_progress = true;
        } else if (strncmp(a, "-j", 2) == 0 && a[2] >= '0' && a[2] <= '9') { /* -j4 */
            char *end;
            long n = strtol(a + 2, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "traccia hunt: -j takes a number of threads from 1 to 256\n");
                return TR_EXIT_USAGE;
            }
            ho.threads = (unsigned)n;
        } else if (strcmp(a, "--full") == 0) {
            ho.case_full = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            ch.diag.verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            ch.diag.quiet = true;
        } else if (i + 1 >= argc) {
            needs = a;
        } else if (strcmp(a, "--jsonl") == 0) {
            jsonl_path = argv[++i];
        } else if (strcmp(a, "--csv") == 0) {
            csv_path = argv[++i];
        } else if (strcmp(a, "--stix-out") == 0) {
            stix_path = argv[++i];
        } else if (strcmp(a, "--case") == 0) {
            case_path = argv[++i];
        } else if (strcmp(a, "--run-report") == 0) {
            report_path = argv[++i];
        } else if (strcmp(a, "--ioc") == 0) {
            const char **l = realloc(iocs, (niocs + 1) * sizeof *l);
            if (!l)
                return TR_EXIT_NO_INPUT;
            iocs = l;
            iocs[niocs++] = argv[++i];
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--threads") == 0) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "traccia hunt: -j takes a number of threads from 1 to 256\n");
                return TR_EXIT_USAGE;
            }
            ho.threads = (unsigned)n;
        } else if (strcmp(a, "--from") == 0) {
            if (parse_time_arg(a, argv[++i], &ho.filter.from))
                return TR_EXIT_USAGE;
        } else if (strcmp(a, "--to") == 0) {
            if (parse_time_arg(a, argv[++i], &ho.filter.to))
                return TR_EXIT_USAGE;
        } else if (strcmp(a, "--min-level") == 0) {
            ho.filter.min_level = tr_level_parse(argv[++i]);
            if (ho.filter.min_level < 0) {
                fprintf(stderr, "traccia hunt: --min-level takes informational, low, medium, high or critical\n");
                return TR_EXIT_USAGE;
            }
        } else if (strcmp(a, "--status") == 0) {
            if (split_list(argv[++i], &statuses, &nstatuses))
                return TR_EXIT_NO_INPUT;
        } else if (strcmp(a, "--tags") == 0) {
            if (split_list(argv[++i], &tags, &ntags))
                return TR_EXIT_NO_INPUT;
        } else if (strcmp(a, "--exclude-rule") == 0) {
            const char **l = realloc(exclude, (nexclude + 1) * sizeof *l);
            if (!l)
                return TR_EXIT_NO_INPUT;
            exclude = l;
            exclude[nexclude++] = argv[++i];
        } else {
            fprintf(stderr, "traccia hunt: unknown option '%s'\n", a);
            hunt_usage(stderr);
            return TR_EXIT_USAGE;
        }
        if (needs) {
            fprintf(stderr, "traccia hunt: %s needs a value\n", needs);
            return TR_EXIT_USAGE;
        }
    }
    if (!npaths) {
        fprintf(stderr, "traccia hunt: no PATH given\n");
        hunt_usage(stderr);
        return TR_EXIT_USAGE;
    }
    ho.filter.statuses = statuses;
    ho.filter.nstatuses = nstatuses;
    ho.filter.tags = tags;
    ho.filter.ntags = ntags;
    ho.filter.exclude = exclude;
    ho.filter.nexclude = nexclude;

    if (ho.case_full && !case_path) {
        fprintf(stderr, "traccia hunt: --full goes with --case FILE\n");
        return TR_EXIT_USAGE;
    }
    if (stix_path && !niocs) {
        fprintf(stderr, "traccia hunt: --stix-out needs indicators (--ioc FILE)\n");
        return TR_EXIT_USAGE;
    }
    /* the run report first: it hears every diagnostic from here on */
    if (report_path && tr_run_report_create(&ch.diag.report, "hunt", argc, argv) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    tr_case *kase = NULL;
    tr_prehash *prehash = NULL;
    tr_ruleset *rs = NULL;
    tr_iocset *set = NULL;
    tr_out_file jsonl_out = {0}, csv_out = {0}, stix_out = {0};
    bool json_stdout = false, csv_stdout = false, have_result = false;
    tr_hunt_result res;
    int rc = TR_EXIT_OK;
    /* the case, and its evidence hashed while the rules load */
    char command[4096] = "traccia";
    if (case_path) {
        char err[512];
        tr_status cs = tr_case_open(&kase, case_path, 1, err, sizeof err);
        if (cs != TR_OK) {
            fprintf(stderr, "traccia hunt: %s: %s\n", case_path, err);
            rc = cs == TR_ERR_FORMAT ? TR_EXIT_USAGE : TR_EXIT_NO_INPUT;
            goto done;
        }
        size_t at = strlen(command);
        for (int k = 0; k < argc && at + 2 < sizeof command; k++)
            at += (size_t)snprintf(command + at, sizeof command - at, " %s", argv[k]);
        ho.case_store = kase;
        ho.command = command;
        if (tr_prehash_start(&prehash, paths, npaths, ho.scan_flags) == TR_OK)
            ho.prehash = prehash; /* else the hunt hashes everything itself */
    }
    rc = cli_load_rules(&ropts, cli_print_diag, &ch.diag, &rs);
    if (rs && ch.diag.report)
        tr_run_report_rules(ch.diag.report, rs);
    cli_diag_flush_rules(&ch.diag, "traccia rules check");
    if (rc != TR_EXIT_OK)
        goto done;
    if (niocs) {
        tr_iocset_options io = {cli_print_diag, &ch.diag};
        tr_status st = tr_iocset_create(&set, &io);
        for (size_t k = 0; k < niocs && st == TR_OK; k++)
            st = tr_iocset_add_path(set, iocs[k]); /* a missing file is said through on_diag */
        if (st == TR_OK)
            st = tr_iocset_compile(set);
        if (set && ch.diag.report)
            tr_run_report_indicators(ch.diag.report, set);
        cli_diag_flush_rules(&ch.diag, "traccia ioc check");
        if (st != TR_OK) {
            if (st == TR_ERR_NOMEM)
                fprintf(stderr, "traccia: out of memory while loading indicators\n");
            rc = TR_EXIT_NO_INPUT;
            goto done;
        }
    }
    if (jsonl_path && tr_out_open(&jsonl_out, jsonl_path) != TR_OK) {
        fprintf(stderr, "traccia hunt: cannot write %s: %s\n", jsonl_path, strerror(errno));
        rc = TR_EXIT_USAGE;
        goto done;
    }
    if (csv_path && tr_out_open(&csv_out, csv_path) != TR_OK) {
        fprintf(stderr, "traccia hunt: cannot write %s: %s\n", csv_path, strerror(errno));
        rc = TR_EXIT_USAGE;
        goto done;
    }
    if (stix_path && tr_out_open(&stix_out, stix_path) != TR_OK) {
        fprintf(stderr, "traccia hunt: cannot write %s: %s\n", stix_path, strerror(errno));
        rc = TR_EXIT_USAGE;
        goto done;
    }
    ho.jsonl = jsonl_out.f;
    ho.csv = csv_out.f;
    json_stdout = tr_out_is_stdout(&jsonl_out);
    csv_stdout = tr_out_is_stdout(&csv_out);
    int on_stdout = json_stdout + csv_stdout + tr_out_is_stdout(&stix_out) + (report_path && !strcmp(report_path, "-"));
    if (on_stdout > 1) {
        fprintf(stderr, "traccia hunt: only one of --jsonl, --csv, --stix-out and --run-report can write to standard "
                        "output\n");
        rc = TR_EXIT_USAGE;
        goto done;
    }
    ch.bar = !no_progress && !ch.diag.quiet && isatty(fileno(stderr));
    ho.rules = rs;
    ho.iocs = set;
    ho.run_report = ch.diag.report;
    ho.on_diag = on_diag;
    ho.on_progress = on_progress;
    ho.user = &ch;
    tr_status st = tr_hunt_run(&ho, paths, npaths, &res);
    have_result = true;
    bool findings_failed = res.write_failed; /* an output of the hunt itself */
    tr_prehash_stop(prehash);
    prehash = NULL;
    clear_bar(&ch);
    if (st == TR_ERR_NOMEM)
        fprintf(stderr, "traccia: out of memory\n");
    cli_diag_flush_evidence(&ch.diag, "the summary names the files");

    /* the summary goes where the findings do not */
    bool to_stderr = on_stdout > 0;
    FILE *out = to_stderr ? stderr : stdout;
    colours c = pick_colours(out);
    char a[32];
    fprintf(out, "%straccia %s hunt summary%s\n", c.bold, tr_version(), c.reset);
    print_read_summary(out, &res.scan, &ch.diag, (ho.scan_flags & TR_SCAN_RECOVER) != 0);
    cli_print_problem_files(&ch.diag, out);
    const tr_ruleset_stats *rstat = tr_ruleset_get_stats(rs);
    fprintf(out, "  rules:            %llu loaded, %llu not loaded, %llu not run (traccia rules check names them)\n",
            (unsigned long long)rstat->loaded, (unsigned long long)rstat->failed,
            (unsigned long long)rstat->not_runnable);
    if (set) {
        const tr_iocset_stats *is = tr_iocset_get_stats(set);
        fprintf(out, "  indicators:       %llu loaded, %llu rejected (traccia ioc check names them)\n",
                (unsigned long long)is->counts.loaded, (unsigned long long)is->counts.rejected);
    }
    print_limited(out, &res, rs);
    print_detections(out, &res, rs, &c);
    if (res.sighting_log) {
        tr_sighting_log_write_summary(res.sighting_log, out, 20);
    }
    if (stix_path && res.sighting_log && tr_sighting_log_write_stix(res.sighting_log, stix_out.f) != TR_OK)
        res.write_failed = 1;
    if (stix_path && (res.write_failed || tr_out_commit(&stix_out) != TR_OK)) {
        fprintf(stderr, "traccia: error: writing %s failed\n", stix_path);
        res.write_failed = 1;
    }
    if (kase) {
        fprintf(out, "  case:             %s, hunt #%lld: %s new finding(s)", case_path, (long long)res.case_run,
                grouped(res.case_new_findings, a, sizeof a));
        fprintf(out, ", %s already in the case\n", grouped(res.case_known_findings, a, sizeof a));
        if (res.case_unchanged || res.case_resumed || res.case_rehunted)
            fprintf(out,
                    "                    %llu file(s) unchanged since the case read them (not read again), %llu grown "
                    "log(s) read from where they ended, %llu read again for changed rules\n",
                    (unsigned long long)res.case_unchanged, (unsigned long long)res.case_resumed,
                    (unsigned long long)res.case_rehunted);
        if (res.case_failed)
            fprintf(stderr, "traccia: error: the case %s is incomplete: writing it failed (it stays consistent; "
                            "hunting again completes it)\n",
                    case_path);
    }
    double mb = (double)res.scan.bytes_read / 1e6;
    fprintf(out, "  input:            %.1f MB in %.2f s with %u thread%s (%.0f MB/s, %s events/s)\n", mb, res.seconds,
            res.threads, res.threads == 1 ? "" : "s", res.seconds > 0 ? mb / res.seconds : 0.0,
            grouped((unsigned long long)(res.seconds > 0 ? (double)res.scan.events / res.seconds : 0.0), a, sizeof a));
    fflush(out);

    /* the findings files are renamed into place only when whole */
    if (findings_failed || st != TR_OK) {
        tr_out_abort(&jsonl_out);
        tr_out_abort(&csv_out);
    } else {
        bool jsonl_ok = !jsonl_path || tr_out_commit(&jsonl_out) == TR_OK;
        bool csv_ok = !csv_path || tr_out_commit(&csv_out) == TR_OK; /* both tried, whichever failed */
        if (!jsonl_ok || !csv_ok)
            res.write_failed = 1;
    }
    ho.jsonl = ho.csv = NULL;
    if (res.write_failed)
        fprintf(stderr, "traccia: error: writing the findings failed%s\n",
                json_stdout || csv_stdout ? "" : "; no findings file was left that looks complete");
    rc = st != TR_OK ? TR_EXIT_NO_INPUT
                     : cli_evidence_status(&res.scan, res.case_unchanged, rstat->failed,
                                           res.case_failed    ? "the case not written in full"
                                           : res.write_failed ? "an output failed"
                                           : res.limited      ? "rules cut short by an engine limit"
                                                              : NULL);
done:
    if (have_result && ch.diag.report)
        tr_run_report_hunt(ch.diag.report, &res);
    rc = cli_write_run_report(&ch.diag, report_path, rc);
    tr_out_abort(&jsonl_out); /* when the run stopped before they were committed */
    tr_out_abort(&csv_out);
    tr_out_abort(&stix_out);
    if (have_result)
        tr_hunt_result_free(&res);
    tr_prehash_stop(prehash);
    tr_case_close(kase);
    tr_iocset_destroy(set);
    tr_ruleset_destroy(rs);
    tr_run_report_destroy(ch.diag.report);
    cli_diag_free(&ch.diag);
    free(iocs);
    free(paths);
    free(statuses);
    free(tags);
    free(exclude);
    return rc;
}
