/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl setup: from an installed package to a configured one.
 * It finds the host's Nautobot (nautobot.service over sd-bus, or --server and
 * --url), has nautobot-server create or update the verifier's own account
 * (lib/checks/setup/nautobot-verifyd-setup.py: not superuser, not staff, one
 * view-only ObjectPermission, an API token), and writes the configuration and
 * the two LoadCredential= secrets where the units read them, only if absent
 * (--force replaces them, showing the difference first). Then it starts the
 * enabled .path and .timer units, which waited for the configuration
 * (ConditionPathExists=).
 *
 * Root, because the secrets are root's (0600) and nautobot-server must be run
 * as the installation's owner, never as root by accident (runas.h). The
 * secrets reach nautobot-server in its environment, as the database password
 * of its EnvironmentFile= does: that account owns the database they go into.
 */
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "chase.h"
#include "child.h"
#include "ctl.h"
#include "envfile.h"
#include "privilege.h"
#include "runas.h"

#define BUS_TIMEOUT_USEC   (10 * USEC_PER_SEC)
#define SETUP_TIMEOUT_USEC (300 * USEC_PER_SEC)
#define SETUP_OUTPUT_MAX   (64 * 1024)
#define SETUP_RESULT_MAX   (1024 * 1024)
#define SECRET_MAX         4096
#define CONF_MAX           (64 * 1024)
#define INI_MAX            (256 * 1024)
#define DIFF_LINES_MAX     400
#define NAUTOBOT_UNIT      "nautobot.service"
#define DEFAULT_USERNAME   "nautobot-verifyd"
#define SYSTEMD_DEST       "org.freedesktop.systemd1"
#define SYSTEMD_PATH       "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER    "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE    "org.freedesktop.systemd1.Service"

#ifndef NVD_SETUP_SCRIPT
#define NVD_SETUP_SCRIPT "/usr/share/nautobot-verifyd/nautobot-verifyd-setup.py"
#endif

/* What we know of the host's Nautobot, from its unit and the command line. */
typedef struct Nautobot {
        char *server;
        char *url;
        char *user;     /* User= of the unit; NULL: the owner of server */
        char *root;     /* NAUTOBOT_ROOT set by Environment= (a file's is read from the file) */
        char *config;   /* NAUTOBOT_CONFIG, the same */
        char *env_file; /* the first EnvironmentFile= */
        char *cwd;      /* WorkingDirectory= */
        char **env;     /* Environment= and the files', what nautobot-server gets */
        char **notes;   /* what setup could not carry over, said to the admin */
        bool from_unit;
} Nautobot;

static void nautobot_done(Nautobot *n)
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

/* ExecStart=, User=, WorkingDirectory=, Environment=, EnvironmentFile= of nautobot.service. */
static int discover_unit(sd_bus *bus, Nautobot *n, char **ret_reason)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *load_state = NULL, *user = NULL, *cwd = NULL, *exec_path = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **exec_argv = NULL, **unit_env = NULL, **files = NULL;
        const char *path, *s;
        int r, ignore;

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

        /* ExecStart: a(sasbttttuii); the first command is the server's. */
        reply = sd_bus_message_unref(reply);
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

        if ((r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "User",
                                            &error, &user)) < 0 ||
            (r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE,
                                            "WorkingDirectory", &error, &cwd)) < 0 ||
            (r = sd_bus_get_property_strv(bus, SYSTEMD_DEST, path, SYSTEMD_SERVICE, "Environment",
                                          &error, &unit_env)) < 0)
                return r;
        reply = sd_bus_message_unref(reply);
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

        if (!exec_path) {
                *ret_reason = strdup(NAUTOBOT_UNIT " has no ExecStart=: give --server (and --url)");
                return *ret_reason ? -ENOENT : -ENOMEM;
        }
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

        /* What nautobot-server gets from the unit: the files first, Environment= wins (systemd's
         * order). The configuration can name one file and NAUTOBOT_ROOT/NAUTOBOT_CONFIG. */
        STRV_FOREACH (f, files) {
                const char *file = (*f)[0] == '-' ? *f + 1 : *f;
                _cleanup_free_ char *text = NULL;
                unsigned line = 0;
                size_t len;

                /* Read as the unit's account (read_as_unit_user()), then parsed as systemd does. */
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
        /* Named in the configuration even when a file sets them: root= also says where the
         * static files are, and its default (/opt/nautobot) may not be this Nautobot's. */
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

static int discover(const CtlOptions *o, Nautobot *n, char **ret_reason)
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

/* ---- the secrets ----------------------------------------------------------- */

static int random_hex(size_t bytes, char **ret)
{
        _cleanup_erase_free_ char *s = NULL;
        unsigned char b[64];

        if (bytes > sizeof(b))
                return -EINVAL;
        if (getrandom(b, bytes, 0) != (ssize_t)bytes)
                return -errno ?: -EIO;
        s = malloc(bytes * 2 + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < bytes; i++)
                sprintf(s + 2 * i, "%02x", b[i]);
        explicit_bzero(b, sizeof(b));
        *ret = TAKE_PTR(s);
        return 0;
}

/* An existing secret file (root's, read without following another account's links), first line. */
static int read_secret(const char *path, char **ret, char **ret_error)
{
        _cleanup_erase_free_ char *text = NULL;
        int r;

        r = read_file_trusted(path, SECRET_MAX, &text, NULL, ret_error);
        if (r < 0)
                return r;
        text[strcspn(text, "\r\n")] = '\0';
        if (isempty(text))
                return -ENODATA;
        *ret = TAKE_PTR(text);
        return 0;
}

/* ---- nautobot-server running the setup script -------------------------------- */

typedef struct SetupRun {
        sd_event *event;
        bool done;
        bool timed_out;
        int exit_status;
        int signal;
        char *result;
        char *err_tail;
} SetupRun;

static void on_setup_done(Child *c, const ChildOutcome *o, void *userdata)
{
        SetupRun *s = userdata;

        (void)c;
        s->done = true;
        s->timed_out = o->timed_out;
        s->exit_status = o->exit_status;
        s->signal = o->signal;
        s->result = o->result.data ? strndup(o->result.data, o->result.len) : NULL;
        s->err_tail = strdup(strempty(buf_tail_lines(&o->err, 15)));
        (void)sd_event_exit(s->event, 0);
}

static int run_setup_script(const Nautobot *n, const RunAs *ra, const char *username,
                            const char *password, const char *token, json_object **ret,
                            char **ret_reason)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(child_freep) Child *child = NULL;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *bindir = NULL, *path = NULL;
        SetupRun s = {};
        char *argv[] = {
                n->server,
                (char *)"shell",
                (char *)"--no-startup",
                (char *)"--no-imports",
                (char *)"--verbosity=0",
                (char *)"--command",
                (char *)"import os, runpy; runpy.run_path(os.environ[\"NVD_SETUP\"], run_name=\"nvd_setup\")",
                NULL};
        json_object *doc, *err;
        sigset_t mask;
        int r;

        if (!(bindir = strdup(n->server)) ||
            !(path = strjoin_printf("%s:/usr/local/bin:/usr/bin:/bin", dirname(bindir))))
                return -ENOMEM;
        /* Scrubbed as the daemon's children are (verify.c); then what the unit gives Nautobot. */
        if ((r = env_set(&env, "PATH", path)) < 0 || (r = env_set(&env, "LANG", "C.UTF-8")) < 0 ||
            (r = env_set(&env, "PYTHONUNBUFFERED", "1")) < 0 ||
            (r = env_set(&env, "PYTHONDONTWRITEBYTECODE", "1")) < 0 ||
            (r = env_set(&env, "HOME", n->root ?: n->cwd ?: "/")) < 0)
                return r;
        STRV_FOREACH (v, n->env)
                if ((r = strv_extend(&env, *v)) < 0)
                        return r;
        if ((r = env_set(&env, "NVD_SETUP", NVD_SETUP_SCRIPT)) < 0 ||
            (r = env_set(&env, "NVD_SETUP_USERNAME", username)) < 0 ||
            (r = env_set(&env, "NVD_SETUP_PASSWORD", password)) < 0 ||
            (r = env_set(&env, "NVD_SETUP_TOKEN", token)) < 0)
                goto finish;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                r = -errno;
                goto finish;
        }
        if ((r = sd_event_new(&e)) < 0)
                goto finish;
        s.event = e;
        r = child_start(e,
                        &(ChildOptions){
                                .argv = argv,
                                .envp = env,
                                .cwd = n->cwd ?: n->root,
                                .timeout_usec = SETUP_TIMEOUT_USEC,
                                .output_max = SETUP_OUTPUT_MAX,
                                .result_max = SETUP_RESULT_MAX,
                                .description = "nautobot-verifyd-setup",
                                .user = ra ? &ra->user : NULL,
                        },
                        on_setup_done, &s, &child);
        if (r < 0) {
                *ret_reason = strjoin_printf("cannot run %s: %s", n->server, strerror(-r));
                r = *ret_reason ? -EIO : -ENOMEM;
                goto finish;
        }
        r = sd_event_loop(e);
        if (r < 0)
                goto finish;

        doc = s.result ? json_tokener_parse(s.result) : NULL;
        if (!doc || !json_object_is_type(doc, json_type_object)) {
                json_object_put(doc);
                _cleanup_free_ char *how =
                        s.timed_out ? strdup("timed out")
                        : s.signal  ? strjoin_printf("killed by signal %d", s.signal)
                                    : strjoin_printf("exit status %d", s.exit_status);

                *ret_reason = strjoin_printf(
                        "%s shell ran the setup script without an answer (%s)%s%s", n->server,
                        strempty(how), isempty(s.err_tail) ? "" : "; its last words:\n",
                        strempty(s.err_tail));
                r = *ret_reason ? -EIO : -ENOMEM;
                goto finish;
        }
        if (json_object_object_get_ex(doc, "error", &err)) {
                *ret_reason = strjoin_printf("Nautobot refused the account: %s",
                                             json_object_get_string(err));
                json_object_put(doc);
                r = *ret_reason ? -EIO : -ENOMEM;
                goto finish;
        }
        *ret = doc;
        r = 0;
finish:
        /* The secrets were in the child's environment; our copies go now. */
        STRV_FOREACH (v, env)
                explicit_bzero(*v, strlen(*v));
        free(s.result);
        free(s.err_tail);
        return r;
}

/* ---- files ------------------------------------------------------------------ */

/* Writes 'data' as dir/name (root's, 'mode'), atomically: a temporary file, fsync, renameat. */
static int write_file_at(int dfd, const char *name, const char *data, mode_t mode)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *tmp = NULL, *rnd = NULL;
        size_t len = strlen(data), done = 0;
        int r;

        if ((r = random_hex(6, &rnd)) < 0)
                return r;
        if (!(tmp = strjoin_printf(".%s.%s", name, rnd)))
                return -ENOMEM;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        while (done < len) {
                ssize_t k = write(fd, data + done, len - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        goto fail;
                }
                done += (size_t)k;
        }
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0 || fsync(dfd) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void)unlinkat(dfd, tmp, 0);
        return r;
}

static int split_lines(const char *text, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *p = text;
        int r;

        while (*p) {
                size_t n = strcspn(p, "\n");

                if (strv_length(l) >= DIFF_LINES_MAX)
                        return -E2BIG;
                if ((r = strv_push(&l, strndup(p, n))) < 0)
                        return r;
                p += n + (p[n] == '\n');
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* What --force changes in a text file, line by line (longest common subsequence), as diff -u marks.
 */
static int print_diff(const char *path, const char *old, const char *new)
{
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        _cleanup_free_ unsigned *lcs = NULL;
        size_t na, nb, i = 0, j = 0;
        int r;

        if ((r = split_lines(old, &a)) < 0 || (r = split_lines(new, &b)) < 0)
                return r;
        na = strv_length(a), nb = strv_length(b);
        lcs = calloc((na + 1) * (nb + 1), sizeof(unsigned));
        if (!lcs)
                return -ENOMEM;
#define L(x, y) lcs[(x) * (nb + 1) + (y)]
        for (size_t x = na; x-- > 0;)
                for (size_t y = nb; y-- > 0;)
                        L(x, y) = streq(a[x], b[y]) ? L(x + 1, y + 1) + 1
                                                    : MAX(L(x + 1, y), L(x, y + 1));
        printf("--- %s\n+++ %s (nautobot-verifyctl setup)\n", path, path);
        while (i < na || j < nb) {
                _cleanup_free_ char *line = NULL;

                if (i < na && j < nb && streq(a[i], b[j])) {
                        line = ctl_escape(a[i]);
                        printf(" %s\n", line);
                        i++, j++;
                } else if (i < na && (j == nb || L(i + 1, j) >= L(i, j + 1))) {
                        /* Removed before added, as diff -u has it. */
                        line = ctl_escape(a[i++]);
                        printf("-%s\n", line);
                } else {
                        line = ctl_escape(b[j++]);
                        printf("+%s\n", line);
                }
        }
#undef L
        return 0;
}

static int config_text(const Nautobot *n, const char *confdir, const char *username, char **ret)
{
        Buf b;
        bool default_dir = streq(confdir, "/etc/nautobot-verifyd");

        buf_init(&b, CONF_MAX);
        buf_printf(&b,
                   "# Written by \"nautobot-verifyctl setup\"%s. Yours to edit: setup leaves an\n"
                   "# existing file alone (--force replaces it, showing the difference first).\n"
                   "# Every key: nautobot-verifyd.conf(5).\n"
                   "\n[nautobot]\nserver = %s\n",
                   n->from_unit ? " from " NAUTOBOT_UNIT : "", n->server);
        if (n->user)
                buf_printf(&b, "user = %s\n", n->user);
        if (n->root)
                buf_printf(&b, "root = %s\n", n->root);
        if (n->config)
                buf_printf(&b, "config = %s\n", n->config);
        if (n->env_file)
                buf_printf(&b, "environment-file = %s\n", n->env_file);
        buf_printf(&b, "url = %s\n\n[credentials]\nusername = %s\n", n->url, username);
        /* The units hand the secrets over as credentials; run by hand, the daemon reads the files.
         */
        if (!default_dir)
                buf_printf(&b, "password-file = %s/web-password\ntoken-file = %s/api-token\n",
                           confdir, confdir);
        if (b.truncated || !b.data) {
                buf_done(&b);
                return -ENOMEM;
        }
        *ret = b.data;
        return 0;
}

/* ---- the units that waited for the configuration ------------------------------ */

static void start_waiting_units(const char *instance)
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

/* ---- the command ------------------------------------------------------------- */

/* The script's document is ours, but a field missing must not assert inside json-c. */
static size_t arr_len(json_object *a)
{
        return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void print_report(json_object *doc)
{
        json_object *user, *token, *perm, *v = NULL, *types = NULL, *added = NULL, *unknown = NULL;
        _cleanup_free_ char *name = NULL;

        if (json_object_object_get_ex(doc, "user", &user)) {
                json_object_object_get_ex(user, "username", &v);
                name = ctl_escape(json_object_get_string(v));
                json_object_object_get_ex(user, "changed", &v);
                printf("Account %s: %s, not superuser, not staff\n", name,
                       json_object_get_boolean(json_object_object_get(user, "created")) ? "created"
                       : arr_len(v) > 0                                                 ? "updated"
                                        : "as it was");
        }
        if (json_object_object_get_ex(doc, "token", &token))
                printf("API token (read-only): %s\n",
                       json_object_get_boolean(json_object_object_get(token, "created"))
                               ? "created"
                               : "as it was");
        if (json_object_object_get_ex(doc, "permission", &perm)) {
                _cleanup_free_ char *pname =
                        ctl_escape(json_object_get_string(json_object_object_get(perm, "name")));

                json_object_object_get_ex(perm, "object_types", &types);
                json_object_object_get_ex(perm, "added", &added);
                json_object_object_get_ex(perm, "unknown", &unknown);
                printf("Permission \"%s\": view on %zu content type(s):", pname, arr_len(types));
                for (size_t i = 0; i < arr_len(types); i++) {
                        _cleanup_free_ char *t = ctl_escape(
                                json_object_get_string(json_object_array_get_idx(types, i)));

                        printf(" %s", t);
                }
                printf("%s\n", json_object_get_boolean(json_object_object_get(perm, "created"))
                                       ? " (created)"
                                       : "");
                for (size_t i = 0; i < arr_len(added); i++) {
                        _cleanup_free_ char *t = ctl_escape(
                                json_object_get_string(json_object_array_get_idx(added, i)));

                        printf("  added: %s\n", t);
                }
                for (size_t i = 0; i < arr_len(unknown); i++) {
                        _cleanup_free_ char *t = ctl_escape(
                                json_object_get_string(json_object_array_get_idx(unknown, i)));

                        printf("  not granted: %s (a panel's permission that names no model)\n", t);
                }
        }
}

typedef struct Secret {
        const char *name; /* the file in the configuration directory */
        const char *what;
        size_t bytes; /* random bytes of a new one, written as hex */
        char *value;
        bool exists;
} Secret;

int ctl_setup(const CtlOptions *o)
{
        _cleanup_(nautobot_done) Nautobot n = {};
        _cleanup_(run_as_freep) RunAs *ra = NULL;
        _cleanup_free_ char *reason = NULL, *confdir_buf = NULL, *conf = NULL, *old_conf = NULL;
        _cleanup_close_ int dfd = -1;
        json_object *doc = NULL;
        const char *confdir, *conf_name, *username = DEFAULT_USERNAME;
        /* The Token model wants exactly 40 characters; 20 bytes as hex, as Nautobot makes them. */
        Secret secrets[] = {
                {"web-password", "web password", 24, NULL, false},
                {"api-token", "API token", 20, NULL, false},
        };
        bool conf_exists = false;
        int r;

        if (geteuid() != 0) {
                fprintf(stderr,
                        "setup writes root's secrets and runs nautobot-server as Nautobot's "
                        "account: run it as root\n");
                return EX_NOPERM;
        }
        if (!(confdir_buf = strdup(o->config_path)))
                goto oom;
        confdir = dirname(confdir_buf);
        conf_name =
                strrchr(o->config_path, '/') ? strrchr(o->config_path, '/') + 1 : o->config_path;

        r = discover(o, &n, &reason);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                fprintf(stderr, "Cannot set up: %s\n", strempty(reason));
                return EX_CONFIG;
        }
        r = run_as_resolve(n.server, n.user, 0, &ra, &reason);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                fprintf(stderr, "Cannot set up: %s%s\n", strempty(reason),
                        n.from_unit && !n.user ? " (" NAUTOBOT_UNIT " has no User=)" : "");
                return EX_CONFIG;
        }
        printf("Nautobot: %s (%s), %s, run as %s\n", n.server,
               n.from_unit ? "from " NAUTOBOT_UNIT : "--server", n.url, ra ? ra->name : "root");
        STRV_FOREACH (v, n.notes)
                printf("Note: %s\n", *v);

        /* The configuration directory is root's: created so, and refused if another account can
         * write it (it holds the secrets). */
        if (mkdir(confdir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "Cannot create %s: %m\n", confdir);
                return EX_CANTCREAT;
        }
        r = chase_open_strict(confdir, O_RDONLY | O_DIRECTORY, &dfd, &reason);
        if (r < 0) {
                fprintf(stderr, "Cannot use %s: %s\n", confdir, reason ?: strerror(-r));
                return EX_CANTCREAT;
        }
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                _cleanup_free_ char *path = strjoin_printf("%s/%s", confdir, secrets[i].name);

                if (!path)
                        goto oom;
                reason = mfree(reason);
                r = o->force ? -ENOENT : read_secret(path, &secrets[i].value, &reason);
                if (r == -ENOMEM)
                        goto oom;
                if (r == -ENOENT)
                        r = random_hex(secrets[i].bytes, &secrets[i].value);
                else if (r >= 0)
                        secrets[i].exists = true;
                if (r < 0) {
                        fprintf(stderr, "Cannot read %s: %s\n", path,
                                reason          ? reason
                                : r == -ENODATA ? "it is empty"
                                                : read_file_error_to_string(r));
                        r = EX_CONFIG;
                        goto finish;
                }
        }
        if (strlen(secrets[1].value) != 40) {
                fprintf(stderr,
                        "%s/api-token does not hold a Nautobot API token (40 characters): "
                        "remove it, or run setup --force for a new one\n",
                        confdir);
                r = EX_CONFIG;
                goto finish;
        }

        r = run_setup_script(&n, ra, username, secrets[0].value, secrets[1].value, &doc, &reason);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                fprintf(stderr, "Cannot set up the account: %s\n", reason ?: strerror(-r));
                r = EX_SOFTWARE;
                goto finish;
        }
        print_report(doc);

        r = config_text(&n, confdir, username, &conf);
        if (r < 0)
                goto oom;
        {
                _cleanup_free_ char *conf_path = strjoin_printf("%s/%s", confdir, conf_name);

                if (!conf_path)
                        goto oom;
                reason = mfree(reason);
                r = read_file_trusted(conf_path, CONF_MAX, &old_conf, NULL, &reason);
                conf_exists = r >= 0;
                if (r < 0 && r != -ENOENT) {
                        fprintf(stderr, "Cannot read %s: %s\n", conf_path,
                                reason ?: read_file_error_to_string(r));
                        r = EX_CONFIG;
                        goto finish;
                }
                if (conf_exists && streq(old_conf, conf))
                        printf("Kept %s (as setup would write it)\n", conf_path);
                else if (conf_exists && !o->force)
                        printf("Kept %s (yours; it differs from what setup would write: --force "
                               "replaces it, showing the difference)\n",
                               conf_path);
                else {
                        if (conf_exists && (r = print_diff(conf_path, old_conf, conf)) < 0)
                                goto oom;
                        r = write_file_at(dfd, conf_name, conf, 0644);
                        if (r < 0) {
                                fprintf(stderr, "Cannot write %s: %s\n", conf_path, strerror(-r));
                                r = EX_CANTCREAT;
                                goto finish;
                        }
                        printf("%s %s\n", conf_exists ? "Replaced" : "Wrote", conf_path);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                _cleanup_erase_free_ char *line = NULL;

                if (secrets[i].exists) {
                        printf("Kept %s/%s (the account's %s was set to it)\n", confdir,
                               secrets[i].name, secrets[i].what);
                        continue;
                }
                if (!(line = strjoin_printf("%s\n", secrets[i].value)))
                        goto oom;
                r = write_file_at(dfd, secrets[i].name, line, 0600);
                if (r < 0) {
                        fprintf(stderr, "Cannot write %s/%s: %s\n", confdir, secrets[i].name,
                                strerror(-r));
                        r = EX_CANTCREAT;
                        goto finish;
                }
                printf("%s %s/%s (a new %s; mode 0600, root)\n", o->force ? "Replaced" : "Wrote",
                       confdir, secrets[i].name, secrets[i].what);
        }
        start_waiting_units(o->instance);
        printf("Next: nautobot-verifyctl %sverify --wait\n", o->config_given ? "-c CONFIG " : "");
        r = 0;
        goto finish;
oom:
        fprintf(stderr, "Out of memory\n");
        r = EX_OSERR;
finish:
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++)
                erase_and_freep(&secrets[i].value);
        json_object_put(doc);
        return r;
}
