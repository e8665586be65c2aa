/*
 * format.c — the table of formats and their content probes.
 *
 * Order matters only for ties and for the per-format statistics, which use
 * the table index; new formats go at the end. Probes look at no more than
 * the first few KiB and never at the file name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reader.h"

static bool has_prefix(const unsigned char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(p, lit, l) == 0;
}

static int probe_sqlite(const unsigned char *p, size_t n)
{
    return has_prefix(p, n, "SQLite format 3") ? 100 : 0;
}

static const tr_reader_ops sqlite_format = {
    .name = "sqlite", .probe = probe_sqlite,
    .unsupported_reason = "SQLite database: no reader yet"};

static const tr_reader_ops *const formats[TR_FORMAT_COUNT] = {
    &tr_json_reader, &tr_evtx_reader, &tr_w3c_reader, &tr_exchange_log_reader, &sqlite_format,
};

const char *tr_format_name(size_t i) { return i < TR_FORMAT_COUNT ? formats[i]->name : NULL; }

const tr_reader_ops *tr_format_detect(const unsigned char *head, size_t len, size_t *index)
{
    int best = 0;
    const tr_reader_ops *found = NULL;
    for (size_t i = 0; i < TR_FORMAT_COUNT; i++) {
        int score = formats[i]->probe(head, len);
        if (score > best) {
            best = score;
            found = formats[i];
            *index = i;
        }
    }
    return found;
}

void tr_read_report(tr_read_ctx *ctx, tr_severity sev, const char *where, const char *fmt, ...)
{
    ctx->problems++;
    if (ctx->problems > TR_READ_MAX_SHOWN || !ctx->diag) {
        ctx->hidden++;
        return;
    }
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    tr_diag d = {.severity = sev, .path = ctx->path, .where = where ? where : "", .reason = reason,
                 .kind = TR_DIAG_EVIDENCE};
    ctx->diag(ctx->user, &d);
}
