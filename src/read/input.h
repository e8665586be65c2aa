/*
 * input.h — a sliding window over the bytes of one evidence file.
 *
 * Text readers parse records out of a window; when a record runs past the
 * window's end they ask for more, and the window slides (unconsumed bytes
 * move to the front) or, if one record is larger than the window, grows up
 * to TR_INPUT_MAX_WINDOW. Memory is therefore bounded by the largest record,
 * not by the file. Files are read with read(2); memory buffers are used in
 * place; gzip (and zlib) streams, including concatenated members, are
 * inflated transparently, detected by their magic bytes.
 *
 * Ownership: the input owns its window and its file descriptor. Pointers
 * into the window stay valid until the next tr_input_fill() — readers end a
 * batch before they refill, which is what makes zero-copy events safe.
 */
#ifndef TR_READ_INPUT_H
#define TR_READ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traccia.h"

#define TR_INPUT_WINDOW (4u << 20)          /* initial window, bytes */
#define TR_INPUT_MAX_WINDOW (64u << 20)     /* largest record a text reader accepts */

typedef struct tr_input tr_input;

/* Test hook: when non-zero, the initial window size in bytes (tests set it
 * to a few bytes so that every record straddles window boundaries). */
extern size_t tr_input_test_window;

/* Opens a file. On failure returns TR_ERR_IO (or NOMEM) and writes the
 * reason into err (errsz bytes). */
tr_status tr_input_open_file(tr_input **out, const char *path, char *err, size_t errsz);
/* Wraps a memory buffer (not copied; must outlive the input). */
tr_status tr_input_open_memory(tr_input **out, const void *data, size_t len);
void tr_input_close(tr_input *in);

/* The unconsumed bytes of the window. */
const char *tr_input_data(const tr_input *in);
size_t tr_input_avail(const tr_input *in);
/* True when no byte remains beyond the window. */
bool tr_input_eof(const tr_input *in);
/* Marks n bytes of the window as consumed. */
void tr_input_consume(tr_input *in, size_t n);
/* Consumes n bytes, beyond the window if need be: a plain file seeks
 * (nothing is read), other sources read through. Invalidates pointers into
 * the window. TR_OK (also when the end comes first), or the failure. */
tr_status tr_input_skip(tr_input *in, uint64_t n);
/* Offset in the (decompressed) stream of the first unconsumed byte. */
uint64_t tr_input_offset(const tr_input *in);
/* The source's size in bytes (a regular file's at open; a buffer's), 0 if unknown. */
uint64_t tr_input_size(const tr_input *in);
/* Bytes taken from the source so far (compressed bytes for gzip). */
uint64_t tr_input_raw_bytes(const tr_input *in);

/* Brings more bytes into the window. Invalidates pointers into it. With
 * `grow`, the window may double (up to TR_INPUT_MAX_WINDOW) when it is full
 * of unconsumed bytes. Returns TR_OK (possibly with nothing new at EOF),
 * TR_ERR_LIMIT when the window cannot grow (reason in tr_input_error()), or
 * TR_ERR_NOMEM. A source that breaks (read error, damaged gzip) does not
 * fail the fill: the input ends there, and tr_input_status() says why. */
tr_status tr_input_fill(tr_input *in, bool grow);
/* Fills until at least n bytes are available or EOF (for format probes). */
tr_status tr_input_peek(tr_input *in, size_t n);
/* TR_OK, or TR_ERR_IO / TR_ERR_FORMAT when the source broke; the reason is
 * in tr_input_error(). */
tr_status tr_input_status(const tr_input *in);
const char *tr_input_error(const tr_input *in);

#endif
