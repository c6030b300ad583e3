/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding Nautobot's processes in procfs. See procscan.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "procscan.h"
#include "util.h"

#define SCAN_ENTRIES_MAX 65536 /* /proc entries looked at */
#define CANDIDATES_MAX   1024  /* matches kept before masters are picked */

/* Up to 'max' bytes of a small procfs file (their st_size is 0: read to EOF). */
static int read_proc(int dfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        while (len < max) {
                ssize_t n = read(fd, buf + len, max - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static bool has_arg(char **argv, const char *word)
{
        STRV_FOREACH (a, argv) {
                const char *base = strrchr(*a, '/');

                if (streq(*a, word) || (base && streq(base + 1, word)))
                        return true;
        }
        return false;
}

/* What a command line is to Nautobot, when it runs a program of bindir. */
static const char *role_of(char **argv, const char *bindir)
{
        size_t n = strlen(bindir);
        bool ours = false;

        /* "<venv>/bin/python <venv>/bin/nautobot-server ..." or "<venv>/bin/celery ...". */
        for (size_t i = 0; i < 2 && argv[i]; i++)
                if (strncmp(argv[i], bindir, n) == 0 && argv[i][n] == '/')
                        ours = true;
        if (!ours)
                return NULL;
        if (has_arg(argv, "celery"))
                return has_arg(argv, "worker") ? "Celery worker"
                       : has_arg(argv, "beat") ? "Celery beat"
                                               : NULL;
        if (has_arg(argv, "uwsgi") || has_arg(argv, "gunicorn") || has_arg(argv, "runserver") ||
            (has_arg(argv, "nautobot-server") && has_arg(argv, "start")))
                return "web server";
        return NULL;
}

/* CLOCK_REALTIME of the moment the system booted, as procfs counts start times. */
static uint64_t boot_realtime_usec(void)
{
        struct timespec rt, bt;

        if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_BOOTTIME, &bt) < 0)
                return 0;
        return (uint64_t)rt.tv_sec * USEC_PER_SEC + (uint64_t)rt.tv_nsec / 1000 -
               ((uint64_t)bt.tv_sec * USEC_PER_SEC + (uint64_t)bt.tv_nsec / 1000);
}

/* Field 4 (ppid) and 22 (starttime, in clock ticks since boot) of <pid>/stat. */
static int read_stat(int pfd, pid_t *ret_ppid, uint64_t *ret_start_usec)
{
        _cleanup_free_ char *text = NULL;
        unsigned long long ticks = 0;
        long hz = sysconf(_SC_CLK_TCK);
        const char *p;
        int ppid = 0, r;

        r = read_proc(pfd, "stat", 1024, &text, NULL);
        if (r < 0)
                return r;
        /* The command name may hold spaces and parentheses: fields follow the last ')'. */
        p = strrchr(text, ')');
        if (!p || hz <= 0 ||
            sscanf(p + 1,
                   " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &ppid, &ticks) != 2)
                return -EBADMSG;
        *ret_ppid = ppid;
        *ret_start_usec = boot_realtime_usec() + ticks * USEC_PER_SEC / (unsigned long long)hz;
        return 0;
}

int procscan_start_usec(const char *proc, pid_t pid, uint64_t *ret)
{
        _cleanup_free_ char *path = strjoin_printf("%s/%d", proc, (int)pid);
        _cleanup_close_ int pfd = -1;
        pid_t ppid;

        if (!path)
                return -ENOMEM;
        pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return -errno;
        return read_stat(pfd, &ppid, ret);
}

void server_processes_free(ServerProcess *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].cmdline);
                free(p[i].cgroup);
        }
        free(p);
}

typedef struct Candidate {
        ServerProcess p;
        pid_t ppid;
} Candidate;

static int candidate_of(int dfd, const char *name, const char *bindir, Candidate *ret)
{
        _cleanup_close_ int pfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *raw = NULL, *cgroup = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        const char *role;
        size_t len;
        int r;

        if (pfd < 0)
                return 0; /* gone, or not ours to see */
        r = read_proc(pfd, "cmdline", PROCSCAN_CMDLINE_MAX, &raw, &len);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (size_t i = 0; i < len; i += strlen(raw + i) + 1)
                if ((r = strv_extend(&argv, raw + i)) < 0)
                        return r;
        if (!argv || !(role = role_of(argv, bindir)))
                return 0;
        *ret = (Candidate){.p = {.pid = (pid_t)atoi(name), .role = role}};
        if (read_stat(pfd, &ret->ppid, &ret->p.start_usec) < 0)
                return 0;
        if (read_proc(pfd, "cgroup", 4096, &cgroup, NULL) >= 0) {
                char *line = strstr(cgroup, "0::");

                if (line) {
                        line += 3;
                        line[strcspn(line, "\n")] = 0;
                        ret->p.cgroup = strdup(line);
                }
        }
        for (size_t i = 0; i + 1 < len; i++)
                if (raw[i] == 0)
                        raw[i] = ' ';
        ret->p.cmdline = TAKE_PTR(raw);
        return 1;
}

int procscan_find(const char *proc, const char *bindir, ServerProcess **ret, size_t *ret_n)
{
        _cleanup_free_ Candidate *c = NULL;
        ServerProcess *out = NULL;
        size_t n = 0, kept = 0, scanned = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        c = calloc(CANDIDATES_MAX, sizeof(Candidate));
        if (!c)
                return -ENOMEM;
        d = opendir(proc);
        if (!d)
                return -errno;
        while ((de = readdir(d)) && scanned++ < SCAN_ENTRIES_MAX && n < CANDIDATES_MAX) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
                    strspn(de->d_name, "0123456789") != strlen(de->d_name))
                        continue;
                r = candidate_of(dirfd(d), de->d_name, bindir, &c[n]);
                if (r < 0)
                        break;
                n += (size_t)r;
                r = 0;
        }
        closedir(d);
        if (r >= 0 && n > 0 && !(out = calloc(n < PROCSCAN_MAX ? n : PROCSCAN_MAX, sizeof(*out))))
                r = -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                bool child = false;

                /* A pre-fork worker's child, or uWSGI's: its master speaks for it. */
                for (size_t j = 0; j < n && !child; j++)
                        child = j != i && c[j].p.pid == c[i].ppid;
                if (r < 0 || child || kept >= PROCSCAN_MAX) {
                        free(c[i].p.cmdline);
                        free(c[i].p.cgroup);
                        continue;
                }
                out[kept++] = c[i].p;
        }
        if (r < 0) {
                server_processes_free(out, kept);
                return r;
        }
        *ret = out;
        *ret_n = kept;
        return 0;
}
