/*
 * test_limits.c — no silent miss: a rule whose regular expression hits
 * PCRE2's match limit on an event is reported (stderr, summary, run
 * report, case), the hunt exits 3, and the limit is an option; rules whose
 * regular expressions risk catastrophic backtracking are named by
 * `traccia rules check`. Each with its near misses.
 */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#include "../src/sigma/sigma.h"

static void regex_risk_shapes(void)
{
    static const char *const risky[] = {
        "^(a+)+$", "(a*)*", "(\\w+\\s?)*$", "(a{2,})*", "(x|.+)*", "((ab)+c)+", "(?:.*\\)){1,}",
    };
    static const char *const fine[] = {
        "a+b+", "(ab)+", "(a+)++", "(?>a+)+", "(a|b)+", "[(a+)]+", "\\(a+\\)+", "(a{2})*", "(a{1,3})+",
        "(a+)?", "(a+){2}", "^\\d+(\\.\\d+)?$", "",
    };
    for (size_t i = 0; i < sizeof risky / sizeof risky[0]; i++) {
        if (!tr_regex_risk(risky[i], strlen(risky[i])))
            fprintf(stderr, "    not flagged: %s\n", risky[i]);
        CHECK(tr_regex_risk(risky[i], strlen(risky[i])) != NULL);
    }
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        if (tr_regex_risk(fine[i], strlen(fine[i])))
            fprintf(stderr, "    flagged: %s\n", fine[i]);
        CHECK(tr_regex_risk(fine[i], strlen(fine[i])) == NULL);
    }
    /* unbalanced or deep input is judged without reading past its end */
    CHECK(tr_regex_risk("((((((", 6) == NULL);
    CHECK(tr_regex_risk("a{2,", 4) == NULL);
    CHECK(tr_regex_risk("[a", 2) == NULL);
    CHECK(tr_regex_risk("\\", 1) == NULL);
}

#define EV(cmd, t)                                                                                 \
    "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","   \
    "\"Computer\":\"WS1\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"" t "\"}}},"           \
    "\"EventData\":{\"Image\":\"C:\\\\x.exe\",\"CommandLine\":\"" cmd "\"}}}\n"

static void write_limit_case(void)
{
    write_text("lim/rules/bomb.yml", "title: Nested Quantifier Bomb\nid: 11111111-2222-4333-8444-555555555555\n"
                                     "level: high\nlogsource: {product: windows, category: process_creation}\n"
                                     "detection:\n    sel:\n        CommandLine|re: '^(a+)+$'\n    condition: sel\n");
    write_text("lim/rules/word.yml", "title: Word Regex\nid: 11111111-2222-4333-8444-777777777777\nlevel: low\n"
                                     "logsource: {product: windows, category: process_creation}\n"
                                     "detection:\n    sel:\n        CommandLine|re: 'b(x|xx)*z\\d'\n"
                                     "    condition: sel\n");
    write_text("lim/ev/a.jsonl", EV("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "2021-01-01T00:00:00Z")
                                     EV("aaaa", "2021-01-01T00:00:01Z")
                                         EV("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "2021-01-01T00:00:02Z")
                                             EV("bxxxxxxxxxxxxxxxxxxxxz", "2021-01-01T00:00:03Z"));
}

static void match_limit_is_reported_not_missed(void)
{
    write_limit_case();
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules %s/lim/ev --run-report %s/lim/run.json", d, d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    CHECK_CONTAINS(r.err, "a.jsonl: record 1: rule 'Nested Quantifier Bomb' was cut short on 2 event(s) from here on "
                          "by the regular expression match limit (--regex-match-limit): it may have missed them");
    CHECK_CONTAINS(r.err, "incomplete (exit status 3): rules cut short by an engine limit");
    CHECK_CONTAINS(r.out, "rules cut short:  1 rule on 2 events by an engine limit");
    CHECK_CONTAINS(r.out, "           2  Nested Quantifier Bomb\n");
    /* the event where it matched is found as ever */
    CHECK_CONTAINS(r.out, "detections:       1 (high 1)");
    CHECK(strstr(r.err, "Word Regex") == NULL); /* some backtracking, well within the limit */
    cli_result_free(&r);
    char rp[700];
    snprintf(rp, sizeof rp, "%s/lim/run.json", d);
    size_t n;
    char *rep = read_all(rp, &n);
    CHECK_CONTAINS(rep, "\"kind\":\"limit\",\"path\":");
    CHECK_CONTAINS(rep, "\"exit_status\":3");
    free(rep);

    /* the finding stream says it too, ahead of the file's findings: which
     * rule, which file, from which record */
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules %s/lim/ev --jsonl -", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    char want[1200];
    snprintf(want, sizeof want,
             "{\"incomplete\":{\"rule\":{\"id\":\"11111111-2222-4333-8444-555555555555\",\"title\":\"Nested "
             "Quantifier Bomb\",\"kind\":\"detection\"},\"path\":\"%s/lim/ev/a.jsonl\",\"where\":\"record 1\","
             "\"reason\":\"rule 'Nested Quantifier Bomb' was cut short on 2 event(s) from here on by the regular "
             "expression match limit (--regex-match-limit): it may have missed them\"}}\n",
             d);
    CHECK(r.out && strncmp(r.out, want, strlen(want)) == 0);
    CHECK_CONTAINS(r.out, want);
    CHECK_CONTAINS(r.out, "}}\n{\"time\":\"2021-01-01T00:00:01.0000000Z\",\"rule\":{\"id\":"); /* then the finding */
    cli_result_free(&r);

    /* the limit is an option: a low one cuts short a rule that the
     * default lets run to its end, and says so */
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules --regex-match-limit 1000 %s/lim/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    CHECK_CONTAINS(r.err, "rule 'Word Regex' was cut short on 1 event(s)");
    cli_result_free(&r);
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules --regex-match-limit 0 %s/lim/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 1);
    cli_result_free(&r);

    /* near miss: without the bomb, nothing is cut short, exit 0 */
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules/word.yml %s/lim/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK(strstr(r.err, "cut short") == NULL);
    CHECK(strstr(r.out, "rules cut short") == NULL);
    cli_result_free(&r);
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules/word.yml %s/lim/ev --jsonl -", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK(r.out && strstr(r.out, "incomplete") == NULL); /* nothing found, nothing incomplete */
    cli_result_free(&r);

    /* the case keeps it among the file's problems */
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/lim/rules %s/lim/ev --case %s/lim/case.db", d, d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    cli_result_free(&r);
    snprintf(args, sizeof args, "case problems %s/lim/case.db", d);
    cli_run(&r, args);
    CHECK_CONTAINS(r.out, "a.jsonl: error: record 1: rule 'Nested Quantifier Bomb' was cut short");
    cli_result_free(&r);

    /* rules check names the risky rule, and not the other */
    snprintf(args, sizeof args, "rules check --no-builtin %s/lim/rules", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "risky regexes:     1 (rules that can backtrack catastrophically");
    CHECK_CONTAINS(r.out, "bomb.yml: line 1: rule 'Nested Quantifier Bomb': regular expression '^(a+)+$': a group "
                          "holding an unbounded quantifier");
    CHECK(strstr(r.out, "Word Regex") == NULL);
    cli_result_free(&r);
}

/* Many threads, many files: the count is the same whatever -j is. */
static void limits_counted_alike_whatever_the_threads(void)
{
    write_limit_case();
    for (int i = 0; i < 6; i++) {
        char name[64];
        snprintf(name, sizeof name, "lim/many/f%d.jsonl", i);
        write_text(name, EV("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "2021-01-01T00:00:00Z"));
    }
    const char *d = test_tmpdir();
    char args[2048];
    cli_result a, b;
    snprintf(args, sizeof args, "hunt -j1 --no-builtin -r %s/lim/rules %s/lim/many", d, d);
    cli_run(&a, args);
    snprintf(args, sizeof args, "hunt -j3 --no-builtin -r %s/lim/rules %s/lim/many", d, d);
    cli_run(&b, args);
    CHECK_INT(a.status, 3);
    CHECK_INT(b.status, 3);
    CHECK_CONTAINS(a.out, "rules cut short:  1 rule on 6 events");
    CHECK_CONTAINS(b.out, "rules cut short:  1 rule on 6 events");
    /* the first three files named, the rest counted by rule */
    CHECK_CONTAINS(a.err, "f2.jsonl: record 1: rule 'Nested Quantifier Bomb'");
    CHECK(strstr(a.err, "f3.jsonl") == NULL);
    CHECK_CONTAINS(a.err, "traccia: error: 3 more files where rules were cut short by an engine limit: Nested "
                          "Quantifier Bomb 3; they may have missed events");
    CHECK(a.err && b.err && strcmp(a.err, b.err) == 0);
    cli_result_free(&a);
    cli_result_free(&b);
}

/* A correlation that must ignore an input (a group-by value over its
 * 16 KiB bound) says so at the end, and the hunt is incomplete. */
static void correlation_bounds_are_reported(void)
{
    write_text("cb/rules/corr.yml",
               "title: Any Process\nname: any_process\nlogsource: {product: windows, category: process_creation}\n"
               "level: low\ndetection:\n    sel:\n        Image|endswith: '.exe'\n    condition: sel\n---\n"
               "title: Same Command Twice\nlevel: high\ncorrelation:\n    type: event_count\n"
               "    rules: [any_process]\n    group-by: [CommandLine]\n    timespan: 1h\n"
               "    condition: {gte: 2}\n");
    static char big[20000];
    memset(big, 'A', sizeof big - 1);
    static char text[3 * 21000];
    size_t at = 0;
    for (int i = 0; i < 2; i++)
        at += (size_t)snprintf(text + at, sizeof text - at,
                               "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/"
                               "Operational\",\"Computer\":\"WS1\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":"
                               "\"2021-01-01T00:00:0%dZ\"}}},\"EventData\":{\"Image\":\"C:\\\\x.exe\",\"CommandLine\":"
                               "\"%s\"}}}\n",
                               i, big);
    for (int i = 0; i < 2; i++)
        at += (size_t)snprintf(text + at, sizeof text - at,
                               "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/"
                               "Operational\",\"Computer\":\"WS1\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":"
                               "\"2021-01-01T00:01:0%dZ\"}}},\"EventData\":{\"Image\":\"C:\\\\x.exe\",\"CommandLine\":"
                               "\"whoami\"}}}\n",
                               i);
    write_text("cb/ev/a.jsonl", text);
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    snprintf(args, sizeof args, "hunt --no-builtin -r %s/cb/rules %s/cb/ev --jsonl %s/cb/found.jsonl", d, d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    CHECK_CONTAINS(r.err, "traccia: error: correlation 'Same Command Twice' had to ignore 2 input(s), by the "
                          "correlation's bounds (0 input(s) past its cap of 1000000 groups, 0 entries dropped at "
                          "1000000 per group, 2 group-by value(s) over 16384 bytes, 0 lost to memory)");
    CHECK_CONTAINS(r.out, "rules cut short:  1 rule on 2 events");
    /* the short command lines still correlate */
    CHECK_CONTAINS(r.out, "Same Command Twice");
    cli_result_free(&r);
    /* and the finding stream ends with the correlation cut short, of no file */
    char path[700];
    size_t n;
    snprintf(path, sizeof path, "%s/cb/found.jsonl", d);
    char *found = read_all(path, &n);
    CHECK_CONTAINS(found, "{\"incomplete\":{\"rule\":{\"id\":null,\"title\":\"Same Command Twice\",\"kind\":"
                          "\"correlation\"},\"path\":null,\"where\":null,\"reason\":\"correlation 'Same Command "
                          "Twice' had to ignore 2 input(s)");
    CHECK(found && n > 2 && strstr(found, "{\"incomplete\"") > strstr(found, "Same Command Twice\",\"level"));
    free(found);
}

/* A "billion laughs" rule file: 9 aliases of 9 aliases, 8 levels deep
 * (43 million nodes expanded, under 1 KiB on disk), refused at once with
 * its line while the rule beside it loads. Measured when written:
 * `/usr/bin/time traccia rules check` under 0.01 s, 4.6-4.9 MiB maximum
 * resident (three runs); the test requires under 2 s and 64 MiB. */
static void alias_bomb_refused_quickly(void)
{
    char text[4096];
    size_t at = (size_t)snprintf(text, sizeof text, "title: Alias Bomb\nlogsource: {product: windows}\n"
                                                    "x0: &a0 {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, "
                                                    "k5: lol, k6: lol, k7: lol, k8: lol}\n");
    for (int i = 1; i <= 8; i++) {
        at += (size_t)snprintf(text + at, sizeof text - at, "x%d: &a%d {", i, i);
        for (int k = 0; k < 9; k++)
            at += (size_t)snprintf(text + at, sizeof text - at, "%sk%d: *a%d", k ? ", " : "", k, i - 1);
        at += (size_t)snprintf(text + at, sizeof text - at, "}\n");
    }
    snprintf(text + at, sizeof text - at, "detection:\n    sel:\n        CommandLine: lol\n    condition: sel\n");
    write_text("ab/rules/bomb.yml", text);
    /* near miss: aliases used as people use them */
    write_text("ab/rules/fine.yml", "title: Shared Values\nlogsource: {product: windows, category: process_creation}\n"
                                    "detection:\n    a:\n        Image|endswith: &tools ['\\x.exe', '\\y.exe']\n"
                                    "    b:\n        ParentImage|endswith: *tools\n    condition: a and b\n");
    const char *d = test_tmpdir();
    char args[2048];
    cli_result r;
    bool timed = access("/usr/bin/time", X_OK) == 0;
    if (timed) {
        char cmd[4096], out[700];
        snprintf(out, sizeof out, "%s/ab/out", d);
        snprintf(cmd, sizeof cmd, "/usr/bin/time -f 'took %%e s %%M KiB' %s rules check --no-builtin %s/ab/rules >%s 2>&1",
                 test_bin(), d, out);
        CHECK(system(cmd) != -1);
        size_t n;
        char *got = read_all(out, &n);
        CHECK_CONTAINS(got, "bomb.yml: line 8: YAML: aliases would expand the document past 1,000,000 nodes "
                            "(an alias bomb?): refused");
        CHECK_CONTAINS(got, "rules loaded:      1");
        const char *t = got ? strstr(got, "took ") : NULL;
        double secs = 99;
        long kib = 1L << 30;
        CHECK(t && sscanf(t, "took %lf s %ld KiB", &secs, &kib) == 2);
        CHECK(secs < 2.0);
        CHECK(kib < 64 * 1024); /* bounded: the file's size, not its expansion */
        free(got);
    } else {
        fprintf(stderr, "    /usr/bin/time not found: time and memory not measured\n");
    }
    snprintf(args, sizeof args, "rules check --no-builtin %s/ab/rules", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "an alias bomb?");
    CHECK(strstr(r.err, "fine.yml") == NULL);
    cli_result_free(&r);
}

void suite_limits(void)
{
    RUN(regex_risk_shapes);
    RUN(match_limit_is_reported_not_missed);
    RUN(limits_counted_alike_whatever_the_threads);
    RUN(alias_bomb_refused_quickly);
    RUN(correlation_bounds_are_reported);
}
