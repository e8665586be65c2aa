/*
 * exchange.c — `traccia exchange`: the compromise report for Exchange
 * servers. Reads the evidence copied off one or more servers (the layout
 * <server>/Logging/..., <server>/inetpub/logs/LogFiles/W3SVC*, event logs,
 * or loose files), runs the built-in rule pack and any --rules over every
 * event, feeds events and detections to a tr_exchange_report, and prints
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
          "  --evidence N         evidence lines kept per section (default 10)\n"
          "  -v, --verbose        also name every skipped file and the reason\n"
          "  -q, --quiet          report only errors on standard error\n"
          "  -h, --help           this help\n"
          "\n"
          "exit status: 0 the assessment ran (whatever it found), 1 usage error,\n"
          "2 no input could be read.\n",
          out);
}

typedef struct exchange_state {
    tr_matcher *matcher;
    tr_exchange_report *report;
    cli_diag_opts *diag;
    int nomem;
} exchange_state;

static void on_diag(void *user, const tr_diag *d) { cli_print_diag(((exchange_state *)user)->diag, d); }

static void on_detection(void *user, const tr_detection *d)
{
    exchange_state *x = user;
    if (tr_exchange_report_detection(x->report, d) != TR_OK)
        x->nomem = 1;
}

static int on_batch(void *user, const tr_batch *b)
{
    exchange_state *x = user;
    for (size_t i = 0; i < b->count; i++) {
        if (tr_exchange_report_event(x->report, b->events[i]) != TR_OK)
            x->nomem = 1;
        tr_matcher_event(x->matcher, b->events[i], on_detection, x);
    }
    return 0;
}

int cmd_exchange(int argc, char **argv)
{
    cli_diag_opts diag = {0};
    cli_rules_opts ropts = {0};
    tr_exchange_options xopts = {0};
    bool json = false;
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
    tr_ruleset *rs;
    int rc = cli_load_rules(&ropts, cli_print_diag, &diag, &rs);
    if (rc != TR_EXIT_OK)
        return rc;
    exchange_state x = {.diag = &diag};
    tr_scan *scan = NULL;
    tr_scan_options so = {.on_batch = on_batch, .on_diag = on_diag, .user = &x};
    if (tr_matcher_create(&x.matcher, rs, 0) != TR_OK || tr_exchange_report_create(&x.report, &xopts) != TR_OK ||
        tr_scan_create(&scan, &so) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        rc = TR_EXIT_NO_INPUT;
        goto done;
    }
    for (int i = first_path; i < argc; i++) {
        if (tr_scan_path(scan, argv[i]) == TR_ERR_NOMEM) {
            fprintf(stderr, "traccia: out of memory\n");
            rc = TR_EXIT_NO_INPUT;
            goto done;
        }
    }
    tr_matcher_flush(x.matcher, on_detection, &x);
    const tr_scan_stats *s = tr_scan_get_stats(scan);
    tr_exchange_report_set_input(x.report, s);
    if (x.nomem)
        fprintf(stderr, "traccia: warning: out of memory while building the report; it is incomplete\n");
    tr_status st =
        json ? tr_exchange_report_write_json(x.report, stdout) : tr_exchange_report_write_text(x.report, stdout);
    if (!json && st == TR_OK) {
        printf("\nRead: %llu file(s) (%llu skipped, %llu damaged), %llu events, %llu malformed record(s) skipped\n",
               (unsigned long long)s->files_read, (unsigned long long)s->files_skipped,
               (unsigned long long)s->files_damaged, (unsigned long long)s->events,
               (unsigned long long)s->records_skipped);
        if (fflush(stdout) != 0)
            st = TR_ERR_IO;
    }
    if (st != TR_OK)
        fprintf(stderr, "traccia: error: writing the report failed: %s\n", tr_strerror(st));
    if (s->files_read == 0) {
        fprintf(stderr, "traccia: no input could be read (%llu file(s) found)\n", (unsigned long long)s->files_seen);
        rc = TR_EXIT_NO_INPUT;
    }
done:
    tr_scan_destroy(scan);
    tr_exchange_report_destroy(x.report);
    tr_matcher_destroy(x.matcher);
    tr_ruleset_destroy(rs);
    return rc;
}
