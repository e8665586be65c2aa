/*
 * test_shared.c — tests on the corpora in ../shared (skipped, saying so,
 * when it is absent): every SigmaHQ regression .json must read as events
 * whose EventID and Channel equal those in the file. The expected values
 * are taken from the file's text by a scan independent of the reader.
 */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_DOCS 64

typedef struct expect {
    int n;
    long long event_id[MAX_DOCS];
    char channel[MAX_DOCS][128];
} expect;

/* The independent oracle: finds `"EventID": N` or `"EventID": {... "#text": N}`
 * and `"Channel": "..."` in order of appearance. */
static void oracle(const char *text, expect *e)
{
    e->n = 0;
    const char *p = text;
    while ((p = strstr(p, "\"EventID\"")) != NULL && e->n < MAX_DOCS) {
        p += 9;
        while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (*p == '{') {
            const char *t = strstr(p, "\"#text\"");
            if (!t)
                break;
            p = t + 7;
            while (*p == ' ' || *p == ':')
                p++;
        }
        if (*p == '"')
            p++;
        e->event_id[e->n] = strtoll(p, NULL, 10);
        const char *c = strstr(p, "\"Channel\"");
        e->channel[e->n][0] = '\0';
        if (c) {
            c += 9;
            while (*c == ' ' || *c == ':')
                c++;
            if (*c == '"') {
                c++;
                size_t k = 0;
                while (*c && *c != '"' && k + 1 < sizeof e->channel[0])
                    e->channel[e->n][k++] = *c++;
                e->channel[e->n][k] = '\0';
            }
        }
        e->n++;
    }
}

typedef struct seen {
    int n;
    long long event_id[MAX_DOCS];
    char channel[MAX_DOCS][128];
} seen;

static void seen_hook(const tr_event *ev, size_t index, void *ctx)
{
    seen *s = ctx;
    if (index >= MAX_DOCS)
        return;
    s->n = (int)index + 1;
    const tr_field *f = tr_event_get(ev, "EventID", 7);
    s->event_id[index] = f && f->value.type == TR_INT ? f->value.as.i : -1;
    f = tr_event_get(ev, "Channel", 7);
    snprintf(s->channel[index], sizeof s->channel[0], "%.*s", f ? (int)f->value.len : 0, f ? f->value.str : "");
}

static int files_checked, mismatches;

static void check_file(const char *path)
{
    size_t len;
    char *text = read_all(path, &len);
    if (!text) {
        tr_test_fail(__FILE__, __LINE__, path);
        return;
    }
    expect e;
    oracle(text, &e);
    free(text);
    seen s = {0};
    scan_result r = {0};
    r.hook = seen_hook;
    r.hook_ctx = &s;
    scan_path(&r, path);
    bool ok = r.ndiags == 0 && e.n > 0 && s.n == e.n;
    for (int i = 0; ok && i < e.n; i++)
        ok = s.event_id[i] == e.event_id[i] && strcmp(s.channel[i], e.channel[i]) == 0;
    if (!ok) {
        mismatches++;
        char m[700];
        snprintf(m, sizeof m, "%s: expected %d event(s), EventID %lld, Channel '%s'; read %d, EventID %lld, Channel '%s'%s%s",
                 path, e.n, e.n ? e.event_id[0] : -1, e.n ? e.channel[0] : "", s.n, s.n ? s.event_id[0] : -1,
                 s.n ? s.channel[0] : "", r.ndiags ? "; diagnostics: " : "", r.ndiags ? r.diags : "");
        tr_test_fail(__FILE__, __LINE__, m);
    }
    files_checked++;
    scan_result_free(&r);
}

static void check_visit(const char *path, void *ctx)
{
    (void)ctx;
    check_file(path);
}

static void regression_json_event_ids(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found (set TRACCIA_SHARED to point at it)");
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sigma/regression_data", shared);
    files_checked = mismatches = 0;
    walk_files(dir, ".json", check_visit, NULL);
    printf("  regression .json files checked: %d, mismatches: %d\n", files_checked, mismatches);
    CHECK(files_checked >= 100);
    CHECK_INT(mismatches, 0);
}

void suite_shared(void) { RUN(regression_json_event_ids); }
