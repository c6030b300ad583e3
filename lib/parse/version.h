/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PEP 440 version comparison, so that 2026.5.9 < 2026.5.12 < 2026.5.17
 * (CalVer as the reference app uses it) and 1.0rc1 < 1.0 < 1.0.post1.
 */
#pragma once

#include <stdbool.h>

/*
 * Compares two PEP 440 versions: <0, 0 or >0 into *ret. -EINVAL when either
 * is not a valid version (then the caller can only tell equal from different).
 */
int version_compare(const char *a, const char *b, int *ret);

typedef enum VersionChange {
        VERSION_INSTALLED, /* nothing known before */
        VERSION_UPGRADED,
        VERSION_DOWNGRADED,  /* a rollback */
        VERSION_REINSTALLED, /* the same version again */
        VERSION_CHANGED,     /* different, but not comparable */
        VERSION_REMOVED,
        VERSION_RECHECK, /* unchanged, but its last verdict was not a pass: verified again */
        _VERSION_CHANGE_MAX,
} VersionChange;

const char *version_change_to_string(VersionChange c);
int version_change_from_string(const char *s); /* a VersionChange, or -EINVAL */
/* old or new may be NULL (not installed before / now). */
VersionChange version_change(const char *old, const char *new);

typedef enum VersionOp {
        VERSION_OP_LT,
        VERSION_OP_LE,
        VERSION_OP_EQ,
        VERSION_OP_NE,
        VERSION_OP_GE,
        VERSION_OP_GT,
        _VERSION_OP_MAX,
} VersionOp;

/* A requirement on one package: "nautobot >= 3.1.0". */
typedef struct VersionRequirement {
        char *package;
        VersionOp op;
        char *version;
} VersionRequirement;

void version_requirement_done(VersionRequirement *r);

/* Parses "name OP version" (OP one of < <= == != >= >); -EINVAL when malformed. */
int version_requirement_parse(const char *s, VersionRequirement *ret);

/* 1 when installed meets the requirement, 0 when not, -EINVAL when not comparable. */
int version_requirement_met(const VersionRequirement *r, const char *installed);
