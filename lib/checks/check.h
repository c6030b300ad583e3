/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every check gets and how it ends. A check is started on the shared
 * event loop, fills in its CheckResult and calls check_complete() exactly
 * once. Checks never log; the result carries the reason and the evidence.
 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "probe.h"
#include "result.h"

#define CHECK_EVIDENCE_LINES 20
#define HTTP_BODY_MAX        (8 * 1024 * 1024)
#define JOB_PAGES_MAX        20
#define JOBS_LIST_PATH       "/api/extras/jobs/?limit=1000" /* the Job list's first page */

/* Django's DATABASES["default"], as the probe found it. */
typedef struct DbSettings {
        char *host;
        char *port;
        char *name;
        char *user;
        char *password; /* wiped when freed; never reported */
} DbSettings;

DbSettings *db_settings_free(DbSettings *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DbSettings *, db_settings_free);
/* NULL (with 0) when the probe did not report a PostgreSQL database. */
int db_settings_from_probe(const ProbeReport *p, DbSettings **ret);
int db_settings_copy(const DbSettings *d, DbSettings **ret);

typedef struct CheckEnv {
        sd_event *event;
        HttpClient *http;
        const Config *config;
        char **child_env;            /* environment for nautobot-server */
        const ChildUser *child_user; /* who runs it (we are root), or NULL: as we do */
        const char *child_env_error; /* why it could not be built, or NULL */
        const char *password;        /* NULL: see password_error */
        const char *password_error;
        const char *token;
        const char *token_error;
        const char *installed_version;          /* of the app; NULL when unknown */
        const char *nautobot_installed_version; /* NULL when unknown */
        sd_bus *bus;                            /* the system bus; NULL: no systemd here */
        Probe *probe;          /* one Django boot for this run ([checks] django=probe), or NULL */
        const DbSettings *db;  /* what an earlier probe said; NULL: NAUTOBOT_DB_* only */
        uint64_t install_usec; /* CLOCK_REALTIME: newest dist-info of a watched package */
        const char *install_what;  /* "nautobot-contract-models 2026.5.17", written then */
        const char *previous_what; /* what ran before it, when known ("2026.5.12") */
        /* The app's last verification on this host, when there was one:
         * "2.3.0 on 2026-12-06 07:40:12 (pass)". */
        const char *last_verified;
        HttpCache *http_cache; /* the run's shared answers (http.h), or NULL */
        /* The web server was restarted a moment ago: how long a request waits for it to
         * answer (HttpOptions.retry_unanswered_usec); 0: not. */
        uint64_t web_wait_usec;
} CheckEnv;

typedef struct Check Check;
typedef void (*CheckDone)(Check *c, void *userdata);

struct Check {
        CheckId id;
        const CheckEnv *env;
        CheckResult *result;
        bool completed;
        uint64_t start_usec;
        void *state; /* owned by the check module */
        void (*state_free)(void *state);
        CheckDone done;
        void *userdata;
};

/* Records the duration, releases the module's state and calls done. */
void check_complete(Check *c);

/* Stops a running check (its result becomes an error with this reason). */
void check_abort(Check *c, const char *reason);

/*
 * One entry per check, in the order they are reported (the upgrade guide's
 * order for the steps). A check is its module's start function plus this
 * entry: the rest of the code iterates over the table and asks the entry,
 * never the CheckId, what a check needs (check.c says how the build makes
 * sure every CheckId has its entry).
 */
typedef struct CheckType {
        CheckId id;
        const char *name; /* in [checks] enable=, NVD_CHECK=, the state, the documentation */
        int (*start)(Check *c);
        /* The guide's step this check confirms after an upgrade ("migrate"), or NULL. */
        const char *step;
        /* Re-run on systemd's signals while an upgrade is in progress, not on a timer. */
        bool bus_driven;
        /* Runs nautobot-server: its result says as whom when that is not us (runas.h). */
        bool runs_server;
        /* The sections of the probe's answer it reads ("jobs": NVD_PROBE_SECTIONS), or NULL. */
        const char *probe_sections;
        /* Worth a Django boot of its own; without it, its sections are only asked for when
         * the probe boots for another check. */
        bool needs_probe;
        /* Needs Django's DATABASES: boots the probe when nothing else says where the
         * database is (an earlier probe, NAUTOBOT_DB_* in the environment). */
        bool needs_database;
        /* What it observes (CheckResult.observed), as the findings that compare it with
         * the last passing verification name it ("Jobs"); NULL: nothing. */
        const char *observed;
} CheckType;

/* The entry of 'id'; NULL only for an id out of range. */
const CheckType *check_type(CheckId id);

/* The start functions the table names, one per module. */
#define CHECK_START_PROTOTYPE(id_, start_, ...) int start_(Check *c);
CHECK_TABLE(CHECK_START_PROTOTYPE) /* int check_versions_start(Check *c); ... (check-table.h) */

/*
 * For checks that do not apply on this host (no systemd, no such unit):
 * skipped, and like a check disabled by the configuration, without bearing
 * on the verdict. Completes the check.
 */
void check_not_applicable(Check *c, const char *fmt, ...) _printf_(2, 3);

/*
 * For checks that need a secret: when it is missing (skipped) or unreadable
 * (error), completes the check and returns false.
 */
bool check_require_secret(Check *c, const char *secret, const char *error, const char *missing);

/* An HTTP session with the configured timeout and TLS settings (and the run's cache). */
int check_http_session(const Check *c, HttpSession **ret);
int check_env_http_session(const CheckEnv *env, HttpSession **ret);
/* ... that sends the API token and asks for JSON (the token must be there). */
int check_env_api_session(const CheckEnv *env, HttpSession **ret);

/*
 * For the REST API checks: a session that sends the API token and asks for
 * JSON. A missing or unreadable token completes the check (skipped or error)
 * and returns 0 with *ret NULL.
 */
int check_api_session(Check *c, HttpSession **ret);

/*
 * Why a secret is missing, naming where it is looked for: "no API token
 * configured ([credentials] token-file=, or credential 'api-token' as
 * token-credential= names it)". 'key' is "token" or "password".
 */
char *check_missing_secret(const char *what, const char *key, const char *credential);

/* "versions, system, …, panels": every check's name, in the table's (the report's) order. */
char *check_names_join(const char *separator);

/* "<base><path>" for the configured base URL. */
char *check_url(const Check *c, const char *path);
char *check_env_url(const CheckEnv *env, const char *path);

/*
 * The login POST for a login page's CSRF token (check-panels.c; prefetch.c
 * sends the same): its form, which holds the password (erase it), and its
 * Referer header.
 */
int check_login_form(HttpSession *http, const CheckEnv *env, const char *login_url,
                     const char *csrf_token, char **ret_form, char **ret_referer);

/* "HTTP 403: Invalid token" from a response, for reasons and evidence. */
char *http_status_text(long status, const char *body);
