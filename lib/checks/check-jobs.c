/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Job registry check. The upgrade guide says to look at
 * /jobs/?grouping=Contracts; on Nautobot 3.x that page does not exist and the
 * app's Jobs are grouped by their module ("nautobot_contract_models.jobs"),
 * because the app sets only Meta.grouping. So Jobs are found by what truly
 * identifies them, module and class name, through the REST API, and a
 * grouping other than the expected one is reported as a finding.
 *
 * The database's Job rows are refreshed only by "migrate": after an upgrade
 * they can list a class the installed code no longer defines (running it
 * fails: "Job class not found"), or miss one it defines. When the Django
 * probe runs (probe.h), the Job classes the installed code registers are
 * compared with the rows, and the check waits for both answers.
 */
#include <inttypes.h>

#include <json-c/json.h>

#include "check.h"
#include "parse-jobs.h"

typedef struct JobsState {
        HttpSession *http;
        JobRecord *jobs; /* every Job of every page */
        size_t n_jobs;
        unsigned pages;
        char *url; /* the page being fetched, without secrets */
        Check *check;
        Probe *probe;  /* subscribed to, until it answers */
        bool api_done; /* every page read */
        bool probe_answered;
        char **code_jobs;  /* "module.Class" of job-module the installed code registers */
        char **expected;   /* class names: the installed code's, and [package] jobs= */
        size_t next_load;  /* the expected Job whose loadability is asked next */
        char **unloadable; /* expected Jobs the web server cannot load */
        char *code_error;  /* why they are unknown */
} JobsState;

static void jobs_state_free(void *p)
{
        JobsState *s = p;

        if (s->probe)
                probe_unsubscribe(s->probe, s->check);
        strv_free(s->code_jobs);
        strv_free(s->expected);
        strv_free(s->unloadable);
        free(s->code_error);
        http_session_free(s->http);
        job_records_done(s->jobs, s->n_jobs);
        free(s->jobs);
        free(s->url);
        free(s);
}

static bool in_module(const JobRecord *j, const char *module)
{
        const char *rest = startswith(j->module_name, module);

        /* The module itself, or a submodule of it (jobs/renewals.py). */
        return rest && (*rest == 0 || *rest == '.');
}

static const JobRecord *find_job(const JobsState *s, const char *module, const char *class)
{
        for (size_t i = 0; i < s->n_jobs; i++)
                if (streq(s->jobs[i].job_class_name, class) &&
                    (!module || in_module(&s->jobs[i], module)))
                        return &s->jobs[i];
        return NULL;
}

static bool code_defines(const JobsState *s, const JobRecord *j)
{
        STRV_FOREACH (p, s->code_jobs) {
                const char *rest = startswith(*p, j->module_name);

                if (rest && *rest == '.' && streq(rest + 1, j->job_class_name))
                        return true;
        }
        return false;
}

/* The database's rows against the installed code's classes (the probe's answer). */
static void judge_code(Check *c)
{
        JobsState *s = c->state;
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **stale = NULL, **unregistered = NULL;
        _cleanup_free_ char *st = NULL, *un = NULL;
        int r = 0;

        if (!s->probe_answered)
                return;
        if (s->code_error) {
                check_result_add_finding(res,
                                         "the Job classes of the installed code are unknown (%s)",
                                         s->code_error);
                return;
        }
        for (size_t i = 0; i < s->n_jobs && r >= 0; i++)
                if (in_module(&s->jobs[i], cfg->job_module) && s->jobs[i].installed &&
                    !code_defines(s, &s->jobs[i]))
                        r = strv_extend(&stale, s->jobs[i].job_class_name);
        STRV_FOREACH (p, s->code_jobs) {
                const char *class = strrchr(*p, '.') + 1;
                bool listed = false;

                for (size_t i = 0; i < s->n_jobs && !listed; i++)
                        listed = streq(s->jobs[i].job_class_name, class) &&
                                 startswith(*p, s->jobs[i].module_name) &&
                                 (*p)[strlen(s->jobs[i].module_name)] == '.' &&
                                 s->jobs[i].installed;
                if (!listed && r >= 0)
                        r = strv_extend(&unregistered, class);
        }
        if (r < 0) {
                check_result_set(res, CHECK_ERROR, "out of memory while judging the Job list");
                return;
        }
        st = strv_join(stale, ", ");
        un = strv_join(unregistered, ", ");
        if (stale)
                check_result_set(
                        res, CHECK_FAIL,
                        "the database lists %zu Job(s) of %s as installed that the installed code no longer defines (%s): running them fails with \"Job class not found\"; run \"nautobot-server migrate\" (or post_upgrade) to refresh the registry, then restart nautobot-worker",
                        strv_length(stale), cfg->job_module, strempty(st));
        else if (unregistered)
                check_result_set(
                        res, CHECK_FAIL,
                        "the installed code defines %zu Job(s) of %s that the database does not list as installed (%s): run \"nautobot-server migrate\" (it registers them), then restart nautobot-worker",
                        strv_length(unregistered), cfg->job_module, strempty(un));
}

static void judge(Check *c)
{
        JobsState *s = c->state;
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **missing = NULL, **uninstalled = NULL, **groupings = NULL;
        Buf ev;
        size_t enabled = 0, found = 0;
        bool oom = false; /* a Job dropped from a list could turn a fail into a pass */

        buf_init(&ev, RESULT_EVIDENCE_MAX);
        buf_printf(&ev, "%zu Job(s) on %u page(s) of %s/api/extras/jobs/\n", s->n_jobs, s->pages,
                   cfg->url);
        STRV_FOREACH (class, s->expected) {
                const JobRecord *j = find_job(s, cfg->job_module, *class), *elsewhere;

                if (!j) {
                        elsewhere = find_job(s, NULL, *class);
                        if (elsewhere)
                                buf_printf(&ev, "%s: not in module %s, but found in %s\n", *class,
                                           cfg->job_module, elsewhere->module_name);
                        else
                                buf_printf(&ev, "%s: missing\n", *class);
                        if (strv_extend(&missing, *class) < 0)
                                oom = true;
                        continue;
                }
                found++;
                buf_printf(&ev, "%s \"%s\": %s, %s%s, grouping \"%s\"\n", *class, j->name,
                           j->installed ? "installed" : "NOT installed",
                           j->enabled ? "enabled" : "disabled", j->hidden ? ", hidden" : "",
                           strempty(j->grouping));
                /* Not installed although the installed code defines it: not registered yet, a
                 * forgotten migrate, which judge_code() names; else its class no longer loads. */
                if (!j->installed && !code_defines(s, j) && strv_extend(&uninstalled, *class) < 0)
                        oom = true;
                if (j->enabled)
                        enabled++;
                if (!streq_ptr(j->grouping, cfg->job_grouping) &&
                    !strv_contains(groupings, strempty(j->grouping)) &&
                    strv_extend(&groupings, strempty(j->grouping)) < 0)
                        oom = true;
        }
        if (oom) {
                buf_done(&ev);
                check_result_set(res, CHECK_ERROR, "out of memory while judging the Job list");
                return;
        }
        /* Jobs of the module that nobody expected: left over (judge_code() fails installed ones).
         */
        for (size_t i = 0; i < s->n_jobs; i++)
                if (in_module(&s->jobs[i], cfg->job_module) &&
                    !strv_contains(s->expected, s->jobs[i].job_class_name))
                        check_result_add_finding(
                                res, "Job %s \"%s\" is %s but not in the expected list",
                                s->jobs[i].job_class_name, s->jobs[i].name,
                                s->jobs[i].installed ? "installed" : "registered (not installed)");
        check_result_set_evidence(res, strempty(ev.data));
        buf_done(&ev);

        if (missing || uninstalled) {
                _cleanup_free_ char *m = strv_join(missing, ", "),
                                    *u = strv_join(uninstalled, ", ");

                check_result_set(
                        res, CHECK_FAIL, "%zu of %zu expected Jobs are not usable:%s%s%s%s%s",
                        strv_length(missing) + strv_length(uninstalled), strv_length(s->expected),
                        missing ? " missing: " : "", missing ? strempty(m) : "",
                        missing && uninstalled ? ";" : "",
                        uninstalled
                                ? " registered but not installed (their class no longer loads; restart nautobot and nautobot-worker, then run nautobot-server migrate): "
                                : "",
                        uninstalled ? strempty(u) : "");
        } else
                check_result_set(res, CHECK_PASS,
                                 "all %zu expected Jobs are installed (%zu enabled, %zu disabled)",
                                 found, enabled, found - enabled);

        if (groupings && cfg->job_grouping) {
                _cleanup_free_ char *g = strv_join(groupings, "\", \"");

                check_result_add_finding(
                        res,
                        "the app's Jobs are grouped as \"%s\", not \"%s\" as expected: the upgrade guide's /jobs/?grouping=%s lists none of them; on this server they are under Jobs (/extras/jobs/) in group \"%s\"",
                        strempty(g), cfg->job_grouping, cfg->job_grouping, strempty(g));
        }
        if (found > enabled) {
                const Profile *p = config_profile(cfg, cfg->package);

                check_result_add_finding(
                        res,
                        "%zu of %zu expected Jobs are disabled (Nautobot creates new Jobs disabled): enable the ones you run%s%s",
                        found - enabled, found, p && p->jobs_disabled ? ", " : "",
                        p && p->jobs_disabled ? p->jobs_disabled : "");
        }
        if (res->state == CHECK_PASS)
                judge_code(c);
        if (res->state == CHECK_PASS && s->unloadable) {
                _cleanup_free_ char *u = strv_join(s->unloadable, ", ");

                check_result_set(
                        res, CHECK_FAIL,
                        "the web server cannot load %zu expected Job(s) (%s): /api/extras/jobs/<id>/variables/ answers 404, and running them is refused (\"This job's source code could not be located\"); restart nautobot.service, and if it persists the installed code no longer defines them",
                        strv_length(s->unloadable), strempty(u));
        }
}

static void ask_next_load(Check *c);

/*
 * A 5xx from the variables endpoint: the class was found and loaded (a class
 * that does not load answers 404), but describing its variables failed.
 * Nautobot's REST API names the exception in a JSON body: say it.
 */
static void note_server_error(Check *c, const char *class, const HttpResponse *resp)
{
        json_object *doc = NULL, *v;
        const char *exception = NULL, *error = NULL;

        if (resp->body && resp->body->data && !resp->body_truncated)
                doc = json_tokener_parse(resp->body->data);
        if (doc && json_object_object_get_ex(doc, "exception", &v) &&
            json_object_is_type(v, json_type_string))
                exception = json_object_get_string(v);
        if (doc && json_object_object_get_ex(doc, "error", &v) &&
            json_object_is_type(v, json_type_string))
                error = json_object_get_string(v);
        (void)check_result_add_finding(
                c->result,
                "the web server loads Job %s, but describing its variables fails: /api/extras/jobs/<id>/variables/ answers %ld%s%s%s%s%s (a fault in the Job's variables, not in loading it: a class that does not load answers 404)",
                class, resp->status, exception || error ? " (" : "", strempty(exception),
                exception && error ? ": " : "", strempty(error), exception || error ? ")" : "");
        json_object_put(doc);
}

static void on_variables(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Check *c = userdata;
        JobsState *s = c->state;
        const char *class = s->expected[s->next_load - 1];

        (void)h;
        if (resp->curl_code == 0 && resp->status == 404 && strv_extend(&s->unloadable, class) < 0) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        if (resp->curl_code == 0 && resp->status >= 500)
                note_server_error(c, class, resp);
        else if (resp->curl_code != 0 || (resp->status != 200 && resp->status != 404))
                check_result_add_finding(
                        c->result, "whether the web server can load Job %s is unknown: %s", class,
                        resp->curl_code ? strempty(resp->error) : "unexpected status");
        ask_next_load(c);
}

/*
 * The web server's own word on each expected Job: the variables endpoint
 * loads the Job's class (404 when it cannot). One request at a time, then judge.
 */
static void ask_next_load(Check *c)
{
        JobsState *s = c->state;
        const Config *cfg = c->env->config;

        while (s->expected && s->next_load < strv_length(s->expected)) {
                const JobRecord *j = find_job(s, cfg->job_module, s->expected[s->next_load++]);
                _cleanup_free_ char *url = NULL;

                if (!j || !j->installed || !j->id)
                        continue; /* missing or not installed: judged from the list */
                url = strjoin_printf("%s/api/extras/jobs/%s/variables/", cfg->url, j->id);
                if (url && free_and_strdup(&s->url, url) >= 0 &&
                    http_session_request(s->http, url, NULL, NULL, on_variables, c) >= 0)
                        return;
                check_result_add_finding(c->result,
                                         "could not ask whether the web server loads Job %s",
                                         s->expected[s->next_load - 1]);
        }
        judge(c);
        check_complete(c);
}

/*
 * What the server must show: the Job classes the installed code declares (the
 * code is the truth about the release), plus [package] jobs=. Without the
 * probe's answer and without a list, every Job of the module the database
 * lists. Also records what the server shows, for the next runs' baseline.
 */
static int set_expected(Check *c)
{
        JobsState *s = c->state;
        const Config *cfg = c->env->config;
        _cleanup_strv_free_ char **observed = NULL;
        bool code_known = s->probe && s->probe_answered && !s->code_error;

        STRV_FOREACH (p, s->code_jobs)
                if (!strv_contains(s->expected, strrchr(*p, '.') + 1) &&
                    strv_extend(&s->expected, strrchr(*p, '.') + 1) < 0)
                        return -ENOMEM;
        STRV_FOREACH (p, cfg->jobs)
                if (!strv_contains(s->expected, *p) && strv_extend(&s->expected, *p) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < s->n_jobs; i++) {
                const JobRecord *j = &s->jobs[i];

                if (!in_module(j, cfg->job_module))
                        continue;
                if (!code_known && !cfg->jobs && !strv_contains(s->expected, j->job_class_name) &&
                    strv_extend(&s->expected, j->job_class_name) < 0)
                        return -ENOMEM;
                if (j->installed) {
                        _cleanup_free_ char *item =
                                strjoin_printf("%s (%s)", j->job_class_name, strempty(j->name));

                        if (!item || strv_extend(&observed, item) < 0)
                                return -ENOMEM;
                }
        }
        return check_result_set_observed(c->result, TAKE_PTR(observed));
}

/* Both answers in (the API's pages, and the probe's when it runs): judge and complete. */
static void maybe_finish(Check *c)
{
        JobsState *s = c->state;

        if (!s->api_done || (s->probe && !s->probe_answered))
                return;
        if (set_expected(c) < 0) {
                check_result_set(c->result, CHECK_ERROR,
                                 "out of memory while judging the Job list");
                check_complete(c);
                return;
        }
        ask_next_load(c);
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Check *c = userdata;
        JobsState *s = c->state;
        const char *module = c->env->config->job_module;
        size_t ml = strlen(module);
        int r = 0;

        s->probe_answered = true;
        if (!po->report || po->report->jobs_error) {
                s->code_error =
                        strjoin_printf("the Django probe %s: %s",
                                       po->start_error < 0 ? "did not start" : "gave no Job list",
                                       po->start_error < 0 ? strerror(-po->start_error)
                                       : po->report        ? po->report->jobs_error
                                                           : strempty(po->report_error));
                r = s->code_error ? 0 : -ENOMEM;
        } else
                STRV_FOREACH (j, po->report->jobs)
                        /* The module itself or a submodule: "<module>.Class", "<module>.sub.Class".
                         */
                        if (strncmp(*j, module, ml) == 0 && (*j)[ml] == '.' &&
                            (r = strv_extend(&s->code_jobs, *j)) < 0)
                                break;
        if (r < 0) {
                /* Not "unknown" (a finding on a pass): a class dropped from the list would hide
                 * a Job the database does not list. */
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        maybe_finish(c);
}

static int fetch(Check *c, const char *url);

static void on_page(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Check *c = userdata;
        JobsState *s = c->state;
        CheckResult *res = c->result;
        _cleanup_(job_page_freep) JobPage *page = NULL;
        _cleanup_free_ char *error = NULL, *status = NULL;
        const char *body = resp->body->data;
        int r;

        (void)h;
        if (resp->curl_code != 0) {
                check_result_set(res, CHECK_ERROR, "cannot fetch %s: %s", s->url, resp->error);
                goto done;
        }
        status = http_status_text(resp->status, resp->body->len < 65536 ? body : NULL);
        if (resp->status == 401 || resp->status == 403) {
                check_result_set(
                        res, CHECK_ERROR,
                        "the API token was refused (%s): check [credentials] token-file= and that the token's user may view Jobs",
                        strempty(status));
                goto done;
        }
        if (resp->status >= 500) {
                check_result_set(res, CHECK_FAIL, "the Job API failed (%s at %s)", strempty(status),
                                 s->url);
                goto done;
        }
        if (resp->status != 200) {
                check_result_set(res, CHECK_ERROR,
                                 "unexpected answer from %s (%s): is url= Nautobot's base URL?",
                                 s->url, strempty(status));
                goto done;
        }
        if (resp->body_truncated) {
                check_result_set(res, CHECK_ERROR, "the answer from %s is larger than %d bytes",
                                 s->url, HTTP_BODY_MAX);
                goto done;
        }
        r = job_page_parse(strempty(body), resp->body->len, &page, &error);
        if (r < 0) {
                check_result_set(res, CHECK_ERROR, "cannot read the Job list from %s: %s", s->url,
                                 error ?: strerror(-r));
                goto done;
        }

        JobRecord *n = realloc(s->jobs, sizeof(JobRecord) * (s->n_jobs + page->n_jobs + 1));
        if (!n) {
                check_result_set(res, CHECK_ERROR, "out of memory");
                goto done;
        }
        s->jobs = n;
        memcpy(s->jobs + s->n_jobs, page->jobs, sizeof(JobRecord) * page->n_jobs);
        s->n_jobs += page->n_jobs;
        page->n_jobs = 0; /* moved */
        s->pages++;

        if (page->next) {
                /* Never send the token anywhere but the configured server. */
                const char *rest = startswith(page->next, c->env->config->url);

                if (!rest || (*rest != '/' && *rest != 0)) {
                        check_result_set(
                                res, CHECK_ERROR,
                                "the Job list's next page %s is not below url= %s (set url= to the address Nautobot calls itself)",
                                page->next, c->env->config->url);
                        goto done;
                }
                if (s->pages >= JOB_PAGES_MAX) {
                        check_result_set(res, CHECK_ERROR,
                                         "the Job list has more than %d pages of 1000",
                                         JOB_PAGES_MAX);
                        goto done;
                }
                r = fetch(c, page->next);
                if (r < 0) {
                        check_result_set(res, CHECK_ERROR, "cannot request %s: %s", page->next,
                                         strerror(-r));
                        goto done;
                }
                return;
        }
        s->api_done = true;
        maybe_finish(c);
        return;
done:
        check_complete(c);
}

static int fetch(Check *c, const char *url)
{
        JobsState *s = c->state;

        if (free_and_strdup(&s->url, url) < 0)
                return -ENOMEM;
        return http_session_request(s->http, url, NULL, NULL, on_page, c);
}

int check_jobs_start(Check *c)
{
        _cleanup_(http_session_freep) HttpSession *http = NULL;
        _cleanup_free_ char *url = NULL;
        JobsState *s;
        int r;

        r = check_api_session(c, &http);
        if (r < 0 || !http)
                return r; /* !http: no token, the check has completed */
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = jobs_state_free;
        s->check = c;
        s->http = TAKE_PTR(http);
        if (c->env->probe) {
                r = probe_subscribe(c->env->probe, on_probe, c);
                if (r < 0)
                        return r;
                s->probe = c->env->probe;
        }
        url = check_url(c, JOBS_LIST_PATH);
        if (!url)
                return -ENOMEM;
        r = fetch(c, url);
        if (r < 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot request %s: %s", url,
                                 strerror(-r));
                check_complete(c);
        }
        return 0;
}
