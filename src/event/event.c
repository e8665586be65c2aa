/*
 * event.c — events: lookup (the detection engine's hottest call) and the
 * builder that readers fill.
 *
 * Lookup: the index holds, per field, its name hash and (if any) its alias
 * hash, with linear probing in a table at most half full. A full name found
 * for the asked name wins over an alias; between aliases, payload beats
 * System metadata; otherwise the first in input order. The rules are applied
 * when the index is built (at event end), so a lookup is a probe and a
 * compare, nothing more.
 */
#include "event.h"

#include <string.h>

#include "../util/alloc.h"
#include "../util/hash.h"

/* ---------------------------------------------------------------- lookup */

uint32_t tr_name_hash(const char *name, size_t len) { return tr_hash_continue(TR_HASH_SEED, name, len); }

tr_time tr_event_time(const tr_event *ev) { return ev->time; }
const tr_origin *tr_event_origin(const tr_event *ev) { return &ev->origin; }
size_t tr_event_field_count(const tr_event *ev) { return ev->nfields; }
const char *tr_event_xml(const tr_event *ev, size_t *len)
{
    if (len)
        *len = ev->xml ? ev->xml_len : 0;
    return ev->xml;
}
const tr_field *tr_event_field(const tr_event *ev, size_t i) { return i < ev->nfields ? &ev->fields[i] : NULL; }

const tr_value *tr_event_list_item(const tr_event *ev, const tr_value *list, size_t i)
{
    if (list->type != TR_LIST || i >= list->as.list.count)
        return NULL;
    return &ev->items[list->as.list.first + i];
}

static inline bool slot_names(const tr_event *ev, uint32_t ref, const char *name, size_t len)
{
    const tr_field *f = &ev->fields[(ref & TR_SLOT_INDEX_MASK) - 1];
    if (ref & TR_SLOT_ALIAS)
        return f->alias_len == len && tr_name_equal(f->alias, name, len);
    return f->name_len == len && tr_name_equal(f->name, name, len);
}

const tr_field *tr_event_get_hashed(const tr_event *ev, const char *name, size_t len, uint32_t hash)
{
    if (!ev->index)
        return NULL;
    for (uint32_t i = hash & ev->index_mask;; i = (i + 1) & ev->index_mask) {
        const tr_index_slot *s = &ev->index[i];
        if (!s->ref)
            return NULL;
        if (s->hash == hash && slot_names(ev, s->ref, name, len))
            return &ev->fields[(s->ref & TR_SLOT_INDEX_MASK) - 1];
    }
}

const tr_field *tr_event_get(const tr_event *ev, const char *name, size_t len)
{
    return tr_event_get_hashed(ev, name, len, tr_name_hash(name, len));
}

/* ---------------------------------------------------------------- builder */

tr_status tr_builder_init(tr_builder *b)
{
    memset(b, 0, sizeof *b);
    tr_arena_init(&b->arena, 256 * 1024);
    b->names = tr_names_create();
    return b->names ? TR_OK : TR_ERR_NOMEM;
}

void tr_builder_free(tr_builder *b)
{
    tr_arena_free(&b->arena);
    tr_names_free(b->names);
    tr_free(b->fields);
    tr_free(b->items);
    tr_free(b->stack);
    tr_free(b->events);
    memset(b, 0, sizeof *b);
}

void tr_builder_batch_begin(tr_builder *b)
{
    tr_arena_reset(&b->arena);
    b->nevents = 0;
    b->event_mark = tr_arena_get_mark(&b->arena);
}

tr_batch tr_builder_batch(const tr_builder *b)
{
    return (tr_batch){.events = b->events, .count = b->nevents};
}

void tr_builder_event_begin(tr_builder *b)
{
    b->nfields = 0;
    b->nitems = 0;
    b->nstack = 0;
    b->time = TR_TIME_NONE;
    b->time_prio = 0;
    b->overflow = false;
    b->long_names = false;
    b->xml = NULL;
    b->xml_len = 0;
    b->event_mark = tr_arena_get_mark(&b->arena);
}

void tr_builder_event_abort(tr_builder *b)
{
    /* a record that failed must not leave its copies behind: a file of bad
     * records would otherwise grow the batch arena without bound */
    tr_arena_rollback(&b->arena, b->event_mark);
    tr_builder_event_begin(b);
}

/* Grows *arr (element size sz) to hold at least need elements. */
static bool grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = tr_realloc(*arr, ncap * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static void note_time(tr_builder *b, const tr_name *name, const tr_value *v)
{
    if (name->time_prio <= b->time_prio || !v->str)
        return;
    tr_time t;
    if (tr_time_parse(v->str, v->len, &t) == TR_OK) {
        b->time = t;
        b->time_prio = name->time_prio;
    }
}

static bool push_field(tr_builder *b, const tr_name *name, const tr_value *v)
{
    if (b->nfields >= TR_EVENT_MAX_FIELDS) {
        b->overflow = true;
        return true;
    }
    if (!grow((void **)&b->fields, &b->fields_cap, b->nfields + 1, sizeof *b->fields))
        return false;
    tr_field *f = &b->fields[b->nfields++];
    f->name = name->full;
    f->name_len = name->full_len;
    f->name_hash = name->full_hash;
    f->alias = name->alias;
    f->alias_len = name->alias_len;
    f->alias_hash = name->alias_hash;
    f->alias_prio = name->alias_prio;
    f->value = *v;
    return true;
}

bool tr_builder_add(tr_builder *b, const tr_name *name, const tr_value *v)
{
    if (name->overlong) {
        b->long_names = true;
        return true;
    }
    if (name->time_prio)
        note_time(b, name, v);
    return push_field(b, name, v);
}

bool tr_builder_item_push(tr_builder *b, const tr_value *v)
{
    if (b->nstack + b->nitems >= TR_EVENT_MAX_ITEMS) {
        b->overflow = true;
        return true;
    }
    if (!grow((void **)&b->stack, &b->stack_cap, b->nstack + 1, sizeof *b->stack))
        return false;
    b->stack[b->nstack++] = *v;
    return true;
}

bool tr_builder_add_list(tr_builder *b, const tr_name *name, size_t mark)
{
    if (name->overlong) {
        b->long_names = true;
        b->nstack = mark;
        return true;
    }
    size_t n = b->nstack - mark;
    if (!grow((void **)&b->items, &b->items_cap, b->nitems + n, sizeof *b->items))
        return false;
    if (n)
        memcpy(b->items + b->nitems, b->stack + mark, n * sizeof *b->items);
    tr_value v = {.type = TR_LIST};
    v.as.list.first = (uint32_t)b->nitems;
    v.as.list.count = (uint32_t)n;
    b->nitems += n;
    b->nstack = mark;
    if (n && name->time_prio)
        note_time(b, name, &b->items[v.as.list.first]);
    return push_field(b, name, &v);
}

/* Inserts one index entry, applying the precedence rules of the file
 * comment. `ref` carries the field index + 1 and the flags. */
static void index_insert(tr_index_slot *idx, uint32_t mask, const tr_field *fields, uint32_t hash,
                         uint32_t ref)
{
    const tr_field *nf = &fields[(ref & TR_SLOT_INDEX_MASK) - 1];
    const char *nname = (ref & TR_SLOT_ALIAS) ? nf->alias : nf->name;
    uint32_t nlen = (ref & TR_SLOT_ALIAS) ? nf->alias_len : nf->name_len;
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
        tr_index_slot *s = &idx[i];
        if (!s->ref) {
            s->hash = hash;
            s->ref = ref;
            return;
        }
        if (s->hash != hash)
            continue;
        const tr_field *of = &fields[(s->ref & TR_SLOT_INDEX_MASK) - 1];
        bool same = (s->ref & TR_SLOT_ALIAS) ? (of->alias_len == nlen && tr_name_equal(of->alias, nname, nlen))
                                             : (of->name_len == nlen && tr_name_equal(of->name, nname, nlen));
        if (!same)
            continue;
        /* The same name is already indexed: decide who answers to it. */
        bool old_alias = s->ref & TR_SLOT_ALIAS, new_alias = ref & TR_SLOT_ALIAS;
        if (old_alias && !new_alias)
            s->ref = ref; /* a full name beats an alias */
        else if (old_alias && new_alias && (ref & TR_SLOT_PAYLOAD) && !(s->ref & TR_SLOT_PAYLOAD))
            s->ref = ref; /* payload beats System metadata */
        return;           /* otherwise the first one stays */
    }
}

bool tr_builder_event_end(tr_builder *b, const tr_origin *origin)
{
    uint32_t n = (uint32_t)b->nfields;
    uint32_t want = 4; /* slots >= 2 * (names + aliases) keeps probes short */
    while (want < 4 * n)
        want *= 2;
    tr_event *ev = tr_arena_alloc(&b->arena, sizeof *ev);
    tr_field *fields = tr_arena_alloc(&b->arena, (n ? n : 1) * sizeof *fields);
    tr_value *items = tr_arena_alloc(&b->arena, (b->nitems ? b->nitems : 1) * sizeof *items);
    tr_index_slot *idx = tr_arena_alloc(&b->arena, want * sizeof *idx);
    if (!ev || !fields || !items || !idx ||
        !grow((void **)&b->events, &b->events_cap, b->nevents + 1, sizeof *b->events))
        return false;
    if (n)
        memcpy(fields, b->fields, n * sizeof *fields);
    if (b->nitems)
        memcpy(items, b->items, b->nitems * sizeof *items);
    memset(idx, 0, want * sizeof *idx);
    for (uint32_t i = 0; i < n; i++) {
        index_insert(idx, want - 1, fields, fields[i].name_hash, i + 1);
        if (fields[i].alias) {
            uint32_t flags = TR_SLOT_ALIAS;
            if (fields[i].alias_prio == TR_ALIAS_PAYLOAD)
                flags |= TR_SLOT_PAYLOAD;
            index_insert(idx, want - 1, fields, fields[i].alias_hash, (i + 1) | flags);
        }
    }
    ev->time = b->time;
    ev->origin = *origin;
    ev->fields = fields;
    ev->items = items;
    ev->index = idx;
    ev->nfields = n;
    ev->nitems = (uint32_t)b->nitems;
    ev->index_mask = want - 1;
    ev->xml = b->xml;
    ev->xml_len = b->xml_len;
    b->events[b->nevents++] = ev;
    tr_builder_event_begin(b);
    return true;
}
