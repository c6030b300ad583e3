/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running against installed: the upgrade guide's restart step. uWSGI keeps
 * the code it loaded at start, so after "pip install --upgrade" the web
 * server serves the old release until nautobot.service is restarted, and new
 * Jobs run only on a restarted worker. GET /api/status/ says what the running
 * web server has loaded and how many Celery workers answer; this check
 * compares that with the dist-infos on disk.
 */
#include "check.h"
#include "parse-status.h"

typedef struct RunningState {
        HttpSession *http;
        char *url;
} RunningState;

static void running_state_free(void *p)
{
        RunningState *s = p;

        http_session_free(s->http);
        free(s->url);
        free(s);
}

static void judge(Check *c, const StatusReport *st)
{
        const CheckEnv *env = c->env;
        const Config *cfg = env->config;
        CheckResult *res = c->result;
        const char *served = status_app_version(st, cfg->app_label);
        _cleanup_free_ char *apps = strv_join(st->apps, ", "), *ev = NULL;
        bool web_stale;

        ev = strjoin_printf(
                "running (%s): Nautobot %s; apps: %s; Celery workers answering: %lld\ninstalled (%s): %s %s; nautobot %s",
                c->env->config->url, st->nautobot_version, apps ? strempty(apps) : "none",
                (long long)st->workers, strempty(cfg->site_packages), cfg->package,
                env->installed_version ?: "unknown", env->nautobot_installed_version ?: "unknown");
        if (ev)
                check_result_set_evidence(res, ev);

        web_stale = !served || (env->installed_version && !streq(served, env->installed_version)) ||
                    (env->nautobot_installed_version &&
                     !streq(st->nautobot_version, env->nautobot_installed_version));
        if (!served)
                check_result_set(
                        res, CHECK_FAIL,
                        "the web server has not loaded the app '%s': restart nautobot.service after installing it, and check PLUGINS in nautobot_config.py",
                        cfg->app_label);
        else if (env->installed_version && !streq(served, env->installed_version))
                check_result_set(
                        res, CHECK_FAIL,
                        "the web server runs %s %s but %s is installed: restart nautobot.service (uWSGI keeps the code it started with), and nautobot-worker.service for the Jobs",
                        cfg->package, served, env->installed_version);
        else if (env->nautobot_installed_version &&
                 !streq(st->nautobot_version, env->nautobot_installed_version))
                check_result_set(
                        res, CHECK_FAIL,
                        "the web server runs Nautobot %s but %s is installed: restart nautobot.service and nautobot-worker.service",
                        st->nautobot_version, env->nautobot_installed_version);
        else if (st->workers == 0)
                check_result_set(
                        res, CHECK_FAIL,
                        "no Celery worker answers: start nautobot-worker.service (Jobs, including the app's, run only on a worker)");
        else {
                check_result_set(
                        res, CHECK_PASS,
                        "the web server runs the installed %s %s and Nautobot %s; %lld Celery worker(s) answer",
                        cfg->package, served, st->nautobot_version, (long long)st->workers);
                /* Honest about the limit: a worker's loaded code is not in the API. */
                check_result_add_finding(
                        res,
                        "a worker that answers is not proof it was restarted after the upgrade; the guide's restart of nautobot-worker.service is still needed for new or changed Jobs");
        }
        if (res->state != CHECK_PASS)
                (void)check_result_set_pending(
                        res, "%s",
                        st->workers == 0 && !web_stale
                                ? "a Celery worker to answer"
                                : "the web server to serve the installed release");
        if (!env->installed_version)
                check_result_add_finding(
                        res, "the installed version of %s is unknown, so it was not compared",
                        cfg->package);
}

static void on_status(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Check *c = userdata;
        RunningState *s = c->state;
        _cleanup_(status_report_freep) StatusReport *st = NULL;
        _cleanup_free_ char *error = NULL, *status = NULL;
        int r;

        (void)h;
        if (resp->curl_code != 0)
                check_result_set(c->result, CHECK_ERROR, "cannot fetch %s: %s", s->url,
                                 resp->error);
        else if (resp->status != 200) {
                status = http_status_text(resp->status,
                                          resp->body->len < 65536 ? resp->body->data : NULL);
                check_result_set(c->result, resp->status >= 500 ? CHECK_FAIL : CHECK_ERROR,
                                 "%s answered %s", s->url, strempty(status));
        } else if ((r = status_parse(strempty(resp->body->data), resp->body->len, &st, &error)) < 0)
                check_result_set(c->result, CHECK_ERROR, "cannot read %s: %s", s->url,
                                 error ?: strerror(-r));
        else
                judge(c, st);
        check_complete(c);
}

int check_running_start(Check *c)
{
        _cleanup_(http_session_freep) HttpSession *http = NULL;
        RunningState *s;
        int r;

        r = check_api_session(c, &http);
        if (r < 0 || !http)
                return r; /* !http: no token, the check has completed */
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = running_state_free;
        s->http = TAKE_PTR(http);
        s->url = check_url(c, "/api/status/");
        if (!s->url)
                return -ENOMEM;
        r = http_session_request(s->http, s->url, NULL, NULL, on_status, c);
        if (r < 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot request %s: %s", s->url,
                                 strerror(-r));
                check_complete(c);
        }
        return 0;
}
