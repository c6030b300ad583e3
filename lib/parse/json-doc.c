/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One JSON document. See json-doc.h.
 */
#include <errno.h>
#include <limits.h>

#include "json-doc.h"

int json_parse_document(const char *text, size_t len, int depth_max, json_object **ret)
{
        json_tokener *tok;
        json_object *root;

        if (len > INT_MAX)
                return -EBADMSG;
        tok = json_tokener_new_ex(depth_max);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)len);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != len) {
                json_tokener_free(tok);
                json_object_put(root);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = root;
        return 0;
}
