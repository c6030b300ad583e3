/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What happens once the file is read (config_finalize()): the values the file
 * may leave out are derived (site-packages from the server's path, the state
 * directories, STATIC_ROOT, the Jobs module), and a configuration that an
 * enabled check cannot run with is refused, naming the file:line that set (or
 * made needed) the key. The apps' part, profiles included, is config-apps.c's.
 */
#include <glob.h>
#include <libgen.h>

#include "config-internal.h"

/* <venv>/bin/nautobot-server → the single <venv>/lib/python3.N/site-packages. */
static int derive_site_packages(const char *server, char **ret)
{
        _cleanup_free_ char *copy = NULL, *pattern = NULL;
        glob_t g = {};
        char *venv;
        int r;

        copy = strdup(server);
        if (!copy)
                return -ENOMEM;
        venv = dirname(dirname(copy));
        pattern = strjoin_printf("%s/lib/python3*/site-packages", venv);
        if (!pattern)
                return -ENOMEM;
        r = glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g);
        if (r == GLOB_NOMATCH || (r == 0 && g.gl_pathc != 1)) {
                r = r == 0 ? -ENOTUNIQ : -ENOENT;
                globfree(&g);
                return r;
        }
        if (r != 0)
                return -EIO;
        *ret = strdup(g.gl_pathv[0]);
        globfree(&g);
        return *ret ? 0 : -ENOMEM;
}

#define CHECK_BIT(id) (UINT64_C(1) << (id))
#define ALWAYS        UINT64_MAX

/* Keys whose value a check cannot do without: refused empty while such a check is enabled. */
static const struct {
        const char *section;
        const char *key;
        uint64_t checks; /* bits of the CheckIds that need it; ALWAYS: the run itself */
        bool single_app; /* only with [package] name= set (all-apps mode asks the server) */
} required_keys[] = {
        {"nautobot", "server", ALWAYS}, /* the child's PATH, site-packages */
        {"nautobot", "url", ALWAYS},
        {"credentials", "username", CHECK_BIT(CHECK_ID_PANELS)},
        {"package", "app-label", ALWAYS, true},
        {"watch", "packages", ALWAYS},
};

/* "file:line: [section] key= is empty, but the X check needs it ..." for the first such key. */
static int check_required_keys(const Config *c, char **ret_error)
{
        for (size_t i = 0; i < ELEMENTSOF(required_keys); i++) {
                _cleanup_free_ char *where = NULL, *needed = NULL;
                size_t index = 0;
                const ConfigKey *k =
                        config_key_find(required_keys[i].section, required_keys[i].key, &index);

                if (!k || !config_key_is_empty(c, k) ||
                    (required_keys[i].single_app && config_all_apps(c)))
                        continue;
                if (required_keys[i].checks != ALWAYS) {
                        Buf b;

                        buf_init(&b, 256);
                        for (CheckId id = 0; id < _CHECK_ID_MAX; id++)
                                if (c->enabled[id] && (required_keys[i].checks & CHECK_BIT(id)))
                                        (void)buf_printf(&b, "%s%s", b.len > 0 ? ", " : "",
                                                         check_id_to_string(id));
                        if (b.len == 0) { /* only disabled checks need it */
                                buf_done(&b);
                                continue;
                        }
                        needed = b.data; /* takes it */
                }
                if (!ret_error)
                        return -EINVAL;
                /* Not in the file at all: the key that made it needed is. */
                where = c->key_line[index] > 0 || !required_keys[i].single_app
                                ? config_where_set(c, k->section, k->key)
                                : config_where_set(c, "package", "name");
                if (!where)
                        return -ENOMEM;
                if (required_keys[i].single_app)
                        *ret_error = strjoin_printf(
                                "%s[%s] %s= must not be empty when [package] name= is set (the app's Django label)",
                                where, k->section, k->key);
                else if (needed)
                        *ret_error = strjoin_printf(
                                "%s[%s] %s= is empty, but the enabled check(s) %s need it: set it, or leave them out of [checks] enable=",
                                where, k->section, k->key, needed);
                else
                        *ret_error = strjoin_printf("%s[%s] %s= must not be empty", where,
                                                    k->section, k->key);
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/*
 * An admin's database password goes only where the admin said: without host=,
 * port= and name= beside it, the database check would take them from what the
 * probe reports (the app's code) or from the environment file (the nautobot
 * account's), and could hand the password to a server of their choosing.
 */
static int check_database_destination(const Config *c, char **ret_error)
{
        _cleanup_free_ char *where = NULL;
        const char *missing = !c->db_host   ? "host"
                              : !c->db_port ? "port"
                              : !c->db_name ? "name"
                                            : NULL;

        if (!c->db_password_file || !missing)
                return 0;
        if (!ret_error)
                return -EINVAL;
        where = config_where_set(c, "database", "password-file");
        if (!where)
                return -ENOMEM;
        *ret_error = strjoin_printf(
                "%s[database] password-file= is set but [database] %s= is not: the password is sent only to the host, port and database this file names, never to what the server's settings or the environment file say; set host=, port= and name=",
                where, missing);
        return *ret_error ? -EINVAL : -ENOMEM;
}

/* Watched packages name files (their state, their profile): distribution names only. */
static int check_watched_names(const Config *c, char **ret_error)
{
        _cleanup_free_ char *where = NULL, *shown = NULL;

        STRV_FOREACH (p, c->watch_packages) {
                if (python_name_valid(*p))
                        continue;
                if (!ret_error)
                        return -EINVAL;
                where = config_where_set(c, "watch", "packages");
                shown = str_escape_control(*p);
                *ret_error =
                        where && shown
                                ? strjoin_printf(
                                          "%s[watch] packages=: '%s' is not a Python distribution name (letters, digits, '.', '_', '-')",
                                          where, shown)
                                : NULL;
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/* The values the file may leave out, derived from those it has. */
static int derive(Config *c)
{
        int r;

        if (!c->site_packages && c->server) {
                r = derive_site_packages(c->server, &c->site_packages);
                if (r == -ENOMEM)
                        return r;
                /* Not fatal: the version is then reported as unknown, with the reason. */
        }
        if (!c->state_directory) {
                /* systemd's StateDirectory= tells us where; else the FHS place. */
                const char *sd = getenv("STATE_DIRECTORY");
                _cleanup_free_ char *first = sd ? strndup(sd, strcspn(sd, ":")) : NULL;

                c->state_directory = strdup(!isempty(first) ? first : "/var/lib/nautobot-verifyd");
                if (!c->state_directory)
                        return -ENOMEM;
        }
        free(c->instance_state_directory);
        c->instance_state_directory = strjoin_printf("%s/%s", c->state_directory, c->instance);
        if (!c->instance_state_directory)
                return -ENOMEM;
        if (!c->static_root && c->root) {
                c->static_root = strjoin_printf("%s/static", c->root);
                if (!c->static_root)
                        return -ENOMEM;
        }
        if (!c->job_module && c->app_label) {
                c->job_module = strjoin_printf("%s.jobs", c->app_label);
                if (!c->job_module)
                        return -ENOMEM;
        }
        return 0;
}

int config_finalize(Config *c, char **ret_error)
{
        int r;

        r = derive(c);
        if (r < 0)
                return r;
        r = check_required_keys(c, ret_error);
        if (r < 0)
                return r;
        r = check_database_destination(c, ret_error);
        if (r < 0)
                return r;
        r = check_watched_names(c, ret_error);
        if (r < 0)
                return r;
        r = config_finalize_apps(c, ret_error);
        if (r < 0)
                return r;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (c->enabled[i])
                        return 0;
        if (ret_error)
                *ret_error = strdup("[checks] enable= names no check");
        return -EINVAL;
}
