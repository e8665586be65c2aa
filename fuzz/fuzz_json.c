/*
 * fuzz_json.c — libFuzzer target: arbitrary bytes as one evidence file read
 * from memory — format detection, the JSON reader, gzip and UTF-16 when the
 * bytes start with their marks (see fuzz_common.h for what is checked).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"EventID", "Channel", "Image", "Event.System.Provider.Name", "a", "0", NULL};
    fuzz_scan("fuzz.json", "", data, size, 0, names);
    return 0;
}
