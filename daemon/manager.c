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

#include "manager.h"
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

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        verify_free(m->verify);
        upgrade_free(m->upgrade);
        change_free(m->following);
        free(m->unsettled);
        db_settings_free(m->db);
        json_object_put(m->baseline);
        sd_bus_flush_close_unref(m->bus);
        pkgwatch_free(m->watch);
        sd_event_source_disable_unref(m->settle);
        sd_event_source_disable_unref(m->run_pending);
        sd_event_source_disable_unref(m->run_release);
        change_free(m->trigger);
        change_free(m->pending);
        config_free(m->config);
        config_free(m->next_config);
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
                problem = strjoin_printf("cannot read the state file in %s: %s", dir, strerror(-r));
        else if (s->site_packages && !streq_ptr(s->site_packages, c->site_packages)) {
                m->state_foreign = true;
                problem = strjoin_printf(
                        "the state of instance '%s' in %s describes the Nautobot in %s, not the one in %s: two configurations share one instance name; give each its own [nautobot] instance= (or --instance=). That state is left alone, and this configuration's verdicts are not recorded",
                        c->instance, dir, s->site_packages, strempty(c->site_packages));
                s = package_state_free(s);
                r = -EXDEV;
        }
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", package, strempty(problem));
                (void)report_journal_state_problem(package, strempty(problem));
                return NULL;
        }
        return s;
}

/*
 * The app's baseline (state.h) as the run starts, without reporting
 * (load_state() reported any problem already): what the run compares with,
 * and what its state keeps unless it passes.
 */
static void take_baseline(Manager *m)
{
        _cleanup_(package_state_freep) PackageState *s = NULL;
        const char *dir;

        json_object_put(m->baseline);
        m->baseline = NULL;
        if (!m->state_foreign && read_state(m->config, m->config->package, &s, NULL, &dir) >= 0)
                m->baseline = json_object_get(s->baseline);
}

/* Records a package's state, unless another Nautobot's state is in its place. */
static void save_state(Manager *m, const PackageState *s)
{
        PackageState copy = *s;
        int r;

        if (m->state_foreign)
                return;
        copy.site_packages = m->config->site_packages;
        r = state_save(m->config->instance_state_directory, &copy);
        if (r < 0) {
                _cleanup_free_ char *msg =
                        strjoin_printf("cannot write the state to %s: %s",
                                       m->config->instance_state_directory, strerror(-r));

                fprintf(stderr, "%s: %s\n", s->package, strempty(msg));
                (void)report_journal_state_problem(s->package, strempty(msg));
        }
}

/*
 * Records what the run verified: each watched package's version as the run
 * found it at its start. A package that changed since (or was mid-install
 * then) was not verified: it keeps its old state, and its change is verified
 * next (watch mode) or found by the next activation.
 */
static void save_states(Manager *m)
{
        json_object *report = verify_report_json(m->verify);

        STRV_FOREACH (p, m->config->watch_packages) {
                _cleanup_free_ char *now = NULL, *problem = NULL;
                const char *verified;
                PackageState s;
                bool editable;
                int r;

                if (verify_package(m->verify, *p, &verified) < 0)
                        continue;
                r = pkg_probe(m->config->site_packages ?: "/nonexistent", *p, &now, &editable,
                              &problem);
                if (r < 0 || problem || !streq_ptr(now, verified))
                        continue;
                s = (PackageState){
                        .package = *p,
                        .version = (char *)verified,
                        .verdict = (char *)verify_verdict(m->verify),
                        .verified_usec = realtime_usec(),
                        .report = report,
                };
                /* The app's Jobs and panels at its last pass: what the next runs compare with. */
                if (streq(*p, m->config->package))
                        s.baseline = state_next_baseline(report, verified, m->baseline);
                save_state(m, &s);
                json_object_put(s.baseline);
        }
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
                fprintf(stderr, "Failed to write to the journal: %s\n", strerror(-r));
                m->journal_failed = true;
        }
}

static void on_check_done(Verify *v, const CheckResult *r, void *userdata)
{
        Manager *m = userdata;

        journal_result(m, report_journal_check(&m->report, r));
        if (m->ready_sent)
                report_notify_progress(&m->report, v);
}

static int start_verification(Manager *m, Change *trigger);
static int handle_change(Manager *m, Change *c);
static int apply_config(Manager *m, Config *c);

/* The loop cannot go on: stop with a non-zero exit, so Restart=on-failure acts. */
static void fail(Manager *m, const char *what, int r)
{
        fprintf(stderr, "%s: %s\n", what, strerror(-r));
        m->fatal = true;
        m->exit_code = EX_OSERR;
        (void)sd_event_exit(m->event, 0);
}

static void watching_status(Manager *m, const char *last)
{
        _cleanup_free_ char *pkgs = strv_join(m->config->watch_packages, ", ");

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
 * Idle watch mode keeps nothing a run needed: the finished Verify goes with
 * its HTTP client (curl's multi handle, connection cache, TLS sessions) and
 * results, and malloc hands the freed pages back to the kernel.
 */
static int on_run_release(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        (void)s;
        if (m->verify && verify_n_running(m->verify) == 0) {
                m->verify = verify_free(m->verify);
                /* They pointed into it. */
                m->report.version = m->report.version_error = NULL;
        }
        (void)malloc_trim(0);
        return 0;
}

static void on_all_done(Verify *v, void *userdata)
{
        Manager *m = userdata;
        _cleanup_free_ char *subject = NULL, *last = NULL;

        journal_result(m, report_journal_summary(&m->report, v));
        report_notify_verdict(&m->report, v);
        if (m->print)
                report_print(&m->report, v, stdout);
        /* An aborted run verified nothing: its state stays what it was. */
        if (!m->stopping)
                save_states(m);
        if (!m->stopping) /* as the state: node_exporter shows the last finished verification */
                report_prometheus(&m->report, v);
        keep_database(m, verify_database_seen(v));
        m->exit_code = verdict_exit_code(verify_overall(v));

        if (m->mode != MODE_WATCH || m->stopping) {
                (void)sd_event_exit(m->event, 0);
                return;
        }
        /* The Verify is freed when the next one starts: we are inside its callback. */
        subject = report_subject(&m->report);
        last = strjoin_printf("%s %s", strempty(subject), verify_verdict(v));
        if (m->next_config) {
                Config *c = TAKE_PTR(m->next_config);

                if (apply_config(m, c) < 0)
                        config_free(c);
        }
        if (!m->pending) {
                watching_status(m, last);
                /* Not from here either: we are inside the Verify's callbacks. */
                if (!m->run_release &&
                    sd_event_add_defer(m->event, &m->run_release, on_run_release, m) >= 0)
                        (void)sd_event_source_set_description(m->run_release, "run-release");
                else if (m->run_release)
                        (void)sd_event_source_set_enabled(m->run_release, SD_EVENT_ONESHOT);
                return;
        }
        /*
         * Not from here: this runs inside the finished Verify's callbacks (curl's
         * completion loop may be on the stack), and starting the next run frees it.
         */
        if (!m->run_pending &&
            sd_event_add_defer(m->event, &m->run_pending, on_run_pending, m) >= 0)
                (void)sd_event_source_set_description(m->run_pending, "run-pending");
        else if (m->run_pending)
                (void)sd_event_source_set_enabled(m->run_pending, SD_EVENT_ONESHOT);
}

static const VerifyCallbacks verify_callbacks = {
        .check_done = on_check_done,
        .all_done = on_all_done,
};

static int start_verification(Manager *m, Change *trigger)
{
        _cleanup_free_ char *what = NULL, *subject = NULL, *running = NULL;
        const Config *c = m->config;
        int r;

        if (m->verify && verify_n_running(m->verify) > 0) {
                /* One run at a time; the latest change is verified right after. */
                change_free(m->pending);
                m->pending = trigger;
                return 0;
        }
        m->verify = verify_free(m->verify);
        change_free(m->trigger);
        m->trigger = trigger;

        r = verify_new(&m->verify, m->event, m->bus, c);
        if (r >= 0)
                r = verify_set_database(m->verify, m->db);
        if (r >= 0) {
                take_baseline(m);
                r = verify_set_baseline(m->verify, m->baseline);
        }
        if (r >= 0 && m->trigger && m->trigger->kind != VERSION_RECHECK && m->trigger->old_version)
                r = verify_set_previous(m->verify, m->trigger->old_version);
        if (r < 0) {
                fprintf(stderr, "Failed to prepare the verification: %s\n", strerror(-r));
                return r;
        }
        m->report = (ReportContext){
                .config = c,
                .version = verify_version(m->verify),
                .version_error = verify_version_error(m->verify),
                .trigger = m->trigger,
        };
        (void)sd_id128_randomize(&m->report.run_id);

        /* Tell systemd a long check is no hang (matters while starting or reloading). */
        report_notify("EXTEND_TIMEOUT_USEC=%" PRIu64,
                      c->command_timeout_usec + 4 * c->http_timeout_usec + 30 * USEC_PER_SEC);
        r = verify_start(m->verify, &verify_callbacks, m);
        if (r < 0) {
                fprintf(stderr, "Failed to start the checks: %s\n", strerror(-r));
                return r;
        }
        if (verify_n_running(m->verify) == 0)
                return 0; /* everything was skipped; all_done has run */
        subject = report_subject(&m->report);
        running = verify_running_names(m->verify);
        what = m->trigger ? change_describe(m->trigger) : NULL;
        report_notify("%sSTATUS=Verifying %s%s%s%s: running %s", m->ready_sent ? "" : "READY=1\n",
                      strempty(subject), what ? " (" : "", strempty(what), what ? ")" : "",
                      strempty(running));
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
        r = start_verification(m, c);
        if (r < 0)
                fail(m, "Failed to start the verification", r);
}

/* Waits for the upgrade guide's remaining steps; the verification follows them. */
static int follow_upgrade(Manager *m, Change *c)
{
        int r;

        m->upgrade = upgrade_free(m->upgrade);
        change_free(m->following);
        m->following = c;
        if (!m->ready_sent) {
                report_notify("READY=1");
                m->ready_sent = true;
        }
        r = upgrade_new(&m->upgrade, m->event, m->bus, m->config, c, m->db, on_upgrade_done, m);
        if (r < 0) {
                fprintf(stderr, "Cannot follow the upgrade's steps (%s): verifying now\n",
                        strerror(-r));
                m->upgrade = upgrade_free(m->upgrade);
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
        if ((m->verify && verify_n_running(m->verify) > 0) || m->mode == MODE_ONCE)
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

        STRV_FOREACH (p, m->config->watch_packages) {
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

                fprintf(stderr, "%s: %s\n", ev->package, strempty(msg));
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
                fprintf(stderr, "Out of memory\n");
                return;
        }
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

static int create_watch(Manager *m, const Config *c, PkgWatch **ret)
{
        if (!c->site_packages)
                return -ENOENT;
        return pkgwatch_new(ret, m->event,
                            &(PkgWatchOptions){.site_packages = c->site_packages,
                                               .packages = c->watch_packages,
                                               .quiet_usec = c->quiet_usec,
                                               .settle_max_usec = c->settle_max_usec},
                            on_settled, m);
}

/* Puts a new configuration in force (between runs); on failure the old one stays. */
static int apply_config(Manager *m, Config *c)
{
        PkgWatch *w = NULL;
        int r;

        r = create_watch(m, c, &w);
        if (r < 0) {
                _cleanup_free_ char *msg = strjoin_printf("cannot watch '%s': %s",
                                                          strempty(c->site_packages), strerror(-r));

                fprintf(stderr, "Reload refused: %s\n", strempty(msg));
                (void)report_journal_reload_failed(m->config_path, strempty(msg));
                return r;
        }
        pkgwatch_free(m->watch);
        m->watch = w;
        config_free(m->config);
        m->config = c;
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
        if (r < 0) {
                fprintf(stderr, "Reload refused, keeping the previous configuration: %s\n",
                        error ?: strerror(-r));
                (void)report_journal_reload_failed(m->config_path, error ?: strerror(-r));
                config_free(c);
                report_notify(
                        "READY=1\nSTATUS=Reload refused (%s); still watching with the previous configuration",
                        error ?: strerror(-r));
                return 0;
        }
        /* The running verification, or the upgrade being followed, uses the configuration. */
        if ((m->verify && verify_n_running(m->verify) > 0) || m->upgrade) {
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
                fprintf(stderr, "Received SIG%s while waiting for the upgrade's steps.\n", name);
                m->exit_code = verdict_exit_code(CHECK_ERROR);
        }
        if (m->verify && verify_n_running(m->verify) > 0) {
                fprintf(stderr, "Received SIG%s, stopping the running checks.\n", name);
                reason = strjoin_printf("interrupted by SIG%s before it finished", name);
                /* Kills and reaps every child; the last check to complete reports and exits. */
                verify_abort(m->verify, reason ?: "interrupted");
                return 0;
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
                        fprintf(stderr,
                                "Verifying even if nothing changed: nautobot-verifyctl verify asked for it (%s/%s)\n",
                                m->config->instance_state_directory, STATE_FORCE_FILE);
                } else if (r < 0)
                        fprintf(stderr,
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
                fprintf(stderr, "Not verified: %s\n", m->unsettled);
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
        STRV_FOREACH (p, c->watch_packages) {
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
                fprintf(stderr,
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
                fprintf(stderr, "Failed to set up the event loop: %s\n", strerror(-r));
                return EX_OSERR;
        }
        open_bus(m);

        if (m->mode == MODE_WATCH) {
                r = create_watch(m, m->config, &m->watch);
                if (r < 0) {
                        fprintf(stderr, "Cannot watch '%s': %s\n",
                                strempty(m->config->site_packages), strerror(-r));
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
                        fprintf(stderr, "Failed to add a timer: %s\n", strerror(-r));
                        return EX_OSERR;
                }
                (void)sd_event_source_set_description(m->settle, "settle");
        } else
                begin(m);

        r = sd_event_loop(m->event);
        report_notify("STOPPING=1");
        if (r < 0) {
                fprintf(stderr, "Event loop failed: %s\n", strerror(-r));
                return EX_OSERR;
        }
        if (m->fatal)
                return EX_OSERR;
        return m->mode == MODE_WATCH ? 0 : m->exit_code;
}
