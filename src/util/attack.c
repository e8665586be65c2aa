/*
 * attack.c — MITRE ATT&CK techniques and tactics read out of rule tags, once
 * per rule at load time (tr_attack_parse in traccia.h), so that every output
 * and every report agrees on them whatever the tags' case.
 *
 * Sigma writes "attack.t1003.001" and "attack.credential-access"; older
 * rules and other sources write "attack.T1003" or "attack.credential_access".
 * Techniques come out as "T1003.001", tactics as the 14 Enterprise short
 * names. Owns nothing: the caller owns the block returned.
 */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "attack.h"
#include "traccia.h"

static const char *const tactic_names[] = {
    "reconnaissance",    "resource-development", "initial-access",  "execution",
    "persistence",       "privilege-escalation", "defense-evasion", "credential-access",
    "discovery",         "lateral-movement",     "collection",      "command-and-control",
    "exfiltration",      "impact",
};

int tr_attack_is_tactic(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof tactic_names / sizeof tactic_names[0]; i++)
        if (strlen(tactic_names[i]) == len && memcmp(tactic_names[i], name, len) == 0)
            return 1;
    return 0;
}

/* The normalised form of one tag into out (size >= 64): 1 technique, 2
 * tactic, 0 neither. */
static int classify(const char *tag, char *out, size_t size)
{
    assert(size >= 64);
    if (strncasecmp(tag, "attack.", 7) != 0)
        return 0;
    const char *rest = tag + 7;
    size_t n = strlen(rest);
    if (n == 0 || n >= size - 1)
        return 0;
    if ((rest[0] == 't' || rest[0] == 'T') && isdigit((unsigned char)rest[1])) {
        out[0] = 'T';
        for (size_t i = 1; i < n; i++) {
            char c = rest[i];
            if (!isdigit((unsigned char)c) && c != '.')
                return 0;
            out[i] = c;
        }
        out[n] = '\0';
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)rest[i]);
        out[i] = c == '_' ? '-' : c;
    }
    out[n] = '\0';
    return tr_attack_is_tactic(out, n) ? 2 : 0;
}

static int listed(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

size_t tr_attack_size(const char *const *tags, size_t ntags)
{
    size_t n = 0, bytes = 0;
    char buf[128];
    for (size_t i = 0; i < ntags; i++) {
        if (tags[i] && classify(tags[i], buf, sizeof buf)) {
            n++;
            bytes += strlen(buf) + 1;
        }
    }
    return (n + 1) * sizeof(char *) + bytes;
}

void tr_attack_fill(void *block, const char *const *tags, size_t ntags, const char *const **techniques,
                    size_t *ntechniques, const char *const **tactics, size_t *ntactics)
{
    size_t nt = 0, na = 0;
    char buf[128];
    for (size_t i = 0; i < ntags; i++) {
        int k = tags[i] ? classify(tags[i], buf, sizeof buf) : 0;
        nt += k == 1;
        na += k == 2;
    }
    const char **tech = block, **tac = tech + nt;
    char *strings = (char *)block + (nt + na + 1) * sizeof(char *);
    size_t t = 0, a = 0;
    for (size_t i = 0; i < ntags; i++) {
        int k = tags[i] ? classify(tags[i], buf, sizeof buf) : 0;
        if (!k || (k == 1 ? listed(tech, t, buf) : listed(tac, a, buf)))
            continue;
        size_t len = strlen(buf) + 1;
        memcpy(strings, buf, len);
        if (k == 1)
            tech[t++] = strings;
        else
            tac[a++] = strings;
        strings += len;
    }
    /* duplicates dropped: close the gap between the two arrays */
    if (t < nt)
        memmove(tech + t, tac, a * sizeof *tac);
    *techniques = tech;
    *ntechniques = t;
    *tactics = tech + t;
    *ntactics = a;
}

void *tr_attack_parse(const char *const *tags, size_t ntags, const char *const **techniques,
                      size_t *ntechniques, const char *const **tactics, size_t *ntactics)
{
    void *block = tr_malloc(tr_attack_size(tags, ntags));
    if (block)
        tr_attack_fill(block, tags, ntags, techniques, ntechniques, tactics, ntactics);
    return block;
}

const char *tr_rule_kind_name(int kind)
{
    static const char *const names[] = {"detection", "correlation", "filter", "indicator", "analytic", "file"};
    return kind >= 0 && kind <= TR_RULE_FILE ? names[kind] : "detection";
}

const char *tr_finding_kind_name(tr_finding_kind kind)
{
    static const char *const names[] = {"sigma", "correlation", "indicator", "analytic", "file"};
    return (unsigned)kind <= TR_FINDING_FILE ? names[kind] : "sigma";
}
