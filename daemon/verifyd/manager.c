/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon proper: one sd-event loop that starts verifications (now, when
 * a version changed since the state file, or when the watcher reports a
 * settled install), reports them, records what was verified, and handles
 * SIGHUP (reload), SIGTERM/SIGINT (stop, killing running checks) and the
 * watchdog. Only this file decides when to verify.
 */
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "manager.h"
#include "metadata.h"
#include "pkgwatch.h"
#include "state.h"
#include "version.h"

void change_free(Change *c)
{
        if (!c)
                return;
        free(c->package);
        free(c->old_version);
        free(c->new_version);
        free(c->detail);
        free(c);
}

static Change *change_new(const char *package, const char *old, const char *new, const char *detail)
{
        Change *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->package = strdup(package);
        c->old_version = old ? strdup(old) : NULL;
        c->new_version = new ? strdup(new) : NULL;
        c->detail = detail ? strdup(detail) : NULL;
        c->kind = version_change(old, new);
        if (!c->package || (old && !c->old_version) || (new && !c->new_version) ||
            (detail && !c->detail)) {
                change_free(c);
                return NULL;
        }
        return c;
}

static uint64_t realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* The finished (or aborted) run's apps, and the Django boot they shared. */
static void runs_free(Manager *m)
{
        for (size_t i = 0; i < m->n_runs; i++) {
                AppRun *run = &m->runs[i];

                verify_free(run->verify);
                json_object_put(run->baseline);
                if (run->owns_config)
                        config_free(run->config);
        }
        m->runs = mfree(m->runs);
        m->n_runs = m->n_runs_done = 0;
        m->n_unverifiable = 0;
        /* After the runs: their checks unsubscribe from it as they go. */
        m->probe = probe_free(m->probe);
        m->host = verify_free(m->host);
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        runs_free(m);
        sd_event_source_disable_unref(m->start_apps);
        strv_free(m->watched);
        strv_free(m->known_packages);
        strv_free(m->known_labels);
        upgrade_free(m->upgrade);
        config_free(m->follow_config);
        change_free(m->following);
        free(m->unsettled);
        db_settings_free(m->db);
        sd_bus_flush_close_unref(m->bus);
        pkgwatch_free(m->watch);
        sd_event_source_disable_unref(m->settle);
        sd_event_source_disable_unref(m->run_pending);
        sd_event_source_disable_unref(m->run_release);
        change_free(m->trigger);
        change_free(m->pending);
        config_free(m->config);
        config_free(m->next_config);
        secret_set_free(m->secrets);
        free(m->state_refused);
        sd_event_unref(m->event);
        free(m->config_path);
        free(m->instance);
        free(m);
        return NULL;
}

int manager_new(Manager **ret, const char *config_path, Config *config, Mode mode)
{
        Manager *m = calloc(1, sizeof(*m));

        if (!m) {
                config_free(config);
                return -ENOMEM;
        }
        m->config = config;
        m->mode = mode;
        m->print = true;
        m->config_path = strdup(config_path);
        if (!m->config_path) {
                manager_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

/*
 * The last verified state of a package in this instance; a corrupt file is
 * reported, moved aside and forgotten. A file that describes another
 * Nautobot (two configurations sharing one instance name) is reported and
 * left alone: this configuration then records nothing over it.
 */
/* state_load() in this instance's folder; *ret_dir: where the file is (or would be). */
static int read_state(const Config *c, const char *package, PackageState **ret, char **ret_error,
                      const char **ret_dir)
{
        int r;

        *ret_dir = c->instance_state_directory;
        r = state_load(*ret_dir, package, ret, ret_error);
        if (r == -ENOENT && streq(c->instance, "default")) {
                /* Before instances (0.4), the files lay in the state directory itself. */
                *ret_dir = c->state_directory;
                r = state_load(*ret_dir, package, ret, ret_error);
        }
        return r;
}

static PackageState *load_state(Manager *m, const char *package)
{
        const Config *c = m->config;
        _cleanup_free_ char *error = NULL, *problem = NULL;
        const char *dir;
        PackageState *s = NULL;
        int r;

        if (m->state_refused)
                return NULL; /* said once, when the run saves (save_state()) */
        r = read_state(c, package, &s, &error, &dir);
        if (r == -ENOENT)
                return NULL;
        if (r == -EBADMSG) {
                int q = state_quarantine(dir, package);

                problem = strjoin_printf(
                        "%s; %s, and the state is rebuilt by the next verification",
                        strempty(error),
                        q < 0 ? "it could not be moved aside" : "moved aside as .corrupt");
        } else if (r < 0)
                problem = strjoin_printf("cannot read the state file in %s: %s", dir,
                                         state_error_to_string(r));
        else if (s->site_packages && !streq_ptr(s->site_packages, c->site_packages)) {
                m->state_foreign = true;
                problem = strjoin_printf(
                        "the state of instance '%s' in %s describes the Nautobot in %s, not the one in %s: two configurations share one instance name; give each its own [nautobot] instance= (or --instance=). That state is left alone, and this configuration's verdicts are not recorded",
                        c->instance, dir, s->site_packages, strempty(c->site_packages));
                s = package_state_free(s);
                r = -EXDEV;
        }
        if (r < 0) {
                log_warning("%s: %s\n", package, strempty(problem));
                (void)report_journal_state_problem(package, strempty(problem));
                return NULL;
        }
        return s;
}

/* "2026-12-06 07:40:12 UTC", local time, as an admin reads the journal. */
static char *format_timestamp(uint64_t usec)
{
        time_t t = (time_t)(usec / USEC_PER_SEC);
        char buf[64];
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                return strdup("an unknown time");
        return strdup(buf);
}

/*
 * The app's baseline (state.h) as the run starts, without reporting
 * (load_state() reported any problem already): what the run compares with,
 * and what its state keeps unless it passes.
 */
static int take_baseline(Manager *m, AppRun *run)
{
        _cleanup_(package_state_freep) PackageState *s = NULL;
        _cleanup_free_ char *when = NULL, *last = NULL;
        const char *dir;

        json_object_put(run->baseline);
        run->baseline = NULL;
        if (m->state_foreign || m->state_refused ||
            read_state(m->config, run->config->package, &s, NULL, &dir) < 0)
                return 0;
        run->baseline = json_object_get(s->baseline);
        /* What the last run saw, for a run that finds the app gone (check-command.c). */
        when = format_timestamp(s->verified_usec);
        last = strjoin_printf("%s on %s (%s)", s->version ?: "not installed", strempty(when),
                              strempty(s->verdict));
        return last ? verify_set_last_verified(run->verify, last) : -ENOMEM;
}

/* Records a package's state, unless another Nautobot's state is in its place. */
static void save_state(Manager *m, const PackageState *s)
{
        _cleanup_(package_state_freep) PackageState *old = NULL;
        PackageState copy = *s;
        const char *dir;
        int r;

        if (m->state_foreign)
                return;
        if (m->state_refused) {
                _cleanup_free_ char *msg =
                        strjoin_printf("cannot write the state to %s: %s",
                                       m->config->state_directory, m->state_refused);

                log_warning("%s: %s\n", s->package, strempty(msg));
                (void)report_journal_state_problem(s->package, strempty(msg));
                return;
        }
        copy.site_packages = m->config->site_packages;
        /* What the releases that passed here shipped stays: a rollback to one of them needs it. */
        if (!copy.releases && read_state(m->config, s->package, &old, NULL, &dir) >= 0)
                copy.releases = old->releases;
        r = state_save(m->config->instance_state_directory, &copy);
        if (r < 0) {
                _cleanup_free_ char *msg = strjoin_printf("cannot write the state to %s: %s",
                                                          m->config->instance_state_directory,
                                                          state_error_to_string(r));

                log_warning("%s: %s\n", s->package, strempty(msg));
                (void)report_journal_state_problem(s->package, strempty(msg));
        }
}

static bool all_apps(const Manager *m)
{
        return config_all_apps(m->config);
}

/* How bad a verdict is: fail > error (incomplete) > skipped > pass. */
static int badness(CheckState s)
{
        static const int rank[_CHECK_STATE_MAX] = {
                [CHECK_PASS] = 0,
                [CHECK_SKIPPED] = 1,
                [CHECK_ERROR] = 2,
                [CHECK_FAIL] = 3,
        };

        return rank[s];
}

static CheckState worse(CheckState a, CheckState b)
{
        return badness(b) > badness(a) ? b : a;
}

/* The run's verdict over its apps; an app that could not be verified makes it incomplete. */
static CheckState runs_overall(const Manager *m)
{
        CheckState s = m->n_unverifiable > 0 ? CHECK_ERROR : CHECK_PASS;

        for (size_t i = 0; i < m->n_runs; i++)
                if (m->runs[i].verify)
                        s = worse(s, verify_overall(m->runs[i].verify));
        return s;
}

static const char *state_verdict(CheckState s)
{
        return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "fail" : "incomplete";
}

/*
 * Records one watched package's version as 'v' found it at the run's start.
 * A package that changed since (or was mid-install then) was not verified:
 * it keeps its old state, and its change is verified next (watch mode) or
 * found by the next activation.
 */
static void save_verified(Manager *m, const Verify *v, const char *package, const char *verdict,
                          json_object *report, const AppRun *app)
{
        _cleanup_free_ char *now = NULL, *problem = NULL;
        const char *verified;
        PackageState s;
        bool editable;
        int r;

        if (verify_package(v, package, &verified) < 0)
                return;
        r = pkg_probe(m->config->site_packages ?: "/nonexistent", package, &now, &editable,
                      &problem);
        if (r < 0 || problem || !streq_ptr(now, verified))
                return;
        s = (PackageState){
                .package = (char *)package,
                .app_label = app ? app->config->app_label : NULL,
                .version = (char *)verified,
                .verdict = (char *)verdict,
                .verified_usec = realtime_usec(),
                .report = report,
        };
        /* The app's Jobs and panels at its last pass: what the next runs compare with. */
        if (app)
                s.baseline = state_next_baseline(report, verified, app->baseline);
        /* A release that passed: its leaf migrations, the target of a later rollback to it. */
        if (app && streq(verdict, "pass")) {
                const ProbeAppAnswer *a =
                        probe_report_app(verify_probe_report(app->verify), app->config->app_label);
                _cleanup_(package_state_freep) PackageState *old = NULL;
                const char *dir;

                if (a && a->leaves) {
                        (void)read_state(m->config, package, &old, NULL, &dir);
                        s.releases = state_next_releases(old ? old->releases : NULL, verified,
                                                         a->leaves, a->reversal, s.verified_usec);
                }
        }
        save_state(m, &s);
        json_object_put(s.baseline);
        json_object_put(s.releases);
}

static void journal_result(Manager *m, int r);

/*
 * A rollback of the one app this configuration verifies is journaled when its verification
 * ends (on_all_done()), with what its database check counted; others when found.
 */
static bool rollback_deferred(const Manager *m, const Change *c)
{
        return c && c->kind == VERSION_DOWNGRADED && !config_all_apps(m->config) &&
               m->config->package && python_name_equal(c->package, m->config->package);
}

/*
 * Records what an app's run verified: the app's version and, when it is the
 * only app ([package] name=), every watched package's. With every app, the
 * packages they share (Nautobot) are recorded once all have ended
 * (save_shared_states()).
 */
static void save_app_states(Manager *m, const AppRun *run)
{
        json_object *report = verify_report_json(run->verify);
        const char *verdict = verify_verdict(run->verify);

        if (all_apps(m))
                save_verified(m, run->verify, run->config->package, verdict, report, run);
        else
                STRV_FOREACH (p, m->watched)
                        save_verified(m, run->verify, *p, verdict, report,
                                      streq(*p, run->config->package) ? run : NULL);
        json_object_put(report);
}

static bool is_run_package(const Manager *m, const char *package)
{
        for (size_t i = 0; i < m->n_runs; i++)
                if (python_name_equal(m->runs[i].config->package, package))
                        return true;
        return false;
}

/* Whether 'l' names 'package' (PEP 503 names). */
static bool names_package(char **l, const char *package)
{
        STRV_FOREACH (p, l)
                if (python_name_equal(*p, package))
                        return true;
        return false;
}

/* The label of an app named only in the configuration: the usual one, "nautobot-x" → "nautobot_x".
 */
static char *label_of(const char *package)
{
        char *label = python_name_normalize(package);

        for (char *c = label; c && *c; c++)
                if (*c == '-')
                        *c = '_';
        return label;
}

/* Every app: the watched packages that are no app's (Nautobot), with the run's verdict over all. */
static void save_shared_states(Manager *m)
{
        const AppRun *worst = NULL;
        json_object *report;

        for (size_t i = 0; i < m->n_runs; i++)
                if (m->runs[i].verify && (!worst || badness(verify_overall(m->runs[i].verify)) >
                                                            badness(verify_overall(worst->verify))))
                        worst = &m->runs[i];
        if (!worst)
                return;
        /* Its report: the worst app's, which says what failed. */
        report = verify_report_json(worst->verify);
        STRV_FOREACH (p, m->watched)
                if (!is_run_package(m, *p) && !names_package(m->known_packages, *p))
                        save_verified(m, worst->verify, *p, state_verdict(runs_overall(m)), report,
                                      NULL);
        json_object_put(report);
}

/* Django's database settings, for the checks of runs without a probe of their own. */
static void keep_database(Manager *m, const DbSettings *d)
{
        DbSettings *copy = NULL;

        if (d && db_settings_copy(d, &copy) >= 0) {
                db_settings_free(m->db);
                m->db = copy;
        }
}

static void journal_result(Manager *m, int r)
{
        if (r < 0 && !m->journal_failed) {
                log_error("Failed to write to the journal: %s\n", strerror(-r));
                m->journal_failed = true;
        }
}

static void on_check_done(Verify *v, const CheckResult *r, void *userdata)
{
        AppRun *run = userdata;
        Manager *m = run->manager;

        journal_result(m, report_journal_check(&run->report, r));
        if (m->ready_sent)
                report_notify_progress(&run->report, v);
}

static int start_verification(Manager *m, Change *trigger);
static int handle_change(Manager *m, Change *c);
static int apply_config(Manager *m, Config *c);
static int update_watched(Manager *m);

/* The loop cannot go on: stop with a non-zero exit, so Restart=on-failure acts. */
static void fail(Manager *m, const char *what, int r)
{
        log_warning("%s: %s\n", what, strerror(-r));
        m->fatal = true;
        m->exit_code = EX_OSERR;
        (void)sd_event_exit(m->event, 0);
}

static void watching_status(Manager *m, const char *last)
{
        _cleanup_free_ char *pkgs = strv_join(m->watched, ", ");

        report_notify("STATUS=Watching %s for %s%s%s", strempty(m->config->site_packages),
                      strempty(pkgs), last ? "; last: " : "", strempty(last));
}

static int on_run_pending(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        (void)s;
        if (m->pending && !m->stopping) {
                int r = handle_change(m, TAKE_PTR(m->pending));

                if (r < 0)
                        fail(m, "Failed to start the verification", r);
        }
        return 0;
}

/*
 * Idle watch mode keeps nothing a run needed: the finished runs go with
 * their HTTP clients (curl's multi handle, connection cache, TLS sessions),
 * results and the probe's answer, and malloc hands the freed pages back to
 * the kernel.
 */
static int on_run_release(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        (void)s;
        if (!m->active)
                runs_free(m);
        (void)malloc_trim(0);
        return 0;
}

static void defer_once(Manager *m, sd_event_source **s, sd_event_handler_t handler,
                       const char *description)
{
        if (!*s && sd_event_add_defer(m->event, s, handler, m) >= 0)
                (void)sd_event_source_set_description(*s, description);
        else if (*s)
                (void)sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
}

/* "2 apps: nautobot-contract-models 2026.5.17 pass, nautobot-dns-models 2.3.0 FAIL (migrations)" */
static char *runs_describe(const Manager *m)
{
        Buf b;

        buf_init(&b, 4096);
        buf_printf(&b, "%zu apps: ", m->n_runs);
        for (size_t i = 0; i < m->n_runs; i++) {
                const AppRun *run = &m->runs[i];
                _cleanup_free_ char *subject = report_subject(&run->report);
                CheckState st = verify_overall(run->verify);
                bool first = true;

                buf_printf(&b, "%s%s %s", i > 0 ? ", " : "", strempty(subject),
                           verdict_to_string(st));
                for (size_t j = 0; st != CHECK_PASS && j < verify_n_results(run->verify); j++) {
                        const CheckResult *r = verify_result(run->verify, j);

                        if (r->disabled || r->state == CHECK_PASS)
                                continue;
                        buf_printf(&b, "%s%s", first ? " (" : ", ", r->check);
                        first = false;
                }
                if (!first)
                        buf_printf(&b, ")");
        }
        if (m->n_unverifiable > 0)
                buf_printf(&b, "; %u app(s) could not be verified", m->n_unverifiable);
        return b.data; /* NULL when out of memory */
}

/* Every app's run ended: the verdict over them all, and what comes next. */
static void runs_finished(Manager *m)
{
        _cleanup_free_ char *last = NULL;
        CheckState overall = runs_overall(m);
        ReportRun reported[m->n_runs ?: 1];
        size_t n = 0;

        for (size_t i = 0; i < m->n_runs; i++)
                if (m->runs[i].verify)
                        reported[n++] = (ReportRun){&m->runs[i].report, m->runs[i].verify};
        /* An aborted run verified nothing: its state stays what it was. */
        if (!m->stopping && all_apps(m))
                save_shared_states(m);
        if (!m->stopping && n > 0) /* as the state: node_exporter shows the last finished runs */
                report_prometheus(reported, n);
        if (m->n_runs == 1 && m->n_unverifiable == 0)
                report_notify_verdict(&m->runs[0].report, m->runs[0].verify);
        else {
                _cleanup_free_ char *what = runs_describe(m);

                report_notify("STATUS=%s: %s; details: journalctl -t nautobot-verifyd",
                              overall == CHECK_PASS   ? "Verified, all checks passed"
                              : overall == CHECK_FAIL ? "Verification FAILED"
                                                      : "Verification incomplete",
                              strempty(what));
        }
        m->exit_code = verdict_exit_code(overall);
        m->active = false;

        if (m->mode != MODE_WATCH || m->stopping) {
                (void)sd_event_exit(m->event, 0);
                return;
        }
        /* The runs are freed when the next one starts: we are inside their callbacks. */
        if (m->n_runs == 1 && m->n_unverifiable == 0) {
                _cleanup_free_ char *subject = report_subject(&m->runs[0].report);

                last = strjoin_printf("%s %s", strempty(subject),
                                      verify_verdict(m->runs[0].verify));
        } else
                last = strjoin_printf("%zu apps %s", m->n_runs, state_verdict(overall));
        if (m->next_config) {
                Config *c = TAKE_PTR(m->next_config);

                if (apply_config(m, c) < 0)
                        config_free(c);
        } else if (all_apps(m) && update_watched(m) < 0)
                log_error("Cannot watch the apps found: %s\n", strerror(ENOMEM));
        if (!m->pending) {
                watching_status(m, last);
                /* Not from here either: we are inside the runs' callbacks. */
                defer_once(m, &m->run_release, on_run_release, "run-release");
                return;
        }
        /*
         * Not from here: this runs inside the finished runs' callbacks (curl's
         * completion loop may be on the stack), and starting the next run frees them.
         */
        defer_once(m, &m->run_pending, on_run_pending, "run-pending");
}

static void on_all_done(Verify *v, void *userdata)
{
        AppRun *run = userdata;
        Manager *m = run->manager;

        /* The app's rollback, held back until its database check said what it drops: before
         * the summary, which readers wait for. */
        if (rollback_deferred(m, m->trigger))
                journal_result(m, report_journal_rollback(m->trigger, run->config, v));
        journal_result(m, report_journal_summary(&run->report, v));
        if (m->print)
                report_print(&run->report, v, stdout);
        /* An aborted run verified nothing: its state stays what it was. */
        if (!m->stopping)
                save_app_states(m, run);
        keep_database(m, verify_database_seen(v));
        run->done = true;
        if (++m->n_runs_done == m->n_runs)
                runs_finished(m);
}

static const VerifyCallbacks verify_callbacks = {
        .check_done = on_check_done,
        .all_done = on_all_done,
};

/* Starts one app's checks; false when it could not even be prepared (then said why). */
static int app_run_start(Manager *m, AppRun *run)
{
        const Change *t = m->trigger;
        int r;

        r = verify_new(&run->verify, m->event, m->bus, run->config);
        if (r >= 0)
                r = verify_set_database(run->verify, m->db);
        if (r >= 0)
                r = take_baseline(m, run);
        if (r >= 0)
                r = verify_set_baseline(run->verify, run->baseline);
        /* What ran before: the app's old release, or Nautobot's for every app. */
        if (r >= 0 && t && t->kind != VERSION_RECHECK && t->old_version &&
            (streq(t->package, run->config->package) ||
             (!is_run_package(m, t->package) && !names_package(m->known_packages, t->package))))
                r = verify_set_previous(run->verify, t->old_version);
        if (r < 0) {
                log_error("Failed to prepare the verification of %s: %s\n",
                          strempty(run->config->package), strerror(-r));
                return r;
        }
        if (m->probe) {
                verify_set_probe(run->verify, m->probe);
                verify_set_started(run->verify, m->probe_start_usec);
        }
        run->report = (ReportContext){
                .config = run->config,
                .version = verify_version(run->verify),
                .version_error = verify_version_error(run->verify),
                .trigger = m->trigger,
        };
        (void)sd_id128_randomize(&run->report.run_id);
        r = verify_start(run->verify, &verify_callbacks, run);
        if (r < 0)
                log_error("Failed to start the checks of %s: %s\n", strempty(run->config->package),
                          strerror(-r));
        return r;
}

/* Tell systemd a long check is no hang (matters while starting or reloading). */
static void extend_timeout(Manager *m)
{
        const Config *c = m->config;

        report_notify("EXTEND_TIMEOUT_USEC=%" PRIu64,
                      2 * c->command_timeout_usec + 4 * c->http_timeout_usec + 30 * USEC_PER_SEC);
}

/* "READY=1\nSTATUS=Verifying <subject> (<change>): running <what>" */
static void notify_verifying(Manager *m, const char *subject, const char *running)
{
        _cleanup_free_ char *what = m->trigger ? change_describe(m->trigger) : NULL;

        report_notify("%sSTATUS=Verifying %s%s%s%s: running %s", m->ready_sent ? "" : "READY=1\n",
                      strempty(subject), what ? " (" : "", strempty(what), what ? ")" : "",
                      strempty(running));
        m->ready_sent = true;
}

/* Starts the runs of m->runs[0..n_runs), which are prepared. */
static int runs_start(Manager *m)
{
        size_t n = m->n_runs;
        bool one = n == 1 && m->n_unverifiable == 0;
        int r;

        if (n == 0) {
                runs_finished(m);
                return 0;
        }
        if (!one) {
                /* Before their checks' progress: which apps, in the order they are reported. */
                _cleanup_strv_free_ char **l = NULL;
                _cleanup_free_ char *subject = strjoin_printf("%zu apps", n), *running = NULL;

                for (size_t i = 0; i < n; i++)
                        if (strv_extend(&l, m->runs[i].config->package) < 0)
                                return -ENOMEM;
                running = strv_join(l, ", ");
                notify_verifying(m, subject, running);
        }
        for (size_t i = 0; i < n; i++) {
                r = app_run_start(m, &m->runs[i]);
                if (r < 0)
                        return r;
        }
        if (one && m->active) {
                _cleanup_free_ char *subject = report_subject(&m->runs[0].report),
                                    *running = verify_running_names(m->runs[0].verify);

                notify_verifying(m, subject, running);
        }
        return 0;
}

static int add_app(Manager *m, char ***packages, char ***labels, const char *package,
                   const char *label)
{
        _cleanup_free_ char *guess = NULL;
        int r;

        if (names_package(*packages, package))
                return 0;
        if (!label) {
                guess = label_of(package);
                if (!guess)
                        return -ENOMEM;
                label = guess;
        }
        if ((r = strv_extend(packages, package)) < 0 || (r = strv_extend(labels, label)) < 0)
                return r;
        return 0;
}

/*
 * The apps to verify: those the server loads (the probe's answer) and those
 * [app NAME] names, less those it turns off. Without an answer, the apps
 * known from earlier runs and the configuration. Says what it leaves out.
 */
static int apps_to_verify(Manager *m, const ProbeReport *rep, char ***ret_packages,
                          char ***ret_labels)
{
        _cleanup_strv_free_ char **packages = NULL, **labels = NULL;
        const Config *c = m->config;
        int r;

        /* Loaded, but named so that it cannot be looked up safely (parse-probe.c): said. */
        STRV_FOREACH (why, rep && !rep->apps_error ? rep->apps_refused : NULL) {
                log_error("Not verified: %s\n", *why);
                (void)report_journal_state_problem("nautobot", *why);
                m->n_unverifiable++;
        }
        for (size_t i = 0; rep && !rep->apps_error && i < rep->n_apps; i++) {
                const ProbeApp *a = &rep->apps[i];
                const AppSection *sec;

                if (!a->package) {
                        log_warning(
                                "App %s (%s) is installed by no Python distribution this tool can read: not verified\n",
                                strempty(a->label), strempty(a->name));
                        continue;
                }
                sec = config_app_section(c, a->package);
                if (sec && !sec->verify)
                        continue;
                r = add_app(m, &packages, &labels, a->package, a->label);
                if (r < 0)
                        return r;
        }
        /*
         * Without an answer, the apps known from earlier runs. With one, those
         * too: an app verified here before that the server no longer loads (out
         * of PLUGINS, uninstalled) is verified all the same, and found missing.
         */
        for (size_t i = 0; m->known_packages && m->known_packages[i]; i++) {
                const AppSection *sec = config_app_section(c, m->known_packages[i]);

                if (sec && !sec->verify)
                        continue;
                r = add_app(m, &packages, &labels, m->known_packages[i], m->known_labels[i]);
                if (r < 0)
                        return r;
        }
        /* Named in the configuration but not loaded: verified all the same, and found missing. */
        for (size_t i = 0; i < c->n_app_sections; i++) {
                const AppSection *sec = &c->app_sections[i];

                if (sec->verify &&
                    (r = add_app(m, &packages, &labels, sec->package, sec->app_label)) < 0)
                        return r;
        }
        *ret_packages = TAKE_PTR(packages);
        *ret_labels = TAKE_PTR(labels);
        return 0;
}

/* The probe answered (or not): one run per app, all sharing its answer. */
static int on_start_apps(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;
        _cleanup_strv_free_ char **packages = NULL, **labels = NULL;
        const ProbeReport *rep = m->probe ? probe_report(m->probe) : NULL;
        size_t n;
        int r;

        (void)s;
        if (!m->active || m->runs)
                return 0;
        r = apps_to_verify(m, rep, &packages, &labels);
        if (r < 0)
                goto fail;
        n = strv_length(packages);
        if (n == 0) {
                _cleanup_free_ char *msg = NULL;

                /* Without an answer nobody knows what the server loads: say why there is none. */
                if (rep && !rep->apps_error)
                        msg = strdup(
                                "no Nautobot app to verify: the server loads none (PLUGINS in nautobot_config.py) and the configuration names none ([app NAME])");
                else
                        msg = strjoin_printf(
                                "no Nautobot app to verify: Django could not be asked which apps the server loads (%s), no app was verified here before, and the configuration names none ([app NAME])",
                                m->probe ? strempty(rep ? rep->apps_error : probe_error(m->probe))
                                : m->host && verify_server_error(m->host)
                                        ? verify_server_error(m->host)
                                        : "the probe could not be started");
                if (!msg) {
                        r = -ENOMEM;
                        goto fail;
                }
                log_error("Not verified: %s\n", msg);
                (void)report_journal_state_problem("nautobot", msg);
                m->n_unverifiable++;
                runs_finished(m);
                return 0;
        }
        m->runs = calloc(n, sizeof(AppRun));
        if (!m->runs) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *error = NULL;
                AppRun *run = &m->runs[m->n_runs];

                r = config_for_app(m->config, packages[i], labels[i], &c, &error);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        _cleanup_free_ char *msg =
                                strjoin_printf("not verified: its configuration is refused: %s",
                                               error ?: strerror(-r));

                        log_warning("%s: %s\n", packages[i], strempty(msg));
                        (void)report_journal_state_problem(packages[i], strempty(msg));
                        m->n_unverifiable++;
                        continue;
                }
                /* The others' migrations are theirs: each app's run says what it lacks. */
                for (size_t j = 0; j < n; j++)
                        if (j != i && (r = strv_extend(&c->other_app_labels, labels[j])) < 0)
                                goto fail;
                *run = (AppRun){.manager = m, .config = TAKE_PTR(c), .owns_config = true};
                m->n_runs++;
        }
        r = runs_start(m);
        if (r < 0)
                goto fail;
        return 0;
fail:
        fail(m, "Failed to start the verification", r);
        return 0;
}

static void on_discovered(const ProbeOutcome *po, void *userdata)
{
        Manager *m = userdata;

        (void)po; /* kept by the probe: probe_report() */
        /* Not from here: inside the probe's child callback. */
        defer_once(m, &m->start_apps, on_start_apps, "start-apps");
}

static int start_verification(Manager *m, Change *trigger)
{
        int r;

        if (m->active) {
                /* One run at a time; the latest change is verified right after. */
                change_free(m->pending);
                m->pending = trigger;
                return 0;
        }
        runs_free(m);
        change_free(m->trigger);
        m->trigger = trigger;
        m->active = true;
        extend_timeout(m);

        if (!all_apps(m)) {
                m->runs = calloc(1, sizeof(AppRun));
                if (!m->runs)
                        return -ENOMEM;
                m->runs[0] = (AppRun){.manager = m, .config = m->config};
                m->n_runs = 1;
                return runs_start(m);
        }
        /*
         * Every app: one Django boot says which apps the server loads and
         * answers every app's checks. The environment and account it runs with
         * are prepared as for any run (the host Verify).
         */
        r = verify_new(&m->host, m->event, m->bus, m->config);
        if (r >= 0)
                r = verify_shared_probe(m->host, &m->probe);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !m->probe) {
                /* No probe (the environment file is broken, say): the apps known, each saying so.
                 */
                defer_once(m, &m->start_apps, on_start_apps, "start-apps");
                return 0;
        }
        r = probe_subscribe(m->probe, on_discovered, m);
        if (r < 0)
                return r;
        m->probe_start_usec = now_usec();
        probe_start(m->probe);
        report_notify("%sSTATUS=Verifying every app: starting Django to ask which apps it loads",
                      m->ready_sent ? "" : "READY=1\n");
        m->ready_sent = true;
        return 0;
}

static void on_upgrade_done(Upgrade *u, bool deadline_passed, void *userdata)
{
        Manager *m = userdata;
        Change *c = TAKE_PTR(m->following);
        int r;

        (void)deadline_passed; /* the checks say which steps are unfinished */
        keep_database(m, upgrade_database(u));
        m->upgrade = upgrade_free(u);
        m->follow_config = config_free(m->follow_config);
        r = start_verification(m, c);
        if (r < 0)
                fail(m, "Failed to start the verification", r);
}

/*
 * The configuration the upgrade's steps are judged with: the app's; with
 * every app, the changed app's, or (Nautobot changed) the first app known.
 * NULL (0): no app known yet, nothing to follow with.
 */
static int follow_config(Manager *m, const Change *c, const Config **ret)
{
        _cleanup_free_ char *error = NULL;
        size_t pick = 0;
        int r;

        *ret = NULL;
        if (!all_apps(m)) {
                *ret = m->config;
                return 0;
        }
        if (!m->known_packages)
                return 0;
        for (size_t i = 0; m->known_packages[i]; i++)
                if (streq(m->known_packages[i], c->package))
                        pick = i;
        m->follow_config = config_free(m->follow_config);
        r = config_for_app(m->config, m->known_packages[pick], m->known_labels[pick],
                           &m->follow_config, &error);
        if (r < 0) {
                if (r != -ENOMEM)
                        log_warning("Cannot follow the upgrade with %s's configuration: %s\n",
                                    m->known_packages[pick], error ?: strerror(-r));
                return r == -ENOMEM ? r : 0;
        }
        *ret = m->follow_config;
        return 0;
}

/* Waits for the upgrade guide's remaining steps; the verification follows them. */
static int follow_upgrade(Manager *m, Change *c)
{
        const Config *config;
        int r;

        m->upgrade = upgrade_free(m->upgrade);
        change_free(m->following);
        m->following = c;
        if (!m->ready_sent) {
                report_notify("READY=1");
                m->ready_sent = true;
        }
        r = follow_config(m, c, &config);
        if (r >= 0 && !config)
                r = -ENOENT;
        if (r >= 0)
                r = upgrade_new(&m->upgrade, m->event, m->bus, config, c, m->db, on_upgrade_done,
                                m);
        if (r < 0) {
                if (r != -ENOENT)
                        log_warning("Cannot follow the upgrade's steps (%s): verifying now\n",
                                    strerror(-r));
                m->upgrade = upgrade_free(m->upgrade);
                m->follow_config = config_free(m->follow_config);
                return start_verification(m, TAKE_PTR(m->following));
        }
        return 0;
}

/*
 * A change to verify. A new release is verified once the upgrade is finished
 * (migrate, collectstatic, restarts: upgrade.h). So is a verdict that was not
 * a pass: the fix is often a restart, and a restarted worker answers only
 * seconds later. --once verifies at once.
 */
static int handle_change(Manager *m, Change *c)
{
        if (m->active || m->mode == MODE_ONCE)
                return start_verification(m, c);
        return follow_upgrade(m, c);
}

/*
 * Compares what is installed with the state files. Reports every change and
 * returns the first one that calls for a verification (NULL: none).
 */
static int reconcile(Manager *m, Change **ret)
{
        Change *first = NULL, *recheck = NULL;

        STRV_FOREACH (p, m->watched) {
                _cleanup_(package_state_freep) PackageState *s = load_state(m, *p);
                _cleanup_free_ char *version = NULL, *problem = NULL;
                Change *c;
                bool editable;
                int r;

                r = pkg_probe(m->config->site_packages ?: "/nonexistent", *p, &version, &editable,
                              &problem);
                if (r < 0 || problem) {
                        _cleanup_free_ char *msg = strjoin_printf(
                                "cannot tell the installed version: %s", problem ?: strerror(-r));

                        (void)report_journal_state_problem(*p, strempty(msg));
                        if (!m->unsettled)
                                m->unsettled = strjoin_printf("%s: %s", *p, strempty(msg));
                        continue;
                }
                if (s && streq_ptr(s->version, version) && version && m->mode != MODE_ONCE &&
                    !streq_ptr(s->verdict, "pass")) {
                        /* Verified, but not to a pass: the fault may be mended by now. */
                        _cleanup_free_ char *why = strjoin_printf("last verdict: %s", s->verdict);

                        c = why ? change_new(*p, version, version, why) : NULL;
                        if (!c) {
                                change_free(first);
                                return -ENOMEM;
                        }
                        c->kind = VERSION_RECHECK;
                        journal_result(m, report_journal_change(c, m->config));
                        if (!recheck)
                                recheck = c;
                        else
                                change_free(c);
                        continue;
                }
                if (s && streq_ptr(s->version, version)) {
                        if (m->mode == MODE_IF_CHANGED && !m->force) {
                                (void)report_journal_unchanged(*p, version, s->verdict);
                                if (m->print)
                                        printf("%s %s: unchanged since its last verification (%s)\n",
                                               *p, version ?: "(not installed)", s->verdict);
                        }
                        continue;
                }
                if (!s && !version)
                        continue; /* never installed, never recorded */
                c = change_new(
                        *p, s ? s->version : NULL, version,
                        editable
                                ? "editable install: edits to its source are not seen until it is reinstalled"
                                : NULL);
                if (!c) {
                        change_free(first);
                        change_free(recheck);
                        return -ENOMEM;
                }
                if (first || !rollback_deferred(m, c)) /* else: it is verified, then said */
                        journal_result(m, report_journal_change(c, m->config));
                if (c->kind == VERSION_REMOVED) {
                        PackageState gone = {.package = *p,
                                             .verdict = (char *)"removed",
                                             .verified_usec = realtime_usec()};

                        save_state(m, &gone);
                        change_free(c);
                        continue;
                }
                if (!first)
                        first = c;
                else
                        change_free(c);
        }
        /* A new release is followed through its upgrade; a recheck only when nothing changed. */
        if (first)
                change_free(recheck);
        *ret = first ?: recheck;
        return 0;
}

static void on_settled(PkgWatch *w, const PkgEvent *ev, void *userdata)
{
        int r;
        Manager *m = userdata;
        _cleanup_(package_state_freep) PackageState *s = NULL;
        Change *c;

        (void)w;
        if (ev->problem) {
                _cleanup_free_ char *msg =
                        strjoin_printf("the install did not settle within %" PRIu64 " s: %s",
                                       m->config->settle_max_usec / USEC_PER_SEC, ev->problem);

                log_warning("%s: %s\n", ev->package, strempty(msg));
                (void)report_journal_state_problem(ev->package, strempty(msg));
                return;
        }
        s = load_state(m, ev->package);
        if (!s && !ev->version)
                return;
        /* An event with the same version is a reinstall: verified too, and said so. */
        c = change_new(
                ev->package, s ? s->version : NULL, ev->version,
                ev->editable
                        ? "editable install: edits to its source are not seen until it is reinstalled"
                        : NULL);
        if (!c) {
                log_error("Out of memory\n");
                return;
        }
        if (!rollback_deferred(m, c)) /* else: said when verified */
                journal_result(m, report_journal_change(c, m->config));
        if (c->kind == VERSION_REMOVED) {
                PackageState gone = {.package = (char *)ev->package,
                                     .verdict = (char *)"removed",
                                     .verified_usec = realtime_usec()};
                _cleanup_free_ char *what = change_describe(c);

                save_state(m, &gone);
                report_notify("STATUS=%s %s; waiting for it to be installed again", ev->package,
                              strempty(what));
                change_free(c);
                return;
        }
        r = handle_change(m, c);
        if (r < 0)
                fail(m, "Failed to start the verification", r);
}

static int create_watch(Manager *m, const Config *c, char *const *packages, PkgWatch **ret)
{
        if (!c->site_packages)
                return -ENOENT;
        return pkgwatch_new(ret, m->event,
                            &(PkgWatchOptions){.site_packages = c->site_packages,
                                               .packages = packages,
                                               .quiet_usec = c->quiet_usec,
                                               .settle_max_usec = c->settle_max_usec},
                            on_settled, m);
}

/*
 * The packages whose versions are compared with the state and watched: the
 * configuration's [watch] packages= and, with every app, each app known
 * (from earlier runs' state, and [app NAME] sections not turned off).
 */
static int watched_packages(const Config *c, char ***ret, char ***ret_known, char ***ret_labels)
{
        _cleanup_strv_free_ char **watched = NULL, **known = NULL, **labels = NULL, **sp = NULL,
                                 **sl = NULL;
        int r;

        STRV_FOREACH (p, c->watch_packages)
                if ((r = strv_extend(&watched, *p)) < 0)
                        return r;
        if (config_all_apps(c)) {
                r = state_list_apps(c->instance_state_directory, &sp, &sl);
                if (r == -ENOMEM)
                        return r;
                for (size_t i = 0; sp && sp[i]; i++) {
                        const AppSection *sec = config_app_section(c, sp[i]);

                        if (sec && !sec->verify)
                                continue;
                        if ((r = strv_extend(&known, sp[i])) < 0 ||
                            (r = strv_extend(&labels,
                                             sec && sec->app_label ? sec->app_label : sl[i])) < 0)
                                return r;
                }
                for (size_t i = 0; i < c->n_app_sections; i++) {
                        const AppSection *sec = &c->app_sections[i];
                        _cleanup_free_ char *guess = NULL;

                        if (!sec->verify || config_app_section(c, sec->package) != sec ||
                            names_package(known, sec->package))
                                continue;
                        if (!sec->app_label && !(guess = label_of(sec->package)))
                                return -ENOMEM;
                        if ((r = strv_extend(&known, sec->package)) < 0 ||
                            (r = strv_extend(&labels, sec->app_label ?: guess)) < 0)
                                return r;
                }
                STRV_FOREACH (p, known)
                        if (!strv_contains(watched, *p) && (r = strv_extend(&watched, *p)) < 0)
                                return r;
        }
        *ret = TAKE_PTR(watched);
        *ret_known = TAKE_PTR(known);
        *ret_labels = TAKE_PTR(labels);
        return 0;
}

static bool strv_equal(char *const *a, char *const *b)
{
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

/* Every app: the apps found since are watched too (a new watch when the set changed). */
static int update_watched(Manager *m)
{
        _cleanup_strv_free_ char **watched = NULL, **known = NULL, **labels = NULL;
        PkgWatch *w = NULL;
        int r;

        r = watched_packages(m->config, &watched, &known, &labels);
        if (r < 0)
                return r;
        strv_free(m->known_packages);
        strv_free(m->known_labels);
        m->known_packages = TAKE_PTR(known);
        m->known_labels = TAKE_PTR(labels);
        if (strv_equal(watched, m->watched))
                return 0;
        if (m->watch) {
                r = create_watch(m, m->config, watched, &w);
                if (r < 0) {
                        log_error("Cannot watch the apps found in '%s': %s\n",
                                  strempty(m->config->site_packages), strerror(-r));
                        return 0; /* the old watch stays */
                }
                pkgwatch_free(m->watch);
                m->watch = w;
        }
        strv_free(m->watched);
        m->watched = TAKE_PTR(watched);
        return 0;
}

/* Puts a new configuration in force (between runs); on failure the old one stays. */
static int apply_config(Manager *m, Config *c)
{
        _cleanup_strv_free_ char **watched = NULL, **known = NULL, **labels = NULL;
        PkgWatch *w = NULL;
        int r;

        r = watched_packages(c, &watched, &known, &labels);
        if (r >= 0)
                r = create_watch(m, c, watched, &w);
        if (r < 0) {
                _cleanup_free_ char *msg = strjoin_printf("cannot watch '%s': %s",
                                                          strempty(c->site_packages), strerror(-r));

                log_warning("Reload refused: %s\n", strempty(msg));
                (void)report_journal_reload_failed(m->config_path, strempty(msg));
                return r;
        }
        pkgwatch_free(m->watch);
        m->watch = w;
        config_free(m->config);
        m->config = c;
        strv_free(m->watched);
        strv_free(m->known_packages);
        strv_free(m->known_labels);
        m->watched = TAKE_PTR(watched);
        m->known_packages = TAKE_PTR(known);
        m->known_labels = TAKE_PTR(labels);
        return 0;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        int r;

        (void)s, (void)si;
        report_notify("RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec());
        r = config_new(&c);
        if (r >= 0)
                r = config_load(c, m->config_path, &error);
        if (r >= 0 && m->instance)
                r = config_set_instance(c, m->instance, &error);
        if (r >= 0)
                r = config_finalize(c, &error);
        /* Started as root and dropped: the secrets read then stay (root's files are out of
         * reach now), and so does the account. */
        if (r >= 0 && m->config->dropped_note) {
                c->secrets = m->secrets;
                r = free_and_strdup(&c->dropped_note, m->config->dropped_note);
        }
        if (r < 0) {
                log_warning("Reload refused, keeping the previous configuration: %s\n",
                            error ?: strerror(-r));
                (void)report_journal_reload_failed(m->config_path, error ?: strerror(-r));
                config_free(c);
                report_notify(
                        "READY=1\nSTATUS=Reload refused (%s); still watching with the previous configuration",
                        error ?: strerror(-r));
                return 0;
        }
        /* The running verification, or the upgrade being followed, uses the configuration. */
        if (m->active || m->upgrade) {
                config_free(m->next_config);
                m->next_config = c;
                report_notify(
                        "READY=1\nSTATUS=Configuration reloaded; it applies when the running verification ends");
                return 0;
        }
        if (apply_config(m, c) < 0) {
                config_free(c);
                report_notify(
                        "READY=1\nSTATUS=Reload refused; still watching with the previous configuration");
                return 0;
        }
        report_notify("READY=1");
        watching_status(m, "configuration reloaded");
        return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        _cleanup_free_ char *reason = NULL;
        const char *name = sigabbrev_np((int)si->ssi_signo) ?: "?";

        (void)s;
        m->stopping = true;
        if (m->upgrade) {
                /* Nothing was verified: the next activation finds the change again. */
                log_notice("Received SIG%s while waiting for the upgrade's steps.\n", name);
                m->exit_code = verdict_exit_code(CHECK_ERROR);
        }
        if (m->active && m->runs) {
                log_notice("Received SIG%s, stopping the running checks.\n", name);
                reason = strjoin_printf("interrupted by SIG%s before it finished", name);
                /* Kills and reaps every child; the last check to complete reports and exits. */
                for (size_t i = 0; i < m->n_runs; i++)
                        if (m->runs[i].verify && !m->runs[i].done)
                                verify_abort(m->runs[i].verify, reason ?: "interrupted");
                return 0;
        }
        if (m->active) {
                /* Still asking Django which apps it loads: nothing verified, nothing recorded. */
                log_notice("Received SIG%s while starting the verification.\n", name);
                m->probe = probe_free(m->probe);
                m->exit_code = verdict_exit_code(CHECK_ERROR);
        }
        (void)sd_event_exit(m->event, 0);
        return 0;
}

static int setup_event(Manager *m)
{
        sigset_t mask;
        int r;

        /* sd-event needs these blocked: SIGCHLD for child sources, the rest for signal sources. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_stop, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, on_stop, m)) < 0)
                return r;
        if (m->mode == MODE_WATCH) {
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
                if (r < 0)
                        return r;
                /* WATCHDOG=1 at half of WatchdogSec=, when systemd asks for it. */
                r = sd_event_set_watchdog(m->event, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Verifies now, or (activated mode) stops when nothing changed. */
static void begin(Manager *m)
{
        Change *change = NULL;
        int r;

        if (m->mode == MODE_IF_CHANGED && !m->force) {
                /* nautobot-verifyctl verify asked for one run, whether or not anything changed. */
                r = state_take_force_request(m->config->instance_state_directory);
                if (r > 0) {
                        m->force = true;
                        log_notice(
                                "Verifying even if nothing changed: nautobot-verifyctl verify asked for it (%s/%s)\n",
                                m->config->instance_state_directory, STATE_FORCE_FILE);
                } else if (r < 0)
                        log_warning(
                                "Cannot take the request %s/%s: %s; verifying only if something changed\n",
                                m->config->instance_state_directory, STATE_FORCE_FILE,
                                strerror(-r));
        }
        r = reconcile(m, &change);
        if (r < 0) {
                fail(m, "Failed to compare with the state", r);
                return;
        }
        if (m->unsettled && m->mode == MODE_IF_CHANGED && !m->force) {
                /* Not "nothing changed", and no verdict on a half-installed mix either. */
                change_free(change);
                log_error("Not verified: %s\n", m->unsettled);
                report_notify("READY=1\nSTATUS=Not verified: %s", m->unsettled);
                m->exit_code = verdict_exit_code(CHECK_ERROR);
                (void)sd_event_exit(m->event, 0);
                return;
        }
        if (change)
                r = handle_change(m, change);
        else if (m->mode == MODE_ONCE || m->force)
                r = start_verification(m, NULL);
        else if (m->mode == MODE_WATCH)
                return; /* up to date: wait for the next change */
        else {
                report_notify("READY=1\nSTATUS=Nothing changed since the last verification");
                m->exit_code = 0;
                (void)sd_event_exit(m->event, 0);
                return;
        }
        if (r < 0)
                fail(m, "Failed to start the verification", r);
}

/*
 * Activated mode may be started by a .path unit at pip's first change: wait
 * until site-packages has had no entry created, removed or renamed (its
 * mtime) for the quiet period and no watched package is mid-install. Sets
 * *ret_wait to how long to wait before looking again.
 */
static bool install_settled(Manager *m, uint64_t *ret_wait)
{
        const Config *c = m->config;
        struct stat st;
        uint64_t mtime, now = realtime_usec();

        *ret_wait = c->quiet_usec;
        if (!c->site_packages || stat(c->site_packages, &st) < 0)
                return true; /* reconcile() says what is wrong */
        mtime = (uint64_t)st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t)st.st_mtim.tv_nsec / 1000;
        if (mtime + c->quiet_usec > now) {
                *ret_wait = mtime + c->quiet_usec - now;
                return false;
        }
        STRV_FOREACH (p, m->watched) {
                _cleanup_free_ char *version = NULL, *problem = NULL;
                bool editable;

                if (pkg_probe(c->site_packages, *p, &version, &editable, &problem) >= 0 && problem)
                        return false;
        }
        return true;
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        uint64_t wait;

        (void)usec;
        if (!install_settled(m, &wait) &&
            now_usec() - m->settle_start_usec < m->config->settle_max_usec) {
                if (!m->settle_waiting)
                        report_notify("STATUS=Waiting for the install in %s to settle",
                                      m->config->site_packages);
                m->settle_waiting = true;
                (void)sd_event_source_set_time_relative(s, wait);
                (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        begin(m);
        return 0;
}

/*
 * The system bus, where systemd answers for the units (the restarts check,
 * and its signals while an upgrade is in progress). Without systemd here
 * those do not apply; that is said in the check, not an error.
 */
static void open_bus(Manager *m)
{
        int r;

        if (sd_booted() <= 0)
                return;
        r = sd_bus_open_system(&m->bus);
        if (r >= 0)
                r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                log_warning(
                        "Cannot connect to the system bus (%s): unit restarts are not checked\n",
                        strerror(-r));
                m->bus = sd_bus_flush_close_unref(m->bus);
        }
}

int manager_run(Manager *m)
{
        int r;

        r = setup_event(m);
        if (r < 0) {
                log_error("Failed to set up the event loop: %s\n", strerror(-r));
                return EX_OSERR;
        }
        open_bus(m);
        r = watched_packages(m->config, &m->watched, &m->known_packages, &m->known_labels);
        if (r < 0) {
                log_error("Failed to list the packages to watch: %s\n", strerror(-r));
                return EX_OSERR;
        }

        if (m->mode == MODE_WATCH) {
                r = create_watch(m, m->config, m->watched, &m->watch);
                if (r < 0) {
                        log_error("Cannot watch '%s': %s\n", strempty(m->config->site_packages),
                                  strerror(-r));
                        return EX_CONFIG;
                }
                report_notify("READY=1");
                m->ready_sent = true;
                watching_status(m, NULL);
        }

        if (m->mode == MODE_IF_CHANGED) {
                m->settle_start_usec = now_usec();
                r = sd_event_add_time_relative(m->event, &m->settle, CLOCK_MONOTONIC, 0, 0,
                                               on_settle, m);
                if (r < 0) {
                        log_error("Failed to add a timer: %s\n", strerror(-r));
                        return EX_OSERR;
                }
                (void)sd_event_source_set_description(m->settle, "settle");
        } else
                begin(m);

        r = sd_event_loop(m->event);
        report_notify("STOPPING=1");
        if (r < 0) {
                log_error("Event loop failed: %s\n", strerror(-r));
                return EX_OSERR;
        }
        if (m->fatal)
                return EX_OSERR;
        return m->mode == MODE_WATCH ? 0 : m->exit_code;
}
