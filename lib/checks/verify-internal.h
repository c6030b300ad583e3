/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of a verification run share and nobody else sees: the run
 * itself (struct Verify), what it reads of the host before it starts
 * (verify-host.c) and its comparison with the last passing verification
 * (verify-baseline.c). verify.h has the public side.
 */
#pragma once

#include "check.h"
#include "prefetch.h"
#include "runas.h"
#include "verify.h"

/* What a watched package was when the run started: what the run verifies. */
typedef struct PackageSnapshot {
        char *package;
        char *version;         /* NULL: not installed */
        bool unsettled;        /* two dist-infos, no RECORD: not a version that can be recorded */
        uint64_t written_usec; /* CLOCK_REALTIME, its dist-info's RECORD; 0: unknown */
} PackageSnapshot;

struct Verify {
        sd_event *event;
        sd_bus *bus;
        const Config *config;
        HttpClient *http;
        CheckEnv env;
        char *child_env_error;
        RunAs *run_as; /* who runs nautobot-server, when we are root */
        char *password;
        char *password_error;
        char *token;
        char *token_error;
        char *version;
        char *version_error;
        char *nautobot_version;
        PackageSnapshot *packages;
        size_t n_packages;
        char *install_what;
        char *previous_what;
        char *last_verified;
        bool only[_CHECK_ID_MAX]; /* all false: every enabled check */
        bool limited;
        Probe *probe;
        Probe *shared_probe;    /* given: the run's one boot, shared with the other apps */
        Probe *warm;            /* given: Django booted ahead, to take over if still valid */
        Prefetch *prefetch;     /* the HTTP checks' first requests, sent early */
        DbSettings *db_known;   /* given: what an earlier probe said */
        DbSettings *db_seen;    /* what this run's probe said */
        char *baseline_version; /* of the last passing verification */
        char **baseline[_CHECK_ID_MAX]; /* ... and what each check observed then */
        Check checks[_CHECK_ID_MAX];
        size_t n_running;
        uint64_t start_usec;
        uint64_t end_usec;
        uint64_t started_usec; /* verify_set_started(), or 0 */
        const VerifyCallbacks *cb;
        void *userdata;
};

/* verify-host.c: each fails with -ENOMEM only; what cannot be read is said, for the checks. */

/* As root, the account nautobot-server runs as; then its environment (verify_child_env()).
 * Why it cannot be run goes to v->child_env_error. */
int verify_build_child_env(Verify *v);
/* A secret of the configuration into *ret (none configured: nothing); why it cannot be read
 * into *ret_error. */
int verify_load_secret(const Config *c, SecretId id, const char *what, char **ret,
                       char **ret_error);
/* The installed version of the app's package, and Nautobot's; why not, in v->version_error. */
int verify_read_version(Verify *v);
/* Each watched package's version (mid-install: unsettled), and the newest release's time. */
int verify_snapshot_packages(Verify *v);

/* verify-baseline.c */

/* What 'res' observed against the last passing verification, as findings (or a FAIL). */
int verify_note_changes(Verify *v, CheckResult *res, CheckId id);
