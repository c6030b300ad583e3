/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe as a child, with a real program in the place of nautobot-server
 * (a shell script writing to fd 3 what the probe writes): the document, the
 * password after its NUL byte, the deadline it is given, no answer at all, an
 * answer with Django's streams beside it, a hang past the timeout.
 */
#include <signal.h>
#include <sys/stat.h>

#include "probe.h"
#include "test.h"

typedef struct Told {
        int calls;
        int start_error;
        bool timed_out;
        char *nautobot_version;
        char *password;
        char *report_error;
} Told;

static void on_told(const ProbeOutcome *o, void *userdata)
{
        Told *t = userdata;

        t->calls++;
        t->start_error = o->start_error;
        t->timed_out = o->child && o->child->timed_out;
        if (o->report) {
                t->nautobot_version = strdup(strempty(o->report->nautobot_version));
                t->password = o->report->db_password ? strdup(o->report->db_password) : NULL;
        }
        t->report_error = o->report_error ? strdup(o->report_error) : NULL;
}

#define DOCUMENT_OF(version)                                                                           \
        "{\"format\": 2, \"nautobot_version\": \"" version "\", \"check\": {\"error\": \"x\"}, "       \
        "\"makemigrations\": {\"error\": \"x\"}, \"migration_plan\": {\"error\": \"x\"}, "             \
        "\"apps\": {\"error\": \"x\"}, \"jobs\": {\"error\": \"x\"}, \"panels\": {\"error\": \"x\"}, " \
        "\"database\": {\"error\": \"x\"}, \"cache\": {\"ok\": true}, \"broker\": {\"ok\": true}}"
#define DOCUMENT DOCUMENT_OF("3.1.6")

/* A stand-in nautobot-server: runs 'body' with sh, whatever the arguments. */
static char *server(const char *body)
{
        char *path = strdup("/tmp/nvd-test-probe-XXXXXX");
        int fd = mkstemp(path);
        _cleanup_free_ char *text = strjoin_printf("#!/bin/sh\n%s\n", body);

        ASSERT(fd >= 0 && text);
        ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        ASSERT(fchmod(fd, 0700) == 0);
        close(fd);
        return path;
}

static void run(const char *body, uint64_t timeout, Told *t)
{
        _cleanup_free_ char *path = server(body);
        _cleanup_(probe_freep) Probe *p = NULL;
        char *env[] = {(char *)"PATH=/usr/bin:/bin", NULL};
        sd_event *e = NULL;

        *t = (Told){};
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(probe_new(
                       &p, e,
                       &(ProbeOptions){.server = path,
                                       .path = "/nonexistent/probe.py",
                                       .app_labels = "nautobot_contract_models,nautobot_dns_models",
                                       .sections = "check,database",
                                       .envp = env,
                                       .timeout_usec = timeout,
                                       .output_max = 65536}) == 0);
        ASSERT(probe_subscribe(p, on_told, t) == 0);
        probe_start(p);
        while (t->calls == 0)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        p = probe_free(p);
        sd_event_unref(e);
        unlink(path);
}

static void told_done(Told *t)
{
        free(t->nautobot_version);
        free(t->password);
        free(t->report_error);
}

static void test_document_and_password(void)
{
        Told t;

        /* What the apps print goes to stdout/stderr; only fd 3 is read as the answer. */
        run("echo 'some app prints {\"format\": 2}'; echo noise >&2; printf '%s\\0%s' '" DOCUMENT
            "' 's3cret pass' >&3",
            10 * USEC_PER_SEC, &t);
        ASSERT(t.calls == 1 && t.start_error == 0 && !t.report_error);
        ASSERT_STREQ(t.nautobot_version, "3.1.6");
        ASSERT_STREQ(t.password, "s3cret pass");
        told_done(&t);

        /* The environment it gets names the probe and what to answer. */
        run("[ \"$NVD_PROBE\" = /nonexistent/probe.py ] && [ \"$NVD_PROBE_SECTIONS\" = check,database ] && "
            "[ \"$NVD_PROBE_APP_LABELS\" = nautobot_contract_models,nautobot_dns_models ] && printf '%s' '" DOCUMENT
            "' >&3",
            10 * USEC_PER_SEC, &t);
        ASSERT(!t.report_error && !t.password);
        ASSERT_STREQ(t.nautobot_version, "3.1.6");
        told_done(&t);
}

static void test_deadline(void)
{
        Told t;
        uint64_t before = now_usec(), deadline;
        char *end;

        /* When the daemon stops it, on CLOCK_MONOTONIC (the probe gives up on a forked section
         * in time): echoed back here as the version. */
        run("printf '" DOCUMENT_OF("%s") "' \"$NVD_PROBE_DEADLINE\" >&3", 10 * USEC_PER_SEC, &t);
        ASSERT(!t.report_error && t.nautobot_version);
        deadline = strtoull(t.nautobot_version, &end, 10);
        ASSERT(*t.nautobot_version && !*end);
        ASSERT(deadline > before && deadline <= now_usec() + 10 * USEC_PER_SEC);
        told_done(&t);

        /* No timeout, no deadline. */
        run("printf '" DOCUMENT_OF("%s") "' \"${NVD_PROBE_DEADLINE-unset}\" >&3", 0, &t);
        ASSERT_STREQ(t.nautobot_version, "unset");
        told_done(&t);
}

static void test_no_answer(void)
{
        Told t;

        /* Django died before the probe ran: no document, and the child's outcome to judge. */
        run("echo 'Traceback (most recent call last):' >&2; echo 'KeyError: x' >&2; exit 1",
            10 * USEC_PER_SEC, &t);
        ASSERT(t.calls == 1 && !t.nautobot_version);
        ASSERT(t.report_error && strstr(t.report_error, "no result"));
        told_done(&t);

        run("printf '{\"format\": 2' >&3", 10 * USEC_PER_SEC, &t);
        ASSERT(t.report_error && strstr(t.report_error, "not one JSON document"));
        told_done(&t);
}

static void test_timeout(void)
{
        Told t;

        run("exec sleep 60", 300 * USEC_PER_MSEC, &t);
        ASSERT(t.calls == 1 && t.timed_out && !t.nautobot_version);
        told_done(&t);
}

static void test_cannot_start(void)
{
        _cleanup_(probe_freep) Probe *p = NULL;
        char *env[] = {NULL};
        sd_event *e = NULL;
        Told t = {};

        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(probe_new(&p, e,
                         &(ProbeOptions){.server = "/nonexistent/nautobot-server",
                                         .path = "/x",
                                         .app_labels = "*",
                                         .sections = "check",
                                         .envp = env,
                                         .timeout_usec = USEC_PER_SEC,
                                         .output_max = 4096}) == 0);
        ASSERT(probe_subscribe(p, on_told, &t) == 0);
        probe_start(p);
        ASSERT(t.calls == 1 && t.start_error == -ENOENT);
        p = probe_free(p);
        sd_event_unref(e);
}

/*
 * One run, several apps: a subscriber that comes after the probe ended is
 * told the kept answer, from the loop and not from inside probe_subscribe();
 * the child runs once; an unsubscribed late comer is not told.
 */
static void test_late_subscribers(void)
{
        _cleanup_free_ char *path =
                server("echo run >> \"$COUNT\"; printf '%s\\0pw' '" DOCUMENT "' >&3");
        _cleanup_free_ char *count = strdup("/tmp/nvd-test-probe-count-XXXXXX"), *text = NULL;
        _cleanup_(probe_freep) Probe *p = NULL;
        _cleanup_free_ char *env_count = NULL;
        Told first = {}, late = {}, gone = {};
        sd_event *e = NULL;
        size_t len;
        int fd;

        ASSERT(count && (fd = mkstemp(count)) >= 0);
        close(fd);
        env_count = strjoin_printf("COUNT=%s", count);
        char *env[] = {(char *)"PATH=/usr/bin:/bin", env_count, NULL};
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(probe_new(&p, e,
                         &(ProbeOptions){.server = path,
                                         .path = "/x",
                                         .app_labels = "*",
                                         .sections = "check",
                                         .envp = env,
                                         .timeout_usec = 10 * USEC_PER_SEC,
                                         .output_max = 4096}) == 0);
        ASSERT(!probe_report(p));
        ASSERT(probe_subscribe(p, on_told, &first) == 0);
        probe_start(p);
        while (first.calls == 0)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        ASSERT_STREQ(first.nautobot_version, "3.1.6");
        ASSERT(probe_report(p) && !probe_error(p));

        ASSERT(probe_subscribe(p, on_told, &late) == 0);
        ASSERT(probe_subscribe(p, on_told, &gone) == 0);
        ASSERT(late.calls == 0); /* not from inside the call */
        probe_unsubscribe(p, &gone);
        probe_start(p); /* ended: not again */
        while (late.calls == 0)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        ASSERT(sd_event_run(e, 0) >= 0);
        ASSERT_STREQ(late.nautobot_version, "3.1.6");
        ASSERT_STREQ(late.password, "pw"); /* the kept report's own copy */
        ASSERT(first.calls == 1 && late.calls == 1 && gone.calls == 0);
        ASSERT(read_file_bounded(count, 4096, &text, &len) == 0);
        ASSERT_STREQ(text, "run\n"); /* one child for all */
        told_done(&first);
        told_done(&late);
        p = probe_free(p);
        sd_event_unref(e);
        unlink(path);
        unlink(count);
}

/* A stand-in that answers with what it was asked for (NVD_PROBE_SECTIONS) as the version;
 * booted ahead, it reads the questions from stdin first, as the probe's hold() does. */
#define ASKED_SERVER                                                                               \
        "echo run >> \"$COUNT\"; "                                                                 \
        "if [ -n \"$NVD_PROBE_HOLD\" ]; then q=$(cat); [ -n \"$q\" ] || exit 0; "                  \
        "NVD_PROBE_SECTIONS=$(printf '%s\\n' \"$q\" | sed -n 's/^NVD_PROBE_SECTIONS=//p'); "       \
        "case \"$q\" in *NVD_PROBE_DEADLINE=*) ;; *) exit 3;; esac; fi; "                          \
        "printf '" DOCUMENT_OF("%s") "' \"$NVD_PROBE_SECTIONS\" >&3"

typedef struct Ahead {
        sd_event *e;
        char *server;
        char *count;
        char *env_count;
} Ahead;

static Probe *ahead_probe(Ahead *a, const char *sections, const char *path_var, uint64_t timeout)
{
        char *env[] = {(char *)path_var, a->env_count, NULL};
        Probe *p = NULL;

        ASSERT(probe_new(&p, a->e,
                         &(ProbeOptions){.server = a->server,
                                         .path = "/x",
                                         .app_labels = "*",
                                         .sections = sections,
                                         .envp = env,
                                         .timeout_usec = timeout,
                                         .output_max = 4096}) == 0);
        return p;
}

static size_t runs_counted(const Ahead *a)
{
        _cleanup_free_ char *text = NULL;
        size_t len, n = 0;

        ASSERT(read_file_bounded(a->count, 4096, &text, &len) == 0);
        for (size_t i = 0; i < len; i++)
                n += text[i] == '\n';
        return n;
}

static void wait_told(const Ahead *a, const Told *t)
{
        while (t->calls == 0)
                ASSERT(sd_event_run(a->e, UINT64_MAX) >= 0);
}

/* The children count themselves as they start: one that waits may not have yet. */
static void wait_counted(const Ahead *a, size_t n)
{
        for (int i = 0; i < 200 && runs_counted(a) < n; i++)
                usleep(25 * 1000);
        ASSERT(runs_counted(a) == n);
}

/*
 * Booted ahead (an upgrade waiting for its restarts): a probe started later
 * with the same program, account and environment takes the waiting child
 * over and asks it its own questions on stdin (one child in all); another
 * environment, or a child that ended meanwhile, and it starts its own.
 */
static void test_booted_ahead(void)
{
        Ahead a = {};
        Told t = {};
        int fd;

        ASSERT(sd_event_new(&a.e) >= 0);
        a.server = server(ASKED_SERVER);
        a.count = strdup("/tmp/nvd-test-probe-count-XXXXXX");
        ASSERT(a.count && (fd = mkstemp(a.count)) >= 0);
        close(fd);
        a.env_count = strjoin_printf("COUNT=%s", a.count);

        /* Taken over: the answer is to the later probe's questions, from one child. */
        {
                _cleanup_(probe_freep) Probe *warm =
                        ahead_probe(&a, "warm", "PATH=/usr/bin:/bin", 10 * USEC_PER_SEC);
                _cleanup_(probe_freep) Probe *p =
                        ahead_probe(&a, "check,workers", "PATH=/usr/bin:/bin", 10 * USEC_PER_SEC);

                ASSERT(probe_boot_realtime(warm) == 0);
                ASSERT(probe_boot(warm, 30 * USEC_PER_SEC) == 0);
                ASSERT(probe_boot_realtime(warm) > 0);
                ASSERT(probe_boot(warm, 30 * USEC_PER_SEC) == -EBUSY);
                probe_set_warm(p, warm);
                ASSERT(probe_subscribe(p, on_told, &t) == 0);
                probe_start(p);
                ASSERT(probe_boot_realtime(warm) == 0); /* given away */
                ASSERT(!probe_refused(warm));
                wait_told(&a, &t);
                ASSERT(!t.report_error);
                ASSERT_STREQ(t.nautobot_version, "check,workers");
                wait_counted(&a, 1);
                told_done(&t);
                t = (Told){};
        }
        /* Another environment: not the same boot; the waiting one is left alone (and freed). */
        {
                _cleanup_(probe_freep) Probe *warm =
                        ahead_probe(&a, "warm", "PATH=/usr/bin:/bin", 10 * USEC_PER_SEC);
                _cleanup_(probe_freep) Probe *p =
                        ahead_probe(&a, "check", "PATH=/bin:/usr/bin", 10 * USEC_PER_SEC);

                ASSERT(probe_boot(warm, 30 * USEC_PER_SEC) == 0);
                probe_set_warm(p, warm);
                ASSERT(probe_subscribe(p, on_told, &t) == 0);
                probe_start(p);
                ASSERT(probe_boot_realtime(warm) > 0);
                ASSERT(probe_refused(warm) && strstr(probe_refused(warm), "another program"));
                wait_told(&a, &t);
                ASSERT_STREQ(t.nautobot_version, "check");
                wait_counted(&a, 3);
                told_done(&t);
                t = (Told){};
        }
        /* Ended before anybody asked (its hold ran out; Django failed): its own child again.
         * And a start with nobody subscribed starts nothing and takes nothing over. */
        {
                _cleanup_(probe_freep) Probe *warm =
                        ahead_probe(&a, "warm", "PATH=/usr/bin:/bin", 500 * USEC_PER_MSEC);
                _cleanup_(probe_freep) Probe *p =
                        ahead_probe(&a, "jobs", "PATH=/usr/bin:/bin", 100 * USEC_PER_MSEC);

                ASSERT(probe_boot(warm, 1) == 0);
                probe_set_warm(p, warm);
                probe_start(p);
                ASSERT(probe_boot_realtime(warm) > 0);
                while (probe_boot_realtime(warm) > 0)
                        ASSERT(sd_event_run(a.e, UINT64_MAX) >= 0);
                probe_set_warm(p, warm);
                ASSERT(probe_subscribe(p, on_told, &t) == 0);
                probe_start(p);
                wait_told(&a, &t);
                ASSERT_STREQ(t.nautobot_version, "jobs");
                ASSERT_STREQ(probe_refused(warm), "it ended before the verification asked it");
                wait_counted(&a, 5);
                told_done(&t);
        }
        unlink(a.server);
        unlink(a.count);
        free(a.server);
        free(a.count);
        free(a.env_count);
        sd_event_unref(a.e);
}

int main(void)
{
        sigset_t mask;

        /* sd-event's child sources need SIGCHLD blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        RUN(test_document_and_password);
        RUN(test_deadline);
        RUN(test_no_answer);
        RUN(test_timeout);
        RUN(test_cannot_start);
        RUN(test_late_subscribers);
        RUN(test_booted_ahead);
        return 0;
}
