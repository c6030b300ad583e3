/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching a site-packages directory with inotify for changes to the
 * dist-info of named packages. A pip or uv run is a burst of renames,
 * removals and creations during which zero or two dist-info folders may
 * exist; a package is reported only once it has settled: no event for the
 * quiet period and exactly one dist-info with METADATA and RECORD (or none
 * at all, for an uninstall), or when the settle timeout runs out.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "util.h"

typedef struct PkgWatch PkgWatch;

typedef struct PkgEvent {
        const char *package;
        const char *version; /* NULL: not installed */
        const char *problem; /* set when it did not settle cleanly (two dist-infos, no RECORD) */
        bool editable;       /* an editable install (direct_url.json says so) */
        uint64_t first_event_usec; /* CLOCK_MONOTONIC of the burst's first event */
        uint64_t last_event_usec;  /* ... and of its last one */
} PkgEvent;

typedef void (*PkgWatchSettled)(PkgWatch *w, const PkgEvent *ev, void *userdata);

typedef struct PkgWatchOptions {
        const char *site_packages;
        char *const *packages;
        uint64_t quiet_usec;
        uint64_t settle_max_usec;
} PkgWatchOptions;

int pkgwatch_new(PkgWatch **ret, sd_event *e, const PkgWatchOptions *o, PkgWatchSettled cb,
                 void *userdata);
PkgWatch *pkgwatch_free(PkgWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(PkgWatch *, pkgwatch_free);

/*
 * The installed state of one package right now: its version (NULL when not
 * installed), whether it is editable, and a problem text when the
 * site-packages holds an ambiguous or incomplete install.
 */
int pkg_probe(const char *site_packages, const char *package, char **ret_version,
              bool *ret_editable, char **ret_problem);
