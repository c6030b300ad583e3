/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running against installed: the upgrade guide's restart step. uWSGI keeps
 * the code it loaded at start, so after "pip install --upgrade" the web
 * server serves the old release until nautobot.service is restarted, and new
 * Jobs run only on a restarted worker. GET /api/status/ says what the running
 * web server has loaded and how many Celery workers answer; this check
 * compares that with the dist-infos on disk.
 */
#include <libgen.h>

#include "check.h"
#include "parse-status.h"
#include "procscan.h"

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

/* "systemctl restart x.service", "docker restart 0123abcd", else a signal and a start. */
static char *restart_hint(const ServerProcess *p)
{
        const char *cg = p->cgroup ? strrchr(p->cgroup, '/') : NULL;

        if (cg && endswith(cg, ".service"))
                return strjoin_printf("systemctl restart %s", cg + 1);
        if (cg && startswith(cg, "/docker-") && endswith(cg, ".scope"))
                return strjoin_printf("docker restart %.12s", cg + strlen("/docker-"));
        return strjoin_printf("kill -TERM %d, then start it again the way it is run here",
                              (int)p->pid);
}

/* Whether the configured units hold p: the restarts check speaks for those (it names the unit). */
static bool in_unit(const Config *cfg, const ServerProcess *p)
{
        const char *cg = p->cgroup ? strrchr(p->cgroup, '/') : NULL;

        STRV_FOREACH (u, cfg->units)
                if (cg && streq(cg + 1, *u))
                        return true;
        return false;
}

/*
 * needrestart's question for Nautobot's processes on this host, wherever they
 * were started (supervisord, a shell, a container runtime): one of the
 * virtualenv's workers, beat or web server that started before the newest
 * install still runs the code from before. Returns how many local Celery
 * workers were seen (0: none, so the API's count is all there is).
 */
static size_t judge_processes(Check *c)
{
        const CheckEnv *env = c->env;
        const Config *cfg = env->config;
        _cleanup_free_ char *bindir = NULL, *list = NULL;
        ServerProcess *p = NULL;
        size_t n = 0, stale = 0, workers = 0;
        Buf b;
        int r;

        if (!env->install_usec || !(bindir = strdup(cfg->server)))
                return 0;
        r = procscan_find("/proc", dirname(bindir), &p, &n);
        if (r < 0) {
                (void)check_result_add_finding(c->result,
                                               "cannot list this host's processes: %s",
                                               strerror(-r));
                return 0;
        }
        buf_init(&b, 4096);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *hint = NULL;
                char started[64];

                if (streq(p[i].role, "Celery worker"))
                        workers++;
                /* A second's slack: the install's own files are written over a moment. */
                if (p[i].start_usec + USEC_PER_SEC >= env->install_usec || in_unit(cfg, &p[i]))
                        continue;
                stale++;
                format_clock(p[i].start_usec, started, sizeof(started));
                hint = restart_hint(&p[i]);
                (void)buf_printf(&b, "%s%s pid %d started %s (%.160s): %s", stale > 1 ? "; " : "",
                                 p[i].role, (int)p[i].pid, started, strempty(p[i].cmdline),
                                 strempty(hint));
        }
        server_processes_free(p, n);
        list = b.data;
        if (stale == 0)
                return workers;
        {
                char installed[64];

                format_clock(env->install_usec, installed, sizeof(installed));
                /* A stale web server the API showed already is the reason; this adds the rest. */
                if (c->result->state == CHECK_FAIL)
                        (void)check_result_add_finding(
                                c->result,
                                "also started before the install (%s) on this host: %s",
                                installed, strempty(list));
                else
                        (void)check_result_set(
                                c->result, CHECK_FAIL,
                                "%zu of Nautobot's processes on this host started before %s was installed (%s) and still run the code from before (new or changed Jobs are not picked up): %s",
                                stale, strempty(env->install_what), installed, strempty(list));
        }
        return workers;
}

static void judge(Check *c, const StatusReport *st)
{
        const CheckEnv *env = c->env;
        const Config *cfg = env->config;
        CheckResult *res = c->result;
        const char *served = status_app_version(st, cfg->app_label);
        _cleanup_free_ char *apps = strv_join(st->apps, ", "), *ev = NULL;
        size_t local_workers;
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
        }
        local_workers = judge_processes(c);
        /* Honest about the limit: a worker's loaded code is not in the API, and one on
         * another host cannot be looked at from here. */
        if (res->state == CHECK_PASS && (size_t)st->workers > local_workers)
                check_result_add_finding(
                        res,
                        "%lld of %lld Celery workers that answer run on no process of this host's %s: whether they were restarted after the install is not verifiable from here",
                        (long long)st->workers - (long long)local_workers, (long long)st->workers,
                        cfg->server);
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
