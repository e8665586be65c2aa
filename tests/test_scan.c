/*
 * test_scan.c — format detection from content (never from the name), the
 * folder walk, and the accounting of every file: read or skipped with a
 * reason.
 */
#include "harness.h"
#include <stdlib.h>

#include <sys/stat.h>
#include <unistd.h>

static void detect_by_content(void)
{
    scan_result r = {0};
    /* JSON in a file named like an event log is read as JSON */
    scan_memory(&r, "Security.evtx", "{\"EventID\":4624}\n", 17);
    CHECK_INT(r.nevents, 1);
    CHECK_INT(r.stats.per_format_files[0], 1);
    scan_result_free(&r);

    /* an EVTX header in a file named .json is not JSON: the EVTX reader
     * takes it (and finds it truncated) */
    static const char evtx[] = "ElfFile\0\0\0\0\0\0\0\0\0";
    scan_memory(&r, "export.json", evtx, sizeof evtx);
    CHECK_INT(r.nevents, 0);
    CHECK_INT(r.stats.per_format_files[1], 1);
    CHECK_CONTAINS(r.diags, "EVTX");
    scan_result_free(&r);

    const char *iis = "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n";
    scan_memory(&r, "u_ex210302.log", iis, strlen(iis));
    CHECK_INT(r.stats.per_format_files[2], 1); /* the W3C reader: a header, no request yet */
    CHECK_INT(r.nevents, 0);
    scan_result_free(&r);

    const char *exch = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.009\r\n#Log-type: HttpProxy Logs\r\n";
    scan_memory(&r, "HttpProxy_2021030207-1.LOG", exch, strlen(exch));
    CHECK_INT(r.stats.per_format_files[3], 1); /* the Exchange log reader: a header, no record yet */
    CHECK_INT(r.nevents, 0);
    scan_result_free(&r);

    const char *text = "just some notes\nnot evidence\n";
    scan_memory(&r, "notes.json", text, strlen(text));
    CHECK_INT(r.stats.skip_unknown, 1);
    CHECK_INT(r.stats.files_read, 0);
    CHECK_CONTAINS(r.diags, "format not recognised");
    scan_result_free(&r);

    scan_memory(&r, "empty.json", "", 0);
    CHECK_INT(r.stats.skip_empty, 1);
    scan_result_free(&r);

    /* near misses of JSON: a bare scalar, a brace followed by garbage */
    scan_memory(&r, "x", "42\n", 3);
    CHECK_INT(r.stats.skip_unknown, 1);
    scan_result_free(&r);
}

static void walk_folder(void)
{
    write_text("case/b/2.json", "{\"f\":2}\n{\"f\":3}\n");
    write_text("case/a/1.json", "{\"f\":1}\n");
    write_text("case/a/empty.json", "");
    write_text("case/c/readme.txt", "hello\n");
    write_text("case/c/zz.json", "{\"f\":4}\n{\"f\":\n");
    char link[512], dir[512];
    snprintf(dir, sizeof dir, "%s/case", test_tmpdir());
    snprintf(link, sizeof link, "%s/case/b/loop", test_tmpdir());
    CHECK(symlink(dir, link) == 0); /* a loop back to the top: must not be followed */
    scan_result r = {0};
    scan_path(&r, dir);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 4);
    CHECK_INT(r.stats.files_seen, 5);
    CHECK_INT(r.stats.files_read, 3);
    CHECK_INT(r.stats.files_skipped, 2);
    CHECK_INT(r.stats.skip_empty, 1);
    CHECK_INT(r.stats.skip_unknown, 1);
    CHECK_INT(r.stats.records_skipped, 1);
    CHECK_INT(r.stats.files_damaged, 1);
    /* sorted walk: a/1 then b/2 then c/zz, whatever the directory order */
    const char *p1 = strstr(r.dump, "\"f\":1"), *p2 = strstr(r.dump, "\"f\":2"), *p4 = strstr(r.dump, "\"f\":4");
    CHECK(p1 && p2 && p4 && p1 < p2 && p2 < p4);
    CHECK_CONTAINS(r.diags, "symbolic link to a folder, not followed");
    scan_result_free(&r);

    scan_path(&r, "/nonexistent/traccia/path");
    CHECK_INT(r.status, TR_ERR_NOTFOUND);
    CHECK_INT(r.stats.paths_missing, 1);
    CHECK_CONTAINS(r.diags, "No such file");
    scan_result_free(&r);
}


/* ---------------------------------------------------------------- parts */

typedef struct id_list {
    uint64_t *ids;
    size_t n, cap;
} id_list;

static int collect_ids(void *user, const tr_batch *b)
{
    id_list *l = user;
    for (size_t i = 0; i < b->count; i++) {
        const tr_origin *o = tr_event_origin(b->events[i]);
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 1024;
            l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
        }
        l->ids[l->n++] = o->offset;
    }
    return 0;
}

/* An EVTX file read in parts of whole chunks (as a parallel hunt reads a
 * large one) gives exactly the events of the whole file, in order, and is
 * counted once. */
static void evtx_parts_equal_whole(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not present");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/evtx/DeepBlueCLI/smb-password-guessing-security.evtx", shared);
    id_list whole = {0}, parts = {0};
    tr_scan *s;
    tr_scan_options o = {.on_batch = collect_ids, .user = &whole};
    CHECK_INT(tr_scan_create(&s, &o), TR_OK);
    CHECK_INT(tr_scan_path(s, path), TR_OK);
    uint64_t whole_bytes = tr_scan_get_stats(s)->bytes_read;
    tr_scan_destroy(s);
    CHECK(whole.n > 1000);

    o.user = &parts;
    CHECK_INT(tr_scan_create(&s, &o), TR_OK);
    /* the header and 3 chunks, then 5 chunks at a time, the last to the end */
    uint64_t from = 0, to = 4096 + 3 * 65536;
    int nparts = 0;
    for (; from < whole_bytes; from = to, to += 5 * 65536, nparts++)
        CHECK_INT(tr_scan_path_range(s, path, from, to >= whole_bytes ? 0 : to), TR_OK);
    const tr_scan_stats *st = tr_scan_get_stats(s);
    CHECK(nparts > 5);
    CHECK_INT(st->files_seen, 1);
    CHECK_INT(st->files_read, 1);
    CHECK_INT(st->bytes_read, whole_bytes);
    CHECK_INT(st->events, whole.n);
    CHECK_INT(parts.n, whole.n);
    size_t same = 0;
    for (size_t i = 0; i < whole.n && i < parts.n; i++)
        same += whole.ids[i] == parts.ids[i];
    CHECK_INT(same, whole.n);
    tr_scan_destroy(s);
    free(whole.ids);
    free(parts.ids);
}

void suite_scan(void)
{
    RUN(detect_by_content);
    RUN(walk_folder);
    RUN(evtx_parts_equal_whole);
}
