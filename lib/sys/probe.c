/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Django probe as a child process. See probe.h.
 */
#include <inttypes.h>

#include "envfile.h"
#include "probe.h"

/* Every check of every app verified in one run may wait for the one probe. */
#define PROBE_SUBSCRIBERS_MAX 4096

typedef struct Subscriber {
        ProbeDone done;
        void *userdata;
} Subscriber;

struct Probe {
        sd_event *event;
        char **argv;
        char **envp;
        char *cwd;
        const ChildUser *user;
        uint64_t timeout_usec;
        size_t output_max;
        Child *child;
        Subscriber *subscribers;
        size_t n_subscribers;
        bool telling; /* inside the child's callback: it must not be freed now */
        /* Once it ended, its outcome is kept for those who subscribe later (probe_subscribe()). */
        bool finished;
        int start_error;
        const ChildOutcome *outcome; /* in p->child */
        ProbeReport *report;
        char *report_error;
        sd_event_source *late; /* tells the late subscribers, outside their callers */
};

Probe *probe_free(Probe *p)
{
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->late);
        child_free(p->child);
        probe_report_free(p->report);
        free(p->report_error);
        free(p->subscribers);
        strv_free(p->argv);
        strv_free(p->envp);
        free(p->cwd);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

int probe_new(Probe **ret, sd_event *e, const ProbeOptions *o)
{
        _cleanup_(probe_freep) Probe *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->timeout_usec = o->timeout_usec;
        p->output_max = o->output_max;
        /* Django is set up by nautobot-server; the probe runs in its shell, quietly. */
        if ((r = strv_extend(&p->argv, o->server)) < 0 ||
            (r = strv_extend(&p->argv, "shell")) < 0 ||
            (r = strv_extend(&p->argv, "--no-startup")) < 0 ||
            (r = strv_extend(&p->argv, "--no-imports")) < 0 ||
            (r = strv_extend(&p->argv, "--verbosity=0")) < 0 ||
            (r = strv_extend(&p->argv, "--command")) < 0 ||
            (r = strv_extend(&p->argv,
                             "import os, runpy; runpy.run_path(os.environ[\"NVD_PROBE\"], "
                             "run_name=\"nvd_probe\")")) < 0)
                return r;
        STRV_FOREACH (v, (char **)o->envp)
                if ((r = strv_extend(&p->envp, *v)) < 0)
                        return r;
        if ((r = env_set(&p->envp, "NVD_PROBE", o->path)) < 0 ||
            (r = env_set(&p->envp, "NVD_PROBE_APP_LABELS", o->app_labels)) < 0 ||
            (r = env_set(&p->envp, "NVD_PROBE_SECTIONS", o->sections)) < 0 ||
            (o->web_user && (r = env_set(&p->envp, "NVD_PROBE_WEB_USER", o->web_user)) < 0))
                return r;
        p->user = o->user;
        if (o->cwd && !(p->cwd = strdup(o->cwd)))
                return -ENOMEM;
        *ret = TAKE_PTR(p);
        return 0;
}

static void tell(Probe *p, const ProbeOutcome *o);

static void tell_kept(Probe *p)
{
        tell(p, &(ProbeOutcome){.start_error = p->start_error,
                                .child = p->outcome,
                                .report = p->report,
                                .report_error = p->report_error});
}

static int on_late(sd_event_source *s, void *userdata)
{
        (void)s;
        tell_kept(userdata);
        return 0;
}

int probe_subscribe(Probe *p, ProbeDone done, void *userdata)
{
        Subscriber *l;
        int r;

        if (p->n_subscribers >= PROBE_SUBSCRIBERS_MAX)
                return -ENOBUFS;
        l = reallocarray(p->subscribers, p->n_subscribers + 1, sizeof(Subscriber));
        if (!l)
                return -ENOMEM;
        p->subscribers = l;
        p->subscribers[p->n_subscribers++] = (Subscriber){done, userdata};
        if (!p->finished)
                return 0;
        /* It ended already: told from the loop, never from inside the caller. */
        if (p->late)
                return sd_event_source_set_enabled(p->late, SD_EVENT_ONESHOT);
        r = sd_event_add_defer(p->event, &p->late, on_late, p);
        if (r < 0) {
                p->subscribers[--p->n_subscribers].done = NULL;
                return r;
        }
        (void)sd_event_source_set_description(p->late, "probe-late");
        return 0;
}

void probe_unsubscribe(Probe *p, void *userdata)
{
        size_t left = 0;

        for (size_t i = 0; i < p->n_subscribers; i++) {
                if (p->subscribers[i].userdata == userdata)
                        p->subscribers[i].done = NULL;
                left += p->subscribers[i].done != NULL;
        }
        if (left == 0 && !p->telling && !p->finished)
                p->child = child_free(p->child);
}

static void tell(Probe *p, const ProbeOutcome *o)
{
        /* Each is told once; a subscriber that completes may unsubscribe itself meanwhile. */
        p->telling = true;
        for (size_t i = 0; i < p->n_subscribers; i++) {
                Subscriber s = p->subscribers[i];

                p->subscribers[i].done = NULL;
                if (s.done)
                        s.done(o, s.userdata);
        }
        p->telling = false;
}

static void on_child_done(Child *c, const ChildOutcome *o, void *userdata)
{
        Probe *p = userdata;
        _cleanup_(probe_report_freep) ProbeReport *report = NULL;
        _cleanup_free_ char *error = NULL;
        int r = -EBADMSG;

        (void)c;
        if (!o->timed_out && !o->signal) {
                /* The document, a NUL byte, the database password (see the probe). */
                const char *text = strempty(o->result.data);
                size_t doc = strnlen(text, o->result.len);

                r = probe_report_parse(text, doc, &report, &error);
                if (r >= 0 && o->result.truncated) {
                        report = probe_report_free(report);
                        error = strdup("the probe's result was cut at its size limit");
                } else if (r >= 0 && doc < o->result.len &&
                           !(report->db_password =
                                     strndup(text + doc + 1, o->result.len - doc - 1)))
                        r = -ENOMEM;
        }
        if (r == -ENOMEM && !error)
                error = strdup("out of memory");
        /* Nobody keeps the raw result: the password in it goes now (the report has its copy). */
        if (o->result.data)
                explicit_bzero(o->result.data, o->result.len);
        /* Kept, with the child's outcome, for the subscribers still to come (one run, many apps).
         * The child is freed with the probe (we are inside its callback). */
        p->finished = true;
        p->outcome = o;
        p->report = TAKE_PTR(report);
        p->report_error = TAKE_PTR(error);
        tell_kept(p);
}

const ProbeReport *probe_report(const Probe *p)
{
        return p->finished ? p->report : NULL;
}

const char *probe_error(const Probe *p)
{
        if (!p->finished)
                return "it has not ended";
        if (p->report)
                return NULL;
        if (p->start_error)
                return strerror(-p->start_error);
        return p->report_error
                       ?: "Django did not start (nautobot-server failed before the probe ran)";
}

void probe_start(Probe *p)
{
        bool wanted = false;
        int r;

        for (size_t i = 0; i < p->n_subscribers; i++)
                wanted |= p->subscribers[i].done != NULL;
        if (!wanted || p->child || p->finished)
                return;
        if (p->timeout_usec > 0) {
                /* When the child's timer (child.c) fires: the probe gives up on a forked section
                 * before then and still writes what the others answered. */
                _cleanup_free_ char *deadline = NULL;
                uint64_t now;

                r = sd_event_now(p->event, CLOCK_MONOTONIC, &now);
                if (r >= 0) {
                        deadline = strjoin_printf("%" PRIu64, now + p->timeout_usec);
                        r = deadline ? env_set(&p->envp, "NVD_PROBE_DEADLINE", deadline) : -ENOMEM;
                }
                if (r < 0) {
                        p->finished = true;
                        p->start_error = r;
                        tell_kept(p);
                        return;
                }
        }
        r = child_start(p->event,
                        &(ChildOptions){
                                .argv = p->argv,
                                .envp = p->envp,
                                .cwd = p->cwd,
                                .user = p->user,
                                .timeout_usec = p->timeout_usec,
                                .output_max = p->output_max,
                                .result_max = PROBE_RESULT_MAX,
                                .description = "django-probe",
                        },
                        on_child_done, p, &p->child);
        if (r < 0) {
                p->finished = true;
                p->start_error = r;
                tell_kept(p);
        }
}
