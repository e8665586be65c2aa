/*
 * test_io_faults.c — faults of the operating system on the hunt's paths,
 * made by tests/faults/fault_read.c in LD_PRELOAD (reads) and by the
 * shell (a reader of standard output that goes away):
 *   - a read that fails with EIO in the middle of a file of each family
 *     (EVTX, gzip JSON, W3C, Exchange log) is said with the file and the
 *     offset, the file counts as read in part, the other files are read
 *     as ever and the exit status is 3;
 *   - reads that come short (a pipe, a network share) change nothing: the
 *     findings are byte for byte those of a plain run;
 *   - a closed pipe on standard output (SIGPIPE) is an error that says so
 *     and exit status 3, for the findings stream and for dump.
 * The shim logs each fault it makes, so that no test passes because it
 * was not loaded.
 */
#include "harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The shim beside the command under test (the Makefile builds it there). */
static const char *fault_lib(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s", test_bin());
    char *slash = strrchr(path, '/');
    size_t at = slash ? (size_t)(slash - path) : 0;
    snprintf(path + at, sizeof path - at, "%stests/libfault_read.so", slash ? "/" : "");
    if (path[0] != '/') { /* LD_PRELOAD wants a path the loader finds from anywhere */
        char cwd[400], rel[600];
        snprintf(rel, sizeof rel, "%.599s", path);
        if (getcwd(cwd, sizeof cwd))
            snprintf(path, sizeof path, "%.399s/%.599s", cwd, rel);
    }
    return path;
}

/* Runs `traccia ARGS` with the shim and env (NAME=VALUE ...) before it;
 * standard output and error to tmpdir/out and tmpdir/err. Returns the
 * exit status, -1 if it did not exit. */
static int run_faulted(const char *env, const char *args, char **out, char **err)
{
    const char *d = test_tmpdir();
    char cmd[4096];
    /* verify_asan_link_order: a sanitizer build wants its runtime first */
    snprintf(cmd, sizeof cmd,
             "env ASAN_OPTIONS=verify_asan_link_order=0:${ASAN_OPTIONS:-} LD_PRELOAD=%s TRACCIA_FAULT_LOG=%s/faults %s "
             "%s %s </dev/null >%s/out 2>%s/err",
             fault_lib(), d, env, test_bin(), args, d, d);
    int st = system(cmd);
    size_t n;
    char p[700];
    snprintf(p, sizeof p, "%s/out", d);
    *out = read_all(p, &n);
    snprintf(p, sizeof p, "%s/err", d);
    *err = read_all(p, &n);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The faults the shim made since the last call, as its log says them. */
static char *faults_made(void)
{
    char p[700];
    size_t n;
    snprintf(p, sizeof p, "%s/faults", test_tmpdir());
    char *log = read_all(p, &n);
    unlink(p);
    return log;
}

/* "files read:       153 (" from a summary, or 0 */
static long files_read(const char *summary)
{
    const char *p = summary ? strstr(summary, "files read:") : NULL;
    return p ? strtol(p + strlen("files read:"), NULL, 10) : 0;
}

static void eio_mid_file_is_said_and_the_hunt_goes_on(void)
{
    static const struct {
        const char *file; /* under examples/ */
        long at;          /* offset of the failing read */
        const char *says; /* what the reader says of the bytes before it */
    } cases[] = {
        {"exchange-intrusion/evtx/EXCH01-security.evtx", 200000, "offset 0x21000: chunk read in part: 64832 of 65536 bytes before a read error"},
        {"exchange-intrusion/DC01-security.jsonl.gz", 12000, NULL},
        {"exchange-server/EXCH01/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log", 70001, NULL},
        {"exchange-server/EXCH01/Logging/HttpProxy/Mapi/HttpProxy_2021030302-1.LOG", 9000, NULL},
    };
    char *out, *err;
    int base = run_faulted("", "hunt examples/", &out, &err);
    CHECK_INT(base, 0);
    long nfiles = files_read(out);
    CHECK(nfiles > 100);
    free(out);
    free(err);
    free(faults_made());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char env[512], want[700];
        snprintf(env, sizeof env, "TRACCIA_FAULT_PATH='%s' TRACCIA_FAULT_EIO_AT=%ld", cases[i].file, cases[i].at);
        int st = run_faulted(env, "hunt -v examples/", &out, &err);
        char *log = faults_made();
        CHECK_CONTAINS(log, "eio\n"); /* the fault happened */
        CHECK_INT(st, 3);
        snprintf(want, sizeof want, "traccia: error: examples/%s: offset 0x%lx: read failed: Input/output error; the "
                 "rest of the file could not be read", cases[i].file, cases[i].at);
        CHECK_CONTAINS(err, want);
        if (cases[i].says) {
            snprintf(want, sizeof want, "examples/%s: %s", cases[i].file, cases[i].says);
            CHECK_CONTAINS(err, want);
        }
        CHECK(strstr(err, "file cut short") == NULL); /* the disk failed, not the file */
        CHECK_CONTAINS(out, "files damaged:    1 (read in part");
        CHECK(files_read(out) == nfiles); /* every other file read as ever */
        CHECK_CONTAINS(err, "traccia: incomplete (exit status 3)");
        free(log);
        free(out);
        free(err);
    }
    /* near miss: the fault past the end of the file never happens */
    int st = run_faulted("TRACCIA_FAULT_PATH=EXCH01-security.evtx TRACCIA_FAULT_EIO_AT=99999999", "hunt examples/",
                         &out, &err);
    CHECK_INT(st, 0);
    CHECK(strstr(err, "read failed") == NULL);
    char *log = faults_made();
    CHECK(log == NULL || strstr(log, "eio") == NULL);
    free(log);
    free(out);
    free(err);
    /* the case keeps the problem under the file */
    char args[1024];
    snprintf(args, sizeof args, "hunt examples/ --case %s/eio.db", test_tmpdir());
    st = run_faulted("TRACCIA_FAULT_PATH=EXCH01-security.evtx TRACCIA_FAULT_EIO_AT=200000", args, &out, &err);
    CHECK_INT(st, 3);
    free(out);
    free(err);
    free(faults_made());
    cli_result r;
    snprintf(args, sizeof args, "case problems %s/eio.db", test_tmpdir());
    cli_run(&r, args);
    CHECK_CONTAINS(r.out, "EXCH01-security.evtx: error: offset 0x30d40: read failed: Input/output error");
    cli_result_free(&r);
}

/* Reads of at most a few bytes: the same findings, byte for byte. */
static void short_reads_change_nothing(void)
{
    const char *d = test_tmpdir();
    char args[1024], path[700];
    char *out, *err;
    snprintf(args, sizeof args, "hunt examples/ --jsonl %s/plain.jsonl", d);
    CHECK_INT(run_faulted("", args, &out, &err), 0);
    free(out);
    free(err);
    size_t n0, n1;
    snprintf(path, sizeof path, "%s/plain.jsonl", d);
    char *plain = read_all(path, &n0);
    CHECK(plain && n0 > 10000);
    static const char *const files[] = {".evtx", ".jsonl.gz", "u_ex210303.log", "HttpProxy_2021030302-1.LOG",
                                        "WS-HR01-powershell.jsonl"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char env[256];
        /* every .evtx: each reads 7 bytes at a time; the others one file each */
        snprintf(env, sizeof env, "TRACCIA_FAULT_PATH='%s' TRACCIA_FAULT_SHORT=%d", files[i], i ? 3 : 7);
        snprintf(args, sizeof args, "hunt examples/ --jsonl %s/short.jsonl", d);
        CHECK_INT(run_faulted(env, args, &out, &err), 0);
        char *log = faults_made();
        CHECK_CONTAINS(log, "short\n");
        free(log);
        snprintf(path, sizeof path, "%s/short.jsonl", d);
        char *got = read_all(path, &n1);
        CHECK(got && n1 == n0 && memcmp(got, plain, n0) == 0);
        free(got);
        free(out);
        free(err);
    }
    free(plain);
}

/* `traccia ARGS` with standard output a pipe whose reader is gone before
 * the first write (as when `head` has taken what it wanted: deterministic,
 * where a real head may leave after everything fitted in the pipe), and
 * standard error to tmpdir/perr. Returns the exit status, -1 if killed. */
static int run_into_closed_pipe(const char *args)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    close(fds[0]); /* no reader: every write fails with EPIPE (or kills by SIGPIPE) */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s %s 2>%s/perr", test_bin(), args, test_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A reader of standard output that goes away: said, exit status 3. */
static void closed_pipe_is_an_error(void)
{
    const char *d = test_tmpdir();
    static const struct {
        const char *args, *says;
    } cases[] = {
        {"hunt examples/ --jsonl -", "writing the findings failed"},
        {"dump examples/exchange-intrusion/evtx", "writing the output failed: its reader went away (broken pipe); the output is incomplete"},
        {"rules list", "writing standard output failed: its reader went away (broken pipe); the output is incomplete"},
        {"hunt examples/exchange-intrusion/evtx", "writing standard output failed: its reader went away (broken pipe)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(run_into_closed_pipe(cases[i].args), 3); /* not killed by SIGPIPE, not 0 */
        char p[700];
        size_t n;
        snprintf(p, sizeof p, "%s/perr", d);
        char *err = read_all(p, &n);
        CHECK_CONTAINS(err, cases[i].says);
        free(err);
    }
    /* and with a real head that leaves after 100 bytes of a large output */
    char cmd[2048], p[700];
    snprintf(cmd, sizeof cmd, "bash -c '%s dump examples/exchange-intrusion 2>%s/perr | head -c 100 >/dev/null; "
             "echo ${PIPESTATUS[0]} >%s/pst'", test_bin(), d, d);
    CHECK(system(cmd) == 0);
    size_t n;
    snprintf(p, sizeof p, "%s/pst", d);
    char *st = read_all(p, &n);
    CHECK(st && atoi(st) == 3);
    free(st);
    /* near miss: a reader that takes everything, exit 0 and no word of it */
    snprintf(cmd, sizeof cmd, "bash -c '%s rules list 2>%s/perr | cat >/dev/null; echo ${PIPESTATUS[0]} >%s/pst'",
             test_bin(), d, d);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/pst", d);
    st = read_all(p, &n);
    CHECK(st && atoi(st) == 0);
    free(st);
    snprintf(p, sizeof p, "%s/perr", d);
    char *err = read_all(p, &n);
    CHECK(err == NULL || strstr(err, "failed") == NULL);
    free(err);
}

void suite_io_faults(void)
{
    RUN(eio_mid_file_is_said_and_the_hunt_goes_on);
    RUN(short_reads_change_nothing);
    RUN(closed_pipe_is_an_error);
}
