/*
 * detection_csv.c — one finding as one CSV row (RFC 4180): a timeline a
 * person opens in a spreadsheet or imports into Timesketch, whose importer
 * wants `datetime`, `timestamp_desc` and `message` first. The columns are
 * TR_DETECTION_CSV_HEADER's, documented in docs/OUTPUT.md.
 *
 * `details` holds the event's payload as "Name: value" pairs separated by
 * " | " (the rule's `fields:` when it names them; otherwise every field
 * that is not System metadata), capped at 4 KiB so that a script block does
 * not make a row unreadable; the JSON lines output has everything.
 *
 * Owns nothing beyond one call: the row is built in a local buffer and
 * written at once.
 */
#include <string.h>

#include "../util/strbuf.h"
#include "traccia.h"

#define DETAILS_MAX 4096

/* Appends s as a quoted CSV cell (doubling quotes); NULL is an empty cell. */
static void cell(tr_strbuf *b, const char *s, size_t len)
{
    tr_strbuf_putc(b, '"');
    for (size_t i = 0; s && i < len; i++) {
        if (s[i] == '"')
            tr_strbuf_putc(b, '"');
        tr_strbuf_putc(b, s[i]);
    }
    tr_strbuf_putc(b, '"');
}

static void cell_str(tr_strbuf *b, const char *s) { cell(b, s, s ? strlen(s) : 0); }

static void value_text(tr_strbuf *out, const tr_event *ev, const tr_value *v)
{
    if (v->type == TR_LIST) {
        for (uint32_t i = 0; i < v->as.list.count; i++) {
            const tr_value *it = tr_event_list_item(ev, v, i);
            if (i)
                tr_strbuf_puts(out, ", ");
            if (it->str)
                tr_strbuf_append(out, it->str, it->len);
        }
    } else if (v->str) {
        tr_strbuf_append(out, v->str, v->len);
    }
}

static void field_cell(tr_strbuf *b, const tr_event *ev, const char *name)
{
    const tr_field *f = ev ? tr_event_get(ev, name, strlen(name)) : NULL;
    tr_strbuf t;
    tr_strbuf_init(&t);
    if (f)
        value_text(&t, ev, &f->value);
    cell(b, t.data, t.len);
    tr_strbuf_free(&t);
}

static void add_detail(tr_strbuf *d, const tr_event *ev, const char *name, size_t nlen, const tr_value *v)
{
    if (d->len >= DETAILS_MAX)
        return;
    if (d->len)
        tr_strbuf_puts(d, " | ");
    tr_strbuf_append(d, name, nlen);
    tr_strbuf_puts(d, ": ");
    value_text(d, ev, v);
    if (d->len > DETAILS_MAX) {
        d->len = DETAILS_MAX;
        while (d->len > 0 && ((unsigned char)d->data[d->len] & 0xC0) == 0x80)
            d->len--; /* not inside a UTF-8 character */
        tr_strbuf_puts(d, "...");
    }
}

tr_status tr_finding_write_csv(FILE *out, const tr_finding *d)
{
    const tr_rule_info *r = d->rule;
    const tr_event *ev = d->event;
    tr_strbuf b, tmp;
    tr_strbuf_init(&b);
    tr_strbuf_init(&tmp);
    char t[TR_TIME_BUFSIZE] = "";
    if (d->time != TR_TIME_NONE)
        tr_time_format(d->time, t);
    cell_str(&b, t);
    tr_strbuf_putc(&b, ',');
    cell_str(&b, r->kind == TR_RULE_CORRELATION ? "Correlation time" : r->kind == TR_RULE_INDICATOR
                                                                        ? "Indicator sighting time"
                                                                        : "Event time");
    tr_strbuf_putc(&b, ',');
    /* message: [level] title (computer) */
    const tr_field *comp = ev ? tr_event_get(ev, "Computer", 8) : NULL;
    tr_strbuf_printf(&tmp, "[%s] %s", r->level ? tr_level_name(r->level) : "-", r->title ? r->title : "");
    if (comp && comp->value.str) {
        tr_strbuf_puts(&tmp, " on ");
        tr_strbuf_append(&tmp, comp->value.str, comp->value.len);
    }
    if (d->matched_value) {
        tr_strbuf_puts(&tmp, ": ");
        tr_strbuf_puts(&tmp, d->matched_value);
    }
    cell(&b, tmp.data, tmp.len);
    tr_strbuf_putc(&b, ',');
    cell_str(&b, r->level ? tr_level_name(r->level) : NULL);
    tr_strbuf_putc(&b, ',');
    cell_str(&b, r->title);
    tr_strbuf_putc(&b, ',');
    cell_str(&b, r->id);
    tr_strbuf_putc(&b, ',');
    cell_str(&b, r->status);
    tr_strbuf_putc(&b, ',');
    /* attack: technique ids, then tags */
    tr_strbuf_clear(&tmp);
    for (size_t i = 0; i < r->ntechniques; i++) {
        if (i)
            tr_strbuf_putc(&tmp, ' ');
        tr_strbuf_puts(&tmp, r->techniques[i]);
    }
    cell(&b, tmp.data, tmp.len);
    tr_strbuf_putc(&b, ',');
    tr_strbuf_clear(&tmp);
    for (size_t i = 0; i < r->ntags; i++) {
        if (i)
            tr_strbuf_putc(&tmp, ' ');
        tr_strbuf_puts(&tmp, r->tags[i]);
    }
    cell(&b, tmp.data, tmp.len);
    tr_strbuf_putc(&b, ',');
    field_cell(&b, ev, "Computer");
    tr_strbuf_putc(&b, ',');
    field_cell(&b, ev, "Channel");
    tr_strbuf_putc(&b, ',');
    field_cell(&b, ev, "EventID");
    tr_strbuf_putc(&b, ',');
    cell_str(&b, d->origin.path);
    tr_strbuf_putc(&b, ',');
    if (d->origin.path)
        tr_strbuf_printf(&b, "%llu", (unsigned long long)d->origin.record);
    tr_strbuf_putc(&b, ',');
    /* details */
    tr_strbuf_clear(&tmp);
    if (d->matched_field && d->matched_value) {
        add_detail(&tmp, ev, d->matched_field, strlen(d->matched_field),
                   &(tr_value){.str = d->matched_value, .len = (uint32_t)strlen(d->matched_value), .type = TR_STR});
    }
    for (size_t i = 0; i < d->ngroup; i++)
        add_detail(&tmp, ev, d->group_fields[i], strlen(d->group_fields[i]),
                   &(tr_value){.str = d->group_values[i], .len = (uint32_t)strlen(d->group_values[i]),
                               .type = TR_STR});
    if (ev && r->nfields) {
        for (size_t i = 0; i < r->nfields; i++) {
            const tr_field *f = tr_event_get(ev, r->fields[i], strlen(r->fields[i]));
            if (f)
                add_detail(&tmp, ev, r->fields[i], strlen(r->fields[i]), &f->value);
        }
    } else if (ev) {
        size_t n = tr_event_field_count(ev);
        for (size_t i = 0; i < n; i++) {
            const tr_field *f = tr_event_field(ev, i);
            if (f->alias_prio == 1 || f->value.type == TR_NULL ||
                (f->name_len >= 5 && memcmp(f->name + f->name_len - 5, "xmlns", 5) == 0))
                continue; /* System metadata (in the columns already), XML namespaces, nulls */
            add_detail(&tmp, ev, f->alias ? f->alias : f->name, f->alias ? f->alias_len : f->name_len, &f->value);
        }
    }
    cell(&b, tmp.data, tmp.len);
    tr_strbuf_putc(&b, '\n');
    tr_status rc = TR_OK;
    if (tr_strbuf_failed(&b) || tr_strbuf_failed(&tmp))
        rc = TR_ERR_NOMEM;
    else if (fwrite(b.data, 1, b.len, out) != b.len)
        rc = TR_ERR_IO;
    tr_strbuf_free(&b);
    tr_strbuf_free(&tmp);
    return rc;
}
