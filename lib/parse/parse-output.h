/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Understanding what nautobot-server said: the output of "check" and of
 * "makemigrations --check --dry-run <label>", together with the exit status.
 */
#pragma once

#include "util.h"

typedef enum SystemCheckVerdict {
        SYSTEM_CHECK_CLEAN,      /* exit 0, "no issues" */
        SYSTEM_CHECK_WARNINGS,   /* exit 0 with issues below the fail level */
        SYSTEM_CHECK_ERRORS,     /* exit 1, SystemCheckError */
        SYSTEM_CHECK_CRASHED,    /* a Python exception before any check ran */
        SYSTEM_CHECK_UNEXPECTED, /* anything else: the raw output is the evidence */
} SystemCheckVerdict;

typedef struct SystemCheckReport {
        SystemCheckVerdict verdict;
        char **issues;   /* "obj: (id) message" lines */
        char *exception; /* last line of a traceback */
} SystemCheckReport;

void system_check_report_done(SystemCheckReport *r);
int system_check_parse(int exit_status, const char *out, const char *err, SystemCheckReport *ret);

typedef enum MigrationsVerdict {
        MIGRATIONS_NO_CHANGES,     /* exit 0 */
        MIGRATIONS_CHANGES,        /* exit 1: models changed without migrations */
        MIGRATIONS_APP_NOT_LOADED, /* exit 2: "No installed app with label" */
        MIGRATIONS_CRASHED,
        MIGRATIONS_UNEXPECTED,
} MigrationsVerdict;

typedef struct MigrationsReport {
        MigrationsVerdict verdict;
        char **changes; /* "0011_x.py: + Add field foo to contract" */
        char *exception;
} MigrationsReport;

void migrations_report_done(MigrationsReport *r);
int migrations_parse(int exit_status, const char *label, const char *out, const char *err,
                     MigrationsReport *ret);

/* The last line of a Python traceback in text ("KeyError: 'x'"), or NULL. */
char *python_exception_line(const char *text);
