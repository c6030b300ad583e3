/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * App profiles: what the daemon knows about one app beyond its configuration
 * (the data hazards its upgrade guide warns about, their read-only queries,
 * the advice for disabled Jobs, what a rollback drops), kept as data in one
 * small INI file per app, so the generic checks name no app. The format is
 * described in README.md ("App profiles") and in the shipped profile
 * lib/checks/profiles/nautobot-contract-models.conf.
 */
#pragma once

#include "config-dir.h"
#include "util.h"

#define PROFILE_DIR_ETC       CONFIG_DIR "/profiles.d" /* the admin's: wins */
#define PROFILE_SIZE_MAX      (64 * 1024)
#define PROFILE_FINDINGS_MAX  16
#define PROFILE_ROLLBACKS_MAX 16
#define PROFILE_NAME_MAX      40   /* of [finding NAME] and [rollback NAME] */
#define PROFILE_TEXT_MAX      1024 /* message=, when-disabled=, drops= */
#define PROFILE_QUERY_MAX     4096
#define PROFILE_VALUE_MAX     256 /* of one query column substituted into a message */
#define PROFILE_COLUMNS_MAX   9   /* {1} ... {9} */

/* [finding NAME]: a read-only query whose answer decides a finding of the database check. */
typedef struct ProfileFinding {
        char *name;
        char *after;      /* the app's migration that must be applied, or NULL: always */
        char *query;      /* one SELECT; first column boolean: report or not */
        char *message;    /* {N}: the query's column N (counting from 0) */
        unsigned line;    /* of its [finding NAME] header */
        unsigned columns; /* the highest {N} in message */
} ProfileFinding;

/* [rollback NAME]: what going below a migration drops. */
typedef struct ProfileRollback {
        char *name;
        char *below;
        char *drops;
        unsigned line;
} ProfileRollback;

typedef struct Profile {
        char *path;
        char *package; /* [app] package= */
        char *label;   /* [app] label=: the Django app label the migrations belong to */
        unsigned label_line;
        char *jobs_disabled; /* [jobs] when-disabled=, or NULL */
        char *jobs_grouping; /* [jobs] grouping=: where the app's upgrade guide shows its Jobs */
        ProfileFinding findings[PROFILE_FINDINGS_MAX];
        size_t n_findings;
        ProfileRollback rollbacks[PROFILE_ROLLBACKS_MAX];
        size_t n_rollbacks;
} Profile;

Profile *profile_free(Profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Profile *, profile_free);

/*
 * Parses a profile's text; 'path' names it in errors. When 'package' is given,
 * [app] package= must name it (compared PEP 503-normalised). On failure
 * returns a negative errno and, when ret_error is given, "path:line: reason"
 * ("path: reason" for what concerns the whole file).
 */
int profile_parse(const char *text, const char *path, const char *package, Profile **ret,
                  char **ret_error);

/* Reads 'path' (a regular file of at most PROFILE_SIZE_MAX bytes) and parses it. */
int profile_load(const char *path, const char *package, Profile **ret, char **ret_error);

/*
 * The profile of 'package': the first "<dir>/<normalised name>.conf" of 'dirs'
 * that exists. Returns 0 with *ret NULL when there is none (a missing profile
 * is normal: no app knowledge, no findings); a profile that exists but cannot
 * be read or parsed is an error, as profile_load().
 */
int profile_find(char *const *dirs, const char *package, Profile **ret, char **ret_error);

/*
 * A finding's message with {N} replaced by values[N - 1] (the query's column N;
 * each cut at PROFILE_VALUE_MAX bytes, NULL as empty).
 */
char *profile_finding_format(const ProfileFinding *f, char *const *values, size_t n_values);

/*
 * "going below 0008_x drops the y; going below ..." from the [rollback]
 * sections, or NULL (with 0) when there is none.
 */
int profile_rollback_text(const Profile *p, char **ret);
