/*
 * test_hygiene.c — rules that keep the library honest as it grows: every
 * symbol libtraccia exports carries the tr_ prefix (checked on the built
 * archive's symbol table, next to the command under test).
 */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

static void exported_symbols_carry_the_prefix(void)
{
    char lib[1200];
    const char *bin = test_bin();
    const char *slash = strrchr(bin, '/');
    snprintf(lib, sizeof lib, "%.*s/libtraccia.a", slash ? (int)(slash - bin) : 1, slash ? bin : ".");
    if (access(lib, R_OK) != 0 || system("command -v nm >/dev/null 2>&1") != 0) {
        tr_test_skip("no libtraccia.a beside the command, or no nm");
        return;
    }
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "nm -g --defined-only %s 2>/dev/null", lib);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p)
        return;
    char line[1024];
    size_t symbols = 0, bad = 0;
    while (fgets(line, sizeof line, p)) {
        char addr[64], type[8], name[512];
        if (sscanf(line, "%63s %7s %511s", addr, type, name) != 3)
            continue; /* member headers, blank lines */
        if (!strchr("TDBRGSVW", type[0]))
            continue;
        if (strncmp(name, "__odr_asan", 10) == 0 || strncmp(name, "__asan", 6) == 0 ||
            strncmp(name, "__sancov", 8) == 0 || strncmp(name, "__gcov", 6) == 0)
            continue; /* a sanitizer's or coverage build's own, beside each global */
        symbols++;
        if (strncmp(name, "tr_", 3) != 0) {
            if (bad++ < 20)
                fprintf(stderr, "    exported without the tr_ prefix: %s (%s)\n", name, type);
        }
    }
    pclose(p);
    CHECK(symbols > 300); /* the archive was read */
    CHECK_INT(bad, 0);
}

void suite_hygiene(void) { RUN(exported_symbols_carry_the_prefix); }
