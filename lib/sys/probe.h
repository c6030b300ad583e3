/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One Django boot for every check that needs Django: the probe
 * (lib/checks/probe/nautobot-verifyd-probe.py) run once per verification by the
 * configured nautobot-server ("shell --command"), with the same environment,
 * process group, timeout and output caps as any child (child.c), and its
 * answer read from a pipe at fd 3, apart from what Nautobot and the apps
 * print. Checks subscribe before it starts and are all told when it ends;
 * its outcome is kept, so that the checks of every app verified in the same
 * run can share the one boot, subscribing later.
 */
#pragma once

#include <systemd/sd-event.h>

#include "child.h"
#include "parse-probe.h"

typedef struct Probe Probe;

typedef struct ProbeOutcome {
        int start_error;           /* the child could not start (-ENOENT, -EACCES, ...) */
        const ChildOutcome *child; /* when it ran: exit status, signal, streams */
        const ProbeReport *report; /* NULL: no document (Django did not start, or see error) */
        const char *report_error;  /* why there is no document */
} ProbeOutcome;

typedef void (*ProbeDone)(const ProbeOutcome *o, void *userdata);

typedef struct ProbeOptions {
        const char *server; /* nautobot-server */
        const char *path;   /* the probe script */
        /* The apps to answer for: "label,label,..." or "*" (every Nautobot app it loads). */
        const char *app_labels;
        const char *sections; /* what to answer: "check,makemigrations,..." (see the probe) */
        const char *web_user; /* the panels check's account, whose permissions it asks, or NULL */
        char *const *envp;    /* copied, with the probe's variables added */
        const char *cwd;
        uint64_t timeout_usec;
        size_t output_max;
        const ChildUser *user; /* NULL: as ourselves; must outlive the probe (runas.h) */
} ProbeOptions;

int probe_new(Probe **ret, sd_event *e, const ProbeOptions *o);
Probe *probe_free(Probe *p); /* kills a running probe */
DEFINE_TRIVIAL_CLEANUP_FUNC(Probe *, probe_free);

/*
 * 'userdata' identifies the subscriber for probe_unsubscribe(). After the
 * probe ended, a new subscriber is told its kept outcome from the event loop
 * (never from inside this call).
 */
int probe_subscribe(Probe *p, ProbeDone done, void *userdata);
/* The last one gone, a running probe is killed: nobody waits for it. */
void probe_unsubscribe(Probe *p, void *userdata);
/* Once it ended: its answer (NULL: none), and why there is none. */
const ProbeReport *probe_report(const Probe *p);
const char *probe_error(const Probe *p);

/*
 * Starts it when somebody subscribed; a failure to start is told to the
 * subscribers. With a probe booted ahead (probe_set_warm()) that still waits
 * and was started with the same program, directory, account and environment
 * (but for the NVD_PROBE_* questions), that one is taken over and asked this
 * probe's questions: the Django boot was paid before.
 */
void probe_start(Probe *p);

/*
 * Boots Django now, before anybody asks (an upgrade whose code and database
 * are final, waiting for the restarts): the probe sets Django up, then waits
 * up to 'hold_usec' for its questions on stdin, or ends without an answer.
 * Nobody subscribes to such a probe; another takes it over (probe_set_warm()).
 * The code it loaded is that of the moment it started: whoever hands it on
 * must know the code did not change since (probe_boot_realtime()).
 */
int probe_boot(Probe *p, uint64_t hold_usec);
/* When (CLOCK_REALTIME) a probe booted ahead started, while it still waits; else 0. */
uint64_t probe_boot_realtime(const Probe *p);
/* 'warm' (booted ahead; NULL: none) must live until probe_start(p) returns. */
void probe_set_warm(Probe *p, Probe *warm);
/* A probe booted ahead that was offered and not taken over: why ('why' is static text). */
void probe_refuse(Probe *p, const char *why);
const char *probe_refused(const Probe *p); /* NULL: taken over, or never offered */
