/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon proper: one sd-event loop, its life (signals: SIGTERM/SIGINT stop, killing running
 * checks; SIGHUP reloads, manager-watch.c; the watchdog) and a run: the apps to verify (asked of
 * Django once for every app), one Verify per app, their events told to the report sinks
 * (report.h), the verdict over them all and what comes next. When to verify is decided in
 * manager-watch.c; what was verified is recorded in manager-state.c.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager-internal.h"
#include "metadata.h"
#include "pkgwatch.h"
#include "version.h"

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
        m->http_cache = http_cache_free(m->http_cache); /* after every session on it */
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
        probe_free(m->ahead);
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

/* The run's verdict over its apps; an app that could not be verified makes it incomplete. */
Verdict runs_overall(const Manager *m)
{
        Verdict s = m->n_unverifiable > 0 ? VERDICT_INCOMPLETE : VERDICT_PASS;

        for (size_t i = 0; i < m->n_runs; i++)
                if (m->runs[i].verify)
                        s = verdict_worse(s, verify_verdict(m->runs[i].verify));
        return s;
}

/*
 * The run as the report sinks see it (report.h), its apps in 'buf' (one per m->runs). Call
 * with a buffer of m->n_runs ?: 1.
 */
static ReportRunInfo run_info(Manager *m, ReportRun *buf)
{
        for (size_t i = 0; i < m->n_runs; i++)
                buf[i] = (ReportRun){m->runs[i].config, &m->runs[i].report, m->runs[i].verify};
        return (ReportRunInfo){
                .runs = buf,
                .n_runs = m->n_runs,
                .n_unverifiable = m->n_unverifiable,
                .trigger = m->trigger,
                .ready_sent = &m->ready_sent,
                .aborted = m->stopping,
                .verdict = runs_overall(m),
        };
}

bool is_run_package(const Manager *m, const char *package)
{
        for (size_t i = 0; i < m->n_runs; i++)
                if (python_name_equal(m->runs[i].config->package, package))
                        return true;
        return false;
}

/* Django's database settings, for the checks of runs without a probe of their own. */
void keep_database(Manager *m, const DbSettings *d)
{
        DbSettings *copy = NULL;

        if (d && db_settings_copy(d, &copy) >= 0) {
                db_settings_free(m->db);
                m->db = copy;
        }
}

void journal_result(Manager *m, int r)
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
        ReportRun buf[m->n_runs ?: 1];
        ReportRunInfo info = run_info(m, buf);

        (void)v;
        journal_result(m, report_check_done(m->sinks, &info, &buf[run - m->runs], r));
}

/* The loop cannot go on: stop with a non-zero exit, so Restart=on-failure acts. */
void fail(Manager *m, const char *what, int r)
{
        log_warning("%s: %s\n", what, strerror(-r));
        m->fatal = true;
        m->exit_code = EX_OSERR;
        (void)sd_event_exit(m->event, 0);
}

void watching_status(Manager *m, const char *last)
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

/* Every app's run ended: the verdict over them all, and what comes next. */
static void runs_finished(Manager *m)
{
        _cleanup_free_ char *last = NULL;
        ReportRun buf[m->n_runs ?: 1];
        ReportRunInfo info = run_info(m, buf);
        Verdict overall = info.verdict;

        /* An aborted run verified nothing: its state stays what it was. */
        if (!m->stopping && all_apps(m))
                save_shared_states(m);
        report_run_done(m->sinks, &info);
        m->exit_code = verdict_exit_status(overall);
        m->active = false;

        if (m->mode != MODE_WATCH || m->stopping) {
                (void)sd_event_exit(m->event, 0);
                return;
        }
        /* The runs are freed when the next one starts: we are inside their callbacks. */
        if (m->n_runs == 1 && m->n_unverifiable == 0) {
                _cleanup_free_ char *subject = report_subject(&m->runs[0].report);

                last = strjoin_printf("%s %s", strempty(subject),
                                      verdict_to_string(verify_verdict(m->runs[0].verify)));
        } else
                last = strjoin_printf("%zu apps %s", m->n_runs, verdict_to_string(overall));
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
        ReportRun buf[m->n_runs ?: 1];
        ReportRunInfo info = run_info(m, buf);

        /* The app's rollback, held back until its database check said what it drops: before
         * the summary, which readers wait for. */
        if (rollback_deferred(m, m->trigger))
                journal_result(m, report_journal_rollback(m->trigger, run->config, v));
        journal_result(m, report_app_done(m->sinks, &info, &buf[run - m->runs]));
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
        verify_set_http_cache(run->verify, m->http_cache);
        verify_set_web_wait(run->verify, t ? t->web_wait_usec : 0);
        verify_set_warm(run->verify, m->ahead);
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
                      2 * c->command_timeout_usec + 4 * c->http_timeout_usec + 30 * USEC_PER_SEC +
                              (m->trigger ? m->trigger->web_wait_usec : 0));
}

/* Starts the runs of m->runs[0..n_runs), which are prepared. */
static int runs_start(Manager *m)
{
        size_t n = m->n_runs;
        bool one = n == 1 && m->n_unverifiable == 0;
        ReportRun buf[n ?: 1];
        ReportRunInfo info;
        int r;

        if (n == 0) {
                runs_finished(m);
                return 0;
        }
        /* Several apps: before their checks' progress, which apps, in the order they are
         * reported. One: once its checks run, which. */
        if (!one) {
                info = run_info(m, buf);
                report_run_started(m->sinks, &info);
        }
        for (size_t i = 0; i < n; i++) {
                r = app_run_start(m, &m->runs[i]);
                if (r < 0)
                        return r;
        }
        if (one && m->active) {
                info = run_info(m, buf);
                report_run_started(m->sinks, &info);
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

static int begin_verification(Manager *m, Change *trigger)
{
        int r;

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
        if (r >= 0) {
                verify_set_warm(m->host, m->ahead);
                r = http_cache_new(&m->http_cache, m->event);
        }
        if (r >= 0) {
                /* What every app's HTTP checks ask first, asked while Django boots; what
                 * cannot be asked now, the checks ask themselves. */
                verify_set_http_cache(m->host, m->http_cache);
                verify_set_web_wait(m->host, trigger ? trigger->web_wait_usec : 0);
                r = verify_prefetch(m->host);
                if (r != -ENOMEM)
                        r = 0;
        }
        if (r >= 0)
                r = verify_shared_probe(m->host, &m->probe);
        if (m->host)
                verify_set_warm(m->host, NULL); /* m->probe holds it until probe_start() */
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

int start_verification(Manager *m, Change *trigger)
{
        int r;

        if (m->active) {
                /* One run at a time; the latest change is verified right after. */
                change_free(m->pending);
                m->pending = trigger;
                return 0;
        }
        r = begin_verification(m, trigger);
        /* Taken over by the run's Django boot by now, or of no use to it. */
        if (m->ahead && probe_refused(m->ahead))
                log_notice("Django booted ahead is not used (%s): the verification boots its own\n",
                           probe_refused(m->ahead));
        m->ahead = probe_free(m->ahead);
        return r;
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
                m->exit_code = verdict_exit_status(VERDICT_INCOMPLETE);
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
                m->exit_code = verdict_exit_status(VERDICT_INCOMPLETE);
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
        report_sinks_pick(m->sinks, m->config, m->print);
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
