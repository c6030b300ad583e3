/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dashboard panel check: log in through the real /login/ form (CSRF
 * cookie and token, then the session cookie), fetch the home page and find
 * each expected panel in the parsed HTML. A failed login, a redirect back to
 * the login page and a 500 on the home page are each told apart; so is a page
 * whose cards carry titles in markup this version cannot read, which is no
 * verdict on the panels.
 */
#include "check.h"
#include "parse-html.h"

typedef enum PanelsStep {
        STEP_LOGIN_FORM,
        STEP_LOGIN_POST,
        STEP_HOME,
} PanelsStep;

typedef struct PanelsState {
        Check *check;
        Probe *probe; /* subscribed to, until it answers */
        bool probe_answered;
        bool page_judged;
        char **declared; /* the panels the installed code declares */
        char **unseen;   /* of them, those the account may not see, and what it lacks for each */
        char **unseen_perms;
        char *declared_error;
        HomePage *home; /* the page, once judged */
        HttpSession *http;
        PanelsStep step;
        char *login_url;
        char *home_url;
} PanelsState;

static void panels_state_free(void *p)
{
        PanelsState *s = p;

        if (s->probe)
                probe_unsubscribe(s->probe, s->check);
        strv_free(s->declared);
        strv_free(s->unseen);
        strv_free(s->unseen_perms);
        free(s->declared_error);
        home_page_free(s->home);
        http_session_free(s->http);
        free(s->login_url);
        free(s->home_url);
        free(s);
}

/* Where the probe says the account may not see panel 'name', or -1. */
static ssize_t unseen_index(const PanelsState *s, const char *name)
{
        for (size_t i = 0; s->unseen && s->unseen[i]; i++)
                if (streq(s->unseen[i], name))
                        return (ssize_t)i;
        return -1;
}

/* The panels the installed code declares against the page (the probe's answer). */
static void judge_declared(Check *c)
{
        PanelsState *s = c->state;
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **hidden = NULL;
        size_t n_unseen = 0;

        if (res->state != CHECK_PASS)
                return;
        if (s->declared_error) {
                /* Expectations unknown and none configured: nothing was judged, so no pass. */
                if (!cfg->panels)
                        check_result_set(
                                res, CHECK_ERROR,
                                "the panels the installed %s declares are unknown (%s), and panels= names none: there is nothing to judge the home page by",
                                cfg->package, s->declared_error);
                else
                        check_result_add_finding(
                                res, "the panels the installed code declares are unknown (%s)",
                                s->declared_error);
                return;
        }
        STRV_FOREACH (p, s->declared) {
                ssize_t u = unseen_index(s, *p);

                if (home_page_find(s->home, *p))
                        continue;
                /*
                 * Not shown because the account may not see it (an upgrade added a model
                 * its permission does not cover): not a missing panel, and not judged.
                 */
                if (u >= 0) {
                        n_unseen++;
                        (void)check_result_add_finding(
                                res,
                                "panel \"%s\" is not shown to '%s', which has none of its permissions (%s): nautobot-verifyctl setup refreshes the account's permission",
                                *p, cfg->username, s->unseen_perms[u]);
                        continue;
                }
                if (strv_extend(&hidden, *p) < 0) {
                        check_result_set(res, CHECK_ERROR,
                                         "out of memory while judging the home page");
                        return;
                }
        }
        if (!hidden && n_unseen > 0 && n_unseen == strv_length(s->declared) && !cfg->panels) {
                check_result_set(
                        res, CHECK_ERROR,
                        "'%s' may see none of the %zu panels the installed %s declares, so none was judged: nautobot-verifyctl setup gives the account their permissions",
                        cfg->username, n_unseen, cfg->package);
                return;
        }
        if (hidden) {
                _cleanup_free_ char *h = strv_join(hidden, ", ");

                check_result_set(
                        res, CHECK_FAIL,
                        "the installed %s declares %zu panel(s) that the home page does not show: %s (a web server not restarted after the upgrade still renders the old release's panels; or '%s' lacks their permissions)",
                        cfg->package, strv_length(hidden), strempty(h), cfg->username);
        }
}

/*
 * The expected name (the installed code's panels, then panels=) that card is
 * found as, or NULL. Names, not titles, go into the baseline: a card found by
 * its id has a title that reads otherwise, or none.
 */
static const char *expected_name(const PanelsState *s, const Config *cfg, const Panel *card)
{
        STRV_FOREACH (p, s->declared)
                if (home_page_find(s->home, *p) == card)
                        return *p;
        STRV_FOREACH (p, cfg->panels)
                if (home_page_find(s->home, *p) == card)
                        return *p;
        return NULL;
}

/*
 * What the server showed of what was expected (the installed code's panels and
 * panels=; every titled card on the page when neither is known), in page order,
 * for the next runs' baseline; and the reason of a pass, with where the
 * expectations came from.
 */
static int observe(Check *c)
{
        PanelsState *s = c->state;
        const Config *cfg = c->env->config;
        _cleanup_strv_free_ char **seen = NULL;
        size_t expected = strv_length(cfg->panels);
        bool any = s->declared || cfg->panels;

        STRV_FOREACH (p, s->declared)
                if (!strv_contains(cfg->panels, *p) &&
                    (unseen_index(s, *p) < 0 || home_page_find(s->home, *p)))
                        expected++; /* one the account may not see was not judged */
        for (size_t i = 0; s->home && i < s->home->n_panels; i++) {
                const Panel *card = &s->home->panels[i];
                const char *name = any ? expected_name(s, cfg, card) : card->title;

                if (name && !strv_contains(seen, name) && strv_extend(&seen, name) < 0)
                        return -ENOMEM;
        }
        if (c->result->state == CHECK_PASS && s->probe && !s->declared_error)
                check_result_set(
                        c->result, CHECK_PASS,
                        "all %zu expected panels are on the home page (%zu declared by the installed %s, %zu in panels=)",
                        expected, strv_length(s->declared), cfg->package, strv_length(cfg->panels));
        return check_result_set_observed(c->result, TAKE_PTR(seen));
}

/* The page judged and the probe answered (when it runs): complete. */
static void maybe_finish(Check *c)
{
        PanelsState *s = c->state;

        if (!s->page_judged || (s->probe && !s->probe_answered))
                return;
        if (s->probe)
                judge_declared(c);
        if (c->result->state == CHECK_PASS && observe(c) < 0)
                check_result_set(c->result, CHECK_ERROR,
                                 "out of memory while judging the home page");
        check_complete(c);
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Check *c = userdata;
        PanelsState *s = c->state;
        const char *label = c->env->config->app_label;
        const ProbeAppAnswer *a = probe_report_app(po->report, label);
        int r = 0;

        s->probe_answered = true;
        if (a && a->panels_present) {
                STRV_FOREACH (p, a->panels)
                        if ((r = strv_extend(&s->declared, *p)) < 0)
                                break;
                for (size_t i = 0; r >= 0 && a->panels_unseen && a->panels_unseen[i]; i++)
                        if ((r = strv_extend(&s->unseen, a->panels_unseen[i])) >= 0)
                                r = strv_extend(&s->unseen_perms,
                                                strempty(a->panels_unseen_perms[i]));
        } else {
                /* Why the probe said nothing of this app's panels. */
                s->declared_error =
                        !po->report                ? strdup(strempty(po->report_error))
                        : po->report->panels_error ? strdup(po->report->panels_error)
                        : a && a->panels_error
                                ? strdup(a->panels_error)
                                : strjoin_printf("the probe gave no answer for app '%s'",
                                                 strempty(label));
                r = s->declared_error ? 0 : -ENOMEM;
        }
        if (r < 0) {
                /* Not "unknown" (a finding on a pass): a panel dropped from the list would hide
                 * one the page does not show. */
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        maybe_finish(c);
}

static void on_response(HttpSession *h, const HttpResponse *resp, void *userdata);

static bool is_login_url(const char *location)
{
        return location && strstr(location, "/login/");
}

int check_login_form(HttpSession *http, const CheckEnv *env, const char *login_url,
                     const char *csrf_token, char **ret_form, char **ret_referer)
{
        _cleanup_free_ char *token = NULL, *user = NULL, *referer = NULL;
        _cleanup_erase_free_ char *pass = NULL, *form = NULL; /* hold the password */

        token = http_escape(http, csrf_token);
        user = http_escape(http, env->config->username);
        pass = http_escape(http, strempty(env->password));
        form = strjoin_printf("csrfmiddlewaretoken=%s&username=%s&password=%s&next=%%2F",
                              strempty(token), strempty(user), strempty(pass));
        referer = strjoin_printf("Referer: %s", login_url);
        if (!token || !user || !pass || !form || !referer)
                return -ENOMEM;
        *ret_form = TAKE_PTR(form);
        *ret_referer = TAKE_PTR(referer);
        return 0;
}

static int post_login(Check *c, const HttpResponse *resp)
{
        PanelsState *s = c->state;
        CheckResult *res = c->result;
        const CheckEnv *env = c->env;
        _cleanup_(login_page_freep) LoginPage *page = NULL;
        _cleanup_free_ char *referer = NULL;
        _cleanup_erase_free_ char *form = NULL; /* holds the password */
        int r;

        if (resp->status != 200) {
                _cleanup_free_ char *st = http_status_text(resp->status, NULL);

                check_result_set(res, CHECK_ERROR, "the login page %s answered %s", s->login_url,
                                 strempty(st));
                return -EPROTO;
        }
        r = html_parse_login(strempty(resp->body->data), resp->body->len, &page);
        if (r < 0 || !page->has_form || !page->csrf_token) {
                check_result_set(res, CHECK_ERROR, "%s shows no login form with a CSRF token%s",
                                 s->login_url, resp->body_truncated ? " (page truncated)" : "");
                return -EPROTO;
        }
        r = check_login_form(s->http, env, s->login_url, page->csrf_token, &form, &referer);
        if (r < 0)
                return r;
        s->step = STEP_LOGIN_POST;
        /* The session keeps its own copy until the transfer ends and wipes it; ours is wiped on
         * return. */
        return http_session_request(s->http, s->login_url, form, (char *[]){referer, NULL},
                                    on_response, c);
}

static int after_login(Check *c, const HttpResponse *resp)
{
        PanelsState *s = c->state;
        CheckResult *res = c->result;
        const char *user = c->env->config->username;

        if (resp->status == 200) {
                _cleanup_(login_page_freep) LoginPage *page = NULL;

                (void)html_parse_login(strempty(resp->body->data), resp->body->len, &page);
                check_result_set(res, CHECK_ERROR, "login as '%s' failed: %s", user,
                                 page && page->error
                                         ? page->error
                                         : "the login form came back without a message");
                return -EACCES;
        }
        if (resp->status == 403) {
                check_result_set(
                        res, CHECK_ERROR,
                        "login as '%s' was refused with HTTP 403 (CSRF): add %s to CSRF_TRUSTED_ORIGINS, or use the URL Nautobot is served under",
                        user, c->env->config->url);
                return -EACCES;
        }
        if (resp->status != 302 && resp->status != 303) {
                _cleanup_free_ char *st = http_status_text(resp->status, NULL);

                check_result_set(res, resp->status >= 500 ? CHECK_FAIL : CHECK_ERROR,
                                 "login as '%s' answered %s", user, strempty(st));
                return -EPROTO;
        }
        if (is_login_url(resp->location)) {
                check_result_set(res, CHECK_ERROR,
                                 "login as '%s' redirected back to the login page (%s)", user,
                                 resp->location);
                return -EACCES;
        }
        s->step = STEP_HOME;
        return http_session_request(s->http, s->home_url, NULL, NULL, on_response, c);
}

static void judge_home(Check *c, const HttpResponse *resp)
{
        PanelsState *s = c->state;
        CheckResult *res = c->result;
        const Config *cfg = c->env->config;
        const HomePage *home;
        _cleanup_strv_free_ char **missing = NULL;
        Buf ev;
        int r;

        if ((resp->status == 302 || resp->status == 303) && is_login_url(resp->location)) {
                check_result_set(
                        res, CHECK_ERROR,
                        "the home page redirected back to the login page (%s): the session cookie was not sent back: check SESSION_COOKIE_DOMAIN and SESSION_COOKIE_SECURE against url= %s",
                        resp->location, c->env->config->url);
                return;
        }
        if (resp->status >= 500) {
                check_result_set(
                        res, CHECK_FAIL,
                        "the home page %s failed with HTTP %ld: one app panel that raises breaks the whole page, and so do migrations not applied; see the web server's log",
                        s->home_url, resp->status);
                return;
        }
        if (resp->status != 200) {
                check_result_set(res, CHECK_ERROR, "the home page %s answered HTTP %ld%s%s",
                                 s->home_url, resp->status, resp->location ? " to " : "",
                                 strempty(resp->location));
                return;
        }
        r = html_parse_home(strempty(resp->body->data), resp->body->len, &s->home);
        if (r < 0) {
                check_result_set(res, CHECK_ERROR, "cannot parse the home page: %s", strerror(-r));
                return;
        }
        home = s->home;
        if (home->login_form && home->n_panels == 0) {
                check_result_set(
                        res, CHECK_ERROR,
                        "the home page shows the login form: the session was not accepted");
                return;
        }

        buf_init(&ev, RESULT_EVIDENCE_MAX);
        buf_printf(&ev, "%zu panel(s) on %s:\n", home->n_panels, s->home_url);
        for (size_t i = 0; i < home->n_panels; i++) {
                const Panel *card = &home->panels[i];
                bool expected = false;

                STRV_FOREACH (p, cfg->panels)
                        expected = expected || home_page_find(home, *p) == card;
                buf_printf(&ev, "  %s (id \"%s\")%s\n", card->title ?: "(no title)",
                           strempty(card->id), expected ? " expected" : "");
        }
        check_result_set_evidence(res, strempty(ev.data));
        buf_done(&ev);

        /* A release that writes its card titles in markup unknown here would otherwise show
         * every panel as missing: a false failure on a healthy server. */
        if (home->n_panels > 0 && home->n_titled == 0) {
                check_result_set(
                        res, CHECK_ERROR,
                        "the home page has %zu cards but no title could be read: its markup is not one this version knows",
                        home->n_panels);
                return;
        }

        STRV_FOREACH (p, cfg->panels)
                if (!home_page_find(home, *p) && strv_extend(&missing, *p) < 0) {
                        /* A panel dropped from the list could turn a fail into a pass. */
                        check_result_set(res, CHECK_ERROR,
                                         "out of memory while judging the home page");
                        return;
                }
        if (missing) {
                _cleanup_free_ char *m = strv_join(missing, ", ");

                check_result_set(
                        res, CHECK_FAIL,
                        "%zu of %zu expected panels are not on the home page: %s (a panel is shown only to users with one of its permissions; '%s' should see all)",
                        strv_length(missing), strv_length(cfg->panels), strempty(m), cfg->username);
        } else if (!s->probe && !cfg->panels)
                /* Without Django's word (no probe ran) nothing is expected: nothing was judged. */
                check_result_set(
                        res, CHECK_ERROR,
                        "what the installed %s declares is unknown (Django was not asked: the probe did not run) and panels= names none: there is nothing to judge the home page by",
                        cfg->package);
        else
                check_result_set(res, CHECK_PASS, "all %zu expected panels are on the home page",
                                 strv_length(cfg->panels));
}

static void on_response(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        Check *c = userdata;
        PanelsState *s = c->state;
        int r = 0;

        (void)h;
        if (resp->curl_code != 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot fetch %s: %s",
                                 s->step == STEP_HOME ? s->home_url : s->login_url, resp->error);
                check_complete(c);
                return;
        }
        switch (s->step) {
        case STEP_LOGIN_FORM:
                r = post_login(c, resp);
                break;
        case STEP_LOGIN_POST:
                r = after_login(c, resp);
                break;
        case STEP_HOME:
                judge_home(c, resp);
                s->page_judged = true;
                maybe_finish(c);
                return;
        }
        if (r == -ENOMEM)
                check_result_set(c->result, CHECK_ERROR, "out of memory");
        else if (r < 0 && c->result->state != CHECK_FAIL && !c->result->reason)
                check_result_set(c->result, CHECK_ERROR, "cannot continue the login: %s",
                                 strerror(-r));
        if (r < 0)
                check_complete(c);
}

int check_panels_start(Check *c)
{
        const CheckEnv *env = c->env;
        _cleanup_free_ char *missing = NULL;
        PanelsState *s;
        int r;

        missing =
                check_missing_secret("web password", "password", env->config->password_credential);
        if (!missing)
                return -ENOMEM;
        if (!check_require_secret(c, env->password, env->password_error, missing))
                return 0;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = panels_state_free;
        s->check = c;
        if (env->probe) {
                r = probe_subscribe(env->probe, on_probe, c);
                if (r < 0)
                        return r;
                s->probe = env->probe;
        }
        s->login_url = check_url(c, "/login/");
        s->home_url = check_url(c, "/");
        if (!s->login_url || !s->home_url)
                return -ENOMEM;
        r = check_http_session(c, &s->http);
        if (r < 0)
                return r;
        if (http_url_is_cleartext_remote(env->config->url))
                (void)check_result_add_finding(
                        c->result,
                        "the web password is sent in clear text to %s (http:// to a host other than this one): use https://",
                        env->config->url);
        s->step = STEP_LOGIN_FORM;
        r = http_session_request(s->http, s->login_url, NULL, NULL, on_response, c);
        if (r < 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot request %s: %s", s->login_url,
                                 strerror(-r));
                check_complete(c);
        }
        return 0;
}
