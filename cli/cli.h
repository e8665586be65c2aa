/*
 * cli.h — shared pieces of the `traccia` command: exit codes, diagnostic
 * printing, and the subcommands' entry points. The command is a thin shell
 * over libtraccia: it parses arguments, prints, and sets the exit status.
 */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "traccia.h"

/* Exit status, documented in `traccia --help` and man/traccia.1. */
enum {
    TR_EXIT_OK = 0,       /* the run worked (with or without findings) */
    TR_EXIT_USAGE = 1,    /* bad command line */
    TR_EXIT_NO_INPUT = 2  /* no input could be read */
};

/* How diagnostics are printed (passed as the scan's user pointer part). */
typedef struct cli_diag_opts {
    bool verbose;  /* also print TR_SEV_INFO (skipped files and why) */
    bool quiet;    /* print nothing but errors */
    unsigned long printed;
} cli_diag_opts;

void cli_print_diag(void *user, const tr_diag *d);

/* True when arg is -h or --help. */
bool cli_is_help(const char *arg);

/* Rule options shared by `hunt` and `rules`. */
#define CLI_MAX_PATHS 64
typedef struct cli_rules_opts {
    const char *rules[CLI_MAX_PATHS];
    size_t nrules;
    const char *logsources[CLI_MAX_PATHS];
    size_t nlogsources;
    const char *placeholders[CLI_MAX_PATHS];
    size_t nplaceholders;
    bool no_builtin;
} cli_rules_opts;

/* Consumes argv[*i] (and its value) if it is a rule option: returns 1,
 * 0 when it is not one, -1 on a usage error (already printed). */
int cli_rules_option(int argc, char **argv, int *i, cli_rules_opts *o);
/* Loads and compiles the rules; TR_EXIT_OK and *out, or an exit status. */
int cli_load_rules(const cli_rules_opts *o, tr_diag_fn on_diag, void *user, tr_ruleset **out);

int cmd_hunt(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_ioc(int argc, char **argv);
int cmd_exchange(int argc, char **argv);
int cmd_case(int argc, char **argv);

#endif
