/*
 * sigma.h — the compiled form of Sigma rules, shared by the modules of
 * src/sigma: the rule compiler (rule.c) builds it, the condition parser
 * (condition.c) adds the boolean program, the logsource router
 * (logsource.c) and the prefilter (prefilter.c) index it, and the matcher
 * (match.c) runs it.
 *
 * Shape: a rule has named searches (the detection's search identifiers);
 * a search is an OR of conjunctions (a list of maps, or one map); a
 * conjunction is an AND of items; an item tests one field (or, for
 * keywords, every value of the event) against patterns, which are grouped
 * so that `|all` can require one pattern of every group. The condition is a
 * small tree over searches.
 *
 * Ownership: everything here lives in the ruleset's arena, except compiled
 * regular expressions, which the ruleset frees (it keeps a list of them).
 */
#ifndef TR_SIGMA_SIGMA_H
#define TR_SIGMA_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "../util/arena.h"
#include "traccia.h"

/* ---------------------------------------------------------------- patterns */

typedef enum tr_pkind {
    TR_P_EXACT = 0, /* equal to text (empty text: also a null value) */
    TR_P_CONTAINS,
    TR_P_STARTS,
    TR_P_ENDS,
    TR_P_GLOB,      /* wildcards: see glob ops below */
    TR_P_REGEX,
    TR_P_NUM,       /* numeric comparison with op */
    TR_P_TIME,      /* a part of a timestamp, compared with op */
    TR_P_CIDR,
    TR_P_NEVER      /* matches nothing (an empty expansion) */
} tr_pkind;

typedef enum tr_cmp { TR_CMP_EQ = 0, TR_CMP_LT, TR_CMP_LTE, TR_CMP_GT, TR_CMP_GTE } tr_cmp;
typedef enum tr_tpart { TR_T_MINUTE = 0, TR_T_HOUR, TR_T_DAY, TR_T_WEEK, TR_T_MONTH, TR_T_YEAR } tr_tpart;

/* Glob program: a byte string of ops. TR_G_LIT is followed by a 2-byte
 * little-endian length and that many bytes (lowercased unless cased). */
enum { TR_G_END = 0, TR_G_STAR = 1, TR_G_ONE = 2, TR_G_LIT = 3 };

typedef struct tr_pattern {
    uint8_t kind;      /* tr_pkind */
    uint8_t cased;     /* compare bytes exactly; otherwise ASCII case is ignored */
    uint8_t cmp;       /* tr_cmp, for NUM and TIME */
    uint8_t tpart;     /* tr_tpart, for TIME */
    uint8_t family;    /* CIDR: 4 or 6 */
    uint8_t bits;      /* CIDR prefix length */
    uint16_t group;    /* index of the value this pattern came from (|all) */
    uint32_t len;      /* bytes of text */
    const char *text;  /* EXACT/CONTAINS/STARTS/ENDS: literal (lowercased unless cased);
                        * GLOB: the op string; REGEX: the source */
    pcre2_code *re;
    double num;
    uint8_t addr[16];
} tr_pattern;

/* ---------------------------------------------------------------- items */

typedef enum tr_ikind {
    TR_I_VALUES = 0, /* the field's value matches the patterns */
    TR_I_NULL,       /* the field is absent or null */
    TR_I_EXISTS,     /* the field exists (want = 1) or not (want = 0) */
    TR_I_FIELDREF    /* the field equals (contains, ...) another field of the event */
} tr_ikind;

typedef struct tr_item {
    uint8_t kind;      /* tr_ikind */
    uint8_t all;       /* every group must match, not any */
    uint8_t neq;       /* the field exists and matches no pattern */
    uint8_t want;      /* EXISTS */
    uint8_t ref_mode;  /* FIELDREF: TR_P_EXACT/CONTAINS/STARTS/ENDS */
    uint8_t cased;     /* FIELDREF */
    int32_t field;     /* index into the rule's field table; -1: keyword (every value) */
    int32_t ref_field; /* FIELDREF: index of the other field */
    uint16_t ngroups;
    uint32_t npatterns;
    tr_pattern *patterns;
} tr_item;

typedef struct tr_conj {
    tr_item *items;
    uint32_t nitems;
} tr_conj;

typedef struct tr_search {
    const char *name;
    tr_conj *alts;     /* OR of these */
    uint32_t nalts;
    uint32_t line;
} tr_search;

/* ---------------------------------------------------------------- condition */

typedef enum tr_cop { TR_C_SEARCH = 0, TR_C_AND, TR_C_OR, TR_C_NOT, TR_C_CONST } tr_cop;

typedef struct tr_cnode {
    uint8_t op;        /* tr_cop */
    uint8_t value;     /* CONST */
    uint32_t search;   /* SEARCH: index into the rule's searches */
    uint32_t nkids;
    uint32_t *kids;    /* AND/OR: nkids node indices; NOT: one */
} tr_cnode;

/* Parses `text` (a Sigma condition) over the searches named in `names`
 * into nodes allocated in `arena`. Returns TR_OK with the root index, or
 * TR_ERR_FORMAT with a reason in err. `used` (nnames bytes) gets 1 for each
 * search the condition refers to. */
int tr_condition_parse(const char *text, size_t len, const char *const *names, size_t nnames,
                       tr_arena *arena, tr_cnode **nodes, uint32_t *nnodes, uint32_t *root,
                       uint8_t *used, char *err, size_t err_size);

/* ---------------------------------------------------------------- fields */

typedef struct tr_fname {
    const char *name;
    uint32_t len;
    uint32_t hash;
} tr_fname;

/* A field as a logsource entry names it: one or more candidates, the first
 * the event has wins. */
typedef struct tr_fmap {
    tr_fname *names;
    uint32_t count;
} tr_fmap;

/* ---------------------------------------------------------------- rules */

typedef struct tr_filter tr_filter;

typedef struct tr_rule {
    tr_rule_info info;
    /* detection */
    tr_search *searches;
    uint32_t nsearches;
    tr_cnode *cond;
    uint32_t ncond, cond_root;
    /* distinct field names used by items; variants map them per logsource entry */
    tr_fname *fields;
    uint32_t nfields;
    tr_fmap **variants;   /* [nvariants][nfields] */
    uint32_t nvariants;
    /* filters that apply (sigma filters): the rule matches only if none does */
    tr_filter **filters;
    uint32_t nfilters;
    /* correlation */
    struct tr_corr_spec *corr;
    uint32_t *corr_refs;  /* rule index per reference */
    uint8_t is_corr_base; /* referenced by a correlation */
    uint8_t generate;     /* a correlation base that still reports on its own */
    /* prefilter: the rule can match only if every clause of its literals
     * (prefiltered = their number) was seen in the event's values */
    int prefiltered;
    /* and only if the event's EventID is one of these (sorted; none: any) */
    int64_t *eventids;
    uint32_t neventids;
    uint32_t index;
} tr_rule;

struct tr_filter {
    tr_rule body;         /* searches, condition and fields of the filter */
    const char **targets; /* rule ids or names */
    size_t ntargets;
};

/* ---------------------------------------------------------------- evaluation */

/* Values folded to lower case, once per event whatever the number of
 * rules that look at them: a small direct-mapped cache keyed by the
 * value's address, and a buffer that only grows. Owned by the matcher. */
#define TR_FOLD_SLOTS 256
typedef struct tr_fold_cache {
    struct {
        const char *src;
        uint32_t len;
        uint32_t epoch;
        size_t off;          /* into buf */
    } slot[TR_FOLD_SLOTS];
    uint32_t epoch;          /* bumped per event */
    char *buf;
    size_t used, cap;
} tr_fold_cache;

/* The value s (len bytes) in lower case, from the cache or folded now;
 * NULL if memory ran out (then the caller compares case-insensitively). */
const char *tr_fold(tr_fold_cache *fc, const char *s, size_t len);

/* What a rule is evaluated against: the event and the field names of the
 * logsource entry that routed it there. */
typedef struct tr_eval {
    const tr_event *ev;
    const tr_fmap *fmap;         /* [rule->nfields], NULL: names as written */
    pcre2_match_data *md;
    uint8_t *memo;               /* per search: 0 unknown, 1 false, 2 true */
    /* the routing entry's renaming by name (Sigma name -> event names), for
     * filters, which have their own field table; set only while a filter
     * runs (by_name) */
    const char *const *map_from;
    const tr_fmap *map_to;
    uint32_t nmap;
    int by_name;
    tr_fold_cache *fold;         /* may be NULL */
    /* Engine limits: the regular expressions' match context (NULL: PCRE2's
     * defaults), and where a pattern that could not be evaluated in full
     * is counted (then taken as no match) with its PCRE2 error code; the
     * two pointers may be NULL when nobody asks. */
    pcre2_match_context *mctx;
    unsigned *limits;
    int *limit_code;
} tr_eval;

int tr_rule_eval(const tr_rule *r, tr_eval *e);
/* One item alone (tests, logsource conditions). */
int tr_item_eval(const tr_rule *r, const tr_item *it, tr_eval *e);
int tr_conj_eval(const tr_rule *r, const tr_conj *c, tr_eval *e);

/* Pattern primitives (match.c): 1 a match, 0 none, or a negative PCRE2
 * error code when a regular expression hit an engine limit (match, depth
 * or heap limit, memory): not a "no match", the caller must say so. */
int tr_pattern_match(const tr_pattern *p, const char *s, size_t len, pcre2_match_data *md,
                     pcre2_match_context *mctx);
/* The same with the value's folded copy at hand (NULL: fold as you go). */
int tr_pattern_match_folded(const tr_pattern *p, const char *s, const char *folded, size_t len,
                            pcre2_match_data *md, pcre2_match_context *mctx);
int tr_glob_match(const char *ops, const char *s, size_t len, int cased);

/* Why a regular expression risks catastrophic backtracking (regex_risk.c),
 * or NULL when its shape does not. */
const char *tr_regex_risk(const char *re, size_t len);

#endif
