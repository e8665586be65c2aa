/*
 * hunt.c — a hunt: every file under the given paths, read and matched
 * against a compiled ruleset by a pool of threads, with every output in
 * the same order whatever the thread count (tr_hunt_run in traccia.h).
 *
 * How order is kept: the calling thread walks the paths into a list of
 * files (tr_scan_list, so the walk's order and diagnostics are those of
 * tr_scan_path). Workers take files in list order; each file's detections
 * (JSON lines, CSV rows) and diagnostics go to that file's own buffers;
 * the calling thread writes the buffers of file 0, 1, 2... as they
 * complete. A buffer that grows past SPILL_BYTES moves to an unlinked
 * temporary file, and workers stay at most LOOKAHEAD files ahead of the
 * writer, so memory does not grow with the input.
 *
 * Owns: the file list, the per-file buffers, the workers (each with its
 * own scanner, matcher, indicator matcher and sighting log, and counters,
 * merged into the result at the end).
 * The ruleset is borrowed, read-only and shared.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "../util/strbuf.h"
#include "traccia.h"

#define SPILL_BYTES (8u << 20)   /* a file's buffered output beyond this goes to a temporary file */
#define LOOKAHEAD_PER_THREAD 4   /* files a worker may finish ahead of the writer, per thread */
#define MAX_COMPUTERS 4096       /* distinct computer names counted; the rest as "other" */
#define PART_MIN (64ull << 20)   /* EVTX files larger than this are read in parts, in parallel */
#define PART_BYTES (16ull << 20) /* bytes of chunks per part (256 chunks) */

typedef struct outbuf {
    tr_strbuf mem;
    FILE *spill;
    int failed;
} outbuf;

typedef struct job {
    char *path;
    uint64_t from, to; /* a part of an EVTX file (tr_scan_path_range); 0, 0: the whole file */
    size_t file;      /* index of the file it belongs to (parts of one file share it) */
    uint64_t damaged; /* files_damaged the job's scan counted (parts: merged per file at the end) */
    int state;        /* 0 waiting, 1 running, 2 done */
    outbuf json, csv;
    tr_strbuf diags;  /* records: severity byte, path, where, reason, each NUL-terminated */
} job;

typedef struct counts {
    uint64_t detections, filtered_out;
    uint64_t per_level[TR_LEVEL_CRITICAL + 1];
    uint64_t *per_rule;
    tr_time first, last;
    /* computers: open addressing on the name hash */
    tr_hunt_count *comp;
    uint32_t *comp_slots; /* index + 1 */
    size_t ncomp;
    uint64_t comp_other;
} counts;

typedef struct hunt hunt;

typedef struct worker {
    hunt *h;
    pthread_t thread;
    tr_scan *scan;
    tr_matcher *matcher;
    tr_ioc_matcher *ioc;    /* with indicators */
    tr_sighting_log *log;   /* this worker's sightings, merged at the end */
    uint64_t sightings;
    counts c;
    job *cur;
    int failed;
} worker;

struct hunt {
    const tr_hunt_options *o;
    size_t nrules;
    job *jobs;
    size_t njobs, capjobs, nfiles;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t next_take;  /* next job a worker takes */
    size_t next_emit;  /* next job the writer writes */
    size_t lookahead;
    worker *workers;
    unsigned nworkers;
    atomic_uint_fast64_t events, detections, files_done, bytes;
    int nomem;
};

/* ---------------------------------------------------------------- buffers */

static void out_write(outbuf *b, const char *data, size_t len)
{
    if (b->failed)
        return;
    tr_strbuf_append(&b->mem, data, len);
    if (tr_strbuf_failed(&b->mem)) {
        b->failed = 1;
        return;
    }
    if (b->mem.len >= SPILL_BYTES) {
        if (!b->spill)
            b->spill = tmpfile();
        if (!b->spill || fwrite(b->mem.data, 1, b->mem.len, b->spill) != b->mem.len)
            b->failed = 1;
        tr_strbuf_clear(&b->mem);
    }
}

/* Copies the buffer to `out` and frees it; 0 or -1 on a write error. */
static int out_flush(outbuf *b, FILE *out)
{
    int rc = b->failed ? -1 : 0;
    if (b->spill) {
        char chunk[65536];
        size_t n;
        rewind(b->spill);
        while ((n = fread(chunk, 1, sizeof chunk, b->spill)) > 0)
            if (out && fwrite(chunk, 1, n, out) != n)
                rc = -1;
        fclose(b->spill);
        b->spill = NULL;
    }
    if (out && b->mem.len && fwrite(b->mem.data, 1, b->mem.len, out) != b->mem.len)
        rc = -1;
    tr_strbuf_free(&b->mem);
    return rc;
}

/* A FILE that appends to an outbuf: the detection writers write to FILEs. */
static ssize_t cookie_write(void *c, const char *buf, size_t size)
{
    out_write(c, buf, size);
    return (ssize_t)size;
}

static FILE *out_stream(outbuf *b)
{
    cookie_io_functions_t io = {.write = cookie_write};
    FILE *f = fopencookie(b, "w", io);
    if (f)
        setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

/* ---------------------------------------------------------------- counting */

static int counts_init(counts *c, size_t nrules)
{
    memset(c, 0, sizeof *c);
    c->first = c->last = TR_TIME_NONE;
    c->per_rule = tr_calloc(nrules + 1, sizeof *c->per_rule);
    c->comp = tr_calloc(MAX_COMPUTERS, sizeof *c->comp);
    c->comp_slots = tr_calloc(MAX_COMPUTERS * 2, sizeof *c->comp_slots);
    return c->per_rule && c->comp && c->comp_slots ? 0 : -1;
}

static void counts_free(counts *c)
{
    for (size_t i = 0; c->comp && i < c->ncomp; i++)
        tr_free(c->comp[i].name);
    tr_free(c->comp);
    tr_free(c->comp_slots);
    tr_free(c->per_rule);
}

static void count_computer(counts *c, const char *name, size_t len, uint64_t n)
{
    uint32_t mask = MAX_COMPUTERS * 2 - 1, h = tr_name_hash(name, len) & mask;
    while (c->comp_slots[h]) {
        tr_hunt_count *e = &c->comp[c->comp_slots[h] - 1];
        if (strlen(e->name) == len && strncasecmp(e->name, name, len) == 0) {
            e->count += n;
            return;
        }
        h = (h + 1) & mask;
    }
    if (c->ncomp == MAX_COMPUTERS) {
        c->comp_other += n;
        return;
    }
    char *copy = tr_strndup(name, len);
    if (!copy) {
        c->comp_other += n;
        return;
    }
    c->comp[c->ncomp] = (tr_hunt_count){copy, n};
    c->comp_slots[h] = (uint32_t)++c->ncomp;
}

/* ---------------------------------------------------------------- filter */

static int passes(const tr_hunt_filter *f, const tr_detection *d)
{
    const tr_rule_info *r = d->rule;
    if (f->from != TR_TIME_NONE || f->to != TR_TIME_NONE) {
        if (d->time == TR_TIME_NONE)
            return 0;
        if (f->from != TR_TIME_NONE && d->time < f->from)
            return 0;
        if (f->to != TR_TIME_NONE && d->time > f->to)
            return 0;
    }
    if (f->min_level > 0 && r->level < f->min_level)
        return 0;
    if (f->nstatuses) {
        int ok = 0;
        for (size_t i = 0; i < f->nstatuses && !ok; i++)
            ok = r->status && strcasecmp(r->status, f->statuses[i]) == 0;
        if (!ok)
            return 0;
    }
    if (f->ntags) {
        int ok = 0;
        for (size_t i = 0; i < f->ntags && !ok; i++)
            for (size_t t = 0; t < r->ntags && !ok; t++)
                ok = strncasecmp(r->tags[t], f->tags[i], strlen(f->tags[i])) == 0;
        if (!ok)
            return 0;
    }
    for (size_t i = 0; i < f->nexclude; i++)
        if ((r->id && strcasecmp(r->id, f->exclude[i]) == 0) || (r->title && strcmp(r->title, f->exclude[i]) == 0))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- workers */

typedef struct file_out {
    worker *w;
    FILE *json, *csv;
} file_out;

static void on_detection(void *user, const tr_detection *d)
{
    file_out *fo = user;
    worker *w = fo->w;
    const tr_hunt_options *o = w->h->o;
    if (!passes(&o->filter, d)) {
        w->c.filtered_out++;
        return;
    }
    counts *c = &w->c;
    c->detections++;
    atomic_fetch_add(&w->h->detections, 1);
    c->per_level[d->rule->level >= 0 && d->rule->level <= TR_LEVEL_CRITICAL ? d->rule->level : 0]++;
    if (d->rule->kind == TR_RULE_INDICATOR) { /* its index counts in the indicator set */
        w->sightings++;
        if (w->log && tr_sighting_log_add(w->log, d) != TR_OK)
            w->failed = 1;
    } else if (d->rule->index < w->h->nrules) {
        c->per_rule[d->rule->index]++;
    }
    if (d->time != TR_TIME_NONE) {
        if (c->first == TR_TIME_NONE || d->time < c->first)
            c->first = d->time;
        if (c->last == TR_TIME_NONE || d->time > c->last)
            c->last = d->time;
    }
    /* the host: Windows events name it; web and Exchange logs, their server */
    static const char *const host_fields[] = {"Computer", "s-computername", "ServerHostName", "ServerName",
                                              "s-ip"};
    const tr_field *comp = NULL;
    for (size_t k = 0; d->event && !comp && k < sizeof host_fields / sizeof host_fields[0]; k++)
        comp = tr_event_get(d->event, host_fields[k], strlen(host_fields[k]));
    if (comp && comp->value.str && comp->value.len)
        count_computer(c, comp->value.str, comp->value.len, 1);
    else
        count_computer(c, "(unknown)", 9, 1);
    if (fo->json && tr_detection_write_json(fo->json, d) != TR_OK)
        w->failed = 1;
    if (fo->csv && tr_detection_write_csv(fo->csv, d) != TR_OK)
        w->failed = 1;
}

typedef struct batch_ctx {
    worker *w;
    file_out *fo;
} batch_ctx;

static int on_batch(void *user, const tr_batch *b)
{
    batch_ctx *bc = user;
    for (size_t i = 0; i < b->count; i++) {
        tr_matcher_event(bc->w->matcher, b->events[i], on_detection, bc->fo);
        if (bc->w->ioc) /* the indicator sweep, in the same pass */
            tr_ioc_matcher_event(bc->w->ioc, b->events[i], on_detection, bc->fo);
    }
    atomic_fetch_add(&bc->w->h->events, b->count);
    return 0;
}

/* Diagnostics of the file being read, kept for the writer. */
static void on_diag(void *user, const tr_diag *d)
{
    batch_ctx *bc = user;
    job *j = bc->w->cur;
    if (!j)
        return;
    tr_strbuf_putc(&j->diags, (char)d->severity);
    tr_strbuf_append(&j->diags, d->path, strlen(d->path) + 1);
    tr_strbuf_append(&j->diags, d->where, strlen(d->where) + 1);
    tr_strbuf_append(&j->diags, d->reason, strlen(d->reason) + 1);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    hunt *h = w->h;
    batch_ctx bc = {w, NULL};
    tr_scan_options so = {.on_batch = on_batch, .on_diag = on_diag, .user = &bc, .flags = h->o->scan_flags};
    if (tr_scan_create(&w->scan, &so) != TR_OK) {
        w->failed = 1;
        pthread_mutex_lock(&h->lock);
        h->nomem = 1;
        pthread_cond_broadcast(&h->changed);
        pthread_mutex_unlock(&h->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&h->lock);
        while (h->next_take < h->njobs && h->next_take >= h->next_emit + h->lookahead && !h->nomem)
            pthread_cond_wait(&h->changed, &h->lock);
        if (h->next_take >= h->njobs || h->nomem) {
            pthread_mutex_unlock(&h->lock);
            break;
        }
        job *j = &h->jobs[h->next_take++];
        j->state = 1;
        pthread_mutex_unlock(&h->lock);

        w->cur = j;
        file_out fo = {w, NULL, NULL};
        if (h->o->jsonl && !(fo.json = out_stream(&j->json)))
            j->json.failed = 1; /* said at the end: writing the findings failed */
        if (h->o->csv && !(fo.csv = out_stream(&j->csv)))
            j->csv.failed = 1;
        bc.fo = &fo;
        uint64_t before = tr_scan_get_stats(w->scan)->bytes_read;
        uint64_t damaged_before = tr_scan_get_stats(w->scan)->files_damaged;
        tr_status rc = j->from || j->to ? tr_scan_path_range(w->scan, j->path, j->from, j->to)
                                        : tr_scan_path(w->scan, j->path);
        j->damaged = tr_scan_get_stats(w->scan)->files_damaged - damaged_before;
        if (j == &h->jobs[h->njobs - 1])
            tr_matcher_flush(w->matcher, on_detection, &fo); /* correlations: one thread, see tr_hunt_run */
        if (fo.json)
            fclose(fo.json);
        if (fo.csv)
            fclose(fo.csv);
        atomic_fetch_add(&h->bytes, tr_scan_get_stats(w->scan)->bytes_read - before);
        /* progress counts files: a file read in parts is done with its last part */
        if (j == &h->jobs[h->njobs - 1] || j[1].file != j->file)
            atomic_fetch_add(&h->files_done, 1);
        w->cur = NULL;

        pthread_mutex_lock(&h->lock);
        j->state = 2;
        if (rc == TR_ERR_NOMEM)
            h->nomem = 1;
        pthread_cond_broadcast(&h->changed);
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

/* ---------------------------------------------------------------- the writer */

static void replay_diags(hunt *h, job *j)
{
    const char *p = j->diags.data, *end = p + j->diags.len;
    while (p && p < end) {
        tr_diag d;
        d.severity = (tr_severity)(unsigned char)*p++;
        d.path = p;
        p += strlen(p) + 1;
        d.where = p;
        p += strlen(p) + 1;
        d.reason = p;
        p += strlen(p) + 1;
        if (h->o->on_diag)
            h->o->on_diag(h->o->user, &d);
    }
    tr_strbuf_free(&j->diags);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(hunt *h, double t0)
{
    if (!h->o->on_progress)
        return;
    tr_hunt_progress p = {atomic_load(&h->files_done), h->nfiles, atomic_load(&h->bytes),
                          atomic_load(&h->events), atomic_load(&h->detections), now() - t0};
    h->o->on_progress(h->o->user, &p);
}

static int write_in_order(hunt *h, double t0)
{
    int failed = 0;
    double last_progress = 0;
    pthread_mutex_lock(&h->lock);
    while (h->next_emit < h->njobs && !h->nomem) {
        job *j = &h->jobs[h->next_emit];
        if (j->state != 2) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            if (ts.tv_nsec >= 1000000000L)
                ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&h->changed, &h->lock, &ts);
            if (now() - last_progress >= 0.2) {
                pthread_mutex_unlock(&h->lock);
                progress(h, t0);
                last_progress = now();
                pthread_mutex_lock(&h->lock);
            }
            continue;
        }
        pthread_mutex_unlock(&h->lock);
        replay_diags(h, j);
        if (out_flush(&j->json, h->o->jsonl) || out_flush(&j->csv, h->o->csv))
            failed = 1;
        pthread_mutex_lock(&h->lock);
        h->next_emit++;
        pthread_cond_broadcast(&h->changed);
    }
    pthread_mutex_unlock(&h->lock);
    progress(h, t0);
    return failed;
}

/* ---------------------------------------------------------------- the run */

static tr_status push_job(hunt *h, const char *path, uint64_t from, uint64_t to)
{
    if (h->njobs == h->capjobs) {
        size_t cap = h->capjobs ? h->capjobs * 2 : 256;
        job *j = tr_realloc(h->jobs, cap * sizeof *j);
        if (!j)
            return TR_ERR_NOMEM;
        h->jobs = j;
        h->capjobs = cap;
    }
    job *j = &h->jobs[h->njobs];
    memset(j, 0, sizeof *j);
    j->path = tr_strdup(path);
    if (!j->path)
        return TR_ERR_NOMEM;
    j->from = from;
    j->to = to;
    j->file = h->nfiles;
    tr_strbuf_init(&j->diags);
    h->njobs++;
    return TR_OK;
}

/* A large EVTX file (by its signature, not its name) becomes parts of
 * PART_BYTES of chunks; anything else is one job. */
static tr_status add_job(void *user, const char *path)
{
    hunt *h = user;
    uint64_t size = 0;
    int evtx = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        char magic[8];
        evtx = fread(magic, 1, 8, f) == 8 && memcmp(magic, "ElfFile", 8) == 0;
        if (evtx && fseeko(f, 0, SEEK_END) == 0)
            size = (uint64_t)ftello(f);
        fclose(f);
    }
    tr_status rc;
    if (!evtx || size <= PART_MIN) {
        rc = push_job(h, path, 0, 0);
    } else {
        uint64_t from = 0, to = 4096 + PART_BYTES; /* the header, then whole chunks */
        rc = TR_OK;
        while (rc == TR_OK && from < size) {
            rc = push_job(h, path, from, to >= size ? 0 : to);
            from = to;
            to += PART_BYTES;
        }
    }
    h->nfiles++;
    return rc;
}

static void list_diag(void *user, const tr_diag *d)
{
    hunt *h = user;
    if (h->o->on_diag)
        h->o->on_diag(h->o->user, d);
}

static int cmp_count(const void *a, const void *b)
{
    const tr_hunt_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void merge_stats(tr_scan_stats *into, const tr_scan_stats *s)
{
    tr_time first = into->first_time, last = into->last_time;
    uint64_t *a = (uint64_t *)into;
    const uint64_t *b = (const uint64_t *)s;
    /* every member but the two times is a uint64_t counter */
    size_t n = sizeof *into / sizeof(uint64_t);
    size_t fi = offsetof(tr_scan_stats, first_time) / sizeof(uint64_t);
    size_t li = offsetof(tr_scan_stats, last_time) / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        if (i != fi && i != li)
            a[i] += b[i];
    if (s->first_time != TR_TIME_NONE && (first == TR_TIME_NONE || s->first_time < first))
        first = s->first_time;
    if (s->last_time != TR_TIME_NONE && (last == TR_TIME_NONE || s->last_time > last))
        last = s->last_time;
    into->first_time = first;
    into->last_time = last;
}

static int has_correlations(const tr_ruleset *rs)
{
    return tr_ruleset_get_stats(rs)->correlations > 0;
}

tr_status tr_hunt_run(const tr_hunt_options *o, const char *const *paths, size_t npaths, tr_hunt_result *res)
{
    memset(res, 0, sizeof *res);
    res->first = res->last = TR_TIME_NONE;
    res->scan.first_time = res->scan.last_time = TR_TIME_NONE;
    if (!o || !o->rules)
        return TR_ERR_ARG;
    double t0 = now();
    hunt h;
    memset(&h, 0, sizeof h);
    h.o = o;
    h.nrules = tr_ruleset_count(o->rules);
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.changed, NULL);
    tr_status rc = TR_OK;

    /* 1. the walk, on this thread: the list of files, in order */
    tr_scan *lister;
    tr_scan_options lo = {.on_diag = list_diag, .user = &h, .flags = o->scan_flags};
    if (tr_scan_create(&lister, &lo) != TR_OK)
        return TR_ERR_NOMEM;
    for (size_t i = 0; i < npaths && rc == TR_OK; i++) {
        tr_status r = tr_scan_list(lister, paths[i], add_job, &h);
        if (r == TR_ERR_NOMEM)
            rc = r;
    }
    merge_stats(&res->scan, tr_scan_get_stats(lister));
    tr_scan_destroy(lister);

    /* 2. the workers */
    unsigned threads = o->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > 256)
        threads = 256;
    if (threads > 1 && has_correlations(o->rules)) {
        threads = 1;
        if (o->on_diag) {
            tr_diag d = {TR_SEV_INFO, "", "", "correlation rules need one ordered stream of events: hunting with one thread"};
            o->on_diag(o->user, &d);
        }
    }
    if (h.njobs && threads > h.njobs)
        threads = (unsigned)h.njobs;
    h.nworkers = threads;
    h.lookahead = (size_t)threads * LOOKAHEAD_PER_THREAD;
    if (o->csv && fwrite(TR_DETECTION_CSV_HEADER, 1, sizeof TR_DETECTION_CSV_HEADER - 1, o->csv) !=
                      sizeof TR_DETECTION_CSV_HEADER - 1)
        res->write_failed = 1;
    h.workers = tr_calloc(threads, sizeof *h.workers);
    if (!h.workers)
        rc = TR_ERR_NOMEM;
    unsigned started = 0;
    for (unsigned i = 0; rc == TR_OK && i < threads; i++) {
        worker *w = &h.workers[i];
        w->h = &h;
        if (counts_init(&w->c, h.nrules) || tr_matcher_create(&w->matcher, o->rules, o->match_flags) != TR_OK ||
            (o->iocs && (tr_ioc_matcher_create(&w->ioc, o->iocs) != TR_OK ||
                         tr_sighting_log_create(&w->log, o->iocs) != TR_OK))) {
            rc = TR_ERR_NOMEM;
            break;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            rc = TR_ERR_NOMEM;
            break;
        }
        started++;
    }
    if (rc != TR_OK) {
        pthread_mutex_lock(&h.lock);
        h.nomem = 1;
        pthread_cond_broadcast(&h.changed);
        pthread_mutex_unlock(&h.lock);
    }
    /* 3. this thread writes, in order */
    if (rc == TR_OK && write_in_order(&h, t0))
        res->write_failed = 1;
    for (unsigned i = 0; i < started; i++)
        pthread_join(h.workers[i].thread, NULL);
    if (h.nomem)
        rc = TR_ERR_NOMEM;

    /* 4. the result: counters merged */
    res->per_rule = tr_calloc(h.nrules + 1, sizeof *res->per_rule);
    counts all;
    if (!res->per_rule || counts_init(&all, h.nrules)) {
        rc = TR_ERR_NOMEM;
        memset(&all, 0, sizeof all);
    }
    for (unsigned i = 0; i < threads && h.workers; i++) {
        worker *w = &h.workers[i];
        if (w->scan) {
            merge_stats(&res->scan, tr_scan_get_stats(w->scan));
            tr_scan_destroy(w->scan);
        }
        if (w->failed)
            res->write_failed = 1;
        if (w->c.per_rule && all.per_rule) {
            res->detections += w->c.detections;
            res->filtered_out += w->c.filtered_out;
            for (int l = 0; l <= TR_LEVEL_CRITICAL; l++)
                res->per_level[l] += w->c.per_level[l];
            for (size_t r = 0; r < h.nrules; r++)
                res->per_rule[r] += w->c.per_rule[r];
            if (w->c.first != TR_TIME_NONE && (res->first == TR_TIME_NONE || w->c.first < res->first))
                res->first = w->c.first;
            if (w->c.last != TR_TIME_NONE && (res->last == TR_TIME_NONE || w->c.last > res->last))
                res->last = w->c.last;
            for (size_t k = 0; k < w->c.ncomp; k++)
                count_computer(&all, w->c.comp[k].name, strlen(w->c.comp[k].name), w->c.comp[k].count);
            all.comp_other += w->c.comp_other;
        }
        res->sightings += w->sightings;
        if (w->log) {
            if (!res->sighting_log)
                res->sighting_log = w->log, w->log = NULL;
            else if (tr_sighting_log_merge(res->sighting_log, w->log) != TR_OK)
                rc = TR_ERR_NOMEM;
        }
        tr_sighting_log_destroy(w->log);
        tr_ioc_matcher_destroy(w->ioc);
        tr_matcher_destroy(w->matcher);
        counts_free(&w->c);
    }
    if (all.comp) {
        qsort(all.comp, all.ncomp, sizeof *all.comp, cmp_count);
        res->computers = all.comp;
        res->ncomputers = all.ncomp;
        res->computers_other = all.comp_other;
        all.comp = NULL;
        all.ncomp = 0;
    }
    counts_free(&all);
    /* a file read in parts is damaged once, however many of its parts were */
    for (size_t i = 0; i < h.njobs;) {
        size_t k = i;
        uint64_t sum = 0;
        while (k < h.njobs && h.jobs[k].file == h.jobs[i].file)
            sum += h.jobs[k++].damaged;
        if (sum > 1 && res->scan.files_damaged >= sum - 1)
            res->scan.files_damaged -= sum - 1;
        i = k;
    }
    for (size_t i = 0; i < h.njobs; i++) {
        tr_free(h.jobs[i].path);
        tr_strbuf_free(&h.jobs[i].diags);
        out_flush(&h.jobs[i].json, NULL);
        out_flush(&h.jobs[i].csv, NULL);
    }
    tr_free(h.jobs);
    tr_free(h.workers);
    pthread_mutex_destroy(&h.lock);
    pthread_cond_destroy(&h.changed);
    res->threads = threads;
    res->seconds = now() - t0;
    return rc;
}

void tr_hunt_result_free(tr_hunt_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncomputers; i++)
        tr_free(r->computers[i].name);
    tr_free(r->computers);
    tr_free(r->per_rule);
    tr_sighting_log_destroy(r->sighting_log);
    memset(r, 0, sizeof *r);
}
