/*
 * fuzz_prefixed.h — shared body of the fuzz targets for line-based readers:
 * the input goes behind a header line that makes format detection choose
 * the reader under test (so every input reaches it), is read from memory,
 * and every event is looked up and rendered as detection and `dump` will.
 */
#ifndef TR_FUZZ_PREFIXED_H
#define TR_FUZZ_PREFIXED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traccia.h"

typedef struct fuzz_sink {
    tr_json_writer *writer;
    const char *const *names; /* looked up in every event; NULL-terminated */
} fuzz_sink;

static int fuzz_on_batch(void *user, const tr_batch *b)
{
    fuzz_sink *s = user;
    for (size_t i = 0; i < b->count; i++) {
        for (const char *const *n = s->names; *n; n++)
            (void)tr_event_get(b->events[i], *n, strlen(*n));
        tr_json_writer_event(s->writer, b->events[i]);
    }
    return 0;
}

static inline void fuzz_prefixed(const char *head, const char *const *names, const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    size_t hl = strlen(head);
    char *buf = malloc(hl + size + 1);
    if (!buf)
        return;
    memcpy(buf, head, hl);
    if (size)
        memcpy(buf + hl, data, size);
    fuzz_sink sink = {.names = names};
    if (tr_json_writer_create(&sink.writer, devnull, 0) == TR_OK) {
        tr_scan *scan;
        tr_scan_options o = {.on_batch = fuzz_on_batch, .user = &sink};
        if (tr_scan_create(&scan, &o) == TR_OK) {
            tr_scan_memory(scan, "fuzz.log", buf, hl + size);
            tr_scan_destroy(scan);
        }
        tr_json_writer_destroy(sink.writer);
    }
    free(buf);
}

#endif
