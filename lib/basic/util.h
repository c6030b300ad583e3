/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by every module: cleanup attributes, string vectors,
 * a bounded byte buffer and time/number parsing. Nothing here logs.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))
#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))

#define USEC_PER_SEC  ((uint64_t)1000000)
#define USEC_PER_MSEC ((uint64_t)1000)

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* For strings holding secrets: wiped before they are freed. */
static inline void erase_and_freep(void *p)
{
        char *s = *(char **)p;

        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}
#define _cleanup_erase_free_ _cleanup_(erase_and_freep)

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Closes fd if open (errno kept) and returns -1, for "fd = safe_close(fd)". */
static inline int safe_close(int fd)
{
        closep(&fd);
        return -1;
}

/* Hands ownership over: returns *p and clears it, so the cleanup does nothing. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _fd;                                                                               \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p)                                                        \
        {                                                                                          \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

/*
 * Name<->enum lookups for a table indexed by the enum, as systemd's
 * DEFINE_STRING_TABLE_LOOKUP: <name>_to_string() (NULL when out of range) and
 * <name>_from_string() (the index, or -EINVAL when unknown or NULL). The
 * table is <name>_table, of strings; the _FULL forms take any table and the
 * member naming its string (".name" for a table of structs, empty for strings).
 */
#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(name, type, table, member, scope)                \
        scope const char *name##_to_string(type i)                                                 \
        {                                                                                          \
                if ((size_t)i >= ELEMENTSOF(table)) /* a negative i too */                         \
                        return NULL;                                                               \
                return table[i] member;                                                            \
        }
#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(name, table, member, scope)                    \
        scope int name##_from_string(const char *s)                                                \
        {                                                                                          \
                for (size_t _i = 0; s && _i < ELEMENTSOF(table); _i++)                             \
                        if (table[_i] member && strcmp(table[_i] member, s) == 0)                  \
                                return (int)_i;                                                    \
                return -EINVAL;                                                                    \
        }
#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type)                                           \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(name, type, name##_table, , )
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(name, type)                                   \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(name, type, name##_table, , static)
#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                                     \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(name, type, name##_table, , )                    \
        DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(name, name##_table, , )

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s)
{
        return !s || !*s;
}

static inline const char *strempty(const char *s)
{
        return s ?: "";
}

/* Returns a pointer behind the prefix when s starts with it, NULL otherwise. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

bool endswith(const char *s, const char *suffix);

/* Copies src into *dst (freeing the old value); NULL clears it. */
int free_and_strdup(char **dst, const char *src);

char *strjoin_printf(const char *fmt, ...) _printf_(1, 2);

/* Removes leading and trailing white space in place and returns s. */
char *strstrip(char *s);

/* NULL-terminated string vectors. */
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
size_t strv_length(char *const *l);
char **strv_free(char **l);
int strv_push(char ***l, char *value); /* takes value, even on failure */
int strv_extend(char ***l, const char *value);
bool strv_contains(char *const *l, const char *value);
bool strv_equal(char *const *a, char *const *b); /* NULL equals the empty vector */
int strv_copy(char *const *l, char ***ret);      /* a copy of l (NULL for NULL) */
void strv_remove_at(char **l, size_t i);         /* frees l[i], moves the rest up */

/*
 * Renames a written and fsync()ed temporary file over 'path' in 'dir', then
 * syncs the directory, so the new file (never a half one) survives a crash.
 */
int rename_durably(const char *tmp, const char *path, const char *dir);
char *strv_join(char *const *l, const char *sep);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/*
 * A growable byte buffer with a hard limit. Appending past the limit keeps
 * what fits and sets 'truncated'; the data is always NUL-terminated.
 */
typedef struct Buf {
        char *data;
        size_t len;
        size_t max;
        bool truncated;
        size_t allocated; /* of data: grown by doubling, so appending n bytes costs O(n) */
} Buf;

void buf_init(Buf *b, size_t max);
void buf_done(Buf *b);
int buf_append(Buf *b, const void *p, size_t n);
int buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
/* Returns the last 'lines' lines of the buffer (a pointer into it). */
const char *buf_tail_lines(const Buf *b, unsigned lines);

/*
 * Reads a whole regular file of at most 'max' bytes; -EFBIG when larger. Opens
 * without blocking and refuses anything but a regular file: -EISDIR for a
 * directory, -EBADFD for a FIFO, socket or device.
 */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len);

/* The same for an open descriptor (fstat'ed, then read to its end). */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);

/* Words for read_file_bounded()'s errors: "not a regular file" for -EBADFD, else strerror. */
const char *read_file_error_to_string(int r);

/*
 * Returns a copy of s that is safe to print on a terminal: C0 controls (ESC,
 * so escape sequences, included), DEL, C1 controls, bidi controls and bytes
 * that are not UTF-8 become \xNN; newline, tab and CR become \n, \t, \r.
 * Valid UTF-8 text is kept. utf8_escape_control() (utf8.h) under its old name.
 */
char *str_escape_control(const char *s);

/* Parses "30", "30s", "500ms", "2min" into microseconds. */
int parse_duration(const char *s, uint64_t *ret);
int parse_boolean(const char *s); /* 1, 0 or -EINVAL */

uint64_t now_usec(void);          /* CLOCK_MONOTONIC */
uint64_t now_realtime_usec(void); /* CLOCK_REALTIME */

/* A CLOCK_REALTIME time as journalctl shows it: "13:40:02" today, else with the date. */
void format_clock(uint64_t realtime_usec, char *buf, size_t size);
