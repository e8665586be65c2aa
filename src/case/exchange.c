/*
 * exchange.c — the Exchange compromise report (tr_exchange_report): what
 * `traccia exchange` prints, in the shape responders know from Microsoft's
 * Test-ProxyLogon, built from the detections of the rules (the built-in
 * pack, and any rules the caller added) on the evidence of Exchange servers.
 *
 * What goes where. Every detection lands in sections:
 *   - one per CVE its rule names in a `cve.YYYY-NNNNN` tag (a few well-known
 *     SigmaHQ rules that name none are mapped by id, see rule_map[]); the
 *     ProxyLogon, ProxyShell, ProxyNotShell and OWASSRF CVEs are always
 *     listed, other CVEs as they come;
 *   - one per post-exploitation activity its ATT&CK tags name: web shells
 *     (T1505.003), mailbox theft (T1114, and the export-request removals by
 *     id), LSASS dumps (T1003), staging (T1560, T1074);
 *   - "exploit tooling" when it names T1190 but no CVE and no activity
 *     (exploit user agents, crawlers posting), "other" when nothing at all.
 * Several detections of one event (several rules on one log line) are one
 * hit per section. A hit's outcome comes from the request's status
 * (sc-status, HttpStatus): below 400 succeeded, else failed; an event
 * without one (a cmdlet audited, a process started) is "observed", which
 * counts as succeeded: the thing happened.
 *
 * Servers: the program's one host identity (tr_event_host, host.c): an
 * event's Computer, else its log's own server field, else the <server>
 * folder of the copied layout, else its s-ip; names merged on their first
 * DNS label, ignoring case (EXCH01 and EXCH01.corp.local are one server; IP
 * addresses stay whole), the longest kept. In a hunt the report is a sink
 * (sink_exchange.c): events arrive as per-file counts per server
 * (tr_exchange_report_events), findings one by one.
 * Verdicts, per server: compromised when a rule of level high or critical
 * hit with a succeeded or observed outcome in a CVE, web shell, mailbox
 * theft, LSASS dump or staging section; attacked when the hits are in CVE,
 * web shell or exploit tooling sections but none qualifies; suspicious when
 * only other hits; no sign without hits.
 *
 * Bounds. Everything kept is copied, and every table has a cap
 * (tr_exchange_options): evidence lines per section keep the best ones
 * (succeeded or observed before failed, then earliest), client IPs per
 * section the first distinct ones, and what a cap leaves out is counted
 * and printed as "... and N more". Lookups are linear over those small
 * tables with a hash compared first: detections are few next to events,
 * and events come counted per file and server.
 *
 * Errors: allocation failures make the call return TR_ERR_NOMEM and mark
 * the report incomplete (it says so when written); it never aborts.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/hash.h"
#include "../util/strbuf.h"
#include "traccia.h"

/* ---------------------------------------------------------------- limits */

#define EXR_MAX_SECTIONS 64u       /* known sections plus other CVEs met; a uint64_t mask covers them */
#define EXR_MAX_RULES 256u         /* distinct rules listed per section */
#define EXR_LINE_MAX 400u          /* bytes of an evidence line kept; the rest is cut with "..." */
#define EXR_PATH_MAX 512u          /* bytes of a file path named by a log */
#define EXR_AGENTS 3u              /* user agents kept per client */
#define EXR_TEXT_IPS 10u           /* client IPs printed per section in the text report */
#define EXR_TEXT_ROWS 50u          /* files, web shell requests, clients printed in the text report */

enum { KIND_CVE = 0, KIND_ACTIVITY };

enum { OUT_OBSERVED = 0, OUT_SUCCEEDED, OUT_FAILED };
static const char *const outcome_names[] = {"observed", "succeeded", "failed"};

/* The sections every report lists, in order. Activity ids are stable: the
 * JSON schema names them. */
typedef struct section_def {
    const char *id, *title;
    int kind;
} section_def;

static const section_def known_sections[] = {
    {"CVE-2021-26855", "ProxyLogon: pre-authentication server-side request forgery", KIND_CVE},
    {"CVE-2021-26857", "ProxyLogon: Unified Messaging deserialisation", KIND_CVE},
    {"CVE-2021-26858", "ProxyLogon: file written through the OAB generator", KIND_CVE},
    {"CVE-2021-27065", "ProxyLogon: file written through an ECP virtual directory", KIND_CVE},
    {"CVE-2021-34473", "ProxyShell: pre-authentication path confusion", KIND_CVE},
    {"CVE-2021-34523", "ProxyShell: PowerShell back-end elevation of privilege", KIND_CVE},
    {"CVE-2021-31207", "ProxyShell: file written through a mailbox export", KIND_CVE},
    {"CVE-2022-41040", "ProxyNotShell: autodiscover server-side request forgery", KIND_CVE},
    {"CVE-2022-41080", "OWASSRF: OWA server-side request forgery", KIND_CVE},
    {"CVE-2022-41082", "ProxyNotShell / OWASSRF: remote PowerShell code execution", KIND_CVE},
    {"webshell", "Web shells", KIND_ACTIVITY},
    {"mailbox-theft", "Mailbox theft", KIND_ACTIVITY},
    {"credential-dumping", "LSASS memory dumps", KIND_ACTIVITY},
    {"staging", "Staging", KIND_ACTIVITY},
    {"exploit-tooling", "Exploit tooling and scanners (no CVE named)", KIND_ACTIVITY},
    {"other", "Other detections", KIND_ACTIVITY},
};
#define NKNOWN (sizeof known_sections / sizeof known_sections[0])
enum {
    SEC_WEBSHELL = 10,
    SEC_MAILBOX,
    SEC_CREDS,
    SEC_STAGING,
    SEC_TOOLING,
    SEC_OTHER,
};

/* Rules that name no CVE or activity in their tags but whose subject is
 * known: SigmaHQ's Exchange rules, and the project's own removals of
 * export requests (T1070 alone would say "indicator removal" of anything). */
typedef struct rule_map_entry {
    const char *id;
    const char *sections[2]; /* section ids; NULL-terminated when fewer */
} rule_map_entry;

static const rule_map_entry rule_map[] = {
    {"67bce556-312f-4c81-9162-c3c9ff2599b2", {"CVE-2021-26855", NULL}},        /* SigmaHQ: HAFNIUM */
    {"23eee45e-933b-49f9-ae1b-df706d2d52ef", {"CVE-2021-34473", "CVE-2021-34523"}}, /* ProxyShell pattern */
    {"992be1eb-e5da-437e-9a54-6d13b57bb4d8", {"CVE-2021-34473", "CVE-2021-34523"}}, /* ProxyShell success */
    {"181f49fa-0b21-4665-a98c-a57025ebb8c7", {"CVE-2022-41080", "CVE-2022-41082"}}, /* OWASSRF */
    {"92d78c63-5a5c-4c40-9b60-463810ffb082", {"CVE-2022-41080", "CVE-2022-41082"}}, /* OWASSRF PoC */
    {"550d3350-bb8a-4ff3-9533-2ba533f4a1c0", {"CVE-2021-27065", NULL}},        /* OabVirtualDirectory */
    {"9db37458-4df2-46a5-95ab-307e7f29e675", {"CVE-2021-27065", NULL}},        /* Set-OabVD ExternalUrl */
    {"516376b4-05cd-4122-bae0-ad7641c38d48", {"mailbox-theft", NULL}},         /* export to web server */
    {"09570ae5-889e-43ea-aac0-0e1221fb3d95", {"mailbox-theft", NULL}},         /* removal of that export */
    {"c8da5592-616b-421c-a35d-7334165a1291", {"mailbox-theft", NULL}},         /* built-in removals */
    {"bbf73608-6d5d-4d74-b0b3-e1859f2be497", {"mailbox-theft", NULL}},
    {"b7ec7fc7-16e8-4e2a-95a0-16b2c117931d", {"mailbox-theft", NULL}},
};

/* ---------------------------------------------------------------- state */

typedef struct exr_ip {
    char *ip;
    uint32_t hash;
    uint64_t hits, succeeded;
    tr_time first, last;
} exr_ip;

typedef struct exr_rule {
    const void *key; /* the tr_rule_info, compared only */
    char *id, *title;
    int level;
    uint64_t hits;
} exr_rule;

typedef struct exr_evidence {
    tr_time time;
    int outcome;
    int level;
    size_t server; /* index, or SIZE_MAX */
    char *ip;
    char *where;   /* "path:line" */
    char *text;    /* the shortened line */
    char *rule;    /* title */
} exr_evidence;

typedef struct exr_section {
    char id[32];
    const char *title; /* static, or NULL for a CVE not in known_sections */
    int kind;
    uint64_t hits, by_outcome[3], strong;
    tr_time first, last;
    uint64_t last_key;  /* the event of the latest hit: one hit per event */
    exr_ip *ips;
    size_t nips;
    uint64_t ips_left_out; /* hits whose IP was not kept (cap) */
    exr_rule *rules;
    size_t nrules;
    exr_evidence *ev;   /* max_evidence slots */
    size_t nev;
    uint64_t ev_left_out;
} exr_section;

enum { SRC_IIS = 0, SRC_HTTPPROXY, SRC_ECP, SRC_OAB, SRC_EXLOG, SRC_EVENTLOG, SRC_OTHER, NSRC };
static const char *const source_names[NSRC] = {"iis",           "httpproxy",  "ecp",  "oab_generator",
                                               "exchange_other", "event_logs", "other"};
static const char *const source_titles[NSRC] = {"IIS",     "HttpProxy",  "ECP", "OAB generator",
                                                "other Exchange logs", "event logs", "other"};

typedef struct exr_server {
    char key[64];      /* first DNS label upper-cased, or the whole IP address */
    char *name;        /* the longest name seen for it */
    uint64_t events, by_source[NSRC], hits;
    tr_time first, last;
    uint64_t sec_hits[EXR_MAX_SECTIONS], sec_strong[EXR_MAX_SECTIONS];
    int verdict;
    char reason[512];
} exr_server;

typedef struct exr_file {
    char *path;
    const char *how; /* static */
    size_t server;
    uint32_t hash;
    uint64_t hits;
    tr_time first, last;
    char *where;
} exr_file;

typedef struct exr_shell {
    char *url, *ip, *agent, *user, *where;
    size_t server;
    uint32_t hash;
    uint64_t hits, answered; /* answered: status below 400 */
    long last_status;
    tr_time first, last;
} exr_shell;

typedef struct exr_client {
    char *ip;
    uint32_t hash;
    uint64_t hits, succeeded, sections;
    tr_time first, last;
    char *agents[EXR_AGENTS];
    size_t nagents;
} exr_client;

struct tr_exchange_report {
    tr_exchange_options opt;
    exr_section sec[EXR_MAX_SECTIONS];
    size_t nsec;
    uint64_t sections_left_out; /* hits of CVEs past the section cap */
    exr_server *servers;
    size_t nservers;
    uint64_t servers_left_out;  /* events of servers past the cap */
    exr_file *files;
    size_t nfiles;
    uint64_t files_left_out;
    exr_shell *shells;
    size_t nshells;
    uint64_t shells_left_out;
    exr_client *clients;
    size_t nclients;
    uint64_t clients_left_out;
    uint64_t detections, hits, events;
    tr_time first, last;        /* of the hits */
    uint64_t last_event_key;    /* the event of the latest detection */
    uint64_t serial;            /* keys for detections without an event */
    /* the previous event's file and Computer, so that events of one file
     * or one computer cost one compare */
    bool have_input;
    tr_scan_stats input;
    bool incomplete;            /* an allocation failed: something is missing */
};

/* ---------------------------------------------------------------- small helpers */

static uint32_t hash_str(const char *s, size_t n) { return tr_hash_continue(TR_HASH_SEED, s, n); }

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    return an == bn && tr_name_equal(a, b, an);
}

static bool iends(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && tr_name_equal(s + n - k, suffix, k);
}

static const char *icontains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k && i + k <= n; i++)
        if (tr_name_equal(s + i, needle, k))
            return s + i;
    return NULL;
}

static void time_min_max(tr_time t, tr_time *first, tr_time *last)
{
    if (t == TR_TIME_NONE)
        return;
    if (*first == TR_TIME_NONE || t < *first)
        *first = t;
    if (*last == TR_TIME_NONE || t > *last)
        *last = t;
}

/* Text of a scalar field, or NULL (absent, null, a list). */
static const char *field(const tr_event *ev, const char *name, size_t *len)
{
    if (!ev)
        return NULL;
    const tr_field *f = tr_event_get(ev, name, strlen(name));
    if (!f || !f->value.str || f->value.type == TR_LIST || f->value.type == TR_NULL || f->value.len == 0)
        return NULL;
    *len = f->value.len;
    return f->value.str;
}

static const char *first_field(const tr_event *ev, const char *const *names, size_t *len)
{
    for (; *names; names++) {
        const char *s = field(ev, *names, len);
        if (s)
            return s;
    }
    return NULL;
}

static const char *const ip_fields[] = {"c-ip", "ClientIpAddress", "ClientIp", "IpAddress", NULL};
static const char *const agent_fields[] = {"cs-user-agent", "UserAgent", NULL};
static const char *const stem_fields[] = {"cs-uri-stem", "UrlStem", NULL};
static const char *const status_fields[] = {"sc-status", "HttpStatus", NULL};
static const char *const user_fields[] = {"cs-username", "AuthenticatedUser", NULL};

static long status_of(const tr_event *ev)
{
    size_t n;
    const char *s = first_field(ev, status_fields, &n);
    if (!s || n > 6)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int outcome_of(const tr_event *ev)
{
    long st = status_of(ev);
    if (st < 0)
        return OUT_OBSERVED;
    return st < 400 ? OUT_SUCCEEDED : OUT_FAILED;
}

/* The client IP of a request; the first address of a list ("a, b"). */
static const char *client_ip(const tr_event *ev, size_t *len)
{
    const char *s = first_field(ev, ip_fields, len);
    if (!s)
        return NULL;
    size_t n = 0;
    while (n < *len && s[n] != ',' && s[n] != ' ' && s[n] != ';')
        n++;
    if (n == 0 || (n == 1 && s[0] == '-'))
        return NULL;
    *len = n;
    return s;
}

static char *dup_n(tr_exchange_report *r, const char *s, size_t n)
{
    char *c = tr_strndup(s ? s : "", s ? n : 0);
    if (!c)
        r->incomplete = true;
    return c;
}

/* Grows *arr (of elements of size sz) to hold one more than *n, up to cap.
 * Returns the new slot (zeroed) or NULL when at the cap or out of memory. */
static void *grow_one(tr_exchange_report *r, void **arr, size_t *n, size_t sz, size_t cap)
{
    if (*n >= cap)
        return NULL;
    /* the capacity is 8, then doubles whenever a power of two fills up */
    if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0)) {
        size_t want = *n == 0 ? 8 : *n * 2;
        if (want > cap)
            want = cap;
        void *p = tr_realloc(*arr, want * sz);
        if (!p) {
            r->incomplete = true;
            return NULL;
        }
        *arr = p;
    }
    char *slot = (char *)*arr + *n * sz;
    memset(slot, 0, sz);
    (*n)++;
    return slot;
}

/* ---------------------------------------------------------------- create / destroy */

static void section_init(exr_section *s, const char *id, const char *title, int kind)
{
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    s->title = title;
    s->kind = kind;
    s->first = s->last = TR_TIME_NONE;
    s->last_key = 0;
}

tr_status tr_exchange_report_create(tr_exchange_report **out, const tr_exchange_options *opts)
{
    *out = NULL;
    tr_exchange_report *r = tr_calloc(1, sizeof *r);
    if (!r)
        return TR_ERR_NOMEM;
    if (opts)
        r->opt = *opts;
    if (!r->opt.max_evidence)
        r->opt.max_evidence = 10;
    if (!r->opt.max_ips)
        r->opt.max_ips = 256;
    if (!r->opt.max_items)
        r->opt.max_items = 1024;
    for (size_t i = 0; i < NKNOWN; i++)
        section_init(&r->sec[i], known_sections[i].id, known_sections[i].title, known_sections[i].kind);
    r->nsec = NKNOWN;
    for (size_t i = 0; i < r->nsec; i++) {
        r->sec[i].ev = tr_calloc(r->opt.max_evidence, sizeof *r->sec[i].ev);
        if (!r->sec[i].ev) {
            tr_exchange_report_destroy(r);
            return TR_ERR_NOMEM;
        }
    }
    r->first = r->last = TR_TIME_NONE;
    *out = r;
    return TR_OK;
}

static void evidence_free(exr_evidence *e)
{
    tr_free(e->ip);
    tr_free(e->where);
    tr_free(e->text);
    tr_free(e->rule);
    memset(e, 0, sizeof *e);
}

void tr_exchange_report_destroy(tr_exchange_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsec; i++) {
        exr_section *s = &r->sec[i];
        for (size_t k = 0; k < s->nips; k++)
            tr_free(s->ips[k].ip);
        tr_free(s->ips);
        for (size_t k = 0; k < s->nrules; k++) {
            tr_free(s->rules[k].id);
            tr_free(s->rules[k].title);
        }
        tr_free(s->rules);
        if (s->ev)
            for (size_t k = 0; k < s->nev; k++)
                evidence_free(&s->ev[k]);
        tr_free(s->ev);
    }
    for (size_t i = 0; i < r->nservers; i++)
        tr_free(r->servers[i].name);
    tr_free(r->servers);
    for (size_t i = 0; i < r->nfiles; i++) {
        tr_free(r->files[i].path);
        tr_free(r->files[i].where);
    }
    tr_free(r->files);
    for (size_t i = 0; i < r->nshells; i++) {
        exr_shell *w = &r->shells[i];
        tr_free(w->url);
        tr_free(w->ip);
        tr_free(w->agent);
        tr_free(w->user);
        tr_free(w->where);
    }
    tr_free(r->shells);
    for (size_t i = 0; i < r->nclients; i++) {
        tr_free(r->clients[i].ip);
        for (size_t k = 0; k < r->clients[i].nagents; k++)
            tr_free(r->clients[i].agents[k]);
    }
    tr_free(r->clients);
    tr_free(r);
}

void tr_exchange_report_set_input(tr_exchange_report *r, const tr_scan_stats *s)
{
    if (!s)
        return;
    r->input = *s;
    r->have_input = true;
}

/* ---------------------------------------------------------------- servers */

/* The index of the server named s (created when new), or SIZE_MAX. */
static size_t server_get(tr_exchange_report *r, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\\'))
        s++, n--;
    if (!n)
        return SIZE_MAX;
    char key[TR_HOST_KEY_MAX];
    if (!tr_host_key(s, n, key))
        return SIZE_MAX;
    for (size_t i = 0; i < r->nservers; i++) {
        exr_server *sv = &r->servers[i];
        if (strcmp(sv->key, key) == 0) {
            if (n > strlen(sv->name) && n < 256) { /* the longest form: the FQDN */
                char *name = dup_n(r, s, n);
                if (name) {
                    tr_free(sv->name);
                    sv->name = name;
                }
            }
            return i;
        }
    }
    exr_server *sv = grow_one(r, (void **)&r->servers, &r->nservers, sizeof *sv, r->opt.max_items);
    if (!sv)
        return SIZE_MAX;
    memcpy(sv->key, key, sizeof key);
    sv->name = dup_n(r, s, n < 255 ? n : 255);
    if (!sv->name) {
        r->nservers--;
        return SIZE_MAX;
    }
    sv->first = sv->last = TR_TIME_NONE;
    return r->nservers - 1;
}

/* The server of an event (tr_event_host, the program's one host identity),
 * or SIZE_MAX when nothing names it. */
static size_t server_of(tr_exchange_report *r, const tr_event *ev)
{
    char key[TR_HOST_KEY_MAX];
    const char *name;
    size_t n;
    tr_event_host(ev, key, &name, &n);
    if (strcmp(key, TR_HOST_UNKNOWN) == 0)
        return SIZE_MAX;
    return server_get(r, name, n);
}

/* The kind of evidence of a reader's format and the event's LogType. */
static int source_of(const char *fmt, const char *t, size_t n)
{
    if (!fmt)
        return SRC_OTHER;
    if (strcmp(fmt, "w3c") == 0)
        return SRC_IIS;
    if (strcmp(fmt, "json") == 0 || strcmp(fmt, "evtx") == 0)
        return SRC_EVENTLOG;
    if (strcmp(fmt, "exchange-log") != 0)
        return SRC_OTHER;
    if (!t)
        return SRC_EXLOG;
    if (icontains(t, n, "HttpProxy"))
        return SRC_HTTPPROXY;
    if (n >= 3 && tr_name_equal(t, "ECP", 3))
        return SRC_ECP;
    if (icontains(t, n, "OAB"))
        return SRC_OAB;
    return SRC_EXLOG;
}

tr_status tr_exchange_report_events(tr_exchange_report *r, const char *host, size_t host_len, const char *format,
                                    const char *channel, size_t channel_len, uint64_t count, tr_time first,
                                    tr_time last)
{
    r->events += count;
    char key[TR_HOST_KEY_MAX];
    size_t i = host && tr_host_key(host, host_len, key) && strcmp(key, TR_HOST_UNKNOWN) != 0
                   ? server_get(r, host, host_len)
                   : SIZE_MAX;
    if (i == SIZE_MAX) {
        if (r->nservers >= r->opt.max_items)
            r->servers_left_out += count;
        return r->incomplete ? TR_ERR_NOMEM : TR_OK;
    }
    exr_server *sv = &r->servers[i];
    sv->events += count;
    /* the format's own kind of evidence: exchange logs name theirs in LogType */
    sv->by_source[source_of(format, format && strcmp(format, "exchange-log") == 0 ? channel : NULL,
                            channel_len)] += count;
    time_min_max(first, &sv->first, &sv->last);
    time_min_max(last, &sv->first, &sv->last);
    return r->incomplete ? TR_ERR_NOMEM : TR_OK;
}

tr_status tr_exchange_report_event(tr_exchange_report *r, const tr_event *ev)
{
    char key[TR_HOST_KEY_MAX];
    const char *name, *t = NULL;
    size_t n, tn = 0;
    tr_event_host(ev, key, &name, &n);
    t = field(ev, "LogType", &tn);
    tr_time when = tr_event_time(ev);
    return tr_exchange_report_events(r, name, n, tr_event_origin(ev)->format, t, tn, 1, when, when);
}

/* ---------------------------------------------------------------- verdicts */

static bool strong_section(const exr_section *s, size_t i)
{
    return s->kind == KIND_CVE || i == SEC_WEBSHELL || i == SEC_MAILBOX || i == SEC_CREDS || i == SEC_STAGING;
}

static bool attack_section(const exr_section *s, size_t i)
{
    return s->kind == KIND_CVE || i == SEC_WEBSHELL || i == SEC_TOOLING;
}

static const char *label_of(const tr_exchange_report *r, size_t i)
{
    static const char *const labels[] = {"web shells", "mailbox theft", "LSASS dumps", "staging",
                                         "exploit tooling", "other detections"};
    if (r->sec[i].kind == KIND_CVE)
        return r->sec[i].id;
    return i >= SEC_WEBSHELL && i <= SEC_OTHER ? labels[i - SEC_WEBSHELL] : r->sec[i].id;
}

static void update_verdict(tr_exchange_report *r, exr_server *sv)
{
    int v = TR_EXCHANGE_NO_SIGN;
    for (size_t i = 0; i < r->nsec; i++) {
        if (!sv->sec_hits[i])
            continue;
        int w = sv->sec_strong[i] && strong_section(&r->sec[i], i) ? TR_EXCHANGE_COMPROMISED
                : attack_section(&r->sec[i], i)                   ? TR_EXCHANGE_ATTACKED
                                                                   : TR_EXCHANGE_SUSPICIOUS;
        if (w > v)
            v = w;
    }
    sv->verdict = v;
    static const char *const lead[] = {"", "to review: ", "attempts only: ", "exploitation succeeded: "};
    size_t o = 0;
    sv->reason[0] = '\0';
    if (v == TR_EXCHANGE_NO_SIGN)
        return;
    o += (size_t)snprintf(sv->reason, sizeof sv->reason, "%s", lead[v]);
    const char *sep = "";
    for (size_t i = 0; i < r->nsec && o < sizeof sv->reason; i++) {
        if (!sv->sec_hits[i])
            continue;
        bool in = v == TR_EXCHANGE_COMPROMISED ? sv->sec_strong[i] && strong_section(&r->sec[i], i)
                  : v == TR_EXCHANGE_ATTACKED  ? attack_section(&r->sec[i], i)
                                               : true;
        if (!in)
            continue;
        uint64_t n = v == TR_EXCHANGE_COMPROMISED ? sv->sec_strong[i] : sv->sec_hits[i];
        o += (size_t)snprintf(sv->reason + o, sizeof sv->reason - o, "%s%s (%llu)", sep, label_of(r, i),
                              (unsigned long long)n);
        sep = ", ";
    }
    if (o >= sizeof sv->reason) /* cut: end on an ellipsis */
        memcpy(sv->reason + sizeof sv->reason - 4, "...", 4);
}

size_t tr_exchange_report_server_count(const tr_exchange_report *r) { return r->nservers; }

tr_exchange_verdict tr_exchange_report_server_verdict(const tr_exchange_report *r, size_t i, const char **name,
                                                      const char **reason)
{
    if (i >= r->nservers) {
        if (name)
            *name = NULL;
        if (reason)
            *reason = NULL;
        return TR_EXCHANGE_NO_SIGN;
    }
    if (name)
        *name = r->servers[i].name;
    if (reason)
        *reason = r->servers[i].reason;
    return (tr_exchange_verdict)r->servers[i].verdict;
}

const char *tr_exchange_verdict_name(int verdict)
{
    static const char *const names[] = {"no sign", "suspicious", "attacked", "compromised"};
    return verdict >= 0 && verdict <= TR_EXCHANGE_COMPROMISED ? names[verdict] : "";
}

/* ---------------------------------------------------------------- evidence text */

/* Appends s, control characters as spaces, stopping at EXR_LINE_MAX. */
static void line_put(tr_strbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && b->len <= EXR_LINE_MAX; i++) {
        char c = s[i];
        tr_strbuf_putc(b, (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c);
    }
}

static void line_value(tr_strbuf *b, const tr_event *ev, const tr_value *v, char sep)
{
    if (v->type == TR_LIST) {
        for (uint32_t k = 0; k < v->as.list.count && b->len <= EXR_LINE_MAX; k++) {
            const tr_value *item = tr_event_list_item(ev, v, k);
            if (k)
                tr_strbuf_putc(b, sep);
            if (item->str)
                line_put(b, item->str, item->len);
        }
    } else if (v->str) {
        line_put(b, v->str, v->len);
    }
}

/* Cuts b to EXR_LINE_MAX bytes on a UTF-8 boundary, marking the cut. */
static void line_finish(tr_strbuf *b)
{
    if (b->len <= EXR_LINE_MAX)
        return;
    size_t n = EXR_LINE_MAX;
    while (n > 0 && ((unsigned char)b->data[n] & 0xC0) == 0x80)
        n--;
    b->len = n;
    tr_strbuf_puts(b, "...");
}

/* The evidence line of an event: for a W3C line its values as IIS wrote
 * them; for an Exchange CSV record its non-empty columns; for a Windows
 * event "Channel EventID:" and its payload as name=value. */
static void evidence_text(tr_strbuf *b, const tr_event *ev)
{
    const char *fmt = tr_event_origin(ev)->format;
    size_t nf = tr_event_field_count(ev);
    if (fmt && strcmp(fmt, "w3c") == 0) {
        for (size_t i = 0; i < nf; i++) {
            const tr_field *f = tr_event_field(ev, i);
            if (i)
                tr_strbuf_putc(b, ' ');
            if (f->value.type == TR_NULL || !f->value.str) {
                tr_strbuf_putc(b, '-');
            } else if (ieq(f->name, f->name_len, "cs-user-agent")) {
                for (uint32_t k = 0; k < f->value.len; k++) /* as written: '+' for spaces */
                    tr_strbuf_putc(b, f->value.str[k] == ' ' ? '+' : f->value.str[k]);
            } else {
                line_put(b, f->value.str, f->value.len);
            }
            if (b->len > EXR_LINE_MAX)
                break;
        }
    } else if (fmt && strcmp(fmt, "exchange-log") == 0) {
        bool first = true;
        for (size_t i = 0; i < nf && b->len <= EXR_LINE_MAX; i++) {
            const tr_field *f = tr_event_field(ev, i);
            if (f->value.type == TR_NULL || !f->value.str || ieq(f->name, f->name_len, "LogType"))
                continue;
            if (!first)
                tr_strbuf_putc(b, ',');
            first = false;
            line_put(b, f->value.str, f->value.len);
        }
    } else {
        size_t n;
        const char *s = field(ev, "Channel", &n);
        if (s) {
            line_put(b, s, n);
            tr_strbuf_putc(b, ' ');
        }
        if ((s = field(ev, "EventID", &n)) != NULL) {
            line_put(b, s, n);
            tr_strbuf_putc(b, ':');
        }
        bool payload = false;
        for (size_t i = 0; i < nf; i++)
            payload |= tr_event_field(ev, i)->alias_prio == 2;
        for (size_t i = 0; i < nf && b->len <= EXR_LINE_MAX; i++) {
            const tr_field *f = tr_event_field(ev, i);
            if (payload ? f->alias_prio != 2 : (f->alias_prio == 1 || f->value.type == TR_NULL))
                continue;
            tr_strbuf_putc(b, ' ');
            if (f->alias)
                line_put(b, f->alias, f->alias_len);
            else
                line_put(b, f->name, f->name_len);
            tr_strbuf_putc(b, '=');
            line_value(b, ev, &f->value, ' ');
        }
    }
    line_finish(b);
}

static char *where_of(tr_exchange_report *r, const tr_event *ev)
{
    const tr_origin *o = tr_event_origin(ev);
    char num[32];
    int k = snprintf(num, sizeof num, ":%llu", (unsigned long long)o->record);
    const char *p = o->path ? o->path : "(memory)";
    size_t pn = strlen(p);
    char *w = tr_malloc(pn + (size_t)k + 1);
    if (!w) {
        r->incomplete = true;
        return NULL;
    }
    memcpy(w, p, pn);
    memcpy(w + pn, num, (size_t)k + 1);
    return w;
}

/* ---------------------------------------------------------------- sections */

static size_t section_find(const tr_exchange_report *r, const char *id)
{
    for (size_t i = 0; i < r->nsec; i++)
        if (strcasecmp(r->sec[i].id, id) == 0)
            return i;
    return SIZE_MAX;
}

/* The section of a CVE ("CVE-2021-26855", any case), created when new. */
static size_t section_cve(tr_exchange_report *r, const char *cve)
{
    size_t i = section_find(r, cve);
    if (i != SIZE_MAX)
        return i;
    if (r->nsec >= EXR_MAX_SECTIONS) {
        r->sections_left_out++;
        return SIZE_MAX;
    }
    exr_section *s = &r->sec[r->nsec];
    char id[32];
    size_t n = 0;
    for (; cve[n] && n < sizeof id - 1; n++)
        id[n] = (char)toupper((unsigned char)cve[n]);
    id[n] = '\0';
    section_init(s, id, NULL, KIND_CVE);
    s->ev = tr_calloc(r->opt.max_evidence, sizeof *s->ev);
    if (!s->ev) {
        r->incomplete = true;
        return SIZE_MAX;
    }
    return r->nsec++;
}

/* Which sections a rule's detections go to, as a mask over r->sec. */
static uint64_t sections_of(tr_exchange_report *r, const tr_rule_info *rule)
{
    uint64_t mask = 0;
    bool cve = false, t1190 = false;
    for (size_t t = 0; t < rule->ntags; t++) {
        const char *tag = rule->tags[t];
        if (strncasecmp(tag, "cve.", 4) == 0 && tag[4]) {
            char id[32];
            snprintf(id, sizeof id, "CVE-%s", tag + 4);
            size_t i = section_cve(r, id);
            if (i != SIZE_MAX)
                mask |= 1ull << i;
            cve = true;
        } else if (strcasecmp(tag, "attack.t1505.003") == 0) {
            mask |= 1ull << SEC_WEBSHELL;
        } else if (strncasecmp(tag, "attack.t1114", 12) == 0) {
            mask |= 1ull << SEC_MAILBOX;
        } else if (strncasecmp(tag, "attack.t1003", 12) == 0) {
            mask |= 1ull << SEC_CREDS;
        } else if (strncasecmp(tag, "attack.t1560", 12) == 0 || strncasecmp(tag, "attack.t1074", 12) == 0) {
            mask |= 1ull << SEC_STAGING;
        } else if (strcasecmp(tag, "attack.t1190") == 0) {
            t1190 = true;
        }
    }
    if (rule->id)
        for (size_t m = 0; m < sizeof rule_map / sizeof rule_map[0]; m++) {
            if (strcasecmp(rule->id, rule_map[m].id) != 0)
                continue;
            for (size_t k = 0; k < 2 && rule_map[m].sections[k]; k++) {
                const char *id = rule_map[m].sections[k];
                size_t i = strncmp(id, "CVE-", 4) == 0 ? section_cve(r, id) : section_find(r, id);
                if (i != SIZE_MAX) {
                    mask |= 1ull << i;
                    cve |= strncmp(id, "CVE-", 4) == 0;
                }
            }
        }
    if (!mask && t1190 && !cve)
        mask |= 1ull << SEC_TOOLING;
    if (!mask)
        mask |= 1ull << SEC_OTHER;
    return mask;
}

/* Evidence ranking: succeeded or observed before failed, then earlier
 * first; an event without a time after every timed one. */
static bool evidence_better(int out_a, tr_time a, int out_b, tr_time b)
{
    bool fa = out_a == OUT_FAILED, fb = out_b == OUT_FAILED;
    if (fa != fb)
        return !fa;
    uint64_t ka = a == TR_TIME_NONE ? UINT64_MAX : (uint64_t)a ^ (1ull << 63);
    uint64_t kb = b == TR_TIME_NONE ? UINT64_MAX : (uint64_t)b ^ (1ull << 63);
    return ka < kb;
}

typedef struct hit {
    const tr_rule_info *rule;
    const tr_event *ev;
    tr_time time;
    int outcome;
    size_t server;
    const char *ip;
    size_t ip_len;
    uint64_t key;
    bool strong;
} hit;

static void section_evidence(tr_exchange_report *r, exr_section *s, const hit *h)
{
    size_t slot;
    if (s->nev < r->opt.max_evidence) {
        slot = s->nev;
    } else {
        slot = 0; /* the worst kept */
        for (size_t k = 1; k < s->nev; k++)
            if (evidence_better(s->ev[slot].outcome, s->ev[slot].time, s->ev[k].outcome, s->ev[k].time))
                slot = k;
        s->ev_left_out++;
        if (!evidence_better(h->outcome, h->time, s->ev[slot].outcome, s->ev[slot].time))
            return;
    }
    exr_evidence e = {.time = h->time, .outcome = h->outcome, .level = h->rule->level, .server = h->server};
    if (h->ev) {
        tr_strbuf b;
        tr_strbuf_init(&b);
        evidence_text(&b, h->ev);
        if (tr_strbuf_failed(&b)) {
            r->incomplete = true;
            tr_strbuf_free(&b);
            return;
        }
        e.text = b.data ? b.data : dup_n(r, "", 0);
        e.where = where_of(r, h->ev);
    } else {
        e.text = dup_n(r, "(correlation)", 13);
        e.where = dup_n(r, "", 0);
    }
    e.ip = h->ip ? dup_n(r, h->ip, h->ip_len) : NULL;
    e.rule = dup_n(r, h->rule->title ? h->rule->title : "", h->rule->title ? strlen(h->rule->title) : 0);
    if (!e.text || !e.where || !e.rule || (h->ip && !e.ip)) {
        evidence_free(&e);
        return;
    }
    if (slot < s->nev)
        evidence_free(&s->ev[slot]);
    else
        s->nev++;
    s->ev[slot] = e;
}

static void section_rule(tr_exchange_report *r, exr_section *s, const tr_rule_info *rule)
{
    for (size_t k = 0; k < s->nrules; k++)
        if (s->rules[k].key == rule) {
            s->rules[k].hits++;
            return;
        }
    exr_rule *x = grow_one(r, (void **)&s->rules, &s->nrules, sizeof *x, EXR_MAX_RULES);
    if (!x)
        return;
    x->key = rule;
    x->level = rule->level;
    x->hits = 1;
    x->id = dup_n(r, rule->id ? rule->id : "", rule->id ? strlen(rule->id) : 0);
    x->title = dup_n(r, rule->title ? rule->title : "", rule->title ? strlen(rule->title) : 0);
    if (!x->id || !x->title) {
        tr_free(x->id);
        tr_free(x->title);
        s->nrules--;
    }
}

/* A hit of a rule in section i, for an event not yet counted there. */
static void section_hit(tr_exchange_report *r, size_t i, const hit *h, bool new_event_in_section)
{
    exr_section *s = &r->sec[i];
    section_rule(r, s, h->rule);
    if (!new_event_in_section)
        return;
    s->hits++;
    s->by_outcome[h->outcome]++;
    s->strong += h->strong;
    time_min_max(h->time, &s->first, &s->last);
    if (h->ip) {
        uint32_t hh = hash_str(h->ip, h->ip_len);
        exr_ip *ip = NULL;
        for (size_t k = 0; k < s->nips && !ip; k++)
            if (s->ips[k].hash == hh && strlen(s->ips[k].ip) == h->ip_len &&
                memcmp(s->ips[k].ip, h->ip, h->ip_len) == 0)
                ip = &s->ips[k];
        if (!ip) {
            ip = grow_one(r, (void **)&s->ips, &s->nips, sizeof *ip, r->opt.max_ips);
            if (ip) {
                ip->ip = dup_n(r, h->ip, h->ip_len);
                ip->hash = hh;
                ip->first = ip->last = TR_TIME_NONE;
                if (!ip->ip) {
                    s->nips--;
                    ip = NULL;
                }
            }
        }
        if (ip) {
            ip->hits++;
            ip->succeeded += h->outcome != OUT_FAILED;
            time_min_max(h->time, &ip->first, &ip->last);
        } else {
            s->ips_left_out++;
        }
    }
    if (h->server != SIZE_MAX) {
        exr_server *sv = &r->servers[h->server];
        sv->sec_hits[i]++;
        sv->sec_strong[i] += h->strong;
    }
    section_evidence(r, s, h);
}

/* ---------------------------------------------------------------- files, shells, clients */

static void file_add(tr_exchange_report *r, const char *path, size_t n, const char *how, const hit *h)
{
    while (n && (path[n - 1] == ' ' || path[n - 1] == '.' || path[n - 1] == ','))
        n--; /* end of a sentence, not of the name */
    if (!n)
        return;
    if (n > EXR_PATH_MAX)
        n = EXR_PATH_MAX;
    uint32_t hh = hash_str(path, n);
    for (size_t k = 0; k < r->nfiles; k++) {
        exr_file *f = &r->files[k];
        if (f->hash == hh && f->how == how && f->server == h->server && strlen(f->path) == n &&
            tr_name_equal(f->path, path, n)) {
            f->hits++;
            time_min_max(h->time, &f->first, &f->last);
            return;
        }
    }
    exr_file *f = grow_one(r, (void **)&r->files, &r->nfiles, sizeof *f, r->opt.max_items);
    if (!f) {
        r->files_left_out++;
        return;
    }
    f->path = dup_n(r, path, n);
    f->where = h->ev ? where_of(r, h->ev) : dup_n(r, "", 0);
    if (!f->path || !f->where) {
        tr_free(f->path);
        tr_free(f->where);
        r->nfiles--;
        return;
    }
    f->how = how;
    f->hash = hh;
    f->server = h->server;
    f->hits = 1;
    f->first = f->last = TR_TIME_NONE;
    time_min_max(h->time, &f->first, &f->last);
}

/* The value after `-FilePath` in a command: quoted or up to a space. */
static void export_paths(tr_exchange_report *r, const char *s, size_t n, const hit *h)
{
    const char *end = s + n;
    for (const char *p = s; p < end;) {
        const char *m = icontains(p, (size_t)(end - p), "-FilePath");
        if (!m)
            return;
        p = m + 9;
        while (p < end && (*p == ' ' || *p == ':'))
            p++;
        if (p >= end)
            return;
        char q = *p == '"' || *p == '\'' ? *p : 0;
        const char *v = q ? p + 1 : p;
        const char *e = v;
        while (e < end && (q ? *e != q : (*e != ' ' && *e != ';' && *e != ')')))
            e++;
        file_add(r, v, (size_t)(e - v), "mailbox export target", h);
        p = e;
    }
}

/* "Download failed and temporary file '<path>' needs to be removed" */
static void oab_paths(tr_exchange_report *r, const char *s, size_t n, const hit *h)
{
    const char *m = icontains(s, n, "temporary file '");
    if (!m)
        return;
    const char *v = m + 16, *end = s + n, *e = v;
    while (e < end && *e != '\'')
        e++;
    if (e < end)
        file_add(r, v, (size_t)(e - v), "written by the OAB generator", h);
}

/* Tokens of a command line that end in one of the extensions. */
static void command_files(tr_exchange_report *r, const char *s, size_t n, const char *const *exts, const char *how,
                          const hit *h)
{
    const char *end = s + n;
    for (const char *p = s; p < end;) {
        while (p < end && (*p == ' ' || *p == '"' || *p == '\''))
            p++;
        const char *t = p;
        char q = t > s && (t[-1] == '"' || t[-1] == '\'') ? t[-1] : 0;
        while (p < end && (q ? *p != q : (*p != ' ' && *p != '"' && *p != '\'')))
            p++;
        for (const char *const *x = exts; *x; x++)
            if (iends(t, (size_t)(p - t), *x)) {
                file_add(r, t, (size_t)(p - t), how, h);
                break;
            }
        if (p < end)
            p++;
    }
}

static void scan_strings(tr_exchange_report *r, const tr_event *ev, const hit *h)
{
    size_t nf = tr_event_field_count(ev);
    for (size_t i = 0; i < nf; i++) {
        const tr_field *f = tr_event_field(ev, i);
        const tr_value *v = &f->value;
        size_t count = v->type == TR_LIST ? v->as.list.count : 1;
        for (size_t k = 0; k < count; k++) {
            const tr_value *x = v->type == TR_LIST ? tr_event_list_item(ev, v, k) : v;
            if (x->type != TR_STR || !x->str)
                continue;
            if (icontains(x->str, x->len, "-FilePath"))
                export_paths(r, x->str, x->len, h);
            if (icontains(x->str, x->len, "Download failed and temporary file"))
                oab_paths(r, x->str, x->len, h);
        }
    }
}

static bool script_stem(const char *s, size_t n)
{
    static const char *const ext[] = {".aspx", ".ashx", ".asmx", ".asp", ".php", ".jsp", NULL};
    for (const char *const *x = ext; *x; x++)
        if (iends(s, n, *x))
            return true;
    return false;
}

static char *dup_opt(tr_exchange_report *r, const char *s, size_t n, bool *failed)
{
    if (!s)
        return NULL;
    char *c = dup_n(r, s, n);
    if (!c)
        *failed = true;
    return c;
}

static void shell_add(tr_exchange_report *r, const char *url, size_t un, const hit *h)
{
    size_t an = 0, sn = 0;
    const char *agent = first_field(h->ev, agent_fields, &an);
    const char *user = first_field(h->ev, user_fields, &sn);
    uint32_t hh = hash_str(url, un);
    if (h->ip)
        hh = tr_hash_continue(hh, h->ip, h->ip_len);
    if (agent)
        hh = tr_hash_continue(hh, agent, an);
    long st = status_of(h->ev);
    for (size_t k = 0; k < r->nshells; k++) {
        exr_shell *w = &r->shells[k];
        if (w->hash != hh || w->server != h->server || strlen(w->url) != un || !tr_name_equal(w->url, url, un))
            continue;
        if ((w->ip ? strlen(w->ip) : 0) != (h->ip ? h->ip_len : 0) || (h->ip && memcmp(w->ip, h->ip, h->ip_len)))
            continue;
        if ((w->agent ? strlen(w->agent) : 0) != (agent ? an : 0) || (agent && memcmp(w->agent, agent, an)))
            continue;
        w->hits++;
        w->answered += st >= 0 && st < 400;
        if (h->time != TR_TIME_NONE && (w->last == TR_TIME_NONE || h->time >= w->last))
            w->last_status = st;
        time_min_max(h->time, &w->first, &w->last);
        return;
    }
    exr_shell *w = grow_one(r, (void **)&r->shells, &r->nshells, sizeof *w, r->opt.max_items);
    if (!w) {
        r->shells_left_out++;
        return;
    }
    bool failed = false;
    w->url = dup_opt(r, url, un, &failed);
    w->ip = dup_opt(r, h->ip, h->ip_len, &failed);
    w->agent = dup_opt(r, agent, an, &failed);
    w->user = dup_opt(r, user, sn, &failed);
    w->where = where_of(r, h->ev);
    if (failed || !w->where) {
        tr_free(w->url);
        tr_free(w->ip);
        tr_free(w->agent);
        tr_free(w->user);
        tr_free(w->where);
        r->nshells--;
        return;
    }
    w->hash = hh;
    w->server = h->server;
    w->hits = 1;
    w->answered = st >= 0 && st < 400;
    w->last_status = st;
    w->first = w->last = TR_TIME_NONE;
    time_min_max(h->time, &w->first, &w->last);
}

/* Counts a hit for the client once per event; every detection adds its
 * sections. */
static void client_add(tr_exchange_report *r, const hit *h, uint64_t mask, bool new_event)
{
    uint32_t hh = hash_str(h->ip, h->ip_len);
    exr_client *c = NULL;
    for (size_t k = 0; k < r->nclients && !c; k++)
        if (r->clients[k].hash == hh && strlen(r->clients[k].ip) == h->ip_len &&
            memcmp(r->clients[k].ip, h->ip, h->ip_len) == 0)
            c = &r->clients[k];
    if (!c) {
        if (!new_event)
            return; /* the event's first detection found no room: counted then */
        c = grow_one(r, (void **)&r->clients, &r->nclients, sizeof *c, r->opt.max_items);
        if (!c) {
            r->clients_left_out++;
            return;
        }
        c->ip = dup_n(r, h->ip, h->ip_len);
        if (!c->ip) {
            r->nclients--;
            return;
        }
        c->hash = hh;
        c->first = c->last = TR_TIME_NONE;
        new_event = true;
    }
    c->sections |= mask;
    if (!new_event)
        return;
    c->hits++;
    c->succeeded += h->outcome != OUT_FAILED;
    time_min_max(h->time, &c->first, &c->last);
    size_t an;
    const char *agent = h->ev ? first_field(h->ev, agent_fields, &an) : NULL;
    if (!agent)
        return;
    for (size_t k = 0; k < c->nagents; k++)
        if (strlen(c->agents[k]) == an && memcmp(c->agents[k], agent, an) == 0)
            return;
    if (c->nagents < EXR_AGENTS) {
        char *a = dup_n(r, agent, an < 256 ? an : 256);
        if (a)
            c->agents[c->nagents++] = a;
    }
}

/* ---------------------------------------------------------------- detections */

static uint64_t event_key(const tr_event *ev)
{
    const tr_origin *o = tr_event_origin(ev);
    uint64_t h = o->path ? hash_str(o->path, strlen(o->path)) : 0;
    return tr_mix64(h ^ tr_mix64(o->record + 1) ^ (tr_mix64(o->offset + 7) << 1)) | 1u;
}

/* One detection or finding: its rule, event (NULL for a correlation at the
 * end of input), time, last time, and its server (SIZE_MAX: from the event). */
static tr_status add_hit(tr_exchange_report *r, const tr_rule_info *rule, const tr_event *ev, tr_time time,
                         tr_time last, size_t server)
{
    if (!rule || rule->kind == TR_RULE_FILTER)
        return TR_OK;
    r->detections++;
    hit h = {.rule = rule, .ev = ev, .time = time, .server = server};
    if (h.ev) {
        h.key = event_key(h.ev);
        h.outcome = outcome_of(h.ev);
        if (h.server == SIZE_MAX)
            h.server = server_of(r, h.ev);
        h.ip = client_ip(h.ev, &h.ip_len);
        if (h.time == TR_TIME_NONE)
            h.time = tr_event_time(h.ev);
    } else {
        h.key = (++r->serial << 1) | 1u; /* a correlation: its own hit */
        h.outcome = OUT_OBSERVED;
        if (h.time == TR_TIME_NONE)
            h.time = last;
    }
    h.strong = rule->level >= TR_LEVEL_HIGH && h.outcome != OUT_FAILED;
    bool new_event = h.key != r->last_event_key;
    r->last_event_key = h.key;
    uint64_t mask = sections_of(r, rule), fresh = 0;
    for (size_t i = 0; i < r->nsec; i++) {
        if (!(mask >> i & 1u))
            continue;
        bool f = r->sec[i].last_key != h.key;
        r->sec[i].last_key = h.key;
        fresh |= (uint64_t)f << i;
        section_hit(r, i, &h, f);
    }
    if (new_event) {
        r->hits++;
        time_min_max(h.time, &r->first, &r->last);
        if (h.server != SIZE_MAX)
            r->servers[h.server].hits++;
        if (h.ev)
            scan_strings(r, h.ev, &h);
    }
    if (h.ip)
        client_add(r, &h, mask, new_event);
    if (h.ev) {
        size_t n;
        const char *s;
        if ((fresh >> SEC_WEBSHELL & 1u) && (s = first_field(h.ev, stem_fields, &n)) != NULL &&
            script_stem(s, n)) {
            shell_add(r, s, n, &h);
            file_add(r, s, n, "script requested over the web", &h);
        }
        if (new_event && (s = field(h.ev, "TargetFilename", &n)) != NULL)
            file_add(r, s, n, mask >> SEC_CREDS & 1u ? "memory dump written" : "file written", &h);
        if ((fresh & (1ull << SEC_STAGING | 1ull << SEC_CREDS)) && (s = field(h.ev, "CommandLine", &n)) != NULL) {
            static const char *const archives[] = {".7z", ".rar", ".zip", ".cab", NULL};
            static const char *const dumps[] = {".dmp", ".dump", NULL};
            if (fresh >> SEC_STAGING & 1u)
                command_files(r, s, n, archives, "archive created", &h);
            if (fresh >> SEC_CREDS & 1u)
                command_files(r, s, n, dumps, "memory dump written", &h);
        }
    }
    if (h.server != SIZE_MAX)
        update_verdict(r, &r->servers[h.server]);
    return r->incomplete ? TR_ERR_NOMEM : TR_OK;
}

tr_status tr_exchange_report_detection(tr_exchange_report *r, const tr_detection *d)
{
    return d ? add_hit(r, d->rule, d->event, d->time, d->last, SIZE_MAX) : TR_OK;
}

tr_status tr_exchange_report_finding(tr_exchange_report *r, const tr_finding *f)
{
    if (!f)
        return TR_OK;
    size_t server = SIZE_MAX;
    if (strcmp(f->host, TR_HOST_UNKNOWN) != 0)
        server = server_get(r, f->host_name, strlen(f->host_name));
    return add_hit(r, f->rule, f->event, f->time, f->last, server);
}

/* ---------------------------------------------------------------- writing: shared */

static size_t time_short(tr_time t, char *buf)
{
    if (t == TR_TIME_NONE) {
        memcpy(buf, "-", 2);
        return 1;
    }
    char full[TR_TIME_BUFSIZE];
    tr_time_format(t, full);
    memcpy(buf, full, 19); /* YYYY-MM-DDTHH:MM:SS */
    buf[19] = 'Z';
    buf[20] = '\0';
    return 20;
}

static const char *server_name(const tr_exchange_report *r, size_t i)
{
    return i < r->nservers ? r->servers[i].name : "(unknown server)";
}

static int cmp_ip_hits(const void *a, const void *b)
{
    const exr_ip *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return strcmp(x->ip, y->ip);
}

static int cmp_evidence(const void *a, const void *b)
{
    const exr_evidence *x = a, *y = b;
    if (x->time != y->time) {
        if (x->time == TR_TIME_NONE)
            return 1;
        if (y->time == TR_TIME_NONE)
            return -1;
        return x->time < y->time ? -1 : 1;
    }
    return strcmp(x->where, y->where);
}

static int cmp_time_first(tr_time a, tr_time b)
{
    if (a == b)
        return 0;
    if (a == TR_TIME_NONE)
        return 1;
    if (b == TR_TIME_NONE)
        return -1;
    return a < b ? -1 : 1;
}

static int cmp_file(const void *a, const void *b)
{
    const exr_file *x = a, *y = b;
    int c = cmp_time_first(x->first, y->first);
    return c ? c : strcmp(x->path, y->path);
}

static int cmp_shell(const void *a, const void *b)
{
    const exr_shell *x = a, *y = b;
    int c = cmp_time_first(x->first, y->first);
    return c ? c : strcmp(x->url, y->url);
}

static int cmp_client(const void *a, const void *b)
{
    const exr_client *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return strcmp(x->ip, y->ip);
}

static int cmp_rule(const void *a, const void *b)
{
    const exr_rule *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return strcmp(x->title, y->title);
}

/* Sorts what is printed (writing orders tables; feeding more afterwards
 * still works: lookups are linear). */
static void sort_all(tr_exchange_report *r)
{
    for (size_t i = 0; i < r->nsec; i++) {
        exr_section *s = &r->sec[i];
        if (s->nips > 1)
            qsort(s->ips, s->nips, sizeof *s->ips, cmp_ip_hits);
        if (s->nev > 1)
            qsort(s->ev, s->nev, sizeof *s->ev, cmp_evidence);
        if (s->nrules > 1)
            qsort(s->rules, s->nrules, sizeof *s->rules, cmp_rule);
    }
    if (r->nfiles > 1)
        qsort(r->files, r->nfiles, sizeof *r->files, cmp_file);
    if (r->nshells > 1)
        qsort(r->shells, r->nshells, sizeof *r->shells, cmp_shell);
    if (r->nclients > 1)
        qsort(r->clients, r->nclients, sizeof *r->clients, cmp_client);
}

static tr_status flush(tr_strbuf *b, FILE *out)
{
    tr_status st = TR_OK;
    if (tr_strbuf_failed(b))
        st = TR_ERR_NOMEM;
    else if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
        st = TR_ERR_IO;
    else if (fflush(out) != 0)
        st = TR_ERR_IO;
    tr_strbuf_free(b);
    return st;
}

/* Order in which sections are written: CVEs (known, then others met), then
 * the activities. */
static size_t section_order(const tr_exchange_report *r, size_t *order)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nsec; i++)
        if (r->sec[i].kind == KIND_CVE)
            order[n++] = i;
    for (size_t i = 0; i < r->nsec; i++)
        if (r->sec[i].kind != KIND_CVE)
            order[n++] = i;
    return n;
}

static uint64_t sum_sources(const exr_server *sv, bool *any)
{
    uint64_t n = 0;
    for (int k = 0; k < NSRC; k++)
        n += sv->by_source[k];
    *any = n > 0;
    return n;
}

/* ---------------------------------------------------------------- writing: text */

static void text_grouped(tr_strbuf *b, unsigned long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", v);
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            tr_strbuf_putc(b, ',');
        tr_strbuf_putc(b, tmp[i]);
    }
}

static void text_servers(tr_exchange_report *r, tr_strbuf *b)
{
    static const char *const upper[] = {"no sign", "SUSPICIOUS", "ATTACKED", "COMPROMISED"};
    char t1[32], t2[32];
    tr_strbuf_puts(b, "Servers\n");
    if (!r->nservers)
        tr_strbuf_puts(b, "  (no server could be told from the evidence)\n");
    for (size_t i = 0; i < r->nservers; i++) {
        exr_server *sv = &r->servers[i];
        tr_strbuf_printf(b, "  %-22s %-12s %s\n", sv->name, upper[sv->verdict],
                         sv->verdict ? sv->reason : "nothing detected in the evidence read");
        bool any;
        sum_sources(sv, &any);
        tr_strbuf_puts(b, "  ");
        tr_strbuf_printf(b, "%-22s %-12s ", "", "");
        tr_strbuf_puts(b, "read: ");
        text_grouped(b, sv->events);
        tr_strbuf_puts(b, " events");
        const char *sep = " (";
        for (int k = 0; k < NSRC; k++) {
            if (!sv->by_source[k])
                continue;
            tr_strbuf_printf(b, "%s%s ", sep, source_titles[k]);
            text_grouped(b, sv->by_source[k]);
            sep = ", ";
        }
        if (any)
            tr_strbuf_putc(b, ')');
        if (sv->first != TR_TIME_NONE) {
            time_short(sv->first, t1);
            time_short(sv->last, t2);
            tr_strbuf_printf(b, ", %s .. %s", t1, t2);
        }
        tr_strbuf_putc(b, '\n');
        if (!sv->by_source[SRC_HTTPPROXY] && !sv->by_source[SRC_IIS])
            tr_strbuf_printf(b, "  %-22s %-12s no IIS or HttpProxy logs read: web exploitation cannot be seen\n", "",
                             "");
    }
    if (r->servers_left_out)
        tr_strbuf_printf(b, "  ... %llu events of servers past the limit of %u not attributed\n",
                         (unsigned long long)r->servers_left_out, r->opt.max_items);
    tr_strbuf_putc(b, '\n');
}

static void text_section(tr_exchange_report *r, tr_strbuf *b, size_t i)
{
    exr_section *s = &r->sec[i];
    char t1[32], t2[32];
    if (s->kind == KIND_CVE)
        tr_strbuf_printf(b, "%s  %s\n", s->id, s->title ? s->title : "");
    else
        tr_strbuf_printf(b, "%s\n", s->title ? s->title : s->id);
    if (!s->hits) {
        tr_strbuf_puts(b, "  no sign\n\n");
        return;
    }
    tr_strbuf_puts(b, "  hits:       ");
    text_grouped(b, s->hits);
    const char *sep = " (";
    for (int k = OUT_SUCCEEDED; k <= OUT_FAILED + 1; k++) {
        int o = k <= OUT_FAILED ? k : OUT_OBSERVED; /* succeeded, failed, observed */
        if (!s->by_outcome[o])
            continue;
        tr_strbuf_printf(b, "%s%llu %s", sep, (unsigned long long)s->by_outcome[o], outcome_names[o]);
        sep = ", ";
    }
    tr_strbuf_puts(b, ")");
    sep = " on ";
    for (size_t k = 0; k < r->nservers; k++) {
        if (!r->servers[k].sec_hits[i])
            continue;
        tr_strbuf_printf(b, "%s%s", sep, r->servers[k].name);
        sep = ", ";
    }
    tr_strbuf_putc(b, '\n');
    time_short(s->first, t1);
    time_short(s->last, t2);
    tr_strbuf_printf(b, "  first:      %s\n  last:       %s\n", t1, t2);
    if (s->nips) {
        tr_strbuf_puts(b, "  client IPs: ");
        for (size_t k = 0; k < s->nips && k < EXR_TEXT_IPS; k++)
            tr_strbuf_printf(b, "%s%s (%llu)", k ? ", " : "", s->ips[k].ip, (unsigned long long)s->ips[k].hits);
        if (s->nips > EXR_TEXT_IPS)
            tr_strbuf_printf(b, " and %zu more", s->nips - EXR_TEXT_IPS);
        if (s->ips_left_out)
            tr_strbuf_printf(b, " (+%llu hits from IPs past the limit)", (unsigned long long)s->ips_left_out);
        tr_strbuf_putc(b, '\n');
    }
    tr_strbuf_puts(b, "  rules:\n");
    for (size_t k = 0; k < s->nrules; k++)
        tr_strbuf_printf(b, "    %6llu  %-8s %s\n", (unsigned long long)s->rules[k].hits,
                         s->rules[k].level ? tr_level_name(s->rules[k].level) : "-", s->rules[k].title);
    tr_strbuf_puts(b, "  evidence:\n");
    for (size_t k = 0; k < s->nev; k++) {
        exr_evidence *e = &s->ev[k];
        time_short(e->time, t1);
        tr_strbuf_printf(b, "    %s  %s  %s%s%s\n      %s\n      %s\n", t1, server_name(r, e->server),
                         outcome_names[e->outcome], e->ip ? "  from " : "", e->ip ? e->ip : "", e->where, e->text);
    }
    if (s->ev_left_out)
        tr_strbuf_printf(b, "    ... and %llu more (--evidence N keeps more)\n",
                         (unsigned long long)s->ev_left_out);
    tr_strbuf_putc(b, '\n');
}

tr_status tr_exchange_report_write_text(tr_exchange_report *r, FILE *out)
{
    sort_all(r);
    tr_strbuf b;
    tr_strbuf_init(&b);
    char t1[32], t2[32];
    tr_strbuf_printf(&b, "traccia %s Exchange compromise report\n", tr_version());
    tr_strbuf_puts(&b, "  detections: ");
    text_grouped(&b, r->detections);
    tr_strbuf_puts(&b, " on ");
    text_grouped(&b, r->hits);
    tr_strbuf_puts(&b, " log lines and events");
    if (r->first != TR_TIME_NONE) {
        time_short(r->first, t1);
        time_short(r->last, t2);
        tr_strbuf_printf(&b, ", %s .. %s", t1, t2);
    }
    tr_strbuf_putc(&b, '\n');
    if (r->incomplete)
        tr_strbuf_puts(&b, "  INCOMPLETE: memory ran out while building the report; some findings are missing\n");
    tr_strbuf_putc(&b, '\n');
    text_servers(r, &b);
    size_t order[EXR_MAX_SECTIONS];
    size_t n = section_order(r, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (i == SEC_OTHER && !r->sec[i].hits)
            continue; /* nothing to say about nothing else */
        text_section(r, &b, i);
    }
    if (r->sections_left_out)
        tr_strbuf_printf(&b, "(%llu hits of further CVEs past the limit of %u sections)\n\n",
                         (unsigned long long)r->sections_left_out, EXR_MAX_SECTIONS);

    tr_strbuf_puts(&b, "Suspicious files named by the logs\n");
    if (!r->nfiles)
        tr_strbuf_puts(&b, "  none\n");
    for (size_t k = 0; k < r->nfiles && k < EXR_TEXT_ROWS; k++) {
        exr_file *f = &r->files[k];
        time_short(f->first, t1);
        tr_strbuf_printf(&b, "  %s\n      %s, %s, first %s, %llu time(s); %s\n", f->path, f->how,
                         server_name(r, f->server), t1, (unsigned long long)f->hits, f->where);
    }
    if (r->nfiles > EXR_TEXT_ROWS || r->files_left_out)
        tr_strbuf_printf(&b, "  ... and %llu more\n",
                         (unsigned long long)(r->nfiles > EXR_TEXT_ROWS ? r->nfiles - EXR_TEXT_ROWS : 0) +
                             (unsigned long long)r->files_left_out);
    tr_strbuf_putc(&b, '\n');

    tr_strbuf_puts(&b, "Web shells requested\n");
    if (!r->nshells)
        tr_strbuf_puts(&b, "  none\n");
    for (size_t k = 0; k < r->nshells && k < EXR_TEXT_ROWS; k++) {
        exr_shell *w = &r->shells[k];
        time_short(w->first, t1);
        time_short(w->last, t2);
        tr_strbuf_printf(&b, "  %s on %s\n      by %s%s%s, user agent %s\n", w->url, server_name(r, w->server),
                         w->ip ? w->ip : "(no client IP)", w->user ? " as " : "", w->user ? w->user : "",
                         w->agent ? w->agent : "(none)");
        tr_strbuf_printf(&b, "      %llu request(s), %llu answered, last status %ld, %s .. %s; first at %s\n",
                         (unsigned long long)w->hits, (unsigned long long)w->answered, w->last_status, t1, t2,
                         w->where);
    }
    if (r->nshells > EXR_TEXT_ROWS || r->shells_left_out)
        tr_strbuf_printf(&b, "  ... and %llu more\n",
                         (unsigned long long)(r->nshells > EXR_TEXT_ROWS ? r->nshells - EXR_TEXT_ROWS : 0) +
                             (unsigned long long)r->shells_left_out);
    tr_strbuf_putc(&b, '\n');

    tr_strbuf_puts(&b, "Client IPs\n");
    if (!r->nclients)
        tr_strbuf_puts(&b, "  none\n");
    for (size_t k = 0; k < r->nclients && k < EXR_TEXT_ROWS; k++) {
        exr_client *c = &r->clients[k];
        time_short(c->first, t1);
        time_short(c->last, t2);
        tr_strbuf_printf(&b, "  %-16s %6llu hit(s), %s .. %s:", c->ip, (unsigned long long)c->hits, t1, t2);
        const char *sep = " ";
        for (size_t i = 0; i < r->nsec; i++)
            if (c->sections >> i & 1u) {
                tr_strbuf_printf(&b, "%s%s", sep, label_of(r, i));
                sep = ", ";
            }
        tr_strbuf_putc(&b, '\n');
        for (size_t a = 0; a < c->nagents; a++)
            tr_strbuf_printf(&b, "  %-16s user agent %s\n", "", c->agents[a]);
    }
    if (r->nclients > EXR_TEXT_ROWS || r->clients_left_out)
        tr_strbuf_printf(&b, "  ... and %llu more\n",
                         (unsigned long long)(r->nclients > EXR_TEXT_ROWS ? r->nclients - EXR_TEXT_ROWS : 0) +
                             (unsigned long long)r->clients_left_out);
    return flush(&b, out);
}

/* ---------------------------------------------------------------- writing: JSON */


static void ju(tr_strbuf *b, const char *name, uint64_t v)
{
    tr_strbuf_printf(b, "\"%s\":%llu", name, (unsigned long long)v);
}

static void json_section(tr_exchange_report *r, tr_strbuf *b, size_t i)
{
    exr_section *s = &r->sec[i];
    tr_strbuf_puts(b, "{\"id\":");
    tr_strbuf_json_string(b, s->id);
    tr_strbuf_puts(b, ",\"kind\":");
    tr_strbuf_json_string(b, s->kind == KIND_CVE ? "cve" : "activity");
    tr_strbuf_puts(b, ",\"title\":");
    tr_strbuf_json_string(b, s->title);
    tr_strbuf_putc(b, ',');
    ju(b, "hits", s->hits);
    tr_strbuf_putc(b, ',');
    ju(b, "succeeded", s->by_outcome[OUT_SUCCEEDED]);
    tr_strbuf_putc(b, ',');
    ju(b, "failed", s->by_outcome[OUT_FAILED]);
    tr_strbuf_putc(b, ',');
    ju(b, "observed", s->by_outcome[OUT_OBSERVED]);
    tr_strbuf_puts(b, ",\"first\":");
    tr_strbuf_json_time(b, s->first);
    tr_strbuf_puts(b, ",\"last\":");
    tr_strbuf_json_time(b, s->last);
    tr_strbuf_puts(b, ",\"servers\":[");
    const char *sep = "";
    for (size_t k = 0; k < r->nservers; k++) {
        if (!r->servers[k].sec_hits[i])
            continue;
        tr_strbuf_printf(b, "%s{\"name\":", sep);
        tr_strbuf_json_string(b, r->servers[k].name);
        tr_strbuf_printf(b, ",\"hits\":%llu}", (unsigned long long)r->servers[k].sec_hits[i]);
        sep = ",";
    }
    tr_strbuf_puts(b, "],\"client_ips\":[");
    for (size_t k = 0; k < s->nips; k++) {
        exr_ip *ip = &s->ips[k];
        tr_strbuf_puts(b, k ? ",{\"ip\":" : "{\"ip\":");
        tr_strbuf_json_string(b, ip->ip);
        tr_strbuf_printf(b, ",\"hits\":%llu,\"succeeded\":%llu,\"first\":", (unsigned long long)ip->hits,
                         (unsigned long long)ip->succeeded);
        tr_strbuf_json_time(b, ip->first);
        tr_strbuf_puts(b, ",\"last\":");
        tr_strbuf_json_time(b, ip->last);
        tr_strbuf_putc(b, '}');
    }
    tr_strbuf_puts(b, "],");
    ju(b, "client_ips_left_out_hits", s->ips_left_out);
    tr_strbuf_puts(b, ",\"rules\":[");
    for (size_t k = 0; k < s->nrules; k++) {
        tr_strbuf_puts(b, k ? ",{\"id\":" : "{\"id\":");
        tr_strbuf_json_string(b, s->rules[k].id);
        tr_strbuf_puts(b, ",\"title\":");
        tr_strbuf_json_string(b, s->rules[k].title);
        tr_strbuf_puts(b, ",\"level\":");
        tr_strbuf_json_string(b, tr_level_name(s->rules[k].level));
        tr_strbuf_printf(b, ",\"hits\":%llu}", (unsigned long long)s->rules[k].hits);
    }
    tr_strbuf_puts(b, "],\"evidence\":[");
    for (size_t k = 0; k < s->nev; k++) {
        exr_evidence *e = &s->ev[k];
        tr_strbuf_puts(b, k ? ",{\"time\":" : "{\"time\":");
        tr_strbuf_json_time(b, e->time);
        tr_strbuf_puts(b, ",\"server\":");
        tr_strbuf_json_string(b, e->server < r->nservers ? r->servers[e->server].name : NULL);
        tr_strbuf_puts(b, ",\"outcome\":");
        tr_strbuf_json_string(b, outcome_names[e->outcome]);
        tr_strbuf_puts(b, ",\"client_ip\":");
        tr_strbuf_json_string(b, e->ip);
        tr_strbuf_puts(b, ",\"rule\":");
        tr_strbuf_json_string(b, e->rule);
        tr_strbuf_puts(b, ",\"level\":");
        tr_strbuf_json_string(b, tr_level_name(e->level));
        tr_strbuf_puts(b, ",\"where\":");
        tr_strbuf_json_string(b, e->where);
        tr_strbuf_puts(b, ",\"line\":");
        tr_strbuf_json_string(b, e->text);
        tr_strbuf_putc(b, '}');
    }
    tr_strbuf_puts(b, "],");
    ju(b, "evidence_left_out", s->ev_left_out);
    tr_strbuf_putc(b, '}');
}

tr_status tr_exchange_report_write_json(tr_exchange_report *r, FILE *out)
{
    sort_all(r);
    tr_strbuf b;
    tr_strbuf_init(&b);
    tr_strbuf_puts(&b, "{\"traccia\":");
    tr_strbuf_json_string(&b, tr_version());
    tr_strbuf_puts(&b, ",\"report\":\"exchange\",\"complete\":");
    tr_strbuf_puts(&b, r->incomplete ? "false" : "true");
    if (r->have_input) {
        const tr_scan_stats *s = &r->input;
        tr_strbuf_puts(&b, ",\"input\":{");
        ju(&b, "files_read", s->files_read);
        tr_strbuf_putc(&b, ',');
        ju(&b, "files_skipped", s->files_skipped);
        tr_strbuf_putc(&b, ',');
        ju(&b, "files_damaged", s->files_damaged);
        tr_strbuf_putc(&b, ',');
        ju(&b, "events", s->events);
        tr_strbuf_putc(&b, ',');
        ju(&b, "records_skipped", s->records_skipped);
        tr_strbuf_putc(&b, ',');
        ju(&b, "bytes", s->bytes_read);
        tr_strbuf_puts(&b, ",\"first\":");
        tr_strbuf_json_time(&b, s->first_time);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, s->last_time);
        tr_strbuf_putc(&b, '}');
    }
    tr_strbuf_putc(&b, ',');
    ju(&b, "detections", r->detections);
    tr_strbuf_putc(&b, ',');
    ju(&b, "hits", r->hits);
    tr_strbuf_puts(&b, ",\"first\":");
    tr_strbuf_json_time(&b, r->first);
    tr_strbuf_puts(&b, ",\"last\":");
    tr_strbuf_json_time(&b, r->last);

    tr_strbuf_puts(&b, ",\"servers\":[");
    for (size_t i = 0; i < r->nservers; i++) {
        exr_server *sv = &r->servers[i];
        tr_strbuf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        tr_strbuf_json_string(&b, sv->name);
        tr_strbuf_puts(&b, ",\"verdict\":");
        tr_strbuf_json_string(&b, tr_exchange_verdict_name(sv->verdict));
        tr_strbuf_puts(&b, ",\"reason\":");
        tr_strbuf_json_string(&b, sv->reason);
        tr_strbuf_putc(&b, ',');
        ju(&b, "hits", sv->hits);
        tr_strbuf_putc(&b, ',');
        ju(&b, "events", sv->events);
        tr_strbuf_puts(&b, ",\"evidence_read\":{");
        for (int k = 0; k < NSRC; k++) {
            if (k)
                tr_strbuf_putc(&b, ',');
            ju(&b, source_names[k], sv->by_source[k]);
        }
        tr_strbuf_puts(&b, "},\"first\":");
        tr_strbuf_json_time(&b, sv->first);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, sv->last);
        tr_strbuf_putc(&b, '}');
    }
    tr_strbuf_puts(&b, "],");
    ju(&b, "servers_left_out_events", r->servers_left_out);

    tr_strbuf_puts(&b, ",\"sections\":[");
    size_t order[EXR_MAX_SECTIONS];
    size_t n = section_order(r, order);
    for (size_t k = 0; k < n; k++) {
        if (k)
            tr_strbuf_putc(&b, ',');
        json_section(r, &b, order[k]);
    }
    tr_strbuf_puts(&b, "],");
    ju(&b, "sections_left_out_hits", r->sections_left_out);

    tr_strbuf_puts(&b, ",\"files\":[");
    for (size_t k = 0; k < r->nfiles; k++) {
        exr_file *f = &r->files[k];
        tr_strbuf_puts(&b, k ? ",{\"path\":" : "{\"path\":");
        tr_strbuf_json_string(&b, f->path);
        tr_strbuf_puts(&b, ",\"how\":");
        tr_strbuf_json_string(&b, f->how);
        tr_strbuf_puts(&b, ",\"server\":");
        tr_strbuf_json_string(&b, f->server < r->nservers ? r->servers[f->server].name : NULL);
        tr_strbuf_printf(&b, ",\"hits\":%llu,\"first\":", (unsigned long long)f->hits);
        tr_strbuf_json_time(&b, f->first);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, f->last);
        tr_strbuf_puts(&b, ",\"where\":");
        tr_strbuf_json_string(&b, f->where);
        tr_strbuf_putc(&b, '}');
    }
    tr_strbuf_puts(&b, "],");
    ju(&b, "files_left_out", r->files_left_out);

    tr_strbuf_puts(&b, ",\"webshells\":[");
    for (size_t k = 0; k < r->nshells; k++) {
        exr_shell *w = &r->shells[k];
        tr_strbuf_puts(&b, k ? ",{\"url\":" : "{\"url\":");
        tr_strbuf_json_string(&b, w->url);
        tr_strbuf_puts(&b, ",\"server\":");
        tr_strbuf_json_string(&b, w->server < r->nservers ? r->servers[w->server].name : NULL);
        tr_strbuf_puts(&b, ",\"client_ip\":");
        tr_strbuf_json_string(&b, w->ip);
        tr_strbuf_puts(&b, ",\"user_agent\":");
        tr_strbuf_json_string(&b, w->agent);
        tr_strbuf_puts(&b, ",\"user\":");
        tr_strbuf_json_string(&b, w->user);
        tr_strbuf_printf(&b, ",\"requests\":%llu,\"answered\":%llu,\"last_status\":", (unsigned long long)w->hits,
                         (unsigned long long)w->answered);
        if (w->last_status >= 0)
            tr_strbuf_printf(&b, "%ld", w->last_status);
        else
            tr_strbuf_puts(&b, "null");
        tr_strbuf_puts(&b, ",\"first\":");
        tr_strbuf_json_time(&b, w->first);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, w->last);
        tr_strbuf_puts(&b, ",\"where\":");
        tr_strbuf_json_string(&b, w->where);
        tr_strbuf_putc(&b, '}');
    }
    tr_strbuf_puts(&b, "],");
    ju(&b, "webshells_left_out", r->shells_left_out);

    tr_strbuf_puts(&b, ",\"clients\":[");
    for (size_t k = 0; k < r->nclients; k++) {
        exr_client *c = &r->clients[k];
        tr_strbuf_puts(&b, k ? ",{\"ip\":" : "{\"ip\":");
        tr_strbuf_json_string(&b, c->ip);
        tr_strbuf_printf(&b, ",\"hits\":%llu,\"succeeded\":%llu,\"first\":", (unsigned long long)c->hits,
                         (unsigned long long)c->succeeded);
        tr_strbuf_json_time(&b, c->first);
        tr_strbuf_puts(&b, ",\"last\":");
        tr_strbuf_json_time(&b, c->last);
        tr_strbuf_puts(&b, ",\"sections\":[");
        const char *sep = "";
        for (size_t i = 0; i < r->nsec; i++)
            if (c->sections >> i & 1u) {
                tr_strbuf_puts(&b, sep);
                tr_strbuf_json_string(&b, r->sec[i].id);
                sep = ",";
            }
        tr_strbuf_puts(&b, "],\"user_agents\":[");
        for (size_t a = 0; a < c->nagents; a++) {
            if (a)
                tr_strbuf_putc(&b, ',');
            tr_strbuf_json_string(&b, c->agents[a]);
        }
        tr_strbuf_puts(&b, "]}");
    }
    tr_strbuf_puts(&b, "],");
    ju(&b, "clients_left_out", r->clients_left_out);
    tr_strbuf_puts(&b, "}\n");
    return flush(&b, out);
}
