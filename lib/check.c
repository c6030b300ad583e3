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
