/*
 * sink_run_report.c — the run report as a sink: every file of evidence the
 * hunt read or skipped, with its status, reason, format, counts and the
 * number of problems said about it, handed to the caller's tr_run_report
 * (tr_hunt_options.run_report) as the writer finishes it.
 *
 * Takes no findings. Owns only the count of the current file's problems;
 * the report is the caller's.
 */
#include "../util/alloc.h"
#include "run_report.h"

typedef struct report_sink {
    tr_run_report *report;
    uint64_t problems; /* of the current file */
} report_sink;

static bool report_wanted(const tr_hunt_options *o) { return o->run_report != NULL; }

static tr_status report_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    report_sink *s = tr_calloc(1, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    s->report = o->run_report;
    *state = s;
    return TR_OK;
}

static tr_status report_file_begin(void *state, const tr_hunt_file *f)
{
    (void)f;
    ((report_sink *)state)->problems = 0;
    return TR_OK;
}

static tr_status report_problem(void *state, const tr_diag *d)
{
    /* the report has it from the caller's diagnostics; counted under the
     * file being read, unless of the whole input (path "") */
    if (*d->path)
        ((report_sink *)state)->problems++;
    return TR_OK;
}

static tr_status report_file_end(void *state, const tr_hunt_file *f)
{
    report_sink *s = state;
    tr_run_report_file(s->report, f, s->problems);
    return TR_OK;
}

static tr_status report_close(void *state, tr_hunt_result *res, int ok)
{
    (void)res;
    (void)ok;
    tr_free(state);
    return TR_OK;
}

const tr_sink_ops tr_sink_run_report = {
    .name = "run report",
    .wanted = report_wanted,
    .open = report_open,
    .file_begin = report_file_begin,
    .problem = report_problem,
    .file_end = report_file_end,
    .close = report_close,
};
