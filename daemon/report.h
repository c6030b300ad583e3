/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reporters: where a verification's results go. The journal gets one
 * structured entry per check and one summary; sd_notify gets READY/STATUS/
 * STOPPING for systemctl status; a terminal gets a readable table.
 */
#pragma once

#include <stdio.h>
#include <systemd/sd-id128.h>

#include "config.h"
#include "result.h"
#include "verify.h"

/* Stable MESSAGE_IDs, one per outcome; documented in README.md. */
#define NVD_MESSAGE_CHECK_PASS SD_ID128_MAKE(76, e5, e1, 8b, 57, a5, 45, b8, b1, ba, 8e, ff, ea, e5, a4, 70)
#define NVD_MESSAGE_CHECK_FAIL SD_ID128_MAKE(61, fc, f2, 11, 4e, b2, 4d, 36, 8a, 6b, 9c, cb, 3f, 96, 50, 55)
#define NVD_MESSAGE_CHECK_ERROR SD_ID128_MAKE(ae, 1f, 70, 12, cc, 0b, 4c, de, 95, 50, ee, ed, 7b, 82, 12, 94)
#define NVD_MESSAGE_CHECK_SKIPPED SD_ID128_MAKE(24, f4, 1c, f2, 9c, 5a, 4b, 81, a7, f6, f7, 5f, 93, be, f3, b5)
#define NVD_MESSAGE_SUMMARY_PASS SD_ID128_MAKE(11, 6f, 2d, c9, 05, 45, 4e, 4a, 81, 12, 2c, e5, 40, 29, ca, c4)
#define NVD_MESSAGE_SUMMARY_FAIL SD_ID128_MAKE(23, 3c, bd, b9, 8f, 46, 4f, 7a, bc, 7a, 79, 7f, 4f, 9a, bc, f6)
#define NVD_MESSAGE_SUMMARY_INCOMPLETE SD_ID128_MAKE(6b, f0, 94, fc, 90, 5a, 4b, a4, a4, 96, 79, 8b, 36, 49, 24, 80)

typedef struct ReportContext {
        const Config *config;
        const char *version;       /* NULL when unknown */
        const char *version_error; /* why unknown */
        sd_id128_t run_id;
} ReportContext;

int report_journal_check(const ReportContext *ctx, const CheckResult *r);
int report_journal_summary(const ReportContext *ctx, const Verify *v);

/* No-ops when $NOTIFY_SOCKET is unset. */
void report_notify_started(const ReportContext *ctx, const Verify *v);
void report_notify_progress(const ReportContext *ctx, const Verify *v);
void report_notify_verdict(const ReportContext *ctx, const Verify *v);
void report_notify_stopping(void);

void report_print(const ReportContext *ctx, const Verify *v, FILE *f);

/* "pass", "FAIL" ... and the exit code of a --once run for a verdict. */
const char *verdict_to_string(CheckState s);
int verdict_exit_code(CheckState s);
/* "nautobot-contract-models 2026.5.17" or "... (version unknown)" */
char *report_subject(const ReportContext *ctx);
