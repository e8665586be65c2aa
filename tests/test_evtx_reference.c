/*
 * test_evtx_reference.c — traccia's EVTX reader against two independent
 * parsers on every .evtx of ../shared (skipped when it is absent): for each
 * file, traccia must read at least as many records as evtxexport
 * (libevtx-utils) and as python-evtx, and every record either of them read
 * must be among traccia's (matched by EventRecordID). The reference ids were
 * produced once by tests/evtx-reference/make-reference into reference.tsv.
 *
 * The two parsers name records differently: evtxexport by the EventRecordID
 * inside the event XML, python-evtx by the identifier in the record header.
 * They differ in logs re-saved by Event Viewer (headers renumbered from 1),
 * so each is matched against the same notion on traccia's side: the field
 * Event.System.EventRecordID, and the origin's record number.
 */
#include "harness.h"

#include <stdlib.h>

typedef struct ids {
    uint64_t *v;
    size_t n, cap;
} ids;

static void ids_push(ids *s, uint64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct both_ids {
    ids xml;    /* Event.System.EventRecordID */
    ids header; /* the record header's identifier (tr_origin.record) */
} both_ids;

static void collect_ids(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    both_ids *b = ctx;
    ids_push(&b->header, tr_event_origin(ev)->record);
    const tr_field *f = tr_event_get(ev, "Event.System.EventRecordID", 26);
    if (f && (f->value.type == TR_INT || f->value.type == TR_UINT))
        ids_push(&b->xml, f->value.as.u);
}

/* Checks every id of a "1-5,7,9-12" list against sorted `have`; returns the
 * number missing and the first missing id in *first. */
static size_t missing_from(const char *ranges, const ids *have, uint64_t *first)
{
    size_t missing = 0;
    const char *p = ranges;
    while (*p && *p != '-') {
        char *end;
        uint64_t lo = strtoull(p, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtoull(end + 1, &end, 10);
        for (uint64_t x = lo; x <= hi; x++) {
            if (!bsearch(&x, have->v, have->n, sizeof x, cmp_u64)) {
                if (!missing)
                    *first = x;
                missing++;
            }
        }
        p = *end == ',' ? end + 1 : end;
    }
    return missing;
}

static void every_record_the_references_read(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found (set TRACCIA_SHARED to point at it)");
        return;
    }
    size_t len;
    char *tsv = read_all("tests/evtx-reference/reference.tsv", &len);
    if (!tsv) {
        tr_test_fail(__FILE__, __LINE__, "tests/evtx-reference/reference.tsv not readable (run from the repository root)");
        return;
    }
    size_t files = 0, short_files = 0, ref_records[2] = {0, 0}, our_records = 0;
    for (char *line = strtok(tsv, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *col[5];
        int ncol = 0;
        for (char *c = line; ncol < 5; ncol++) {
            col[ncol] = c;
            c = strchr(c, '\t');
            if (!c) {
                ncol++;
                break;
            }
            *c++ = '\0';
        }
        if (ncol != 5)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", shared, col[0]);
        both_ids got = {0};
        scan_result r = {0};
        r.hook = collect_ids;
        r.hook_ctx = &got;
        scan_path(&r, path);
        if (got.xml.n)
            qsort(got.xml.v, got.xml.n, sizeof *got.xml.v, cmp_u64);
        if (got.header.n)
            qsort(got.header.v, got.header.n, sizeof *got.header.v, cmp_u64);
        files++;
        our_records += got.header.n;
        for (int k = 0; k < 2; k++) {
            const ids *have = k ? &got.header : &got.xml;
            const char *count = col[1 + 2 * k], *ranges = col[2 + 2 * k];
            if (strcmp(count, "error") == 0 || strcmp(count, "timeout") == 0)
                continue; /* that parser could not read the file at all */
            size_t want = strtoul(count, NULL, 10);
            ref_records[k] += want;
            uint64_t first = 0;
            size_t miss = missing_from(ranges, have, &first);
            if (have->n < want || miss) {
                short_files++;
                char m[1400];
                snprintf(m, sizeof m, "%s: traccia read %zu records, %s read %zu; %zu of its ids missing (first %llu)",
                         col[0], have->n, k ? "python-evtx" : "evtxexport", want, miss, (unsigned long long)first);
                tr_test_fail(__FILE__, __LINE__, m);
            }
        }
        scan_result_free(&r);
        free(got.xml.v);
        free(got.header.v);
    }
    free(tsv);
    printf("  evtx reference: %zu files; records read: traccia %zu, evtxexport %zu, python-evtx %zu; files short: %zu\n",
           files, our_records, ref_records[0], ref_records[1], short_files);
    CHECK(files >= 700);
}

void suite_evtx_reference(void) { RUN(every_record_the_references_read); }
