/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Follows an upgrade through the guide's remaining steps. See upgrade.h.
 * A round is a Verify limited to the checks that confirm a step (check.h's
 * table names them). Rounds never overlap: one asked for while another runs
 * starts after it. A round's results are taken in a deferred event, outside
 * the Verify's own callbacks, so the round can be freed there.
 */
#include <inttypes.h>

#include "check.h"
#include "log.h"
#include "upgrade.h"
#include "verify.h"

struct Upgrade {
        sd_event *event;
        sd_bus *bus;
        const Config *config;
        const Change *change;
        UpgradeDone done;
        void *userdata;

        Verify *round;
        bool round_finished;
        bool want_timer_round; /* asked for while a round ran */
        bool want_bus_round;
        bool round_only[_CHECK_ID_MAX]; /* the checks the running round runs */
        bool poll_bus_steps;            /* no signals from systemd: ask on the timer too */

        bool is_step[_CHECK_ID_MAX];
        bool seen[_CHECK_ID_MAX];
        bool step_done[_CHECK_ID_MAX];
        bool journaled[_CHECK_ID_MAX];
        char *pending[_CHECK_ID_MAX];
        bool unanswered[_CHECK_ID_MAX]; /* the web server did not answer that step's check */
        bool web_booting;               /* finished with only those left */

        uint64_t install_usec;
        DbSettings *db;
        Probe *ahead; /* Django booted for the verification while the restarts are awaited */
        bool ahead_tried;
        bool announced;
        char *last_status;
        bool finished;

        sd_event_source *tick;     /* the step timer */
        sd_event_source *deadline; /* upgrade-deadline */
        sd_event_source *collect;  /* takes a finished round's results */
        sd_bus_slot *job_removed;
        sd_bus_slot *subscribe;
};

Upgrade *upgrade_free(Upgrade *u)
{
        if (!u)
                return NULL;
        verify_free(u->round);
        probe_free(u->ahead);
        sd_event_source_disable_unref(u->tick);
        sd_event_source_disable_unref(u->deadline);
        sd_event_source_disable_unref(u->collect);
        sd_bus_slot_unref(u->job_removed);
        sd_bus_slot_unref(u->subscribe);
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                free(u->pending[i]);
        free(u->last_status);
        db_settings_free(u->db);
        sd_bus_unref(u->bus);
        sd_event_unref(u->event);
        free(u);
        return NULL;
}

char *upgrade_pending(const Upgrade *u)
{
        Buf b;
        char *r;

        buf_init(&b, 4096);
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (u->is_step[i] && !u->step_done[i])
                        buf_printf(&b, "%s%s", b.len ? ", " : "",
                                   u->pending[i] ?: check_type(i)->step);
        r = b.len ? strdup(b.data) : NULL;
        buf_done(&b);
        return r;
}

static void finish(Upgrade *u, bool deadline_passed)
{
        if (u->finished)
                return;
        u->finished = true;
        (void)sd_event_source_set_enabled(u->tick, SD_EVENT_OFF);
        (void)sd_event_source_set_enabled(u->deadline, SD_EVENT_OFF);
        u->job_removed = sd_bus_slot_unref(u->job_removed);
        u->round = verify_free(u->round);
        if (deadline_passed) {
                _cleanup_free_ char *pending = upgrade_pending(u);

                (void)report_journal_upgrade_deadline(u->change, pending ?: "the first check",
                                                      u->config->upgrade_deadline_usec);
        }
        u->done(u, deadline_passed, u->userdata); /* may free u */
}

static void on_round_done(Verify *v, void *userdata)
{
        Upgrade *u = userdata;

        (void)v;
        /* Not here: this runs inside the round's callbacks, which must not free it. */
        u->round_finished = true;
        (void)sd_event_source_set_enabled(u->collect, SD_EVENT_ONESHOT);
}

static const VerifyCallbacks round_callbacks = {
        .all_done = on_round_done,
};

static int start_round(Upgrade *u, bool timer_steps, bool bus_steps)
{
        bool only[_CHECK_ID_MAX] = {};
        int r;

        if (u->finished)
                return 0;
        if (u->round) {
                u->want_timer_round |= timer_steps;
                u->want_bus_round |= bus_steps;
                return 0;
        }
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                only[i] =
                        u->is_step[i] &&
                        (check_type(i)->bus_driven && !u->poll_bus_steps ? bus_steps : timer_steps);
        r = verify_new(&u->round, u->event, u->bus, u->config);
        if (r >= 0)
                r = verify_set_database(u->round, u->db);
        if (r >= 0 && u->change->old_version)
                r = verify_set_previous(u->round, u->change->old_version);
        if (r < 0) {
                u->round = verify_free(u->round);
                return r;
        }
        verify_set_only(u->round, only);
        memcpy(u->round_only, only, sizeof(only));
        u->round_finished = false;
        /* Tell systemd a long wait is no hang (matters for the activated one-shot). */
        report_notify("EXTEND_TIMEOUT_USEC=%" PRIu64,
                      2 * u->config->step_interval_usec + 4 * u->config->http_timeout_usec);
        return verify_start(u->round, &round_callbacks, u);
}

static void update_status(Upgrade *u)
{
        _cleanup_free_ char *what = change_describe(u->change), *pending = upgrade_pending(u),
                            *status = NULL;
        char at[32] = "?";

        if (u->install_usec)
                format_clock(u->install_usec, at, sizeof(at));
        status = strjoin_printf("%s: %s installed %s; waiting for: %s", u->change->package,
                                strempty(what), at, strempty(pending));
        if (!status || streq_ptr(status, u->last_status))
                return;
        report_notify("STATUS=%s", status);
        free(u->last_status);
        u->last_status = TAKE_PTR(status);
        if (!u->announced) {
                u->announced = true;
                (void)report_journal_upgrade_pending(u->change, strempty(pending),
                                                     u->config->upgrade_deadline_usec);
        }
}

static void take_results(Upgrade *u)
{
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                const CheckResult *r = verify_result(u->round, i);

                if (!u->round_only[i])
                        continue;
                u->seen[i] = true;
                /* A step that does not apply here (no systemd, no such unit) is no wait. */
                u->step_done[i] = r->state == CHECK_PASS || r->disabled;
                u->unanswered[i] = r->unanswered;
                if (!u->step_done[i]) {
                        (void)free_and_strdup(&u->pending[i], r->pending);
                        continue;
                }
                if (!u->journaled[i] && !r->disabled)
                        (void)report_journal_step_done(u->change, check_type(i)->step,
                                                       strempty(r->reason));
                u->journaled[i] = true;
        }
        if (!u->install_usec)
                u->install_usec = verify_install_usec(u->round);
        if (verify_database_seen(u->round)) {
                DbSettings *d = NULL;

                if (db_settings_copy(verify_database_seen(u->round), &d) >= 0) {
                        db_settings_free(u->db);
                        u->db = d;
                }
        }
}

/*
 * Once migrate is done (or not followed), the code and the database are what
 * the verification will see: Django is booted for it now, with the round's
 * environment, and waits while the units are restarted and boot themselves.
 * A failure costs nothing but the time: the verification boots its own.
 */
static void boot_ahead(Upgrade *u)
{
        int r;

        if (u->ahead_tried || (u->is_step[CHECK_ID_DATABASE] &&
                               !(u->seen[CHECK_ID_DATABASE] && u->step_done[CHECK_ID_DATABASE])))
                return;
        u->ahead_tried = true;
        r = verify_boot_ahead(u->round, u->config->upgrade_deadline_usec, &u->ahead);
        if (r < 0)
                log_warning("Cannot boot Django ahead of the verification: %s\n", strerror(-r));
        else if (u->ahead)
                log_notice(
                        "%s: booting Django for the verification while the restarts are awaited\n",
                        u->change->package);
}

Probe *upgrade_take_ahead(Upgrade *u)
{
        return TAKE_PTR(u->ahead);
}

static bool all_done(const Upgrade *u)
{
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (u->is_step[i] && (!u->seen[i] || !u->step_done[i]))
                        return false;
        return true;
}

/*
 * Every step done but those the web server (or a worker) did not answer: the
 * units were restarted (or nothing says they must be) and they are booting. A
 * Django boot of its own would take the verification as long, so it starts
 * now, beside the web server's, and its requests wait for the answer.
 */
static bool only_web_booting(const Upgrade *u)
{
        bool any = false;

        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                if (!u->is_step[i] || (u->seen[i] && u->step_done[i]))
                        continue;
                if (!u->seen[i] || !u->unanswered[i])
                        return false;
                any = true;
        }
        return any;
}

bool upgrade_web_booting(const Upgrade *u)
{
        return u->web_booting;
}

static int on_collect(sd_event_source *s, void *userdata)
{
        Upgrade *u = userdata;
        bool timer = u->want_timer_round, bus = u->want_bus_round;

        (void)s;
        if (!u->round || !u->round_finished)
                return 0;
        take_results(u);
        boot_ahead(u);
        u->round = verify_free(u->round);
        if (all_done(u)) {
                finish(u, false);
                return 0;
        }
        if (only_web_booting(u)) {
                u->web_booting = true;
                finish(u, false);
                return 0;
        }
        update_status(u);
        u->want_timer_round = u->want_bus_round = false;
        if (timer || bus)
                (void)start_round(u, timer, bus);
        return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Upgrade *u = userdata;

        (void)usec;
        (void)start_round(u, true, false);
        (void)sd_event_source_set_time_relative(s, u->config->step_interval_usec);
        (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s, (void)usec;
        finish(userdata, true);
        return 0;
}

/* systemd finished a job: if it was one of our units (a restart), look again at once. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Upgrade *u = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        (void)ret_error;
        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (strv_contains(u->config->units, unit))
                (void)start_round(u, true, true);
        return 0;
}

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Upgrade *u = userdata;

        (void)ret_error;
        /* Refused (an old or locked-down systemd): no JobRemoved, so ask on the timer too. */
        if (sd_bus_message_is_method_error(m, NULL))
                u->poll_bus_steps = true;
        return 0;
}

static int subscribe(Upgrade *u)
{
        int r;

        r = sd_bus_match_signal_async(
                u->bus, &u->job_removed, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL, u);
        if (r < 0)
                return r;
        /* systemd sends its signals only while some client is subscribed. */
        return sd_bus_call_method_async(
                u->bus, &u->subscribe, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager", "Subscribe", on_subscribed, u, "");
}

const DbSettings *upgrade_database(const Upgrade *u)
{
        return u->db;
}

int upgrade_new(Upgrade **ret, sd_event *e, sd_bus *bus, const Config *config, const Change *change,
                const DbSettings *db, UpgradeDone done, void *userdata)
{
        _cleanup_(upgrade_freep) Upgrade *u = NULL;
        bool any = false;
        int r;

        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->event = sd_event_ref(e);
        u->bus = sd_bus_ref(bus);
        u->config = config;
        u->change = change;
        u->done = done;
        u->userdata = userdata;
        if (db && db_settings_copy(db, &u->db) < 0)
                return -ENOMEM;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                u->is_step[i] = check_type(i)->step && config->enabled[i];
                any |= u->is_step[i];
        }
        if ((r = sd_event_add_defer(e, &u->collect, on_collect, u)) < 0 ||
            (r = sd_event_source_set_enabled(u->collect, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_add_time_relative(e, &u->tick, CLOCK_MONOTONIC,
                                            config->step_interval_usec, 0, on_tick, u)) < 0 ||
            (r = sd_event_add_time_relative(e, &u->deadline, CLOCK_MONOTONIC,
                                            config->upgrade_deadline_usec, 0, on_deadline, u)) < 0)
                return r;
        (void)sd_event_source_set_description(u->collect, "upgrade-collect");
        (void)sd_event_source_set_description(u->tick, "upgrade-steps");
        (void)sd_event_source_set_description(u->deadline, "upgrade-deadline");
        /* No signals: the restarts are then looked at with the others, on the timer. */
        u->poll_bus_steps = bus && subscribe(u) < 0;
        if (!any) /* every step check is disabled: the first round finds nothing to wait for */
                (void)sd_event_source_set_enabled(u->tick, SD_EVENT_OFF);
        r = start_round(u, true, true);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}
