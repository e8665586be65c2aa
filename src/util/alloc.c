/*
 * alloc.c — allocation hooks (see alloc.h). The hooks are process-wide and
 * set once, before threads start; reading them needs no lock.
 */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traccia.h"

static void *default_malloc(size_t size, void *ctx) { (void)ctx; return malloc(size); }
static void *default_realloc(void *p, size_t size, void *ctx) { (void)ctx; return realloc(p, size); }
static void default_free(void *p, void *ctx) { (void)ctx; free(p); }

static tr_alloc_hooks hooks = {default_malloc, default_realloc, default_free, NULL};

void tr_alloc_set_hooks(const tr_alloc_hooks *h)
{
    if (h)
        hooks = *h;
    else
        hooks = (tr_alloc_hooks){default_malloc, default_realloc, default_free, NULL};
}

void *tr_malloc(size_t size) { return hooks.malloc_fn(size ? size : 1, hooks.ctx); }

void *tr_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = tr_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *tr_realloc(void *ptr, size_t size) { return hooks.realloc_fn(ptr, size ? size : 1, hooks.ctx); }

void tr_free(void *ptr)
{
    if (ptr)
        hooks.free_fn(ptr, hooks.ctx);
}

char *tr_strndup(const char *s, size_t len)
{
    char *d = tr_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *tr_strdup(const char *s) { return tr_strndup(s, strlen(s)); }
