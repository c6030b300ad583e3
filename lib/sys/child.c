/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes driven by sd-event. See child.h. The child gets its own
 * process group so that a timeout reaches whatever it started too, and, when
 * asked, another account (fork + exec: posix_spawn cannot change the uid).
 */
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "child.h"

#define READ_CHUNK 65536

struct Child {
        sd_event *event;
        sd_event_source *child_source;
        sd_event_source *out_source;
        sd_event_source *err_source;
        sd_event_source *res_source;
        sd_event_source *timer_source;
        pid_t pid;
        int out_fd;
        int err_fd;
        int res_fd;
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
        if (s->done_called || !s->exited || s->out_fd >= 0 || s->err_fd >= 0 || s->res_fd >= 0)
                return;
        s->done_called = true;
        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        s->outcome.duration_usec = now_usec() - s->start_usec;
        s->done(s, &s->outcome, s->userdata); /* may free s: touch nothing after */
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Child *s = userdata;
        Buf *b = src == s->out_source   ? &s->outcome.out
                 : src == s->err_source ? &s->outcome.err
                                        : &s->outcome.result;
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
        if (b == &s->outcome.out)
                close_stream(&s->out_source, &s->out_fd);
        else if (b == &s->outcome.err)
                close_stream(&s->err_source, &s->err_fd);
        else
                close_stream(&s->res_source, &s->res_fd);
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
                close_stream(&s->res_source, &s->res_fd);
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
        close_stream(&s->res_source, &s->res_fd);
        buf_done(&s->outcome.out);
        buf_done(&s->outcome.err);
        buf_done(&s->outcome.result);
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

/*
 * In the forked child: only async-signal-safe calls (the daemon may have
 * threads: curl's resolver). Reports errno on 'report' when it cannot exec.
 */
_Noreturn static void exec_child(const ChildOptions *o, int out_w, int err_w, int res_w, int report)
{
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigset_t none;
        int fd, e;

        /* A new group (so a timeout reaches grandchildren), clean signal state. */
        if (setpgid(0, 0) < 0)
                goto fail;
        for (int sig = 1; sig < NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                goto fail;
        fd = open("/dev/null", O_RDONLY);
        if (fd < 0 || (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0)))
                goto fail;
        if (dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0 ||
            (res_w >= 0 && dup2(res_w, CHILD_RESULT_FD) < 0))
                goto fail;
        /* Groups, then gid, then uid: after setresuid() nothing of root is left to drop. */
        if (o->user && (setgroups(o->user->n_groups, o->user->groups) < 0 ||
                        setresgid(o->user->gid, o->user->gid, o->user->gid) < 0 ||
                        setresuid(o->user->uid, o->user->uid, o->user->uid) < 0))
                goto fail;
        /* As that account: a working directory it cannot enter is an error, not a root privilege.
         */
        if (chdir(o->cwd ?: "/") < 0)
                goto fail;
        execve(o->argv[0], o->argv, o->envp);
fail:
        e = errno;
        (void)!write(report, &e, sizeof(e));
        _exit(127);
}

/* fork + exec, so the child can take on another account; errors of the child up to exec. */
static int spawn(const ChildOptions *o, int out_w, int err_w, int res_w, pid_t *ret_pid)
{
        int report[2], e = 0;
        ssize_t n;
        pid_t pid;

        if (pipe2(report, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                e = errno;
                close(report[0]);
                close(report[1]);
                return -e;
        }
        if (pid == 0)
                exec_child(o, out_w, err_w, res_w, report[1]);
        close(report[1]);
        /* EOF: exec succeeded (the pipe is CLOEXEC); the child is in its own group by now. */
        do
                n = read(report[0], &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        close(report[0]);
        if (n == (ssize_t)sizeof(e)) {
                (void)waitpid(pid, NULL, 0);
                return -(e ?: EIO);
        }
        *ret_pid = pid;
        return 0;
}

int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret)
{
        _cleanup_(child_freep) Child *s = NULL;
        _cleanup_close_ int out_w = -1, err_w = -1, res_w = -1, pidfd = -1;
        int out[2], err[2], res[2], r;

        if (!o->argv || !o->argv[0] || o->argv[0][0] != '/')
                return -EINVAL;
        if (access(o->argv[0], X_OK) < 0)
                return -errno;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->out_fd = s->err_fd = s->res_fd = -1;
        buf_init(&s->outcome.out, o->output_max);
        buf_init(&s->outcome.err, o->output_max);
        buf_init(&s->outcome.result, o->result_max);
        s->done = done;
        s->userdata = userdata;
        s->description = strdup(o->description ?: "child");
        if (!s->description)
                return -ENOMEM;

        if (o->output_to_stderr) {
                /* Copies of our stderr: dup2() onto the child's 1 and 2 drops O_CLOEXEC there. */
                out_w = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (out_w < 0)
                        return -errno;
                err_w = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (err_w < 0)
                        return -errno;
        } else {
                if (pipe2(out, O_CLOEXEC) < 0)
                        return -errno;
                s->out_fd = out[0];
                out_w = out[1];
                if (pipe2(err, O_CLOEXEC) < 0)
                        return -errno;
                s->err_fd = err[0];
                err_w = err[1];
                if (fcntl(s->out_fd, F_SETFL, O_NONBLOCK) < 0 ||
                    fcntl(s->err_fd, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
        }
        if (o->result_max > 0) {
                if (pipe2(res, O_CLOEXEC) < 0)
                        return -errno;
                s->res_fd = res[0];
                /*
                 * Above the fds the child gets: dup2() onto itself would keep
                 * O_CLOEXEC, and a write end at 1 or 2 would be clobbered.
                 */
                res_w = fcntl(res[1], F_DUPFD_CLOEXEC, 10);
                r = -errno;
                close(res[1]);
                if (res_w < 0)
                        return r;
                if (fcntl(s->res_fd, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
        }

        r = spawn(o, out_w, err_w, res_w, &s->pid);
        if (r < 0) {
                s->pid = 0;
                return r;
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

        if (s->out_fd >= 0) {
                r = add_stream_source(s, &s->out_source, s->out_fd, "stdout");
                if (r < 0)
                        return r;
        }
        if (s->err_fd >= 0) {
                r = add_stream_source(s, &s->err_source, s->err_fd, "stderr");
                if (r < 0)
                        return r;
        }
        if (s->res_fd >= 0) {
                r = add_stream_source(s, &s->res_source, s->res_fd, "result");
                if (r < 0)
                        return r;
        }
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
