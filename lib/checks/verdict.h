/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verdict over a run of checks, and over the apps of a run: how check states rank when they
 * combine, the words every output uses for them, and the exit status of a --once run. Journal,
 * notify, terminal, Prometheus, the state files and nautobot-verifyctl all word a verdict from
 * here, so they cannot drift apart.
 */
#pragma once

#include "result.h"

typedef enum Verdict {
        VERDICT_PASS,
        VERDICT_FAIL,
        VERDICT_INCOMPLETE, /* a check could not run, or was skipped */
        _VERDICT_MAX,
} Verdict;

/* The worse of two check states: fail > error (could not run) > skipped > pass; 'a' on a tie. */
CheckState check_state_worse(CheckState a, CheckState b);
/* "passed", "FAILED", "could not run", "skipped": a check's outcome in a sentence. */
const char *check_state_to_outcome(CheckState s);

/* The verdict of a run whose worst check state is 's'. */
Verdict verdict_from_check_state(CheckState s);
/* The worse of two verdicts: fail > incomplete > pass. */
Verdict verdict_worse(Verdict a, Verdict b);

/* "pass", "fail", "incomplete": state files, NVD_RESULT=, Prometheus' result= (in this order). */
const char *verdict_to_string(Verdict v);
int verdict_from_string(const char *s); /* a Verdict, or -EINVAL */
/* "passed", "FAILED", "incomplete": "verification %s" in the journal and on a terminal. */
const char *verdict_to_outcome(Verdict v);
/* "verified, all checks passed", "verification FAILED", ...: STATUS= for systemctl status. */
const char *verdict_to_status(Verdict v);
/* 0 pass, 1 fail, 2 incomplete: the exit status of a --once run, and of nautobot-verifyctl's. */
int verdict_exit_status(Verdict v);
