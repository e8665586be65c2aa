/*
 * test_util.c — time parsing and printing, UTF-8 validation and repair,
 * JSON escaping, the arena.
 */
#include "harness.h"

#include "../src/util/arena.h"
#include "../src/util/strbuf.h"
#include "../src/util/utf8.h"

static tr_time T(const char *s)
{
    tr_time t = 0;
    if (tr_time_parse(s, strlen(s), &t) != TR_OK)
        return TR_TIME_NONE;
    return t;
}

static void time_forms(void)
{
    const tr_time base = 1614668472LL * 1000000000LL; /* 2021-03-02T07:01:12Z */
    CHECK_INT(T("2021-03-02T07:01:12Z"), base);
    CHECK_INT(T("2021-03-02T07:01:12"), base);            /* no offset: UTC */
    CHECK_INT(T("2021-03-02 07:01:12"), base);            /* Sysmon UtcTime style */
    CHECK_INT(T("2021-03-02T07:01:12.5Z"), base + 500000000);
    CHECK_INT(T("2021-03-02T07:01:12.1234567Z"), base + 123456700);
    CHECK_INT(T("2021-03-02T07:01:12.123456789123Z"), base + 123456789); /* extra digits dropped */
    CHECK_INT(T("2021-03-02T08:01:12+01:00"), base);
    CHECK_INT(T("2021-03-02T02:01:12-0500"), base);
    CHECK_INT(T("2021-03-02T07:01Z"), base - 12LL * 1000000000LL);
    CHECK_INT(T("2021-03-02"), base - (7 * 3600 + 60 + 12) * 1000000000LL);
    CHECK_INT(T("/Date(1614668472123)/"), base + 123000000);
    CHECK_INT(T("/Date(1614668472123+0100)/"), base + 123000000);
    CHECK_INT(T("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(T("1969-12-31T23:59:59Z"), -1000000000LL);
    CHECK_INT(T("2000-02-29T00:00:00Z"), 951782400LL * 1000000000LL); /* leap year */
}

static void time_rejects(void)
{
    const char *bad[] = {"", "2021", "2021-13-01", "2021-02-29", "1900-02-29", "2021-03-32",
                         "2021-03-02T25:00:00Z", "2021-03-02T07:61:00Z", "2021-03-02X07:01:12",
                         "2021-03-02T07:01:12Q", "2021-03-02T07:01:12.Z", "2021-03-02T07:01:12+1",
                         "/Date()/", "/Date(12", "9999-01-01T00:00:00Z", "two thousand", "2021-03-02T07:01:12Z "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tr_time t;
        if (tr_time_parse(bad[i], strlen(bad[i]), &t) == TR_OK) {
            char m[128];
            snprintf(m, sizeof m, "\"%s\" should not parse", bad[i]);
            tr_test_fail(__FILE__, __LINE__, m);
        }
    }
}

static void time_format_roundtrip(void)
{
    char buf[TR_TIME_BUFSIZE];
    size_t n = tr_time_format(T("2021-03-02T07:01:12.1234567Z"), buf);
    CHECK_STRN(buf, n, "2021-03-02T07:01:12.1234567Z");
    n = tr_time_format(T("1969-12-31T23:59:59.9Z"), buf);
    CHECK_STRN(buf, n, "1969-12-31T23:59:59.9000000Z");
    n = tr_time_format(TR_TIME_NONE, buf);
    CHECK_STRN(buf, n, "-");
    /* every day of a leap year and a century formats back to itself */
    for (int y = 1999; y <= 2001; y++) {
        for (int d = 0; d < 366; d++) {
            tr_time t = T("1999-01-01T00:00:00Z") + ((int64_t)(y - 1999) * 365 + d) * 86400LL * 1000000000LL;
            n = tr_time_format(t, buf);
            CHECK_INT(T(buf), t);
        }
    }
}

static void utf8_validation(void)
{
    CHECK_INT(tr_utf8_find_invalid("plain", 5), 5);
    CHECK_INT(tr_utf8_find_invalid("caf\xC3\xA9", 5), 5);
    CHECK_INT(tr_utf8_find_invalid("\xF0\x9F\x98\x80", 4), 4);   /* emoji */
    CHECK_INT(tr_utf8_find_invalid("a\xC3", 2), 1);              /* truncated */
    CHECK_INT(tr_utf8_find_invalid("a\xC0\xAF", 3), 1);          /* overlong '/' */
    CHECK_INT(tr_utf8_find_invalid("\xED\xA0\x80", 3), 0);       /* surrogate */
    CHECK_INT(tr_utf8_find_invalid("\xF4\x90\x80\x80", 4), 0);   /* > U+10FFFF */
    CHECK_INT(tr_utf8_find_invalid("ok\x80", 3), 2);             /* stray continuation */
    char out[32];
    size_t n = tr_utf8_repair("a\xFF" "b\xC3", 4, out);
    CHECK_STRN(out, n, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

static void json_escape(void)
{
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_json_escape(&b, "a\"b\\c\n\x01\xC3\xA9\xFF", 10);
    CHECK_STRN(b.data, b.len, "a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD");
    tr_strbuf_clear(&b);
    tr_strbuf_printf(&b, "%s-%d-%0300d", "x", 7, 1);
    CHECK_INT(b.len, 4 + 300);
    tr_strbuf_free(&b);
}

static void arena_reuse(void)
{
    tr_arena a;
    tr_arena_init(&a, 1024);
    char *p = tr_arena_alloc(&a, 10);
    CHECK(p && ((uintptr_t)p & 7) == 0);
    char *big = tr_arena_alloc(&a, 100000); /* oversized: a block of its own */
    CHECK(big != NULL);
    memset(big, 1, 100000);
    for (int i = 0; i < 200; i++)
        CHECK(tr_arena_alloc(&a, 100) != NULL);
    size_t before = a.total;
    tr_arena_reset(&a);
    CHECK(a.total < before); /* the oversized block went back */
    size_t kept = a.total;
    for (int i = 0; i < 200; i++)
        CHECK(tr_arena_alloc(&a, 100) != NULL);
    CHECK_INT(a.total, kept); /* steady state: reused, nothing new */
    char *s = tr_arena_strndup(&a, "abcdef", 3);
    CHECK_STRN(s, strlen(s), "abc");
    tr_arena_free(&a);
}


static void arena_rollback(void)
{
    tr_arena a;
    tr_arena_init(&a, 1024);
    char *keep = tr_arena_strndup(&a, "kept", 4);
    tr_arena_mark m = tr_arena_get_mark(&a);
    size_t before = a.total;
    for (int round = 0; round < 100; round++) {
        /* a failed record: ordinary and oversized allocations, then rollback */
        for (int i = 0; i < 50; i++)
            CHECK(tr_arena_alloc(&a, 100) != NULL);
        CHECK(tr_arena_alloc(&a, 50000) != NULL);
        tr_arena_rollback(&a, m);
    }
    CHECK_STRN(keep, 4, "kept");
    CHECK(a.total <= before + 8 * 1024); /* spare blocks at most, nothing oversized */
    char *next = tr_arena_alloc(&a, 8);
    CHECK(next == keep + 8); /* allocation resumes right after the mark */
    tr_arena_free(&a);
}

void suite_util(void)
{
    RUN(time_forms);
    RUN(time_rejects);
    RUN(time_format_roundtrip);
    RUN(utf8_validation);
    RUN(json_escape);
    RUN(arena_reuse);
    RUN(arena_rollback);
}
