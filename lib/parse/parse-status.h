/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nautobot's GET /api/status/: what the running web server has loaded
 * ("nautobot-version", "nautobot-apps") and how many Celery workers answer.
 */
#pragma once

#include <stdint.h>

#include "util.h"

typedef struct StatusReport {
        char *nautobot_version;
        char **apps;     /* "label=version" */
        int64_t workers; /* -1 when not reported */
} StatusReport;

StatusReport *status_report_free(StatusReport *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(StatusReport *, status_report_free);

/* -EBADMSG with a reason in *ret_error when the text is not such a document. */
int status_parse(const char *text, size_t len, StatusReport **ret, char **ret_error);

/* The version the server runs of app label, or NULL when it has not loaded it. */
const char *status_app_version(const StatusReport *s, const char *label);
