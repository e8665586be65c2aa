/*
 * detect_evidence.c — the evidence detector: it reports nothing suspicious,
 * it counts what each file holds — events per host (the one host identity,
 * tr_event_host) and channel (Channel, or an Exchange log's LogType), with
 * their first and last time — and hands the counts to the sinks at the end
 * of each file or part (tr_emit_source). The case's inventory and hosts and
 * the Exchange report's per-server evidence come from it.
 *
 * Owns: the per-job table (bounded: MAX_SOURCES rows; past it, events are
 * counted in a last row of no host, TR_HOST_UNKNOWN, channel "(other)").
 */
#include <string.h>

#include "../case/host.h"
#include "../util/alloc.h"
#include "pipeline.h"

#define MAX_SOURCES 256
#define NAME_MAX_BYTES 255

typedef struct row {
    char host[NAME_MAX_BYTES + 1];
    char key[TR_HOST_KEY_MAX];
    char channel[NAME_MAX_BYTES + 1];
    int has_channel;
    const char *format;
    uint64_t events;
    tr_time first, last;
} row;

typedef struct evidence {
    tr_host_path_cache hosts; /* the folder of the file being read, worked out once */
    row rows[MAX_SOURCES];
    size_t n;
    size_t last; /* the row the previous event went to */
} evidence;

static bool ev_wanted(const tr_hunt_options *o)
{
    (void)o;
    return true; /* cheap, and every hunt's summary and case want it */
}

static tr_status ev_create(void **state, const tr_hunt_options *o)
{
    (void)o;
    evidence *e = tr_calloc(1, sizeof *e);
    *state = e;
    return e ? TR_OK : TR_ERR_NOMEM;
}

static void copy(char *dst, const char *s, size_t n)
{
    if (n > NAME_MAX_BYTES)
        n = NAME_MAX_BYTES;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool same(const row *r, const char *key, const char *format, const char *ch, size_t chn)
{
    return r->format == format && strcmp(r->key, key) == 0 &&
           (ch ? r->has_channel && strlen(r->channel) == (chn > NAME_MAX_BYTES ? NAME_MAX_BYTES : chn) &&
                     memcmp(r->channel, ch, strlen(r->channel)) == 0
               : !r->has_channel);
}

static void ev_event(void *state, const tr_event *ev, tr_emit *em)
{
    (void)em;
    evidence *e = state;
    char key[TR_HOST_KEY_MAX];
    const char *name;
    size_t nlen;
    tr_event_host_cached(ev, &e->hosts, key, &name, &nlen);
    const tr_field *f = tr_event_get(ev, "Channel", 7);
    if (!f)
        f = tr_event_get(ev, "LogType", 7);
    const char *ch = f && f->value.str && f->value.type != TR_LIST ? f->value.str : NULL;
    size_t chn = ch ? f->value.len : 0;
    const char *format = tr_event_origin(ev)->format;
    row *r = NULL;
    if (e->n && same(&e->rows[e->last], key, format, ch, chn)) {
        r = &e->rows[e->last];
    } else {
        for (size_t i = 0; i < e->n && !r; i++)
            if (same(&e->rows[i], key, format, ch, chn))
                r = &e->rows[i], e->last = i;
        if (!r) {
            if (e->n == MAX_SOURCES - 1) { /* full: the rest counted, under no host */
                r = &e->rows[e->n];
                memset(r, 0, sizeof *r);
                memcpy(r->key, TR_HOST_UNKNOWN, sizeof TR_HOST_UNKNOWN);
                memcpy(r->host, TR_HOST_UNKNOWN, sizeof TR_HOST_UNKNOWN);
                memcpy(r->channel, "(other)", 8);
                r->has_channel = 1;
                r->format = format;
                r->first = r->last = TR_TIME_NONE;
                e->last = e->n++;
                nlen = 0; /* keep the overflow row's name */
            } else if (e->n == MAX_SOURCES) {
                r = &e->rows[MAX_SOURCES - 1];
                nlen = 0;
            } else {
                r = &e->rows[e->n];
                memset(r, 0, sizeof *r);
                memcpy(r->key, key, sizeof key);
                r->format = format;
                if (ch) {
                    copy(r->channel, ch, chn);
                    r->has_channel = 1;
                }
                r->first = r->last = TR_TIME_NONE;
                e->last = e->n++;
            }
        }
    }
    /* the longest spelling: the FQDN over the short name */
    if (nlen > strlen(r->host) && nlen <= NAME_MAX_BYTES)
        copy(r->host, name, nlen);
    r->events++;
    tr_time t = tr_event_time(ev);
    if (t != TR_TIME_NONE) {
        if (r->first == TR_TIME_NONE || t < r->first)
            r->first = t;
        if (r->last == TR_TIME_NONE || t > r->last)
            r->last = t;
    }
}

static void ev_end_of_file(void *state, tr_emit *em)
{
    evidence *e = state;
    for (size_t i = 0; i < e->n; i++) {
        const row *r = &e->rows[i];
        tr_hunt_source s = {r->host, r->key, r->format, r->has_channel ? r->channel : NULL,
                            r->events, r->first, r->last};
        tr_emit_source(em, &s);
    }
    e->n = 0;
    e->last = 0;
}

static void ev_destroy(void *state) { tr_free(state); }

const tr_detector_ops tr_detector_evidence = {
    .name = "evidence",
    .wanted = ev_wanted,
    .create = ev_create,
    .event = ev_event,
    .end_of_file = ev_end_of_file,
    .destroy = ev_destroy,
};
