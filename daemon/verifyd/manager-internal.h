/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the manager's files share and nothing else sees. The manager is one object in three
 * files: manager.c (its life, the event loop, a run: the apps, their checks, their reports),
 * manager-watch.c (what changed and what that sets off: comparing with the state, the watch,
 * following an upgrade, reload) and manager-state.c (reading and recording what was verified).
 */
#pragma once

#include <signal.h>

#include "manager.h"
#include "state.h"

/* Every app is verified (no [package] name=). */
static inline bool all_apps(const Manager *m)
{
        return config_all_apps(m->config);
}

/* manager.c: the run */

/* Starts a verification for 'trigger' (taken; NULL: none), or queues it behind the running one. */
int start_verification(Manager *m, Change *trigger);
/* The run's verdict over its apps; an app that could not be verified makes it incomplete. */
Verdict runs_overall(const Manager *m);
/* Whether an app of the run is 'package'. */
bool is_run_package(const Manager *m, const char *package);
/* Keeps Django's database settings, for the checks of runs without a probe of their own. */
void keep_database(Manager *m, const DbSettings *d);
/* Says once that the journal cannot be written, when 'r' is a failure. */
void journal_result(Manager *m, int r);
/* The loop cannot go on: stop with a non-zero exit, so Restart=on-failure acts. */
void fail(Manager *m, const char *what, int r);
/* STATUS= while watching, with the last verdict when there is one. */
void watching_status(Manager *m, const char *last);

/* manager-watch.c: changes */

/* Whether 'l' names 'package' (PEP 503 names). */
bool names_package(char **l, const char *package);
/* The label of an app named only in the configuration: "nautobot-x" → "nautobot_x". */
char *label_of(const char *package);
/* Whether a rollback in 'c' is journaled when the app's verification ends, not when found. */
bool rollback_deferred(const Manager *m, const Change *c);
/* A change to verify (taken): now, or once the upgrade's remaining steps are done. */
int handle_change(Manager *m, Change *c);
/* The packages compared with the state and watched, the apps known and their labels. */
int watched_packages(const Config *c, char ***ret, char ***ret_known, char ***ret_labels);
int create_watch(Manager *m, const Config *c, char *const *packages, PkgWatch **ret);
/* Every app: the apps found since are watched too. */
int update_watched(Manager *m);
/* Puts a new configuration (taken on success) in force between runs; else the old one stays. */
int apply_config(Manager *m, Config *c);
/* Verifies now, or (activated mode) stops when nothing changed. */
void begin(Manager *m);
/* sd-event handlers: SIGHUP, and (activated mode) waiting for an install to settle. */
int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata);
int on_settle(sd_event_source *s, uint64_t usec, void *userdata);

/* manager-state.c: what was verified */

/* Now, in µs since the epoch: when a state was recorded. */
uint64_t realtime_usec(void);
/* A package's last verified state, or NULL (a problem with it is reported). */
PackageState *load_state(Manager *m, const char *package);
/* Records a package's state, unless another Nautobot's state is in its place. */
void save_state(Manager *m, const PackageState *s);
/* The app's baseline as its run starts: what it compares with. */
int take_baseline(Manager *m, AppRun *run);
/* Records what one app's run verified. */
void save_app_states(Manager *m, const AppRun *run);
/* Every app: the watched packages that are no app's (Nautobot), with the run's verdict. */
void save_shared_states(Manager *m);
