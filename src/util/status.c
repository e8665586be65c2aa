/*
 * status.c — descriptions of status codes and diagnostic kinds, and the
 * library version.
 */
#include "traccia.h"

const char *tr_strerror(int status)
{
    switch (status) {
    case TR_OK: return "success";
    case TR_ERR_NOMEM: return "out of memory";
    case TR_ERR_IO: return "input/output error";
    case TR_ERR_FORMAT: return "malformed input";
    case TR_ERR_LIMIT: return "a safety limit was reached";
    case TR_ERR_ARG: return "invalid argument";
    case TR_ERR_UNSUPPORTED: return "not supported";
    case TR_ERR_NOTFOUND: return "not found";
    default: return "unknown status";
    }
}

const char *tr_severity_name(tr_severity severity)
{
    static const char *const names[] = {"note", "warning", "error"};
    return names[(unsigned)severity <= TR_SEV_ERROR ? severity : TR_SEV_ERROR];
}

const char *tr_diag_kind_name(tr_diag_kind kind)
{
    static const char *const names[TR_DIAG_KINDS] = {
        "run", "evidence", "skipped", "rule-failed", "rule-not-run", "rule-note", "config", "indicator", "limit",
    };
    return (unsigned)kind < TR_DIAG_KINDS ? names[kind] : "run";
}

const char *tr_version(void) { return TR_VERSION_STRING; }
