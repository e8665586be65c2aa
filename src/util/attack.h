/*
 * attack.h — ATT&CK tags parsed into techniques and tactics, in a block the
 * caller places (an arena, the tail of another allocation); tr_attack_parse
 * in traccia.h is the same into a tr_malloc'd block.
 *
 * Ownership: the block is the caller's; the arrays and strings live in it.
 */
#ifndef TR_UTIL_ATTACK_H
#define TR_UTIL_ATTACK_H

#include <stddef.h>

/* Bytes the parse of these tags needs (pointer-aligned start). */
size_t tr_attack_size(const char *const *tags, size_t ntags);
/* Parses into block (tr_attack_size bytes). */
void tr_attack_fill(void *block, const char *const *tags, size_t ntags, const char *const **techniques,
                    size_t *ntechniques, const char *const **tactics, size_t *ntactics);

#endif
