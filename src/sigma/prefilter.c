/*
 * prefilter.c — the literal prefilter: one Vectorscan scan of an event's
 * values tells which rules can possibly match it, so that most rules are
 * never evaluated (Suricata's fast pattern idea: a cheap necessary
 * condition first, the full match only for the survivors).
 *
 * For each detection rule we derive a necessary condition as up to two (MAX_CLAUSES)
 * clauses that must all hold, each clause a set of literals at least one
 * of which occurs (ignoring ASCII case) in some value of any event the
 * rule matches. A value's literal is the text it must contain (exact,
 * contains, starts/ends with: all of it; a wildcard pattern: its longest
 * literal run); an item gives one clause, the union over its values (with
 * |all, one clause per value); a conjunction (AND, a map) keeps its
 * children's clauses, the most selective first; OR gives one clause, the
 * union of each side's best; NOT, regular expressions, numbers, networks
 * and existence tests give nothing. Rules without a clause are always
 * evaluated; the others only when every clause was seen. The prefilter therefore never changes a result, only the
 * work (tests check this by running with and without it).
 *
 * Owns: the Vectorscan database and the literal -> rules table (heap);
 * each scratch owns its Vectorscan scratch, value buffer and marks.
 */
#include <hs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "ruleset.h"

#define MIN_LITERAL 3   /* shorter literals select too little to be worth it */
#define MAX_SET 512     /* literals one clause may hold */
#define MAX_CLAUSES 2   /* clauses kept per rule (at most 8: a clause is a bit); a rule is a candidate when all hold */

struct tr_prefilter {
    hs_database_t *db;
    uint32_t nlits;
    uint32_t *rule_start; /* [nlits + 1] into rule_ids */
    uint32_t *rule_ids;   /* rule index << 3 | clause index */
    uint8_t *need;        /* [nrules]: the clause bits a rule needs, 0 = not prefiltered */
};

struct tr_prefilter_scratch {
    hs_scratch_t *hs;
    char *buf;
    size_t cap;
    uint32_t *mark;       /* [nrules]: epoch of the last scan that saw one of the rule's literals */
    uint8_t *seen;        /* [nrules]: clauses seen in that scan */
    uint32_t epoch;
    size_t nrules;
    const tr_prefilter *pf;
    int failed;
};

/* ---------------------------------------------------------------- literal sets */

typedef struct lit {
    const char *s;
    uint32_t len;
} lit;

/* A clause: the node can match only if one of these literals occurs. */
typedef struct litset {
    int none;       /* no usable clause: the node can match without any literal */
    lit *v;
    size_t n, cap;
} litset;

/* A necessary condition as clauses that must all hold (AND of ORs). An
 * empty list: nothing is known. */
typedef struct cnf {
    litset c[MAX_CLAUSES];
    size_t n;
} cnf;

static void set_free(litset *s)
{
    tr_free(s->v);
    memset(s, 0, sizeof *s);
}

static void cnf_free(cnf *f)
{
    for (size_t i = 0; i < f->n; i++)
        set_free(&f->c[i]);
    f->n = 0;
}

static int set_add(litset *s, const char *p, uint32_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        lit *v = tr_realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (lit){p, len};
    return 0;
}

static uint32_t set_min(const litset *s)
{
    uint32_t m = UINT32_MAX;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].len < m)
            m = s->v[i].len;
    return m;
}

/* a better than b: usable, longer shortest literal, then fewer literals */
static int set_better(const litset *a, const litset *b)
{
    if (a->none != b->none)
        return !a->none;
    uint32_t ma = set_min(a), mb = set_min(b);
    if (ma != mb)
        return ma > mb;
    return a->n < b->n;
}

/* Adds a clause to f (taking it), keeping the MAX_CLAUSES best. */
static void cnf_add(cnf *f, litset *s)
{
    if (s->none || s->n == 0 || s->n > MAX_SET) {
        set_free(s);
        return;
    }
    if (f->n < MAX_CLAUSES) {
        f->c[f->n++] = *s;
        memset(s, 0, sizeof *s);
        return;
    }
    size_t worst = 0;
    for (size_t i = 1; i < f->n; i++)
        if (set_better(&f->c[worst], &f->c[i]))
            worst = i;
    if (set_better(s, &f->c[worst])) {
        set_free(&f->c[worst]);
        f->c[worst] = *s;
        memset(s, 0, sizeof *s);
    } else {
        set_free(s);
    }
}

/* Moves every clause of `from` into `into` (AND). */
static void cnf_and(cnf *into, cnf *from)
{
    for (size_t i = 0; i < from->n; i++)
        cnf_add(into, &from->c[i]);
    from->n = 0;
}

/* The best single clause of f, taken out (f is freed); none if f is empty. */
static litset cnf_best(cnf *f)
{
    litset best = {.none = 1};
    size_t bi = 0;
    for (size_t i = 0; i < f->n; i++)
        if (set_better(&f->c[i], &best) || (i == 0 && !f->c[0].none)) {
            best = f->c[i];
            bi = i;
        }
    if (!best.none)
        memset(&f->c[bi], 0, sizeof f->c[bi]);
    cnf_free(f);
    return best;
}

/* OR of two nodes: one clause, the union of each side's best clause. */
static int clause_union(litset *into, litset *from)
{
    if (into->none || from->none) {
        into->none = 1;
        set_free(from);
        return 0;
    }
    for (size_t i = 0; i < from->n; i++)
        if (set_add(into, from->v[i].s, from->v[i].len)) {
            set_free(from);
            return -1;
        }
    set_free(from);
    if (into->n > MAX_SET)
        into->none = 1;
    return 0;
}

/* The literal a pattern guarantees, or 0. */
static int pattern_literal(const tr_pattern *p, const char **s, uint32_t *len)
{
    switch (p->kind) {
    case TR_P_EXACT:
    case TR_P_CONTAINS:
    case TR_P_STARTS:
    case TR_P_ENDS:
        *s = p->text, *len = p->len;
        break;
    case TR_P_GLOB: {
        const char *best = NULL;
        uint32_t blen = 0;
        for (const char *o = p->text; *o != TR_G_END;) {
            if (*o == TR_G_LIT) {
                uint32_t n = (uint32_t)(unsigned char)o[1] | (uint32_t)(unsigned char)o[2] << 8;
                if (n > blen)
                    best = o + 3, blen = n;
                o += 3 + n;
            } else {
                o++;
            }
        }
        *s = best, *len = blen;
        break;
    }
    default:
        return 0;
    }
    if (*len < MIN_LITERAL || memchr(*s, '\0', *len))
        return 0;
    return 1;
}

/* The clause of the patterns of one group (or of all groups: g < 0). */
static int group_clause(const tr_item *it, int g, litset *out)
{
    memset(out, 0, sizeof *out);
    int any = 0;
    for (uint32_t i = 0; i < it->npatterns; i++) {
        if (g >= 0 && it->patterns[i].group != g)
            continue;
        any = 1;
        const char *s;
        uint32_t len;
        if (!pattern_literal(&it->patterns[i], &s, &len)) {
            set_free(out);
            out->none = 1;
            return 0;
        }
        if (set_add(out, s, len)) {
            set_free(out);
            return -1;
        }
    }
    if (!any)
        out->none = 1;
    return 0;
}

static int item_cnf(const tr_item *it, cnf *out)
{
    out->n = 0;
    if (it->kind != TR_I_VALUES || it->neq || it->npatterns == 0)
        return 0;
    litset c;
    if (!it->all) {
        if (group_clause(it, -1, &c))
            return -1;
        cnf_add(out, &c);
        return 0;
    }
    /* |all: every group is necessary, each its own clause */
    for (int g = 0; g < it->ngroups; g++) {
        if (group_clause(it, g, &c)) {
            cnf_free(out);
            return -1;
        }
        cnf_add(out, &c);
    }
    return 0;
}

static int conj_cnf(const tr_conj *c, cnf *out)
{
    out->n = 0;
    for (uint32_t i = 0; i < c->nitems; i++) {
        cnf f;
        if (item_cnf(&c->items[i], &f)) {
            cnf_free(out);
            return -1;
        }
        cnf_and(out, &f);
    }
    return 0;
}

static int search_cnf(const tr_search *sr, cnf *out)
{
    out->n = 0;
    if (sr->nalts == 1)
        return conj_cnf(&sr->alts[0], out);
    litset u = {0};
    for (uint32_t i = 0; i < sr->nalts && !u.none; i++) {
        cnf f;
        if (conj_cnf(&sr->alts[i], &f)) {
            set_free(&u);
            return -1;
        }
        litset b = cnf_best(&f);
        if (clause_union(&u, &b)) {
            set_free(&u);
            return -1;
        }
    }
    cnf_add(out, &u);
    return 0;
}

static int cond_cnf(const tr_rule *r, uint32_t n, cnf *out, int depth)
{
    out->n = 0;
    const tr_cnode *c = &r->cond[n];
    if (depth > 64)
        return 0;
    switch (c->op) {
    case TR_C_SEARCH:
        return search_cnf(&r->searches[c->search], out);
    case TR_C_AND:
        for (uint32_t i = 0; i < c->nkids; i++) {
            cnf f;
            if (cond_cnf(r, c->kids[i], &f, depth + 1)) {
                cnf_free(out);
                return -1;
            }
            cnf_and(out, &f);
        }
        return 0;
    case TR_C_OR: {
        litset u = {0};
        for (uint32_t i = 0; i < c->nkids && !u.none; i++) {
            cnf f;
            if (cond_cnf(r, c->kids[i], &f, depth + 1)) {
                set_free(&u);
                return -1;
            }
            litset b = cnf_best(&f);
            if (clause_union(&u, &b)) {
                set_free(&u);
                return -1;
            }
        }
        cnf_add(out, &u);
        return 0;
    }
    default: /* NOT, constants: nothing is known */
        return 0;
    }
}

/* ---------------------------------------------------------------- building */

typedef struct litent {
    char *text;       /* folded */
    uint32_t len;
    uint32_t *rules;
    uint32_t nrules, caprules;
} litent;

typedef struct littab {
    litent *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1 */
    uint32_t mask;
} littab;

static int tab_grow(littab *t)
{
    uint32_t nslots = t->mask ? (t->mask + 1) * 2 : 1024;
    uint32_t *s = tr_calloc(nslots, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t h = tr_name_hash(t->v[i].text, t->v[i].len) & (nslots - 1);
        while (s[h])
            h = (h + 1) & (nslots - 1);
        s[h] = (uint32_t)i + 1;
    }
    tr_free(t->slots);
    t->slots = s;
    t->mask = nslots - 1;
    return 0;
}

static int tab_add(littab *t, const char *s, uint32_t len, uint32_t rule)
{
    if ((t->n + 1) * 2 > (size_t)t->mask + 1 && tab_grow(t))
        return -1;
    uint32_t h = tr_name_hash(s, len) & t->mask; /* folded hash */
    litent *e = NULL;
    while (t->slots[h]) {
        litent *x = &t->v[t->slots[h] - 1];
        if (x->len == len && strncasecmp(x->text, s, len) == 0) {
            e = x;
            break;
        }
        h = (h + 1) & t->mask;
    }
    if (!e) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 1024;
            litent *v = tr_realloc(t->v, cap * sizeof *v);
            if (!v)
                return -1;
            t->v = v;
            t->cap = cap;
        }
        e = &t->v[t->n];
        memset(e, 0, sizeof *e);
        e->text = tr_strndup(s, len);
        if (!e->text)
            return -1;
        e->len = len;
        t->slots[h] = (uint32_t)++t->n;
    }
    if (e->nrules && e->rules[e->nrules - 1] == rule)
        return 0;
    if (e->nrules == e->caprules) {
        uint32_t cap = e->caprules ? e->caprules * 2 : 2;
        uint32_t *r = tr_realloc(e->rules, cap * sizeof *r);
        if (!r)
            return -1;
        e->rules = r;
        e->caprules = cap;
    }
    e->rules[e->nrules++] = rule;
    return 0;
}

static void tab_free(littab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        tr_free(t->v[i].text);
        tr_free(t->v[i].rules);
    }
    tr_free(t->v);
    tr_free(t->slots);
}

void tr_prefilter_free(tr_prefilter *pf)
{
    if (!pf)
        return;
    hs_free_database(pf->db);
    tr_free(pf->rule_start);
    tr_free(pf->rule_ids);
    tr_free(pf->need);
    tr_free(pf);
}

int tr_prefilter_build(tr_ruleset *rs)
{
    littab t = {0};
    int rc = TR_OK;
    for (size_t i = 0; i < rs->nrules && rc == TR_OK; i++) {
        tr_rule *r = rs->rules[i];
        r->prefiltered = 0;
        if (r->info.kind != TR_RULE_DETECTION || !r->cond || !r->info.runnable)
            continue;
        cnf f;
        if (cond_cnf(r, r->cond_root, &f, 0)) {
            rc = TR_ERR_NOMEM;
            break;
        }
        if (f.n > 0) {
            /* a literal of clause k of rule i is coded i << 3 | k */
            for (size_t k = 0; k < f.n && rc == TR_OK; k++)
                for (size_t l = 0; l < f.c[k].n && rc == TR_OK; l++)
                    if (tab_add(&t, f.c[k].v[l].s, f.c[k].v[l].len, (uint32_t)(i << 3 | k)))
                        rc = TR_ERR_NOMEM;
            r->prefiltered = rc == TR_OK ? (int)f.n : 0;
            rs->stats.prefiltered += r->prefiltered > 0;
        }
        cnf_free(&f);
    }
    if (rc != TR_OK || t.n == 0) {
        tab_free(&t);
        return rc;
    }
    if (rs->nrules >= (1u << 29)) {
        tab_free(&t);
        return TR_ERR_LIMIT;
    }
    tr_prefilter *pf = tr_calloc(1, sizeof *pf);
    const char **exprs = tr_malloc(t.n * sizeof *exprs);
    unsigned *flags = tr_malloc(t.n * sizeof *flags);
    unsigned *ids = tr_malloc(t.n * sizeof *ids);
    size_t *lens = tr_malloc(t.n * sizeof *lens);
    size_t total = 0;
    for (size_t i = 0; i < t.n; i++)
        total += t.v[i].nrules;
    if (pf) {
        pf->rule_start = tr_malloc((t.n + 1) * sizeof *pf->rule_start);
        pf->rule_ids = tr_malloc((total ? total : 1) * sizeof *pf->rule_ids);
    }
    if (pf) {
        pf->need = tr_calloc(rs->nrules + 1, 1);
        if (pf->need)
            for (size_t i = 0; i < rs->nrules; i++)
                pf->need[i] = (uint8_t)((1u << rs->rules[i]->prefiltered) - 1);
    }
    if (!pf || !exprs || !flags || !ids || !lens || !pf->rule_start || !pf->rule_ids || !pf->need) {
        rc = TR_ERR_NOMEM;
    } else {
        size_t at = 0;
        for (size_t i = 0; i < t.n; i++) {
            exprs[i] = t.v[i].text;
            lens[i] = t.v[i].len;
            flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
            ids[i] = (unsigned)i;
            pf->rule_start[i] = (uint32_t)at;
            memcpy(pf->rule_ids + at, t.v[i].rules, t.v[i].nrules * sizeof *pf->rule_ids);
            at += t.v[i].nrules;
        }
        pf->rule_start[t.n] = (uint32_t)at;
        pf->nlits = (uint32_t)t.n;
        hs_compile_error_t *cerr = NULL;
        if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)t.n, HS_MODE_BLOCK, NULL, &pf->db,
                                 &cerr) != HS_SUCCESS) {
            tr_ruleset_diag_kind(rs, TR_DIAG_RUN, NULL, TR_SEV_WARNING, "", 0,
                            "prefilter not built (%s): every rule will be evaluated in full",
                            cerr && cerr->message ? cerr->message : "Vectorscan error");
            hs_free_compile_error(cerr);
            pf->db = NULL;
            for (size_t i = 0; i < rs->nrules; i++)
                rs->rules[i]->prefiltered = 0;
            rs->stats.prefiltered = 0;
        }
    }
    tr_free(exprs);
    tr_free(flags);
    tr_free(ids);
    tr_free(lens);
    tab_free(&t);
    if (rc != TR_OK || !pf->db) {
        tr_prefilter_free(pf);
        return rc;
    }
    rs->prefilter = pf;
    return TR_OK;
}

/* ---------------------------------------------------------------- scanning */

int tr_prefilter_scratch_create(const tr_prefilter *pf, size_t nrules, tr_prefilter_scratch **out)
{
    *out = NULL;
    if (!pf)
        return TR_OK;
    tr_prefilter_scratch *s = tr_calloc(1, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    s->pf = pf;
    s->nrules = nrules;
    s->mark = tr_calloc(nrules ? nrules : 1, sizeof *s->mark);
    s->seen = tr_calloc(nrules ? nrules : 1, 1);
    if (!s->mark || !s->seen || hs_alloc_scratch(pf->db, &s->hs) != HS_SUCCESS) {
        tr_prefilter_scratch_free(s);
        return TR_ERR_NOMEM;
    }
    *out = s;
    return TR_OK;
}

void tr_prefilter_scratch_free(tr_prefilter_scratch *s)
{
    if (!s)
        return;
    if (s->hs)
        hs_free_scratch(s->hs);
    tr_free(s->buf);
    tr_free(s->mark);
    tr_free(s->seen);
    tr_free(s);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    tr_prefilter_scratch *s = ctx;
    const tr_prefilter *pf = s->pf;
    for (uint32_t i = pf->rule_start[id]; i < pf->rule_start[id + 1]; i++) {
        uint32_t code = pf->rule_ids[i], rule = code >> 3;
        if (s->mark[rule] != s->epoch) {
            s->mark[rule] = s->epoch;
            s->seen[rule] = 0;
        }
        s->seen[rule] |= (uint8_t)(1u << (code & 7));
    }
    return 0;
}

static int append(tr_prefilter_scratch *s, size_t *at, const tr_value *v)
{
    if (!v->str)
        return 0;
    size_t need = *at + v->len + 1;
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *b = tr_realloc(s->buf, cap);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + *at, v->str, v->len);
    *at += v->len;
    s->buf[(*at)++] = '\0'; /* no literal holds a NUL, so none spans two values */
    return 0;
}

int tr_prefilter_scan(const tr_prefilter *pf, tr_prefilter_scratch *s, const tr_event *ev)
{
    if (++s->epoch == 0) { /* wrapped: forget every old mark */
        memset(s->mark, 0, sizeof *s->mark * s->nrules);
        s->epoch = 1;
    }
    s->failed = 0;
    size_t at = 0, n = tr_event_field_count(ev);
    for (size_t i = 0; i < n; i++) {
        const tr_value *v = &tr_event_field(ev, i)->value;
        int rc = 0;
        if (v->type == TR_LIST) {
            for (uint32_t k = 0; k < v->as.list.count && !rc; k++)
                rc = append(s, &at, tr_event_list_item(ev, v, k));
        } else {
            rc = append(s, &at, v);
        }
        if (rc) {
            s->failed = 1;
            return -1;
        }
    }
    if (at > UINT32_MAX) {
        s->failed = 1;
        return -1;
    }
    if (hs_scan(pf->db, s->buf ? s->buf : "", (unsigned)at, 0, s->hs, on_match, s) != HS_SUCCESS) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

int tr_prefilter_hit(const tr_prefilter_scratch *s, uint32_t rule)
{
    return s->failed || (s->mark[rule] == s->epoch && s->seen[rule] == s->pf->need[rule]);
}

/* ---------------------------------------------------------------- EventID guard */

/* The EventIDs a node can match only with, as a sorted set; *any when the
 * node says nothing of it. Same algebra as the literals: AND keeps the
 * smallest set of its children, OR the union, NOT nothing. */
typedef struct idset {
    int any;
    int64_t *v;
    size_t n;
} idset;

#define MAX_IDS 256

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void ids_free(idset *s)
{
    tr_free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int item_ids(const tr_rule *r, const tr_item *it, idset *out)
{
    out->any = 1;
    out->v = NULL;
    out->n = 0;
    if (it->kind != TR_I_VALUES || it->neq || it->all || it->field < 0 || it->npatterns == 0 ||
        it->npatterns > MAX_IDS || strcasecmp(r->fields[it->field].name, "EventID") != 0)
        return 0;
    int64_t *v = tr_malloc(it->npatterns * sizeof *v);
    if (!v)
        return -1;
    for (uint32_t i = 0; i < it->npatterns; i++) {
        const tr_pattern *p = &it->patterns[i];
        char buf[24], *end;
        if (p->kind != TR_P_EXACT || p->len == 0 || p->len >= sizeof buf) {
            tr_free(v);
            return 0;
        }
        memcpy(buf, p->text, p->len);
        buf[p->len] = '\0';
        long long x = strtoll(buf, &end, 10);
        if (*end || buf[0] == '-' || buf[0] == '+' || (p->len > 1 && buf[0] == '0')) {
            tr_free(v); /* not a plain decimal: compared as text, no guard */
            return 0;
        }
        v[i] = x;
    }
    qsort(v, it->npatterns, sizeof *v, cmp_i64);
    out->any = 0;
    out->v = v;
    out->n = it->npatterns;
    return 0;
}

/* AND: keep the smaller known set */
static void ids_and(idset *into, idset *from)
{
    if (from->any) {
        ids_free(from);
        return;
    }
    if (into->any || from->n < into->n) {
        ids_free(into);
        *into = *from;
        from->v = NULL;
        return;
    }
    ids_free(from);
}

/* OR: the union, unknown if either is */
static int ids_or(idset *into, idset *from)
{
    if (into->any || from->any || into->n + from->n > MAX_IDS) {
        ids_free(into);
        ids_free(from);
        into->any = 1;
        return 0;
    }
    int64_t *v = tr_realloc(into->v, (into->n + from->n + 1) * sizeof *v);
    if (!v) {
        ids_free(from);
        return -1;
    }
    memcpy(v + into->n, from->v, from->n * sizeof *v);
    into->v = v;
    into->n += from->n;
    ids_free(from);
    qsort(into->v, into->n, sizeof *into->v, cmp_i64);
    return 0;
}

static int conj_ids(const tr_rule *r, const tr_conj *c, idset *out)
{
    *out = (idset){.any = 1};
    for (uint32_t i = 0; i < c->nitems; i++) {
        idset s;
        if (item_ids(r, &c->items[i], &s)) {
            ids_free(out);
            return -1;
        }
        ids_and(out, &s);
    }
    return 0;
}

static int cond_ids(const tr_rule *r, uint32_t n, idset *out, int depth)
{
    *out = (idset){.any = 1};
    const tr_cnode *c = &r->cond[n];
    if (depth > 64)
        return 0;
    if (c->op == TR_C_SEARCH) {
        const tr_search *sr = &r->searches[c->search];
        for (uint32_t i = 0; i < sr->nalts; i++) {
            idset s;
            if (conj_ids(r, &sr->alts[i], &s))
                return -1;
            if (i == 0) {
                *out = s;
            } else if (ids_or(out, &s)) {
                return -1;
            }
            if (out->any)
                break;
        }
        return 0;
    }
    if (c->op != TR_C_AND && c->op != TR_C_OR)
        return 0; /* NOT, constants */
    for (uint32_t i = 0; i < c->nkids; i++) {
        idset s;
        if (cond_ids(r, c->kids[i], &s, depth + 1)) {
            ids_free(out);
            return -1;
        }
        if (c->op == TR_C_AND) {
            ids_and(out, &s);
        } else if (i == 0) {
            *out = s;
        } else if (ids_or(out, &s)) {
            return -1;
        }
        if (c->op == TR_C_OR && out->any)
            break;
    }
    return 0;
}

int tr_eventid_guards(tr_ruleset *rs)
{
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        r->eventids = NULL;
        r->neventids = 0;
        if (r->info.kind != TR_RULE_DETECTION || !r->cond || !r->info.runnable)
            continue;
        idset s;
        if (cond_ids(r, r->cond_root, &s, 0))
            return TR_ERR_NOMEM;
        if (!s.any && s.n) {
            r->eventids = tr_arena_alloc(&rs->arena, s.n * sizeof *r->eventids);
            if (!r->eventids) {
                ids_free(&s);
                return TR_ERR_NOMEM;
            }
            memcpy(r->eventids, s.v, s.n * sizeof *s.v);
            r->neventids = (uint32_t)s.n;
        }
        ids_free(&s);
    }
    return TR_OK;
}

int tr_eventid_allowed(const tr_rule *r, int64_t eventid, int has_eventid)
{
    if (!r->neventids || has_eventid < 0)
        return 1;
    if (!has_eventid)
        return 0;
    uint32_t lo = 0, hi = r->neventids;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r->eventids[mid] < eventid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->neventids && r->eventids[lo] == eventid;
}
