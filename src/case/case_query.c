/*
 * case_query.c — the questions a responder asks of a case (`traccia case`):
 * the summary, the hosts with their first trace, last activity and dwell
 * time, the merged timeline, the evidence inventory; as text, JSON, JSON
 * lines or CSV (tr_case_write_* in traccia.h); and the problems met reading
 * the evidence.
 *
 * First trace, honestly (docs/CASE.md): a host's first trace is its
 * earliest timed finding that counts as a trace — one at or above the
 * trace level (medium unless asked otherwise; a lower finding never moves
 * the date). With a trace level of low or informational, such a finding
 * counts only when another rule fired on the same host within
 * CORROBORATION of it: an isolated low or informational hit is noise, not a
 * trace. Last activity is the latest finding that
 * counts; dwell time is the one minus the other. Every figure carries the
 * id of the finding it rests on, so a person can check it
 * (`sqlite3 CASE.db "SELECT * FROM timeline WHERE id = N"`).
 *
 * Owns nothing beyond a call: statements are prepared and finalized per
 * question (they are asked once), results built in local buffers.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "store.h"

#define CORROBORATION (3600ll * 1000000000ll) /* a low finding counts with another rule's within an hour */
#define CORROBORATION_SCAN 64                 /* neighbours looked at each way (the same rule repeated is no
                                               * corroboration) */
#define TOP_TECHNIQUES 3

static tr_status prepare(tr_case *c, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? TR_OK : tr_case_fail(c, rc, "reading the case");
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return tr_strdup(s ? (const char *)s : "");
}

static tr_time col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? TR_TIME_NONE : (tr_time)sqlite3_column_int64(st, i);
}

static void put_time(tr_strbuf *b, tr_time t)
{
    char buf[TR_TIME_BUFSIZE];
    if (t == TR_TIME_NONE) {
        tr_strbuf_puts(b, "-");
        return;
    }
    tr_time_format(t, buf);
    tr_strbuf_puts(b, buf);
}

/* "T1505.003 T1059.003" as ["T1505.003","T1059.003"]. */
static void json_words(tr_strbuf *b, const char *text)
{
    tr_strbuf_putc(b, '[');
    bool first = true;
    for (const char *t = text; t && *t;) {
        size_t len = strcspn(t, " ");
        if (len) {
            if (!first)
                tr_strbuf_putc(b, ',');
            first = false;
            tr_strbuf_putc(b, '"');
            tr_strbuf_json_escape(b, t, len);
            tr_strbuf_putc(b, '"');
        }
        t += len;
        while (*t == ' ')
            t++;
    }
    tr_strbuf_putc(b, ']');
}

static tr_status flush_buf(tr_strbuf *b, FILE *out)
{
    tr_status rc = TR_OK;
    if (tr_strbuf_failed(b))
        rc = TR_ERR_NOMEM;
    else if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
        rc = TR_ERR_IO;
    tr_strbuf_clear(b);
    return rc;
}

/* "12 days 03:04:05" */
static void put_duration(tr_strbuf *b, int64_t secs)
{
    if (secs < 0) {
        tr_strbuf_puts(b, "-");
        return;
    }
    int64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
    if (d)
        tr_strbuf_printf(b, "%lld day%s ", (long long)d, d == 1 ? "" : "s");
    tr_strbuf_printf(b, "%02lld:%02lld:%02lld", (long long)h, (long long)m, (long long)s);
}

/* The host key a user's --host names (a key, a name, an FQDN). */
static void host_arg(const tr_case_query *q, char key[TR_HOST_KEY_MAX])
{
    key[0] = '\0';
    if (q && q->host)
        tr_host_key(q->host, strlen(q->host), key);
}

/* ---------------------------------------------------------------- hosts */

typedef struct hfind {
    int64_t id;
    tr_time ts;
    int level;
    int64_t rule;
} hfind;

typedef struct tcount {
    char id[32];
    uint64_t n;
} tcount;

static int cmp_tcount(const void *a, const void *b)
{
    const tcount *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->id, y->id);
}

static int cmp_host(const void *a, const void *b)
{
    const tr_case_host *x = a, *y = b;
    bool tx = x->first_trace != TR_TIME_NONE, ty = y->first_trace != TR_TIME_NONE;
    if (tx != ty)
        return tx ? -1 : 1;
    if (tx && x->first_trace != y->first_trace)
        return x->first_trace < y->first_trace ? -1 : 1;
    if (x->findings != y->findings)
        return x->findings > y->findings ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* One host's findings in time order, streamed: a finding is judged once
 * CORROBORATION_SCAN later ones are in (or the host's findings end), with
 * as many earlier ones still in the ring, so memory does not grow with the
 * number of findings. */
#define RING (2 * CORROBORATION_SCAN + 2)

typedef struct host_pass {
    tr_case_host *h;
    int trace_level;
    hfind ring[RING];
    uint64_t pushed, judged; /* findings pushed into the ring, and judged, so far */
    tcount *tc;
    size_t ntc, captc;
} host_pass;

static const hfind *ring_at(const host_pass *p, uint64_t i) { return &p->ring[i % RING]; }

static void judge(host_pass *p, uint64_t i)
{
    const hfind *f = ring_at(p, i);
    tr_case_host *h = p->h;
    if (f->ts == TR_TIME_NONE)
        return; /* untimed findings date nothing */
    bool counts = f->level >= p->trace_level;
    if (counts && f->level < TR_LEVEL_MEDIUM) { /* below medium: only corroborated by another rule */
        counts = false;
        for (uint64_t k = i + 1; !counts && k < p->pushed && k <= i + CORROBORATION_SCAN; k++) {
            const hfind *g = ring_at(p, k);
            if (g->ts == TR_TIME_NONE || g->ts - f->ts > CORROBORATION)
                break;
            counts = g->rule != f->rule;
        }
        for (uint64_t k = i; !counts && k-- > 0 && k + CORROBORATION_SCAN >= i;) {
            const hfind *g = ring_at(p, k);
            if (f->ts - g->ts > CORROBORATION)
                break;
            counts = g->rule != f->rule;
        }
    }
    if (!counts)
        return;
    if (h->first_trace == TR_TIME_NONE) {
        h->first_trace = f->ts;
        h->first_finding = f->id;
    }
    h->last_activity = f->ts;
    h->last_finding = f->id;
}

static tr_status count_techniques(host_pass *p, const char *t)
{
    while (t && *t) {
        while (*t == ' ')
            t++;
        size_t len = strcspn(t, " ");
        if (!len)
            break;
        char id[32];
        snprintf(id, sizeof id, "%.*s", (int)(len < 31 ? len : 31), t);
        size_t k = 0;
        while (k < p->ntc && strcmp(p->tc[k].id, id) != 0)
            k++;
        if (k == p->ntc) {
            if (p->ntc == p->captc) {
                size_t nc = p->captc ? p->captc * 2 : 32;
                tcount *v = tr_realloc(p->tc, nc * sizeof *v);
                if (!v)
                    return TR_ERR_NOMEM;
                p->tc = v;
                p->captc = nc;
            }
            memcpy(p->tc[p->ntc].id, id, sizeof id);
            p->tc[p->ntc++].n = 0;
        }
        p->tc[k].n++;
        t += len;
    }
    return TR_OK;
}

static void host_begin(host_pass *p, tr_case_host *h)
{
    p->h = h;
    p->pushed = p->judged = 0;
    p->ntc = 0;
}

static tr_status host_add(host_pass *p, const hfind *f, const char *techniques)
{
    tr_case_host *h = p->h;
    h->findings++;
    h->per_level[f->level >= 0 && f->level <= TR_LEVEL_CRITICAL ? f->level : 0]++;
    if (f->ts != TR_TIME_NONE) {
        if (h->first_seen == TR_TIME_NONE || f->ts < h->first_seen)
            h->first_seen = f->ts;
        if (h->last_seen == TR_TIME_NONE || f->ts > h->last_seen)
            h->last_seen = f->ts;
    }
    p->ring[p->pushed % RING] = *f;
    p->pushed++;
    if (p->pushed > CORROBORATION_SCAN)
        judge(p, p->judged++);
    return count_techniques(p, techniques);
}

/* The host's findings are all in: the rest judged, the figures finished. */
static tr_status host_end(tr_case *c, host_pass *p)
{
    tr_case_host *h = p->h;
    if (!h)
        return TR_OK;
    while (p->judged < p->pushed)
        judge(p, p->judged++);
    if (h->first_trace != TR_TIME_NONE)
        h->dwell_seconds = (h->last_activity - h->first_trace) / 1000000000ll;
    tr_status rc = TR_OK;
    if (h->first_finding) { /* the finding the first trace rests on */
        sqlite3_stmt *st;
        rc = prepare(c,
                     "SELECT r.rule_id, r.title, e.path, f.record FROM findings f JOIN rules r ON r.id = f.rule "
                     "LEFT JOIN evidence e ON e.id = f.evidence WHERE f.id = ?",
                     &st);
        if (rc == TR_OK) {
            sqlite3_bind_int64(st, 1, h->first_finding);
            if (sqlite3_step(st) == SQLITE_ROW) {
                h->first_rule = col_dup(st, 0);
                h->first_title = col_dup(st, 1);
                h->first_path = col_dup(st, 2);
                h->first_record = (uint64_t)sqlite3_column_int64(st, 3);
                if (!h->first_rule || !h->first_title || !h->first_path)
                    rc = TR_ERR_NOMEM;
            }
            sqlite3_finalize(st);
        }
    }
    if (rc == TR_OK) {
        if (p->ntc)
            qsort(p->tc, p->ntc, sizeof *p->tc, cmp_tcount);
        tr_strbuf b;
        tr_strbuf_init(&b);
        for (size_t k = 0; k < p->ntc && k < TOP_TECHNIQUES; k++)
            tr_strbuf_printf(&b, "%s%s (%llu)", k ? ", " : "", p->tc[k].id, (unsigned long long)p->tc[k].n);
        tr_strbuf_putc(&b, '\0');
        h->techniques = tr_strbuf_failed(&b) ? NULL : tr_strdup(b.data);
        tr_strbuf_free(&b);
        if (!h->techniques)
            rc = TR_ERR_NOMEM;
    }
    p->h = NULL;
    return rc;
}

void tr_case_hosts_free(tr_case_host *hosts, size_t n)
{
    for (size_t i = 0; hosts && i < n; i++) {
        tr_free(hosts[i].key);
        tr_free(hosts[i].name);
        tr_free(hosts[i].first_rule);
        tr_free(hosts[i].first_title);
        tr_free(hosts[i].first_path);
        tr_free(hosts[i].techniques);
    }
    tr_free(hosts);
}

tr_status tr_case_hosts(tr_case *c, const tr_case_query *q, tr_case_host **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    int trace_level = q && q->trace_level > 0 ? q->trace_level : TR_LEVEL_MEDIUM;
    char want[TR_HOST_KEY_MAX];
    host_arg(q, want);
    sqlite3_stmt *st;
    tr_status rc = prepare(c, "SELECT id, key, name FROM hosts ORDER BY id", &st);
    if (rc != TR_OK)
        return rc;
    tr_case_host *v = NULL;
    size_t n = 0, cap = 0;
    int64_t *ids = NULL;
    int step;
    while (rc == TR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 1);
        if (want[0] && (!key || strcmp(key, want) != 0))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            tr_case_host *nv = tr_realloc(v, nc * sizeof *nv);
            int64_t *ni = nv ? tr_realloc(ids, nc * sizeof *ni) : NULL;
            if (nv)
                v = nv;
            if (!ni) {
                rc = TR_ERR_NOMEM;
                break;
            }
            ids = ni;
            cap = nc;
        }
        tr_case_host *h = &v[n];
        memset(h, 0, sizeof *h);
        h->first_trace = h->first_seen = h->last_seen = h->last_activity = TR_TIME_NONE;
        h->dwell_seconds = -1;
        ids[n] = sqlite3_column_int64(st, 0);
        n++;
        h->key = col_dup(st, 1);
        h->name = col_dup(st, 2);
        if (!h->key || !h->name)
            rc = TR_ERR_NOMEM;
    }
    if (rc == TR_OK && step != SQLITE_DONE)
        rc = tr_case_fail(c, step, "reading the case");
    sqlite3_finalize(st);
    /* one pass over every finding, by host and time */
    if (rc == TR_OK && n) {
        rc = prepare(c,
                     "SELECT f.host, f.id, f.ts, f.level, f.rule, r.techniques FROM findings f "
                     "JOIN rules r ON r.id = f.rule ORDER BY f.host, f.ts IS NULL, f.ts, f.id",
                     &st);
        host_pass *p = rc == TR_OK ? tr_calloc(1, sizeof *p) : NULL;
        if (rc == TR_OK && !p)
            rc = TR_ERR_NOMEM;
        if (p)
            p->trace_level = trace_level;
        int64_t cur = 0;
        size_t at = 0;
        while (rc == TR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t host = sqlite3_column_int64(st, 0);
            if (host != cur) {
                rc = host_end(c, p);
                cur = host;
                while (at < n && ids[at] < host) /* hosts and findings both by id */
                    at++;
                if (at < n && ids[at] == host)
                    host_begin(p, &v[at]);
            }
            if (rc != TR_OK || !p->h)
                continue; /* another host than --host asked for */
            hfind f = {sqlite3_column_int64(st, 1), col_time(st, 2), sqlite3_column_int(st, 3),
                       sqlite3_column_int64(st, 4)};
            rc = host_add(p, &f, (const char *)sqlite3_column_text(st, 5));
        }
        if (rc == TR_OK && step != SQLITE_DONE)
            rc = tr_case_fail(c, step, "reading the case");
        if (rc == TR_OK && p)
            rc = host_end(c, p);
        if (p)
            tr_free(p->tc);
        tr_free(p);
        sqlite3_finalize(st);
    }
    tr_free(ids);
    if (rc != TR_OK) {
        tr_case_hosts_free(v, n);
        return rc;
    }
    qsort(v, n, sizeof *v, cmp_host);
    *out = v;
    *nout = n;
    return TR_OK;
}

static void level_counts(tr_strbuf *b, const uint64_t *per_level)
{
    int any = 0;
    for (int l = TR_LEVEL_CRITICAL; l >= TR_LEVEL_INFORMATIONAL; l--)
        if (per_level[l]) {
            tr_strbuf_printf(b, "%s%s %llu", any ? ", " : "", tr_level_name(l), (unsigned long long)per_level[l]);
            any = 1;
        }
    if (per_level[0])
        tr_strbuf_printf(b, "%sno level %llu", any ? ", " : "", (unsigned long long)per_level[0]);
}

static void json_levels(tr_strbuf *b, const uint64_t *per_level)
{
    tr_strbuf_putc(b, '{');
    for (int l = TR_LEVEL_CRITICAL; l >= TR_LEVEL_INFORMATIONAL; l--)
        tr_strbuf_printf(b, "\"%s\":%llu%s", tr_level_name(l), (unsigned long long)per_level[l],
                         l > TR_LEVEL_INFORMATIONAL ? "," : "");
    tr_strbuf_putc(b, '}');
}

static void json_host(tr_strbuf *b, const tr_case_host *h)
{
    tr_strbuf_puts(b, "{\"key\":");
    tr_strbuf_json_string(b, h->key);
    tr_strbuf_puts(b, ",\"name\":");
    tr_strbuf_json_string(b, h->name);
    tr_strbuf_puts(b, ",\"first_trace\":");
    if (h->first_finding) {
        tr_strbuf_puts(b, "{\"time\":");
        tr_strbuf_json_time(b, h->first_trace);
        tr_strbuf_printf(b, ",\"finding\":%lld,\"rule_id\":", (long long)h->first_finding);
        tr_strbuf_json_string(b, h->first_rule);
        tr_strbuf_puts(b, ",\"title\":");
        tr_strbuf_json_string(b, h->first_title);
        tr_strbuf_puts(b, ",\"path\":");
        tr_strbuf_json_string(b, h->first_path);
        tr_strbuf_printf(b, ",\"record\":%llu}", (unsigned long long)h->first_record);
    } else {
        tr_strbuf_puts(b, "null");
    }
    tr_strbuf_puts(b, ",\"last_activity\":");
    if (h->last_finding) {
        tr_strbuf_puts(b, "{\"time\":");
        tr_strbuf_json_time(b, h->last_activity);
        tr_strbuf_printf(b, ",\"finding\":%lld}", (long long)h->last_finding);
    } else {
        tr_strbuf_puts(b, "null");
    }
    tr_strbuf_puts(b, ",\"dwell_seconds\":");
    if (h->dwell_seconds >= 0)
        tr_strbuf_printf(b, "%lld", (long long)h->dwell_seconds);
    else
        tr_strbuf_puts(b, "null");
    tr_strbuf_puts(b, ",\"first_seen\":");
    tr_strbuf_json_time(b, h->first_seen);
    tr_strbuf_puts(b, ",\"last_seen\":");
    tr_strbuf_json_time(b, h->last_seen);
    tr_strbuf_printf(b, ",\"findings\":%llu,\"by_level\":", (unsigned long long)h->findings);
    json_levels(b, h->per_level);
    tr_strbuf_puts(b, ",\"techniques\":");
    tr_strbuf_json_string(b, h->techniques);
    tr_strbuf_putc(b, '}');
}

static const char *level_word(int l) { return l > 0 && l <= TR_LEVEL_CRITICAL ? tr_level_name(l) : "none"; }

tr_status tr_case_write_hosts(tr_case *c, const tr_case_query *q, int as, FILE *out)
{
    tr_case_host *v;
    size_t n;
    tr_status rc = tr_case_hosts(c, q, &v, &n);
    if (rc != TR_OK)
        return rc;
    int trace_level = q && q->trace_level > 0 ? q->trace_level : TR_LEVEL_MEDIUM;
    tr_strbuf b;
    tr_strbuf_init(&b);
    if (as == TR_CASE_JSON) {
        tr_strbuf_printf(&b, "{\"trace_level\":\"%s\",\"hosts\":[", level_word(trace_level));
        for (size_t i = 0; i < n; i++) {
            if (i)
                tr_strbuf_putc(&b, ',');
            json_host(&b, &v[i]);
        }
        tr_strbuf_puts(&b, "]}\n");
    } else {
        tr_strbuf_printf(&b, "%zu host(s); a trace is a finding at %s or above (below medium: with another rule's "
                             "within an hour; docs/CASE.md)\n",
                         n, level_word(trace_level));
        for (size_t i = 0; i < n; i++) {
            const tr_case_host *h = &v[i];
            tr_strbuf_printf(&b, "\n%s", h->name);
            if (strcasecmp(h->name, h->key) != 0)
                tr_strbuf_printf(&b, " (%s)", h->key);
            tr_strbuf_putc(&b, '\n');
            if (h->first_finding) {
                tr_strbuf_puts(&b, "  first trace:    ");
                put_time(&b, h->first_trace);
                tr_strbuf_printf(&b, "  finding #%lld: %s\n", (long long)h->first_finding, h->first_title);
                if (h->first_path && *h->first_path)
                    tr_strbuf_printf(&b, "                  %s record %llu\n", h->first_path,
                                     (unsigned long long)h->first_record);
                tr_strbuf_puts(&b, "  last activity:  ");
                put_time(&b, h->last_activity);
                tr_strbuf_printf(&b, "  finding #%lld\n", (long long)h->last_finding);
                tr_strbuf_puts(&b, "  dwell time:     ");
                put_duration(&b, h->dwell_seconds);
                tr_strbuf_putc(&b, '\n');
            } else {
                tr_strbuf_printf(&b, "  first trace:    none (no finding counts as a trace)\n");
            }
            tr_strbuf_printf(&b, "  findings:       %llu", (unsigned long long)h->findings);
            if (h->findings) {
                tr_strbuf_puts(&b, " (");
                level_counts(&b, h->per_level);
                tr_strbuf_puts(&b, "), ");
                put_time(&b, h->first_seen);
                tr_strbuf_puts(&b, " .. ");
                put_time(&b, h->last_seen);
            }
            tr_strbuf_putc(&b, '\n');
            if (h->techniques && *h->techniques)
                tr_strbuf_printf(&b, "  techniques:     %s\n", h->techniques);
        }
    }
    rc = flush_buf(&b, out);
    tr_strbuf_free(&b);
    tr_case_hosts_free(v, n);
    if (rc == TR_OK && fflush(out) != 0)
        rc = TR_ERR_IO;
    return rc;
}

/* ---------------------------------------------------------------- summary */

static int64_t scalar(tr_case *c, const char *sql, tr_status *rc)
{
    sqlite3_stmt *st;
    if (*rc != TR_OK || (*rc = prepare(c, sql, &st)) != TR_OK)
        return 0;
    int64_t v = 0;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else if (s != SQLITE_DONE)
        *rc = tr_case_fail(c, s, "reading the case");
    sqlite3_finalize(st);
    return v;
}

tr_status tr_case_write_summary(tr_case *c, const tr_case_query *q, int as, FILE *out)
{
    tr_case_host *v;
    size_t n;
    tr_status rc = tr_case_hosts(c, q, &v, &n);
    if (rc != TR_OK)
        return rc;
    int trace_level = q && q->trace_level > 0 ? q->trace_level : TR_LEVEL_MEDIUM;
    uint64_t per_level[TR_LEVEL_CRITICAL + 1] = {0}, findings = 0;
    size_t touched = 0, traced = 0;
    const tr_case_host *first = NULL, *last = NULL;
    for (size_t i = 0; i < n; i++) {
        findings += v[i].findings;
        for (int l = 0; l <= TR_LEVEL_CRITICAL; l++)
            per_level[l] += v[i].per_level[l];
        touched += v[i].findings > 0;
        if (v[i].first_finding) {
            traced++;
            if (!first || v[i].first_trace < first->first_trace)
                first = &v[i];
            if (!last || v[i].last_activity > last->last_activity)
                last = &v[i];
        }
    }
    int64_t files = scalar(c, "SELECT count(*) FROM evidence", &rc);
    int64_t bytes = scalar(c, "SELECT coalesce(sum(size),0) FROM evidence", &rc);
    int64_t records = scalar(c, "SELECT coalesce(sum(records),0) FROM evidence", &rc);
    int64_t damaged = scalar(c, "SELECT count(*) FROM evidence WHERE status='damaged'", &rc);
    int64_t skipped = scalar(c, "SELECT count(*) FROM evidence WHERE status='skipped'", &rc);
    int64_t reading = scalar(c, "SELECT count(*) FROM evidence WHERE status='reading'", &rc);
    int64_t runs = scalar(c, "SELECT count(*) FROM runs", &rc);
    int64_t last_run = scalar(c, "SELECT coalesce(max(id),0) FROM runs", &rc);
    char last_status[32] = "", last_when[40] = "";
    if (rc == TR_OK && last_run) {
        sqlite3_stmt *st;
        if ((rc = prepare(c, "SELECT status, coalesce(finished, started) FROM runs WHERE id = (SELECT max(id) FROM runs)",
                          &st)) == TR_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) {
                snprintf(last_status, sizeof last_status, "%s", (const char *)sqlite3_column_text(st, 0));
                snprintf(last_when, sizeof last_when, "%s", (const char *)sqlite3_column_text(st, 1));
            }
            sqlite3_finalize(st);
        }
    }
    tr_strbuf b;
    tr_strbuf_init(&b);
    if (rc == TR_OK && as == TR_CASE_JSON) {
        tr_strbuf_printf(&b, "{\"trace_level\":\"%s\",\"hosts\":%zu,\"hosts_touched\":%zu,\"hosts_traced\":%zu,",
                         level_word(trace_level), n, touched, traced);
        tr_strbuf_puts(&b, "\"first_trace\":");
        if (first) {
            tr_strbuf_puts(&b, "{\"host\":");
            tr_strbuf_json_string(&b, first->name);
            tr_strbuf_puts(&b, ",\"time\":");
            tr_strbuf_json_time(&b, first->first_trace);
            tr_strbuf_printf(&b, ",\"finding\":%lld}", (long long)first->first_finding);
        } else {
            tr_strbuf_puts(&b, "null");
        }
        tr_strbuf_puts(&b, ",\"last_activity\":");
        if (last) {
            tr_strbuf_puts(&b, "{\"host\":");
            tr_strbuf_json_string(&b, last->name);
            tr_strbuf_puts(&b, ",\"time\":");
            tr_strbuf_json_time(&b, last->last_activity);
            tr_strbuf_printf(&b, ",\"finding\":%lld}", (long long)last->last_finding);
        } else {
            tr_strbuf_puts(&b, "null");
        }
        tr_strbuf_printf(&b, ",\"findings\":%llu,\"by_level\":", (unsigned long long)findings);
        json_levels(&b, per_level);
        tr_strbuf_printf(&b,
                         ",\"evidence\":{\"files\":%lld,\"bytes\":%lld,\"records\":%lld,\"damaged\":%lld,"
                         "\"skipped\":%lld,\"unfinished\":%lld},\"runs\":%lld,\"last_run\":",
                         (long long)files, (long long)bytes, (long long)records, (long long)damaged,
                         (long long)skipped, (long long)reading, (long long)runs);
        if (last_run) {
            tr_strbuf_printf(&b, "{\"id\":%lld,\"status\":", (long long)last_run);
            tr_strbuf_json_string(&b, last_status);
            tr_strbuf_puts(&b, ",\"time\":");
            tr_strbuf_json_string(&b, last_when);
            tr_strbuf_putc(&b, '}');
        } else {
            tr_strbuf_puts(&b, "null");
        }
        tr_strbuf_puts(&b, "}\n");
    } else if (rc == TR_OK) {
        tr_strbuf_printf(&b, "case: %s\n", c->path);
        tr_strbuf_printf(&b, "  hosts:          %zu seen, %zu with findings, %zu with a trace (%s or above)\n", n,
                         touched, traced, level_word(trace_level));
        tr_strbuf_puts(&b, "  first trace:    ");
        if (first) {
            put_time(&b, first->first_trace);
            tr_strbuf_printf(&b, " on %s (finding #%lld: %s)\n", first->name, (long long)first->first_finding,
                             first->first_title);
        } else {
            tr_strbuf_puts(&b, "none\n");
        }
        tr_strbuf_puts(&b, "  last activity:  ");
        if (last) {
            put_time(&b, last->last_activity);
            tr_strbuf_printf(&b, " on %s (finding #%lld)\n", last->name, (long long)last->last_finding);
        } else {
            tr_strbuf_puts(&b, "none\n");
        }
        if (first && last) {
            tr_strbuf_puts(&b, "  span:           ");
            put_duration(&b, (last->last_activity - first->first_trace) / 1000000000ll);
            tr_strbuf_putc(&b, '\n');
        }
        tr_strbuf_printf(&b, "  findings:       %llu", (unsigned long long)findings);
        if (findings) {
            tr_strbuf_puts(&b, " (");
            level_counts(&b, per_level);
            tr_strbuf_putc(&b, ')');
        }
        tr_strbuf_putc(&b, '\n');
        tr_strbuf_printf(&b, "  evidence:       %lld file(s), %lld bytes, %lld records", (long long)files,
                         (long long)bytes, (long long)records);
        if (damaged || skipped || reading)
            tr_strbuf_printf(&b, " (%lld damaged, %lld skipped, %lld not finished)", (long long)damaged,
                             (long long)skipped, (long long)reading);
        tr_strbuf_putc(&b, '\n');
        tr_strbuf_printf(&b, "  hunts:          %lld", (long long)runs);
        if (last_run)
            tr_strbuf_printf(&b, ", the last #%lld %s at %s", (long long)last_run, last_status, last_when);
        tr_strbuf_putc(&b, '\n');
    }
    if (rc == TR_OK)
        rc = flush_buf(&b, out);
    tr_strbuf_free(&b);
    tr_case_hosts_free(v, n);
    if (rc == TR_OK && fflush(out) != 0)
        rc = TR_ERR_IO;
    return rc;
}

/* ---------------------------------------------------------------- row lists */

/* The end of a list of rows (timeline, inventory): the statement's last
 * step judged and finalized, the JSON closed or the count said, the buffer
 * written and freed. */
static tr_status finish_rows(tr_case *c, sqlite3_stmt *st, int step, tr_status rc, tr_strbuf *b, int as, size_t rows,
                             const char *noun, FILE *out)
{
    if (rc == TR_OK && step != SQLITE_DONE)
        rc = tr_case_fail(c, step, "reading the case");
    sqlite3_finalize(st);
    if (rc == TR_OK) {
        if (as == TR_CASE_JSON)
            tr_strbuf_puts(b, "]}\n");
        else if (as == TR_CASE_TEXT)
            tr_strbuf_printf(b, "%zu %s\n", rows, noun);
        rc = flush_buf(b, out);
    }
    tr_strbuf_free(b);
    if (rc == TR_OK && fflush(out) != 0)
        rc = TR_ERR_IO;
    return rc;
}

/* ---------------------------------------------------------------- timeline */

static void csv_cell(tr_strbuf *b, const char *s)
{
    tr_strbuf_putc(b, '"');
    for (; s && *s; s++) {
        if (*s == '"')
            tr_strbuf_putc(b, '"');
        tr_strbuf_putc(b, *s);
    }
    tr_strbuf_putc(b, '"');
}

tr_status tr_case_write_timeline(tr_case *c, const tr_case_query *q, int as, FILE *out)
{
    char want[TR_HOST_KEY_MAX];
    host_arg(q, want);
    sqlite3_stmt *st;
    tr_status rc = prepare(
        c,
        "SELECT f.id, f.ts, h.key, h.name, f.level, r.title, r.rule_id, f.kind, r.techniques, e.path, f.record, "
        "f.details, f.matched_field, f.matched_value, r.tactics FROM findings f JOIN rules r ON r.id = f.rule "
        "JOIN hosts h ON h.id = f.host LEFT JOIN evidence e ON e.id = f.evidence "
        "WHERE (?1 IS NULL OR h.key = ?1) AND (?2 IS NULL OR f.ts >= ?2) AND (?3 IS NULL OR f.ts <= ?3) "
        "AND f.level >= ?4 ORDER BY f.ts IS NULL, f.ts, f.id",
        &st);
    if (rc != TR_OK)
        return rc;
    if (want[0])
        sqlite3_bind_text(st, 1, want, -1, SQLITE_TRANSIENT);
    if (q && q->from != TR_TIME_NONE)
        sqlite3_bind_int64(st, 2, q->from);
    if (q && q->to != TR_TIME_NONE)
        sqlite3_bind_int64(st, 3, q->to);
    sqlite3_bind_int(st, 4, q ? q->min_level : 0);
    tr_strbuf b;
    tr_strbuf_init(&b);
    if (as == TR_CASE_CSV)
        tr_strbuf_puts(&b, "time,level,host,kind,rule_id,title,techniques,path,record,finding,details\n");
    else if (as == TR_CASE_JSON)
        tr_strbuf_puts(&b, "{\"findings\":[");
    size_t rows = 0;
    int step;
    while (rc == TR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        tr_time ts = col_time(st, 1);
        const char *key = (const char *)sqlite3_column_text(st, 2), *name = (const char *)sqlite3_column_text(st, 3);
        int level = sqlite3_column_int(st, 4);
        const char *title = (const char *)sqlite3_column_text(st, 5), *rid = (const char *)sqlite3_column_text(st, 6);
        const char *kind = (const char *)sqlite3_column_text(st, 7), *tech = (const char *)sqlite3_column_text(st, 8);
        const char *path = (const char *)sqlite3_column_text(st, 9);
        int64_t record = sqlite3_column_int64(st, 10);
        const char *details = (const char *)sqlite3_column_text(st, 11);
        const char *mf = (const char *)sqlite3_column_text(st, 12), *mv = (const char *)sqlite3_column_text(st, 13);
        const char *tac = (const char *)sqlite3_column_text(st, 14);
        char tbuf[TR_TIME_BUFSIZE] = "";
        if (ts != TR_TIME_NONE)
            tr_time_format(ts, tbuf);
        if (as == TR_CASE_JSONL || as == TR_CASE_JSON) {
            if (as == TR_CASE_JSON && rows)
                tr_strbuf_putc(&b, ',');
            tr_strbuf_printf(&b, "{\"finding\":%lld,\"time\":", (long long)id);
            tr_strbuf_json_time(&b, ts);
            tr_strbuf_puts(&b, ",\"host\":");
            tr_strbuf_json_string(&b, key);
            tr_strbuf_puts(&b, ",\"host_name\":");
            tr_strbuf_json_string(&b, name);
            tr_strbuf_printf(&b, ",\"level\":\"%s\",\"kind\":", level_word(level));
            tr_strbuf_json_string(&b, kind);
            tr_strbuf_puts(&b, ",\"rule\":{\"id\":");
            tr_strbuf_json_string(&b, rid);
            tr_strbuf_puts(&b, ",\"title\":");
            tr_strbuf_json_string(&b, title);
            tr_strbuf_puts(&b, ",\"techniques\":");
            json_words(&b, tech);
            tr_strbuf_puts(&b, ",\"tactics\":");
            json_words(&b, tac);
            tr_strbuf_puts(&b, "},\"source\":");
            if (path) {
                tr_strbuf_puts(&b, "{\"path\":");
                tr_strbuf_json_string(&b, path);
                tr_strbuf_printf(&b, ",\"record\":%lld}", (long long)record);
            } else {
                tr_strbuf_puts(&b, "null");
            }
            if (mf) {
                tr_strbuf_puts(&b, ",\"indicator\":{\"field\":");
                tr_strbuf_json_string(&b, mf);
                tr_strbuf_puts(&b, ",\"value\":");
                tr_strbuf_json_string(&b, mv);
                tr_strbuf_putc(&b, '}');
            }
            tr_strbuf_puts(&b, ",\"details\":");
            tr_strbuf_puts(&b, details && *details ? details : "{}"); /* written as JSON by the store */
            tr_strbuf_puts(&b, as == TR_CASE_JSONL ? "}\n" : "}");
        } else if (as == TR_CASE_CSV) {
            csv_cell(&b, tbuf);
            tr_strbuf_printf(&b, ",%s,", level_word(level));
            csv_cell(&b, name);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, kind);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, rid);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, title);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, tech);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, path);
            tr_strbuf_printf(&b, ",%lld,%lld,", path ? (long long)record : 0ll, (long long)id);
            csv_cell(&b, details);
            tr_strbuf_putc(&b, '\n');
        } else {
            tr_strbuf_printf(&b, "%-28s  %-13s  %-16s  %s", ts != TR_TIME_NONE ? tbuf : "(no time)", level_word(level),
                             key, title);
            if (path)
                tr_strbuf_printf(&b, "  [%s:%lld]", path, (long long)record);
            tr_strbuf_printf(&b, "  #%lld\n", (long long)id);
        }
        rows++;
        if (b.len > (1u << 16))
            rc = flush_buf(&b, out);
    }
    return finish_rows(c, st, step, rc, &b, as, rows, "finding(s)", out);
}

/* ---------------------------------------------------------------- evidence */

tr_status tr_case_write_evidence(tr_case *c, const tr_case_query *q, int as, FILE *out)
{
    (void)q;
    sqlite3_stmt *st;
    tr_status rc = prepare(c,
                           "SELECT e.id, e.path, e.size, e.sha256, e.hashed, e.format, e.records, e.first_time, "
                           "e.last_time, e.status, e.why, e.first_run, e.last_run, e.mtime, "
                           "(SELECT group_concat(name, ' ') FROM (SELECT DISTINCT h.name FROM host_evidence x "
                           "JOIN hosts h ON h.id = x.host WHERE x.evidence = e.id ORDER BY h.name)) "
                           "FROM evidence e ORDER BY e.path",
                           &st);
    if (rc != TR_OK)
        return rc;
    tr_strbuf b;
    tr_strbuf_init(&b);
    if (as == TR_CASE_JSON)
        tr_strbuf_puts(&b, "{\"evidence\":[");
    else if (as == TR_CASE_CSV)
        tr_strbuf_puts(&b, "path,size,sha256,format,records,first_time,last_time,status,why,hosts\n");
    size_t rows = 0;
    int step;
    while (rc == TR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cols[15];
        for (int i = 0; i < 15; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        long long size = sqlite3_column_int64(st, 2), records = sqlite3_column_int64(st, 6);
        long long hashed = sqlite3_column_int64(st, 4);
        if (as == TR_CASE_JSON || as == TR_CASE_JSONL) {
            if (as == TR_CASE_JSON && rows)
                tr_strbuf_putc(&b, ',');
            tr_strbuf_puts(&b, "{\"path\":");
            tr_strbuf_json_string(&b, cols[1]);
            tr_strbuf_printf(&b, ",\"size\":%lld,\"mtime\":%lld,\"sha256\":", size, (long long)sqlite3_column_int64(st, 13));
            tr_strbuf_json_string(&b, cols[3]);
            tr_strbuf_printf(&b, ",\"hashed\":%lld,\"format\":", hashed);
            tr_strbuf_json_string(&b, cols[5]);
            tr_strbuf_printf(&b, ",\"records\":%lld,\"first_time\":", records);
            tr_strbuf_json_string(&b, cols[7]);
            tr_strbuf_puts(&b, ",\"last_time\":");
            tr_strbuf_json_string(&b, cols[8]);
            tr_strbuf_puts(&b, ",\"status\":");
            tr_strbuf_json_string(&b, cols[9]);
            tr_strbuf_puts(&b, ",\"why\":");
            tr_strbuf_json_string(&b, cols[10]);
            tr_strbuf_puts(&b, ",\"hosts\":");
            tr_strbuf_json_string(&b, cols[14] ? cols[14] : "");
            tr_strbuf_printf(&b, ",\"first_run\":%lld,\"last_run\":%lld}", (long long)sqlite3_column_int64(st, 11),
                             (long long)sqlite3_column_int64(st, 12));
            if (as == TR_CASE_JSONL)
                tr_strbuf_putc(&b, '\n');
        } else if (as == TR_CASE_CSV) {
            csv_cell(&b, cols[1]);
            tr_strbuf_printf(&b, ",%lld,", size);
            csv_cell(&b, cols[3]);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, cols[5]);
            tr_strbuf_printf(&b, ",%lld,", records);
            csv_cell(&b, cols[7]);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, cols[8]);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, cols[9]);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, cols[10]);
            tr_strbuf_putc(&b, ',');
            csv_cell(&b, cols[14]);
            tr_strbuf_putc(&b, '\n');
        } else {
            tr_strbuf_printf(&b, "%s\n  sha256 %s  %lld bytes%s  %s, %lld records, %s .. %s  %s", cols[1],
                             cols[3] ? cols[3] : "(not hashed)", size,
                             cols[3] && hashed != size ? " (hashed: the first bytes only)" : "",
                             cols[5] ? cols[5] : "no format", records, cols[7] ? cols[7] : "-",
                             cols[8] ? cols[8] : "-", cols[9]);
            if (cols[10])
                tr_strbuf_printf(&b, " (%s)", cols[10]);
            if (cols[14] && *cols[14])
                tr_strbuf_printf(&b, "  hosts: %s", cols[14]);
            tr_strbuf_putc(&b, '\n');
        }
        rows++;
        if (b.len > (1u << 16))
            rc = flush_buf(&b, out);
    }
    return finish_rows(c, st, step, rc, &b, as, rows, "file(s)", out);
}

/* ---------------------------------------------------------------- problems */

tr_status tr_case_write_problems(tr_case *c, const tr_case_query *q, int as, FILE *out)
{
    (void)q;
    sqlite3_stmt *st;
    /* what was said when each file was last read */
    tr_status rc = prepare(c,
                           "SELECT e.path, p.severity, p.kind, p.location, p.reason, p.run FROM problems p "
                           "JOIN evidence e ON e.id = p.evidence WHERE p.run = e.last_run ORDER BY e.path, p.id",
                           &st);
    if (rc != TR_OK)
        return rc;
    tr_strbuf b;
    tr_strbuf_init(&b);
    if (as == TR_CASE_JSON)
        tr_strbuf_puts(&b, "{\"problems\":[");
    else if (as == TR_CASE_CSV)
        tr_strbuf_puts(&b, "path,severity,kind,location,reason,run\n");
    size_t rows = 0;
    int step;
    while (rc == TR_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cols[5];
        for (int i = 0; i < 5; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        long long run = sqlite3_column_int64(st, 5);
        if (as == TR_CASE_JSON || as == TR_CASE_JSONL) {
            if (as == TR_CASE_JSON && rows)
                tr_strbuf_putc(&b, ',');
            static const char *const keys[] = {"{\"path\":", ",\"severity\":", ",\"kind\":", ",\"where\":",
                                               ",\"reason\":"};
            for (int i = 0; i < 5; i++) {
                tr_strbuf_puts(&b, keys[i]);
                tr_strbuf_json_string(&b, cols[i]);
            }
            tr_strbuf_printf(&b, ",\"run\":%lld}", run);
            if (as == TR_CASE_JSONL)
                tr_strbuf_putc(&b, '\n');
        } else if (as == TR_CASE_CSV) {
            for (int i = 0; i < 5; i++) {
                csv_cell(&b, cols[i]);
                tr_strbuf_putc(&b, ',');
            }
            tr_strbuf_printf(&b, "%lld\n", run);
        } else {
            tr_strbuf_printf(&b, "%s: %s: %s%s%s\n", cols[0], cols[1], cols[3] ? cols[3] : "",
                             cols[3] && *cols[3] ? ": " : "", cols[4]);
        }
        rows++;
        if (b.len > (1u << 16))
            rc = flush_buf(&b, out);
    }
    return finish_rows(c, st, step, rc, &b, as, rows, "problem(s) with the evidence, as last read", out);
}
