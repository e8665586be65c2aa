/*
 * test_exchange_log.c — the Exchange CSV log reader: headers as Exchange
 * writes them, RFC 4180 quoting (commas, doubled quotes, line breaks inside
 * values), #Fields changing, the log type on every event, and bad records
 * reported and skipped — a stray quote must not swallow the file.
 */
#include "harness.h"

#include <stdlib.h>

#include "../src/read/input.h"

static const char *httpproxy =
    "#Software: Microsoft Exchange Server\r\n"
    "#Version: 15.01.2176.009\r\n"
    "#Log-type: HttpProxy Logs\r\n"
    "#Date: 2021-03-02T07:00:01.234Z\r\n"
    "#Fields: DateTime,RequestId,Protocol,UrlHost,UrlStem,AuthenticatedUser,AnchorMailbox,UserAgent,"
    "ClientIpAddress,HttpStatus,BackEndStatus,Method,RoutingHint,BackEndCookie,UrlQuery\r\n"
    "2021-03-02T07:01:12.123Z,3c1f,Ecp,mail.corp.local,/ecp/y.js,,ServerInfo~a]@EXCH01.corp.local:444/autodiscover/"
    "autodiscover.xml?#,ExchangeServicesClient/0.0.0.0,203.0.113.5,241,241,POST,,X-BEResource=a]@EXCH01:444/x~1941962753,\r\n"
    "2021-03-02T07:02:00.000Z,3c20,Owa,mail.corp.local,/owa/,CORP\\alice.m,,\"Mozilla/5.0 (Windows NT 10.0, Win64)\","
    "10.0.2.21,200,200,GET,\"Cafe=\"\"x,y\"\"\",,\"a=1\nb=2\"\r\n"
    "2021-03-02T07:03:00.000Z,3c21,Ews,mail.corp.local,/EWS/Exchange.asmx,,,,10.0.2.21,200,200,POST,,,\r\n";

static void httpproxy_records(void)
{
    probe p = {.names = {"AnchorMailbox", "UserAgent", "RoutingHint", "UrlQuery", "HttpStatus", "BackEndCookie",
                         "LogType", "UrlStem", "Protocol", "Extra"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_memory(&r, "HttpProxy_2021030207-1.LOG", httpproxy, strlen(httpproxy));
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(r.stats.per_format_files[3], 1);
    CHECK_GOT(&p, 0, 0, "ServerInfo~a]@EXCH01.corp.local:444/autodiscover/autodiscover.xml?#");
    CHECK_GOT(&p, 0, 1, "ExchangeServicesClient/0.0.0.0");
    CHECK_GOT(&p, 0, 2, "<null>");
    CHECK_GOT(&p, 0, 4, "241");
    CHECK_INT(p.types[0][4], TR_INT);
    CHECK_GOT(&p, 0, 5, "X-BEResource=a]@EXCH01:444/x~1941962753");
    CHECK_GOT(&p, 0, 6, "HttpProxy Logs");
    CHECK_GOT(&p, 0, 7, "/ecp/y.js");
    CHECK_INT(p.times[0], 1614668472123000000LL);
    CHECK_GOT(&p, 1, 1, "Mozilla/5.0 (Windows NT 10.0, Win64)"); /* comma inside quotes */
    CHECK_GOT(&p, 1, 2, "Cafe=\"x,y\""); /* doubled quotes */
    CHECK_GOT(&p, 1, 3, "a=1\nb=2"); /* line break inside quotes */
    CHECK_GOT(&p, 2, 7, "/EWS/Exchange.asmx");
    CHECK_GOT(&p, 2, 8, "Ews");
    /* the record after the multi-line one is numbered by its real line */
    CHECK_CONTAINS(r.dump, "\"format\":\"exchange-log\",\"record\":9,");
    scan_result_free(&r);
}

static void fields_change_and_bad_records(void)
{
    const char *text =
        "#Software: Microsoft Exchange Server\n"
        "#Log-type: ECP Server Logs\n"
        "orphan,record\n"                                              /* before #Fields */
        "#Fields: DateTime,UrlStem,Extra\n"
        "2021-03-02T08:00:00.000Z,/ecp/DDI/DDIService.svc/SetObject,\"Set-OabVirtualDirectory -ExternalUrl 'http://f/<script>'\"\n"
        "2021-03-02T08:00:01.000Z,too,many,values\n"
        "2021-03-02T08:00:02.000Z,/ecp/,caf\xC3\n"
        "#Log-type: OAB Generator Logs\n"
        "#Fields: DateTime,Extra\n"
        "2021-03-02T09:00:00.000Z,Download failed and temporary file C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx needs to be removed\n";
    probe p = {.names = {"AnchorMailbox", "UserAgent", "RoutingHint", "UrlQuery", "HttpStatus", "BackEndCookie",
                         "LogType", "UrlStem", "Protocol", "Extra"}};
    scan_result r = {0};
    r.hook = probe_hook;
    r.hook_ctx = &p;
    scan_memory(&r, "ECPServer.LOG", text, strlen(text));
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.stats.records_skipped, 2);
    CHECK_CONTAINS(r.diags, "error|ECPServer.LOG|line 3|record before any #Fields directive; skipped");
    CHECK_CONTAINS(r.diags, "error|ECPServer.LOG|line 6|4 value(s) where #Fields names 3; record skipped");
    CHECK_CONTAINS(r.diags, "warning|ECPServer.LOG|line 7|invalid UTF-8 in 1 value(s)");
    CHECK_GOT(&p, 0, 9, "Set-OabVirtualDirectory -ExternalUrl 'http://f/<script>'");
    CHECK_GOT(&p, 0, 6, "ECP Server Logs");
    CHECK_GOT(&p, 1, 9, "caf\xEF\xBF\xBD");
    CHECK_GOT(&p, 2, 6, "OAB Generator Logs");
    CHECK_GOT(&p, 2, 7, "<absent>");
    CHECK_CONTAINS(p.got[2][9], "needs to be removed");
    scan_result_free(&r);
}

static void stray_quote_is_contained(void)
{
    /* an unclosed quote on one record, then 400 good records: the bad one is
     * reported, and the quote does not swallow the rest */
    size_t cap = 64 * 1024, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, "#Software: Microsoft Exchange Server\n#Fields: DateTime,A,B\n");
    n += (size_t)snprintf(text + n, cap - n, "2021-03-02T08:00:00.000Z,\"unclosed,x\n");
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(text + n, cap - n, "2021-03-02T08:%02d:%02d.000Z,a%d,b\n", i / 60 % 60, i % 60, i);
    scan_result r = {0};
    scan_memory(&r, "stray.LOG", text, n);
    CHECK(r.nevents >= 399);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_CONTAINS(r.diags, "error|stray.LOG|line 3|");
    scan_result_free(&r);
    /* the same through tiny windows, from disk */
    const char *path = write_file("stray.LOG", text, n);
    scan_result ref = {0};
    scan_path(&ref, path);
    for (size_t w = 3; w < 200; w += 37) {
        tr_input_test_window = w;
        scan_path(&r, path);
        tr_input_test_window = 0;
        CHECK(r.dump_len == ref.dump_len && memcmp(r.dump, ref.dump, r.dump_len) == 0);
        scan_result_free(&r);
    }
    scan_result_free(&ref);
    free(text);
}

static void windows_agree(void)
{
    const char *path = write_file("HttpProxy.LOG", httpproxy, strlen(httpproxy));
    scan_result ref = {0}, r = {0};
    scan_path(&ref, path);
    CHECK_INT(ref.nevents, 3);
    for (size_t w = 2; w < 64; w += 5) {
        tr_input_test_window = w;
        scan_path(&r, path);
        tr_input_test_window = 0;
        if (r.dump_len != ref.dump_len || memcmp(r.dump, ref.dump, r.dump_len) != 0 || r.ndiags) {
            char m[96];
            snprintf(m, sizeof m, "a window of %zu bytes changes the result", w);
            tr_test_fail(__FILE__, __LINE__, m);
        }
        scan_result_free(&r);
    }
    scan_result_free(&ref);
}

void suite_exchange_log(void)
{
    RUN(httpproxy_records);
    RUN(fields_change_and_bad_records);
    RUN(stray_quote_is_contained);
    RUN(windows_agree);
}
