/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared parts of the checks. See check.h.
 */
#include <json-c/json.h>

#include <stdarg.h>

#include "check.h"

/*
 * check_table[], indexed by CheckId, from check-table.h's list: the list also
 * makes the enum (check-id.h) and the start functions' prototypes (check.h),
 * so an entry cannot be missing, doubled or out of order.
 */
#define TABLE_ENTRY(id_, start_, ...)                                                              \
        [CHECK_ID_##id_] = {.id = CHECK_ID_##id_, .start = start_, __VA_ARGS__},

static const CheckType check_table[_CHECK_ID_MAX] = {CHECK_TABLE(TABLE_ENTRY)};

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

int check_env_http_session(const CheckEnv *env, HttpSession **ret)
{
        const Config *cfg = env->config;
        _cleanup_(http_session_freep) HttpSession *s = NULL;
        int r;

        r = http_session_new(&s, env->http,
                             &(HttpOptions){
                                     .timeout_usec = cfg->http_timeout_usec,
                                     .tls_verify = cfg->tls_verify,
                                     .ca_file = cfg->ca_file,
                                     .body_max = HTTP_BODY_MAX,
                                     .retry_unanswered_usec = env->web_wait_usec,
                             });
        if (r >= 0 && env->http_cache)
                r = http_session_set_cache(s, env->http_cache);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int check_http_session(const Check *c, HttpSession **ret)
{
        return check_env_http_session(c->env, ret);
}

int check_env_api_session(const CheckEnv *env, HttpSession **ret)
{
        _cleanup_(http_session_freep) HttpSession *h = NULL;
        _cleanup_erase_free_ char *auth = NULL; /* holds the token */
        int r;

        auth = strjoin_printf("Authorization: Token %s", strempty(env->token));
        if (!auth)
                return -ENOMEM;
        r = check_env_http_session(env, &h);
        if (r >= 0)
                r = http_session_add_header(h, auth);
        if (r >= 0)
                r = http_session_add_header(h, "Accept: application/json");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
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
        r = check_env_api_session(env, &h);
        if (r >= 0 && http_url_is_cleartext_remote(env->config->url))
                r = check_result_add_finding(
                        c->result,
                        "the API token is sent in clear text to %s (http:// to a host other than this one): use https://",
                        env->config->url);
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

char *check_env_url(const CheckEnv *env, const char *path)
{
        return strjoin_printf("%s%s", env->config->url, path);
}

char *check_url(const Check *c, const char *path)
{
        return check_env_url(c->env, path);
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

char *check_names_join(const char *separator)
{
        Buf b;
        char *r;

        buf_init(&b, 4096);
        for (CheckId id = 0; id < _CHECK_ID_MAX; id++)
                buf_printf(&b, "%s%s", id > 0 ? separator : "", check_id_to_string(id));
        r = b.data && !b.truncated ? strdup(b.data) : NULL;
        buf_done(&b);
        return r;
}
