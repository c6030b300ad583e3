/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What changed and what that sets off: comparing what is installed with the state
 * (reconcile()), the watch on site-packages and the packages it follows, waiting for an
 * install to settle (activated mode), following an upgrade's remaining steps before the run
 * (upgrade.c), and putting a reloaded configuration in force. Runs are started through
 * start_verification() (manager.c).
 */
#include <sys/stat.h>
#include <stdio.h>

#include "log.h"
#include "manager-internal.h"
#include "metadata.h"
#include "pkgwatch.h"
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

/* Whether 'l' names 'package' (PEP 503 names). */
bool names_package(char **l, const char *package)
{
        STRV_FOREACH (p, l)
                if (python_name_equal(*p, package))
                        return true;
        return false;
}

/* The label of an app named only in the configuration: the usual one, "nautobot-x" → "nautobot_x".
 */
char *label_of(const char *package)
{
        char *label = python_name_normalize(package);

        for (char *c = label; c && *c; c++)
                if (*c == '-')
                        *c = '_';
        return label;
}

/*
 * A rollback of the one app this configuration verifies is journaled when its verification
 * ends (on_all_done()), with what its database check counted; others when found.
 */
bool rollback_deferred(const Manager *m, const Change *c)
{
        return c && c->kind == VERSION_DOWNGRADED && !config_all_apps(m->config) &&
               m->config->package && python_name_equal(c->package, m->config->package);
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

int create_watch(Manager *m, const Config *c, char *const *packages, PkgWatch **ret)
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
int watched_packages(const Config *c, char ***ret, char ***ret_known, char ***ret_labels)
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

/* Every app: the apps found since are watched too (a new watch when the set changed). */
int update_watched(Manager *m)
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
int apply_config(Manager *m, Config *c)
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
        report_sinks_pick(m->sinks, m->config, m->print);
        strv_free(m->watched);
        strv_free(m->known_packages);
        strv_free(m->known_labels);
        m->watched = TAKE_PTR(watched);
        m->known_packages = TAKE_PTR(known);
        m->known_labels = TAKE_PTR(labels);
        return 0;
}

int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        int r;

        (void)s, (void)si;
        report_notify("RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec());
        r = config_load(m->config_path, m->instance, 0, &c, &error);
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

int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
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

/* Verifies now, or (activated mode) stops when nothing changed. */
void begin(Manager *m)
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
                m->exit_code = verdict_exit_status(VERDICT_INCOMPLETE);
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

static void on_upgrade_done(Upgrade *u, bool deadline_passed, void *userdata)
{
        Manager *m = userdata;
        Change *c = TAKE_PTR(m->following);
        int r;

        (void)deadline_passed; /* the checks say which steps are unfinished */
        if (c && upgrade_web_booting(u))
                c->web_wait_usec = UPGRADE_WEB_WAIT_USEC;
        keep_database(m, upgrade_database(u));
        probe_free(m->ahead);
        m->ahead = upgrade_take_ahead(u);
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
        m->ahead = probe_free(m->ahead); /* booted for an earlier change: older code */
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
int handle_change(Manager *m, Change *c)
{
        if (m->active || m->mode == MODE_ONCE)
                return start_verification(m, c);
        return follow_upgrade(m, c);
}
