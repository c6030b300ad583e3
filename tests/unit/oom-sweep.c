/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The allocation-failure sweep over a check's judging. See oom-sweep.h.
 */
#include <stdio.h>

#include "oom-sweep.h"
#include "test.h"

#define OOM_RUNS_MAX 100000 /* a judging that never stops allocating is a bug too */

void oom_arm(const OomPlan *p)
{
        if (p->sticky)
                fail_alloc_from(p->n);
        else
                fail_alloc_after(p->n);
}

void oom_start(Check *c, int (*start)(Check *c))
{
        int r = start(c);

        if (r < 0 && !c->completed) {
                check_result_set(c->result, CHECK_ERROR, "cannot start: %s", strerror(-r));
                check_complete(c);
        }
}

static void on_done(Check *c, void *userdata)
{
        unsigned *completions = userdata;

        (void)c;
        (*completions)++;
}

/* The wrap must reach libnvd.a's calls, or the sweep proves nothing (a fortified build would
 * call __vasprintf_chk, a shared libnvd would not be wrapped). */
static void assert_wrap_reaches_lib(void)
{
        char **l = NULL;
        char *s;

        fail_alloc_after(1);
        s = strjoin_printf("%s", "x");
        ASSERT(!s && fail_alloc_injected());
        fail_alloc_after(1);
        ASSERT(strv_extend(&l, "x") == -ENOMEM && !l);
        fail_alloc_after(2);
        ASSERT(strv_extend(&l, "x") == -ENOMEM && !l);
        fail_alloc_off();
}

static bool is_oom_error(const CheckResult *r, bool sticky)
{
        if (r->state != CHECK_ERROR)
                return false;
        if (!r->reason) /* not even "out of memory" could be stored */
                return sticky;
        return strstr(r->reason, "out of memory") || strstr(r->reason, strerror(ENOMEM));
}

void oom_sweep(const char *name, const CheckEnv *env, CheckId id, OomRun run, void *userdata,
               const char *fail_words)
{
        static bool wrap_checked;

        if (!wrap_checked) {
                assert_wrap_reaches_lib();
                wrap_checked = true;
        }
        for (int sticky = 0; sticky <= 1; sticky++) {
                unsigned errors = 0, fails = 0, n;

                for (n = 1; n < OOM_RUNS_MAX; n++) {
                        OomPlan p = {.n = n, .sticky = sticky};
                        unsigned completions = 0;
                        Check c = {.id = id, .env = env, .done = on_done, .userdata = &completions};
                        CheckResult *r;
                        bool injected;

                        ASSERT(check_result_new(&c.result, check_id_to_string(id)) == 0);
                        c.start_usec = now_usec();
                        run(&c, &p, userdata);
                        injected = fail_alloc_injected();
                        fail_alloc_off();
                        r = c.result;
                        if (r->state == CHECK_PASS || completions != 1 ||
                            (r->state == CHECK_FAIL ? !r->reason || !strstr(r->reason, fail_words)
                                                    : !injected || !is_oom_error(r, sticky))) {
                                fprintf(stderr,
                                        "%s: with allocation %u failing%s%s, the check %s (completed %u time(s)): %s: %s\n",
                                        name, n, sticky ? " and every later one" : "",
                                        injected ? "" : " (none failed: a clean run)",
                                        r->state == CHECK_PASS
                                                ? "PASSED although an item is missing"
                                                : "ended wrongly",
                                        completions, check_state_to_string(r->state),
                                        r->reason ?: "(no reason)");
                                ASSERT(r->state != CHECK_PASS);
                                ASSERT(completions == 1);
                                ASSERT(!"a fail for the reason of a clean run, or an out-of-memory error");
                        }
                        if (r->state == CHECK_FAIL)
                                fails++;
                        else
                                errors++;
                        check_result_free(r);
                        if (!injected)
                                break;
                }
                ASSERT(n < OOM_RUNS_MAX);
                ASSERT(n > 1); /* the judging allocates: something was tried */
                printf("  %s, %s: %u allocation(s); %u run(s) ended in an out-of-memory error, %u in the fail\n",
                       name, sticky ? "memory staying short" : "one allocation failing", n - 1,
                       errors, fails);
        }
}
