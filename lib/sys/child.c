/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes driven by sd-event. See child.h. The child gets its own
 * process group so that a timeout reaches whatever it started too, and, when
 * asked, another account (fork + exec: posix_spawn cannot change the uid).
 * When its main process exits, this file also ends and reaps what it left
 * behind, which needs to know every child running here: that list is
 * process-wide, as the kernel's list of our children is.
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
        int in_fd; /* our end of its stdin (ChildOptions.stdin_socket), until child_send() */
        bool exited;
        bool done_called;
        bool sent_term;
        uint64_t start_usec;
        ChildOutcome outcome;
        ChildDone done;
        void *userdata;
        char *description;
        Child *live_prev, *live_next;
        bool live;
};

/* Children whose main process runs: they and their groups are not left behind by another. */
static Child *live_children;

static bool subreaper_set;

/* Pids with a reaper on some event loop, so that each gets one (sd-event refuses a second). */
static pid_t *reaping;
static size_t n_reaping;

static void live_add(Child *s)
{
        s->live_next = live_children;
        if (live_children)
                live_children->live_prev = s;
        live_children = s;
        s->live = true;
}

static void live_remove(Child *s)
{
        if (!s->live)
                return;
        if (s->live_prev)
                s->live_prev->live_next = s->live_next;
        else
                live_children = s->live_next;
        if (s->live_next)
                s->live_next->live_prev = s->live_prev;
        s->live_prev = s->live_next = NULL;
        s->live = false;
}

/* A running child's main process, or a member of its group (the group id is its pid). */
static bool belongs_to_live_child(pid_t pid, pid_t pgrp)
{
        for (Child *c = live_children; c; c = c->live_next)
                if (c->pid > 0 && (c->pid == pid || c->pid == pgrp))
                        return true;
        return false;
}

static bool pid_in(const pid_t *l, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++)
                if (l[i] == pid)
                        return true;
        return false;
}

static void reaper_destroyed(void *userdata)
{
        pid_t pid = (pid_t)(intptr_t)userdata;

        for (size_t i = 0; i < n_reaping; i++)
                if (reaping[i] == pid) {
                        reaping[i] = reaping[--n_reaping];
                        break;
                }
        if (n_reaping == 0) {
                free(reaping);
                reaping = NULL;
        }
}

static unsigned sweep(sd_event *e, pid_t group, pid_t exclude);

static int on_left_behind_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        (void)userdata;
        /* Its own children came to us when it died: they were left behind too. */
        (void)sweep(sd_event_source_get_event(src), 0, si->si_pid);
        /* Floating: this drops the loop's reference; sd-event reaps the pid after we return. */
        sd_event_source_unref(src);
        return 0;
}

/*
 * Reaps pid (our child, killed) when it has exited, through the loop: a child
 * source owned by the loop, that kills and reaps it if the loop goes first.
 */
static int reap_later(sd_event *e, pid_t pid)
{
        sd_event_source *src = NULL;
        pid_t *l;
        int r;

        if (pid_in(reaping, n_reaping, pid))
                return 0;
        l = reallocarray(reaping, n_reaping + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        reaping = l;
        r = sd_event_add_child(e, &src, pid, WEXITED, on_left_behind_exit, (void *)(intptr_t)pid);
        if (r < 0)
                return r;
        reaping[n_reaping++] = pid;
        (void)sd_event_source_set_destroy_callback(src, reaper_destroyed);
        (void)sd_event_source_set_description(src, "child-left-behind");
        (void)sd_event_source_set_child_process_own(src, true);
        r = sd_event_source_set_floating(src, true);
        sd_event_source_unref(src); /* on failure: not floating, so this frees it */
        return r < 0 ? r : 0;
}

typedef struct ProcEntry {
        pid_t pid, ppid, pgrp;
        bool zombie;
} ProcEntry;

/* Every process we can see, from /proc/PID/stat: its parent, group and whether it is a zombie. */
static int read_processes(ProcEntry **ret, size_t *ret_n)
{
        _cleanup_free_ ProcEntry *l = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;

        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[sizeof(de->d_name) + sizeof("/stat")], buf[1024], state;
                const char *p;
                ssize_t k;
                int fd, ppid, pgrp;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                (void)snprintf(path, sizeof(path), "%s/stat", de->d_name);
                fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) /* gone meanwhile, or hidden from us */
                        continue;
                k = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (k <= 0)
                        continue;
                buf[k] = 0;
                /* The name is in parentheses and may hold anything, ')' too: the last one ends it.
                 */
                p = strrchr(buf, ')');
                if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
                        continue;
                if (n == allocated) {
                        ProcEntry *m = reallocarray(l, allocated * 2 + 64, sizeof(*m));

                        if (!m) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        l = m;
                        allocated = allocated * 2 + 64;
                }
                l[n++] = (ProcEntry){.pid = atoi(de->d_name),
                                     .ppid = ppid,
                                     .pgrp = pgrp,
                                     .zombie = state == 'Z' || state == 'X'};
        }
        closedir(d);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/*
 * Kills with SIGKILL what children left behind: the process group 'group' (a
 * child's, whose main process has just exited; 0: none), and our children
 * that are outside our own group and belong to no running child. A subreaper
 * gets every orphaned descendant, so those are what escaped their group with
 * setsid() or setpgid() and lost their parent; their groups go with them. Our
 * children among all these are reaped through e. 'exclude' is a zombie that
 * its own child source reaps. Returns how many of these still ran.
 */
static unsigned sweep(sd_event *e, pid_t group, pid_t exclude)
{
        _cleanup_free_ ProcEntry *procs = NULL;
        _cleanup_free_ pid_t *groups = NULL;
        pid_t self = getpid(), own_group = getpgrp();
        size_t n_procs = 0, n_groups = 0;
        unsigned killed = 0;

        if (group > 1 && group != own_group)
                (void)kill(-group, SIGKILL);
        if (read_processes(&procs, &n_procs) < 0)
                return 0; /* without /proc the group was all we could reach */
        groups = calloc(n_procs + 1, sizeof(*groups));
        if (!groups)
                return 0;
        if (group > 1 && group != own_group)
                groups[n_groups++] = group;
        for (size_t i = 0; i < n_procs; i++) {
                ProcEntry *p = &procs[i];

                if (p->ppid != self || p->pid == exclude || p->pgrp == own_group ||
                    belongs_to_live_child(p->pid, p->pgrp))
                        continue;
                /* A plain fork() of ours stays in our group; this came from a child. */
                if (p->pgrp > 1 && !pid_in(groups, n_groups, p->pgrp)) {
                        groups[n_groups++] = p->pgrp;
                        (void)kill(-p->pgrp, SIGKILL);
                }
                (void)kill(p->pid, SIGKILL);
                (void)reap_later(e, p->pid);
                if (!p->zombie)
                        killed++;
                p->pid = 0; /* counted */
        }
        for (size_t i = 0; i < n_procs; i++)
                if (procs[i].pid > 0 && procs[i].pid != exclude && !procs[i].zombie &&
                    pid_in(groups, n_groups, procs[i].pgrp))
                        killed++;
        return killed;
}

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

/* Reads what is there; false at EOF (or an error we can only treat as one). */
static bool read_available(int fd, Buf *b)
{
        char chunk[READ_CHUNK];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                if (n <= 0)
                        return false;
                if (buf_append(b, chunk, (size_t)n) < 0)
                        b->truncated = true; /* out of memory: keep what we have */
        }
}

static void close_streams(Child *s)
{
        if (s->out_fd >= 0)
                (void)read_available(s->out_fd, &s->outcome.out);
        if (s->err_fd >= 0)
                (void)read_available(s->err_fd, &s->outcome.err);
        if (s->res_fd >= 0)
                (void)read_available(s->res_fd, &s->outcome.result);
        close_stream(&s->out_source, &s->out_fd);
        close_stream(&s->err_source, &s->err_fd);
        close_stream(&s->res_source, &s->res_fd);
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Child *s = userdata;
        Buf *b = src == s->out_source   ? &s->outcome.out
                 : src == s->err_source ? &s->outcome.err
                                        : &s->outcome.result;

        (void)revents;
        if (read_available(fd, b))
                return 0;
        if (b == &s->outcome.out)
                close_stream(&s->out_source, &s->out_fd);
        else if (b == &s->outcome.err)
                close_stream(&s->err_source, &s->err_fd);
        else
                close_stream(&s->res_source, &s->res_fd);
        maybe_finish(s);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata);

/* Bounds the wait for EOF after the main process exited; without a timer, stops waiting now. */
static void start_drain(Child *s)
{
        int r;

        if (s->out_fd < 0 && s->err_fd < 0 && s->res_fd < 0)
                return;
        if (s->timer_source) {
                r = sd_event_source_set_time_relative(s->timer_source, CHILD_DRAIN_GRACE_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->timer_source, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(s->event, &s->timer_source, CLOCK_MONOTONIC,
                                               CHILD_DRAIN_GRACE_USEC, 0, on_timer, s);
                if (r >= 0)
                        (void)sd_event_source_set_description(s->timer_source, s->description);
        }
        if (r < 0)
                close_streams(s);
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
        live_remove(s);
        /*
         * The main process is done, and so is the child: what it leaves would
         * hold the pipes open, and outlive us. Now, while the main process is a
         * zombie, its pid still names its group and nothing else.
         */
        s->outcome.left_behind = sweep(s->event, s->pid, s->pid);
        s->pid = 0;
        s->child_source = sd_event_source_disable_unref(s->child_source);
        start_drain(s);
        maybe_finish(s);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        Child *s = userdata;

        (void)src, (void)usec;
        if (s->exited) {
                /* A writer out of our reach still holds our pipes: stop waiting. */
                s->outcome.pipes_held = true;
                close_streams(s);
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
        live_remove(s);
        if (!s->exited)
                kill_group(s, SIGKILL);
        /* An owned child source kills and reaps the child when it goes away. */
        sd_event_source_disable_unref(s->child_source);
        /*
         * Its group's members and those that left the group lost their parent:
         * they are ours to end and reap now. (When child_start() failed after
         * the fork, there was no child source: this reaps the main process too.)
         */
        if (!s->exited && s->pid > 0)
                (void)sweep(s->event, 0, 0);
        sd_event_source_disable_unref(s->timer_source);
        close_stream(&s->out_source, &s->out_fd);
        close_stream(&s->err_source, &s->err_fd);
        close_stream(&s->res_source, &s->res_fd);
        if (s->in_fd >= 0)
                close(s->in_fd);
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
 * Closes every descriptor from 'first' up, but 'keep'. The kernel's
 * close_range() (5.9) does it at once; before it, /proc/self/fd lists what
 * is open (read with getdents64(): opendir() allocates), and without /proc
 * every number below the limit is tried. Async-signal-safe.
 */
static void close_all_from(int first, int keep)
{
        struct rlimit rl;
        char buf[4096];
        ssize_t n;
        int dfd;

        if (keep >= first) {
                if ((keep == first || close_range(first, keep - 1, 0) == 0) &&
                    close_range(keep + 1, ~0U, 0) == 0)
                        return;
        } else if (close_range(first, ~0U, 0) == 0)
                return;
        dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < INT_MAX
                                  ? (int)rl.rlim_max
                                  : 65536;

                for (int fd = first; fd < max; fd++)
                        if (fd != keep)
                                (void)close(fd);
                return;
        }
        /* Its entries come in the order of the numbers: closing those already read skips none. */
        while ((n = getdents64(dfd, buf, sizeof(buf))) > 0)
                for (ssize_t off = 0; off < n;) {
                        struct dirent64 *de = (struct dirent64 *)(buf + off);
                        int fd = 0;

                        off += de->d_reclen;
                        if (de->d_name[0] < '0' || de->d_name[0] > '9')
                                continue;
                        for (const char *p = de->d_name; *p >= '0' && *p <= '9'; p++)
                                fd = fd * 10 + (*p - '0');
                        if (fd >= first && fd != keep && fd != dfd)
                                (void)close(fd);
                }
        (void)close(dfd);
}

/*
 * In the forked child: only async-signal-safe calls (the daemon may have
 * threads: curl's resolver). Reports errno on 'report' when it cannot exec.
 */
_Noreturn static void exec_child(const ChildOptions *o, int in_r, int out_w, int err_w, int res_w,
                                 int report)
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
        if (in_r >= 0) {
                if (dup2(in_r, 0) < 0)
                        goto fail;
        } else {
                /* Not O_CLOEXEC: with our fd 0 closed, this one is the child's 0 as it is. */
                fd = open("/dev/null", O_RDONLY);
                if (fd < 0 || (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0)))
                        goto fail;
        }
        if (dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0 ||
            (res_w >= 0 && dup2(res_w, CHILD_RESULT_FD) < 0))
                goto fail;
        /*
         * Nothing else is inherited, O_CLOEXEC or not: libcurl makes descriptors
         * without it (its multi handle's socketpair), and so may any library.
         * The report pipe closes itself at exec.
         */
        close_all_from(res_w >= 0 ? CHILD_RESULT_FD + 1 : CHILD_RESULT_FD, report);
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
static int spawn(const ChildOptions *o, int in_r, int out_w, int err_w, int res_w, pid_t *ret_pid)
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
                exec_child(o, in_r, out_w, err_w, res_w, report[1]);
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

/*
 * The child's ends of its streams into *out_w, *err_w, *res_w (CLOEXEC, dup2()ed in the
 * child), ours into s (non-blocking): pipes, or copies of our stderr (output_to_stderr).
 */
static int open_streams(Child *s, const ChildOptions *o, int *out_w, int *err_w, int *res_w)
{
        int out[2], err[2], res[2], r;

        if (o->output_to_stderr) {
                /* Copies of our stderr: dup2() onto the child's 1 and 2 drops O_CLOEXEC there. */
                *out_w = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (*out_w < 0)
                        return -errno;
                *err_w = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (*err_w < 0)
                        return -errno;
        } else {
                if (pipe2(out, O_CLOEXEC) < 0)
                        return -errno;
                s->out_fd = out[0];
                *out_w = out[1];
                if (pipe2(err, O_CLOEXEC) < 0)
                        return -errno;
                s->err_fd = err[0];
                *err_w = err[1];
                if (fcntl(s->out_fd, F_SETFL, O_NONBLOCK) < 0 ||
                    fcntl(s->err_fd, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
        }
        if (o->result_max == 0)
                return 0;
        if (pipe2(res, O_CLOEXEC) < 0)
                return -errno;
        s->res_fd = res[0];
        /*
         * Above the fds the child gets: dup2() onto itself would keep
         * O_CLOEXEC, and a write end at 1 or 2 would be clobbered.
         */
        *res_w = fcntl(res[1], F_DUPFD_CLOEXEC, 10);
        r = -errno;
        close(res[1]);
        if (*res_w < 0)
                return r;
        if (fcntl(s->res_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

/*
 * Its stdin, when asked for: a socket (send() with MSG_NOSIGNAL, so a child
 * that is gone is -EPIPE and no SIGPIPE), non-blocking on our side; the
 * child's end above the fds it gets (dup2() onto 0 drops O_CLOEXEC there).
 */
static int open_stdin(Child *s, const ChildOptions *o, int *in_r)
{
        int sv[2], r;

        if (!o->stdin_socket)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        s->in_fd = sv[0];
        *in_r = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
        r = -errno;
        close(sv[1]);
        if (*in_r < 0)
                return r;
        if (shutdown(s->in_fd, SHUT_RD) < 0 || shutdown(*in_r, SHUT_WR) < 0 ||
            fcntl(s->in_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

int child_send(Child *s, const void *data, size_t size)
{
        ssize_t n;

        if (s->in_fd < 0)
                return -EBADF;
        if (size > CHILD_SEND_MAX)
                return -EMSGSIZE;
        do
                n = send(s->in_fd, data, size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        close(s->in_fd);
        s->in_fd = -1;
        if (n < 0)
                return errno == ECONNRESET ? -EPIPE : -errno;
        return (size_t)n == size ? 0 : -EPIPE;
}

int child_restart_clock(Child *s, uint64_t timeout_usec)
{
        int r;

        s->start_usec = now_usec();
        if (s->exited || s->sent_term)
                return 0;
        s->timer_source = sd_event_source_disable_unref(s->timer_source);
        if (timeout_usec == 0)
                return 0;
        r = sd_event_add_time_relative(s->event, &s->timer_source, CLOCK_MONOTONIC, timeout_usec, 0,
                                       on_timer, s);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(s->timer_source, s->description);
        return 0;
}

void child_set_done(Child *s, ChildDone done, void *userdata)
{
        s->done = done;
        s->userdata = userdata;
}

/* Its exit, through a pidfd where the kernel has them, else SIGCHLD. */
static int watch_exit(Child *s)
{
        _cleanup_close_ int pidfd = pidfd_open(s->pid, 0);
        int r;

        if (pidfd >= 0) {
                r = sd_event_add_child_pidfd(s->event, &s->child_source, pidfd, WEXITED, on_child,
                                             s);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_child_pidfd_own(s->child_source, true);
                TAKE_FD(pidfd);
        } else if (errno == ENOSYS) {
                /* Kernels before 5.3, and valgrind: sd-event watches the pid via SIGCHLD. */
                r = sd_event_add_child(s->event, &s->child_source, s->pid, WEXITED, on_child, s);
                if (r < 0)
                        return r;
        } else
                return -errno;
        (void)sd_event_source_set_child_process_own(s->child_source, true);
        (void)sd_event_source_set_description(s->child_source, s->description);
        return 0;
}

/* Our ends of its streams, and its time limit, on the loop. */
static int watch_streams_and_time(Child *s, const ChildOptions *o)
{
        int r;

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
                r = sd_event_add_time_relative(s->event, &s->timer_source, CLOCK_MONOTONIC,
                                               o->timeout_usec, 0, on_timer, s);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(s->timer_source, s->description);
        }
        return 0;
}

int child_start(sd_event *e, const ChildOptions *o, ChildDone done, void *userdata, Child **ret)
{
        _cleanup_(child_freep) Child *s = NULL;
        _cleanup_close_ int in_r = -1, out_w = -1, err_w = -1, res_w = -1;
        int r;

        if (!o->argv || !o->argv[0] || o->argv[0][0] != '/')
                return -EINVAL;
        if (access(o->argv[0], X_OK) < 0)
                return -errno;
        /*
         * Once, for the whole process: what a child's descendants leave when
         * they lose their parent comes to us, not to init, so we can end it
         * (child.h). Without it (kernels before 3.4) only the group is ended.
         */
        if (!subreaper_set) {
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
                subreaper_set = true;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->in_fd = s->out_fd = s->err_fd = s->res_fd = -1;
        buf_init(&s->outcome.out, o->output_max);
        buf_init(&s->outcome.err, o->output_max);
        buf_init(&s->outcome.result, o->result_max);
        s->done = done;
        s->userdata = userdata;
        s->description = strdup(o->description ?: "child");
        if (!s->description)
                return -ENOMEM;

        r = open_streams(s, o, &out_w, &err_w, &res_w);
        if (r >= 0)
                r = open_stdin(s, o, &in_r);
        if (r < 0)
                return r;
        r = spawn(o, in_r, out_w, err_w, res_w, &s->pid);
        if (r < 0) {
                s->pid = 0;
                return r;
        }
        live_add(s);
        s->start_usec = now_usec();
        r = watch_exit(s);
        if (r < 0)
                return r;
        r = watch_streams_and_time(s, o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
