/*
 * test_evtx.c — the native EVTX reader.
 *
 * Two tiers. With ../shared present, every SigmaHQ regression .evtx is read
 * next to its .json rendering (made by another parser, evtx_dump) and every
 * field of each JSON event must be in the EVTX event of the same record id,
 * under the same flattened name, with the same text — and no other field —
 * so that one rule matches both sources. The differences of rendering that
 * are not differences of content are tolerated: GUIDs with or without
 * braces, timestamps with 6 or 7 fraction digits.
 *
 * Without ../shared too: files built here, byte by byte, from the format
 * description (file header, chunk, records, BinXML with templates), then
 * damaged — truncated, bad magic, garbage chunk, impossible record size,
 * nesting too deep, templates that multiply without end, invalid UTF-16 —
 * each of which must be reported (offset and reason) and skipped, while the
 * other records are still read.
 *
 * Environment: EVTX_ORACLE_ALL=1 prints every oracle difference (not just
 * the first screenful); EVTX_TEST_VERBOSE=1 prints the reports the damage
 * tests get; EVTX_WRITE_SEED=path writes the crafted log (fuzz seed).
 */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---------------------------------------------------------------- captured events */

/* One field as text, kept after the batch callback. */
typedef struct cfield {
    char *name;
    int type;
    char *text;      /* scalar text; list items joined by '\x1f' */
} cfield;

typedef struct cevent {
    unsigned long long record; /* EventRecordID */
    tr_time time;
    cfield *fields;
    size_t nfields;
} cevent;

typedef struct capture {
    cevent *ev;
    size_t n, cap;
} capture;

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void capture_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    capture *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->ev = realloc(c->ev, c->cap * sizeof *c->ev);
    }
    cevent *e = &c->ev[c->n++];
    memset(e, 0, sizeof *e);
    e->time = tr_event_time(ev);
    e->nfields = tr_event_field_count(ev);
    e->fields = calloc(e->nfields ? e->nfields : 1, sizeof *e->fields);
    for (size_t i = 0; i < e->nfields; i++) {
        const tr_field *f = tr_event_field(ev, i);
        cfield *cf = &e->fields[i];
        cf->name = dupn(f->name, f->name_len);
        cf->type = f->value.type;
        if (f->value.type == TR_LIST) {
            size_t len = 0;
            char *t = malloc(1);
            for (size_t k = 0; k < f->value.as.list.count; k++) {
                const tr_value *it = tr_event_list_item(ev, &f->value, k);
                t = realloc(t, len + it->len + 2);
                if (k)
                    t[len++] = '\x1f';
                memcpy(t + len, it->str ? it->str : "", it->len);
                len += it->len;
            }
            t[len] = '\0';
            cf->text = t;
        } else {
            cf->text = dupn(f->value.str ? f->value.str : "", f->value.len);
        }
        if (strcmp(cf->name, "Event.System.EventRecordID") == 0)
            e->record = strtoull(cf->text, NULL, 10);
    }
}

static void capture_free(capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t k = 0; k < c->ev[i].nfields; k++) {
            free(c->ev[i].fields[k].name);
            free(c->ev[i].fields[k].text);
        }
        free(c->ev[i].fields);
    }
    free(c->ev);
    memset(c, 0, sizeof *c);
}

static void capture_path(const char *path, capture *c, scan_result *r)
{
    memset(r, 0, sizeof *r);
    r->hook = capture_hook;
    r->hook_ctx = c;
    scan_path(r, path);
}

static void capture_memory(const char *name, const void *data, size_t len, capture *c, scan_result *r)
{
    memset(r, 0, sizeof *r);
    r->hook = capture_hook;
    r->hook_ctx = c;
    scan_memory(r, name, data, len);
}

static const cfield *cfind(const cevent *e, const char *name)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (strcmp(e->fields[i].name, name) == 0)
            return &e->fields[i];
    return NULL;
}

/* ---------------------------------------------------------------- regression oracle */

/* A GUID with its braces stripped, uppercased, or "" if s is no GUID. */
static void guid_norm(const char *s, char out[40])
{
    size_t n = strlen(s);
    out[0] = '\0';
    if (n == 38 && s[0] == '{' && s[37] == '}')
        s++, n = 36;
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return;
    for (size_t i = 0; i < 36; i++)
        out[i] = (char)(s[i] >= 'a' && s[i] <= 'f' ? s[i] - 32 : s[i]);
    out[36] = '\0';
}

/* Same content, allowing for rendering differences (see the file comment). */
static bool same_text(const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return true;
    char g1[40], g2[40];
    guid_norm(want, g1);
    guid_norm(got, g2);
    if (g1[0] && strcmp(g1, g2) == 0)
        return true;
    tr_time t1, t2;
    if (strchr(want, 'T') && tr_time_parse(want, strlen(want), &t1) == TR_OK &&
        tr_time_parse(got, strlen(got), &t2) == TR_OK && (t1 > t2 ? t1 - t2 : t2 - t1) < 1000)
        return true; /* evtx_dump prints microseconds, Windows 100 ns */
    return false;
}

static bool is_int(int t) { return t == TR_INT || t == TR_UINT; }

/* Where a .json disagrees with the bytes of its .evtx, the .json is wrong:
 * these differences are expected (and printed), not failures. */
static const struct {
    const char *file, *field, *why;
} errata[] = {
    {"ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx", "Event.EventData.ParentCommandLine",
     "the .json says Explorer.exe; the UTF-16 in the .evtx says Explorer.EXE"},
};

static bool erratum(const char *file, const char *field)
{
    for (size_t i = 0; i < sizeof errata / sizeof errata[0]; i++)
        if (strcmp(errata[i].file, file) == 0 && strcmp(errata[i].field, field) == 0)
            return true;
    return false;
}

typedef struct oracle_stats {
    int files, matched, known;
    char report[4096];
    size_t report_len;
} oracle_stats;

static void note(oracle_stats *st, const char *fmt, const char *a, const char *b, const char *c)
{
    if (getenv("EVTX_ORACLE_ALL")) {
        fprintf(stderr, fmt, a, b, c);
        return;
    }
    if (st->report_len > sizeof st->report - 600)
        return;
    st->report_len += (size_t)snprintf(st->report + st->report_len, sizeof st->report - st->report_len, fmt, a, b, c);
}

/* Compares the .evtx at path with the .json beside it. */
static void oracle_file(const char *evtx_path, oracle_stats *st)
{
    char json_path[1024];
    size_t n = strlen(evtx_path);
    if (n < 5 || n + 1 > sizeof json_path)
        return;
    snprintf(json_path, sizeof json_path, "%.*s.json", (int)(n - 5), evtx_path);
    struct stat sb;
    if (stat(json_path, &sb) != 0)
        return;
    st->files++;
    capture want = {0}, got = {0};
    scan_result rj, re;
    capture_path(json_path, &want, &rj);
    capture_path(evtx_path, &got, &re);
    const char *short_name = strrchr(evtx_path, '/') ? strrchr(evtx_path, '/') + 1 : evtx_path;
    bool ok = true;
    if (re.ndiags) {
        ok = false;
        note(st, "%s: diagnostics: %.300s%s\n", short_name, re.diags, "");
    }
    if (want.n == 0 || want.n != got.n) {
        ok = false;
        char a[32], b[32];
        snprintf(a, sizeof a, "%zu", want.n);
        snprintf(b, sizeof b, "%zu", got.n);
        note(st, "%s: %s event(s) in the .json, %s in the .evtx\n", short_name, a, b);
    }
    for (size_t i = 0; i < want.n; i++) {
        const cevent *w = &want.ev[i], *g = NULL;
        for (size_t k = 0; k < got.n && !g; k++)
            if (got.ev[k].record == w->record)
                g = &got.ev[k];
        if (!g) {
            ok = false;
            note(st, "%s: record %s of the .json not in the .evtx%s\n", short_name,
                 w->nfields ? cfind(w, "Event.System.EventRecordID") ? cfind(w, "Event.System.EventRecordID")->text : "?" : "?", "");
            continue;
        }
        for (size_t k = 0; k < w->nfields; k++) {
            const cfield *wf = &w->fields[k];
            const cfield *gf = cfind(g, wf->name);
            if (!gf) {
                ok = false;
                note(st, "%s: %s missing (want '%.80s')\n", short_name, wf->name, wf->text);
                continue;
            }
            bool same = same_text(wf->text, gf->text) &&
                        (wf->type == TR_NULL) == (gf->type == TR_NULL) && (!is_int(wf->type) || is_int(gf->type));
            if (!same && erratum(short_name, wf->name)) {
                st->known++;
                continue;
            }
            if (!same) {
                ok = false;
                char both[400];
                snprintf(both, sizeof both, "want '%.150s' (type %d), got '%.150s' (type %d)", wf->text, wf->type,
                         gf->text, gf->type);
                note(st, "%s: %s: %s\n", short_name, wf->name, both);
            }
        }
        for (size_t k = 0; k < g->nfields; k++) {
            if (!cfind(w, g->fields[k].name)) {
                ok = false;
                note(st, "%s: %s = '%.80s' not in the .json\n", short_name, g->fields[k].name, g->fields[k].text);
            }
        }
        if (w->time != g->time && (w->time > g->time ? w->time - g->time : g->time - w->time) >= 1000) {
            ok = false;
            note(st, "%s: event time differs%s%s\n", short_name, "", "");
        }
    }
    if (ok)
        st->matched++;
    capture_free(&want);
    capture_free(&got);
    scan_result_free(&rj);
    scan_result_free(&re);
}

static void oracle_visit(const char *path, void *ctx) { oracle_file(path, ctx); }

static void regression_oracle(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found: SigmaHQ regression data unavailable");
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sigma/regression_data", shared);
    oracle_stats st = {0};
    walk_files(dir, ".evtx", oracle_visit, &st);
    printf("  evtx oracle: %d of %d regression .evtx files match their .json (%d known .json errat%s)\n",
           st.matched, st.files, st.known, st.known == 1 ? "um" : "a");
    CHECK(st.files > 0);
    if (st.matched != st.files) {
        fputs(st.report, stderr);
        CHECK_INT(st.matched, st.files);
    }
}


/* ---------------------------------------------------------------- building EVTX files */

/* A growing byte buffer that writes one EVTX file: the file header, chunks,
 * records and BinXML, with sizes and checksums filled in at the end of each
 * piece. Names are always stored inline (valid, if wasteful). */
typedef struct xb {
    unsigned char *p;
    size_t len, cap;
    size_t chunk;      /* offset of the open chunk */
    size_t record;     /* offset of the open record */
    size_t last_record;
} xb;

static void xb_put(xb *x, const void *d, size_t n)
{
    if (x->len + n > x->cap) {
        x->cap = (x->len + n) * 2 + 4096;
        x->p = realloc(x->p, x->cap);
    }
    if (n)
        memcpy(x->p + x->len, d, n);
    x->len += n;
}
static void xb_u8(xb *x, unsigned v) { unsigned char b = (unsigned char)v; xb_put(x, &b, 1); }
static void xb_u16(xb *x, unsigned v) { xb_u8(x, v & 0xff); xb_u8(x, (v >> 8) & 0xff); }
static void xb_u32(xb *x, uint32_t v) { xb_u16(x, v & 0xffff); xb_u16(x, v >> 16); }
static void xb_u64(xb *x, uint64_t v) { xb_u32(x, (uint32_t)v); xb_u32(x, (uint32_t)(v >> 32)); }
static void xb_zeros(xb *x, size_t n) { while (n--) xb_u8(x, 0); }
static void set32(xb *x, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x->p[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}
static void set64(xb *x, size_t at, uint64_t v)
{
    set32(x, at, (uint32_t)v);
    set32(x, at + 4, (uint32_t)(v >> 32));
}
static uint32_t crc(const unsigned char *p, size_t n) { return (uint32_t)crc32(0L, p, (uInt)n); }
/* position relative to the open chunk */
static uint32_t xb_rel(const xb *x) { return (uint32_t)(x->len - x->chunk); }

static void xb_file_header(xb *x, unsigned nchunks, uint32_t flags)
{
    xb_put(x, "ElfFile\0", 8);
    xb_u64(x, 0);
    xb_u64(x, nchunks ? nchunks - 1 : 0);
    xb_u64(x, 100);
    xb_u32(x, 128);
    xb_u16(x, 1);
    xb_u16(x, 3);
    xb_u16(x, 4096);
    xb_u16(x, nchunks);
    xb_zeros(x, 76);
    xb_u32(x, flags);
    xb_u32(x, crc(x->p, 120));
    xb_zeros(x, 4096 - 128);
}

static void xb_chunk_begin(xb *x)
{
    x->chunk = x->len;
    x->last_record = 0;
    xb_put(x, "ElfChnk\0", 8);
    xb_zeros(x, 512 - 8);
}

static void xb_chunk_end(xb *x, uint64_t first, uint64_t last)
{
    size_t c = x->chunk;
    size_t free_off = x->len - c;
    set64(x, c + 8, first);
    set64(x, c + 16, last);
    set64(x, c + 24, first);
    set64(x, c + 32, last);
    set32(x, c + 40, 128);
    set32(x, c + 44, (uint32_t)x->last_record);
    set32(x, c + 48, (uint32_t)free_off);
    set32(x, c + 52, crc(x->p + c + 512, free_off - 512));
    xb_zeros(x, 65536 - free_off);
    uint32_t h = (uint32_t)crc32(crc32(0L, x->p + c, 120), x->p + c + 128, 384);
    set32(x, c + 124, h);
}

#define FT_2021 132591420721234567ull /* 2021-03-02T07:01:12.1234567Z */

static void xb_record_begin(xb *x, uint64_t id)
{
    x->record = x->len;
    x->last_record = x->len - x->chunk;
    xb_put(x, "\x2a\x2a\0\0", 4);
    xb_u32(x, 0);
    xb_u64(x, id);
    xb_u64(x, FT_2021);
}

static void xb_record_end(xb *x)
{
    uint32_t size = (uint32_t)(x->len - x->record + 4);
    xb_u32(x, size);
    set32(x, x->record + 4, size);
}

/* UTF-16LE of an ASCII string */
static void xb_utf16(xb *x, const char *s)
{
    for (; *s; s++)
        xb_u16(x, (unsigned char)*s);
}

/* a name reference to an inline name */
static void bx_name(xb *x, const char *name)
{
    xb_u32(x, xb_rel(x) + 4);
    xb_u32(x, 0);
    xb_u16(x, 0);
    xb_u16(x, (unsigned)strlen(name));
    xb_utf16(x, name);
    xb_u16(x, 0);
}

static void bx_frag(xb *x) { xb_put(x, "\x0f\x01\x01\x00", 4); }

static void bx_open(xb *x, const char *name, bool attrs)
{
    xb_u8(x, attrs ? 0x41 : 0x01);
    xb_u16(x, 0xffff);
    xb_u32(x, 0); /* data size: not needed by readers */
    bx_name(x, name);
    if (attrs)
        xb_u32(x, 0); /* attribute list size: likewise */
}

static void bx_attr(xb *x, const char *name) { xb_u8(x, 0x06); bx_name(x, name); }
static void bx_close_start(xb *x) { xb_u8(x, 0x02); }
static void bx_close_empty(xb *x) { xb_u8(x, 0x03); }
static void bx_end(xb *x) { xb_u8(x, 0x04); }
static void bx_eof(xb *x) { xb_u8(x, 0x00); }

static void bx_text(xb *x, const char *s)
{
    xb_u8(x, 0x05);
    xb_u8(x, 0x01);
    xb_u16(x, (unsigned)strlen(s));
    xb_utf16(x, s);
}

static void bx_subst(xb *x, unsigned id, unsigned type, bool optional)
{
    xb_u8(x, optional ? 0x0e : 0x0d);
    xb_u16(x, id);
    xb_u8(x, type);
}

/* <name>text</name> */
static void bx_leaf(xb *x, const char *name, const char *text)
{
    bx_open(x, name, false);
    bx_close_start(x);
    bx_text(x, text);
    bx_end(x);
}

/* Starts a template instance with its definition inline; the caller writes
 * the body (fragment header, one element, end of stream) and calls
 * bx_template_end. Returns the chunk offset of the definition. */
static uint32_t bx_template_begin(xb *x, size_t *size_at)
{
    xb_u8(x, 0x0c);
    xb_u8(x, 0x01);
    xb_u32(x, 0x1234);
    uint32_t def = xb_rel(x) + 4;
    xb_u32(x, def);
    xb_u32(x, 0);             /* next definition */
    xb_put(x, "0123456789abcdef", 16);
    *size_at = x->len;
    xb_u32(x, 0);
    return def;
}

static void bx_template_end(xb *x, size_t size_at) { set32(x, size_at, (uint32_t)(x->len - size_at - 4)); }

/* A reference to a template defined earlier in the chunk. */
static void bx_template_ref(xb *x, uint32_t def)
{
    xb_u8(x, 0x0c);
    xb_u8(x, 0x01);
    xb_u32(x, 0x1234);
    xb_u32(x, def);
}

typedef struct tv {
    unsigned type;
    const void *data;
    size_t size;
} tv;

static void bx_values(xb *x, const tv *v, size_t n)
{
    xb_u32(x, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        xb_u16(x, (unsigned)v[i].size);
        xb_u8(x, v[i].type);
        xb_u8(x, 0);
    }
    for (size_t i = 0; i < n; i++)
        xb_put(x, v[i].data, v[i].size);
}

/* ---------------------------------------------------------------- the crafted log */

/* UTF-16LE of ASCII text, with a terminating NUL, in a static buffer slot */
static const unsigned char *u16(const char *s, size_t *size)
{
    static unsigned char bufs[16][512];
    static int slot;
    unsigned char *b = bufs[slot++ % 16];
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        b[2 * i] = (unsigned char)s[i];
        b[2 * i + 1] = 0;
    }
    *size = 2 * n + 2;
    return b;
}

/* The System template every crafted event uses: values
 *   0 EventID (uint16)   1 Qualifiers (uint16, optional)  2 Provider (string)
 *   3 TimeCreated (FILETIME)  4 ActivityID (GUID, optional)  5 UserID (SID)
 *   6 Keywords (hex64)   7 EventRecordID (uint64)  8 EventData (BinXML) */
static uint32_t bx_event_template(xb *x, size_t *size_at)
{
    uint32_t def = bx_template_begin(x, size_at);
    bx_frag(x);
    bx_open(x, "Event", true);
    bx_attr(x, "xmlns");
    bx_text(x, "http://schemas.microsoft.com/win/2004/08/events/event");
    bx_close_start(x);
    bx_open(x, "System", false);
    bx_close_start(x);
    bx_open(x, "Provider", true);
    bx_attr(x, "Name");
    bx_subst(x, 2, 0x01, false);
    bx_close_empty(x);
    bx_open(x, "EventID", true);
    bx_attr(x, "Qualifiers");
    bx_subst(x, 1, 0x06, true);
    bx_close_start(x);
    bx_subst(x, 0, 0x06, false);
    bx_end(x);
    bx_open(x, "Keywords", false);
    bx_close_start(x);
    bx_subst(x, 6, 0x15, false);
    bx_end(x);
    bx_open(x, "TimeCreated", true);
    bx_attr(x, "SystemTime");
    bx_subst(x, 3, 0x11, true);
    bx_close_empty(x);
    bx_open(x, "EventRecordID", false);
    bx_close_start(x);
    bx_subst(x, 7, 0x0a, false);
    bx_end(x);
    bx_open(x, "Correlation", true);
    bx_attr(x, "ActivityID");
    bx_subst(x, 4, 0x0f, true);
    bx_close_empty(x);
    bx_open(x, "Security", true);
    bx_attr(x, "UserID");
    bx_subst(x, 5, 0x13, true);
    bx_close_empty(x);
    bx_leaf(x, "Channel", "Security");
    bx_end(x); /* System */
    bx_subst(x, 8, 0x21, true);
    bx_end(x); /* Event */
    bx_eof(x);
    bx_template_end(x, *size_at);
    return def;
}

static const unsigned char sid_bytes[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xf4, 1, 0, 0};
static const unsigned char guid_bytes[] = {0x46, 0xff, 0x3d, 0x6b, 0xe6, 0xf4, 0xda, 0x4c, 0x98, 0x3b, 0x76, 0xb1, 0x01, 0x72, 0x8a, 0xa5};

/* Writes the nested BinXML of value 8 in place (names are chunk offsets,
 * so a fragment must be written where it lands). */
typedef void (*payload_fn)(xb *x, const void *ctx);

/* One crafted event through the System template (defined inline when *def
 * is 0, else referenced), with `payload` writing value 8. */
static void bx_event(xb *x, uint32_t *def, uint64_t id, unsigned event_id, bool qualifiers, payload_fn payload,
                     const void *ctx)
{
    if (*def) {
        bx_template_ref(x, *def);
    } else {
        size_t size_at;
        *def = bx_event_template(x, &size_at);
    }
    unsigned char eid[2] = {(unsigned char)event_id, (unsigned char)(event_id >> 8)};
    unsigned char qual[2] = {0x00, 0x40};
    uint64_t ft = FT_2021, kw = 0x8020000000000000ull;
    unsigned char ftb[8], kwb[8], idb[8];
    for (int i = 0; i < 8; i++) {
        ftb[i] = (unsigned char)(ft >> (8 * i));
        kwb[i] = (unsigned char)(kw >> (8 * i));
        idb[i] = (unsigned char)(id >> (8 * i));
    }
    size_t psize;
    const unsigned char *prov = u16("Microsoft-Windows-Security-Auditing", &psize);
    tv v[8] = {
        {0x06, eid, 2},
        {qualifiers ? 0x06 : 0x00, qual, qualifiers ? 2 : 0},
        {0x01, prov, psize},
        {0x11, ftb, 8},
        {0x00, NULL, 0},
        {0x13, sid_bytes, sizeof sid_bytes},
        {0x15, kwb, 8},
        {0x0a, idb, 8},
    };
    xb_u32(x, 9);
    for (size_t i = 0; i < 8; i++) {
        xb_u16(x, (unsigned)v[i].size);
        xb_u8(x, v[i].type);
        xb_u8(x, 0);
    }
    size_t size8 = x->len;
    xb_u16(x, 0);
    xb_u8(x, payload ? 0x21 : 0x00);
    xb_u8(x, 0);
    for (size_t i = 0; i < 8; i++)
        xb_put(x, v[i].data, v[i].size);
    size_t start = x->len;
    if (payload)
        payload(x, ctx);
    size_t n = x->len - start;
    x->p[size8] = (unsigned char)n;
    x->p[size8 + 1] = (unsigned char)(n >> 8);
}

/* EventData written as plain elements (no template): named and unnamed
 * Data, Binary-like text, entity and character references. */
static void payload_plain(xb *x, const void *ctx)
{
    const char *user = ctx;
    bx_frag(x);
    bx_open(x, "EventData", false);
    bx_close_start(x);
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "TargetUserName");
    bx_close_start(x);
    bx_text(x, user);
    bx_end(x);
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "CommandLine");
    bx_close_start(x);
    bx_text(x, "a ");
    xb_u8(x, 0x49); /* entity reference &amp; */
    bx_name(x, "amp");
    xb_u8(x, 0x08); /* character reference &#233; */
    xb_u16(x, 0xe9);
    bx_text(x, " b");
    bx_end(x);
    bx_leaf(x, "Data", "first");
    bx_leaf(x, "Data", "second");
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "Empty");
    bx_close_empty(x);
    bx_leaf(x, "Binary", "D9060000");
    bx_end(x);
    bx_eof(x);
}

/* UserData through a template of its own, with typed values: int8, bool,
 * real64, GUID, SYSTEMTIME, hex32, an array of strings, binary. */
static void payload_userdata(xb *x, const void *ctx)
{
    (void)ctx;
    size_t size_at;
    bx_frag(x);
    bx_template_begin(x, &size_at);
    bx_frag(x);
    bx_open(x, "UserData", false);
    bx_close_start(x);
    bx_open(x, "LogFileCleared", true);
    bx_attr(x, "xmlns");
    bx_text(x, "http://manifests.microsoft.com/win/2004/08/windows/eventlog");
    bx_close_start(x);
    static const char *names[] = {"Small", "Flag", "Ratio", "Guid", "When", "Status", "Names", "Blob"};
    static const unsigned types[] = {0x03, 0x0d, 0x0c, 0x0f, 0x12, 0x14, 0x81, 0x0e};
    for (unsigned i = 0; i < 8; i++) {
        bx_open(x, names[i], false);
        bx_close_start(x);
        bx_subst(x, i, types[i], false);
        bx_end(x);
    }
    bx_end(x);
    bx_end(x);
    bx_eof(x);
    bx_template_end(x, size_at);
    unsigned char i8 = 0xfe, flag[4] = {1, 0, 0, 0}, real[8], st[16] = {0xe5, 0x07, 3, 0, 2, 0, 2, 0, 7, 0, 1, 0, 12, 0, 0x7b, 0};
    double d = 2.5;
    memcpy(real, &d, 8); /* little-endian host assumed, as by the reader's tests */
    unsigned char hex[4] = {0x20, 0x00, 0x07, 0x80};
    static const unsigned char names_arr[] = {'a', 0, 'b', 0, 0, 0, 'c', 0, 'd', 0, 0, 0};
    static const unsigned char blob[] = {0xde, 0xad, 0xbe, 0xef};
    tv v[8] = {
        {0x03, &i8, 1},           {0x0d, flag, 4},  {0x0c, real, 8},          {0x0f, guid_bytes, 16},
        {0x12, st, 16},           {0x14, hex, 4},   {0x81, names_arr, sizeof names_arr}, {0x0e, blob, 4},
    };
    bx_values(x, v, 8);
    bx_eof(x);
}

/* Writes the BinXML of a record (between record begin and end). */
typedef void (*record_fn)(xb *x, uint32_t *def);

static void record2_userdata(xb *x, uint32_t *def)
{
    bx_frag(x);
    bx_event(x, def, 2, 1102, false, payload_userdata, NULL);
    bx_eof(x);
}

/* One chunk of the crafted log: record first+0 with plain EventData, record
 * first+1 written by `middle` (typed UserData by default), record first+2
 * like the first without Qualifiers. */
static void crafted_chunk(xb *x, uint64_t first, record_fn middle)
{
    xb_chunk_begin(x);
    uint32_t def = 0;
    xb_record_begin(x, first);
    bx_frag(x);
    bx_event(x, &def, first, 4624, true, payload_plain, "alice");
    bx_eof(x);
    xb_record_end(x);
    xb_record_begin(x, first + 1);
    (middle ? middle : record2_userdata)(x, &def);
    xb_record_end(x);
    xb_record_begin(x, first + 2);
    bx_frag(x);
    bx_event(x, &def, first + 2, 4625, false, payload_plain, "bob");
    bx_eof(x);
    xb_record_end(x);
    xb_chunk_end(x, first, first + 2);
}

static xb crafted_with(record_fn middle)
{
    xb x = {0};
    xb_file_header(&x, 1, 0);
    crafted_chunk(&x, 1, middle);
    return x;
}

static xb crafted(void) { return crafted_with(NULL); }

static const char *cget(const capture *c, size_t ev, const char *name)
{
    if (ev >= c->n)
        return "<no event>";
    const cfield *f = cfind(&c->ev[ev], name);
    return f ? f->text : "<absent>";
}

static int ctype(const capture *c, size_t ev, const char *name)
{
    const cfield *f = ev < c->n ? cfind(&c->ev[ev], name) : NULL;
    return f ? f->type : -1;
}

#define CHECK_FIELD(c, ev, name, lit) CHECK_STRN(cget((c), (ev), (name)), strlen(cget((c), (ev), (name))), lit)

static void crafted_values(void)
{
    xb x = crafted();
    const char *seed = getenv("EVTX_WRITE_SEED"); /* how fuzz/seeds/crafted.evtx was made */
    if (seed) {
        FILE *f = fopen(seed, "wb");
        if (f) {
            fwrite(x.p, 1, x.len, f);
            fclose(f);
        }
    }
    capture c = {0};
    scan_result r;
    capture_memory("crafted.evtx", x.p, x.len, &c, &r);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    if (r.ndiags)
        fprintf(stderr, "%s", r.diags);
    CHECK_INT(r.stats.per_format_files[1], 1);
    /* System, through the template */
    CHECK_FIELD(&c, 0, "Event.xmlns", "http://schemas.microsoft.com/win/2004/08/events/event");
    CHECK_FIELD(&c, 0, "Event.System.Provider.Name", "Microsoft-Windows-Security-Auditing");
    CHECK_FIELD(&c, 0, "Event.System.EventID", "4624");
    CHECK_INT(ctype(&c, 0, "Event.System.EventID"), TR_INT);
    CHECK_FIELD(&c, 0, "Event.System.EventID.Qualifiers", "16384");
    CHECK_FIELD(&c, 2, "Event.System.EventID.Qualifiers", "<absent>"); /* optional, empty: no attribute */
    CHECK_FIELD(&c, 0, "Event.System.Keywords", "0x8020000000000000");
    CHECK_FIELD(&c, 0, "Event.System.TimeCreated.SystemTime", "2021-03-02T07:01:12.1234567Z");
    CHECK_INT(c.n ? c.ev[0].time : 0, 1614668472123456700LL);
    CHECK_FIELD(&c, 0, "Event.System.EventRecordID", "1");
    CHECK_INT(ctype(&c, 0, "Event.System.Correlation"), TR_NULL);
    CHECK_FIELD(&c, 0, "Event.System.Correlation.ActivityID", "<absent>");
    CHECK_FIELD(&c, 0, "Event.System.Security.UserID", "S-1-5-21-1-2-3-500");
    CHECK_FIELD(&c, 0, "Event.System.Channel", "Security");
    /* EventData, plain BinXML nested in a value */
    CHECK_FIELD(&c, 0, "Event.EventData.TargetUserName", "alice");
    CHECK_FIELD(&c, 2, "Event.EventData.TargetUserName", "bob");
    CHECK_FIELD(&c, 0, "Event.EventData.CommandLine", "a &\xc3\xa9 b");
    CHECK_FIELD(&c, 0, "Event.EventData.Data", "first\x1fsecond");
    CHECK_INT(ctype(&c, 0, "Event.EventData.Data"), TR_LIST);
    CHECK_FIELD(&c, 0, "Event.EventData.Empty", "");
    CHECK_INT(ctype(&c, 0, "Event.EventData.Empty"), TR_STR);
    CHECK_FIELD(&c, 0, "Event.EventData.Binary", "D9060000");
    CHECK_FIELD(&c, 0, "Event.EventData.Data.Name", "<absent>");
    /* UserData, typed values through a nested template */
    CHECK_FIELD(&c, 1, "Event.System.EventID", "1102");
    CHECK_INT(ctype(&c, 1, "Event.EventData"), -1);
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.xmlns", "http://manifests.microsoft.com/win/2004/08/windows/eventlog");
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Small", "-2");
    CHECK_INT(ctype(&c, 1, "Event.UserData.LogFileCleared.Small"), TR_INT);
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Flag", "true");
    CHECK_INT(ctype(&c, 1, "Event.UserData.LogFileCleared.Flag"), TR_BOOL);
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Ratio", "2.5");
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Guid", "{6B3DFF46-F4E6-4CDA-983B-76B101728AA5}");
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.When", "2021-03-02T07:01:12.1230000Z");
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Status", "0x80070020");
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Names", "ab\x1f\x63\x64");
    CHECK_INT(ctype(&c, 1, "Event.UserData.LogFileCleared.Names"), TR_LIST);
    CHECK_FIELD(&c, 1, "Event.UserData.LogFileCleared.Blob", "DEADBEEF");
    /* origin: record id and the record's file offset */
    CHECK_CONTAINS(r.dump, "\"format\":\"evtx\",\"record\":1,\"offset\":4608}");
    CHECK_CONTAINS(r.dump, "\"record\":2,");
    /* aliases work as for JSON */
    CHECK_CONTAINS(r.dump, "\"Event.System.EventID\":4624");
    capture_free(&c);
    scan_result_free(&r);
    free(x.p);
}


/* ---------------------------------------------------------------- damage */

/* Reads data as a file and returns what it gave (caller frees). */
static scan_result read_evtx(const void *data, size_t len, capture *c)
{
    scan_result r;
    capture_memory("damaged.evtx", data, len, c, &r);
    if (getenv("EVTX_TEST_VERBOSE")) /* to read the reports */
        fputs(r.diags, stderr);
    return r;
}

static size_t count_record(const capture *c, unsigned long long id)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->ev[i].record == id;
    return n;
}

static void truncated_file(void)
{
    xb x = crafted();
    /* every cut, 0..whole file: never a crash, always a report */
    for (size_t cut = 0; cut < 4096 + 2048; cut += 37) {
        capture c = {0};
        scan_result r = read_evtx(x.p, cut, &c);
        CHECK_INT(r.status, TR_OK);
        if (cut > 0)
            CHECK(r.nerrors > 0 || r.stats.skip_unknown == 1);
        capture_free(&c);
        scan_result_free(&r);
    }
    /* cut inside record 3: records 1 and 2 are read, the cut is reported */
    size_t rec3 = 0;
    for (size_t i = 4096 + 512; i + 8 < x.len; i++)
        if (memcmp(x.p + i, "\x2a\x2a\0\0", 4) == 0 && x.p[i + 8] == 3) {
            rec3 = i;
            break;
        }
    CHECK(rec3 > 0);
    capture c = {0};
    scan_result r = read_evtx(x.p, rec3 + 40, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "chunk truncated");
    CHECK_CONTAINS(r.diags, "damaged.evtx|offset 0x1000|");
    CHECK_INT(r.stats.files_damaged, 1);
    capture_free(&c);
    scan_result_free(&r);
    /* the header alone */
    r = read_evtx(x.p, 100, &c);
    CHECK_CONTAINS(r.diags, "EVTX file header truncated: 100 of 4096 bytes");
    CHECK_INT(r.nevents, 0);
    scan_result_free(&r);
    free(x.p);
}

static void bad_header(void)
{
    xb x = crafted();
    capture c = {0};
    /* a broken signature: not EVTX at all, and said so */
    x.p[6] = 'X';
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.stats.skip_unknown, 1);
    CHECK_INT(r.nevents, 0);
    scan_result_free(&r);
    /* a checksum mismatch, a dirty file, a header block size of 512: warned, read anyway */
    x.p[6] = 'e';
    x.p[120] |= 1;
    x.p[40] = 0;
    x.p[41] = 2;
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.nerrors, 0);
    CHECK_CONTAINS(r.diags, "warning|damaged.evtx|offset 0x0|file header checksum mismatch");
    CHECK_CONTAINS(r.diags, "file marked dirty");
    CHECK_CONTAINS(r.diags, "header block size 512");
    scan_result_free(&r);
    capture_free(&c);
    /* no file header at all: a chunk on its own (carved) */
    r = read_evtx(x.p + 4096, x.len - 4096, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_CONTAINS(r.dump, "\"record\":1,\"offset\":512}");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

static void garbage_chunk(void)
{
    xb x = {0};
    xb_file_header(&x, 3, 0);
    crafted_chunk(&x, 1, NULL);
    size_t g = x.len; /* a chunk of noise */
    uint32_t seed = 12345;
    for (int i = 0; i < 65536; i++) {
        seed = seed * 1103515245u + 12345u;
        xb_u8(&x, seed >> 24);
    }
    memcpy(x.p + g, "ElfChnk", 7); /* even with a near-miss signature */
    crafted_chunk(&x, 4, NULL);
    xb_zeros(&x, 65536);           /* preallocated space: not damage */
    crafted_chunk(&x, 7, NULL);    /* beyond the header's count: read */
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 9);
    CHECK_INT(r.nerrors, 1);
    CHECK_CONTAINS(r.diags, "error|damaged.evtx|offset 0x11000|no chunk signature; 65536 bytes skipped");
    CHECK_INT(count_record(&c, 4), 1);
    CHECK_INT(count_record(&c, 9), 1);
    scan_result_free(&r);
    capture_free(&c);
    /* a chunk whose header is intact but whose records are noise */
    for (size_t i = g + 512; i < g + 65536; i++)
        x.p[i] = (unsigned char)(i * 7);
    memcpy(x.p + g, "ElfChnk\0", 8);
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 9);
    CHECK(r.nerrors >= 1);
    CHECK_CONTAINS(r.diags, "no record signature; rest of the chunk skipped");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Offset of record `id` in the crafted file. */
static size_t record_offset(const xb *x, unsigned id)
{
    for (size_t i = 4096 + 512; i + 16 < x->len; i++)
        if (memcmp(x->p + i, "\x2a\x2a\0\0", 4) == 0 && x->p[i + 8] == id && x->p[i + 9] == 0)
            return i;
    return 0;
}

static void impossible_record_size(void)
{
    xb x = crafted();
    size_t r2 = record_offset(&x, 2);
    CHECK(r2 > 0);
    unsigned char save[4];
    memcpy(save, x.p + r2 + 4, 4);
    static const unsigned char sizes[][4] = {{0xff, 0xff, 0xff, 0x7f}, {4, 0, 0, 0}, {0x40, 0, 0, 0}};
    static const char *why[] = {"impossible record size 2147483647", "impossible record size 4",
                                "does not match its copy"};
    for (int k = 0; k < 3; k++) {
        memcpy(x.p + r2 + 4, sizes[k], 4);
        capture c = {0};
        scan_result r = read_evtx(x.p, x.len, &c);
        CHECK_INT(r.nevents, 2);
        CHECK_INT(count_record(&c, 1), 1);
        CHECK_INT(count_record(&c, 3), 1);
        CHECK_CONTAINS(r.diags, why[k]);
        CHECK_CONTAINS(r.diags, "bytes skipped to the next record");
        CHECK_INT(r.stats.records_skipped, 1);
        scan_result_free(&r);
        capture_free(&c);
    }
    memcpy(x.p + r2 + 4, save, 4);
    /* a flipped byte in a value: the records checksum says so, the record is read */
    x.p[r2 + 200] ^= 0x20;
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_CONTAINS(r.diags, "warning|damaged.evtx|offset 0x1000|chunk records checksum mismatch");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Record 2: <L><L>…100 levels…</L></L> as plain BinXML. */
static void record2_deep(xb *x, uint32_t *def)
{
    (void)def;
    bx_frag(x);
    for (int i = 0; i < 100; i++) {
        bx_open(x, "L", false);
        bx_close_start(x);
    }
    for (int i = 0; i < 100; i++)
        bx_end(x);
    bx_eof(x);
}

/* Record 2: a 400-character element name, nested three deep. */
static void record2_long_name(xb *x, uint32_t *def)
{
    (void)def;
    char name[401];
    memset(name, 'n', 400);
    name[400] = '\0';
    bx_frag(x);
    for (int i = 0; i < 3; i++) {
        bx_open(x, name, false);
        bx_close_start(x);
    }
    for (int i = 0; i < 3; i++)
        bx_end(x);
    bx_eof(x);
}

static void nested_too_deep(void)
{
    xb x = crafted_with(record2_deep);
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "error|damaged.evtx|offset 0x");
    CHECK_CONTAINS(r.diags, "record 2: elements nested deeper than 64 levels");
    CHECK_CONTAINS(r.diags, "record skipped");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
    /* names too long to be field names: reported like nesting */
    x = crafted_with(record2_long_name);
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "record 2: field name longer than 1024 bytes");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Template T = <A>%0 ×fan</A> with %0 BinXML; each value holds an
 * instance of T again, `levels` deep: fan^levels operations. */
static uint32_t bomb_def;
static int bomb_fan, bomb_levels;

static void bomb_values(xb *x, int level)
{
    xb_u32(x, 1);
    size_t desc = x->len;
    xb_u16(x, 0);
    xb_u8(x, level < bomb_levels ? 0x21 : 0x01);
    xb_u8(x, 0);
    size_t start = x->len;
    if (level < bomb_levels) {
        bx_frag(x);
        bx_template_ref(x, bomb_def);
        bomb_values(x, level + 1);
        bx_eof(x);
    } else {
        xb_utf16(x, "x");
    }
    size_t n = x->len - start;
    x->p[desc] = (unsigned char)n;
    x->p[desc + 1] = (unsigned char)(n >> 8);
}

static void record2_bomb(xb *x, uint32_t *def)
{
    (void)def;
    size_t size_at;
    bx_frag(x);
    bomb_def = bx_template_begin(x, &size_at);
    bx_frag(x);
    bx_open(x, "A", false);
    bx_close_start(x);
    for (int i = 0; i < bomb_fan; i++)
        bx_subst(x, 0, 0x21, false);
    bx_end(x);
    bx_eof(x);
    bx_template_end(x, size_at);
    bomb_values(x, 1);
    bx_eof(x);
}

static void template_expansion(void)
{
    /* 8^12 = 68 billion operations if nothing stopped it */
    bomb_fan = 8;
    bomb_levels = 12;
    xb x = crafted_with(record2_bomb);
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "record 2: record expands to more than");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
    /* a chain of 80 instances, one value each: too deep, reported */
    bomb_fan = 1;
    bomb_levels = 80;
    x = crafted_with(record2_bomb);
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "nested deeper than 64 levels");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
    /* the same chain 10 deep is fine: ten nested A elements, the text at the bottom */
    bomb_levels = 10;
    x = crafted_with(record2_bomb);
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_FIELD(&c, 1, "A.A.A.A.A.A.A.A.A.A", "x");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Record 2: a template instance whose definition offset points at the
 * instance itself, then one pointing past the chunk. */
static void record2_self(xb *x, uint32_t *def)
{
    (void)def;
    bx_frag(x);
    uint32_t self = xb_rel(x);
    bx_template_ref(x, self);
    xb_u32(x, 0);
    bx_eof(x);
}

static void record2_outside(xb *x, uint32_t *def)
{
    (void)def;
    bx_frag(x);
    bx_template_ref(x, 0xfffffff0u);
    xb_u32(x, 0);
    bx_eof(x);
}

static void template_references(void)
{
    xb x = crafted_with(record2_self);
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "record 2: ");
    CHECK_INT(r.stats.records_skipped, 1);
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
    x = crafted_with(record2_outside);
    r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "record 2: template offset 0xfffffff0 outside the chunk");
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Record 2: EventData with a lone surrogate, an unpaired low surrogate and
 * a valid pair. */
static void record2_utf16(xb *x, uint32_t *def)
{
    (void)def;
    bx_frag(x);
    bx_open(x, "Event", false);
    bx_close_start(x);
    bx_open(x, "EventData", false);
    bx_close_start(x);
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "Bad");
    bx_close_start(x);
    xb_u8(x, 0x05);
    xb_u8(x, 0x01);
    xb_u16(x, 6);
    static const unsigned units[] = {'a', 0xD800, 'b', 0xDC00, 0xD83D, 0xDE00};
    for (int i = 0; i < 6; i++)
        xb_u16(x, units[i]);
    bx_end(x);
    bx_end(x);
    bx_end(x);
    bx_eof(x);
}

static void invalid_utf16(void)
{
    xb x = crafted_with(record2_utf16);
    capture c = {0};
    scan_result r = read_evtx(x.p, x.len, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_FIELD(&c, 1, "Event.EventData.Bad", "a\xef\xbf\xbd" "b\xef\xbf\xbd\xf0\x9f\x98\x80");
    CHECK_CONTAINS(r.diags, "warning|damaged.evtx|offset 0x");
    CHECK_CONTAINS(r.diags, "record 2: invalid UTF-16 in 1 string(s), replaced by U+FFFD");
    CHECK_INT(r.stats.values_repaired, 1);
    scan_result_free(&r);
    capture_free(&c);
    free(x.p);
}

/* Every byte of the record area flipped in turn: nothing may crash, and
 * the chunk is always delivered or reported. */
static void byte_flips(void)
{
    xb x = crafted();
    size_t from = 4096 + 512, to = record_offset(&x, 3) + 64;
    for (size_t i = from; i < to; i++) {
        unsigned char save = x.p[i];
        x.p[i] = (unsigned char)(save ^ (i % 3 == 0 ? 0xff : i % 3 == 1 ? 0x40 : 0x01));
        capture c = {0};
        scan_result r = read_evtx(x.p, x.len, &c);
        CHECK_INT(r.status, TR_OK);
        CHECK(r.nevents + r.stats.records_skipped >= 1);
        scan_result_free(&r);
        capture_free(&c);
        x.p[i] = save;
    }
    free(x.p);
}

/* From disk through tiny windows and through gzip: the same events. */
extern size_t tr_input_test_window;

static void windows_and_gzip(void)
{
    xb x = crafted();
    const char *path = write_file("log.evtx", x.p, x.len);
    tr_input_test_window = 7;
    capture c = {0};
    scan_result r;
    capture_path(path, &c, &r);
    tr_input_test_window = 0;
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_FIELD(&c, 0, "Event.EventData.TargetUserName", "alice");
    scan_result_free(&r);
    capture_free(&c);
    char gz[600];
    snprintf(gz, sizeof gz, "%s/log.evtx.gz", test_tmpdir());
    gzFile g = gzopen(gz, "wb");
    CHECK(g != NULL);
    if (g) {
        gzwrite(g, x.p, (unsigned)x.len);
        gzclose(g);
        capture_path(gz, &c, &r);
        CHECK_INT(r.nevents, 3);
        CHECK_INT(r.ndiags, 0);
        CHECK_FIELD(&c, 2, "Event.EventData.TargetUserName", "bob");
        scan_result_free(&r);
        capture_free(&c);
    }
    free(x.p);
}

/* The Nth allocation fails, for every N: a clean error, never a crash or
 * a leak (the sanitizer build checks the latter). */
static void allocation_failures(void)
{
    xb x = crafted();
    scan_result r = {0};
    scan_failing_each_allocation(&r, "log.evtx", x.p, x.len, 400);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 3);
    scan_result_free(&r);
    free(x.p);
}

/* Mutations of real logs (with ../shared): bytes overwritten at random
 * places in the chunk; nothing may crash or hang. */
static void regression_mutations(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found");
        return;
    }
    char path[700];
    snprintf(path, sizeof path,
             "%s/sigma/regression_data/rules/windows/process_creation/proc_creation_win_susp_eventlog_content_recon/"
             "beaa66d6-aa1b-4e3c-80f5-e0145369bfaf.evtx",
             shared);
    size_t len;
    unsigned char *orig = (unsigned char *)read_all(path, &len);
    if (!orig) {
        tr_test_skip("regression sample not found");
        return;
    }
    unsigned char *buf = malloc(len);
    uint32_t seed = 2026;
    for (int round = 0; round < 400; round++) {
        memcpy(buf, orig, len);
        int flips = 1 + round % 8;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 4096 + (seed >> 8) % (len > 4096 + 4096 ? 4096 : len - 4096);
            seed = seed * 1103515245u + 12345u;
            buf[at] = (unsigned char)(seed >> 24);
        }
        capture c = {0};
        scan_result r = read_evtx(buf, len, &c);
        CHECK_INT(r.status, TR_OK);
        scan_result_free(&r);
        capture_free(&c);
    }
    free(buf);
    free(orig);
}


/* ---------------------------------------------------------------- XML rendering */

/* Captures each event's XML rendering (NULL kept as NULL) and origin flags. */
typedef struct xcap {
    char **xml;
    uint32_t *flags;
    uint64_t *offset;
    unsigned long long *record; /* the record header's id */
    unsigned long long *evid;   /* Event.System.EventRecordID, else the header's id */
    size_t n, cap;
} xcap;

static void xcap_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    xcap *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->xml = realloc(c->xml, c->cap * sizeof *c->xml);
        c->flags = realloc(c->flags, c->cap * sizeof *c->flags);
        c->offset = realloc(c->offset, c->cap * sizeof *c->offset);
        c->record = realloc(c->record, c->cap * sizeof *c->record);
        c->evid = realloc(c->evid, c->cap * sizeof *c->evid);
    }
    size_t len;
    const char *x = tr_event_xml(ev, &len);
    c->xml[c->n] = x ? dupn(x, len) : NULL;
    if (x && strlen(x) != len)
        c->xml[c->n][0] = '\0'; /* an embedded NUL: make the checks fail */
    c->flags[c->n] = tr_event_origin(ev)->flags;
    c->offset[c->n] = tr_event_origin(ev)->offset;
    const tr_field *f = tr_event_get(ev, "Event.System.EventRecordID", 26);
    c->record[c->n] = tr_event_origin(ev)->record;
    c->evid[c->n] = f && f->value.type == TR_INT ? (unsigned long long)f->value.as.i : c->record[c->n];
    c->n++;
}

static void xcap_free(xcap *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->xml[i]);
    free(c->xml);
    free(c->flags);
    free(c->offset);
    free(c->record);
    free(c->evid);
    memset(c, 0, sizeof *c);
}

static scan_result xscan_memory(const void *data, size_t len, unsigned flags, xcap *c)
{
    scan_result r;
    memset(&r, 0, sizeof r);
    r.hook = xcap_hook;
    r.hook_ctx = c;
    r.scan_flags = flags;
    scan_memory(&r, "log.evtx", data, len);
    if (getenv("EVTX_TEST_VERBOSE"))
        fputs(r.diags, stderr);
    return r;
}

/* Is xml one well-formed element on one line: tags balanced and named
 * alike, attribute values quoted, & only in references, no raw < > in
 * text or values? Returns NULL, or what is wrong. */
static const char *xml_wellformed(const char *x)
{
    const char *stack[80];
    size_t slen[80];
    int depth = 0, roots = 0;
    const char *p = x;
    if (!x)
        return "no XML";
    if (strchr(x, '\n') || strchr(x, '\r'))
        return "a line break";
    while (*p) {
        if (*p == '&') {
            static const char *ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            bool ok = false;
            for (size_t i = 0; i < 5 && !ok; i++)
                ok = strncmp(p, ents[i], strlen(ents[i])) == 0;
            if (!ok && p[1] == '#') {
                const char *q = p + 2;
                while (*q >= '0' && *q <= '9')
                    q++;
                ok = q > p + 2 && *q == ';';
            }
            if (!ok)
                return "a bare &";
            p++;
            continue;
        }
        if (*p == '>')
            return "a bare >";
        if (*p == '"')
            return "a bare \" in text";
        if (*p != '<') {
            p++;
            continue;
        }
        if (depth == 0 && roots++)
            return "more than one root element";
        if (p[1] == '/') {
            const char *n = p + 2, *e = strchr(n, '>');
            if (!e || depth == 0)
                return "an end tag without a start";
            depth--;
            if ((size_t)(e - n) != slen[depth] || strncmp(n, stack[depth], slen[depth]) != 0)
                return "an end tag that does not match";
            p = e + 1;
            if (depth == 0)
                roots = 1;
            continue;
        }
        const char *n = ++p;
        while (*p && *p != ' ' && *p != '>' && *p != '/' && *p != '<' && *p != '"')
            p++;
        if (p == n)
            return "an empty element name";
        const char *name = n;
        size_t nlen = (size_t)(p - n);
        for (;;) {
            while (*p == ' ')
                p++;
            if (p[0] == '/' && p[1] == '>') {
                p += 2;
                break;
            }
            if (*p == '>') {
                if (depth >= 80)
                    return "too deep for the checker";
                stack[depth] = name;
                slen[depth++] = nlen;
                p++;
                break;
            }
            const char *a = p;
            while (*p && *p != '=' && *p != ' ' && *p != '>' && *p != '<')
                p++;
            if (p == a || p[0] != '=' || p[1] != '"')
                return "an attribute without a quoted value";
            p += 2;
            while (*p && *p != '"') {
                if (*p == '<' || *p == '>')
                    return "< or > in an attribute value";
                if (*p == '&' && strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
                    strncmp(p, "&quot;", 6) && strncmp(p, "&#", 2))
                    return "a bare & in an attribute value";
                p++;
            }
            if (*p != '"')
                return "an unterminated attribute value";
            p++;
        }
    }
    if (depth)
        return "elements left open";
    return roots == 1 ? NULL : "no root element";
}

/* XML text with the five entities and numeric references decoded. */
static char *xml_unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; i < n;) {
        static const struct {
            const char *e;
            char c;
        } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t k = 0; k < 5 && !done; k++) {
            size_t l = strlen(ents[k].e);
            if (n - i >= l && memcmp(s + i, ents[k].e, l) == 0) {
                *o++ = ents[k].c;
                i += l;
                done = true;
            }
        }
        if (!done && n - i > 2 && s[i] == '&' && s[i + 1] == '#') {
            char *end;
            unsigned long v = strtoul(s + i + 2, &end, 10);
            if (*end == ';' && v < 0x80) {
                *o++ = (char)v;
                i = (size_t)(end + 1 - s);
                done = true;
            }
        }
        if (!done)
            *o++ = s[i++];
    }
    *o = '\0';
    return out;
}

/* The decoded content of the first element that starts with `open` (an
 * open tag up to its '>', or up to " />" for an empty one); NULL if none. */
static char *xml_content(const char *xml, const char *open, const char *close)
{
    size_t ol = strlen(open);
    for (const char *p = xml ? strstr(xml, open) : NULL; p; p = strstr(p + 1, open)) {
        const char *q = p + ol;
        if (strncmp(q, " />", 3) == 0)
            return xml_unescape("", 0);
        if (*q == ' ') { /* attributes before the '>' */
            q = strchr(q, '>');
            if (!q || q[-1] == '/')
                return q ? xml_unescape("", 0) : NULL;
        } else if (*q != '>') {
            continue;
        }
        q++;
        const char *e = strstr(q, close);
        return e ? xml_unescape(q, (size_t)(e - q)) : NULL;
    }
    return NULL;
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        s[--n] = '\0';
}

typedef struct xml_stats {
    int files, events, datas, bad;
    char report[2048];
    size_t report_len;
} xml_stats;

static void xml_note(xml_stats *st, const char *file, const char *what, const char *detail)
{
    st->bad++;
    if (st->report_len < sizeof st->report - 400)
        st->report_len += (size_t)snprintf(st->report + st->report_len, sizeof st->report - st->report_len,
                                           "%s: %s: %.200s\n", file, what, detail);
}

/* The XML of every event of one regression .evtx against its .json. */
static void xml_file(const char *evtx_path, xml_stats *st)
{
    char json_path[1024];
    size_t n = strlen(evtx_path);
    if (n < 5 || n + 1 > sizeof json_path)
        return;
    snprintf(json_path, sizeof json_path, "%.*s.json", (int)(n - 5), evtx_path);
    struct stat sb;
    if (stat(json_path, &sb) != 0)
        return;
    size_t len;
    char *data = read_all(evtx_path, &len);
    if (!data)
        return;
    st->files++;
    capture want = {0};
    scan_result rj;
    capture_path(json_path, &want, &rj);
    xcap got = {0};
    scan_result re = xscan_memory(data, len, TR_SCAN_XML, &got);
    const char *file = strrchr(evtx_path, '/') + 1;
    for (size_t i = 0; i < want.n; i++) {
        const cevent *w = &want.ev[i];
        const char *xml = NULL;
        for (size_t k = 0; k < got.n && !xml; k++)
            if (got.evid[k] == w->record)
                xml = got.xml[k];
        if (!xml) {
            xml_note(st, file, "record without XML", "");
            continue;
        }
        st->events++;
        const char *why = xml_wellformed(xml);
        if (why)
            xml_note(st, file, why, xml);
        if (strncmp(xml, "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">", 69) != 0)
            xml_note(st, file, "does not open with <Event xmlns=...>", xml);
        const cfield *eid = cfind(w, "Event.System.EventID");
        char *x = xml_content(xml, "<EventID", "</EventID>");
        if (!eid || !x || strcmp(x, eid->text) != 0)
            xml_note(st, file, "EventID differs", x ? x : "(none)");
        free(x);
        for (size_t k = 0; k < w->nfields; k++) {
            const cfield *f = &w->fields[k];
            if (strncmp(f->name, "Event.EventData.", 16) != 0 || f->type == TR_LIST || f->type == TR_NULL ||
                strchr(f->name + 16, '.'))
                continue;
            char open[600];
            snprintf(open, sizeof open, "<Data Name=\"%s\"", f->name + 16);
            x = xml_content(xml, open, "</Data>");
            if (!x) {
                xml_note(st, file, "no <Data Name=...> for", f->name);
                continue;
            }
            rtrim(x); /* the .json's strings are trimmed, the XML's are as stored */
            if (!same_text(f->text, x) && !erratum(file, f->name))
                xml_note(st, file, f->name, x);
            st->datas++;
            free(x);
        }
    }
    capture_free(&want);
    xcap_free(&got);
    scan_result_free(&rj);
    scan_result_free(&re);
    free(data);
}

static void xml_visit(const char *path, void *ctx) { xml_file(path, ctx); }

/* With ../shared: the XML of every regression .evtx is well-formed, opens
 * with the event namespace, and holds the EventID and every named Data
 * value of the .json beside it. */
static void xml_regression(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found: SigmaHQ regression data unavailable");
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sigma/regression_data", shared);
    xml_stats st = {0};
    walk_files(dir, ".evtx", xml_visit, &st);
    printf("  evtx xml: %d events of %d files, %d Data values checked against the .json\n", st.events, st.files,
           st.datas);
    CHECK(st.files > 0);
    CHECK(st.datas > st.events);
    if (st.bad)
        fputs(st.report, stderr);
    CHECK_INT(st.bad, 0);
}

/* Record 2: a template whose string values hold every character XML must
 * escape, in an attribute and in content, and text tokens that do too. */
static void record2_special(xb *x, uint32_t *def)
{
    (void)def;
    size_t size_at;
    bx_frag(x);
    bx_template_begin(x, &size_at);
    bx_frag(x);
    bx_open(x, "Event", true);
    bx_attr(x, "xmlns");
    bx_text(x, "http://schemas.microsoft.com/win/2004/08/events/event");
    bx_close_start(x);
    bx_open(x, "System", false);
    bx_close_start(x);
    bx_open(x, "Provider", true);
    bx_attr(x, "Name");
    bx_subst(x, 0, 0x01, false);
    bx_attr(x, "Guid"); /* an empty optional value: no attribute */
    bx_subst(x, 2, 0x0f, true);
    bx_close_empty(x);
    bx_leaf(x, "EventID", "4688");
    bx_end(x);
    bx_open(x, "EventData", false);
    bx_close_start(x);
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "CommandLine");
    bx_close_start(x);
    bx_subst(x, 1, 0x01, false);
    bx_end(x);
    bx_open(x, "Data", true);
    bx_attr(x, "Name");
    bx_text(x, "Literal");
    bx_close_start(x);
    bx_text(x, "if (a<b && c>d) \"x\"");
    bx_end(x);
    bx_end(x);
    bx_end(x);
    bx_eof(x);
    bx_template_end(x, size_at);
    size_t s0;
    const unsigned char *v0 = u16("R&D <\"lab\">", &s0);
    unsigned char b1[128];
    const char *cmd = "cmd /c \"echo <x> & more\"\r\nline2 ";
    size_t n1 = strlen(cmd);
    for (size_t i = 0; i <= n1; i++) {
        b1[2 * i] = (unsigned char)cmd[i];
        b1[2 * i + 1] = 0;
    }
    tv v[3] = {{0x01, v0, s0}, {0x01, b1, 2 * n1 + 2}, {0x00, NULL, 0}};
    bx_values(x, v, 3);
    bx_eof(x);
}

static void xml_crafted(void)
{
    xb x = crafted_with(record2_special);
    xcap c = {0};
    scan_result r = xscan_memory(x.p, x.len, TR_SCAN_XML, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    for (size_t i = 0; i < c.n; i++) {
        const char *why = xml_wellformed(c.xml[i]);
        if (why)
            fprintf(stderr, "event %zu: %s: %s\n", i, why, c.xml[i] ? c.xml[i] : "");
        CHECK(why == NULL);
    }
    if (c.n == 3) {
        /* record 1: the System template, EventData as plain BinXML */
        CHECK_CONTAINS(c.xml[0], "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
                                 "<Provider Name=\"Microsoft-Windows-Security-Auditing\" />");
        CHECK_CONTAINS(c.xml[0], "\" /><EventID Qualifiers=\"16384\">4624</EventID>"
                                 "<Keywords>0x8020000000000000</Keywords>"
                                 "<TimeCreated SystemTime=\"2021-03-02T07:01:12.1234567Z\" />");
        CHECK_CONTAINS(c.xml[0], "Z\" /><EventRecordID>1</EventRecordID><Correlation />"
                                 "<Security UserID=\"S-1-5-21-1-2-3-500\" /><Channel>Security</Channel></System>");
        CHECK_CONTAINS(c.xml[0], "</System><EventData><Data Name=\"TargetUserName\">alice</Data>"
                                 "<Data Name=\"CommandLine\">a &amp;\xc3\xa9 b</Data>");
        CHECK_CONTAINS(c.xml[0], " b</Data><Data>first</Data><Data>second</Data><Data Name=\"Empty\" />"
                                 "<Binary>D9060000</Binary></EventData></Event>");
        /* record 2: escaping in attributes, substituted values and text */
        CHECK_CONTAINS(c.xml[1], "<Provider Name=\"R&amp;D &lt;&quot;lab&quot;&gt;\" />");
        CHECK_CONTAINS(c.xml[1],
                       "<Data Name=\"CommandLine\">cmd /c &quot;echo &lt;x&gt; &amp; more&quot;&#13;&#10;line2 </Data>");
        CHECK_CONTAINS(c.xml[1], "<Data Name=\"Literal\">if (a&lt;b &amp;&amp; c&gt;d) &quot;x&quot;</Data>");
        /* record 3: an empty optional Qualifiers is no attribute */
        CHECK_CONTAINS(c.xml[2], "<EventID>4625</EventID>");
    }
    scan_result_free(&r);
    xcap_free(&c);
    /* the fields are those of a scan without XML */
    capture plain = {0};
    r = read_evtx(x.p, x.len, &plain);
    CHECK_INT(plain.n, 3);
    CHECK_FIELD(&plain, 1, "Event.EventData.CommandLine", "cmd /c \"echo <x> & more\"\r\nline2");
    CHECK_FIELD(&plain, 1, "Event.System.Provider.Name", "R&D <\"lab\">");
    scan_result_free(&r);
    capture_free(&plain);
    /* without the flag, no XML; JSON input has none either */
    r = xscan_memory(x.p, x.len, 0, &c);
    CHECK_INT(c.n, 3);
    for (size_t i = 0; i < c.n; i++)
        CHECK(c.xml[i] == NULL);
    CHECK(strstr(r.dump, "\"xml\":") == NULL);
    scan_result_free(&r);
    xcap_free(&c);
    const char *json = "{\"Event\":{\"System\":{\"EventID\":4624}}}\n";
    r = xscan_memory(json, strlen(json), TR_SCAN_XML, &c);
    CHECK_INT(c.n, 1);
    CHECK(c.n == 1 && c.xml[0] == NULL);
    scan_result_free(&r);
    xcap_free(&c);
    /* the JSON writer carries the XML when there is one */
    r = xscan_memory(x.p, x.len, TR_SCAN_XML, &c);
    CHECK_CONTAINS(r.dump, "\"xml\":\"<Event xmlns=\\\"http://schemas.microsoft.com/win/2004/08/events/event\\\">");
    scan_result_free(&r);
    xcap_free(&c);
    free(x.p);
}

/* ---------------------------------------------------------------- recovery */

/* Moves the open-ended chunk at x->p + chunk's free-space offset to `free_off`
 * (what Windows leaves after records are dropped), checksums recomputed. */
static void set_free_offset(xb *x, size_t chunk, uint32_t free_off)
{
    set32(x, chunk + 48, free_off);
    set32(x, chunk + 52, crc(x->p + chunk + 512, free_off - 512));
    set32(x, chunk + 124, (uint32_t)crc32(crc32(0L, x->p + chunk, 120), x->p + chunk + 128, 384));
}

/* A crafted chunk whose last record (3) lies in the slack: its free-space
 * offset points at record 3. */
static xb slack_file(void)
{
    xb x = crafted();
    size_t r3 = record_offset(&x, 3);
    set_free_offset(&x, 4096, (uint32_t)(r3 - 4096));
    return x;
}

static size_t count_flag(const xcap *c, uint32_t flag)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += (c->flags[i] & flag) != 0;
    return n;
}

static size_t count_rec(const xcap *c, unsigned long long id)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->record[i] == id;
    return n;
}

static void recover_slack_record(void)
{
    xb x = slack_file();
    size_t r3 = record_offset(&x, 3);
    xcap c = {0};
    /* without the option: records 1 and 2, nothing to complain about */
    scan_result r = xscan_memory(x.p, x.len, 0, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(count_rec(&c, 3), 0);
    CHECK_INT(r.stats.records_recovered, 0);
    scan_result_free(&r);
    xcap_free(&c);
    /* with it: record 3 too, marked, counted, at its offset */
    r = xscan_memory(x.p, x.len, TR_SCAN_RECOVER, &c);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.ndiags, 0);
    CHECK_INT(r.stats.records_recovered, 1);
    CHECK_INT(r.stats.events, 3);
    CHECK_INT(count_rec(&c, 3), 1);
    CHECK_INT(count_flag(&c, TR_ORIGIN_RECOVERED), 1);
    for (size_t i = 0; i < c.n; i++) {
        CHECK_INT(c.flags[i] != 0, c.record[i] == 3);
        if (c.record[i] == 3)
            CHECK_INT(c.offset[i], r3);
    }
    CHECK_CONTAINS(r.dump, "\"record\":3,\"offset\":");
    CHECK_CONTAINS(r.dump, ",\"recovered\":true},\"fields\":");
    scan_result_free(&r);
    xcap_free(&c);
    /* and with XML: the recovered record renders like any other */
    r = xscan_memory(x.p, x.len, TR_SCAN_RECOVER | TR_SCAN_XML, &c);
    CHECK_INT(c.n, 3);
    for (size_t i = 0; i < c.n; i++)
        CHECK(xml_wellformed(c.xml[i]) == NULL);
    CHECK(c.n == 3 && strstr(c.xml[2], "<EventRecordID>3</EventRecordID>") != NULL);
    scan_result_free(&r);
    xcap_free(&c);
    free(x.p);
}

/* Slack as Windows leaves it after a wrap: old records, one of them
 * partly overwritten (a valid header, a body of noise), one at an odd
 * offset behind remnants of record signatures. */
static void recover_deleted_records(void)
{
    xb x = {0};
    xb_file_header(&x, 1, 0);
    xb_chunk_begin(&x);
    uint32_t def = 0;
    for (unsigned id = 1; id <= 2; id++) {
        xb_record_begin(&x, id);
        bx_frag(&x);
        bx_event(&x, &def, id, 4624, true, payload_plain, "alice");
        bx_eof(&x);
        xb_record_end(&x);
    }
    uint32_t free_off = xb_rel(&x);
    /* deleted record 7: through the template defined by record 1 */
    xb_record_begin(&x, 7);
    bx_frag(&x);
    bx_event(&x, &def, 7, 4720, false, payload_plain, "mallory");
    bx_eof(&x);
    xb_record_end(&x);
    /* record 8: header and size copy intact, body overwritten */
    xb_record_begin(&x, 8);
    for (int i = 0; i < 300; i++)
        xb_u8(&x, (unsigned)(i * 37 + 11));
    xb_record_end(&x);
    /* remnants: signatures with impossible sizes, then record 9 at an odd offset */
    xb_put(&x, "\x2a\x2a\0\0\xff\xff\xff\xff\x2a\x2a\0\0\x10\0\0\0\x2a", 17);
    xb_record_begin(&x, 9);
    bx_frag(&x);
    bx_event(&x, &def, 9, 1102, false, payload_plain, "eve");
    bx_eof(&x);
    xb_record_end(&x);
    size_t chunk = x.chunk;
    xb_chunk_end(&x, 1, 2);
    set_free_offset(&x, chunk, free_off);
    xcap c = {0};
    scan_result r = xscan_memory(x.p, x.len, 0, &c);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    scan_result_free(&r);
    xcap_free(&c);
    r = xscan_memory(x.p, x.len, TR_SCAN_RECOVER, &c);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 4);
    CHECK_INT(r.nerrors, 0);
    CHECK_INT(r.stats.records_recovered, 2);
    CHECK_INT(r.stats.records_skipped, 0);
    CHECK_INT(count_rec(&c, 7), 1);
    CHECK_INT(count_rec(&c, 8), 0);
    CHECK_INT(count_rec(&c, 9), 1);
    CHECK_INT(count_flag(&c, TR_ORIGIN_RECOVERED), 2);
    CHECK_CONTAINS(r.dump, "\"Event.EventData.TargetUserName\":\"mallory\"");
    CHECK_CONTAINS(r.dump, "\"Event.EventData.TargetUserName\":\"eve\"");
    scan_result_free(&r);
    xcap_free(&c);
    free(x.p);
}

/* Slack full of noise, with record signatures sprinkled in: nothing is
 * recovered, nothing is reported, nothing crashes, whatever the noise. */
static void recover_garbage_slack(void)
{
    xb x = crafted();
    size_t r3 = record_offset(&x, 3);
    size_t from = r3 + (size_t)(x.p[r3 + 4] | x.p[r3 + 5] << 8);
    uint32_t seed = 77;
    for (int round = 0; round < 200; round++) {
        for (size_t i = from; i < 4096 + 65536; i++) {
            seed = seed * 1103515245u + 12345u;
            x.p[i] = (unsigned char)(seed >> 24);
            if ((seed >> 8) % 97 == 0 && i + 8 < 4096 + 65536) { /* a signature and a plausible size */
                memcpy(x.p + i, "\x2a\x2a\0\0", 4);
                uint32_t sz = 28 + (seed >> 12) % 600;
                set32(&x, i + 4, sz);
                if (round % 2 && i + sz <= 4096 + 65536)
                    set32(&x, i + sz - 4, sz); /* and its copy: a header that looks right */
                i += 7;
            }
        }
        xcap c = {0};
        scan_result r = xscan_memory(x.p, x.len, TR_SCAN_RECOVER | (round % 3 ? 0 : TR_SCAN_XML), &c);
        CHECK_INT(r.status, TR_OK);
        CHECK_INT(r.nevents, 3);
        CHECK_INT(r.nerrors, 0);
        CHECK_INT(r.stats.records_recovered, 0);
        scan_result_free(&r);
        xcap_free(&c);
    }
    free(x.p);
}

/* A chunk off the 64 KiB grid inside a block of noise: carved only with
 * the option, its records read once, the chunks around it unchanged. */
static void recover_carved_chunk(void)
{
    xb x = {0};
    xb_file_header(&x, 3, 0);
    crafted_chunk(&x, 1, NULL);
    size_t g = x.len;
    uint32_t seed = 99;
    for (int i = 0; i < 0x1234; i++) {
        seed = seed * 1103515245u + 12345u;
        xb_u8(&x, seed >> 24);
    }
    size_t carved = x.len;
    crafted_chunk(&x, 4, NULL);
    while (x.len < g + 2 * 65536) {
        seed = seed * 1103515245u + 12345u;
        xb_u8(&x, seed >> 24);
    }
    crafted_chunk(&x, 7, NULL);
    xcap c = {0};
    scan_result r = xscan_memory(x.p, x.len, 0, &c);
    CHECK_INT(r.nevents, 6);
    CHECK_INT(count_rec(&c, 4), 0);
    CHECK_CONTAINS(r.diags, "no chunk signature");
    scan_result_free(&r);
    xcap_free(&c);
    r = xscan_memory(x.p, x.len, TR_SCAN_RECOVER | TR_SCAN_XML, &c);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 9);
    CHECK_INT(r.stats.records_recovered, 3);
    for (unsigned id = 1; id <= 9; id++)
        CHECK_INT(count_rec(&c, id), 1);
    for (size_t i = 0; i < c.n; i++) {
        CHECK_INT(c.flags[i] != 0, c.record[i] >= 4 && c.record[i] <= 6);
        CHECK(xml_wellformed(c.xml[i]) == NULL);
        if (c.record[i] == 4)
            CHECK_INT(c.offset[i], carved + 512);
    }
    CHECK_CONTAINS(r.diags, "chunk signature off the 64 KiB grid");
    scan_result_free(&r);
    xcap_free(&c);
    /* the same through tiny windows and from disk */
    const char *path = write_file("carved.evtx", x.p, x.len);
    tr_input_test_window = 5;
    memset(&r, 0, sizeof r);
    r.hook = xcap_hook;
    r.hook_ctx = &c;
    r.scan_flags = TR_SCAN_RECOVER;
    scan_path(&r, path);
    tr_input_test_window = 0;
    CHECK_INT(r.nevents, 9);
    CHECK_INT(r.stats.records_recovered, 3);
    scan_result_free(&r);
    xcap_free(&c);
    /* every cut of the carved region: never a crash, never a record twice */
    for (size_t cut = carved; cut < carved + 65536 + 600; cut += 1531) {
        r = xscan_memory(x.p, cut, TR_SCAN_RECOVER, &c);
        CHECK_INT(r.status, TR_OK);
        for (unsigned id = 1; id <= 6; id++)
            CHECK(count_rec(&c, id) <= 1);
        scan_result_free(&r);
        xcap_free(&c);
    }
    free(x.p);
}

/* The Nth allocation fails with XML and recovery on, for every N: a clean
 * error or the whole result, never a crash or a leak. */
static void recover_xml_allocation_failures(void)
{
    xb x = slack_file();
    scan_result r = {0};
    r.scan_flags = TR_SCAN_XML | TR_SCAN_RECOVER;
    scan_failing_each_allocation(&r, "log.evtx", x.p, x.len, 400);
    CHECK_INT(r.status, TR_OK);
    CHECK_INT(r.nevents, 3);
    CHECK_INT(r.stats.records_recovered, 1);
    CHECK_CONTAINS(r.dump, "\"xml\":\"<Event");
    scan_result_free(&r);
    free(x.p);
}

/* With ../shared: recovery over every .evtx never yields one record offset
 * twice, and every record read without it is still read, unmarked. */
static void recover_shared(void)
{
    const char *shared = shared_dir();
    if (!shared) {
        tr_test_skip("../shared not found");
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/evtx", shared);
    xcap plain = {0}, rec = {0};
    scan_result r;
    memset(&r, 0, sizeof r);
    r.hook = xcap_hook;
    r.hook_ctx = &plain;
    scan_path(&r, dir);
    scan_result_free(&r);
    memset(&r, 0, sizeof r);
    r.hook = xcap_hook;
    r.hook_ctx = &rec;
    r.scan_flags = TR_SCAN_RECOVER;
    scan_path(&r, dir);
    uint64_t recovered = r.stats.records_recovered;
    printf("  evtx recovery: %zu events read, %llu more recovered from slack and carved chunks\n", plain.n,
           (unsigned long long)recovered);
    CHECK_INT(rec.n, plain.n + recovered);
    CHECK_INT(count_flag(&rec, TR_ORIGIN_RECOVERED), recovered);
    CHECK_INT(count_flag(&plain, TR_ORIGIN_RECOVERED), 0);
    /* the normal events come in the same order, the recovered ones between */
    size_t k = 0, order_ok = 1;
    for (size_t i = 0; i < rec.n && k < plain.n; i++) {
        if (rec.flags[i])
            continue;
        order_ok &= rec.offset[i] == plain.offset[k] && rec.record[i] == plain.record[k];
        k++;
    }
    CHECK(order_ok);
    CHECK_INT(k, plain.n);
    scan_result_free(&r);
    xcap_free(&plain);
    xcap_free(&rec);
}

void suite_evtx(void)
{
    RUN(regression_oracle);
    RUN(crafted_values);
    RUN(truncated_file);
    RUN(bad_header);
    RUN(garbage_chunk);
    RUN(impossible_record_size);
    RUN(nested_too_deep);
    RUN(template_expansion);
    RUN(template_references);
    RUN(invalid_utf16);
    RUN(byte_flips);
    RUN(windows_and_gzip);
    RUN(allocation_failures);
    RUN(regression_mutations);
    RUN(xml_regression);
    RUN(xml_crafted);
    RUN(recover_slack_record);
    RUN(recover_deleted_records);
    RUN(recover_garbage_slack);
    RUN(recover_carved_chunk);
    RUN(recover_xml_allocation_failures);
    RUN(recover_shared);
}
