/*
 * case_sink.c — the hunt's sink into a case (tr_hunt_options.case_store):
 * the run, the evidence inventory, the hosts, every finding — and, before
 * the workers start, the plan of what needs reading at all.
 *
 * Incremental hunting. A file the case holds as read (or damaged, or
 * skipped), with the same size and mtime and hunted with the same ruleset
 * digest, is not read again. A log that only grew (a text format, not
 * compressed, whose first `hashed` bytes still have the SHA-256 the case
 * recorded) is read, but only its records past the old end are hunted.
 * Anything else — new, changed, left half-read by a killed hunt, or hunted
 * with other rules — is read in full; its findings that the case holds
 * already are not added twice (findings are unique on rule, evidence,
 * record, offset and identity).
 *
 * Consistency. Everything is written in transactions of at most BATCH
 * findings; a file's row says 'reading' until the transaction that records
 * its end, so a hunt killed at any moment leaves a case whose half-read
 * files the next hunt reads again. WAL journal: the database itself is never
 * damaged by a kill.
 *
 * Owns: the prepared statements, the caches (rule and host ids), the
 * current file's state. The tr_case is the caller's.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../hunt/pipeline.h"
#include "../util/alloc.h"
#include "../util/sha256.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "store.h"

#define BATCH 20000        /* findings per transaction at most */
#define COMMIT_SECONDS 0.2 /* and at a file's end, a commit when the last is older than this */

enum {
    S_RUN_BEGIN, S_RUN_END, S_EV_GET, S_EV_BEGIN, S_EV_END, S_EV_ID, S_HOST_PUT, S_HE_CLEAR, S_HE_PUT,
    S_RULE_PUT, S_FINDING, S_PROBLEM, NSTMT
};

static const char *const sql[NSTMT] = {
    [S_RUN_BEGIN] = "INSERT INTO runs(started,status,tool,command,ruleset_digest,rules,indicators,options) "
                    "VALUES(strftime('%Y-%m-%dT%H:%M:%fZ','now'),'running',?,?,?,?,?,?)",
    [S_RUN_END] = "UPDATE runs SET finished=strftime('%Y-%m-%dT%H:%M:%fZ','now'), status=?, files_read=?, "
                  "files_unchanged=?, files_resumed=?, files_rehunted=?, events=?, findings_new=?, "
                  "findings_known=? WHERE id=?",
    [S_EV_GET] = "SELECT id,size,mtime,status,ruleset_digest,read_to,format,sha256,hashed,records,first_time,"
                 "last_time FROM evidence WHERE path=?",
    [S_EV_BEGIN] = "INSERT INTO evidence(path,size,mtime,status,first_run,last_run) VALUES(?,?,?,'reading',?,?) "
                   "ON CONFLICT(path) DO UPDATE SET status='reading', last_run=excluded.last_run RETURNING id",
    [S_EV_END] = "UPDATE evidence SET size=?, mtime=?, sha256=?, hashed=?, format=?, records=?, first_time=?, "
                 "last_time=?, status=?, why=?, read_to=?, ruleset_digest=?, last_run=? WHERE id=?",
    [S_EV_ID] = "SELECT id FROM evidence WHERE path=?",
    /* new, or a longer spelling (the FQDN) of a host the case holds */
    [S_HOST_PUT] = "INSERT INTO hosts(key,name) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET name="
                   "CASE WHEN length(excluded.name) > length(name) THEN excluded.name ELSE name END RETURNING id",
    [S_HE_CLEAR] = "DELETE FROM host_evidence WHERE evidence=?",
    [S_HE_PUT] = "INSERT INTO host_evidence(host,evidence,format,channel,events,first_time,last_time) "
                 "VALUES(?,?,?,?,?,?,?) ON CONFLICT(host,evidence,format,channel) DO UPDATE SET "
                 "events=events+excluded.events, first_time=min(coalesce(first_time,excluded.first_time),"
                 "coalesce(excluded.first_time,first_time)), last_time=max(coalesce(last_time,excluded.last_time),"
                 "coalesce(excluded.last_time,last_time))",
    [S_RULE_PUT] = "INSERT INTO rules(kind,rule_id,title,level,level_name,status,techniques,tactics,tags,source) "
                   "VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(kind,rule_id,title) DO UPDATE SET kind=kind RETURNING id",
    [S_FINDING] = "INSERT OR IGNORE INTO findings(run,kind,rule,level,ts,time,first_time,last_time,value,host,"
                  "evidence,record,byte_offset,matched_field,matched_value,details,ident) "
                  "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_PROBLEM] = "INSERT INTO problems(run,evidence,severity,kind,location,reason) VALUES(?,?,?,?,?,?)",
};

/* Findings wait in a group of up to ROWS and go in with one statement:
 * fewer statement steps per finding. Their texts wait in `texts`, at
 * offsets (the buffer may move while the group fills). */
#define ROWS 32
#define COLS 17

typedef struct row {
    int64_t rule, host, evidence, record, offset;
    tr_time time, first, last;
    double value;
    int level, kind;
    size_t details, ident, field, value_text; /* offsets in texts + 1; 0: NULL */
} row;

/* rule pointer -> rules.id, host key -> hosts.id: open addressing, grown */
typedef struct idmap {
    const void **ptr; /* rule pointers (rules) */
    char **key;       /* host keys (hosts) */
    int64_t *id;
    size_t *aux;      /* hosts: the length of the name the case holds */
    size_t cap, n;
} idmap;

typedef struct case_sink {
    tr_case *c;
    const tr_hunt_options *o;
    sqlite3_stmt *st[NSTMT];
    int64_t run;
    char digest[TR_SHA256_HEX_SIZE]; /* of rules, indicators and the options that change findings */
    idmap rules, hosts;
    size_t pending; /* findings in the open transaction */
    double last_commit;
    /* the current file */
    int64_t ev_id;
    char *ev_path;     /* absolute */
    char *ev_given;    /* as the walk gave it: findings name it so */
    char *case_abs;    /* the case's own database, never evidence */
    uint64_t prior_records;
    char *prior_first, *prior_last;
    /* counts */
    uint64_t unchanged, resumed, rehunted, fresh, known, files_read, events;
    int ruleset_changed;
    tr_status failed; /* the first failure; later writes are skipped */
    tr_strbuf tmp, ident; /* a finding's details and identity */
    row rows[ROWS];       /* the group waiting */
    size_t nrows;
    tr_strbuf texts;      /* their texts */
    char times[ROWS][3][TR_TIME_BUFSIZE];
    sqlite3_stmt *group;  /* INSERT of ROWS rows */
} case_sink;

/* ---------------------------------------------------------------- helpers */

static tr_status fail(case_sink *s, int rc, const char *what)
{
    if (s->failed == TR_OK)
        s->failed = tr_case_fail(s->c, rc, what);
    return s->failed;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* A time as text, from buf, which must outlive the step (no copy); null
 * for TR_TIME_NONE. */
static void bind_time_in(sqlite3_stmt *st, int i, tr_time t, char buf[TR_TIME_BUFSIZE])
{
    if (t == TR_TIME_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, buf, (int)tr_time_format(t, buf), SQLITE_STATIC);
}

static void bind_static(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Steps an INSERT ... RETURNING id; the id, or 0 with the failure noted. */
static int64_t run_id(case_sink *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int end = sqlite3_reset(st); /* completes the statement: its error, if any, is here */
    sqlite3_clear_bindings(st);
    if (!id || end != SQLITE_OK)
        fail(s, end != SQLITE_OK ? end : rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_ERROR : rc, what);
    return end == SQLITE_OK ? id : 0;
}

/* Steps a statement that returns no row (or whose row is not wanted). */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

static char *absolute(const char *path)
{
    if (tr_case_alloc_fault())
        return NULL;
    char *r = realpath(path, NULL); /* libc's malloc */
    char *copy = tr_strdup(r ? r : path);
    free(r);
    return copy;
}

static uint64_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 33);
}

static uint64_t hash_key(const char *k)
{
    uint64_t h = 1469598103934665603ull;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static int64_t *map_find(idmap *m, const void *ptr, const char *key, bool insert)
{
    if (insert && (m->n + 1) * 2 > m->cap) {
        if (tr_case_alloc_fault())
            return NULL;
        size_t cap = m->cap ? m->cap * 2 : 1024;
        idmap g = {tr_calloc(cap, sizeof(void *)), tr_calloc(cap, sizeof(char *)), tr_calloc(cap, sizeof(int64_t)),
                   tr_calloc(cap, sizeof(size_t)), cap, 0};
        if (!g.ptr || !g.key || !g.id || !g.aux) {
            tr_free(g.ptr);
            tr_free(g.key);
            tr_free(g.id);
            tr_free(g.aux);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->ptr[i] && !m->key[i])
                continue;
            uint64_t h = m->key[i] ? hash_key(m->key[i]) : hash_ptr(m->ptr[i]);
            size_t j = h & (cap - 1);
            while (g.ptr[j] || g.key[j])
                j = (j + 1) & (cap - 1);
            g.ptr[j] = m->ptr[i];
            g.key[j] = m->key[i];
            g.id[j] = m->id[i];
            g.aux[j] = m->aux[i];
        }
        g.n = m->n;
        tr_free(m->ptr);
        tr_free(m->key);
        tr_free(m->id);
        tr_free(m->aux);
        *m = g;
    }
    if (!m->cap)
        return NULL;
    size_t j = (key ? hash_key(key) : hash_ptr(ptr)) & (m->cap - 1);
    while (m->ptr[j] || m->key[j]) {
        if (key ? m->key[j] && strcmp(m->key[j], key) == 0 : m->ptr[j] == ptr)
            return &m->id[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert)
        return NULL;
    if (key && (tr_case_alloc_fault() || !(m->key[j] = tr_strdup(key))))
        return NULL;
    m->ptr[j] = ptr;
    m->id[j] = 0;
    m->aux[j] = 0;
    m->n++;
    return &m->id[j];
}

/* The aux slot beside an id slot map_find returned. */
static size_t *map_aux(idmap *m, int64_t *slot) { return &m->aux[slot - m->id]; }

static void map_free(idmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        tr_free(m->key[i]);
    tr_free(m->ptr);
    tr_free(m->key);
    tr_free(m->id);
    tr_free(m->aux);
    memset(m, 0, sizeof *m);
}


static const char *text_at(const case_sink *s, size_t at) { return at ? s->texts.data + at - 1 : NULL; }

/* Binds row r of the group at parameter base (0 for the first row). */
static void bind_row(case_sink *s, sqlite3_stmt *st, int base, size_t r)
{
    const row *w = &s->rows[r];
    char(*t)[TR_TIME_BUFSIZE] = s->times[r];
    sqlite3_bind_int64(st, base + 1, s->run);
    sqlite3_bind_text(st, base + 2, tr_finding_kind_name((tr_finding_kind)w->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 3, w->rule);
    sqlite3_bind_int(st, base + 4, w->level);
    if (w->time != TR_TIME_NONE)
        sqlite3_bind_int64(st, base + 5, w->time);
    else
        sqlite3_bind_null(st, base + 5);
    bind_time_in(st, base + 6, w->time, t[0]);
    if (w->kind == TR_FINDING_CORRELATION) {
        bind_time_in(st, base + 7, w->first, t[1]);
        bind_time_in(st, base + 8, w->last, t[2]);
        sqlite3_bind_double(st, base + 9, w->value);
    } else {
        sqlite3_bind_null(st, base + 7);
        sqlite3_bind_null(st, base + 8);
        sqlite3_bind_null(st, base + 9);
    }
    sqlite3_bind_int64(st, base + 10, w->host);
    sqlite3_bind_int64(st, base + 11, w->evidence);
    sqlite3_bind_int64(st, base + 12, w->record);
    sqlite3_bind_int64(st, base + 13, w->offset);
    bind_static(st, base + 14, text_at(s, w->field));
    bind_static(st, base + 15, text_at(s, w->value_text));
    bind_static(st, base + 16, text_at(s, w->details));
    bind_static(st, base + 17, text_at(s, w->ident));
}

/* The waiting group into the table: one statement for a full group, one
 * per row for the rest. Counts what was new and what the case held. */
static void flush_rows(case_sink *s)
{
    if (!s->nrows || s->failed != TR_OK) {
        s->nrows = 0;
        tr_strbuf_clear(&s->texts);
        return;
    }
    if (tr_strbuf_failed(&s->texts)) {
        fail(s, SQLITE_NOMEM, "case store");
        return;
    }
    int rc = SQLITE_DONE;
    int64_t before = sqlite3_total_changes64(s->c->db);
    if (s->nrows == ROWS) {
        for (size_t r = 0; r < ROWS; r++)
            bind_row(s, s->group, (int)r * COLS, r);
        rc = run(s->group);
    } else {
        for (size_t r = 0; r < s->nrows && rc == SQLITE_DONE; r++) {
            bind_row(s, s->st[S_FINDING], 0, r);
            rc = run(s->st[S_FINDING]);
        }
    }
    if (rc != SQLITE_DONE) {
        fail(s, rc, "case store: adding findings");
    } else {
        uint64_t added = (uint64_t)(sqlite3_total_changes64(s->c->db) - before);
        s->fresh += added;
        s->known += s->nrows - added;
    }
    s->pending += s->nrows;
    s->nrows = 0;
    tr_strbuf_clear(&s->texts);
}

/* Commits the open transaction and opens the next. */
static void checkpoint(case_sink *s)
{
    flush_rows(s);
    if (s->failed != TR_OK)
        return;
    s->last_commit = tr_monotonic_seconds();
    tr_status rc = tr_case_commit(s->c);
    if (rc == TR_OK)
        rc = tr_case_begin(s->c);
    if (rc != TR_OK && s->failed == TR_OK)
        s->failed = rc;
    s->pending = 0;
}

/* ---------------------------------------------------------------- ids */

static void join(tr_strbuf *b, const char *const *v, size_t n)
{
    tr_strbuf_clear(b);
    for (size_t i = 0; i < n; i++) {
        if (i)
            tr_strbuf_putc(b, ' ');
        tr_strbuf_puts(b, v[i]);
    }
    tr_strbuf_putc(b, '\0');
    b->len--;
}

static int64_t rule_id(case_sink *s, const tr_finding *f)
{
    int64_t *slot = map_find(&s->rules, f->rule, NULL, true);
    if (!slot) {
        fail(s, SQLITE_NOMEM, "case store: remembering a rule");
        return 0;
    }
    if (*slot)
        return *slot;
    const tr_rule_info *r = f->rule;
    const char *kind = tr_finding_kind_name(f->kind);
    const char *id = r->id ? r->id : r->title ? r->title : "";
    const char *title = r->title ? r->title : id;
    sqlite3_stmt *st = s->st[S_RULE_PUT];
    bind_text(st, 1, kind);
    bind_text(st, 2, id);
    bind_text(st, 3, title);
    sqlite3_bind_int(st, 4, r->level);
    bind_text(st, 5, r->level ? tr_level_name(r->level) : "none");
    bind_text(st, 6, r->status);
    join(&s->tmp, r->techniques, r->ntechniques);
    bind_text(st, 7, s->tmp.data ? s->tmp.data : "");
    join(&s->tmp, r->tactics, r->ntactics);
    bind_text(st, 8, s->tmp.data ? s->tmp.data : "");
    join(&s->tmp, r->tags, r->ntags);
    bind_text(st, 9, s->tmp.data ? s->tmp.data : "");
    bind_text(st, 10, r->path);
    return *slot = run_id(s, st, "case store: adding a rule");
}

static int64_t host_id(case_sink *s, const char *key, const char *name)
{
    int64_t *slot = map_find(&s->hosts, NULL, key, true);
    if (!slot) {
        fail(s, SQLITE_NOMEM, "case store: remembering a host");
        return 0;
    }
    size_t len = strlen(name), *held = map_aux(&s->hosts, slot);
    if (*slot && len <= *held)
        return *slot; /* known, and by a name as long */
    sqlite3_stmt *st = s->st[S_HOST_PUT];
    bind_text(st, 1, key);
    bind_text(st, 2, name);
    *slot = run_id(s, st, "case store: adding a host");
    *held = len; /* at least: the case may hold a longer name, which stays */
    return *slot;
}

/* ---------------------------------------------------------------- open */

static bool case_wanted(const tr_hunt_options *o) { return o->case_store != NULL; }

/* The digest a file's findings depend on: rules, indicators, and the
 * options that change what is found (filter, scan flags). */
static void run_digest(const tr_hunt_options *o, char hex[TR_SHA256_HEX_SIZE], tr_strbuf *options)
{
    char rules[TR_SHA256_HEX_SIZE], iocs[TR_SHA256_HEX_SIZE] = "";
    tr_ruleset_digest(o->rules, rules);
    if (o->iocs)
        tr_iocset_digest(o->iocs, iocs);
    const tr_hunt_filter *f = &o->filter;
    tr_strbuf_printf(options, "{\"scan_flags\":%u,\"min_level\":%d", o->scan_flags, f->min_level);
    tr_strbuf_puts(options, ",\"from\":");
    if (f->from != TR_TIME_NONE)
        tr_strbuf_printf(options, "%lld", (long long)f->from);
    else
        tr_strbuf_puts(options, "null");
    tr_strbuf_puts(options, ",\"to\":");
    if (f->to != TR_TIME_NONE)
        tr_strbuf_printf(options, "%lld", (long long)f->to);
    else
        tr_strbuf_puts(options, "null");
    const struct {
        const char *name;
        const char *const *v;
        size_t n;
    } lists[] = {{"statuses", f->statuses, f->nstatuses}, {"tags", f->tags, f->ntags}, {"exclude", f->exclude, f->nexclude}};
    for (size_t l = 0; l < 3; l++) {
        tr_strbuf_printf(options, ",\"%s\":[", lists[l].name);
        for (size_t i = 0; i < lists[l].n; i++) {
            if (i)
                tr_strbuf_putc(options, ',');
            tr_strbuf_json_string(options, lists[l].v[i]);
        }
        tr_strbuf_putc(options, ']');
    }
    tr_strbuf_puts(options, ",\"rules_digest\":");
    tr_strbuf_json_string(options, rules);
    tr_strbuf_puts(options, ",\"indicators_digest\":");
    tr_strbuf_json_string(options, o->iocs ? iocs : NULL);
    tr_strbuf_putc(options, '}');
    tr_sha256 sha;
    tr_sha256_init(&sha);
    tr_sha256_update(&sha, options->data ? options->data : "", options->len);
    uint8_t d[TR_SHA256_DIGEST_SIZE];
    tr_sha256_final(&sha, d);
    tr_sha256_hex(d, hex);
}

static void sink_free(case_sink *s)
{
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(s->st[i]);
    map_free(&s->rules);
    map_free(&s->hosts);
    tr_free(s->ev_path);
    tr_free(s->ev_given);
    tr_free(s->case_abs);
    tr_free(s->prior_first);
    tr_free(s->prior_last);
    tr_strbuf_free(&s->tmp);
    tr_strbuf_free(&s->ident);
    tr_strbuf_free(&s->texts);
    sqlite3_finalize(s->group);
    tr_free(s);
}

static tr_status case_open(void **state, const tr_hunt_options *o, tr_hunt_result *res)
{
    (void)res;
    case_sink *s = tr_case_alloc_fault() ? NULL : tr_calloc(1, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    s->c = o->case_store;
    s->o = o;
    const char *dbfile = sqlite3_db_filename(s->c->db, "main");
    s->case_abs = dbfile && *dbfile ? absolute(dbfile) : NULL;
    tr_strbuf_init(&s->tmp);
    tr_strbuf_init(&s->ident);
    tr_strbuf_init(&s->texts);
    tr_strbuf options;
    tr_strbuf_init(&options);
    run_digest(o, s->digest, &options);
    tr_status rc = tr_strbuf_failed(&options) ? TR_ERR_NOMEM : TR_OK;
    for (int i = 0; i < NSTMT && rc == TR_OK; i++)
        rc = tr_case_prepare(s->c, sql[i], &s->st[i]);
    if (rc == TR_OK) { /* the statement of a whole group: the single row's, its VALUES repeated */
        tr_strbuf g;
        tr_strbuf_init(&g);
        const char *one = sql[S_FINDING], *values = strstr(one, "VALUES(");
        tr_strbuf_append(&g, one, (size_t)(values - one) + 6);
        for (int r = 0; r < ROWS; r++) {
            tr_strbuf_puts(&g, r ? ",(" : "(");
            for (int k = 0; k < COLS; k++)
                tr_strbuf_puts(&g, k ? ",?" : "?");
            tr_strbuf_putc(&g, ')');
        }
        rc = tr_strbuf_failed(&g) ? TR_ERR_NOMEM : tr_case_prepare(s->c, g.data, &s->group);
        tr_strbuf_free(&g);
    }
    /* a run left 'running' by a killed hunt is one no longer */
    if (rc == TR_OK)
        rc = tr_case_exec(s->c, "UPDATE runs SET status='interrupted' WHERE status='running'");
    if (rc == TR_OK)
        rc = tr_case_begin(s->c);
    if (rc == TR_OK) {
        sqlite3_stmt *st = s->st[S_RUN_BEGIN];
        char tool[64];
        snprintf(tool, sizeof tool, "traccia %s", tr_version());
        bind_text(st, 1, tool);
        bind_text(st, 2, o->command);
        bind_text(st, 3, s->digest);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)tr_ruleset_count(o->rules));
        sqlite3_bind_int64(st, 5, o->iocs ? (sqlite3_int64)tr_iocset_get_stats(o->iocs)->counts.loaded : 0);
        bind_text(st, 6, options.data);
        int r = run(st);
        if (r != SQLITE_DONE)
            rc = tr_case_fail(s->c, r, "case store: recording the run");
        s->run = sqlite3_last_insert_rowid(s->c->db);
        /* the run is on record at once: killed, it shows as interrupted */
        if (rc == TR_OK && (rc = tr_case_commit(s->c)) == TR_OK)
            rc = tr_case_begin(s->c);
        s->last_commit = tr_monotonic_seconds();
    }
    /* hunted with other rules before? said once, here */
    if (rc == TR_OK) {
        sqlite3_stmt *q = NULL;
        int r = sqlite3_prepare_v2(s->c->db,
                                   "SELECT count(*) FROM evidence WHERE ruleset_digest IS NOT NULL AND ruleset_digest <> ?",
                                   -1, &q, NULL);
        if (r == SQLITE_OK) {
            bind_text(q, 1, s->digest);
            if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) > 0)
                s->ruleset_changed = 1;
        }
        sqlite3_finalize(q);
        if (s->ruleset_changed && o->on_diag) {
            tr_diag d = {TR_SEV_INFO, "", "",
                         "the rules, indicators or filter differ from those the case's evidence was hunted with: "
                         "that evidence is hunted again (findings already in the case are not added twice)",
                         TR_DIAG_RUN, NULL, NULL, NULL};
            o->on_diag(o->user, &d);
        }
    }
    tr_strbuf_free(&options);
    if (rc != TR_OK) {
        tr_case_rollback(s->c);
        sink_free(s);
        return rc;
    }
    *state = s;
    return TR_OK;
}

/* ---------------------------------------------------------------- planning */

static bool resumable_format(const char *fmt)
{
    return fmt && (strcmp(fmt, "w3c") == 0 || strcmp(fmt, "exchange-log") == 0 || strcmp(fmt, "json") == 0);
}

static bool compressed(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char m[2] = {0, 0};
    bool gz = f && fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
    if (f)
        fclose(f);
    return gz;
}

/* The case's own files: the database and SQLite's -wal, -shm, -journal. */
static bool own_file(const case_sink *s, const char *abs)
{
    const char *db = s->case_abs;
    size_t n = db ? strlen(db) : 0;
    if (!n || strncmp(abs, db, n) != 0)
        return false;
    return !abs[n] || strcmp(abs + n, "-wal") == 0 || strcmp(abs + n, "-shm") == 0 ||
           strcmp(abs + n, "-journal") == 0;
}

static void case_plan(void *state, const char *path, uint64_t size, int64_t mtime, tr_hunt_plan *plan)
{
    case_sink *s = state;
    if (s->failed != TR_OK)
        return;
    char *abs = absolute(path);
    if (!abs)
        return;
    if (own_file(s, abs)) { /* the case lying among the evidence is not evidence */
        plan->skip = 1;
        tr_free(abs);
        return;
    }
    if (s->o->case_full) { /* read again whatever the case holds */
        tr_free(abs);
        return;
    }
    sqlite3_stmt *st = s->st[S_EV_GET];
    bind_text(st, 1, abs);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        uint64_t old_size = (uint64_t)sqlite3_column_int64(st, 1);
        int64_t old_mtime = sqlite3_column_int64(st, 2);
        const char *status = (const char *)sqlite3_column_text(st, 3);
        const char *digest = (const char *)sqlite3_column_text(st, 4);
        uint64_t read_to = (uint64_t)sqlite3_column_int64(st, 5);
        const char *format = (const char *)sqlite3_column_text(st, 6);
        const char *sha = (const char *)sqlite3_column_text(st, 7);
        uint64_t hashed = (uint64_t)sqlite3_column_int64(st, 8);
        bool done = status && strcmp(status, "reading") != 0;
        bool same_rules = digest && strcmp(digest, s->digest) == 0;
        if (done && !same_rules) {
            s->rehunted++;
        } else if (done && size == old_size && mtime == old_mtime) {
            plan->skip = 1;
            s->unchanged++;
        } else if (done && size > old_size && read_to == old_size && hashed == old_size && sha &&
                   resumable_format(format) && !compressed(path)) {
            uint8_t d[TR_SHA256_DIGEST_SIZE];
            char hex[TR_SHA256_HEX_SIZE];
            uint64_t got = 0;
            if (tr_sha256_file(path, old_size, d, &got) == 0 && got == old_size) {
                tr_sha256_hex(d, hex);
                if (strcmp(hex, sha) == 0) { /* the old part is as it was: the log grew */
                    plan->resume_from = old_size;
                    s->resumed++;
                }
            }
        }
    } else if (rc != SQLITE_DONE) {
        fail(s, rc, "case store: looking up a file");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    tr_free(abs);
}

/* ---------------------------------------------------------------- files */

static tr_status case_file_begin(void *state, const tr_hunt_file *f)
{
    case_sink *s = state;
    if (s->failed != TR_OK)
        return s->failed;
    tr_free(s->ev_path);
    tr_free(s->ev_given);
    tr_free(s->prior_first);
    tr_free(s->prior_last);
    s->prior_first = s->prior_last = NULL;
    s->ev_given = NULL;
    s->prior_records = 0;
    s->ev_id = 0;
    if (!(s->ev_path = absolute(f->path)) || tr_case_alloc_fault() || !(s->ev_given = tr_strdup(f->path)))
        return fail(s, SQLITE_NOMEM, "case store");
    if (f->resume_from) { /* the records counted so far stay */
        sqlite3_stmt *st = s->st[S_EV_GET];
        bind_text(st, 1, s->ev_path);
        if (sqlite3_step(st) == SQLITE_ROW) {
            s->prior_records = (uint64_t)sqlite3_column_int64(st, 9);
            const char *a = (const char *)sqlite3_column_text(st, 10), *b = (const char *)sqlite3_column_text(st, 11);
            s->prior_first = a ? tr_strdup(a) : NULL;
            s->prior_last = b ? tr_strdup(b) : NULL;
            if ((a && !s->prior_first) || (b && !s->prior_last)) {
                sqlite3_reset(st);
                return fail(s, SQLITE_NOMEM, "case store");
            }
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_stmt *st = s->st[S_EV_BEGIN];
    bind_text(st, 1, s->ev_path);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)f->size);
    sqlite3_bind_int64(st, 3, f->mtime);
    sqlite3_bind_int64(st, 4, s->run);
    sqlite3_bind_int64(st, 5, s->run);
    if (!(s->ev_id = run_id(s, st, "case store: recording a file")))
        return s->failed;
    int rc;
    if (!f->resume_from) { /* read in full: its counts start again */
        st = s->st[S_HE_CLEAR];
        sqlite3_bind_int64(st, 1, s->ev_id);
        if ((rc = run(st)) != SQLITE_DONE)
            return fail(s, rc, "case store: recording a file");
    }
    s->files_read++;
    return TR_OK;
}

static tr_status case_file_end(void *state, const tr_hunt_file *f)
{
    case_sink *s = state;
    flush_rows(s); /* the file's findings before its end, in one transaction */
    if (s->failed != TR_OK)
        return s->failed;
    int rc;
    for (size_t i = 0; i < f->nsources; i++) {
        const tr_hunt_source *src = &f->sources[i];
        int64_t h = host_id(s, src->host_key, src->host);
        if (!h)
            return s->failed;
        sqlite3_stmt *st = s->st[S_HE_PUT];
        sqlite3_bind_int64(st, 1, h);
        sqlite3_bind_int64(st, 2, s->ev_id);
        bind_text(st, 3, src->format ? src->format : "");
        bind_text(st, 4, src->channel ? src->channel : "");
        sqlite3_bind_int64(st, 5, (sqlite3_int64)src->events);
        bind_time_in(st, 6, src->first, s->times[0][1]);
        bind_time_in(st, 7, src->last, s->times[0][2]);
        if ((rc = run(st)) != SQLITE_DONE)
            return fail(s, rc, "case store: recording a file's hosts");
    }
    static const char *const status[] = {"read", "damaged", "skipped"};
    if (f->incomplete) /* findings lost: the file stays 'reading', the next hunt reads it again */
        return s->failed;
    sqlite3_stmt *st = s->st[S_EV_END];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)f->size);
    sqlite3_bind_int64(st, 2, f->mtime);
    bind_text(st, 3, f->sha256);
    if (f->sha256)
        sqlite3_bind_int64(st, 4, (sqlite3_int64)f->hashed);
    else
        sqlite3_bind_null(st, 4);
    bind_text(st, 5, f->format);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(s->prior_records + f->events));
    char first[TR_TIME_BUFSIZE] = "", last[TR_TIME_BUFSIZE] = "";
    if (f->first != TR_TIME_NONE)
        tr_time_format(f->first, first);
    if (f->last != TR_TIME_NONE)
        tr_time_format(f->last, last);
    /* ISO 8601 with fixed width: text order is time order */
    const char *fst = s->prior_first && (!*first || strcmp(s->prior_first, first) < 0) ? s->prior_first : first;
    const char *lst = s->prior_last && (!*last || strcmp(s->prior_last, last) > 0) ? s->prior_last : last;
    bind_text(st, 7, *fst ? fst : NULL);
    bind_text(st, 8, *lst ? lst : NULL);
    bind_text(st, 9, status[f->status >= 0 && f->status <= 2 ? f->status : 0]);
    bind_text(st, 10, f->why);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)(f->sha256 ? f->hashed : f->size));
    bind_text(st, 12, s->digest);
    sqlite3_bind_int64(st, 13, s->run);
    sqlite3_bind_int64(st, 14, s->ev_id);
    if ((rc = run(st)) != SQLITE_DONE)
        return fail(s, rc, "case store: recording a file");
    s->events += f->events;
    /* the file's end and its last findings are one transaction; a long hunt
     * commits what it has every COMMIT_SECONDS, so that a kill loses little */
    if (s->pending >= BATCH / 4 || tr_monotonic_seconds() - s->last_commit >= COMMIT_SECONDS)
        checkpoint(s);
    return s->failed;
}

/* Every problem said about the file being read, under its evidence row:
 * the summary names a few, the case keeps them all. */
static tr_status case_problem(void *state, const tr_diag *d)
{
    case_sink *s = state;
    if (s->failed != TR_OK || !s->ev_id || !*d->path) /* "": of the whole input, in the run report */
        return s->failed;
    sqlite3_stmt *st = s->st[S_PROBLEM];
    sqlite3_bind_int64(st, 1, s->run);
    sqlite3_bind_int64(st, 2, s->ev_id);
    bind_static(st, 3, tr_severity_name(d->severity));
    bind_static(st, 4, tr_diag_kind_name(d->kind));
    bind_text(st, 5, d->where ? d->where : "");
    bind_text(st, 6, d->reason);
    int rc = run(st);
    return rc == SQLITE_DONE ? TR_OK : fail(s, rc, "case store: recording a problem with a file");
}

/* ---------------------------------------------------------------- findings */

static void details_json(tr_strbuf *b, const tr_finding *f)
{
    tr_strbuf_clear(b);
    tr_strbuf_putc(b, '{');
    bool first = true;
    for (size_t i = 0; i < f->nkeys; i++) {
        if (!first)
            tr_strbuf_putc(b, ',');
        first = false;
        tr_strbuf_json_string(b, f->key_names[i]);
        tr_strbuf_putc(b, ':');
        tr_strbuf_json_string(b, f->key_values[i]);
    }
    for (size_t i = 0; i < f->ngroup; i++) {
        if (!first)
            tr_strbuf_putc(b, ',');
        first = false;
        tr_strbuf_json_string(b, f->group_fields[i]);
        tr_strbuf_putc(b, ':');
        tr_strbuf_json_string(b, f->group_values[i]);
    }
    tr_strbuf_putc(b, '}');
}

static tr_status case_finding(void *state, const tr_finding *f)
{
    case_sink *s = state;
    if (s->failed != TR_OK)
        return s->failed;
    int64_t rule = rule_id(s, f), host = rule ? host_id(s, f->host, f->host_name) : 0;
    if (!rule || !host)
        return s->failed;
    /* the evidence: the file being handed over; a correlation's event may
     * lie in an earlier file; one reported at the end of input has none */
    int64_t ev = 0;
    if (f->origin.path && s->ev_given && strcmp(f->origin.path, s->ev_given) == 0) {
        ev = s->ev_id; /* the usual case: no path to resolve */
    } else if (f->origin.path) {
        char *abs = absolute(f->origin.path);
        if (!abs)
            return fail(s, SQLITE_NOMEM, "case store");
        if (s->ev_path && strcmp(abs, s->ev_path) == 0) {
            ev = s->ev_id;
        } else {
            sqlite3_stmt *st = s->st[S_EV_ID];
            bind_text(st, 1, abs);
            if (sqlite3_step(st) == SQLITE_ROW)
                ev = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
        tr_free(abs);
    }
    /* identity beyond rule, file, record and offset: the value an indicator
     * matched, a correlation's window and group */
    tr_strbuf *id = &s->ident;
    tr_strbuf_clear(id);
    if (f->matched_value)
        tr_strbuf_puts(id, f->matched_value);
    if (f->kind == TR_FINDING_CORRELATION) {
        tr_strbuf_printf(id, "|%lld|%lld", (long long)f->first, (long long)f->last);
        for (size_t i = 0; i < f->ngroup; i++)
            tr_strbuf_printf(id, "|%s=%s", f->group_fields[i], f->group_values[i]);
    }
    tr_strbuf *b = &s->tmp;
    details_json(b, f);
    if (tr_strbuf_failed(b) || tr_strbuf_failed(id))
        return fail(s, SQLITE_NOMEM, "case store");
    /* into the group: numbers as they are, texts into the group's buffer */
    row *w = &s->rows[s->nrows++];
    *w = (row){.rule = rule, .host = host, .evidence = ev, .record = (int64_t)f->origin.record,
               .offset = (int64_t)f->origin.offset, .time = f->time, .first = f->first, .last = f->last,
               .value = f->value, .level = f->level, .kind = (int)f->kind};
    tr_strbuf *t = &s->texts;
    w->details = t->len + 1;
    tr_strbuf_append(t, b->data ? b->data : "{}", b->data ? b->len : 2);
    tr_strbuf_putc(t, '\0');
    w->ident = t->len + 1;
    tr_strbuf_append(t, id->data ? id->data : "", id->len);
    tr_strbuf_putc(t, '\0');
    if (f->matched_field) {
        w->field = t->len + 1;
        tr_strbuf_puts(t, f->matched_field);
        tr_strbuf_putc(t, '\0');
    }
    if (f->matched_value) {
        w->value_text = t->len + 1;
        tr_strbuf_puts(t, f->matched_value);
        tr_strbuf_putc(t, '\0');
    }
    if (s->nrows == ROWS)
        flush_rows(s);
    if (s->pending >= BATCH)
        checkpoint(s);
    return s->failed;
}

/* ---------------------------------------------------------------- close */

static tr_status case_close(void *state, tr_hunt_result *res, int ok)
{
    case_sink *s = state;
    res->case_unchanged = s->unchanged;
    res->case_resumed = s->resumed;
    res->case_rehunted = s->rehunted;
    res->case_new_findings = s->fresh;
    res->case_known_findings = s->known;
    res->case_run = s->run;
    res->ruleset_changed = s->ruleset_changed;
    flush_rows(s);
    res->case_new_findings = s->fresh;
    res->case_known_findings = s->known;
    tr_status rc = s->failed;
    if (rc == TR_OK) {
        sqlite3_stmt *st = s->st[S_RUN_END];
        bool complete = ok && !res->write_failed;
        bind_text(st, 1, complete ? "complete" : "incomplete");
        sqlite3_bind_int64(st, 2, (sqlite3_int64)s->files_read);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)s->unchanged);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)s->resumed);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)s->rehunted);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)s->events);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)s->fresh);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)s->known);
        sqlite3_bind_int64(st, 9, s->run);
        int r = run(st);
        if (r != SQLITE_DONE)
            rc = fail(s, r, "case store: recording the run's end");
    }
    if (rc == TR_OK)
        rc = tr_case_commit(s->c);
    else
        tr_case_rollback(s->c); /* the last batch is lost; the case stays consistent */
    if (rc != TR_OK)
        res->case_failed = 1;
    sink_free(s);
    return rc;
}

const tr_sink_ops tr_sink_case = {
    .name = "case",
    .needs = TR_SINK_HASH,
    .wanted = case_wanted,
    .open = case_open,
    .plan = case_plan,
    .file_begin = case_file_begin,
    .problem = case_problem,
    .finding = case_finding,
    .file_end = case_file_end,
    .close = case_close,
};
