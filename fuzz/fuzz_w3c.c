/*
 * fuzz_w3c.c — libFuzzer target for the IIS W3C reader (see fuzz_prefixed.h).
 */
#include "fuzz_prefixed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"cs-uri-stem", "cs-user-agent", "c-ip", NULL};
    fuzz_prefixed("#Software: Microsoft Internet Information Services 10.0\n", names, data, size);
    return 0;
}
