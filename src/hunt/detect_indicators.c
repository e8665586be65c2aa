/*
 * detect_indicators.c — the indicator sweep as a detector: every value of
 * every event against the compiled indicator set (tr_ioc_matcher), in the
 * same pass as the rules; one matcher per worker, no state across events.
 *
 * Owns: its indicator matcher.
 */
#include "pipeline.h"

static bool ioc_wanted(const tr_hunt_options *o) { return o->iocs != NULL; }

static tr_status ioc_create(void **state, const tr_hunt_options *o)
{
    return tr_ioc_matcher_create((tr_ioc_matcher **)state, o->iocs);
}

static void ioc_event(void *state, const tr_event *ev, tr_emit *e)
{
    tr_ioc_matcher_event(state, ev, tr_emit_detection_fn, e);
}

static void ioc_destroy(void *state) { tr_ioc_matcher_destroy(state); }

const tr_detector_ops tr_detector_indicators = {
    .name = "indicators",
    .wanted = ioc_wanted,
    .create = ioc_create,
    .event = ioc_event,
    .destroy = ioc_destroy,
};
