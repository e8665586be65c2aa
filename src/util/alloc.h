/*
 * alloc.h — the library's single allocation path.
 *
 * Every allocation in libtraccia goes through tr_malloc/tr_realloc/tr_free so
 * that a host program can supply its own allocator and tests can make the Nth
 * allocation fail (see tests/harness.c). The library never aborts on a failed
 * allocation: callers check for NULL and return TR_ERR_NOMEM.
 *
 * Ownership: memory from tr_malloc/tr_realloc is freed with tr_free.
 */
#ifndef TR_UTIL_ALLOC_H
#define TR_UTIL_ALLOC_H

#include <stddef.h>

void *tr_malloc(size_t size);
void *tr_calloc(size_t count, size_t size); /* zeroed; NULL on overflow */
void *tr_realloc(void *ptr, size_t size);
void tr_free(void *ptr);
char *tr_strndup(const char *s, size_t len); /* NUL-terminated copy */
char *tr_strdup(const char *s);

#endif
