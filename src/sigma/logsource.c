/*
 * logsource.c — the logsource router: which events each Sigma logsource
 * covers, and under which field names (docs/LOGSOURCES.md).
 *
 * A mapping file lists entries (product, category, service; conditions on
 * the event's fields; optional reader names; optional field mappings). A
 * rule is routed to every entry whose product, category and service equal
 * its own; an event is offered to the rules of every entry whose
 * conditions it meets. Entries with an exact Channel condition are indexed
 * by channel, so an event costs one hash lookup plus the few entries of its
 * channel, not a walk over all of them.
 *
 * Owns: entries live in the ruleset's arena; their route lists (which grow
 * while rules are routed) and the channel index are heap arrays the
 * ruleset frees (tr_logsource_free_routes).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "ruleset.h"

static int str_eq_ci(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcasecmp(a, b) == 0;
}

static const char *copy_scalar(tr_ruleset *rs, const tr_ynode *n)
{
    if (!n || n->kind != TR_Y_SCALAR || tr_yscalar_is_null(n))
        return NULL;
    return tr_arena_strndup(&rs->arena, n->str, n->len);
}

static int add_entry(tr_ruleset *rs, tr_lsentry *e)
{
    if (rs->nentries == rs->capentries) {
        size_t cap = rs->capentries ? rs->capentries * 2 : 64;
        tr_lsentry **l = tr_realloc(rs->entries, cap * sizeof *l);
        if (!l)
            return TR_ERR_NOMEM;
        rs->entries = l;
        rs->capentries = cap;
    }
    rs->entries[rs->nentries++] = e;
    rs->stats.logsource_entries++;
    return TR_OK;
}

static int load_entry(tr_ruleset *rs, const tr_ynode *n, const char *path)
{
    char err[512] = "";
    uint32_t line = n ? n->line : 0;
    if (!n || n->kind != TR_Y_MAP) {
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, line, "logsource entry skipped: not a map");
        return TR_OK;
    }
    tr_arena_mark mark = tr_arena_get_mark(&rs->arena);
    tr_lsentry *e = tr_arena_alloc(&rs->arena, sizeof *e);
    if (!e)
        return TR_ERR_NOMEM;
    memset(e, 0, sizeof *e);
    e->path = path;
    e->line = n->line;
    e->product = copy_scalar(rs, tr_ymap_get(n, "product"));
    e->category = copy_scalar(rs, tr_ymap_get(n, "category"));
    e->service = copy_scalar(rs, tr_ymap_get(n, "service"));
    const char *why = NULL;
    if (!e->product && !e->category && !e->service)
        why = "it names no product, category or service";
    const tr_ynode *readers = tr_ymap_get(n, "readers");
    if (!why && readers) {
        size_t k = readers->kind == TR_Y_SEQ ? readers->count : 1;
        for (size_t i = 0; i < k && !why; i++) {
            const tr_ynode *r = readers->kind == TR_Y_SEQ ? readers->items[i] : readers;
            int found = -1;
            for (size_t f = 0; tr_format_name(f); f++)
                if (r && r->kind == TR_Y_SCALAR && strcmp(tr_format_name(f), r->str) == 0)
                    found = (int)f;
            if (found < 0)
                why = "'readers' names a reader traccia does not have";
            else
                e->readers |= 1u << found;
        }
    }
    const tr_ynode *conds = tr_ymap_get(n, "conditions");
    if (!why && !conds && !readers)
        why = "it has neither conditions nor readers";
    if (!why && conds) {
        int rc = tr_rule_compile_conj(rs, &e->cond, conds, &e->conds, err, sizeof err, &line);
        if (rc == TR_ERR_NOMEM)
            return rc;
        if (rc)
            why = err;
    }
    /* an exact Channel condition puts the entry in the channel index */
    for (uint32_t i = 0; !why && i < e->conds.nitems; i++) {
        const tr_item *it = &e->conds.items[i];
        if (it->field < 0 || it->kind != TR_I_VALUES || it->neq ||
            strcasecmp(e->cond.fields[it->field].name, "Channel") != 0)
            continue;
        int exact = it->npatterns > 0;
        for (uint32_t p = 0; p < it->npatterns; p++)
            exact &= it->patterns[p].kind == TR_P_EXACT;
        if (!exact)
            continue;
        e->channels = tr_arena_alloc(&rs->arena, it->npatterns * sizeof *e->channels);
        if (!e->channels)
            return TR_ERR_NOMEM;
        for (uint32_t p = 0; p < it->npatterns; p++)
            e->channels[p] = it->patterns[p].text; /* folded already */
        e->nchannels = it->npatterns;
        e->channel = e->channels[0];
        break;
    }
    const tr_ynode *fm = tr_ymap_get(n, "fieldmappings");
    if (!why && fm) {
        if (fm->kind != TR_Y_MAP) {
            why = "'fieldmappings' must be a map";
        } else {
            e->nmap = (uint32_t)fm->count;
            e->map_from = tr_arena_alloc(&rs->arena, (fm->count + 1) * sizeof *e->map_from);
            e->map_to = tr_arena_alloc(&rs->arena, (fm->count + 1) * sizeof *e->map_to);
            if (!e->map_from || !e->map_to)
                return TR_ERR_NOMEM;
            for (size_t i = 0; i < fm->count && !why; i++) {
                const tr_ynode *k = tr_ymap_key(fm, i), *v = tr_ymap_value(fm, i);
                size_t nv = v && v->kind == TR_Y_SEQ ? v->count : 1;
                if (!k || k->kind != TR_Y_SCALAR || !v || v->kind == TR_Y_MAP || nv == 0) {
                    why = "a field mapping must be 'SigmaName: EventName' or a list of event names";
                    break;
                }
                e->map_from[i] = copy_scalar(rs, k);
                e->map_to[i].names = tr_arena_alloc(&rs->arena, nv * sizeof *e->map_to[i].names);
                if (!e->map_from[i] || !e->map_to[i].names)
                    return TR_ERR_NOMEM;
                e->map_to[i].count = (uint32_t)nv;
                for (size_t j = 0; j < nv; j++) {
                    const tr_ynode *x = v->kind == TR_Y_SEQ ? v->items[j] : v;
                    if (!x || x->kind != TR_Y_SCALAR) {
                        why = "field mapping targets must be names";
                        break;
                    }
                    const char *nm = copy_scalar(rs, x);
                    if (!nm)
                        return TR_ERR_NOMEM;
                    e->map_to[i].names[j] = (tr_fname){nm, (uint32_t)x->len, tr_name_hash(nm, x->len)};
                }
            }
        }
    }
    if (why) {
        char reason[600];
        snprintf(reason, sizeof reason, "%s", why);
        tr_arena_rollback(&rs->arena, mark);
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, line, "logsource entry skipped: %s", reason);
        return TR_OK;
    }
    return add_entry(rs, e);
}

int tr_logsource_load_doc(tr_ruleset *rs, const tr_ynode *doc, const char *path)
{
    if (!doc)
        return TR_OK;
    const tr_ynode *list = tr_ymap_get(doc, "logsources");
    if (!list || list->kind != TR_Y_SEQ) {
        tr_ruleset_diag(rs, TR_SEV_ERROR, path, doc->line,
                        "not a logsource mapping: it needs a 'logsources' list");
        return TR_OK;
    }
    for (size_t i = 0; i < list->count; i++) {
        int rc = load_entry(rs, list->items[i], path);
        if (rc)
            return rc;
    }
    return TR_OK;
}

static int add_route(tr_lsentry *e, uint32_t rule, uint32_t variant)
{
    if (e->nroutes == e->caproutes) {
        uint32_t cap = e->caproutes ? e->caproutes * 2 : 16;
        tr_route *r = tr_realloc(e->routes, cap * sizeof *r);
        if (!r)
            return TR_ERR_NOMEM;
        e->routes = r;
        e->caproutes = cap;
    }
    e->routes[e->nroutes++] = (tr_route){rule, variant};
    return TR_OK;
}

/* The rule's field table as this entry names the fields; NULL when the
 * entry renames none of them. */
static int make_variant(tr_ruleset *rs, tr_rule *r, const tr_lsentry *e, uint32_t *variant)
{
    *variant = 0;
    if (!e->nmap || !r->nfields)
        return TR_OK;
    tr_fmap *v = NULL;
    for (uint32_t f = 0; f < r->nfields; f++) {
        for (uint32_t m = 0; m < e->nmap; m++) {
            if (strcasecmp(e->map_from[m], r->fields[f].name) != 0)
                continue;
            if (!v) {
                v = tr_arena_alloc(&rs->arena, r->nfields * sizeof *v);
                if (!v)
                    return TR_ERR_NOMEM;
                memset(v, 0, r->nfields * sizeof *v);
            }
            v[f] = e->map_to[m];
        }
    }
    if (!v)
        return TR_OK;
    tr_fmap **vs = tr_arena_alloc(&rs->arena, (r->nvariants + 2) * sizeof *vs);
    if (!vs)
        return TR_ERR_NOMEM;
    if (r->nvariants)
        memcpy(vs, r->variants, r->nvariants * sizeof *vs);
    else
        vs[0] = NULL, r->nvariants = 1; /* variant 0: names as written */
    vs[r->nvariants] = v;
    r->variants = vs;
    *variant = r->nvariants++;
    return TR_OK;
}

static uint32_t fold_hash(const char *s)
{
    return tr_name_hash(s, strlen(s)); /* case-insensitive already */
}

int tr_logsource_route(tr_ruleset *rs)
{
    for (size_t i = 0; i < rs->nrules; i++) {
        tr_rule *r = rs->rules[i];
        if (r->info.kind != TR_RULE_DETECTION)
            continue;
        for (size_t k = 0; k < rs->nentries; k++) {
            tr_lsentry *e = rs->entries[k];
            if (!str_eq_ci(e->product, r->info.product) || !str_eq_ci(e->category, r->info.category) ||
                !str_eq_ci(e->service, r->info.service))
                continue;
            uint32_t variant;
            int rc = make_variant(rs, r, e, &variant);
            if (rc == TR_OK && r->info.runnable)
                rc = add_route(e, (uint32_t)i, variant);
            if (rc)
                return rc;
            r->info.routes++;
        }
    }
    /* channel index */
    uint32_t slots = 16;
    while (slots < rs->nentries * 4)
        slots *= 2;
    rs->chan_slots = tr_calloc(slots, sizeof *rs->chan_slots);
    rs->chan_next = tr_calloc(rs->nentries + 1, sizeof *rs->chan_next);
    rs->generic = tr_calloc(rs->nentries + 1, sizeof *rs->generic);
    if (!rs->chan_slots || !rs->chan_next || !rs->generic)
        return TR_ERR_NOMEM;
    rs->chan_mask = slots - 1;
    rs->channel_hash = tr_name_hash("Channel", 7);
    for (size_t k = rs->nentries; k-- > 0;) { /* built backwards so chains keep entry order */
        tr_lsentry *e = rs->entries[k];
        if (!e->nroutes)
            continue;
        if (e->nchannels != 1) {
            continue;
        }
        uint32_t s = fold_hash(e->channel) & rs->chan_mask;
        rs->chan_next[k] = rs->chan_slots[s];
        rs->chan_slots[s] = (uint32_t)k + 1;
    }
    for (size_t k = 0; k < rs->nentries; k++)
        if (rs->entries[k]->nroutes && rs->entries[k]->nchannels != 1)
            rs->generic[rs->ngeneric++] = (uint32_t)k;
    return TR_OK;
}

static int entry_covers(const tr_ruleset *rs, const tr_lsentry *e, const tr_event *ev, tr_eval *scratch)
{
    (void)rs;
    if (e->readers) {
        const char *fmt = tr_event_origin(ev)->format;
        int ok = 0;
        for (size_t f = 0; fmt && tr_format_name(f); f++)
            if ((e->readers >> f & 1u) && strcmp(tr_format_name(f), fmt) == 0)
                ok = 1;
        if (!ok)
            return 0;
    }
    tr_eval ce = {ev, NULL, scratch->md, NULL, NULL, NULL, 0, 0, scratch->fold, scratch->mctx, scratch->limits,
                  scratch->limit_code};
    return tr_conj_eval(&e->cond, &e->conds, &ce);
}

void tr_logsource_entries(const tr_ruleset *rs, const tr_event *ev, tr_eval *scratch, tr_entry_fn fn,
                          void *user)
{
    /* generic entries and channel entries, merged in entry order */
    uint32_t chain = 0;
    const tr_field *ch = tr_event_get_hashed(ev, "Channel", 7, rs->channel_hash);
    if (ch && ch->value.str && ch->value.len) {
        uint32_t s = tr_name_hash(ch->value.str, ch->value.len) & rs->chan_mask;
        chain = rs->chan_slots[s];
    }
    uint32_t g = 0;
    while (chain || g < rs->ngeneric) {
        uint32_t next_chan = chain ? chain - 1 : UINT32_MAX;
        uint32_t next_gen = g < rs->ngeneric ? rs->generic[g] : UINT32_MAX;
        uint32_t k;
        if (next_chan < next_gen) {
            k = next_chan;
            chain = rs->chan_next[k];
        } else {
            k = next_gen;
            g++;
        }
        const tr_lsentry *e = rs->entries[k];
        if (entry_covers(rs, e, ev, scratch))
            fn(user, e);
    }
}
