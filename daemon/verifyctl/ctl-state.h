/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What nautobot-verifyctl status knows: per instance and package found in the
 * state directory (state.h), the state file, the release installed now
 * (metadata.h), and whether the installed release is the verified one; per
 * instance, the daemon's units as systemd reports them over sd-bus (GetUnit,
 * ActiveState). ctl-status.c says it (terminal, JSON, --nagios). Bounded:
 * instances, state files per instance, entries per directory.
 */
#pragma once

#include "config.h"
#include "ctl.h"
#include "state.h"

#define INSTANCES_MAX   256
#define PACKAGES_MAX    64
#define UNITS_MAX       4
#define DIR_ENTRIES_MAX 10000 /* directory entries looked at, per directory */

/* Worst last: the order decides an instance's and the whole status's word. */
typedef enum RowStatus {
        ROW_PASS,
        ROW_UNKNOWN,      /* the state file cannot be read */
        ROW_INCOMPLETE,   /* the last verdict: a check could not run or was skipped */
        ROW_NOT_VERIFIED, /* the installed release is not the verified one */
        ROW_FAIL,
        _ROW_STATUS_MAX,
} RowStatus;

const char *row_status_to_string(RowStatus s);

typedef struct Row {
        char *package; /* the state file's, or its file name when it cannot be read */
        char *path;
        PackageState *state; /* NULL: unreadable */
        char *error;         /* why unreadable */
        char *installed;     /* NULL: not installed, or unknown */
        char *installed_error;
        bool app; /* the report in the state is this package's own (not a watched package's) */
        RowStatus status;
} Row;

typedef struct UnitInfo {
        char unit[128];
        char *active; /* ActiveState; NULL: could not be asked */
        char *sub;
        char *status_text; /* a running service's STATUS= ("… waiting for: migrate …"), or NULL */
        bool loaded;
        char *error;
} UnitInfo;

typedef struct Instance {
        char *name;
        char *dir;
        const char *site_packages; /* points into a row's state or the configuration */
        Row rows[PACKAGES_MAX];
        size_t n_rows;
        bool rows_cut;
        UnitInfo units[UNITS_MAX];
        size_t n_units;
} Instance;

typedef struct Status {
        const CtlOptions *o;
        Config *config;
        const char *state_directory;
        char *error; /* the state directory cannot be read */
        Instance *instances[INSTANCES_MAX];
        size_t n_instances;
        bool instances_cut;
        bool systemd;        /* systemd answered on the bus */
        char *systemd_error; /* why not */
        uint64_t now;
} Status;

/* Frees what the Status holds (not the Status). */
void status_done(Status *s);

/*
 * The configuration, for its state directory, site-packages and app: 0, or
 * an exit code after saying why on stderr.
 */
int status_load_config(Status *s);
/* Reads the state directory, the installed releases, each row's status. */
int status_read(Status *s);
/* The units of each instance; without systemd, s->systemd_error says so. */
int status_ask_systemd(Status *s);

/*
 * The packages of an instance were verified together, by one run: when one of
 * them is no longer the verified release, the instance is not verified yet.
 */
RowStatus instance_status(const Instance *in);
/* The row that says what the instance's status is about: the app's when it can. */
const Row *instance_headline(const Instance *in);
bool status_has(const Status *s, RowStatus what);
size_t status_n_rows(const Status *s);
/* The daemon's exit codes: 0 pass, 1 a failure, 2 anything short of a verified pass. */
int status_exit_code(const Status *s);
/* fail: CRITICAL; incomplete or not verified: WARNING; no state: UNKNOWN. */
int status_nagios_code(const Status *s);
/* "pass", "fail", "not-verified", "incomplete", "unknown" */
const char *status_word(const Status *s);
