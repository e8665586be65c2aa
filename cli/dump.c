/*
 * dump.c — `traccia dump`: every event as one JSON object per line, the way
 * to see what traccia read (flattened names, values, time, origin) and the
 * oracle of the tests; with --xml, EVTX records as the XML Windows renders,
 * one record per line, so that responders can grep and diff them.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

static void dump_usage(FILE *out)
{
    fputs("usage: traccia dump [options] PATH...\n"
          "\n"
          "Prints every event read from PATH (files, or folders walked recursively)\n"
          "as one JSON object per line on standard output:\n"
          "  {\"time\":\"2021-03-02T07:01:12.1234567Z\",\n"
          "   \"source\":{\"path\":\"...\",\"format\":\"json\",\"record\":12,\"offset\":3456},\n"
          "   \"fields\":{\"Event.System.EventID\":4624, ...}}\n"
          "Field names are flattened with dots; \"time\" is null when the event has none.\n"
          "Problems with the input are reported on standard error and skipped.\n"
          "\n"
          "options:\n"
          "  --aliases      add an \"aliases\" object: short name -> flattened name\n"
          "                 (EventID -> Event.System.EventID), as rules see them\n"
          "  --xml          print each EVTX record as the XML Windows renders from it,\n"
          "                 one record per line:\n"
          "                   <Event xmlns=\"...\"><System><EventID>4624</EventID>...\n"
          "                   </System><EventData><Data Name=\"...\">...</Data>\n"
          "                   </EventData></Event>\n"
          "                 (& < > \" escaped as entities; line breaks in values as\n"
          "                 &#10; and &#13;, so grep and diff see whole records).\n"
          "                 Events of other formats (JSON) have no XML: they are\n"
          "                 printed as JSON lines, as without --xml\n"
          "  --recover      also read deleted records left in the slack space of EVTX\n"
          "                 chunks and chunks carved off the 64 KiB grid; they are\n"
          "                 marked \"recovered\":true in \"source\" (with --xml: a\n"
          "                 <!-- recovered: offset 0x... --> comment opens the line)\n"
          "  -v, --verbose  also say which files were skipped and why\n"
          "  -q, --quiet    report only errors\n"
          "  -h, --help     this help\n"
          "\n"
          "exit status: 0 every file was read, 1 usage error, 2 nothing could be read,\n"
          "3 some of it could not be (a file damaged, unreadable or missing), or the output\n"
          "could not be written in full (a full disk; a reader that went away, as head does).\n",
          out);
}

typedef struct dump_state {
    tr_json_writer *writer;
    bool xml;
    tr_status error;
    int error_errno; /* errno when the write failed */
} dump_state;

/* One event for --xml: its XML rendering on one line, else its JSON line. */
static tr_status dump_xml(dump_state *d, const tr_event *ev)
{
    size_t len;
    const char *xml = tr_event_xml(ev, &len);
    if (!xml)
        return tr_json_writer_event(d->writer, ev);
    const tr_origin *o = tr_event_origin(ev);
    if ((o->flags & TR_ORIGIN_RECOVERED) &&
        printf("<!-- recovered: offset 0x%llx -->", (unsigned long long)o->offset) < 0)
        return TR_ERR_IO;
    if (fwrite(xml, 1, len, stdout) != len || putchar('\n') == EOF)
        return TR_ERR_IO;
    return TR_OK;
}

typedef struct dump_user {
    cli_diag_opts diag;
    dump_state dump;
} dump_user;

static int on_batch(void *user, const tr_batch *batch)
{
    dump_user *u = user;
    for (size_t i = 0; i < batch->count; i++) {
        tr_status st = u->dump.xml ? dump_xml(&u->dump, batch->events[i])
                                   : tr_json_writer_event(u->dump.writer, batch->events[i]);
        if (st) {
            u->dump.error = st;
            u->dump.error_errno = errno;
            return 1; /* stdout is gone (closed pipe, full disk): stop */
        }
    }
    return 0;
}

static void on_diag(void *user, const tr_diag *d)
{
    dump_user *u = user;
    cli_print_diag(&u->diag, d);
}

int cmd_dump(int argc, char **argv)
{
    dump_user u = {0};
    int aliases = 0;
    unsigned flags = 0;
    int first_path = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            dump_usage(stdout);
            return TR_EXIT_OK;
        } else if (strcmp(a, "--aliases") == 0) {
            aliases = 1;
        } else if (strcmp(a, "--xml") == 0) {
            u.dump.xml = true;
            flags |= TR_SCAN_XML;
        } else if (strcmp(a, "--recover") == 0) {
            flags |= TR_SCAN_RECOVER;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            u.diag.verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            u.diag.quiet = true;
        } else if (strcmp(a, "--") == 0) {
            first_path = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "traccia dump: unknown option '%s'\n", a);
            dump_usage(stderr);
            return TR_EXIT_USAGE;
        } else {
            first_path = i;
            break;
        }
    }
    if (!first_path || first_path >= argc) {
        fprintf(stderr, "traccia dump: no PATH given\n");
        dump_usage(stderr);
        return TR_EXIT_USAGE;
    }
    if (tr_json_writer_create(&u.dump.writer, stdout, aliases)) {
        fprintf(stderr, "traccia: out of memory\n");
        return TR_EXIT_NO_INPUT;
    }
    tr_scan *scan;
    tr_scan_options opts = {.on_batch = on_batch, .on_diag = on_diag, .user = &u, .flags = flags};
    if (tr_scan_create(&scan, &opts)) {
        fprintf(stderr, "traccia: out of memory\n");
        tr_json_writer_destroy(u.dump.writer);
        return TR_EXIT_NO_INPUT;
    }
    int rc = TR_EXIT_OK;
    for (int i = first_path; i < argc; i++) {
        tr_status st = tr_scan_path(scan, argv[i]);
        if (st == TR_ERR_NOMEM) {
            fprintf(stderr, "traccia: out of memory\n");
            rc = TR_EXIT_NO_INPUT;
            break;
        }
    }
    bool hidden = u.diag.ev_hidden != 0;
    cli_diag_flush_evidence(&u.diag, "the files are named below");
    if (hidden)
        cli_print_problem_files(&u.diag, stderr);
    if (fflush(stdout) != 0 && !u.dump.error) {
        u.dump.error = TR_ERR_IO;
        u.dump.error_errno = errno;
    }
    if (u.dump.error) {
        int e = u.dump.error_errno;
        fprintf(stderr, "traccia: writing the output failed: %s; the output is incomplete\n",
                u.dump.error != TR_ERR_IO ? tr_strerror(u.dump.error)
                : e == EPIPE              ? "its reader went away (broken pipe)"
                                          : strerror(e));
        rc = u.dump.error == TR_ERR_NOMEM ? TR_EXIT_NO_INPUT : TR_EXIT_INCOMPLETE;
    }
    if (rc == TR_EXIT_OK)
        rc = cli_evidence_status(tr_scan_get_stats(scan), 0, 0, NULL);
    tr_scan_destroy(scan);
    tr_json_writer_destroy(u.dump.writer);
    cli_diag_free(&u.diag);
    return rc;
}
