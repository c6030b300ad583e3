/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by every module. See util.h.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "utf8.h"
#include "util.h"

bool endswith(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);

        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int free_and_strdup(char **dst, const char *src)
{
        char *n = NULL;

        if (src) {
                n = strdup(src);
                if (!n)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = n;
        return 0;
}

char *strjoin_printf(const char *fmt, ...)
{
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *strstrip(char *s)
{
        char *e;

        while (isspace((unsigned char)*s))
                memmove(s, s + 1, strlen(s));
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = 0;
        return s;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

char **strv_free(char **l)
{
        STRV_FOREACH (s, l)
                free(*s);
        free(l);
        return NULL;
}

int rename_durably(const char *tmp, const char *path, const char *dir)
{
        _cleanup_close_ int dfd = -1;

        if (rename(tmp, path) < 0)
                return -errno;
        /* The rename itself survives a crash only once the directory is synced. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return -errno;
        return 0;
}

void strv_remove_at(char **l, size_t i)
{
        free(l[i]);
        memmove(l + i, l + i + 1, (strv_length(l + i + 1) + 1) * sizeof(char *));
}

int strv_push(char ***l, char *value)
{
        size_t n = strv_length(*l);
        char **c;

        if (!value) /* lets callers pass an allocation straight in */
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value)
{
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        return strv_push(l, v);
}

bool strv_equal(char *const *a, char *const *b)
{
        size_t i = 0;

        for (; a && a[i] && b && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !(a && a[i]) && !(b && b[i]);
}

bool strv_contains(char *const *l, const char *value)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], value))
                        return true;
        return false;
}

int strv_copy(char *const *l, char ***ret)
{
        _cleanup_strv_free_ char **n = NULL;
        int r;

        for (size_t i = 0; l && l[i]; i++)
                if ((r = strv_extend(&n, l[i])) < 0)
                        return r;
        *ret = TAKE_PTR(n);
        return 0;
}

char *strv_join(char *const *l, const char *sep)
{
        size_t n = 1, ls = strlen(sep);
        char *r, *p;

        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + ls;
        r = p = malloc(n);
        if (!r)
                return NULL;
        *p = 0;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, l[i]);
        }
        return r;
}

void buf_init(Buf *b, size_t max)
{
        *b = (Buf){.max = max};
}

void buf_done(Buf *b)
{
        free(b->data);
        *b = (Buf){.max = b->max};
}

int buf_append(Buf *b, const void *p, size_t n)
{
        size_t room = b->max > b->len ? b->max - b->len : 0;
        char *d;

        if (n > room) {
                b->truncated = true;
                n = room;
        }
        if (!b->data || b->len + n + 1 > b->allocated) {
                /* Doubling: n bytes appended in small pieces cost O(n), not O(n^2). */
                size_t want = b->len + n + 1;

                if (want < 2 * b->allocated)
                        want = 2 * b->allocated;
                if (want < 64)
                        want = 64;
                if (b->max < SIZE_MAX && want > b->max + 1)
                        want = b->max + 1; /* >= len + n + 1: n fits the room */
                d = realloc(b->data, want);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->allocated = want;
        }
        if (n > 0)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int buf_printf(Buf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return buf_append(b, s, (size_t)r);
}

static const char *str_tail_lines(const char *s, unsigned lines)
{
        const char *p;

        if (!s)
                return "";
        p = s + strlen(s);
        /* Ignore trailing newlines so "a\nb\n" has two lines. */
        while (p > s && p[-1] == '\n')
                p--;
        while (p > s) {
                if (p[-1] == '\n' && --lines == 0)
                        break;
                p--;
        }
        return p;
}

const char *buf_tail_lines(const Buf *b, unsigned lines)
{
        return str_tail_lines(b->data, lines);
}

/* What was read so far may be a secret (config_read_secret()): wiped on every path. */
typedef struct ReadBuf {
        char *data;
        size_t len;
} ReadBuf;

static void read_buf_erase(ReadBuf *b)
{
        if (b->data) {
                explicit_bzero(b->data, b->len);
                free(b->data);
        }
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;

        /* O_NONBLOCK: opening a FIFO or a device must not wait; it is refused below. */
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd_bounded(fd, max, ret, ret_len);
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_(read_buf_erase) ReadBuf b = {};
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;

        b.data = malloc(max + 1);
        if (!b.data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, b.data + b.len, max + 1 - b.len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                b.len += (size_t)n;
                if (b.len > max)
                        return -EFBIG; /* grew while we read it */
        }
        b.data[b.len] = 0;
        if (ret_len)
                *ret_len = b.len;
        *ret = TAKE_PTR(b.data);
        return 0;
}

const char *read_file_error_to_string(int r)
{
        if (r == -EBADFD)
                return "not a regular file";
        if (r == -EISDIR)
                return "not a regular file (a directory)";
        return strerror(-r);
}

char *str_escape_control(const char *s)
{
        /* One escaper for the daemon and nautobot-verifyctl alike: utf8.c's. */
        return utf8_escape_control(s);
}

int parse_duration(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"ms", USEC_PER_MSEC}, {"min", 60 * USEC_PER_SEC}, {"s", USEC_PER_SEC},
                {"sec", USEC_PER_SEC}, {"m", 60 * USEC_PER_SEC},   {"h", 3600 * USEC_PER_SEC},
                {"", USEC_PER_SEC},
        };
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -errno;
        while (*end == ' ')
                end++;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (!streq(end, units[i].suffix))
                        continue;
                if (v > UINT64_MAX / units[i].usec)
                        return -ERANGE;
                *ret = v * units[i].usec;
                return 0;
        }
        return -EINVAL;
}

int parse_boolean(const char *s)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

void format_clock(uint64_t realtime_usec, char *buf, size_t size)
{
        time_t t = (time_t)(realtime_usec / USEC_PER_SEC), now = time(NULL);
        struct tm tm, today;

        if (!localtime_r(&t, &tm) || !localtime_r(&now, &today) ||
            strftime(buf, size,
                     tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday
                             ? "%H:%M:%S"
                             : "%Y-%m-%d %H:%M:%S",
                     &tm) == 0)
                snprintf(buf, size, "@%llu", (unsigned long long)(realtime_usec / USEC_PER_SEC));
}
