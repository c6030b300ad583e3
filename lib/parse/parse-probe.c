/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe's JSON document. See parse-probe.h.
 */
#include <json-c/json.h>

#include "json-doc.h"
#include "parse-probe.h"

#define PROBE_FORMAT 1

static void command_done(ProbeCommand *c)
{
        free(c->out);
        free(c->err);
        free(c->error);
}

ProbeReport *probe_report_free(ProbeReport *r)
{
        if (!r)
                return NULL;
        free(r->nautobot_version);
        command_done(&r->check);
        command_done(&r->makemigrations);
        strv_free(r->unapplied);
        strv_free(r->applied_not_shipped);
        free(r->plan_error);
        for (size_t i = 0; i < r->n_apps; i++) {
                free(r->apps[i].label);
                free(r->apps[i].name);
                free(r->apps[i].package);
                free(r->apps[i].version);
                free(r->apps[i].min_version);
                free(r->apps[i].max_version);
        }
        free(r->apps);
        free(r->apps_error);
        strv_free(r->jobs);
        strv_free(r->panels);
        free(r->panels_error);
        free(r->jobs_error);
        free(r->db_engine);
        erase_and_freep(&r->db_password);
        free(r->db_host);
        free(r->db_port);
        free(r->db_name);
        free(r->db_user);
        free(r->db_error);
        free(r->cache_error);
        free(r->broker_error);
        free(r);
        return NULL;
}

/* A string member (absent or null: NULL); -EBADMSG when it is another type. */
static int get_string(json_object *o, const char *key, char **ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* A section's "error", when the probe could not answer it. */
static int get_error(json_object *section, char **ret)
{
        if (!json_object_is_type(section, json_type_object))
                return -EBADMSG;
        return get_string(section, "error", ret);
}

static int get_section(json_object *root, const char *key, json_object **ret)
{
        if (!json_object_object_get_ex(root, key, ret) ||
            !json_object_is_type(*ret, json_type_object))
                return -EBADMSG;
        return 0;
}

static int get_strings(json_object *o, const char *key, char ***ret)
{
        json_object *a;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(a);
        if (n > PROBE_LIST_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);

                if (!json_object_is_type(e, json_type_string))
                        return -EBADMSG;
                r = strv_extend(ret, json_object_get_string(e));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_command(json_object *root, const char *key, ProbeCommand *c)
{
        json_object *s, *v;
        int r;

        if ((r = get_section(root, key, &s)) < 0 || (r = get_error(s, &c->error)) < 0)
                return r;
        if (c->error)
                return 0;
        if (!json_object_object_get_ex(s, "exit_status", &v) ||
            !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        c->exit_status = json_object_get_int(v);
        if ((r = get_string(s, "stdout", &c->out)) < 0 ||
            (r = get_string(s, "stderr", &c->err)) < 0)
                return r;
        c->present = true;
        return 0;
}

static int parse_plan(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "migration_plan", &s)) < 0 ||
            (r = get_error(s, &p->plan_error)) < 0 || p->plan_error)
                return r;
        if ((r = get_strings(s, "unapplied", &p->unapplied)) < 0)
                return r;
        return get_strings(s, "applied_not_shipped", &p->applied_not_shipped);
}

/*
 * A section that is a list of objects, or {"error": ...} (then *ret_error, and
 * *ret_list NULL). Absent: -EBADMSG, or 0 with nothing when 'optional' (a
 * section older probes do not write).
 */
static int get_list(json_object *root, const char *key, bool optional, json_object **ret_list,
                    size_t *ret_n, char **ret_error)
{
        json_object *a;

        *ret_list = NULL;
        *ret_n = 0;
        if (!json_object_object_get_ex(root, key, &a))
                return optional ? 0 : -EBADMSG;
        if (json_object_is_type(a, json_type_object))
                return get_error(a, ret_error);
        if (!json_object_is_type(a, json_type_array))
                return -EBADMSG;
        *ret_n = json_object_array_length(a);
        if (*ret_n > PROBE_LIST_MAX)
                return -E2BIG;
        for (size_t i = 0; i < *ret_n; i++)
                if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_object))
                        return -EBADMSG;
        *ret_list = a;
        return 0;
}

static int parse_apps(json_object *root, ProbeReport *p)
{
        json_object *a, *v;
        size_t n;
        int r;

        r = get_list(root, "apps", false, &a, &n, &p->apps_error);
        if (r < 0 || !a)
                return r;
        p->apps = calloc(n + 1, sizeof(ProbeApp));
        if (!p->apps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                ProbeApp *app = &p->apps[p->n_apps++];

                if ((r = get_string(e, "label", &app->label)) < 0 ||
                    (r = get_string(e, "name", &app->name)) < 0 ||
                    (r = get_string(e, "package", &app->package)) < 0 ||
                    (r = get_string(e, "version", &app->version)) < 0 ||
                    (r = get_string(e, "min_version", &app->min_version)) < 0 ||
                    (r = get_string(e, "max_version", &app->max_version)) < 0)
                        return r;
                if (!app->label)
                        return -EBADMSG;
                /* Absent (older probes): it started, so it admits the running Nautobot. */
                app->admits_nautobot = !json_object_object_get_ex(e, "admits_nautobot", &v) ||
                                       json_object_get_boolean(v);
        }
        return 0;
}

static int parse_jobs(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "jobs", &s)) < 0 || (r = get_error(s, &p->jobs_error)) < 0 ||
            p->jobs_error)
                return r;
        json_object_object_foreach(s, module, classes)
        {
                size_t n;

                if (!json_object_is_type(classes, json_type_array))
                        return -EBADMSG;
                n = json_object_array_length(classes);
                if (strv_length(p->jobs) + n > PROBE_LIST_MAX)
                        return -E2BIG;
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(classes, i);
                        char *path;

                        if (!json_object_is_type(e, json_type_string))
                                return -EBADMSG;
                        path = strjoin_printf("%s.%s", module, json_object_get_string(e));
                        if (!path || (r = strv_push(&p->jobs, path)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* A list of {"name": ...}, or {"error": ...}; absent: not asked (older probes). */
static int parse_panels(json_object *root, ProbeReport *p)
{
        json_object *a;
        size_t n;
        int r;

        r = get_list(root, "panels", true, &a, &n, &p->panels_error);
        if (r < 0 || !a)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                _cleanup_free_ char *name = NULL;

                if ((r = get_string(e, "name", &name)) < 0 || !name)
                        return -EBADMSG;
                r = strv_push(&p->panels, TAKE_PTR(name));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_database(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "database", &s)) < 0 || (r = get_error(s, &p->db_error)) < 0 ||
            p->db_error)
                return r;
        if ((r = get_string(s, "engine", &p->db_engine)) < 0 ||
            (r = get_string(s, "host", &p->db_host)) < 0 ||
            (r = get_string(s, "port", &p->db_port)) < 0 ||
            (r = get_string(s, "name", &p->db_name)) < 0)
                return r;
        return get_string(s, "user", &p->db_user);
}

static int parse_reachable(json_object *root, const char *key, char **ret_error)
{
        json_object *s;
        int r;

        if ((r = get_section(root, key, &s)) < 0 || (r = get_error(s, ret_error)) < 0)
                return r;
        return 0;
}

int probe_report_parse(const char *text, size_t len, ProbeReport **ret, char **ret_error)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;
        json_object *root = NULL, *v;
        int r;

        if (len == 0 || len > PROBE_RESULT_MAX) {
                *ret_error = strjoin_printf(len ? "the probe's result is larger than %d bytes"
                                                : "the probe wrote no result",
                                            PROBE_RESULT_MAX);
                return -EBADMSG;
        }
        r = json_parse_document(text, len, 32, &root);
        if (r == -EBADMSG)
                *ret_error = strdup("the probe's result is not one JSON document");
        if (r < 0)
                return r;
        p = calloc(1, sizeof(*p));
        if (!p) {
                json_object_put(root);
                return -ENOMEM;
        }
        r = json_object_is_type(root, json_type_object) &&
                            json_object_object_get_ex(root, "format", &v) &&
                            json_object_is_type(v, json_type_int) &&
                            json_object_get_int(v) == PROBE_FORMAT
                    ? 0
                    : -EPROTO;
        if (r >= 0)
                r = get_string(root, "nautobot_version", &p->nautobot_version);
        if (r >= 0)
                r = parse_command(root, "check", &p->check);
        if (r >= 0)
                r = parse_command(root, "makemigrations", &p->makemigrations);
        if (r >= 0)
                r = parse_plan(root, p);
        if (r >= 0)
                r = parse_apps(root, p);
        if (r >= 0)
                r = parse_jobs(root, p);
        if (r >= 0)
                r = parse_panels(root, p);
        if (r >= 0)
                r = parse_database(root, p);
        if (r >= 0)
                r = parse_reachable(root, "cache", &p->cache_error);
        if (r >= 0)
                r = parse_reachable(root, "broker", &p->broker_error);
        json_object_put(root);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_error = strdup(r == -EPROTO  ? "the probe's result is not format 1"
                                    : r == -E2BIG ? "the probe's result holds too long a list"
                                                  : "the probe's result is malformed");
                return -EBADMSG;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

bool probe_report_has_job(const ProbeReport *r, const char *module, const char *class_name)
{
        size_t ml = strlen(module);

        STRV_FOREACH (j, r->jobs)
                if (strncmp(*j, module, ml) == 0 && (*j)[ml] == '.' &&
                    streq(*j + ml + 1, class_name))
                        return true;
        return false;
}
