/*
 * fuzz_w3c.c — libFuzzer target for the IIS W3C reader: the input behind an
 * IIS header line, so that every input reaches this reader (fuzz_common.h).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"cs-uri-stem", "cs-user-agent", "c-ip", NULL};
    fuzz_scan("fuzz.log", "#Software: Microsoft Internet Information Services 10.0\n", data, size, 0, names);
    return 0;
}
