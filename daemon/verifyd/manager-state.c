/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What was verified, on disk: reading a package's state (a corrupt file moved aside, another
 * Nautobot's left alone), the baseline an app's run compares with, and recording what a run
 * verified (save_verified()): each app's version, and with every app the packages they share.
 * The files themselves are state.c's; this file decides what goes into them.
 */
#include <time.h>

#include "log.h"
#include "manager-internal.h"
#include "metadata.h"
#include "version.h"

uint64_t realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
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

PackageState *load_state(Manager *m, const char *package)
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
int take_baseline(Manager *m, AppRun *run)
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
void save_state(Manager *m, const PackageState *s)
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

/*
 * Records what an app's run verified: the app's version and, when it is the
 * only app ([package] name=), every watched package's. With every app, the
 * packages they share (Nautobot) are recorded once all have ended
 * (save_shared_states()).
 */
void save_app_states(Manager *m, const AppRun *run)
{
        json_object *report = verify_report_json(run->verify);
        const char *verdict = verdict_to_string(verify_verdict(run->verify));

        if (all_apps(m))
                save_verified(m, run->verify, run->config->package, verdict, report, run);
        else
                STRV_FOREACH (p, m->watched)
                        save_verified(m, run->verify, *p, verdict, report,
                                      streq(*p, run->config->package) ? run : NULL);
        json_object_put(report);
}

/* Every app: the watched packages that are no app's (Nautobot), with the run's verdict over all. */
void save_shared_states(Manager *m)
{
        const AppRun *worst = NULL;
        json_object *report;

        for (size_t i = 0; i < m->n_runs; i++) {
                CheckState w = worst ? verify_overall(worst->verify) : CHECK_PASS;

                if (m->runs[i].verify &&
                    (!worst || check_state_worse(w, verify_overall(m->runs[i].verify)) != w))
                        worst = &m->runs[i];
        }
        if (!worst)
                return;
        /* Its report: the worst app's, which says what failed. */
        report = verify_report_json(worst->verify);
        STRV_FOREACH (p, m->watched)
                if (!is_run_package(m, *p) && !names_package(m->known_packages, *p))
                        save_verified(m, worst->verify, *p, verdict_to_string(runs_overall(m)),
                                      report, NULL);
        json_object_put(report);
}
