/*
 * store.h — the case store's internals shared by its files: the open case
 * (store.c: the database, its schema and statements), the hunt's sink into
 * it (case_sink.c) and the questions asked of it (case_query.c).
 *
 * Ownership: a tr_case owns its sqlite3 handle (closed, with a last WAL
 * checkpoint, by tr_case_close); the statements belong to whoever prepared
 * them — the sink finalizes its own when it closes, the questions theirs
 * when they are answered.
 */
#ifndef TR_CASE_STORE_H
#define TR_CASE_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "traccia.h"

struct tr_case {
    sqlite3 *db;
    char *path;
    char error[512];        /* the last error, "" when none */
    bool in_tx;             /* a write transaction is open */
};

/* Records the error of SQLite call `what` in c->error and returns the
 * matching tr_status (TR_ERR_NOMEM, TR_ERR_IO or TR_ERR_FORMAT). */
tr_status tr_case_fail(tr_case *c, int sqlite_rc, const char *what);
/* Runs SQL without results. */
tr_status tr_case_exec(tr_case *c, const char *sql);
/* Prepares a statement (persistent: reused for many rows). */
tr_status tr_case_prepare(tr_case *c, const char *sql, sqlite3_stmt **out);
tr_status tr_case_begin(tr_case *c);
tr_status tr_case_commit(tr_case *c);
void tr_case_rollback(tr_case *c);

/* Test hooks (tests/test_case.c): the n-th write to a case's files from now
 * on fails with an I/O error (n <= 0: none fail), as a full disk would. */
void tr_case_fail_writes_after(long n);
/* The n-th allocation of the case store (SQLite's, and the sink's own) from
 * now on fails, once (n <= 0: none); tr_case_allocs_made counts them. The
 * store's allocations ask tr_case_alloc_fault first. */
void tr_case_fail_allocs_after(long n);
long tr_case_allocs_made(void);
bool tr_case_alloc_fault(void);

#endif
