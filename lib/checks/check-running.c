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
#include "probe.h"
#include "procscan.h"

#define RUNNING_AGAIN_USEC (500 * USEC_PER_MSEC)

typedef struct RunningState {
        HttpSession *http;
        char *url;
        Probe *probe; /* subscribed to, for the workers the broker names */
        Check *check;
        long long workers; /* how many the API said answer */
        size_t local_workers;
        pid_t ours[PROCSCAN_MAX]; /* the venv's processes the /proc scan judged */
        size_t n_ours;
        sd_event_source *again; /* asks again: the restarted worker has not answered yet */
} RunningState;

static void running_state_free(void *p)
{
        RunningState *s = p;

        sd_event_source_disable_unref(s->again);

        if (s->probe)
                probe_unsubscribe(s->probe, s->check);

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
        RunningState *s = c->state;
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
                (void)check_result_add_finding(c->result, "cannot list this host's processes: %s",
                                               strerror(-r));
                return 0;
        }
        buf_init(&b, 4096);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *hint = NULL;
                char started[64];

                if (streq(p[i].role, "Celery worker"))
                        workers++;
                s->ours[s->n_ours++] = p[i].pid; /* procscan_find() gives PROCSCAN_MAX at most */
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
                                c->result, "also started before the install (%s) on this host: %s",
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
        else if (st->workers == 0) {
                check_result_set(
                        res, CHECK_FAIL,
                        "no Celery worker answers: start nautobot-worker.service (Jobs, including the app's, run only on a worker)");
                /* A worker restarted a moment ago joins the broker seconds after it starts. */
                res->unanswered = true;
        } else {
                check_result_set(
                        res, CHECK_PASS,
                        "the web server runs the installed %s %s and Nautobot %s; %lld Celery worker(s) answer",
                        cfg->package, served, st->nautobot_version, (long long)st->workers);
        }
        ((RunningState *)c->state)->workers = st->workers;
        ((RunningState *)c->state)->local_workers = judge_processes(c);
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

/* Without the broker's word: what the count says of workers elsewhere. */
static void note_uncounted_workers(Check *c)
{
        RunningState *s = c->state;

        /* Honest about the limit: a worker's loaded code is not in the API, and one on
         * another host cannot be looked at from here. */
        if (c->result->state == CHECK_PASS && s->workers > (long long)s->local_workers)
                (void)check_result_add_finding(
                        c->result,
                        "%lld of %lld Celery workers that answer run on no process of this host's %s: whether they were restarted after the install is not verifiable from here",
                        s->workers - (long long)s->local_workers, s->workers,
                        c->env->config->server);
}

static bool on_this_host(const char *worker)
{
        const char *at = strrchr(worker, '@');
        char host[256] = "";
        size_t n;

        if (!at || gethostname(host, sizeof(host) - 1) < 0)
                return false;
        at++;
        /* "celery@host" or "celery@host.example.org" for "host": the first label decides. */
        n = strcspn(host, ".");
        return streq(at, host) || (strncmp(at, host, n) == 0 && (at[n] == 0 || at[n] == '.'));
}

/*
 * The broker's word on each worker that answers. One on this host running
 * this virtualenv was judged by its start time already (judge_processes());
 * one on this host running another installation, or whose pid no process
 * here has (another pid namespace), and one on another host cannot be judged
 * from here: each is named, never counted as restarted.
 */
static void judge_workers(Check *c, const ProbeReport *rep)
{
        RunningState *s = c->state;
        const char *server = c->env->config->server;
        _cleanup_free_ char *remote = NULL, *other = NULL;
        size_t n_remote = 0, n_other = 0;
        Buf r, o;

        if (!rep || rep->workers_error) {
                if (rep)
                        (void)check_result_add_finding(
                                c->result, "the broker did not say which Celery workers answer: %s",
                                rep->workers_error);
                note_uncounted_workers(c);
                return;
        }
        buf_init(&r, 1024);
        buf_init(&o, 1024);
        for (size_t i = 0; i < rep->n_workers; i++) {
                const ProbeWorker *w = &rep->workers[i];
                bool ours = false;

                if (!on_this_host(w->hostname)) {
                        (void)buf_printf(&r, "%s%s (pid %d there)", n_remote++ ? ", " : "",
                                         w->hostname, w->pid);
                        continue;
                }
                for (size_t j = 0; j < s->n_ours; j++)
                        ours = ours || s->ours[j] == w->pid;
                if (!ours)
                        (void)buf_printf(&o, "%s%s (pid %d)", n_other++ ? ", " : "", w->hostname,
                                         w->pid);
        }
        remote = r.data;
        other = o.data;
        if (n_remote > 0)
                (void)check_result_add_finding(
                        c->result,
                        "%zu Celery worker(s) answer from other hosts: %s: whether they were restarted after the install is not verifiable from this host; restart them there",
                        n_remote, strempty(remote));
        if (n_other > 0)
                (void)check_result_add_finding(
                        c->result,
                        "%zu Celery worker(s) of this host run no program of %s's virtualenv (another installation, or a container with its own pid namespace): %s: not compared with this install",
                        n_other, server, strempty(other));
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Check *c = userdata;
        RunningState *s = c->state;

        s->probe = NULL; /* told: nothing to unsubscribe from */
        judge_workers(c, po->report);
        check_complete(c);
}

static void on_status(HttpSession *h, const HttpResponse *resp, void *userdata);

/* GET /api/status/; a request that cannot be sent completes the check. */
static void request_status(Check *c)
{
        RunningState *s = c->state;
        int r = http_session_request(s->http, s->url, NULL, NULL, on_status, c);

        if (r < 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot request %s: %s", s->url,
                                 strerror(-r));
                check_complete(c);
        }
}

static int on_again(sd_event_source *src, uint64_t usec, void *userdata)
{
        Check *c = userdata;
        RunningState *s = c->state;

        (void)src, (void)usec;
        s->again = sd_event_source_disable_unref(s->again);
        request_status(c);
        return 0;
}

/*
 * Right after the worker was restarted with the web server (the upgrade's
 * restarts), it may not have joined the broker yet: "no worker answers" is
 * then asked again, fresh (not the run's cached answer), until the wait ends.
 */
static bool ask_again(Check *c, const StatusReport *st)
{
        RunningState *s = c->state;
        const CheckEnv *env = c->env;

        if (st->workers != 0 || !env->web_wait_usec ||
            now_usec() + RUNNING_AGAIN_USEC > c->start_usec + env->web_wait_usec)
                return false;
        if (http_session_set_cache(s->http, NULL) < 0 ||
            sd_event_add_time_relative(env->event, &s->again, CLOCK_MONOTONIC, RUNNING_AGAIN_USEC,
                                       0, on_again, c) < 0)
                return false;
        (void)sd_event_source_set_description(s->again, "running-again");
        return true;
}

static void on_status(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Check *c = userdata;
        RunningState *s = c->state;
        _cleanup_(status_report_freep) StatusReport *st = NULL;
        _cleanup_free_ char *error = NULL, *status = NULL;
        int r;

        (void)h;
        /* Refused, or a proxy's word that nothing answers behind it: not started (yet). */
        c->result->unanswered =
                resp->curl_code == 7 /* CURLE_COULDNT_CONNECT */ ||
                (resp->curl_code == 0 && resp->status >= 502 && resp->status <= 504);
        if (c->result->unanswered)
                (void)check_result_set_pending(c->result, "the web server to answer");
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
        else {
                if (ask_again(c, st))
                        return;
                judge(c, st);
                /* The one Django boot also asks the broker which workers answer: wait for it. */
                if (c->env->probe && probe_subscribe(c->env->probe, on_probe, c) >= 0) {
                        s->probe = c->env->probe;
                        return;
                }
                note_uncounted_workers(c);
        }
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
        s->check = c;
        s->http = TAKE_PTR(http);
        s->url = check_url(c, "/api/status/");
        if (!s->url)
                return -ENOMEM;
        request_status(c);
        return 0;
}
