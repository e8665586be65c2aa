/*
 * fuzz_exchange_log.c — libFuzzer target for the Exchange CSV log reader:
 * the input behind an Exchange header line, so that every input reaches
 * this reader (fuzz_common.h).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"AnchorMailbox", "BackEndCookie", "LogType", "DateTime", NULL};
    fuzz_scan("fuzz.log", "#Software: Microsoft Exchange Server\n", data, size, 0, names);
    return 0;
}
