/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal test harness: ASSERT aborts with file:line and the expression,
 * TEST() registers nothing magic, main() calls each test in turn.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(x)                                                                                  \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #x);  \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
                                _a ? _a : "(null)", _b ? _b : "(null)");                           \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/*
 * A test that cannot run here says so with SKIP("reason") and returns; RUN()
 * then prints "skip - name: reason", never "ok". A whole executable that
 * cannot run exits 77 itself (meson's skip), with the reason printed.
 */
static const char *test_skipped_ __attribute__((unused));
#define SKIP(reason)                                                                               \
        do {                                                                                       \
                test_skipped_ = (reason);                                                          \
                return;                                                                            \
        } while (0)

#define RUN(t)                                                                                     \
        do {                                                                                       \
                test_skipped_ = NULL;                                                              \
                t();                                                                               \
                if (test_skipped_)                                                                 \
                        printf("skip - %s: %s\n", #t, test_skipped_);                              \
                else                                                                               \
                        printf("ok - %s\n", #t);                                                   \
                /* A child forked later (valgrind flushes at its exit) must not repeat it. */      \
                fflush(stdout);                                                                    \
        } while (0)

/* Path of a fixture file: $FIXTURES/name (meson sets FIXTURES). */
static inline char *fixture(const char *name)
{
        const char *dir = getenv("FIXTURES");
        char *p;

        if (!dir || asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

/* Runs a shell command line (printf-style); aborts unless it exits 0. */
static inline void __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        ASSERT(r >= 0);
        r = system(cmd);
        free(cmd);
        ASSERT(r == 0);
}
