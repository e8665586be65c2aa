/*
 * ioc_load.c — indicator files into the set: format detection, STIX 2.1
 * bundles, MISP events and feeds, CSV and plain-text lists.
 *
 * Detection is by content. A file whose first character is '{', or '['
 * followed by '{', '"' or ']', is JSON: a STIX bundle ("type": "bundle"),
 * a bare STIX indicator or an array of STIX objects, a MISP event
 * ({"Event": ...}, a search result {"response": [...]}, an array of
 * events), or a MISP feed's manifest.json (then the feed's events are
 * read). Anything else is text: a list, CSV or plain.
 *
 * Lists. One indicator per line. Blank lines and comments ('#', '//', ';'
 * at the start; " #" after a value) are skipped. A first line naming a
 * "value" (or "indicator", "ioc") column makes the file CSV with a header:
 * the value comes from that column, the type from a "type" column when
 * there is one (MISP's CSV export, with its to_ids, works as is).
 * Without a header, a line whose first field is a type name ("md5,<hash>")
 * is typed; otherwise the first field whose type can be detected is the
 * indicator ("203.0.113.7,C2 server"). Values are refanged first.
 *
 * Every indicator that does not load is reported with the file, the line
 * (and the indicator id when it has one) and the reason, and counted;
 * unsupported types and patterns are counted as such.
 */
#include <hs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "ioc.h"
#include "ioc_json.h"

typedef struct loader {
    tr_iocset *set;
    uint32_t src;
    const char *path; /* as stored in the source */
} loader;

static void reject(loader *L, uint32_t line, bool unsupported, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(loader *L, uint32_t line, bool unsupported, const char *fmt, ...)
{
    tr_ioc_source *s = &L->set->sources[L->src];
    s->counts.rejected++;
    L->set->stats.counts.rejected++;
    if (unsupported) {
        s->counts.unsupported++;
        L->set->stats.counts.unsupported++;
    }
    char reason[1024], where[32] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(where, sizeof where, "line %u", line);
    tr_ioc_diag(L->set, unsupported ? TR_SEV_WARNING : TR_SEV_ERROR, L->path, where, "%s", reason);
}

static void count_loaded(loader *L, int type)
{
    tr_ioc_source *s = &L->set->sources[L->src];
    s->counts.loaded++;
    s->counts.per_type[type]++;
    L->set->stats.counts.loaded++;
    L->set->stats.counts.per_type[type]++;
}

static void count_dup(loader *L)
{
    L->set->sources[L->src].counts.duplicates++;
    L->set->stats.counts.duplicates++;
}

static void count_not_ids(loader *L)
{
    L->set->sources[L->src].counts.not_ids++;
    L->set->stats.counts.not_ids++;
}

static bool begin(loader *L, tr_iocset *set, const char *path, int format)
{
    int s = tr_ioc_source_add(set, path, format);
    if (s < 0)
        return false;
    L->set = set;
    L->src = (uint32_t)s;
    L->path = set->sources[s].path;
    set->stats.files++;
    return true;
}

/* Shown in diagnostics: at most 120 bytes of a value. */
#define SHOW(n, s) (int)((n) > 120 ? 120 : (n)), (s)

/* ---------------------------------------------------------------- type names */

enum { T_UNKNOWN = -1, T_UNSUPPORTED = -2, T_IP_ANY = 100, T_HASH_PART, T_DOMAIN_IP, T_URI, T_FILENAME_ANY };

/* A type name from a list's type column or a MISP attribute. */
static int type_from_name(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int type;
    } names[] = {
        {"ip", T_IP_ANY}, {"ip-src", T_IP_ANY}, {"ip-dst", T_IP_ANY}, {"ip-src|port", T_IP_ANY},
        {"ip-dst|port", T_IP_ANY}, {"ipv4", T_IP_ANY}, {"ipv6", T_IP_ANY}, {"ipv4-addr", T_IP_ANY},
        {"ipv6-addr", T_IP_ANY}, {"cidr", T_IP_ANY}, {"ip-address", T_IP_ANY}, {"address", T_IP_ANY},
        {"domain", TR_IOC_DOMAIN}, {"hostname", TR_IOC_DOMAIN}, {"domain-name", TR_IOC_DOMAIN},
        {"fqdn", TR_IOC_DOMAIN}, {"host", TR_IOC_DOMAIN}, {"domain|ip", T_DOMAIN_IP},
        {"url", TR_IOC_URL}, {"uri", T_URI}, {"md5", TR_IOC_MD5}, {"sha1", TR_IOC_SHA1},
        {"sha-1", TR_IOC_SHA1}, {"sha256", TR_IOC_SHA256}, {"sha-256", TR_IOC_SHA256},
        {"filename|md5", T_HASH_PART}, {"filename|sha1", T_HASH_PART}, {"filename|sha256", T_HASH_PART},
        {"hash", T_HASH_PART}, {"filename", T_FILENAME_ANY}, {"file", T_FILENAME_ANY},
        {"file-name", TR_IOC_FILENAME}, {"file:name", TR_IOC_FILENAME}, {"path", TR_IOC_PATH},
        {"filepath", TR_IOC_PATH}, {"file-path", TR_IOC_PATH}, {"email", TR_IOC_EMAIL},
        {"email-src", TR_IOC_EMAIL}, {"email-dst", TR_IOC_EMAIL}, {"email-addr", TR_IOC_EMAIL},
        {"target-email", TR_IOC_EMAIL}, {"email-reply-to", TR_IOC_EMAIL}, {"user-agent", TR_IOC_USER_AGENT},
        {"useragent", TR_IOC_USER_AGENT}, {"user_agent", TR_IOC_USER_AGENT},
        {"command-line", TR_IOC_CMDLINE}, {"commandline", TR_IOC_CMDLINE}, {"command_line", TR_IOC_CMDLINE},
        {"user", TR_IOC_USER}, {"username", TR_IOC_USER}, {"user-account", TR_IOC_USER},
        /* known, with no event field to look in (or too vague to sweep for) */
        {"mutex", T_UNSUPPORTED}, {"regkey", T_UNSUPPORTED}, {"regkey|value", T_UNSUPPORTED},
        {"as", T_UNSUPPORTED}, {"yara", T_UNSUPPORTED}, {"sigma", T_UNSUPPORTED}, {"snort", T_UNSUPPORTED},
        {"text", T_UNSUPPORTED}, {"comment", T_UNSUPPORTED}, {"other", T_UNSUPPORTED},
        {"link", T_UNSUPPORTED}, {"vulnerability", T_UNSUPPORTED}, {"pattern-in-file", T_UNSUPPORTED},
        {"pattern-in-traffic", T_UNSUPPORTED}, {"pattern-in-memory", T_UNSUPPORTED},
        {"imphash", T_UNSUPPORTED}, {"ssdeep", T_UNSUPPORTED}, {"sha512", T_UNSUPPORTED},
        {"authentihash", T_UNSUPPORTED}, {"tlsh", T_UNSUPPORTED}, {"ja3-fingerprint-md5", T_UNSUPPORTED},
        {"x509-fingerprint-sha1", T_UNSUPPORTED}, {"port", T_UNSUPPORTED}, {"attachment", T_UNSUPPORTED},
        {"malware-sample", T_UNSUPPORTED}, {"email-subject", T_UNSUPPORTED}, {"btc", T_UNSUPPORTED},
        {"campaign-name", T_UNSUPPORTED}, {"threat-actor", T_UNSUPPORTED}, {"target-user", T_UNSUPPORTED},
        {"target-machine", T_UNSUPPORTED}, {"whois-registrant-email", T_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && tr_name_equal(s, names[i].name, n))
            return names[i].type;
    return T_UNKNOWN;
}

/* ---------------------------------------------------------------- one value */

typedef struct meta {
    const char *id;       /* STIX id, MISP uuid; NULL for lists */
    const char *name;     /* comment, event info */
    const char *const *tags;
    uint32_t ntags;
    uint8_t level;
    uint32_t line;
} meta;

static char *arena_str(tr_iocset *set, const char *s)
{
    return s ? tr_arena_strndup(&set->arena, s, strlen(s)) : NULL;
}

/* Adds a single-value indicator of `type` (a tr_ioc_type, or one of the
 * T_* resolved here from the value). Rejections are reported. Returns
 * TR_OK or TR_ERR_NOMEM. */
static int add_value(loader *L, int type, const char *v, size_t n, const meta *m)
{
    tr_iocset *set = L->set;
    /* trim, and drop surrounding quotes or angle brackets left by copy-paste */
    while (n && (v[0] == ' ' || v[0] == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') || (v[0] == '<' && v[n - 1] == '>')))
        v++, n -= 2;
    const char *label = m->id ? m->id : "";
    const char *sep = m->id ? ": " : "";
    if (n == 0) {
        reject(L, m->line, false, "%s%sempty value", label, sep);
        return TR_OK;
    }
    if (n > IOC_MAX_VALUE) {
        reject(L, m->line, false, "%s%svalue longer than %u bytes", label, sep, IOC_MAX_VALUE);
        return TR_OK;
    }
    ioc_ip ip;
    switch (type) {
    case T_IP_ANY: {
        const char *bar = memchr(v, '|', n); /* ip-dst|port */
        if (bar)
            n = (size_t)(bar - v);
        if (!tr_ioc_parse_ip(v, n, &ip, true)) {
            reject(L, m->line, false, "%s%s'%.*s' is not an IP address or CIDR range", label, sep, SHOW(n, v));
            return TR_OK;
        }
        type = ip.family == 4 ? TR_IOC_IPV4 : TR_IOC_IPV6;
        break;
    }
    case T_HASH_PART: { /* filename|sha256: the digest is the indicator; the name is context */
        const char *bar = memchr(v, '|', n);
        if (bar) {
            n -= (size_t)(bar - v) + 1;
            v = bar + 1;
        }
        type = n == 32 ? TR_IOC_MD5 : n == 40 ? TR_IOC_SHA1 : TR_IOC_SHA256;
        break;
    }
    case T_URI:
        type = memmem(v, n, "://", 3) ? TR_IOC_URL : TR_IOC_PATH;
        break;
    case T_FILENAME_ANY:
        type = memchr(v, '\\', n) || memchr(v, '/', n) ? TR_IOC_PATH : TR_IOC_FILENAME;
        break;
    case T_DOMAIN_IP: {
        const char *bar = memchr(v, '|', n);
        if (!bar) {
            reject(L, m->line, false, "%s%sdomain|ip value without '|'", label, sep);
            return TR_OK;
        }
        int rc = add_value(L, TR_IOC_DOMAIN, v, (size_t)(bar - v), m);
        if (rc)
            return rc;
        return add_value(L, T_IP_ANY, bar + 1, n - (size_t)(bar - v) - 1, m);
    }
    default:
        break;
    }
    ioc_ind *ind = tr_ioc_ind_new(set, L->src, m->line);
    if (!ind)
        return set->ninds >= IOC_MAX_INDICATORS ? TR_OK : TR_ERR_NOMEM;
    uint32_t idx = (uint32_t)(set->ninds - 1);
    ind->type = (uint8_t)type;
    ind->level = m->level;
    ind->tags = m->tags;
    ind->ntags = m->ntags;
    ind->flags = IND_DIRECT;
    if (m->id && !(ind->id = arena_str(set, m->id)))
        return TR_ERR_NOMEM;
    if (m->name && !(ind->name = arena_str(set, m->name)))
        return TR_ERR_NOMEM;
    bool dup = false;
    int rc;
    if (type == TR_IOC_USER_AGENT || type == TR_IOC_CMDLINE) {
        int kind = type == TR_IOC_USER_AGENT ? K_UA : K_CMDLINE;
        ind->kind = (uint8_t)kind;
        if (!(ind->value = tr_arena_strndup(&set->arena, v, n)))
            return TR_ERR_NOMEM;
        /* a literal: escaped for Vectorscan, searched ignoring ASCII case */
        char *expr = tr_malloc(n * 4 + 1);
        if (!expr)
            return TR_ERR_NOMEM;
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)v[i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                expr[o++] = (char)c;
            } else {
                expr[o++] = '\\';
                expr[o++] = 'x';
                expr[o++] = hex[c >> 4];
                expr[o++] = hex[c & 15];
            }
        }
        expr[o] = '\0';
        rc = tr_ioc_hs_add(set, idx, kind, expr, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
        tr_free(expr);
    } else {
        char buf[IOC_MAX_VALUE + 64];
        int kind;
        const char *why;
        size_t len = tr_ioc_canon_value(type, v, n, buf, &kind, &why);
        if (!len) {
            tr_ioc_ind_drop(set);
            reject(L, m->line, false, "%s%s'%.*s' as %s: %s", label, sep, SHOW(n, v), tr_ioc_type_name(type), why);
            return TR_OK;
        }
        ind->kind = (uint8_t)kind;
        if (!(ind->value = tr_arena_strndup(&set->arena, buf, len)))
            return TR_ERR_NOMEM;
        if (kind == K_IP) {
            tr_ioc_parse_ip(buf, len, &ip, true);
            ind->type = ip.family == 4 ? TR_IOC_IPV4 : TR_IOC_IPV6;
            rc = tr_ioc_index_add(set, idx, K_IP, (const char *)&ip, sizeof ip, &dup);
        } else {
            rc = tr_ioc_index_add(set, idx, kind, buf, len, &dup);
        }
    }
    if (rc) {
        tr_ioc_ind_drop(set);
        return rc;
    }
    if (dup) {
        tr_ioc_ind_drop(set);
        count_dup(L);
        return TR_OK;
    }
    count_loaded(L, ind->type);
    return TR_OK;
}

/* ---------------------------------------------------------------- lists */

typedef struct field {
    const char *s;
    size_t n;
} field;

/* Splits one CSV line (quotes as RFC 4180, within the line) into fields,
 * unquoting in place into buf. Returns the number of fields (at most max). */
static size_t csv_split(const char *s, size_t n, char delim, field *f, size_t max, char *buf)
{
    size_t nf = 0, i = 0, o = 0;
    while (nf < max) {
        size_t start = o;
        while (i < n && (s[i] == ' ' || s[i] == '\t') && s[i] != delim)
            i++;
        if (i < n && s[i] == '"') {
            i++;
            while (i < n) {
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        buf[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                buf[o++] = s[i++];
            }
            while (i < n && s[i] != delim)
                i++;
        } else {
            while (i < n && s[i] != delim)
                buf[o++] = s[i++];
        }
        f[nf].s = buf + start;
        f[nf].n = o - start;
        nf++;
        if (i >= n)
            break;
        i++; /* the delimiter */
    }
    return nf;
}

static bool is_header_name(const field *f, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == f->n && tr_name_equal(f->s, *names, f->n))
            return true;
    return false;
}

#define LIST_MAX_FIELDS 64

static int load_list(tr_iocset *set, const char *path, const char *data, size_t len)
{
    loader L;
    if (!begin(&L, set, path, TR_IOC_FORMAT_LIST))
        return TR_ERR_NOMEM;
    static const char *const value_names[] = {"value", "indicator", "ioc", "observable", "ioc_value",
                                              "indicator_value", NULL};
    static const char *const type_names[] = {"type", "ioc_type", "indicator_type", "attribute_type", NULL};
    static const char *const ids_names[] = {"to_ids", NULL};
    static const char *const id_names[] = {"uuid", "id", NULL};
    int col_value = -1, col_type = -1, col_ids = -1, col_id = -1;
    bool header_seen = false;
    char delim = 0;
    char *buf = tr_malloc(IOC_MAX_VALUE * 2 + 64);
    char *refanged = tr_malloc(IOC_MAX_VALUE * 2 + 64);
    char *idbuf = tr_malloc(IOC_MAX_VALUE + 64);
    int rc = TR_OK;
    if (!buf || !refanged || !idbuf)
        rc = TR_ERR_NOMEM;
    size_t pos = 0;
    uint32_t line = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (rc == TR_OK && pos < len) {
        line++;
        const char *s = data + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        while (n && (s[0] == ' ' || s[0] == '\t'))
            s++, n--;
        if (n == 0 || s[0] == '#' || s[0] == ';' || (n >= 2 && s[0] == '/' && s[1] == '/'))
            continue;
        if (n > IOC_MAX_VALUE * 2) {
            reject(&L, line, false, "line longer than %u bytes", IOC_MAX_VALUE * 2);
            continue;
        }
        if (memchr(s, '\0', n)) {
            reject(&L, line, false, "line holds a NUL byte");
            continue;
        }
        /* an inline comment: " # ..." after the value */
        for (size_t i = 1; i + 1 < n; i++)
            if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
                n = i - 1;
                while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                    n--;
                break;
            }
        if (!delim)
            delim = memchr(s, '\t', n) ? '\t' : ',';
        field f[LIST_MAX_FIELDS];
        size_t nf = csv_split(s, n, delim, f, LIST_MAX_FIELDS, buf);
        if (!header_seen) {
            header_seen = true;
            for (size_t i = 0; i < nf; i++) {
                if (col_value < 0 && is_header_name(&f[i], value_names))
                    col_value = (int)i;
                else if (col_type < 0 && is_header_name(&f[i], type_names))
                    col_type = (int)i;
                else if (col_ids < 0 && is_header_name(&f[i], ids_names))
                    col_ids = (int)i;
                else if (col_id < 0 && is_header_name(&f[i], id_names))
                    col_id = (int)i;
            }
            if (col_value >= 0)
                continue; /* the header itself */
        }
        meta m = {.line = line, .level = TR_LEVEL_HIGH};
        int type = T_UNKNOWN;
        const char *v = NULL;
        size_t vn = 0;
        if (col_value >= 0) {
            if ((size_t)col_value >= nf) {
                reject(&L, line, false, "no value in column %d", col_value + 1);
                continue;
            }
            if (col_ids >= 0 && (size_t)col_ids < nf && f[col_ids].n &&
                (f[col_ids].s[0] == '0' || f[col_ids].s[0] == 'f' || f[col_ids].s[0] == 'F')) {
                count_not_ids(&L);
                continue;
            }
            if (col_id >= 0 && (size_t)col_id < nf && f[col_id].n) {
                memcpy(idbuf, f[col_id].s, f[col_id].n);
                idbuf[f[col_id].n] = '\0';
                m.id = idbuf;
            }
            v = f[col_value].s;
            vn = f[col_value].n;
            if (col_type >= 0 && (size_t)col_type < nf && f[col_type].n) {
                type = type_from_name(f[col_type].s, f[col_type].n);
                if (type == T_UNKNOWN || type == T_UNSUPPORTED) {
                    reject(&L, line, true, "type '%.*s' is not supported", SHOW(f[col_type].n, f[col_type].s));
                    continue;
                }
            }
        } else if (nf >= 2 && (type = type_from_name(f[0].s, f[0].n)) != T_UNKNOWN) {
            if (type == T_UNSUPPORTED) {
                reject(&L, line, true, "type '%.*s' is not supported", SHOW(f[0].n, f[0].s));
                continue;
            }
            v = f[1].s;
            vn = f[1].n;
        } else {
            type = T_UNKNOWN;
        }
        if (v) {
            size_t rn = tr_ioc_refang(v, vn, refanged);
            if (type == T_UNKNOWN) {
                ioc_ip ip;
                size_t a = 0;
                while (a < rn && (refanged[a] == ' ' || refanged[a] == '\t'))
                    a++;
                memmove(refanged, refanged + a, rn - a);
                rn -= a;
                while (rn && (refanged[rn - 1] == ' ' || refanged[rn - 1] == '\t'))
                    rn--;
                type = tr_ioc_detect_type(refanged, rn, &ip);
                if (type < 0) {
                    reject(&L, line, false, "'%.*s': not a recognised indicator; give its type in a column",
                           SHOW(rn, refanged));
                    continue;
                }
            }
            rc = add_value(&L, type, refanged, rn, &m);
            continue;
        }
        /* untyped: the whole line, else the first field whose type shows */
        ioc_ip ip;
        size_t rn = tr_ioc_refang(s, n, refanged);
        int t = tr_ioc_detect_type(refanged, rn, &ip);
        if (t < 0 && nf > 1) {
            for (size_t i = 0; i < nf && t < 0; i++) {
                rn = tr_ioc_refang(f[i].s, f[i].n, refanged);
                size_t a = 0;
                while (a < rn && (refanged[a] == ' ' || refanged[a] == '\t'))
                    a++;
                memmove(refanged, refanged + a, rn - a);
                rn -= a;
                while (rn && (refanged[rn - 1] == ' ' || refanged[rn - 1] == '\t'))
                    rn--;
                t = tr_ioc_detect_type(refanged, rn, &ip);
            }
        }
        if (t < 0) {
            reject(&L, line, false, "'%.*s': not a recognised indicator (address, range, domain, URL, digest, "
                   "file name or path, e-mail address); give its type in a column", SHOW(n, s));
            continue;
        }
        rc = add_value(&L, t, refanged, rn, &m);
    }
    tr_free(buf);
    tr_free(refanged);
    tr_free(idbuf);
    return rc;
}

/* ---------------------------------------------------------------- STIX */

/* Tags: the strings of array `arr` (and of arr2), copied into the arena. */
static int tags_of(tr_iocset *set, const json_doc *d, const json_node *arr, const json_node *arr2,
                   const char *const **out, uint32_t *nout)
{
    *out = NULL;
    *nout = 0;
    size_t n = 0;
    for (const json_node *a = arr; a; a = a == arr ? arr2 : NULL)
        if (a && a->type == J_ARR)
            for (const json_node *c = json_first(d, a); c; c = json_next(d, c))
                n += c->type == J_STR;
    if (!n)
        return TR_OK;
    const char **t = tr_arena_alloc(&set->arena, n * sizeof *t);
    if (!t)
        return TR_ERR_NOMEM;
    size_t k = 0;
    for (const json_node *a = arr; a; a = a == arr ? arr2 : NULL)
        if (a && a->type == J_ARR)
            for (const json_node *c = json_first(d, a); c; c = json_next(d, c))
                if (c->type == J_STR && !(t[k++] = arena_str(set, c->str)))
                    return TR_ERR_NOMEM;
    *out = t;
    *nout = (uint32_t)k;
    return TR_OK;
}

static int stix_indicator(loader *L, const json_doc *d, const json_node *o)
{
    tr_iocset *set = L->set;
    const char *id = tr_json_get_str(d, o, "id");
    uint32_t line = o->line;
    if (!id || strncmp(id, "indicator--", 11) != 0) {
        reject(L, line, false, "indicator without a valid id (indicator--UUID)");
        return TR_OK;
    }
    if (tr_json_get_bool(d, o, "revoked", 0)) {
        set->sources[L->src].counts.revoked++;
        set->stats.counts.revoked++;
        return TR_OK;
    }
    const char *ptype = tr_json_get_str(d, o, "pattern_type");
    if (ptype && strcmp(ptype, "stix") != 0) {
        reject(L, line, true, "%s: pattern_type '%.40s' is not supported (only stix)", id, ptype);
        return TR_OK;
    }
    const json_node *pn = tr_json_get(d, o, "pattern");
    if (!pn || pn->type != J_STR) {
        reject(L, line, false, "%s: no pattern", id);
        return TR_OK;
    }
    tr_time from = TR_TIME_NONE, until = TR_TIME_NONE;
    const char *vf = tr_json_get_str(d, o, "valid_from"), *vu = tr_json_get_str(d, o, "valid_until");
    if (vf && tr_time_parse(vf, strlen(vf), &from) != TR_OK) {
        reject(L, line, false, "%s: valid_from '%.40s' is not a timestamp", id, vf);
        return TR_OK;
    }
    if (vu && tr_time_parse(vu, strlen(vu), &until) != TR_OK) {
        reject(L, line, false, "%s: valid_until '%.40s' is not a timestamp", id, vu);
        return TR_OK;
    }
    if (from != TR_TIME_NONE && until != TR_TIME_NONE && until <= from) {
        reject(L, line, false, "%s: valid_until is not after valid_from", id);
        return TR_OK;
    }
    char why[512];
    ioc_expr *e;
    int rc = tr_ioc_pattern_parse(pn->str, pn->len, &set->arena, &e, why, sizeof why, tr_ioc_keep_regex, set);
    if (rc == TR_ERR_NOMEM)
        return rc;
    if (rc != TR_OK) {
        reject(L, pn->line, rc == TR_ERR_UNSUPPORTED, "%s: pattern %s: %s", id,
               rc == TR_ERR_UNSUPPORTED ? "not supported" : "not valid", why);
        return TR_OK;
    }
    ioc_ind *ind = tr_ioc_ind_new(set, L->src, line);
    if (!ind)
        return set->ninds >= IOC_MAX_INDICATORS ? TR_OK : TR_ERR_NOMEM;
    uint32_t idx = (uint32_t)(set->ninds - 1);
    ind->expr = e;
    ind->valid_from = from;
    ind->valid_until = until;
    if (from != TR_TIME_NONE || until != TR_TIME_NONE)
        ind->flags |= IND_WINDOW;
    ioc_stix *sx = tr_arena_alloc(&set->arena, sizeof *sx);
    if (!sx || !(ind->id = arena_str(set, id)))
        return TR_ERR_NOMEM;
    if (!(sx->pattern = tr_arena_strndup(&set->arena, pn->str, pn->len)))
        return TR_ERR_NOMEM;
    sx->created = arena_str(set, tr_json_get_str(d, o, "created"));
    sx->modified = arena_str(set, tr_json_get_str(d, o, "modified"));
    sx->valid_from = arena_str(set, vf);
    sx->valid_until = arena_str(set, vu);
    ind->stix = sx;
    ind->name = arena_str(set, tr_json_get_str(d, o, "name"));
    if ((rc = tags_of(set, d, tr_json_get(d, o, "labels"), tr_json_get(d, o, "indicator_types"), &ind->tags, &ind->ntags)))
        return rc;
    /* one comparison with one value shows as that value; anything else as the pattern */
    if (e->type == E_CMP && e->cmp->op == OP_EQ && e->cmp->nvalues == 1) {
        const ioc_cmp *c = e->cmp;
        ind->kind = c->kind;
        ind->value = c->values[0].s;
        switch (c->kind) {
        case K_IP:
        case K_IP_SRC:
        case K_IP_DST: ind->type = c->values[0].ip.family == 4 ? TR_IOC_IPV4 : TR_IOC_IPV6; break;
        case K_DOMAIN: ind->type = TR_IOC_DOMAIN; break;
        case K_URL: ind->type = TR_IOC_URL; break;
        case K_HASH:
            ind->type = c->values[0].len == 32 ? TR_IOC_MD5 : c->values[0].len == 40 ? TR_IOC_SHA1 : TR_IOC_SHA256;
            break;
        case K_FILENAME: ind->type = TR_IOC_FILENAME; break;
        case K_DIR: ind->type = TR_IOC_PATH; break;
        case K_EMAIL: ind->type = TR_IOC_EMAIL; break;
        case K_USER: ind->type = TR_IOC_USER; break;
        case K_CMDLINE: ind->type = TR_IOC_CMDLINE; break;
        case K_UA: ind->type = TR_IOC_USER_AGENT; break;
        default: ind->type = TR_IOC_PATTERN; ind->value = NULL; break;
        }
    } else {
        ind->type = TR_IOC_PATTERN;
    }
    if (!ind->value && !(ind->value = tr_arena_strndup(&set->arena, pn->str, pn->len)))
        return TR_ERR_NOMEM;
    rc = tr_ioc_anchor_expr(set, idx, e, why, sizeof why);
    if (rc == TR_ERR_UNSUPPORTED) {
        tr_ioc_ind_drop(set);
        reject(L, pn->line, true, "%s: pattern not supported: %s", id, why);
        return TR_OK;
    }
    if (rc) {
        tr_ioc_ind_drop(set);
        return rc;
    }
    count_loaded(L, ind->type);
    return TR_OK;
}

static int load_stix_objects(loader *L, const json_doc *d, const json_node *arr)
{
    for (const json_node *o = json_first(d, arr); o; o = json_next(d, o)) {
        if (o->type != J_OBJ)
            continue;
        const char *t = tr_json_get_str(d, o, "type");
        if (t && strcmp(t, "indicator") == 0) {
            int rc = stix_indicator(L, d, o);
            if (rc)
                return rc;
        }
    }
    return TR_OK;
}

/* ---------------------------------------------------------------- MISP */

/* The names of MISP Tag objects after `base`; *out stays base without any. */
static void misp_tag_names(tr_iocset *set, const json_doc *d, const json_node *tags, const char *const *base,
                           uint32_t nbase, const char *const **out, uint32_t *nout, int *rc)
{
    *out = base;
    *nout = nbase;
    size_t n = 0;
    if (tags && tags->type == J_ARR)
        for (const json_node *t = json_first(d, tags); t; t = json_next(d, t))
            n += tr_json_get_str(d, t, "name") != NULL;
    if (!n)
        return;
    const char **v = tr_arena_alloc(&set->arena, (n + nbase) * sizeof *v);
    if (!v) {
        *rc = TR_ERR_NOMEM;
        return;
    }
    size_t k = 0;
    for (; k < nbase; k++)
        v[k] = base[k];
    for (const json_node *t = json_first(d, tags); t; t = json_next(d, t)) {
        const char *name = tr_json_get_str(d, t, "name");
        if (name && !(v[k++] = arena_str(set, name))) {
            *rc = TR_ERR_NOMEM;
            return;
        }
    }
    *out = v;
    *nout = (uint32_t)k;
}

static int misp_attribute(loader *L, const json_doc *d, const json_node *a, const meta *ev)
{
    if (a->type != J_OBJ)
        return TR_OK;
    if (tr_json_get_bool(d, a, "deleted", 0))
        return TR_OK;
    const char *uuid = tr_json_get_str(d, a, "uuid");
    const char *type = tr_json_get_str(d, a, "type");
    const json_node *vn = tr_json_get(d, a, "value");
    if (!type || !vn || vn->type != J_STR) {
        reject(L, a->line, false, "%s%sattribute without a type and a value", uuid ? uuid : "", uuid ? ": " : "");
        return TR_OK;
    }
    if (!tr_json_get_bool(d, a, "to_ids", 1)) {
        count_not_ids(L);
        return TR_OK;
    }
    int t = type_from_name(type, strlen(type));
    if (t == T_UNKNOWN || t == T_UNSUPPORTED) {
        reject(L, a->line, true, "%s%sMISP type '%.60s' is not supported", uuid ? uuid : "", uuid ? ": " : "", type);
        return TR_OK;
    }
    meta m = *ev;
    m.id = uuid;
    m.line = a->line;
    const char *comment = tr_json_get_str(d, a, "comment");
    if (comment && comment[0])
        m.name = comment;
    int rc = TR_OK;
    misp_tag_names(L->set, d, tr_json_get(d, a, "Tag"), ev->tags, ev->ntags, &m.tags, &m.ntags, &rc);
    if (rc)
        return rc;
    return add_value(L, t, vn->str, vn->len, &m);
}

static int misp_event(loader *L, const json_doc *d, const json_node *e)
{
    if (!e || e->type != J_OBJ)
        return TR_OK;
    meta ev = {.level = TR_LEVEL_HIGH, .name = tr_json_get_str(d, e, "info")};
    const json_node *tl = tr_json_get(d, e, "threat_level_id");
    if (tl && (tl->type == J_STR || tl->type == J_NUM) && tl->len == 1) {
        char c = tl->str[0];
        ev.level = c == '2' ? TR_LEVEL_MEDIUM : c == '3' ? TR_LEVEL_LOW : TR_LEVEL_HIGH;
    }
    int rc = TR_OK;
    misp_tag_names(L->set, d, tr_json_get(d, e, "Tag"), NULL, 0, &ev.tags, &ev.ntags, &rc);
    if (rc)
        return rc;
    const json_node *attrs = tr_json_get(d, e, "Attribute");
    if (attrs && attrs->type == J_ARR)
        for (const json_node *a = json_first(d, attrs); a && !rc; a = json_next(d, a))
            rc = misp_attribute(L, d, a, &ev);
    const json_node *objs = tr_json_get(d, e, "Object");
    if (objs && objs->type == J_ARR)
        for (const json_node *o = json_first(d, objs); o && !rc; o = json_next(d, o)) {
            if (tr_json_get_bool(d, o, "deleted", 0))
                continue;
            const json_node *oa = tr_json_get(d, o, "Attribute");
            if (oa && oa->type == J_ARR)
                for (const json_node *a = json_first(d, oa); a && !rc; a = json_next(d, a))
                    rc = misp_attribute(L, d, a, &ev);
        }
    return rc;
}

/* ---------------------------------------------------------------- MISP feeds */

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!tr_ioc_is_hex(s + i, 1)) {
            return false;
        }
    }
    return true;
}

/* A feed manifest: an object whose members are events keyed by uuid. */
static bool looks_like_manifest(const json_doc *d, const json_node *root)
{
    const json_node *c = json_first(d, root);
    return c && c->type == J_OBJ && c->key && is_uuid(c->key) && tr_json_get(d, c, "info") &&
           (tr_json_get(d, c, "timestamp") || tr_json_get(d, c, "Orgc") || tr_json_get(d, c, "date"));
}

static int load_feed_events(tr_iocset *set, const char *dir, const char *manifest_path, const json_doc *d,
                            const json_node *root)
{
    if (set->feed_depth) { /* an event file that is itself a manifest: no recursion */
        tr_ioc_diag(set, TR_SEV_ERROR, manifest_path, "", "a feed manifest inside a MISP feed: not followed");
        set->stats.files_failed++;
        return TR_OK;
    }
    set->feed_depth++;
    int rc = TR_OK;
    for (const json_node *c = json_first(d, root); c && rc == TR_OK; c = json_next(d, c)) {
        if (!c->key || !is_uuid(c->key)) {
            char where[32];
            snprintf(where, sizeof where, "line %u", c->line);
            tr_ioc_diag(set, TR_SEV_ERROR, manifest_path, where, "key '%.60s' is not an event uuid: skipped",
                     c->key ? c->key : "");
            continue;
        }
        char *p = tr_malloc(strlen(dir) + 48);
        if (!p) {
            rc = TR_ERR_NOMEM;
            break;
        }
        sprintf(p, "%s/%s.json", dir, c->key);
        struct stat st;
        if (stat(p, &st) != 0) {
            tr_ioc_diag(set, TR_SEV_ERROR, p, "", "listed in the feed's manifest.json but missing");
            set->stats.files_failed++;
        } else {
            rc = tr_iocset_add_path(set, p);
        }
        tr_free(p);
    }
    set->feed_depth--;
    return rc;
}

int tr_ioc_load_misp_feed(tr_iocset *set, const char *dir)
{
    char *mp = tr_malloc(strlen(dir) + 16);
    if (!mp)
        return TR_ERR_NOMEM;
    sprintf(mp, "%s/manifest.json", dir);
    FILE *f = fopen(mp, "rb");
    int rc = TR_OK;
    char *buf = NULL;
    size_t n = 0;
    if (f) {
        struct stat st;
        if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size <= IOC_MAX_FILE) {
            buf = tr_malloc((size_t)st.st_size + 1);
            if (!buf)
                rc = TR_ERR_NOMEM;
            else
                n = fread(buf, 1, (size_t)st.st_size, f);
        }
        fclose(f);
    }
    if (!buf) {
        if (rc == TR_OK) {
            tr_ioc_diag(set, TR_SEV_ERROR, mp, "", "cannot read the feed's manifest");
            set->stats.files_failed++;
        }
        tr_free(mp);
        return rc;
    }
    json_doc d;
    tr_json_doc_init(&d);
    rc = tr_json_parse(&d, buf, n, n / 2 + 16);
    if (rc == TR_OK) {
        const json_node *root = json_root(&d);
        if (root->type != J_OBJ) {
            tr_ioc_diag(set, TR_SEV_ERROR, mp, "", "a MISP feed manifest is a JSON object of events");
            set->stats.files_failed++;
        } else {
            rc = load_feed_events(set, dir, mp, &d, root);
        }
    } else if (rc != TR_ERR_NOMEM) {
        char where[48];
        snprintf(where, sizeof where, "line %u", d.err_line);
        tr_ioc_diag(set, TR_SEV_ERROR, mp, where, "not valid JSON: %s (byte %zu)", d.err, d.err_offset);
        set->stats.files_failed++;
        rc = TR_OK;
    }
    tr_json_doc_free(&d);
    tr_free(buf);
    tr_free(mp);
    return rc;
}

/* ---------------------------------------------------------------- detection */

static int load_json(tr_iocset *set, const char *path, const char *data, size_t len)
{
    json_doc d;
    tr_json_doc_init(&d);
    int rc = tr_json_parse(&d, data, len, len / 2 + 16);
    if (rc != TR_OK) {
        if (rc != TR_ERR_NOMEM) {
            char where[48];
            snprintf(where, sizeof where, "line %u", d.err_line);
            tr_ioc_diag(set, TR_SEV_ERROR, path, where, "not valid JSON: %s (byte %zu): no indicator loaded", d.err,
                     d.err_offset);
            set->stats.files_failed++;
            rc = TR_OK;
        }
        tr_json_doc_free(&d);
        return rc;
    }
    const json_node *root = json_root(&d);
    const char *type = tr_json_get_str(&d, root, "type");
    loader L;
    if (type && strcmp(type, "bundle") == 0) {
        const json_node *objs = tr_json_get(&d, root, "objects");
        if (!begin(&L, set, path, TR_IOC_FORMAT_STIX))
            rc = TR_ERR_NOMEM;
        else if (objs && objs->type == J_ARR)
            rc = load_stix_objects(&L, &d, objs);
    } else if (type && strcmp(type, "indicator") == 0) {
        if (!begin(&L, set, path, TR_IOC_FORMAT_STIX))
            rc = TR_ERR_NOMEM;
        else
            rc = stix_indicator(&L, &d, root);
    } else if (root->type == J_OBJ && (tr_json_get(&d, root, "Event") || tr_json_get(&d, root, "response") ||
                                       (tr_json_get(&d, root, "Attribute") && tr_json_get(&d, root, "info")))) {
        if (!begin(&L, set, path, TR_IOC_FORMAT_MISP)) {
            rc = TR_ERR_NOMEM;
        } else if (tr_json_get(&d, root, "Event")) {
            rc = misp_event(&L, &d, tr_json_get(&d, root, "Event"));
        } else if (tr_json_get(&d, root, "response")) {
            const json_node *r = tr_json_get(&d, root, "response");
            for (const json_node *c = r->type == J_ARR ? json_first(&d, r) : NULL; c && !rc; c = json_next(&d, c))
                rc = misp_event(&L, &d, tr_json_get(&d, c, "Event") ? tr_json_get(&d, c, "Event") : c);
        } else {
            rc = misp_event(&L, &d, root);
        }
    } else if (root->type == J_OBJ && looks_like_manifest(&d, root)) {
        /* a feed's manifest.json given as a file: read the feed around it */
        char *dir = tr_strdup(path);
        if (!dir) {
            rc = TR_ERR_NOMEM;
        } else {
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = '\0';
            else
                strcpy(dir, ".");
            rc = load_feed_events(set, dir, path, &d, root);
            tr_free(dir);
        }
    } else if (root->type == J_ARR) {
        const json_node *c = json_first(&d, root);
        while (c && c->type != J_OBJ)
            c = json_next(&d, c);
        if (c && tr_json_get(&d, c, "Event")) {
            if (!begin(&L, set, path, TR_IOC_FORMAT_MISP))
                rc = TR_ERR_NOMEM;
            for (; c && !rc; c = json_next(&d, c))
                rc = misp_event(&L, &d, tr_json_get(&d, c, "Event"));
        } else if (c && tr_json_get_str(&d, c, "type")) {
            if (!begin(&L, set, path, TR_IOC_FORMAT_STIX))
                rc = TR_ERR_NOMEM;
            else
                rc = load_stix_objects(&L, &d, root);
        } else {
            tr_ioc_diag(set, TR_SEV_ERROR, path, "", "a JSON array, but neither of STIX objects nor of MISP events: "
                     "no indicator loaded");
            set->stats.files_failed++;
        }
    } else {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "JSON, but neither a STIX bundle nor a MISP event: no indicator loaded");
        set->stats.files_failed++;
    }
    tr_json_doc_free(&d);
    return rc;
}

int tr_ioc_load_buffer(tr_iocset *set, const char *path, const char *data, size_t len)
{
    uint64_t head = (uint64_t)len;
    tr_sha256_update(&set->digest, &head, sizeof head);
    tr_sha256_update(&set->digest, data, len);
    size_t i = 0;
    if (len >= 2 && ((unsigned char)data[0] == 0xff || (unsigned char)data[0] == 0xfe) &&
        ((unsigned char)data[1] == 0xfe || (unsigned char)data[1] == 0xff)) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "UTF-16 text: save the list as UTF-8; no indicator loaded");
        set->stats.files_failed++;
        return TR_OK;
    }
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    size_t probe = len < 4096 ? len : 4096;
    if (memchr(data, '\0', probe)) {
        tr_ioc_diag(set, TR_SEV_ERROR, path, "", "binary data, not an indicator file: not loaded");
        set->stats.files_failed++;
        return TR_OK;
    }
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i < len && data[i] == '{')
        return load_json(set, path, data, len);
    if (i < len && data[i] == '[') {
        size_t j = i + 1;
        while (j < len && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n'))
            j++;
        if (j >= len || data[j] == '{' || data[j] == '"' || data[j] == ']')
            return load_json(set, path, data, len);
    }
    return load_list(set, path, data, len);
}
