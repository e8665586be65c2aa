/*
 * finding.c — the findings model's mechanics: a detection made a finding
 * (its host by the one host identity, its key fields), and a finding copied
 * into a relocatable frame and back (pipeline.h), which is how findings
 * travel from the worker that found them to the writer that hands them to
 * the sinks, through a buffer that may be spilled to disk.
 *
 * Frame: u32 total bytes (a multiple of 8), u32 TR_FRAME_FINDING, then the
 * tr_finding with every pointer replaced by its offset from the frame's
 * start (0: NULL), then its strings and arrays, then the frozen event. The
 * rule pointer stays a pointer: rules live in the ruleset or indicator set,
 * which outlive the hunt.
 *
 * Owns nothing.
 */
#include <assert.h>
#include <string.h>

#include "../event/event.h"
#include "../util/strbuf.h"
#include "frame.h"
#include "pipeline.h"

#define KEY_VALUE_MAX 1024 /* bytes of a key field's value kept */
#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/* The usual key fields, when a rule names none: what a responder reads first. */
static const char *const usual_keys[] = {
    "CommandLine",  "Image",           "ParentImage", "TargetFilename", "TargetObject", "ScriptBlockText",
    "User",         "SubjectUserName", "TargetUserName", "IpAddress",   "DestinationIp", "DestinationPort",
    "QueryName",    "ServiceName",     "cs-uri-stem", "cs-uri-query",   "c-ip",          "cs-username",
    "sc-status",    "UrlStem",         "ClientIpAddress", NULL};

static void add_key(tr_finding *f, const tr_event *ev, const char *name)
{
    if (f->nkeys == TR_FINDING_MAX_KEYS)
        return;
    const tr_field *fl = tr_event_get(ev, name, strlen(name));
    if (!fl)
        return;
    const tr_value *v = &fl->value;
    if (v->type == TR_LIST)
        v = v->as.list.count ? tr_event_list_item(ev, v, 0) : NULL;
    if (!v || !v->str || v->type == TR_NULL)
        return;
    for (size_t i = 0; i < f->nkeys; i++)
        if (strcmp(f->key_names[i], name) == 0)
            return;
    size_t n = v->len;
    if (n > KEY_VALUE_MAX) { /* cut on a character boundary */
        n = KEY_VALUE_MAX;
        while (n > 0 && ((unsigned char)v->str[n] & 0xC0) == 0x80)
            n--;
    }
    f->key_names[f->nkeys] = name;
    f->key_values[f->nkeys] = v->str;
    f->key_lens[f->nkeys] = (uint32_t)n;
    f->nkeys++;
}

void tr_finding_from_detection(tr_finding *f, const tr_detection *d)
{
    assert(f && d && d->rule);
    memset(f, 0, sizeof *f);
    const tr_rule_info *r = d->rule;
    f->kind = r->kind == TR_RULE_CORRELATION ? TR_FINDING_CORRELATION
              : r->kind == TR_RULE_INDICATOR ? TR_FINDING_INDICATOR
              : r->kind == TR_RULE_ANALYTIC  ? TR_FINDING_ANALYTIC
              : r->kind == TR_RULE_FILE      ? TR_FINDING_FILE
                                             : TR_FINDING_SIGMA;
    f->rule = r;
    f->level = r->level;
    f->time = d->time;
    f->first = d->first;
    f->last = d->last;
    f->value = d->value;
    f->event = d->event;
    f->ngroup = d->ngroup;
    f->group_fields = d->group_fields;
    f->group_values = d->group_values;
    f->matched_field = d->matched_field;
    f->matched_value = d->matched_value;
    const char *name;
    size_t n;
    tr_event_host(d->event, f->host, &name, &n);
    if (n >= TR_HOST_NAME_MAX)
        n = TR_HOST_NAME_MAX - 1;
    memcpy(f->host_name, name, n);
    f->host_name[n] = '\0';
    if (!d->event)
        return;
    f->origin = *tr_event_origin(d->event);
    if (r->nfields)
        for (size_t i = 0; i < r->nfields; i++)
            add_key(f, d->event, r->fields[i]);
    else
        for (const char *const *k = usual_keys; *k; k++)
            add_key(f, d->event, *k);
}

/* ---------------------------------------------------------------- frames */

typedef struct writer {
    tr_strbuf *b;
    size_t base; /* the frame's start */
} writer;

/* Appends n bytes (NUL added) and returns their offset from the frame's start. */
static size_t put(writer *w, const char *s, size_t n)
{
    size_t at = w->b->len - w->base;
    tr_strbuf_append(w->b, s, n);
    tr_strbuf_putc(w->b, '\0');
    return at;
}

static size_t put_str(writer *w, const char *s) { return s ? put(w, s, strlen(s)) : 0; }

static void pad8(tr_strbuf *b)
{
    static const char zeros[8];
    size_t n = ALIGN8(b->len) - b->len;
    if (n)
        tr_strbuf_append(b, zeros, n);
}

bool tr_finding_freeze(const tr_finding *f, bool with_event, tr_strbuf *out)
{
    assert(f && out);
    pad8(out);
    writer w = {out, out->len};
    uint32_t hdr[2] = {0, TR_FRAME_FINDING};
    tr_strbuf_append(out, (const char *)hdr, sizeof hdr);
    size_t at_f = out->len - w.base; /* 8 */
    tr_strbuf_append(out, (const char *)f, sizeof *f);
    pad8(out);
    tr_finding c = *f; /* offsets, written over the copy at the end */
    c.origin.path = (const char *)(uintptr_t)put_str(&w, f->origin.path);
    c.matched_field = (const char *)(uintptr_t)put_str(&w, f->matched_field);
    c.matched_value = (const char *)(uintptr_t)put_str(&w, f->matched_value);
    for (size_t i = 0; i < f->nkeys; i++) {
        c.key_names[i] = (const char *)(uintptr_t)put_str(&w, f->key_names[i]);
        c.key_values[i] = (const char *)(uintptr_t)put(&w, f->key_values[i], f->key_lens[i]);
    }
    if (f->ngroup) {
        size_t offs[2 * 64];
        size_t ng = f->ngroup < 64 ? f->ngroup : 64;
        c.ngroup = ng;
        for (size_t i = 0; i < ng; i++) {
            offs[i] = put_str(&w, f->group_fields[i]);
            offs[ng + i] = put_str(&w, f->group_values[i]);
        }
        pad8(out);
        c.group_fields = (const char *const *)(uintptr_t)(out->len - w.base);
        tr_strbuf_append(out, (const char *)offs, ng * sizeof(size_t));
        c.group_values = (const char *const *)(uintptr_t)(out->len - w.base);
        tr_strbuf_append(out, (const char *)(offs + ng), ng * sizeof(size_t));
    }
    c.event = NULL;
    if (with_event && f->event) {
        size_t where;
        if (!tr_event_freeze(f->event, out, w.base, &where))
            return false;
        c.event = (const tr_event *)(uintptr_t)where;
    }
    pad8(out);
    if (tr_strbuf_failed(out))
        return false;
    memcpy(out->data + w.base + at_f, &c, sizeof c);
    uint32_t total = (uint32_t)(out->len - w.base);
    memcpy(out->data + w.base, &total, sizeof total);
    return true;
}

static bool fix(char *frame, size_t len, const char **p)
{
    uintptr_t o = (uintptr_t)*p;
    if (!o)
        return true;
    if (o >= len || !memchr(frame + o, '\0', len - o))
        return false;
    *p = frame + o;
    return true;
}

bool tr_finding_thaw(char *frame, size_t len, const tr_finding **out)
{
    if (len < 8 + sizeof(tr_finding) || ((uintptr_t)frame & 7u))
        return false;
    tr_finding *f = (tr_finding *)(void *)(frame + 8);
    if (!memchr(f->host_name, '\0', sizeof f->host_name) || !fix(frame, len, &f->origin.path) || !fix(frame, len, &f->matched_field) ||
        !fix(frame, len, &f->matched_value) || f->nkeys > TR_FINDING_MAX_KEYS)
        return false;
    for (size_t i = 0; i < f->nkeys; i++)
        if (!fix(frame, len, &f->key_names[i]) || !fix(frame, len, &f->key_values[i]))
            return false;
    if (f->ngroup) {
        uintptr_t gf = (uintptr_t)f->group_fields, gv = (uintptr_t)f->group_values;
        if (f->ngroup > 64 || gf >= len || gv >= len || len - gf < f->ngroup * sizeof(size_t) ||
            len - gv < f->ngroup * sizeof(size_t) || (gf & 7u) || (gv & 7u))
            return false;
        const char **names = (const char **)(void *)(frame + gf), **values = (const char **)(void *)(frame + gv);
        for (size_t i = 0; i < f->ngroup; i++)
            if (!fix(frame, len, &names[i]) || !fix(frame, len, &values[i]))
                return false;
        f->group_fields = names;
        f->group_values = values;
    }
    if (f->event) {
        const tr_event *ev = tr_event_thaw(frame, (size_t)(uintptr_t)f->event, len);
        if (!ev)
            return false;
        f->event = ev;
    }
    *out = f;
    return true;
}
