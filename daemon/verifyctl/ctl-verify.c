/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl verify: starts one verification. With systemd it leaves
 * a one-shot request in the instance's state directory (state.h: the check
 * unit runs --if-changed, which takes the request and verifies even if
 * nothing changed), asks systemd over sd-bus to start the check unit and, with
 * --wait, follows it on one sd-event loop: JobRemoved says when the job ended,
 * the journal (the unit's entries, as they land) what each check found.
 * Without systemd it runs the daemon's --once in this process (exec); with
 * --json as a child instead (lib/sys/child.c: its output goes to stderr), whose
 * run it then reads back from the journal by its _PID. --json prints one
 * document at the end, nothing else on stdout.
 * Every bus call has a timeout; so has the wait.
 */
#include <signal.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "config.h"
#include "ctl-journal.h"
#include "state.h"

#define BUS_TIMEOUT_USEC  (10 * USEC_PER_SEC)
#define DRAIN_USEC        (3 * USEC_PER_SEC) /* after the job ended, for journald to catch up */
#define PROGRESS_USEC     (1 * USEC_PER_SEC)
#define JOURNAL_WAIT_USEC (10 * USEC_PER_SEC) /* without systemd: for journald to store the run */
#define STATUS_TEXT_MAX   512
#define RUNS_MAX          64 /* runs one verification has: one per app */
#define JOURNAL_SETTLE_USEC                                                                        \
        (500 * USEC_PER_MSEC) /* without systemd: another app's run may follow */
#define SYSTEMD_DEST        "org.freedesktop.systemd1"
#define SYSTEMD_PATH        "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER     "org.freedesktop.systemd1.Manager"
#define DEFAULT_CONFIG_DIR  "/etc/nautobot-verifyd"
#define DEFAULT_CONFIG_NAME "nautobot-verifyd.conf"
#define DEFAULT_STATE_DIR   "/var/lib/nautobot-verifyd"

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* How verify ended, as --json's "outcome" says (README.md). */
typedef enum VerifyOutcome {
        VERIFY_STARTED,         /* no --wait: the job is queued */
        VERIFY_VERDICT,         /* the run's verdict was read */
        VERIFY_NOTHING_CHANGED, /* the unit's --if-changed found nothing to verify */
        VERIFY_TIMED_OUT,       /* no verdict within --timeout */
        VERIFY_INTERRUPTED,     /* SIGINT or SIGTERM */
        VERIFY_NO_VERDICT,      /* the run ended without one */
        _VERIFY_OUTCOME_MAX,
        _VERIFY_OUTCOME_INVALID = -EINVAL, /* no document: an error said why */
} VerifyOutcome;

static const char *const verify_outcome_table[_VERIFY_OUTCOME_MAX] = {
        [VERIFY_STARTED] = "started",
        [VERIFY_VERDICT] = "verdict",
        [VERIFY_NOTHING_CHANGED] = "nothing-changed",
        [VERIFY_TIMED_OUT] = "timed-out",
        [VERIFY_INTERRUPTED] = "interrupted",
        [VERIFY_NO_VERDICT] = "no-verdict",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(verify_outcome, VerifyOutcome);

/* What verify --json prints: one document of CTL_SCHEMA, command "verify". */
typedef struct VerifyReport {
        const char *unit; /* NULL: without systemd */
        const char *job;
        bool forced; /* a request for a forced run was placed, and the unit started for it */
        bool joined; /* the unit was already running: its run was followed */
        bool waited;
        VerifyOutcome outcome;
        const char *job_result; /* JobRemoved's */
        int exit_status;        /* the daemon's, run by us; < 0: not ours, or a signal ended it */
        Run *const *runs;       /* the runs followed, one per app, in the order they began */
        size_t n_runs;
        unsigned ignored_entries; /* entries of the unit or the child not trusted (RunTrust) */
} VerifyReport;

/* The daemon's exit code over several runs (one per app): fail wins, then incomplete. */
static int runs_exit_code(Run *const *runs, size_t n)
{
        int code = CTL_EXIT_PASS;

        for (size_t i = 0; i < n; i++) {
                int c = run_exit_code(runs[i]);

                if (c == CTL_EXIT_FAIL || (c != CTL_EXIT_PASS && code == CTL_EXIT_PASS))
                        code = c;
        }
        return code;
}

/* Prints it; 0, or EX_OSERR when it cannot be written. */
static int print_report(const CtlOptions *o, const VerifyReport *v)
{
        json_object *doc = ctl_json_document("verify");
        int r;

        if (doc) {
                json_object_object_add(doc, "unit", ctl_json_string(v->unit));
                json_object_object_add(doc, "job", ctl_json_string(v->job));
                json_object_object_add(doc, "forced", json_object_new_boolean(v->forced));
                json_object_object_add(doc, "joined", json_object_new_boolean(v->joined));
                json_object_object_add(doc, "waited", json_object_new_boolean(v->waited));
                json_object_object_add(
                        doc, "outcome",
                        json_object_new_string(verify_outcome_to_string(v->outcome)));
                json_object_object_add(doc, "job_result", ctl_json_string(v->job_result));
                json_object_object_add(doc, "exit_status",
                                       v->exit_status >= 0 ? json_object_new_int(v->exit_status)
                                                           : NULL);
                /* "run": the first (the only one, with [package] name=); "runs": every app's.
                 * Their checks in report order. */
                for (size_t i = 0; i < v->n_runs; i++)
                        run_sort_checks(v->runs[i]);
                json_object_object_add(doc, "run",
                                       v->n_runs > 0 ? run_to_json(v->runs[0], true, o->evidence)
                                                     : NULL);
                {
                        json_object *a = json_object_new_array();

                        for (size_t i = 0; a && i < v->n_runs; i++)
                                json_object_array_add(a,
                                                      run_to_json(v->runs[i], true, o->evidence));
                        json_object_object_add(doc, "runs", a);
                }
                json_object_object_add(doc, "ignored_entries",
                                       json_object_new_int64(v->ignored_entries));
        }
        r = ctl_json_print(doc);
        if (r < 0) {
                fprintf(stderr, "Cannot write the output: %s\n", strerror(-r));
                return EX_OSERR;
        }
        return 0;
}

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
        int error; /* negative errno: the loop ended on it */
} Follow;

static void follow_done(Follow *f)
{
        for (size_t i = 0; i < f->n_runs; i++)
                run_free(f->runs[i]);
        free(f->unit_path);
        free(f->job);
        free(f->job_result);
        free(f->status_text);
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
        r = field_string(f->journal, "NVD_RUN_ID", &run_id);
        if (r >= 0)
                r = field_string(f->journal, "NVD_CHECK", &check);
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

/* The configuration's instance state directory, where the request goes. */
static int state_dir_of(const CtlOptions *o, const char *config_path, char **ret)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_new(&c);
        if (r < 0)
                return r;
        r = config_load(c, config_path, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && (r != -ENOENT || o->config_given)) {
                fprintf(stderr, "Cannot read the configuration: %s\n", error ?: strerror(-r));
                return -EINVAL;
        }
        error = mfree(error);
        if (o->instance && (r = config_set_instance(c, o->instance, &error)) < 0) {
                if (r != -ENOMEM)
                        fprintf(stderr, "%s\n", error ?: strerror(-r));
                return r == -ENOMEM ? r : -EINVAL;
        }
        /* The state directory is known even when the checks' keys are not all valid. */
        (void)config_finalize(c, &error);
        if (!c->instance_state_directory) {
                const char *sd = c->state_directory ?: DEFAULT_STATE_DIR;

                *ret = strjoin_printf("%s/%s", sd, o->instance ?: "default");
        } else
                *ret = strdup(c->instance_state_directory);
        return *ret ? 0 : -ENOMEM;
}

static int verify_with_systemd(const CtlOptions *o, const char *config_path)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *state_dir = NULL, *reason = NULL, *active = NULL;
        Follow f = {.o = o, .tty = !o->json && isatty(STDOUT_FILENO)};
        VerifyOutcome outcome = _VERIFY_OUTCOME_INVALID;
        const char *job;
        bool requested = false, running = false;
        sigset_t mask;
        int r, code;

        run_trust_init(&f.trust, o);
        if (o->instance)
                snprintf(f.unit, sizeof(f.unit), "nautobot-verifyd-check@%s.service", o->instance);
        else
                snprintf(f.unit, sizeof(f.unit), "nautobot-verifyd-check.service");

        r = sd_bus_open_system(&f.bus);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(f.bus, BUS_TIMEOUT_USEC);
        if (r < 0) {
                fprintf(stderr, "systemd runs here, but the system bus cannot be reached: %s\n",
                        strerror(-r));
                code = EX_OSERR;
                goto finish;
        }
        r = systemd_answers(f.bus, &reason);
        if (r <= 0) {
                fprintf(stderr, "systemd runs here, but cannot be asked to start %s: %s\n", f.unit,
                        reason ?: strerror(-r));
                code = EX_OSERR;
                goto finish;
        }
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", f.unit, &f.unit_path);
        if (r < 0)
                goto oom;

        /* A run already under way is joined: it was started for a change, and is not forced. */
        r = unit_active_state(&f, &active);
        if (r == -ENOMEM)
                goto oom;
        running = streq_ptr(active, "activating");
        if (!running) {
                r = state_dir_of(o, config_path, &state_dir);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0) {
                        code = EX_CONFIG;
                        goto finish;
                }
                r = state_request_force(state_dir);
                if (r < 0) {
                        fprintf(stderr,
                                "Cannot ask for a forced run in %s/" STATE_FORCE_FILE ": %s%s\n",
                                state_dir, state_error_to_string(r),
                                r == -EACCES || r == -EPERM ? " (run as root)" : "");
                        code = EX_OSERR;
                        goto finish;
                }
                requested = true;
        }

        if (o->wait) {
                r = sd_event_new(&f.event);
                if (r >= 0)
                        r = sd_bus_attach_event(f.bus, f.event, SD_EVENT_PRIORITY_NORMAL);
                /* Before the job exists, so that its end cannot be missed. */
                if (r >= 0)
                        r = sd_bus_match_signal(f.bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH,
                                                SYSTEMD_MANAGER, "JobRemoved", on_job_removed, &f);
                if (r >= 0)
                        r = sd_bus_call_method(f.bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                               "Subscribe", &error, NULL, NULL);
                if (r < 0) {
                        fprintf(stderr, "Cannot follow %s's job on the system bus: %s\n", f.unit,
                                bus_error_text(&error, r));
                        code = EX_OSERR;
                        goto finish;
                }
                sd_bus_error_free(&error);
                /* The unit's entries from now on; the local journal, as journalctl -u. */
                r = sd_journal_open(&f.journal, SD_JOURNAL_LOCAL_ONLY);
                if (r >= 0)
                        r = sd_journal_set_data_threshold(f.journal, RUN_FIELD_MAX);
                if (r >= 0) {
                        _cleanup_free_ char *match = strjoin_printf("_SYSTEMD_UNIT=%s", f.unit);

                        r = match ? sd_journal_add_match(f.journal, match, 0) : -ENOMEM;
                }
                if (r >= 0)
                        r = sd_journal_get_fd(f.journal);
                if (r >= 0) {
                        int fd = r, events = sd_journal_get_events(f.journal);

                        r = events < 0 ? events
                                       : sd_event_add_io(f.event, NULL, fd, (uint32_t)events,
                                                         on_journal, &f);
                }
                if (r >= 0)
                        r = sd_journal_seek_tail(f.journal);
                if (r >= 0)
                        r = sd_journal_previous(f.journal);
                if (r < 0) {
                        fprintf(stderr, "Cannot follow the journal of %s: %s\n", f.unit,
                                strerror(-r));
                        code = EX_OSERR;
                        goto finish;
                }
        }

        r = sd_bus_call_method(f.bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartUnit",
                               &error, &reply, "ss", f.unit, "replace");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                fprintf(stderr, "Failed to start %s: %s%s\n", f.unit, bus_error_text(&error, r),
                        sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED) ||
                                        sd_bus_error_has_name(
                                                &error,
                                                SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)
                                ? " (run as root)"
                                : "");
                code = EX_OSERR;
                goto finish;
        }
        f.job = strdup(job);
        if (!f.job)
                goto oom;
        /* The unit takes it from here; --wait removes it below if the job ended without. */
        requested = false;
        if (!o->json) {
                printf("%s %s%s: job %s\n", running ? "Joined the run of" : "Started", f.unit,
                       running ? " already under way (not forced)" : " (a forced run)", f.job);
                fflush(stdout);
        }
        if (!o->wait) {
                if (!o->json)
                        printf("Follow it with: nautobot-verifyctl verify --wait%s%s, or journalctl -fu %s\n",
                               o->instance ? " --instance " : "", strempty(o->instance), f.unit);
                outcome = VERIFY_STARTED;
                code = 0;
                goto finish;
        }

        f.start_usec = now_usec();
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_signal(f.event, NULL, SIGINT, on_signal, &f);
        if (r >= 0)
                r = sd_event_add_signal(f.event, NULL, SIGTERM, on_signal, &f);
        if (r >= 0)
                r = sd_event_add_time_relative(f.event, NULL, CLOCK_MONOTONIC, o->timeout_usec, 0,
                                               on_timeout, &f);
        if (r >= 0 && f.tty)
                r = sd_event_add_time_relative(f.event, NULL, CLOCK_MONOTONIC, 0, 0, on_progress,
                                               &f);
        if (r >= 0)
                r = follow_read(&f);
        if (r >= 0)
                r = sd_event_loop(f.event);
        if (r >= 0)
                r = f.error;
        progress_clear(&f);
        fflush(stdout);
        /* The job ended and no run took the request (the unit failed first): it was for this job.
         */
        if (f.job_result && state_dir)
                (void)state_take_force_request(state_dir);
        if (r < 0) {
                fprintf(stderr, "Failed to follow %s: %s\n", f.unit,
                        r == -E2BIG ? "too many journal entries" : strerror(-r));
                code = EX_OSERR;
                goto finish;
        }
        if (verdicts_seen(&f)) {
                outcome = VERIFY_VERDICT;
                code = runs_exit_code(f.runs, f.n_runs);
                goto finish;
        }
        if (f.interrupted || f.timed_out) {
                char limit[32];

                ctl_format_duration(o->timeout_usec, limit, sizeof(limit));
                fprintf(stderr,
                        "%s%s; the verification goes on in %s (journalctl -fu %s; its verdict: nautobot-verifyctl show --last)\n",
                        f.interrupted ? "Stopped waiting" : "No verdict within --timeout=",
                        f.interrupted ? "" : limit, f.unit, f.unit);
                outcome = f.interrupted ? VERIFY_INTERRUPTED : VERIFY_TIMED_OUT;
                code = CTL_EXIT_INCOMPLETE;
                goto finish;
        }
        if (streq_ptr(f.job_result, "done") && f.n_runs == 0) {
                /* --if-changed found nothing to verify: its last verdict passed (else it rechecks).
                 */
                if (!o->json)
                        printf("%s finished without verifying: nothing changed since the last verification\n",
                               f.unit);
                outcome = VERIFY_NOTHING_CHANGED;
                code = 0;
                goto finish;
        }
        {
                _cleanup_free_ char *why = unit_failure(&f);

                fprintf(stderr, "%s ended without a verdict (%s); see journalctl -u %s\n", f.unit,
                        why ?: "?", f.unit);
        }
        outcome = VERIFY_NO_VERDICT;
        code = CTL_EXIT_INCOMPLETE;
        goto finish;
oom:
        fprintf(stderr, "Out of memory\n");
        code = EX_OSERR;
finish:
        if (o->json && outcome >= 0) {
                VerifyReport v = {
                        .unit = f.unit,
                        .job = f.job,
                        .forced = !running,
                        .joined = running,
                        .waited = o->wait,
                        .outcome = outcome,
                        .job_result = f.job_result,
                        /* The unit's: job_result and the run say it (systemd may have
                         * unloaded the unit, and its ExecMainStatus, by now). */
                        .exit_status = -1,
                        .runs = f.runs,
                        .n_runs = f.n_runs,
                        .ignored_entries = f.trust.ignored,
                };

                if (print_report(o, &v) != 0)
                        code = EX_OSERR;
        }
        run_trust_print_ignored(&f.trust);
        /* A request the unit was never started for would force some later run. */
        if (requested)
                (void)state_take_force_request(state_dir);
        follow_done(&f);
        return code;
}

/* ---- without systemd ---- */

/* The daemon as a child (--json), then its run read back from the journal. */
typedef struct Once {
        const CtlOptions *o;
        sd_event *event;
        Child *child;
        pid_t pid;
        uint64_t start_realtime;
        bool exited;
        bool timed_out;   /* child.c stopped it at --timeout */
        bool interrupted; /* we stopped it: SIGINT or SIGTERM */
        int exit_status;  /* -1: a signal ended it */
        int signal;
        sd_journal *journal;
        RunTrust trust; /* only the child's entries */
        sd_event_source *journal_source;
        sd_event_source *journal_timer;
        sd_event_source *journal_settle; /* a run found: another app's may follow shortly */
        int journal_error;               /* why no run was read: a negative errno, or 0 */
        Run *runs[RUNS_MAX];
        size_t n_runs;
} Once;

static void once_done(Once *x)
{
        for (size_t i = 0; i < x->n_runs; i++)
                run_free(x->runs[i]);
        sd_event_source_disable_unref(x->journal_settle);
        sd_event_source_disable_unref(x->journal_source);
        sd_event_source_disable_unref(x->journal_timer);
        if (x->journal)
                sd_journal_close(x->journal);
        child_free(x->child);
        sd_event_unref(x->event);
}

/* The child's runs (one per app): 1 when more are read than before; 0: none new; < 0: an error. */
static int once_find_runs(Once *x)
{
        sd_id128_t ids[RUNS_MAX];
        size_t n;
        int r;

        r = run_find_by_pid(x->journal, &x->trust, x->pid, x->start_realtime, ids, RUNS_MAX, &n);
        if (r == -ENOENT || (r >= 0 && n <= x->n_runs))
                return 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < x->n_runs; i++)
                x->runs[i] = run_free(x->runs[i]);
        x->n_runs = 0;
        for (size_t i = 0; i < n; i++) {
                r = run_load(x->journal, &x->trust, ids[i], &x->runs[x->n_runs]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                x->n_runs++;
        }
        return x->n_runs > 0 ? 1 : 0;
}

static int on_once_settled(sd_event_source *s, uint64_t usec, void *userdata);

/* Runs found: wait a moment more for the other apps' (their summaries came together). */
static int once_found(Once *x)
{
        if (x->journal_settle)
                return sd_event_source_set_time_relative(x->journal_settle, JOURNAL_SETTLE_USEC);
        return sd_event_add_time_relative(x->event, &x->journal_settle, CLOCK_MONOTONIC,
                                          JOURNAL_SETTLE_USEC, 0, on_once_settled, x);
}

static void once_stop(Once *x, int r)
{
        x->journal_error = r < 0 ? r : 0;
        (void)sd_event_exit(x->event, 0);
}

static int on_once_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Once *x = userdata;
        int r;

        (void)s, (void)fd, (void)revents;
        r = sd_journal_process(x->journal);
        if (r >= 0)
                r = once_find_runs(x);
        if (r > 0)
                r = once_found(x);
        if (r < 0)
                once_stop(x, r);
        return 0;
}

static int on_once_settled(sd_event_source *s, uint64_t usec, void *userdata)
{
        Once *x = userdata;
        int r;

        (void)s, (void)usec;
        (void)sd_journal_process(x->journal);
        r = once_find_runs(x);
        once_stop(x, r < 0 ? r : 0);
        return 0;
}

static int on_once_journal_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Once *x = userdata;
        int r;

        (void)s, (void)usec;
        /* One last look, for journal files where inotify does not tell. */
        (void)sd_journal_process(x->journal);
        r = once_find_runs(x);
        once_stop(x, r < 0 ? r : 0);
        return 0;
}

/* The child's run in the journal, looked for now and, when it reached a verdict, a while yet. */
static int once_read_journal(Once *x)
{
        /* 0, 1 and 2 are its verdicts: a summary was sent; other codes wrote no run. */
        bool wait = x->exit_status >= 0 && x->exit_status <= CTL_EXIT_INCOMPLETE;
        int r, fd, events;

        r = run_journal_open(x->o, &x->journal);
        if (r < 0)
                return r;
        if (wait) {
                /* Watched before the first look, so that what lands after it is not missed. */
                fd = sd_journal_get_fd(x->journal);
                events = sd_journal_get_events(x->journal);
                if (fd < 0 || events < 0)
                        return fd < 0 ? fd : events;
                r = sd_event_add_io(x->event, &x->journal_source, fd, (uint32_t)events,
                                    on_once_journal, x);
                if (r >= 0)
                        r = sd_event_add_time_relative(x->event, &x->journal_timer, CLOCK_MONOTONIC,
                                                       JOURNAL_WAIT_USEC, 0,
                                                       on_once_journal_timeout, x);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(x->journal_source, "journal");
                (void)sd_event_source_set_description(x->journal_timer, "journal-wait");
        }
        r = once_find_runs(x);
        if (r > 0 && wait)
                r = once_found(x);
        else if (r >= 0 && !wait)
                once_stop(x, 0);
        if (r < 0)
                once_stop(x, r);
        return 0;
}

static void on_once_exit(Child *c, const ChildOutcome *out, void *userdata)
{
        Once *x = userdata;
        int r;

        (void)c;
        x->exited = true;
        x->timed_out = out->timed_out;
        x->signal = out->signal;
        x->exit_status = out->signal ? -1 : out->exit_status;
        r = once_read_journal(x);
        if (r < 0)
                once_stop(x, r);
}

static int on_once_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Once *x = userdata;

        (void)s, (void)si;
        if (x->exited) {
                /* Only the journal is waited for: stop that. */
                (void)sd_event_exit(x->event, 0);
                return 0;
        }
        /* Its own process group: the terminal's Ctrl-C reaches only us. */
        x->interrupted = true;
        if (child_terminate(x->child) < 0)
                (void)kill(-x->pid, SIGKILL);
        return 0;
}

static int verify_in_process_json(const CtlOptions *o, char *const *argv)
{
        Once x = {.o = o, .exit_status = -1};
        VerifyOutcome outcome;
        sigset_t mask;
        int r, code;

        /* SIGCHLD for sd-event's child source; SIGINT and SIGTERM stop the daemon first. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_new(&x.event);
        if (r >= 0)
                r = sd_event_add_signal(x.event, NULL, SIGINT, on_once_signal, &x);
        if (r >= 0)
                r = sd_event_add_signal(x.event, NULL, SIGTERM, on_once_signal, &x);
        if (r < 0) {
                fprintf(stderr, "Cannot run %s: %s\n", o->daemon_path, strerror(-r));
                code = EX_OSERR;
                goto finish;
        }
        x.start_realtime = ctl_now_realtime();
        /* Its table goes to stderr as it comes: stdout is the document's. */
        r = child_start(x.event,
                        &(ChildOptions){.argv = argv,
                                        .envp = environ,
                                        .cwd = ".", /* a relative -c stays where it was */
                                        .timeout_usec = o->timeout_usec,
                                        .description = "nautobot-verifyd",
                                        .output_to_stderr = true},
                        on_once_exit, &x, &x.child);
        if (r < 0) {
                fprintf(stderr, "Cannot run %s: %s\n", o->daemon_path, strerror(-r));
                code = EX_OSERR;
                goto finish;
        }
        x.pid = child_pid(x.child);
        run_trust_init_pid(&x.trust, o, x.pid);
        r = sd_event_loop(x.event);
        if (r < 0) {
                fprintf(stderr, "Failed to run %s: %s\n", o->daemon_path, strerror(-r));
                code = EX_OSERR;
                goto finish;
        }

        if (x.timed_out || x.interrupted) {
                char limit[32];

                ctl_format_duration(o->timeout_usec, limit, sizeof(limit));
                fprintf(stderr, "%s%s: stopped %s (pid %d)\n",
                        x.timed_out ? "No verdict within --timeout=" : "Interrupted",
                        x.timed_out ? limit : "", o->daemon_path, (int)x.pid);
        }
        if (!x.exited)
                fprintf(stderr, "%s (pid %d) did not end\n", o->daemon_path, (int)x.pid);
        else if (x.exit_status < 0)
                fprintf(stderr, "%s (pid %d) was ended by SIG%s\n", o->daemon_path, (int)x.pid,
                        sigabbrev_np(x.signal) ?: "?");
        if (x.exited && x.n_runs == 0) {
                if (x.journal_error < 0)
                        fprintf(stderr, "Cannot read its run from the journal: %s\n",
                                strerror(-x.journal_error));
                else
                        fprintf(stderr,
                                "No run of %s (pid %d) in the journal: journald does not run here, or this account cannot read its entries\n",
                                o->daemon_path, (int)x.pid);
        }

        outcome = x.timed_out     ? VERIFY_TIMED_OUT
                  : x.interrupted ? VERIFY_INTERRUPTED
                  : x.n_runs > 0  ? VERIFY_VERDICT
                                  : VERIFY_NO_VERDICT;
        code = x.exit_status >= 0 ? x.exit_status : CTL_EXIT_INCOMPLETE;
        {
                VerifyReport v = {
                        .waited = true,
                        .outcome = outcome,
                        .exit_status = x.exit_status,
                        .runs = x.runs,
                        .n_runs = x.n_runs,
                        .ignored_entries = x.trust.ignored,
                };

                if (print_report(o, &v) != 0)
                        code = EX_OSERR;
        }
        run_trust_print_ignored(&x.trust);
finish:
        once_done(&x);
        return code;
}

static int verify_in_process(const CtlOptions *o, const char *config_path)
{
        const char *argv[8];
        size_t n = 0;

        argv[n++] = o->daemon_path;
        argv[n++] = "--once";
        argv[n++] = "-c";
        argv[n++] = config_path;
        if (o->instance) {
                argv[n++] = "--instance";
                argv[n++] = o->instance;
        }
        argv[n] = NULL;
        fprintf(stderr, "systemd is not running here: verifying in this process (%s --once)\n",
                o->daemon_path);
        fflush(stdout);
        fflush(stderr);
        /* Not a service: what the daemon would tell systemd has no one to go to. */
        (void)unsetenv("NOTIFY_SOCKET");
        if (o->json)
                return verify_in_process_json(o, (char *const *)argv);
        execv(o->daemon_path, (char *const *)argv);
        fprintf(stderr, "Cannot run %s: %s\n", o->daemon_path, strerror(errno));
        return EX_OSERR;
}

int ctl_verify(const CtlOptions *o)
{
        _cleanup_free_ char *config_path = NULL;

        /* An instance's unit reads /etc/nautobot-verifyd/NAME/; so does this, unless -c says. */
        if (o->config_given || !o->instance)
                config_path = strdup(o->config_path);
        else
                config_path =
                        strjoin_printf(DEFAULT_CONFIG_DIR "/%s/" DEFAULT_CONFIG_NAME, o->instance);
        if (!config_path) {
                fprintf(stderr, "Out of memory\n");
                return EX_OSERR;
        }
        if (sd_booted() <= 0)
                return verify_in_process(o, config_path);
        return verify_with_systemd(o, config_path);
}
