/*
 * cli.h — shared pieces of the `traccia` command: exit codes, diagnostic
 * printing, and the subcommands' entry points. The command is a thin shell
 * over libtraccia: it parses arguments, prints, and sets the exit status.
 */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "traccia.h"

/* Exit status, documented in `traccia --help`, man/traccia.1 and
 * docs/OUTPUT.md. */
enum {
    TR_EXIT_OK = 0,         /* the job ran on readable input (with or without findings) */
    TR_EXIT_USAGE = 1,      /* bad command line */
    TR_EXIT_NO_INPUT = 2,   /* nothing could be read, or the job could not be done */
    TR_EXIT_INCOMPLETE = 3  /* it ran, but not on everything: see cli_evidence_status */
};

/* The exit status that the evidence read (and what else went wrong) calls
 * for, with one line on stderr saying why unless it is TR_EXIT_OK:
 *  2  nothing readable: no file read, or every file read was damaged and
 *     not one event came out of them (`unchanged`: files a case holds as
 *     they are count as read);
 *  3  incomplete: a file damaged, unreadable, of a format with no reader
 *     yet, a path missing, a rule that did not load, an engine limit hit,
 *     an output that failed (`other` names it; NULL: none).
 * Files of an unknown format and empty files are not evidence: they do
 * not make a run incomplete. */
int cli_evidence_status(const tr_scan_stats *s, uint64_t unchanged, uint64_t rules_failed, const char *other);

/* How diagnostics are printed (common.c): counted and grouped by default,
 * every one with verbose, only errors with quiet. */
#define CLI_SHOWN_FILES 5    /* evidence files whose first problem is printed */
#define CLI_NAMED_FILES 10   /* evidence files with problems named in the summary */
#define CLI_NAMED_SKIPPED 3  /* skipped files named in the summary */
#define CLI_SHOWN_RULES 3    /* rules not loaded (remarks, indicators) printed before counting */
#define CLI_GROUP_ITEMS 8    /* products (categories) named on a cause's line */

typedef struct cli_group_item {
    char *name;
    uint64_t n;
} cli_group_item;

typedef struct cli_group {  /* rules that will not run, of one cause */
    char *cause;
    uint64_t n;
    cli_group_item *items;
    size_t nitems;
} cli_group;

typedef struct cli_problem_file {
    char *path;
    char *first;            /* "where: reason" of its first problem */
    uint64_t problems;
    int severity;           /* the worst */
} cli_problem_file;

typedef struct cli_diag_opts {
    bool verbose;  /* print every diagnostic, notes (skipped files and why) too */
    bool quiet;    /* print nothing but errors */
    tr_run_report *report;      /* every diagnostic noted there too; may be NULL */
    uint64_t shown[TR_DIAG_KINDS], hidden[TR_DIAG_KINDS]; /* printed, and held back to count */
    cli_group *groups;          /* rules that will not run, by cause */
    size_t ngroups;
    cli_group *failed;          /* rules that did not load, by reason */
    size_t nfailed;
    cli_group *limited;         /* rules cut short by an engine limit: items the rules, counts files */
    size_t nlimited;
    /* the evidence's problems, in file order */
    char *last_path;
    uint64_t ev_files, ev_files_shown, ev_problems, ev_hidden;
    cli_problem_file named[CLI_NAMED_FILES];
    size_t nnamed;
    char *skipped[CLI_NAMED_SKIPPED];
    size_t nskipped;
} cli_diag_opts;

/* A tr_diag_fn; user is a cli_diag_opts. */
void cli_print_diag(void *user, const tr_diag *d);
/* After the rules (and indicators) are loaded: one line per cause of rules
 * that will not run, and the count of what was not shown; `lister` is the
 * command that names each ("traccia rules check"). */
void cli_diag_flush_rules(cli_diag_opts *o, const char *lister);
/* The rules that will not run, one line per cause, each line starting
 * with prefix and ending with "; <lister> lists them" (lister may be NULL). */
void cli_print_not_run(cli_diag_opts *o, FILE *out, const char *prefix, const char *lister);
/* After the evidence: the count of its problems not shown; `named` says
 * where the files are named ("the summary names the files"). */
void cli_diag_flush_evidence(cli_diag_opts *o, const char *named);
/* The summary's lines naming the files with problems (up to a cap), and
 * the first few skipped files. */
void cli_print_problem_files(const cli_diag_opts *o, FILE *out);
void cli_print_skipped_names(const cli_diag_opts *o, FILE *out, uint64_t skipped);
void cli_diag_free(cli_diag_opts *o);

/* The meaning of an exit status, for the run report. */
const char *cli_exit_meaning(int status);
/* Writes o->report to path (when both are set) with the exit status;
 * returns the status, made non-zero when the report cannot be written. */
int cli_write_run_report(cli_diag_opts *o, const char *path, int status);

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
    uint32_t regex_match_limit, regex_depth_limit; /* 0: the library's defaults */
} cli_rules_opts;

/* Consumes argv[*i] (and its value) if it is a rule option: returns 1,
 * 0 when it is not one, -1 on a usage error (already printed). */
int cli_rules_option(int argc, char **argv, int *i, cli_rules_opts *o);
/* Says that a path given on the command line does not exist (through
 * on_diag when there is one). */
void cli_say_missing(tr_diag_fn on_diag, void *user, const char *path, tr_diag_kind kind);
/* Loads and compiles the rules; TR_EXIT_OK and *out, or an exit status. */
int cli_load_rules(const cli_rules_opts *o, tr_diag_fn on_diag, void *user, tr_ruleset **out);

int cmd_hunt(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_ioc(int argc, char **argv);
int cmd_exchange(int argc, char **argv);
int cmd_case(int argc, char **argv);

#endif
