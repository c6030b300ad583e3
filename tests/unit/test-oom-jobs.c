/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The jobs check's judging with allocations failing (oom-sweep.h). It includes
 * check-jobs.c to reach its static judging and private state, so the module
 * keeps them private; the API pages and the probe's answer are set up as they
 * would have arrived, and the judging runs from the callback that starts it.
 */
#include "check-jobs.c"
#include "oom-sweep.h"
#include "test.h"

#define MODULE "nautobot_contract_models.jobs"

typedef struct Scenario {
        const char *rows; /* "Class:installed" rows of the database's Job list, ";"-separated */
        const char *code; /* the classes the installed code registers; NULL: no probe */
        bool unloadable;  /* the web server answers 404 for the last expected Job */
} Scenario;

static Probe *probe;

static void add_row(JobsState *s, const char *class, bool installed)
{
        JobRecord *j;

        s->jobs = realloc(s->jobs, sizeof(JobRecord) * (s->n_jobs + 1));
        ASSERT(s->jobs);
        j = &s->jobs[s->n_jobs++];
        *j = (JobRecord){
                .module_name = strdup(MODULE),
                .job_class_name = strdup(class),
                .name = strdup(class),
                .grouping = strdup(MODULE),
                .installed = installed,
                .enabled = true,
        };
        ASSERT(j->module_name && j->job_class_name && j->name && j->grouping);
}

static void run(Check *c, const OomPlan *p, void *userdata)
{
        const Scenario *sc = userdata;
        _cleanup_free_ char *rows = strdup(sc->rows);
        _cleanup_strv_free_ char **code = NULL;
        JobsState *s = calloc(1, sizeof(*s));
        char *save = NULL;

        ASSERT(s && rows);
        c->state = s;
        c->state_free = jobs_state_free;
        s->check = c;
        for (char *row = strtok_r(rows, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
                char *colon = strchr(row, ':');

                ASSERT(colon);
                *colon = 0;
                add_row(s, row, streq(colon + 1, "installed"));
        }
        s->pages = 1;
        s->api_done = true;

        if (sc->code) {
                ProbeReport report = {};
                _cleanup_free_ char *classes = strdup(sc->code);

                ASSERT(classes);
                for (char *k = strtok_r(classes, ";", &save); k; k = strtok_r(NULL, ";", &save))
                        ASSERT(strv_push(&code, strjoin_printf("%s.%s", MODULE, k)) == 0);
                report.jobs = code;
                s->probe = probe;
                oom_arm(p);
                on_probe(&(ProbeOutcome){.report = &report}, c);
        } else if (sc->unloadable) {
                Buf body = {};

                /* Asked last: the last expected Job (the rows have no id, so no request is made:
                 * this answer is the only one). */
                ASSERT(set_expected(c) == 0);
                s->next_load = strv_length(s->expected);
                oom_arm(p);
                on_variables(NULL, &(HttpResponse){.status = 404, .body = &body}, c);
        } else {
                oom_arm(p);
                maybe_finish(c);
        }
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        CheckEnv env = {};

        ASSERT(config_new(&cfg) == 0);
        /* One app's configuration, as config_for_app() makes it; the grouping differs from the
         * rows' (their module), so the grouping finding is judged too. */
        ASSERT(free_and_strdup(&cfg->package, "nautobot-contract-models") == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "nautobot_contract_models") == 0);
        ASSERT(free_and_strdup(&cfg->job_grouping, "Contracts") == 0);
        cfg->jobs = strv_free(cfg->jobs);
        ASSERT(strv_extend(&cfg->jobs, "RenewalCheckJob") == 0);
        ASSERT(strv_extend(&cfg->jobs, "CostHistoryJob") == 0);
        ASSERT(free_and_strdup(&cfg->job_module, MODULE) == 0);
        ASSERT(free_and_strdup(&cfg->url, "http://127.0.0.1:8080") == 0);
        ASSERT(sd_event_default(&e) >= 0);
        ASSERT(probe_new(&probe, e,
                         &(ProbeOptions){.server = "/nonexistent/nautobot-server",
                                         .path = "/nonexistent/probe.py",
                                         .app_labels = "nautobot_contract_models",
                                         .sections = "jobs"}) >= 0);
        env = (CheckEnv){.event = e, .config = cfg};

        /* As with [checks] django=command: the API's list alone. */
        oom_sweep("jobs, an expected Job missing", &env, CHECK_ID_JOBS, run,
                  &(Scenario){.rows = "CostHistoryJob:installed;OtherJob:installed"},
                  "not usable: missing: ");
        oom_sweep("jobs, an expected Job not installed", &env, CHECK_ID_JOBS, run,
                  &(Scenario){.rows = "RenewalCheckJob:no;CostHistoryJob:installed"},
                  "registered but not installed");
        /* With the probe: the database's rows against the installed code's classes. */
        oom_sweep("jobs, a class the database does not list", &env, CHECK_ID_JOBS, run,
                  &(Scenario){.rows = "RenewalCheckJob:installed;CostHistoryJob:installed",
                              .code = "RenewalCheckJob;CostHistoryJob;NewJob"},
                  "not usable: missing: ");
        oom_sweep("jobs, a row the code no longer defines", &env, CHECK_ID_JOBS, run,
                  &(Scenario){.rows = "RenewalCheckJob:installed;CostHistoryJob:installed;"
                                      "GoneJob:installed",
                              .code = "RenewalCheckJob;CostHistoryJob"},
                  "no longer defines");
        /* The web server's own word: the variables endpoint answers 404. */
        oom_sweep("jobs, a Job the web server cannot load", &env, CHECK_ID_JOBS, run,
                  &(Scenario){.rows = "RenewalCheckJob:installed;CostHistoryJob:installed",
                              .unloadable = true},
                  "cannot load 1 expected Job(s)");
        probe = probe_free(probe);
        printf("ok - jobs\n");
        return 0;
}
