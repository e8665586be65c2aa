/*
 * correlation.c — Sigma correlation rules: parsing the `correlation:`
 * section into a tr_corr_spec, and the engine that evaluates correlations
 * over the stream of base-rule matches (see correlation.h).
 *
 * Owns: nothing global. A spec lives in its caller's arena. An engine owns
 * one state per correlation: a hash table of groups (chained, so a group
 * never moves while a callback holds a pointer into it), a list of the same
 * groups in the order they were last touched, and the counters. Every byte
 * it holds is counted in `bytes` (tr_corr_engine_state_bytes).
 *
 * ---------------------------------------------------------------- the window model
 *
 * A group is the set of inputs of one correlation whose group-by fields
 * (aliases resolved per referenced rule) have the same values, compared
 * byte for byte. A group keeps a ring of entries (time, referenced rule,
 * value), sorted by time, plus running aggregates so that evaluating a
 * window costs O(1) for every type but the percentile: entries per rule
 * (temporal), a counting map of 64-bit value hashes (value_count: distinct
 * = the map's size), a running sum (value_sum, value_avg), and, for
 * temporal_ordered, chain[i] = the latest start time of an in-order match
 * of rules 0..i (a dynamic program updated per input; recomputed from the
 * ring when an input arrives out of time order).
 *
 * Inputs are expected in roughly ascending time. An input older than its
 * group's newest time minus the timespan is late: counted and ignored.
 *
 * Conditions are evaluated in one of two ways, chosen per correlation:
 *
 *   eager   — the condition has only lower bounds (gt, gte) and the value
 *             can only grow as entries are added (event_count, value_count,
 *             temporal, temporal_ordered, value_sum). The window slides: it
 *             holds the entries within timespan of the group's newest time,
 *             and is evaluated after every input, so a hit comes the moment
 *             the condition first holds.
 *   deferred — an upper bound (lt, lte, eq, neq) or a value that can go
 *             down again (value_avg, value_percentile): a verdict taken
 *             mid-window could be contradicted by the next input ("fewer
 *             than 5" holds after the first of 50 events). The window is
 *             anchored at the group's first entry and lasts timespan; it is
 *             evaluated once when it closes: at the first input beyond it,
 *             when the group expires, or at flush.
 *
 * When a correlation fires for a group, the group's window is emptied, so
 * the same entries never fire twice (the specification does not say; a
 * sliding count that stays above the threshold would otherwise fire on
 * every further input). A deferred window is emptied when it closes,
 * whether it fired or not.
 *
 * ---------------------------------------------------------------- memory
 *
 * Eager windows drop entries older than the timespan on every input of the
 * group; deferred windows hold at most one timespan of entries. A group
 * whose newest time is older than the engine's newest time minus the
 * timespan has expired: the correlation being fed frees its expired groups
 * on each feed, and every TR_CORR_SWEEP_EVERY feeds (and on
 * tr_corr_engine_advance) all correlations do. With inputs in ascending
 * time the touch-ordered list has the oldest groups first, so a sweep costs
 * the number of groups it frees. Rings, value maps and tables shrink as
 * they empty. Caps (entries per group, groups per correlation) bound the
 * worst case; what they cut is counted.
 *
 * ---------------------------------------------------------------- callbacks
 *
 * An emit callback may feed the engine again (a correlation referencing
 * another). So no group is freed while a callback runs (depth > 0: sweeps
 * wait for the next top-level feed), every group is in a consistent state
 * before emit is called, and groups being freed by a sweep or a flush are
 * first unlinked into a private list, so callbacks that add groups do not
 * disturb the walk.
 */
#include "correlation.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/hash.h"

/* ================================================================ specs */

struct tr_corr_spec {
    tr_corr_type type;
    uint32_t line;          /* of the correlation mapping */
    int generate;           /* 0 or 1 */
    unsigned ops;           /* TR_CORR_OP_* */
    double thr[6];          /* threshold per operator, by bit index */
    double percentile;      /* value_percentile: 0..100 */
    tr_time timespan;       /* ns, > 0 */
    const char **refs;      /* referenced rule names or ids, as written */
    size_t nrefs;
    const char **group_by;  /* as written (alias names) */
    size_t ngroup;
    const char **fields;    /* condition.field, as written */
    size_t nfields;
    const char **gb_field;  /* [nrefs][ngroup]: the field read, aliases resolved */
    const char **val_field; /* [nrefs][nfields] */
};

static const char *const type_names[] = {"event_count", "value_count", "temporal", "temporal_ordered",
                                         "value_sum", "value_avg", "value_percentile"};
#define NTYPES (sizeof type_names / sizeof type_names[0])

static const char *const op_names[6] = {"gt", "gte", "lt", "lte", "eq", "neq"};

static const char *const section_keys[] = {"type", "rules", "group-by", "timespan",
                                           "condition", "aliases", "generate"};
static const char *const condition_keys[] = {"gt", "gte", "lt", "lte", "eq", "neq", "field", "percentile"};

typedef struct pctx {
    tr_arena *arena;
    char *err;
    size_t err_size;
    uint32_t *err_line;
    uint32_t line; /* the section's, for what is missing */
} pctx;

static int perr(pctx *p, const tr_ynode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(pctx *p, const tr_ynode *at, const char *fmt, ...)
{
    if (p->err && p->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->err_size, fmt, ap);
        va_end(ap);
    }
    if (p->err_line)
        *p->err_line = at ? at->line : p->line;
    return TR_ERR_FORMAT;
}

/* For messages: how much of a scalar to quote. */
#define SHOWN(n) (int)((n)->len > 60 ? 60 : (n)->len)

static const char *kind_name(const tr_ynode *n)
{
    if (!n || tr_yscalar_is_null(n))
        return "nothing";
    return n->kind == TR_Y_SEQ ? "a list" : n->kind == TR_Y_MAP ? "a mapping" : "a single value";
}

static bool is_null(const tr_ynode *n) { return !n || (n->kind == TR_Y_SCALAR && tr_yscalar_is_null(n)); }

/* A non-empty scalar name without NUL. */
static int check_name(pctx *p, const tr_ynode *n, const char *what)
{
    if (is_null(n) || n->kind != TR_Y_SCALAR)
        return perr(p, n, "%s must be a name, not %s", what, kind_name(n));
    if (n->len == 0 || n->len > TR_CORR_MAX_NAME_LEN || memchr(n->str, '\0', n->len))
        return perr(p, n, "%s must be a non-empty name of at most %d bytes", what, TR_CORR_MAX_NAME_LEN);
    return TR_OK;
}

/* The same, copied into the arena. */
static int take_name(pctx *p, const tr_ynode *n, const char *what, const char **out)
{
    int rc = check_name(p, n, what);
    if (rc != TR_OK)
        return rc;
    char *s = tr_arena_strndup(p->arena, n->str, n->len);
    if (!s)
        return TR_ERR_NOMEM;
    *out = s;
    return TR_OK;
}

/* A list of distinct names, or one name. */
static int take_names(pctx *p, const tr_ynode *n, const char *what, size_t max, const char ***out,
                      size_t *count)
{
    const tr_ynode *const *items = &n;
    size_t k = 1;
    if (n && n->kind == TR_Y_SEQ) {
        items = (const tr_ynode *const *)n->items;
        k = n->count;
        if (k == 0)
            return perr(p, n, "%s must not be empty", what);
    } else if (is_null(n) || n->kind != TR_Y_SCALAR) {
        return perr(p, n, "%s must be a list of names, not %s", what, kind_name(n));
    }
    if (k > max)
        return perr(p, n, "%s has %zu items; at most %zu are allowed", what, k, max);
    const char **a = tr_arena_alloc(p->arena, k * sizeof *a);
    if (!a)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < k; i++) {
        int rc = take_name(p, items[i], what, &a[i]);
        if (rc != TR_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(a[i], a[j]) == 0)
                return perr(p, items[i], "%s lists '%s' twice", what, a[i]);
    }
    *out = a;
    *count = k;
    return TR_OK;
}

/* Keys of a mapping: scalars, distinct, and (when `known`) among known. */
static int check_keys(pctx *p, const tr_ynode *map, const char *where, const char *const *known,
                      size_t nknown)
{
    for (size_t i = 0; i < map->count; i++) {
        const tr_ynode *k = tr_ymap_key(map, i);
        if (!k || k->kind != TR_Y_SCALAR)
            return perr(p, k ? k : map, "a key of %s is %s, not a name", where, kind_name(k));
        if (known) {
            size_t j = 0;
            while (j < nknown && !tr_yscalar_eq(k, known[j]))
                j++;
            if (j == nknown) {
                char list[200];
                size_t at = 0;
                for (j = 0; j < nknown && at < sizeof list; j++)
                    at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", j ? ", " : "", known[j]);
                return perr(p, k, "unknown key '%.*s' in %s (known: %s)", SHOWN(k), k->str, where, list);
            }
        }
        for (size_t j = 0; j < i; j++) {
            const tr_ynode *o = tr_ymap_key(map, j);
            if (o->len == k->len && memcmp(o->str, k->str, k->len) == 0)
                return perr(p, k, "key '%.*s' appears twice in %s", SHOWN(k), k->str, where);
        }
    }
    return TR_OK;
}

static int parse_timespan(pctx *p, const tr_ynode *n, tr_time *out)
{
    if (is_null(n) || n->kind != TR_Y_SCALAR)
        return perr(p, n, "timespan must be a number and a unit (s, m, h or d), like 5m, not %s",
                    kind_name(n));
    const char *s = n->str;
    size_t len = n->len, i = 0;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return perr(p, n, "timespan '%.*s' is too long", SHOWN(n), s);
        v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (i == 0 || i + 1 != len)
        return perr(p, n, "timespan '%.*s' is not a number followed by one unit letter (s, m, h or d), like 5m",
                    SHOWN(n), s);
    int64_t unit;
    switch (s[i]) {
    case 's': unit = 1000000000LL; break;
    case 'm': unit = 60 * 1000000000LL; break;
    case 'h': unit = 3600 * 1000000000LL; break;
    case 'd': unit = 86400 * 1000000000LL; break;
    case 'w': /* the specification's units are s, m, h and d only */
        return perr(p, n, "timespan '%.*s': weeks are not a unit of the specification; use days (7d a week)",
                    SHOWN(n), s);
    case 'M':
    case 'y':
        return perr(p, n, "timespan '%.*s': months and years are not fixed durations; use days", SHOWN(n), s);
    default:
        if (s[i] >= 'A' && s[i] <= 'Z')
            return perr(p, n, "timespan '%.*s': units are lowercase (s, m, h or d)", SHOWN(n), s);
        return perr(p, n, "timespan '%.*s' has unknown unit '%c' (use s, m, h or d)", SHOWN(n), s, s[i]);
    }
    if (v == 0)
        return perr(p, n, "timespan '%.*s' must be greater than zero", SHOWN(n), s);
    if (v > (uint64_t)(INT64_MAX / unit))
        return perr(p, n, "timespan '%.*s' is too long", SHOWN(n), s);
    *out = (tr_time)v * unit;
    return TR_OK;
}

static bool needs_field(tr_corr_type t)
{
    return t == TR_CORR_VALUE_COUNT || t == TR_CORR_VALUE_SUM || t == TR_CORR_VALUE_AVG ||
           t == TR_CORR_VALUE_PERCENTILE;
}

static bool is_temporal(tr_corr_type t) { return t == TR_CORR_TEMPORAL || t == TR_CORR_TEMPORAL_ORDERED; }

static int parse_condition(pctx *p, const tr_ynode *n, tr_corr_spec *s)
{
    const char *tname = type_names[s->type];
    s->percentile = 50;
    if (is_null(n)) {
        if (!is_temporal(s->type))
            return perr(p, n, "%s needs a condition (like gte: 10)", tname);
        /* temporal: every referenced rule within the timespan */
        s->ops = TR_CORR_OP_GTE;
        s->thr[1] = (double)s->nrefs;
        return TR_OK;
    }
    if (n->kind == TR_Y_SCALAR)
        return perr(p, n, "condition must be a mapping of operators to numbers (like gte: 10); "
                          "expression conditions are not supported");
    if (n->kind != TR_Y_MAP)
        return perr(p, n, "condition must be a mapping of operators to numbers (like gte: 10), not %s",
                    kind_name(n));
    int rc = check_keys(p, n, "condition", condition_keys, sizeof condition_keys / sizeof condition_keys[0]);
    if (rc != TR_OK)
        return rc;
    const tr_ynode *field = NULL, *pct = NULL;
    for (size_t i = 0; i < n->count; i++) {
        const tr_ynode *k = tr_ymap_key(n, i), *v = tr_ymap_value(n, i);
        if (tr_yscalar_eq(k, "field")) {
            field = v;
            continue;
        }
        if (tr_yscalar_eq(k, "percentile")) {
            pct = v;
            continue;
        }
        unsigned op = 0;
        while (!tr_yscalar_eq(k, op_names[op]))
            op++;
        double d;
        if (!v || !tr_yscalar_number(v, &d) || !isfinite(d))
            return perr(p, v ? v : k, "condition %s must be a number, not %s%.*s%s", op_names[op],
                        v && v->kind == TR_Y_SCALAR ? "'" : "", v && v->kind == TR_Y_SCALAR ? SHOWN(v) : 0,
                        v && v->kind == TR_Y_SCALAR ? v->str : kind_name(v),
                        v && v->kind == TR_Y_SCALAR ? "'" : "");
        s->ops |= 1u << op;
        s->thr[op] = d;
    }
    if (!s->ops)
        return perr(p, n, "condition needs an operator: gt, gte, lt, lte, eq or neq");
    if (field && !needs_field(s->type))
        return perr(p, field,
                    "condition field is for value_count, value_sum, value_avg and value_percentile, not %s", tname);
    if (!field && needs_field(s->type))
        return perr(p, n, "%s needs condition.field (the field whose values it aggregates)", tname);
    if (field) {
        rc = take_names(p, field, "condition field", TR_CORR_MAX_FIELDS, &s->fields, &s->nfields);
        if (rc != TR_OK)
            return rc;
        if (s->nfields > 1 && s->type != TR_CORR_VALUE_COUNT)
            return perr(p, field, "%s aggregates one field; condition field lists %zu", tname, s->nfields);
    }
    if (pct) {
        if (s->type != TR_CORR_VALUE_PERCENTILE)
            return perr(p, pct, "condition percentile is for value_percentile, not %s", tname);
        double d;
        if (!tr_yscalar_number(pct, &d) || !(d >= 0 && d <= 100))
            return perr(p, pct, "condition percentile must be a number from 0 to 100");
        s->percentile = d;
    }
    return TR_OK;
}

/* The field an alias maps rule `ref` to: the node, or NULL. */
static const tr_ynode *alias_field(const tr_ynode *aliases, const char *alias, const char *ref)
{
    const tr_ynode *m = aliases ? tr_ymap_get(aliases, alias) : NULL;
    return m && m->kind == TR_Y_MAP ? tr_ymap_get(m, ref) : NULL;
}

static int check_aliases(pctx *p, const tr_ynode *n, const tr_corr_spec *s)
{
    if (n->kind != TR_Y_MAP)
        return perr(p, n, "aliases must be a mapping of alias names to {rule: field} mappings, not %s",
                    kind_name(n));
    int rc = check_keys(p, n, "aliases", NULL, 0);
    if (rc != TR_OK)
        return rc;
    for (size_t i = 0; i < n->count; i++) {
        const tr_ynode *a = tr_ymap_key(n, i), *m = tr_ymap_value(n, i);
        if (a->len == 0 || a->len > TR_CORR_MAX_NAME_LEN || memchr(a->str, '\0', a->len))
            return perr(p, a, "an alias name must be a non-empty name of at most %d bytes", TR_CORR_MAX_NAME_LEN);
        if (!m || m->kind != TR_Y_MAP || m->count == 0)
            return perr(p, m ? m : a, "alias '%.*s' must map referenced rules to field names, not %s",
                        SHOWN(a), a->str, kind_name(m));
        char where[TR_CORR_MAX_NAME_LEN + 16];
        snprintf(where, sizeof where, "alias '%.*s'", SHOWN(a), a->str);
        rc = check_keys(p, m, where, NULL, 0);
        if (rc != TR_OK)
            return rc;
        for (size_t j = 0; j < m->count; j++) {
            const tr_ynode *r = tr_ymap_key(m, j), *f = tr_ymap_value(m, j);
            size_t k = 0;
            while (k < s->nrefs && !tr_yscalar_eq(r, s->refs[k]))
                k++;
            if (k == s->nrefs)
                return perr(p, r, "alias '%.*s' names rule '%.*s', which is not in rules", SHOWN(a), a->str,
                            SHOWN(r), r->str);
            rc = check_name(p, f, "an alias's field");
            if (rc != TR_OK)
                return rc;
        }
    }
    return TR_OK;
}

/* table[r * nnames + i]: the field read for names[i] in inputs of rule r. */
static int resolve(pctx *p, const tr_corr_spec *s, const tr_ynode *aliases, const char *const *names,
                   size_t nnames, const char ***table)
{
    if (!nnames) {
        *table = NULL;
        return TR_OK;
    }
    const char **t = tr_arena_alloc(p->arena, s->nrefs * nnames * sizeof *t);
    if (!t)
        return TR_ERR_NOMEM;
    for (size_t r = 0; r < s->nrefs; r++) {
        for (size_t i = 0; i < nnames; i++) {
            const tr_ynode *f = alias_field(aliases, names[i], s->refs[r]);
            t[r * nnames + i] = names[i];
            if (f) {
                int rc = take_name(p, f, "an alias's field", &t[r * nnames + i]);
                if (rc != TR_OK)
                    return rc;
            }
        }
    }
    *table = t;
    return TR_OK;
}

static int parse_section(pctx *p, const tr_ynode *sec, tr_corr_spec **out)
{
    int rc = check_keys(p, sec, "correlation", section_keys, sizeof section_keys / sizeof section_keys[0]);
    if (rc != TR_OK)
        return rc;
    tr_corr_spec *s = tr_arena_alloc(p->arena, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->line = sec->line;

    const tr_ynode *n = tr_ymap_get(sec, "type");
    if (is_null(n))
        return perr(p, n, "correlation needs a type (%s, %s, %s, %s, %s, %s or %s)", type_names[0], type_names[1],
                    type_names[2], type_names[3], type_names[4], type_names[5], type_names[6]);
    size_t t = 0;
    while (t < NTYPES && !tr_yscalar_eq(n, type_names[t]))
        t++;
    if (t == NTYPES) {
        if (n->kind != TR_Y_SCALAR)
            return perr(p, n, "correlation type must be a name, not %s", kind_name(n));
        return perr(p, n, "unknown correlation type '%.*s' (known: %s, %s, %s, %s, %s, %s, %s)", SHOWN(n), n->str,
                    type_names[0], type_names[1], type_names[2], type_names[3], type_names[4], type_names[5],
                    type_names[6]);
    }
    s->type = (tr_corr_type)t;

    n = tr_ymap_get(sec, "rules");
    if (is_null(n))
        return perr(p, n, "correlation needs rules (the names or ids of the rules it correlates)");
    if ((rc = take_names(p, n, "rules", TR_CORR_MAX_RULES, &s->refs, &s->nrefs)) != TR_OK)
        return rc;

    n = tr_ymap_get(sec, "group-by");
    if (!is_null(n) &&
        (rc = take_names(p, n, "group-by", TR_CORR_MAX_GROUP_BY, &s->group_by, &s->ngroup)) != TR_OK)
        return rc;

    n = tr_ymap_get(sec, "timespan");
    if (is_null(n))
        return perr(p, n, "correlation needs a timespan (like 5m)");
    if ((rc = parse_timespan(p, n, &s->timespan)) != TR_OK)
        return rc;

    const tr_ynode *aliases = tr_ymap_get(sec, "aliases");
    if (is_null(aliases))
        aliases = NULL;
    else if ((rc = check_aliases(p, aliases, s)) != TR_OK)
        return rc;

    if ((rc = parse_condition(p, tr_ymap_get(sec, "condition"), s)) != TR_OK)
        return rc;

    n = tr_ymap_get(sec, "generate");
    if (!is_null(n)) {
        int b = tr_yscalar_bool(n);
        if (b < 0)
            return perr(p, n, "generate must be true or false");
        s->generate = b;
    }

    if ((rc = resolve(p, s, aliases, s->group_by, s->ngroup, &s->gb_field)) != TR_OK ||
        (rc = resolve(p, s, aliases, s->fields, s->nfields, &s->val_field)) != TR_OK)
        return rc;
    *out = s;
    return TR_OK;
}

int tr_corr_parse(const tr_ynode *section, tr_arena *arena, tr_corr_spec **out, char *err, size_t err_size,
                  uint32_t *err_line)
{
    pctx p = {arena, err, err_size, err_line, section ? section->line : 0};
    if (err && err_size)
        err[0] = '\0';
    if (err_line)
        *err_line = 0;
    if (!out || !arena)
        return TR_ERR_ARG;
    *out = NULL;
    if (!section || section->kind != TR_Y_MAP)
        return perr(&p, section, "correlation must be a mapping, not %s", kind_name(section));
    tr_arena_mark mark = tr_arena_get_mark(arena);
    int rc = parse_section(&p, section, out);
    if (rc != TR_OK) {
        *out = NULL;
        tr_arena_rollback(arena, mark); /* a rejected rule leaves nothing behind */
    }
    return rc;
}

int tr_corr_parse_rule(const tr_ynode *doc, tr_arena *arena, tr_corr_spec **out, char *err, size_t err_size,
                       uint32_t *err_line)
{
    pctx p = {arena, err, err_size, err_line, doc ? doc->line : 0};
    if (out)
        *out = NULL;
    if (!doc || doc->kind != TR_Y_MAP)
        return perr(&p, doc, "a correlation rule must be a mapping, not %s", kind_name(doc));
    const tr_ynode *sec = tr_ymap_get(doc, "correlation");
    if (!sec)
        return perr(&p, doc, "the rule has no correlation section");
    const tr_ynode *gen = tr_ymap_get(doc, "generate");
    int b = -1;
    if (!is_null(gen) && (b = tr_yscalar_bool(gen)) < 0)
        return perr(&p, gen, "generate must be true or false");
    int rc = tr_corr_parse(sec, arena, out, err, err_size, err_line);
    if (rc == TR_OK && b >= 0)
        (*out)->generate = b;
    return rc;
}

tr_corr_type tr_corr_spec_type(const tr_corr_spec *s) { return s->type; }
const char *tr_corr_type_name(tr_corr_type t) { return (size_t)t < NTYPES ? type_names[t] : NULL; }
size_t tr_corr_ref_count(const tr_corr_spec *s) { return s->nrefs; }
const char *tr_corr_ref(const tr_corr_spec *s, size_t i) { return i < s->nrefs ? s->refs[i] : NULL; }
tr_time tr_corr_timespan(const tr_corr_spec *s) { return s->timespan; }
size_t tr_corr_group_by_count(const tr_corr_spec *s) { return s->ngroup; }
const char *tr_corr_group_by(const tr_corr_spec *s, size_t i) { return i < s->ngroup ? s->group_by[i] : NULL; }
size_t tr_corr_field_count(const tr_corr_spec *s) { return s->nfields; }
const char *tr_corr_field(const tr_corr_spec *s, size_t i) { return i < s->nfields ? s->fields[i] : NULL; }
unsigned tr_corr_cond_ops(const tr_corr_spec *s) { return s->ops; }
double tr_corr_percentile(const tr_corr_spec *s) { return s->percentile; }
int tr_corr_generate(const tr_corr_spec *s) { return s->generate; }
uint32_t tr_corr_line(const tr_corr_spec *s) { return s->line; }

const char *tr_corr_group_field(const tr_corr_spec *s, size_t ref, size_t i)
{
    return ref < s->nrefs && i < s->ngroup ? s->gb_field[ref * s->ngroup + i] : NULL;
}

double tr_corr_cond_threshold(const tr_corr_spec *s, unsigned op)
{
    for (unsigned i = 0; i < 6; i++)
        if (op == 1u << i)
            return s->thr[i];
    return 0;
}

int tr_corr_condition_holds(const tr_corr_spec *s, double v)
{
    for (unsigned i = 0; i < 6; i++) {
        if (!(s->ops & (1u << i)))
            continue;
        double t = s->thr[i];
        bool ok = i == 0 ? v > t : i == 1 ? v >= t : i == 2 ? v < t : i == 3 ? v <= t : i == 4 ? v == t : v != t;
        if (!ok)
            return 0;
    }
    return 1;
}

/* ================================================================ engine state */

typedef struct corr_entry {
    tr_time t;
    union {
        double num;    /* value_sum/avg/percentile */
        uint64_t hash; /* value_count: hash of the value (tuple), never 0 */
    } v;
    uint32_t ref;      /* index of the referenced rule */
} corr_entry;

/* Distinct values of a window: 64-bit value hash -> entries holding it.
 * Linear probing with backward-shift deletion (no tombstones, so a map
 * that sees values come and go does not fill up). Hashes are already
 * mixed, so the low bits index directly. */
typedef struct corr_vmap {
    uint64_t *keys;    /* 0 = empty slot; counts follow keys in the same block */
    uint32_t *counts;
    uint32_t cap;      /* power of two, 0 when unallocated */
    uint32_t size;
} corr_vmap;

typedef struct corr_group corr_group;
struct corr_group {
    corr_group *next;                /* hash chain; the private list once unlinked */
    corr_group *lru_prev, *lru_next; /* least recently touched first */
    uint64_t hash;
    tr_time newest;                  /* newest input time accepted: the expiry clock */
    tr_time start;                   /* deferred: time of the open window's first entry */
    corr_entry *ring;                /* sorted by time, oldest at head */
    uint32_t head, count, cap;       /* cap: power of two, 0 when unallocated */
    uint32_t present;                /* temporal: rules with refcount > 0 */
    double sum;                      /* value_sum/avg */
    uint32_t *refcount;              /* temporal: [nrefs] entries per rule */
    tr_time *chain;                  /* temporal_ordered: [nrefs], TR_TIME_NONE = no match */
    corr_vmap distinct;              /* value_count */
    size_t block;                    /* bytes of this allocation */
    size_t keylen;
    const char **values;             /* [ngroup] into key */
    size_t *lens;                    /* [ngroup] */
    char *key;                       /* per value: 4-byte length, bytes, NUL */
};

typedef struct corr_state {
    const tr_corr_spec *spec;
    bool deferred;
    corr_group **buckets;
    size_t nbuckets;                 /* power of two, 0 when unallocated */
    size_t ngroups;
    corr_group *lru_first, *lru_last;
    tr_corr_stats stats;
} corr_state;

struct tr_corr_engine {
    corr_state *cs;
    size_t n;
    tr_time newest;                  /* newest input time seen; TR_TIME_NONE before any */
    unsigned depth;                  /* emit callbacks running: nothing is freed meanwhile */
    unsigned feeds;                  /* top-level feeds since the last full sweep */
    size_t bytes;                    /* everything held, the engine included */
    size_t max_entries, max_groups;
    char *scratch;                   /* the group key being built */
    size_t scratch_cap;
};

#define RING(g, i) ((g)->ring[((g)->head + (uint32_t)(i)) & ((g)->cap - 1)])
#define MIN_BUCKETS 16u
#define MIN_RING 8u
#define KEEP_RING 64u                /* a reset keeps a ring this small for the next window */

static void *e_alloc(tr_corr_engine *e, size_t n)
{
    void *p = tr_malloc(n);
    if (p)
        e->bytes += n;
    return p;
}

static void *e_calloc(tr_corr_engine *e, size_t count, size_t size)
{
    void *p = tr_calloc(count, size);
    if (p)
        e->bytes += count * size;
    return p;
}

static void e_free(tr_corr_engine *e, void *p, size_t n)
{
    if (p) {
        tr_free(p);
        e->bytes -= n;
    }
}

/* Saturating time arithmetic (b > 0): a window near the ends of the clock
 * neither wraps nor expires everything. */
static tr_time t_sub(tr_time a, tr_time b) { return a < INT64_MIN + b ? INT64_MIN : a - b; }
static tr_time t_add(tr_time a, tr_time b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}
#define FNV64_SEED 0xcbf29ce484222325ull

/* A field value as a number: optional blanks, then decimal notation only
 * (no hex, inf or nan), finite. */
static bool text_number(const char *s, size_t len, double *out)
{
    char buf[64];
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof buf)
        return false;
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return false;
    }
    if (!digit)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    double d = strtod(buf, &end);
    if (end != buf + len || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* ---------------------------------------------------------------- value map */

static void vmap_free(tr_corr_engine *e, corr_vmap *m)
{
    e_free(e, m->keys, (size_t)m->cap * (sizeof *m->keys + sizeof *m->counts));
    memset(m, 0, sizeof *m);
}

static int vmap_resize(tr_corr_engine *e, corr_vmap *m, uint32_t cap)
{
    uint64_t *keys = e_calloc(e, cap, sizeof *keys + sizeof *m->counts);
    if (!keys)
        return TR_ERR_NOMEM;
    uint32_t *counts = (uint32_t *)(keys + cap);
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        uint32_t j = (uint32_t)m->keys[i] & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        counts[j] = m->counts[i];
    }
    uint32_t size = m->size;
    vmap_free(e, m);
    m->keys = keys;
    m->counts = counts;
    m->cap = cap;
    m->size = size;
    return TR_OK;
}

/* Slot of key, or of the empty slot where it would go. */
static uint32_t vmap_slot(const corr_vmap *m, uint64_t key)
{
    uint32_t j = (uint32_t)key & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    return j;
}

static int vmap_inc(tr_corr_engine *e, corr_vmap *m, uint64_t key)
{
    if (m->cap) {
        uint32_t j = vmap_slot(m, key);
        if (m->keys[j]) {
            m->counts[j]++;
            return TR_OK;
        }
    }
    if (!m->cap || ((uint64_t)m->size + 1) * 10 > (uint64_t)m->cap * 7) { /* load <= 70% */
        int rc = vmap_resize(e, m, m->cap ? m->cap * 2 : 16);
        if (rc != TR_OK)
            return rc;
    }
    uint32_t j = vmap_slot(m, key);
    m->keys[j] = key;
    m->counts[j] = 1;
    m->size++;
    return TR_OK;
}

static void vmap_dec(tr_corr_engine *e, corr_vmap *m, uint64_t key)
{
    if (!m->cap)
        return;
    uint32_t mask = m->cap - 1, i = vmap_slot(m, key);
    if (!m->keys[i])
        return;
    if (--m->counts[i])
        return;
    /* backward shift: pull later members of the probe run into the hole */
    for (uint32_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        uint32_t k = (uint32_t)m->keys[j] & mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->counts[i] = m->counts[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->size--;
    if (m->size == 0)
        vmap_free(e, m);
    else if (m->cap > 16 && m->size * 8 < m->cap)
        (void)vmap_resize(e, m, m->cap / 2); /* no memory to shrink: keep the larger map */
}

/* ---------------------------------------------------------------- groups */

static void lru_remove(corr_state *cs, corr_group *g)
{
    if (g->lru_prev)
        g->lru_prev->lru_next = g->lru_next;
    else
        cs->lru_first = g->lru_next;
    if (g->lru_next)
        g->lru_next->lru_prev = g->lru_prev;
    else
        cs->lru_last = g->lru_prev;
    g->lru_prev = g->lru_next = NULL;
}

static void lru_append(corr_state *cs, corr_group *g)
{
    g->lru_prev = cs->lru_last;
    g->lru_next = NULL;
    if (cs->lru_last)
        cs->lru_last->lru_next = g;
    else
        cs->lru_first = g;
    cs->lru_last = g;
}

static int table_resize(tr_corr_engine *e, corr_state *cs, size_t nb)
{
    corr_group **b = e_calloc(e, nb, sizeof *b);
    if (!b)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < cs->nbuckets; i++) {
        corr_group *g = cs->buckets[i];
        while (g) {
            corr_group *next = g->next;
            size_t j = g->hash & (nb - 1);
            g->next = b[j];
            b[j] = g;
            g = next;
        }
    }
    e_free(e, cs->buckets, cs->nbuckets * sizeof *cs->buckets);
    cs->buckets = b;
    cs->nbuckets = nb;
    return TR_OK;
}

/* After removals: an empty table goes, a sparse one halves (best effort). */
static void table_shrink(tr_corr_engine *e, corr_state *cs)
{
    if (cs->ngroups == 0) {
        e_free(e, cs->buckets, cs->nbuckets * sizeof *cs->buckets);
        cs->buckets = NULL;
        cs->nbuckets = 0;
        return;
    }
    size_t nb = cs->nbuckets;
    while (nb > MIN_BUCKETS && cs->ngroups < nb / 4)
        nb /= 2;
    if (nb != cs->nbuckets)
        (void)table_resize(e, cs, nb);
}

static corr_group *group_find(const corr_state *cs, uint64_t hash, const char *key, size_t keylen)
{
    if (!cs->nbuckets)
        return NULL;
    for (corr_group *g = cs->buckets[hash & (cs->nbuckets - 1)]; g; g = g->next)
        if (g->hash == hash && g->keylen == keylen && (keylen == 0 || memcmp(g->key, key, keylen) == 0))
            return g;
    return NULL;
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* A new empty group for `key`, linked into the table and the touch list.
 * NULL with *rc = TR_ERR_LIMIT (group cap) or TR_ERR_NOMEM. */
static corr_group *group_create(tr_corr_engine *e, corr_state *cs, uint64_t hash, const char *key,
                                size_t keylen, int *rc)
{
    const tr_corr_spec *s = cs->spec;
    if (cs->ngroups >= e->max_groups) {
        *rc = TR_ERR_LIMIT;
        return NULL;
    }
    *rc = TR_ERR_NOMEM;
    if (!cs->nbuckets && table_resize(e, cs, MIN_BUCKETS) != TR_OK)
        return NULL;
    size_t off = align8(sizeof(corr_group));
    size_t values_off = off;
    off += align8(s->ngroup * sizeof(char *));
    size_t lens_off = off;
    off += align8(s->ngroup * sizeof(size_t));
    size_t ref_off = off;
    if (s->type == TR_CORR_TEMPORAL)
        off += align8(s->nrefs * sizeof(uint32_t));
    size_t chain_off = off;
    if (s->type == TR_CORR_TEMPORAL_ORDERED)
        off += s->nrefs * sizeof(tr_time);
    size_t key_off = off;
    off += keylen;
    char *block = e_calloc(e, 1, off);
    if (!block)
        return NULL;
    corr_group *g = (corr_group *)(void *)block;
    g->block = off;
    g->hash = hash;
    g->newest = g->start = TR_TIME_NONE;
    g->values = (const char **)(void *)(block + values_off);
    g->lens = (size_t *)(void *)(block + lens_off);
    if (s->type == TR_CORR_TEMPORAL)
        g->refcount = (uint32_t *)(void *)(block + ref_off);
    if (s->type == TR_CORR_TEMPORAL_ORDERED) {
        g->chain = (tr_time *)(void *)(block + chain_off);
        for (size_t i = 0; i < s->nrefs; i++)
            g->chain[i] = TR_TIME_NONE;
    }
    g->key = block + key_off;
    g->keylen = keylen;
    if (keylen)
        memcpy(g->key, key, keylen);
    size_t at = 0;
    for (size_t i = 0; i < s->ngroup; i++) {
        uint32_t len;
        memcpy(&len, g->key + at, sizeof len);
        g->lens[i] = len;
        g->values[i] = g->key + at + sizeof len;
        at += sizeof len + len + 1;
    }
    size_t j = hash & (cs->nbuckets - 1);
    g->next = cs->buckets[j];
    cs->buckets[j] = g;
    cs->ngroups++;
    lru_append(cs, g);
    if (cs->ngroups > cs->nbuckets)
        (void)table_resize(e, cs, cs->nbuckets * 2); /* no memory: longer chains, still correct */
    *rc = TR_OK;
    return g;
}

static void group_unlink(corr_state *cs, corr_group *g)
{
    corr_group **pp = &cs->buckets[g->hash & (cs->nbuckets - 1)];
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    g->next = NULL;
    lru_remove(cs, g);
    cs->ngroups--;
}

static void group_free(tr_corr_engine *e, corr_group *g)
{
    e_free(e, g->ring, (size_t)g->cap * sizeof *g->ring);
    vmap_free(e, &g->distinct);
    e_free(e, g, g->block);
}

/* Empties the window; the group itself (its key) stays. */
static void group_reset(tr_corr_engine *e, const corr_state *cs, corr_group *g)
{
    const tr_corr_spec *s = cs->spec;
    if (g->cap > KEEP_RING) {
        e_free(e, g->ring, (size_t)g->cap * sizeof *g->ring);
        g->ring = NULL;
        g->cap = 0;
    }
    g->head = g->count = 0;
    g->present = 0;
    g->sum = 0;
    if (g->refcount)
        memset(g->refcount, 0, s->nrefs * sizeof *g->refcount);
    if (g->chain)
        for (size_t i = 0; i < s->nrefs; i++)
            g->chain[i] = TR_TIME_NONE;
    vmap_free(e, &g->distinct);
}

/* ---------------------------------------------------------------- the ring */

static int ring_resize(tr_corr_engine *e, corr_group *g, uint32_t cap)
{
    corr_entry *r = e_alloc(e, (size_t)cap * sizeof *r);
    if (!r)
        return TR_ERR_NOMEM;
    for (uint32_t i = 0; i < g->count; i++)
        r[i] = RING(g, i);
    e_free(e, g->ring, (size_t)g->cap * sizeof *g->ring);
    g->ring = r;
    g->cap = cap;
    g->head = 0;
    return TR_OK;
}

/* Inserts in time order (after equal times: arrival order breaks ties).
 * *last: it went to the end, the usual case. */
static int ring_insert(tr_corr_engine *e, corr_group *g, const corr_entry *en, bool *last)
{
    if (g->count == g->cap) {
        int rc = ring_resize(e, g, g->cap ? g->cap * 2 : MIN_RING);
        if (rc != TR_OK)
            return rc;
    }
    uint32_t i = g->count;
    while (i > 0 && RING(g, i - 1).t > en->t) {
        RING(g, i) = RING(g, i - 1);
        i--;
    }
    RING(g, i) = *en;
    g->count++;
    *last = i == g->count - 1;
    return TR_OK;
}

/* Aggregates: what an entry adds to and takes from its window. Only the
 * value map can fail (it grows), so it goes first. */
static int agg_add(tr_corr_engine *e, const corr_state *cs, corr_group *g, const corr_entry *en)
{
    switch (cs->spec->type) {
    case TR_CORR_TEMPORAL:
        if (g->refcount[en->ref]++ == 0)
            g->present++;
        break;
    case TR_CORR_VALUE_COUNT:
        return vmap_inc(e, &g->distinct, en->v.hash);
    case TR_CORR_VALUE_SUM:
    case TR_CORR_VALUE_AVG:
        g->sum += en->v.num;
        break;
    default:
        break;
    }
    return TR_OK;
}

static void agg_remove(tr_corr_engine *e, const corr_state *cs, corr_group *g, const corr_entry *en)
{
    switch (cs->spec->type) {
    case TR_CORR_TEMPORAL:
        if (--g->refcount[en->ref] == 0)
            g->present--;
        break;
    case TR_CORR_VALUE_COUNT:
        vmap_dec(e, &g->distinct, en->v.hash);
        break;
    case TR_CORR_VALUE_SUM:
    case TR_CORR_VALUE_AVG:
        g->sum -= en->v.num;
        break;
    default:
        break;
    }
}

static void ring_pop(tr_corr_engine *e, const corr_state *cs, corr_group *g)
{
    corr_entry en = RING(g, 0);
    g->head = (g->head + 1) & (g->cap - 1);
    g->count--;
    agg_remove(e, cs, g, &en);
    if (!g->count)
        g->sum = 0; /* no rounding residue survives an empty window */
}

/* Eager windows: drops entries older than cutoff, then lets the ring
 * shrink (best effort) so memory follows what the window holds. */
static void expire_front(tr_corr_engine *e, const corr_state *cs, corr_group *g, tr_time cutoff)
{
    while (g->count && RING(g, 0).t < cutoff)
        ring_pop(e, cs, g);
    if (g->count == 0 && g->cap > KEEP_RING) {
        e_free(e, g->ring, (size_t)g->cap * sizeof *g->ring);
        g->ring = NULL;
        g->cap = g->head = 0;
    } else if (g->cap > MIN_RING && g->count < g->cap / 4) {
        uint32_t cap = g->cap;
        while (cap > MIN_RING && g->count < cap / 4)
            cap /= 2;
        (void)ring_resize(e, g, cap);
    }
}

/* temporal_ordered: chain[r] = latest start of an in-order match of rules
 * 0..r. An entry of rule r extends the best match of 0..r-1 seen before it. */
static void chain_step(corr_group *g, const corr_entry *en)
{
    tr_time cand = en->ref == 0 ? en->t : g->chain[en->ref - 1];
    if (cand > g->chain[en->ref]) /* TR_TIME_NONE is the smallest time: never wins */
        g->chain[en->ref] = cand;
}

static void chain_recompute(const corr_state *cs, corr_group *g)
{
    for (size_t i = 0; i < cs->spec->nrefs; i++)
        g->chain[i] = TR_TIME_NONE;
    for (uint32_t i = 0; i < g->count; i++)
        chain_step(g, &RING(g, i));
}

/* k-th smallest value of the window (quickselect, reorders the values:
 * only for a window about to be emptied). */
static double ring_select(corr_group *g, uint32_t n, uint32_t k)
{
    int64_t lo = 0, hi = (int64_t)n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        double a = RING(g, lo).v.num, b = RING(g, mid).v.num, c = RING(g, hi).v.num;
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (RING(g, i).v.num < pivot)
                i++;
            while (RING(g, j).v.num > pivot)
                j--;
            if (i <= j) {
                double t = RING(g, i).v.num;
                RING(g, i).v.num = RING(g, j).v.num;
                RING(g, j).v.num = t;
                i++;
                j--;
            }
        }
        if ((int64_t)k <= j)
            hi = j;
        else if ((int64_t)k >= i)
            lo = i;
        else
            return RING(g, k).v.num;
    }
    return RING(g, k).v.num;
}

/* Linear interpolation between the closest ranks (numpy's default). */
static double window_percentile(const tr_corr_spec *s, corr_group *g)
{
    uint32_t n = g->count;
    double pos = s->percentile / 100.0 * (double)(n - 1);
    uint32_t lo = (uint32_t)pos;
    double frac = pos - (double)lo;
    double a = ring_select(g, n, lo);
    if (frac <= 0 || lo + 1 >= n)
        return a;
    double b = ring_select(g, n, lo + 1);
    return a + (b - a) * frac;
}

/* The window's value. Only entries at or after cutoff count for
 * temporal_ordered chains (the others have expired from the ring). */
static bool window_value(const corr_state *cs, corr_group *g, tr_time cutoff, double *out)
{
    const tr_corr_spec *s = cs->spec;
    if (!g->count)
        return false;
    switch (s->type) {
    case TR_CORR_EVENT_COUNT:
        *out = g->count;
        break;
    case TR_CORR_VALUE_COUNT:
        *out = g->distinct.size;
        break;
    case TR_CORR_TEMPORAL:
        *out = g->present;
        break;
    case TR_CORR_TEMPORAL_ORDERED: {
        size_t k = 0;
        while (k < s->nrefs && g->chain[k] != TR_TIME_NONE && g->chain[k] >= cutoff)
            k++;
        *out = (double)k;
        break;
    }
    case TR_CORR_VALUE_SUM:
        *out = g->sum;
        break;
    case TR_CORR_VALUE_AVG:
        *out = g->sum / g->count;
        break;
    case TR_CORR_VALUE_PERCENTILE:
        *out = window_percentile(s, g);
        break;
    }
    return true;
}

/* Evaluates g's window; if the condition holds, empties the window and
 * emits. `closing` (deferred windows): the window ends here and is emptied
 * either way. g must not be freed before this returns. */
static void evaluate(tr_corr_engine *e, size_t c, corr_group *g, tr_time cutoff, bool closing,
                     tr_corr_emit_fn emit, void *user)
{
    corr_state *cs = &e->cs[c];
    if (!g->count)
        return;
    tr_corr_hit hit = {.correlation = c,
                       .first = RING(g, 0).t,
                       .last = RING(g, g->count - 1).t,
                       .nevents = g->count,
                       .ngroup = cs->spec->ngroup,
                       .group_fields = cs->spec->group_by,
                       .group_values = g->values,
                       .group_lens = g->lens};
    bool fire = window_value(cs, g, cutoff, &hit.value) && tr_corr_condition_holds(cs->spec, hit.value);
    if (fire || closing)
        group_reset(e, cs, g);
    if (!fire)
        return;
    cs->stats.fired++;
    if (emit) {
        e->depth++;
        emit(user, &hit);
        e->depth--;
    }
}

/* Evaluates (deferred) and frees groups already unlinked into a list. */
static void release(tr_corr_engine *e, size_t c, corr_group *list, tr_corr_emit_fn emit, void *user)
{
    while (list) {
        corr_group *g = list;
        list = g->next;
        if (e->cs[c].deferred)
            evaluate(e, c, g, TR_TIME_NONE, true, emit, user);
        group_free(e, g);
    }
}

/* Frees the groups of correlation c that expired: newest time older than
 * the engine's newest time minus the timespan. */
static void sweep(tr_corr_engine *e, size_t c, tr_corr_emit_fn emit, void *user)
{
    corr_state *cs = &e->cs[c];
    tr_time cutoff = t_sub(e->newest, cs->spec->timespan);
    corr_group *dead = NULL, **tail = &dead;
    while (cs->lru_first && cs->lru_first->newest < cutoff) {
        corr_group *g = cs->lru_first;
        group_unlink(cs, g);
        *tail = g;
        tail = &g->next;
        cs->stats.expired++;
    }
    if (!dead)
        return;
    table_shrink(e, cs);
    release(e, c, dead, emit, user);
}

/* Unlinks every group of correlation c into a list. */
static corr_group *take_all(tr_corr_engine *e, corr_state *cs)
{
    corr_group *all = NULL, **tail = &all;
    while (cs->lru_first) {
        corr_group *g = cs->lru_first;
        group_unlink(cs, g);
        *tail = g;
        tail = &g->next;
    }
    table_shrink(e, cs);
    return all;
}

/* ================================================================ engine API */

static bool is_deferred(const tr_corr_spec *s)
{
    return s->type == TR_CORR_VALUE_AVG || s->type == TR_CORR_VALUE_PERCENTILE ||
           (s->ops & (TR_CORR_OP_LT | TR_CORR_OP_LTE | TR_CORR_OP_EQ | TR_CORR_OP_NEQ));
}

int tr_corr_engine_create(tr_corr_engine **out, const tr_corr_spec *const *specs, size_t n)
{
    if (!out)
        return TR_ERR_ARG;
    *out = NULL;
    if (n && !specs)
        return TR_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (!specs[i])
            return TR_ERR_ARG;
    tr_corr_engine *e = tr_calloc(1, sizeof *e);
    if (!e)
        return TR_ERR_NOMEM;
    e->bytes = sizeof *e;
    if (n) {
        e->cs = e_calloc(e, n, sizeof *e->cs);
        if (!e->cs) {
            tr_free(e);
            return TR_ERR_NOMEM;
        }
    }
    e->n = n;
    e->newest = TR_TIME_NONE;
    e->max_entries = TR_CORR_MAX_ENTRIES;
    e->max_groups = TR_CORR_MAX_GROUPS;
    for (size_t i = 0; i < n; i++) {
        e->cs[i].spec = specs[i];
        e->cs[i].deferred = is_deferred(specs[i]);
    }
    *out = e;
    return TR_OK;
}

void tr_corr_engine_set_limits(tr_corr_engine *e, size_t max_entries, size_t max_groups)
{
    if (!e)
        return;
    /* rings double in uint32_t capacities: keep them below 2^31 */
    e->max_entries = max_entries == 0 ? TR_CORR_MAX_ENTRIES : max_entries > (1u << 30) ? (1u << 30) : max_entries;
    e->max_groups = max_groups == 0 ? TR_CORR_MAX_GROUPS : max_groups;
}

static void drop_all(tr_corr_engine *e)
{
    for (size_t c = 0; c < e->n; c++) {
        corr_group *g = take_all(e, &e->cs[c]);
        while (g) {
            corr_group *next = g->next;
            group_free(e, g);
            g = next;
        }
    }
}

void tr_corr_engine_destroy(tr_corr_engine *e)
{
    if (!e)
        return;
    drop_all(e);
    tr_free(e->scratch);
    tr_free(e->cs);
    tr_free(e);
}

enum { KEY_OK = 0, KEY_MISSING = -1, KEY_OVERSIZED = -2 };

static int scratch_reserve(tr_corr_engine *e, size_t need)
{
    if (need <= e->scratch_cap)
        return TR_OK;
    size_t cap = e->scratch_cap ? e->scratch_cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = tr_realloc(e->scratch, cap);
    if (!p)
        return TR_ERR_NOMEM;
    e->bytes += cap - e->scratch_cap;
    e->scratch = p;
    e->scratch_cap = cap;
    return TR_OK;
}

/* The group key of an input into e->scratch: per group-by value a 4-byte
 * length, the bytes and a NUL (so the stored key doubles as the hit's
 * NUL-terminated values). Returns KEY_OK, KEY_MISSING, KEY_OVERSIZED or
 * TR_ERR_NOMEM. */
static int build_key(tr_corr_engine *e, const tr_corr_spec *s, size_t ref, const tr_corr_input *in,
                     size_t *keylen, uint64_t *hash)
{
    size_t at = 0;
    for (size_t i = 0; i < s->ngroup; i++) {
        size_t len = 0;
        const char *v = in->get(in->ctx, s->gb_field[ref * s->ngroup + i], &len);
        if (!v)
            return KEY_MISSING;
        if (len > TR_CORR_MAX_VALUE_LEN)
            return KEY_OVERSIZED;
        if (scratch_reserve(e, at + sizeof(uint32_t) + len + 1) != TR_OK)
            return TR_ERR_NOMEM;
        uint32_t l32 = (uint32_t)len;
        memcpy(e->scratch + at, &l32, sizeof l32);
        if (len)
            memcpy(e->scratch + at + sizeof l32, v, len);
        e->scratch[at + sizeof l32 + len] = '\0';
        at += sizeof l32 + len + 1;
    }
    *keylen = at;
    *hash = tr_mix64(fnv64(FNV64_SEED, e->scratch, at));
    return KEY_OK;
}

enum { VAL_OK = 0, VAL_MISSING, VAL_NOT_NUMBER };

/* The entry's value: a hash of the field (tuple) for value_count, the
 * number for the numeric types. */
static int read_value(const tr_corr_spec *s, size_t ref, const tr_corr_input *in, corr_entry *en)
{
    if (s->type == TR_CORR_VALUE_COUNT) {
        uint64_t h = FNV64_SEED;
        for (size_t i = 0; i < s->nfields; i++) {
            size_t len = 0;
            const char *v = in->get(in->ctx, s->val_field[ref * s->nfields + i], &len);
            if (!v)
                return VAL_MISSING;
            uint64_t l64 = len; /* the length keeps ("ab","c") apart from ("a","bc") */
            h = fnv64(fnv64(h, &l64, sizeof l64), v, len);
        }
        h = tr_mix64(h);
        en->v.hash = h ? h : 1;
    } else if (s->nfields) {
        size_t len = 0;
        const char *v = in->get(in->ctx, s->val_field[ref * s->nfields], &len);
        if (!v)
            return VAL_MISSING;
        if (!text_number(v, len, &en->v.num))
            return VAL_NOT_NUMBER;
    }
    return VAL_OK;
}

int tr_corr_engine_feed(tr_corr_engine *e, size_t c, size_t ref, const tr_corr_input *in, tr_corr_emit_fn emit,
                        void *user)
{
    if (!e || c >= e->n || !in || !in->get || ref >= e->cs[c].spec->nrefs)
        return TR_ERR_ARG;
    if (e->depth >= TR_CORR_MAX_DEPTH)
        return TR_ERR_LIMIT; /* a cycle of correlations feeding each other */
    corr_state *cs = &e->cs[c];
    const tr_corr_spec *s = cs->spec;
    const tr_time t = in->time;
    if (t == TR_TIME_NONE) {
        cs->stats.untimed++;
        return TR_OK;
    }
    if (t > e->newest)
        e->newest = t;
    if (e->depth == 0) {
        sweep(e, c, emit, user);
        if (++e->feeds >= TR_CORR_SWEEP_EVERY) {
            e->feeds = 0;
            for (size_t i = 0; i < e->n; i++)
                if (i != c)
                    sweep(e, i, emit, user);
        }
    }

    size_t keylen = 0;
    uint64_t hash = 0;
    int rc = build_key(e, s, ref, in, &keylen, &hash);
    if (rc == KEY_MISSING) {
        cs->stats.missing_group++;
        return TR_OK;
    }
    if (rc == KEY_OVERSIZED) {
        cs->stats.oversized++;
        return TR_OK;
    }
    if (rc != KEY_OK)
        return rc;
    corr_entry en = {.t = t, .ref = (uint32_t)ref};
    rc = read_value(s, ref, in, &en);
    if (rc != VAL_OK) {
        if (rc == VAL_MISSING)
            cs->stats.missing_field++;
        else
            cs->stats.non_numeric++;
        return TR_OK;
    }

    corr_group *g = group_find(cs, hash, e->scratch, keylen);
    if (g) {
        if (t < t_sub(g->newest, s->timespan)) {
            cs->stats.late++;
            return TR_OK;
        }
        lru_remove(cs, g);
        lru_append(cs, g);
    } else {
        g = group_create(e, cs, hash, e->scratch, keylen, &rc);
        if (!g) {
            if (rc == TR_ERR_LIMIT) {
                cs->stats.groups_full++;
                return TR_OK;
            }
            return rc;
        }
        g->newest = t;
    }
    /* e->scratch may be reused by feeds from the callbacks below */

    if (cs->deferred && g->count && t > t_add(g->start, s->timespan))
        evaluate(e, c, g, TR_TIME_NONE, true, emit, user); /* the input starts the next window */

    if (g->count >= e->max_entries) {
        ring_pop(e, cs, g);
        cs->stats.dropped++;
    }
    if ((rc = agg_add(e, cs, g, &en)) != TR_OK)
        return rc;
    bool last = true;
    if ((rc = ring_insert(e, g, &en, &last)) != TR_OK) {
        agg_remove(e, cs, g, &en);
        return rc;
    }
    if (g->chain) {
        if (last)
            chain_step(g, &en);
        else
            chain_recompute(cs, g);
    }
    if (t > g->newest)
        g->newest = t;
    cs->stats.fed++;
    if (cs->deferred) {
        if (g->count == 1 || t < g->start)
            g->start = t;
        return TR_OK;
    }
    tr_time cutoff = t_sub(g->newest, s->timespan);
    expire_front(e, cs, g, cutoff);
    evaluate(e, c, g, cutoff, false, emit, user);
    return TR_OK;
}

void tr_corr_engine_advance(tr_corr_engine *e, tr_time now, tr_corr_emit_fn emit, void *user)
{
    if (!e || now == TR_TIME_NONE)
        return;
    if (now > e->newest)
        e->newest = now;
    if (e->depth)
        return;
    e->feeds = 0;
    for (size_t c = 0; c < e->n; c++)
        sweep(e, c, emit, user);
}

void tr_corr_engine_flush(tr_corr_engine *e, tr_corr_emit_fn emit, void *user)
{
    if (!e || e->depth)
        return;
    /* Hits emitted here may be fed back (chaining) and open new windows,
     * which the next round closes. An acyclic chain of n correlations needs
     * at most n rounds; what a cycle keeps creating is dropped after that. */
    for (size_t round = 0; round <= e->n; round++) {
        bool any = false;
        for (size_t c = 0; c < e->n; c++) {
            corr_group *all = take_all(e, &e->cs[c]);
            any |= all != NULL;
            release(e, c, all, emit, user);
        }
        if (!any)
            break;
    }
    drop_all(e);
    tr_free(e->scratch);
    e->bytes -= e->scratch_cap;
    e->scratch = NULL;
    e->scratch_cap = 0;
    e->newest = TR_TIME_NONE;
    e->feeds = 0;
}

size_t tr_corr_engine_state_bytes(const tr_corr_engine *e) { return e ? e->bytes : 0; }

const tr_corr_stats *tr_corr_engine_stats(const tr_corr_engine *e, size_t c)
{
    return e && c < e->n ? &e->cs[c].stats : NULL;
}

/* ---------------------------------------------------------------- chaining */

static const char *hit_get(void *ctx, const char *field, size_t *len)
{
    const tr_corr_hit *h = ctx;
    size_t fl = strlen(field);
    for (size_t i = 0; i < h->ngroup; i++) {
        if (strlen(h->group_fields[i]) == fl && tr_name_equal(h->group_fields[i], field, fl)) {
            *len = h->group_lens[i];
            return h->group_values[i];
        }
    }
    return NULL;
}

void tr_corr_input_from_hit(tr_corr_input *in, const tr_corr_hit *hit)
{
    in->time = hit->last;
    in->get = hit_get;
    in->ctx = (void *)(uintptr_t)hit;
}
