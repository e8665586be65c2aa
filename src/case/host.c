/*
 * host.c — the one host identity of the program (tr_event_host, tr_host_key,
 * tr_host_from_path in traccia.h): which machine an event belongs to, and
 * the key under which the hunt's counts, the Exchange report, the sightings
 * and the case merge its spellings. The rule is written once, in
 * docs/ARCHITECTURE.md ("One host"), and implemented only here.
 *
 * Owns nothing: names returned are borrowed from the event or its path.
 */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "host.h"
#include "traccia.h"

/* Fields that name the machine that wrote the event (step 1). */
static const char *const own_fields[] = {"Computer", "ComputerName", "host.name", "hostname", NULL};
/* A log's own server fields (step 2); its address (step 4). */
static const char *const server_fields[] = {"ServerHostName", "s-computername", "ServerName", NULL};
static const char *const address_fields[] = {"s-ip", NULL};

/* Dotted IPv4 digits, or an IPv6 address (hex digits, colons, dots). */
static bool is_address(const char *s, size_t n)
{
    bool colon = memchr(s, ':', n) != NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(isdigit((unsigned char)c) || c == '.' || (colon && (c == ':' || isxdigit((unsigned char)c)))))
            return false;
    }
    return n > 0;
}

size_t tr_host_key(const char *s, size_t n, char key[TR_HOST_KEY_MAX])
{
    while (n && (*s == ' ' || *s == '\\' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t k = 0;
    if (n == sizeof TR_HOST_UNKNOWN - 1 && memcmp(s, TR_HOST_UNKNOWN, n) == 0) { /* no host: its own key */
        memcpy(key, TR_HOST_UNKNOWN, sizeof TR_HOST_UNKNOWN);
        return n;
    }
    if (is_address(s, n)) {
        for (; k < n && k < TR_HOST_KEY_MAX - 1; k++)
            key[k] = (char)tolower((unsigned char)s[k]);
    } else {
        for (; k < n && k < TR_HOST_KEY_MAX - 1 && s[k] != '.'; k++)
            key[k] = (char)toupper((unsigned char)s[k]);
    }
    key[k] = '\0';
    return k;
}

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

const char *tr_host_from_path(const char *path, size_t *len)
{
    static const char *const anchors[] = {"Logging",         "inetpub",        "Program Files", "Program Files (x86)",
                                          "Exchange Server", "ExchangeServer", "V15",           "Windows"};
    enum { MAXC = 64 };
    const char *comp[MAXC];
    size_t clen[MAXC], nc = 0;
    if (!path)
        return NULL;
    for (const char *p = path; *p && nc < MAXC;) {
        while (*p == '/' || *p == '\\')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/' && *p != '\\')
            p++;
        comp[nc] = s;
        clen[nc++] = (size_t)(p - s);
    }
    /* the first anchor from the left: a server's copy nested in a case folder
     * (case/EXCH01/C/inetpub/...) is named by the folder nearest the anchor */
    for (size_t i = 1; i + 1 < nc; i++) { /* the last component is the file */
        bool anchor = false;
        for (size_t a = 0; a < sizeof anchors / sizeof anchors[0] && !anchor; a++)
            anchor = ieq(comp[i], clen[i], anchors[a]);
        if (!anchor)
            continue;
        size_t j = i - 1;
        /* a drive between the server and the anchor: C, C:, C$, c_drive */
        bool drive = (clen[j] <= 2 && isalpha((unsigned char)comp[j][0]) &&
                      (clen[j] == 1 || comp[j][1] == ':' || comp[j][1] == '$')) ||
                     (clen[j] == 7 && ieq(comp[j] + 1, 6, "_drive"));
        if (drive) {
            if (j == 0)
                return NULL;
            j--;
        }
        if ((clen[j] == 1 && comp[j][0] == '.') || (clen[j] == 2 && memcmp(comp[j], "..", 2) == 0))
            return NULL;
        *len = clen[j];
        return comp[j];
    }
    return NULL;
}

/* The first of the fields with a usable text value. */
static const char *first_text(const tr_event *ev, const char *const *names, size_t *len)
{
    for (; *names; names++) {
        const tr_field *f = tr_event_get(ev, *names, strlen(*names));
        if (!f || !f->value.str || f->value.type == TR_LIST || f->value.type == TR_NULL)
            continue;
        char key[TR_HOST_KEY_MAX];
        if (tr_host_key(f->value.str, f->value.len, key)) {
            *len = f->value.len;
            return f->value.str;
        }
    }
    return NULL;
}

size_t tr_event_host_cached(const tr_event *ev, tr_host_path_cache *cache, char key[TR_HOST_KEY_MAX],
                            const char **name, size_t *len)
{
    assert(key && name && len);
    const char *s = NULL;
    size_t n = 0;
    if (ev && !(s = first_text(ev, own_fields, &n)) && !(s = first_text(ev, server_fields, &n))) {
        const char *path = tr_event_origin(ev)->path;
        if (cache && path && cache->valid && strcmp(cache->path, path) == 0) {
            s = cache->found ? path + cache->at : NULL; /* the same file as the last event's */
            n = cache->len;
        } else {
            s = tr_host_from_path(path, &n);
            if (s && !tr_host_key(s, n, key))
                s = NULL;
            size_t pl = path ? strlen(path) : 0;
            if (cache && path && pl < sizeof cache->path) {
                memcpy(cache->path, path, pl + 1);
                cache->valid = true;
                cache->found = s != NULL;
                cache->at = s ? (size_t)(s - path) : 0;
                cache->len = s ? n : 0;
            }
        }
        if (!s)
            s = first_text(ev, address_fields, &n);
    }
    size_t k = s ? tr_host_key(s, n, key) : 0;
    if (!k) {
        memcpy(key, TR_HOST_UNKNOWN, sizeof TR_HOST_UNKNOWN);
        *name = TR_HOST_UNKNOWN;
        *len = sizeof TR_HOST_UNKNOWN - 1;
        return sizeof TR_HOST_UNKNOWN - 1;
    }
    while (n && (*s == ' ' || *s == '\\' || *s == '\t'))
        s++, n--;
    *name = s;
    *len = n;
    return k;
}

size_t tr_event_host(const tr_event *ev, char key[TR_HOST_KEY_MAX], const char **name, size_t *len)
{
    return tr_event_host_cached(ev, NULL, key, name, len);
}
