/*
 * gen_events.c — synthetic Windows event logs for traccia's benchmark and
 * examples, written as JSON lines in the shape `evtx_dump -o jsonl` emits.
 *
 * This file owns everything it needs and uses libc only, so it builds with a
 * bare compiler line and never depends on the engine it is meant to measure:
 *
 *   gcc -std=c17 -O2 -D_GNU_SOURCE -o gen_events bench/gen_events.c
 *
 * Two modes:
 *
 *   gen_events --size SIZE [--seed N] [--out FILE]
 *       Ordinary (benign) events from a small corp.local network until at
 *       least SIZE bytes are written (suffixes K, M, G are powers of 1024).
 *       The workload is a 1 GiB benchmark file, so this path must run at
 *       several hundred MB/s: every line is formatted by hand into one large
 *       buffer and written with fwrite in multi-megabyte chunks.  No printf
 *       on the hot path.
 *
 *   gen_events --case exchange --out DIR [--seed N]
 *       A small, realistic intrusion case: three weeks of ordinary activity
 *       in March 2021, one file per host and channel family, with a
 *       long-dwell Exchange intrusion on EXCH01 mixed in (first web-shell
 *       command in spring 2019, the rest in March 2021).  DIR/README.md is
 *       written last and lists every intruder trace with the EventRecordID it
 *       received, so a checker can compare findings against it.
 *
 * Output is deterministic for a given seed: the only source of randomness is
 * the splitmix64 generator below (never rand(), never the clock), and the
 * only state is the generator struct.
 *
 * Invariants the output keeps, because detectors and timeline code rely on
 * them in real logs:
 *   - EventRecordID increases by one per event within each (host, channel);
 *   - timestamps never go backwards within a file (one global clock that
 *     only moves forward, with jitter);
 *   - every line is one compact JSON object terminated by '\n', with all
 *     strings escaped (Windows paths and command lines are full of '\' and
 *     '"').
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ======================================================================
 * Limits
 * ====================================================================== */

/* Output is handed to fwrite in chunks of this size: large enough that the
 * per-call cost vanishes, small enough to stay in a few pages of cache-warm
 * memory and to keep memory use flat for any --size. */
#define FLUSH_THRESHOLD_BYTES ((size_t)8 << 20)

/* Initial capacity of the streaming buffer: the flush threshold plus room for
 * the largest burst of lines one activity can produce (a few KiB), so the
 * buffer never reallocates on the hot path. */
#define STREAM_BUFFER_BYTES (FLUSH_THRESHOLD_BYTES + ((size_t)1 << 20))

/* Room for the kinds of intruder trace in the case (enum trace_kind). */
#define INTRUDER_TRACE_KINDS_MAX 24

/* Logons waiting for their 4634 logoff, per host.  Bounded so that a long
 * --size run keeps constant memory; when full, the oldest is logged off. */
#define PENDING_LOGONS_PER_HOST 32

/* ======================================================================
 * Deterministic randomness (splitmix64)
 * ====================================================================== */

struct random_state {
    uint64_t state;
};

static uint64_t random_next(struct random_state *random)
{
    uint64_t z = (random->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound) for bound < 2^32; the multiply-shift avoids the
 * division a modulo would cost and its bias is irrelevant here. */
static uint32_t random_below(struct random_state *random, uint32_t bound)
{
    return (uint32_t)(((random_next(random) >> 32) * (uint64_t)bound) >> 32);
}

static uint32_t random_between(struct random_state *random, uint32_t low, uint32_t high)
{
    return low + random_below(random, high - low + 1);
}

static bool random_chance(struct random_state *random, uint32_t percent)
{
    return random_below(random, 100) < percent;
}

/* A stable 64-bit value for a string: used where real logs show the same
 * value every time (a file's hashes, a service's parent PID), so repeated
 * images get repeated hashes instead of fresh noise. */
static uint64_t stable_hash(const char *text, uint64_t salt)
{
    uint64_t hash = 0xCBF29CE484222325ull ^ salt;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        hash = (hash ^ *p) * 0x100000001B3ull;
    struct random_state mixer = {hash};
    return random_next(&mixer);
}

/* ======================================================================
 * Text buffer and formatting helpers
 *
 * A growable byte buffer plus the few appenders the event writers need.
 * The appenders are tiny and inline so that formatting a line costs little
 * more than copying its bytes.  Out-of-memory ends the program: this is a
 * standalone data generator, not library code.
 * ====================================================================== */

struct text_buffer {
    char *bytes;
    size_t length;
    size_t capacity;
};

static void buffer_init(struct text_buffer *buffer, size_t capacity)
{
    buffer->bytes = malloc(capacity);
    if (!buffer->bytes) {
        fprintf(stderr, "gen_events: out of memory\n");
        exit(1);
    }
    buffer->length = 0;
    buffer->capacity = capacity;
}

static void buffer_free(struct text_buffer *buffer)
{
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->length = buffer->capacity = 0;
}

static void buffer_grow(struct text_buffer *buffer, size_t extra)
{
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    while (capacity - buffer->length < extra)
        capacity *= 2;
    char *bytes = realloc(buffer->bytes, capacity);
    if (!bytes) {
        fprintf(stderr, "gen_events: out of memory\n");
        exit(1);
    }
    buffer->bytes = bytes;
    buffer->capacity = capacity;
}

static inline void append_bytes(struct text_buffer *buffer, const char *bytes, size_t count)
{
    if (buffer->capacity - buffer->length < count)
        buffer_grow(buffer, count);
    memcpy(buffer->bytes + buffer->length, bytes, count);
    buffer->length += count;
}

static inline void append_char(struct text_buffer *buffer, char c)
{
    if (buffer->length == buffer->capacity)
        buffer_grow(buffer, 1);
    buffer->bytes[buffer->length++] = c;
}

/* String literals only: the length is known at compile time. */
#define APPEND_LITERAL(buffer, literal) append_bytes((buffer), "" literal "", sizeof(literal) - 1)

static inline void append_text(struct text_buffer *buffer, const char *text)
{
    append_bytes(buffer, text, strlen(text));
}

static void append_uint(struct text_buffer *buffer, uint64_t value)
{
    char digits[20];
    size_t count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    if (buffer->capacity - buffer->length < count)
        buffer_grow(buffer, count);
    char *out = buffer->bytes + buffer->length;
    for (size_t i = 0; i < count; i++)
        out[i] = digits[count - 1 - i];
    buffer->length += count;
}

/* Hexadecimal with exactly `width` digits, or as few as needed when width is
 * 0.  Windows writes logon IDs and PIDs in 4688 as lower-case minimal hex
 * ("0x3e7"), GUIDs and hashes as upper-case fixed-width. */
static void append_hex(struct text_buffer *buffer, uint64_t value, int width, bool upper)
{
    const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[16];
    int count = 0;
    do {
        digits[count++] = alphabet[value & 15];
        value >>= 4;
    } while (value && count < 16);
    while (count < width)
        digits[count++] = '0';
    if (buffer->capacity - buffer->length < (size_t)count)
        buffer_grow(buffer, (size_t)count);
    char *out = buffer->bytes + buffer->length;
    for (int i = 0; i < count; i++)
        out[i] = digits[count - 1 - i];
    buffer->length += (size_t)count;
}

/* Appends text as the inside of a JSON string.  Runs of bytes that need no
 * escaping are copied with one memcpy; bytes >= 0x80 are UTF-8 and pass
 * through unchanged. */
static void append_json_escaped(struct text_buffer *buffer, const char *text)
{
    const char *run = text;
    const char *p = text;
    for (;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run)
            append_bytes(buffer, run, (size_t)(p - run));
        if (c == 0)
            return;
        run = p + 1;
        switch (c) {
        case '"': APPEND_LITERAL(buffer, "\\\""); break;
        case '\\': APPEND_LITERAL(buffer, "\\\\"); break;
        case '\n': APPEND_LITERAL(buffer, "\\n"); break;
        case '\r': APPEND_LITERAL(buffer, "\\r"); break;
        case '\t': APPEND_LITERAL(buffer, "\\t"); break;
        default:
            APPEND_LITERAL(buffer, "\\u00");
            append_hex(buffer, c, 2, false);
            break;
        }
    }
}

/* Makes buffer->bytes a C string without counting the terminator, so the
 * buffer can keep growing afterwards. */
static const char *buffer_c_string(struct text_buffer *buffer)
{
    append_char(buffer, '\0');
    buffer->length--;
    return buffer->bytes;
}

/* ---- JSON object fields --------------------------------------------------
 * Every field is written as `"Name":value,`; close_object() turns the final
 * comma into '}'.  This keeps the writers free of "is this the first field"
 * bookkeeping.  The macros paste the quoted key at compile time. */

#define FIELD_KEY(buffer, name) APPEND_LITERAL(buffer, "\"" name "\":")

#define FIELD_STRING(buffer, name, value)          \
    do {                                           \
        FIELD_KEY(buffer, name);                   \
        append_char(buffer, '"');                  \
        append_json_escaped(buffer, (value));      \
        APPEND_LITERAL(buffer, "\",");             \
    } while (0)

#define FIELD_UINT(buffer, name, value)            \
    do {                                           \
        FIELD_KEY(buffer, name);                   \
        append_uint(buffer, (value));              \
        append_char(buffer, ',');                  \
    } while (0)

/* "0x3e7": the rendering evtx_dump gives HexInt32/HexInt64 values. */
#define FIELD_HEX(buffer, name, value)             \
    do {                                           \
        FIELD_KEY(buffer, name);                   \
        APPEND_LITERAL(buffer, "\"0x");            \
        append_hex(buffer, (value), 0, false);     \
        APPEND_LITERAL(buffer, "\",");             \
    } while (0)

#define FIELD_BOOL(buffer, name, value)                                        \
    do {                                                                       \
        FIELD_KEY(buffer, name);                                               \
        if (value)                                                             \
            APPEND_LITERAL(buffer, "true,");                                   \
        else                                                                   \
            APPEND_LITERAL(buffer, "false,");                                  \
    } while (0)

static void close_object(struct text_buffer *buffer)
{
    if (buffer->length && buffer->bytes[buffer->length - 1] == ',')
        buffer->bytes[buffer->length - 1] = '}';
    else
        append_char(buffer, '}');
}

/* ======================================================================
 * Time
 *
 * The clock is microseconds since 1970-01-01 UTC.  Calendar conversion uses
 * Howard Hinnant's days-from-civil algorithms, exact for the proleptic
 * Gregorian calendar and free of libc time zones.
 * ====================================================================== */

#define MICROS_PER_SECOND 1000000ll
#define MICROS_PER_MINUTE (60 * MICROS_PER_SECOND)
#define MICROS_PER_HOUR (60 * MICROS_PER_MINUTE)
#define MICROS_PER_DAY (24 * MICROS_PER_HOUR)

static int64_t days_from_civil(int year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int64_t micros_from_utc(int year, int month, int day, int hour, int minute, int second)
{
    return (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) *
           MICROS_PER_SECOND;
}

struct utc_time {
    int year, month, day, hour, minute, second;
    int microsecond;
};

static void utc_from_micros(int64_t micros, struct utc_time *out)
{
    int64_t days = micros / MICROS_PER_DAY;
    int64_t micros_of_day = micros % MICROS_PER_DAY;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    out->day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    out->month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    out->year = (int)(year_of_era + era * 400 + (out->month <= 2));
    int64_t seconds = micros_of_day / MICROS_PER_SECOND;
    out->hour = (int)(seconds / 3600);
    out->minute = (int)(seconds / 60 % 60);
    out->second = (int)(seconds % 60);
    out->microsecond = (int)(micros_of_day % MICROS_PER_SECOND);
}

/* 0 = Sunday.  1970-01-01 was a Thursday. */
static int weekday_from_micros(int64_t micros)
{
    return (int)((micros / MICROS_PER_DAY + 4) % 7);
}

static int hour_from_micros(int64_t micros)
{
    return (int)(micros % MICROS_PER_DAY / MICROS_PER_HOUR);
}

static void append_digits(struct text_buffer *buffer, unsigned value, int width)
{
    char digits[8];
    for (int i = width - 1; i >= 0; i--) {
        digits[i] = (char)('0' + value % 10);
        value /= 10;
    }
    append_bytes(buffer, digits, (size_t)width);
}

static void append_date_and_clock(struct text_buffer *buffer, const struct utc_time *t, char separator)
{
    append_digits(buffer, (unsigned)t->year, 4);
    append_char(buffer, '-');
    append_digits(buffer, (unsigned)t->month, 2);
    append_char(buffer, '-');
    append_digits(buffer, (unsigned)t->day, 2);
    append_char(buffer, separator);
    append_digits(buffer, (unsigned)t->hour, 2);
    append_char(buffer, ':');
    append_digits(buffer, (unsigned)t->minute, 2);
    append_char(buffer, ':');
    append_digits(buffer, (unsigned)t->second, 2);
}

/* SystemTime as evtx_dump prints it: 2021-03-02T07:01:12.123456Z */
static void append_system_time(struct text_buffer *buffer, int64_t micros)
{
    struct utc_time t;
    utc_from_micros(micros, &t);
    append_date_and_clock(buffer, &t, 'T');
    append_char(buffer, '.');
    append_digits(buffer, (unsigned)t.microsecond, 6);
    append_char(buffer, 'Z');
}

/* Sysmon's UtcTime: 2021-03-02 07:01:12.123 (milliseconds, no zone) */
static void append_sysmon_time(struct text_buffer *buffer, int64_t micros)
{
    struct utc_time t;
    utc_from_micros(micros, &t);
    append_date_and_clock(buffer, &t, ' ');
    append_char(buffer, '.');
    append_digits(buffer, (unsigned)(t.microsecond / 1000), 3);
}

/* ======================================================================
 * The simulated network: corp.local
 *
 * One domain controller, two Exchange 2016 servers and four workstations.
 * Everything below is static data; the generator only picks from it.
 * ====================================================================== */

#define DOMAIN_NETBIOS "CORP"
#define DOMAIN_DNS "corp.local"
#define DOMAIN_SID "S-1-5-21-3623811015-3361044348-30300820"
#define EXCHANGE_BIN "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\"
#define EXCHANGE_ROOT "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\"

enum account_id {
    ACCOUNT_SYSTEM,
    ACCOUNT_LOCAL_SERVICE,
    ACCOUNT_NETWORK_SERVICE,
    ACCOUNT_ADMINISTRATOR,
    ACCOUNT_EXADMIN,
    ACCOUNT_ALICE,
    ACCOUNT_BOB,
    ACCOUNT_CEO,
    ACCOUNT_SVC_BACKUP,
    ACCOUNT_HEALTH_MAILBOX,
    ACCOUNT_COUNT
};

struct account {
    const char *name;
    const char *domain;      /* "NT AUTHORITY" for well-known, else CORP */
    const char *sid;
    const char *qualified_name; /* DOMAIN\name, as Sysmon's User field shows it */
    uint64_t fixed_logon_id; /* well-known accounts have a fixed logon ID; 0 otherwise */
    bool privileged;         /* gets a 4672 at logon */
};

static const struct account accounts[ACCOUNT_COUNT] = {
    [ACCOUNT_SYSTEM] = {"SYSTEM", "NT AUTHORITY", "S-1-5-18", "NT AUTHORITY\\SYSTEM", 0x3e7, true},
    [ACCOUNT_LOCAL_SERVICE] = {"LOCAL SERVICE", "NT AUTHORITY", "S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE", 0x3e5, true},
    [ACCOUNT_NETWORK_SERVICE] = {"NETWORK SERVICE", "NT AUTHORITY", "S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE", 0x3e4, true},
    [ACCOUNT_ADMINISTRATOR] = {"Administrator", DOMAIN_NETBIOS, DOMAIN_SID "-500", DOMAIN_NETBIOS "\\Administrator", 0, true},
    [ACCOUNT_EXADMIN] = {"exadmin", DOMAIN_NETBIOS, DOMAIN_SID "-1105", DOMAIN_NETBIOS "\\exadmin", 0, true},
    [ACCOUNT_ALICE] = {"alice.m", DOMAIN_NETBIOS, DOMAIN_SID "-1110", DOMAIN_NETBIOS "\\alice.m", 0, false},
    [ACCOUNT_BOB] = {"bob.k", DOMAIN_NETBIOS, DOMAIN_SID "-1111", DOMAIN_NETBIOS "\\bob.k", 0, false},
    [ACCOUNT_CEO] = {"ceo", DOMAIN_NETBIOS, DOMAIN_SID "-1104", DOMAIN_NETBIOS "\\ceo", 0, false},
    [ACCOUNT_SVC_BACKUP] = {"svc_backup", DOMAIN_NETBIOS, DOMAIN_SID "-1120", DOMAIN_NETBIOS "\\svc_backup", 0, true},
    [ACCOUNT_HEALTH_MAILBOX] = {"HealthMailbox3f1c2e9", DOMAIN_NETBIOS, DOMAIN_SID "-1131", DOMAIN_NETBIOS "\\HealthMailbox3f1c2e9", 0, false},
};

enum host_role { ROLE_DOMAIN_CONTROLLER, ROLE_EXCHANGE, ROLE_WORKSTATION };

enum host_id { HOST_DC01, HOST_EXCH01, HOST_EXCH02, HOST_WS_ADM01, HOST_WS_FIN01, HOST_WS_HR01, HOST_WS_EXEC01, HOST_COUNT };

struct host {
    const char *short_name;   /* file names: EXCH01-security.jsonl */
    const char *machine_account; /* EXCH01$ */
    const char *fqdn;         /* System.Computer */
    const char *ip;
    enum host_role role;
    const char *machine_sid;  /* SID of the computer account */
    enum account_id primary_user; /* who sits at a workstation */
    unsigned lsass_pid;       /* Execution.ProcessID of Security events */
    unsigned services_pid;    /* Execution.ProcessID of Service Control Manager events */
    unsigned sysmon_pid;      /* Execution.ProcessID of Sysmon events */
    uint32_t guid_prefix;     /* first group of every Sysmon GUID on the host */
    unsigned activity_weight; /* share of the network's events; servers are busier */
};

/* EXCH01's lsass runs as PID 624: the intruder's comsvcs.dll MiniDump names it. */
static const struct host hosts[HOST_COUNT] = {
    [HOST_DC01] = {"DC01", "DC01$", "DC01." DOMAIN_DNS, "10.0.1.10", ROLE_DOMAIN_CONTROLLER, DOMAIN_SID "-1000",
                   ACCOUNT_ADMINISTRATOR, 652, 636, 2284, 0x6E2F1A03u, 26},
    [HOST_EXCH01] = {"EXCH01", "EXCH01$", "EXCH01." DOMAIN_DNS, "10.0.1.21", ROLE_EXCHANGE, DOMAIN_SID "-1001",
                     ACCOUNT_EXADMIN, 624, 612, 3056, 0x1F4C8B21u, 26},
    [HOST_EXCH02] = {"EXCH02", "EXCH02$", "EXCH02." DOMAIN_DNS, "10.0.1.22", ROLE_EXCHANGE, DOMAIN_SID "-1002",
                     ACCOUNT_EXADMIN, 688, 676, 2964, 0x9A07D355u, 22},
    [HOST_WS_ADM01] = {"WS-ADM01", "WS-ADM01$", "WS-ADM01." DOMAIN_DNS, "10.0.2.11", ROLE_WORKSTATION, DOMAIN_SID "-1201",
                       ACCOUNT_EXADMIN, 712, 700, 3412, 0x3C81E0F6u, 8},
    [HOST_WS_FIN01] = {"WS-FIN01", "WS-FIN01$", "WS-FIN01." DOMAIN_DNS, "10.0.2.21", ROLE_WORKSTATION, DOMAIN_SID "-1202",
                       ACCOUNT_ALICE, 736, 724, 3180, 0xB5D2417Cu, 6},
    [HOST_WS_HR01] = {"WS-HR01", "WS-HR01$", "WS-HR01." DOMAIN_DNS, "10.0.2.22", ROLE_WORKSTATION, DOMAIN_SID "-1203",
                      ACCOUNT_BOB, 704, 692, 3300, 0x58A9CC12u, 6},
    [HOST_WS_EXEC01] = {"WS-EXEC01", "WS-EXEC01$", "WS-EXEC01." DOMAIN_DNS, "10.0.2.23", ROLE_WORKSTATION, DOMAIN_SID "-1204",
                        ACCOUNT_CEO, 720, 708, 3244, 0xE1736B4Du, 6},
};

/* ---- Channels --------------------------------------------------------- */

enum channel_id {
    CHANNEL_SECURITY,
    CHANNEL_SYSMON,
    CHANNEL_POWERSHELL,
    CHANNEL_SYSTEM,
    CHANNEL_EXCHANGE_MANAGEMENT,
    CHANNEL_COUNT
};

struct channel {
    const char *file_suffix;   /* EXCH01-<suffix>.jsonl in case mode */
    const char *provider_json; /* the whole "Provider":{...} value, pre-rendered */
    const char *name_json;     /* the "Channel" value, pre-rendered with quotes */
};

static const struct channel channels[CHANNEL_COUNT] = {
    [CHANNEL_SECURITY] = {"security",
                          "{\"#attributes\":{\"Name\":\"Microsoft-Windows-Security-Auditing\","
                          "\"Guid\":\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"}}",
                          "\"Security\""},
    [CHANNEL_SYSMON] = {"sysmon",
                        "{\"#attributes\":{\"Name\":\"Microsoft-Windows-Sysmon\","
                        "\"Guid\":\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\"}}",
                        "\"Microsoft-Windows-Sysmon/Operational\""},
    [CHANNEL_POWERSHELL] = {"powershell",
                            "{\"#attributes\":{\"Name\":\"Microsoft-Windows-PowerShell\","
                            "\"Guid\":\"{A0C1853E-5C40-4B15-8766-3CF1C58F985A}\"}}",
                            "\"Microsoft-Windows-PowerShell/Operational\""},
    [CHANNEL_SYSTEM] = {"system",
                        "{\"#attributes\":{\"Name\":\"Service Control Manager\","
                        "\"Guid\":\"{555908d1-a6d7-4695-8e1e-26931d2012f4}\","
                        "\"EventSourceName\":\"Service Control Manager\"}}",
                        "\"System\""},
    [CHANNEL_EXCHANGE_MANAGEMENT] = {"msexchange-management",
                                     "{\"#attributes\":{\"Name\":\"MSExchange CmdletLogs\"}}",
                                     "\"MSExchange Management\""},
};

/* ---- Executables -------------------------------------------------------
 * Version resource fields Sysmon copies into event 1.  Hashes are not stored:
 * they are derived from the path, so one image always has one hash. */

struct image {
    const char *path;
    const char *file_version;
    const char *description;
    const char *product;
    const char *company;
    const char *original_file_name;
};

#define MS_WINDOWS "Microsoft\xC2\xAE Windows\xC2\xAE Operating System"
#define MS_CORP "Microsoft Corporation"
#define EXCHANGE_PRODUCT "Microsoft\xC2\xAE Exchange"
#define EXCHANGE_VERSION "15.01.2106.002"
#define WIN_VERSION "10.0.14393.0 (rs1_release.160715-1616)"

enum image_id {
    IMAGE_SERVICES, IMAGE_SVCHOST, IMAGE_W3WP, IMAGE_CMD,
    IMAGE_RUNDLL32, IMAGE_POWERSHELL, IMAGE_TASKHOSTW, IMAGE_WMIPRVSE, IMAGE_EXPLORER,
    IMAGE_HM_HOST, IMAGE_HM_WORKER, IMAGE_SEARCH_INDEXER, IMAGE_STORE_SERVICE, IMAGE_STORE_WORKER,
    IMAGE_SERVICE_HOST, IMAGE_TRANSPORT, IMAGE_MAILBOX_REPLICATION,
    IMAGE_CHROME, IMAGE_OUTLOOK, IMAGE_WINWORD, IMAGE_ONEDRIVE, IMAGE_SEARCH_PROTOCOL, IMAGE_BACKGROUND_TASK,
    IMAGE_GPUPDATE, IMAGE_DNS, IMAGE_SEVENZIP, IMAGE_MMC, IMAGE_WUAUCLT, IMAGE_COUNT
};

static const struct image images[IMAGE_COUNT] = {
    [IMAGE_SERVICES] = {"C:\\Windows\\System32\\services.exe", WIN_VERSION, "Services and Controller app", MS_WINDOWS, MS_CORP, "services.exe"},
    [IMAGE_SVCHOST] = {"C:\\Windows\\System32\\svchost.exe", WIN_VERSION, "Host Process for Windows Services", MS_WINDOWS, MS_CORP, "svchost.exe"},
    [IMAGE_W3WP] = {"C:\\Windows\\System32\\inetsrv\\w3wp.exe", "10.0.14393.0 (rs1_release.160715-1616)", "IIS Worker Process", "Internet Information Services", MS_CORP, "w3wp.exe"},
    [IMAGE_CMD] = {"C:\\Windows\\System32\\cmd.exe", WIN_VERSION, "Windows Command Processor", MS_WINDOWS, MS_CORP, "Cmd.Exe"},
    [IMAGE_RUNDLL32] = {"C:\\Windows\\System32\\rundll32.exe", WIN_VERSION, "Windows host process (Rundll32)", MS_WINDOWS, MS_CORP, "RUNDLL32.EXE"},
    [IMAGE_POWERSHELL] = {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", WIN_VERSION, "Windows PowerShell", MS_WINDOWS, MS_CORP, "PowerShell.EXE"},
    [IMAGE_TASKHOSTW] = {"C:\\Windows\\System32\\taskhostw.exe", WIN_VERSION, "Host Process for Windows Tasks", MS_WINDOWS, MS_CORP, "taskhostw.exe"},
    [IMAGE_WMIPRVSE] = {"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", WIN_VERSION, "WMI Provider Host", MS_WINDOWS, MS_CORP, "Wmiprvse.exe"},
    [IMAGE_EXPLORER] = {"C:\\Windows\\explorer.exe", WIN_VERSION, "Windows Explorer", MS_WINDOWS, MS_CORP, "EXPLORER.EXE"},
    [IMAGE_HM_HOST] = {EXCHANGE_BIN "MSExchangeHMHost.exe", EXCHANGE_VERSION, "Microsoft Exchange Health Manager Service", EXCHANGE_PRODUCT, MS_CORP, "MSExchangeHMHost.exe"},
    [IMAGE_HM_WORKER] = {EXCHANGE_BIN "MSExchangeHMWorker.exe", EXCHANGE_VERSION, "Microsoft Exchange Health Manager Worker", EXCHANGE_PRODUCT, MS_CORP, "MSExchangeHMWorker.exe"},
    [IMAGE_SEARCH_INDEXER] = {"C:\\Windows\\System32\\SearchIndexer.exe", WIN_VERSION, "Microsoft Windows Search Indexer", MS_WINDOWS, MS_CORP, "SearchIndexer.exe"},
    [IMAGE_STORE_SERVICE] = {EXCHANGE_BIN "Microsoft.Exchange.Store.Service.exe", EXCHANGE_VERSION, "Microsoft Exchange Information Store", EXCHANGE_PRODUCT, MS_CORP, "Microsoft.Exchange.Store.Service.exe"},
    [IMAGE_STORE_WORKER] = {EXCHANGE_BIN "Microsoft.Exchange.Store.Worker.exe", EXCHANGE_VERSION, "Microsoft Exchange Store Worker", EXCHANGE_PRODUCT, MS_CORP, "Microsoft.Exchange.Store.Worker.exe"},
    [IMAGE_SERVICE_HOST] = {EXCHANGE_BIN "Microsoft.Exchange.ServiceHost.exe", EXCHANGE_VERSION, "Microsoft Exchange Service Host", EXCHANGE_PRODUCT, MS_CORP, "Microsoft.Exchange.ServiceHost.exe"},
    [IMAGE_TRANSPORT] = {EXCHANGE_BIN "MSExchangeTransport.exe", EXCHANGE_VERSION, "Microsoft Exchange Transport", EXCHANGE_PRODUCT, MS_CORP, "MSExchangeTransport.exe"},
    [IMAGE_MAILBOX_REPLICATION] = {EXCHANGE_BIN "MSExchangeMailboxReplication.exe", EXCHANGE_VERSION, "Microsoft Exchange Mailbox Replication", EXCHANGE_PRODUCT, MS_CORP, "MSExchangeMailboxReplication.exe"},
    [IMAGE_CHROME] = {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "89.0.4389.82", "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe"},
    [IMAGE_OUTLOOK] = {"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "16.0.13801.20266", "Microsoft Outlook", "Microsoft Outlook", MS_CORP, "Outlook.exe"},
    [IMAGE_WINWORD] = {"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "16.0.13801.20266", "Microsoft Word", "Microsoft Office", MS_CORP, "WinWord.exe"},
    [IMAGE_ONEDRIVE] = {"C:\\Users\\Public\\OneDrive\\OneDrive.exe", "21.030.0211.0002", "Microsoft OneDrive", "Microsoft OneDrive", MS_CORP, "OneDrive.exe"},
    [IMAGE_SEARCH_PROTOCOL] = {"C:\\Windows\\System32\\SearchProtocolHost.exe", WIN_VERSION, "Microsoft Windows Search Protocol Host", MS_WINDOWS, MS_CORP, "SearchProtocolHost.exe"},
    [IMAGE_BACKGROUND_TASK] = {"C:\\Windows\\System32\\backgroundTaskHost.exe", WIN_VERSION, "Background Task Host", MS_WINDOWS, MS_CORP, "backgroundTaskHost.exe"},
    [IMAGE_GPUPDATE] = {"C:\\Windows\\System32\\gpupdate.exe", WIN_VERSION, "Microsoft\xC2\xAE Windows\xC2\xAE Group Policy Update Utility", MS_WINDOWS, MS_CORP, "gpupdate.exe"},
    [IMAGE_DNS] = {"C:\\Windows\\System32\\dns.exe", WIN_VERSION, "Domain Name System (DNS) Server", MS_WINDOWS, MS_CORP, "dns.exe"},
    [IMAGE_SEVENZIP] = {"C:\\ProgramData\\7z.exe", "19.00", "7-Zip Console", "7-Zip", "Igor Pavlov", "7z.exe"},
    [IMAGE_MMC] = {"C:\\Windows\\System32\\mmc.exe", WIN_VERSION, "Microsoft Management Console", MS_WINDOWS, MS_CORP, "mmc.exe"},
    [IMAGE_WUAUCLT] = {"C:\\Windows\\System32\\wuauclt.exe", WIN_VERSION, "Windows Update", MS_WINDOWS, MS_CORP, "wuauclt.exe"},
};

/* ======================================================================
 * Generator state
 * ====================================================================== */

/* A GUID as evtx_dump prints GUID-typed EventData values: upper-case, no
 * braces, e.g. 1F4C8B21-0BDA-6040-7836-000000001A00. */
struct guid_text {
    char text[37];
};

/* A logon whose 4634 has not been written yet.  The names point into the
 * static account and host tables. */
struct pending_logon {
    const char *target_sid;
    const char *target_name;
    const char *target_domain;
    uint64_t logon_id;
    unsigned logon_type;
};

struct host_state {
    uint64_t last_record_id[CHANNEL_COUNT]; /* EventRecordID of the last event written */
    struct pending_logon pending[PENDING_LOGONS_PER_HOST]; /* a ring: oldest at pending_first */
    unsigned pending_first;
    unsigned pending_count;
    uint32_t boot_seconds; /* last boot, low 32 bits of Unix time: goes into SYSTEM's LogonGuid */
};

/* Where a just-written event landed; intruder traces copy it into the
 * README table. */
struct written_event {
    enum host_id host;
    enum channel_id channel;
    unsigned event_id;
    uint64_t record_id;
    int64_t time;
};

struct generator {
    struct random_state random;
    int64_t clock; /* microseconds since 1970 UTC; only ever moves forward */
    struct host_state host_state[HOST_COUNT];

    /* Exactly one of these is used: --size writes every line to `stream`;
     * --case keeps one buffer per host and channel and writes files at the
     * end (the case is a few MiB). */
    struct text_buffer stream;
    bool split_by_file;
    struct text_buffer files[HOST_COUNT][CHANNEL_COUNT];
    int64_t file_first_time[HOST_COUNT][CHANNEL_COUNT]; /* for the README; case mode only */
    int64_t file_last_time[HOST_COUNT][CHANNEL_COUNT];

    /* Scratch space for values assembled from parts (command lines, SIDs);
     * reused for every event so the hot path does not allocate. */
    struct text_buffer scratch;
    /* Same, for activities composing paths before calling a writer (the
     * writers may use `scratch` themselves). */
    struct text_buffer compose;
    /* The logon ID of each host's current desktop session (workstations). */
    uint64_t desktop_logon_id[HOST_COUNT];

    /* Sysmon was rolled out in 2020; in the 2019 part of the case only the
     * Security log exists. */
    bool sysmon_deployed;

    struct written_event last_written;

    /* ProcessGuid of each intruder process once its Sysmon 1 is written, by
     * enum trace_kind, so its later file events name the same process. */
    struct guid_text intruder_process_guids[INTRUDER_TRACE_KINDS_MAX];
};

/* Moves the clock forward by up to max_micros (at least 1 µs), the spacing
 * between events of one burst of activity. */
static void tick(struct generator *generator, uint32_t max_micros)
{
    generator->clock += 1 + random_below(&generator->random, max_micros);
}

/* ======================================================================
 * Event envelope: the "System" part every event shares
 * ====================================================================== */

struct event_system {
    enum channel_id channel;
    unsigned event_id;
    unsigned qualifiers;  /* nonzero for classic event sources (Service Control
                             Manager, MSExchange): EventID is then an object */
    unsigned version, level, task, opcode;
    const char *keywords;
    unsigned process_id, thread_id; /* System.Execution: the process that logged it */
    const char *user_sid;           /* System.Security UserID, or NULL for null */
};

/* Starts one line: writes everything up to and including `"EventData":{`,
 * assigns the next EventRecordID of (host, channel) and returns the buffer the
 * caller appends fields to.  The caller finishes with end_event(). */
static struct text_buffer *begin_event(struct generator *generator, enum host_id host,
                                       const struct event_system *system)
{
    struct text_buffer *out = &generator->stream;
    if (generator->split_by_file) {
        out = &generator->files[host][system->channel];
        if (!out->length)
            generator->file_first_time[host][system->channel] = generator->clock;
        generator->file_last_time[host][system->channel] = generator->clock;
    }
    uint64_t record_id = ++generator->host_state[host].last_record_id[system->channel];
    generator->last_written = (struct written_event){host, system->channel, system->event_id, record_id,
                                                     generator->clock};

    APPEND_LITERAL(out, "{\"Event\":{\"#attributes\":{\"xmlns\":"
                        "\"http://schemas.microsoft.com/win/2004/08/events/event\"},"
                        "\"System\":{\"Provider\":");
    append_text(out, channels[system->channel].provider_json);
    APPEND_LITERAL(out, ",\"EventID\":");
    if (system->qualifiers) {
        APPEND_LITERAL(out, "{\"#attributes\":{\"Qualifiers\":");
        append_uint(out, system->qualifiers);
        APPEND_LITERAL(out, "},\"#text\":");
        append_uint(out, system->event_id);
        append_char(out, '}');
    } else {
        append_uint(out, system->event_id);
    }
    APPEND_LITERAL(out, ",\"Version\":");
    append_uint(out, system->version);
    APPEND_LITERAL(out, ",\"Level\":");
    append_uint(out, system->level);
    APPEND_LITERAL(out, ",\"Task\":");
    append_uint(out, system->task);
    APPEND_LITERAL(out, ",\"Opcode\":");
    append_uint(out, system->opcode);
    APPEND_LITERAL(out, ",\"Keywords\":\"");
    append_text(out, system->keywords);
    APPEND_LITERAL(out, "\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"");
    append_system_time(out, generator->clock);
    APPEND_LITERAL(out, "\"}},\"EventRecordID\":");
    append_uint(out, record_id);
    APPEND_LITERAL(out, ",\"Correlation\":null,\"Execution\":{\"#attributes\":{\"ProcessID\":");
    append_uint(out, system->process_id);
    APPEND_LITERAL(out, ",\"ThreadID\":");
    append_uint(out, system->thread_id);
    APPEND_LITERAL(out, "}},\"Channel\":");
    append_text(out, channels[system->channel].name_json);
    APPEND_LITERAL(out, ",\"Computer\":\"");
    append_text(out, hosts[host].fqdn);
    APPEND_LITERAL(out, "\",\"Security\":");
    if (system->user_sid) {
        APPEND_LITERAL(out, "{\"#attributes\":{\"UserID\":\"");
        append_text(out, system->user_sid);
        APPEND_LITERAL(out, "\"}}");
    } else {
        APPEND_LITERAL(out, "null");
    }
    APPEND_LITERAL(out, "},\"EventData\":{");
    return out;
}

static void end_event(struct text_buffer *out)
{
    close_object(out);
    APPEND_LITERAL(out, "}}\n");
}

/* Logging threads are a small, stable pool per process in real logs. */
static unsigned logging_thread(struct generator *generator, unsigned process_id)
{
    return process_id + 4 * (1 + random_below(&generator->random, 6)) + 52;
}

static struct event_system security_system(struct generator *generator, enum host_id host, unsigned event_id,
                                           unsigned version, unsigned task, bool success)
{
    unsigned process_id = event_id == 4688 ? 4 : hosts[host].lsass_pid;
    return (struct event_system){CHANNEL_SECURITY, event_id, 0, version, 0, task, 0,
                                 success ? "0x8020000000000000" : "0x8010000000000000", process_id,
                                 logging_thread(generator, process_id), NULL};
}

static struct event_system sysmon_system(struct generator *generator, enum host_id host, unsigned event_id,
                                         unsigned version)
{
    unsigned process_id = hosts[host].sysmon_pid;
    return (struct event_system){CHANNEL_SYSMON, event_id, 0, version, 4, event_id, 0, "0x8000000000000000",
                                 process_id, logging_thread(generator, process_id), "S-1-5-18"};
}

/* ======================================================================
 * GUIDs and identities
 * ====================================================================== */

/* Sysmon GUIDs: the host's prefix, the process start time split in two 16-bit
 * halves, then a counter (see make_guid). */

static void write_hex_into(char *out, uint64_t value, int width)
{
    static const char alphabet[] = "0123456789ABCDEF";
    for (int i = width - 1; i >= 0; i--) {
        out[i] = alphabet[value & 15];
        value >>= 4;
    }
}

static struct guid_text make_guid(uint32_t first, uint16_t second, uint16_t third, uint16_t fourth, uint64_t last)
{
    struct guid_text guid;
    write_hex_into(guid.text, first, 8);
    guid.text[8] = '-';
    write_hex_into(guid.text + 9, second, 4);
    guid.text[13] = '-';
    write_hex_into(guid.text + 14, third, 4);
    guid.text[18] = '-';
    write_hex_into(guid.text + 19, fourth, 4);
    guid.text[23] = '-';
    write_hex_into(guid.text + 24, last & 0xFFFFFFFFFFFFull, 12);
    guid.text[36] = '\0';
    return guid;
}

static struct guid_text process_guid(struct generator *generator, enum host_id host, int64_t start_micros)
{
    /* One draw per statement: the order in which a call's arguments are
     * evaluated is unspecified, and gcc and clang differ, which would make the
     * output depend on the compiler. */
    uint32_t seconds = (uint32_t)(start_micros / MICROS_PER_SECOND);
    uint16_t sequence = (uint16_t)random_next(&generator->random);
    uint64_t counter = 0x1000u + random_below(&generator->random, 0x1000);
    return make_guid(hosts[host].guid_prefix, (uint16_t)seconds, (uint16_t)(seconds >> 16), sequence, counter);
}

/* Well-known logons (SYSTEM = 0x3e7 -> "E703") keep one LogonGuid per boot;
 * user logons get one derived from the logon ID. */
static struct guid_text logon_guid(struct generator *generator, enum host_id host, uint64_t logon_id)
{
    uint32_t boot = generator->host_state[host].boot_seconds;
    if (logon_id < 0x400) {
        uint16_t swapped = (uint16_t)(((logon_id & 0xFF) << 8) | (logon_id >> 8));
        return make_guid(hosts[host].guid_prefix, (uint16_t)boot, (uint16_t)(boot >> 16), swapped, 0);
    }
    return make_guid(hosts[host].guid_prefix, (uint16_t)(boot + logon_id), (uint16_t)(boot >> 16),
                     (uint16_t)(logon_id >> 8), logon_id & 0xFFFF);
}

static uint64_t new_logon_id(struct generator *generator)
{
    return 0x100000u + random_below(&generator->random, 0x3F00000u);
}

/* PIDs are multiples of 4 on Windows. */
static unsigned new_process_id(struct generator *generator)
{
    return 4 * random_between(&generator->random, 300, 6000);
}

/* A long-running parent (services.exe, the IIS service host, explorer) keeps
 * its PID for the whole log, so it is derived from the host and its command
 * line rather than drawn fresh. */
static unsigned stable_process_id(enum host_id host, const char *command_line)
{
    if (strcmp(command_line, "C:\\Windows\\system32\\services.exe") == 0)
        return hosts[host].services_pid;
    return 4 * (unsigned)(200 + stable_hash(command_line, (uint64_t)host) % 2800);
}

static struct guid_text stable_process_guid(enum host_id host, const char *command_line)
{
    uint64_t hash = stable_hash(command_line, 0x5157ull + (uint64_t)host);
    return make_guid(hosts[host].guid_prefix, (uint16_t)hash, 0x603C, (uint16_t)(hash >> 16),
                     0x1000u + ((hash >> 32) & 0xFFF));
}

static const char *mandatory_label_for(const char *integrity_level)
{
    if (strcmp(integrity_level, "System") == 0)
        return "S-1-16-16384";
    if (strcmp(integrity_level, "High") == 0)
        return "S-1-16-12288";
    return "S-1-16-8192";
}

/* ======================================================================
 * Event writers, one per event type
 *
 * Each takes explicit values and writes one line at the current clock.
 * Field order follows the event's manifest, as evtx_dump preserves it.
 * ====================================================================== */

/* A process as both Sysmon 1 and Security 4688 describe it. */
struct process_event {
    const struct image *image;
    const char *command_line;
    const char *current_directory;
    unsigned process_id;
    struct guid_text process_guid;
    enum account_id user;
    uint64_t logon_id;
    const char *integrity_level; /* "System", "High", "Medium" */
    unsigned terminal_session;
    const struct image *parent_image;
    const char *parent_command_line;
    unsigned parent_process_id;
    struct guid_text parent_process_guid;
};

static void append_hashes(struct text_buffer *out, const char *path)
{
    APPEND_LITERAL(out, "MD5=");
    append_hex(out, stable_hash(path, 1), 16, true);
    append_hex(out, stable_hash(path, 2), 16, true);
    APPEND_LITERAL(out, ",SHA256=");
    for (uint64_t part = 3; part < 7; part++)
        append_hex(out, stable_hash(path, part), 16, true);
    APPEND_LITERAL(out, ",IMPHASH=");
    append_hex(out, stable_hash(path, 7), 16, true);
    append_hex(out, stable_hash(path, 8), 16, true);
}

static void write_sysmon_process_create(struct generator *generator, enum host_id host,
                                        const struct process_event *process)
{
    struct event_system system = sysmon_system(generator, host, 1, 5);
    struct text_buffer *out = begin_event(generator, host, &system);
    const struct account *user = &accounts[process->user];
    FIELD_STRING(out, "RuleName", "-");
    FIELD_KEY(out, "UtcTime");
    append_char(out, '"');
    append_sysmon_time(out, generator->clock);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "ProcessGuid", process->process_guid.text);
    FIELD_UINT(out, "ProcessId", process->process_id);
    FIELD_STRING(out, "Image", process->image->path);
    FIELD_STRING(out, "FileVersion", process->image->file_version);
    FIELD_STRING(out, "Description", process->image->description);
    FIELD_STRING(out, "Product", process->image->product);
    FIELD_STRING(out, "Company", process->image->company);
    FIELD_STRING(out, "OriginalFileName", process->image->original_file_name);
    FIELD_STRING(out, "CommandLine", process->command_line);
    FIELD_STRING(out, "CurrentDirectory", process->current_directory);
    FIELD_STRING(out, "User", user->qualified_name);
    FIELD_STRING(out, "LogonGuid", logon_guid(generator, host, process->logon_id).text);
    FIELD_HEX(out, "LogonId", process->logon_id);
    FIELD_UINT(out, "TerminalSessionId", process->terminal_session);
    FIELD_STRING(out, "IntegrityLevel", process->integrity_level);
    FIELD_KEY(out, "Hashes");
    append_char(out, '"');
    append_hashes(out, process->image->path);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "ParentProcessGuid", process->parent_process_guid.text);
    FIELD_UINT(out, "ParentProcessId", process->parent_process_id);
    FIELD_STRING(out, "ParentImage", process->parent_image->path);
    FIELD_STRING(out, "ParentCommandLine", process->parent_command_line);
    end_event(out);
}

/* Subject of 4688 is the creating account; for SYSTEM that is the computer
 * account (EXCH01$), as Windows logs it. */
static void write_subject(struct text_buffer *out, enum host_id host, enum account_id account, uint64_t logon_id)
{
    const struct account *subject = &accounts[account];
    bool machine = account == ACCOUNT_SYSTEM || account == ACCOUNT_NETWORK_SERVICE ||
                   account == ACCOUNT_LOCAL_SERVICE;
    FIELD_STRING(out, "SubjectUserSid", machine ? "S-1-5-18" : subject->sid);
    FIELD_STRING(out, "SubjectUserName", machine ? hosts[host].machine_account : subject->name);
    FIELD_STRING(out, "SubjectDomainName", DOMAIN_NETBIOS);
    FIELD_HEX(out, "SubjectLogonId", machine ? 0x3e7 : logon_id);
}

static void write_security_process_create(struct generator *generator, enum host_id host,
                                          const struct process_event *process)
{
    struct event_system system = security_system(generator, host, 4688, 2, 13312, true);
    struct text_buffer *out = begin_event(generator, host, &system);
    write_subject(out, host, process->user, process->logon_id);
    FIELD_HEX(out, "NewProcessId", process->process_id);
    FIELD_STRING(out, "NewProcessName", process->image->path);
    const char *elevation = "%%1936"; /* full token: services and UAC disabled */
    if (process->user >= ACCOUNT_ADMINISTRATOR)
        elevation = strcmp(process->integrity_level, "High") == 0 ? "%%1937" : "%%1938";
    FIELD_STRING(out, "TokenElevationType", elevation);
    FIELD_HEX(out, "ProcessId", process->parent_process_id);
    FIELD_STRING(out, "CommandLine", process->command_line);
    /* Target* names the new token's account only when it differs from the
     * creator's, which here means the service accounts. */
    if (process->user == ACCOUNT_NETWORK_SERVICE || process->user == ACCOUNT_LOCAL_SERVICE) {
        FIELD_STRING(out, "TargetUserSid", accounts[process->user].sid);
        FIELD_STRING(out, "TargetUserName", accounts[process->user].name);
        FIELD_STRING(out, "TargetDomainName", accounts[process->user].domain);
        FIELD_HEX(out, "TargetLogonId", accounts[process->user].fixed_logon_id);
    } else {
        FIELD_STRING(out, "TargetUserSid", "S-1-0-0");
        FIELD_STRING(out, "TargetUserName", "-");
        FIELD_STRING(out, "TargetDomainName", "-");
        FIELD_HEX(out, "TargetLogonId", 0);
    }
    FIELD_STRING(out, "ParentProcessName", process->parent_image->path);
    FIELD_STRING(out, "MandatoryLabel", mandatory_label_for(process->integrity_level));
    end_event(out);
}

/* The acting process of Sysmon events 3, 11, 13 and 22. */
struct actor {
    const char *image_path;
    unsigned process_id;
    struct guid_text process_guid;
    enum account_id user;
};

static struct actor actor_from_process(const struct process_event *process)
{
    return (struct actor){process->image->path, process->process_id, process->process_guid, process->user};
}

static void write_sysmon_header_fields(struct generator *generator, struct text_buffer *out,
                                       const struct actor *actor)
{
    FIELD_STRING(out, "RuleName", "-");
    FIELD_KEY(out, "UtcTime");
    append_char(out, '"');
    append_sysmon_time(out, generator->clock);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "ProcessGuid", actor->process_guid.text);
    FIELD_UINT(out, "ProcessId", actor->process_id);
    FIELD_STRING(out, "Image", actor->image_path);
}

struct connection {
    const char *protocol; /* "tcp" or "udp" */
    const char *source_ip;
    unsigned source_port;
    const char *source_hostname;
    const char *destination_ip;
    const char *destination_hostname;
    unsigned destination_port;
    const char *destination_port_name;
};

static void write_sysmon_network_connect(struct generator *generator, enum host_id host, const struct actor *actor,
                                         const struct connection *connection)
{
    struct event_system system = sysmon_system(generator, host, 3, 5);
    struct text_buffer *out = begin_event(generator, host, &system);
    write_sysmon_header_fields(generator, out, actor);
    FIELD_STRING(out, "User", accounts[actor->user].qualified_name);
    FIELD_STRING(out, "Protocol", connection->protocol);
    FIELD_BOOL(out, "Initiated", true);
    FIELD_BOOL(out, "SourceIsIpv6", false);
    FIELD_STRING(out, "SourceIp", connection->source_ip);
    FIELD_STRING(out, "SourceHostname", connection->source_hostname);
    FIELD_UINT(out, "SourcePort", connection->source_port);
    FIELD_STRING(out, "SourcePortName", "-");
    FIELD_BOOL(out, "DestinationIsIpv6", false);
    FIELD_STRING(out, "DestinationIp", connection->destination_ip);
    FIELD_STRING(out, "DestinationHostname", connection->destination_hostname);
    FIELD_UINT(out, "DestinationPort", connection->destination_port);
    FIELD_STRING(out, "DestinationPortName", connection->destination_port_name);
    end_event(out);
}

static void write_sysmon_file_create(struct generator *generator, enum host_id host, const struct actor *actor,
                                     const char *target_filename)
{
    struct event_system system = sysmon_system(generator, host, 11, 2);
    struct text_buffer *out = begin_event(generator, host, &system);
    write_sysmon_header_fields(generator, out, actor);
    FIELD_STRING(out, "TargetFilename", target_filename);
    FIELD_KEY(out, "CreationUtcTime");
    append_char(out, '"');
    append_sysmon_time(out, generator->clock);
    APPEND_LITERAL(out, "\",");
    end_event(out);
}

static void write_sysmon_registry_set(struct generator *generator, enum host_id host, const struct actor *actor,
                                      const char *target_object, const char *details)
{
    struct event_system system = sysmon_system(generator, host, 13, 2);
    struct text_buffer *out = begin_event(generator, host, &system);
    /* Event 13 puts EventType before UtcTime, unlike the others. */
    FIELD_STRING(out, "RuleName", "-");
    FIELD_STRING(out, "EventType", "SetValue");
    FIELD_KEY(out, "UtcTime");
    append_char(out, '"');
    append_sysmon_time(out, generator->clock);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "ProcessGuid", actor->process_guid.text);
    FIELD_UINT(out, "ProcessId", actor->process_id);
    FIELD_STRING(out, "Image", actor->image_path);
    FIELD_STRING(out, "TargetObject", target_object);
    FIELD_STRING(out, "Details", details);
    end_event(out);
}

static void write_sysmon_dns_query(struct generator *generator, enum host_id host, const struct actor *actor,
                                   const char *query_name, const char *query_results)
{
    struct event_system system = sysmon_system(generator, host, 22, 5);
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_STRING(out, "RuleName", "-");
    FIELD_KEY(out, "UtcTime");
    append_char(out, '"');
    append_sysmon_time(out, generator->clock);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "ProcessGuid", actor->process_guid.text);
    FIELD_UINT(out, "ProcessId", actor->process_id);
    FIELD_STRING(out, "QueryName", query_name);
    FIELD_STRING(out, "QueryStatus", "0");
    FIELD_STRING(out, "QueryResults", query_results);
    FIELD_STRING(out, "Image", actor->image_path);
    end_event(out);
}

/* ---- Logons ------------------------------------------------------------ */

/* Who logged on, how, and from where: the fields 4624 and 4625 share. */
struct logon {
    const char *target_sid;
    const char *target_name;
    const char *target_domain;
    uint64_t logon_id;
    unsigned logon_type;            /* 2 interactive, 3 network, 5 service, 10 remote interactive */
    const char *logon_process;      /* Windows pads these: "User32 ", "Advapi  ", "NtLmSsp " */
    const char *authentication_package;
    const char *workstation;        /* "-" when not given */
    const char *ip_address;         /* "-" when local */
    const char *ip_port;            /* a string in the manifest: "-", "0", "49781" */
    const char *process_name;       /* "-" for network logons */
    unsigned process_id;
    bool elevated;
};

static void write_logon_subject(struct text_buffer *out, enum host_id host, const struct logon *logon)
{
    /* Network logons have no local subject; the others are performed by the
     * machine itself (winlogon, services.exe). */
    if (logon->logon_type == 3) {
        FIELD_STRING(out, "SubjectUserSid", "S-1-0-0");
        FIELD_STRING(out, "SubjectUserName", "-");
        FIELD_STRING(out, "SubjectDomainName", "-");
        FIELD_HEX(out, "SubjectLogonId", 0);
    } else {
        write_subject(out, host, ACCOUNT_SYSTEM, 0x3e7);
    }
}

static void write_logon_success(struct generator *generator, enum host_id host, const struct logon *logon)
{
    struct event_system system = security_system(generator, host, 4624, 2, 12544, true);
    struct text_buffer *out = begin_event(generator, host, &system);
    write_logon_subject(out, host, logon);
    FIELD_STRING(out, "TargetUserSid", logon->target_sid);
    FIELD_STRING(out, "TargetUserName", logon->target_name);
    FIELD_STRING(out, "TargetDomainName", logon->target_domain);
    FIELD_HEX(out, "TargetLogonId", logon->logon_id);
    FIELD_UINT(out, "LogonType", logon->logon_type);
    FIELD_STRING(out, "LogonProcessName", logon->logon_process);
    FIELD_STRING(out, "AuthenticationPackageName", logon->authentication_package);
    FIELD_STRING(out, "WorkstationName", logon->workstation);
    FIELD_STRING(out, "LogonGuid",
                 strcmp(logon->authentication_package, "Kerberos") == 0
                     ? logon_guid(generator, host, logon->logon_id).text
                     : "00000000-0000-0000-0000-000000000000");
    FIELD_STRING(out, "TransmittedServices", "-");
    FIELD_STRING(out, "LmPackageName", strcmp(logon->authentication_package, "NTLM") == 0 ? "NTLM V2" : "-");
    FIELD_UINT(out, "KeyLength", strcmp(logon->authentication_package, "NTLM") == 0 ? 128 : 0);
    FIELD_HEX(out, "ProcessId", logon->process_id);
    FIELD_STRING(out, "ProcessName", logon->process_name);
    FIELD_STRING(out, "IpAddress", logon->ip_address);
    FIELD_STRING(out, "IpPort", logon->ip_port);
    FIELD_STRING(out, "ImpersonationLevel", "%%1833");
    FIELD_STRING(out, "RestrictedAdminMode", logon->logon_type == 10 ? "%%1843" : "-");
    FIELD_STRING(out, "TargetOutboundUserName", "-");
    FIELD_STRING(out, "TargetOutboundDomainName", "-");
    FIELD_STRING(out, "VirtualAccount", "%%1843");
    FIELD_HEX(out, "TargetLinkedLogonId", 0);
    FIELD_STRING(out, "ElevatedToken", logon->elevated ? "%%1842" : "%%1843");
    end_event(out);
}

/* 4625 for a wrong password (STATUS_LOGON_FAILURE / STATUS_WRONG_PASSWORD). */
static void write_logon_failure(struct generator *generator, enum host_id host, const struct logon *logon)
{
    struct event_system system = security_system(generator, host, 4625, 0, 12544, false);
    struct text_buffer *out = begin_event(generator, host, &system);
    write_logon_subject(out, host, logon);
    FIELD_STRING(out, "TargetUserSid", "S-1-0-0");
    FIELD_STRING(out, "TargetUserName", logon->target_name);
    FIELD_STRING(out, "TargetDomainName", logon->target_domain);
    FIELD_STRING(out, "Status", "0xc000006d");
    FIELD_STRING(out, "FailureReason", "%%2313");
    FIELD_STRING(out, "SubStatus", "0xc000006a");
    FIELD_UINT(out, "LogonType", logon->logon_type);
    FIELD_STRING(out, "LogonProcessName", logon->logon_process);
    FIELD_STRING(out, "AuthenticationPackageName", logon->authentication_package);
    FIELD_STRING(out, "WorkstationName", logon->workstation);
    FIELD_STRING(out, "TransmittedServices", "-");
    FIELD_STRING(out, "LmPackageName", "-");
    FIELD_UINT(out, "KeyLength", 0);
    FIELD_HEX(out, "ProcessId", logon->process_id);
    FIELD_STRING(out, "ProcessName", logon->process_name);
    FIELD_STRING(out, "IpAddress", logon->ip_address);
    FIELD_STRING(out, "IpPort", logon->ip_port);
    end_event(out);
}

static void write_logoff(struct generator *generator, enum host_id host, const char *target_sid,
                         const char *target_name, const char *target_domain, uint64_t logon_id, unsigned logon_type)
{
    struct event_system system = security_system(generator, host, 4634, 0, 12545, true);
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_STRING(out, "TargetUserSid", target_sid);
    FIELD_STRING(out, "TargetUserName", target_name);
    FIELD_STRING(out, "TargetDomainName", target_domain);
    FIELD_HEX(out, "TargetLogonId", logon_id);
    FIELD_UINT(out, "LogonType", logon_type);
    end_event(out);
}

/* Windows separates privileges with a newline and three tabs. */
#define PRIVILEGES_SYSTEM                                                                                     \
    "SeAssignPrimaryTokenPrivilege\n\t\t\tSeTcbPrivilege\n\t\t\tSeSecurityPrivilege\n\t\t\t"                 \
    "SeTakeOwnershipPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\t"                 \
    "SeRestorePrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeAuditPrivilege\n\t\t\t"                             \
    "SeSystemEnvironmentPrivilege\n\t\t\tSeImpersonatePrivilege\n\t\t\t"                                     \
    "SeDelegateSessionUserImpersonatePrivilege"
#define PRIVILEGES_ADMIN                                                                                      \
    "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\t"                         \
    "SeTakeOwnershipPrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\t"           \
    "SeLoadDriverPrivilege\n\t\t\tSeImpersonatePrivilege\n\t\t\tSeDelegateSessionUserImpersonatePrivilege\n\t\t\t" \
    "SeEnableDelegationPrivilege"

static void write_special_privileges(struct generator *generator, enum host_id host, const char *subject_sid,
                                     const char *subject_name, const char *subject_domain, uint64_t logon_id)
{
    struct event_system system = security_system(generator, host, 4672, 0, 12548, true);
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_STRING(out, "SubjectUserSid", subject_sid);
    FIELD_STRING(out, "SubjectUserName", subject_name);
    FIELD_STRING(out, "SubjectDomainName", subject_domain);
    FIELD_HEX(out, "SubjectLogonId", logon_id);
    FIELD_STRING(out, "PrivilegeList", logon_id == 0x3e7 ? PRIVILEGES_SYSTEM : PRIVILEGES_ADMIN);
    end_event(out);
}

/* ---- PowerShell script block logging ------------------------------------ */

struct script_block {
    const char *text;
    const char *path;        /* "" for interactive input */
    unsigned message_number; /* long scripts are split: part n of total */
    unsigned message_total;
    struct guid_text id;
    unsigned powershell_pid;
    enum account_id user;
    bool suspicious;         /* PowerShell itself logs these at Warning level */
};

static void write_script_block(struct generator *generator, enum host_id host, const struct script_block *block)
{
    struct event_system system = {CHANNEL_POWERSHELL, 4104, 0, 1, block->suspicious ? 3 : 5, 2, 15, "0x0",
                                  block->powershell_pid, logging_thread(generator, block->powershell_pid),
                                  accounts[block->user].sid};
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_UINT(out, "MessageNumber", block->message_number);
    FIELD_UINT(out, "MessageTotal", block->message_total);
    FIELD_STRING(out, "ScriptBlockText", block->text);
    /* ScriptBlockId is printed lower-case by PowerShell. */
    FIELD_KEY(out, "ScriptBlockId");
    append_char(out, '"');
    for (const char *p = block->id.text; *p; p++)
        append_char(out, (*p >= 'A' && *p <= 'F') ? (char)(*p - 'A' + 'a') : *p);
    APPEND_LITERAL(out, "\",");
    FIELD_STRING(out, "Path", block->path);
    end_event(out);
}

/* ---- Service Control Manager (System channel) --------------------------- */

static struct event_system service_control_system(struct generator *generator, enum host_id host,
                                                  unsigned event_id, const char *user_sid)
{
    unsigned process_id = hosts[host].services_pid;
    return (struct event_system){CHANNEL_SYSTEM, event_id, 16384, 0, 4, 0, 0, "0x8080000000000000", process_id,
                                 logging_thread(generator, process_id), user_sid};
}

/* 7036 "The <display name> service entered the <state> state."  Binary holds
 * the service key name and state as UTF-16LE text, hex-encoded. */
static void write_service_state(struct generator *generator, enum host_id host, const char *display_name,
                                const char *key_name, bool running)
{
    struct event_system system = service_control_system(generator, host, 7036, NULL);
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_STRING(out, "param1", display_name);
    FIELD_STRING(out, "param2", running ? "running" : "stopped");
    FIELD_KEY(out, "Binary");
    append_char(out, '"');
    for (const char *p = key_name; *p; p++) {
        append_hex(out, (unsigned char)*p, 2, true);
        APPEND_LITERAL(out, "00");
    }
    APPEND_LITERAL(out, "2F00");
    if (running)
        APPEND_LITERAL(out, "3400");
    else
        APPEND_LITERAL(out, "3100");
    APPEND_LITERAL(out, "0000\",");
    end_event(out);
}

static void write_service_installed(struct generator *generator, enum host_id host, const char *installer_sid,
                                    const char *service_name, const char *image_path, const char *start_type,
                                    const char *account_name)
{
    struct event_system system = service_control_system(generator, host, 7045, installer_sid);
    struct text_buffer *out = begin_event(generator, host, &system);
    FIELD_STRING(out, "ServiceName", service_name);
    FIELD_STRING(out, "ImagePath", image_path);
    FIELD_STRING(out, "ServiceType", "user mode service");
    FIELD_STRING(out, "StartType", start_type);
    FIELD_STRING(out, "AccountName", account_name);
    end_event(out);
}

/* ---- MSExchange Management (cmdlet audit log) ---------------------------- */

/* Exchange logs each cmdlet as event 1 of the classic source "MSExchange
 * CmdletLogs", with unnamed <Data> items; evtx_dump turns those into an array. */
struct exchange_cmdlet {
    const char *cmdlet;
    const char *parameters;     /* as typed: -Mailbox "ceo" -FilePath "..." */
    const char *modified_object;
    const char *caller;         /* corp.local/Users/exadmin, or NT AUTHORITY\SYSTEM for a local snap-in */
    const char *caller_sid;
    const char *client;         /* Remote-PowerShell-Unknown, Local-PowerShell */
    unsigned process_id;
    const char *process_name;   /* w3wp#MSExchangePowerShellAppPool, powershell */
    const char *elapsed;        /* 00:00:00.1406250 */
    bool succeeded;
};

static void write_exchange_cmdlet(struct generator *generator, enum host_id host, const struct exchange_cmdlet *cmdlet)
{
    struct event_system system = {CHANNEL_EXCHANGE_MANAGEMENT, 1, 16384, 0, 4, 1, 0, "0x80000000000000",
                                   cmdlet->process_id, logging_thread(generator, cmdlet->process_id), NULL};
    struct text_buffer *out = begin_event(generator, host, &system);
    struct text_buffer *process = &generator->scratch;
    process->length = 0;
    append_uint(process, cmdlet->process_id);
    append_char(process, ' ');
    append_text(process, cmdlet->process_name);
    const char *data[] = {
        cmdlet->cmdlet,
        cmdlet->parameters,
        cmdlet->modified_object,
        cmdlet->caller,
        cmdlet->caller_sid,
        cmdlet->caller_sid,
        cmdlet->client,
        buffer_c_string(process),
        cmdlet->elapsed,
        "View Entire Forest: 'False', Default Scope: '" DOMAIN_DNS "', Configuration Domain Controller: "
        "'DC01." DOMAIN_DNS "', Preferred Global Catalog: 'DC01." DOMAIN_DNS "', Preferred Domain Controllers: "
        "'{ DC01." DOMAIN_DNS " }'",
        hosts[host].fqdn,
        cmdlet->succeeded ? "" : "Cmdlet failed.",
    };
    FIELD_KEY(out, "Data");
    append_char(out, '[');
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        if (i)
            append_char(out, ',');
        append_char(out, '"');
        append_json_escaped(out, data[i]);
        append_char(out, '"');
    }
    APPEND_LITERAL(out, "],");
    end_event(out);
}

/* ======================================================================
 * Ordinary activity
 *
 * What a quiet corp.local looks like: Exchange app pools recycling, health
 * workers, service logons, Kerberos logons at the DC, users browsing and
 * reading mail, an admin checking mailboxes.  Each activity writes one small
 * burst of related events at the current clock.
 * ====================================================================== */

/* "The host's primary user" in templates: resolved per host. */
#define ACCOUNT_PRIMARY ACCOUNT_COUNT

struct process_template {
    enum image_id image;
    const char *command_line;
    enum image_id parent_image;
    const char *parent_command_line;
    const char *current_directory;
    unsigned user; /* enum account_id or ACCOUNT_PRIMARY */
    const char *integrity_level;
    unsigned weight;
};

#define SVCHOST_IIS "C:\\Windows\\system32\\svchost.exe -k iissvcs"
#define SVCHOST_NETSVCS "C:\\Windows\\system32\\svchost.exe -k netsvcs"
#define SVCHOST_DCOM "C:\\Windows\\system32\\svchost.exe -k DcomLaunch"
#define SERVICES_CMD "C:\\Windows\\system32\\services.exe"
#define EXPLORER_CMD "C:\\Windows\\Explorer.EXE"
#define SYSTEM32_DIR "C:\\Windows\\system32\\"
#define CHROME_CMD "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" "
#define CHROME_DIR "C:\\Program Files\\Google\\Chrome\\Application\\89.0.4389.82\\"
#define W3WP_CMD(pool, config, pipe)                                                                          \
    "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"" pool "\" -v \"v4.0\" -c \"" EXCHANGE_ROOT "bin\\"      \
    config "\" -a \\\\.\\pipe\\iisipm" pipe " -h \"C:\\inetpub\\temp\\apppools\\" pool "\\" pool              \
    ".config\" -w \"\" -m 0"
#define EMS_CMD                                                                                                \
    "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -noexit -command \". '" EXCHANGE_ROOT \
    "bin\\RemoteExchange.ps1'; Connect-ExchangeServer -auto -ClientApplication:ManagementShell \""

static const struct process_template exchange_processes[] = {
    {IMAGE_W3WP, W3WP_CMD("MSExchangeOWAAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "5b3e81c4-2a8f-4e0c-9d5b-6e0f4a1c7d22"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 6},
    {IMAGE_W3WP, W3WP_CMD("MSExchangeECPAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "0e6c2b9d-71a4-4f53-8d0a-3b5e9c2f1a77"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 4},
    {IMAGE_W3WP, W3WP_CMD("MSExchangeSyncAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "9a41d7e2-5c08-4b6f-a2e1-7d3c8f0b4e19"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 3},
    {IMAGE_W3WP, W3WP_CMD("MSExchangeServicesAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "c3f8a05b-94e2-4d17-b6c9-2e8a1f7d3b60"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 4},
    {IMAGE_W3WP, W3WP_CMD("MSExchangePowerShellAppPool", "PowerShellAppPool.config", "4d7b2e90-1f35-4a8c-9e62-b0c5d8a3f214"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 2},
    {IMAGE_W3WP, W3WP_CMD("MSExchangeRpcProxyAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "f2a96c13-8b7d-4e05-a3f4-61d9b2c8e0a5"),
     IMAGE_SVCHOST, SVCHOST_IIS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 2},
    {IMAGE_HM_WORKER, "\"" EXCHANGE_BIN "MSExchangeHMWorker.exe\"", IMAGE_HM_HOST, "\"" EXCHANGE_BIN "MSExchangeHMHost.exe\"",
     EXCHANGE_BIN, ACCOUNT_SYSTEM, "System", 10},
    {IMAGE_STORE_WORKER, "\"" EXCHANGE_BIN "Microsoft.Exchange.Store.Worker.exe\" -id:4a5f0c2e-8d71-4b39-a6e0-3c9f2d7b1e84 -pipe:2616",
     IMAGE_STORE_SERVICE, "\"" EXCHANGE_BIN "Microsoft.Exchange.Store.Service.exe\"", EXCHANGE_BIN, ACCOUNT_SYSTEM, "System", 2},
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", IMAGE_SERVICES, SERVICES_CMD,
     SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 3},
    {IMAGE_TASKHOSTW, "taskhostw.exe SYSTEM", IMAGE_SVCHOST, SVCHOST_NETSVCS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 5},
    {IMAGE_WMIPRVSE, "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", IMAGE_SVCHOST, SVCHOST_DCOM,
     SYSTEM32_DIR, ACCOUNT_NETWORK_SERVICE, "System", 5},
    {IMAGE_WUAUCLT, "\"C:\\Windows\\system32\\wuauclt.exe\" /RunHandlerComServer", IMAGE_SVCHOST, SVCHOST_NETSVCS,
     SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 1},
};

static const struct process_template domain_controller_processes[] = {
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", IMAGE_SERVICES, SERVICES_CMD,
     SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 3},
    {IMAGE_TASKHOSTW, "taskhostw.exe SYSTEM", IMAGE_SVCHOST, SVCHOST_NETSVCS, SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 5},
    {IMAGE_WMIPRVSE, "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", IMAGE_SVCHOST, SVCHOST_DCOM,
     SYSTEM32_DIR, ACCOUNT_NETWORK_SERVICE, "System", 5},
    {IMAGE_GPUPDATE, "gpupdate.exe /target:computer /force", IMAGE_SVCHOST, SVCHOST_NETSVCS, SYSTEM32_DIR,
     ACCOUNT_SYSTEM, "System", 1},
    {IMAGE_WUAUCLT, "\"C:\\Windows\\system32\\wuauclt.exe\" /RunHandlerComServer", IMAGE_SVCHOST, SVCHOST_NETSVCS,
     SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 1},
};

static const struct process_template workstation_processes[] = {
    {IMAGE_CHROME, CHROME_CMD, IMAGE_EXPLORER, EXPLORER_CMD, CHROME_DIR, ACCOUNT_PRIMARY, "Medium", 4},
    {IMAGE_CHROME,
     CHROME_CMD "--type=renderer --field-trial-handle=1680,4123467285716335482,13251744983212387543,131072 "
                "--lang=en-US --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation "
                "--renderer-client-id=7 --mojo-platform-channel-handle=3124 /prefetch:1",
     IMAGE_CHROME, CHROME_CMD, CHROME_DIR, ACCOUNT_PRIMARY, "Low", 14},
    {IMAGE_CHROME,
     CHROME_CMD "--type=utility --utility-sub-type=network.mojom.NetworkService --field-trial-handle=1680,"
                "4123467285716335482,13251744983212387543,131072 --lang=en-US --service-sandbox-type=network "
                "--mojo-platform-channel-handle=2044 /prefetch:8",
     IMAGE_CHROME, CHROME_CMD, CHROME_DIR, ACCOUNT_PRIMARY, "Medium", 2},
    {IMAGE_OUTLOOK, "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" ", IMAGE_EXPLORER,
     EXPLORER_CMD, "C:\\Program Files\\Microsoft Office\\root\\Office16\\", ACCOUNT_PRIMARY, "Medium", 2},
    {IMAGE_WINWORD,
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n \"\\\\DC01\\shares\\Finance\\Q1 forecast (draft).docx\" /o \"\"",
     IMAGE_EXPLORER, EXPLORER_CMD, "C:\\Program Files\\Microsoft Office\\root\\Office16\\", ACCOUNT_PRIMARY, "Medium", 2},
    {IMAGE_ONEDRIVE, "\"C:\\Users\\Public\\OneDrive\\OneDrive.exe\" /background", IMAGE_EXPLORER, EXPLORER_CMD,
     SYSTEM32_DIR, ACCOUNT_PRIMARY, "Medium", 1},
    {IMAGE_SEARCH_PROTOCOL,
     "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe5_ Global\\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" \"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" ",
     IMAGE_SEARCH_INDEXER, "C:\\Windows\\system32\\SearchIndexer.exe /Embedding", SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 3},
    {IMAGE_BACKGROUND_TASK,
     "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:App.AppXmtcan0h2tfbfy7k9kn8hbxb6dmzz1zh0.mca",
     IMAGE_SVCHOST, SVCHOST_DCOM, SYSTEM32_DIR, ACCOUNT_PRIMARY, "Low", 2},
    {IMAGE_TASKHOSTW, "taskhostw.exe", IMAGE_SVCHOST, SVCHOST_NETSVCS, SYSTEM32_DIR, ACCOUNT_PRIMARY, "Medium", 3},
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup -s WpnUserService", IMAGE_SERVICES,
     SERVICES_CMD, SYSTEM32_DIR, ACCOUNT_PRIMARY, "Medium", 1},
    {IMAGE_WUAUCLT, "\"C:\\Windows\\system32\\wuauclt.exe\" /RunHandlerComServer", IMAGE_SVCHOST, SVCHOST_NETSVCS,
     SYSTEM32_DIR, ACCOUNT_SYSTEM, "System", 1},
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* Picks an index from a table of structs by their `weight` member: the
 * caller passes the address of the first weight and the struct size, so one
 * function serves every table without GNU extensions. */
static size_t pick_by_weight(struct random_state *random, const unsigned *first_weight, size_t stride, size_t count)
{
    unsigned total = 0;
    for (size_t i = 0; i < count; i++)
        total += *(const unsigned *)((const char *)first_weight + i * stride);
    unsigned roll = random_below(random, total);
    for (size_t i = 0; i < count; i++) {
        unsigned weight = *(const unsigned *)((const char *)first_weight + i * stride);
        if (roll < weight)
            return i;
        roll -= weight;
    }
    return count - 1;
}

#define PICK_WEIGHTED(random, table) pick_by_weight((random), &(table)[0].weight, sizeof((table)[0]), COUNT_OF(table))

/* ---- Sysmon activity tables ----------------------------------------------
 * The acting process of each row is a long-running one, identified by its
 * command line so its PID and ProcessGuid stay the same across the log. */

/* Destination "@peer" means the other Exchange server (or the DC). */
struct network_template {
    enum image_id image;
    const char *command_line;
    unsigned user;
    const char *protocol;
    const char *destination_ip;
    const char *destination_hostname;
    unsigned destination_port;
    const char *destination_port_name;
    unsigned weight;
};

#define W3WP_SERVICES_CMD W3WP_CMD("MSExchangeServicesAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "c3f8a05b-94e2-4d17-b6c9-2e8a1f7d3b60")
#define W3WP_OWA_CMD W3WP_CMD("MSExchangeOWAAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "5b3e81c4-2a8f-4e0c-9d5b-6e0f4a1c7d22")
#define W3WP_ECP_CMD W3WP_CMD("MSExchangeECPAppPool", "GenericAppPoolConfigWithGCServerEnabledFalse.config", "0e6c2b9d-71a4-4f53-8d0a-3b5e9c2f1a77")
#define W3WP_POWERSHELL_CMD W3WP_CMD("MSExchangePowerShellAppPool", "PowerShellAppPool.config", "4d7b2e90-1f35-4a8c-9e62-b0c5d8a3f214")
#define TRANSPORT_CMD "\"" EXCHANGE_BIN "MSExchangeTransport.exe\""
#define HM_WORKER_CMD "\"" EXCHANGE_BIN "MSExchangeHMWorker.exe\""
#define SERVICE_HOST_CMD "\"" EXCHANGE_BIN "Microsoft.Exchange.ServiceHost.exe\""
#define MAILBOX_REPLICATION_CMD "\"" EXCHANGE_BIN "MSExchangeMailboxReplication.exe\""
#define ONEDRIVE_CMD "\"C:\\Users\\Public\\OneDrive\\OneDrive.exe\" /background"
#define OUTLOOK_CMD "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" "
#define SVCHOST_NETWORK_CMD "C:\\Windows\\system32\\svchost.exe -k NetworkService -p"

static const struct network_template exchange_connections[] = {
    {IMAGE_W3WP, W3WP_SERVICES_CMD, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 3268, "msft-gc", 4},
    {IMAGE_W3WP, W3WP_OWA_CMD, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 389, "ldap", 3},
    {IMAGE_W3WP, W3WP_SERVICES_CMD, ACCOUNT_SYSTEM, "tcp", "@peer", "@peer", 444, "snagas", 3},
    {IMAGE_SERVICE_HOST, SERVICE_HOST_CMD, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 389, "ldap", 3},
    {IMAGE_TRANSPORT, TRANSPORT_CMD, ACCOUNT_NETWORK_SERVICE, "tcp", "@peer", "@peer", 2525, "-", 3},
    {IMAGE_HM_WORKER, HM_WORKER_CMD, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 88, "kerberos", 2},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 135, "epmap", 1},
};

static const struct network_template domain_controller_connections[] = {
    {IMAGE_DNS, "C:\\Windows\\system32\\dns.exe", ACCOUNT_SYSTEM, "udp", "8.8.8.8", "dns.google", 53, "domain", 4},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "tcp", "13.107.4.50", "-", 80, "http", 1},
    {IMAGE_SVCHOST, SVCHOST_NETWORK_CMD, ACCOUNT_NETWORK_SERVICE, "tcp", "@peer", "@peer", 135, "epmap", 1},
};

static const struct network_template workstation_connections[] = {
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "tcp", "142.250.185.68", "fra16s48-in-f4.1e100.net", 443, "https", 6},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "tcp", "151.101.1.140", "-", 443, "https", 3},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "tcp", "13.107.21.200", "-", 443, "https", 2},
    {IMAGE_OUTLOOK, OUTLOOK_CMD, ACCOUNT_PRIMARY, "tcp", "10.0.1.21", "EXCH01." DOMAIN_DNS, 443, "https", 3},
    {IMAGE_OUTLOOK, OUTLOOK_CMD, ACCOUNT_PRIMARY, "tcp", "10.0.1.22", "EXCH02." DOMAIN_DNS, 443, "https", 2},
    {IMAGE_ONEDRIVE, ONEDRIVE_CMD, ACCOUNT_PRIMARY, "tcp", "13.107.42.12", "-", 443, "https", 1},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "tcp", "10.0.1.10", "DC01." DOMAIN_DNS, 389, "ldap", 1},
};

/* Query "@peer" resolves to the other Exchange server. */
struct dns_template {
    enum image_id image;
    const char *command_line;
    unsigned user;
    const char *query_name;
    const char *query_results;
    unsigned weight;
};

static const struct dns_template exchange_queries[] = {
    {IMAGE_W3WP, W3WP_SERVICES_CMD, ACCOUNT_SYSTEM, "DC01." DOMAIN_DNS, "::ffff:10.0.1.10;", 4},
    {IMAGE_TRANSPORT, TRANSPORT_CMD, ACCOUNT_NETWORK_SERVICE, "@peer", "@peer", 3},
    {IMAGE_SERVICE_HOST, SERVICE_HOST_CMD, ACCOUNT_SYSTEM, DOMAIN_DNS, "::ffff:10.0.1.10;", 2},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "ctldl.windowsupdate.com",
     "type:  5 ctldl.windowsupdate.com.edgesuite.net;type:  5 a767.dspw65.akamai.net;::ffff:23.54.112.160;::ffff:23.54.112.171;", 1},
};

static const struct dns_template domain_controller_queries[] = {
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "time.windows.com", "type:  5 twc.trafficmanager.net;::ffff:52.231.114.183;", 1},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "v10.events.data.microsoft.com",
     "type:  5 global.asimov.events.data.trafficmanager.net;type:  5 onedscolprdwus03.westus.cloudapp.azure.com;::ffff:20.189.173.1;", 1},
    {IMAGE_SVCHOST, SVCHOST_NETWORK_CMD, ACCOUNT_NETWORK_SERVICE, "@peer", "@peer", 2},
};

static const struct dns_template workstation_queries[] = {
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "www.google.com", "::ffff:142.250.185.68;", 5},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "fonts.gstatic.com", "type:  5 gstaticadssl.l.google.com;::ffff:142.250.186.35;", 2},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "www.bbc.co.uk",
     "type:  5 www.bbc.co.uk.pri.bbc.co.uk;type:  5 uk.www.bbc.co.uk.pri.bbc.co.uk;::ffff:151.101.0.81;::ffff:151.101.64.81;", 2},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "login.microsoftonline.com",
     "type:  5 login.mso.msidentity.com;type:  5 ak.privatelink.msidentity.com;type:  5 www.tm.ak.prd.aadg.trafficmanager.net;::ffff:20.190.160.131;", 1},
    {IMAGE_OUTLOOK, OUTLOOK_CMD, ACCOUNT_PRIMARY, "mail." DOMAIN_DNS, "type:  5 EXCH01." DOMAIN_DNS ";::ffff:10.0.1.21;", 3},
    {IMAGE_OUTLOOK, OUTLOOK_CMD, ACCOUNT_PRIMARY, "autodiscover." DOMAIN_DNS, "type:  5 EXCH02." DOMAIN_DNS ";::ffff:10.0.1.22;", 1},
    {IMAGE_ONEDRIVE, ONEDRIVE_CMD, ACCOUNT_PRIMARY, "g.live.com", "type:  5 g.msn.com;::ffff:13.107.42.14;", 1},
};

/* Path patterns: {user} the host's primary user, {date} yyyymmddhh of the
 * clock, {n} a small number, {hex} eight random hex digits. */
struct file_template {
    enum image_id image;
    const char *command_line;
    unsigned user;
    const char *path_pattern;
    unsigned weight;
};

static const struct file_template exchange_files[] = {
    {IMAGE_W3WP, W3WP_OWA_CMD, ACCOUNT_SYSTEM, EXCHANGE_ROOT "Logging\\HttpProxy\\Owa\\HttpProxy_{date}-{n}.LOG", 4},
    {IMAGE_W3WP, W3WP_ECP_CMD, ACCOUNT_SYSTEM, EXCHANGE_ROOT "Logging\\HttpProxy\\Ecp\\HttpProxy_{date}-{n}.LOG", 2},
    {IMAGE_W3WP, W3WP_OWA_CMD, ACCOUNT_SYSTEM,
     "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\owa\\e22c2559\\92c7e946\\App_Web_{hex}.dll", 1},
    {IMAGE_HM_WORKER, HM_WORKER_CMD, ACCOUNT_SYSTEM,
     EXCHANGE_ROOT "Logging\\Monitoring\\Monitoring\\MSExchangeHMWorker\\ActiveMonitoringTraceLogs\\ActiveMonitoringTraceLogs_{date}-{n}.etl", 3},
    {IMAGE_TRANSPORT, TRANSPORT_CMD, ACCOUNT_NETWORK_SERVICE,
     EXCHANGE_ROOT "TransportRoles\\Logs\\MessageTracking\\MSGTRK{date}-{n}.LOG", 2},
};

static const struct file_template domain_controller_files[] = {
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM,
     "C:\\Windows\\System32\\GroupPolicy\\DataStore\\0\\sysvol\\" DOMAIN_DNS "\\Policies\\{31B2F340-016D-11D2-945F-00C04FB984F9}\\Machine\\Registry.pol", 1},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM, "C:\\Windows\\Temp\\{hex}.tmp", 1},
};

static const struct file_template workstation_files[] = {
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "C:\\Users\\{user}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\f_{hex}", 5},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "C:\\Users\\{user}\\Downloads\\Invoice-2021-{n}.pdf", 1},
    {IMAGE_OUTLOOK, OUTLOOK_CMD, ACCOUNT_PRIMARY,
     "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q7ZK3M1P\\Report {n}.xlsx", 2},
    {IMAGE_ONEDRIVE, ONEDRIVE_CMD, ACCOUNT_PRIMARY,
     "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\logs\\Business1\\SyncEngine-{date}.odl", 1},
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain", ACCOUNT_SYSTEM,
     "C:\\Windows\\Prefetch\\CHROME.EXE-{hex}.pf", 2},
};

/* Key patterns: {sid} the primary user's SID. */
struct registry_template {
    enum image_id image;
    const char *command_line;
    unsigned user;
    const char *key_pattern;
    const char *details;
    unsigned weight;
};

static const struct registry_template server_registry[] = {
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM,
     "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\Results\\Detect\\LastSuccessTime",
     "2021-03-05 06:14:37", 1},
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k LocalService -p -s W32Time", ACCOUNT_LOCAL_SERVICE,
     "HKLM\\System\\CurrentControlSet\\Services\\W32Time\\Config\\LastKnownGoodTime", "QWORD (0x01d71351-0x7fa3c520)", 2},
    {IMAGE_SVCHOST, SVCHOST_NETSVCS, ACCOUNT_SYSTEM,
     "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan\\Index",
     "DWORD (0x00000003)", 1},
};

static const struct registry_template workstation_registry[] = {
    {IMAGE_EXPLORER, EXPLORER_CMD, ACCOUNT_PRIMARY,
     "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx\\{n}", "Binary Data", 2},
    {IMAGE_SVCHOST, "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p -s bam", ACCOUNT_SYSTEM,
     "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{sid}\\\\Device\\HarddiskVolume2\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "Binary Data", 3},
    {IMAGE_CHROME, CHROME_CMD, ACCOUNT_PRIMARY, "HKU\\{sid}\\Software\\Google\\Chrome\\BLBeacon\\state", "DWORD (0x00000001)", 1},
};

struct service {
    const char *display_name;
    const char *key_name;
};

static const struct service common_services[] = {
    {"Windows Update", "wuauserv"},
    {"Windows Modules Installer", "TrustedInstaller"},
    {"Background Intelligent Transfer Service", "BITS"},
    {"WinHTTP Web Proxy Auto-Discovery Service", "WinHttpAutoProxySvc"},
    {"Device Setup Manager", "DsmSvc"},
    {"Windows Error Reporting Service", "WerSvc"},
};

static const struct service exchange_services[] = {
    {"Microsoft Exchange Notifications Broker", "MSExchangeNotificationsBroker"},
    {"Microsoft Exchange Health Manager Recovery", "MSExchangeHMRecovery"},
};

/* ---- Helpers shared by the activities ------------------------------------ */

/* A version-4 GUID, as PowerShell uses for ScriptBlockId. */
static struct guid_text random_guid(struct generator *generator)
{
    struct random_state *random = &generator->random;
    uint32_t first = (uint32_t)random_next(random);
    uint16_t second = (uint16_t)random_next(random);
    uint16_t third = (uint16_t)(0x4000 | (random_next(random) & 0x0FFF));
    uint16_t fourth = (uint16_t)(0x8000 | (random_next(random) & 0x3FFF));
    return make_guid(first, second, third, fourth, random_next(random));
}

static enum account_id resolve_user(enum host_id host, unsigned user)
{
    return user == ACCOUNT_PRIMARY ? hosts[host].primary_user : (enum account_id)user;
}

static uint64_t session_logon_id(struct generator *generator, enum host_id host, enum account_id account)
{
    if (accounts[account].fixed_logon_id)
        return accounts[account].fixed_logon_id;
    if (!generator->desktop_logon_id[host])
        generator->desktop_logon_id[host] = new_logon_id(generator);
    return generator->desktop_logon_id[host];
}

static enum host_id peer_of(enum host_id host)
{
    if (host == HOST_EXCH01)
        return HOST_EXCH02;
    if (host == HOST_EXCH02)
        return HOST_EXCH01;
    return host == HOST_DC01 ? HOST_EXCH01 : HOST_DC01;
}

static struct actor long_running_actor(enum host_id host, enum image_id image, const char *command_line,
                                       enum account_id user)
{
    return (struct actor){images[image].path, stable_process_id(host, command_line),
                          stable_process_guid(host, command_line), user};
}

static struct process_event process_from_template(struct generator *generator, enum host_id host,
                                                  const struct process_template *template)
{
    /* Random draws before the initializer: its expressions are evaluated in
     * no specified order. */
    enum account_id user = resolve_user(host, template->user);
    unsigned process_id = new_process_id(generator);
    struct guid_text guid = process_guid(generator, host, generator->clock);
    uint64_t logon_id = session_logon_id(generator, host, user);
    struct process_event process = {
        .image = &images[template->image],
        .command_line = template->command_line,
        .current_directory = template->current_directory,
        .process_id = process_id,
        .process_guid = guid,
        .user = user,
        .logon_id = logon_id,
        .integrity_level = template->integrity_level,
        .terminal_session = accounts[user].fixed_logon_id ? 0 : 1,
        .parent_image = &images[template->parent_image],
        .parent_command_line = template->parent_command_line,
        .parent_process_id = stable_process_id(host, template->parent_command_line),
        .parent_process_guid = stable_process_guid(host, template->parent_command_line),
    };
    return process;
}

/* Both audit sources see every process start: Sysmon first, 4688 a few
 * milliseconds later. */
static void write_process_start(struct generator *generator, enum host_id host, const struct process_event *process)
{
    if (generator->sysmon_deployed) {
        write_sysmon_process_create(generator, host, process);
        tick(generator, 4000);
    }
    write_security_process_create(generator, host, process);
}

/* Expands a {user}/{sid}/{date}/{n}/{hex} pattern into generator->compose. */
static const char *expand_pattern(struct generator *generator, enum host_id host, const char *pattern)
{
    struct text_buffer *out = &generator->compose;
    out->length = 0;
    const struct account *user = &accounts[hosts[host].primary_user];
    for (const char *p = pattern; *p;) {
        if (*p != '{' || (strncmp(p, "{user}", 6) && strncmp(p, "{sid}", 5) && strncmp(p, "{date}", 6) &&
                          strncmp(p, "{n}", 3) && strncmp(p, "{hex}", 5))) {
            append_char(out, *p++);
            continue;
        }
        if (strncmp(p, "{user}", 6) == 0) {
            append_text(out, user->name);
            p += 6;
        } else if (strncmp(p, "{sid}", 5) == 0) {
            append_text(out, user->sid);
            p += 5;
        } else if (strncmp(p, "{date}", 6) == 0) {
            struct utc_time t;
            utc_from_micros(generator->clock, &t);
            append_digits(out, (unsigned)t.year, 4);
            append_digits(out, (unsigned)t.month, 2);
            append_digits(out, (unsigned)t.day, 2);
            append_digits(out, (unsigned)t.hour, 2);
            p += 6;
        } else if (strncmp(p, "{n}", 3) == 0) {
            append_uint(out, random_between(&generator->random, 1, 40));
            p += 3;
        } else {
            append_hex(out, random_next(&generator->random), 8, true);
            p += 5;
        }
    }
    return buffer_c_string(out);
}

static void remember_logon(struct generator *generator, enum host_id host, const struct logon *logon)
{
    struct host_state *state = &generator->host_state[host];
    if (state->pending_count == PENDING_LOGONS_PER_HOST) {
        /* Full: the oldest session ends now, as it would have long ago. */
        struct pending_logon *oldest = &state->pending[state->pending_first];
        write_logoff(generator, host, oldest->target_sid, oldest->target_name, oldest->target_domain,
                     oldest->logon_id, oldest->logon_type);
        tick(generator, 2000);
        state->pending_first = (state->pending_first + 1) % PENDING_LOGONS_PER_HOST;
        state->pending_count--;
    }
    unsigned slot = (state->pending_first + state->pending_count) % PENDING_LOGONS_PER_HOST;
    state->pending[slot] = (struct pending_logon){logon->target_sid, logon->target_name, logon->target_domain,
                                                  logon->logon_id, logon->logon_type};
    state->pending_count++;
}

static const char *random_port_text(struct generator *generator)
{
    struct text_buffer *out = &generator->compose;
    out->length = 0;
    append_uint(out, random_between(&generator->random, 49152, 65535));
    return buffer_c_string(out);
}

/* ---- The activities --------------------------------------------------- */

static void activity_process_start(struct generator *generator, enum host_id host)
{
    const struct process_template *template;
    switch (hosts[host].role) {
    case ROLE_EXCHANGE:
        template = &exchange_processes[PICK_WEIGHTED(&generator->random, exchange_processes)];
        break;
    case ROLE_DOMAIN_CONTROLLER:
        template = &domain_controller_processes[PICK_WEIGHTED(&generator->random, domain_controller_processes)];
        break;
    default:
        template = &workstation_processes[PICK_WEIGHTED(&generator->random, workstation_processes)];
        break;
    }
    struct process_event process = process_from_template(generator, host, template);
    write_process_start(generator, host, &process);
}

/* 4624 type 3, and 4672 when the account holds admin rights.  Who connects
 * depends on the role: computers and users to the DC, Outlook users and the
 * health mailbox to Exchange. */
static void activity_network_logon(struct generator *generator, enum host_id host)
{
    struct random_state *random = &generator->random;
    enum host_id source = (enum host_id)random_below(random, HOST_COUNT);
    if (source == host)
        source = peer_of(host);
    uint64_t logon_id = new_logon_id(generator);
    const char *ip_port = random_port_text(generator);
    struct logon logon = {
        .logon_id = logon_id,
        .logon_type = 3,
        .logon_process = "Kerberos",
        .authentication_package = "Kerberos",
        .workstation = "-",
        .ip_address = hosts[source].ip,
        .ip_port = ip_port,
        .process_name = "-",
        .process_id = 0,
    };
    bool machine = false;
    enum account_id account = ACCOUNT_COUNT;
    uint32_t roll = random_below(random, 100);
    if (hosts[host].role == ROLE_DOMAIN_CONTROLLER) {
        if (roll < 60)
            machine = true;
        else
            account = hosts[source].role == ROLE_WORKSTATION ? hosts[source].primary_user : ACCOUNT_SVC_BACKUP;
    } else if (hosts[host].role == ROLE_EXCHANGE) {
        if (roll < 45) {
            account = ACCOUNT_HEALTH_MAILBOX;
            logon.ip_address = hosts[host].ip;
        } else if (roll < 80) {
            source = (enum host_id)random_between(random, HOST_WS_ADM01, HOST_WS_EXEC01);
            account = hosts[source].primary_user;
            logon.ip_address = hosts[source].ip;
        } else {
            source = peer_of(host);
            machine = true;
            logon.ip_address = hosts[source].ip;
        }
    } else {
        account = hosts[host].primary_user;
        logon.ip_address = hosts[host].ip;
    }
    if (!machine && random_chance(random, 15)) {
        /* Some clients still fall back to NTLM. */
        logon.logon_process = "NtLmSsp ";
        logon.authentication_package = "NTLM";
        logon.workstation = hosts[source].short_name;
    }
    if (machine) {
        logon.target_sid = hosts[source].machine_sid;
        logon.target_name = hosts[source].machine_account;
        logon.target_domain = DOMAIN_NETBIOS;
    } else {
        logon.target_sid = accounts[account].sid;
        logon.target_name = accounts[account].name;
        logon.target_domain = DOMAIN_NETBIOS;
    }
    bool privileged = machine ? hosts[source].role != ROLE_WORKSTATION : accounts[account].privileged;
    logon.elevated = privileged;
    write_logon_success(generator, host, &logon);
    if (privileged) {
        tick(generator, 500);
        write_special_privileges(generator, host, logon.target_sid, logon.target_name, logon.target_domain,
                                 logon.logon_id);
    }
    remember_logon(generator, host, &logon);
}

static void activity_logoff(struct generator *generator, enum host_id host)
{
    struct host_state *state = &generator->host_state[host];
    if (state->pending_count == 0) {
        activity_network_logon(generator, host);
        return;
    }
    struct pending_logon *oldest = &state->pending[state->pending_first];
    write_logoff(generator, host, oldest->target_sid, oldest->target_name, oldest->target_domain, oldest->logon_id,
                 oldest->logon_type);
    state->pending_first = (state->pending_first + 1) % PENDING_LOGONS_PER_HOST;
    state->pending_count--;
}

/* services.exe starting a service as SYSTEM: 4624 type 5 then 4672. */
static void activity_service_logon(struct generator *generator, enum host_id host)
{
    struct logon logon = {
        .target_sid = accounts[ACCOUNT_SYSTEM].sid,
        .target_name = accounts[ACCOUNT_SYSTEM].name,
        .target_domain = accounts[ACCOUNT_SYSTEM].domain,
        .logon_id = 0x3e7,
        .logon_type = 5,
        .logon_process = "Advapi  ",
        .authentication_package = "Negotiate",
        .workstation = "-",
        .ip_address = "-",
        .ip_port = "-",
        .process_name = images[IMAGE_SERVICES].path,
        .process_id = hosts[host].services_pid,
        .elevated = true,
    };
    write_logon_success(generator, host, &logon);
    tick(generator, 300);
    write_special_privileges(generator, host, "S-1-5-18", "SYSTEM", "NT AUTHORITY", 0x3e7);
}

static struct logon interactive_logon(struct generator *generator, enum host_id host, enum account_id account,
                                      unsigned logon_type, const char *source_ip, const char *source_name)
{
    return (struct logon){
        .target_sid = accounts[account].sid,
        .target_name = accounts[account].name,
        .target_domain = DOMAIN_NETBIOS,
        .logon_id = new_logon_id(generator),
        .logon_type = logon_type,
        .logon_process = "User32 ",
        .authentication_package = "Negotiate",
        .workstation = source_name,
        .ip_address = source_ip,
        .ip_port = "0",
        .process_name = images[IMAGE_SVCHOST].path,
        .process_id = stable_process_id(host, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s UserManager"),
        .elevated = accounts[account].privileged,
    };
}

/* A user at the keyboard of their workstation, sometimes after a typo. */
static void activity_interactive_logon(struct generator *generator, enum host_id host)
{
    enum account_id account = hosts[host].primary_user;
    struct logon logon = interactive_logon(generator, host, account, 2, "127.0.0.1", hosts[host].short_name);
    write_logon_success(generator, host, &logon);
    if (accounts[account].privileged) {
        tick(generator, 500);
        write_special_privileges(generator, host, logon.target_sid, logon.target_name, logon.target_domain,
                                 logon.logon_id);
    }
    generator->desktop_logon_id[host] = logon.logon_id;
    remember_logon(generator, host, &logon);
}

static void activity_failed_logon(struct generator *generator, enum host_id host)
{
    struct random_state *random = &generator->random;
    if (hosts[host].role == ROLE_WORKSTATION) {
        struct logon logon = interactive_logon(generator, host, hosts[host].primary_user, 2, "127.0.0.1",
                                               hosts[host].short_name);
        write_logon_failure(generator, host, &logon);
        generator->clock += random_between(random, 3, 20) * MICROS_PER_SECOND;
        activity_interactive_logon(generator, host);
        return;
    }
    enum host_id source = (enum host_id)random_between(random, HOST_WS_ADM01, HOST_WS_EXEC01);
    struct logon logon = {
        .target_name = accounts[hosts[source].primary_user].name,
        .target_domain = DOMAIN_NETBIOS,
        .logon_type = 3,
        .logon_process = "NtLmSsp ",
        .authentication_package = "NTLM",
        .workstation = hosts[source].short_name,
        .ip_address = hosts[source].ip,
        .ip_port = random_port_text(generator),
        .process_name = "-",
    };
    write_logon_failure(generator, host, &logon);
}

static void activity_network_connection(struct generator *generator, enum host_id host)
{
    const struct network_template *template;
    switch (hosts[host].role) {
    case ROLE_EXCHANGE:
        template = &exchange_connections[PICK_WEIGHTED(&generator->random, exchange_connections)];
        break;
    case ROLE_DOMAIN_CONTROLLER:
        template = &domain_controller_connections[PICK_WEIGHTED(&generator->random, domain_controller_connections)];
        break;
    default:
        template = &workstation_connections[PICK_WEIGHTED(&generator->random, workstation_connections)];
        break;
    }
    enum host_id peer = peer_of(host);
    bool to_peer = strcmp(template->destination_ip, "@peer") == 0;
    struct actor actor = long_running_actor(host, template->image, template->command_line,
                                            resolve_user(host, template->user));
    struct connection connection = {
        .protocol = template->protocol,
        .source_ip = hosts[host].ip,
        .source_port = random_between(&generator->random, 49152, 65535),
        .source_hostname = hosts[host].fqdn,
        .destination_ip = to_peer ? hosts[peer].ip : template->destination_ip,
        .destination_hostname = to_peer ? hosts[peer].fqdn : template->destination_hostname,
        .destination_port = template->destination_port,
        .destination_port_name = template->destination_port_name,
    };
    write_sysmon_network_connect(generator, host, &actor, &connection);
}

static void activity_dns_query(struct generator *generator, enum host_id host)
{
    const struct dns_template *template;
    switch (hosts[host].role) {
    case ROLE_EXCHANGE:
        template = &exchange_queries[PICK_WEIGHTED(&generator->random, exchange_queries)];
        break;
    case ROLE_DOMAIN_CONTROLLER:
        template = &domain_controller_queries[PICK_WEIGHTED(&generator->random, domain_controller_queries)];
        break;
    default:
        template = &workstation_queries[PICK_WEIGHTED(&generator->random, workstation_queries)];
        break;
    }
    struct actor actor = long_running_actor(host, template->image, template->command_line,
                                            resolve_user(host, template->user));
    const char *query = template->query_name;
    const char *results = template->query_results;
    if (strcmp(query, "@peer") == 0) {
        enum host_id peer = peer_of(host);
        struct text_buffer *out = &generator->compose;
        out->length = 0;
        append_text(out, "::ffff:");
        append_text(out, hosts[peer].ip);
        append_char(out, ';');
        query = hosts[peer].fqdn;
        results = buffer_c_string(out);
    }
    write_sysmon_dns_query(generator, host, &actor, query, results);
}

static void activity_file_create(struct generator *generator, enum host_id host)
{
    const struct file_template *template;
    switch (hosts[host].role) {
    case ROLE_EXCHANGE:
        template = &exchange_files[PICK_WEIGHTED(&generator->random, exchange_files)];
        break;
    case ROLE_DOMAIN_CONTROLLER:
        template = &domain_controller_files[PICK_WEIGHTED(&generator->random, domain_controller_files)];
        break;
    default:
        template = &workstation_files[PICK_WEIGHTED(&generator->random, workstation_files)];
        break;
    }
    struct actor actor = long_running_actor(host, template->image, template->command_line,
                                            resolve_user(host, template->user));
    write_sysmon_file_create(generator, host, &actor, expand_pattern(generator, host, template->path_pattern));
}

static void activity_registry_set(struct generator *generator, enum host_id host)
{
    const struct registry_template *template;
    if (hosts[host].role == ROLE_WORKSTATION)
        template = &workstation_registry[PICK_WEIGHTED(&generator->random, workstation_registry)];
    else
        template = &server_registry[PICK_WEIGHTED(&generator->random, server_registry)];
    struct actor actor = long_running_actor(host, template->image, template->command_line,
                                            resolve_user(host, template->user));
    write_sysmon_registry_set(generator, host, &actor, expand_pattern(generator, host, template->key_pattern),
                              template->details);
}

static void activity_service_state(struct generator *generator, enum host_id host)
{
    struct random_state *random = &generator->random;
    const struct service *service = &common_services[random_below(random, COUNT_OF(common_services))];
    if (hosts[host].role == ROLE_EXCHANGE && random_chance(random, 30))
        service = &exchange_services[random_below(random, COUNT_OF(exchange_services))];
    write_service_state(generator, host, service->display_name, service->key_name, true);
    if (random_chance(random, 70)) {
        /* Demand-start services stop again once idle. */
        generator->clock += random_between(random, 20, 180) * MICROS_PER_SECOND;
        write_service_state(generator, host, service->display_name, service->key_name, false);
    }
}

/* Browser updaters install their services now and then: ordinary 7045s. */
static void activity_service_install(struct generator *generator, enum host_id host)
{
    if (random_chance(&generator->random, 50))
        write_service_installed(generator, host, "S-1-5-18", "Google Update Service (gupdate)",
                                "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /svc", "auto start",
                                "LocalSystem");
    else
        write_service_installed(generator, host, "S-1-5-18", "Microsoft Edge Update Service (edgeupdate)",
                                "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc",
                                "auto start", "LocalSystem");
}

/* IT's nightly inventory script, run as SYSTEM by a scheduled task. */
static void activity_inventory_script(struct generator *generator, enum host_id host)
{
    unsigned process_id = new_process_id(generator);
    struct guid_text guid = process_guid(generator, host, generator->clock);
    struct process_event process = {
        .image = &images[IMAGE_POWERSHELL],
        .command_line = "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\ProgramData\\corp\\inventory.ps1",
        .current_directory = SYSTEM32_DIR,
        .process_id = process_id,
        .process_guid = guid,
        .user = ACCOUNT_SYSTEM,
        .logon_id = 0x3e7,
        .integrity_level = "System",
        .parent_image = &images[IMAGE_SVCHOST],
        .parent_command_line = "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
        .parent_process_id = stable_process_id(host, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
        .parent_process_guid = stable_process_guid(host, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
    };
    write_process_start(generator, host, &process);
    generator->clock += random_between(&generator->random, 400, 1500) * 1000;
    struct script_block block = {
        .text = "# Nightly hardware and software inventory for the IT asset database.\r\n"
                "$os = Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version, LastBootUpTime\r\n"
                "$apps = Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' |\r\n"
                "\tSelect-Object DisplayName, DisplayVersion, Publisher\r\n"
                "[pscustomobject]@{ Host = $env:COMPUTERNAME; OS = $os; Apps = $apps } |\r\n"
                "\tConvertTo-Json -Depth 3 | Set-Content \"\\\\DC01\\inventory$\\$($env:COMPUTERNAME).json\"",
        .path = "C:\\ProgramData\\corp\\inventory.ps1",
        .message_number = 1,
        .message_total = 1,
        .id = random_guid(generator),
        .powershell_pid = process.process_id,
        .user = ACCOUNT_SYSTEM,
    };
    write_script_block(generator, host, &block);
}

/* ---- Administrators at work --------------------------------------------- */

/* What exadmin types into the Exchange Management Shell, and how the cmdlet
 * audit log records it. */
struct admin_command {
    const char *script;
    const char *cmdlet;
    const char *parameters;
    const char *modified_object;
};

static const struct admin_command exchange_admin_commands[] = {
    {"Get-Mailbox -ResultSize Unlimited | Select-Object Name, PrimarySmtpAddress, Database | Sort-Object Name",
     "Get-Mailbox", "-ResultSize \"Unlimited\"", ""},
    {"Get-Mailbox -Identity ceo | Format-List Name, ForwardingSmtpAddress, LitigationHoldEnabled", "Get-Mailbox",
     "-Identity \"ceo\"", ""},
    {"Get-MailboxDatabaseCopyStatus *", "Get-MailboxDatabaseCopyStatus", "-Identity \"*\"", ""},
    {"Get-Queue | Where-Object { $_.MessageCount -gt 10 }", "Get-Queue", "", ""},
    {"Get-MessageTrackingLog -Sender alice.m@corp.local -ResultSize 1000 | Select-Object Timestamp, Recipients, MessageSubject",
     "Get-MessageTrackingLog", "-Sender \"alice.m@corp.local\" -ResultSize \"1000\"", ""},
    {"Set-Mailbox -Identity bob.k -ProhibitSendQuota 9GB -ProhibitSendReceiveQuota 10GB", "Set-Mailbox",
     "-Identity \"bob.k\" -ProhibitSendQuota \"9GB\" -ProhibitSendReceiveQuota \"10GB\"", DOMAIN_DNS "/Users/bob.k"},
    {"Get-ExchangeServer | Format-List Name, AdminDisplayVersion, ServerRole", "Get-ExchangeServer", "", ""},
    {"Get-MailboxStatistics -Identity carol.d | Select-Object DisplayName, TotalItemSize, ItemCount",
     "Get-MailboxStatistics", "-Identity \"carol.d\"", ""},
};

static const char *elapsed_text(struct generator *generator)
{
    struct text_buffer *out = &generator->compose;
    out->length = 0;
    APPEND_LITERAL(out, "00:00:00.");
    append_digits(out, random_between(&generator->random, 150000, 9999999), 7);
    return buffer_c_string(out);
}

/* An RDP session from the admin workstation: 4624 type 10 and 4672, then the
 * tool of the trade (Exchange Management Shell, or ADUC and PowerShell on the
 * DC) and a few commands.  The logoff comes later from the pending ring. */
static void activity_admin_session(struct generator *generator, enum host_id host)
{
    struct random_state *random = &generator->random;
    bool exchange = hosts[host].role == ROLE_EXCHANGE;
    enum account_id admin = exchange ? ACCOUNT_EXADMIN : ACCOUNT_ADMINISTRATOR;
    struct logon logon = interactive_logon(generator, host, admin, 10, hosts[HOST_WS_ADM01].ip,
                                           hosts[HOST_WS_ADM01].short_name);
    write_logon_success(generator, host, &logon);
    tick(generator, 500);
    write_special_privileges(generator, host, logon.target_sid, logon.target_name, logon.target_domain,
                             logon.logon_id);
    remember_logon(generator, host, &logon);
    generator->clock += random_between(random, 5, 40) * MICROS_PER_SECOND;

    unsigned shell_process_id = new_process_id(generator);
    struct guid_text shell_guid = process_guid(generator, host, generator->clock);
    struct process_event shell = {
        .image = &images[IMAGE_POWERSHELL],
        .command_line = exchange ? EMS_CMD : "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" ",
        .current_directory = exchange ? "C:\\Users\\exadmin\\" : "C:\\Users\\Administrator\\",
        .process_id = shell_process_id,
        .process_guid = shell_guid,
        .user = admin,
        .logon_id = logon.logon_id,
        .integrity_level = "High",
        .terminal_session = 2,
        .parent_image = &images[IMAGE_EXPLORER],
        .parent_command_line = EXPLORER_CMD,
        .parent_process_id = stable_process_id(host, EXPLORER_CMD),
        .parent_process_guid = stable_process_guid(host, EXPLORER_CMD),
    };
    if (!exchange) {
        struct process_event console = shell;
        console.image = &images[IMAGE_MMC];
        console.command_line = "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\dsa.msc\" ";
        console.process_id = new_process_id(generator);
        write_process_start(generator, host, &console);
        generator->clock += random_between(random, 30, 600) * MICROS_PER_SECOND;
        shell.process_guid = process_guid(generator, host, generator->clock);
    }
    write_process_start(generator, host, &shell);
    generator->clock += random_between(random, 800, 2500) * 1000;

    struct script_block block = {
        .path = "",
        .message_number = 1,
        .message_total = 1,
        .powershell_pid = shell.process_id,
        .user = admin,
    };
    if (!exchange) {
        block.text = "Get-ADUser -Filter * -Properties LastLogonDate |\r\n"
                     "    Where-Object { $_.LastLogonDate -lt (Get-Date).AddDays(-90) } |\r\n"
                     "    Select-Object Name, SamAccountName, LastLogonDate";
        block.id = random_guid(generator);
        write_script_block(generator, host, &block);
        return;
    }

    /* The shell dot-sources RemoteExchange.ps1, long enough to be logged in
     * parts, then connects to the local server's PowerShell virtual directory. */
    static const char *const remote_exchange_parts[] = {
        "# Copyright (c) Microsoft Corporation. All rights reserved.\r\n"
        "# Exchange Management Shell initialization: sets up the remote session.\r\n"
        "$global:exbin = (get-itemproperty HKLM:\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup).MsiInstallPath + \"bin\\\"\r\n"
        "$global:exinstall = (get-itemproperty HKLM:\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup).MsiInstallPath\r\n"
        "$global:exscripts = (get-itemproperty HKLM:\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup).MsiInstallPath + \"scripts\\\"\r\n",
        "function get-exbanner\r\n{\r\n\tif(!$global:showbanner) { return }\r\n"
        "\twrite-host $RemoteExchange_LocalizedStrings.res_welcome_message\r\n}\r\n"
        "## now actually call the functions\r\nget-exbanner\r\nget-tip\r\n",
    };
    block.path = EXCHANGE_ROOT "bin\\RemoteExchange.ps1";
    block.message_total = (unsigned)COUNT_OF(remote_exchange_parts);
    block.id = random_guid(generator);
    for (unsigned part = 0; part < block.message_total; part++) {
        block.message_number = part + 1;
        block.text = remote_exchange_parts[part];
        write_script_block(generator, host, &block);
        tick(generator, 3000);
    }
    struct actor shell_actor = actor_from_process(&shell);
    struct connection connection = {
        .protocol = "tcp",
        .source_ip = hosts[host].ip,
        .source_port = random_between(random, 49152, 65535),
        .source_hostname = hosts[host].fqdn,
        .destination_ip = hosts[host].ip,
        .destination_hostname = hosts[host].fqdn,
        .destination_port = 80,
        .destination_port_name = "http",
    };
    if (generator->sysmon_deployed)
        write_sysmon_network_connect(generator, host, &shell_actor, &connection);

    unsigned commands = random_between(random, 1, 4);
    for (unsigned i = 0; i < commands; i++) {
        const struct admin_command *command =
            &exchange_admin_commands[random_below(random, COUNT_OF(exchange_admin_commands))];
        generator->clock += random_between(random, 8, 150) * MICROS_PER_SECOND;
        block.path = "";
        block.message_number = block.message_total = 1;
        block.text = command->script;
        block.id = random_guid(generator);
        write_script_block(generator, host, &block);
        tick(generator, 900000);
        struct exchange_cmdlet cmdlet = {
            .cmdlet = command->cmdlet,
            .parameters = command->parameters,
            .modified_object = command->modified_object,
            .caller = DOMAIN_DNS "/Users/exadmin",
            .caller_sid = accounts[ACCOUNT_EXADMIN].sid,
            .client = "Remote-PowerShell-Unknown",
            .process_id = stable_process_id(host, W3WP_POWERSHELL_CMD),
            .process_name = "w3wp#MSExchangePowerShellAppPool",
            .elapsed = elapsed_text(generator),
            .succeeded = true,
        };
        write_exchange_cmdlet(generator, host, &cmdlet);
    }
}

/* ======================================================================
 * The scheduler: which host does what, and when
 * ====================================================================== */

enum activity {
    ACTIVITY_PROCESS_START,
    ACTIVITY_NETWORK_LOGON,
    ACTIVITY_LOGOFF,
    ACTIVITY_SERVICE_LOGON,
    ACTIVITY_INTERACTIVE_LOGON,
    ACTIVITY_FAILED_LOGON,
    ACTIVITY_ADMIN_SESSION,
    ACTIVITY_NETWORK_CONNECTION,
    ACTIVITY_FILE_CREATE,
    ACTIVITY_REGISTRY_SET,
    ACTIVITY_DNS_QUERY,
    ACTIVITY_SERVICE_STATE,
    ACTIVITY_SERVICE_INSTALL,
    ACTIVITY_INVENTORY_SCRIPT,
    ACTIVITY_COUNT
};

/* Relative frequency of each activity per host role, in parts per thousand.
 * Logons and logoffs balance so that the pending ring stays shallow. */
static const unsigned activity_weights[3][ACTIVITY_COUNT] = {
    [ROLE_DOMAIN_CONTROLLER] = {
        [ACTIVITY_PROCESS_START] = 50, [ACTIVITY_NETWORK_LOGON] = 220, [ACTIVITY_LOGOFF] = 210,
        [ACTIVITY_SERVICE_LOGON] = 30, [ACTIVITY_FAILED_LOGON] = 20, [ACTIVITY_ADMIN_SESSION] = 5,
        [ACTIVITY_NETWORK_CONNECTION] = 110, [ACTIVITY_FILE_CREATE] = 40, [ACTIVITY_REGISTRY_SET] = 50,
        [ACTIVITY_DNS_QUERY] = 120, [ACTIVITY_SERVICE_STATE] = 60, [ACTIVITY_INVENTORY_SCRIPT] = 2,
    },
    [ROLE_EXCHANGE] = {
        [ACTIVITY_PROCESS_START] = 85, [ACTIVITY_NETWORK_LOGON] = 140, [ACTIVITY_LOGOFF] = 135,
        [ACTIVITY_SERVICE_LOGON] = 30, [ACTIVITY_FAILED_LOGON] = 5, [ACTIVITY_ADMIN_SESSION] = 14,
        [ACTIVITY_NETWORK_CONNECTION] = 140, [ACTIVITY_FILE_CREATE] = 150, [ACTIVITY_REGISTRY_SET] = 50,
        [ACTIVITY_DNS_QUERY] = 130, [ACTIVITY_SERVICE_STATE] = 40, [ACTIVITY_INVENTORY_SCRIPT] = 2,
    },
    [ROLE_WORKSTATION] = {
        [ACTIVITY_PROCESS_START] = 150, [ACTIVITY_NETWORK_LOGON] = 20, [ACTIVITY_LOGOFF] = 40,
        [ACTIVITY_INTERACTIVE_LOGON] = 15, [ACTIVITY_FAILED_LOGON] = 8, [ACTIVITY_NETWORK_CONNECTION] = 170,
        [ACTIVITY_FILE_CREATE] = 130, [ACTIVITY_REGISTRY_SET] = 90, [ACTIVITY_DNS_QUERY] = 230,
        [ACTIVITY_SERVICE_STATE] = 20, [ACTIVITY_SERVICE_INSTALL] = 2, [ACTIVITY_INVENTORY_SCRIPT] = 4,
    },
};

/* The 2019 part of the case survives only as an archived Security log of
 * EXCH01, so only Security-producing activities run there. */
static const unsigned archived_security_weights[ACTIVITY_COUNT] = {
    [ACTIVITY_PROCESS_START] = 300, [ACTIVITY_NETWORK_LOGON] = 330, [ACTIVITY_LOGOFF] = 320,
    [ACTIVITY_SERVICE_LOGON] = 50,
};

static bool is_business_hours(int64_t micros)
{
    int weekday = weekday_from_micros(micros);
    int hour = hour_from_micros(micros);
    return weekday >= 1 && weekday <= 5 && hour >= 7 && hour < 19;
}

static enum host_id pick_host(struct generator *generator)
{
    /* Out of hours the workstations are mostly idle; servers keep humming. */
    bool office_open = is_business_hours(generator->clock);
    unsigned weights[HOST_COUNT];
    unsigned total = 0;
    for (unsigned host = 0; host < HOST_COUNT; host++) {
        weights[host] = hosts[host].activity_weight * 4;
        if (!office_open)
            weights[host] /= hosts[host].role == ROLE_WORKSTATION ? 8 : 2;
        total += weights[host];
    }
    unsigned roll = random_below(&generator->random, total);
    unsigned host = 0;
    while (roll >= weights[host])
        roll -= weights[host++];
    return (enum host_id)host;
}

static enum activity pick_activity(struct generator *generator, const unsigned weights[ACTIVITY_COUNT])
{
    unsigned total = 0;
    for (unsigned i = 0; i < ACTIVITY_COUNT; i++)
        total += weights[i];
    unsigned roll = random_below(&generator->random, total);
    unsigned activity = 0;
    while (roll >= weights[activity])
        roll -= weights[activity++];
    return (enum activity)activity;
}

/* One unit of ordinary activity on one host at the current clock. */
static void run_activity(struct generator *generator, enum host_id host, enum activity activity)
{
    if (!generator->sysmon_deployed &&
        (activity == ACTIVITY_NETWORK_CONNECTION || activity == ACTIVITY_FILE_CREATE ||
         activity == ACTIVITY_REGISTRY_SET || activity == ACTIVITY_DNS_QUERY))
        activity = ACTIVITY_PROCESS_START;
    switch (activity) {
    case ACTIVITY_PROCESS_START: activity_process_start(generator, host); break;
    case ACTIVITY_NETWORK_LOGON: activity_network_logon(generator, host); break;
    case ACTIVITY_LOGOFF: activity_logoff(generator, host); break;
    case ACTIVITY_SERVICE_LOGON: activity_service_logon(generator, host); break;
    case ACTIVITY_INTERACTIVE_LOGON: activity_interactive_logon(generator, host); break;
    case ACTIVITY_FAILED_LOGON: activity_failed_logon(generator, host); break;
    case ACTIVITY_ADMIN_SESSION: activity_admin_session(generator, host); break;
    case ACTIVITY_NETWORK_CONNECTION: activity_network_connection(generator, host); break;
    case ACTIVITY_FILE_CREATE: activity_file_create(generator, host); break;
    case ACTIVITY_REGISTRY_SET: activity_registry_set(generator, host); break;
    case ACTIVITY_DNS_QUERY: activity_dns_query(generator, host); break;
    case ACTIVITY_SERVICE_STATE: activity_service_state(generator, host); break;
    case ACTIVITY_SERVICE_INSTALL: activity_service_install(generator, host); break;
    case ACTIVITY_INVENTORY_SCRIPT: activity_inventory_script(generator, host); break;
    case ACTIVITY_COUNT: break;
    }
}

static void run_random_activity(struct generator *generator)
{
    enum host_id host = pick_host(generator);
    enum activity activity = pick_activity(generator, activity_weights[hosts[host].role]);
    /* People administer servers by day. */
    if (activity == ACTIVITY_ADMIN_SESSION && !is_business_hours(generator->clock))
        activity = ACTIVITY_PROCESS_START;
    run_activity(generator, host, activity);
}

static void generator_init(struct generator *generator, uint64_t seed, int64_t start)
{
    memset(generator, 0, sizeof *generator);
    generator->random.state = seed;
    generator->clock = start;
    generator->sysmon_deployed = true;
    for (unsigned host = 0; host < HOST_COUNT; host++) {
        struct host_state *state = &generator->host_state[host];
        /* Logs have been running for a while: record IDs start mid-range. */
        for (unsigned channel = 0; channel < CHANNEL_COUNT; channel++)
            state->last_record_id[channel] = 1000 + random_below(&generator->random, 900000);
        state->boot_seconds = (uint32_t)(start / MICROS_PER_SECOND) - random_between(&generator->random, 86400, 20 * 86400);
    }
}

/* ======================================================================
 * Mode 1: --size, the benchmark stream
 * ====================================================================== */

/* Writes ordinary events to `out` until at least target_bytes are written.
 * Returns 0, or 1 after reporting a write error. */
static int generate_stream(uint64_t seed, uint64_t target_bytes, FILE *out, const char *out_name)
{
    struct generator *generator = malloc(sizeof *generator);
    if (!generator) {
        fprintf(stderr, "gen_events: out of memory\n");
        return 1;
    }
    generator_init(generator, seed, micros_from_utc(2021, 3, 1, 0, 0, 0));
    buffer_init(&generator->stream, STREAM_BUFFER_BYTES);
    uint64_t written = 0;
    int status = 0;
    while (written + generator->stream.length < target_bytes) {
        /* A busy network: a few dozen events per second. */
        generator->clock += random_between(&generator->random, 1000, 60000);
        run_random_activity(generator);
        if (generator->stream.length >= FLUSH_THRESHOLD_BYTES) {
            if (fwrite(generator->stream.bytes, 1, generator->stream.length, out) != generator->stream.length) {
                status = 1;
                break;
            }
            written += generator->stream.length;
            generator->stream.length = 0;
        }
    }
    if (status == 0 && generator->stream.length &&
        fwrite(generator->stream.bytes, 1, generator->stream.length, out) != generator->stream.length)
        status = 1;
    if (status == 0 && fflush(out) != 0)
        status = 1;
    if (status)
        fprintf(stderr, "gen_events: writing %s: %s\n", out_name, strerror(errno));
    buffer_free(&generator->stream);
    buffer_free(&generator->scratch);
    buffer_free(&generator->compose);
    free(generator);
    return status;
}

/* ======================================================================
 * Mode 2: --case exchange, a long-dwell Exchange intrusion
 *
 * A web shell on EXCH01 runs one quiet command in April 2019 (only the
 * archived Security log remembers it), then in March 2021 the intruder comes
 * back: drops a second web shell, runs recon through China-Chopper style
 * cmd.exe wrappers, dumps LSASS with comsvcs.dll, exports the CEO's mailbox
 * through the Exchange snap-in and stages it with 7-Zip.
 *
 * Each row of intruder_traces becomes exactly one line; the README table is
 * built from what was actually written (time, file, EventRecordID).  The
 * cmd.exe wrappers of the later commands are not logged as processes of
 * their own: they appear as ParentCommandLine only.
 * ====================================================================== */

#define ASPNET_CLIENT "C:\\inetpub\\wwwroot\\aspnet_client"
#define CHOPPER(command) "cmd /c cd /d \"" ASPNET_CLIENT "\"&" command "&echo [S]&cd&echo [E]"
#define CHOPPER_WHOAMI CHOPPER("whoami")
#define CHOPPER_NET_GROUP CHOPPER("net group \"Exchange Trusted Subsystem\" /domain")
#define LSASS_DUMP_CMD "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\ProgramData\\lsass.dmp full"
#define EXPORT_SCRIPT                                                                                          \
    "Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn; "                                          \
    "New-ManagementRoleAssignment -Role 'Mailbox Import Export' -User svc_backup; "                           \
    "New-MailboxExportRequest -Mailbox ceo -FilePath '\\\\EXCH01\\c$\\inetpub\\wwwroot\\aspnet_client\\ceo.pst'; " \
    "Start-Sleep -Seconds 900; Get-MailboxExportRequest | Remove-MailboxExportRequest -Confirm:$false"
#define EXPORT_POWERSHELL_CMD "powershell.exe -nop -c \"" EXPORT_SCRIPT "\""
#define STAGING_CMD "7z.exe a -pP@ss C:\\ProgramData\\out.7z C:\\ProgramData\\*.pst"
#define WEB_SHELL_PATH EXCHANGE_ROOT "FrontEnd\\HttpProxy\\owa\\auth\\RedirSuiteServerProxy.aspx"

enum trace_kind {
    TRACE_2019_CHOPPER_WHOAMI_SECURITY,
    TRACE_WEB_SHELL_DROPPED,
    TRACE_CHOPPER_WHOAMI_SYSMON,
    TRACE_CHOPPER_WHOAMI_SECURITY,
    TRACE_NET_GROUP_SYSMON,
    TRACE_NET_GROUP_SECURITY,
    TRACE_W3WP_OUTBOUND,
    TRACE_LSASS_DUMP_SYSMON,
    TRACE_LSASS_DUMP_SECURITY,
    TRACE_LSASS_DUMP_FILE,
    TRACE_EXPORT_POWERSHELL_SYSMON,
    TRACE_EXPORT_POWERSHELL_SECURITY,
    TRACE_EXPORT_SCRIPT_BLOCK,
    TRACE_ROLE_ASSIGNMENT,
    TRACE_MAILBOX_EXPORT,
    TRACE_PST_WRITTEN,
    TRACE_EXPORT_REQUEST_REMOVED,
    TRACE_STAGING_SYSMON,
    TRACE_STAGING_SECURITY,
    TRACE_ARCHIVE_WRITTEN,
    TRACE_KIND_COUNT
};

_Static_assert(TRACE_KIND_COUNT <= INTRUDER_TRACE_KINDS_MAX, "grow INTRUDER_TRACE_KINDS_MAX");

struct intruder_trace {
    int year, month, day, hour, minute, second, millisecond;
    enum trace_kind kind;
    const char *description; /* the README's "what it is" */
};

static const struct intruder_trace intruder_traces[] = {
    {2019, 4, 17, 3, 12, 44, 271, TRACE_2019_CHOPPER_WHOAMI_SECURITY,
     "first web-shell command, two years early: w3wp.exe (MSExchangeOWAAppPool) -> cmd.exe China-Chopper `whoami` wrapper"},
    {2021, 3, 3, 2, 41, 9, 518, TRACE_WEB_SHELL_DROPPED,
     "w3wp.exe (OWA) writes web shell `...\\FrontEnd\\HttpProxy\\owa\\auth\\RedirSuiteServerProxy.aspx`"},
    {2021, 3, 3, 2, 43, 30, 112, TRACE_CHOPPER_WHOAMI_SYSMON,
     "w3wp.exe (MSExchangeOWAAppPool) -> cmd.exe China-Chopper `whoami` wrapper"},
    {2021, 3, 3, 2, 43, 30, 115, TRACE_CHOPPER_WHOAMI_SECURITY, "same cmd.exe `whoami` wrapper, as 4688"},
    {2021, 3, 3, 2, 47, 12, 640, TRACE_NET_GROUP_SYSMON,
     "w3wp.exe (MSExchangeECPAppPool) -> cmd.exe wrapper running `net group \"Exchange Trusted Subsystem\" /domain`"},
    {2021, 3, 3, 2, 47, 12, 643, TRACE_NET_GROUP_SECURITY, "same `net group` wrapper, as 4688"},
    {2021, 3, 3, 2, 52, 40, 27, TRACE_W3WP_OUTBOUND, "w3wp.exe (OWA) connects out to 104.248.49.97:80 (external)"},
    {2021, 3, 4, 1, 15, 3, 310, TRACE_LSASS_DUMP_SYSMON,
     "LSASS dump: `rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\ProgramData\\lsass.dmp full`"},
    {2021, 3, 4, 1, 15, 3, 313, TRACE_LSASS_DUMP_SECURITY, "same LSASS dump, as 4688"},
    {2021, 3, 4, 1, 15, 4, 902, TRACE_LSASS_DUMP_FILE, "rundll32.exe writes `C:\\ProgramData\\lsass.dmp`"},
    {2021, 3, 5, 3, 19, 58, 441, TRACE_EXPORT_POWERSHELL_SYSMON,
     "powershell.exe (child of the web-shell cmd.exe) loads the Exchange snap-in to export a mailbox"},
    {2021, 3, 5, 3, 19, 58, 444, TRACE_EXPORT_POWERSHELL_SECURITY, "same powershell.exe, as 4688"},
    {2021, 3, 5, 3, 19, 59, 730, TRACE_EXPORT_SCRIPT_BLOCK,
     "script block: Add-PSSnapin, New-ManagementRoleAssignment, New-MailboxExportRequest, Remove-MailboxExportRequest"},
    {2021, 3, 5, 3, 20, 1, 206, TRACE_ROLE_ASSIGNMENT,
     "cmdlet `New-ManagementRoleAssignment -Role \"Mailbox Import Export\" -User svc_backup` as NT AUTHORITY\\SYSTEM"},
    {2021, 3, 5, 3, 20, 2, 918, TRACE_MAILBOX_EXPORT,
     "cmdlet `New-MailboxExportRequest -Mailbox ceo -FilePath \\\\EXCH01\\c$\\inetpub\\wwwroot\\aspnet_client\\ceo.pst`"},
    {2021, 3, 5, 3, 27, 45, 0, TRACE_PST_WRITTEN,
     "MSExchangeMailboxReplication.exe writes `C:\\inetpub\\wwwroot\\aspnet_client\\ceo.pst`"},
    {2021, 3, 5, 3, 35, 3, 77, TRACE_EXPORT_REQUEST_REMOVED, "cmdlet `Remove-MailboxExportRequest` (covering tracks)"},
    {2021, 3, 6, 2, 5, 17, 650, TRACE_STAGING_SYSMON,
     "staging: `7z.exe a -pP@ss C:\\ProgramData\\out.7z C:\\ProgramData\\*.pst` (child of the web-shell cmd.exe)"},
    {2021, 3, 6, 2, 5, 17, 653, TRACE_STAGING_SECURITY, "same 7z.exe, as 4688"},
    {2021, 3, 6, 2, 5, 31, 208, TRACE_ARCHIVE_WRITTEN, "7z.exe writes `C:\\ProgramData\\out.7z`"},
};

#define TRACE_COUNT COUNT_OF(intruder_traces)

static int64_t trace_time(const struct intruder_trace *trace)
{
    return micros_from_utc(trace->year, trace->month, trace->day, trace->hour, trace->minute, trace->second) +
           trace->millisecond * 1000ll;
}

/* A process the intruder starts on EXCH01: SYSTEM, like the app pools the
 * web shells live in. */
static struct process_event intruder_process(struct generator *generator, enum image_id image,
                                             const char *command_line, const char *current_directory,
                                             unsigned process_id, enum image_id parent_image,
                                             const char *parent_command_line, unsigned parent_process_id)
{
    uint32_t parent_start = (uint32_t)(generator->clock / MICROS_PER_SECOND) - 1;
    return (struct process_event){
        .image = &images[image],
        .command_line = command_line,
        .current_directory = current_directory,
        .process_id = process_id,
        .process_guid = process_guid(generator, HOST_EXCH01, generator->clock),
        .user = ACCOUNT_SYSTEM,
        .logon_id = 0x3e7,
        .integrity_level = "System",
        .terminal_session = 0,
        .parent_image = &images[parent_image],
        .parent_command_line = parent_command_line,
        .parent_process_id = parent_process_id,
        .parent_process_guid = image == IMAGE_CMD ? stable_process_guid(HOST_EXCH01, parent_command_line)
                                                  : make_guid(hosts[HOST_EXCH01].guid_prefix, (uint16_t)parent_start,
                                                              (uint16_t)(parent_start >> 16), 0x2C14,
                                                              0x1000u + (parent_process_id & 0xFFF)),
    };
}

/* The PID of the web-shell cmd.exe wrappers whose children we log. */
#define WRAPPER_CMD_PID 4420
#define EXPORT_POWERSHELL_PID 8964

static struct process_event trace_process(struct generator *generator, enum trace_kind kind)
{
    const enum host_id host = HOST_EXCH01;
    switch (kind) {
    case TRACE_2019_CHOPPER_WHOAMI_SECURITY:
        /* Two years earlier the app pool had another PID. */
        return intruder_process(generator, IMAGE_CMD, CHOPPER_WHOAMI, SYSTEM32_DIR, 9136, IMAGE_W3WP,
                                W3WP_OWA_CMD, 2216);
    case TRACE_CHOPPER_WHOAMI_SYSMON:
    case TRACE_CHOPPER_WHOAMI_SECURITY:
        return intruder_process(generator, IMAGE_CMD, CHOPPER_WHOAMI, SYSTEM32_DIR, 7716, IMAGE_W3WP, W3WP_OWA_CMD,
                                stable_process_id(host, W3WP_OWA_CMD));
    case TRACE_NET_GROUP_SYSMON:
    case TRACE_NET_GROUP_SECURITY:
        return intruder_process(generator, IMAGE_CMD, CHOPPER_NET_GROUP, SYSTEM32_DIR, 6032, IMAGE_W3WP,
                                W3WP_ECP_CMD, stable_process_id(host, W3WP_ECP_CMD));
    case TRACE_LSASS_DUMP_SYSMON:
    case TRACE_LSASS_DUMP_SECURITY:
        return intruder_process(generator, IMAGE_RUNDLL32, LSASS_DUMP_CMD, ASPNET_CLIENT "\\", 6248, IMAGE_CMD,
                                CHOPPER(LSASS_DUMP_CMD), WRAPPER_CMD_PID);
    case TRACE_EXPORT_POWERSHELL_SYSMON:
    case TRACE_EXPORT_POWERSHELL_SECURITY:
        return intruder_process(generator, IMAGE_POWERSHELL, EXPORT_POWERSHELL_CMD, ASPNET_CLIENT "\\",
                                EXPORT_POWERSHELL_PID, IMAGE_CMD, CHOPPER(EXPORT_POWERSHELL_CMD), WRAPPER_CMD_PID + 512);
    case TRACE_STAGING_SYSMON:
    case TRACE_STAGING_SECURITY:
    default:
        return intruder_process(generator, IMAGE_SEVENZIP, STAGING_CMD, "C:\\ProgramData\\", 5312, IMAGE_CMD,
                                CHOPPER("move ceo.pst C:\\ProgramData\\&cd /d C:\\ProgramData&" STAGING_CMD),
                                WRAPPER_CMD_PID + 760);
    }
}

static void write_intruder_cmdlet(struct generator *generator, const char *cmdlet_name, const char *parameters,
                                  const char *modified_object)
{
    struct exchange_cmdlet cmdlet = {
        .cmdlet = cmdlet_name,
        .parameters = parameters,
        .modified_object = modified_object,
        .caller = "NT AUTHORITY\\SYSTEM",
        .caller_sid = "S-1-5-18",
        .client = "Local-PowerShell",
        .process_id = EXPORT_POWERSHELL_PID,
        .process_name = "powershell",
        .elapsed = elapsed_text(generator),
        .succeeded = true,
    };
    write_exchange_cmdlet(generator, HOST_EXCH01, &cmdlet);
}

/* Writes the one line of `kind` at the current clock. */
static void write_intruder_trace(struct generator *generator, enum trace_kind kind)
{
    const enum host_id host = HOST_EXCH01;
    struct actor owa = long_running_actor(host, IMAGE_W3WP, W3WP_OWA_CMD, ACCOUNT_SYSTEM);
    switch (kind) {
    case TRACE_2019_CHOPPER_WHOAMI_SECURITY:
    case TRACE_CHOPPER_WHOAMI_SECURITY:
    case TRACE_NET_GROUP_SECURITY:
    case TRACE_LSASS_DUMP_SECURITY:
    case TRACE_EXPORT_POWERSHELL_SECURITY:
    case TRACE_STAGING_SECURITY: {
        struct process_event process = trace_process(generator, kind);
        write_security_process_create(generator, host, &process);
        break;
    }
    case TRACE_CHOPPER_WHOAMI_SYSMON:
    case TRACE_NET_GROUP_SYSMON:
    case TRACE_LSASS_DUMP_SYSMON:
    case TRACE_EXPORT_POWERSHELL_SYSMON:
    case TRACE_STAGING_SYSMON: {
        struct process_event process = trace_process(generator, kind);
        write_sysmon_process_create(generator, host, &process);
        generator->intruder_process_guids[kind] = process.process_guid;
        break;
    }
    case TRACE_WEB_SHELL_DROPPED:
        write_sysmon_file_create(generator, host, &owa, WEB_SHELL_PATH);
        break;
    case TRACE_W3WP_OUTBOUND: {
        struct connection connection = {"tcp", hosts[host].ip, 52814, hosts[host].fqdn, "104.248.49.97", "-", 80, "http"};
        write_sysmon_network_connect(generator, host, &owa, &connection);
        break;
    }
    case TRACE_LSASS_DUMP_FILE: {
        struct process_event process = trace_process(generator, TRACE_LSASS_DUMP_SYSMON);
        struct actor actor = actor_from_process(&process);
        actor.process_guid = generator->intruder_process_guids[TRACE_LSASS_DUMP_SYSMON];
        write_sysmon_file_create(generator, host, &actor, "C:\\ProgramData\\lsass.dmp");
        break;
    }
    case TRACE_EXPORT_SCRIPT_BLOCK: {
        struct script_block block = {
            .text = EXPORT_SCRIPT,
            .path = "",
            .message_number = 1,
            .message_total = 1,
            .id = make_guid(0x7C1E44D2u, 0x90AB, 0x4F31, 0xA8C6, 0x2D5E71B04F93ull),
            .powershell_pid = EXPORT_POWERSHELL_PID,
            .user = ACCOUNT_SYSTEM,
        };
        write_script_block(generator, host, &block);
        break;
    }
    case TRACE_ROLE_ASSIGNMENT:
        write_intruder_cmdlet(generator, "New-ManagementRoleAssignment", "-Role \"Mailbox Import Export\" -User \"svc_backup\"",
                              "Mailbox Import Export-svc_backup");
        break;
    case TRACE_MAILBOX_EXPORT:
        write_intruder_cmdlet(generator, "New-MailboxExportRequest",
                              "-Mailbox \"ceo\" -FilePath \"\\\\EXCH01\\c$\\inetpub\\wwwroot\\aspnet_client\\ceo.pst\"",
                              "ceo\\MailboxExport");
        break;
    case TRACE_PST_WRITTEN: {
        struct actor replication =
            long_running_actor(host, IMAGE_MAILBOX_REPLICATION, MAILBOX_REPLICATION_CMD, ACCOUNT_SYSTEM);
        write_sysmon_file_create(generator, host, &replication, ASPNET_CLIENT "\\ceo.pst");
        break;
    }
    case TRACE_EXPORT_REQUEST_REMOVED:
        write_intruder_cmdlet(generator, "Remove-MailboxExportRequest", "-Identity \"ceo\\MailboxExport\" -Confirm:$false",
                              "ceo\\MailboxExport");
        break;
    case TRACE_ARCHIVE_WRITTEN: {
        struct process_event process = trace_process(generator, TRACE_STAGING_SYSMON);
        struct actor actor = actor_from_process(&process);
        actor.process_guid = generator->intruder_process_guids[TRACE_STAGING_SYSMON];
        write_sysmon_file_create(generator, host, &actor, "C:\\ProgramData\\out.7z");
        break;
    }
    case TRACE_KIND_COUNT:
        break;
    }
}

/* ---- Running the case ----------------------------------------------------- */

/* Time to the next unit of activity: a few minutes by day, longer at night,
 * which gives about 4,000 events (under 4 MiB) over the three weeks. */
static int64_t case_gap(struct generator *generator)
{
    uint32_t mean_seconds = is_business_hours(generator->clock) ? 380 : 1040;
    int64_t seconds = random_between(&generator->random, 1, 2 * mean_seconds);
    int64_t fraction = random_below(&generator->random, 1000000);
    return seconds * MICROS_PER_SECOND + fraction;
}

/* Runs ordinary activity from the current clock until `end`, writing every
 * intruder trace that falls due at its scheduled time (or just after, if a
 * burst of activity overran it: the clock never goes back). */
static void run_case_period(struct generator *generator, int64_t end, bool archived_exch01_security,
                            size_t *next_trace, struct written_event written[TRACE_COUNT])
{
    for (;;) {
        int64_t next = generator->clock + case_gap(generator);
        while (*next_trace < TRACE_COUNT) {
            int64_t due = trace_time(&intruder_traces[*next_trace]);
            if (due > next || due >= end)
                break;
            generator->clock = due > generator->clock ? due : generator->clock + 1;
            write_intruder_trace(generator, intruder_traces[*next_trace].kind);
            written[*next_trace] = generator->last_written;
            ++*next_trace;
        }
        if (next >= end)
            return;
        if (next > generator->clock)
            generator->clock = next;
        if (archived_exch01_security)
            run_activity(generator, HOST_EXCH01, pick_activity(generator, archived_security_weights));
        else
            run_random_activity(generator);
    }
}

static size_t count_lines(const struct text_buffer *buffer)
{
    size_t lines = 0;
    for (const char *p = buffer->bytes; p && (p = memchr(p, '\n', (size_t)(buffer->bytes + buffer->length - p)));
         p++)
        lines++;
    return lines;
}

static void file_name_of(struct text_buffer *out, enum host_id host, enum channel_id channel)
{
    out->length = 0;
    append_text(out, hosts[host].short_name);
    append_char(out, '-');
    append_text(out, channels[channel].file_suffix);
    APPEND_LITERAL(out, ".jsonl");
    buffer_c_string(out);
}

static int write_whole_file(const char *directory, const char *name, const struct text_buffer *content)
{
    struct text_buffer path = {0};
    append_text(&path, directory);
    append_char(&path, '/');
    append_text(&path, name);
    FILE *file = fopen(buffer_c_string(&path), "wb");
    int status = 0;
    if (!file || fwrite(content->bytes, 1, content->length, file) != content->length)
        status = 1;
    if (file && fclose(file) != 0)
        status = 1;
    if (status)
        fprintf(stderr, "gen_events: writing %s: %s\n", path.bytes, strerror(errno));
    buffer_free(&path);
    return status;
}

/* "2021-03-03 02:43:30.112" for the README's tables. */
static void append_readable_time(struct text_buffer *out, int64_t micros)
{
    struct utc_time t;
    utc_from_micros(micros, &t);
    append_date_and_clock(out, &t, ' ');
    append_char(out, '.');
    append_digits(out, (unsigned)(t.microsecond / 1000), 3);
}

/* Markdown table cells may not contain '|'; none of ours do, and backticks
 * already quote the command lines. */
static void write_readme(struct generator *generator, const char *directory, uint64_t seed,
                         const struct written_event written[TRACE_COUNT], int *status)
{
    struct text_buffer readme = {0};
    struct text_buffer name = {0};
    APPEND_LITERAL(&readme,
        "# Example case: long-dwell Exchange intrusion (corp.local, March 2021)\n\n"
        "Synthetic Windows event logs, one JSON object per line in the shape `evtx_dump -o jsonl` writes.\n"
        "Generated, not collected: `bench/gen_events --case exchange --out examples/exchange-intrusion --seed ");
    append_uint(&readme, seed);
    APPEND_LITERAL(&readme,
        "`.\nThe output is deterministic for a seed; regenerate rather than edit by hand.\n\n"
        "## Scenario\n\n"
        "The incident responders collected the logs of every host for 1-21 March 2021, plus an archived\n"
        "Security log of EXCH01 from April 2019 (kept by the auto-backup policy of the time; Sysmon was\n"
        "rolled out in 2020, so 2019 has Security events only). An intruder planted an ASP.NET web shell\n"
        "on EXCH01 and used it once in April 2019 (a single `whoami`), then returned in March 2021: dropped a\n"
        "second web shell, ran reconnaissance, dumped LSASS, gave `svc_backup` the Mailbox Import Export\n"
        "role, exported the CEO's mailbox to a .pst in the web root, removed the export request and packed\n"
        "the .pst with 7-Zip. Every intruder command starts from an Exchange IIS worker (w3wp.exe), as SYSTEM.\n\n"
        "## Hosts\n\n"
        "| Host | Role | IP | Usual user |\n|---|---|---|---|\n");
    static const char *const role_names[] = {"domain controller", "Exchange 2016 (mailbox)", "workstation"};
    for (unsigned host = 0; host < HOST_COUNT; host++) {
        APPEND_LITERAL(&readme, "| ");
        append_text(&readme, hosts[host].fqdn);
        APPEND_LITERAL(&readme, " | ");
        append_text(&readme, role_names[hosts[host].role]);
        APPEND_LITERAL(&readme, " | ");
        append_text(&readme, hosts[host].ip);
        APPEND_LITERAL(&readme, " | ");
        append_text(&readme, accounts[hosts[host].primary_user].qualified_name);
        APPEND_LITERAL(&readme, " |\n");
    }
    APPEND_LITERAL(&readme,
        "\nDomain CORP (corp.local), domain SID `" DOMAIN_SID "`. Admins: `exadmin` (Exchange),\n"
        "`Administrator` (AD), both from WS-ADM01 over RDP.\n\n"
        "## Files\n\n"
        "One file per host and channel family. EventRecordID increases by one per line within a file;\n"
        "timestamps never decrease within a file.\n\n"
        "| File | Channel | Lines | First event (UTC) | Last event (UTC) |\n|---|---|---|---|---|\n");
    size_t total_lines = 0;
    for (unsigned host = 0; host < HOST_COUNT; host++) {
        for (unsigned channel = 0; channel < CHANNEL_COUNT; channel++) {
            const struct text_buffer *file = &generator->files[host][channel];
            if (!file->length)
                continue;
            file_name_of(&name, (enum host_id)host, (enum channel_id)channel);
            size_t lines = count_lines(file);
            total_lines += lines;
            APPEND_LITERAL(&readme, "| ");
            append_text(&readme, name.bytes);
            APPEND_LITERAL(&readme, " | ");
            /* name_json is the quoted channel name; drop the quotes. */
            const char *channel_name = channels[channel].name_json;
            append_bytes(&readme, channel_name + 1, strlen(channel_name) - 2);
            APPEND_LITERAL(&readme, " | ");
            append_uint(&readme, lines);
            APPEND_LITERAL(&readme, " | ");
            append_readable_time(&readme, generator->file_first_time[host][channel]);
            APPEND_LITERAL(&readme, " | ");
            append_readable_time(&readme, generator->file_last_time[host][channel]);
            APPEND_LITERAL(&readme, " |\n");
        }
    }
    APPEND_LITERAL(&readme, "\nTotal: ");
    append_uint(&readme, total_lines);
    APPEND_LITERAL(&readme, " lines, of which ");
    append_uint(&readme, TRACE_COUNT);
    APPEND_LITERAL(&readme,
        " are intruder traces.\n\n"
        "Formats worth knowing: Service Control Manager (7036, 7045) and MSExchange CmdletLogs events are\n"
        "classic event sources, so their EventID is `{\"#attributes\":{\"Qualifiers\":16384},\"#text\":7045}`.\n"
        "MSExchange Management events (EventID 1) carry unnamed data as `\"EventData\":{\"Data\":[...]}`:\n"
        "cmdlet, parameters, modified object, caller, caller SID (twice), client, \"PID process\", elapsed\n"
        "time, scope, server, error text.\n\n"
        "## What is ordinary\n\n"
        "- Security: Kerberos/NTLM network logons (4624 type 3) and logoffs (4634) everywhere, DC and\n"
        "  Exchange machine accounts and admins with 4672; service logons (type 5, SYSTEM); desktop logons\n"
        "  (type 2) on workstations, sometimes after a mistyped password (4625); RDP (type 10) by admins\n"
        "  from WS-ADM01; 4688 for every process Sysmon also sees.\n"
        "- Exchange servers: IIS worker processes `w3wp.exe -ap \"MSExchange...AppPool\"` started by\n"
        "  `svchost.exe -k iissvcs`; MSExchangeHMWorker.exe, Store workers, taskhostw, WmiPrvSE; w3wp.exe\n"
        "  writing HttpProxy logs and `Temporary ASP.NET Files\\...\\App_Web_*.dll`, and connecting to DC01\n"
        "  (389, 3268) and the other Exchange server (444); transport talking to the peer on 2525.\n"
        "- exadmin's RDP sessions on EXCH01/EXCH02: the Exchange Management Shell (powershell.exe with\n"
        "  RemoteExchange.ps1, logged by 4104 in two parts) and cmdlets such as Get-Mailbox,\n"
        "  Get-MailboxStatistics or Set-Mailbox, audited in MSExchange Management as\n"
        "  `corp.local/Users/exadmin` through `w3wp#MSExchangePowerShellAppPool`.\n"
        "- Administrator on DC01: ADUC (mmc dsa.msc) and a Get-ADUser stale-account query.\n"
        "- Workstations: chrome.exe (browser, renderers, network service), Outlook, Word, OneDrive,\n"
        "  search indexer; DNS queries and HTTPS to Google/Microsoft/BBC; downloads of invoices; browser\n"
        "  updater services installed (7045 Google Update / Edge Update).\n"
        "- A nightly inventory script `C:\\ProgramData\\corp\\inventory.ps1` run by the Task Scheduler as\n"
        "  SYSTEM on every host (4688/Sysmon 1 plus one 4104).\n"
        "- Services changing state (7036): Windows Update, BITS, Windows Modules Installer, ...\n\n"
        "## Intruder traces\n\n"
        "Every line an intruder caused, all on EXCH01.corp.local. Anything not listed is ordinary. The\n"
        "cmd.exe wrappers of the later commands appear only as ParentCommandLine of their children.\n\n"
        "| # | Time (UTC) | Host | File | EventID | EventRecordID | What it is |\n"
        "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < TRACE_COUNT; i++) {
        APPEND_LITERAL(&readme, "| ");
        append_uint(&readme, i + 1);
        APPEND_LITERAL(&readme, " | ");
        append_readable_time(&readme, written[i].time);
        APPEND_LITERAL(&readme, " | ");
        append_text(&readme, hosts[written[i].host].short_name);
        APPEND_LITERAL(&readme, " | ");
        file_name_of(&name, written[i].host, written[i].channel);
        append_text(&readme, name.bytes);
        APPEND_LITERAL(&readme, " | ");
        append_uint(&readme, written[i].event_id);
        APPEND_LITERAL(&readme, " | ");
        append_uint(&readme, written[i].record_id);
        APPEND_LITERAL(&readme, " | ");
        append_text(&readme, intruder_traces[i].description);
        APPEND_LITERAL(&readme, " |\n");
    }
    APPEND_LITERAL(&readme,
        "\nIndicators in short: web shell `" WEB_SHELL_PATH "`;\n"
        "working directory `C:\\inetpub\\wwwroot\\aspnet_client`; external IP `104.248.49.97`; files\n"
        "`C:\\ProgramData\\lsass.dmp`, `C:\\inetpub\\wwwroot\\aspnet_client\\ceo.pst`, `C:\\ProgramData\\out.7z`;\n"
        "archive password `P@ss`; account `svc_backup` given the Mailbox Import Export role.\n");
    *status |= write_whole_file(directory, "README.md", &readme);
    buffer_free(&readme);
    buffer_free(&name);
}

static int generate_exchange_case(uint64_t seed, const char *directory)
{
    if (mkdir(directory, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_events: creating %s: %s\n", directory, strerror(errno));
        return 1;
    }
    struct generator *generator = malloc(sizeof *generator);
    if (!generator) {
        fprintf(stderr, "gen_events: out of memory\n");
        return 1;
    }
    generator_init(generator, seed, micros_from_utc(2019, 4, 16, 22, 0, 0));
    generator->split_by_file = true;
    struct written_event written[TRACE_COUNT];
    size_t next_trace = 0;

    /* The archived night of April 2019: EXCH01's Security log only. */
    generator->sysmon_deployed = false;
    run_case_period(generator, micros_from_utc(2019, 4, 17, 7, 0, 0), true, &next_trace, written);

    /* Two years later.  The Security log has rolled over many times since;
     * sessions open in 2019 are long gone. */
    struct host_state *exch01 = &generator->host_state[HOST_EXCH01];
    exch01->last_record_id[CHANNEL_SECURITY] += 41000000 + random_below(&generator->random, 2000000);
    exch01->pending_count = 0;
    generator->desktop_logon_id[HOST_EXCH01] = 0;
    generator->sysmon_deployed = true;
    generator->clock = micros_from_utc(2021, 3, 1, 0, 0, 0) + random_below(&generator->random, 60000000);
    /* Every host has rebooted since (patch Tuesdays), which shows in the
     * boot time inside SYSTEM's LogonGuid. */
    for (unsigned host = 0; host < HOST_COUNT; host++)
        generator->host_state[host].boot_seconds = (uint32_t)(generator->clock / MICROS_PER_SECOND) -
                                                   random_between(&generator->random, 86400, 20 * 86400);
    run_case_period(generator, micros_from_utc(2021, 3, 22, 0, 0, 0), false, &next_trace, written);

    int status = 0;
    if (next_trace != TRACE_COUNT) {
        fprintf(stderr, "gen_events: internal error: %zu intruder traces not written\n", TRACE_COUNT - next_trace);
        status = 1;
    }
    struct text_buffer name = {0};
    for (unsigned host = 0; host < HOST_COUNT; host++) {
        for (unsigned channel = 0; channel < CHANNEL_COUNT; channel++) {
            if (!generator->files[host][channel].length)
                continue;
            file_name_of(&name, (enum host_id)host, (enum channel_id)channel);
            status |= write_whole_file(directory, name.bytes, &generator->files[host][channel]);
        }
    }
    buffer_free(&name);
    write_readme(generator, directory, seed, written, &status);
    for (unsigned host = 0; host < HOST_COUNT; host++)
        for (unsigned channel = 0; channel < CHANNEL_COUNT; channel++)
            buffer_free(&generator->files[host][channel]);
    buffer_free(&generator->scratch);
    buffer_free(&generator->compose);
    free(generator);
    return status;
}

/* ======================================================================
 * Command line
 * ====================================================================== */

static void usage(FILE *out)
{
    fputs("usage: gen_events --size SIZE [--seed N] [--out FILE]\n"
          "       gen_events --case exchange --out DIR [--seed N]\n"
          "\n"
          "  --size SIZE   write ordinary events until at least SIZE bytes; suffixes K, M, G (x1024)\n"
          "  --case NAME   write an example intrusion case (only \"exchange\") into DIR\n"
          "  --seed N      seed of the generator (default 1); same seed, same output\n"
          "  --out PATH    output file for --size (default stdout), directory for --case\n",
          out);
}

/* Parses "300M", "1G", "4096".  Returns false on anything else. */
static bool parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || end == text)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return false;
    }
    if (*end == 'i' || *end == 'B')
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end || value > (UINT64_MAX >> shift))
        return false;
    *bytes = (uint64_t)value << shift;
    return true;
}

int main(int argc, char **argv)
{
    const char *size_text = NULL, *case_name = NULL, *out_path = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "gen_events: %s needs a value\n", option);
            usage(stderr);
            return 2;
        }
        const char *value = argv[++i];
        if (strcmp(option, "--size") == 0) {
            size_text = value;
        } else if (strcmp(option, "--case") == 0) {
            case_name = value;
        } else if (strcmp(option, "--out") == 0) {
            out_path = value;
        } else if (strcmp(option, "--seed") == 0) {
            char *end;
            errno = 0;
            seed = strtoull(value, &end, 0);
            if (errno || *end || end == value) {
                fprintf(stderr, "gen_events: bad --seed: %s\n", value);
                return 2;
            }
        } else {
            fprintf(stderr, "gen_events: unknown option %s\n", option);
            usage(stderr);
            return 2;
        }
    }
    if (!size_text == !case_name) {
        fprintf(stderr, "gen_events: give exactly one of --size and --case\n");
        usage(stderr);
        return 2;
    }
    if (case_name) {
        if (strcmp(case_name, "exchange") != 0) {
            fprintf(stderr, "gen_events: unknown case %s (known: exchange)\n", case_name);
            return 2;
        }
        if (!out_path) {
            fprintf(stderr, "gen_events: --case needs --out DIR\n");
            return 2;
        }
        return generate_exchange_case(seed, out_path);
    }
    uint64_t target_bytes;
    if (!parse_size(size_text, &target_bytes)) {
        fprintf(stderr, "gen_events: bad --size: %s\n", size_text);
        return 2;
    }
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") != 0) {
        out = fopen(out_path, "wb");
        if (!out) {
            fprintf(stderr, "gen_events: opening %s: %s\n", out_path, strerror(errno));
            return 1;
        }
    }
    int status = generate_stream(seed, target_bytes, out, out_path ? out_path : "stdout");
    if (out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "gen_events: closing %s: %s\n", out_path, strerror(errno));
        status = 1;
    }
    return status;
}
