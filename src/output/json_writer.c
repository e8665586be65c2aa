/*
 * json_writer.c — events as JSON lines (tr_json_writer), the format of
 * `traccia dump` and the oracle the tests compare readers against.
 *
 * One line is built in a reusable buffer and written with one fwrite, so a
 * dump of millions of events allocates only while the longest line grows.
 * Numbers are written as the reader's text when that text is a JSON number
 * (it is for the JSON reader); anything else is written as a string, so the
 * output always parses.
 */
#include <string.h>

#include "traccia.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"

struct tr_json_writer {
    FILE *out;
    int aliases;
    tr_strbuf line;
};

tr_status tr_json_writer_create(tr_json_writer **out, FILE *stream, int aliases)
{
    tr_json_writer *w = tr_calloc(1, sizeof *w);
    if (!w)
        return TR_ERR_NOMEM;
    w->out = stream;
    w->aliases = aliases;
    tr_strbuf_init(&w->line);
    *out = w;
    return TR_OK;
}

void tr_json_writer_destroy(tr_json_writer *w)
{
    if (!w)
        return;
    tr_strbuf_free(&w->line);
    tr_free(w);
}

static void put_string(tr_strbuf *b, const char *s, size_t len)
{
    tr_strbuf_putc(b, '"');
    tr_strbuf_json_escape(b, s, len);
    tr_strbuf_putc(b, '"');
}

/* True if s is a JSON number token (RFC 8259 grammar). */
static bool json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static void put_scalar(tr_strbuf *b, const tr_value *v)
{
    switch (v->type) {
    case TR_NULL:
        tr_strbuf_puts(b, "null");
        break;
    case TR_BOOL:
        tr_strbuf_puts(b, v->as.i ? "true" : "false");
        break;
    case TR_INT:
    case TR_UINT:
    case TR_FLOAT:
        if (v->str && json_number(v->str, v->len))
            tr_strbuf_append(b, v->str, v->len);
        else /* not a JSON number token: keep it as text */
            put_string(b, v->str ? v->str : "", v->str ? v->len : 0);
        break;
    default:
        put_string(b, v->str ? v->str : "", v->str ? v->len : 0);
        break;
    }
}

tr_status tr_json_writer_event(tr_json_writer *w, const tr_event *ev)
{
    tr_strbuf *b = &w->line;
    tr_strbuf_clear(b);
    const tr_origin *o = tr_event_origin(ev);
    tr_time t = tr_event_time(ev);
    tr_strbuf_puts(b, "{\"time\":");
    if (t == TR_TIME_NONE) {
        tr_strbuf_puts(b, "null");
    } else {
        char tb[TR_TIME_BUFSIZE];
        size_t n = tr_time_format(t, tb);
        put_string(b, tb, n);
    }
    tr_strbuf_puts(b, ",\"source\":{\"path\":");
    put_string(b, o->path ? o->path : "", o->path ? strlen(o->path) : 0);
    tr_strbuf_puts(b, ",\"format\":");
    put_string(b, o->format ? o->format : "", o->format ? strlen(o->format) : 0);
    tr_strbuf_printf(b, ",\"record\":%llu,\"offset\":%llu", (unsigned long long)o->record,
                     (unsigned long long)o->offset);
    if (o->flags & TR_ORIGIN_RECOVERED)
        tr_strbuf_puts(b, ",\"recovered\":true");
    tr_strbuf_puts(b, "},\"fields\":{");
    size_t n = tr_event_field_count(ev);
    for (size_t i = 0; i < n; i++) {
        const tr_field *f = tr_event_field(ev, i);
        if (i)
            tr_strbuf_putc(b, ',');
        put_string(b, f->name, f->name_len);
        tr_strbuf_putc(b, ':');
        if (f->value.type == TR_LIST) {
            tr_strbuf_putc(b, '[');
            for (size_t k = 0; k < f->value.as.list.count; k++) {
                if (k)
                    tr_strbuf_putc(b, ',');
                put_scalar(b, tr_event_list_item(ev, &f->value, k));
            }
            tr_strbuf_putc(b, ']');
        } else {
            put_scalar(b, &f->value);
        }
    }
    tr_strbuf_putc(b, '}');
    size_t xml_len;
    const char *xml = tr_event_xml(ev, &xml_len);
    if (xml) {
        tr_strbuf_puts(b, ",\"xml\":");
        put_string(b, xml, xml_len);
    }
    if (w->aliases) {
        tr_strbuf_puts(b, ",\"aliases\":{");
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            const tr_field *f = tr_event_field(ev, i);
            /* list each alias once, with the field a lookup actually returns */
            if (!f->alias || tr_event_get_hashed(ev, f->alias, f->alias_len, f->alias_hash) != f)
                continue;
            if (!first)
                tr_strbuf_putc(b, ',');
            first = false;
            put_string(b, f->alias, f->alias_len);
            tr_strbuf_putc(b, ':');
            put_string(b, f->name, f->name_len);
        }
        tr_strbuf_putc(b, '}');
    }
    tr_strbuf_puts(b, "}\n");
    if (tr_strbuf_failed(b))
        return TR_ERR_NOMEM;
    if (fwrite(b->data, 1, b->len, w->out) != b->len)
        return TR_ERR_IO;
    return TR_OK;
}
