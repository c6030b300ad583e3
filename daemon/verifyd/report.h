/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reporters: where a verification's results go. Each output is one ReportSink, a table of what
 * it does at the run's four events (report-journal.c, report-notify.c, report-print.c,
 * report-prometheus.c); the manager calls each event once for every sink the configuration
 * enables (report.c). The journal gets one structured entry per check and one summary;
 * sd_notify gets READY/STATUS/STOPPING for systemctl status; a terminal gets a readable table;
 * node_exporter a textfile. Besides the events, the journal tells of changes, state problems
 * and upgrades (report_journal_*()), and report_notify() is the manager's own sd_notify().
 */
#pragma once

#include <stdio.h>
#include <systemd/sd-id128.h>

#include "config.h"
#include "result.h"
#include "verdict.h"
#include "verify.h"
#include "version.h"

/* Stable MESSAGE_IDs, one per outcome; documented in README.md. */
#define NVD_MESSAGE_CHECK_PASS                                                                     \
        SD_ID128_MAKE(76, e5, e1, 8b, 57, a5, 45, b8, b1, ba, 8e, ff, ea, e5, a4, 70)
#define NVD_MESSAGE_CHECK_FAIL                                                                     \
        SD_ID128_MAKE(61, fc, f2, 11, 4e, b2, 4d, 36, 8a, 6b, 9c, cb, 3f, 96, 50, 55)
#define NVD_MESSAGE_CHECK_ERROR                                                                    \
        SD_ID128_MAKE(ae, 1f, 70, 12, cc, 0b, 4c, de, 95, 50, ee, ed, 7b, 82, 12, 94)
#define NVD_MESSAGE_CHECK_SKIPPED                                                                  \
        SD_ID128_MAKE(24, f4, 1c, f2, 9c, 5a, 4b, 81, a7, f6, f7, 5f, 93, be, f3, b5)
#define NVD_MESSAGE_SUMMARY_PASS                                                                   \
        SD_ID128_MAKE(11, 6f, 2d, c9, 05, 45, 4e, 4a, 81, 12, 2c, e5, 40, 29, ca, c4)
#define NVD_MESSAGE_SUMMARY_FAIL                                                                   \
        SD_ID128_MAKE(23, 3c, bd, b9, 8f, 46, 4f, 7a, bc, 7a, 79, 7f, 4f, 9a, bc, f6)
#define NVD_MESSAGE_SUMMARY_INCOMPLETE                                                             \
        SD_ID128_MAKE(6b, f0, 94, fc, 90, 5a, 4b, a4, a4, 96, 79, 8b, 36, 49, 24, 80)

#define NVD_MESSAGE_VERSION_CHANGED                                                                \
        SD_ID128_MAKE(e0, 0c, 07, 3c, 9a, 14, 44, 5a, 83, 8e, 37, 84, f6, b6, 1c, 93)
#define NVD_MESSAGE_ROLLBACK                                                                       \
        SD_ID128_MAKE(f4, 79, 02, 7b, 04, 33, 43, 2e, ac, a7, 1d, ef, d0, f0, 38, df)
#define NVD_MESSAGE_REMOVED                                                                        \
        SD_ID128_MAKE(c0, 99, 81, b1, d5, 17, 4c, 06, 8f, a0, 73, dc, da, f5, 33, 17)
#define NVD_MESSAGE_UNCHANGED                                                                      \
        SD_ID128_MAKE(94, 29, 4b, b4, 4c, d6, 48, 0f, a2, f7, fe, 3a, b8, 7c, f1, 4b)
#define NVD_MESSAGE_STATE_PROBLEM                                                                  \
        SD_ID128_MAKE(55, 70, 25, c7, 17, f2, 4b, 91, 9b, 6a, af, 24, 45, 38, bb, f7)
#define NVD_MESSAGE_RELOAD_FAILED                                                                  \
        SD_ID128_MAKE(b9, e8, f8, 2e, 8c, ef, 48, 80, 8a, 64, 2a, 1f, b3, c0, e0, 38)
/* An upgrade in progress: the guide's steps still to do, each one done, the deadline. */
#define NVD_MESSAGE_UPGRADE_PENDING                                                                \
        SD_ID128_MAKE(a5, 1c, 6c, 88, 8a, 33, 48, 65, 95, b0, 3e, 2d, fe, 2e, 37, ab)
#define NVD_MESSAGE_STEP_DONE                                                                      \
        SD_ID128_MAKE(63, 76, 32, 07, fc, 30, 47, 7f, 8b, 34, d5, 5f, b5, d1, 8b, e6)
#define NVD_MESSAGE_UPGRADE_DEADLINE                                                               \
        SD_ID128_MAKE(d3, 43, 89, b5, b5, b8, 4f, 76, b4, bb, 88, 5a, 33, a7, ad, 2d)

/* A version change of a watched package, and what set it off. */
typedef struct Change {
        char *package;
        char *old_version; /* NULL: none recorded */
        char *new_version; /* NULL: not installed now */
        VersionChange kind;
        char *detail; /* problem or "editable install", or NULL */
        /* Followed to a web server restarted and still booting: how long the run's HTTP
         * requests wait for it to answer (upgrade.h); 0: not. */
        uint64_t web_wait_usec;
} Change;

typedef struct ReportContext {
        const Config *config;
        const char *version;       /* NULL when unknown */
        const char *version_error; /* why unknown */
        sd_id128_t run_id;
        const Change *trigger; /* the change that started this run, or NULL */
} ReportContext;

/*
 * One entry per detected change (upgrade, rollback, reinstall, removal); a
 * rollback says what the package's profile names as dropped below a migration.
 */
int report_journal_change(const Change *c, const Config *config);
/*
 * A rollback's entry once the app was verified on the older release: with the database
 * check's answer ('v'): migrated back first, or the recovery and what it drops, counted.
 */
int report_journal_rollback(const Change *c, const Config *config, const Verify *v);
/* Activated mode found nothing to do. */
int report_journal_unchanged(const char *package, const char *version, const char *verdict);
/* A state file was corrupt (and moved aside) or could not be written. */
int report_journal_state_problem(const char *package, const char *problem);
int report_journal_reload_failed(const char *config_path, const char *error);

/*
 * An upgrade in progress (see upgrade.h): it waits for the steps named in
 * 'pending'; one step ('step', e.g. "migrate") is done, with the check's
 * reason; the deadline passed with 'pending' still to do.
 */
int report_journal_upgrade_pending(const Change *c, const char *pending, uint64_t deadline_usec);
int report_journal_step_done(const Change *c, const char *step, const char *reason);
int report_journal_upgrade_deadline(const Change *c, const char *pending, uint64_t deadline_usec);

char *change_describe(const Change *c); /* "upgrade 2026.5.12 → 2026.5.17" */
/* "nautobot-contract-models 2026.5.17" or "... (version unknown)" */
char *report_subject(const ReportContext *ctx);

/* sd_notify() with printf formatting. A no-op when $NOTIFY_SOCKET is unset. */
void report_notify(const char *fmt, ...) _printf_(1, 2);

/* One app's verification in a run, as the sinks see it. */
typedef struct ReportRun {
        const Config *config;     /* the app's */
        const ReportContext *ctx; /* set once the app's checks start */
        const Verify *verify;     /* NULL until then */
} ReportRun;

/* The run as a whole: its apps, in the order they are reported, and what started it. */
typedef struct ReportRunInfo {
        const ReportRun *runs;
        size_t n_runs;
        unsigned n_unverifiable; /* apps found but not verified (their configuration failed) */
        const Change *trigger;   /* what started the run, or NULL */
        bool *ready_sent;        /* READY=1 went to systemd: the notify sink sends it first */
        bool aborted;            /* stopped by a signal: nothing was verified */
        Verdict verdict;         /* over every app, so far */
} ReportRunInfo;

/*
 * One output. Every member may be NULL; those that return int return a negative errno when
 * the output failed (the manager says so once), and the others say their own failures.
 */
typedef struct ReportSink {
        const char *name;
        /* The run's checks are under way (one app: with its checks; several: as they start). */
        void (*run_started)(const ReportRunInfo *info);
        /* One of 'app''s checks finished with 'r'. */
        int (*check_done)(const ReportRunInfo *info, const ReportRun *app, const CheckResult *r);
        /* Every check of 'app' finished. */
        int (*app_done)(const ReportRunInfo *info, const ReportRun *app);
        /* Every app's run ended (or none could start): info->verdict is the run's. */
        void (*run_done)(const ReportRunInfo *info);
} ReportSink;

extern const ReportSink report_sink_journal;
extern const ReportSink report_sink_notify;
extern const ReportSink report_sink_print;
extern const ReportSink report_sink_prometheus;

/* At most every sink, and the NULL that ends the list. */
#define REPORT_SINKS_MAX 5

/*
 * The sinks 'c' enables, in the order they are told: journal, terminal (when 'print'),
 * Prometheus (when [report] prometheus-textfile= is set), notify last, so that systemctl
 * status says a verdict only once the other outputs hold it. NULL-terminated.
 */
void report_sinks_pick(const ReportSink *ret[static REPORT_SINKS_MAX], const Config *c, bool print);

/* Each event, told to every sink of the NULL-terminated 'sinks'; the first failure is returned. */
void report_run_started(const ReportSink *const *sinks, const ReportRunInfo *info);
int report_check_done(const ReportSink *const *sinks, const ReportRunInfo *info,
                      const ReportRun *app, const CheckResult *r);
int report_app_done(const ReportSink *const *sinks, const ReportRunInfo *info,
                    const ReportRun *app);
void report_run_done(const ReportSink *const *sinks, const ReportRunInfo *info);

/*
 * The run's verdicts, checks, durations and findings, one series per app, as
 * a node_exporter textfile-collector file (report-prometheus.c), replaced
 * atomically at 'path'. Negative errno on failure; the old file is then left
 * as it was. Every run in 'runs' has its Verify.
 */
int report_prometheus_write(const ReportRun *runs, size_t n, const char *path);
