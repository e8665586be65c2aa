/*
 * utf8.h — UTF-8 validation and repair.
 *
 * Evidence is hostile: strings may hold invalid UTF-8 (truncated sequences,
 * overlong forms, surrogates). Readers validate what they expose; repair
 * replaces each invalid sequence with U+FFFD (EF BF BD) so that everything
 * downstream — matching, JSON output — can trust the text.
 */
#ifndef TR_UTIL_UTF8_H
#define TR_UTIL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 if the bytes
 * at s do not start a valid sequence within len bytes. s[0] must be >= 0x80. */
size_t tr_utf8_seq_len(const unsigned char *s, size_t len);

/* Index of the first invalid byte, or len if s is valid UTF-8. */
size_t tr_utf8_find_invalid(const char *s, size_t len);

/* Upper bound of the repaired length of len input bytes. */
#define TR_UTF8_REPAIR_MAX(len) ((len) * 3)

/* Writes s to out (room for TR_UTF8_REPAIR_MAX(len)) replacing invalid
 * sequences by U+FFFD; returns the bytes written. */
size_t tr_utf8_repair(const char *s, size_t len, char *out);

#endif
