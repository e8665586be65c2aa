/*
 * fuzz_common.h — the shared body of the libFuzzer targets: read bytes as
 * one evidence file from memory, then exercise every event the way the
 * detection engine and `dump` will (lookups, list items, XML, rendering)
 * and trap on a broken invariant of the event model, so that a reader that
 * returns a malformed event fails as loudly as one that crashes.
 */
#ifndef TR_FUZZ_COMMON_H
#define TR_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traccia.h"

typedef struct fuzz_sink {
    tr_json_writer *writer;
    const char *const *names; /* looked up in every event; NULL-terminated */
} fuzz_sink;

/* Traps unless the event keeps the model's promises. */
static inline void fuzz_check_event(const tr_event *ev)
{
    for (size_t f = 0; f < tr_event_field_count(ev); f++) {
        const tr_field *fl = tr_event_field(ev, f);
        if (tr_event_get(ev, fl->name, fl->name_len) == NULL)
            __builtin_trap(); /* every field is found again under its own name */
        if (fl->value.type == TR_LIST) {
            for (size_t j = 0; j < fl->value.as.list.count; j++)
                if (tr_event_list_item(ev, &fl->value, j) == NULL)
                    __builtin_trap();
        } else if (fl->value.type != TR_NULL && fl->value.len && !fl->value.str) {
            __builtin_trap(); /* text promised, none given */
        }
    }
    (void)tr_event_time(ev);
    size_t xlen;
    const char *xml = tr_event_xml(ev, &xlen);
    if (xml && (xlen == 0 || xml[0] != '<' || memchr(xml, '\n', xlen) || xml[xlen] != '\0'))
        __builtin_trap(); /* an XML rendering is one line of markup */
}

static inline int fuzz_on_batch(void *user, const tr_batch *b)
{
    fuzz_sink *s = user;
    for (size_t i = 0; i < b->count; i++) {
        for (const char *const *n = s->names; *n; n++)
            (void)tr_event_get(b->events[i], *n, strlen(*n));
        fuzz_check_event(b->events[i]);
        tr_json_writer_event(s->writer, b->events[i]);
    }
    return 0;
}

/* Reads head (may be "") followed by data as file `name`, with scan flags. */
static inline void fuzz_scan(const char *name, const char *head, const uint8_t *data, size_t size, unsigned flags,
                             const char *const *names)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    /* Without a head, read libFuzzer's own buffer; with one, a copy of the
     * exact size: either way a read one byte past the end is caught. */
    size_t hl = strlen(head);
    char *buf = NULL;
    if (hl) {
        buf = malloc(hl + size);
        if (!buf)
            return;
        memcpy(buf, head, hl);
        if (size)
            memcpy(buf + hl, data, size);
    }
    fuzz_sink sink = {.names = names};
    if (tr_json_writer_create(&sink.writer, devnull, 1) == TR_OK) {
        tr_scan *scan;
        tr_scan_options o = {.on_batch = fuzz_on_batch, .user = &sink, .flags = flags};
        if (tr_scan_create(&scan, &o) == TR_OK) {
            tr_scan_memory(scan, name, buf ? (const void *)buf : (const void *)data, hl + size);
            tr_scan_destroy(scan);
        }
        tr_json_writer_destroy(sink.writer);
    }
    free(buf);
}

#endif
