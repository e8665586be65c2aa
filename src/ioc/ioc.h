/*
 * ioc.h — the indicator engine's internals, shared by its modules:
 *
 *   ioc_value.c     values: IP addresses and CIDR ranges, domains, URLs,
 *                   hashes, e-mail addresses; refanging; type detection;
 *                   the key hash
 *   ioc_json.c      the bounded JSON document parser
 *   ioc_pattern.c   STIX patterns into expressions over comparisons
 *   ioc_load.c      formats: STIX bundles, MISP events and feeds, lists
 *   ioc_set.c       the set: indicators, the index, compiling, rule infos
 *   ioc_match.c     the per-thread matcher
 *   ioc_sighting.c  the sighting log, its summary and the STIX output
 *
 * The model. An indicator is either a single value of one key kind (lists,
 * MISP: "203.0.113.7" as an IP address) or an expression over comparisons
 * (STIX: [a:b = 'x' AND c:d IN (...)] OR [...]). Every comparison looks at
 * one kind of candidate string taken from event fields — IP addresses,
 * host names, URLs, hashes, file names at the end of paths, ... (the kinds
 * below). The index maps (kind, canonical value) to the indicators that
 * contain it as an "anchor"; a simple indicator's anchor hit is a sighting,
 * a compound expression's anchor hit makes it a candidate that is then
 * evaluated in full on the event (as the Sigma prefilter does for rules).
 *
 * Ownership: the set owns everything here (its arena and heap arrays); a
 * matcher owns its scratch.
 */
#ifndef TR_IOC_IOC_H
#define TR_IOC_IOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sha256.h"
#include "../util/arena.h"
#include "traccia.h"

/* ---------------------------------------------------------------- limits */

#define IOC_MAX_FILE (1024u << 20)     /* bytes of one indicator file */
#define IOC_MAX_VALUE 8192u            /* bytes of one indicator value (a URL, a command line) */
#define IOC_MAX_PATTERN (64u << 10)    /* bytes of one STIX pattern */
#define IOC_MAX_COMPARISONS 256u       /* comparisons in one STIX pattern */
#define IOC_MAX_PATTERN_DEPTH 32u      /* brackets and parentheses in one STIX pattern */
#define IOC_MAX_IN_VALUES 4096u        /* values of one IN (...) list */
#define IOC_MAX_INDICATORS (64u << 20) /* indicators in one set */
#define IOC_MAX_WALK_DEPTH 32u         /* folder depth when a folder is given */
#define IOC_MAX_EVENT_VALUE 4096u      /* event values longer than this are only searched by
                                        * field role (command lines, user agents), not by shape */
#define IOC_MAX_SHAPE_PROSE 260u       /* values longer than this (MAX_PATH) with white space
                                        * in them are prose, not searched by shape */

/* ---------------------------------------------------------------- kinds */

/* What a key is: which candidate strings of an event it is compared with. */
enum ioc_kind {
    K_IP = 0,   /* any field whose value is an address (binary key: family, prefix, address) */
    K_IP_SRC,   /* source-address fields only (STIX network-traffic:src_ref) */
    K_IP_DST,   /* destination-address fields only */
    K_DOMAIN,   /* host names (fields, URL hosts, e-mail domains); the key matches itself and
                 * every name under it */
    K_URL,      /* URLs, canonical: host[:port]/path[?query], scheme and fragment dropped */
    K_HASH,     /* hex digests, 32/40/64 digits */
    K_FILENAME, /* the last component of a path, or a bare file name */
    K_PATH,     /* a whole path */
    K_EMAIL,    /* e-mail addresses */
    K_USER,     /* user-name fields (also the part after DOMAIN\) */
    K_CMDLINE,  /* command-line fields */
    K_UA,       /* user-agent fields */
    K_PORT_SRC, /* source-port fields (decimal text) */
    K_PORT_DST, /* destination-port fields */
    K_PROTO,    /* protocol fields; never an anchor */
    K_DIR,      /* the folder part of a path (STIX file:parent_directory_ref.path) */
    K_COUNT
};

/* Kinds compared ignoring ASCII case (their keys are stored lower-cased). */
#define IOC_CI_KINDS                                                                               \
    ((1u << K_DOMAIN) | (1u << K_HASH) | (1u << K_FILENAME) | (1u << K_PATH) | (1u << K_EMAIL) |   \
     (1u << K_USER) | (1u << K_PROTO) | (1u << K_DIR))
#define IOC_IP_KINDS ((1u << K_IP) | (1u << K_IP_SRC) | (1u << K_IP_DST))

enum ioc_op {
    OP_EQ = 0,   /* equality (IN is a list of them); CIDR containment, domain suffix */
    OP_LIKE,     /* SQL LIKE: % any run, _ one character */
    OP_MATCHES,  /* PCRE regular expression, searched */
    OP_CONTAINS  /* substring, ignoring ASCII case (user-agent, command-line lists) */
};

/* ---------------------------------------------------------------- values */

typedef struct ioc_ip {
    uint8_t family;   /* 4 or 6 */
    uint8_t prefix;   /* 0..32 / 0..128; 32/128 for a single address */
    uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes; host bits zero */
} ioc_ip;

/* Parses an address or (allow_prefix) a CIDR range; strict textual forms.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4. */
bool tr_ioc_parse_ip(const char *s, size_t n, ioc_ip *out, bool allow_prefix);
/* An address as it may appear in an event value: also "a.b.c.d:port",
 * "[v6]:port" and "v6%zone". */
bool tr_ioc_parse_event_ip(const char *s, size_t n, ioc_ip *out);
/* Keeps the first `prefix` bits of ip (prefix <= its family's width). */
void tr_ioc_ip_mask(ioc_ip *ip, unsigned prefix);
bool tr_ioc_ip_contains(const ioc_ip *net, const ioc_ip *addr);
/* Writes the address (and /prefix when not a single address); returns the length. */
size_t tr_ioc_ip_format(const ioc_ip *ip, char *out, size_t cap);

bool tr_ioc_is_hex(const char *s, size_t n);
/* A syntactically valid DNS name of at least two labels whose last label
 * is not numeric; ASCII case ignored; no trailing dot. */
bool tr_ioc_domain_valid(const char *s, size_t n);
/* A plausible e-mail address: local@valid-domain. */
bool tr_ioc_email_valid(const char *s, size_t n);

/* The parts of a URL "scheme://[user@]host[:port][/path][?query][#frag]". */
typedef struct ioc_url {
    const char *host;
    size_t host_len;
    const char *port; /* NULL when none */
    size_t port_len;
    const char *path; /* from '/' up to '?' or '#'; NULL when none */
    size_t path_len;
    const char *query; /* after '?', up to '#'; NULL when none */
    size_t query_len;
    size_t end;        /* bytes of s the URL spans */
    bool default_port; /* port equals the scheme's default */
} ioc_url;

/* Splits s (which must begin with a scheme) into *u; false when it is not
 * a URL with a host. */
bool tr_ioc_url_split(const char *s, size_t n, ioc_url *u);
/* The canonical key of a split URL: lower-cased host, ":port" unless the
 * default, the path ("/" when none), "?query" when any. Returns the length
 * written (0 when it does not fit in cap). */
size_t tr_ioc_url_canon(const ioc_url *u, char *out, size_t cap);

/* Undoes defanging (hxxp, [.], (.), {.}, [dot], [:], [://], [at], [@]) into
 * out, which must hold n bytes; returns the new length. */
size_t tr_ioc_refang(const char *s, size_t n, char *out);

/* A value's type as detected for plain lists (tr_ioc_type), or -1. For
 * TR_IOC_IPV4/6 *ip holds the address or range. */
int tr_ioc_detect_type(const char *s, size_t n, ioc_ip *ip);
/* The common file extensions that make "name.ext" a file name, not a domain. */
bool tr_ioc_file_extension(const char *ext, size_t n);

/* ---------------------------------------------------------------- key hash */

/* A 64-bit hash of a key of `kind` (case folded for IOC_CI_KINDS), eight
 * bytes at a time; never 0. */
uint64_t tr_ioc_key_hash(int kind, const char *s, size_t n);
/* A 64-bit hash of bytes as they are, from a seed (for caches). */
uint64_t tr_ioc_bytes_hash(uint64_t seed, const char *s, size_t n);
/* The key bytes of an IP range for the index: family, prefix, address. */
size_t tr_ioc_ip_key(const ioc_ip *ip, char out[18]);

/* ---------------------------------------------------------------- expressions */

typedef struct ioc_val {
    const char *s;   /* canonical text, NUL-terminated (IP kinds: as written) */
    uint32_t len;
    ioc_ip ip;       /* IP kinds */
} ioc_val;

typedef struct ioc_cmp {
    uint8_t kind;    /* enum ioc_kind */
    uint8_t op;      /* enum ioc_op */
    uint32_t nvalues;
    ioc_val *values; /* OP_EQ: one or more (IN); others: exactly one, the pattern */
    void *re;        /* OP_MATCHES: the compiled pcre2_code */
} ioc_cmp;

enum { E_CMP = 0, E_AND, E_OR, E_TRUE /* always true (network-traffic:dst_ref.type = ...) */ };

typedef struct ioc_expr {
    uint8_t type;               /* E_* */
    uint32_t n;                 /* children of AND/OR */
    ioc_cmp *cmp;               /* E_CMP */
    struct ioc_expr **kids;     /* E_AND, E_OR */
} ioc_expr;

/* Parses a STIX 2.1 pattern. Observations joined by OR become one OR: on a
 * single event [A] OR [B] and [A OR B] mean the same. Expressions live in
 * `arena`; compiled regular expressions are handed to keep_re (which owns
 * them from then on, also on failure). Returns TR_OK, TR_ERR_FORMAT (bad
 * syntax or value: err says where and why), TR_ERR_UNSUPPORTED (valid STIX
 * outside what traccia matches: err says what), TR_ERR_LIMIT or
 * TR_ERR_NOMEM. */
int tr_ioc_pattern_parse(const char *text, size_t len, tr_arena *arena, ioc_expr **out, char *err, size_t errcap,
                      int (*keep_re)(void *ctx, void *re), void *ctx);

/* SQL LIKE of s against pattern p (% and _), ASCII case folded when ci. */
bool tr_ioc_like(const char *p, size_t pn, const char *s, size_t sn, bool ci);

/* ---------------------------------------------------------------- the set */

/* STIX properties kept to repeat the indicator in the output bundle. */
typedef struct ioc_stix {
    const char *pattern;                                      /* as written */
    const char *created, *modified, *valid_from, *valid_until; /* as written; any may be NULL */
} ioc_stix;

#define IND_DIRECT 0x01u /* an anchor hit is a sighting (no evaluation) */
#define IND_WINDOW 0x02u /* valid_from/valid_until restrict it */
#define IND_DEAD 0x80u   /* dropped after loading (its pattern could not be compiled): never reported */

typedef struct ioc_ind {
    const char *id;        /* NULL: "<path>:<line>" */
    const char *value;     /* display value: canonical key, or the STIX pattern */
    const char *name;      /* STIX name, MISP comment; may be NULL */
    const ioc_stix *stix;  /* STIX inputs; NULL otherwise */
    const ioc_expr *expr;  /* STIX; NULL for a single value (kind, value) */
    const char *const *tags;
    tr_time valid_from, valid_until; /* TR_TIME_NONE: open */
    uint32_t source;       /* index into sources */
    uint32_t line;
    uint32_t ntags;
    uint8_t type;          /* tr_ioc_type */
    uint8_t kind;          /* single value: its key kind */
    uint8_t level;         /* tr_level */
    uint8_t flags;         /* IND_* */
} ioc_ind;

/* One distinct key of the index and the chain of indicators anchored on it. */
typedef struct ioc_entry {
    uint64_t hash;
    const char *key;  /* in the set's arena */
    uint32_t len;
    uint32_t head;    /* first atom + 1; 0: none */
    uint8_t kind;
} ioc_entry;

typedef struct ioc_atom {
    uint32_t ind;
    uint32_t next;    /* next atom + 1; 0: end */
} ioc_atom;

/* A pattern for the substring / regular-expression database of one kind. */
typedef struct ioc_hspat {
    const char *expr;  /* Vectorscan expression (NUL-terminated, in the arena) */
    unsigned flags;
    uint32_t head;     /* atom chain, as for entries */
} ioc_hspat;

typedef struct ioc_hsdb {
    void *db;          /* hs_database_t */
    ioc_hspat *pats;
    size_t n, cap;
} ioc_hsdb;

struct tr_iocset {
    tr_arena arena;
    tr_sha256 digest;         /* every text loaded, in order (tr_iocset_digest) */           /* indicators' strings, expressions, keys */
    tr_diag_fn on_diag;
    void *user;
    bool compiled;
    /* indicators */
    ioc_ind *inds;
    size_t ninds, inds_cap;
    /* sources: one per file */
    tr_ioc_source *sources;
    size_t nsources, sources_cap;
    /* the index: open addressing over entries, slots hold (tag << 32 | entry + 1) */
    ioc_entry *entries;
    size_t nentries, entries_cap;
    uint64_t *slots;
    size_t slot_mask;         /* slots - 1; 0 before the first insert */
    ioc_atom *atoms;
    size_t natoms, atoms_cap;
    uint32_t kinds;           /* bit per kind with an exact key or a database */
    /* IP prefix lengths present, per IP kind and family, longest first */
    uint8_t plen[3][2][129];
    uint8_t nplen[3][2];
    /* one bit per IPv4 /24 that holds a key of prefix 24..32 (any IP kind):
     * an address whose /24 is clear skips those lengths without hashing;
     * NULL until such a key exists (2 MiB) */
    uint64_t *v4map24;
    /* substring / regular-expression databases by kind */
    ioc_hsdb hs[K_COUNT];
    /* compiled regular expressions (pcre2_code), freed with the set */
    void **regexes;
    size_t nregexes, regexes_cap;
    unsigned feed_depth;      /* MISP feeds being read: a feed inside a feed is not followed */
    /* rule infos, built on first use */
    _Atomic(tr_rule_info *) *infos;
    tr_iocset_stats stats;
};

/* Reports a problem with `path` at `where` (may be ""). */
void tr_ioc_diag(tr_iocset *set, int severity, const char *path, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Adds a source and returns its index, or -1 when out of memory. */
int tr_ioc_source_add(tr_iocset *set, const char *path, int format);

/* A new indicator (zeroed but for source, line, level high, windows open);
 * NULL when out of memory or past IOC_MAX_INDICATORS (reported). Its index
 * is set->ninds - 1. */
ioc_ind *tr_ioc_ind_new(tr_iocset *set, uint32_t source, uint32_t line);
/* Drops the indicator last made by tr_ioc_ind_new (it failed to load). */
void tr_ioc_ind_drop(tr_iocset *set);

/* Anchors indicator `ind` on key (kind, s, n). For single-value
 * indicators, *dup is set when the same source already anchored the same
 * key (the caller then drops the indicator). Returns TR_OK or TR_ERR_NOMEM. */
int tr_ioc_index_add(tr_iocset *set, uint32_t ind, int kind, const char *s, size_t n, bool *dup);
/* Anchors the indicator on a pattern of kind's database. */
int tr_ioc_hs_add(tr_iocset *set, uint32_t ind, int kind, const char *expr, unsigned flags);
/* Anchors an indicator's expression: chooses its anchors and adds them,
 * sets IND_DIRECT. TR_ERR_UNSUPPORTED when no comparison can anchor it. */
int tr_ioc_anchor_expr(tr_iocset *set, uint32_t ind, const ioc_expr *e, char *why, size_t whycap);
/* Registers a compiled regular expression for freeing with the set. */
int tr_ioc_keep_regex(void *set, void *re);

/* Loads one file's bytes (the format is detected); `path` names it. */
int tr_ioc_load_buffer(tr_iocset *set, const char *path, const char *data, size_t len);
/* Loads a MISP feed folder (dir holds manifest.json). */
int tr_ioc_load_misp_feed(tr_iocset *set, const char *dir);

/* The canonical key of a single value of tr_ioc_type `type` into out
 * (IOC_MAX_VALUE + 32 bytes): its kind and length; 0 when the value is not
 * valid for the type (why says so). */
size_t tr_ioc_canon_value(int type, const char *s, size_t n, char *out, int *kind, const char **why);

#endif
