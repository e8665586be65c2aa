/*
 * ioc_value.c — the values indicators are made of: IP addresses and CIDR
 * ranges, DNS names, URLs, hex digests, e-mail addresses; undoing the
 * defanging analysts apply to make indicators unclickable; detecting the
 * type of a bare value in a list; the key hash of the index; SQL LIKE.
 *
 * These run at load time on every indicator and at match time on event
 * values, so the parsers are strict (an indicator list must not turn
 * "1.2.3" into an address), bounded by the length they are given, and
 * allocate nothing.
 */
#include <string.h>

#include "../util/hash.h"
#include "ioc.h"

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---------------------------------------------------------------- IP addresses */

static bool parse_v4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0, digits = 0;
        while (i < n && is_digit(s[i]) && digits < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t groups[8];
    int ng = 0, gap = -1;
    size_t i = 0;
    if (n < 2)
        return false;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        gap = 0;
        i = 2;
        if (i == n) {
            memset(out, 0, 16);
            return true;
        }
    }
    while (i < n) {
        if (ng >= 8)
            return false;
        /* an embedded IPv4 address takes the last two groups */
        size_t j = i;
        while (j < n && hexdigit(s[j]) >= 0)
            j++;
        if (j < n && s[j] == '.') {
            uint8_t v4[4];
            if (ng > 6 || !parse_v4(s + i, n - i, v4))
                return false;
            groups[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
            groups[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = n;
            break;
        }
        if (j == i || j - i > 4)
            return false;
        unsigned v = 0;
        for (size_t k = i; k < j; k++)
            v = v << 4 | (unsigned)hexdigit(s[k]);
        groups[ng++] = (uint16_t)v;
        i = j;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = ng;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return false; /* a trailing single colon */
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7)
        return false;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : ng - gap;
    int head = ng - tail;
    for (int k = 0; k < head; k++) {
        out[2 * k] = (uint8_t)(groups[k] >> 8);
        out[2 * k + 1] = (uint8_t)groups[k];
    }
    for (int k = 0; k < tail; k++) {
        int at = 8 - tail + k;
        out[2 * at] = (uint8_t)(groups[head + k] >> 8);
        out[2 * at + 1] = (uint8_t)groups[head + k];
    }
    return true;
}

static void v4_mapped(ioc_ip *ip)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (ip->family == 6 && memcmp(ip->addr, prefix, 12) == 0 && (ip->prefix == 128 || ip->prefix >= 96)) {
        memmove(ip->addr, ip->addr + 12, 4);
        memset(ip->addr + 4, 0, 12);
        ip->family = 4;
        ip->prefix = (uint8_t)(ip->prefix - 96);
    }
}

void tr_ioc_ip_mask(ioc_ip *ip, unsigned prefix)
{
    unsigned width = ip->family == 4 ? 32 : 128;
    if (prefix > width)
        prefix = width;
    ip->prefix = (uint8_t)prefix;
    for (unsigned b = 0; b < 16; b++) {
        unsigned lo = b * 8;
        if (lo >= prefix)
            ip->addr[b] = 0;
        else if (lo + 8 > prefix)
            ip->addr[b] &= (uint8_t)(0xffu << (lo + 8 - prefix));
    }
}

bool tr_ioc_parse_ip(const char *s, size_t n, ioc_ip *out, bool allow_prefix)
{
    memset(out, 0, sizeof *out);
    size_t alen = n;
    const char *slash = allow_prefix ? memchr(s, '/', n) : NULL;
    unsigned prefix = 0;
    bool has_prefix = false;
    if (slash) {
        alen = (size_t)(slash - s);
        size_t pl = n - alen - 1;
        if (pl == 0 || pl > 3)
            return false;
        for (size_t i = 0; i < pl; i++) {
            if (!is_digit(slash[1 + i]))
                return false;
            prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
        }
        has_prefix = true;
    }
    if (alen == 0 || alen > 45)
        return false;
    if (memchr(s, ':', alen)) {
        if (!parse_v6(s, alen, out->addr))
            return false;
        out->family = 6;
        out->prefix = 128;
    } else {
        if (!parse_v4(s, alen, out->addr))
            return false;
        out->family = 4;
        out->prefix = 32;
    }
    if (has_prefix) {
        if (prefix > (out->family == 4 ? 32u : 128u))
            return false;
        tr_ioc_ip_mask(out, prefix);
    }
    v4_mapped(out);
    return true;
}

bool tr_ioc_parse_event_ip(const char *s, size_t n, ioc_ip *out)
{
    if (n == 0 || n > 64)
        return false;
    if (s[0] == '[') { /* [v6] or [v6]:port */
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest && (close[1] != ':' || rest < 2 || rest > 6))
            return false;
        for (size_t i = 2; i <= rest; i++)
            if (!is_digit(close[i]))
                return false;
        return tr_ioc_parse_ip(s + 1, (size_t)(close - s) - 1, out, false) && out->family == 6;
    }
    if (tr_ioc_parse_ip(s, n, out, false))
        return true;
    const char *pct = memchr(s, '%', n); /* fe80::1%eth0 */
    if (pct && tr_ioc_parse_ip(s, (size_t)(pct - s), out, false) && out->family == 6)
        return true;
    /* a.b.c.d:port */
    const char *colon = memchr(s, ':', n);
    if (colon && colon > s && n - (size_t)(colon - s) - 1 >= 1 && n - (size_t)(colon - s) - 1 <= 5 &&
        !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
        for (const char *p = colon + 1; p < s + n; p++)
            if (!is_digit(*p))
                return false;
        return tr_ioc_parse_ip(s, (size_t)(colon - s), out, false) && out->family == 4;
    }
    return false;
}

bool tr_ioc_ip_contains(const ioc_ip *net, const ioc_ip *addr)
{
    if (net->family != addr->family || addr->prefix < net->prefix)
        return false;
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, addr->addr, full) != 0)
        return false;
    if (rest) {
        uint8_t m = (uint8_t)(0xffu << (8 - rest));
        if ((net->addr[full] & m) != (addr->addr[full] & m))
            return false;
    }
    return true;
}

size_t tr_ioc_ip_format(const ioc_ip *ip, char *out, size_t cap)
{
    char buf[64];
    size_t o = 0;
    if (ip->family == 4) {
        o = (size_t)snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip->addr[0], ip->addr[1], ip->addr[2], ip->addr[3]);
    } else {
        uint16_t g[8];
        for (int k = 0; k < 8; k++)
            g[k] = (uint16_t)(ip->addr[2 * k] << 8 | ip->addr[2 * k + 1]);
        int best = -1, best_len = 1; /* RFC 5952: the longest run of two or more zero groups */
        for (int k = 0; k < 8;) {
            if (g[k]) {
                k++;
                continue;
            }
            int e = k;
            while (e < 8 && !g[e])
                e++;
            if (e - k > best_len) {
                best = k;
                best_len = e - k;
            }
            k = e;
        }
        for (int k = 0; k < 8; k++) {
            if (k == best) {
                o += (size_t)snprintf(buf + o, sizeof buf - o, "::");
                k += best_len - 1;
                continue;
            }
            if (k && !(best >= 0 && k == best + best_len))
                buf[o++] = ':';
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%x", g[k]);
        }
    }
    if (ip->prefix != (ip->family == 4 ? 32 : 128))
        o += (size_t)snprintf(buf + o, sizeof buf - o, "/%u", ip->prefix);
    if (o >= cap)
        return 0;
    memcpy(out, buf, o);
    out[o] = '\0';
    return o;
}

size_t tr_ioc_ip_key(const ioc_ip *ip, char out[18])
{
    out[0] = (char)ip->family;
    out[1] = (char)ip->prefix;
    memcpy(out + 2, ip->addr, 16);
    return 18;
}

/* ---------------------------------------------------------------- names */

bool tr_ioc_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexdigit(s[i]) < 0)
            return false;
    return n > 0;
}

bool tr_ioc_domain_valid(const char *s, size_t n)
{
    if (n < 3 || n > 253)
        return false;
    size_t labels = 0, start = 0;
    bool last_has_alpha = false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - start;
            if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
                return false;
            labels++;
            start = i + 1;
            continue;
        }
        char c = s[i];
        if (i == start)
            last_has_alpha = false;
        if (is_alpha(c) || c == '-' || c == '_')
            last_has_alpha = true;
        else if (!is_digit(c))
            return false;
    }
    return labels >= 2 && last_has_alpha;
}

bool tr_ioc_email_valid(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s || at - s > 64)
        return false;
    for (const char *p = s; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' ||
            c == '"' || c == '[' || c == ']' || c == '\\')
            return false;
    }
    return tr_ioc_domain_valid(at + 1, n - (size_t)(at - s) - 1);
}

/* ---------------------------------------------------------------- URLs */

bool tr_ioc_url_split(const char *s, size_t n, ioc_url *u)
{
    memset(u, 0, sizeof *u);
    size_t i = 0;
    if (n == 0 || !is_alpha(s[0]))
        return false;
    while (i < n && i < 32 && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i + 3 > n || memcmp(s + i, "://", 3) != 0)
        return false;
    size_t scheme_len = i;
    i += 3;
    size_t auth = i;
    while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#' && s[i] != '\\')
        i++;
    size_t auth_end = i;
    /* userinfo: up to the last '@' of the authority */
    for (size_t k = auth_end; k > auth; k--)
        if (s[k - 1] == '@') {
            auth = k;
            break;
        }
    size_t h = auth, hend;
    if (h < auth_end && s[h] == '[') {
        const char *close = memchr(s + h, ']', auth_end - h);
        if (!close)
            return false;
        u->host = s + h + 1;
        u->host_len = (size_t)(close - (s + h)) - 1;
        hend = (size_t)(close - s) + 1;
    } else {
        hend = h;
        while (hend < auth_end && s[hend] != ':')
            hend++;
        u->host = s + h;
        u->host_len = hend - h;
    }
    if (u->host_len == 0)
        return false;
    if (hend < auth_end) {
        if (s[hend] != ':')
            return false;
        u->port = s + hend + 1;
        u->port_len = auth_end - hend - 1;
        if (u->port_len > 5)
            return false;
        for (size_t k = 0; k < u->port_len; k++)
            if (!is_digit(u->port[k]))
                return false;
        if (u->port_len == 0)
            u->port = NULL;
    }
    if (u->port) {
        static const struct {
            const char *scheme, *port;
        } defaults[] = {{"http", "80"}, {"https", "443"}, {"ftp", "21"}, {"ws", "80"}, {"wss", "443"}};
        for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++) {
            size_t sl = strlen(defaults[k].scheme);
            if (sl == scheme_len && tr_name_equal(s, defaults[k].scheme, sl) &&
                u->port_len == strlen(defaults[k].port) && memcmp(u->port, defaults[k].port, u->port_len) == 0)
                u->default_port = true;
        }
    }
    i = auth_end;
    if (i < n && (s[i] == '/' || s[i] == '\\')) {
        size_t p = i;
        while (i < n && s[i] != '?' && s[i] != '#')
            i++;
        u->path = s + p;
        u->path_len = i - p;
    }
    if (i < n && s[i] == '?') {
        size_t q = ++i;
        while (i < n && s[i] != '#')
            i++;
        u->query = s + q;
        u->query_len = i - q;
    }
    u->end = n;
    return true;
}

size_t tr_ioc_url_canon(const ioc_url *u, char *out, size_t cap)
{
    size_t need = u->host_len + (u->port ? u->port_len + 1 : 0) + (u->path ? u->path_len : 1) +
                  (u->query ? u->query_len + 1 : 0);
    if (need + 1 > cap)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < u->host_len; i++)
        out[o++] = lower(u->host[i]);
    while (o > 0 && out[o - 1] == '.') /* "evil.com." is "evil.com" */
        o--;
    if (u->port && !u->default_port) {
        out[o++] = ':';
        memcpy(out + o, u->port, u->port_len);
        o += u->port_len;
    }
    if (u->path) {
        memcpy(out + o, u->path, u->path_len);
        o += u->path_len;
    } else {
        out[o++] = '/';
    }
    if (u->query) {
        out[o++] = '?';
        memcpy(out + o, u->query, u->query_len);
        o += u->query_len;
    }
    out[o] = '\0';
    return o;
}

/* ---------------------------------------------------------------- defanging */

size_t tr_ioc_refang(const char *s, size_t n, char *out)
{
    static const struct {
        const char *from, *to;
        unsigned char flen, tlen;
    } rules[] = {
        {"hxxps", "https", 5, 5}, {"hxxp", "http", 4, 4}, {"fxp", "ftp", 3, 3},   {"[://]", "://", 5, 3},
        {"[:]", ":", 3, 1},       {"[.]", ".", 3, 1},     {"(.)", ".", 3, 1},     {"{.}", ".", 3, 1},
        {"[dot]", ".", 5, 1},     {"(dot)", ".", 5, 1},   {"{dot}", ".", 5, 1},   {"[/]", "/", 3, 1},
        {"[at]", "@", 4, 1},      {"(at)", "@", 4, 1},    {"[@]", "@", 3, 1},
    };
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        /* only these characters can start a defanged form */
        if (c != '[' && c != '(' && c != '{' && c != 'h' && c != 'H' && c != 'f' && c != 'F') {
            out[o++] = s[i++];
            continue;
        }
        bool done = false;
        for (size_t r = 0; r < sizeof rules / sizeof rules[0] && !done; r++) {
            size_t fl = rules[r].flen;
            if (i + fl > n || !tr_name_equal(s + i, rules[r].from, fl))
                continue;
            /* hxxp/fxp only as a scheme: at the start or after a space or quote */
            if ((rules[r].from[0] == 'h' || rules[r].from[0] == 'f') &&
                !(i == 0 || s[i - 1] == ' ' || s[i - 1] == '"' || s[i - 1] == '\''))
                continue;
            if (rules[r].from[0] == 'f' && !(i + fl < n && (s[i + fl] == ':' || s[i + fl] == '[')))
                continue;
            memcpy(out + o, rules[r].to, rules[r].tlen);
            o += rules[r].tlen;
            i += fl;
            done = true;
        }
        if (!done)
            out[o++] = s[i++];
    }
    return o;
}

/* ---------------------------------------------------------------- detection */

bool tr_ioc_file_extension(const char *ext, size_t n)
{
    static const char *const exts[] = {
        "exe", "dll", "sys", "scr", "bat", "cmd", "ps1", "psm1", "psd1", "vbs", "vbe", "js", "jse", "wsf",
        "wsh", "hta", "lnk", "msi", "msp", "jar", "war", "ear", "class", "py", "pyc", "sh", "elf", "so",
        "bin", "dat", "tmp", "log", "txt", "ini", "cfg", "config", "xml", "json", "aspx", "asp", "ashx",
        "asmx", "ascx", "axd", "cshtml", "php", "php3", "php4", "php5", "phtml", "jsp", "jspx", "cgi", "pl",
        "zip", "rar", "7z", "gz", "tgz", "tar", "cab", "iso", "img", "vhd", "vhdx", "doc", "docx", "docm",
        "xls", "xlsx", "xlsm", "ppt", "pptx", "pptm", "rtf", "pdf", "one", "chm", "reg", "inf", "sct", "xsl",
        "dmp", "evtx", "pst", "ost", "eml", "ocx", "cpl", "drv", "efi", "apk", "dmg", "pkg", "deb", "rpm",
    };
    if (n == 0 || n > 6)
        return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strlen(exts[i]) == n && tr_name_equal(ext, exts[i], n))
            return true;
    return false;
}

int tr_ioc_detect_type(const char *s, size_t n, ioc_ip *ip)
{
    if (n == 0 || n > IOC_MAX_VALUE)
        return -1;
    if (tr_ioc_parse_ip(s, n, ip, true))
        return ip->family == 4 ? TR_IOC_IPV4 : TR_IOC_IPV6;
    if (tr_ioc_is_hex(s, n)) {
        if (n == 32)
            return TR_IOC_MD5;
        if (n == 40)
            return TR_IOC_SHA1;
        if (n == 64)
            return TR_IOC_SHA256;
    }
    ioc_url u;
    if (memmem(s, n, "://", 3))
        return tr_ioc_url_split(s, n, &u) ? TR_IOC_URL : -1;
    if (memchr(s, '@', n))
        return tr_ioc_email_valid(s, n) ? TR_IOC_EMAIL : -1;
    if (memchr(s, '\\', n) || (s[0] == '/' && n > 1) || (n > 2 && is_alpha(s[0]) && s[1] == ':'))
        return TR_IOC_PATH;
    const char *slash = memchr(s, '/', n);
    if (slash) /* evil.com/x.php: a URL written without its scheme */
        return tr_ioc_domain_valid(s, (size_t)(slash - s)) ? TR_IOC_URL : -1;
    const char *dot = memrchr(s, '.', n);
    if (dot && tr_ioc_file_extension(dot + 1, n - (size_t)(dot - s) - 1) && dot > s)
        return TR_IOC_FILENAME;
    size_t dn = n;
    while (dn > 0 && s[dn - 1] == '.')
        dn--;
    if (tr_ioc_domain_valid(s, dn))
        return TR_IOC_DOMAIN;
    return -1;
}

size_t tr_ioc_canon_value(int type, const char *s, size_t n, char *out, int *kind, const char **why)
{
    *why = NULL;
    if (n == 0) {
        *why = "empty value";
        return 0;
    }
    if (n > IOC_MAX_VALUE) {
        *why = "value longer than 8 KiB";
        return 0;
    }
    switch (type) {
    case TR_IOC_IPV4:
    case TR_IOC_IPV6: {
        ioc_ip ip;
        if (!tr_ioc_parse_ip(s, n, &ip, true)) {
            *why = "not an IP address or CIDR range";
            return 0;
        }
        *kind = K_IP;
        return tr_ioc_ip_format(&ip, out, 64);
    }
    case TR_IOC_DOMAIN: {
        while (n > 0 && s[n - 1] == '.')
            n--;
        if (n >= 2 && s[0] == '*' && s[1] == '.') { /* "*.evil.com": the names under it, which
                                                    * a domain indicator covers anyway */
            s += 2;
            n -= 2;
        }
        while (n > 0 && s[0] == '.')
            s++, n--;
        if (!tr_ioc_domain_valid(s, n)) {
            *why = "not a valid domain name";
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = lower(s[i]);
        out[n] = '\0';
        *kind = K_DOMAIN;
        return n;
    }
    case TR_IOC_URL: {
        ioc_url u;
        char tmp[IOC_MAX_VALUE + 16];
        if (!memmem(s, n, "://", 3)) { /* written without its scheme */
            memcpy(tmp, "http://", 7);
            memcpy(tmp + 7, s, n);
            s = tmp;
            n += 7;
        }
        if (!tr_ioc_url_split(s, n, &u)) {
            *why = "not a URL";
            return 0;
        }
        *kind = K_URL;
        size_t len = tr_ioc_url_canon(&u, out, IOC_MAX_VALUE + 32);
        if (!len)
            *why = "URL too long";
        return len;
    }
    case TR_IOC_MD5:
    case TR_IOC_SHA1:
    case TR_IOC_SHA256: {
        size_t want = type == TR_IOC_MD5 ? 32 : type == TR_IOC_SHA1 ? 40 : 64;
        if (n != want || !tr_ioc_is_hex(s, n)) {
            *why = type == TR_IOC_MD5 ? "not an MD5 digest (32 hex digits)"
                   : type == TR_IOC_SHA1 ? "not a SHA-1 digest (40 hex digits)"
                                         : "not a SHA-256 digest (64 hex digits)";
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = lower(s[i]);
        out[n] = '\0';
        *kind = K_HASH;
        return n;
    }
    case TR_IOC_FILENAME:
    case TR_IOC_PATH:
    case TR_IOC_EMAIL:
    case TR_IOC_USER: {
        if (type == TR_IOC_FILENAME && (memchr(s, '\\', n) || memchr(s, '/', n))) {
            *why = "a file name has no folder separators";
            return 0;
        }
        if (type == TR_IOC_EMAIL && !tr_ioc_email_valid(s, n)) {
            *why = "not an e-mail address";
            return 0;
        }
        if (memchr(s, '\0', n)) {
            *why = "value holds a NUL character";
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = lower(s[i]);
        out[n] = '\0';
        *kind = type == TR_IOC_FILENAME ? K_FILENAME : type == TR_IOC_PATH ? K_PATH
                                                       : type == TR_IOC_EMAIL ? K_EMAIL
                                                                              : K_USER;
        return n;
    }
    default:
        *why = "type has no exact key";
        return 0;
    }
}

/* ---------------------------------------------------------------- key hash */

/* ASCII upper case to lower case in eight bytes at once: a byte is upper
 * case when it is < 0x80, >= 'A' and <= 'Z'; the additions cannot carry
 * between bytes because the high bits are masked off first. */
static inline uint64_t fold8(uint64_t x)
{
    uint64_t h7 = x & 0x7f7f7f7f7f7f7f7full;
    uint64_t ge_a = h7 + 0x3f3f3f3f3f3f3f3full;
    uint64_t gt_z = h7 + 0x2525252525252525ull;
    uint64_t upper = ge_a & ~gt_z & ~x & 0x8080808080808080ull;
    return x | (upper >> 2);
}

uint64_t tr_ioc_key_hash(int kind, const char *s, size_t n)
{
    const bool ci = (IOC_CI_KINDS >> kind) & 1u;
    uint64_t h = 0x243f6a8885a308d3ull ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (ci)
            w = fold8(w);
        h = ((h << 23 | h >> 41) ^ w) * 0x9e3779b97f4a7c15ull;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, s + i, n - i);
        if (ci)
            w = fold8(w);
        h = ((h << 23 | h >> 41) ^ w) * 0x9e3779b97f4a7c15ull;
    }
    h = tr_mix64(h ^ ((uint64_t)(kind + 1) << 56));
    return h ? h : 1;
}

uint64_t tr_ioc_bytes_hash(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = ((h << 23 | h >> 41) ^ w) * 0x9e3779b97f4a7c15ull;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, s + i, n - i);
        h = ((h << 23 | h >> 41) ^ w) * 0x9e3779b97f4a7c15ull;
    }
    h = tr_mix64(h);
    return h ? h : 1;
}

/* ---------------------------------------------------------------- LIKE */

/* Bytes of the UTF-8 character starting with c (1 for a stray continuation byte). */
static size_t utf8_len(unsigned char c)
{
    return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

bool tr_ioc_like(const char *p, size_t pn, const char *s, size_t sn, bool ci)
{
    /* Greedy matching with one backtrack point (the last '%'): linear for
     * most patterns, O(pn * sn) at worst, which bounded values keep small. */
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '_') {
            size_t l = utf8_len((unsigned char)s[si]);
            si += l <= sn - si ? l : sn - si;
            pi++;
        } else if (pi < pn && p[pi] == '%') {
            star_p = pi++;
            star_s = si;
        } else if (pi < pn && (ci ? lower(p[pi]) == lower(s[si]) : p[pi] == s[si])) {
            pi++;
            si++;
        } else if (star_p != (size_t)-1) {
            size_t l = utf8_len((unsigned char)s[star_s]);
            star_s += l <= sn - star_s ? l : sn - star_s;
            pi = star_p + 1;
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}
