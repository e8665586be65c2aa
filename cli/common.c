/*
 * common.c — diagnostic printing shared by the subcommands. Diagnostics go
 * to stderr as "traccia: <severity>: <path>: <where>: <reason>", one per
 * line, so they can be grepped and never mix with results on stdout.
 */
#include <string.h>

#include "cli.h"

void cli_print_diag(void *user, const tr_diag *d)
{
    cli_diag_opts *o = user;
    if (d->severity == TR_SEV_INFO && !o->verbose)
        return;
    if (d->severity == TR_SEV_WARNING && o->quiet)
        return;
    static const char *names[] = {"note", "warning", "error"};
    const char *sev = names[d->severity <= TR_SEV_ERROR ? d->severity : TR_SEV_ERROR];
    if (d->where && d->where[0])
        fprintf(stderr, "traccia: %s: %s: %s: %s\n", sev, d->path, d->where, d->reason);
    else
        fprintf(stderr, "traccia: %s: %s: %s\n", sev, d->path, d->reason);
    o->printed++;
}

bool cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }
