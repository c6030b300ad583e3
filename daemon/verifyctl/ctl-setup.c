/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl setup: from an installed package to a configured one.
 * This file owns the command and what it writes; ctl-setup-unit.c finds the
 * host's Nautobot (nautobot.service over sd-bus, or --server and --url). Setup
 * has nautobot-server create or update the verifier's own account
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
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "child.h"
#include "config-dir.h"
#include "ctl-setup.h"
#include "envfile.h"
#include "runas.h"

#define SETUP_TIMEOUT_USEC (300 * USEC_PER_SEC)
#define SETUP_OUTPUT_MAX   (64 * 1024)
#define SETUP_RESULT_MAX   (1024 * 1024)
#define SECRET_MAX         4096
#define CONF_MAX           (64 * 1024)
#define DIFF_LINES_MAX     400
#define DEFAULT_USERNAME   "nautobot-verifyd"

#ifndef NVD_SETUP_SCRIPT
#define NVD_SETUP_SCRIPT "/usr/share/nautobot-verifyd/nautobot-verifyd-setup.py"
#endif

static int log_oom(void)
{
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
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
        bool default_dir = streq(confdir, CONFIG_DIR);

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

typedef struct SetupSecret {
        const char *name; /* the file in the configuration directory */
        const char *what;
        size_t bytes; /* random bytes of a new one, written as hex */
        char *value;
        bool exists;
} SetupSecret;

/* Nautobot, and the account nautobot-server runs as: 0, or the exit status. */
static int setup_find_nautobot(const CtlOptions *o, Nautobot *n, RunAs **ra)
{
        _cleanup_free_ char *reason = NULL;
        int r;

        r = nautobot_discover(o, n, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                fprintf(stderr, "Cannot set up: %s\n", strempty(reason));
                return EX_CONFIG;
        }
        r = run_as_resolve(n->server, n->user, 0, ra, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                fprintf(stderr, "Cannot set up: %s%s\n", strempty(reason),
                        n->from_unit && !n->user ? " (" NAUTOBOT_UNIT " has no User=)" : "");
                return EX_CONFIG;
        }
        printf("Nautobot: %s (%s), %s, run as %s\n", n->server,
               n->from_unit ? "from " NAUTOBOT_UNIT : "--server", n->url,
               *ra ? (*ra)->name : "root");
        STRV_FOREACH (v, n->notes)
                printf("Note: %s\n", *v);
        return 0;
}

/* The configuration directory is root's: created so, and refused if another account can write
 * it (it holds the secrets). 0, or the exit status. */
static int setup_open_confdir(const char *confdir, int *ret_fd)
{
        _cleanup_free_ char *reason = NULL;
        int r;

        if (mkdir(confdir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "Cannot create %s: %m\n", confdir);
                return EX_CANTCREAT;
        }
        r = chase_open_strict(confdir, O_RDONLY | O_DIRECTORY, ret_fd, &reason);
        if (r < 0) {
                fprintf(stderr, "Cannot use %s: %s\n", confdir, reason ?: strerror(-r));
                return EX_CANTCREAT;
        }
        return 0;
}

/* The secrets that exist are kept (not with --force); the others made. 0, or the exit status. */
static int setup_read_secrets(const CtlOptions *o, const char *confdir, SetupSecret *secrets,
                              size_t n_secrets)
{
        int r;

        for (size_t i = 0; i < n_secrets; i++) {
                _cleanup_free_ char *path = strjoin_printf("%s/%s", confdir, secrets[i].name);
                _cleanup_free_ char *reason = NULL;

                if (!path)
                        return log_oom();
                r = o->force ? -ENOENT : read_secret(path, &secrets[i].value, &reason);
                if (r == -ENOMEM)
                        return log_oom();
                if (r == -ENOENT)
                        r = random_hex(secrets[i].bytes, &secrets[i].value);
                else if (r >= 0)
                        secrets[i].exists = true;
                if (r < 0) {
                        fprintf(stderr, "Cannot read %s: %s\n", path,
                                reason          ? reason
                                : r == -ENODATA ? "it is empty"
                                                : read_file_error_to_string(r));
                        return EX_CONFIG;
                }
        }
        return 0;
}

/* The configuration: written when absent, kept when it is the admin's (unless --force). */
static int setup_write_config(const CtlOptions *o, const Nautobot *n, int dfd, const char *confdir,
                              const char *conf_name, const char *username)
{
        _cleanup_free_ char *conf = NULL, *old_conf = NULL, *conf_path = NULL, *reason = NULL;
        bool conf_exists;
        int r;

        r = config_text(n, confdir, username, &conf);
        if (r < 0)
                return log_oom();
        conf_path = strjoin_printf("%s/%s", confdir, conf_name);
        if (!conf_path)
                return log_oom();
        r = read_file_trusted(conf_path, CONF_MAX, &old_conf, NULL, &reason);
        conf_exists = r >= 0;
        if (r < 0 && r != -ENOENT) {
                fprintf(stderr, "Cannot read %s: %s\n", conf_path,
                        reason ?: read_file_error_to_string(r));
                return EX_CONFIG;
        }
        if (conf_exists && streq(old_conf, conf))
                printf("Kept %s (as setup would write it)\n", conf_path);
        else if (conf_exists && !o->force)
                printf("Kept %s (yours; it differs from what setup would write: --force "
                       "replaces it, showing the difference)\n",
                       conf_path);
        else {
                if (conf_exists && (r = print_diff(conf_path, old_conf, conf)) < 0)
                        return log_oom();
                r = write_file_at(dfd, conf_name, conf, 0644);
                if (r < 0) {
                        fprintf(stderr, "Cannot write %s: %s\n", conf_path, strerror(-r));
                        return EX_CANTCREAT;
                }
                printf("%s %s\n", conf_exists ? "Replaced" : "Wrote", conf_path);
        }
        return 0;
}

/* The secrets that were made, as root's 0600 files. 0, or the exit status. */
static int setup_write_secrets(const CtlOptions *o, int dfd, const char *confdir,
                               const SetupSecret *secrets, size_t n_secrets)
{
        int r;

        for (size_t i = 0; i < n_secrets; i++) {
                _cleanup_erase_free_ char *line = NULL;

                if (secrets[i].exists) {
                        printf("Kept %s/%s (the account's %s was set to it)\n", confdir,
                               secrets[i].name, secrets[i].what);
                        continue;
                }
                if (!(line = strjoin_printf("%s\n", secrets[i].value)))
                        return log_oom();
                r = write_file_at(dfd, secrets[i].name, line, 0600);
                if (r < 0) {
                        fprintf(stderr, "Cannot write %s/%s: %s\n", confdir, secrets[i].name,
                                strerror(-r));
                        return EX_CANTCREAT;
                }
                printf("%s %s/%s (a new %s; mode 0600, root)\n", o->force ? "Replaced" : "Wrote",
                       confdir, secrets[i].name, secrets[i].what);
        }
        return 0;
}

/* nautobot-server creates or updates the account with these secrets. 0, or the exit status. */
static int setup_account(const Nautobot *n, const RunAs *ra, const char *username,
                         const SetupSecret *secrets, json_object **ret_doc)
{
        _cleanup_free_ char *reason = NULL;
        int r;

        r = run_setup_script(n, ra, username, secrets[0].value, secrets[1].value, ret_doc, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                fprintf(stderr, "Cannot set up the account: %s\n", reason ?: strerror(-r));
                return EX_SOFTWARE;
        }
        print_report(*ret_doc);
        return 0;
}

int ctl_setup(const CtlOptions *o)
{
        _cleanup_(nautobot_done) Nautobot n = {};
        _cleanup_(run_as_freep) RunAs *ra = NULL;
        _cleanup_free_ char *confdir_buf = NULL;
        _cleanup_close_ int dfd = -1;
        json_object *doc = NULL;
        const char *confdir, *conf_name, *username = DEFAULT_USERNAME;
        /* The Token model wants exactly 40 characters; 20 bytes as hex, as Nautobot makes them. */
        SetupSecret secrets[] = {
                {"web-password", "web password", 24, NULL, false},
                {"api-token", "API token", 20, NULL, false},
        };
        int r;

        if (geteuid() != 0) {
                fprintf(stderr,
                        "setup writes root's secrets and runs nautobot-server as Nautobot's "
                        "account: run it as root\n");
                return EX_NOPERM;
        }
        if (!(confdir_buf = strdup(o->config_path)))
                return log_oom();
        confdir = dirname(confdir_buf);
        conf_name =
                strrchr(o->config_path, '/') ? strrchr(o->config_path, '/') + 1 : o->config_path;

        r = setup_find_nautobot(o, &n, &ra);
        if (r == 0)
                r = setup_open_confdir(confdir, &dfd);
        if (r != 0)
                return r;
        r = setup_read_secrets(o, confdir, secrets, ELEMENTSOF(secrets));
        if (r == 0 && strlen(secrets[1].value) != 40) {
                fprintf(stderr,
                        "%s/api-token does not hold a Nautobot API token (40 characters): "
                        "remove it, or run setup --force for a new one\n",
                        confdir);
                r = EX_CONFIG;
        }
        if (r == 0)
                r = setup_account(&n, ra, username, secrets, &doc);
        if (r == 0)
                r = setup_write_config(o, &n, dfd, confdir, conf_name, username);
        if (r == 0)
                r = setup_write_secrets(o, dfd, confdir, secrets, ELEMENTSOF(secrets));
        if (r == 0) {
                setup_start_waiting_units(o->instance);
                printf("Next: nautobot-verifyctl %sverify --wait\n",
                       o->config_given ? "-c CONFIG " : "");
        }
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++)
                erase_and_freep(&secrets[i].value);
        json_object_put(doc);
        return r;
}
