/*
 * run_report.c — the run report (tr_run_report, docs/OUTPUT.md): one JSON
 * document saying everything a run met, for scripts and the case file,
 * so that standard error can stay a few counted lines.
 *
 * What grows with the evidence (files, problems) is written as it comes
 * to spool files (tmpfile: unlinked, gone with the process), one JSON
 * value per entry; tr_run_report_write assembles the document from them
 * through a tr_out_file (out_file.c: a temporary renamed over PATH when
 * whole). A crash leaves no report, never half of one.
 *
 * Owns: its spools, the command line copy, the rules' "not run" entries
 * (rendered when tr_run_report_rules is called), the totals' text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "run_report.h"

enum { SPOOL_FILES, SPOOL_PROBLEMS, SPOOL_RULES_FAILED, SPOOL_INDICATORS_FAILED, NSPOOL };

typedef struct spool {
    FILE *f;       /* NULL until the first entry */
    uint64_t n;    /* entries */
} spool;

struct tr_run_report {
    tr_strbuf head;      /* "command", "argv", "started" members */
    tr_strbuf rules;     /* the "rules" object's counts and not_run list, or empty */
    tr_strbuf indicators;/* the "indicators" counts, or empty */
    tr_strbuf totals;    /* the "totals" object, or empty */
    tr_strbuf line;      /* one entry being built */
    spool sp[NSPOOL];
    int failed;          /* a spool could not be written: errno in err */
    int err;
    int nomem;
};

static void now_text(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

tr_status tr_run_report_create(tr_run_report **out, const char *command, int argc, char *const *argv)
{
    *out = NULL;
    tr_run_report *r = tr_calloc(1, sizeof *r);
    if (!r)
        return TR_ERR_NOMEM;
    tr_strbuf_init(&r->head);
    tr_strbuf_init(&r->rules);
    tr_strbuf_init(&r->indicators);
    tr_strbuf_init(&r->totals);
    tr_strbuf_init(&r->line);
    char started[32];
    now_text(started);
    tr_strbuf_puts(&r->head, "\"command\":");
    tr_strbuf_json_string(&r->head, command);
    tr_strbuf_puts(&r->head, ",\"argv\":[");
    for (int i = 0; i < argc; i++) {
        if (i)
            tr_strbuf_putc(&r->head, ',');
        tr_strbuf_json_string(&r->head, argv[i]);
    }
    tr_strbuf_puts(&r->head, "],\"started\":");
    tr_strbuf_json_string(&r->head, started);
    if (tr_strbuf_failed(&r->head)) {
        tr_run_report_destroy(r);
        return TR_ERR_NOMEM;
    }
    *out = r;
    return TR_OK;
}

void tr_run_report_destroy(tr_run_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < NSPOOL; i++)
        if (r->sp[i].f)
            fclose(r->sp[i].f);
    tr_strbuf_free(&r->head);
    tr_strbuf_free(&r->rules);
    tr_strbuf_free(&r->indicators);
    tr_strbuf_free(&r->totals);
    tr_strbuf_free(&r->line);
    tr_free(r);
}

/* Appends r->line as one entry of spool i. */
static void spool_line(tr_run_report *r, int i)
{
    if (tr_strbuf_failed(&r->line)) {
        r->nomem = 1;
        tr_strbuf_clear(&r->line);
        return;
    }
    spool *s = &r->sp[i];
    if (r->failed)
        return;
    if (!s->f && !(s->f = tmpfile())) {
        r->failed = 1;
        r->err = errno;
        return;
    }
    if ((s->n && fputc(',', s->f) == EOF) || fwrite(r->line.data, 1, r->line.len, s->f) != r->line.len) {
        r->failed = 1;
        r->err = errno ? errno : EIO;
        return;
    }
    s->n++;
    tr_strbuf_clear(&r->line);
}

static void put_diag(tr_strbuf *b, const tr_diag *d, bool with_kind)
{
    tr_strbuf_puts(b, "\n{\"severity\":");
    tr_strbuf_json_string(b, tr_severity_name(d->severity));
    if (with_kind) {
        tr_strbuf_puts(b, ",\"kind\":");
        tr_strbuf_json_string(b, tr_diag_kind_name(d->kind));
    }
    tr_strbuf_puts(b, ",\"path\":");
    tr_strbuf_json_string(b, d->path ? d->path : "");
    tr_strbuf_puts(b, ",\"where\":");
    tr_strbuf_json_string(b, d->where ? d->where : "");
    tr_strbuf_puts(b, ",\"reason\":");
    tr_strbuf_json_string(b, d->reason ? d->reason : "");
    tr_strbuf_putc(b, '}');
}

void tr_run_report_diag(tr_run_report *r, const tr_diag *d)
{
    put_diag(&r->line, d, true);
    spool_line(r, SPOOL_PROBLEMS);
    if (d->kind == TR_DIAG_RULE_FAILED || d->kind == TR_DIAG_INDICATOR) {
        put_diag(&r->line, d, false);
        spool_line(r, d->kind == TR_DIAG_RULE_FAILED ? SPOOL_RULES_FAILED : SPOOL_INDICATORS_FAILED);
    }
}

void tr_run_report_file(tr_run_report *r, const tr_hunt_file *f, uint64_t problems)
{
    static const char *const status[] = {"read", "damaged", "skipped"};
    tr_strbuf *b = &r->line;
    tr_strbuf_puts(b, "\n{\"path\":");
    tr_strbuf_json_string(b, f->path);
    tr_strbuf_puts(b, ",\"status\":");
    tr_strbuf_json_string(b, status[f->status >= 0 && f->status <= 2 ? f->status : 0]);
    tr_strbuf_puts(b, ",\"why\":");
    tr_strbuf_json_string(b, f->why);
    tr_strbuf_puts(b, ",\"format\":");
    tr_strbuf_json_string(b, f->format);
    tr_strbuf_printf(b, ",\"size\":%llu,\"events\":%llu,\"problems\":%llu,\"first\":",
                     (unsigned long long)f->size, (unsigned long long)f->events, (unsigned long long)problems);
    tr_strbuf_json_time(b, f->first);
    tr_strbuf_puts(b, ",\"last\":");
    tr_strbuf_json_time(b, f->last);
    if (f->resume_from)
        tr_strbuf_printf(b, ",\"resumed_from\":%llu", (unsigned long long)f->resume_from);
    if (f->incomplete)
        tr_strbuf_puts(b, ",\"incomplete\":true");
    tr_strbuf_putc(b, '}');
    spool_line(r, SPOOL_FILES);
}

/* A rule's entry, opened: the members that name it (the caller adds its
 * own and closes it); k: entries before it in the array. */
static void put_rule(tr_strbuf *b, const tr_rule_info *ri, size_t k)
{
    tr_strbuf_puts(b, k ? ",\n{\"path\":" : "\n{\"path\":");
    tr_strbuf_json_string(b, ri->path);
    tr_strbuf_printf(b, ",\"line\":%u,\"id\":", ri->line);
    tr_strbuf_json_string(b, ri->id);
    tr_strbuf_puts(b, ",\"title\":");
    tr_strbuf_json_string(b, ri->title);
}

void tr_run_report_rules(tr_run_report *r, const tr_ruleset *rs)
{
    const tr_ruleset_stats *s = tr_ruleset_get_stats(rs);
    tr_strbuf *b = &r->rules;
    tr_strbuf_clear(b);
    char digest[65];
    tr_ruleset_digest(rs, digest);
    tr_strbuf_printf(b,
                     "\"files\":%llu,\"loaded\":%llu,\"correlations\":%llu,\"filters\":%llu,\"not_loaded_count\":%llu,"
                     "\"not_run_count\":%llu,\"prefiltered\":%llu,\"digest\":\"%s\",\"not_run\":[",
                     (unsigned long long)s->files, (unsigned long long)s->loaded, (unsigned long long)s->correlations,
                     (unsigned long long)s->filters, (unsigned long long)s->failed,
                     (unsigned long long)s->not_runnable, (unsigned long long)s->prefiltered, digest);
    size_t n = tr_ruleset_count(rs), k = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_rule_info *ri = tr_ruleset_rule(rs, i);
        if (ri->runnable || ri->kind == TR_RULE_FILTER)
            continue;
        put_rule(b, ri, k++);
        tr_strbuf_puts(b, ",\"cause\":");
        tr_strbuf_json_string(b, ri->not_run_cause);
        tr_strbuf_puts(b, ",\"item\":");
        tr_strbuf_json_string(b, ri->not_run_item);
        tr_strbuf_puts(b, ",\"reason\":");
        tr_strbuf_json_string(b, ri->why_not);
        tr_strbuf_putc(b, '}');
    }
    tr_strbuf_puts(b, "],\"risky\":[");
    k = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_rule_info *ri = tr_ruleset_rule(rs, i);
        if (!ri->risk)
            continue;
        put_rule(b, ri, k++);
        tr_strbuf_puts(b, ",\"reason\":");
        tr_strbuf_json_string(b, ri->risk);
        tr_strbuf_putc(b, '}');
    }
    tr_strbuf_putc(b, ']');
    if (tr_strbuf_failed(b))
        r->nomem = 1;
}

void tr_run_report_indicators(tr_run_report *r, const tr_iocset *set)
{
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    tr_strbuf_clear(&r->indicators);
    tr_strbuf_printf(&r->indicators,
                     "\"files\":%llu,\"files_failed\":%llu,\"loaded\":%llu,\"rejected_count\":%llu,"
                     "\"unsupported\":%llu,\"duplicates\":%llu,\"not_ids\":%llu,\"revoked\":%llu",
                     (unsigned long long)s->files, (unsigned long long)s->files_failed,
                     (unsigned long long)s->counts.loaded, (unsigned long long)s->counts.rejected,
                     (unsigned long long)s->counts.unsupported, (unsigned long long)s->counts.duplicates,
                     (unsigned long long)s->counts.not_ids, (unsigned long long)s->counts.revoked);
    if (tr_strbuf_failed(&r->indicators))
        r->nomem = 1;
}

void tr_run_report_hunt(tr_run_report *r, const tr_hunt_result *res)
{
    const tr_scan_stats *s = &res->scan;
    tr_strbuf *b = &r->totals;
    tr_strbuf_clear(b);
    tr_strbuf_printf(b,
                     "\"files_seen\":%llu,\"files_read\":%llu,\"files_damaged\":%llu,\"files_skipped\":%llu,"
                     "\"skipped_unknown_format\":%llu,\"skipped_no_reader\":%llu,\"skipped_empty\":%llu,"
                     "\"skipped_unreadable\":%llu,\"paths_missing\":%llu,\"bytes_read\":%llu,\"events\":%llu,"
                     "\"events_untimed\":%llu,\"records_skipped\":%llu,\"records_recovered\":%llu,"
                     "\"values_repaired\":%llu,\"first_event\":",
                     (unsigned long long)s->files_seen, (unsigned long long)s->files_read,
                     (unsigned long long)s->files_damaged, (unsigned long long)s->files_skipped,
                     (unsigned long long)s->skip_unknown, (unsigned long long)s->skip_unsupported,
                     (unsigned long long)s->skip_empty, (unsigned long long)s->skip_io,
                     (unsigned long long)s->paths_missing, (unsigned long long)s->bytes_read,
                     (unsigned long long)s->events, (unsigned long long)s->events_untimed,
                     (unsigned long long)s->records_skipped, (unsigned long long)s->records_recovered,
                     (unsigned long long)s->values_repaired);
    tr_strbuf_json_time(b, s->first_time);
    tr_strbuf_puts(b, ",\"last_event\":");
    tr_strbuf_json_time(b, s->last_time);
    tr_strbuf_printf(b, ",\"detections\":%llu,\"filtered_out\":%llu,\"sightings\":%llu,\"per_level\":{",
                     (unsigned long long)res->detections, (unsigned long long)res->filtered_out,
                     (unsigned long long)res->sightings);
    for (int l = 0; l <= TR_LEVEL_CRITICAL; l++)
        tr_strbuf_printf(b, "%s\"%s\":%llu", l ? "," : "", l ? tr_level_name(l) : "none",
                         (unsigned long long)res->per_level[l]);
    tr_strbuf_puts(b, "},\"first_detection\":");
    tr_strbuf_json_time(b, res->first);
    tr_strbuf_puts(b, ",\"last_detection\":");
    tr_strbuf_json_time(b, res->last);
    tr_strbuf_printf(b, ",\"threads\":%u,\"seconds\":%.3f,\"output_failed\":%s", res->threads, res->seconds,
                     res->write_failed ? "true" : "false");
    if (res->case_run)
        tr_strbuf_printf(b,
                         ",\"case\":{\"run\":%lld,\"new_findings\":%llu,\"known_findings\":%llu,\"unchanged\":%llu,"
                         "\"resumed\":%llu,\"rehunted\":%llu,\"failed\":%s}",
                         (long long)res->case_run, (unsigned long long)res->case_new_findings,
                         (unsigned long long)res->case_known_findings, (unsigned long long)res->case_unchanged,
                         (unsigned long long)res->case_resumed, (unsigned long long)res->case_rehunted,
                         res->case_failed ? "true" : "false");
    if (tr_strbuf_failed(b))
        r->nomem = 1;
}

/* Copies spool i into out as the members of a JSON array. */
static int copy_spool(FILE *out, spool *s)
{
    if (!s->f)
        return 0;
    if (fflush(s->f) != 0)
        return -1;
    rewind(s->f);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, s->f)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return -1;
    int bad = ferror(s->f);
    fseek(s->f, 0, SEEK_END); /* more entries may follow */
    return bad ? -1 : 0;
}

/* 0, or -1 when writing failed, -2 when out of memory. */
static int write_doc(tr_run_report *r, FILE *out, int exit_status, const char *exit_meaning)
{
    char finished[32];
    now_text(finished);
    tr_strbuf *b = &r->line;
    tr_strbuf_clear(b);
    tr_strbuf_puts(b, "{\"report\":\"traccia run report\",\"format\":1,\"traccia\":");
    tr_strbuf_json_string(b, tr_version());
    tr_strbuf_putc(b, ',');
    tr_strbuf_append(b, r->head.data, r->head.len);
    tr_strbuf_puts(b, ",\"finished\":");
    tr_strbuf_json_string(b, finished);
    tr_strbuf_printf(b, ",\n\"exit_status\":%d,\"exit_meaning\":", exit_status);
    tr_strbuf_json_string(b, exit_meaning);
    tr_strbuf_printf(b, ",\"complete\":%s", r->failed || r->nomem ? "false" : "true");
    if (r->totals.len) {
        tr_strbuf_puts(b, ",\n\"totals\":{");
        tr_strbuf_append(b, r->totals.data, r->totals.len);
        tr_strbuf_putc(b, '}');
    }
    if (tr_strbuf_failed(b))
        return -2;
    if (fwrite(b->data, 1, b->len, out) != b->len)
        return -1;
    tr_strbuf_clear(b);
    if (r->rules.len) {
        if (fputs(",\n\"rules\":{", out) == EOF || fwrite(r->rules.data, 1, r->rules.len, out) != r->rules.len ||
            fputs(",\"not_loaded\":[", out) == EOF || copy_spool(out, &r->sp[SPOOL_RULES_FAILED]) ||
            fputs("]}", out) == EOF)
            return -1;
    }
    if (r->indicators.len) {
        if (fputs(",\n\"indicators\":{", out) == EOF ||
            fwrite(r->indicators.data, 1, r->indicators.len, out) != r->indicators.len ||
            fputs(",\"rejected\":[", out) == EOF || copy_spool(out, &r->sp[SPOOL_INDICATORS_FAILED]) ||
            fputs("]}", out) == EOF)
            return -1;
    }
    if (fputs(",\n\"files\":[", out) == EOF || copy_spool(out, &r->sp[SPOOL_FILES]) ||
        fputs("],\n\"problems\":[", out) == EOF || copy_spool(out, &r->sp[SPOOL_PROBLEMS]) ||
        fputs("]}\n", out) == EOF)
        return -1;
    return 0;
}

tr_status tr_run_report_write(tr_run_report *r, const char *path, int exit_status, const char *exit_meaning)
{
    if (r->failed) {
        errno = r->err;
        return TR_ERR_IO;
    }
    if (r->nomem)
        return TR_ERR_NOMEM;
    tr_out_file out;
    tr_status rc = tr_out_open(&out, path);
    if (rc != TR_OK)
        return rc;
    int w = write_doc(r, out.f, exit_status, exit_meaning);
    if (w) {
        int saved = errno;
        tr_out_abort(&out);
        errno = saved;
        return w == -2 ? TR_ERR_NOMEM : TR_ERR_IO;
    }
    return tr_out_commit(&out);
}
