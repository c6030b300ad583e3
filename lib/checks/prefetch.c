/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The prefetch (prefetch.h): three sessions sending exactly what the checks
 * send — the same headers, URLs and forms, built by the same functions
 * (check_env_api_session(), check_env_url(), check_login_form()) — so the
 * cache finds the checks' requests to be these. The login stops where the
 * panels check would stop (a page without a form, a refused login): what it
 * has fetched until then is what the check will judge.
 */
#include <assert.h>

#include "parse-html.h"
#include "parse-jobs.h"
#include "prefetch.h"

/* The apps' Jobs whose variables are asked ahead; the core's are not (no check asks). */
#define PREFETCH_VARIABLES_MAX 32

typedef enum WebStep {
        WEB_LOGIN_FORM,
        WEB_LOGIN_POST,
        WEB_HOME,
} WebStep;

struct Prefetch {
        const CheckEnv *env;
        HttpSession *status;
        HttpSession *jobs;
        HttpSession *web;
        HttpSession *variables[PREFETCH_VARIABLES_MAX];
        size_t n_variables;
        WebStep step;
        char *login_url;
        char *home_url;
};

Prefetch *prefetch_free(Prefetch *p)
{
        if (!p)
                return NULL;
        http_session_free(p->status);
        http_session_free(p->jobs);
        http_session_free(p->web);
        for (size_t i = 0; i < p->n_variables; i++)
                http_session_free(p->variables[i]);
        free(p->login_url);
        free(p->home_url);
        free(p);
        return NULL;
}

/* Kept by the cache: nothing to do here. */
static void on_answer(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        (void)h, (void)resp, (void)userdata;
}

/*
 * The Job list arrived: whether the web server can load each app's Job (the
 * jobs check asks /api/extras/jobs/<id>/variables/ for every Job the app's
 * code defines), asked now, all at once. What cannot be asked, the check asks.
 */
static void on_jobs(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Prefetch *p = userdata;
        _cleanup_(job_page_freep) JobPage *page = NULL;
        _cleanup_free_ char *error = NULL;

        (void)h;
        if (resp->curl_code != 0 || resp->status != 200 || resp->body_truncated ||
            job_page_parse(strempty(resp->body->data), resp->body->len, &page, &error) < 0)
                return;
        for (size_t i = 0; i < page->n_jobs && p->n_variables < PREFETCH_VARIABLES_MAX; i++) {
                const JobRecord *j = &page->jobs[i];
                _cleanup_free_ char *url = NULL;
                HttpSession *s = NULL;

                if (!j->installed || !j->id || !j->module_name ||
                    startswith(j->module_name, "nautobot."))
                        continue;
                url = strjoin_printf("%s/api/extras/jobs/%s/variables/", p->env->config->url,
                                     j->id);
                if (!url || check_env_api_session(p->env, &s) < 0)
                        return;
                p->variables[p->n_variables++] = s;
                if (http_session_request(s, url, NULL, NULL, on_answer, p) < 0)
                        return;
        }
}

static void on_web(HttpSession *h, const HttpResponse *resp, void *userdata);

static int post_login(Prefetch *p, const HttpResponse *resp)
{
        _cleanup_(login_page_freep) LoginPage *page = NULL;
        _cleanup_free_ char *referer = NULL;
        _cleanup_erase_free_ char *form = NULL; /* holds the password */
        int r;

        if (resp->curl_code != 0 || resp->status != 200)
                return 0;
        r = html_parse_login(strempty(resp->body->data), resp->body->len, &page);
        if (r < 0 || !page->has_form || !page->csrf_token)
                return 0;
        r = check_login_form(p->web, p->env, p->login_url, page->csrf_token, &form, &referer);
        if (r < 0)
                return r;
        p->step = WEB_LOGIN_POST;
        return http_session_request(p->web, p->login_url, form, (char *[]){referer, NULL}, on_web,
                                    p);
}

static int web_next(Prefetch *p, const HttpResponse *resp)
{
        switch (p->step) {
        case WEB_LOGIN_FORM:
                return post_login(p, resp);
        case WEB_LOGIN_POST:
                /* Logged in: redirected, and not back to the login page. */
                if (resp->curl_code != 0 || (resp->status != 302 && resp->status != 303) ||
                    (resp->location && strstr(resp->location, "/login/")))
                        return 0;
                p->step = WEB_HOME;
                return http_session_request(p->web, p->home_url, NULL, NULL, on_web, p);
        case WEB_HOME:
                return 0;
        }
        return 0;
}

static void on_web(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Prefetch *p = userdata;

        (void)h;
        /* A step that cannot be sent is left to the check, which sends it itself and says why. */
        (void)web_next(p, resp);
}

static int start_api(Prefetch *p, HttpSession **session, const char *path, HttpDone done)
{
        _cleanup_free_ char *url = check_env_url(p->env, path);
        int r;

        if (!url)
                return -ENOMEM;
        r = check_env_api_session(p->env, session);
        if (r < 0)
                return r;
        return http_session_request(*session, url, NULL, NULL, done, p);
}

int prefetch_start(Prefetch **ret, const CheckEnv *env, const bool enabled[_CHECK_ID_MAX])
{
        _cleanup_(prefetch_freep) Prefetch *p = NULL;
        int r;

        assert(env->http_cache);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->env = env;
        if (env->token && enabled[CHECK_ID_RUNNING] &&
            (r = start_api(p, &p->status, "/api/status/", on_answer)) < 0)
                return r;
        if (env->token && enabled[CHECK_ID_JOBS] &&
            (r = start_api(p, &p->jobs, JOBS_LIST_PATH, on_jobs)) < 0)
                return r;
        if (env->password && enabled[CHECK_ID_PANELS]) {
                p->login_url = check_env_url(env, "/login/");
                p->home_url = check_env_url(env, "/");
                if (!p->login_url || !p->home_url)
                        return -ENOMEM;
                r = check_env_http_session(env, &p->web);
                if (r < 0)
                        return r;
                p->step = WEB_LOGIN_FORM;
                r = http_session_request(p->web, p->login_url, NULL, NULL, on_web, p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
