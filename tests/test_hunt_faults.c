/*
 * test_hunt_faults.c — every allocation a hunt makes may fail, and none
 * may fail silently. A small hunt (events of three formats, the built-in
 * rules, indicators, JSON lines, the case) is run once for each N, with the
 * Nth library allocation failing. Each run must either produce exactly the
 * findings of the run without faults, or say that it did not: out of
 * memory returned, an output marked failed, or an error said through the
 * diagnostics. A run that reports success with fewer (or other) findings
 * is a silent miss, and names N.
 */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

typedef struct fault_log {
    int errors; /* diagnostics of severity error */
} fault_log;

static void count_errors(void *user, const tr_diag *d)
{
    fault_log *l = user;
    if (d->severity == TR_SEV_ERROR)
        l->errors++;
}

#define EVJ(id, t, img, cmd)                                                                       \
    "{\"Event\":{\"System\":{\"EventID\":" id ",\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"," \
    "\"Computer\":\"EXCH01.corp.local\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"" t "\"}}}," \
    "\"EventData\":{\"Image\":\"" img "\",\"ParentImage\":\"C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe\"," \
    "\"CommandLine\":\"" cmd "\"}}}\n"

static void write_fixture(void)
{
    write_text("hf/ev/sysmon.jsonl",
               EVJ("1", "2021-03-03T02:43:30Z", "C:\\\\Windows\\\\System32\\\\cmd.exe",
                   "cmd /c cd /d C:\\\\inetpub\\\\wwwroot\\\\aspnet_client&whoami&echo [S]&cd&echo [E]")
                   EVJ("1", "2021-03-03T02:44:00Z", "C:\\\\Windows\\\\System32\\\\whoami.exe", "whoami /all")
                       EVJ("1", "2021-03-03T02:45:00Z", "C:\\\\Windows\\\\System32\\\\net.exe",
                           "net user /domain 203.0.113.9"));
    write_text("hf/ev/u_ex210303.log",
               "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
               "#Date: 2021-03-03 02:40:00\n"
               "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
               "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
               "2021-03-03 02:41:00 10.0.0.5 POST /ecp/y.js - 443 - 203.0.113.9 python-requests/2.25 - 200 0 0 15\n"
               "2021-03-03 02:42:00 10.0.0.5 POST /owa/auth/x.aspx - 443 - 203.0.113.9 Mozilla/5.0 - 200 0 0 9\n");
    write_text("hf/iocs.txt", "203.0.113.9\n");
    /* a real EVTX log (9 records of the Exchange management log), and a
     * gzip-compressed JSON log */
    size_t n;
    char *evtx = read_all("examples/exchange-intrusion/evtx/EXCH01-msexchange-management.evtx", &n);
    if (evtx)
        write_file("hf/ev/mgmt.evtx", evtx, n);
    free(evtx);
    char gzp[700];
    snprintf(gzp, sizeof gzp, "%s/hf/ev/dc01.jsonl.gz", test_tmpdir());
    gzFile gz = gzopen(gzp, "wb");
    if (gz) {
        gzputs(gz, EVJ("4688", "2021-03-03T03:00:00Z", "C:\\\\Windows\\\\System32\\\\ntdsutil.exe",
                       "ntdsutil ifm create full c:\\\\temp q q"));
        gzclose(gz);
    }
    /* the head of a real HttpProxy log (its header and three requests) */
    char *xl = read_all("tests/fixtures/exchange-server/EXCH01/Logging/HttpProxy/Ecp/HttpProxy_2021030302-1.LOG", &n);
    if (xl) {
        size_t lines = 0, cut = 0;
        while (cut < n && lines < 8)
            lines += xl[cut++] == '\n';
        write_file("hf/ev/Logging/HttpProxy/Ecp/HttpProxy_2021030302-1.LOG", xl, cut);
    }
    free(xl);
}

/* A correlation over the test's events (Sigma correlations keep state
 * that allocates as windows open and close). */
static const char correlation_rules[] =
    "title: Any Sysmon Process\nname: any_sysmon_process\nlogsource: {product: windows, category: process_creation}\n"
    "level: low\ndetection:\n    sel:\n        Image|endswith: '.exe'\n    condition: sel\n---\n"
    "title: Processes In A Burst\nlevel: medium\ncorrelation:\n    type: event_count\n"
    "    rules: [any_sysmon_process]\n    group-by: [Computer]\n    timespan: 1h\n    condition: {gte: 2}\n";

typedef struct hunt_out {
    uint64_t exchange_bytes, report_bytes; /* what the Exchange report and the run report wrote */
    tr_status rc;
    int write_failed, case_failed, errors;
    uint64_t detections;
    char *jsonl;
    size_t len;
} hunt_out;

static void hunt_once(const tr_ruleset *rs, const tr_iocset *set, const char *tag, hunt_out *out)
{
    const char *d = test_tmpdir();
    char jp[700], db[700];
    snprintf(jp, sizeof jp, "%s/hf/%s.jsonl", d, tag);
    snprintf(db, sizeof db, "%s/hf/%s.db", d, tag);
    unlink(db);
    char wal[720];
    snprintf(wal, sizeof wal, "%s-wal", db);
    unlink(wal);
    memset(out, 0, sizeof *out);
    FILE *jf = fopen(jp, "w");
    if (!jf) {
        out->rc = TR_ERR_IO;
        return;
    }
    fault_log log = {0};
    tr_case *kase = NULL;
    char err[256];
    tr_status crc = tr_case_open(&kase, db, 1, err, sizeof err);
    if (crc != TR_OK) { /* the case itself could not be made: said */
        fclose(jf);
        out->rc = crc;
        return;
    }
    tr_exchange_report *xr = NULL;
    tr_run_report *rr = NULL;
    char *argv[] = {"hunt", "faults"};
    if (tr_exchange_report_create(&xr, NULL) != TR_OK || tr_run_report_create(&rr, "hunt", 2, argv) != TR_OK) {
        tr_exchange_report_destroy(xr);
        tr_run_report_destroy(rr);
        tr_case_close(kase);
        fclose(jf);
        out->rc = TR_ERR_NOMEM;
        return;
    }
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    o.rules = rs;
    o.iocs = set;
    o.threads = 1;
    o.jsonl = jf;
    o.case_store = kase;
    o.exchange = xr;
    o.run_report = rr;
    o.filter.from = o.filter.to = TR_TIME_NONE;
    o.on_diag = count_errors;
    o.user = &log;
    char ev[700];
    snprintf(ev, sizeof ev, "%s/hf/ev", d);
    const char *paths[] = {ev};
    tr_hunt_result res;
    out->rc = tr_hunt_run(&o, paths, 1, &res);
    if (fclose(jf) != 0)
        out->write_failed = 1;
    tr_case_close(kase);
    /* the reports are written too: each whole, or failing with a status */
    char xp[720], rp[720];
    snprintf(xp, sizeof xp, "%s/hf/%s.exchange.txt", d, tag);
    snprintf(rp, sizeof rp, "%s/hf/%s.run.json", d, tag);
    FILE *xf = fopen(xp, "w");
    if (!xf || tr_exchange_report_write_text(xr, xf) != TR_OK)
        out->write_failed = 1;
    if (xf && fclose(xf) != 0)
        out->write_failed = 1;
    if (tr_run_report_write(rr, rp, 0, "") != TR_OK)
        out->write_failed = 1;
    size_t len;
    char *t = read_all(xp, &len);
    out->exchange_bytes = t ? len : 0;
    free(t);
    t = read_all(rp, &len);
    out->report_bytes = t ? len : 0;
    free(t);
    tr_exchange_report_destroy(xr);
    tr_run_report_destroy(rr);
    if (out->rc == TR_OK) {
        out->write_failed |= res.write_failed;
        out->case_failed = res.case_failed;
        out->detections = res.detections;
    }
    tr_hunt_result_free(&res); /* whatever it returned */
    out->errors = log.errors;
    out->jsonl = read_all(jp, &out->len);
}

/* In a coverage build (OPT="-O0 --coverage -DTRACCIA_COVERAGE") the
 * counters are reset once the rules are compiled, so that gcov shows the
 * allocation sites the hunt itself reaches: docs/RELIABILITY.md gives the
 * figure and the commands. */
#ifdef TRACCIA_COVERAGE
void __gcov_reset(void);
#define coverage_reset() __gcov_reset()
#else
#define coverage_reset() ((void)0)
#endif

static void every_hunt_allocation_may_fail(void)
{
    write_fixture();
    tr_ruleset *rs = NULL;
    tr_ruleset_options ro = {.on_diag = NULL, .user = NULL};
    CHECK_INT(tr_ruleset_create(&rs, &ro), TR_OK);
    if (!rs)
        return;
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_add_memory(rs, "correlation.yml", correlation_rules, sizeof correlation_rules - 1), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    tr_iocset *set = NULL;
    tr_iocset_options io = {NULL, NULL};
    CHECK_INT(tr_iocset_create(&set, &io), TR_OK);
    char ip[700];
    snprintf(ip, sizeof ip, "%s/hf/iocs.txt", test_tmpdir());
    CHECK_INT(tr_iocset_add_path(set, ip), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);

    coverage_reset();
    hunt_out base;
    hunt_once(rs, set, "base", &base);
    CHECK_INT(base.rc, TR_OK);
    CHECK(!base.write_failed && !base.case_failed && base.errors == 0);
    CHECK(base.detections >= 4); /* rules on both logs and the indicator */
    CHECK(base.jsonl && base.len > 0);
    long runs = 0, said = 0, silent = 0;
    for (long n = 1; n < 200000; n++) {
        hunt_out got;
        alloc_fail_start(n);
        hunt_once(rs, set, "fault", &got);
        long made = alloc_fail_stop();
        runs++;
        bool same = got.rc == TR_OK && got.detections == base.detections && got.len == base.len && got.jsonl &&
                    memcmp(got.jsonl, base.jsonl, base.len) == 0 && got.exchange_bytes == base.exchange_bytes;
        bool told = got.rc != TR_OK || got.write_failed || got.case_failed || got.errors > 0;
        if (told && made >= n)
            said++;
        if (!same && !told) {
            if (silent++ < 10)
                fprintf(stderr, "    allocation %ld failing: the hunt reported success with %llu detection(s) "
                                "instead of %llu, %zu bytes of findings instead of %zu\n",
                        n, (unsigned long long)got.detections, (unsigned long long)base.detections, got.len,
                        base.len);
        }
        free(got.jsonl);
        if (made < n) /* no allocation failed: every site of the hunt was reached */
            break;
    }
    fprintf(stderr, "    %ld runs, %ld failures said, %ld silent\n", runs, said, silent);
    CHECK(runs > 100);
    CHECK_INT(silent, 0);
    free(base.jsonl);
    tr_iocset_destroy(set);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- loading the rules */

/* Rules that reach every part of the compiler: modifiers, wildcards,
 * regular expressions (and values beyond ASCII, which become one),
 * placeholders, keywords, a filter, CIDR, numbers, and a correlation. */
static const char variety_rules[] =
    "title: Variety\nid: 6b7f3d2a-1c4e-4f5a-9b8c-0d1e2f3a4b5c\nlevel: high\n"
    "logsource: {product: windows, category: process_creation}\n"
    "detection:\n"
    "    sel_img:\n        Image|endswith: ['\\cmd.exe', '\\powershell.exe']\n"
    "    sel_cmd:\n        CommandLine|contains|all: ['whoami', 'echo']\n"
    "    sel_win:\n        CommandLine|windash|contains: '-enc'\n"
    "    sel_b64:\n        CommandLine|base64offset|contains: 'IEX'\n"
    "    sel_wide:\n        CommandLine|wide|base64offset|contains: 'Invoke'\n"
    "    sel_re:\n        CommandLine|re|i: 'echo \\[s\\].*\\[e\\]'\n"
    "    sel_uni:\n        CommandLine|contains: 'contraseña'\n"
    "    sel_glob:\n        ParentImage: 'C:\\Windows\\*\\w3wp.exe'\n"
    "    sel_ip:\n        DestinationIp|cidr: ['10.0.0.0/8', '2001:db8::/32']\n"
    "    sel_num:\n        EventID|gte: 1\n"
    "    sel_ph:\n        User|expand: '%Admins%'\n"
    "    sel_ref:\n        User|fieldref: TargetUser\n"
    "    sel_ex:\n        Hashes|exists: false\n"
    "    keywords:\n        - 'aspnet_client'\n"
    "    condition: (sel_img and sel_cmd) or 1 of sel_w* or sel_b64 or sel_re or sel_uni or (sel_glob and sel_num "
    "and not sel_ex) or sel_ip or sel_ph or sel_ref or keywords\n"
    "---\n"
    "title: Quiet Admin Tools\nid: 7c8d9e0f-2a3b-4c5d-8e6f-1a2b3c4d5e6f\n"
    "logsource: {product: windows, category: process_creation}\n"
    "filter:\n    rules: [6b7f3d2a-1c4e-4f5a-9b8c-0d1e2f3a4b5c]\n    selection:\n        User: svc_backup\n"
    "    condition: selection\n";

typedef struct load_out {
    tr_status rc;
    size_t nrules, runnable;
    uint64_t hits;
    int said;   /* diagnostics that say memory ran out */
    int errors; /* diagnostics of severity error */
} load_out;

static void count_memory_said(void *user, const tr_diag *d)
{
    if (strstr(d->reason, "memory"))
        ((load_out *)user)->said++;
    if (d->severity == TR_SEV_ERROR)
        ((load_out *)user)->errors++;
}

/* Loads and compiles the rules (the built-in pack too), then matches the
 * fixture's Sysmon events with them, all with the allocator as it is. */
static void load_once(load_out *o)
{
    memset(o, 0, sizeof *o);
    tr_ruleset *rs = NULL;
    tr_ruleset_options ro = {.on_diag = count_memory_said, .user = o};
    if ((o->rc = tr_ruleset_create(&rs, &ro)) != TR_OK)
        return;
    static const char placeholders[] = "Admins: ['adm_*', 'root']\n";
    tr_status rc[5] = {
        tr_ruleset_add_builtin_rules(rs),
        tr_ruleset_add_placeholders_memory(rs, "placeholders.yml", placeholders, sizeof placeholders - 1),
        tr_ruleset_add_memory(rs, "variety.yml", variety_rules, sizeof variety_rules - 1),
        tr_ruleset_add_memory(rs, "correlation.yml", correlation_rules, sizeof correlation_rules - 1),
        TR_OK,
    };
    rc[4] = tr_ruleset_compile(rs);
    for (size_t i = 0; i < 5; i++)
        if (rc[i] != TR_OK && o->rc == TR_OK)
            o->rc = rc[i];
    if (rc[4] == TR_OK) {
        o->nrules = tr_ruleset_count(rs);
        for (size_t i = 0; i < o->nrules; i++)
            o->runnable += tr_ruleset_rule(rs, i)->runnable;
        char path[700];
        snprintf(path, sizeof path, "%s/hf/ev/sysmon.jsonl", test_tmpdir());
        long hits = sigma_hunt_path(rs, path, NULL, NULL);
        if (hits < 0 && o->rc == TR_OK)
            o->rc = TR_ERR_NOMEM;
        o->hits = hits < 0 ? 0 : (uint64_t)hits;
    }
    tr_ruleset_destroy(rs);
}

/* Every allocation of loading and compiling the rules may fail: each run
 * either gives the rules and the detections of the run without faults, or
 * says it did not (out of memory returned, or said of a rule). */
static void every_rule_load_allocation_may_fail(void)
{
    write_fixture();
    load_out base;
    load_once(&base);
    CHECK_INT(base.rc, TR_OK);
    CHECK(base.said == 0 && base.errors == 0);
    fprintf(stderr, "    without faults: %zu rules (%zu runnable), %llu detections\n", base.nrules, base.runnable,
            (unsigned long long)base.hits);
    CHECK(base.nrules > 30 && base.runnable == base.nrules && base.hits >= 3);
    long runs = 0, said = 0, silent = 0;
    for (long n = 1;; n++) {
        load_out o;
        alloc_fail_start(n);
        load_once(&o);
        long made = alloc_fail_stop();
        runs++;
        bool same = o.rc == TR_OK && o.nrules == base.nrules && o.runnable == base.runnable && o.hits == base.hits;
        if (o.rc != TR_OK || o.said)
            said++;
        else if (!same) {
            if (silent++ < 5)
                fprintf(stderr, "    allocation %ld failed silently: %zu rules (%zu runnable), %llu hits; "
                        "expected %zu (%zu), %llu\n", n, o.nrules, o.runnable, (unsigned long long)o.hits,
                        base.nrules, base.runnable, (unsigned long long)base.hits);
        }
        CHECK(o.rc == TR_OK || o.rc == TR_ERR_NOMEM);
        if (made < n)
            break; /* no allocation failed: every one was tried */
    }
    fprintf(stderr, "    %ld runs, %ld failures said, %ld silent\n", runs, said, silent);
    CHECK(silent == 0);
    CHECK(runs > 100);
}

void suite_hunt_faults(void)
{
    RUN(every_hunt_allocation_may_fail);
    RUN(every_rule_load_allocation_may_fail);
}
