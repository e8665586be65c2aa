/*
 * sink_exchange.c — the Exchange compromise report as a sink: every finding
 * (tr_exchange_report_finding) and every file's events per server
 * (tr_exchange_report_events) into the caller's tr_exchange_report, which
 * `traccia exchange` then prints.
 *
 * Owns nothing: the report is the caller's.
 */
#include <string.h>

#include "../hunt/pipeline.h"

static bool exchange_wanted(const tr_hunt_options *o) { return o->exchange != NULL; }

static tr_status exchange_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    *state = o->exchange;
    return TR_OK;
}

static tr_status exchange_finding(void *state, const tr_finding *f) { return tr_exchange_report_finding(state, f); }

static tr_status exchange_file_end(void *state, const tr_hunt_file *f)
{
    tr_status rc = TR_OK;
    for (size_t i = 0; i < f->nsources; i++) {
        const tr_hunt_source *s = &f->sources[i];
        tr_status r = tr_exchange_report_events(state, s->host, strlen(s->host), s->format, s->channel,
                                                s->channel ? strlen(s->channel) : 0, s->events, s->first, s->last);
        if (r != TR_OK)
            rc = r;
    }
    return rc;
}

static tr_status exchange_close(void *state, tr_hunt_result *res, int ok)
{
    (void)ok;
    tr_exchange_report_set_input(state, &res->scan);
    return TR_OK;
}

const tr_sink_ops tr_sink_exchange = {
    .name = "exchange",
    .needs = TR_SINK_EVENT,
    .wanted = exchange_wanted,
    .open = exchange_open,
    .finding = exchange_finding,
    .file_end = exchange_file_end,
    .close = exchange_close,
};
