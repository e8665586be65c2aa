/*
 * reader.h — what a reader is, how formats are recognised, and how readers
 * report bad input.
 *
 * A reader turns the bytes of one file into batches of events. Formats are
 * recognised from content only (magic bytes, header lines, the first JSON
 * token): each format has a probe that scores the first bytes of the file,
 * and the best score wins. Formats are listed once, in format.c; a format
 * without a reader is still recognised, so that a file is skipped with a
 * precise reason ("SQLite database: no reader yet") instead of "unknown".
 *
 * Reporting: readers never print. They call tr_read_report(), which counts
 * every problem and passes the first TR_READ_MAX_SHOWN of each file to the
 * diagnostic callback (kind TR_DIAG_EVIDENCE); the scanner reports how many
 * more were not shown, so nothing is lost silently and a file with a
 * million bad lines does not flood the terminal. Out of memory is returned
 * (TR_ERR_NOMEM), never answered by leaving a field or a header out.
 */
#ifndef TR_READ_READER_H
#define TR_READ_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traccia.h"
#include "../event/event.h"
#include "input.h"

#define TR_READ_MAX_SHOWN 20u  /* diagnostics passed on per file */
#define TR_FORMAT_COUNT 5u     /* entries in the format table (format.c) */

/* Per-file reading context: identity, reporting and counters. */
typedef struct tr_read_ctx {
    const char *path;
    const char *format;
    tr_diag_fn diag;            /* may be NULL */
    void *user;
    unsigned flags;             /* TR_SCAN_* the scan was asked for */
    /* A part of the file only (readers that can split: EVTX, by chunk):
     * the chunks starting in [range_from, range_to). 0, 0: the whole file.
     * A part after the first reports nothing about the file header. */
    uint64_t range_from, range_to;
    uint64_t records_skipped;   /* malformed records skipped */
    uint64_t records_recovered; /* events from slack or carved space (TR_SCAN_RECOVER) */
    uint64_t values_repaired;   /* strings with invalid UTF-8 repaired */
    uint64_t problems;          /* every tr_read_report call */
    uint64_t hidden;            /* reports not passed on (over the limit) */
} tr_read_ctx;

/* Reports a problem at `where` ("line 12, column 4", "offset 0x10000", or "").
 * Printf-style reason. */
void tr_read_report(tr_read_ctx *ctx, tr_severity sev, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct tr_reader_ops {
    const char *name;
    /* Confidence 0..100 that `head` (the first bytes, decompressed) is this
     * format. `len` may be short for a small file. */
    int (*probe)(const unsigned char *head, size_t len);
    /* Why files of this format are skipped when create is NULL. */
    const char *unsupported_reason;
    /* Creates reader state over `in` (owned by the caller). */
    tr_status (*create)(void **state, tr_input *in, tr_read_ctx *ctx);
    /* Fills the builder with the next batch (the reader calls
     * tr_builder_batch_begin). An empty batch means the file is done.
     * Returns non-OK only when reading cannot go on (after reporting). */
    tr_status (*next)(void *state, tr_builder *b);
    void (*destroy)(void *state);
} tr_reader_ops;

/* The best format for these first bytes, or NULL when none scores above
 * zero. *index receives its position in the format table. */
const tr_reader_ops *tr_format_detect(const unsigned char *head, size_t len, size_t *index);

/* The readers (defined in their own files). */
extern const tr_reader_ops tr_json_reader;
extern const tr_reader_ops tr_evtx_reader; /* evtx.c: Windows event logs, ElfFile/ElfChnk */
extern const tr_reader_ops tr_w3c_reader;  /* w3c.c: IIS W3C extended logs */
extern const tr_reader_ops tr_exchange_log_reader; /* exchange_log.c: Exchange CSV logs */

#endif
