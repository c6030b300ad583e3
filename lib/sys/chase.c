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

/* Where a walk stands: the directory 'done' names, open as 'dfd', and the path still to go. */
typedef struct Chase {
        char *todo;     /* the path being walked ('p' points into it) */
        const char *p;  /* what is left of it */
        char *done;     /* the path of 'dfd', for messages: "/", "/etc", ... */
        int dfd;        /* O_PATH of the directory reached, judged */
        unsigned links; /* symbolic links followed */
        int flags;      /* for the last component */
        char **ret_error;
} Chase;

static void chase_done(Chase *ch)
{
        free(ch->todo);
        free(ch->done);
        safe_close(ch->dfd);
}

/* "done" without its last component: back to the directory a ".." or a link is in. */
static void chop_done(Chase *ch)
{
        char *slash = strrchr(ch->done, '/');

        if (slash)
                *(slash == ch->done ? slash + 1 : slash) = 0;
}

/* "..": back to a directory judged on the way down; judged again all the same. */
static int chase_up(Chase *ch)
{
        _cleanup_close_ int parent = -1;
        struct stat st;
        int r;

        parent = openat(ch->dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0 || fstat(parent, &st) < 0)
                return -errno;
        chop_done(ch);
        r = judge(ch->done, &st, ch->ret_error);
        if (r < 0)
                return r;
        safe_close(ch->dfd);
        ch->dfd = TAKE_FD(parent);
        return 0;
}

/* A judged link: its target, then what was left after it, is the path still to go. */
static int chase_link(Chase *ch, int link, const char *rest)
{
        char target[PATH_MAX];
        ssize_t n;
        char *next;

        if (++ch->links > CHASE_SYMLINKS_MAX)
                return -ELOOP;
        n = readlinkat(link, "", target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ENOENT;
        target[n] = 0;
        next = strjoin_printf("%s/%s", target, rest);
        if (!next)
                return -ENOMEM;
        free(ch->todo);
        ch->todo = next;
        ch->p = ch->todo;
        /* The link's directory is where we stand: a relative target goes on from there, an
         * absolute one from "/". */
        if (target[0] != '/') {
                chop_done(ch);
                return 0;
        }
        safe_close(ch->dfd);
        ch->dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ch->dfd < 0)
                return -errno;
        return free_and_strdup(&ch->done, "/") < 0 ? -ENOMEM : 0;
}

/* The last component, judged as 'st': opened for real, and it must still be what was judged. */
static int chase_open_last(Chase *ch, const char *name, const struct stat *st, int *ret_fd)
{
        struct stat opened;
        int fd = openat(ch->dfd, name, ch->flags | O_NOFOLLOW | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        /* Only root can swap what a trusted directory holds; still, what was judged is what is
         * returned. */
        if (fstat(fd, &opened) < 0 || opened.st_dev != st->st_dev || opened.st_ino != st->st_ino) {
                r = errno ? -errno : -EAGAIN;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/*
 * One component of 'len' bytes at ch->p, 'rest' what follows it: judged, then followed (a
 * link), opened (the last) or entered (a directory). 1 when the file is open in *ret_fd.
 */
static int chase_component(Chase *ch, size_t len, const char *rest, int *ret_fd)
{
        _cleanup_close_ int child = -1;
        char name[NAME_MAX + 1];
        struct stat st;
        int r;

        if (len >= NAME_MAX + 1)
                return -ENAMETOOLONG;
        memcpy(name, ch->p, len);
        name[len] = 0;
        child = openat(ch->dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0)
                return -errno;
        if (fstat(child, &st) < 0)
                return -errno;
        if ((r = append(&ch->done, name, len)) < 0)
                return r;
        r = judge(ch->done, &st, ch->ret_error);
        if (r < 0)
                return r;
        if (S_ISLNK(st.st_mode))
                return chase_link(ch, child, rest);
        if (!*rest) {
                r = chase_open_last(ch, name, &st, ret_fd);
                return r < 0 ? r : 1;
        }
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        safe_close(ch->dfd);
        ch->dfd = TAKE_FD(child);
        ch->p = rest;
        return 0;
}

int chase_open_strict(const char *path, int flags, int *ret_fd, char **ret_error)
{
        _cleanup_(chase_done) Chase ch = {.dfd = -1, .flags = flags, .ret_error = ret_error};
        struct stat st;
        int r;

        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        ch.todo = strdup(path);
        ch.done = strdup("/");
        if (!ch.todo || !ch.done)
                return -ENOMEM;
        ch.dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ch.dfd < 0 || fstat(ch.dfd, &st) < 0)
                return -errno;
        r = judge("/", &st, ret_error);
        if (r < 0)
                return r;

        for (ch.p = ch.todo;;) {
                const char *end, *rest;
                size_t len;

                while (*ch.p == '/')
                        ch.p++;
                if (!*ch.p) /* "/" itself, or a path ending in "/": open what we stand on */
                        return (*ret_fd = openat(ch.dfd, ".", flags | O_CLOEXEC)) < 0 ? -errno : 0;
                end = strchrnul(ch.p, '/');
                len = (size_t)(end - ch.p);
                for (rest = end; *rest == '/'; rest++)
                        ;
                if (len == 1 && ch.p[0] == '.' && *rest)
                        r = 0;
                else if (len == 2 && ch.p[0] == '.' && ch.p[1] == '.' && *rest)
                        r = chase_up(&ch);
                else {
                        r = chase_component(&ch, len, rest, ret_fd);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        continue; /* it moved ch.p itself */
                }
                if (r < 0)
                        return r;
                ch.p = rest;
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
