/*
 * rules.c — `traccia rules check|list`: load Sigma rules the way a hunt
 * would and say what loaded, what did not and why, and what will never run.
 * Also the loading shared with `hunt` (cli_load_rules).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void rules_usage(FILE *out)
{
    fputs("usage: traccia rules check [options] PATH...\n"
          "       traccia rules list  [options] [PATH...]\n"
          "\n"
          "Loads Sigma rules (.yml/.yaml files, folders walked recursively) with\n"
          "the project's built-in pack, as a hunt would.\n"
          "\n"
          "  check   names every rule that did not load, with file, line and\n"
          "          reason, and every rule that loaded but can never run (an\n"
          "          unset placeholder, a logsource no mapping covers), and the\n"
          "          rules whose regular expressions risk catastrophic\n"
          "          backtracking; ends with the counts. Exit status 0 when every\n"
          "          rule loaded, 2 when some did not.\n"
          "  list    one line per loaded rule: id, level, status, logsource, title\n"
          "          and tags, tab-separated.\n"
          "\n"
          "options:\n"
          "  --logsources FILE    add a logsource mapping file (docs/LOGSOURCES.md)\n"
          "  --placeholders FILE  values for %placeholders% of the expand modifier\n"
          "  --no-builtin         leave out the built-in rule pack\n"
          "  --regex-match-limit N, --regex-depth-limit N  as for hunt\n"
          "  --run-report FILE    also write what loaded and what did not as JSON\n"
          "  -q, --quiet          check: print only the counts\n"
          "  -h, --help           this help\n",
          out);
}

int cli_rules_option(int argc, char **argv, int *i, cli_rules_opts *o)
{
    const char *a = argv[*i];
    const char **slot = NULL;
    if (strcmp(a, "--rules") == 0 || strcmp(a, "-r") == 0)
        slot = &o->rules[o->nrules];
    else if (strcmp(a, "--logsources") == 0)
        slot = &o->logsources[o->nlogsources];
    else if (strcmp(a, "--placeholders") == 0)
        slot = &o->placeholders[o->nplaceholders];
    else if (strcmp(a, "--no-builtin") == 0 || strcmp(a, "--no-builtin-rules") == 0) {
        o->no_builtin = true;
        return 1;
    } else if (strcmp(a, "--regex-match-limit") == 0 || strcmp(a, "--regex-depth-limit") == 0) {
        char *end = NULL;
        unsigned long v = *i + 1 < argc ? strtoul(argv[*i + 1], &end, 10) : 0;
        if (*i + 1 >= argc || !end || *end || v < 1 || v > 4000000000ul) {
            fprintf(stderr, "traccia: %s takes a number from 1 to 4000000000\n", a);
            return -1;
        }
        *(a[8] == 'm' ? &o->regex_match_limit : &o->regex_depth_limit) = (uint32_t)v;
        ++*i;
        return 1;
    } else
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "traccia: %s needs a value\n", a);
        return -1;
    }
    if (o->nrules >= CLI_MAX_PATHS || o->nlogsources >= CLI_MAX_PATHS || o->nplaceholders >= CLI_MAX_PATHS) {
        fprintf(stderr, "traccia: too many %s options\n", a);
        return -1;
    }
    *slot = argv[++*i];
    if (slot == &o->rules[o->nrules])
        o->nrules++;
    else if (slot == &o->logsources[o->nlogsources])
        o->nlogsources++;
    else
        o->nplaceholders++;
    return 1;
}

void cli_say_missing(tr_diag_fn on_diag, void *user, const char *path, tr_diag_kind kind)
{
    tr_diag d = {TR_SEV_ERROR, path, "", "no such file or folder", kind, NULL, NULL, NULL};
    if (on_diag)
        on_diag(user, &d);
    else
        fprintf(stderr, "traccia: error: %s: no such file or folder\n", path);
}

int cli_load_rules(const cli_rules_opts *o, tr_diag_fn on_diag, void *user, tr_ruleset **out)
{
    *out = NULL;
    tr_ruleset *rs;
    tr_ruleset_options ro = {on_diag, user, o->regex_match_limit, o->regex_depth_limit};
    if (tr_ruleset_create(&rs, &ro) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    int rc = TR_OK;
    for (size_t i = 0; i < o->nlogsources && rc == TR_OK; i++) {
        rc = tr_ruleset_add_logsources_path(rs, o->logsources[i]);
        if (rc == TR_ERR_NOTFOUND)
            cli_say_missing(on_diag, user, o->logsources[i], TR_DIAG_CONFIG);
    }
    for (size_t i = 0; i < o->nplaceholders && rc == TR_OK; i++) {
        rc = tr_ruleset_add_placeholders_path(rs, o->placeholders[i]);
        if (rc == TR_ERR_NOTFOUND)
            cli_say_missing(on_diag, user, o->placeholders[i], TR_DIAG_CONFIG);
    }
    if (rc == TR_OK && !o->no_builtin)
        rc = tr_ruleset_add_builtin_rules(rs);
    for (size_t i = 0; i < o->nrules && rc == TR_OK; i++) {
        rc = tr_ruleset_add_path(rs, o->rules[i]);
        if (rc == TR_ERR_NOTFOUND)
            cli_say_missing(on_diag, user, o->rules[i], TR_DIAG_CONFIG);
    }
    if (rc == TR_OK)
        rc = tr_ruleset_compile(rs);
    if (rc != TR_OK) {
        if (rc == TR_ERR_NOMEM)
            fprintf(stderr, "traccia: out of memory while loading rules\n");
        tr_ruleset_destroy(rs);
        return rc == TR_ERR_NOTFOUND ? TR_EXIT_NO_INPUT : TR_EXIT_NO_INPUT;
    }
    *out = rs;
    return TR_EXIT_OK;
}

/* Rules whose regular expressions risk catastrophic backtracking: each
 * named (a hunt reports any such rule PCRE2's limits cut short). */
static void print_risky(const tr_ruleset *rs, bool count_only)
{
    size_t n = 0;
    for (size_t i = 0; i < tr_ruleset_count(rs); i++)
        n += tr_ruleset_rule(rs, i)->risk != NULL;
    printf("risky regexes:     %zu%s\n", n,
           !n           ? ""
           : count_only ? " (without -q each is named)"
                        : " (rules that can backtrack catastrophically; a hunt reports them if cut short):");
    for (size_t i = 0; i < tr_ruleset_count(rs) && !count_only; i++) {
        const tr_rule_info *ri = tr_ruleset_rule(rs, i);
        if (ri->risk)
            printf("  %s: line %u: rule '%s': %s\n", ri->path, ri->line, ri->title, ri->risk);
    }
}

static void print_list(const tr_ruleset *rs)
{
    for (size_t i = 0; i < tr_ruleset_count(rs); i++) {
        const tr_rule_info *r = tr_ruleset_rule(rs, i);
        static const char *const kinds[] = {"", "correlation ", "filter "};
        printf("%s\t%s\t%s\t%s/%s/%s\t%s%s\t", r->id ? r->id : "-", r->level ? tr_level_name(r->level) : "-",
               r->status ? r->status : "-", r->product ? r->product : "-", r->category ? r->category : "-",
               r->service ? r->service : "-", kinds[r->kind < 3 ? r->kind : 0], r->title);
        for (size_t t = 0; t < r->ntags; t++)
            printf("%s%s", t ? "," : "", r->tags[t]);
        printf("%s\n", r->runnable ? "" : "\t(does not run)");
    }
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        rules_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TR_EXIT_USAGE : TR_EXIT_OK;
    }
    const char *sub = argv[1];
    bool check = strcmp(sub, "check") == 0, list = strcmp(sub, "list") == 0;
    if (!check && !list) {
        fprintf(stderr, "traccia rules: unknown subcommand '%s'\n", sub);
        rules_usage(stderr);
        return TR_EXIT_USAGE;
    }
    cli_rules_opts o = {0};
    cli_diag_opts diag = {0};
    const char *report_path = NULL;
    diag.verbose = check; /* naming each rule is what check is for */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_rules_option(argc, argv, &i, &o);
        if (r < 0)
            return TR_EXIT_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            rules_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            diag.quiet = true;
            diag.verbose = false;
        } else if (strcmp(a, "--run-report") == 0 && i + 1 < argc) {
            report_path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "traccia rules: unknown option '%s'\n", a);
            return TR_EXIT_USAGE;
        } else if (o.nrules < CLI_MAX_PATHS) {
            o.rules[o.nrules++] = a;
        }
    }
    if (check && o.nrules == 0) {
        fprintf(stderr, "traccia rules check: no PATH given\n");
        return TR_EXIT_USAGE;
    }
    if (list)
        diag.quiet = true;
    if (report_path && tr_run_report_create(&diag.report, check ? "rules check" : "rules list", argc, argv) != TR_OK) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    tr_ruleset *rs;
    int rc = cli_load_rules(&o, cli_print_diag, &diag, &rs);
    if (rc == TR_EXIT_OK) {
        const tr_ruleset_stats *s = tr_ruleset_get_stats(rs);
        if (diag.report)
            tr_run_report_rules(diag.report, rs);
        cli_diag_flush_rules(&diag, "traccia rules check without -q");
        if (list) {
            print_list(rs);
        } else {
            printf("rule files:        %llu\n", (unsigned long long)s->files);
            printf("rules loaded:      %llu (%llu correlations, %llu filters)\n", (unsigned long long)s->loaded,
                   (unsigned long long)s->correlations, (unsigned long long)s->filters);
            printf("rules not loaded:  %llu%s\n", (unsigned long long)s->failed,
                   !s->failed ? "" : diag.verbose ? " (each named above with its reason)" : " (without -q each is named)");
            printf("loaded, not run:   %llu%s\n", (unsigned long long)s->not_runnable,
                   !s->not_runnable ? "" : diag.verbose ? " (each named above with its reason)"
                                                        : " (without -q each is named)");
            cli_print_not_run(&diag, stdout, "  ", NULL);
            print_risky(rs, !diag.verbose);
            double total = (double)(s->loaded + s->failed);
            printf("loaded:            %.2f%%\n", total > 0 ? 100.0 * (double)s->loaded / total : 100.0);
            printf("prefiltered:       %llu detection rules\n", (unsigned long long)s->prefiltered);
            printf("logsource entries: %llu\n", (unsigned long long)s->logsource_entries);
        }
        rc = check && s->failed ? TR_EXIT_NO_INPUT : TR_EXIT_OK;
    }
    rc = cli_write_run_report(&diag, report_path, rc);
    tr_ruleset_destroy(rs);
    tr_run_report_destroy(diag.report);
    cli_diag_free(&diag);
    return rc;
}
