/*
 * test_correlation.c — Sigma correlation rules: the specification's
 * examples parse; each correlation type fires on a crafted input and stays
 * quiet on its near miss; group-by, aliases, order, chaining, expiry of
 * state, caps; invalid sections are rejected with a reason and a line; and
 * every allocation of parsing and evaluating may fail without a leak.
 */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "../src/sigma/correlation.h"
#include "../src/sigma/yaml.h"

#define NS 1000000000LL
#define T0 (1614668472LL * NS) /* 2021-03-02T07:01:12Z */
#define SEC(x) (T0 + (tr_time)((x) * (double)NS))
#define MIN(x) SEC((x) * 60)

/* ---------------------------------------------------------------- helpers */

static tr_corr_spec *load_at(tr_arena *a, const char *yaml, int line)
{
    tr_ynode **docs = NULL;
    size_t ndocs = 0;
    char err[256], m[400];
    uint32_t eline = 0;
    if (tr_yaml_load(yaml, strlen(yaml), a, &docs, &ndocs, err, sizeof err, &eline) != TR_OK || ndocs < 1) {
        snprintf(m, sizeof m, "YAML of the test at line %d: %s (line %u)", line, err, eline);
        tr_test_fail(__FILE__, line, m);
        return NULL;
    }
    tr_corr_spec *s = NULL;
    if (tr_corr_parse_rule(docs[0], a, &s, err, sizeof err, &eline) != TR_OK) {
        snprintf(m, sizeof m, "parse: %s (line %u)", err, eline);
        tr_test_fail(__FILE__, line, m);
        return NULL;
    }
    return s;
}
#define LOAD(a, yaml) load_at((a), (yaml), __LINE__)

/* An input: up to 8 name/value pairs. */
typedef struct fields {
    const char *k[8], *v[8];
    size_t n;
} fields;

static const char *fields_get(void *ctx, const char *name, size_t *len)
{
    const fields *f = ctx;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->k[i], name) == 0) {
            *len = strlen(f->v[i]);
            return f->v[i];
        }
    }
    return NULL;
}

#define MAXHITS 64
typedef struct hits {
    int n;
    size_t corr[MAXHITS];
    double value[MAXHITS];
    tr_time first[MAXHITS], last[MAXHITS];
    size_t nevents[MAXHITS];
    char group[MAXHITS][160]; /* "name=value,name=value" */
    /* chaining: feed each hit of correlation `from` as rule `ref` of correlation `to` */
    tr_corr_engine *e;
    int chain;
    size_t from, to, ref;
} hits;

static void collect(void *user, const tr_corr_hit *h)
{
    hits *hs = user;
    if (hs->chain && h->correlation == hs->from) {
        tr_corr_input in;
        tr_corr_input_from_hit(&in, h);
        CHECK_INT(tr_corr_engine_feed(hs->e, hs->to, hs->ref, &in, collect, hs), TR_OK);
    }
    if (hs->n >= MAXHITS) {
        hs->n++;
        return;
    }
    int i = hs->n++;
    hs->corr[i] = h->correlation;
    hs->value[i] = h->value;
    hs->first[i] = h->first;
    hs->last[i] = h->last;
    hs->nevents[i] = h->nevents;
    size_t at = 0;
    hs->group[i][0] = '\0';
    for (size_t k = 0; k < h->ngroup && at < sizeof hs->group[i]; k++) {
        CHECK_INT(strlen(h->group_values[k]), h->group_lens[k]);
        at += (size_t)snprintf(hs->group[i] + at, sizeof hs->group[i] - at, "%s%s=%s", k ? "," : "",
                               h->group_fields[k], h->group_values[k]);
    }
}

/* Feeds one input (name, value pairs ending with NULL) with the collector. */
static int feed(tr_corr_engine *e, size_t c, size_t ref, tr_time t, hits *h, ...)
{
    fields f = {0};
    va_list ap;
    va_start(ap, h);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL && f.n < 8) {
        f.k[f.n] = k;
        f.v[f.n] = va_arg(ap, const char *);
        f.n++;
    }
    va_end(ap);
    tr_corr_input in = {t, fields_get, &f};
    return tr_corr_engine_feed(e, c, ref, &in, collect, h);
}

static tr_corr_engine *engine1(const tr_corr_spec *s)
{
    tr_corr_engine *e = NULL;
    const tr_corr_spec *v[1] = {s};
    CHECK_INT(tr_corr_engine_create(&e, v, 1), TR_OK);
    return e;
}

/* ---------------------------------------------------------------- parsing */

static void parse_spec_examples(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: Many failed logins\n"
                               "id: 0e95725d-7320-415d-80f7-004da920fc11\n"
                               "correlation:\n"
                               "    type: event_count\n"
                               "    rules:\n"
                               "        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
                               "    group-by:\n"
                               "        - ComputerName\n"
                               "    timespan: 1h\n"
                               "    condition:\n"
                               "        gte: 100\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_EVENT_COUNT);
        CHECK_INT(tr_corr_ref_count(s), 1);
        CHECK(strcmp(tr_corr_ref(s, 0), "5638f7c0-ac70-491d-8465-2a65075e0d86") == 0);
        CHECK_INT(tr_corr_timespan(s), 3600 * NS);
        CHECK_INT(tr_corr_group_by_count(s), 1);
        CHECK(strcmp(tr_corr_group_by(s, 0), "ComputerName") == 0);
        CHECK(strcmp(tr_corr_group_field(s, 0, 0), "ComputerName") == 0);
        CHECK_INT(tr_corr_cond_ops(s), TR_CORR_OP_GTE);
        CHECK(tr_corr_cond_threshold(s, TR_CORR_OP_GTE) == 100);
        CHECK_INT(tr_corr_field_count(s), 0);
        CHECK_INT(tr_corr_generate(s), 0);
        CHECK_INT(tr_corr_line(s), 4);
        CHECK(!tr_corr_condition_holds(s, 99) && tr_corr_condition_holds(s, 100));
    }

    s = LOAD(&a, "title: Failed login\n"
                 "id: 0e95725d-7320-415d-80f7-004da920fc12\n"
                 "correlation:\n"
                 "    type: value_count\n"
                 "    rules:\n"
                 "        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
                 "    group-by:\n"
                 "        - ComputerName\n"
                 "        - WorkstationName\n"
                 "    timespan: 1d\n"
                 "    condition:\n"
                 "        field: User\n"
                 "        gte: 100\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_VALUE_COUNT);
        CHECK_INT(tr_corr_timespan(s), 86400 * NS);
        CHECK_INT(tr_corr_group_by_count(s), 2);
        CHECK(strcmp(tr_corr_group_by(s, 1), "WorkstationName") == 0);
        CHECK_INT(tr_corr_field_count(s), 1);
        CHECK(strcmp(tr_corr_field(s, 0), "User") == 0);
    }

    s = LOAD(&a, "title: Recon\n"
                 "correlation:\n"
                 "    type: temporal\n"
                 "    rules:\n"
                 "        - recon_cmd_a\n"
                 "        - recon_cmd_b\n"
                 "        - recon_cmd_c\n"
                 "    group-by:\n"
                 "        - ComputerName\n"
                 "        - User\n"
                 "    timespan: 5m\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_TEMPORAL);
        CHECK_INT(tr_corr_ref_count(s), 3);
        CHECK(strcmp(tr_corr_ref(s, 2), "recon_cmd_c") == 0);
        CHECK_INT(tr_corr_timespan(s), 300 * NS);
        /* no condition: every referenced rule */
        CHECK_INT(tr_corr_cond_ops(s), TR_CORR_OP_GTE);
        CHECK(tr_corr_cond_threshold(s, TR_CORR_OP_GTE) == 3);
    }

    s = LOAD(&a, "title: Recon ordered\n"
                 "correlation:\n"
                 "    type: temporal_ordered\n"
                 "    rules:\n"
                 "        - many_failed_logins\n"
                 "        - successful_login\n"
                 "    group-by:\n"
                 "        - User\n"
                 "    timespan: 1h\n");
    if (s)
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_TEMPORAL_ORDERED);

    s = LOAD(&a, "title: Possible Exfiltration to Website\n"
                 "correlation:\n"
                 "    type: value_sum\n"
                 "    rules:\n"
                 "        - website_access\n"
                 "    group-by:\n"
                 "        - SourceIP\n"
                 "        - User\n"
                 "    timespan: 1h\n"
                 "    condition:\n"
                 "        field: bytes_sent\n"
                 "        gt: 1000000\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_VALUE_SUM);
        CHECK(tr_corr_cond_threshold(s, TR_CORR_OP_GT) == 1000000);
        CHECK(strcmp(tr_corr_field(s, 0), "bytes_sent") == 0);
    }

    s = LOAD(&a, "title: Suspicious average network traffic\n"
                 "correlation:\n"
                 "    type: value_avg\n"
                 "    rules: \n"
                 "        - rule_a_id\n"
                 "    group-by:\n"
                 "        - SourceIP\n"
                 "        - User\n"
                 "    timespan: 24h\n"
                 "    condition:\n"
                 "        field: BytesOut\n"
                 "        gt: 500\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_VALUE_AVG);
        CHECK_INT(tr_corr_timespan(s), 24 * 3600 * NS);
    }

    s = LOAD(&a, "title: A computer spawned a processes name in the last 24h than 1% of all the processes.\n"
                 "correlation:\n"
                 "    type: value_percentile\n"
                 "    rules: \n"
                 "        - process_creation\n"
                 "    group-by:\n"
                 "        - ComputerName\n"
                 "    timespan: 24h\n"
                 "    condition:\n"
                 "        field: image\n"
                 "        lte: 1\n");
    if (s) {
        CHECK_INT(tr_corr_spec_type(s), TR_CORR_VALUE_PERCENTILE);
        CHECK(tr_corr_percentile(s) == 50); /* the default: the example names none */
        CHECK_INT(tr_corr_cond_ops(s), TR_CORR_OP_LTE);
    }

    /* a range: the operators combine with AND; a fractional threshold; pySigma's percentile key */
    s = LOAD(&a, "title: range\n"
                 "correlation:\n"
                 "    type: value_percentile\n"
                 "    rules: [r]\n"
                 "    group-by: [h]\n"
                 "    timespan: 14d\n"
                 "    condition: {field: latency, percentile: 95, gt: 100, lte: 200.5}\n");
    if (s) {
        CHECK_INT(tr_corr_cond_ops(s), TR_CORR_OP_GT | TR_CORR_OP_LTE);
        CHECK(tr_corr_percentile(s) == 95);
        CHECK_INT(tr_corr_timespan(s), 14 * 86400 * NS);
        CHECK(!tr_corr_condition_holds(s, 100) && tr_corr_condition_holds(s, 100.5));
        CHECK(tr_corr_condition_holds(s, 200.5) && !tr_corr_condition_holds(s, 201));
    }
    tr_arena_free(&a);
}

static void parse_aliases_example(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: —\n"
                               "id: —\n"
                               "correlation:\n"
                               "    type: temporal\n"
                               "    rules:\n"
                               "        - internal_error\n"
                               "        - new_network_connection\n"
                               "    group-by:\n"
                               "        - internal_ip\n"
                               "        - remote_ip\n"
                               "    timespan: 10s\n"
                               "    aliases:\n"
                               "        internal_ip:\n"
                               "            internal_error: destination.ip\n"
                               "            new_network_connection: source.ip\n"
                               "        remote_ip:\n"
                               "            internal_error: source.ip\n"
                               "            new_network_connection: destination.ip\n");
    if (s) {
        CHECK_INT(tr_corr_timespan(s), 10 * NS);
        CHECK(strcmp(tr_corr_group_by(s, 0), "internal_ip") == 0);
        CHECK(strcmp(tr_corr_group_field(s, 0, 0), "destination.ip") == 0);
        CHECK(strcmp(tr_corr_group_field(s, 1, 0), "source.ip") == 0);
        CHECK(strcmp(tr_corr_group_field(s, 0, 1), "source.ip") == 0);
        CHECK(strcmp(tr_corr_group_field(s, 1, 1), "destination.ip") == 0);
    }
    tr_arena_free(&a);
}

/* The specification's closing example: four documents, two of them
 * correlations; `generate` at the top level. */
static void parse_multi_document_example(void)
{
    static const char yaml[] =
        "title: Correlation - Multiple Failed Logins Followed by Successful Login\n"
        "id: b180ead8-d58f-40b2-ae54-c8940995b9b6\n"
        "status: experimental\n"
        "description: Detects multiple failed logins by a single user followed by a successful login of that user\n"
        "references:\n"
        "    - https://reference.com\n"
        "author: Florian Roth (Nextron Systems)\n"
        "date: 2023-06-16\n"
        "correlation:\n"
        "    type: temporal_ordered\n"
        "    rules:\n"
        "        - multiple_failed_login\n"
        "        - successful_login\n"
        "    group-by:\n"
        "        - User\n"
        "    timespan: 10m\n"
        "falsepositives:\n"
        "    - Unlikely\n"
        "level: high\n"
        "generate: true\n"
        "---\n"
        "title: Multiple failed logons\n"
        "id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\n"
        "description: Detects multiple failed logins within a certain amount of time\n"
        "name: multiple_failed_login\n"
        "correlation:\n"
        "    type: event_count\n"
        "    rules:\n"
        "        - failed_login\n"
        "    group-by:\n"
        "        - User\n"
        "    timespan: 10m\n"
        "    condition:\n"
        "        gte: 10\n"
        "---\n"
        "title: Single failed login\n"
        "id: 53ba33fd-3a50-4468-a5ef-c583635cfa92\n"
        "name: failed_login\n"
        "logsource:\n"
        "    product: windows\n"
        "    service: security\n"
        "detection:\n"
        "    selection:\n"
        "        EventID:\n"
        "            - 529\n"
        "            - 4625\n"
        "    condition: selection\n";
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_ynode **docs = NULL;
    size_t ndocs = 0;
    char err[256];
    uint32_t line = 0;
    CHECK_INT(tr_yaml_load(yaml, strlen(yaml), &a, &docs, &ndocs, err, sizeof err, &line), TR_OK);
    CHECK_INT(ndocs, 3);
    if (ndocs == 3) {
        tr_corr_spec *s = NULL;
        CHECK_INT(tr_corr_parse_rule(docs[0], &a, &s, err, sizeof err, &line), TR_OK);
        if (s) {
            CHECK_INT(tr_corr_spec_type(s), TR_CORR_TEMPORAL_ORDERED);
            CHECK_INT(tr_corr_generate(s), 1);
            CHECK_INT(tr_corr_timespan(s), 600 * NS);
        }
        CHECK_INT(tr_corr_parse_rule(docs[1], &a, &s, err, sizeof err, &line), TR_OK);
        if (s) {
            CHECK_INT(tr_corr_spec_type(s), TR_CORR_EVENT_COUNT);
            CHECK(strcmp(tr_corr_ref(s, 0), "failed_login") == 0);
            CHECK_INT(tr_corr_generate(s), 0);
        }
        /* a base rule is not a correlation */
        CHECK_INT(tr_corr_parse_rule(docs[2], &a, &s, err, sizeof err, &line), TR_ERR_FORMAT);
        CHECK_CONTAINS(err, "no correlation section");
        CHECK(s == NULL);
        /* the section alone, with pySigma's `generate` inside it */
        const tr_ynode *sec = tr_ymap_get(docs[1], "correlation");
        CHECK_INT(tr_corr_parse(sec, &a, &s, err, sizeof err, &line), TR_OK);
    }
    tr_arena_free(&a);
}

/* Invalid sections: each rejected with a reason and the line at fault. */
static void parse_rejects(void)
{
    static const struct {
        const char *body; /* the section's lines, after "correlation:\n" on line 2 */
        const char *reason;
        uint32_t line;
    } cases[] = {
        {"  type: event_cnt\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 1}\n", "unknown correlation type 'event_cnt'", 3},
        {"  rules: [a]\n  timespan: 5m\n  condition: {gte: 1}\n", "needs a type", 3},
        {"  type: event_count\n  rules: [a]\n  condition: {gte: 1}\n", "needs a timespan", 3},
        {"  type: event_count\n  rules: [a]\n  timespan: 5x\n  condition: {gte: 1}\n", "unknown unit 'x'", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 5\n  condition: {gte: 1}\n", "not a number followed by one unit", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 0m\n  condition: {gte: 1}\n", "greater than zero", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 1M\n  condition: {gte: 1}\n", "not fixed durations", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 5S\n  condition: {gte: 1}\n", "lowercase", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: m5\n  condition: {gte: 1}\n", "not a number followed", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 99999999999999999m\n  condition: {gte: 1}\n", "too long", 5},
        {"  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: 3\n", "needs condition.field", 7},
        {"  type: value_sum\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 3}\n", "needs condition.field", 6},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n", "needs a condition", 3},
        {"  type: event_count\n  rules: []\n  timespan: 5m\n  condition: {gte: 1}\n", "rules must not be empty", 4},
        {"  type: event_count\n  timespan: 5m\n  condition: {gte: 1}\n", "needs rules", 3},
        {"  type: event_count\n  rules: [a, b, a]\n  timespan: 5m\n  condition: {gte: 1}\n", "lists 'a' twice", 4},
        {"  type: event_count\n  rules: [a]\n  group-by: {User: 1}\n  timespan: 5m\n  condition: {gte: 1}\n", "group-by must be a list", 5},
        {"  type: event_count\n  rules: [a]\n  group_by: [User]\n  timespan: 5m\n  condition: {gte: 1}\n", "unknown key 'group_by' in correlation", 5},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    ge: 1\n", "unknown key 'ge' in condition", 7},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: many\n", "condition gte must be a number, not 'many'", 7},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: .inf\n", "must be a number", 7},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    field: User\n", "needs an operator", 7},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: 1\n    gte: 2\n", "key 'gte' appears twice", 8},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: 1\n    field: User\n", "condition field is for value_count", 8},
        {"  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: a and b\n", "expression conditions are not supported", 6},
        {"  type: value_sum\n  rules: [a]\n  timespan: 5m\n  condition:\n    gt: 1\n    field: [x, y]\n", "aggregates one field", 8},
        {"  type: value_sum\n  rules: [a]\n  timespan: 5m\n  condition:\n    gt: 1\n    field: x\n    percentile: 9\n", "percentile is for value_percentile", 9},
        {"  type: value_percentile\n  rules: [a]\n  timespan: 5m\n  condition:\n    gt: 1\n    field: x\n    percentile: 150\n", "from 0 to 100", 9},
        {"  type: temporal\n  rules: [a, b]\n  group-by: [ip]\n  timespan: 5m\n  aliases:\n    ip:\n      c: source.ip\n", "names rule 'c', which is not in rules", 9},
        {"  type: temporal\n  rules: [a, b]\n  timespan: 5m\n  aliases:\n    ip: source.ip\n", "alias 'ip' must map referenced rules", 7},
        {"  type: temporal\n  rules: [a, b]\n  timespan: 5m\n  generate: perhaps\n", "generate must be true or false", 6},
        {"  - type\n", "correlation must be a mapping", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "title: bad\ncorrelation:\n%s", cases[i].body);
        tr_arena a;
        tr_arena_init(&a, 0);
        tr_ynode **docs = NULL;
        size_t ndocs = 0;
        char err[256] = "";
        uint32_t line = 0;
        if (tr_yaml_load(yaml, strlen(yaml), &a, &docs, &ndocs, err, sizeof err, &line) != TR_OK || ndocs != 1) {
            char m[400];
            snprintf(m, sizeof m, "case %zu: YAML does not load: %s", i, err);
            tr_test_fail(__FILE__, __LINE__, m);
            tr_arena_free(&a);
            continue;
        }
        tr_corr_spec *s = (tr_corr_spec *)&a; /* must be reset to NULL */
        int rc = tr_corr_parse_rule(docs[0], &a, &s, err, sizeof err, &line);
        if (rc != TR_ERR_FORMAT || s != NULL || !strstr(err, cases[i].reason) || line != cases[i].line) {
            char m[600];
            snprintf(m, sizeof m, "case %zu: rc %d, line %u (want %u), \"%s\" (want \"%s\")", i, rc, line,
                     cases[i].line, err, cases[i].reason);
            tr_test_fail(__FILE__, __LINE__, m);
        }
        tr_arena_free(&a);
    }
    /* a top-level generate that is no boolean */
    tr_arena a;
    tr_arena_init(&a, 0);
    const char *yaml = "title: x\ngenerate: 2\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 1s\n";
    tr_ynode **docs = NULL;
    size_t ndocs = 0;
    char err[256];
    uint32_t line = 0;
    tr_corr_spec *s = NULL;
    CHECK_INT(tr_yaml_load(yaml, strlen(yaml), &a, &docs, &ndocs, err, sizeof err, &line), TR_OK);
    CHECK_INT(tr_corr_parse_rule(docs[0], &a, &s, err, sizeof err, &line), TR_ERR_FORMAT);
    CHECK_CONTAINS(err, "generate must be true or false");
    CHECK_INT(line, 2);
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- each type */

static void event_count_window(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
                               "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 5}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    /* five in four minutes: fires on the fifth, once */
    for (int i = 0; i < 5; i++)
        CHECK_INT(feed(e, 0, 0, MIN(i), &h, "User", "bob", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 5);
    CHECK_INT(h.first[0], MIN(0));
    CHECK_INT(h.last[0], MIN(4));
    CHECK_INT(h.nevents[0], 5);
    CHECK(strcmp(h.group[0], "User=bob") == 0);
    /* the window was emptied: the next four do not fire, the fifth does */
    for (int i = 0; i < 4; i++)
        CHECK_INT(feed(e, 0, 0, MIN(4) + SEC(i) - T0, &h, "User", "bob", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK_INT(feed(e, 0, 0, MIN(4.5), &h, "User", "bob", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    /* near miss: five over six minutes never has five within five */
    for (int i = 0; i < 5; i++)
        CHECK_INT(feed(e, 0, 0, MIN(10 + 1.5 * i), &h, "User", "alice", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    /* the window's edge is inclusive: 0 and 5:00 are within 5m */
    for (int i = 0; i < 4; i++)
        CHECK_INT(feed(e, 0, 0, MIN(30 + i * 5.0 / 3.0 * 0.999), &h, "User", "carol", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(35), &h, "User", "carol", NULL), TR_OK);
    CHECK_INT(h.n, 3);
    CHECK_INT(tr_corr_engine_stats(e, 0)->fed, 20);
    CHECK_INT(tr_corr_engine_stats(e, 0)->fired, 3);
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 3); /* eager: nothing waits for flush */
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void value_count_distinct(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: value_count\n  rules: [failed]\n"
                               "  group-by: [Host]\n  timespan: 10m\n  condition: {field: User, gte: 3}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    const char *users[] = {"a", "b", "a", "b", "a", "b", "c"};
    for (int i = 0; i < 7; i++)
        CHECK_INT(feed(e, 0, 0, MIN(i), &h, "Host", "h1", "User", users[i], NULL), TR_OK);
    CHECK_INT(h.n, 1); /* only when c, the third distinct user, arrives */
    CHECK(h.value[0] == 3);
    CHECK_INT(h.nevents[0], 7);
    /* near miss: the third user comes after the first two left the window */
    CHECK_INT(feed(e, 0, 0, MIN(20), &h, "Host", "h2", "User", "a", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(21), &h, "Host", "h2", "User", "b", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(31.5), &h, "Host", "h2", "User", "c", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    /* an input without the field is not counted */
    CHECK_INT(feed(e, 0, 0, MIN(32), &h, "Host", "h2", NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 0)->missing_field, 1);
    /* values are compared exactly: A is not a */
    CHECK_INT(feed(e, 0, 0, MIN(33), &h, "Host", "h2", "User", "C", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK_INT(feed(e, 0, 0, MIN(34), &h, "Host", "h2", "User", "D", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    tr_corr_engine_destroy(e);

    /* a tuple of fields: (a, x) and (a, y) are two values; ("ab","c") is not ("a","bc") */
    s = LOAD(&a, "title: t\ncorrelation:\n  type: value_count\n  rules: [r]\n"
                 "  timespan: 10m\n  condition: {field: [User, Dom], gte: 3}\n");
    if (!s)
        goto out;
    e = engine1(s);
    h.n = 0;
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "User", "ab", "Dom", "c", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(1), &h, "User", "a", "Dom", "bc", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(2), &h, "User", "ab", "Dom", "c", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(feed(e, 0, 0, MIN(3), &h, "User", "a", "Dom", "x", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(strcmp(h.group[0], "") == 0); /* no group-by: one group */
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void temporal_any_order(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                               "  group-by: [User]\n  timespan: 5m\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    CHECK_INT(feed(e, 0, 2, MIN(0), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(1), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(2), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(feed(e, 0, 1, MIN(4), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 3);
    CHECK_INT(h.first[0], MIN(0));
    CHECK_INT(h.last[0], MIN(4));
    /* near miss: a at 10, b at 12, c at 16: a has left the window */
    CHECK_INT(feed(e, 0, 0, MIN(10), &h, "User", "v", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(12), &h, "User", "v", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 2, MIN(16), &h, "User", "v", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    /* ... until another a comes in time */
    CHECK_INT(feed(e, 0, 0, MIN(16.5), &h, "User", "v", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    tr_corr_engine_destroy(e);

    /* a condition on the number of rules: two of three */
    s = LOAD(&a, "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                 "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 2}\n");
    if (!s)
        goto out;
    e = engine1(s);
    h.n = 0;
    CHECK_INT(feed(e, 0, 1, MIN(0), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(1), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(feed(e, 0, 2, MIN(2), &h, "User", "u", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 2);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void temporal_ordered_order(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b, c]\n"
                               "  group-by: [User]\n  timespan: 5m\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    /* in order: fires */
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(1), &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 2, MIN(2), &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 3);
    /* reversed: does not */
    CHECK_INT(feed(e, 0, 2, MIN(0), &h, "User", "u2", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(1), &h, "User", "u2", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(2), &h, "User", "u2", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    /* b a c: no b after a yet; then b, c: a(1) < b(3) < c(4) */
    CHECK_INT(feed(e, 0, 1, MIN(0), &h, "User", "u3", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(1), &h, "User", "u3", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 2, MIN(2), &h, "User", "u3", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK_INT(feed(e, 0, 1, MIN(3), &h, "User", "u3", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK_INT(feed(e, 0, 2, MIN(4), &h, "User", "u3", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    /* in order, but the chain spans more than the timespan */
    CHECK_INT(feed(e, 0, 0, MIN(10), &h, "User", "u4", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(13), &h, "User", "u4", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 2, MIN(15.5), &h, "User", "u4", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    /* a late input slots in by its time: a(20), c(22), then b(21) arrives */
    CHECK_INT(feed(e, 0, 0, MIN(20), &h, "User", "u5", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 2, MIN(22), &h, "User", "u5", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, MIN(21), &h, "User", "u5", NULL), TR_OK);
    CHECK_INT(h.n, 3);
    CHECK_INT(h.first[2], MIN(20));
    CHECK_INT(h.last[2], MIN(22));
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void value_sum_numbers(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: value_sum\n  rules: [web]\n"
                               "  group-by: [SourceIP]\n  timespan: 1h\n  condition: {field: bytes, gt: 1000}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "SourceIP", "1.1.1.1", "bytes", "400", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(1), &h, "SourceIP", "1.1.1.1", "bytes", " 400.5 ", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(2), &h, "SourceIP", "1.1.1.1", "bytes", "lots", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(3), &h, "SourceIP", "1.1.1.1", "bytes", "0x400", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(4), &h, "SourceIP", "1.1.1.1", "bytes", "inf", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(tr_corr_engine_stats(e, 0)->non_numeric, 3);
    CHECK_INT(feed(e, 0, 0, MIN(5), &h, "SourceIP", "1.1.1.1", "bytes", "2e2", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 1000.5);
    CHECK_INT(h.nevents[0], 3);
    /* near miss: the third arrives after the first two have left */
    CHECK_INT(feed(e, 0, 0, MIN(10), &h, "SourceIP", "2.2.2.2", "bytes", "400", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(11), &h, "SourceIP", "2.2.2.2", "bytes", "400", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(75), &h, "SourceIP", "2.2.2.2", "bytes", "300", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK_INT(feed(e, 0, 0, MIN(76), &h, "SourceIP", "2.2.2.2", "bytes", "-50", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(77), &h, "SourceIP", "2.2.2.2", "bytes", "750", NULL), TR_OK);
    CHECK_INT(h.n, 1); /* 300 - 50 + 750 = 1000, not above 1000 */
    CHECK_INT(feed(e, 0, 0, MIN(78), &h, "SourceIP", "2.2.2.2", "bytes", "0.5", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void value_avg_deferred(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: value_avg\n  rules: [net]\n"
                               "  group-by: [SourceIP]\n  timespan: 24h\n  condition: {field: BytesOut, gt: 500}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    /* 600, 700, 300: average 533 over the window; the first input alone
     * (600) must not fire: the verdict waits for the window's end */
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "SourceIP", "p", "BytesOut", "600", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(60), &h, "SourceIP", "p", "BytesOut", "700", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(120), &h, "SourceIP", "p", "BytesOut", "300", NULL), TR_OK);
    /* near miss: 600, 700, 100: average 466 */
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "SourceIP", "n", "BytesOut", "600", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(60), &h, "SourceIP", "n", "BytesOut", "700", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, MIN(120), &h, "SourceIP", "n", "BytesOut", "100", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    /* the window of p closes with p's first input beyond it */
    CHECK_INT(feed(e, 0, 0, MIN(24 * 60 + 1), &h, "SourceIP", "p", "BytesOut", "1", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(fabs(h.value[0] - 1600.0 / 3) < 1e-9);
    CHECK_INT(h.nevents[0], 3);
    CHECK_INT(h.last[0], MIN(120));
    CHECK(strcmp(h.group[0], "SourceIP=p") == 0);
    /* at the end, n's window is evaluated (466: no) and p's new one (1: no) */
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 1);
    /* the same again, closed by flush */
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "SourceIP", "p", "BytesOut", "501", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 2);
    CHECK(h.value[1] == 501);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* The reference percentile: sort, then interpolate between closest ranks. */
static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void value_percentile_values(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: value_percentile\n  rules: [r]\n"
                               "  group-by: [Host]\n  timespan: 1h\n  condition: {field: ms, gt: 50}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    /* median of 10..100 is 55 > 50; of 10..90 it is 50 */
    static const char *const v[] = {"70", "10", "100", "40", "20", "90", "30", "80", "60", "50"};
    for (int i = 0; i < 10; i++)
        CHECK_INT(feed(e, 0, 0, MIN(i), &h, "Host", "yes", "ms", v[i], NULL), TR_OK);
    for (int i = 0; i < 10; i++)
        if (strcmp(v[i], "100") != 0)
            CHECK_INT(feed(e, 0, 0, MIN(i), &h, "Host", "no", "ms", v[i], NULL), TR_OK);
    CHECK_INT(h.n, 0);
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 1);
    CHECK(h.value[0] == 55);
    CHECK(strcmp(h.group[0], "Host=yes") == 0);
    tr_corr_engine_destroy(e);

    /* against the reference, on random data with duplicates, for several percentiles */
    static const char *const pcts[] = {"0", "1", "25", "50", "90", "99.5", "100"};
    srand(7);
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
        char yaml[300];
        snprintf(yaml, sizeof yaml,
                 "title: t\ncorrelation:\n  type: value_percentile\n  rules: [r]\n"
                 "  timespan: 1h\n  condition: {field: x, percentile: %s, gte: -1000000}\n",
                 pcts[p]);
        s = LOAD(&a, yaml);
        if (!s)
            continue;
        for (int n = 1; n <= 300; n += 37) {
            e = engine1(s);
            h.n = 0;
            double ref[300];
            for (int i = 0; i < n; i++) {
                char num[32];
                int x = rand() % 50 - 10;
                ref[i] = x;
                snprintf(num, sizeof num, "%d", x);
                CHECK_INT(feed(e, 0, 0, SEC(i), &h, "x", num, NULL), TR_OK);
            }
            tr_corr_engine_flush(e, collect, &h);
            qsort(ref, (size_t)n, sizeof ref[0], cmp_double);
            double pos = atof(pcts[p]) / 100 * (n - 1);
            int lo = (int)pos;
            double want = lo + 1 < n ? ref[lo] + (ref[lo + 1] - ref[lo]) * (pos - lo) : ref[lo];
            CHECK_INT(h.n, 1);
            if (h.n == 1 && fabs(h.value[0] - want) > 1e-9) {
                char m[200];
                snprintf(m, sizeof m, "p%s of %d values: %g, want %g", pcts[p], n, h.value[0], want);
                tr_test_fail(__FILE__, __LINE__, m);
            }
            tr_corr_engine_destroy(e);
        }
    }
out:
    tr_arena_free(&a);
}

/* An upper bound waits for the window's end: "fewer than 3 within 1h". */
static void upper_bound_deferred(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [r]\n"
                               "  group-by: [User]\n  timespan: 1h\n  condition: {lt: 3}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    CHECK_INT(feed(e, 0, 0, MIN(0), &h, "User", "rare", NULL), TR_OK);
    for (int i = 0; i < 5; i++)
        CHECK_INT(feed(e, 0, 0, MIN(i), &h, "User", "busy", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    /* time passes: the expired windows are closed and judged */
    tr_corr_engine_advance(e, MIN(200), collect, &h);
    CHECK_INT(h.n, 1);
    CHECK(strcmp(h.group[0], "User=rare") == 0);
    CHECK(h.value[0] == 1);
    CHECK_INT(tr_corr_engine_stats(e, 0)->expired, 2);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- groups, aliases, chains */

static void group_by_separates(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [r]\n"
                               "  group-by: [User, Host]\n  timespan: 5m\n  condition: {gte: 3}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    CHECK_INT(feed(e, 0, 0, SEC(1), &h, "User", "alice", "Host", "h1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(2), &h, "User", "bob", "Host", "h1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(3), &h, "User", "alice", "Host", "h2", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(4), &h, "User", "bob", "Host", "h1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(5), &h, "User", "alice", "Host", "h1", NULL), TR_OK);
    /* no Host: not counted anywhere */
    CHECK_INT(feed(e, 0, 0, SEC(6), &h, "User", "alice", NULL), TR_OK);
    /* ("alic", "eh1") must not meet ("alice", "h1") */
    CHECK_INT(feed(e, 0, 0, SEC(7), &h, "User", "alic", "Host", "eh1", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(feed(e, 0, 0, SEC(8), &h, "User", "alice", "Host", "h1", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(strcmp(h.group[0], "User=alice,Host=h1") == 0);
    CHECK_INT(tr_corr_engine_stats(e, 0)->missing_group, 1);
    /* an empty value is a value */
    CHECK_INT(feed(e, 0, 0, SEC(9), &h, "User", "", "Host", "", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(9), &h, "User", "", "Host", "", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(9), &h, "User", "", "Host", "", NULL), TR_OK);
    CHECK_INT(h.n, 2);
    CHECK(strcmp(h.group[1], "User=,Host=") == 0);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void aliases_join_fields(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n"
                               "    type: temporal\n"
                               "    rules: [internal_error, new_network_connection]\n"
                               "    group-by: [internal_ip, remote_ip]\n"
                               "    timespan: 10s\n"
                               "    aliases:\n"
                               "        internal_ip:\n"
                               "            internal_error: destination.ip\n"
                               "            new_network_connection: source.ip\n"
                               "        remote_ip:\n"
                               "            internal_error: source.ip\n"
                               "            new_network_connection: destination.ip\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    hits h = {0};
    CHECK_INT(feed(e, 0, 0, SEC(0), &h, "destination.ip", "10.0.0.1", "source.ip", "8.8.8.8", NULL), TR_OK);
    /* near miss: the connection goes the other way */
    CHECK_INT(feed(e, 0, 1, SEC(2), &h, "source.ip", "8.8.8.8", "destination.ip", "10.0.0.1", NULL), TR_OK);
    CHECK_INT(h.n, 0);
    CHECK_INT(feed(e, 0, 1, SEC(3), &h, "source.ip", "10.0.0.1", "destination.ip", "8.8.8.8", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    CHECK(strcmp(h.group[0], "internal_ip=10.0.0.1,remote_ip=8.8.8.8") == 0);
    /* near miss: too late */
    CHECK_INT(feed(e, 0, 0, SEC(20), &h, "destination.ip", "10.0.0.2", "source.ip", "8.8.8.8", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, SEC(31), &h, "source.ip", "10.0.0.2", "destination.ip", "8.8.8.8", NULL), TR_OK);
    CHECK_INT(h.n, 1);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* The specification's example: an event_count feeding a temporal_ordered. */
static void chained_correlations(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *outer = LOAD(&a, "title: t\ncorrelation:\n  type: temporal_ordered\n"
                                   "  rules: [multiple_failed_login, successful_login]\n"
                                   "  group-by: [User]\n  timespan: 10m\n");
    tr_corr_spec *inner = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
                                   "  group-by: [User]\n  timespan: 10m\n  condition: {gte: 10}\n");
    if (!outer || !inner)
        goto out;
    const tr_corr_spec *specs[2] = {outer, inner};
    tr_corr_engine *e = NULL;
    CHECK_INT(tr_corr_engine_create(&e, specs, 2), TR_OK);
    hits h = {.e = e, .chain = 1, .from = 1, .to = 0, .ref = 0};
    /* near miss: success first, then the failures */
    CHECK_INT(feed(e, 0, 1, SEC(0), &h, "User", "eve", "Host", "pc1", NULL), TR_OK);
    for (int i = 1; i <= 10; i++)
        CHECK_INT(feed(e, 1, 0, SEC(i), &h, "User", "eve", "Host", "pc1", NULL), TR_OK);
    CHECK_INT(h.n, 1); /* the inner one fired, the outer one not */
    CHECK_INT(h.corr[0], 1);
    /* failures, then a success: both fire */
    for (int i = 0; i < 10; i++)
        CHECK_INT(feed(e, 1, 0, SEC(60 + i), &h, "User", "bob", "Host", "pc2", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 1, SEC(100), &h, "User", "bob", NULL), TR_OK);
    CHECK_INT(h.n, 3);
    CHECK_INT(h.corr[1], 1);
    CHECK_INT(h.corr[2], 0);
    CHECK(strcmp(h.group[2], "User=bob") == 0);
    CHECK_INT(h.first[2], SEC(69)); /* the inner hit counts as one input, at its last time */
    CHECK_INT(h.last[2], SEC(100));
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 3);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* A deferred correlation closed by flush feeds one closed by the next round. */
static void flush_closes_chains(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *low = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [r]\n"
                                 "  group-by: [User]\n  timespan: 1h\n  condition: {lte: 2}\n");
    tr_corr_spec *top = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [low]\n"
                                 "  group-by: [User]\n  timespan: 1h\n  condition: {eq: 1}\n");
    if (!low || !top)
        goto out;
    const tr_corr_spec *specs[2] = {top, low};
    tr_corr_engine *e = NULL;
    CHECK_INT(tr_corr_engine_create(&e, specs, 2), TR_OK);
    size_t base = tr_corr_engine_state_bytes(e);
    hits h = {.e = e, .chain = 1, .from = 1, .to = 0, .ref = 0};
    CHECK_INT(feed(e, 1, 0, SEC(0), &h, "User", "u", NULL), TR_OK);
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(h.n, 2);
    CHECK_INT(h.corr[0], 1);
    CHECK_INT(h.corr[1], 0);
    CHECK_INT(tr_corr_engine_state_bytes(e), base);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- against a model */

/* A brute-force model of one group: all entries kept, the window's value
 * recomputed from scratch at every step, by the rules of correlation.c's
 * opening comment. The engine must emit exactly the model's hits. */
typedef struct mentry {
    tr_time t;
    int ref, v;
} mentry;

typedef struct model {
    int kind; /* index into model_specs */
    bool deferred;
    mentry e[4096];
    int n;
    tr_time newest, start;
    double hits[512];
    int nhits;
} model;

#define MODEL_TS (60 * NS)
static const char *const model_specs[] = {
    "type: event_count\n  condition: {gte: 8}",
    "type: value_count\n  condition: {field: v, gte: 6}",
    "type: temporal_ordered",
    "type: value_sum\n  condition: {field: v, gt: 60}",
    "type: value_avg\n  condition: {field: v, gt: 6}",
    "type: value_percentile\n  condition: {field: v, percentile: 75, gte: 8}",
    "type: event_count\n  condition: {lt: 3}",
    "type: temporal",
    "type: value_count\n  condition: {field: v, gte: 3, lte: 4}",
};
enum { NMODELS = sizeof model_specs / sizeof model_specs[0] };

static double model_value(const model *m)
{
    int n = m->n, seen[16] = {0}, distinct = 0;
    double sum = 0, vals[4096];
    for (int i = 0; i < n; i++) {
        sum += m->e[i].v;
        vals[i] = m->e[i].v;
    }
    switch (m->kind) {
    case 1:
    case 8:
        for (int i = 0; i < n; i++)
            distinct += !seen[m->e[i].v]++;
        return distinct;
    case 2: {
        int need = 0;
        for (int i = 0; i < n && need < 3; i++)
            need += m->e[i].ref == need;
        return need;
    }
    case 3:
        return sum;
    case 4:
        return sum / n;
    case 5: {
        qsort(vals, (size_t)n, sizeof vals[0], cmp_double);
        double pos = 0.75 * (n - 1);
        int lo = (int)pos;
        return lo + 1 < n ? vals[lo] + (vals[lo + 1] - vals[lo]) * (pos - lo) : vals[lo];
    }
    case 7:
        for (int i = 0; i < n; i++)
            distinct += !seen[m->e[i].ref]++;
        return distinct;
    default:
        return n;
    }
}

static bool model_holds(const model *m, double v)
{
    switch (m->kind) {
    case 0: return v >= 8;
    case 1: return v >= 6;
    case 2: return v >= 3;
    case 3: return v > 60;
    case 4: return v > 6;
    case 5: return v >= 8;
    case 6: return v < 3;
    case 7: return v >= 3;
    default: return v >= 3 && v <= 4;
    }
}

static void model_judge(model *m)
{
    if (!m->n)
        return;
    double v = model_value(m);
    if (model_holds(m, v)) {
        if (m->nhits < 512)
            m->hits[m->nhits] = v;
        m->nhits++;
        m->n = 0;
    }
}

static void model_feed(model *m, tr_time t, int ref, int v)
{
    if (m->newest != TR_TIME_NONE && t < m->newest - MODEL_TS)
        return; /* late */
    if (m->deferred && m->n && t > m->start + MODEL_TS) {
        model_judge(m);
        m->n = 0;
    }
    int i = m->n++;
    while (i > 0 && m->e[i - 1].t > t) {
        m->e[i] = m->e[i - 1];
        i--;
    }
    m->e[i] = (mentry){t, ref, v};
    if (t > m->newest)
        m->newest = t;
    if (m->deferred) {
        if (m->n == 1 || t < m->start)
            m->start = t;
        return;
    }
    int drop = 0;
    while (drop < m->n && m->e[drop].t < m->newest - MODEL_TS)
        drop++;
    memmove(m->e, m->e + drop, (size_t)(m->n - drop) * sizeof m->e[0]);
    m->n -= drop;
    model_judge(m);
}

typedef struct model_hits {
    double v[NMODELS][512];
    int n[NMODELS];
} model_hits;

static void model_collect(void *user, const tr_corr_hit *h)
{
    model_hits *mh = user;
    if (mh->n[h->correlation] < 512)
        mh->v[h->correlation][mh->n[h->correlation]] = h->value;
    mh->n[h->correlation]++;
}

static void engine_matches_model(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    const tr_corr_spec *specs[NMODELS];
    static model models[NMODELS];
    for (int k = 0; k < NMODELS; k++) {
        char yaml[300];
        snprintf(yaml, sizeof yaml, "title: t\ncorrelation:\n  rules: [a, b, c]\n  timespan: 60s\n  %s\n",
                 model_specs[k]);
        specs[k] = LOAD(&a, yaml);
        if (!specs[k])
            goto out;
    }
    for (unsigned seed = 1; seed <= 20; seed++) {
        tr_corr_engine *e = NULL;
        CHECK_INT(tr_corr_engine_create(&e, specs, NMODELS), TR_OK);
        static model_hits mh;
        memset(&mh, 0, sizeof mh);
        for (int k = 0; k < NMODELS; k++) {
            memset(&models[k], 0, sizeof models[k]);
            models[k].kind = k;
            models[k].deferred = k == 4 || k == 5 || k == 6 || k == 8;
            models[k].newest = TR_TIME_NONE;
        }
        srand(seed);
        tr_time now = T0;
        for (int i = 0; i < 3000; i++) {
            /* mostly dense, with pauses longer than the window: small windows too */
            now += rand() % 10 == 0 ? (61 + rand() % 60) * NS : (rand() % 8) * NS / (seed % 3 + 1);
            tr_time t = now;
            int r = rand() % 20;
            if (r == 0)
                t -= 100 * NS; /* late */
            else if (r < 5)
                t -= (rand() % 40) * NS; /* out of order, within the window */
            int ref = rand() % 3, v = rand() % 10;
            char num[8];
            snprintf(num, sizeof num, "%d", v);
            fields f = {{"v"}, {num}, 1};
            tr_corr_input in = {t, fields_get, &f};
            for (int k = 0; k < NMODELS; k++) {
                CHECK_INT(tr_corr_engine_feed(e, (size_t)k, (size_t)ref, &in, model_collect, &mh), TR_OK);
                model_feed(&models[k], t, ref, v);
            }
        }
        tr_corr_engine_flush(e, model_collect, &mh);
        for (int k = 0; k < NMODELS; k++) {
            if (models[k].deferred)
                model_judge(&models[k]);
            bool same = mh.n[k] == models[k].nhits;
            for (int i = 0; same && i < mh.n[k] && i < 512; i++)
                same = fabs(mh.v[k][i] - models[k].hits[i]) < 1e-9;
            if (!same) {
                char m[300];
                snprintf(m, sizeof m, "seed %u, %s: engine %d hits, model %d", seed, model_specs[k], mh.n[k],
                         models[k].nhits);
                tr_test_fail(__FILE__, __LINE__, m);
            }
            CHECK(models[k].nhits > 0);
        }
        tr_corr_engine_destroy(e);
    }
out:
    tr_arena_free(&a);
}

/* A correlation fed its own hits: the nesting stops at TR_CORR_MAX_DEPTH. */
typedef struct loop_ctx {
    tr_corr_engine *e;
    int calls, limited, depth, max_depth;
} loop_ctx;

static void loop_emit(void *user, const tr_corr_hit *h)
{
    loop_ctx *l = user;
    l->calls++;
    l->depth++;
    if (l->depth > l->max_depth)
        l->max_depth = l->depth;
    tr_corr_input in;
    tr_corr_input_from_hit(&in, h);
    int rc = tr_corr_engine_feed(l->e, 0, 0, &in, loop_emit, l);
    CHECK(rc == TR_OK || rc == TR_ERR_LIMIT);
    l->limited += rc == TR_ERR_LIMIT;
    l->depth--;
}

static void cycle_is_cut(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [self]\n"
                               "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 1}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    loop_ctx l = {.e = e};
    fields f = {{"User"}, {"u"}, 1};
    tr_corr_input in = {SEC(0), fields_get, &f};
    CHECK_INT(tr_corr_engine_feed(e, 0, 0, &in, loop_emit, &l), TR_OK);
    CHECK_INT(l.calls, TR_CORR_MAX_DEPTH);
    CHECK_INT(l.limited, 1);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- memory */

static void state_expires(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: value_count\n  rules: [r]\n"
                               "  group-by: [User]\n  timespan: 5m\n  condition: {field: Host, gte: 1000}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    size_t base = tr_corr_engine_state_bytes(e);
    hits h = {0};
    char user[32], host[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(user, sizeof user, "user%d", i % 5000);
        snprintf(host, sizeof host, "host%d", i);
        CHECK_INT(feed(e, 0, 0, SEC(i / 100.0), &h, "User", user, "Host", host, NULL), TR_OK);
    }
    size_t full = tr_corr_engine_state_bytes(e);
    CHECK(full > base + 5000 * 100);
    /* one input much later: the feed sweeps this correlation */
    CHECK_INT(feed(e, 0, 0, MIN(60), &h, "User", "late", "Host", "x", NULL), TR_OK);
    size_t after = tr_corr_engine_state_bytes(e);
    CHECK(after < base + 2048);
    CHECK_INT(tr_corr_engine_stats(e, 0)->expired, 5000);
    /* advancing the clock frees the rest: back to the empty engine, scratch aside */
    tr_corr_engine_advance(e, MIN(120), collect, &h);
    CHECK(tr_corr_engine_state_bytes(e) < base + 1024);
    tr_corr_engine_flush(e, collect, &h);
    CHECK_INT(tr_corr_engine_state_bytes(e), base);
    CHECK_INT(h.n, 0);

    /* one busy group over a long time: the ring follows the window */
    for (int i = 0; i < 100000; i++)
        CHECK_INT(feed(e, 0, 0, SEC(i), &h, "User", "one", "Host", (i & 1) ? "a" : "b", NULL), TR_OK);
    CHECK(tr_corr_engine_state_bytes(e) < base + 32 * 1024);
    tr_corr_engine_flush(e, collect, &h);

    /* many correlations: the periodic sweep reaches those not being fed */
    tr_corr_engine_destroy(e);
    const tr_corr_spec *two[2] = {s, s};
    CHECK_INT(tr_corr_engine_create(&e, two, 2), TR_OK);
    base = tr_corr_engine_state_bytes(e);
    for (int i = 0; i < 1000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        CHECK_INT(feed(e, 1, 0, SEC(0), &h, "User", user, "Host", "h", NULL), TR_OK);
    }
    for (int i = 0; i < TR_CORR_SWEEP_EVERY; i++)
        CHECK_INT(feed(e, 0, 0, MIN(10 + 2 * i), &h, "User", "x", "Host", "h", NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 1)->expired, 1000);
    CHECK(tr_corr_engine_state_bytes(e) < base + 2048);
    tr_corr_engine_destroy(e);
out:
    tr_arena_free(&a);
}

static void caps_and_odd_inputs(void)
{
    tr_arena a;
    tr_arena_init(&a, 0);
    tr_corr_spec *s = LOAD(&a, "title: t\ncorrelation:\n  type: event_count\n  rules: [r, q]\n"
                               "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 1000000}\n");
    if (!s)
        goto out;
    tr_corr_engine *e = engine1(s);
    tr_corr_engine_set_limits(e, 100, 10);
    hits h = {0};
    for (int i = 0; i < 150; i++)
        CHECK_INT(feed(e, 0, 0, SEC(0), &h, "User", "one", NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 0)->dropped, 50);
    char user[32];
    for (int i = 0; i < 15; i++) {
        snprintf(user, sizeof user, "u%d", i);
        CHECK_INT(feed(e, 0, 1, SEC(1), &h, "User", user, NULL), TR_OK);
    }
    CHECK_INT(tr_corr_engine_stats(e, 0)->groups_full, 6); /* "one" holds the tenth place */
    /* late: older than the group's window */
    CHECK_INT(feed(e, 0, 0, SEC(1000), &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(feed(e, 0, 0, SEC(1), &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 0)->late, 1);
    /* untimed */
    CHECK_INT(feed(e, 0, 0, TR_TIME_NONE, &h, "User", "u1", NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 0)->untimed, 1);
    /* oversized group value */
    char *big = malloc(TR_CORR_MAX_VALUE_LEN + 2);
    memset(big, 'x', TR_CORR_MAX_VALUE_LEN + 1);
    big[TR_CORR_MAX_VALUE_LEN + 1] = '\0';
    CHECK_INT(feed(e, 0, 0, SEC(1000), &h, "User", big, NULL), TR_OK);
    CHECK_INT(tr_corr_engine_stats(e, 0)->oversized, 1);
    free(big);
    /* bad arguments */
    CHECK_INT(feed(e, 1, 0, SEC(1), &h, "User", "u", NULL), TR_ERR_ARG);
    CHECK_INT(feed(e, 0, 2, SEC(1), &h, "User", "u", NULL), TR_ERR_ARG);
    CHECK(tr_corr_engine_stats(e, 1) == NULL);
    tr_corr_engine_destroy(e);
    CHECK_INT(tr_corr_engine_create(&e, NULL, 0), TR_OK);
    tr_corr_engine_flush(e, NULL, NULL);
    tr_corr_engine_destroy(e);
    tr_corr_engine_destroy(NULL);
out:
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- allocation failures */

static long fail_at, alloc_count; /* the loop's position and what the run used */

static void parse_allocation_failures(void)
{
    static const char yaml[] = "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                               "  group-by: [ip, User, Host]\n  timespan: 10s\n  condition: {gte: 2}\n"
                               "  aliases:\n    ip:\n      a: source.ip\n      b: destination.ip\n";
    tr_arena ya;
    tr_arena_init(&ya, 0);
    tr_ynode **docs = NULL;
    size_t ndocs = 0;
    char err[256];
    uint32_t line;
    CHECK_INT(tr_yaml_load(yaml, strlen(yaml), &ya, &docs, &ndocs, err, sizeof err, &line), TR_OK);
    int failures = 0;
    for (fail_at = 1; fail_at < 200; fail_at++) {
        tr_arena a;
        tr_arena_init(&a, 64); /* tiny blocks: many allocations to fail */
        alloc_fail_start(fail_at);
        tr_corr_spec *s = NULL;
        int rc = tr_corr_parse_rule(docs[0], &a, &s, err, sizeof err, &line);
        alloc_count = alloc_fail_stop();
        CHECK(rc == TR_OK || rc == TR_ERR_NOMEM);
        CHECK((rc == TR_OK) == (s != NULL));
        failures += rc == TR_ERR_NOMEM;
        tr_arena_free(&a);
        if (alloc_count < fail_at)
            break;
    }
    CHECK(fail_at < 200);
    CHECK(failures > 3);
    tr_arena_free(&ya);
}

/* One scenario over every type, with the Nth allocation failing: each call
 * ends in TR_OK or TR_ERR_NOMEM, accounting stays exact, nothing leaks. */
static int run_scenario(const tr_corr_spec *const *specs, size_t n, hits *h)
{
    tr_corr_engine *e = NULL;
    int rc = tr_corr_engine_create(&e, specs, n);
    if (rc != TR_OK)
        return rc;
    size_t base = tr_corr_engine_state_bytes(e);
    int nomem = 0;
    char user[16], val[16];
    for (int i = 0; i < 400; i++) {
        snprintf(user, sizeof user, "u%d", i % 7);
        snprintf(val, sizeof val, "%d", i % 13);
        for (size_t c = 0; c < n; c++) {
            rc = feed(e, c, (size_t)i % 2, SEC(i * 3 + (i % 5 == 0 ? -20 : 0)), h, "User", user, "v", val, NULL);
            CHECK(rc == TR_OK || rc == TR_ERR_NOMEM);
            nomem |= rc == TR_ERR_NOMEM;
        }
    }
    tr_corr_engine_flush(e, collect, h);
    CHECK_INT(tr_corr_engine_state_bytes(e), base);
    tr_corr_engine_destroy(e);
    return nomem ? TR_ERR_NOMEM : TR_OK;
}

static void engine_allocation_failures(void)
{
    static const char *const bodies[] = {
        "  type: event_count\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 30}\n",
        "  type: value_count\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n  condition: {field: v, gte: 12}\n",
        "  type: temporal\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n",
        "  type: temporal_ordered\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n",
        "  type: value_sum\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n  condition: {field: v, gt: 100}\n",
        "  type: value_avg\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n  condition: {field: v, gt: 5}\n",
        "  type: value_percentile\n  rules: [a, b]\n  timespan: 1m\n  condition: {field: v, percentile: 90, gt: 5}\n",
        "  type: event_count\n  rules: [a, b]\n  group-by: [User]\n  timespan: 1m\n  condition: {lt: 3}\n",
    };
    enum { NSPEC = sizeof bodies / sizeof bodies[0] };
    tr_arena a;
    tr_arena_init(&a, 0);
    const tr_corr_spec *specs[NSPEC];
    for (size_t i = 0; i < NSPEC; i++) {
        char yaml[400];
        snprintf(yaml, sizeof yaml, "title: t\ncorrelation:\n%s", bodies[i]);
        specs[i] = LOAD(&a, yaml);
        if (!specs[i])
            goto out;
    }
    hits clean = {0};
    CHECK_INT(run_scenario(specs, NSPEC, &clean), TR_OK);
    CHECK(clean.n > 20);
    int failures = 0;
    for (fail_at = 1; fail_at < 5000; fail_at++) {
        hits h = {0};
        alloc_fail_start(fail_at);
        int rc = run_scenario(specs, NSPEC, &h);
        alloc_count = alloc_fail_stop();
        CHECK(rc == TR_OK || rc == TR_ERR_NOMEM);
        failures += rc == TR_ERR_NOMEM;
        if (alloc_count < fail_at) {
            CHECK_INT(h.n, clean.n); /* no failure: the same hits */
            break;
        }
    }
    CHECK(fail_at < 5000);
    CHECK(failures > 20);
out:
    tr_arena_free(&a);
}

/* ---------------------------------------------------------------- through the ruleset */

/* A correlation in a rule file, end to end: loaded with the rule it
 * references, routed, fed by the matcher, reported as a detection; the
 * referenced rule reports on its own only with `generate: true`. */
static const char corr_rules[] =
    "title: Failed logon\n"
    "name: failed_logon\n"
    "status: test\n"
    "level: low\n"
    SIGMA_TEST_LOGSOURCE
    "detection:\n"
    "    selection:\n"
    "        EventID: 4625\n"
    "    condition: selection\n"
    "---\n"
    "title: Many failed logons on one computer\n"
    "status: test\n"
    "level: high\n"
    "correlation:\n"
    "    type: event_count\n"
    "    rules: [failed_logon]\n"
    "    group-by: [Computer]\n"
    "    timespan: 5m\n"
    "    condition: {gte: 3}\n";

#define FAIL_EV(t, host)                                                                           \
    "{\"EventID\":4625,\"Computer\":\"" host "\",\"TimeCreated\":\"" t "\"}\n"

static const char corr_events[] =
    FAIL_EV("2021-03-02T07:00:00Z", "EXCH01") FAIL_EV("2021-03-02T07:01:00Z", "EXCH01")
    FAIL_EV("2021-03-02T07:01:30Z", "DC01") FAIL_EV("2021-03-02T07:02:00Z", "EXCH01")
    FAIL_EV("2021-03-02T07:20:00Z", "DC01") FAIL_EV("2021-03-02T07:21:00Z", "DC01");

static void correlation_through_ruleset(void)
{
    /* EXCH01: 3 in 2 minutes fires once; DC01: 3 spread over 20 minutes does not */
    CHECK_INT(sigma_hits(corr_rules, corr_events), 1);
    /* with generate, the six failed logons are reported too */
    char with_generate[sizeof corr_rules + 64];
    snprintf(with_generate, sizeof with_generate, "%sgenerate: true\n", corr_rules);
    CHECK_INT(sigma_hits(with_generate, corr_events), 7);
    /* a reference to a rule that is not loaded: the correlation does not run, and says why */
    static const char dangling[] = "title: Orphan\nstatus: test\ncorrelation:\n    type: event_count\n"
                                   "    rules: [no_such_rule]\n    timespan: 5m\n    condition: {gte: 1}\n";
    CHECK_INT(sigma_hits(dangling, corr_events), -1);
    CHECK(strstr(sigma_last_error, "no_such_rule") != NULL);
}

void suite_correlation(void)
{
    RUN(correlation_through_ruleset);
    RUN(parse_spec_examples);
    RUN(parse_aliases_example);
    RUN(parse_multi_document_example);
    RUN(parse_rejects);
    RUN(event_count_window);
    RUN(value_count_distinct);
    RUN(temporal_any_order);
    RUN(temporal_ordered_order);
    RUN(value_sum_numbers);
    RUN(value_avg_deferred);
    RUN(value_percentile_values);
    RUN(upper_bound_deferred);
    RUN(group_by_separates);
    RUN(aliases_join_fields);
    RUN(engine_matches_model);
    RUN(chained_correlations);
    RUN(cycle_is_cut);
    RUN(flush_closes_chains);
    RUN(state_expires);
    RUN(caps_and_odd_inputs);
    RUN(parse_allocation_failures);
    RUN(engine_allocation_failures);
}
