/*
 * bench-ioc.c — the indicator sweep's benchmark driver (bench/bench-ioc.sh
 * runs it). Two modes:
 *
 *   bench-ioc gen --count N --seed S --out FILE
 *       writes N indicators of mixed types (IPv4 and IPv6 addresses, CIDR
 *       ranges, domains, URLs, MD5/SHA-1/SHA-256 digests, file names, paths,
 *       e-mail addresses), one per line, from a fixed seed, with a few
 *       values planted that the benchmark evidence contains;
 *
 *   bench-ioc hunt [--ioc FILE]... EVIDENCE...
 *       loads and compiles the indicators (timed), then reads the evidence
 *       with the library's scanner and runs the indicator matcher on every
 *       event (without --ioc: reading only, the baseline). Prints one line
 *       of key=value figures, with a hash of the sightings so that a faster
 *       run also proves it found the same things.
 *
 * Linked with build/libtraccia.a; uses the public header only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "traccia.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (user + system), which another job on a shared
 * machine disturbs less than the wall clock. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void word(FILE *f, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        fputc('a' + (int)(rnd() % 26), f);
}

static void hex(FILE *f, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        fputc("0123456789abcdef"[rnd() & 15], f);
}

static int gen(long count, uint64_t seed, const char *out)
{
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 1;
    }
    rng_state = seed;
    static const char *const tlds[] = {"com", "net", "org", "info", "ru", "cn", "io", "biz"};
    static const char *const exts[] = {"exe", "dll", "aspx", "php", "ps1", "jsp", "bat", "zip"};
    /* planted: values the benchmark evidence holds, so that the hunt
     * reports sightings as a real sweep would */
    static const char *const planted[] = {"mimikatz.exe", "psexesvc.exe", "PSEXESVC.EXE", "procdump64.exe",
                                          "10.0.2.15", "192.168.56.0/24", "wmiprvse.exe", "winrm.cmd"};
    fprintf(f, "# %ld generated indicators, seed %llu\n", count, (unsigned long long)seed);
    long n = 0;
    for (size_t i = 0; i < sizeof planted / sizeof planted[0] && n < count; i++, n++)
        fprintf(f, "%s\n", planted[i]);
    for (; n < count; n++) {
        unsigned k = (unsigned)(rnd() % 100);
        if (k < 25) {
            uint64_t r = rnd();
            fprintf(f, "%u.%u.%u.%u\n", 1 + (unsigned)(r % 223), (unsigned)(r >> 8) & 255, (unsigned)(r >> 16) & 255,
                    (unsigned)(r >> 24) & 255);
        } else if (k < 28) {
            uint64_t r = rnd();
            unsigned p = 16 + (unsigned)(r % 15);
            fprintf(f, "%u.%u.%u.0/%u\n", 1 + (unsigned)(r % 223), (unsigned)(r >> 8) & 255, (unsigned)(r >> 16) & 255,
                    p < 24 ? 24 : p);
        } else if (k < 30) {
            uint64_t r = rnd();
            fprintf(f, "2001:db8:%x:%x::%x\n", (unsigned)(r & 0xffff), (unsigned)(r >> 16) & 0xffff,
                    (unsigned)(r >> 32) & 0xffff);
        } else if (k < 50) {
            word(f, 4 + (unsigned)(rnd() % 10));
            fputc('.', f);
            if (rnd() & 1) {
                word(f, 3 + (unsigned)(rnd() % 6));
                fputc('.', f);
            }
            fprintf(f, "%s\n", tlds[rnd() % 8]);
        } else if (k < 60) {
            fputs(rnd() & 1 ? "http://" : "https://", f);
            word(f, 5 + (unsigned)(rnd() % 8));
            fprintf(f, ".%s/", tlds[rnd() % 8]);
            word(f, 3 + (unsigned)(rnd() % 8));
            fputc('/', f);
            word(f, 3 + (unsigned)(rnd() % 8));
            fprintf(f, ".%s\n", exts[rnd() % 8]);
        } else if (k < 85) {
            unsigned kind = (unsigned)(rnd() % 3);
            hex(f, kind == 0 ? 32 : kind == 1 ? 40 : 64);
            fputc('\n', f);
        } else if (k < 95) {
            word(f, 4 + (unsigned)(rnd() % 10));
            fprintf(f, ".%s\n", exts[rnd() % 8]);
        } else if (k < 98) {
            word(f, 4 + (unsigned)(rnd() % 8));
            fputc('@', f);
            word(f, 4 + (unsigned)(rnd() % 8));
            fprintf(f, ".%s\n", tlds[rnd() % 8]);
        } else {
            fputs("C:\\Users\\Public\\", f);
            word(f, 4 + (unsigned)(rnd() % 8));
            fprintf(f, ".%s\n", exts[rnd() % 8]);
        }
    }
    return fclose(f) == 0 ? 0 : 1;
}

typedef struct hunt_ctx {
    tr_ioc_matcher *m;
    uint64_t sightings;
    uint64_t hash;
    double match_s; /* time inside the matcher alone */
} hunt_ctx;

static void on_sighting(void *user, const tr_detection *d)
{
    hunt_ctx *h = user;
    h->sightings++;
    /* order-independent: the sum of a hash per (indicator, event) */
    const tr_origin *o = tr_event_origin(d->event);
    uint64_t x = 1469598103934665603ull;
    for (const char *p = d->rule->id; *p; p++)
        x = (x ^ (unsigned char)*p) * 1099511628211ull;
    x ^= o->record * 0x9e3779b97f4a7c15ull ^ o->offset;
    h->hash += x * 0xff51afd7ed558ccdull;
}

static int on_batch(void *user, const tr_batch *b)
{
    hunt_ctx *h = user;
    if (!h->m)
        return 0;
    double t = now();
    for (size_t i = 0; i < b->count; i++)
        tr_ioc_matcher_event(h->m, b->events[i], on_sighting, h);
    h->match_s += now() - t;
    return 0;
}

static void on_diag(void *user, const tr_diag *d)
{
    unsigned long *n = user;
    if (d->severity >= TR_SEV_WARNING && (*n)++ < 5)
        fprintf(stderr, "bench-ioc: %s: %s: %s\n", d->path, d->where, d->reason);
}

static int hunt(int argc, char **argv)
{
    unsigned long ndiag = 0;
    tr_iocset *set = NULL;
    hunt_ctx h = {0};
    double t0 = now(), load = 0;
    int i = 0;
    for (; i < argc && strcmp(argv[i], "--ioc") == 0 && i + 1 < argc; i += 2) {
        if (!set) {
            tr_iocset_options o = {on_diag, &ndiag};
            if (tr_iocset_create(&set, &o) != TR_OK)
                return 2;
        }
        if (tr_iocset_add_path(set, argv[i + 1]) != TR_OK)
            return 2;
    }
    uint64_t loaded = 0;
    if (set) {
        if (tr_iocset_compile(set) != TR_OK || tr_ioc_matcher_create(&h.m, set) != TR_OK)
            return 2;
        load = now() - t0;
        loaded = tr_iocset_get_stats(set)->counts.loaded;
    }
    tr_scan *scan;
    tr_scan_options so = {.on_batch = on_batch, .user = &h};
    if (tr_scan_create(&scan, &so) != TR_OK)
        return 2;
    double t1 = now(), c1 = cpu();
    for (; i < argc; i++)
        if (tr_scan_path(scan, argv[i]) != TR_OK)
            return 2;
    double secs = now() - t1, csecs = cpu() - c1;
    const tr_scan_stats *s = tr_scan_get_stats(scan);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("indicators=%llu load_s=%.2f events=%llu bytes=%llu hunt_s=%.3f cpu_s=%.3f match_s=%.3f mb_s=%.1f "
           "ev_s=%.0f sightings=%llu hash=%016llx rss_mib=%ld\n",
           (unsigned long long)loaded, load, (unsigned long long)s->events, (unsigned long long)s->bytes_read, secs, csecs,
           h.match_s,
           (double)s->bytes_read / 1e6 / secs, (double)s->events / secs, (unsigned long long)h.sightings,
           (unsigned long long)h.hash, ru.ru_maxrss / 1024);
    tr_scan_destroy(scan);
    tr_ioc_matcher_destroy(h.m);
    tr_iocset_destroy(set);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "gen") == 0) {
        long count = 1000000;
        uint64_t seed = 42;
        const char *out = NULL;
        for (int i = 2; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--count") == 0)
                count = atol(argv[i + 1]);
            else if (strcmp(argv[i], "--seed") == 0)
                seed = strtoull(argv[i + 1], NULL, 10);
            else if (strcmp(argv[i], "--out") == 0)
                out = argv[i + 1];
        }
        if (!out) {
            fprintf(stderr, "usage: bench-ioc gen --count N --seed S --out FILE\n");
            return 1;
        }
        return gen(count, seed, out);
    }
    if (argc >= 3 && strcmp(argv[1], "hunt") == 0)
        return hunt(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench-ioc gen --count N --seed S --out FILE\n"
                    "       bench-ioc hunt [--ioc FILE]... EVIDENCE...\n");
    return 1;
}
