/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's state: configuration in force, the event loop, the running
 * verification, the package watcher, and what was last verified.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "pkgwatch.h"
#include "report.h"
#include "upgrade.h"
#include "verify.h"

typedef enum Mode {
        MODE_ONCE,       /* verify now, report, exit */
        MODE_IF_CHANGED, /* activated: verify only when a version changed */
        MODE_WATCH,      /* long-running: verify once per change */
} Mode;

typedef struct Manager Manager;

/*
 * One app's verification in a run: with no [package] name= every app the
 * server loads has one (all sharing the run's one Django boot), else the
 * configured app alone. Each is reported and recorded on its own.
 */
typedef struct AppRun {
        Manager *manager;
        Config *config; /* this app's (config_for_app()), or the manager's own */
        bool owns_config;
        Verify *verify;
        ReportContext report;
        struct json_object *baseline; /* the app's last passing verification, as the run began */
        bool done;
} AppRun;

struct Manager {
        sd_event *event;
        char *config_path;
        Config *config;
        SecretSet *secrets;  /* read as root before the drop (main.c); every config points here */
        char *state_refused; /* why the state directory is not used (main.c), or NULL */
        Config *next_config; /* reloaded while a run was active; applied after it */
        Mode mode;
        bool force;
        bool print;
        const ReportSink *sinks[REPORT_SINKS_MAX]; /* the outputs in force (report_sinks_pick()) */

        sd_bus *bus; /* the system bus, when systemd runs here */
        PkgWatch *watch;
        sd_event_source *settle; /* activated mode: waiting for pip to finish */
        uint64_t settle_start_usec;
        bool settle_waiting;
        /* The run: its apps, and (every app) the Django boot they share and the Verify that
         * prepared it (the environment and account it runs with). */
        AppRun *runs;
        size_t n_runs;
        size_t n_runs_done;
        unsigned n_unverifiable; /* apps found but not verified (their configuration failed) */
        Probe *probe;
        HttpCache *http_cache; /* every app's HTTP answers, shared; prefetched while Django boots */
        uint64_t probe_start_usec; /* when the shared Django boot began (the run's start) */
        Verify *host;
        bool active;                 /* a run is under way: finding the apps, or their checks */
        sd_event_source *start_apps; /* starts the apps' runs once the probe said which */
        char **watched;              /* packages compared and watched: [watch] and the apps */
        char **known_packages;       /* every app: the apps known before the probe answers, */
        char **known_labels;         /* ... from the state and [app NAME] sections */
        Config *follow_config;       /* every app: the configuration the upgrade is followed with */
        Change *trigger;             /* what started the running verification */
        Change *pending;             /* a change that arrived during it */
        sd_event_source *run_pending; /* starts the pending run outside the last one's callbacks */
        sd_event_source *run_release; /* frees the finished run, outside its callbacks */
        Upgrade *upgrade;             /* an upgrade whose remaining steps are followed */
        Probe *ahead;                 /* ... Django booted by it, for the verification */
        Change *following;            /* ... and the change that started it */
        char *unsettled;              /* an install that did not settle, found by reconcile() */
        DbSettings *db;               /* Django's database, as the last probe said */
        bool ready_sent;
        bool stopping;
        bool journal_failed;
        bool state_foreign; /* another Nautobot's state holds our instance name: record nothing */
        char *instance;     /* --instance=, applied over every configuration loaded */
        bool fatal;         /* the loop ended on an error: exit non-zero, even in watch mode */
        int exit_code;
};

int manager_new(Manager **ret, const char *config_path, Config *config /* takes */, Mode mode);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Runs the mode to its end; returns the process exit code. */
int manager_run(Manager *m);

void change_free(Change *c);
