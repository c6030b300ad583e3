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
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"

#define STATIC_FILES_MAX 100000
#define STATIC_DEPTH_MAX 32
#define STATIC_SHOW_MAX  10

typedef struct Walk {
        int root_fd; /* STATIC_ROOT */
        size_t files;
        size_t stale;
        char **shown; /* the first few missing or stale paths */
        int error;    /* first error other than a missing source */
        char *error_path;
} Walk;

static void walk_note(Walk *w, const char *rel)
{
        w->stale++;
        if (strv_length(w->shown) < STATIC_SHOW_MAX && strv_extend(&w->shown, rel) < 0)
                w->error = w->error ?: -ENOMEM;
}

/* Walks the source directory dfd ("rel" below its top) and looks each file up under root_fd. */
static void walk_dir(Walk *w, int dfd, const char *rel, unsigned depth)
{
        DIR *d;
        struct dirent *de;

        if (depth > STATIC_DEPTH_MAX) {
                w->error = w->error ?: -ELOOP;
                return;
        }
        d = fdopendir(dfd);
        if (!d) {
                w->error = w->error ?: -errno;
                close(dfd);
                return;
        }
        while ((de = readdir(d)) && w->files < STATIC_FILES_MAX && !w->error) {
                _cleanup_free_ char *path = NULL;
                struct stat src, dst;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                path = rel ? strjoin_printf("%s/%s", rel, de->d_name) : strdup(de->d_name);
                if (!path) {
                        w->error = -ENOMEM;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &src, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* vanished while we looked: pip at work */
                if (S_ISDIR(src.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

                        if (sub >= 0)
                                walk_dir(w, sub, path, depth + 1);
                        continue;
                }
                if (!S_ISREG(src.st_mode))
                        continue;
                w->files++;
                if (fstatat(w->root_fd, path, &dst, 0) < 0 || !S_ISREG(dst.st_mode) ||
                    dst.st_size != src.st_size)
                        walk_note(w, path);
        }
        closedir(d);
}

/* 1 when the source was walked, 0 when the installed code ships no such directory. */
static int walk_source(Walk *w, const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                w->error = w->error ?: -errno;
                if (!w->error_path)
                        w->error_path = strdup(dir);
                return 0;
        }
        walk_dir(w, fd, NULL, 0);
        if (w->error && !w->error_path)
                w->error_path = strdup(dir);
        return 1;
}

int check_static_start(Check *c)
{
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_free_ char *app_dir = NULL, *core_dir = NULL, *shown = NULL, *ev = NULL;
        _cleanup_close_ int root_fd = -1;
        Walk w = {.root_fd = -1};
        int n_sources = 0;

        if (!cfg->static_root || !cfg->site_packages) {
                check_result_set(
                        res, CHECK_SKIPPED,
                        "no STATIC_ROOT ([nautobot] root= or static-root=) or site-packages configured");
                check_complete(c);
                return 0;
        }
        root_fd = open(cfg->static_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                int r = -errno;

                check_result_set(res, r == -ENOENT ? CHECK_FAIL : CHECK_ERROR,
                                 "cannot open STATIC_ROOT %s: %s%s", cfg->static_root, strerror(-r),
                                 r == -ENOENT ? ": run \"nautobot-server collectstatic --no-input\""
                                              : "");
                if (r == -ENOENT)
                        (void)check_result_set_pending(res, "collectstatic");
                check_complete(c);
                return 0;
        }
        app_dir = strjoin_printf("%s/%s/static", cfg->site_packages, cfg->app_label);
        core_dir = strjoin_printf("%s/nautobot/project-static", cfg->site_packages);
        if (!app_dir || !core_dir)
                return -ENOMEM;

        w.root_fd = root_fd;
        n_sources += walk_source(&w, app_dir);
        n_sources += walk_source(&w, core_dir);
        shown = strv_join(w.shown, "\n  ");
        ev = strjoin_printf("STATIC_ROOT %s\nsources: %s, %s\nfiles shipped: %zu; missing or of "
                            "another size: %zu%s%s",
                            cfg->static_root, app_dir, core_dir, w.files, w.stale,
                            w.shown ? "\n  " : "", strempty(shown));
        if (ev)
                check_result_set_evidence(res, ev);

        if (w.error)
                check_result_set(res, CHECK_ERROR, "cannot read the static files in %s: %s",
                                 strempty(w.error_path), strerror(-w.error));
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
        free(w.error_path);
        check_complete(c);
        return 0;
}
