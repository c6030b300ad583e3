/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inotify on site-packages, debounced per package. See pkgwatch.h.
 *
 * Only the site-packages directory itself is watched: every install,
 * upgrade, reinstall and uninstall creates, removes or renames the
 * package's dist-info folder there (pip stashes the old one under a name
 * starting with '~'), so those events are enough to notice a change; the
 * quiet period and the RECORD file (pip writes it last) tell when the
 * install is complete.
 */
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "metadata.h"
#include "pkgwatch.h"

#define INOTIFY_MASK                                                                               \
        (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |        \
         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define REWATCH_USEC (5 * USEC_PER_SEC)
#define PACKAGES_MAX 32

typedef struct Watched {
        PkgWatch *watch;
        char *package;
        char *normalized;
        sd_event_source *timer;
        uint64_t first_event_usec; /* 0: no burst in progress */
        uint64_t last_event_usec;
} Watched;

struct PkgWatch {
        sd_event *event;
        char *site_packages;
        int fd;
        int wd;
        sd_event_source *io;
        sd_event_source *rewatch;
        Watched *packages;
        size_t n_packages;
        uint64_t quiet_usec;
        uint64_t settle_max_usec;
        PkgWatchSettled cb;
        void *userdata;
};

int pkg_probe(const char *site_packages, const char *package, char **ret_version,
              bool *ret_editable, char **ret_problem)
{
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        _cleanup_strv_free_ char **conflicts = NULL;
        _cleanup_free_ char *record = NULL, *list = NULL;
        int r;

        *ret_editable = false;
        *ret_problem = NULL;
        *ret_version = NULL;
        r = dist_info_find(site_packages, package, &d, &conflicts);
        if (r == -ENOENT)
                return 0;
        if (r == -ENOTUNIQ) {
                list = strv_join(conflicts, ", ");
                *ret_problem = strjoin_printf("more than one dist-info: %s", strempty(list));
                return *ret_problem ? 0 : -ENOMEM;
        }
        if (r == -EBADMSG) {
                *ret_problem =
                        strdup("METADATA without a valid Name/Version (install in progress?)");
                return *ret_problem ? 0 : -ENOMEM;
        }
        if (r == -EBADFD || r == -EISDIR) {
                *ret_problem = strjoin_printf("the METADATA of %s in %s is %s", package,
                                              site_packages, read_file_error_to_string(r));
                return *ret_problem ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        record = strjoin_printf("%s/RECORD", d->path);
        if (!record)
                return -ENOMEM;
        if (access(record, F_OK) < 0) {
                *ret_problem =
                        strjoin_printf("%s has no RECORD yet (install in progress?)", d->path);
                return *ret_problem ? 0 : -ENOMEM;
        }
        /* PEP 610: an editable install says so in direct_url.json (none, or unreadable: not). */
        r = dist_info_is_editable(d->path);
        if (r == -ENOMEM)
                return r;
        *ret_editable = r > 0;
        *ret_version = TAKE_PTR(d->version);
        return 0;
}

static void settle(Watched *p)
{
        PkgWatch *w = p->watch;
        _cleanup_free_ char *version = NULL, *problem = NULL;
        uint64_t now = now_usec();
        bool editable;
        PkgEvent ev;
        int r;

        r = pkg_probe(w->site_packages, p->package, &version, &editable, &problem);
        if (r < 0) {
                problem = strjoin_printf("cannot read %s: %s", w->site_packages, strerror(-r));
        } else if (problem && now - p->first_event_usec < w->settle_max_usec) {
                /* Not settled yet: look again after another quiet period. */
                (void)sd_event_source_set_time_relative(p->timer, w->quiet_usec);
                (void)sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
                return;
        }
        ev = (PkgEvent){
                .package = p->package,
                .version = version,
                .problem = problem,
                .editable = editable,
                .first_event_usec = p->first_event_usec,
                .last_event_usec = p->last_event_usec,
        };
        p->first_event_usec = p->last_event_usec = 0;
        w->cb(w, &ev, w->userdata);
}

static int on_quiet(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s, (void)usec;
        settle(userdata);
        return 0;
}

static void touch(Watched *p)
{
        PkgWatch *w = p->watch;
        uint64_t now = now_usec();

        if (p->first_event_usec == 0)
                p->first_event_usec = now;
        p->last_event_usec = now;
        (void)sd_event_source_set_time_relative(p->timer, w->quiet_usec);
        (void)sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

/* Does a directory entry name belong to the package? "~autobot_..." is pip's stash. */
static bool entry_matches(const char *name, const char *normalized)
{
        _cleanup_free_ char *n = NULL;
        const char *dash;

        while (*name == '~')
                name++;
        if (!strstr(name, ".dist-info") && !strstr(name, ".egg-info"))
                return false;
        dash = strchr(name, '-');
        if (!dash)
                return false;
        n = python_name_normalize(strndupa(name, (size_t)(dash - name)));
        /* pip's stash replaces the first character with '~': compare the rest too. */
        return n && (streq(n, normalized) ||
                     (strlen(n) + 1 == strlen(normalized) && streq(n, normalized + 1)));
}

static int add_watch(PkgWatch *w);

static int on_rewatch(sd_event_source *s, uint64_t usec, void *userdata)
{
        PkgWatch *w = userdata;

        (void)s, (void)usec;
        if (add_watch(w) < 0) {
                (void)sd_event_source_set_time_relative(w->rewatch, REWATCH_USEC);
                (void)sd_event_source_set_enabled(w->rewatch, SD_EVENT_ONESHOT);
                return 0;
        }
        /* The directory came back: whatever is in it now is news. */
        for (size_t i = 0; i < w->n_packages; i++)
                touch(&w->packages[i]);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        PkgWatch *w = userdata;
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

        (void)s, (void)revents;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0; /* EAGAIN: drained */
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *e = (struct inotify_event *)p;

                        p += sizeof(*e) + e->len;
                        if (e->mask & IN_Q_OVERFLOW) {
                                for (size_t i = 0; i < w->n_packages; i++)
                                        touch(&w->packages[i]);
                                continue;
                        }
                        if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                                /* site-packages went away (a virtualenv rebuilt): watch again
                                 * later. */
                                if (w->wd >= 0)
                                        (void)inotify_rm_watch(w->fd, w->wd);
                                w->wd = -1;
                                for (size_t i = 0; i < w->n_packages; i++)
                                        touch(&w->packages[i]);
                                (void)sd_event_source_set_time_relative(w->rewatch, REWATCH_USEC);
                                (void)sd_event_source_set_enabled(w->rewatch, SD_EVENT_ONESHOT);
                                continue;
                        }
                        if (e->len == 0)
                                continue;
                        for (size_t i = 0; i < w->n_packages; i++)
                                if (entry_matches(e->name, w->packages[i].normalized))
                                        touch(&w->packages[i]);
                }
        }
}

static int add_watch(PkgWatch *w)
{
        int wd = inotify_add_watch(w->fd, w->site_packages, INOTIFY_MASK);

        if (wd < 0)
                return -errno;
        w->wd = wd;
        return 0;
}

PkgWatch *pkgwatch_free(PkgWatch *w)
{
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n_packages; i++) {
                sd_event_source_disable_unref(w->packages[i].timer);
                free(w->packages[i].package);
                free(w->packages[i].normalized);
        }
        free(w->packages);
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->rewatch);
        if (w->fd >= 0)
                close(w->fd);
        sd_event_unref(w->event);
        free(w->site_packages);
        free(w);
        return NULL;
}

int pkgwatch_new(PkgWatch **ret, sd_event *e, const PkgWatchOptions *o, PkgWatchSettled cb,
                 void *userdata)
{
        _cleanup_(pkgwatch_freep) PkgWatch *w = NULL;
        size_t n = strv_length(o->packages);
        int r;

        if (n == 0 || n > PACKAGES_MAX)
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = w->wd = -1;
        w->event = sd_event_ref(e);
        w->quiet_usec = o->quiet_usec;
        w->settle_max_usec = o->settle_max_usec;
        w->cb = cb;
        w->userdata = userdata;
        w->site_packages = strdup(o->site_packages);
        w->packages = calloc(n, sizeof(Watched));
        if (!w->site_packages || !w->packages)
                return -ENOMEM;
        w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (w->fd < 0)
                return -errno;
        r = add_watch(w);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &w->io, w->fd, EPOLLIN, on_inotify, w);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(w->io, "pkgwatch-inotify");
        r = sd_event_add_time_relative(e, &w->rewatch, CLOCK_MONOTONIC, REWATCH_USEC, 0, on_rewatch,
                                       w);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(w->rewatch, SD_EVENT_OFF);
        (void)sd_event_source_set_description(w->rewatch, "pkgwatch-rewatch");

        for (size_t i = 0; i < n; i++) {
                Watched *p = &w->packages[i];

                p->watch = w;
                w->n_packages++;
                p->package = strdup(o->packages[i]);
                p->normalized = python_name_normalize(o->packages[i]);
                if (!p->package || !p->normalized)
                        return -ENOMEM;
                r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, w->quiet_usec, 0,
                                               on_quiet, p);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
                (void)sd_event_source_set_description(p->timer, "pkgwatch-quiet");
        }
        *ret = TAKE_PTR(w);
        return 0;
}
