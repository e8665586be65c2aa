/*
 * evtx.c — the native reader of Windows event logs (.evtx): file header,
 * 64 KiB chunks, event records and the Binary XML (BinXML) they hold,
 * turned into events with the same flattened names the JSON reader gives
 * for the same event exported by evtx_dump, so that one rule matches both.
 *
 * Layout (facts from the libyal EVTX format description, no code reused):
 *   file header   4096 bytes, "ElfFile\0", chunk count, flags (dirty, full),
 *                 CRC32 of its first 120 bytes
 *   chunk         65536 bytes, "ElfChnk\0", a 512-byte header (record
 *                 numbers, free-space offset, CRC32 of the records and of the
 *                 header itself), then records back to back
 *   record        "\x2a\x2a\0\0", size, record id, FILETIME, BinXML, size copy
 *   BinXML        tokens: elements, attributes, text, character and entity
 *                 references, CDATA, processing instructions, and template
 *                 instances — a template (stored once per chunk, referenced
 *                 by offset) plus the record's substitution values. Names are
 *                 UTF-16 strings stored once per chunk and referenced by
 *                 offset. A value of type BinXML (0x21) holds a nested
 *                 fragment (UserData, EventData of many providers).
 *
 * How it works: each template is compiled once per chunk into a flat list
 * of operations (open element, attribute, text, substitution, close) with
 * its names already decoded to UTF-8; a record is then an evaluation of that
 * list against its substitution values. Records without templates (logs
 * re-saved by Event Viewer, nested fragments) are compiled into scratch
 * space and evaluated the same way. Element starts come with or without
 * their 2-byte dependency id (both are found in the wild); the name
 * reference that follows, inline or pointing back, tells which.
 *
 * Evaluation feeds a small XML-to-fields consumer that applies evtx_dump's
 * JSON shape: element names are path components, attributes are children
 * (Event.System.Provider.Name), <Data Name="X">v</Data> is field X of its
 * parent, unnamed <Data> elements form one list, an element with neither
 * content nor attributes is null, an attribute whose optional substitution
 * is empty is absent. Integers are TR_INT/TR_UINT, booleans TR_BOOL, reals
 * TR_FLOAT, everything else text as Windows renders it: GUIDs {UPPER-CASE},
 * FILETIME and SYSTEMTIME as ISO 8601 with 7 fraction digits, SIDs S-1-…,
 * hex integers 0x…, binary as upper-case hex. String values lose trailing
 * white space and NULs, as in evtx_dump's output (and so in the Sigma
 * regression data built with it): Sysmon command lines end in a space that
 * rules written against those exports do not expect.
 *
 * Ownership and memory: the reader owns its per-chunk state (name and
 * template caches in `carena`, reset per chunk) and its scratch arrays,
 * which keep their capacity, so steady-state reading allocates nothing per
 * record. Every value is rendered into the builder's batch arena (UTF-16
 * must be converted anyway), so events never point into the input window.
 * One batch per chunk.
 *
 * Damage: every offset is checked against the chunk; element nesting,
 * nested fragments, evaluation steps and rendered bytes per record and per
 * chunk are bounded, so hostile input can neither crash nor hang the
 * reader nor make it allocate without bound. A bad record is reported (file
 * offset, record id, reason) and skipped, and the reader resynchronises on
 * the next record signature in the chunk; a chunk without signature is
 * reported and skipped; checksum mismatches and the dirty flag are warnings.
 * The header's chunk count is not trusted: chunks are walked to end of file.
 *
 * XML (TR_SCAN_XML): the same evaluation also writes the record as XML
 * text, the way Windows renders it (elements, attributes in double quotes,
 * an attribute made only of empty optional substitutions omitted, values
 * rendered as for fields but strings untrimmed), escaped (& < > " as
 * entities, line breaks as references: one record is one line), into a
 * per-record buffer copied to the batch arena with the event. It stays
 * well-formed whatever the input: characters XML 1.0 forbids are replaced
 * (see xml_escaped), names damage made invalid get '_' for the offending
 * characters, and an attribute name repeated in one start tag gets '_'
 * until it is new. Without the flag the only cost is one predictable
 * branch per operation.
 *
 * Recovery (TR_SCAN_RECOVER): after a chunk's records, the slack space up
 * to the chunk's end (deleted and overwritten records: Windows does not
 * clear it) is searched for record signatures; each well-formed record
 * header is read like any record, against the chunk's names and templates.
 * A block without a chunk signature is searched for one at any offset (a
 * chunk carved from a damaged or shifted image); the carved chunk ends at
 * the next 64 KiB boundary that holds a chunk, so no byte is read as two
 * records. Such events carry TR_ORIGIN_RECOVERED; fragments that do not
 * parse are expected in slack and dropped silently. Normal reading already
 * walks every 64 KiB chunk to end of file, so chunks past the header's
 * count need no recovery.
 *
 * Workload: chunks of 100–300 records of 0.5–2 KiB, a handful of templates
 * per chunk, 20–60 fields per event.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../util/alloc.h"
#include "../util/timeutil.h"
#include "../util/utf8.h"
#include "reader.h"

#define EVTX_HEADER_SIZE 4096u
#define EVTX_CHUNK_SIZE 65536u
#define EVTX_CHUNK_HEADER 512u
#define EVTX_RECORD_MIN 28u               /* header 24 + size copy 4 */

#define TR_EVTX_MAX_DEPTH 64u             /* element nesting, across nested fragments */
/* Work and output bounds. Substitutions can reuse a value any number of
 * times and nest, so a few bytes can ask for exponential work; real chunks
 * need about 10^5 operations and render a few hundred KiB. */
#define TR_EVTX_MAX_STEPS (1u << 20)       /* operations per record */
#define TR_EVTX_MAX_CHUNK_STEPS (1u << 21) /* operations per chunk: ~20 ms at worst */
#define TR_EVTX_MAX_RECORD_TEXT (4u << 20) /* rendered bytes per record */
#define TR_EVTX_MAX_CHUNK_TEXT (16u << 20) /* rendered bytes per chunk (one batch) */
#define TR_EVTX_MAX_RECORD_XML (8u << 20)  /* XML rendering per record (escaping can grow text 6x) */
#define TR_EVTX_MAX_CHUNK_XML (32u << 20)  /* XML renderings per chunk, kept in the batch arena */

#define TR_EVTX_MAX_NAME 1024u          /* bytes of a flattened field name: names are
                                          * stored once and referenced by offset, so a
                                          * long one reused at every level would make
                                          * huge paths out of a few bytes of input */

#define NAME_SLOTS 2048u                  /* name cache: chunk offset -> UTF-8, per chunk */
#define TMPL_SLOTS 512u                   /* template cache, per chunk */

enum { P_OK = 0, P_ERR, P_NOMEM };

/* ---------------------------------------------------------------- types */

/* One compiled BinXML operation. */
enum op_kind {
    OP_OPEN,        /* <name */
    OP_ATTR,        /* name= (value parts follow) */
    OP_CLOSE_START, /* > */
    OP_EMPTY,       /* /> */
    OP_END,         /* </name> */
    OP_TEXT,        /* literal text (UTF-8) */
    OP_SUBST,       /* substitution value `id`, declared type `vtype` */
    OP_OPTSUBST     /* same, omitted when the value is empty */
};

typedef struct op {
    uint8_t kind;
    uint8_t vtype;
    uint16_t id;
    uint32_t len;
    const char *str;
} op;

/* A substitution value: type and bytes inside the chunk. */
typedef struct sval {
    const uint8_t *p;
    uint32_t len;
    uint8_t type;
} sval;

/* One part of an attribute value or element content: text, or a typed value. */
#define PART_TEXT 0x100u /* outside the byte range of value types */
typedef struct part {
    const uint8_t *p;
    uint32_t len;
    uint16_t type; /* PART_TEXT: p is UTF-8; else a BinXML value type */
} part;

/* Accumulates the parts of one value. Two or more are concatenated as text
 * in the reader's text buffer from buf_start on. */
typedef struct acc {
    uint32_t nparts;
    part first;
    size_t buf_start;
} acc;

/* An open element of the XML being flattened. */
typedef struct xelem {
    const tr_name *name;      /* its flattened path */
    const tr_name *prev;      /* last child name resolved (shape cache) */
    const char *key;          /* <Data Name="key">: the field name */
    uint32_t key_len;
    bool is_data;             /* element named "Data" */
    bool has_key;
    bool has_children;
    bool list_open;           /* unnamed <Data> children pending in the builder's item stack */
    uint32_t nattrs;          /* attributes emitted as fields */
    size_t list_mark;
    acc content;
} xelem;

typedef struct name_slot {
    uint32_t off;
    uint32_t gen;
    uint32_t len;
    const char *str;
} name_slot;

enum { T_COMPILING = 1, T_OK, T_FAILED };

typedef struct tmpl_slot {
    uint32_t off;
    uint32_t gen;
    uint32_t state;
    uint32_t nops;
    const op *ops;
} tmpl_slot;

#define XML_ATTRS_KEPT 64u /* attribute names of one start tag compared for clashes */

/* An open element of the XML rendering: its name, for the end tag. */
typedef struct xname {
    const char *str;
    uint32_t len;
} xname;

typedef struct evtx_reader {
    tr_input *in;
    tr_read_ctx *ctx;
    bool want_xml;             /* TR_SCAN_XML */
    bool recover;              /* TR_SCAN_RECOVER */
    bool recovering;           /* reading slack or a carved chunk: events are marked */
    uint64_t carved_start;     /* file offsets of the last carved chunk */
    uint64_t carved_end;
    bool started;
    bool finished;
    bool bare_chunks;          /* the file starts with a chunk, no file header */
    uint64_t header_chunks;    /* chunk count the file header states */
    uint64_t chunk_no;         /* chunks met so far */

    /* the chunk being read */
    const uint8_t *chunk;
    size_t clen;               /* bytes of it present (< 64 KiB when truncated) */
    uint64_t chunk_off;        /* its offset in the file */
    uint32_t gen;              /* cache generation: bumped per chunk */
    tr_arena carena;           /* per-chunk memory: decoded names, compiled templates */
    name_slot names[NAME_SLOTS];
    uint32_t nnames;
    tmpl_slot tmpls[TMPL_SLOTS];
    uint32_t ntmpls;
    uint64_t chunk_steps;
    uint64_t chunk_text;
    uint64_t chunk_xml;

    /* scratch, kept across records */
    op *ops;
    size_t nops, ops_cap;
    sval *vals;
    size_t nvals, vals_cap;
    char *text;
    size_t text_len, text_cap;

    /* the record being read */
    tr_builder *b;
    tr_names *tnames;
    xelem stack[TR_EVTX_MAX_DEPTH];
    unsigned depth;
    bool attr_open;            /* an attribute of the top element is collecting parts */
    uint8_t attr_role;         /* ATTR_FIELD, ATTR_KEY, ATTR_DROP */
    const tr_name *attr_name;
    acc attr;
    uint64_t rec_id;
    uint32_t steps;
    uint64_t rec_text;
    uint32_t odd_values;       /* values whose size does not fit their type */
    uint32_t repaired;         /* strings with invalid UTF-16 */
    size_t here;               /* chunk offset of the construct being read (for reports) */
    size_t err_at;             /* chunk offset of the problem */
    char err[200];

    /* the XML rendering of the record being read (want_xml) */
    char *xml;
    size_t xml_len, xml_cap;
    char *xtmp;                /* scratch: a string value before escaping */
    size_t xtmp_cap;
    xname xstack[TR_EVTX_MAX_DEPTH];
    unsigned xdepth;
    bool xattr_open;           /* an attribute value is being written */
    size_t xattr_mark;         /* xml_len before the attribute: rolled back when it has no part */
    uint32_t xattr_parts;
    /* attribute names of the open start tag, so that none is written twice
     * (damaged names can clash once sanitised): the first XML_ATTRS_KEPT */
    uint32_t xattr_count;      /* attributes met in this start tag */
    uint32_t xattr_kept;
    size_t xattr_at[XML_ATTRS_KEPT]; /* offset and length of each name in xml */
    size_t xattr_len[XML_ATTRS_KEPT];
} evtx_reader;

enum { ATTR_FIELD, ATTR_KEY, ATTR_DROP };

/* ---------------------------------------------------------------- helpers */

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static int fail(evtx_reader *R, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(evtx_reader *R, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R->err, sizeof R->err, fmt, ap);
    va_end(ap);
    R->err_at = at ? at : R->here;
    return P_ERR;
}

static void where(char *buf, size_t sz, uint64_t off)
{
    snprintf(buf, sz, "offset 0x%llx", (unsigned long long)off);
}

static void report(evtx_reader *R, tr_severity sev, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(evtx_reader *R, tr_severity sev, uint64_t off, const char *fmt, ...)
{
    char w[48], reason[400];
    where(w, sizeof w, off);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    tr_read_report(R->ctx, sev, w, "%s", reason);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A cursor over chunk bytes; positions are chunk offsets, pos <= end. */
typedef struct cur {
    const uint8_t *base;
    size_t pos, end;
} cur;

static inline bool have(const cur *c, size_t n) { return c->end - c->pos >= n; }

static inline int truncated(evtx_reader *R, const cur *c, const char *what)
{
    return fail(R, c->pos, "%s runs past the end of its data", what);
}

/* Counts one operation against the record's and the chunk's budgets. */
static inline bool step(evtx_reader *R)
{
    R->chunk_steps++;
    return ++R->steps <= TR_EVTX_MAX_STEPS && R->chunk_steps <= TR_EVTX_MAX_CHUNK_STEPS;
}

static int over_budget(evtx_reader *R, size_t at)
{
    if (R->steps > TR_EVTX_MAX_STEPS)
        return fail(R, at, "record expands to more than %u operations (template substitutions multiplied)",
                    TR_EVTX_MAX_STEPS);
    return fail(R, at, "chunk expands to more than %u operations", TR_EVTX_MAX_CHUNK_STEPS);
}

/* Accounts rendered bytes; false when over the record's or chunk's limit. */
static inline bool text_budget(evtx_reader *R, size_t n)
{
    R->rec_text += n;
    R->chunk_text += n;
    return R->rec_text <= TR_EVTX_MAX_RECORD_TEXT && R->chunk_text <= TR_EVTX_MAX_CHUNK_TEXT;
}

/* ---------------------------------------------------------------- text */

/* Number of leading units of p[0, n) that are ASCII, 4 at a time. */
static size_t ascii_units(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint64_t v;
        memcpy(&v, p + 2 * i, 8);
        if (v & 0xff80ff80ff80ff80ull) /* little-endian units: high byte and bit 7 of the low */
            break;
    }
    while (i < n && p[2 * i] < 0x80 && p[2 * i + 1] == 0)
        i++;
    return i;
}

/* UTF-8 length of n UTF-16LE units (invalid units count as U+FFFD). */
static size_t utf16_len(const uint8_t *p, size_t n)
{
    size_t out = ascii_units(p, n);
    if (out == n)
        return n;
    for (size_t i = out; i < n; i++) {
        unsigned u = rd16(p + 2 * i);
        if (u < 0x80)
            out += 1;
        else if (u < 0x800)
            out += 2;
        else if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n && rd16(p + 2 * i + 2) >= 0xDC00 &&
                 rd16(p + 2 * i + 2) <= 0xDFFF) {
            out += 4;
            i++;
        } else
            out += 3; /* BMP, or a lone surrogate that becomes U+FFFD */
    }
    return out;
}

/* Converts n UTF-16LE units to UTF-8 at out (room for utf16_len bytes).
 * Returns true when a lone surrogate was replaced by U+FFFD. */
static bool utf16_put(const uint8_t *p, size_t n, char *out)
{
    unsigned char *o = (unsigned char *)out;
    bool repaired = false;
    size_t a = ascii_units(p, n);
    for (size_t i = 0; i < a; i++)
        *o++ = p[2 * i];
    for (size_t i = a; i < n; i++) {
        unsigned u = rd16(p + 2 * i);
        if (u < 0x80) {
            *o++ = (unsigned char)u;
            continue;
        }
        if (u < 0x800) {
            *o++ = (unsigned char)(0xC0 | u >> 6);
            *o++ = (unsigned char)(0x80 | (u & 0x3F));
            continue;
        }
        if (u >= 0xD800 && u <= 0xDFFF) {
            unsigned lo = i + 1 < n ? rd16(p + 2 * i + 2) : 0;
            if (u <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                unsigned cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                *o++ = (unsigned char)(0xF0 | cp >> 18);
                *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (unsigned char)(0x80 | (cp & 0x3F));
                i++;
                continue;
            }
            u = 0xFFFD;
            repaired = true;
        }
        *o++ = (unsigned char)(0xE0 | u >> 12);
        *o++ = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (u & 0x3F));
    }
    return repaired;
}

/* Decodes n UTF-16LE units into `arena` (NUL-terminated). NULL when out of
 * memory. Counts a repair on the record. */
static char *utf16_dup(evtx_reader *R, tr_arena *arena, const uint8_t *p, size_t n, uint32_t *len)
{
    size_t l = utf16_len(p, n);
    char *s = tr_arena_alloc(arena, l + 1);
    if (!s)
        return NULL;
    if (utf16_put(p, n, s))
        R->repaired++;
    s[l] = '\0';
    *len = (uint32_t)l;
    return s;
}

static size_t put_cp(char *out, unsigned cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (unsigned char)(0xE0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Appends to the reader's text buffer. */
static bool text_append(evtx_reader *R, const char *s, size_t n)
{
    if (R->text_cap - R->text_len < n) {
        size_t cap = R->text_cap ? R->text_cap : 4096;
        while (cap - R->text_len < n)
            cap *= 2;
        char *t = tr_realloc(R->text, cap);
        if (!t)
            return false;
        R->text = t;
        R->text_cap = cap;
    }
    if (n)
        memcpy(R->text + R->text_len, s, n);
    R->text_len += n;
    return true;
}

/* ---------------------------------------------------------------- values */

/* Decimal text of v into buf (>= 21 bytes); returns its length. */
static size_t put_u64(char *buf, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_i64(char *buf, int64_t v)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + put_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(buf, (uint64_t)v);
}

/* v in exactly `width` decimal digits (v < 10^width). Formatting by hand:
 * snprintf was a fifth of the reading time. */
static char *put_dec(char *o, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + width;
}

static const char hexdig_upper[] = "0123456789ABCDEF";
static const char hexdig_lower[] = "0123456789abcdef";

/* v in exactly `digits` hex digits. */
static char *put_hexn(char *o, uint64_t v, int digits, const char *dig)
{
    for (int i = digits - 1; i >= 0; i--) {
        o[i] = dig[v & 15];
        v >>= 4;
    }
    return o + digits;
}

/* "0x" and v in lowercase hex without leading zeros, as Windows renders
 * HexInt32/HexInt64. */
static size_t put_hex0x(char *buf, uint64_t v)
{
    int digits = 1;
    while (digits < 16 && (v >> (4 * digits)))
        digits++;
    buf[0] = '0';
    buf[1] = 'x';
    return (size_t)(put_hexn(buf + 2, v, digits, hexdig_lower) - buf);
}

/* "YYYY-MM-DDTHH:MM:SS.fffffffZ" */
static size_t put_iso(char *buf, int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                      unsigned frac7)
{
    char *o = buf;
    if (y < 0 || y > 9999) /* beyond ISO's four digits: still readable */
        o += snprintf(o, 24, "%lld", (long long)y);
    else
        o = put_dec(o, (unsigned)y, 4);
    *o++ = '-';
    o = put_dec(o, mo, 2);
    *o++ = '-';
    o = put_dec(o, d, 2);
    *o++ = 'T';
    o = put_dec(o, h, 2);
    *o++ = ':';
    o = put_dec(o, mi, 2);
    *o++ = ':';
    o = put_dec(o, s, 2);
    *o++ = '.';
    o = put_dec(o, frac7, 7);
    *o++ = 'Z';
    return (size_t)(o - buf);
}

/* FILETIME (100 ns since 1601-01-01 UTC) as "YYYY-MM-DDTHH:MM:SS.fffffffZ";
 * every 64-bit value renders (years up to 60056). buf >= 48 bytes. */
static size_t put_filetime(char *buf, uint64_t ft)
{
    uint64_t secs = ft / 10000000u, frac = ft % 10000000u;
    int64_t days = (int64_t)(secs / 86400u) - 134774; /* 1601-01-01 .. 1970-01-01 */
    unsigned sod = (unsigned)(secs % 86400u);
    int64_t y;
    unsigned m, d;
    tr_civil_from_days(days, &y, &m, &d);
    return put_iso(buf, y, m, d, sod / 3600, sod / 60 % 60, sod % 60, (unsigned)frac);
}

/* The nanosecond instant of a FILETIME, TR_TIME_NONE outside tr_time's range. */
static tr_time filetime_to_time(uint64_t ft)
{
    const uint64_t epoch = 116444736000000000ull; /* 1970-01-01 in FILETIME */
    if (ft == 0)
        return TR_TIME_NONE;
    if (ft >= epoch) {
        uint64_t t = ft - epoch;
        return t > (uint64_t)INT64_MAX / 100 ? TR_TIME_NONE : (tr_time)(t * 100);
    }
    uint64_t t = epoch - ft;
    return t > (uint64_t)INT64_MAX / 100 ? TR_TIME_NONE : -(tr_time)(t * 100);
}

static size_t put_hex(char *buf, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = hexdig_upper[p[i] >> 4];
        buf[2 * i + 1] = hexdig_upper[p[i] & 15];
    }
    return 2 * n;
}

/* Shortest text that reads back as the same double (or float). */
static size_t put_real(char *buf, double v, bool single)
{
    int max = single ? 9 : 17;
    for (int prec = single ? 6 : 15; prec <= max; prec++) {
        int n = snprintf(buf, 40, "%.*g", prec, v);
        if (single ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            return (size_t)n;
    }
    return (size_t)snprintf(buf, 40, "%.*g", max, v);
}

/* NUL and ASCII white space: trimmed from the end of string values. */
static inline bool is_trailing_space(unsigned c)
{
    return c == 0 || c == ' ' || (c >= '\t' && c <= '\r');
}

/* Fixed item size of an array element type, 0 when variable. */
static size_t item_size(uint8_t t, size_t total)
{
    switch (t) {
    case 0x03: case 0x04: return 1;
    case 0x05: case 0x06: return 2;
    case 0x07: case 0x08: case 0x0b: case 0x0d: case 0x14: return 4;
    case 0x09: case 0x0a: case 0x0c: case 0x11: case 0x15: return 8;
    case 0x0f: case 0x12: return 16;
    case 0x10: case 0x20: return total % 8 == 0 ? 8 : 4;
    default: return 0;
    }
}

/* Renders one scalar value (type without the array flag) into the batch
 * arena. Returns P_OK, P_NOMEM, or P_ERR when over the text budget. */
static int render_scalar(evtx_reader *R, uint8_t t, const uint8_t *p, size_t n, tr_value *v)
{
    tr_arena *a = &R->b->arena;
    char buf[64];
    size_t len = 0;
    memset(v, 0, sizeof *v);
    v->type = TR_STR;
    switch (t) {
    case 0x00: /* NULL */
        v->str = "";
        return P_OK;
    case 0x01: { /* UTF-16 string, without trailing NULs and white space (see the top) */
        size_t units = n / 2;
        while (units && is_trailing_space(rd16(p + 2 * units - 2)))
            units--;
        if (n % 2)
            R->odd_values++;
        if (!text_budget(R, units * 3))
            return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
        uint32_t l;
        uint32_t before = R->repaired;
        char *s = utf16_dup(R, a, p, units, &l);
        if (!s)
            return P_NOMEM;
        if (R->repaired != before)
            v->flags |= TR_VALUE_REPAIRED;
        v->str = s;
        v->len = l;
        return P_OK;
    }
    case 0x02: { /* ANSI string: the code page is unknown; UTF-8 if it is, else Latin-1 */
        while (n && is_trailing_space(p[n - 1]))
            n--;
        if (!text_budget(R, n * 2))
            return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
        bool ascii = true;
        for (size_t i = 0; i < n && ascii; i++)
            ascii = p[i] < 0x80;
        char *s = tr_arena_alloc(a, n * 2 + 1);
        if (!s)
            return P_NOMEM;
        size_t o = 0;
        if (ascii || tr_utf8_find_invalid((const char *)p, n) == n) {
            memcpy(s, p, n);
            o = n;
        } else {
            for (size_t i = 0; i < n; i++)
                o += put_cp(s + o, p[i]);
        }
        s[o] = '\0';
        v->str = s;
        v->len = (uint32_t)o;
        return P_OK;
    }
    case 0x0e: /* binary: uppercase hex, as Windows renders it */
    hex:
        if (!text_budget(R, n * 2))
            return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
        {
            char *s = tr_arena_alloc(a, n * 2 + 1);
            if (!s)
                return P_NOMEM;
            len = put_hex(s, p, n);
            s[len] = '\0';
            v->str = s;
            v->len = (uint32_t)len;
        }
        return P_OK;
    default:
        break;
    }

    /* fixed-size types: text in buf, then copied */
    switch (t) {
    case 0x03: case 0x04: case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: {
        static const uint8_t need[] = {1, 1, 2, 2, 4, 4, 8, 8};
        if (n != need[t - 3])
            goto odd;
        bool is_signed = (t & 1) != 0;
        if (is_signed) {
            int64_t x = t == 0x03 ? (int8_t)p[0] : t == 0x05 ? (int16_t)rd16(p) : t == 0x07 ? (int32_t)rd32(p)
                                                                                           : (int64_t)rd64(p);
            v->type = TR_INT;
            v->as.i = x;
            len = put_i64(buf, x);
        } else {
            uint64_t x = t == 0x04 ? p[0] : t == 0x06 ? rd16(p) : t == 0x08 ? rd32(p) : rd64(p);
            if (x > (uint64_t)INT64_MAX) {
                v->type = TR_UINT;
                v->as.u = x;
            } else {
                v->type = TR_INT;
                v->as.i = (int64_t)x;
            }
            len = put_u64(buf, x);
        }
        break;
    }
    case 0x0b: { /* real32 */
        if (n != 4)
            goto odd;
        uint32_t bits = rd32(p);
        float f;
        memcpy(&f, &bits, 4);
        v->type = TR_FLOAT;
        v->as.f = f;
        len = put_real(buf, f, true);
        break;
    }
    case 0x0c: { /* real64 */
        if (n != 8)
            goto odd;
        uint64_t bits = rd64(p);
        double d;
        memcpy(&d, &bits, 8);
        v->type = TR_FLOAT;
        v->as.f = d;
        len = put_real(buf, d, false);
        break;
    }
    case 0x0d: { /* bool: 32 bits (1 byte seen too) */
        if (n != 4 && n != 1)
            goto odd;
        bool x = n == 4 ? rd32(p) != 0 : p[0] != 0;
        v->type = TR_BOOL;
        v->as.i = x;
        v->str = x ? "true" : "false";
        v->len = x ? 4 : 5;
        return P_OK;
    }
    case 0x0f: /* GUID, as Windows renders it */
        if (n != 16)
            goto odd;
    {
        char *o = buf;
        *o++ = '{';
        o = put_hexn(o, rd32(p), 8, hexdig_upper);
        *o++ = '-';
        o = put_hexn(o, rd16(p + 4), 4, hexdig_upper);
        *o++ = '-';
        o = put_hexn(o, rd16(p + 6), 4, hexdig_upper);
        *o++ = '-';
        o += put_hex(o, p + 8, 2);
        *o++ = '-';
        o += put_hex(o, p + 10, 6);
        *o++ = '}';
        len = (size_t)(o - buf);
        break;
    }
    case 0x10: case 0x14: case 0x15: case 0x20: /* size_t, hex32, hex64, handle: "0x" hex */
        if (n == 4)
            len = put_hex0x(buf, rd32(p));
        else if (n == 8)
            len = put_hex0x(buf, rd64(p));
        else
            goto odd;
        break;
    case 0x11: /* FILETIME */
        if (n != 8)
            goto odd;
        len = put_filetime(buf, rd64(p));
        break;
    case 0x12: { /* SYSTEMTIME: year, month, weekday, day, h, m, s, ms */
        if (n != 16)
            goto odd;
        len = put_iso(buf, rd16(p) % 10000u, rd16(p + 2) % 100u, rd16(p + 6) % 100u, rd16(p + 8) % 100u,
                      rd16(p + 10) % 100u, rd16(p + 12) % 100u, rd16(p + 14) % 1000u * 10000u);
        break;
    }
    case 0x13: { /* SID: S-revision-authority-subauthorities */
        if (n < 8 || n != 8 + 4 * (size_t)p[1])
            goto odd;
        uint64_t auth = 0;
        for (int i = 2; i < 8; i++)
            auth = auth << 8 | p[i];
        char *s = tr_arena_alloc(a, 32 + 11 * (size_t)p[1]);
        if (!s)
            return P_NOMEM;
        size_t o = 2;
        s[0] = 'S';
        s[1] = '-';
        o += put_u64(s + o, p[0]);
        s[o++] = '-';
        if (auth >> 32) { /* Windows shows a 48-bit authority in hex */
            s[o++] = '0';
            s[o++] = 'x';
            o = (size_t)(put_hexn(s + o, auth, 12, hexdig_upper) - s);
        } else {
            o += put_u64(s + o, auth);
        }
        for (unsigned i = 0; i < p[1]; i++) {
            s[o++] = '-';
            o += put_u64(s + o, rd32(p + 8 + 4 * i));
        }
        s[o] = '\0';
        if (!text_budget(R, o))
            return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
        v->str = s;
        v->len = (uint32_t)o;
        return P_OK;
    }
    default: /* EvtXml (0x23) and unknown types: their bytes, in hex */
        goto hex;
    }
    if (!text_budget(R, len))
        return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
    {
        char *s = tr_arena_strndup(a, buf, len);
        if (!s)
            return P_NOMEM;
        v->str = s;
        v->len = (uint32_t)len;
    }
    return P_OK;
odd:
    /* a size that does not fit the type: keep the bytes, in hex, and say so */
    R->odd_values++;
    v->type = TR_STR;
    goto hex;
}

/* Calls fn for every item of an array value (type has the 0x80 flag). */
typedef int (*item_fn)(evtx_reader *R, const tr_value *v, void *ctx);

static int for_items(evtx_reader *R, uint8_t type, const uint8_t *p, size_t n, item_fn fn, void *ctx)
{
    uint8_t t = type & 0x7f;
    tr_value v;
    int r;
    if (t == 0x01 || t == 0x02) { /* strings, each with its terminating NUL */
        size_t unit = t == 0x01 ? 2 : 1, i = 0;
        while (i + unit <= n) {
            if (!step(R))
                return over_budget(R, 0);
            size_t j = i;
            while (j + unit <= n && (unit == 2 ? rd16(p + j) != 0 : p[j] != 0))
                j += unit;
            if ((r = render_scalar(R, t, p + i, j - i, &v)) || (r = fn(R, &v, ctx)))
                return r;
            i = j + unit;
        }
        return P_OK;
    }
    if (t == 0x13) { /* SIDs, each sized by its own count */
        size_t i = 0;
        while (i + 8 <= n) {
            if (!step(R))
                return over_budget(R, 0);
            size_t sz = 8 + 4 * (size_t)p[i + 1];
            if (sz > n - i)
                sz = n - i;
            if ((r = render_scalar(R, t, p + i, sz, &v)) || (r = fn(R, &v, ctx)))
                return r;
            i += sz;
        }
        return P_OK;
    }
    size_t sz = item_size(t, n);
    if (!sz) { /* binary, BinXML, unknown: not itemisable; the bytes in hex */
        R->odd_values++;
        if ((r = render_scalar(R, 0x0e, p, n, &v)))
            return r;
        return fn(R, &v, ctx);
    }
    if (n % sz)
        R->odd_values++;
    for (size_t i = 0; i + sz <= n; i += sz) {
        if (!step(R))
            return over_budget(R, 0);
        if ((r = render_scalar(R, t, p + i, sz, &v)) || (r = fn(R, &v, ctx)))
            return r;
    }
    return P_OK;
}

static int push_item(evtx_reader *R, const tr_value *v, void *ctx)
{
    (void)ctx;
    return tr_builder_item_push(R->b, v) ? P_OK : P_NOMEM;
}

static int append_item(evtx_reader *R, const tr_value *v, void *ctx)
{
    bool *first = ctx;
    if (!*first && !text_append(R, ",", 1))
        return P_NOMEM;
    *first = false;
    return text_append(R, v->str ? v->str : "", v->len) ? P_OK : P_NOMEM;
}

/* ---------------------------------------------------------------- accumulating values */

/* Appends a part's text to the text buffer. */
static int part_append(evtx_reader *R, const part *pt)
{
    if (pt->type == PART_TEXT)
        return text_append(R, (const char *)pt->p, pt->len) ? P_OK : P_NOMEM;
    if (pt->type & 0x80) {
        bool first = true;
        return for_items(R, (uint8_t)pt->type, pt->p, pt->len, append_item, &first);
    }
    tr_value v;
    int r = render_scalar(R, (uint8_t)pt->type, pt->p, pt->len, &v);
    if (r)
        return r;
    return text_append(R, v.str ? v.str : "", v.len) ? P_OK : P_NOMEM;
}

static int acc_add(evtx_reader *R, acc *a, const part *pt)
{
    if (a->nparts == 0) {
        a->first = *pt;
        a->nparts = 1;
        return P_OK;
    }
    int r;
    if (a->nparts == 1) {
        a->buf_start = R->text_len;
        if ((r = part_append(R, &a->first)))
            return r;
    }
    a->nparts++;
    if (!text_budget(R, pt->len))
        return fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
    return part_append(R, pt);
}

/* Turns a concatenation into a single text part in the batch arena, which
 * frees the text buffer for a nested element. */
static int acc_flatten(evtx_reader *R, acc *a)
{
    if (a->nparts < 2)
        return P_OK;
    size_t n = R->text_len - a->buf_start;
    char *s = tr_builder_copy(R->b, R->text + a->buf_start, n);
    if (!s)
        return P_NOMEM;
    R->text_len = a->buf_start;
    a->first = (part){.p = (const uint8_t *)s, .len = (uint32_t)n, .type = PART_TEXT};
    a->nparts = 1;
    return P_OK;
}

/* The accumulated value as a scalar (arrays joined by commas). */
static int acc_scalar(evtx_reader *R, acc *a, tr_value *v)
{
    int r;
    if (a->nparts == 1 && (a->first.type & 0x80) && a->first.type != PART_TEXT) {
        a->buf_start = R->text_len;
        if ((r = part_append(R, &a->first)))
            return r;
        a->nparts = 2;
    }
    if ((r = acc_flatten(R, a)))
        return r;
    memset(v, 0, sizeof *v);
    v->type = TR_STR;
    if (a->nparts == 0) {
        v->str = "";
        return P_OK;
    }
    if (a->first.type == PART_TEXT) {
        v->str = (const char *)a->first.p;
        v->len = a->first.len;
        return P_OK;
    }
    return render_scalar(R, (uint8_t)a->first.type, a->first.p, a->first.len, v);
}

/* Adds the accumulated value as field `name`: a list for an array value. */
static int acc_field(evtx_reader *R, acc *a, const tr_name *name)
{
    int r;
    if (a->nparts == 1 && a->first.type != PART_TEXT && (a->first.type & 0x80)) {
        size_t mark = tr_builder_item_mark(R->b);
        if ((r = for_items(R, (uint8_t)a->first.type, a->first.p, a->first.len, push_item, NULL)))
            return r;
        return tr_builder_add_list(R->b, name, mark) ? P_OK : P_NOMEM;
    }
    tr_value v;
    if ((r = acc_scalar(R, a, &v)))
        return r;
    return tr_builder_add(R->b, name, &v) ? P_OK : P_NOMEM;
}

/* ---------------------------------------------------------------- XML rendering */

/* Room for n more bytes in the XML buffer, within the record's limit. */
static int xml_reserve(evtx_reader *R, size_t n)
{
    if (n > TR_EVTX_MAX_RECORD_XML || R->xml_len > TR_EVTX_MAX_RECORD_XML - n)
        return fail(R, 0, "record renders to more than %u bytes of XML", TR_EVTX_MAX_RECORD_XML);
    if (R->xml_cap - R->xml_len >= n)
        return P_OK;
    size_t cap = R->xml_cap ? R->xml_cap : 4096;
    while (cap - R->xml_len < n)
        cap *= 2;
    char *x = tr_realloc(R->xml, cap);
    if (!x)
        return P_NOMEM;
    R->xml = x;
    R->xml_cap = cap;
    return P_OK;
}

static int xml_raw(evtx_reader *R, const char *s, size_t n)
{
    int r = xml_reserve(R, n);
    if (r)
        return r;
    if (n)
        memcpy(R->xml + R->xml_len, s, n);
    R->xml_len += n;
    return P_OK;
}

/* Appends text escaped for element content and attribute values alike:
 * & < > " as entities, line breaks as character references (&#10; &#13;),
 * so that a record stays on one line, and the other control characters
 * but tab, which XML 1.0 does not allow even as references, as their
 * pictures (U+2401..U+241F), and the non-characters U+FFFE and U+FFFF as
 * U+FFFD, so that the output stays well-formed. */
static int xml_escaped(evtx_reader *R, const char *s, size_t n)
{
    size_t run = 0;
    int r;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *ent;
        char num[8];
        switch (c) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case 0xEF: /* U+FFFE and U+FFFF are no XML characters: U+FFFD */
            if (n - i < 3 || (unsigned char)s[i + 1] != 0xBF || ((unsigned char)s[i + 2] & 0xFE) != 0xBE)
                continue;
            if ((r = xml_raw(R, s + run, i - run)) || (r = xml_raw(R, "\xEF\xBF\xBD", 3)))
                return r;
            i += 2;
            run = i + 1;
            continue;
        default:
            if (c >= 0x20 || c == '\t')
                continue;
            if (c == '\n' || c == '\r') {
                snprintf(num, sizeof num, "&#%u;", c);
            } else { /* not allowed in XML 1.0, even as a reference: its picture, U+2400 + c */
                num[0] = (char)0xE2;
                num[1] = (char)(0x90 | (c >> 6));
                num[2] = (char)(0x80 | (c & 0x3F));
                num[3] = '\0';
            }
            ent = num;
            break;
        }
        if ((r = xml_raw(R, s + run, i - run)) || (r = xml_raw(R, ent, strlen(ent))))
            return r;
        run = i + 1;
    }
    return xml_raw(R, s + run, n - run);
}

/* Is code point cp allowed in an XML name (at its start when `first`)?
 * Beyond ASCII, only letters every edition of XML 1.0 accepts (parsers
 * such as expat follow the first editions' narrower tables): Latin-1
 * letters, CJK ideographs, Hangul syllables. */
static bool xml_name_cp(unsigned cp, bool first)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_' || cp == ':')
        return true;
    if (cp < 0x80)
        return !first && ((cp >= '0' && cp <= '9') || cp == '-' || cp == '.');
    return (cp >= 0xC0 && cp <= 0xFF && cp != 0xD7 && cp != 0xF7) || (cp >= 0x4E00 && cp <= 0x9FA5) ||
           (cp >= 0xAC00 && cp <= 0xD7A3);
}

/* Appends an element or attribute name. Names in real logs are XML names;
 * in damaged or recovered records they can be any text (a name offset
 * into overwritten bytes): characters a name cannot hold become '_', so
 * that the output stays well-formed. `s` is valid UTF-8 (decoded UTF-16). */
static int xml_name(evtx_reader *R, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80 && xml_name_cp((unsigned char)s[i], i == 0))
        i++;
    if (i == n && n)
        return xml_raw(R, s, n);
    int r = xml_raw(R, s, i);
    if (!n)
        return r ? r : xml_raw(R, "_", 1);
    while (!r && i < n) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t l = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
        if (l > n - i)
            l = n - i;
        unsigned cp = l == 1 ? u[0]
                    : l == 2 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)
                    : l == 3 ? (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu)
                             : (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 | (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu);
        r = xml_name_cp(cp, i == 0) ? xml_raw(R, s + i, l) : xml_raw(R, "_", 1);
        i += l;
    }
    return r;
}

static int xml_attr_finish(evtx_reader *R)
{
    if (!R->xattr_open)
        return P_OK;
    R->xattr_open = false;
    if (!R->xattr_parts) { /* only empty optional substitutions: Windows omits it */
        R->xml_len = R->xattr_mark;
        if (R->xattr_kept && R->xattr_at[R->xattr_kept - 1] > R->xattr_mark)
            R->xattr_kept--;
        return P_OK;
    }
    return xml_raw(R, "\"", 1);
}

static int xml_open(evtx_reader *R, const char *name, uint32_t len)
{
    int r;
    if ((r = xml_attr_finish(R)))
        return r;
    if (R->xdepth >= TR_EVTX_MAX_DEPTH)
        return fail(R, 0, "elements nested deeper than %u levels", TR_EVTX_MAX_DEPTH);
    R->xstack[R->xdepth++] = (xname){.str = name, .len = len};
    R->xattr_count = 0;
    R->xattr_kept = 0;
    if ((r = xml_raw(R, "<", 1)))
        return r;
    return xml_name(R, name, len);
}

static int xml_attr(evtx_reader *R, const char *name, uint32_t len)
{
    int r;
    if ((r = xml_attr_finish(R)))
        return r;
    size_t mark = R->xml_len;
    if ((r = xml_raw(R, " ", 1)) || (r = xml_name(R, name, len)))
        return r;
    /* a name met before in this start tag gets '_' until it is new; past
     * the names kept, each gets its position too, which keeps them apart */
    size_t at = mark + 1;
    if (R->xattr_count >= XML_ATTRS_KEPT) {
        char num[16];
        int k = snprintf(num, sizeof num, "_%u", (unsigned)R->xattr_count);
        if ((r = xml_raw(R, num, (size_t)k)))
            return r;
    }
    R->xattr_count++;
    for (uint32_t i = 0; i < R->xattr_kept;) {
        if (R->xattr_len[i] == R->xml_len - at && memcmp(R->xml + R->xattr_at[i], R->xml + at, R->xattr_len[i]) == 0) {
            if ((r = xml_raw(R, "_", 1)))
                return r;
            i = 0;
            continue;
        }
        i++;
    }
    if (R->xattr_kept < XML_ATTRS_KEPT) {
        R->xattr_at[R->xattr_kept] = at;
        R->xattr_len[R->xattr_kept++] = R->xml_len - at;
    }
    if ((r = xml_raw(R, "=\"", 2)))
        return r;
    R->xattr_open = true;
    R->xattr_mark = mark;
    R->xattr_parts = 0;
    return P_OK;
}

static int xml_close_start(evtx_reader *R)
{
    int r = xml_attr_finish(R);
    return r ? r : xml_raw(R, ">", 1);
}

/* The end of the element on top: "/>" when `empty`, else its end tag. */
static int xml_close(evtx_reader *R, bool empty)
{
    int r;
    if ((r = xml_attr_finish(R)))
        return r;
    if (!R->xdepth)
        return fail(R, 0, "end of an element that was not open");
    const xname *e = &R->xstack[--R->xdepth];
    if (empty)
        return xml_raw(R, " />", 3);
    if ((r = xml_raw(R, "</", 2)) || (r = xml_name(R, e->str, e->len)))
        return r;
    return xml_raw(R, ">", 1);
}

static int xml_text(evtx_reader *R, const char *s, size_t n)
{
    if (R->xattr_open)
        R->xattr_parts++;
    return xml_escaped(R, s, n);
}

static int xml_item(evtx_reader *R, const tr_value *v, void *ctx)
{
    bool *first = ctx;
    int r;
    if (!*first && (r = xml_raw(R, ",", 1)))
        return r;
    *first = false;
    return xml_escaped(R, v->str ? v->str : "", v->len);
}

/* A substitution value as XML text: as rendered for fields (arrays joined
 * by commas), except that strings keep their trailing white space (only
 * their terminating NULs go), as Windows shows them. Repairs and odd sizes
 * were counted when the value was rendered for its field. */
static int xml_value(evtx_reader *R, uint8_t type, const uint8_t *p, size_t n)
{
    uint32_t odd = R->odd_values, repaired = R->repaired;
    int r;
    if (R->xattr_open)
        R->xattr_parts++;
    if (type == 0x01) {
        size_t units = n / 2;
        while (units && rd16(p + 2 * units - 2) == 0)
            units--;
        size_t l = utf16_len(p, units);
        if (l + 1 > R->xtmp_cap) {
            if (l > TR_EVTX_MAX_RECORD_XML)
                return fail(R, 0, "record renders to more than %u bytes of XML", TR_EVTX_MAX_RECORD_XML);
            char *t = tr_realloc(R->xtmp, l + 1);
            if (!t)
                return P_NOMEM;
            R->xtmp = t;
            R->xtmp_cap = l + 1;
        }
        utf16_put(p, units, R->xtmp);
        r = xml_escaped(R, R->xtmp, l);
    } else if (type & 0x80) {
        bool first = true;
        r = for_items(R, type, p, n, xml_item, &first);
    } else {
        tr_value v;
        r = render_scalar(R, type, p, n, &v);
        if (!r)
            r = xml_escaped(R, v.str ? v.str : "", v.len);
    }
    R->odd_values = odd;
    R->repaired = repaired;
    return r;
}

/* ---------------------------------------------------------------- XML to fields */

/* The flattened name `key` under `parent` (NULL with R->err set when too
 * long, or when out of memory with R->err empty). */
static const tr_name *child_name(evtx_reader *R, const tr_name *parent, const tr_name **prev, const char *key,
                                 size_t len)
{
    R->err[0] = '\0';
    if (len > TR_EVTX_MAX_NAME || parent->full_len + 1 + len > TR_EVTX_MAX_NAME) {
        fail(R, 0, "field name longer than %u bytes", TR_EVTX_MAX_NAME);
        return NULL;
    }
    const tr_name *nm = tr_names_next(R->tnames, parent, prev ? *prev : NULL, key, len, &R->b->arena);
    if (nm && !nm->interned && !text_budget(R, nm->full_len + sizeof *nm)) {
        fail(R, 0, "record renders to more than %u bytes of text", TR_EVTX_MAX_RECORD_TEXT);
        return NULL;
    }
    if (nm && prev && nm != parent)
        *prev = nm;
    return nm;
}

/* What a NULL from child_name means. */
static int name_failure(const evtx_reader *R) { return R->err[0] ? P_ERR : P_NOMEM; }

static int x_open(evtx_reader *R, const char *name, uint32_t len)
{
    if (R->depth >= TR_EVTX_MAX_DEPTH)
        return fail(R, 0, "elements nested deeper than %u levels", TR_EVTX_MAX_DEPTH);
    const tr_name *pname = tr_names_root(R->tnames);
    const tr_name **prev = NULL;
    if (R->depth) {
        xelem *p = &R->stack[R->depth - 1];
        int r = acc_flatten(R, &p->content);
        if (r)
            return r;
        p->has_children = true;
        pname = p->name;
        prev = &p->prev;
    }
    bool is_data = len == 4 && memcmp(name, "Data", 4) == 0;
    /* <Data> names resolve without the shape cache: their keys interleave */
    const tr_name *nm = child_name(R, pname, is_data ? NULL : prev, name, len);
    if (!nm)
        return name_failure(R);
    xelem *e = &R->stack[R->depth++];
    memset(e, 0, sizeof *e);
    e->name = nm;
    e->is_data = is_data;
    return P_OK;
}

static int x_attr_begin(evtx_reader *R, const char *name, uint32_t len)
{
    if (!R->depth)
        return fail(R, 0, "attribute outside an element");
    xelem *e = &R->stack[R->depth - 1];
    memset(&R->attr, 0, sizeof R->attr);
    R->attr_open = true;
    R->attr_name = NULL;
    if (e->is_data) {
        R->attr_role = len == 4 && memcmp(name, "Name", 4) == 0 ? ATTR_KEY : ATTR_DROP;
        return P_OK;
    }
    R->attr_role = ATTR_FIELD;
    R->attr_name = child_name(R, e->name, &e->prev, name, len);
    return R->attr_name ? P_OK : name_failure(R);
}

static int x_attr_end(evtx_reader *R)
{
    if (!R->attr_open)
        return P_OK;
    R->attr_open = false;
    xelem *e = &R->stack[R->depth - 1];
    size_t mark = R->text_len;
    int r = P_OK;
    if (R->attr.nparts == 0) {
        /* only empty optional substitutions: Windows omits the attribute */
    } else if (R->attr_role == ATTR_FIELD) {
        r = acc_field(R, &R->attr, R->attr_name);
        e->nattrs++;
    } else if (R->attr_role == ATTR_KEY) {
        tr_value v;
        r = acc_scalar(R, &R->attr, &v);
        if (!r) {
            e->key = v.str;
            e->key_len = v.len;
            e->has_key = true;
        }
    }
    R->text_len = mark < R->text_len ? mark : R->text_len;
    return r;
}

static int data_item(evtx_reader *R, const tr_value *v, void *ctx)
{
    (void)ctx;
    return tr_builder_item_push(R->b, v) ? P_OK : P_NOMEM;
}

static int x_close(evtx_reader *R)
{
    int r;
    if ((r = x_attr_end(R)))
        return r;
    if (!R->depth)
        return fail(R, 0, "end of an element that was not open");
    xelem *e = &R->stack[R->depth - 1];
    xelem *p = R->depth >= 2 ? &R->stack[R->depth - 2] : NULL;
    acc *a = &e->content;
    if (e->is_data && e->has_key) {
        /* <Data Name="X">v</Data>: field X of the parent, "" when empty */
        const tr_name *parent = e->name->parent ? e->name->parent : tr_names_root(R->tnames);
        const tr_name *nm = child_name(R, parent, p ? &p->prev : NULL, e->key, e->key_len);
        if (!nm)
            return name_failure(R);
        if ((r = acc_field(R, a, nm)))
            return r;
    } else if (e->is_data && p && !e->has_children && !e->nattrs) {
        /* unnamed <Data>: an item of the parent's one Data list */
        if (!p->list_open) {
            p->list_open = true;
            p->list_mark = tr_builder_item_mark(R->b);
        }
        if (a->nparts == 1 && a->first.type != PART_TEXT && (a->first.type & 0x80)) {
            r = for_items(R, (uint8_t)a->first.type, a->first.p, a->first.len, data_item, NULL);
        } else {
            tr_value v;
            r = acc_scalar(R, a, &v);
            if (!r)
                r = data_item(R, &v, NULL);
        }
        if (r)
            return r;
    } else if (a->nparts) {
        if ((r = acc_field(R, a, e->name)))
            return r;
    } else if (!e->has_children && !e->nattrs) {
        tr_value v = {.type = TR_NULL};
        if (!tr_builder_add(R->b, e->name, &v))
            return P_NOMEM;
    }
    if (e->list_open) {
        const tr_name *nm = child_name(R, e->name, NULL, "Data", 4);
        if (!nm)
            return name_failure(R);
        if (!tr_builder_add_list(R->b, nm, e->list_mark))
            return P_NOMEM;
    }
    R->depth--;
    return P_OK;
}

/* A part of the current attribute or element content. Empty optional
 * substitutions are no part at all. */
static int x_part(evtx_reader *R, const part *pt, bool optional)
{
    if (optional && (pt->type == 0 || pt->len == 0))
        return P_OK;
    if (R->attr_open)
        return acc_add(R, &R->attr, pt);
    if (!R->depth)
        return fail(R, 0, "text outside an element");
    return acc_add(R, &R->stack[R->depth - 1].content, pt);
}

/* ---------------------------------------------------------------- names */

/* The name stored at chunk offset `off`, decoded to UTF-8 once per chunk. */
static int get_name(evtx_reader *R, uint32_t off, size_t at, const char **str, uint32_t *len)
{
    if ((size_t)off > R->clen || R->clen - off < 8)
        return fail(R, at, "name offset 0x%x outside the chunk", off);
    size_t n = rd16(R->chunk + off + 6);
    if ((R->clen - off - 8) / 2 < n)
        return fail(R, at, "name of %zu characters at chunk offset 0x%x runs past the chunk", n, off);
    uint32_t h = (off * 2654435761u) >> 21 & (NAME_SLOTS - 1);
    for (uint32_t i = 0; i < NAME_SLOTS; i++, h = (h + 1) & (NAME_SLOTS - 1)) {
        name_slot *s = &R->names[h];
        if (s->gen != R->gen) {
            char *d = utf16_dup(R, &R->carena, R->chunk + off + 8, n, len);
            if (!d)
                return P_NOMEM;
            *str = d;
            if (R->nnames < NAME_SLOTS / 2) { /* keep the table at most half full */
                s->gen = R->gen;
                s->off = off;
                s->str = d;
                s->len = *len;
                R->nnames++;
            }
            return P_OK;
        }
        if (s->off == off) {
            *str = s->str;
            *len = s->len;
            return P_OK;
        }
    }
    return fail(R, off, "name table full"); /* not reached: the table stays half empty */
}

/* Reads a name reference at the cursor; an inline name (stored right after
 * the reference) is skipped. */
static int name_ref(evtx_reader *R, cur *c, const char **str, uint32_t *len)
{
    if (!have(c, 4))
        return truncated(R, c, "name reference");
    size_t at = c->pos;
    uint32_t off = rd32(c->base + c->pos);
    c->pos += 4;
    if (off == c->pos) {
        if (!have(c, 8))
            return truncated(R, c, "name");
        size_t n = rd16(c->base + c->pos + 6);
        if ((c->end - c->pos - 8) / 2 < n + 1)
            return truncated(R, c, "name");
        c->pos += 8 + 2 * n + 2;
    }
    return get_name(R, off, at, str, len);
}

/* ---------------------------------------------------------------- compiling BinXML */

static int emit(evtx_reader *R, uint8_t kind, const char *str, uint32_t len, uint16_t id, uint8_t vtype)
{
    if (R->nops == R->ops_cap) {
        size_t cap = R->ops_cap ? R->ops_cap * 2 : 256;
        op *n = tr_realloc(R->ops, cap * sizeof *n);
        if (!n)
            return P_NOMEM;
        R->ops = n;
        R->ops_cap = cap;
    }
    R->ops[R->nops++] = (op){.kind = kind, .vtype = vtype, .id = id, .len = len, .str = str};
    return P_OK;
}

/* Where decoded text of a compiled fragment lives: the chunk arena for a
 * template (cached for the chunk), the batch arena otherwise. */
static tr_arena *text_arena(evtx_reader *R, bool tmpl) { return tmpl ? &R->carena : &R->b->arena; }

/* A value token in an attribute or in content (not an element). Returns
 * P_OK having consumed it; `handled` false when the token is none of them. */
static int compile_value(evtx_reader *R, cur *c, bool tmpl, bool *handled)
{
    const uint8_t *b = c->base;
    size_t at = c->pos;
    uint8_t tok = b[at] & 0xbf;
    *handled = true;
    switch (tok) {
    case 0x05: { /* value text: type (string), character count, UTF-16 */
        if (!have(c, 4))
            return truncated(R, c, "value text");
        if (b[at + 1] != 0x01)
            return fail(R, at, "value text of type 0x%02x (only strings are defined)", b[at + 1]);
        size_t n = rd16(b + at + 2);
        if ((c->end - at - 4) / 2 < n)
            return truncated(R, c, "value text");
        uint32_t len;
        char *s = utf16_dup(R, text_arena(R, tmpl), b + at + 4, n, &len);
        if (!s)
            return P_NOMEM;
        c->pos = at + 4 + 2 * n;
        return emit(R, OP_TEXT, s, len, 0, 0);
    }
    case 0x07: { /* CDATA section */
        if (!have(c, 3))
            return truncated(R, c, "CDATA section");
        size_t n = rd16(b + at + 1);
        if ((c->end - at - 3) / 2 < n)
            return truncated(R, c, "CDATA section");
        uint32_t len;
        char *s = utf16_dup(R, text_arena(R, tmpl), b + at + 3, n, &len);
        if (!s)
            return P_NOMEM;
        c->pos = at + 3 + 2 * n;
        return emit(R, OP_TEXT, s, len, 0, 0);
    }
    case 0x08: { /* character reference: the character itself */
        if (!have(c, 3))
            return truncated(R, c, "character reference");
        char *s = tr_arena_alloc(text_arena(R, tmpl), 4);
        if (!s)
            return P_NOMEM;
        size_t len = put_cp(s, rd16(b + at + 1));
        c->pos = at + 3;
        return emit(R, OP_TEXT, s, (uint32_t)len, 0, 0);
    }
    case 0x09: { /* entity reference: the five XML entities, else kept as written */
        c->pos = at + 1;
        const char *name;
        uint32_t nlen;
        int r = name_ref(R, c, &name, &nlen);
        if (r)
            return r;
        static const struct {
            const char *name, *text;
        } ents[] = {{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
        for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
            if (strlen(ents[i].name) == nlen && memcmp(ents[i].name, name, nlen) == 0)
                return emit(R, OP_TEXT, ents[i].text, 1, 0, 0);
        char *s = tr_arena_alloc(text_arena(R, tmpl), (size_t)nlen + 3);
        if (!s)
            return P_NOMEM;
        s[0] = '&';
        memcpy(s + 1, name, nlen);
        s[nlen + 1] = ';';
        return emit(R, OP_TEXT, s, nlen + 2, 0, 0);
    }
    case 0x0d:
    case 0x0e: { /* normal / optional substitution: id, value type */
        if (!have(c, 4))
            return truncated(R, c, "substitution");
        if (!tmpl)
            return fail(R, at, "substitution outside a template");
        c->pos = at + 4;
        return emit(R, tok == 0x0d ? OP_SUBST : OP_OPTSUBST, NULL, 0, rd16(b + at + 1), b[at + 3]);
    }
    default:
        *handled = false;
        return P_OK;
    }
}

/* A processing instruction: target (a name) and data (text). Kept out of
 * the event: no exporter turns PIs into fields. */
static int skip_pi(evtx_reader *R, cur *c)
{
    c->pos++;
    const char *name;
    uint32_t len;
    int r = name_ref(R, c, &name, &len);
    if (r)
        return r;
    if (have(c, 1) && c->base[c->pos] == 0x0b) {
        if (!have(c, 3))
            return truncated(R, c, "processing instruction");
        size_t n = rd16(c->base + c->pos + 1);
        if ((c->end - c->pos - 3) / 2 < n)
            return truncated(R, c, "processing instruction");
        c->pos += 3 + 2 * n;
    }
    return P_OK;
}

/* Is `off` a plausible back reference to a name, for an element starting
 * at `start`? Names live after the chunk header and before their first use. */
static bool name_backref(uint32_t off, size_t start)
{
    return off >= EVTX_CHUNK_HEADER && (size_t)off < start;
}

/* Compiles the element at the cursor (token 0x01 or 0x41) and its content. */
static int compile_element(evtx_reader *R, cur *c, bool tmpl, unsigned depth)
{
    const uint8_t *b = c->base;
    size_t at = c->pos;
    if (depth >= TR_EVTX_MAX_DEPTH)
        return fail(R, at, "elements nested deeper than %u levels", TR_EVTX_MAX_DEPTH);
    if (!step(R))
        return over_budget(R, at);
    uint8_t tok = b[at];
    /* token, dependency id (2), data size (4), name reference (4); the
     * dependency id is missing in some nested fragments: the name
     * reference tells which layout this is */
    if (!have(c, 11))
        return truncated(R, c, "element start");
    size_t ref = at + 7; /* with the dependency id */
    uint32_t with = rd32(b + at + 7), without = rd32(b + at + 5);
    if (with != at + 11 && (without == at + 9 || (!name_backref(with, at) && name_backref(without, at))))
        ref = at + 5;
    c->pos = ref;
    const char *name;
    uint32_t len;
    int r = name_ref(R, c, &name, &len);
    if (r)
        return r;
    if ((r = emit(R, OP_OPEN, name, len, 0, 0)))
        return r;
    if (tok & 0x40) { /* attribute list: its size, then attributes */
        if (!have(c, 4))
            return truncated(R, c, "attribute list");
        c->pos += 4;
        while (have(c, 1) && (b[c->pos] & 0xbf) == 0x06) {
            if (!step(R))
                return over_budget(R, c->pos);
            c->pos++;
            if ((r = name_ref(R, c, &name, &len)) || (r = emit(R, OP_ATTR, name, len, 0, 0)))
                return r;
            bool handled = true;
            while (handled && have(c, 1)) {
                if (!step(R))
                    return over_budget(R, c->pos);
                if ((b[c->pos] & 0xbf) == 0x07) /* CDATA is content, not an attribute value */
                    break;
                if ((r = compile_value(R, c, tmpl, &handled)))
                    return r;
            }
        }
    }
    if (!have(c, 1))
        return truncated(R, c, "element start");
    if (b[c->pos] == 0x03) {
        c->pos++;
        return emit(R, OP_EMPTY, NULL, 0, 0, 0);
    }
    if (b[c->pos] != 0x02)
        return fail(R, c->pos, "expected the end of a start tag, found token 0x%02x", b[c->pos]);
    c->pos++;
    if ((r = emit(R, OP_CLOSE_START, NULL, 0, 0, 0)))
        return r;
    for (;;) {
        if (!have(c, 1))
            return truncated(R, c, "element content");
        if (!step(R))
            return over_budget(R, c->pos);
        uint8_t t = b[c->pos];
        if (t == 0x04) {
            c->pos++;
            return emit(R, OP_END, NULL, 0, 0, 0);
        }
        if ((t & 0xbf) == 0x01) {
            if ((r = compile_element(R, c, tmpl, depth + 1)))
                return r;
            continue;
        }
        if (t == 0x0a) {
            if ((r = skip_pi(R, c)))
                return r;
            continue;
        }
        bool handled;
        if ((r = compile_value(R, c, tmpl, &handled)))
            return r;
        if (!handled)
            return fail(R, c->pos, "unexpected token 0x%02x in element content", t);
    }
}

/* ---------------------------------------------------------------- templates */

/* The compiled template whose definition is at chunk offset `off`. */
static int get_template(evtx_reader *R, uint32_t off, size_t at, const op **ops, size_t *nops)
{
    uint32_t h = (off * 2654435761u) >> 23 & (TMPL_SLOTS - 1);
    tmpl_slot *slot = NULL;
    for (uint32_t i = 0; i < TMPL_SLOTS; i++, h = (h + 1) & (TMPL_SLOTS - 1)) {
        tmpl_slot *s = &R->tmpls[h];
        if (s->gen != R->gen) {
            if (R->ntmpls < TMPL_SLOTS / 2) /* else compile without caching */
                slot = s;
            break;
        }
        if (s->off == off) {
            if (s->state == T_OK) {
                *ops = s->ops;
                *nops = s->nops;
                return P_OK;
            }
            if (s->state == T_COMPILING) /* a guard: template bodies cannot hold instances */
                return fail(R, at, "template at chunk offset 0x%x refers to itself", off);
            return fail(R, at, "template at chunk offset 0x%x is damaged (reported with its first use)", off);
        }
    }
    if ((size_t)off > R->clen || R->clen - off < 24)
        return fail(R, at, "template offset 0x%x outside the chunk", off);
    size_t size = rd32(R->chunk + off + 20);
    if (R->clen - off - 24 < size)
        return fail(R, at, "template at chunk offset 0x%x runs past the chunk (%zu bytes)", off, size);
    if (slot) {
        slot->gen = R->gen;
        slot->off = off;
        slot->state = T_COMPILING;
        R->ntmpls++;
    }
    cur c = {.base = R->chunk, .pos = (size_t)off + 24, .end = (size_t)off + 24 + size};
    size_t base = R->nops;
    int r = P_OK;
    if (have(&c, 4) && c.base[c.pos] == 0x0f)
        c.pos += 4;
    while (!r && have(&c, 1) && c.base[c.pos] == 0x0a)
        r = skip_pi(R, &c);
    if (!r) {
        if (have(&c, 1) && (c.base[c.pos] & 0xbf) == 0x01)
            r = compile_element(R, &c, true, 0);
        else
            r = fail(R, c.pos, "template at chunk offset 0x%x holds no element", off);
    }
    op *copy = NULL;
    size_t n = R->nops - base;
    if (!r) {
        copy = tr_arena_alloc(&R->carena, (n ? n : 1) * sizeof *copy);
        if (!copy)
            r = P_NOMEM;
        else
            memcpy(copy, R->ops + base, n * sizeof *copy);
    }
    R->nops = base;
    if (slot) {
        slot->state = r ? T_FAILED : T_OK;
        slot->ops = copy;
        slot->nops = (uint32_t)n;
    }
    if (r)
        return r;
    *ops = copy;
    *nops = n;
    return P_OK;
}

/* ---------------------------------------------------------------- evaluation */

static int parse_fragments(evtx_reader *R, cur *c, unsigned depth);

/* Runs compiled operations against substitution values vals[vbase, vbase+nv). */
static int eval(evtx_reader *R, const op *ops, size_t n, size_t vbase, size_t nv, unsigned depth, size_t at)
{
    int r = P_OK;
    for (size_t i = 0; i < n && !r; i++) {
        if (!step(R))
            return over_budget(R, at);
        const op *o = &ops[i];
        switch (o->kind) {
        case OP_OPEN:
            r = x_attr_end(R);
            if (!r)
                r = x_open(R, o->str, o->len);
            if (!r && R->want_xml)
                r = xml_open(R, o->str, o->len);
            break;
        case OP_ATTR:
            r = x_attr_end(R);
            if (!r)
                r = x_attr_begin(R, o->str, o->len);
            if (!r && R->want_xml)
                r = xml_attr(R, o->str, o->len);
            break;
        case OP_CLOSE_START:
            r = x_attr_end(R);
            if (!r && R->want_xml)
                r = xml_close_start(R);
            break;
        case OP_EMPTY:
        case OP_END:
            r = x_close(R);
            if (!r && R->want_xml)
                r = xml_close(R, o->kind == OP_EMPTY);
            break;
        case OP_TEXT: {
            part pt = {.p = (const uint8_t *)o->str, .len = o->len, .type = PART_TEXT};
            r = x_part(R, &pt, false);
            if (!r && R->want_xml)
                r = xml_text(R, o->str, o->len);
            break;
        }
        case OP_SUBST:
        case OP_OPTSUBST: {
            /* a missing value renders as nothing, like an empty one */
            sval v = o->id < nv ? R->vals[vbase + o->id] : (sval){.p = NULL, .len = 0, .type = 0};
            if (v.type == 0x21 && !R->attr_open) {
                /* nested BinXML: its elements are children of the current one */
                if (v.len == 0)
                    break;
                if (depth + 1 >= TR_EVTX_MAX_DEPTH)
                    return fail(R, at, "BinXML fragments nested deeper than %u levels", TR_EVTX_MAX_DEPTH);
                size_t off = (size_t)(v.p - R->chunk);
                cur c = {.base = R->chunk, .pos = off, .end = off + v.len};
                r = parse_fragments(R, &c, depth + 1);
                break;
            }
            if (v.type == 0x21 || v.type == 0xa1)
                break; /* BinXML in an attribute value has no text form */
            part pt = {.p = v.p, .len = v.len, .type = v.type};
            bool optional = o->kind == OP_OPTSUBST;
            r = x_part(R, &pt, optional);
            if (!r && R->want_xml && !(optional && (v.type == 0 || v.len == 0)))
                r = xml_value(R, v.type, v.p, v.len);
            break;
        }
        default:
            break;
        }
    }
    return r;
}

/* A template instance at the cursor (token 0x0c): the template definition
 * (inline the first time, else a reference), then the values. */
static int template_instance(evtx_reader *R, cur *c, unsigned depth)
{
    const uint8_t *b = c->base;
    size_t at = c->pos;
    if (!have(c, 10))
        return truncated(R, c, "template instance");
    uint32_t def = rd32(b + at + 6);
    c->pos = at + 10;
    if (def == c->pos) { /* defined here: skip the definition */
        if (!have(c, 24))
            return truncated(R, c, "template definition");
        size_t size = rd32(b + c->pos + 20);
        if (c->end - c->pos - 24 < size)
            return truncated(R, c, "template definition");
        c->pos += 24 + size;
    }
    const op *ops = NULL;
    size_t nops = 0;
    R->here = at;
    int r = get_template(R, def, at, &ops, &nops);
    if (r)
        return r;
    if (!have(c, 4))
        return truncated(R, c, "template values");
    size_t count = rd32(b + c->pos);
    c->pos += 4;
    if ((c->end - c->pos) / 4 < count)
        return fail(R, c->pos, "template instance declares %zu values, more than its data holds", count);
    size_t desc = c->pos;
    c->pos += 4 * count;
    size_t vbase = R->nvals;
    if (R->vals_cap - R->nvals < count) {
        size_t cap = R->vals_cap ? R->vals_cap : 256;
        while (cap - R->nvals < count)
            cap *= 2;
        sval *nv = tr_realloc(R->vals, cap * sizeof *nv);
        if (!nv)
            return P_NOMEM;
        R->vals = nv;
        R->vals_cap = cap;
    }
    for (size_t i = 0; i < count; i++) {
        size_t size = rd16(b + desc + 4 * i);
        uint8_t type = b[desc + 4 * i + 2];
        if (!have(c, size))
            return fail(R, c->pos, "template value %zu of %zu bytes runs past the record", i, size);
        R->vals[R->nvals++] = (sval){.p = b + c->pos, .len = (uint32_t)size, .type = type};
        c->pos += size;
    }
    R->here = at;
    r = eval(R, ops, nops, vbase, count, depth, at);
    R->nvals = vbase;
    return r;
}

/* Fragments at the cursor: fragment headers, template instances, plain
 * elements, processing instructions, up to an end-of-stream token or the
 * end of the data. */
static int parse_fragments(evtx_reader *R, cur *c, unsigned depth)
{
    while (have(c, 1)) {
        if (!step(R))
            return over_budget(R, c->pos);
        uint8_t t = c->base[c->pos];
        int r;
        switch (t & 0xbf) {
        case 0x00:
            c->pos++;
            return P_OK;
        case 0x0f:
            if (!have(c, 4))
                return truncated(R, c, "fragment header");
            c->pos += 4;
            break;
        case 0x0c:
            if ((r = template_instance(R, c, depth)))
                return r;
            break;
        case 0x01: { /* a plain element: compiled into scratch, run, dropped */
            size_t base = R->nops, at = c->pos;
            R->here = at;
            r = compile_element(R, c, false, R->depth);
            if (!r)
                r = eval(R, R->ops + base, R->nops - base, 0, 0, depth, at);
            R->nops = base;
            if (r)
                return r;
            break;
        }
        case 0x0a:
            if ((r = skip_pi(R, c)))
                return r;
            break;
        default:
            return fail(R, c->pos, "unexpected token 0x%02x where a fragment should start", t);
        }
    }
    return P_OK;
}

/* ---------------------------------------------------------------- records */

/* Reads the record at chunk offset `pos` (size already checked) into an event. */
static int read_record(evtx_reader *R, size_t pos, uint32_t size)
{
    R->rec_id = rd64(R->chunk + pos + 8);
    R->depth = 0;
    R->attr_open = false;
    R->nvals = 0;
    R->nops = 0;
    R->text_len = 0;
    R->steps = 0;
    R->rec_text = 0;
    R->odd_values = 0;
    R->repaired = 0;
    R->here = pos;
    R->xml_len = 0;
    R->xdepth = 0;
    R->xattr_open = false;
    tr_builder_event_begin(R->b);
    cur c = {.base = R->chunk, .pos = pos + 24, .end = pos + size - 4};
    int r = parse_fragments(R, &c, 0);
    if (!r && R->depth)
        r = fail(R, c.pos, "the event XML ends inside an element (%u left open)", R->depth);
    if (!r && R->b->nfields == 0)
        r = fail(R, pos + 24, "the record holds no event XML");
    if (!r && R->want_xml) {
        if (R->chunk_xml + R->xml_len > TR_EVTX_MAX_CHUNK_XML) {
            r = fail(R, pos, "chunk renders to more than %u bytes of XML", TR_EVTX_MAX_CHUNK_XML);
        } else {
            R->chunk_xml += R->xml_len;
            char *x = tr_builder_copy(R->b, R->xml ? R->xml : "", R->xml_len);
            if (!x)
                r = P_NOMEM;
            R->b->xml = x;
            R->b->xml_len = (uint32_t)R->xml_len;
        }
    }
    if (r) {
        tr_builder_event_abort(R->b);
        return r;
    }
    uint64_t file_off = R->chunk_off + pos;
    if (R->b->overflow)
        report(R, TR_SEV_WARNING, file_off, "record %llu has more than %u fields or %u list items; the rest were dropped",
               (unsigned long long)R->rec_id, TR_EVENT_MAX_FIELDS, TR_EVENT_MAX_ITEMS);
    if (R->repaired) {
        R->ctx->values_repaired += R->repaired;
        report(R, TR_SEV_WARNING, file_off, "record %llu: invalid UTF-16 in %u string(s), replaced by U+FFFD",
               (unsigned long long)R->rec_id, R->repaired);
    }
    if (R->odd_values)
        report(R, TR_SEV_WARNING, file_off, "record %llu: %u value(s) whose size does not fit their type, shown in hex",
               (unsigned long long)R->rec_id, R->odd_values);
    if (R->b->time_prio == 0) /* no TimeCreated: the time the record was written */
        R->b->time = filetime_to_time(rd64(R->chunk + pos + 16));
    tr_origin o = {.path = R->ctx->path,
                   .format = "evtx",
                   .record = R->rec_id,
                   .offset = file_off,
                   .flags = R->recovering ? TR_ORIGIN_RECOVERED : 0};
    if (!tr_builder_event_end(R->b, &o))
        return P_NOMEM;
    if (R->recovering)
        R->ctx->records_recovered++;
    return P_OK;
}

/* Is there a well-formed record header at chunk offset pos (limit: end)? */
static bool record_at(const evtx_reader *R, size_t pos, size_t end, uint32_t *size)
{
    if (end < pos || end - pos < EVTX_RECORD_MIN || memcmp(R->chunk + pos, "\x2a\x2a\0\0", 4) != 0)
        return false;
    uint32_t s = rd32(R->chunk + pos + 4);
    if (s < EVTX_RECORD_MIN || s > end - pos || rd32(R->chunk + pos + s - 4) != s)
        return false;
    *size = s;
    return true;
}

/* The next well-formed record after pos, or 0. */
static size_t resync(const evtx_reader *R, size_t pos, size_t end)
{
    for (size_t q = pos + 1; q + EVTX_RECORD_MIN <= end; q++) {
        const uint8_t *hit = memchr(R->chunk + q, 0x2a, end - q);
        if (!hit)
            return 0;
        q = (size_t)(hit - R->chunk);
        uint32_t s;
        if (record_at(R, q, end, &s))
            return q;
    }
    return 0;
}

static void chunk_reset(evtx_reader *R)
{
    tr_arena_reset(&R->carena);
    if (++R->gen == 0) { /* wrapped: clear for real once in 4 billion chunks */
        memset(R->names, 0, sizeof R->names);
        memset(R->tmpls, 0, sizeof R->tmpls);
        R->gen = 1;
    }
    R->nnames = 0;
    R->ntmpls = 0;
    R->chunk_steps = 0;
    R->chunk_text = 0;
    R->chunk_xml = 0;
}

static bool chunk_over_budget(const evtx_reader *R)
{
    return R->chunk_steps > TR_EVTX_MAX_CHUNK_STEPS || R->chunk_text > TR_EVTX_MAX_CHUNK_TEXT ||
           R->chunk_xml > TR_EVTX_MAX_CHUNK_XML;
}

/* Recovery: records in the chunk's slack space [from, to). Every position
 * holding a well-formed record header is tried; a record that parses is
 * delivered (marked) and skipped over, anything else is passed by a byte.
 * Work is bounded by the chunk's budget, the search by the slack's size. */
static tr_status read_slack(evtx_reader *R, size_t from, size_t to)
{
    bool was = R->recovering;
    R->recovering = true;
    size_t pos = from;
    tr_status st = TR_OK;
    while (to > pos && to - pos >= EVTX_RECORD_MIN && !chunk_over_budget(R)) {
        const uint8_t *hit = memmem(R->chunk + pos, to - pos, "\x2a\x2a\0\0", 4);
        if (!hit)
            break;
        size_t q = (size_t)(hit - R->chunk);
        uint32_t size;
        if (!record_at(R, q, to, &size)) {
            pos = q + 1;
            continue;
        }
        int r = read_record(R, q, size);
        if (r == P_NOMEM) {
            st = TR_ERR_NOMEM;
            break;
        }
        pos = r ? q + 1 : q + size;
    }
    R->recovering = was;
    return st;
}

/* Reads the records of the chunk in R->chunk[0, clen) into the batch. In a
 * carved chunk (R->recovering) problems are not reported: it is a guess. */
static tr_status read_chunk(evtx_reader *R)
{
    const uint8_t *ch = R->chunk;
    size_t clen = R->clen;
    uint64_t off = R->chunk_off;
    bool quiet = R->recovering;
    chunk_reset(R);
    if (clen < EVTX_CHUNK_SIZE && !quiet) {
        if (tr_input_status(R->in) == TR_ERR_IO) /* not the file's fault: the read after these bytes failed */
            report(R, TR_SEV_ERROR, off, "chunk read in part: %zu of %u bytes before a read error; reading what is there",
                   clen, EVTX_CHUNK_SIZE);
        else
            report(R, TR_SEV_ERROR, off, "chunk truncated: %zu of %u bytes (file cut short); reading what is there",
                   clen, EVTX_CHUNK_SIZE);
    }
    if (clen < EVTX_CHUNK_HEADER) {
        if (!quiet)
            R->ctx->records_skipped++;
        return TR_OK;
    }
    uint32_t stored = rd32(ch + 124);
    uint32_t crc = (uint32_t)crc32(crc32(0L, ch, 120), ch + 128, EVTX_CHUNK_HEADER - 128);
    if (stored != crc && !quiet)
        report(R, TR_SEV_WARNING, off, "chunk header checksum mismatch (stored 0x%08x, computed 0x%08x); read anyway",
               stored, crc);
    uint32_t free_off = rd32(ch + 48);
    size_t end;
    bool end_known = true; /* records must fill [512, end): a gap is damage */
    if (free_off >= EVTX_CHUNK_HEADER && free_off <= EVTX_CHUNK_SIZE) {
        end = free_off < clen ? free_off : clen;
        if (free_off <= clen && !quiet) {
            uint32_t dstored = rd32(ch + 52);
            uint32_t dcrc = (uint32_t)crc32(0L, ch + EVTX_CHUNK_HEADER, free_off - EVTX_CHUNK_HEADER);
            if (dstored != dcrc)
                report(R, TR_SEV_WARNING, off,
                       "chunk records checksum mismatch (stored 0x%08x, computed 0x%08x); read anyway", dstored,
                       dcrc);
        }
    } else {
        if (!quiet)
            report(R, TR_SEV_WARNING, off,
                   "chunk free-space offset 0x%x is impossible; records read up to the first gap", free_off);
        end = clen;
        end_known = false;
    }
    size_t pos = EVTX_CHUNK_HEADER;
    bool over = false;
    while (pos < end) {
        uint32_t size;
        if (!record_at(R, pos, end, &size)) {
            if (!end_known && (end - pos < 4 || all_zero(ch + pos, end - pos < 64 ? end - pos : 64)))
                break;
            size_t next = resync(R, pos, end);
            if (quiet) {
                if (!next)
                    break;
                pos = next;
                continue;
            }
            /* say why, then look for the next record */
            const char *why;
            char buf[96];
            if (end - pos < EVTX_RECORD_MIN) {
                why = "too short for a record";
            } else if (memcmp(ch + pos, "\x2a\x2a\0\0", 4) != 0) {
                why = all_zero(ch + pos, 4) ? "zero bytes where a record should be" : "no record signature";
            } else {
                uint32_t s = rd32(ch + pos + 4);
                if (s < EVTX_RECORD_MIN || s > end - pos)
                    snprintf(buf, sizeof buf, "impossible record size %u (%zu bytes left)", s, end - pos);
                else
                    snprintf(buf, sizeof buf, "record size %u does not match its copy %u", s,
                             rd32(ch + pos + s - 4));
                why = buf;
            }
            R->ctx->records_skipped++;
            if (next) {
                report(R, TR_SEV_ERROR, off + pos, "%s; %zu bytes skipped to the next record", why, next - pos);
                pos = next;
                continue;
            }
            report(R, TR_SEV_ERROR, off + pos, "%s; rest of the chunk skipped", why);
            break;
        }
        int r = read_record(R, pos, size);
        if (r == P_NOMEM)
            return TR_ERR_NOMEM;
        if (r) {
            if (!quiet) {
                R->ctx->records_skipped++;
                report(R, TR_SEV_ERROR, off + pos, "record %llu: %s (at offset 0x%llx); record skipped",
                       (unsigned long long)R->rec_id, R->err, (unsigned long long)(off + R->err_at));
            }
            if (chunk_over_budget(R)) {
                if (!quiet)
                    report(R, TR_SEV_ERROR, off + pos, "chunk over its work limit; rest of the chunk skipped");
                over = true;
                break;
            }
        }
        pos += size;
    }
    /* the slack: after the free-space offset, or after the first gap when
     * the offset is impossible; never where a record was already read */
    size_t slack = end_known ? end : pos;
    if (R->recover && !over && slack < clen)
        return read_slack(R, slack, clen);
    return TR_OK;
}

/* ---------------------------------------------------------------- file */

static tr_status read_file_header(evtx_reader *R)
{
    tr_status st = tr_input_peek(R->in, EVTX_HEADER_SIZE);
    if (st)
        return st;
    const uint8_t *h = (const uint8_t *)tr_input_data(R->in);
    size_t avail = tr_input_avail(R->in);
    if (avail >= 8 && memcmp(h, "ElfChnk", 8) == 0) {
        R->bare_chunks = true; /* a chunk carved on its own */
        return TR_OK;
    }
    if (avail < 8 || memcmp(h, "ElfFile", 8) != 0) {
        report(R, TR_SEV_ERROR, 0, "no EVTX file header signature; file skipped");
        R->ctx->records_skipped++;
        R->finished = true;
        return TR_OK;
    }
    if (avail < EVTX_HEADER_SIZE) {
        report(R, TR_SEV_ERROR, 0, "EVTX file header truncated: %zu of %u bytes; no chunk follows", avail,
               EVTX_HEADER_SIZE);
        R->ctx->records_skipped++;
        R->finished = true;
        return TR_OK;
    }
    uint32_t stored = rd32(h + 124), crc = (uint32_t)crc32(0L, h, 120);
    if (stored != crc)
        report(R, TR_SEV_WARNING, 0, "file header checksum mismatch (stored 0x%08x, computed 0x%08x); read anyway",
               stored, crc);
    unsigned minor = rd16(h + 36), major = rd16(h + 38);
    if (major != 3)
        report(R, TR_SEV_WARNING, 0, "format version %u.%u (3.x expected); read anyway", major, minor);
    if (rd16(h + 40) != EVTX_HEADER_SIZE)
        report(R, TR_SEV_WARNING, 0, "header block size %u (4096 expected); chunks read from offset 4096",
               rd16(h + 40));
    R->header_chunks = rd16(h + 42);
    uint32_t flags = rd32(h + 120);
    if (flags & 1)
        report(R, TR_SEV_WARNING, 0,
               "file marked dirty (not closed cleanly, e.g. copied from a live system): its header counts may be "
               "stale; every chunk is read");
    tr_input_consume(R->in, EVTX_HEADER_SIZE);
    return TR_OK;
}

/* Recovery: chunks whose signature is not on a 64 KiB boundary, searched
 * in the `block` bytes at the window's start (which hold no chunk at their
 * own start). A chunk found is read up to 64 KiB, the end of the data, or
 * the next boundary that holds a chunk, whichever comes first: the aligned
 * walk reads that one, so no byte is read twice. */
static tr_status carve(evtx_reader *R, size_t block)
{
    tr_status st = tr_input_peek(R->in, 2 * (size_t)EVTX_CHUNK_SIZE);
    if (st)
        return st == TR_ERR_NOMEM ? st : TR_OK; /* the walk reports a broken source */
    const uint8_t *d = (const uint8_t *)tr_input_data(R->in);
    size_t avail = tr_input_avail(R->in);
    uint64_t off = tr_input_offset(R->in);
    if (avail < block)
        return TR_OK;
    size_t next_chunk = avail; /* where the aligned walk finds the next chunk */
    if (avail - block >= 8 && memcmp(d + block, "ElfChnk", 8) == 0)
        next_chunk = block;
    size_t from = 1; /* offset 0 holds no signature */
    if (R->carved_end > off && R->carved_end - off > from)
        from = (size_t)(R->carved_end - off);
    while (from < block) {
        size_t span = (avail - from < block - from + 7 ? avail - from : block - from + 7);
        const uint8_t *hit = memmem(d + from, span, "ElfChnk", 8);
        if (!hit)
            break;
        size_t k = (size_t)(hit - d);
        size_t lim = k + EVTX_CHUNK_SIZE;
        if (lim > next_chunk)
            lim = next_chunk;
        R->chunk = d + k;
        R->clen = lim - k;
        R->chunk_off = off + k;
        R->carved_start = off + k;
        R->carved_end = off + lim;
        size_t before = R->b->nevents;
        R->recovering = true;
        st = read_chunk(R);
        R->recovering = false;
        R->chunk = NULL;
        if (st)
            return st;
        report(R, TR_SEV_INFO, off + k, "chunk signature off the 64 KiB grid: %zu bytes read as a chunk, %zu event(s) recovered",
               lim - k, R->b->nevents - before);
        from = lim;
    }
    return TR_OK;
}

static tr_status reader_next(void *state, tr_builder *b)
{
    evtx_reader *R = state;
    tr_builder_batch_begin(b);
    R->b = b;
    R->tnames = b->names;
    if (!R->started) {
        R->started = true;
        uint64_t from = R->ctx->range_from;
        tr_status st = TR_OK;
        if (from == 0) {
            st = read_file_header(R);
        } else {
            /* a later part of the file: the header was the first part's to
             * judge; go straight to the part's first chunk */
            R->header_chunks = UINT32_MAX; /* every chunk counts as the header's own */
            st = tr_input_skip(R->in, from);
            R->chunk_no = (from - (from >= EVTX_HEADER_SIZE ? EVTX_HEADER_SIZE : 0)) / EVTX_CHUNK_SIZE;
        }
        if (st)
            return st;
    }
    while (!R->finished) {
        if (R->ctx->range_to && tr_input_offset(R->in) >= R->ctx->range_to) {
            R->finished = true; /* the next part's */
            break;
        }
        tr_status st = tr_input_peek(R->in, EVTX_CHUNK_SIZE);
        if (st) {
            if (st == TR_ERR_NOMEM)
                return st;
            report(R, TR_SEV_ERROR, tr_input_offset(R->in), "%s; reading stopped", tr_input_error(R->in));
            R->finished = true;
            return st;
        }
        size_t avail = tr_input_avail(R->in);
        if (avail == 0) {
            R->finished = true;
            break;
        }
        size_t clen = avail < EVTX_CHUNK_SIZE ? avail : EVTX_CHUNK_SIZE;
        const uint8_t *ch = (const uint8_t *)tr_input_data(R->in);
        uint64_t off = tr_input_offset(R->in);
        R->chunk_no++;
        if (clen < 8 || memcmp(ch, "ElfChnk", 8) != 0) {
            /* preallocated space is zeros: not damage */
            bool zero = all_zero(ch, clen);
            if (!zero && R->carved_end > off && R->carved_start < off) {
                report(R, TR_SEV_INFO, off, "no chunk signature: the rest of the chunk carved at offset 0x%llx",
                       (unsigned long long)R->carved_start);
            } else if (!zero) {
                bool counted = R->bare_chunks || R->chunk_no <= R->header_chunks;
                report(R, counted ? TR_SEV_ERROR : TR_SEV_WARNING, off,
                       "no chunk signature%s; %zu bytes skipped", counted ? "" : " (beyond the chunks the header counts)",
                       clen);
                if (counted)
                    R->ctx->records_skipped++;
            }
            if (!zero && R->recover && (st = carve(R, clen)) != TR_OK)
                return st;
            tr_input_consume(R->in, clen);
            if (b->nevents)
                return TR_OK;
            continue;
        }
        R->chunk = ch;
        R->clen = clen;
        R->chunk_off = off;
        st = read_chunk(R);
        tr_input_consume(R->in, clen);
        R->chunk = NULL;
        if (st)
            return st;
        if (b->nevents)
            return TR_OK;
    }
    return TR_OK;
}

static tr_status reader_create(void **state, tr_input *in, tr_read_ctx *ctx)
{
    evtx_reader *R = tr_calloc(1, sizeof *R);
    if (!R)
        return TR_ERR_NOMEM;
    R->in = in;
    R->ctx = ctx;
    R->want_xml = (ctx->flags & TR_SCAN_XML) != 0;
    R->recover = (ctx->flags & TR_SCAN_RECOVER) != 0;
    tr_arena_init(&R->carena, 64 * 1024);
    *state = R;
    return TR_OK;
}

static void reader_destroy(void *state)
{
    evtx_reader *R = state;
    if (!R)
        return;
    tr_arena_free(&R->carena);
    tr_free(R->ops);
    tr_free(R->vals);
    tr_free(R->text);
    tr_free(R->xml);
    tr_free(R->xtmp);
    tr_free(R);
}

static int probe_evtx(const unsigned char *p, size_t n)
{
    if (n >= 7 && memcmp(p, "ElfFile", 7) == 0)
        return 100;
    if (n >= 7 && memcmp(p, "ElfChnk", 7) == 0) /* a bare chunk, as carved from memory or disk */
        return 90;
    return 0;
}

const tr_reader_ops tr_evtx_reader = {
    .name = "evtx",
    .probe = probe_evtx,
    .create = reader_create,
    .next = reader_next,
    .destroy = reader_destroy,
};
