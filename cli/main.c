/*
 * main.c — `traccia`: dispatch to the subcommands, and the one check of
 * standard output every command shares: a write to it that failed (a
 * closed pipe, a full disk) makes the run incomplete and is said, never a
 * quiet success. SIGPIPE is ignored so that a reader going away is such a
 * failed write (EPIPE), not a silent death.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fputs("usage: traccia <command> [options] PATH...\n"
          "\n"
          "traccia reads evidence (Windows event logs: .evtx, or exported as JSON;\n"
          "IIS, Exchange and network logs as their readers land) and reports what\n"
          "it found. Formats are recognised from content, .gz files are read as is.\n"
          "\n"
          "commands:\n"
          "  hunt PATH...     read every supported file under PATH and summarise\n"
          "  rules check|list PATH...  load Sigma rules: what loaded, what did not and why\n"
          "  dump PATH...     print every event as one JSON object per line\n"
          "  ioc check FILE...  load indicator files: what loaded, by type and file, what did not and why\n"
          "  exchange PATH... assess Exchange servers: per CVE, web shells, verdicts\n"
          "  case summary|hosts|timeline|evidence|problems CASE.db  ask a case written by hunt --case\n"
          "  version          print the version\n"
          "\n"
          "Run 'traccia <command> --help' for a command's options.\n"
          "\n"
          "exit status: 0 the job ran on readable input, 1 usage error, 2 nothing could\n"
          "be read, 3 it ran but is incomplete (damaged or unreadable input, a rule not\n"
          "loaded, an output that failed); each command's --help says more.\n",
          out);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TR_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return TR_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("traccia %s\n", tr_version());
        return TR_EXIT_OK;
    }
    if (strcmp(cmd, "hunt") == 0)
        return cmd_hunt(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "dump") == 0)
        return cmd_dump(argc - 1, argv + 1);
    if (strcmp(cmd, "ioc") == 0)
        return cmd_ioc(argc - 1, argv + 1);
    if (strcmp(cmd, "exchange") == 0)
        return cmd_exchange(argc - 1, argv + 1);
    if (strcmp(cmd, "case") == 0)
        return cmd_case(argc - 1, argv + 1);
    fprintf(stderr, "traccia: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return TR_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int rc = dispatch(argc, argv);
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (failed && rc == TR_EXIT_OK) { /* a command that saw its output fail has said so */
        fprintf(stderr, "traccia: writing standard output failed: %s; the output is incomplete\n",
                err == EPIPE ? "its reader went away (broken pipe)" : err ? strerror(err) : "a write failed");
        rc = TR_EXIT_INCOMPLETE;
    }
    return rc;
}
