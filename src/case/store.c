/*
 * store.c — the case store: a SQLite database (docs/CASE.md has the
 * schema) opened, created or checked, with the library's allocator and an
 * I/O layer tests can make fail.
 *
 * SQLite's memory comes from tr_malloc (SQLITE_CONFIG_MALLOC, set once per
 * process before SQLite starts), so the allocation-failure tests reach into
 * it; its files go through the "traccia" VFS, a thin shim over the default
 * one whose writes can be made to fail after N (tr_case_fail_writes_after),
 * as a full disk would. Journal: WAL, synchronous NORMAL — a crash or a
 * kill loses at most the transaction in progress, never the database.
 *
 * Owns: the tr_case (handle, path, last error).
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "store.h"

/* ---------------------------------------------------------------- memory */

static atomic_long allocs_made; /* since the last tr_case_fail_allocs_after */

/* Each block carries its size in front (SQLite asks for it). */
#define HDR 16

static void *mem_malloc(int n)
{
    if (n <= 0 || tr_case_alloc_fault())
        return NULL;
    char *p = tr_malloc((size_t)n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &(size_t){(size_t)n}, sizeof(size_t));
    return p + HDR;
}

static void mem_free(void *p)
{
    if (p)
        tr_free((char *)p - HDR);
}

static int mem_size(void *p)
{
    if (!p)
        return 0;
    size_t n;
    memcpy(&n, (char *)p - HDR, sizeof n);
    return (int)n;
}

static void *mem_realloc(void *p, int n)
{
    if (!p)
        return mem_malloc(n);
    if (n <= 0) {
        mem_free(p);
        return NULL;
    }
    if (tr_case_alloc_fault())
        return NULL;
    char *q = tr_realloc((char *)p - HDR, (size_t)n + HDR);
    if (!q)
        return NULL;
    memcpy(q, &(size_t){(size_t)n}, sizeof(size_t));
    return q + HDR;
}

static int mem_roundup(int n) { return (n + 7) & ~7; }
static int mem_init(void *ctx)
{
    (void)ctx;
    return SQLITE_OK;
}
static void mem_shutdown(void *ctx) { (void)ctx; }

/* ---------------------------------------------------------------- the VFS shim */

static atomic_long writes_left; /* > 0: writes until one fails; 0: none fail */
static atomic_long allocs_left; /* > 0: allocations until one fails; 0: none fails */

void tr_case_fail_writes_after(long n) { atomic_store(&writes_left, n > 0 ? n : 0); }

void tr_case_fail_allocs_after(long n)
{
    atomic_store(&allocs_left, n > 0 ? n : 0);
    atomic_store(&allocs_made, 0);
}

long tr_case_allocs_made(void) { return atomic_load(&allocs_made); }

bool tr_case_alloc_fault(void)
{
    atomic_fetch_add(&allocs_made, 1);
    long n = atomic_load(&allocs_left);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&allocs_left, &n, n - 1))
            return n == 1; /* only this one: what follows is the recovery */
    }
    return false;
}

/* True when this write is the one to fail. */
static bool write_fails(void)
{
    long n = atomic_load(&writes_left);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&writes_left, &n, n - 1))
            return n == 1 ? (atomic_store(&writes_left, -1), true) : false;
    }
    return n < 0; /* after the first failure, the disk stays full */
}

typedef struct shim_file {
    sqlite3_file base; /* our methods */
    sqlite3_file *real; /* the default VFS's file, right after this struct */
} shim_file;

static sqlite3_vfs *real_vfs;

#define REAL(f) (((shim_file *)(f))->real)

static int x_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int x_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int x_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    if (write_fails())
        return SQLITE_FULL;
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (write_fails())
        return SQLITE_IOERR_TRUNCATE;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int x_sync(sqlite3_file *f, int flags)
{
    if (write_fails())
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int x_size(sqlite3_file *f, sqlite3_int64 *s) { return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int x_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int x_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int x_check(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int x_fcntl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int x_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int x_dev(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int x_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int x_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void x_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int x_shmunmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }

static const sqlite3_io_methods shim_methods = {
    .iVersion = 2,
    .xClose = x_close,
    .xRead = x_read,
    .xWrite = x_write,
    .xTruncate = x_truncate,
    .xSync = x_sync,
    .xFileSize = x_size,
    .xLock = x_lock,
    .xUnlock = x_unlock,
    .xCheckReservedLock = x_check,
    .xFileControl = x_fcntl,
    .xSectorSize = x_sector,
    .xDeviceCharacteristics = x_dev,
    .xShmMap = x_shmmap,
    .xShmLock = x_shmlock,
    .xShmBarrier = x_shmbarrier,
    .xShmUnmap = x_shmunmap,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    shim_file *s = (shim_file *)f;
    s->real = (sqlite3_file *)(s + 1);
    int rc = real_vfs->xOpen(real_vfs, name, s->real, flags, out);
    s->base.pMethods = rc == SQLITE_OK && s->real->pMethods ? &shim_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, n, sync);
}
static int v_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, n, flags, out);
}
static int v_full(sqlite3_vfs *v, const char *n, int size, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, n, size, out);
}
static void *v_dlopen(sqlite3_vfs *v, const char *n)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, n);
}
static void v_dlerror(sqlite3_vfs *v, int n, char *m)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, m);
}
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, s);
}
static void v_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}
static int v_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, t);
}
static int v_lasterror(sqlite3_vfs *v, int n, char *m)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, m) : 0;
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, t);
}

static sqlite3_vfs shim_vfs = {
    .iVersion = 2,
    .zName = "traccia",
    .xOpen = v_open,
    .xDelete = v_delete,
    .xAccess = v_access,
    .xFullPathname = v_full,
    .xDlOpen = v_dlopen,
    .xDlError = v_dlerror,
    .xDlSym = v_dlsym,
    .xDlClose = v_dlclose,
    .xRandomness = v_random,
    .xSleep = v_sleep,
    .xCurrentTime = v_time,
    .xGetLastError = v_lasterror,
    .xCurrentTimeInt64 = v_time64,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int setup_rc = SQLITE_OK;

static void setup(void)
{
    static const sqlite3_mem_methods mem = {mem_malloc, mem_free,     mem_realloc, mem_size,
                                            mem_roundup, mem_init, mem_shutdown, NULL};
    /* fails only when the program started SQLite before: then its allocator stays */
    (void)sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);
    setup_rc = sqlite3_initialize();
    if (setup_rc != SQLITE_OK)
        return;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs) {
        setup_rc = SQLITE_ERROR;
        return;
    }
    shim_vfs.mxPathname = real_vfs->mxPathname;
    shim_vfs.szOsFile = (int)sizeof(shim_file) + real_vfs->szOsFile;
    setup_rc = sqlite3_vfs_register(&shim_vfs, 0);
}

/* ---------------------------------------------------------------- errors and helpers */

tr_status tr_case_fail(tr_case *c, int rc, const char *what)
{
    const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    snprintf(c->error, sizeof c->error, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
    int prim = rc & 0xff;
    if (prim == SQLITE_NOMEM)
        return TR_ERR_NOMEM;
    if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT || prim == SQLITE_SCHEMA || prim == SQLITE_MISMATCH)
        return TR_ERR_FORMAT;
    return TR_ERR_IO;
}

tr_status tr_case_exec(tr_case *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TR_OK : tr_case_fail(c, rc, "case store");
}

tr_status tr_case_prepare(tr_case *c, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    return rc == SQLITE_OK ? TR_OK : tr_case_fail(c, rc, "case store: preparing a statement");
}

tr_status tr_case_begin(tr_case *c)
{
    assert(!c->in_tx);
    tr_status rc = tr_case_exec(c, "BEGIN IMMEDIATE");
    c->in_tx = rc == TR_OK;
    return rc;
}

tr_status tr_case_commit(tr_case *c)
{
    if (!c->in_tx)
        return TR_OK;
    int rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        c->in_tx = false;
        return TR_OK;
    }
    tr_status st = tr_case_fail(c, rc, "case store: committing");
    tr_case_rollback(c);
    return st;
}

void tr_case_rollback(tr_case *c)
{
    if (sqlite3_get_autocommit(c->db) == 0)
        (void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->in_tx = false;
}

const char *tr_case_error(const tr_case *c) { return c ? c->error : ""; }

/* ---------------------------------------------------------------- the schema */

/* Version 1; docs/CASE.md explains every table and column. */
static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  started TEXT NOT NULL,\n"
    "  finished TEXT,\n"
    "  status TEXT NOT NULL CHECK(status IN ('running','complete','incomplete','interrupted')),\n"
    "  tool TEXT NOT NULL,\n"
    "  command TEXT,\n"
    "  ruleset_digest TEXT NOT NULL,\n"
    "  rules INTEGER NOT NULL,\n"
    "  indicators INTEGER NOT NULL,\n"
    "  options TEXT NOT NULL,\n"
    "  files_read INTEGER, files_unchanged INTEGER, files_resumed INTEGER, files_rehunted INTEGER,\n"
    "  events INTEGER, findings_new INTEGER, findings_known INTEGER);\n"
    "CREATE TABLE evidence(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  size INTEGER NOT NULL,\n"
    "  mtime INTEGER NOT NULL,\n"
    "  sha256 TEXT,\n"
    "  hashed INTEGER,\n"
    "  format TEXT,\n"
    "  records INTEGER NOT NULL DEFAULT 0,\n"
    "  first_time TEXT,\n"
    "  last_time TEXT,\n"
    "  status TEXT NOT NULL CHECK(status IN ('reading','read','damaged','skipped')),\n"
    "  why TEXT,\n"
    "  read_to INTEGER NOT NULL DEFAULT 0,\n"
    "  ruleset_digest TEXT,\n"
    "  first_run INTEGER NOT NULL REFERENCES runs(id),\n"
    "  last_run INTEGER NOT NULL REFERENCES runs(id));\n"
    "CREATE TABLE hosts(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  key TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL);\n"
    "CREATE TABLE host_evidence(\n"
    "  host INTEGER NOT NULL REFERENCES hosts(id),\n"
    "  evidence INTEGER NOT NULL REFERENCES evidence(id),\n"
    "  format TEXT NOT NULL,\n"
    "  channel TEXT NOT NULL,\n"
    "  events INTEGER NOT NULL,\n"
    "  first_time TEXT,\n"
    "  last_time TEXT,\n"
    "  PRIMARY KEY(host, evidence, format, channel));\n"
    "CREATE TABLE rules(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  kind TEXT NOT NULL,\n"
    "  rule_id TEXT NOT NULL,\n"
    "  title TEXT NOT NULL,\n"
    "  level INTEGER NOT NULL,\n"
    "  level_name TEXT NOT NULL,\n"
    "  status TEXT,\n"
    "  techniques TEXT NOT NULL,\n"
    "  tactics TEXT NOT NULL,\n"
    "  tags TEXT NOT NULL,\n"
    "  source TEXT,\n"
    "  UNIQUE(kind, rule_id, title));\n"
    "CREATE TABLE findings(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id),\n"
    "  kind TEXT NOT NULL,\n"
    "  rule INTEGER NOT NULL REFERENCES rules(id),\n"
    "  level INTEGER NOT NULL,\n"
    "  ts INTEGER,\n"
    "  time TEXT,\n"
    "  first_time TEXT,\n"
    "  last_time TEXT,\n"
    "  value REAL,\n"
    "  host INTEGER NOT NULL REFERENCES hosts(id),\n"
    "  evidence INTEGER NOT NULL,\n"
    "  record INTEGER NOT NULL,\n"
    "  byte_offset INTEGER NOT NULL,\n"
    "  matched_field TEXT,\n"
    "  matched_value TEXT,\n"
    "  details TEXT NOT NULL,\n"
    "  ident TEXT NOT NULL,\n"
    "  UNIQUE(evidence, record, byte_offset, rule, ident));\n"


    "CREATE VIEW sightings AS\n"
    "  SELECT f.id AS finding, r.rule_id AS indicator, r.title, f.time, h.name AS host,\n"
    "         f.matched_field AS field, f.matched_value AS value, e.path\n"
    "  FROM findings f JOIN rules r ON r.id = f.rule JOIN hosts h ON h.id = f.host\n"
    "  LEFT JOIN evidence e ON e.id = f.evidence WHERE f.kind = 'indicator';\n"
    "CREATE VIEW timeline AS\n"
    "  SELECT f.id, f.time, h.key AS host, h.name AS host_name, r.level_name AS level, r.title,\n"
    "         r.rule_id, f.kind, r.techniques, e.path, f.record, f.details\n"
    "  FROM findings f JOIN rules r ON r.id = f.rule JOIN hosts h ON h.id = f.host\n"
    "  LEFT JOIN evidence e ON e.id = f.evidence ORDER BY f.ts, f.id;\n";

/* Version 2 adds what was said about each file as it was read: a case of
 * version 1 is brought to 2 when it is opened. */
static const char schema_v2[] =
    "CREATE TABLE problems(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id),\n"
    "  evidence INTEGER NOT NULL REFERENCES evidence(id),\n"
    "  severity TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  location TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL);\n"
    "CREATE INDEX problems_evidence ON problems(evidence, run);\n";

static tr_status check_or_create_schema(tr_case *c, int create)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        int version = 0;
        if (sqlite3_step(st) == SQLITE_ROW)
            version = atoi((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (version == TR_CASE_SCHEMA_VERSION)
            return TR_OK;
        if (version == 1) { /* upgraded in place, in one transaction */
            tr_status u = tr_case_begin(c);
            if (u == TR_OK)
                u = tr_case_exec(c, schema_v2);
            if (u == TR_OK)
                u = tr_case_exec(c, "UPDATE meta SET value='2' WHERE key='schema_version'");
            if (u == TR_OK)
                return tr_case_commit(c);
            tr_case_rollback(c);
            return u;
        }
        snprintf(c->error, sizeof c->error,
                 version > TR_CASE_SCHEMA_VERSION ? "the case has schema version %d, newer than this traccia's (%d)"
                                                  : "the case has schema version %d, this traccia reads %d",
                 version, TR_CASE_SCHEMA_VERSION);
        return TR_ERR_FORMAT;
    }
    sqlite3_finalize(st);
    /* no meta table: an empty database becomes a case; anything else is not one */
    sqlite3_stmt *q = NULL;
    int tables = -1;
    rc = sqlite3_prepare_v2(c->db, "SELECT count(*) FROM sqlite_schema", -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        tables = sqlite3_column_int(q, 0);
    else
        rc = rc == SQLITE_OK ? sqlite3_errcode(c->db) : rc;
    sqlite3_finalize(q);
    if (tables < 0)
        return tr_case_fail(c, rc, "not a case (not an SQLite database)");
    if (tables > 0 || !create) {
        snprintf(c->error, sizeof c->error, tables > 0 ? "an SQLite database, but not a traccia case"
                                                        : "an empty database, not a case");
        return TR_ERR_FORMAT;
    }
    tr_status s = tr_case_begin(c);
    if (s == TR_OK)
        s = tr_case_exec(c, schema_v1);
    if (s == TR_OK)
        s = tr_case_exec(c, schema_v2);
    if (s == TR_OK) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta VALUES('schema_version','%d'),('tool','traccia %s'),"
                 "('created',strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now'))",
                 TR_CASE_SCHEMA_VERSION, tr_version());
        s = tr_case_exec(c, sql);
    }
    if (s == TR_OK)
        s = tr_case_commit(c);
    else
        tr_case_rollback(c);
    return s;
}

tr_status tr_case_open(tr_case **out, const char *path, int create, char *err, size_t errsize)
{
    *out = NULL;
    if (err && errsize)
        err[0] = '\0';
    pthread_once(&once, setup);
    tr_case *c = tr_calloc(1, sizeof *c);
    if (!c || !(c->path = tr_strdup(path))) {
        tr_free(c);
        if (err && errsize)
            snprintf(err, errsize, "out of memory");
        return TR_ERR_NOMEM;
    }
    tr_status st = TR_OK;
    if (setup_rc != SQLITE_OK) {
        st = tr_case_fail(c, setup_rc, "starting SQLite");
    } else if (!create && access(path, F_OK) != 0) {
        snprintf(c->error, sizeof c->error, "no such case: %s", strerror(errno));
        st = TR_ERR_NOTFOUND;
    } else {
        int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
        int rc = sqlite3_open_v2(path, &c->db, flags, "traccia");
        if (rc != SQLITE_OK)
            st = tr_case_fail(c, rc, "cannot open the case");
        else
            sqlite3_busy_timeout(c->db, 10000); /* another traccia writing the case */
    }
    if (st == TR_OK)
        st = tr_case_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16384; PRAGMA page_size=16384;");
    if (st == TR_OK)
        st = check_or_create_schema(c, create);
    if (st != TR_OK) {
        if (err && errsize)
            snprintf(err, errsize, "%s", c->error);
        tr_case_close(c);
        return st;
    }
    *out = c;
    return TR_OK;
}

void tr_case_close(tr_case *c)
{
    if (!c)
        return;
    if (c->db) {
        if (c->in_tx)
            tr_case_rollback(c);
        sqlite3_close_v2(c->db);
    }
    tr_free(c->path);
    tr_free(c);
}
