/*
 * detect_sigma.c — the Sigma detector: every compiled rule of the ruleset
 * routed to each event (tr_matcher), correlations included; one matcher per
 * worker. Correlation rules keep state across events, so with any in the
 * ruleset the detector asks for one ordered stream, and the pending windows
 * report at the end (flush).
 *
 * No silent miss: a rule whose regular expression hits an engine limit on
 * an event, and that did not match it otherwise, may have missed it. Such
 * rules are counted per job (a file, or a part of one) and said at the
 * job's end, one problem per rule and file with the number of events and
 * the first record, and counted in the hunt's result (exit status 3).
 *
 * Owns: its matcher, and per rule the count and first record of the
 * current job's cut-short evaluations (allocated once per worker).
 */
#include <stdio.h>

#include "../util/alloc.h"
#include "pipeline.h"

typedef struct sigma_state {
    tr_matcher *m;
    const tr_ruleset *rs;
    uint32_t *count;     /* [rules]: events cut short in this job */
    uint64_t *first;     /* [rules]: the first one's record */
    const char **why;    /* [rules]: the limit it hit */
    uint32_t *touched;   /* rules with a count, in order met */
    size_t ntouched;
    tr_emit *at_end;     /* the emitter of the end of input, while flushing */
} sigma_state;

static bool sigma_wanted(const tr_hunt_options *o) { return o->rules != NULL; }

static bool sigma_ordered(const tr_hunt_options *o) { return tr_ruleset_get_stats(o->rules)->correlations > 0; }

static void sigma_destroy(void *state)
{
    sigma_state *s = state;
    if (!s)
        return;
    tr_matcher_destroy(s->m);
    tr_free(s->count);
    tr_free(s->first);
    tr_free(s->why);
    tr_free(s->touched);
    tr_free(s);
}

static void on_limit(void *user, const tr_rule_info *rule, const tr_event *ev, const char *why, uint64_t n)
{
    sigma_state *s = user;
    size_t i = rule->index;
    if (!ev) { /* a correlation, at the end of input: said at once */
        char reason[768];
        snprintf(reason, sizeof reason, "correlation '%s' had to ignore %llu input(s), by %s: it may have missed "
                 "correlations", rule->title, (unsigned long long)n, why);
        tr_diag d = {TR_SEV_ERROR, "", "", reason, TR_DIAG_LIMIT, "cut short by an engine limit", rule->title, rule};
        if (s->at_end) {
            tr_emit_problem(s->at_end, &d);
            tr_emit_limited(s->at_end, i, n);
        }
        return;
    }
    if (!s->count[i]++) {
        s->touched[s->ntouched++] = (uint32_t)i;
        s->first[i] = tr_event_origin(ev)->record;
        s->why[i] = why;
    }
}

static tr_status sigma_create(void **state, const tr_hunt_options *o)
{
    *state = NULL;
    sigma_state *s = tr_calloc(1, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    size_t n = tr_ruleset_count(o->rules) + 1;
    s->rs = o->rules;
    s->count = tr_calloc(n, sizeof *s->count);
    s->first = tr_calloc(n, sizeof *s->first);
    s->why = tr_calloc(n, sizeof *s->why);
    s->touched = tr_calloc(n, sizeof *s->touched);
    tr_status rc = s->count && s->first && s->why && s->touched ? TR_OK : TR_ERR_NOMEM;
    if (rc == TR_OK)
        rc = tr_matcher_create(&s->m, o->rules, o->match_flags);
    if (rc != TR_OK) {
        sigma_destroy(s);
        return rc;
    }
    tr_matcher_on_limit(s->m, on_limit, s);
    *state = s;
    return TR_OK;
}

static void sigma_event(void *state, const tr_event *ev, tr_emit *e)
{
    sigma_state *s = state;
    tr_matcher_event(s->m, ev, tr_emit_detection_fn, e);
}

/* The job's cut-short rules said, one problem each, and counted. */
static void sigma_end_of_file(void *state, tr_emit *e)
{
    sigma_state *s = state;
    for (size_t k = 0; k < s->ntouched; k++) {
        uint32_t i = s->touched[k];
        const tr_rule_info *ri = tr_ruleset_rule(s->rs, i);
        char reason[768], where[48];
        snprintf(where, sizeof where, "record %llu", (unsigned long long)s->first[i]);
        snprintf(reason, sizeof reason,
                 "rule '%s' was cut short on %u event(s) from here on by %s: it may have missed them", ri->title,
                 s->count[i], s->why[i]);
        tr_diag d = {TR_SEV_ERROR, NULL, where, reason, TR_DIAG_LIMIT, "cut short by an engine limit", ri->title, ri};
        tr_emit_problem(e, &d);
        tr_emit_limited(e, i, s->count[i]);
        s->count[i] = 0;
    }
    s->ntouched = 0;
}

static void sigma_flush(void *state, tr_emit *e)
{
    sigma_state *s = state;
    s->at_end = e;
    tr_matcher_flush(s->m, tr_emit_detection_fn, e);
    s->at_end = NULL;
}

const tr_detector_ops tr_detector_sigma = {
    .name = "sigma",
    .wanted = sigma_wanted,
    .ordered = sigma_ordered,
    .create = sigma_create,
    .event = sigma_event,
    .end_of_file = sigma_end_of_file,
    .flush = sigma_flush,
    .destroy = sigma_destroy,
};
