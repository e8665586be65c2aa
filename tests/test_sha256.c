/*
 * test_sha256.c — SHA-256: the FIPS 180-4 / NIST vectors on both block
 * paths, updates split anywhere, copied and reused states, the portable and
 * SHA-NI paths agreeing, the environment override, hashing files.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>

#include "../src/util/sha256.h"

/* The paths to run a test on: forced portable, then the fastest this CPU
 * has (the same path again when it has no SHA-NI). */
static const int each_path[] = {1, 0};
#define FOR_EACH_PATH(i) for (size_t i = 0; i < 2 && (tr_sha256_force_portable(each_path[i]), 1); i++)

static void hex_of(const void *data, size_t len, char hex[65])
{
    tr_sha256 s;
    uint8_t d[32];
    tr_sha256_init(&s);
    tr_sha256_update(&s, data, len);
    tr_sha256_final(&s, d);
    tr_sha256_hex(d, hex);
}

static void digest_of(const void *data, size_t len, uint8_t d[32])
{
    tr_sha256 s;
    tr_sha256_init(&s);
    tr_sha256_update(&s, data, len);
    tr_sha256_final(&s, d);
}

#define CHECK_HEX(hex, lit) CHECK_STRN((hex), strlen(hex), lit)

static void sha256_nist_vectors(void)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
         "mnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    static const char million_a[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *a = malloc(1000000);
    CHECK(a != NULL);
    if (!a)
        return;
    memset(a, 'a', 1000000);
    FOR_EACH_PATH(p) {
        char hex[65];
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            hex_of(v[i].msg, strlen(v[i].msg), hex);
            CHECK_HEX(hex, v[i].hex);
        }
        hex_of(a, 1000000, hex); /* one update */
        CHECK_HEX(hex, million_a);
        tr_sha256 s;
        uint8_t d[32];
        tr_sha256_init(&s);
        for (int i = 0; i < 1000; i++) /* many updates of 1000 */
            tr_sha256_update(&s, a, 1000);
        tr_sha256_final(&s, d);
        tr_sha256_hex(d, hex);
        CHECK_HEX(hex, million_a);
    }
    free(a);
    tr_sha256_force_portable(-1);
}

static void sha256_hex_format(void)
{
    uint8_t d[32];
    char hex[65];
    memset(hex, 'x', sizeof hex);
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(i * 8 + 0x0f);
    tr_sha256_hex(d, hex);
    CHECK_INT(strlen(hex), 64);
    CHECK_HEX(hex, "0f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff07");
    memset(d, 0, sizeof d);
    tr_sha256_hex(d, hex);
    CHECK_HEX(hex, "0000000000000000000000000000000000000000000000000000000000000000");
}

/* 200 bytes, i*37+11; the digest is from an independent implementation */
static void sha256_split_updates(void)
{
    static const char want[] = "5e48d64839a8bff5e2471507af6a49f9990817df437857f4a2007df41266e1b5";
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    FOR_EACH_PATH(p) {
        char hex[65];
        hex_of(msg, sizeof msg, hex);
        CHECK_HEX(hex, want);
        for (size_t k = 0; k <= 130; k++) {
            tr_sha256 s;
            uint8_t d[32];
            tr_sha256_init(&s);
            tr_sha256_update(&s, msg, k);
            tr_sha256_update(&s, NULL, 0);
            tr_sha256_update(&s, msg + k, sizeof msg - k);
            tr_sha256_final(&s, d);
            tr_sha256_hex(d, hex);
            if (strcmp(hex, want) != 0) {
                char m[160];
                snprintf(m, sizeof m, "split at %zu gives %s", k, hex);
                tr_test_fail(__FILE__, __LINE__, m);
            }
        }
        /* one byte at a time */
        tr_sha256 s;
        uint8_t d[32];
        tr_sha256_init(&s);
        for (size_t i = 0; i < sizeof msg; i++)
            tr_sha256_update(&s, msg + i, 1);
        tr_sha256_final(&s, d);
        tr_sha256_hex(d, hex);
        CHECK_HEX(hex, want);
    }
    tr_sha256_force_portable(-1);
}

/* The padding crosses into a second block from 56 bytes in the last one:
 * every length around the boundaries agrees with the byte-at-a-time hash. */
static void sha256_padding_boundaries(void)
{
    uint8_t msg[192];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(255 - i);
    FOR_EACH_PATH(p) {
        for (size_t len = 0; len <= sizeof msg; len++) {
            uint8_t one[32], bytes[32];
            digest_of(msg, len, one);
            tr_sha256 s;
            tr_sha256_init(&s);
            for (size_t i = 0; i < len; i++)
                tr_sha256_update(&s, msg + i, 1);
            tr_sha256_final(&s, bytes);
            CHECK(memcmp(one, bytes, 32) == 0);
        }
    }
    tr_sha256_force_portable(-1);
    /* 55 and 56 bytes of 'a' (one and two final blocks), independently computed */
    char a[64], hex[65];
    memset(a, 'a', sizeof a);
    hex_of(a, 55, hex);
    CHECK_HEX(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    hex_of(a, 56, hex);
    CHECK_HEX(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    hex_of(a, 64, hex);
    CHECK_HEX(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void sha256_copy_and_reuse(void)
{
    static const char abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    tr_sha256 s, fork;
    uint8_t d1[32], d2[32], want1[32], want2[32];
    char hex[65];
    digest_of("prefix-one", 10, want1);
    digest_of("prefix-two!", 11, want2);
    tr_sha256_init(&s);
    tr_sha256_update(&s, "prefix-", 7);
    fork = s; /* a plain value: assignment copies the state */
    tr_sha256_update(&s, "one", 3);
    tr_sha256_update(&fork, "two!", 4);
    tr_sha256_final(&s, d1);
    tr_sha256_final(&fork, d2);
    CHECK(memcmp(d1, want1, 32) == 0);
    CHECK(memcmp(d2, want2, 32) == 0);
    /* reuse after final */
    tr_sha256_init(&s);
    tr_sha256_update(&s, "abc", 3);
    tr_sha256_final(&s, d1);
    tr_sha256_hex(d1, hex);
    CHECK_HEX(hex, abc);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Hashes buf[0..len) in random-sized updates on the given path. */
static void hash_in_pieces(int portable, const uint8_t *buf, size_t len, uint8_t d[32])
{
    tr_sha256_force_portable(portable);
    tr_sha256 s;
    tr_sha256_init(&s);
    size_t at = 0;
    while (at < len) {
        size_t n = (size_t)(rng() % 300);
        if (n > len - at)
            n = len - at;
        tr_sha256_update(&s, buf + at, n);
        at += n;
    }
    tr_sha256_final(&s, d);
}

static void sha256_paths_agree(void)
{
    tr_sha256_force_portable(0);
    if (strcmp(tr_sha256_impl(), "sha-ni") != 0) {
        tr_sha256_force_portable(-1);
        tr_test_skip("this CPU has no SHA-NI");
        return;
    }
    tr_sha256_force_portable(1);
    CHECK(strcmp(tr_sha256_impl(), "portable") == 0);
    enum { MAX = 20000 };
    uint8_t *buf = malloc(MAX + 16);
    CHECK(buf != NULL);
    if (!buf)
        return;
    for (size_t i = 0; i < MAX + 16; i++)
        buf[i] = (uint8_t)rng();
    int differ = 0;
    for (int iter = 0; iter < 600; iter++) {
        /* every length up to 300, then random ones; random alignment */
        size_t len = iter < 300 ? (size_t)iter : (size_t)(rng() % MAX);
        const uint8_t *p = buf + rng() % 16;
        uint8_t a[32], b[32], c[32], d[32];
        tr_sha256_force_portable(1);
        digest_of(p, len, a);
        tr_sha256_force_portable(0);
        digest_of(p, len, b);
        hash_in_pieces(1, p, len, c);
        hash_in_pieces(0, p, len, d);
        if (memcmp(a, b, 32) != 0 || memcmp(a, c, 32) != 0 || memcmp(a, d, 32) != 0) {
            if (differ++ < 5) {
                char m[96];
                snprintf(m, sizeof m, "the paths differ on %zu bytes", len);
                tr_test_fail(__FILE__, __LINE__, m);
            }
        }
    }
    /* switching paths in the middle of a message changes nothing */
    uint8_t want[32], got[32];
    tr_sha256_force_portable(1);
    digest_of(buf, 5000, want);
    tr_sha256 s;
    tr_sha256_init(&s);
    for (size_t at = 0; at < 5000; at += 500) {
        tr_sha256_force_portable((int)(at / 500) & 1);
        tr_sha256_update(&s, buf + at, 500);
    }
    tr_sha256_final(&s, got);
    CHECK(memcmp(want, got, 32) == 0);
    free(buf);
    tr_sha256_force_portable(-1);
}

static void sha256_env_override(void)
{
    const char *old = getenv("TRACCIA_SHA256_PORTABLE");
    char *saved = old ? strdup(old) : NULL;
    setenv("TRACCIA_SHA256_PORTABLE", "1", 1);
    tr_sha256_force_portable(-1); /* the environment is read on next use */
    CHECK(strcmp(tr_sha256_impl(), "portable") == 0);
    setenv("TRACCIA_SHA256_PORTABLE", "0", 1);
    CHECK(strcmp(tr_sha256_impl(), "portable") == 0); /* read once: still portable */
    tr_sha256_force_portable(-1);
    tr_sha256_force_portable(0);
    const char *best = tr_sha256_impl();
    tr_sha256_force_portable(-1);
    CHECK(strcmp(tr_sha256_impl(), best) == 0); /* "0" is not an override */
    unsetenv("TRACCIA_SHA256_PORTABLE");
    tr_sha256_force_portable(-1);
    CHECK(strcmp(tr_sha256_impl(), best) == 0);
    if (saved) {
        setenv("TRACCIA_SHA256_PORTABLE", saved, 1);
        free(saved);
    }
    tr_sha256_force_portable(-1);
}

static void sha256_files(void)
{
    /* more than three read chunks, not a multiple of anything */
    const size_t len = (3u << 20) + 123;
    uint8_t *data = malloc(len);
    CHECK(data != NULL);
    if (!data)
        return;
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)rng();
    const char *path = write_file("blob.bin", data, len);
    uint8_t want[32], got[32];
    uint64_t size = 0;

    digest_of(data, len, want);
    CHECK_INT(tr_sha256_file(path, UINT64_MAX, got, &size), 0);
    CHECK_INT(size, len);
    CHECK(memcmp(want, got, 32) == 0);
    CHECK_INT(tr_sha256_file(path, UINT64_MAX, got, NULL), 0); /* size may be NULL */
    CHECK(memcmp(want, got, 32) == 0);

    const uint64_t limits[] = {0, 1, 64, (1u << 20) - 1, 1u << 20, (1u << 20) + 7, len - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        digest_of(data, (size_t)limits[i], want);
        size = 12345;
        CHECK_INT(tr_sha256_file(path, limits[i], got, &size), 0);
        CHECK_INT(size, limits[i]);
        CHECK(memcmp(want, got, 32) == 0);
    }
    digest_of(data, len, want); /* a limit past the end: the whole file */
    CHECK_INT(tr_sha256_file(path, (uint64_t)len + 1000, got, &size), 0);
    CHECK_INT(size, len);
    CHECK(memcmp(want, got, 32) == 0);

    char hex[65];
    const char *empty = write_file("empty", "", 0);
    CHECK_INT(tr_sha256_file(empty, UINT64_MAX, got, &size), 0);
    CHECK_INT(size, 0);
    tr_sha256_hex(got, hex);
    CHECK_HEX(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(data);
}

static void sha256_file_errors(void)
{
    uint8_t got[32];
    char missing[512];
    uint64_t size = 777;
    snprintf(missing, sizeof missing, "%s/no-such-file", test_tmpdir());
    errno = 0;
    CHECK_INT(tr_sha256_file(missing, UINT64_MAX, got, &size), -1);
    CHECK_INT(errno, ENOENT);
    CHECK_INT(size, 777); /* untouched */
    errno = 0;
    CHECK_INT(tr_sha256_file(test_tmpdir(), UINT64_MAX, got, &size), -1); /* a folder: read fails */
    CHECK_INT(errno, EISDIR);
    /* the read buffer cannot be allocated */
    const char *path = write_text("small", "abc");
    alloc_fail_start(1);
    errno = 0;
    int rc = tr_sha256_file(path, UINT64_MAX, got, &size);
    int err = errno;
    alloc_fail_stop();
    CHECK_INT(rc, -1);
    CHECK_INT(err, ENOMEM);
    CHECK_INT(tr_sha256_file(path, UINT64_MAX, got, &size), 0);
    CHECK_INT(size, 3);
}

void suite_sha256(void)
{
    RUN(sha256_nist_vectors);
    RUN(sha256_hex_format);
    RUN(sha256_split_updates);
    RUN(sha256_padding_boundaries);
    RUN(sha256_copy_and_reuse);
    RUN(sha256_paths_agree);
    RUN(sha256_env_override);
    RUN(sha256_files);
    RUN(sha256_file_errors);
}
