/*
 * test_examples_evtx.c — the EVTX files of the example case
 * (examples/exchange-intrusion/evtx/EXCH01-*.evtx, written by
 * tools/jsonl2evtx from the JSON lines kept in
 * tests/fixtures/examples-jsonl/) read as the same events as their JSON
 * sources: no diagnostic, the same number of events in the same
 * EventRecordID order, the same time, and field by field the same names in
 * the same order with the same types and values.
 *
 * Two differences are expected and checked precisely rather than ignored:
 * TimeCreated's SystemTime text (the JSON has evtx_dump's six fraction
 * digits, the EVTX reader renders a FILETIME with Windows' seven), and
 * string values with trailing white space (the EVTX reader trims it, as
 * evtx_dump does: see src/read/evtx.c). Also checked: the XML rendering
 * (`dump --xml`) has Event Viewer's shape, exactly for two records.
 *
 * Run from the repository root; skipped, saying so, when the files are not
 * there.
 */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

/* Registered in harness.c; declared here too until harness.h lists it. */
void suite_examples_evtx(void);

#define JSONL_DIR "tests/fixtures/examples-jsonl"
#define EVTX_DIR "examples/exchange-intrusion/evtx"

static const char *const channels[] = {"security", "sysmon", "msexchange-management", "powershell", "system"};
#define NCHANNELS (sizeof channels / sizeof channels[0])

/* ---------------------------------------------------------------- capture */

/* A value copied out of an event (events are borrowed for the callback). */
typedef struct cap_value {
    int type;
    char *text; /* NUL-terminated copy of the text form; NULL for null and lists */
    size_t len;
} cap_value;

typedef struct cap_field {
    char *name;
    cap_value v;
    cap_value *items; /* TR_LIST */
    size_t nitems;
} cap_field;

typedef struct cap_event {
    tr_time time;
    uint64_t origin_record;
    cap_field *fields;
    size_t nfields;
    char *xml; /* with TR_SCAN_XML */
} cap_event;

typedef struct capture {
    cap_event *ev;
    size_t n, cap;
} capture;

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void cap_value_set(cap_value *c, const tr_value *v)
{
    c->type = v->type;
    c->text = v->str ? dup_n(v->str, v->len) : NULL;
    c->len = v->str ? v->len : 0;
}

static void capture_hook(const tr_event *ev, size_t index, void *ctx)
{
    (void)index;
    capture *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->ev = realloc(c->ev, c->cap * sizeof *c->ev);
        if (!c->ev)
            abort();
    }
    cap_event *e = &c->ev[c->n++];
    memset(e, 0, sizeof *e);
    e->time = tr_event_time(ev);
    e->origin_record = tr_event_origin(ev)->record;
    e->nfields = tr_event_field_count(ev);
    e->fields = calloc(e->nfields ? e->nfields : 1, sizeof *e->fields);
    if (!e->fields)
        abort();
    for (size_t i = 0; i < e->nfields; i++) {
        const tr_field *f = tr_event_field(ev, i);
        cap_field *cf = &e->fields[i];
        cf->name = dup_n(f->name, f->name_len);
        cap_value_set(&cf->v, &f->value);
        if (f->value.type == TR_LIST) {
            cf->nitems = f->value.as.list.count;
            cf->items = calloc(cf->nitems ? cf->nitems : 1, sizeof *cf->items);
            if (!cf->items)
                abort();
            for (size_t k = 0; k < cf->nitems; k++)
                cap_value_set(&cf->items[k], tr_event_list_item(ev, &f->value, k));
        }
    }
    size_t xlen = 0;
    const char *x = tr_event_xml(ev, &xlen);
    e->xml = x ? dup_n(x, xlen) : NULL;
}

static void capture_free(capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cap_event *e = &c->ev[i];
        for (size_t k = 0; k < e->nfields; k++) {
            free(e->fields[k].name);
            free(e->fields[k].v.text);
            for (size_t j = 0; j < e->fields[k].nitems; j++)
                free(e->fields[k].items[j].text);
            free(e->fields[k].items);
        }
        free(e->fields);
        free(e->xml);
    }
    free(c->ev);
    memset(c, 0, sizeof *c);
}

/* Reads path into c; false (with a failed check) on any diagnostic. */
static bool capture_path(capture *c, const char *path, unsigned flags)
{
    scan_result r = {0};
    r.hook = capture_hook;
    r.hook_ctx = c;
    r.scan_flags = flags;
    scan_path(&r, path);
    bool ok = r.status == TR_OK && r.ndiags == 0 && r.stats.files_read == 1;
    if (!ok) {
        char m[900];
        snprintf(m, sizeof m, "%s: status %d, files read %llu, %zu diagnostic(s): %.600s", path, (int)r.status,
                 (unsigned long long)r.stats.files_read, r.ndiags, r.diags ? r.diags : "");
        tr_test_fail(__FILE__, __LINE__, m);
    }
    scan_result_free(&r);
    return ok;
}

/* ---------------------------------------------------------------- comparing */

static bool files_present(void)
{
    char p[256];
    for (size_t i = 0; i < NCHANNELS; i++) {
        snprintf(p, sizeof p, "%s/EXCH01-%s.jsonl", JSONL_DIR, channels[i]);
        if (access(p, R_OK) != 0)
            return false;
        snprintf(p, sizeof p, "%s/EXCH01-%s.evtx", EVTX_DIR, channels[i]);
        if (access(p, R_OK) != 0)
            return false;
    }
    return true;
}

static bool is_trailing_space(char c) { return c == '\0' || c == ' ' || (c >= '\t' && c <= '\r'); }

/* "...SS.ffffffZ" with the fraction padded to seven digits, as a FILETIME renders. */
static size_t seven_digits(const char *s, size_t n, char *out, size_t cap)
{
    const char *dot = memchr(s, '.', n);
    if (!dot || n == 0 || s[n - 1] != 'Z' || n + 8 > cap)
        return 0;
    size_t head = (size_t)(dot - s) + 1, digits = n - 1 - head;
    if (digits > 7)
        return 0;
    memcpy(out, s, n - 1);
    size_t o = n - 1;
    for (size_t k = digits; k < 7; k++)
        out[o++] = '0';
    out[o++] = 'Z';
    out[o] = '\0';
    return o;
}

typedef struct tally {
    size_t fields, trimmed, times;
} tally;

/* One value of the EVTX event against the JSON one. */
static void compare_value(const char *what, const char *name, const cap_value *j, const cap_value *x, tally *t)
{
    char m[700];
    if (j->type != x->type) {
        snprintf(m, sizeof m, "%s %s: type %d in JSON, %d in EVTX", what, name, j->type, x->type);
        tr_test_fail(__FILE__, __LINE__, m);
        return;
    }
    if (!j->text || !x->text) {
        if (j->text || x->text) {
            snprintf(m, sizeof m, "%s %s: text present on one side only", what, name);
            tr_test_fail(__FILE__, __LINE__, m);
        }
        return;
    }
    if (j->len == x->len && memcmp(j->text, x->text, j->len) == 0)
        return;
    if (strcmp(name, "Event.System.TimeCreated.SystemTime") == 0) {
        char padded[64];
        size_t n = seven_digits(j->text, j->len, padded, sizeof padded);
        if (n && n == x->len && memcmp(padded, x->text, n) == 0) {
            t->times++;
            return;
        }
    } else if (j->type == TR_STR) {
        size_t n = j->len;
        while (n && is_trailing_space(j->text[n - 1]))
            n--;
        if (n < j->len && n == x->len && memcmp(j->text, x->text, n) == 0) {
            t->trimmed++;
            return;
        }
    }
    snprintf(m, sizeof m, "%s %s: \"%.200s\" in JSON, \"%.200s\" in EVTX", what, name, j->text, x->text);
    tr_test_fail(__FILE__, __LINE__, m);
}

static void compare_event(const char *what, const cap_event *j, const cap_event *x, tally *t)
{
    char m[700];
    if (j->time != x->time) {
        snprintf(m, sizeof m, "%s: time %lld in JSON, %lld in EVTX", what, (long long)j->time, (long long)x->time);
        tr_test_fail(__FILE__, __LINE__, m);
    }
    if (j->nfields != x->nfields) {
        snprintf(m, sizeof m, "%s: %zu fields in JSON, %zu in EVTX", what, j->nfields, x->nfields);
        tr_test_fail(__FILE__, __LINE__, m);
        return;
    }
    for (size_t k = 0; k < j->nfields; k++) {
        const cap_field *a = &j->fields[k], *b = &x->fields[k];
        if (strcmp(a->name, b->name) != 0) {
            snprintf(m, sizeof m, "%s: field %zu is %s in JSON, %s in EVTX", what, k, a->name, b->name);
            tr_test_fail(__FILE__, __LINE__, m);
            return;
        }
        t->fields++;
        compare_value(what, a->name, &a->v, &b->v, t);
        if (a->v.type == TR_LIST && b->v.type == TR_LIST) {
            if (a->nitems != b->nitems) {
                snprintf(m, sizeof m, "%s %s: %zu items in JSON, %zu in EVTX", what, a->name, a->nitems, b->nitems);
                tr_test_fail(__FILE__, __LINE__, m);
                continue;
            }
            for (size_t i = 0; i < a->nitems; i++)
                compare_value(what, a->name, &a->items[i], &b->items[i], t);
        }
    }
}

/* The EventRecordID field of a captured event, or -1. */
static long long record_id(const cap_event *e)
{
    for (size_t k = 0; k < e->nfields; k++)
        if (strcmp(e->fields[k].name, "Event.System.EventRecordID") == 0 && e->fields[k].v.type == TR_INT)
            return strtoll(e->fields[k].v.text, NULL, 10);
    return -1;
}

static void evtx_equals_jsonl(void)
{
    if (!files_present()) {
        tr_test_skip("the example case's EVTX files or their JSON sources are missing (run from the repository root)");
        return;
    }
    for (size_t i = 0; i < NCHANNELS; i++) {
        char jp[256], xp[256];
        snprintf(jp, sizeof jp, "%s/EXCH01-%s.jsonl", JSONL_DIR, channels[i]);
        snprintf(xp, sizeof xp, "%s/EXCH01-%s.evtx", EVTX_DIR, channels[i]);
        capture j = {0}, x = {0};
        if (capture_path(&j, jp, 0) && capture_path(&x, xp, 0)) {
            CHECK(j.n > 0);
            if (j.n != x.n) {
                char m[600];
                snprintf(m, sizeof m, "%s: %zu events, %s: %zu", jp, j.n, xp, x.n);
                tr_test_fail(__FILE__, __LINE__, m);
            }
            tally t = {0};
            long long prev = -1;
            for (size_t k = 0; k < j.n && k < x.n; k++) {
                long long jid = record_id(&j.ev[k]), xid = record_id(&x.ev[k]);
                char what[320];
                snprintf(what, sizeof what, "%s record %lld", xp, xid);
                CHECK(jid >= 0);
                CHECK_INT(xid, jid);
                CHECK_INT(x.ev[k].origin_record, jid); /* the record header's identifier */
                CHECK(xid > prev);
                prev = xid;
                compare_event(what, &j.ev[k], &x.ev[k], &t);
            }
            CHECK_INT(t.times, j.n); /* every event has a SystemTime */
            printf("  EXCH01-%s: %zu events, %zu fields equal (%zu times in seven digits, %zu strings trimmed)\n",
                   channels[i], x.n, t.fields, t.times, t.trimmed);
        }
        capture_free(&j);
        capture_free(&x);
    }
}

/* ---------------------------------------------------------------- XML */

/* Two records as Event Viewer's XML shows them (on one line), and the shape
 * of every other. */
static const char xml_start[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"";

static const char xml_4688[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
    "<Provider Name=\"Microsoft-Windows-Security-Auditing\" Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\" />"
    "<EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode>"
    "<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime=\"2021-03-03T02:43:30.1150000Z\" />"
    "<EventRecordID>42720605</EventRecordID><Correlation /><Execution ProcessID=\"4\" ThreadID=\"76\" />"
    "<Channel>Security</Channel><Computer>EXCH01.corp.local</Computer><Security /></System><EventData>"
    "<Data Name=\"SubjectUserSid\">S-1-5-18</Data><Data Name=\"SubjectUserName\">EXCH01$</Data>"
    "<Data Name=\"SubjectDomainName\">CORP</Data><Data Name=\"SubjectLogonId\">0x3e7</Data>"
    "<Data Name=\"NewProcessId\">0x1e24</Data><Data Name=\"NewProcessName\">C:\\Windows\\System32\\cmd.exe</Data>"
    "<Data Name=\"TokenElevationType\">%%1936</Data><Data Name=\"ProcessId\">0x2d1c</Data>"
    "<Data Name=\"CommandLine\">cmd /c cd /d &quot;C:\\inetpub\\wwwroot\\aspnet_client&quot;&amp;whoami&amp;echo "
    "[S]&amp;cd&amp;echo [E]</Data><Data Name=\"TargetUserSid\">S-1-0-0</Data>"
    "<Data Name=\"TargetUserName\">-</Data><Data Name=\"TargetDomainName\">-</Data>"
    "<Data Name=\"TargetLogonId\">0x0</Data>"
    "<Data Name=\"ParentProcessName\">C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data>"
    "<Data Name=\"MandatoryLabel\">S-1-16-16384</Data></EventData></Event>";

static const char xml_7036[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
    "<Provider Name=\"Service Control Manager\" Guid=\"{555908d1-a6d7-4695-8e1e-26931d2012f4}\" "
    "EventSourceName=\"Service Control Manager\" /><EventID Qualifiers=\"16384\">7036</EventID><Version>0</Version>"
    "<Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords>"
    "<TimeCreated SystemTime=\"2021-03-01T09:27:14.7189040Z\" /><EventRecordID>715597</EventRecordID>"
    "<Correlation /><Execution ProcessID=\"612\" ThreadID=\"668\" /><Channel>System</Channel>"
    "<Computer>EXCH01.corp.local</Computer><Security /></System><EventData>"
    "<Data Name=\"param1\">Windows Error Reporting Service</Data><Data Name=\"param2\">running</Data>"
    "<Binary>5700650072005300760063002F0034000000</Binary></EventData></Event>";

/* got equals want; else the first difference is shown */
static void check_xml(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    size_t k = 0;
    while (got[k] && got[k] == want[k])
        k++;
    size_t from = k > 60 ? k - 60 : 0;
    char m[600];
    snprintf(m, sizeof m, "XML differs at byte %zu: got \"%.160s\", want \"%.160s\"", k, got + from, want + from);
    tr_test_fail(__FILE__, __LINE__, m);
}

static void evtx_xml_like_event_viewer(void)
{
    if (!files_present()) {
        tr_test_skip("the example case's EVTX files are missing (run from the repository root)");
        return;
    }
    bool seen_4688 = false, seen_7036 = false, seen_unnamed = false;
    for (size_t i = 0; i < NCHANNELS; i++) {
        char xp[256];
        snprintf(xp, sizeof xp, "%s/EXCH01-%s.evtx", EVTX_DIR, channels[i]);
        capture x = {0};
        if (capture_path(&x, xp, TR_SCAN_XML)) {
            for (size_t k = 0; k < x.n; k++) {
                const char *s = x.ev[k].xml;
                CHECK(s != NULL);
                if (!s)
                    break;
                long long id = record_id(&x.ev[k]);
                char rid[64];
                snprintf(rid, sizeof rid, "<EventRecordID>%lld</EventRecordID>", id);
                CHECK(strncmp(s, xml_start, strlen(xml_start)) == 0);
                CHECK_CONTAINS(s, rid);
                CHECK_CONTAINS(s, "<Computer>EXCH01.corp.local</Computer>");
                CHECK_CONTAINS(s, "</System><EventData>");
                size_t n = strlen(s);
                CHECK(n > 20 && strcmp(s + n - 20, "</EventData></Event>") == 0);
                CHECK(strchr(s, '\n') == NULL); /* one record, one line */
                if (id == 42720605) {
                    seen_4688 = true;
                    check_xml(s, xml_4688);
                }
                if (id == 715597) {
                    seen_7036 = true;
                    check_xml(s, xml_7036);
                }
                if (id == 364729) { /* MSExchange Management: unnamed <Data> */
                    seen_unnamed = true;
                    CHECK_CONTAINS(s, "<Provider Name=\"MSExchange CmdletLogs\" />"
                                      "<EventID Qualifiers=\"16384\">1</EventID>");
                    CHECK_CONTAINS(s, "<EventData><Data>New-ManagementRoleAssignment</Data><Data>-Role &quot;Mailbox "
                                      "Import Export&quot; -User &quot;svc_backup&quot;</Data>");
                    CHECK_CONTAINS(s, "<Data>EXCH01.corp.local</Data><Data></Data></EventData></Event>");
                }
            }
        }
        capture_free(&x);
    }
    CHECK(seen_4688);
    CHECK(seen_7036);
    CHECK(seen_unnamed);
}

void suite_examples_evtx(void)
{
    RUN(evtx_equals_jsonl);
    RUN(evtx_xml_like_event_viewer);
}
