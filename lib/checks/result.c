/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Check results. See result.h.
 *
 * Every text here may hold what the server, the probe or nautobot-server said: bytes, not
 * necessarily UTF-8. json-c writes a string's bytes as they are, so one stray byte in a Job
 * name would make the whole state file something Python's json refuses; each ill-formed
 * sequence becomes U+FFFD as the text is stored, and a cut never splits a character.
 */
#include <stdio.h>

#include "result.h"
#include "utf8.h"

static const char *const check_state_table[_CHECK_STATE_MAX] = {
        [CHECK_PASS] = "pass",
        [CHECK_FAIL] = "fail",
        [CHECK_ERROR] = "error",
        [CHECK_SKIPPED] = "skipped",
};

DEFINE_STRING_TABLE_LOOKUP(check_state, CheckState);

int check_result_new(CheckResult **ret, const char *check)
{
        CheckResult *r;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->check = strdup(check);
        if (!r->check) {
                free(r);
                return -ENOMEM;
        }
        r->state = CHECK_ERROR;
        *ret = r;
        return 0;
}

CheckResult *check_result_free(CheckResult *r)
{
        if (!r)
                return NULL;
        free(r->check);
        free(r->reason);
        free(r->evidence);
        strv_free(r->findings);
        strv_free(r->observed);
        free(r->pending);
        free(r);
        return NULL;
}

/* Takes s: itself when it is UTF-8, else a copy with U+FFFD for what is not; NULL: no memory. */
static char *text_valid(char *s)
{
        char *v;

        if (!s || utf8_is_valid(s, strlen(s)))
                return s;
        v = utf8_sanitize(s);
        free(s);
        return v;
}

static bool utf8_continuation(char c)
{
        return ((unsigned char)c & 0xc0) == 0x80;
}

static char *vformat_bounded(const char *fmt, va_list ap) _printf_(1, 0);
static char *vformat_bounded(const char *fmt, va_list ap)
{
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        s = text_valid(s);
        if (s && strlen(s) > RESULT_REASON_MAX) {
                size_t cut = RESULT_REASON_MAX - 3;

                while (cut > 0 && utf8_continuation(s[cut]))
                        cut--;
                strcpy(s + cut, "...");
        }
        return s;
}

static int set_text(char **field, const char *fmt, va_list ap) _printf_(2, 0);
static int set_text(char **field, const char *fmt, va_list ap)
{
        char *s = vformat_bounded(fmt, ap);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int check_result_set(CheckResult *r, CheckState state, const char *fmt, ...)
{
        va_list ap;
        int q;

        va_start(ap, fmt);
        q = set_text(&r->reason, fmt, ap);
        va_end(ap);
        if (q < 0) {
                /* A verdict that cannot be worded must not leave an earlier one standing (a pass
                 * judged before this fail, say): an error, its reason NULL if even that fails. */
                free(r->reason);
                r->reason = strdup("out of memory");
                r->state = CHECK_ERROR;
                return q;
        }
        r->state = state;
        return 0;
}

int check_result_set_evidence(CheckResult *r, const char *text)
{
        _cleanup_free_ char *valid = NULL;
        size_t l = strlen(text);

        if (!utf8_is_valid(text, l)) {
                valid = utf8_sanitize(text);
                if (!valid)
                        return -ENOMEM;
                text = valid;
                l = strlen(text);
        }
        if (l > RESULT_EVIDENCE_MAX) {
                text += l - RESULT_EVIDENCE_MAX;
                while (utf8_continuation(*text))
                        text++;
        }
        return free_and_strdup(&r->evidence, text);
}

int check_result_add_finding(CheckResult *r, const char *fmt, ...)
{
        va_list ap;
        char *s;

        if (strv_length(r->findings) >= RESULT_FINDINGS_MAX)
                return 0; /* the first ones are the ones worth reading */
        va_start(ap, fmt);
        s = vformat_bounded(fmt, ap);
        va_end(ap);
        if (!s)
                return -ENOMEM;
        return strv_push(&r->findings, s);
}

int check_result_set_observed(CheckResult *r, char **items)
{
        size_t n = strv_length(items);

        for (size_t i = RESULT_OBSERVED_MAX; i < n; i++)
                free(items[i]);
        if (n > RESULT_OBSERVED_MAX)
                items[RESULT_OBSERVED_MAX] = NULL;
        /* Job and panel names, as the server spells them; a later run compares them as stored. */
        for (size_t i = 0; items && items[i]; i++) {
                items[i] = text_valid(items[i]);
                if (!items[i]) { /* the list ends here: what follows is freed by hand */
                        for (size_t j = i + 1; items[j]; j++)
                                free(items[j]);
                        strv_free(items);
                        return -ENOMEM;
                }
        }
        strv_free(r->observed);
        r->observed = items;
        return 0;
}

int check_result_set_pending(CheckResult *r, const char *fmt, ...)
{
        va_list ap;
        int q;

        va_start(ap, fmt);
        q = set_text(&r->pending, fmt, ap);
        va_end(ap);
        return q;
}
