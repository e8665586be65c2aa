/*
 * w3c.c — the W3C extended log reader: IIS logs (inetpub\logs\LogFiles\
 * W3SVC*\u_ex*.log), the web-server evidence of an Exchange intrusion.
 *
 * Format: directive lines start with '#': "#Software:", "#Version:",
 * "#Date:", and "#Fields:", which names the space-separated columns of the
 * data lines that follow — and may change in the middle of a file (IIS
 * writes a new header block when its logging configuration changes or the
 * service restarts). A data line holds one value per field; "-" means no
 * value; spaces inside the user agent are written as '+'. Dates and times
 * are UTC.
 *
 * Events: one per data line, fields named as Sigma's webserver taxonomy
 * names them, so that SigmaHQ's rules/web run unchanged: the W3C names as
 * they are (c-ip, cs-method, cs-uri-stem, cs-uri-query, sc-status, ...),
 * and the prefix-header form cs(User-Agent) as cs-user-agent (likewise
 * cs(Referer), cs(Cookie), cs(Host) and any other header, lower-cased).
 * "-" becomes null; numbers become integers (text kept); the event time is
 * date + time. The directives' software and version are not fields: they
 * describe the file, not the request.
 *
 * Bad input: a data line before any #Fields, or whose value count differs
 * from it, is reported with its line number and skipped. Lines are limited
 * by the input window (64 MiB). Invalid UTF-8 is repaired and reported.
 *
 * Workload: lines of 150–500 bytes, 14–22 fields; zero copy except for
 * user agents with '+' and repaired text, which go to the batch arena.
 * Per line, one pass (SSE2 where available) finds the spaces and whether
 * the line is ASCII; the date's midnight is parsed once per day
 * (docs/PERFORMANCE.md: reading W3C).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../util/alloc.h"
#include "reader.h"
#include "text_value.h"

#define TR_W3C_MAX_FIELDS 128u /* columns of one #Fields line; IIS has at most ~30 */
#define TR_W3C_BATCH 1024u

typedef struct w3c_reader {
    tr_input *in;
    tr_read_ctx *ctx;
    uint64_t line;                       /* number of the first unconsumed line */
    const tr_name *fields[TR_W3C_MAX_FIELDS];
    unsigned nfields;                    /* 0: no #Fields seen yet */
    unsigned plus_is_space;              /* bitmask over the first 32 fields: '+' decodes to ' ' */
    int date_field, time_field;          /* column indexes, -1 if absent */
    char day_text[10];                   /* the date of the last line, "YYYY-MM-DD" */
    tr_time day_start;                   /* its midnight (UTC), TR_TIME_NONE: not a date */
    bool finished;
} w3c_reader;

/* The Sigma name of a W3C field: "cs(User-Agent)" -> "cs-user-agent". */
static size_t sigma_name(const char *f, size_t n, char *out, size_t cap)
{
    const char *open = memchr(f, '(', n);
    if (!open || f[n - 1] != ')' || n >= cap)
        return 0; /* plain names are already the taxonomy's */
    size_t o = 0;
    for (const char *p = f; p < open; p++)
        out[o++] = *p;
    out[o++] = '-';
    for (const char *p = open + 1; p < f + n - 1; p++)
        out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    return o;
}

/* false when out of memory (the reader stops: never a #Fields read in part) */
static bool parse_fields_directive(w3c_reader *R, tr_builder *b, const char *p, const char *end)
{
    R->nfields = 0;
    R->plus_is_space = 0;
    R->date_field = R->time_field = -1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (p == s)
            break;
        if (R->nfields == TR_W3C_MAX_FIELDS) {
            char w[48];
            snprintf(w, sizeof w, "line %llu", (unsigned long long)R->line);
            tr_read_report(R->ctx, TR_SEV_WARNING, w, "more than %u fields; the rest are ignored", TR_W3C_MAX_FIELDS);
            break;
        }
        char buf[256];
        size_t n = sigma_name(s, (size_t)(p - s), buf, sizeof buf);
        const char *name = n ? buf : s;
        size_t len = n ? n : (size_t)(p - s);
        const tr_name *nm = tr_names_child(b->names, tr_names_root(b->names), name, len, &b->arena);
        if (!nm)
            return false;
        unsigned i = R->nfields++;
        R->fields[i] = nm;
        if (len == 4 && memcmp(name, "date", 4) == 0)
            R->date_field = (int)i;
        else if (len == 4 && memcmp(name, "time", 4) == 0)
            R->time_field = (int)i;
        else if (i < 32 && len == 13 && memcmp(name, "cs-user-agent", 13) == 0)
            R->plus_is_space |= 1u << i;
    }
    return true;
}

/* A value of a line known to be ASCII: valid UTF-8 without a look, and
 * digits-only text of up to 18 digits an integer (tr_text_value's rules,
 * without its per-value UTF-8 scan). */
static inline void ascii_value(const char *s, size_t n, tr_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = TR_STR;
    v->str = s;
    v->len = (uint32_t)n;
    if (n == 0 || n > 18)
        return;
    int64_t x = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (d > 9)
            return;
        x = x * 10 + d;
    }
    v->type = TR_INT;
    v->as.i = x;
}

/* '+' to ' ' in place. Without branches: user agents hold a '+' every few
 * bytes, and a loop that tests each byte mispredicts on most of them. */
static inline void plus_to_space(char *c, size_t n)
{
    size_t k = 0;
#if defined(__SSE2__)
    const __m128i plus = _mm_set1_epi8('+'), flip = _mm_set1_epi8('+' ^ ' ');
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c + k));
        v = _mm_xor_si128(v, _mm_and_si128(_mm_cmpeq_epi8(v, plus), flip));
        _mm_storeu_si128((__m128i *)(void *)(c + k), v);
    }
#endif
    for (; k < n; k++)
        c[k] = (char)(c[k] ^ ((c[k] == '+') * ('+' ^ ' ')));
}

/* Adds value i, [s, s + n). Returns false when out of memory. */
static bool add_value(w3c_reader *R, tr_builder *b, unsigned i, const char *s, size_t n, bool ascii,
                      unsigned *repaired)
{
    tr_value v = {.type = TR_NULL};
    if (!(n == 1 && s[0] == '-')) { /* "-": no value */
        if (i < 32 && (R->plus_is_space >> i & 1u) && memchr(s, '+', n)) {
            char *c = tr_builder_copy(b, s, n); /* '+' stands for a space in user agents */
            if (!c)
                return false;
            plus_to_space(c, n);
            s = c;
        }
        if (ascii)
            ascii_value(s, n, &v);
        else if (!tr_text_value(b, s, n, true, &v, repaired))
            return false;
    }
    return tr_builder_add(b, R->fields[i], &v);
}

/* Finds the spaces of the line [p, end): their positions, up to `cap`, in
 * sp[]; returns how many there are (all of them, past the cap too) and
 * whether the line is pure ASCII. 16 bytes at a time where SSE2 is there:
 * a line has 15-20 values, and one pass over it beats a memchr call per
 * value. */
static size_t find_spaces(const char *p, const char *end, const char **sp, size_t cap, bool *ascii)
{
    size_t n = 0;
    const char *q = p;
    unsigned high = 0;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(' ');
    for (; end - q >= 16; q += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
        high |= (unsigned)_mm_movemask_epi8(v);
        while (m) {
            if (n < cap)
                sp[n] = q + __builtin_ctz(m);
            n++;
            m &= m - 1;
        }
    }
#endif
    for (; q < end; q++) {
        high |= (unsigned char)*q & 0x80u;
        if (*q == ' ') {
            if (n < cap)
                sp[n] = q;
            n++;
        }
    }
    *ascii = high == 0;
    return n;
}

/* The event time from the date and time columns. IIS writes "YYYY-MM-DD"
 * and "HH:MM:SS": the date's midnight is parsed once per day and the time
 * added by hand; anything else goes through tr_time_parse. */
static bool line_time(w3c_reader *R, const char *date, size_t date_len, const char *time, size_t time_len,
                      tr_time *out)
{
    if (date_len != 10 || time_len < 8 || time_len >= 32)
        return false;
    if (time_len == 8 && time[2] == ':' && time[5] == ':') {
        if (memcmp(date, R->day_text, 10) != 0) {
            memcpy(R->day_text, date, 10);
            if (tr_time_parse(date, 10, &R->day_start) != TR_OK)
                R->day_start = TR_TIME_NONE;
        }
        unsigned d[6] = {0};
        static const unsigned char at[6] = {0, 1, 3, 4, 6, 7};
        bool digits = R->day_start != TR_TIME_NONE;
        for (int k = 0; k < 6 && digits; k++)
            digits = (d[k] = (unsigned)(time[at[k]] - '0')) <= 9;
        unsigned h = d[0] * 10 + d[1], m = d[2] * 10 + d[3], sec = d[4] * 10 + d[5];
        if (digits && h < 24 && m < 60 && sec < 60) {
            *out = R->day_start + (tr_time)(h * 3600 + m * 60 + sec) * 1000000000;
            return true;
        }
    }
    char iso[48];
    memcpy(iso, date, 10);
    iso[10] = 'T';
    memcpy(iso + 11, time, time_len);
    return tr_time_parse(iso, 11 + time_len, out) == TR_OK;
}

/* One data line [p, end) (without its line break). Bad lines are
 * reported here; returns false only when out of memory. */
static bool data_line(w3c_reader *R, tr_builder *b, const char *p, const char *end, uint64_t offset)
{
    char where[48]; /* formatted only when there is something to report */
#define W3C_WHERE() (snprintf(where, sizeof where, "line %llu", (unsigned long long)R->line), where)
    if (!R->nfields) {
        tr_read_report(R->ctx, TR_SEV_ERROR, W3C_WHERE(), "data line before any #Fields directive; skipped");
        R->ctx->records_skipped++;
        return true;
    }
    const char *sp[TR_W3C_MAX_FIELDS];
    bool ascii;
    size_t nsp = find_spaces(p, end, sp, R->nfields, &ascii);
    /* values: one more than the spaces, but a space ending the line ends
     * the last value rather than starting an empty one */
    size_t nvalues = nsp + 1 - (end[-1] == ' ');
    if (nvalues != R->nfields) {
        tr_read_report(R->ctx, TR_SEV_ERROR, W3C_WHERE(), "%zu value(s) where #Fields names %u; line skipped",
                       nvalues, R->nfields);
        R->ctx->records_skipped++;
        return true;
    }
    tr_builder_event_begin(b);
    unsigned repaired = 0;
    const char *date = NULL, *time = NULL;
    size_t date_len = 0, time_len = 0;
    const char *s = p;
    for (unsigned i = 0; i < R->nfields; i++) {
        const char *e = i < nsp ? sp[i] : end;
        size_t n = (size_t)(e - s);
        if ((int)i == R->date_field)
            date = s, date_len = n;
        else if ((int)i == R->time_field)
            time = s, time_len = n;
        if (!add_value(R, b, i, s, n, ascii, &repaired))
            return false;
        s = e + 1;
    }
    tr_time t;
    if (date && time && line_time(R, date, date_len, time, time_len, &t))
        b->time = t;
    return tr_text_record_end(b, R->ctx, "w3c", R->line, offset, repaired);
#undef W3C_WHERE
}

static tr_status reader_next(void *state, tr_builder *b)
{
    w3c_reader *R = state;
    tr_builder_batch_begin(b);
    while (!R->finished) {
        const char *data = tr_input_data(R->in);
        size_t avail = tr_input_avail(R->in);
        bool eof = tr_input_eof(R->in);
        const char *p = data, *end = data + avail;
        while (p < end && b->nevents < TR_W3C_BATCH) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl && !eof)
                break; /* the line goes on in the next window */
            const char *le = nl ? nl : end;
            uint64_t offset = tr_input_offset(R->in) + (uint64_t)(p - data);
            const char *content_end = le > p && le[-1] == '\r' ? le - 1 : le;
            if (p == data && R->line == 1 && content_end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3; /* a byte-order mark */
            if (p < content_end && *p == '#') {
                static const char fields[] = "#Fields:";
                if ((size_t)(content_end - p) >= sizeof fields - 1 && memcmp(p, fields, sizeof fields - 1) == 0 &&
                    !parse_fields_directive(R, b, p + sizeof fields - 1, content_end))
                    return TR_ERR_NOMEM;
            } else if (p < content_end) {
                if (!data_line(R, b, p, content_end, offset))
                    return TR_ERR_NOMEM;
            }
            R->line++;
            p = nl ? nl + 1 : end;
        }
        tr_input_consume(R->in, (size_t)(p - data));
        if (b->nevents >= TR_W3C_BATCH || (b->nevents > 0 && p < end) || (b->nevents > 0 && !eof))
            return TR_OK; /* deliver before the window slides */
        if (eof && tr_input_avail(R->in) == 0) {
            R->finished = true;
            break;
        }
        tr_status st = tr_input_fill(R->in, true);
        if (st == TR_ERR_LIMIT) {
            /* a line longer than the largest window: report and drop it */
            char w[48];
            snprintf(w, sizeof w, "line %llu", (unsigned long long)R->line);
            tr_read_report(R->ctx, TR_SEV_ERROR, w, "%s; line skipped", tr_input_error(R->in));
            R->ctx->records_skipped++;
            for (;;) { /* discard up to the end of that line */
                const char *d = tr_input_data(R->in);
                size_t n = tr_input_avail(R->in);
                const char *nl = memchr(d, '\n', n);
                tr_input_consume(R->in, nl ? (size_t)(nl - d) + 1 : n);
                if (nl || tr_input_eof(R->in))
                    break;
                if ((st = tr_input_fill(R->in, false)) != TR_OK)
                    return st;
            }
            R->line++;
            st = TR_OK;
        }
        if (st)
            return st;
    }
    return TR_OK;
}

static tr_status reader_create(void **state, tr_input *in, tr_read_ctx *ctx)
{
    w3c_reader *R = tr_calloc(1, sizeof *R);
    if (!R)
        return TR_ERR_NOMEM;
    R->in = in;
    R->ctx = ctx;
    R->line = 1;
    R->date_field = R->time_field = -1;
    R->day_start = TR_TIME_NONE;
    *state = R;
    return TR_OK;
}

static void reader_destroy(void *state) { tr_free(state); }

static int probe_w3c(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    static const char *const heads[] = {"#Software: Microsoft Internet Information Services", "#Version: 1.0",
                                        "#Fields: ", "#Date: "};
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++) {
        size_t l = strlen(heads[k]);
        if (n - i >= l && memcmp(p + i, heads[k], l) == 0)
            return 90;
    }
    return 0;
}

const tr_reader_ops tr_w3c_reader = {
    .name = "w3c",
    .probe = probe_w3c,
    .create = reader_create,
    .next = reader_next,
    .destroy = reader_destroy,
};
