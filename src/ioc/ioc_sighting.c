/*
 * ioc_sighting.c — the sighting log (traccia.h: tr_sighting_log): what a
 * hunt saw of each indicator, and its two renderings — the per-indicator
 * summary for the terminal and a STIX 2.1 bundle of sightings.
 *
 * Memory is bounded per indicator, never per sighting: a count, the first
 * and last time, up to TR_SIGHTING_MAX_HOSTS host names and the field and
 * value of the first sighting. A hunt over years of logs that sights an
 * indicator a million times keeps the same few hundred bytes for it.
 *
 * The bundle. For every indicator sighted it holds
 *   - the indicator: the input's own object (id, created, modified,
 *     pattern, valid_from, ...) for STIX inputs, so sighting_of_ref keeps
 *     pointing at the analyst's indicator; for lists and MISP a new
 *     indicator whose pattern says the same ([ipv4-addr:value = '...']);
 *   - one cyber-observable object for the value observed (ipv4-addr,
 *     domain-name, url, file with hashes or name, email-addr, user-account,
 *     process with command_line; x-traccia-observed-value, a custom object,
 *     for values STIX has no object for, such as user agents);
 *   - an observed-data object over it (first_observed, last_observed,
 *     number_observed, object_refs);
 *   - a sighting (count, first_seen, last_seen, sighting_of_ref,
 *     observed_data_refs, where_sighted_refs);
 * and one identity (identity_class "system") per host. Every reference
 * resolves inside the bundle; identifiers are type--UUIDv4; timestamps are
 * RFC 3339 in UTC. Counts are capped at STIX's 999,999,999.
 *
 * Owns: the per-indicator records and their strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "../util/strbuf.h"
#include "ioc.h"

#define STIX_MAX_COUNT 999999999ull

typedef struct sight {
    uint32_t ind;
    uint64_t count;
    tr_time first, last;
    char **hosts;       /* up to TR_SIGHTING_MAX_HOSTS, sorted (case ignored): the first names */
    uint64_t *host_counts;
    uint32_t nhosts;
    uint64_t hosts_more;
    char *field, *value; /* of the earliest sighting (ties: the smallest value) */
    tr_time fv_time;
} sight;

struct tr_sighting_log {
    const tr_iocset *set;
    uint32_t *slot;     /* [ninds]: position in v + 1; 0 when not sighted */
    sight *v;
    size_t n, cap;
};

tr_status tr_sighting_log_create(tr_sighting_log **out, const tr_iocset *set)
{
    *out = NULL;
    if (!set)
        return TR_ERR_ARG;
    tr_sighting_log *log = tr_calloc(1, sizeof *log);
    if (!log)
        return TR_ERR_NOMEM;
    log->set = set;
    log->slot = tr_calloc(set->ninds ? set->ninds : 1, sizeof *log->slot);
    if (!log->slot) {
        tr_free(log);
        return TR_ERR_NOMEM;
    }
    *out = log;
    return TR_OK;
}

void tr_sighting_log_destroy(tr_sighting_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->n; i++) {
        for (uint32_t h = 0; h < log->v[i].nhosts; h++)
            tr_free(log->v[i].hosts[h]);
        tr_free(log->v[i].hosts);
        tr_free(log->v[i].host_counts);
        tr_free(log->v[i].field);
        tr_free(log->v[i].value);
    }
    tr_free(log->v);
    tr_free(log->slot);
    tr_free(log);
}

/* The record of indicator idx, created when absent; NULL when out of memory. */
static sight *sight_of(tr_sighting_log *log, size_t idx)
{
    if (log->slot[idx])
        return &log->v[log->slot[idx] - 1];
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        sight *nv = tr_realloc(log->v, cap * sizeof *nv);
        if (!nv)
            return NULL;
        log->v = nv;
        log->cap = cap;
    }
    sight *s = &log->v[log->n];
    memset(s, 0, sizeof *s);
    s->ind = (uint32_t)idx;
    s->first = s->last = s->fv_time = TR_TIME_NONE;
    log->slot[idx] = (uint32_t)++log->n;
    return s;
}

static void widen(sight *s, tr_time first, tr_time last)
{
    if (first != TR_TIME_NONE && (s->first == TR_TIME_NONE || first < s->first))
        s->first = first;
    if (last != TR_TIME_NONE && (s->last == TR_TIME_NONE || last > s->last))
        s->last = last;
}

/* host (hl bytes) against a kept name, ignoring case */
static int host_cmp(const char *kept, const char *host, size_t hl)
{
    size_t kl = strlen(kept), n = kl < hl ? kl : hl;
    int c = strncasecmp(kept, host, n);
    return c ? c : (kl > hl) - (kl < hl);
}

/* Notes `times` sightings on a host (case ignored). The hosts kept are the
 * first TR_SIGHTING_MAX_HOSTS names in sorted order, whatever order the
 * sightings came in (parallel hunts merge logs in any order); sightings on
 * the others are counted in hosts_more. */
static tr_status add_host(sight *s, const char *host, size_t hl, uint64_t times)
{
    uint32_t at = 0;
    while (at < s->nhosts) {
        int c = host_cmp(s->hosts[at], host, hl);
        if (c == 0) {
            s->host_counts[at] += times;
            return TR_OK;
        }
        if (c > 0)
            break;
        at++;
    }
    if (at >= TR_SIGHTING_MAX_HOSTS) { /* sorts after every kept name */
        s->hosts_more += times;
        return TR_OK;
    }
    if (!s->hosts) {
        s->hosts = tr_malloc(TR_SIGHTING_MAX_HOSTS * sizeof *s->hosts);
        s->host_counts = tr_malloc(TR_SIGHTING_MAX_HOSTS * sizeof *s->host_counts);
        if (!s->hosts || !s->host_counts)
            return TR_ERR_NOMEM;
    }
    char *copy = tr_strndup(host, hl);
    if (!copy)
        return TR_ERR_NOMEM;
    if (s->nhosts == TR_SIGHTING_MAX_HOSTS) { /* the last kept name gives way */
        s->hosts_more += s->host_counts[s->nhosts - 1];
        tr_free(s->hosts[--s->nhosts]);
    }
    memmove(s->hosts + at + 1, s->hosts + at, (s->nhosts - at) * sizeof *s->hosts);
    memmove(s->host_counts + at + 1, s->host_counts + at, (s->nhosts - at) * sizeof *s->host_counts);
    s->hosts[at] = copy;
    s->host_counts[at] = times;
    s->nhosts++;
    return TR_OK;
}

/* Keeps the field and value of the earliest sighting (ties: the smaller value). */
static tr_status note_first(sight *s, tr_time t, const char *field, const char *value)
{
    if (!value)
        return TR_OK;
    if (s->value) {
        int earlier = t != TR_TIME_NONE && (s->fv_time == TR_TIME_NONE || t < s->fv_time);
        int same = t == s->fv_time;
        if (!earlier && !(same && strcmp(value, s->value) < 0))
            return TR_OK;
    }
    char *f = field ? tr_strdup(field) : NULL, *v = tr_strdup(value);
    if ((field && !f) || !v) {
        tr_free(f);
        tr_free(v);
        return TR_ERR_NOMEM;
    }
    tr_free(s->field);
    tr_free(s->value);
    s->field = f;
    s->value = v;
    s->fv_time = t;
    return TR_OK;
}

/* One sighting of indicator rule, at time t, on host (NULL: none known). */
static tr_status add_one(tr_sighting_log *log, const tr_rule_info *rule, tr_time t, const char *field,
                         const char *value, const char *host, size_t hl)
{
    if (!rule || rule->kind != TR_RULE_INDICATOR || rule->index >= log->set->ninds)
        return TR_OK;
    sight *s = sight_of(log, rule->index);
    if (!s)
        return TR_ERR_NOMEM;
    s->count++;
    widen(s, t, t);
    tr_status rc = note_first(s, t, field, value);
    if (host && add_host(s, host, hl, 1) != TR_OK)
        rc = TR_ERR_NOMEM;
    return rc;
}

tr_status tr_sighting_log_add(tr_sighting_log *log, const tr_detection *d)
{
    if (!d)
        return TR_OK;
    char key[TR_HOST_KEY_MAX];
    const char *host = NULL;
    size_t hl = 0;
    if (d->event) {
        tr_event_host(d->event, key, &host, &hl);
        if (strcmp(key, TR_HOST_UNKNOWN) == 0)
            host = NULL;
    }
    return add_one(log, d->rule, d->time, d->matched_field, d->matched_value, host, hl);
}

tr_status tr_sighting_log_add_finding(tr_sighting_log *log, const tr_finding *f)
{
    if (!f)
        return TR_OK;
    const char *host = strcmp(f->host, TR_HOST_UNKNOWN) == 0 ? NULL : f->host_name;
    return add_one(log, f->rule, f->time, f->matched_field, f->matched_value, host, host ? strlen(host) : 0);
}

tr_status tr_sighting_log_merge(tr_sighting_log *into, const tr_sighting_log *from)
{
    if (!into || !from || into->set != from->set)
        return TR_ERR_ARG;
    tr_status rc = TR_OK;
    for (size_t i = 0; i < from->n; i++) {
        const sight *f = &from->v[i];
        sight *s = sight_of(into, f->ind);
        if (!s)
            return TR_ERR_NOMEM;
        s->count += f->count;
        widen(s, f->first, f->last);
        s->hosts_more += f->hosts_more;
        for (uint32_t h = 0; h < f->nhosts; h++)
            if (add_host(s, f->hosts[h], strlen(f->hosts[h]), f->host_counts[h]) != TR_OK)
                rc = TR_ERR_NOMEM;
        if (note_first(s, f->fv_time, f->field, f->value) != TR_OK)
            rc = TR_ERR_NOMEM;
    }
    return rc;
}

size_t tr_sighting_log_count(const tr_sighting_log *log) { return log->n; }

int tr_sighting_log_get(const tr_sighting_log *log, size_t k, tr_sighting *out)
{
    if (k >= log->n)
        return 0;
    const sight *s = &log->v[k];
    out->indicator = tr_iocset_indicator(log->set, s->ind);
    out->count = s->count;
    out->first = s->first;
    out->last = s->last;
    out->hosts = (const char *const *)s->hosts;
    out->nhosts = s->nhosts;
    out->hosts_more = s->hosts_more;
    out->field = s->field;
    out->value = s->value;
    return 1;
}

/* ---------------------------------------------------------------- summary */

/* "2021-03-03T01:02:03Z": seconds are enough on a terminal. */
static const char *short_time(tr_time t, char *buf)
{
    if (t == TR_TIME_NONE)
        return "-";
    size_t n = tr_time_format(t, buf);
    if (n > 20 && buf[19] == '.') {
        buf[19] = 'Z';
        buf[20] = '\0';
    }
    return buf;
}

static int cmp_sights(const void *a, const void *b, void *ctx)
{
    const sight *v = ctx;
    const sight *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->ind < y->ind ? -1 : x->ind > y->ind;
}

tr_status tr_sighting_log_write_summary(const tr_sighting_log *log, FILE *out, size_t max)
{
    size_t n = log->n;
    size_t *order = tr_malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, cmp_sights, log->v);
    fprintf(out, "  indicators sighted: %zu\n", n);
    if (n)
        fprintf(out, "  %10s  %-20s  %-20s  %s\n", "events", "first seen", "last seen", "indicator, hosts");
    size_t shown = max && max < n ? max : n;
    for (size_t k = 0; k < shown; k++) {
        const sight *s = &log->v[order[k]];
        const tr_rule_info *r = tr_iocset_indicator(log->set, s->ind);
        char t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
        const char *title = r ? r->title : "?";
        if (strncmp(title, "Indicator ", 10) == 0)
            title += 10;
        fprintf(out, "  %10llu  %-20s  %-20s  %s", (unsigned long long)s->count, short_time(s->first, t1),
                short_time(s->last, t2), title);
        for (uint32_t h = 0; h < s->nhosts; h++)
            fprintf(out, "%s%s", h ? ", " : " on ", s->hosts[h]);
        if (s->hosts_more)
            fprintf(out, " (+%llu sightings on other hosts)", (unsigned long long)s->hosts_more);
        fputc('\n', out);
    }
    if (shown < n)
        fprintf(out, "  ... and %zu more indicators\n", n - shown);
    tr_free(order);
    return ferror(out) ? TR_ERR_IO : TR_OK;
}

/* ---------------------------------------------------------------- STIX output */

typedef struct stix_out {
    const tr_sighting_log *log;
    uint64_t rng;
    char now[TR_TIME_BUFSIZE];
    tr_strbuf b;
    FILE *f;
    bool first_object;
    /* hosts: sorted, distinct, with their identity ids */
    const char **hosts;
    char (*host_ids)[48];
    size_t nhosts;
} stix_out;

static uint64_t next_random(stix_out *o)
{
    /* splitmix64: ids need to be unique, not secret */
    uint64_t z = (o->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* "type--xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 4122 version 4). */
static void make_id(stix_out *o, const char *type, char *out, size_t cap)
{
    uint8_t b[16];
    uint64_t r1 = next_random(o), r2 = next_random(o);
    memcpy(b, &r1, 8);
    memcpy(b + 8, &r2, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, cap, "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type, b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* An RFC 3339 UTC timestamp with milliseconds, as STIX's created/modified want. */
static void stix_time(tr_time t, char *buf)
{
    size_t n = tr_time_format(t, buf);
    if (n > 23 && buf[19] == '.') {
        buf[23] = 'Z';
        buf[24] = '\0';
    }
}

static void jstr(tr_strbuf *b, const char *s)
{
    tr_strbuf_putc(b, '"');
    tr_strbuf_json_escape(b, s, strlen(s));
    tr_strbuf_putc(b, '"');
}

static void jstrn(tr_strbuf *b, const char *s, size_t n)
{
    tr_strbuf_putc(b, '"');
    tr_strbuf_json_escape(b, s, n);
    tr_strbuf_putc(b, '"');
}

/* Starts an object "{"type":..,"spec_version":"2.1","id":..". */
static void obj_begin(stix_out *o, const char *type, const char *id)
{
    tr_strbuf_clear(&o->b);
    tr_strbuf_puts(&o->b, o->first_object ? "\n" : ",\n");
    o->first_object = false;
    tr_strbuf_puts(&o->b, "{\"type\":");
    jstr(&o->b, type);
    tr_strbuf_puts(&o->b, ",\"spec_version\":\"2.1\",\"id\":");
    jstr(&o->b, id);
}

static void obj_prop(stix_out *o, const char *name, const char *value)
{
    tr_strbuf_printf(&o->b, ",\"%s\":", name);
    jstr(&o->b, value);
}

static void obj_end(stix_out *o)
{
    tr_strbuf_putc(&o->b, '}');
    if (!tr_strbuf_failed(&o->b))
        fwrite(o->b.data, 1, o->b.len, o->f);
}

/* A STIX string literal inside a pattern: ' and \ escaped. */
static void pattern_str(tr_strbuf *p, const char *s)
{
    tr_strbuf_putc(p, '\'');
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            tr_strbuf_putc(p, '\\');
        tr_strbuf_putc(p, *s);
    }
    tr_strbuf_putc(p, '\'');
}

/* A regular expression matching s literally. */
static void regex_literal(tr_strbuf *p, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\^$.|?*+()[]{}/-", *s))
            tr_strbuf_putc(p, '\\');
        tr_strbuf_putc(p, *s);
    }
}

/* The pattern of an indicator that did not come as STIX. */
static void make_pattern(tr_strbuf *p, const ioc_ind *x)
{
    const char *v = x->value ? x->value : "";
    tr_strbuf_putc(p, '[');
    switch (x->type) {
    case TR_IOC_IPV4: tr_strbuf_puts(p, "ipv4-addr:value = "); pattern_str(p, v); break;
    case TR_IOC_IPV6: tr_strbuf_puts(p, "ipv6-addr:value = "); pattern_str(p, v); break;
    case TR_IOC_DOMAIN: tr_strbuf_puts(p, "domain-name:value = "); pattern_str(p, v); break;
    case TR_IOC_URL: {
        tr_strbuf url;
        tr_strbuf_init(&url);
        tr_strbuf_puts(&url, "http://");
        tr_strbuf_puts(&url, v);
        tr_strbuf_puts(p, "url:value = ");
        pattern_str(p, url.data ? url.data : "");
        tr_strbuf_free(&url);
        break;
    }
    case TR_IOC_MD5: tr_strbuf_puts(p, "file:hashes.MD5 = "); pattern_str(p, v); break;
    case TR_IOC_SHA1: tr_strbuf_puts(p, "file:hashes.'SHA-1' = "); pattern_str(p, v); break;
    case TR_IOC_SHA256: tr_strbuf_puts(p, "file:hashes.'SHA-256' = "); pattern_str(p, v); break;
    case TR_IOC_FILENAME: tr_strbuf_puts(p, "file:name = "); pattern_str(p, v); break;
    case TR_IOC_PATH: {
        const char *bs = strrchr(v, '\\'), *fs = strrchr(v, '/');
        const char *sep = !bs ? fs : !fs ? bs : bs > fs ? bs : fs;
        if (sep && sep[1]) {
            char *dir = tr_strndup(v, (size_t)(sep - v) ? (size_t)(sep - v) : 1);
            tr_strbuf_puts(p, "file:parent_directory_ref.path = ");
            pattern_str(p, dir ? dir : "");
            tr_strbuf_puts(p, " AND file:name = ");
            pattern_str(p, sep + 1);
            tr_free(dir);
        } else {
            tr_strbuf_puts(p, "file:name = ");
            pattern_str(p, v);
        }
        break;
    }
    case TR_IOC_EMAIL: tr_strbuf_puts(p, "email-addr:value = "); pattern_str(p, v); break;
    case TR_IOC_USER: tr_strbuf_puts(p, "user-account:user_id = "); pattern_str(p, v); break;
    case TR_IOC_USER_AGENT:
    case TR_IOC_CMDLINE: {
        tr_strbuf re;
        tr_strbuf_init(&re);
        tr_strbuf_puts(&re, "(?i)");
        regex_literal(&re, v);
        tr_strbuf_puts(p, x->type == TR_IOC_CMDLINE
                              ? "process:command_line MATCHES "
                              : "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' MATCHES ");
        pattern_str(p, re.data ? re.data : "");
        tr_strbuf_free(&re);
        break;
    }
    default: tr_strbuf_puts(p, "x-traccia-observed-value:value = "); pattern_str(p, v); break;
    }
    tr_strbuf_putc(p, ']');
}

static void write_indicator(stix_out *o, const sight *s, const ioc_ind *x, const char *id)
{
    const tr_rule_info *r = tr_iocset_indicator(o->log->set, s->ind);
    obj_begin(o, "indicator", id);
    if (x->stix) {
        obj_prop(o, "created", x->stix->created ? x->stix->created : o->now);
        obj_prop(o, "modified", x->stix->modified ? x->stix->modified : x->stix->created ? x->stix->created : o->now);
        if (x->name)
            obj_prop(o, "name", x->name);
        obj_prop(o, "pattern", x->stix->pattern);
        obj_prop(o, "pattern_type", "stix");
        obj_prop(o, "valid_from", x->stix->valid_from ? x->stix->valid_from : x->stix->created ? x->stix->created : o->now);
        if (x->stix->valid_until)
            obj_prop(o, "valid_until", x->stix->valid_until);
    } else {
        obj_prop(o, "created", o->now);
        obj_prop(o, "modified", o->now);
        if (r)
            obj_prop(o, "name", r->title);
        const tr_ioc_source *src = &o->log->set->sources[x->source];
        char desc[600];
        snprintf(desc, sizeof desc, "%s indicator from %.400s%s%s", tr_ioc_format_name(src->format), src->path,
                 x->id ? ", " : "", x->id ? x->id : "");
        obj_prop(o, "description", desc);
        tr_strbuf p;
        tr_strbuf_init(&p);
        make_pattern(&p, x);
        obj_prop(o, "pattern", p.data ? p.data : "[]");
        tr_strbuf_free(&p);
        obj_prop(o, "pattern_type", "stix");
        char vf[TR_TIME_BUFSIZE];
        if (s->first != TR_TIME_NONE)
            stix_time(s->first, vf);
        obj_prop(o, "valid_from", s->first != TR_TIME_NONE ? vf : o->now);
    }
    if (x->ntags) {
        tr_strbuf_puts(&o->b, ",\"labels\":[");
        for (uint32_t t = 0; t < x->ntags; t++) {
            if (t)
                tr_strbuf_putc(&o->b, ',');
            jstr(&o->b, x->tags[t]);
        }
        tr_strbuf_putc(&o->b, ']');
    }
    obj_end(o);
}

static bool is_ci_equal(const char *a, const char *b) { return strlen(a) == strlen(b) && !strcasecmp(a, b); }

static const char *base_of(const char *v)
{
    const char *bs = strrchr(v, '\\'), *fs = strrchr(v, '/');
    const char *sep = !bs ? fs : !fs ? bs : bs > fs ? bs : fs;
    return sep ? sep + 1 : v;
}

/* Writes the cyber-observable object for what was seen; its id in sco_id. */
static void write_sco(stix_out *o, const sight *s, const ioc_ind *x, char *sco_id, size_t cap)
{
    const char *seen = s->value ? s->value : "";
    const char *v = x->value ? x->value : "";
    int type = x->type;
    ioc_ip ip;
    ioc_url u;
    size_t sl = strlen(seen);
    if (type == TR_IOC_PATTERN) { /* name it by its shape */
        if (tr_ioc_parse_event_ip(seen, sl, &ip))
            type = ip.family == 4 ? TR_IOC_IPV4 : TR_IOC_IPV6;
        else if (tr_ioc_url_split(seen, sl, &u) && !memchr(seen, ' ', sl))
            type = TR_IOC_URL;
        else if ((sl == 32 || sl == 40 || sl == 64) && tr_ioc_is_hex(seen, sl))
            type = sl == 32 ? TR_IOC_MD5 : sl == 40 ? TR_IOC_SHA1 : TR_IOC_SHA256;
        else if (tr_ioc_email_valid(seen, sl))
            type = TR_IOC_EMAIL;
        else
            type = -1;
        v = seen;
    }
    char buf[IOC_MAX_VALUE + 64];
    switch (type) {
    case TR_IOC_IPV4:
    case TR_IOC_IPV6: {
        const char *val = v;
        if (tr_ioc_parse_event_ip(seen, sl, &ip) && tr_ioc_ip_format(&ip, buf, sizeof buf))
            val = buf;
        else if (tr_ioc_parse_ip(v, strlen(v), &ip, true) == false)
            val = v;
        make_id(o, ip.family == 6 || type == TR_IOC_IPV6 ? "ipv6-addr" : "ipv4-addr", sco_id, cap);
        obj_begin(o, ip.family == 6 || type == TR_IOC_IPV6 ? "ipv6-addr" : "ipv4-addr", sco_id);
        obj_prop(o, "value", val);
        break;
    }
    case TR_IOC_DOMAIN: {
        /* the host actually seen: a URL's host, an address's domain, the value */
        const char *h = seen;
        size_t hn = sl;
        if (tr_ioc_url_split(seen, sl, &u)) {
            h = u.host;
            hn = u.host_len;
        } else if (memchr(seen, '@', sl)) {
            const char *at = memchr(seen, '@', sl);
            h = at + 1;
            hn = sl - (size_t)(h - seen);
        }
        const char *colon = memchr(h, ':', hn);
        if (colon)
            hn = (size_t)(colon - h);
        make_id(o, "domain-name", sco_id, cap);
        obj_begin(o, "domain-name", sco_id);
        if (hn && hn < sizeof buf && tr_ioc_domain_valid(h, hn)) {
            for (size_t i = 0; i < hn; i++)
                buf[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i]);
            buf[hn] = '\0';
            obj_prop(o, "value", buf);
        } else {
            obj_prop(o, "value", v);
        }
        break;
    }
    case TR_IOC_URL:
        make_id(o, "url", sco_id, cap);
        obj_begin(o, "url", sco_id);
        if (tr_ioc_url_split(seen, sl, &u) && !memchr(seen, ' ', sl)) {
            obj_prop(o, "value", seen);
        } else {
            snprintf(buf, sizeof buf, "http://%s", v);
            obj_prop(o, "value", buf);
        }
        break;
    case TR_IOC_MD5:
    case TR_IOC_SHA1:
    case TR_IOC_SHA256:
        make_id(o, "file", sco_id, cap);
        obj_begin(o, "file", sco_id);
        tr_strbuf_printf(&o->b, ",\"hashes\":{\"%s\":",
                         type == TR_IOC_MD5 ? "MD5" : type == TR_IOC_SHA1 ? "SHA-1" : "SHA-256");
        jstr(&o->b, v);
        tr_strbuf_putc(&o->b, '}');
        break;
    case TR_IOC_FILENAME:
    case TR_IOC_PATH: {
        const char *name = is_ci_equal(base_of(seen), base_of(v)) ? base_of(seen) : base_of(v);
        char dir_id[64] = "";
        if (type == TR_IOC_PATH && base_of(v) != v) {
            const char *path = is_ci_equal(seen, v) ? seen : v;
            size_t dl = (size_t)(base_of(path) - path) - 1;
            make_id(o, "directory", dir_id, sizeof dir_id);
            obj_begin(o, "directory", dir_id);
            tr_strbuf_puts(&o->b, ",\"path\":");
            jstrn(&o->b, path, dl ? dl : 1);
            obj_end(o);
        }
        make_id(o, "file", sco_id, cap);
        obj_begin(o, "file", sco_id);
        obj_prop(o, "name", name);
        if (dir_id[0])
            obj_prop(o, "parent_directory_ref", dir_id);
        break;
    }
    case TR_IOC_EMAIL:
        make_id(o, "email-addr", sco_id, cap);
        obj_begin(o, "email-addr", sco_id);
        obj_prop(o, "value", v);
        break;
    case TR_IOC_USER:
        make_id(o, "user-account", sco_id, cap);
        obj_begin(o, "user-account", sco_id);
        obj_prop(o, "user_id", seen[0] ? seen : v);
        break;
    case TR_IOC_CMDLINE:
        make_id(o, "process", sco_id, cap);
        obj_begin(o, "process", sco_id);
        obj_prop(o, "command_line", seen[0] ? seen : v);
        break;
    default: /* user agents, and what STIX has no object for */
        make_id(o, "x-traccia-observed-value", sco_id, cap);
        obj_begin(o, "x-traccia-observed-value", sco_id);
        obj_prop(o, "field", s->field ? s->field : "");
        obj_prop(o, "value", seen);
        break;
    }
    obj_end(o);
}

static int cmp_host(const void *a, const void *b) { return strcasecmp(*(char *const *)a, *(char *const *)b); }

static const char *host_id(const stix_out *o, const char *h)
{
    size_t lo = 0, hi = o->nhosts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcasecmp(o->hosts[mid], h);
        if (c == 0)
            return o->host_ids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

tr_status tr_sighting_log_write_stix(const tr_sighting_log *log, FILE *f)
{
    stix_out o;
    memset(&o, 0, sizeof o);
    o.log = log;
    o.f = f;
    o.first_object = true;
    if (getrandom(&o.rng, sizeof o.rng, 0) != (ssize_t)sizeof o.rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o.rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)&o;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    stix_time((tr_time)ts.tv_sec * 1000000000 + ts.tv_nsec, o.now);
    tr_strbuf_init(&o.b);
    /* the hosts, once each */
    size_t nh = 0;
    for (size_t i = 0; i < log->n; i++)
        nh += log->v[i].nhosts;
    o.hosts = tr_malloc((nh ? nh : 1) * sizeof *o.hosts);
    o.host_ids = tr_malloc((nh ? nh : 1) * sizeof *o.host_ids);
    if (!o.hosts || !o.host_ids) {
        tr_free(o.hosts);
        tr_free(o.host_ids);
        return TR_ERR_NOMEM;
    }
    for (size_t i = 0; i < log->n; i++)
        for (uint32_t h = 0; h < log->v[i].nhosts; h++)
            o.hosts[o.nhosts++] = log->v[i].hosts[h];
    qsort(o.hosts, o.nhosts, sizeof *o.hosts, cmp_host);
    size_t k = 0;
    for (size_t i = 0; i < o.nhosts; i++)
        if (k == 0 || strcasecmp(o.hosts[k - 1], o.hosts[i]) != 0)
            o.hosts[k++] = o.hosts[i];
    o.nhosts = k;

    char id[64];
    make_id(&o, "bundle", id, sizeof id);
    fprintf(f, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", id);
    for (size_t i = 0; i < o.nhosts; i++) {
        make_id(&o, "identity", o.host_ids[i], sizeof o.host_ids[i]);
        obj_begin(&o, "identity", o.host_ids[i]);
        obj_prop(&o, "created", o.now);
        obj_prop(&o, "modified", o.now);
        obj_prop(&o, "name", o.hosts[i]);
        obj_prop(&o, "identity_class", "system");
        obj_end(&o);
    }
    for (size_t i = 0; i < log->n; i++) {
        const sight *s = &log->v[i];
        const ioc_ind *x = &log->set->inds[s->ind];
        char ind_id[4160], sco_id[96], od_id[64], sg_id[64];
        if (x->stix && x->id)
            snprintf(ind_id, sizeof ind_id, "%s", x->id);
        else
            make_id(&o, "indicator", ind_id, sizeof ind_id);
        write_indicator(&o, s, x, ind_id);
        write_sco(&o, s, x, sco_id, sizeof sco_id);
        char t1[TR_TIME_BUFSIZE], t2[TR_TIME_BUFSIZE];
        if (s->first != TR_TIME_NONE) {
            tr_time_format(s->first, t1);
            tr_time_format(s->last, t2);
        }
        unsigned long long cnt = s->count > STIX_MAX_COUNT ? STIX_MAX_COUNT : s->count;
        make_id(&o, "observed-data", od_id, sizeof od_id);
        obj_begin(&o, "observed-data", od_id);
        obj_prop(&o, "created", o.now);
        obj_prop(&o, "modified", o.now);
        /* events without a time are observed "now", when traccia saw them */
        obj_prop(&o, "first_observed", s->first != TR_TIME_NONE ? t1 : o.now);
        obj_prop(&o, "last_observed", s->first != TR_TIME_NONE ? t2 : o.now);
        tr_strbuf_printf(&o.b, ",\"number_observed\":%llu,\"object_refs\":[", cnt ? cnt : 1);
        jstr(&o.b, sco_id);
        tr_strbuf_putc(&o.b, ']');
        obj_end(&o);
        make_id(&o, "sighting", sg_id, sizeof sg_id);
        obj_begin(&o, "sighting", sg_id);
        obj_prop(&o, "created", o.now);
        obj_prop(&o, "modified", o.now);
        if (s->first != TR_TIME_NONE) {
            obj_prop(&o, "first_seen", t1);
            obj_prop(&o, "last_seen", t2);
        }
        tr_strbuf_printf(&o.b, ",\"count\":%llu", cnt);
        obj_prop(&o, "sighting_of_ref", ind_id);
        tr_strbuf_puts(&o.b, ",\"observed_data_refs\":[");
        jstr(&o.b, od_id);
        tr_strbuf_putc(&o.b, ']');
        if (s->nhosts) {
            tr_strbuf_puts(&o.b, ",\"where_sighted_refs\":[");
            for (uint32_t h = 0; h < s->nhosts; h++) {
                if (h)
                    tr_strbuf_putc(&o.b, ',');
                const char *hid = host_id(&o, s->hosts[h]);
                jstr(&o.b, hid ? hid : "");
            }
            tr_strbuf_putc(&o.b, ']');
        }
        char desc[512];
        snprintf(desc, sizeof desc, "traccia: seen in %llu event(s)%s%.200s", (unsigned long long)s->count,
                 s->field ? ", first in field " : "", s->field ? s->field : "");
        obj_prop(&o, "description", desc);
        obj_end(&o);
    }
    fputs("\n]}\n", f);
    bool failed = tr_strbuf_failed(&o.b);
    tr_strbuf_free(&o.b);
    tr_free(o.hosts);
    tr_free(o.host_ids);
    if (failed)
        return TR_ERR_NOMEM;
    return ferror(f) ? TR_ERR_IO : TR_OK;
}
