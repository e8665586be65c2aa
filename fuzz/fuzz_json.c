/*
 * fuzz_json.c — libFuzzer target: arbitrary bytes as one evidence file read
 * from memory (format detection, the JSON reader, gzip when the bytes start
 * with its magic), then every event is looked up, listed and rendered, so
 * that what a reader produces is exercised as the detection engine will.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "traccia.h"

static FILE *sink;

static int on_batch(void *user, const tr_batch *b)
{
    tr_json_writer *w = user;
    static const char *names[] = {"EventID", "Channel", "Image", "Event.System.Provider.Name", "a", "0"};
    for (size_t i = 0; i < b->count; i++) {
        const tr_event *ev = b->events[i];
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            (void)tr_event_get(ev, names[k], strlen(names[k]));
        for (size_t f = 0; f < tr_event_field_count(ev); f++) {
            const tr_field *fl = tr_event_field(ev, f);
            /* every field must be found again under its own name */
            if (tr_event_get(ev, fl->name, fl->name_len) == NULL)
                __builtin_trap();
            if (fl->value.type == TR_LIST)
                for (size_t j = 0; j < fl->value.as.list.count; j++)
                    (void)tr_event_list_item(ev, &fl->value, j);
        }
        tr_json_writer_event(w, ev);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    tr_json_writer *w;
    if (tr_json_writer_create(&w, sink, 1))
        return 0;
    tr_scan *scan;
    tr_scan_options o = {.on_batch = on_batch, .user = w};
    if (tr_scan_create(&scan, &o) == TR_OK) {
        tr_scan_memory(scan, "fuzz.json", data, size);
        tr_scan_destroy(scan);
    }
    tr_json_writer_destroy(w);
    return 0;
}
