/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A verification run. See verify.h. Everything a check needs is prepared
 * here once, and what cannot be prepared (an unreadable secret, a broken
 * environment file) turns into that check's error, not a failed run.
 */
#include <json-c/json.h>
#include <libgen.h>
#include <sys/stat.h>

#include "check.h"
#include "envfile.h"
#include "metadata.h"
#include "pkgwatch.h"
#include "runas.h"
#include "verify.h"

/* What a watched package was when the run started: what the run verifies. */
typedef struct PackageSnapshot {
        char *package;
        char *version;         /* NULL: not installed */
        bool unsettled;        /* two dist-infos, no RECORD: not a version that can be recorded */
        uint64_t written_usec; /* CLOCK_REALTIME, its dist-info's RECORD; 0: unknown */
} PackageSnapshot;

struct Verify {
        sd_event *event;
        sd_bus *bus;
        const Config *config;
        HttpClient *http;
        CheckEnv env;
        char *child_env_error;
        RunAs *run_as; /* who runs nautobot-server, when we are root */
        char *password;
        char *password_error;
        char *token;
        char *token_error;
        char *version;
        char *version_error;
        char *nautobot_version;
        PackageSnapshot *packages;
        size_t n_packages;
        char *install_what;
        char *previous_what;
        char *last_verified;
        bool only[_CHECK_ID_MAX]; /* all false: every enabled check */
        bool limited;
        Probe *probe;
        Probe *shared_probe;            /* given: the run's one boot, shared with the other apps */
        DbSettings *db_known;           /* given: what an earlier probe said */
        DbSettings *db_seen;            /* what this run's probe said */
        char *baseline_version;         /* of the last passing verification */
        char **baseline[_CHECK_ID_MAX]; /* ... and what each check observed then */
        Check checks[_CHECK_ID_MAX];
        size_t n_running;
        uint64_t start_usec;
        uint64_t end_usec;
        uint64_t started_usec; /* verify_set_started(), or 0 */
        const VerifyCallbacks *cb;
        void *userdata;
};

Verify *verify_free(Verify *v)
{
        if (!v)
                return NULL;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                Check *c = &v->checks[i];

                if (c->state && c->state_free)
                        c->state_free(c->state);
                check_result_free(c->result);
        }
        if (v->shared_probe) /* it lives on: nothing may be told to this run any more */
                probe_unsubscribe(v->shared_probe, v);
        probe_free(v->probe);
        db_settings_free(v->db_known);
        db_settings_free(v->db_seen);
        free(v->baseline_version);
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                strv_free(v->baseline[i]);
        http_client_free(v->http);
        strv_free(v->env.child_env);
        free(v->child_env_error);
        run_as_free(v->run_as);
        erase_and_freep(&v->password);
        free(v->password_error);
        erase_and_freep(&v->token);
        free(v->token_error);
        free(v->version);
        free(v->version_error);
        free(v->nautobot_version);
        for (size_t i = 0; i < v->n_packages; i++) {
                free(v->packages[i].package);
                free(v->packages[i].version);
        }
        free(v->packages);
        free(v->install_what);
        free(v->previous_what);
        free(v->last_verified);
        sd_bus_unref(v->bus);
        sd_event_unref(v->event);
        free(v);
        return NULL;
}

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

static int build_child_env(Verify *v)
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

static int load_secret(const Config *c, SecretId id, const char *what, char **ret, char **ret_error)
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

static int read_version(Verify *v)
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

static int snapshot_packages(Verify *v)
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

int verify_set_database(Verify *v, const DbSettings *d)
{
        v->db_known = db_settings_free(v->db_known);
        if (d && db_settings_copy(d, &v->db_known) < 0)
                return -ENOMEM;
        v->env.db = v->db_known;
        return 0;
}

const DbSettings *verify_database_seen(const Verify *v)
{
        return v->db_seen;
}

/* Keeps Django's database settings for the runs that have no probe of their own. */
static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Verify *v = userdata;

        (void)db_settings_from_probe(po->report, &v->db_seen);
}

int verify_set_baseline(Verify *v, json_object *baseline)
{
        json_object *version, *observed;

        if (!baseline || !json_object_object_get_ex(baseline, "version", &version) ||
            !json_object_object_get_ex(baseline, "observed", &observed) ||
            !json_object_is_type(observed, json_type_object))
                return 0;
        if (free_and_strdup(&v->baseline_version, json_object_get_string(version)) < 0)
                return -ENOMEM;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                json_object *items;

                if (!json_object_object_get_ex(observed, check_id_to_string(i), &items) ||
                    !json_object_is_type(items, json_type_array))
                        continue;
                for (size_t j = 0; j < json_object_array_length(items) && j < RESULT_OBSERVED_MAX;
                     j++) {
                        json_object *x = json_object_array_get_idx(items, j);

                        if (json_object_is_type(x, json_type_string) &&
                            strv_extend(&v->baseline[i], json_object_get_string(x)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* "Class (Job name)" → "Class" and "Job name"; a plain title is both. */
static void split_item(const char *item, size_t *ret_key_len, const char **ret_label)
{
        const char *p = strstr(item, " (");
        size_t n = strlen(item);

        if (p && n > 0 && item[n - 1] == ')') {
                *ret_key_len = (size_t)(p - item);
                *ret_label = p + 2;
        } else {
                *ret_key_len = n;
                *ret_label = item;
        }
}

static bool same_key(const char *a, const char *b)
{
        size_t la, lb;
        const char *x, *y;

        split_item(a, &la, &x);
        split_item(b, &lb, &y);
        return la == lb && strncmp(a, b, la) == 0;
}

static bool same_label(const char *a, const char *b)
{
        size_t la, lb;
        const char *x, *y;

        split_item(a, &la, &x);
        split_item(b, &lb, &y);
        return streq(x, y);
}

static bool has_key(char **l, const char *item)
{
        STRV_FOREACH (x, l)
                if (same_key(*x, item))
                        return true;
        return false;
}

/*
 * What the server shows now against the last passing verification: items
 * added, gone, and renamed (same Job name, other class; or the other way
 * round), as findings. Whether they should be there is the check's verdict.
 */
static int note_changes(Verify *v, CheckResult *res, CheckId id)
{
        _cleanup_strv_free_ char **added = NULL, **gone = NULL, **renamed = NULL;
        _cleanup_free_ char *a = NULL, *g = NULL, *rn = NULL;
        const char *what = id == CHECK_ID_JOBS ? "Jobs" : "panels";

        if (!v->baseline_version || !res->observed || res->state != CHECK_PASS)
                return 0;
        STRV_FOREACH (x, res->observed)
                if (!has_key(v->baseline[id], *x) && strv_extend(&added, *x) < 0)
                        return -ENOMEM;
        STRV_FOREACH (x, v->baseline[id])
                if (!has_key(res->observed, *x) && strv_extend(&gone, *x) < 0)
                        return -ENOMEM;
        /* A gone and an added item with the same label (or key) are one renamed item. */
        for (size_t i = 0; gone && gone[i];) {
                size_t j = 0;

                while (added && added[j] && !same_label(gone[i], added[j]) &&
                       !same_key(gone[i], added[j]))
                        j++;
                if (!added || !added[j]) {
                        i++;
                        continue;
                }
                _cleanup_free_ char *pair = strjoin_printf("%s → %s", gone[i], added[j]);

                if (!pair || strv_extend(&renamed, pair) < 0)
                        return -ENOMEM;
                strv_remove_at(gone, i);
                strv_remove_at(added, j);
        }
        a = strv_join(added, ", ");
        g = strv_join(gone, ", ");
        rn = strv_join(renamed, ", ");
        if ((added && !a) || (gone && !g) || (renamed && !rn))
                return -ENOMEM;
        if (strv_length(added) > 0)
                (void)check_result_add_finding(
                        res, "%s added since the last passing verification (%s): %s", what,
                        v->baseline_version, a);
        /*
         * A release may drop or rename a Job (its notes say so): after a version
         * change that is a finding. Under the same release it is code that changed
         * in place (edited, or a broken install), which no upgrade explains.
         */
        if ((gone || renamed) && streq_ptr(v->version, v->baseline_version))
                return check_result_set(
                        res, CHECK_FAIL,
                        "%s the last passing verification of this same release (%s) saw are %s%s%s%s%s: the installed code changed without a new release (edited in place, or a broken install); reinstall it (pip install --force-reinstall %s==%s) and restart Nautobot's services",
                        what, v->baseline_version, gone ? "gone: " : "", strempty(g),
                        gone && renamed ? "; " : "", renamed ? "renamed: " : "", strempty(rn),
                        strempty(v->config->package), v->baseline_version);
        if (strv_length(gone) > 0)
                (void)check_result_add_finding(
                        res,
                        "%s no longer shown since the last passing verification (%s): %s (the installed code no longer declares them)",
                        what, v->baseline_version, g);
        if (renamed)
                (void)check_result_add_finding(
                        res, "%s renamed since the last passing verification (%s): %s", what,
                        v->baseline_version, rn);
        return 0;
}

void verify_set_probe(Verify *v, Probe *shared)
{
        v->shared_probe = shared;
}

int verify_set_last_verified(Verify *v, const char *what)
{
        return free_and_strdup(&v->last_verified, what);
}

int verify_set_previous(Verify *v, const char *what)
{
        return free_and_strdup(&v->previous_what, what);
}

void verify_set_only(Verify *v, const bool only[_CHECK_ID_MAX])
{
        memcpy(v->only, only, sizeof(v->only));
        v->limited = true;
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

int verify_new(Verify **ret, sd_event *e, sd_bus *bus, const Config *config)
{
        _cleanup_(verify_freep) Verify *v = NULL;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        v->bus = sd_bus_ref(bus);
        v->config = config;
        r = http_client_new(&v->http, e);
        if (r < 0)
                return r;
        if ((r = build_child_env(v)) < 0 || (r = read_version(v)) < 0 ||
            (r = snapshot_packages(v)) < 0)
                return r;
        r = load_secret(config, SECRET_WEB_PASSWORD, "web password", &v->password,
                        &v->password_error);
        if (r < 0)
                return r;
        r = load_secret(config, SECRET_API_TOKEN, "API token", &v->token, &v->token_error);
        if (r < 0)
                return r;

        v->env = (CheckEnv){
                .event = e,
                .http = v->http,
                .config = config,
                .child_env = v->env.child_env,
                .child_env_error = v->child_env_error,
                .child_user = v->run_as ? &v->run_as->user : NULL,
                .password = v->password,
                .password_error = v->password_error,
                .token = v->token,
                .token_error = v->token_error,
                .installed_version = v->version,
                .nautobot_installed_version = v->nautobot_version,
                .bus = bus,
                .install_usec = v->env.install_usec,
                .install_what = v->install_what,
        };
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                r = check_result_new(&v->checks[i].result, check_id_to_string(i));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static void on_check_done(Check *c, void *userdata)
{
        Verify *v = userdata;
        const char *note;

        v->n_running--;
        if (note_changes(v, c->result, c->id) < 0)
                (void)check_result_set(c->result, CHECK_ERROR, "out of memory");
        /* Who ran nautobot-server: the account root handed it to, or the one root became. */
        note = v->run_as ? v->run_as->note : v->config->dropped_note;
        if (note && check_type(c->id)->runs_server && !c->result->disabled &&
            check_result_add_finding(c->result, "%s", note) < 0)
                (void)check_result_set(c->result, CHECK_ERROR, "out of memory");
        if (v->cb->check_done)
                v->cb->check_done(v, c->result, v->userdata);
        if (v->n_running == 0) {
                v->end_usec = now_usec();
                v->cb->all_done(v, v->userdata);
        }
}

static bool runs(const Verify *v, CheckId id)
{
        return v->config->enabled[id] && (!v->limited || v->only[id]);
}

/*
 * The probe for 'labels' ("label,..." or "*": every app), with this run's
 * environment and account, answering what its running checks read (each
 * answer costs time: Redis, the database); 'discover': also which apps the
 * server loads.
 */
static int new_probe(Verify *v, const char *labels, bool discover, Probe **ret)
{
        const Config *c = v->config;
        Buf sections;
        int r;

        buf_init(&sections, 256);
        if (runs(v, CHECK_ID_SYSTEM))
                buf_printf(&sections, "check,apps,cache,broker,");
        else if (discover)
                buf_printf(&sections, "apps,");
        if (runs(v, CHECK_ID_MIGRATIONS))
                buf_printf(&sections, "makemigrations,migration_plan,");
        if (runs(v, CHECK_ID_JOBS))
                buf_printf(&sections, "jobs,");
        if (runs(v, CHECK_ID_PANELS))
                buf_printf(&sections, "panels,");
        if (runs(v, CHECK_ID_RUNNING))
                buf_printf(&sections, "workers,");
        buf_printf(&sections, "database");
        r = probe_new(ret, v->event,
                      &(ProbeOptions){
                              .server = c->server,
                              .path = c->probe,
                              .app_labels = labels,
                              .sections = strempty(sections.data),
                              .web_user = c->username,
                              .user = v->env.child_user,
                              .envp = v->env.child_env,
                              .cwd = c->root,
                              .timeout_usec = c->command_timeout_usec,
                              .output_max = c->output_max,
                      });
        buf_done(&sections);
        return r;
}

/* One Django boot for the checks that need Django, when one of them runs ([checks] django=). */
static int start_probe(Verify *v)
{
        const Config *c = v->config;
        bool env_names_db = false;

        STRV_FOREACH (e, v->env.child_env)
                env_names_db |= !!startswith(*e, "NAUTOBOT_DB_");
        if (v->shared_probe) {
                v->env.probe = v->shared_probe;
                return 0;
        }
        if (!c->use_probe || v->child_env_error ||
            !(runs(v, CHECK_ID_SYSTEM) || runs(v, CHECK_ID_MIGRATIONS) || runs(v, CHECK_ID_JOBS) ||
              runs(v, CHECK_ID_PANELS) ||
              /* Where is the database? Only Django knows when nothing else says. */
              (runs(v, CHECK_ID_DATABASE) && !v->env.db && !env_names_db)))
                return 0;
        v->env.probe = NULL;
        v->probe = probe_free(v->probe);
        return new_probe(v, c->app_label, false, &v->probe);
}

int verify_shared_probe(Verify *v, Probe **ret)
{
        *ret = NULL;
        if (!v->config->use_probe || v->child_env_error)
                return 0;
        return new_probe(v, "*", true, ret);
}

const ProbeReport *verify_probe_report(const Verify *v)
{
        return v->env.probe ? probe_report(v->env.probe) : NULL;
}

void verify_set_started(Verify *v, uint64_t usec)
{
        v->started_usec = usec;
}

const char *verify_server_error(const Verify *v)
{
        return v->child_env_error;
}

int verify_start(Verify *v, const VerifyCallbacks *cb, void *userdata)
{
        int r;

        v->cb = cb;
        v->userdata = userdata;
        v->start_usec = v->started_usec ?: now_usec();
        v->env.previous_what = v->previous_what;
        v->env.last_verified = v->last_verified;
        r = start_probe(v);
        if (r < 0)
                return r;
        if (!v->shared_probe)
                v->env.probe = v->probe;
        /* Count them all first: a check may complete inside its start function. */
        v->n_running = _CHECK_ID_MAX;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                Check *c = &v->checks[i];

                c->id = i;
                c->env = &v->env;
                c->done = on_check_done;
                c->userdata = v;
                c->start_usec = now_usec();
                if (!runs(v, i)) {
                        check_result_set(c->result, CHECK_SKIPPED, "%s",
                                         v->config->enabled[i] ? "not part of this run"
                                                               : "disabled by [checks] enable=");
                        c->result->disabled = true;
                        check_complete(c);
                        continue;
                }
                r = check_type(i)->start(c);
                if (r < 0 && !c->completed) {
                        check_result_set(c->result, CHECK_ERROR, "cannot start: %s", strerror(-r));
                        check_complete(c);
                }
        }
        /* After every check that needs Django has subscribed to it; it runs for them only. */
        if (v->env.probe && probe_subscribe(v->env.probe, on_probe, v) >= 0)
                probe_start(v->env.probe);
        return 0;
}

void verify_abort(Verify *v, const char *reason)
{
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                check_abort(&v->checks[i], reason);
}

const char *verify_version(const Verify *v)
{
        return v->version;
}

const char *verify_version_error(const Verify *v)
{
        return v->version_error;
}

size_t verify_n_results(const Verify *v)
{
        (void)v;
        return _CHECK_ID_MAX;
}

const CheckResult *verify_result(const Verify *v, size_t i)
{
        return i < _CHECK_ID_MAX ? v->checks[i].result : NULL;
}

size_t verify_n_running(const Verify *v)
{
        return v->n_running;
}

char *verify_running_names(const Verify *v)
{
        _cleanup_strv_free_ char **l = NULL;

        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (!v->checks[i].completed && strv_extend(&l, check_id_to_string(i)) < 0)
                        return NULL;
        return strv_join(l, ", ");
}

uint64_t verify_duration_usec(const Verify *v)
{
        return (v->end_usec ?: now_usec()) - v->start_usec;
}

CheckState verify_overall(const Verify *v)
{
        static const int rank[_CHECK_STATE_MAX] = {
                [CHECK_PASS] = 0,
                [CHECK_SKIPPED] = 1,
                [CHECK_ERROR] = 2,
                [CHECK_FAIL] = 3,
        };
        CheckState worst = CHECK_PASS;

        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (!v->checks[i].result->disabled &&
                    rank[v->checks[i].result->state] > rank[worst])
                        worst = v->checks[i].result->state;
        return worst;
}

const char *verify_verdict(const Verify *v)
{
        CheckState s = verify_overall(v);

        return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "fail" : "incomplete";
}

json_object *verify_report_json(const Verify *v)
{
        json_object *root = json_object_new_object(), *checks = json_object_new_array();

        if (!root || !checks) {
                json_object_put(root);
                json_object_put(checks);
                return NULL;
        }
        json_object_object_add(root, "package", json_object_new_string(v->config->package));
        json_object_object_add(root, "version",
                               v->version ? json_object_new_string(v->version) : NULL);
        if (v->version_error)
                json_object_object_add(root, "version_error",
                                       json_object_new_string(v->version_error));
        json_object_object_add(root, "url", json_object_new_string(v->config->url));
        json_object_object_add(root, "verdict", json_object_new_string(verify_verdict(v)));
        json_object_object_add(root, "duration_usec",
                               json_object_new_int64((int64_t)verify_duration_usec(v)));
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                const CheckResult *r = v->checks[i].result;
                json_object *c = json_object_new_object(), *f = json_object_new_array();

                if (!c || !f) {
                        json_object_put(c);
                        json_object_put(f);
                        json_object_put(root);
                        json_object_put(checks);
                        return NULL;
                }
                json_object_object_add(c, "check", json_object_new_string(r->check));
                json_object_object_add(c, "result",
                                       json_object_new_string(check_state_to_string(r->state)));
                json_object_object_add(c, "reason", json_object_new_string(strempty(r->reason)));
                json_object_object_add(c, "duration_usec",
                                       json_object_new_int64((int64_t)r->duration_usec));
                json_object_object_add(c, "evidence",
                                       r->evidence ? json_object_new_string(r->evidence) : NULL);
                STRV_FOREACH (x, r->findings)
                        json_object_array_add(f, json_object_new_string(*x));
                json_object_object_add(c, "findings", f);
                if (r->observed) {
                        json_object *o = json_object_new_array();

                        STRV_FOREACH (x, r->observed)
                                json_object_array_add(o, json_object_new_string(*x));
                        json_object_object_add(c, "observed", o);
                }
                json_object_array_add(checks, c);
        }
        json_object_object_add(root, "checks", checks);
        return root;
}
