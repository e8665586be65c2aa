/*
 * strbuf.c — growable text buffer (see strbuf.h). Growth doubles, so
 * building a line is amortised O(length).
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "utf8.h"
#include "traccia.h"

void tr_strbuf_init(tr_strbuf *b) { memset(b, 0, sizeof *b); }

void tr_strbuf_free(tr_strbuf *b)
{
    tr_free(b->data);
    memset(b, 0, sizeof *b);
}

void tr_strbuf_clear(tr_strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

bool tr_strbuf_reserve(tr_strbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = tr_realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void tr_strbuf_append(tr_strbuf *b, const char *s, size_t len)
{
    if (!tr_strbuf_reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void tr_strbuf_puts(tr_strbuf *b, const char *s) { tr_strbuf_append(b, s, strlen(s)); }

void tr_strbuf_putc(tr_strbuf *b, char c) { tr_strbuf_append(b, &c, 1); }

void tr_strbuf_printf(tr_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        tr_strbuf_append(b, small, (size_t)n);
        return;
    }
    if (!tr_strbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tr_strbuf_json_escape(tr_strbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = tr_utf8_seq_len(p + i, len - i);
            if (n) {
                i += n;
                continue;
            }
        }
        tr_strbuf_append(b, s + run, i - run);
        switch (c) {
        case '"': tr_strbuf_append(b, "\\\"", 2); break;
        case '\\': tr_strbuf_append(b, "\\\\", 2); break;
        case '\n': tr_strbuf_append(b, "\\n", 2); break;
        case '\r': tr_strbuf_append(b, "\\r", 2); break;
        case '\t': tr_strbuf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                tr_strbuf_append(b, u, 6);
            } else {
                tr_strbuf_append(b, "\xEF\xBF\xBD", 3); /* invalid UTF-8 byte */
            }
        }
        i++;
        run = i;
    }
    tr_strbuf_append(b, s + run, len - run);
}

void tr_strbuf_json_string(tr_strbuf *b, const char *s)
{
    if (!s) {
        tr_strbuf_puts(b, "null");
        return;
    }
    tr_strbuf_putc(b, '"');
    tr_strbuf_json_escape(b, s, strlen(s));
    tr_strbuf_putc(b, '"');
}

void tr_strbuf_json_time(tr_strbuf *b, int64_t t)
{
    char buf[TR_TIME_BUFSIZE];
    if (t == TR_TIME_NONE) {
        tr_strbuf_puts(b, "null");
        return;
    }
    tr_time_format(t, buf);
    tr_strbuf_json_string(b, buf);
}
