/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The instance-name rule. See instance-name.h.
 */
#include <string.h>

#include "instance-name.h"

bool instance_name_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;

        return n > 0 && n <= INSTANCE_NAME_MAX && name[0] != '.' &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") ==
                       n;
}
