/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verdicts: one table of words and exit statuses, one rank of check states. See verdict.h.
 */
#include "verdict.h"

static const struct {
        const char *name;    /* verdict_to_string() */
        const char *outcome; /* verdict_to_outcome() */
        const char *status;  /* verdict_to_status() */
        int exit_status;
} verdict_table[_VERDICT_MAX] = {
        [VERDICT_PASS] = {"pass", "passed", "verified, all checks passed", 0},
        [VERDICT_FAIL] = {"fail", "FAILED", "verification FAILED", 1},
        [VERDICT_INCOMPLETE] = {"incomplete", "incomplete", "verification incomplete", 2},
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(verdict, Verdict, verdict_table, .name, )
DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(verdict, verdict_table, .name, )

const char *verdict_to_outcome(Verdict v)
{
        return (size_t)v < _VERDICT_MAX ? verdict_table[v].outcome : NULL;
}

const char *verdict_to_status(Verdict v)
{
        return (size_t)v < _VERDICT_MAX ? verdict_table[v].status : NULL;
}

int verdict_exit_status(Verdict v)
{
        return (size_t)v < _VERDICT_MAX ? verdict_table[v].exit_status
                                        : verdict_table[VERDICT_INCOMPLETE].exit_status;
}

Verdict verdict_from_check_state(CheckState s)
{
        return s == CHECK_PASS ? VERDICT_PASS : s == CHECK_FAIL ? VERDICT_FAIL : VERDICT_INCOMPLETE;
}

Verdict verdict_worse(Verdict a, Verdict b)
{
        static const int rank[_VERDICT_MAX] = {
                [VERDICT_PASS] = 0,
                [VERDICT_INCOMPLETE] = 1,
                [VERDICT_FAIL] = 2,
        };

        return rank[b] > rank[a] ? b : a;
}

CheckState check_state_worse(CheckState a, CheckState b)
{
        static const int rank[_CHECK_STATE_MAX] = {
                [CHECK_PASS] = 0,
                [CHECK_SKIPPED] = 1,
                [CHECK_ERROR] = 2,
                [CHECK_FAIL] = 3,
        };

        return rank[b] > rank[a] ? b : a;
}

static const char *const check_state_outcome_table[_CHECK_STATE_MAX] = {
        [CHECK_PASS] = "passed",
        [CHECK_FAIL] = "FAILED",
        [CHECK_ERROR] = "could not run",
        [CHECK_SKIPPED] = "skipped",
};

const char *check_state_to_outcome(CheckState s)
{
        return (size_t)s < _CHECK_STATE_MAX ? check_state_outcome_table[s] : NULL;
}
