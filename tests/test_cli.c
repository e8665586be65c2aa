/*
 * test_cli.c — the `traccia` command end to end: exit statuses, help,
 * output that parses, corrupt files reported and counted while the rest is
 * read, nothing on stdout but results.
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>


static void usage_and_help(void)
{
    cli_result r;
    cli_run(&r, "");
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.err, "usage: traccia");
    cli_result_free(&r);
    cli_run(&r, "frobnicate");
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.err, "unknown command");
    cli_result_free(&r);
    cli_run(&r, "--help");
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "exit status");
    cli_result_free(&r);
    const char *cmds[] = {"hunt", "dump"};
    for (int i = 0; i < 2; i++) {
        char a[64];
        snprintf(a, sizeof a, "%s --help", cmds[i]);
        cli_run(&r, a);
        CHECK_INT(r.status, 0);
        CHECK_CONTAINS(r.out, "usage: traccia");
        CHECK_CONTAINS(r.out, "exit status");
        cli_result_free(&r);
        snprintf(a, sizeof a, "%s --no-such-option x", cmds[i]);
        cli_run(&r, a);
        CHECK_INT(r.status, 1);
        CHECK_CONTAINS(r.err, "unknown option");
        cli_result_free(&r);
        snprintf(a, sizeof a, "%s", cmds[i]);
        cli_run(&r, a);
        CHECK_INT(r.status, 1);
        CHECK_CONTAINS(r.err, "no PATH");
        cli_result_free(&r);
    }
    cli_run(&r, "version");
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "traccia " TR_VERSION_STRING);
    cli_result_free(&r);
}

static void hunt_reports_and_counts(void)
{
    write_text("ev/good.json",
               "{\"Event\":{\"System\":{\"EventID\":4624,\"Channel\":\"Security\",\"TimeCreated\":{\"#attributes\":"
               "{\"SystemTime\":\"2019-03-01T10:00:00Z\"}}}}}\n"
               "{\"Event\":{\"System\":{\"EventID\":4625,\"Channel\":\"Security\",\"TimeCreated\":{\"#attributes\":"
               "{\"SystemTime\":\"2021-03-02T07:01:12Z\"}}}}}\n");
    write_text("ev/corrupt.json", "{\"ok\":1}\n{\"Event\":{\"System\":\n{\"ok\":2}\n");
    write_text("ev/notes.txt", "not evidence\n");
    char args[700];
    snprintf(args, sizeof args, "hunt %s/ev", test_tmpdir());
    cli_result r;
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK_CONTAINS(r.out, "files read:       2 (json 2)");
    CHECK_CONTAINS(r.out, "files damaged:    1");
    CHECK_CONTAINS(r.out, "files skipped:    1 (1 format not recognised)");
    CHECK_CONTAINS(r.out, "events:           4");
    CHECK_CONTAINS(r.out, "time range:       2019-03-01T10:00:00.0000000Z .. 2021-03-02T07:01:12.0000000Z");
    CHECK_CONTAINS(r.out, "records skipped:  1 (malformed)");
    /* the cut line swallows the next as its value; the error names both
     * places, and the resync still finds the next record */
    CHECK_CONTAINS(r.err, "corrupt.json: line 4, column 1: unexpected end of file inside a record (truncated?) "
                          "(record began on line 2); record skipped");
    CHECK(strstr(r.err, "\r") == NULL && strstr(r.err, "\x1b[") == NULL); /* no progress/colour when not a tty */
    CHECK(strstr(r.err, "notes.txt") == NULL);                          /* notes only with -v */
    cli_result_free(&r);

    snprintf(args, sizeof args, "hunt -v %s/ev", test_tmpdir());
    cli_run(&r, args);
    CHECK_CONTAINS(r.err, "notes.txt: format not recognised, skipped");
    cli_result_free(&r);

    snprintf(args, sizeof args, "hunt -q %s/ev", test_tmpdir());
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK_CONTAINS(r.err, "corrupt.json"); /* errors still shown */
    cli_result_free(&r);
}

static void no_input_is_status_2(void)
{
    cli_result r;
    cli_run(&r, "hunt /nonexistent/evidence");
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "/nonexistent/evidence");
    cli_result_free(&r);
    write_text("only.txt", "nothing to read\n");
    char args[700];
    snprintf(args, sizeof args, "hunt %s/only.txt", test_tmpdir());
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    cli_result_free(&r);
    /* one missing path among readable ones: the hunt ran */
    write_text("one.json", "{\"a\":1}\n");
    snprintf(args, sizeof args, "hunt /nonexistent %s/one.json", test_tmpdir());
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK_CONTAINS(r.out, "paths missing:    1");
    cli_result_free(&r);
}

static void dump_is_json_lines(void)
{
    write_text("d.json", "[{\"Event\":{\"EventData\":{\"Cmd\":\"a \\\"b\\\" \\\\c\"}}},{\"x\":[1,\"two\",null]}]");
    char args[700];
    snprintf(args, sizeof args, "dump --aliases %s/d.json", test_tmpdir());
    cli_result r;
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "\"fields\":{\"Event.EventData.Cmd\":\"a \\\"b\\\" \\\\c\"},\"aliases\":{\"Cmd\":\"Event.EventData.Cmd\"}}\n");
    CHECK_CONTAINS(r.out, "\"fields\":{\"x\":[1,\"two\",null]},\"aliases\":{}}\n");
    CHECK_INT(strlen(r.err), 0);
    /* the dump of a dump reads back: every line is a JSON object */
    const char *p = write_file("again.json", r.out, strlen(r.out));
    cli_result_free(&r);
    snprintf(args, sizeof args, "dump %s", p);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "\"fields\":{\"time\":null,\"source.path\":");
    CHECK_INT(strlen(r.err), 0);
    cli_result_free(&r);
}

/* dump --xml and --recover, hunt --recover, on the crafted log of the fuzz
 * seeds and on a copy whose last record was dropped into the slack. */
static void dump_xml_and_recover(void)
{
    size_t len;
    char *log = read_all("fuzz/seeds/crafted.evtx", &len);
    CHECK(log != NULL);
    if (!log)
        return;
    char args[800];
    cli_result r;
    snprintf(args, sizeof args, "dump --xml fuzz/seeds/crafted.evtx");
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_INT(count_lines(r.out), 3);
    CHECK(strncmp(r.out, "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>", 77) == 0);
    CHECK_CONTAINS(r.out, "<EventID Qualifiers=\"16384\">4624</EventID>");
    CHECK_CONTAINS(r.out, "<Data Name=\"TargetUserName\">alice</Data><Data Name=\"CommandLine\">a &amp;");
    CHECK_CONTAINS(r.out, "</EventData></Event>\n<Event xmlns=");
    CHECK(strstr(r.out, "recovered") == NULL);
    CHECK_INT(strlen(r.err), 0);
    cli_result_free(&r);
    /* record 3 dropped: the chunk's free-space offset moved onto it */
    size_t r3 = 0;
    for (size_t i = 4096 + 512; i + 16 < len && !r3; i++)
        if (memcmp(log + i, "\x2a\x2a\0\0", 4) == 0 && log[i + 8] == 3 && log[i + 9] == 0)
            r3 = i;
    CHECK(r3 > 0);
    uint32_t free_off = (uint32_t)(r3 - 4096);
    memcpy(log + 4096 + 48, &free_off, 4); /* little-endian host */
    const char *p = write_file("slack.evtx", log, len);
    snprintf(args, sizeof args, "dump -q %s", p);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_INT(count_lines(r.out), 2);
    CHECK(strstr(r.out, "\"recovered\"") == NULL);
    cli_result_free(&r);
    snprintf(args, sizeof args, "dump -q --recover %s", p);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_INT(count_lines(r.out), 3);
    char want[128];
    snprintf(want, sizeof want, "\"record\":3,\"offset\":%zu,\"recovered\":true}", r3);
    CHECK_CONTAINS(r.out, want);
    cli_result_free(&r);
    snprintf(args, sizeof args, "dump -q --xml --recover %s", p);
    cli_run(&r, args);
    CHECK_INT(count_lines(r.out), 3);
    snprintf(want, sizeof want, "\n<!-- recovered: offset 0x%zx --><Event xmlns=", r3);
    CHECK_CONTAINS(r.out, want);
    CHECK_CONTAINS(r.out, "<EventRecordID>3</EventRecordID>");
    cli_result_free(&r);
    snprintf(args, sizeof args, "hunt -q --recover %s", p);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "events:           3\n");
    CHECK_CONTAINS(r.out, "recovered:        1 (");
    cli_result_free(&r);
    snprintf(args, sizeof args, "hunt -q %s", p);
    cli_run(&r, args);
    CHECK_CONTAINS(r.out, "events:           2\n");
    CHECK(strstr(r.out, "recovered:") == NULL);
    cli_result_free(&r);
    /* --xml on JSON input: the events as JSON lines, as without it */
    write_text("e.json", "{\"Event\":{\"System\":{\"EventID\":4688}}}\n");
    snprintf(args, sizeof args, "dump --xml %s/e.json", test_tmpdir());
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "\"fields\":{\"Event.System.EventID\":4688}}\n");
    cli_result_free(&r);
    /* documented */
    cli_run(&r, "dump --help");
    CHECK_CONTAINS(r.out, "--xml");
    CHECK_CONTAINS(r.out, "--recover");
    cli_result_free(&r);
    cli_run(&r, "hunt --help");
    CHECK_CONTAINS(r.out, "--recover");
    cli_result_free(&r);
    free(log);
}

static void examples_hunt(void)
{
    cli_result r;
    cli_run(&r, "hunt examples");
    if (r.status == 2 && strstr(r.err, "examples")) {
        tr_test_skip("examples/ not found (run from the repository root)");
        cli_result_free(&r);
        return;
    }
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "records skipped:  0");
    CHECK(strstr(r.out, "events:           0\n") == NULL);
    cli_result_free(&r);
    /* the built-in pack finds the intruder of the Exchange case: the web
     * shell, the theft of mail, the first trace two years before */
    cli_run(&r, "hunt examples/exchange-intrusion");
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "China Chopper Style Web Shell Command Wrapper");
    CHECK_CONTAINS(r.out, "Exchange Mailbox Export");
    CHECK_CONTAINS(r.out, "first detection:  2019-04-17");
    CHECK_CONTAINS(r.out, "files read:       27 (json 22, evtx 5)");
    cli_result_free(&r);
}

/* A small case for the findings tests: two rules (medium and high) over
 * events in three files, one of them corrupt. */
static void write_hunt_case(void)
{
    write_text("hc/rules/whoami.yml",
               "title: Whoami From a Web Server\n"
               "id: 5e1d7a0c-3b8e-4d62-9a1f-0c2b7e9d4a11\n"
               "status: test\n"
               "level: high\n"
               "tags: [attack.discovery, attack.t1033]\n"
               "logsource: {product: windows, category: process_creation}\n"
               "detection:\n"
               "    selection:\n"
               "        ParentImage|endswith: '\\w3wp.exe'\n"
               "        Image|endswith: '\\whoami.exe'\n"
               "    condition: selection\n"
               "fields: [Image, ParentImage, CommandLine]\n");
    write_text("hc/rules/net.yml",
               "title: Net User Enumeration\n"
               "id: 8a4f2c19-6d7e-4b3a-9c85-1e2f3a4b5c6d\n"
               "status: experimental\n"
               "level: medium\n"
               "tags: [attack.discovery, attack.t1087.001]\n"
               "logsource: {product: windows, category: process_creation}\n"
               "detection:\n"
               "    selection:\n"
               "        CommandLine|contains: 'net user'\n"
               "    condition: selection\n");
#define EV(t, img, parent, cmd)                                                                    \
    "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","   \
    "\"Computer\":\"EXCH01\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"" t "\"}}},"       \
    "\"EventData\":{\"Image\":\"" img "\",\"ParentImage\":\"" parent "\",\"CommandLine\":\"" cmd  \
    "\"}}}\n"
    write_text("hc/ev/a.jsonl",
               EV("2021-03-02T07:01:12Z", "C:\\\\Windows\\\\System32\\\\whoami.exe",
                  "C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe", "whoami /all")
               EV("2021-03-02T07:02:00Z", "C:\\\\Windows\\\\System32\\\\net.exe",
                  "C:\\\\Windows\\\\System32\\\\cmd.exe", "net user /domain"));
    write_text("hc/ev/b.jsonl",
               EV("2019-04-17T03:12:44Z", "C:\\\\Windows\\\\System32\\\\whoami.exe",
                  "C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe", "whoami")
               EV("2019-04-17T03:13:00Z", "C:\\\\Windows\\\\System32\\\\whoami.exe",
                  "C:\\\\Windows\\\\explorer.exe", "whoami"));
    write_text("hc/ev/c-corrupt.jsonl", EV("2020-01-01T00:00:00Z", "C:\\\\x\\\\net.exe",
                                           "C:\\\\x\\\\cmd.exe", "net user admin") "{\"Event\":{\"System\":\n");
#undef EV
}

static void hunt_findings_formats(void)
{
    write_hunt_case();
    const char *d = test_tmpdir();
    char args[2048], cmd[4096];
    snprintf(args, sizeof args, "hunt --no-builtin --rules %s/hc/rules --jsonl %s/hc/out.jsonl --csv %s/hc/out.csv %s/hc/ev",
             d, d, d, d);
    cli_result r;
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK_CONTAINS(r.out, "detections:       4 (high 2, medium 2)");
    CHECK_CONTAINS(r.out, "files damaged:    1");     /* the corrupt file: reported, counted */
    CHECK_CONTAINS(r.err, "c-corrupt.jsonl: line 3"); /* ... and the rest of it still hunted */
    CHECK_CONTAINS(r.out, "first detection:  2019-04-17T03:12:44.0000000Z");
    CHECK_CONTAINS(r.out, "last detection:   2021-03-02T07:02:00.0000000Z");
    CHECK_CONTAINS(r.out, "EXCH01");
    CHECK(strstr(r.err, "\r") == NULL && strstr(r.out, "\x1b[") == NULL); /* not a terminal: no bar, no colour */
    cli_result_free(&r);
    /* every line parses and carries the documented keys */
    snprintf(cmd, sizeof cmd,
             "jq -e -s 'length == 4 and all(.[]; has(\"time\") and (.rule|has(\"id\") and has(\"title\") and "
             "has(\"level\") and has(\"status\") and has(\"tags\") and has(\"attack\")) and has(\"computer\") and "
             "has(\"channel\") and has(\"event_id\") and (.source|has(\"path\") and has(\"record\")) and "
             "has(\"fields\")) and .[0].rule.attack == [\"T1033\"] and .[0].fields.ParentImage != null' "
             "%s/hc/out.jsonl >/dev/null 2>&1",
             d);
    CHECK_INT(system(cmd), 0);
    size_t n;
    char *csv = read_all(strcat(strcpy(cmd, d), "/hc/out.csv"), &n);
    CHECK(csv != NULL);
    if (csv) {
        CHECK(strncmp(csv, TR_DETECTION_CSV_HEADER, strlen(TR_DETECTION_CSV_HEADER)) == 0);
        size_t rows = 0;
        for (char *p = csv; (p = strstr(p, "\n\"")) != NULL; p++)
            rows++;
        CHECK_INT(rows, 4);
        CHECK_CONTAINS(csv, "\"[high] Whoami From a Web Server on EXCH01\"");
        free(csv);
    }
    /* the same findings, byte for byte, with one thread and with four */
    for (int j = 1; j <= 4; j += 3) {
        snprintf(args, sizeof args, "hunt -j %d --no-builtin --rules %s/hc/rules --jsonl %s/hc/out%d.jsonl %s/hc/ev", j,
                 d, d, j, d);
        cli_run(&r, args);
        CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
        cli_result_free(&r);
    }
    snprintf(cmd, sizeof cmd, "cmp -s %s/hc/out1.jsonl %s/hc/out4.jsonl && cmp -s %s/hc/out1.jsonl %s/hc/out.jsonl", d,
             d, d, d);
    CHECK_INT(system(cmd), 0);
    /* standard output: findings only; the summary moves to standard error */
    snprintf(args, sizeof args, "hunt --no-builtin --rules %s/hc/rules --jsonl - %s/hc/ev", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK(r.out && r.out[0] == '{' && strstr(r.out, "hunt summary") == NULL);
    CHECK_CONTAINS(r.err, "hunt summary");
    cli_result_free(&r);
}

static void hunt_filters(void)
{
    write_hunt_case();
    const char *d = test_tmpdir();
    static const struct {
        const char *opts;
        const char *want;
    } cases[] = {
        {"--min-level high", "detections:       2 (high 2)"},
        {"--exclude-rule 5e1d7a0c-3b8e-4d62-9a1f-0c2b7e9d4a11", "detections:       2 (medium 2)"},
        {"--exclude-rule 'Net User Enumeration'", "detections:       2 (high 2)"},
        {"--from 2021-01-01", "detections:       2 (high 1, medium 1)"},
        {"--to 2019-12-31T23:59:59Z", "detections:       1 (high 1)"},
        {"--tags attack.t1087", "detections:       2 (medium 2)"},
        {"--status test,stable", "detections:       2 (high 2)"},
        {"--min-level critical", "detections:       0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, "hunt --no-builtin --rules %s/hc/rules %s %s/hc/ev", d, cases[i].opts, d);
        cli_result r;
        cli_run(&r, args);
        CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
        CHECK_CONTAINS(r.out, cases[i].want);
        cli_result_free(&r);
    }
    static const char *const bad[] = {"--min-level severe", "--from yesterday", "-j 0", "--jsonl"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, "hunt --no-builtin %s %s/hc/ev", bad[i], d);
        cli_result r;
        cli_run(&r, args);
        CHECK_INT(r.status, 1);
        cli_result_free(&r);
    }
}

/* hunt --ioc: indicators swept in the same pass as the rules, sightings in
 * the findings, the summary and a STIX bundle whose references resolve. */
static void hunt_with_indicators(void)
{
    write_hunt_case();
    write_text("hc/iocs.txt", "# advisory\nwhoami.exe\n203.0.113[.]9\n");
    const char *d = test_tmpdir();
    char args[2048], cmd[4096];
    snprintf(args, sizeof args,
             "hunt --no-builtin --rules %s/hc/rules --ioc %s/hc/iocs.txt --stix-out %s/hc/s.json --jsonl %s/hc/i.jsonl %s/hc/ev",
             d, d, d, d, d);
    cli_result r;
    cli_run(&r, args);
    CHECK_INT(r.status, 3); /* ran; a file damaged (or a path missing): incomplete */
    CHECK_CONTAINS(r.out, "indicators:       2 loaded, 0 rejected");
    CHECK_CONTAINS(r.out, "indicators sighted: 1");
    CHECK_CONTAINS(r.out, "whoami.exe");
    cli_result_free(&r);
    /* three events run whoami.exe: three sightings, as JSON lines of kind "indicator" */
    snprintf(cmd, sizeof cmd,
             "test \"$(jq -s '[.[] | select(.rule.kind == \"indicator\")] | length' %s/hc/i.jsonl)\" = 3", d);
    CHECK_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "jq -e '.type == \"bundle\" and ([.objects[].id] as $ids | all(.objects[] | select(.type == "
             "\"sighting\"); .count == 3 and (.sighting_of_ref as $r | $ids | index($r) != null)))' "
             "%s/hc/s.json >/dev/null",
             d);
    CHECK_INT(system(cmd), 0);
    snprintf(args, sizeof args, "hunt --stix-out x.json %s/hc/ev", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 1); /* --stix-out without --ioc */
    cli_result_free(&r);
}

static void rules_check_and_list(void)
{
    write_hunt_case();
    write_text("hc/badrules/broken.yml", "title: Broken\nlogsource: {product: windows}\ndetection:\n"
                                         "    sel:\n        Image|nosuchmodifier: x\n    condition: sel\n");
    const char *d = test_tmpdir();
    char args[1024];
    cli_result r;
    snprintf(args, sizeof args, "rules check --no-builtin %s/hc/rules", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "rules loaded:      2");
    CHECK_CONTAINS(r.out, "rules not loaded:  0");
    cli_result_free(&r);
    snprintf(args, sizeof args, "rules check --no-builtin %s/hc/rules %s/hc/badrules", d, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "broken.yml: line 5: rule 'Broken' not loaded: unknown modifier 'nosuchmodifier'");
    CHECK_CONTAINS(r.out, "rules not loaded:  1");
    cli_result_free(&r);
    snprintf(args, sizeof args, "rules list --no-builtin %s/hc/rules", d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "5e1d7a0c-3b8e-4d62-9a1f-0c2b7e9d4a11\thigh\ttest\twindows/process_creation/-\t"
                          "Whoami From a Web Server\tattack.discovery,attack.t1033");
    cli_result_free(&r);
    cli_run(&r, "rules list");
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "China Chopper"); /* the built-in pack */
    cli_result_free(&r);
    cli_run(&r, "rules --help");
    CHECK_INT(r.status, 0);
    CHECK_CONTAINS(r.out, "usage: traccia rules");
    cli_result_free(&r);
}

/* Exit status: 0 ran on readable input, 2 nothing readable (a folder of
 * one corrupt .evtx among them), 3 ran but incomplete; for hunt, dump and
 * exchange alike, and the run report says the same. */
static void exit_status_tells_the_truth(void)
{
    size_t n;
    char *log = read_all("examples/exchange-intrusion/evtx/EXCH01-sysmon.evtx", &n);
    CHECK(log && n > 4096);
    if (!log || n <= 4096) {
        free(log);
        return;
    }
    char *junk = malloc(4096 + 65536);
    memcpy(junk, log, 4096); /* a real file header, then no chunk at all */
    memset(junk + 4096, 'A', 65536);
    write_file("xs/corrupt/only.evtx", junk, 4096 + 65536);
    write_file("xs/header-only.evtx", log, 4096); /* valid, no records */
    write_file("xs/good/sysmon.evtx", log, n);
    free(junk);
    free(log);
    write_text("xs/notes/readme.txt", "not evidence\n");
    write_text("xs/rules/broken.yml", "title: Broken\nlogsource: {product: windows}\ndetection:\n    sel:\n"
                                      "        Image|nosuchmodifier: x\n    condition: sel\n");
    const char *d = test_tmpdir();
    static const struct {
        const char *args;
        int status;
        const char *says;
    } cases[] = {
        {"hunt %s/xs/good", 0, NULL},
        {"hunt %s/xs/header-only.evtx", 0, NULL},               /* read, nothing in it: not a failure */
        {"hunt %s/xs/good %s/xs/notes", 0, NULL},               /* a note beside the logs is not evidence */
        {"hunt %s/xs/corrupt", 2, "every file is damaged and not one event came out of 1 file(s)"},
        {"hunt %s/xs/notes", 2, "no input could be read (1 file(s) found)"},
        {"hunt %s/xs/nothing-here", 2, "no input could be read (0 file(s) found)"},
        {"hunt %s/xs/good %s/xs/corrupt", 3, "incomplete (exit status 3): 1 damaged"},
        {"hunt %s/xs/good %s/xs/nothing-here", 3, "incomplete (exit status 3): 1 missing (path)"},
        {"hunt --rules %s/xs/rules %s/xs/good", 3, "incomplete (exit status 3): 1 not loaded (rule)"},
        {"hunt --jsonl /dev/full %s/xs/good", 3, "incomplete (exit status 3): an output failed"},
        {"dump %s/xs/corrupt", 2, "every file is damaged"},
        {"dump %s/xs/good %s/xs/corrupt", 3, "1 damaged"},
        {"exchange %s/xs/corrupt", 2, "every file is damaged"},
        {"exchange %s/xs/good %s/xs/corrupt", 3, "1 damaged"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[2048];
        snprintf(args, sizeof args, cases[i].args, d, d);
        if (strncmp(cases[i].args, "dump", 4) == 0)
            strcat(args, " >/dev/null");
        cli_result r;
        cli_run(&r, args);
        if (r.status != cases[i].status)
            fprintf(stderr, "    traccia %s: status %d, wanted %d\n", args, r.status, cases[i].status);
        CHECK_INT(r.status, cases[i].status);
        if (cases[i].says)
            CHECK_CONTAINS(r.err, cases[i].says);
        else
            CHECK(strstr(r.err, "incomplete") == NULL && strstr(r.err, "no input") == NULL);
        cli_result_free(&r);
    }
    /* the run report carries the status and its meaning */
    char args[2048], rp[700];
    snprintf(rp, sizeof rp, "%s/xs/run.json", d);
    snprintf(args, sizeof args, "hunt %s/xs/good %s/xs/corrupt --run-report %s", d, d, rp);
    cli_result r;
    cli_run(&r, args);
    CHECK_INT(r.status, 3);
    cli_result_free(&r);
    char *rep = read_all(rp, &n);
    CHECK_CONTAINS(rep, "\"exit_status\":3,\"exit_meaning\":\"the job ran, but not on everything");
    free(rep);
}

/* Findings files are whole or absent: written to a temporary name and
 * renamed when complete. A write that fails (the file size limit, as a full
 * disk would) leaves the old file as it was and no temporary; a run killed
 * mid-write (SIGXFSZ) leaves no file under the asked name; a closed
 * standard output or a full device is an error, not a quiet success. */
static void outputs_whole_or_absent(void)
{
    const char *d = test_tmpdir();
    char args[2048], path[700];
    snprintf(path, sizeof path, "%s/wo/findings.jsonl", d);
    write_text("wo/findings.jsonl", "the previous run's findings\n");
    cli_result r;
    /* writes past 8 KiB fail with EFBIG (the signal ignored): an error,
     * the old file untouched, the temporary removed */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "sh -c 'trap \"\" XFSZ; ulimit -f 8; exec %s hunt examples/ --jsonl %s' >%s/wo/out 2>%s/wo/err",
             test_bin(), path, d, d);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    size_t n;
    char *err = NULL, *old = read_all(path, &n);
    snprintf(cmd, sizeof cmd, "%s/wo/err", d);
    err = read_all(cmd, &n);
    CHECK_CONTAINS(err, "writing the findings failed; no findings file was left that looks complete");
    CHECK_CONTAINS(old, "the previous run's findings\n");
    free(err);
    free(old);
    snprintf(cmd, sizeof cmd, "ls %s/wo | grep -q tmp", d);
    CHECK(system(cmd) != 0);
    /* killed mid-write: nothing under the asked name */
    snprintf(path, sizeof path, "%s/wo/killed.jsonl", d);
    snprintf(cmd, sizeof cmd, "sh -c 'ulimit -f 8; exec %s hunt examples/ --jsonl %s' >/dev/null 2>&1", test_bin(),
             path);
    st = system(cmd);
    CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    struct stat sb;
    CHECK(stat(path, &sb) != 0);
    /* the same run with room: the file appears, whole */
    snprintf(args, sizeof args, "hunt examples/ --jsonl %s --csv %s/wo/t.csv", path, d);
    cli_run(&r, args);
    CHECK_INT(r.status, 0);
    char *whole = read_all(path, &n);
    CHECK(whole && n > 8192 && whole[n - 1] == '\n');
    free(whole);
    cli_result_free(&r);
    /* a full device, a closed standard output */
    cli_run(&r, "hunt examples/ --jsonl /dev/full");
    CHECK_INT(r.status, 3);
    CHECK_CONTAINS(r.err, "writing the findings failed");
    cli_result_free(&r);
    snprintf(cmd, sizeof cmd, "%s hunt examples/ --jsonl - >&- 2>%s/wo/err2", test_bin(), d);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    snprintf(cmd, sizeof cmd, "%s/wo/err2", d);
    err = read_all(cmd, &n);
    CHECK_CONTAINS(err, "writing the findings failed");
    free(err);
}

void suite_cli(void)
{
    RUN(usage_and_help);
    RUN(hunt_reports_and_counts);
    RUN(no_input_is_status_2);
    RUN(dump_is_json_lines);
    RUN(dump_xml_and_recover);
    RUN(examples_hunt);
    RUN(hunt_findings_formats);
    RUN(hunt_filters);
    RUN(rules_check_and_list);
    RUN(hunt_with_indicators);
    RUN(exit_status_tells_the_truth);
    RUN(outputs_whole_or_absent);
}
