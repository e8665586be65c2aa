/*
 * test_json.c — the JSON reader: every shape Windows events arrive in, and
 * malformed input: truncated documents, invalid UTF-8, deep nesting, huge
 * lines, numbers out of range, duplicate keys, broken escapes.
 */
#include "harness.h"

#include <stdlib.h>

static void scan_probe(scan_result *r, probe *p, const char *text)
{
    r->hook = probe_hook;
    r->hook_ctx = p;
    scan_text(r, text);
}


static void jsonl_basic(void)
{
    probe p = {.names = {"EventID", "Channel", "Image", "Event.System.Computer", "Keywords"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
               "\"Computer\":\"WS1\",\"Keywords\":\"0x8000000000000000\"},\"EventData\":{\"Image\":\"C:\\\\a.exe\"}}}\n"
               "{\"Event\":{\"System\":{\"EventID\":4688,\"Channel\":\"Security\"}}}\n"
               "\n"
               "   {\"Event\":{\"System\":{\"EventID\":7045}}}  \r\n");
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "1");
    CHECK_INT(p.types[0][0], TR_INT);
    CHECK_GOT(&p, 0, 1, "Microsoft-Windows-Sysmon/Operational");
    CHECK_GOT(&p, 0, 2, "C:\\a.exe");
    CHECK_GOT(&p, 0, 3, "WS1");
    CHECK_GOT(&p, 0, 4, "0x8000000000000000");
    CHECK_GOT(&p, 1, 0, "4688");
    CHECK_GOT(&p, 1, 2, "<absent>");
    CHECK_GOT(&p, 2, 0, "7045");
    CHECK_INT(r.stats.files_read, 1);
    CHECK_INT(r.stats.events, 3);
    /* record numbers are line numbers */
    CHECK_CONTAINS(r.dump, "\"record\":1,");
    CHECK_CONTAINS(r.dump, "\"record\":2,");
    CHECK_CONTAINS(r.dump, "\"record\":4,");
    scan_result_free(&r);
}

/* The shape of evtx_dump and of SigmaHQ's regression .json files. */
static const char *pretty_doc =
    "{\n"
    "  \"Event\": {\n"
    "    \"#attributes\": {\n"
    "      \"xmlns\": \"http://schemas.microsoft.com/win/2004/08/events/event\"\n"
    "    },\n"
    "    \"System\": {\n"
    "      \"Provider\": {\n"
    "        \"#attributes\": {\n"
    "          \"Name\": \"Service Control Manager\",\n"
    "          \"Guid\": \"{555908d1-a6d7-4695-8e1e-26931d2012f4}\",\n"
    "          \"EventSourceName\": \"Service Control Manager\"\n"
    "        }\n"
    "      },\n"
    "      \"EventID\": {\n"
    "        \"#attributes\": {\n"
    "          \"Qualifiers\": 16384\n"
    "        },\n"
    "        \"#text\": 7045\n"
    "      },\n"
    "      \"TimeCreated\": {\n"
    "        \"#attributes\": {\n"
    "          \"SystemTime\": \"2021-03-02T07:01:12.123456Z\"\n"
    "        }\n"
    "      },\n"
    "      \"Correlation\": null,\n"
    "      \"Channel\": \"System\",\n"
    "      \"Security\": {\n"
    "        \"#attributes\": {\n"
    "          \"UserID\": \"S-1-5-21-1-2-3-500\"\n"
    "        }\n"
    "      }\n"
    "    },\n"
    "    \"EventData\": {\n"
    "      \"ServiceName\": \"PSEXESVC\",\n"
    "      \"ImagePath\": \"%SystemRoot%\\\\PSEXESVC.exe\"\n"
    "    }\n"
    "  }\n"
    "}\n";

static void pretty_concatenated(void)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s", pretty_doc, pretty_doc);
    probe p = {.names = {"EventID", "Event.System.EventID.Qualifiers", "Provider_Name", "Security_UserID",
                         "ServiceName", "Event.System.Provider.EventSourceName", "Correlation", "Event.xmlns"}};
    scan_result r = {0};
    scan_probe(&r, &p, text);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    for (int e = 0; e < 2; e++) {
        CHECK_GOT(&p, e, 0, "7045");
        CHECK_GOT(&p, e, 1, "16384");
        CHECK_GOT(&p, e, 2, "Service Control Manager");
        CHECK_GOT(&p, e, 3, "S-1-5-21-1-2-3-500");
        CHECK_GOT(&p, e, 4, "PSEXESVC");
        CHECK_GOT(&p, e, 5, "Service Control Manager");
        CHECK_INT(p.types[e][6], TR_NULL);
        CHECK_GOT(&p, e, 7, "http://schemas.microsoft.com/win/2004/08/events/event");
        CHECK_INT(p.times[e], 1614668472123456000LL);
    }
    CHECK_CONTAINS(r.dump, "\"time\":\"2021-03-02T07:01:12.1234560Z\"");
    CHECK_CONTAINS(r.dump, "\"record\":1,\"offset\":0}");
    scan_result_free(&r);
}

static void evtx_dump_separators(void)
{
    probe p = {.names = {"EventID"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "Record 1\n{\n  \"Event\": {\"System\": {\"EventID\": 4624}}\n}\n"
               "Record 2\n{\n  \"Event\": {\"System\": {\"EventID\": 4625}}\n}\n");
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "4624");
    CHECK_GOT(&p, 1, 0, "4625");
    scan_result_free(&r);
}

static void top_level_array(void)
{
    probe p = {.names = {"EventID", "Channel", "Provider_Name", "Computer"}};
    scan_result r = {0};
    /* PowerShell: Get-WinEvent | ConvertTo-Json */
    scan_probe(&r, &p,
               "[\r\n    {\r\n        \"Id\":  4624,\r\n        \"LogName\":  \"Security\",\r\n"
               "        \"ProviderName\":  \"Microsoft-Windows-Security-Auditing\",\r\n"
               "        \"MachineName\":  \"DC01.corp.local\",\r\n"
               "        \"TimeCreated\":  \"\\/Date(1614668472123)\\/\"\r\n    },\r\n"
               "    {\r\n        \"Id\":  4625\r\n    }\r\n]\r\n");
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "4624");
    CHECK_GOT(&p, 0, 1, "Security");
    CHECK_GOT(&p, 0, 2, "Microsoft-Windows-Security-Auditing");
    CHECK_GOT(&p, 0, 3, "DC01.corp.local");
    CHECK_INT(p.times[0], 1614668472123000000LL);
    CHECK_GOT(&p, 1, 0, "4625");
    CHECK_INT(p.times[1], TR_TIME_NONE);
    CHECK_INT(r.stats.events_untimed, 1);
    scan_result_free(&r);

    scan_text(&r, "[]");
    CHECK_INT(r.nevents, 0);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(r.stats.files_read, 1);
    scan_result_free(&r);

    /* an array cut short: the complete element is kept, the cut reported */
    scan_text(&r, "[{\"a\":1},{\"a\":2},{\"a\":");
    CHECK_INT(r.nevents, 2);
    CHECK(r.nerrors >= 1);
    CHECK_CONTAINS(r.diags, "truncated");
    scan_result_free(&r);

    /* a broken element in a pretty-printed array costs that element only */
    scan_text(&r, "[\n  {\n    \"a\": 1\n  },\n  {\n    \"a\": 2,,\n  },\n  {\n    \"a\": 3\n  }\n]\n");
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_CONTAINS(r.diags, "error|test.json|line 6, column 12|expected a quoted key");
    CHECK_CONTAINS(r.dump, "\"fields\":{\"a\":3}");
    scan_result_free(&r);
}

static void winlogbeat_and_wrappers(void)
{
    probe p = {.names = {"EventID", "Channel", "Image", "Computer", "CommandLine", "Provider_Name"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"@timestamp\":\"2021-03-02T07:01:12.000Z\",\"winlog\":{\"event_id\":1,"
               "\"channel\":\"Microsoft-Windows-Sysmon/Operational\",\"computer_name\":\"EXCH01\","
               "\"provider_name\":\"Microsoft-Windows-Sysmon\",\"event_data\":{\"Image\":\"C:\\\\w3wp.exe\"}}}\n"
               /* Elastic search hit */
               "{\"_index\":\"winlogbeat\",\"_source\":{\"@timestamp\":\"2021-03-03T00:00:00Z\",\"winlog\":{\"event_id\":4688,"
               "\"event_data\":{\"CommandLine\":\"whoami\"}}}}\n"
               /* Splunk export */
               "{\"preview\":false,\"result\":{\"EventCode\":\"4688\",\"LogName\":\"Security\",\"ComputerName\":\"DC01\","
               "\"_time\":\"2021-03-04T00:00:00.000+00:00\"}}\n");
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "1");
    CHECK_GOT(&p, 0, 1, "Microsoft-Windows-Sysmon/Operational");
    CHECK_GOT(&p, 0, 2, "C:\\w3wp.exe");
    CHECK_GOT(&p, 0, 3, "EXCH01");
    CHECK_GOT(&p, 0, 5, "Microsoft-Windows-Sysmon");
    CHECK_INT(p.times[0], 1614668472000000000LL);
    CHECK_GOT(&p, 1, 0, "4688");
    CHECK_GOT(&p, 1, 4, "whoami");
    CHECK_INT(p.times[1], 1614729600000000000LL);
    CHECK_GOT(&p, 2, 0, "4688");
    CHECK_GOT(&p, 2, 1, "Security");
    CHECK_GOT(&p, 2, 3, "DC01");
    CHECK_INT(p.times[2], 1614816000000000000LL);
    scan_result_free(&r);
}

static void values_lists_and_objects(void)
{
    probe p = {.names = {"Event.EventData.Data", "Items.0.Name", "Items.1.Name", "Mixed", "Empty", "Nested",
                         "Flag", "Nothing"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"Event\":{\"EventData\":{\"Data\":[\"a\",\"b\",3]}},"
               "\"Items\":[{\"Name\":\"x\"},{\"Name\":\"y\"}],"
               "\"Mixed\":[1,{\"k\":\"v\"},\"s\"],\"Empty\":[],\"Nested\":[[1,2],[3,[4]]],"
               "\"Flag\":true,\"Nothing\":{}}\n");
    CHECK_INT(r.nevents, 1);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "<list 3>");
    CHECK_GOT(&p, 0, 1, "x");
    CHECK_GOT(&p, 0, 2, "y");
    CHECK_GOT(&p, 0, 3, "<list 2>");
    CHECK_GOT(&p, 0, 4, "<list 0>");
    CHECK_GOT(&p, 0, 5, "<list 4>");
    CHECK_GOT(&p, 0, 6, "true");
    CHECK_INT(p.types[0][6], TR_BOOL);
    CHECK_INT(p.types[0][7], TR_NULL);
    CHECK_CONTAINS(r.dump, "\"Event.EventData.Data\":[\"a\",\"b\",3]");
    CHECK_CONTAINS(r.dump, "\"Mixed.1.k\":\"v\"");
    CHECK_CONTAINS(r.dump, "\"Nested\":[1,2,3,4]");
    scan_result_free(&r);
}

static void numbers(void)
{
    probe p = {.names = {"a", "b", "c", "d", "e", "f", "g", "h"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"a\":0,\"b\":-9223372036854775808,\"c\":18446744073709551615,\"d\":18446744073709551616,"
               "\"e\":1e999,\"f\":-0.5e-3,\"g\":9223372036854775807,\"h\":-9223372036854775809}\n");
    CHECK_INT(r.nevents, 1);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(p.types[0][0], TR_INT);
    CHECK_INT(p.types[0][1], TR_INT);
    CHECK_INT(p.types[0][2], TR_UINT);
    CHECK_INT(p.types[0][3], TR_FLOAT); /* beyond 64 bits: nearest double, text kept */
    CHECK_GOT(&p, 0, 3, "18446744073709551616");
    CHECK_INT(p.types[0][4], TR_FLOAT);
    CHECK_GOT(&p, 0, 4, "1e999");
    CHECK_GOT(&p, 0, 5, "-0.5e-3");
    CHECK_INT(p.types[0][6], TR_INT);
    CHECK_INT(p.types[0][7], TR_FLOAT);
    CHECK_CONTAINS(r.dump, "\"e\":1e999");
    scan_result_free(&r);

    const char *bad[] = {"{\"a\":01}\n", "{\"a\":-}\n", "{\"a\":1.}\n", "{\"a\":1e}\n", "{\"a\":.5}\n",
                         "{\"a\":+1}\n", "{\"a\":0x10}\n", "{\"a\":1.5.2}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scan_text(&r, bad[i]);
        if (r.nevents != 0 || r.stats.records_skipped != 1) {
            char m[128];
            snprintf(m, sizeof m, "%s should be rejected", bad[i]);
            tr_test_fail(__FILE__, __LINE__, m);
        }
        scan_result_free(&r);
    }
}

static void strings_and_escapes(void)
{
    probe p = {.names = {"a", "b", "c", "d", "e", "f"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"a\":\"line\\nbreak \\\"q\\\" \\/ \\\\\",\"b\":\"\\u00e9\\u20AC\",\"c\":\"\\ud83d\\ude00\","
               "\"d\":\"caf\xC3\xA9\",\"e\":\"tab\there\",\"f\":\"\"}\n");
    CHECK_INT(r.nevents, 1);
    CHECK_INT(r.ndiags, 0);
    CHECK_GOT(&p, 0, 0, "line\nbreak \"q\" / \\");
    CHECK_GOT(&p, 0, 1, "\xC3\xA9\xE2\x82\xAC");
    CHECK_GOT(&p, 0, 2, "\xF0\x9F\x98\x80");
    CHECK_GOT(&p, 0, 3, "caf\xC3\xA9");
    CHECK_GOT(&p, 0, 4, "tab\there"); /* raw tab tolerated */
    CHECK_GOT(&p, 0, 5, "");
    scan_result_free(&r);

    /* escaped keys flatten like plain ones */
    scan_probe(&r, &p, "{\"\\u0061\":\"key a\"}\n");
    CHECK_GOT(&p, 0, 0, "key a");
    scan_result_free(&r);
}

static void invalid_utf8_repaired(void)
{
    probe p = {.names = {"a", "b"}};
    scan_result r = {0};
    scan_probe(&r, &p, "{\"a\":\"bad\xFF" "byte\",\"b\":\"lone \\udc00 surrogate\"}\n{\"a\":\"fine\"}\n");
    CHECK_INT(r.nevents, 2);
    CHECK_GOT(&p, 0, 0, "bad\xEF\xBF\xBD" "byte");
    CHECK_GOT(&p, 0, 1, "lone \xEF\xBF\xBD surrogate");
    CHECK_GOT(&p, 1, 0, "fine");
    CHECK_INT(r.stats.values_repaired, 2);
    CHECK_CONTAINS(r.diags, "warning|test.json|line 1|invalid UTF-8 in 2 string(s)");
    scan_result_free(&r);
}

static void malformed_lines_skipped(void)
{
    probe p = {.names = {"n"}};
    scan_result r = {0};
    scan_probe(&r, &p,
               "{\"n\":1}\n"
               "{\"n\":2,\"broken\n"           /* line break in string */
               "{\"n\":3}\n"
               "this is not json\n"
               "{\"n\":4} trailing\n"            /* garbage after a record */
               "{\"n\":5 \"x\":1}\n"             /* missing comma */
               "{\"n\":6,}\n"                    /* trailing comma */
               "{\"n\":\"\\q\"}\n"               /* invalid escape */
               "{\"n\":tru}\n"                   /* bad literal */
               "{\"n\":7}\n");
    CHECK_INT(r.nevents, 4);
    CHECK_GOT(&p, 0, 0, "1");
    CHECK_GOT(&p, 1, 0, "3");
    CHECK_GOT(&p, 2, 0, "4");
    CHECK_GOT(&p, 3, 0, "7");
    CHECK_INT(r.stats.records_skipped, 7);
    CHECK_INT(r.stats.files_damaged, 1);
    CHECK_CONTAINS(r.diags, "error|test.json|line 2, column 15|line break inside a string");
    CHECK_CONTAINS(r.diags, "error|test.json|line 4, column 1|expected '{' or '['");
    CHECK_CONTAINS(r.diags, "error|test.json|line 5, column 9|expected '{' or '['");
    CHECK_CONTAINS(r.diags, "error|test.json|line 6, column 8|expected ',' or '}'");
    CHECK_CONTAINS(r.diags, "error|test.json|line 7, column 8|expected a quoted key");
    CHECK_CONTAINS(r.diags, "error|test.json|line 8, column 7|invalid escape \\'q'");
    CHECK_CONTAINS(r.diags, "error|test.json|line 9, column 6|invalid literal");
    scan_result_free(&r);
}

static void truncated_documents(void)
{
    scan_result r = {0};
    scan_text(&r, "{\"a\":1}\n{\"a\":2}\n{\"a\":{\"b\":[1,2");
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_CONTAINS(r.diags, "line 3");
    CHECK_CONTAINS(r.diags, "unexpected end of file");
    scan_result_free(&r);

    /* every prefix of a document: no crash, never more events than complete records */
    size_t len = strlen(pretty_doc);
    for (size_t cut = 0; cut + 1 < len; cut++) { /* len - 1: all but the final newline is complete */
        scan_memory(&r, "cut.json", pretty_doc, cut);
        CHECK(r.nevents == 0);
        scan_result_free(&r);
    }
    scan_memory(&r, "whole.json", pretty_doc, len);
    CHECK_INT(r.nevents, 1);
    scan_result_free(&r);
}

static void deep_nesting(void)
{
    char text[4096];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{\"ok\":1}\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "{\"a\":");
    n += (size_t)snprintf(text + n, sizeof text - n, "1");
    for (int i = 0; i < 200; i++)
        text[n++] = '}';
    n += (size_t)snprintf(text + n, sizeof text - n, "\n{\"ok\":2}\n");
    scan_result r = {0};
    scan_memory(&r, "deep.json", text, n);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_CONTAINS(r.diags, "nesting deeper than 64 levels");
    scan_result_free(&r);

    /* 64 levels are fine */
    n = 0;
    for (int i = 0; i < 63; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "{\"a\":");
    n += (size_t)snprintf(text + n, sizeof text - n, "[1]");
    for (int i = 0; i < 63; i++)
        text[n++] = '}';
    scan_memory(&r, "deep.json", text, n);
    CHECK_INT(r.nevents, 1);
    CHECK_INT(r.ndiags, 0);
    scan_result_free(&r);
}

static void duplicate_keys(void)
{
    probe p = {.names = {"k", "Image"}};
    scan_result r = {0};
    scan_probe(&r, &p, "{\"k\":\"first\",\"k\":\"second\",\"Event\":{\"EventData\":{\"Image\":\"a\",\"Image\":\"b\"}}}\n");
    CHECK_INT(r.nevents, 1);
    CHECK_GOT(&p, 0, 0, "first");
    CHECK_GOT(&p, 0, 1, "a");
    CHECK_CONTAINS(r.dump, "\"k\":\"first\",\"k\":\"second\""); /* both kept, in order */
    scan_result_free(&r);
}

static void bom_and_whitespace(void)
{
    scan_result r = {0};
    scan_text(&r, "\xEF\xBB\xBF{\"a\":1}\r\n\t {\"a\":2}");
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    scan_result_free(&r);
}

static void huge_line(void)
{
    /* a 10 MiB string value in one line, between two small records, read from
     * disk so the window has to grow */
    size_t big = 10u << 20;
    char *text = malloc(big + 100);
    size_t n = (size_t)sprintf(text, "{\"a\":1}\n{\"big\":\"");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\"}\n{\"a\":2}\n");
    const char *path = write_file("huge.json", text, n);
    free(text);
    size_t got = 0;
    probe p = {.names = {"big"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_path(&r, path);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    (void)got;
    CHECK_CONTAINS(r.dump, "{\"a\":2}");
    CHECK(r.dump_len > big);
    scan_result_free(&r);
}

static void record_too_large(void)
{
    /* one record past the window limit (64 MiB) is reported and skipped; the
     * records around it are read */
    size_t big = (64u << 20) + 1024;
    char *text = malloc(big + 100);
    size_t n = (size_t)sprintf(text, "{\"a\":1}\n{\"big\":\"");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\"}\n{\"a\":2}\n");
    const char *path = write_file("toolarge.json", text, n);
    free(text);
    scan_result r = {0};
    scan_path(&r, path);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_CONTAINS(r.diags, "record larger than 64 MiB");
    scan_result_free(&r);
}


static void long_names_dropped(void)
{
    /* a 2,000-byte key, and 30 nested 100-byte keys (3,000 bytes of path):
     * both over TR_NAME_MAX (1,024); their fields are dropped and reported,
     * the rest of the record is kept */
    char text[16384];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{\"ok\":1,\"");
    memset(text + n, 'k', 2000);
    n += 2000;
    n += (size_t)snprintf(text + n, sizeof text - n, "\":\"v\",\"nest\":");
    for (int i = 0; i < 30; i++) {
        text[n++] = '{';
        if (i == 0)
            n += (size_t)snprintf(text + n, sizeof text - n, "\"short\":3,");
        text[n++] = '"';
        memset(text + n, 'a' + i % 26, 100);
        n += 100;
        text[n++] = '"';
        text[n++] = ':';
    }
    n += (size_t)snprintf(text + n, sizeof text - n, "[1,2]");
    for (int i = 0; i < 30; i++)
        text[n++] = '}';
    n += (size_t)snprintf(text + n, sizeof text - n, ",\"tail\":2}\n");
    probe p = {.names = {"ok", "tail"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_memory(&r, "long.json", text, n);
    CHECK_INT(r.nevents, 1);
    CHECK_GOT(&p, 0, 0, "1");
    CHECK_GOT(&p, 0, 1, "2");
    CHECK_CONTAINS(r.diags, "warning|long.json|line 1|field names longer than 1024 bytes; those fields were dropped");
    CHECK(strstr(r.dump, "kkkk") == NULL);
    CHECK_CONTAINS(r.dump, "\"nest.short\":3"); /* a leaf under the limit is kept */
    scan_result_free(&r);
}

static void escaped_line_break_fails_fast(void)
{
    /* a backslash before a line break is an invalid escape, reported where it
     * is: the broken string must not swallow the lines that follow */
    scan_result r = {0};
    scan_text(&r, "{\"a\":\"x\\\n{\"b\":1}\n{\"c\":2}\n");
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "error|test.json|line 1, column 8|invalid escape \\0x0a in string");
    scan_result_free(&r);
}

void suite_json(void)
{
    RUN(jsonl_basic);
    RUN(pretty_concatenated);
    RUN(evtx_dump_separators);
    RUN(top_level_array);
    RUN(winlogbeat_and_wrappers);
    RUN(values_lists_and_objects);
    RUN(numbers);
    RUN(strings_and_escapes);
    RUN(invalid_utf8_repaired);
    RUN(malformed_lines_skipped);
    RUN(truncated_documents);
    RUN(deep_nesting);
    RUN(duplicate_keys);
    RUN(bom_and_whitespace);
    RUN(huge_line);
    RUN(record_too_large);
    RUN(long_names_dropped);
    RUN(escaped_line_break_fails_fast);
}
