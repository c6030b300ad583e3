/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system and migrations checks judging the probe's answer. It includes
 * check-command.c to reach its static judging: this app's makemigrations
 * among several apps', no answer for it, the section failed as a whole, and
 * Django's migration plan less what belongs to the apps verified beside it.
 */
#include "check-command.c"
#include "test.h"

#define LABEL "nautobot_contract_models"
#define OTHER "nautobot_dns_models"

static void told(Check *c, void *userdata)
{
        unsigned *completions = userdata;

        (void)c;
        (*completions)++;
}

/* The check told the probe's answer (Django ran and exited 0); the caller frees the result. */
static CheckResult *judge_probe(const Config *cfg, CheckId id, const ProbeReport *report)
{
        ChildOutcome child = {.exit_status = 0};
        CheckEnv env = {.config = cfg};
        unsigned completions = 0;
        Check c = {.id = id, .env = &env, .done = told, .userdata = &completions};
        CommandState *s = calloc(1, sizeof(*s));

        ASSERT(s);
        ASSERT(check_result_new(&c.result, check_id_to_string(id)) == 0);
        c.state = s;
        c.state_free = command_state_free;
        s->check = &c;
        s->command = id == CHECK_ID_SYSTEM
                             ? strdup("nautobot-server check")
                             : strjoin_printf("nautobot-server makemigrations --check --dry-run %s",
                                              cfg->app_label);
        ASSERT(s->command);
        on_probe(&(ProbeOutcome){.child = &child, .report = report}, &c);
        ASSERT(c.completed && completions == 1);
        return c.result;
}

static ProbeCommand no_changes(const char *label, char **buf)
{
        *buf = strjoin_printf("No changes detected in app '%s'\n", label);
        ASSERT(*buf);
        return (ProbeCommand){.present = true, .exit_status = 0, .out = *buf, .err = (char *)""};
}

/* Two apps answered: each check reads its own app's. */
static void test_own_answer(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *out_a = NULL;
        ProbeAppAnswer answers[2] = {
                {.label = (char *)OTHER,
                 .makemigrations =
                         {.present = true,
                          .exit_status = 1,
                          .out = (char *)"Migrations for '" OTHER "':\n"
                                         "  /x/migrations/0011_y.py\n    + Add field z to w\n",
                          .err = (char *)""}},
                {.label = (char *)LABEL, .makemigrations = no_changes(LABEL, &out_a)},
        };
        ProbeReport report = {.answers = answers, .n_answers = 2};
        CheckResult *r;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, LABEL) == 0);
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_PASS);
        ASSERT_STREQ(r->reason, "No changes detected in app '" LABEL
                                "', and every migration of every app is applied");
        check_result_free(r);

        /* The other app's run: its own changes. */
        ASSERT(free_and_strdup(&cfg->app_label, OTHER) == 0);
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT(strstr(r->reason, "models of app '" OTHER "' have 1 change(s) without a migration"));
        check_result_free(r);
}

/* Nothing for this app in the document: an error naming the app, and the section's error. */
static void test_no_answer(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *out = NULL;
        ProbeAppAnswer other = {.label = (char *)OTHER, .makemigrations = no_changes(OTHER, &out)};
        ProbeReport report = {.answers = &other, .n_answers = 1};
        ProbeReport failed = {
                .makemigrations_error =
                        (char *)"TimeoutError: no answer before the daemon's deadline"};
        ProbeAppAnswer panels_only = {.label = (char *)LABEL, .panels_present = true};
        ProbeReport no_command = {.answers = &panels_only, .n_answers = 1};
        CheckResult *r;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, LABEL) == 0);
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_ERROR);
        ASSERT_STREQ(r->reason, "the probe gave no makemigrations answer for app '" LABEL "'");
        check_result_free(r);

        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &no_command);
        ASSERT(r->state == CHECK_ERROR);
        ASSERT_STREQ(r->reason, "the probe gave no makemigrations answer for app '" LABEL "'");
        check_result_free(r);

        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &failed);
        ASSERT(r->state == CHECK_ERROR);
        ASSERT_STREQ(
                r->reason,
                "the probe could not run 'nautobot-server makemigrations --check --dry-run " LABEL
                "': TimeoutError: no answer before the daemon's deadline");
        check_result_free(r);
}

/*
 * Unapplied migrations of the apps verified beside this one are theirs: left out, with no
 * finding. Nautobot's, a Django app's and this app's still fail.
 */
static void test_plan_other_apps(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *out = NULL;
        ProbeAppAnswer answer = {.label = (char *)LABEL, .makemigrations = no_changes(LABEL, &out)};
        char *theirs[] = {(char *)OTHER ".0009_a", (char *)OTHER ".0010_b", NULL};
        char *mixed[] = {(char *)OTHER ".0009_a", (char *)"dcim.0070_x", (char *)LABEL ".0012_y",
                         (char *)"nautobot_dns.0001_z", NULL};
        ProbeReport report = {.answers = &answer, .n_answers = 1, .unapplied = theirs};
        CheckResult *r;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, LABEL) == 0);

        /* Verified alone: every app's unapplied migration fails it, as before. */
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT(strstr(r->reason, "2 migration(s) are not applied (" OTHER ".0009_a, " OTHER
                                 ".0010_b): run \"nautobot-server migrate\""));
        check_result_free(r);

        /* With the other app verified in the same run: its migrations are its own run's. */
        ASSERT(strv_extend(&cfg->other_app_labels, OTHER) == 0);
        ASSERT(strv_extend(&cfg->other_app_labels, LABEL) == 0); /* never its own */
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_PASS);
        ASSERT_STREQ(
                r->reason,
                "No changes detected in app '" LABEL
                "', and every migration is applied, but for 2 of the apps verified beside it (their own results report them)");
        ASSERT(!r->findings);
        check_result_free(r);

        /* Nautobot's, this app's and an app whose label only starts like the other's: they fail,
         * without the other app's. */
        report.unapplied = mixed;
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT(strstr(r->reason, "3 migration(s) are not applied (dcim.0070_x, " LABEL
                                 ".0012_y, nautobot_dns.0001_z)"));
        ASSERT(!strstr(r->reason, OTHER));
        ASSERT(!r->findings);
        check_result_free(r);
}

/* The system check is not the apps': the same with several answered. */
static void test_system(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        ProbeReport report = {
                .check = {.present = true,
                          .out = (char *)"System check identified no issues (0 silenced).\n",
                          .err = (char *)""},
                .makemigrations_error = (char *)"not asked for",
        };
        CheckResult *r;

        ProbeApp apps[2] = {{.label = (char *)OTHER, .admits_nautobot = true},
                            {.label = (char *)LABEL, .admits_nautobot = true}};

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, LABEL) == 0);
        ASSERT(free_and_strdup(&cfg->package, "nautobot-contract-models") == 0);
        report.apps = apps;
        report.n_apps = 2;
        r = judge_probe(cfg, CHECK_ID_SYSTEM, &report);
        ASSERT(r->state == CHECK_PASS);
        ASSERT_STREQ(r->reason, "System check identified no issues");
        check_result_free(r);

        /* An app the server does not load (not installed, not in PLUGINS): not verified. */
        report.n_apps = 1;
        r = judge_probe(cfg, CHECK_ID_SYSTEM, &report);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT_STREQ(
                r->reason,
                "the server does not load app '" LABEL
                "' (nautobot-contract-models): it is not installed, or not in PLUGINS of nautobot_config.py");
        check_result_free(r);

        /* Which apps it loads is unknown: not held against it. */
        report.apps_error = (char *)"ImportError: x";
        r = judge_probe(cfg, CHECK_ID_SYSTEM, &report);
        ASSERT(r->state == CHECK_PASS);
        check_result_free(r);
}

/* Rows no installed code ships: the other apps' are theirs, the rest fails this one. */
static void test_not_shipped_other_apps(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *out = NULL;
        ProbeAppAnswer a = {.label = (char *)LABEL, .makemigrations = no_changes(LABEL, &out)};
        char *theirs[] = {(char *)OTHER ".0011_gone", NULL};
        char *mixed[] = {(char *)OTHER ".0011_gone", (char *)LABEL ".0009_gone", NULL};
        ProbeReport report = {.answers = &a, .n_answers = 1, .applied_not_shipped = theirs};
        CheckResult *r;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, LABEL) == 0);
        ASSERT(strv_extend(&cfg->other_app_labels, OTHER) == 0);
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_PASS);
        check_result_free(r);
        report.applied_not_shipped = mixed;
        r = judge_probe(cfg, CHECK_ID_MIGRATIONS, &report);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT(strstr(r->reason,
                      "1 migration(s) that no installed code ships (" LABEL ".0009_gone)"));
        check_result_free(r);
}

int main(void)
{
        RUN(test_own_answer);
        RUN(test_no_answer);
        RUN(test_plan_other_apps);
        RUN(test_system);
        RUN(test_not_shipped_other_apps);
        return 0;
}
