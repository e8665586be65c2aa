/*
 * correlation.h — Sigma correlation rules (specification v2.1): the
 * `correlation:` section parsed into a spec, and an engine that evaluates
 * specs over the stream of base-rule matches.
 *
 * Ownership: a tr_corr_spec and every string it points to live in the
 * arena given to tr_corr_parse (they go when the arena goes); the engine
 * borrows its specs, which must outlive it, and owns all window state,
 * which tr_corr_engine_destroy frees; a tr_corr_hit and everything it
 * points to are borrowed for the duration of the emit callback.
 *
 * The engine knows nothing of events or rules: the caller tells it "the
 * i-th referenced rule of correlation c matched, at this time, and here is
 * how to read fields" (tr_corr_input), and hears back through a callback
 * when a correlation fires (tr_corr_hit). A hit can be fed to a correlation
 * that references the firing one (chaining): tr_corr_input_from_hit().
 *
 * Thread safety: one engine is used by one thread at a time; specs are
 * read-only and may be shared by engines of several threads.
 */
#ifndef TR_SIGMA_CORRELATION_H
#define TR_SIGMA_CORRELATION_H

#include <stddef.h>
#include <stdint.h>

#include "../util/arena.h"
#include "traccia.h"
#include "yaml.h"

/* ---------------------------------------------------------------- limits */

/* Referenced rules of one correlation: temporal state is an array of this
 * many counters per group, and real rules reference a handful. */
#define TR_CORR_MAX_RULES 64
/* group-by fields: each is read for every input; a key wider than this is
 * a mistake, not a use case. */
#define TR_CORR_MAX_GROUP_BY 16
/* condition.field items (value_count may count tuples of fields). */
#define TR_CORR_MAX_FIELDS 16
/* Bytes of one group-by value. Longer inputs are dropped and counted, not
 * truncated: truncation would merge distinct groups. */
#define TR_CORR_MAX_VALUE_LEN 16384
/* Bytes of a rule name, field name or alias in a correlation section. */
#define TR_CORR_MAX_NAME_LEN 1024
/* Default cap on the entries one group keeps: beyond it the oldest entry is
 * dropped (and counted), so a single hot group cannot take all memory. */
#define TR_CORR_MAX_ENTRIES 1000000
/* Default cap on live groups per correlation: beyond it inputs that would
 * open a new group are dropped (and counted), so a flood of distinct keys
 * cannot take all memory. */
#define TR_CORR_MAX_GROUPS 1000000
/* Every this many feeds, every correlation's expired groups are freed (the
 * correlation being fed is swept on each of its feeds). */
#define TR_CORR_SWEEP_EVERY 256
/* Feeds nested in emit callbacks (chained correlations): deeper is a cycle
 * among correlations, refused rather than recursing without end. */
#define TR_CORR_MAX_DEPTH 32

/* ---------------------------------------------------------------- specs */

typedef enum tr_corr_type {
    TR_CORR_EVENT_COUNT = 0,
    TR_CORR_VALUE_COUNT,
    TR_CORR_TEMPORAL,
    TR_CORR_TEMPORAL_ORDERED,
    TR_CORR_VALUE_SUM,
    TR_CORR_VALUE_AVG,
    TR_CORR_VALUE_PERCENTILE
} tr_corr_type;

/* Condition operators, as bits of tr_corr_cond_ops(). */
enum {
    TR_CORR_OP_GT = 1u << 0,
    TR_CORR_OP_GTE = 1u << 1,
    TR_CORR_OP_LT = 1u << 2,
    TR_CORR_OP_LTE = 1u << 3,
    TR_CORR_OP_EQ = 1u << 4,
    TR_CORR_OP_NEQ = 1u << 5
};

typedef struct tr_corr_spec tr_corr_spec; /* one parsed correlation; lives in the arena */

/* Parses the mapping under the `correlation:` key of a rule document
 * (`section`) into `arena`. Returns TR_OK and *out; TR_ERR_FORMAT with a
 * reason in err and the offending line in *err_line (the section's line
 * when a key is missing); TR_ERR_NOMEM. err and err_line may be NULL.
 *
 * Validates: keys known (type, rules, group-by, timespan, condition,
 * aliases, generate); type known; rules a non-empty list (or one string) of
 * distinct names; timespan a positive integer followed by s, m, h, d (the
 * specification) or w (pySigma); group-by a list (or one string) of
 * distinct names, may be absent (one group for everything); condition a
 * mapping of gt/gte/lt/lte/eq/neq (several combine with AND) with numeric
 * thresholds, `field` (a name, or for value_count a list: a tuple of
 * fields) required by and allowed only for the value_* types, `percentile`
 * (0..100, default 50) only for value_percentile; condition optional for
 * temporal types only (default: gte the number of rules); aliases a mapping
 * alias -> {referenced rule -> field}, whose rule keys must be in `rules`.
 * Aliases apply to group-by and condition.field names; a rule an alias does
 * not map reads the field named like the alias.
 *
 * `generate`: the specification puts it at the rule's top level, pySigma
 * inside the section; this function accepts it inside the section, and
 * tr_corr_parse_rule() reads the top-level one (which wins). */
int tr_corr_parse(const tr_ynode *section, tr_arena *arena, tr_corr_spec **out, char *err,
                  size_t err_size, uint32_t *err_line);
/* The same from the rule document's root mapping: finds `correlation:`
 * (TR_ERR_FORMAT if absent) and reads a top-level `generate` (a boolean). */
int tr_corr_parse_rule(const tr_ynode *doc, tr_arena *arena, tr_corr_spec **out, char *err,
                       size_t err_size, uint32_t *err_line);

tr_corr_type tr_corr_spec_type(const tr_corr_spec *s);
/* "event_count", ...; NULL for an unknown value. */
const char *tr_corr_type_name(tr_corr_type t);
size_t tr_corr_ref_count(const tr_corr_spec *s);
const char *tr_corr_ref(const tr_corr_spec *s, size_t i); /* rule name or id as written */
tr_time tr_corr_timespan(const tr_corr_spec *s);          /* ns, > 0 */
size_t tr_corr_group_by_count(const tr_corr_spec *s);
const char *tr_corr_group_by(const tr_corr_spec *s, size_t i); /* as written (alias names) */
/* The field read for group-by i in events of referenced rule `ref`: the
 * alias's mapping for that rule, else the group-by name itself. */
const char *tr_corr_group_field(const tr_corr_spec *s, size_t ref, size_t i);
size_t tr_corr_field_count(const tr_corr_spec *s);        /* condition.field items, 0 if none */
const char *tr_corr_field(const tr_corr_spec *s, size_t i);
unsigned tr_corr_cond_ops(const tr_corr_spec *s);         /* TR_CORR_OP_* bits, never 0 */
double tr_corr_cond_threshold(const tr_corr_spec *s, unsigned op); /* op: one TR_CORR_OP_* bit */
double tr_corr_percentile(const tr_corr_spec *s);         /* value_percentile: 0..100 */
int tr_corr_generate(const tr_corr_spec *s);              /* 0 or 1; default 0 */
uint32_t tr_corr_line(const tr_corr_spec *s);             /* line of the section */
/* 1 when `value` satisfies every operator of the condition. */
int tr_corr_condition_holds(const tr_corr_spec *s, double value);

/* ---------------------------------------------------------------- engine */

/* What the engine is told when referenced rule `ref` of a correlation
 * matched. Field values come through a getter so that the module knows
 * nothing of tr_event; the text it returns need only stay valid until the
 * next call of `get` (the engine copies what it keeps). */
typedef struct tr_corr_input {
    tr_time time; /* TR_TIME_NONE: the input is counted as untimed and ignored */
    const char *(*get)(void *ctx, const char *field, size_t *len); /* text or NULL if absent */
    void *ctx;
} tr_corr_input;

/* A correlation fired for one group. Borrowed for the emit callback. */
typedef struct tr_corr_hit {
    size_t correlation;              /* index given to tr_corr_engine_create */
    tr_time first, last;             /* times of the oldest and newest entry of the window */
    double value;                    /* what met the condition: event_count the inputs,
                                      * value_count the distinct values, temporal the rules
                                      * matched, temporal_ordered the leading rules matched in
                                      * order, value_sum/avg/percentile the aggregate */
    size_t ngroup;                   /* group-by fields (0: one group for everything) */
    const char *const *group_fields; /* group-by names as written in the rule */
    const char *const *group_values; /* their values, NUL-terminated */
    const size_t *group_lens;        /* bytes of each value */
    size_t nevents;                  /* inputs in the window that fired */
} tr_corr_hit;

typedef void (*tr_corr_emit_fn)(void *user, const tr_corr_hit *hit);

/* Per-correlation counters: every input is accounted for. */
typedef struct tr_corr_stats {
    uint64_t fed;           /* inputs that entered a window */
    uint64_t fired;         /* hits emitted */
    uint64_t untimed;       /* inputs without a time, ignored */
    uint64_t late;          /* inputs older than their group's window, ignored */
    uint64_t missing_group; /* inputs lacking a group-by field, ignored */
    uint64_t missing_field; /* value_* inputs lacking condition.field, ignored */
    uint64_t non_numeric;   /* value_sum/avg/percentile inputs whose field is no number, ignored */
    uint64_t oversized;     /* inputs with a group-by value over TR_CORR_MAX_VALUE_LEN, ignored */
    uint64_t groups_full;   /* inputs ignored because the group cap was reached */
    uint64_t dropped;       /* entries dropped from a group at its entry cap (oldest first) */
    uint64_t expired;       /* groups freed because their window had passed */
} tr_corr_stats;

typedef struct tr_corr_engine tr_corr_engine;

/* Creates an engine for n specs (n may be 0). specs[i] is correlation i;
 * the array may go, the specs must stay. TR_OK, TR_ERR_ARG (a NULL spec)
 * or TR_ERR_NOMEM. */
int tr_corr_engine_create(tr_corr_engine **out, const tr_corr_spec *const *specs, size_t n);
void tr_corr_engine_destroy(tr_corr_engine *e); /* accepts NULL; emits nothing */
/* Caps per group entries and live groups per correlation (0 keeps the
 * default, TR_CORR_MAX_ENTRIES / TR_CORR_MAX_GROUPS). Set before feeding. */
void tr_corr_engine_set_limits(tr_corr_engine *e, size_t max_entries, size_t max_groups);

/* Referenced rule `ref` (index into tr_corr_ref) of correlation `c`
 * matched. Updates that correlation's window and may call emit (NULL:
 * hits are only counted), for this correlation or, when expired windows
 * are closed, for any. Returns TR_OK (also when the input was ignored:
 * see the stats), TR_ERR_ARG (c or ref out of range, no getter) or
 * TR_ERR_NOMEM (the input was not counted; the state stays consistent).
 * May be called from inside an emit callback (chaining); nested deeper than
 * TR_CORR_MAX_DEPTH it returns TR_ERR_LIMIT. */
int tr_corr_engine_feed(tr_corr_engine *e, size_t c, size_t ref, const tr_corr_input *in,
                        tr_corr_emit_fn emit, void *user);
/* Time has reached `now` (e.g. the newest event of a batch, matched or
 * not): windows that ended before now - timespan are closed (deferred
 * conditions evaluated, may emit) and their memory freed. */
void tr_corr_engine_advance(tr_corr_engine *e, tr_time now, tr_corr_emit_fn emit, void *user);
/* End of input: every open window whose condition waits for its end is
 * evaluated (may emit, and hits fed back to the engine from the callback
 * are flushed too), then all state is dropped and the clock reset, so the
 * engine can take another input. Not to be called from an emit callback. */
void tr_corr_engine_flush(tr_corr_engine *e, tr_corr_emit_fn emit, void *user);

size_t tr_corr_engine_state_bytes(const tr_corr_engine *e); /* memory held now, all included */
const tr_corr_stats *tr_corr_engine_stats(const tr_corr_engine *e, size_t c); /* NULL if c >= n */

/* Chaining: an input whose fields are the hit's group-by fields (names
 * compared ignoring ASCII case) and whose time is hit->last. `in` borrows
 * the hit: use it inside the emit callback only. */
void tr_corr_input_from_hit(tr_corr_input *in, const tr_corr_hit *hit);

#endif
