/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures on demand, for tests only. The test executable is linked
 * with -Wl,--wrap= for malloc, calloc, realloc, strdup, strndup, vasprintf and
 * asprintf (tests/unit/meson.build): every such call in the test's objects and
 * in libnvd.a (a static library, so its objects are in the same link) goes
 * through fail-alloc.c first, which fails the planned one and passes the others
 * on to the real function. Allocations made inside shared libraries (libc's own,
 * libxml2, json-c) are neither counted nor failed: what is injected is every
 * failure the project's own code must handle.
 *
 * Wrapping at link time, not interposing malloc, is what works alike in the
 * three ways tests/run runs the unit tests: plainly; under valgrind, which
 * replaces libc's malloc (our wrapper calls the replaced one); and under ASan,
 * whose runtime defines malloc itself (a second definition would clash or
 * bypass it; our wrapper calls ASan's, so leaks and overflows are still seen).
 */
#pragma once

#include <stdbool.h>

/* The n-th allocation from now fails (1: the next one), the others succeed. */
void fail_alloc_after(unsigned n);

/* The n-th allocation from now fails, and so does every later one: memory stays short. */
void fail_alloc_from(unsigned n);

/* Every allocation succeeds again. */
void fail_alloc_off(void);

/* Whether a planned failure happened since the last fail_alloc_after()/_from(). */
bool fail_alloc_injected(void);

/* Allocations seen since the last fail_alloc_after()/_from() (failed ones included). */
unsigned fail_alloc_seen(void);
