/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who nautobot-server runs as. See runas.h. The passwd and group lookups
 * happen here, in the daemon, so that the child between fork and exec only
 * makes async-signal-safe calls (setgroups, setgid, setuid).
 */
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include "runas.h"

#define GROUPS_MAX 1024

RunAs *run_as_free(RunAs *r)
{
        if (!r)
                return NULL;
        free(r->user.groups);
        free(r->name);
        free(r->note);
        free(r);
        return NULL;
}

/* A name or a decimal uid; NULL in *ret when there is no such account. */
static int lookup(const char *user, uid_t uid, struct passwd **ret)
{
        char *end;

        errno = 0;
        if (user) {
                unsigned long u = strtoul(user, &end, 10);

                *ret = *user && !*end && u < UINT32_MAX ? getpwuid((uid_t)u) : getpwnam(user);
        } else
                *ret = getpwuid(uid);
        /* No entry sets no errno (or ENOENT, ESRCH, EBADF, EPERM on some NSS modules). */
        if (!*ret && errno == ENOMEM)
                return -ENOMEM;
        return 0;
}

static int refuse(char **ret_error, char *text)
{
        if (!text)
                return -ENOMEM;
        *ret_error = text;
        return -EPERM;
}

int run_as_resolve(const char *server, const char *user, uid_t euid, RunAs **ret, char **ret_error)
{
        _cleanup_(run_as_freep) RunAs *r = NULL;
        struct passwd *pw;
        struct stat st;
        int n, q;

        *ret = NULL;
        if (euid != 0)
                return 0;
        if (isempty(user)) {
                if (stat(server, &st) < 0)
                        return refuse(
                                ret_error,
                                strjoin_printf(
                                        "nautobot-verifyd runs as root and cannot tell who owns '%s' (%s), so it does not run it: set [nautobot] user= to the account Nautobot runs as",
                                        server, strerror(errno)));
                if (st.st_uid == 0)
                        return refuse(
                                ret_error,
                                strjoin_printf(
                                        "nautobot-verifyd runs as root and '%s' is owned by root: it runs nautobot-server as the owner of the Nautobot installation, never as root by default; set [nautobot] user= to the account Nautobot runs as (user=root to allow root)",
                                        server));
                q = lookup(NULL, st.st_uid, &pw);
                if (q < 0)
                        return q;
                if (!pw)
                        return refuse(
                                ret_error,
                                strjoin_printf(
                                        "nautobot-verifyd runs as root and '%s' is owned by uid %u, which has no passwd entry: set [nautobot] user= to the account Nautobot runs as",
                                        server, (unsigned)st.st_uid));
        } else {
                q = lookup(user, 0, &pw);
                if (q < 0)
                        return q;
                if (!pw)
                        return refuse(
                                ret_error,
                                strjoin_printf(
                                        "[nautobot] user=%s: no such user, so nautobot-server is not run",
                                        user));
        }

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->user.uid = pw->pw_uid;
        r->user.gid = pw->pw_gid;
        r->name = strdup(pw->pw_name);
        if (!r->name)
                return -ENOMEM;
        /* The account's groups, as initgroups() would set them, looked up now. */
        n = GROUPS_MAX;
        r->user.groups = calloc(GROUPS_MAX, sizeof(gid_t));
        if (!r->user.groups)
                return -ENOMEM;
        if (getgrouplist(r->name, r->user.gid, r->user.groups, &n) < 0)
                return refuse(ret_error, strjoin_printf("user %s is in more than %d groups",
                                                        r->name, GROUPS_MAX));
        r->user.n_groups = (size_t)n;
        if (pw->pw_uid == 0)
                r->note = strjoin_printf(
                        "ran as root: nautobot-verifyd runs as root and [nautobot] user=%s says so",
                        user);
        else
                r->note = strjoin_printf(
                        "ran as user %s (uid %u) because nautobot-verifyd runs as root (%s%s)",
                        r->name, (unsigned)pw->pw_uid,
                        isempty(user) ? "the owner of " : "[nautobot] user=",
                        isempty(user) ? server : user);
        if (!r->note)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}
