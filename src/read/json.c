/*
 * json.c — the JSON reader: Windows events exported as JSON, in every shape
 * they arrive in.
 *
 * Accepted shapes (mixed freely in one file):
 *   - JSON lines: one object per line (Winlogbeat, `evtx_dump -o jsonl`,
 *     Splunk and Elastic exports);
 *   - concatenated documents, pretty-printed or not (`evtx_dump -o json`,
 *     whose "Record N" separator lines are recognised and skipped);
 *   - a top-level array of objects (PowerShell ConvertTo-Json, Chainsaw),
 *     streamed element by element, so the array may be larger than memory.
 * Every top-level object is one event. Nested objects flatten into dotted
 * names through the name table (names.h), which also applies the aliases and
 * the "#attributes"/"#text" rules. Arrays of scalars become list values;
 * objects inside arrays flatten under their index ("Items.0.Name").
 *
 * Zero copy: strings without escapes point into the input window; escaped
 * or repaired strings are decoded into the batch arena. Numbers keep their
 * literal text. A batch ends where the window ends, before the window
 * slides, which is what keeps those pointers valid.
 *
 * Bad input: a record that does not parse is reported with line, column and
 * reason, counted, and skipped: the reader resynchronises on the next line
 * that opens an object at the same indentation as the broken record (column
 * 0 for JSON lines), so one bad line costs one record. Limits: nesting depth
 * TR_JSON_MAX_DEPTH, record size TR_INPUT_MAX_WINDOW, fields per event
 * TR_EVENT_MAX_FIELDS. Invalid UTF-8 is repaired (U+FFFD) and reported.
 *
 * Workload: records of 0.5–4 KiB with 20–60 fields; the string scanner
 * tests 8 bytes at a time for the bytes that need attention.
 */
#include <stdarg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/utf8.h"
#include "reader.h"

#define TR_JSON_MAX_DEPTH 64u
#define TR_JSON_BATCH 1024u /* events per batch */

enum { P_OK = 0, P_ERR, P_MORE, P_NOMEM };

enum top_state {
    TOP_VALUES,       /* between top-level documents */
    ARRAY_FIRST,      /* after the '[' of a top-level array */
    ARRAY_VALUE,      /* after a ',' inside it */
    ARRAY_AFTER       /* after an element */
};

typedef struct json_reader {
    tr_input *in;
    tr_read_ctx *ctx;
    enum top_state state;
    uint64_t line;            /* line number of the first unconsumed byte */
    uint64_t line_start;      /* stream offset where that line starts */
    bool at_file_start;       /* a UTF-8 BOM is allowed here */
    bool finished;
} json_reader;

typedef struct parser {
    const char *base;         /* window start (stream offset base_off) */
    const char *mark;         /* bytes before it are consumed from the input */
    const char *p, *end;
    uint64_t base_off;
    uint64_t line;
    uint64_t line_start;      /* stream offset */
    unsigned depth;
    bool eof;                 /* the window holds the rest of the file */
    unsigned repaired;        /* strings repaired in this record */
    tr_builder *b;
    tr_names *names;
    const char *err_at;
    char err[160];
} parser;

/* ---------------------------------------------------------------- helpers */

static int fail(parser *P, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *P, const char *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->err, sizeof P->err, fmt, ap);
    va_end(ap);
    P->err_at = at;
    return P_ERR;
}

/* Describes byte c for an error message. */
static const char *show_byte(unsigned char c, char buf[8])
{
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", c);
    return buf;
}

/* Running out of window is "more" unless the window is the whole rest. */
static int more(parser *P, const char *at)
{
    if (P->eof)
        return fail(P, at, "unexpected end of file inside a record (truncated?)");
    return P_MORE;
}

static inline int skip_ws(parser *P)
{
    const char *p = P->p, *end = P->end;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\r') {
            p++;
        } else if (c == '\n') {
            p++;
            P->line++;
            P->line_start = P->base_off + (uint64_t)(p - P->base);
        } else {
            break;
        }
    }
    P->p = p;
    return p < end ? P_OK : more(P, p);
}

/* Non-zero if any of the 8 bytes is '"', '\\', < 0x20 or >= 0x80. False
 * positives are harmless (the byte loop decides); there are no misses. */
static inline uint64_t special8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"');
    uint64_t bs = v ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q;
    uint64_t zb = (bs - ones) & ~bs;
    uint64_t ctl = (v - ones * 0x20) & ~v;
    return (zq | zb | ctl | v) & highs;
}

/* Skips bytes that need no attention inside a string (anything but '"',
 * '\\', control bytes and non-ASCII), 16 at a time with SSE2 where the
 * target has it (every x86-64), 8 at a time otherwise. Returns the first
 * byte that may need attention, or a point less than 8 bytes from end. */
static inline const char *skip_plain(const char *q, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" also
         * catches them */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        int mask = _mm_movemask_epi8(m);
        if (mask)
            return q + __builtin_ctz((unsigned)mask);
        q += 16;
    }
#endif
    while (end - q >= 8) {
        uint64_t v;
        memcpy(&v, q, 8);
        if (special8(v))
            break;
        q += 8;
    }
    return q;
}

static void put_utf8(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) {
        *u++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char)(0xC0 | cp >> 6);
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *u++ = (unsigned char)(0xE0 | cp >> 12);
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char)(0xF0 | cp >> 18);
        *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)u;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* ---------------------------------------------------------------- strings */

/* The slow path: escapes or invalid UTF-8. s is the first byte after the
 * opening quote; the string is decoded into the batch arena. */
static int string_slow(parser *P, const char *s, const char **out, size_t *out_len, uint8_t *flags)
{
    /* find the closing quote first, to size the copy; 8 bytes at a time
     * over the plain stretches (Windows paths: long runs between '\\') */
    const char *q = s;
    for (;;) {
        q = skip_plain(q, P->end);
        if (q >= P->end)
            return more(P, q);
        char c = *q;
        if (c == '"')
            break;
        if (c == '\n' || c == '\r')
            return fail(P, q, "line break inside a string (truncated record?)");
        if (c == '\\') {
            /* check the escape here: a backslash before a line break must
             * not let one broken string swallow the lines that follow */
            if (q + 1 >= P->end)
                return more(P, q + 1);
            if (!strchr("\"\\/bfnrtu", q[1]) || q[1] == '\0') {
                char sb[8];
                return fail(P, q, "invalid escape \\%s in string", show_byte((unsigned char)q[1], sb));
            }
            q += 2;
        } else {
            q++;
        }
    }
    size_t raw = (size_t)(q - s);
    char *dst = tr_arena_alloc(&P->b->arena, TR_UTF8_REPAIR_MAX(raw) + 1);
    if (!dst)
        return P_NOMEM;
    char *o = dst;
    const char *p = s;
    bool repaired = false;
    while (p < q) {
        /* copy the run up to the next backslash in one go when it is ASCII */
        const char *bs = memchr(p, '\\', (size_t)(q - p));
        const char *run_end = bs ? bs : q;
        const char *r = p;
        while (run_end - r >= 8) {
            uint64_t v;
            memcpy(&v, r, 8);
            if (v & 0x8080808080808080ull)
                break;
            r += 8;
        }
        while (r < run_end && (unsigned char)*r < 0x80)
            r++;
        if (r > p) {
            memcpy(o, p, (size_t)(r - p));
            o += r - p;
            p = r;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            char e = p[1];
            p += 2;
            switch (e) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned cp;
                if (q - p < 4 || !hex4(p, &cp))
                    return fail(P, p - 2, "invalid \\u escape in string");
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (q - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) && lo >= 0xDC00 &&
                        lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    } else {
                        cp = 0xFFFD; /* lone high surrogate */
                        repaired = true;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    cp = 0xFFFD; /* lone low surrogate */
                    repaired = true;
                }
                put_utf8(&o, cp);
                break;
            }
            default: {
                char sb[8];
                return fail(P, p - 2, "invalid escape \\%s in string", show_byte((unsigned char)e, sb));
            }
            }
        } else if (c < 0x80) {
            *o++ = (char)c;
            p++;
        } else {
            size_t n = tr_utf8_seq_len((const unsigned char *)p, (size_t)(q - p));
            if (n) {
                memcpy(o, p, n);
                o += n;
                p += n;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                p++;
                repaired = true;
            }
        }
    }
    *o = '\0';
    if (repaired) {
        *flags |= TR_VALUE_REPAIRED;
        P->repaired++;
    }
    *out = dst;
    *out_len = (size_t)(o - dst);
    P->p = q + 1;
    return P_OK;
}

/* Parses the string at P->p (which is '"'). */
static inline int parse_string(parser *P, const char **out, size_t *out_len, uint8_t *flags)
{
    const char *s = P->p + 1, *q = s, *end = P->end;
    for (;;) {
        q = skip_plain(q, end);
        if (q >= end)
            return more(P, q);
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *out = s;
            *out_len = (size_t)(q - s);
            P->p = q + 1;
            return P_OK;
        }
        if (c == '\\')
            return string_slow(P, s, out, out_len, flags);
        if (c >= 0x80) {
            size_t n = tr_utf8_seq_len((const unsigned char *)q, (size_t)(end - q));
            if (n) {
                q += n;
                continue;
            }
            if (end - q < 4 && !P->eof)
                return P_MORE; /* the sequence may continue in the next window */
            return string_slow(P, s, out, out_len, flags);
        }
        if (c == '\n' || c == '\r')
            return fail(P, q, "line break inside a string (truncated record?)");
        q++; /* other control characters are tolerated: exporters emit raw tabs */
    }
}

/* ---------------------------------------------------------------- scalars */

static int parse_number(parser *P, tr_value *v)
{
    const char *s = P->p, *q = s, *end = P->end;
    bool neg = false, integer = true;
    if (*q == '-') {
        neg = true;
        q++;
    }
    if (q >= end)
        return more(P, q);
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    } else {
        return fail(P, q, "invalid number");
    }
    if (q < end && *q == '.') {
        integer = false;
        const char *d = ++q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == d && q < end)
            return fail(P, q, "invalid number: no digit after '.'");
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        integer = false;
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        const char *d = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == d && q < end)
            return fail(P, q, "invalid number: no digit in exponent");
    }
    if (q >= end)
        return more(P, q); /* the number may go on in the next window */
    char c = *q;
    if (!(c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
        char sb[8];
        return fail(P, q, "invalid number: unexpected %s", show_byte((unsigned char)c, sb));
    }
    size_t len = (size_t)(q - s);
    v->str = s;
    v->len = (uint32_t)len;
    v->flags = 0;
    if (integer) {
        uint64_t mag = 0;
        bool overflow = false;
        for (const char *d = s + neg; d < q; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (mag > (UINT64_MAX - digit) / 10) {
                overflow = true;
                break;
            }
            mag = mag * 10 + digit;
        }
        if (!overflow) {
            if (!neg && mag <= (uint64_t)INT64_MAX) {
                v->type = TR_INT;
                v->as.i = (int64_t)mag;
            } else if (neg && mag <= (uint64_t)INT64_MAX + 1) {
                v->type = TR_INT;
                v->as.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
            } else if (!neg) {
                v->type = TR_UINT;
                v->as.u = mag;
            } else {
                overflow = true;
            }
        }
        if (!overflow) {
            P->p = q;
            return P_OK;
        }
    }
    /* a fraction, an exponent or out of integer range: keep the text, and
     * the nearest double (±inf for 1e999) */
    char small[64];
    const char *z = small;
    if (len < sizeof small) {
        memcpy(small, s, len);
        small[len] = '\0';
    } else {
        z = tr_builder_copy(P->b, s, len);
        if (!z)
            return P_NOMEM;
    }
    v->type = TR_FLOAT;
    v->as.f = strtod(z, NULL);
    P->p = q;
    return P_OK;
}

static int parse_literal(parser *P, tr_value *v)
{
    const char *p = P->p;
    size_t avail = (size_t)(P->end - p);
    const char *lit;
    size_t n;
    switch (*p) {
    case 't': lit = "true", n = 4; v->type = TR_BOOL, v->as.i = 1; break;
    case 'f': lit = "false", n = 5; v->type = TR_BOOL, v->as.i = 0; break;
    default: lit = "null", n = 4; v->type = TR_NULL; break;
    }
    if (avail < n) {
        if (memcmp(p, lit, avail) != 0)
            return fail(P, p, "invalid literal (expected %s)", lit);
        return more(P, P->end);
    }
    if (memcmp(p, lit, n) != 0)
        return fail(P, p, "invalid literal (expected %s)", lit);
    v->str = v->type == TR_NULL ? NULL : p;
    v->len = v->type == TR_NULL ? 0 : (uint32_t)n;
    v->flags = 0;
    P->p = p + n;
    return P_OK;
}

/* ---------------------------------------------------------------- structure */

static int parse_value(parser *P, const tr_name *name);

static int add_field(parser *P, const tr_name *name, const tr_value *v)
{
    return tr_builder_add(P->b, name, v) ? P_OK : P_NOMEM;
}

static int parse_object(parser *P, const tr_name *name)
{
    if (++P->depth > TR_JSON_MAX_DEPTH)
        return fail(P, P->p, "nesting deeper than %u levels", TR_JSON_MAX_DEPTH);
    P->p++; /* '{' */
    int r = skip_ws(P);
    if (r)
        return r;
    if (*P->p == '}') {
        P->p++;
        P->depth--;
        if (name->parent) { /* an empty object is a present, empty value */
            tr_value v = {.type = TR_NULL};
            return add_field(P, name, &v);
        }
        return P_OK;
    }
    const tr_name *prev = NULL; /* previous key of this object, for the shape cache */
    for (;;) {
        if (*P->p != '"') {
            char sb[8];
            return fail(P, P->p, "expected a quoted key, found %s", show_byte((unsigned char)*P->p, sb));
        }
        const char *key;
        size_t klen;
        uint8_t kflags = 0;
        if ((r = parse_string(P, &key, &klen, &kflags)))
            return r;
        const tr_name *child = tr_names_next(P->names, name, prev, key, klen, &P->b->arena);
        if (!child)
            return P_NOMEM;
        if (child != name)
            prev = child;
        if ((r = skip_ws(P)))
            return r;
        if (*P->p != ':') {
            char sb[8];
            return fail(P, P->p, "expected ':' after key, found %s", show_byte((unsigned char)*P->p, sb));
        }
        P->p++;
        if ((r = skip_ws(P)))
            return r;
        if ((r = parse_value(P, child)))
            return r;
        if ((r = skip_ws(P)))
            return r;
        if (*P->p == ',') {
            P->p++;
            if ((r = skip_ws(P)))
                return r;
            continue;
        }
        if (*P->p == '}') {
            P->p++;
            break;
        }
        char sb[8];
        return fail(P, P->p, "expected ',' or '}' in object, found %s", show_byte((unsigned char)*P->p, sb));
    }
    P->depth--;
    return P_OK;
}

/* Parses the elements of the array at P->p into list items of `name`;
 * nested arrays flatten into the same list, objects become fields under
 * their index. *index counts elements across the nesting. */
static int parse_array_body(parser *P, const tr_name *name, unsigned *index)
{
    if (++P->depth > TR_JSON_MAX_DEPTH)
        return fail(P, P->p, "nesting deeper than %u levels", TR_JSON_MAX_DEPTH);
    P->p++; /* '[' */
    int r = skip_ws(P);
    if (r)
        return r;
    if (*P->p == ']') {
        P->p++;
        P->depth--;
        return P_OK;
    }
    for (;;) {
        char c = *P->p;
        if (c == '{') {
            char num[16];
            int n = snprintf(num, sizeof num, "%u", *index);
            const tr_name *child = tr_names_child(P->names, name, num, (size_t)n, &P->b->arena);
            if (!child)
                return P_NOMEM;
            if ((r = parse_object(P, child)))
                return r;
            (*index)++;
        } else if (c == '[') {
            if ((r = parse_array_body(P, name, index)))
                return r;
        } else {
            tr_value v = {0};
            if (c == '"') {
                const char *s;
                size_t len;
                if ((r = parse_string(P, &s, &len, &v.flags)))
                    return r;
                v.type = TR_STR;
                v.str = s;
                v.len = (uint32_t)len;
            } else if (c == 't' || c == 'f' || c == 'n') {
                if ((r = parse_literal(P, &v)))
                    return r;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                if ((r = parse_number(P, &v)))
                    return r;
            } else {
                char sb[8];
                return fail(P, P->p, "unexpected %s in array", show_byte((unsigned char)c, sb));
            }
            if (!tr_builder_item_push(P->b, &v))
                return P_NOMEM;
            (*index)++;
        }
        if ((r = skip_ws(P)))
            return r;
        if (*P->p == ',') {
            P->p++;
            if ((r = skip_ws(P)))
                return r;
            continue;
        }
        if (*P->p == ']') {
            P->p++;
            break;
        }
        char sb[8];
        return fail(P, P->p, "expected ',' or ']' in array, found %s", show_byte((unsigned char)*P->p, sb));
    }
    P->depth--;
    return P_OK;
}

static int parse_value(parser *P, const tr_name *name)
{
    tr_value v = {0};
    int r;
    char c = *P->p;
    switch (c) {
    case '"': {
        const char *s;
        size_t len;
        if ((r = parse_string(P, &s, &len, &v.flags)))
            return r;
        v.type = TR_STR;
        v.str = s;
        v.len = (uint32_t)len;
        return add_field(P, name, &v);
    }
    case '{':
        return parse_object(P, name);
    case '[': {
        size_t mark = tr_builder_item_mark(P->b);
        unsigned index = 0;
        if ((r = parse_array_body(P, name, &index)))
            return r;
        /* a list field unless the array held only objects */
        if (tr_builder_item_mark(P->b) > mark || index == 0)
            return tr_builder_add_list(P->b, name, mark) ? P_OK : P_NOMEM;
        return P_OK;
    }
    case 't':
    case 'f':
    case 'n':
        if ((r = parse_literal(P, &v)))
            return r;
        return add_field(P, name, &v);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            if ((r = parse_number(P, &v)))
                return r;
            return add_field(P, name, &v);
        }
        char sb[8];
        return fail(P, P->p, "unexpected %s where a value should be", show_byte((unsigned char)c, sb));
    }
}

/* ---------------------------------------------------------------- records */

static void parser_start(parser *P, json_reader *R, tr_builder *b)
{
    P->base = tr_input_data(R->in);
    P->mark = P->base;
    P->p = P->base;
    P->end = P->base + tr_input_avail(R->in);
    P->base_off = tr_input_offset(R->in);
    P->line = R->line;
    P->line_start = R->line_start;
    P->eof = tr_input_eof(R->in);
    P->b = b;
    P->names = b->names;
    P->depth = 0;
    P->repaired = 0;
}

/* Commits the parser's position as consumed. */
static void parser_commit(parser *P, json_reader *R)
{
    tr_input_consume(R->in, (size_t)(P->p - P->mark));
    P->mark = P->p;
    R->line = P->line;
    R->line_start = P->line_start;
}

static void where_at(const parser *P, const char *at, char *buf, size_t sz)
{
    uint64_t off = P->base_off + (uint64_t)(at - P->base);
    snprintf(buf, sz, "line %llu, column %llu", (unsigned long long)P->line,
             (unsigned long long)(off - P->line_start + 1));
}

/* Parses one top-level object at P->p into an event. */
static int parse_record(parser *P, json_reader *R)
{
    uint64_t rec_line = P->line;
    uint64_t rec_off = P->base_off + (uint64_t)(P->p - P->base);
    P->repaired = 0;
    tr_builder_event_begin(P->b);
    int r = parse_object(P, tr_names_root(P->names));
    if (r) {
        tr_builder_event_abort(P->b);
        return r;
    }
    if (P->b->overflow) {
        char w[64];
        snprintf(w, sizeof w, "line %llu", (unsigned long long)rec_line);
        tr_read_report(R->ctx, TR_SEV_WARNING, w, "record has more than %u fields or %u list items; the rest were dropped",
                       TR_EVENT_MAX_FIELDS, TR_EVENT_MAX_ITEMS);
    }
    if (P->b->long_names) {
        char w[64];
        snprintf(w, sizeof w, "line %llu", (unsigned long long)rec_line);
        tr_read_report(R->ctx, TR_SEV_WARNING, w, "field names longer than %u bytes; those fields were dropped",
                       TR_NAME_MAX);
    }
    if (P->repaired) {
        char w[64];
        snprintf(w, sizeof w, "line %llu", (unsigned long long)rec_line);
        R->ctx->values_repaired += P->repaired;
        tr_read_report(R->ctx, TR_SEV_WARNING, w, "invalid UTF-8 in %u string(s), replaced by U+FFFD",
                       P->repaired);
    }
    tr_origin o = {.path = R->ctx->path, .format = "json", .record = rec_line, .offset = rec_off};
    return tr_builder_event_end(P->b, &o) ? P_OK : P_NOMEM;
}

/* "Record 12" lines: evtx_dump's separators between documents. */
static bool separator_line(const char *p, const char *end)
{
    static const char lit[] = "Record ";
    if (end - p < 8 || memcmp(p, lit, 7) != 0)
        return false;
    const char *q = p + 7;
    if (q >= end || *q < '0' || *q > '9')
        return false;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    while (q < end && (*q == ' ' || *q == '\r'))
        q++;
    return q < end && *q == '\n';
}

/* Skips the rest of a broken record: forward to the next line whose first
 * non-blank byte is '{' (or, between top-level documents, '[') at column
 * `indent` (0-based) or less. Works across
 * window refills. *found says whether such a line was found (else the file
 * ended); *found_indent is its column. */
static tr_status resync(json_reader *R, parser *P, const char *from, uint64_t indent, bool *found,
                        uint64_t *found_indent)
{
    *found = false;
    const char *p = from;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(P->end - p));
        if (nl) {
            const char *ls = nl + 1;
            uint64_t have = (uint64_t)(P->end - ls);
            if (have >= indent + 1) {
                P->line++;
                P->line_start = P->base_off + (uint64_t)(ls - P->base);
                uint64_t i = 0;
                while (i < indent && (ls[i] == ' ' || ls[i] == '\t'))
                    i++;
                if (ls[i] == '{' || (ls[i] == '[' && R->state == TOP_VALUES)) {
                    P->p = ls;
                    parser_commit(P, R);
                    *found = true;
                    *found_indent = i;
                    return TR_OK;
                }
                p = ls;
                continue;
            }
            if (P->eof) { /* a short last line cannot hold a record start */
                P->line++;
                P->p = P->end;
                parser_commit(P, R);
                return TR_OK;
            }
            /* not enough bytes to judge the next line: keep from the newline */
            P->p = nl;
        } else {
            P->p = P->end;
            if (P->eof) {
                parser_commit(P, R);
                return TR_OK;
            }
        }
        parser_commit(P, R);
        tr_status st = tr_input_fill(R->in, false);
        if (st && st != TR_ERR_LIMIT)
            return st;
        tr_builder *b = P->b;
        parser_start(P, R, b);
        p = P->p;
        if (P->p == P->end && P->eof)
            return TR_OK;
        if (P->end - P->p <= 1 && !P->eof) {
            /* a window of one newline: force growth to make progress */
            st = tr_input_fill(R->in, true);
            if (st)
                return st;
            parser_start(P, R, b);
            p = P->p;
        }
    }
}

static tr_status reader_create(void **state, tr_input *in, tr_read_ctx *ctx)
{
    json_reader *R = tr_calloc(1, sizeof *R);
    if (!R)
        return TR_ERR_NOMEM;
    R->in = in;
    R->ctx = ctx;
    R->state = TOP_VALUES;
    R->line = 1;
    R->at_file_start = true;
    *state = R;
    return TR_OK;
}

static void reader_destroy(void *state) { tr_free(state); }

/* Reports a parse failure, counts the record as skipped and resynchronises. */
static tr_status skip_broken(json_reader *R, parser *P, const char *rec_start)
{
    char where[96];
    where_at(P, P->err_at ? P->err_at : P->p, where, sizeof where);
    if (P->line != R->line) /* say where a multi-line record began */
        tr_read_report(R->ctx, TR_SEV_ERROR, where, "%s (record began on line %llu); record skipped", P->err,
                       (unsigned long long)R->line);
    else
        tr_read_report(R->ctx, TR_SEV_ERROR, where, "%s; record skipped", P->err);
    R->ctx->records_skipped++;
    uint64_t rec_off = P->base_off + (uint64_t)(rec_start - P->base);
    uint64_t indent = rec_off >= R->line_start ? rec_off - R->line_start : 0;
    /* rewind line accounting to the record start: resync recounts lines */
    P->line = R->line;
    P->line_start = R->line_start;
    bool found;
    uint64_t found_indent = 0;
    tr_status st = resync(R, P, rec_start, indent, &found, &found_indent);
    /* inside a top-level array, an object less indented than the broken
     * element is taken to start after the array */
    if (found && R->state != TOP_VALUES)
        R->state = found_indent < indent ? TOP_VALUES : ARRAY_VALUE;
    return st;
}

static tr_status reader_next(void *state, tr_builder *b)
{
    json_reader *R = state;
    tr_builder_batch_begin(b);
    if (R->finished)
        return TR_OK;
    parser P;
    memset(&P, 0, sizeof P);
    for (;;) {
        parser_start(&P, R, b);
        if (R->at_file_start && P.end - P.p >= 3 && memcmp(P.p, "\xEF\xBB\xBF", 3) == 0) {
            P.p += 3;
            parser_commit(&P, R);
        }
        if (R->at_file_start && (P.end - P.p >= 3 || P.eof))
            R->at_file_start = false;
        int r = P_OK;
        while (b->nevents < TR_JSON_BATCH) {
            const char *start = P.p;
            uint64_t line0 = P.line, ls0 = P.line_start;
            r = skip_ws(&P);
            if (r == P_MORE || (r == P_ERR && P.p == P.end)) {
                parser_commit(&P, R); /* whitespace only: consume it */
                r = P_MORE;
                break;
            }
            parser_commit(&P, R);
            start = P.p;
            line0 = P.line, ls0 = P.line_start;
            char c = *P.p;
            if (R->state == TOP_VALUES) {
                if (c == '{') {
                    r = parse_record(&P, R);
                } else if (c == '[') {
                    P.p++;
                    R->state = ARRAY_FIRST;
                    parser_commit(&P, R);
                    continue;
                } else if (c == 'R' && (separator_line(P.p, P.end) || (!P.eof && P.end - P.p < 32))) {
                    if (!separator_line(P.p, P.end)) {
                        r = P_MORE;
                    } else {
                        P.p = memchr(P.p, '\n', (size_t)(P.end - P.p));
                        parser_commit(&P, R);
                        continue;
                    }
                } else {
                    char sb[8];
                    r = fail(&P, P.p, "expected '{' or '[' at the start of a record, found %s",
                             show_byte((unsigned char)c, sb));
                }
            } else if (R->state == ARRAY_FIRST || R->state == ARRAY_VALUE) {
                if (c == ']' && R->state == ARRAY_FIRST) {
                    P.p++;
                    R->state = TOP_VALUES;
                    parser_commit(&P, R);
                    continue;
                }
                if (c == '{') {
                    r = parse_record(&P, R);
                    if (r == P_OK)
                        R->state = ARRAY_AFTER;
                } else {
                    char sb[8];
                    r = fail(&P, P.p, "expected an object in the top-level array, found %s",
                             show_byte((unsigned char)c, sb));
                }
            } else { /* ARRAY_AFTER */
                if (c == ',' || c == ']') {
                    P.p++;
                    R->state = c == ',' ? ARRAY_VALUE : TOP_VALUES;
                    parser_commit(&P, R);
                    continue;
                }
                char sb[8];
                r = fail(&P, P.p, "expected ',' or ']' after an array element, found %s",
                         show_byte((unsigned char)c, sb));
            }
            if (r == P_OK) {
                parser_commit(&P, R);
                continue;
            }
            if (r == P_MORE) {
                P.p = start; /* retry the record with more input */
                P.line = line0;
                P.line_start = ls0;
                break;
            }
            if (r == P_NOMEM)
                return TR_ERR_NOMEM;
            /* P_ERR */
            if (b->nevents > 0) {
                /* deliver what we have first: resync may slide the window */
                P.p = start;
                P.line = line0;
                P.line_start = ls0;
                r = P_MORE; /* the record fails again, alone, in the next batch */
                break;
            }
            tr_status st = skip_broken(R, &P, start);
            if (st)
                return st;
            parser_start(&P, R, b);
        }
        if (b->nevents > 0)
            return TR_OK;
        if (r != P_MORE)
            continue;
        /* nothing in this batch yet and the window ends inside a record */
        if (P.eof) {
            if (tr_input_avail(R->in) > 0) {
                /* cannot happen (at EOF the parser fails instead of asking
                 * for more), but a hang would be worse than a lost tail */
                char w[64];
                snprintf(w, sizeof w, "offset %llu", (unsigned long long)tr_input_offset(R->in));
                tr_read_report(R->ctx, TR_SEV_ERROR, w, "unparsed bytes at end of file; skipped");
                R->ctx->records_skipped++;
                R->finished = true;
                return TR_OK;
            }
            if (R->state != TOP_VALUES) {
                char w[64];
                snprintf(w, sizeof w, "line %llu", (unsigned long long)R->line);
                tr_read_report(R->ctx, TR_SEV_ERROR, w, "top-level array not closed (truncated file?)");
            }
            R->finished = true;
            return TR_OK;
        }
        tr_status st = tr_input_fill(R->in, true);
        if (st == TR_ERR_LIMIT) {
            parser_start(&P, R, b);
            snprintf(P.err, sizeof P.err, "%s", tr_input_error(R->in));
            P.err_at = P.p;
            st = skip_broken(R, &P, P.p);
        }
        if (st) {
            if (st == TR_ERR_NOMEM)
                return st;
            char w[64];
            snprintf(w, sizeof w, "offset %llu", (unsigned long long)tr_input_offset(R->in));
            tr_read_report(R->ctx, TR_SEV_ERROR, w, "%s; reading stopped", tr_input_error(R->in));
            R->finished = true;
            return st;
        }
    }
}

static int probe_json(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= n)
        return 0;
    if (p[i] == '{') {
        /* an object whose first token is a key, or an empty object */
        size_t j = i + 1;
        while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
            j++;
        return j >= n || p[j] == '"' || p[j] == '}' ? 90 : 20;
    }
    if (p[i] == '[') {
        size_t j = i + 1;
        while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
            j++;
        return j >= n || p[j] == '{' || p[j] == ']' ? 80 : 0;
    }
    if (separator_line((const char *)p + i, (const char *)p + n))
        return 70; /* evtx_dump -o json */
    return 0;
}

const tr_reader_ops tr_json_reader = {
    .name = "json",
    .probe = probe_json,
    .create = reader_create,
    .next = reader_next,
    .destroy = reader_destroy,
};
