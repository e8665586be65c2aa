/*
 * condition.c — parses a Sigma condition into the tree of sigma.h.
 *
 * Grammar, from the specification (least to most binding):
 *     expr    := and ('or' and)*
 *     and     := not ('and' not)*
 *     not     := 'not' not | primary
 *     primary := '(' expr ')' | ('1' | 'all' | 'any') 'of' (pattern | 'them') | identifier
 * A pattern is a search identifier with '*' wildcards; 'them' is every
 * search whose name does not start with '_'. Operators are matched without
 * regard to case. The old aggregation syntax ("| count() by x > 5") left the
 * language with Sigma 2.0 (correlation rules replace it) and is rejected
 * with that reason.
 *
 * Owns nothing: nodes go to the caller's arena.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../util/alloc.h"
#include "sigma.h"

#define MAX_TOKENS 512
#define MAX_DEPTH 64

typedef struct tok {
    const char *s;
    size_t len;
} tok;

typedef struct parser {
    tok toks[MAX_TOKENS];
    size_t ntok, pos;
    const char *const *names;
    size_t nnames;
    tr_arena *arena;
    tr_cnode *nodes;
    uint32_t nnodes, cap;
    uint8_t *used;
    char *err;
    size_t err_size;
    int depth;
    int failed;
} parser;

static int is_word(const tok *t, const char *w)
{
    size_t n = strlen(w);
    if (t->len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)t->s[i]) != w[i])
            return 0;
    return 1;
}

static int perr(parser *p, const char *fmt, const tok *t)
{
    if (!p->failed) {
        if (t)
            snprintf(p->err, p->err_size, fmt, (int)(t->len > 80 ? 80 : t->len), t->s);
        else
            snprintf(p->err, p->err_size, "%s", fmt);
    }
    p->failed = 1;
    return -1;
}

static int new_node(parser *p, uint8_t op)
{
    if (p->nnodes == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 16;
        tr_cnode *n = tr_arena_alloc(p->arena, cap * sizeof *n);
        if (!n)
            return perr(p, "out of memory", NULL);
        if (p->nnodes)
            memcpy(n, p->nodes, p->nnodes * sizeof *n);
        p->nodes = n;
        p->cap = cap;
    }
    tr_cnode *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    return (int)p->nnodes++;
}

static int set_kids(parser *p, int node, const int *kids, size_t n)
{
    uint32_t *k = tr_arena_alloc(p->arena, (n ? n : 1) * sizeof *k);
    if (!k)
        return perr(p, "out of memory", NULL);
    for (size_t i = 0; i < n; i++)
        k[i] = (uint32_t)kids[i];
    p->nodes[node].kids = k;
    p->nodes[node].nkids = (uint32_t)n;
    return node;
}

/* '*' anywhere in the pattern matches any run of characters. */
static int name_matches(const char *pat, size_t plen, const char *name)
{
    size_t nlen = strlen(name), i = 0, j = 0, star_i = (size_t)-1, star_j = 0;
    while (j < nlen) {
        if (i < plen && pat[i] == '*') {
            star_i = i++;
            star_j = j;
        } else if (i < plen && pat[i] == name[j]) {
            i++, j++;
        } else if (star_i != (size_t)-1) {
            i = star_i + 1;
            j = ++star_j;
        } else {
            return 0;
        }
    }
    while (i < plen && pat[i] == '*')
        i++;
    return i == plen;
}

static int search_node(parser *p, size_t s)
{
    int n = new_node(p, TR_C_SEARCH);
    if (n < 0)
        return n;
    p->nodes[n].search = (uint32_t)s;
    p->used[s] = 1;
    return n;
}

static int parse_or(parser *p);

static int parse_of(parser *p, int all)
{
    if (p->pos >= p->ntok)
        return perr(p, "'of' needs a search identifier pattern or 'them' after it", NULL);
    const tok *t = &p->toks[p->pos++];
    int them = is_word(t, "them");
    int kids[256];
    size_t nk = 0;
    for (size_t i = 0; i < p->nnames; i++) {
        int hit = them ? p->names[i][0] != '_' : name_matches(t->s, t->len, p->names[i]);
        if (!hit)
            continue;
        if (nk == 256)
            return perr(p, "'of' expands to more than 256 searches", NULL);
        int k = search_node(p, i);
        if (k < 0)
            return k;
        kids[nk++] = k;
    }
    if (nk == 0)
        return perr(p, "'%.*s' matches no search identifier of the detection", t);
    int n = new_node(p, all ? TR_C_AND : TR_C_OR);
    if (n < 0)
        return n;
    return set_kids(p, n, kids, nk);
}

static int parse_primary(parser *p)
{
    if (p->pos >= p->ntok)
        return perr(p, "the condition ends where a search identifier was expected", NULL);
    const tok *t = &p->toks[p->pos];
    if (t->len == 1 && t->s[0] == '(') {
        p->pos++;
        if (++p->depth > MAX_DEPTH)
            return perr(p, "brackets nested too deeply", NULL);
        int n = parse_or(p);
        p->depth--;
        if (n < 0)
            return n;
        if (p->pos >= p->ntok || !(p->toks[p->pos].len == 1 && p->toks[p->pos].s[0] == ')'))
            return perr(p, "a '(' is not closed", NULL);
        p->pos++;
        return n;
    }
    if (t->len == 1 && t->s[0] == ')')
        return perr(p, "a ')' closes nothing", NULL);
    if (t->len == 1 && t->s[0] == '|')
        return perr(p, "aggregation expressions ('| count() ...') were removed in Sigma 2.0; "
                       "write a correlation rule instead", NULL);
    if (is_word(t, "and") || is_word(t, "or"))
        return perr(p, "'%.*s' where a search identifier was expected", t);
    int next_is_of = p->pos + 1 < p->ntok && is_word(&p->toks[p->pos + 1], "of");
    if (next_is_of) {
        if (is_word(t, "all")) {
            p->pos += 2;
            return parse_of(p, 1);
        }
        if ((t->len == 1 && t->s[0] == '1') || is_word(t, "any")) {
            p->pos += 2;
            return parse_of(p, 0);
        }
        return perr(p, "'%.*s of': the specification knows '1 of' and 'all of'", t);
    }
    for (size_t i = 0; i < p->nnames; i++) {
        if (strlen(p->names[i]) == t->len && memcmp(p->names[i], t->s, t->len) == 0) {
            p->pos++;
            return search_node(p, i);
        }
    }
    if (memchr(t->s, '*', t->len))
        return perr(p, "'%.*s': a wildcard pattern needs '1 of' or 'all of' before it", t);
    return perr(p, "'%.*s' is not a search identifier of the detection", t);
}

static int parse_not(parser *p)
{
    if (p->pos < p->ntok && is_word(&p->toks[p->pos], "not")) {
        p->pos++;
        if (++p->depth > MAX_DEPTH)
            return perr(p, "'not' nested too deeply", NULL);
        int k = parse_not(p);
        p->depth--;
        if (k < 0)
            return k;
        int n = new_node(p, TR_C_NOT);
        if (n < 0)
            return n;
        return set_kids(p, n, &k, 1);
    }
    return parse_primary(p);
}

static int parse_binary(parser *p, int is_or)
{
    int kids[MAX_TOKENS];
    size_t nk = 0;
    int k = is_or ? parse_binary(p, 0) : parse_not(p);
    if (k < 0)
        return k;
    kids[nk++] = k;
    while (p->pos < p->ntok && is_word(&p->toks[p->pos], is_or ? "or" : "and")) {
        p->pos++;
        k = is_or ? parse_binary(p, 0) : parse_not(p);
        if (k < 0)
            return k;
        kids[nk++] = k;
    }
    if (nk == 1)
        return kids[0];
    int n = new_node(p, is_or ? TR_C_OR : TR_C_AND);
    if (n < 0)
        return n;
    return set_kids(p, n, kids, nk);
}

static int parse_or(parser *p) { return parse_binary(p, 1); }

int tr_condition_parse(const char *text, size_t len, const char *const *names, size_t nnames,
                       tr_arena *arena, tr_cnode **nodes, uint32_t *nnodes, uint32_t *root,
                       uint8_t *used, char *err, size_t err_size)
{
    parser *p = tr_malloc(sizeof *p); /* scratch: the tokens; nodes go to the arena */
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return TR_ERR_NOMEM;
    }
    memset(p, 0, sizeof *p);
    p->names = names;
    p->nnames = nnames;
    p->arena = arena;
    p->used = used;
    p->err = err;
    p->err_size = err_size;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (p->ntok == MAX_TOKENS) {
            snprintf(err, err_size, "the condition has more than %d tokens", MAX_TOKENS);
            tr_free(p);
            return TR_ERR_FORMAT;
        }
        size_t start = i;
        if (c == '(' || c == ')' || c == '|') {
            i++;
        } else {
            while (i < len && !strchr(" \t\r\n()|", text[i]))
                i++;
        }
        p->toks[p->ntok++] = (tok){text + start, i - start};
    }
    if (p->ntok == 0) {
        snprintf(err, err_size, "the condition is empty");
        tr_free(p);
        return TR_ERR_FORMAT;
    }
    int r = parse_or(p);
    if (r >= 0 && p->pos < p->ntok) {
        const tok *t = &p->toks[p->pos];
        if (t->len == 1 && t->s[0] == '|')
            perr(p, "aggregation expressions ('| count() ...') were removed in Sigma 2.0; "
                    "write a correlation rule instead", NULL);
        else if (t->len == 1 && t->s[0] == ')')
            perr(p, "a ')' closes nothing", NULL);
        else
            perr(p, "unexpected '%.*s' (a missing 'and' or 'or'?)", t);
        r = -1;
    }
    if (r >= 0) {
        *nodes = p->nodes;
        *nnodes = p->nnodes;
        *root = (uint32_t)r;
    }
    tr_free(p);
    return r < 0 ? TR_ERR_FORMAT : TR_OK;
}
