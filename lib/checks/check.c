/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared parts of the checks. See check.h.
 */
#include <json-c/json.h>

#include <stdarg.h>

#include "check.h"

/* In CheckId order; a missing entry fails the build, a misplaced one test-config. */
static const CheckType check_table[] = {
        {CHECK_ID_VERSIONS, "versions", check_versions_start},
        {CHECK_ID_SYSTEM, "system", check_command_start, .runs_server = true},
        {CHECK_ID_MIGRATIONS, "migrations", check_command_start, .runs_server = true},
        {CHECK_ID_DATABASE, "database", check_database_start, .step = "migrate"},
        {CHECK_ID_STATIC, "static", check_static_start, .step = "collectstatic"},
        {CHECK_ID_RESTARTS, "restarts", check_restarts_start, .step = "restart",
         .bus_driven = true},
        {CHECK_ID_RUNNING, "running", check_running_start, .step = "web"},
        {CHECK_ID_JOBS, "jobs", check_jobs_start},
        {CHECK_ID_PANELS, "panels", check_panels_start},
};
_Static_assert(ELEMENTSOF(check_table) == _CHECK_ID_MAX, "one check_table entry per CheckId");

const CheckType *check_type(CheckId id)
{
        return id >= 0 && id < _CHECK_ID_MAX ? &check_table[id] : NULL;
}

DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(check_id, CheckId, check_table, .name, );
DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(check_id, check_table, .name, );

void check_not_applicable(Check *c, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        (void)check_result_set(c->result, CHECK_SKIPPED, "not applicable here: %s",
                               s ?: "out of memory");
        c->result->disabled = true;
        c->result->not_applicable = true;
        check_complete(c);
}

void check_complete(Check *c)
{
        if (c->completed)
                return;
        c->completed = true;
        c->result->duration_usec = now_usec() - c->start_usec;
        if (c->state_free && c->state)
                c->state_free(c->state);
        c->state = NULL;
        c->done(c, c->userdata);
}

void check_abort(Check *c, const char *reason)
{
        if (c->completed)
                return;
        (void)check_result_set(c->result, CHECK_ERROR, "%s", reason);
        check_complete(c);
}

bool check_require_secret(Check *c, const char *secret, const char *error, const char *missing)
{
        if (secret)
                return true;
        (void)check_result_set(c->result, error ? CHECK_ERROR : CHECK_SKIPPED, "%s",
                               error ?: missing);
        check_complete(c);
        return false;
}

int check_http_session(const Check *c, HttpSession **ret)
{
        const Config *cfg = c->env->config;

        return http_session_new(ret, c->env->http,
                                &(HttpOptions){
                                        .timeout_usec = cfg->http_timeout_usec,
                                        .tls_verify = cfg->tls_verify,
                                        .ca_file = cfg->ca_file,
                                        .body_max = HTTP_BODY_MAX,
                                });
}

int check_api_session(Check *c, HttpSession **ret)
{
        const CheckEnv *env = c->env;
        _cleanup_(http_session_freep) HttpSession *h = NULL;
        _cleanup_erase_free_ char *auth = NULL; /* holds the token */
        _cleanup_free_ char *missing = NULL;
        int r;

        *ret = NULL;
        missing = check_missing_secret("API token", "token", env->config->token_credential);
        if (!missing)
                return -ENOMEM;
        if (!check_require_secret(c, env->token, env->token_error, missing))
                return 0;
        auth = strjoin_printf("Authorization: Token %s", env->token);
        if (!auth)
                return -ENOMEM;
        r = check_http_session(c, &h);
        if (r >= 0 && http_url_is_cleartext_remote(env->config->url))
                r = check_result_add_finding(
                        c->result,
                        "the API token is sent in clear text to %s (http:// to a host other than this one): use https://",
                        env->config->url);
        if (r >= 0)
                r = http_session_add_header(h, auth);
        if (r >= 0)
                r = http_session_add_header(h, "Accept: application/json");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

char *check_missing_secret(const char *what, const char *key, const char *credential)
{
        if (isempty(credential))
                return strjoin_printf("no %s configured ([credentials] %s-file=)", what, key);
        return strjoin_printf(
                "no %s configured ([credentials] %s-file=, or credential '%s' as %s-credential= names it)",
                what, key, credential, key);
}

char *check_url(const Check *c, const char *path)
{
        return strjoin_printf("%s%s", c->env->config->url, path);
}

char *http_status_text(long status, const char *body)
{
        json_object *o, *d;
        char *r;

        /* Django REST framework explains refusals in {"detail": "..."}. */
        o = body ? json_tokener_parse(body) : NULL;
        if (o && json_object_object_get_ex(o, "detail", &d) &&
            json_object_is_type(d, json_type_string))
                r = strjoin_printf("HTTP %ld: %.200s", status, json_object_get_string(d));
        else
                r = strjoin_printf("HTTP %ld", status);
        json_object_put(o);
        return r;
}

DbSettings *db_settings_free(DbSettings *d)
{
        if (!d)
                return NULL;
        free(d->host);
        free(d->port);
        free(d->name);
        free(d->user);
        erase_and_freep(&d->password);
        free(d);
        return NULL;
}

static int db_settings_new(const char *host, const char *port, const char *name, const char *user,
                           const char *password, DbSettings **ret)
{
        _cleanup_(db_settings_freep) DbSettings *d = calloc(1, sizeof(*d));

        if (!d || !(d->host = strdup(strempty(host))) || !(d->port = strdup(strempty(port))) ||
            !(d->name = strdup(strempty(name))) || !(d->user = strdup(strempty(user))) ||
            !(d->password = strdup(strempty(password))))
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

int db_settings_from_probe(const ProbeReport *p, DbSettings **ret)
{
        *ret = NULL;
        if (!p || p->db_error || !p->db_name || !p->db_engine ||
            !strstr(p->db_engine, "postgresql"))
                return 0;
        return db_settings_new(p->db_host, p->db_port, p->db_name, p->db_user, p->db_password, ret);
}

int db_settings_copy(const DbSettings *d, DbSettings **ret)
{
        return db_settings_new(d->host, d->port, d->name, d->user, d->password, ret);
}
