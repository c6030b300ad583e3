/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes on an sd-event loop: argv only (no shell), an explicit
 * environment, its own process group, stdout/stderr captured up to a limit
 * (or passed on to our stderr), a pidfd event source, and a timeout that
 * sends SIGTERM and then SIGKILL to the whole group, optionally as another
 * account (ChildUser). The child is always reaped.
 *
 * The caller must block SIGCHLD before the first child_start() (sd-event's
 * requirement for child sources).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "util.h"

#define CHILD_KILL_GRACE_USEC (5 * USEC_PER_SEC)
#define CHILD_RESULT_FD       3

typedef struct ChildOutcome {
        bool timed_out;
        int exit_status; /* when exited */
        int signal;      /* when killed by a signal, else 0 */
        Buf out;
        Buf err;
        Buf result; /* what it wrote to fd 3, when ChildOptions.result_max asked for it */
        uint64_t duration_usec;
} ChildOutcome;

typedef struct Child Child;

/* An account a child runs as: set between fork and exec (groups, then gid, then uid). */
typedef struct ChildUser {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* the supplementary groups, as initgroups() would set them */
        size_t n_groups;
} ChildUser;

/* Called once, when the child has exited and both pipes reached EOF. */
typedef void (*ChildDone)(Child *s, const ChildOutcome *o, void *userdata);

typedef struct ChildOptions {
        char *const *argv;
        char *const *envp;
        const char *cwd; /* NULL: "/" */
        uint64_t timeout_usec;
        size_t output_max; /* per stream */
        /*
         * > 0: the child gets a pipe as fd 3 (CHILD_RESULT_FD), for a result
         * document apart from what it and its libraries print; this many bytes
         * are kept.
         */
        size_t result_max;
        const char *description;
        const ChildUser *user; /* NULL: as ourselves (see runas.h for who, when we are root) */
        /*
         * The child's stdout and stderr are this process's stderr, written as
         * they come (a program run for an admin to watch); nothing is captured,
         * out and err stay empty, output_max is not used.
         */
        bool output_to_stderr;
} ChildOptions;

/*
 * Starts the child. Fails without starting anything: -ENOENT/-EACCES when
 * argv[0] cannot be executed (as o->user, when set), -EPERM when the account
 * cannot be taken on, or an error from the kernel.
 */
int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret);

/* Kills the group of a still running child (SIGKILL), reaps it, frees all. */
Child *child_free(Child *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);

/* The child's pid while it runs, 0 after. */
int child_pid(const Child *s);

/* Sends SIGTERM to the group now, SIGKILL after the grace period (like a timeout). */
int child_terminate(Child *s);
