/*
 * test_input.c — the input window and gzip: every record straddling window
 * boundaries gives the same events as one big window; gzip members,
 * truncation, damage and trailing bytes are reported, never fatal.
 */
#include "harness.h"

#include <stdlib.h>
#include <zlib.h>

#include "../src/read/input.h"

/* A corpus mixing every shape and a few defects. */
static const char *corpus =
    "\xEF\xBB\xBF{\"Event\":{\"System\":{\"EventID\":1,\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2021-03-02T07:01:12Z\"}}},"
    "\"EventData\":{\"CommandLine\":\"cmd.exe /c \\\"whoami\\\" \\u00e9\",\"Data\":[\"x\",\"y\"]}}}\n"
    "{\"broken\":\n"
    "Record 7\n"
    "{\n  \"Event\": {\n    \"System\": {\n      \"EventID\": {\"#attributes\": {\"Qualifiers\": 0}, \"#text\": 7045}\n    }\n  }\n}\n"
    "{\"n\":-12.5e3,\"big\":18446744073709551615,\"t\":true,\"f\":false,\"z\":null,\"o\":{}}\n"
    "[\n  {\"in\":\"array\", \"utf8\":\"\xE2\x82\xAC\"},\n  {\"in\":\"array\",,},\n  {\"in\":\"again\"}\n]\n"
    "{\"last\":\"no newline at end\"}";

static void gzip_buffer(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&zs, len) + 64;
    *out = malloc(cap);
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
}

static void small_windows_same_events(void)
{
    const char *path = write_file("corpus.json", corpus, strlen(corpus));
    scan_result ref = {0};
    scan_path(&ref, path);
    CHECK_INT(ref.nevents, 6);
    CHECK_INT(ref.stats.records_skipped, 2);
    const size_t windows[] = {1, 2, 3, 7, 16, 17, 64, 100, 1000};
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        tr_input_test_window = windows[i];
        scan_result r = {0};
        scan_path(&r, path);
        tr_input_test_window = 0;
        if (r.nevents != ref.nevents || r.dump_len != ref.dump_len || memcmp(r.dump, ref.dump, r.dump_len) != 0 ||
            strcmp(r.diags, ref.diags) != 0) {
            char m[128];
            snprintf(m, sizeof m, "window of %zu bytes changes the result", windows[i]);
            tr_test_fail(__FILE__, __LINE__, m);
            fprintf(stderr, "--- reference\n%s%s--- got\n%s%s", ref.dump, ref.diags, r.dump, r.diags);
        }
        scan_result_free(&r);
    }
    scan_result_free(&ref);
}

static void gzip_reads_like_plain(void)
{
    scan_result plain = {0};
    scan_memory(&plain, "c.json", corpus, strlen(corpus));
    unsigned char *gz;
    size_t gz_len;
    gzip_buffer(corpus, strlen(corpus), &gz, &gz_len);
    scan_result r = {0};
    scan_memory(&r, "c.json", gz, gz_len);
    CHECK_INT(r.nevents, plain.nevents);
    CHECK(r.dump_len == plain.dump_len && memcmp(r.dump, plain.dump, r.dump_len) == 0);
    CHECK_INT(r.stats.bytes_read, gz_len); /* compressed bytes are what was read */
    scan_result_free(&r);

    /* from disk, through tiny windows */
    const char *path = write_file("c.json.gz", gz, gz_len);
    tr_input_test_window = 5;
    scan_path(&r, path);
    tr_input_test_window = 0;
    CHECK_INT(r.nevents, plain.nevents);
    scan_result_free(&r);
    scan_result_free(&plain);
    free(gz);
}

static void gzip_members_concatenated(void)
{
    const char *a = "{\"m\":1}\n", *b = "{\"m\":2}\n";
    unsigned char *ga, *gb;
    size_t la, lb;
    gzip_buffer(a, strlen(a), &ga, &la);
    gzip_buffer(b, strlen(b), &gb, &lb);
    unsigned char *both = malloc(la + lb + 4);
    memcpy(both, ga, la);
    memcpy(both + la, gb, lb);
    scan_result r = {0};
    scan_memory(&r, "m.gz", both, la + lb);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    scan_result_free(&r);
    /* zero padding after the last member is tolerated */
    memset(both + la + lb, 0, 4);
    const char *path = write_file("m.gz", both, la + lb + 4);
    scan_path(&r, path);
    CHECK_INT(r.nevents, 2);
    CHECK_INT(r.ndiags, 0);
    scan_result_free(&r);
    /* garbage after it is reported */
    memcpy(both + la + lb, "JUNK", 4);
    scan_memory(&r, "junk.gz", both, la + lb + 4);
    CHECK_INT(r.nevents, 2);
    CHECK_CONTAINS(r.diags, "non-gzip data after the compressed stream");
    scan_result_free(&r);
    free(ga);
    free(gb);
    free(both);
}

static void gzip_truncated_and_damaged(void)
{
    /* many records, so that a cut keeps some */
    char *text = malloc(200000);
    size_t n = 0;
    for (int i = 0; i < 4000; i++)
        n += (size_t)sprintf(text + n, "{\"i\":%d,\"pad\":\"%08x\"}\n", i, (unsigned)(i * 2654435761u));
    unsigned char *gz;
    size_t gz_len;
    gzip_buffer(text, n, &gz, &gz_len);
    free(text);

    scan_result r = {0};
    const char *path = write_file("cut.json.gz", gz, gz_len / 2);
    scan_path(&r, path);
    CHECK(r.nevents > 100 && r.nevents < 4000);
    CHECK_CONTAINS(r.diags, "gzip stream truncated");
    CHECK_INT(r.stats.files_damaged, 1);
    scan_result_free(&r);

    for (size_t at = 20; at < gz_len - 8; at += gz_len / 7) {
        unsigned char *bad = malloc(gz_len);
        memcpy(bad, gz, gz_len);
        for (int k = 0; k < 16 && at + (size_t)k < gz_len; k++)
            bad[at + (size_t)k] ^= 0x5a;
        scan_memory(&r, "bad.json.gz", bad, gz_len);
        CHECK(r.nevents <= 4000);
        CHECK(r.nerrors >= 1); /* damage is always reported somewhere */
        scan_result_free(&r);
        free(bad);
    }
    free(gz);
}


/* Encodes UTF-8 text (BMP and astral) as UTF-16 with a byte-order mark. */
static size_t to_utf16(const char *text, unsigned char *out, bool big_endian)
{
    size_t o = 0;
    out[o++] = big_endian ? 0xFE : 0xFF;
    out[o++] = big_endian ? 0xFF : 0xFE;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned cp;
        if (*p < 0x80) {
            cp = *p++;
        } else if (*p < 0xE0) {
            cp = (unsigned)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else if (*p < 0xF0) {
            cp = (unsigned)(p[0] & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
            p += 3;
        } else {
            cp = (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3F) << 12 | (unsigned)(p[2] & 0x3F) << 6 |
                 (p[3] & 0x3F);
            p += 4;
        }
        unsigned units[2], n = 0;
        if (cp >= 0x10000) {
            units[n++] = 0xD800 + ((cp - 0x10000) >> 10);
            units[n++] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
        } else {
            units[n++] = cp;
        }
        for (unsigned k = 0; k < n; k++) {
            out[o++] = (unsigned char)(big_endian ? units[k] >> 8 : units[k] & 0xFF);
            out[o++] = (unsigned char)(big_endian ? units[k] & 0xFF : units[k] >> 8);
        }
    }
    return o;
}

static void utf16_powershell_export(void)
{
    /* Windows PowerShell: Get-WinEvent | ConvertTo-Json | Out-File x.json
     * writes UTF-16LE with a byte-order mark */
    const char *text = "[\r\n  {\r\n    \"Id\": 4624,\r\n    \"Message\": \"caf\xC3\xA9 \xF0\x9F\x98\x80\"\r\n  },\r\n"
                       "  {\"Id\": 4625}\r\n]\r\n";
    unsigned char buf[512];
    scan_result plain = {0}, r = {0};
    scan_memory(&plain, "x.json", text, strlen(text));
    CHECK_INT(plain.nevents, 2);
    for (int be = 0; be < 2; be++) {
        size_t n = to_utf16(text, buf, be);
        scan_memory(&r, "x.json", buf, n);
        CHECK_INT(r.nevents, 2);
        CHECK_INT(r.ndiags, 0);
        CHECK(r.dump_len == plain.dump_len && memcmp(r.dump, plain.dump, r.dump_len) == 0);
        scan_result_free(&r);
        /* from disk through windows of every small size */
        const char *path = write_file("u16.json", buf, n);
        for (size_t w = 1; w < 12; w++) {
            tr_input_test_window = w;
            scan_path(&r, path);
            tr_input_test_window = 0;
            CHECK_INT(r.nevents, 2);
            CHECK_CONTAINS(r.dump, "caf\xC3\xA9 \xF0\x9F\x98\x80");
            scan_result_free(&r);
        }
    }
    scan_result_free(&plain);

    /* a lone surrogate becomes U+FFFD; an odd final byte is reported */
    unsigned char bad[] = {0xFF, 0xFE, '{', 0, '"', 0, 'a', 0, '"', 0, ':', 0, '"', 0, 0x00, 0xD8,
                           'x', 0, '"', 0, '}', 0, '\n', 0, '{'};
    scan_memory(&r, "bad16.json", bad, sizeof bad);
    CHECK_INT(r.nevents, 1);
    CHECK_CONTAINS(r.dump, "\"a\":\"\xEF\xBF\xBDx\"");
    CHECK_CONTAINS(r.diags, "UTF-16 text ends with an odd byte");
    scan_result_free(&r);
}

void suite_input(void)
{
    RUN(small_windows_same_events);
    RUN(gzip_reads_like_plain);
    RUN(gzip_members_concatenated);
    RUN(gzip_truncated_and_damaged);
    RUN(utf16_powershell_export);
}
