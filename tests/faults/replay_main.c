/*
 * replay_main.c — the main of a fuzz target outside libFuzzer: each file
 * named on the command line (or each file of each folder named) is handed
 * to LLVMFuzzerTestOneInput once, as libFuzzer would, so that the suite
 * replays tests/fuzz-regressions and the seeds with gcc, under the
 * sanitizers of `make sanitize`. Prints "replayed N" and exits 0 when
 * nothing trapped; a crash or a sanitizer report fails the run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    /* libFuzzer hands over exactly the bytes: a copy of that size, so that
     * the sanitizer catches a read one past the end */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    long n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: no such file or folder: %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (replay_file(argv[i]) < 0)
                return 1;
            n++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            return 1;
        char **names = NULL;
        size_t count = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
                continue;
            if (count == cap) {
                char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
                if (!nn)
                    return 1;
                names = nn;
            }
            names[count++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, count, sizeof *names, by_name);
        for (size_t k = 0; k < count; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                if (replay_file(path) < 0)
                    return 1;
                n++;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %ld\n", n);
    return 0;
}
