/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a verification run reads of the host when it is made (verify_new()),
 * before any check starts: nautobot-server's account and environment, the
 * secrets, the installed version of the app and of Nautobot, and a snapshot
 * of the watched packages, which is what the run verifies even should pip
 * change them meanwhile.
 */
#include <libgen.h>
#include <sys/stat.h>

#include "envfile.h"
#include "metadata.h"
#include "pkgwatch.h"
#include "runas.h"
#include "verify-internal.h"
#include "verify.h"

int verify_child_env(const Config *c, char ***ret, char **ret_error)
{
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *bindir = NULL, *path = NULL;
        unsigned line = 0;
        int r;

        *ret = NULL;
        bindir = strdup(c->server);
        if (!bindir)
                return -ENOMEM;
        path = strjoin_printf("%s:/usr/local/bin:/usr/bin:/bin", dirname(bindir));
        if (!path)
                return -ENOMEM;
        /* A scrubbed environment: nothing of ours leaks into nautobot-server. */
        if ((r = env_set(&env, "PATH", path)) < 0 || (r = env_set(&env, "LANG", "C.UTF-8")) < 0 ||
            (r = env_set(&env, "PYTHONUNBUFFERED", "1")) < 0 ||
            (r = env_set(&env, "PYTHONDONTWRITEBYTECODE", "1")) < 0 ||
            (r = env_set(&env, "HOME", c->root ?: "/")) < 0)
                return r;
        if (c->environment_file) {
                r = envfile_load(c->environment_file, &env, &line);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error =
                                line > 0 ? strjoin_printf("environment file %s:%u: %s",
                                                          c->environment_file, line,
                                                          envfile_error_to_string(r))
                                         : strjoin_printf("cannot read environment file '%s': %s",
                                                          c->environment_file,
                                                          read_file_error_to_string(r));
                        return *ret_error ? 0 : -ENOMEM;
                }
        }
        /* What the configuration says explicitly wins over the file. */
        if (c->root && (r = env_set(&env, "NAUTOBOT_ROOT", c->root)) < 0)
                return r;
        if (c->nautobot_config && (r = env_set(&env, "NAUTOBOT_CONFIG", c->nautobot_config)) < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

int verify_build_child_env(Verify *v)
{
        int r;

        /* As root, never run nautobot-server as root by accident: refused, the reason is the error.
         */
        r = run_as_resolve(v->config->server, v->config->user, geteuid(), &v->run_as,
                           &v->child_env_error);
        if (r == -EPERM)
                return 0;
        if (r < 0)
                return r;
        return verify_child_env(v->config, &v->env.child_env, &v->child_env_error);
}

int verify_load_secret(const Config *c, SecretId id, const char *what, char **ret, char **ret_error)
{
        _cleanup_free_ char *source = NULL, *why = NULL;
        int r;

        r = config_secret(c, id, ret, &source, &why);
        if (r == -ENOKEY || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        if (r < 0) {
                *ret_error = strjoin_printf(
                        "cannot read the %s from '%s': %s", what, strempty(source),
                        why             ? why
                        : r == -ENODATA ? "the file is empty"
                        : r == -EBADMSG ? "it holds control characters or more than one line"
                        : r == -EFBIG   ? "the file is larger than 4 KiB"
                                        : read_file_error_to_string(r));
                return *ret_error ? 0 : -ENOMEM;
        }
        return 0;
}

int verify_read_version(Verify *v)
{
        const Config *c = v->config;
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        _cleanup_strv_free_ char **conflicts = NULL;
        _cleanup_free_ char *list = NULL;
        int r;

        if (!c->site_packages) {
                v->version_error = strjoin_printf(
                        "site-packages is not configured and cannot be derived from '%s'",
                        c->server);
                return v->version_error ? 0 : -ENOMEM;
        }
        if (!c->package) /* every app: the run that finds them has none of its own */
                return 0;
        r = dist_info_find(c->site_packages, c->package, &d, &conflicts);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOTUNIQ) {
                list = strv_join(conflicts, ", ");
                v->version_error = strjoin_printf(
                        "more than one dist-info for %s in %s (an install in progress, or a broken one): %s",
                        c->package, c->site_packages, strempty(list));
        } else if (r == -ENOENT)
                v->version_error =
                        strjoin_printf("%s is not installed in %s", c->package, c->site_packages);
        else if (r == -EBADMSG)
                v->version_error =
                        strjoin_printf("the METADATA of %s in %s has no valid Name/Version",
                                       c->package, c->site_packages);
        else if (r < 0)
                v->version_error =
                        strjoin_printf("cannot read the dist-info of %s in %s: %s", c->package,
                                       c->site_packages, read_file_error_to_string(r));
        else {
                _cleanup_(dist_info_freep) DistInfo *core = NULL;

                v->version = TAKE_PTR(d->version);
                /* Nautobot's own version, for the running-against-installed check. */
                if (dist_info_find(c->site_packages, "nautobot", &core, NULL) >= 0)
                        v->nautobot_version = TAKE_PTR(core->version);
                return 0;
        }
        return v->version_error ? 0 : -ENOMEM;
}

/* The RECORD pip writes last, or the dist-info itself: when the release was installed. */
static uint64_t dist_info_written(const char *site_packages, const char *package)
{
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        _cleanup_free_ char *record = NULL;
        struct stat st;

        if (dist_info_find(site_packages, package, &d, NULL) < 0)
                return 0;
        record = strjoin_printf("%s/RECORD", d->path);
        if (!record || (stat(record, &st) < 0 && stat(d->path, &st) < 0))
                return 0;
        return (uint64_t)st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t)st.st_mtim.tv_nsec / 1000;
}

int verify_snapshot_packages(Verify *v)
{
        const Config *c = v->config;
        const PackageSnapshot *newest = NULL;

        v->packages = calloc(strv_length(c->watch_packages) + 1, sizeof(PackageSnapshot));
        if (!v->packages)
                return -ENOMEM;
        STRV_FOREACH (p, c->watch_packages) {
                PackageSnapshot *s = &v->packages[v->n_packages++];
                _cleanup_free_ char *problem = NULL;
                bool editable;
                int r;

                s->package = strdup(*p);
                if (!s->package)
                        return -ENOMEM;
                r = pkg_probe(c->site_packages ?: "/nonexistent", *p, &s->version, &editable,
                              &problem);
                if (r == -ENOMEM)
                        return r;
                s->unsettled = r < 0 || problem;
                if (s->version && !s->unsettled)
                        s->written_usec = dist_info_written(c->site_packages, *p);
                if (s->written_usec && (!newest || s->written_usec > newest->written_usec))
                        newest = s;
        }
        if (newest) {
                v->env.install_usec = newest->written_usec;
                v->install_what = strjoin_printf("%s %s", newest->package, newest->version);
                if (!v->install_what)
                        return -ENOMEM;
        }
        return 0;
}

int verify_package(const Verify *v, const char *package, const char **ret_version)
{
        for (size_t i = 0; i < v->n_packages; i++)
                if (streq(v->packages[i].package, package)) {
                        if (v->packages[i].unsettled)
                                return -EBUSY;
                        *ret_version = v->packages[i].version;
                        return 0;
                }
        return -ENOENT;
}

uint64_t verify_install_usec(const Verify *v)
{
        return v->env.install_usec;
}
