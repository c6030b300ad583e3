/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What was last verified, per Nautobot instance and watched package: one JSON
 * file each under "<state directory>/<instance>/" ($STATE_DIRECTORY under
 * systemd), written atomically (temporary file, fsync, rename, fsync of the
 * directory). Each file names the site-packages it describes, so two
 * configurations that share an instance name are told apart, not mixed up.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "util.h"

#define STATE_FILE_MAX (1024 * 1024)

typedef struct PackageState {
        char *package;
        char *site_packages;    /* the Nautobot it describes; NULL in files of before 0.5 */
        char *app_label;        /* a Nautobot app's Django label; NULL: Nautobot, or not an app */
        char *version;          /* last verified version; NULL: it was not installed */
        char *verdict;          /* "pass", "fail", "incomplete" */
        uint64_t verified_usec; /* CLOCK_REALTIME */
        json_object *report;    /* the full last report, or NULL */
        /* The last passing verification: {"version", "observed": {"<check>": [items]}}, or NULL.
         * What later runs compare the server with (Jobs, panels added or gone). */
        json_object *baseline;
        /* What each release of an app that passed here shipped, for rollbacks to it and from
         * it: {"<version>": {"leaves": ["name", ...], "reversal": {"<name>": {"tables",
         * "columns", "irreversible"}}, "verified_usec"}}, at most STATE_RELEASES_MAX, or NULL. */
        json_object *releases;
} PackageState;

#define STATE_RELEASES_MAX 16

PackageState *package_state_free(PackageState *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(PackageState *, package_state_free);

/* "<dir>/<normalised name>.json" */
char *state_path(const char *dir, const char *package);

/* -ENOENT when there is none; -EBADMSG (reason in *ret_error) when it is corrupt. */
int state_load(const char *dir, const char *package, PackageState **ret, char **ret_error);

/*
 * The baseline a run with 'report' (verify_report_json()) leaves: its
 * observed items when its verdict is "pass", else 'previous' (a new reference).
 */
json_object *state_next_baseline(json_object *report, const char *version, json_object *previous);

/*
 * 'previous' (may be NULL) with release 'version' recorded as passing now: its leaf
 * migrations and what unapplying each of its migrations destroys (the probe's
 * "migration_plan" for the app). The oldest verified releases make room beyond
 * STATE_RELEASES_MAX. A new reference, or NULL when out of memory.
 */
json_object *state_next_releases(json_object *previous, const char *version, char *const *leaves,
                                 json_object *reversal, uint64_t verified_usec);

/* The leaf migration(s) release 'version' shipped when it passed here; NULL: not recorded. */
json_object *state_release_leaves(const PackageState *s, const char *version);

/*
 * The newest recorded release whose migrations include every one of 'migrations' (applied
 * migrations the installed code does not ship: a release installed before); NULL: none.
 * *ret_reversal (borrowed) says what unapplying its migrations destroys.
 */
const char *state_release_shipping(const PackageState *s, char *const *migrations,
                                   json_object **ret_reversal);

/*
 * The Nautobot apps this instance has state for (files whose app_label is
 * set), sorted by package: their packages and labels, at most
 * STATE_APPS_MAX. A file that cannot be read is left out (state_load()
 * reports it when the package comes up).
 */
#define STATE_APPS_MAX 256
int state_list_apps(const char *dir, char ***ret_packages, char ***ret_labels);

/*
 * Writes the state atomically; creates dir (0700) if needed. Everything goes
 * through one descriptor of dir, opened without following a link: a new
 * temporary file (O_EXCL|O_NOFOLLOW), renameat(), fsync of the directory.
 * Nothing is chown'ed: root drops to the directory's owner first
 * (privilege.h). Takes no ownership.
 */
int state_save(const char *dir, const PackageState *s);

/*
 * A one-shot request for the next --if-changed run of the instance whose
 * state is in 'dir': verify even when nothing changed ("<dir>/force", written
 * by nautobot-verifyctl verify, as root, before it starts the check unit).
 * As root it is written by a child that became the state directory's owner;
 * an old request is removed and a new file made, never truncated through a
 * link. Without a state directory there is nothing to force (0).
 */
#define STATE_FORCE_FILE "force"
int state_request_force(const char *dir);

/*
 * Takes the request: 1 when there was one (it is removed now, so one request
 * forces one run), 0 when there is none.
 */
int state_take_force_request(const char *dir);

/*
 * Words for the errors of the functions here: -ELOOP, the instance's folder is
 * a link (refused, never followed), else as read_file_error_to_string().
 */
const char *state_error_to_string(int r);

/* Moves a corrupt file aside as "<file>.corrupt" so it can be read later. */
int state_quarantine(const char *dir, const char *package);
