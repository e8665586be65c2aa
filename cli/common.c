/*
 * common.c — diagnostics as the subcommands print them. Each goes to
 * stderr as "traccia: <severity>: <path>: <where>: <reason>", one per line,
 * so they can be grepped and never mix with results on stdout.
 *
 * By default a run speaks in a few counted lines: rules that will not run
 * are counted by cause and by what they concern (one line per cause), the
 * rules and indicators that did not load are named up to a few and then
 * counted, and of the evidence's problems the first of each file is shown
 * for the first few files, the rest counted (the summary names the files).
 * -v prints every item, -q only errors. Every diagnostic, shown or not, also
 * goes to the run report when there is one.
 *
 * Also shared by the subcommands: the exit status that what was read calls
 * for (cli_evidence_status) and the run report's writing.
 *
 * Owns the counts and the copies of names kept for the summary
 * (cli_diag_free).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_line(const tr_diag *d)
{
    if (d->where && d->where[0])
        fprintf(stderr, "traccia: %s: %s: %s: %s\n", tr_severity_name(d->severity), d->path, d->where, d->reason);
    else if (d->path && d->path[0])
        fprintf(stderr, "traccia: %s: %s: %s\n", tr_severity_name(d->severity), d->path, d->reason);
    else /* about the run, no file */
        fprintf(stderr, "traccia: %s: %s\n", tr_severity_name(d->severity), d->reason);
}

static char *copy(const char *s) { return strdup(s ? s : ""); }

/* Counts one more under cause and item in a table of groups. */
static void group_add(cli_group **groups, size_t *ngroups, const char *cause, const char *item)
{
    cli_group *g = NULL;
    for (size_t i = 0; i < *ngroups && !g; i++)
        if (strcmp((*groups)[i].cause, cause) == 0)
            g = &(*groups)[i];
    if (!g) {
        cli_group *ng = realloc(*groups, (*ngroups + 1) * sizeof *ng);
        if (!ng)
            return;
        *groups = ng;
        g = &ng[*ngroups];
        memset(g, 0, sizeof *g);
        if (!(g->cause = copy(cause)))
            return;
        (*ngroups)++;
    }
    g->n++;
    if (!item)
        return;
    for (size_t i = 0; i < g->nitems; i++)
        if (strcmp(g->items[i].name, item) == 0) {
            g->items[i].n++;
            return;
        }
    cli_group_item *ni = realloc(g->items, (g->nitems + 1) * sizeof *ni);
    if (!ni)
        return;
    g->items = ni;
    if ((ni[g->nitems].name = copy(item)) != NULL)
        ni[g->nitems++].n = 1;
}

/* A rule that did not load, grouped by its reason's words before the
 * first quote or digit ("unknown modifier"), the first quoted word its
 * item ("nosuchmodifier") when it has a letter. */
static void group_failed(cli_diag_opts *o, const tr_diag *d)
{
    const char *why = d->cause ? d->cause : d->reason;
    size_t n = strcspn(why, "'\"0123456789");
    while (n && (why[n - 1] == ' ' || why[n - 1] == ':' || why[n - 1] == ','))
        n--;
    char cause[128], item[128];
    snprintf(cause, sizeof cause, "%.*s", (int)(n ? n : strlen(why)), why);
    const char *q = strchr(why, '\'');
    const char *e = q ? strchr(q + 1, '\'') : NULL;
    bool named = false;
    if (e) {
        snprintf(item, sizeof item, "%.*s", (int)(e - q - 1), q + 1);
        for (const char *c = item; *c && !named; c++)
            named = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z');
    }
    group_add(&o->failed, &o->nfailed, cause, named ? item : NULL);
}

/* A problem with a file of evidence: the first of each file is shown for
 * the first CLI_SHOWN_FILES files; every file is counted, and the first
 * CLI_NAMED_FILES are kept for the summary. Diagnostics come in file
 * order, so a file is new when its path differs from the last one's. */
static bool note_evidence(cli_diag_opts *o, const tr_diag *d)
{
    o->ev_problems++;
    bool fresh = !o->last_path || strcmp(o->last_path, d->path) != 0;
    if (fresh) {
        free(o->last_path);
        o->last_path = copy(d->path);
        o->ev_files++;
        if (o->nnamed < CLI_NAMED_FILES) {
            cli_problem_file *f = &o->named[o->nnamed];
            size_t n = strlen(d->where) + strlen(d->reason) + 3;
            f->path = copy(d->path);
            f->first = malloc(n);
            if (f->first)
                snprintf(f->first, n, "%s%s%s", d->where, d->where[0] ? ": " : "", d->reason);
            f->problems = 0;
            f->severity = d->severity;
            if (f->path && f->first)
                o->nnamed++;
        }
    }
    if (o->nnamed && strcmp(o->named[o->nnamed - 1].path, d->path) == 0) {
        cli_problem_file *f = &o->named[o->nnamed - 1];
        f->problems++;
        if ((int)d->severity > f->severity)
            f->severity = d->severity;
    }
    if (fresh && o->ev_files_shown < CLI_SHOWN_FILES) {
        o->ev_files_shown++;
        return true;
    }
    o->ev_hidden++;
    return false;
}

void cli_print_diag(void *user, const tr_diag *d)
{
    cli_diag_opts *o = user;
    if (o->report)
        tr_run_report_diag(o->report, d);
    unsigned kind = (unsigned)d->kind < TR_DIAG_KINDS ? (unsigned)d->kind : TR_DIAG_RUN;
    if (kind == TR_DIAG_SKIPPED && d->severity == TR_SEV_INFO && o->nskipped < CLI_NAMED_SKIPPED) {
        char *p = copy(d->path);
        if (p)
            o->skipped[o->nskipped++] = p;
    }
    if (kind == TR_DIAG_RULE_NOT_RUN)
        group_add(&o->groups, &o->ngroups, d->cause ? d->cause : "cannot run", d->item);
    if (kind == TR_DIAG_RULE_FAILED && d->severity == TR_SEV_ERROR)
        group_failed(o, d);
    if (o->verbose) {
        print_line(d);
        return;
    }
    if (d->severity == TR_SEV_INFO)
        return;
    if (o->quiet && d->severity < TR_SEV_ERROR) {
        if (kind == TR_DIAG_EVIDENCE || kind == TR_DIAG_SKIPPED)
            (void)note_evidence(o, d); /* still named in the summary */
        return;
    }
    bool show = true;
    switch (kind) {
    case TR_DIAG_RULE_NOT_RUN:
        show = false;
        break;
    case TR_DIAG_RULE_FAILED:
    case TR_DIAG_RULE_NOTE:
    case TR_DIAG_INDICATOR:
    case TR_DIAG_LIMIT:
        show = o->shown[kind] < CLI_SHOWN_RULES;
        break;
    case TR_DIAG_EVIDENCE:
    case TR_DIAG_SKIPPED:
        show = note_evidence(o, d);
        break;
    default:
        break;
    }
    if (show) {
        o->shown[kind]++;
        print_line(d);
    } else if (kind != TR_DIAG_RULE_NOT_RUN && kind != TR_DIAG_EVIDENCE && kind != TR_DIAG_SKIPPED) {
        o->hidden[kind]++;
        if (kind == TR_DIAG_LIMIT) /* the ones not shown, by rule */
            group_add(&o->limited, &o->nlimited, "cut short by an engine limit", d->item ? d->item : "?");
    }
}

static int by_count(const void *a, const void *b)
{
    const cli_group_item *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* One line per group: "<prefix><n> <one|many> <cause>: item n, item n…" */
static void print_groups(cli_group *groups, size_t ngroups, FILE *out, const char *prefix, const char *one,
                         const char *many, const char *lister)
{
    for (size_t i = 0; i < ngroups; i++) {
        cli_group *g = &groups[i];
        if (!g->n)
            continue;
        qsort(g->items, g->nitems, sizeof *g->items, by_count);
        fprintf(out, "%s%llu %s %s", prefix, (unsigned long long)g->n, g->n == 1 ? one : many, g->cause);
        for (size_t k = 0; k < g->nitems && k < CLI_GROUP_ITEMS; k++)
            fprintf(out, "%s%s %llu", k ? ", " : ": ", g->items[k].name, (unsigned long long)g->items[k].n);
        if (g->nitems > CLI_GROUP_ITEMS)
            fprintf(out, ", and %zu more", g->nitems - CLI_GROUP_ITEMS);
        if (lister)
            fprintf(out, "; %s", lister);
        fputc('\n', out);
        g->n = 0; /* said once */
    }
}

void cli_print_not_run(cli_diag_opts *o, FILE *out, const char *prefix, const char *lister)
{
    char tail[200];
    if (lister)
        snprintf(tail, sizeof tail, "%s lists them", lister);
    print_groups(o->groups, o->ngroups, out, prefix, "rule", "rules", lister ? tail : NULL);
}

void cli_diag_flush_rules(cli_diag_opts *o, const char *lister)
{
    if (o->verbose)
        return;
    if (!o->quiet) {
        cli_print_not_run(o, stderr, "traccia: note: ", lister);
        if (o->hidden[TR_DIAG_RULE_NOTE]) {
            fprintf(stderr, "traccia: warning: %llu more remark%s on rules not shown; %s lists them\n",
                    (unsigned long long)o->hidden[TR_DIAG_RULE_NOTE], o->hidden[TR_DIAG_RULE_NOTE] == 1 ? "" : "s",
                    lister);
            o->hidden[TR_DIAG_RULE_NOTE] = 0;
        }
    }
    if (o->hidden[TR_DIAG_RULE_FAILED]) { /* past the first few: every one, by reason */
        char tail[200];
        snprintf(tail, sizeof tail, "%s names each", lister);
        print_groups(o->failed, o->nfailed, stderr, "traccia: error: ", "rule not loaded:", "rules not loaded:", tail);
        o->hidden[TR_DIAG_RULE_FAILED] = 0;
    }
    for (size_t i = 0; i < o->nfailed; i++)
        o->failed[i].n = 0;
    if (o->hidden[TR_DIAG_INDICATOR]) {
        fprintf(stderr, "traccia: error: %llu more problem%s with the indicators not shown; "
                        "traccia ioc check names each\n",
                (unsigned long long)o->hidden[TR_DIAG_INDICATOR], o->hidden[TR_DIAG_INDICATOR] == 1 ? "" : "s");
        o->hidden[TR_DIAG_INDICATOR] = 0;
    }
}

void cli_diag_flush_evidence(cli_diag_opts *o, const char *named)
{
    if (!o->verbose && o->hidden[TR_DIAG_LIMIT] && o->nlimited) { /* errors: said even with -q */
        print_groups(o->limited, o->nlimited, stderr, "traccia: error: ", "more file where a rule was",
                     "more files where rules were", "they may have missed events; the summary counts them, -v names each");
        o->hidden[TR_DIAG_LIMIT] = 0;
    }
    if (o->verbose || !o->ev_hidden || o->quiet)
        return;
    uint64_t files = o->ev_files - o->ev_files_shown;
    char in[64] = "in the files above";
    if (files)
        snprintf(in, sizeof in, "in %llu more file%s and those above", (unsigned long long)files,
                 files == 1 ? "" : "s");
    fprintf(stderr, "traccia: warning: %llu more problem%s with the evidence not shown, %s; %s, -v shows each%s\n",
            (unsigned long long)o->ev_hidden, o->ev_hidden == 1 ? "" : "s", in, named,
            o->report ? ", the run report lists them" : "");
    o->ev_hidden = 0;
}

void cli_print_problem_files(const cli_diag_opts *o, FILE *out)
{
    if (!o->ev_files)
        return;
    fprintf(out, "  evidence problems: %llu in %llu file%s%s\n", (unsigned long long)o->ev_problems,
            (unsigned long long)o->ev_files, o->ev_files == 1 ? "" : "s",
            o->verbose ? "" : " (-v shows each, --run-report FILE lists them)");
    for (size_t i = 0; i < o->nnamed; i++) {
        const cli_problem_file *f = &o->named[i];
        fprintf(out, "    %s: %s", f->path, f->first);
        if (f->problems > 1)
            fprintf(out, " (and %llu more)", (unsigned long long)(f->problems - 1));
        fputc('\n', out);
    }
    if (o->ev_files > o->nnamed)
        fprintf(out, "    ... and %llu more files\n", (unsigned long long)(o->ev_files - o->nnamed));
}

void cli_print_skipped_names(const cli_diag_opts *o, FILE *out, uint64_t skipped)
{
    if (!o->nskipped || o->verbose)
        return;
    fprintf(out, "                    ");
    for (size_t i = 0; i < o->nskipped; i++)
        fprintf(out, "%s%s", i ? ", " : "e.g. ", o->skipped[i]);
    if (skipped > o->nskipped)
        fprintf(out, " and %llu more", (unsigned long long)(skipped - o->nskipped));
    fputc('\n', out);
}

void cli_diag_free(cli_diag_opts *o)
{
    for (size_t i = 0; i < o->ngroups; i++) {
        for (size_t k = 0; k < o->groups[i].nitems; k++)
            free(o->groups[i].items[k].name);
        free(o->groups[i].items);
        free(o->groups[i].cause);
    }
    free(o->groups);
    for (size_t i = 0; i < o->nfailed; i++) {
        for (size_t k = 0; k < o->failed[i].nitems; k++)
            free(o->failed[i].items[k].name);
        free(o->failed[i].items);
        free(o->failed[i].cause);
    }
    free(o->failed);
    for (size_t i = 0; i < o->nlimited; i++) {
        for (size_t k = 0; k < o->limited[i].nitems; k++)
            free(o->limited[i].items[k].name);
        free(o->limited[i].items);
        free(o->limited[i].cause);
    }
    free(o->limited);
    for (size_t i = 0; i < o->nnamed; i++) {
        free(o->named[i].path);
        free(o->named[i].first);
    }
    for (size_t i = 0; i < o->nskipped; i++)
        free(o->skipped[i]);
    free(o->last_path);
    o->groups = o->failed = o->limited = NULL;
    o->ngroups = o->nfailed = o->nlimited = o->nnamed = o->nskipped = 0;
    o->last_path = NULL;
}

const char *cli_exit_meaning(int status)
{
    switch (status) {
    case TR_EXIT_OK: return "the job ran on readable input";
    case TR_EXIT_USAGE: return "usage error";
    case TR_EXIT_NO_INPUT: return "nothing could be read, or the job could not be done";
    case TR_EXIT_INCOMPLETE: return "the job ran, but not on everything (damaged or unreadable input, a limit hit, "
                                    "a rule not loaded, an output that failed)";
    default: return "unknown";
    }
}

int cli_evidence_status(const tr_scan_stats *s, uint64_t unchanged, uint64_t rules_failed, const char *other)
{
    if (unchanged == 0 && (s->files_read == 0 || (s->events == 0 && s->files_damaged == s->files_read))) {
        if (s->files_read == 0)
            fprintf(stderr, "traccia: no input could be read (%llu file(s) found)\n",
                    (unsigned long long)s->files_seen);
        else
            fprintf(stderr, "traccia: no input could be read: every file is damaged and not one event came out "
                            "of %llu file(s)\n",
                    (unsigned long long)s->files_read);
        return TR_EXIT_NO_INPUT;
    }
    struct {
        uint64_t n;
        const char *what;
    } why[] = {{s->files_damaged, "damaged"},           {s->skip_io, "unreadable"},
               {s->skip_unsupported, "with no reader yet"}, {s->paths_missing, "missing (path)"},
               {rules_failed, "not loaded (rule)"}};
    char line[512];
    size_t at = 0;
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++)
        if (why[i].n && at < sizeof line)
            at += (size_t)snprintf(line + at, sizeof line - at, "%s%llu %s", at ? ", " : "",
                                   (unsigned long long)why[i].n, why[i].what);
    if (other && at < sizeof line)
        at += (size_t)snprintf(line + at, sizeof line - at, "%s%s", at ? ", " : "", other);
    if (!at)
        return TR_EXIT_OK;
    fprintf(stderr, "traccia: incomplete (exit status 3): %s\n", line);
    return TR_EXIT_INCOMPLETE;
}

int cli_write_run_report(cli_diag_opts *o, const char *path, int status)
{
    if (!o->report || !path)
        return status;
    tr_status st = tr_run_report_write(o->report, path, status, cli_exit_meaning(status));
    if (st != TR_OK) {
        fprintf(stderr, "traccia: error: %s: writing the run report failed: %s\n", path,
                st == TR_ERR_IO ? strerror(errno) : tr_strerror(st));
        return status == TR_EXIT_OK ? TR_EXIT_NO_INPUT : status;
    }
    return status;
}

bool cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }
