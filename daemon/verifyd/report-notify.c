/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sd_notify reporter: what "systemctl status nautobot-verifyd" shows.
 * STATUS= says what is running, then the verdict in one line.
 */
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

void report_notify_progress(const ReportContext *ctx, const Verify *v)
{
        _cleanup_free_ char *subject = report_subject(ctx), *running = verify_running_names(v);

        if (verify_n_running(v) == 0)
                return;
        report_notify("STATUS=Verifying %s: %zu of %zu checks done, running %s", strempty(subject),
                      verify_n_results(v) - verify_n_running(v), verify_n_results(v),
                      strempty(running));
}

void report_notify_verdict(const ReportContext *ctx, const Verify *v)
{
        _cleanup_free_ char *subject = report_subject(ctx);
        CheckState overall = verify_overall(v);
        Buf b;

        buf_init(&b, 1024);
        for (size_t i = 0; i < verify_n_results(v); i++) {
                const CheckResult *r = verify_result(v, i);

                buf_printf(&b, "%s%s %s", i > 0 ? ", " : "", r->check,
                           check_state_to_string(r->state));
        }
        report_notify("STATUS=%s: %s (%s); details: journalctl -t nautobot-verifyd",
                      strempty(subject),
                      overall == CHECK_PASS   ? "verified, all checks passed"
                      : overall == CHECK_FAIL ? "verification FAILED"
                                              : "verification incomplete",
                      strempty(b.data));
        buf_done(&b);
}
