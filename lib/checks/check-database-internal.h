/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of the database check share and nobody else sees: its state,
 * the steps of its one connection (driven by check-database.c), the verdict on
 * the migrations and the rollback's counts (check-database-migrations.c), and
 * the app profile's findings (check-database-profile.c). check.h has the
 * public side, check_database_start().
 */
#pragma once

#include <libpq-fe.h>

#include "check.h"

typedef enum DbStep {
        STEP_CONNECT,
        STEP_MIGRATIONS,
        STEP_READ_ONLY, /* BEGIN READ ONLY, before the profile's queries */
        STEP_DROPS,     /* what migrating back to the installed code's leaf drops, counted */
        STEP_FINDINGS,
} DbStep;

typedef struct DbState {
        PGconn *conn;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *cancel; /* the child sending a cancel request after a timeout */
        DbStep step;
        bool flushing;
        char **on_disk;
        char **applied;
        char *where; /* user@host:port/dbname, for messages */
        Check *check;
        Probe *probe;   /* subscribed to, until it answers */
        bool have_plan; /* the probe's migration plan for the app, to compare with */
        char **plan_unapplied;
        char **plan_unknown;
        const Profile *profile; /* the app's, or NULL */
        size_t finding;         /* the profile's finding being asked */
        bool profile_stopped;   /* a query failed: the transaction is over */
        char *leaf;             /* the installed code's leaf migration (the probe's), or NULL */
        /* Schema ahead of the code (a rollback, pip first): what migrating back drops, as the
         * state recorded it for the release that shipped those migrations; counted here. */
        char **drop_tables;
        char **drop_columns; /* parallel: "" for the whole table */
        char *reason;        /* the FAIL's reason, before the counts are added to it */
        char *newer;         /* the release that shipped them, as the state recorded it */
} DbState;

/* check-database.c */

/* The first line of a failed result's error, for a finding. */
char *db_result_error(PGresult *res);

/* check-database-migrations.c */

/* The verdict on the app's migrations on disk against django_migrations. */
void db_judge(Check *c);
/* Counts what migrating back drops: $1 the tables, $2 the columns ("" for a whole table). */
extern const char db_drops_query[];
/* A PostgreSQL array literal of 'l': {"a","b"}; NULL when out of memory or too long. */
char *db_pg_array(char **l);
/* db_drops_query answered: a finding for each table or column, their sum in the FAIL. */
int db_on_drops_result(Check *c, PGresult *res);

/* check-database-profile.c */

/* A profile's query answered (or BEGIN did): its message, when it holds, as a finding. */
int db_on_profile_result(Check *c, PGresult *res);
/* The next of the profile's findings whose migration is applied, from 'from'; NULL: none. */
const ProfileFinding *db_next_finding(DbState *s, size_t from);
