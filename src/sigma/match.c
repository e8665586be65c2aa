/*
 * match.c — runs compiled Sigma detections (sigma.h) on one event: pattern
 * primitives (case-folded comparison, substring search, wildcards, regular
 * expressions, numbers, timestamps, networks), items, conjunctions,
 * searches and the condition tree.
 *
 * Owns nothing: the rule is read-only, the event borrowed, and the only
 * scratch (regex match data, the per-search memo) comes from the caller's
 * tr_eval. Nothing here allocates, so a rule costs no allocation per event.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/timeutil.h"
#include "sigma.h"

static const unsigned char fold[256] = {
#define R(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7
    R(0), R(8), R(16), R(24), R(32), R(40), R(48), R(56),
    /* 'A'..'Z' → 'a'..'z' */
    64, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 91, 92, 93, 94, 95,
    R(96), R(104), R(112), R(120), R(128), R(136), R(144), R(152), R(160), R(168), R(176),
    R(184), R(192), R(200), R(208), R(216), R(224), R(232), R(240), R(248)
#undef R
};

/* s (len n) equals the already-folded literal lit, ignoring ASCII case. */
static inline int eq_fold(const char *s, const char *lit, size_t n)
{
    const unsigned char *a = (const unsigned char *)s, *b = (const unsigned char *)lit;
    for (size_t i = 0; i < n; i++)
        if (fold[a[i]] != b[i])
            return 0;
    return 1;
}

static inline int eq_bytes(const char *s, const char *lit, size_t n, int cased)
{
    return cased ? memcmp(s, lit, n) == 0 : eq_fold(s, lit, n);
}

/* First position of needle (folded unless cased) in hay, or NULL. */
static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen, int cased)
{
    if (nlen == 0)
        return hay;
    if (nlen > hlen)
        return NULL;
    unsigned char first = (unsigned char)needle[0];
    if (cased) { /* exact bytes (or text folded already): memchr finds the candidates */
        const char *p = hay, *end = hay + hlen - nlen + 1;
        while (p < end && (p = memchr(p, first, (size_t)(end - p))) != NULL) {
            if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
                return p;
            p++;
        }
        return NULL;
    }
    const unsigned char *h = (const unsigned char *)hay;
    size_t last = hlen - nlen;
    if (first >= 'a' && first <= 'z') {
        unsigned char up = (unsigned char)(first - 32);
        for (size_t i = 0; i <= last; i++) {
            if ((h[i] == first || h[i] == up) && eq_fold(hay + i + 1, needle + 1, nlen - 1))
                return hay + i;
        }
        return NULL;
    }
    for (size_t i = 0; i <= last;) {
        const unsigned char *p = memchr(h + i, first, last - i + 1);
        if (!p)
            return NULL;
        size_t at = (size_t)(p - h);
        if (eq_fold(hay + at + 1, needle + 1, nlen - 1))
            return hay + at;
        i = at + 1;
    }
    return NULL;
}

static inline size_t utf8_step(const char *s, size_t len)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return n <= len ? n : len;
}

int tr_glob_match(const char *ops, const char *s, size_t len, int cased)
{
    const char *p = ops, *star_p = NULL;
    size_t i = 0, star_i = 0;
    for (;;) {
        unsigned char op = (unsigned char)*p;
        if (op == TR_G_STAR) {
            star_p = ++p;
            star_i = i;
            /* a literal after a star: jump to its next occurrence */
            if ((unsigned char)*p == TR_G_LIT) {
                size_t n = (size_t)(unsigned char)p[1] | (size_t)(unsigned char)p[2] << 8;
                const char *at = find(s + i, len - i, p + 3, n, cased);
                if (!at)
                    return 0;
                star_i = i = (size_t)(at - s);
            }
            continue;
        }
        if (op == TR_G_END) {
            if (i == len)
                return 1;
        } else if (op == TR_G_ONE) {
            if (i < len) {
                i += utf8_step(s + i, len - i);
                p++;
                continue;
            }
        } else { /* TR_G_LIT */
            size_t n = (size_t)(unsigned char)p[1] | (size_t)(unsigned char)p[2] << 8;
            if (i + n <= len && eq_bytes(s + i, p + 3, n, cased)) {
                i += n;
                p += 3 + n;
                continue;
            }
        }
        /* mismatch: let the last star swallow one more byte */
        if (!star_p || star_i >= len)
            return 0;
        i = ++star_i;
        p = star_p;
    }
}

/* The value's text as a number; 0 when it is not one. */
static int text_number(const char *s, size_t len, double *out)
{
    char buf[64];
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    double d = strtod(buf, &end);
    if (end == buf)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return 0;
    *out = d;
    return 1;
}

static int compare(double a, int cmp, double b)
{
    switch (cmp) {
    case TR_CMP_LT: return a < b;
    case TR_CMP_LTE: return a <= b;
    case TR_CMP_GT: return a > b;
    case TR_CMP_GTE: return a >= b;
    default: return a == b;
    }
}

/* The UTC offset a timestamp is written with (`+02:00`, `-0500`, `+02`),
 * in seconds; 0 for `Z` or none. Searched after the time of day, so the
 * date's hyphens are not taken for one. */
static int64_t written_offset(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != 'T' && s[i] != 't' && s[i] != ' ')
        i++;
    for (; i < len && s[i] != '+' && s[i] != '-'; i++)
        ;
    if (i + 3 > len || s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] < '0' || s[i + 2] > '9')
        return 0;
    int64_t sign = s[i] == '-' ? -1 : 1;
    int64_t off = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 3600;
    size_t j = i + 3 + (i + 3 < len && s[i + 3] == ':');
    if (j + 2 <= len && s[j] >= '0' && s[j] <= '9' && s[j + 1] >= '0' && s[j + 1] <= '9')
        off += ((s[j] - '0') * 10 + (s[j + 1] - '0')) * 60;
    return sign * off;
}

/* The time modifiers read the date as written: "not designed to handle
 * timezone or format conversions" (sigma-appendix-modifiers.md), so
 * 07:01+02:00 is hour 7, not the 5 of UTC. */
static int time_part(const char *s, size_t len, int part, double *out)
{
    tr_time t;
    if (tr_time_parse(s, len, &t) != TR_OK)
        return 0;
    int64_t off = written_offset(s, len) * 1000000000;
    if ((off > 0 && t > INT64_MAX - off) || (off < 0 && t < INT64_MIN - off))
        return 0;
    t += off;
    int64_t secs = t / 1000000000;
    if (t < 0 && t % 1000000000)
        secs--;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0)
        rem += 86400, days--;
    int64_t year;
    unsigned month, day;
    tr_civil_from_days(days, &year, &month, &day);
    switch (part) {
    case TR_T_MINUTE: *out = (double)(rem / 60 % 60); return 1;
    case TR_T_HOUR: *out = (double)(rem / 3600); return 1;
    case TR_T_DAY: *out = day; return 1;
    case TR_T_MONTH: *out = month; return 1;
    case TR_T_YEAR: *out = (double)year; return 1;
    default: break;
    }
    /* ISO 8601 week: the week (Monday first) holding the year's first Thursday is week 1 */
    int64_t wday = ((days % 7) + 7 + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
    int64_t thursday = days - wday + 3;
    int64_t ty;
    unsigned tm, td;
    tr_civil_from_days(thursday, &ty, &tm, &td);
    /* days from Jan 1 of ty to that Thursday */
    int64_t jan1 = thursday;
    {
        /* walk back to Jan 1: day-of-year from month/day */
        static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
        int leap = (ty % 4 == 0 && ty % 100 != 0) || ty % 400 == 0;
        int64_t doy = cum[tm - 1] + (int64_t)td - 1 + (leap && tm > 2 ? 1 : 0);
        jan1 = thursday - doy;
    }
    *out = (double)((thursday - jan1) / 7 + 1);
    return 1;
}

static int cidr_match(const tr_pattern *p, const char *s, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    uint8_t addr[16];
    int fam = memchr(buf, ':', len) ? 6 : 4;
    if (fam != p->family)
        return 0;
    if (inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, addr) != 1)
        return 0;
    unsigned bits = p->bits, full = bits / 8, rest = bits % 8;
    if (memcmp(addr, p->addr, full) != 0)
        return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
        if ((addr[full] & mask) != (p->addr[full] & mask))
            return 0;
    }
    return 1;
}

const char *tr_fold(tr_fold_cache *fc, const char *s, size_t len)
{
    size_t h = ((uintptr_t)s >> 3 ^ (uintptr_t)s >> 11) & (TR_FOLD_SLOTS - 1);
    if (fc->slot[h].epoch == fc->epoch && fc->slot[h].src == s && fc->slot[h].len == len)
        return fc->buf + fc->slot[h].off;
    if (fc->used + len + 1 > fc->cap) {
        size_t cap = fc->cap ? fc->cap : 16384;
        while (cap < fc->used + len + 1)
            cap *= 2;
        char *b = tr_realloc(fc->buf, cap);
        if (!b)
            return NULL;
        fc->buf = b;
        fc->cap = cap;
    }
    char *out = fc->buf + fc->used;
    const unsigned char *in = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)fold[in[i]];
    out[len] = '\0';
    fc->slot[h].src = s;
    fc->slot[h].len = (uint32_t)len;
    fc->slot[h].epoch = fc->epoch;
    fc->slot[h].off = fc->used;
    fc->used += len + 1;
    return out;
}

int tr_pattern_match_folded(const tr_pattern *p, const char *s, const char *folded, size_t len,
                            pcre2_match_data *md, pcre2_match_context *mctx)
{
    if (!folded || p->cased)
        return tr_pattern_match(p, s, len, md, mctx);
    switch (p->kind) {
    case TR_P_EXACT:
        return len == p->len && memcmp(folded, p->text, len) == 0;
    case TR_P_CONTAINS:
        return find(folded, len, p->text, p->len, 1) != NULL;
    case TR_P_STARTS:
        return len >= p->len && memcmp(folded, p->text, p->len) == 0;
    case TR_P_ENDS:
        return len >= p->len && memcmp(folded + len - p->len, p->text, p->len) == 0;
    case TR_P_GLOB:
        return tr_glob_match(p->text, folded, len, 1); /* the ops are folded too */
    default:
        return tr_pattern_match(p, s, len, md, mctx);
    }
}

int tr_pattern_match(const tr_pattern *p, const char *s, size_t len, pcre2_match_data *md,
                     pcre2_match_context *mctx)
{
    switch (p->kind) {
    case TR_P_EXACT:
        return len == p->len && eq_bytes(s, p->text, len, p->cased);
    case TR_P_CONTAINS:
        return find(s, len, p->text, p->len, p->cased) != NULL;
    case TR_P_STARTS:
        return len >= p->len && eq_bytes(s, p->text, p->len, p->cased);
    case TR_P_ENDS:
        return len >= p->len && eq_bytes(s + len - p->len, p->text, p->len, p->cased);
    case TR_P_GLOB:
        return tr_glob_match(p->text, s, len, p->cased);
    case TR_P_REGEX: {
        int rc = pcre2_jit_match(p->re, (PCRE2_SPTR)s, len, 0, 0, md, mctx);
        /* not compiled for JIT, or JIT's stack too small: the interpreter,
         * whose heap and match limits then decide */
        if (rc == PCRE2_ERROR_JIT_BADOPTION || rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(p->re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_JIT, md, mctx);
        if (rc >= 0)
            return 1;
        return rc == PCRE2_ERROR_NOMATCH ? 0 : rc;
    }
    case TR_P_NUM: {
        double d;
        return text_number(s, len, &d) && compare(d, p->cmp, p->num);
    }
    case TR_P_TIME: {
        double d;
        return time_part(s, len, p->tpart, &d) && compare(d, p->cmp, p->num);
    }
    case TR_P_CIDR:
        return cidr_match(p, s, len);
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- items */

static const tr_field *lookup(const tr_rule *r, int32_t fi, const tr_eval *e)
{
    if (e->fmap && e->fmap[fi].count) {
        const tr_fmap *m = &e->fmap[fi];
        for (uint32_t i = 0; i < m->count; i++) {
            const tr_field *f = tr_event_get_hashed(e->ev, m->names[i].name, m->names[i].len,
                                                    m->names[i].hash);
            if (f)
                return f;
        }
        return NULL;
    }
    const tr_fname *n = &r->fields[fi];
    if (e->by_name) { /* a filter's field, renamed as the routing entry renames it */
        for (uint32_t k = 0; k < e->nmap; k++) {
            if (strcasecmp(e->map_from[k], n->name) != 0)
                continue;
            const tr_fmap *m = &e->map_to[k];
            for (uint32_t i = 0; i < m->count; i++) {
                const tr_field *f = tr_event_get_hashed(e->ev, m->names[i].name, m->names[i].len,
                                                        m->names[i].hash);
                if (f)
                    return f;
            }
            return NULL;
        }
    }
    return tr_event_get_hashed(e->ev, n->name, n->len, n->hash);
}

/* Matches scalar value v against the item's patterns; with `groups`
 * (|all), marks each group matched instead of stopping at the first. */
static int scalar_matches(const tr_item *it, const tr_value *v, const tr_eval *e, uint64_t *groups)
{
    if (v->type == TR_NULL || !v->str) {
        for (uint32_t i = 0; i < it->npatterns; i++) {
            const tr_pattern *p = &it->patterns[i];
            if (p->kind == TR_P_EXACT && p->len == 0) {
                if (!groups)
                    return 1;
                *groups |= 1ull << (p->group & 63);
            }
        }
        return 0;
    }
    /* fold the value once for this event, if a pattern will use it */
    const char *folded = NULL;
    if (e->fold && it->npatterns && !it->patterns[0].cased && it->patterns[0].kind <= TR_P_GLOB)
        folded = tr_fold(e->fold, v->str, v->len);
    for (uint32_t i = 0; i < it->npatterns; i++) {
        const tr_pattern *p = &it->patterns[i];
        if (groups && (*groups >> (p->group & 63) & 1))
            continue;
        int hit = tr_pattern_match_folded(p, v->str, folded, v->len, e->md, e->mctx);
        if (hit < 0) { /* an engine limit: counted, said by the matcher, never a quiet "no" */
            if (e->limits)
                (*e->limits)++;
            if (e->limit_code)
                *e->limit_code = hit;
            continue;
        }
        if (hit) {
            if (!groups)
                return 1;
            *groups |= 1ull << (p->group & 63);
        }
    }
    return 0;
}

/* Any scalar of the value (a list's items, or the value itself). */
static int value_matches(const tr_item *it, const tr_value *v, const tr_eval *e, uint64_t *groups)
{
    if (v->type != TR_LIST)
        return scalar_matches(it, v, e, groups);
    for (uint32_t i = 0; i < v->as.list.count; i++)
        if (scalar_matches(it, tr_event_list_item(e->ev, v, i), e, groups))
            return 1;
    return 0;
}

static int groups_complete(const tr_item *it, uint64_t groups)
{
    unsigned n = it->ngroups > 64 ? 64 : it->ngroups;
    uint64_t want = n == 64 ? ~0ull : (1ull << n) - 1;
    return (groups & want) == want;
}

static int fieldref_eval(const tr_rule *r, const tr_item *it, const tr_eval *e)
{
    const tr_field *a = lookup(r, it->field, e), *b = lookup(r, it->ref_field, e);
    if (!a || !b || !a->value.str || !b->value.str)
        return 0;
    const char *s = a->value.str, *t = b->value.str;
    size_t n = a->value.len, m = b->value.len;
    int hit;
    int cased = it->cased;
    switch (it->ref_mode) {
    case TR_P_CONTAINS: {
        hit = 0;
        if (cased) {
            hit = memmem(s, n, t, m) != NULL;
        } else if (m <= n) {
            for (size_t i = 0; i + m <= n && !hit; i++) {
                size_t k = 0;
                while (k < m && fold[(unsigned char)s[i + k]] == fold[(unsigned char)t[k]])
                    k++;
                hit = k == m;
            }
        }
        break;
    }
    case TR_P_STARTS:
    case TR_P_ENDS: {
        hit = 0;
        if (m <= n) {
            const char *at = it->ref_mode == TR_P_STARTS ? s : s + n - m;
            size_t k = 0;
            while (k < m && (cased ? at[k] == t[k] : fold[(unsigned char)at[k]] == fold[(unsigned char)t[k]]))
                k++;
            hit = k == m;
        }
        break;
    }
    default: {
        hit = n == m;
        for (size_t k = 0; hit && k < m; k++)
            hit = cased ? s[k] == t[k] : fold[(unsigned char)s[k]] == fold[(unsigned char)t[k]];
        break;
    }
    }
    return it->neq ? !hit : hit;
}

int tr_item_eval(const tr_rule *r, const tr_item *it, tr_eval *e)
{
    switch (it->kind) {
    case TR_I_NULL: {
        const tr_field *f = lookup(r, it->field, e);
        int null = !f || f->value.type == TR_NULL;
        return it->neq ? !null : null;
    }
    case TR_I_EXISTS:
        return (lookup(r, it->field, e) != NULL) == (it->want != 0);
    case TR_I_FIELDREF:
        return fieldref_eval(r, it, e);
    default:
        break;
    }
    uint64_t groups = 0;
    uint64_t *gp = it->all ? &groups : NULL;
    if (it->field < 0) { /* keywords: every value of the event */
        size_t n = tr_event_field_count(e->ev);
        for (size_t i = 0; i < n; i++) {
            if (value_matches(it, &tr_event_field(e->ev, i)->value, e, gp))
                return 1;
            if (gp && groups_complete(it, groups))
                return 1;
        }
        return 0;
    }
    const tr_field *f = lookup(r, it->field, e);
    if (!f)
        return 0;
    if (it->neq) {
        if (f->value.type == TR_NULL)
            return 0;
        return !value_matches(it, &f->value, e, NULL);
    }
    int hit = value_matches(it, &f->value, e, gp);
    return gp ? groups_complete(it, groups) : hit;
}

int tr_conj_eval(const tr_rule *r, const tr_conj *c, tr_eval *e)
{
    for (uint32_t i = 0; i < c->nitems; i++)
        if (!tr_item_eval(r, &c->items[i], e))
            return 0;
    return 1;
}

static int search_eval(const tr_rule *r, uint32_t s, tr_eval *e)
{
    if (e->memo && e->memo[s])
        return e->memo[s] == 2;
    const tr_search *sr = &r->searches[s];
    int hit = 0;
    for (uint32_t i = 0; i < sr->nalts && !hit; i++)
        hit = tr_conj_eval(r, &sr->alts[i], e);
    if (e->memo)
        e->memo[s] = (uint8_t)(hit ? 2 : 1);
    return hit;
}

static int cond_eval(const tr_rule *r, uint32_t n, tr_eval *e)
{
    const tr_cnode *c = &r->cond[n];
    switch (c->op) {
    case TR_C_SEARCH:
        return search_eval(r, c->search, e);
    case TR_C_NOT:
        return !cond_eval(r, c->kids[0], e);
    case TR_C_AND:
        for (uint32_t i = 0; i < c->nkids; i++)
            if (!cond_eval(r, c->kids[i], e))
                return 0;
        return 1;
    case TR_C_OR:
        for (uint32_t i = 0; i < c->nkids; i++)
            if (cond_eval(r, c->kids[i], e))
                return 1;
        return 0;
    default:
        return c->value;
    }
}

int tr_rule_eval(const tr_rule *r, tr_eval *e)
{
    if (!r->cond)
        return 0;
    if (e->memo)
        memset(e->memo, 0, r->nsearches);
    if (!cond_eval(r, r->cond_root, e))
        return 0;
    for (uint32_t i = 0; i < r->nfilters; i++) {
        const tr_rule *f = &r->filters[i]->body;
        tr_eval fe = {e->ev,   NULL,       e->md, NULL,      e->map_from,   e->map_to,
                      e->nmap, 1,          e->fold, e->mctx, e->limits, e->limit_code};
        if (f->cond && cond_eval(f, f->cond_root, &fe))
            return 0;
    }
    return 1;
}
