/*
 * yaml.c — builds the tree of yaml.h from libyaml's event stream.
 *
 * Owns nothing beyond one call: nodes go to the caller's arena, libyaml's
 * parser lives and dies inside tr_yaml_load(). Children are collected on a
 * growable stack and copied into an exact-size arena array when their
 * parent closes, so a document costs its size in the arena and nothing else.
 */
#include "yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../util/alloc.h"
#include "traccia.h"

typedef struct anchor {
    const char *name;
    tr_ynode *node;
} anchor;

typedef struct builder {
    tr_arena *arena;
    tr_ynode **stack; /* children of open collections, flattened */
    size_t nstack, capstack;
    size_t open_base[TR_YAML_MAX_DEPTH + 1]; /* stack index where each open collection's children start */
    tr_ynode *open_node[TR_YAML_MAX_DEPTH + 1];
    const char *open_anchor[TR_YAML_MAX_DEPTH + 1];
    size_t depth;
    anchor *anchors;
    size_t nanchors, capanchors;
    tr_ynode **docs;
    size_t ndocs, capdocs;
} builder;

static int push_child(builder *b, tr_ynode *n)
{
    if (b->nstack == b->capstack) {
        size_t cap = b->capstack ? b->capstack * 2 : 64;
        tr_ynode **s = tr_realloc(b->stack, cap * sizeof *s);
        if (!s)
            return TR_ERR_NOMEM;
        b->stack = s;
        b->capstack = cap;
    }
    b->stack[b->nstack++] = n;
    return TR_OK;
}

static int add_anchor(builder *b, const char *name, tr_ynode *n)
{
    if (!name)
        return TR_OK;
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        anchor *a = tr_realloc(b->anchors, cap * sizeof *a);
        if (!a)
            return TR_ERR_NOMEM;
        b->anchors = a;
        b->capanchors = cap;
    }
    char *copy = tr_arena_strndup(b->arena, name, strlen(name));
    if (!copy)
        return TR_ERR_NOMEM;
    b->anchors[b->nanchors++] = (anchor){copy, n};
    return TR_OK;
}

static tr_ynode *find_anchor(const builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

/* A finished node goes to its parent's children, or becomes a document. */
static int place(builder *b, tr_ynode *n)
{
    if (b->depth > 0)
        return push_child(b, n);
    if (b->ndocs == b->capdocs) {
        size_t cap = b->capdocs ? b->capdocs * 2 : 4;
        tr_ynode **d = tr_realloc(b->docs, cap * sizeof *d);
        if (!d)
            return TR_ERR_NOMEM;
        b->docs = d;
        b->capdocs = cap;
    }
    b->docs[b->ndocs++] = n;
    return TR_OK;
}

static tr_ynode *new_node(builder *b, tr_ykind kind, const yaml_mark_t *mark)
{
    tr_ynode *n = tr_arena_alloc(b->arena, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->weight = 1;
    n->line = (uint32_t)mark->line + 1;
    n->col = (uint32_t)mark->column + 1;
    return n;
}

static int fail(char *err, size_t err_size, uint32_t *err_line, uint32_t line, const char *fmt,
                const char *arg)
{
    if (err && err_size)
        snprintf(err, err_size, fmt, arg);
    if (err_line)
        *err_line = line;
    return TR_ERR_FORMAT;
}

int tr_yaml_load(const char *text, size_t len, tr_arena *arena, tr_ynode ***docs, size_t *ndocs,
                 char *err, size_t err_size, uint32_t *err_line)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.arena = arena;
    *docs = NULL;
    *ndocs = 0;
    if (err && err_size)
        err[0] = '\0';
    if (err_line)
        *err_line = 0;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return TR_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    int rc = TR_OK;
    int in_doc = 0, doc_has_root = 0;
    size_t aliases = 0; /* in this document */
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                rc = TR_ERR_NOMEM;
            } else {
                char reason[256];
                snprintf(reason, sizeof reason, "%s%s%s", parser.problem ? parser.problem : "syntax error",
                         parser.context ? " " : "", parser.context ? parser.context : "");
                rc = fail(err, err_size, err_line, (uint32_t)parser.problem_mark.line + 1,
                          "YAML: %s", reason);
            }
            break;
        }
        int done = 0;
        tr_ynode *n = NULL;
        const char *anchor_name = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            in_doc = 1;
            doc_has_root = 0;
            b.nanchors = 0; /* anchors are per document */
            aliases = 0;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (in_doc && !doc_has_root)
                rc = place(&b, NULL);
            in_doc = 0;
            break;
        case YAML_SCALAR_EVENT:
            n = new_node(&b, TR_Y_SCALAR, &ev.start_mark);
            if (!n) {
                rc = TR_ERR_NOMEM;
                break;
            }
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            n->len = ev.data.scalar.length;
            n->str = tr_arena_strndup(b.arena, (const char *)ev.data.scalar.value, n->len);
            if (!n->str) {
                rc = TR_ERR_NOMEM;
                break;
            }
            anchor_name = (const char *)ev.data.scalar.anchor;
            if (b.depth == 0)
                doc_has_root = 1;
            rc = add_anchor(&b, anchor_name, n);
            if (rc == TR_OK)
                rc = place(&b, n);
            break;
        case YAML_ALIAS_EVENT:
            n = find_anchor(&b, (const char *)ev.data.alias.anchor);
            if (!n) {
                rc = fail(err, err_size, err_line, (uint32_t)ev.start_mark.line + 1,
                          "YAML: alias *%s names no anchor", (const char *)ev.data.alias.anchor);
                break;
            }
            if (++aliases > TR_YAML_MAX_ALIASES) {
                rc = fail(err, err_size, err_line, (uint32_t)ev.start_mark.line + 1,
                          "YAML: more than %s aliases in one document: refused", "10,000");
                break;
            }
            if (b.depth == 0)
                doc_has_root = 1;
            rc = place(&b, n);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (b.depth >= TR_YAML_MAX_DEPTH) {
                rc = fail(err, err_size, err_line, (uint32_t)ev.start_mark.line + 1,
                          "YAML: nesting deeper than %s levels", "64");
                break;
            }
            n = new_node(&b, ev.type == YAML_SEQUENCE_START_EVENT ? TR_Y_SEQ : TR_Y_MAP, &ev.start_mark);
            if (!n) {
                rc = TR_ERR_NOMEM;
                break;
            }
            anchor_name = ev.type == YAML_SEQUENCE_START_EVENT ? (const char *)ev.data.sequence_start.anchor
                                                               : (const char *)ev.data.mapping_start.anchor;
            if (b.depth == 0)
                doc_has_root = 1;
            b.open_node[b.depth] = n;
            b.open_base[b.depth] = b.nstack;
            b.open_anchor[b.depth] = NULL;
            b.depth++;
            /* registered now so that the collection's own children could not alias
             * it before it closes: an alias to an open node would make a cycle */
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            b.depth--;
            n = b.open_node[b.depth];
            size_t base = b.open_base[b.depth];
            size_t nchild = b.nstack - base;
            if (n->kind == TR_Y_MAP && (nchild & 1u)) {
                rc = fail(err, err_size, err_line, n->line, "YAML: mapping with a key and no %s", "value");
                break;
            }
            n->count = n->kind == TR_Y_MAP ? nchild / 2 : nchild;
            /* its size with aliases expanded: past the bound, the file is
             * an alias bomb (or near enough) and is refused here */
            uint64_t weight = 1;
            for (size_t k = base; k < b.nstack && weight <= TR_YAML_MAX_EXPANDED; k++)
                weight += b.stack[k]->weight;
            if (weight > TR_YAML_MAX_EXPANDED) {
                rc = fail(err, err_size, err_line, n->line,
                          "YAML: aliases would expand the document past %s nodes (an alias bomb?): refused",
                          "1,000,000");
                break;
            }
            n->weight = (uint32_t)weight;
            if (nchild) {
                n->items = tr_arena_alloc(b.arena, nchild * sizeof *n->items);
                if (!n->items) {
                    rc = TR_ERR_NOMEM;
                    break;
                }
                memcpy(n->items, b.stack + base, nchild * sizeof *n->items);
            }
            b.nstack = base;
            rc = place(&b, n);
            break;
        }
        default:
            break;
        }
        /* anchors of collections: taken from the start event, registered at the end */
        if (rc == TR_OK && (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)) {
            const char *an = ev.type == YAML_SEQUENCE_START_EVENT
                                 ? (const char *)ev.data.sequence_start.anchor
                                 : (const char *)ev.data.mapping_start.anchor;
            if (an) {
                char *copy = tr_arena_strndup(b.arena, an, strlen(an));
                if (!copy)
                    rc = TR_ERR_NOMEM;
                b.open_anchor[b.depth - 1] = copy;
            }
        }
        if (rc == TR_OK && (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)) {
            if (b.open_anchor[b.depth])
                rc = add_anchor(&b, b.open_anchor[b.depth], n);
        }
        yaml_event_delete(&ev);
        if (rc != TR_OK || done)
            break;
    }
    yaml_parser_delete(&parser);

    tr_free(b.stack);
    tr_free(b.anchors);
    if (b.ndocs) {
        tr_ynode **out = tr_arena_alloc(arena, b.ndocs * sizeof *out);
        if (!out) {
            tr_free(b.docs);
            return TR_ERR_NOMEM;
        }
        memcpy(out, b.docs, b.ndocs * sizeof *out);
        *docs = out;
        *ndocs = b.ndocs;
    }
    tr_free(b.docs);
    return rc;
}

const tr_ynode *tr_ymap_get(const tr_ynode *map, const char *key)
{
    if (!map || map->kind != TR_Y_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->count; i++) {
        const tr_ynode *k = map->items[2 * i];
        if (k && k->kind == TR_Y_SCALAR && k->len == klen && memcmp(k->str, key, klen) == 0)
            return map->items[2 * i + 1];
    }
    return NULL;
}

int tr_yscalar_is_null(const tr_ynode *n)
{
    if (!n)
        return 1;
    if (n->kind != TR_Y_SCALAR || !n->plain)
        return 0;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

int tr_yscalar_bool(const tr_ynode *n)
{
    if (!n || n->kind != TR_Y_SCALAR || !n->plain)
        return -1;
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(n->str, yes[i]) == 0)
            return 1;
        if (strcmp(n->str, no[i]) == 0)
            return 0;
    }
    return -1;
}

int tr_yscalar_int(const tr_ynode *n, int64_t *out)
{
    if (!n || n->kind != TR_Y_SCALAR || !n->plain || n->len == 0 || n->len > 24)
        return 0;
    char *end = NULL;
    long long v = strtoll(n->str, &end, 0);
    if (end != n->str + n->len)
        return 0;
    /* "010" would be octal to strtoll; YAML 1.1 agrees, Sigma authors never mean it */
    if (n->len > 1 && n->str[0] == '0' && n->str[1] != 'x' && n->str[1] != 'X')
        v = strtoll(n->str, NULL, 10);
    *out = v;
    return 1;
}

int tr_yscalar_number(const tr_ynode *n, double *out)
{
    int64_t i;
    if (tr_yscalar_int(n, &i)) {
        *out = (double)i;
        return 1;
    }
    if (!n || n->kind != TR_Y_SCALAR || !n->plain || n->len == 0 || n->len > 64)
        return 0;
    char *end = NULL;
    double d = strtod(n->str, &end);
    if (end != n->str + n->len)
        return 0;
    *out = d;
    return 1;
}

int tr_yscalar_eq(const tr_ynode *n, const char *s)
{
    return n && n->kind == TR_Y_SCALAR && n->len == strlen(s) && memcmp(n->str, s, n->len) == 0;
}
