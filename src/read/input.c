/*
 * input.c — the sliding window (see input.h).
 *
 * Three sources feed the window: a file descriptor, a memory buffer (used in
 * place when not compressed, so tests and fuzzers see exactly their bytes),
 * and zlib inflating either of them. gzip members are inflated one after
 * another (`cat a.gz b.gz` is a valid gzip file); bytes after the last
 * member that are not another member are reported, not silently dropped.
 * UTF-16 text (a byte-order mark first: what Windows PowerShell's Out-File
 * and `>` write by default) is decoded to UTF-8 on the way in, so readers
 * only ever see UTF-8.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../util/alloc.h"

#define RAW_CHUNK (256u * 1024u) /* compressed bytes read per inflate round */

struct tr_input {
    int fd;                  /* -1 for memory */
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    bool source_eof;

    bool gz;
    int utf16;               /* 0: no; 1: little endian; 2: big endian */
    bool utf16_done;
    unsigned pending_high;   /* a high surrogate waiting for its pair */
    size_t raw_pos, raw_len; /* undecoded UTF-16 bytes are raw[raw_pos, raw_len) */
    bool gz_done;            /* the last member ended and nothing follows */
    bool gz_between;         /* a member ended; the next may or may not come */
    z_stream zs;
    unsigned char *raw;      /* compressed bytes for zlib (fd source only) */

    char *buf;               /* window storage; NULL when using mem in place */
    size_t cap;
    const char *data;        /* window base (buf or mem) */
    size_t start, end;       /* unconsumed bytes are data[start, end) */
    uint64_t base;           /* stream offset of data[0] */
    uint64_t raw_bytes;
    uint64_t size;           /* a regular file's size at open, else 0 */
    tr_status failed;        /* sticky: the source broke (the window keeps what came before) */
    char err[160];
};

/* Records that the source cannot give more: reading ends at what the
 * window holds, and tr_input_status() tells why. */
static tr_status input_fail(tr_input *in, tr_status st)
{
    in->failed = st;
    in->gz_done = true;
    in->source_eof = true;
    return TR_OK;
}

static tr_status input_new(tr_input **out)
{
    tr_input *in = tr_calloc(1, sizeof *in);
    if (!in)
        return TR_ERR_NOMEM;
    in->fd = -1;
    *out = in;
    return TR_OK;
}

/* Reads up to n raw bytes from the source. Returns bytes read, 0 at EOF,
 * -1 on error (reason in in->err). */
static long source_read(tr_input *in, void *dst, size_t n)
{
    if (in->fd < 0) {
        size_t k = in->mem_len - in->mem_pos;
        if (k > n)
            k = n;
        memcpy(dst, in->mem + in->mem_pos, k);
        in->mem_pos += k;
        in->raw_bytes += k;
        if (in->mem_pos == in->mem_len)
            in->source_eof = true;
        return (long)k;
    }
    for (;;) {
        ssize_t r = read(in->fd, dst, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(in->err, sizeof in->err, "read failed: %s", strerror(errno));
            return -1;
        }
        if (r == 0)
            in->source_eof = true;
        in->raw_bytes += (uint64_t)r;
        return (long)r;
    }
}

static tr_status gz_start(tr_input *in, const unsigned char *head, size_t head_len)
{
    in->raw = tr_malloc(RAW_CHUNK);
    if (!in->raw)
        return TR_ERR_NOMEM;
    memcpy(in->raw, head, head_len);
    memset(&in->zs, 0, sizeof in->zs);
    /* 15 + 32: zlib or gzip header, detected automatically */
    if (inflateInit2(&in->zs, 15 + 32) != Z_OK)
        return TR_ERR_NOMEM;
    in->zs.next_in = in->raw;
    in->zs.avail_in = (uInt)head_len;
    in->gz = true;
    return TR_OK;
}

/* Small files get a window their size: a folder of thousands of small logs
 * should not cost a 4 MiB allocation each. The window still grows on demand. */
size_t tr_input_test_window;

static tr_status window_alloc(tr_input *in, uint64_t size_hint)
{
    size_t cap = TR_INPUT_WINDOW;
    if (size_hint && size_hint + 1 < cap)
        cap = size_hint + 1 < 64 * 1024 ? 64 * 1024 : (size_t)size_hint + 1;
    if (tr_input_test_window) /* at least 2: the gzip magic is read first */
        cap = tr_input_test_window < 2 ? 2 : tr_input_test_window;
    in->buf = tr_malloc(cap);
    if (!in->buf)
        return TR_ERR_NOMEM;
    in->cap = cap;
    in->data = in->buf;
    return TR_OK;
}

static bool is_gzip_magic(const unsigned char *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

/* 1 for a UTF-16LE byte-order mark, 2 for UTF-16BE, 0 otherwise. */
static int utf16_bom(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE)
        return 1;
    if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF)
        return 2;
    return 0;
}

static tr_status utf16_start(tr_input *in, int order)
{
    in->raw = tr_malloc(RAW_CHUNK);
    if (!in->raw)
        return TR_ERR_NOMEM;
    in->utf16 = order;
    return TR_OK;
}

tr_status tr_input_open_file(tr_input **out, const char *path, char *err, size_t errsz)
{
    *out = NULL;
    tr_input *in;
    tr_status st = input_new(&in);
    if (st)
        return st;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        snprintf(err, errsz, "cannot open: %s", strerror(errno));
        tr_free(in);
        return TR_ERR_IO;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    struct stat sb;
    uint64_t size_hint = fstat(in->fd, &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    in->size = size_hint;
    st = window_alloc(in, size_hint);
    if (st) {
        tr_input_close(in);
        return st;
    }
    unsigned char head[2];
    long n = 0;
    while (n < 2) {
        long r = source_read(in, head + n, (size_t)(2 - n));
        if (r < 0) {
            snprintf(err, errsz, "%s", in->err);
            tr_input_close(in);
            return TR_ERR_IO;
        }
        if (r == 0)
            break;
        n += r;
    }
    if (is_gzip_magic(head, (size_t)n)) {
        /* compressed: the file size says little about the text size */
        if (in->cap < TR_INPUT_WINDOW && !tr_input_test_window) {
            char *nb = tr_realloc(in->buf, TR_INPUT_WINDOW);
            if (nb) {
                in->buf = nb;
                in->data = nb;
                in->cap = TR_INPUT_WINDOW;
            }
        }
        st = gz_start(in, head, (size_t)n);
    } else if (utf16_bom(head, (size_t)n)) {
        st = utf16_start(in, utf16_bom(head, (size_t)n)); /* the mark itself is dropped */
    } else {
        memcpy(in->buf, head, (size_t)n);
        in->end = (size_t)n;
    }
    if (st) {
        tr_input_close(in);
        return st;
    }
    *out = in;
    return TR_OK;
}

tr_status tr_input_open_memory(tr_input **out, const void *data, size_t len)
{
    *out = NULL;
    tr_input *in;
    tr_status st = input_new(&in);
    if (st)
        return st;
    in->mem = data;
    in->mem_len = len;
    if (is_gzip_magic(data, len)) {
        in->source_eof = len == 0;
        st = window_alloc(in, 0);
        if (!st)
            st = gz_start(in, in->mem, 0);
        if (st) {
            tr_input_close(in);
            return st;
        }
    } else if (utf16_bom(data, len)) {
        in->mem_pos = 2;
        in->raw_bytes = 2;
        in->source_eof = len == 2;
        st = window_alloc(in, len);
        if (!st)
            st = utf16_start(in, utf16_bom(data, len));
        if (st) {
            tr_input_close(in);
            return st;
        }
    } else {
        /* used in place: the whole buffer is the window */
        in->data = data;
        in->end = len;
        in->mem_pos = len;
        in->raw_bytes = len;
        in->source_eof = true;
    }
    *out = in;
    return TR_OK;
}

void tr_input_close(tr_input *in)
{
    if (!in)
        return;
    if (in->gz)
        inflateEnd(&in->zs);
    if (in->fd >= 0)
        close(in->fd);
    tr_free(in->raw);
    tr_free(in->buf);
    tr_free(in);
}

const char *tr_input_data(const tr_input *in) { return in->data ? in->data + in->start : ""; }
size_t tr_input_avail(const tr_input *in) { return in->end - in->start; }
uint64_t tr_input_offset(const tr_input *in) { return in->base + in->start; }
uint64_t tr_input_raw_bytes(const tr_input *in) { return in->raw_bytes; }
uint64_t tr_input_size(const tr_input *in) { return in->fd >= 0 ? in->size : in->mem_len; }
const char *tr_input_error(const tr_input *in) { return in->err; }

tr_status tr_input_status(const tr_input *in) { return in->failed; }

bool tr_input_eof(const tr_input *in)
{
    if (in->gz)
        return in->gz_done;
    if (in->utf16)
        return in->utf16_done;
    return in->source_eof;
}

void tr_input_consume(tr_input *in, size_t n)
{
    if (n > in->end - in->start)
        n = in->end - in->start;
    in->start += n;
}

tr_status tr_input_skip(tr_input *in, uint64_t n)
{
    size_t avail = in->end - in->start;
    if (n <= avail) {
        in->start += (size_t)n;
        return TR_OK;
    }
    n -= avail;
    in->start = in->end;
    if (in->fd >= 0 && !in->gz && !in->utf16 && !in->failed) {
        /* a plain file: seek past what is not wanted, read nothing of it */
        off_t at = lseek(in->fd, (off_t)n, SEEK_CUR);
        if (at < 0) {
            snprintf(in->err, sizeof in->err, "seek failed: %s", strerror(errno));
            return input_fail(in, TR_ERR_IO);
        }
        in->base += in->end + n;
        in->start = in->end = 0;
        return TR_OK;
    }
    /* compressed, decoded or in-memory: read through */
    while (n > 0) {
        tr_status st = tr_input_fill(in, false);
        if (st)
            return st;
        size_t k = in->end - in->start;
        if (k == 0)
            return TR_OK; /* the end came first */
        if (k > n)
            k = (size_t)n;
        in->start += k;
        n -= k;
    }
    return TR_OK;
}

/* Inflates into buf[end, cap). Returns TR_OK having produced >= 0 bytes. */
static tr_status gz_fill(tr_input *in)
{
    while (!in->gz_done && in->end < in->cap) {
        if (in->zs.avail_in == 0) {
            if (in->source_eof && in->gz_between) {
                in->gz_done = true;
                break;
            }
            if (in->source_eof) {
                snprintf(in->err, sizeof in->err,
                         "gzip stream truncated at compressed offset %llu",
                         (unsigned long long)in->raw_bytes);
                return input_fail(in, TR_ERR_FORMAT);
            }
            unsigned char *dst = in->raw;
            size_t want = RAW_CHUNK;
            long r;
            if (in->fd < 0) { /* memory source: point zlib at it directly */
                size_t k = in->mem_len - in->mem_pos;
                in->zs.next_in = (unsigned char *)(uintptr_t)(in->mem + in->mem_pos);
                in->zs.avail_in = (uInt)(k > RAW_CHUNK ? RAW_CHUNK : k);
                in->mem_pos += in->zs.avail_in;
                in->raw_bytes += in->zs.avail_in;
                if (in->mem_pos == in->mem_len)
                    in->source_eof = true;
                if (in->zs.avail_in == 0)
                    continue;
            } else {
                r = source_read(in, dst, want);
                if (r < 0) {
                    return input_fail(in, TR_ERR_IO);
                }
                in->zs.next_in = in->raw;
                in->zs.avail_in = (uInt)r;
                if (r == 0)
                    continue;
            }
        }
        if (in->gz_between) {
            /* padding may straddle a read boundary */
            while (in->zs.avail_in && in->zs.next_in[0] == 0)
                in->zs.next_in++, in->zs.avail_in--;
            if (in->zs.avail_in == 0)
                continue;
            if (in->zs.avail_in == 1 && !in->source_eof) {
                /* one byte: cannot judge the magic yet; pull the next chunk */
                unsigned char b0 = in->zs.next_in[0];
                in->raw[0] = b0;
                long r = in->fd < 0 ? 0 : source_read(in, in->raw + 1, RAW_CHUNK - 1);
                if (r < 0) {
                    return input_fail(in, TR_ERR_IO);
                }
                if (in->fd < 0) { /* memory: the rest is contiguous after it */
                    size_t k = in->mem_len - in->mem_pos;
                    if (k > RAW_CHUNK)
                        k = RAW_CHUNK;
                    in->mem_pos += k;
                    in->raw_bytes += k;
                    in->source_eof = in->mem_pos == in->mem_len;
                    in->zs.avail_in += (uInt)k;
                } else {
                    in->zs.next_in = in->raw;
                    in->zs.avail_in = 1 + (uInt)r;
                }
            }
            if (in->zs.avail_in == 1 || !is_gzip_magic(in->zs.next_in, in->zs.avail_in)) {
                snprintf(in->err, sizeof in->err,
                         "%u bytes of non-gzip data after the compressed stream ignored", in->zs.avail_in);
                return input_fail(in, TR_ERR_FORMAT);
            }
            in->gz_between = false;
        }
        in->zs.next_out = (unsigned char *)in->buf + in->end;
        in->zs.avail_out = (uInt)(in->cap - in->end);
        uInt before = in->zs.avail_out;
        int zr = inflate(&in->zs, Z_NO_FLUSH);
        in->end += before - in->zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* Another member may follow; the check before the next inflate
             * decides (EOF here is a clean end). */
            inflateReset(&in->zs);
            in->gz_between = true;
            continue;
        }
        if (zr == Z_BUF_ERROR && in->zs.avail_in == 0)
            continue; /* needs more input */
        if (zr != Z_OK) {
            snprintf(in->err, sizeof in->err, "gzip data damaged near compressed offset %llu: %s",
                     (unsigned long long)(in->raw_bytes - in->zs.avail_in),
                     in->zs.msg ? in->zs.msg : "inflate failed");
            return input_fail(in, TR_ERR_FORMAT);
        }
    }
    return TR_OK;
}

static void put_utf8(tr_input *in, unsigned cp)
{
    unsigned char *u = (unsigned char *)in->buf + in->end;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        in->end += 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        in->end += 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        in->end += 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        in->end += 4;
    }
}

/* Decodes UTF-16 from the source into the window as UTF-8. Lone surrogates
 * become U+FFFD; an odd byte at the very end is reported. */
static tr_status utf16_fill(tr_input *in)
{
    while (!in->utf16_done && in->cap - in->end >= 4) {
        if (in->raw_len - in->raw_pos < 2) {
            size_t left = in->raw_len - in->raw_pos;
            if (left)
                in->raw[0] = in->raw[in->raw_pos];
            in->raw_pos = 0;
            in->raw_len = left;
            if (in->source_eof) {
                if (in->pending_high)
                    put_utf8(in, 0xFFFD);
                in->pending_high = 0;
                in->utf16_done = true;
                if (left) {
                    snprintf(in->err, sizeof in->err, "UTF-16 text ends with an odd byte");
                    return input_fail(in, TR_ERR_FORMAT);
                }
                break;
            }
            long r = source_read(in, in->raw + left, RAW_CHUNK - left);
            if (r < 0)
                return input_fail(in, TR_ERR_IO);
            in->raw_len += (size_t)r;
            continue;
        }
        const unsigned char *b = in->raw + in->raw_pos;
        unsigned u = in->utf16 == 1 ? (unsigned)(b[0] | b[1] << 8) : (unsigned)(b[0] << 8 | b[1]);
        in->raw_pos += 2;
        if (in->pending_high) {
            unsigned hi = in->pending_high;
            in->pending_high = 0;
            if (u >= 0xDC00 && u <= 0xDFFF) {
                put_utf8(in, 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00));
                continue;
            }
            put_utf8(in, 0xFFFD);
            if (in->cap - in->end < 4) { /* no room left for this unit: keep it */
                in->raw_pos -= 2;
                break;
            }
        }
        if (u >= 0xD800 && u <= 0xDBFF)
            in->pending_high = u;
        else if (u >= 0xDC00 && u <= 0xDFFF)
            put_utf8(in, 0xFFFD);
        else
            put_utf8(in, u);
    }
    return TR_OK;
}

tr_status tr_input_fill(tr_input *in, bool grow)
{
    if (!in->buf) /* memory used in place: everything is already there */
        return TR_OK;
    if (tr_input_eof(in))
        return TR_OK;
    /* slide the unconsumed bytes to the front */
    if (in->start > 0) {
        size_t keep = in->end - in->start;
        memmove(in->buf, in->buf + in->start, keep);
        in->base += in->start;
        in->start = 0;
        in->end = keep;
    }
    /* full: no room for one more decoded character (4 bytes when decoding
     * UTF-16, 1 otherwise) */
    if (in->cap - in->end < (in->utf16 ? 4u : 1u)) {
        if (!grow)
            return TR_OK;
        if (in->cap >= TR_INPUT_MAX_WINDOW) {
            snprintf(in->err, sizeof in->err, "record larger than %u MiB", TR_INPUT_MAX_WINDOW >> 20);
            return TR_ERR_LIMIT;
        }
        char *nb = tr_realloc(in->buf, in->cap * 2);
        if (!nb)
            return TR_ERR_NOMEM;
        in->buf = nb;
        in->data = nb;
        in->cap *= 2;
    }
    if (in->gz)
        return gz_fill(in);
    if (in->utf16)
        return utf16_fill(in);
    while (in->end < in->cap && !in->source_eof) {
        long r = source_read(in, in->buf + in->end, in->cap - in->end);
        if (r < 0)
            return input_fail(in, TR_ERR_IO);
        in->end += (size_t)r;
        if (r == 0)
            break;
    }
    return TR_OK;
}

tr_status tr_input_peek(tr_input *in, size_t n)
{
    while (tr_input_avail(in) < n && !tr_input_eof(in)) {
        size_t before = tr_input_avail(in);
        /* grow only while the window is smaller than what the probe wants */
        tr_status st = tr_input_fill(in, in->cap < n);
        if (st)
            return st;
        if (tr_input_avail(in) == before) /* full, or nothing more to come */
            break;
    }
    return TR_OK;
}
