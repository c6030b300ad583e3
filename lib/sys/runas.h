/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who nautobot-server runs as. Not root: as ourselves, as always. Root (an
 * admin's `sudo nautobot-verifyd --once`): as the owner of the Nautobot
 * installation, never as root by accident. Root running a file that another
 * account can rewrite, with an environment read from a file, is how
 * needrestart's 2024 privilege escalations worked.
 */
#pragma once

#include <sys/types.h>

#include "child.h"

typedef struct RunAs {
        ChildUser user; /* what child_start() sets */
        char *name;     /* "nautobot" */
        char *note;     /* "ran as user nautobot (uid 997) because nautobot-verifyd runs as root" */
} RunAs;

/*
 * Resolves the account children run as when 'euid' is 0: 'user' ([nautobot]
 * user=, a name or a uid) when set, else the owner of 'server'. Root only when
 * 'user' says so explicitly. *ret is NULL when euid is not 0 (children run as
 * we do). -EPERM with *ret_error (why, and what to set) when no account can be
 * used: the owner is root or has no passwd entry, the user does not exist, the
 * server cannot be stat'ed. -ENOMEM otherwise.
 */
int run_as_resolve(const char *server, const char *user, uid_t euid, RunAs **ret, char **ret_error);

RunAs *run_as_free(RunAs *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunAs *, run_as_free);
