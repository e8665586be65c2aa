/*
 * ruleset.c — the public face of the Sigma engine (traccia.h: tr_ruleset,
 * tr_matcher): loading rule files and folders, rule collections, the
 * built-in logsource mapping, placeholders; compiling (filters and
 * correlations resolved, rules routed, prefilter built); and the matcher
 * that runs a compiled ruleset over events.
 *
 * Owns: the ruleset owns its arena (rules, entries, strings), the heap
 * arrays listed in ruleset.h, compiled regular expressions and the
 * prefilter. A matcher owns its scratch (regex match data, search memo,
 * prefilter scratch, candidate marks) and its correlation engine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "builtin.h"
#include "correlation.h"
#include "ruleset.h"

#define MAX_RULE_FILE (16u << 20) /* bytes of one rule file */

static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

const char *tr_level_name(int level)
{
    return level >= 0 && level <= TR_LEVEL_CRITICAL ? level_names[level] : "";
}

int tr_level_parse(const char *s)
{
    for (int i = 1; i <= TR_LEVEL_CRITICAL; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

static void ruleset_vdiag(tr_ruleset *rs, tr_diag_kind kind, const char *cause, int severity, const char *path,
                          uint32_t line, const char *fmt, va_list ap)
{
    char reason[1024], where[32] = "";
    vsnprintf(reason, sizeof reason, fmt, ap);
    if (line)
        snprintf(where, sizeof where, "line %u", line);
    tr_diag d = {(tr_severity)severity, path ? path : "", where, reason, kind, cause, NULL, NULL};
    rs->on_diag(rs->user, &d);
}

static tr_diag_kind load_kind(const tr_ruleset *rs, int severity)
{
    if (rs->loading_config)
        return TR_DIAG_CONFIG;
    return severity == TR_SEV_ERROR ? TR_DIAG_RULE_FAILED : TR_DIAG_RULE_NOTE;
}

void tr_ruleset_diag(tr_ruleset *rs, int severity, const char *path, uint32_t line, const char *fmt, ...)
{
    if (!rs->on_diag)
        return;
    va_list ap;
    va_start(ap, fmt);
    ruleset_vdiag(rs, load_kind(rs, severity), NULL, severity, path, line, fmt, ap);
    va_end(ap);
}

void tr_ruleset_diag_kind(tr_ruleset *rs, tr_diag_kind kind, const char *cause, int severity, const char *path,
                          uint32_t line, const char *fmt, ...)
{
    if (!rs->on_diag)
        return;
    va_list ap;
    va_start(ap, fmt);
    ruleset_vdiag(rs, kind, cause, severity, path, line, fmt, ap);
    va_end(ap);
}

tr_status tr_ruleset_create(tr_ruleset **out, const tr_ruleset_options *opts)
{
    *out = NULL;
    tr_ruleset *rs = tr_calloc(1, sizeof *rs);
    if (!rs)
        return TR_ERR_NOMEM;
    tr_arena_init(&rs->arena, 256 * 1024);
    tr_sha256_init(&rs->digest);
    rs->regex_match_limit = TR_REGEX_MATCH_LIMIT_DEFAULT;
    rs->regex_depth_limit = TR_REGEX_DEPTH_LIMIT_DEFAULT;
    if (opts) {
        rs->on_diag = opts->on_diag;
        rs->user = opts->user;
        if (opts->regex_match_limit)
            rs->regex_match_limit = opts->regex_match_limit;
        if (opts->regex_depth_limit)
            rs->regex_depth_limit = opts->regex_depth_limit;
    }
    /* the built-in logsource mapping comes first; user files add to it */
    for (size_t i = 0; i < tr_builtin_logsource_count; i++) {
        const tr_builtin_file *f = &tr_builtin_logsources[i];
        tr_status rc = tr_ruleset_add_logsources_memory(rs, f->name, f->text, f->len);
        if (rc != TR_OK) {
            tr_ruleset_destroy(rs);
            return rc;
        }
    }
    *out = rs;
    return TR_OK;
}

void tr_ruleset_destroy(tr_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nregexes; i++)
        pcre2_code_free(rs->regexes[i]);
    tr_free(rs->regexes);
    for (size_t i = 0; i < rs->nentries; i++)
        tr_free(rs->entries[i]->routes);
    tr_free(rs->entries);
    tr_free(rs->chan_slots);
    tr_free(rs->chan_next);
    tr_free(rs->generic);
    tr_free(rs->rules);
    tr_free(rs->filters);
    tr_free(rs->placeholders);
    tr_free(rs->corr_feed_start);
    tr_free(rs->corr_feed);
    tr_free(rs->corr_specs);
    tr_free(rs->corr_rule_of_spec);
    tr_prefilter_free(rs->prefilter);
    tr_arena_free(&rs->arena);
    tr_free(rs);
}

/* ---------------------------------------------------------------- collections */

/* a's keys, with b's on top; maps under the same key merge recursively. */
static tr_ynode *merge(tr_arena *a, const tr_ynode *base, const tr_ynode *top, int depth)
{
    if (!base || base->kind != TR_Y_MAP || !top || top->kind != TR_Y_MAP || depth > 16)
        return (tr_ynode *)top;
    tr_ynode *m = tr_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = *top;
    m->items = tr_arena_alloc(a, (base->count + top->count) * 2 * sizeof *m->items + 1);
    if (!m->items)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < base->count; i++) {
        const tr_ynode *k = tr_ymap_key(base, i);
        const tr_ynode *over = k && k->kind == TR_Y_SCALAR ? tr_ymap_get(top, k->str) : NULL;
        tr_ynode *v = base->items[2 * i + 1];
        if (over) {
            v = merge(a, v, over, depth + 1);
            if (!v && over)
                return NULL;
        }
        m->items[2 * n] = base->items[2 * i];
        m->items[2 * n + 1] = v;
        n++;
    }
    for (size_t i = 0; i < top->count; i++) {
        const tr_ynode *k = tr_ymap_key(top, i);
        if (k && k->kind == TR_Y_SCALAR && tr_ymap_get(base, k->str))
            continue;
        m->items[2 * n] = top->items[2 * i];
        m->items[2 * n + 1] = top->items[2 * i + 1];
        n++;
    }
    m->count = n;
    return m;
}

/* The document without its `action` key. */
static tr_ynode *without_action(tr_arena *a, const tr_ynode *doc)
{
    tr_ynode *m = tr_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = *doc;
    m->items = tr_arena_alloc(a, doc->count * 2 * sizeof *m->items + 1);
    if (!m->items)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++) {
        if (tr_yscalar_eq(tr_ymap_key(doc, i), "action"))
            continue;
        m->items[2 * n] = doc->items[2 * i];
        m->items[2 * n + 1] = doc->items[2 * i + 1];
        n++;
    }
    m->count = n;
    return m;
}

typedef int (*doc_fn)(tr_ruleset *rs, const tr_ynode *doc, const char *path);

/* Parses a file's text and hands each document to fn; rule files also get
 * the collection actions (global, reset, repeat). */
static tr_status load_text(tr_ruleset *rs, const char *path, const char *text, size_t len, doc_fn fn,
                           int collections)
{
    if (rs->compiled)
        return TR_ERR_ARG;
    rs->loading_config = fn != tr_rule_load_doc;
    const char *stored = tr_arena_strndup(&rs->arena, path, strlen(path));
    if (!stored)
        return TR_ERR_NOMEM;
    /* the digest: each text with its length and kind, so that no two
     * different rule sets run into the same stream */
    uint64_t head[2] = {(uint64_t)len, (uint64_t)collections};
    tr_sha256_update(&rs->digest, head, sizeof head);
    tr_sha256_update(&rs->digest, text, len);
    tr_arena tmp;
    tr_arena_init(&tmp, 64 * 1024);
    tr_ynode **docs;
    size_t ndocs;
    char err[512];
    uint32_t line;
    rs->stats.files++;
    int rc = tr_yaml_load(text, len, &tmp, &docs, &ndocs, err, sizeof err, &line);
    if (rc == TR_ERR_NOMEM) {
        tr_arena_free(&tmp);
        return TR_ERR_NOMEM;
    }
    if (rc != TR_OK) {
        /* documents before the error load; the rest of the file does not */
        rs->stats.failed++;
        tr_ruleset_diag(rs, TR_SEV_ERROR, stored, line, "%s; the rest of the file is not loaded", err);
    }
    const tr_ynode *global = NULL, *previous = NULL;
    for (size_t i = 0; i < ndocs && rc != TR_ERR_NOMEM; i++) {
        const tr_ynode *d = docs[i];
        if (!d)
            continue;
        rs->stats.documents++;
        const tr_ynode *action = collections ? tr_ymap_get(d, "action") : NULL;
        if (action) {
            if (tr_yscalar_eq(action, "global")) {
                global = without_action(&tmp, d);
                if (!global)
                    rc = TR_ERR_NOMEM;
                continue;
            }
            if (tr_yscalar_eq(action, "reset")) {
                global = NULL;
                continue;
            }
            if (tr_yscalar_eq(action, "repeat")) {
                if (!previous) {
                    rs->stats.failed++;
                    tr_ruleset_diag(rs, TR_SEV_ERROR, stored, d->line,
                                    "'action: repeat' with no rule before it to repeat");
                    continue;
                }
                const tr_ynode *body = without_action(&tmp, d);
                d = body ? merge(&tmp, previous, body, 0) : NULL;
                if (!d) {
                    rc = TR_ERR_NOMEM;
                    break;
                }
            } else {
                rs->stats.failed++;
                tr_ruleset_diag(rs, TR_SEV_ERROR, stored, action->line,
                                "unknown action '%s' (global, reset or repeat)",
                                action->kind == TR_Y_SCALAR ? action->str : "?");
                continue;
            }
        } else if (global) {
            d = merge(&tmp, global, d, 0);
            if (!d) {
                rc = TR_ERR_NOMEM;
                break;
            }
        }
        previous = d;
        int r = fn(rs, d, stored);
        if (r == TR_ERR_NOMEM)
            rc = r;
    }
    tr_arena_free(&tmp);
    return rc == TR_ERR_NOMEM ? TR_ERR_NOMEM : TR_OK;
}

static tr_status load_file(tr_ruleset *rs, const char *path, doc_fn fn, int collections)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        rs->stats.failed++;
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, 0, "cannot open: %s", strerror(errno));
        return TR_OK;
    }
    tr_strbuf b;
    tr_strbuf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        tr_strbuf_append(&b, chunk, n);
        if (b.len > MAX_RULE_FILE)
            break;
    }
    int ioerr = ferror(f);
    fclose(f);
    tr_status rc = TR_OK;
    if (tr_strbuf_failed(&b)) {
        rc = TR_ERR_NOMEM;
    } else if (ioerr) {
        rs->stats.failed++;
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, 0, "read error");
    } else if (b.len > MAX_RULE_FILE) {
        rs->stats.failed++;
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, 0, "larger than %u MiB: not a rule file", MAX_RULE_FILE >> 20);
    } else {
        rc = load_text(rs, path, b.data ? b.data : "", b.len, fn, collections);
    }
    tr_strbuf_free(&b);
    return rc;
}

static int is_yaml_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".yml") == 0) || (n > 5 && strcasecmp(name + n - 5, ".yaml") == 0);
}

typedef struct walk_ctx {
    tr_ruleset *rs;
    const char *top;
    doc_fn fn;
    int collections;
} walk_ctx;

/* A file the walk met: a rule file when named .yml/.yaml (or named on its
 * own), not inside a hidden folder (.git, .github: workflows are YAML too). */
static tr_status walk_file(void *user, const char *path)
{
    walk_ctx *w = user;
    size_t tl = strlen(w->top);
    const char *rel = strncmp(path, w->top, tl) == 0 ? path + tl : path;
    if (strcmp(path, w->top) != 0) {
        if (!is_yaml_name(path) || strstr(rel, "/."))
            return TR_OK;
    }
    tr_status rc = load_file(w->rs, path, w->fn, w->collections);
    return rc == TR_ERR_NOMEM ? rc : TR_OK;
}

static void walk_diag(void *user, const tr_diag *d)
{
    walk_ctx *w = user;
    if (d->severity == TR_SEV_ERROR)
        w->rs->stats.failed++;
    if (w->rs->on_diag && d->severity > TR_SEV_INFO) {
        tr_diag about_rules = *d; /* the scanner thinks it is evidence */
        about_rules.kind = load_kind(w->rs, d->severity);
        w->rs->on_diag(w->rs->user, &about_rules);
    }
}

/* Files and folders in the scanner's order and by its rules (sorted,
 * symbolic links to folders not followed): one walk for evidence and rules. */
static tr_status walk(tr_ruleset *rs, const char *path, doc_fn fn, int collections)
{
    rs->loading_config = fn != tr_rule_load_doc;
    struct stat st;
    if (stat(path, &st) != 0)
        return TR_ERR_NOTFOUND; /* the caller says so */
    walk_ctx w = {rs, path, fn, collections};
    tr_scan *scan;
    tr_scan_options so = {.on_diag = walk_diag, .user = &w};
    if (tr_scan_create(&scan, &so) != TR_OK)
        return TR_ERR_NOMEM;
    tr_status rc = tr_scan_list(scan, path, walk_file, &w);
    tr_scan_destroy(scan);
    return rc;
}

tr_status tr_ruleset_add_path(tr_ruleset *rs, const char *path)
{
    if (rs->compiled)
        return TR_ERR_ARG;
    return walk(rs, path, tr_rule_load_doc, 1);
}

tr_status tr_ruleset_add_memory(tr_ruleset *rs, const char *name, const char *text, size_t len)
{
    return load_text(rs, name, text, len, tr_rule_load_doc, 1);
}

tr_status tr_ruleset_add_builtin_rules(tr_ruleset *rs)
{
    for (size_t i = 0; i < tr_builtin_rule_count; i++) {
        const tr_builtin_file *f = &tr_builtin_rules[i];
        tr_status rc = tr_ruleset_add_memory(rs, f->name, f->text, f->len);
        if (rc != TR_OK)
            return rc;
    }
    return TR_OK;
}

tr_status tr_ruleset_add_logsources_path(tr_ruleset *rs, const char *path)
{
    if (rs->compiled)
        return TR_ERR_ARG;
    return walk(rs, path, tr_logsource_load_doc, 0);
}

tr_status tr_ruleset_add_logsources_memory(tr_ruleset *rs, const char *name, const char *text, size_t len)
{
    uint64_t files = rs->stats.files;
    tr_status rc = load_text(rs, name, text, len, tr_logsource_load_doc, 0);
    rs->stats.files = files; /* rule files only */
    return rc;
}

static int load_placeholders_doc(tr_ruleset *rs, const tr_ynode *doc, const char *path)
{
    if (!doc || doc->kind != TR_Y_MAP) {
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, doc ? doc->line : 0,
                        "placeholders must be a map of name: value or list of values");
        return TR_OK;
    }
    for (size_t i = 0; i < doc->count; i++) {
        const tr_ynode *k = tr_ymap_key(doc, i), *v = tr_ymap_value(doc, i);
        if (!k || k->kind != TR_Y_SCALAR || !v || v->kind == TR_Y_MAP) {
            tr_ruleset_diag(rs, TR_SEV_ERROR, path, k ? k->line : doc->line,
                            "placeholder skipped: it needs a name and a value or a list of values");
            continue;
        }
        size_t nv = v->kind == TR_Y_SEQ ? v->count : 1;
        const char **vals = tr_arena_alloc(&rs->arena, (nv ? nv : 1) * sizeof *vals);
        const char *name = k->str;
        size_t nlen = k->len;
        if (nlen >= 2 && name[0] == '%' && name[nlen - 1] == '%')
            name++, nlen -= 2;
        char *nm = tr_arena_strndup(&rs->arena, name, nlen);
        if (!vals || !nm)
            return TR_ERR_NOMEM;
        size_t got = 0;
        for (size_t j = 0; j < nv; j++) {
            const tr_ynode *x = v->kind == TR_Y_SEQ ? v->items[j] : v;
            if (!x || x->kind != TR_Y_SCALAR)
                continue;
            if (!(vals[got++] = tr_arena_strndup(&rs->arena, x->str, x->len)))
                return TR_ERR_NOMEM;
        }
        if (rs->nplaceholders == rs->capplaceholders) {
            size_t cap = rs->capplaceholders ? rs->capplaceholders * 2 : 16;
            tr_placeholder *p = tr_realloc(rs->placeholders, cap * sizeof *p);
            if (!p)
                return TR_ERR_NOMEM;
            rs->placeholders = p;
            rs->capplaceholders = cap;
        }
        rs->placeholders[rs->nplaceholders++] = (tr_placeholder){nm, vals, got};
    }
    return TR_OK;
}

tr_status tr_ruleset_add_placeholders_path(tr_ruleset *rs, const char *path)
{
    if (rs->compiled)
        return TR_ERR_ARG;
    uint64_t files = rs->stats.files;
    tr_status rc = walk(rs, path, load_placeholders_doc, 0);
    rs->stats.files = files;
    return rc;
}

tr_status tr_ruleset_add_placeholders_memory(tr_ruleset *rs, const char *name, const char *text, size_t len)
{
    uint64_t files = rs->stats.files;
    tr_status rc = load_text(rs, name, text, len, load_placeholders_doc, 0);
    rs->stats.files = files;
    return rc;
}

/* ---------------------------------------------------------------- compiling */

static int rule_is(const tr_rule *r, const char *ref)
{
    return (r->info.id && strcmp(r->info.id, ref) == 0) || (r->info.name && strcmp(r->info.name, ref) == 0);
}

static int find_rule(const tr_ruleset *rs, const char *ref)
{
    for (size_t i = 0; i < rs->nrules; i++)
        if (rule_is(rs->rules[i], ref))
            return (int)i;
    return -1;
}

static void not_runnable(tr_rule *r, const char *why, const char *cause, const char *item)
{
    r->info.runnable = 0;
    r->info.why_not = why;
    r->info.not_run_cause = cause;
    r->info.not_run_item = item;
}

static int resolve_filters(tr_ruleset *rs)
{
    for (size_t f = 0; f < rs->nfilters; f++) {
        tr_filter *flt = rs->filters[f];
        size_t applied = 0;
        for (size_t t = 0; t < flt->ntargets; t++) {
            int k = find_rule(rs, flt->targets[t]);
            if (k < 0) {
                tr_ruleset_diag(rs, TR_SEV_WARNING, flt->body.info.path, flt->body.info.line,
                                "filter '%s': no loaded rule has id or name '%s'", flt->body.info.title,
                                flt->targets[t]);
                continue;
            }
            tr_rule *r = rs->rules[k];
            tr_filter **l = tr_arena_alloc(&rs->arena, (r->nfilters + 1) * sizeof *l);
            if (!l)
                return TR_ERR_NOMEM;
            if (r->nfilters)
                memcpy(l, r->filters, r->nfilters * sizeof *l);
            l[r->nfilters++] = flt;
            r->filters = l;
            applied++;
        }
        flt->body.info.routes = applied;
    }
    return TR_OK;
}

static int reject_cycles(tr_ruleset *rs);

static int resolve_correlations(tr_ruleset *rs)
{
    /* count (base rule -> correlation) edges first */
    size_t nedges = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (!r->corr)
            continue;
        size_t nref = tr_corr_ref_count(r->corr);
        r->corr_refs = tr_arena_alloc(&rs->arena, (nref ? nref : 1) * sizeof *r->corr_refs);
        if (!r->corr_refs)
            return TR_ERR_NOMEM;
        for (size_t k = 0; k < nref; k++) {
            int b = find_rule(rs, tr_corr_ref(r->corr, k));
            if (b < 0 || (size_t)b == i) {
                char *why = tr_arena_alloc(&rs->arena, 300);
                if (!why)
                    return TR_ERR_NOMEM;
                snprintf(why, 300, "references '%s', which no loaded rule is (by id or name)",
                         tr_corr_ref(r->corr, k));
                not_runnable(r, why, TR_NOT_RUN_REFERENCE, NULL);
                break;
            }
            r->corr_refs[k] = (uint32_t)b;
        }
    }
    int crc = reject_cycles(rs);
    if (crc)
        return crc;
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (r->corr && r->info.runnable)
            nedges += tr_corr_ref_count(r->corr);
    }
    rs->corr_feed_start = tr_calloc(rs->nrules + 1, sizeof *rs->corr_feed_start);
    rs->corr_feed = tr_calloc(nedges * 2 + 1, sizeof *rs->corr_feed);
    rs->corr_specs = tr_calloc(rs->nrules + 1, sizeof *rs->corr_specs);
    rs->corr_rule_of_spec = tr_calloc(rs->nrules + 1, sizeof *rs->corr_rule_of_spec);
    if (!rs->corr_feed_start || !rs->corr_feed || !rs->corr_specs || !rs->corr_rule_of_spec)
        return TR_ERR_NOMEM;
    /* spec index per correlation rule, in rule order */
    uint32_t *spec_of_rule = tr_calloc(rs->nrules + 1, sizeof *spec_of_rule);
    uint32_t *fill = tr_calloc(rs->nrules + 1, sizeof *fill);
    if (!spec_of_rule || !fill) {
        tr_free(spec_of_rule);
        tr_free(fill);
        return TR_ERR_NOMEM;
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (!r->corr || !r->info.runnable)
            continue;
        spec_of_rule[i] = (uint32_t)rs->ncorr;
        rs->corr_rule_of_spec[rs->ncorr] = (uint32_t)i;
        rs->corr_specs[rs->ncorr++] = r->corr;
        for (size_t k = 0; k < tr_corr_ref_count(r->corr); k++)
            rs->corr_feed_start[r->corr_refs[k] + 1]++;
    }
    for (size_t i = 0; i < rs->nrules; i++)
        rs->corr_feed_start[i + 1] += rs->corr_feed_start[i];
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (!r->corr || !r->info.runnable)
            continue;
        for (size_t k = 0; k < tr_corr_ref_count(r->corr); k++) {
            uint32_t b = r->corr_refs[k];
            uint32_t at = rs->corr_feed_start[b] + fill[b]++;
            rs->corr_feed[2 * at] = spec_of_rule[i];
            rs->corr_feed[2 * at + 1] = (uint32_t)k;
            tr_rule *base = rs->rules[b];
            base->is_corr_base = 1;
            if (tr_corr_generate(r->corr))
                base->generate = 1;
        }
    }
    tr_free(spec_of_rule);
    tr_free(fill);
    return TR_OK;
}

/* A correlation that reaches itself through the rules it references
 * (A -> B -> A) could never settle: it does not run. Depth-first search
 * with colours; correlations are few, rules many, so only correlations are
 * walked. */
static int corr_cycle_from(tr_ruleset *rs, uint32_t i, uint8_t *colour, int depth)
{
    tr_rule *r = rs->rules[i];
    if (!r->corr || depth > 64)
        return depth > 64;
    if (colour[i] == 1)
        return 1;
    if (colour[i] == 2)
        return 0;
    colour[i] = 1;
    int cyc = 0;
    for (size_t k = 0; k < tr_corr_ref_count(r->corr) && !cyc && r->corr_refs; k++)
        cyc = corr_cycle_from(rs, r->corr_refs[k], colour, depth + 1);
    colour[i] = 2;
    return cyc;
}

static int reject_cycles(tr_ruleset *rs)
{
    uint8_t *colour = tr_calloc(rs->nrules + 1, 1);
    if (!colour)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (!r->corr || !r->info.runnable)
            continue;
        memset(colour, 0, rs->nrules);
        if (corr_cycle_from(rs, (uint32_t)i, colour, 0)) {
            static const char why[] = "its references lead back to itself (a cycle of correlations)";
            not_runnable(r, why, TR_NOT_RUN_CYCLE, NULL);
        }
    }
    tr_free(colour);
    return TR_OK;
}

tr_status tr_ruleset_compile(tr_ruleset *rs)
{
    if (rs->compiled)
        return TR_ERR_ARG;
    rs->loading_config = 0; /* what compiling says is about rules */
    int rc;
    if ((rc = resolve_filters(rs)) || (rc = resolve_correlations(rs)) || (rc = tr_logsource_route(rs)))
        return (tr_status)rc;
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (r->info.kind == TR_RULE_DETECTION && r->info.runnable && r->info.routes == 0) {
            char *why = tr_arena_alloc(&rs->arena, 200);
            if (!why)
                return TR_ERR_NOMEM;
            snprintf(why, 200, "no logsource mapping covers product=%s category=%s service=%s",
                     r->info.product ? r->info.product : "-", r->info.category ? r->info.category : "-",
                     r->info.service ? r->info.service : "-");
            /* grouped by product; without one, by category or service */
            const char *item = r->info.product;
            if (!item) {
                const char *what = r->info.category ? "category" : "service";
                const char *name = r->info.category ? r->info.category : r->info.service;
                size_t n = strlen(what) + 2 + (name ? strlen(name) : 1);
                char *it = tr_arena_alloc(&rs->arena, n);
                if (!it)
                    return TR_ERR_NOMEM;
                snprintf(it, n, "%s %s", what, name ? name : "-");
                item = it;
            }
            not_runnable(r, why, TR_NOT_RUN_NO_READER, item);
        }
        if (r->info.kind == TR_RULE_FILTER || r->info.runnable)
            continue;
        rs->stats.not_runnable++;
        if (rs->on_diag) {
            char reason[1024], where[32] = "";
            snprintf(reason, sizeof reason, "%s '%s' will not run: %s",
                     r->info.kind == TR_RULE_CORRELATION ? "correlation" : "rule", r->info.title,
                     r->info.why_not);
            if (r->info.line)
                snprintf(where, sizeof where, "line %u", r->info.line);
            tr_diag d = {TR_SEV_WARNING, r->info.path ? r->info.path : "", where, reason,
                         TR_DIAG_RULE_NOT_RUN, r->info.not_run_cause, r->info.not_run_item, NULL};
            rs->on_diag(rs->user, &d);
        }
    }
    if ((rc = tr_prefilter_build(rs)) || (rc = tr_eventid_guards(rs)))
        return (tr_status)rc;
    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i]->info.index = i;
    for (size_t i = 0; i < rs->nfilters; i++)
        rs->filters[i]->body.info.index = rs->nrules + i;
    rs->compiled = 1;
    return TR_OK;
}

size_t tr_ruleset_count(const tr_ruleset *rs) { return rs->nrules + rs->nfilters; }

const tr_rule_info *tr_ruleset_rule(const tr_ruleset *rs, size_t i)
{
    if (i < rs->nrules)
        return &rs->rules[i]->info;
    if (i < rs->nrules + rs->nfilters)
        return &rs->filters[i - rs->nrules]->body.info;
    return NULL;
}

const tr_ruleset_stats *tr_ruleset_get_stats(const tr_ruleset *rs) { return &rs->stats; }

/* ---------------------------------------------------------------- matcher */

struct tr_matcher {
    const tr_ruleset *rs;
    unsigned flags;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* the ruleset's limits */
    unsigned limits;       /* patterns cut short by a limit, this rule and event */
    int limit_code;        /* the last one's PCRE2 error */
    uint64_t limited;      /* rule evaluations cut short, so far */
    tr_limit_fn on_limit;
    void *limit_user;
    uint64_t *corr_lost;   /* [ncorr]: inputs a correlation could not take (memory, depth) */
    uint8_t *memo;
    uint32_t *seen;        /* [nrules]: epoch of the event that evaluated the rule */
    uint32_t epoch;
    tr_prefilter_scratch *pf;
    tr_corr_engine *corr;
    uint64_t evaluated, skipped;
    /* per event */
    const tr_event *ev;
    tr_detection_fn fn;
    void *user;
    size_t hits;
    int scanned;           /* prefilter ran for this event */
    unsigned since_advance; /* events since the correlation clock last moved */
    tr_fold_cache fold;    /* values folded to lower case, this event */
    int64_t eventid;       /* this event's EventID, when has_eventid */
    int has_eventid;
    uint32_t eventid_hash;
    tr_eval eval;
};

tr_status tr_matcher_create(tr_matcher **out, const tr_ruleset *rs, unsigned flags)
{
    *out = NULL;
    if (!rs->compiled)
        return TR_ERR_ARG;
    tr_matcher *m = tr_calloc(1, sizeof *m);
    if (!m)
        return TR_ERR_NOMEM;
    m->rs = rs;
    m->flags = flags;
    m->eventid_hash = tr_name_hash("EventID", 7);
    m->md = pcre2_match_data_create(1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    if (m->mctx) {
        pcre2_set_match_limit(m->mctx, rs->regex_match_limit);
        pcre2_set_depth_limit(m->mctx, rs->regex_depth_limit);
    }
    m->memo = tr_calloc(rs->max_searches + 1, 1);
    m->seen = tr_calloc(rs->nrules + 1, sizeof *m->seen);
    m->corr_lost = tr_calloc(rs->ncorr + 1, sizeof *m->corr_lost);
    int rc = m->md && m->mctx && m->memo && m->seen && m->corr_lost ? TR_OK : TR_ERR_NOMEM;
    if (rc == TR_OK && !(flags & TR_MATCH_NO_PREFILTER))
        rc = tr_prefilter_scratch_create(rs->prefilter, rs->nrules, &m->pf);
    if (rc == TR_OK)
        rc = tr_corr_engine_create(&m->corr, (const tr_corr_spec *const *)rs->corr_specs, rs->ncorr);
    if (rc != TR_OK) {
        tr_matcher_destroy(m);
        return (tr_status)rc;
    }
    *out = m;
    return TR_OK;
}

void tr_matcher_destroy(tr_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    tr_free(m->memo);
    tr_free(m->seen);
    tr_free(m->corr_lost);
    tr_free(m->fold.buf);
    tr_prefilter_scratch_free(m->pf);
    tr_corr_engine_destroy(m->corr);
    tr_free(m);
}

typedef struct field_ctx {
    const tr_event *ev;
    char buf[64];
} field_ctx;

/* Correlation inputs read fields straight from the event. */
static const char *event_get(void *ctx, const char *field, size_t *len)
{
    field_ctx *c = ctx;
    const tr_field *f = tr_event_get(c->ev, field, strlen(field));
    if (!f || !f->value.str)
        return NULL;
    *len = f->value.len;
    return f->value.str;
}

static void emit_corr(void *user, const tr_corr_hit *hit);

/* Feeds edge k (base rule -> correlation); an input the engine could not
 * take (out of memory, chained too deep) is counted against the correlation
 * and said at the end of input. */
static void corr_feed(tr_matcher *m, uint32_t k, const tr_corr_input *in)
{
    const tr_ruleset *rs = m->rs;
    uint32_t c = rs->corr_feed[2 * k];
    int rc = tr_corr_engine_feed(m->corr, c, rs->corr_feed[2 * k + 1], in, emit_corr, m);
    if (rc == TR_ERR_NOMEM || rc == TR_ERR_LIMIT)
        m->corr_lost[c]++;
}

static void emit_corr(void *user, const tr_corr_hit *hit)
{
    tr_matcher *m = user;
    const tr_ruleset *rs = m->rs;
    uint32_t ri = rs->corr_rule_of_spec[hit->correlation];
    const tr_rule *r = rs->rules[ri];
    /* An intermediate correlation of a chain is, like any referred rule, a
     * building block: reported only when a correlation that refers to it
     * says `generate: true` (sigma-correlation-rules-specification.md,
     * "Correlation rules": only the outermost rule produces results). */
    if (!r->is_corr_base || r->generate) {
        tr_detection d = {&r->info, m->ev, hit->last, hit->first, hit->last, hit->value,
                          hit->ngroup, hit->group_fields, hit->group_values, NULL, NULL};
        m->hits++;
        if (m->fn)
            m->fn(m->user, &d);
    }
    /* chaining: a correlation that references this one */
    if (!r->is_corr_base)
        return;
    tr_corr_input in;
    tr_corr_input_from_hit(&in, hit);
    for (uint32_t k = rs->corr_feed_start[ri]; k < rs->corr_feed_start[ri + 1]; k++)
        corr_feed(m, k, &in);
}

/* The limit a PCRE2 error code stands for, in the words of the options. */
static const char *limit_name(int code)
{
    switch (code) {
    case PCRE2_ERROR_MATCHLIMIT: return "the regular expression match limit (--regex-match-limit)";
    case PCRE2_ERROR_DEPTHLIMIT: return "the regular expression depth limit (--regex-depth-limit)";
    case PCRE2_ERROR_HEAPLIMIT: return "the regular expression heap limit";
    case PCRE2_ERROR_NOMEMORY: return "memory, matching a regular expression";
    default: return "a regular expression engine limit";
    }
}

void tr_matcher_on_limit(tr_matcher *m, tr_limit_fn fn, void *user)
{
    m->on_limit = fn;
    m->limit_user = user;
}

uint64_t tr_matcher_limited(const tr_matcher *m) { return m->limited; }

static void run_rule(tr_matcher *m, const tr_lsentry *e, const tr_route *rt)
{
    const tr_ruleset *rs = m->rs;
    const tr_rule *r = rs->rules[rt->rule];
    if (m->seen[rt->rule] == m->epoch)
        return;
    m->seen[rt->rule] = m->epoch;
    if (!(m->flags & TR_MATCH_NO_PREFILTER) && !tr_eventid_allowed(r, m->eventid, m->has_eventid)) {
        m->skipped++;
        return;
    }
    if (r->prefiltered && m->pf) {
        if (!m->scanned) {
            tr_prefilter_scan(rs->prefilter, m->pf, m->ev);
            m->scanned = 1;
        }
        if (!tr_prefilter_hit(m->pf, rt->rule)) {
            m->skipped++;
            return;
        }
    }
    m->evaluated++;
    m->eval.fmap = rt->variant ? r->variants[rt->variant] : NULL;
    m->eval.map_from = e->map_from;
    m->eval.map_to = e->map_to;
    m->eval.nmap = e->nmap;
    m->limits = 0;
    if (!tr_rule_eval(r, &m->eval)) {
        if (m->limits) { /* it may have matched: not a quiet "no" */
            m->limited++;
            if (m->on_limit)
                m->on_limit(m->limit_user, &r->info, m->ev, limit_name(m->limit_code), 1);
        }
        return;
    }
    if (!r->is_corr_base || r->generate) {
        tr_detection d = {&r->info, m->ev, tr_event_time(m->ev), TR_TIME_NONE, TR_TIME_NONE, 0, 0, NULL, NULL, NULL, NULL};
        m->hits++;
        if (m->fn)
            m->fn(m->user, &d);
    }
    if (r->is_corr_base) {
        field_ctx fc = {.ev = m->ev};
        tr_corr_input in = {tr_event_time(m->ev), event_get, &fc};
        for (uint32_t k = rs->corr_feed_start[rt->rule]; k < rs->corr_feed_start[rt->rule + 1]; k++)
            corr_feed(m, k, &in);
    }
}

static void on_entry(void *user, const tr_lsentry *e)
{
    tr_matcher *m = user;
    for (uint32_t i = 0; i < e->nroutes; i++)
        run_rule(m, e, &e->routes[i]);
}

size_t tr_matcher_event(tr_matcher *m, const tr_event *ev, tr_detection_fn fn, void *user)
{
    if (++m->epoch == 0) {
        memset(m->seen, 0, (m->rs->nrules + 1) * sizeof *m->seen);
        m->epoch = 1;
    }
    m->ev = ev;
    m->fn = fn;
    m->user = user;
    m->hits = 0;
    m->scanned = 0;
    /* a new event: folded values of the last one are forgotten */
    m->fold.used = 0;
    if (++m->fold.epoch == 0) {
        memset(m->fold.slot, 0, sizeof m->fold.slot);
        m->fold.epoch = 1;
    }
    m->eval = (tr_eval){ev, NULL, m->md, m->memo, NULL, NULL, 0, 0, &m->fold, m->mctx, &m->limits, &m->limit_code};
    /* the EventID, for the rules' guards: a plain decimal, or none */
    m->has_eventid = 0;
    const tr_field *eid = tr_event_get_hashed(ev, "EventID", 7, m->eventid_hash);
    if (eid && eid->value.type == TR_LIST) {
        m->has_eventid = -1; /* several: the guards cannot tell, the rules will */
    } else if (eid && eid->value.str && eid->value.len && eid->value.len < 20) {
        int64_t x = 0;
        uint32_t i = 0;
        while (i < eid->value.len && eid->value.str[i] >= '0' && eid->value.str[i] <= '9')
            x = x * 10 + (eid->value.str[i++] - '0');
        if (i == eid->value.len && !(eid->value.len > 1 && eid->value.str[0] == '0')) {
            m->eventid = x;
            m->has_eventid = 1;
        }
    }
    tr_logsource_entries(m->rs, ev, &m->eval, on_entry, m);
    /* the correlation clock: windows that ended close (and free their state)
     * even when none of their rules match any more */
    if (m->rs->ncorr && (++m->since_advance >= 1024)) {
        tr_time t = tr_event_time(ev);
        m->since_advance = 0;
        m->ev = NULL; /* windows closed by the clock have no completing event */
        if (t != TR_TIME_NONE)
            tr_corr_engine_advance(m->corr, t, emit_corr, m);
    }
    m->ev = NULL;
    return m->hits;
}

size_t tr_matcher_flush(tr_matcher *m, tr_detection_fn fn, void *user)
{
    m->ev = NULL;
    m->fn = fn;
    m->user = user;
    m->hits = 0;
    tr_corr_engine_flush(m->corr, emit_corr, m);
    /* what the correlations had to leave out, each said once */
    for (size_t c = 0; c < m->rs->ncorr; c++) {
        const tr_corr_stats *st = tr_corr_engine_stats(m->corr, c);
        uint64_t lost = st->groups_full + st->dropped + st->oversized + m->corr_lost[c];
        if (!lost)
            continue;
        m->limited += lost;
        char why[400];
        snprintf(why, sizeof why,
                 "the correlation's bounds (%llu input(s) past its cap of %u groups, %llu entries dropped at %u per "
                 "group, %llu group-by value(s) over %u bytes, %llu lost to memory)",
                 (unsigned long long)st->groups_full, (unsigned)TR_CORR_MAX_GROUPS, (unsigned long long)st->dropped,
                 (unsigned)TR_CORR_MAX_ENTRIES, (unsigned long long)st->oversized, (unsigned)TR_CORR_MAX_VALUE_LEN,
                 (unsigned long long)m->corr_lost[c]);
        if (m->on_limit)
            m->on_limit(m->limit_user, &m->rs->rules[m->rs->corr_rule_of_spec[c]]->info, NULL, why, lost);
        m->corr_lost[c] = 0;
    }
    return m->hits;
}

void tr_matcher_counts(const tr_matcher *m, uint64_t *evaluated, uint64_t *prefiltered_out)
{
    if (evaluated)
        *evaluated = m->evaluated;
    if (prefiltered_out)
        *prefiltered_out = m->skipped;
}

void tr_ruleset_digest(const tr_ruleset *rs, char hex[65])
{
    tr_sha256 copy = rs->digest; /* the running state goes on */
    uint8_t d[TR_SHA256_DIGEST_SIZE];
    tr_sha256_final(&copy, d);
    tr_sha256_hex(d, hex);
}
