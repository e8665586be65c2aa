/*
 * test_rule_pack.c — the project's own rule pack (rules/, compiled into the
 * library) against its evidence: for every rule rules/<dir>/<name>.yml,
 * tests/rules/<name>/ holds match* files, which must each make the rule
 * fire, and nomatch* files (near misses and ordinary activity), which must
 * not. Files are read by content, like any evidence. A rule without both
 * kinds of file fails the test: every rule ships with its proof.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct pack_hits {
    const tr_rule_info *rule;
    long hits;
} pack_hits;

static void on_pack_detection(void *user, const tr_detection *d)
{
    pack_hits *h = user;
    if (d->rule == h->rule)
        h->hits++;
}

static void pack_diag(void *user, const tr_diag *d)
{
    size_t *errors = user;
    if (d->severity >= TR_SEV_WARNING) {
        printf("  rule pack: %s: %s: %s\n", d->path, d->where, d->reason);
        (*errors)++;
    }
}

static void rule_pack_loads_clean(void)
{
    size_t errors = 0;
    tr_ruleset *rs;
    tr_ruleset_options ro = {.on_diag = pack_diag, .user = &errors};
    CHECK_INT(tr_ruleset_create(&rs, &ro), TR_OK);
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    CHECK_INT(errors, 0); /* no failure, no warning, every rule runs */
    CHECK(tr_ruleset_count(rs) >= 20);
    for (size_t i = 0; i < tr_ruleset_count(rs); i++) {
        const tr_rule_info *r = tr_ruleset_rule(rs, i);
        CHECK(r->runnable);
        CHECK(r->id && r->level && r->status && r->nreferences > 0);
        size_t attack = 0;
        for (size_t t = 0; t < r->ntags; t++)
            attack += strncmp(r->tags[t], "attack.t", 8) == 0;
        CHECK(attack > 0);
    }
    tr_ruleset_destroy(rs);
}

static void rule_pack_fires_on_its_evidence(void)
{
    tr_ruleset *rs;
    CHECK_INT(tr_ruleset_create(&rs, NULL), TR_OK);
    CHECK_INT(tr_ruleset_add_builtin_rules(rs), TR_OK);
    CHECK_INT(tr_ruleset_compile(rs), TR_OK);
    size_t rules = 0, proven = 0;
    for (size_t i = 0; i < tr_ruleset_count(rs); i++) {
        const tr_rule_info *r = tr_ruleset_rule(rs, i);
        const char *base = strrchr(r->path, '/');
        base = base ? base + 1 : r->path;
        char dir[1024];
        snprintf(dir, sizeof dir, "tests/rules/%.*s", (int)(strlen(base) - 4), base);
        rules++;
        DIR *d = opendir(dir);
        if (!d) {
            printf("  rule pack: %s has no evidence folder %s\n", r->path, dir);
            CHECK(d != NULL);
            continue;
        }
        size_t matches = 0, misses = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int is_match = strncmp(e->d_name, "match", 5) == 0;
            int is_miss = strncmp(e->d_name, "nomatch", 7) == 0;
            if (!is_match && !is_miss)
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            pack_hits h = {r, 0};
            sigma_hunt_path(rs, path, on_pack_detection, &h);
            if (is_match) {
                matches++;
                if (h.hits == 0)
                    printf("  rule pack: '%s' does not fire on %s\n", r->title, path);
                CHECK(h.hits > 0);
            } else {
                misses++;
                if (h.hits != 0)
                    printf("  rule pack: '%s' fires %ld time(s) on near misses %s\n", r->title, h.hits, path);
                CHECK_INT(h.hits, 0);
            }
        }
        closedir(d);
        CHECK(matches > 0);
        CHECK(misses > 0);
        proven += matches > 0 && misses > 0;
    }
    CHECK_INT(proven, rules);
    tr_ruleset_destroy(rs);
}

void suite_rule_pack(void)
{
    RUN(rule_pack_loads_clean);
    RUN(rule_pack_fires_on_its_evidence);
}
