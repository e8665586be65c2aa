/*
 * make-big-evtx.c — builds a large EVTX benchmark file out of real records:
 * the 64 KiB chunks of every .evtx file under the given folders (by default
 * ../shared/evtx), copied as they are, repeated in order until the output
 * reaches --size, behind a new, valid file header (chunk count, checksum).
 *
 *   cc -std=c17 -O2 -D_GNU_SOURCE -o make-big-evtx bench/make-big-evtx.c -lz
 *   make-big-evtx --size 1G --out bench/data/big.evtx [FOLDER...]
 *
 * Only chunks whose signature and header checksum are valid are taken, so
 * the file holds a realistic mix of real event records and nothing a reader
 * would have to reject; damaged chunks are counted and left out. Chunks are
 * self-contained (string and template tables are per chunk), which is what
 * makes copying them valid. Record identifiers repeat across copies, as
 * they do in logs merged from several machines. The EVTX header holds the
 * chunk count in 16 bits: at most 65,535 chunks (4 GiB).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define FILE_HEADER_SIZE 4096u
#define CHUNK_SIZE 65536u
#define MAX_CHUNKS 65535u

typedef struct chunks {
    unsigned char *data; /* n * CHUNK_SIZE bytes */
    size_t n, cap;
    size_t rejected;
    size_t files;
} chunks;

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* Chunk header checksum: CRC32 of bytes 0..120 and 128..512. */
static int chunk_valid(const unsigned char *c)
{
    if (memcmp(c, "ElfChnk\0", 8) != 0)
        return 0;
    uLong crc = crc32(0, c, 120);
    crc = crc32(crc, c + 128, 512 - 128);
    return (uint32_t)crc == le32(c + 124);
}

static void take_file(chunks *cs, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    unsigned char head[8];
    if (fread(head, 1, 8, f) != 8 || memcmp(head, "ElfFile\0", 8) != 0) {
        fclose(f);
        return;
    }
    cs->files++;
    /* walk every chunk slot to the end of the file: the header's count is not trusted */
    for (long off = FILE_HEADER_SIZE;; off += CHUNK_SIZE) {
        if (cs->n == cs->cap) {
            cs->cap = cs->cap ? cs->cap * 2 : 256;
            cs->data = realloc(cs->data, cs->cap * CHUNK_SIZE);
            if (!cs->data) {
                fprintf(stderr, "make-big-evtx: out of memory\n");
                exit(1);
            }
        }
        unsigned char *c = cs->data + cs->n * CHUNK_SIZE;
        if (fseek(f, off, SEEK_SET) != 0 || fread(c, 1, CHUNK_SIZE, f) != CHUNK_SIZE)
            break;
        if (chunk_valid(c))
            cs->n++;
        else if (memcmp(c, "ElfChnk\0", 8) == 0)
            cs->rejected++;
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(chunks *cs, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "make-big-evtx: %s: %s\n", dir, strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str); /* same input, same output */
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk(cs, path);
            else if (S_ISREG(st.st_mode))
                take_file(cs, path);
        }
        free(names[i]);
    }
    free(names);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
    case 'M': case 'm': v *= 1024.0 * 1024; break;
    case 'K': case 'k': v *= 1024.0; break;
    default: break;
    }
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    uint64_t size = 1ull << 30;
    const char *out = NULL;
    const char *dirs[64];
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = parse_size(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (ndirs < 64)
            dirs[ndirs++] = argv[i];
    }
    if (!out) {
        fprintf(stderr, "usage: make-big-evtx [--size 1G] --out FILE [FOLDER...]\n");
        return 2;
    }
    if (!ndirs)
        dirs[ndirs++] = "../shared/evtx";
    chunks cs = {0};
    for (int i = 0; i < ndirs; i++)
        walk(&cs, dirs[i]);
    if (!cs.n) {
        fprintf(stderr, "make-big-evtx: no valid chunk found\n");
        return 1;
    }
    uint64_t want = size > FILE_HEADER_SIZE ? (size - FILE_HEADER_SIZE + CHUNK_SIZE - 1) / CHUNK_SIZE : 1;
    if (want > MAX_CHUNKS)
        want = MAX_CHUNKS;

    unsigned char header[FILE_HEADER_SIZE] = {0};
    memcpy(header, "ElfFile\0", 8);
    put64(header + 8, 0);              /* first chunk number */
    put64(header + 16, want - 1);      /* last chunk number */
    const unsigned char *last = cs.data + ((want - 1) % cs.n) * CHUNK_SIZE;
    uint64_t last_id = 0;
    memcpy(&last_id, last + 32, 8);    /* last record identifier of the last chunk (little endian host) */
    put64(header + 24, last_id + 1);   /* next record identifier */
    put32(header + 32, 128);           /* header size */
    put16(header + 36, 1);             /* minor version */
    put16(header + 38, 3);             /* major version */
    put16(header + 40, FILE_HEADER_SIZE);
    put16(header + 42, (uint16_t)want);
    put32(header + 120, 0);            /* flags: clean, not full */
    put32(header + 124, (uint32_t)crc32(0, header, 120));

    FILE *f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "make-big-evtx: %s: %s\n", out, strerror(errno));
        return 1;
    }
    fwrite(header, 1, sizeof header, f);
    for (uint64_t i = 0; i < want; i++)
        fwrite(cs.data + (i % cs.n) * CHUNK_SIZE, 1, CHUNK_SIZE, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "make-big-evtx: writing %s failed\n", out);
        return 1;
    }
    fprintf(stderr, "make-big-evtx: %zu files, %zu valid chunks (%zu damaged left out); wrote %llu chunks, %llu bytes\n",
            cs.files, cs.n, cs.rejected, (unsigned long long)want,
            (unsigned long long)(FILE_HEADER_SIZE + want * CHUNK_SIZE));
    free(cs.data);
    return 0;
}
