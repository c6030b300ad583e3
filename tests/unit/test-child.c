/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Child processes on sd-event, with real programs: capture, limits, timeouts. */
#include <signal.h>
#include <sys/stat.h>

#include "child.h"
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
}

static int run(char *const *argv, char *const *envp, uint64_t timeout, size_t max, Result *res)
{
        _cleanup_(child_freep) Child *c = NULL;
        sd_event *e = NULL;
        int r;

        *res = (Result){};
        ASSERT(sd_event_new(&e) >= 0);
        r = child_start(e,
                        &(ChildOptions){.argv = argv,
                                        .envp = envp,
                                        .timeout_usec = timeout,
                                        .output_max = max,
                                        .description = "test"},
                        on_done, res, &c);
        if (r < 0) {
                sd_event_unref(e);
                return r;
        }
        while (!res->done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        c = child_free(c);
        sd_event_unref(e);
        return 0;
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
        /* Not our child: once killed it is gone, or a zombie waiting for init. */
        for (int i = 0; i < 100 && process_alive(grandchild); i++)
                usleep(10000);
        ASSERT(!process_alive(grandchild));
        unlink(pidfile);
        result_done(&r);
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
        RUN(test_term_is_enough);
        RUN(test_cannot_start);
        RUN(test_free_while_running);
        return 0;
}
