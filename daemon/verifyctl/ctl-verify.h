/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl verify, inside: what its two halves share. ctl-verify.c
 * owns the command, the configuration it reads and the path without systemd;
 * ctl-verify-bus.c the path with systemd (sd-bus, the check unit, its journal).
 * Both end in the same --json document (VerifyReport).
 */
#pragma once

#include "ctl-journal.h"

#define RUNS_MAX 64 /* runs one verification has: one per app */

/* How verify ended, as --json's "outcome" says (README.md). */
typedef enum VerifyOutcome {
        VERIFY_STARTED,         /* no --wait: the job is queued */
        VERIFY_VERDICT,         /* the run's verdict was read */
        VERIFY_NOTHING_CHANGED, /* the unit's --if-changed found nothing to verify */
        VERIFY_TIMED_OUT,       /* no verdict within --timeout */
        VERIFY_INTERRUPTED,     /* SIGINT or SIGTERM */
        VERIFY_NO_VERDICT,      /* the run ended without one */
        _VERIFY_OUTCOME_MAX,
        _VERIFY_OUTCOME_INVALID = -EINVAL, /* no document: an error said why */
} VerifyOutcome;

/* What verify --json prints: one document of CTL_SCHEMA, command "verify". */
typedef struct VerifyReport {
        const char *unit; /* NULL: without systemd */
        const char *job;
        bool forced; /* a request for a forced run was placed, and the unit started for it */
        bool joined; /* the unit was already running: its run was followed */
        bool waited;
        VerifyOutcome outcome;
        const char *job_result; /* JobRemoved's */
        int exit_status;        /* the daemon's, run by us; < 0: not ours, or a signal ended it */
        Run *const *runs;       /* the runs followed, one per app, in the order they began */
        size_t n_runs;
        unsigned ignored_entries; /* entries of the unit or the child not trusted (RunTrust) */
} VerifyReport;

/* The daemon's exit code over several runs (one per app): fail wins, then incomplete. */
int verify_runs_exit_code(Run *const *runs, size_t n);

/* Prints the --json document; 0, or EX_OSERR when it cannot be written. */
int verify_print_report(const CtlOptions *o, const VerifyReport *v);

/* The configuration's instance state directory, where the request for a forced run goes:
 * 0, -ENOMEM, or -EINVAL when the configuration is bad (said on stderr). */
int verify_state_dir(const CtlOptions *o, const char *config_path, char **ret);

/* With systemd: starts the check unit (a forced run, or joins one under way) and, with
 * --wait, follows it to its verdict (ctl-verify-bus.c). The exit status. */
int verify_with_systemd(const CtlOptions *o, const char *config_path);
