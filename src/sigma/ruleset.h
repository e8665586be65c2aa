/*
 * ruleset.h — the inside of a tr_ruleset, shared by the modules that build
 * it: the rule compiler (rule.c), the logsource router (logsource.c), the
 * prefilter (prefilter.c) and the ruleset itself (ruleset.c).
 *
 * Ownership: the ruleset owns everything reachable from it. Rules, entries
 * and their strings live in `arena`; compiled regular expressions are
 * listed in `regexes` and freed at destroy; the Vectorscan database is the
 * prefilter's.
 */
#ifndef TR_SIGMA_RULESET_H
#define TR_SIGMA_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "../util/sha256.h"
#include "sigma.h"
#include "yaml.h"

/* ---------------------------------------------------------------- logsources */

typedef struct tr_route {
    uint32_t rule;
    uint32_t variant; /* index into the rule's field variants; 0 = names as written */
} tr_route;

typedef struct tr_lsentry {
    const char *product, *category, *service;
    const char *path;       /* mapping file */
    uint32_t line;
    unsigned readers;       /* bit i: reader with format index i; 0 = any */
    tr_rule cond;           /* field table and searches of the conditions */
    tr_conj conds;          /* AND of the conditions */
    const char **map_from;  /* fieldmappings: Sigma name -> event names */
    tr_fmap *map_to;
    uint32_t nmap;
    const char *channel;    /* a Channel condition with exact values: the first, for the index */
    const char **channels;
    uint32_t nchannels;
    tr_route *routes;
    uint32_t nroutes, caproutes;
} tr_lsentry;

/* ---------------------------------------------------------------- placeholders */

typedef struct tr_placeholder {
    const char *name;
    const char **values;
    size_t nvalues;
} tr_placeholder;

/* ---------------------------------------------------------------- prefilter */

typedef struct tr_prefilter tr_prefilter;

/* Builds the literal prefilter for the ruleset's detection rules (sets each
 * rule's `prefiltered`). Returns TR_OK; a ruleset with no usable literal
 * gets no database (every rule is evaluated). */
int tr_prefilter_build(struct tr_ruleset *rs);
void tr_prefilter_free(tr_prefilter *pf);

/* For each detection rule, the EventIDs it can only match with (when its
 * condition requires EventID to be one of a few plain numbers): a guard
 * cheaper than any literal. */
int tr_eventid_guards(struct tr_ruleset *rs);
/* 1 when the rule may match an event with this EventID; has_eventid: 1
 * known, 0 none (or not a plain decimal), -1 unknown (a list). */
int tr_eventid_allowed(const tr_rule *r, int64_t eventid, int has_eventid);

/* Per-thread scanning state. */
typedef struct tr_prefilter_scratch tr_prefilter_scratch;
int tr_prefilter_scratch_create(const tr_prefilter *pf, size_t nrules, tr_prefilter_scratch **out);
void tr_prefilter_scratch_free(tr_prefilter_scratch *s);
/* Scans every value of the event; afterwards tr_prefilter_hit(s, rule) says
 * whether the rule's literals were seen. Returns 0, or -1 when the scan
 * failed (then every rule counts as hit). */
int tr_prefilter_scan(const tr_prefilter *pf, tr_prefilter_scratch *s, const tr_event *ev);
int tr_prefilter_hit(const tr_prefilter_scratch *s, uint32_t rule);

/* ---------------------------------------------------------------- the ruleset */

struct tr_ruleset {
    tr_arena arena;
    tr_sha256 digest;        /* every text loaded, in order (tr_ruleset_digest) */
    tr_diag_fn on_diag;
    void *user;
    tr_ruleset_stats stats;
    int compiled;
    uint32_t regex_match_limit, regex_depth_limit; /* for every matcher's match context */
    int loading_config;      /* a logsource or placeholder file is being read: its
                              * diagnostics are TR_DIAG_CONFIG, not about rules */

    tr_rule **rules;
    size_t nrules, caprules;
    tr_filter **filters;
    size_t nfilters, capfilters;

    tr_lsentry **entries;
    size_t nentries, capentries;
    /* channel index: open addressing, key = folded channel hash */
    uint32_t *chan_slots;   /* entry index + 1, 0 = empty; chained through chan_next */
    uint32_t *chan_next;    /* [nentries] next entry with the same channel slot, +1 */
    uint32_t chan_mask;
    uint32_t *generic;      /* entries not indexed by channel */
    uint32_t ngeneric;
    uint32_t channel_hash;  /* tr_name_hash("Channel") */

    tr_placeholder *placeholders;
    size_t nplaceholders, capplaceholders;

    pcre2_code **regexes;
    size_t nregexes, capregexes;

    tr_prefilter *prefilter;
    uint32_t max_searches;
    /* correlations: for each rule, the (correlation rule, reference) pairs it feeds */
    uint32_t *corr_feed_start; /* [nrules + 1] */
    uint32_t *corr_feed;       /* pairs: correlation rule index, reference index */
    struct tr_corr_spec **corr_specs;
    uint32_t *corr_rule_of_spec;
    size_t ncorr;
};

/* The causes of rules that load but do not run (tr_rule_info.not_run_cause),
 * worded to follow a count: "612 rules need evidence traccia does not read". */
#define TR_NOT_RUN_NO_READER "need evidence traccia does not read"
#define TR_NOT_RUN_PLACEHOLDER "need placeholder values (--placeholders FILE)"
#define TR_NOT_RUN_REFERENCE "are correlations of rules that are not loaded"
#define TR_NOT_RUN_CYCLE "are correlations that reach themselves"

/* ---------------------------------------------------------------- building */

/* Reports a problem with a rule file (severity, path, line 0 = whole file):
 * an error is a rule or file that did not load (TR_DIAG_RULE_FAILED), a
 * warning a remark on a rule that loaded (TR_DIAG_RULE_NOTE); both are
 * TR_DIAG_CONFIG while a logsource or placeholder file is read. */
void tr_ruleset_diag(struct tr_ruleset *rs, int severity, const char *path, uint32_t line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with its kind given, and the reason in a few words to group by
 * (tr_diag.cause; may be NULL). */
void tr_ruleset_diag_kind(struct tr_ruleset *rs, tr_diag_kind kind, const char *cause, int severity,
                          const char *path, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Compiles one rule document (collections already merged) and adds it.
 * Failures are reported and counted here. Returns TR_OK or TR_ERR_NOMEM. */
int tr_rule_load_doc(struct tr_ruleset *rs, const tr_ynode *doc, const char *path);

/* Compiles a detection-like mapping (a Sigma search) into `r`'s field table;
 * used for logsource conditions. */
int tr_rule_compile_conj(struct tr_ruleset *rs, tr_rule *r, const tr_ynode *map, tr_conj *out,
                         char *err, size_t err_size, uint32_t *err_line);
/* Index of `name` in r's field table, added if new; -1 on no memory. */
int32_t tr_rule_field_index(struct tr_ruleset *rs, tr_rule *r, const char *name, size_t len);

/* Loads a logsource mapping document. */
int tr_logsource_load_doc(struct tr_ruleset *rs, const tr_ynode *doc, const char *path);
/* Routes every rule to its entries and builds the channel index. */
int tr_logsource_route(struct tr_ruleset *rs);
/* Calls fn for each entry covering the event, in entry order. */
typedef void (*tr_entry_fn)(void *user, const tr_lsentry *e);
void tr_logsource_entries(const struct tr_ruleset *rs, const tr_event *ev, tr_eval *scratch,
                          tr_entry_fn fn, void *user);

#endif
