/*
 * test_exchange_report.c — the Exchange checks on a whole copied server and
 * the report built from them (tr_exchange_report, `traccia exchange`).
 *
 * The fixture tests/fixtures/exchange-server/EXCH01 is written by
 * make-fixtures.py beside it, which also writes expected.tsv: every planted
 * line with the rules that must fire on it, and every near miss (nothing may
 * fire). The tests hold the rules to that list exactly, in both directions:
 * a planted line that does not fire its rules fails, and so does any
 * detection on a line the list does not name (ordinary traffic, near
 * misses). SigmaHQ's Exchange rules (from ../shared, skipped when absent)
 * are held to the same list. The report is then checked on the fixture:
 * per-CVE hits, first and last times, client IPs, verdicts; on small
 * inputs for each verdict, server attribution, the caps, and allocation
 * failures; and end to end through the command, its JSON read back by jq.
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FIXTURE "tests/fixtures/exchange-server"

/* The report holds `needle`; prints it when not (the needles are long). */
#define HAS(hay, needle) check_has(__FILE__, __LINE__, (hay), (needle))
static void check_has(const char *file, int line, const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle))
        return;
    printf("  not found: %s\n", needle);
    tr_test_fail(file, line, "the text above is in the output");
}

/* ---------------------------------------------------------------- sets of "file\tline\trule" */

typedef struct strset {
    char **s;
    size_t n, cap;
} strset;

static void set_add(strset *set, const char *s)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 64;
        set->s = realloc(set->s, set->cap * sizeof *set->s);
    }
    set->s[set->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void set_sort(strset *set)
{
    if (set->n)
        qsort(set->s, set->n, sizeof *set->s, cmp_str);
    size_t o = 0; /* unique */
    for (size_t i = 0; i < set->n; i++) {
        if (o && strcmp(set->s[o - 1], set->s[i]) == 0) {
            free(set->s[i]);
            continue;
        }
        set->s[o++] = set->s[i];
    }
    set->n = o;
}

static bool set_has(const strset *set, const char *s)
{
    return set->n && bsearch(&s, set->s, set->n, sizeof *set->s, cmp_str) != NULL;
}

static void set_free(strset *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->s[i]);
    free(set->s);
    memset(set, 0, sizeof *set);
}

/* Every string of `want` is in `got` and the other way round; prints the
 * differences. Returns the number of differences. */
static size_t set_compare(const strset *want, const strset *got, const char *what)
{
    size_t diff = 0;
    for (size_t i = 0; i < want->n; i++)
        if (!set_has(got, want->s[i])) {
            printf("  %s: expected, did not fire: %s\n", what, want->s[i]);
            diff++;
        }
    for (size_t i = 0; i < got->n; i++)
        if (!set_has(want, got->s[i])) {
            printf("  %s: fired, not expected: %s\n", what, got->s[i]);
            diff++;
        }
    return diff;
}

/* ---------------------------------------------------------------- the manifest */

typedef struct manifest {
    strset builtin, sigmahq; /* "file\tline\trule" */
    size_t planted, near;
} manifest;

/* Reads expected.tsv: file, line, kind, built-in rules, SigmaHQ rules, note. */
static bool manifest_read(manifest *m)
{
    memset(m, 0, sizeof *m);
    size_t len;
    char *text = read_all(FIXTURE "/expected.tsv", &len);
    if (!text)
        return false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *col[6] = {0};
        char *p = line;
        for (int k = 0; k < 6 && p; k++) {
            col[k] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        if (!col[4])
            continue;
        if (strcmp(col[2], "planted") == 0)
            m->planted++;
        else
            m->near++;
        for (int c = 3; c <= 4; c++) {
            if (strcmp(col[c], "-") == 0)
                continue;
            char *save = NULL;
            for (char *r = strtok_r(col[c], ",", &save); r; r = strtok_r(NULL, ",", &save)) {
                char key[1200];
                snprintf(key, sizeof key, "%s\t%s\t%s", col[0], col[1], r);
                set_add(c == 3 ? &m->builtin : &m->sigmahq, key);
            }
        }
    }
    free(text);
    set_sort(&m->builtin);
    set_sort(&m->sigmahq);
    return true;
}

static void manifest_free(manifest *m)
{
    set_free(&m->builtin);
    set_free(&m->sigmahq);
}

/* ---------------------------------------------------------------- hunting the fixture */

static void collect(void *user, const tr_detection *d)
{
    strset *got = user;
    const tr_origin *o = tr_event_origin(d->event);
    const char *path = o->path;
    if (strncmp(path, FIXTURE "/", sizeof FIXTURE) == 0)
        path += sizeof FIXTURE;
    const char *base = strrchr(d->rule->path, '/');
    base = base ? base + 1 : d->rule->path;
    size_t bl = strlen(base);
    if (bl > 4 && strcmp(base + bl - 4, ".yml") == 0)
        bl -= 4;
    char key[1200];
    snprintf(key, sizeof key, "%s\t%llu\t%.*s", path, (unsigned long long)o->record, (int)bl, base);
    set_add(got, key);
}

static bool fixture_present(void)
{
    struct stat st;
    if (stat(FIXTURE "/EXCH01", &st) == 0)
        return true;
    tr_test_skip(FIXTURE " not found (run from the repository root)");
    return false;
}

/* Every planted line fires exactly its built-in rules; nothing else fires. */
static void builtin_rules_fire_exactly_on_planted_lines(void)
{
    if (!fixture_present())
        return;
    manifest m;
    CHECK(manifest_read(&m));
    CHECK(m.planted >= 35); /* every check of the issue, most twice */
    CHECK(m.near >= 30);
    tr_ruleset *rs;
    CHECK_INT(tr_ruleset_create(&rs, NULL), TR_OK);
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    strset got = {0};
    long hits = sigma_hunt_path(rs, FIXTURE "/EXCH01", collect, &got);
    set_sort(&got);
    CHECK(hits > 50);
    CHECK_INT(set_compare(&m.builtin, &got, "built-in"), 0);
    /* every rule of the web, Exchange-log and Exchange checks is exercised */
    static const char *const checks[] = {
        "httpproxy_cve_2021_26855_anchormailbox", "httpproxy_cve_2021_26855_backendcookie",
        "httpproxy_cve_2021_27065_reset_virtual_directory", "ecp_cve_2021_27065_virtual_directory_script",
        "oabgen_cve_2021_26858_download_path", "application_win_exchange_um_cve_2021_26857",
        "proc_creation_win_exchange_worker_spawns_shell", "web_exchange_proxyshell_attempt",
        "web_exchange_proxyshell_success", "web_exchange_autodiscover_ssrf_forms",
        "web_exchange_proxynotshell_success", "web_exchange_owassrf_powershell",
        "web_exchange_auth_folder_unknown_page", "web_exchange_aspnet_client_script",
        "web_exchange_proxylogon_static_post", "web_exchange_exploit_user_agent", "web_exchange_python_requests",
        "web_exchange_crawler_agent_post", "web_exchange_proxylogon_cookie", "msexchange_mgmt_mailbox_export",
        "msexchange_mgmt_mailbox_export_webshell", "msexchange_mgmt_import_export_role",
        "msexchange_mgmt_remove_export_request", "file_event_win_exchange_webshell_write",
        "proc_creation_win_lsass_dump_comsvcs", "file_event_win_lsass_dump_file",
        "proc_creation_win_archive_staging_programdata", "proc_creation_win_exchange_chopper_wrapper"};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        bool seen = false;
        for (size_t k = 0; k < got.n && !seen; k++) {
            const char *r = strrchr(got.s[k], '\t');
            seen = r && strcmp(r + 1, checks[i]) == 0;
        }
        if (!seen)
            printf("  built-in: %s never fires on the fixture\n", checks[i]);
        CHECK(seen);
    }
    set_free(&got);
    manifest_free(&m);
    tr_ruleset_destroy(rs);
}

/* SigmaHQ's rules for these exploits fire on the lines written for them,
 * and on nothing else of the server. */
static void sigmahq_rules_fire_on_their_fixture_lines(void)
{
    if (!fixture_present())
        return;
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found: SigmaHQ's rules are not available");
        return;
    }
    static const char *const files[] = {
        "sigma/rules-emerging-threats/2021/Exploits/ProxyShell-Exploit/web_exchange_proxyshell.yml",
        "sigma/rules-emerging-threats/2021/Exploits/CVE-2021-26858/web_cve_2021_26858_iis_rce.yml",
        "sigma/rules-emerging-threats/2021/TA/HAFNIUM/web_exchange_exploitation_hafnium.yml",
        "sigma/rules/windows/builtin/msexchange/win_exchange_proxylogon_oabvirtualdir.yml"};
    tr_ruleset *rs;
    CHECK_INT(tr_ruleset_create(&rs, NULL), TR_OK);
    for (size_t i = 0; i < 4; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", shared, files[i]);
        struct stat st;
        if (stat(path, &st) != 0) {
            printf("  skipped: %s not found\n", path);
            tr_test_skip("a SigmaHQ rule file is missing from ../shared");
            tr_ruleset_destroy(rs);
            return;
        }
        CHECK_INT(tr_ruleset_add_path(rs, path), TR_OK);
    }
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    CHECK_INT(tr_ruleset_get_stats(rs)->loaded, 4);
    CHECK_INT(tr_ruleset_get_stats(rs)->not_runnable, 0);
    manifest m;
    CHECK(manifest_read(&m));
    strset got = {0};
    sigma_hunt_path(rs, FIXTURE "/EXCH01", collect, &got);
    set_sort(&got);
    CHECK_INT(set_compare(&m.sigmahq, &got, "SigmaHQ"), 0);
    for (size_t i = 0; i < 4; i++) { /* each of the four fires somewhere */
        const char *base = strrchr(files[i], '/') + 1;
        size_t bl = strlen(base) - 4;
        bool seen = false;
        for (size_t k = 0; k < got.n && !seen; k++) {
            const char *r = strrchr(got.s[k], '\t') + 1;
            seen = strlen(r) == bl && strncmp(r, base, bl) == 0;
        }
        if (!seen)
            printf("  SigmaHQ: %s never fires on the fixture\n", base);
        CHECK(seen);
    }
    set_free(&got);
    manifest_free(&m);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- the report */

typedef struct feed {
    tr_exchange_report *report;
    tr_matcher *matcher;
    int errors;
} feed;

static void feed_detection(void *user, const tr_detection *d)
{
    feed *f = user;
    f->errors += tr_exchange_report_detection(f->report, d) != TR_OK;
}

static int feed_batch(void *user, const tr_batch *b)
{
    feed *f = user;
    for (size_t i = 0; i < b->count; i++) {
        f->errors += tr_exchange_report_event(f->report, b->events[i]) != TR_OK;
        tr_matcher_event(f->matcher, b->events[i], feed_detection, f);
    }
    return 0;
}

static tr_ruleset *builtin_rules(void)
{
    tr_ruleset *rs = NULL;
    if (tr_ruleset_create(&rs, NULL) != TR_OK || tr_ruleset_add_builtin_rules(rs) != TR_OK ||
        tr_ruleset_compile(rs) != TR_OK) {
        tr_ruleset_destroy(rs);
        return NULL;
    }
    return rs;
}

/* Scans `path` (or, with path NULL, the memory `text` as file `name`) with
 * the rules into a new report; NULL on failure. */
static tr_exchange_report *report_of(const tr_ruleset *rs, const tr_exchange_options *opt, const char *path,
                                     const char *name, const char *text)
{
    feed f = {0};
    if (tr_exchange_report_create(&f.report, opt) != TR_OK)
        return NULL;
    if (tr_matcher_create(&f.matcher, rs, 0) != TR_OK) {
        tr_exchange_report_destroy(f.report);
        return NULL;
    }
    tr_scan *scan;
    tr_scan_options so = {.on_batch = feed_batch, .user = &f};
    if (tr_scan_create(&scan, &so) == TR_OK) {
        if (path)
            tr_scan_path(scan, path);
        else
            tr_scan_memory(scan, name, text, strlen(text));
        tr_matcher_flush(f.matcher, feed_detection, &f);
        tr_exchange_report_set_input(f.report, tr_scan_get_stats(scan));
        tr_scan_destroy(scan);
    }
    tr_matcher_destroy(f.matcher);
    CHECK_INT(f.errors, 0);
    return f.report;
}

/* The report written to a string (malloc'd). */
static char *report_string(tr_exchange_report *r, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tr_status st = json ? tr_exchange_report_write_json(r, f) : tr_exchange_report_write_text(r, f);
    CHECK_INT(st, TR_OK);
    fclose(f);
    return buf;
}

static tr_exchange_verdict verdict_of(const tr_exchange_report *r, const char *server, const char **reason)
{
    for (size_t i = 0; i < tr_exchange_report_server_count(r); i++) {
        const char *name;
        tr_exchange_verdict v = tr_exchange_report_server_verdict(r, i, &name, reason);
        if (strcmp(name, server) == 0)
            return v;
    }
    printf("  no server named %s in the report\n", server);
    tr_test_fail(__FILE__, __LINE__, "server present");
    return TR_EXCHANGE_NO_SIGN;
}

/* The fixture server: per CVE the hits, outcomes, first and last time and
 * client IPs; the files, web shells and clients; the verdict. */
static void report_on_the_fixture_server(void)
{
    if (!fixture_present())
        return;
    tr_ruleset *rs = builtin_rules();
    CHECK(rs != NULL);
    tr_exchange_report *r = report_of(rs, NULL, FIXTURE "/EXCH01", NULL, NULL);
    CHECK(r != NULL);
    if (!r || !rs) {
        tr_ruleset_destroy(rs);
        return;
    }
    CHECK_INT(tr_exchange_report_server_count(r), 1);
    const char *reason;
    CHECK_INT(verdict_of(r, "EXCH01.corp.local", &reason), TR_EXCHANGE_COMPROMISED);
    HAS(reason, "exploitation succeeded: CVE-2021-26855 (12), CVE-2021-26857 (1)");
    HAS(reason, "web shells (15), mailbox theft (3), LSASS dumps (3), staging (1)");
    char *j = report_string(r, true);
    /* CVE-2021-26855: 7 IIS lines (static POSTs, cookies) and 5 HttpProxy rows */
    HAS(j, "{\"id\":\"CVE-2021-26855\",\"kind\":\"cve\",\"title\":\"ProxyLogon: pre-authentication "
                      "server-side request forgery\",\"hits\":12,\"succeeded\":12,\"failed\":0,\"observed\":0,"
                      "\"first\":\"2021-03-03T02:39:12.0000000Z\",\"last\":\"2021-03-03T10:13:05.0000000Z\","
                      "\"servers\":[{\"name\":\"EXCH01.corp.local\",\"hits\":12}],\"client_ips\":[{\"ip\":"
                      "\"104.248.49.97\",\"hits\":11,\"succeeded\":11,\"first\":\"2021-03-03T02:39:12.0000000Z\","
                      "\"last\":\"2021-03-03T10:12:40.0000000Z\"},{\"ip\":\"161.35.45.41\",\"hits\":1,");
    HAS(j, "{\"id\":\"CVE-2021-26857\",\"kind\":\"cve\",\"title\":\"ProxyLogon: Unified Messaging "
                      "deserialisation\",\"hits\":1,\"succeeded\":0,\"failed\":0,\"observed\":1,"
                      "\"first\":\"2021-03-03T02:38:44.4810000Z\"");
    HAS(j, "\"id\":\"CVE-2021-26858\",\"kind\":\"cve\",\"title\":\"ProxyLogon: file written through "
                      "the OAB generator\",\"hits\":1,");
    HAS(j, "\"id\":\"CVE-2021-27065\",\"kind\":\"cve\",\"title\":\"ProxyLogon: file written through an "
                      "ECP virtual directory\",\"hits\":2,\"succeeded\":1,\"failed\":0,\"observed\":1,"
                      "\"first\":\"2021-03-03T02:39:53.9810000Z\",\"last\":\"2021-03-03T02:39:56.1810000Z\"");
    /* ProxyShell: 3 successes, 2 attempts answered 401, the %3f@ form (400),
     * the SSRF to /ecp/y.js (401) and the ProxyNotShell request */
    HAS(j, "\"id\":\"CVE-2021-34473\",\"kind\":\"cve\",\"title\":\"ProxyShell: pre-authentication path "
                      "confusion\",\"hits\":8,\"succeeded\":4,\"failed\":4,\"observed\":0,"
                      "\"first\":\"2021-08-20T03:12:44.0000000Z\",\"last\":\"2022-09-29T11:20:31.0000000Z\"");
    HAS(j, "\"client_ips\":[{\"ip\":\"198.51.100.7\",\"hits\":4,\"succeeded\":3,");
    HAS(j, "\"id\":\"CVE-2022-41080\",\"kind\":\"cve\",\"title\":\"OWASSRF: OWA server-side request "
                      "forgery\",\"hits\":1,\"succeeded\":1,\"failed\":0,\"observed\":0,"
                      "\"first\":\"2022-12-10T02:11:44.0000000Z\"");
    HAS(j, "\"id\":\"CVE-2021-31207\",\"kind\":\"cve\",\"title\":\"ProxyShell: file written through a "
                      "mailbox export\",\"hits\":2,");
    HAS(j, "{\"id\":\"mailbox-theft\",\"kind\":\"activity\",\"title\":\"Mailbox theft\",\"hits\":4,");
    HAS(j, "{\"id\":\"credential-dumping\",\"kind\":\"activity\",\"title\":\"LSASS memory dumps\","
                      "\"hits\":3,");
    HAS(j, "{\"id\":\"other\",\"kind\":\"activity\",\"title\":\"Other detections\",\"hits\":0,");
    /* evidence: where and the line as written */
    HAS(j, "\"where\":\"tests/fixtures/exchange-server/EXCH01/Logging/OABGeneratorLog/"
                      "OABGenerator20210303-1.LOG:6\",\"line\":\"2021-03-03T02:45:12.481Z,23,Error,Download failed "
                      "and temporary file 'C:\\\\Program Files");
    HAS(j, "POST /ecp/y.js &CorrelationID=<empty>;&cafeReqId=");
    /* files named by the logs, and the web shells requested */
    HAS(j, "{\"path\":\"C:\\\\Program Files\\\\Microsoft\\\\Exchange Server\\\\V15\\\\FrontEnd\\\\"
                      "HttpProxy\\\\owa\\\\auth\\\\Current\\\\themes\\\\resources\\\\errorFE.aspx\",\"how\":\"written "
                      "by the OAB generator\",\"server\":\"EXCH01.corp.local\",\"hits\":1,");
    HAS(j, "{\"path\":\"C:\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\system_web\\\\aXq8b2Lk.aspx\","
                      "\"how\":\"file written\"");
    HAS(j, "{\"path\":\"\\\\\\\\EXCH01\\\\c$\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\ceo.pst\",\"how\":"
                      "\"mailbox export target\"");
    HAS(j, "{\"path\":\"\\\\\\\\127.0.0.1\\\\c$\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\rE9k.aspx\"");
    HAS(j, "{\"path\":\"C:\\\\ProgramData\\\\out.7z\",\"how\":\"archive created\"");
    HAS(j, "{\"path\":\"C:\\\\ProgramData\\\\lsass.dmp\",\"how\":\"memory dump written\"");
    HAS(j, "{\"url\":\"/aspnet_client/system_web/aXq8b2Lk.aspx\",\"server\":\"EXCH01.corp.local\","
                      "\"client_ip\":\"104.248.49.97\",\"user_agent\":\"antSword/v2.1\",\"user\":null,"
                      "\"requests\":1,\"answered\":1,\"last_status\":200,");
    HAS(j, "{\"url\":\"/owa/auth/Current/themes/resources/errorFE.aspx\"");
    HAS(j, "\"clients\":[{\"ip\":\"104.248.49.97\",\"hits\":12,\"succeeded\":12,");
    HAS(j, "\"input\":{\"files_read\":21,\"files_skipped\":0,\"files_damaged\":0,\"events\":792,");
    HAS(j, "\"evidence_read\":{\"iis\":583,\"httpproxy\":99,\"ecp\":28,\"oab_generator\":8,"
                      "\"exchange_other\":0,\"event_logs\":74,\"other\":0}");
    free(j);
    char *t = report_string(r, false);
    HAS(t, "  EXCH01.corp.local      COMPROMISED  exploitation succeeded: CVE-2021-26855 (12)");
    HAS(t, "CVE-2021-26855  ProxyLogon: pre-authentication server-side request forgery\n"
                      "  hits:       12 (12 succeeded) on EXCH01.corp.local\n"
                      "  first:      2021-03-03T02:39:12Z\n"
                      "  last:       2021-03-03T10:13:05Z\n"
                      "  client IPs: 104.248.49.97 (11), 161.35.45.41 (1)\n");
    HAS(t, "    2021-03-03T02:39:12Z  EXCH01.corp.local  succeeded  from 104.248.49.97\n"
                      "      tests/fixtures/exchange-server/EXCH01/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log:");
    HAS(t, "Web shells requested\n  /aspnet_client/system_web/aXq8b2Lk.aspx on EXCH01.corp.local\n"
                      "      by 104.248.49.97, user agent antSword/v2.1\n");
    free(t);
    tr_exchange_report_destroy(r);
    tr_ruleset_destroy(rs);
}

#define W3C_HEAD                                                                                                   \
    "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-08-20 00:00:00\r\n"   \
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "           \
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n"

/* Each verdict, from the smallest evidence that gives it. */
static void report_verdicts(void)
{
    tr_ruleset *rs = builtin_rules();
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *reason;
    /* attempts only: ProxyShell answered 401 */
    tr_exchange_report *r = report_of(
        rs, NULL, NULL, "u_ex210820.log",
        W3C_HEAD "2021-08-20 03:22:44 10.0.1.22 GET /autodiscover/autodiscover.json "
                 "@evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp 443 - 198.51.100.8 "
                 "python-requests/2.26.0 - 401 0 0 3\r\n"
                 "2021-08-20 03:22:45 10.0.1.22 GET /owa/ - 443 CORP\\alice.m 10.0.2.21 Mozilla/5.0 - 200 0 0 3\r\n");
    CHECK_INT(verdict_of(r, "10.0.1.22", &reason), TR_EXCHANGE_ATTACKED);
    HAS(reason, "attempts only: CVE-2021-34473 (1), CVE-2021-34523 (1), CVE-2022-41040 (1)");
    tr_exchange_report_destroy(r);
    /* the same request answered 200: compromised */
    r = report_of(rs, NULL, NULL, "u_ex210820.log",
                  W3C_HEAD "2021-08-20 03:22:44 10.0.1.22 GET /autodiscover/autodiscover.json "
                           "@evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp 443 - "
                           "198.51.100.8 python-requests/2.26.0 - 200 0 0 3\r\n");
    CHECK_INT(verdict_of(r, "10.0.1.22", &reason), TR_EXCHANGE_COMPROMISED);
    HAS(reason, "exploitation succeeded: CVE-2021-34473 (1)");
    tr_exchange_report_destroy(r);
    /* a medium-level removal of an export request alone: suspicious */
    r = report_of(rs, NULL, NULL, "mgmt.jsonl",
                  "{\"Event\":{\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"MSExchange CmdletLogs\"}},"
                  "\"EventID\":1,\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2021-03-05T03:35:03.077Z\"}},"
                  "\"Channel\":\"MSExchange Management\",\"Computer\":\"EXCH03.corp.local\",\"Level\":4},"
                  "\"EventData\":{\"Data\":[\"Remove-MailboxExportRequest\","
                  "\"-Identity \\\"ceo\\\\MailboxExport\\\"\"]}}}\n");
    CHECK_INT(verdict_of(r, "EXCH03.corp.local", &reason), TR_EXCHANGE_SUSPICIOUS);
    HAS(reason, "to review: mailbox theft (1)");
    tr_exchange_report_destroy(r);
    /* ordinary traffic: the server is listed, with no sign */
    r = report_of(rs, NULL, NULL, "u_ex210820.log",
                  W3C_HEAD "2021-08-20 03:22:45 10.0.1.23 GET /owa/ - 443 CORP\\alice.m 10.0.2.21 Mozilla/5.0 - 200 "
                           "0 0 3\r\n");
    CHECK_INT(tr_exchange_report_server_count(r), 1);
    CHECK_INT(verdict_of(r, "10.0.1.23", &reason), TR_EXCHANGE_NO_SIGN);
    CHECK_INT(strlen(reason), 0);
    char *t = report_string(r, false);
    HAS(t, "  10.0.1.23              no sign      nothing detected in the evidence read\n");
    HAS(t, "CVE-2021-26855  ProxyLogon: pre-authentication server-side request forgery\n  no sign\n");
    CHECK(strstr(t, "Other detections") == NULL);
    free(t);
    tr_exchange_report_destroy(r);
    /* no event at all: no server, and asking for one past the end is harmless */
    r = report_of(rs, NULL, NULL, "empty.log", W3C_HEAD);
    CHECK_INT(tr_exchange_report_server_count(r), 0);
    const char *name = "x";
    CHECK_INT(tr_exchange_report_server_verdict(r, 0, &name, &reason), TR_EXCHANGE_NO_SIGN);
    CHECK(name == NULL && reason == NULL);
    tr_exchange_report_destroy(r);
    CHECK(strcmp(tr_exchange_verdict_name(TR_EXCHANGE_ATTACKED), "attacked") == 0);
    CHECK(strcmp(tr_exchange_verdict_name(99), "") == 0);
    tr_ruleset_destroy(rs);
}

/* Servers, by the one host identity (tr_event_host): Computer for events,
 * a log's own server field (ServerName here) before the <server> folder of
 * the layout, the folder for logs that name no server (this IIS log), all
 * merged on the first DNS label. */
static void report_server_attribution(void)
{
    tr_ruleset *rs = builtin_rules();
    CHECK(rs != NULL);
    if (!rs)
        return;
    write_text("case/EXCH07/inetpub/logs/LogFiles/W3SVC1/u_ex210820.log",
               W3C_HEAD "2021-08-20 03:22:45 10.0.1.27 GET /owa/ - 443 CORP\\alice.m 10.0.2.21 Mozilla/5.0 - 200 0 0 "
                        "3\r\n");
    write_text("case/EXCH07/C/Program Files/Microsoft/Exchange Server/V15/Logging/ECP/Server/ECPServer20210303-1.LOG",
               "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: ECP Server Log\r\n"
               "#Date: 2021-03-03T00:01:18.223Z\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n"
               "2021-03-03T09:31:00.000Z,EXCH99,ECP.Request,S:CMD=Get-Mailbox\r\n");
    write_text("case/EXCH07/EventLogs/app.jsonl",
               "{\"Event\":{\"System\":{\"EventID\":1001,\"Channel\":\"Application\",\"Computer\":"
               "\"exch07.corp.local\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":"
               "\"2021-03-03T01:00:00Z\"}}}}}\n");
    write_text("loose/ECPServer20210303-1.LOG",
               "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: ECP Server Log\r\n"
               "#Date: 2021-03-03T00:01:18.223Z\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n"
               "2021-03-03T09:31:00.000Z,EXCH08,ECP.Request,S:CMD=Get-Mailbox\r\n");
    char path[600];
    snprintf(path, sizeof path, "%s", test_tmpdir());
    tr_exchange_report *r = report_of(rs, NULL, path, NULL, NULL);
    CHECK_INT(tr_exchange_report_server_count(r), 3);
    const char *name;
    /* in the order the walk meets them */
    tr_exchange_report_server_verdict(r, 0, &name, NULL);
    CHECK(name && strcmp(name, "EXCH99") == 0); /* its own ServerName, not the folder it was copied into */
    tr_exchange_report_server_verdict(r, 1, &name, NULL);
    CHECK(name && strcmp(name, "exch07.corp.local") == 0); /* the longest name of the two */
    tr_exchange_report_server_verdict(r, 2, &name, NULL);
    CHECK(name && strcmp(name, "EXCH08") == 0);
    char *j = report_string(r, true);
    HAS(j, "{\"name\":\"exch07.corp.local\",\"verdict\":\"no sign\",\"reason\":\"\",\"hits\":0,"
                      "\"events\":2,\"evidence_read\":{\"iis\":1,\"httpproxy\":0,\"ecp\":0,\"oab_generator\":0,"
                      "\"exchange_other\":0,\"event_logs\":1,\"other\":0}");
    HAS(j, "{\"name\":\"EXCH99\",\"verdict\":\"no sign\",\"reason\":\"\",\"hits\":0,"
                      "\"events\":1,\"evidence_read\":{\"iis\":0,\"httpproxy\":0,\"ecp\":1,");
    free(j);
    tr_exchange_report_destroy(r);
    tr_ruleset_destroy(rs);
}

/* Caps: many clients and requests give bounded tables, and what was left
 * out is counted. */
static void report_is_bounded(void)
{
    tr_ruleset *rs = builtin_rules();
    CHECK(rs != NULL);
    if (!rs)
        return;
    size_t cap = 4096 * 200;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "%s", W3C_HEAD);
    for (int i = 0; i < 3000; i++) /* 3000 clients each POST a web shell */
        n += (size_t)snprintf(text + n, cap - n,
                              "2021-08-20 %02d:%02d:%02d 10.0.1.21 POST /aspnet_client/s%d.aspx - 443 - 192.0.%d.%d "
                              "antSword/v2.1 - 200 0 0 3\r\n",
                              i / 3600 % 24, i / 60 % 60, i % 60, i % 7, i / 250, i % 250);
    tr_exchange_options opt = {.max_evidence = 3, .max_ips = 16, .max_items = 32};
    tr_exchange_report *r = report_of(rs, &opt, NULL, "u_ex210820.log", text);
    free(text);
    char *j = report_string(r, true);
    HAS(j, "{\"id\":\"webshell\",\"kind\":\"activity\",\"title\":\"Web shells\",\"hits\":3000,"
                      "\"succeeded\":3000,");
    HAS(j, "\"client_ips_left_out_hits\":2984,");
    HAS(j, "\"evidence_left_out\":2997}");
    HAS(j, "\"webshells_left_out\":2968");
    HAS(j, "\"clients_left_out\":2968}");
    /* 7 distinct pages, each requested and so named; within the cap */
    HAS(j, "\"files_left_out\":0,");
    /* the evidence kept is the earliest */
    HAS(j, "\"evidence\":[{\"time\":\"2021-08-20T00:00:00.0000000Z\"");
    free(j);
    char *t = report_string(r, false);
    HAS(t, "    ... and 2997 more (--evidence N keeps more)\n");
    HAS(t, " and 6 more (+2984 hits from IPs past the limit)\n");
    free(t);
    tr_exchange_report_destroy(r);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- allocation failures */

static long report_fail_at, report_allocs;
static bool in_report;

static void *maybe_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return in_report && ++report_allocs == report_fail_at ? NULL : malloc(n);
}

static void *maybe_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    return in_report && ++report_allocs == report_fail_at ? NULL : realloc(p, n);
}

static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void guarded_detection(void *user, const tr_detection *d)
{
    feed *f = user;
    in_report = true;
    f->errors += tr_exchange_report_detection(f->report, d) != TR_OK;
    in_report = false;
}

static int guarded_batch(void *user, const tr_batch *b)
{
    feed *f = user;
    for (size_t i = 0; i < b->count; i++) {
        in_report = true;
        f->errors += tr_exchange_report_event(f->report, b->events[i]) != TR_OK;
        in_report = false;
        tr_matcher_event(f->matcher, b->events[i], guarded_detection, f);
    }
    return 0;
}

/* The Nth allocation of the report fails, for every N: every call returns
 * TR_OK or TR_ERR_NOMEM, the report still writes (saying it is
 * incomplete), and nothing leaks (the sanitizer build checks). */
static void report_survives_allocation_failures(void)
{
    if (!fixture_present())
        return;
    tr_ruleset *rs = builtin_rules();
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *path = FIXTURE "/EXCH01/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log";
    const tr_alloc_hooks hooks = {maybe_malloc, maybe_realloc, plain_free, NULL};
    int failed_runs = 0;
    for (long n = 1; n < 2000; n++) {
        report_fail_at = n;
        report_allocs = 0;
        feed f = {0};
        tr_alloc_set_hooks(&hooks);
        in_report = true;
        tr_status st = tr_exchange_report_create(&f.report, NULL);
        in_report = false;
        if (st != TR_OK) {
            CHECK_INT(st, TR_ERR_NOMEM);
            tr_alloc_set_hooks(NULL);
            failed_runs++;
            continue;
        }
        tr_scan *scan = NULL;
        tr_scan_options so = {.on_batch = guarded_batch, .user = &f};
        CHECK_INT(tr_matcher_create(&f.matcher, rs, 0), TR_OK);
        CHECK_INT(tr_scan_create(&scan, &so), TR_OK);
        tr_scan_path(scan, path);
        in_report = true;
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        tr_status w1 = tr_exchange_report_write_text(f.report, out);
        tr_status w2 = tr_exchange_report_write_json(f.report, out);
        in_report = false;
        fclose(out);
        CHECK(w1 == TR_OK || w1 == TR_ERR_NOMEM);
        CHECK(w2 == TR_OK || w2 == TR_ERR_NOMEM);
        bool failed = report_allocs >= n;
        if (failed && w1 == TR_OK && f.errors)
            HAS(buf, "INCOMPLETE");
        free(buf);
        tr_scan_destroy(scan);
        tr_matcher_destroy(f.matcher);
        tr_exchange_report_destroy(f.report);
        tr_alloc_set_hooks(NULL);
        if (!failed)
            break; /* a run needed fewer than n allocations: all paths tried */
        failed_runs++;
    }
    CHECK(failed_runs > 20);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- the command */

static const char *bin(void)
{
    const char *b = getenv("TRACCIA_BIN");
    return b ? b : "build/traccia";
}

/* Runs a shell command line, its output to tmpdir/out; returns the exit status. */
static int sh(const char *cmdline, char **out)
{
    char cmd[4096], o[600];
    snprintf(o, sizeof o, "%s/out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s >%s 2>&1 </dev/null", cmdline, o);
    int st = system(cmd);
    size_t n;
    if (out)
        *out = read_all(o, &n);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int traccia(const char *args, char **out)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "%s %s", bin(), args);
    return sh(cmd, out);
}

/* jq -e EXPR over `traccia exchange --json PATH`: 0 when EXPR is true. */
static int jq_true(const char *path, const char *expr)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "%s exchange -q --json '%s' | jq -e '%s'", bin(), path, expr);
    char *out = NULL;
    int st = sh(cmd, &out);
    if (st != 0)
        printf("  jq: %s is not true on %s (status %d): %.300s\n", expr, path, st, out ? out : "");
    free(out);
    return st;
}

static void command_usage_and_status(void)
{
    char *out = NULL;
    CHECK_INT(traccia("exchange --help", &out), 0);
    HAS(out, "usage: traccia exchange");
    HAS(out, "--json");
    free(out);
    CHECK_INT(traccia("exchange", &out), 1);
    HAS(out, "no PATH");
    free(out);
    CHECK_INT(traccia("exchange --frobnicate x", &out), 1);
    HAS(out, "unknown option");
    free(out);
    CHECK_INT(traccia("exchange --evidence 0 x", &out), 1);
    free(out);
    CHECK_INT(traccia("exchange /nonexistent/server", &out), 2);
    HAS(out, "/nonexistent/server");
    free(out);
    CHECK_INT(traccia("--help", &out), 0);
    HAS(out, "exchange PATH");
    free(out);
}

static bool have_jq(void)
{
    if (sh("command -v jq", NULL) == 0)
        return true;
    tr_test_skip("jq is not installed");
    return false;
}

static void command_json_on_the_fixture(void)
{
    if (!fixture_present() || !have_jq())
        return;
    const char *p = FIXTURE "/EXCH01";
    CHECK(jq_true(p, ".report == \"exchange\" and .complete == true and .input.files_read == 21") == 0);
    CHECK(jq_true(p, ".servers == [.servers[0]] and .servers[0].name == \"EXCH01.corp.local\" and "
                         ".servers[0].verdict == \"compromised\"") == 0);
    CHECK(jq_true(p, ".sections[] | select(.id == \"CVE-2021-26855\") | .hits == 12 and .succeeded == 12 and "
                         ".first == \"2021-03-03T02:39:12.0000000Z\" and .last == \"2021-03-03T10:13:05.0000000Z\" and "
                         "[.client_ips[].ip] == [\"104.248.49.97\", \"161.35.45.41\"]") == 0);
    CHECK(jq_true(p, "[.sections[] | select(.kind == \"cve\") | .id] == [\"CVE-2021-26855\", \"CVE-2021-26857\", "
                         "\"CVE-2021-26858\", \"CVE-2021-27065\", \"CVE-2021-34473\", \"CVE-2021-34523\", "
                         "\"CVE-2021-31207\", \"CVE-2022-41040\", \"CVE-2022-41080\", \"CVE-2022-41082\"]") == 0);
    CHECK(jq_true(p, "[.sections[] | select(.hits > 0) | .evidence | length > 0] | all") == 0);
    CHECK(jq_true(p, "[.sections[].evidence[] | .where | test(\":[0-9]+$\")] | all") == 0);
    CHECK(jq_true(p, "[.webshells[].url] | index(\"/aspnet_client/system_web/aXq8b2Lk.aspx\") != null") == 0);
    CHECK(jq_true(p, "[.files[].how] | unique == [\"archive created\", \"file written\", \"mailbox export "
                         "target\", \"memory dump written\", \"script requested over the web\", \"written by the OAB "
                         "generator\"]") == 0);
    /* the text report names the verdict and the sections */
    char *out = NULL, args[600];
    snprintf(args, sizeof args, "exchange -q %s", p);
    CHECK_INT(traccia(args, &out), 0);
    HAS(out, "COMPROMISED");
    HAS(out, "CVE-2021-27065  ProxyLogon: file written through an ECP virtual directory\n  hits:       2");
    HAS(out, "Suspicious files named by the logs\n");
    HAS(out, "Read: 21 file(s) (0 skipped, 0 damaged), 792 events, 0 malformed record(s) skipped\n");
    free(out);
    /* --evidence keeps more lines */
    CHECK(jq_true(p, ".sections[0].evidence | length == 10") == 0);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s exchange -q --json --evidence 50 %s | jq -e '.sections[0].evidence | length == 12'",
             bin(), p);
    CHECK_INT(sh(cmd, NULL), 0);
}

static void command_json_on_the_example(void)
{
    struct stat st;
    if (stat("examples/exchange-server", &st) != 0) {
        tr_test_skip("examples/exchange-server not found (run from the repository root)");
        return;
    }
    if (!have_jq())
        return;
    CHECK(jq_true("examples/exchange-server",
                      "[.servers[] | {(.name): .verdict}] | add == {\"EXCH01.corp.local\": \"compromised\", "
                      "\"EXCH02.corp.local\": \"attacked\", \"EXCH03.corp.local\": \"no sign\"}") == 0);
    CHECK(jq_true("examples/exchange-server", ".input.records_skipped == 0 and .complete") == 0);
    CHECK(jq_true("examples/exchange-server",
                  ".webshells | map(select(.client_ip == \"192.0.2.77\")) | length == 1") == 0);
}

void suite_exchange_report(void)
{
    RUN(builtin_rules_fire_exactly_on_planted_lines);
    RUN(sigmahq_rules_fire_on_their_fixture_lines);
    RUN(report_on_the_fixture_server);
    RUN(report_verdicts);
    RUN(report_server_attribution);
    RUN(report_is_bounded);
    RUN(report_survives_allocation_failures);
    RUN(command_usage_and_status);
    RUN(command_json_on_the_fixture);
    RUN(command_json_on_the_example);
}
