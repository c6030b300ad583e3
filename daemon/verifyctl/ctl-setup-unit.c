/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl setup: the host's Nautobot as its unit describes it, read
 * over sd-bus (ctl-setup.c owns the command and what it writes). From
 * nautobot.service: ExecStart= (nautobot-server, or beside what it runs; the
 * URL from --http or the uWSGI ini), User=, WorkingDirectory=, Environment= and
 * EnvironmentFile= (read as the unit's account), --server and --url first.
 * Also the check's .path and .timer, started once the configuration is there.
 */
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "ctl-setup.h"
#include "envfile.h"
#include "privilege.h"

#define BUS_TIMEOUT_USEC   (10 * USEC_PER_SEC)
#define INI_MAX            (256 * 1024)
#define SYSTEMD_DEST       "org.freedesktop.systemd1"
#define SYSTEMD_PATH       "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER    "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE    "org.freedesktop.systemd1.Service"

void nautobot_done(Nautobot *n)
{
        free(n->server);
        free(n->url);
        free(n->user);
        free(n->root);
        free(n->config);
        free(n->env_file);
        free(n->cwd);
        strv_free(n->env);
        strv_free(n->notes);
}

static const char *bus_error_text(const sd_bus_error *e, int r)
{
        return sd_bus_error_is_set(e) && e->message ? e->message : strerror(-r);
}

/* ---- finding Nautobot ---------------------------------------------------- */

/* "0.0.0.0:8001" (uWSGI's --http/http=): the URL a local client uses; NULL when unreadable. */
static char *url_from_listen(const char *listen, bool tls)
{
        _cleanup_free_ char *host = NULL;
        const char *colon, *port;
        size_t n = strcspn(listen, ",");

        colon = memrchr(listen, ':', n);
        if (!colon || colon + 1 >= listen + n)
                return NULL;
        port = colon + 1;
        host = strndup(listen, (size_t)(colon - listen));
        if (!host)
                return NULL;
        /* A wildcard listens on loopback too, where the unit's IPAddressAllow=localhost lets us. */
        if (isempty(host) || streq(host, "0.0.0.0") || streq(host, "*"))
                return strjoin_printf("%s://127.0.0.1:%.*s", tls ? "https" : "http",
                                      (int)(listen + n - port), port);
        if (streq(host, "[::]"))
                return strjoin_printf("%s://[::1]:%.*s", tls ? "https" : "http",
                                      (int)(listen + n - port), port);
        return strjoin_printf("%s://%s:%.*s", tls ? "https" : "http", host,
                              (int)(listen + n - port), port);
}

/*
 * A file of Nautobot's unit (its EnvironmentFile=, its uWSGI ini) belongs to
 * the account it runs as, which could make it a link to anything: root has
 * that account read it (privilege.h), as it would see it.
 */
static int read_as_unit_user(const char *user, const char *path, size_t max, char **ret,
                             size_t *ret_len)
{
        struct passwd *pw;

        if (geteuid() != 0 || isempty(user) || streq(user, "root"))
                return read_file_bounded(path, max, ret, ret_len);
        pw = getpwnam(user);
        if (!pw)
                return -ESRCH;
        return privilege_read_file_as(pw->pw_uid, pw->pw_gid, path, max, ret, ret_len);
}

/* http= or https= of a uWSGI ini file's [uwsgi] section (Nautobot's install guide). */
static char *url_from_ini(const char *path, const char *user)
{
        _cleanup_free_ char *text = NULL;
        bool in_uwsgi = false;
        char *save = NULL;

        if (read_as_unit_user(user, path, INI_MAX, &text, NULL) < 0)
                return NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = strstrip(line), *eq;
                bool tls;

                if (l[0] == '[') {
                        in_uwsgi = startswith(l, "[uwsgi]") != NULL;
                        continue;
                }
                eq = strchr(l, '=');
                if (!in_uwsgi || !eq)
                        continue;
                *eq = '\0';
                tls = streq(strstrip(l), "https");
                if (tls || streq(strstrip(l), "http"))
                        return url_from_listen(strstrip(eq + 1), tls);
        }
        return NULL;
}

/* nautobot-server's argv in ExecStart=: the URL it serves (--http, or the --ini's http=). */
static char *url_from_argv(char **argv, const char *cwd, const char *user)
{
        for (size_t i = 0; argv && argv[i]; i++) {
                const char *a = argv[i], *v = NULL;
                bool tls = false, ini = false;

                if ((v = startswith(a, "--http=")) || (v = startswith(a, "--https=")))
                        tls = a[6] == 's';
                else if ((streq(a, "--http") || streq(a, "--https")) && argv[i + 1])
                        tls = a[6] == 's', v = argv[i + 1];
                else if ((v = startswith(a, "--ini=")))
                        ini = true;
                else if (streq(a, "--ini") && argv[i + 1])
                        ini = true, v = argv[i + 1];
                if (!v)
                        continue;
                if (!ini)
                        return url_from_listen(v, tls);
                if (v[0] == '/')
                        return url_from_ini(v, user);
                if (cwd) {
                        _cleanup_free_ char *p = strjoin_printf("%s/%s", cwd, v);

                        return p ? url_from_ini(p, user) : NULL;
                }
        }
        return NULL;
}

static int note(Nautobot *n, char *text)
{
        return strv_push(&n->notes, text);
}

/* LoadUnit: the unit's object path when systemd has it loaded; else why not. */
static int unit_load(sd_bus *bus, char **ret_path, char **ret_reason)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *load_state = NULL, *p = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", &error,
                               &reply, "s", NAUTOBOT_UNIT);
        if (r < 0) {
                *ret_reason = strjoin_printf("cannot ask systemd about " NAUTOBOT_UNIT ": %s",
                                             bus_error_text(&error, r));
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if ((r = sd_bus_message_read(reply, "o", &path)) < 0)
                return r;
        r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_UNIT_IFACE, "LoadState",
                                       &error, &load_state);
        if (r < 0)
                return r;
        if (!streq(load_state, "loaded")) {
                *ret_reason = strjoin_printf(
                        "systemd has no " NAUTOBOT_UNIT
                        " here (%s), so setup cannot tell where Nautobot is: give --server (and --url)",
                        load_state);
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        /* A copy: the path lives in the reply. */
        if (!(p = strdup(path)))
                return -ENOMEM;
        *ret_path = TAKE_PTR(p);
        return 0;
}

/* ExecStart: a(sasbttttuii); the first command is the server's (NULLs: there is none). */
static int unit_exec_start(sd_bus *bus, const char *path, char **ret_exec_path,
                           char ***ret_exec_argv)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *exec_path = NULL;
        _cleanup_strv_free_ char **exec_argv = NULL;
        const char *s;
        int r;

        r = sd_bus_get_property(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "ExecStart", &error,
                                &reply, "a(sasbttttuii)");
        if (r < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sasbttttuii)")) < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'r', "sasbttttuii");
        if (r < 0)
                return r;
        if (r > 0) {
                if ((r = sd_bus_message_read(reply, "s", &s)) < 0)
                        return r;
                if (!(exec_path = strdup(s)))
                        return -ENOMEM;
                if ((r = sd_bus_message_read_strv(reply, &exec_argv)) < 0)
                        return r;
        }
        *ret_exec_path = TAKE_PTR(exec_path);
        *ret_exec_argv = TAKE_PTR(exec_argv);
        return 0;
}

/* EnvironmentFiles: a(sb), the paths in the unit's order. */
static int unit_environment_files(sd_bus *bus, const char *path, char ***ret)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **files = NULL;
        const char *s;
        int r, ignore;

        r = sd_bus_get_property(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "EnvironmentFiles",
                                &error, &reply, "a(sb)");
        if (r < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sb)")) < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sb)", &s, &ignore)) > 0)
                if ((r = strv_extend(&files, s)) < 0)
                        return r;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(files);
        return 0;
}

/* What ExecStart=, User= and WorkingDirectory= say: the server, its URL, its account. */
static int nautobot_from_exec(Nautobot *n, const char *exec_path, char **exec_argv, const char *cwd,
                              const char *user)
{
        _cleanup_free_ char *dir = NULL;

        n->from_unit = true;
        /* "~" and "!"-prefixed forms are systemd's; a plain directory is what the guide writes. */
        if (!isempty(cwd) && cwd[0] == '/' && !(n->cwd = strdup(cwd)))
                return -ENOMEM;
        if (!n->server) {
                /* The guide's ExecStart= runs nautobot-server itself; a unit that runs uWSGI or
                 * gunicorn of the same venv has nautobot-server beside it. */
                if (endswith(exec_path, "/nautobot-server"))
                        n->server = strdup(exec_path);
                else if ((dir = strdup(exec_path)))
                        n->server = strjoin_printf("%s/nautobot-server", dirname(dir));
                if (!n->server)
                        return -ENOMEM;
        }
        if (!n->url)
                n->url = url_from_argv(exec_argv, n->cwd, user);
        if (!isempty(user) && !streq(user, "root") && !(n->user = strdup(user)))
                return -ENOMEM;
        if (user && streq(user, "root") && !(n->user = strdup("root")))
                return -ENOMEM;
        return 0;
}

/*
 * What nautobot-server gets from the unit's EnvironmentFile=s, read as the
 * unit's account (read_as_unit_user()), then parsed as systemd does. The
 * configuration can name one file.
 */
static int nautobot_read_env_files(Nautobot *n, const char *user, char **files, char **ret_reason)
{
        int r;

        STRV_FOREACH (f, files) {
                const char *file = (*f)[0] == '-' ? *f + 1 : *f;
                _cleanup_free_ char *text = NULL;
                unsigned line = 0;
                size_t len;

                r = read_as_unit_user(user, file, ENVFILE_SIZE_MAX, &text, &len);
                if (r >= 0)
                        r = strlen(text) != len ? -EBADMSG : envfile_parse(text, &n->env, &line);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT && (*f)[0] == '-')
                        continue;
                if (r < 0) {
                        *ret_reason =
                                line > 0
                                        ? strjoin_printf("%s:%u (EnvironmentFile= of " NAUTOBOT_UNIT
                                                         "): %s",
                                                         file, line, envfile_error_to_string(r))
                                        : strjoin_printf(
                                                  "cannot read %s (EnvironmentFile= of " NAUTOBOT_UNIT
                                                  "): %s",
                                                  file, read_file_error_to_string(r));
                        return *ret_reason ? -EINVAL : -ENOMEM;
                }
                if (!n->env_file) {
                        if (!(n->env_file = strdup(file)))
                                return -ENOMEM;
                } else if (
                        (r = note(
                                 n,
                                 strjoin_printf(
                                         "" NAUTOBOT_UNIT
                                         " reads a second EnvironmentFile=%s: the configuration names one file (%s); merge them, or nautobot-server misses its variables under nautobot-verifyd",
                                         file, n->env_file))) < 0)
                        return r;
        }
        return 0;
}

/* Environment= wins over the files (systemd's order); the configuration carries only
 * NAUTOBOT_ROOT, NAUTOBOT_CONFIG and PYTHON*: the admin is told of the rest. */
static int nautobot_take_unit_env(Nautobot *n, char **unit_env)
{
        int r;

        STRV_FOREACH (v, unit_env) {
                const char *eq = strchr(*v, '=');
                _cleanup_free_ char *key = eq ? strndup(*v, (size_t)(eq - *v)) : NULL;

                if (!key)
                        continue;
                if ((r = env_set(&n->env, key, eq + 1)) < 0)
                        return r;
                if (streq(key, "NAUTOBOT_ROOT") || streq(key, "NAUTOBOT_CONFIG") ||
                    startswith(key, "PYTHON"))
                        continue;
                r = note(
                        n,
                        strjoin_printf(
                                "" NAUTOBOT_UNIT
                                " sets Environment=%s=…, which the configuration cannot carry: put it into %s",
                                key, n->env_file ?: "an environment-file="));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Named in the configuration even when a file sets them: root= also says where the static
 * files are, and its default (/opt/nautobot) may not be this Nautobot's. */
static int nautobot_find_root(Nautobot *n)
{
        int r;

        STRV_FOREACH (v, n->env) {
                const char *val;

                if ((val = startswith(*v, "NAUTOBOT_ROOT=")) && !isempty(val) &&
                    (r = free_and_strdup(&n->root, val)) < 0)
                        return r;
                if ((val = startswith(*v, "NAUTOBOT_CONFIG=")) && !isempty(val) &&
                    (r = free_and_strdup(&n->config, val)) < 0)
                        return r;
        }
        if (!n->root) {
                r = note(
                        n,
                        strdup("" NAUTOBOT_UNIT
                               " sets no NAUTOBOT_ROOT: the configuration keeps root's default, /opt/nautobot"));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ExecStart=, User=, WorkingDirectory=, Environment=, EnvironmentFile= of nautobot.service. */
static int discover_unit(sd_bus *bus, Nautobot *n, char **ret_reason)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *user = NULL, *cwd = NULL, *exec_path = NULL;
        _cleanup_strv_free_ char **exec_argv = NULL, **unit_env = NULL, **files = NULL;
        int r;

        if ((r = unit_load(bus, &path, ret_reason)) < 0 ||
            (r = unit_exec_start(bus, path, &exec_path, &exec_argv)) < 0)
                return r;
        if ((r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "User",
                                            &error, &user)) < 0 ||
            (r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE,
                                            "WorkingDirectory", &error, &cwd)) < 0 ||
            (r = sd_bus_get_property_strv(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "Environment",
                                          &error, &unit_env)) < 0)
                return r;
        if ((r = unit_environment_files(bus, path, &files)) < 0)
                return r;

        if (!exec_path) {
                *ret_reason = strdup(NAUTOBOT_UNIT " has no ExecStart=: give --server (and --url)");
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if ((r = nautobot_from_exec(n, exec_path, exec_argv, cwd, user)) < 0 ||
            (r = nautobot_read_env_files(n, user, files, ret_reason)) < 0 ||
            (r = nautobot_take_unit_env(n, unit_env)) < 0)
                return r;
        return nautobot_find_root(n);
}

int nautobot_discover(const CtlOptions *o, Nautobot *n, char **ret_reason)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        struct stat st;
        int r;

        if (o->setup_server && !(n->server = strdup(o->setup_server)))
                return -ENOMEM;
        if (o->setup_url && !(n->url = strdup(o->setup_url)))
                return -ENOMEM;
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
        if (r >= 0)
                r = discover_unit(bus, n, ret_reason);
        else if (!o->setup_server) {
                *ret_reason = strjoin_printf(
                        "cannot reach systemd on the system bus (%s) to read " NAUTOBOT_UNIT
                        ": give --server and --url",
                        strerror(-r));
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if (r == -ENOMEM)
                return r;
        /* With --server the unit only adds what it knows; without it the unit must answer. */
        if (r < 0 && o->setup_server) {
                *ret_reason = mfree(*ret_reason);
                r = 0;
        }
        if (r < 0 && !*ret_reason) {
                *ret_reason = strjoin_printf("cannot read " NAUTOBOT_UNIT " over D-Bus: %s",
                                             strerror(-r));
                return *ret_reason ? r : -ENOMEM;
        }
        if (r < 0)
                return r;
        if (!n->server) {
                *ret_reason = strdup("cannot tell where nautobot-server is: give --server");
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if (n->server[0] != '/' || stat(n->server, &st) < 0 || !S_ISREG(st.st_mode) ||
            access(n->server, X_OK) < 0) {
                *ret_reason = strjoin_printf(
                        "%s (%s) is not an executable file: give --server PATH of Nautobot's nautobot-server",
                        n->server,
                        n->from_unit && !o->setup_server ? "from " NAUTOBOT_UNIT : "--server");
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if (!n->url) {
                *ret_reason = strdup(
                        n->from_unit
                                ? "cannot tell Nautobot's URL from " NAUTOBOT_UNIT
                                  "'s ExecStart= (no --http, no http= in its --ini file): give --url, e.g. --url http://127.0.0.1:8001"
                                : "give Nautobot's URL with --url, e.g. --url http://127.0.0.1:8001");
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
        if (!startswith(n->url, "http://") && !startswith(n->url, "https://")) {
                *ret_reason = strjoin_printf("'%s' is not an http:// or https:// URL", n->url);
                return *ret_reason ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/* ---- the units that waited for the configuration ---------------------------- */

void setup_start_waiting_units(const char *instance)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *types[] = {"path", "timer"};

        if (sd_bus_open_system(&bus) < 0 ||
            sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_free_ char *unit = NULL, *state = NULL, *active = NULL;
                const char *path;

                unit = instance ? strjoin_printf("nautobot-verifyd-check@%s.%s", instance, types[i])
                                : strjoin_printf("nautobot-verifyd-check.%s", types[i]);
                if (!unit ||
                    sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit",
                                       &error, &reply, "s", unit) < 0 ||
                    sd_bus_message_read(reply, "o", &path) < 0 ||
                    sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_UNIT_IFACE,
                                               "UnitFileState", &error, &state) < 0 ||
                    sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_UNIT_IFACE,
                                               "ActiveState", &error, &active) < 0)
                        continue;
                /* Only what the admin (or the package) enabled; the condition kept it stopped. */
                if (!streq(state, "enabled") || streq(active, "active"))
                        continue;
                reply = sd_bus_message_unref(reply);
                if (sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                       "StartUnit", &error, &reply, "ss", unit, "replace") < 0)
                        fprintf(stderr, "Could not start %s: %s\n", unit, error.message ?: "?");
                else
                        printf("Started %s (enabled, it waited for the configuration)\n", unit);
        }
}
