/*
 * test_case.c — the case store: its schema, incremental hunting (a re-hunt
 * adds nothing, a grown log adds only its new records, changed rules
 * re-hunt and say so), a hunt killed mid-write, allocation and I/O failures
 * in the store, the questions of `traccia case`, and outputs that are byte
 * for byte the same with 1, 2 and 4 threads and with or without a case.
 */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/case/store.h"

#define EXAMPLE "examples/exchange-intrusion"


static tr_ruleset *rules_with(const char *extra)
{
    tr_ruleset *rs;
    if (tr_ruleset_create(&rs, NULL) != TR_OK)
        return NULL;
    if (tr_ruleset_add_builtin_rules(rs) != TR_OK ||
        (extra && tr_ruleset_add_memory(rs, "extra.yml", extra, strlen(extra)) != TR_OK) ||
        tr_ruleset_compile(rs) != TR_OK) {
        tr_ruleset_destroy(rs);
        return NULL;
    }
    return rs;
}

typedef struct diag_log {
    char text[8192];
    size_t len;
} diag_log;

static void collect(void *user, const tr_diag *d)
{
    diag_log *l = user;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s|%s\n", d->path, d->reason);
    if (n > 0 && (size_t)n < sizeof l->text - l->len)
        l->len += (size_t)n;
}

/* Hunts path into the case at db; the result in *res (caller frees). */
static tr_status hunt_into(const char *db, const tr_ruleset *rs, const char *path, unsigned threads, int full,
                           tr_hunt_result *res, diag_log *log)
{
    tr_case *c;
    char err[512];
    tr_status rc = tr_case_open(&c, db, 1, err, sizeof err);
    if (rc != TR_OK) {
        memset(res, 0, sizeof *res);
        return rc;
    }
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    o.rules = rs;
    o.threads = threads;
    o.case_store = c;
    o.case_full = full;
    o.filter.from = o.filter.to = TR_TIME_NONE;
    o.on_diag = log ? collect : NULL;
    o.user = log;
    const char *paths[] = {path};
    rc = tr_hunt_run(&o, paths, 1, res);
    tr_case_close(c);
    return rc;
}

static int64_t query_int(const char *db, const char *sql)
{
    sqlite3 *h;
    int64_t v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return v;
}

static bool integrity_ok(const char *db)
{
    sqlite3 *h;
    bool ok = false;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
            ok = sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return ok;
}

static const char *db_path(const char *name)
{
    static char p[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", test_tmpdir(), name);
    return p[k];
}

/* The identity of every finding, sorted, as one string: what must be the
 * same in two cases of the same evidence. */
static char *finding_set(const char *db)
{
    sqlite3 *h;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h,
                               "SELECT r.rule_id, coalesce(e.path,''), f.record, f.byte_offset, f.ident, f.time "
                               "FROM findings f JOIN rules r ON r.id = f.rule LEFT JOIN evidence e ON e.id = f.evidence "
                               "ORDER BY 1, 2, 3, 4, 5",
                               -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW)
                fprintf(m, "%s|%s|%lld|%lld|%s|%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                        (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
                        sqlite3_column_text(st, 4), sqlite3_column_text(st, 5));
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    fclose(m);
    return out;
}

/* ---------------------------------------------------------------- schema */

static void case_schema(void)
{
    const char *db = db_path("schema.db");
    tr_case *c;
    char err[512];
    CHECK_INT(tr_case_open(&c, db, 0, err, sizeof err), TR_ERR_NOTFOUND); /* not created unless asked */
    CHECK_CONTAINS(err, "no such case");
    CHECK_INT(tr_case_open(&c, db, 1, err, sizeof err), TR_OK);
    tr_case_close(c);
    CHECK_INT(query_int(db, "SELECT value FROM meta WHERE key='schema_version'"), TR_CASE_SCHEMA_VERSION);
    static const char *const tables[] = {"meta", "runs", "evidence", "hosts", "host_evidence", "rules", "findings"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'", tables[i]);
        CHECK_INT(query_int(db, sql), 1);
    }
    CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='view' AND name IN ('timeline','sightings')"), 2);
    sqlite3 *jh;
    CHECK_INT(sqlite3_open_v2(db, &jh, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *js;
    CHECK_INT(sqlite3_prepare_v2(jh, "PRAGMA journal_mode", -1, &js, NULL), SQLITE_OK);
    CHECK(sqlite3_step(js) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(js, 0), "wal") == 0);
    sqlite3_finalize(js);
    sqlite3_close(jh);
    CHECK(integrity_ok(db));
    /* opened again: the same case */
    CHECK_INT(tr_case_open(&c, db, 1, err, sizeof err), TR_OK);
    tr_case_close(c);
    /* an SQLite database that is not a case, a newer schema, not a database */
    const char *other = db_path("other.db");
    sqlite3 *h;
    CHECK_INT(sqlite3_open(other, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    CHECK_INT(tr_case_open(&c, other, 1, err, sizeof err), TR_ERR_FORMAT);
    CHECK_CONTAINS(err, "not a traccia case");
    /* a case of version 1 (no problems table) is brought to 2 when opened */
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "DROP TABLE problems; UPDATE meta SET value='1' WHERE key='schema_version'", NULL,
                           NULL, NULL),
              SQLITE_OK);
    sqlite3_close(h);
    CHECK_INT(tr_case_open(&c, db, 0, err, sizeof err), TR_OK);
    tr_case_close(c);
    CHECK_INT(query_int(db, "SELECT value FROM meta WHERE key='schema_version'"), 2);
    CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name='problems'"), 1);
    CHECK(integrity_ok(db));
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "UPDATE meta SET value='99' WHERE key='schema_version'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    CHECK_INT(tr_case_open(&c, db, 1, err, sizeof err), TR_ERR_FORMAT);
    CHECK_CONTAINS(err, "newer");
    const char *junk = write_text("junk.db", "this is not a database, just text that is long enough to be a header....");
    CHECK(tr_case_open(&c, junk, 1, err, sizeof err) != TR_OK);
    CHECK(err[0] != '\0');
}

/* ---------------------------------------------------------------- incremental */

static void rehunt_adds_nothing(void)
{
    tr_ruleset *rs = rules_with(NULL);
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *db = db_path("rehunt.db");
    tr_hunt_result r1, r2, r3;
    CHECK_INT(hunt_into(db, rs, EXAMPLE, 2, 0, &r1, NULL), TR_OK);
    CHECK_INT(r1.case_new_findings, 33);
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings"), 33);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence"), 28);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE status='read'"), 27);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE status='skipped'"), 1); /* the README */
    CHECK_INT(query_int(db, "SELECT sum(records) FROM evidence"), 3600);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE sha256 IS NULL OR length(sha256) <> 64"), 0);
    CHECK_INT(query_int(db, "SELECT count(*) FROM hosts"), 7);
    CHECK_INT(query_int(db, "SELECT count(*) FROM runs WHERE status='complete'"), 1);
    /* the same evidence again: nothing read, nothing added */
    CHECK_INT(hunt_into(db, rs, EXAMPLE, 2, 0, &r2, NULL), TR_OK);
    CHECK_INT(r2.case_unchanged, 28);
    CHECK_INT(r2.scan.files_read, 0);
    CHECK_INT(r2.case_new_findings, 0);
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings"), 33);
    /* --full: everything read again, still nothing added twice */
    CHECK_INT(hunt_into(db, rs, EXAMPLE, 1, 1, &r3, NULL), TR_OK);
    CHECK_INT(r3.case_new_findings, 0);
    CHECK_INT(r3.case_known_findings, 33);
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings"), 33);
    CHECK_INT(query_int(db, "SELECT count(*) FROM runs"), 3);
    CHECK_INT(query_int(db, "SELECT sum(records) FROM evidence"), 3600);
    CHECK_INT(query_int(db, "SELECT sum(events) FROM host_evidence"), 3600);
    CHECK(integrity_ok(db));
    tr_hunt_result_free(&r1);
    tr_hunt_result_free(&r2);
    tr_hunt_result_free(&r3);
    tr_ruleset_destroy(rs);
}

#define W3C_HEADER                                                                                      \
    "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n" \
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "        \
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n"
#define W3C_QUIET "2021-03-03 01:00:0%d 10.0.1.21 GET /owa/ - 443 - 10.0.2.21 Mozilla/5.0 - 200 0 0 3\r\n"
#define W3C_SHELL "2021-03-03 02:00:0%d 10.0.1.21 POST /owa/auth/x.aspx - 443 - 104.248.49.97 ExchangeServicesClient/0.0.0.0 - 200 0 0 3\r\n"

/* A rule on the web log, for the growing-file tests. */
static const char grow_rule[] = "title: Script under owa/auth requested\n"
                                "id: 22222222-2222-2222-2222-222222222222\n"
                                "level: high\n"
                                "logsource:\n    category: webserver\n"
                                "detection:\n    s:\n        cs-uri-stem|endswith: '.aspx'\n"
                                "        cs-uri-stem|contains: '/owa/auth/'\n    condition: s\n";

static void grown_log_adds_only_new(void)
{
    tr_ruleset *rs = rules_with(grow_rule);
    CHECK(rs != NULL);
    if (!rs)
        return;
    char text[8192];
    int n = snprintf(text, sizeof text, "%s", W3C_HEADER);
    for (int i = 0; i < 3; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, W3C_QUIET, i);
    n += snprintf(text + n, sizeof text - (size_t)n, W3C_SHELL, 1);
    const char *log = write_file("web/EXCH05/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log", text, (size_t)n);
    const char *db = db_path("grow.db");
    tr_hunt_result r1, r2, r3;
    CHECK_INT(hunt_into(db, rs, log, 1, 0, &r1, NULL), TR_OK);
    uint64_t first = r1.case_new_findings;
    CHECK(first >= 1);
    CHECK_INT(query_int(db, "SELECT records FROM evidence"), 4);
    /* the log grows: two quiet lines and two more requests of the shell */
    int m = n;
    for (int i = 3; i < 5; i++)
        m += snprintf(text + m, sizeof text - (size_t)m, W3C_QUIET, i);
    m += snprintf(text + m, sizeof text - (size_t)m, W3C_SHELL, 2);
    m += snprintf(text + m, sizeof text - (size_t)m, W3C_SHELL, 3);
    FILE *f = fopen(log, "w");
    fwrite(text, 1, (size_t)m, f);
    fclose(f);
    struct stat sb;
    stat(log, &sb);
    CHECK_INT(hunt_into(db, rs, log, 1, 0, &r2, NULL), TR_OK);
    CHECK_INT(r2.case_resumed, 1);
    CHECK_INT(r2.scan.events, 8);  /* the reader still reads the whole file (its header says the fields) */
    CHECK_INT(r2.case_known_findings, 0); /* the old request was not even hunted again */
    CHECK_INT(r2.case_new_findings, 2 * first);
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings"), 3 * first);
    CHECK_INT(query_int(db, "SELECT records FROM evidence"), 8);
    CHECK_INT(query_int(db, "SELECT read_to FROM evidence"), (long long)sb.st_size);
    /* a log rewritten, not grown (its start changed): read in full, no duplicate */
    text[n - 5] = '4'; /* a byte of the first part */
    f = fopen(log, "w");
    fwrite(text, 1, (size_t)m, f);
    fprintf(f, W3C_QUIET, 9);
    fclose(f);
    CHECK_INT(hunt_into(db, rs, log, 1, 0, &r3, NULL), TR_OK);
    CHECK_INT(r3.case_resumed, 0);
    CHECK_INT(r3.case_known_findings + r3.case_new_findings, 3 * first);
    CHECK_INT(query_int(db, "SELECT records FROM evidence"), 9);
    tr_hunt_result_free(&r1);
    tr_hunt_result_free(&r2);
    tr_hunt_result_free(&r3);
    tr_ruleset_destroy(rs);
}

static void changed_rules_rehunt_and_say_so(void)
{
    tr_ruleset *rs = rules_with(NULL);
    static const char more[] = "title: Any Sysmon event on EXCH02\nid: 33333333-3333-3333-3333-333333333333\n"
                               "level: low\nlogsource:\n    product: windows\n    service: sysmon\n"
                               "detection:\n    s:\n        Computer: EXCH02.corp.local\n        EventID: 1\n"
                               "    condition: s\n";
    tr_ruleset *rs2 = rules_with(more);
    CHECK(rs && rs2);
    if (!rs || !rs2) {
        tr_ruleset_destroy(rs);
        tr_ruleset_destroy(rs2);
        return;
    }
    char d1[65], d2[65];
    tr_ruleset_digest(rs, d1);
    tr_ruleset_digest(rs2, d2);
    CHECK(strcmp(d1, d2) != 0);
    const char *db = db_path("rules.db");
    tr_hunt_result r1, r2;
    diag_log log = {0};
    CHECK_INT(hunt_into(db, rs, EXAMPLE, 2, 0, &r1, NULL), TR_OK);
    CHECK_INT(hunt_into(db, rs2, EXAMPLE, 2, 0, &r2, &log), TR_OK);
    CHECK(r2.ruleset_changed);
    CHECK_CONTAINS(log.text, "hunted again");
    CHECK_INT(r2.case_rehunted, 28);
    CHECK_INT(r2.case_known_findings, 33);
    CHECK(r2.case_new_findings > 0);
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings f JOIN rules r ON r.id=f.rule WHERE "
                            "r.rule_id='33333333-3333-3333-3333-333333333333'"),
              (long long)r2.case_new_findings);
    CHECK_INT(query_int(db, "SELECT count(DISTINCT ruleset_digest) FROM runs"), 2);
    tr_hunt_result_free(&r1);
    tr_hunt_result_free(&r2);
    tr_ruleset_destroy(rs);
    tr_ruleset_destroy(rs2);
}

/* A file of more hosts than the evidence detector keeps rows for: every
 * event counted, the overflow under no host, never dropped. */
static void many_hosts_counted(void)
{
    char *text = malloc(300 * 64);
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(text + n, "{\"Computer\":\"WS%03d.corp.local\",\"Channel\":\"Security\"}\n", i);
    const char *path = write_file("many.jsonl", text, n);
    free(text);
    tr_ruleset *rs = rules_with(NULL);
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *db = db_path("many.db");
    tr_hunt_result r;
    CHECK_INT(hunt_into(db, rs, path, 1, 0, &r, NULL), TR_OK);
    tr_hunt_result_free(&r);
    CHECK_INT(query_int(db, "SELECT sum(events) FROM host_evidence"), 300);
    CHECK_INT(query_int(db, "SELECT count(*) FROM hosts"), 256); /* 255 hosts and (unknown) */
    CHECK_INT(query_int(db, "SELECT events FROM host_evidence x JOIN hosts h ON h.id = x.host "
                            "WHERE h.key = '(unknown)' AND x.channel = '(other)'"),
              300 - 255);
    CHECK_INT(query_int(db, "SELECT records FROM evidence"), 300);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- killed */

/* A folder of many copies of the example: a hunt long enough to kill. */
static const char *big_evidence(void)
{
    static char dir[700];
    snprintf(dir, sizeof dir, "%s/big", test_tmpdir());
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && for i in $(seq 1 48); do mkdir -p %s/c$i && cp -r %s/evtx %s/*.jsonl %s/c$i/; done",
             dir, dir, EXAMPLE, EXAMPLE, dir);
    return system(cmd) == 0 ? dir : NULL;
}

static void killed_hunt_is_completed(void)
{
    const char *ev = big_evidence();
    CHECK(ev != NULL);
    if (!ev)
        return;
    const char *db = db_path("killed.db"), *ref = db_path("reference.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s hunt -q -j 2 --case %s %s >/dev/null 2>&1", test_bin(), ref, ev);
    CHECK_INT(system(cmd), 0);
    int64_t want = query_int(ref, "SELECT count(*) FROM findings");
    CHECK_INT(want, 48 * 33);
    /* kill -9 at three moments, each time into the same case */
    int killed = 0, partial_seen = 0;
    /* three times: start a hunt into the same case and kill -9 it as soon
     * as it has committed findings beyond what the case held (so, in the
     * middle of writing), whatever the machine's speed */
    for (size_t k = 0; k < 3; k++) {
        int64_t before = access(db, F_OK) == 0 ? query_int(db, "SELECT count(*) FROM findings") : 0;
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
            execl(test_bin(), "traccia", "hunt", "-q", "-j", "2", "--case", db, ev, (char *)NULL);
            _exit(127);
        }
        int st = 0;
        bool exited = false;
        for (long waited = 0; waited < 120000; waited += 2) {
            if (waitpid(pid, &st, WNOHANG) == pid) {
                exited = true;
                break;
            }
            if (access(db, F_OK) == 0 && query_int(db, "SELECT count(*) FROM findings") > before)
                break;
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (!exited) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
        killed += WIFSIGNALED(st);
        CHECK(integrity_ok(db)); /* consistent whenever it stopped */
        int64_t got = query_int(db, "SELECT count(*) FROM findings");
        partial_seen += got > 0 && got < want; /* killed in the middle of writing */
    }
    CHECK(killed >= 1);
    CHECK(partial_seen >= 1);
    int64_t partial = query_int(db, "SELECT count(*) FROM findings");
    CHECK(partial <= want);
    /* the next hunt completes it: no loss, no duplicate */
    snprintf(cmd, sizeof cmd, "%s hunt -q -j 2 --case %s %s >/dev/null 2>&1", test_bin(), db, ev);
    CHECK_INT(system(cmd), 0);
    CHECK(integrity_ok(db));
    CHECK_INT(query_int(db, "SELECT count(*) FROM findings"), want);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE status='reading'"), 0);
    char *a = finding_set(db), *b = finding_set(ref);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    if (killed)
        CHECK(query_int(db, "SELECT count(*) FROM runs WHERE status='interrupted'") >= 1);
}

/* ---------------------------------------------------------------- faults */

static const char *small_evidence(void)
{
    static char dir[700];
    snprintf(dir, sizeof dir, "%s/small", test_tmpdir());
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/evtx/EXCH01-powershell.evtx %s/evtx/EXCH01-msexchange-management.evtx %s/",
             dir, EXAMPLE, EXAMPLE, dir);
    return system(cmd) == 0 ? dir : NULL;
}

/* What the fault tests share: the rules, the small evidence, and the set
 * of findings a hunt that never failed puts in a case (caller frees). */
static char *fault_reference(tr_ruleset **rs, const char **ev, const char *name)
{
    *ev = small_evidence();
    *rs = rules_with(NULL);
    CHECK(*ev && *rs);
    if (!*ev || !*rs) {
        tr_ruleset_destroy(*rs);
        *rs = NULL;
        return NULL;
    }
    const char *ref = db_path(name);
    tr_hunt_result r;
    CHECK_INT(hunt_into(ref, *rs, *ev, 1, 0, &r, NULL), TR_OK);
    tr_hunt_result_free(&r);
    CHECK(query_int(ref, "SELECT count(*) FROM findings") >= 4);
    return finding_set(ref);
}

/* Every allocation of the store (SQLite's and the sink's) fails once, in
 * turn: the hunt says so, the database stays valid, and the next hunt
 * completes it to exactly the findings of a hunt that never failed. */
static void store_allocation_failures(void)
{
    tr_ruleset *rs;
    const char *ev;
    char *want_set = fault_reference(&rs, &ev, "alloc-ref.db");
    if (!rs)
        return;
    tr_hunt_result r;
    long failures = 0, runs = 0, n;
    for (n = 1; n < 1000000; n += n < 200 ? 1 : n / 40) {
        char name[64];
        snprintf(name, sizeof name, "alloc-%ld.db", n);
        const char *db = db_path(name);
        diag_log log = {0};
        tr_case_fail_allocs_after(n);
        tr_status rc = hunt_into(db, rs, ev, 1, 0, &r, &log);
        long used = tr_case_allocs_made();
        tr_case_fail_allocs_after(0);
        runs++;
        bool failed = rc != TR_OK || r.case_failed;
        failures += failed;
        CHECK(rc == TR_OK || rc == TR_ERR_NOMEM || rc == TR_ERR_IO);
        if (failed && rc == TR_OK)
            CHECK(strstr(log.text, "case") != NULL); /* said, with the store's reason */
        tr_hunt_result_free(&r);
        if (access(db, F_OK) == 0) {
            CHECK(integrity_ok(db));
            tr_hunt_result r2;
            tr_status rc2 = hunt_into(db, rs, ev, 1, 0, &r2, NULL);
            if (rc2 == TR_OK) {
                char *got = finding_set(db);
                CHECK(got && want_set && strcmp(got, want_set) == 0);
                free(got);
            } else {
                /* a case whose creation failed half-way is refused, and empty */
                CHECK(query_int(db, "SELECT count(*) FROM findings") <= 0);
            }
            tr_hunt_result_free(&r2);
        }
        unlink(db);
        if (used < n)
            break; /* the hunt made fewer allocations: every one has failed once */
    }
    CHECK(n < 1000000);
    CHECK(failures > 50);
    free(want_set);
    tr_ruleset_destroy(rs);
}

static void store_write_failures(void)
{
    tr_ruleset *rs;
    const char *ev;
    char *want_set = fault_reference(&rs, &ev, "io-ref.db");
    if (!rs)
        return;
    tr_hunt_result r;
    long failures = 0;
    for (long n = 1; n < 400; n++) {
        char name[64];
        snprintf(name, sizeof name, "io-%ld.db", n);
        const char *db = db_path(name);
        /* the case exists; its writes during the hunt fail from the n-th on */
        tr_case *c;
        char err[256];
        CHECK_INT(tr_case_open(&c, db, 1, err, sizeof err), TR_OK);
        tr_case_close(c);
        diag_log log = {0};
        tr_case_fail_writes_after(n);
        tr_status rc = hunt_into(db, rs, ev, 1, 0, &r, &log);
        tr_case_fail_writes_after(0);
        bool failed = rc != TR_OK || r.case_failed;
        tr_hunt_result_free(&r);
        if (!failed) {
            unlink(db);
            break; /* the hunt needs fewer writes */
        }
        failures++;
        CHECK(log.len > 0 || rc != TR_OK); /* said, not silent */
        if (log.len)
            CHECK_CONTAINS(log.text, "case");
        CHECK(integrity_ok(db));
        tr_hunt_result r2;
        CHECK_INT(hunt_into(db, rs, ev, 1, 0, &r2, NULL), TR_OK);
        CHECK(!r2.case_failed);
        tr_hunt_result_free(&r2);
        char *got = finding_set(db);
        CHECK(got && want_set && strcmp(got, want_set) == 0);
        free(got);
        unlink(db);
    }
    CHECK(failures >= 3);
    free(want_set);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- hashed ahead */

static void evidence_hashed_ahead(void)
{
    const char *paths[] = {EXAMPLE "/evtx"};
    tr_prehash *p;
    CHECK_INT(tr_prehash_start(&p, paths, 1, 0), TR_OK);
    const char *file = EXAMPLE "/evtx/EXCH01-security.evtx";
    struct stat sb;
    CHECK_INT(stat(file, &sb), 0);
    char hex[65];
    uint64_t n = 0;
    /* a wrong size or mtime: not this file as it was hashed (asked before it
     * may have been reached: then it is the caller's to hash) */
    int got = tr_prehash_take(p, file, (uint64_t)sb.st_size, (int64_t)sb.st_mtime, 1, hex, &n);
    if (got) {
        CHECK(strcmp(hex, "f302bbd4bd0945ae499ffd97865e935a368eb437f2dec9b36c3b92af8dfddbd0") == 0);
        CHECK_INT(n, 462848);
    }
    CHECK(!tr_prehash_take(p, EXAMPLE "/evtx/EXCH01-system.evtx", 1, 0, 1, hex, &n));
    CHECK(!tr_prehash_take(p, "no/such/file", 1, 0, 1, hex, &n));
    tr_prehash_stop(p);
    /* stopped in the middle of a large file, it does not finish it first */
    char big[700];
    snprintf(big, sizeof big, "%s/big-sparse.bin", test_tmpdir());
    FILE *bf = fopen(big, "w");
    CHECK(bf && ftruncate(fileno(bf), 4ll << 30) == 0); /* 4 GiB of holes: seconds to hash */
    if (bf)
        fclose(bf);
    const char *bigp[] = {big};
    CHECK_INT(tr_prehash_start(&p, bigp, 1, 0), TR_OK);
    struct timespec w = {0, 100 * 1000000L}, t0, t1;
    nanosleep(&w, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tr_prehash_stop(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took < 0.5);
    unlink(big);
    /* through a hunt: the digests in the case are the files' */
    tr_ruleset *rs = rules_with(NULL);
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *db = db_path("ahead.db");
    tr_case *c;
    char err[256];
    CHECK_INT(tr_case_open(&c, db, 1, err, sizeof err), TR_OK);
    CHECK_INT(tr_prehash_start(&p, paths, 1, 0), TR_OK);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL); /* let it get ahead, as it does while rules compile */
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    o.rules = rs;
    o.case_store = c;
    o.prehash = p;
    o.filter.from = o.filter.to = TR_TIME_NONE;
    tr_hunt_result r;
    CHECK_INT(tr_hunt_run(&o, paths, 1, &r), TR_OK);
    tr_prehash_stop(p);
    tr_case_close(c);
    tr_hunt_result_free(&r);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE sha256 = "
                            "'f302bbd4bd0945ae499ffd97865e935a368eb437f2dec9b36c3b92af8dfddbd0' AND hashed = 462848"), 1);
    CHECK_INT(query_int(db, "SELECT count(*) FROM evidence WHERE length(sha256) = 64"), 5);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- questions */

static char *answer(tr_status (*fn)(tr_case *, const tr_case_query *, int, FILE *), tr_case *c,
                    const tr_case_query *q, int as, tr_status *rc)
{
    char *data = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&data, &len);
    *rc = fn(c, q, as, m);
    fclose(m);
    return data;
}

static void case_questions(void)
{
    tr_ruleset *rs = rules_with(NULL);
    CHECK(rs != NULL);
    if (!rs)
        return;
    const char *db = db_path("questions.db");
    tr_hunt_result r;
    CHECK_INT(hunt_into(db, rs, EXAMPLE, 2, 0, &r, NULL), TR_OK);
    tr_hunt_result_free(&r);
    tr_case *c;
    char err[256];
    CHECK_INT(tr_case_open(&c, db, 0, err, sizeof err), TR_OK);
    /* hosts: EXCH01's first trace is the README's first intruder trace */
    tr_case_query q = {.from = TR_TIME_NONE, .to = TR_TIME_NONE};
    tr_case_host *hosts;
    size_t n;
    CHECK_INT(tr_case_hosts(c, &q, &hosts, &n), TR_OK);
    CHECK_INT(n, 7);
    if (n == 7) {
        char t[TR_TIME_BUFSIZE];
        tr_time_format(hosts[0].first_trace, t);
        CHECK(strcmp(hosts[0].key, "EXCH01") == 0 && strcmp(hosts[0].name, "EXCH01.corp.local") == 0);
        CHECK(strcmp(t, "2019-04-17T03:12:44.2710000Z") == 0);
        CHECK_INT(hosts[0].first_record, 790643);
        CHECK(strstr(hosts[0].first_path, "evtx/EXCH01-security.evtx") != NULL);
        tr_time_format(hosts[0].last_activity, t);
        CHECK(strcmp(t, "2021-03-06T02:05:17.6530000Z") == 0); /* 7z.exe, trace 19 */
        CHECK_INT(hosts[0].findings, 33);
        CHECK_INT(hosts[0].per_level[TR_LEVEL_CRITICAL], 16);
        CHECK(hosts[0].dwell_seconds > 688 * 86400 && hosts[0].dwell_seconds < 689 * 86400);
        for (size_t i = 1; i < n; i++)
            CHECK(hosts[i].first_trace == TR_TIME_NONE && hosts[i].findings == 0);
    }
    tr_case_hosts_free(hosts, n);
    /* an isolated low finding is no trace; corroborated, with --trace-level low, it is */
    tr_status rc;
    char *j = answer(tr_case_write_hosts, c, &q, TR_CASE_JSON, &rc);
    CHECK_INT(rc, TR_OK);
    CHECK_CONTAINS(j, "\"key\":\"EXCH01\",\"name\":\"EXCH01.corp.local\",\"first_trace\":{\"time\":"
                      "\"2019-04-17T03:12:44.2710000Z\",\"finding\":");
    CHECK_CONTAINS(j, "\"record\":790643}");
    CHECK_CONTAINS(j, "\"key\":\"DC01\",\"name\":\"DC01.corp.local\",\"first_trace\":null");
    free(j);
    j = answer(tr_case_write_summary, c, &q, TR_CASE_JSON, &rc);
    CHECK_INT(rc, TR_OK);
    CHECK_CONTAINS(j, "\"hosts\":7,\"hosts_touched\":1,\"hosts_traced\":1");
    CHECK_CONTAINS(j, "\"findings\":33,\"by_level\":{\"critical\":16,\"high\":13,\"medium\":4,\"low\":0");
    CHECK_CONTAINS(j, "\"evidence\":{\"files\":28,");
    free(j);
    /* timeline: merged, chronological, filtered */
    q.min_level = TR_LEVEL_CRITICAL;
    q.host = "exch01.CORP.local";
    j = answer(tr_case_write_timeline, c, &q, TR_CASE_JSONL, &rc);
    CHECK_INT(rc, TR_OK);
    size_t lines = 0;
    const char *prev = "";
    for (char *p = j; p && *p; p = strchr(p, '\n') + 1) {
        lines++;
        char *tm = strstr(p, "\"time\":\"");
        CHECK(tm != NULL);
        if (tm) {
            CHECK(strncmp(prev, tm + 8, 28) <= 0);
            prev = tm + 8;
        }
        if (!strchr(p, '\n'))
            break;
    }
    CHECK_INT(lines, 16);
    free(j);
    q.min_level = 0;
    q.host = NULL;
    CHECK_INT(tr_time_parse("2021-03-05", 10, &q.from), TR_OK);
    CHECK_INT(tr_time_parse("2021-03-05T23:59:59Z", 20, &q.to), TR_OK);
    j = answer(tr_case_write_timeline, c, &q, TR_CASE_CSV, &rc);
    CHECK_INT(rc, TR_OK);
    lines = 0;
    for (char *p = j; p && *p; p++)
        lines += *p == '\n';
    /* the header, then 5 March's findings (counted by their text time) */
    CHECK_INT(lines, 1 + query_int(db, "SELECT count(*) FROM findings WHERE time LIKE '2021-03-05T%'"));
    CHECK(lines > 10);
    CHECK(j && strncmp(j, "time,level,host,", 16) == 0);
    free(j);
    q.host = "NOSUCHHOST";
    q.from = q.to = TR_TIME_NONE;
    j = answer(tr_case_write_timeline, c, &q, TR_CASE_TEXT, &rc);
    CHECK_CONTAINS(j, "0 finding(s)");
    free(j);
    /* evidence: hashes as sha256sum computes them */
    q.host = NULL;
    j = answer(tr_case_write_evidence, c, &q, TR_CASE_JSON, &rc);
    CHECK_INT(rc, TR_OK);
    CHECK_CONTAINS(j, "EXCH01-security.evtx\",\"size\":462848,");
    CHECK_CONTAINS(j, "\"sha256\":\"f302bbd4bd0945ae499ffd97865e935a368eb437f2dec9b36c3b92af8dfddbd0\"");
    CHECK_CONTAINS(j, "README.md\",\"size\":");
    CHECK_CONTAINS(j, "\"status\":\"skipped\",\"why\":");
    free(j);
    tr_case_close(c);
    tr_ruleset_destroy(rs);
}

/* The command: `traccia case` end to end. */
static void case_command(void)
{
    const char *db = db_path("cli.db");
    char cmd[8192], out[700];
    snprintf(out, sizeof out, "%s/cli.out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s hunt -q --case %s %s >%s 2>&1", test_bin(), db, EXAMPLE, out);
    CHECK_INT(system(cmd), 0);
    size_t len;
    char *o = read_all(out, &len);
    CHECK_CONTAINS(o, "hunt #1: 33 new finding(s), 0 already in the case");
    free(o);
    snprintf(cmd, sizeof cmd, "%s hunt -q --case %s %s >%s 2>&1", test_bin(), db, EXAMPLE, out);
    CHECK_INT(system(cmd), 0); /* nothing new to read is not "no input" */
    o = read_all(out, &len);
    CHECK_CONTAINS(o, "28 file(s) unchanged since the case read them");
    free(o);
    snprintf(cmd, sizeof cmd, "%s case hosts %s >%s 2>&1", test_bin(), db, out);
    CHECK_INT(system(cmd), 0);
    o = read_all(out, &len);
    CHECK_CONTAINS(o, "EXCH01.corp.local (EXCH01)\n  first trace:    2019-04-17T03:12:44.2710000Z  finding #");
    CHECK_CONTAINS(o, "evtx/EXCH01-security.evtx record 790643\n");
    CHECK_CONTAINS(o, "dwell time:     688 days 22:52:33");
    free(o);
    snprintf(cmd, sizeof cmd, "%s case summary --json %s >%s 2>&1", test_bin(), db, out);
    CHECK_INT(system(cmd), 0);
    o = read_all(out, &len);
    CHECK_CONTAINS(o, "\"runs\":2,");
    free(o);
    snprintf(cmd, sizeof cmd, "%s case timeline --host EXCH01 --min-level critical %s >%s 2>&1", test_bin(), db, out);
    CHECK_INT(system(cmd), 0);
    o = read_all(out, &len);
    CHECK_CONTAINS(o, "16 finding(s)");
    free(o);
    snprintf(cmd, sizeof cmd, "%s case evidence --csv %s | grep -c ',\"read\",' >%s", test_bin(), db, out);
    CHECK_INT(system(cmd), 0);
    o = read_all(out, &len);
    CHECK(o && atoi(o) == 27);
    free(o);
    /* a case kept among the evidence is not evidence */
    {
        char abs_bin[700], dir[700];
        if (!realpath(test_bin(), abs_bin))
            snprintf(abs_bin, sizeof abs_bin, "%s", test_bin());
        snprintf(dir, sizeof dir, "%s/ev", test_tmpdir());
        snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/evtx/EXCH01-system.evtx %s/ && cd %s && %s hunt -q --case here.db . "
                                  ">/dev/null 2>&1 && %s hunt -q --case here.db . >%s 2>&1",
                 dir, EXAMPLE, dir, dir, abs_bin, abs_bin, out);
        CHECK_INT(system(cmd), 0);
        char here[800];
        snprintf(here, sizeof here, "%s/here.db", dir);
        CHECK_INT(query_int(here, "SELECT count(*) FROM evidence"), 1); /* the .evtx only */
        o = read_all(out, &len);
        CHECK_CONTAINS(o, "1 file(s) unchanged");
        free(o);
    }
    /* usage and unreadable cases */
    snprintf(cmd, sizeof cmd, "%s case hosts %s/nosuch.db >/dev/null 2>&1", test_bin(), test_tmpdir());
    int st = system(cmd);
    CHECK_INT(WEXITSTATUS(st), 2);
    snprintf(cmd, sizeof cmd, "%s case frobnicate %s >/dev/null 2>&1", test_bin(), db);
    st = system(cmd);
    CHECK_INT(WEXITSTATUS(st), 1);
    snprintf(cmd, sizeof cmd, "%s case hosts --csv %s >/dev/null 2>&1", test_bin(), db);
    st = system(cmd);
    CHECK_INT(WEXITSTATUS(st), 1);
    snprintf(cmd, sizeof cmd, "%s hunt --full %s >/dev/null 2>&1", test_bin(), EXAMPLE);
    st = system(cmd);
    CHECK_INT(WEXITSTATUS(st), 1);
}

/* ---------------------------------------------------------------- outputs unchanged */

static bool same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = read_all(a, &la), *y = read_all(b, &lb);
    bool same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void outputs_same_threads_and_case(void)
{
    const char *shared = shared_dir();
    char input[800], rules[800] = "";
    if (shared) {
        snprintf(input, sizeof input, "%s/evtx", shared);
        snprintf(rules, sizeof rules, "-r %s/sigma/rules", shared);
    } else {
        snprintf(input, sizeof input, "%s", EXAMPLE);
    }
    const char *d = test_tmpdir();
    char cmd[8192], ref_j[700], ref_c[700];
    snprintf(ref_j, sizeof ref_j, "%s/ref.jsonl", d);
    snprintf(ref_c, sizeof ref_c, "%s/ref.csv", d);
    snprintf(cmd, sizeof cmd, "%s hunt -q -j 1 %s --jsonl %s --csv %s %s >/dev/null 2>&1", test_bin(), rules, ref_j, ref_c,
             input);
    CHECK_INT(system(cmd), 0);
    size_t len;
    char *j = read_all(ref_j, &len);
    CHECK(j && len > 1000);
    free(j);
    static const struct {
        int threads;
        bool with_case;
    } runs[] = {{2, false}, {4, false}, {1, true}, {2, true}, {4, true}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char jp[700], cp[700], db[700], extra[800] = "";
        snprintf(jp, sizeof jp, "%s/run%zu.jsonl", d, i);
        snprintf(cp, sizeof cp, "%s/run%zu.csv", d, i);
        snprintf(db, sizeof db, "%s/run%zu.db", d, i);
        if (runs[i].with_case)
            snprintf(extra, sizeof extra, "--case %s", db);
        snprintf(cmd, sizeof cmd, "%s hunt -q -j %d %s %s --jsonl %s --csv %s %s >/dev/null 2>&1", test_bin(),
                 runs[i].threads, rules, extra, jp, cp, input);
        CHECK_INT(system(cmd), 0);
        CHECK(same_file(ref_j, jp));
        CHECK(same_file(ref_c, cp));
    }
    /* the case is the same whatever the thread count */
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/run2.db", d);
    snprintf(b, sizeof b, "%s/run4.db", d);
    char *x = finding_set(a), *y = finding_set(b);
    CHECK(x && y && strcmp(x, y) == 0);
    free(x);
    free(y);
    if (!shared)
        tr_test_skip("../shared is absent: compared on examples/ only");
}

void suite_case(void)
{
    RUN(case_schema);
    RUN(rehunt_adds_nothing);
    RUN(grown_log_adds_only_new);
    RUN(changed_rules_rehunt_and_say_so);
    RUN(many_hosts_counted);
    RUN(killed_hunt_is_completed);
    RUN(store_allocation_failures);
    RUN(store_write_failures);
    RUN(evidence_hashed_ahead);
    RUN(case_questions);
    RUN(case_command);
    RUN(outputs_same_threads_and_case);
}
