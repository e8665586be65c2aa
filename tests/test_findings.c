/*
 * test_findings.c — the findings model and the hunt's seams: ATT&CK parsed
 * once from tags, the one host identity, events and findings copied into
 * relocatable frames and back, and every detector and sink reached through
 * its table (src/hunt/pipeline.h).
 */
#include "harness.h"

#include <stdlib.h>

#include "../src/case/host.h"
#include "../src/event/event.h"
#include "../src/hunt/pipeline.h"
#include "../src/util/alloc.h"
#include "../src/util/strbuf.h"

/* ---------------------------------------------------------------- ATT&CK */

static void attack_tags_parsed_once(void)
{
    const char *tags[] = {"attack.t1003.001", "attack.T1059", "attack.credential_access", "attack.Execution",
                          "attack.g0016",     "attack.s0002", "cve.2021-26855",           "attack.t1003.001",
                          "attack.t1x",       "attack.",      "attack.lateral-movement"};
    const char *const *tech, *const *tac;
    size_t nt, na;
    void *block = tr_attack_parse(tags, sizeof tags / sizeof tags[0], &tech, &nt, &tac, &na);
    CHECK(block != NULL);
    if (!block)
        return;
    CHECK_INT(nt, 2); /* the duplicate once, "t1x" is no technique */
    CHECK(nt == 2 && strcmp(tech[0], "T1003.001") == 0 && strcmp(tech[1], "T1059") == 0);
    CHECK_INT(na, 3); /* groups, software, CVEs are not tactics */
    CHECK(na == 3 && strcmp(tac[0], "credential-access") == 0 && strcmp(tac[1], "execution") == 0 &&
          strcmp(tac[2], "lateral-movement") == 0);
    tr_free(block);
    block = tr_attack_parse(NULL, 0, &tech, &nt, &tac, &na);
    CHECK(block && nt == 0 && na == 0);
    tr_free(block);
    CHECK(tr_attack_is_tactic("impact", 6) && !tr_attack_is_tactic("impacts", 7));

    /* a loaded rule carries them, whatever the case of its tags */
    tr_ruleset *rs;
    CHECK_INT(tr_ruleset_create(&rs, NULL), TR_OK);
    const char *rule = "title: t\nid: 11111111-1111-1111-1111-111111111111\n" SIGMA_TEST_LOGSOURCE
                       "tags:\n    - attack.T1505.003\n    - attack.Persistence\n    - attack.t1505.003\n"
                       "detection:\n    s:\n        a: 1\n    condition: s\n";
    CHECK_INT(tr_ruleset_add_memory(rs, "r.yml", rule, strlen(rule)), TR_OK);
    const char *ls = "test:\n    product: test\n    conditions: {}\n";
    (void)ls;
    size_t n = tr_ruleset_count(rs);
    const tr_rule_info *ri = NULL;
    for (size_t i = 0; i < n; i++) {
        const tr_rule_info *x = tr_ruleset_rule(rs, i);
        if (x && x->id && strcmp(x->id, "11111111-1111-1111-1111-111111111111") == 0)
            ri = x;
    }
    CHECK(ri != NULL);
    if (ri) {
        CHECK(ri->ntechniques == 1 && strcmp(ri->techniques[0], "T1505.003") == 0);
        CHECK(ri->ntactics == 1 && strcmp(ri->tactics[0], "persistence") == 0);
    }
    tr_ruleset_destroy(rs);
}

/* ---------------------------------------------------------------- hosts */

static void host_keys_and_folders(void)
{
    char key[TR_HOST_KEY_MAX];
    CHECK_INT(tr_host_key("EXCH01.corp.local", 17, key), 6);
    CHECK(strcmp(key, "EXCH01") == 0);
    tr_host_key("exch01", 6, key);
    CHECK(strcmp(key, "EXCH01") == 0);
    tr_host_key(" \\\\ws-hr01 ", 11, key);
    CHECK(strcmp(key, "WS-HR01") == 0);
    tr_host_key("10.0.1.21", 9, key);
    CHECK(strcmp(key, "10.0.1.21") == 0); /* an address stays whole */
    tr_host_key("FE80::1", 7, key);
    CHECK(strcmp(key, "fe80::1") == 0);
    CHECK_INT(tr_host_key("   ", 3, key), 0);
    tr_host_key(TR_HOST_UNKNOWN, strlen(TR_HOST_UNKNOWN), key);
    CHECK(strcmp(key, TR_HOST_UNKNOWN) == 0); /* not "(UNKNOWN)": no host is never a host */

    size_t n;
    const char *s = tr_host_from_path("case/EXCH07/C/Program Files/Microsoft/Exchange Server/V15/Logging/x.LOG", &n);
    CHECK_STRN(s, n, "EXCH07");
    s = tr_host_from_path("/evidence/srv2/c$/inetpub/logs/LogFiles/W3SVC1/u_ex1.log", &n);
    CHECK_STRN(s, n, "srv2");
    s = tr_host_from_path("copies/EXCH03/Exchange/Logging/HttpProxy/Owa/a.LOG", &n);
    CHECK_STRN(s, n, "Exchange"); /* the folder right above the anchor */
    CHECK(tr_host_from_path("C/inetpub/logs/x.log", &n) == NULL); /* a drive with nothing above */
    CHECK(tr_host_from_path("../Logging/x.log", &n) == NULL);
    CHECK(tr_host_from_path("loose/x.log", &n) == NULL);
}

typedef struct host_probe {
    char keys[8][TR_HOST_KEY_MAX];
    char names[8][64];
    size_t n;
} host_probe;

static void host_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    host_probe *p = ctx;
    if (p->n >= 8)
        return;
    const char *name;
    size_t len;
    tr_event_host(ev, p->keys[p->n], &name, &len);
    snprintf(p->names[p->n], sizeof p->names[0], "%.*s", (int)len, name);
    p->n++;
}

static void host_identity_order(void)
{
    /* Computer first; a log's own server field before the copied folder;
     * the folder before the server's address; else unknown */
    const char *lines = "{\"Computer\":\"ws-fin01.corp.local\",\"ServerHostName\":\"EXCH09\"}\n"
                        "{\"ServerHostName\":\"EXCH09.corp.local\",\"s-ip\":\"10.0.0.9\"}\n"
                        "{\"s-computername\":\"WEB01\"}\n"
                        "{\"s-ip\":\"10.0.0.9\"}\n"
                        "{\"other\":1}\n";
    write_text("SRV5/Logging/x.jsonl", lines);
    char path[700];
    snprintf(path, sizeof path, "%s/SRV5/Logging/x.jsonl", test_tmpdir());
    host_probe p = {0};
    scan_result r = {0};
    r.hook = host_hook;
    r.hook_ctx = &p;
    scan_path(&r, path);
    CHECK_INT(p.n, 5);
    CHECK(strcmp(p.keys[0], "WS-FIN01") == 0 && strcmp(p.names[0], "ws-fin01.corp.local") == 0);
    CHECK(strcmp(p.keys[1], "EXCH09") == 0 && strcmp(p.names[1], "EXCH09.corp.local") == 0);
    CHECK(strcmp(p.keys[2], "WEB01") == 0);
    CHECK(strcmp(p.keys[3], "SRV5") == 0); /* the folder, not the address */
    CHECK(strcmp(p.keys[4], "SRV5") == 0);
    scan_result_free(&r);
    /* loose: the address, then unknown */
    write_text("loose.jsonl", "{\"s-ip\":\"10.0.0.9\"}\n{\"other\":1}\n");
    snprintf(path, sizeof path, "%s/loose.jsonl", test_tmpdir());
    memset(&p, 0, sizeof p);
    scan_result r2 = {0};
    r2.hook = host_hook;
    r2.hook_ctx = &p;
    scan_path(&r2, path);
    CHECK_INT(p.n, 2);
    CHECK(strcmp(p.keys[0], "10.0.0.9") == 0);
    CHECK(strcmp(p.keys[1], TR_HOST_UNKNOWN) == 0 && strcmp(p.names[1], TR_HOST_UNKNOWN) == 0);
    scan_result_free(&r2);
}

/* The evidence detector's cache of the folder heuristic gives what the
 * uncached identity gives, file after file. */
typedef struct cache_probe {
    tr_host_path_cache cache;
    size_t events, differ;
} cache_probe;

static void cache_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    cache_probe *p = ctx;
    char k1[TR_HOST_KEY_MAX], k2[TR_HOST_KEY_MAX];
    const char *n1, *n2;
    size_t l1, l2;
    tr_event_host(ev, k1, &n1, &l1);
    tr_event_host_cached(ev, &p->cache, k2, &n2, &l2);
    p->events++;
    p->differ += strcmp(k1, k2) != 0 || l1 != l2 || memcmp(n1, n2, l1) != 0;
}

static void host_cache_agrees(void)
{
    write_text("c/EXCH01/Logging/a.jsonl", "{\"x\":1}\n{\"Computer\":\"WS1\"}\n{\"x\":2}\n");
    write_text("c/EXCH02/inetpub/b.jsonl", "{\"x\":1}\n{\"s-ip\":\"10.0.0.2\"}\n");
    write_text("c/loose/c.jsonl", "{\"s-ip\":\"10.0.0.3\"}\n{\"x\":3}\n");
    char dir[700];
    snprintf(dir, sizeof dir, "%s/c", test_tmpdir());
    cache_probe p;
    memset(&p, 0, sizeof p);
    scan_result r = {0};
    r.hook = cache_hook;
    r.hook_ctx = &p;
    scan_path(&r, dir);
    CHECK_INT(p.events, 7);
    CHECK_INT(p.differ, 0);
    scan_result_free(&r);
}

/* ---------------------------------------------------------------- frozen events */

typedef struct freeze_ctx {
    size_t events, fields, failed_thaw, corrupt_refused;
    int mismatch;
} freeze_ctx;

static int same_value(const tr_event *a, const tr_value *x, const tr_event *b, const tr_value *y)
{
    if (x->type != y->type || x->len != y->len || x->flags != y->flags)
        return 0;
    if (x->type == TR_LIST) {
        if (x->as.list.count != y->as.list.count)
            return 0;
        for (uint32_t i = 0; i < x->as.list.count; i++)
            if (!same_value(a, tr_event_list_item(a, x, i), b, tr_event_list_item(b, y, i)))
                return 0;
        return 1;
    }
    if (x->type != TR_NULL && x->type != TR_LIST && x->as.u != y->as.u)
        return 0;
    return (!x->str && !y->str) || (x->str && y->str && memcmp(x->str, y->str, x->len) == 0);
}

static void freeze_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    freeze_ctx *c = ctx;
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_append(&b, "pad", 3); /* the copy does not start at the buffer's start */
    size_t at = 0;
    if (!tr_event_freeze(ev, &b, 0, &at)) {
        c->mismatch = 1;
        tr_strbuf_free(&b);
        return;
    }
    /* moved elsewhere (an 8-aligned copy), as a spilled frame is */
    char *moved = malloc(b.len + 8);
    memcpy(moved, b.data, b.len);
    const tr_event *t = tr_event_thaw(moved, at, b.len);
    c->events++;
    if (!t) {
        c->failed_thaw++;
    } else {
        size_t n = tr_event_field_count(ev);
        if (n != tr_event_field_count(t) || tr_event_time(t) != tr_event_time(ev))
            c->mismatch = 1;
        const tr_origin *o1 = tr_event_origin(ev), *o2 = tr_event_origin(t);
        if (o1->record != o2->record || o1->offset != o2->offset || o1->format != o2->format ||
            strcmp(o1->path, o2->path) != 0)
            c->mismatch = 1;
        for (size_t i = 0; i < n && !c->mismatch; i++) {
            const tr_field *f = tr_event_field(ev, i), *g = tr_event_field(t, i);
            c->fields++;
            if (f->name_len != g->name_len || memcmp(f->name, g->name, f->name_len) != 0 ||
                !same_value(ev, &f->value, t, &g->value))
                c->mismatch = 1;
            /* the copy's index answers as the original's */
            const tr_field *byname = tr_event_get(t, g->name, g->name_len);
            const tr_field *orig = tr_event_get(ev, f->name, f->name_len);
            if (!byname || (size_t)(byname - tr_event_field(t, 0)) != (size_t)(orig - tr_event_field(ev, 0)))
                c->mismatch = 1;
            if (f->alias && (!g->alias || !tr_event_get(t, g->alias, g->alias_len)))
                c->mismatch = 1;
        }
        size_t xl1, xl2;
        const char *x1 = tr_event_xml(ev, &xl1), *x2 = tr_event_xml(t, &xl2);
        if (xl1 != xl2 || (x1 && memcmp(x1, x2, xl1) != 0))
            c->mismatch = 1;
    }
    /* a copy cut short is refused, not read past its end */
    memcpy(moved, b.data, b.len);
    if (b.len > 64 && tr_event_thaw(moved, at, at + 40) == NULL)
        c->corrupt_refused++;
    free(moved);
    tr_strbuf_free(&b);
}

static void events_freeze_and_thaw(void)
{
    freeze_ctx c = {0};
    scan_result r = {0};
    r.hook = freeze_hook;
    r.hook_ctx = &c;
    r.scan_flags = TR_SCAN_XML;
    scan_path(&r, "examples/exchange-intrusion/evtx/EXCH01-security.evtx");
    CHECK_INT(c.events, 509);
    CHECK_INT(c.failed_thaw, 0);
    CHECK(!c.mismatch);
    CHECK(c.fields > 5000);
    CHECK_INT(c.corrupt_refused, c.events);
    scan_result_free(&r);
    /* JSON: lists and nested objects */
    memset(&c, 0, sizeof c);
    scan_result r2 = {0};
    r2.hook = freeze_hook;
    r2.hook_ctx = &c;
    scan_text(&r2, "{\"a\":[1,\"two\",null,[3,4]],\"b\":{\"c\":\"d\"},\"e\":null,\"f\":\"\"}\n");
    CHECK_INT(c.events, 1);
    CHECK(!c.mismatch && c.failed_thaw == 0);
    scan_result_free(&r2);
}

/* ---------------------------------------------------------------- frozen findings */

static void finding_frames_round_trip(void)
{
    static const tr_rule_info rule = {.kind = TR_RULE_CORRELATION, .id = "r1", .title = "T", .level = TR_LEVEL_HIGH};
    const char *gf[] = {"User", "Host"}, *gv[] = {"alice", "WS1"};
    tr_finding f;
    memset(&f, 0, sizeof f);
    f.kind = TR_FINDING_CORRELATION;
    f.rule = &rule;
    f.level = rule.level;
    f.time = 1000;
    f.first = 10;
    f.last = 1000;
    f.value = 7;
    strcpy(f.host, "WS1");
    strcpy(f.host_name, "ws1.corp.local");
    f.origin.path = "some/file.evtx";
    f.origin.record = 42;
    f.ngroup = 2;
    f.group_fields = gf;
    f.group_values = gv;
    f.matched_field = "CommandLine";
    f.matched_value = "x.exe";
    f.nkeys = 1;
    f.key_names[0] = "Image";
    f.key_values[0] = "C:\\x.exe";
    f.key_lens[0] = 8;
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_append(&b, "abc", 3);
    size_t start = (b.len + 7u) & ~(size_t)7u;
    CHECK(tr_finding_freeze(&f, true, &b));
    char *copy = malloc(b.len - start + 8);
    memcpy(copy, b.data + start, b.len - start);
    const tr_finding *g = NULL;
    CHECK(tr_finding_thaw(copy, b.len - start, &g));
    if (g) {
        CHECK(g->rule == &rule && g->kind == TR_FINDING_CORRELATION && g->time == 1000 && g->first == 10);
        CHECK(strcmp(g->host, "WS1") == 0 && strcmp(g->host_name, "ws1.corp.local") == 0);
        CHECK(strcmp(g->origin.path, "some/file.evtx") == 0 && g->origin.record == 42);
        CHECK(g->ngroup == 2 && strcmp(g->group_fields[1], "Host") == 0 && strcmp(g->group_values[0], "alice") == 0);
        CHECK(strcmp(g->matched_value, "x.exe") == 0 && strcmp(g->key_values[0], "C:\\x.exe") == 0);
        CHECK(g->event == NULL);
    }
    /* cut short: refused */
    memcpy(copy, b.data + start, b.len - start);
    CHECK(!tr_finding_thaw(copy, 8 + sizeof(tr_finding) - 1, &g));
    memcpy(copy, b.data + start, b.len - start);
    CHECK(!tr_finding_thaw(copy, 8 + sizeof(tr_finding) + 4, &g)); /* its strings lie past the end */
    free(copy);
    tr_strbuf_free(&b);
}

/* Key fields: the usual ones when the rule names none, values cut at 1 KiB
 * on a character boundary, the host taken from the event. */
typedef struct key_probe {
    size_t nkeys;
    char names[TR_FINDING_MAX_KEYS][32];
    uint32_t lens[TR_FINDING_MAX_KEYS];
    char host[TR_HOST_KEY_MAX];
} key_probe;

static void key_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    static const tr_rule_info rule = {.kind = TR_RULE_DETECTION, .id = "k", .title = "K", .level = TR_LEVEL_LOW};
    key_probe *p = ctx;
    tr_detection d = {.rule = &rule, .event = ev, .time = tr_event_time(ev), .first = TR_TIME_NONE, .last = TR_TIME_NONE};
    tr_finding f;
    tr_finding_from_detection(&f, &d);
    p->nkeys = f.nkeys;
    for (size_t i = 0; i < f.nkeys; i++) {
        snprintf(p->names[i], sizeof p->names[i], "%s", f.key_names[i]);
        p->lens[i] = f.key_lens[i];
    }
    memcpy(p->host, f.host, sizeof p->host);
}

static void finding_key_fields(void)
{
    char text[4096];
    /* 1,022 'a' then a 3-byte character straddling the 1,024-byte cut */
    int n = snprintf(text, sizeof text, "{\"Computer\":\"ws7.corp.local\",\"Image\":\"C:\\\\x.exe\",\"CommandLine\":\"");
    memset(text + n, 'a', 1022);
    n += 1022;
    n += snprintf(text + n, sizeof text - (size_t)n, "\u20ac and more\",\"Other\":1}\n");
    key_probe p = {0};
    scan_result r = {0};
    r.hook = key_hook;
    r.hook_ctx = &p;
    scan_text(&r, text);
    CHECK_INT(p.nkeys, 2);
    CHECK(strcmp(p.names[0], "CommandLine") == 0 && strcmp(p.names[1], "Image") == 0);
    CHECK_INT(p.lens[0], 1022); /* the euro sign would end past 1,024: left out whole */
    CHECK_INT(p.lens[1], 8); /* C:\x.exe */
    CHECK(strcmp(p.host, "WS7") == 0);
    scan_result_free(&r);
}

/* ---------------------------------------------------------------- the tables */

static void tables_are_complete(void)
{
    static const char *const sinks[] = {"case", "jsonl", "csv", "sightings", "exchange", "run report"};
    size_t n = 0;
    for (; tr_sinks[n]; n++) {
        const tr_sink_ops *s = tr_sinks[n];
        /* a sink takes findings, or at least files (the run report) */
        CHECK(s->name && s->wanted && s->open && (s->finding || s->file_end) && s->close);
        CHECK(n < 6 && strcmp(s->name, sinks[n]) == 0);
    }
    CHECK_INT(n, 6);
    static const char *const dets[] = {"evidence", "sigma", "indicators"};
    for (n = 0; tr_detectors[n]; n++) {
        const tr_detector_ops *d = tr_detectors[n];
        CHECK(d->name && d->wanted && d->create && d->event && d->destroy);
        CHECK(n < 3 && strcmp(d->name, dets[n]) == 0);
    }
    CHECK_INT(n, 3);
    /* wanted: each sink by its own option */
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    for (n = 0; tr_sinks[n]; n++)
        CHECK(!tr_sinks[n]->wanted(&o));
    o.jsonl = stdout;
    CHECK(tr_sink_jsonl.wanted(&o) && !tr_sink_csv.wanted(&o) && !tr_sink_case.wanted(&o));
}

/* Every sink and detector, through the tables, on the example case. */
static void hunt_through_every_sink(void)
{
    tr_ruleset *rs;
    CHECK_INT(tr_ruleset_create(&rs, NULL), TR_OK);
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    tr_iocset *set;
    CHECK_INT(tr_iocset_create(&set, NULL), TR_OK);
    const char *list = "104.248.49.97\nC:\\ProgramData\\lsass.dmp\n";
    CHECK_INT(tr_iocset_add_memory(set, "iocs.txt", list, strlen(list)), TR_OK);
    CHECK_INT(tr_iocset_compile(set), TR_OK);
    char jp[600], cp[600], dbp[600];
    snprintf(jp, sizeof jp, "%s/f.jsonl", test_tmpdir());
    snprintf(cp, sizeof cp, "%s/f.csv", test_tmpdir());
    snprintf(dbp, sizeof dbp, "%s/sinks.db", test_tmpdir());
    FILE *jf = fopen(jp, "w"), *cf = fopen(cp, "w");
    tr_exchange_report *xr;
    CHECK_INT(tr_exchange_report_create(&xr, NULL), TR_OK);
    tr_case *kase;
    char err[256];
    CHECK_INT(tr_case_open(&kase, dbp, 1, err, sizeof err), TR_OK);
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    o.rules = rs;
    o.iocs = set;
    o.jsonl = jf;
    o.csv = cf;
    o.exchange = xr;
    o.case_store = kase;
    o.filter.from = o.filter.to = TR_TIME_NONE;
    const char *paths[] = {"examples/exchange-intrusion"};
    tr_hunt_result res;
    CHECK_INT(tr_hunt_run(&o, paths, 1, &res), TR_OK);
    fclose(jf);
    fclose(cf);
    CHECK(!res.write_failed && !res.case_failed);
    uint64_t total = res.detections;
    CHECK(total >= 33 + 2); /* the rules' 33 and the indicators' sightings */
    CHECK(res.sightings >= 2);
    /* jsonl: one line per finding, each with its host */
    size_t len;
    char *j = read_all(jp, &len);
    size_t lines = 0;
    for (size_t i = 0; j && i < len; i++)
        lines += j[i] == '\n';
    CHECK_INT(lines, total);
    CHECK_CONTAINS(j, "\"host\":\"EXCH01\"");
    free(j);
    char *c = read_all(cp, &len);
    lines = 0;
    for (size_t i = 0; c && i < len; i++)
        lines += c[i] == '\n';
    CHECK_INT(lines, total + 1); /* and the header */
    free(c);
    /* sightings: the log, with the host named */
    CHECK(res.sighting_log && tr_sighting_log_count(res.sighting_log) == 2);
    tr_sighting sg;
    CHECK(res.sighting_log && tr_sighting_log_get(res.sighting_log, 0, &sg) && sg.nhosts == 1 &&
          strcmp(sg.hosts[0], "EXCH01.corp.local") == 0);
    /* the Exchange report: its servers from the evidence detector */
    CHECK_INT(tr_exchange_report_server_count(xr), 7);
    const char *name;
    int verdict = -1;
    for (size_t i = 0; i < tr_exchange_report_server_count(xr); i++) {
        tr_exchange_verdict v = tr_exchange_report_server_verdict(xr, i, &name, NULL);
        if (name && strcmp(name, "EXCH01.corp.local") == 0)
            verdict = (int)v;
    }
    CHECK_INT(verdict, TR_EXCHANGE_COMPROMISED);
    /* the case: every finding */
    CHECK_INT(res.case_new_findings, total);
    CHECK_INT(res.case_known_findings, 0);
    tr_hunt_result_free(&res);
    tr_case_close(kase);
    tr_exchange_report_destroy(xr);
    tr_iocset_destroy(set);
    tr_ruleset_destroy(rs);
}

void suite_findings(void)
{
    RUN(attack_tags_parsed_once);
    RUN(host_keys_and_folders);
    RUN(host_identity_order);
    RUN(host_cache_agrees);
    RUN(events_freeze_and_thaw);
    RUN(finding_frames_round_trip);
    RUN(finding_key_fields);
    RUN(tables_are_complete);
    RUN(hunt_through_every_sink);
}
