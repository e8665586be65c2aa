/*
 * detection_json.c — one finding as one JSON line: the rule, where the
 * event came from, ATT&CK technique ids broken out of the tags, and the
 * event's fields (the rule's `fields:` when it names them). The schema is
 * documented in docs/OUTPUT.md.
 *
 * Owns nothing beyond one call: the line is built in a local buffer and
 * written at once, so lines from one writer never interleave.
 */
#include <assert.h>
#include <string.h>

#include "../util/strbuf.h"
#include "traccia.h"

static void value(tr_strbuf *b, const tr_event *ev, const tr_value *v)
{
    switch (v->type) {
    case TR_NULL:
        tr_strbuf_puts(b, "null");
        break;
    case TR_INT:
    case TR_UINT:
    case TR_BOOL:
        tr_strbuf_append(b, v->str, v->len);
        break;
    case TR_LIST:
        tr_strbuf_putc(b, '[');
        for (uint32_t i = 0; i < v->as.list.count; i++) {
            if (i)
                tr_strbuf_putc(b, ',');
            value(b, ev, tr_event_list_item(ev, v, i));
        }
        tr_strbuf_putc(b, ']');
        break;
    default:
        tr_strbuf_putc(b, '"');
        tr_strbuf_json_escape(b, v->str ? v->str : "", v->len);
        tr_strbuf_putc(b, '"');
        break;
    }
}

static void scalar_field(tr_strbuf *b, const tr_event *ev, const char *name)
{
    const tr_field *f = ev ? tr_event_get(ev, name, strlen(name)) : NULL;
    if (f)
        value(b, ev, &f->value);
    else
        tr_strbuf_puts(b, "null");
}

/* Writes the line built in b (and frees b): TR_ERR_NOMEM when building it
 * ran out of memory, TR_ERR_IO when the write failed. */
static tr_status write_line(FILE *out, tr_strbuf *b)
{
    tr_status rc = TR_OK;
    if (tr_strbuf_failed(b))
        rc = TR_ERR_NOMEM;
    else if (fwrite(b->data, 1, b->len, out) != b->len)
        rc = TR_ERR_IO;
    tr_strbuf_free(b);
    return rc;
}

tr_status tr_finding_write_json(FILE *out, const tr_finding *d)
{
    const tr_rule_info *r = d->rule;
    const tr_event *ev = d->event;
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_puts(&b, "{\"time\":");
    tr_strbuf_json_time(&b, d->time);
    tr_strbuf_puts(&b, ",\"rule\":{\"id\":");
    tr_strbuf_json_string(&b, r->id);
    tr_strbuf_puts(&b, ",\"title\":");
    tr_strbuf_json_string(&b, r->title);
    tr_strbuf_puts(&b, ",\"level\":");
    tr_strbuf_json_string(&b, r->level ? tr_level_name(r->level) : NULL);
    tr_strbuf_puts(&b, ",\"status\":");
    tr_strbuf_json_string(&b, r->status);
    tr_strbuf_puts(&b, ",\"kind\":");
    tr_strbuf_json_string(&b, tr_rule_kind_name(r->kind));
    tr_strbuf_puts(&b, ",\"tags\":[");
    for (size_t i = 0; i < r->ntags; i++) {
        if (i)
            tr_strbuf_putc(&b, ',');
        tr_strbuf_json_string(&b, r->tags[i]);
    }
    tr_strbuf_puts(&b, "],\"attack\":[");
    for (size_t i = 0; i < r->ntechniques; i++) {
        if (i)
            tr_strbuf_putc(&b, ',');
        tr_strbuf_json_string(&b, r->techniques[i]);
    }
    tr_strbuf_puts(&b, "]},\"computer\":");
    scalar_field(&b, ev, "Computer");
    tr_strbuf_puts(&b, ",\"channel\":");
    scalar_field(&b, ev, "Channel");
    tr_strbuf_puts(&b, ",\"event_id\":");
    scalar_field(&b, ev, "EventID");
    tr_strbuf_puts(&b, ",\"source\":");
    if (d->origin.path) {
        const tr_origin *o = &d->origin;
        tr_strbuf_puts(&b, "{\"path\":");
        tr_strbuf_json_string(&b, o->path);
        tr_strbuf_puts(&b, ",\"format\":");
        tr_strbuf_json_string(&b, o->format);
        tr_strbuf_printf(&b, ",\"record\":%llu}", (unsigned long long)o->record);
    } else {
        tr_strbuf_puts(&b, "null");
    }
    if (r->kind == TR_RULE_CORRELATION) {
        tr_strbuf_puts(&b, ",\"first\":");
        tr_strbuf_json_time(&b, d->first);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, d->last);
        tr_strbuf_printf(&b, ",\"value\":%g,\"group\":{", d->value);
        for (size_t i = 0; i < d->ngroup; i++) {
            if (i)
                tr_strbuf_putc(&b, ',');
            tr_strbuf_json_string(&b, d->group_fields[i]);
            tr_strbuf_putc(&b, ':');
            tr_strbuf_json_string(&b, d->group_values[i]);
        }
        tr_strbuf_putc(&b, '}');
    }
    tr_strbuf_puts(&b, ",\"fields\":{");
    if (ev) {
        int first = 1;
        if (r->nfields) {
            for (size_t i = 0; i < r->nfields; i++) {
                const tr_field *f = tr_event_get(ev, r->fields[i], strlen(r->fields[i]));
                if (!f)
                    continue;
                if (!first)
                    tr_strbuf_putc(&b, ',');
                first = 0;
                tr_strbuf_json_string(&b, r->fields[i]);
                tr_strbuf_putc(&b, ':');
                value(&b, ev, &f->value);
            }
        } else {
            size_t n = tr_event_field_count(ev);
            for (size_t i = 0; i < n; i++) {
                const tr_field *f = tr_event_field(ev, i);
                if (f->name_len >= 5 && memcmp(f->name + f->name_len - 5, "xmlns", 5) == 0)
                    continue; /* the XML namespace says nothing about the event */
                if (!first)
                    tr_strbuf_putc(&b, ',');
                first = 0;
                tr_strbuf_putc(&b, '"');
                tr_strbuf_json_escape(&b, f->alias ? f->alias : f->name, f->alias ? f->alias_len : f->name_len);
                tr_strbuf_puts(&b, "\":");
                value(&b, ev, &f->value);
            }
        }
    }
    tr_strbuf_putc(&b, '}');
    if (d->matched_field) {
        tr_strbuf_puts(&b, ",\"indicator\":{\"field\":");
        tr_strbuf_json_string(&b, d->matched_field);
        tr_strbuf_puts(&b, ",\"value\":");
        tr_strbuf_json_string(&b, d->matched_value);
        tr_strbuf_putc(&b, '}');
    }
    /* added after the first schema: at the end, as docs/OUTPUT.md promises */
    tr_strbuf_puts(&b, ",\"host\":");
    tr_strbuf_json_string(&b, d->host);
    tr_strbuf_puts(&b, "}\n");
    return write_line(out, &b);
}

tr_status tr_incomplete_write_json(FILE *out, const tr_diag *d)
{
    assert(d->kind == TR_DIAG_LIMIT);
    const tr_rule_info *r = d->rule;
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_puts(&b, "{\"incomplete\":{\"rule\":{\"id\":");
    tr_strbuf_json_string(&b, r ? r->id : NULL);
    tr_strbuf_puts(&b, ",\"title\":");
    tr_strbuf_json_string(&b, r ? r->title : d->item);
    tr_strbuf_puts(&b, ",\"kind\":");
    tr_strbuf_json_string(&b, r ? tr_rule_kind_name(r->kind) : NULL);
    tr_strbuf_puts(&b, "},\"path\":");
    tr_strbuf_json_string(&b, d->path && *d->path ? d->path : NULL);
    tr_strbuf_puts(&b, ",\"where\":");
    tr_strbuf_json_string(&b, d->where && *d->where ? d->where : NULL);
    tr_strbuf_puts(&b, ",\"reason\":");
    tr_strbuf_json_string(&b, d->reason);
    tr_strbuf_puts(&b, "}}\n");
    return write_line(out, &b);
}
