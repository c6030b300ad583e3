/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One page of Nautobot's REST Job list (GET /api/extras/jobs/), parsed with
 * json-c: {"count", "next", "previous", "results": [job, ...]}.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define JOB_PAGE_RESULTS_MAX 1000 /* Nautobot's own page size limit */

typedef struct JobRecord {
        char *id; /* the Job's UUID, for /api/extras/jobs/<id>/...; NULL when absent */
        char *module_name;
        char *job_class_name;
        char *name;
        char *grouping;
        bool installed;
        bool enabled;
        bool hidden;
} JobRecord;

typedef struct JobPage {
        int64_t count;
        char *next; /* URL of the next page, or NULL */
        JobRecord *jobs;
        size_t n_jobs;
} JobPage;

/* Frees the strings of n records (not the array). */
void job_records_done(JobRecord *jobs, size_t n);

JobPage *job_page_free(JobPage *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(JobPage *, job_page_free);

/* -EBADMSG with a reason in *ret_error when the text is not such a page. */
int job_page_parse(const char *text, size_t len, JobPage **ret, char **ret_error);
