/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe's JSON document. See parse-probe.h.
 */
#include <json-c/json.h>

#include "json-doc.h"
#include "metadata.h"
#include "parse-probe.h"

#define PROBE_FORMAT 2

static void command_done(ProbeCommand *c)
{
        free(c->out);
        free(c->err);
        free(c->error);
}

static void app_done(ProbeApp *app)
{
        free(app->label);
        free(app->name);
        free(app->package);
        free(app->version);
        free(app->min_version);
        free(app->max_version);
        *app = (ProbeApp){};
}

static void rollback_done(ProbeRollback *rb)
{
        for (size_t i = 0; i < rb->n_steps; i++) {
                ProbeRollbackStep *st = &rb->steps[i];

                free(st->migration);
                for (size_t j = 0; j < st->n_drops; j++) {
                        free(st->drops[j].table);
                        free(st->drops[j].column);
                }
                free(st->drops);
                strv_free(st->irreversible);
        }
        free(rb->steps);
        free(rb->error);
        free(rb->label);
        free(rb->target);
        free(rb->target_from);
}

ProbeReport *probe_report_free(ProbeReport *r)
{
        if (!r)
                return NULL;
        free(r->nautobot_version);
        free(r->booted_again);
        command_done(&r->check);
        for (size_t i = 0; i < r->n_answers; i++) {
                free(r->answers[i].label);
                command_done(&r->answers[i].makemigrations);
                strv_free(r->answers[i].panels);
                strv_free(r->answers[i].panels_unseen);
                strv_free(r->answers[i].panels_unseen_perms);
                free(r->answers[i].panels_error);
                strv_free(r->answers[i].leaves);
                json_object_put(r->answers[i].reversal);
        }
        free(r->answers);
        free(r->makemigrations_error);
        free(r->panels_error);
        strv_free(r->unapplied);
        strv_free(r->applied_not_shipped);
        free(r->plan_error);
        for (size_t i = 0; i < r->n_apps; i++)
                app_done(&r->apps[i]);
        free(r->apps);
        strv_free(r->apps_refused);
        free(r->apps_error);
        strv_free(r->jobs);
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
        for (size_t i = 0; i < r->n_workers; i++)
                free(r->workers[i].hostname);
        free(r->workers);
        free(r->workers_error);
        rollback_done(&r->rollback);
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

/* {"exit_status", "stdout", "stderr"}, or {"error": ...}. */
static int parse_command_object(json_object *s, ProbeCommand *c)
{
        json_object *v;
        int r;

        if ((r = get_error(s, &c->error)) < 0 || c->error)
                return r;
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

static int parse_command(json_object *root, const char *key, ProbeCommand *c)
{
        json_object *s;
        int r;

        if ((r = get_section(root, key, &s)) < 0)
                return r;
        return parse_command_object(s, c);
}

/*
 * A section keyed by app label that failed as a whole: {"error": "..."}, a string (an app
 * labelled "error" has an object or a list there).
 */
static int get_section_error(json_object *section, char **ret)
{
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(section, "error", &v) ||
            !json_object_is_type(v, json_type_string))
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* The answer for 'label', added at the end when it is the first word on it. */
static int answer_for(ProbeReport *p, const char *label, ProbeAppAnswer **ret)
{
        _cleanup_free_ char *copy = NULL;
        ProbeAppAnswer *a;

        if (isempty(label))
                return -EBADMSG;
        for (size_t i = 0; i < p->n_answers; i++)
                if (streq(p->answers[i].label, label)) {
                        *ret = &p->answers[i];
                        return 0;
                }
        if (p->n_answers >= PROBE_APPS_MAX)
                return -E2BIG;
        copy = strdup(label);
        if (!copy)
                return -ENOMEM;
        a = realloc(p->answers, sizeof(ProbeAppAnswer) * (p->n_answers + 1));
        if (!a)
                return -ENOMEM;
        p->answers = a;
        a = &p->answers[p->n_answers++];
        *a = (ProbeAppAnswer){.label = TAKE_PTR(copy)};
        *ret = a;
        return 0;
}

/* {"<label>": {"exit_status", "stdout", "stderr"}, ...}, or {"error": ...}. */
static int parse_makemigrations(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "makemigrations", &s)) < 0 ||
            (r = get_section_error(s, &p->makemigrations_error)) < 0 || p->makemigrations_error)
                return r;
        json_object_object_foreach(s, label, command)
        {
                ProbeAppAnswer *a;

                if (!json_object_is_type(command, json_type_object))
                        return -EBADMSG;
                if ((r = answer_for(p, label, &a)) < 0 ||
                    (r = parse_command_object(command, &a->makemigrations)) < 0)
                        return r;
        }
        return 0;
}

/* An array of strings, each at most 'max' bytes, at most PROBE_LIST_MAX of them. */
static bool strings_valid(json_object *a, size_t max)
{
        if (!json_object_is_type(a, json_type_array) ||
            json_object_array_length(a) > PROBE_LIST_MAX)
                return false;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);

                if (!json_object_is_type(e, json_type_string) ||
                    (size_t)json_object_get_string_len(e) > max)
                        return false;
        }
        return true;
}

#define PROBE_NAME_MAX 255 /* of a migration, table or column: PostgreSQL's are 63 */

/* {"tables": [...], "columns": [{"table", "column"}], "irreversible": [...]}. */
static bool reversal_valid(json_object *o)
{
        json_object *t, *c, *i;

        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "tables", &t) ||
            !json_object_object_get_ex(o, "columns", &c) ||
            !json_object_object_get_ex(o, "irreversible", &i) ||
            !strings_valid(t, PROBE_NAME_MAX) || !strings_valid(i, 1024) ||
            !json_object_is_type(c, json_type_array) ||
            json_object_array_length(c) > PROBE_LIST_MAX)
                return false;
        for (size_t k = 0; k < json_object_array_length(c); k++) {
                json_object *e = json_object_array_get_idx(c, k), *v;

                if (!json_object_is_type(e, json_type_object))
                        return false;
                for (const char *const *key = (const char *const[]){"table", "column", NULL}; *key;
                     key++)
                        if (!json_object_object_get_ex(e, *key, &v) ||
                            !json_object_is_type(v, json_type_string) ||
                            json_object_get_string_len(v) > PROBE_NAME_MAX)
                                return false;
        }
        return true;
}

/*
 * "leaves" and "reversal", per app label (probes of before 0.9 answer neither: nothing is
 * recorded then).
 */
static int parse_plan_apps(json_object *s, ProbeReport *p)
{
        json_object *leaves, *reversal;
        int r;

        if (json_object_object_get_ex(s, "leaves", &leaves)) {
                if (!json_object_is_type(leaves, json_type_object))
                        return -EBADMSG;
                json_object_object_foreach(leaves, label, list)
                {
                        ProbeAppAnswer *a;

                        if (!strings_valid(list, PROBE_NAME_MAX))
                                return -EBADMSG;
                        if ((r = answer_for(p, label, &a)) < 0 ||
                            (r = get_strings(leaves, label, &a->leaves)) < 0)
                                return r;
                }
        }
        if (!json_object_object_get_ex(s, "reversal", &reversal))
                return 0;
        if (!json_object_is_type(reversal, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(reversal, label, migrations)
        {
                ProbeAppAnswer *a;

                if (!json_object_is_type(migrations, json_type_object) ||
                    json_object_object_length(migrations) > PROBE_LIST_MAX)
                        return -EBADMSG;
                json_object_object_foreach(migrations, name, undo)
                {
                        if (strlen(name) > PROBE_NAME_MAX || !reversal_valid(undo))
                                return -EBADMSG;
                }
                if ((r = answer_for(p, label, &a)) < 0)
                        return r;
                a->reversal = json_object_get(migrations);
        }
        return 0;
}

static int parse_plan(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "migration_plan", &s)) < 0 ||
            (r = get_error(s, &p->plan_error)) < 0 || p->plan_error)
                return r;
        if ((r = get_strings(s, "unapplied", &p->unapplied)) < 0 ||
            (r = get_strings(s, "applied_not_shipped", &p->applied_not_shipped)) < 0)
                return r;
        return parse_plan_apps(s, p);
}

/* {"table", ["column",] "rows": N or null}. */
static int parse_drop(json_object *e, ProbeDrop *d)
{
        json_object *v;
        int r;

        if (!json_object_is_type(e, json_type_object))
                return -EBADMSG;
        if ((r = get_string(e, "table", &d->table)) < 0 ||
            (r = get_string(e, "column", &d->column)) < 0)
                return r;
        if (!d->table || !json_object_object_get_ex(e, "rows", &v))
                return -EBADMSG;
        if (json_object_is_type(v, json_type_null))
                d->rows = -1;
        else if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
                d->rows = json_object_get_int64(v);
        else
                return -EBADMSG;
        return 0;
}

static int parse_step(json_object *e, ProbeRollbackStep *st)
{
        json_object *tables, *columns;
        size_t nt, nc;
        int r;

        if (!json_object_is_type(e, json_type_object))
                return -EBADMSG;
        if ((r = get_string(e, "migration", &st->migration)) < 0)
                return r;
        if (!st->migration || !json_object_object_get_ex(e, "tables", &tables) ||
            !json_object_object_get_ex(e, "columns", &columns) ||
            !json_object_is_type(tables, json_type_array) ||
            !json_object_is_type(columns, json_type_array))
                return -EBADMSG;
        nt = json_object_array_length(tables);
        nc = json_object_array_length(columns);
        if (nt + nc > PROBE_LIST_MAX)
                return -E2BIG;
        st->drops = calloc(nt + nc + 1, sizeof(ProbeDrop));
        if (!st->drops)
                return -ENOMEM;
        for (size_t i = 0; i < nt + nc; i++) {
                r = parse_drop(i < nt ? json_object_array_get_idx(tables, i)
                                      : json_object_array_get_idx(columns, i - nt),
                               &st->drops[st->n_drops++]);
                if (r < 0)
                        return r;
                if ((i < nt) != !st->drops[i].column)
                        return -EBADMSG;
        }
        return get_strings(e, "irreversible", &st->irreversible);
}

/* The backward plan, only when asked for (older probes and other runs: absent or an error). */
static int parse_rollback(json_object *root, ProbeReport *p)
{
        ProbeRollback *rb = &p->rollback;
        json_object *s, *plan;
        size_t n;
        int r;

        if (!json_object_object_get_ex(root, "rollback", NULL))
                return 0;
        if ((r = get_section(root, "rollback", &s)) < 0 || (r = get_error(s, &rb->error)) < 0 ||
            rb->error)
                return r;
        if ((r = get_string(s, "label", &rb->label)) < 0 ||
            (r = get_string(s, "target", &rb->target)) < 0 ||
            (r = get_string(s, "target_from", &rb->target_from)) < 0)
                return r;
        if (!rb->label || !rb->target || !json_object_object_get_ex(s, "plan", &plan) ||
            !json_object_is_type(plan, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(plan);
        if (n > PROBE_LIST_MAX)
                return -E2BIG;
        rb->steps = calloc(n + 1, sizeof(ProbeRollbackStep));
        if (!rb->steps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if ((r = parse_step(json_object_array_get_idx(plan, i),
                                    &rb->steps[rb->n_steps++])) < 0)
                        return r;
        rb->present = true;
        return 0;
}

/*
 * A list of objects, or {"error": ...} (then *ret_error, and *ret_list NULL).
 */
static int get_list(json_object *a, json_object **ret_list, size_t *ret_n, char **ret_error)
{
        *ret_list = NULL;
        *ret_n = 0;
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

/*
 * Why 'app' cannot be used, in *ret (NULL when it can be). The label names a directory
 * (<site-packages>/<label>/static, .../migrations) and the distribution a state file, read
 * and written by a daemon that may run as root; the account that owns the app's code
 * decides what the probe says. Django wants an identifier for a label, pip a PEP 508 name:
 * anything else is no app this tool can verify.
 */
static int app_refusal(const ProbeApp *app, char **ret)
{
        _cleanup_free_ char *label = str_escape_control(app->label),
                            *name = str_escape_control(strempty(app->name)),
                            *package = app->package ? str_escape_control(app->package) : NULL;

        *ret = NULL;
        if (!label || !name || (app->package && !package))
                return -ENOMEM;
        if (!python_identifier_valid(app->label))
                *ret = strjoin_printf(
                        "the server loads an app (%s) whose label '%s' is not a Django app label (an ASCII Python identifier of at most %d bytes): not verified",
                        name, label, PYTHON_IDENTIFIER_MAX);
        else if (app->package && !python_name_valid(app->package))
                *ret = strjoin_printf(
                        "the server loads app %s (%s) from a distribution whose name '%s' is not a Python distribution name (PEP 508, at most %d bytes): not verified",
                        label, name, package, PYTHON_NAME_MAX);
        else
                return 0;
        return *ret ? 0 : -ENOMEM;
}

static int parse_apps(json_object *root, ProbeReport *p)
{
        json_object *s, *a, *v;
        size_t n;
        int r;

        if (!json_object_object_get_ex(root, "apps", &s))
                return -EBADMSG;
        r = get_list(s, &a, &n, &p->apps_error);
        if (r < 0 || !a)
                return r;
        p->apps = calloc(n + 1, sizeof(ProbeApp));
        if (!p->apps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                ProbeApp *app = &p->apps[p->n_apps++];
                _cleanup_free_ char *why = NULL;

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
                if ((r = app_refusal(app, &why)) < 0)
                        return r;
                if (why) { /* said, never used */
                        app_done(app);
                        p->n_apps--;
                        if ((r = strv_push(&p->apps_refused, TAKE_PTR(why))) < 0)
                                return r;
                }
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

/* One app's list of {"name": ...}, or {"error": ...}. */
static int parse_app_panels(json_object *list, ProbeAppAnswer *answer)
{
        json_object *a;
        size_t n;
        int r;

        r = get_list(list, &a, &n, &answer->panels_error);
        if (r < 0)
                return r;
        if (!a)
                return answer->panels_error ? 0 : -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                _cleanup_free_ char *name = NULL;

                json_object *lacking;

                if ((r = get_string(e, "name", &name)) < 0 || !name)
                        return -EBADMSG;
                if (json_object_object_get_ex(e, "lacking", &lacking)) {
                        _cleanup_strv_free_ char **perms = NULL;

                        if (!json_object_is_type(lacking, json_type_array))
                                return -EBADMSG;
                        for (size_t j = 0; j < json_object_array_length(lacking) && j < 64; j++) {
                                json_object *x = json_object_array_get_idx(lacking, j);

                                if (!json_object_is_type(x, json_type_string))
                                        return -EBADMSG;
                                if ((r = strv_extend(&perms, json_object_get_string(x))) < 0)
                                        return r;
                        }
                        if ((r = strv_extend(&answer->panels_unseen, name)) < 0 ||
                            (r = strv_push(&answer->panels_unseen_perms, strv_join(perms, ", "))) <
                                    0)
                                return r;
                }
                r = strv_push(&answer->panels, TAKE_PTR(name));
                if (r < 0)
                        return r;
        }
        answer->panels_present = true;
        return 0;
}

/* {"<label>": [{"name": ...}, ...] or {"error": ...}, ...}, or {"error": ...}. */
static int parse_panels(json_object *root, ProbeReport *p)
{
        json_object *s;
        int r;

        if ((r = get_section(root, "panels", &s)) < 0 ||
            (r = get_section_error(s, &p->panels_error)) < 0 || p->panels_error)
                return r;
        json_object_object_foreach(s, label, list)
        {
                ProbeAppAnswer *a;

                if ((r = answer_for(p, label, &a)) < 0 || (r = parse_app_panels(list, a)) < 0)
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

/* {"workers": [{"hostname", "pid"}, ...]}; an old probe without the section: none. */
static int parse_workers(json_object *root, ProbeReport *p)
{
        json_object *s, *list;
        size_t n;
        int r;

        if (!json_object_object_get_ex(root, "workers", NULL))
                return 0;
        if ((r = get_section(root, "workers", &s)) < 0 || (r = get_error(s, &p->workers_error)) < 0)
                return r;
        if (p->workers_error)
                return 0;
        if (!json_object_object_get_ex(s, "workers", &list) ||
            !json_object_is_type(list, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(list);
        if (n > PROBE_WORKERS_MAX)
                return -EBADMSG;
        p->workers = n ? calloc(n, sizeof(ProbeWorker)) : NULL;
        if (n && !p->workers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *w = json_object_array_get_idx(list, i), *h, *pid;

                if (!json_object_is_type(w, json_type_object) ||
                    !json_object_object_get_ex(w, "hostname", &h) ||
                    !json_object_is_type(h, json_type_string) ||
                    !json_object_object_get_ex(w, "pid", &pid) ||
                    !json_object_is_type(pid, json_type_int) || json_object_get_int64(pid) < 0 ||
                    json_object_get_int64(pid) > INT32_MAX)
                        return -EBADMSG;
                /* Printable: it goes into messages (a worker names itself). */
                p->workers[i].hostname = str_escape_control(json_object_get_string(h));
                if (!p->workers[i].hostname)
                        return -ENOMEM;
                p->workers[i].pid = (int)json_object_get_int64(pid);
                p->n_workers++;
        }
        return 0;
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
        int format = -1, r;

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
        if (json_object_is_type(root, json_type_object) &&
            json_object_object_get_ex(root, "format", &v) && json_object_is_type(v, json_type_int))
                format = json_object_get_int(v);
        r = format == PROBE_FORMAT ? 0 : -EPROTO;
        if (r >= 0)
                r = get_string(root, "nautobot_version", &p->nautobot_version);
        if (r >= 0)
                r = get_string(root, "booted_again", &p->booted_again);
        if (r >= 0)
                r = parse_command(root, "check", &p->check);
        if (r >= 0)
                r = parse_makemigrations(root, p);
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
        if (r >= 0)
                r = parse_workers(root, p);
        if (r >= 0)
                r = parse_rollback(root, p);
        json_object_put(root);
        if (r == -ENOMEM)
                return r;
        if (r == -EPROTO && format >= 0) {
                /* A probe script of another release than the daemon reading it. */
                *ret_error = strjoin_printf("the probe's result is format %d, not format %d",
                                            format, PROBE_FORMAT);
                return -EBADMSG;
        }
        if (r < 0) {
                *ret_error = strdup(r == -EPROTO  ? "the probe's result is not format 2"
                                    : r == -E2BIG ? "the probe's result holds too long a list"
                                                  : "the probe's result is malformed");
                return -EBADMSG;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

const ProbeAppAnswer *probe_report_app(const ProbeReport *r, const char *label)
{
        if (!r || !label)
                return NULL;
        for (size_t i = 0; i < r->n_answers; i++)
                if (streq(r->answers[i].label, label))
                        return &r->answers[i];
        return NULL;
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
