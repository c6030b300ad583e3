/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The package watcher on a real directory with real inotify: the file
 * operations pip performs for an upgrade, a reinstall and an uninstall,
 * in pip's order, with one settled report per burst.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "pkgwatch.h"
#include "test.h"

#define QUIET (200 * USEC_PER_MSEC)

typedef struct Seen {
        unsigned n;
        char *version;
        char *problem;
        bool editable;
} Seen;

static void on_settled(PkgWatch *w, const PkgEvent *ev, void *userdata)
{
        Seen *s = userdata;

        (void)w;
        ASSERT_STREQ(ev->package, "nautobot-contract-models");
        ASSERT(ev->first_event_usec > 0 && ev->last_event_usec >= ev->first_event_usec);
        s->n++;
        free(s->version);
        free(s->problem);
        s->version = ev->version ? strdup(ev->version) : NULL;
        s->problem = ev->problem ? strdup(ev->problem) : NULL;
        s->editable = ev->editable;
}

/* Runs the loop for 'usec' (the watcher's timers fire inside). */
static void run_for(sd_event *e, uint64_t usec)
{
        uint64_t end = now_usec() + usec;

        while (now_usec() < end)
                ASSERT(sd_event_run(e, end - now_usec()) >= 0);
}

static void install(const char *sp, const char *version, bool record)
{
        sh("mkdir '%s/nautobot_contract_models-%s.dist-info' && printf 'Metadata-Version: 2.1\\nName: nautobot-contract-models\\nVersion: %s\\n\\n' > '%s/nautobot_contract_models-%s.dist-info/METADATA'",
           sp, version, version, sp, version);
        if (record)
                sh("touch '%s/nautobot_contract_models-%s.dist-info/RECORD'", sp, version);
}

int main(void)
{
        char sp[] = "/tmp/nvd-test-pkgwatch-XXXXXX";
        _cleanup_(pkgwatch_freep) PkgWatch *w = NULL;
        char *packages[] = {(char *)"nautobot-contract-models", NULL};
        sd_event *e = NULL;
        Seen seen = {};

        ASSERT(mkdtemp(sp));
        ASSERT(sd_event_new(&e) >= 0);
        install(sp, "2026.5.12", true);
        ASSERT(pkgwatch_new(&w, e,
                            &(PkgWatchOptions){.site_packages = sp,
                                               .packages = packages,
                                               .quiet_usec = QUIET,
                                               .settle_max_usec = 3 * USEC_PER_SEC},
                            on_settled, &seen) == 0);

        /* Nothing happens: nothing is reported. */
        run_for(e, 3 * QUIET);
        ASSERT(seen.n == 0);
        printf("ok - idle\n");

        /* Unrelated packages do not count. */
        sh("mkdir '%s/requests-2.32.0.dist-info' '%s/nautobot-3.1.6.dist-info'", sp, sp);
        run_for(e, 3 * QUIET);
        ASSERT(seen.n == 0);
        printf("ok - other packages ignored\n");

        /* An upgrade as pip does it: stash the old dist-info, write the new, remove the stash. */
        sh("mv '%s/nautobot_contract_models-2026.5.12.dist-info' '%s/~autobot_contract_models-2026.5.12.dist-info'",
           sp, sp);
        install(sp, "2026.5.17", false);
        run_for(e, QUIET / 2); /* mid-install: two dist-infos (one stashed), no RECORD yet */
        sh("touch '%s/nautobot_contract_models-2026.5.17.dist-info/RECORD' && rm -r '%s/~autobot_contract_models-2026.5.12.dist-info'",
           sp, sp);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 1);
        ASSERT_STREQ(seen.version, "2026.5.17");
        ASSERT(!seen.problem);
        printf("ok - upgrade reported once\n");

        /* An install that never completes (no RECORD): reported after the settle timeout, with the
         * problem. */
        sh("rm -r '%s/nautobot_contract_models-2026.5.17.dist-info'", sp);
        install(sp, "2026.5.9", false);
        run_for(e, 4 * USEC_PER_SEC);
        ASSERT(seen.n == 2);
        ASSERT(seen.problem && strstr(seen.problem, "no RECORD"));
        printf("ok - unsettled install reported with its problem\n");

        /* Reinstall of the same version, editable. */
        sh("rm -r '%s/nautobot_contract_models-2026.5.9.dist-info'", sp);
        install(sp, "2026.5.17", true);
        sh("printf '{\"url\": \"file:///src\", \"dir_info\": {\"editable\": true}}' > '%s/nautobot_contract_models-2026.5.17.dist-info/direct_url.json'",
           sp);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 3);
        ASSERT_STREQ(seen.version, "2026.5.17");
        ASSERT(seen.editable);
        printf("ok - editable reinstall\n");

        /* Uninstall. */
        sh("rm -r '%s/nautobot_contract_models-2026.5.17.dist-info'", sp);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 4);
        ASSERT(!seen.version && !seen.problem);
        printf("ok - uninstall reported\n");

        /* An event queue overflow (IN_Q_OVERFLOW): events were lost, so every package is looked
         * at again and reported as it is now. The loop does not read while the queue fills. */
        install(sp, "2026.5.17", true);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 5);
        ASSERT_STREQ(seen.version, "2026.5.17");
        {
                unsigned long max = 16384;
                FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "re");

                if (f) {
                        ASSERT(fscanf(f, "%lu", &max) == 1);
                        fclose(f);
                }
                /* Each file makes IN_CREATE and IN_CLOSE_WRITE; a few more than the queue holds. */
                for (unsigned long i = 0; i < max / 2 + 64; i++) {
                        _cleanup_free_ char *junk = strjoin_printf("%s/junk-%lu.txt", sp, i);
                        int fd;

                        ASSERT(junk);
                        fd = open(junk, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                        ASSERT(fd >= 0);
                        close(fd);
                }
        }
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 6);
        ASSERT_STREQ(seen.version, "2026.5.17");
        ASSERT(!seen.problem);
        printf("ok - queue overflow: the package is looked at again\n");
        sh("find '%s' -maxdepth 1 -name 'junk-*' -delete", sp);
        run_for(e, 4 * QUIET); /* deleting them may overflow the queue once more */
        ASSERT(seen.n == 6 || seen.n == 7);
        ASSERT_STREQ(seen.version, "2026.5.17");
        seen.n = 6;

        /* The watched directory vanishes (a virtualenv rebuilt): reported as not installed;
         * it comes back with another version: watched again and reported. */
        sh("rm -rf '%s'", sp);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 7);
        ASSERT(!seen.version);
        printf("ok - watched directory vanishing reported\n");
        sh("mkdir '%s'", sp);
        install(sp, "2026.5.18", true);
        {
                uint64_t end = now_usec() + 15 * USEC_PER_SEC;

                while (seen.n == 7 && now_usec() < end)
                        ASSERT(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
        }
        ASSERT(seen.n == 8);
        ASSERT_STREQ(seen.version, "2026.5.18");
        /* ... and the new directory is really watched: an upgrade in it is seen. */
        sh("rm -r '%s/nautobot_contract_models-2026.5.18.dist-info'", sp);
        install(sp, "2026.5.19", true);
        run_for(e, 4 * QUIET);
        ASSERT(seen.n == 9);
        ASSERT_STREQ(seen.version, "2026.5.19");
        printf("ok - watched directory coming back is watched again\n");

        /* A directory missing from the start is an error. */
        w = pkgwatch_free(w);
        ASSERT(pkgwatch_new(&w, e,
                            &(PkgWatchOptions){.site_packages = "/nonexistent/site-packages",
                                               .packages = packages,
                                               .quiet_usec = QUIET,
                                               .settle_max_usec = USEC_PER_SEC},
                            on_settled, &seen) == -ENOENT);
        printf("ok - missing directory is an error, not a crash\n");

        free(seen.version);
        free(seen.problem);
        sd_event_unref(e);
        sh("rm -rf '%s'", sp);
        return 0;
}
