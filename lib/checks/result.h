/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The outcome of one check: a state, one line of reason, bounded evidence and
 * findings (facts worth an admin's attention that do not change the state).
 * Every text is stored as UTF-8, whatever bytes it was given: each ill-formed
 * sequence becomes U+FFFD (utf8.h), so the state file is always JSON.
 */
#pragma once

#include <stdint.h>

#include "util.h"

typedef enum CheckState {
        CHECK_PASS,
        CHECK_FAIL,
        CHECK_ERROR,   /* the check could not run to a verdict */
        CHECK_SKIPPED, /* not configured or disabled */
        _CHECK_STATE_MAX,
} CheckState;

/* Hard limits, so one chatty server cannot make a report unbounded. */
#define RESULT_REASON_MAX   1024
#define RESULT_EVIDENCE_MAX 8192
#define RESULT_FINDINGS_MAX 32
#define RESULT_OBSERVED_MAX 256

typedef struct CheckResult {
        char *check; /* "system", "migrations", "jobs", "panels" */
        CheckState state;
        bool disabled; /* skipped because the configuration turned it off: no bearing on the verdict
                        */
        bool not_applicable; /* disabled because of this host (no systemd...): worth a notice */
        char *reason;
        char *evidence;
        char **findings;
        char *pending; /* an upgrade step still to do, short: "migrate (1 unapplied)" */
        /* The web server did not answer (refused, a proxy's 502-504), or no worker did:
         * restarted, it may be booting. */
        bool unanswered;
        /* What the server showed that later runs compare with: "Class (Job name)", panel titles.
         * Kept as the baseline when the run passes (state.h). */
        char **observed;
        uint64_t duration_usec;
} CheckResult;

const char *check_state_to_string(CheckState s);
int check_state_from_string(const char *s); /* a CheckState, or -EINVAL */

int check_result_new(CheckResult **ret, const char *check);
CheckResult *check_result_free(CheckResult *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CheckResult *, check_result_free);

/* Sets state and reason (printf-style, cut at RESULT_REASON_MAX). */
int check_result_set(CheckResult *r, CheckState state, const char *fmt, ...) _printf_(3, 4);
/* Replaces the evidence text, cut to its last RESULT_EVIDENCE_MAX bytes. */
int check_result_set_evidence(CheckResult *r, const char *text);
int check_result_add_finding(CheckResult *r, const char *fmt, ...) _printf_(2, 3);
/*
 * Replaces the observed items (at most RESULT_OBSERVED_MAX, the rest dropped); takes 'items',
 * also when it fails (-ENOMEM, the earlier items kept).
 */
int check_result_set_observed(CheckResult *r, char **items);
/* Names the upgrade step this result waits for (for STATUS= while an upgrade is in progress). */
int check_result_set_pending(CheckResult *r, const char *fmt, ...) _printf_(2, 3);
