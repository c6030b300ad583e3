/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Check results. See result.h.
 */
#include <stdio.h>

#include "result.h"

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

static char *vformat_bounded(const char *fmt, va_list ap) _printf_(1, 0);
static char *vformat_bounded(const char *fmt, va_list ap)
{
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        if (strlen(s) > RESULT_REASON_MAX)
                strcpy(s + RESULT_REASON_MAX - 3, "...");
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
        size_t l = strlen(text);

        if (l > RESULT_EVIDENCE_MAX)
                text += l - RESULT_EVIDENCE_MAX;
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
