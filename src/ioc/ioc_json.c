/*
 * ioc_json.c — the bounded JSON document parser (see ioc_json.h).
 *
 * Recursive descent over RFC 8259 JSON, depth-limited so that hostile
 * nesting cannot exhaust the stack. Nodes go into one growing array; a
 * value's children are linked through `first`/`next`, so a parent is
 * complete once its closing bracket is read. Strings are validated (no raw
 * control characters, only the escapes JSON defines); \uXXXX escapes are
 * decoded to UTF-8, surrogate pairs joined, lone surrogates and \u0000
 * become U+FFFD (indicator values are C strings). Invalid UTF-8 bytes are
 * passed through: values are compared bytewise and the writers repair text
 * they emit.
 *
 * Workload: indicator files of kilobytes to a few hundred megabytes, parsed
 * once at load time.
 */
#include "ioc_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../util/alloc.h"
#include "traccia.h"

typedef struct parser {
    json_doc *d;
    const char *s;
    size_t len, pos;
    uint32_t line;
    size_t max_nodes;
    int rc;
} parser;

void tr_json_doc_init(json_doc *d)
{
    memset(d, 0, sizeof *d);
    tr_arena_init(&d->arena, 64 * 1024);
}

void tr_json_doc_free(json_doc *d)
{
    tr_free(d->nodes);
    tr_arena_free(&d->arena);
    d->nodes = NULL;
    d->n = d->cap = 0;
}

static int fail(parser *p, int rc, const char *fmt, const char *arg)
{
    if (p->rc == TR_OK) {
        p->rc = rc;
        snprintf(p->d->err, sizeof p->d->err, fmt, arg);
        p->d->err_line = p->line;
        p->d->err_offset = p->pos;
    }
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '\n')
            p->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        p->pos++;
    }
}

/* A new node: true and its index in *idx, or false after recording why. */
static bool new_node(parser *p, int type, uint32_t *idx)
{
    json_doc *d = p->d;
    if (d->n >= p->max_nodes || d->n >= UINT32_MAX - 1) {
        fail(p, TR_ERR_LIMIT, "more than %s values: not an indicator file this parser accepts",
             "the size limit allows");
        return false;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        json_node *nn = tr_realloc(d->nodes, cap * sizeof *nn);
        if (!nn) {
            p->rc = p->rc ? p->rc : TR_ERR_NOMEM;
            return false;
        }
        d->nodes = nn;
        d->cap = cap;
    }
    json_node *n = &d->nodes[d->n];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->line = p->line;
    *idx = (uint32_t)d->n++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int read_hex4(parser *p, size_t at, unsigned *out)
{
    if (at + 4 > p->len)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int h = hexval(p->s[at + i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads a string at p->pos (the opening quote); fills *out and *out_len with
 * the decoded, NUL-terminated text. */
static int parse_string(parser *p, const char **out, uint32_t *out_len)
{
    size_t start = ++p->pos; /* after the quote */
    int escaped = 0;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, TR_ERR_FORMAT, "%s", "unterminated string");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, TR_ERR_FORMAT, "%s", "control character inside a string");
        if (c == '\\') {
            escaped = 1;
            p->pos++;
            if (p->pos >= p->len)
                return fail(p, TR_ERR_FORMAT, "%s", "unterminated string");
        }
        p->pos++;
    }
    size_t end = p->pos++; /* past the closing quote */
    size_t raw = end - start;
    if (raw > UINT32_MAX - 1)
        return fail(p, TR_ERR_LIMIT, "%s", "string longer than 4 GiB");
    /* a string without escapes that ends before the input does can still
     * not be NUL-terminated in place: copy every string (load time only) */
    char *o = tr_arena_alloc(&p->d->arena, raw + 1);
    if (!o) {
        p->rc = p->rc ? p->rc : TR_ERR_NOMEM;
        return -1;
    }
    size_t k = 0;
    if (!escaped) {
        memcpy(o, p->s + start, raw);
        k = raw;
    } else {
        for (size_t i = start; i < end; i++) {
            char c = p->s[i];
            if (c != '\\') {
                o[k++] = c;
                continue;
            }
            char e = p->s[++i];
            switch (e) {
            case '"': o[k++] = '"'; break;
            case '\\': o[k++] = '\\'; break;
            case '/': o[k++] = '/'; break;
            case 'b': o[k++] = '\b'; break;
            case 'f': o[k++] = '\f'; break;
            case 'n': o[k++] = '\n'; break;
            case 'r': o[k++] = '\r'; break;
            case 't': o[k++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (i + 1 + 4 > end || read_hex4(p, i + 1, &cp)) {
                    p->pos = i;
                    return fail(p, TR_ERR_FORMAT, "%s", "bad \\u escape");
                }
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    /* the low half must follow as \uDC00..\uDFFF: bytes i+1 .. i+6 */
                    if (i + 6 < end && p->s[i + 1] == '\\' && p->s[i + 2] == 'u' &&
                        read_hex4(p, i + 3, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    } else {
                        cp = 0xfffd;
                    }
                } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                    cp = 0xfffd;
                }
                /* an escape is 6 bytes and yields at most 4 (a pair: 12 -> 4) */
                k += put_utf8(o + k, cp);
                break;
            }
            default:
                p->pos = i;
                return fail(p, TR_ERR_FORMAT, "%s", "unknown escape in a string");
            }
        }
    }
    o[k] = '\0';
    *out = o;
    *out_len = (uint32_t)k;
    return 0;
}

static int parse_number(parser *p, uint32_t idx)
{
    size_t start = p->pos, i = p->pos;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len)
        return fail(p, TR_ERR_FORMAT, "%s", "truncated number");
    if (p->s[i] == '0') {
        i++;
    } else if (p->s[i] >= '1' && p->s[i] <= '9') {
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    } else {
        return fail(p, TR_ERR_FORMAT, "%s", "bad number");
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        size_t d0 = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d0)
            return fail(p, TR_ERR_FORMAT, "%s", "bad number");
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        size_t d0 = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d0)
            return fail(p, TR_ERR_FORMAT, "%s", "bad number");
    }
    if (i - start > 4096)
        return fail(p, TR_ERR_LIMIT, "%s", "number longer than 4096 digits");
    char *t = tr_arena_strndup(&p->d->arena, p->s + start, i - start);
    if (!t) {
        p->rc = p->rc ? p->rc : TR_ERR_NOMEM;
        return -1;
    }
    p->d->nodes[idx].str = t;
    p->d->nodes[idx].len = (uint32_t)(i - start);
    p->pos = i;
    return 0;
}

static int literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->pos + n > p->len || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, TR_ERR_FORMAT, "%s", "unexpected character");
    p->pos += n;
    return 0;
}

static uint32_t parse_value(parser *p, int depth);

/* Parses the members or elements of the container at idx (p->pos just after
 * its opening bracket). */
static int parse_container(parser *p, uint32_t idx, int depth, int is_obj)
{
    char close = is_obj ? '}' : ']';
    uint32_t prev = 0, count = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        uint32_t key_len = 0;
        skip_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, TR_ERR_FORMAT, "%s", p->pos >= p->len ? "truncated object" : "expected a key");
            if (parse_string(p, &key, &key_len))
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, TR_ERR_FORMAT, "%s", "expected ':' after a key");
            p->pos++;
            skip_ws(p);
        }
        uint32_t child = parse_value(p, depth + 1);
        if (!child)
            return -1;
        json_node *c = &p->d->nodes[child];
        c->key = key;
        c->key_len = key_len;
        if (prev)
            p->d->nodes[prev].next = child;
        else
            p->d->nodes[idx].first = child;
        prev = child;
        count++;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, TR_ERR_FORMAT, "%s", is_obj ? "truncated object" : "truncated array");
        char c2 = p->s[p->pos++];
        if (c2 == ',')
            continue;
        if (c2 == close)
            break;
        p->pos--;
        return fail(p, TR_ERR_FORMAT, "%s", is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->d->nodes[idx].count = count;
    return 0;
}

static uint32_t parse_value(parser *p, int depth)
{
    if (depth > TR_JSON_MAX_DEPTH) {
        fail(p, TR_ERR_LIMIT, "nesting deeper than %s levels", "64");
        return 0;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, TR_ERR_FORMAT, "%s", "unexpected end of input");
        return 0;
    }
    char c = p->s[p->pos];
    uint32_t idx;
    switch (c) {
    case '{':
    case '[':
        if (!new_node(p, c == '{' ? J_OBJ : J_ARR, &idx))
            return 0;
        p->pos++;
        return parse_container(p, idx, depth, c == '{') ? 0 : idx;
    case '"': {
        if (!new_node(p, J_STR, &idx))
            return 0;
        const char *s;
        uint32_t n;
        if (parse_string(p, &s, &n))
            return 0;
        p->d->nodes[idx].str = s;
        p->d->nodes[idx].len = n;
        return idx;
    }
    case 't':
    case 'f':
    case 'n':
        if (!new_node(p, c == 't' ? J_TRUE : c == 'f' ? J_FALSE : J_NULL, &idx))
            return 0;
        return literal(p, c == 't' ? "true" : c == 'f' ? "false" : "null") ? 0 : idx;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            if (!new_node(p, J_NUM, &idx))
                return 0;
            return parse_number(p, idx) ? 0 : idx;
        }
        fail(p, TR_ERR_FORMAT, "%s", "unexpected character");
        return 0;
    }
}

int tr_json_parse(json_doc *d, const char *text, size_t len, size_t max_nodes)
{
    parser p = {d, text, len, 0, 1, max_nodes ? max_nodes : 1, TR_OK};
    d->n = 0;
    d->err[0] = '\0';
    /* a UTF-8 byte-order mark is tolerated */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p.pos = 3;
    skip_ws(&p);
    if (p.pos < p.len && p.s[p.pos] != '{' && p.s[p.pos] != '[' && p.s[p.pos] != '"' && p.s[p.pos] != '-' &&
        !(p.s[p.pos] >= '0' && p.s[p.pos] <= '9') && p.s[p.pos] != 't' && p.s[p.pos] != 'f' && p.s[p.pos] != 'n')
        fail(&p, TR_ERR_FORMAT, "%s", "not JSON");
    /* the root must be node 0, even though 0 means "failed" to the helpers */
    if (p.rc == TR_OK) {
        parse_value(&p, 1);
        if (p.rc == TR_OK) {
            skip_ws(&p);
            if (p.pos < p.len)
                fail(&p, TR_ERR_FORMAT, "%s", "text after the JSON value");
        }
    }
    return p.rc;
}

const json_node *tr_json_get(const json_doc *d, const json_node *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    size_t kl = strlen(key);
    for (const json_node *c = json_first(d, obj); c; c = json_next(d, c))
        if (c->key_len == kl && memcmp(c->key, key, kl) == 0)
            return c;
    return NULL;
}

const char *tr_json_get_str(const json_doc *d, const json_node *obj, const char *key)
{
    const json_node *n = tr_json_get(d, obj, key);
    return n && n->type == J_STR ? n->str : NULL;
}

int tr_json_get_bool(const json_doc *d, const json_node *obj, const char *key, int def)
{
    const json_node *n = tr_json_get(d, obj, key);
    if (!n)
        return def;
    if (n->type == J_TRUE)
        return 1;
    if (n->type == J_FALSE || n->type == J_NULL)
        return 0;
    if (n->type == J_NUM)
        return !(n->len == 1 && n->str[0] == '0');
    if (n->type == J_STR)
        return n->len == 1 ? n->str[0] == '1' : (n->len == 4 && memcmp(n->str, "true", 4) == 0) ||
                                                    (n->len == 4 && memcmp(n->str, "True", 4) == 0);
    return def;
}
