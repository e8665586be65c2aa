/*
 * test_w3c.c — the IIS W3C reader: fields under Sigma's webserver names,
 * nulls, numbers, '+' in user agents, #Fields changing mid-file, and bad
 * lines reported and skipped.
 */
#include "harness.h"

#include "../src/read/input.h"

static const char *iis =
    "#Software: Microsoft Internet Information Services 10.0\r\n"
    "#Version: 1.0\r\n"
    "#Date: 2021-03-02 07:00:00\r\n"
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n"
    "2021-03-02 07:01:12 10.0.1.21 POST /owa/auth/x.aspx - 443 - 203.0.113.5 ExchangeServicesClient/0.0.0.0 - "
    "200 0 0 15\r\n"
    "2021-03-02 07:01:13 10.0.1.21 GET /ecp/default.flt a=1+2 443 CORP\\exadmin 10.0.2.11 "
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://mail/?q=a+b 302 0 0 31\r\n"
    "#Software: Microsoft Internet Information Services 10.0\r\n"
    "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(Cookie)\r\n"
    "2021-03-02 07:05:00 198.51.100.7 POST /aspnet_client/shell.aspx 200 X-BEResource=a]b~1\r\n";

static void iis_fields_and_values(void)
{
    probe p = {.names = {"cs-method", "cs-uri-stem", "cs-uri-query", "cs-username", "c-ip", "cs-user-agent",
                         "cs-referer", "sc-status", "s-port", "cs-cookie", "time", "s-ip"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_memory(&r, "u_ex210302.log", iis, strlen(iis));
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(r.stats.per_format_files[2], 1);
    CHECK_GOT(&p, 0, 0, "POST");
    CHECK_GOT(&p, 0, 1, "/owa/auth/x.aspx");
    CHECK_GOT(&p, 0, 2, "<null>"); /* "-" */
    CHECK_GOT(&p, 0, 3, "<null>");
    CHECK_GOT(&p, 0, 5, "ExchangeServicesClient/0.0.0.0");
    CHECK_GOT(&p, 0, 7, "200");
    CHECK_INT(p.types[0][7], TR_INT); /* an integer, text kept */
    CHECK_GOT(&p, 0, 8, "443");
    CHECK_INT(p.types[0][8], TR_INT);
    CHECK_INT(p.times[0], 1614668472000000000LL);
    CHECK_GOT(&p, 1, 2, "a=1+2"); /* '+' is a space only in the user agent */
    CHECK_GOT(&p, 1, 3, "CORP\\exadmin");
    CHECK_GOT(&p, 1, 5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
    CHECK_GOT(&p, 1, 6, "https://mail/?q=a+b");
    /* after the second #Fields: the new layout */
    CHECK_GOT(&p, 2, 4, "198.51.100.7");
    CHECK_GOT(&p, 2, 1, "/aspnet_client/shell.aspx");
    CHECK_GOT(&p, 2, 9, "X-BEResource=a]b~1");
    CHECK_GOT(&p, 2, 11, "<absent>"); /* s-ip is not in the new layout */
    CHECK_GOT(&p, 2, 10, "07:05:00");
    CHECK_CONTAINS(r.dump, "\"format\":\"w3c\",\"record\":9,");
    scan_result_free(&r);
}

static void bad_lines_skipped(void)
{
    const char *text =
        "#Software: Microsoft Internet Information Services 8.5\n"
        "2021-03-02 07:00:00 GET / 200\n"                       /* before any #Fields */
        "#Fields: date time cs-method cs-uri-stem sc-status\n"
        "2021-03-02 07:00:01 GET / 200\n"
        "2021-03-02 07:00:02 GET /too many 200\n"               /* one value too many */
        "2021-03-02 07:00:03 GET\n"                             /* too few */
        "2021-03-02 07:00:04 GET /caf\xC3 200\n"                /* invalid UTF-8 */
        "2021-03-02 07:00:05 GET /last 404";                    /* no final newline */
    probe p = {.names = {"cs-method", "cs-uri-stem", "cs-uri-query", "cs-username", "c-ip", "cs-user-agent",
                         "cs-referer", "sc-status", "s-port", "cs-cookie", "time", "s-ip"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_memory(&r, "x.log", text, strlen(text));
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.stats.records_skipped, 3);
    CHECK_CONTAINS(r.diags, "error|x.log|line 2|data line before any #Fields directive; skipped");
    CHECK_CONTAINS(r.diags, "error|x.log|line 5|6 value(s) where #Fields names 5; line skipped");
    CHECK_CONTAINS(r.diags, "error|x.log|line 6|3 value(s) where #Fields names 5; line skipped");
    CHECK_CONTAINS(r.diags, "warning|x.log|line 7|invalid UTF-8 in 1 value(s)");
    CHECK_GOT(&p, 1, 1, "/caf\xEF\xBF\xBD");
    CHECK_GOT(&p, 2, 1, "/last");
    CHECK_GOT(&p, 2, 7, "404");
    CHECK_INT(p.types[2][7], TR_INT);
    CHECK_INT(r.stats.values_repaired, 1);
    scan_result_free(&r);
}

static void windows_and_gzip_agree(void)
{
    scan_result ref = {0}, r = {0};
    const char *path = write_file("u_ex.log", iis, strlen(iis));
    scan_path(&ref, path);
    CHECK_INT(ref.nevents, 3);
    for (size_t w = 2; w < 40; w += 3) {
        tr_input_test_window = w;
        scan_path(&r, path);
        tr_input_test_window = 0;
        if (r.dump_len != ref.dump_len || memcmp(r.dump, ref.dump, r.dump_len) != 0 || r.ndiags != 0) {
            char m[96];
            snprintf(m, sizeof m, "a window of %zu bytes changes the result", w);
            tr_test_fail(__FILE__, __LINE__, m);
        }
        scan_result_free(&r);
    }
    scan_result_free(&ref);
}

static void near_misses_are_not_iis(void)
{
    scan_result r = {0};
    const char *exch = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.009\r\n#Log-type: HttpProxy Logs\r\n"
                       "#Fields: DateTime,RequestId\r\n";
    scan_memory(&r, "HttpProxy_2021030207-1.LOG", exch, strlen(exch));
    CHECK_INT(r.stats.per_format_files[2], 0);
    CHECK_INT(r.stats.per_format_files[3], 1); /* the Exchange reader's, not IIS's */
    scan_result_free(&r);
    const char *comment = "# just a comment\nhello world\n";
    scan_memory(&r, "notes.log", comment, strlen(comment));
    CHECK_INT(r.stats.skip_unknown, 1);
    scan_result_free(&r);
}

void suite_w3c(void)
{
    RUN(iis_fields_and_values);
    RUN(bad_lines_skipped);
    RUN(windows_and_gzip_agree);
    RUN(near_misses_are_not_iis);
}
