/*
 * test_first_contact.c — what a new user sees: a hunt speaks in a few
 * counted lines (rules that will not run grouped by cause, the evidence's
 * first problems, the rest counted), -v names every item, -q only errors,
 * the summary names every damaged file up to a cap, and --run-report
 * writes the same rules and files as -v, as one JSON document, whole or not
 * at all. The full SigmaHQ ruleset over ../shared/evtx is the acceptance
 * case; crafted rules and evidence check each rule of the grouping.
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/ioc/ioc_json.h"
#include "../src/output/run_report.h"

/* ---------------------------------------------------------------- helpers */

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static void strlist_add(strlist *l, const char *s, size_t len)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        return;
    l->v = nv;
    if ((nv[l->n] = strndup(s, len)) != NULL)
        l->n++;
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void strlist_sort(strlist *l) { qsort(l->v, l->n, sizeof *l->v, by_text); }

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Both lists hold the same strings (after sorting). */
static bool strlist_same(strlist *a, strlist *b)
{
    strlist_sort(a);
    strlist_sort(b);
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

/* From -v's standard error: "PATH|line N" of every rule that will not run,
 * and the path of every file skipped. Lines read
 * "traccia: warning: PATH: line N: rule 'T' will not run: ..." and
 * "traccia: note: PATH: format not recognised, skipped". */
static void parse_verbose(const char *err, strlist *not_run, strlist *skipped)
{
    for (const char *p = err; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        char *body = strstr(line, ": ");
        body = body ? strstr(body + 2, ": ") : NULL; /* past "traccia: severity: " */
        if (body && strstr(line, " will not run: ")) {
            body += 2;
            char *at = strstr(body, ": line ");
            if (at) {
                char key[4200];
                int n = atoi(at + 7);
                snprintf(key, sizeof key, "%.*s|%d", (int)(at - body), body, n);
                strlist_add(not_run, key, strlen(key));
            }
        } else if (body && strstr(line, "format not recognised, skipped")) {
            body += 2;
            char *at = strstr(body, ": format not recognised");
            strlist_add(skipped, body, (size_t)(at - body));
        }
        p = eol ? eol + 1 : NULL;
    }
}

typedef struct report {
    json_doc doc;
    char *text;
    const json_node *root;
} report;

static bool report_load(report *r, const char *path)
{
    size_t n;
    tr_json_doc_init(&r->doc);
    r->root = NULL;
    r->text = read_all(path, &n);
    if (!r->text || tr_json_parse(&r->doc, r->text, n, 50u << 20) != TR_OK)
        return false;
    r->root = json_root(&r->doc);
    return r->root && r->root->type == J_OBJ;
}

static void report_free(report *r)
{
    tr_json_doc_free(&r->doc);
    free(r->text);
}

static const json_node *member(const report *r, const json_node *obj, const char *key)
{
    return obj ? tr_json_get(&r->doc, obj, key) : NULL;
}

static long long number(const report *r, const json_node *obj, const char *key)
{
    const json_node *v = member(r, obj, key);
    return v && v->type == J_NUM ? atoll(v->str) : -1;
}

/* The report's rules not run as "PATH|line", and its files of a status. */
static void report_lists(const report *r, strlist *not_run, strlist *files, const char *status)
{
    const json_node *rules = member(r, r->root, "rules");
    const json_node *nr = member(r, rules, "not_run");
    for (const json_node *e = json_first(&r->doc, nr); e; e = json_next(&r->doc, e)) {
        char key[4200];
        snprintf(key, sizeof key, "%s|%lld", tr_json_get_str(&r->doc, e, "path"), number(r, e, "line"));
        strlist_add(not_run, key, strlen(key));
    }
    const json_node *fl = member(r, r->root, "files");
    for (const json_node *e = json_first(&r->doc, fl); e; e = json_next(&r->doc, e)) {
        const char *st = tr_json_get_str(&r->doc, e, "status");
        if (st && strcmp(st, status) == 0)
            strlist_add(files, tr_json_get_str(&r->doc, e, "path"), strlen(tr_json_get_str(&r->doc, e, "path")));
    }
}

static size_t array_len(const report *r, const json_node *obj, const char *key)
{
    const json_node *a = member(r, obj, key);
    return a && a->type == J_ARR ? a->count : (size_t)-1;
}

/* ---------------------------------------------------------------- the full ruleset */

static void full_sigmahq_hunt_is_brief(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found (set TRACCIA_SHARED to point at it)");
        return;
    }
    /* a damaged copy of a real log next to the corpus: cut mid-chunk */
    char src[1024], args[4096];
    snprintf(src, sizeof src, "%s/evtx/EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx",
             shared);
    size_t n;
    char *data = read_all(src, &n);
    if (!data || n < 100000) {
        free(data);
        tr_test_skip("the sample log PanacheSysmon_vs_AtomicRedTeam01.evtx is not in ../shared/evtx");
        return;
    }
    const char *damaged = write_file("cut/PanacheSysmon-cut.evtx", data, 100000);
    free(data);
    const char *d = test_tmpdir();
    cli_result r, v;
    snprintf(args, sizeof args, "hunt -j2 --rules %s/sigma/rules %s/evtx %s/cut --run-report %s/run.json", shared,
             shared, d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    size_t lines = count_lines(r.err);
    if (lines > 15)
        fprintf(stderr, "    stderr has %zu lines:\n%s", lines, r.err);
    CHECK(lines <= 15);
    CHECK(lines >= 2);
    CHECK_CONTAINS(r.err, " rules need evidence traccia does not read: linux ");
    CHECK_CONTAINS(r.err, "; traccia rules check lists them");
    CHECK(strstr(r.err, " will not run: ") == NULL);
    /* the damaged file is named, on stderr and in the summary */
    CHECK_CONTAINS(r.err, "PanacheSysmon-cut.evtx: offset 0x11000: chunk truncated");
    CHECK_CONTAINS(r.out, "files damaged:    1");
    char named[1200];
    snprintf(named, sizeof named, "    %s: offset 0x11000: chunk truncated", damaged);
    CHECK(r.out && strstr(r.out, named) != NULL);

    snprintf(args, sizeof args, "hunt -j2 -v --rules %s/sigma/rules %s/evtx %s/cut", shared, shared, d);
    cli_run(&v, args);
    CHECK_INT(v.status, 3);
    strlist v_not_run = {0}, v_skipped = {0}, r_not_run = {0}, r_skipped = {0};
    parse_verbose(v.err, &v_not_run, &v_skipped);
    CHECK(v_not_run.n > 600); /* SigmaHQ's cloud, Linux, macOS... rules */
    CHECK(v_skipped.n >= 1);  /* the corpus's README and licence files */

    char rp[700];
    snprintf(rp, sizeof rp, "%s/run.json", d);
    report rep;
    CHECK(report_load(&rep, rp));
    if (rep.root) {
        report_lists(&rep, &r_not_run, &r_skipped, "skipped");
        CHECK_INT(r_not_run.n, v_not_run.n);
        CHECK(strlist_same(&v_not_run, &r_not_run));
        CHECK_INT(r_skipped.n, v_skipped.n);
        CHECK(strlist_same(&v_skipped, &r_skipped));
        CHECK_INT(number(&rep, rep.root, "exit_status"), 3);
        const json_node *rules = member(&rep, rep.root, "rules");
        CHECK_INT(number(&rep, rules, "not_run_count"), (long long)r_not_run.n);
        const json_node *totals = member(&rep, rep.root, "totals");
        CHECK_INT(number(&rep, totals, "files_damaged"), 1);
        CHECK_INT(number(&rep, totals, "files_seen"), (long long)array_len(&rep, rep.root, "files"));
        /* the summary's count of rules not run is the report's */
        char line[200];
        snprintf(line, sizeof line, ", %zu not run (traccia rules check names them)", r_not_run.n);
        CHECK_CONTAINS(r.out, line);
        strlist damaged_files = {0}, unused = {0};
        report_lists(&rep, &unused, &damaged_files, "damaged");
        CHECK_INT(damaged_files.n, 1);
        if (damaged_files.n)
            CHECK(strcmp(damaged_files.v[0], damaged) == 0);
        strlist_free(&damaged_files);
        strlist_free(&unused);
    }
    report_free(&rep);
    strlist_free(&v_not_run);
    strlist_free(&v_skipped);
    strlist_free(&r_not_run);
    strlist_free(&r_skipped);
    cli_result_free(&r);
    cli_result_free(&v);
}

/* ---------------------------------------------------------------- crafted */

static void write_rule(const char *name, const char *logsource, int k)
{
    char text[1024];
    snprintf(text, sizeof text,
             "title: Crafted %s %d\nid: 00000000-0000-4000-8000-%012d\nlogsource: {%s}\nlevel: high\n"
             "detection:\n    sel:\n        CommandLine|contains: 'x%d'\n    condition: sel\n",
             name, k, k, logsource, k);
    char file[200];
    snprintf(file, sizeof file, "fc/rules/%s-%d.yml", name, k);
    write_file(file, text, strlen(text));
}

/* 3 aws rules, 2 linux, 1 of category proxy; 8 that do not load; 12
 * damaged files of evidence and one that is not evidence. */
static void write_crafted(void)
{
    int k = 1;
    for (int i = 0; i < 3; i++)
        write_rule("aws", "product: aws, service: cloudtrail", k++);
    for (int i = 0; i < 2; i++)
        write_rule("linux", "product: linux, category: process_creation", k++);
    write_rule("proxy", "category: proxy", k++);
    for (int i = 0; i < 8; i++) {
        char file[100], text[300];
        snprintf(file, sizeof file, "fc/rules/broken-%d.yml", i);
        snprintf(text, sizeof text,
                 "title: Broken %d\nlogsource: {product: windows}\ndetection:\n    sel:\n"
                 "        Image|nosuchmodifier: x\n    condition: sel\n",
                 i);
        write_file(file, text, strlen(text));
    }
    for (int i = 0; i < 12; i++) {
        char file[100];
        snprintf(file, sizeof file, "fc/ev/c%02d.json", i);
        write_text(file, "{\"ok\":1}\n{\"Event\":{\"System\":\n{\"ok\":2}\n");
    }
    write_text("fc/ev/notes.txt", "not evidence\n");
}

static void crafted_hunt_groups_and_names(void)
{
    write_crafted();
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    snprintf(args, sizeof args, "hunt -j1 --no-builtin --rules %s/fc/rules %s/fc/ev --run-report %s/fc/run.json", d,
             d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    /* one line per cause, items by count */
    CHECK_CONTAINS(r.err, "traccia: note: 6 rules need evidence traccia does not read: aws 3, linux 2, "
                          "category proxy 1; traccia rules check lists them\n");
    /* the first three rules that did not load, then a count */
    CHECK_CONTAINS(r.err, "broken-0.yml: line 5: rule 'Broken 0' not loaded: unknown modifier 'nosuchmodifier'");
    CHECK_CONTAINS(r.err, "broken-2.yml: line 5");
    CHECK(strstr(r.err, "broken-3.yml") == NULL);
    /* past three, every one counted by reason */
    CHECK_CONTAINS(r.err, "traccia: error: 8 rules not loaded: unknown modifier: nosuchmodifier 8; traccia rules "
                          "check names each\n");
    /* the first problem of the first five files, then a count */
    CHECK_CONTAINS(r.err, "c00.json: line 4, column 1:");
    CHECK_CONTAINS(r.err, "c04.json: line 4");
    CHECK(strstr(r.err, "c05.json") == NULL);
    CHECK_CONTAINS(r.err, "traccia: warning: 7 more problems with the evidence not shown, in 7 more files and those "
                          "above; the summary names the files, -v shows each, the run report lists them\n");
    CHECK(strstr(r.err, "notes.txt") == NULL);
    CHECK_INT(count_lines(r.err), 1 + 3 + 1 + 5 + 1 + 1); /* and the exit status said */
    /* the summary: ten files named, the rest counted; a skipped file named */
    CHECK_CONTAINS(r.out, "evidence problems: 12 in 12 files (-v shows each, --run-report FILE lists them)\n");
    CHECK_CONTAINS(r.out, "c09.json: line 4, column 1:");
    CHECK(strstr(r.out, "c10.json") == NULL);
    CHECK_CONTAINS(r.out, "    ... and 2 more files\n");
    CHECK_CONTAINS(r.out, "e.g. ");
    CHECK_CONTAINS(r.out, "notes.txt");
    CHECK_CONTAINS(r.out, "rules:            6 loaded, 8 not loaded, 6 not run");

    char rp[700];
    snprintf(rp, sizeof rp, "%s/fc/run.json", d);
    report rep;
    CHECK(report_load(&rep, rp));
    if (rep.root) {
        const json_node *rules = member(&rep, rep.root, "rules");
        CHECK_INT(array_len(&rep, rules, "not_run"), 6);
        CHECK_INT(array_len(&rep, rules, "not_loaded"), 8);
        CHECK_INT(array_len(&rep, rep.root, "files"), 13);
        /* every diagnostic: 8 rules not loaded, 6 not run, 12 files of
         * evidence, the note of the skipped file */
        CHECK_INT(array_len(&rep, rep.root, "problems"), 8 + 6 + 12 + 1);
        const json_node *nr = member(&rep, rules, "not_run");
        const json_node *first = json_first(&rep.doc, nr);
        CHECK(first && strcmp(tr_json_get_str(&rep.doc, first, "cause"), "need evidence traccia does not read") == 0);
        CHECK(first && strcmp(tr_json_get_str(&rep.doc, first, "item"), "aws") == 0);
        CHECK(strcmp(tr_json_get_str(&rep.doc, rep.root, "command"), "hunt") == 0);
        const json_node *c = member(&rep, rep.root, "complete");
        CHECK(c && c->type == J_TRUE);
    }
    report_free(&rep);
    cli_result_free(&r);

    /* -q: errors only, still counted */
    snprintf(args, sizeof args, "hunt -q --no-builtin --rules %s/fc/rules %s/fc/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    CHECK(strstr(r.err, "rules need evidence") == NULL);
    CHECK(strstr(r.err, "more problems with the evidence") == NULL);
    CHECK_CONTAINS(r.err, "8 rules not loaded: unknown modifier: nosuchmodifier 8");
    CHECK_CONTAINS(r.out, "evidence problems: 12 in 12 files");
    cli_result_free(&r);

    /* -v: every item */
    snprintf(args, sizeof args, "hunt -v --no-builtin --rules %s/fc/rules %s/fc/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    CHECK_CONTAINS(r.err, "broken-7.yml: line 5");
    CHECK_CONTAINS(r.err, "c11.json: line 4, column 1:");
    CHECK_CONTAINS(r.err, "notes.txt: format not recognised, skipped");
    CHECK_CONTAINS(r.err, "rule 'Crafted proxy 6' will not run: no logsource mapping covers product=- "
                          "category=proxy service=-");
    CHECK(strstr(r.err, "rules need evidence") == NULL);
    CHECK(strstr(r.err, "more problems") == NULL);
    cli_result_free(&r);
}

static void other_commands_keep_the_discipline(void)
{
    write_crafted();
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    /* rules check names each (its job), and counts by cause */
    snprintf(args, sizeof args, "rules check --no-builtin %s/fc/rules --run-report %s/fc/rules.json", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "broken-7.yml: line 5");
    CHECK_CONTAINS(r.err, "rule 'Crafted aws 1' will not run");
    CHECK_CONTAINS(r.out, "  6 rules need evidence traccia does not read: aws 3, linux 2, category proxy 1\n");
    cli_result_free(&r);
    char rp[700];
    snprintf(rp, sizeof rp, "%s/fc/rules.json", d);
    report rep;
    CHECK(report_load(&rep, rp));
    if (rep.root) {
        CHECK_INT(number(&rep, rep.root, "exit_status"), 2);
        CHECK_INT(array_len(&rep, member(&rep, rep.root, "rules"), "not_loaded"), 8);
        CHECK_INT(array_len(&rep, rep.root, "files"), 0);
    }
    report_free(&rep);
    /* -q: counts, the first errors */
    snprintf(args, sizeof args, "rules check -q --no-builtin %s/fc/rules", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    CHECK(strstr(r.err, "will not run") == NULL);
    CHECK(strstr(r.err, "broken-7.yml") == NULL);
    CHECK_CONTAINS(r.err, "8 rules not loaded: unknown modifier: nosuchmodifier 8; traccia rules check without -q "
                          "names each");
    CHECK_CONTAINS(r.out, "rules not loaded:  8 (without -q each is named)");
    cli_result_free(&r);

    /* exchange: the same counted lines, and a report */
    snprintf(args, sizeof args, "exchange --no-builtin --rules %s/fc/rules --run-report %s/fc/x.json %s/fc/ev", d, d,
             d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    CHECK_CONTAINS(r.err, "6 rules need evidence traccia does not read");
    CHECK_CONTAINS(r.err, "7 more problems with the evidence not shown");
    CHECK_CONTAINS(r.out, "evidence problems: 12 in 12 files");
    CHECK(count_lines(r.err) <= 12);
    cli_result_free(&r);
    snprintf(rp, sizeof rp, "%s/fc/x.json", d);
    CHECK(report_load(&rep, rp));
    if (rep.root)
        CHECK_INT(array_len(&rep, rep.root, "files"), 13);
    report_free(&rep);

    /* dump: the evidence counted, the files named at the end */
    snprintf(args, sizeof args, "dump %s/fc/ev", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    CHECK_CONTAINS(r.err, "7 more problems with the evidence not shown");
    CHECK_CONTAINS(r.err, "    ... and 2 more files\n");
    cli_result_free(&r);

    /* ioc check names each rejected indicator; -q counts */
    write_text("fc/iocs.txt", "8.8.8.8\nnot an indicator at all !!\nexample.org\n");
    snprintf(args, sizeof args, "ioc check %s/fc/iocs.txt --run-report %s/fc/ioc.json", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "iocs.txt: line 2");
    cli_result_free(&r);
    snprintf(rp, sizeof rp, "%s/fc/ioc.json", d);
    CHECK(report_load(&rep, rp));
    if (rep.root) {
        const json_node *ind = member(&rep, rep.root, "indicators");
        CHECK_INT(number(&rep, ind, "loaded"), 2);
        CHECK_INT(array_len(&rep, ind, "rejected"), 1);
    }
    report_free(&rep);
}

/* A report that cannot be written is an error, and leaves nothing that
 * looks like a report; one that was written parses whole. */
static void run_report_whole_or_absent(void)
{
    write_text("ra/ev.json", "{\"a\":1}\n");
    const char *d = test_tmpdir();
    char args[2048], rp[700];
    cli_result r;
    snprintf(args, sizeof args, "hunt %s/ra/ev.json --run-report %s/ra/no/such/folder/run.json", d, d);
    cli_run(&r, args);
    CHECK(r.status != 0);
    CHECK_CONTAINS(r.err, "writing the run report failed");
    cli_result_free(&r);
    struct stat sb;
    snprintf(rp, sizeof rp, "%s/ra/no/such/folder/run.json", d);
    CHECK(stat(rp, &sb) != 0);
    /* into a folder: the rename fails; no temporary left behind */
    write_text("ra/dir/keep", "x"); /* ra/dir is a folder */
    snprintf(args, sizeof args, "hunt %s/ra/ev.json --run-report %s/ra/dir", d, d);
    cli_run(&r, args);
    CHECK(r.status != 0);
    CHECK_CONTAINS(r.err, "writing the run report failed");
    cli_result_free(&r);
    char cmd[2100];
    snprintf(cmd, sizeof cmd, "ls %s/ra | grep -q tmp", d);
    CHECK(system(cmd) != 0);
    /* to standard output, with the summary on standard error */
    snprintf(args, sizeof args, "hunt %s/ra/ev.json --run-report -", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.err, "hunt summary");
    json_doc doc;
    tr_json_doc_init(&doc);
    CHECK(r.out && tr_json_parse(&doc, r.out, strlen(r.out), 1u << 20) == TR_OK);
    tr_json_doc_free(&doc);
    cli_result_free(&r);
    snprintf(args, sizeof args, "hunt %s/ra/ev.json --run-report - --jsonl -", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 1);
    cli_result_free(&r);
}

/* The case keeps every problem, under the file, for the run that read it. */
static void case_records_every_problem(void)
{
    write_crafted();
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    snprintf(args, sizeof args, "hunt --no-builtin --rules %s/fc/rules %s/fc/ev --case %s/fc/case.db", d, d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* damaged files: incomplete */
    cli_result_free(&r);
    snprintf(args, sizeof args, "case problems %s/fc/case.db", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "c11.json: error: line 4, column 1: ");
    CHECK_CONTAINS(r.out, "notes.txt: note: format not recognised, skipped");
    CHECK_CONTAINS(r.out, "13 problem(s) with the evidence, as last read\n");
    cli_result_free(&r);
    snprintf(args, sizeof args, "case problems --jsonl %s/fc/case.db", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_INT(count_lines(r.out), 13);
    CHECK_CONTAINS(r.out, "\"severity\":\"error\",\"kind\":\"evidence\",\"where\":\"line 4, column 1\"");
    cli_result_free(&r);
}

/* Every allocation of a run report may fail: the report is then not
 * written (no file), or written whole. */
static void run_report_under_allocation_faults(void)
{
    tr_ruleset *rs = NULL;
    tr_ruleset_options ro = {.on_diag = NULL, .user = NULL};
    CHECK_INT(tr_ruleset_create(&rs, &ro), TR_OK);
    if (!rs)
        return;
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    char path[700];
    snprintf(path, sizeof path, "%s/faults.json", test_tmpdir());
    char *argv[] = {"hunt", "--run-report", path, "/evidence"};
    int written = 0, failed = 0;
    for (long n = 1; n < 10000; n++) {
        unlink(path);
        alloc_fail_start(n);
        tr_run_report *r = NULL;
        tr_status st = tr_run_report_create(&r, "hunt", 4, argv);
        if (st == TR_OK) {
            for (int k = 0; k < 40; k++) {
                tr_diag d = {TR_SEV_ERROR, "/evidence/a.evtx", "offset 0x1000", "chunk truncated: a reason long "
                             "enough that the buffers have to grow more than once along the way",
                             k % 2 ? TR_DIAG_EVIDENCE : TR_DIAG_RULE_FAILED, NULL, NULL, NULL};
                tr_run_report_diag(r, &d);
            }
            tr_hunt_file f = {.path = "/evidence/a.evtx", .size = 4096, .status = TR_HUNT_FILE_DAMAGED,
                              .why = "chunk truncated", .format = "evtx", .events = 3,
                              .first = TR_TIME_NONE, .last = TR_TIME_NONE};
            tr_run_report_file(r, &f, 20);
            tr_run_report_rules(r, rs);
            st = tr_run_report_write(r, path, 0, "the job ran on readable input");
        }
        tr_run_report_destroy(r);
        long made = alloc_fail_stop();
        struct stat sb;
        if (st == TR_OK) {
            written++;
            size_t len;
            char *text = read_all(path, &len);
            json_doc doc;
            tr_json_doc_init(&doc);
            CHECK(text && tr_json_parse(&doc, text, len, 1u << 20) == TR_OK);
            const json_node *probs = tr_json_get(&doc, json_root(&doc), "problems");
            CHECK(probs && probs->count == 40);
            tr_json_doc_free(&doc);
            free(text);
        } else {
            failed++;
            CHECK_INT(st, TR_ERR_NOMEM);
            CHECK(stat(path, &sb) != 0); /* nothing that looks like a report */
        }
        if (made < n) /* no allocation failed: every site was reached */
            break;
    }
    CHECK(written >= 1);
    CHECK(failed >= 5);
    tr_ruleset_destroy(rs);
}

void suite_first_contact(void)
{
    RUN(full_sigmahq_hunt_is_brief);
    RUN(crafted_hunt_groups_and_names);
    RUN(other_commands_keep_the_discipline);
    RUN(run_report_whole_or_absent);
    RUN(case_records_every_problem);
    RUN(run_report_under_allocation_faults);
}
