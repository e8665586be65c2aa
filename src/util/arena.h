/*
 * arena.h — bump allocator for memory that lives exactly as long as a batch.
 *
 * Readers put everything an event needs that cannot point into the input
 * (unescaped strings, flattened names, field arrays) into an arena, and reset
 * the arena when the next batch starts. Allocation is a pointer bump; reset
 * keeps the ordinary-sized blocks for reuse, so steady-state reading
 * allocates nothing, and memory is bounded by the largest batch.
 *
 * Ownership: the arena owns every block; tr_arena_free releases them all.
 * Pointers from tr_arena_alloc are valid until the next reset or free.
 */
#ifndef TR_UTIL_ARENA_H
#define TR_UTIL_ARENA_H

#include <stddef.h>

typedef struct tr_arena_block tr_arena_block;

typedef struct tr_arena {
    tr_arena_block *head;  /* current block; older blocks chain behind it */
    tr_arena_block *spare; /* ordinary blocks kept by reset for reuse */
    char *cur;             /* next free byte in head */
    char *end;             /* one past head's last byte */
    size_t block_size;     /* size of ordinary blocks, bytes */
    size_t total;          /* bytes held in all blocks (for memory accounting) */
} tr_arena;

/* block_size 0 picks the default (64 KiB). Never fails: blocks come later. */
void tr_arena_init(tr_arena *a, size_t block_size);
/* Returns 8-byte aligned memory or NULL when the allocator fails. */
void *tr_arena_alloc(tr_arena *a, size_t size);
/* Copies len bytes and appends a NUL. */
char *tr_arena_strndup(tr_arena *a, const char *s, size_t len);
/* A point to roll back to: everything allocated after it can be dropped
 * at once (a record that failed to parse), leaving what came before. */
typedef struct tr_arena_mark {
    tr_arena_block *head;
    char *cur, *end;
} tr_arena_mark;

static inline tr_arena_mark tr_arena_get_mark(const tr_arena *a)
{
    return (tr_arena_mark){a->head, a->cur, a->end};
}
/* Drops every allocation made since `m` (taken from this arena since its
 * last reset). Blocks added since go back to the spare list or the
 * allocator, so repeated failures cannot grow memory. */
void tr_arena_rollback(tr_arena *a, tr_arena_mark m);
/* Forgets every allocation; keeps ordinary blocks for reuse, frees oversized ones. */
void tr_arena_reset(tr_arena *a);
void tr_arena_free(tr_arena *a);

#endif
