/*
 * test_alloc.c — fault injection: the Nth allocation fails, for every N on
 * the main reading path, and the library must return TR_ERR_NOMEM (or
 * succeed) without crashing or leaking. The sanitizer build turns a leak or
 * a use-after-free on any of these paths into a failure.
 */
#include "harness.h"

#include <stdlib.h>

static long fail_at;   /* the allocation number that fails; 0: none */
static long count;

static void *failing_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (++count == fail_at)
        return NULL;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (++count == fail_at)
        return NULL;
    return realloc(p, n);
}

static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void every_allocation_may_fail(void)
{
    const char *text =
        "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"x\"},\"EventData\":{\"a\":\"\\u00e9scaped\",\"l\":[1,2,[3]]}}}\n"
        "{\"broken\n"
        "[{\"k\":\"v\"},{\"k\":\"w\",\"o\":{\"p\":{}}}]\n";
    tr_alloc_hooks hooks = {failing_malloc, failing_realloc, plain_free, NULL};
    int failures_seen = 0;
    for (fail_at = 1; fail_at < 200; fail_at++) {
        count = 0;
        tr_alloc_set_hooks(&hooks);
        scan_result r = {0};
        scan_text(&r, text);
        tr_alloc_set_hooks(NULL);
        CHECK(r.status == TR_OK || r.status == TR_ERR_NOMEM);
        if (r.status == TR_ERR_NOMEM)
            failures_seen++;
        bool done = count < fail_at; /* the run needed fewer allocations: all paths covered */
        if (r.status == TR_OK && done)
            CHECK_INT(r.nevents, 3);
        scan_result_free(&r);
        if (done)
            break;
    }
    CHECK(failures_seen > 3);
    CHECK(fail_at < 200);
}

void suite_alloc(void) { RUN(every_allocation_may_fail); }
