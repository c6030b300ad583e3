/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures on demand, through the linker's --wrap. See fail-alloc.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail-alloc.h"

static struct {
        bool armed;
        bool sticky; /* every allocation from the n-th on fails */
        unsigned n;
        unsigned seen;
        bool injected;
} plan;

void fail_alloc_after(unsigned n)
{
        plan.armed = n > 0;
        plan.sticky = false;
        plan.n = n;
        plan.seen = 0;
        plan.injected = false;
}

void fail_alloc_from(unsigned n)
{
        fail_alloc_after(n);
        plan.sticky = true;
}

void fail_alloc_off(void)
{
        plan.armed = false;
}

bool fail_alloc_injected(void)
{
        return plan.injected;
}

unsigned fail_alloc_seen(void)
{
        return plan.seen;
}

/* Counts one allocation; true when it is to fail (errno is then ENOMEM, as libc sets it). */
static bool fail_now(void)
{
        if (!plan.armed)
                return false;
        plan.seen++;
        if (plan.seen == plan.n || (plan.sticky && plan.seen > plan.n)) {
                plan.injected = true;
                errno = ENOMEM;
                return true;
        }
        return false;
}

/* The real functions (the linker resolves __real_x to x) and our wrappers of them. */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);
int __wrap_asprintf(char **ret, const char *fmt, ...);

void *__wrap_malloc(size_t size)
{
        return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
        return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
        /* A failed realloc() leaves the block alone, as libc's. */
        return fail_now() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
        return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
        return fail_now() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
        /* glibc leaves *ret alone when it fails: so do we. */
        return fail_now() ? -1 : __real_vasprintf(ret, fmt, ap);
}

int __wrap_asprintf(char **ret, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (fail_now())
                return -1;
        va_start(ap, fmt);
        r = __real_vasprintf(ret, fmt, ap);
        va_end(ap);
        return r;
}
