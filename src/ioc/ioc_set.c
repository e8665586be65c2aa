/*
 * ioc_set.c — the indicator set (traccia.h: tr_iocset): sources and
 * indicators, the index they are anchored in, choosing anchors for STIX
 * expressions, compiling the substring databases, and the rule infos the
 * matcher reports indicators as.
 *
 * The index. One open-addressing hash table over every distinct key
 * (kind, canonical value): slots hold the top 32 bits of the key hash and
 * the entry's position, so a probe touches one slot and, only when the tag
 * matches, one entry. Each entry chains the indicators anchored on it
 * (atoms). Address ranges are keys too: (family, prefix length, masked
 * address), and the set remembers which prefix lengths occur per family,
 * so an address is looked up once per length present — a prefix structure
 * whose cost depends on the lengths used (a few in practice, at most 33
 * and 129), never on the number of ranges; a bitmap of the IPv4 /24s that
 * hold a key of length 24 to 32 lets most addresses skip those lengths. Domains are keys of their own
 * and a host name is looked up once per parent domain.
 *
 * Choosing anchors (STIX). For each expression we pick a set of keys at
 * least one of which an event must contain for the expression to be true:
 * a comparison gives its values; OR the union of its children's sets; AND
 * the most selective child's set (ranked by kind: digests and URLs before
 * addresses, domains, file names, ranges, LIKE/MATCHES patterns, ports);
 * protocols and "dst_ref.type" give none. An expression without a set
 * cannot be matched without evaluating it on every event and is rejected
 * as not supported. When the expression is one comparison, or an OR of
 * equality comparisons, an anchor hit is itself a sighting (IND_DIRECT);
 * otherwise it makes the indicator a candidate the matcher evaluates.
 *
 * Rule infos are built on first use (a million indicators would otherwise
 * cost a million titles nobody reads) and published with an atomic
 * compare-and-swap, so matchers in several threads may ask at once.
 *
 * Owns: the arena (strings, expressions, keys), the heap arrays, the
 * Vectorscan databases, the PCRE2 codes and the rule infos.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <hs.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/alloc.h"
#include "../util/attack.h"
#include "../util/hash.h"
#include "ioc.h"

static const char *const type_names[TR_IOC_TYPE_COUNT] = {
    "ipv4-addr", "ipv6-addr", "domain-name", "url", "md5", "sha1", "sha256",
    "file-name", "file-path", "email-addr", "user-account", "user-agent", "command-line", "stix-pattern",
};

const char *tr_ioc_type_name(int type)
{
    return type >= 0 && type < TR_IOC_TYPE_COUNT ? type_names[type] : "";
}

static const char *const format_names[TR_IOC_FORMAT_COUNT] = {"stix", "misp", "list"};

const char *tr_ioc_format_name(int format)
{
    return format >= 0 && format < TR_IOC_FORMAT_COUNT ? format_names[format] : "";
}

void tr_ioc_diag(tr_iocset *set, int severity, const char *path, const char *where, const char *fmt, ...)
{
    if (!set->on_diag)
        return;
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    tr_diag d = {(tr_severity)severity, path ? path : "", where ? where : "", reason, TR_DIAG_INDICATOR, NULL, NULL, NULL};
    set->on_diag(set->user, &d);
}

/* ---------------------------------------------------------------- create, destroy */

tr_status tr_iocset_create(tr_iocset **out, const tr_iocset_options *opts)
{
    *out = NULL;
    tr_iocset *set = tr_calloc(1, sizeof *set);
    if (!set)
        return TR_ERR_NOMEM;
    tr_arena_init(&set->arena, 1u << 20);
    tr_sha256_init(&set->digest);
    if (opts) {
        set->on_diag = opts->on_diag;
        set->user = opts->user;
    }
    *out = set;
    return TR_OK;
}

void tr_iocset_destroy(tr_iocset *set)
{
    if (!set)
        return;
    if (set->infos) {
        for (size_t i = 0; i < set->ninds; i++)
            tr_free(atomic_load_explicit(&set->infos[i], memory_order_relaxed));
        tr_free((void *)set->infos);
    }
    for (int k = 0; k < K_COUNT; k++) {
        hs_free_database(set->hs[k].db);
        tr_free(set->hs[k].pats);
    }
    for (size_t i = 0; i < set->nregexes; i++)
        pcre2_code_free(set->regexes[i]);
    tr_free(set->regexes);
    tr_free(set->inds);
    tr_free(set->sources);
    tr_free(set->entries);
    tr_free(set->slots);
    tr_free(set->atoms);
    tr_free(set->v4map24);
    tr_arena_free(&set->arena);
    tr_free(set);
}

int tr_ioc_keep_regex(void *ctx, void *re)
{
    tr_iocset *set = ctx;
    if (set->nregexes == set->regexes_cap) {
        size_t cap = set->regexes_cap ? set->regexes_cap * 2 : 16;
        void **nr = tr_realloc(set->regexes, cap * sizeof *nr);
        if (!nr) {
            pcre2_code_free(re);
            return -1;
        }
        set->regexes = nr;
        set->regexes_cap = cap;
    }
    set->regexes[set->nregexes++] = re;
    return 0;
}

/* ---------------------------------------------------------------- sources, indicators */

int tr_ioc_source_add(tr_iocset *set, const char *path, int format)
{
    if (set->nsources == set->sources_cap) {
        size_t cap = set->sources_cap ? set->sources_cap * 2 : 8;
        tr_ioc_source *ns = tr_realloc(set->sources, cap * sizeof *ns);
        if (!ns)
            return -1;
        set->sources = ns;
        set->sources_cap = cap;
    }
    char *p = tr_arena_strndup(&set->arena, path, strlen(path));
    if (!p)
        return -1;
    tr_ioc_source *s = &set->sources[set->nsources];
    memset(s, 0, sizeof *s);
    s->path = p;
    s->format = format;
    return (int)set->nsources++;
}

ioc_ind *tr_ioc_ind_new(tr_iocset *set, uint32_t source, uint32_t line)
{
    if (set->ninds >= IOC_MAX_INDICATORS) {
        if (set->ninds == IOC_MAX_INDICATORS)
            tr_ioc_diag(set, TR_SEV_ERROR, set->sources[source].path, "",
                     "more than %u indicators in the set: the rest are not loaded", IOC_MAX_INDICATORS);
        return NULL;
    }
    if (set->ninds == set->inds_cap) {
        size_t cap = set->inds_cap ? set->inds_cap * 2 : 1024;
        ioc_ind *ni = tr_realloc(set->inds, cap * sizeof *ni);
        if (!ni)
            return NULL;
        set->inds = ni;
        set->inds_cap = cap;
    }
    ioc_ind *ind = &set->inds[set->ninds++];
    memset(ind, 0, sizeof *ind);
    ind->source = source;
    ind->line = line;
    ind->level = TR_LEVEL_HIGH;
    ind->valid_from = ind->valid_until = TR_TIME_NONE;
    return ind;
}

void tr_ioc_ind_drop(tr_iocset *set)
{
    if (set->ninds)
        set->ninds--;
}

/* ---------------------------------------------------------------- the index */

static bool key_equal(int kind, const char *a, const char *b, size_t n)
{
    return ((IOC_CI_KINDS >> kind) & 1u) ? tr_name_equal(a, b, n) != 0 : memcmp(a, b, n) == 0;
}

static int slots_grow(tr_iocset *set)
{
    size_t nslots = set->slot_mask ? (set->slot_mask + 1) * 2 : 1024;
    uint64_t *ns = tr_calloc(nslots, sizeof *ns);
    if (!ns)
        return TR_ERR_NOMEM;
    size_t mask = nslots - 1;
    for (size_t e = 0; e < set->nentries; e++) {
        uint64_t h = set->entries[e].hash;
        size_t i = (size_t)h & mask;
        while (ns[i])
            i = (i + 1) & mask;
        ns[i] = (h >> 32) << 32 | (uint64_t)(e + 1);
    }
    tr_free(set->slots);
    set->slots = ns;
    set->slot_mask = mask;
    return TR_OK;
}

/* The entry for (kind, key), created when absent; NULL when out of memory. */
static ioc_entry *entry_get(tr_iocset *set, int kind, const char *s, size_t n)
{
    if ((set->nentries + 1) * 2 > (set->slot_mask ? set->slot_mask + 1 : 0) && slots_grow(set))
        return NULL;
    uint64_t h = tr_ioc_key_hash(kind, s, n);
    size_t i = (size_t)h & set->slot_mask;
    for (;;) {
        uint64_t slot = set->slots[i];
        if (!slot)
            break;
        ioc_entry *e = &set->entries[(uint32_t)slot - 1];
        if (e->hash == h && e->kind == kind && e->len == n && key_equal(kind, e->key, s, n))
            return e;
        i = (i + 1) & set->slot_mask;
    }
    if (set->nentries == set->entries_cap) {
        size_t cap = set->entries_cap ? set->entries_cap * 2 : 1024;
        ioc_entry *ne = tr_realloc(set->entries, cap * sizeof *ne);
        if (!ne)
            return NULL;
        set->entries = ne;
        set->entries_cap = cap;
    }
    char *key = tr_arena_alloc(&set->arena, n + 1);
    if (!key)
        return NULL;
    memcpy(key, s, n);
    key[n] = '\0';
    ioc_entry *e = &set->entries[set->nentries];
    *e = (ioc_entry){.hash = h, .key = key, .len = (uint32_t)n, .kind = (uint8_t)kind};
    set->slots[i] = (h >> 32) << 32 | (uint64_t)(set->nentries + 1);
    set->nentries++;
    set->kinds |= 1u << kind;
    return e;
}

static int atom_push(tr_iocset *set, uint32_t *head, uint32_t ind)
{
    if (set->natoms == set->atoms_cap) {
        size_t cap = set->atoms_cap ? set->atoms_cap * 2 : 1024;
        if (cap > UINT32_MAX - 1)
            return TR_ERR_LIMIT;
        ioc_atom *na = tr_realloc(set->atoms, cap * sizeof *na);
        if (!na)
            return TR_ERR_NOMEM;
        set->atoms = na;
        set->atoms_cap = cap;
    }
    set->atoms[set->natoms] = (ioc_atom){ind, *head};
    *head = (uint32_t)++set->natoms;
    return TR_OK;
}

static int note_prefix(tr_iocset *set, int kind, const ioc_ip *ip)
{
    if (ip->family == 4 && ip->prefix >= 24) {
        if (!set->v4map24 && !(set->v4map24 = tr_calloc((1u << 24) / 64, sizeof *set->v4map24)))
            return TR_ERR_NOMEM;
        uint32_t a = (uint32_t)ip->addr[0] << 16 | (uint32_t)ip->addr[1] << 8 | ip->addr[2];
        set->v4map24[a >> 6] |= 1ull << (a & 63);
    }
    int k = kind - K_IP, f = ip->family == 4 ? 0 : 1;
    uint8_t *l = set->plen[k][f];
    uint8_t n = set->nplen[k][f];
    for (uint8_t i = 0; i < n; i++)
        if (l[i] == ip->prefix)
            return TR_OK;
    uint8_t at = n; /* longest first */
    while (at > 0 && l[at - 1] < ip->prefix) {
        l[at] = l[at - 1];
        at--;
    }
    l[at] = ip->prefix;
    set->nplen[k][f] = (uint8_t)(n + 1);
    return TR_OK;
}

int tr_ioc_index_add(tr_iocset *set, uint32_t ind, int kind, const char *s, size_t n, bool *dup)
{
    if (dup)
        *dup = false;
    char ipkey[18];
    if ((IOC_IP_KINDS >> kind) & 1u) {
        /* s is an ioc_ip */
        const ioc_ip *ip = (const ioc_ip *)(const void *)s;
        if (note_prefix(set, kind, ip))
            return TR_ERR_NOMEM;
        n = tr_ioc_ip_key(ip, ipkey);
        s = ipkey;
    }
    ioc_entry *e = entry_get(set, kind, s, n);
    if (!e)
        return TR_ERR_NOMEM;
    if (dup && e->head) {
        const ioc_ind *prev = &set->inds[set->atoms[e->head - 1].ind];
        const ioc_ind *cur = &set->inds[ind];
        if (prev->source == cur->source && !prev->expr && !cur->expr && prev != cur) {
            *dup = true;
            return TR_OK;
        }
    }
    return atom_push(set, &e->head, ind);
}

int tr_ioc_hs_add(tr_iocset *set, uint32_t ind, int kind, const char *expr, unsigned flags)
{
    ioc_hsdb *db = &set->hs[kind];
    if (db->n == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 16;
        ioc_hspat *np = tr_realloc(db->pats, cap * sizeof *np);
        if (!np)
            return TR_ERR_NOMEM;
        db->pats = np;
        db->cap = cap;
    }
    char *e = tr_arena_strndup(&set->arena, expr, strlen(expr));
    if (!e)
        return TR_ERR_NOMEM;
    ioc_hspat *p = &db->pats[db->n++];
    *p = (ioc_hspat){.expr = e, .flags = flags, .head = 0};
    set->kinds |= 1u << kind;
    return atom_push(set, &p->head, ind);
}

/* ---------------------------------------------------------------- anchors */

/* Selectivity of one anchor value: higher is rarer in events. -1: none. */
static int rank_value(int kind, int op, const ioc_val *v)
{
    if (op == OP_LIKE || op == OP_CONTAINS) {
        /* the longest run of literal characters decides how rare a match is */
        size_t run = 0, best = 0;
        for (uint32_t i = 0; i < v->len; i++) {
            if (op == OP_LIKE && (v->s[i] == '%' || v->s[i] == '_'))
                run = 0;
            else if (++run > best)
                best = run;
        }
        return best >= 8 ? 4 : best >= 3 ? 3 : 1;
    }
    if (op == OP_MATCHES)
        return 2;
    switch (kind) {
    case K_HASH: return 12;
    case K_URL: return 11;
    case K_EMAIL: return 10;
    case K_CMDLINE:
    case K_UA:
    case K_PATH: return 9;
    case K_IP:
    case K_IP_SRC:
    case K_IP_DST:
        return v->ip.prefix == (v->ip.family == 4 ? 32 : 128) ? 8 : v->ip.prefix >= 16 ? 5 : 2;
    case K_DOMAIN: return 7;
    case K_FILENAME:
    case K_DIR:
    case K_USER: return 6;
    case K_PORT_SRC:
    case K_PORT_DST: return 1;
    default: return -1; /* protocols */
    }
}

static int rank_expr(const ioc_expr *e)
{
    switch (e->type) {
    case E_TRUE:
        return -1;
    case E_CMP: {
        int r = 100;
        for (uint32_t i = 0; i < e->cmp->nvalues; i++) {
            int v = rank_value(e->cmp->kind, e->cmp->op, &e->cmp->values[i]);
            if (v < r)
                r = v;
        }
        return r;
    }
    case E_OR: {
        int r = 100;
        for (uint32_t i = 0; i < e->n; i++) {
            int v = rank_expr(e->kids[i]);
            if (v < r)
                r = v;
        }
        return r;
    }
    default: { /* AND */
        int r = -1;
        for (uint32_t i = 0; i < e->n; i++) {
            int v = rank_expr(e->kids[i]);
            if (v > r)
                r = v;
        }
        return r;
    }
    }
}

static bool direct_expr(const ioc_expr *e)
{
    if (e->type == E_CMP)
        return e->cmp->op == OP_EQ;
    if (e->type == E_OR) {
        for (uint32_t i = 0; i < e->n; i++)
            if (!direct_expr(e->kids[i]))
                return false;
        return true;
    }
    return false;
}

/* Appends s to out as a Vectorscan literal: ASCII punctuation escaped,
 * UTF-8 bytes kept as they are (the database is compiled in UTF-8 mode). */
static void hs_escape(char *out, size_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80) {
            out[(*o)++] = (char)c;
        } else {
            out[(*o)++] = '\\';
            out[(*o)++] = 'x';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        }
    }
}

/* A LIKE pattern as an anchored Vectorscan expression. */
static char *like_to_hs(const char *s, size_t n)
{
    char *out = tr_malloc(n * 4 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '^';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            out[o++] = '.';
            out[o++] = '*';
        } else if (s[i] == '_') {
            out[o++] = '.';
        } else {
            hs_escape(out, &o, s + i, 1);
        }
    }
    out[o++] = '$';
    out[o] = '\0';
    return out;
}

/* Adds the anchors of e; with dry set, only checks that the substring
 * engine accepts every pattern among them (TR_ERR_UNSUPPORTED if not). */
static int anchor_add(tr_iocset *set, uint32_t ind, const ioc_expr *e, bool dry)
{
    if (e->type == E_OR) {
        for (uint32_t i = 0; i < e->n; i++) {
            int rc = anchor_add(set, ind, e->kids[i], dry);
            if (rc)
                return rc;
        }
        return TR_OK;
    }
    if (e->type == E_AND) {
        int best = -1;
        const ioc_expr *pick = NULL;
        for (uint32_t i = 0; i < e->n; i++) {
            int r = rank_expr(e->kids[i]);
            if (r > best) {
                best = r;
                pick = e->kids[i];
            }
        }
        return pick ? anchor_add(set, ind, pick, dry) : TR_ERR_UNSUPPORTED;
    }
    if (e->type != E_CMP)
        return TR_ERR_UNSUPPORTED;
    const ioc_cmp *c = e->cmp;
    bool ci = (IOC_CI_KINDS >> c->kind) & 1u;
    for (uint32_t i = 0; i < c->nvalues; i++) {
        const ioc_val *v = &c->values[i];
        int rc;
        if (c->op == OP_EQ) {
            if (dry)
                continue;
            if ((IOC_IP_KINDS >> c->kind) & 1u)
                rc = tr_ioc_index_add(set, ind, c->kind, (const char *)&v->ip, sizeof v->ip, NULL);
            else
                rc = tr_ioc_index_add(set, ind, c->kind, v->s, v->len, NULL);
        } else {
            char *expr;
            unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | HS_FLAG_UTF8;
            if (c->op == OP_LIKE) {
                expr = like_to_hs(v->s, v->len);
                flags |= HS_FLAG_DOTALL | (ci ? HS_FLAG_CASELESS : 0u);
            } else {
                expr = tr_strndup(v->s, v->len);
                flags |= HS_FLAG_PREFILTER;
            }
            if (!expr)
                return TR_ERR_NOMEM;
            if (dry) {
                hs_expr_info_t *info = NULL;
                hs_compile_error_t *cerr = NULL;
                rc = hs_expression_info(expr, flags, &info, &cerr) == HS_SUCCESS ? TR_OK : TR_ERR_UNSUPPORTED;
                hs_free_compile_error(cerr);
                free(info); /* Vectorscan allocates it with the default allocator */
            } else {
                rc = tr_ioc_hs_add(set, ind, c->kind, expr, flags);
            }
            tr_free(expr);
        }
        if (rc)
            return rc;
    }
    return TR_OK;
}

int tr_ioc_anchor_expr(tr_iocset *set, uint32_t ind, const ioc_expr *e, char *why, size_t whycap)
{
    if (rank_expr(e) < 0) {
        snprintf(why, whycap, "no comparison in the pattern can be looked up (protocols and types alone "
                              "would have to be tested on every event)");
        return TR_ERR_UNSUPPORTED;
    }
    int rc = anchor_add(set, ind, e, true);
    if (rc == TR_ERR_UNSUPPORTED) {
        snprintf(why, whycap, "a MATCHES or LIKE pattern the substring engine does not accept, with no "
                              "other comparison to look up");
        return rc;
    }
    if (rc != TR_OK)
        return rc;
    /* Anchors are added in full or not at all: remember where the tables
     * stood, so that running out of memory half-way leaves no atom pointing
     * at the dropped indicator. Entries created meanwhile stay (empty
     * chains are harmless). */
    size_t natoms = set->natoms;
    size_t hsn[K_COUNT];
    for (int k = 0; k < K_COUNT; k++)
        hsn[k] = set->hs[k].n;
    rc = anchor_add(set, ind, e, false);
    if (rc != TR_OK) {
        /* unlink this indicator's atoms: they are the newest, at the heads */
        for (size_t i = 0; i < set->nentries; i++)
            while (set->entries[i].head > natoms)
                set->entries[i].head = set->atoms[set->entries[i].head - 1].next;
        for (int k = 0; k < K_COUNT; k++)
            set->hs[k].n = hsn[k];
        set->natoms = natoms;
        return rc;
    }
    set->inds[ind].flags |= direct_expr(e) ? IND_DIRECT : 0;
    return TR_OK;
}

/* ---------------------------------------------------------------- loading */

static int add_folder(tr_iocset *set, const char *path, unsigned depth);

static int add_file(tr_iocset *set, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "cannot open: %s", strerror(errno));
        set->stats.files_failed++;
        return TR_OK;
    }
    size_t cap = 1u << 16, n = 0;
    char *buf = tr_malloc(cap);
    int rc = TR_OK;
    while (buf) {
        if (n == cap) {
            if (cap >= IOC_MAX_FILE) {
                tr_ioc_diag(set, TR_SEV_ERROR, path, "", "larger than %u MiB: not loaded", IOC_MAX_FILE >> 20);
                set->stats.files_failed++;
                tr_free(buf);
                fclose(f);
                return TR_OK;
            }
            size_t ncap = cap * 2 > IOC_MAX_FILE ? IOC_MAX_FILE : cap * 2;
            char *nb = tr_realloc(buf, ncap);
            if (!nb) {
                tr_free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    if (!buf) {
        fclose(f);
        return TR_ERR_NOMEM;
    }
    if (ferror(f)) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "read error");
        set->stats.files_failed++;
    } else {
        rc = tr_ioc_load_buffer(set, path, buf, n);
    }
    tr_free(buf);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_folder(tr_iocset *set, const char *path, unsigned depth)
{
    char manifest[4096];
    struct stat st;
    if (snprintf(manifest, sizeof manifest, "%s/manifest.json", path) < (int)sizeof manifest &&
        stat(manifest, &st) == 0 && S_ISREG(st.st_mode))
        return tr_ioc_load_misp_feed(set, path);
    if (depth >= IOC_MAX_WALK_DEPTH) {
        tr_ioc_diag(set, TR_SEV_WARNING, path, "", "folder nested deeper than %u levels: not read", IOC_MAX_WALK_DEPTH);
        return TR_OK;
    }
    DIR *d = opendir(path);
    if (!d) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "cannot open folder: %s", strerror(errno));
        set->stats.files_failed++;
        return TR_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = TR_OK;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = tr_realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = TR_ERR_NOMEM;
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = tr_strdup(ent->d_name))) {
            rc = TR_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == TR_OK)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == TR_OK; i++) {
        char *child = tr_malloc(strlen(path) + strlen(names[i]) + 2);
        if (!child) {
            rc = TR_ERR_NOMEM;
            break;
        }
        sprintf(child, "%s/%s", path, names[i]);
        if (lstat(child, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = add_folder(set, child, depth + 1);
            else if (S_ISREG(st.st_mode))
                rc = add_file(set, child);
        }
        tr_free(child);
    }
    for (size_t i = 0; i < n; i++)
        tr_free(names[i]);
    tr_free(names);
    return rc;
}

tr_status tr_iocset_add_path(tr_iocset *set, const char *path)
{
    if (!set || !path)
        return TR_ERR_ARG;
    if (set->compiled)
        return TR_ERR_ARG;
    struct stat st;
    if (stat(path, &st) != 0) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "no such file or folder");
        return TR_ERR_NOTFOUND;
    }
    if (S_ISDIR(st.st_mode))
        return (tr_status)add_folder(set, path, 0);
    if (!S_ISREG(st.st_mode)) { /* a FIFO or a device would block or never end */
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "not a regular file: not read");
        set->stats.files_failed++;
        return TR_OK;
    }
    return (tr_status)add_file(set, path);
}

tr_status tr_iocset_add_memory(tr_iocset *set, const char *name, const void *data, size_t len)
{
    if (!set || (!data && len))
        return TR_ERR_ARG;
    if (set->compiled)
        return TR_ERR_ARG;
    if (len > IOC_MAX_FILE) {
        tr_ioc_diag(set, TR_SEV_ERROR, name, "", "larger than %u MiB: not loaded", IOC_MAX_FILE >> 20);
        set->stats.files_failed++;
        return TR_OK;
    }
    return (tr_status)tr_ioc_load_buffer(set, name ? name : "", data ? data : "", len);
}

/* ---------------------------------------------------------------- compiling */

/* Drops a loaded indicator that cannot be matched after all. */
static void unload(tr_iocset *set, uint32_t ind)
{
    ioc_ind *x = &set->inds[ind];
    if (x->flags & IND_DEAD)
        return;
    x->flags |= IND_DEAD; /* dead: never reported */
    tr_ioc_source *s = &set->sources[x->source];
    s->counts.loaded--;
    s->counts.rejected++;
    s->counts.unsupported++;
    s->counts.per_type[x->type]--;
    set->stats.counts.loaded--;
    set->stats.counts.rejected++;
    set->stats.counts.unsupported++;
    set->stats.counts.per_type[x->type]--;
}

static int compile_db(tr_iocset *set, int kind)
{
    ioc_hsdb *db = &set->hs[kind];
    if (!db->n || db->db) /* nothing to build, or built by an earlier call that then ran out of memory */
        return TR_OK;
    const char **exprs = tr_malloc(db->n * sizeof *exprs);
    unsigned *flags = tr_malloc(db->n * sizeof *flags);
    unsigned *ids = tr_malloc(db->n * sizeof *ids);
    int rc = TR_OK;
    if (!exprs || !flags || !ids) {
        rc = TR_ERR_NOMEM;
        goto done;
    }
    /* A pattern Vectorscan refuses in the full database (each was accepted
     * alone at load time, so this is rare) is dropped with its indicators,
     * and the rest compiled again. */
    for (size_t attempt = 0; attempt <= db->n; attempt++) {
        size_t k = 0;
        for (size_t i = 0; i < db->n; i++) {
            if (!db->pats[i].head)
                continue;
            exprs[k] = db->pats[i].expr;
            flags[k] = db->pats[i].flags;
            ids[k] = (unsigned)i;
            k++;
        }
        if (k == 0)
            break;
        hs_compile_error_t *cerr = NULL;
        hs_database_t *hdb = NULL;
        if (hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &hdb, &cerr) == HS_SUCCESS) {
            db->db = hdb;
            break;
        }
        int bad = cerr ? cerr->expression : -1;
        if (bad < 0 || (size_t)bad >= k) {
            tr_ioc_diag(set, TR_SEV_ERROR, "", "", "substring database not built (%s): the indicators that need it "
                     "are not matched", cerr && cerr->message ? cerr->message : "Vectorscan error");
            hs_free_compile_error(cerr);
            for (size_t i = 0; i < db->n; i++)
                for (uint32_t a = db->pats[i].head; a; a = set->atoms[a - 1].next)
                    unload(set, set->atoms[a - 1].ind);
            break;
        }
        ioc_hspat *pat = &db->pats[ids[bad]];
        for (uint32_t a = pat->head; a; a = set->atoms[a - 1].next) {
            const ioc_ind *x = &set->inds[set->atoms[a - 1].ind];
            char where[64];
            snprintf(where, sizeof where, "line %u", x->line);
            tr_ioc_diag(set, TR_SEV_ERROR, set->sources[x->source].path, where, "indicator %s: pattern '%.100s' "
                     "not accepted by the substring engine (%s): not loaded", x->id ? x->id : "",
                     pat->expr, cerr->message);
            unload(set, set->atoms[a - 1].ind);
        }
        hs_free_compile_error(cerr);
        pat->head = 0;
    }
done:
    tr_free(exprs);
    tr_free(flags);
    tr_free(ids);
    return rc;
}

tr_status tr_iocset_compile(tr_iocset *set)
{
    if (!set)
        return TR_ERR_ARG;
    if (set->compiled)
        return TR_OK;
    for (int k = 0; k < K_COUNT; k++) {
        int rc = compile_db(set, k);
        if (rc)
            return (tr_status)rc;
    }
    set->infos = tr_calloc(set->ninds ? set->ninds : 1, sizeof *set->infos);
    if (!set->infos)
        return TR_ERR_NOMEM;
    set->stats.keys = set->nentries;
    set->compiled = true;
    return TR_OK;
}

/* ---------------------------------------------------------------- queries */

size_t tr_iocset_count(const tr_iocset *set) { return set ? set->ninds : 0; }

const tr_iocset_stats *tr_iocset_get_stats(const tr_iocset *set) { return &set->stats; }

size_t tr_iocset_source_count(const tr_iocset *set) { return set->nsources; }

const tr_ioc_source *tr_iocset_source(const tr_iocset *set, size_t i)
{
    return i < set->nsources ? &set->sources[i] : NULL;
}

int tr_iocset_indicator_type(const tr_iocset *set, size_t i) { return i < set->ninds ? set->inds[i].type : -1; }

const char *tr_iocset_indicator_value(const tr_iocset *set, size_t i)
{
    return i < set->ninds ? set->inds[i].value : NULL;
}

const tr_ioc_source *tr_iocset_indicator_source(const tr_iocset *set, size_t i)
{
    return i < set->ninds ? &set->sources[set->inds[i].source] : NULL;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Writes at most max bytes of s, "..." when cut. */
static size_t clip(char *out, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        memcpy(out, s, n);
        return n;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80) /* do not cut a UTF-8 sequence */
        k--;
    memcpy(out, s, k);
    memcpy(out + k, "...", 3);
    return k + 3;
}

static tr_rule_info *build_info(const tr_iocset *set, size_t i)
{
    const ioc_ind *x = &set->inds[i];
    const tr_ioc_source *src = &set->sources[x->source];
    char id[64 + 4096];
    if (x->id)
        snprintf(id, sizeof id, "%s", x->id);
    else
        snprintf(id, sizeof id, "%s:%u", src->path, x->line);
    char title[600];
    size_t t = 0;
    t += (size_t)snprintf(title, sizeof title, "Indicator %s ", tr_ioc_type_name(x->type));
    if (x->type == TR_IOC_PATTERN && x->name) {
        t = (size_t)snprintf(title, sizeof title, "Indicator ");
        t += clip(title + t, x->name, 200);
    } else {
        t += clip(title + t, x->value ? x->value : "", 200);
    }
    t += (size_t)snprintf(title + t, sizeof title - t, " (%s)", base_name(src->path));
    size_t idl = strlen(id);
    size_t attack = tr_attack_size(x->tags, x->ntags); /* first: pointers want alignment */
    tr_rule_info *info = tr_malloc(sizeof *info + attack + idl + 1 + t + 1);
    if (!info)
        return NULL;
    memset(info, 0, sizeof *info);
    tr_attack_fill(info + 1, x->tags, x->ntags, &info->techniques, &info->ntechniques, &info->tactics,
                   &info->ntactics);
    char *p = (char *)(info + 1) + attack;
    memcpy(p, id, idl + 1);
    info->id = p;
    p += idl + 1;
    memcpy(p, title, t);
    p[t] = '\0';
    info->title = p;
    info->kind = TR_RULE_INDICATOR;
    info->name = x->name;
    info->date = x->stix ? x->stix->created : NULL;
    info->level = x->level;
    info->tags = x->tags;
    info->ntags = x->ntags;
    info->path = src->path;
    info->line = x->line;
    info->runnable = !(x->flags & IND_DEAD);
    info->why_not = info->runnable ? NULL : "not accepted by the substring engine";
    info->index = i;
    return info;
}

const tr_rule_info *tr_iocset_indicator(const tr_iocset *set, size_t i)
{
    if (!set || !set->infos || i >= set->ninds)
        return NULL;
    tr_rule_info *p = atomic_load_explicit(&set->infos[i], memory_order_acquire);
    if (p)
        return p;
    p = build_info(set, i);
    if (!p)
        return NULL;
    tr_rule_info *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&set->infos[i], &expected, p, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        tr_free(p); /* another thread was first */
        return expected;
    }
    return p;
}

void tr_iocset_digest(const tr_iocset *set, char hex[65])
{
    tr_sha256 copy = set->digest; /* the running state goes on */
    uint8_t d[TR_SHA256_DIGEST_SIZE];
    tr_sha256_final(&copy, d);
    tr_sha256_hex(d, hex);
}
