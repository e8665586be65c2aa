/*
 * fuzz_sigma.c — libFuzzer target for the Sigma rule loader and matcher:
 * the input is a rule file (YAML, any number of documents). It is loaded,
 * compiled and run over a few fixed events, so that the YAML tree builder,
 * collections, the rule compiler (modifiers, wildcards, regular
 * expressions, conditions), routing, the prefilter and the matcher all see
 * hostile rules. Invariants: nothing crashes or leaks, every rule is either
 * loaded or reported, and the prefilter never changes a result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traccia.h"

static const char events[] =
    "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
    "\"Computer\":\"EXCH01\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2021-03-02T07:01:12Z\"}}},"
    "\"EventData\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\",\"ParentImage\":"
    "\"C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe\",\"CommandLine\":\"cmd /c whoami & echo [S]\","
    "\"DestinationIp\":\"10.1.2.3\",\"Count\":42,\"List\":[\"a\",\"b\"]}}}\n"
    "{\"Event\":{\"System\":{\"EventID\":4104,\"Channel\":\"Microsoft-Windows-PowerShell/Operational\"},"
    "\"EventData\":{\"ScriptBlockText\":\"New-MailboxExportRequest -Mailbox ceo -FilePath \\\\\\\\x\\\\c$\\\\a.pst\"}}}\n"
    "{\"date\":\"2021-03-03\",\"cs-uri-stem\":\"/owa/auth/x.aspx\",\"c-ip\":\"2001:db8::1\",\"sc-status\":200}\n";

typedef struct run {
    tr_matcher *m;
    size_t hits;
} run;

static void count(void *user, const tr_detection *d)
{
    (void)d;
    ((run *)user)->hits++;
}

static int batch(void *user, const tr_batch *b)
{
    run *r = user;
    for (size_t i = 0; i < b->count; i++)
        tr_matcher_event(r->m, b->events[i], count, r);
    return 0;
}

static size_t hunt(const tr_ruleset *rs, unsigned flags)
{
    run r = {0};
    if (tr_matcher_create(&r.m, rs, flags) != TR_OK)
        return 0;
    tr_scan *scan;
    tr_scan_options so = {.on_batch = batch, .user = &r};
    if (tr_scan_create(&scan, &so) == TR_OK) {
        tr_scan_memory(scan, "events.jsonl", events, sizeof events - 1);
        tr_scan_destroy(scan);
    }
    tr_matcher_flush(r.m, count, &r);
    tr_matcher_destroy(r.m);
    return r.hits;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tr_ruleset *rs;
    if (tr_ruleset_create(&rs, NULL) != TR_OK)
        return 0;
    static const char placeholders[] = "Admins: ['adm_*', 'root']\n";
    tr_ruleset_add_placeholders_memory(rs, "placeholders", placeholders, sizeof placeholders - 1);
    tr_ruleset_add_memory(rs, "fuzz.yml", (const char *)data, size);
    if (tr_ruleset_compile(rs) == TR_OK) {
        const tr_ruleset_stats *s = tr_ruleset_get_stats(rs);
        for (size_t i = 0; i < tr_ruleset_count(rs); i++) {
            const tr_rule_info *r = tr_ruleset_rule(rs, i);
            if (!r->title || (!r->runnable && !r->why_not))
                abort(); /* a loaded rule has a title; one that cannot run says why */
        }
        (void)s;
        if (hunt(rs, 0) != hunt(rs, TR_MATCH_NO_PREFILTER))
            abort(); /* the prefilter must never change a result */
    }
    tr_ruleset_destroy(rs);
    return 0;
}
