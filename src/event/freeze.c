/*
 * freeze.c — an event copied out of its reader's batch into one relocatable
 * block of bytes, and made an event again where the block lands
 * (tr_event_freeze, tr_event_thaw in event.h).
 *
 * Why: a hunt's workers find, its writer writes. A finding must carry its
 * event across threads and past the batch it came from, through a buffer
 * that may be spilled to a temporary file and read back; so the copy holds
 * no pointer, only offsets from the block's start, and thawing turns them
 * back into pointers in place. The field index is copied slot for slot, so
 * the thawed event answers tr_event_get exactly as the original did, and an
 * output written from it is byte for byte the one written from the original.
 *
 * Block layout (offsets from `base`, every array 8-aligned):
 *   tr_event | fields[nfields] | items[nitems] | index[index_mask + 1] | strings
 * A pointer member holds its string's offset, 0 for NULL (offset 0 is the
 * tr_event itself, never a string). origin.format is kept as it is: readers'
 * format names are static strings.
 *
 * Owns nothing: the block lives in the caller's buffer.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "event.h"

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

static size_t str_bytes(const char *s, size_t len) { return s ? len + 1 : 0; }

bool tr_event_freeze(const tr_event *ev, tr_strbuf *out, size_t base, size_t *where)
{
    assert(ev && out && base <= out->len);
    size_t at = ALIGN8(out->len - base);
    size_t nslots = ev->index ? (size_t)ev->index_mask + 1 : 0;
    size_t head = ALIGN8(sizeof(tr_event)) + ALIGN8(ev->nfields * sizeof(tr_field)) +
                  ALIGN8(ev->nitems * sizeof(tr_value)) + nslots * sizeof(tr_index_slot);
    size_t bytes = 0;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const tr_field *f = &ev->fields[i];
        bytes += str_bytes(f->name, f->name_len) + str_bytes(f->alias, f->alias_len) +
                 (f->value.type == TR_LIST ? 0 : str_bytes(f->value.str, f->value.len));
    }
    for (uint32_t i = 0; i < ev->nitems; i++)
        bytes += str_bytes(ev->items[i].str, ev->items[i].len);
    bytes += ev->origin.path ? strlen(ev->origin.path) + 1 : 0;
    bytes += str_bytes(ev->xml, ev->xml_len);
    size_t total = at + head + bytes; /* relative to base */
    size_t pad = base + at - out->len;
    if (!tr_strbuf_reserve(out, pad + head + bytes + 1))
        return false;
    char *b = out->data + base; /* stable: nothing below reallocates */
    memset(out->data + out->len, 0, pad + head);
    char *blk = b + at;
    tr_event *e = (tr_event *)(void *)blk;
    tr_field *fields = (tr_field *)(void *)(blk + ALIGN8(sizeof(tr_event)));
    tr_value *items = (tr_value *)(void *)((char *)fields + ALIGN8(ev->nfields * sizeof(tr_field)));
    tr_index_slot *index = (tr_index_slot *)(void *)((char *)items + ALIGN8(ev->nitems * sizeof(tr_value)));
    size_t s = at + head; /* next string, relative to base */
#define PUT(dst, src, n)                                                                                       \
    do {                                                                                                       \
        memcpy(b + s, (src), (n));                                                                             \
        b[s + (n)] = '\0';                                                                                     \
        (dst) = (const char *)(uintptr_t)s;                                                                    \
        s += (n) + 1;                                                                                          \
    } while (0)
    *e = *ev;
    if (ev->nfields)
        memcpy(fields, ev->fields, ev->nfields * sizeof(tr_field));
    if (ev->nitems)
        memcpy(items, ev->items, ev->nitems * sizeof(tr_value));
    if (nslots)
        memcpy(index, ev->index, nslots * sizeof(tr_index_slot));
    for (uint32_t i = 0; i < ev->nfields; i++) {
        tr_field *f = &fields[i];
        if (f->name)
            PUT(f->name, ev->fields[i].name, f->name_len);
        if (f->alias)
            PUT(f->alias, ev->fields[i].alias, f->alias_len);
        if (f->value.type == TR_LIST)
            f->value.str = NULL;
        else if (f->value.str)
            PUT(f->value.str, ev->fields[i].value.str, f->value.len);
    }
    for (uint32_t i = 0; i < ev->nitems; i++)
        if (items[i].str)
            PUT(items[i].str, ev->items[i].str, items[i].len);
    if (ev->origin.path)
        PUT(e->origin.path, ev->origin.path, strlen(ev->origin.path));
    if (ev->xml)
        PUT(e->xml, ev->xml, ev->xml_len);
#undef PUT
    assert(s == total);
    e->fields = (const tr_field *)(uintptr_t)(at + ALIGN8(sizeof(tr_event)));
    e->items = (const tr_value *)(uintptr_t)((size_t)((char *)items - b));
    e->index = nslots ? (const tr_index_slot *)(uintptr_t)((size_t)((char *)index - b)) : NULL;
    out->len = base + total;
    out->data[out->len] = '\0';
    *where = at;
    return true;
}

/* Offset o (from base, < len) back to a pointer; NULL stays NULL. */
static int fix(char *base, size_t len, const char **p, size_t need)
{
    uintptr_t o = (uintptr_t)*p;
    if (!o)
        return 1;
    if (o >= len || len - o < need)
        return 0;
    *p = base + o;
    return 1;
}

const tr_event *tr_event_thaw(char *base, size_t at, size_t len)
{
    if (at > len || len - at < sizeof(tr_event) || ((uintptr_t)(base + at) & 7u))
        return NULL;
    tr_event *e = (tr_event *)(void *)(base + at);
    const char *p = (const char *)e->fields;
    if (e->nfields && !fix(base, len, &p, e->nfields * sizeof(tr_field)))
        return NULL;
    e->fields = e->nfields ? (const tr_field *)(const void *)p : (const tr_field *)(const void *)(base + at);
    p = (const char *)e->items;
    if (e->nitems && !fix(base, len, &p, e->nitems * sizeof(tr_value)))
        return NULL;
    e->items = e->nitems ? (const tr_value *)(const void *)p : NULL;
    if (e->index) {
        p = (const char *)e->index;
        if (!fix(base, len, &p, ((size_t)e->index_mask + 1) * sizeof(tr_index_slot)))
            return NULL;
        e->index = (const tr_index_slot *)(const void *)p;
    }
    tr_field *fields = (tr_field *)(uintptr_t)e->fields;
    for (uint32_t i = 0; i < e->nfields; i++) {
        tr_field *f = &fields[i];
        if (!fix(base, len, &f->name, (size_t)f->name_len + 1) || !fix(base, len, &f->alias, (size_t)f->alias_len + 1) ||
            (f->value.type != TR_LIST && !fix(base, len, &f->value.str, (size_t)f->value.len + 1)))
            return NULL;
    }
    tr_value *items = (tr_value *)(uintptr_t)e->items;
    for (uint32_t i = 0; i < e->nitems; i++)
        if (!fix(base, len, &items[i].str, (size_t)items[i].len + 1))
            return NULL;
    if (!fix(base, len, &e->origin.path, 1) || !fix(base, len, &e->xml, (size_t)e->xml_len + 1))
        return NULL;
    return e;
}
