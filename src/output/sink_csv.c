/*
 * sink_csv.c — the CSV timeline as a sink: the header, then each finding as
 * one row (tr_finding_write_csv, docs/OUTPUT.md) on tr_hunt_options.csv.
 *
 * Owns nothing: the stream is the caller's.
 */
#include "../hunt/pipeline.h"

static bool csv_wanted(const tr_hunt_options *o) { return o->csv != NULL; }

static tr_status csv_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    *state = o->csv;
    size_t n = sizeof TR_DETECTION_CSV_HEADER - 1;
    return fwrite(TR_DETECTION_CSV_HEADER, 1, n, o->csv) == n ? TR_OK : TR_ERR_IO;
}

static tr_status csv_finding(void *state, const tr_finding *f) { return tr_finding_write_csv(state, f); }

static tr_status csv_close(void *state, tr_hunt_result *res, int ok)
{
    (void)res;
    (void)ok;
    return fflush(state) == 0 ? TR_OK : TR_ERR_IO;
}

const tr_sink_ops tr_sink_csv = {
    .name = "csv",
    .needs = TR_SINK_EVENT,
    .wanted = csv_wanted,
    .open = csv_open,
    .finding = csv_finding,
    .close = csv_close,
};
