/*
 * scan.c — from paths to batches of events: walk folders, recognise each
 * file's format from its content, run its reader, count everything.
 *
 * This is the one place that decides what happens to a file, so it is also
 * the place that guarantees nothing is lost silently: every regular file met
 * is either read (files_read) or skipped with a reason (skip_*), and every
 * problem a reader reports is counted and passed to the diagnostic callback
 * (the first few per file; then one line saying how many more there were).
 *
 * Folder walks list entries in byte order, so runs are reproducible
 * whatever order the file system returns. Symbolic links to folders are not
 * followed (a link loop cannot trap the walk); links to files are read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../read/reader.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"

#define TR_WALK_MAX_DEPTH 64 /* folder nesting followed; deeper is reported */
#define TR_PROBE_BYTES 4096  /* bytes a format probe may see */

_Static_assert(TR_FORMAT_COUNT <= sizeof(((tr_scan_stats *)0)->per_format_files) / sizeof(uint64_t),
               "per-format statistics too small for the format table");

struct tr_scan {
    tr_scan_options opts;
    tr_builder builder;
    tr_scan_stats stats;
    bool stopped;
    /* tr_scan_list: regular files go to this callback instead of a reader */
    tr_file_fn list_fn;
    void *list_user;
    tr_status list_rc;
};

tr_status tr_scan_create(tr_scan **out, const tr_scan_options *opts)
{
    *out = NULL;
    tr_scan *s = tr_calloc(1, sizeof *s);
    if (!s)
        return TR_ERR_NOMEM;
    if (opts)
        s->opts = *opts;
    if (tr_builder_init(&s->builder) != TR_OK) {
        tr_builder_free(&s->builder);
        tr_free(s);
        return TR_ERR_NOMEM;
    }
    s->stats.first_time = TR_TIME_NONE;
    s->stats.last_time = TR_TIME_NONE;
    *out = s;
    return TR_OK;
}

void tr_scan_destroy(tr_scan *s)
{
    if (!s)
        return;
    tr_builder_free(&s->builder);
    tr_free(s);
}

const tr_scan_stats *tr_scan_get_stats(const tr_scan *s) { return &s->stats; }

static void say(tr_scan *s, tr_severity sev, const char *path, const char *where, const char *reason)
{
    if (!s->opts.on_diag)
        return;
    tr_diag d = {.severity = sev, .path = path, .where = where ? where : "", .reason = reason,
                 .kind = sev == TR_SEV_INFO ? TR_DIAG_SKIPPED : TR_DIAG_EVIDENCE};
    s->opts.on_diag(s->opts.user, &d);
}

static void account_batch(tr_scan *s, const tr_batch *batch, size_t fmt)
{
    tr_scan_stats *st = &s->stats;
    st->events += batch->count;
    st->per_format_events[fmt] += batch->count;
    for (size_t i = 0; i < batch->count; i++) {
        tr_time t = tr_event_time(batch->events[i]);
        if (t == TR_TIME_NONE) {
            st->events_untimed++;
            continue;
        }
        if (st->first_time == TR_TIME_NONE || t < st->first_time)
            st->first_time = t;
        if (st->last_time == TR_TIME_NONE || t > st->last_time)
            st->last_time = t;
    }
}

/* Reads one opened input to its end, or the part [from, to) of it (see
 * tr_scan_path_range: a part after the first does not count the file). */
static tr_status scan_input_part(tr_scan *s, const char *path, tr_input *in, uint64_t from, uint64_t to);

static tr_status scan_input(tr_scan *s, const char *path, tr_input *in)
{
    return scan_input_part(s, path, in, 0, 0);
}

static tr_status scan_input_part(tr_scan *s, const char *path, tr_input *in, uint64_t from, uint64_t to)
{
    bool continuation = from > 0;
    tr_scan_stats *st = &s->stats;
    tr_status rc = tr_input_peek(in, TR_PROBE_BYTES);
    if (rc == TR_ERR_NOMEM)
        return rc;
    size_t avail = tr_input_avail(in);
    if (continuation && avail == 0)
        return TR_OK; /* the first part says what is wrong with the file */
    if (avail == 0) {
        st->files_skipped++;
        if (tr_input_status(in)) {
            st->skip_io++;
            say(s, TR_SEV_ERROR, path, "", tr_input_error(in));
        } else {
            st->skip_empty++;
            say(s, TR_SEV_INFO, path, "", "empty file, skipped");
        }
        return TR_OK;
    }
    size_t fmt = 0;
    const tr_reader_ops *ops =
        tr_format_detect((const unsigned char *)tr_input_data(in), avail < TR_PROBE_BYTES ? avail : TR_PROBE_BYTES, &fmt);
    if (continuation && ops != &tr_evtx_reader)
        return TR_OK; /* only EVTX files come in parts; the first part has this one */
    if (!ops) {
        st->files_skipped++;
        st->skip_unknown++;
        say(s, TR_SEV_INFO, path, "", "format not recognised, skipped");
        return TR_OK;
    }
    if (!ops->create) {
        st->files_skipped++;
        st->skip_unsupported++;
        st->per_format_skipped[fmt]++;
        /* a note per file (shown with -v); the summary counts them by format */
        char reason[256];
        snprintf(reason, sizeof reason, "skipped: %s", ops->unsupported_reason);
        say(s, TR_SEV_INFO, path, "", reason);
        return TR_OK;
    }

    bool ranged = (from || to) && ops == &tr_evtx_reader;
    if (!ranged)
        from = to = 0;
    tr_read_ctx ctx = {.path = path,
                       .format = ops->name,
                       .diag = s->opts.on_diag,
                       .user = s->opts.user,
                       .flags = s->opts.flags,
                       .range_from = from,
                       .range_to = to};
    void *state = NULL;
    rc = ops->create(&state, in, &ctx);
    if (rc)
        return rc;
    if (!continuation) {
        st->files_read++;
        st->per_format_files[fmt]++;
    }
    bool fatal = false;
    for (;;) {
        rc = ops->next(state, &s->builder);
        tr_batch batch = tr_builder_batch(&s->builder);
        if (batch.count) {
            account_batch(s, &batch, fmt);
            if (s->opts.on_batch && s->opts.on_batch(s->opts.user, &batch)) {
                s->stopped = true;
                break;
            }
        }
        if (rc) {
            fatal = true;
            break;
        }
        if (!batch.count)
            break;
    }
    ops->destroy(state);
    if (tr_input_status(in) && !s->stopped) {
        /* the source broke (read error, damaged gzip): what came before was read */
        char reason[256], where[48] = "";
        if (tr_input_status(in) == TR_ERR_IO) /* where in the file the read failed */
            snprintf(where, sizeof where, "offset 0x%llx", (unsigned long long)tr_input_raw_bytes(in));
        snprintf(reason, sizeof reason, "%s; the rest of the file could not be read", tr_input_error(in));
        say(s, TR_SEV_ERROR, path, where, reason);
        fatal = true;
    }
    if (ranged) { /* a part: its own span of the file, not what was read ahead of it */
        uint64_t size = tr_input_size(in), end = to && to < size ? to : size;
        st->bytes_read += end > from ? end - from : 0;
    } else {
        st->bytes_read += tr_input_raw_bytes(in);
    }
    st->records_skipped += ctx.records_skipped;
    st->records_recovered += ctx.records_recovered;
    st->values_repaired += ctx.values_repaired;
    if (ctx.hidden) {
        char reason[128];
        snprintf(reason, sizeof reason, "%llu more problem(s) in this file not shown",
                 (unsigned long long)ctx.hidden);
        say(s, TR_SEV_WARNING, path, "", reason);
    }
    if (fatal || ctx.records_skipped)
        st->files_damaged++;
    return rc == TR_ERR_NOMEM ? rc : TR_OK;
}

static tr_status scan_file(tr_scan *s, const char *path)
{
    if (s->list_fn)
        return s->list_fn(s->list_user, path);
    s->stats.files_seen++;
    tr_input *in;
    char err[256];
    tr_status rc = tr_input_open_file(&in, path, err, sizeof err);
    if (rc) {
        if (rc == TR_ERR_NOMEM)
            return rc;
        s->stats.files_skipped++;
        s->stats.skip_io++;
        say(s, TR_SEV_ERROR, path, "", err);
        return TR_OK;
    }
    rc = scan_input(s, path, in);
    tr_input_close(in);
    return rc;
}

tr_status tr_scan_memory(tr_scan *s, const char *name, const void *data, size_t len)
{
    if (s->stopped)
        return TR_OK;
    s->stats.files_seen++;
    tr_input *in;
    tr_status rc = tr_input_open_memory(&in, data, len);
    if (rc)
        return rc;
    rc = scan_input(s, name, in);
    tr_input_close(in);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tr_status walk(tr_scan *s, const char *path, int depth);

static tr_status walk_dir(tr_scan *s, const char *path, int depth)
{
    if (depth >= TR_WALK_MAX_DEPTH) {
        say(s, TR_SEV_WARNING, path, "", "folder nested too deeply, not entered");
        return TR_OK;
    }
    DIR *d = opendir(path);
    if (!d) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot open folder: %s", strerror(errno));
        s->stats.skip_io++;
        say(s, TR_SEV_ERROR, path, "", reason);
        return TR_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    tr_status rc = TR_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = tr_realloc(names, ncap * sizeof *nn);
            if (!nn) {
                rc = TR_ERR_NOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = tr_strdup(e->d_name))) {
            rc = TR_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == TR_OK) {
        if (n > 1)
            qsort(names, n, sizeof *names, cmp_names);
        tr_strbuf child;
        tr_strbuf_init(&child);
        for (size_t i = 0; i < n && rc == TR_OK && !s->stopped; i++) {
            tr_strbuf_clear(&child);
            tr_strbuf_puts(&child, path);
            if (child.len && child.data[child.len - 1] != '/')
                tr_strbuf_putc(&child, '/');
            tr_strbuf_puts(&child, names[i]);
            if (tr_strbuf_failed(&child)) {
                rc = TR_ERR_NOMEM;
                break;
            }
            rc = walk(s, child.data, depth + 1);
        }
        tr_strbuf_free(&child);
    }
    for (size_t i = 0; i < n; i++)
        tr_free(names[i]);
    tr_free(names);
    return rc;
}

static tr_status walk(tr_scan *s, const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot examine: %s", strerror(errno));
        s->stats.skip_io++;
        say(s, TR_SEV_ERROR, path, "", reason);
        return TR_OK;
    }
    if (S_ISLNK(st.st_mode)) {
        struct stat target;
        if (stat(path, &target) != 0) {
            say(s, TR_SEV_INFO, path, "", "dangling symbolic link, skipped");
            return TR_OK;
        }
        if (S_ISDIR(target.st_mode)) {
            say(s, TR_SEV_INFO, path, "", "symbolic link to a folder, not followed");
            return TR_OK;
        }
        st = target;
    }
    if (S_ISDIR(st.st_mode))
        return walk_dir(s, path, depth);
    if (S_ISREG(st.st_mode))
        return scan_file(s, path);
    say(s, TR_SEV_INFO, path, "", "not a regular file, skipped");
    return TR_OK;
}

tr_status tr_scan_path(tr_scan *s, const char *path)
{
    if (s->stopped)
        return TR_OK;
    struct stat st;
    if (stat(path, &st) != 0 && lstat(path, &st) != 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "%s", strerror(errno));
        s->stats.paths_missing++;
        say(s, TR_SEV_ERROR, path, "", reason);
        return TR_ERR_NOTFOUND;
    }
    if (S_ISDIR(st.st_mode)) /* a folder named on the command line is entered even if a link */
        return walk_dir(s, path, 0);
    return walk(s, path, 0);
}

tr_status tr_scan_list(tr_scan *s, const char *path, tr_file_fn fn, void *user)
{
    s->list_fn = fn;
    s->list_user = user;
    tr_status rc = tr_scan_path(s, path);
    s->list_fn = NULL;
    s->list_user = NULL;
    return rc;
}

tr_status tr_scan_path_range(tr_scan *s, const char *path, uint64_t from, uint64_t to)
{
    if (s->stopped)
        return TR_OK;
    if (from == 0)
        s->stats.files_seen++;
    tr_input *in;
    char err[256];
    tr_status rc = tr_input_open_file(&in, path, err, sizeof err);
    if (rc) {
        if (rc == TR_ERR_NOMEM)
            return rc;
        if (from == 0) {
            s->stats.files_skipped++;
            s->stats.skip_io++;
            say(s, TR_SEV_ERROR, path, "", err);
        }
        return TR_OK;
    }
    rc = scan_input_part(s, path, in, from, to);
    tr_input_close(in);
    return rc;
}
