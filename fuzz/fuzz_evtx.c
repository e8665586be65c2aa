/*
 * fuzz_evtx.c — libFuzzer target for the EVTX reader: arbitrary bytes read
 * from memory as one evidence file (format detection picks the EVTX reader
 * when they start like a log or a bare chunk, as the seeds in fuzz/seeds
 * do), then every field of every event is looked up again by its own name,
 * lists are walked and the event is rendered as JSON — what the detection
 * engine and the writers will do with what the reader produced.
 *
 * The scan options come from the input's last byte, inverted, so that the
 * seeds (which end in zeros) run with XML rendering and record recovery on
 * and mutations try every combination: bit 0 clear asks for TR_SCAN_XML,
 * bit 1 clear for TR_SCAN_RECOVER. An XML rendering must be one line.
 *
 * Seeds: the .evtx files in fuzz/seeds — three single-chunk Sysmon and Defender logs
 * from SigmaHQ's regression data (Detection Rule License 1.1, © the SigmaHQ
 * contributors) and crafted.evtx, written by tests/test_evtx.c
 * (EVTX_WRITE_SEED=fuzz/seeds/crafted.evtx build/traccia-tests): UserData,
 * nested templates, plain elements, every common value type.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "traccia.h"

static FILE *sink;

static int on_batch(void *user, const tr_batch *b)
{
    tr_json_writer *w = user;
    static const char *names[] = {"EventID", "Channel", "Provider_Name", "Event.System.TimeCreated.SystemTime",
                                  "Event.EventData.Data", "Image", "CommandLine", "SubjectUserName"};
    for (size_t i = 0; i < b->count; i++) {
        const tr_event *ev = b->events[i];
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            (void)tr_event_get(ev, names[k], strlen(names[k]));
        for (size_t f = 0; f < tr_event_field_count(ev); f++) {
            const tr_field *fl = tr_event_field(ev, f);
            /* every field must be found again under its own name */
            if (tr_event_get(ev, fl->name, fl->name_len) == NULL)
                __builtin_trap();
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
            __builtin_trap();
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
    unsigned last = size ? data[size - 1] : 0;
    tr_scan_options o = {.on_batch = on_batch,
                         .user = w,
                         .flags = (~last & 1u ? TR_SCAN_XML : 0u) | (~last & 2u ? TR_SCAN_RECOVER : 0u)};
    if (tr_scan_create(&scan, &o) == TR_OK) {
        tr_scan_memory(scan, "fuzz.evtx", data, size);
        tr_scan_destroy(scan);
    }
    tr_json_writer_destroy(w);
    return 0;
}
