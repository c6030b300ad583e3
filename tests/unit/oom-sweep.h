/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Out of memory while a check judges (issue 9): a list that silently loses an
 * item when strv_extend() fails can turn a missing Job, panel, migration or
 * file into a pass. oom_sweep() runs one judging, set up so that something
 * expected is missing, with the 1st, 2nd, ... allocation failing (once alone,
 * once with every later one failing too) until a run sees no failure, and
 * insists that no run passes.
 */
#pragma once

#include "check.h"
#include "fail-alloc.h"

typedef struct OomPlan {
        unsigned n;  /* the allocation that fails, counted from oom_arm() */
        bool sticky; /* and every one after it */
} OomPlan;

/* Called by a run right before the judging it tests: what it set up before is not counted. */
void oom_arm(const OomPlan *p);

/*
 * One run: sets up c->state (and whatever else the judging reads), calls
 * oom_arm(p), then the judging, which must complete the check. c has a fresh
 * result and the sweep's env.
 */
typedef void (*OomRun)(Check *c, const OomPlan *p, void *userdata);

/*
 * Runs 'run' until it completes without an injected failure, first with one
 * allocation failing, then with memory staying short. Every run must complete
 * the check exactly once and end in the fail a clean run ends in (its reason
 * contains 'fail_words') or in an error for want of memory; never in a pass.
 */
void oom_sweep(const char *name, const CheckEnv *env, CheckId id, OomRun run, void *userdata,
               const char *fail_words);

/* Starts a check as verify_start() does: a start that fails is an error "cannot start: ...". */
void oom_start(Check *c, int (*start)(Check *c));
