/*
 * regex_risk.c — a look at a rule's regular expression before it runs, for
 * the shapes that backtrack catastrophically: a group holding an unbounded
 * quantifier, itself repeated without bound ("(a+)+", "(\w*\s?)*",
 * "(x|.+)*"). PCRE2's match limit stops such a match and the matcher says
 * the rule was cut short; this says, at load, which rules risk it
 * (`traccia rules check`), so they can be fixed before a hunt.
 *
 * A syntactic look, not a proof: possessive quantifiers ("(a+)++") and
 * atomic groups ("(?>a+)+") cannot backtrack and are not flagged. Owns
 * nothing.
 */
#include <stdbool.h>
#include <stddef.h>

#include "sigma.h"

/* The quantifier at re[i] (after an atom), if unbounded: its length; 0
 * when there is none or it is bounded ("?", "{2}", "{1,3}"). */
static size_t unbounded_at(const char *re, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (re[i] == '*' || re[i] == '+')
        return 1;
    if (re[i] != '{')
        return 0;
    size_t k = i + 1;
    while (k < len && re[k] >= '0' && re[k] <= '9')
        k++;
    if (k == i + 1 || k >= len || re[k] != ',')
        return 0; /* "{n}" or not a quantifier */
    k++;
    if (k < len && re[k] == '}')
        return k + 1 - i; /* "{n,}" */
    return 0;
}

#define MAX_DEPTH 64

const char *tr_regex_risk(const char *re, size_t len)
{
    bool inner[MAX_DEPTH + 1] = {false}; /* the group at this depth holds an unbounded quantifier */
    bool atomic[MAX_DEPTH + 1] = {false};
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = re[i];
        if (ch == '\\') { /* an escaped character is an atom */
            i++;
        } else if (ch == '[') { /* a class is one atom: skip to its end */
            size_t k = i + 1;
            if (k < len && re[k] == '^')
                k++;
            if (k < len && re[k] == ']')
                k++;
            while (k < len && re[k] != ']')
                k += re[k] == '\\' ? 2 : 1;
            i = k;
        } else if (ch == '(') {
            if (depth == MAX_DEPTH)
                return NULL; /* too deep to judge; PCRE2's limits still hold */
            depth++;
            inner[depth] = false;
            atomic[depth] = i + 2 < len && re[i + 1] == '?' && re[i + 2] == '>';
            continue;
        } else if (ch == ')' && depth > 0) {
            bool had = inner[depth] && !atomic[depth];
            depth--;
            size_t q = unbounded_at(re, len, i + 1);
            bool possessive = q && i + 1 + q < len && re[i + 1 + q] == '+';
            if (had && q && !possessive)
                return "a group holding an unbounded quantifier is itself repeated without bound "
                       "(like (a+)+): it can backtrack catastrophically";
            if (had)
                inner[depth] = true; /* the outer group holds it too */
            if (q && !possessive)
                inner[depth] = true;
            i += q; /* onto the quantifier's last character */
            if (q && i + 1 < len && (re[i + 1] == '?' || re[i + 1] == '+'))
                i++;
            continue;
        } else if (ch == '|' || ch == '^' || ch == '$') {
            continue;
        }
        /* after an atom: its quantifier */
        size_t q = unbounded_at(re, len, i + 1);
        if (q) {
            i += q;
            bool possessive = i + 1 < len && re[i + 1] == '+';
            if (!possessive)
                inner[depth] = true;
            if (i + 1 < len && (re[i + 1] == '?' || re[i + 1] == '+'))
                i++;
        }
    }
    return NULL;
}
