/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-package state files. See state.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "metadata.h"
#include "privilege.h"
#include "state.h"

#define STATE_FORMAT 1

PackageState *package_state_free(PackageState *s)
{
        if (!s)
                return NULL;
        free(s->package);
        free(s->site_packages);
        free(s->app_label);
        free(s->version);
        free(s->verdict);
        json_object_put(s->report);
        json_object_put(s->baseline);
        json_object_put(s->releases);
        free(s);
        return NULL;
}

char *state_path(const char *dir, const char *package)
{
        _cleanup_free_ char *n = python_name_normalize(package);

        return n ? strjoin_printf("%s/%s.json", dir, n) : NULL;
}

/* mkdir -p of an admin's state directory (an account's own run: root prepared it already). */
static int mkdir_parents(const char *dir)
{
        _cleanup_free_ char *copy = strdup(dir);

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        return mkdir(copy, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/*
 * Opens 'dir' (the instance's folder) as a directory descriptor that all its
 * file operations go through. Its parent, the configured state directory, is
 * the admin's path; the folder itself is never followed as a link: a link
 * there is -ELOOP (state_error_to_string() words it), never written through.
 */
static int open_dir(const char *dir, bool create, int *ret_fd)
{
        _cleanup_free_ char *copy = strdup(dir);
        _cleanup_close_ int pfd = -1;
        const char *base;
        char *slash;
        int fd;

        if (!copy)
                return -ENOMEM;
        slash = strrchr(copy, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        *slash = 0;
        base = slash + 1;
        if (streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        pfd = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0 && errno == ENOENT && create) {
                int r = mkdir_parents(slash == copy ? "/" : copy);

                if (r < 0)
                        return r;
                pfd = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (pfd < 0)
                return -errno;
        if (create && mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ELOOP : -errno;
        *ret_fd = fd;
        return 0;
}

const char *state_error_to_string(int r)
{
        if (r == -ELOOP)
                return "it is a symbolic link or not a directory: refused (state is never read or written through a link)";
        return read_file_error_to_string(r);
}

/* A state file in dfd, never through a link, never a FIFO or device, bounded. */
static int read_at(int dfd, const char *name, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;

        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_fd_bounded(fd, STATE_FILE_MAX, ret, ret_len);
}

static int get_str(json_object *o, const char *key, bool nullable, char **ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return -EBADMSG;
        if (json_object_is_type(v, json_type_null) && nullable) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

int state_load(const char *dir, const char *package, PackageState **ret, char **ret_error)
{
        _cleanup_(package_state_freep) PackageState *s = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int dfd = -1;
        json_object *root = NULL, *v;
        size_t len;
        int r;

        path = state_path(dir, package);
        if (!path)
                return -ENOMEM;
        r = open_dir(dir, false, &dfd);
        if (r >= 0)
                r = read_at(dfd, strrchr(path, '/') + 1, &text, &len);
        if (r < 0)
                return r;
        root = json_tokener_parse(text);
        s = calloc(1, sizeof(*s));
        if (!s) {
                json_object_put(root);
                return -ENOMEM;
        }
        if (!root || !json_object_is_type(root, json_type_object)) {
                r = -EBADMSG;
                if (ret_error)
                        *ret_error = strjoin_printf("%s is not a JSON object", path);
                goto fail;
        }
        if (!json_object_object_get_ex(root, "format", &v) ||
            json_object_get_int(v) != STATE_FORMAT ||
            (r = get_str(root, "package", false, &s->package)) < 0 ||
            (json_object_object_get_ex(root, "site_packages", NULL) &&
             (r = get_str(root, "site_packages", false, &s->site_packages)) < 0) ||
            (json_object_object_get_ex(root, "app_label", NULL) &&
             (r = get_str(root, "app_label", true, &s->app_label)) < 0) ||
            (r = get_str(root, "version", true, &s->version)) < 0 ||
            (r = get_str(root, "verdict", false, &s->verdict)) < 0 ||
            !json_object_object_get_ex(root, "verified_usec", &v) ||
            !json_object_is_type(v, json_type_int)) {
                r = r == -ENOMEM ? r : -EBADMSG;
                if (ret_error && r == -EBADMSG)
                        *ret_error = strjoin_printf(
                                "%s lacks format %d, package, version, verdict or verified_usec",
                                path, STATE_FORMAT);
                goto fail;
        }
        s->verified_usec = (uint64_t)json_object_get_int64(v);
        if (!streq(s->package, package)) {
                r = -EBADMSG;
                if (ret_error)
                        *ret_error = strjoin_printf("%s belongs to package '%s', not '%s'", path,
                                                    s->package, package);
                goto fail;
        }
        if (json_object_object_get_ex(root, "report", &v))
                s->report = json_object_get(v);
        if (json_object_object_get_ex(root, "baseline", &v) &&
            json_object_is_type(v, json_type_object))
                s->baseline = json_object_get(v);
        if (json_object_object_get_ex(root, "releases", &v) &&
            json_object_is_type(v, json_type_object))
                s->releases = json_object_get(v);
        json_object_put(root);
        *ret = TAKE_PTR(s);
        return 0;
fail:
        json_object_put(root);
        return r;
}

json_object *state_next_baseline(json_object *report, const char *version, json_object *previous)
{
        json_object *verdict, *checks, *b, *observed;

        if (!report || !version || !json_object_object_get_ex(report, "verdict", &verdict) ||
            !streq(json_object_get_string(verdict), "pass") ||
            !json_object_object_get_ex(report, "checks", &checks))
                return json_object_get(previous);
        b = json_object_new_object();
        observed = json_object_new_object();
        if (!b || !observed) {
                json_object_put(b);
                json_object_put(observed);
                return NULL;
        }
        json_object_object_add(b, "version", json_object_new_string(version));
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i), *name, *items;

                if (json_object_object_get_ex(c, "check", &name) &&
                    json_object_object_get_ex(c, "observed", &items) &&
                    json_object_is_type(items, json_type_array))
                        json_object_object_add(observed, json_object_get_string(name),
                                               json_object_get(items));
        }
        json_object_object_add(b, "observed", observed);
        return b;
}

static uint64_t release_usec(json_object *release)
{
        json_object *v;

        return json_object_object_get_ex(release, "verified_usec", &v)
                       ? (uint64_t)json_object_get_int64(v)
                       : 0;
}

json_object *state_next_releases(json_object *previous, const char *version, char *const *leaves,
                                 json_object *reversal, uint64_t verified_usec)
{
        json_object *next = json_object_new_object(), *entry = json_object_new_object(),
                    *l = json_object_new_array();

        if (!next || !entry || !l)
                goto oom;
        STRV_FOREACH (x, (char **)leaves)
                if (json_object_array_add(l, json_object_new_string(*x)) < 0)
                        goto oom;
        json_object_object_add(entry, "leaves", l);
        l = NULL;
        json_object_object_add(entry, "reversal",
                               reversal ? json_object_get(reversal) : json_object_new_object());
        json_object_object_add(entry, "verified_usec",
                               json_object_new_int64((int64_t)verified_usec));
        if (previous && json_object_is_type(previous, json_type_object)) {
                json_object_object_foreach(previous, v, release)
                {
                        if (!streq(v, version) && json_object_is_type(release, json_type_object))
                                json_object_object_add(next, v, json_object_get(release));
                }
        }
        /* Room for this one: the releases verified longest ago go. */
        while (json_object_object_length(next) >= STATE_RELEASES_MAX) {
                const char *oldest = NULL;
                uint64_t t = UINT64_MAX;

                json_object_object_foreach(next, v, release)
                {
                        if (release_usec(release) <= t) {
                                t = release_usec(release);
                                oldest = v;
                        }
                }
                json_object_object_del(next, oldest);
        }
        json_object_object_add(next, version, entry);
        return next;
oom:
        json_object_put(next);
        json_object_put(entry);
        json_object_put(l);
        return NULL;
}

json_object *state_release_leaves(const PackageState *s, const char *version)
{
        json_object *release, *leaves;

        if (!s || !s->releases || !version ||
            !json_object_object_get_ex(s->releases, version, &release) ||
            !json_object_object_get_ex(release, "leaves", &leaves) ||
            !json_object_is_type(leaves, json_type_array) || json_object_array_length(leaves) == 0)
                return NULL;
        return leaves;
}

const char *state_release_shipping(const PackageState *s, char *const *migrations,
                                   json_object **ret_reversal)
{
        const char *found = NULL;
        uint64_t newest = 0;

        *ret_reversal = NULL;
        if (!s || !s->releases || !migrations)
                return NULL;
        json_object_object_foreach(s->releases, v, release)
        {
                json_object *reversal;
                bool all = true;

                if (!json_object_object_get_ex(release, "reversal", &reversal) ||
                    !json_object_is_type(reversal, json_type_object))
                        continue;
                STRV_FOREACH (m, (char **)migrations)
                        all = all && json_object_object_get_ex(reversal, *m, NULL);
                if (all && (!found || release_usec(release) > newest)) {
                        found = v;
                        newest = release_usec(release);
                        *ret_reversal = reversal;
                }
        }
        return found;
}

int state_save(const char *dir, const PackageState *s)
{
        _cleanup_free_ char *name = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1, dfd = -1;
        json_object *root;
        const char *text;
        uint64_t rnd = 0;
        size_t len, done = 0;
        int r;

        r = open_dir(dir, true, &dfd);
        if (r < 0)
                return r;
        name = state_path("", s->package); /* "/<name>.json" */
        (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        tmp = name ? strjoin_printf("%s.tmp-%016llx", name + 1, (unsigned long long)rnd) : NULL;
        if (!tmp)
                return -ENOMEM;

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        json_object_object_add(root, "format", json_object_new_int(STATE_FORMAT));
        json_object_object_add(root, "package", json_object_new_string(s->package));
        if (s->site_packages)
                json_object_object_add(root, "site_packages",
                                       json_object_new_string(s->site_packages));
        if (s->app_label)
                json_object_object_add(root, "app_label", json_object_new_string(s->app_label));
        json_object_object_add(root, "version",
                               s->version ? json_object_new_string(s->version) : NULL);
        json_object_object_add(root, "verdict", json_object_new_string(s->verdict));
        json_object_object_add(root, "verified_usec",
                               json_object_new_int64((int64_t)s->verified_usec));
        if (s->report)
                json_object_object_add(root, "report", json_object_get(s->report));
        if (s->baseline)
                json_object_object_add(root, "baseline", json_object_get(s->baseline));
        if (s->releases)
                json_object_object_add(root, "releases", json_object_get(s->releases));
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        len = text ? strlen(text) : 0;
        if (!text) {
                json_object_put(root);
                return -ENOMEM;
        }

        /* Only ever a new file of our own: no link, no file someone else made, is written. */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                json_object_put(root);
                return r;
        }
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto fail;
                }
                done += (size_t)n;
        }
        if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
                r = errno ? -errno : -EIO;
                goto fail;
        }
        json_object_put(root);
        root = NULL;
        if (renameat(dfd, tmp, dfd, name + 1) < 0) {
                r = -errno;
                goto fail;
        }
        /* The rename itself survives a crash only once the directory is synced. */
        return fsync(dfd) < 0 ? -errno : 0;
fail:
        json_object_put(root);
        (void)unlinkat(dfd, tmp, 0);
        return r;
}

static int write_force_request(void *userdata)
{
        static const char text[] = "verify even if nothing changed (nautobot-verifyctl verify)\n";
        const char *dir = userdata;
        _cleanup_close_ int dfd = -1, fd = -1;
        int r;

        r = open_dir(dir, true, &dfd);
        if (r < 0)
                return r;
        /* A new file, never an old one (a link or another file's hard link) truncated. */
        if (unlinkat(dfd, STATE_FORCE_FILE, 0) < 0 && errno != ENOENT)
                return -errno;
        fd = openat(dfd, STATE_FORCE_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0600);
        if (fd < 0)
                return -errno;
        /* An empty file would do; the text says what it is to an admin who finds one. */
        if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
                return errno ? -errno : -EIO;
        return 0;
}

int state_request_force(const char *dir)
{
        _cleanup_free_ char *copy = strdup(dir);
        _cleanup_close_ int sfd = -1;
        struct stat st;
        char *slash;

        if (!copy)
                return -ENOMEM;
        if (geteuid() != 0)
                return write_force_request((void *)dir);
        /*
         * Root (nautobot-verifyctl verify) never writes into the service's state
         * directory itself: the account that owns it does, in a child. Without
         * the directory there is no state yet, and the next run verifies anyway.
         */
        slash = strrchr(copy, '/');
        if (!slash || slash == copy)
                return -EINVAL;
        *slash = 0;
        sfd = open(copy, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return errno == ENOENT ? 0 : errno == ENOTDIR ? -ELOOP : -errno;
        if (fstat(sfd, &st) < 0)
                return -errno;
        if (st.st_uid == 0)
                return write_force_request((void *)dir);
        return privilege_run_as(st.st_uid, st.st_gid, write_force_request, (void *)dir);
}

int state_take_force_request(const char *dir)
{
        _cleanup_close_ int dfd = -1;
        int r;

        r = open_dir(dir, false, &dfd);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        /* Removed, not just read: a request that cannot be removed would force every run. */
        if (unlinkat(dfd, STATE_FORCE_FILE, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int state_quarantine(const char *dir, const char *package)
{
        _cleanup_free_ char *name = python_name_normalize(package), *file = NULL, *aside = NULL;
        _cleanup_close_ int dfd = -1;
        int r;

        file = name ? strjoin_printf("%s.json", name) : NULL;
        aside = name ? strjoin_printf("%s.json.corrupt", name) : NULL;
        if (!file || !aside)
                return -ENOMEM;
        r = open_dir(dir, false, &dfd);
        if (r < 0)
                return r;
        return renameat(dfd, file, dfd, aside) < 0 ? -errno : 0;
}

static int strv_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_apps(const char *dir, char ***ret_packages, char ***ret_labels)
{
        _cleanup_strv_free_ char **packages = NULL, **labels = NULL, **names = NULL;
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        DIR *d;
        int r = 0, fd;

        *ret_packages = *ret_labels = NULL;
        r = open_dir(dir, false, &dfd);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".json") || de->d_name[0] == '.')
                        continue;
                if (strv_length(names) >= STATE_APPS_MAX)
                        break;
                if ((r = strv_extend(&names, de->d_name)) < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (names)
                qsort(names, strv_length(names), sizeof(char *), strv_cmp);
        STRV_FOREACH (n, names) {
                _cleanup_free_ char *text = NULL;
                json_object *root, *package, *label;
                size_t len;

                r = read_at(dfd, *n, &text, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                root = json_tokener_parse(text);
                if (root && json_object_object_get_ex(root, "package", &package) &&
                    json_object_is_type(package, json_type_string) &&
                    json_object_object_get_ex(root, "app_label", &label) &&
                    json_object_is_type(label, json_type_string) &&
                    (strv_extend(&packages, json_object_get_string(package)) < 0 ||
                     strv_extend(&labels, json_object_get_string(label)) < 0)) {
                        json_object_put(root);
                        return -ENOMEM;
                }
                json_object_put(root);
        }
        *ret_packages = TAKE_PTR(packages);
        *ret_labels = TAKE_PTR(labels);
        return 0;
}
