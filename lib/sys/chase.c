/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict path resolution for root. See chase.h.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "chase.h"
#include "util.h"

static int refuse(char **ret_error, char *text)
{
        if (!text)
                return -ENOMEM;
        if (ret_error)
                *ret_error = text;
        else
                free(text);
        return -EPERM;
}

/*
 * Whether a component may be trusted: it belongs to root and no other account
 * can write it. A sticky directory writable by all (/tmp) is accepted: only
 * root-owned entries in it are trusted, as every entry must be anyway.
 */
static int judge(const char *where, const struct stat *st, char **ret_error)
{
        bool dir = S_ISDIR(st->st_mode);

        if (st->st_uid != 0)
                return refuse(
                        ret_error,
                        strjoin_printf(
                                "'%s' belongs to uid %u, not root: root does not read or write through what another account controls",
                                where, (unsigned)st->st_uid));
        if (!(st->st_mode & (S_IWGRP | S_IWOTH)) || S_ISLNK(st->st_mode))
                return 0;
        if (dir && (st->st_mode & S_ISVTX)) {
                return 0; /* /tmp: what is in it must belong to root, as everything here */
        }
        return refuse(
                ret_error,
                strjoin_printf(
                        "'%s' is writable by its group or by others (mode %04o): another account could replace what root reads or writes there",
                        where, (unsigned)(st->st_mode & 07777)));
}

static int append(char **done, const char *name, size_t len)
{
        char *n = strjoin_printf("%s/%.*s", streq(*done, "/") ? "" : *done, (int)len, name);

        if (!n)
                return -ENOMEM;
        free(*done);
        *done = n;
        return 0;
}

int chase_open_strict(const char *path, int flags, int *ret_fd, char **ret_error)
{
        _cleanup_free_ char *todo = NULL, *done = NULL;
        _cleanup_close_ int dfd = -1;
        unsigned links = 0;
        struct stat st;
        const char *p;
        int r;

        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        todo = strdup(path);
        done = strdup("/");
        if (!todo || !done)
                return -ENOMEM;
        dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fstat(dfd, &st) < 0)
                return -errno;
        r = judge("/", &st, ret_error);
        if (r < 0)
                return r;

        p = todo;
        for (;;) {
                _cleanup_close_ int child = -1;
                const char *end, *rest;
                size_t len;
                bool last;

                while (*p == '/')
                        p++;
                if (!*p) /* "/" itself, or a path ending in "/": open what we stand on */
                        return (*ret_fd = openat(dfd, ".", flags | O_CLOEXEC)) < 0 ? -errno : 0;
                end = strchrnul(p, '/');
                len = (size_t)(end - p);
                for (rest = end; *rest == '/'; rest++)
                        ;
                last = !*rest;
                if (len == 1 && p[0] == '.' && !last) {
                        p = rest;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.' && !last) {
                        /* Back to a directory judged on the way down; judged again all the same. */
                        char *slash = strrchr(done, '/');

                        child = openat(dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (child < 0 || fstat(child, &st) < 0)
                                return -errno;
                        if (slash)
                                *(slash == done ? slash + 1 : slash) = 0;
                        r = judge(done, &st, ret_error);
                        if (r < 0)
                                return r;
                        safe_close(dfd);
                        dfd = TAKE_FD(child);
                        p = rest;
                        continue;
                }
                if (len >= NAME_MAX + 1)
                        return -ENAMETOOLONG;
                {
                        char name[NAME_MAX + 1];

                        memcpy(name, p, len);
                        name[len] = 0;
                        child = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (child < 0)
                                return -errno;
                        if (fstat(child, &st) < 0)
                                return -errno;
                        if ((r = append(&done, name, len)) < 0)
                                return r;
                        r = judge(done, &st, ret_error);
                        if (r < 0)
                                return r;

                        if (S_ISLNK(st.st_mode)) {
                                char target[PATH_MAX];
                                ssize_t n;
                                char *next;

                                if (++links > CHASE_SYMLINKS_MAX)
                                        return -ELOOP;
                                n = readlinkat(child, "", target, sizeof(target) - 1);
                                if (n < 0)
                                        return -errno;
                                if (n == 0)
                                        return -ENOENT;
                                target[n] = 0;
                                next = strjoin_printf("%s/%s", target, rest);
                                if (!next)
                                        return -ENOMEM;
                                free(todo);
                                todo = next;
                                p = todo;
                                /* The link's directory is where we stand: a relative target
                                 * goes on from there, an absolute one from "/". */
                                if (target[0] == '/') {
                                        safe_close(dfd);
                                        dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                        if (dfd < 0)
                                                return -errno;
                                        if (free_and_strdup(&done, "/") < 0)
                                                return -ENOMEM;
                                } else {
                                        char *slash = strrchr(done, '/');

                                        if (slash)
                                                *(slash == done ? slash + 1 : slash) = 0;
                                }
                                continue;
                        }
                        if (last) {
                                struct stat opened;
                                int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC);

                                if (fd < 0)
                                        return -errno;
                                /* Only root can swap what a trusted directory holds; still,
                                 * what was judged is what is returned. */
                                if (fstat(fd, &opened) < 0 || opened.st_dev != st.st_dev ||
                                    opened.st_ino != st.st_ino) {
                                        r = errno ? -errno : -EAGAIN;
                                        safe_close(fd);
                                        return r;
                                }
                                *ret_fd = fd;
                                return 0;
                        }
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                        safe_close(dfd);
                        dfd = TAKE_FD(child);
                        p = rest;
                }
        }
}

int read_file_trusted(const char *path, size_t max, char **ret, size_t *ret_len, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (geteuid() != 0)
                return read_file_bounded(path, max, ret, ret_len);
        r = chase_open_strict(path, O_RDONLY | O_NONBLOCK | O_NOCTTY, &fd, ret_error);
        if (r < 0)
                return r;
        return read_fd_bounded(fd, max, ret, ret_len);
}
