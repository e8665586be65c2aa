/*
 * pipeline.h — the seams of a hunt (tr_hunt_run): the table of detectors
 * its workers run on every event, and the table of sinks its writer hands
 * every finding to, in order. docs/ARCHITECTURE.md draws both.
 *
 * Adding a detector: one file with a tr_detector_ops, one row in
 * tr_detectors[] (detectors.c). Adding an output: one file with a
 * tr_sink_ops, one row in tr_sinks[] (sinks.c).
 *
 * Threads. A detector's state is created once per worker and used by that
 * worker only; `event` and `end_of_file` run on the worker, `merge` and
 * `flush` on the calling thread once the workers are done (every worker's
 * state merged into the first, which is then flushed). A detector whose
 * `ordered` says so gets the whole input as one stream on one worker. A
 * sink is opened, fed and closed on the calling thread only, in file order,
 * whatever the thread count: what it writes does not depend on it.
 *
 * Ownership: a detector or sink owns its state (create/open to
 * destroy/close); everything handed to it is borrowed for the call.
 */
#ifndef TR_HUNT_PIPELINE_H
#define TR_HUNT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/strbuf.h"
#include "traccia.h"

/* Events of one host and channel in one file, as the evidence detector
 * counts them. Strings borrowed. */
typedef struct tr_hunt_source {
    const char *host;      /* the host's name as the evidence spells it */
    const char *host_key;  /* tr_host_key */
    const char *format;    /* reader name */
    const char *channel;   /* Channel or LogType; NULL without */
    uint64_t events;
    tr_time first, last;
} tr_hunt_source;

enum { TR_HUNT_FILE_READ = 0, TR_HUNT_FILE_DAMAGED, TR_HUNT_FILE_SKIPPED };

/* One file of evidence as the writer hands it to the sinks, before its
 * findings (file_begin: path, size, mtime, resume_from) and after them
 * (file_end: everything). */
typedef struct tr_hunt_file {
    const char *path;          /* as the walk found it */
    uint64_t size;             /* bytes when listed */
    int64_t mtime;             /* seconds since 1970 when listed */
    uint64_t resume_from;      /* records before this byte offset were not hunted (a grown log
                                * read from where the case left it); 0: the whole file */
    int status;                /* TR_HUNT_FILE_* */
    const char *why;           /* damaged or skipped: the first reason said; else NULL */
    const char *format;        /* the reader's name; NULL when nothing was read */
    uint64_t events;           /* events read (after resume_from) */
    tr_time first, last;       /* of those events */
    int incomplete;            /* findings of the file were lost (memory, a damaged buffer): a
                                * sink must not take the file as done */
    const char *sha256;        /* hex; NULL unless a sink asked (TR_SINK_HASH) or unreadable */
    uint64_t hashed;           /* bytes the digest covers */
    const tr_hunt_source *sources;
    size_t nsources;
} tr_hunt_file;

/* Where a detector's results go (hunt.c). */
typedef struct tr_emit tr_emit;
/* A detection: filtered, counted, made a finding, handed to the sinks in order. */
void tr_emit_detection(tr_emit *e, const tr_detection *d);
/* A tr_detection_fn that calls tr_emit_detection (user: the tr_emit). */
void tr_emit_detection_fn(void *user, const tr_detection *d);
/* Events counted per host and channel in the job just read (its end_of_file). */
void tr_emit_source(tr_emit *e, const tr_hunt_source *s);
/* A problem found by a detector, said with the job's diagnostics (in file
 * order) or, at the end of input, at once; a NULL path is the job's file. */
void tr_emit_problem(tr_emit *e, const tr_diag *d);
/* n evaluations of rule `index` cut short by an engine limit (counted into
 * the result). */
void tr_emit_limited(tr_emit *e, size_t index, uint64_t n);

typedef struct tr_detector_ops {
    const char *name;
    bool (*wanted)(const tr_hunt_options *o);
    bool (*ordered)(const tr_hunt_options *o); /* NULL: any order will do */
    tr_status (*create)(void **state, const tr_hunt_options *o);
    void (*event)(void *state, const tr_event *ev, tr_emit *e);
    void (*end_of_file)(void *state, tr_emit *e); /* after each job (a file, or a part of one); may be NULL */
    tr_status (*merge)(void *into, void *from);   /* NULL: no state that outlives a job */
    void (*flush)(void *state, tr_emit *e);       /* end of input; may be NULL */
    void (*destroy)(void *state);
} tr_detector_ops;

extern const tr_detector_ops *const tr_detectors[]; /* NULL-terminated, run in this order */

#define TR_SINK_EVENT 0x01u /* findings handed to it carry a copy of their event */
#define TR_SINK_HASH 0x02u  /* file_end carries each file's SHA-256 */

/* What a sink decides for a file before it is read. */
typedef struct tr_hunt_plan {
    int skip;              /* 1: not read (the case holds it as it is) */
    uint64_t resume_from;  /* read, but hunt only records from this offset on */
} tr_hunt_plan;

typedef struct tr_sink_ops {
    const char *name;
    unsigned needs;        /* TR_SINK_* */
    bool (*wanted)(const tr_hunt_options *o);
    tr_status (*open)(void **state, const tr_hunt_options *o, tr_hunt_result *res);
    /* Before the workers start, for each file listed; may be NULL. */
    void (*plan)(void *state, const char *path, uint64_t size, int64_t mtime, tr_hunt_plan *plan);
    tr_status (*file_begin)(void *state, const tr_hunt_file *f); /* may be NULL */
    /* Each problem said while the file was read (damage, a limit hit, why
     * it was skipped), between its file_begin and file_end; and after the
     * last file_end, with path "", each problem of the whole input (a
     * correlation cut short at the end of input). May be NULL. */
    tr_status (*problem)(void *state, const tr_diag *d);
    tr_status (*finding)(void *state, const tr_finding *f);      /* NULL: wants none */
    tr_status (*file_end)(void *state, const tr_hunt_file *f);   /* may be NULL */
    /* Last call: writes what is left, fills its part of the result, frees
     * the state. ok is 0 when the hunt failed (out of memory). */
    tr_status (*close)(void *state, tr_hunt_result *res, int ok);
} tr_sink_ops;

extern const tr_sink_ops *const tr_sinks[]; /* NULL-terminated, fed in this order */

/* The sinks and detectors of this build (each in its own file). */
extern const tr_detector_ops tr_detector_sigma, tr_detector_indicators, tr_detector_evidence;
extern const tr_sink_ops tr_sink_jsonl, tr_sink_csv, tr_sink_sightings, tr_sink_exchange, tr_sink_case,
    tr_sink_run_report;

/* ---------------------------------------------------------------- findings (finding.c) */

/* The finding of a detection, host and key fields taken from its event
 * (borrowed from it: valid while the detection is). */
void tr_finding_from_detection(tr_finding *f, const tr_detection *d);
/* Appends the finding, and its event when with_event, to out as one
 * relocatable frame starting 8-aligned (pointers as offsets); false when
 * out of memory. */
bool tr_finding_freeze(const tr_finding *f, bool with_event, tr_strbuf *out);
/* The frame at frame[0..len) (8-aligned) made a finding in place; false
 * when it is not one. */
bool tr_finding_thaw(char *frame, size_t len, const tr_finding **out);

#endif
