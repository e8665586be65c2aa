/*
 * test_sigma.c — the Sigma engine's semantics, one behaviour per test:
 * plain values (whole-value, case-insensitive, wildcards and backslash
 * escapes), every modifier of the v2.1 appendix, null / empty / exists,
 * keywords, lists, field references, placeholders, conditions and their
 * errors, rules the specification calls invalid, collections (global,
 * reset, repeat) and filters. Each test pairs a match with a near miss.
 *
 * Every count is taken twice, with and without the literal prefilter: the
 * prefilter may only save work, never change a result, and HITS() fails
 * the test when the two counts differ. Correlations are tested in
 * test_correlation.c.
 */
#include "harness.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- helpers */

/* The same test logsource as harness.c's sigma_hits: `product: test` covers
 * every event. */
static const char test_logsource[] = "logsources:\n  - product: test\n    conditions:\n"
                                     "      EventID|exists: true\n"
                                     "  - product: test\n    conditions:\n"
                                     "      EventID|exists: false\n";

static char local_error[1024]; /* the first warning or error of build() */

static void local_diag(void *user, const tr_diag *d)
{
    (void)user;
    if (d->severity >= TR_SEV_WARNING && !local_error[0])
        snprintf(local_error, sizeof local_error, "%s: %s: %s", d->path, d->where, d->reason);
}

/* A compiled ruleset of `rules` (with `placeholders` when not NULL). When
 * strict, any warning or error gives NULL (like sigma_hits); otherwise the
 * rules that loaded are kept. The reason is in local_error. */
static tr_ruleset *build(const char *rules, const char *placeholders, bool strict)
{
    local_error[0] = '\0';
    tr_ruleset *rs;
    tr_ruleset_options ro = {.on_diag = local_diag, .user = NULL};
    if (tr_ruleset_create(&rs, &ro) != TR_OK)
        return NULL;
    bool ok = tr_ruleset_add_logsources_memory(rs, "test-logsource", test_logsource, sizeof test_logsource - 1) ==
              TR_OK;
    if (ok && placeholders)
        ok = tr_ruleset_add_placeholders_memory(rs, "test-placeholders", placeholders, strlen(placeholders)) ==
             TR_OK;
    ok = ok && tr_ruleset_add_memory(rs, "test-rule", rules, strlen(rules)) == TR_OK;
    ok = ok && (!strict || !local_error[0]) && tr_ruleset_compile(rs) == TR_OK && (!strict || !local_error[0]);
    if (!ok) {
        tr_ruleset_destroy(rs);
        return NULL;
    }
    return rs;
}

/* sigma_hits, checked against a run without the prefilter. */
static long hits_at(const char *file, int line, const char *rules, const char *events)
{
    long with = sigma_hits(rules, events);
    tr_ruleset *rs = build(rules, NULL, true);
    long without = rs ? sigma_hunt_memory(rs, events, TR_MATCH_NO_PREFILTER) : -1;
    tr_ruleset_destroy(rs);
    if (with != without) {
        char m[256];
        snprintf(m, sizeof m, "the prefilter changed the result: %ld detections with it, %ld without", with,
                 without);
        tr_test_fail(file, line, m);
    }
    return with;
}
#define HITS(rules, events) hits_at(__FILE__, __LINE__, rules, events)

/* The rule does not load (or will not run), and the reason names `word`. */
static void rejects_at(const char *file, int line, const char *rules, const char *word)
{
    long h = sigma_hits(rules, "{\"EventID\":1}\n");
    if (h != -1) {
        char m[128];
        snprintf(m, sizeof m, "the rule was accepted (%ld detections)", h);
        tr_test_fail(file, line, m);
    } else if (!strstr(sigma_last_error, word)) {
        char m[1400];
        snprintf(m, sizeof m, "the reason names \"%s\" (it is: %s)", word, sigma_last_error);
        tr_test_fail(file, line, m);
    }
}
#define REJECTS(rules, word) rejects_at(__FILE__, __LINE__, rules, word)

/* Detections with placeholders given through the ruleset API, over events
 * written to a file and hunted with sigma_hunt_path; -1 when the rules or
 * placeholders did not load (reason in local_error). */
static long hits_with_placeholders(const char *rules, const char *placeholders, const char *events)
{
    tr_ruleset *rs = build(rules, placeholders, true);
    if (!rs)
        return -1;
    long h = sigma_hunt_path(rs, write_text("events.json", events), NULL, NULL);
    tr_ruleset_destroy(rs);
    return h;
}

/* A rule with the test logsource, a valid UUID, status and level around a
 * detection section (its lines indented by four spaces). */
#define RULE(det)                                                                                  \
    "title: Sigma semantics test\n"                                                                \
    "id: 5f1a7c2e-0b7d-4c55-9a11-3e2b8d4f6a01\n"                                                   \
    "status: test\n"                                                                               \
    "level: medium\n" SIGMA_TEST_LOGSOURCE "detection:\n" det
/* A rule whose one selection holds one line (more lines: indent by 8). */
#define FIELD(line) RULE("    sel:\n        " line "\n    condition: sel\n")
/* An event of one string field (value JSON-escaped). */
#define J1(k, v) "{\"" k "\":\"" v "\"}\n"

/* A Sysmon process creation as the EVTX reader turns it to JSON, nested. */
#define SYSMON(image, cmd)                                                                         \
    "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","    \
    "\"Computer\":\"WS1\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2021-03-02T07:01:12Z\"}}}," \
    "\"EventData\":{\"Image\":\"" image "\",\"CommandLine\":\"" cmd "\"}}}\n"

#define CMD_EXE "C:\\\\Windows\\\\System32\\\\cmd.exe" /* C:\Windows\System32\cmd.exe in JSON */

/* ---------------------------------------------------------------- plain values */

static void value_is_the_whole_value(void)
{
    const char *r = FIELD("Image: 'C:\\Windows\\System32\\cmd.exe'");
    CHECK_INT(HITS(r, J1("Image", CMD_EXE)), 1);
    CHECK_INT(HITS(r, J1("Image", CMD_EXE ".bak")), 0);
    CHECK_INT(HITS(r, J1("Image", "D:\\\\" CMD_EXE)), 0);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\Windows\\\\System32")), 0);
}

static void value_ignores_case(void)
{
    const char *r = FIELD("CommandLine: 'CMD /C WhoAmI'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoami")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "Cmd /c WHOAMI")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoami ")), 0);
}

static void cased_compares_exactly(void)
{
    const char *r = FIELD("CommandLine|cased: 'cmd /c whoami'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoami")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c WHOAMI")), 0);
    const char *c = FIELD("CommandLine|contains|cased: 'WhoAmI'");
    CHECK_INT(HITS(c, J1("CommandLine", "x WhoAmI y")), 1);
    CHECK_INT(HITS(c, J1("CommandLine", "x whoami y")), 0);
}

static void contains_finds_the_value_inside(void)
{
    const char *r = FIELD("CommandLine|contains: 'whoami'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c WHOAMI /all")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "whoami")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c who ami")), 0);
}

static void contains_all_needs_every_value(void)
{
    const char *r = FIELD("CommandLine|contains|all:\n            - 'whoami'\n            - '/priv'");
    CHECK_INT(HITS(r, J1("CommandLine", "whoami /priv")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c /PRIV & whoami")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "whoami /all")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "net /priv")), 0);
}

static void value_list_is_or(void)
{
    const char *r = FIELD("Image|endswith:\n            - '\\cmd.exe'\n            - '\\powershell.exe'");
    CHECK_INT(HITS(r, J1("Image", CMD_EXE)), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\x\\\\PowerShell.exe")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\x\\\\pwsh.exe")), 0);
}

static void startswith_anchors_at_the_start(void)
{
    const char *r = FIELD("CommandLine|startswith: 'cmd /c'");
    CHECK_INT(HITS(r, J1("CommandLine", "CMD /C dir")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "x cmd /c dir")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /")), 0);
}

static void endswith_anchors_at_the_end(void)
{
    const char *r = FIELD("Image|endswith: '\\cmd.exe'");
    CHECK_INT(HITS(r, J1("Image", "C:\\\\Windows\\\\System32\\\\CMD.EXE")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\cmd.exe.bak")), 0);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\xcmd.exe")), 0);
}

static void startswith_keeps_inner_wildcards(void)
{
    /* 'C:\Win*\Sys?em32\': the backslashes before W, S and the end escape nothing */
    const char *r = FIELD("Image|startswith: 'C:\\Win*\\Sys?em32\\'");
    CHECK_INT(HITS(r, J1("Image", CMD_EXE)), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\WINNT\\\\SYSTEM32\\\\x.exe")), 1);
    CHECK_INT(HITS(r, J1("Image", "D:\\\\Windows\\\\System32\\\\cmd.exe")), 0);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\Windows\\\\System\\\\cmd.exe")), 0);
}

static void star_is_any_run_of_characters(void)
{
    /* 'C:\\*\cmd.exe': an escaped backslash, then the wildcard */
    const char *r = FIELD("Image: 'C:\\\\*\\cmd.exe'");
    CHECK_INT(HITS(r, J1("Image", CMD_EXE)), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\\\\\cmd.exe")), 1); /* C:\\cmd.exe: the star may be empty */
    CHECK_INT(HITS(r, J1("Image", "C:\\\\cmd.exe")), 0);
    CHECK_INT(HITS(r, J1("Image", CMD_EXE ".bak")), 0);
    const char *m = FIELD("CommandLine|contains: 'net* user'");
    CHECK_INT(HITS(m, J1("CommandLine", "cmd /c net.exe USER bob")), 1);
    CHECK_INT(HITS(m, J1("CommandLine", "cmd /c user net")), 0);
}

static void star_alone_matches_any_value(void)
{
    const char *r = FIELD("Image: '*'");
    CHECK_INT(HITS(r, J1("Image", "x")), 1);
    CHECK_INT(HITS(r, J1("Image", "")), 1);
    CHECK_INT(HITS(r, J1("Other", "x")), 0);
}

static void question_mark_is_one_character(void)
{
    const char *r = FIELD("Image|endswith: '\\prog?.exe'");
    CHECK_INT(HITS(r, J1("Image", "C:\\\\progA.exe")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\prog.exe")), 0);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\progAB.exe")), 0);
}

static void question_mark_is_one_utf8_character(void)
{
    const char *r = FIELD("User: 'caf?'");
    CHECK_INT(HITS(r, J1("User", "caf\xC3\xA9")), 1); /* café: é is two bytes */
    CHECK_INT(HITS(r, J1("User", "cafe")), 1);
    CHECK_INT(HITS(r, J1("User", "caf")), 0);
    CHECK_INT(HITS(r, J1("User", "caf\xC3\xA9s")), 0);
    const char *euro = FIELD("Price: '?100'");
    CHECK_INT(HITS(euro, J1("Price", "\xE2\x82\xAC" "100")), 1); /* €: three bytes */
    CHECK_INT(HITS(euro, J1("Price", "\xE2\x82\xAC\xE2\x82\xAC" "100")), 0);
    const char *emoji = FIELD("Name: 'x?y'");
    CHECK_INT(HITS(emoji, J1("Name", "x\xF0\x9F\x98\x80y")), 1); /* four bytes */
    CHECK_INT(HITS(emoji, J1("Name", "xy")), 0);
}

static void escaped_star_is_a_plain_star(void)
{
    /* 'C:\*\cmd.exe' is the trap of the specification: \* is a plain star */
    const char *r = FIELD("Image: 'C:\\*\\cmd.exe'");
    CHECK_INT(HITS(r, J1("Image", "C:*\\\\cmd.exe")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\Windows\\\\cmd.exe")), 0);
    CHECK_INT(HITS(r, J1("Image", "C:x\\\\cmd.exe")), 0);
    const char *c = FIELD("CommandLine|contains: 'a\\*b'");
    CHECK_INT(HITS(c, J1("CommandLine", "xa*by")), 1);
    CHECK_INT(HITS(c, J1("CommandLine", "xaZZby")), 0);
}

static void escaped_question_mark_is_plain(void)
{
    const char *r = FIELD("CommandLine: 'what\\?'");
    CHECK_INT(HITS(r, J1("CommandLine", "what?")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "WHAT?")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "whats")), 0);
}

static void three_backslashes_escape_backslash_and_star(void)
{
    /* 'C:\\\*' is the plain value C:\* */
    const char *r = FIELD("Image: 'C:\\\\\\*'");
    CHECK_INT(HITS(r, J1("Image", "C:\\\\*")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\x")), 0);
    CHECK_INT(HITS(r, J1("Image", "C:*")), 0);
}

static void double_backslash_is_one_backslash(void)
{
    /* a plain backslash may be written single or double; four are two */
    const char *r = FIELD("Image: 'C:\\\\Windows\\\\cmd.exe'");
    CHECK_INT(HITS(r, J1("Image", "C:\\\\Windows\\\\cmd.exe")), 1);
    CHECK_INT(HITS(r, J1("Image", "C:\\\\\\\\Windows\\\\\\\\cmd.exe")), 0);
    const char *unc = FIELD("Path: '\\\\\\\\server\\share'");
    CHECK_INT(HITS(unc, J1("Path", "\\\\\\\\server\\\\share")), 1);
    CHECK_INT(HITS(unc, J1("Path", "\\\\server\\\\share")), 0);
}

static void numbers_match_as_text(void)
{
    const char *r = FIELD("EventID: 4688");
    CHECK_INT(HITS(r, "{\"EventID\":4688}\n"), 1);
    CHECK_INT(HITS(r, "{\"EventID\":\"4688\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"EventID\":46880}\n"), 0);
    CHECK_INT(HITS(r, "{\"EventID\":14688}\n"), 0);
    const char *q = FIELD("EventID: '4688'");
    CHECK_INT(HITS(q, "{\"EventID\":4688}\n"), 1);
    CHECK_INT(HITS(q, "{\"EventID\":4624}\n"), 0);
}

static void field_names_ignore_case(void)
{
    const char *r = FIELD("commandline|contains: 'whoami'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoami")), 1);
    CHECK_INT(HITS(r, J1("Command_Line", "cmd /c whoami")), 0);
    const char *u = FIELD("COMMANDLINE: 'x'");
    CHECK_INT(HITS(u, J1("commandLine", "X")), 1);
}

static void nested_events_use_short_names(void)
{
    const char *r = RULE("    sel:\n"
                         "        EventID: 1\n"
                         "        Channel: 'Microsoft-Windows-Sysmon/Operational'\n"
                         "        Computer: WS1\n"
                         "        Image|endswith: '\\cmd.exe'\n"
                         "        CommandLine|contains: 'whoami'\n"
                         "    condition: sel\n");
    CHECK_INT(HITS(r, SYSMON(CMD_EXE, "cmd /c whoami")), 1);
    CHECK_INT(HITS(r, SYSMON("C:\\\\x\\\\pwsh.exe", "cmd /c whoami")), 0);
    CHECK_INT(HITS(r, SYSMON(CMD_EXE, "cmd /c dir")), 0);
}

static void map_is_and(void)
{
    const char *r = RULE("    sel:\n"
                         "        Image|endswith: '\\cmd.exe'\n"
                         "        CommandLine|contains: 'whoami'\n"
                         "    condition: sel\n");
    CHECK_INT(HITS(r, "{\"Image\":\"" CMD_EXE "\",\"CommandLine\":\"cmd /c whoami\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"Image\":\"" CMD_EXE "\",\"CommandLine\":\"cmd /c dir\"}\n"), 0);
    CHECK_INT(HITS(r, "{\"Image\":\"C:\\\\pwsh.exe\",\"CommandLine\":\"whoami\"}\n"), 0);
    CHECK_INT(HITS(r, J1("Image", CMD_EXE)), 0);
}

static void list_of_maps_is_or(void)
{
    const char *r = RULE("    sel:\n"
                         "        - Image|endswith: '\\cmd.exe'\n"
                         "          CommandLine|contains: '/c'\n"
                         "        - Image|endswith: '\\pwsh.exe'\n"
                         "    condition: sel\n");
    CHECK_INT(HITS(r, "{\"Image\":\"" CMD_EXE "\",\"CommandLine\":\"cmd /c dir\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"Image\":\"C:\\\\pwsh.exe\",\"CommandLine\":\"dir\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"Image\":\"" CMD_EXE "\",\"CommandLine\":\"cmd /k dir\"}\n"), 0);
    CHECK_INT(HITS(r, "{\"Image\":\"C:\\\\powershell.exe\",\"CommandLine\":\"/c\"}\n"), 0);
}

static void json_array_matches_when_any_item_does(void)
{
    const char *r = FIELD("Groups: 'admins'");
    CHECK_INT(HITS(r, "{\"Groups\":[\"users\",\"ADMINS\"]}\n"), 1);
    CHECK_INT(HITS(r, "{\"Groups\":[\"users\",\"administrators\"]}\n"), 0);
    const char *c = FIELD("Groups|contains: 'admin'");
    CHECK_INT(HITS(c, "{\"Groups\":[\"users\",\"administrators\"]}\n"), 1);
    CHECK_INT(HITS(c, "{\"Groups\":[\"users\",\"guests\"]}\n"), 0);
}

static void json_array_all_spreads_over_items(void)
{
    const char *r = FIELD("Groups|all:\n            - 'users'\n            - 'admins'");
    CHECK_INT(HITS(r, "{\"Groups\":[\"users\",\"admins\"]}\n"), 1);
    CHECK_INT(HITS(r, "{\"Groups\":[\"users\",\"guests\"]}\n"), 0);
}

/* ---------------------------------------------------------------- null, empty, exists, neq */

static void null_matches_absent_or_json_null(void)
{
    const char *r = FIELD("Field: null");
    CHECK_INT(HITS(r, "{\"Field\":null}\n"), 1);
    CHECK_INT(HITS(r, "{\"Other\":\"x\"}\n"), 1);
    CHECK_INT(HITS(r, J1("Field", "")), 0);
    CHECK_INT(HITS(r, J1("Field", "x")), 0);
}

static void empty_value_matches_empty_or_null(void)
{
    const char *r = FIELD("Field: ''");
    CHECK_INT(HITS(r, J1("Field", "")), 1);
    CHECK_INT(HITS(r, "{\"Field\":null}\n"), 1);
    CHECK_INT(HITS(r, J1("Other", "x")), 0);
    CHECK_INT(HITS(r, J1("Field", "x")), 0);
    CHECK_INT(HITS(r, J1("Field", " ")), 0);
}

static void null_and_empty_in_separate_selections(void)
{
    /* the specification's valid example */
    const char *r = RULE("    selection_main:\n        FieldA: 'something'\n"
                         "    selection_empty1:\n        FieldB: ''\n"
                         "    selection_empty2:\n        FieldB: null\n"
                         "    condition: selection_main and 1 of selection_empty*\n");
    CHECK_INT(HITS(r, "{\"FieldA\":\"something\",\"FieldB\":\"\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"FieldA\":\"something\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"FieldA\":\"something\",\"FieldB\":\"x\"}\n"), 0);
    CHECK_INT(HITS(r, "{\"FieldA\":\"other\"}\n"), 0);
}

static void exists_true_ignores_the_value(void)
{
    const char *r = FIELD("Field|exists: true");
    CHECK_INT(HITS(r, J1("Field", "x")), 1);
    CHECK_INT(HITS(r, J1("Field", "")), 1);
    CHECK_INT(HITS(r, "{\"Field\":null}\n"), 1);
    CHECK_INT(HITS(r, J1("Other", "x")), 0);
}

static void exists_false_needs_the_field_absent(void)
{
    const char *r = FIELD("Field|exists: false");
    CHECK_INT(HITS(r, J1("Other", "x")), 1);
    CHECK_INT(HITS(r, J1("Field", "x")), 0);
    CHECK_INT(HITS(r, "{\"Field\":null}\n"), 0);
    REJECTS(FIELD("Field|exists: 'maybe'"), "true or false");
    REJECTS(FIELD("Field|exists|contains: true"), "exists");
}

static void neq_needs_a_different_value(void)
{
    const char *r = FIELD("User|neq: 'SYSTEM'");
    CHECK_INT(HITS(r, J1("User", "bob")), 1);
    CHECK_INT(HITS(r, J1("User", "system")), 0);
    CHECK_INT(HITS(r, J1("Other", "x")), 0);
    CHECK_INT(HITS(r, "{\"User\":null}\n"), 0);
    const char *l = FIELD("User|neq:\n            - 'SYSTEM'\n            - 'LOCAL SERVICE'");
    CHECK_INT(HITS(l, J1("User", "bob")), 1);
    CHECK_INT(HITS(l, J1("User", "local service")), 0);
    CHECK_INT(HITS(l, J1("User", "SYSTEM")), 0);
}

static void neq_with_string_modifiers(void)
{
    const char *r = FIELD("User|startswith|neq: 'adm_'");
    CHECK_INT(HITS(r, J1("User", "bob")), 1);
    CHECK_INT(HITS(r, J1("User", "ADM_bob")), 0);
    const char *n = FIELD("EventID|neq: 4688");
    CHECK_INT(HITS(n, "{\"EventID\":4624}\n"), 1);
    CHECK_INT(HITS(n, "{\"EventID\":4688}\n"), 0);
    const char *e = FIELD("Field|neq: ''");
    CHECK_INT(HITS(e, J1("Field", "x")), 1);
    CHECK_INT(HITS(e, J1("Field", "")), 0);
    CHECK_INT(HITS(e, J1("Other", "x")), 0);
}

static void neq_null_needs_a_value(void)
{
    /* rule.c: "neq null: the field has a value" — a JSON null is no value */
    const char *r = FIELD("Field|neq: null");
    CHECK_INT(HITS(r, J1("Field", "x")), 1);
    CHECK_INT(HITS(r, J1("Other", "x")), 0);
    CHECK_INT(HITS(r, "{\"Field\":null}\n"), 0);
}

/* ---------------------------------------------------------------- numbers */

static void gt_excludes_the_boundary(void)
{
    const char *r = FIELD("Count|gt: 10");
    CHECK_INT(HITS(r, "{\"Count\":11}\n"), 1);
    CHECK_INT(HITS(r, "{\"Count\":\"10.5\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"Count\":10}\n"), 0);
    CHECK_INT(HITS(r, "{\"Count\":-20}\n"), 0);
    CHECK_INT(HITS(r, "{\"Count\":100}\n"), 1); /* numeric, not text order */
    CHECK_INT(HITS(r, J1("Count", "abc")), 0);
    CHECK_INT(HITS(r, J1("Count", "")), 0);
}

static void gte_lt_lte_boundaries(void)
{
    const char *gte = FIELD("Count|gte: 10");
    CHECK_INT(HITS(gte, "{\"Count\":10}\n"), 1);
    CHECK_INT(HITS(gte, "{\"Count\":9}\n"), 0);
    const char *lt = FIELD("Count|lt: 10");
    CHECK_INT(HITS(lt, "{\"Count\":9}\n"), 1);
    CHECK_INT(HITS(lt, "{\"Count\":10}\n"), 0);
    const char *lte = FIELD("Count|lte: 10");
    CHECK_INT(HITS(lte, "{\"Count\":10}\n"), 1);
    CHECK_INT(HITS(lte, "{\"Count\":11}\n"), 0);
}

static void numeric_values_may_be_quoted_negative_or_decimal(void)
{
    const char *q = FIELD("Count|lt: '5'");
    CHECK_INT(HITS(q, "{\"Count\":4}\n"), 1);
    CHECK_INT(HITS(q, "{\"Count\":5}\n"), 0);
    const char *neg = FIELD("Delta|lt: -1.5");
    CHECK_INT(HITS(neg, "{\"Delta\":-2}\n"), 1);
    CHECK_INT(HITS(neg, "{\"Delta\":-1.5}\n"), 0);
    const char *two = RULE("    sel:\n        Count|gte: 1\n    sel2:\n        Count|lte: 3\n"
                           "    condition: sel and sel2\n");
    CHECK_INT(HITS(two, "{\"Count\":2}\n{\"Count\":3}\n{\"Count\":4}\n{\"Count\":0}\n"), 2);
}

static void numeric_modifiers_reject_bad_values(void)
{
    REJECTS(FIELD("Count|gt: ten"), "not a number");
    REJECTS(FIELD("Count|gt|contains: 10"), "cannot be combined");
}

/* ---------------------------------------------------------------- time */

static void hour_of_a_timestamp(void)
{
    const char *r = FIELD("UtcTime|hour: 7");
    CHECK_INT(HITS(r, J1("UtcTime", "2021-03-02T07:01:12Z")), 1);
    CHECK_INT(HITS(r, J1("UtcTime", "2021-03-02 07:01:12.123")), 1);
    CHECK_INT(HITS(r, J1("UtcTime", "2021-03-02T08:01:12Z")), 0);
    CHECK_INT(HITS(r, J1("UtcTime", "not a time")), 0);
}

static void minute_day_month_year(void)
{
    const char *ev = J1("UtcTime", "2021-03-02T07:01:12Z");
    CHECK_INT(HITS(FIELD("UtcTime|minute: 1"), ev), 1);
    CHECK_INT(HITS(FIELD("UtcTime|minute: 12"), ev), 0);
    CHECK_INT(HITS(FIELD("UtcTime|day: 2"), ev), 1);
    CHECK_INT(HITS(FIELD("UtcTime|day: 3"), ev), 0);
    CHECK_INT(HITS(FIELD("UtcTime|month: 3"), ev), 1);
    CHECK_INT(HITS(FIELD("UtcTime|month: 2"), ev), 0);
    CHECK_INT(HITS(FIELD("UtcTime|year: 2021"), ev), 1);
    CHECK_INT(HITS(FIELD("UtcTime|year: 2020"), ev), 0);
}

static void week_is_the_iso_week(void)
{
    const char *w53 = FIELD("UtcTime|week: 53");
    CHECK_INT(HITS(w53, J1("UtcTime", "2021-01-03T12:00:00Z")), 1); /* a Sunday: week 53 of 2020 */
    CHECK_INT(HITS(w53, J1("UtcTime", "2020-12-31T12:00:00Z")), 1);
    CHECK_INT(HITS(w53, J1("UtcTime", "2021-01-04T00:00:00Z")), 0);
    const char *w1 = FIELD("UtcTime|week: 1");
    CHECK_INT(HITS(w1, J1("UtcTime", "2021-01-04T00:00:00Z")), 1);
    CHECK_INT(HITS(w1, J1("UtcTime", "2019-12-30T00:00:00Z")), 1); /* Monday of week 1 of 2020 */
    CHECK_INT(HITS(w1, J1("UtcTime", "2021-01-03T23:59:59Z")), 0);
    CHECK_INT(HITS(FIELD("UtcTime|week: 9"), J1("UtcTime", "2021-03-02T07:01:12Z")), 1);
}

static void time_parts_compare_with_lt_gt(void)
{
    const char *night = RULE("    late:\n        UtcTime|hour|gte: 22\n    early:\n        UtcTime|hour|lt: 6\n"
                             "    condition: late or early\n");
    CHECK_INT(HITS(night, J1("UtcTime", "2021-03-02T23:30:00Z")), 1);
    CHECK_INT(HITS(night, J1("UtcTime", "2021-03-02T05:59:59Z")), 1);
    CHECK_INT(HITS(night, J1("UtcTime", "2021-03-02T06:00:00Z")), 0);
    CHECK_INT(HITS(night, J1("UtcTime", "2021-03-02T21:59:59Z")), 0);
}

/* ---------------------------------------------------------------- networks */

static void cidr_ipv4(void)
{
    const char *r = FIELD("DestinationIp|cidr: '10.0.0.0/8'");
    CHECK_INT(HITS(r, J1("DestinationIp", "10.1.2.3")), 1);
    CHECK_INT(HITS(r, J1("DestinationIp", "11.0.0.1")), 0);
    CHECK_INT(HITS(r, J1("DestinationIp", "9.255.255.255")), 0);
    CHECK_INT(HITS(r, J1("DestinationIp", "not-an-ip")), 0);
    const char *odd = FIELD("DestinationIp|cidr: '172.16.0.0/12'");
    CHECK_INT(HITS(odd, J1("DestinationIp", "172.31.255.255")), 1);
    CHECK_INT(HITS(odd, J1("DestinationIp", "172.32.0.1")), 0);
    CHECK_INT(HITS(odd, J1("DestinationIp", "172.15.255.255")), 0);
}

static void cidr_ipv6(void)
{
    const char *r = FIELD("DestinationIp|cidr: '2001:db8::/32'");
    CHECK_INT(HITS(r, J1("DestinationIp", "2001:db8:1::5")), 1);
    CHECK_INT(HITS(r, J1("DestinationIp", "2001:DB8::1")), 1);
    CHECK_INT(HITS(r, J1("DestinationIp", "2001:db9::1")), 0);
    CHECK_INT(HITS(r, J1("DestinationIp", "10.0.0.1")), 0);
    const char *v4 = FIELD("DestinationIp|cidr: '10.0.0.0/8'");
    CHECK_INT(HITS(v4, J1("DestinationIp", "2001:db8::1")), 0);
}

static void cidr_lists_and_hosts(void)
{
    const char *r = FIELD("DestinationIp|cidr:\n            - '10.0.0.0/8'\n            - '192.168.0.0/16'");
    CHECK_INT(HITS(r, J1("DestinationIp", "192.168.5.5")), 1);
    CHECK_INT(HITS(r, J1("DestinationIp", "172.16.0.1")), 0);
    const char *host = FIELD("DestinationIp|cidr: '192.0.2.7/32'");
    CHECK_INT(HITS(host, J1("DestinationIp", "192.0.2.7")), 1);
    CHECK_INT(HITS(host, J1("DestinationIp", "192.0.2.8")), 0);
    /* host bits in the rule's network are ignored, as ipaddress(strict=False) does */
    const char *loose = FIELD("DestinationIp|cidr: '10.1.2.3/8'");
    CHECK_INT(HITS(loose, J1("DestinationIp", "10.200.0.1")), 1);
    CHECK_INT(HITS(loose, J1("DestinationIp", "11.1.2.3")), 0);
    const char *any = FIELD("DestinationIp|cidr: '0.0.0.0/0'");
    CHECK_INT(HITS(any, J1("DestinationIp", "203.0.113.9")), 1);
}

static void cidr_rejects_bad_networks(void)
{
    REJECTS(FIELD("DestinationIp|cidr: '10.0.0.0/33'"), "prefix");
    REJECTS(FIELD("DestinationIp|cidr: '2001:db8::/129'"), "prefix");
    REJECTS(FIELD("DestinationIp|cidr: '10.0.0.256/8'"), "network");
    REJECTS(FIELD("DestinationIp|cidr: 'intranet'"), "network");
    REJECTS(FIELD("DestinationIp|cidr|contains: '10.0.0.0/8'"), "cannot be combined");
}

/* ---------------------------------------------------------------- regular expressions */

static void re_is_case_sensitive(void)
{
    const char *r = FIELD("CommandLine|re: 'who.mi'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoami")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c WHOAMI")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whomi")), 0);
}

static void re_i_ignores_case(void)
{
    const char *r = FIELD("CommandLine|re|i: 'who.mi'");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c WHOAMI")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c whoareyou")), 0);
}

static void re_searches_unless_anchored(void)
{
    const char *start = FIELD("CommandLine|re: '^cmd'");
    CHECK_INT(HITS(start, J1("CommandLine", "cmd /c dir")), 1);
    CHECK_INT(HITS(start, J1("CommandLine", "xcmd /c dir")), 0);
    const char *end = FIELD("CommandLine|re: 'dir$'");
    CHECK_INT(HITS(end, J1("CommandLine", "cmd /c dir")), 1);
    CHECK_INT(HITS(end, J1("CommandLine", "dir /s")), 0);
    const char *mid = FIELD("CommandLine|re: 'd /c'");
    CHECK_INT(HITS(mid, J1("CommandLine", "cmd /c dir")), 1);
    /* a regex value is PCRE, not a Sigma string: \d is a digit class */
    const char *digits = FIELD("EventID|re: '^\\d{4}$'");
    CHECK_INT(HITS(digits, "{\"EventID\":4688}\n"), 1);
    CHECK_INT(HITS(digits, "{\"EventID\":468}\n"), 0);
}

static void re_m_and_s_flags(void)
{
    const char *ev = J1("Text", "line1\\nline2");
    CHECK_INT(HITS(FIELD("Text|re|m: '^line2$'"), ev), 1);
    CHECK_INT(HITS(FIELD("Text|re: '^line2$'"), ev), 0);
    CHECK_INT(HITS(FIELD("Text|re|s: '1.l'"), ev), 1);
    CHECK_INT(HITS(FIELD("Text|re: '1.l'"), ev), 0);
}

static void re_dot_is_one_character(void)
{
    /* like the '?' wildcard, a regular expression works on characters of
     * UTF-8 text, not on bytes: '.' takes the whole é */
    const char *r = FIELD("User|re: '^caf.$'");
    CHECK_INT(HITS(r, J1("User", "cafe")), 1);
    CHECK_INT(HITS(r, J1("User", "caf\xC3\xA9")), 1);
    CHECK_INT(HITS(r, J1("User", "caf\xC3\xA9s")), 0);
    CHECK_INT(HITS(r, J1("User", "caf")), 0);
}

static void re_list_is_or(void)
{
    const char *r = FIELD("User|re:\n            - '^adm_'\n            - '^svc_'");
    CHECK_INT(HITS(r, J1("User", "svc_backup")), 1);
    CHECK_INT(HITS(r, J1("User", "bob_svc_")), 0);
}

static void re_rejects_bad_patterns_and_clashes(void)
{
    REJECTS(FIELD("CommandLine|re: '('"), "regular expression");
    REJECTS(FIELD("CommandLine|re|contains: 'x'"), "cannot be combined");
    REJECTS(FIELD("CommandLine|i: 'x'"), "after 're'");
}

/* ---------------------------------------------------------------- encodings */

static void base64_of_the_value(void)
{
    /* whoami -> d2hvYW1p */
    const char *c = FIELD("CommandLine|base64|contains: 'whoami'");
    CHECK_INT(HITS(c, J1("CommandLine", "powershell -enc d2hvYW1p")), 1);
    CHECK_INT(HITS(c, J1("CommandLine", "powershell -enc d2hvYW1q")), 0);
    const char *x = FIELD("Data|base64: 'whoami'");
    CHECK_INT(HITS(x, J1("Data", "d2hvYW1p")), 1);
    CHECK_INT(HITS(x, J1("Data", "d2hvYW1pCg==")), 0);
}

static void base64offset_finds_all_three_shifts(void)
{
    const char *r = FIELD("CommandLine|base64offset|contains: 'http://'");
    /* base64 of "http://example.com/a", "ahttp://example.com/a", "xxhttp://example.com/a" */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -e aHR0cDovL2V4YW1wbGUuY29tL2E=")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -e YWh0dHA6Ly9leGFtcGxlLmNvbS9h")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -e eHhodHRwOi8vZXhhbXBsZS5jb20vYQ==")), 1);
    /* base64 of "xxhttps:/example.com", and the plain text */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -e eHhodHRwczovZXhhbXBsZS5jb20=")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell iwr http://example.com/a")), 0);
}

static void utf16le_base64offset_finds_encoded_commands(void)
{
    /* powershell -EncodedCommand: UTF-16LE, then base64; "Invoke-WebRequest"
     * at byte offsets 0, 2 and 4 (shifts 0, 2 and 1) */
    const char *r = FIELD("CommandLine|utf16le|base64offset|contains: 'Invoke-'");
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -enc SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0AA==")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -enc eABJAG4AdgBvAGsAZQAtAFcAZQBiAFIAZQBxAHUAZQBzAHQA")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -enc eAB4AEkAbgB2AG8AawBlAC0AVwBlAGIAUgBlAHEAdQBlAHMAdAA=")), 1);
    /* "Invoko-WebRequest" */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -enc SQBuAHYAbwBrAG8ALQBXAGUAYgBSAGUAcQB1AGUAcwB0AA==")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -enc eAB4AEkAbgB2AG8AawBvAC0AVwBlAGIAUgBlAHEAdQBlAHMAdAA=")), 0);
    const char *wide = FIELD("CommandLine|wide|base64offset|contains: 'Invoke-'");
    CHECK_INT(HITS(wide, J1("CommandLine", "powershell -enc eABJAG4AdgBvAGsAZQAtAFcAZQBiAFIAZQBxAHUAZQBzAHQA")), 1);
}

static void utf16_variants(void)
{
    /* cmd in UTF-16LE, UTF-16BE and UTF-16 with the BOM FF FE, each in base64 */
    const char *le = FIELD("Data|utf16le|base64: 'cmd'");
    CHECK_INT(HITS(le, J1("Data", "YwBtAGQA")), 1);
    CHECK_INT(HITS(le, J1("Data", "AGMAbQBk")), 0);
    const char *be = FIELD("Data|utf16be|base64: 'cmd'");
    CHECK_INT(HITS(be, J1("Data", "AGMAbQBk")), 1);
    CHECK_INT(HITS(be, J1("Data", "YwBtAGQA")), 0);
    const char *bom = FIELD("Data|utf16|base64: 'cmd'");
    CHECK_INT(HITS(bom, J1("Data", "//5jAG0AZAA=")), 1);
    CHECK_INT(HITS(bom, J1("Data", "YwBtAGQA")), 0);
    /* beyond ASCII: é is E9 00; U+1F600 is the surrogate pair D83D DE00 */
    const char *cafe = FIELD("Data|utf16le|base64: 'caf\xC3\xA9'");
    CHECK_INT(HITS(cafe, J1("Data", "YwBhAGYA6QA=")), 1);
    CHECK_INT(HITS(cafe, J1("Data", "YwBhAGYAZQA=")), 0); /* cafe */
    const char *smile = FIELD("Data|utf16le|base64: '\xF0\x9F\x98\x80'");
    CHECK_INT(HITS(smile, J1("Data", "PdgA3g==")), 1);
    CHECK_INT(HITS(smile, J1("Data", "8J+YgA==")), 0); /* its UTF-8 in base64 */
}

static void base64_rejects_wildcards(void)
{
    REJECTS(FIELD("CommandLine|base64: 'who*'"), "wildcards");
}

/* ---------------------------------------------------------------- windash */

static void windash_accepts_slash_and_unicode_dashes(void)
{
    const char *r = FIELD("CommandLine|windash|contains: ' -c '");
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -c x")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell /c x")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell \xE2\x80\x93" "c x")), 1); /* en dash */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell \xE2\x80\x94" "c x")), 1); /* em dash */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell \xE2\x80\x95" "c x")), 1); /* horizontal bar */
    CHECK_INT(HITS(r, J1("CommandLine", "powershell +c x")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell \\\\c x")), 0);
    /* a slash in the rule is a flag too */
    const char *slash = FIELD("CommandLine|windash|startswith: '/enc'");
    CHECK_INT(HITS(slash, J1("CommandLine", "-ENC abc")), 1);
    CHECK_INT(HITS(slash, J1("CommandLine", "\xE2\x80\x95" "enc abc")), 1);
    CHECK_INT(HITS(slash, J1("CommandLine", "x-enc abc")), 0);
}

static void windash_leaves_dashes_inside_words(void)
{
    const char *r = FIELD("CommandLine|windash|contains: 'x-c'");
    CHECK_INT(HITS(r, J1("CommandLine", "run x-c")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "run x/c")), 0);
    CHECK_INT(HITS(r, J1("CommandLine", "run x\xE2\x80\x93" "c")), 0);
}

static void windash_permutes_every_flag(void)
{
    const char *r = FIELD("CommandLine|windash|contains: '-nop -w hidden'");
    CHECK_INT(HITS(r, J1("CommandLine", "powershell /nop \xE2\x80\x94w hidden")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -nop /w hidden")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "powershell -nop -x hidden")), 0);
}

/* ---------------------------------------------------------------- keywords */

static void keywords_search_every_value(void)
{
    const char *r = RULE("    keywords:\n        - 'whoami'\n        - 'mimikatz'\n    condition: keywords\n");
    CHECK_INT(HITS(r, "{\"A\":\"x\",\"CommandLine\":\"cmd /c WHOAMI /all\"}\n"), 1);
    CHECK_INT(HITS(r, J1("B", "run Mimikatz.exe")), 1);
    CHECK_INT(HITS(r, "{\"Args\":[\"a\",\"sekurlsa mimikatz\"]}\n"), 1);
    CHECK_INT(HITS(r, "{\"CommandLine\":\"cmd /c dir\",\"User\":\"who\"}\n"), 0);
    /* values only, not field names */
    CHECK_INT(HITS(r, "{\"whoami\":\"x\",\"Mimikatz\":1}\n"), 0);
}

static void keywords_all_needs_every_value(void)
{
    const char *r = RULE("    keywords:\n        '|all':\n            - 'OabVirtualDirectory'\n"
                         "            - ' -ExternalUrl '\n    condition: keywords\n");
    CHECK_INT(HITS(r, J1("Payload", "Set-OabVirtualDirectory -ExternalUrl http://x")), 1);
    CHECK_INT(HITS(r, "{\"A\":\"Set-OabVirtualDirectory\",\"B\":\"x -ExternalUrl y\"}\n"), 1);
    CHECK_INT(HITS(r, J1("Payload", "Set-OabVirtualDirectory -InternalUrl http://x")), 0);
}

static void keywords_keep_wildcards(void)
{
    const char *r = RULE("    keywords:\n        - 'who*mi'\n    condition: keywords\n");
    CHECK_INT(HITS(r, J1("CommandLine", "cmd /c WHO-AM-I and mimi")), 1);
    CHECK_INT(HITS(r, J1("CommandLine", "mi who")), 0);
    const char *num = RULE("    keywords:\n        - 4444\n    condition: keywords\n");
    CHECK_INT(HITS(num, "{\"DestinationPort\":4444}\n"), 1);
    CHECK_INT(HITS(num, "{\"DestinationPort\":443}\n"), 0);
}

/* ---------------------------------------------------------------- fieldref */

static void fieldref_compares_two_fields(void)
{
    const char *r = FIELD("TargetUserName|fieldref: SubjectUserName");
    CHECK_INT(HITS(r, "{\"TargetUserName\":\"Bob\",\"SubjectUserName\":\"bob\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"TargetUserName\":\"bob\",\"SubjectUserName\":\"alice\"}\n"), 0);
    CHECK_INT(HITS(r, "{\"TargetUserName\":\"bob\",\"SubjectUserName\":\"bobby\"}\n"), 0);
    CHECK_INT(HITS(r, J1("TargetUserName", "bob")), 0);
}

static void fieldref_neq(void)
{
    const char *r = FIELD("TargetUserName|fieldref|neq: SubjectUserName");
    CHECK_INT(HITS(r, "{\"TargetUserName\":\"bob\",\"SubjectUserName\":\"alice\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"TargetUserName\":\"bob\",\"SubjectUserName\":\"BOB\"}\n"), 0);
}

static void fieldref_contains_startswith_endswith(void)
{
    const char *c = FIELD("CommandLine|fieldref|contains: Image");
    CHECK_INT(HITS(c, "{\"CommandLine\":\"run evil.exe now\",\"Image\":\"EVIL.EXE\"}\n"), 1);
    CHECK_INT(HITS(c, "{\"CommandLine\":\"run good.exe now\",\"Image\":\"evil.exe\"}\n"), 0);
    const char *s = FIELD("A|fieldref|startswith: B");
    CHECK_INT(HITS(s, "{\"A\":\"abcdef\",\"B\":\"ABC\"}\n"), 1);
    CHECK_INT(HITS(s, "{\"A\":\"xabc\",\"B\":\"abc\"}\n"), 0);
    const char *e = FIELD("A|fieldref|endswith: B");
    CHECK_INT(HITS(e, "{\"A\":\"abcdef\",\"B\":\"DEF\"}\n"), 1);
    CHECK_INT(HITS(e, "{\"A\":\"defx\",\"B\":\"def\"}\n"), 0);
}

static void fieldref_cased(void)
{
    const char *r = FIELD("A|fieldref|cased: B");
    CHECK_INT(HITS(r, "{\"A\":\"Bob\",\"B\":\"Bob\"}\n"), 1);
    CHECK_INT(HITS(r, "{\"A\":\"Bob\",\"B\":\"bob\"}\n"), 0);
    REJECTS(FIELD("A|fieldref:\n            - B\n            - C"), "one field name");
    REJECTS(FIELD("A|fieldref|re: B"), "fieldref");
}

/* ---------------------------------------------------------------- placeholders */

static void expand_without_values_does_not_run(void)
{
    REJECTS(FIELD("User|expand: '%Admins%'"), "placeholder");
    CHECK_CONTAINS(sigma_last_error, "Admins");
}

static void expand_uses_the_given_values(void)
{
    const char *ph = "Admins:\n  - 'adm_*'\n  - root\n";
    const char *r = FIELD("User|expand: '%Admins%'");
    CHECK_INT(hits_with_placeholders(r, ph, J1("User", "ADM_bob")), 1);
    CHECK_INT(hits_with_placeholders(r, ph, J1("User", "root")), 1);
    CHECK_INT(hits_with_placeholders(r, ph, J1("User", "bob")), 0);
    CHECK_INT(hits_with_placeholders(r, ph, J1("User", "xadm_bob")), 0);
    CHECK_INT(hits_with_placeholders(r, ph, J1("User", "rooted")), 0);
    /* two placeholders in one value: every combination */
    const char *two = FIELD("Host|expand: '%Site%-%Role%'");
    const char *ph2 = "Site:\n  - rome\n  - oslo\nRole: dc\n";
    CHECK_INT(hits_with_placeholders(two, ph2, J1("Host", "OSLO-dc")), 1);
    CHECK_INT(hits_with_placeholders(two, ph2, J1("Host", "rome-dc")), 1);
    CHECK_INT(hits_with_placeholders(two, ph2, J1("Host", "rome-web")), 0);
}

static void expand_escaped_percent_is_plain(void)
{
    const char *ph = "Admins:\n  - root\n";
    const char *r = FIELD("Path|expand: '\\%plain%Admins%'");
    CHECK_INT(hits_with_placeholders(r, ph, J1("Path", "%plainroot")), 1);
    CHECK_INT(hits_with_placeholders(r, ph, J1("Path", "root")), 0);
    CHECK_INT(hits_with_placeholders(r, ph, J1("Path", "\\\\%plainroot")), 0);
}

static void percent_without_expand_is_literal(void)
{
    const char *r = FIELD("Path: '%Admins%'");
    CHECK_INT(HITS(r, J1("Path", "%admins%")), 1);
    CHECK_INT(HITS(r, J1("Path", "root")), 0);
    /* with values given, a value without |expand still stays literal */
    CHECK_INT(hits_with_placeholders(r, "Admins: root\n", J1("Path", "root")), 0);
}

/* ---------------------------------------------------------------- conditions */

/* Searches a, b, c on fields A, B, C; the eight events hold every subset. */
#define RULE3(cond)                                                                                \
    RULE("    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n    condition: " cond "\n")
static const char subsets[] = "{\"N\":0}\n{\"A\":1}\n{\"B\":1}\n{\"C\":1}\n{\"A\":1,\"B\":1}\n"
                              "{\"A\":1,\"C\":1}\n{\"B\":1,\"C\":1}\n{\"A\":1,\"B\":1,\"C\":1}\n";

static void and_binds_tighter_than_or(void)
{
    CHECK_INT(HITS(RULE3("a or b and c"), subsets), 5);
    CHECK_INT(HITS(RULE3("b and c or a"), subsets), 5);
    CHECK_INT(HITS(RULE3("a and b or c"), subsets), 5);
    CHECK_INT(HITS(RULE3("a and b and c"), subsets), 1);
    CHECK_INT(HITS(RULE3("a or b or c"), subsets), 7);
}

static void not_binds_tightest(void)
{
    CHECK_INT(HITS(RULE3("not a and b"), subsets), 2);
    CHECK_INT(HITS(RULE3("not a or b"), subsets), 6);
    CHECK_INT(HITS(RULE3("a and not b and not c"), subsets), 1);
    CHECK_INT(HITS(RULE3("not not a"), subsets), 4);
    CHECK_INT(HITS(RULE3("not a"), subsets), 4);
}

static void brackets_group(void)
{
    CHECK_INT(HITS(RULE3("(a or b) and c"), subsets), 3);
    CHECK_INT(HITS(RULE3("not (a and b)"), subsets), 6);
    CHECK_INT(HITS(RULE3("not (a or b)"), subsets), 2);
    CHECK_INT(HITS(RULE3("((a)) and ((b or (c)))"), subsets), 3);
    CHECK_INT(HITS(RULE3("a and(not b)"), subsets), 2); /* brackets need no spaces */
}

static void operators_ignore_case(void)
{
    CHECK_INT(HITS(RULE3("a AND b"), subsets), 2);
    CHECK_INT(HITS(RULE3("a Or b"), subsets), 6);
    CHECK_INT(HITS(RULE3("NOT a"), subsets), 4);
    CHECK_INT(HITS(RULE3("ALL OF them"), subsets), 1);
}

static void one_of_and_all_of_a_pattern(void)
{
#define RULE_SEL(cond)                                                                             \
    RULE("    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    other:\n        C: 1\n"              \
         "    condition: " cond "\n")
    CHECK_INT(HITS(RULE_SEL("1 of sel*"), subsets), 6);
    CHECK_INT(HITS(RULE_SEL("all of sel*"), subsets), 2);
    CHECK_INT(HITS(RULE_SEL("all of sel* and not other"), subsets), 1);
    CHECK_INT(HITS(RULE_SEL("1 of sel_* or other"), subsets), 7);
    CHECK_INT(HITS(RULE_SEL("1 of *_a"), subsets), 4);
    CHECK_INT(HITS(RULE_SEL("1 of them"), subsets), 7);
    CHECK_INT(HITS(RULE_SEL("all of them"), subsets), 1);
    CHECK_INT(HITS(RULE_SEL("not 1 of sel*"), subsets), 2);
    CHECK_INT(HITS(RULE_SEL("not all of sel*"), subsets), 6);
#undef RULE_SEL
}

static void them_leaves_out_underscore_names(void)
{
    const char *one = RULE("    a:\n        A: 1\n    _b:\n        B: 1\n    condition: 1 of them\n");
    CHECK_INT(HITS(one, subsets), 4);
    const char *all = RULE("    a:\n        A: 1\n    _b:\n        B: 1\n    c:\n        C: 1\n"
                           "    condition: all of them\n");
    CHECK_INT(HITS(all, subsets), 2);
    /* an explicit pattern still reaches them */
    const char *under = RULE("    a:\n        A: 1\n    _b:\n        B: 1\n    condition: 1 of _*\n");
    CHECK_INT(HITS(under, subsets), 4);
    const char *named = RULE("    a:\n        A: 1\n    _b:\n        B: 1\n    condition: a and _b\n");
    CHECK_INT(HITS(named, subsets), 2);
}

static void condition_list_is_or(void)
{
    const char *r = RULE("    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n"
                         "    condition:\n        - a and b\n        - c\n");
    CHECK_INT(HITS(r, subsets), 5);
}

static void condition_errors(void)
{
    REJECTS(RULE3("a and x"), "'x' is not a search identifier");
    REJECTS(RULE3("(a or b"), "not closed");
    REJECTS(RULE3("a or b)"), "closes nothing");
    REJECTS(RULE3("1 of nothing*"), "matches no search identifier");
    REJECTS(RULE3("2 of a*"), "'1 of' and 'all of'");
    REJECTS(RULE3("a*"), "'1 of' or 'all of'");
    REJECTS(RULE3("a b"), "missing 'and' or 'or'");
    REJECTS(RULE3("a and"), "ends where a search identifier was expected");
    REJECTS(RULE3("a and or b"), "'or' where a search identifier was expected");
    REJECTS(RULE3("''"), "empty");
    REJECTS(RULE3("A and B"), "not a search identifier"); /* identifiers keep their case */
}

static void aggregation_is_rejected(void)
{
    REJECTS(RULE3("a | count() > 5"), "aggregation");
    REJECTS(RULE3("a | count() by B > 5"), "correlation");
    REJECTS(RULE("    selection:\n        A: 1\n    timeframe: 5m\n"
                 "    condition: selection | count(B) by C > 3\n"),
            "aggregation");
}

/* ---------------------------------------------------------------- invalid rules */

static void rejects_missing_parts(void)
{
    REJECTS(SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n    condition: sel\n", "title");
    REJECTS("title: t\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n", "condition");
    REJECTS("title: t\n" SIGMA_TEST_LOGSOURCE, "detection");
    REJECTS("title: t\ndetection:\n    sel:\n        A: 1\n    condition: sel\n", "logsource");
    REJECTS("title: t\nlogsource:\n    definition: x\ndetection:\n    sel:\n        A: 1\n    condition: sel\n",
            "product, category or service");
    REJECTS(RULE("    condition: sel\n"), "no search identifier");
}

static void rejects_unknown_modifier(void)
{
    REJECTS(FIELD("Image|foo: 'x'"), "unknown modifier 'foo'");
    REJECTS(FIELD("Image|contains|foo: 'x'"), "unknown modifier");
    REJECTS(FIELD("Image||contains: 'x'"), "empty modifier");
}

static void rejects_bad_metadata(void)
{
    REJECTS("title: t\nlevel: severe\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
            "    condition: sel\n",
            "level");
    REJECTS("title: t\nstatus: production\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
            "    condition: sel\n",
            "status");
    /* titles: at most 256 characters */
    char rule[1024], title[300];
    memset(title, 'x', 257);
    title[257] = '\0';
    snprintf(rule, sizeof rule, "title: %s\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n    condition: sel\n",
             title);
    REJECTS(rule, "256");
    title[256] = '\0';
    snprintf(rule, sizeof rule, "title: %s\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n    condition: sel\n",
             title);
    CHECK_INT(HITS(rule, "{\"A\":1}\n"), 1);
    /* an id that is not a UUID is a warning: the harness counts it as a failure */
    REJECTS("title: t\nid: not-a-uuid\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
            "    condition: sel\n",
            "UUID");
    CHECK_INT(HITS("title: t\nid: 5F1A7C2E-0B7D-4C55-9A11-3E2B8D4F6A02\nlevel: HIGH\n" SIGMA_TEST_LOGSOURCE
                   "detection:\n    sel:\n        A: 1\n    condition: sel\n",
                   "{\"A\":1}\n"),
              1);
}

static void rejects_bad_values(void)
{
    REJECTS(FIELD("FieldB:\n            - ''\n            - null"), "null cannot be one of several values");
    REJECTS(FIELD("Field|contains: null"), "null cannot take modifiers");
    REJECTS(FIELD("Field:\n            sub: 1"), "cannot be a map");
    REJECTS(RULE("    sel:\n    condition: sel\n"), "is empty");
    REJECTS(RULE("    sel:\n        '|exists': true\n    condition: sel\n"), "field name");
    REJECTS(RULE("    sel:\n        - A: 1\n        - 'keyword'\n    condition: sel\n"), "mixes maps and keywords");
}

static void a_bad_rule_leaves_the_others(void)
{
    const char *rules = "title: Broken\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A|foo: 1\n"
                        "    condition: sel\n"
                        "---\n"
                        "title: Good\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
                        "    condition: sel\n";
    REJECTS(rules, "Broken");
    tr_ruleset *rs = build(rules, NULL, false);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_CONTAINS(local_error, "line 6");
    CHECK_INT(tr_ruleset_get_stats(rs)->loaded, 1);
    CHECK_INT(tr_ruleset_get_stats(rs)->failed, 1);
    CHECK_INT(sigma_hunt_memory(rs, "{\"A\":1}\n{\"A\":2}\n", 0), 1);
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- collections */

static void several_documents_are_several_rules(void)
{
    const char *rules = "title: One\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
                        "    condition: sel\n"
                        "---\n"
                        "title: Two\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        B: 1\n"
                        "    condition: sel\n";
    CHECK_INT(HITS(rules, subsets), 8); /* 4 events with A, 4 with B */
    CHECK_INT(HITS(rules, "{\"A\":1,\"B\":1}\n"), 2);
    CHECK_INT(HITS(rules, "{\"C\":1}\n"), 0);
}

static void global_is_merged_into_each_document(void)
{
    const char *rules = "action: global\n"
                        "title: Base\n" SIGMA_TEST_LOGSOURCE "detection:\n"
                        "    base:\n        EventID: 1\n"
                        "    condition: base and sel\n"
                        "---\n"
                        "title: Cmd\n"
                        "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n"
                        "---\n"
                        "title: Pwsh\n"
                        "detection:\n    sel:\n        Image|endswith: '\\pwsh.exe'\n";
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\cmd.exe\"}\n"), 1);
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\pwsh.exe\"}\n"), 1);
    CHECK_INT(HITS(rules, "{\"EventID\":2,\"Image\":\"C:\\\\cmd.exe\"}\n"), 0);
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\bash.exe\"}\n"), 0);
    tr_ruleset *rs = build(rules, NULL, true);
    CHECK(rs != NULL);
    if (rs) {
        CHECK_INT(tr_ruleset_count(rs), 2);
        tr_ruleset_destroy(rs);
    }
}

static void global_merges_maps_key_by_key(void)
{
    const char *rules = "action: global\n"
                        SIGMA_TEST_LOGSOURCE "detection:\n"
                        "    sel:\n        EventID: 1\n"
                        "    condition: sel\n"
                        "---\n"
                        "title: Cmd\n"
                        "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n";
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\cmd.exe\"}\n"), 1);
    CHECK_INT(HITS(rules, "{\"EventID\":2,\"Image\":\"C:\\\\cmd.exe\"}\n"), 0);
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\pwsh.exe\"}\n"), 0);
}

static void reset_ends_the_global(void)
{
    const char *rules = "action: global\n"
                        SIGMA_TEST_LOGSOURCE "detection:\n"
                        "    base:\n        EventID: 1\n"
                        "---\n"
                        "title: With base\n"
                        "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: base and sel\n"
                        "---\n"
                        "action: reset\n"
                        "---\n"
                        "title: Without base\n" SIGMA_TEST_LOGSOURCE
                        "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\n";
    CHECK_INT(HITS(rules, "{\"EventID\":1,\"Image\":\"C:\\\\cmd.exe\"}\n"), 2);
    CHECK_INT(HITS(rules, "{\"EventID\":2,\"Image\":\"C:\\\\cmd.exe\"}\n"), 1);
    /* after the reset, nothing of the global is left: no logsource */
    REJECTS("action: global\n" SIGMA_TEST_LOGSOURCE
            "---\n"
            "action: reset\n"
            "---\n"
            "title: Lost\ndetection:\n    sel:\n        A: 1\n    condition: sel\n",
            "logsource");
}

static void repeat_takes_the_previous_rule(void)
{
    const char *rules = "title: Cmd\n"
                        "id: 0f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f1\n" SIGMA_TEST_LOGSOURCE
                        "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\n"
                        "---\n"
                        "action: repeat\n"
                        "title: Pwsh\n"
                        "id: 0f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f2\n"
                        "detection:\n    sel:\n        Image|endswith: '\\pwsh.exe'\n";
    CHECK_INT(HITS(rules, J1("Image", "C:\\\\cmd.exe")), 1);
    CHECK_INT(HITS(rules, J1("Image", "C:\\\\pwsh.exe")), 1);
    CHECK_INT(HITS(rules, J1("Image", "C:\\\\bash.exe")), 0);
    tr_ruleset *rs = build(rules, NULL, true);
    CHECK(rs != NULL);
    if (rs) {
        CHECK_INT(tr_ruleset_count(rs), 2);
        CHECK(tr_ruleset_rule(rs, 1)->title && strcmp(tr_ruleset_rule(rs, 1)->title, "Pwsh") == 0);
        tr_ruleset_destroy(rs);
    }
}

static void bad_actions_are_reported(void)
{
    REJECTS("action: repeat\ntitle: x\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
            "    condition: sel\n",
            "repeat");
    REJECTS("action: replay\ntitle: x\n" SIGMA_TEST_LOGSOURCE "detection:\n    sel:\n        A: 1\n"
            "    condition: sel\n",
            "unknown action");
}

/* ---------------------------------------------------------------- filters */

#define TWO_RULES                                                                                  \
    "title: Cmd\n"                                                                                 \
    "id: 6f3e2987-db24-4c78-a860-b4f4095a7095\n"                                                   \
    "name: cmd_rule\n" SIGMA_TEST_LOGSOURCE                                                        \
    "detection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\n"              \
    "---\n"                                                                                        \
    "title: Cmd line\n"                                                                            \
    "id: df0841c0-9846-4e9f-ad8a-7df91571771b\n" SIGMA_TEST_LOGSOURCE                              \
    "detection:\n    sel:\n        CommandLine|contains: 'cmd'\n    condition: sel\n"              \
    "---\n"

static void filter_suppresses_the_named_rule(void)
{
    const char *rules = TWO_RULES "title: Administrators\n" SIGMA_TEST_LOGSOURCE
                                  "filter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n"
                                  "    selection:\n        User|startswith: 'adm_'\n    condition: selection\n";
    const char *adm = "{\"Image\":\"C:\\\\cmd.exe\",\"CommandLine\":\"cmd /c dir\",\"User\":\"ADM_bob\"}\n";
    const char *bob = "{\"Image\":\"C:\\\\cmd.exe\",\"CommandLine\":\"cmd /c dir\",\"User\":\"bob\"}\n";
    CHECK_INT(HITS(rules, adm), 1); /* the second rule is not named: it still fires */
    CHECK_INT(HITS(rules, bob), 2);
}

static void filter_by_name_and_several_rules(void)
{
    const char *by_name = TWO_RULES "title: Administrators\n" SIGMA_TEST_LOGSOURCE
                                    "filter:\n    rules: cmd_rule\n"
                                    "    selection:\n        User|startswith: 'adm_'\n    condition: selection\n";
    const char *adm = "{\"Image\":\"C:\\\\cmd.exe\",\"CommandLine\":\"cmd /c dir\",\"User\":\"adm_x\"}\n";
    CHECK_INT(HITS(by_name, adm), 1);
    const char *both = TWO_RULES "title: Administrators\n" SIGMA_TEST_LOGSOURCE
                                 "filter:\n    rules:\n        - cmd_rule\n"
                                 "        - df0841c0-9846-4e9f-ad8a-7df91571771b\n"
                                 "    selection:\n        User|startswith: 'adm_'\n"
                                 "    other:\n        Host: 'jump1'\n"
                                 "    condition: selection and not other\n";
    CHECK_INT(HITS(both, adm), 0);
    CHECK_INT(HITS(both, "{\"Image\":\"C:\\\\cmd.exe\",\"CommandLine\":\"cmd\",\"User\":\"adm_x\",\"Host\":\"JUMP1\"}\n"),
              2);
}

static void filter_naming_no_rule_is_reported(void)
{
    REJECTS(TWO_RULES "title: Stray\n" SIGMA_TEST_LOGSOURCE
                      "filter:\n    rules:\n        - 11111111-2222-4333-8444-555555555555\n"
                      "    selection:\n        User: x\n    condition: selection\n",
            "no loaded rule");
    REJECTS(TWO_RULES "title: No rules\n" SIGMA_TEST_LOGSOURCE
                      "filter:\n    selection:\n        User: x\n    condition: selection\n",
            "rules");
}

/* ---------------------------------------------------------------- suite */

/* Security 4688 runs process_creation rules with its own field names
 * (NewProcessName for Image, ParentProcessName for ParentImage): the rule
 * and a filter on it both see the renamed fields. */
static void process_creation_on_4688_with_filter(void)
{
    static const char rules[] =
        "title: Whoami\n"
        "id: 3f0b7c4e-9a61-4d2b-8e5f-7a1c2d3e4f50\n"
        "status: test\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection:\n"
        "    selection:\n"
        "        Image|endswith: '\\whoami.exe'\n"
        "    condition: selection\n"
        "---\n"
        "title: Whoami from the desktop is the admin's\n"
        "logsource: {product: windows, category: process_creation}\n"
        "filter:\n"
        "    rules: [3f0b7c4e-9a61-4d2b-8e5f-7a1c2d3e4f50]\n"
        "    selection:\n"
        "        ParentImage|endswith: '\\explorer.exe'\n"
        "    condition: selection\n";
#define EV4688(img, parent)                                                                        \
    "{\"Event\":{\"System\":{\"EventID\":4688,\"Channel\":\"Security\"},\"EventData\":{"            \
    "\"NewProcessName\":\"" img "\",\"ParentProcessName\":\"" parent "\"}}}\n"
    CHECK_INT(sigma_hits(rules, EV4688("C:\\\\Windows\\\\System32\\\\whoami.exe",
                                       "C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe")), 1);
    CHECK_INT(sigma_hits(rules, EV4688("C:\\\\Windows\\\\System32\\\\whoami.exe", "C:\\\\Windows\\\\explorer.exe")), 0);
    CHECK_INT(sigma_hits(rules, EV4688("C:\\\\Windows\\\\System32\\\\net.exe",
                                       "C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe")), 0);
    /* the same event on another channel is not process creation */
    CHECK_INT(sigma_hits(rules, "{\"Event\":{\"System\":{\"EventID\":4688,\"Channel\":\"System\"},\"EventData\":{"
                                "\"NewProcessName\":\"C:\\\\whoami.exe\"}}}\n"), 0);
#undef EV4688
}

void suite_sigma(void)
{
    RUN(process_creation_on_4688_with_filter);
    RUN(value_is_the_whole_value);
    RUN(value_ignores_case);
    RUN(cased_compares_exactly);
    RUN(contains_finds_the_value_inside);
    RUN(contains_all_needs_every_value);
    RUN(value_list_is_or);
    RUN(startswith_anchors_at_the_start);
    RUN(endswith_anchors_at_the_end);
    RUN(startswith_keeps_inner_wildcards);
    RUN(star_is_any_run_of_characters);
    RUN(star_alone_matches_any_value);
    RUN(question_mark_is_one_character);
    RUN(question_mark_is_one_utf8_character);
    RUN(escaped_star_is_a_plain_star);
    RUN(escaped_question_mark_is_plain);
    RUN(three_backslashes_escape_backslash_and_star);
    RUN(double_backslash_is_one_backslash);
    RUN(numbers_match_as_text);
    RUN(field_names_ignore_case);
    RUN(nested_events_use_short_names);
    RUN(map_is_and);
    RUN(list_of_maps_is_or);
    RUN(json_array_matches_when_any_item_does);
    RUN(json_array_all_spreads_over_items);

    RUN(null_matches_absent_or_json_null);
    RUN(empty_value_matches_empty_or_null);
    RUN(null_and_empty_in_separate_selections);
    RUN(exists_true_ignores_the_value);
    RUN(exists_false_needs_the_field_absent);
    RUN(neq_needs_a_different_value);
    RUN(neq_with_string_modifiers);
    RUN(neq_null_needs_a_value);

    RUN(gt_excludes_the_boundary);
    RUN(gte_lt_lte_boundaries);
    RUN(numeric_values_may_be_quoted_negative_or_decimal);
    RUN(numeric_modifiers_reject_bad_values);

    RUN(hour_of_a_timestamp);
    RUN(minute_day_month_year);
    RUN(week_is_the_iso_week);
    RUN(time_parts_compare_with_lt_gt);

    RUN(cidr_ipv4);
    RUN(cidr_ipv6);
    RUN(cidr_lists_and_hosts);
    RUN(cidr_rejects_bad_networks);

    RUN(re_is_case_sensitive);
    RUN(re_i_ignores_case);
    RUN(re_searches_unless_anchored);
    RUN(re_m_and_s_flags);
    RUN(re_dot_is_one_character);
    RUN(re_list_is_or);
    RUN(re_rejects_bad_patterns_and_clashes);

    RUN(base64_of_the_value);
    RUN(base64offset_finds_all_three_shifts);
    RUN(utf16le_base64offset_finds_encoded_commands);
    RUN(utf16_variants);
    RUN(base64_rejects_wildcards);

    RUN(windash_accepts_slash_and_unicode_dashes);
    RUN(windash_leaves_dashes_inside_words);
    RUN(windash_permutes_every_flag);

    RUN(keywords_search_every_value);
    RUN(keywords_all_needs_every_value);
    RUN(keywords_keep_wildcards);

    RUN(fieldref_compares_two_fields);
    RUN(fieldref_neq);
    RUN(fieldref_contains_startswith_endswith);
    RUN(fieldref_cased);

    RUN(expand_without_values_does_not_run);
    RUN(expand_uses_the_given_values);
    RUN(expand_escaped_percent_is_plain);
    RUN(percent_without_expand_is_literal);

    RUN(and_binds_tighter_than_or);
    RUN(not_binds_tightest);
    RUN(brackets_group);
    RUN(operators_ignore_case);
    RUN(one_of_and_all_of_a_pattern);
    RUN(them_leaves_out_underscore_names);
    RUN(condition_list_is_or);
    RUN(condition_errors);
    RUN(aggregation_is_rejected);

    RUN(rejects_missing_parts);
    RUN(rejects_unknown_modifier);
    RUN(rejects_bad_metadata);
    RUN(rejects_bad_values);
    RUN(a_bad_rule_leaves_the_others);

    RUN(several_documents_are_several_rules);
    RUN(global_is_merged_into_each_document);
    RUN(global_merges_maps_key_by_key);
    RUN(reset_ends_the_global);
    RUN(repeat_takes_the_previous_rule);
    RUN(bad_actions_are_reported);

    RUN(filter_suppresses_the_named_rule);
    RUN(filter_by_name_and_several_rules);
    RUN(filter_naming_no_rule_is_reported);
}
