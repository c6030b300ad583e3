/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two checks the upgrade guide runs on the command line:
 *   system:     nautobot-server check
 *   migrations: nautobot-server makemigrations --check --dry-run <app-label>
 * By default both are answered by the one Django boot of the probe (probe.h),
 * which runs the same commands through call_command() and reports their exit
 * status and streams as the command line would give them; the migrations
 * check adds Django's migration plan for every app (what "migrate --check"
 * looks at), less what belongs to the apps verified beside this one in the
 * same run ([package] other_app_labels: their own results report it). With
 * [checks] django=command each runs as a child of its own
 * (child.c), as the guide types them. Either way parse-output.c judges the
 * output, so the verdicts and reasons are the same.
 */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "parse-output.h"
#include "child.h"

typedef struct CommandState {
        Check *check;
        Child *spawn;
        Probe *probe;  /* subscribed to */
        char *command; /* "nautobot-server check", for messages */
} CommandState;

static void command_state_free(void *p)
{
        CommandState *s = p;

        if (s->probe)
                probe_unsubscribe(s->probe, s->check);
        child_free(s->spawn);
        free(s->command);
        free(s);
}

static int set_evidence(CheckResult *res, const ChildOutcome *o)
{
        _cleanup_free_ char *e = NULL;

        e = strjoin_printf(
                "%s\n--- stdout (last %d lines%s) ---\n%s\n--- stderr (last %d lines%s) ---\n%s",
                o->timed_out ? "timed out"
                : o->signal  ? "killed by a signal"
                             : "exited",
                CHECK_EVIDENCE_LINES, o->out.truncated ? ", output truncated" : "",
                buf_tail_lines(&o->out, CHECK_EVIDENCE_LINES), CHECK_EVIDENCE_LINES,
                o->err.truncated ? ", output truncated" : "",
                buf_tail_lines(&o->err, CHECK_EVIDENCE_LINES));
        if (!e)
                return -ENOMEM;
        return check_result_set_evidence(res, e);
}

static void judge_system(Check *c, const ChildOutcome *o)
{
        CheckResult *res = c->result;
        SystemCheckReport rep = {};

        if (system_check_parse(o->exit_status, o->out.data, o->err.data, &rep) < 0) {
                check_result_set(res, CHECK_ERROR, "out of memory while reading the output");
                return;
        }
        switch (rep.verdict) {
        case SYSTEM_CHECK_CLEAN:
                check_result_set(res, CHECK_PASS, "System check identified no issues");
                break;
        case SYSTEM_CHECK_WARNINGS:
                check_result_set(res, CHECK_PASS, "System check passed with %zu warning(s)",
                                 strv_length(rep.issues));
                STRV_FOREACH (i, rep.issues)
                        check_result_add_finding(res, "%s", *i);
                break;
        case SYSTEM_CHECK_ERRORS:
                check_result_set(res, CHECK_FAIL, "System check failed with %zu issue(s)%s%s",
                                 strv_length(rep.issues), rep.issues ? ", first: " : "",
                                 rep.issues ? rep.issues[0] : "");
                STRV_FOREACH (i, rep.issues)
                        check_result_add_finding(res, "%s", *i);
                break;
        case SYSTEM_CHECK_CRASHED:
                if (strstr(rep.exception, "PluginImproperlyConfigured"))
                        check_result_set(
                                res, CHECK_FAIL,
                                "nautobot-server cannot start: an app's min_version/max_version does not admit the installed Nautobot (%s): install a release of the app made for it, or the Nautobot it asks for",
                                rep.exception);
                else
                        check_result_set(res, CHECK_FAIL,
                                         "nautobot-server failed before checking: %s",
                                         rep.exception);
                break;
        case SYSTEM_CHECK_UNEXPECTED:
                check_result_set(
                        res, CHECK_ERROR,
                        "nautobot-server check exited with status %d and output this tool does not recognise",
                        o->exit_status);
                break;
        }
        system_check_report_done(&rep);
}

static void judge_migrations(Check *c, const ChildOutcome *o)
{
        CheckResult *res = c->result;
        const char *label = c->env->config->app_label;
        MigrationsReport rep = {};

        if (migrations_parse(o->exit_status, label, o->out.data, o->err.data, &rep) < 0) {
                check_result_set(res, CHECK_ERROR, "out of memory while reading the output");
                return;
        }
        switch (rep.verdict) {
        case MIGRATIONS_NO_CHANGES:
                check_result_set(res, CHECK_PASS, "No changes detected in app '%s'", label);
                break;
        case MIGRATIONS_CHANGES:
                check_result_set(
                        res, CHECK_FAIL,
                        "models of app '%s' have %zu change(s) without a migration: the installed code and its migrations disagree (a partial upgrade, or a locally edited package)",
                        label, strv_length(rep.changes));
                STRV_FOREACH (i, rep.changes)
                        check_result_add_finding(res, "unmigrated change: %s", *i);
                break;
        case MIGRATIONS_APP_NOT_LOADED:
                check_result_set(
                        res, CHECK_FAIL,
                        "app '%s' is not loaded by Nautobot: it is missing from PLUGINS in nautobot_config.py, or its package is not installed in this virtualenv",
                        label);
                break;
        case MIGRATIONS_CRASHED:
                check_result_set(res, CHECK_FAIL,
                                 "nautobot-server failed before checking migrations: %s",
                                 rep.exception);
                break;
        case MIGRATIONS_UNEXPECTED:
                check_result_set(
                        res, CHECK_ERROR,
                        "nautobot-server makemigrations exited with status %d and output this tool does not recognise",
                        o->exit_status);
                break;
        }
        migrations_report_done(&rep);
}

/* Migration "app.name" of an app verified beside this one, in a run of its own. */
static bool of_other_app(const Config *cfg, const char *migration)
{
        size_t n = strcspn(migration, ".");

        if (strlen(strempty(cfg->app_label)) == n && strncmp(cfg->app_label, migration, n) == 0)
                return false;
        STRV_FOREACH (l, cfg->other_app_labels)
                if (strlen(*l) == n && strncmp(*l, migration, n) == 0)
                        return true;
        return false;
}

/* What Django's migration plan says for every app (the probe only). */
static void judge_plan(Check *c, const ProbeReport *p)
{
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **unapplied = NULL, **unknown = NULL;
        _cleanup_free_ char *u = NULL, *k = NULL;
        size_t theirs = 0;

        if (p->plan_error) {
                check_result_add_finding(res, "the migration plan could not be read: %s",
                                         p->plan_error);
                return;
        }
        if (res->state != CHECK_PASS)
                return;
        STRV_FOREACH (m, p->unapplied)
                if (of_other_app(cfg, *m))
                        theirs++;
                else if (strv_extend(&unapplied, *m) < 0) {
                        check_result_set(res, CHECK_ERROR, "out of memory");
                        return;
                }
        STRV_FOREACH (m, p->applied_not_shipped)
                if (of_other_app(cfg, *m))
                        theirs++;
                else if (strv_extend(&unknown, *m) < 0) {
                        check_result_set(res, CHECK_ERROR, "out of memory");
                        return;
                }
        u = strv_join(unapplied, ", ");
        k = strv_join(unknown, ", ");
        if (unknown)
                check_result_set(
                        res, CHECK_FAIL,
                        "the database has %zu migration(s) that no installed code ships (%s): a package was rolled back without migrating back first",
                        strv_length(unknown), strempty(k));
        else if (unapplied)
                check_result_set(
                        res, CHECK_FAIL,
                        "%zu migration(s) are not applied (%s): run \"nautobot-server migrate\" (a release of Nautobot or of an app was installed without it)",
                        strv_length(unapplied), strempty(u));
        else if (theirs > 0)
                check_result_set(
                        res, CHECK_PASS,
                        "No changes detected in app '%s', and every migration is applied, but for %zu of the apps verified beside it (their own results report them)",
                        cfg->app_label, theirs);
        else
                check_result_set(
                        res, CHECK_PASS,
                        "No changes detected in app '%s', and every migration of every app is applied",
                        cfg->app_label);
}

/*
 * The app is one the server loads: an app named in the configuration but not
 * installed, or left out of PLUGINS (or failing to load), is not verified by
 * any other check's pass.
 */
static void judge_loaded(Check *c, const ProbeReport *p)
{
        const Config *cfg = c->env->config;

        if (c->result->state != CHECK_PASS || p->apps_error || !cfg->app_label)
                return;
        for (size_t i = 0; i < p->n_apps; i++)
                if (streq_ptr(p->apps[i].label, cfg->app_label))
                        return;
        check_result_set(
                c->result, CHECK_FAIL,
                "the server does not load app '%s' (%s): it is not installed, or not in PLUGINS of nautobot_config.py%s%s%s%s%s",
                cfg->app_label, strempty(cfg->package),
                c->env->last_verified ? "; last verified here: " : "",
                strempty(c->env->last_verified),
                c->env->last_verified ? ". Removed on purpose? Say so in the configuration: [app "
                                      : "",
                c->env->last_verified ? strempty(cfg->package) : "",
                c->env->last_verified ? "] verify = no" : "");
}

/* A ChildOutcome as the command line would have given it, from the probe's section. */
static int outcome_from(const ProbeCommand *pc, ChildOutcome *o)
{
        *o = (ChildOutcome){.exit_status = pc->exit_status};
        buf_init(&o->out, RESULT_EVIDENCE_MAX * 4);
        buf_init(&o->err, RESULT_EVIDENCE_MAX * 4);
        if (buf_append(&o->out, strempty(pc->out), strlen(strempty(pc->out))) < 0 ||
            buf_append(&o->err, strempty(pc->err), strlen(strempty(pc->err))) < 0)
                return -ENOMEM;
        return 0;
}

static void judge(Check *c, const ChildOutcome *o)
{
        CommandState *s = c->state;
        CheckResult *res = c->result;

        if (set_evidence(res, o) < 0)
                check_result_set(res, CHECK_ERROR, "out of memory");
        else if (o->timed_out)
                check_result_set(res, CHECK_ERROR,
                                 "'%s' did not finish within %" PRIu64
                                 " s; its process group was killed",
                                 s->command, c->env->config->command_timeout_usec / USEC_PER_SEC);
        else if (o->signal)
                check_result_set(res, CHECK_ERROR, "'%s' was killed by signal %s", s->command,
                                 sigabbrev_np(o->signal) ?: "?");
        else if (c->id == CHECK_ID_SYSTEM)
                judge_system(c, o);
        else
                judge_migrations(c, o);
}

/* What nautobot-server left behind when it exited (child.h): killed, and said. */
static void note_left_behind(Check *c, const ChildOutcome *o)
{
        if (o->left_behind > 0)
                (void)check_result_add_finding(
                        c->result,
                        "nautobot-server left %u process(es) running when it exited (started by its code, e.g. in a session of their own): they were killed, and the run did not wait for them",
                        o->left_behind);
        if (o->pipes_held)
                (void)check_result_add_finding(
                        c->result,
                        "something kept nautobot-server's output open after it exited: closed after %u s",
                        (unsigned)(CHILD_DRAIN_GRACE_USEC / USEC_PER_SEC));
}

static void on_done(Child *sp, const ChildOutcome *o, void *userdata)
{
        (void)sp;
        judge(userdata, o);
        note_left_behind(userdata, o);
        check_complete(userdata);
}

static void start_failed(Check *c, int r)
{
        const Config *cfg = c->env->config;

        if (r == -ENOENT)
                check_result_set(
                        c->result, CHECK_ERROR,
                        "nautobot-server not found at '%s' (or the working directory '%s' is missing)",
                        cfg->server, strempty(cfg->root));
        else if (r == -EACCES)
                check_result_set(c->result, CHECK_ERROR,
                                 "nautobot-server at '%s' is not executable", cfg->server);
        else
                check_result_set(c->result, CHECK_ERROR, "cannot start '%s': %s", cfg->server,
                                 strerror(-r));
        check_complete(c);
}

/* This app's makemigrations in the probe's answer; NULL: none for it. */
static const ProbeCommand *makemigrations_of(const ProbeReport *report, const char *label)
{
        const ProbeAppAnswer *a = probe_report_app(report, label);

        return a && (a->makemigrations.present || a->makemigrations.error) ? &a->makemigrations
                                                                           : NULL;
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Check *c = userdata;
        CommandState *s = c->state;
        const char *label = c->env->config->app_label;
        const ProbeCommand *pc;
        ChildOutcome o;

        s->probe = NULL; /* told: nothing to unsubscribe from */
        if (po->start_error < 0) {
                start_failed(c, po->start_error);
                return;
        }
        pc = !po->report                ? NULL
             : c->id == CHECK_ID_SYSTEM ? &po->report->check
                                        : makemigrations_of(po->report, label);
        if (po->report && !pc && !po->child->timed_out && !po->child->signal) {
                /* A document, and nothing in it for this app. */
                if (po->report->makemigrations_error)
                        check_result_set(c->result, CHECK_ERROR, "the probe could not run '%s': %s",
                                         s->command, po->report->makemigrations_error);
                else
                        check_result_set(c->result, CHECK_ERROR,
                                         "the probe gave no makemigrations answer for app '%s'",
                                         strempty(label));
                check_complete(c);
                return;
        }
        if (!pc || po->child->timed_out || po->child->signal) {
                /* Django did not start (an exception before the probe ran), or it hung. */
                judge(c, po->child);
                if (c->result->state == CHECK_PASS || (!pc && po->child->exit_status == 0 &&
                                                       !po->child->timed_out && !po->child->signal))
                        check_result_set(c->result, CHECK_ERROR, "the probe gave no answer: %s",
                                         strempty(po->report_error));
                check_complete(c);
                return;
        }
        if (pc->error)
                check_result_set(c->result, CHECK_ERROR, "the probe could not run '%s': %s",
                                 s->command, pc->error);
        else if (outcome_from(pc, &o) < 0)
                check_result_set(c->result, CHECK_ERROR, "out of memory");
        else {
                judge(c, &o);
                if (c->id == CHECK_ID_MIGRATIONS)
                        judge_plan(c, po->report);
                else {
                        judge_loaded(c, po->report);
                        if (po->report->booted_again)
                                check_result_add_finding(
                                        c->result,
                                        "Django was booted again for this verification: %.300s was written after it was booted ahead of the restarts",
                                        po->report->booted_again);
                        for (size_t i = 0; i < po->report->n_apps; i++) {
                                const ProbeApp *a = &po->report->apps[i];

                                if (!a->admits_nautobot)
                                        check_result_add_finding(
                                                c->result,
                                                "app %s (%s %s) declares min_version %s, max_version %s, which do not admit Nautobot %s",
                                                a->label, strempty(a->package),
                                                strempty(a->version), a->min_version ?: "-",
                                                a->max_version ?: "-",
                                                strempty(po->report->nautobot_version));
                        }
                }
                if (c->id == CHECK_ID_SYSTEM &&
                    (po->report->cache_error || po->report->broker_error)) {
                        if (po->report->cache_error)
                                check_result_add_finding(c->result,
                                                         "Django's cache does not answer: %s",
                                                         po->report->cache_error);
                        if (po->report->broker_error)
                                check_result_add_finding(
                                        c->result,
                                        "the Celery broker does not answer: %s (Jobs cannot be queued)",
                                        po->report->broker_error);
                }
                /* One Django boot for both: the system check says what it left behind. */
                if (c->id == CHECK_ID_SYSTEM)
                        note_left_behind(c, po->child);
        }
        if (!pc->error) {
                buf_done(&o.out);
                buf_done(&o.err);
        }
        check_complete(c);
}

int check_command_start(Check *c)
{
        const Config *cfg = c->env->config;
        _cleanup_free_ char *desc = NULL;
        CommandState *s;
        int r;

        if (c->env->child_env_error) {
                check_result_set(c->result, CHECK_ERROR, "%s", c->env->child_env_error);
                check_complete(c);
                return 0;
        }
        char *system_argv[] = {cfg->server, (char *)"check", NULL};
        char *migrations_argv[] = {cfg->server,         (char *)"makemigrations", (char *)"--check",
                                   (char *)"--dry-run", cfg->app_label,           NULL};
        char **argv = c->id == CHECK_ID_SYSTEM ? system_argv : migrations_argv;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = command_state_free;
        s->check = c;
        s->command = c->id == CHECK_ID_SYSTEM
                             ? strdup("nautobot-server check")
                             : strjoin_printf("nautobot-server makemigrations --check --dry-run %s",
                                              cfg->app_label);
        desc = strjoin_printf("check-%s", check_id_to_string(c->id));
        if (!s->command || !desc)
                return -ENOMEM;
        if (c->env->probe) {
                r = probe_subscribe(c->env->probe, on_probe, c);
                if (r < 0)
                        return r;
                s->probe = c->env->probe;
                return 0; /* verify.c starts the probe once every check subscribed */
        }
        r = child_start(c->env->event,
                        &(ChildOptions){
                                .argv = argv,
                                .envp = c->env->child_env,
                                .cwd = cfg->root,
                                .timeout_usec = cfg->command_timeout_usec,
                                .output_max = cfg->output_max,
                                .description = desc,
                                .user = c->env->child_user,
                        },
                        on_done, c, &s->spawn);
        if (r < 0)
                start_failed(c, r);
        return 0;
}
