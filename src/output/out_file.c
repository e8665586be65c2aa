/*
 * out_file.c — an output file written whole or not at all (tr_out_file):
 * to PATH.<pid>.tmp, flushed to disk and renamed over PATH once complete;
 * a failed or killed run leaves at most the temporary, never a PATH that
 * looks complete. Standard output ("-"), a device or a named pipe is
 * written as it goes. The findings files and the run report use it.
 *
 * Owns the temporary's name and, for a file or device it opened, the
 * stream (closed by commit or abort).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traccia.h"
#include "../util/alloc.h"

tr_status tr_out_open(tr_out_file *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return TR_OK;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) { /* a device or a pipe: written as it goes */
        o->f = fopen(path, "w");
        o->direct = o->f != NULL;
        return o->f ? TR_OK : TR_ERR_IO;
    }
    size_t n = strlen(path) + 32;
    if (!(o->tmp = tr_malloc(n)))
        return TR_ERR_NOMEM;
    snprintf(o->tmp, n, "%s.%ld.tmp", path, (long)getpid());
    if (!(o->f = fopen(o->tmp, "w"))) {
        int saved = errno;
        tr_free(o->tmp);
        o->tmp = NULL;
        errno = saved;
        return TR_ERR_IO;
    }
    return TR_OK;
}

tr_status tr_out_commit(tr_out_file *o)
{
    if (!o->f)
        return TR_OK;
    bool ok = fflush(o->f) == 0 && !ferror(o->f);
    if (!o->tmp) { /* standard output, a device, a pipe */
        if (o->direct)
            ok = fclose(o->f) == 0 && ok;
        o->f = NULL;
        return ok ? TR_OK : TR_ERR_IO;
    }
    ok = ok && fsync(fileno(o->f)) == 0;
    int saved = errno;
    if (fclose(o->f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    o->f = NULL;
    if (ok && rename(o->tmp, o->path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        unlink(o->tmp);
    tr_free(o->tmp);
    o->tmp = NULL;
    errno = saved;
    return ok ? TR_OK : TR_ERR_IO;
}

void tr_out_abort(tr_out_file *o)
{
    if (o->f && (o->tmp || o->direct))
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    tr_free(o->tmp);
    o->tmp = NULL;
    o->f = NULL;
}
