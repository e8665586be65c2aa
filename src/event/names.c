/*
 * names.c — the per-reader name table (see names.h for the alias rules).
 *
 * Workload: a few hundred distinct paths looked up millions of times. The
 * table is open addressing over tr_name pointers, keyed by the child's full
 * hash (which, FNV being incremental, is the parent's hash continued over
 * "." and the key). Growth stops at TR_NAMES_MAX entries so that hostile
 * input with endless distinct keys cannot grow memory without bound; past
 * that, names are built per batch in the caller's arena.
 */
#include "names.h"

#include <stdbool.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/hash.h"

#include <stdint.h>

#define TR_NAMES_MAX 65536u   /* interned names per reader; beyond: transient */
#define TR_ALIAS_MAX 256u     /* longest alias we derive; longer names get none */
#define TR_NAMES_MAX_BYTES (16u << 20) /* interned name storage; beyond: transient */

struct tr_names {
    tr_name root;
    tr_name overlong;       /* sentinel returned for names over TR_NAME_MAX */
    const tr_name **slots;  /* open addressing; NULL = empty */
    size_t mask;            /* slots - 1, a power of two minus one */
    size_t count;
    tr_arena store;         /* the interned names and their strings */
};

tr_names *tr_names_create(void)
{
    tr_names *t = tr_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = tr_calloc(1024, sizeof *t->slots);
    if (!t->slots) {
        tr_free(t);
        return NULL;
    }
    t->mask = 1023;
    t->root.full = "";
    t->root.key = "";
    t->root.full_hash = TR_HASH_SEED;
    t->root.interned = 1;
    t->overlong.full = "";
    t->overlong.key = "";
    t->overlong.interned = 1;
    t->overlong.overlong = 1;
    tr_arena_init(&t->store, 64 * 1024);
    return t;
}

void tr_names_free(tr_names *t)
{
    if (!t)
        return;
    tr_arena_free(&t->store);
    tr_free(t->slots);
    tr_free(t);
}

const tr_name *tr_names_root(const tr_names *t) { return &t->root; }

size_t tr_names_count(const tr_names *t) { return t->count; }

static bool starts(const char *s, size_t n, const char *prefix, size_t plen)
{
    return n > plen && memcmp(s, prefix, plen) == 0;
}
#define STARTS(s, n, lit) starts((s), (n), lit, sizeof(lit) - 1)

/* Fixed renames: the names other exporters give to Windows event metadata. */
static const struct {
    const char *from;
    const char *to;
} renames[] = {
    /* Winlogbeat / Elastic Common Schema */
    {"winlog.event_id", "EventID"},
    {"winlog.channel", "Channel"},
    {"winlog.computer_name", "Computer"},
    {"winlog.provider_name", "Provider_Name"},
    {"winlog.provider_guid", "Provider_Guid"},
    {"winlog.record_id", "EventRecordID"},
    {"winlog.task", "Task"},
    {"winlog.opcode", "Opcode"},
    {"winlog.version", "Version"},
    {"winlog.keywords", "Keywords"},
    {"winlog.process.pid", "Execution_ProcessID"},
    {"winlog.process.thread.id", "Execution_ThreadID"},
    {"winlog.user.identifier", "Security_UserID"},
    {"winlog.activity_id", "Correlation_ActivityID"},
    {"winlog.related_activity_id", "Correlation_RelatedActivityID"},
    /* PowerShell Get-WinEvent | ConvertTo-Json */
    {"Id", "EventID"},
    {"LogName", "Channel"},
    {"ProviderName", "Provider_Name"},
    {"ProviderId", "Provider_Guid"},
    {"MachineName", "Computer"},
    {"RecordId", "EventRecordID"},
    {"LevelDisplayName", "LevelName"},
    /* Splunk Windows event log fields */
    {"EventCode", "EventID"},
    {"ComputerName", "Computer"},
    {"SourceName", "Provider_Name"},
    {"RecordNumber", "EventRecordID"},
};

/* Which fields carry the event's time, best first. */
static const struct {
    const char *name;
    uint8_t prio;
} time_fields[] = {
    {"Event.System.TimeCreated.SystemTime", 5},
    {"@timestamp", 4},
    {"_source.@timestamp", 4},
    {"result._time", 4},
    {"_time", 4},
    {"TimeCreated", 3},
    {"timestamp", 2},
    {"Timestamp", 2},
    {"datetime", 1},
    {"time", 1},
};

/* Derives the alias of a flattened name into out (TR_ALIAS_MAX bytes).
 * Returns its length, 0 for none, and sets *prio. */
static size_t derive_alias(const char *s, size_t n, char *out, uint8_t *prio)
{
    bool unwrapped = false;
    for (;;) { /* export wrappers: Elastic "_source.", Splunk "result." */
        if (STARTS(s, n, "_source.")) {
            s += 8, n -= 8;
        } else if (STARTS(s, n, "result.")) {
            s += 7, n -= 7;
        } else {
            break;
        }
        unwrapped = true;
    }
    const char *a = NULL;
    size_t alen = 0;
    bool dots_to_underscores = false;
    *prio = TR_ALIAS_NONE;
    if (STARTS(s, n, "Event.EventData.")) {
        a = s + 16, alen = n - 16, *prio = TR_ALIAS_PAYLOAD;
    } else if (STARTS(s, n, "Event.UserData.")) {
        const char *rest = s + 15, *dot = memchr(rest, '.', n - 15);
        if (dot && dot + 1 < s + n)
            a = dot + 1, alen = (size_t)(s + n - a), *prio = TR_ALIAS_PAYLOAD;
    } else if (STARTS(s, n, "Event.System.")) {
        a = s + 13, alen = n - 13, *prio = TR_ALIAS_SYSTEM, dots_to_underscores = true;
    } else if (STARTS(s, n, "winlog.event_data.")) {
        a = s + 18, alen = n - 18, *prio = TR_ALIAS_PAYLOAD;
    } else if (STARTS(s, n, "winlog.user_data.")) {
        a = s + 17, alen = n - 17, *prio = TR_ALIAS_PAYLOAD;
    } else {
        for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++) {
            if (strlen(renames[i].from) == n && memcmp(renames[i].from, s, n) == 0) {
                a = renames[i].to, alen = strlen(a), *prio = TR_ALIAS_SYSTEM;
                break;
            }
        }
        if (!a && unwrapped)
            a = s, alen = n, *prio = TR_ALIAS_SYSTEM;
    }
    if (!a || alen == 0 || alen >= TR_ALIAS_MAX) {
        *prio = TR_ALIAS_NONE;
        return 0;
    }
    if (*prio == TR_ALIAS_PAYLOAD) {
        /* Sigma names payload fields "as they appear in the log source" with
         * every space stripped: Defender's "Threat Name" is ThreatName */
        size_t k = 0;
        for (size_t i = 0; i < alen; i++)
            if (a[i] != ' ')
                out[k++] = a[i];
        return k;
    }
    memcpy(out, a, alen);
    if (dots_to_underscores)
        for (size_t i = 0; i < alen; i++)
            if (out[i] == '.')
                out[i] = '_';
    return alen;
}

static uint8_t time_priority(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof time_fields / sizeof time_fields[0]; i++)
        if (strlen(time_fields[i].name) == n && memcmp(time_fields[i].name, s, n) == 0)
            return time_fields[i].prio;
    return 0;
}

/* Builds a name (strings included) in `arena`. */
static tr_name *make_name(tr_arena *arena, const tr_name *parent, const char *key, size_t key_len,
                          uint32_t full_hash)
{
    size_t plen = parent->full_len;
    size_t full_len = plen ? plen + 1 + key_len : key_len;
    if (full_len > UINT32_MAX / 2)
        return NULL;
    tr_name *nm = tr_arena_alloc(arena, sizeof *nm);
    char *full = tr_arena_alloc(arena, full_len + 1);
    if (!nm || !full)
        return NULL;
    memset(nm, 0, sizeof *nm);
    if (plen) {
        memcpy(full, parent->full, plen);
        full[plen] = '.';
    }
    memcpy(full + full_len - key_len, key, key_len);
    full[full_len] = '\0';
    nm->parent = parent;
    nm->key = full + full_len - key_len;
    nm->key_len = (uint32_t)key_len;
    nm->full = full;
    nm->full_len = (uint32_t)full_len;
    nm->full_hash = full_hash;
    nm->depth = parent->depth < 255 ? (uint8_t)(parent->depth + 1) : 255;

    char abuf[TR_ALIAS_MAX];
    uint8_t prio;
    size_t alen = derive_alias(full, full_len, abuf, &prio);
    if (alen) {
        char *alias = tr_arena_strndup(arena, abuf, alen);
        if (!alias)
            return NULL;
        nm->alias = alias;
        nm->alias_len = (uint32_t)alen;
        nm->alias_hash = tr_hash_continue(TR_HASH_SEED, alias, alen);
        nm->alias_prio = prio;
    }
    nm->time_prio = time_priority(full, full_len);
    return nm;
}

static bool names_grow(tr_names *t)
{
    size_t ncap = (t->mask + 1) * 2;
    const tr_name **ns = tr_calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i <= t->mask; i++) {
        const tr_name *nm = t->slots[i];
        if (!nm)
            continue;
        size_t j = nm->full_hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = nm;
    }
    tr_free(t->slots);
    t->slots = ns;
    t->mask = ncap - 1;
    return true;
}

const tr_name *tr_names_child(tr_names *t, const tr_name *parent, const char *key, size_t key_len,
                              tr_arena *arena)
{
    if (parent->overlong)
        return parent;
    /* XML-to-JSON renderings: attributes and text belong to the element */
    if (key_len > 0 && key[0] == '#' &&
        ((key_len == 11 && memcmp(key, "#attributes", 11) == 0) ||
         (key_len == 5 && memcmp(key, "#text", 5) == 0)))
        return parent;

    if ((size_t)parent->full_len + 1 + key_len > TR_NAME_MAX)
        return &t->overlong;
    uint32_t h = parent->full_len ? tr_hash_byte(parent->full_hash, '.') : parent->full_hash;
    h = tr_hash_continue(h, key, key_len);

    size_t i = h & t->mask;
    for (const tr_name *nm; (nm = t->slots[i]) != NULL; i = (i + 1) & t->mask) {
        if (nm->full_hash == h && nm->parent == parent && nm->key_len == key_len &&
            memcmp(nm->key, key, key_len) == 0)
            return nm;
    }
    if (t->count >= TR_NAMES_MAX || t->store.total >= TR_NAMES_MAX_BYTES)
        return make_name(arena, parent, key, key_len, h);

    tr_name *nm = make_name(&t->store, parent, key, key_len, h);
    if (!nm)
        return NULL;
    nm->interned = 1;
    t->slots[i] = nm;
    t->count++;
    if (t->count * 2 > t->mask + 1 && !names_grow(t))
        return NULL;
    return nm;
}

const tr_name *tr_names_next(tr_names *t, const tr_name *parent, const tr_name *prev, const char *key,
                             size_t key_len, tr_arena *arena)
{
    const tr_name *guess = prev && prev != parent ? prev->next_guess : parent->first_guess;
    if (guess && guess->key_len == key_len && guess->parent == parent && memcmp(guess->key, key, key_len) == 0)
        return guess;
    const tr_name *nm = tr_names_child(t, parent, key, key_len, arena);
    /* Remember the shape, only among interned names: a transient name dies
     * with its batch and must not be pointed at from the table. */
    if (nm && nm->interned && nm != parent) {
        if (prev && prev != parent && prev->interned)
            ((tr_name *)(uintptr_t)prev)->next_guess = nm;
        else if (!prev && parent->interned)
            ((tr_name *)(uintptr_t)parent)->first_guess = nm;
    }
    return nm;
}
