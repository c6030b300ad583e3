/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one rule for the name of an instance (a Nautobot among several on a
 * host): --instance NAME of both programs, [nautobot] instance=, the NAME of
 * nautobot-verifyd@NAME.service. The name becomes a systemd instance name, a
 * directory under the state directory and under the configuration's, and a
 * journal field, so it is a plain file name that needs no escaping anywhere.
 */
#pragma once

#include <stdbool.h>

#define INSTANCE_NAME_MAX 64

/* What instance_name_valid() accepts, for messages: "'x' is not an instance name (RULE)". */
#define INSTANCE_NAME_RULE "1-64 letters, digits, \"_\", \"-\" or \".\", not starting with \".\""

/* 1 to INSTANCE_NAME_MAX ASCII letters, digits, '_', '-', '.', the first not a '.'. */
bool instance_name_valid(const char *name);
