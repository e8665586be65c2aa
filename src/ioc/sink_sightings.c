/*
 * sink_sightings.c — the indicator sightings as a sink: every indicator
 * finding into one tr_sighting_log (count, first and last time, hosts, the
 * value seen), handed to the caller in tr_hunt_result.sighting_log for the
 * summary and the STIX 2.1 bundle.
 *
 * Owns: the log until close, then the result does.
 */
#include "../hunt/pipeline.h"

static bool sightings_wanted(const tr_hunt_options *o) { return o->iocs != NULL; }

static tr_status sightings_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    return tr_sighting_log_create((tr_sighting_log **)state, o->iocs);
}

static tr_status sightings_finding(void *state, const tr_finding *f)
{
    return f->kind == TR_FINDING_INDICATOR ? tr_sighting_log_add_finding(state, f) : TR_OK;
}

static tr_status sightings_close(void *state, tr_hunt_result *res, int ok)
{
    (void)ok;
    res->sighting_log = state;
    return TR_OK;
}

const tr_sink_ops tr_sink_sightings = {
    .name = "sightings",
    .wanted = sightings_wanted,
    .open = sightings_open,
    .finding = sightings_finding,
    .close = sightings_close,
};
