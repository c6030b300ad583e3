/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One verification run: reads the installed version of the watched package,
 * prepares what the checks need (child environment, secrets, HTTP client) and
 * runs every check concurrently on the given event loop.
 */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "check.h"
#include "config.h"
#include "result.h"
#include "verdict.h"

typedef struct Verify Verify;

typedef struct VerifyCallbacks {
        /* A check finished (its result is final). Optional. */
        void (*check_done)(Verify *v, const CheckResult *r, void *userdata);
        /* All checks finished. */
        void (*all_done)(Verify *v, void *userdata);
} VerifyCallbacks;

/*
 * 'config' must outlive the run. 'bus' is the system bus (NULL: no systemd
 * here; the checks that ask it do not apply). The versions of the watched
 * packages are read now: they are what this run verifies.
 */
int verify_new(Verify **ret, sd_event *e, sd_bus *bus, const Config *config);

/*
 * The environment nautobot-server runs with, for any program of this project:
 * scrubbed (its venv's PATH, LANG, HOME), the environment file's lines, then
 * NAUTOBOT_ROOT/NAUTOBOT_CONFIG of the configuration. Read as the caller: a
 * root caller has become the installation's account first (privilege.h).
 * 0 with *ret NULL and *ret_error set when the file cannot be used.
 */
int verify_child_env(const Config *c, char ***ret, char **ret_error);
Verify *verify_free(Verify *v); /* kills and reaps running children */
DEFINE_TRIVIAL_CLEANUP_FUNC(Verify *, verify_free);

/* Django's database settings from an earlier run's probe, for a run without one. */
int verify_set_database(Verify *v, const DbSettings *d);
/* ... and those this run's probe reported (NULL: none). */
const DbSettings *verify_database_seen(const Verify *v);

/*
 * The last passing verification (state.h's baseline): what its checks
 * observed. Each check's observed items are compared with it, and what was
 * added, gone or renamed becomes a finding.
 */
int verify_set_baseline(Verify *v, struct json_object *baseline);

/*
 * The run's one Django boot, shared by every app verified in it (NULL: the
 * run starts its own when a check needs Django). It must outlive the run;
 * whoever owns it starts it.
 */
void verify_set_probe(Verify *v, Probe *shared);

/*
 * The run's shared HTTP answers (http.h): every app's checks of one run ask
 * the server once for what they all ask. It must outlive the run.
 */
void verify_set_http_cache(Verify *v, HttpCache *cache);

/*
 * The web server was restarted a moment ago and does not answer yet: every
 * HTTP request of the run waits up to 'usec' for it (0: none).
 */
void verify_set_web_wait(Verify *v, uint64_t usec);

/*
 * Sends now, through that cache, the first requests of this run's HTTP checks
 * (prefetch.h), for the runs that start later on the same cache: while Django
 * boots, the server answers them.
 */
int verify_prefetch(Verify *v);

/*
 * A probe for every app the server loads, with this run's environment and
 * account (which must outlive it): which apps, and the answers every app's
 * checks read. *ret NULL: there can be none ([checks] django=command, or the
 * environment cannot be built; the checks say why).
 */
int verify_shared_probe(Verify *v, Probe **ret);

/*
 * Django booted now with this run's environment and account, waiting up to
 * 'hold_usec' for another run's questions (probe_boot()): an upgrade whose
 * code and database are final boots it while the restarts are awaited. *ret
 * NULL: there can be none (as above).
 */
int verify_boot_ahead(Verify *v, uint64_t hold_usec, Probe **ret);
/*
 * The probe this run makes (its own, or the shared one made by
 * verify_shared_probe()) takes 'warm' over when it still waits, was started
 * as this run's would be, and nothing in site-packages changed since it
 * started. 'warm' must outlive verify_start() (or verify_shared_probe()'s
 * probe_start()).
 */
void verify_set_warm(Verify *v, Probe *warm);

/* What the run's probe (its own or the shared one) answered, once it ended; NULL: nothing. */
const ProbeReport *verify_probe_report(const Verify *v);

/*
 * When the run began, if before verify_start() (CLOCK_MONOTONIC): every app's
 * run shares a Django boot that started before them, and the time an admin
 * waited includes it.
 */
void verify_set_started(Verify *v, uint64_t usec);

/* Why nautobot-server cannot be run for v (the account, the environment file), or NULL. */
const char *verify_server_error(const Verify *v);

/* What ran before the installed release ("2026.5.12"), for the restart advice. */
int verify_set_previous(Verify *v, const char *what);

/* What the state says of the app's last verification ("2.3.0 on <time> (pass)"), or NULL. */
int verify_set_last_verified(Verify *v, const char *what);
/* Runs only these checks (of those enabled); the others are skipped, without bearing. */
void verify_set_only(Verify *v, const bool only[_CHECK_ID_MAX]);

/*
 * The version of a watched package as the run found it at its start (NULL:
 * not installed). -EBUSY: it was mid-install then; -ENOENT: not watched.
 */
int verify_package(const Verify *v, const char *package, const char **ret_version);
/* CLOCK_REALTIME when the newest watched release was written (0: unknown). */
uint64_t verify_install_usec(const Verify *v);

/* 'cb' must outlive the run (a static table). */
int verify_start(Verify *v, const VerifyCallbacks *cb, void *userdata);

/* Stops running checks; each becomes an error with 'reason'. */
void verify_abort(Verify *v, const char *reason);

const char *verify_version(const Verify *v);       /* NULL when unknown */
const char *verify_version_error(const Verify *v); /* why unknown */
size_t verify_n_results(const Verify *v);
const CheckResult *verify_result(const Verify *v, size_t i);
size_t verify_n_running(const Verify *v);
/* The names of the running checks, joined with ", " (caller frees). */
char *verify_running_names(const Verify *v);
uint64_t verify_duration_usec(const Verify *v);

/* The whole report as JSON (for the state file): version, verdict, each check. */
struct json_object *verify_report_json(const Verify *v);

/* The verdict of the overall state (verdict.h). */
Verdict verify_verdict(const Verify *v);

/* The worst state over the checks not disabled by the configuration (check_state_worse()). */
CheckState verify_overall(const Verify *v);
