/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Job list pages from Nautobot's REST API. See parse-jobs.h. Only the fields
 * that identify a Job and its state are read; the rest of each object is
 * ignored so newer Nautobot releases with more fields still parse.
 */
#include <json-c/json.h>

#include "parse-jobs.h"

#define JSON_DEPTH_MAX 32

void job_records_done(JobRecord *jobs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(jobs[i].module_name);
                free(jobs[i].job_class_name);
                free(jobs[i].id);
                free(jobs[i].name);
                free(jobs[i].grouping);
        }
}

JobPage *job_page_free(JobPage *p)
{
        if (!p)
                return NULL;
        job_records_done(p->jobs, p->n_jobs);
        free(p->jobs);
        free(p->next);
        free(p);
        return NULL;
}

static int get_string(json_object *o, const char *key, bool required, char **ret, char **ret_error)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (!required) {
                        *ret = NULL;
                        return 0;
                }
                *ret_error = strjoin_printf("field '%s' is missing", key);
                return -EBADMSG;
        }
        if (!json_object_is_type(v, json_type_string)) {
                *ret_error = strjoin_printf("field '%s' is not a string", key);
                return -EBADMSG;
        }
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int get_bool(json_object *o, const char *key, bool *ret, char **ret_error)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean)) {
                *ret_error = strjoin_printf("field '%s' is missing or not a boolean", key);
                return -EBADMSG;
        }
        *ret = json_object_get_boolean(v);
        return 0;
}

static int parse_job(json_object *o, JobRecord *j, char **ret_error)
{
        int r;

        if (!json_object_is_type(o, json_type_object)) {
                *ret_error = strdup("a result is not an object");
                return -EBADMSG;
        }
        if ((r = get_string(o, "id", false, &j->id, ret_error)) < 0 ||
            (r = get_string(o, "module_name", true, &j->module_name, ret_error)) < 0 ||
            (r = get_string(o, "job_class_name", true, &j->job_class_name, ret_error)) < 0 ||
            (r = get_string(o, "name", true, &j->name, ret_error)) < 0 ||
            (r = get_string(o, "grouping", false, &j->grouping, ret_error)) < 0 ||
            (r = get_bool(o, "installed", &j->installed, ret_error)) < 0 ||
            (r = get_bool(o, "enabled", &j->enabled, ret_error)) < 0)
                return r;
        /* "hidden" is informational; older releases may lack it. */
        json_object *v;
        if (json_object_object_get_ex(o, "hidden", &v) && json_object_is_type(v, json_type_boolean))
                j->hidden = json_object_get_boolean(v);
        return 0;
}

int job_page_parse(const char *text, size_t len, JobPage **ret, char **ret_error)
{
        _cleanup_(job_page_freep) JobPage *p = NULL;
        json_tokener *tok;
        json_object *root, *results, *v;
        char *error = NULL;
        size_t n;
        int r = 0;

        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)len);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != len) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                error = strjoin_printf("not JSON: %s", e == json_tokener_continue
                                                               ? "unexpected end of input"
                                                       : e == json_tokener_success
                                                               ? "trailing data after the document"
                                                               : json_tokener_error_desc(e));
                json_tokener_free(tok);
                json_object_put(root);
                *ret_error = error;
                return -EBADMSG;
        }
        json_tokener_free(tok);

        if (!json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "results", &results) ||
            !json_object_is_type(results, json_type_array)) {
                *ret_error = strdup("not a paginated list: no \"results\" array");
                json_object_put(root);
                return -EBADMSG;
        }
        n = json_object_array_length(results);
        if (n > JOB_PAGE_RESULTS_MAX) {
                *ret_error = strjoin_printf("page holds %zu results, more than %d", n,
                                            JOB_PAGE_RESULTS_MAX);
                json_object_put(root);
                return -E2BIG;
        }

        p = calloc(1, sizeof(*p));
        if (p)
                p->jobs = calloc(n ?: 1, sizeof(JobRecord));
        if (!p || !p->jobs) {
                json_object_put(root);
                return -ENOMEM;
        }
        p->count = -1;
        if (json_object_object_get_ex(root, "count", &v) && json_object_is_type(v, json_type_int))
                p->count = json_object_get_int64(v);
        r = get_string(root, "next", false, &p->next, &error);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = parse_job(json_object_array_get_idx(results, i), &p->jobs[i], &error);
                p->n_jobs = i + 1; /* so a half-filled record is freed too */
                if (r < 0) {
                        char *e = strjoin_printf("result %zu: %s", i, strempty(error));

                        free(error);
                        error = e;
                }
        }
        json_object_put(root);
        if (r < 0) {
                *ret_error = error;
                return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
