/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing /api/status/ with json-c. See parse-status.h.
 */
#include <json-c/json.h>

#include "json-doc.h"
#include "parse-status.h"

#define APPS_MAX 256

StatusReport *status_report_free(StatusReport *s)
{
        if (!s)
                return NULL;
        free(s->nautobot_version);
        strv_free(s->apps);
        free(s);
        return NULL;
}

int status_parse(const char *text, size_t len, StatusReport **ret, char **ret_error)
{
        _cleanup_(status_report_freep) StatusReport *s = NULL;
        json_object *root, *v, *apps;
        int r = 0;

        r = json_parse_document(text, len, 16, &root);
        if (r == -EBADMSG)
                *ret_error = strdup("not a JSON document");
        if (r < 0)
                return r;

        s = calloc(1, sizeof(*s));
        if (!s) {
                json_object_put(root);
                return -ENOMEM;
        }
        s->workers = -1;
        if (!json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "nautobot-version", &v) ||
            !json_object_is_type(v, json_type_string)) {
                *ret_error = strdup("no \"nautobot-version\" string");
                json_object_put(root);
                return -EBADMSG;
        }
        s->nautobot_version = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(root, "celery-workers-running", &v) &&
            json_object_is_type(v, json_type_int))
                s->workers = json_object_get_int64(v);
        if (json_object_object_get_ex(root, "nautobot-apps", &apps) &&
            json_object_is_type(apps, json_type_object)) {
                json_object_object_foreach(apps, key, val)
                {
                        if (strv_length(s->apps) >= APPS_MAX)
                                break;
                        r = strv_push(&s->apps,
                                      strjoin_printf("%s=%s", key,
                                                     json_object_is_type(val, json_type_string)
                                                             ? json_object_get_string(val)
                                                             : "?"));
                        if (r < 0)
                                break;
                }
        }
        json_object_put(root);
        if (r < 0 || !s->nautobot_version)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *status_app_version(const StatusReport *s, const char *label)
{
        size_t l = strlen(label);

        STRV_FOREACH (a, s->apps)
                if (strncmp(*a, label, l) == 0 && (*a)[l] == '=')
                        return *a + l + 1;
        return NULL;
}
