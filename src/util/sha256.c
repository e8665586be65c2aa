/*
 * sha256.c — SHA-256 after FIPS 180-4 (see sha256.h): the padding and
 * buffering of §5.1.1/§6.2, and two block functions behind one pointer: the
 * portable one follows §6.2.2 step by step; the x86-64 one drives the SHA
 * extensions (SHA256MSG1/MSG2 for the schedule of §6.2.2 step 1, SHA256RNDS2
 * for two rounds of step 3 at a time). The choice is made on first use and
 * kept in an atomic; this file owns nothing else, and tr_sha256_file owns its
 * read buffer and descriptor only while it runs.
 */
#include "sha256.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#define SHA256_READ_CHUNK ((size_t)1 << 20)

/* §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* §5.3.3: the first 32 bits of the fractional parts of the square roots of
 * the first 8 primes. */
static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* Processes n 64-byte blocks at p into the chaining value h. */
typedef void (*sha256_blocks_fn)(uint32_t h[8], const uint8_t *p, size_t n);

/* ---------------------------------------------------------------- portable */

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
/* §4.1.2, Ch and Maj in forms with one operation fewer (same truth tables) */
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return z ^ (x & (y ^ z)); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (z & (x | y)); }
static inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One round of §6.2.2 step 3 with the working variables renamed instead of
 * moved: the caller rotates the argument list by one each round. */
#define SHA256_ROUND(a, b, c, d, e, f, g, h, i)                                                    \
    do {                                                                                           \
        uint32_t t1 = (h) + big_sigma1(e) + ch((e), (f), (g)) + K[i] + w[i];                       \
        (d) += t1;                                                                                 \
        (h) = t1 + big_sigma0(a) + maj((a), (b), (c));                                             \
    } while (0)

static void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n)
{
    uint32_t w[64];
    for (; n > 0; n--, p += 64) {
        /* step 1: the message schedule */
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (int t = 16; t < 64; t++)
            w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
        /* step 2 */
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        /* step 3, eight rounds per pass so the names come back round */
        for (int t = 0; t < 64; t += 8) {
            SHA256_ROUND(a, b, c, d, e, f, g, hh, t + 0);
            SHA256_ROUND(hh, a, b, c, d, e, f, g, t + 1);
            SHA256_ROUND(g, hh, a, b, c, d, e, f, t + 2);
            SHA256_ROUND(f, g, hh, a, b, c, d, e, t + 3);
            SHA256_ROUND(e, f, g, hh, a, b, c, d, t + 4);
            SHA256_ROUND(d, e, f, g, hh, a, b, c, t + 5);
            SHA256_ROUND(c, d, e, f, g, hh, a, b, t + 6);
            SHA256_ROUND(b, c, d, e, f, g, hh, a, t + 7);
        }
        /* step 4 */
        h[0] += a, h[1] += b, h[2] += c, h[3] += d;
        h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
}

#undef SHA256_ROUND

/* ---------------------------------------------------------------- SHA-NI */

#if defined(__x86_64__)

/* SHA256RNDS2 keeps the eight working variables in two registers, one as
 * {A,B,E,F} and one as {C,D,G,H} (A in the top lane), and does two rounds
 * with W+K of those rounds in the low two lanes of its third operand. After
 * the two rounds the old {A,B,E,F} is the new {C,D,G,H}, so the pair of
 * calls below swaps the registers' roles twice and leaves them as they were.
 *
 * Message words live in four registers m0..m3, W[4j..4j+3] in m(j mod 4)
 * with W[4j] in the low lane. For j >= 4 the group is built in place over
 * the oldest one: SHA256MSG1 adds sigma0 of the next word to W[t-16],
 * ALIGNR supplies W[t-7], SHA256MSG2 adds sigma1 of W[t-2] (its last two
 * lanes need the first two, which it computes itself). */
#define SHANI_LOAD(j, mj) mj = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * (j))), bswap)
#define SHANI_SCHEDULE(mj, mj1, mj2, mj3)                                                          \
    do {                                                                                           \
        mj = _mm_add_epi32(_mm_sha256msg1_epu32(mj, mj1), _mm_alignr_epi8(mj3, mj2, 4));           \
        mj = _mm_sha256msg2_epu32(mj, mj3);                                                        \
    } while (0)
#define SHANI_ROUNDS4(j, mj)                                                                       \
    do {                                                                                           \
        __m128i wk = _mm_add_epi32(mj, _mm_loadu_si128((const __m128i *)(K + 4 * (j))));           \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);                                              \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));                     \
    } while (0)

__attribute__((target("sha,sse4.1"))) static void sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t n)
{
    /* reverses the bytes of each 32-bit lane: the words are big-endian */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    /* {A,B,C,D},{E,F,G,H} (A in the low lane) to {A,B,E,F},{C,D,G,H} (A in the top lane) */
    __m128i abcd = _mm_loadu_si128((const __m128i *)h);
    __m128i efgh = _mm_loadu_si128((const __m128i *)(h + 4));
    __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);

    for (; n > 0; n--, p += 64) {
        const __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i m0, m1, m2, m3;
        SHANI_LOAD(0, m0);
        SHANI_ROUNDS4(0, m0);
        SHANI_LOAD(1, m1);
        SHANI_ROUNDS4(1, m1);
        SHANI_LOAD(2, m2);
        SHANI_ROUNDS4(2, m2);
        SHANI_LOAD(3, m3);
        SHANI_ROUNDS4(3, m3);
        for (int j = 4; j < 16; j += 4) {
            SHANI_SCHEDULE(m0, m1, m2, m3);
            SHANI_ROUNDS4(j + 0, m0);
            SHANI_SCHEDULE(m1, m2, m3, m0);
            SHANI_ROUNDS4(j + 1, m1);
            SHANI_SCHEDULE(m2, m3, m0, m1);
            SHANI_ROUNDS4(j + 2, m2);
            SHANI_SCHEDULE(m3, m0, m1, m2);
            SHANI_ROUNDS4(j + 3, m3);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    /* and back */
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

#undef SHANI_LOAD
#undef SHANI_SCHEDULE
#undef SHANI_ROUNDS4

/* gcc's __builtin_cpu_supports knows "sha"; clang's (up to 15 at least)
 * rejects the name, so clang asks CPUID directly (leaf 7 EBX bit 29). */
static bool cpu_has_sha_ni(void)
{
#if defined(__clang__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return (b & bit_SHA) != 0;
#else
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#endif
}

#else

static bool cpu_has_sha_ni(void) { return false; }

#endif

/* ---------------------------------------------------------------- dispatch */

enum { PATH_UNSET, PATH_PORTABLE, PATH_SHANI };
static atomic_int chosen_path; /* PATH_UNSET until first use */

static int best_path(void) { return cpu_has_sha_ni() ? PATH_SHANI : PATH_PORTABLE; }

static int default_path(void)
{
    const char *env = getenv("TRACCIA_SHA256_PORTABLE");
    if (env && *env && strcmp(env, "0") != 0)
        return PATH_PORTABLE;
    return best_path();
}

static sha256_blocks_fn blocks_fn(void)
{
    int path = atomic_load_explicit(&chosen_path, memory_order_relaxed);
    if (path == PATH_UNSET) {
        /* racing first users compute the same answer */
        path = default_path();
        atomic_store_explicit(&chosen_path, path, memory_order_relaxed);
    }
#if defined(__x86_64__)
    if (path == PATH_SHANI)
        return sha256_blocks_shani;
#endif
    return sha256_blocks_portable;
}

void tr_sha256_force_portable(int on)
{
    int path = on > 0 ? PATH_PORTABLE : on == 0 ? best_path() : PATH_UNSET;
    atomic_store_explicit(&chosen_path, path, memory_order_relaxed);
}

const char *tr_sha256_impl(void) { return blocks_fn() == sha256_blocks_portable ? "portable" : "sha-ni"; }

/* ---------------------------------------------------------------- hashing */

void tr_sha256_init(tr_sha256 *s)
{
    assert(s != NULL);
    memcpy(s->h, H0, sizeof s->h);
    s->bytes = 0;
    s->nbuf = 0;
}

void tr_sha256_update(tr_sha256 *s, const void *data, size_t len)
{
    assert(s != NULL && s->nbuf < 64);
    assert(data != NULL || len == 0);
    if (len == 0)
        return;
    const uint8_t *p = data;
    s->bytes += len;
    sha256_blocks_fn blocks = blocks_fn();
    if (s->nbuf > 0) {
        size_t take = 64 - s->nbuf < len ? 64 - s->nbuf : len;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        len -= take;
        if (s->nbuf < 64)
            return;
        blocks(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    if (len >= 64) { /* whole blocks straight from the caller's memory */
        size_t n = len / 64;
        blocks(s->h, p, n);
        p += n * 64;
        len -= n * 64;
    }
    if (len > 0) {
        memcpy(s->buf, p, len);
        s->nbuf = len;
    }
}

void tr_sha256_final(tr_sha256 *s, uint8_t digest[32])
{
    assert(s != NULL && s->nbuf < 64 && digest != NULL);
    sha256_blocks_fn blocks = blocks_fn();
    /* §5.1.1: a 1 bit, zeros to 56 mod 64 bytes, the length in bits as 64
     * bits big-endian (messages are below 2^64 bits, so bytes * 8 fits) */
    uint64_t bits = s->bytes * 8;
    s->buf[s->nbuf++] = 0x80;
    if (s->nbuf > 56) {
        memset(s->buf + s->nbuf, 0, 64 - s->nbuf);
        blocks(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    memset(s->buf + s->nbuf, 0, 56 - s->nbuf);
    store_be32(s->buf + 56, (uint32_t)(bits >> 32));
    store_be32(s->buf + 60, (uint32_t)bits);
    blocks(s->h, s->buf, 1);
    for (int i = 0; i < 8; i++)
        store_be32(digest + 4 * i, s->h[i]);
    memset(s, 0, sizeof *s);
}

void tr_sha256_hex(const uint8_t digest[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    assert(digest != NULL && hex != NULL);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

int tr_sha256_file(const char *path, uint64_t limit, uint8_t digest[32], uint64_t *size)
{
    assert(path != NULL && digest != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *buf = tr_malloc(SHA256_READ_CHUNK);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    tr_sha256 s;
    tr_sha256_init(&s);
    /* `left` counts down from the limit; from UINT64_MAX it cannot reach
     * zero, as no file is that long, so the whole file is read */
    uint64_t left = limit, total = 0;
    int rc = 0;
    while (left > 0) {
        size_t want = left < SHA256_READ_CHUNK ? (size_t)left : SHA256_READ_CHUNK;
        ssize_t got = read(fd, buf, want);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        if (got == 0)
            break;
        assert((size_t)got <= want);
        tr_sha256_update(&s, buf, (size_t)got);
        total += (uint64_t)got;
        left -= (uint64_t)got;
    }
    int saved = errno;
    tr_free(buf);
    close(fd);
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    tr_sha256_final(&s, digest);
    if (size)
        *size = total;
    return 0;
}
