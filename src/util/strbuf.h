/*
 * strbuf.h — a growable byte buffer for building text (output lines,
 * diagnostics, flattened names that do not fit the name cache).
 *
 * Ownership: the strbuf owns `data`; tr_strbuf_free releases it. After an
 * allocation failure the buffer is marked failed, further appends are
 * ignored, and tr_strbuf_failed() says so — callers check once at the end.
 */
#ifndef TR_UTIL_STRBUF_H
#define TR_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tr_strbuf {
    char *data;   /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    bool failed;
} tr_strbuf;

void tr_strbuf_init(tr_strbuf *b);
void tr_strbuf_free(tr_strbuf *b);
void tr_strbuf_clear(tr_strbuf *b); /* len = 0, keeps capacity */
bool tr_strbuf_reserve(tr_strbuf *b, size_t extra);
void tr_strbuf_append(tr_strbuf *b, const char *s, size_t len);
void tr_strbuf_puts(tr_strbuf *b, const char *s);
void tr_strbuf_putc(tr_strbuf *b, char c);
void tr_strbuf_printf(tr_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the body of a JSON string (no quotes): escapes ", \ and
 * control characters; invalid UTF-8 becomes U+FFFD so the output is always
 * valid JSON. */
void tr_strbuf_json_escape(tr_strbuf *b, const char *s, size_t len);
/* s as a quoted, escaped JSON string; NULL as null. */
void tr_strbuf_json_string(tr_strbuf *b, const char *s);
/* An instant (ns since 1970, as tr_time_format writes it) as a JSON string;
 * TR_TIME_NONE (INT64_MIN) as null. */
void tr_strbuf_json_time(tr_strbuf *b, int64_t t);
static inline bool tr_strbuf_failed(const tr_strbuf *b) { return b->failed; }

#endif
