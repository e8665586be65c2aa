/*
 * test_alloc.c — fault injection: the Nth allocation fails, for every N on
 * the main reading path, and the library must return TR_ERR_NOMEM (or
 * succeed) without crashing or leaking. The sanitizer build turns a leak or
 * a use-after-free on any of these paths into a failure.
 */
#include "harness.h"

static void every_allocation_may_fail(void)
{
    const char *text =
        "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"x\"},\"EventData\":{\"a\":\"\\u00e9scaped\",\"l\":[1,2,[3]]}}}\n"
        "{\"broken\n"
        "[{\"k\":\"v\"},{\"k\":\"w\",\"o\":{\"p\":{}}}]\n";
    scan_result r = {0};
    scan_failing_each_allocation(&r, "test.json", text, strlen(text), 200);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 3);
    scan_result_free(&r);
}

void suite_alloc(void) { RUN(every_allocation_may_fail); }
