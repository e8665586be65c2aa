/*
 * text_value.h — one field value of a text log (W3C, Exchange CSV, and the
 * line formats to come) into a tr_value, the same way for every reader:
 * digits-only text is an integer (its text kept), invalid UTF-8 is
 * repaired into the batch arena and counted, anything else points into the
 * input (zero copy). Readers decide what "no value" looks like ("-" in
 * W3C, an empty column in CSV) and unescape their own quoting first. The
 * record is sealed the same way too (tr_text_record_end).
 *
 * Inline: it runs for every value of every line (a call per value cost
 * the W3C reader 6% more instructions).
 */
#ifndef TR_READ_TEXT_VALUE_H
#define TR_READ_TEXT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../event/event.h"
#include "../util/utf8.h"
#include "reader.h"

/* True when s holds only ASCII (checked 8 bytes at a time): such text is
 * valid UTF-8 without a closer look. */
static inline bool tr_text_is_ascii(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            return false;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] & 0x80)
            return false;
    return true;
}

/* Fills *v from the n bytes at s (which must outlive the batch: the input
 * window or the batch arena). With digits_as_int, "0".."999999999999999999"
 * becomes TR_INT. *repaired is incremented when the text needed repair.
 * Returns false when out of memory. */
static inline bool tr_text_value(tr_builder *b, const char *s, size_t n, bool digits_as_int, tr_value *v,
                                 unsigned *repaired)
{
    memset(v, 0, sizeof *v);
    v->type = TR_STR;
    v->str = s;
    v->len = (uint32_t)n;
    if (!tr_text_is_ascii(s, n) && tr_utf8_find_invalid(s, n) < n) {
        char *c = tr_arena_alloc(&b->arena, TR_UTF8_REPAIR_MAX(n) + 1);
        if (!c)
            return false;
        v->str = c;
        v->len = (uint32_t)tr_utf8_repair(s, n, c);
        v->flags |= TR_VALUE_REPAIRED;
        (*repaired)++;
        return true;
    }
    if (digits_as_int && n > 0 && n <= 18) {
        int64_t x = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (d > 9)
                return true;
            x = x * 10 + d;
        }
        v->type = TR_INT;
        v->as.i = x;
    }
    return true;
}

/* Seals the record that began on `line` at byte `offset`: reports the
 * values repaired in it, if any, and ends the event. Returns false when out
 * of memory. */
static inline bool tr_text_record_end(tr_builder *b, tr_read_ctx *ctx, const char *format, uint64_t line,
                                      uint64_t offset, unsigned repaired)
{
    if (repaired) {
        char where[48];
        snprintf(where, sizeof where, "line %llu", (unsigned long long)line);
        ctx->values_repaired += repaired;
        tr_read_report(ctx, TR_SEV_WARNING, where, "invalid UTF-8 in %u value(s), replaced by U+FFFD", repaired);
    }
    tr_origin o = {.path = ctx->path, .format = format, .record = line, .offset = offset};
    return tr_builder_event_end(b, &o);
}

#endif
