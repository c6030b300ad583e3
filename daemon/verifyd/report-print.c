/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The terminal sink for --once (and a run by hand): a short table per app an admin can read
 * after running the tool. The journal holds the same facts, structured.
 */
#include <inttypes.h>

#include "report.h"

static void print_app(const ReportContext *ctx, const Verify *v, FILE *f)
{
        _cleanup_free_ char *subject = report_subject(ctx);

        fprintf(f, "%s at %s: verification %s in %.1f s\n", strempty(subject), ctx->config->url,
                verdict_to_outcome(verify_verdict(v)),
                (double)verify_duration_usec(v) / USEC_PER_SEC);
        if (!ctx->version && ctx->version_error) {
                _cleanup_free_ char *e = str_escape_control(ctx->version_error);

                fprintf(f, "  version: %s\n", e ?: "(out of memory)");
        }
        for (size_t i = 0; i < verify_n_results(v); i++) {
                const CheckResult *r = verify_result(v, i);
                /* Reasons and findings quote the server (login errors, "detail", exception
                 * lines): never let its bytes drive the terminal. */
                _cleanup_free_ char *reason = str_escape_control(strempty(r->reason));

                fprintf(f, "  %-11s %-8s %5.1f s  %s\n", r->check, check_state_to_string(r->state),
                        (double)r->duration_usec / USEC_PER_SEC, reason ?: "(out of memory)");
                STRV_FOREACH (x, r->findings) {
                        _cleanup_free_ char *note = str_escape_control(*x);

                        fprintf(f, "  %-11s %-8s %7s  note: %s\n", "", "", "",
                                note ?: "(out of memory)");
                }
        }
        fflush(f);
}

static int print_app_done(const ReportRunInfo *info, const ReportRun *app)
{
        (void)info;
        print_app(app->ctx, app->verify, stdout);
        return 0;
}

const ReportSink report_sink_print = {
        .name = "print",
        .app_done = print_app_done,
};
