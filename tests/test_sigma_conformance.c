/*
 * test_sigma_conformance.c — runs the Sigma conformance suite of
 * tests/sigma-conformance/: case files written from the text of the Sigma
 * specification (rules, modifiers appendix, correlations, filters), each
 * citing the clause it tests, with the rule, the events and the number of
 * detections the clause asks for (-1: the rule must be refused).
 *
 * A case file is a multi-document YAML file of this one shape (see
 * tests/sigma-conformance/README.md); each document is one case:
 *
 *     # comments at column 0 (the clause, its words, the reading taken)
 *     case: a short name
 *     expect: 2                  detections; -1: the rule must be refused
 *     reason: unknown modifier   with -1: words the refusal must give
 *     rule: |                    Sigma YAML, every line indented by 4
 *         title: ...
 *     placeholders: |            optional: values for |expand
 *         Admins: [root]
 *     events: |                  JSON lines, indented by 4
 *         {"EventID":1}
 *     ---
 *
 * A document without `rule` (and `placeholders`) takes the previous
 * document's. Every count is taken twice, with and without the literal
 * prefilter, which may save work but never change a result. File names say
 * the area: modifier_, value_, condition_, correlation_, filter_, refused_.
 */
#include "harness.h"

#include <ctype.h>
#include <stdlib.h>

#define CONF_DIR "tests/sigma-conformance"
#define CONF_MIN_CASES 300 /* fewer found: the walker or the parser is broken */

/* ---------------------------------------------------------------- growing strings */

typedef struct sbuf {
    char *s; /* NUL-terminated when not NULL */
    size_t n, cap;
} sbuf;

static bool sb_add(sbuf *b, const char *p, size_t n)
{
    if (n > ((size_t)1 << 24) || b->n > ((size_t)1 << 24))
        return false;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return false;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
    return true;
}

static void sb_clear(sbuf *b)
{
    b->n = 0;
    if (b->s)
        b->s[0] = '\0';
}

static void sb_free(sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->n = b->cap = 0;
}

static bool sb_copy(sbuf *to, const sbuf *from)
{
    sb_clear(to);
    return sb_add(to, from->s ? from->s : "", from->n);
}

/* ---------------------------------------------------------------- running one case */

/* The same test logsource as harness.c's sigma_hits: `product: test` covers
 * every event. */
static const char conf_logsource[] = "logsources:\n  - product: test\n    conditions:\n"
                                     "      EventID|exists: true\n"
                                     "  - product: test\n    conditions:\n"
                                     "      EventID|exists: false\n";

static char conf_error[1024]; /* the first warning or error of conf_hits */

static void conf_diag(void *user, const tr_diag *d)
{
    (void)user;
    if (d->severity >= TR_SEV_WARNING && !conf_error[0])
        snprintf(conf_error, sizeof conf_error, "%s: %s: %s", d->path, d->where, d->reason);
}

/* sigma_hits with placeholders (may be NULL) and matcher flags: the
 * detections, or -1 when a rule or the placeholders did not load or a rule
 * will not run (reason in conf_error). */
static long conf_hits(const char *rules, const char *placeholders, const char *events, unsigned flags)
{
    conf_error[0] = '\0';
    tr_ruleset *rs;
    tr_ruleset_options ro = {.on_diag = conf_diag, .user = NULL};
    if (tr_ruleset_create(&rs, &ro) != TR_OK)
        return -1;
    bool ok = tr_ruleset_add_logsources_memory(rs, "test-logsource", conf_logsource, sizeof conf_logsource - 1) ==
              TR_OK;
    if (ok && placeholders)
        ok = tr_ruleset_add_placeholders_memory(rs, "test-placeholders", placeholders, strlen(placeholders)) ==
             TR_OK;
    ok = ok && tr_ruleset_add_memory(rs, "test-rule", rules, strlen(rules)) == TR_OK && !conf_error[0];
    ok = ok && tr_ruleset_compile(rs) == TR_OK && !conf_error[0];
    long hits = ok ? sigma_hunt_memory(rs, events, flags) : -1;
    tr_ruleset_destroy(rs);
    return hits;
}

/* ---------------------------------------------------------------- areas */

typedef struct area {
    const char *prefix; /* of the file names */
    int min_cases;      /* the area holds at least this many */
} area;

static const area areas[] = {
    {"modifier_", 100}, {"value_", 40}, {"condition_", 30}, {"correlation_", 30},
    {"filter_", 6},     {"refused_", 30},
};
#define NAREAS (sizeof areas / sizeof areas[0])

/* What a walk over the suite saw (and, when running, did). */
typedef struct walk {
    const area *only; /* run the files of this area; NULL: count every file */
    int cases[NAREAS], files[NAREAS];
    int stray_files;  /* names of no area */
    int run, failed;
} walk;

static const area *area_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < NAREAS; i++)
        if (strncmp(base, areas[i].prefix, strlen(areas[i].prefix)) == 0)
            return &areas[i];
    return NULL;
}

/* ---------------------------------------------------------------- case files */

typedef struct conf_case {
    unsigned line; /* of the document's first key */
    char name[160];
    char reason[160];
    long expect;
    bool has_name, has_expect, has_rule, has_events, has_placeholders;
    sbuf rule, events, placeholders;
} conf_case;

typedef struct conf_file {
    const char *path;
    walk *w;
    bool running;
    int ncases, positives, misses, refused, accepted;
    sbuf prev_rule, prev_placeholders;
    bool have_prev, prev_has_placeholders;
} conf_file;

static void conf_fail(const conf_file *f, unsigned line, const char *name, const char *what)
{
    char m[1600];
    snprintf(m, sizeof m, "%s:%u: case \"%s\": %s", f->path, line, name ? name : "?", what);
    tr_test_fail(__FILE__, __LINE__, m);
}

/* The block's text ends with one newline (YAML's clip). */
static void clip_block(sbuf *b)
{
    while (b->n >= 2 && b->s[b->n - 1] == '\n' && b->s[b->n - 2] == '\n')
        b->s[--b->n] = '\0';
    if (b->n == 1 && b->s[0] == '\n')
        sb_clear(b);
}

static void run_case(conf_file *f, conf_case *c)
{
    if (!c->has_name || !c->has_expect) {
        conf_fail(f, c->line, c->has_name ? c->name : NULL, "a case needs `case` and `expect`");
        return;
    }
    if (c->expect < -1) {
        conf_fail(f, c->line, c->name, "expect is -1 (refused) or a count");
        return;
    }
    if (!c->has_rule) {
        if (!f->have_prev) {
            conf_fail(f, c->line, c->name, "no rule, and no earlier case to take it from");
            return;
        }
        if (!sb_copy(&c->rule, &f->prev_rule) || !sb_copy(&c->placeholders, &f->prev_placeholders)) {
            conf_fail(f, c->line, c->name, "out of memory");
            return;
        }
        c->has_placeholders = f->prev_has_placeholders;
    } else {
        if (!sb_copy(&f->prev_rule, &c->rule) || !sb_copy(&f->prev_placeholders, &c->placeholders)) {
            conf_fail(f, c->line, c->name, "out of memory");
            return;
        }
        f->have_prev = true;
        f->prev_has_placeholders = c->has_placeholders;
    }
    if (!c->rule.n) {
        conf_fail(f, c->line, c->name, "the rule is empty");
        return;
    }
    if (!c->has_events && c->expect != -1) {
        conf_fail(f, c->line, c->name, "a case that runs needs `events`");
        return;
    }
    if (c->expect != -1 && c->reason[0]) {
        conf_fail(f, c->line, c->name, "`reason` is for refused rules (expect: -1)");
        return;
    }
    f->ncases++;
    f->positives += c->expect > 0;
    f->misses += c->expect == 0;
    f->refused += c->expect == -1;
    f->accepted += c->expect >= 0;
    if (!f->running)
        return;

    const char *events = c->has_events && c->events.s ? c->events.s : "{\"EventID\":1}\n";
    const char *ph = c->has_placeholders ? (c->placeholders.s ? c->placeholders.s : "") : NULL;
    long got;
    const char *error;
    if (ph) {
        got = conf_hits(c->rule.s, ph, events, 0);
        error = conf_error;
    } else {
        got = sigma_hits(c->rule.s, events);
        error = sigma_last_error;
    }
    f->w->run++;
    int before = tr_test_failed_checks;
    if (got != c->expect) { /* every failing case said, not only the first ten */
        if (c->expect == -1)
            fprintf(stderr, "  %s:%u: case \"%s\": the rule must be refused; it loaded and gave %ld detections\n",
                    f->path, c->line, c->name, got);
        else
            fprintf(stderr, "  %s:%u: case \"%s\": expected %ld detections, got %ld%s%s\n", f->path, c->line,
                    c->name, c->expect, got, error[0] ? "; first problem: " : "", error);
    }
    CHECK_INT(got, c->expect);
    if (got == -1 && c->expect == -1 && c->reason[0] && !strstr(error, c->reason)) {
        char m[1400];
        snprintf(m, sizeof m, "refused, but not for \"%s\": %s", c->reason, error);
        conf_fail(f, c->line, c->name, m);
    }
    if (got >= 0) { /* the prefilter may only save work */
        long without = conf_hits(c->rule.s, ph, events, TR_MATCH_NO_PREFILTER);
        if (without != got) {
            char m[300];
            snprintf(m, sizeof m, "%ld detections with the prefilter, %ld without", got, without);
            conf_fail(f, c->line, c->name, m);
        }
    }
    if (tr_test_failed_checks != before)
        f->w->failed++;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ')
            return false;
    return true;
}

/* A scalar value: spaces around it and one pair of quotes taken off (no
 * escapes). False when it does not fit in cap bytes. */
static bool scalar(const char *p, size_t n, char *out, size_t cap)
{
    while (n && p[0] == ' ')
        p++, n--;
    while (n && p[n - 1] == ' ')
        n--;
    if (n >= 2 && (p[0] == '\'' || p[0] == '"') && p[n - 1] == p[0])
        p++, n -= 2;
    if (n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static void case_reset(conf_case *c)
{
    c->line = 0;
    c->name[0] = c->reason[0] = '\0';
    c->expect = 0;
    c->has_name = c->has_expect = c->has_rule = c->has_events = c->has_placeholders = false;
    sb_clear(&c->rule);
    sb_clear(&c->events);
    sb_clear(&c->placeholders);
}

/* Reads the cases of one file, running each as its document ends. A line
 * the format does not allow stops the file (said with its line). */
static void parse_file(conf_file *f, const char *text, size_t len)
{
    conf_case c = {0};
    sbuf *block = NULL; /* the block scalar being read */
    bool in_doc = false;
    const char *bad = NULL; /* what is wrong with line `lineno` */
    unsigned lineno = 0;
    for (size_t at = 0; at < len && !bad;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl != NULL);
        lineno++;
        if (n && line[n - 1] == '\r') {
            bad = "CR-LF line ends (the suite's files use LF)";
            break;
        }
        if (memchr(line, '\t', n)) {
            bad = "a tab (indent with spaces)";
            break;
        }
        if (block) {
            if (is_blank(line, n)) {
                if (!sb_add(block, "\n", 1))
                    bad = "out of memory";
                continue;
            }
            if (n >= 4 && memcmp(line, "    ", 4) == 0) {
                if (!sb_add(block, line + 4, n - 4) || !sb_add(block, "\n", 1))
                    bad = "out of memory";
                continue;
            }
            clip_block(block);
            block = NULL;
        }
        if (is_blank(line, n) || line[0] == '#')
            continue;
        if (n >= 3 && memcmp(line, "---", 3) == 0 && is_blank(line + 3, n - 3)) {
            if (in_doc)
                run_case(f, &c);
            case_reset(&c);
            in_doc = false;
            continue;
        }
        size_t k = 0;
        while (k < n && (islower((unsigned char)line[k]) || line[k] == '_'))
            k++;
        if (k == 0 || k >= n || line[k] != ':' || (k + 1 < n && line[k + 1] != ' ')) {
            bad = "not `key: value` at column 0";
            break;
        }
        if (!in_doc) {
            in_doc = true;
            c.line = lineno;
        }
        char v[sizeof c.name];
        if (!scalar(line + k + 1, n - k - 1, v, sizeof v)) {
            bad = "a value longer than the runner keeps";
            break;
        }
#define KEY(lit) (k == strlen(lit) && memcmp(line, lit, k) == 0)
        bool dup = false;
        if (KEY("rule") || KEY("events") || KEY("placeholders")) {
            if (strcmp(v, "|") != 0) {
                bad = "a block is written `key: |`";
                break;
            }
            bool *has = KEY("rule") ? &c.has_rule : KEY("events") ? &c.has_events : &c.has_placeholders;
            block = KEY("rule") ? &c.rule : KEY("events") ? &c.events : &c.placeholders;
            dup = *has;
            *has = true;
        } else if (KEY("case")) {
            dup = c.has_name;
            c.has_name = true;
            snprintf(c.name, sizeof c.name, "%s", v);
        } else if (KEY("expect")) {
            char *end;
            dup = c.has_expect;
            c.has_expect = true;
            c.expect = strtol(v, &end, 10);
            if (end == v || *end)
                bad = "expect is a whole number";
        } else if (KEY("reason")) {
            dup = c.reason[0] != '\0';
            snprintf(c.reason, sizeof c.reason, "%s", v);
        } else {
            bad = "unknown key (case, expect, reason, rule, placeholders, events)";
        }
#undef KEY
        if (dup && !bad)
            bad = "a key given twice in one case";
    }
    if (bad) {
        conf_fail(f, lineno, c.has_name ? c.name : NULL, bad);
    } else if (in_doc) {
        if (block)
            clip_block(block);
        run_case(f, &c);
    }
    sb_free(&c.rule);
    sb_free(&c.events);
    sb_free(&c.placeholders);
}

static void conf_file_visit(const char *path, void *ctx)
{
    walk *w = ctx;
    const area *a = area_of(path);
    if (!a) {
        if (!w->only) {
            char m[1200];
            snprintf(m, sizeof m, "%s: the name starts with no area's prefix (modifier_, value_, ...)", path);
            tr_test_fail(__FILE__, __LINE__, m);
            w->stray_files++;
        }
        return;
    }
    if (w->only && a != w->only)
        return;
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        char m[1200];
        snprintf(m, sizeof m, "%s: cannot be read", path);
        tr_test_fail(__FILE__, __LINE__, m);
        return;
    }
    conf_file f = {.path = path, .w = w, .running = w->only != NULL};
    parse_file(&f, text, len);
    free(text);
    sb_free(&f.prev_rule);
    sb_free(&f.prev_placeholders);
    size_t i = (size_t)(a - areas);
    w->cases[i] += f.ncases;
    w->files[i]++;
    if (w->only)
        return;
    /* every file pairs what must match with what must not */
    bool refused_area = strcmp(a->prefix, "refused_") == 0;
    if (f.ncases == 0)
        conf_fail(&f, 1, NULL, "the file holds no case");
    else if (refused_area && (!f.refused || !f.accepted))
        conf_fail(&f, 1, NULL, "a file of refused rules holds a refused rule and its valid twin");
    else if (!refused_area && (!f.positives || !f.misses))
        conf_fail(&f, 1, NULL, "the file holds positives (expect > 0) and near misses (expect: 0)");
    else if (f.refused && !f.accepted)
        conf_fail(&f, 1, NULL, "a refused rule comes with its valid twin");
}

static void run_area(const char *prefix)
{
    walk w = {0};
    for (size_t i = 0; i < NAREAS; i++)
        if (strcmp(areas[i].prefix, prefix) == 0)
            w.only = &areas[i];
    if (!w.only) {
        tr_test_fail(__FILE__, __LINE__, "no such area");
        return;
    }
    walk_files(CONF_DIR, ".yml", conf_file_visit, &w);
    size_t i = (size_t)(w.only - areas);
    if (w.files[i] == 0) {
        char m[200];
        snprintf(m, sizeof m, "no %s*.yml file under " CONF_DIR " (is the working folder the repository?)",
                 prefix);
        tr_test_fail(__FILE__, __LINE__, m);
    }
    CHECK_INT(w.run, w.cases[i]);
    if (w.failed)
        fprintf(stderr, "  %d of %d %s cases failed\n", w.failed, w.run, prefix);
}

/* ---------------------------------------------------------------- tests */

static void conformance_suite_is_complete(void)
{
    walk w = {0};
    walk_files(CONF_DIR, ".yml", conf_file_visit, &w);
    int total = 0;
    for (size_t i = 0; i < NAREAS; i++) {
        total += w.cases[i];
        if (w.cases[i] < areas[i].min_cases) {
            char m[200];
            snprintf(m, sizeof m, "%s*.yml: %d cases found, at least %d expected", areas[i].prefix, w.cases[i],
                     areas[i].min_cases);
            tr_test_fail(__FILE__, __LINE__, m);
        }
    }
    CHECK(total >= CONF_MIN_CASES);
    CHECK_INT(w.stray_files, 0);
}

static void conformance_modifiers(void) { run_area("modifier_"); }
static void conformance_values(void) { run_area("value_"); }
static void conformance_conditions(void) { run_area("condition_"); }
static void conformance_correlations(void) { run_area("correlation_"); }
static void conformance_filters(void) { run_area("filter_"); }
static void conformance_refused(void) { run_area("refused_"); }

void suite_sigma_conformance(void)
{
    RUN(conformance_suite_is_complete);
    RUN(conformance_modifiers);
    RUN(conformance_values);
    RUN(conformance_conditions);
    RUN(conformance_correlations);
    RUN(conformance_filters);
    RUN(conformance_refused);
}
