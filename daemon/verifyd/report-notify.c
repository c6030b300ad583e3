/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sd_notify sink: what "systemctl status nautobot-verifyd" shows. STATUS= says which apps
 * are verified and what is running, then the verdict in one line. report_notify() is also the
 * manager's own way to sd_notify() (READY, RELOADING, STOPPING, EXTEND_TIMEOUT_USEC).
 */
#include <ctype.h>
#include <systemd/sd-daemon.h>

#include "report.h"

void report_notify(const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        if (isempty(getenv("NOTIFY_SOCKET")))
                return;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r >= 0)
                (void)sd_notify(0, s);
}

/* "READY=1\nSTATUS=Verifying <subject> (<change>): running <what>" */
static void notify_verifying(const ReportRunInfo *info, const char *subject, const char *running)
{
        _cleanup_free_ char *what = info->trigger ? change_describe(info->trigger) : NULL;

        report_notify("%sSTATUS=Verifying %s%s%s%s: running %s",
                      *info->ready_sent ? "" : "READY=1\n", strempty(subject), what ? " (" : "",
                      strempty(what), what ? ")" : "", strempty(running));
        *info->ready_sent = true;
}

/* One app: it and its running checks. Several: which apps, in the order they are reported. */
static void notify_run_started(const ReportRunInfo *info)
{
        _cleanup_free_ char *subject = NULL, *running = NULL;

        if (info->n_runs == 1 && info->n_unverifiable == 0) {
                subject = report_subject(info->runs[0].ctx);
                running = verify_running_names(info->runs[0].verify);
        } else {
                _cleanup_strv_free_ char **l = NULL;

                for (size_t i = 0; i < info->n_runs; i++)
                        if (strv_extend(&l, info->runs[i].config->package) < 0)
                                return;
                subject = strjoin_printf("%zu apps", info->n_runs);
                running = strv_join(l, ", ");
        }
        notify_verifying(info, subject, running);
}

static int notify_check_done(const ReportRunInfo *info, const ReportRun *app, const CheckResult *r)
{
        _cleanup_free_ char *subject = NULL, *running = NULL;
        const Verify *v = app->verify;

        (void)r;
        /* Not before READY=1: systemd would take the STATUS= for the start being over. */
        if (!*info->ready_sent || verify_n_running(v) == 0)
                return 0;
        subject = report_subject(app->ctx);
        running = verify_running_names(v);
        report_notify("STATUS=Verifying %s: %zu of %zu checks done, running %s", strempty(subject),
                      verify_n_results(v) - verify_n_running(v), verify_n_results(v),
                      strempty(running));
        return 0;
}

/* One app's verdict, with every check's state. */
static void notify_verdict(const ReportContext *ctx, const Verify *v)
{
        _cleanup_free_ char *subject = report_subject(ctx);
        Buf b;

        buf_init(&b, 1024);
        for (size_t i = 0; i < verify_n_results(v); i++) {
                const CheckResult *r = verify_result(v, i);

                buf_printf(&b, "%s%s %s", i > 0 ? ", " : "", r->check,
                           check_state_to_string(r->state));
        }
        report_notify("STATUS=%s: %s (%s); details: journalctl -t nautobot-verifyd",
                      strempty(subject), verdict_to_status(verify_verdict(v)), strempty(b.data));
        buf_done(&b);
}

/* "2 apps: nautobot-contract-models 2026.5.17 passed, nautobot-dns-models 2.3.0 FAILED (jobs)" */
static char *runs_describe(const ReportRunInfo *info)
{
        Buf b;

        buf_init(&b, 4096);
        buf_printf(&b, "%zu apps: ", info->n_runs);
        for (size_t i = 0; i < info->n_runs; i++) {
                const ReportRun *run = &info->runs[i];
                _cleanup_free_ char *subject = report_subject(run->ctx);
                CheckState st = verify_overall(run->verify);
                bool first = true;

                buf_printf(&b, "%s%s %s", i > 0 ? ", " : "", strempty(subject),
                           check_state_to_outcome(st));
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
        if (info->n_unverifiable > 0)
                buf_printf(&b, "; %u app(s) could not be verified", info->n_unverifiable);
        return b.data; /* NULL when out of memory */
}

static void notify_run_done(const ReportRunInfo *info)
{
        _cleanup_free_ char *what = NULL;
        const char *status = verdict_to_status(info->verdict);

        if (info->n_runs == 1 && info->n_unverifiable == 0) {
                notify_verdict(info->runs[0].ctx, info->runs[0].verify);
                return;
        }
        what = runs_describe(info);
        /* The verdict's words, as the first of the line: "Verification FAILED". */
        report_notify("STATUS=%c%s: %s; details: journalctl -t nautobot-verifyd",
                      toupper((unsigned char)status[0]), status + 1, strempty(what));
}

const ReportSink report_sink_notify = {
        .name = "notify",
        .run_started = notify_run_started,
        .check_done = notify_check_done,
        .app_done = NULL,
        .run_done = notify_run_done,
};
