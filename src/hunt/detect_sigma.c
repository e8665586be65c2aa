/*
 * detect_sigma.c — the Sigma detector: every compiled rule of the ruleset
 * routed to each event (tr_matcher), correlations included; one matcher per
 * worker. Correlation rules keep state across events, so with any in the
 * ruleset the detector asks for one ordered stream, and the pending windows
 * report at the end (flush).
 *
 * Owns: its matcher.
 */
#include "pipeline.h"

static bool sigma_wanted(const tr_hunt_options *o) { return o->rules != NULL; }

static bool sigma_ordered(const tr_hunt_options *o) { return tr_ruleset_get_stats(o->rules)->correlations > 0; }

static tr_status sigma_create(void **state, const tr_hunt_options *o)
{
    return tr_matcher_create((tr_matcher **)state, o->rules, o->match_flags);
}

static void sigma_event(void *state, const tr_event *ev, tr_emit *e)
{
    tr_matcher_event(state, ev, tr_emit_detection_fn, e);
}

static void sigma_flush(void *state, tr_emit *e) { tr_matcher_flush(state, tr_emit_detection_fn, e); }

static void sigma_destroy(void *state) { tr_matcher_destroy(state); }

const tr_detector_ops tr_detector_sigma = {
    .name = "sigma",
    .wanted = sigma_wanted,
    .ordered = sigma_ordered,
    .create = sigma_create,
    .event = sigma_event,
    .flush = sigma_flush,
    .destroy = sigma_destroy,
};
