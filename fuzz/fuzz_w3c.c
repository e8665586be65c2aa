/*
 * fuzz_w3c.c — libFuzzer target for the IIS W3C reader: the input, behind
 * an IIS header line (so that every input reaches this reader rather than
 * format detection alone), read from memory; events are looked up and
 * rendered as the detection engine and `dump` will.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traccia.h"

static FILE *sink;

static int on_batch(void *user, const tr_batch *b)
{
    tr_json_writer *w = user;
    for (size_t i = 0; i < b->count; i++) {
        (void)tr_event_get(b->events[i], "cs-uri-stem", 11);
        (void)tr_event_get(b->events[i], "cs-user-agent", 13);
        tr_json_writer_event(w, b->events[i]);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "#Software: Microsoft Internet Information Services 10.0\n";
    if (!sink)
        sink = fopen("/dev/null", "w");
    char *buf = malloc(sizeof head - 1 + size);
    if (!buf)
        return 0;
    memcpy(buf, head, sizeof head - 1);
    if (size)
        memcpy(buf + sizeof head - 1, data, size);
    tr_json_writer *w;
    if (tr_json_writer_create(&w, sink, 0) == TR_OK) {
        tr_scan *scan;
        tr_scan_options o = {.on_batch = on_batch, .user = w};
        if (tr_scan_create(&scan, &o) == TR_OK) {
            tr_scan_memory(scan, "fuzz.log", buf, sizeof head - 1 + size);
            tr_scan_destroy(scan);
        }
        tr_json_writer_destroy(w);
    }
    free(buf);
    return 0;
}
