/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal fields nautobot-verifyd writes (daemon/verifyd/report-journal.c)
 * and nautobot-verifyctl reads back (daemon/verifyctl/ctl-journal.c,
 * ctl-verify.c): the interface admins and tools filter on, documented in
 * docs/reports.md. Each macro is named FIELD_ and the field itself, so that
 * grepping for a field finds its writer and its readers.
 */
#pragma once

/* SYSLOG_IDENTIFIER= of every entry. */
#define JOURNAL_IDENTIFIER       "nautobot-verifyd"
#define JOURNAL_IDENTIFIER_MATCH "SYSLOG_IDENTIFIER=" JOURNAL_IDENTIFIER

/* NVD_CHECK= of a run's summary entry; a check's entry has the check's name. */
#define JOURNAL_CHECK_SUMMARY "summary"

/* The entries of a run: each check's and the summary. */
#define FIELD_NVD_RUN_ID          "NVD_RUN_ID" /* ties a run's entries together */
#define FIELD_NVD_INSTANCE        "NVD_INSTANCE"
#define FIELD_NVD_APP             "NVD_APP" /* the Django app label */
#define FIELD_NVD_PACKAGE         "NVD_PACKAGE"
#define FIELD_NVD_VERSION         "NVD_VERSION"
#define FIELD_NVD_VERSION_ERROR   "NVD_VERSION_ERROR"
#define FIELD_NVD_URL             "NVD_URL"
#define FIELD_NVD_TRIGGER_PACKAGE "NVD_TRIGGER_PACKAGE" /* a run started by a change */
#define FIELD_NVD_CHANGE          "NVD_CHANGE"
#define FIELD_NVD_OLD_VERSION     "NVD_OLD_VERSION"
#define FIELD_NVD_NEW_VERSION     "NVD_NEW_VERSION"
#define FIELD_NVD_CHECK           "NVD_CHECK" /* a check's name, or JOURNAL_CHECK_SUMMARY */
#define FIELD_NVD_RESULT          "NVD_RESULT"
#define FIELD_NVD_DURATION_USEC   "NVD_DURATION_USEC"

/* A check's entry. */
#define FIELD_NVD_REASON   "NVD_REASON"
#define FIELD_NVD_EVIDENCE "NVD_EVIDENCE"
#define FIELD_NVD_FINDING  "NVD_FINDING" /* repeated */

/* A run's summary. */
#define FIELD_NVD_PASSED  "NVD_PASSED"
#define FIELD_NVD_FAILED  "NVD_FAILED"
#define FIELD_NVD_ERRORS  "NVD_ERRORS"
#define FIELD_NVD_SKIPPED "NVD_SKIPPED"

/* The entries of a version change, a rollback, a state problem, a reload, an upgrade. */
#define FIELD_NVD_DETAIL          "NVD_DETAIL"
#define FIELD_NVD_SITE_PACKAGES   "NVD_SITE_PACKAGES"
#define FIELD_NVD_ROLLBACK_TARGET "NVD_ROLLBACK_TARGET"
#define FIELD_NVD_ROLLBACK_DROPS  "NVD_ROLLBACK_DROPS" /* repeated */
#define FIELD_NVD_CONFIG          "NVD_CONFIG"
#define FIELD_NVD_UPGRADE         "NVD_UPGRADE"
#define FIELD_NVD_PENDING         "NVD_PENDING"
#define FIELD_NVD_STEP            "NVD_STEP"
