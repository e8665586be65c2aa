/*
 * yaml.h — YAML documents as a small read-only tree, for the rule loader.
 *
 * libyaml parses; this module turns its event stream into nodes (scalar,
 * sequence, mapping) that remember their line and column, so that every
 * complaint about a rule can name the line it concerns. Anchors and aliases
 * are resolved (an alias shares the anchored node). Nesting is limited to
 * TR_YAML_MAX_DEPTH, and aliases to TR_YAML_MAX_ALIASES per document and to
 * what would expand a document past TR_YAML_MAX_EXPANDED nodes: a
 * "billion laughs" file costs its own size to read and is refused, never
 * walked into exponential work by whoever reads the tree.
 *
 * Ownership: every node and string lives in the arena passed to
 * tr_yaml_load(); they go when the caller resets or frees that arena.
 */
#ifndef TR_SIGMA_YAML_H
#define TR_SIGMA_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "../util/arena.h"

#define TR_YAML_MAX_DEPTH 64
#define TR_YAML_MAX_ALIASES 10000       /* per document */
#define TR_YAML_MAX_EXPANDED 1000000u   /* nodes of a document with every alias expanded */

typedef enum tr_ykind { TR_Y_SCALAR = 0, TR_Y_SEQ, TR_Y_MAP } tr_ykind;

typedef struct tr_ynode tr_ynode;
struct tr_ynode {
    uint8_t kind;    /* tr_ykind */
    uint8_t plain;   /* scalar written without quotes: null, true, 12 keep their YAML meaning */
    uint32_t line;   /* 1-based position of the node's start */
    uint32_t col;
    const char *str; /* scalar text, NUL-terminated (may hold NULs: use len) */
    size_t len;
    tr_ynode **items; /* SEQ: count items; MAP: 2*count nodes, key then value */
    size_t count;
    uint32_t weight;  /* nodes of the subtree with every alias expanded (itself included) */
};

/* Parses every document of `text`. On success *docs (an arena array of
 * *ndocs root nodes; an empty document is a NULL root) and TR_OK. On a
 * syntax error returns TR_ERR_FORMAT with a reason in err and the line in
 * *err_line; documents before the error are still in *docs and *ndocs. */
int tr_yaml_load(const char *text, size_t len, tr_arena *arena, tr_ynode ***docs, size_t *ndocs,
                 char *err, size_t err_size, uint32_t *err_line);

/* The value of key `key` in mapping `map` (exact, case-sensitive), or NULL
 * (also when map is NULL or not a mapping). */
const tr_ynode *tr_ymap_get(const tr_ynode *map, const char *key);
/* The i-th key / value of a mapping. */
static inline const tr_ynode *tr_ymap_key(const tr_ynode *map, size_t i) { return map->items[2 * i]; }
static inline const tr_ynode *tr_ymap_value(const tr_ynode *map, size_t i) { return map->items[2 * i + 1]; }

/* Scalar predicates. A plain `null`, `Null`, `NULL`, `~` or empty plain
 * scalar is null; quoted text never is. */
int tr_yscalar_is_null(const tr_ynode *n);
/* 1 for plain true/True/TRUE/yes, 0 for false/no, -1 when not a boolean. */
int tr_yscalar_bool(const tr_ynode *n);
/* A plain scalar that is a decimal (or 0x hex) integer: returns 1 and *out. */
int tr_yscalar_int(const tr_ynode *n, int64_t *out);
/* A plain scalar that is a number (integer or decimal fraction): 1 and *out. */
int tr_yscalar_number(const tr_ynode *n, double *out);
/* 1 when n is a scalar equal to s. */
int tr_yscalar_eq(const tr_ynode *n, const char *s);

#endif
