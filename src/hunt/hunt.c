/*
 * hunt.c — a hunt: every file under the given paths, read and run through
 * the detector table by a pool of threads, every finding handed to the sink
 * table in the same order whatever the thread count (tr_hunt_run in
 * traccia.h; the tables in pipeline.h).
 *
 * How order is kept: the calling thread walks the paths into a list of
 * files (tr_scan_list, so the walk's order and diagnostics are those of
 * tr_scan_path); the sinks plan each file (the case skips what it holds
 * unchanged). Workers take files (or parts of a large EVTX file) in list
 * order; each job's findings, copied out of their events into relocatable
 * frames (finding.c), and its diagnostics go to the job's own buffers; the
 * calling thread replays the buffers of job 0, 1, 2... as they complete,
 * handing each file's start, findings and end to every sink. A buffer that
 * grows past SPILL_BYTES moves to an unlinked temporary file, and workers
 * stay at most LOOKAHEAD jobs ahead of the writer, so memory does not grow
 * with the input. When a sink wants each file's SHA-256 (the case), the
 * worker that read the file hashes it right after (a file read in parts
 * gets a hashing job of its own, its first), unless tr_prehash has it. At
 * the end of input the detectors' states are merged
 * into the first worker's and flushed (correlations still pending), then
 * the sinks close.
 *
 * Owns: the file list, the per-job buffers, the workers (each with its own
 * scanner, one state per detector, and counters, merged into the result at
 * the end), the sinks' states. The ruleset and indicator set are borrowed,
 * read-only and shared.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "../util/sha256.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "frame.h"
#include "pipeline.h"
#include "traccia.h"

#define SPILL_BYTES (8u << 20)   /* a job's buffered findings beyond this go to a temporary file */
#define LOOKAHEAD_PER_THREAD 4   /* jobs a worker may finish ahead of the writer, per thread */
#define MAX_COMPUTERS 4096       /* distinct hosts counted; the rest as "other" */
#define PART_MIN (64ull << 20)   /* EVTX files larger than this are read in parts, in parallel */
#define PART_BYTES (16ull << 20) /* bytes of chunks per part (256 chunks) */
#define MAX_DETECTORS 16
#define MAX_SINKS 16
#define MAX_FILE_SOURCES 1024    /* host and channel rows kept per file */

typedef struct outbuf {
    tr_strbuf mem;
    FILE *spill;
    int failed;
} outbuf;

typedef struct job {
    char *path;
    uint64_t from, to; /* a part of an EVTX file (tr_scan_path_range); 0, 0: the whole file */
    size_t file;      /* index of the file it belongs to (parts of one file share it) */
    uint64_t size;    /* the file's size and mtime when listed */
    int64_t mtime;
    uint64_t resume_from; /* records before this offset are not hunted (the plan) */
    uint64_t damaged; /* files_damaged the job's scan counted (parts: merged per file at the end) */
    uint64_t skipped; /* files_skipped the job's scan counted */
    uint64_t events;  /* events hunted */
    char *why;        /* the first warning or error said about the file */
    bool hash_only;   /* not read: the file's SHA-256 (first job of a file read in parts) */
    bool hashed;      /* sha holds the file's SHA-256 over hashed_bytes */
    bool hash_later;  /* the digest is being computed ahead (tr_prehash): taken at the file's end */
    char sha[TR_SHA256_HEX_SIZE];
    uint64_t hashed_bytes;
    int state;        /* 0 waiting, 1 running, 2 done */
    outbuf frames;    /* findings and source counts, in order */
    tr_strbuf diags;  /* records: severity and kind bytes, path, where, reason, cause, item,
                       * each NUL-terminated ("": NULL) */
} job;
typedef struct counts {
    uint64_t detections, filtered_out, sightings, limited;
    uint64_t per_level[TR_LEVEL_CRITICAL + 1];
    uint64_t *per_rule;
    uint64_t *per_rule_limited;
    tr_time first, last;
    /* computers: open addressing on the name hash */
    tr_hunt_count *comp;
    char (*comp_keys)[TR_HOST_KEY_MAX]; /* comp[i]'s host key */
    uint32_t *comp_slots; /* index + 1 */
    size_t ncomp;
    uint64_t comp_other;
} counts;

typedef struct hunt hunt;

/* The detectors and sinks this hunt runs (the tables' wanted rows). */
typedef struct stage {
    const tr_detector_ops *det[MAX_DETECTORS];
    size_t ndet;
    const tr_sink_ops *sink[MAX_SINKS];
    void *sink_state[MAX_SINKS];
    size_t nsink;
    bool findings;   /* a sink takes findings: they are frozen for the writer */
    bool with_event; /* a sink wants findings to carry their event */
    bool hash;       /* a sink wants each file's SHA-256 */
} stage;

struct tr_emit {
    hunt *h;
    struct worker *w;
    job *j;            /* the job whose buffer gets the frames; NULL: straight to the sinks */
};

typedef struct worker {
    hunt *h;
    pthread_t thread;
    tr_scan *scan;
    void *det[MAX_DETECTORS]; /* one state per detector */
    counts c;
    job *cur;
    int failed;
} worker;

/* The file the writer is handing over: its sources and hash so far. */
typedef struct file_acc {
    tr_hunt_file f;
    tr_hunt_source src[MAX_FILE_SOURCES];
    char names[MAX_FILE_SOURCES][3][256]; /* host, key, channel copies */
    char hex[TR_SHA256_HEX_SIZE];
    char *why;
} file_acc;

struct hunt {
    const tr_hunt_options *o;
    tr_hunt_result *res;
    size_t nrules;
    stage st;
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
    /* the writer's */
    tr_strbuf scratch; /* a frame read back from a spill file, or a finding handed over directly */
    file_acc *acc;
    unsigned sink_failed; /* bit i: sink i failed, gets nothing more */
};

/* ---------------------------------------------------------------- buffers */

/* After a frame was appended: a buffer past SPILL_BYTES goes to disk. */
static void out_settle(outbuf *b)
{
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

static void out_free(outbuf *b)
{
    if (b->spill)
        fclose(b->spill);
    b->spill = NULL;
    tr_strbuf_free(&b->mem);
}

/* ---------------------------------------------------------------- the sinks */

/* Says that sink `s` failed (once per sink: after a failure it gets nothing). */
static void say_sink_failed(hunt *h, const tr_sink_ops *s, tr_status rc, const char *path)
{
    if (s == &tr_sink_case)
        h->res->case_failed = 1;
    else
        h->res->write_failed = 1;
    if (!h->o->on_diag)
        return;
    char reason[768];
    const char *extra = s == &tr_sink_case ? tr_case_error(h->o->case_store) : "";
    snprintf(reason, sizeof reason, "writing the %s output failed: %s%s%s", s->name, tr_strerror(rc),
             *extra ? ": " : "", extra);
    tr_diag d = {TR_SEV_ERROR, path ? path : "", "", reason, TR_DIAG_RUN, NULL, NULL, NULL};
    h->o->on_diag(h->o->user, &d);
}

static void sink_error(hunt *h, size_t i, tr_status rc, const char *path)
{
    if (h->sink_failed & (1u << i))
        return;
    h->sink_failed |= 1u << i;
    say_sink_failed(h, h->st.sink[i], rc, path);
}

static void sinks_finding(hunt *h, const tr_finding *f)
{
    for (size_t i = 0; i < h->st.nsink; i++) {
        if (!h->st.sink[i]->finding || (h->sink_failed & (1u << i)))
            continue;
        tr_status rc = h->st.sink[i]->finding(h->st.sink_state[i], f);
        if (rc != TR_OK)
            sink_error(h, i, rc, f->origin.path);
    }
}

/* A problem to every sink that takes them: between a file's file_begin and
 * file_end, or after the last file for a problem of the whole input
 * (path ""). */
static void sinks_problem(hunt *h, const tr_diag *d)
{
    for (size_t i = 0; i < h->st.nsink; i++) {
        if (!h->st.sink[i]->problem || (h->sink_failed & (1u << i)))
            continue;
        tr_status rc = h->st.sink[i]->problem(h->st.sink_state[i], d);
        if (rc != TR_OK)
            sink_error(h, i, rc, d->path);
    }
}

static void sinks_file(hunt *h, const tr_hunt_file *f, bool end)
{
    for (size_t i = 0; i < h->st.nsink; i++) {
        tr_status (*fn)(void *, const tr_hunt_file *) = end ? h->st.sink[i]->file_end : h->st.sink[i]->file_begin;
        if (!fn || (h->sink_failed & (1u << i)))
            continue;
        tr_status rc = fn(h->st.sink_state[i], f);
        if (rc != TR_OK)
            sink_error(h, i, rc, f->path);
    }
}

/* ---------------------------------------------------------------- counting */

static int counts_init(counts *c, size_t nrules)
{
    memset(c, 0, sizeof *c);
    c->first = c->last = TR_TIME_NONE;
    c->per_rule = tr_calloc(nrules + 1, sizeof *c->per_rule);
    c->per_rule_limited = tr_calloc(nrules + 1, sizeof *c->per_rule_limited);
    c->comp = tr_calloc(MAX_COMPUTERS, sizeof *c->comp);
    c->comp_keys = tr_calloc(MAX_COMPUTERS, sizeof *c->comp_keys);
    c->comp_slots = tr_calloc(MAX_COMPUTERS * 2, sizeof *c->comp_slots);
    return c->per_rule && c->per_rule_limited && c->comp && c->comp_keys && c->comp_slots ? 0 : -1;
}

static void counts_free(counts *c)
{
    for (size_t i = 0; c->comp && i < c->ncomp; i++)
        tr_free(c->comp[i].name);
    tr_free(c->comp);
    tr_free(c->comp_keys);
    tr_free(c->comp_slots);
    tr_free(c->per_rule);
    tr_free(c->per_rule_limited);
}

/* Counts n findings on the host with this key (tr_host_key), spelt name
 * here: the longest spelling is the one shown. */
static void count_computer(counts *c, const char *key, const char *name, uint64_t n)
{
    size_t klen = strlen(key), len = strlen(name);
    uint32_t mask = MAX_COMPUTERS * 2 - 1, h = tr_name_hash(key, klen) & mask;
    while (c->comp_slots[h]) {
        uint32_t i = c->comp_slots[h] - 1;
        if (strcmp(c->comp_keys[i], key) == 0) {
            tr_hunt_count *e = &c->comp[i];
            e->count += n;
            if (len > strlen(e->name)) { /* the longest spelling is the one shown */
                char *longer = tr_strndup(name, len);
                if (longer) {
                    tr_free(e->name);
                    e->name = longer;
                }
            }
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
    memcpy(c->comp_keys[c->ncomp], key, klen + 1);
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

/* ---------------------------------------------------------------- workers: emitting */

void tr_emit_detection(tr_emit *e, const tr_detection *d)
{
    worker *w = e->w;
    hunt *h = e->h;
    const tr_hunt_options *o = h->o;
    if (!passes(&o->filter, d)) {
        w->c.filtered_out++;
        return;
    }
    counts *c = &w->c;
    c->detections++;
    atomic_fetch_add(&h->detections, 1);
    c->per_level[d->rule->level >= 0 && d->rule->level <= TR_LEVEL_CRITICAL ? d->rule->level : 0]++;
    if (d->rule->kind == TR_RULE_INDICATOR) /* its index counts in the indicator set */
        c->sightings++;
    else if (d->rule->index < h->nrules)
        c->per_rule[d->rule->index]++;
    if (d->time != TR_TIME_NONE) {
        if (c->first == TR_TIME_NONE || d->time < c->first)
            c->first = d->time;
        if (c->last == TR_TIME_NONE || d->time > c->last)
            c->last = d->time;
    }
    tr_finding f;
    tr_finding_from_detection(&f, d);
    count_computer(c, f.host, f.host_name, 1);
    if (!h->st.findings)
        return;
    if (e->j) { /* to the job's buffer, for the writer */
        outbuf *b = &e->j->frames;
        if (b->failed)
            return;
        if (!tr_finding_freeze(&f, h->st.with_event, &b->mem))
            b->failed = 1;
        out_settle(b);
        return;
    }
    /* end of input, on the calling thread: straight to the sinks, through
     * the same copy, so that a sink sees one kind of finding */
    const tr_finding *copy;
    tr_strbuf_clear(&h->scratch);
    if (!tr_finding_freeze(&f, h->st.with_event, &h->scratch) ||
        !tr_finding_thaw(h->scratch.data, h->scratch.len, &copy)) {
        w->failed = 1;
        return;
    }
    sinks_finding(h, copy);
}

void tr_emit_detection_fn(void *user, const tr_detection *d) { tr_emit_detection(user, d); }

void tr_emit_limited(tr_emit *e, size_t index, uint64_t n)
{
    counts *c = &e->w->c;
    c->limited += n;
    if (c->per_rule_limited && index < e->h->nrules)
        c->per_rule_limited[index] += n;
}

static void put_cstr(tr_strbuf *b, const char *s)
{
    tr_strbuf_append(b, s ? s : "", s ? strlen(s) : 0);
    tr_strbuf_putc(b, '\0');
}

/* Source frame: header, events, first, last, format pointer, then host,
 * key, channel flag byte and channel, NUL-terminated. */
void tr_emit_source(tr_emit *e, const tr_hunt_source *s)
{
    if (!e->j || e->j->frames.failed)
        return;
    tr_strbuf *b = &e->j->frames.mem;
    static const char zeros[8];
    if (b->len & 7u)
        tr_strbuf_append(b, zeros, 8 - (b->len & 7u));
    size_t base = b->len;
    uint32_t hdr[2] = {0, TR_FRAME_SOURCE};
    tr_strbuf_append(b, (const char *)hdr, sizeof hdr);
    uint64_t nums[3] = {s->events, (uint64_t)s->first, (uint64_t)s->last};
    tr_strbuf_append(b, (const char *)nums, sizeof nums);
    tr_strbuf_append(b, (const char *)&s->format, sizeof s->format);
    put_cstr(b, s->host);
    put_cstr(b, s->host_key);
    tr_strbuf_putc(b, s->channel ? 1 : 0);
    put_cstr(b, s->channel);
    if (b->len & 7u)
        tr_strbuf_append(b, zeros, 8 - (b->len & 7u));
    if (!tr_strbuf_failed(b)) {
        uint32_t total = (uint32_t)(b->len - base);
        memcpy(b->data + base, &total, sizeof total);
    }
    out_settle(&e->j->frames);
}

/* ---------------------------------------------------------------- workers */

typedef struct batch_ctx {
    worker *w;
    tr_emit emit;
} batch_ctx;

static int on_batch(void *user, const tr_batch *b)
{
    batch_ctx *bc = user;
    worker *w = bc->w;
    const stage *st = &w->h->st;
    uint64_t resume = w->cur ? w->cur->resume_from : 0, n = 0;
    for (size_t i = 0; i < b->count; i++) {
        const tr_event *ev = b->events[i];
        if (resume && tr_event_origin(ev)->offset < resume)
            continue; /* a grown log: the case holds this part already */
        for (size_t k = 0; k < st->ndet; k++)
            st->det[k]->event(w->det[k], ev, &bc->emit);
        n++;
    }
    if (w->cur)
        w->cur->events += n;
    atomic_fetch_add(&w->h->events, n);
    return 0;
}

/* A diagnostic of the job, kept for the writer (replay_diags). */
static void job_say(job *j, const tr_diag *d)
{
    const char *texts[] = {d->path ? d->path : j->path, d->where, d->reason, d->cause, d->item};
    tr_strbuf_putc(&j->diags, (char)d->severity);
    tr_strbuf_putc(&j->diags, (char)d->kind);
    tr_strbuf_append(&j->diags, (const char *)&d->rule, sizeof d->rule);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *t = texts[i] ? texts[i] : "";
        tr_strbuf_append(&j->diags, t, strlen(t) + 1);
    }
    if (!j->why && d->severity >= TR_SEV_WARNING) {
        size_t wl = strlen(d->where);
        j->why = tr_malloc(wl + strlen(d->reason) + 3);
        if (j->why)
            sprintf(j->why, "%s%s%s", d->where, wl ? ": " : "", d->reason);
    }
}

/* Diagnostics of the file being read. */
static void on_diag(void *user, const tr_diag *d)
{
    batch_ctx *bc = user;
    if (bc->w->cur)
        job_say(bc->w->cur, d);
}

void tr_emit_problem(tr_emit *e, const tr_diag *d)
{
    if (e->j) {
        job_say(e->j, d);
    } else { /* the end of input: no file being read */
        tr_diag at_end = *d;
        at_end.path = "";
        if (e->h->o->on_diag)
            e->h->o->on_diag(e->h->o->user, &at_end);
        sinks_problem(e->h, &at_end);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    hunt *h = w->h;
    batch_ctx bc = {w, {h, w, NULL}};
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
        bc.emit.j = j;
        const tr_scan_stats *ss = tr_scan_get_stats(w->scan);
        uint64_t before = ss->bytes_read, damaged_before = ss->files_damaged, skipped_before = ss->files_skipped;
        tr_status rc = TR_OK;
        if (!j->hash_only)
            rc = j->from || j->to ? tr_scan_path_range(w->scan, j->path, j->from, j->to) : tr_scan_path(w->scan, j->path);
        /* the file's SHA-256 (a sink asked): here, in parallel with the other
         * jobs, right after the read that brought its pages into the cache;
         * a file read in parts has a job of its own for it, its first */
        int ahead = h->st.hash && (j->hash_only || (!j->from && !j->to))
                        ? tr_prehash_take(h->o->prehash, j->path, j->size, j->mtime, 0, j->sha, &j->hashed_bytes)
                        : 0;
        if (ahead == 1) {
            j->hashed = true;
        } else if (ahead == 2) {
            j->hash_later = true; /* being hashed ahead: the writer takes it at the file's end */
        } else if (h->st.hash && (j->hash_only || (!j->from && !j->to))) {
            uint8_t d[TR_SHA256_DIGEST_SIZE];
            /* up to the size listed: what a grown log resumes from must not lie past what was read */
            if (tr_sha256_file(j->path, j->size, d, &j->hashed_bytes) == 0) {
                tr_sha256_hex(d, j->sha);
                j->hashed = true;
            }
        }
        j->damaged = ss->files_damaged - damaged_before;
        j->skipped = ss->files_skipped - skipped_before;
        for (size_t k = 0; k < h->st.ndet; k++)
            if (h->st.det[k]->end_of_file)
                h->st.det[k]->end_of_file(w->det[k], &bc.emit);
        atomic_fetch_add(&h->bytes, ss->bytes_read - before);
        /* progress counts files: a file read in parts is done with its last part */
        if (j == &h->jobs[h->njobs - 1] || j[1].file != j->file)
            atomic_fetch_add(&h->files_done, 1);
        w->cur = NULL;
        bc.emit.j = NULL;

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
        tr_diag d = {0};
        d.severity = (tr_severity)(unsigned char)*p++;
        d.kind = (tr_diag_kind)(unsigned char)*p++;
        memcpy(&d.rule, p, sizeof d.rule);
        p += sizeof d.rule;
        d.path = p;
        p += strlen(p) + 1;
        d.where = p;
        p += strlen(p) + 1;
        d.reason = p;
        p += strlen(p) + 1;
        d.cause = *p ? p : NULL;
        p += strlen(p) + 1;
        d.item = *p ? p : NULL;
        p += strlen(p) + 1;
        if (h->o->on_diag)
            h->o->on_diag(h->o->user, &d);
        sinks_problem(h, &d);
    }
    tr_strbuf_free(&j->diags);
}


static void progress(hunt *h, double t0)
{
    if (!h->o->on_progress)
        return;
    tr_hunt_progress p = {atomic_load(&h->files_done), h->nfiles, atomic_load(&h->bytes),
                          atomic_load(&h->events), atomic_load(&h->detections), tr_monotonic_seconds() - t0};
    h->o->on_progress(h->o->user, &p);
}

/* Reads the next frame of a job's buffer: from the spill file first, then
 * from memory. Returns its bytes (8-aligned) and length, NULL at the end. */
typedef struct frame_reader {
    outbuf *b;
    size_t pos;    /* in b->mem */
    bool in_spill;
    int failed;
} frame_reader;

static char *next_frame(hunt *h, frame_reader *r, size_t *len)
{
    outbuf *b = r->b;
    if (r->in_spill) {
        uint32_t hdr[2];
        if (fread(hdr, 1, sizeof hdr, b->spill) == sizeof hdr) {
            if (hdr[0] < sizeof hdr || (hdr[0] & 7u)) {
                r->failed = 1;
                return NULL;
            }
            tr_strbuf_clear(&h->scratch);
            if (!tr_strbuf_reserve(&h->scratch, hdr[0])) {
                r->failed = 1;
                return NULL;
            }
            memcpy(h->scratch.data, hdr, sizeof hdr);
            if (fread(h->scratch.data + sizeof hdr, 1, hdr[0] - sizeof hdr, b->spill) != hdr[0] - sizeof hdr) {
                r->failed = 1;
                return NULL;
            }
            h->scratch.len = hdr[0];
            *len = hdr[0];
            return h->scratch.data;
        }
        r->in_spill = false;
    }
    r->pos = (r->pos + 7u) & ~(size_t)7u;
    if (r->pos + 8 > b->mem.len)
        return NULL;
    uint32_t total;
    memcpy(&total, b->mem.data + r->pos, sizeof total);
    if (total < 8 || total > b->mem.len - r->pos) {
        r->failed = 1;
        return NULL;
    }
    char *f = b->mem.data + r->pos;
    r->pos += total;
    *len = total;
    return f;
}

/* A source frame into the file's table, merged by host, format and channel. */
static void add_source(file_acc *a, const char *frame, size_t len)
{
    if (len < 8 + 24 + sizeof(char *) + 4)
        return;
    uint64_t nums[3];
    const char *format;
    memcpy(nums, frame + 8, sizeof nums);
    memcpy(&format, frame + 32, sizeof format);
    const char *p = frame + 32 + sizeof format, *end = frame + len;
    const char *host = p;
    p += strnlen(p, (size_t)(end - p)) + 1;
    if (p >= end)
        return;
    const char *key = p;
    p += strnlen(p, (size_t)(end - p)) + 1;
    if (p + 1 >= end)
        return;
    int has_channel = *p++;
    const char *channel = has_channel ? p : NULL;
    tr_hunt_source *s = NULL;
    for (size_t i = 0; i < a->f.nsources && !s; i++) {
        tr_hunt_source *x = &a->src[i];
        if (x->format == format && strcmp(x->host_key, key) == 0 &&
            (channel ? x->channel && strcmp(x->channel, channel) == 0 : !x->channel))
            s = x;
    }
    if (!s && a->f.nsources == MAX_FILE_SOURCES - 1) { /* full: the rest counted under no host */
        host = key = TR_HOST_UNKNOWN;
        channel = "(other)";
        for (size_t i = 0; i < a->f.nsources && !s; i++)
            if (a->src[i].channel && strcmp(a->src[i].host_key, key) == 0 && strcmp(a->src[i].channel, channel) == 0 &&
                a->src[i].format == format)
                s = &a->src[i];
    }
    if (!s) {
        if (a->f.nsources == MAX_FILE_SOURCES)
            s = &a->src[MAX_FILE_SOURCES - 1]; /* the overflow row (formats may differ: counted anyway) */
    }
    if (!s) {
        size_t i = a->f.nsources++;
        s = &a->src[i];
        snprintf(a->names[i][0], 256, "%s", host);
        snprintf(a->names[i][1], 256, "%s", key);
        snprintf(a->names[i][2], 256, "%s", channel ? channel : "");
        *s = (tr_hunt_source){a->names[i][0], a->names[i][1], format, channel ? a->names[i][2] : NULL, 0,
                              TR_TIME_NONE, TR_TIME_NONE};
    } else if (strlen(host) > strlen(s->host)) {
        size_t i = (size_t)(s - a->src);
        snprintf(a->names[i][0], 256, "%s", host);
    }
    s->events += nums[0];
    tr_time first = (tr_time)nums[1], last = (tr_time)nums[2];
    if (first != TR_TIME_NONE && (s->first == TR_TIME_NONE || first < s->first))
        s->first = first;
    if (last != TR_TIME_NONE && (s->last == TR_TIME_NONE || last > s->last))
        s->last = last;
}

static void file_begin(hunt *h, job *j)
{
    file_acc *a = h->acc;
    memset(&a->f, 0, sizeof a->f);
    a->f.path = j->path;
    a->f.size = j->size;
    a->f.mtime = j->mtime;
    a->f.resume_from = j->resume_from;
    a->f.first = a->f.last = TR_TIME_NONE;
    a->f.sources = a->src;
    tr_free(a->why);
    a->why = NULL;
    sinks_file(h, &a->f, false);
}

static void file_end(hunt *h, job *first, job *last)
{
    file_acc *a = h->acc;
    uint64_t damaged = 0, skipped = 0;
    for (job *j = first; j <= last; j++) {
        damaged += j->damaged;
        skipped += j->skipped;
        a->f.events += j->events;
        if (!a->why && j->why)
            a->why = j->why, j->why = NULL;
        if (j->hash_later) {
            uint8_t d[TR_SHA256_DIGEST_SIZE];
            if (tr_prehash_take(h->o->prehash, j->path, j->size, j->mtime, 1, j->sha, &j->hashed_bytes) == 1) {
                j->hashed = true;
            } else if (tr_sha256_file(j->path, j->size, d, &j->hashed_bytes) == 0) { /* it failed there */
                tr_sha256_hex(d, j->sha);
                j->hashed = true;
            }
        }
        if (j->hashed) {
            memcpy(a->hex, j->sha, sizeof a->hex);
            a->f.sha256 = a->hex;
            a->f.hashed = j->hashed_bytes;
        }
    }
    a->f.status = skipped ? TR_HUNT_FILE_SKIPPED : damaged ? TR_HUNT_FILE_DAMAGED : TR_HUNT_FILE_READ;
    a->f.why = a->why;
    for (size_t i = 0; i < a->f.nsources; i++) {
        const tr_hunt_source *s = &a->src[i];
        if (!a->f.format)
            a->f.format = s->format;
        if (s->first != TR_TIME_NONE && (a->f.first == TR_TIME_NONE || s->first < a->f.first))
            a->f.first = s->first;
        if (s->last != TR_TIME_NONE && (a->f.last == TR_TIME_NONE || s->last > a->f.last))
            a->f.last = s->last;
    }
    sinks_file(h, &a->f, true);
}

/* Hands one completed job over: its diagnostics, then (file start) the
 * file to the sinks, its frames, and (file end) the file's summary. */
static int emit_job(hunt *h, job *j)
{
    int failed = 0;
    bool first = j == h->jobs || j[-1].file != j->file;
    bool last = j == &h->jobs[h->njobs - 1] || j[1].file != j->file;
    if (h->st.nsink && first)
        file_begin(h, j);
    replay_diags(h, j); /* after file_begin: a sink files the problems under the file */
    if (h->st.nsink) {
        frame_reader r = {&j->frames, 0, j->frames.spill != NULL, 0};
        if (r.in_spill)
            rewind(j->frames.spill);
        char *frame;
        size_t len;
        while ((frame = next_frame(h, &r, &len)) != NULL) {
            uint32_t kind;
            memcpy(&kind, frame + 4, sizeof kind);
            const tr_finding *f;
            if (kind == TR_FRAME_SOURCE)
                add_source(h->acc, frame, len);
            else if (kind == TR_FRAME_FINDING && tr_finding_thaw(frame, len, &f))
                sinks_finding(h, f);
            else
                r.failed = 1;
        }
        if (r.failed || j->frames.failed) {
            failed = 1;
            h->acc->f.incomplete = 1;
        }
        if (last) {
            job *f0 = j;
            while (f0 > h->jobs && f0[-1].file == j->file)
                f0--;
            file_end(h, f0, j);
        }
    }
    out_free(&j->frames);
    return failed;
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
            if (tr_monotonic_seconds() - last_progress >= 0.2) {
                pthread_mutex_unlock(&h->lock);
                progress(h, t0);
                last_progress = tr_monotonic_seconds();
                pthread_mutex_lock(&h->lock);
            }
            continue;
        }
        pthread_mutex_unlock(&h->lock);
        if (emit_job(h, j))
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

static tr_status push_job(hunt *h, const char *path, uint64_t from, uint64_t to, uint64_t size, int64_t mtime,
                          uint64_t resume_from)
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
    j->size = size;
    j->mtime = mtime;
    j->resume_from = resume_from;
    tr_strbuf_init(&j->diags);
    tr_strbuf_init(&j->frames.mem);
    h->njobs++;
    return TR_OK;
}

/* A large EVTX file (by its signature, not its name) becomes parts of
 * PART_BYTES of chunks; anything else is one job. The sinks plan each file
 * first: one may leave it out (the case holds it unchanged) or have only its
 * new records hunted. */
static tr_status add_job(void *user, const char *path)
{
    hunt *h = user;
    uint64_t size = 0;
    int64_t mtime = 0;
    int evtx = 0;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        size = (uint64_t)sb.st_size;
        mtime = (int64_t)sb.st_mtime;
    }
    tr_hunt_plan plan = {0, 0};
    for (size_t i = 0; i < h->st.nsink; i++)
        if (h->st.sink[i]->plan)
            h->st.sink[i]->plan(h->st.sink_state[i], path, size, mtime, &plan);
    if (plan.skip) {
        tr_prehash_skip(h->o->prehash, path); /* nor hashed ahead */
        return TR_OK;
    }
    FILE *f = fopen(path, "rb");
    if (f) {
        char magic[8];
        evtx = fread(magic, 1, 8, f) == 8 && memcmp(magic, "ElfFile", 8) == 0;
        fclose(f);
    }
    tr_status rc;
    if (!evtx || size <= PART_MIN) {
        rc = push_job(h, path, 0, 0, size, mtime, plan.resume_from);
    } else {
        uint64_t from = 0, to = 4096 + PART_BYTES; /* the header, then whole chunks */
        rc = h->st.hash ? push_job(h, path, 0, 0, size, mtime, plan.resume_from) : TR_OK;
        if (rc == TR_OK && h->st.hash)
            h->jobs[h->njobs - 1].hash_only = true;
        while (rc == TR_OK && from < size) {
            rc = push_job(h, path, from, to >= size ? 0 : to, size, mtime, plan.resume_from);
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

static void stage_setup(hunt *h)
{
    const tr_hunt_options *o = h->o;
    for (size_t i = 0; tr_detectors[i] && h->st.ndet < MAX_DETECTORS; i++)
        if (tr_detectors[i]->wanted(o))
            h->st.det[h->st.ndet++] = tr_detectors[i];
    for (size_t i = 0; tr_sinks[i] && h->st.nsink < MAX_SINKS; i++)
        if (tr_sinks[i]->wanted(o)) {
            h->st.sink[h->st.nsink++] = tr_sinks[i];
            h->st.findings |= tr_sinks[i]->finding != NULL;
            h->st.with_event |= (tr_sinks[i]->needs & TR_SINK_EVENT) != 0;
            h->st.hash |= (tr_sinks[i]->needs & TR_SINK_HASH) != 0;
        }
}

/* Opens the sinks in table order. One that cannot open is said and left
 * out; the case cannot be left out (the hunt would not be what was asked):
 * its failure, or running out of memory, stops the hunt. */
static tr_status sinks_open(hunt *h)
{
    size_t k = 0;
    tr_status fatal = TR_OK;
    for (size_t i = 0; i < h->st.nsink; i++) {
        void *state = NULL;
        tr_status rc = h->st.sink[i]->open(&state, h->o, h->res);
        if (rc != TR_OK) {
            say_sink_failed(h, h->st.sink[i], rc, "");
            if (h->st.sink[i] == &tr_sink_case || rc == TR_ERR_NOMEM)
                fatal = rc;
            continue;
        }
        h->st.sink[k] = h->st.sink[i];
        h->st.sink_state[k++] = state;
    }
    h->st.nsink = k;
    return fatal;
}

static void sinks_close(hunt *h, int ok)
{
    for (size_t i = 0; i < h->st.nsink; i++) {
        tr_status rc = h->st.sink[i]->close(h->st.sink_state[i], h->res, ok);
        if (rc != TR_OK)
            sink_error(h, i, rc, "");
    }
    h->st.nsink = 0;
}

static bool ordered(const hunt *h)
{
    for (size_t i = 0; i < h->st.ndet; i++)
        if (h->st.det[i]->ordered && h->st.det[i]->ordered(h->o))
            return true;
    return false;
}

tr_status tr_hunt_run(const tr_hunt_options *o, const char *const *paths, size_t npaths, tr_hunt_result *res)
{
    memset(res, 0, sizeof *res);
    res->first = res->last = TR_TIME_NONE;
    res->scan.first_time = res->scan.last_time = TR_TIME_NONE;
    if (!o || !o->rules)
        return TR_ERR_ARG;
    double t0 = tr_monotonic_seconds();
    hunt h;
    memset(&h, 0, sizeof h);
    h.o = o;
    h.res = res;
    h.nrules = tr_ruleset_count(o->rules);
    tr_strbuf_init(&h.scratch);
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.changed, NULL);
    tr_status rc = TR_OK;
    stage_setup(&h);
    h.acc = tr_calloc(1, sizeof *h.acc);
    if (!h.acc) {
        rc = TR_ERR_NOMEM;
        h.st.nsink = 0; /* never opened: nothing to close */
    }
    if (rc == TR_OK)
        rc = sinks_open(&h);

    /* 1. the walk, on this thread: the list of files, in order, as the sinks plan them */
    tr_scan *lister = NULL;
    tr_scan_options lo = {.on_diag = list_diag, .user = &h, .flags = o->scan_flags};
    if (rc == TR_OK && tr_scan_create(&lister, &lo) != TR_OK)
        rc = TR_ERR_NOMEM;
    for (size_t i = 0; i < npaths && rc == TR_OK; i++) {
        tr_status r = tr_scan_list(lister, paths[i], add_job, &h);
        if (r == TR_ERR_NOMEM)
            rc = r;
    }
    if (lister) {
        merge_stats(&res->scan, tr_scan_get_stats(lister));
        tr_scan_destroy(lister);
    }

    /* 2. the workers, each with its own state of every detector */
    unsigned threads = o->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > 256)
        threads = 256;
    if (threads > 1 && ordered(&h)) {
        threads = 1;
        if (o->on_diag) {
            tr_diag d = {TR_SEV_INFO, "", "", "correlation rules need one ordered stream of events: hunting with one thread",
                         TR_DIAG_RUN, NULL, NULL, NULL};
            o->on_diag(o->user, &d);
        }
    }
    if (h.njobs && threads > h.njobs)
        threads = (unsigned)h.njobs;
    h.nworkers = threads;
    h.lookahead = (size_t)threads * LOOKAHEAD_PER_THREAD;
    h.workers = rc == TR_OK ? tr_calloc(threads, sizeof *h.workers) : NULL;
    if (!h.workers && rc == TR_OK)
        rc = TR_ERR_NOMEM;
    unsigned started = 0, made = 0;
    for (unsigned i = 0; rc == TR_OK && i < threads; i++) {
        worker *w = &h.workers[i];
        w->h = &h;
        made++;
        if (counts_init(&w->c, h.nrules)) {
            rc = TR_ERR_NOMEM;
            break;
        }
        for (size_t k = 0; k < h.st.ndet && rc == TR_OK; k++)
            if (h.st.det[k]->create(&w->det[k], o) != TR_OK)
                rc = TR_ERR_NOMEM;
        if (rc != TR_OK)
            break;
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
    /* 3. this thread hands everything to the sinks, in order */
    if (rc == TR_OK && write_in_order(&h, t0))
        res->write_failed = 1;
    for (unsigned i = 0; i < started; i++)
        pthread_join(h.workers[i].thread, NULL);
    if (h.nomem)
        rc = TR_ERR_NOMEM;

    /* 4. end of input: states merged into the first worker's, then flushed */
    if (rc == TR_OK && made) {
        worker *w0 = &h.workers[0];
        for (size_t k = 0; k < h.st.ndet; k++) {
            const tr_detector_ops *d = h.st.det[k];
            for (unsigned i = 1; d->merge && i < made; i++)
                if (d->merge(w0->det[k], h.workers[i].det[k]) != TR_OK)
                    rc = TR_ERR_NOMEM;
            if (d->flush) {
                tr_emit e = {&h, w0, NULL};
                d->flush(w0->det[k], &e);
            }
        }
    }

    /* 5. the result: counters merged */
    res->per_rule = tr_calloc(h.nrules + 1, sizeof *res->per_rule);
    res->per_rule_limited = tr_calloc(h.nrules + 1, sizeof *res->per_rule_limited);
    counts all;
    memset(&all, 0, sizeof all);
    if (!res->per_rule || !res->per_rule_limited || counts_init(&all, h.nrules)) {
        rc = TR_ERR_NOMEM;
        counts_free(&all); /* what counts_init got before it failed */
        memset(&all, 0, sizeof all);
    }
    for (unsigned i = 0; i < made; i++) {
        worker *w = &h.workers[i];
        if (w->scan) {
            merge_stats(&res->scan, tr_scan_get_stats(w->scan));
            tr_scan_destroy(w->scan);
        }
        if (w->failed)
            res->write_failed = 1;
        if (w->c.per_rule && w->c.per_rule_limited && all.per_rule && res->per_rule_limited) {
            res->detections += w->c.detections;
            res->limited += w->c.limited;
            for (size_t r = 0; r < h.nrules; r++)
                res->per_rule_limited[r] += w->c.per_rule_limited[r];
            res->filtered_out += w->c.filtered_out;
            res->sightings += w->c.sightings;
            for (int l = 0; l <= TR_LEVEL_CRITICAL; l++)
                res->per_level[l] += w->c.per_level[l];
            for (size_t r = 0; r < h.nrules; r++)
                res->per_rule[r] += w->c.per_rule[r];
            if (w->c.first != TR_TIME_NONE && (res->first == TR_TIME_NONE || w->c.first < res->first))
                res->first = w->c.first;
            if (w->c.last != TR_TIME_NONE && (res->last == TR_TIME_NONE || w->c.last > res->last))
                res->last = w->c.last;
            for (size_t k = 0; k < w->c.ncomp; k++)
                count_computer(&all, w->c.comp_keys[k], w->c.comp[k].name, w->c.comp[k].count);
            all.comp_other += w->c.comp_other;
        }
        for (size_t k = 0; k < h.st.ndet; k++)
            if (w->det[k])
                h.st.det[k]->destroy(w->det[k]);
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
    res->threads = threads;
    res->seconds = tr_monotonic_seconds() - t0;

    /* 6. the sinks close (the case records the run with the counts above) */
    sinks_close(&h, rc == TR_OK);
    for (size_t i = 0; i < h.njobs; i++) {
        tr_free(h.jobs[i].path);
        tr_free(h.jobs[i].why);
        tr_strbuf_free(&h.jobs[i].diags);
        out_free(&h.jobs[i].frames);
    }
    if (h.acc)
        tr_free(h.acc->why);
    tr_free(h.acc);
    tr_free(h.jobs);
    tr_free(h.workers);
    tr_strbuf_free(&h.scratch);
    pthread_mutex_destroy(&h.lock);
    pthread_cond_destroy(&h.changed);
    res->seconds = tr_monotonic_seconds() - t0;
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
    tr_free(r->per_rule_limited);
    tr_sighting_log_destroy(r->sighting_log);
    memset(r, 0, sizeof *r);
}
