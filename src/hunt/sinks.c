/*
 * sinks.c — the sink table: the outputs a hunt's writer hands every finding
 * to, in file order, in this order (pipeline.h). One row per output; a sink
 * is opened when its option is set (its `wanted`).
 */
#include "pipeline.h"

const tr_sink_ops *const tr_sinks[] = {
    &tr_sink_case,      /* the case store (SQLite): first, so it plans what is read */
    &tr_sink_jsonl,     /* JSON lines */
    &tr_sink_csv,       /* CSV timeline */
    &tr_sink_sightings, /* indicator sightings, the STIX bundle's source */
    &tr_sink_exchange,  /* the Exchange compromise report */
    &tr_sink_run_report, /* the run report: every file read or skipped */
    NULL,
};
