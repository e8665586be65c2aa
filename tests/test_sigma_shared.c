/*
 * test_sigma_shared.c — the Sigma engine against SigmaHQ's own material in
 * ../shared/sigma (skipped, and said so, when it is not there):
 *   - the five rule folders load at 99% or better, every rule that does not
 *     load is reported with a reason;
 *   - SigmaHQ's regression suite: for every case (info.yml names the rule
 *     and the .evtx; the .json beside it holds the same event), hunting the
 *     file with the whole ruleset reports that rule;
 *   - the prefilter never changes a result: hunting ../shared/evtx with and
 *     without it gives the same detections, rule by rule.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const folders[] = {"rules", "rules-emerging-threats", "rules-threat-hunting",
                                      "rules-compliance", "rules-placeholder"};

typedef struct load_diags {
    size_t errors, warnings;
    char first_error[512];
} load_diags;

static void count_diag(void *user, const tr_diag *d)
{
    load_diags *l = user;
    if (d->severity == TR_SEV_ERROR) {
        if (!l->errors++)
            snprintf(l->first_error, sizeof l->first_error, "%s: %s: %s", d->path, d->where, d->reason);
    } else if (d->severity == TR_SEV_WARNING) {
        l->warnings++;
    }
}

/* The whole SigmaHQ ruleset, compiled; NULL (test skipped) without ../shared. */
static tr_ruleset *load_sigmahq(load_diags *diags)
{
    const char *shared = shared_dir();
    if (!shared)
        return NULL;
    tr_ruleset *rs;
    tr_ruleset_options ro = {.on_diag = count_diag, .user = diags};
    if (tr_ruleset_create(&rs, &ro) != TR_OK)
        return NULL;
    char path[4096];
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        snprintf(path, sizeof path, "%s/sigma/%s", shared, folders[i]);
        CHECK_INT(tr_ruleset_add_path(rs, path), TR_OK);
    }
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    return rs;
}

static void sigmahq_loads(void)
{
    if (!shared_dir()) {
        tr_test_skip("../shared not present");
        return;
    }
    load_diags d = {0};
    tr_ruleset *rs = load_sigmahq(&d);
    CHECK(rs != NULL);
    if (!rs)
        return;
    const tr_ruleset_stats *s = tr_ruleset_get_stats(rs);
    CHECK(s->loaded >= 3700);
    /* at least 99% load, and every failure was reported */
    CHECK(s->loaded * 100 >= (s->loaded + s->failed) * 99);
    CHECK_INT(d.errors, s->failed);
    /* every SigmaHQ rule file is a detection rule: no correlation or filter */
    CHECK_INT(s->correlations, 0);
    /* Windows rules all run: the ones that do not are other products or placeholders */
    size_t windows_idle = 0;
    for (size_t i = 0; i < tr_ruleset_count(rs); i++) {
        const tr_rule_info *r = tr_ruleset_rule(rs, i);
        if (!r->runnable && r->product && strcmp(r->product, "windows") == 0 &&
            !strstr(r->why_not, "placeholder"))
            windows_idle++;
    }
    CHECK_INT(windows_idle, 0);
    CHECK(s->prefiltered > s->loaded / 2);
    tr_ruleset_destroy(rs);
}

typedef struct reg_case {
    char rule_id[64];
    char path[4096];
} reg_case;

typedef struct reg_hits {
    const char *want_id;
    long hits;
} reg_hits;

static void on_reg_detection(void *user, const tr_detection *d)
{
    reg_hits *h = user;
    if (d->rule->id && strcmp(d->rule->id, h->want_id) == 0)
        h->hits++;
}

typedef struct reg_ctx {
    const tr_ruleset *rs;
    size_t cases, evtx_ok, json_ok;
    char first_miss[4200];
} reg_ctx;

/* info.yml: the rule's id under rule_metadata, and each test's path */
static void regression_case(const char *info, void *ctx)
{
    reg_ctx *c = ctx;
    size_t len;
    char *text = read_all(info, &len);
    CHECK(text != NULL);
    if (!text)
        return;
    char id[64] = "";
    const char *meta = strstr(text, "rule_metadata:");
    const char *idp = meta ? strstr(meta, "id:") : NULL;
    if (idp)
        sscanf(idp + 3, " %63s", id);
    const char *p = text;
    while ((p = strstr(p, "path:")) != NULL) {
        char rel[2048];
        p += 5;
        if (sscanf(p, " %2047s", rel) != 1)
            break;
        char evtx[4096], json[4096];
        snprintf(evtx, sizeof evtx, "%s/sigma/%s", shared_dir(), rel);
        snprintf(json, sizeof json, "%.*s.json", (int)(strlen(evtx) - 5), evtx);
        c->cases++;
        reg_hits h = {id, 0};
        sigma_hunt_path(c->rs, evtx, on_reg_detection, &h);
        if (h.hits > 0)
            c->evtx_ok++;
        else if (!c->first_miss[0])
            snprintf(c->first_miss, sizeof c->first_miss, "%s (rule %s)", evtx, id);
        h.hits = 0;
        sigma_hunt_path(c->rs, json, on_reg_detection, &h);
        if (h.hits > 0)
            c->json_ok++;
        else if (!c->first_miss[0])
            snprintf(c->first_miss, sizeof c->first_miss, "%s (rule %s)", json, id);
    }
    free(text);
}

static void sigmahq_regression_suite(void)
{
    if (!shared_dir()) {
        tr_test_skip("../shared not present");
        return;
    }
    load_diags d = {0};
    tr_ruleset *rs = load_sigmahq(&d);
    if (!rs)
        return;
    reg_ctx c = {rs, 0, 0, 0, ""};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sigma/regression_data", shared_dir());
    walk_files(dir, "info.yml", regression_case, &c);
    if (c.first_miss[0])
        printf("  regression case missed: %s\n", c.first_miss);
    CHECK(c.cases >= 100);
    CHECK_INT(c.evtx_ok, c.cases); /* 100%, as SigmaHQ demands of its own checker */
    CHECK_INT(c.json_ok, c.cases);
    tr_ruleset_destroy(rs);
}

typedef struct per_rule {
    const tr_ruleset *rs;
    unsigned long *counts;
} per_rule;

static void count_rule(void *user, const tr_detection *d)
{
    per_rule *p = user;
    p->counts[d->rule->index]++;
}

typedef struct shared_run {
    tr_matcher *m;
    per_rule *p;
    long total;
} shared_run;

static int shared_batch(void *user, const tr_batch *b)
{
    shared_run *r = user;
    for (size_t i = 0; i < b->count; i++)
        r->total += (long)tr_matcher_event(r->m, b->events[i], count_rule, r->p);
    return 0;
}

/* Detections per rule over `path`, with the given matcher flags. */
static long hunt_counts(const tr_ruleset *rs, const char *path, unsigned flags, unsigned long *counts)
{
    per_rule p = {rs, counts};
    shared_run r = {NULL, &p, 0};
    if (tr_matcher_create(&r.m, rs, flags) != TR_OK)
        return -1;
    tr_scan *scan;
    tr_scan_options opts = {.on_batch = shared_batch, .user = &r};
    if (tr_scan_create(&scan, &opts) != TR_OK) {
        tr_matcher_destroy(r.m);
        return -1;
    }
    tr_scan_path(scan, path);
    tr_scan_destroy(scan);
    r.total += (long)tr_matcher_flush(r.m, count_rule, &p);
    uint64_t evaluated, skipped;
    tr_matcher_counts(r.m, &evaluated, &skipped);
    if (!(flags & TR_MATCH_NO_PREFILTER))
        CHECK(skipped > evaluated); /* the prefilter spares most evaluations */
    else
        CHECK_INT(skipped, 0);
    tr_matcher_destroy(r.m);
    return r.total;
}

static void prefilter_changes_nothing(void)
{
    if (!shared_dir()) {
        tr_test_skip("../shared not present");
        return;
    }
    load_diags d = {0};
    tr_ruleset *rs = load_sigmahq(&d);
    if (!rs)
        return;
    size_t n = tr_ruleset_count(rs);
    unsigned long *with = calloc(n, sizeof *with), *without = calloc(n, sizeof *without);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/evtx", shared_dir());
    long a = hunt_counts(rs, dir, 0, with);
    long b = hunt_counts(rs, dir, TR_MATCH_NO_PREFILTER, without);
    CHECK(a > 1000); /* the attack samples do set rules off */
    CHECK_INT(a, b);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        if (with[i] != without[i]) {
            if (!differ)
                printf("  prefilter changed rule '%s': %lu vs %lu\n", tr_ruleset_rule(rs, i)->title, with[i],
                       without[i]);
            differ++;
        }
    CHECK_INT(differ, 0);
    free(with);
    free(without);
    tr_ruleset_destroy(rs);
}

void suite_sigma_shared(void)
{
    RUN(sigmahq_loads);
    RUN(sigmahq_regression_suite);
    RUN(prefilter_changes_nothing);
}
