/*
 * prefilter.c — the literal prefilter: one Vectorscan scan of an event's
 * values tells which rules can possibly match it, so that most rules are
 * never evaluated (Suricata's fast pattern idea: a cheap necessary
 * condition first, the full match only for the survivors).
 *
 * For each detection rule we derive a set of literals such that the rule
 * cannot match an event in which none of them occurs (ignoring ASCII case)
 * in any value: a value's literal is the text it must contain (exact,
 * contains, starts/ends with: all of it; a wildcard pattern: its longest
 * literal run); an item's set is the union over its values (for |all, the
 * best single value); a conjunction takes its most selective item; OR
 * takes the union; NOT, regular expressions, numbers, networks and
 * existence tests give no literal. Rules without a usable set are always
 * evaluated. The prefilter therefore never changes a result, only the
 * work (tests check this by running with and without it).
 *
 * Owns: the Vectorscan database and the literal -> rules table (heap);
 * each scratch owns its Vectorscan scratch, value buffer and marks.
 */
#include <hs.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "ruleset.h"

#define MIN_LITERAL 3   /* shorter literals select too little to be worth it */
#define MAX_SET 512     /* literals one rule may contribute */

struct tr_prefilter {
    hs_database_t *db;
    uint32_t nlits;
    uint32_t *rule_start; /* [nlits + 1] into rule_ids */
    uint32_t *rule_ids;
};

struct tr_prefilter_scratch {
    hs_scratch_t *hs;
    char *buf;
    size_t cap;
    uint32_t *mark;       /* [nrules]: epoch of the last scan that saw the rule's literal */
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

typedef struct litset {
    int none;       /* no usable set: the node can match without any literal */
    lit *v;
    size_t n, cap;
} litset;

static void set_free(litset *s)
{
    tr_free(s->v);
    memset(s, 0, sizeof *s);
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

static int set_union(litset *into, litset *from)
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

static int item_set(const tr_item *it, litset *out)
{
    memset(out, 0, sizeof *out);
    if (it->kind != TR_I_VALUES || it->neq || it->npatterns == 0) {
        out->none = 1;
        return 0;
    }
    if (!it->all) {
        for (uint32_t i = 0; i < it->npatterns; i++) {
            const char *s;
            uint32_t len;
            if (!pattern_literal(&it->patterns[i], &s, &len)) {
                out->none = 1;
                return 0;
            }
            if (set_add(out, s, len))
                return -1;
        }
        return 0;
    }
    /* |all: every group is necessary; take the best group */
    out->none = 1;
    for (uint16_t g = 0; g < it->ngroups; g++) {
        litset cur = {0};
        int any = 0;
        for (uint32_t i = 0; i < it->npatterns; i++) {
            if (it->patterns[i].group != g)
                continue;
            any = 1;
            const char *s;
            uint32_t len;
            if (!pattern_literal(&it->patterns[i], &s, &len)) {
                cur.none = 1;
                break;
            }
            if (set_add(&cur, s, len)) {
                set_free(&cur);
                set_free(out);
                return -1;
            }
        }
        if (!any)
            cur.none = 1;
        if (set_better(&cur, out)) {
            set_free(out);
            *out = cur;
        } else {
            set_free(&cur);
        }
    }
    return 0;
}

static int conj_set(const tr_conj *c, litset *out)
{
    memset(out, 0, sizeof *out);
    out->none = 1;
    for (uint32_t i = 0; i < c->nitems; i++) {
        litset s;
        if (item_set(&c->items[i], &s)) {
            set_free(out);
            return -1;
        }
        if (set_better(&s, out)) {
            set_free(out);
            *out = s;
        } else {
            set_free(&s);
        }
    }
    return 0;
}

static int search_set(const tr_search *sr, litset *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < sr->nalts; i++) {
        litset s;
        if (conj_set(&sr->alts[i], &s) || set_union(out, &s)) {
            set_free(out);
            return -1;
        }
        if (out->none)
            break;
    }
    return 0;
}

static int cond_set(const tr_rule *r, uint32_t n, litset *out, int depth)
{
    memset(out, 0, sizeof *out);
    const tr_cnode *c = &r->cond[n];
    if (depth > 64) {
        out->none = 1;
        return 0;
    }
    switch (c->op) {
    case TR_C_SEARCH:
        return search_set(&r->searches[c->search], out);
    case TR_C_AND:
        out->none = 1;
        for (uint32_t i = 0; i < c->nkids; i++) {
            litset s;
            if (cond_set(r, c->kids[i], &s, depth + 1)) {
                set_free(out);
                return -1;
            }
            if (set_better(&s, out)) {
                set_free(out);
                *out = s;
            } else {
                set_free(&s);
            }
        }
        return 0;
    case TR_C_OR:
        for (uint32_t i = 0; i < c->nkids; i++) {
            litset s;
            if (cond_set(r, c->kids[i], &s, depth + 1) || set_union(out, &s)) {
                set_free(out);
                return -1;
            }
            if (out->none)
                break;
        }
        return 0;
    default: /* NOT, constants */
        out->none = 1;
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
        litset s;
        if (cond_set(r, r->cond_root, &s, 0)) {
            rc = TR_ERR_NOMEM;
            break;
        }
        if (!s.none && s.n > 0) {
            for (size_t k = 0; k < s.n && rc == TR_OK; k++)
                if (tab_add(&t, s.v[k].s, s.v[k].len, (uint32_t)i))
                    rc = TR_ERR_NOMEM;
            r->prefiltered = rc == TR_OK;
            rs->stats.prefiltered += (uint64_t)r->prefiltered;
        }
        set_free(&s);
    }
    if (rc != TR_OK || t.n == 0) {
        tab_free(&t);
        return rc;
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
    if (!pf || !exprs || !flags || !ids || !lens || !pf->rule_start || !pf->rule_ids) {
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
            tr_ruleset_diag(rs, TR_SEV_WARNING, "", 0,
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
    if (!s->mark || hs_alloc_scratch(pf->db, &s->hs) != HS_SUCCESS) {
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
    tr_free(s);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    tr_prefilter_scratch *s = ctx;
    const tr_prefilter *pf = s->pf;
    for (uint32_t i = pf->rule_start[id]; i < pf->rule_start[id + 1]; i++)
        s->mark[pf->rule_ids[i]] = s->epoch;
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
    return s->failed || s->mark[rule] == s->epoch;
}
