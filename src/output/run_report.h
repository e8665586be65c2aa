/*
 * run_report.h — the run report's parts that only the library feeds: the
 * files of evidence a hunt read or skipped (sink_run_report.c hands each
 * one over at its end). The public half is in traccia.h.
 */
#ifndef TR_OUTPUT_RUN_REPORT_H
#define TR_OUTPUT_RUN_REPORT_H

#include "../hunt/pipeline.h"

/* Notes one file as the hunt's writer finished it, with the number of
 * problems said about it. Everything is copied (to the report's spool). */
void tr_run_report_file(tr_run_report *r, const tr_hunt_file *f, uint64_t problems);

#endif
