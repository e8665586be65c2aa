/*
 * gen_w3c.c — synthetic IIS W3C extended logs of an Exchange front end, for
 * traccia's W3C reading benchmark (bench/bench-w3c.sh).
 *
 * Self-contained, libc only, so it builds with a bare compiler line and
 * never depends on the engine it measures:
 *
 *   cc -std=c17 -O2 -D_GNU_SOURCE -o gen_w3c bench/gen_w3c.c
 *   gen_w3c --size 1G [--seed N] [--out FILE]
 *
 * Output: the header block IIS writes (#Software, #Version, #Date, #Fields
 * in Exchange's default field order), then data lines until at least SIZE
 * bytes (suffixes K, M, G: powers of 1024) are written. A new header block
 * comes every 200,000 lines, as when the W3SVC service restarts, so the
 * reader's mid-file #Fields path is exercised too. The traffic is the
 * ordinary mix of an Exchange 2016/2019 server: OWA page loads and service
 * calls, EWS, MAPI over HTTP, ActiveSync, Autodiscover, ECP, OAB, RPC over
 * HTTP, remote PowerShell, and Managed Availability health probes from the
 * server itself. User agents have '+' for spaces, empty values are '-',
 * times are UTC and only move forward. No attack traffic: the benchmark
 * measures reading, not detection.
 *
 * Deterministic for a given seed (splitmix64; never rand() or the clock).
 * Lines are formatted by hand into one large buffer written in 8 MiB
 * chunks, so generating 1 GiB takes a few seconds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_BYTES ((size_t)8 << 20)
#define LINES_PER_HEADER 200000u

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(rng *r, uint32_t n) { return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32); }

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->cap - b->n < n) {
        fprintf(stderr, "gen_w3c: buffer overflow\n");
        exit(1);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void putc_(buf *b, char c) { put(b, &c, 1); }

static void putu(buf *b, uint64_t v)
{
    char d[20];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        putc_(b, d[--n]);
}

static void put2(buf *b, unsigned v)
{
    putc_(b, (char)('0' + v / 10 % 10));
    putc_(b, (char)('0' + v % 10));
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static void put_date(buf *b, int64_t secs, char sep_time)
{
    int y;
    unsigned m, d;
    civil(secs / 86400, &y, &m, &d);
    putu(b, (uint64_t)y);
    putc_(b, '-');
    put2(b, m);
    putc_(b, '-');
    put2(b, d);
    putc_(b, sep_time);
    unsigned s = (unsigned)(secs % 86400);
    put2(b, s / 3600);
    putc_(b, ':');
    put2(b, s / 60 % 60);
    putc_(b, ':');
    put2(b, s % 60);
}

static void header(buf *b, int64_t t)
{
    puts_(b, "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ");
    put_date(b, t, ' ');
    puts_(b, "\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
             "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n");
}

static const char *const users[] = {"alice.m", "bob.k", "carol.d", "dave.r", "erin.t", "frank.l", "grace.h",
                                    "heidi.w", "ivan.p", "judy.c", "mallory.s", "oscar.v", "peggy.n",
                                    "trent.b", "victor.g", "walter.j"};
#define NUSERS (sizeof users / sizeof users[0])

static const char *const browsers[] = {
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/89.0.4389.82+"
    "Safari/537.36",
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/89.0.4389.82+"
    "Safari/537.36+Edg/89.0.774.50",
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:86.0)+Gecko/20100101+Firefox/86.0",
    "Mozilla/5.0+(Macintosh;+Intel+Mac+OS+X+11_2_3)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)+Version/14.0.3+"
    "Safari/605.1.15"};
static const char *const outlook =
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13801;+Pro)";
static const char *const phones[] = {"Apple-iPhone12C1/1805.114", "Outlook-iOS-Android/1.0",
                                     "Android-SAMSUNG-SM-G991B/101.10.0", "Apple-iPad8C1/1805.114"};

static void ip_internal(buf *b, rng *r)
{
    puts_(b, "10.0.");
    putu(b, 2 + below(r, 6));
    putc_(b, '.');
    putu(b, 10 + below(r, 200));
}

static void guid(buf *b, rng *r)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rnext(r), c = rnext(r);
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            putc_(b, '-');
        uint64_t w = i < 16 ? a : c;
        putc_(b, hex[(w >> ((i & 15) * 4)) & 15]);
    }
}

/* One data line at time t. */
static void line(buf *b, rng *r, int64_t t)
{
    put_date(b, t, ' ');
    puts_(b, " 10.0.1.21 ");
    const char *u = users[below(r, NUSERS)];
    unsigned kind = below(r, 100);
    unsigned status = 200, taken = 3 + below(r, 60);
    if (kind < 22) { /* health probes from the server itself */
        static const char *const probes[][3] = {
            {"GET", "/owa/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/ecp/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/ews/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/mapi/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/Microsoft-Server-ActiveSync/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/oab/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"GET", "/Autodiscover/healthcheck.htm", "AMProbe/Local/ClientAccess"},
            {"POST", "/EWS/Exchange.asmx", "Ews_AM_Probe/Local+(ExchangeServicesClient/15.01.2176.002)"}};
        unsigned k = below(r, 8);
        puts_(b, probes[k][0]);
        putc_(b, ' ');
        puts_(b, probes[k][1]);
        puts_(b, k == 7 ? " - 443 HealthMailbox0b1c7e2f4a3d4e5f9a8b7c6d5e4f3a2b@corp.local ::1 "
                        : " - 443 - 127.0.0.1 ");
        puts_(b, probes[k][2]);
        puts_(b, " - ");
        taken = 1 + below(r, 8);
    } else if (kind < 42) { /* OWA */
        static const char *const stems[] = {"/owa/", "/owa/service.svc", "/owa/sessiondata.ashx",
                                            "/owa/ev.owa2", "/owa/auth/logon.aspx", "/owa/auth.owa",
                                            "/owa/prem/15.1.2176.9/scripts/boot.worldwide.0.mouse.js"};
        unsigned k = below(r, 7);
        bool post = k == 1 || k == 2 || k == 3 || k == 5;
        puts_(b, post ? "POST " : "GET ");
        puts_(b, stems[k]);
        putc_(b, ' ');
        if (k == 1) {
            puts_(b, "action=GetItem&app=Mail&n=");
            putu(b, below(r, 900));
        } else if (k == 3) {
            puts_(b, "ns=PendingRequest&ev=PendingNotificationRequest&UA=0&cid=");
            guid(b, r);
        } else if (k == 4) {
            puts_(b, "url=https%3a%2f%2fmail.corp.local%2fowa%2f&reason=0");
        } else {
            putc_(b, '-');
        }
        puts_(b, " 443 ");
        if (k == 4 || k == 5) {
            putc_(b, '-');
        } else {
            puts_(b, "CORP\\");
            puts_(b, u);
        }
        putc_(b, ' ');
        ip_internal(b, r);
        putc_(b, ' ');
        puts_(b, browsers[below(r, 4)]);
        puts_(b, k ? " https://mail.corp.local/owa/ " : " - ");
        if (k == 5)
            status = 302;
    } else if (kind < 56) { /* EWS from Outlook */
        puts_(b, "POST /EWS/Exchange.asmx - 443 ");
        puts_(b, u);
        puts_(b, "@corp.local ");
        ip_internal(b, r);
        putc_(b, ' ');
        puts_(b, outlook);
        puts_(b, " - ");
    } else if (kind < 72) { /* MAPI over HTTP */
        puts_(b, below(r, 2) ? "POST /mapi/emsmdb/ mailboxId=" : "POST /mapi/nspi/ mailboxId=");
        guid(b, r);
        puts_(b, "@corp.local 443 ");
        puts_(b, u);
        puts_(b, "@corp.local ");
        ip_internal(b, r);
        putc_(b, ' ');
        puts_(b, outlook);
        puts_(b, " - ");
    } else if (kind < 84) { /* ActiveSync */
        static const char *const cmds[] = {"Ping", "Sync", "FolderSync", "ItemOperations", "SendMail"};
        puts_(b, "POST /Microsoft-Server-ActiveSync/default.eas Cmd=");
        puts_(b, cmds[below(r, 5)]);
        puts_(b, "&User=");
        puts_(b, u);
        puts_(b, "&DeviceId=");
        for (int i = 0; i < 4; i++)
            putu(b, rnext(r) % 100000000u);
        puts_(b, "&DeviceType=iPhone 443 CORP\\");
        puts_(b, u);
        puts_(b, " 203.0.113.");
        putu(b, 1 + below(r, 250));
        putc_(b, ' ');
        puts_(b, phones[below(r, 4)]);
        puts_(b, " - ");
        taken = below(r, 5) ? 20 + below(r, 200) : 480000 + below(r, 60000);
    } else if (kind < 92) { /* Autodiscover */
        if (below(r, 2)) {
            puts_(b, "POST /Autodiscover/Autodiscover.xml - 443 CORP\\");
            puts_(b, u);
        } else {
            puts_(b, "GET /autodiscover/autodiscover.json/v1.0/");
            puts_(b, u);
            puts_(b, "@corp.local Protocol=EWS&RedirectCount=1 443 -");
            status = below(r, 3) ? 200 : 401;
        }
        putc_(b, ' ');
        ip_internal(b, r);
        putc_(b, ' ');
        puts_(b, outlook);
        puts_(b, " - ");
    } else if (kind < 95) { /* ECP */
        puts_(b, "GET /ecp/ - 443 CORP\\exadmin 10.0.2.11 ");
        puts_(b, browsers[0]);
        puts_(b, " https://mail.corp.local/owa/ ");
    } else if (kind < 97) { /* OAB */
        puts_(b, "GET /OAB/9c1b2a3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/oab.xml - 443 CORP\\");
        puts_(b, u);
        putc_(b, ' ');
        ip_internal(b, r);
        puts_(b, " Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13801;+Pro) - ");
    } else if (kind < 99) { /* RPC over HTTP */
        puts_(b, "RPC_IN_DATA /rpc/rpcproxy.dll EXCH01.corp.local:6001 443 CORP\\");
        puts_(b, u);
        putc_(b, ' ');
        ip_internal(b, r);
        puts_(b, " MSRPC - ");
    } else { /* remote PowerShell of an administrator */
        puts_(b, "POST /powershell clientApplication=ManagementShell;PSVersion=5.1.14393.4104 80 CORP\\exadmin "
                 "10.0.2.11 Microsoft+WinRM+Client - ");
    }
    putu(b, status);
    puts_(b, " 0 0 ");
    putu(b, taken);
    puts_(b, "\r\n");
}

static uint64_t parse_size(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 10);
    switch (*end) {
    case 'G': case 'g': v <<= 30; break;
    case 'M': case 'm': v <<= 20; break;
    case 'K': case 'k': v <<= 10; break;
    default: break;
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t size = 0, seed = 42;
    const char *out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--size") == 0)
            size = parse_size(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
    }
    if (!size) {
        fprintf(stderr, "usage: gen_w3c --size SIZE [--seed N] [--out FILE]\n");
        return 1;
    }
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    buf b = {malloc(FLUSH_BYTES + 65536), 0, FLUSH_BYTES + 65536};
    if (!b.p)
        return 1;
    rng r = {seed};
    int64_t t = 1614556800; /* 2021-03-01T00:00:00Z */
    uint64_t written = 0, lines = 0;
    header(&b, t);
    while (written + b.n < size) {
        if (lines && lines % LINES_PER_HEADER == 0)
            header(&b, t);
        line(&b, &r, t);
        lines++;
        t += below(&r, 4) == 0; /* a few requests per second */
        if (b.n >= FLUSH_BYTES) {
            if (fwrite(b.p, 1, b.n, f) != b.n) {
                perror("gen_w3c: write");
                return 1;
            }
            written += b.n;
            b.n = 0;
        }
    }
    if (fwrite(b.p, 1, b.n, f) != b.n || (out && fclose(f) != 0)) {
        perror("gen_w3c: write");
        return 1;
    }
    written += b.n;
    fprintf(stderr, "gen_w3c: %llu lines, %llu bytes\n", (unsigned long long)lines, (unsigned long long)written);
    free(b.p);
    return 0;
}
