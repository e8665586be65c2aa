/*
 * exchange_log.c — the reader of Exchange server logs: the CSV family with
 * "#Software: Microsoft Exchange Server" headers — HttpProxy logs
 * (Logging\HttpProxy\<protocol>\HttpProxy_*.LOG, where CVE-2021-26855 shows),
 * ECP server logs, OAB generator logs, message tracking and the rest of the
 * family, all read generically from their headers.
 *
 * Format: directive lines start with '#' ("#Software:", "#Version:",
 * "#Log-type:", "#Date:", "#Fields:"); "#Fields:" names the comma-separated
 * columns of the records that follow, and may change mid-file. Records are
 * RFC 4180 CSV: a value in double quotes may hold commas, line breaks and
 * doubled quotes ("") standing for one.
 *
 * Events: one per record, fields named as the header names them
 * (AnchorMailbox, BackEndCookie, UrlStem, ClientIpAddress...); an empty
 * value is null; digits-only values are integers (text kept). The event
 * time is the DateTime (or date-time, Timestamp) column. The file's log
 * type ("HttpProxy Logs", "ECP Server Logs") is added to every event as
 * LogType: checks are written per log type, and the header is the only
 * place that says it.
 *
 * Bad input: a record whose value count differs from #Fields, or that comes
 * before any #Fields, is reported with its line and skipped; an unclosed
 * quote runs to the end of the window and is reported the same way. Records
 * are limited by the input window (64 MiB). Invalid UTF-8 is repaired.
 *
 * Workload: records of 300–1500 bytes with 30–70 columns, mostly unquoted.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../util/alloc.h"
#include "reader.h"
#include "text_value.h"

#define TR_EXLOG_MAX_FIELDS 256u /* columns of one #Fields line; HttpProxy has ~70 */
#define TR_EXLOG_BATCH 1024u

typedef struct exlog_reader {
    tr_input *in;
    tr_read_ctx *ctx;
    uint64_t line;                        /* line number of the first unconsumed byte */
    const tr_name *fields[TR_EXLOG_MAX_FIELDS];
    unsigned nfields;
    int time_field;                       /* column index of the time, -1 if none */
    const tr_name *log_type_name;         /* the LogType field's name */
    const char *log_type;                 /* owned copy of the #Log-type value, or NULL */
    const char *log_type_batch;           /* its copy in the current batch arena, or NULL:
                                           * events point at this one, which outlives a
                                           * later #Log-type until the batch ends */
    bool finished;
} exlog_reader;

static const char *const time_columns[] = {"DateTime", "date-time", "Timestamp", "TimeStamp"};

/* false when out of memory (the reader stops: never a #Fields read in part) */
static bool parse_fields_directive(exlog_reader *R, tr_builder *b, const char *p, const char *end)
{
    R->nfields = 0;
    R->time_field = -1;
    while (p <= end && R->nfields < TR_EXLOG_MAX_FIELDS) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *s = p;
        while (s < e && *s == ' ')
            s++;
        const tr_name *nm = tr_names_child(b->names, tr_names_root(b->names), s, (size_t)(e - s), &b->arena);
        if (!nm)
            return false;
        for (size_t k = 0; k < sizeof time_columns / sizeof time_columns[0]; k++)
            if (R->time_field < 0 && strlen(time_columns[k]) == (size_t)(e - s) && memcmp(time_columns[k], s, (size_t)(e - s)) == 0)
                R->time_field = (int)R->nfields;
        R->fields[R->nfields++] = nm;
        if (!comma)
            break;
        p = comma + 1;
    }
    return true;
}

/* false when out of memory: the reader stops rather than leave events
 * without their LogType */
static bool parse_log_type(exlog_reader *R, const char *p, const char *end)
{
    while (p < end && *p == ' ')
        p++;
    tr_free((void *)(uintptr_t)R->log_type);
    R->log_type = tr_strndup(p, (size_t)(end - p));
    R->log_type_batch = NULL;
    return R->log_type != NULL;
}

/* Finds the end of the record starting at p: the first line break outside
 * quotes. Returns NULL when the window ends first. *lines counts the line
 * breaks inside quoted values. A quote left open for more than
 * TR_EXLOG_MAX_RECORD_LINES lines is taken as a stray quote: the record
 * then ends at its first line break (and will be reported as malformed),
 * so one bad quote cannot swallow the rest of the file. */
#define TR_EXLOG_MAX_RECORD_LINES 256u
static const char *record_end(const char *p, const char *end, unsigned *lines)
{
    bool quoted = false;
    const char *first_nl = NULL;
    *lines = 0;
    while (p < end) {
        if (quoted) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            for (const char *k = p; k < (q ? q : end); k++) {
                if (*k != '\n')
                    continue;
                if (!first_nl)
                    first_nl = k;
                if (++*lines > TR_EXLOG_MAX_RECORD_LINES) {
                    *lines = 0;
                    return first_nl;
                }
            }
            if (!q || q + 1 >= end)
                return NULL;
            if (q[1] == '"') { /* a doubled quote */
                p = q + 2;
                continue;
            }
            quoted = false;
            p = q + 1;
            continue;
        }
        char c = *p;
        if (c == '\n')
            return p;
        if (c == '"')
            quoted = true;
        p++;
    }
    return NULL;
}

/* Adds value [s, e) of column i: quoted values are unquoted (into the
 * arena when they hold doubled quotes). */
static bool add_value(exlog_reader *R, tr_builder *b, unsigned i, const char *s, const char *e, unsigned *repaired)
{
    tr_value v = {.type = TR_NULL};
    bool quoted = e - s >= 2 && s[0] == '"' && e[-1] == '"';
    if (quoted)
        s++, e--;
    size_t n = (size_t)(e - s);
    if (n > 0) { /* an empty column: no value */
        if (quoted && memchr(s, '"', n)) { /* "" stands for one quote */
            char *c = tr_arena_alloc(&b->arena, n + 1);
            if (!c)
                return false;
            size_t o = 0;
            for (size_t k = 0; k < n; k++) {
                c[o++] = s[k];
                if (s[k] == '"' && k + 1 < n && s[k + 1] == '"')
                    k++;
            }
            s = c;
            n = o;
        }
        if (!tr_text_value(b, s, n, !quoted, &v, repaired))
            return false;
    }
    return tr_builder_add(b, R->fields[i], &v);
}

static bool record(exlog_reader *R, tr_builder *b, const char *p, const char *end, uint64_t offset)
{
    char where[48];
#define EXLOG_WHERE() (snprintf(where, sizeof where, "line %llu", (unsigned long long)R->line), where)
    if (!R->nfields) {
        tr_read_report(R->ctx, TR_SEV_ERROR, EXLOG_WHERE(), "record before any #Fields directive; skipped");
        R->ctx->records_skipped++;
        return true;
    }
    if (R->log_type && !R->log_type_batch) { /* before the event: a rollback must not drop it */
        R->log_type_batch = tr_arena_strndup(&b->arena, R->log_type, strlen(R->log_type));
        if (!R->log_type_batch)
            return false;
    }
    tr_builder_event_begin(b);
    unsigned i = 0, repaired = 0;
    const char *time_s = NULL;
    size_t time_n = 0;
    for (;;) {
        const char *s = p, *e;
        if (p < end && *p == '"') { /* quoted: to the closing quote not followed by another */
            const char *q = p + 1;
            for (;;) {
                q = memchr(q, '"', (size_t)(end - q));
                if (!q || q + 1 >= end || q[1] != '"')
                    break;
                q += 2;
            }
            e = q ? q + 1 : end;
            p = e;
        } else {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            e = comma ? comma : end;
            p = e;
        }
        if (i < R->nfields) {
            if ((int)i == R->time_field)
                time_s = s, time_n = (size_t)(e - s);
            if (!add_value(R, b, i, s, e, &repaired))
                return false;
        }
        i++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p >= end)
            break;
        /* text after a closing quote before the comma: tolerated as part of the value */
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma)
            break;
        p = comma + 1;
    }
    if (i != R->nfields) {
        tr_builder_event_abort(b);
        tr_read_report(R->ctx, TR_SEV_ERROR, EXLOG_WHERE(), "%u value(s) where #Fields names %u; record skipped", i,
                       R->nfields);
        R->ctx->records_skipped++;
        return true;
    }
    if (R->log_type_batch && R->log_type_name) {
        tr_value v = {.type = TR_STR, .str = R->log_type_batch, .len = (uint32_t)strlen(R->log_type_batch)};
        if (!tr_builder_add(b, R->log_type_name, &v))
            return false;
    }
    if (time_s) {
        if (time_n >= 2 && time_s[0] == '"')
            time_s++, time_n -= 2;
        tr_time t;
        if (tr_time_parse(time_s, time_n, &t) == TR_OK)
            b->time = t;
    }
    return tr_text_record_end(b, R->ctx, "exchange-log", R->line, offset, repaired);
#undef EXLOG_WHERE
}

static tr_status reader_next(void *state, tr_builder *b)
{
    exlog_reader *R = state;
    tr_builder_batch_begin(b);
    R->log_type_batch = NULL;
    if (!R->log_type_name &&
        !(R->log_type_name = tr_names_child(b->names, tr_names_root(b->names), "LogType", 7, &b->arena)))
        return TR_ERR_NOMEM; /* never events without the LogType they have */
    while (!R->finished) {
        const char *data = tr_input_data(R->in);
        size_t avail = tr_input_avail(R->in);
        bool eof = tr_input_eof(R->in);
        const char *p = data, *end = data + avail;
        while (p < end && b->nevents < TR_EXLOG_BATCH) {
            unsigned inner = 0;
            const char *nl;
            if (*p == '#') {
                nl = memchr(p, '\n', (size_t)(end - p));
            } else {
                nl = record_end(p, end, &inner);
            }
            if (!nl && !eof)
                break; /* the record goes on in the next window */
            const char *le = nl ? nl : end;
            const char *ce = le > p && le[-1] == '\r' ? le - 1 : le;
            uint64_t offset = tr_input_offset(R->in) + (uint64_t)(p - data);
            if (p == data && R->line == 1 && ce - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3;
            if (p < ce && *p == '#') {
                if (ce - p >= 8 && memcmp(p, "#Fields:", 8) == 0) {
                    if (!parse_fields_directive(R, b, p + 8, ce))
                        return TR_ERR_NOMEM;
                }
                else if (ce - p >= 10 && memcmp(p, "#Log-type:", 10) == 0 && !parse_log_type(R, p + 10, ce))
                    return TR_ERR_NOMEM;
            } else if (p < ce) {
                if (!record(R, b, p, ce, offset))
                    return TR_ERR_NOMEM;
            }
            R->line += 1 + inner;
            p = nl ? nl + 1 : end;
        }
        tr_input_consume(R->in, (size_t)(p - data));
        if (b->nevents >= TR_EXLOG_BATCH || (b->nevents > 0 && !eof))
            return TR_OK; /* deliver before the window slides */
        if (eof && tr_input_avail(R->in) == 0) {
            R->finished = true;
            break;
        }
        tr_status st = tr_input_fill(R->in, true);
        if (st == TR_ERR_LIMIT) {
            /* a record larger than the largest window (an unclosed quote,
             * usually): report it and go on after the window */
            char w[48];
            snprintf(w, sizeof w, "line %llu", (unsigned long long)R->line);
            tr_read_report(R->ctx, TR_SEV_ERROR, w, "%s (an unclosed quote?); the window's bytes skipped",
                           tr_input_error(R->in));
            R->ctx->records_skipped++;
            const char *d = tr_input_data(R->in);
            size_t n = tr_input_avail(R->in);
            for (size_t k = 0; k < n; k++)
                R->line += d[k] == '\n';
            tr_input_consume(R->in, n);
            st = TR_OK;
        }
        if (st)
            return st;
    }
    return TR_OK;
}

static tr_status reader_create(void **state, tr_input *in, tr_read_ctx *ctx)
{
    exlog_reader *R = tr_calloc(1, sizeof *R);
    if (!R)
        return TR_ERR_NOMEM;
    R->in = in;
    R->ctx = ctx;
    R->line = 1;
    R->time_field = -1;
    *state = R;
    return TR_OK;
}

static void reader_destroy(void *state)
{
    exlog_reader *R = state;
    if (R)
        tr_free((void *)(uintptr_t)R->log_type);
    tr_free(R);
}

static int probe_exchange_log(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    static const char head[] = "#Software: Microsoft Exchange";
    return n - i >= sizeof head - 1 && memcmp(p + i, head, sizeof head - 1) == 0 ? 95 : 0;
}

const tr_reader_ops tr_exchange_log_reader = {
    .name = "exchange-log",
    .probe = probe_exchange_log,
    .create = reader_create,
    .next = reader_next,
    .destroy = reader_destroy,
};
