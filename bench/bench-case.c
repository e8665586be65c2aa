/*
 * bench-case.c — how fast findings go into a case: COUNT generated
 * findings handed to the case sink (src/case/case_sink.c) exactly as a
 * hunt's writer hands them — file begin, findings, file end — into a fresh
 * SQLite case, timed from the sink's open to its close (the last commit
 * included). Not a test: bench/bench-case.sh runs it and prints the figure.
 *
 *   bench/data/bench-case --count 1000000 --out /tmp/case.db
 *
 * The findings look like a hunt's: 3,000 rules, 200 hosts, files of 20,000
 * findings each, two key fields of 40 to 120 bytes, increasing times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/hunt/pipeline.h"

#define NRULES 3000
#define NHOSTS 200
#define PER_FILE 20000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long count = 1000000;
    const char *out = "bench/data/bench-case.db";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--count") == 0)
            count = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
    }
    char wal[1100], shm[1100];
    snprintf(wal, sizeof wal, "%s-wal", out);
    snprintf(shm, sizeof shm, "%s-shm", out);
    unlink(out);
    unlink(wal);
    unlink(shm);

    static tr_rule_info rules[NRULES];
    static char ids[NRULES][40], titles[NRULES][64];
    static const char *const tech[] = {"T1059.001", "T1505.003", "T1003.001", "T1114.002"};
    static const char *const tac[] = {"execution", "persistence", "credential-access", "collection"};
    for (int i = 0; i < NRULES; i++) {
        snprintf(ids[i], sizeof ids[i], "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
        snprintf(titles[i], sizeof titles[i], "Generated rule number %d", i);
        rules[i] = (tr_rule_info){.kind = TR_RULE_DETECTION, .id = ids[i], .title = titles[i],
                                  .level = 1 + i % 5, .status = "test", .techniques = tech + i % 4,
                                  .ntechniques = 1, .tactics = tac + i % 4, .ntactics = 1, .index = (size_t)i};
    }
    tr_ruleset *rs;
    if (tr_ruleset_create(&rs, NULL) != TR_OK || tr_ruleset_compile(rs) != TR_OK)
        return 1;
    char err[512];
    tr_case *c;
    if (tr_case_open(&c, out, 1, err, sizeof err) != TR_OK) {
        fprintf(stderr, "bench-case: %s: %s\n", out, err);
        return 1;
    }
    tr_hunt_options o;
    memset(&o, 0, sizeof o);
    o.rules = rs;
    o.case_store = c;
    o.filter.from = o.filter.to = TR_TIME_NONE;
    tr_hunt_result res;
    memset(&res, 0, sizeof res);

    static char cmd[256], img[256];
    double t0 = now();
    void *st;
    if (tr_sink_case.open(&st, &o, &res) != TR_OK)
        return 1;
    long files = (count + PER_FILE - 1) / PER_FILE;
    char path[128];
    tr_finding f;
    memset(&f, 0, sizeof f);
    f.kind = TR_FINDING_SIGMA;
    f.first = f.last = TR_TIME_NONE;
    f.nkeys = 2;
    f.key_names[0] = "CommandLine";
    f.key_names[1] = "Image";
    f.key_values[0] = cmd;
    f.key_values[1] = img;
    unsigned long x = 88172645463325252ul;
    long done = 0;
    int rc = 0;
    for (long k = 0; k < files && !rc; k++) {
        snprintf(path, sizeof path, "/evidence/host%03ld/Security-%06ld.evtx", k % NHOSTS, k);
        tr_hunt_file hf = {.path = path, .size = 68 << 20, .mtime = 1614556800 + k};
        rc |= tr_sink_case.file_begin(st, &hf) != TR_OK;
        f.origin.path = path;
        f.origin.format = "evtx";
        snprintf(f.host, sizeof f.host, "HOST%03ld", k % NHOSTS);
        snprintf(f.host_name, sizeof f.host_name, "host%03ld.corp.local", k % NHOSTS);
        for (long i = 0; i < PER_FILE && done < count && !rc; i++, done++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift */
            const tr_rule_info *r = &rules[x % NRULES];
            f.rule = r;
            f.level = r->level;
            f.time = (tr_time)(1614556800ll + done) * 1000000000ll;
            f.origin.record = (uint64_t)i * 3 + 1;
            f.origin.offset = 4096 + (uint64_t)i * 700;
            int n = 40 + (int)(x >> 20) % 80;
            snprintf(cmd, sizeof cmd, "powershell.exe -nop -w hidden -enc %.*s", n,
                     "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBh");
            snprintf(img, sizeof img, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell%ld.exe", i % 7);
            f.key_lens[0] = (uint32_t)strlen(cmd);
            f.key_lens[1] = (uint32_t)strlen(img);
            rc |= tr_sink_case.finding(st, &f) != TR_OK;
        }
        tr_hunt_file end = hf;
        end.events = PER_FILE * 3;
        end.format = "evtx";
        end.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
        end.hashed = end.size;
        rc |= tr_sink_case.file_end(st, &end) != TR_OK;
    }
    rc |= tr_sink_case.close(st, &res, 1) != TR_OK;
    double secs = now() - t0;
    if (rc)
        fprintf(stderr, "bench-case: writing failed: %s\n", tr_case_error(c));
    tr_case_close(c);
    tr_ruleset_destroy(rs);
    FILE *sz = fopen(out, "rb");
    long bytes = 0;
    if (sz) {
        fseek(sz, 0, SEEK_END);
        bytes = ftell(sz);
        fclose(sz);
    }
    printf("findings=%ld new=%llu seconds=%.3f per_second=%.0f db_bytes=%ld\n", done,
           (unsigned long long)res.case_new_findings, secs, (double)done / secs, bytes);
    return rc;
}
