/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The apps of a configuration: the [app NAME] sections, the two modes (one
 * app of [package] name=, or every app the server loads), the configuration
 * one app's verification runs with (config_for_app(), derived from the
 * daemon's for each app the probe reports) and the discovery of the app
 * profiles that config_finalize() loads (profile.h: [checks] profiles=, first
 * directory wins).
 */
#include <dirent.h>

#include "config-internal.h"

AppSection *config_app_section_find(const Config *c, const char *package)
{
        _cleanup_free_ char *a = package ? python_name_normalize(package) : NULL;

        for (size_t i = 0; a && i < c->n_app_sections; i++) {
                _cleanup_free_ char *b = python_name_normalize(c->app_sections[i].package);

                if (b && streq(a, b))
                        return &c->app_sections[i];
        }
        return NULL;
}

const AppSection *config_app_section(const Config *c, const char *package)
{
        return config_app_section_find(c, package);
}

bool config_all_apps(const Config *c)
{
        return isempty(c->package);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/*
 * Loads the profile of 'package' unless 'seen' has it; when 'label' is given the profile's
 * findings are about that app label's migrations: its label= must agree ('what' names the key).
 */
static int load_profile(Config *c, char ***seen, const char *package, const char *label,
                        const char *what, char **ret_error)
{
        _cleanup_free_ char *norm = python_name_normalize(package);
        _cleanup_(profile_freep) Profile *p = NULL;
        Profile **l;
        int r;

        if (!norm)
                return -ENOMEM;
        if (strv_contains(*seen, norm))
                return 0;
        if ((r = strv_extend(seen, norm)) < 0)
                return r;
        r = profile_find(c->profile_dirs, package, &p, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        if (!p)
                return 0;
        if (label && !streq(p->label, label)) {
                if (ret_error)
                        *ret_error = strjoin_printf("%s:%u: [app] label= is '%s', but %s is '%s'",
                                                    p->path, p->label_line, p->label, what, label);
                return -EINVAL;
        }
        l = reallocarray(c->profiles, c->n_profiles + 1, sizeof(Profile *));
        if (!l)
                return -ENOMEM;
        c->profiles = l;
        c->profiles[c->n_profiles++] = TAKE_PTR(p);
        return 0;
}

static int cmp_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every profile file of [checks] profiles= (all-apps mode: any app the server loads may
 * need one), so that a broken one is refused as the daemon starts, not at its app's first
 * run. A file another directory's shadows is never read, and is not read here either.
 */
static int load_every_profile(Config *c, char ***seen, char **ret_error)
{
        int r;

        STRV_FOREACH (d, c->profile_dirs) {
                _cleanup_(closedirp) DIR *dir = opendir(*d);
                _cleanup_strv_free_ char **names = NULL;
                struct dirent *de;
                size_t n = 0;

                if (!dir) {
                        r = -errno;
                        if (r == -ENOENT)
                                continue;
                        if (ret_error)
                                *ret_error =
                                        strjoin_printf("%s: cannot read: %s", *d, strerror(-r));
                        return r == -ENOMEM ? r : -EINVAL;
                }
                while ((errno = 0, de = readdir(dir))) {
                        size_t l = strlen(de->d_name);

                        if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                                continue;
                        if (++n > CONFIG_PROFILES_MAX) {
                                if (ret_error)
                                        *ret_error =
                                                strjoin_printf("%s: more than %d profiles (*.conf)",
                                                               *d, CONFIG_PROFILES_MAX);
                                return -E2BIG;
                        }
                        if ((r = strv_push(&names, strndup(de->d_name, l - 5))) < 0)
                                return r;
                }
                if (errno != 0) {
                        r = -errno;
                        if (ret_error)
                                *ret_error =
                                        strjoin_printf("%s: cannot read: %s", *d, strerror(-r));
                        return r == -ENOMEM ? r : -EINVAL;
                }
                if (names) /* the same order on every host: the first error is the same */
                        qsort(names, strv_length(names), sizeof(char *), cmp_strings);
                STRV_FOREACH (name, names) {
                        _cleanup_free_ char *norm = python_name_normalize(*name);

                        if (!norm)
                                return -ENOMEM;
                        if (!streq(norm, *name) || !distribution_name_valid(*name)) {
                                if (ret_error)
                                        *ret_error = strjoin_printf(
                                                "%s/%s.conf: not named after a package: a profile is <name>.conf with the package's PEP 503-normalised name (lower case, runs of '-', '_', '.' as one '-'), or it is never read",
                                                *d, *name);
                                return -EINVAL;
                        }
                        r = load_profile(c, seen, *name, NULL, NULL, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/*
 * One profile per package: the app's, the other watched packages' (for their rollbacks); in
 * all-apps mode those of the [app NAME] sections (their app-label= checked) and every other.
 */
static int load_profiles(Config *c, char **ret_error)
{
        _cleanup_strv_free_ char **seen = NULL;
        int r;

        for (size_t i = 0; i < c->n_profiles; i++)
                profile_free(c->profiles[i]);
        c->profiles = mfree(c->profiles);
        c->n_profiles = 0;
        if (!config_all_apps(c)) {
                r = load_profile(c, &seen, c->package, c->app_label,
                                 "[package] app-label=", ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; config_all_apps(c) && i < c->n_app_sections; i++) {
                const AppSection *a = &c->app_sections[i];
                _cleanup_free_ char *what = strjoin_printf("[app %s] app-label=", a->package);

                if (!what)
                        return -ENOMEM;
                r = load_profile(c, &seen, a->package, a->app_label, what, ret_error);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (w, c->watch_packages) {
                r = load_profile(c, &seen, *w, NULL, NULL, ret_error);
                if (r < 0)
                        return r;
        }
        if (config_all_apps(c))
                return load_every_profile(c, &seen, ret_error);
        return 0;
}

const Profile *config_profile(const Config *c, const char *package)
{
        _cleanup_free_ char *a = package ? python_name_normalize(package) : NULL;

        for (size_t i = 0; a && i < c->n_profiles; i++) {
                _cleanup_free_ char *b = python_name_normalize(c->profiles[i]->package);

                if (b && streq(a, b))
                        return c->profiles[i];
        }
        return NULL;
}

/* Appends the items of 'from' that 'l' lacks: merging twice adds nothing. */
static int strv_merge(char ***l, char *const *from)
{
        int r;

        for (size_t i = 0; from && from[i]; i++)
                if (!strv_contains(*l, from[i]) && (r = strv_extend(l, from[i])) < 0)
                        return r;
        return 0;
}

/* 'package' first in 'l', and there only once (PEP 503-normalised). */
static int put_first(char ***l, const char *package)
{
        _cleanup_strv_free_ char **n = NULL;
        int r;

        if ((r = strv_extend(&n, package)) < 0)
                return r;
        STRV_FOREACH (p, *l)
                if (!python_name_equal(*p, package) && (r = strv_extend(&n, *p)) < 0)
                        return r;
        strv_free(*l);
        *l = TAKE_PTR(n);
        return 0;
}

static bool watched(char *const *l, const char *package)
{
        for (size_t i = 0; l && l[i]; i++)
                if (python_name_equal(l[i], package))
                        return true;
        return false;
}

/*
 * Without [package] name= the apps come from the server, through the probe: refuses what
 * assumes one app (django=command, and the [package] keys that describe the one app).
 */
static int check_all_apps(const Config *c, char **ret_error)
{
        static const char *const one_app_keys[] = {"app-label", "job-module", "job-grouping",
                                                   "jobs", "panels"};
        _cleanup_free_ char *where = NULL;

        for (size_t i = 0; i < config_table_size; i++) {
                const ConfigKey *k = &config_table[i];
                bool one_app = false;

                for (size_t j = 0; j < ELEMENTSOF(one_app_keys); j++)
                        one_app = one_app ||
                                  (streq(k->section, "package") && streq(k->key, one_app_keys[j]));
                if (!one_app || config_key_is_empty(c, k))
                        continue;
                if (!ret_error)
                        return -EINVAL;
                where = config_where_set(c, k->section, k->key);
                *ret_error =
                        where ? strjoin_printf(
                                        "%s[package] %s= describes the app of [package] name=, which is not set: set name=, or put %s= in an [app NAME] section",
                                        where, k->key, k->key)
                              : NULL;
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        if (!c->use_probe) {
                if (!ret_error)
                        return -EINVAL;
                where = config_where_set(c, "checks", "django");
                *ret_error =
                        where ? strjoin_printf(
                                        "%sdjango=command verifies one app: set [package] name=, or use django=probe",
                                        where)
                              : NULL;
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/* Single-app mode: the package is watched first, its [app NAME] section's lists add up. */
static int finalize_one_app(Config *c)
{
        const AppSection *a = config_app_section(c, c->package);
        int r;

        /* A [watch] packages= of the file is what the admin wants, as written. */
        if (config_key_line(c, "watch", "packages") == 0 &&
            !watched(c->watch_packages, c->package) &&
            (r = put_first(&c->watch_packages, c->package)) < 0)
                return r;
        if (!a)
                return 0;
        if ((r = strv_merge(&c->jobs, a->jobs)) < 0 || (r = strv_merge(&c->panels, a->panels)) < 0)
                return r;
        return 0;
}

int config_finalize_apps(Config *c, char **ret_error)
{
        int r;

        r = config_all_apps(c) ? check_all_apps(c, ret_error) : finalize_one_app(c);
        if (r < 0)
                return r;
        r = load_profiles(c, ret_error);
        if (r < 0)
                return r;
        /* The Jobs page group the app's upgrade guide names: its profile's, unless configured. */
        if (c->package && !c->job_grouping) {
                const Profile *p = config_profile(c, c->package);

                if (p && p->jobs_grouping &&
                    free_and_strdup(&c->job_grouping, p->jobs_grouping) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int config_for_app(const Config *base, const char *package, const char *label, Config **ret,
                   char **ret_error)
{
        _cleanup_(config_freep) Config *c = NULL;
        const AppSection *a;
        int r;

        /* Both may come from the server (the probe's answer): neither may climb out of a path. */
        if (isempty(package) || !distribution_name_valid(package)) {
                _cleanup_free_ char *e = str_escape_control(strempty(package));

                if (ret_error)
                        *ret_error = e ? strjoin_printf("'%s' is not a Python distribution name", e)
                                       : NULL;
                return e ? -EINVAL : -ENOMEM;
        }
        r = config_copy(base, &c);
        if (r < 0)
                return r;
        /* Single-app mode for this package: [package] says all (finalize merged the rest). */
        if (config_all_apps(base) || !python_name_equal(base->package, package)) {
                a = config_app_section(base, package);
                label = a && a->app_label ? a->app_label : label;
                if (isempty(label)) {
                        if (ret_error)
                                *ret_error = strjoin_printf(
                                        "%s: no Django app label is known for it: set app-label= in an [app %s] section",
                                        package, package);
                        return -EINVAL;
                }
                if (!python_identifier_valid(label)) {
                        _cleanup_free_ char *e = str_escape_control(label);

                        if (ret_error)
                                *ret_error =
                                        e ? strjoin_printf(
                                                    "%s: '%s' is not a Django app label (an ASCII Python identifier of at most %d bytes): set app-label= in an [app %s] section",
                                                    package, e, PYTHON_IDENTIFIER_MAX, package)
                                          : NULL;
                        return e ? -EINVAL : -ENOMEM;
                }
                c->jobs = strv_free(c->jobs);
                c->panels = strv_free(c->panels);
                if (free_and_strdup(&c->app_label, label) < 0 ||
                    free_and_strdup(&c->job_module, a ? a->job_module : NULL) < 0 ||
                    free_and_strdup(&c->job_grouping, a ? a->job_grouping : NULL) < 0 ||
                    strv_copy(a ? a->jobs : NULL, &c->jobs) < 0 ||
                    strv_copy(a ? a->panels : NULL, &c->panels) < 0)
                        return -ENOMEM;
        }
        if (free_and_strdup(&c->package, package) < 0)
                return -ENOMEM;
        r = put_first(&c->watch_packages, package);
        if (r < 0)
                return r;
        r = config_finalize(c, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
