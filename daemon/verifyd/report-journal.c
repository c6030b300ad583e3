/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal sink: one structured entry per check, one summary per app's run; and the
 * entries for what is no run's event (a change, a rollback, a state problem, a refused reload,
 * an upgrade's steps: report_journal_*()).
 * Field names are the interface admins and tools filter on (docs/reports.md), named once in
 * journal-fields.h for this writer and nautobot-verifyctl's readers: NVD_CHECK, NVD_RESULT,
 * NVD_INSTANCE, NVD_APP, NVD_PACKAGE, NVD_VERSION, NVD_DURATION_USEC, NVD_REASON,
 * NVD_EVIDENCE, NVD_FINDING (repeated), NVD_RUN_ID; a rollback's entry NVD_ROLLBACK_TARGET and
 * NVD_ROLLBACK_DROPS (repeated: what migrating back drops, counted).
 */
#include <inttypes.h>
#include <syslog.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "journal-fields.h"
#include "report.h"
#include "state.h"

#define FIELDS_MAX (24 + RESULT_FINDINGS_MAX)

typedef struct Fields {
        struct iovec iov[FIELDS_MAX];
        char *owned[FIELDS_MAX];
        size_t n;
        bool oom;
} Fields;

static void fields_add(Fields *f, const char *fmt, ...) _printf_(2, 3);
static void fields_add(Fields *f, const char *fmt, ...)
{
        va_list ap;
        char *s;

        if (f->n >= FIELDS_MAX)
                return;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0) {
                f->oom = true;
                va_end(ap);
                return;
        }
        va_end(ap);
        f->owned[f->n] = s;
        f->iov[f->n++] = (struct iovec){.iov_base = s, .iov_len = strlen(s)};
}

static void fields_done(Fields *f)
{
        for (size_t i = 0; i < f->n; i++)
                free(f->owned[i]);
}

static int fields_send(Fields *f)
{
        int r = f->oom ? -ENOMEM : sd_journal_sendv(f->iov, (int)f->n);

        fields_done(f);
        return r;
}

static void add_common(Fields *f, const ReportContext *ctx)
{
        fields_add(f, JOURNAL_IDENTIFIER_MATCH);
        fields_add(f, FIELD_NVD_RUN_ID "=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(ctx->run_id));
        fields_add(f, FIELD_NVD_INSTANCE "=%s", ctx->config->instance);
        fields_add(f, FIELD_NVD_APP "=%s", ctx->config->app_label); /* the Django app label */
        fields_add(f, FIELD_NVD_PACKAGE "=%s", ctx->config->package);
        fields_add(f, FIELD_NVD_VERSION "=%s", ctx->version ?: "unknown");
        if (!ctx->version && ctx->version_error)
                fields_add(f, FIELD_NVD_VERSION_ERROR "=%s", ctx->version_error);
        fields_add(f, FIELD_NVD_URL "=%s", ctx->config->url);
        if (ctx->trigger) {
                fields_add(f, FIELD_NVD_TRIGGER_PACKAGE "=%s", ctx->trigger->package);
                fields_add(f, FIELD_NVD_CHANGE "=%s", version_change_to_string(ctx->trigger->kind));
                if (ctx->trigger->old_version)
                        fields_add(f, FIELD_NVD_OLD_VERSION "=%s", ctx->trigger->old_version);
                if (ctx->trigger->new_version)
                        fields_add(f, FIELD_NVD_NEW_VERSION "=%s", ctx->trigger->new_version);
        }
}

static int journal_check(const ReportContext *ctx, const CheckResult *r)
{
        static const struct {
                sd_id128_t id;
                int priority;
        } outcome[_CHECK_STATE_MAX] = {
                [CHECK_PASS] = {NVD_MESSAGE_CHECK_PASS, LOG_INFO},
                [CHECK_FAIL] = {NVD_MESSAGE_CHECK_FAIL, LOG_ERR},
                [CHECK_ERROR] = {NVD_MESSAGE_CHECK_ERROR, LOG_WARNING},
                [CHECK_SKIPPED] = {NVD_MESSAGE_CHECK_SKIPPED, LOG_NOTICE},
        };
        _cleanup_free_ char *subject = report_subject(ctx);
        Fields f = {};
        int priority = outcome[r->state].priority;

        /* A pass that carries findings deserves a look: notice, not info. */
        if (r->state == CHECK_PASS && r->findings)
                priority = LOG_NOTICE;
        /* Turned off by the configuration (or not part of this run): that is no news each run.
         * Not applicable on this host stays a notice: it says something about the host. */
        if (r->disabled && !r->not_applicable)
                priority = LOG_DEBUG;
        fields_add(&f, "MESSAGE_ID=" SD_ID128_FORMAT_STR,
                   SD_ID128_FORMAT_VAL(outcome[r->state].id));
        fields_add(&f, "PRIORITY=%d", priority);
        fields_add(&f, "MESSAGE=%s: check %s %s: %s%s", strempty(subject), r->check,
                   check_state_to_outcome(r->state), strempty(r->reason),
                   r->findings ? " (+notes in NVD_FINDING, see journalctl -o verbose)" : "");
        add_common(&f, ctx);
        fields_add(&f, FIELD_NVD_CHECK "=%s", r->check);
        fields_add(&f, FIELD_NVD_RESULT "=%s", check_state_to_string(r->state));
        fields_add(&f, FIELD_NVD_REASON "=%s", strempty(r->reason));
        fields_add(&f, FIELD_NVD_DURATION_USEC "=%" PRIu64, r->duration_usec);
        if (r->evidence)
                fields_add(&f, FIELD_NVD_EVIDENCE "=%s", r->evidence);
        STRV_FOREACH (x, r->findings)
                fields_add(&f, FIELD_NVD_FINDING "=%s", *x);
        return fields_send(&f);
}

static int journal_summary(const ReportContext *ctx, const Verify *v)
{
        static const struct {
                sd_id128_t id;
                int priority;
        } outcome[_VERDICT_MAX] = {
                [VERDICT_PASS] = {NVD_MESSAGE_SUMMARY_PASS, LOG_NOTICE},
                [VERDICT_FAIL] = {NVD_MESSAGE_SUMMARY_FAIL, LOG_ERR},
                [VERDICT_INCOMPLETE] = {NVD_MESSAGE_SUMMARY_INCOMPLETE, LOG_WARNING},
        };
        _cleanup_free_ char *subject = report_subject(ctx);
        unsigned count[_CHECK_STATE_MAX] = {};
        Verdict verdict = verify_verdict(v);
        Fields f = {};

        for (size_t i = 0; i < verify_n_results(v); i++)
                count[verify_result(v, i)->state]++;
        fields_add(&f, "MESSAGE_ID=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(outcome[verdict].id));
        fields_add(&f, "PRIORITY=%d", outcome[verdict].priority);
        fields_add(
                &f,
                "MESSAGE=%s: verification %s: %u passed, %u failed, %u could not run, %u skipped",
                strempty(subject), verdict_to_outcome(verdict), count[CHECK_PASS],
                count[CHECK_FAIL], count[CHECK_ERROR], count[CHECK_SKIPPED]);
        add_common(&f, ctx);
        fields_add(&f, FIELD_NVD_CHECK "=" JOURNAL_CHECK_SUMMARY);
        fields_add(&f, FIELD_NVD_RESULT "=%s", verdict_to_string(verdict));
        fields_add(&f, FIELD_NVD_PASSED "=%u", count[CHECK_PASS]);
        fields_add(&f, FIELD_NVD_FAILED "=%u", count[CHECK_FAIL]);
        fields_add(&f, FIELD_NVD_ERRORS "=%u", count[CHECK_ERROR]);
        fields_add(&f, FIELD_NVD_SKIPPED "=%u", count[CHECK_SKIPPED]);
        fields_add(&f, FIELD_NVD_DURATION_USEC "=%" PRIu64, verify_duration_usec(v));
        return fields_send(&f);
}

static int send_simple(sd_id128_t id, int priority, const char *message, Fields *f)
{
        fields_add(f, "MESSAGE_ID=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
        fields_add(f, "PRIORITY=%d", priority);
        fields_add(f, "MESSAGE=%s", message);
        fields_add(f, JOURNAL_IDENTIFIER_MATCH);
        return fields_send(f);
}

/* The database check's result in 'v', or NULL. */
static const CheckResult *database_result(const Verify *v)
{
        for (size_t i = 0; v && i < verify_n_results(v); i++)
                if (streq(verify_result(v, i)->check, "database"))
                        return verify_result(v, i);
        return NULL;
}

/*
 * A rollback: what the state recorded of the two releases (the target, the older one's
 * leaf; the newer one's migrations beyond it and what they create), what the database
 * check counted, the profile's words, and the commands that work from here.
 */
static char *rollback_text(const Change *c, const Config *config, const Verify *v, Fields *f)
{
        _cleanup_(package_state_freep) PackageState *st = NULL;
        _cleanup_free_ char *what = change_describe(c), *drops = NULL, *target = NULL;
        const CheckResult *db = database_result(v);
        json_object *leaves;
        Buf b;

        (void)profile_rollback_text(config_profile(config, c->package), &drops);
        if (config->instance_state_directory)
                (void)state_load(config->instance_state_directory, c->package, &st, NULL);
        leaves = state_release_leaves(st, c->new_version);
        if (leaves && json_object_array_length(leaves) == 1)
                target = strdup(json_object_get_string(json_object_array_get_idx(leaves, 0)));
        buf_init(&b, 16 * 1024);
        buf_printf(
                &b,
                "%s: %s: a rollback. Rolling a schema back drops what later migrations added%s%s%s%s%s",
                c->package, strempty(what), drops ? " (for " : "", drops ? c->package : "",
                drops ? ", " : "", strempty(drops), drops ? ")" : "");
        if (target) {
                fields_add(f, FIELD_NVD_ROLLBACK_TARGET "=%s", target);
                buf_printf(&b, ". The target is %s (the leaf of %s when it passed here)", target,
                           strempty(c->new_version));
        }
        if (db && db->state == CHECK_FAIL && db->reason && strstr(db->reason, "Recover:")) {
                /* pip came first: the database check's recovery, with its counts. */
                buf_printf(&b, ". The older release was installed before migrating back: %s",
                           strstr(db->reason, "Recover:"));
                STRV_FOREACH (x, db->findings)
                        if (startswith(*x, "migrating "))
                                fields_add(f, FIELD_NVD_ROLLBACK_DROPS "=%s", *x);
        } else if (db && db->state == CHECK_PASS)
                buf_printf(
                        &b,
                        ". The schema matches the installed code: it was migrated back first, as the guide says; what remains is nautobot-server migrate (Nautobot's Job records), collectstatic --noinput and restarting nautobot.service, nautobot-worker.service and nautobot-scheduler.service, if not done yet");
        else
                buf_printf(
                        &b,
                        "; the order that works: nautobot-server migrate <app> <target> with the newer release still installed, then pip install the older one, then restart (nautobot-verifyctl rollback counts what the migrate drops)");
        if (b.truncated) {
                buf_done(&b);
                return NULL;
        }
        return b.data;
}

static int journal_change(const Change *c, const Config *config, const Verify *v)
{
        _cleanup_free_ char *what = change_describe(c), *msg = NULL;
        const char *site_packages = config->site_packages;
        sd_id128_t id = NVD_MESSAGE_VERSION_CHANGED;
        int priority = LOG_NOTICE;
        Fields f = {};

        if (c->kind == VERSION_DOWNGRADED) {
                id = NVD_MESSAGE_ROLLBACK;
                priority = LOG_WARNING;
                msg = rollback_text(c, config, v, &f);
        } else if (c->kind == VERSION_REMOVED) {
                id = NVD_MESSAGE_REMOVED;
                priority = LOG_WARNING;
                msg = strjoin_printf(
                        "%s: %s from %s: nothing to verify until it is installed again; an app still listed in PLUGINS stops Nautobot from starting",
                        c->package, strempty(what), site_packages);
        } else
                msg = strjoin_printf("%s: %s%s%s", c->package, strempty(what),
                                     c->detail ? "; " : "", strempty(c->detail));
        fields_add(&f, FIELD_NVD_PACKAGE "=%s", c->package);
        fields_add(&f, FIELD_NVD_CHANGE "=%s", version_change_to_string(c->kind));
        if (c->old_version)
                fields_add(&f, FIELD_NVD_OLD_VERSION "=%s", c->old_version);
        if (c->new_version)
                fields_add(&f, FIELD_NVD_NEW_VERSION "=%s", c->new_version);
        if (c->detail)
                fields_add(&f, FIELD_NVD_DETAIL "=%s", c->detail);
        fields_add(&f, FIELD_NVD_SITE_PACKAGES "=%s", site_packages);
        return send_simple(id, priority, strempty(msg), &f);
}

int report_journal_change(const Change *c, const Config *config)
{
        return journal_change(c, config, NULL);
}

int report_journal_rollback(const Change *c, const Config *config, const Verify *v)
{
        return journal_change(c, config, v);
}

int report_journal_unchanged(const char *package, const char *version, const char *verdict)
{
        _cleanup_free_ char *msg =
                strjoin_printf("%s %s: unchanged since its last verification (%s); nothing to do",
                               package, version ?: "(not installed)", verdict ?: "?");
        Fields f = {};

        fields_add(&f, FIELD_NVD_PACKAGE "=%s", package);
        fields_add(&f, FIELD_NVD_VERSION "=%s", version ?: "none");
        fields_add(&f, FIELD_NVD_CHANGE "=none");
        return send_simple(NVD_MESSAGE_UNCHANGED, LOG_INFO, strempty(msg), &f);
}

int report_journal_state_problem(const char *package, const char *problem)
{
        _cleanup_free_ char *msg = strjoin_printf("%s: state: %s", package, problem);
        Fields f = {};

        fields_add(&f, FIELD_NVD_PACKAGE "=%s", package);
        fields_add(&f, FIELD_NVD_DETAIL "=%s", problem);
        return send_simple(NVD_MESSAGE_STATE_PROBLEM, LOG_WARNING, strempty(msg), &f);
}

int report_journal_reload_failed(const char *config_path, const char *error)
{
        _cleanup_free_ char *msg =
                strjoin_printf("Reload refused, keeping the previous configuration: %s", error);
        Fields f = {};

        fields_add(&f, FIELD_NVD_CONFIG "=%s", config_path);
        return send_simple(NVD_MESSAGE_RELOAD_FAILED, LOG_ERR, strempty(msg), &f);
}

static void add_change(Fields *f, const Change *c)
{
        fields_add(f, FIELD_NVD_PACKAGE "=%s", c->package);
        /* Not NVD_CHANGE: that field marks the change entries themselves. */
        fields_add(f, FIELD_NVD_UPGRADE "=%s", version_change_to_string(c->kind));
        if (c->old_version)
                fields_add(f, FIELD_NVD_OLD_VERSION "=%s", c->old_version);
        if (c->new_version)
                fields_add(f, FIELD_NVD_NEW_VERSION "=%s", c->new_version);
}

int report_journal_upgrade_pending(const Change *c, const char *pending, uint64_t deadline_usec)
{
        _cleanup_free_ char *what = change_describe(c), *msg = NULL;
        Fields f = {};

        msg = strjoin_printf(
                "%s: %s installed; waiting for: %s. The verification runs when these are done, or in %" PRIu64
                " s at the latest",
                c->package, strempty(what), pending, deadline_usec / USEC_PER_SEC);
        add_change(&f, c);
        fields_add(&f, FIELD_NVD_PENDING "=%s", pending);
        return send_simple(NVD_MESSAGE_UPGRADE_PENDING, LOG_NOTICE, strempty(msg), &f);
}

int report_journal_step_done(const Change *c, const char *step, const char *reason)
{
        _cleanup_free_ char *what = change_describe(c), *msg = NULL;
        Fields f = {};

        msg = strjoin_printf("%s: %s: step done: %s: %s", c->package, strempty(what), step, reason);
        add_change(&f, c);
        fields_add(&f, FIELD_NVD_STEP "=%s", step);
        fields_add(&f, FIELD_NVD_REASON "=%s", reason);
        return send_simple(NVD_MESSAGE_STEP_DONE, LOG_INFO, strempty(msg), &f);
}

int report_journal_upgrade_deadline(const Change *c, const char *pending, uint64_t deadline_usec)
{
        _cleanup_free_ char *what = change_describe(c), *msg = NULL;
        Fields f = {};

        msg = strjoin_printf("%s: %s: still waiting for %s after %" PRIu64
                             " s (upgrade-deadline): verifying the unfinished upgrade now",
                             c->package, strempty(what), pending, deadline_usec / USEC_PER_SEC);
        add_change(&f, c);
        fields_add(&f, FIELD_NVD_PENDING "=%s", pending);
        return send_simple(NVD_MESSAGE_UPGRADE_DEADLINE, LOG_WARNING, strempty(msg), &f);
}

static int journal_check_done(const ReportRunInfo *info, const ReportRun *app, const CheckResult *r)
{
        (void)info;
        return journal_check(app->ctx, r);
}

static int journal_app_done(const ReportRunInfo *info, const ReportRun *app)
{
        (void)info;
        return journal_summary(app->ctx, app->verify);
}

const ReportSink report_sink_journal = {
        .name = "journal",
        .check_done = journal_check_done,
        .app_done = journal_app_done,
};
