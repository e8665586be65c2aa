/*
 * rule.c — the Sigma rule compiler: one YAML document in, one validated,
 * compiled rule (sigma.h) out, or a diagnostic that names the file, the
 * line and the reason.
 *
 * It owns the meaning of values: Sigma strings with their wildcards and
 * escapes, every modifier of the v2.1 appendix (applied in the order the
 * rule gives them), placeholders, and the checks the specification asks of
 * a rule (required attributes, known modifiers, valid regular expressions
 * and networks, a condition over existing search identifiers).
 *
 * Memory: the compiled rule lives in the ruleset's arena; temporary value
 * expansions use the heap and are freed before returning. A rule that
 * fails leaves nothing behind: the arena is rolled back and its regular
 * expressions freed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/attack.h"
#include "correlation.h"
#include "ruleset.h"

#define MAX_PATTERNS 65535 /* patterns one item may expand to (the vulnerable-driver rule lists thousands of hashes) */
#define ERR_SIZE 512

enum { CH_STAR = 0x100, CH_ONE = 0x101 };

/* ---------------------------------------------------------------- value sequences */

typedef struct seq {
    uint16_t *v;
    size_t n, cap;
} seq;

typedef struct seqs {
    seq *s;
    size_t n, cap;
} seqs;

static int seq_push(seq *q, uint16_t c)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 32;
        uint16_t *v = tr_realloc(q->v, cap * sizeof *v);
        if (!v)
            return -1;
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = c;
    return 0;
}

static int seqs_add(seqs *l, seq q)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        seq *s = tr_realloc(l->s, cap * sizeof *s);
        if (!s) {
            tr_free(q.v);
            return -1;
        }
        l->s = s;
        l->cap = cap;
    }
    l->s[l->n++] = q;
    return 0;
}

static void seqs_free(seqs *l)
{
    for (size_t i = 0; i < l->n; i++)
        tr_free(l->s[i].v);
    tr_free(l->s);
    memset(l, 0, sizeof *l);
}

/* A Sigma string: '*' and '?' are wildcards; a backslash escapes a
 * wildcard or a backslash, and is itself otherwise. */
static int parse_sigma_string(const char *s, size_t len, seq *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        uint16_t ch = c;
        if (c == '\\' && i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            ch = (unsigned char)s[++i];
        } else if (c == '*') {
            ch = CH_STAR;
        } else if (c == '?') {
            ch = CH_ONE;
        }
        if (seq_push(out, ch))
            return -1;
    }
    return 0;
}

static int is_word_byte(uint16_t c)
{
    return c < 0x100 && (isalnum(c) || c == '_' || c >= 0x80);
}

/* windash: every '-' or '/' that starts a word (after a non-word character
 * or at the start, before a word character) becomes each of - / – — ―. */
static int windash(const seq *in, seqs *out)
{
    size_t pos[8], np = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint16_t c = in->v[i];
        if (c != '-' && c != '/')
            continue;
        int prev_word = i > 0 && is_word_byte(in->v[i - 1]);
        int next_word = i + 1 < in->n && is_word_byte(in->v[i + 1]);
        if (!prev_word && next_word) {
            if (np == 5)
                return -2;
            pos[np++] = i;
        }
    }
    static const char *const dashes[5] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
    size_t total = 1;
    for (size_t k = 0; k < np; k++)
        total *= 5;
    for (size_t combo = 0; combo < total; combo++) {
        seq q = {0};
        size_t c = combo, k = 0;
        for (size_t i = 0; i < in->n; i++) {
            if (k < np && pos[k] == i) {
                const char *d = dashes[c % 5];
                c /= 5;
                k++;
                for (; *d; d++)
                    if (seq_push(&q, (unsigned char)*d)) {
                        tr_free(q.v);
                        return -1;
                    }
                continue;
            }
            if (seq_push(&q, in->v[i])) {
                tr_free(q.v);
                return -1;
            }
        }
        if (seqs_add(out, q))
            return -1;
    }
    return 0;
}

/* UTF-16 of the literal characters; wildcards stay wildcards. */
static int utf16(const seq *in, seq *out, int big_endian, int bom)
{
    memset(out, 0, sizeof *out);
    if (bom) {
        if (seq_push(out, big_endian ? 0xFE : 0xFF) || seq_push(out, big_endian ? 0xFF : 0xFE))
            return -1;
    }
    for (size_t i = 0; i < in->n;) {
        uint16_t c = in->v[i];
        if (c >= 0x100) {
            if (seq_push(out, c))
                return -1;
            i++;
            continue;
        }
        /* decode one UTF-8 character from literal bytes */
        uint32_t cp = c;
        size_t need = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (need) {
            cp = c & (0x3Fu >> need);
            for (size_t k = 1; k <= need; k++) {
                if (i + k >= in->n || in->v[i + k] >= 0x100 || (in->v[i + k] & 0xC0) != 0x80) {
                    need = 0;
                    cp = c;
                    break;
                }
                cp = cp << 6 | (in->v[i + k] & 0x3Fu);
            }
        }
        i += need + 1;
        uint16_t units[2];
        size_t nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = (uint16_t)(0xD800 | (cp >> 10));
            units[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
            nu = 2;
        } else {
            units[0] = (uint16_t)cp;
        }
        for (size_t k = 0; k < nu; k++) {
            uint16_t lo = units[k] & 0xFF, hi = units[k] >> 8;
            if (seq_push(out, big_endian ? hi : lo) || seq_push(out, big_endian ? lo : hi))
                return -1;
        }
    }
    return 0;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64_bytes(const uint8_t *b, size_t n, seq *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n)
            v |= b[i + 2];
        char q[4] = {b64chars[v >> 18 & 63], b64chars[v >> 12 & 63],
                     i + 1 < n ? b64chars[v >> 6 & 63] : '=', i + 2 < n ? b64chars[v & 63] : '='};
        for (int k = 0; k < 4; k++)
            if (seq_push(out, (unsigned char)q[k]))
                return -1;
    }
    return 0;
}

/* Literal bytes of a sequence; -2 if it holds wildcards. */
static int seq_bytes(const seq *in, uint8_t **out, size_t extra_front)
{
    uint8_t *b = tr_malloc(in->n + extra_front + 1);
    if (!b)
        return -1;
    memset(b, ' ', extra_front);
    for (size_t i = 0; i < in->n; i++) {
        if (in->v[i] >= 0x100) {
            tr_free(b);
            return -2;
        }
        b[extra_front + i] = (uint8_t)in->v[i];
    }
    *out = b;
    return 0;
}

static int base64(const seq *in, seqs *out, int offsets)
{
    static const size_t start[3] = {0, 2, 3};
    for (size_t shift = 0; shift < (offsets ? 3u : 1u); shift++) {
        uint8_t *b;
        int rc = seq_bytes(in, &b, shift);
        if (rc)
            return rc;
        seq enc;
        if (base64_bytes(b, in->n + shift, &enc)) {
            tr_free(b);
            return -1;
        }
        tr_free(b);
        if (offsets) {
            /* the characters at either end also encode neighbouring bytes: drop them */
            size_t total = in->n + shift, end = enc.n;
            if (total % 3 == 1)
                end = enc.n >= 3 ? enc.n - 3 : 0;
            else if (total % 3 == 2)
                end = enc.n >= 2 ? enc.n - 2 : 0;
            size_t s0 = start[shift] < end ? start[shift] : end;
            memmove(enc.v, enc.v + s0, (end - s0) * sizeof *enc.v);
            enc.n = end - s0;
        }
        if (seqs_add(out, enc))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- modifiers */

enum {
    T_CONTAINS = 1, T_STARTS, T_ENDS, T_WINDASH, T_BASE64, T_BASE64OFF, T_UTF16LE, T_UTF16BE, T_UTF16
};

typedef struct mods {
    unsigned all, cased, neq, re, re_i, re_m, re_s, cidr, expand, fieldref, exists;
    int cmp;   /* -1 none */
    int tpart; /* -1 none */
    int transforms[16];
    size_t ntransforms;
    int has_string_mod; /* contains & co., windash, encodings */
} mods;

static int parse_mods(const char *key, size_t klen, size_t start, mods *m, char *err)
{
    memset(m, 0, sizeof *m);
    m->cmp = m->tpart = -1;
    size_t i = start;
    while (i < klen) {
        size_t j = i;
        while (j < klen && key[j] != '|')
            j++;
        size_t n = j - i;
        const char *w = key + i;
#define IS(s) (n == sizeof(s) - 1 && memcmp(w, s, n) == 0)
        int t = 0;
        if (n == 0) {
            snprintf(err, ERR_SIZE, "empty modifier in '%.*s'", (int)klen, key);
            return -1;
        } else if (IS("contains")) t = T_CONTAINS;
        else if (IS("startswith")) t = T_STARTS;
        else if (IS("endswith")) t = T_ENDS;
        else if (IS("windash")) t = T_WINDASH;
        else if (IS("base64")) t = T_BASE64;
        else if (IS("base64offset")) t = T_BASE64OFF;
        else if (IS("utf16le") || IS("wide")) t = T_UTF16LE;
        else if (IS("utf16be")) t = T_UTF16BE;
        else if (IS("utf16")) t = T_UTF16;
        else if (IS("all")) m->all = 1;
        else if (IS("cased")) m->cased = 1;
        else if (IS("neq")) m->neq = 1;
        else if (IS("re")) m->re = 1;
        else if (IS("i") && m->re) m->re_i = 1;
        else if (IS("m") && m->re) m->re_m = 1;
        else if (IS("s") && m->re) m->re_s = 1;
        else if (IS("cidr")) m->cidr = 1;
        else if (IS("expand")) m->expand = 1;
        else if (IS("fieldref")) m->fieldref = 1;
        else if (IS("exists")) m->exists = 1;
        else if (IS("lt")) m->cmp = TR_CMP_LT;
        else if (IS("lte")) m->cmp = TR_CMP_LTE;
        else if (IS("gt")) m->cmp = TR_CMP_GT;
        else if (IS("gte")) m->cmp = TR_CMP_GTE;
        else if (IS("minute")) m->tpart = TR_T_MINUTE;
        else if (IS("hour")) m->tpart = TR_T_HOUR;
        else if (IS("day")) m->tpart = TR_T_DAY;
        else if (IS("week")) m->tpart = TR_T_WEEK;
        else if (IS("month")) m->tpart = TR_T_MONTH;
        else if (IS("year")) m->tpart = TR_T_YEAR;
        else if (IS("i") || IS("m") || IS("s")) {
            snprintf(err, ERR_SIZE, "modifier '%.*s' belongs after 're'", (int)n, w);
            return -1;
        } else {
            snprintf(err, ERR_SIZE, "unknown modifier '%.*s'", (int)n, w);
            return -1;
        }
#undef IS
        if (t) {
            if (m->ntransforms == 16) {
                snprintf(err, ERR_SIZE, "too many modifiers");
                return -1;
            }
            m->transforms[m->ntransforms++] = t;
            m->has_string_mod = 1;
        }
        i = j + 1;
    }
    /* combinations the appendix rules out: a type modifier with string transformations */
    const char *clash = NULL;
    if (m->re && (m->has_string_mod || m->cidr || m->cmp >= 0 || m->tpart >= 0))
        clash = "'re' cannot be combined with string, numeric or network modifiers";
    else if (m->cidr && (m->has_string_mod || m->cmp >= 0 || m->tpart >= 0))
        clash = "'cidr' cannot be combined with string or numeric modifiers";
    else if ((m->cmp >= 0 || m->tpart >= 0) && m->has_string_mod)
        clash = "numeric and time modifiers cannot be combined with string modifiers";
    else if (m->exists && (m->has_string_mod || m->re || m->cidr || m->cmp >= 0 || m->neq || m->all))
        clash = "'exists' takes no other modifier";
    else if (m->fieldref && (m->re || m->cidr || m->cmp >= 0 || m->tpart >= 0))
        clash = "'fieldref' combines only with contains, startswith, endswith, cased and neq";
    if (clash) {
        snprintf(err, ERR_SIZE, "%s ('%.*s')", clash, (int)klen, key);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- patterns */

typedef struct pbuf {
    tr_pattern *p;
    size_t n, cap;
} pbuf;

static tr_pattern *pbuf_add(pbuf *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        tr_pattern *p = tr_realloc(b->p, cap * sizeof *p);
        if (!p)
            return NULL;
        b->p = p;
        b->cap = cap;
    }
    tr_pattern *p = &b->p[b->n++];
    memset(p, 0, sizeof *p);
    return p;
}

/* Whether code point c may have another case: the blocks of the scripts
 * with letter case (Latin, Greek, Coptic, Cyrillic, Armenian, Georgian,
 * Glagolitic, Deseret and others, the fullwidth forms, the letterlike
 * symbols that fold to letters). A superset is harmless: it only sends a
 * value down the slower Unicode path. */
static bool may_have_case(uint32_t c)
{
    return (c >= 0xB5 && c <= 0x24F) || (c >= 0x370 && c <= 0x58F) || (c >= 0x10A0 && c <= 0x10FF) ||
           (c >= 0x13A0 && c <= 0x13FF) || (c >= 0x1C80 && c <= 0x1CBF) || (c >= 0x1E00 && c <= 0x1FFF) ||
           (c >= 0x2100 && c <= 0x218F) || (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x2C00 && c <= 0x2D2F) ||
           (c >= 0xA640 && c <= 0xA69F) || (c >= 0xA720 && c <= 0xA7FF) || (c >= 0xAB70 && c <= 0xABBF) ||
           (c >= 0xFF21 && c <= 0xFF5A) || (c >= 0x10400 && c <= 0x104FF) || (c >= 0x10C80 && c <= 0x10CFF) ||
           (c >= 0x118A0 && c <= 0x118DF) || (c >= 0x1E900 && c <= 0x1E95F);
}

/* Whether the literal bytes of q hold a well-formed UTF-8 character that
 * may have another case: ASCII folding alone would miss its other case. */
static bool seq_needs_unicode_case(const seq *q)
{
    for (size_t i = 0; i < q->n; i++) {
        uint16_t b = q->v[i];
        if (b < 0xC2 || b > 0xF4)
            continue;
        size_t need = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        if (i + need >= q->n)
            continue;
        uint32_t c = b & (b < 0xE0 ? 0x1Fu : b < 0xF0 ? 0x0Fu : 0x07u);
        size_t k = 1;
        for (; k <= need; k++) {
            uint16_t x = q->v[i + k];
            if (x < 0x80 || x > 0xBF)
                break;
            c = c << 6 | (x & 0x3Fu);
        }
        if (k > need && may_have_case(c))
            return true;
    }
    return false;
}

static int keep_regex(tr_ruleset *rs, pcre2_code *re);

/* A value that ignores case and holds letters beyond ASCII: compiled as a
 * regular expression, since PCRE2 in UTF mode folds every case Unicode
 * defines (`contraseña` finds `CONTRASEÑA`, `а` finds `А`), which the
 * byte-wise folding of the plain patterns cannot. The literal is escaped;
 * `*` is `.*` and `?` one character, anchored as the pattern is. The
 * prefilter has no literal of a regular expression, so the rule is never
 * skipped for want of one. */
static int unicode_caseless_pattern(tr_ruleset *rs, const seq *q, tr_pattern *p)
{
    size_t n = q->n;
    int lead = n && q->v[0] == CH_STAR, trail = n > 1 && q->v[n - 1] == CH_STAR;
    char *rx = tr_malloc(n * 4 + 8);
    if (!rx)
        return -1;
    size_t o = 0;
    if (!lead)
        o += (size_t)sprintf(rx + o, "\\A");
    for (size_t i = lead; i < (trail ? n - 1 : n); i++) {
        uint16_t c = q->v[i];
        if (c == CH_STAR) {
            memcpy(rx + o, ".*", 2), o += 2;
        } else if (c == CH_ONE) {
            rx[o++] = '.';
        } else if (c == 0) {
            memcpy(rx + o, "\\x00", 4), o += 4;
        } else {
            if (c < 0x80 && !isalnum(c))
                rx[o++] = '\\';
            rx[o++] = (char)c;
        }
    }
    if (!trail)
        o += (size_t)sprintf(rx + o, "\\z");
    int code;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)rx, o, opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!re)
        re = pcre2_compile((PCRE2_SPTR)rx, o, opts, &code, &off, NULL); /* bytes that are not UTF-8 */
    if (!re) {
        tr_free(rx);
        return code == PCRE2_ERROR_NOMEMORY ? -1 : -2;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    if (keep_regex(rs, re) != TR_OK) {
        tr_free(rx);
        return -1;
    }
    p->kind = TR_P_REGEX;
    p->re = re;
    p->cased = 0;
    p->text = tr_arena_strndup(&rs->arena, rx, o);
    p->len = (uint32_t)o;
    tr_free(rx);
    return p->text ? 0 : -1;
}

/* Turns a sequence into the cheapest pattern that matches it. */
static int seq_to_pattern(tr_ruleset *rs, const seq *q, int cased, tr_pattern *p)
{
    if (!cased && seq_needs_unicode_case(q)) {
        int rc = unicode_caseless_pattern(rs, q, p);
        if (rc != -2)
            return rc;
        /* a literal PCRE2 will not take (it should take any): bytes, ASCII case */
    }
    size_t n = q->n, lo = 0, hi = n;
    int lead = n && q->v[0] == CH_STAR, trail = n > 1 && q->v[n - 1] == CH_STAR;
    if (lead)
        lo = 1;
    if (trail)
        hi = n - 1;
    int inner_wild = 0;
    for (size_t i = lo; i < hi; i++)
        if (q->v[i] >= 0x100)
            inner_wild = 1;
    p->cased = (uint8_t)cased;
    if (n == 1 && lead) { /* '*' alone: any value, including empty */
        p->kind = TR_P_GLOB;
    } else if (!inner_wild) {
        p->kind = lead && trail ? TR_P_CONTAINS : lead ? TR_P_ENDS : trail ? TR_P_STARTS : TR_P_EXACT;
    } else {
        p->kind = TR_P_GLOB;
    }
    if (p->kind != TR_P_GLOB) {
        char *t = tr_arena_alloc(&rs->arena, hi - lo + 1);
        if (!t)
            return -1;
        for (size_t i = lo; i < hi; i++)
            t[i - lo] = (char)(cased ? q->v[i] : tolower(q->v[i]));
        t[hi - lo] = '\0';
        p->text = t;
        p->len = (uint32_t)(hi - lo);
        return 0;
    }
    /* glob ops: literal runs of at most 65535 bytes */
    char *ops = tr_arena_alloc(&rs->arena, n * 4 + 4);
    if (!ops)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (q->v[i] == CH_STAR) {
            if (!(o && ops[o - 1] == TR_G_STAR))
                ops[o++] = TR_G_STAR;
            i++;
        } else if (q->v[i] == CH_ONE) {
            ops[o++] = TR_G_ONE;
            i++;
        } else {
            size_t start = i;
            while (i < n && q->v[i] < 0x100 && i - start < 65535)
                i++;
            size_t len = i - start;
            ops[o++] = TR_G_LIT;
            ops[o++] = (char)(len & 0xFF);
            ops[o++] = (char)(len >> 8);
            for (size_t k = start; k < i; k++)
                ops[o++] = (char)(cased ? q->v[k] : tolower(q->v[k]));
        }
    }
    ops[o++] = TR_G_END;
    p->text = ops;
    p->len = (uint32_t)o;
    return 0;
}

static const tr_placeholder *find_placeholder(const tr_ruleset *rs, const char *name, size_t len)
{
    for (size_t i = 0; i < rs->nplaceholders; i++)
        if (strlen(rs->placeholders[i].name) == len && memcmp(rs->placeholders[i].name, name, len) == 0)
            return &rs->placeholders[i];
    return NULL;
}

/* Expands %placeholders% in raw text (escaped \% is a plain percent) into
 * raw strings; reports the first unset placeholder in *missing. */
static int expand_placeholders(const tr_ruleset *rs, const char *s, size_t len, char ***out,
                               size_t *nout, char *missing, size_t missing_size)
{
    char **cur = tr_malloc(sizeof *cur);
    if (!cur)
        return -1;
    cur[0] = tr_strndup("", 0);
    size_t ncur = 1;
    if (!cur[0]) {
        tr_free(cur);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *piece;
        size_t plen;
        const tr_placeholder *ph = NULL;
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '%') {
            piece = "%", plen = 1, i += 2;
        } else if (s[i] == '%') {
            const char *end = memchr(s + i + 1, '%', len - i - 1);
            if (!end) {
                piece = s + i, plen = 1, i++;
            } else {
                size_t nlen = (size_t)(end - s) - i - 1;
                ph = find_placeholder(rs, s + i + 1, nlen);
                if (!ph || ph->nvalues == 0) {
                    snprintf(missing, missing_size, "%.*s", (int)nlen, s + i + 1);
                    rc = -2;
                    break;
                }
                piece = NULL, plen = 0;
                i = (size_t)(end - s) + 1;
            }
        } else {
            piece = s + i, plen = 1, i++;
        }
        size_t nvals = ph ? ph->nvalues : 1;
        if (ncur * nvals > MAX_PATTERNS) {
            rc = -3;
            break;
        }
        char **next = tr_malloc(ncur * nvals * sizeof *next);
        if (!next) {
            rc = -1;
            break;
        }
        size_t nn = 0;
        for (size_t a = 0; a < ncur && rc == 0; a++) {
            for (size_t b = 0; b < nvals; b++) {
                const char *add = ph ? ph->values[b] : piece;
                size_t alen = ph ? strlen(add) : plen, clen = strlen(cur[a]);
                char *x = tr_malloc(clen + alen + 1);
                if (!x) {
                    rc = -1;
                    break;
                }
                memcpy(x, cur[a], clen);
                memcpy(x + clen, add, alen);
                x[clen + alen] = '\0';
                next[nn++] = x;
            }
        }
        for (size_t a = 0; a < ncur; a++)
            tr_free(cur[a]);
        tr_free(cur);
        cur = next;
        ncur = nn;
    }
    if (rc) {
        for (size_t a = 0; a < ncur; a++)
            tr_free(cur[a]);
        tr_free(cur);
        return rc;
    }
    *out = cur;
    *nout = ncur;
    return 0;
}

typedef struct cctx {
    tr_ruleset *rs;
    tr_rule *r;
    char *err;
    uint32_t *err_line;
    const char *why_not; /* set when the rule loads but cannot run */
    const char *why_not_item; /* what it concerns (the placeholder's name) */
    const char *risk;    /* the first regular expression that risks catastrophic backtracking */
} cctx;

static int cfail(cctx *c, const tr_ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfail(cctx *c, const tr_ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, ERR_SIZE, fmt, ap);
    va_end(ap);
    if (n && c->err_line)
        *c->err_line = n->line;
    return TR_ERR_FORMAT;
}

/* The ruleset keeps (and frees) every compiled expression; frees re when
 * it cannot. */
static int keep_regex(tr_ruleset *rs, pcre2_code *re)
{
    if (rs->nregexes == rs->capregexes) {
        size_t cap = rs->capregexes ? rs->capregexes * 2 : 64;
        pcre2_code **l = tr_realloc(rs->regexes, cap * sizeof *l);
        if (!l) {
            pcre2_code_free(re);
            return TR_ERR_NOMEM;
        }
        rs->regexes = l;
        rs->capregexes = cap;
    }
    rs->regexes[rs->nregexes++] = re;
    return TR_OK;
}

static int add_regex(cctx *c, const tr_ynode *v, const mods *m, tr_pattern *p)
{
    uint32_t opts = 0;
    if (m->re_i)
        opts |= PCRE2_CASELESS;
    if (m->re_m)
        opts |= PCRE2_MULTILINE;
    if (m->re_s)
        opts |= PCRE2_DOTALL;
    int code;
    PCRE2_SIZE off;
    /* characters, not bytes: event text is UTF-8 (invalid input is repaired
     * by the readers), so '.' and classes take whole characters; a pattern
     * that is not valid UTF-8 itself is compiled byte-wise */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->str, v->len, opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                   &code, &off, NULL);
    if (!re && code >= PCRE2_ERROR_UTF8_ERR21 && code <= PCRE2_ERROR_UTF8_ERR1)
        re = pcre2_compile((PCRE2_SPTR)v->str, v->len, opts, &code, &off, NULL);
    if (!re) {
        char msg[256];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
        return cfail(c, v, "regular expression '%.*s': %s at offset %zu", (int)(v->len > 120 ? 120 : v->len),
                     v->str, msg, (size_t)off);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT it still runs, interpreted */
    const char *risk = c->risk ? NULL : tr_regex_risk(v->str, v->len);
    if (risk) {
        size_t n = v->len + strlen(risk) + 40;
        char *w = tr_arena_alloc(&c->rs->arena, n);
        if (!w) {
            pcre2_code_free(re);
            return TR_ERR_NOMEM;
        }
        snprintf(w, n, "regular expression '%.*s': %s", (int)v->len, v->str, risk);
        c->risk = w;
    }
    tr_ruleset *rs = c->rs;
    if (keep_regex(rs, re) != TR_OK)
        return TR_ERR_NOMEM;
    p->kind = TR_P_REGEX;
    p->re = re;
    p->text = tr_arena_strndup(&rs->arena, v->str, v->len);
    if (!p->text)
        return TR_ERR_NOMEM;
    p->len = (uint32_t)v->len;
    return TR_OK;
}

static int parse_cidr(cctx *c, const tr_ynode *v, tr_pattern *p)
{
    char buf[80];
    const char *slash = memchr(v->str, '/', v->len);
    size_t alen = slash ? (size_t)(slash - v->str) : v->len;
    if (alen == 0 || alen >= sizeof buf)
        return cfail(c, v, "'%.*s' is not a network (cidr)", (int)(v->len > 80 ? 80 : v->len), v->str);
    memcpy(buf, v->str, alen);
    buf[alen] = '\0';
    int fam = memchr(buf, ':', alen) ? 6 : 4;
    if (inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, p->addr) != 1)
        return cfail(c, v, "'%.*s' is not a network (cidr)", (int)(v->len > 80 ? 80 : v->len), v->str);
    long bits = fam == 4 ? 32 : 128;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end != v->str + v->len || b < 0 || b > bits || slash + 1 == end)
            return cfail(c, v, "'%.*s': bad prefix length", (int)(v->len > 80 ? 80 : v->len), v->str);
        bits = b;
    }
    p->kind = TR_P_CIDR;
    p->family = (uint8_t)fam;
    p->bits = (uint8_t)bits;
    return TR_OK;
}

/* Applies the string transformations in order to every sequence. */
static int transform(cctx *c, const tr_ynode *v, const mods *m, seqs *cur)
{
    for (size_t t = 0; t < m->ntransforms; t++) {
        seqs next = {0};
        for (size_t i = 0; i < cur->n; i++) {
            const seq *q = &cur->s[i];
            int rc = 0;
            seq o = {0};
            switch (m->transforms[t]) {
            case T_CONTAINS:
            case T_STARTS:
            case T_ENDS: {
                int want_lead = m->transforms[t] != T_STARTS, want_trail = m->transforms[t] != T_ENDS;
                if (want_lead && !(q->n && q->v[0] == CH_STAR))
                    rc = seq_push(&o, CH_STAR);
                for (size_t k = 0; k < q->n && !rc; k++)
                    rc = seq_push(&o, q->v[k]);
                if (!rc && want_trail && !(q->n && q->v[q->n - 1] == CH_STAR && o.n > 1))
                    rc = seq_push(&o, CH_STAR);
                if (!rc)
                    rc = seqs_add(&next, o);
                else
                    tr_free(o.v);
                break;
            }
            case T_WINDASH:
                rc = windash(q, &next);
                if (rc == -2) {
                    seqs_free(&next);
                    return cfail(c, v, "windash: more than 5 dashes in one value");
                }
                break;
            case T_BASE64:
            case T_BASE64OFF:
                rc = base64(q, &next, m->transforms[t] == T_BASE64OFF);
                if (rc == -2) {
                    seqs_free(&next);
                    return cfail(c, v, "base64 cannot encode a value with wildcards ('%.*s')",
                                 (int)(v->len > 80 ? 80 : v->len), v->str);
                }
                break;
            case T_UTF16LE:
            case T_UTF16BE:
            case T_UTF16:
                rc = utf16(q, &o, m->transforms[t] == T_UTF16BE, m->transforms[t] == T_UTF16);
                if (!rc)
                    rc = seqs_add(&next, o);
                else
                    tr_free(o.v);
                break;
            default:
                break;
            }
            if (rc) {
                seqs_free(&next);
                return TR_ERR_NOMEM;
            }
            if (next.n > MAX_PATTERNS) {
                seqs_free(&next);
                return cfail(c, v, "the value expands to more than %d patterns", MAX_PATTERNS);
            }
        }
        seqs_free(cur);
        *cur = next;
    }
    return TR_OK;
}

/* One YAML value of a field into patterns (appended to b, all in `group`). */
static int compile_value(cctx *c, const tr_ynode *v, const mods *m, int keyword, uint16_t group, pbuf *b)
{
    if (v->kind != TR_Y_SCALAR)
        return cfail(c, v, "a value must be a scalar here, not a %s", v->kind == TR_Y_MAP ? "map" : "list");
    if (m->re) {
        tr_pattern *p = pbuf_add(b);
        if (!p)
            return TR_ERR_NOMEM;
        p->group = group;
        return add_regex(c, v, m, p);
    }
    if (m->cidr) {
        tr_pattern *p = pbuf_add(b);
        if (!p)
            return TR_ERR_NOMEM;
        p->group = group;
        return parse_cidr(c, v, p);
    }
    if (m->cmp >= 0 || m->tpart >= 0) {
        double d;
        if (!tr_yscalar_number(v, &d)) {
            /* quoted numbers are numbers too */
            char *end;
            d = strtod(v->str, &end);
            if (v->len == 0 || end != v->str + v->len)
                return cfail(c, v, "'%.*s' is not a number", (int)(v->len > 80 ? 80 : v->len), v->str);
        }
        tr_pattern *p = pbuf_add(b);
        if (!p)
            return TR_ERR_NOMEM;
        p->group = group;
        p->kind = m->tpart >= 0 ? TR_P_TIME : TR_P_NUM;
        p->tpart = (uint8_t)(m->tpart >= 0 ? m->tpart : 0);
        p->cmp = (uint8_t)(m->cmp >= 0 ? m->cmp : TR_CMP_EQ);
        p->num = d;
        return TR_OK;
    }
    /* strings */
    char **raw = NULL;
    size_t nraw = 0;
    char *one[1];
    char missing[128];
    if (m->expand) {
        int rc = expand_placeholders(c->rs, v->str, v->len, &raw, &nraw, missing, sizeof missing);
        if (rc == -1)
            return TR_ERR_NOMEM;
        if (rc == -3)
            return cfail(c, v, "placeholders expand to more than %d values", MAX_PATTERNS);
        if (rc == -2) {
            if (!c->why_not) {
                char *w = tr_arena_alloc(&c->rs->arena, 200);
                if (!w)
                    return TR_ERR_NOMEM;
                snprintf(w, 200, "placeholder %%%s%% has no values (give them with --placeholders FILE)",
                         missing);
                c->why_not = w;
                c->why_not_item = tr_arena_strndup(&c->rs->arena, missing, strlen(missing));
            }
            tr_pattern *p = pbuf_add(b);
            if (!p)
                return TR_ERR_NOMEM;
            p->kind = TR_P_NEVER;
            p->group = group;
            return TR_OK;
        }
    } else {
        one[0] = (char *)v->str;
        raw = one;
        nraw = 1;
    }
    seqs cur = {0};
    int rc = TR_OK;
    for (size_t i = 0; i < nraw && rc == TR_OK; i++) {
        seq q = {0};
        if (parse_sigma_string(raw[i], m->expand ? strlen(raw[i]) : v->len, &q)) {
            tr_free(q.v); /* what was parsed before memory ran out */
            rc = TR_ERR_NOMEM;
        } else if (seqs_add(&cur, q)) { /* it frees q */
            rc = TR_ERR_NOMEM;
        }
    }
    if (raw != one) {
        for (size_t i = 0; i < nraw; i++)
            tr_free(raw[i]);
        tr_free(raw);
    }
    if (rc == TR_OK && keyword) {
        /* keywords search the whole event: a value is found anywhere in a field,
         * unless the rule anchors it itself */
        int anchored = 0;
        for (size_t t = 0; t < m->ntransforms; t++)
            if (m->transforms[t] == T_CONTAINS || m->transforms[t] == T_STARTS || m->transforms[t] == T_ENDS)
                anchored = 1;
        if (!anchored) {
            mods km = *m;
            if (km.ntransforms < 16)
                km.transforms[km.ntransforms++] = T_CONTAINS;
            rc = transform(c, v, &km, &cur);
        } else {
            rc = transform(c, v, m, &cur);
        }
    } else if (rc == TR_OK) {
        rc = transform(c, v, m, &cur);
    }
    for (size_t i = 0; i < cur.n && rc == TR_OK; i++) {
        if (b->n >= MAX_PATTERNS) {
            rc = cfail(c, v, "the item expands to more than %d patterns", MAX_PATTERNS);
            break;
        }
        tr_pattern *p = pbuf_add(b);
        if (!p || seq_to_pattern(c->rs, &cur.s[i], (int)m->cased, p))
            rc = TR_ERR_NOMEM;
        else
            p->group = group;
    }
    seqs_free(&cur);
    return rc;
}

int32_t tr_rule_field_index(tr_ruleset *rs, tr_rule *r, const char *name, size_t len)
{
    for (uint32_t i = 0; i < r->nfields; i++)
        if (r->fields[i].len == len && strncasecmp(r->fields[i].name, name, len) == 0)
            return (int32_t)i;
    /* arena arrays grow by copying: rules have few fields */
    tr_fname *f = tr_arena_alloc(&rs->arena, (r->nfields + 1) * sizeof *f);
    char *copy = tr_arena_strndup(&rs->arena, name, len);
    if (!f || !copy)
        return -1;
    if (r->nfields)
        memcpy(f, r->fields, r->nfields * sizeof *f);
    f[r->nfields] = (tr_fname){copy, (uint32_t)len, tr_name_hash(copy, len)};
    r->fields = f;
    return (int32_t)r->nfields++;
}

/* One `key: value` of a search map: a field with modifiers (or '|mods'
 * alone, a keyword search) and its value or values. */
static int compile_item(cctx *c, const tr_ynode *key, const tr_ynode *val, tr_item *it)
{
    memset(it, 0, sizeof *it);
    const char *k = key->str;
    size_t klen = key->len;
    const char *bar = memchr(k, '|', klen);
    size_t flen = bar ? (size_t)(bar - k) : klen;
    mods m;
    if (parse_mods(k, klen, bar ? flen + 1 : klen, &m, c->err)) {
        *c->err_line = key->line;
        return TR_ERR_FORMAT;
    }
    int keyword = flen == 0;
    if (keyword && (m.exists || m.fieldref))
        return cfail(c, key, "'%.*s': exists and fieldref need a field name", (int)klen, k);
    it->field = -1;
    if (!keyword) {
        it->field = tr_rule_field_index(c->rs, c->r, k, flen);
        if (it->field < 0)
            return TR_ERR_NOMEM;
    }
    it->all = (uint8_t)m.all;
    it->neq = (uint8_t)m.neq;
    size_t nvals = val && val->kind == TR_Y_SEQ ? val->count : 1;
    /* a single value under |all is discouraged by the appendix, and harmless here */
    if (m.exists) {
        int b = tr_yscalar_bool(val);
        if (b < 0 && val && val->kind == TR_Y_SCALAR)
            b = tr_yscalar_eq(val, "true") ? 1 : tr_yscalar_eq(val, "false") ? 0 : -1;
        if (b < 0)
            return cfail(c, val ? val : key, "'exists' takes true or false");
        it->kind = TR_I_EXISTS;
        it->want = (uint8_t)b;
        return TR_OK;
    }
    if (!val || tr_yscalar_is_null(val)) {
        if (m.has_string_mod || m.re || m.cidr || m.cmp >= 0 || m.fieldref || m.expand)
            return cfail(c, key, "'%.*s': null cannot take modifiers", (int)klen, k);
        it->kind = TR_I_NULL; /* with neq: the field exists and holds a value */
        return TR_OK;
    }
    if (m.fieldref) {
        if (val->kind != TR_Y_SCALAR)
            return cfail(c, val, "'fieldref' takes one field name");
        it->kind = TR_I_FIELDREF;
        it->cased = (uint8_t)m.cased;
        it->ref_mode = TR_P_EXACT;
        for (size_t t = 0; t < m.ntransforms; t++) {
            int tt = m.transforms[t];
            if (tt == T_CONTAINS)
                it->ref_mode = TR_P_CONTAINS;
            else if (tt == T_STARTS)
                it->ref_mode = TR_P_STARTS;
            else if (tt == T_ENDS)
                it->ref_mode = TR_P_ENDS;
            else
                return cfail(c, key, "'fieldref' combines only with contains, startswith, endswith");
        }
        it->ref_field = tr_rule_field_index(c->rs, c->r, val->str, val->len);
        return it->ref_field < 0 ? TR_ERR_NOMEM : TR_OK;
    }
    if (nvals > 65535)
        return cfail(c, val, "too many values");
    if (m.all && nvals < 2 && !m.expand) /* a placeholder may stand for several */
        return cfail(c, val, "'all' on a single value: the specification allows it on a list only");
    pbuf b = {0};
    int rc = TR_OK;
    for (size_t i = 0; i < nvals && rc == TR_OK; i++) {
        const tr_ynode *v = val->kind == TR_Y_SEQ ? val->items[i] : val;
        if (tr_yscalar_is_null(v)) {
            rc = cfail(c, v ? v : key, "null cannot be one of several values (the specification asks for its own selection)");
            break;
        }
        rc = compile_value(c, v, &m, keyword, (uint16_t)i, &b);
    }
    if (rc == TR_OK) {
        it->patterns = tr_arena_alloc(&c->rs->arena, (b.n ? b.n : 1) * sizeof *it->patterns);
        if (!it->patterns)
            rc = TR_ERR_NOMEM;
        else if (b.n)
            memcpy(it->patterns, b.p, b.n * sizeof *b.p);
        it->npatterns = (uint32_t)b.n;
        it->ngroups = (uint16_t)nvals;
        if (m.all && nvals > 64)
            rc = cfail(c, val, "'all' over more than 64 values");
    }
    tr_free(b.p);
    return rc;
}

/* A search map: AND of its items. */
static int compile_map(cctx *c, const tr_ynode *map, tr_conj *out)
{
    out->nitems = (uint32_t)map->count;
    out->items = tr_arena_alloc(&c->rs->arena, (map->count ? map->count : 1) * sizeof *out->items);
    if (!out->items)
        return TR_ERR_NOMEM;
    if (map->count == 0)
        return cfail(c, map, "an empty map matches nothing");
    for (size_t i = 0; i < map->count; i++) {
        const tr_ynode *k = tr_ymap_key(map, i), *v = tr_ymap_value(map, i);
        if (!k || k->kind != TR_Y_SCALAR)
            return cfail(c, map, "field names must be scalars");
        if (v && v->kind == TR_Y_MAP)
            return cfail(c, v, "'%s': a field's value cannot be a map", k->str);
        if (v && v->kind == TR_Y_SEQ)
            for (size_t j = 0; j < v->count; j++)
                if (v->items[j] && v->items[j]->kind != TR_Y_SCALAR)
                    return cfail(c, v->items[j], "'%s': list values must be scalars", k->str);
        int rc = compile_item(c, k, v, &out->items[i]);
        if (rc)
            return rc;
    }
    return TR_OK;
}

int tr_rule_compile_conj(tr_ruleset *rs, tr_rule *r, const tr_ynode *map, tr_conj *out, char *err,
                         size_t err_size, uint32_t *err_line)
{
    (void)err_size;
    cctx c = {rs, r, err, err_line, NULL, NULL, NULL};
    if (!map || map->kind != TR_Y_MAP)
        return cfail(&c, map, "conditions must be a map of field: value");
    return compile_map(&c, map, out);
}

static int compile_search(cctx *c, const char *name, const tr_ynode *v, tr_search *s)
{
    s->name = tr_arena_strndup(&c->rs->arena, name, strlen(name)); /* YAML text goes with the file */
    if (!s->name)
        return TR_ERR_NOMEM;
    s->line = v ? v->line : 0;
    if (!v || tr_yscalar_is_null(v))
        return cfail(c, v, "search identifier '%s' is empty", name);
    if (v->kind == TR_Y_MAP) {
        s->nalts = 1;
        s->alts = tr_arena_alloc(&c->rs->arena, sizeof *s->alts);
        if (!s->alts)
            return TR_ERR_NOMEM;
        return compile_map(c, v, s->alts);
    }
    /* a scalar or a list of scalars: keywords; a list of maps: OR of maps */
    int maps = 0, scalars = 0;
    size_t n = v->kind == TR_Y_SEQ ? v->count : 1;
    for (size_t i = 0; i < n; i++) {
        const tr_ynode *x = v->kind == TR_Y_SEQ ? v->items[i] : v;
        if (x && x->kind == TR_Y_MAP)
            maps++;
        else if (x && x->kind == TR_Y_SCALAR)
            scalars++;
        else
            return cfail(c, x ? x : v, "search identifier '%s': nested lists are not Sigma", name);
    }
    if (maps && scalars)
        return cfail(c, v, "search identifier '%s' mixes maps and keywords in one list", name);
    if (n == 0)
        return cfail(c, v, "search identifier '%s' is an empty list", name);
    if (maps) {
        s->nalts = (uint32_t)n;
        s->alts = tr_arena_alloc(&c->rs->arena, n * sizeof *s->alts);
        if (!s->alts)
            return TR_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = compile_map(c, v->items[i], &s->alts[i]);
            if (rc)
                return rc;
        }
        return TR_OK;
    }
    /* keywords: one item without a field, OR over the values */
    s->nalts = 1;
    s->alts = tr_arena_alloc(&c->rs->arena, sizeof *s->alts);
    tr_item *it = tr_arena_alloc(&c->rs->arena, sizeof *it);
    if (!s->alts || !it)
        return TR_ERR_NOMEM;
    s->alts->items = it;
    s->alts->nitems = 1;
    tr_ynode key = {.kind = TR_Y_SCALAR, .line = v->line, .col = v->col, .str = "", .len = 0};
    return compile_item(c, &key, v, it);
}

/* The detection section: searches and condition. */
static int compile_detection(cctx *c, const tr_ynode *det, tr_rule *r, const tr_ynode *doc)
{
    if (!det)
        return cfail(c, doc, "no 'detection' section");
    if (det->kind != TR_Y_MAP)
        return cfail(c, det, "'detection' must be a map");
    const tr_ynode *cond = NULL;
    size_t nsearch = 0;
    for (size_t i = 0; i < det->count; i++) {
        const tr_ynode *k = tr_ymap_key(det, i);
        if (tr_yscalar_eq(k, "condition"))
            cond = tr_ymap_value(det, i);
        else if (!tr_yscalar_eq(k, "timeframe"))
            nsearch++;
    }
    if (!cond)
        return cfail(c, det, "the detection has no 'condition'");
    if (nsearch == 0)
        return cfail(c, det, "the detection has no search identifier");
    r->searches = tr_arena_alloc(&c->rs->arena, nsearch * sizeof *r->searches);
    const char **names = tr_arena_alloc(&c->rs->arena, nsearch * sizeof *names);
    uint8_t *used = tr_arena_alloc(&c->rs->arena, nsearch);
    if (!r->searches || !names || !used)
        return TR_ERR_NOMEM;
    memset(used, 0, nsearch);
    size_t s = 0;
    for (size_t i = 0; i < det->count; i++) {
        const tr_ynode *k = tr_ymap_key(det, i);
        if (tr_yscalar_eq(k, "condition") || tr_yscalar_eq(k, "timeframe"))
            continue;
        if (!k || k->kind != TR_Y_SCALAR || k->len == 0)
            return cfail(c, det, "search identifiers must be non-empty names");
        for (size_t j = 0; j < s; j++)
            if (strcmp(names[j], k->str) == 0)
                return cfail(c, k, "search identifier '%s' is defined twice", k->str);
        names[s] = k->str;
        int rc = compile_search(c, k->str, tr_ymap_value(det, i), &r->searches[s]);
        if (rc)
            return rc;
        s++;
    }
    r->nsearches = (uint32_t)nsearch;
    if (r->nsearches > c->rs->max_searches)
        c->rs->max_searches = r->nsearches;
    /* a list of conditions means any of them */
    size_t nconds = cond->kind == TR_Y_SEQ ? cond->count : 1;
    if (nconds == 0)
        return cfail(c, cond, "the condition list is empty");
    uint32_t *roots = tr_arena_alloc(&c->rs->arena, nconds * sizeof *roots);
    if (!roots)
        return TR_ERR_NOMEM;
    tr_cnode *all = NULL;
    uint32_t nall = 0;
    for (size_t i = 0; i < nconds; i++) {
        const tr_ynode *ct = cond->kind == TR_Y_SEQ ? cond->items[i] : cond;
        if (!ct || ct->kind != TR_Y_SCALAR)
            return cfail(c, ct ? ct : cond, "the condition must be text");
        tr_cnode *nodes;
        uint32_t nn, root;
        int rc = tr_condition_parse(ct->str, ct->len, names, nsearch, &c->rs->arena, &nodes, &nn, &root,
                                    used, c->err, ERR_SIZE);
        if (rc) {
            *c->err_line = ct->line;
            if (rc == TR_ERR_FORMAT) {
                char tmp[ERR_SIZE];
                snprintf(tmp, sizeof tmp, "condition: %s", c->err);
                memcpy(c->err, tmp, ERR_SIZE);
            }
            return rc;
        }
        /* concatenate the node arrays, shifting indices */
        tr_cnode *merged = tr_arena_alloc(&c->rs->arena, (nall + nn + 1) * sizeof *merged);
        if (!merged)
            return TR_ERR_NOMEM;
        if (nall)
            memcpy(merged, all, nall * sizeof *merged);
        for (uint32_t k = 0; k < nn; k++) {
            merged[nall + k] = nodes[k];
            if (nodes[k].nkids) {
                uint32_t *kids = tr_arena_alloc(&c->rs->arena, nodes[k].nkids * sizeof *kids);
                if (!kids)
                    return TR_ERR_NOMEM;
                for (uint32_t q = 0; q < nodes[k].nkids; q++)
                    kids[q] = nodes[k].kids[q] + nall;
                merged[nall + k].kids = kids;
            }
        }
        roots[i] = root + nall;
        all = merged;
        nall += nn;
    }
    if (nconds > 1) {
        tr_cnode *merged = tr_arena_alloc(&c->rs->arena, (nall + 1) * sizeof *merged);
        if (!merged)
            return TR_ERR_NOMEM;
        memcpy(merged, all, nall * sizeof *merged);
        merged[nall] = (tr_cnode){.op = TR_C_OR, .nkids = (uint32_t)nconds, .kids = roots};
        all = merged;
        r->cond_root = nall++;
    } else {
        r->cond_root = roots[0];
    }
    r->cond = all;
    r->ncond = nall;
    return TR_OK;
}

/* ---------------------------------------------------------------- metadata */

static const char *scalar_copy(tr_ruleset *rs, const tr_ynode *n)
{
    if (!n || n->kind != TR_Y_SCALAR || tr_yscalar_is_null(n))
        return NULL;
    return tr_arena_strndup(&rs->arena, n->str, n->len);
}

/* A list of scalars (or one scalar) as a string array. */
static int string_list(cctx *c, const tr_ynode *n, const char *what, const char *const **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!n || tr_yscalar_is_null(n))
        return TR_OK;
    size_t k = n->kind == TR_Y_SEQ ? n->count : 1;
    if (n->kind == TR_Y_MAP)
        return cfail(c, n, "'%s' must be a list", what);
    const char **l = tr_arena_alloc(&c->rs->arena, (k ? k : 1) * sizeof *l);
    if (!l)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < k; i++) {
        const tr_ynode *x = n->kind == TR_Y_SEQ ? n->items[i] : n;
        if (!x || x->kind != TR_Y_SCALAR)
            return cfail(c, x ? x : n, "'%s' must be a list of strings", what);
        l[i] = tr_arena_strndup(&c->rs->arena, x->str, x->len);
        if (!l[i])
            return TR_ERR_NOMEM;
    }
    *out = l;
    *count = k;
    return TR_OK;
}

static int is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static int compile_meta(cctx *c, const tr_ynode *doc, tr_rule *r, const char *path, int kind)
{
    tr_ruleset *rs = c->rs;
    tr_rule_info *in = &r->info;
    in->kind = kind;
    in->path = path;
    in->line = doc->line;
    const tr_ynode *title = tr_ymap_get(doc, "title");
    if (!title || title->kind != TR_Y_SCALAR || title->len == 0)
        return cfail(c, doc, "no 'title' (required)");
    if (title->len > 256)
        return cfail(c, title, "the title is longer than 256 characters");
    in->title = scalar_copy(rs, title);
    const tr_ynode *id = tr_ymap_get(doc, "id");
    if (id && id->kind != TR_Y_SCALAR)
        return cfail(c, id, "'id' must be a string");
    in->id = scalar_copy(rs, id);
    if (in->id && !is_uuid(in->id))
        tr_ruleset_diag(rs, TR_SEV_WARNING, path, id->line, "rule '%s': id '%s' is not a UUID",
                        in->title ? in->title : "", in->id);
    const tr_ynode *name = tr_ymap_get(doc, "name");
    if (name && name->kind != TR_Y_SCALAR)
        return cfail(c, name, "'name' must be a string");
    in->name = scalar_copy(rs, name);
    in->description = scalar_copy(rs, tr_ymap_get(doc, "description"));
    in->date = scalar_copy(rs, tr_ymap_get(doc, "date"));
    const tr_ynode *author = tr_ymap_get(doc, "author");
    in->author = author && author->kind == TR_Y_SCALAR ? scalar_copy(rs, author) : NULL;
    const tr_ynode *status = tr_ymap_get(doc, "status");
    if (status) {
        static const char *const ok[] = {"stable", "test", "experimental", "deprecated", "unsupported"};
        int found = 0;
        for (size_t i = 0; i < 5; i++)
            found |= tr_yscalar_eq(status, ok[i]);
        if (!found)
            return cfail(c, status, "status '%s' is not stable, test, experimental, deprecated or unsupported",
                         status->kind == TR_Y_SCALAR ? status->str : "?");
        in->status = scalar_copy(rs, status);
    }
    const tr_ynode *level = tr_ymap_get(doc, "level");
    if (level) {
        int l = level->kind == TR_Y_SCALAR ? tr_level_parse(level->str) : -1;
        if (l <= 0)
            return cfail(c, level, "level '%s' is not informational, low, medium, high or critical",
                         level->kind == TR_Y_SCALAR ? level->str : "?");
        in->level = l;
    }
    int rc;
    if ((rc = string_list(c, tr_ymap_get(doc, "tags"), "tags", &in->tags, &in->ntags)) ||
        (rc = string_list(c, tr_ymap_get(doc, "references"), "references", &in->references, &in->nreferences)) ||
        (rc = string_list(c, tr_ymap_get(doc, "fields"), "fields", &in->fields, &in->nfields)))
        return rc;
    void *attack = tr_arena_alloc(&rs->arena, tr_attack_size(in->tags, in->ntags));
    if (!attack)
        return TR_ERR_NOMEM;
    tr_attack_fill(attack, in->tags, in->ntags, &in->techniques, &in->ntechniques, &in->tactics, &in->ntactics);
    const tr_ynode *ls = tr_ymap_get(doc, "logsource");
    if (kind != TR_RULE_CORRELATION) {
        if (!ls)
            return cfail(c, doc, "no 'logsource' (required)");
        if (ls->kind != TR_Y_MAP)
            return cfail(c, ls, "'logsource' must be a map");
        in->product = scalar_copy(rs, tr_ymap_get(ls, "product"));
        in->category = scalar_copy(rs, tr_ymap_get(ls, "category"));
        in->service = scalar_copy(rs, tr_ymap_get(ls, "service"));
        if (!in->product && !in->category && !in->service)
            return cfail(c, ls, "the logsource names no product, category or service");
    }
    if (!in->title || (title && !in->title))
        return TR_ERR_NOMEM;
    return TR_OK;
}

/* ---------------------------------------------------------------- documents */

static int add_rule(tr_ruleset *rs, tr_rule *r)
{
    if (rs->nrules == rs->caprules) {
        size_t cap = rs->caprules ? rs->caprules * 2 : 256;
        tr_rule **l = tr_realloc(rs->rules, cap * sizeof *l);
        if (!l)
            return TR_ERR_NOMEM;
        rs->rules = l;
        rs->caprules = cap;
    }
    r->index = (uint32_t)rs->nrules;
    rs->rules[rs->nrules++] = r;
    return TR_OK;
}

static int add_filter(tr_ruleset *rs, tr_filter *f)
{
    if (rs->nfilters == rs->capfilters) {
        size_t cap = rs->capfilters ? rs->capfilters * 2 : 16;
        tr_filter **l = tr_realloc(rs->filters, cap * sizeof *l);
        if (!l)
            return TR_ERR_NOMEM;
        rs->filters = l;
        rs->capfilters = cap;
    }
    rs->filters[rs->nfilters++] = f;
    return TR_OK;
}

int tr_rule_load_doc(tr_ruleset *rs, const tr_ynode *doc, const char *path)
{
    char err[ERR_SIZE] = "";
    uint32_t line = doc ? doc->line : 0;
    tr_arena_mark mark = tr_arena_get_mark(&rs->arena);
    size_t regex_mark = rs->nregexes;
    cctx c = {rs, NULL, err, &line, NULL, NULL, NULL};
    int rc;
    int kind = TR_RULE_DETECTION;
    const char *title_for_diag = NULL;

    if (!doc || doc->kind != TR_Y_MAP) {
        rc = cfail(&c, doc, "a rule document must be a map");
        goto out;
    }
    const tr_ynode *t = tr_ymap_get(doc, "title");
    if (t && t->kind == TR_Y_SCALAR)
        title_for_diag = t->str;
    if (tr_ymap_get(doc, "correlation"))
        kind = TR_RULE_CORRELATION;
    else if (tr_ymap_get(doc, "filter"))
        kind = TR_RULE_FILTER;

    if (kind == TR_RULE_FILTER) {
        tr_filter *f = tr_arena_alloc(&rs->arena, sizeof *f);
        if (!f) {
            rc = TR_ERR_NOMEM;
            goto out;
        }
        memset(f, 0, sizeof *f);
        c.r = &f->body;
        if ((rc = compile_meta(&c, doc, &f->body, path, kind)))
            goto out;
        const tr_ynode *fs = tr_ymap_get(doc, "filter");
        if (fs->kind != TR_Y_MAP) {
            rc = cfail(&c, fs, "'filter' must be a map with rules, search identifiers and a condition");
            goto out;
        }
        const tr_ynode *targets = tr_ymap_get(fs, "rules");
        if (!targets) {
            rc = cfail(&c, fs, "the filter names no 'rules' to apply to");
            goto out;
        }
        if ((rc = string_list(&c, targets, "rules", (const char *const **)&f->targets, &f->ntargets)))
            goto out;
        /* the rest of the section is a detection: searches and condition */
        tr_ynode *det = tr_arena_alloc(&rs->arena, sizeof *det);
        if (!det) {
            rc = TR_ERR_NOMEM;
            goto out;
        }
        *det = *fs;
        det->items = tr_arena_alloc(&rs->arena, fs->count * 2 * sizeof *det->items);
        if (!det->items) {
            rc = TR_ERR_NOMEM;
            goto out;
        }
        det->count = 0;
        for (size_t i = 0; i < fs->count; i++) {
            if (tr_yscalar_eq(tr_ymap_key(fs, i), "rules"))
                continue;
            det->items[2 * det->count] = fs->items[2 * i];
            det->items[2 * det->count + 1] = fs->items[2 * i + 1];
            det->count++;
        }
        if ((rc = compile_detection(&c, det, &f->body, doc)))
            goto out;
        f->body.info.runnable = 1;
        if ((rc = add_filter(rs, f)))
            goto out;
        rs->stats.loaded++;
        rs->stats.filters++;
        return TR_OK;
    }

    tr_rule *r = tr_arena_alloc(&rs->arena, sizeof *r);
    if (!r) {
        rc = TR_ERR_NOMEM;
        goto out;
    }
    memset(r, 0, sizeof *r);
    c.r = r;
    if ((rc = compile_meta(&c, doc, r, path, kind)))
        goto out;
    if (kind == TR_RULE_CORRELATION) {
        struct tr_corr_spec *spec = NULL;
        rc = tr_corr_parse_rule(doc, &rs->arena, &spec, err, sizeof err, &line);
        if (rc)
            goto out;
        r->corr = spec;
        r->info.runnable = 1;
        rs->stats.correlations++;
    } else {
        if ((rc = compile_detection(&c, tr_ymap_get(doc, "detection"), r, doc)))
            goto out;
        r->info.runnable = 1;
        if (c.why_not) {
            r->info.runnable = 0;
            r->info.why_not = c.why_not;
            r->info.not_run_cause = TR_NOT_RUN_PLACEHOLDER;
            r->info.not_run_item = c.why_not_item;
        }
        r->info.risk = c.risk;
    }
    if ((rc = add_rule(rs, r)))
        goto out;
    rs->stats.loaded++;
    return TR_OK;

out:
    tr_arena_rollback(&rs->arena, mark);
    for (size_t i = regex_mark; i < rs->nregexes; i++)
        pcre2_code_free(rs->regexes[i]);
    rs->nregexes = regex_mark;
    if (rc == TR_ERR_NOMEM)
        return rc;
    rs->stats.failed++;
    if (title_for_diag)
        tr_ruleset_diag_kind(rs, TR_DIAG_RULE_FAILED, err, TR_SEV_ERROR, path, line, "rule '%s' not loaded: %s",
                             title_for_diag, err);
    else
        tr_ruleset_diag_kind(rs, TR_DIAG_RULE_FAILED, err, TR_SEV_ERROR, path, line, "rule not loaded: %s", err);
    return TR_OK;
}
