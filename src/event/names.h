/*
 * names.h — flattened field names, interned per reader, with their aliases.
 *
 * Readers meet the same nested keys record after record ("Event" → "System"
 * → "EventID"). The name table turns (parent name, key) into a tr_name that
 * carries the flattened path ("Event.System.EventID"), its hash, its short
 * alias ("EventID") and its role, all computed once per distinct path. A
 * record then costs one hash probe per key instead of string building and
 * alias rules per field.
 *
 * Alias rules live here and only here, so that every reader (JSON, EVTX,
 * W3C, Exchange logs) gives the same names for the same event:
 *   Event.EventData.X            → X               (payload)
 *   Event.UserData.<Element>.X   → X               (payload)
 *   Event.System.A.B             → A_B, e.g. Provider_Name, Security_UserID
 *   winlog.event_data.X          → X               (Winlogbeat)
 *   winlog.event_id, winlog.channel, … → EventID, Channel, …
 *   _source.… / result.…         → as for the rest  (Elastic, Splunk exports)
 *   Id, LogName, ProviderName, MachineName → EventID, Channel, … (PowerShell)
 * Payload aliases drop spaces, as Sigma names fields: "Threat Name" → ThreatName.
 * Keys "#attributes" and "#text" (XML-to-JSON renderings) are transparent:
 * their children belong to the parent, so the attribute Name of Provider is
 * "Event.System.Provider.Name", as the EVTX reader names it.
 *
 * Ownership: the table owns every interned tr_name and its strings; they live
 * until tr_names_free. Transient names (made when the table is full) live in
 * the caller's arena.
 */
#ifndef TR_EVENT_NAMES_H
#define TR_EVENT_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "../util/arena.h"

/* Flattened names longer than this are not kept: tr_names_child returns the
 * table's "overlong" name, whose fields the builder drops (and readers
 * report). Real names are tens of bytes; without the cap, long keys nested
 * deeply would make names quadratic in the input. */
#define TR_NAME_MAX 1024u

/* Alias priority: who wins when two fields of one event share an alias. */
enum { TR_ALIAS_NONE = 0, TR_ALIAS_SYSTEM = 1, TR_ALIAS_PAYLOAD = 2 };

typedef struct tr_name tr_name;
struct tr_name {
    const tr_name *parent;  /* NULL for the root */
    const char *key;        /* last path component as written */
    const char *full;       /* flattened path, NUL-terminated */
    const char *alias;      /* NULL when none */
    uint32_t key_len;
    uint32_t full_len;
    uint32_t full_hash;     /* tr_name_hash(full) */
    uint32_t alias_len;
    uint32_t alias_hash;
    uint8_t alias_prio;     /* TR_ALIAS_* */
    uint8_t time_prio;      /* > 0: this field holds the event time; higher wins */
    uint8_t depth;          /* path components */
    uint8_t interned;       /* 1: owned by the table; 0: transient, in a batch arena */
    uint8_t overlong;       /* 1: the sentinel for names over TR_NAME_MAX (and their children) */
    /* Shape cache, owned by the table (mutable even through const pointers):
     * records repeat their key order, so the child that followed `prev`
     * last time is the likely next one (see tr_names_next). */
    const tr_name *first_guess; /* likely first child */
    const tr_name *next_guess;  /* likely next sibling */
};

typedef struct tr_names tr_names;

/* Returns NULL when out of memory. */
tr_names *tr_names_create(void);
void tr_names_free(tr_names *t);

/* The root: parent of top-level keys (full name ""). */
const tr_name *tr_names_root(const tr_names *t);

/* The child `key` of `parent`. Interns it when the table has room, else
 * builds a transient name in `arena`. Returns NULL only when out of memory.
 * "#attributes" and "#text" return `parent` itself. A name that would be
 * longer than TR_NAME_MAX returns the overlong sentinel. */
const tr_name *tr_names_child(tr_names *t, const tr_name *parent, const char *key, size_t key_len,
                              tr_arena *arena);

/* Like tr_names_child, for the key that follows sibling `prev` (NULL for
 * the first key of an object). Checks the shape cache first, which on
 * regular input answers without hashing. */
const tr_name *tr_names_next(tr_names *t, const tr_name *parent, const tr_name *prev, const char *key,
                             size_t key_len, tr_arena *arena);

/* Number of interned names (for tests and memory accounting). */
size_t tr_names_count(const tr_names *t);

#endif
