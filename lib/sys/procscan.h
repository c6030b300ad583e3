/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nautobot's long-running processes on this host, found the way needrestart
 * finds them: every process whose command line runs a program of the
 * virtualenv (its bin/ directory) as a Celery worker, Celery beat, or the
 * web server ("nautobot-server start", uWSGI, gunicorn, runserver), with its
 * start time. Wherever they were started (a unit, supervisord, a container
 * runtime on the host, a shell), a process that started before the install
 * still runs the code from before.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCSCAN_MAX         64   /* processes reported */
#define PROCSCAN_CMDLINE_MAX 4096 /* bytes of a command line read */

typedef struct ServerProcess {
        pid_t pid;
        const char *role;    /* "Celery worker", "Celery beat", "web server" */
        char *cmdline;       /* arguments joined by spaces, as read (not escaped) */
        char *cgroup;        /* the unified hierarchy's path, or NULL */
        uint64_t start_usec; /* CLOCK_REALTIME */
} ServerProcess;

/*
 * The processes of 'bindir' (e.g. /opt/nautobot/bin) on this host, in pid
 * order; a process whose parent is one of them too is left out (a pre-fork
 * child is its master's). 'proc' is the procfs to read ("/proc"; tests give
 * a copy). At most PROCSCAN_MAX.
 */
int procscan_find(const char *proc, const char *bindir, ServerProcess **ret, size_t *ret_n);

void server_processes_free(ServerProcess *p, size_t n);

/* The start time of a process, CLOCK_REALTIME, from <proc>/<pid>/stat. */
int procscan_start_usec(const char *proc, pid_t pid, uint64_t *ret);
