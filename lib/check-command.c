/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two checks the upgrade guide runs on the command line:
 *   system:     nautobot-server check
 *   migrations: nautobot-server makemigrations --check --dry-run <app-label>
 * Each runs as a child (child.c) and is judged by parse-output.c.
 */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "parse-output.h"
#include "child.h"

typedef struct CommandState {
        Child *spawn;
        char *command; /* "nautobot-server check", for messages */
} CommandState;

static void command_state_free(void *p)
{
        CommandState *s = p;

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
                check_result_set(res, CHECK_FAIL, "nautobot-server failed before checking: %s",
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

static void on_done(Child *sp, const ChildOutcome *o, void *userdata)
{
        Check *c = userdata;
        CommandState *s = c->state;
        CheckResult *res = c->result;

        (void)sp;
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
        s->command = c->id == CHECK_ID_SYSTEM
                             ? strdup("nautobot-server check")
                             : strjoin_printf("nautobot-server makemigrations --check --dry-run %s",
                                              cfg->app_label);
        desc = strjoin_printf("check-%s", check_id_to_string(c->id));
        if (!s->command || !desc)
                return -ENOMEM;

        r = child_start(c->env->event,
                        &(ChildOptions){
                                .argv = argv,
                                .envp = c->env->child_env,
                                .cwd = cfg->root,
                                .timeout_usec = cfg->command_timeout_usec,
                                .output_max = cfg->output_max,
                                .description = desc,
                        },
                        on_done, c, &s->spawn);
        if (r == -ENOENT)
                check_result_set(
                        c->result, CHECK_ERROR,
                        "nautobot-server not found at '%s' (or the working directory '%s' is missing)",
                        cfg->server, strempty(cfg->root));
        else if (r == -EACCES)
                check_result_set(c->result, CHECK_ERROR,
                                 "nautobot-server at '%s' is not executable", cfg->server);
        else if (r < 0)
                check_result_set(c->result, CHECK_ERROR, "cannot start '%s': %s", cfg->server,
                                 strerror(-r));
        if (r < 0)
                check_complete(c);
        return 0;
}
