/*
 * hash.h — the case-insensitive name hash shared by the event model and
 * everything that looks fields up.
 *
 * FNV-1a over ASCII-lowercased bytes. It is incremental: the hash of
 * "Event.System" continued over ".EventID" equals the hash of
 * "Event.System.EventID", which lets readers hash a flattened path one
 * component at a time without building the string first.
 */
#ifndef TR_UTIL_HASH_H
#define TR_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TR_HASH_SEED 2166136261u

static inline uint32_t tr_hash_continue(uint32_t h, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        c |= ((unsigned)(c - 'A') < 26u) << 5; /* ASCII tolower without a table */
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static inline uint32_t tr_hash_byte(uint32_t h, char c)
{
    return tr_hash_continue(h, &c, 1);
}

/* ASCII case-insensitive equality of two byte strings of equal length. */
static inline int tr_name_equal(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y)
            continue;
        x |= ((unsigned)(x - 'A') < 26u) << 5;
        y |= ((unsigned)(y - 'A') < 26u) << 5;
        if (x != y)
            return 0;
    }
    return 1;
}

/* 64-bit mixer for hash tables keyed by integers. */
static inline uint64_t tr_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

#endif
