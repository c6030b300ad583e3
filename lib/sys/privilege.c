/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dropping root for good, and the one directory root prepares first. See
 * privilege.h.
 */
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "chase.h"
#include "privilege.h"
#include "util.h"

int privilege_drop(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
        if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
                return -errno;
        /* For good: neither the ids nor the groups can be taken back. */
        if (uid != 0 && (setresuid(0, 0, 0) >= 0 || setegid(0) >= 0))
                return -EPERM;
        return 0;
}

static char *account_name(uid_t uid)
{
        struct passwd *pw = getpwuid(uid);

        return pw ? strjoin_printf("%s (uid %u)", pw->pw_name, (unsigned)uid)
                  : strjoin_printf("uid %u", (unsigned)uid);
}

static int refuse(char **ret_error, char *text)
{
        if (!text)
                return -ENOMEM;
        *ret_error = text;
        return -EPERM;
}

int privilege_prepare_state_directory(const char *path, uid_t uid, gid_t gid, char **ret_error)
{
        _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path), *why = NULL, *who = NULL;
        _cleanup_close_ int pfd = -1, fd = -1;
        const char *parent, *base;
        bool created = false;
        struct stat st;
        int r;

        if (!copy || !copy2)
                return -ENOMEM;
        parent = dirname(copy);
        base = basename(copy2);
        if (isempty(base) || streq(base, "/") || streq(base, ".") || streq(base, ".."))
                return refuse(ret_error, strjoin_printf("'%s' cannot be a state directory", path));
        r = chase_open_strict(parent, O_PATH | O_DIRECTORY, &pfd, &why);
        if (r == -EPERM)
                return refuse(ret_error, strjoin_printf("state directory '%s': %s", path, why));
        if (r < 0)
                return refuse(
                        ret_error,
                        strjoin_printf("cannot open '%s', where the state directory '%s' is: %s",
                                       parent, path, strerror(-r)));
        if (mkdirat(pfd, base, 0700) >= 0)
                created = true;
        else if (errno != EEXIST)
                return refuse(ret_error,
                              strjoin_printf("cannot create the state directory '%s': %m", path));
        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
                return refuse(
                        ret_error,
                        strjoin_printf(
                                "the state directory '%s' is not a directory (a symbolic link?): refused",
                                path));
        if (fd < 0 || fstat(fd, &st) < 0)
                return refuse(ret_error,
                              strjoin_printf("cannot open the state directory '%s': %m", path));
        if (created) {
                if (uid != 0 && fchown(fd, uid, gid) < 0)
                        return -errno;
                return 0;
        }
        if (st.st_uid == uid && (uid != 0 || !(st.st_mode & (S_IWGRP | S_IWOTH))))
                return 0;
        who = account_name(uid);
        if (!who)
                return -ENOMEM;
        if (uid == 0)
                return refuse(
                        ret_error,
                        strjoin_printf(
                                "the state directory '%s' belongs to uid %u or is writable by others, and nautobot-verifyd runs as root ([nautobot] user=root): root does not write where another account can; give it to root (chown root: '%s'; chmod 0700) or run as the account that owns it",
                                path, (unsigned)st.st_uid, path));
        return refuse(
                ret_error,
                strjoin_printf(
                        "the state directory '%s' belongs to uid %u, not to %s, the account nautobot-verifyd becomes (the owner of the Nautobot installation, or [nautobot] user=): chown it to that account (the units' User=), or set [watch] state-directory=",
                        path, (unsigned)st.st_uid, who));
}

/* Reaps the child of privilege_run_as() and the like: what it returned, as -errno. */
static int wait_exit(pid_t pid)
{
        siginfo_t si = {};

        for (;;) {
                if (waitid(P_PID, (id_t)pid, &si, WEXITED) >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        return si.si_code != CLD_EXITED ? -EPROTO : -si.si_status;
}

int privilege_run_as(uid_t uid, gid_t gid, int (*fn)(void *userdata), void *userdata)
{
        pid_t pid;
        int r;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                r = privilege_drop(uid, gid, NULL, 0);
                if (r >= 0)
                        r = fn(userdata);
                _exit(r < 0 ? (-r & 0xff) : 0);
        }
        return wait_exit(pid);
}

int privilege_read_file_as(uid_t uid, gid_t gid, const char *path, size_t max, char **ret,
                           size_t *ret_len)
{
        _cleanup_close_ int rfd = -1, wfd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int p[2], r = 0, q;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];
        wfd = p[1];
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                _cleanup_free_ char *text = NULL;
                size_t n = 0, done = 0;

                rfd = safe_close(rfd);
                r = privilege_drop(uid, gid, NULL, 0);
                if (r >= 0)
                        r = read_file_bounded(path, max, &text, &n);
                while (r >= 0 && done < n) {
                        ssize_t k = write(wfd, text + done, n - done);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                r = -errno;
                        else
                                done += (size_t)k;
                }
                free(TAKE_PTR(text)); /* _exit() runs no cleanup; valgrind would call it lost */
                _exit(r < 0 ? (-r & 0xff) : 0);
        }
        wfd = safe_close(wfd);
        buf = malloc(max + 2);
        if (!buf)
                r = -ENOMEM; /* the child is still reaped */
        /* One more byte than allowed says "too large", whatever the child claims. */
        while (buf && len <= max) {
                ssize_t k = read(rfd, buf + len, max + 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : 0;
                        break;
                }
                len += (size_t)k;
        }
        rfd = safe_close(rfd);
        q = wait_exit(pid);
        if (q < 0)
                return q;
        if (r < 0)
                return r;
        if (len > max)
                return -EFBIG;
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}
