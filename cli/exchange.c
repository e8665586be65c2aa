/*
 * exchange.c — `traccia exchange`: the compromise report for Exchange
 * servers. Reads the evidence copied off one or more servers (the layout
 * <server>/Logging/..., <server>/inetpub/logs/LogFiles/W3SVC*, event logs,
 * or loose files), runs the built-in rule pack and any --rules over every
 * event through tr_hunt_run with the report as its sink (per-server events
 * and every finding, in order whatever the thread count), and prints
 * it: as text in the shape of Test-ProxyLogon, or with --json as one JSON
 * document (docs/EXCHANGE.md).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void exchange_usage(FILE *out)
{
    fputs("usage: traccia exchange [options] PATH...\n"
          "\n"
          "Assesses Exchange servers from their logs, in the shape of Microsoft's\n"
          "Test-ProxyLogon: for each CVE (ProxyLogon CVE-2021-26855/26857/26858/27065,\n"
          "ProxyShell 34473/34523/31207, ProxyNotShell and OWASSRF 2022-41040/41080/\n"
          "41082) and for web shells, mailbox theft, LSASS dumps and staging: hits,\n"
          "first and last time, client IPs and the evidence lines; the files the\n"
          "logs name; the web shells requested and by whom; a verdict per server\n"
          "(compromised, attacked, suspicious, no sign).\n"
          "\n"
          "PATH is a copied server (a folder holding Logging\\HttpProxy, Logging\\ECP,\n"
          "Logging\\OABGeneratorLog, inetpub\\logs\\LogFiles\\W3SVC*, event logs), a\n"
          "folder of such servers, or loose log files. Formats are recognised from\n"
          "content; .gz files are read as they are.\n"
          "\n"
          "options:\n"
          "  --json               the report as one JSON document (docs/EXCHANGE.md)\n"
          "  -r, --rules PATH     also run the Sigma rules under PATH (repeatable)\n"
          "  --logsources FILE    add a logsource mapping (docs/LOGSOURCES.md)\n"
          "  --placeholders FILE  values for the %placeholders% of |expand rules\n"
          "  --no-builtin         leave out the built-in rule pack\n"
          "  --regex-match-limit N, --regex-depth-limit N  as for hunt\n"
          "  --evidence N         evidence lines kept per section (default 10)\n"
          "  --run-report FILE    write a JSON report of the run: rules not run, files read\n"
          "                       or skipped, every problem met, the exit status\n"
          "  -v, --verbose        print every diagnostic (each rule not run, each skipped file)\n"
          "  -q, --quiet          report only errors on standard error\n"
          "  -h, --help           this help\n"
          "\n"
          "exit status: 0 the assessment ran on readable input (whatever it found),\n"
          "1 usage error, 2 nothing could be read, 3 it ran but is incomplete (a file\n"
          "damaged or unreadable, a rule not loaded, the report not written in full).\n",
          out);
}

static void on_diag(void *user, const tr_diag *d) { cli_print_diag(user, d); }

int cmd_exchange(int argc, char **argv)
{
    cli_diag_opts diag = {0};
    cli_rules_opts ropts = {0};
    tr_exchange_options xopts = {0};
    bool json = false;
    const char *report_path = NULL;
    int first_path = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_rules_option(argc, argv, &i, &ropts);
        if (r < 0)
            return TR_EXIT_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            exchange_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--evidence") == 0) {
            char *end = NULL;
            long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || !end || *end || n < 1 || n > 10000) {
                fprintf(stderr, "traccia exchange: --evidence needs a number from 1 to 10000\n");
                return TR_EXIT_USAGE;
            }
            xopts.max_evidence = (unsigned)n;
            i++;
        } else if (strcmp(a, "--run-report") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "traccia exchange: --run-report needs a file\n");
                return TR_EXIT_USAGE;
            }
            report_path = argv[++i];
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            diag.verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            diag.quiet = true;
        } else if (strcmp(a, "--") == 0) {
            first_path = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "traccia exchange: unknown option '%s'\n", a);
            exchange_usage(stderr);
            return TR_EXIT_USAGE;
        } else {
            first_path = i;
            break;
        }
    }
    if (!first_path || first_path >= argc) {
        fprintf(stderr, "traccia exchange: no PATH given\n");
        exchange_usage(stderr);
        return TR_EXIT_USAGE;
    }
    if (report_path && tr_run_report_create(&diag.report, "exchange", argc, argv) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    tr_ruleset *rs = NULL;
    tr_exchange_report *report = NULL;
    tr_hunt_result res;
    memset(&res, 0, sizeof res);
    bool have_result = false;
    int rc = cli_load_rules(&ropts, cli_print_diag, &diag, &rs);
    if (rs && diag.report)
        tr_run_report_rules(diag.report, rs);
    cli_diag_flush_rules(&diag, "traccia rules check");
    if (rc != TR_EXIT_OK)
        goto done;
    if (tr_exchange_report_create(&report, &xopts) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        rc = TR_EXIT_NO_INPUT;
        goto done;
    }
    /* the hunt, with the report as its one sink */
    tr_hunt_options ho = {.rules = rs, .exchange = report, .run_report = diag.report, .on_diag = on_diag,
                          .user = &diag};
    ho.filter.from = ho.filter.to = TR_TIME_NONE;
    tr_status hr = tr_hunt_run(&ho, (const char *const *)argv + first_path, (size_t)(argc - first_path), &res);
    have_result = true;
    cli_diag_flush_evidence(&diag, "the summary names the files");
    if (hr == TR_ERR_NOMEM) {
        fprintf(stderr, "traccia: out of memory\n");
        rc = TR_EXIT_NO_INPUT;
        goto done;
    }
    const tr_scan_stats *s = &res.scan;
    if (res.write_failed)
        fprintf(stderr, "traccia: warning: out of memory while building the report; it is incomplete\n");
    tr_status st =
        json ? tr_exchange_report_write_json(report, stdout) : tr_exchange_report_write_text(report, stdout);
    if (!json && st == TR_OK) {
        printf("\nRead: %llu file(s) (%llu skipped, %llu damaged), %llu events, %llu malformed record(s) skipped\n",
               (unsigned long long)s->files_read, (unsigned long long)s->files_skipped,
               (unsigned long long)s->files_damaged, (unsigned long long)s->events,
               (unsigned long long)s->records_skipped);
        cli_print_problem_files(&diag, stdout);
        if (fflush(stdout) != 0)
            st = TR_ERR_IO;
    }
    if (st != TR_OK)
        fprintf(stderr, "traccia: error: writing the report failed: %s\n", tr_strerror(st));
    rc = cli_evidence_status(s, 0, tr_ruleset_get_stats(rs)->failed,
                             st != TR_OK || res.write_failed ? "the report not written in full" : NULL);
done:
    if (have_result && diag.report)
        tr_run_report_hunt(diag.report, &res);
    rc = cli_write_run_report(&diag, report_path, rc);
    tr_hunt_result_free(&res);
    tr_exchange_report_destroy(report);
    tr_ruleset_destroy(rs);
    tr_run_report_destroy(diag.report);
    cli_diag_free(&diag);
    return rc;
}
