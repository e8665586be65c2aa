/*
 * fuzz_exchange_log.c — libFuzzer target for the Exchange CSV log reader
 * (see fuzz_prefixed.h).
 */
#include "fuzz_prefixed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"AnchorMailbox", "BackEndCookie", "LogType", "DateTime", NULL};
    fuzz_prefixed("#Software: Microsoft Exchange Server\n", names, data, size);
    return 0;
}
