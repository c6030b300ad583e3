/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes on an sd-event loop: argv only (no shell), an explicit
 * environment, its own process group, stdout/stderr captured up to a limit,
 * a pidfd event source, and a timeout that sends SIGTERM and then SIGKILL to
 * the whole group. The child is always reaped.
 *
 * The caller must block SIGCHLD before the first child_start() (sd-event's
 * requirement for child sources).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "util.h"

#define CHILD_KILL_GRACE_USEC (5 * USEC_PER_SEC)

typedef struct ChildOutcome {
        bool timed_out;
        int exit_status; /* when exited */
        int signal;      /* when killed by a signal, else 0 */
        Buf out;
        Buf err;
        uint64_t duration_usec;
} ChildOutcome;

typedef struct Child Child;

/* Called once, when the child has exited and both pipes reached EOF. */
typedef void (*ChildDone)(Child *s, const ChildOutcome *o, void *userdata);

typedef struct ChildOptions {
        char *const *argv;
        char *const *envp;
        const char *cwd; /* NULL: "/" */
        uint64_t timeout_usec;
        size_t output_max; /* per stream */
        const char *description;
} ChildOptions;

/*
 * Starts the child. Fails without starting anything: -ENOENT/-EACCES when
 * argv[0] cannot be executed, or an error from the kernel.
 */
int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret);

/* Kills the group of a still running child (SIGKILL), reaps it, frees all. */
Child *child_free(Child *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);

/* The child's pid while it runs, 0 after. */
int child_pid(const Child *s);

/* Sends SIGTERM to the group now, SIGKILL after the grace period (like a timeout). */
int child_terminate(Child *s);
