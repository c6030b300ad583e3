/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What nautobot-verifyctl status reads: the configuration, the state
 * directory, the installed releases and systemd's units. See ctl-state.h.
 * Nothing here prints but the configuration's errors.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "ctl-state.h"
#include "instance-name.h"
#include "metadata.h"
#include "verdict.h"

#define BUS_TIMEOUT_USEC (5 * USEC_PER_SEC)

static const char *const row_status_table[_ROW_STATUS_MAX] = {
        [ROW_PASS] = "pass",
        [ROW_UNKNOWN] = "unknown",
        [ROW_INCOMPLETE] = "incomplete",
        [ROW_NOT_VERIFIED] = "not-verified",
        [ROW_FAIL] = "fail",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(row_status, RowStatus);

static void row_done(Row *r)
{
        free(r->package);
        free(r->path);
        package_state_free(r->state);
        free(r->error);
        free(r->installed);
        free(r->installed_error);
}

static Instance *instance_free(Instance *i)
{
        if (!i)
                return NULL;
        free(i->name);
        free(i->dir);
        for (size_t k = 0; k < i->n_rows; k++)
                row_done(&i->rows[k]);
        for (size_t k = 0; k < i->n_units; k++) {
                free(i->units[k].active);
                free(i->units[k].sub);
                free(i->units[k].status_text);
                free(i->units[k].error);
        }
        free(i);
        return NULL;
}

void status_done(Status *s)
{
        for (size_t i = 0; i < s->n_instances; i++)
                instance_free(s->instances[i]);
        config_free(s->config);
        free(s->error);
        free(s->systemd_error);
}

static int log_oom_exit(void)
{
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
}

/*
 * The configuration, for its state directory, site-packages and app. A
 * default path that does not exist leaves the defaults; a configuration the
 * daemon would refuse for its checks (config_finalize()) still tells where
 * the state is, so that is a warning here.
 */
int status_load_config(Status *s)
{
        const CtlOptions *o = s->o;
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(o->config_path, NULL,
                        CONFIG_LOAD_REFUSED_OK | (o->config_given ? 0 : CONFIG_LOAD_MISSING_OK),
                        &s->config, &error);
        if (r == -ENOMEM)
                return log_oom_exit();
        if (r < 0) {
                fprintf(stderr, "Cannot read the configuration: %s\n", error ?: strerror(-r));
                return EX_CONFIG;
        }
        /* Refused by config_finalize(), a file that was there (source: it was read). */
        if (r > 0 && s->config->source && !o->nagios && !o->json)
                fprintf(stderr,
                        "Warning: %s: %s (the daemon would refuse it; status reads the state regardless)\n",
                        o->config_path, strempty(error));
        if (o->state_directory &&
            free_and_strdup(&s->config->state_directory, o->state_directory) < 0)
                return log_oom_exit();
        s->state_directory = s->config->state_directory ?: "/var/lib/nautobot-verifyd";
        return 0;
}

/* The package a state file is about, as the file says (its name is normalised). */
static int peek_package(const char *path, char **ret, char **ret_error)
{
        _cleanup_free_ char *text = NULL;
        json_object *root, *v;
        size_t len;
        int r;

        _cleanup_close_ int fd = -1;

        /* Root reads what the service's account writes: never through a link it planted. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        r = fd < 0 ? -errno : read_fd_bounded(fd, STATE_FILE_MAX, &text, &len);
        if (r < 0) {
                *ret_error = strjoin_printf("cannot read %s: %s", path, state_error_to_string(r));
                return r;
        }
        root = json_tokener_parse(text);
        if (!root || !json_object_object_get_ex(root, "package", &v) ||
            !json_object_is_type(v, json_type_string) || isempty(json_object_get_string(v))) {
                json_object_put(root);
                *ret_error = strjoin_printf(
                        "%s is not a state file of nautobot-verifyd (no JSON object with a \"package\")",
                        path);
                return -EBADMSG;
        }
        *ret = strdup(json_object_get_string(v));
        json_object_put(root);
        return *ret ? 0 : -ENOMEM;
}

static int row_load(Instance *in, const char *dir, const char *file)
{
        Row *row;
        _cleanup_free_ char *package = NULL;
        json_object *v;
        int r;

        if (in->n_rows >= PACKAGES_MAX) {
                in->rows_cut = true;
                return 0;
        }
        row = &in->rows[in->n_rows++];
        row->path = strjoin_printf("%s/%s", dir, file);
        if (!row->path)
                return -ENOMEM;
        r = peek_package(row->path, &package, &row->error);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = state_load(dir, package, &row->state, &row->error);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !row->error)
                        row->error = strjoin_printf("cannot read %s: %s", row->path,
                                                    read_file_error_to_string(r));
        }
        if (!row->state && !row->error)
                row->error = strjoin_printf("cannot read %s", row->path);
        row->package = package ? TAKE_PTR(package) : strndup(file, strlen(file) - strlen(".json"));
        if (!row->package)
                return -ENOMEM;
        if (row->state && row->state->report &&
            json_object_object_get_ex(row->state->report, "package", &v) &&
            json_object_is_type(v, json_type_string))
                row->app = streq(json_object_get_string(v), row->state->package);
        return 0;
}

/* The release installed now, where the state says this Nautobot lives. */
static void row_installed(const Instance *in, Row *row)
{
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        _cleanup_strv_free_ char **conflicts = NULL;
        const char *site = row->state && row->state->site_packages ? row->state->site_packages
                                                                   : in->site_packages;
        int r;

        if (!site) {
                row->installed_error = strdup("unknown: the state does not name the site-packages");
                return;
        }
        r = dist_info_find(site, row->package, &d, &conflicts);
        if (r >= 0)
                row->installed = strdup(d->version);
        else if (r == -ENOENT)
                row->installed_error = strjoin_printf("not installed in %s", site);
        else if (r == -ENOTUNIQ)
                row->installed_error = strjoin_printf(
                        "%zu dist-infos in %s: an install in progress, or a broken one",
                        strv_length(conflicts), site);
        else
                row->installed_error =
                        strjoin_printf("cannot read its dist-info in %s: %s", site, strerror(-r));
}

static RowStatus row_status(const Row *row)
{
        const PackageState *st = row->state;

        if (!st)
                return ROW_UNKNOWN;
        /* Another release than the verified one, or gone, or mid-install: not verified yet. */
        if ((row->installed && !streq_ptr(row->installed, st->version)) ||
            (!row->installed && st->version && row->installed_error &&
             startswith(row->installed_error, "not installed")) ||
            (row->installed_error && strstr(row->installed_error, "dist-infos in")))
                return ROW_NOT_VERIFIED;
        switch (verdict_from_string(st->verdict)) {
        case VERDICT_PASS:
                return ROW_PASS;
        case VERDICT_FAIL:
                return ROW_FAIL;
        default:
                return ROW_INCOMPLETE;
        }
}

static int instance_new(Status *s, const char *name, const char *dir, Instance **ret)
{
        Instance *in;

        if (s->n_instances >= INSTANCES_MAX) {
                s->instances_cut = true;
                *ret = NULL;
                return 0;
        }
        in = calloc(1, sizeof(*in));
        if (!in)
                return -ENOMEM;
        in->name = strdup(name);
        in->dir = strdup(dir);
        if (!in->name || !in->dir) {
                instance_free(in);
                return -ENOMEM;
        }
        s->instances[s->n_instances++] = in;
        *ret = in;
        return 0;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "<package>.json" files of one directory, sorted, at most 'max'. */
static int list_state_files(const char *dir, char ***ret)
{
        _cleanup_strv_free_ char **files = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0, scanned = 0;
        int r = 0;

        int fd;

        /* An instance's folder that is a link (planted by the service's account) is not listed. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = errno == ENOTDIR ? -ELOOP : -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                if (++scanned > DIR_ENTRIES_MAX)
                        break;
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".json") ||
                    strlen(de->d_name) <= strlen(".json"))
                        continue;
                if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
                        continue;
                if (n++ >= PACKAGES_MAX + 1) /* one more says "cut" */
                        break;
                r = strv_extend(&files, de->d_name);
                if (r < 0)
                        break;
        }
        if (r >= 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        if (files)
                qsort(files, strv_length(files), sizeof(char *), compare_names);
        *ret = TAKE_PTR(files);
        return 0;
}

static int instance_fill(Instance *in, char **files, const char *dir)
{
        int r;

        STRV_FOREACH (f, files) {
                r = row_load(in, dir, *f);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The instances' directories in the state directory, sorted, and 0.4's files
 * that lay in it (the default instance's). 1 when the directory cannot be
 * read: s->error says why.
 */
static int list_instances(Status *s, char ***ret_names, char ***ret_legacy)
{
        _cleanup_strv_free_ char **names = NULL, **legacy = NULL;
        DIR *d;
        struct dirent *de;
        size_t scanned = 0;
        int r = 0;

        d = opendir(s->state_directory);
        if (!d) {
                r = -errno;
                if (r == -ENOENT)
                        s->error = strjoin_printf("No verification recorded: %s does not exist",
                                                  s->state_directory);
                else
                        s->error = strjoin_printf(
                                "Cannot read the state directory %s: %s%s", s->state_directory,
                                strerror(-r),
                                r == -EACCES
                                        ? " (it belongs to the service's account: run as root or as that user)"
                                        : "");
                return s->error ? 1 : -ENOMEM;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (++scanned > DIR_ENTRIES_MAX) {
                        s->instances_cut = true;
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && instance_name_valid(de->d_name)) {
                        if (strv_length(names) > INSTANCES_MAX) {
                                s->instances_cut = true;
                                continue;
                        }
                        r = strv_extend(&names, de->d_name);
                } else if (S_ISREG(st.st_mode) && endswith(de->d_name, ".json") &&
                           strlen(de->d_name) > strlen(".json") &&
                           strv_length(legacy) < PACKAGES_MAX)
                        /* Files of 0.4 lay in the state directory itself: the default instance. */
                        r = strv_extend(&legacy, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (legacy && !strv_contains(names, "default")) {
                r = strv_extend(&names, "default");
                if (r < 0)
                        return r;
        }
        if (names)
                qsort(names, strv_length(names), sizeof(char *), compare_names);
        *ret_names = TAKE_PTR(names);
        *ret_legacy = TAKE_PTR(legacy);
        return 0;
}

/* A row that says why an instance's directory cannot be read: still an instance. */
static int instance_unreadable(Status *s, const char *name, const char *dir, int error)
{
        Instance *in;
        int r;

        r = instance_new(s, name, dir, &in);
        if (r < 0)
                return r;
        if (in) {
                Row *row = &in->rows[in->n_rows++];

                row->package = strdup("?");
                row->path = strdup(dir);
                row->error = strjoin_printf("cannot read %s: %s", dir, strerror(error));
                if (!row->package || !row->path || !row->error)
                        return -ENOMEM;
        }
        return 0;
}

/* One instance's state files (and, for the default one, 0.4's): 0, 1 when no more instances
 * fit, or a negative errno. */
static int read_instance(Status *s, const char *name, char **legacy)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **files = NULL;
        Instance *in;
        int r;

        dir = strjoin_printf("%s/%s", s->state_directory, name);
        if (!dir)
                return -ENOMEM;
        r = list_state_files(dir, &files);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT)
                return instance_unreadable(s, name, dir, -r);
        /* An empty instance directory (or none, and no 0.4 files) has nothing to say. */
        if (!files && !(streq(name, "default") && legacy))
                return 0;
        r = instance_new(s, name, dir, &in);
        if (r < 0)
                return r;
        if (!in)
                return 1;
        r = instance_fill(in, files, dir);
        if (r < 0)
                return r;
        /* 0.4's files, where the instance's own directory has none of that name. */
        if (streq(name, "default"))
                STRV_FOREACH (f, legacy) {
                        if (strv_contains(files, *f))
                                continue;
                        r = row_load(in, s->state_directory, *f);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int read_state(Status *s)
{
        _cleanup_strv_free_ char **names = NULL, **legacy = NULL;
        int r;

        r = list_instances(s, &names, &legacy);
        if (r != 0)
                return r < 0 ? r : 0;
        STRV_FOREACH (name, names) {
                if (s->o->instance && !streq(s->o->instance, *name))
                        continue;
                r = read_instance(s, *name, legacy);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

/* The app first, then its watched packages by name. */
static int row_compare(const void *a, const void *b)
{
        const Row *x = a, *y = b;

        if (x->app != y->app)
                return x->app ? -1 : 1;
        return strcmp(x->package, y->package);
}

/* The site-packages each instance describes, the installed versions, each row's status. */
static void judge(Status *s)
{
        for (size_t i = 0; i < s->n_instances; i++) {
                Instance *in = s->instances[i];

                qsort(in->rows, in->n_rows, sizeof(Row), row_compare);

                for (size_t k = 0; k < in->n_rows && !in->site_packages; k++)
                        if (in->rows[k].state && in->rows[k].state->site_packages)
                                in->site_packages = in->rows[k].state->site_packages;
                if (!in->site_packages && streq_ptr(in->name, s->config->instance))
                        in->site_packages = s->config->site_packages;
                for (size_t k = 0; k < in->n_rows; k++) {
                        Row *row = &in->rows[k];

                        if (row->state)
                                row_installed(in, row);
                        row->status = row_status(row);
                }
        }
}

/* ---- systemd ---- */

static bool bus_error_no_systemd(const sd_bus_error *e)
{
        return sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static int unit_ask(sd_bus *bus, UnitInfo *u, bool *ret_no_systemd)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply, "s",
                               u->unit);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit")) {
                        /* Not loaded: neither running nor wanted by anything running. */
                        u->active = strdup("inactive");
                        u->sub = strdup("dead");
                        return u->active && u->sub ? 0 : -ENOMEM;
                }
                *ret_no_systemd = bus_error_no_systemd(&error);
                u->error = strdup(error.message ?: strerror(-r));
                return u->error ? 0 : -ENOMEM;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                u->error = strjoin_printf("cannot parse GetUnit's answer: %s", strerror(-r));
                return u->error ? 0 : -ENOMEM;
        }
        u->loaded = true;
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", &error,
                                       &u->active);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                               "org.freedesktop.systemd1.Unit", "SubState", &error,
                                               &u->sub);
        if (r < 0) {
                u->active = mfree(u->active);
                u->error = strdup(error.message ?: strerror(-r));
                return u->error ? 0 : -ENOMEM;
        }
        /* What a running service says it does: an upgrade it follows, the steps it waits for. */
        if (endswith(u->unit, ".service") &&
            (streq(u->active, "active") || streq(u->active, "activating") ||
             streq(u->active, "reloading")) &&
            (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                        "org.freedesktop.systemd1.Service", "StatusText", NULL,
                                        &u->status_text) < 0 ||
             isempty(u->status_text)))
                u->status_text = mfree(u->status_text);
        return 0;
}

int status_ask_systemd(Status *s)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int owned = 0, r;

        /* A system bus without systemd on it (a container) is "not running" too: asked below. */
        if (sd_booted() <= 0 && !getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
                s->systemd_error = strdup("not running here");
                return s->systemd_error ? 0 : -ENOMEM;
        }
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
        if (r < 0) {
                s->systemd_error =
                        strjoin_printf("not running here (no system bus: %s)", strerror(-r));
                return s->systemd_error ? 0 : -ENOMEM;
        }
        /* Asked first, so that a bus without systemd does not try to start it (activation). */
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", &error, &reply, "s",
                               "org.freedesktop.systemd1");
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &owned);
        if (r < 0 || !owned) {
                s->systemd_error =
                        r < 0 ? strjoin_printf(
                                        "not running here (the system bus does not answer: %s)",
                                        error.message ?: strerror(-r))
                              : strdup("not running here (nothing owns org.freedesktop.systemd1 on the system bus)");
                return s->systemd_error ? 0 : -ENOMEM;
        }
        s->systemd = true;
        for (size_t i = 0; i < s->n_instances && s->systemd; i++) {
                Instance *in = s->instances[i];
                static const char *const units[UNITS_MAX][2] = {
                        {"nautobot-verifyd", "service"},
                        {"nautobot-verifyd-check", "path"},
                        {"nautobot-verifyd-check", "timer"},
                        {"nautobot-verifyd-check", "service"},
                };
                bool is_default = streq(in->name, "default");

                for (size_t k = 0; k < UNITS_MAX; k++) {
                        UnitInfo *u = &in->units[in->n_units++];
                        bool no_systemd = false;

                        snprintf(u->unit, sizeof(u->unit), "%s%s%s.%s", units[k][0],
                                 is_default ? "" : "@", is_default ? "" : in->name, units[k][1]);
                        r = unit_ask(bus, u, &no_systemd);
                        if (r < 0)
                                return r;
                        if (no_systemd) {
                                s->systemd = false;
                                s->systemd_error =
                                        strjoin_printf("not running here (%s)", strempty(u->error));
                                return s->systemd_error ? 0 : -ENOMEM;
                        }
                }
        }
        return 0;
}

/* ---- the verdict ---- */

/*
 * The packages of an instance were verified together, by one run: when one of
 * them is no longer the verified release, that run's verdict is stale for all
 * of them (a failure included: the next run verifies them anew).
 */
RowStatus instance_status(const Instance *in)
{
        RowStatus worst = ROW_PASS;

        if (in->n_rows == 0)
                return ROW_UNKNOWN;
        for (size_t k = 0; k < in->n_rows; k++)
                if (in->rows[k].status == ROW_NOT_VERIFIED)
                        return ROW_NOT_VERIFIED;
        for (size_t k = 0; k < in->n_rows; k++)
                if (in->rows[k].status > worst)
                        worst = in->rows[k].status;
        return worst;
}

/* The row that says what the instance's status is about: the app's when it can. */
const Row *instance_headline(const Instance *in)
{
        RowStatus st = instance_status(in);

        for (size_t k = 0; k < in->n_rows; k++)
                if (in->rows[k].app && in->rows[k].status == st)
                        return &in->rows[k];
        for (size_t k = 0; k < in->n_rows; k++)
                if (in->rows[k].status == st)
                        return &in->rows[k];
        for (size_t k = 0; k < in->n_rows; k++)
                if (in->rows[k].app)
                        return &in->rows[k];
        return in->n_rows > 0 ? &in->rows[0] : NULL;
}

bool status_has(const Status *s, RowStatus what)
{
        for (size_t i = 0; i < s->n_instances; i++)
                if (s->instances[i]->n_rows > 0 && instance_status(s->instances[i]) == what)
                        return true;
        return false;
}

size_t status_n_rows(const Status *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_instances; i++)
                n += s->instances[i]->n_rows;
        return n;
}

/* The daemon's exit codes: 1 a failure, 2 anything short of a verified pass. */
int status_exit_code(const Status *s)
{
        if (status_has(s, ROW_FAIL))
                return CTL_EXIT_FAIL;
        if (status_n_rows(s) == 0 || status_has(s, ROW_NOT_VERIFIED) ||
            status_has(s, ROW_INCOMPLETE) || status_has(s, ROW_UNKNOWN))
                return CTL_EXIT_INCOMPLETE;
        return CTL_EXIT_PASS;
}

/* fail → CRITICAL; incomplete or not verified → WARNING; no state → UNKNOWN. */
int status_nagios_code(const Status *s)
{
        if (status_has(s, ROW_FAIL))
                return NAGIOS_CRITICAL;
        if (status_has(s, ROW_NOT_VERIFIED) || status_has(s, ROW_INCOMPLETE))
                return NAGIOS_WARNING;
        if (status_n_rows(s) == 0 || status_has(s, ROW_UNKNOWN))
                return NAGIOS_UNKNOWN;
        return NAGIOS_OK;
}

const char *status_word(const Status *s)
{
        switch (status_exit_code(s)) {
        case CTL_EXIT_PASS:
                return "pass";
        case CTL_EXIT_FAIL:
                return "fail";
        default:
                if (status_has(s, ROW_NOT_VERIFIED))
                        return "not-verified";
                if (status_has(s, ROW_INCOMPLETE))
                        return "incomplete";
                return "unknown";
        }
}

int status_read(Status *s)
{
        int r = read_state(s);

        if (r >= 0)
                judge(s);
        return r;
}
