/*
 * fuzz_stream.c — libFuzzer target: the same bytes read as a file through a
 * window of a size the input chooses (its first byte), so that records and
 * gzip blocks straddle window boundaries at every position: the sliding,
 * growing and resuming paths of the input layer and the JSON reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "../src/read/input.h"

static int on_batch(void *user, const tr_batch *b)
{
    size_t *n = user;
    for (size_t i = 0; i < b->count; i++) {
        const tr_event *ev = b->events[i];
        *n += tr_event_field_count(ev);
        (void)tr_event_get(ev, "EventID", 7);
        fuzz_check_event(ev);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tr_input_test_window = 2 + data[0] % 61; /* 2..62 bytes */
    int fd = memfd_create("fuzz-stream", 0);
    if (fd < 0)
        return 0;
    if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    size_t fields = 0;
    tr_scan *scan;
    tr_scan_options o = {.on_batch = on_batch, .user = &fields};
    if (tr_scan_create(&scan, &o) == TR_OK) {
        tr_scan_path(scan, path);
        tr_scan_destroy(scan);
    }
    close(fd);
    tr_input_test_window = 0;
    return 0;
}
