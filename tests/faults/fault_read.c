/*
 * fault_read.c — a shared object the tests put in LD_PRELOAD to make
 * reads of evidence fail or come short, as a failing disk, a network share
 * or a pipe would; it is not part of traccia. It wraps open(2) and read(2)
 * (the calls traccia's input layer makes) and, for the one file whose path
 * ends with TRACCIA_FAULT_PATH, either
 *
 *   TRACCIA_FAULT_EIO_AT=N     returns the bytes before offset N, then
 *                              fails every later read with EIO;
 *   TRACCIA_FAULT_SHORT=K      returns at most K bytes per read (a short
 *                              read is legal: a reader must loop).
 *
 * Each faulted read is counted in the file named by TRACCIA_FAULT_LOG
 * (one line per fault), so that a test knows the fault happened and cannot
 * pass because the library was not loaded.
 *
 * Owns a table of the descriptors opened on the faulted path.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096

static long long offset_of[MAX_FD]; /* -1: not the faulted file */
static int ready;

static void init(void)
{
    if (ready)
        return;
    for (int i = 0; i < MAX_FD; i++)
        offset_of[i] = -1;
    ready = 1;
}

static int is_target(const char *path)
{
    const char *want = getenv("TRACCIA_FAULT_PATH");
    if (!want || !*want || !path)
        return 0;
    size_t lp = strlen(path), lw = strlen(want);
    return lp >= lw && strcmp(path + lp - lw, want) == 0;
}

static void note(const char *what)
{
    const char *log = getenv("TRACCIA_FAULT_LOG");
    if (!log)
        return;
    int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    ssize_t (*real_write)(int, const void *, size_t) = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    int fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        real_write(fd, what, strlen(what));
        close(fd);
    }
}

/* The mode open(2) takes after flags, when the flags say one follows. */
#define MODE_ARG(mode, flags)                                                                      \
    mode_t mode = 0;                                                                               \
    if ((flags) & (O_CREAT | O_TMPFILE)) {                                                         \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode = (mode_t)va_arg(ap, int);                                                            \
        va_end(ap);                                                                                \
    }

static int track(int fd, const char *path)
{
    init();
    if (fd >= 0 && fd < MAX_FD)
        offset_of[fd] = is_target(path) ? 0 : -1;
    return fd;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    MODE_ARG(mode, flags);
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    return track(real(path, flags, mode), path);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    MODE_ARG(mode, flags);
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    return track(real(path, flags, mode), path);
}

int openat(int dir, const char *path, int flags, ...);
int openat(int dir, const char *path, int flags, ...)
{
    MODE_ARG(mode, flags);
    int (*real)(int, const char *, int, ...) = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    return track(real(dir, path, flags, mode), path);
}

ssize_t read(int fd, void *buf, size_t n);
ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    init();
    if (fd < 0 || fd >= MAX_FD || offset_of[fd] < 0)
        return real(fd, buf, n);
    const char *eio = getenv("TRACCIA_FAULT_EIO_AT"), *shortr = getenv("TRACCIA_FAULT_SHORT");
    if (eio) {
        long long at = atoll(eio);
        if (offset_of[fd] >= at) {
            note("eio\n");
            errno = EIO;
            return -1;
        }
        if ((long long)n > at - offset_of[fd])
            n = (size_t)(at - offset_of[fd]);
    }
    if (shortr) {
        size_t k = (size_t)atoll(shortr);
        if (k && n > k) {
            n = k;
            note("short\n");
        }
    }
    ssize_t r = real(fd, buf, n);
    if (r > 0)
        offset_of[fd] += r;
    return r;
}

int close(int fd);
int close(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
    init();
    if (fd >= 0 && fd < MAX_FD)
        offset_of[fd] = -1;
    return real(fd);
}

off_t lseek(int fd, off_t off, int whence);
off_t lseek(int fd, off_t off, int whence)
{
    off_t (*real)(int, off_t, int) = (off_t(*)(int, off_t, int))dlsym(RTLD_NEXT, "lseek");
    off_t r = real(fd, off, whence);
    init();
    if (r >= 0 && fd >= 0 && fd < MAX_FD && offset_of[fd] >= 0)
        offset_of[fd] = (long long)r;
    return r;
}
