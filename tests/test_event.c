/*
 * test_event.c — the event model: flattened names, aliases and their
 * precedence, case-insensitive O(1) lookup, lists, time extraction, limits.
 * Built directly with the builder, as a reader would.
 */
#include "harness.h"

#include "../src/event/event.h"
#include "../src/event/names.h"

/* Interns a dotted path from the root. */
static const tr_name *path(tr_builder *b, const char *dotted)
{
    const tr_name *n = tr_names_root(b->names);
    const char *s = dotted;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        n = tr_names_child(b->names, n, s, len, &b->arena);
        if (!dot)
            return n;
        s = dot + 1;
    }
}

static void add_str(tr_builder *b, const char *name, const char *val)
{
    tr_value v = {.type = TR_STR, .str = val, .len = (uint32_t)strlen(val)};
    CHECK(tr_builder_add(b, path(b, name), &v));
}

static const tr_event *finish(tr_builder *b)
{
    tr_origin o = {.path = "mem", .format = "test", .record = 1};
    CHECK(tr_builder_event_end(b, &o));
    tr_batch batch = tr_builder_batch(b);
    return batch.events[batch.count - 1];
}

static const char *get(const tr_event *ev, const char *name)
{
    static char buf[256];
    const tr_field *f = tr_event_get(ev, name, strlen(name));
    if (!f)
        return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)f->value.len, f->value.str ? f->value.str : "");
    return buf;
}

static void names_flatten_and_alias(void)
{
    tr_builder b;
    CHECK_INT(tr_builder_init(&b), TR_OK);
    tr_builder_batch_begin(&b);
    tr_builder_event_begin(&b);
    add_str(&b, "Event.System.Provider.Name", "Microsoft-Windows-Sysmon");
    add_str(&b, "Event.System.Channel", "Microsoft-Windows-Sysmon/Operational");
    add_str(&b, "Event.System.Security.UserID", "S-1-5-18");
    add_str(&b, "Event.EventData.Image", "C:\\Windows\\System32\\cmd.exe");
    add_str(&b, "Event.UserData.LogFileCleared.SubjectUserName", "admin");
    const tr_event *ev = finish(&b);
    CHECK_INT(tr_event_field_count(ev), 5);
    CHECK_CONTAINS(get(ev, "Event.System.Provider.Name"), "Sysmon");
    CHECK_CONTAINS(get(ev, "Provider_Name"), "Sysmon");
    CHECK_CONTAINS(get(ev, "provider_name"), "Sysmon");          /* case-insensitive */
    CHECK_CONTAINS(get(ev, "EVENT.SYSTEM.CHANNEL"), "Operational");
    CHECK_CONTAINS(get(ev, "Channel"), "Operational");
    CHECK_CONTAINS(get(ev, "Security_UserID"), "S-1-5-18");
    CHECK_CONTAINS(get(ev, "Image"), "cmd.exe");
    CHECK_CONTAINS(get(ev, "SubjectUserName"), "admin");          /* UserData element skipped */
    CHECK(get(ev, "Name") == NULL);                                /* no partial-path aliases */
    CHECK(get(ev, "Provider") == NULL);
    CHECK(get(ev, "Imag") == NULL);
    CHECK(get(ev, "Images") == NULL);
    CHECK(get(ev, "") == NULL);
    /* the same path interns once */
    size_t n = tr_names_count(b.names);
    path(&b, "Event.EventData.Image");
    CHECK_INT(tr_names_count(b.names), n);
    tr_builder_free(&b);
}

static void alias_precedence(void)
{
    tr_builder b;
    CHECK_INT(tr_builder_init(&b), TR_OK);
    tr_builder_batch_begin(&b);
    tr_builder_event_begin(&b);
    /* System's Execution.ProcessID is aliased Execution_ProcessID, so the
     * payload's ProcessId is what "ProcessId" means */
    add_str(&b, "Event.System.Execution.ProcessID", "4");
    add_str(&b, "Event.EventData.ProcessId", "6180");
    /* System "Level" vs a payload field "Level": payload wins */
    add_str(&b, "Event.System.Level", "4");
    add_str(&b, "Event.EventData.Level", "payload");
    /* a real top-level field beats any alias of the same name */
    add_str(&b, "Event.EventData.Channel", "alias-of-payload");
    add_str(&b, "Channel", "top-level");
    /* duplicates: the first stays */
    add_str(&b, "Event.EventData.Dup", "first");
    add_str(&b, "Event.EventData.Dup", "second");
    const tr_event *ev = finish(&b);
    CHECK_STRN(get(ev, "ProcessId"), strlen(get(ev, "ProcessId")), "6180");
    CHECK_STRN(get(ev, "Execution_ProcessID"), 1, "4");
    CHECK_STRN(get(ev, "Level"), 7, "payload");
    CHECK_STRN(get(ev, "Event.System.Level"), 1, "4");
    CHECK_STRN(get(ev, "Channel"), 9, "top-level");
    CHECK_STRN(get(ev, "Dup"), 5, "first");
    CHECK_INT(tr_event_field_count(ev), 8);
    tr_builder_free(&b);
}

static void lists_and_time(void)
{
    tr_builder b;
    CHECK_INT(tr_builder_init(&b), TR_OK);
    tr_builder_batch_begin(&b);
    tr_builder_event_begin(&b);
    add_str(&b, "Event.System.TimeCreated.SystemTime", "2021-03-02T07:01:12.5Z");
    size_t mark = tr_builder_item_mark(&b);
    const char *items[] = {"a", "bb", "ccc"};
    for (int i = 0; i < 3; i++) {
        tr_value v = {.type = TR_STR, .str = items[i], .len = (uint32_t)strlen(items[i])};
        CHECK(tr_builder_item_push(&b, &v));
    }
    CHECK(tr_builder_add_list(&b, path(&b, "Event.EventData.Data"), mark));
    const tr_event *ev = finish(&b);
    CHECK_INT(tr_event_time(ev), 1614668472500000000LL);
    const tr_field *f = tr_event_get(ev, "Data", 4);
    CHECK(f && f->value.type == TR_LIST && f->value.as.list.count == 3);
    if (f) {
        const tr_value *v = tr_event_list_item(ev, &f->value, 2);
        CHECK_STRN(v->str, v->len, "ccc");
        CHECK(tr_event_list_item(ev, &f->value, 3) == NULL);
    }
    /* a second event in the same batch is independent */
    tr_builder_event_begin(&b);
    add_str(&b, "@timestamp", "not a time");
    add_str(&b, "timestamp", "2020-01-01T00:00:00Z"); /* lower priority, but the only valid one */
    const tr_event *ev2 = finish(&b);
    CHECK_INT(tr_event_time(ev2), 1577836800000000000LL);
    CHECK(tr_event_get(ev2, "Data", 4) == NULL);
    CHECK_INT(tr_builder_batch(&b).count, 2);
    tr_builder_free(&b);
}

static void field_limit(void)
{
    tr_builder b;
    CHECK_INT(tr_builder_init(&b), TR_OK);
    tr_builder_batch_begin(&b);
    tr_builder_event_begin(&b);
    const tr_name *n = path(&b, "x");
    tr_value v = {.type = TR_STR, .str = "v", .len = 1};
    for (unsigned i = 0; i < TR_EVENT_MAX_FIELDS + 10; i++)
        CHECK(tr_builder_add(&b, n, &v));
    CHECK(b.overflow);
    const tr_event *ev = finish(&b);
    CHECK_INT(tr_event_field_count(ev), TR_EVENT_MAX_FIELDS);
    tr_builder_free(&b);
}

static void many_distinct_names_stay_bounded(void)
{
    /* hostile input: endless distinct keys. The table stops interning at its
     * limit and names become per-batch, so memory does not grow for ever. */
    tr_builder b;
    CHECK_INT(tr_builder_init(&b), TR_OK);
    for (int batch = 0; batch < 8; batch++) {
        tr_builder_batch_begin(&b);
        tr_builder_event_begin(&b);
        for (int i = 0; i < 10000; i++) {
            char key[32];
            snprintf(key, sizeof key, "k%d_%d", batch, i);
            const tr_name *n = tr_names_child(b.names, tr_names_root(b.names), key, strlen(key), &b.arena);
            CHECK(n != NULL);
            if (!n)
                break;
            CHECK_STRN(n->full, n->full_len, key);
        }
        tr_builder_event_abort(&b);
    }
    CHECK(tr_names_count(b.names) <= 65536);
    tr_builder_free(&b);
}

void suite_event(void)
{
    RUN(names_flatten_and_alias);
    RUN(alias_precedence);
    RUN(lists_and_time);
    RUN(field_limit);
    RUN(many_distinct_names_stay_bounded);
}
