/*
 * timeutil.c — parsing and printing instants (tr_time_parse, tr_time_format).
 *
 * Evidence states time in many dialects: ISO 8601 with 'T' or a space, 0 to 9
 * fraction digits, 'Z' or a numeric offset, or nothing at all (Windows logs
 * are UTC); PowerShell's ConvertTo-Json writes "/Date(ms)/". Everything
 * becomes nanoseconds since the Unix epoch, UTC. The calendar arithmetic is
 * the proleptic Gregorian "days from civil" computation, valid for the whole
 * int64 nanosecond range (1678..2261); values outside it are rejected.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "traccia.h"
#include "timeutil.h"

#define NS_PER_SEC 1000000000LL

/* Days since 1970-01-01 of a Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t len, size_t at, size_t n, unsigned *out)
{
    if (at + n > len)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[at + i] - '0';
        if (c > 9)
            return false;
        v = v * 10 + c;
    }
    *out = v;
    return true;
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* "/Date(1614668472123)/" or "/Date(1614668472123+0100)/": milliseconds since
 * the epoch, UTC; the offset only says how it was displayed. */
static tr_status parse_ms_date(const char *s, size_t len, tr_time *out)
{
    size_t i = 6; /* past "/Date(" */
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    int64_t ms = 0;
    size_t start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (ms > (INT64_MAX / NS_PER_SEC) * 1000 / 10)
            return TR_ERR_FORMAT;
        ms = ms * 10 + (s[i] - '0');
        i++;
    }
    if (i == start)
        return TR_ERR_FORMAT;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    if (i + 2 != len || s[i] != ')' || s[i + 1] != '/')
        return TR_ERR_FORMAT;
    *out = (neg ? -ms : ms) * 1000000LL;
    return TR_OK;
}

tr_status tr_time_parse(const char *s, size_t len, tr_time *out)
{
    if (len >= 8 && memcmp(s, "/Date(", 6) == 0)
        return parse_ms_date(s, len, out);

    unsigned year, mon, day, hh = 0, mm = 0, ss = 0;
    if (!digits(s, len, 0, 4, &year) || len < 10 || s[4] != '-' || !digits(s, len, 5, 2, &mon) ||
        s[7] != '-' || !digits(s, len, 8, 2, &day))
        return TR_ERR_FORMAT;
    if (mon < 1 || mon > 12 || day < 1 || day > month_days(year, mon))
        return TR_ERR_FORMAT;
    size_t i = 10;
    int64_t frac_ns = 0;
    int64_t offset_s = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return TR_ERR_FORMAT;
        i++;
        if (!digits(s, len, i, 2, &hh) || i + 2 >= len || s[i + 2] != ':' ||
            !digits(s, len, i + 3, 2, &mm))
            return TR_ERR_FORMAT;
        i += 5;
        if (i < len && s[i] == ':') {
            if (!digits(s, len, i + 1, 2, &ss))
                return TR_ERR_FORMAT;
            i += 3;
        }
        if (hh > 23 || mm > 59 || ss > 60) /* 60: a leap second, kept as :59 + 1 s */
            return TR_ERR_FORMAT;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            i++;
            size_t start = i;
            int64_t scale = 100000000;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                frac_ns += (s[i] - '0') * scale; /* digits past nanoseconds are dropped */
                scale /= 10;
                i++;
            }
            if (i == start)
                return TR_ERR_FORMAT;
        }
        if (i < len) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1;
                unsigned oh, om = 0;
                if (!digits(s, len, i + 1, 2, &oh))
                    return TR_ERR_FORMAT;
                size_t j = i + 3;
                if (j < len && s[j] == ':')
                    j++;
                if (j < len) {
                    if (!digits(s, len, j, 2, &om))
                        return TR_ERR_FORMAT;
                    j += 2;
                }
                if (j != len || oh > 23 || om > 59)
                    return TR_ERR_FORMAT;
                offset_s = sign * (int64_t)(oh * 3600 + om * 60);
                i = j;
            } else {
                return TR_ERR_FORMAT;
            }
        }
    }
    int64_t days = days_from_civil(year, mon, day);
    /* int64 nanoseconds cover 1677-09-21 .. 2262-04-11 */
    if (days < -106750 || days > 106750)
        return TR_ERR_FORMAT;
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
    *out = secs * NS_PER_SEC + frac_ns;
    return TR_OK;
}

size_t tr_time_format(tr_time t, char *buf)
{
    if (t == TR_TIME_NONE) {
        memcpy(buf, "-", 2);
        return 1;
    }
    int64_t secs = t / NS_PER_SEC, ns = t % NS_PER_SEC;
    if (ns < 0) {
        ns += NS_PER_SEC;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    tr_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, TR_TIME_BUFSIZE, "%04lld-%02u-%02uT%02u:%02u:%02u.%07lldZ", (long long)y, m, d,
                     (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                     (long long)(ns / 100));
    return n < 0 ? 0 : (size_t)n;
}

double tr_monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
