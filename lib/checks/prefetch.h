/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the HTTP checks will ask, asked before they start. Verifying every
 * app, the run boots Django first to learn which apps the server loads; the
 * checks of each app start only then. Meanwhile the prefetch sends the
 * requests those checks send first — /api/status/ (running), the Job list
 * and whether the web server loads each app's Job (jobs), the login and the
 * home page (panels) — through the run's HttpCache,
 * so that when the checks ask, the answers are there (or on their way) and
 * every app of the run shares them. Nothing is judged here: the checks judge
 * the answers as if they had fetched them.
 */
#pragma once

#include "check.h"

typedef struct Prefetch Prefetch;

/*
 * Starts the requests of the checks 'enabled' names, with env's base URL,
 * secrets and cache (env->http_cache must be set; env must outlive it). A
 * check whose secret is missing is not prefetched: it will say why.
 */
int prefetch_start(Prefetch **ret, const CheckEnv *env, const bool enabled[_CHECK_ID_MAX]);
Prefetch *prefetch_free(Prefetch *p); /* aborts what is in flight: the checks then ask */
DEFINE_TRIVIAL_CLEANUP_FUNC(Prefetch *, prefetch_free);
