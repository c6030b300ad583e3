/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verdicts (verdict.h): the ranks, the words every output prints and the exit statuses are
 * an interface (state files, NVD_RESULT=, Prometheus, scripts on the exit status): pinned here.
 */
#include "test.h"
#include "verdict.h"

static void test_words(void)
{
        ASSERT_STREQ(verdict_to_string(VERDICT_PASS), "pass");
        ASSERT_STREQ(verdict_to_string(VERDICT_FAIL), "fail");
        ASSERT_STREQ(verdict_to_string(VERDICT_INCOMPLETE), "incomplete");
        ASSERT(verdict_to_string(_VERDICT_MAX) == NULL);
        ASSERT(verdict_from_string("fail") == VERDICT_FAIL);
        ASSERT(verdict_from_string("incomplete") == VERDICT_INCOMPLETE);
        ASSERT(verdict_from_string("FAIL") == -EINVAL);
        ASSERT(verdict_from_string(NULL) == -EINVAL);
        ASSERT_STREQ(verdict_to_outcome(VERDICT_PASS), "passed");
        ASSERT_STREQ(verdict_to_outcome(VERDICT_FAIL), "FAILED");
        ASSERT_STREQ(verdict_to_outcome(VERDICT_INCOMPLETE), "incomplete");
        ASSERT_STREQ(verdict_to_status(VERDICT_PASS), "verified, all checks passed");
        ASSERT_STREQ(verdict_to_status(VERDICT_FAIL), "verification FAILED");
        ASSERT_STREQ(verdict_to_status(VERDICT_INCOMPLETE), "verification incomplete");
        ASSERT_STREQ(check_state_to_outcome(CHECK_PASS), "passed");
        ASSERT_STREQ(check_state_to_outcome(CHECK_FAIL), "FAILED");
        ASSERT_STREQ(check_state_to_outcome(CHECK_ERROR), "could not run");
        ASSERT_STREQ(check_state_to_outcome(CHECK_SKIPPED), "skipped");
}

static void test_exit_status(void)
{
        ASSERT(verdict_exit_status(VERDICT_PASS) == 0);
        ASSERT(verdict_exit_status(VERDICT_FAIL) == 1);
        ASSERT(verdict_exit_status(VERDICT_INCOMPLETE) == 2);
        /* A word nautobot-verifyctl does not know (verdict_from_string() fails): incomplete. */
        ASSERT(verdict_exit_status(verdict_from_string("unfinished")) == 2);
}

static void test_ranks(void)
{
        ASSERT(verdict_worse(VERDICT_PASS, VERDICT_INCOMPLETE) == VERDICT_INCOMPLETE);
        ASSERT(verdict_worse(VERDICT_FAIL, VERDICT_INCOMPLETE) == VERDICT_FAIL);
        ASSERT(verdict_worse(VERDICT_INCOMPLETE, VERDICT_PASS) == VERDICT_INCOMPLETE);
        ASSERT(check_state_worse(CHECK_PASS, CHECK_SKIPPED) == CHECK_SKIPPED);
        ASSERT(check_state_worse(CHECK_SKIPPED, CHECK_ERROR) == CHECK_ERROR);
        ASSERT(check_state_worse(CHECK_ERROR, CHECK_SKIPPED) == CHECK_ERROR);
        ASSERT(check_state_worse(CHECK_ERROR, CHECK_FAIL) == CHECK_FAIL);
        ASSERT(check_state_worse(CHECK_FAIL, CHECK_PASS) == CHECK_FAIL);
        ASSERT(verdict_from_check_state(CHECK_PASS) == VERDICT_PASS);
        ASSERT(verdict_from_check_state(CHECK_FAIL) == VERDICT_FAIL);
        ASSERT(verdict_from_check_state(CHECK_ERROR) == VERDICT_INCOMPLETE);
        ASSERT(verdict_from_check_state(CHECK_SKIPPED) == VERDICT_INCOMPLETE);
}

int main(void)
{
        RUN(test_words);
        RUN(test_exit_status);
        RUN(test_ranks);
        return 0;
}
