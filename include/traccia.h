/*
 * traccia.h — the public API of libtraccia, the compromise-assessment engine.
 *
 * This is the only header a program using the library includes (the `traccia`
 * command includes nothing else). It declares:
 *   - status codes and the library version;
 *   - the event model: one shape for every kind of evidence (an event is a
 *     timestamp, where it came from, and an ordered list of named fields);
 *   - the scanner: walks files and folders, detects each file's format from
 *     its content, runs the matching reader and hands events, in batches, to a
 *     callback; diagnostics (each with its kind) go to a second callback;
 *   - Sigma rules (tr_ruleset) and the per-thread matcher, with its engine
 *     limits; the findings model and its JSON lines and CSV forms;
 *   - the hunt (tr_hunt_run): files over a pool of threads, every detector,
 *     every output, in file order; indicators (tr_iocset) and sightings;
 *   - the Exchange report, the case store (tr_case) and its questions, and
 *     the run report (tr_run_report).
 *
 * Ownership, once for the whole API: every object is created by a
 * tr_<type>_create() call and freed by the matching tr_<type>_destroy(), which
 * accepts NULL. Events, fields and every string they point to are BORROWED
 * from the reader that produced them: they are valid only during the callback
 * that delivers their batch. Copy what you need to keep.
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object is never used by two threads at once. The library has no mutable
 * global state apart from the allocation hooks (set them before any thread
 * starts).
 */
#ifndef TRACCIA_H
#define TRACCIA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TR_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status */

/* Every fallible function returns one of these; TR_OK is zero. */
typedef enum tr_status {
    TR_OK = 0,
    TR_ERR_NOMEM,       /* an allocation failed */
    TR_ERR_IO,          /* open/read/stat failed; errno-based reason in the diagnostic */
    TR_ERR_FORMAT,      /* the input is not what its format says it should be */
    TR_ERR_LIMIT,       /* a safety limit (nesting, record size, field count) was hit */
    TR_ERR_ARG,         /* the caller passed something invalid */
    TR_ERR_UNSUPPORTED, /* recognised, but traccia has no reader for it yet */
    TR_ERR_NOTFOUND     /* no such file, field or object */
} tr_status;

/* A static English description of a status code; never NULL. */
const char *tr_strerror(int status);

/* The library version, "MAJOR.MINOR.PATCH". */
const char *tr_version(void);

/* ---------------------------------------------------------------- time */

/* Instants are nanoseconds since 1970-01-01T00:00:00Z (UTC). TR_TIME_NONE
 * means "this event carries no usable timestamp". */
typedef int64_t tr_time;
#define TR_TIME_NONE INT64_MIN

/* Parses an ISO 8601 / RFC 3339 instant ("2021-03-02T07:01:12.1234567Z",
 * "2021-03-02 07:01:12", "+01:00" offsets, fractions to 100 ns and beyond),
 * a Windows "/Date(1614668472123)/" value, or a date alone ("2021-03-02").
 * A value without an offset is taken as UTC. Returns TR_OK and fills *out,
 * or TR_ERR_FORMAT. */
tr_status tr_time_parse(const char *s, size_t len, tr_time *out);

/* Writes t as "YYYY-MM-DDTHH:MM:SS.fffffffZ" (7 fraction digits, the
 * resolution of Windows FILETIME) into buf, which must hold at least
 * TR_TIME_BUFSIZE bytes. Returns the length written (excluding the NUL). */
#define TR_TIME_BUFSIZE 40
size_t tr_time_format(tr_time t, char *buf);

/* ---------------------------------------------------------------- events */

typedef enum tr_type {
    TR_NULL = 0, /* JSON null, an empty element */
    TR_STR,      /* text; str/len hold UTF-8 */
    TR_INT,      /* a signed integer; str/len hold its text as written */
    TR_UINT,     /* an unsigned integer above INT64_MAX; str/len hold its text */
    TR_FLOAT,    /* a number with a fraction or exponent, or out of integer range */
    TR_BOOL,     /* true/false; str/len hold "true" or "false" */
    TR_LIST      /* an ordered list of scalar values, see tr_event_list_item() */
} tr_type;

/* One value. Every scalar carries its text form (str, len): detection matches
 * text, so a reader that can point into its input does so (zero copy), and
 * one that decodes binary data renders the text once. */
typedef struct tr_value {
    const char *str;  /* UTF-8 text form, not NUL-terminated; NULL for TR_NULL and TR_LIST */
    uint32_t len;     /* bytes in str */
    uint8_t type;     /* a tr_type */
    uint8_t flags;    /* TR_VALUE_* below */
    uint16_t reserved;
    union {
        int64_t i;    /* TR_INT, TR_BOOL (0/1) */
        uint64_t u;   /* TR_UINT */
        double f;     /* TR_FLOAT */
        struct {
            uint32_t first; /* index of the first item, see tr_event_list_item() */
            uint32_t count; /* number of items */
        } list;       /* TR_LIST */
    } as;
} tr_value;

#define TR_VALUE_REPAIRED 0x01u /* invalid UTF-8 in the input was replaced by U+FFFD */

/* One named field. `name` is the flattened path ("Event.System.EventID");
 * `alias`, when not NULL, is the short name the same field also answers to
 * ("EventID"), so that rules resolve alike whatever the source format. */
typedef struct tr_field {
    const char *name;
    const char *alias;   /* NULL when the field has no short name */
    uint32_t name_len;
    uint32_t alias_len;
    uint32_t name_hash;  /* tr_name_hash(name) */
    uint32_t alias_hash; /* tr_name_hash(alias), 0 without alias */
    uint32_t alias_prio; /* 0 none, 1 System metadata, 2 payload (EventData, UserData) */
    tr_value value;
} tr_field;

/* Where an event came from. */
typedef struct tr_origin {
    const char *path;    /* the evidence file, as given or found by the walk */
    const char *format;  /* reader name: "json", ... */
    uint64_t record;     /* format-specific record number: line number for text formats */
    uint64_t offset;     /* byte offset of the record in the (decompressed) file */
    uint32_t flags;      /* TR_ORIGIN_* below */
} tr_origin;

/* The record is not part of the log as its writer left it: it was found in
 * the slack space of an EVTX chunk (after its free-space offset: deleted or
 * overwritten records) or in a chunk carved from damaged space. Only with
 * TR_SCAN_RECOVER. */
#define TR_ORIGIN_RECOVERED 0x01u

typedef struct tr_event tr_event; /* opaque; borrowed, see the top of this file */

/* Case-insensitive (ASCII) hash of a field name, as stored in tr_field. A
 * caller that looks the same name up many times computes it once and uses
 * tr_event_get_hashed(). */
uint32_t tr_name_hash(const char *name, size_t len);

tr_time tr_event_time(const tr_event *ev);
const tr_origin *tr_event_origin(const tr_event *ev);
size_t tr_event_field_count(const tr_event *ev);
/* The i-th field in input order, i < tr_event_field_count(). */
const tr_field *tr_event_field(const tr_event *ev, size_t i);
/* The i-th item of a TR_LIST value, i < v->as.list.count. */
const tr_value *tr_event_list_item(const tr_event *ev, const tr_value *list, size_t i);

/* The event's XML rendering, as Windows' Event Viewer shows it
 * (<Event xmlns=...><System>...</System><EventData>...</EventData></Event>),
 * on one line: newlines in values are written &#10;. Only for events read
 * from a markup the reader decodes (EVTX's Binary XML) by a scan with
 * TR_SCAN_XML; otherwise NULL. *len (may be NULL) receives its length; the
 * text is NUL-terminated and borrowed like the rest of the event. */
const char *tr_event_xml(const tr_event *ev, size_t *len);

/* Finds a field by flattened name or alias, ignoring ASCII case. A full name
 * wins over an alias; among fields that share an alias, the one from the
 * event's payload (EventData, UserData) wins over System metadata; among
 * duplicates of one name, the first in input order. Average O(1).
 * Returns NULL when the event has no such field. */
const tr_field *tr_event_get(const tr_event *ev, const char *name, size_t len);
const tr_field *tr_event_get_hashed(const tr_event *ev, const char *name, size_t len,
                                    uint32_t hash);

/* A batch: the events a reader produced from one window of its input. */
typedef struct tr_batch {
    const tr_event *const *events;
    size_t count;
} tr_batch;

/* ---------------------------------------------------------------- diagnostics */

typedef enum tr_severity { TR_SEV_INFO = 0, TR_SEV_WARNING, TR_SEV_ERROR } tr_severity;

/* What a diagnostic is about, so that a front end can count and group
 * them (a full SigmaHQ ruleset gives hundreds of rules that cannot run)
 * while never grouping away a problem with the evidence. */
typedef enum tr_diag_kind {
    TR_DIAG_RUN = 0,      /* the run itself: threads, an output that failed, the case */
    TR_DIAG_EVIDENCE,     /* a file of evidence damaged, unreadable, truncated, or a limit hit */
    TR_DIAG_SKIPPED,      /* a file of evidence not read, and why (format not recognised, empty) */
    TR_DIAG_RULE_FAILED,  /* a rule or rule file that did not load */
    TR_DIAG_RULE_NOT_RUN, /* a rule that loaded but will never run: `cause` and `item` group it */
    TR_DIAG_RULE_NOTE,    /* a remark about a rule that runs (an id that is not a UUID) */
    TR_DIAG_CONFIG,       /* a logsource mapping or placeholder file */
    TR_DIAG_INDICATOR,    /* an indicator or indicator file that did not load */
    TR_DIAG_LIMIT,        /* a rule cut short on a file's events by an engine limit: it may have
                           * missed them (`item`: the rule's title) */
    TR_DIAG_KINDS
} tr_diag_kind;

/* A report about the input: `path` and `where` ("line 12", "offset 0x1f00")
 * locate it, `reason` says what is wrong and what was done about it. */
typedef struct tr_diag {
    tr_severity severity;
    const char *path;
    const char *where;  /* may be "" when the problem concerns the whole file */
    const char *reason;
    tr_diag_kind kind;
    /* What to group by. TR_DIAG_RULE_NOT_RUN: the cause in a few words
     * ("need evidence traccia does not read") and what it concerns ("aws",
     * "category proxy"). TR_DIAG_RULE_FAILED: the compiler's reason without
     * the rule's name ("unknown modifier 'x'"), item NULL. NULL otherwise. */
    const char *cause, *item;
    /* TR_DIAG_LIMIT: the rule cut short (the ruleset's; lives as long as
     * it). NULL otherwise. */
    const struct tr_rule_info *rule;
} tr_diag;

/* "note", "warning", "error": as the command, the run report and the case say it. */
const char *tr_severity_name(tr_severity severity);
/* The kind's name in the run report and the case: "run", "evidence", ... */
const char *tr_diag_kind_name(tr_diag_kind kind);

typedef void (*tr_diag_fn)(void *user, const tr_diag *d);

/* ---------------------------------------------------------------- scanning */

/* Counts for one run; every file and record is accounted for somewhere. */
typedef struct tr_scan_stats {
    uint64_t files_seen;        /* regular files met by the walk */
    uint64_t files_read;        /* files a reader processed (perhaps with errors) */
    uint64_t files_skipped;     /* files not read: see skip_* below */
    uint64_t skip_unknown;      /* format not recognised */
    uint64_t skip_unsupported;  /* format recognised, no reader yet */
    uint64_t skip_empty;        /* zero bytes */
    uint64_t skip_io;           /* could not be opened or read */
    uint64_t files_damaged;     /* read, but with records skipped or a fatal error mid-way */
    uint64_t paths_missing;     /* command-line paths that do not exist */
    uint64_t bytes_read;        /* bytes of input consumed (compressed size for .gz) */
    uint64_t events;            /* events delivered */
    uint64_t records_skipped;   /* malformed records reported and skipped */
    uint64_t records_recovered; /* events from slack space and carved chunks (TR_SCAN_RECOVER),
                                 * included in `events` */
    uint64_t values_repaired;   /* strings with invalid UTF-8 repaired */
    tr_time first_time;         /* earliest event time, TR_TIME_NONE if none */
    tr_time last_time;          /* latest event time */
    uint64_t events_untimed;    /* events without a usable timestamp */
    uint64_t per_format_files[8];
    uint64_t per_format_events[8];
    uint64_t per_format_skipped[8]; /* skip_unsupported, by format */
} tr_scan_stats;

/* Name of the format with index i (for per_format_*), NULL past the end. */
const char *tr_format_name(size_t i);

/* Called with each batch. Return 0 to go on, non-zero to stop the scan. */
typedef int (*tr_batch_fn)(void *user, const tr_batch *batch);

typedef struct tr_scan tr_scan;

typedef struct tr_scan_options {
    tr_batch_fn on_batch;   /* may be NULL: count only */
    tr_diag_fn on_diag;     /* may be NULL: diagnostics are only counted */
    void *user;             /* passed to both callbacks */
    unsigned flags;         /* TR_SCAN_* below; 0 for the default */
} tr_scan_options;

/* Readers that decode a markup (EVTX: Binary XML) also render each event as
 * XML text, see tr_event_xml(). Costs a second rendering of every value;
 * without the flag, nothing of it is done. */
#define TR_SCAN_XML 0x01u
/* Also read what the log no longer counts as its own: EVTX records in the
 * slack space of each chunk (after its free-space offset) and chunks carved
 * at any offset from space without a chunk signature. Such events carry
 * TR_ORIGIN_RECOVERED and are counted in records_recovered. Fragments that
 * do not parse are dropped without a report: slack is expected to hold
 * remnants. */
#define TR_SCAN_RECOVER 0x02u

/* Creates a scanner. Returns TR_OK or TR_ERR_NOMEM. */
tr_status tr_scan_create(tr_scan **out, const tr_scan_options *opts);
void tr_scan_destroy(tr_scan *scan);

/* Reads `path`: a file, or a folder walked recursively (symbolic links to
 * folders are not followed, so a loop cannot trap the walk). Bad files and
 * bad records are reported through on_diag, counted, and skipped; the walk
 * goes on. Returns TR_OK (also when on_batch asked to stop: further calls
 * then do nothing), TR_ERR_NOTFOUND if the path does not exist, or
 * TR_ERR_NOMEM. Statistics accumulate across calls. */
tr_status tr_scan_path(tr_scan *scan, const char *path);

/* Walks `path` as tr_scan_path does (same order, same rules, same
 * diagnostics and statistics for folders and missing paths) but, instead
 * of reading each regular file, calls fn with its path; fn returns TR_OK to
 * go on, anything else to stop (returned). For callers that read files
 * themselves, in parallel (tr_hunt_run). */
typedef tr_status (*tr_file_fn)(void *user, const char *path);
tr_status tr_scan_list(tr_scan *scan, const char *path, tr_file_fn fn, void *user);

/* Reads part of one file: for formats made of independent blocks (EVTX:
 * 64 KiB chunks), the blocks that start in [from, to) (to = 0: to the
 * end). The parts of a file, read in order, give exactly the events of
 * the whole file; they may be read by different scanners at once. Only
 * the part with from = 0 counts the file (files_seen, files_read) and
 * judges its header; each part counts its own events and bytes. Other
 * formats are read whole by the part with from = 0 and not at all by the
 * others. For parallel readers (tr_hunt_run). */
tr_status tr_scan_path_range(tr_scan *scan, const char *path, uint64_t from, uint64_t to);

/* Reads a memory buffer as if it were the content of file `name`. */
tr_status tr_scan_memory(tr_scan *scan, const char *name, const void *data, size_t len);

const tr_scan_stats *tr_scan_get_stats(const tr_scan *scan);

/* ---------------------------------------------------------------- output */

/* Writes events as JSON lines, one object per event:
 *   {"time":"2021-03-02T07:01:12.1234567Z","source":{"path":..,"format":..,
 *    "record":12,"offset":3456},"fields":{"Event.System.EventID":4624,..}}
 * with fields in input order under their flattened names (aliases are not
 * repeated; with `aliases` set, an "aliases" object maps each alias to its
 * field). A recovered event (TR_ORIGIN_RECOVERED) has "recovered":true in
 * "source"; an event with an XML rendering (TR_SCAN_XML) has it as the
 * string "xml" after "fields". Output is valid UTF-8 JSON whatever the
 * input held. */
typedef struct tr_json_writer tr_json_writer;

/* `out` stays owned by the caller and must outlive the writer. */
tr_status tr_json_writer_create(tr_json_writer **out, FILE *stream, int aliases);
/* Returns TR_OK or TR_ERR_IO (the stream failed) or TR_ERR_NOMEM. */
tr_status tr_json_writer_event(tr_json_writer *w, const tr_event *ev);
void tr_json_writer_destroy(tr_json_writer *w);

/* ---------------------------------------------------------------- rules */

/* A ruleset: Sigma rules (detections, correlations, filters) loaded from
 * YAML, the logsource mapping that routes events to them, and placeholder
 * values for the `expand` modifier. Load everything, then compile once; a
 * compiled ruleset is read-only and shared by any number of matchers (one
 * per thread).
 *
 * Nothing is dropped silently: every rule that does not load is reported
 * through on_diag (severity error, with the file and line and the reason)
 * and counted; a rule that loads but cannot run (an unset placeholder, a
 * logsource no mapping covers) is reported as a warning. */
typedef struct tr_ruleset tr_ruleset;

typedef enum tr_level {
    TR_LEVEL_NONE = 0, TR_LEVEL_INFORMATIONAL, TR_LEVEL_LOW, TR_LEVEL_MEDIUM, TR_LEVEL_HIGH,
    TR_LEVEL_CRITICAL
} tr_level;
/* "informational" ... "critical", "" for TR_LEVEL_NONE. */
const char *tr_level_name(int level);
/* The level named s (case-insensitive), or -1. */
int tr_level_parse(const char *s);

typedef enum tr_rule_kind {
    TR_RULE_DETECTION = 0, /* a Sigma detection rule */
    TR_RULE_CORRELATION,   /* a Sigma correlation rule */
    TR_RULE_FILTER,        /* a Sigma filter (never reports by itself) */
    TR_RULE_INDICATOR,     /* an indicator of compromise (the ioc module) */
    TR_RULE_ANALYTIC,      /* a statistical detector over many events (network analytics) */
    TR_RULE_FILE           /* a match on a file's content (file sweep) */
} tr_rule_kind;

/* "detection", "correlation", "filter", "indicator", "analytic", "file". */
const char *tr_rule_kind_name(int kind);

/* A loaded rule, as written. Strings are owned by the ruleset; NULL when the
 * rule does not say. */
typedef struct tr_rule_info {
    int kind;                /* tr_rule_kind */
    const char *id, *name, *title, *status, *description, *author, *date;
    int level;               /* tr_level */
    const char *product, *category, *service; /* logsource */
    const char *const *tags;
    size_t ntags;
    const char *const *references;
    size_t nreferences;
    const char *const *fields;  /* the rule's `fields:` list */
    size_t nfields;
    const char *path;        /* file it came from */
    uint32_t line;           /* line of the document's first key */
    int runnable;            /* 0: loaded but never runs; see `why_not` */
    const char *why_not;     /* the reason, for rules check/list */
    const char *not_run_cause; /* the reason in a few words, to group by: "need evidence
                              * traccia does not read"; NULL while it runs */
    const char *not_run_item;  /* what the cause concerns ("aws", "category proxy", a
                              * placeholder's name); may be NULL */
    const char *risk;        /* a regular expression of the rule that risks catastrophic
                              * backtracking, and why (rules check lists them); NULL: none */
    size_t routes;           /* logsource mapping entries that route events to it */
    size_t index;            /* its position: tr_ruleset_rule(rs, index) is this rule */
    /* ATT&CK, parsed once from the tags (tr_attack_parse, any case):
     * techniques "T1003.001" (upper case), tactics "credential-access"
     * (lower case, '_' read as '-'), each once, in tag order */
    const char *const *techniques;
    size_t ntechniques;
    const char *const *tactics;
    size_t ntactics;
} tr_rule_info;

/* The ATT&CK techniques and tactics named by tags ("attack.t1003.001",
 * "attack.T1059", "attack.credential_access"). Returns one block owned by
 * the caller (tr_free it; NULL when out of memory) holding both arrays and
 * their strings; the two arrays point into it. Other tags (groups
 * "attack.g0016", software "attack.s0002", "cve.", "car.") are not listed. */
void *tr_attack_parse(const char *const *tags, size_t ntags, const char *const **techniques,
                      size_t *ntechniques, const char *const **tactics, size_t *ntactics);
/* Whether name is one of the 14 ATT&CK Enterprise tactics (short name). */
int tr_attack_is_tactic(const char *name, size_t len);

typedef struct tr_ruleset_stats {
    uint64_t files;          /* rule files read */
    uint64_t documents;      /* YAML documents met (collection bases included) */
    uint64_t loaded;         /* rules loaded: detection, correlation, filter */
    uint64_t failed;         /* rules (or files) that did not load, each reported */
    uint64_t not_runnable;   /* loaded but never run, each reported */
    uint64_t correlations, filters;
    uint64_t logsource_entries;
    uint64_t prefiltered;    /* detection rules with a literal prefilter */
} tr_ruleset_stats;

/* Engine limits for regular expressions (PCRE2's own defaults): a match
 * that needs more steps, or more nested backtracking, is stopped and said
 * (tr_matcher_on_limit), never taken quietly as "no match". */
#define TR_REGEX_MATCH_LIMIT_DEFAULT 10000000u
#define TR_REGEX_DEPTH_LIMIT_DEFAULT 10000000u

typedef struct tr_ruleset_options {
    tr_diag_fn on_diag;      /* rule problems; may be NULL */
    void *user;
    uint32_t regex_match_limit; /* 0: TR_REGEX_MATCH_LIMIT_DEFAULT */
    uint32_t regex_depth_limit; /* 0: TR_REGEX_DEPTH_LIMIT_DEFAULT (the interpreter's) */
} tr_ruleset_options;

tr_status tr_ruleset_create(tr_ruleset **out, const tr_ruleset_options *opts);
void tr_ruleset_destroy(tr_ruleset *rs);
/* Rule files: a .yml/.yaml file, or a folder walked recursively in sorted
 * order. Bad rules are reported and counted; returns TR_OK unless the path
 * does not exist (TR_ERR_NOTFOUND) or memory ran out. */
tr_status tr_ruleset_add_path(tr_ruleset *rs, const char *path);
tr_status tr_ruleset_add_memory(tr_ruleset *rs, const char *name, const char *text, size_t len);
/* The project's own rule pack (rules/ in the source tree), compiled into
 * the library: Exchange espionage tradecraft. */
tr_status tr_ruleset_add_builtin_rules(tr_ruleset *rs);
/* Logsource mapping files (docs/LOGSOURCES.md); the built-in mapping is
 * always loaded first. */
tr_status tr_ruleset_add_logsources_path(tr_ruleset *rs, const char *path);
tr_status tr_ruleset_add_logsources_memory(tr_ruleset *rs, const char *name, const char *text,
                                           size_t len);
/* Placeholder values for `|expand`: a YAML mapping of name (without %) to a
 * value or a list of values. */
tr_status tr_ruleset_add_placeholders_path(tr_ruleset *rs, const char *path);
tr_status tr_ruleset_add_placeholders_memory(tr_ruleset *rs, const char *name, const char *text,
                                             size_t len);
/* Resolves references (correlations, filters), routes rules to logsources,
 * builds the prefilter. After it, nothing more can be added. */
tr_status tr_ruleset_compile(tr_ruleset *rs);
/* SHA-256 (hex) of every text loaded into the ruleset so far — rules,
 * logsource mappings, placeholders, the built-in pack — in load order: two
 * rulesets with the same digest match alike. */
void tr_ruleset_digest(const tr_ruleset *rs, char hex[65]);
size_t tr_ruleset_count(const tr_ruleset *rs);
const tr_rule_info *tr_ruleset_rule(const tr_ruleset *rs, size_t i);
const tr_ruleset_stats *tr_ruleset_get_stats(const tr_ruleset *rs);

/* ---------------------------------------------------------------- matching */

/* One detection. For a detection rule, `event` is the matched event
 * (borrowed for the callback). For a correlation, `event` is the event that
 * completed it, `first`/`last` span the events that took part, `value` is
 * the count or aggregate that met the condition and `group` lists the
 * group-by fields with their values. */
typedef struct tr_detection {
    const tr_rule_info *rule;
    const tr_event *event;   /* NULL for a correlation flushed at the end of input */
    tr_time time;
    tr_time first, last;
    double value;
    size_t ngroup;
    const char *const *group_fields;
    const char *const *group_values;
    /* indicators: the field that held it and the value seen (NULL otherwise) */
    const char *matched_field;
    const char *matched_value;
} tr_detection;

typedef void (*tr_detection_fn)(void *user, const tr_detection *d);

/* ---------------------------------------------------------------- hosts */

/* One host identity for the whole program (docs/ARCHITECTURE.md, "One host").
 * The host of an event is the first of:
 *   1. its Computer field (Windows event logs);
 *   2. the log's own server field: ServerHostName, s-computername, ServerName
 *      (Exchange and IIS logs);
 *   3. the folder of a copied server the file lies in (the folder above
 *      Logging, inetpub, Program Files, Exchange Server, V15 or Windows, a
 *      drive folder such as C or C$ skipped);
 *   4. the log's server address (s-ip);
 * else "(unknown)". Its key is the short name in upper case (the part before
 * the first '.': EXCH01.corp.local and exch01 are one host) or, for an
 * address, the address in lower case. */
#define TR_HOST_KEY_MAX 64 /* bytes of a key, NUL included */
#define TR_HOST_UNKNOWN "(unknown)"
#define TR_HOST_NAME_MAX 256 /* bytes of a host's name kept, NUL included */

/* The key of the host named s[0..n) into key (NUL-terminated); returns its
 * length, 0 when s names nothing (empty, blanks). TR_HOST_UNKNOWN is its
 * own key. */
size_t tr_host_key(const char *s, size_t n, char key[TR_HOST_KEY_MAX]);
/* The <server> folder of a copied server's layout in path (step 3 above):
 * a pointer into path and its length in *len, or NULL. */
const char *tr_host_from_path(const char *path, size_t *len);
/* The host of an event: its key in key, the name as the evidence spells it
 * in *name and *len (borrowed from the event; TR_HOST_UNKNOWN when nothing
 * names it). Returns the key length. */
size_t tr_event_host(const tr_event *ev, char key[TR_HOST_KEY_MAX], const char **name, size_t *len);

/* ---------------------------------------------------------------- findings */

/* A finding: what every detector reports and every output writes. It is
 * self-contained: the hunt copies it out of the event that caused it (the
 * event itself too, when an output needs it), so that it outlives the
 * reader's batch and crosses from the thread that found it to the one that
 * writes it. The rule is borrowed from the ruleset or indicator set, which
 * outlive the hunt. Members named as in tr_detection mean the same. */
typedef enum tr_finding_kind {
    TR_FINDING_SIGMA = 0,      /* a Sigma detection rule matched one event */
    TR_FINDING_CORRELATION,    /* a Sigma correlation rule fired (over many events) */
    TR_FINDING_INDICATOR,      /* an indicator of compromise was seen in an event */
    TR_FINDING_ANALYTIC,       /* a statistical detector (beacons, tunnels, rare destinations) */
    TR_FINDING_FILE            /* a file's content matched (YARA) */
} tr_finding_kind;

#define TR_FINDING_MAX_KEYS 8 /* key fields kept per finding */

typedef struct tr_finding {
    tr_finding_kind kind;
    const tr_rule_info *rule;  /* id, title, level, tags, techniques, tactics */
    int level;                 /* tr_level (the rule's) */
    tr_time time;              /* the event's time; a correlation's last event */
    tr_time first, last;       /* correlations: the window's first and last event */
    double value;              /* correlations: the count or value that fired */
    char host[TR_HOST_KEY_MAX]; /* the host key (tr_event_host), TR_HOST_UNKNOWN without */
    char host_name[TR_HOST_NAME_MAX]; /* as the evidence spells it (cut at 255 bytes) */
    tr_origin origin;          /* file, format, record or line, offset; path NULL without */
    const tr_event *event;     /* a copy of the event; NULL for a correlation reported at
                                * the end of input, or when no output needs the event */
    size_t ngroup;             /* correlations: the group-by fields and values */
    const char *const *group_fields;
    const char *const *group_values;
    const char *matched_field; /* indicators: the field that held it and the value seen */
    const char *matched_value;
    size_t nkeys;              /* key fields (the rule's `fields:` or the usual ones:
                                * CommandLine, Image, TargetFilename, users, addresses),
                                * values cut at 1 KiB */
    const char *key_names[TR_FINDING_MAX_KEYS];
    const char *key_values[TR_FINDING_MAX_KEYS]; /* NUL-terminated once the hunt copied the finding */
    uint32_t key_lens[TR_FINDING_MAX_KEYS];      /* bytes of each value */
} tr_finding;

/* "sigma", "correlation", "indicator", "analytic", "file". */
const char *tr_finding_kind_name(tr_finding_kind kind);

typedef struct tr_matcher tr_matcher;

/* Evaluate every candidate rule in full, without the literal prefilter
 * and the EventID guards (for measuring them, and for checking that they
 * never change a result). */
#define TR_MATCH_NO_PREFILTER 0x01u

/* A matcher holds one thread's scratch space and the correlation state.
 * The ruleset must be compiled and outlive the matcher. */
tr_status tr_matcher_create(tr_matcher **out, const tr_ruleset *rs, unsigned flags);
void tr_matcher_destroy(tr_matcher *m);
/* Runs every rule routed to the event; calls `fn` for each detection, in
 * rule order. Returns the number of detections. Allocates nothing once warm. */
size_t tr_matcher_event(tr_matcher *m, const tr_event *ev, tr_detection_fn fn, void *user);
/* End of input: lets correlations still pending report. */
size_t tr_matcher_flush(tr_matcher *m, tr_detection_fn fn, void *user);
/* A rule that could not be evaluated in full on an event, because one of
 * its regular expressions hit an engine limit on a value, and that did not
 * match otherwise: it may have missed the event (n is 1). Or, at
 * tr_matcher_flush (ev NULL), a correlation rule that had to ignore n of
 * its inputs (its group or entry cap, a group-by value too long, memory):
 * it may have missed a correlation. `why` names the limit. */
typedef void (*tr_limit_fn)(void *user, const tr_rule_info *rule, const tr_event *ev, const char *why, uint64_t n);
/* Who hears of rules cut short by a limit (fn NULL: nobody; the count in
 * tr_matcher_limited still grows). */
void tr_matcher_on_limit(tr_matcher *m, tr_limit_fn fn, void *user);
/* Rule evaluations cut short by an engine limit so far. */
uint64_t tr_matcher_limited(const tr_matcher *m);
/* Rules evaluated in full and rules skipped by the prefilter, so far. */
void tr_matcher_counts(const tr_matcher *m, uint64_t *evaluated, uint64_t *prefiltered_out);

/* Writes one finding as a JSON line (docs/OUTPUT.md):
 *   {"time":..,"rule":{"id":..,"title":..,"level":..,"status":..,
 *    "tags":[..],"attack":["T1003.001",..]},"computer":..,"channel":..,
 *    "event_id":..,"source":{"path":..,"format":..,"record":..},
 *    "fields":{..the rule's `fields:`, else every field of the event..}}
 * and for a correlation also "first", "last", "value" and "group".
 * Returns TR_OK, TR_ERR_IO or TR_ERR_NOMEM. */
tr_status tr_finding_write_json(FILE *out, const tr_finding *f);

/* Writes, in the same stream, the line that says a rule was cut short by
 * an engine limit (a TR_DIAG_LIMIT diagnostic), so that a reader of the
 * findings knows which rules may have missed events of which file:
 *   {"incomplete":{"rule":{"id":..,"title":..,"kind":..},"path":..,
 *    "where":"record 1742","reason":..}}
 * path and where are null for a correlation cut short at the end of
 * input. Returns TR_OK, TR_ERR_IO or TR_ERR_NOMEM. */
tr_status tr_incomplete_write_json(FILE *out, const tr_diag *d);

/* Writes one finding as a CSV row (RFC 4180), in the column order of
 * TR_DETECTION_CSV_HEADER: a timeline that spreadsheets and Timesketch
 * import (datetime, timestamp_desc, message first). */
#define TR_DETECTION_CSV_HEADER                                                                    \
    "datetime,timestamp_desc,message,level,rule_title,rule_id,status,attack,tags,computer,"       \
    "channel,event_id,source_path,source_record,details\n"
tr_status tr_finding_write_csv(FILE *out, const tr_finding *f);

/* ---------------------------------------------------------------- hunting */

/* Which detections a hunt keeps. A detection passes when it passes every
 * test that is set. */
typedef struct tr_hunt_filter {
    tr_time from, to;           /* event time within [from, to]; TR_TIME_NONE: open. With
                                 * either set, events without a time are left out */
    int min_level;              /* tr_level; 0: any */
    const char *const *statuses; /* rule status among these (NULL: any) */
    size_t nstatuses;
    const char *const *tags;    /* one of the rule's tags starts with one of these */
    size_t ntags;
    const char *const *exclude; /* rule ids (or titles) left out */
    size_t nexclude;
} tr_hunt_filter;

typedef struct tr_hunt_progress {
    uint64_t files_done, files_total;
    uint64_t bytes, events, detections;
    double seconds;
} tr_hunt_progress;

typedef struct tr_iocset tr_iocset;
typedef struct tr_sighting_log tr_sighting_log;
typedef struct tr_exchange_report tr_exchange_report;
typedef struct tr_case tr_case;
typedef struct tr_prehash tr_prehash;
typedef struct tr_run_report tr_run_report;

typedef struct tr_hunt_options {
    const tr_ruleset *rules;    /* compiled; required */
    const tr_iocset *iocs;      /* compiled indicators swept in the same pass; may be NULL */
    unsigned threads;           /* 0: one per online core */
    unsigned scan_flags;        /* TR_SCAN_* */
    unsigned match_flags;       /* TR_MATCH_* */
    tr_hunt_filter filter;
    FILE *jsonl;                /* detections as JSON lines; NULL: none */
    FILE *csv;                  /* detections as CSV rows, header first; NULL: none */
    tr_exchange_report *exchange; /* fed with every finding and every file's events per
                                 * server, in order; NULL: none */
    tr_case *case_store;        /* findings, evidence, hosts and the run written into this
                                 * case (tr_case_open); NULL: none. Files the case already
                                 * holds, unchanged and hunted with the same rules, are
                                 * not read again; see docs/CASE.md */
    int case_full;              /* with case_store: read every file again whatever the case
                                 * holds (findings already there are still not added twice) */
    const char *command;        /* recorded with the run in the case; may be NULL */
    tr_prehash *prehash;        /* digests computed ahead (tr_prehash_start); may be NULL */
    tr_run_report *run_report;  /* every file read or skipped noted in it; may be NULL */
    /* Called from the calling thread only: diagnostics in file order,
     * progress about five times a second; both may be NULL. */
    tr_diag_fn on_diag;
    void (*on_progress)(void *user, const tr_hunt_progress *p);
    void *user;
} tr_hunt_options;

typedef struct tr_hunt_count {
    char *name;                 /* a host, by its longest name (tr_event_host) */
    uint64_t count;
} tr_hunt_count;

/* What a hunt found and read. Owned by the caller: tr_hunt_result_free. */
typedef struct tr_hunt_result {
    tr_scan_stats scan;         /* every file read or skipped, as for tr_scan */
    uint64_t detections;        /* after filtering */
    uint64_t filtered_out;      /* detections the filter left out */
    uint64_t per_level[TR_LEVEL_CRITICAL + 1];
    uint64_t *per_rule;         /* [tr_ruleset_count(rules)], by tr_rule_info.index */
    tr_time first, last;        /* earliest and latest detection time */
    tr_hunt_count *computers;   /* detections per host (one host identity), most first */
    size_t ncomputers;
    uint64_t computers_other;   /* detections on computers past the table's cap (4,096) */
    unsigned threads;           /* threads used */
    int write_failed;           /* an output stream failed */
    double seconds;
    uint64_t sightings;         /* indicator detections (also in `detections`) */
    tr_sighting_log *sighting_log; /* per indicator: count, first, last, hosts; NULL without
                                 * indicators; freed by tr_hunt_result_free */
    /* with a case store */
    uint64_t case_unchanged;    /* files the case holds as they are, not read again */
    uint64_t case_resumed;      /* grown logs read from where the case left them */
    uint64_t case_rehunted;     /* files read again because the rules changed since */
    uint64_t case_new_findings; /* findings added to the case */
    uint64_t case_known_findings; /* findings the case already held (not added twice) */
    int64_t case_run;           /* the run's id in the case (runs.id) */
    int case_failed;            /* writing the case failed (said through on_diag) */
    int ruleset_changed;        /* the case's files were hunted with other rules before */
    /* rules cut short by an engine limit (a regular expression's match
     * limit): each said through on_diag per file (TR_DIAG_LIMIT) */
    uint64_t limited;           /* rule evaluations cut short */
    uint64_t *per_rule_limited; /* [tr_ruleset_count(rules)], by tr_rule_info.index */
    uint64_t limited_rules;     /* rules cut short at least once */
} tr_hunt_result;

/* Hunts every path (files, or folders walked as tr_scan_path does) with
 * the ruleset, in parallel across files. Detections, diagnostics and every
 * output come in the same order whatever the thread count: file by file in
 * walk order, and in record order within a file. Correlation rules need one
 * ordered stream of events: with any in the ruleset the hunt uses one
 * thread (and says so through on_diag). Returns TR_OK (the result is
 * filled), TR_ERR_NOMEM or TR_ERR_ARG; the result is the caller's to free
 * with tr_hunt_result_free whatever is returned. */
tr_status tr_hunt_run(const tr_hunt_options *opts, const char *const *paths, size_t npaths,
                      tr_hunt_result *result);

/* The evidence hashed ahead: a thread walks paths as tr_hunt_run will
 * (with the same scan flags) and computes each file's SHA-256, while the
 * caller loads and compiles its rules. A hunt given it (hunt options'
 * prehash) takes each digest from it when the file is unchanged since, and
 * hashes what it has not reached itself. Stop it after the hunt. */
tr_status tr_prehash_start(tr_prehash **out, const char *const *paths, size_t npaths, unsigned scan_flags);
/* The digest of path as hashed ahead, when it had this size and mtime: 1
 * with hex and *hashed; 0 when the caller must hash it (from then on the
 * thread leaves it alone); 2 (only without wait) when the thread is hashing
 * it right now: ask again later, with wait, which waits for it. */
int tr_prehash_take(tr_prehash *p, const char *path, uint64_t size, int64_t mtime, int wait, char hex[65],
                    uint64_t *hashed);
/* The hunt will not read path (the case holds it unchanged): not hashed. */
void tr_prehash_skip(tr_prehash *p, const char *path);
void tr_prehash_stop(tr_prehash *p);
void tr_hunt_result_free(tr_hunt_result *result);

/* ---------------------------------------------------------------- output files */

/* An output file written whole or not at all: to PATH.<pid>.tmp, flushed
 * to disk and renamed over PATH by tr_out_commit; a run that fails or is
 * killed leaves at most the temporary, never a PATH that looks complete.
 * "-" is standard output, and a device or a named pipe is written as it
 * goes. Fields are read-only to the caller; `f` is the stream to write. */
typedef struct tr_out_file {
    const char *path;   /* borrowed */
    char *tmp;          /* the temporary's name; NULL for stdout, a device, a pipe */
    FILE *f;
    int direct;         /* a device or pipe opened here */
} tr_out_file;
/* TR_OK, TR_ERR_NOMEM or TR_ERR_IO (errno kept). */
tr_status tr_out_open(tr_out_file *o, const char *path);
/* Flushes, syncs, closes and renames: TR_OK, or TR_ERR_IO (errno kept;
 * the temporary removed, PATH left as it was). */
tr_status tr_out_commit(tr_out_file *o);
/* Closes and removes the temporary; PATH is left as it was. Safe after
 * commit and on a zeroed tr_out_file. */
void tr_out_abort(tr_out_file *o);
static inline int tr_out_is_stdout(const tr_out_file *o) { return o->f == stdout; }

/* ---------------------------------------------------------------- run report */

/* One JSON document for scripts and the case file (docs/OUTPUT.md, "The
 * run report"): the command, every diagnostic, every rule that did not
 * load or will not run with its reason, every file of evidence read or
 * skipped with its reason and counts, the totals of the summary and the
 * exit status. So standard error can stay short and nothing is lost.
 *
 * Fed as the run goes (diagnostics, and through tr_hunt_options.run_report
 * the files a hunt meets) into spool files, so its memory does not grow
 * with the evidence; written at the end in one piece, to a temporary name
 * renamed into place, so that a report that exists is whole. One thread
 * feeds it. Owned by the caller: tr_run_report_destroy. */
tr_status tr_run_report_create(tr_run_report **out, const char *command, int argc, char *const *argv);
/* Notes a diagnostic (any kind): copied. */
void tr_run_report_diag(tr_run_report *r, const tr_diag *d);
/* The rules as loaded: counts, and each rule that will not run. */
void tr_run_report_rules(tr_run_report *r, const tr_ruleset *rs);
/* The indicators as loaded: counts. */
void tr_run_report_indicators(tr_run_report *r, const tr_iocset *set);
/* The hunt's totals (the summary's figures). */
void tr_run_report_hunt(tr_run_report *r, const tr_hunt_result *res);
/* Writes the report to path ("-": standard output) with the exit status
 * and its meaning. TR_OK, TR_ERR_IO (errno kept) or TR_ERR_NOMEM; on
 * failure no file is left at path. */
tr_status tr_run_report_write(tr_run_report *r, const char *path, int exit_status, const char *exit_meaning);
void tr_run_report_destroy(tr_run_report *r);

/* ---------------------------------------------------------------- Exchange report */

/* A compromise assessment of Exchange servers in the shape responders know
 * from Microsoft's Test-ProxyLogon (docs/EXCHANGE.md): per CVE (ProxyLogon,
 * ProxyShell, ProxyNotShell, OWASSRF) and per post-exploitation activity
 * (web shells, mailbox theft, LSASS dumps, staging) the hits, first and last
 * time, client IPs and evidence lines; the suspicious files the logs name;
 * the web shells requested and by whom; and a verdict per server.
 *
 * Fed with every event read (tr_exchange_report_event: which servers, what
 * evidence) and every detection of the rules on them
 * (tr_exchange_report_detection); a detection's CVE comes from its rule's
 * `cve.YYYY-NNNNN` tags, its activity from its ATT&CK tags. Everything kept
 * is copied: events may go once the calls return. Memory is bounded by the
 * caps of tr_exchange_options whatever the input; what a cap leaves out is
 * counted and reported. One report is fed from one thread. */
typedef struct tr_exchange_options {
    unsigned max_evidence; /* evidence lines kept per section, best first (0: 10) */
    unsigned max_ips;      /* distinct client IPs kept per section (0: 256) */
    unsigned max_items;    /* servers, files, web shell requests, clients kept (0: 1,024 each) */
} tr_exchange_options;

/* Verdicts, worst last (docs/EXCHANGE.md says what makes each). */
typedef enum tr_exchange_verdict {
    TR_EXCHANGE_NO_SIGN = 0,     /* nothing detected on the server */
    TR_EXCHANGE_SUSPICIOUS,      /* detections that administration can explain */
    TR_EXCHANGE_ATTACKED,        /* exploitation attempts, none known to succeed */
    TR_EXCHANGE_COMPROMISED      /* exploitation succeeded or post-exploitation seen */
} tr_exchange_verdict;

/* opts may be NULL (defaults). Returns TR_OK or TR_ERR_NOMEM. */
tr_status tr_exchange_report_create(tr_exchange_report **out, const tr_exchange_options *opts);
void tr_exchange_report_destroy(tr_exchange_report *r);
/* Notes one event read: the server it belongs to, its kind of evidence, its
 * time. Returns TR_OK or TR_ERR_NOMEM (the report then says it is
 * incomplete). */
tr_status tr_exchange_report_event(tr_exchange_report *r, const tr_event *ev);
/* Adds one detection (a tr_detection_fn can call it as is). Several
 * detections of one event count as one hit per section. Returns TR_OK or
 * TR_ERR_NOMEM. */
tr_status tr_exchange_report_detection(tr_exchange_report *r, const tr_detection *d);
/* The same for a finding (what a hunt's sink hands over). */
tr_status tr_exchange_report_finding(tr_exchange_report *r, const tr_finding *f);
/* Notes `count` events of one server at once (what a hunt counted per file):
 * the host as named in the evidence, the reader's format and the event's
 * Channel or LogType (NULL when it has none), the first and last time. */
tr_status tr_exchange_report_events(tr_exchange_report *r, const char *host, size_t host_len, const char *format,
                                    const char *channel, size_t channel_len, uint64_t count, tr_time first,
                                    tr_time last);
/* What was read, for the report's "input" part (copied; may be omitted). */
void tr_exchange_report_set_input(tr_exchange_report *r, const tr_scan_stats *s);
/* Number of servers seen; the verdict of server i (< that number), its name
 * in *name and the reason in *reason (both may be NULL; borrowed from the
 * report). */
size_t tr_exchange_report_server_count(const tr_exchange_report *r);
tr_exchange_verdict tr_exchange_report_server_verdict(const tr_exchange_report *r, size_t i, const char **name,
                                                      const char **reason);
/* "no sign", "suspicious", "attacked", "compromised". */
const char *tr_exchange_verdict_name(int verdict);
/* The report as text for people, or as one JSON document (schema in
 * docs/EXCHANGE.md). Return TR_OK, TR_ERR_IO (the stream failed) or
 * TR_ERR_NOMEM. */
tr_status tr_exchange_report_write_text(tr_exchange_report *r, FILE *out);
tr_status tr_exchange_report_write_json(tr_exchange_report *r, FILE *out);

/* ---------------------------------------------------------------- indicators */

/* An indicator set: indicators of compromise loaded from the files they
 * arrive in — STIX 2.1 bundles (indicator objects with STIX patterns),
 * MISP event JSON and MISP feed folders (manifest.json), CSV and plain-text
 * lists (one indicator per line, type detected, defanged forms accepted) —
 * compiled once into an index whose cost per event does not grow with the
 * number of indicators, and shared read-only by any number of matchers (one
 * per thread). The format of each file is recognised from its content.
 * docs/IOC.md gives the formats, the matching rules and the limits.
 *
 * Nothing is dropped silently: every indicator that does not load (a value
 * that is not what its type says, a STIX pattern outside the supported set,
 * an unknown MISP type) is reported through on_diag with the file, the line
 * or the indicator id, and the reason, and counted in the statistics.
 *
 * Sightings are reported as detections (tr_detection) whose rule is the
 * indicator's tr_rule_info, kind TR_RULE_INDICATOR. */
typedef struct tr_iocset tr_iocset;

/* What an indicator looks for; tr_ioc_type_name() gives the STIX-like name. */
typedef enum tr_ioc_type {
    TR_IOC_IPV4 = 0,   /* "ipv4-addr": an address or a CIDR range */
    TR_IOC_IPV6,       /* "ipv6-addr": an address or a CIDR range */
    TR_IOC_DOMAIN,     /* "domain-name": the domain and every name under it */
    TR_IOC_URL,        /* "url" */
    TR_IOC_MD5,        /* "md5" */
    TR_IOC_SHA1,       /* "sha1" */
    TR_IOC_SHA256,     /* "sha256" */
    TR_IOC_FILENAME,   /* "file-name": at the end of a path */
    TR_IOC_PATH,       /* "file-path": a whole path */
    TR_IOC_EMAIL,      /* "email-addr" */
    TR_IOC_USER,       /* "user-account" */
    TR_IOC_USER_AGENT, /* "user-agent": a substring of user-agent fields */
    TR_IOC_CMDLINE,    /* "command-line": a substring of command-line fields */
    TR_IOC_PATTERN,    /* "stix-pattern": a STIX pattern other than one equality */
    TR_IOC_TYPE_COUNT
} tr_ioc_type;

/* "ipv4-addr", "domain-name", ...; "" past the end. */
const char *tr_ioc_type_name(int type);

/* Where indicators came from, by format. */
typedef enum tr_ioc_format {
    TR_IOC_FORMAT_STIX = 0, /* STIX 2.1 bundle (or bare indicator objects) */
    TR_IOC_FORMAT_MISP,     /* MISP event JSON, or a file of a MISP feed */
    TR_IOC_FORMAT_LIST,     /* CSV or plain text */
    TR_IOC_FORMAT_COUNT
} tr_ioc_format;

/* "stix", "misp", "list"; "" past the end. */
const char *tr_ioc_format_name(int format);

/* Counts for one file (a source), and for the whole set. */
typedef struct tr_ioc_counts {
    uint64_t loaded;      /* indicators loaded */
    uint64_t rejected;    /* not loaded, each reported with its reason */
    uint64_t unsupported; /* of rejected: valid, but outside what traccia matches */
    uint64_t duplicates;  /* the same type and value again in one file: counted once */
    uint64_t not_ids;     /* MISP attributes with to_ids false, left out as MISP says */
    uint64_t revoked;     /* STIX indicators marked revoked, left out */
    uint64_t per_type[TR_IOC_TYPE_COUNT]; /* loaded, by type */
} tr_ioc_counts;

/* One input file. Owned by the set; a pointer to it stays valid until the
 * next file is added (after compiling, until the set is destroyed). */
typedef struct tr_ioc_source {
    const char *path;
    int format;           /* tr_ioc_format */
    tr_ioc_counts counts;
} tr_ioc_source;

typedef struct tr_iocset_stats {
    uint64_t files;       /* files read (a MISP feed counts each event file) */
    uint64_t files_failed;/* files that could not be read or recognised, each reported */
    uint64_t keys;        /* distinct values in the index */
    tr_ioc_counts counts; /* the sum over the sources */
} tr_iocset_stats;

typedef struct tr_iocset_options {
    tr_diag_fn on_diag; /* rejected indicators, unreadable files; may be NULL */
    void *user;
} tr_iocset_options;

tr_status tr_iocset_create(tr_iocset **out, const tr_iocset_options *opts);
void tr_iocset_destroy(tr_iocset *set);
/* Loads a file, or a folder: a MISP feed when it holds manifest.json (the
 * events it lists are read), otherwise every file in it, recursively, in
 * sorted order. The format is recognised from the content. Bad indicators
 * and unreadable files are reported and counted; returns TR_OK unless the
 * path does not exist (TR_ERR_NOTFOUND), memory ran out (TR_ERR_NOMEM) or
 * the set is already compiled (TR_ERR_ARG). */
tr_status tr_iocset_add_path(tr_iocset *set, const char *path);
/* Loads `len` bytes as if they were the content of file `name`. */
tr_status tr_iocset_add_memory(tr_iocset *set, const char *name, const void *data, size_t len);
/* Builds the matching structures (the substring and regular-expression
 * databases). After it, nothing more can be added. Returns TR_OK or
 * TR_ERR_NOMEM; a pattern the regular-expression engine refuses is reported
 * and its indicator rejected. */
tr_status tr_iocset_compile(tr_iocset *set);
/* SHA-256 (hex) of every indicator text loaded so far, in load order. */
void tr_iocset_digest(const tr_iocset *set, char hex[65]);
/* Indicators loaded; indexes run from 0 to count - 1 in load order. */
size_t tr_iocset_count(const tr_iocset *set);
/* The indicator as a rule: kind TR_RULE_INDICATOR, id (the STIX id, the
 * MISP attribute uuid, or "<file>:<line>"), title ("Indicator ipv4-addr
 * 203.0.113.7 (feed.json)"), level (high unless the source says), tags
 * (STIX labels, MISP tags), path and line, index. Owned by the set, stable
 * until it is destroyed; built on first use (safe from several threads).
 * NULL before tr_iocset_compile, past the end, or when out of memory. */
const tr_rule_info *tr_iocset_indicator(const tr_iocset *set, size_t i);
/* The indicator's type (tr_ioc_type), value as loaded (canonical form; the
 * pattern for TR_IOC_PATTERN), and source; -1 / NULL past the end. */
int tr_iocset_indicator_type(const tr_iocset *set, size_t i);
const char *tr_iocset_indicator_value(const tr_iocset *set, size_t i);
const tr_ioc_source *tr_iocset_indicator_source(const tr_iocset *set, size_t i);
size_t tr_iocset_source_count(const tr_iocset *set);
const tr_ioc_source *tr_iocset_source(const tr_iocset *set, size_t i);
const tr_iocset_stats *tr_iocset_get_stats(const tr_iocset *set);

/* An indicator matcher: one thread's scratch space over a compiled set,
 * which must outlive it. */
typedef struct tr_ioc_matcher tr_ioc_matcher;

tr_status tr_ioc_matcher_create(tr_ioc_matcher **out, const tr_iocset *set);
void tr_ioc_matcher_destroy(tr_ioc_matcher *m);
/* Looks for every indicator in the event, in one pass over its fields, and
 * calls `fn` once per indicator sighted (at most once per event), with
 * `rule` the indicator, `matched_field` the field's name and
 * `matched_value` its value (borrowed for the callback; values longer than
 * TR_IOC_VALUE_MAX bytes are cut there). An indicator with a validity
 * window (STIX valid_from/valid_until) is sighted only in events whose time
 * lies inside it. Returns the number of sightings. Allocates nothing once
 * warm (an indicator's first sighting builds its rule info, once). */
#define TR_IOC_VALUE_MAX 4096
size_t tr_ioc_matcher_event(tr_ioc_matcher *m, const tr_event *ev, tr_detection_fn fn, void *user);

/* A sighting log: what a hunt saw of each indicator — count, first and last
 * time, hosts (the first TR_SIGHTING_MAX_HOSTS, then a count), the first
 * field and value — bounded per indicator, not per sighting. It prints the
 * per-indicator summary and writes the sightings as a STIX 2.1 bundle. One
 * log belongs to one thread; the set must outlive it. */
typedef struct tr_sighting_log tr_sighting_log;

#define TR_SIGHTING_MAX_HOSTS 16

/* One indicator's sightings. Strings are owned by the log. */
typedef struct tr_sighting {
    const tr_rule_info *indicator;
    uint64_t count;         /* events it was sighted in */
    tr_time first, last;    /* TR_TIME_NONE when no sighting had a time */
    const char *const *hosts; /* the first TR_SIGHTING_MAX_HOSTS host names in sorted order
                               * (case ignored), whatever order the sightings came in */
    size_t nhosts;
    uint64_t hosts_more;    /* sightings on the hosts not kept */
    const char *field, *value; /* of the earliest sighting (ties: the smallest value) */
} tr_sighting;

tr_status tr_sighting_log_create(tr_sighting_log **out, const tr_iocset *set);
void tr_sighting_log_destroy(tr_sighting_log *log);
/* Records a detection; those of other kinds than TR_RULE_INDICATOR are
 * ignored. Returns TR_OK or TR_ERR_NOMEM (the sighting is then counted but
 * its host or value may be missing). */
tr_status tr_sighting_log_add(tr_sighting_log *log, const tr_detection *d);
/* The same for a finding; its host is the finding's (tr_event_host). */
tr_status tr_sighting_log_add_finding(tr_sighting_log *log, const tr_finding *f);
/* Adds what `from` recorded to `into` (logs over the same set, e.g. one per
 * hunt thread): counts add up, times widen, hosts join up to the cap, the
 * first field and value stay `into`'s when it has them. Returns TR_OK,
 * TR_ERR_ARG (different sets) or TR_ERR_NOMEM. */
tr_status tr_sighting_log_merge(tr_sighting_log *into, const tr_sighting_log *from);
/* Indicators sighted so far, in order of first sighting. */
size_t tr_sighting_log_count(const tr_sighting_log *log);
/* The k-th indicator sighted; false past the end. */
int tr_sighting_log_get(const tr_sighting_log *log, size_t k, tr_sighting *out);
/* The per-indicator summary, one line per indicator, most sighted first
 * (at most `max` lines, 0: all): count, first and last time, hosts, type,
 * value, source. Returns TR_OK or TR_ERR_IO. */
tr_status tr_sighting_log_write_summary(const tr_sighting_log *log, FILE *out, size_t max);
/* A STIX 2.1 bundle: for each indicator sighted, a `sighting` (count,
 * first_seen, last_seen, where_sighted_refs to an `identity` per host)
 * whose sighting_of_ref is the input indicator's id — STIX indicators are
 * repeated in the bundle, indicators from other formats are written as new
 * `indicator` objects with an equivalent pattern — and an `observed-data`
 * with the observed value as a cyber-observable object. Every reference
 * resolves inside the bundle; ids are `type--UUIDv4`; timestamps RFC 3339
 * UTC. Returns TR_OK, TR_ERR_IO or TR_ERR_NOMEM. */
tr_status tr_sighting_log_write_stix(const tr_sighting_log *log, FILE *out);

/* ---------------------------------------------------------------- the case */

/* A case: the SQLite database a hunt writes into and the questions asked of
 * it (docs/CASE.md has the schema). A hunt given a case (tr_hunt_options.
 * case_store) records each file of evidence (path, size, SHA-256, format,
 * records, time range, status), the hosts, every finding and the run; a
 * later hunt into the same case reads only what is new or grown and adds no
 * finding twice. One case is used from one thread at a time. */
typedef struct tr_case tr_case;

#define TR_CASE_SCHEMA_VERSION 2

/* Opens (create != 0: creates when missing) the case at path. On failure
 * returns TR_ERR_IO, TR_ERR_FORMAT (not a case, or a newer schema) or
 * TR_ERR_NOMEM with the reason in err (errsize bytes, may be 0). */
tr_status tr_case_open(tr_case **out, const char *path, int create, char *err, size_t errsize);
void tr_case_close(tr_case *c);
/* The last error of the case's store, as text ("" when none). */
const char *tr_case_error(const tr_case *c);

/* A host of the case, as `traccia case hosts` shows it. Strings are owned by
 * the list (tr_case_hosts_free). */
typedef struct tr_case_host {
    char *key, *name;           /* tr_host_key, and the longest name seen */
    tr_time first_trace;        /* TR_TIME_NONE: no finding counts as a trace */
    int64_t first_finding;      /* findings.id the first trace rests on (0: none) */
    char *first_rule, *first_title, *first_path; /* that finding: rule id and title, file */
    uint64_t first_record;
    tr_time first_seen, last_seen; /* earliest and latest finding of any level */
    tr_time last_activity;      /* latest finding at or above the trace level */
    int64_t last_finding;       /* findings.id of last_activity */
    int64_t dwell_seconds;      /* last_activity - first_trace; -1 without a trace */
    uint64_t findings;
    uint64_t per_level[TR_LEVEL_CRITICAL + 1];
    char *techniques;           /* the most frequent techniques, "T1505.003 (4), ...", or "" */
} tr_case_host;

typedef struct tr_case_query {
    const char *host;           /* a host key or name; NULL: every host */
    tr_time from, to;           /* TR_TIME_NONE: open */
    int min_level;              /* timeline: findings at or above; 0: any */
    int trace_level;            /* first trace: findings at or above this level count
                                 * (0: medium); below it, low and informational findings
                                 * count only when corroborated (docs/CASE.md) */
} tr_case_query;

/* Per host, sorted by first trace (hosts without a trace last, by name). */
tr_status tr_case_hosts(tr_case *c, const tr_case_query *q, tr_case_host **out, size_t *n);
void tr_case_hosts_free(tr_case_host *hosts, size_t n);

/* The answers of `traccia case`, written to out. `as`: 0 text for people,
 * 1 one JSON document, 2 JSON lines (timeline), 3 CSV (timeline). Return
 * TR_OK, TR_ERR_IO (writing failed), TR_ERR_FORMAT (the case could not be
 * read: tr_case_error says why) or TR_ERR_NOMEM. */
enum { TR_CASE_TEXT = 0, TR_CASE_JSON, TR_CASE_JSONL, TR_CASE_CSV };
tr_status tr_case_write_summary(tr_case *c, const tr_case_query *q, int as, FILE *out);
tr_status tr_case_write_hosts(tr_case *c, const tr_case_query *q, int as, FILE *out);
tr_status tr_case_write_timeline(tr_case *c, const tr_case_query *q, int as, FILE *out);
tr_status tr_case_write_evidence(tr_case *c, const tr_case_query *q, int as, FILE *out);
/* Every problem said about each file of evidence when the case last read
 * it (damage, limits hit, why it was skipped), in path order. */
tr_status tr_case_write_problems(tr_case *c, const tr_case_query *q, int as, FILE *out);

/* ---------------------------------------------------------------- allocation */

/* All library allocations go through these hooks (default: malloc family).
 * Set them before creating any object. Tests use them to fail the Nth
 * allocation and check that every path cleans up. */
typedef struct tr_alloc_hooks {
    void *(*malloc_fn)(size_t size, void *ctx);
    void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
    void (*free_fn)(void *ptr, void *ctx);
    void *ctx;
} tr_alloc_hooks;

/* NULL restores the defaults. */
void tr_alloc_set_hooks(const tr_alloc_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif /* TRACCIA_H */
