/*
 * harness.h — the test harness: checks, suites, and helpers that run the
 * library on text and collect what it produced.
 *
 * A test is a function; a check that fails prints file:line and the
 * expression and marks the running test failed. The runner prints one line
 * per failed test and ends with "N passed, N failed, N skipped".
 */
#ifndef TR_TEST_HARNESS_H
#define TR_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "traccia.h"

extern int tr_test_failed_checks; /* in the running test */
void tr_test_fail(const char *file, int line, const char *what);
/* Marks the running test skipped, with the reason printed. */
void tr_test_skip(const char *reason);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tr_test_fail(__FILE__, __LINE__, #cond);                                               \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            char m_[256];                                                                          \
            snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_);                    \
            tr_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

/* s (not NUL-terminated, length n) equals the C string lit */
#define CHECK_STRN(s, n, lit)                                                                      \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        size_t n_ = (size_t)(n);                                                                   \
        if (!s_ || n_ != strlen(lit) || memcmp(s_, lit, n_) != 0) {                                \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s == \"%s\" (got \"%.*s\")", #s, lit, s_ ? (int)n_ : 6,      \
                     s_ ? s_ : "(null)");                                                          \
            tr_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (!h_ || !strstr(h_, needle)) {                                                          \
            char m_[700];                                                                          \
            snprintf(m_, sizeof m_, "%s contains \"%.200s\" (in: %.400s)", #hay, needle,               \
                     h_ ? h_ : "(null)");                                                          \
            tr_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

typedef void (*tr_test_fn)(void);
void tr_test_run(const char *name, tr_test_fn fn);
#define RUN(fn) tr_test_run(#fn, fn)

/* ---------------------------------------------------------------- helpers */

/* What a scan produced: every event rendered as a `traccia dump` line,
 * every diagnostic as "severity|where|reason\n", and the statistics. An
 * optional hook sees each event while it is alive. */
typedef struct scan_result {
    char *dump;          /* all JSON lines; free with scan_result_free */
    size_t dump_len;
    char *diags;         /* one line per diagnostic */
    size_t ndiags;
    size_t nerrors;      /* diagnostics of severity error */
    size_t nevents;
    tr_scan_stats stats;
    tr_status status;
    void (*hook)(const tr_event *ev, size_t index, void *ctx);
    void *hook_ctx;
    unsigned scan_flags; /* TR_SCAN_* for the scan; like hook, set before and kept */
} scan_result;

/* Reads `len` bytes as if they were file `name`. */
void scan_memory(scan_result *r, const char *name, const void *data, size_t len);
/* Same for a NUL-terminated text. */
void scan_text(scan_result *r, const char *text);
/* Reads a path (file or folder) from disk. */
void scan_path(scan_result *r, const char *path);
void scan_result_free(scan_result *r);

/* Fault injection: reads `len` bytes as file `name` (with r->scan_flags)
 * once for each N = 1, 2, ..., making the Nth library allocation fail,
 * until a run needs fewer than N allocations, or max_runs. Every failing
 * run must end in TR_OK or TR_ERR_NOMEM, and more than 3 must have failed
 * (both checked); a leak or use-after-free on any path fails the sanitizer
 * build. The complete run is left in *r for the caller to check and free. */
/* Fault injection through the library's allocation hooks: after
 * alloc_fail_start(n) the n-th allocation fails (and every later one
 * succeeds); alloc_fail_stop() restores the allocator and returns how many
 * allocations were made. A loop over n = 1, 2, ... until the count stays
 * below n has failed every allocation of the code between the two. */
void alloc_fail_start(long n);
long alloc_fail_stop(void);

void scan_failing_each_allocation(scan_result *r, const char *name, const void *data, size_t len, int max_runs);

/* A probe: the values of up to PROBE_NAMES fields in each of the first
 * PROBE_EVENTS events, captured while the events are alive (set r->hook to
 * probe_hook and r->hook_ctx to the probe). Text as read; "<absent>",
 * "<null>" or "<list N>" otherwise; types[][] holds the tr_type (-1:
 * absent). */
#define PROBE_EVENTS 64
#define PROBE_NAMES 12
typedef struct probe {
    const char *names[PROBE_NAMES]; /* NULL-terminated when fewer */
    char got[PROBE_EVENTS][PROBE_NAMES][160];
    int types[PROBE_EVENTS][PROBE_NAMES];
    tr_time times[PROBE_EVENTS];
} probe;
void probe_hook(const tr_event *ev, size_t index, void *ctx);
#define CHECK_GOT(p, ev, k, lit) CHECK_STRN((p)->got[ev][k], strlen((p)->got[ev][k]), lit)

/* Looks a field up and returns its text ("" for NULL values, NULL if absent). */
const char *field_text(const tr_event *ev, const char *name, size_t *len);

/* A fresh temporary folder for this test (removed by the runner's end). */
const char *test_tmpdir(void);
/* Writes data to tmpdir/name; returns the full path (static storage per call slot). */
const char *write_file(const char *name, const void *data, size_t len);
/* write_file of a NUL-terminated text */
#define write_text(name, text) write_file((name), (text), strlen(text))

/* The `traccia` command under test: $TRACCIA_BIN, else build/traccia. */
const char *test_bin(void);

/* Path of ../shared relative to the repository, or NULL when absent. */
const char *shared_dir(void);

/* Calls fn(path, ctx) for every regular file under dir whose name ends in
 * suffix, recursively (entries starting with '.' are skipped). */
void walk_files(const char *dir, const char *suffix, void (*fn)(const char *path, void *ctx), void *ctx);

/* What `traccia ARGS` did: its exit status, standard output and error. */
typedef struct cli_result {
    int status;
    char *out;
    char *err;
} cli_result;
/* Runs the command under test with args (a shell-quoted string), stdin
 * from /dev/null, capturing both streams. */
void cli_run(cli_result *r, const char *args);
void cli_result_free(cli_result *r);
/* Lines in s. */
size_t count_lines(const char *s);

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
char *read_all(const char *path, size_t *len);

/* Suites */
/* ---------------------------------------------------------------- Sigma */

/* The logsource every test rule may use: `product: test` covers every
 * event (any reader). */
#define SIGMA_TEST_LOGSOURCE "logsource:\n    product: test\n"

/* Loads `rules` (YAML, one or more documents, with the built-in pack left
 * out and the test logsource added) and runs them over `events` (any
 * format the scanner reads, usually JSON lines). Returns the number of
 * detections, or -1 when a rule did not load or will not run (the reason
 * is in sigma_last_error). Correlations pending at the end are flushed and
 * counted. */
long sigma_hits(const char *rules, const char *events);
/* The same over the file or folder at `path`, with `rules` a ruleset the
 * caller compiled; fn (may be NULL) sees each detection. -1 when memory
 * ran out (creating the matcher or the scan, or scanning). */
long sigma_hunt_path(const tr_ruleset *rs, const char *path, tr_detection_fn fn, void *user);
/* The same over events in memory (JSON lines), with matcher flags
 * (TR_MATCH_NO_PREFILTER). */
long sigma_hunt_memory(const tr_ruleset *rs, const char *events, unsigned flags);
extern char sigma_last_error[1024];

void suite_util(void);
void suite_sha256(void);
void suite_findings(void);
void suite_case(void);
void suite_event(void);
void suite_json(void);
void suite_evtx(void);
void suite_input(void);
void suite_scan(void);
void suite_alloc(void);
void suite_shared(void);
void suite_cli(void);
void suite_evtx_reference(void);
void suite_w3c(void);
void suite_exchange_log(void);
void suite_sigma(void);
void suite_sigma_conformance(void);
void suite_sigma_shared(void);
void suite_correlation(void);
void suite_rule_pack(void);
void suite_examples_evtx(void);
void suite_ioc(void);
void suite_exchange_report(void);
void suite_first_contact(void);
void suite_limits(void);
void suite_hygiene(void);
void suite_hunt_faults(void);
void suite_io_faults(void);
void suite_fuzz_regressions(void);

#endif
