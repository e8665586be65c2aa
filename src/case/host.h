/*
 * host.h — the one host identity with a cache for callers that ask it of
 * every event (the evidence detector): the folder heuristic (step 3 of
 * tr_event_host) depends only on the file's path, so it is worked out once
 * per file. tr_event_host in traccia.h is the same without the cache.
 *
 * Ownership: the cache is the caller's (zero it before first use); the name
 * returned is borrowed from the event, as tr_event_host's is.
 */
#ifndef TR_CASE_HOST_H
#define TR_CASE_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "traccia.h"

typedef struct tr_host_path_cache {
    char path[1024]; /* the last path the heuristic ran on */
    bool valid, found;
    size_t at, len;  /* the folder's place in that path */
} tr_host_path_cache;

size_t tr_event_host_cached(const tr_event *ev, tr_host_path_cache *cache, char key[TR_HOST_KEY_MAX],
                            const char **name, size_t *len);

#endif
