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

        /* Booted ahead (probe_boot()): Django is set up and waits for what to answer. */
        bool held;
        uid_t boot_uid;
        gid_t boot_gid;
        uint64_t boot_realtime_usec;
        Probe *warm;         /* one booted ahead to take over at probe_start() (probe_set_warm()) */
        const char *refused; /* booted ahead: why it was not taken over (static text) */
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
static void on_child_done(Child *c, const ChildOutcome *o, void *userdata);

/* What the probe is asked through its environment, apart from where it is: NVD_PROBE_*. */
static bool is_question(const char *entry)
{
        return startswith(entry, "NVD_PROBE_") != NULL;
}

/* Its child; 'ahead': booted before it is asked, its questions to come on stdin. */
static int spawn(Probe *p, uint64_t timeout_usec, bool ahead)
{
        return child_start(p->event,
                           &(ChildOptions){
                                   .argv = p->argv,
                                   .envp = p->envp,
                                   .cwd = p->cwd,
                                   .user = p->user,
                                   .timeout_usec = timeout_usec,
                                   .output_max = p->output_max,
                                   .result_max = PROBE_RESULT_MAX,
                                   .description = ahead ? "django-probe-ahead" : "django-probe",
                                   .stdin_socket = ahead,
                           },
                           on_child_done, p, &p->child);
}

int probe_boot(Probe *p, uint64_t hold_usec)
{
        _cleanup_free_ char *hold = NULL, *booted = NULL;
        int r;

        if (p->child || p->finished)
                return -EBUSY;
        hold = strjoin_printf("%" PRIu64, (hold_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
        if (!hold)
                return -ENOMEM;
        /* Before it starts: a file of its code written since then makes it boot again (the
         * probe's hold()). */
        p->boot_realtime_usec = now_realtime_usec();
        booted = strjoin_printf("%" PRIu64, p->boot_realtime_usec);
        if (!booted)
                return -ENOMEM;
        r = env_set(&p->envp, "NVD_PROBE_HOLD", hold);
        if (r >= 0)
                r = env_set(&p->envp, "NVD_PROBE_BOOTED", booted);
        if (r < 0)
                return r;
        r = spawn(p, hold_usec + p->timeout_usec, true);
        if (r < 0)
                return r;
        p->held = true;
        p->boot_uid = p->user ? p->user->uid : geteuid();
        p->boot_gid = p->user ? p->user->gid : getegid();
        p->user = NULL; /* used for the fork only; need not outlive this call */
        return 0;
}

uint64_t probe_boot_realtime(const Probe *p)
{
        return p->held && p->child && !p->finished ? p->boot_realtime_usec : 0;
}

void probe_set_warm(Probe *p, Probe *warm)
{
        p->warm = warm;
}

void probe_refuse(Probe *p, const char *why)
{
        p->refused = why;
}

const char *probe_refused(const Probe *p)
{
        return p->refused;
}

/* The same program, directory, account and environment, but for the questions. */
static bool same_boot(const Probe *p, const Probe *w)
{
        char **a = p->envp, **b = w->envp;

        if (!strv_equal(p->argv, w->argv) || !streq_ptr(p->cwd, w->cwd) ||
            (p->user ? p->user->uid : geteuid()) != w->boot_uid ||
            (p->user ? p->user->gid : getegid()) != w->boot_gid)
                return false;
        for (;;) {
                while (a && *a && is_question(*a))
                        a++;
                while (b && *b && is_question(*b))
                        b++;
                if (!a || !*a || !b || !*b)
                        return (!a || !*a) && (!b || !*b);
                if (!streq(*a, *b))
                        return false;
                a++, b++;
        }
}

/*
 * Takes over p->warm's child when it still waits and was started as p would
 * be, and sends it p's questions (KEY=VALUE lines, then EOF). False: p starts
 * its own (a question with a newline, or too long, is never sent).
 */
static bool take_warm(Probe *p, Probe *w)
{
        Buf msg;
        bool ok = true;
        int r;

        if (!w)
                return false;
        if (!w->held || !w->child || w->finished || child_pid(w->child) == 0) {
                probe_refuse(w, "it ended before the verification asked it");
                return false;
        }
        if (!same_boot(p, w)) {
                probe_refuse(w, "the verification runs nautobot-server with another program, "
                                "directory, account or environment");
                return false;
        }
        buf_init(&msg, CHILD_SEND_MAX);
        STRV_FOREACH (e, p->envp)
                if (is_question(*e))
                        ok = ok && !strchr(*e, '\n') && buf_printf(&msg, "%s\n", *e) >= 0;
        r = ok && msg.len > 0 ? child_send(w->child, msg.data, msg.len) : -EINVAL;
        buf_done(&msg);
        if (r < 0) {
                w->child = child_free(w->child); /* half told: of no use to anybody */
                probe_refuse(w, r == -EPIPE ? "it ended as it was asked"
                                            : "the verification's questions cannot be sent to it");
                return false;
        }
        (void)child_restart_clock(w->child, p->timeout_usec);
        child_set_done(w->child, on_child_done, p);
        p->child = TAKE_PTR(w->child);
        w->held = false;
        return true;
}

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
        Probe *warm = TAKE_PTR(p->warm); /* good for this call only (probe_set_warm()) */
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
        if (take_warm(p, warm))
                return;
        r = spawn(p, p->timeout_usec, false);
        if (r < 0) {
                p->finished = true;
                p->start_error = r;
                tell_kept(p);
        }
}
