/*
 * ioc_pattern.c — STIX 2.1 patterns into expressions over comparisons.
 *
 * The patterning language (STIX 2.1, section 9):
 *
 *   pattern     := obs_expr
 *   obs_expr    := obs_and ("OR" obs_and)*
 *   obs_and     := obs_seq ("AND" obs_seq)*          -- not supported
 *   obs_seq     := obs_qual ("FOLLOWEDBY" obs_qual)* -- not supported
 *   obs_qual    := ("[" cmp_expr "]" | "(" obs_expr ")") qualifier*  -- qualifiers not supported
 *   cmp_expr    := cmp_and ("OR" cmp_and)*
 *   cmp_and     := cmp_prim ("AND" cmp_prim)*
 *   cmp_prim    := "(" cmp_expr ")" | path ["NOT"] op value | "EXISTS" path
 *   path        := type ":" prop ("." prop | "[" (int | "*") "]")*
 *   value       := 'string' | int | float | true | false | t'..' | h'..' | b'..' | "(" value ("," value)* ")"
 *
 * traccia matches one event at a time, so it supports what an indicator
 * needs on one event: comparisons with =, IN, LIKE, MATCHES (and ISSUBSET
 * of an address range) on the object paths that event fields hold (the
 * table `paths` below), joined by AND and OR, and observations joined by
 * OR. Everything else — != and the ordering operators, NOT, EXISTS, AND or
 * FOLLOWEDBY between observations, qualifiers (WITHIN, REPEATS, START/STOP),
 * object paths with no event field — is reported as not supported, with
 * what it was, never dropped silently.
 *
 * Values are checked against their path and put in canonical form here
 * (addresses parsed, domains and digests lower-cased, URLs canonical), so
 * that the index and the evaluator compare like with like.
 *
 * Limits: IOC_MAX_PATTERN bytes, IOC_MAX_COMPARISONS comparisons,
 * IOC_MAX_PATTERN_DEPTH nesting, IOC_MAX_IN_VALUES values per IN list.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/hash.h"
#include "ioc.h"

typedef struct pparser {
    const char *s;
    size_t n, pos;
    tr_arena *arena;
    char *err;
    size_t errcap;
    int rc;
    unsigned ncmp, depth;
    int (*keep_re)(void *ctx, void *re);
    void *ctx;
} pparser;

static void *fail(pparser *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *fail(pparser *p, int rc, const char *fmt, ...)
{
    if (p->rc == TR_OK) {
        p->rc = rc;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errcap, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static void *nomem(pparser *p) { return fail(p, TR_ERR_NOMEM, "out of memory"); }

static void ws(pparser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
}

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Consumes keyword kw (upper case, whole word) if it comes next. */
static bool kw(pparser *p, const char *word)
{
    ws(p);
    size_t l = strlen(word);
    if (p->pos + l > p->n || memcmp(p->s + p->pos, word, l) != 0)
        return false;
    if (p->pos + l < p->n && is_word(p->s[p->pos + l]))
        return false;
    p->pos += l;
    return true;
}

static bool peek_kw(pparser *p, const char *word)
{
    size_t save = p->pos;
    bool r = kw(p, word);
    p->pos = save;
    return r;
}

static bool punct(pparser *p, char c)
{
    ws(p);
    if (p->pos < p->n && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static ioc_expr *new_expr(pparser *p, int type)
{
    ioc_expr *e = tr_arena_alloc(p->arena, sizeof *e);
    if (!e)
        return nomem(p);
    memset(e, 0, sizeof *e);
    e->type = (uint8_t)type;
    return e;
}

static ioc_expr *join(pparser *p, int type, ioc_expr *a, ioc_expr *b)
{
    /* flatten chains: (a OR b) OR c is one OR of three */
    size_t na = a->type == type ? a->n : 1, nb = b->type == type ? b->n : 1;
    ioc_expr *e = new_expr(p, type);
    if (!e)
        return NULL;
    e->kids = tr_arena_alloc(p->arena, (na + nb) * sizeof *e->kids);
    if (!e->kids)
        return nomem(p);
    size_t k = 0;
    if (a->type == type)
        for (size_t i = 0; i < a->n; i++)
            e->kids[k++] = a->kids[i];
    else
        e->kids[k++] = a;
    if (b->type == type)
        for (size_t i = 0; i < b->n; i++)
            e->kids[k++] = b->kids[i];
    else
        e->kids[k++] = b;
    e->n = (uint32_t)k;
    return e;
}

/* ---------------------------------------------------------------- object paths */

/* An object path, normalised: "file:hashes.SHA-256", "network-traffic:protocols[*]". */
static bool parse_path(pparser *p, char *out, size_t cap)
{
    ws(p);
    size_t o = 0, start = p->pos;
    while (p->pos < p->n && is_word(p->s[p->pos]))
        p->pos++;
    if (p->pos == start || p->pos >= p->n || p->s[p->pos] != ':') {
        fail(p, TR_ERR_FORMAT, "offset %zu: expected an object path (type:property)", start);
        return false;
    }
    size_t tl = p->pos - start;
    if (tl + 1 >= cap) {
        fail(p, TR_ERR_FORMAT, "offset %zu: object path too long", start);
        return false;
    }
    memcpy(out, p->s + start, tl);
    o = tl;
    out[o++] = ':';
    p->pos++;
    bool first = true;
    for (;;) {
        if (p->pos >= p->n)
            break;
        char c = p->s[p->pos];
        if (!first && c == '[') {
            size_t b = p->pos++;
            while (p->pos < p->n && p->s[p->pos] != ']')
                p->pos++;
            if (p->pos >= p->n) {
                fail(p, TR_ERR_FORMAT, "offset %zu: unclosed '[' in an object path", b);
                return false;
            }
            p->pos++;
            if (o + 3 >= cap) {
                fail(p, TR_ERR_FORMAT, "offset %zu: object path too long", start);
                return false;
            }
            memcpy(out + o, "[*]", 3); /* any index: one event holds one such list */
            o += 3;
            continue;
        }
        if (!first) {
            if (c != '.')
                break;
            p->pos++;
            if (o + 1 >= cap) {
                fail(p, TR_ERR_FORMAT, "offset %zu: object path too long", start);
                return false;
            }
            out[o++] = '.';
            if (p->pos >= p->n)
                break;
            c = p->s[p->pos];
        }
        if (c == '\'') { /* a quoted component: hashes.'SHA-256' */
            size_t q = ++p->pos;
            while (p->pos < p->n && p->s[p->pos] != '\'')
                p->pos++;
            if (p->pos >= p->n) {
                fail(p, TR_ERR_FORMAT, "offset %zu: unclosed quote in an object path", q - 1);
                return false;
            }
            size_t l = p->pos - q;
            if (o + l + 1 >= cap) {
                fail(p, TR_ERR_FORMAT, "offset %zu: object path too long", start);
                return false;
            }
            memcpy(out + o, p->s + q, l);
            o += l;
            p->pos++;
        } else {
            size_t q = p->pos;
            while (p->pos < p->n && is_word(p->s[p->pos]))
                p->pos++;
            size_t l = p->pos - q;
            if (l == 0) {
                fail(p, TR_ERR_FORMAT, "offset %zu: expected a property name", q);
                return false;
            }
            if (o + l + 1 >= cap) {
                fail(p, TR_ERR_FORMAT, "offset %zu: object path too long", start);
                return false;
            }
            memcpy(out + o, p->s + q, l);
            o += l;
        }
        first = false;
    }
    out[o] = '\0';
    return true;
}

enum { P_TRUE_IF_ADDR = 100 }; /* dst_ref.type and src_ref.type: no condition on one event */

typedef struct path_map {
    const char *path;
    int kind;
    int hash_len;    /* K_HASH: digits of the algorithm */
    int family;      /* K_IP: 4 or 6 when the object type fixes it */
} path_map;

static const path_map paths[] = {
    {"ipv4-addr:value", K_IP, 0, 4},
    {"ipv6-addr:value", K_IP, 0, 6},
    {"domain-name:value", K_DOMAIN, 0, 0},
    {"url:value", K_URL, 0, 0},
    {"file:hashes.MD5", K_HASH, 32, 0},
    {"file:hashes.SHA-1", K_HASH, 40, 0},
    {"file:hashes.SHA1", K_HASH, 40, 0},
    {"file:hashes.SHA-256", K_HASH, 64, 0},
    {"file:hashes.SHA256", K_HASH, 64, 0},
    {"file:name", K_FILENAME, 0, 0},
    {"file:parent_directory_ref.path", K_DIR, 0, 0},
    {"directory:path", K_DIR, 0, 0},
    {"process:name", K_FILENAME, 0, 0},
    {"process:command_line", K_CMDLINE, 0, 0},
    {"email-addr:value", K_EMAIL, 0, 0},
    {"email-message:from_ref.value", K_EMAIL, 0, 0},
    {"email-message:sender_ref.value", K_EMAIL, 0, 0},
    {"email-message:to_refs[*].value", K_EMAIL, 0, 0},
    {"email-message:cc_refs[*].value", K_EMAIL, 0, 0},
    {"user-account:user_id", K_USER, 0, 0},
    {"user-account:account_login", K_USER, 0, 0},
    {"network-traffic:src_ref.value", K_IP_SRC, 0, 0},
    {"network-traffic:dst_ref.value", K_IP_DST, 0, 0},
    {"network-traffic:src_port", K_PORT_SRC, 0, 0},
    {"network-traffic:dst_port", K_PORT_DST, 0, 0},
    {"network-traffic:protocols[*]", K_PROTO, 0, 0},
    {"network-traffic:extensions.http-request-ext.request_header.User-Agent", K_UA, 0, 0},
    {"network-traffic:src_ref.type", P_TRUE_IF_ADDR, 0, 0},
    {"network-traffic:dst_ref.type", P_TRUE_IF_ADDR, 0, 0},
};

static const path_map *find_path(const char *path)
{
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        /* hash algorithm names are case-insensitive in practice ('sha-256') */
        if (paths[i].kind == K_HASH ? strcasecmp(paths[i].path, path) == 0 : strcmp(paths[i].path, path) == 0)
            return &paths[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- values */

typedef struct raw_value {
    int type; /* 's' string, 'i' integer, 'o' other (float, bool, t'', h'', b'') */
    char *s;  /* decoded text (strings), the literal otherwise; NUL-terminated, in the arena */
    size_t len;
    size_t at;
} raw_value;

static bool parse_literal(pparser *p, raw_value *v)
{
    ws(p);
    v->at = p->pos;
    if (p->pos >= p->n) {
        fail(p, TR_ERR_FORMAT, "offset %zu: expected a value", p->pos);
        return false;
    }
    char c = p->s[p->pos];
    char prefix = 0;
    if ((c == 't' || c == 'h' || c == 'b') && p->pos + 1 < p->n && p->s[p->pos + 1] == '\'') {
        prefix = c;
        p->pos++;
        c = '\'';
    }
    if (c == '\'') {
        size_t q = ++p->pos;
        size_t cap = 0;
        for (size_t i = q; i < p->n && p->s[i] != '\''; i++) {
            if (p->s[i] == '\\')
                i++;
            cap++;
        }
        char *o = tr_arena_alloc(p->arena, cap + 1);
        if (!o) {
            nomem(p);
            return false;
        }
        size_t k = 0;
        while (p->pos < p->n && p->s[p->pos] != '\'') {
            if (p->s[p->pos] == '\\') {
                if (p->pos + 1 >= p->n)
                    break;
                char e = p->s[p->pos + 1];
                if (e != '\\' && e != '\'') {
                    fail(p, TR_ERR_FORMAT, "offset %zu: only \\\\ and \\' may be escaped in a string", p->pos);
                    return false;
                }
                o[k++] = e;
                p->pos += 2;
                continue;
            }
            o[k++] = p->s[p->pos++];
        }
        if (p->pos >= p->n) {
            fail(p, TR_ERR_FORMAT, "offset %zu: unterminated string", q - 1);
            return false;
        }
        p->pos++;
        o[k] = '\0';
        v->s = o;
        v->len = k;
        v->type = prefix ? 'o' : 's';
        return true;
    }
    size_t st = p->pos;
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
        p->pos++;
        bool is_int = true;
        while (p->pos < p->n && ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') || p->s[p->pos] == '.' ||
                                 p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
            if (!(p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
                is_int = false;
            p->pos++;
        }
        v->type = is_int ? 'i' : 'o';
    } else if (kw(p, "true") || kw(p, "false")) {
        v->type = 'o';
    } else {
        fail(p, TR_ERR_FORMAT, "offset %zu: expected a value", p->pos);
        return false;
    }
    v->s = tr_arena_strndup(p->arena, p->s + st, p->pos - st);
    if (!v->s) {
        nomem(p);
        return false;
    }
    v->len = p->pos - st;
    return true;
}

/* Puts one value of an equality into canonical form for kind. */
static bool canon(pparser *p, const path_map *pm, const char *path, raw_value *rv, ioc_val *out)
{
    memset(out, 0, sizeof *out);
    int kind = pm->kind;
    if (kind == K_PORT_SRC || kind == K_PORT_DST) {
        long v = -1;
        if (rv->type == 'i' && rv->len <= 6)
            v = strtol(rv->s, NULL, 10);
        if (v < 0 || v > 65535) {
            fail(p, TR_ERR_FORMAT, "offset %zu: %s takes a port number (0-65535)", rv->at, path);
            return false;
        }
        char buf[8];
        int l = snprintf(buf, sizeof buf, "%ld", v);
        out->s = tr_arena_strndup(p->arena, buf, (size_t)l);
        out->len = (uint32_t)l;
        return out->s || nomem(p);
    }
    if (rv->type != 's') {
        fail(p, TR_ERR_FORMAT, "offset %zu: %s takes a string", rv->at, path);
        return false;
    }
    if (rv->len > IOC_MAX_VALUE) {
        fail(p, TR_ERR_LIMIT, "offset %zu: value longer than 8 KiB", rv->at);
        return false;
    }
    if (kind == K_IP || kind == K_IP_SRC || kind == K_IP_DST) {
        if (!tr_ioc_parse_ip(rv->s, rv->len, &out->ip, true) || (pm->family && out->ip.family != pm->family)) {
            fail(p, TR_ERR_FORMAT, "offset %zu: '%.80s' is not an %s address or range", rv->at, rv->s,
                 pm->family == 6 ? "IPv6" : pm->family == 4 ? "IPv4" : "IP");
            return false;
        }
        out->s = rv->s;
        out->len = (uint32_t)rv->len;
        return true;
    }
    if (kind == K_CMDLINE || kind == K_UA) {
        out->s = rv->s;
        out->len = (uint32_t)rv->len;
        return true;
    }
    if (kind == K_PROTO) {
        for (size_t i = 0; i < rv->len; i++)
            rv->s[i] = (char)tolower((unsigned char)rv->s[i]);
        out->s = rv->s;
        out->len = (uint32_t)rv->len;
        return true;
    }
    int type = kind == K_DOMAIN     ? TR_IOC_DOMAIN
               : kind == K_URL      ? TR_IOC_URL
               : kind == K_FILENAME ? TR_IOC_FILENAME
               : kind == K_EMAIL    ? TR_IOC_EMAIL
               : kind == K_USER     ? TR_IOC_USER
               : kind == K_DIR      ? TR_IOC_PATH
                                    : TR_IOC_MD5;
    if (kind == K_HASH)
        type = pm->hash_len == 32 ? TR_IOC_MD5 : pm->hash_len == 40 ? TR_IOC_SHA1 : TR_IOC_SHA256;
    char buf[IOC_MAX_VALUE + 32];
    int k;
    const char *why;
    size_t len = tr_ioc_canon_value(type, rv->s, rv->len, buf, &k, &why);
    if (!len) {
        fail(p, TR_ERR_FORMAT, "offset %zu: '%.80s' for %s: %s", rv->at, rv->s, path, why);
        return false;
    }
    while (kind == K_DIR && len > 1 && (buf[len - 1] == '\\' || buf[len - 1] == '/'))
        len--; /* "c:\\temp\\" is the folder "c:\\temp" */
    out->s = tr_arena_strndup(p->arena, buf, len);
    out->len = (uint32_t)len;
    return out->s || nomem(p);
}

/* ---------------------------------------------------------------- comparisons */

static ioc_expr *parse_cmp_expr(pparser *p);

static ioc_expr *parse_comparison(pparser *p)
{
    size_t at = p->pos;
    if (kw(p, "EXISTS"))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: EXISTS is not supported", at);
    char path[256];
    if (!parse_path(p, path, sizeof path))
        return NULL;
    if (++p->ncmp > IOC_MAX_COMPARISONS)
        return fail(p, TR_ERR_LIMIT, "more than %u comparisons", IOC_MAX_COMPARISONS);
    ws(p);
    size_t opat = p->pos;
    if (kw(p, "NOT"))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: NOT is not supported", opat);
    int op;
    bool subset = false;
    ws(p);
    const char *rest = p->s + p->pos;
    size_t left = p->n - p->pos;
    if (left >= 2 && (memcmp(rest, "!=", 2) == 0 || memcmp(rest, "<>", 2) == 0))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: the != operator is not supported", opat);
    if (left >= 1 && (rest[0] == '<' || rest[0] == '>'))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: ordering operators (<, >, <=, >=) are not supported",
                    opat);
    if (left >= 2 && memcmp(rest, "==", 2) == 0) {
        p->pos += 2;
        op = OP_EQ;
    } else if (left >= 1 && rest[0] == '=') {
        p->pos++;
        op = OP_EQ;
    } else if (kw(p, "IN")) {
        op = OP_EQ;
    } else if (kw(p, "LIKE")) {
        op = OP_LIKE;
    } else if (kw(p, "MATCHES")) {
        op = OP_MATCHES;
    } else if (kw(p, "ISSUBSET")) {
        op = OP_EQ;
        subset = true;
    } else if (kw(p, "ISSUPERSET")) {
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: ISSUPERSET is not supported", opat);
    } else {
        return fail(p, TR_ERR_FORMAT, "offset %zu: expected an operator", opat);
    }
    /* values: one, or a parenthesised list (IN) */
    raw_value vals[1];
    raw_value *list = vals;
    size_t nv = 0;
    ws(p);
    if (p->pos < p->n && p->s[p->pos] == '(') {
        p->pos++;
        size_t cap = 8;
        list = tr_arena_alloc(p->arena, cap * sizeof *list);
        if (!list)
            return nomem(p);
        do {
            if (nv == cap) {
                if (cap >= IOC_MAX_IN_VALUES)
                    return fail(p, TR_ERR_LIMIT, "offset %zu: more than %u values in a list", p->pos,
                                IOC_MAX_IN_VALUES);
                raw_value *nl = tr_arena_alloc(p->arena, cap * 2 * sizeof *nl);
                if (!nl)
                    return nomem(p);
                memcpy(nl, list, nv * sizeof *nl);
                list = nl;
                cap *= 2;
            }
            if (!parse_literal(p, &list[nv]))
                return NULL;
            nv++;
        } while (punct(p, ','));
        if (!punct(p, ')'))
            return fail(p, TR_ERR_FORMAT, "offset %zu: expected ')' after a list of values", p->pos);
    } else {
        if (!parse_literal(p, &vals[0]))
            return NULL;
        nv = 1;
    }
    if (nv > 1 && op != OP_EQ)
        return fail(p, TR_ERR_FORMAT, "offset %zu: a list of values needs IN", opat);
    const path_map *pm = find_path(path);
    if (!pm)
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: object path %s is not supported", at, path);
    if (pm->kind == P_TRUE_IF_ADDR) {
        for (size_t i = 0; i < nv; i++)
            if (list[i].type != 's' || (strcmp(list[i].s, "ipv4-addr") != 0 && strcmp(list[i].s, "ipv6-addr") != 0))
                return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: %s other than ipv4-addr/ipv6-addr is not supported",
                            at, path);
        return new_expr(p, E_TRUE);
    }
    bool ip = pm->kind == K_IP || pm->kind == K_IP_SRC || pm->kind == K_IP_DST;
    if (subset && !ip)
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: ISSUBSET is supported on addresses only", opat);
    if ((op == OP_LIKE || op == OP_MATCHES) &&
        (ip || pm->kind == K_HASH || pm->kind == K_PORT_SRC || pm->kind == K_PORT_DST || pm->kind == K_PROTO))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: %s on %s is not supported", opat,
                    op == OP_LIKE ? "LIKE" : "MATCHES", path);
    ioc_cmp *c = tr_arena_alloc(p->arena, sizeof *c);
    ioc_val *vs = tr_arena_alloc(p->arena, nv * sizeof *vs);
    if (!c || !vs)
        return nomem(p);
    memset(c, 0, sizeof *c);
    c->kind = (uint8_t)pm->kind;
    c->op = (uint8_t)op;
    c->nvalues = (uint32_t)nv;
    c->values = vs;
    for (size_t i = 0; i < nv; i++) {
        if (op == OP_EQ) {
            if (!canon(p, pm, path, &list[i], &vs[i]))
                return NULL;
            continue;
        }
        if (list[i].type != 's')
            return fail(p, TR_ERR_FORMAT, "offset %zu: %s takes a string", list[i].at,
                        op == OP_LIKE ? "LIKE" : "MATCHES");
        vs[i].s = list[i].s;
        vs[i].len = (uint32_t)list[i].len;
        if (op == OP_MATCHES) {
            int ec;
            PCRE2_SIZE eo;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)list[i].s, list[i].len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                           &ec, &eo, NULL);
            if (!re) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(ec, msg, sizeof msg);
                return fail(p, TR_ERR_FORMAT, "offset %zu: MATCHES '%.80s': %s at offset %zu", list[i].at,
                            list[i].s, (const char *)msg, (size_t)eo);
            }
            pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort: without JIT it is interpreted */
            if (p->keep_re(p->ctx, re))
                return nomem(p);
            c->re = re;
        }
    }
    ioc_expr *e = new_expr(p, E_CMP);
    if (e)
        e->cmp = c;
    return e;
}

static ioc_expr *parse_cmp_prim(pparser *p)
{
    if (punct(p, '(')) {
        if (++p->depth > IOC_MAX_PATTERN_DEPTH)
            return fail(p, TR_ERR_LIMIT, "nesting deeper than %u", IOC_MAX_PATTERN_DEPTH);
        ioc_expr *e = parse_cmp_expr(p);
        p->depth--;
        if (!e)
            return NULL;
        if (!punct(p, ')'))
            return fail(p, TR_ERR_FORMAT, "offset %zu: expected ')'", p->pos);
        return e;
    }
    return parse_comparison(p);
}

static ioc_expr *parse_cmp_and(pparser *p)
{
    ioc_expr *a = parse_cmp_prim(p);
    while (a && kw(p, "AND")) {
        ioc_expr *b = parse_cmp_prim(p);
        a = b ? join(p, E_AND, a, b) : NULL;
    }
    return a;
}

static ioc_expr *parse_cmp_expr(pparser *p)
{
    ioc_expr *a = parse_cmp_and(p);
    while (a && kw(p, "OR")) {
        ioc_expr *b = parse_cmp_and(p);
        a = b ? join(p, E_OR, a, b) : NULL;
    }
    return a;
}

/* ---------------------------------------------------------------- observations */

static ioc_expr *parse_obs_expr(pparser *p);

static ioc_expr *parse_obs_qual(pparser *p)
{
    ioc_expr *e;
    size_t at = (ws(p), p->pos);
    if (punct(p, '[')) {
        e = parse_cmp_expr(p);
        if (!e)
            return NULL;
        if (!punct(p, ']'))
            return fail(p, TR_ERR_FORMAT, "offset %zu: expected ']'", p->pos);
    } else if (punct(p, '(')) {
        if (++p->depth > IOC_MAX_PATTERN_DEPTH)
            return fail(p, TR_ERR_LIMIT, "nesting deeper than %u", IOC_MAX_PATTERN_DEPTH);
        e = parse_obs_expr(p);
        p->depth--;
        if (!e)
            return NULL;
        if (!punct(p, ')'))
            return fail(p, TR_ERR_FORMAT, "offset %zu: expected ')'", p->pos);
    } else {
        return fail(p, TR_ERR_FORMAT, "offset %zu: expected '[' to open an observation", at);
    }
    ws(p);
    size_t q = p->pos;
    if (peek_kw(p, "WITHIN") || peek_kw(p, "REPEATS") || peek_kw(p, "START"))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: qualifiers (WITHIN, REPEATS, START/STOP) are not supported",
                    q);
    return e;
}

static ioc_expr *parse_obs_seq(pparser *p)
{
    ioc_expr *a = parse_obs_qual(p);
    ws(p);
    size_t at = p->pos;
    if (a && kw(p, "FOLLOWEDBY"))
        return fail(p, TR_ERR_UNSUPPORTED, "offset %zu: FOLLOWEDBY between observations is not supported", at);
    return a;
}

static ioc_expr *parse_obs_and(pparser *p)
{
    ioc_expr *a = parse_obs_seq(p);
    ws(p);
    size_t at = p->pos;
    if (a && kw(p, "AND"))
        return fail(p, TR_ERR_UNSUPPORTED,
                    "offset %zu: AND between observations is not supported (traccia matches single events)", at);
    return a;
}

static ioc_expr *parse_obs_expr(pparser *p)
{
    ioc_expr *a = parse_obs_and(p);
    while (a && kw(p, "OR")) {
        ioc_expr *b = parse_obs_and(p);
        a = b ? join(p, E_OR, a, b) : NULL;
    }
    return a;
}

int tr_ioc_pattern_parse(const char *text, size_t len, tr_arena *arena, ioc_expr **out, char *err, size_t errcap,
                      int (*keep_re)(void *ctx, void *re), void *ctx)
{
    *out = NULL;
    err[0] = '\0';
    if (len > IOC_MAX_PATTERN) {
        snprintf(err, errcap, "pattern longer than %u KiB", IOC_MAX_PATTERN >> 10);
        return TR_ERR_LIMIT;
    }
    pparser p = {.s = text, .n = len, .arena = arena, .err = err, .errcap = errcap, .keep_re = keep_re, .ctx = ctx};
    ioc_expr *e = parse_obs_expr(&p);
    if (e && p.rc == TR_OK) {
        ws(&p);
        if (p.pos < p.n)
            fail(&p, TR_ERR_FORMAT, "offset %zu: unexpected text after the pattern", p.pos);
    }
    if (p.rc == TR_OK && !e)
        fail(&p, TR_ERR_FORMAT, "empty pattern");
    if (p.rc != TR_OK)
        return p.rc;
    *out = e;
    return TR_OK;
}
