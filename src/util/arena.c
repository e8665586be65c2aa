/*
 * arena.c — bump allocator (see arena.h). Oversized requests get a block of
 * their own so that one huge string does not make every later block huge;
 * reset moves ordinary blocks to a spare list and frees oversized ones, which
 * keeps memory bounded by the largest batch rather than by the input.
 */
#include "arena.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"

struct tr_arena_block {
    tr_arena_block *next;
    size_t size; /* usable bytes after the header */
    /* data follows, 16-byte aligned by the header's size */
    max_align_t align_[];
};

#define ARENA_DEFAULT_BLOCK (64u * 1024u)

void tr_arena_init(tr_arena *a, size_t block_size)
{
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
}

static void *arena_new_block(tr_arena *a, size_t size)
{
    if (size <= a->block_size && a->spare) {
        tr_arena_block *b = a->spare;
        a->spare = b->next;
        b->next = a->head;
        a->head = b;
        char *data = (char *)(b + 1);
        a->cur = data + size;
        a->end = data + b->size;
        return data;
    }
    size_t usable = size > a->block_size ? size : a->block_size;
    if (usable > SIZE_MAX - sizeof(tr_arena_block))
        return NULL;
    tr_arena_block *b = tr_malloc(sizeof(tr_arena_block) + usable);
    if (!b)
        return NULL;
    b->size = usable;
    b->next = a->head;
    a->head = b;
    a->total += usable;
    char *data = (char *)(b + 1);
    a->cur = data + size;
    a->end = data + usable;
    return data;
}

void *tr_arena_alloc(tr_arena *a, size_t size)
{
    size = (size + 7u) & ~(size_t)7u;
    if (size == 0)
        size = 8;
    if (a->cur && (size_t)(a->end - a->cur) >= size) {
        void *p = a->cur;
        a->cur += size;
        return p;
    }
    return arena_new_block(a, size);
}

char *tr_arena_strndup(tr_arena *a, const char *s, size_t len)
{
    char *d = tr_arena_alloc(a, len + 1);
    if (d) {
        if (len)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Returns a block to the spare list (ordinary size) or to the allocator. */
static void release_block(tr_arena *a, tr_arena_block *b)
{
    if (b->size == a->block_size) {
        b->next = a->spare;
        a->spare = b;
    } else {
        a->total -= b->size;
        tr_free(b);
    }
}

void tr_arena_reset(tr_arena *a)
{
    tr_arena_block *b = a->head;
    while (b) {
        tr_arena_block *next = b->next;
        release_block(a, b);
        b = next;
    }
    a->head = NULL;
    a->cur = NULL;
    a->end = NULL;
}

void tr_arena_rollback(tr_arena *a, tr_arena_mark m)
{
    while (a->head && a->head != m.head) {
        tr_arena_block *b = a->head;
        a->head = b->next;
        release_block(a, b);
    }
    a->cur = m.cur;
    a->end = m.end;
}

static void arena_free_chain(tr_arena_block *b)
{
    while (b) {
        tr_arena_block *next = b->next;
        tr_free(b);
        b = next;
    }
}

void tr_arena_free(tr_arena *a)
{
    arena_free_chain(a->head);
    arena_free_chain(a->spare);
    memset(a, 0, sizeof *a);
}
