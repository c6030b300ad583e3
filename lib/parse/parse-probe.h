/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe's answer (lib/checks/probe/nautobot-verifyd-probe.py, format 2): one
 * JSON document, parsed with json-c into plain C, every list bounded. A
 * section the probe could not answer carries its error text instead. What it
 * answers per app (makemigrations, panels) is kept per app: one probe run
 * serves every app verified in the same run.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PROBE_RESULT_MAX (4 * 1024 * 1024)
#define PROBE_LIST_MAX   10000
#define PROBE_APPS_MAX   256 /* apps answered for in one document */

/* A management command as the command line runs it: exit status and streams. */
typedef struct ProbeCommand {
        bool present;
        int exit_status;
        char *out;
        char *err;
        char *error; /* the probe could not run it */
} ProbeCommand;

typedef struct ProbeApp {
        char *label;
        char *name;
        char *package; /* the distribution that installs it */
        bool admits_nautobot;
        char *version;
        char *min_version;
        char *max_version;
} ProbeApp;

/* What the probe answered for one app label. */
typedef struct ProbeAppAnswer {
        char *label;
        ProbeCommand makemigrations; /* neither .present nor .error: not answered for this label */
        char **panels;               /* titles of the home-page panels the app declares */
        /* Those of them the web account may not see, and the permissions it lacks for each
         * ("nautobot_contract_models.view_contract, ..."), side by side. */
        char **panels_unseen;
        char **panels_unseen_perms;
        char *panels_error;  /* this label's panels could not be answered */
        bool panels_present; /* answered (a list, maybe empty) */
        char **leaves;       /* the app's leaf migration(s) in the installed code */
        /* What unapplying each migration the installed code ships destroys (the probe's
         * "reversal" for this label), validated; kept as JSON, as the state file keeps it. */
        json_object *reversal;
} ProbeAppAnswer;

/* What unapplying one migration destroys on this database: a table, or a column of one. */
typedef struct ProbeDrop {
        char *table;
        char *column; /* NULL: the whole table */
        int64_t rows; /* counted now; -1: no such table or column in this database */
} ProbeDrop;

typedef struct ProbeRollbackStep {
        char *migration; /* "app.name", in the order migrate unapplies them */
        ProbeDrop *drops;
        size_t n_drops;
        char **irreversible; /* operations without a reverse: the migrate back fails there */
} ProbeRollbackStep;

/* The "rollback" section: Django's backward plan to a target, counted. */
typedef struct ProbeRollback {
        bool present; /* answered */
        char *error;  /* could not be answered (or was not asked for) */
        char *label;
        char *target;
        char *target_from; /* the target was read from these files (a wheel, a directory) */
        ProbeRollbackStep *steps;
        size_t n_steps;
} ProbeRollback;

/* A Celery worker that answered: "celery@host" as it names itself, and its pid there. */
typedef struct ProbeWorker {
        char *hostname;
        int pid;
} ProbeWorker;

#define PROBE_WORKERS_MAX 64

typedef struct ProbeReport {
        char *nautobot_version;
        /* Booted ahead, then booted again as asked: the file of its code written since (or NULL).
         */
        char *booted_again;
        ProbeCommand check;
        ProbeAppAnswer *answers; /* in the document's order, one per label */
        size_t n_answers;
        char *makemigrations_error; /* the section as a whole could not be answered */
        char *panels_error;         /* the same */
        char **unapplied;           /* "app.name" */
        char **applied_not_shipped; /* "app.name" */
        char *plan_error;
        ProbeApp *apps; /* label and package (when known) are valid: they may name a path */
        size_t n_apps;
        char **apps_refused; /* why each app whose label or distribution name is not one was left
                                out of apps (printable: control bytes escaped) */
        char *apps_error;
        char **jobs; /* "module.ClassName" the installed code registers */
        char *jobs_error;
        char *db_engine, *db_host, *db_port, *db_name, *db_user;
        char *db_password; /* after the document (see the probe); wiped when freed, never reported
                            */
        char *db_error;
        char *cache_error;    /* NULL: answered */
        char *broker_error;   /* NULL: answered */
        ProbeWorker *workers; /* the Celery workers that answer, as the broker names them */
        size_t n_workers;
        char *workers_error; /* NULL: answered (or not asked for: n_workers 0, workers NULL) */
        ProbeRollback rollback;
} ProbeReport;

ProbeReport *probe_report_free(ProbeReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProbeReport *, probe_report_free);

/*
 * -EBADMSG (with the reason in *ret_error) when it is not a format-2 document.
 * 'text' is the document only (the probe's result up to its NUL byte).
 */
int probe_report_parse(const char *text, size_t len, ProbeReport **ret, char **ret_error);

/* What the probe answered for app 'label'; NULL when it said nothing for it. */
const ProbeAppAnswer *probe_report_app(const ProbeReport *r, const char *label);

/* True when the code registers Job "module.ClassName". */
bool probe_report_has_job(const ProbeReport *r, const char *module, const char *class_name);
