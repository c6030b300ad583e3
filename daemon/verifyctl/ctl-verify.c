/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl verify: starts one verification. This file owns the
 * command, what both ways of verifying share (the configuration's state
 * directory, the exit code over several runs, the --json document) and the way
 * without systemd; ctl-verify-bus.c owns the way with systemd (a one-shot
 * request in the state directory, the check unit started over sd-bus and
 * followed on the journal).
 * Without systemd it runs the daemon's --once in this process (exec); with
 * --json as a child instead (lib/sys/child.c: its output goes to stderr), whose
 * run it then reads back from the journal by its _PID. --json prints one
 * document at the end, nothing else on stdout.
 */
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "ctl-verify.h"

#define JOURNAL_WAIT_USEC (10 * USEC_PER_SEC) /* without systemd: for journald to store the run */
#define JOURNAL_SETTLE_USEC                                                                        \
        (500 * USEC_PER_MSEC) /* without systemd: another app's run may follow */
#define DEFAULT_STATE_DIR "/var/lib/nautobot-verifyd"

static const char *const verify_outcome_table[_VERIFY_OUTCOME_MAX] = {
        [VERIFY_STARTED] = "started",
        [VERIFY_VERDICT] = "verdict",
        [VERIFY_NOTHING_CHANGED] = "nothing-changed",
        [VERIFY_TIMED_OUT] = "timed-out",
        [VERIFY_INTERRUPTED] = "interrupted",
        [VERIFY_NO_VERDICT] = "no-verdict",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(verify_outcome, VerifyOutcome);

/* The daemon's exit code over several runs (one per app): fail wins, then incomplete. */
int verify_runs_exit_code(Run *const *runs, size_t n)
{
        int code = CTL_EXIT_PASS;

        for (size_t i = 0; i < n; i++) {
                int c = run_exit_code(runs[i]);

                if (c == CTL_EXIT_FAIL || (c != CTL_EXIT_PASS && code == CTL_EXIT_PASS))
                        code = c;
        }
        return code;
}

int verify_print_report(const CtlOptions *o, const VerifyReport *v)
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

/* The configuration's instance state directory, where the request goes. */
int verify_state_dir(const CtlOptions *o, const char *config_path, char **ret)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        /* The state directory is known even when the checks' keys are not all valid. */
        r = config_load(config_path, o->instance,
                        CONFIG_LOAD_REFUSED_OK | (o->config_given ? 0 : CONFIG_LOAD_MISSING_OK), &c,
                        &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(stderr, "Cannot read the configuration: %s\n", error ?: strerror(-r));
                return -EINVAL;
        }
        if (!c->instance_state_directory) {
                const char *sd = c->state_directory ?: DEFAULT_STATE_DIR;

                *ret = strjoin_printf("%s/%s", sd, o->instance ?: "default");
        } else
                *ret = strdup(c->instance_state_directory);
        return *ret ? 0 : -ENOMEM;
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

/*
 * The journal settled after the run, or the wait for it ended: one last look
 * (also for journal files where inotify does not tell).
 */
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
                                                       JOURNAL_WAIT_USEC, 0, on_once_settled, x);
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

                if (verify_print_report(o, &v) != 0)
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

        /* An instance's unit reads its own (config_default_path()); so does this, unless -c says.
         */
        if (o->config_given || !o->instance)
                config_path = strdup(o->config_path);
        else
                config_path = config_default_path(o->instance);
        if (!config_path) {
                fprintf(stderr, "Out of memory\n");
                return EX_OSERR;
        }
        if (sd_booted() <= 0)
                return verify_in_process(o, config_path);
        return verify_with_systemd(o, config_path);
}
