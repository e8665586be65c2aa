/*
 * sink_jsonl.c — the JSON lines output as a sink: each finding as one line
 * (tr_finding_write_json, docs/OUTPUT.md) on tr_hunt_options.jsonl, and
 * where a rule was cut short by an engine limit, an `incomplete` line
 * (tr_incomplete_write_json) ahead of that file's findings, or at the end
 * for a correlation cut short at the end of input.
 *
 * Owns nothing: the stream is the caller's.
 */
#include "../hunt/pipeline.h"

static bool jsonl_wanted(const tr_hunt_options *o) { return o->jsonl != NULL; }

static tr_status jsonl_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    *state = o->jsonl;
    return TR_OK;
}

static tr_status jsonl_finding(void *state, const tr_finding *f) { return tr_finding_write_json(state, f); }

static tr_status jsonl_problem(void *state, const tr_diag *d)
{
    return d->kind == TR_DIAG_LIMIT ? tr_incomplete_write_json(state, d) : TR_OK;
}

static tr_status jsonl_close(void *state, tr_hunt_result *res, int ok)
{
    (void)res;
    (void)ok;
    return fflush(state) == 0 ? TR_OK : TR_ERR_IO;
}

const tr_sink_ops tr_sink_jsonl = {
    .name = "jsonl",
    .needs = TR_SINK_EVENT,
    .wanted = jsonl_wanted,
    .open = jsonl_open,
    .problem = jsonl_problem,
    .finding = jsonl_finding,
    .close = jsonl_close,
};
