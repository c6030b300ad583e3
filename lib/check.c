/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared parts of the checks. See check.h.
 */
#include <json-c/json.h>

#include "check.h"

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
        int r;

        *ret = NULL;
        if (!check_require_secret(
                    c, env->token, env->token_error,
                    "no API token configured ([credentials] token-file= or credential 'api-token')"))
                return 0;
        auth = strjoin_printf("Authorization: Token %s", env->token);
        if (!auth)
                return -ENOMEM;
        r = check_http_session(c, &h);
        if (r >= 0)
                r = http_session_add_header(h, auth);
        if (r >= 0)
                r = http_session_add_header(h, "Accept: application/json");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
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
