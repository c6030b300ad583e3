/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes driven by sd-event. See child.h. The child gets its own
 * process group so that a timeout reaches whatever it started too.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "child.h"

#define READ_CHUNK 65536

struct Child {
        sd_event *event;
        sd_event_source *child_source;
        sd_event_source *out_source;
        sd_event_source *err_source;
        sd_event_source *timer_source;
        pid_t pid;
        int out_fd;
        int err_fd;
        bool exited;
        bool done_called;
        bool sent_term;
        uint64_t start_usec;
        ChildOutcome outcome;
        ChildDone done;
        void *userdata;
        char *description;
};

static void kill_group(Child *s, int sig)
{
        /* The group id is the child's pid (POSIX_SPAWN_SETPGROUP with 0). */
        if (s->pid > 0)
                (void)kill(-s->pid, sig);
}

static void close_stream(sd_event_source **src, int *fd)
{
        *src = sd_event_source_disable_unref(*src);
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void maybe_finish(Child *s)
{
        if (s->done_called || !s->exited || s->out_fd >= 0 || s->err_fd >= 0)
                return;
        s->done_called = true;
        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        s->outcome.duration_usec = now_usec() - s->start_usec;
        s->done(s, &s->outcome, s->userdata); /* may free s: touch nothing after */
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Child *s = userdata;
        bool is_out = src == s->out_source;
        Buf *b = is_out ? &s->outcome.out : &s->outcome.err;
        char chunk[READ_CHUNK];

        (void)revents;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) /* EOF, or an error we can only treat as one */
                        break;
                if (buf_append(b, chunk, (size_t)n) < 0)
                        b->truncated = true; /* out of memory: keep what we have */
        }
        if (is_out)
                close_stream(&s->out_source, &s->out_fd);
        else
                close_stream(&s->err_source, &s->err_fd);
        maybe_finish(s);
        return 0;
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        Child *s = userdata;

        (void)src;
        if (si->si_code == CLD_EXITED)
                s->outcome.exit_status = si->si_status;
        else
                s->outcome.signal = si->si_status;
        s->exited = true;
        /* Stragglers in the group would hold the pipes open: end them now. */
        kill_group(s, SIGKILL);
        s->pid = 0;
        s->child_source = sd_event_source_disable_unref(s->child_source);
        maybe_finish(s);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        Child *s = userdata;

        (void)src, (void)usec;
        if (s->exited) {
                /* Something outside the group still holds our pipes: stop waiting. */
                close_stream(&s->out_source, &s->out_fd);
                close_stream(&s->err_source, &s->err_fd);
                maybe_finish(s);
                return 0;
        }
        if (!s->sent_term) {
                s->outcome.timed_out = true;
                return child_terminate(s);
        }
        kill_group(s, SIGKILL);
        return 0;
}

int child_terminate(Child *s)
{
        int r;

        if (s->exited || s->sent_term)
                return 0;
        s->sent_term = true;
        kill_group(s, SIGTERM);
        kill_group(s, SIGCONT);
        if (!s->timer_source)
                return sd_event_add_time_relative(s->event, &s->timer_source, CLOCK_MONOTONIC,
                                                  CHILD_KILL_GRACE_USEC, 0, on_timer, s);
        r = sd_event_source_set_time_relative(s->timer_source, CHILD_KILL_GRACE_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->timer_source, SD_EVENT_ONESHOT);
}

Child *child_free(Child *s)
{
        if (!s)
                return NULL;
        if (!s->exited)
                kill_group(s, SIGKILL);
        /* An owned child source kills and reaps the child when it goes away. */
        sd_event_source_disable_unref(s->child_source);
        sd_event_source_disable_unref(s->timer_source);
        close_stream(&s->out_source, &s->out_fd);
        close_stream(&s->err_source, &s->err_fd);
        buf_done(&s->outcome.out);
        buf_done(&s->outcome.err);
        sd_event_unref(s->event);
        free(s->description);
        free(s);
        return NULL;
}

int child_pid(const Child *s)
{
        return s->exited ? 0 : s->pid;
}

static int add_stream_source(Child *s, sd_event_source **src, int fd, const char *what)
{
        _cleanup_free_ char *d = NULL;
        int r;

        r = sd_event_add_io(s->event, src, fd, EPOLLIN, on_output, s);
        if (r < 0)
                return r;
        d = strjoin_printf("%s-%s", s->description, what);
        if (d)
                (void)sd_event_source_set_description(*src, d);
        return 0;
}

int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret)
{
        _cleanup_(child_freep) Child *s = NULL;
        _cleanup_close_ int out_w = -1, err_w = -1, pidfd = -1;
        int out[2], err[2], r;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_t fa;
        sigset_t none, all;

        if (!o->argv || !o->argv[0] || o->argv[0][0] != '/')
                return -EINVAL;
        if (access(o->argv[0], X_OK) < 0)
                return -errno;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->out_fd = s->err_fd = -1;
        buf_init(&s->outcome.out, o->output_max);
        buf_init(&s->outcome.err, o->output_max);
        s->done = done;
        s->userdata = userdata;
        s->description = strdup(o->description ?: "child");
        if (!s->description)
                return -ENOMEM;

        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        s->out_fd = out[0];
        out_w = out[1];
        if (pipe2(err, O_CLOEXEC) < 0)
                return -errno;
        s->err_fd = err[0];
        err_w = err[1];
        if (fcntl(s->out_fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(s->err_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawnattr_init(&attr);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_init(&fa);
        if (r != 0) {
                posix_spawnattr_destroy(&attr);
                return -r;
        }
        /* New group (so the timeout reaches grandchildren), clean signal state. */
        r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = posix_spawnattr_setpgroup(&attr, 0);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &all);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
        if (r == 0)
                r = posix_spawn_file_actions_addchdir_np(&fa, o->cwd ?: "/");
        if (r == 0)
                r = posix_spawn(&s->pid, o->argv[0], &fa, &attr, o->argv, o->envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0) {
                s->pid = 0;
                return -r;
        }
        s->start_usec = now_usec();

        pidfd = pidfd_open(s->pid, 0);
        if (pidfd >= 0) {
                r = sd_event_add_child_pidfd(e, &s->child_source, pidfd, WEXITED, on_child, s);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_child_pidfd_own(s->child_source, true);
                TAKE_FD(pidfd);
        } else if (errno == ENOSYS) {
                /* Kernels before 5.3, and valgrind: sd-event watches the pid via SIGCHLD. */
                r = sd_event_add_child(e, &s->child_source, s->pid, WEXITED, on_child, s);
                if (r < 0)
                        return r;
        } else
                return -errno;
        (void)sd_event_source_set_child_process_own(s->child_source, true);
        (void)sd_event_source_set_description(s->child_source, s->description);

        r = add_stream_source(s, &s->out_source, s->out_fd, "stdout");
        if (r < 0)
                return r;
        r = add_stream_source(s, &s->err_source, s->err_fd, "stderr");
        if (r < 0)
                return r;
        if (o->timeout_usec > 0) {
                r = sd_event_add_time_relative(e, &s->timer_source, CLOCK_MONOTONIC,
                                               o->timeout_usec, 0, on_timer, s);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(s->timer_source, s->description);
        }
        *ret = TAKE_PTR(s);
        return 0;
}
