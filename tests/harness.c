/*
 * harness.c — the test runner and shared helpers (see harness.h).
 *
 * Tests run in one process, in order, each with a fresh temporary folder.
 * The runner's last line is "N passed, N failed, N skipped"; the exit status
 * is non-zero when any test failed.
 */
#include "harness.h"

#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tr_test_failed_checks;
static bool skipped;
static int n_pass, n_fail, n_skip;
static const char *current;
static char tmpdir[256];

void tr_test_fail(const char *file, int line, const char *what)
{
    if (tr_test_failed_checks < 10)
        fprintf(stderr, "  FAIL %s: %s:%d: %s\n", current, file, line, what);
    tr_test_failed_checks++;
}

void tr_test_skip(const char *reason)
{
    printf("  skipped %s: %s\n", current, reason);
    skipped = true;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_tree(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/traccia-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

/* `traccia-tests NAME...`: only the tests named; `--list`: their names */
static char **only;
static int nonly;
static bool list_only;

void tr_test_run(const char *name, tr_test_fn fn)
{
    if (list_only) {
        printf("%s\n", name);
        return;
    }
    if (nonly) {
        bool wanted = false;
        for (int i = 0; i < nonly && !wanted; i++)
            wanted = strcmp(only[i], name) == 0;
        if (!wanted)
            return;
    }
    current = name;
    tr_test_failed_checks = 0;
    skipped = false;
    fn();
    if (tmpdir[0]) {
        rm_tree(tmpdir);
        tmpdir[0] = '\0';
    }
    if (tr_test_failed_checks) {
        n_fail++;
        printf("FAILED %s (%d check(s))\n", name, tr_test_failed_checks);
    } else if (skipped) {
        n_skip++;
    } else {
        n_pass++;
    }
    fflush(stdout);
}

/* ---------------------------------------------------------------- scanning */

typedef struct collector {
    scan_result *r;
    FILE *dump;
    tr_json_writer *writer;
    FILE *diags;
} collector;

static int collect_batch(void *user, const tr_batch *b)
{
    collector *c = user;
    for (size_t i = 0; i < b->count; i++) {
        if (c->r->hook)
            c->r->hook(b->events[i], c->r->nevents, c->r->hook_ctx);
        if (c->writer) /* NULL when its allocation was made to fail */
            tr_json_writer_event(c->writer, b->events[i]);
        c->r->nevents++;
    }
    return 0;
}

static void collect_diag(void *user, const tr_diag *d)
{
    collector *c = user;
    static const char *sev[] = {"info", "warning", "error"};
    fprintf(c->diags, "%s|%s|%s|%s\n", sev[d->severity], d->path, d->where, d->reason);
    c->r->ndiags++;
    if (d->severity == TR_SEV_ERROR)
        c->r->nerrors++;
}

static void scan_any(scan_result *r, const char *name, const void *data, size_t len, bool from_disk)
{
    void (*hook)(const tr_event *, size_t, void *) = r->hook;
    void *hook_ctx = r->hook_ctx;
    unsigned flags = r->scan_flags;
    memset(r, 0, sizeof *r);
    r->hook = hook;
    r->hook_ctx = hook_ctx;
    r->scan_flags = flags;
    collector c = {.r = r};
    size_t dlen = 0;
    c.dump = open_memstream(&r->dump, &r->dump_len);
    c.diags = open_memstream(&r->diags, &dlen);
    if (tr_json_writer_create(&c.writer, c.dump, 0) != TR_OK)
        c.writer = NULL;
    tr_scan *scan = NULL;
    tr_scan_options o = {.on_batch = collect_batch, .on_diag = collect_diag, .user = &c, .flags = flags};
    r->status = tr_scan_create(&scan, &o);
    if (r->status == TR_OK) {
        r->status = from_disk ? tr_scan_path(scan, name) : tr_scan_memory(scan, name, data, len);
        r->stats = *tr_scan_get_stats(scan);
    }
    tr_scan_destroy(scan);
    tr_json_writer_destroy(c.writer);
    fclose(c.dump);
    fclose(c.diags);
}

void scan_memory(scan_result *r, const char *name, const void *data, size_t len)
{
    scan_any(r, name, data, len, false);
}

void scan_text(scan_result *r, const char *text) { scan_memory(r, "test.json", text, strlen(text)); }

void scan_path(scan_result *r, const char *path) { scan_any(r, path, NULL, 0, true); }

void scan_result_free(scan_result *r)
{
    free(r->dump);
    free(r->diags);
    r->dump = r->diags = NULL;
}

static long fail_at;    /* the allocation that fails; 0: none */
static long alloc_count;

static void *failing_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}

static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static const tr_alloc_hooks failing_hooks = {failing_malloc, failing_realloc, plain_free, NULL};

void alloc_fail_start(long n)
{
    fail_at = n;
    alloc_count = 0;
    tr_alloc_set_hooks(&failing_hooks);
}

long alloc_fail_stop(void)
{
    tr_alloc_set_hooks(NULL);
    fail_at = 0;
    return alloc_count;
}

void scan_failing_each_allocation(scan_result *r, const char *name, const void *data, size_t len, int max_runs)
{
    const tr_alloc_hooks hooks = failing_hooks;
    unsigned flags = r->scan_flags;
    int failures = 0;
    for (fail_at = 1; fail_at <= max_runs; fail_at++) {
        alloc_count = 0;
        tr_alloc_set_hooks(&hooks);
        r->scan_flags = flags;
        scan_memory(r, name, data, len);
        tr_alloc_set_hooks(NULL);
        CHECK(r->status == TR_OK || r->status == TR_ERR_NOMEM);
        failures += r->status == TR_ERR_NOMEM;
        if (alloc_count < fail_at) { /* no allocation failed: every path was covered */
            fail_at = 0;
            CHECK(failures > 3);
            return;
        }
        scan_result_free(r);
    }
    fail_at = 0;
    tr_test_fail(__FILE__, __LINE__, "the scan needs more allocations than max_runs");
    scan_memory(r, name, data, len);
}

void probe_hook(const tr_event *ev, size_t index, void *ctx)
{
    probe *p = ctx;
    if (index >= PROBE_EVENTS)
        return;
    p->times[index] = tr_event_time(ev);
    for (int k = 0; k < PROBE_NAMES && p->names[k]; k++) {
        const tr_field *f = tr_event_get(ev, p->names[k], strlen(p->names[k]));
        char *out = p->got[index][k];
        p->types[index][k] = f ? f->value.type : -1;
        if (!f)
            snprintf(out, sizeof p->got[0][0], "<absent>");
        else if (f->value.type == TR_NULL)
            snprintf(out, sizeof p->got[0][0], "<null>");
        else if (f->value.type == TR_LIST)
            snprintf(out, sizeof p->got[0][0], "<list %u>", f->value.as.list.count);
        else
            snprintf(out, sizeof p->got[0][0], "%.*s", (int)f->value.len, f->value.str);
    }
}

const char *field_text(const tr_event *ev, const char *name, size_t *len)
{
    const tr_field *f = tr_event_get(ev, name, strlen(name));
    if (!f)
        return NULL;
    if (f->value.type == TR_NULL || f->value.type == TR_LIST) {
        *len = 0;
        return "";
    }
    *len = f->value.len;
    return f->value.str;
}

const char *write_file(const char *name, const void *data, size_t len)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    /* create parent folders of nested names */
    for (char *s = p + strlen(test_tmpdir()) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0700);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(p);
        exit(2);
    }
    fclose(f);
    return p;
}

const char *shared_dir(void)
{
    static char dir[512];
    const char *env = getenv("TRACCIA_SHARED");
    snprintf(dir, sizeof dir, "%s", env ? env : "../shared");
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? dir : NULL;
}

void walk_files(const char *dir, const char *suffix, void (*fn)(const char *path, void *ctx), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t sl = strlen(suffix);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        size_t n = strlen(ent->d_name);
        if (S_ISDIR(sb.st_mode))
            walk_files(path, suffix, fn, ctx);
        else if (S_ISREG(sb.st_mode) && n >= sl && strcmp(ent->d_name + n - sl, suffix) == 0)
            fn(path, ctx);
    }
    closedir(d);
}

void cli_run(cli_result *r, const char *args)
{
    char cmd[8192], out[600], err[600];
    snprintf(out, sizeof out, "%s/stdout", test_tmpdir());
    snprintf(err, sizeof err, "%s/stderr", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", test_bin(), args, out, err);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    size_t n;
    r->out = read_all(out, &n);
    r->err = read_all(err, &n);
}

void cli_result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* ---------------------------------------------------------------- Sigma */

char sigma_last_error[1024];

static void sigma_diag(void *user, const tr_diag *d)
{
    (void)user;
    if (d->severity >= TR_SEV_WARNING && !sigma_last_error[0])
        snprintf(sigma_last_error, sizeof sigma_last_error, "%s: %s: %s", d->path, d->where, d->reason);
}

typedef struct sigma_run {
    tr_matcher *m;
    long hits;
    tr_detection_fn fn;
    void *user;
} sigma_run;

static void sigma_count(void *user, const tr_detection *d)
{
    sigma_run *r = user;
    r->hits++;
    if (r->fn)
        r->fn(r->user, d);
}

static int sigma_batch(void *user, const tr_batch *b)
{
    sigma_run *r = user;
    for (size_t i = 0; i < b->count; i++)
        tr_matcher_event(r->m, b->events[i], sigma_count, r);
    return 0;
}

static long sigma_run_events(const tr_ruleset *rs, const char *path, const char *text, unsigned flags,
                             tr_detection_fn fn, void *user)
{
    sigma_run run = {0};
    run.fn = fn;
    run.user = user;
    if (tr_matcher_create(&run.m, rs, flags) != TR_OK)
        return -1;
    tr_scan *scan;
    tr_scan_options so = {.on_batch = sigma_batch, .user = &run};
    if (tr_scan_create(&scan, &so) != TR_OK) {
        tr_matcher_destroy(run.m);
        return -1;
    }
    tr_status st = path ? tr_scan_path(scan, path) : tr_scan_memory(scan, "events", text, strlen(text));
    tr_matcher_flush(run.m, sigma_count, &run);
    tr_scan_destroy(scan);
    tr_matcher_destroy(run.m);
    return st == TR_ERR_NOMEM ? -1 : run.hits;
}

long sigma_hunt_path(const tr_ruleset *rs, const char *path, tr_detection_fn fn, void *user)
{
    return sigma_run_events(rs, path, NULL, 0, fn, user);
}

long sigma_hunt_memory(const tr_ruleset *rs, const char *events, unsigned flags)
{
    return sigma_run_events(rs, NULL, events, flags, NULL, NULL);
}

long sigma_hits(const char *rules, const char *events)
{
    static const char test_logsource[] = "logsources:\n  - product: test\n    conditions:\n"
                                         "      EventID|exists: true\n"
                                         "  - product: test\n    conditions:\n"
                                         "      EventID|exists: false\n";
    sigma_last_error[0] = '\0';
    tr_ruleset *rs;
    tr_ruleset_options ro = {.on_diag = sigma_diag, .user = NULL};
    if (tr_ruleset_create(&rs, &ro) != TR_OK)
        return -1;
    long hits = -1;
    if (tr_ruleset_add_logsources_memory(rs, "test-logsource", test_logsource, sizeof test_logsource - 1) == TR_OK &&
        tr_ruleset_add_memory(rs, "test-rule", rules, strlen(rules)) == TR_OK && !sigma_last_error[0] &&
        tr_ruleset_compile(rs) == TR_OK && !sigma_last_error[0])
        hits = sigma_hunt_memory(rs, events, 0);
    tr_ruleset_destroy(rs);
    return hits;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0)
        list_only = true;
    else if (argc > 1)
        only = argv + 1, nonly = argc - 1;
    if (!list_only)
        printf("traccia %s test suite\n", tr_version());
    suite_util();
    suite_sha256();
    suite_event();
    suite_json();
    suite_evtx();
    suite_input();
    suite_scan();
    suite_alloc();
    suite_shared();
    suite_evtx_reference();
    suite_w3c();
    suite_exchange_log();
    suite_sigma();
    suite_sigma_conformance();
    suite_correlation();
    suite_sigma_shared();
    suite_rule_pack();
    suite_exchange_report();
    suite_findings();
    suite_case();
    suite_examples_evtx();
    suite_ioc();
    suite_cli();
    suite_first_contact();
    suite_limits();
    suite_hygiene();
    suite_hunt_faults();
    suite_io_faults();
    suite_fuzz_regressions();
    if (list_only)
        return 0;
    if (nonly && n_pass + n_fail + n_skip == 0) {
        printf("no test named %s (--list names them)\n", only[0]);
        n_fail = 1;
    }
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

const char *test_bin(void)
{
    const char *b = getenv("TRACCIA_BIN");
    return b ? b : "build/traccia";
}
