/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The panels check's judging with allocations failing (oom-sweep.h). It
 * includes check-panels.c to reach its static judging and private state; the
 * real home page (fixtures/home.html) arrives as the answer to the home page
 * request, then, with the probe, the panels the installed code declares.
 */
#include "check-panels.c"
#include "oom-sweep.h"
#include "test.h"

typedef struct Scenario {
        const char *declared; /* the panels the installed code declares, ";"-separated; NULL:
                                 no probe */
} Scenario;

static Probe *probe;
static Buf home;

static void run(Check *c, const OomPlan *p, void *userdata)
{
        const Scenario *sc = userdata;
        _cleanup_strv_free_ char **declared = NULL;
        PanelsState *s = calloc(1, sizeof(*s));

        ASSERT(s);
        c->state = s;
        c->state_free = panels_state_free;
        s->check = c;
        s->home_url = strdup("http://127.0.0.1:8080/");
        s->login_url = strdup("http://127.0.0.1:8080/login/");
        ASSERT(s->home_url && s->login_url);
        s->step = STEP_HOME;
        if (sc->declared) {
                _cleanup_free_ char *titles = strdup(sc->declared);
                char *save = NULL;

                ASSERT(titles);
                for (char *t = strtok_r(titles, ";", &save); t; t = strtok_r(NULL, ";", &save))
                        ASSERT(strv_extend(&declared, t) == 0);
                s->probe = probe;
        }

        oom_arm(p);
        on_response(NULL, &(HttpResponse){.status = 200, .body = &home}, c);
        /* A check that completed has left the probe: it is told nothing more. */
        if (sc->declared && !c->completed)
                on_probe(
                        &(ProbeOutcome){
                                .report =
                                        &(ProbeReport){
                                                .answers =
                                                        &(ProbeAppAnswer){
                                                                .label =
                                                                        (char *)"nautobot_contract_models",
                                                                .panels = declared,
                                                                .panels_present = true},
                                                .n_answers = 1}},
                        c);
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *path = fixture("home.html"), *page = NULL;
        const char *from, *to;
        CheckEnv env = {};

        /* The real page's panels, without its 290 KB of styles and scripts: each of the ~600
         * runs parses the page (under valgrind too). */
        ASSERT(read_file_bounded(path, HTTP_BODY_MAX, &page, NULL) == 0);
        from = strstr(page, "<div class=\"card nb-draggable\"");
        to = from ? strstr(from, "</main>") : NULL;
        ASSERT(from && to);
        buf_init(&home, HTTP_BODY_MAX);
        ASSERT(buf_printf(&home, "<html><body><main>%.*s</main></body></html>", (int)(to - from),
                          from) == 0);
        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->url, "http://127.0.0.1:8080") == 0);
        ASSERT(free_and_strdup(&cfg->username, "admin") == 0);
        ASSERT(free_and_strdup(&cfg->package, "nautobot-contract-models") == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "nautobot_contract_models") == 0);
        ASSERT(sd_event_default(&e) >= 0);
        ASSERT(probe_new(&probe, e,
                         &(ProbeOptions){.server = "/nonexistent/nautobot-server",
                                         .path = "/nonexistent/probe.py",
                                         .app_labels = "nautobot_contract_models",
                                         .sections = "panels"}) >= 0);
        env = (CheckEnv){.event = e, .config = cfg};

        /* Two expected panels are on the page, a third is not. */
        cfg->panels = strv_free(cfg->panels);
        ASSERT(strv_extend(&cfg->panels, "Contracts") == 0);
        ASSERT(strv_extend(&cfg->panels, "Cost Summary") == 0);
        ASSERT(strv_extend(&cfg->panels, "Maintenance Calendar") == 0);
        oom_sweep("panels, an expected panel missing", &env, CHECK_ID_PANELS, run, &(Scenario){},
                  "expected panels are not on the home page");

        /* The expected ones are shown; the installed code declares one more that is not. */
        cfg->panels = strv_free(cfg->panels);
        ASSERT(strv_extend(&cfg->panels, "Contracts") == 0);
        ASSERT(strv_extend(&cfg->panels, "Cost Summary") == 0);
        oom_sweep("panels, a declared panel not shown", &env, CHECK_ID_PANELS, run,
                  &(Scenario){.declared = "Contracts;Cost Summary;Vendor Concentration;"
                                          "Maintenance Calendar"},
                  "that the home page does not show");

        probe = probe_free(probe);
        buf_done(&home);
        printf("ok - panels\n");
        return 0;
}
