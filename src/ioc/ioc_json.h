/*
 * ioc_json.h — a small, bounded JSON document parser for indicator files
 * (STIX bundles, MISP events and feed manifests).
 *
 * src/read/json.c streams events; indicator files need a tree: a STIX
 * indicator's properties come in any order and a MISP event nests its
 * attributes under objects. This parser builds a flat array of nodes with
 * sibling and child links, each with the line it started on for
 * diagnostics. Strings are decoded into the document's arena,
 * NUL-terminated, so the input may go once parsing is done.
 *
 * Limits (hostile input): nesting depth TR_JSON_MAX_DEPTH, at most
 * max_nodes nodes (the caller's bound, derived from the file size limit).
 * Every byte is bounds-checked; errors give the line, the byte offset and
 * the reason. Duplicate keys are kept; lookups return the first.
 *
 * Ownership: the document owns its node array and arena; tr_json_doc_free
 * releases both.
 */
#ifndef TR_IOC_JSON_H
#define TR_IOC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../util/arena.h"

#define TR_JSON_MAX_DEPTH 64

enum { J_NULL = 0, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct json_node {
    const char *str;   /* J_STR: the decoded text, NUL-terminated; J_NUM: the number as written */
    const char *key;   /* member of an object: its key, NUL-terminated; NULL otherwise */
    uint32_t len;      /* bytes in str */
    uint32_t key_len;
    uint32_t line;     /* 1-based line where the value starts */
    uint32_t next;     /* next sibling's index, 0 for none (node 0 is the root) */
    uint32_t first;    /* first child's index (arrays, objects), 0 for none */
    uint32_t count;    /* children (arrays, objects) */
    uint8_t type;      /* J_* */
} json_node;

typedef struct json_doc {
    json_node *nodes;  /* nodes[0] is the root */
    size_t n, cap;
    tr_arena arena;
    /* the error, when tr_json_parse fails with TR_ERR_FORMAT or TR_ERR_LIMIT */
    char err[160];
    uint32_t err_line;
    size_t err_offset;
} json_doc;

void tr_json_doc_init(json_doc *d);
void tr_json_doc_free(json_doc *d);

/* Parses text[0..len) as one JSON value (surrounding whitespace allowed).
 * Returns TR_OK, TR_ERR_FORMAT (malformed: err, err_line, err_offset say
 * where and why), TR_ERR_LIMIT (too deep, too many nodes: likewise) or
 * TR_ERR_NOMEM. */
int tr_json_parse(json_doc *d, const char *text, size_t len, size_t max_nodes);

static inline const json_node *json_root(const json_doc *d) { return d->n ? &d->nodes[0] : NULL; }
static inline const json_node *json_first(const json_doc *d, const json_node *n)
{
    return n && n->first ? &d->nodes[n->first] : NULL;
}
static inline const json_node *json_next(const json_doc *d, const json_node *n)
{
    return n->next ? &d->nodes[n->next] : NULL;
}
/* The first member `key` of object `obj`; NULL when absent or obj is not an object. */
const json_node *tr_json_get(const json_doc *d, const json_node *obj, const char *key);
/* The member's string, or NULL when absent or not a string. */
const char *tr_json_get_str(const json_doc *d, const json_node *obj, const char *key);
/* Truth of a member: true, "1", "true", 1; def when absent. */
int tr_json_get_bool(const json_doc *d, const json_node *obj, const char *key, int def);

#endif
