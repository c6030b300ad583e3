/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The terminal reporter for --once: a short table an admin can read after
 * running the tool by hand. The journal holds the same facts, structured.
 */
#include <inttypes.h>

#include "report.h"

static const char *const verdict_table[_CHECK_STATE_MAX] = {
        [CHECK_PASS] = "passed",
        [CHECK_FAIL] = "FAILED",
        [CHECK_ERROR] = "could not run",
        [CHECK_SKIPPED] = "skipped",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(verdict, CheckState);

int verdict_exit_code(CheckState s)
{
        switch (s) {
        case CHECK_PASS:
                return 0;
        case CHECK_FAIL:
                return 1;
        default:
                return 2; /* incomplete: some check could not run or was skipped */
        }
}

char *change_describe(const Change *c)
{
        switch (c->kind) {
        case VERSION_INSTALLED:
                return strjoin_printf("first verification of %s", strempty(c->new_version));
        case VERSION_REMOVED:
                return strjoin_printf("uninstalled (was %s)", c->old_version ?: "unknown");
        case VERSION_REINSTALLED:
                return strjoin_printf("reinstall of %s", strempty(c->new_version));
        case VERSION_RECHECK:
                return strjoin_printf("re-verification of %s", strempty(c->new_version));
        case VERSION_DOWNGRADED:
                return strjoin_printf("downgrade %s \u2192 %s", strempty(c->old_version),
                                      strempty(c->new_version));
        default:
                return strjoin_printf("%s %s \u2192 %s", version_change_to_string(c->kind),
                                      strempty(c->old_version), strempty(c->new_version));
        }
}

char *report_subject(const ReportContext *ctx)
{
        if (ctx->version)
                return strjoin_printf("%s %s", ctx->config->package, ctx->version);
        return strjoin_printf("%s (version unknown)", ctx->config->package);
}

void report_print(const ReportContext *ctx, const Verify *v, FILE *f)
{
        _cleanup_free_ char *subject = report_subject(ctx);
        CheckState overall = verify_overall(v);

        fprintf(f, "%s at %s: verification %s in %.1f s\n", strempty(subject), ctx->config->url,
                overall == CHECK_PASS   ? "passed"
                : overall == CHECK_FAIL ? "FAILED"
                                        : "incomplete",
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
