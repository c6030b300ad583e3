/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Prometheus sink: after each finished run, the verdict as a file for
 * node_exporter's textfile collector ([report] prometheus-textfile=), in the
 * text exposition format. node_exporter reads the file whenever it is scraped,
 * so it is replaced atomically: written to a temporary file in the same
 * directory (a name not ending in .prom, which the collector ignores),
 * fsynced, renamed over the old one, and the directory fsynced.
 *
 * Every series carries nautobot_instance= (not instance=, which Prometheus
 * sets to the scrape target and would rename to exported_instance) and
 * package=. Results are state sets, as node_exporter's own
 * node_systemd_unit_state: one series per possible state, 1 for the current
 * one, so "== 1" selects and alerts need no magic numbers.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "chase.h"
#include "report.h"

/* A label value as the exposition format wants it: \, " and newline escaped. */
static void put_label_value(FILE *f, const char *s)
{
        for (; s && *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

static void put_family(FILE *f, const char *name, const char *help)
{
        /* Every family is a gauge: each value is what the last run saw, not a running total. */
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* "name{nautobot_instance="...",package="..."" without the closing brace. */
static void put_series(FILE *f, const char *name, const ReportContext *ctx)
{
        fprintf(f, "%s{nautobot_instance=\"", name);
        put_label_value(f, ctx->config->instance);
        fputs("\",package=\"", f);
        put_label_value(f, ctx->config->package);
        fputc('"', f);
}

static void put_check_series(FILE *f, const char *name, const ReportContext *ctx,
                             const CheckResult *r)
{
        put_series(f, name, ctx);
        fputs(",check=\"", f);
        put_label_value(f, r->check);
        fputc('"', f);
}

/* Checks that [checks] enable= turned off have no series: they are not part of the run. */
static bool check_reported(const CheckResult *r)
{
        return r && (!r->disabled || r->not_applicable);
}

static void put_seconds(FILE *f, uint64_t usec)
{
        fprintf(f, " %" PRIu64 ".%06" PRIu64 "\n", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
}

/* Each family once, with one series per app of the run. */
static void write_metrics(FILE *f, const ReportRun *runs, size_t n, uint64_t now_usec)
{
        put_family(
                f, "nautobot_verifyd_verification_result",
                "Verdict of the last verification: 1 for the result it had (pass, fail, incomplete), 0 for the others.");
        for (size_t k = 0; k < n; k++)
                for (Verdict i = 0; i < _VERDICT_MAX; i++) {
                        put_series(f, "nautobot_verifyd_verification_result", runs[k].ctx);
                        fprintf(f, ",result=\"%s\"} %d\n", verdict_to_string(i),
                                verify_verdict(runs[k].verify) == i);
                }

        put_family(f, "nautobot_verifyd_last_run_timestamp_seconds",
                   "When the last verification finished, in seconds since the Unix epoch.");
        for (size_t k = 0; k < n; k++) {
                put_series(f, "nautobot_verifyd_last_run_timestamp_seconds", runs[k].ctx);
                fputc('}', f);
                put_seconds(f, now_usec);
        }

        put_family(f, "nautobot_verifyd_run_duration_seconds",
                   "How long the last verification took, in seconds.");
        for (size_t k = 0; k < n; k++) {
                put_series(f, "nautobot_verifyd_run_duration_seconds", runs[k].ctx);
                fputc('}', f);
                put_seconds(f, verify_duration_usec(runs[k].verify));
        }

        put_family(
                f, "nautobot_verifyd_package_info",
                "The version of the app the last verification verified (\"unknown\" when it could not be read); always 1.");
        for (size_t k = 0; k < n; k++) {
                put_series(f, "nautobot_verifyd_package_info", runs[k].ctx);
                fputs(",version=\"", f);
                put_label_value(f, runs[k].ctx->version ?: "unknown");
                fputs("\"} 1\n", f);
        }

        put_family(
                f, "nautobot_verifyd_check_result",
                "Result of each check in the last verification: 1 for the result it had (pass, fail, error: could not run, skipped), 0 for the others.");
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < verify_n_results(runs[k].verify); i++) {
                        const CheckResult *r = verify_result(runs[k].verify, i);

                        if (!check_reported(r))
                                continue;
                        for (CheckState s = 0; s < _CHECK_STATE_MAX; s++) {
                                put_check_series(f, "nautobot_verifyd_check_result", runs[k].ctx,
                                                 r);
                                fprintf(f, ",result=\"%s\"} %d\n", check_state_to_string(s),
                                        r->state == s);
                        }
                }

        put_family(f, "nautobot_verifyd_check_duration_seconds",
                   "How long each check of the last verification took, in seconds.");
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < verify_n_results(runs[k].verify); i++) {
                        const CheckResult *r = verify_result(runs[k].verify, i);

                        if (!check_reported(r))
                                continue;
                        put_check_series(f, "nautobot_verifyd_check_duration_seconds", runs[k].ctx,
                                         r);
                        fputc('}', f);
                        put_seconds(f, r->duration_usec);
                }

        put_family(
                f, "nautobot_verifyd_check_findings",
                "Findings (facts worth a look that do not change the result) of each check in the last verification.");
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < verify_n_results(runs[k].verify); i++) {
                        const CheckResult *r = verify_result(runs[k].verify, i);

                        if (!check_reported(r))
                                continue;
                        put_check_series(f, "nautobot_verifyd_check_findings", runs[k].ctx, r);
                        fprintf(f, "} %zu\n", strv_length(r->findings));
                }
}

int report_prometheus_write(const ReportRun *runs, size_t n, const char *path)
{
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int dfd = -1;
        struct timespec ts;
        const char *slash, *name;
        uint64_t rnd = 0;
        FILE *f;
        int fd, r;

        slash = strrchr(path, '/');
        if (!slash || !slash[1])
                return -EINVAL; /* the configuration allows absolute file paths only */
        name = slash + 1;
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        tmp = strjoin_printf(".%s.tmp-%016llx", name, (unsigned long long)rnd);
        if (!dir || !tmp)
                return -ENOMEM;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;

        /*
         * One descriptor of the directory for everything. Root (user=root) only
         * writes where no other account can (chase.h); any other account may
         * follow links, since it can only write where it could anyway.
         */
        if (geteuid() == 0)
                r = chase_open_strict(dir, O_RDONLY | O_DIRECTORY, &dfd, NULL);
        else
                r = (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ? -errno : 0;
        if (r < 0)
                return r;
        /* node_exporter runs as its own user: it must be able to read the file. */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0) {
                r = -errno;
                (void)close(fd);
                goto fail;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                (void)close(fd);
                goto fail;
        }
        write_metrics(f, runs, n, (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000);
        r = fflush(f) == 0 && !ferror(f) ? 0 : (errno ? -errno : -EIO);
        if (r >= 0 && fsync(fileno(f)) < 0)
                r = -errno;
        if (fclose(f) != 0 && r >= 0)
                r = errno ? -errno : -EIO;
        if (r < 0)
                goto fail;
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                goto fail;
        }
        return fsync(dfd) < 0 ? -errno : 0;
fail:
        (void)unlinkat(dfd, tmp, 0);
        return r;
}

/* After a run that verified something; a failure is said on stderr, never fatal. */
static void prometheus_run_done(const ReportRunInfo *info)
{
        ReportRun runs[info->n_runs ?: 1];
        const char *path;
        size_t n = 0;
        int r;

        /* An aborted run verified nothing: as the state, node_exporter shows the last finished
         * runs. */
        if (info->aborted)
                return;
        for (size_t i = 0; i < info->n_runs; i++)
                if (info->runs[i].verify)
                        runs[n++] = info->runs[i];
        path = n > 0 ? runs[0].ctx->config->prometheus_textfile : NULL;
        if (isempty(path))
                return;
        r = report_prometheus_write(runs, n, path);
        if (r < 0)
                log_error("Failed to write the Prometheus textfile '%s': %s\n", path, strerror(-r));
}

const ReportSink report_sink_prometheus = {
        .name = "prometheus",
        .run_done = prometheus_run_done,
};
