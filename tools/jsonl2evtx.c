/*
 * jsonl2evtx.c — writes a Windows event log file (.evtx) from events given
 * as JSON lines in the shape `evtx_dump -o jsonl` prints them
 * ({"Event":{"System":{...},"EventData":{...}}}), so that evidence kept as
 * JSON can be shipped as the binary log an intrusion would have left.
 *
 *     jsonl2evtx OUT.evtx IN.jsonl...
 *
 * Events are written in input order (files in the order given); their
 * EventRecordID becomes the record identifier and must increase strictly.
 * Exit status: 0 written, 1 usage or input error (reported as file:line:
 * reason; nothing is left at OUT), 2 output error.
 *
 * What is written, as recent Windows versions write it (facts from the
 * EVTX format description in ../shared/reference and from logs written by
 * Windows; no code reused):
 *   file header   4096 bytes: "ElfFile", first/last chunk number, next
 *                 record identifier, header size 128, version 3.1, block
 *                 size 4096, chunk count, flags 0, CRC32 of bytes 0-120
 *   chunk         65536 bytes: a 512-byte header ("ElfChnk", first/last
 *                 record numbers and identifiers, last record and free
 *                 space offsets, CRC32 of the records, flags 1 as in every
 *                 chunk Windows writes, CRC32 of bytes 0-120 and 128-512,
 *                 the 64 name-hash buckets and the 32 template buckets),
 *                 then records back to back, then zeros
 *   record        0x00002a2a, size, identifier, FILETIME written (the
 *                 event's TimeCreated), BinXML and its end-of-stream token,
 *                 zeros to a multiple of 8 bytes, size again
 *   BinXML        a fragment header and a template instance of the System
 *                 template (Event, System and its elements, with every
 *                 value an optional substitution numbered as Windows numbers
 *                 them: 0 Level, 1 Opcode, 2 Task, 3 EventID, 4 Qualifiers,
 *                 5 Keywords, 6 SystemTime, 7 ActivityID, 8 ProcessID,
 *                 9 ThreadID, 10 EventRecordID, 11 Version, 12 UserID,
 *                 13 RelatedActivityID, 14 Provider Name, 15 Provider Guid,
 *                 16 Channel; Computer as literal text), whose value 17 is
 *                 a nested BinXML fragment holding a template instance of
 *                 the EventData template (<Data Name="X">, unnamed <Data>,
 *                 <Binary>, one normal substitution each) and an
 *                 end-of-stream token of its own. Classic event
 *                 sources (a Provider with EventSourceName, or a Guid not in
 *                 Windows' canonical upper case) get literal Provider
 *                 attributes, as Service Control Manager's events do.
 *
 * Templates: a template is defined inline (its definition follows the
 * instance token) the first time its shape occurs in a chunk and referred
 * to by chunk offset afterwards; the shape is the template's whole content
 * (names, literal text, substitution ids and types), so equal shapes share
 * one definition. Names are stored inline at their first use in a chunk and
 * referred to by offset afterwards. Every offset is relative to the chunk.
 * A record that does not fit in the rest of a chunk is encoded again at the
 * start of a new chunk, with its templates and names defined there.
 *
 * Values are typed so that a reader renders exactly the text of the JSON:
 * integers as UInt8/16/32/64 (System) or UInt32, Int32/64, UInt64
 * (EventData), booleans as Bool, reals as Real64, Keywords as HexInt64,
 * SystemTime as FILETIME, and strings that are a canonical rendering of a
 * typed value (a {GUID} in upper case, a SID, 0x-hex in lower case without
 * leading zeros, an even-length upper-case hex <Binary>) as that type;
 * every other string as UTF-16; null as an empty string (an empty <Data>
 * element: XML has no null). Nothing else is lost but the time's text form
 * (a reader renders FILETIME with seven fraction digits) and what readers
 * themselves drop (trailing white space of strings, in traccia and
 * evtx_dump).
 *
 * Input limits, each checked: a JSON document nests at most 64 levels; an
 * event has at most 1,024 EventData items; a value is at most 65,535 bytes
 * (the size field of a substitution value is 16 bits) and a record must fit
 * in one empty chunk; at most 65,535 chunks (the header's count is 16 bits).
 * Unsupported shapes (UserData, unknown System elements, nested EventData
 * objects) are errors, never silently dropped.
 *
 * Workload: example cases and test fixtures, thousands of events; the whole
 * output is written once.
 *
 * Build: cc -std=c17 -O2 -Wall -Wextra -Werror -o build/jsonl2evtx tools/jsonl2evtx.c -lz
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FILE_HEADER_SIZE 4096u
#define CHUNK_SIZE 65536u
#define CHUNK_HEADER_SIZE 512u
#define MAX_CHUNKS 65535u      /* the header's chunk count is 16 bits */
#define MAX_DEPTH 64           /* JSON nesting: bounds the recursion */
#define MAX_ITEMS 1024         /* EventData items per event */
#define MAX_VALUE 65535u       /* a substitution value's size field is 16 bits */
#define MAX_NODES (MAX_ITEMS + 64)
#define SYSTEM_VALUES 18       /* substitution values of the System template */

/* ---------------------------------------------------------------- errors */

static const char *g_where_file = "";
static size_t g_where_line;

/* Reports an input problem at the current file and line. */
static void input_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jsonl2evtx: %s:%zu: ", g_where_file, g_where_line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "jsonl2evtx: out of memory\n");
        exit(2);
    }
    return q;
}

/* ---------------------------------------------------------------- JSON */

typedef enum { J_NULL, J_BOOL, J_INT, J_UINT, J_REAL, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype t;
    bool b;
    int64_t i;          /* J_INT */
    uint64_t u;         /* J_UINT: above INT64_MAX */
    double d;           /* J_REAL */
    char *s;            /* J_STR: UTF-8, unescaped, NUL-terminated (may hold NULs: see len) */
    size_t len;
    size_t n;           /* J_ARR, J_OBJ: number of items */
    char **keys;        /* J_OBJ */
    size_t *klens;
    struct jval *items;
} jval;

typedef struct jparser {
    const char *p, *start, *end;
    const char *err;
    size_t err_at;
} jparser;

static bool jfail(jparser *J, const char *why)
{
    if (!J->err) {
        J->err = why;
        J->err_at = (size_t)(J->p - J->start);
    }
    return false;
}

static void jfree(jval *v)
{
    if (v->t == J_STR)
        free(v->s);
    if (v->t == J_ARR || v->t == J_OBJ) {
        for (size_t k = 0; k < v->n; k++) {
            jfree(&v->items[k]);
            if (v->t == J_OBJ)
                free(v->keys[k]);
        }
        free(v->items);
        free(v->keys);
        free(v->klens);
    }
    memset(v, 0, sizeof *v);
}

static void jskip_ws(jparser *J)
{
    while (J->p < J->end && (*J->p == ' ' || *J->p == '\t' || *J->p == '\n' || *J->p == '\r'))
        J->p++;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool jhex4(jparser *J, unsigned *out)
{
    if (J->end - J->p < 4)
        return jfail(J, "truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)J->p[k]);
        if (h < 0)
            return jfail(J, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    J->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at J->p (on the opening quote): unescaped into a new buffer. */
static bool jstring(jparser *J, char **out, size_t *out_len)
{
    J->p++;
    /* the unescaped text is never longer than the escaped one */
    const char *q = J->p;
    while (q < J->end && *q != '"') {
        if (*q == '\\' && q + 1 < J->end)
            q++;
        q++;
    }
    if (q >= J->end)
        return jfail(J, "unterminated string");
    char *s = xrealloc(NULL, (size_t)(q - J->p) + 1);
    size_t n = 0;
    while (J->p < J->end && *J->p != '"') {
        unsigned char c = (unsigned char)*J->p;
        if (c < 0x20) {
            free(s);
            return jfail(J, "control character in a string");
        }
        if (c != '\\') {
            s[n++] = (char)c;
            J->p++;
            continue;
        }
        J->p++;
        if (J->p >= J->end) {
            free(s);
            return jfail(J, "unterminated string");
        }
        char e = *J->p++;
        switch (e) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case '/': s[n++] = '/'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!jhex4(J, &cp)) {
                free(s);
                return false;
            }
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (J->end - J->p < 2 || J->p[0] != '\\' || J->p[1] != 'u') {
                    free(s);
                    return jfail(J, "lone high surrogate in \\u escape");
                }
                J->p += 2;
                if (!jhex4(J, &lo)) {
                    free(s);
                    return false;
                }
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(s);
                    return jfail(J, "bad surrogate pair in \\u escape");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                free(s);
                return jfail(J, "lone low surrogate in \\u escape");
            }
            /* 6 escaped bytes (12 for a pair) always hold the 1-4 bytes of UTF-8 */
            n += put_utf8(s + n, cp);
            break;
        }
        default:
            free(s);
            return jfail(J, "bad escape in a string");
        }
    }
    J->p++; /* closing quote */
    s[n] = '\0';
    *out = s;
    *out_len = n;
    return true;
}

static bool jnumber(jparser *J, jval *v)
{
    const char *b = J->p;
    bool neg = false, integral = true;
    if (J->p < J->end && *J->p == '-') {
        neg = true;
        J->p++;
    }
    if (J->p >= J->end || *J->p < '0' || *J->p > '9')
        return jfail(J, "bad number");
    if (*J->p == '0')
        J->p++;
    else
        while (J->p < J->end && *J->p >= '0' && *J->p <= '9')
            J->p++;
    if (J->p < J->end && *J->p == '.') {
        integral = false;
        J->p++;
        if (J->p >= J->end || *J->p < '0' || *J->p > '9')
            return jfail(J, "bad number");
        while (J->p < J->end && *J->p >= '0' && *J->p <= '9')
            J->p++;
    }
    if (J->p < J->end && (*J->p == 'e' || *J->p == 'E')) {
        integral = false;
        J->p++;
        if (J->p < J->end && (*J->p == '+' || *J->p == '-'))
            J->p++;
        if (J->p >= J->end || *J->p < '0' || *J->p > '9')
            return jfail(J, "bad number");
        while (J->p < J->end && *J->p >= '0' && *J->p <= '9')
            J->p++;
    }
    if (integral) {
        uint64_t m = 0;
        bool overflow = false;
        for (const char *q = b + neg; q < J->p; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (m > (UINT64_MAX - d) / 10)
                overflow = true;
            m = m * 10 + d;
        }
        if (!overflow && !neg) {
            if (m <= (uint64_t)INT64_MAX) {
                v->t = J_INT;
                v->i = (int64_t)m;
            } else {
                v->t = J_UINT;
                v->u = m;
            }
            return true;
        }
        if (!overflow && neg && m <= (uint64_t)INT64_MAX + 1) {
            v->t = J_INT;
            v->i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            return true;
        }
    }
    char buf[128];
    size_t n = (size_t)(J->p - b);
    if (n >= sizeof buf)
        return jfail(J, "number too long");
    memcpy(buf, b, n);
    buf[n] = '\0';
    v->t = J_REAL;
    v->d = strtod(buf, NULL);
    return true;
}

static bool jvalue(jparser *J, jval *v, int depth);

static bool jcontainer(jparser *J, jval *v, int depth, bool obj)
{
    if (depth >= MAX_DEPTH)
        return jfail(J, "nested deeper than 64 levels");
    v->t = obj ? J_OBJ : J_ARR;
    J->p++;
    size_t cap = 0;
    jskip_ws(J);
    if (J->p < J->end && *J->p == (obj ? '}' : ']')) {
        J->p++;
        return true;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = xrealloc(v->items, cap * sizeof *v->items);
            if (obj) {
                v->keys = xrealloc(v->keys, cap * sizeof *v->keys);
                v->klens = xrealloc(v->klens, cap * sizeof *v->klens);
            }
        }
        jskip_ws(J);
        if (obj) {
            if (J->p >= J->end || *J->p != '"')
                return jfail(J, "expected a key");
            if (!jstring(J, &v->keys[v->n], &v->klens[v->n]))
                return false;
            jskip_ws(J);
            if (J->p >= J->end || *J->p != ':') {
                free(v->keys[v->n]);
                return jfail(J, "expected ':'");
            }
            J->p++;
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        bool ok = jvalue(J, &v->items[v->n], depth + 1);
        v->n++; /* counted even when failed: jfree releases what was built */
        if (!ok)
            return false;
        jskip_ws(J);
        if (J->p < J->end && *J->p == ',') {
            J->p++;
            continue;
        }
        if (J->p < J->end && *J->p == (obj ? '}' : ']')) {
            J->p++;
            return true;
        }
        return jfail(J, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool jvalue(jparser *J, jval *v, int depth)
{
    jskip_ws(J);
    if (J->p >= J->end)
        return jfail(J, "unexpected end of line");
    switch (*J->p) {
    case '{':
        return jcontainer(J, v, depth, true);
    case '[':
        return jcontainer(J, v, depth, false);
    case '"':
        v->t = J_STR;
        return jstring(J, &v->s, &v->len);
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        for (int k = 0; k < 3; k++) {
            size_t n = strlen(words[k]);
            if ((size_t)(J->end - J->p) >= n && memcmp(J->p, words[k], n) == 0) {
                J->p += n;
                v->t = k == 2 ? J_NULL : J_BOOL;
                v->b = k == 0;
                return true;
            }
        }
        return jfail(J, "bad literal");
    }
    default:
        return jnumber(J, v);
    }
}

/* The member `key` of object o, or NULL (also when o is no object). */
static const jval *jget(const jval *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    size_t n = strlen(key);
    for (size_t k = 0; k < o->n; k++)
        if (o->klens[k] == n && memcmp(o->keys[k], key, n) == 0)
            return &o->items[k];
    return NULL;
}

/* o["#attributes"][key] */
static const jval *jattr(const jval *o, const char *key) { return jget(jget(o, "#attributes"), key); }

/* ---------------------------------------------------------------- UTF-16 */

typedef struct u16buf {
    uint16_t *u;
    size_t n, cap;
} u16buf;

/* UTF-8 (len bytes) to UTF-16 in b (replacing its content); false when the
 * text is not valid UTF-8. */
static bool to_utf16(u16buf *b, const char *s, size_t len)
{
    b->n = 0;
    if (b->cap < len + 1) {
        b->cap = len + 1;
        b->u = xrealloc(b->u, b->cap * sizeof *b->u);
    }
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        unsigned c = *p, cp, need;
        if (c < 0x80) {
            cp = c;
            need = 0;
        } else if (c >= 0xC2 && c < 0xE0) {
            cp = c & 0x1F;
            need = 1;
        } else if (c >= 0xE0 && c < 0xF0) {
            cp = c & 0x0F;
            need = 2;
        } else if (c >= 0xF0 && c < 0xF5) {
            cp = c & 0x07;
            need = 3;
        } else {
            return false;
        }
        if ((size_t)(e - p) <= need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[k] & 0x3Fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp < 0xE000))
            return false;
        p += need + 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            b->u[b->n++] = (uint16_t)(0xD800 | cp >> 10);
            b->u[b->n++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
        } else {
            b->u[b->n++] = (uint16_t)cp;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- typed values */

enum {
    VT_NULL = 0x00, VT_STRING = 0x01, VT_INT32 = 0x07, VT_UINT8 = 0x04, VT_UINT16 = 0x06,
    VT_UINT32 = 0x08, VT_INT64 = 0x09, VT_UINT64 = 0x0a, VT_REAL64 = 0x0c, VT_BOOL = 0x0d,
    VT_BINARY = 0x0e, VT_GUID = 0x0f, VT_FILETIME = 0x11, VT_SID = 0x13, VT_HEX64 = 0x15,
    VT_BINXML = 0x21
};

/* A substitution value: its type and bytes. A nested BinXML value is
 * encoded in place when written (see put_value). */
typedef struct sval {
    uint8_t type;
    uint16_t len;
    uint8_t *data;              /* owned, len bytes */
    const struct tree *nested;  /* VT_BINXML: the fragment to write */
} sval;

static void sval_set(sval *v, uint8_t type, const void *data, size_t len)
{
    free(v->data);
    v->type = type;
    v->len = (uint16_t)len;
    v->data = len ? xrealloc(NULL, len) : NULL;
    if (len)
        memcpy(v->data, data, len);
    v->nested = NULL;
}

static void sval_clear(sval *v)
{
    free(v->data);
    memset(v, 0, sizeof *v);
}

static void le16(uint8_t *o, uint16_t v)
{
    o[0] = (uint8_t)v;
    o[1] = (uint8_t)(v >> 8);
}
static void le32(uint8_t *o, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        o[k] = (uint8_t)(v >> 8 * k);
}
static void le64(uint8_t *o, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        o[k] = (uint8_t)(v >> 8 * k);
}

static bool sval_uint(sval *v, uint8_t type, uint64_t x)
{
    uint8_t b[8];
    size_t n = type == VT_UINT8 ? 1 : type == VT_UINT16 ? 2 : type == VT_UINT32 ? 4 : 8;
    le64(b, x);
    sval_set(v, type, b, n);
    return true;
}

static u16buf g_u16;

static bool sval_string(sval *v, const char *s, size_t len)
{
    if (!to_utf16(&g_u16, s, len)) {
        input_error("a string is not valid UTF-8");
        return false;
    }
    if (g_u16.n * 2 > MAX_VALUE) {
        input_error("a string of %zu UTF-16 units is over the %u-byte limit of a value", g_u16.n, MAX_VALUE);
        return false;
    }
    uint8_t *b = xrealloc(NULL, g_u16.n * 2 + 1);
    for (size_t k = 0; k < g_u16.n; k++)
        le16(b + 2 * k, g_u16.u[k]);
    sval_set(v, VT_STRING, b, g_u16.n * 2);
    free(b);
    return true;
}

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" in upper case, as Windows renders
 * a GUID: its 16 bytes (first three groups little-endian). */
static bool parse_guid(const char *s, size_t len, uint8_t out[16])
{
    if (len != 38 || s[0] != '{' || s[37] != '}')
        return false;
    static const int dash[] = {9, 14, 19, 24};
    for (int k = 0; k < 4; k++)
        if (s[dash[k]] != '-')
            return false;
    uint8_t raw[16];
    int nib = 0;
    for (size_t k = 1; k < 37; k++) {
        if (s[k] == '-')
            continue;
        int h = hexval((unsigned char)s[k]);
        if (h < 0 || (s[k] >= 'a' && s[k] <= 'f'))
            return false;
        if (nib % 2 == 0)
            raw[nib / 2] = (uint8_t)(h << 4);
        else
            raw[nib / 2] |= (uint8_t)h;
        nib++;
    }
    /* raw is big-endian text order; data1, data2, data3 are stored little-endian */
    out[0] = raw[3], out[1] = raw[2], out[2] = raw[1], out[3] = raw[0];
    out[4] = raw[5], out[5] = raw[4];
    out[6] = raw[7], out[7] = raw[6];
    memcpy(out + 8, raw + 8, 8);
    return true;
}

/* A decimal without leading zeros, at most max; advances *s. */
static bool parse_dec(const char **s, const char *e, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    if (p >= e || *p < '0' || *p > '9' || (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9'))
        return false;
    uint64_t v = 0;
    while (p < e && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
        p++;
    }
    *s = p;
    *out = v;
    return true;
}

/* "S-1-A-S1-S2..." as Windows renders a SID (authority in decimal below
 * 2^32, else 0x and 12 upper-case hex digits): its binary form. */
static bool parse_sid(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    const char *p = s, *e = s + len;
    uint64_t rev, auth, sub;
    if (len < 5 || memcmp(p, "S-", 2) != 0)
        return false;
    p += 2;
    if (!parse_dec(&p, e, 255, &rev) || p >= e || *p != '-')
        return false;
    p++;
    if (e - p >= 2 && p[0] == '0' && p[1] == 'x') {
        p += 2;
        if (e - p < 12)
            return false;
        auth = 0;
        for (int k = 0; k < 12; k++) {
            int h = hexval((unsigned char)p[k]);
            if (h < 0 || (p[k] >= 'a' && p[k] <= 'f'))
                return false;
            auth = auth << 4 | (unsigned)h;
        }
        p += 12;
        if (auth >> 32 == 0) /* Windows would have written it in decimal */
            return false;
    } else if (!parse_dec(&p, e, UINT32_MAX, &auth)) {
        return false;
    }
    out[0] = (uint8_t)rev;
    for (int k = 0; k < 6; k++)
        out[2 + k] = (uint8_t)(auth >> 8 * (5 - k));
    size_t nsub = 0;
    while (p < e) {
        if (*p != '-' || nsub == 15)
            return false;
        p++;
        if (!parse_dec(&p, e, UINT32_MAX, &sub))
            return false;
        le32(out + 8 + 4 * nsub, (uint32_t)sub);
        nsub++;
    }
    out[1] = (uint8_t)nsub;
    *out_len = 8 + 4 * nsub;
    return true;
}

/* "0x" and 1-16 lower-case hex digits without leading zeros, as Windows
 * renders HexInt64. */
static bool parse_hex64(const char *s, size_t len, uint64_t *out)
{
    if (len < 3 || len > 18 || s[0] != '0' || s[1] != 'x' || (s[2] == '0' && len > 3))
        return false;
    uint64_t v = 0;
    for (size_t k = 2; k < len; k++) {
        int h = hexval((unsigned char)s[k]);
        if (h < 0 || (s[k] >= 'A' && s[k] <= 'F'))
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

/* Upper-case hex of even length, as Windows renders binary data. */
static bool parse_binary(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    if (len == 0 || len % 2 || len / 2 > MAX_VALUE)
        return false;
    for (size_t k = 0; k < len; k++)
        if (hexval((unsigned char)s[k]) < 0 || (s[k] >= 'a' && s[k] <= 'f'))
            return false;
    uint8_t *b = xrealloc(NULL, len / 2);
    for (size_t k = 0; k < len / 2; k++)
        b[k] = (uint8_t)(hexval((unsigned char)s[2 * k]) << 4 | hexval((unsigned char)s[2 * k + 1]));
    *out = b;
    *out_len = len / 2;
    return true;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (or +00:00) as a FILETIME; a fraction
 * finer than 100 ns must be zeros (nothing is rounded away). */
static bool parse_filetime(const char *s, size_t len, uint64_t *out)
{
    unsigned f[6];
    static const int at[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return false;
    for (int k = 0; k < 6; k++) {
        f[k] = 0;
        for (int j = 0; j < width[k]; j++) {
            char c = s[at[k] + j];
            if (c < '0' || c > '9')
                return false;
            f[k] = f[k] * 10 + (unsigned)(c - '0');
        }
    }
    size_t p = 19;
    uint64_t frac = 0;
    if (p < len && s[p] == '.') {
        p++;
        int digits = 0;
        while (p < len && s[p] >= '0' && s[p] <= '9') {
            if (digits < 7)
                frac = frac * 10 + (uint64_t)(s[p] - '0');
            else if (s[p] != '0')
                return false;
            digits++;
            p++;
        }
        if (digits == 0)
            return false;
        for (int k = digits; k < 7; k++)
            frac *= 10;
    }
    if (!((len - p == 1 && s[p] == 'Z') || (len - p == 6 && memcmp(s + p, "+00:00", 6) == 0)))
        return false;
    if (f[0] < 1601 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return false;
    int64_t days = days_from_civil(f[0], f[1], f[2]) + 134774; /* 1601-01-01 .. 1970-01-01 */
    uint64_t secs = (uint64_t)days * 86400u + f[3] * 3600u + f[4] * 60u + f[5];
    *out = secs * 10000000u + frac;
    return true;
}

/* An EventData value: typed when the type's rendering is the same text. */
static bool sval_from_json(sval *v, const jval *j, bool binary_elem)
{
    uint8_t b[8 + 4 * 15];
    size_t n;
    uint64_t x;
    switch (j->t) {
    case J_NULL: /* an empty <Data>: a NULL value in a normal substitution is
                  * something Windows does not write and libfwevt rejects */
        sval_set(v, VT_STRING, NULL, 0);
        return true;
    case J_BOOL:
        le32(b, j->b ? 1u : 0u);
        sval_set(v, VT_BOOL, b, 4);
        return true;
    case J_INT:
        if (j->i >= 0 && j->i <= (int64_t)UINT32_MAX)
            return sval_uint(v, VT_UINT32, (uint64_t)j->i);
        if (j->i < 0 && j->i >= INT32_MIN) {
            le32(b, (uint32_t)(int32_t)j->i);
            sval_set(v, VT_INT32, b, 4);
            return true;
        }
        le64(b, (uint64_t)j->i);
        sval_set(v, j->i < 0 ? VT_INT64 : VT_UINT64, b, 8);
        return true;
    case J_UINT:
        return sval_uint(v, VT_UINT64, j->u);
    case J_REAL:
        memcpy(&x, &j->d, 8);
        le64(b, x);
        sval_set(v, VT_REAL64, b, 8);
        return true;
    case J_STR:
        if (binary_elem) {
            uint8_t *bin;
            if (parse_binary(j->s, j->len, &bin, &n)) {
                sval_set(v, VT_BINARY, bin, n);
                free(bin);
                return true;
            }
            return sval_string(v, j->s, j->len);
        }
        if (parse_guid(j->s, j->len, b)) {
            sval_set(v, VT_GUID, b, 16);
            return true;
        }
        if (parse_sid(j->s, j->len, b, &n)) {
            sval_set(v, VT_SID, b, n);
            return true;
        }
        if (parse_hex64(j->s, j->len, &x)) {
            le64(b, x);
            sval_set(v, VT_HEX64, b, 8);
            return true;
        }
        return sval_string(v, j->s, j->len);
    default:
        input_error("an EventData value is an object or an array: not supported");
        return false;
    }
}

/* ---------------------------------------------------------------- XML trees */

/* What a template holds: elements with attributes and content. A part is
 * literal text or a substitution; a node is an element or a content part.
 * Strings point into the JSON document or are literals. */
enum { PART_TEXT, PART_SUBST, PART_OPTSUBST };

typedef struct part {
    int kind;
    const char *text; /* PART_TEXT: UTF-8 */
    size_t len;
    uint16_t id;      /* substitutions */
    uint8_t type;
} part;

#define MAX_ATTRS 8

typedef struct node {
    const char *name; /* element name, NULL for a content part */
    size_t name_len;
    part content;     /* a content part (name == NULL) */
    int nattrs;
    const char *attr_name[MAX_ATTRS];
    part attr[MAX_ATTRS];
    int first_kid, next; /* indices into tree.nodes, -1 for none */
    int last_kid;
} node;

typedef struct tree {
    node nodes[MAX_NODES];
    int n;
    sval *vals;  /* the instance's values */
    size_t nvals;
} tree;

static int tree_add(tree *t, int parent, const char *name, size_t name_len)
{
    if (t->n == MAX_NODES)
        return -1;
    int k = t->n++;
    node *x = &t->nodes[k];
    memset(x, 0, sizeof *x);
    x->name = name;
    x->name_len = name_len;
    x->first_kid = x->next = x->last_kid = -1;
    if (parent >= 0) {
        node *p = &t->nodes[parent];
        if (p->last_kid < 0)
            p->first_kid = k;
        else
            t->nodes[p->last_kid].next = k;
        p->last_kid = k;
    }
    return k;
}

static int tree_el(tree *t, int parent, const char *name) { return tree_add(t, parent, name, strlen(name)); }

static void tree_content(tree *t, int parent, part pt)
{
    int k = tree_add(t, parent, NULL, 0);
    if (k >= 0)
        t->nodes[k].content = pt;
}

static void tree_attr(tree *t, int el, const char *name, part pt)
{
    node *x = &t->nodes[el];
    if (x->nattrs < MAX_ATTRS) {
        x->attr_name[x->nattrs] = name;
        x->attr[x->nattrs] = pt;
        x->nattrs++;
    }
}

static part text_part(const char *s, size_t len) { return (part){.kind = PART_TEXT, .text = s, .len = len}; }
static part subst_part(bool optional, uint16_t id, uint8_t type)
{
    return (part){.kind = optional ? PART_OPTSUBST : PART_SUBST, .id = id, .type = type};
}

/* The template's shape as text: equal shapes are one template. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const void *p, size_t n)
{
    if (b->cap - b->n < n + 1) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_fmt(sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_add(b, tmp, (size_t)n);
}

static void key_part(sbuf *b, const part *pt)
{
    if (pt->kind == PART_TEXT) {
        sb_fmt(b, "T%zu:", pt->len);
        sb_add(b, pt->text, pt->len);
    } else {
        sb_fmt(b, "%c%u:%u", pt->kind == PART_SUBST ? 'S' : 'O', pt->id, pt->type);
    }
}

static void key_node(sbuf *b, const tree *t, int k)
{
    const node *x = &t->nodes[k];
    if (!x->name) {
        key_part(b, &x->content);
        return;
    }
    sb_fmt(b, "<%zu:", x->name_len);
    sb_add(b, x->name, x->name_len);
    for (int a = 0; a < x->nattrs; a++) {
        size_t n = strlen(x->attr_name[a]);
        sb_fmt(b, " %zu:", n);
        sb_add(b, x->attr_name[a], n);
        sb_add(b, "=", 1);
        key_part(b, &x->attr[a]);
    }
    sb_add(b, ">", 1);
    for (int c = x->first_kid; c >= 0; c = t->nodes[c].next)
        key_node(b, t, c);
    sb_add(b, "<>", 2);
}

/* ---------------------------------------------------------------- chunks */

typedef struct name_ent {
    char *s;
    size_t len;
    uint32_t off;
    uint16_t hash;
} name_ent;

typedef struct tmpl_ent {
    char *key;
    uint32_t off; /* chunk offset of the definition (its next-offset field) */
    uint32_t id;
} tmpl_ent;

typedef struct chunk {
    uint8_t buf[CHUNK_SIZE];
    size_t pos;
    bool overflow;
    name_ent *names;
    size_t nnames, names_cap;
    tmpl_ent *tmpls;
    size_t ntmpls, tmpls_cap;
    size_t nrecords;
    uint64_t first_id, last_id;
    uint32_t last_rec_off;
} chunk;

static bool room(chunk *c, size_t n)
{
    if (c->overflow || CHUNK_SIZE - c->pos < n) {
        c->overflow = true;
        return false;
    }
    return true;
}
static void w8(chunk *c, uint8_t v)
{
    if (room(c, 1))
        c->buf[c->pos++] = v;
}
static void w16(chunk *c, uint16_t v)
{
    if (room(c, 2)) {
        le16(c->buf + c->pos, v);
        c->pos += 2;
    }
}
static void w32(chunk *c, uint32_t v)
{
    if (room(c, 4)) {
        le32(c->buf + c->pos, v);
        c->pos += 4;
    }
}
static void w64(chunk *c, uint64_t v)
{
    if (room(c, 8)) {
        le64(c->buf + c->pos, v);
        c->pos += 8;
    }
}
static void wbytes(chunk *c, const void *p, size_t n)
{
    if (n && room(c, n)) {
        memcpy(c->buf + c->pos, p, n);
        c->pos += n;
    }
}
/* Fills a field reserved earlier (skipped after an overflow: the record is
 * written again elsewhere). */
static void patch32(chunk *c, size_t at, uint32_t v)
{
    if (!c->overflow && at + 4 <= CHUNK_SIZE)
        le32(c->buf + at, v);
}
static void patch16(chunk *c, size_t at, uint16_t v)
{
    if (!c->overflow && at + 2 <= CHUNK_SIZE)
        le16(c->buf + at, v);
}

static void chunk_reset(chunk *c)
{
    for (size_t k = 0; k < c->nnames; k++)
        free(c->names[k].s);
    for (size_t k = 0; k < c->ntmpls; k++)
        free(c->tmpls[k].key);
    memset(c->buf, 0, sizeof c->buf);
    c->pos = CHUNK_HEADER_SIZE;
    c->overflow = false;
    c->nnames = c->ntmpls = c->nrecords = 0;
    c->first_id = c->last_id = 0;
    c->last_rec_off = 0;
}

/* Windows' name hash: h = h * 65599 + unit over the UTF-16 units, low 16 bits. */
static uint16_t name_hash(const uint16_t *u, size_t n)
{
    uint32_t h = 0;
    for (size_t k = 0; k < n; k++)
        h = h * 65599u + u[k];
    return (uint16_t)h;
}

static bool g_bad_name;

/* A name reference: the offset of the name in this chunk; stored inline,
 * right after the reference, the first time. */
static void put_name(chunk *c, const char *s, size_t len)
{
    for (size_t k = 0; k < c->nnames; k++)
        if (c->names[k].len == len && memcmp(c->names[k].s, s, len) == 0) {
            w32(c, c->names[k].off);
            return;
        }
    u16buf u = {0};
    if (!to_utf16(&u, s, len) || u.n > 0xFFFF) {
        g_bad_name = true;
        free(u.u);
        return;
    }
    uint32_t off = (uint32_t)c->pos + 4;
    w32(c, off);
    w32(c, 0); /* next name in the hash bucket: filled when the chunk is closed */
    uint16_t h = name_hash(u.u, u.n);
    w16(c, h);
    w16(c, (uint16_t)u.n);
    for (size_t k = 0; k < u.n; k++)
        w16(c, u.u[k]);
    w16(c, 0);
    free(u.u);
    if (c->overflow)
        return;
    if (c->nnames == c->names_cap) {
        c->names_cap = c->names_cap ? c->names_cap * 2 : 64;
        c->names = xrealloc(c->names, c->names_cap * sizeof *c->names);
    }
    char *copy = xrealloc(NULL, len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    c->names[c->nnames++] = (name_ent){.s = copy, .len = len, .off = off, .hash = h};
}

static void put_part(chunk *c, const part *pt)
{
    if (pt->kind == PART_TEXT) {
        u16buf u = {0};
        if (!to_utf16(&u, pt->text, pt->len) || u.n > 0xFFFF) {
            g_bad_name = true;
            free(u.u);
            return;
        }
        w8(c, 0x05); /* value text */
        w8(c, VT_STRING);
        w16(c, (uint16_t)u.n);
        for (size_t k = 0; k < u.n; k++)
            w16(c, u.u[k]);
        free(u.u);
    } else {
        w8(c, pt->kind == PART_SUBST ? 0x0d : 0x0e);
        w16(c, pt->id);
        w8(c, pt->type);
    }
}

/* An element: start (token, dependency id, data size, name), attribute list,
 * then "/>" or ">" content "</>". The data size counts every byte of the
 * element after the first 7 (token, dependency id and the size itself). */
static void put_element(chunk *c, const tree *t, int k)
{
    const node *x = &t->nodes[k];
    size_t start = c->pos;
    w8(c, x->nattrs ? 0x41 : 0x01);
    w16(c, 0xFFFF); /* dependency identifier: none */
    size_t size_at = c->pos;
    w32(c, 0);
    put_name(c, x->name, x->name_len);
    if (x->nattrs) {
        size_t list_at = c->pos;
        w32(c, 0);
        for (int a = 0; a < x->nattrs; a++) {
            w8(c, a + 1 < x->nattrs ? 0x46 : 0x06); /* 0x40: another attribute follows */
            put_name(c, x->attr_name[a], strlen(x->attr_name[a]));
            put_part(c, &x->attr[a]);
        }
        patch32(c, list_at, (uint32_t)(c->pos - list_at - 4));
    }
    if (x->first_kid < 0) {
        w8(c, 0x03); /* close empty element */
    } else {
        w8(c, 0x02); /* close start element */
        for (int kid = x->first_kid; kid >= 0; kid = t->nodes[kid].next) {
            if (t->nodes[kid].name)
                put_element(c, t, kid);
            else
                put_part(c, &t->nodes[kid].content);
        }
        w8(c, 0x04); /* end element */
    }
    patch32(c, size_at, (uint32_t)(c->pos - start - 7));
}

static uint64_t fnv1a(const char *s, size_t n, uint64_t h)
{
    for (size_t k = 0; k < n; k++) {
        h ^= (unsigned char)s[k];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool g_too_big;

static void put_instance(chunk *c, const tree *t);

/* A value's bytes; a nested BinXML value is a fragment written in place. */
static void put_value(chunk *c, const sval *v, size_t desc_at)
{
    if (v->type == VT_BINXML && v->nested) {
        size_t start = c->pos;
        put_instance(c, v->nested);
        w8(c, 0x00); /* end of stream, inside the value as Windows writes it */
        size_t n = c->pos - start;
        if (n > MAX_VALUE)
            g_too_big = true;
        patch16(c, desc_at, (uint16_t)n);
        return;
    }
    wbytes(c, v->data, v->len);
}

/* A fragment header and a template instance: the definition inline when
 * the shape is new in this chunk, else its offset; then the values. */
static void put_instance(chunk *c, const tree *t)
{
    sbuf key = {0};
    key_node(&key, t, 0);
    w8(c, 0x0f); /* fragment header: token, major 1, minor 1, flags 0 */
    w8(c, 0x01);
    w8(c, 0x01);
    w8(c, 0x00);
    w8(c, 0x0c); /* template instance */
    w8(c, 0x01);
    const tmpl_ent *found = NULL;
    for (size_t k = 0; k < c->ntmpls; k++)
        if (strcmp(c->tmpls[k].key, key.s) == 0)
            found = &c->tmpls[k];
    if (found) {
        w32(c, found->id);
        w32(c, found->off);
        free(key.s);
    } else {
        uint8_t guid[16];
        le64(guid, fnv1a(key.s, key.n, 0xcbf29ce484222325ull));
        le64(guid + 8, fnv1a(key.s, key.n, 0x84222325cbf29ce4ull));
        uint32_t id = (uint32_t)guid[0] | (uint32_t)guid[1] << 8 | (uint32_t)guid[2] << 16 | (uint32_t)guid[3] << 24;
        w32(c, id);
        uint32_t def = (uint32_t)c->pos + 4;
        w32(c, def);
        w32(c, 0); /* next template in the bucket: filled when the chunk is closed */
        wbytes(c, guid, 16);
        size_t size_at = c->pos;
        w32(c, 0);
        size_t body = c->pos;
        w8(c, 0x0f);
        w8(c, 0x01);
        w8(c, 0x01);
        w8(c, 0x00);
        put_element(c, t, 0);
        w8(c, 0x00); /* end of stream */
        patch32(c, size_at, (uint32_t)(c->pos - body));
        if (c->overflow) {
            free(key.s);
        } else {
            if (c->ntmpls == c->tmpls_cap) {
                c->tmpls_cap = c->tmpls_cap ? c->tmpls_cap * 2 : 16;
                c->tmpls = xrealloc(c->tmpls, c->tmpls_cap * sizeof *c->tmpls);
            }
            c->tmpls[c->ntmpls++] = (tmpl_ent){.key = key.s, .off = def, .id = id};
        }
    }
    w32(c, (uint32_t)t->nvals);
    size_t desc = c->pos;
    for (size_t k = 0; k < t->nvals; k++) {
        w16(c, t->vals[k].len);
        w8(c, t->vals[k].type);
        w8(c, 0);
    }
    for (size_t k = 0; k < t->nvals; k++)
        put_value(c, &t->vals[k], desc + 4 * k);
}

/* Fills the chunk header: tables, chains, counts, checksums. */
static void chunk_close(chunk *c)
{
    uint8_t *h = c->buf;
    uint32_t heads[64] = {0}, theads[32] = {0};
    /* each bucket lists its names newest first, as Windows chains them */
    for (size_t k = 0; k < c->nnames; k++) {
        unsigned b = c->names[k].hash % 64u;
        le32(h + c->names[k].off, heads[b]);
        heads[b] = c->names[k].off;
    }
    for (size_t k = 0; k < c->ntmpls; k++) {
        unsigned b = c->tmpls[k].id % 32u;
        le32(h + c->tmpls[k].off, theads[b]);
        theads[b] = c->tmpls[k].off;
    }
    memcpy(h, "ElfChnk", 8);
    le64(h + 8, c->first_id);  /* record numbers: Windows writes the identifiers */
    le64(h + 16, c->last_id);
    le64(h + 24, c->first_id);
    le64(h + 32, c->last_id);
    le32(h + 40, 128);
    le32(h + 44, c->last_rec_off);
    le32(h + 48, (uint32_t)c->pos);
    le32(h + 52, (uint32_t)crc32(0L, h + CHUNK_HEADER_SIZE, (uInt)(c->pos - CHUNK_HEADER_SIZE)));
    le32(h + 120, 1); /* as in every chunk Windows writes */
    for (int k = 0; k < 64; k++)
        le32(h + 128 + 4 * k, heads[k]);
    for (int k = 0; k < 32; k++)
        le32(h + 384 + 4 * k, theads[k]);
    uLong crc = crc32(0L, h, 120);
    crc = crc32(crc, h + 128, CHUNK_HEADER_SIZE - 128);
    le32(h + 124, (uint32_t)crc);
}

/* ---------------------------------------------------------------- events */

typedef struct event {
    tree sys;                 /* the System template and its 18 values */
    tree data;                /* the EventData template (nested) */
    sval sys_vals[SYSTEM_VALUES];
    sval data_vals[MAX_ITEMS];
    bool has_data;
    uint64_t record_id;
    uint64_t written;         /* FILETIME */
} event;

static void event_clear(event *e)
{
    for (size_t k = 0; k < SYSTEM_VALUES; k++)
        sval_clear(&e->sys_vals[k]);
    for (size_t k = 0; k < e->data.nvals; k++)
        sval_clear(&e->data_vals[k]);
    e->data.nvals = 0;
    e->sys.n = e->data.n = 0;
    e->has_data = false;
}

static bool want_uint(const jval *j, const char *what, uint64_t max, uint64_t *out)
{
    if (!j || (j->t != J_INT && j->t != J_UINT) || (j->t == J_INT && j->i < 0) ||
        (j->t == J_INT ? (uint64_t)j->i : j->u) > max) {
        input_error("%s: expected an integer from 0 to %llu", what, (unsigned long long)max);
        return false;
    }
    *out = j->t == J_INT ? (uint64_t)j->i : j->u;
    return true;
}

static bool want_str(const jval *j, const char *what)
{
    if (!j || j->t != J_STR) {
        input_error("%s: expected a string", what);
        return false;
    }
    return true;
}

/* An optional integer substitution of System: NULL when absent. */
static bool sys_uint(event *e, int el, const jval *j, const char *what, uint16_t id, uint8_t type)
{
    static const uint64_t max[] = {[VT_UINT8] = 0xFF, [VT_UINT16] = 0xFFFF, [VT_UINT32] = 0xFFFFFFFFu,
                                   [VT_UINT64] = UINT64_MAX};
    uint64_t x;
    if (!want_uint(j, what, max[type], &x))
        return false;
    sval_uint(&e->sys_vals[id], type, x);
    tree_content(&e->sys, el, subst_part(true, id, type));
    return true;
}

/* A GUID attribute (ActivityID...): GUID when canonical, else a string. */
static bool sys_guid_attr(event *e, int el, const char *name, const jval *j, uint16_t id)
{
    uint8_t g[16];
    if (j && j->t != J_NULL) {
        if (!want_str(j, name))
            return false;
        if (parse_guid(j->s, j->len, g))
            sval_set(&e->sys_vals[id], VT_GUID, g, 16);
        else if (!sval_string(&e->sys_vals[id], j->s, j->len))
            return false;
    }
    tree_attr(&e->sys, el, name, subst_part(true, id, e->sys_vals[id].type ? e->sys_vals[id].type : VT_GUID));
    return true;
}

/* Only these attribute names in o["#attributes"]. */
static bool attrs_only(const jval *o, const char *what, const char *const *allowed)
{
    const jval *a = jget(o, "#attributes");
    if (o && o->t == J_OBJ)
        for (size_t k = 0; k < o->n; k++)
            if (strcmp(o->keys[k], "#attributes") != 0) {
                input_error("%s: unexpected member \"%s\"", what, o->keys[k]);
                return false;
            }
    if (!a)
        return true;
    if (a->t != J_OBJ) {
        input_error("%s: #attributes is not an object", what);
        return false;
    }
    for (size_t k = 0; k < a->n; k++) {
        bool ok = false;
        for (const char *const *n = allowed; *n && !ok; n++)
            ok = strcmp(a->keys[k], *n) == 0;
        if (!ok) {
            input_error("%s: attribute \"%s\" not supported", what, a->keys[k]);
            return false;
        }
    }
    return true;
}

/* The System element and its values. */
static bool build_system(event *e, const jval *ev, const jval *sys)
{
    tree *t = &e->sys;
    int root = tree_el(t, -1, "Event");
    const jval *ea = jget(ev, "#attributes");
    if (ea) {
        if (ea->t != J_OBJ) {
            input_error("Event: #attributes is not an object");
            return false;
        }
        for (size_t k = 0; k < ea->n; k++) {
            if (!want_str(&ea->items[k], ea->keys[k]))
                return false;
            tree_attr(t, root, ea->keys[k], text_part(ea->items[k].s, ea->items[k].len));
        }
    }
    int s = tree_el(t, root, "System");
    static const char *const known[] = {"Provider", "EventID", "Version", "Level", "Task", "Opcode", "Keywords",
                                        "TimeCreated", "EventRecordID", "Correlation", "Execution", "Channel",
                                        "Computer", "Security", NULL};
    for (size_t k = 0; k < sys->n; k++) {
        bool ok = false;
        for (const char *const *n = known; *n && !ok; n++)
            ok = strcmp(sys->keys[k], *n) == 0;
        if (!ok) {
            input_error("System: element \"%s\" not supported", sys->keys[k]);
            return false;
        }
    }
    const jval *j;
    if ((j = jget(sys, "Provider"))) {
        int el = tree_el(t, s, "Provider");
        static const char *const allowed[] = {"Name", "Guid", "EventSourceName", NULL};
        if (!attrs_only(j, "Provider", allowed))
            return false;
        const jval *a = jget(j, "#attributes");
        const jval *name = jattr(j, "Name"), *guid = jattr(j, "Guid");
        uint8_t g[16] = {0};
        bool literal = jattr(j, "EventSourceName") ||
                       (guid && (guid->t != J_STR || !parse_guid(guid->s, guid->len, g)));
        if (literal) { /* a classic event source: the attributes as text, in their order */
            for (size_t k = 0; a && k < a->n; k++) {
                if (!want_str(&a->items[k], a->keys[k]))
                    return false;
                tree_attr(t, el, a->keys[k], text_part(a->items[k].s, a->items[k].len));
            }
        } else {
            if (name) {
                if (!want_str(name, "Provider Name") || !sval_string(&e->sys_vals[14], name->s, name->len))
                    return false;
            }
            tree_attr(t, el, "Name", subst_part(true, 14, VT_STRING));
            if (guid)
                sval_set(&e->sys_vals[15], VT_GUID, g, 16);
            tree_attr(t, el, "Guid", subst_part(true, 15, VT_GUID));
        }
    }
    if ((j = jget(sys, "EventID"))) {
        int el = tree_el(t, s, "EventID");
        const jval *id = j, *q = NULL;
        if (j->t == J_OBJ) {
            for (size_t k = 0; k < j->n; k++)
                if (strcmp(j->keys[k], "#attributes") != 0 && strcmp(j->keys[k], "#text") != 0) {
                    input_error("EventID: unexpected member \"%s\"", j->keys[k]);
                    return false;
                }
            static const char *const allowed[] = {"Qualifiers", NULL};
            const jval *a = jget(j, "#attributes");
            for (size_t k = 0; a && a->t == J_OBJ && k < a->n; k++)
                if (strcmp(a->keys[k], allowed[0]) != 0) {
                    input_error("EventID: attribute \"%s\" not supported", a->keys[k]);
                    return false;
                }
            q = jattr(j, "Qualifiers");
            id = jget(j, "#text");
        }
        uint64_t x;
        if (q) {
            if (!want_uint(q, "EventID Qualifiers", 0xFFFF, &x))
                return false;
            sval_uint(&e->sys_vals[4], VT_UINT16, x);
        }
        tree_attr(t, el, "Qualifiers", subst_part(true, 4, VT_UINT16));
        if (!sys_uint(e, el, id, "EventID", 3, VT_UINT16))
            return false;
    }
    if ((j = jget(sys, "Version")) && !sys_uint(e, tree_el(t, s, "Version"), j, "Version", 11, VT_UINT8))
        return false;
    if ((j = jget(sys, "Level")) && !sys_uint(e, tree_el(t, s, "Level"), j, "Level", 0, VT_UINT8))
        return false;
    if ((j = jget(sys, "Task")) && !sys_uint(e, tree_el(t, s, "Task"), j, "Task", 2, VT_UINT16))
        return false;
    if ((j = jget(sys, "Opcode")) && !sys_uint(e, tree_el(t, s, "Opcode"), j, "Opcode", 1, VT_UINT8))
        return false;
    if ((j = jget(sys, "Keywords"))) {
        int el = tree_el(t, s, "Keywords");
        uint64_t x;
        uint8_t b[8];
        if (!want_str(j, "Keywords"))
            return false;
        if (parse_hex64(j->s, j->len, &x)) {
            le64(b, x);
            sval_set(&e->sys_vals[5], VT_HEX64, b, 8);
        } else if (!sval_string(&e->sys_vals[5], j->s, j->len)) {
            return false;
        }
        tree_content(t, el, subst_part(true, 5, e->sys_vals[5].type));
    }
    if ((j = jget(sys, "TimeCreated"))) {
        int el = tree_el(t, s, "TimeCreated");
        static const char *const allowed[] = {"SystemTime", NULL};
        if (!attrs_only(j, "TimeCreated", allowed))
            return false;
        const jval *st = jattr(j, "SystemTime");
        if (st) {
            if (!want_str(st, "SystemTime") || !parse_filetime(st->s, st->len, &e->written)) {
                input_error("SystemTime: expected YYYY-MM-DDTHH:MM:SS[.fffffff]Z");
                return false;
            }
            uint8_t b[8];
            le64(b, e->written);
            sval_set(&e->sys_vals[6], VT_FILETIME, b, 8);
        }
        tree_attr(t, el, "SystemTime", subst_part(true, 6, VT_FILETIME));
    }
    if (!(j = jget(sys, "EventRecordID"))) {
        input_error("System: no EventRecordID (it is the record's identifier)");
        return false;
    }
    if (!want_uint(j, "EventRecordID", UINT64_MAX, &e->record_id) ||
        !sys_uint(e, tree_el(t, s, "EventRecordID"), j, "EventRecordID", 10, VT_UINT64))
        return false;
    if ((j = jget(sys, "Correlation"))) {
        int el = tree_el(t, s, "Correlation");
        static const char *const allowed[] = {"ActivityID", "RelatedActivityID", NULL};
        if (j->t != J_NULL && !attrs_only(j, "Correlation", allowed))
            return false;
        if (!sys_guid_attr(e, el, "ActivityID", jattr(j, "ActivityID"), 7) ||
            !sys_guid_attr(e, el, "RelatedActivityID", jattr(j, "RelatedActivityID"), 13))
            return false;
    }
    if ((j = jget(sys, "Execution"))) {
        int el = tree_el(t, s, "Execution");
        static const char *const allowed[] = {"ProcessID", "ThreadID", NULL};
        if (j->t != J_NULL && !attrs_only(j, "Execution", allowed))
            return false;
        uint64_t x;
        const jval *p = jattr(j, "ProcessID"), *th = jattr(j, "ThreadID");
        if (p) {
            if (!want_uint(p, "ProcessID", UINT32_MAX, &x))
                return false;
            sval_uint(&e->sys_vals[8], VT_UINT32, x);
        }
        if (th) {
            if (!want_uint(th, "ThreadID", UINT32_MAX, &x))
                return false;
            sval_uint(&e->sys_vals[9], VT_UINT32, x);
        }
        tree_attr(t, el, "ProcessID", subst_part(true, 8, VT_UINT32));
        tree_attr(t, el, "ThreadID", subst_part(true, 9, VT_UINT32));
    }
    if ((j = jget(sys, "Channel"))) {
        int el = tree_el(t, s, "Channel");
        if (!want_str(j, "Channel") || !sval_string(&e->sys_vals[16], j->s, j->len))
            return false;
        tree_content(t, el, subst_part(true, 16, VT_STRING));
    }
    if ((j = jget(sys, "Computer"))) {
        int el = tree_el(t, s, "Computer");
        if (!want_str(j, "Computer"))
            return false;
        tree_content(t, el, text_part(j->s, j->len));
    }
    if ((j = jget(sys, "Security"))) {
        int el = tree_el(t, s, "Security");
        static const char *const allowed[] = {"UserID", NULL};
        if (j->t != J_NULL && !attrs_only(j, "Security", allowed))
            return false;
        const jval *u = jattr(j, "UserID");
        if (u && u->t != J_NULL) {
            uint8_t b[8 + 4 * 15];
            size_t n;
            if (!want_str(u, "UserID"))
                return false;
            if (parse_sid(u->s, u->len, b, &n))
                sval_set(&e->sys_vals[12], VT_SID, b, n);
            else if (!sval_string(&e->sys_vals[12], u->s, u->len))
                return false;
        }
        tree_attr(t, el, "UserID", subst_part(true, 12, e->sys_vals[12].type ? e->sys_vals[12].type : VT_SID));
    }
    /* EventData: value 17, a nested fragment (NULL when the event has none) */
    tree_content(t, root, subst_part(true, 17, VT_BINXML));
    t->vals = e->sys_vals;
    t->nvals = SYSTEM_VALUES;
    if (t->n >= MAX_NODES) {
        input_error("event too complex");
        return false;
    }
    return true;
}

/* The EventData template: one element per item, one value each. */
static bool build_data(event *e, const jval *ed)
{
    tree *t = &e->data;
    int root = tree_el(t, -1, "EventData");
    t->vals = e->data_vals;
    t->nvals = 0;
    e->has_data = true;
    if (ed->t == J_NULL)
        return true;
    if (ed->t != J_OBJ) {
        input_error("EventData: expected an object or null");
        return false;
    }
    for (size_t k = 0; k < ed->n; k++) {
        const char *key = ed->keys[k];
        const jval *v = &ed->items[k];
        if (strcmp(key, "Data") == 0 && v->t == J_ARR) { /* unnamed <Data> elements */
            for (size_t i = 0; i < v->n; i++) {
                if (t->nvals == MAX_ITEMS) {
                    input_error("EventData: more than %d items", MAX_ITEMS);
                    return false;
                }
                int el = tree_el(t, root, "Data");
                if (!sval_from_json(&e->data_vals[t->nvals], &v->items[i], false))
                    return false;
                tree_content(t, el, subst_part(false, (uint16_t)t->nvals, e->data_vals[t->nvals].type));
                t->nvals++;
            }
            continue;
        }
        if (key[0] == '#') {
            input_error("EventData: member \"%s\" not supported", key);
            return false;
        }
        if (t->nvals == MAX_ITEMS) {
            input_error("EventData: more than %d items", MAX_ITEMS);
            return false;
        }
        bool binary = strcmp(key, "Binary") == 0;
        int el = tree_el(t, root, binary ? "Binary" : "Data");
        if (!binary)
            tree_attr(t, el, "Name", text_part(key, ed->klens[k]));
        if (!sval_from_json(&e->data_vals[t->nvals], v, binary))
            return false;
        tree_content(t, el, subst_part(false, (uint16_t)t->nvals, e->data_vals[t->nvals].type));
        t->nvals++;
    }
    if (t->n >= MAX_NODES) {
        input_error("event too complex");
        return false;
    }
    return true;
}

static bool build_event(event *e, const jval *doc)
{
    const jval *ev = jget(doc, "Event");
    if (!ev || ev->t != J_OBJ) {
        input_error("not an event: no \"Event\" object");
        return false;
    }
    for (size_t k = 0; k < ev->n; k++)
        if (strcmp(ev->keys[k], "System") != 0 && strcmp(ev->keys[k], "EventData") != 0 &&
            strcmp(ev->keys[k], "#attributes") != 0) {
            input_error("Event: \"%s\" not supported (only System and EventData)", ev->keys[k]);
            return false;
        }
    const jval *sys = jget(ev, "System");
    if (!sys || sys->t != J_OBJ) {
        input_error("Event: no System object");
        return false;
    }
    if (!build_system(e, ev, sys))
        return false;
    const jval *ed = jget(ev, "EventData");
    if (ed && !build_data(e, ed))
        return false;
    if (e->has_data) {
        e->sys_vals[17].type = VT_BINXML;
        e->sys_vals[17].nested = &e->data;
    }
    return true;
}

/* Writes one record at the chunk's position; false when it did not fit. */
static bool put_record(chunk *c, const event *e)
{
    size_t start = c->pos;
    w32(c, 0x00002a2a);
    w32(c, 0); /* size */
    w64(c, e->record_id);
    w64(c, e->written);
    put_instance(c, &e->sys);
    w8(c, 0x00); /* end of stream */
    while ((c->pos + 4 - start) % 8 && !c->overflow)
        w8(c, 0x00); /* Windows' records are multiples of 8 bytes */
    size_t size = c->pos + 4 - start;
    w32(c, (uint32_t)size);
    patch32(c, start + 4, (uint32_t)size);
    return !c->overflow;
}

/* ---------------------------------------------------------------- file */

typedef struct writer {
    FILE *f;
    const char *path;
    chunk *c;
    size_t nchunks;
    uint64_t nrecords;
    uint64_t last_id;
    bool any;
} writer;

static bool flush_chunk(writer *W)
{
    if (!W->c->nrecords)
        return true;
    if (W->nchunks == MAX_CHUNKS) {
        input_error("more than %u chunks: too many events for one file", MAX_CHUNKS);
        return false;
    }
    chunk_close(W->c);
    if (fwrite(W->c->buf, 1, CHUNK_SIZE, W->f) != CHUNK_SIZE) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", W->path, strerror(errno));
        exit(2);
    }
    W->nchunks++;
    chunk_reset(W->c);
    return true;
}

/* Truncates the chunk's name and template tables back to a saved size. */
static void chunk_rollback(chunk *c, size_t pos, size_t nnames, size_t ntmpls)
{
    for (size_t k = nnames; k < c->nnames; k++)
        free(c->names[k].s);
    for (size_t k = ntmpls; k < c->ntmpls; k++)
        free(c->tmpls[k].key);
    c->nnames = nnames;
    c->ntmpls = ntmpls;
    memset(c->buf + pos, 0, CHUNK_SIZE - pos);
    c->pos = pos;
    c->overflow = false;
}

static bool add_event(writer *W, const event *e)
{
    if (W->any && e->record_id <= W->last_id) {
        input_error("EventRecordID %llu after %llu: identifiers must increase", (unsigned long long)e->record_id,
                    (unsigned long long)W->last_id);
        return false;
    }
    chunk *c = W->c;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t pos = c->pos, nn = c->nnames, nt = c->ntmpls;
        g_bad_name = g_too_big = false;
        bool ok = put_record(c, e);
        if (g_bad_name || g_too_big) {
            chunk_rollback(c, pos, nn, nt);
            input_error(g_bad_name ? "a name or literal text is not valid UTF-8 or too long"
                                   : "EventData encodes to more than %u bytes", MAX_VALUE);
            return false;
        }
        if (ok) {
            if (!c->nrecords)
                c->first_id = e->record_id;
            c->last_id = e->record_id;
            c->last_rec_off = (uint32_t)pos;
            c->nrecords++;
            W->nrecords++;
            W->last_id = e->record_id;
            W->any = true;
            return true;
        }
        chunk_rollback(c, pos, nn, nt);
        if (!c->nrecords)
            break; /* an empty chunk cannot hold it */
        if (!flush_chunk(W))
            return false;
    }
    input_error("the event does not fit in one chunk (%u bytes)", CHUNK_SIZE - CHUNK_HEADER_SIZE);
    return false;
}

static bool write_header(writer *W)
{
    uint8_t h[FILE_HEADER_SIZE] = {0};
    memcpy(h, "ElfFile", 8);
    le64(h + 8, 0);
    le64(h + 16, W->nchunks ? W->nchunks - 1 : 0);
    le64(h + 24, W->any ? W->last_id + 1 : 1);
    le32(h + 32, 128);
    le16(h + 36, 1); /* minor version */
    le16(h + 38, 3); /* major version */
    le16(h + 40, FILE_HEADER_SIZE);
    le16(h + 42, (uint16_t)W->nchunks);
    le32(h + 120, 0); /* flags: neither dirty nor full */
    le32(h + 124, (uint32_t)crc32(0L, h, 120));
    return fseek(W->f, 0, SEEK_SET) == 0 && fwrite(h, 1, sizeof h, W->f) == sizeof h;
}

/* Reads one JSON-lines file into the writer. */
static bool read_file(writer *W, const char *path, event *e)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", path, strerror(errno));
        return false;
    }
    g_where_file = path;
    g_where_line = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;
    while (ok && (n = getline(&line, &cap, in)) >= 0) {
        g_where_line++;
        const char *p = line, *end = line + n;
        if (g_where_line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
        jparser J = {.p = p, .start = p, .end = end};
        jskip_ws(&J);
        if (J.p == J.end)
            continue; /* blank line */
        jval doc = {0};
        bool parsed = jvalue(&J, &doc, 0);
        if (parsed) {
            jskip_ws(&J);
            if (J.p != J.end)
                parsed = jfail(&J, "text after the JSON value");
        }
        if (!parsed) {
            input_error("column %zu: %s", J.err_at + 1, J.err);
            ok = false;
        } else {
            ok = build_event(e, &doc) && add_event(W, e);
            event_clear(e);
        }
        jfree(&doc);
    }
    if (ok && ferror(in)) {
        fprintf(stderr, "jsonl2evtx: %s: read error\n", path);
        ok = false;
    }
    free(line);
    fclose(in);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc < 3 ? stderr : stdout,
                "usage: jsonl2evtx OUT.evtx IN.jsonl...\n"
                "Writes the events of the JSON-lines files (evtx_dump -o jsonl shape), in order,\n"
                "as a Windows event log file.\n");
        return argc < 3 ? 1 : 0;
    }
    writer W = {.path = argv[1]};
    W.f = fopen(W.path, "wb");
    if (!W.f) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", W.path, strerror(errno));
        return 2;
    }
    static uint8_t zeros[FILE_HEADER_SIZE];
    if (fwrite(zeros, 1, sizeof zeros, W.f) != sizeof zeros) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", W.path, strerror(errno));
        fclose(W.f);
        remove(W.path);
        return 2;
    }
    W.c = xrealloc(NULL, sizeof *W.c);
    memset(W.c, 0, sizeof *W.c);
    chunk_reset(W.c);
    event *e = xrealloc(NULL, sizeof *e);
    memset(e, 0, sizeof *e);
    bool ok = true;
    for (int k = 2; k < argc && ok; k++)
        ok = read_file(&W, argv[k], e);
    if (ok && !W.any) {
        fprintf(stderr, "jsonl2evtx: no events in the input\n");
        ok = false;
    }
    if (ok)
        ok = flush_chunk(&W);
    int status = ok ? 0 : 1;
    if (ok && (!write_header(&W) || fflush(W.f) != 0)) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", W.path, strerror(errno));
        status = 2;
    }
    if (fclose(W.f) != 0 && status == 0) {
        fprintf(stderr, "jsonl2evtx: %s: %s\n", W.path, strerror(errno));
        status = 2;
    }
    if (status != 0)
        remove(W.path);
    else
        fprintf(stderr, "jsonl2evtx: %s: %llu records in %zu chunk(s)\n", W.path, (unsigned long long)W.nrecords,
                W.nchunks);
    chunk_reset(W.c);
    free(W.c->names);
    free(W.c->tmpls);
    free(W.c);
    free(e);
    free(g_u16.u);
    return status;
}
