/*
 * sha256.h — SHA-256 (FIPS 180-4) of memory and of files, for evidence
 * hashes in case records and findings.
 *
 * Incremental: init, any number of updates, final. The compression runs on
 * the x86-64 SHA extensions when the CPU has them and in portable C
 * otherwise; the choice is made once, on first use, and
 * TRACCIA_SHA256_PORTABLE=1 in the environment (read at that moment) forces
 * the portable path. Both give the same digests.
 *
 * Ownership: tr_sha256 is a plain value owned by the caller; it holds no
 * pointers and needs no cleanup, so a state can be copied by assignment
 * (`tr_sha256 fork = s;`) to hash a common prefix once and continue in two
 * directions. tr_sha256_file allocates its 1 MiB read buffer through
 * tr_malloc and frees it before returning. Thread-safe: states are
 * independent and the path choice is atomic.
 */
#ifndef TR_UTIL_SHA256_H
#define TR_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TR_SHA256_DIGEST_SIZE 32
#define TR_SHA256_HEX_SIZE 65 /* 64 hex digits and the NUL */

typedef struct tr_sha256 {
    uint32_t h[8];   /* chaining value H(i) */
    uint64_t bytes;  /* message bytes seen so far */
    uint8_t buf[64]; /* the partial block */
    size_t nbuf;     /* bytes in buf, always < 64 between calls */
} tr_sha256;

void tr_sha256_init(tr_sha256 *s);
/* data may be NULL when len is 0. */
void tr_sha256_update(tr_sha256 *s, const void *data, size_t len);
/* Writes the digest and wipes the state; s may be reused after init. */
void tr_sha256_final(tr_sha256 *s, uint8_t digest[32]);
/* Lowercase hex, NUL-terminated. */
void tr_sha256_hex(const uint8_t digest[32], char hex[65]);

/* Hashes the file at path, or only its first `limit` bytes (UINT64_MAX: the
 * whole file), reading 1 MiB at a time. Returns 0 with the digest and, when
 * size != NULL, the number of bytes hashed in *size; or -1 with errno set
 * (open, read or allocation failure: ENOMEM), leaving digest and *size
 * untouched. */
int tr_sha256_file(const char *path, uint64_t limit, uint8_t digest[32], uint64_t *size);

/* For tests and benchmarks: on > 0 forces the portable path, 0 picks the
 * fastest path this CPU has (ignoring TRACCIA_SHA256_PORTABLE), < 0 goes
 * back to the default choice (the environment is read again on next use).
 * Safe at any time: both paths compute the same function on the same state,
 * so a switch in the middle of a message changes nothing. */
void tr_sha256_force_portable(int on);
/* The path in use: "sha-ni" or "portable". */
const char *tr_sha256_impl(void);

#endif
