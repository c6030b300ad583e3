/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl verify with systemd (ctl-verify.c owns the command and the
 * way without it). It leaves a one-shot request in the instance's state
 * directory (state.h: the check unit runs --if-changed, which takes the request
 * and verifies even if nothing changed), asks systemd over sd-bus to start the
 * check unit and, with --wait, follows it on one sd-event loop: JobRemoved says
 * when the job ended, the journal (the unit's entries, as they land) what each
 * check found. Every bus call has a timeout; so has the wait.
 */
#include <signal.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "check.h"
#include "ctl-verify.h"
#include "journal-fields.h"
#include "state.h"

#define BUS_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DRAIN_USEC       (3 * USEC_PER_SEC) /* after the job ended, for journald to catch up */
#define PROGRESS_USEC    (1 * USEC_PER_SEC)
#define STATUS_TEXT_MAX  512
#define SYSTEMD_DEST     "org.freedesktop.systemd1"
#define SYSTEMD_PATH     "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER  "org.freedesktop.systemd1.Manager"

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

typedef struct Follow {
        const CtlOptions *o;
        sd_event *event;
        sd_bus *bus;
        sd_journal *journal;
        RunTrust trust; /* which of the unit's entries are the daemon's */
        char unit[128];
        char *unit_path;
        char *job;        /* our start job's object path */
        char *job_result; /* JobRemoved's "done", "failed", ...; NULL: not yet */
        /* The runs followed (one per app), from their first entry in the journal. */
        Run *runs[RUNS_MAX];
        size_t n_printed[RUNS_MAX]; /* of runs[i]->checks (passed over with --json) */
        bool verdict_seen[RUNS_MAX];
        size_t n_runs;
        size_t shown;     /* the run whose lines were printed last: its header again on a switch */
        unsigned entries; /* looked at, bounded by RUN_ENTRIES_MAX */
        bool tty;
        bool progress_shown;
        char *status_text; /* the unit's StatusText=, for the progress line */
        sd_bus_slot *status_call;
        uint64_t start_usec; /* CLOCK_MONOTONIC */
        sd_event_source *drain;
        bool timed_out;
        bool interrupted;
        int error;       /* negative errno: the loop ended on it */
        char *state_dir; /* where the request for a forced run went; NULL: a run was joined */
        bool running;    /* the unit was already running: its run is joined, not forced */
        bool requested;  /* a request is left that the unit was not started for (yet) */
} Follow;

static void follow_done(Follow *f)
{
        for (size_t i = 0; i < f->n_runs; i++)
                run_free(f->runs[i]);
        free(f->unit_path);
        free(f->job);
        free(f->job_result);
        free(f->status_text);
        free(f->state_dir);
        sd_bus_slot_unref(f->status_call);
        sd_event_source_unref(f->drain);
        if (f->journal)
                sd_journal_close(f->journal);
        sd_bus_flush_close_unref(f->bus);
        sd_event_unref(f->event);
}

/* ---- the terminal ---- */

static void progress_clear(Follow *f)
{
        if (!f->progress_shown)
                return;
        fputs("\r\033[K", stdout);
        f->progress_shown = false;
}

/* The progress line, cut to the terminal's width (code points, one cell each). */
static void progress_show(Follow *f)
{
        _cleanup_free_ char *text = NULL, *status = NULL;
        unsigned columns = f->o->columns ?: 80, cells = 0;
        uint64_t secs = (now_usec() - f->start_usec) / USEC_PER_SEC;
        size_t n = 0;

        if (!f->tty)
                return;
        status = f->status_text ? ctl_escape(f->status_text) : NULL;
        if (f->n_runs > 0) {
                size_t done = 0;

                for (size_t i = 0; i < f->n_runs; i++)
                        done += f->runs[i]->n_checks;
                text = strjoin_printf("\u2026 %zu of %zu checks done, %" PRIu64 " s%s%s", done,
                                      f->n_runs * _CHECK_ID_MAX, secs, status ? ": " : "",
                                      strempty(status));
        } else
                text = strjoin_printf("\u2026 %s, %" PRIu64 " s%s%s", f->unit, secs,
                                      status ? ": " : "", status ?: "starting");
        if (!text)
                return;
        for (; text[n]; n++)
                if (((unsigned char)text[n] & 0xc0) != 0x80 && ++cells >= columns)
                        break;
        progress_clear(f);
        printf("%s%.*s%s", ctl_color_on(f->o, COLOR_GREY), (int)n, text,
               ctl_color_off(f->o, COLOR_GREY));
        fflush(stdout);
        f->progress_shown = true;
}

static int on_status_text(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        Follow *f = userdata;
        const char *text;

        (void)ret_error;
        f->status_call = sd_bus_slot_unref(f->status_call);
        if (sd_bus_message_is_method_error(reply, NULL) ||
            sd_bus_message_read(reply, "v", "s", &text) < 0)
                return 0;
        free(f->status_text);
        f->status_text = isempty(text) ? NULL : strndup(text, STATUS_TEXT_MAX);
        progress_show(f);
        return 0;
}

static int on_progress(sd_event_source *s, uint64_t usec, void *userdata)
{
        Follow *f = userdata;

        (void)usec;
        /* The daemon's STATUS= (what it waits for, which checks run), asked without blocking. */
        if (!f->status_call && f->unit_path)
                (void)sd_bus_call_method_async(f->bus, &f->status_call, SYSTEMD_DEST, f->unit_path,
                                               "org.freedesktop.DBus.Properties", "Get",
                                               on_status_text, f, "ss",
                                               "org.freedesktop.systemd1.Service", "StatusText");
        progress_show(f);
        (void)sd_event_source_set_time_relative(s, PROGRESS_USEC);
        return 0;
}

/* ---- the journal ---- */

static void print_note(Follow *f, const char *message)
{
        _cleanup_free_ char *e = NULL, *line = NULL;

        if (f->o->json)
                return;
        e = ctl_escape(message);
        line = strjoin_printf("%s%s%s", ctl_color_on(f->o, COLOR_GREY), e,
                              ctl_color_off(f->o, COLOR_GREY));
        progress_clear(f);
        ctl_print_line(f->o, strempty(line));
}

static void print_run_header(Follow *f, const Run *run)
{
        _cleanup_free_ char *line = NULL, *e = NULL;
        char id[SD_ID128_STRING_MAX];

        if (f->o->json)
                return;
        line = strjoin_printf("%s %s, instance %s", run->package ?: "(package unknown)",
                              run->version ?: "(version unknown)", run->instance ?: "(unknown)");
        e = line ? ctl_escape(line) : NULL;
        progress_clear(f);
        printf("%sRun %s%s: %s\n", ctl_color_on(f->o, COLOR_BOLD), sd_id128_to_string(run->id, id),
               ctl_color_off(f->o, COLOR_BOLD), strempty(e));
}

static void print_verdict(Follow *f, const Run *r)
{
        CtlColor color = ctl_result_color(r->verdict);
        char duration[32] = "", id[SD_ID128_STRING_MAX];

        if (f->o->json)
                return;
        ctl_format_duration(r->duration_usec, duration, sizeof(duration));
        progress_clear(f);
        printf("\n%12s %s%s%s: %u passed, %u failed, %u could not run, %u skipped, in %s\n",
               "Verdict:", ctl_color_on(f->o, color), ctl_result_word(run_verdict(r)),
               ctl_color_off(f->o, color), r->passed, r->failed, r->errors, r->skipped, duration);
        printf("%12s nautobot-verifyctl show %s\n", "Details:", sd_id128_to_string(r->id, id));
}

static int field_string(sd_journal *j, const char *field, char **ret)
{
        const void *d;
        size_t l, n = strlen(field);
        int r;

        *ret = NULL;
        r = sd_journal_get_data(j, field, &d, &l);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (l <= n + 1)
                return 0;
        *ret = strndup((const char *)d + n + 1, MIN(l - n - 1, (size_t)RUN_FIELD_MAX));
        return *ret ? 1 : -ENOMEM;
}

static void maybe_finish(Follow *f);

/* One entry of the unit: a check of the run (printed as "show" does), its verdict, or a note. */
static int follow_entry(Follow *f)
{
        _cleanup_free_ char *run_id = NULL, *check = NULL, *message = NULL;
        sd_id128_t id;
        Run *run;
        size_t k;
        int r;

        /* The unit's cgroup is the daemon's, but its uid must be too (run_trust_entry()). */
        if (!run_trust_entry(&f->trust, f->journal))
                return 0;
        r = field_string(f->journal, FIELD_NVD_RUN_ID, &run_id);
        if (r >= 0)
                r = field_string(f->journal, FIELD_NVD_CHECK, &check);
        if (r < 0)
                return r;
        if (!run_id || !check || sd_id128_from_string(run_id, &id) < 0) {
                /* What the daemon says besides the report: changes, upgrade steps, errors. */
                r = field_string(f->journal, "MESSAGE", &message);
                if (r > 0)
                        print_note(f, message);
                return r < 0 ? r : 0;
        }
        /* Every app's run of this verification (they run side by side: entries interleave). */
        for (k = 0; k < f->n_runs && !sd_id128_equal(f->runs[k]->id, id); k++)
                ;
        if (k == f->n_runs) {
                if (f->n_runs >= RUNS_MAX)
                        return 0;
                f->runs[k] = calloc(1, sizeof(Run));
                if (!f->runs[k])
                        return -ENOMEM;
                f->runs[k]->id = id;
                f->n_runs++;
        }
        run = f->runs[k];
        r = run_add_entry(f->journal, run);
        if (r < 0)
                return r;
        if (run->n_checks > f->n_printed[k] || (run->verdict && !f->verdict_seen[k])) {
                /* Its lines follow another run's: say whose they are. */
                if (f->n_printed[k] == 0 || f->shown != k)
                        print_run_header(f, run);
                f->shown = k;
        }
        for (; f->n_printed[k] < run->n_checks; f->n_printed[k]++) {
                if (f->o->json)
                        continue;
                progress_clear(f);
                run_print_check(f->o, &run->checks[f->n_printed[k]]);
        }
        if (run->verdict && !f->verdict_seen[k]) {
                f->verdict_seen[k] = true;
                print_verdict(f, run);
        }
        fflush(stdout);
        return 0;
}

static int follow_read(Follow *f)
{
        int r;

        while ((r = sd_journal_next(f->journal)) > 0) {
                if (++f->entries > RUN_ENTRIES_MAX)
                        return -E2BIG;
                r = follow_entry(f);
                if (r < 0)
                        return r;
        }
        return r;
}

static void follow_fail(Follow *f, int r)
{
        f->error = r;
        (void)sd_event_exit(f->event, 0);
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Follow *f = userdata;
        int r;

        (void)s, (void)fd, (void)revents;
        r = sd_journal_process(f->journal);
        if (r >= 0)
                r = follow_read(f);
        if (r < 0) {
                follow_fail(f, r);
                return 0;
        }
        maybe_finish(f);
        return 0;
}

/* ---- the job ---- */

/* Every run seen has its verdict (and there is one). */
static bool verdicts_seen(const Follow *f)
{
        for (size_t i = 0; i < f->n_runs; i++)
                if (!f->verdict_seen[i])
                        return false;
        return f->n_runs > 0;
}

static void maybe_finish(Follow *f)
{
        /* Done when the job ended and every run's verdict is read; else on_drain() gives up. */
        if (f->job_result && verdicts_seen(f))
                (void)sd_event_exit(f->event, 0);
}

static int on_drain(sd_event_source *s, uint64_t usec, void *userdata)
{
        Follow *f = userdata;
        int r;

        (void)s, (void)usec;
        r = follow_read(f);
        if (r < 0)
                follow_fail(f, r);
        else
                (void)sd_event_exit(f->event, 0);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Follow *f = userdata;
        const char *job, *unit, *result;
        uint32_t id;
        int r;

        (void)ret_error;
        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (!f->job || !streq(job, f->job))
                return 0;
        f->job_result = strdup(result);
        if (!f->job_result) {
                follow_fail(f, -ENOMEM);
                return 0;
        }
        r = follow_read(f);
        if (r < 0) {
                follow_fail(f, r);
                return 0;
        }
        if (verdicts_seen(f)) {
                (void)sd_event_exit(f->event, 0);
                return 0;
        }
        r = sd_event_add_time_relative(f->event, &f->drain, CLOCK_MONOTONIC, DRAIN_USEC, 0,
                                       on_drain, f);
        if (r < 0)
                follow_fail(f, r);
        else
                (void)sd_event_source_set_description(f->drain, "journal-drain");
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Follow *f = userdata;

        (void)s, (void)usec;
        f->timed_out = true;
        (void)sd_event_exit(f->event, 0);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Follow *f = userdata;

        (void)s, (void)si;
        f->interrupted = true;
        (void)sd_event_exit(f->event, 0);
        return 0;
}

/* ---- systemd ---- */

static const char *bus_error_text(const sd_bus_error *e, int r)
{
        return e && e->message ? e->message : strerror(-r);
}

/* Whether org.freedesktop.systemd1 answers on the system bus: 1, 0 (with the reason), < 0. */
static int systemd_answers(sd_bus *bus, char **ret_reason)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int owned = 0, r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", &error, &reply, "s",
                               SYSTEMD_DEST);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &owned);
        if (r < 0) {
                *ret_reason = strjoin_printf("the system bus does not answer: %s",
                                             bus_error_text(&error, r));
                return *ret_reason ? 0 : -ENOMEM;
        }
        if (!owned) {
                *ret_reason = strdup("nothing owns org.freedesktop.systemd1 on the system bus");
                return *ret_reason ? 0 : -ENOMEM;
        }
        return 1;
}

/* The unit's ActiveState, or NULL when it is not loaded. */
static int unit_active_state(Follow *f, char **ret)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        *ret = NULL;
        if (sd_bus_call_method(f->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit",
                               &error, &reply, "s", f->unit) < 0)
                return 0; /* not loaded, or not ours to ask: StartUnit says what matters */
        return sd_bus_get_property_string(f->bus, SYSTEMD_DEST, f->unit_path,
                                          "org.freedesktop.systemd1.Unit", "ActiveState", &error,
                                          ret);
}

/* Why the unit's run ended without a verdict, as systemd says: "exit-code, status 243". */
static char *unit_failure(Follow *f)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *result = NULL;
        int32_t status = 0;

        (void)sd_bus_get_property_string(f->bus, SYSTEMD_DEST, f->unit_path,
                                         "org.freedesktop.systemd1.Service", "Result", &error,
                                         &result);
        sd_bus_error_free(&error);
        (void)sd_bus_get_property_trivial(f->bus, SYSTEMD_DEST, f->unit_path,
                                          "org.freedesktop.systemd1.Service", "ExecMainStatus",
                                          &error, 'i', &status);
        return strjoin_printf("job %s, result %s, exit status %" PRIi32, strempty(f->job_result),
                              result ?: "unknown", status);
}

static int log_oom(void)
{
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
}

/* The system bus, and systemd answering on it: 0, or the exit status (said why). */
static int follow_connect(Follow *f)
{
        _cleanup_free_ char *reason = NULL;
        int r;

        r = sd_bus_open_system(&f->bus);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(f->bus, BUS_TIMEOUT_USEC);
        if (r < 0) {
                fprintf(stderr, "systemd runs here, but the system bus cannot be reached: %s\n",
                        strerror(-r));
                return EX_OSERR;
        }
        r = systemd_answers(f->bus, &reason);
        if (r <= 0) {
                fprintf(stderr, "systemd runs here, but cannot be asked to start %s: %s\n", f->unit,
                        reason ?: strerror(-r));
                return EX_OSERR;
        }
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", f->unit, &f->unit_path);
        if (r < 0)
                return log_oom();
        return 0;
}

/* A run already under way is joined: it was started for a change, and is not forced. Else the
 * request for a forced run is left where the unit takes it. 0, or the exit status. */
static int follow_request(Follow *f, const char *config_path)
{
        _cleanup_free_ char *active = NULL;
        int r;

        r = unit_active_state(f, &active);
        if (r == -ENOMEM)
                return log_oom();
        f->running = streq_ptr(active, "activating");
        if (f->running)
                return 0;
        r = verify_state_dir(f->o, config_path, &f->state_dir);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return EX_CONFIG;
        r = state_request_force(f->state_dir);
        if (r < 0) {
                fprintf(stderr, "Cannot ask for a forced run in %s/" STATE_FORCE_FILE ": %s%s\n",
                        f->state_dir, state_error_to_string(r),
                        r == -EACCES || r == -EPERM ? " (run as root)" : "");
                return EX_OSERR;
        }
        f->requested = true;
        return 0;
}

/* --wait: JobRemoved, matched before the job exists, so that its end cannot be missed. */
static int follow_subscribe(Follow *f)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_event_new(&f->event);
        if (r >= 0)
                r = sd_bus_attach_event(f->bus, f->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal(f->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                        "JobRemoved", on_job_removed, f);
        if (r >= 0)
                r = sd_bus_call_method(f->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                       "Subscribe", &error, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "Cannot follow %s's job on the system bus: %s\n", f->unit,
                        bus_error_text(&error, r));
                return EX_OSERR;
        }
        return 0;
}

/* --wait: the unit's entries from now on; the local journal, as journalctl -u. */
static int follow_open_journal(Follow *f)
{
        int r;

        r = sd_journal_open(&f->journal, SD_JOURNAL_LOCAL_ONLY);
        if (r >= 0)
                r = sd_journal_set_data_threshold(f->journal, RUN_FIELD_MAX);
        if (r >= 0) {
                _cleanup_free_ char *match = strjoin_printf("_SYSTEMD_UNIT=%s", f->unit);

                r = match ? sd_journal_add_match(f->journal, match, 0) : -ENOMEM;
        }
        if (r >= 0)
                r = sd_journal_get_fd(f->journal);
        if (r >= 0) {
                int fd = r, events = sd_journal_get_events(f->journal);

                r = events < 0
                            ? events
                            : sd_event_add_io(f->event, NULL, fd, (uint32_t)events, on_journal, f);
        }
        if (r >= 0)
                r = sd_journal_seek_tail(f->journal);
        if (r >= 0)
                r = sd_journal_previous(f->journal);
        if (r < 0) {
                fprintf(stderr, "Cannot follow the journal of %s: %s\n", f->unit, strerror(-r));
                return EX_OSERR;
        }
        return 0;
}

/* StartUnit: 0 (the job is queued), or the exit status. */
static int follow_start_unit(Follow *f)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job;
        int r;

        r = sd_bus_call_method(f->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartUnit",
                               &error, &reply, "ss", f->unit, "replace");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                fprintf(stderr, "Failed to start %s: %s%s\n", f->unit, bus_error_text(&error, r),
                        sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED) ||
                                        sd_bus_error_has_name(
                                                &error,
                                                SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)
                                ? " (run as root)"
                                : "");
                return EX_OSERR;
        }
        f->job = strdup(job);
        if (!f->job)
                return log_oom();
        /* The unit takes it from here; --wait removes it if the job ended without. */
        f->requested = false;
        if (!f->o->json) {
                printf("%s %s%s: job %s\n", f->running ? "Joined the run of" : "Started", f->unit,
                       f->running ? " already under way (not forced)" : " (a forced run)", f->job);
                fflush(stdout);
        }
        return 0;
}

/* --wait: the loop, until the verdicts, --timeout, a signal or an error. 0, or the exit status. */
static int follow_wait(Follow *f)
{
        sigset_t mask;
        int r;

        f->start_usec = now_usec();
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGINT, on_signal, f);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGTERM, on_signal, f);
        if (r >= 0)
                r = sd_event_add_time_relative(f->event, NULL, CLOCK_MONOTONIC, f->o->timeout_usec,
                                               0, on_timeout, f);
        if (r >= 0 && f->tty)
                r = sd_event_add_time_relative(f->event, NULL, CLOCK_MONOTONIC, 0, 0, on_progress,
                                               f);
        if (r >= 0)
                r = follow_read(f);
        if (r >= 0)
                r = sd_event_loop(f->event);
        if (r >= 0)
                r = f->error;
        progress_clear(f);
        fflush(stdout);
        /* The job ended and no run took the request (the unit failed first): it was for this job.
         */
        if (f->job_result && f->state_dir)
                (void)state_take_force_request(f->state_dir);
        if (r < 0) {
                fprintf(stderr, "Failed to follow %s: %s\n", f->unit,
                        r == -E2BIG ? "too many journal entries" : strerror(-r));
                return EX_OSERR;
        }
        return 0;
}

/* How the wait ended: the outcome, and the exit status (the verdict's, or why there is none). */
static int follow_outcome(Follow *f, VerifyOutcome *ret_outcome)
{
        _cleanup_free_ char *why = NULL;

        if (verdicts_seen(f)) {
                *ret_outcome = VERIFY_VERDICT;
                return verify_runs_exit_code(f->runs, f->n_runs);
        }
        if (f->interrupted || f->timed_out) {
                char limit[32];

                ctl_format_duration(f->o->timeout_usec, limit, sizeof(limit));
                fprintf(stderr,
                        "%s%s; the verification goes on in %s (journalctl -fu %s; its verdict: nautobot-verifyctl show --last)\n",
                        f->interrupted ? "Stopped waiting" : "No verdict within --timeout=",
                        f->interrupted ? "" : limit, f->unit, f->unit);
                *ret_outcome = f->interrupted ? VERIFY_INTERRUPTED : VERIFY_TIMED_OUT;
                return CTL_EXIT_INCOMPLETE;
        }
        if (streq_ptr(f->job_result, "done") && f->n_runs == 0) {
                /* --if-changed found nothing to verify: its last verdict passed (else it rechecks).
                 */
                if (!f->o->json)
                        printf("%s finished without verifying: nothing changed since the last verification\n",
                               f->unit);
                *ret_outcome = VERIFY_NOTHING_CHANGED;
                return 0;
        }
        why = unit_failure(f);
        fprintf(stderr, "%s ended without a verdict (%s); see journalctl -u %s\n", f->unit,
                why ?: "?", f->unit);
        *ret_outcome = VERIFY_NO_VERDICT;
        return CTL_EXIT_INCOMPLETE;
}

/* The --json document (when there is an outcome), and a request no unit was started for. */
static int follow_finish(Follow *f, VerifyOutcome outcome, int code)
{
        if (f->o->json && outcome >= 0) {
                VerifyReport v = {
                        .unit = f->unit,
                        .job = f->job,
                        .forced = !f->running,
                        .joined = f->running,
                        .waited = f->o->wait,
                        .outcome = outcome,
                        .job_result = f->job_result,
                        /* The unit's: job_result and the run say it (systemd may have
                         * unloaded the unit, and its ExecMainStatus, by now). */
                        .exit_status = -1,
                        .runs = f->runs,
                        .n_runs = f->n_runs,
                        .ignored_entries = f->trust.ignored,
                };

                if (verify_print_report(f->o, &v) != 0)
                        code = EX_OSERR;
        }
        run_trust_print_ignored(&f->trust);
        /* A request the unit was never started for would force some later run. */
        if (f->requested)
                (void)state_take_force_request(f->state_dir);
        return code;
}

int verify_with_systemd(const CtlOptions *o, const char *config_path)
{
        Follow f = {.o = o, .tty = !o->json && isatty(STDOUT_FILENO)};
        VerifyOutcome outcome = _VERIFY_OUTCOME_INVALID;
        int code;

        run_trust_init(&f.trust, o);
        if (o->instance)
                snprintf(f.unit, sizeof(f.unit), "nautobot-verifyd-check@%s.service", o->instance);
        else
                snprintf(f.unit, sizeof(f.unit), "nautobot-verifyd-check.service");

        code = follow_connect(&f);
        if (code == 0)
                code = follow_request(&f, config_path);
        if (code == 0 && o->wait)
                code = follow_subscribe(&f);
        if (code == 0 && o->wait)
                code = follow_open_journal(&f);
        if (code == 0)
                code = follow_start_unit(&f);
        if (code == 0 && !o->wait) {
                if (!o->json)
                        printf("Follow it with: nautobot-verifyctl verify --wait%s%s, or journalctl -fu %s\n",
                               o->instance ? " --instance " : "", strempty(o->instance), f.unit);
                outcome = VERIFY_STARTED;
        } else if (code == 0) {
                code = follow_wait(&f);
                if (code == 0)
                        code = follow_outcome(&f, &outcome);
        }
        code = follow_finish(&f, outcome, code);
        follow_done(&f);
        return code;
}
