/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes on sd-event, with real programs: capture, limits, timeouts,
 * what a child leaves behind, the descriptors it inherits, and (as root)
 * another account: id -u / id -G as the child sees itself.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "child.h"
#include "runas.h"
#include "test.h"

typedef struct Result {
        bool done;
        bool timed_out;
        int exit_status;
        int signal;
        char *out;
        char *err;
        bool out_truncated;
        uint64_t duration_usec;
        unsigned left_behind;
        bool pipes_held;
} Result;

static void on_done(Child *c, const ChildOutcome *o, void *userdata)
{
        Result *r = userdata;

        (void)c;
        r->done = true;
        r->timed_out = o->timed_out;
        r->exit_status = o->exit_status;
        r->signal = o->signal;
        r->out = strdup(o->out.data ?: "");
        r->err = strdup(o->err.data ?: "");
        r->out_truncated = o->out.truncated;
        r->duration_usec = o->duration_usec;
        r->left_behind = o->left_behind;
        r->pipes_held = o->pipes_held;
}

/* Runs the child to its end; with e, on that loop (for the caller to run on), else on a new one. */
static int run_options(sd_event *e, const ChildOptions *o, Result *res)
{
        _cleanup_(child_freep) Child *c = NULL;
        sd_event *own = NULL;
        int r;

        *res = (Result){};
        if (!e) {
                ASSERT(sd_event_new(&own) >= 0);
                e = own;
        }
        r = child_start(e, o, on_done, res, &c);
        if (r < 0) {
                sd_event_unref(own);
                return r;
        }
        while (!res->done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        c = child_free(c);
        sd_event_unref(own);
        return 0;
}

static int run_full(char *const *argv, char *const *envp, uint64_t timeout, size_t max,
                    const ChildUser *user, const char *cwd, Result *res)
{
        return run_options(NULL,
                           &(ChildOptions){.argv = argv,
                                           .envp = envp,
                                           .timeout_usec = timeout,
                                           .output_max = max,
                                           .description = "test",
                                           .user = user,
                                           .cwd = cwd},
                           res);
}

static int run(char *const *argv, char *const *envp, uint64_t timeout, size_t max, Result *res)
{
        return run_full(argv, envp, timeout, max, NULL, NULL, res);
}

static void result_done(Result *r)
{
        free(r->out);
        free(r->err);
}

/* Alive and not a zombie, from /proc/PID/stat's state field. */
static bool process_alive(pid_t pid)
{
        _cleanup_free_ char *path = strjoin_printf("/proc/%d/stat", (int)pid), *stat = NULL;
        const char *p;

        if (read_file_bounded(path, 4096, &stat, NULL) < 0)
                return false;
        p = strrchr(stat, ')');
        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void test_capture(void)
{
        Result r;

        ASSERT(run((char *[]){"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL},
                   (char *[]){NULL}, 10 * USEC_PER_SEC, 1024, &r) == 0);
        ASSERT(!r.timed_out && r.exit_status == 3 && r.signal == 0);
        ASSERT_STREQ(r.out, "out\n");
        ASSERT_STREQ(r.err, "err\n");
        result_done(&r);
}

static void test_environment_is_explicit(void)
{
        Result r;

        setenv("NVD_SHOULD_NOT_LEAK", "1", 1);
        ASSERT(run((char *[]){"/usr/bin/env", NULL}, (char *[]){"ONLY=this", NULL},
                   10 * USEC_PER_SEC, 1024, &r) == 0);
        ASSERT_STREQ(r.out, "ONLY=this\n");
        result_done(&r);
}

static void test_output_limit(void)
{
        Result r;

        ASSERT(run((char *[]){"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x", NULL},
                   (char *[]){"PATH=/usr/bin:/bin", NULL}, 10 * USEC_PER_SEC, 4096, &r) == 0);
        ASSERT(r.out_truncated);
        ASSERT(strlen(r.out) == 4096);
        ASSERT(r.exit_status == 0);
        result_done(&r);
}

static void test_timeout_kills_group(void)
{
        char pidfile[] = "/tmp/nvd-test-child-XXXXXX";
        _cleanup_free_ char *script = NULL, *pidtext = NULL;
        int fd = mkstemp(pidfile);
        Result r;
        pid_t grandchild;

        ASSERT(fd >= 0);
        close(fd);
        /* The grandchild ignores SIGTERM: only the group SIGKILL ends it. */
        script = strjoin_printf(
                "trap '' TERM; (trap '' TERM; exec sleep 1000) & echo $! > %s; wait", pidfile);
        ASSERT(run((char *[]){"/bin/sh", "-c", script, NULL},
                   (char *[]){"PATH=/usr/bin:/bin", NULL}, 300 * USEC_PER_MSEC, 1024, &r) == 0);
        ASSERT(r.timed_out);
        ASSERT(r.signal == SIGKILL);
        ASSERT(r.duration_usec >= CHILD_KILL_GRACE_USEC);
        ASSERT(read_file_bounded(pidfile, 64, &pidtext, NULL) == 0);
        grandchild = atoi(pidtext);
        ASSERT(grandchild > 0);
        /* Once killed it is gone, or a zombie for a moment (an orphan: ours to reap, child.h). */
        for (int i = 0; i < 100 && process_alive(grandchild); i++)
                usleep(10000);
        ASSERT(!process_alive(grandchild));
        unlink(pidfile);
        result_done(&r);
}

/* The pid a child's descendant wrote to path, waiting for it as long as the child ran. */
static pid_t read_pid(const char *path)
{
        _cleanup_free_ char *text = NULL;

        ASSERT(read_file_bounded(path, 64, &text, NULL) == 0);
        ASSERT(atoi(text) > 0);
        return atoi(text);
}

/*
 * Issue 15 item 8: a grandchild that leaves the group with setsid() and keeps
 * stdout and stderr open. The run ends when the main process does, not at the
 * timeout, and the grandchild does not outlive it: it was ours to reap.
 */
static void test_escaped_grandchild_ends_with_the_child(void)
{
        char pidfile[] = "/tmp/nvd-test-child-XXXXXX";
        _cleanup_free_ char *script = NULL;
        int fd = mkstemp(pidfile);
        sd_event *e = NULL;
        uint64_t deadline;
        Result r;
        pid_t grandchild;

        ASSERT(fd >= 0);
        close(fd);
        /* The main process waits until the grandchild is out of its group, then exits 0. */
        script = strjoin_printf("setsid sh -c 'echo $$ > %s; exec sleep 600' & "
                                "while [ ! -s %s ]; do sleep 0.01; done; echo main",
                                pidfile, pidfile);
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(run_options(e,
                           &(ChildOptions){.argv = (char *[]){"/bin/sh", "-c", script, NULL},
                                           .envp = (char *[]){"PATH=/usr/bin:/bin", NULL},
                                           .timeout_usec = 60 * USEC_PER_SEC,
                                           .output_max = 1024,
                                           .description = "test-escape"},
                           &r) == 0);
        grandchild = read_pid(pidfile);
        ASSERT(r.duration_usec < 5 * USEC_PER_SEC);
        ASSERT(!r.timed_out && r.exit_status == 0 && r.signal == 0);
        ASSERT_STREQ(r.out, "main\n");
        ASSERT(r.left_behind == 1);
        ASSERT(!r.pipes_held);
        /* Killed, and reaped by the loop: gone, not even a zombie. */
        deadline = now_usec() + 5 * USEC_PER_SEC;
        while (kill(grandchild, 0) == 0 && now_usec() < deadline)
                ASSERT(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
        ASSERT(kill(grandchild, 0) < 0 && errno == ESRCH);
        sd_event_unref(e);
        unlink(pidfile);
        result_done(&r);
}

/*
 * A writer out of reach: the grandchild joins our own process group, where a
 * plain fork() of ours would be, and keeps stdout open. The pipes are closed
 * after the grace, not at the timeout.
 */
static void test_drain_is_bounded(void)
{
        char pidfile[] = "/tmp/nvd-test-child-XXXXXX";
        _cleanup_free_ char *script = NULL;
        int fd;
        Result r;
        pid_t stray;

        /* python3 for setpgid(), which the shell has no command for (the probe needs it anyway). */
        fd = mkstemp(pidfile);
        ASSERT(fd >= 0);
        close(fd);
        script = strjoin_printf(
                "python3 -c 'import os, time; os.setpgid(0, %d); open(\"%s\", \"w\").write(str(os.getpid())); time.sleep(600)' & "
                "while [ ! -s %s ]; do sleep 0.01; done; echo main",
                (int)getpgrp(), pidfile, pidfile);
        ASSERT(run((char *[]){"/bin/sh", "-c", script, NULL},
                   (char *[]){"PATH=/usr/bin:/bin", NULL}, 60 * USEC_PER_SEC, 1024, &r) == 0);
        stray = read_pid(pidfile);
        ASSERT(r.pipes_held);
        ASSERT(r.duration_usec >= CHILD_DRAIN_GRACE_USEC);
        ASSERT(r.duration_usec < CHILD_DRAIN_GRACE_USEC + 4 * USEC_PER_SEC);
        ASSERT(r.exit_status == 0 && !r.timed_out);
        ASSERT_STREQ(r.out, "main\n");
        /* Left alone, as one of our own: it is ours to end (an orphan, so our child now). */
        ASSERT(kill(stray, 0) == 0);
        ASSERT(kill(stray, SIGKILL) == 0);
        ASSERT(waitpid(stray, NULL, 0) == stray);
        unlink(pidfile);
        result_done(&r);
}

/*
 * The descriptors the child got: a shell's, listed by ls while the shell waits
 * for it (the shell opens nothing for -c; a glob of its own /proc/$$/fd would
 * show the glob's directory descriptor, ls's own list its directory too).
 */
static char *child_fds(size_t result_max)
{
        Result r;
        char *out;

        ASSERT(run_options(NULL,
                           &(ChildOptions){
                                   .argv = (char *[]){"/bin/sh", "-c", "/bin/ls /proc/$$/fd", NULL},
                                   .envp = (char *[]){NULL},
                                   .timeout_usec = 10 * USEC_PER_SEC,
                                   .output_max = 1024,
                                   .result_max = result_max,
                                   .description = "test-fds"},
                           &r) == 0);
        ASSERT(r.exit_status == 0);
        out = TAKE_PTR(r.out);
        result_done(&r);
        return out;
}

/*
 * Issue 15 item 9: descriptors without O_CLOEXEC (as libcurl makes its
 * socketpair) do not reach the child: it has 0, 1, 2 and, when asked, 3.
 */
static void test_only_standard_fds_reach_the_child(void)
{
        _cleanup_free_ char *plain = NULL, *with_result = NULL;
        int leak = open("/dev/null", O_RDONLY), pair[2];

        ASSERT(leak >= 0);
        ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
        plain = child_fds(0);
        ASSERT_STREQ(plain, "0\n1\n2\n");
        with_result = child_fds(64);
        ASSERT_STREQ(with_result, "0\n1\n2\n3\n");
        close(leak);
        close(pair[0]);
        close(pair[1]);
}

static void test_term_is_enough(void)
{
        Result r;

        ASSERT(run((char *[]){"/bin/sleep", "1000", NULL}, (char *[]){NULL}, 100 * USEC_PER_MSEC,
                   1024, &r) == 0);
        ASSERT(r.timed_out && r.signal == SIGTERM);
        ASSERT(r.duration_usec < CHILD_KILL_GRACE_USEC);
        result_done(&r);
}

static void test_cannot_start(void)
{
        Result r;

        ASSERT(run((char *[]){"/nonexistent/nautobot-server", NULL}, (char *[]){NULL}, USEC_PER_SEC,
                   1024, &r) == -ENOENT);
        ASSERT(run((char *[]){"relative", NULL}, (char *[]){NULL}, USEC_PER_SEC, 1024, &r) ==
               -EINVAL);
        char plain[] = "/tmp/nvd-test-plain-XXXXXX";
        int fd = mkstemp(plain); /* mode 0600: not executable */

        ASSERT(fd >= 0);
        close(fd);
        ASSERT(run((char *[]){plain, NULL}, (char *[]){NULL}, USEC_PER_SEC, 1024, &r) == -EACCES);
        unlink(plain);
}

static void test_free_while_running(void)
{
        _cleanup_(child_freep) Child *c = NULL;
        sd_event *e = NULL;
        Result r = {};
        pid_t pid;

        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(child_start(e,
                           &(ChildOptions){.argv = (char *[]){"/bin/sleep", "1000", NULL},
                                           .envp = (char *[]){NULL},
                                           .output_max = 16},
                           on_done, &r, &c) == 0);
        pid = child_pid(c);
        ASSERT(pid > 0);
        c = child_free(c); /* kills and reaps */
        ASSERT(!process_alive(pid));
        ASSERT(!r.done);
        sd_event_unref(e);
}

/*
 * stdin as asked (ChildOptions.stdin_socket): what child_send() writes once, then
 * EOF; no second send, none without it, none too large. A new owner is told
 * the end (child_set_done()), and the clock restarted from the send
 * (child_restart_clock()) is the one that ends it.
 */
static void test_send_and_hand_over(void)
{
        _cleanup_(child_freep) Child *c = NULL, *plain = NULL;
        char big[CHILD_SEND_MAX + 1];
        sd_event *e = NULL;
        Result first = {}, r = {};

        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(child_start(
                       e,
                       &(ChildOptions){.argv = (char *[]){"/bin/sh", "-c",
                                                          "cat; echo :EOF; exec sleep 60", NULL},
                                       .envp = (char *[]){NULL},
                                       .timeout_usec = 60 * USEC_PER_SEC,
                                       .output_max = 4096,
                                       .stdin_socket = true},
                       on_done, &first, &c) == 0);
        memset(big, 'x', sizeof(big));
        ASSERT(child_send(c, big, sizeof(big)) == -EMSGSIZE);
        ASSERT(child_send(c, "NVD_PROBE_SECTIONS=check\n", 25) == 0);
        ASSERT(child_send(c, "again", 5) == -EBADF);
        child_set_done(c, on_done, &r);
        ASSERT(child_restart_clock(c, 300 * USEC_PER_MSEC) == 0);
        while (!r.done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        ASSERT(!first.done && r.timed_out);
        ASSERT_STREQ(r.out, "NVD_PROBE_SECTIONS=check\n:EOF\n");
        ASSERT(r.duration_usec < 10 * USEC_PER_SEC);
        result_done(&r);

        ASSERT(child_start(e,
                           &(ChildOptions){.argv = (char *[]){"/bin/cat", NULL},
                                           .envp = (char *[]){NULL},
                                           .output_max = 16},
                           on_done, &r, &plain) == 0);
        ASSERT(child_send(plain, "x", 1) == -EBADF);
        r = (Result){};
        while (!r.done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        ASSERT(r.exit_status == 0 && streq(r.out, "")); /* /dev/null: EOF at once */
        result_done(&r);
        c = child_free(c);
        plain = child_free(plain);
        sd_event_unref(e);
}

/* Passed on, not captured: both streams land in our stderr (a file here), in order. */
static void test_output_to_stderr(void)
{
        char path[] = "/tmp/nvd-test-stderr-XXXXXX";
        _cleanup_(child_freep) Child *c = NULL;
        _cleanup_free_ char *text = NULL;
        sd_event *e = NULL;
        Result r = {};
        int fd = mkstemp(path), saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

        ASSERT(fd >= 0 && saved >= 0);
        ASSERT(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
        close(fd);
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(child_start(
                       e,
                       &(ChildOptions){.argv = (char *[]){"/bin/sh", "-c",
                                                          "echo out; echo err >&2; exit 4", NULL},
                                       .envp = (char *[]){NULL},
                                       .timeout_usec = 10 * USEC_PER_SEC,
                                       .output_to_stderr = true},
                       on_done, &r, &c) == 0);
        while (!r.done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        c = child_free(c);
        sd_event_unref(e);
        ASSERT(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
        close(saved);
        ASSERT(r.exit_status == 4 && !r.timed_out);
        ASSERT_STREQ(r.out, "");
        ASSERT_STREQ(r.err, "");
        ASSERT(read_file_bounded(path, 4096, &text, NULL) >= 0);
        ASSERT_STREQ(text, "out\nerr\n");
        unlink(path);
        result_done(&r);
}

static char *id_of(const char *flag, const ChildUser *user)
{
        Result r;
        char *out;

        ASSERT(run_full((char *[]){"/usr/bin/id", (char *)flag, NULL}, (char *[]){NULL},
                        5 * USEC_PER_SEC, 1024, user, NULL, &r) == 0);
        ASSERT(r.exit_status == 0);
        out = strdup(strstrip(r.out));
        result_done(&r);
        return out;
}

static void test_runs_as_user(void)
{
        _cleanup_(run_as_freep) RunAs *ra = NULL;
        _cleanup_free_ char *uid = NULL, *groups = NULL, *error = NULL;
        gid_t extra[] = {65534, 100};
        char closed[] = "/tmp/nvd-test-closed-XXXXXX";
        Result r;

        if (geteuid() != 0)
                SKIP("needs root to change the account");
        /* The account and its groups, as the daemon resolves them. */
        ASSERT(run_as_resolve("/unused", "nobody", 0, &ra, &error) == 0);
        ASSERT(ra && ra->user.uid == 65534 && !error);
        uid = id_of("-u", &ra->user);
        ASSERT_STREQ(uid, "65534");
        groups = id_of("-G", &ra->user);
        ASSERT(!strstr(groups, "0 ") && !streq(groups, "0")); /* root's group is gone */
        free(groups);
        /* Supplementary groups are set, not inherited: exactly these. */
        groups = id_of("-G", &(ChildUser){.uid = 65534,
                                          .gid = 65534,
                                          .groups = extra,
                                          .n_groups = ELEMENTSOF(extra)});
        ASSERT_STREQ(groups, "65534 100");
        /* The working directory is entered as the account: a root-only one is closed to it. */
        ASSERT(mkdtemp(closed)); /* mode 0700 */
        ASSERT(run_full((char *[]){"/usr/bin/id", NULL}, (char *[]){NULL}, USEC_PER_SEC, 1024,
                        &ra->user, closed, &r) == -EACCES);
        rmdir(closed);
        /* Without an account: as ourselves, root. */
        free(uid);
        uid = id_of("-u", NULL);
        ASSERT_STREQ(uid, "0");
}

static void test_run_as_resolve(void)
{
        _cleanup_(run_as_freep) RunAs *ra = NULL;
        char server[] = "/tmp/nvd-test-server-XXXXXX";
        char *error = NULL;
        int fd;

        /* Not root: children run as we do, whatever is configured. */
        ASSERT(run_as_resolve("/nonexistent", NULL, 1000, &ra, &error) == 0 && !ra && !error);
        ASSERT(run_as_resolve("/nonexistent", "nobody", 1000, &ra, &error) == 0 && !ra);

        fd = mkstemp(server);
        ASSERT(fd >= 0);
        close(fd);
        if (geteuid() == 0) {
                /* Owned by root: refused, saying what to set. */
                ASSERT(run_as_resolve(server, NULL, 0, &ra, &error) == -EPERM && !ra);
                ASSERT(strstr(error, "is owned by root") && strstr(error, "[nautobot] user="));
                error = mfree(error);
                /* The owner of server=, with the reason in the note. */
                ASSERT(chown(server, 65534, 65534) == 0);
                ASSERT(run_as_resolve(server, NULL, 0, &ra, &error) == 0);
                ASSERT(ra->user.uid == 65534 && ra->user.gid == 65534);
                ASSERT(strstr(
                        ra->note,
                        "ran as user nobody (uid 65534) because nautobot-verifyd runs as root (the owner of /tmp/nvd-test-server-"));
                ra = run_as_free(ra);
                /* An owner without a passwd entry: refused. */
                ASSERT(chown(server, 4000123, 0) == 0);
                ASSERT(run_as_resolve(server, NULL, 0, &ra, &error) == -EPERM);
                ASSERT(strstr(error, "owned by uid 4000123, which has no passwd entry"));
                error = mfree(error);
        }
        /* The key wins over the owner; root only when it says so. */
        ASSERT(run_as_resolve(server, "root", 0, &ra, &error) == 0);
        ASSERT(ra->user.uid == 0 && strstr(ra->note, "ran as root"));
        ra = run_as_free(ra);
        ASSERT(run_as_resolve(server, "65534", 0, &ra, &error) == 0 && ra->user.uid == 65534);
        ra = run_as_free(ra);
        ASSERT(run_as_resolve(server, "no-such-user-nvd", 0, &ra, &error) == -EPERM);
        ASSERT(strstr(error, "[nautobot] user=no-such-user-nvd: no such user"));
        error = mfree(error);
        ASSERT(run_as_resolve("/nonexistent/nautobot-server", NULL, 0, &ra, &error) == -EPERM);
        ASSERT(strstr(error, "cannot tell who owns '/nonexistent/nautobot-server'"));
        free(error);
        unlink(server);
}

int main(void)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        RUN(test_capture);
        RUN(test_environment_is_explicit);
        RUN(test_output_limit);
        RUN(test_timeout_kills_group);
        RUN(test_escaped_grandchild_ends_with_the_child);
        RUN(test_drain_is_bounded);
        RUN(test_only_standard_fds_reach_the_child);
        RUN(test_term_is_enough);
        RUN(test_cannot_start);
        RUN(test_free_while_running);
        RUN(test_send_and_hand_over);
        RUN(test_output_to_stderr);
        RUN(test_runs_as_user);
        RUN(test_run_as_resolve);
        return 0;
}
