/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyd: verifies a Nautobot server after an app upgrade and
 * reports to the journal and sd_notify. This file owns the command line, the
 * event loop, signals and the exit code; lib/ owns the checks.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sysexits.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "report.h"
#include "verify.h"

#define DEFAULT_CONFIG "/etc/nautobot-verifyd/nautobot-verifyd.conf"

typedef struct Manager {
        sd_event *event;
        Config *config;
        Verify *verify;
        ReportContext report;
        bool print;
        bool started; /* READY=1 sent: progress STATUS= may follow */
        bool journal_failed;
        int exit_code;
} Manager;

static void help(void)
{
        printf("Usage: nautobot-verifyd [OPTIONS] --once\n"
               "\n"
               "Verifies a Nautobot server after an app upgrade: system check, migration check,\n"
               "Job registry and dashboard panels. Reports to the journal and sd_notify.\n"
               "\n"
               "  -c --config=PATH    configuration file (default " DEFAULT_CONFIG ")\n"
               "     --once           run every check once, report, exit\n"
               "     --check-config   validate the configuration, print it, exit\n"
               "  -q --quiet          no table on standard output\n"
               "  -h --help           this text\n"
               "     --version        the version\n"
               "\n"
               "Exit status of --once: 0 all checks passed, 1 a check failed,\n"
               "2 verification incomplete (a check could not run or was skipped),\n"
               "64 bad command line, 71 system error, 78 bad configuration.\n");
}

static void on_check_done(Verify *v, const CheckResult *r, void *userdata)
{
        Manager *m = userdata;
        int k;

        k = report_journal_check(&m->report, r);
        if (k < 0 && !m->journal_failed) {
                fprintf(stderr, "Failed to write to the journal: %s\n", strerror(-k));
                m->journal_failed = true;
        }
        if (m->started)
                report_notify_progress(&m->report, v);
}

static void on_all_done(Verify *v, void *userdata)
{
        Manager *m = userdata;
        int k;

        k = report_journal_summary(&m->report, v);
        if (k < 0 && !m->journal_failed) {
                fprintf(stderr, "Failed to write to the journal: %s\n", strerror(-k));
                m->journal_failed = true;
        }
        report_notify_verdict(&m->report, v);
        if (m->print)
                report_print(&m->report, v, stdout);
        m->exit_code = verdict_exit_code(verify_overall(v));
        (void)sd_event_exit(m->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        _cleanup_free_ char *reason = NULL;

        (void)s;
        fprintf(stderr, "Received %s, stopping the running checks.\n", sigabbrev_np((int)si->ssi_signo) ?: "signal");
        reason = strjoin_printf("interrupted by SIG%s before it finished", sigabbrev_np((int)si->ssi_signo) ?: "?");
        /* Each aborted check completes as an error; the last one reports and exits. */
        verify_abort(m->verify, reason ?: "interrupted");
        return 0;
}

static int run_once(Manager *m)
{
        static const VerifyCallbacks cb = {
                .check_done = on_check_done,
                .all_done = on_all_done,
        };
        sigset_t mask;
        int r;

        /* sd-event needs these blocked: SIGCHLD for child sources, the rest for signal sources. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&m->event);
        if (r < 0) {
                fprintf(stderr, "Failed to create the event loop: %s\n", strerror(-r));
                return EX_OSERR;
        }
        if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m)) < 0) {
                fprintf(stderr, "Failed to watch signals: %s\n", strerror(-r));
                return EX_OSERR;
        }
        r = verify_new(&m->verify, m->event, m->config);
        if (r < 0) {
                fprintf(stderr, "Failed to prepare the verification: %s\n", strerror(-r));
                return EX_OSERR;
        }
        m->report = (ReportContext){
                .config = m->config,
                .version = verify_version(m->verify),
                .version_error = verify_version_error(m->verify),
        };
        (void)sd_id128_randomize(&m->report.run_id);

        r = verify_start(m->verify, &cb, m);
        if (r < 0) {
                fprintf(stderr, "Failed to start the checks: %s\n", strerror(-r));
                return EX_OSERR;
        }
        /* Checks that were skipped completed inside verify_start(); the rest run now. */
        if (verify_n_running(m->verify) > 0)
                report_notify_started(&m->report, m->verify);
        m->started = true;

        r = sd_event_loop(m->event);
        report_notify_stopping();
        if (r < 0) {
                fprintf(stderr, "Event loop failed: %s\n", strerror(-r));
                return EX_OSERR;
        }
        return m->exit_code;
}

int main(int argc, char *argv[])
{
        enum { ARG_ONCE = 0x100, ARG_CHECK_CONFIG, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        Manager m = { .print = true };
        const char *config_path = DEFAULT_CONFIG;
        _cleanup_free_ char *error = NULL;
        bool once = false, check_config = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:qh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case ARG_ONCE:
                        once = true;
                        break;
                case ARG_CHECK_CONFIG:
                        check_config = true;
                        break;
                case 'q':
                        m.print = false;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("nautobot-verifyd %s\n", PROJECT_VERSION);
                        return 0;
                default:
                        return EX_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument '%s'; see --help.\n", argv[optind]);
                return EX_USAGE;
        }
        if (!once && !check_config) {
                fprintf(stderr, "No mode given: use --once to verify, or --check-config; see --help.\n");
                return EX_USAGE;
        }

        r = config_new(&m.config);
        if (r >= 0)
                r = config_load(m.config, config_path, &error);
        if (r >= 0)
                r = config_finalize(m.config, &error);
        if (r < 0) {
                fprintf(stderr, "Invalid configuration: %s\n", error ?: strerror(-r));
                config_free(m.config);
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        }

        if (check_config) {
                r = config_dump(m.config, stdout);
                config_free(m.config);
                return r < 0 ? EX_OSERR : 0;
        }

        r = run_once(&m);
        verify_free(m.verify);
        sd_event_unref(m.event);
        config_free(m.config);
        return r;
}
