/*
 * ioc_match.c — the indicator matcher (traccia.h: tr_ioc_matcher): one
 * pass over an event's fields that looks every indicator up at once.
 *
 * Workload: every event of a hunt (hundreds of thousands per second), most
 * of which hold no indicator, against sets of a few to millions of
 * indicators. The cost per event must not grow with the set, so nothing
 * here loops over indicators: each field value is classified by its shape
 * (and, for a few kinds, by its field's role) into candidate strings —
 *
 *   an address ("203.0.113.7", "1.2.3.4:443", "[2001:db8::1]:443")
 *   a digest (32/40/64 hex digits; each entry of Sysmon's Hashes list)
 *   a URL (its canonical form, its host, the file name at the end of its path)
 *   a path (the whole path, and the file name after the last \ or /)
 *   an e-mail address (and its domain)
 *   a host name (itself and each parent domain: a.b.evil.com, b.evil.com, evil.com)
 *   a bare file name ("cmd.exe")
 *   by role: command lines (exact, and URLs inside them), user agents,
 *   user names, ports, protocols, source and destination addresses
 *
 * — and each candidate costs one probe of the set's hash table (an address
 * one probe per prefix length in use, after a /24 bitmap), or one
 * Vectorscan scan for the few kinds with substring or regular-expression
 * indicators. A value's shape comes from one pass over its bytes with a
 * class table. Evidence repeats itself (image paths, user names, server
 * addresses) and the set never changes, so two small caches skip repeated
 * work: keys known to be absent, and short values whose whole scan reached
 * no indicator.
 *
 * Field roles come from the field's name (full name, alias, or last path
 * component), computed once per distinct name and kept in a direct-mapped
 * cache keyed by the name's hash, length and last bytes. Windows' own
 * metadata (Event.System.*), namespace declarations and GUIDs are skipped
 * outright, and numbers are looked at only as ports.
 *
 * A compound STIX indicator whose anchor was seen is evaluated in full
 * after the pass: each of its comparisons runs the same classification
 * over the event, restricted to its one kind (the "evaluate" mode of the
 * same code, so matching and evaluation cannot disagree).
 *
 * Owns: the per-indicator marks, the Vectorscan scratch, the PCRE2 match
 * data, the candidate list and the buffers; nothing is allocated per event
 * once the candidate list has grown to its working size.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs.h>
#include <pcre2.h>
#include <stdint.h>
#include <string.h>

#include "../event/event.h"
#include "../util/alloc.h"
#include "../util/hash.h"
#include "../util/utf8.h"
#include "ioc.h"

#define BIT(k) (1u << (k))
#define NEG_SLOTS 4096u  /* absent-key cache: 32 KiB */
#define VNEG_SLOTS 8192u /* values that held nothing: 64 KiB */
#define ROLE_BITS 11u    /* field-name role cache: 2,048 slots of 32 bytes */
#define ROLE_SLOTS (1u << ROLE_BITS)
#define MAX_URLS_PER_VALUE 64u

enum role {
    ROLE_NONE = 0, ROLE_SKIP, ROLE_CMDLINE, ROLE_TEXT, ROLE_UA, ROLE_SRC_IP, ROLE_DST_IP, ROLE_SRC_PORT,
    ROLE_DST_PORT, ROLE_USER, ROLE_PROTO
};

enum { MODE_PROBE = 0, MODE_EVAL };

/* Byte classes for the shape scan of a value. */
enum {
    C_DIGIT = 1,    /* 0-9 */
    C_HEXL = 2,     /* a-f A-F */
    C_ALPHA = 4,    /* other ASCII letters */
    C_HOSTP = 8,    /* - _ */
    C_DOT = 16,     /* . */
    C_SPECIAL = 32, /* \ / @ : */
    C_EQ = 64,      /* = */
    C_QUOTE = 128,  /* " */
    C_OTHER = 256,  /* anything else: punctuation, non-ASCII */
    C_SPACE = 512   /* spaces and control characters */
};

typedef struct cand {
    uint32_t ind;
    const tr_field *field;
    const tr_value *value;
} cand;

typedef struct role_slot {
    uint64_t tail[2];   /* the name's last 16 bytes */
    uint32_t hash, len; /* len 0: empty */
    uint8_t role;
} role_slot;

struct tr_ioc_matcher {
    const tr_iocset *set;
    uint32_t epoch;
    uint32_t *seen;            /* [ninds]: the epoch of the last event that handled it */
    hs_scratch_t *hs;
    pcre2_match_data *md;
    bool hs_utf8[K_COUNT];     /* the kind's database holds UTF-8 mode patterns */
    uint64_t neg[NEG_SLOTS];
    uint64_t vneg[VNEG_SLOTS]; /* hashes of (role, value) whose scan found no indicator */
    bool touched;              /* the scan of the current value reached an indicator */
    role_slot roles[ROLE_SLOTS];
    uint32_t h_stem, h_host, h_query; /* name hashes of the W3C fields a URL is rebuilt from */
    /* the event */
    const tr_event *ev;
    tr_time time;
    const tr_field *field;     /* where the scan is */
    const tr_value *value;
    tr_detection_fn fn;
    void *user;
    size_t hits;
    cand *cands;
    size_t ncands, cands_cap;
    int hs_kind;               /* kind of the database being scanned */
    /* evaluation */
    int mode;
    const ioc_cmp *ecmp;
    bool ehit;
    char urlbuf[IOC_MAX_VALUE + 64];
    char w3cbuf[IOC_MAX_VALUE + 64];
    char valbuf[TR_IOC_VALUE_MAX + 4];
    uint16_t ctab[256];        /* byte classes C_* */
    char *rbuf;                /* repaired copies for the substring databases */
    size_t rcap;
};

static inline bool is_alpha(unsigned char c) { return (unsigned)((c | 0x20) - 'a') < 26u; }
static inline bool is_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline bool is_hexc(unsigned char c) { return is_digit(c) || (unsigned)((c | 0x20) - 'a') < 6u; }

/* ---------------------------------------------------------------- create */

tr_status tr_ioc_matcher_create(tr_ioc_matcher **out, const tr_iocset *set)
{
    *out = NULL;
    if (!set || !set->compiled)
        return TR_ERR_ARG;
    tr_ioc_matcher *m = tr_calloc(1, sizeof *m);
    if (!m)
        return TR_ERR_NOMEM;
    m->set = set;
    m->seen = tr_calloc(set->ninds ? set->ninds : 1, sizeof *m->seen);
    m->cands_cap = 64;
    m->cands = tr_malloc(m->cands_cap * sizeof *m->cands);
    m->md = pcre2_match_data_create(1, NULL);
    if (!m->seen || !m->cands || !m->md) {
        tr_ioc_matcher_destroy(m);
        return TR_ERR_NOMEM;
    }
    for (int k = 0; k < K_COUNT; k++) {
        if (!set->hs[k].db)
            continue;
        if (hs_alloc_scratch(set->hs[k].db, &m->hs) != HS_SUCCESS) {
            tr_ioc_matcher_destroy(m);
            return TR_ERR_NOMEM;
        }
        for (size_t i = 0; i < set->hs[k].n; i++)
            if (set->hs[k].pats[i].flags & HS_FLAG_UTF8)
                m->hs_utf8[k] = true;
    }
    for (int c = 0; c < 256; c++) {
        uint16_t k = C_OTHER;
        if (c >= '0' && c <= '9')
            k = C_DIGIT;
        else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            k = C_HEXL;
        else if ((c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z'))
            k = C_ALPHA;
        else if (c == '-' || c == '_')
            k = C_HOSTP;
        else if (c == '.')
            k = C_DOT;
        else if (c == '\\' || c == '/' || c == '@' || c == ':')
            k = C_SPECIAL;
        else if (c == '=')
            k = C_EQ;
        else if (c == '"')
            k = C_QUOTE;
        else if (c <= ' ' || c == 0x7f)
            k = C_SPACE | C_OTHER;
        m->ctab[c] = k;
    }
    m->h_stem = tr_name_hash("cs-uri-stem", 11);
    m->h_host = tr_name_hash("cs-host", 7);
    m->h_query = tr_name_hash("cs-uri-query", 12);
    *out = m;
    return TR_OK;
}

void tr_ioc_matcher_destroy(tr_ioc_matcher *m)
{
    if (!m)
        return;
    if (m->hs)
        hs_free_scratch(m->hs);
    pcre2_match_data_free(m->md);
    tr_free(m->seen);
    tr_free(m->cands);
    tr_free(m->rbuf);
    tr_free(m);
}

/* ---------------------------------------------------------------- roles */

#define R(name, role) {name, sizeof name - 1, role}
static const struct {
    const char *name;
    uint8_t len, role;
} role_names[] = {
    R("guid", ROLE_SKIP), R("provider_guid", ROLE_SKIP), R("activityid", ROLE_SKIP),
    R("relatedactivityid", ROLE_SKIP), R("correlation_activityid", ROLE_SKIP), R("keywords", ROLE_SKIP),
    R("channel", ROLE_SKIP), R("provider_name", ROLE_SKIP), R("systemtime", ROLE_SKIP),
    R("eventrecordid", ROLE_SKIP), R("utctime", ROLE_SKIP), R("processguid", ROLE_SKIP),
    R("parentprocessguid", ROLE_SKIP), R("logonguid", ROLE_SKIP), R("sourceprocessguid", ROLE_SKIP),
    R("targetprocessguid", ROLE_SKIP), R("targetlogonguid", ROLE_SKIP), R("commandline", ROLE_CMDLINE),
    R("parentcommandline", ROLE_CMDLINE), R("processcommandline", ROLE_CMDLINE),
    R("command_line", ROLE_CMDLINE), R("cmdline", ROLE_CMDLINE), R("process.command_line", ROLE_CMDLINE),
    R("process.parent.command_line", ROLE_CMDLINE), R("scriptblocktext", ROLE_TEXT), R("payload", ROLE_TEXT),
    R("contextinfo", ROLE_TEXT), R("hostapplication", ROLE_TEXT), R("cs-uri-query", ROLE_TEXT),
    R("message", ROLE_TEXT), R("cs-user-agent", ROLE_UA), R("useragent", ROLE_UA), R("user-agent", ROLE_UA),
    R("user_agent", ROLE_UA), R("http_user_agent", ROLE_UA), R("user_agent.original", ROLE_UA),
    R("c-useragent", ROLE_UA), R("sourceip", ROLE_SRC_IP), R("src_ip", ROLE_SRC_IP), R("srcip", ROLE_SRC_IP),
    R("c-ip", ROLE_SRC_IP), R("clientip", ROLE_SRC_IP), R("client-ip", ROLE_SRC_IP),
    R("ipaddress", ROLE_SRC_IP), R("sourceaddress", ROLE_SRC_IP), R("clientipaddress", ROLE_SRC_IP),
    R("source.ip", ROLE_SRC_IP), R("client.ip", ROLE_SRC_IP), R("src_addr", ROLE_SRC_IP),
    R("destinationip", ROLE_DST_IP), R("dst_ip", ROLE_DST_IP), R("dstip", ROLE_DST_IP),
    R("s-ip", ROLE_DST_IP), R("destaddress", ROLE_DST_IP), R("destinationaddress", ROLE_DST_IP),
    R("serverip", ROLE_DST_IP), R("destination.ip", ROLE_DST_IP), R("server.ip", ROLE_DST_IP),
    R("dst_addr", ROLE_DST_IP), R("sourceport", ROLE_SRC_PORT), R("src_port", ROLE_SRC_PORT),
    R("srcport", ROLE_SRC_PORT), R("c-port", ROLE_SRC_PORT), R("ipport", ROLE_SRC_PORT),
    R("source.port", ROLE_SRC_PORT), R("client.port", ROLE_SRC_PORT), R("clientport", ROLE_SRC_PORT),
    R("destinationport", ROLE_DST_PORT), R("dst_port", ROLE_DST_PORT), R("dstport", ROLE_DST_PORT),
    R("s-port", ROLE_DST_PORT), R("destport", ROLE_DST_PORT), R("destination.port", ROLE_DST_PORT),
    R("server.port", ROLE_DST_PORT), R("serverport", ROLE_DST_PORT), R("user", ROLE_USER),
    R("username", ROLE_USER), R("targetusername", ROLE_USER), R("subjectusername", ROLE_USER),
    R("cs-username", ROLE_USER), R("accountname", ROLE_USER), R("samaccountname", ROLE_USER),
    R("user.name", ROLE_USER), R("user_id", ROLE_USER), R("clientusername", ROLE_USER),
    R("protocol", ROLE_PROTO), R("transport", ROLE_PROTO), R("network.transport", ROLE_PROTO),
};
#undef R

static int role_lookup(const char *s, size_t n)
{
    if (n >= 5 && tr_name_equal(s, "xmlns", 5))
        return ROLE_SKIP;
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].len == n && tr_name_equal(s, role_names[i].name, n))
            return role_names[i].role;
    return -1;
}

static int role_compute(const tr_field *f)
{
    /* Windows' own metadata (provider, channel, computer, SID, times,
     * GUIDs): nothing an attacker chose */
    if (f->name_len > 13 && memcmp(f->name, "Event.System.", 13) == 0)
        return ROLE_SKIP;
    int r = role_lookup(f->name, f->name_len);
    if (r >= 0)
        return r;
    if (f->alias && (r = role_lookup(f->alias, f->alias_len)) >= 0)
        return r;
    const char *dot = memrchr(f->name, '.', f->name_len);
    if (dot && (r = role_lookup(dot + 1, f->name_len - (size_t)(dot + 1 - f->name))) >= 0)
        return r;
    return ROLE_NONE;
}

/* The role of a field, cached by its name: the hash, the length and the
 * last 16 bytes of the name are compared (names may live in a batch arena,
 * so the pointer cannot be the key; flattened names differ in their last
 * components, and two that agree in hash, length and tail do not occur). */
static inline void name_tail(const tr_field *f, uint64_t t[2])
{
    if (f->name_len >= 16) {
        memcpy(&t[0], f->name + f->name_len - 16, 8);
        memcpy(&t[1], f->name + f->name_len - 8, 8);
    } else {
        char b[16] = {0};
        for (uint32_t i = 0; i < f->name_len; i++)
            b[i] = f->name[i];
        memcpy(t, b, 16);
    }
}

static inline int role_of(tr_ioc_matcher *m, const tr_field *f)
{
    role_slot *s = &m->roles[(f->name_hash * 2654435761u) >> (32 - ROLE_BITS)];
    uint64_t t[2];
    name_tail(f, t);
    if (s->hash == f->name_hash && s->len == f->name_len && s->len && s->tail[0] == t[0] && s->tail[1] == t[1])
        return s->role;
    int r = role_compute(f);
    s->hash = f->name_hash;
    s->len = f->name_len;
    s->role = (uint8_t)r;
    s->tail[0] = t[0];
    s->tail[1] = t[1];
    return r;
}

/* ---------------------------------------------------------------- reporting */

static void report(tr_ioc_matcher *m, uint32_t idx, const tr_field *field, const tr_value *value)
{
    const tr_rule_info *info = tr_iocset_indicator(m->set, idx);
    if (!info)
        return; /* out of memory building its title: nothing to report it as */
    size_t n = 0;
    if (value && value->str) {
        n = value->len;
        if (n > TR_IOC_VALUE_MAX) {
            n = TR_IOC_VALUE_MAX;
            while (n > 0 && ((unsigned char)value->str[n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(m->valbuf, value->str, n);
    }
    m->valbuf[n] = '\0';
    tr_detection d;
    memset(&d, 0, sizeof d);
    d.rule = info;
    d.event = m->ev;
    d.time = m->time;
    d.first = d.last = TR_TIME_NONE;
    d.matched_field = field ? field->name : NULL;
    d.matched_value = m->valbuf;
    m->hits++;
    if (m->fn)
        m->fn(m->user, &d);
}

static void handle(tr_ioc_matcher *m, uint32_t idx)
{
    if (m->seen[idx] == m->epoch)
        return;
    m->seen[idx] = m->epoch;
    const ioc_ind *x = &m->set->inds[idx];
    if (x->flags & IND_DEAD)
        return;
    if (x->flags & IND_WINDOW) {
        if (m->time == TR_TIME_NONE || (x->valid_from != TR_TIME_NONE && m->time < x->valid_from) ||
            (x->valid_until != TR_TIME_NONE && m->time >= x->valid_until))
            return;
    }
    if (x->flags & IND_DIRECT) {
        report(m, idx, m->field, m->value);
        return;
    }
    if (m->ncands == m->cands_cap) {
        cand *nc = tr_realloc(m->cands, m->cands_cap * 2 * sizeof *nc);
        if (!nc) {
            m->seen[idx] = m->epoch - 1; /* let a later anchor try again */
            return;
        }
        m->cands = nc;
        m->cands_cap *= 2;
    }
    m->cands[m->ncands++] = (cand){idx, m->field, m->value};
}

static void chain(tr_ioc_matcher *m, uint32_t head)
{
    const ioc_atom *atoms = m->set->atoms;
    m->touched |= head != 0;
    for (uint32_t a = head; a; a = atoms[a - 1].next)
        handle(m, atoms[a - 1].ind);
}

/* ---------------------------------------------------------------- probing */

static void probe(tr_ioc_matcher *m, int kind, const char *s, size_t n)
{
    const tr_iocset *set = m->set;
    if (!set->slots)
        return;
    uint64_t h = tr_ioc_key_hash(kind, s, n);
    uint64_t *neg = &m->neg[h & (NEG_SLOTS - 1)];
    if (*neg == h)
        return;
    uint64_t tag = h >> 32;
    bool same = false;
    for (size_t i = (size_t)h & set->slot_mask;; i = (i + 1) & set->slot_mask) {
        uint64_t slot = set->slots[i];
        if (!slot)
            break;
        if (slot >> 32 != tag)
            continue;
        const ioc_entry *e = &set->entries[(uint32_t)slot - 1];
        if (e->hash != h)
            continue;
        same = true;
        if (e->kind == kind && e->len == n &&
            (((IOC_CI_KINDS >> kind) & 1u) ? tr_name_equal(e->key, s, n) : memcmp(e->key, s, n) == 0)) {
            chain(m, e->head);
            return;
        }
    }
    if (!same) /* no key shares the hash, so it is absent for good */
        *neg = h;
}

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    tr_ioc_matcher *m = ctx;
    chain(m, m->set->hs[m->hs_kind].pats[id].head);
    return 0;
}

static bool ascii_ci_contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0)
        return true;
    for (size_t i = 0; i + nn <= hn; i++)
        if (tr_name_equal(hay + i, needle, nn))
            return true;
    return false;
}

/* Runs kind's substring database over s. */
static void hs_probe(tr_ioc_matcher *m, int kind, const char *s, size_t n)
{
    const ioc_hsdb *db = &m->set->hs[kind];
    if (!db->db || n > UINT32_MAX / 3)
        return;
    if (m->hs_utf8[kind] && tr_utf8_find_invalid(s, n) != n) {
        /* UTF-8 mode patterns must not see invalid UTF-8. Readers repair
         * what they deliver, so this is a safeguard: scan a repaired copy
         * (the buffer grows once to the largest such value). */
        size_t need = TR_UTF8_REPAIR_MAX(n);
        if (need > m->rcap) {
            char *nb = tr_realloc(m->rbuf, need);
            if (!nb) {
                m->touched = true; /* not scanned: the value must not be remembered as clean */
                return;
            }
            m->rbuf = nb;
            m->rcap = need;
        }
        n = tr_utf8_repair(s, n, m->rbuf);
        s = m->rbuf;
    }
    m->hs_kind = kind;
    if (hs_scan(db->db, s, (unsigned)n, 0, m->hs, on_hs_match, m) != HS_SUCCESS)
        m->touched = true;
}

/* ---------------------------------------------------------------- evaluation */

static bool eq_value(int kind, const ioc_val *v, const char *s, size_t n)
{
    if (v->len != n)
        return false;
    return ((IOC_CI_KINDS >> kind) & 1u) ? tr_name_equal(v->s, s, n) != 0 : memcmp(v->s, s, n) == 0;
}

/* The non-equality operators, on the text of a candidate. */
static bool eval_text_op(tr_ioc_matcher *m, const ioc_cmp *c, const char *s, size_t n)
{
    bool ci = (IOC_CI_KINDS >> c->kind) & 1u;
    switch (c->op) {
    case OP_LIKE:
        return tr_ioc_like(c->values[0].s, c->values[0].len, s, n, ci);
    case OP_MATCHES:
        return c->re && pcre2_match(c->re, (PCRE2_SPTR)s, n, 0, 0, m->md, NULL) >= 0;
    case OP_CONTAINS:
        return ascii_ci_contains(s, n, c->values[0].s, c->values[0].len);
    default:
        return false;
    }
}

static void eval_key(tr_ioc_matcher *m, int kind, const char *s, size_t n)
{
    const ioc_cmp *c = m->ecmp;
    if (c->kind != kind || m->ehit)
        return;
    if (c->op != OP_EQ) {
        m->ehit = eval_text_op(m, c, s, n);
        return;
    }
    for (uint32_t i = 0; i < c->nvalues; i++)
        if (eq_value(kind, &c->values[i], s, n)) {
            m->ehit = true;
            return;
        }
}

/* ---------------------------------------------------------------- candidates */

/* A string of `kind` compared exactly (and, with a database, by pattern). */
static void emit_key(tr_ioc_matcher *m, int kind, const char *s, size_t n)
{
    if (m->mode == MODE_EVAL) {
        eval_key(m, kind, s, n);
        return;
    }
    probe(m, kind, s, n);
    if (m->set->hs[kind].db)
        hs_probe(m, kind, s, n);
}

static void emit_ip(tr_ioc_matcher *m, int role, const ioc_ip *ip, uint32_t kinds)
{
    int kk[3], nk = 0;
    if (kinds & BIT(K_IP))
        kk[nk++] = K_IP;
    if (role == ROLE_SRC_IP && (kinds & BIT(K_IP_SRC)))
        kk[nk++] = K_IP_SRC;
    if (role == ROLE_DST_IP && (kinds & BIT(K_IP_DST)))
        kk[nk++] = K_IP_DST;
    for (int j = 0; j < nk; j++) {
        int kind = kk[j];
        if (m->mode == MODE_EVAL) {
            const ioc_cmp *c = m->ecmp;
            if (c->kind != kind)
                continue;
            for (uint32_t i = 0; i < c->nvalues && !m->ehit; i++)
                if (tr_ioc_ip_contains(&c->values[i].ip, ip))
                    m->ehit = true;
            continue;
        }
        int f = ip->family == 4 ? 0 : 1;
        const uint8_t *lens = m->set->plen[kind - K_IP][f];
        uint8_t i = 0, nl = m->set->nplen[kind - K_IP][f];
        if (f == 0 && m->set->v4map24) { /* no key of length 24..32 in this /24: skip those */
            uint32_t a = (uint32_t)ip->addr[0] << 16 | (uint32_t)ip->addr[1] << 8 | ip->addr[2];
            if (!(m->set->v4map24[a >> 6] >> (a & 63) & 1u))
                while (i < nl && lens[i] >= 24)
                    i++;
        }
        for (; i < nl; i++) {
            ioc_ip t = *ip;
            tr_ioc_ip_mask(&t, lens[i]);
            char key[18];
            tr_ioc_ip_key(&t, key);
            probe(m, kind, key, sizeof key);
        }
    }
}

/* A host name: itself and each parent domain with at least two labels. */
static void emit_domain(tr_ioc_matcher *m, const char *h, size_t n)
{
    if (m->mode == MODE_EVAL) {
        const ioc_cmp *c = m->ecmp;
        if (c->kind != K_DOMAIN || m->ehit)
            return;
        if (c->op != OP_EQ) {
            m->ehit = eval_text_op(m, c, h, n);
            return;
        }
        for (uint32_t i = 0; i < c->nvalues; i++) {
            const ioc_val *v = &c->values[i];
            if (n == v->len ? tr_name_equal(h, v->s, n)
                            : n > v->len && h[n - v->len - 1] == '.' && tr_name_equal(h + n - v->len, v->s, v->len)) {
                m->ehit = true;
                return;
            }
        }
        return;
    }
    size_t i = 0;
    for (;;) {
        const char *dot = memchr(h + i, '.', n - i);
        if (!dot)
            break; /* a single label: no domain indicator is one */
        probe(m, K_DOMAIN, h + i, n - i);
        i = (size_t)(dot - h) + 1;
    }
    if (m->set->hs[K_DOMAIN].db)
        hs_probe(m, K_DOMAIN, h, n);
}

static bool host_chars(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

/* A value that may be a host name, "host:port", or an address. */
static void emit_host(tr_ioc_matcher *m, const char *h, size_t n, uint32_t kinds)
{
    while (n && h[n - 1] == '.')
        n--;
    const char *colon = memchr(h, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - h) - 1))
        n = (size_t)(colon - h); /* host:port */
    if (n == 0 || n > 253)
        return;
    if (is_digit((unsigned char)h[n - 1]) || h[0] == '[') {
        ioc_ip ip;
        if ((kinds & IOC_IP_KINDS) && tr_ioc_parse_event_ip(h, n, &ip))
            emit_ip(m, ROLE_NONE, &ip, kinds);
        if (h[0] == '[')
            return;
    }
    if ((kinds & BIT(K_DOMAIN)) && memchr(h, '.', n) && host_chars(h, n))
        emit_domain(m, h, n);
}

/* A URL at s (starting with its scheme): its canonical form (and without
 * its query), its host, the file name and path of its path. */
static void emit_url(tr_ioc_matcher *m, const char *s, size_t n, uint32_t kinds)
{
    ioc_url u;
    if (!tr_ioc_url_split(s, n, &u))
        return;
    if (u.host_len && (kinds & (BIT(K_DOMAIN) | IOC_IP_KINDS))) {
        if (u.host > s && u.host[-1] == '[') {
            ioc_ip ip;
            if ((kinds & IOC_IP_KINDS) && tr_ioc_parse_ip(u.host, u.host_len, &ip, false))
                emit_ip(m, ROLE_NONE, &ip, kinds);
        } else {
            emit_host(m, u.host, u.host_len, kinds);
        }
    }
    if (kinds & BIT(K_URL)) {
        size_t cn = tr_ioc_url_canon(&u, m->urlbuf, sizeof m->urlbuf);
        if (cn) {
            if (m->mode == MODE_EVAL) {
                const ioc_cmp *c = m->ecmp;
                if (c->kind == K_URL && !m->ehit) {
                    if (c->op != OP_EQ) {
                        m->ehit = eval_text_op(m, c, s, n);
                    } else {
                        const char *q = memchr(m->urlbuf, '?', cn);
                        size_t bare = q ? (size_t)(q - m->urlbuf) : cn;
                        for (uint32_t i = 0; i < c->nvalues && !m->ehit; i++)
                            m->ehit = eq_value(K_URL, &c->values[i], m->urlbuf, cn) ||
                                      eq_value(K_URL, &c->values[i], m->urlbuf, bare);
                    }
                }
            } else {
                probe(m, K_URL, m->urlbuf, cn);
                const char *q = memchr(m->urlbuf, '?', cn);
                if (q)
                    probe(m, K_URL, m->urlbuf, (size_t)(q - m->urlbuf));
                if (m->set->hs[K_URL].db)
                    hs_probe(m, K_URL, s, n);
            }
        }
    }
    if (u.path && u.path_len > 1) {
        if (kinds & BIT(K_PATH))
            emit_key(m, K_PATH, u.path, u.path_len);
        const char *slash = memrchr(u.path, '/', u.path_len);
        if ((kinds & BIT(K_FILENAME)) && slash && slash + 1 < u.path + u.path_len)
            emit_key(m, K_FILENAME, slash + 1, u.path_len - (size_t)(slash + 1 - u.path));
    }
}

/* URLs inside free text (command lines, scripts, query strings). */
static void find_urls(tr_ioc_matcher *m, const char *s, size_t n, uint32_t kinds)
{
    size_t from = 0;
    for (unsigned found = 0; found < MAX_URLS_PER_VALUE && from + 3 <= n; found++) {
        const char *p = memmem(s + from, n - from, "://", 3);
        if (!p)
            return;
        size_t at = (size_t)(p - s), start = at;
        while (start > 0 && at - start < 16 &&
               (is_alpha((unsigned char)s[start - 1]) || is_digit((unsigned char)s[start - 1]) ||
                s[start - 1] == '+' || s[start - 1] == '-' || s[start - 1] == '.'))
            start--;
        while (start < at && !is_alpha((unsigned char)s[start]))
            start++;
        size_t end = at + 3;
        while (end < n) {
            unsigned char c = (unsigned char)s[end];
            if (c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '|' || c == ')' ||
                c == '(' || c == '{' || c == '}' || c == '^')
                break;
            end++;
        }
        if (start < at)
            emit_url(m, s + start, end - start, kinds);
        from = end > at + 3 ? end : at + 3;
    }
}

/* Sysmon's Hashes: "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." (imphashes are
 * not file digests and are left out). */
static bool hash_list_start(const char *s, size_t n)
{
    return (n > 4 && tr_name_equal(s, "MD5=", 4)) || (n > 5 && tr_name_equal(s, "SHA1=", 5)) ||
           (n > 7 && tr_name_equal(s, "SHA256=", 7)) || (n > 8 && tr_name_equal(s, "IMPHASH=", 8)) ||
           (n > 7 && tr_name_equal(s, "SHA384=", 7));
}

static void emit_hash_list(tr_ioc_matcher *m, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',' && s[j] != ';' && s[j] != ' ')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        if (eq) {
            size_t an = (size_t)(eq - (s + i));
            const char *h = eq + 1;
            size_t hn = (size_t)(s + j - h);
            bool alg = (an == 3 && tr_name_equal(s + i, "MD5", 3)) || (an == 4 && tr_name_equal(s + i, "SHA1", 4)) ||
                       (an == 5 && tr_name_equal(s + i, "SHA-1", 5)) ||
                       (an == 6 && tr_name_equal(s + i, "SHA256", 6)) ||
                       (an == 7 && tr_name_equal(s + i, "SHA-256", 7));
            if (alg && (hn == 32 || hn == 40 || hn == 64) && tr_ioc_is_hex(h, hn))
                emit_key(m, K_HASH, h, hn);
        }
        i = j + 1;
    }
}

/* ---------------------------------------------------------------- one value */

#define PORT_KINDS (BIT(K_PORT_SRC) | BIT(K_PORT_DST))
#define SHAPE_KINDS                                                                                    \
    (BIT(K_DOMAIN) | BIT(K_URL) | BIT(K_FILENAME) | BIT(K_PATH) | BIT(K_DIR) | BIT(K_EMAIL) | IOC_IP_KINDS)

static void scan_string_uncached(tr_ioc_matcher *m, int role, const char *s, size_t n, uint32_t kinds)
{
    if (n == 0)
        return;
    switch (role) {
    case ROLE_CMDLINE:
        if (kinds & BIT(K_CMDLINE))
            emit_key(m, K_CMDLINE, s, n);
        if (kinds & SHAPE_KINDS)
            find_urls(m, s, n, kinds);
        return;
    case ROLE_TEXT:
        if (kinds & SHAPE_KINDS)
            find_urls(m, s, n, kinds);
        return;
    case ROLE_UA:
        if (kinds & BIT(K_UA))
            emit_key(m, K_UA, s, n);
        return;
    case ROLE_PROTO:
        if (kinds & BIT(K_PROTO))
            emit_key(m, K_PROTO, s, n);
        return;
    case ROLE_SRC_PORT:
    case ROLE_DST_PORT: {
        int kind = role == ROLE_SRC_PORT ? K_PORT_SRC : K_PORT_DST;
        if ((kinds & BIT(kind)) && n <= 5) {
            for (size_t i = 0; i < n; i++)
                if (!is_digit((unsigned char)s[i]))
                    return;
            size_t z = 0; /* "0443" is port 443 */
            while (z + 1 < n && s[z] == '0')
                z++;
            emit_key(m, kind, s + z, n - z);
        }
        return;
    }
    case ROLE_USER:
        if (kinds & BIT(K_USER)) {
            emit_key(m, K_USER, s, n);
            const char *bs = memrchr(s, '\\', n);
            if (bs && bs + 1 < s + n)
                emit_key(m, K_USER, bs + 1, n - (size_t)(bs + 1 - s));
        }
        break; /* and by shape: a UPN is an e-mail address */
    default:
        break;
    }
    if (n > IOC_MAX_EVENT_VALUE)
        return;
    /* One pass over the bytes: which classes occur, and where the last
     * folder separator, the first '@' and the first ':' are. Cheaper than a
     * library call per question for the short values events are made of. */
    unsigned fl = 0;
    size_t sep = SIZE_MAX, at = SIZE_MAX, colon = SIZE_MAX;
    /* past MAX_PATH, a value with white space is prose (a message, a
     * script, XML): no address, digest, URL, path or host is all of it */
    unsigned prose = n > IOC_MAX_SHAPE_PROSE ? C_SPACE : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned k = m->ctab[(unsigned char)s[i]];
        if (k & prose)
            return;
        fl |= k;
        if (k & C_SPECIAL) {
            char c = s[i];
            if (c == '\\' || c == '/')
                sep = i;
            else if (c == '@')
                at = at == SIZE_MAX ? i : at;
            else if (colon == SIZE_MAX)
                colon = i;
        }
    }
    unsigned char c0 = (unsigned char)s[0];
    if (kinds & BIT(K_HASH)) {
        if ((n == 32 || n == 40 || n == 64) && !(fl & ~(C_DIGIT | C_HEXL))) {
            emit_key(m, K_HASH, s, n);
            return;
        }
        if ((fl & C_EQ) && hash_list_start(s, n)) {
            emit_hash_list(m, s, n);
            return;
        }
    }
    /* an address: IPv4 is digits, dots and perhaps ":port"; IPv6 has a colon */
    if ((kinds & IOC_IP_KINDS) && n <= 64 &&
        ((is_digit(c0) && !(fl & ~(C_DIGIT | C_DOT | C_SPECIAL))) || (colon != SIZE_MAX && (is_hexc(c0) || c0 == ':' || c0 == '[')))) {
        ioc_ip ip;
        if (tr_ioc_parse_event_ip(s, n, &ip)) {
            emit_ip(m, role, &ip, kinds);
            return;
        }
    }
    if (!(kinds & SHAPE_KINDS))
        return;
    if (is_alpha(c0) && n >= 8 && colon < 17 && colon + 2 < n && s[colon + 1] == '/' && s[colon + 2] == '/') {
        emit_url(m, s, n, kinds);
        return;
    }
    if (sep != SIZE_MAX) {
        if (kinds & BIT(K_PATH))
            emit_key(m, K_PATH, s, n);
        if ((kinds & BIT(K_DIR)) && sep > 0)
            emit_key(m, K_DIR, s, sep);
        if (kinds & BIT(K_FILENAME)) {
            const char *base = s + sep + 1;
            size_t bn = n - sep - 1;
            if (c0 == '/') { /* a web path may carry a query */
                const char *q = memchr(base, '?', bn);
                if (q)
                    bn = (size_t)(q - base);
            }
            if (bn && !((fl & C_QUOTE) && memchr(base, '"', bn)))
                emit_key(m, K_FILENAME, base, bn);
        }
        return;
    }
    if (at != SIZE_MAX) {
        if ((kinds & BIT(K_EMAIL)) && tr_ioc_email_valid(s, n))
            emit_key(m, K_EMAIL, s, n);
        if (kinds & BIT(K_DOMAIN))
            emit_host(m, s + at + 1, n - at - 1, kinds);
        return;
    }
    if (n <= 253 && (fl & C_DOT)) {
        if (kinds & BIT(K_FILENAME))
            emit_key(m, K_FILENAME, s, n);
        if (kinds & (BIT(K_DOMAIN) | IOC_IP_KINDS))
            emit_host(m, s, n, kinds);
    }
}

/* Evidence repeats itself: the same image path, user, server address in
 * event after event. A short value whose scan reached no indicator cannot
 * reach one the next time (the set does not change; time only matters once
 * an indicator is reached), so its hash, with its role, is remembered and
 * the value skipped when it comes again. */
static void scan_string(tr_ioc_matcher *m, int role, const char *s, size_t n, uint32_t kinds)
{
    if (m->mode != MODE_PROBE || n == 0 || n > IOC_MAX_SHAPE_PROSE) {
        scan_string_uncached(m, role, s, n, kinds);
        return;
    }
    uint64_t h = tr_ioc_bytes_hash(0x51ed270b27a30f1dull * (uint64_t)(role + 1), s, n);
    uint64_t *slot = &m->vneg[h & (VNEG_SLOTS - 1)];
    if (*slot == h)
        return;
    m->touched = false;
    scan_string_uncached(m, role, s, n, kinds);
    if (!m->touched)
        *slot = h;
}

static void scan_value(tr_ioc_matcher *m, int role, const tr_value *v, uint32_t kinds)
{
    if (v->type == TR_STR) {
        scan_string(m, role, v->str, v->len, kinds);
    } else if ((v->type == TR_INT || v->type == TR_UINT) && (role == ROLE_SRC_PORT || role == ROLE_DST_PORT) &&
               v->str) {
        scan_string(m, role, v->str, v->len, kinds);
    }
}

/* IIS logs split a URL over cs-host, cs-uri-stem and cs-uri-query. */
static void w3c_url(tr_ioc_matcher *m, uint32_t kinds)
{
    const tr_field *stem = tr_event_get_hashed(m->ev, "cs-uri-stem", 11, m->h_stem);
    if (!stem || stem->value.type != TR_STR)
        return;
    const tr_field *host = tr_event_get_hashed(m->ev, "cs-host", 7, m->h_host);
    if (!host || host->value.type != TR_STR)
        return;
    const tr_field *query = tr_event_get_hashed(m->ev, "cs-uri-query", 12, m->h_query);
    size_t qn = query && query->value.type == TR_STR ? query->value.len : 0;
    size_t need = 7 + host->value.len + stem->value.len + 1 + qn;
    if (need > sizeof m->w3cbuf)
        return;
    char *b = m->w3cbuf;
    size_t o = 0;
    memcpy(b, "http://", 7);
    o = 7;
    memcpy(b + o, host->value.str, host->value.len);
    o += host->value.len;
    memcpy(b + o, stem->value.str, stem->value.len);
    o += stem->value.len;
    if (qn) {
        b[o++] = '?';
        memcpy(b + o, query->value.str, qn);
        o += qn;
    }
    m->field = stem;
    m->value = &stem->value;
    emit_url(m, b, o, kinds & BIT(K_URL));
}

static void scan_event(tr_ioc_matcher *m, uint32_t kinds)
{
    const tr_event *ev = m->ev;
    /* the event's arrays directly (event.h): this loop runs for every field
     * of every event */
    const tr_field *fields = ev->fields;
    uint32_t nf = ev->nfields;
    for (uint32_t i = 0; i < nf; i++) {
        const tr_field *f = &fields[i];
        uint8_t t = f->value.type;
        if (t != TR_STR && t != TR_LIST && !((t == TR_INT || t == TR_UINT) && (kinds & PORT_KINDS)))
            continue; /* numbers only matter as ports; nulls, booleans, floats never */
        int role = role_of(m, f);
        if (role == ROLE_SKIP)
            continue;
        m->field = f;
        if (f->value.type == TR_LIST) {
            uint32_t first = f->value.as.list.first, count = f->value.as.list.count;
            if (first > ev->nitems || count > ev->nitems - first)
                continue; /* cannot happen: the builder checks; kept against a broken reader */
            for (uint32_t k = 0; k < count; k++) {
                const tr_value *it = &ev->items[first + k];
                m->value = it;
                scan_value(m, role, it, kinds);
                if (m->mode == MODE_EVAL && m->ehit)
                    return;
            }
        } else {
            m->value = &f->value;
            scan_value(m, role, &f->value, kinds);
        }
        if (m->mode == MODE_EVAL && m->ehit)
            return;
    }
    if (kinds & BIT(K_URL))
        w3c_url(m, kinds);
}

static bool eval_expr(tr_ioc_matcher *m, const ioc_expr *e)
{
    switch (e->type) {
    case E_TRUE:
        return true;
    case E_AND:
        for (uint32_t i = 0; i < e->n; i++)
            if (!eval_expr(m, e->kids[i]))
                return false;
        return true;
    case E_OR:
        for (uint32_t i = 0; i < e->n; i++)
            if (eval_expr(m, e->kids[i]))
                return true;
        return false;
    default:
        m->mode = MODE_EVAL;
        m->ecmp = e->cmp;
        m->ehit = false;
        scan_event(m, BIT(e->cmp->kind));
        m->mode = MODE_PROBE;
        return m->ehit;
    }
}

size_t tr_ioc_matcher_event(tr_ioc_matcher *m, const tr_event *ev, tr_detection_fn fn, void *user)
{
    const tr_iocset *set = m->set;
    if (!set->kinds)
        return 0;
    if (++m->epoch == 0) { /* wrapped: forget every old mark */
        memset(m->seen, 0, (set->ninds ? set->ninds : 1) * sizeof *m->seen);
        m->epoch = 1;
    }
    m->ev = ev;
    m->time = tr_event_time(ev);
    m->fn = fn;
    m->user = user;
    m->hits = 0;
    m->ncands = 0;
    m->mode = MODE_PROBE;
    scan_event(m, set->kinds);
    for (size_t i = 0; i < m->ncands; i++) {
        cand c = m->cands[i];
        if (eval_expr(m, set->inds[c.ind].expr))
            report(m, c.ind, c.field, c.value);
    }
    return m->hits;
}
