/*
 * test_fuzz_regressions.c — every input kept in tests/fuzz-regressions/
 * (one folder per fuzz target: what a fuzzer found, and hostile inputs
 * written by hand — alias bombs, nesting past every bound, chunks cut
 * short) and every seed in fuzz/seeds is replayed through each fuzz
 * target's own LLVMFuzzerTestOneInput, built with gcc and a plain main
 * (tests/faults/replay_main.c) beside the command under test. Under
 * `make sanitize` the replays run under ASan and UBSan too. A target
 * whose folder is missing or empty fails, so that the corpus cannot be
 * lost quietly.
 */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *const targets[] = {"fuzz_evtx",   "fuzz_exchange_log", "fuzz_ioc", "fuzz_json",
                                      "fuzz_sigma",  "fuzz_stream",       "fuzz_w3c"};

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char p[1024];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md") != 0 && stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
            n++;
    }
    closedir(d);
    return n;
}

static void every_fuzz_regression_replays(void)
{
    char bindir[700];
    snprintf(bindir, sizeof bindir, "%s", test_bin());
    char *slash = strrchr(bindir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(bindir, sizeof bindir, ".");
    int seeds = files_in("fuzz/seeds");
    CHECK(seeds > 10);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char dir[256], cmd[2048], outp[800];
        snprintf(dir, sizeof dir, "tests/fuzz-regressions/%s", targets[i]);
        int kept = files_in(dir);
        if (kept <= 0)
            fprintf(stderr, "    %s: no regression inputs\n", dir);
        CHECK(kept > 0);
        snprintf(outp, sizeof outp, "%s/replay-%s", test_tmpdir(), targets[i]);
        snprintf(cmd, sizeof cmd, "%s/fuzz-replay/%s fuzz/seeds %s >%s 2>&1", bindir, targets[i], dir, outp);
        int st = system(cmd);
        size_t n;
        char *out = read_all(outp, &n);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            fprintf(stderr, "    %s failed:\n%.2000s\n", targets[i], out ? out : "");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        char want[64];
        snprintf(want, sizeof want, "replayed %d\n", seeds + kept);
        CHECK_CONTAINS(out, want);
        free(out);
    }
}

void suite_fuzz_regressions(void)
{
    RUN(every_fuzz_regression_replays);
}
