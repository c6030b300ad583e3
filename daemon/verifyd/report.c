/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The report sinks as one list: which ones the configuration enables, each event told to each
 * of them, and the words every sink shares (a run's subject, a change). Adding an output is one
 * report-*.c file with its ReportSink and one line in report_sinks_pick().
 */
#include "report.h"

void report_sinks_pick(const ReportSink *ret[static REPORT_SINKS_MAX], const Config *c, bool print)
{
        size_t n = 0;

        ret[n++] = &report_sink_journal;
        if (print)
                ret[n++] = &report_sink_print;
        if (!isempty(c->prometheus_textfile))
                ret[n++] = &report_sink_prometheus;
        ret[n++] = &report_sink_notify;
        ret[n] = NULL;
}

void report_run_started(const ReportSink *const *sinks, const ReportRunInfo *info)
{
        for (; sinks && *sinks; sinks++)
                if ((*sinks)->run_started)
                        (*sinks)->run_started(info);
}

int report_check_done(const ReportSink *const *sinks, const ReportRunInfo *info,
                      const ReportRun *app, const CheckResult *r)
{
        int ret = 0;

        for (; sinks && *sinks; sinks++)
                if ((*sinks)->check_done) {
                        int q = (*sinks)->check_done(info, app, r);

                        if (q < 0 && ret == 0)
                                ret = q;
                }
        return ret;
}

int report_app_done(const ReportSink *const *sinks, const ReportRunInfo *info, const ReportRun *app)
{
        int ret = 0;

        for (; sinks && *sinks; sinks++)
                if ((*sinks)->app_done) {
                        int q = (*sinks)->app_done(info, app);

                        if (q < 0 && ret == 0)
                                ret = q;
                }
        return ret;
}

void report_run_done(const ReportSink *const *sinks, const ReportRunInfo *info)
{
        for (; sinks && *sinks; sinks++)
                if ((*sinks)->run_done)
                        (*sinks)->run_done(info);
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
