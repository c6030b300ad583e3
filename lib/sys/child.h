/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes on an sd-event loop: argv only (no shell), an explicit
 * environment, its own process group, stdout/stderr captured up to a limit
 * (or passed on to our stderr), a pidfd event source, and a timeout that
 * sends SIGTERM and then SIGKILL to the whole group, optionally as another
 * account (ChildUser). The child is always reaped.
 *
 * A child is done when its main process (the one child_start() ran) exits.
 * Then everything it left behind is killed with SIGKILL: its process group,
 * and the descendants that left the group (setsid(), setpgid()). For those
 * the first child_start() makes this process a child subreaper
 * (PR_SET_CHILD_SUBREAPER), so that they come to us as orphans; they are
 * reaped through the event loop, never with waitpid(-1). What is left in the
 * pipes is then read until EOF, for CHILD_DRAIN_GRACE_USEC at most, and the
 * pipes are closed.
 *
 * Process-wide, so every caller must know: a process that is our child and
 * outside our own process group, and is neither a running child's main
 * process nor in its group, is taken for something a child left behind, and
 * is killed when any child ends. The children of this process that are not
 * started here must therefore stay in our process group (a plain fork() does).
 *
 * The child inherits descriptors 0, 1, 2 (and CHILD_RESULT_FD when asked)
 * and nothing else, whether or not the others are O_CLOEXEC (libcurl makes
 * some that are not). Its stdin is /dev/null, or a socket that child_send()
 * writes once (ChildOptions.stdin_socket).
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
/*
 * How long the pipes are read after the main process exited and what it left
 * behind was killed. SIGKILL empties the pipes' writers within milliseconds (a
 * large Python process takes tens of them to tear down), so this is only ever
 * waited for when a writer is out of our reach (a process in our own group, a
 * descriptor passed to a stranger): short against a command's run, long
 * against the kernel's teardown.
 */
#define CHILD_DRAIN_GRACE_USEC (1 * USEC_PER_SEC)
#define CHILD_RESULT_FD        3
#define CHILD_SEND_MAX         4096 /* what child_send() writes at most */

typedef struct ChildOutcome {
        bool timed_out;
        int exit_status; /* when exited */
        int signal;      /* when killed by a signal, else 0 */
        Buf out;
        Buf err;
        Buf result; /* what it wrote to fd 3, when ChildOptions.result_max asked for it */
        uint64_t duration_usec;
        /*
         * Processes still running when the main process exited, killed then: its
         * group's, and those that had left the group. The result is the main
         * process's all the same; a caller may want to say that it left these.
         */
        unsigned left_behind;
        /* The pipes were still held open CHILD_DRAIN_GRACE_USEC after that: closed by us. */
        bool pipes_held;
} ChildOutcome;

typedef struct Child Child;

/* An account a child runs as: set between fork and exec (groups, then gid, then uid). */
typedef struct ChildUser {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* the supplementary groups, as initgroups() would set them */
        size_t n_groups;
} ChildUser;

/*
 * Called once, when the main process has exited and the pipes reached EOF or
 * were closed after CHILD_DRAIN_GRACE_USEC (see the top of this file).
 */
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
        /* stdin is a stream socket: what child_send() writes, then EOF. */
        bool stdin_socket;
} ChildOptions;

/*
 * Starts the child. Fails without starting anything: -ENOENT/-EACCES when
 * argv[0] cannot be executed (as o->user, when set), -EPERM when the account
 * cannot be taken on, or an error from the kernel.
 */
int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret);

/*
 * Kills the group of a still running child (SIGKILL), reaps it, kills what had
 * left the group (reaped by the event loop), frees all.
 */
Child *child_free(Child *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);

/* The child's pid while it runs, 0 after. */
int child_pid(const Child *s);

/*
 * Writes 'data' to the child's stdin (ChildOptions.stdin_socket) in one go and
 * closes it: at most CHILD_SEND_MAX bytes, which the empty socket takes
 * whole (-EMSGSIZE for more). -EPIPE: the child closed it or ended; -EBADF:
 * no such stdin, or sent already.
 */
int child_send(Child *s, const void *data, size_t size);

/* Its time limit, from now (0: none); the outcome's duration counts from now too. */
int child_restart_clock(Child *s, uint64_t timeout_usec);

/* Another owner: 'done' with 'userdata' is called instead, once it ends. */
void child_set_done(Child *s, ChildDone done, void *userdata);

/* Sends SIGTERM to the group now, SIGKILL after the grace period (like a timeout). */
int child_terminate(Child *s);
