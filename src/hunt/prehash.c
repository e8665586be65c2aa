/*
 * prehash.c — the evidence hashed ahead (tr_prehash in traccia.h): a thread
 * that walks the paths a hunt will read, as the hunt will, and computes
 * each file's SHA-256 while the caller is still loading and compiling its
 * rules — work that would otherwise keep a core idle. The hunt asks it for
 * each file's digest (tr_prehash_take); a file it has not reached yet the
 * hunt hashes itself, and the thread then skips it.
 *
 * Owns: the thread, the list of files (path, state, size, mtime, digest)
 * and its index. One hunt uses one prehash; the lock guards the list.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/sha256.h"
#include "traccia.h"

enum { PENDING = 0, HASHING, DONE, TAKEN, FAILED };

typedef struct entry {
    char *path;
    int state;
    uint64_t size; /* bytes hashed */
    int64_t mtime;
    char hex[TR_SHA256_HEX_SIZE];
} entry;

struct tr_prehash {
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char **paths;
    size_t npaths;
    unsigned scan_flags;
    entry *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1, open addressing on the path hash */
    size_t nslots;
    bool listed, stop;
    atomic_bool stopping; /* stop, read without the lock while hashing */
};

static uint64_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Under the lock. */
static entry *find(tr_prehash *p, const char *path)
{
    if (!p->nslots)
        return NULL;
    for (size_t i = path_hash(path) & (p->nslots - 1); p->slots[i]; i = (i + 1) & (p->nslots - 1))
        if (strcmp(p->v[p->slots[i] - 1].path, path) == 0)
            return &p->v[p->slots[i] - 1];
    return NULL;
}

static tr_status add(void *user, const char *path)
{
    tr_prehash *p = user;
    pthread_mutex_lock(&p->lock);
    tr_status rc = TR_OK;
    if (p->stop) {
        rc = TR_ERR_ARG; /* stops the walk */
    } else if ((p->n + 1) * 2 > p->nslots) { /* grow the index (and the list) */
        size_t ns = p->nslots ? p->nslots * 2 : 1024;
        uint32_t *slots = tr_calloc(ns, sizeof *slots);
        entry *v = slots ? tr_realloc(p->v, ns / 2 * sizeof *v) : NULL;
        if (!v) {
            tr_free(slots);
            rc = TR_ERR_NOMEM;
        } else {
            p->v = v;
            p->cap = ns / 2;
            for (size_t k = 0; k < p->n; k++) {
                size_t i = path_hash(v[k].path) & (ns - 1);
                while (slots[i])
                    i = (i + 1) & (ns - 1);
                slots[i] = (uint32_t)(k + 1);
            }
            tr_free(p->slots);
            p->slots = slots;
            p->nslots = ns;
        }
    }
    if (rc == TR_OK && !find(p, path)) {
        char *copy = tr_strdup(path);
        if (!copy) {
            rc = TR_ERR_NOMEM;
        } else {
            p->v[p->n] = (entry){.path = copy, .state = PENDING};
            size_t i = path_hash(path) & (p->nslots - 1);
            while (p->slots[i])
                i = (i + 1) & (p->nslots - 1);
            p->slots[i] = (uint32_t)++p->n;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* A file's SHA-256, a chunk at a time, giving up as soon as the hunt is
 * over (tr_prehash_stop): a large file must not hold the program up. */
static bool hash_file(tr_prehash *p, const char *path, struct stat *sb, uint8_t d[TR_SHA256_DIGEST_SIZE],
                      uint64_t *size)
{
    enum { CHUNK = 1 << 20 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char *buf = fstat(fd, sb) == 0 ? tr_malloc(CHUNK) : NULL;
    bool ok = buf != NULL;
    tr_sha256 sha;
    tr_sha256_init(&sha);
    uint64_t want = ok ? (uint64_t)sb->st_size : 0, at = 0;
    while (ok && at < want) {
        if (atomic_load_explicit(&p->stopping, memory_order_relaxed)) {
            ok = false;
            break;
        }
        size_t n = want - at < CHUNK ? (size_t)(want - at) : CHUNK;
        ssize_t got = pread(fd, buf, n, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            ok = got == 0; /* shrank: the digest is of what there is */
            break;
        }
        tr_sha256_update(&sha, buf, (size_t)got);
        at += (uint64_t)got;
    }
    tr_free(buf);
    close(fd);
    if (!ok)
        return false;
    tr_sha256_final(&sha, d);
    *size = at;
    return true;
}

static void *run(void *arg)
{
    tr_prehash *p = arg;
    tr_scan *scan;
    tr_scan_options so = {.flags = p->scan_flags};
    if (tr_scan_create(&scan, &so) == TR_OK) {
        for (size_t i = 0; i < p->npaths; i++)
            if (tr_scan_list(scan, p->paths[i], add, p) != TR_OK && p->stop)
                break;
        tr_scan_destroy(scan);
    }
    pthread_mutex_lock(&p->lock);
    p->listed = true;
    for (size_t k = 0; k < p->n && !p->stop; k++) {
        entry *e = &p->v[k];
        if (e->state != PENDING)
            continue; /* the hunt took it */
        e->state = HASHING;
        char *path = e->path;
        pthread_mutex_unlock(&p->lock);
        struct stat sb;
        uint8_t d[TR_SHA256_DIGEST_SIZE];
        uint64_t size = 0;
        bool ok = hash_file(p, path, &sb, d, &size);
        pthread_mutex_lock(&p->lock);
        e = &p->v[k]; /* the list may have moved */
        e->state = ok ? DONE : FAILED;
        if (ok) {
            tr_sha256_hex(d, e->hex);
            e->size = size;
            e->mtime = (int64_t)sb.st_mtime;
        }
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

tr_status tr_prehash_start(tr_prehash **out, const char *const *paths, size_t npaths, unsigned scan_flags)
{
    *out = NULL;
    tr_prehash *p = tr_calloc(1, sizeof *p);
    if (!p)
        return TR_ERR_NOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->scan_flags = scan_flags;
    p->paths = tr_calloc(npaths ? npaths : 1, sizeof *p->paths);
    tr_status rc = p->paths ? TR_OK : TR_ERR_NOMEM;
    for (size_t i = 0; i < npaths && rc == TR_OK; i++) {
        if (!(p->paths[i] = tr_strdup(paths[i])))
            rc = TR_ERR_NOMEM;
        p->npaths = i + 1;
    }
    if (rc == TR_OK && pthread_create(&p->thread, NULL, run, p) != 0)
        rc = TR_ERR_NOMEM;
    p->started = rc == TR_OK;
    if (rc != TR_OK) {
        tr_prehash_stop(p);
        return rc;
    }
    *out = p;
    return TR_OK;
}

int tr_prehash_take(tr_prehash *p, const char *path, uint64_t size, int64_t mtime, int wait, char hex[65],
                    uint64_t *hashed)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->lock);
    entry *e = find(p, path);
    while (wait && e && e->state == HASHING) { /* being hashed: wait for it rather than hash twice */
        pthread_cond_wait(&p->changed, &p->lock);
        e = find(p, path);
    }
    int got = 0;
    if (e && e->state == HASHING) {
        got = 2; /* ask again later, with wait */
    } else if (e && e->state == DONE && e->size == size && e->mtime == mtime) {
        memcpy(hex, e->hex, TR_SHA256_HEX_SIZE);
        *hashed = e->size;
        got = 1;
    } else if (e && e->state == PENDING) {
        e->state = TAKEN; /* the hunt hashes it; the thread skips it */
    }
    pthread_mutex_unlock(&p->lock);
    return got;
}

void tr_prehash_skip(tr_prehash *p, const char *path)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    entry *e = find(p, path);
    if (e && e->state == PENDING)
        e->state = TAKEN;
    pthread_mutex_unlock(&p->lock);
}

void tr_prehash_stop(tr_prehash *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_mutex_unlock(&p->lock);
        atomic_store(&p->stopping, true);
        pthread_join(p->thread, NULL);
    }
    for (size_t i = 0; i < p->n; i++)
        tr_free(p->v[i].path);
    for (size_t i = 0; i < p->npaths; i++)
        tr_free(p->paths[i]);
    tr_free(p->paths);
    tr_free(p->v);
    tr_free(p->slots);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
    tr_free(p);
}
