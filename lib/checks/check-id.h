/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names of the checks: one CheckId per check, in the order they are
 * reported. Its own header because both the checks (check.h: their table in
 * check.c, which also holds the name lookups) and their configuration
 * (config.h: [checks] enable=, Config.enabled[]) need it, and check.h
 * includes config.h.
 */
#pragma once

#include "check-table.h"

#define CHECK_ID_ENUM(id_, ...) CHECK_ID_##id_,

typedef enum CheckId {
        CHECK_TABLE(CHECK_ID_ENUM) /* CHECK_ID_VERSIONS, ... (check-table.h) */
        _CHECK_ID_MAX,
} CheckId;

/* From check.c's table: "versions", ... (NULL when out of range). */
const char *check_id_to_string(CheckId id);
int check_id_from_string(const char *s); /* a CheckId, or -EINVAL when unknown */
