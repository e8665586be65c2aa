/*
 * builtin.h — data compiled into the library: the logsource mapping
 * (data/logsources, every .yml) and the project's own rule pack (rules/), so that
 * the `traccia` binary needs no files beside it. The C source holding them
 * is generated at build time by scripts/embed-data.
 *
 * Ownership: static, read-only, never freed.
 */
#ifndef TR_SIGMA_BUILTIN_H
#define TR_SIGMA_BUILTIN_H

#include <stddef.h>

typedef struct tr_builtin_file {
    const char *name; /* "builtin:<path in the source tree>" */
    const char *text; /* the file's bytes, NUL-terminated */
    size_t len;
} tr_builtin_file;

extern const tr_builtin_file tr_builtin_logsources[];
extern const size_t tr_builtin_logsource_count;
extern const tr_builtin_file tr_builtin_rules[];
extern const size_t tr_builtin_rule_count;

#endif
