/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stderr with priorities for the journal. See log.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"

/* Whether stderr is the stream systemd connected to the journal (systemd.exec(5)). */
static bool stderr_is_journal(void)
{
        static int cached = -1;
        const char *e;
        uint64_t dev, ino;
        struct stat st;

        if (cached >= 0)
                return cached;
        e = getenv("JOURNAL_STREAM");
        cached = e && sscanf(e, "%" SCNu64 ":%" SCNu64, &dev, &ino) == 2 && fstat(2, &st) >= 0 &&
                 (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
        return cached;
}

void log_full(int priority, const char *fmt, ...)
{
        va_list ap;

        if (stderr_is_journal())
                fprintf(stderr, "<%d>", priority);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
}
