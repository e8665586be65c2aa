/*
 * event.h — the event model's internals and the builder readers use.
 *
 * An event is a time, an origin and an ordered array of fields; list values
 * keep their items in a second array; a small open-addressing index maps
 * name and alias hashes to fields so that lookups are O(1) on average. All of
 * it lives in the batch arena of the reader that built it.
 *
 * Readers build events through a tr_builder:
 *   tr_builder_batch_begin(b)          once per batch (resets the arena)
 *   tr_builder_event_begin(b)          per record
 *     tr_builder_add(b, name, &value)  per field, in input order
 *     tr_builder_item_push(b, &value)  per list item, then
 *     tr_builder_add_list(b, name, mark)  with mark = tr_builder_item_mark(b)
 *   tr_builder_event_end(b, &origin)   seals the event into the batch
 *   tr_builder_event_abort(b)          drops a record that failed to parse
 * and hand out tr_builder_batch(b). No step allocates in steady state: the
 * scratch arrays and the arena keep their memory from batch to batch.
 *
 * Ownership: the builder owns everything; events are valid until the next
 * tr_builder_batch_begin or tr_builder_free.
 */
#ifndef TR_EVENT_EVENT_H
#define TR_EVENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traccia.h"
#include "../util/arena.h"
#include "../util/strbuf.h"
#include "names.h"

#define TR_EVENT_MAX_FIELDS 16384u /* fields per event; more is reported as a limit */
#define TR_EVENT_MAX_ITEMS (1u << 20) /* list items per event */

typedef struct tr_index_slot {
    uint32_t hash;
    uint32_t ref; /* 0 empty; else field index + 1 in the low 30 bits, TR_SLOT_* flags above */
} tr_index_slot;

#define TR_SLOT_ALIAS 0x80000000u
#define TR_SLOT_PAYLOAD 0x40000000u
#define TR_SLOT_INDEX_MASK 0x3fffffffu

struct tr_event {
    tr_time time;
    tr_origin origin;
    const tr_field *fields;
    const tr_value *items;
    const tr_index_slot *index;
    const char *xml;         /* XML rendering (TR_SCAN_XML), NUL-terminated; NULL without */
    uint32_t nfields;
    uint32_t nitems;
    uint32_t index_mask;
    uint32_t xml_len;
};

typedef struct tr_builder {
    tr_arena arena;          /* per-batch memory: sealed events and copies */
    tr_names *names;         /* interned names (owned) */
    /* the event being built */
    tr_field *fields;
    size_t nfields, fields_cap;
    tr_value *items;         /* finished lists' items, in order */
    size_t nitems, items_cap;
    tr_value *stack;         /* items of lists still open (nested arrays) */
    size_t nstack, stack_cap;
    tr_time time;
    uint8_t time_prio;
    bool overflow;           /* hit TR_EVENT_MAX_FIELDS/ITEMS: the reader reports it */
    bool long_names;         /* fields with names over TR_NAME_MAX were dropped: the reader reports it */
    tr_arena_mark event_mark; /* arena state when the event began: abort rolls back to it */
    const char *xml;         /* the event's XML rendering, set by the reader before
                              * tr_builder_event_end (in the arena); NULL without */
    uint32_t xml_len;
    /* the batch */
    const tr_event **events;
    size_t nevents, events_cap;
} tr_builder;

/* Returns TR_OK or TR_ERR_NOMEM. */
tr_status tr_builder_init(tr_builder *b);
void tr_builder_free(tr_builder *b);

void tr_builder_batch_begin(tr_builder *b);
tr_batch tr_builder_batch(const tr_builder *b);

void tr_builder_event_begin(tr_builder *b);
/* Adds a field; name comes from b->names (or is transient in b->arena).
 * Returns false when out of memory; on hitting the field limit it sets
 * b->overflow and returns true (the field is dropped, the reader reports). */
bool tr_builder_add(tr_builder *b, const tr_name *name, const tr_value *v);
/* Lists: remember the mark, push items (nested lists push into the same
 * region), then add the list. */
static inline size_t tr_builder_item_mark(const tr_builder *b) { return b->nstack; }
bool tr_builder_item_push(tr_builder *b, const tr_value *v);
bool tr_builder_add_list(tr_builder *b, const tr_name *name, size_t mark);
/* Seals the event into the batch. Returns false when out of memory. */
bool tr_builder_event_end(tr_builder *b, const tr_origin *origin);
void tr_builder_event_abort(tr_builder *b);

/* Copies len bytes into the batch arena (for values that cannot point into
 * the input). NULL when out of memory. */
static inline char *tr_builder_copy(tr_builder *b, const char *s, size_t len)
{
    return tr_arena_strndup(&b->arena, s, len);
}

/* A relocatable copy of ev appended to out (freeze.c): *where gets its
 * offset from out->data + base (8-aligned relative to base). Returns false
 * when out of memory. */
bool tr_event_freeze(const tr_event *ev, tr_strbuf *out, size_t base, size_t *where);
/* The copy at base + at, where the bytes [base, base + len) now are (base
 * 8-aligned), made an event in place; NULL when the block is not one. */
const tr_event *tr_event_thaw(char *base, size_t at, size_t len);

#endif
