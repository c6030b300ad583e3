/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Django probe as a child process. See probe.h.
 */
#include <inttypes.h>

#include "envfile.h"
#include "probe.h"

#define PROBE_SUBSCRIBERS_MAX 8

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
        Subscriber subscribers[PROBE_SUBSCRIBERS_MAX];
        size_t n_subscribers;
        bool telling; /* inside the child's callback: it must not be freed now */
};

Probe *probe_free(Probe *p)
{
        if (!p)
                return NULL;
        child_free(p->child);
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
            (r = env_set(&p->envp, "NVD_PROBE_APP_LABEL", o->app_label)) < 0 ||
            (r = env_set(&p->envp, "NVD_PROBE_SECTIONS", o->sections)) < 0)
                return r;
        p->user = o->user;
        if (o->cwd && !(p->cwd = strdup(o->cwd)))
                return -ENOMEM;
        *ret = TAKE_PTR(p);
        return 0;
}

int probe_subscribe(Probe *p, ProbeDone done, void *userdata)
{
        if (p->n_subscribers >= PROBE_SUBSCRIBERS_MAX)
                return -ENOBUFS;
        p->subscribers[p->n_subscribers++] = (Subscriber){done, userdata};
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
        if (left == 0 && !p->telling)
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
        tell(p, &(ProbeOutcome){.child = o, .report = report, .report_error = error});
        /* Nobody keeps the raw result: the password in it goes now. */
        if (o->result.data)
                explicit_bzero(o->result.data, o->result.len);
        /* The child is freed with the probe (we are inside its callback). */
}

void probe_start(Probe *p)
{
        _cleanup_free_ char *desc = NULL;
        bool wanted = false;
        int r;

        for (size_t i = 0; i < p->n_subscribers; i++)
                wanted |= p->subscribers[i].done != NULL;
        if (!wanted || p->child)
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
                        tell(p, &(ProbeOutcome){.start_error = r});
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
        if (r < 0)
                tell(p, &(ProbeOutcome){.start_error = r});
}
