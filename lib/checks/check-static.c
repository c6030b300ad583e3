/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Static files collected: the upgrade guide's "collectstatic" step. The web
 * server serves /static/ from STATIC_ROOT, a copy that only "nautobot-server
 * collectstatic" refreshes; after "pip install --upgrade" the release's new or
 * changed files are missing there (404 on the page that needs them) until it
 * runs. This check walks the static files the installed code ships (the app's
 * <app>/static/ and Nautobot's project-static/) and looks each one up in
 * STATIC_ROOT: it must exist with the same size. Sizes, not contents: the
 * tree is ~140 MB and this check runs every few seconds while an upgrade is in
 * progress; a release that changes a file keeping its size exactly is missed.
 *
 * The daemon may run as root (an admin's "sudo nautobot-verifyd --once") while
 * the account Nautobot runs as owns both trees, and what this check saw (file
 * names, counts) lands in a state file that account reads. So no symbolic link
 * below site-packages or in STATIC_ROOT is ever followed: both trees are walked
 * side by side, one directory at a time, each opened with O_NOFOLLOW below its
 * parent's descriptor, each entry looked at with AT_SYMLINK_NOFOLLOW. The walk
 * cannot leave the two trees, whatever links they hold.
 *
 * Links an admin may have on purpose:
 * - STATIC_ROOT itself a link (to a bigger disk): refused with the fix, set
 *   [nautobot] static-root= to where it leads, since the account that owns
 *   NAUTOBOT_ROOT could as well point it at a directory only root may read.
 * - "collectstatic --link" fills STATIC_ROOT with links to the installed files
 *   (absolute paths into site-packages). Such a link is compared by name only,
 *   never followed: a link whose target ends with the file's own relative path
 *   counts as collected (it shows the installed file, whatever its size); one
 *   that names another file does not.
 * - A directory of STATIC_ROOT that is a link: not entered; its files are not
 *   compared, and a finding says so.
 * - A link in the installed code (no wheel ships one): not followed, not
 *   compared, and a finding says so.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "check.h"
#include "metadata.h"

#define STATIC_FILES_MAX 100000
#define STATIC_DEPTH_MAX 32
#define STATIC_SHOW_MAX  10

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* What STATIC_ROOT has where the source has a directory. */
typedef enum DstKind {
        DST_DIR,    /* a directory, open */
        DST_NONE,   /* nothing (or not a directory): every file below is missing */
        DST_LINKED, /* a symbolic link: not entered, the files below are not compared */
} DstKind;

typedef struct Walk {
        size_t files;
        size_t stale;
        char **shown;     /* the first few missing or stale paths */
        size_t links;     /* symbolic links in the installed code, not followed */
        char *first_link; /* the first of them */
        size_t linked;    /* files STATIC_ROOT holds only below a linked directory */
        char *first_linked;
        int error; /* first error other than a missing source */
        char *error_path;
} Walk;

static void walk_note(Walk *w, const char *rel)
{
        w->stale++;
        if (strv_length(w->shown) < STATIC_SHOW_MAX && strv_extend(&w->shown, rel) < 0)
                w->error = w->error ?: -ENOMEM;
}

/* Counts one more of something not compared, keeping the first path. */
static void walk_count(Walk *w, size_t *n, char **first, const char *rel)
{
        if ((*n)++ == 0 && !(*first = strdup(rel)))
                w->error = w->error ?: -ENOMEM;
}

/* A symbolic link in STATIC_ROOT, read, never followed: "collectstatic --link" made it? */
static bool link_names(int dst_fd, const char *name, const char *rel)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(dst_fd, name, target, sizeof(target));
        size_t l = strlen(rel);

        if (n <= 0 || (size_t)n >= sizeof(target))
                return false;
        return (size_t)n > l && target[n - (ssize_t)l - 1] == '/' &&
               memcmp(target + n - (ssize_t)l, rel, l) == 0;
}

/* Whether STATIC_ROOT has the source file 'name' (of 'size' bytes, at 'rel') under dst_fd. */
static bool collected(int dst_fd, const char *name, const char *rel, off_t size)
{
        struct stat st;

        if (fstatat(dst_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        if (S_ISLNK(st.st_mode))
                return link_names(dst_fd, name, rel);
        return S_ISREG(st.st_mode) && st.st_size == size;
}

/* The subdirectory 'name' of STATIC_ROOT's dst_fd, as a DstKind (and its fd for DST_DIR). */
static DstKind dst_enter(int dst_fd, DstKind kind, const char *name, int *ret_fd)
{
        struct stat st;

        *ret_fd = -1;
        if (kind != DST_DIR)
                return kind;
        if (fstatat(dst_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return DST_NONE;
        if (S_ISLNK(st.st_mode))
                return DST_LINKED;
        if (!S_ISDIR(st.st_mode))
                return DST_NONE;
        *ret_fd = openat(dst_fd, name, OPEN_DIR_FLAGS);
        if (*ret_fd >= 0)
                return DST_DIR;
        /* Swapped since the fstatat() (for a link, say): nothing followed, nothing there. */
        return DST_NONE;
}

/*
 * Walks the source directory src_fd ("rel" below its top) beside STATIC_ROOT's directory of
 * the same path (dst_fd when kind is DST_DIR). Takes both descriptors.
 */
static void walk_dir(Walk *w, int src_fd, int dst_fd, DstKind kind, const char *rel, unsigned depth)
{
        _cleanup_close_ int dst = dst_fd;
        DIR *d;
        struct dirent *de;

        if (depth > STATIC_DEPTH_MAX) {
                w->error = w->error ?: -ELOOP;
                close(src_fd);
                return;
        }
        d = fdopendir(src_fd);
        if (!d) {
                w->error = w->error ?: -errno;
                close(src_fd);
                return;
        }
        while ((de = readdir(d)) && w->files < STATIC_FILES_MAX && !w->error) {
                _cleanup_free_ char *path = NULL;
                struct stat src;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                path = rel ? strjoin_printf("%s/%s", rel, de->d_name) : strdup(de->d_name);
                if (!path) {
                        w->error = -ENOMEM;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &src, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* vanished while we looked: pip at work */
                if (S_ISLNK(src.st_mode)) {
                        walk_count(w, &w->links, &w->first_link, path);
                        continue;
                }
                if (S_ISDIR(src.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, OPEN_DIR_FLAGS), sub_dst;
                        DstKind k;

                        if (sub < 0)
                                continue; /* vanished, or swapped for a link: not followed */
                        k = dst_enter(dst, kind, de->d_name, &sub_dst);
                        walk_dir(w, sub, sub_dst, k, path, depth + 1);
                        continue;
                }
                if (!S_ISREG(src.st_mode))
                        continue;
                w->files++;
                if (kind == DST_LINKED)
                        walk_count(w, &w->linked, &w->first_linked, path);
                else if (kind != DST_DIR || !collected(dst, de->d_name, path, src.st_size))
                        walk_note(w, path);
        }
        closedir(d);
}

/*
 * Opens 'rel' (components separated by '/') below the directory sp_fd, no component
 * followed if it is a symbolic link: -ENOENT when the code ships no such directory.
 */
static int open_below(int sp_fd, const char *rel)
{
        _cleanup_close_ int fd = -1;
        char name[NAME_MAX + 1];

        for (const char *p = rel; *p;) {
                size_t n = strcspn(p, "/");
                int next;

                if (n == 0 || n > NAME_MAX)
                        return -EINVAL;
                memcpy(name, p, n);
                name[n] = 0;
                next = openat(fd >= 0 ? fd : sp_fd, name, OPEN_DIR_FLAGS);
                if (next < 0) {
                        int r = -errno;
                        struct stat st;

                        /* O_DIRECTORY says ENOTDIR for a link too: say which it is. */
                        if (r == -ENOTDIR &&
                            fstatat(fd >= 0 ? fd : sp_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                            S_ISLNK(st.st_mode))
                                r = -ELOOP;
                        return r;
                }
                closep(&fd);
                fd = next;
                p += n + (p[n] == '/');
        }
        return TAKE_FD(fd);
}

/* 1 when the source was walked, 0 when the installed code ships no such directory. */
static int walk_source(Walk *w, int sp_fd, const char *rel, const char *dir, int root_fd)
{
        int fd = open_below(sp_fd, rel), dst;

        if (fd < 0) {
                if (fd == -ENOENT)
                        return 0;
                w->error = w->error ?: fd;
                if (!w->error_path)
                        w->error_path = strdup(dir);
                return 0;
        }
        dst = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (dst < 0) {
                w->error = w->error ?: -errno;
                close(fd);
        } else
                walk_dir(w, fd, dst, DST_DIR, NULL, 0);
        if (w->error && !w->error_path)
                w->error_path = strdup(dir);
        return 1;
}

static const char *walk_error_to_string(int r)
{
        if (r == -ELOOP)
                return "a symbolic link, not followed (the account that owns the installation could point it anywhere), or nested too deep";
        return strerror(-r);
}

int check_static_start(Check *c)
{
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_free_ char *app_rel = NULL, *app_dir = NULL, *core_dir = NULL, *shown = NULL,
                            *ev = NULL;
        _cleanup_close_ int root_fd = -1, sp_fd = -1;
        Walk w = {};
        int n_sources = 0;

        if (!cfg->static_root || !cfg->site_packages) {
                check_result_set(
                        res, CHECK_SKIPPED,
                        "no STATIC_ROOT ([nautobot] root= or static-root=) or site-packages configured");
                check_complete(c);
                return 0;
        }
        /* config.c refuses any other label; it names a directory, so once more here. */
        if (!python_identifier_valid(cfg->app_label)) {
                check_result_set(res, CHECK_ERROR, "no valid Django app label to look for");
                check_complete(c);
                return 0;
        }
        root_fd = open(cfg->static_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0) {
                int r = -errno;
                struct stat st;

                if (r == -ENOTDIR && lstat(cfg->static_root, &st) >= 0 && S_ISLNK(st.st_mode))
                        r = -ELOOP; /* O_DIRECTORY says ENOTDIR for a link too */
                if (r == -ELOOP)
                        check_result_set(
                                res, CHECK_ERROR,
                                "STATIC_ROOT %s is a symbolic link, which is not followed (the account that owns it could point it anywhere): set [nautobot] static-root= to the directory it leads to",
                                cfg->static_root);
                else
                        check_result_set(
                                res, r == -ENOENT ? CHECK_FAIL : CHECK_ERROR,
                                "cannot open STATIC_ROOT %s: %s%s", cfg->static_root, strerror(-r),
                                r == -ENOENT ? ": run \"nautobot-server collectstatic --no-input\""
                                             : "");
                if (r == -ENOENT)
                        (void)check_result_set_pending(res, "collectstatic");
                check_complete(c);
                return 0;
        }
        app_rel = strjoin_printf("%s/static", cfg->app_label);
        app_dir = strjoin_printf("%s/%s", cfg->site_packages, app_rel);
        core_dir = strjoin_printf("%s/nautobot/project-static", cfg->site_packages);
        if (!app_rel || !app_dir || !core_dir)
                return -ENOMEM;

        /* The configured site-packages is followed (venvs have lib64 -> lib); nothing below it. */
        sp_fd = open(cfg->site_packages, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sp_fd < 0) {
                w.error = -errno;
                if (w.error != -ENOENT && !(w.error_path = strdup(cfg->site_packages)))
                        w.error = -ENOMEM;
                if (w.error == -ENOENT)
                        w.error = 0; /* no code installed there: nothing shipped */
        } else {
                n_sources += walk_source(&w, sp_fd, app_rel, app_dir, root_fd);
                n_sources += walk_source(&w, sp_fd, "nautobot/project-static", core_dir, root_fd);
        }
        shown = strv_join(w.shown, "\n  ");
        ev = strjoin_printf("STATIC_ROOT %s\nsources: %s, %s\nfiles shipped: %zu; missing or of "
                            "another size: %zu%s%s",
                            cfg->static_root, app_dir, core_dir, w.files, w.stale,
                            w.shown ? "\n  " : "", strempty(shown));
        if (ev)
                check_result_set_evidence(res, ev);
        if (w.links > 0)
                (void)check_result_add_finding(
                        res,
                        "%zu symbolic link(s) in the installed static files were not followed (first: %s): a wheel ships none",
                        w.links, strempty(w.first_link));
        if (w.linked > 0)
                (void)check_result_add_finding(
                        res,
                        "%zu static file(s) are in a directory of STATIC_ROOT that is a symbolic link, which is not followed: not compared (first: %s)",
                        w.linked, strempty(w.first_linked));

        if (w.error)
                check_result_set(res, CHECK_ERROR, "cannot read the static files in %s: %s",
                                 strempty(w.error_path), walk_error_to_string(w.error));
        else if (w.files >= STATIC_FILES_MAX)
                check_result_set(res, CHECK_ERROR,
                                 "more than %d static files under %s and %s: not compared",
                                 STATIC_FILES_MAX, app_dir, core_dir);
        else if (w.stale > 0) {
                check_result_set(
                        res, CHECK_FAIL,
                        "%zu of the %zu static files of the installed release are missing from STATIC_ROOT %s or differ in size (first: %s): run \"nautobot-server collectstatic --no-input\"",
                        w.stale, w.files, cfg->static_root, w.shown[0]);
                (void)check_result_set_pending(res, "collectstatic (%zu file%s)", w.stale,
                                               w.stale == 1 ? "" : "s");
        } else if (n_sources == 0)
                check_result_set(res, CHECK_PASS, "the installed code ships no static files");
        else
                check_result_set(res, CHECK_PASS,
                                 "all %zu static files of %s and Nautobot are collected in %s",
                                 w.files, cfg->package, cfg->static_root);
        strv_free(w.shown);
        free(w.first_link);
        free(w.first_linked);
        free(w.error_path);
        check_complete(c);
        return 0;
}
