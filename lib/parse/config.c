/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Configuration file parsing, driven by one table of known keys. inih does the
 * INI syntax (sections, comments, continuation lines); this file owns the
 * meaning of each key, the defaults and the effective-configuration dump.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <ini.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "chase.h"
#include "config.h"
#include "ini-line.h"
#include "metadata.h"
#include "version.h"

#define SECRET_MAX 4096

typedef int (*ConfigParser)(Config *c, void *field, const char *value, char **ret_error);

typedef struct ConfigKey {
        const char *section;
        const char *key;
        ConfigParser parse;
        size_t offset;
        const char *help;
} ConfigKey;

static int parse_string(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        (void)ret_error;
        return free_and_strdup(field, isempty(value) ? NULL : value);
}

static int parse_instance(Config *c, void *field, const char *value, char **ret_error)
{
        (void)field;
        return config_set_instance(c, value, ret_error);
}

static int parse_path(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        if (!isempty(value) && value[0] != '/') {
                *ret_error = strjoin_printf("'%s' is not an absolute path", value);
                return -EINVAL;
        }
        return free_and_strdup(field, isempty(value) ? NULL : value);
}

static int parse_seconds(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        uint64_t u;

        if (parse_duration(value, &u) < 0 || u == 0 || u > 24 * 3600 * USEC_PER_SEC) {
                *ret_error = strjoin_printf(
                        "'%s' is not a duration between 1ms and 24h (e.g. 30, 30s, 500ms, 5min)",
                        value);
                return -EINVAL;
        }
        *(uint64_t *)field = u;
        return 0;
}

static int parse_bool(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        int b = parse_boolean(value);

        if (b < 0) {
                *ret_error = strjoin_printf("'%s' is not a boolean (yes/no)", value);
                return -EINVAL;
        }
        *(bool *)field = b;
        return 0;
}

static int parse_url(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        _cleanup_free_ char *v = NULL;
        size_t l;

        if (!startswith(value, "http://") && !startswith(value, "https://")) {
                *ret_error = strjoin_printf("'%s' is not an http:// or https:// URL", value);
                return -EINVAL;
        }
        if (strchr(value, '?') || strchr(value, '#') || strchr(value, '@') || strchr(value, ' ')) {
                *ret_error = strjoin_printf(
                        "'%s' must be a plain base URL (no query, fragment, user info or spaces)",
                        value);
                return -EINVAL;
        }
        v = strdup(value);
        if (!v)
                return -ENOMEM;
        l = strlen(v);
        while (l > 0 && v[l - 1] == '/')
                v[--l] = 0;
        free(*(char **)field);
        *(char **)field = TAKE_PTR(v);
        return 0;
}

/* Comma-separated list; an empty value resets it, repeated keys append (see handler()). */
static int parse_list(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        char ***l = field;
        _cleanup_free_ char *copy = NULL;
        char *p, *save = NULL;
        int r;

        (void)ret_error;
        if (isempty(value)) {
                *l = strv_free(*l);
                return 0;
        }
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                p = strstrip(p);
                if (isempty(p) || strv_contains(*l, p))
                        continue;
                r = strv_extend(l, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A list of "name OP version" requirements, each validated here so errors get file:line. */
static int parse_expectations(Config *c, void *field, const char *value, char **ret_error)
{
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = parse_list(c, &l, value, ret_error);
        if (r < 0)
                return r;
        STRV_FOREACH (e, l) {
                VersionRequirement req = {};

                r = version_requirement_parse(*e, &req);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = strjoin_printf(
                                "'%s' is not a requirement like 'nautobot >= 3.1.0' (operators < <= == != >= >, PEP 440 versions)",
                                *e);
                        return -EINVAL;
                }
                version_requirement_done(&req);
        }
        return parse_list(c, field, value, ret_error);
}

/* A list of directories, each an absolute path. */
static int parse_dirs(Config *c, void *field, const char *value, char **ret_error)
{
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = parse_list(c, &l, value, ret_error);
        if (r < 0)
                return r;
        STRV_FOREACH (d, l)
                if ((*d)[0] != '/') {
                        *ret_error = strjoin_printf("'%s' is not an absolute path", *d);
                        return -EINVAL;
                }
        return parse_list(c, field, value, ret_error);
}

/* node_exporter's textfile collector reads only *.prom files: another name would be ignored. */
static int parse_textfile(Config *c, void *field, const char *value, char **ret_error)
{
        if (!isempty(value) && (!endswith(value, ".prom") || endswith(value, "/.prom"))) {
                *ret_error = strjoin_printf(
                        "'%s' does not end in <name>.prom: node_exporter's textfile collector reads only *.prom files",
                        value);
                return -EINVAL;
        }
        return parse_path(c, field, value, ret_error);
}

/*
 * [package] name= and [app NAME]: the distribution names the state file, the profile and a
 * journal field, so it is checked here (metadata.c holds the rule) and never reaches a path
 * as anything but one plain file name.
 */
static int parse_distribution(Config *c, void *field, const char *value, char **ret_error)
{
        if (!isempty(value) && !python_name_valid(value)) {
                _cleanup_free_ char *e = str_escape_control(value);

                if (!e)
                        return -ENOMEM;
                *ret_error = strjoin_printf(
                        "'%s' is not a Python distribution name (ASCII letters, digits, '.', '_', '-', at most %d bytes, beginning and ending with a letter or digit)",
                        e, PYTHON_NAME_MAX);
                return -EINVAL;
        }
        return parse_string(c, field, value, ret_error);
}

/* app-label=: a Django app label, which names a directory of site-packages (<label>/static). */
static int parse_app_label(Config *c, void *field, const char *value, char **ret_error)
{
        if (!isempty(value) && !python_identifier_valid(value)) {
                _cleanup_free_ char *e = str_escape_control(value);

                if (!e)
                        return -ENOMEM;
                *ret_error = strjoin_printf(
                        "'%s' is not a Django app label (an ASCII Python identifier: letters, digits and '_', not beginning with a digit, at most %d bytes)",
                        e, PYTHON_IDENTIFIER_MAX);
                return -EINVAL;
        }
        return parse_string(c, field, value, ret_error);
}

static bool key_is_list(const ConfigKey *k)
{
        return k->parse == parse_list || k->parse == parse_expectations || k->parse == parse_dirs;
}

/* A char * field, stored as written (NULL: empty). */
static bool parser_is_string(ConfigParser p)
{
        return p == parse_string || p == parse_path || p == parse_url || p == parse_textfile ||
               p == parse_instance || p == parse_distribution || p == parse_app_label;
}

static int parse_checks(Config *c, void *field _unused_, const char *value, char **ret_error)
{
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = parse_list(c, &l, value, ret_error);
        if (r < 0)
                return r;
        STRV_FOREACH (s, l)
                if (check_id_from_string(*s) < 0) {
                        Buf known;

                        buf_init(&known, 1024);
                        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                                buf_printf(&known, "%s%s", i > 0 ? ", " : "",
                                           check_id_to_string(i));
                        *ret_error = strjoin_printf("unknown check '%s' (known: %s)", *s,
                                                    strempty(known.data));
                        buf_done(&known);
                        return -EINVAL;
                }
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                c->enabled[i] = strv_contains(l, check_id_to_string(i));
        return 0;
}

static int parse_django(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        if (!streq(value, "probe") && !streq(value, "command")) {
                *ret_error = strjoin_printf("'%s' is neither 'probe' nor 'command'", value);
                return -EINVAL;
        }
        *(bool *)field = streq(value, "probe");
        return 0;
}

static int parse_size(Config *c _unused_, void *field, const char *value, char **ret_error)
{
        unsigned long long v;
        char *end;

        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno != 0 || *end || v < 1024 || v > 64 * 1024 * 1024) {
                *ret_error =
                        strjoin_printf("'%s' is not a byte count between 1024 and 67108864", value);
                return -EINVAL;
        }
        *(size_t *)field = v;
        return 0;
}

#define F(x) offsetof(Config, x)
static const ConfigKey config_table[] = {
        {"nautobot", "instance", parse_instance, F(instance),
         "name of this Nautobot among several on the host (keys the state)"},
        {"nautobot", "server", parse_path, F(server), "path of nautobot-server"},
        {"nautobot", "user", parse_string, F(user),
         "account nautobot-server runs as when started as root (default: the owner of server)"},
        {"nautobot", "root", parse_path, F(root), "NAUTOBOT_ROOT for nautobot-server"},
        {"nautobot", "config", parse_path, F(nautobot_config),
         "NAUTOBOT_CONFIG for nautobot-server"},
        {"nautobot", "environment-file", parse_path, F(environment_file),
         "KEY=VALUE lines passed to nautobot-server"},
        {"nautobot", "site-packages", parse_path, F(site_packages),
         "site-packages of Nautobot's virtualenv"},
        {"nautobot", "command-timeout", parse_seconds, F(command_timeout_usec),
         "limit for one nautobot-server run"},
        {"nautobot", "url", parse_url, F(url), "base URL of Nautobot's web UI"},
        {"nautobot", "http-timeout", parse_seconds, F(http_timeout_usec),
         "limit for one HTTP request"},
        {"nautobot", "database-timeout", parse_seconds, F(database_timeout_usec),
         "limit for the database check (connect and queries)"},
        {"database", "host", parse_string, F(db_host),
         "database check: host (wins over Django's DATABASES and NAUTOBOT_DB_*)"},
        {"database", "port", parse_string, F(db_port), "database check: port"},
        {"database", "name", parse_string, F(db_name), "database check: database name"},
        {"database", "user", parse_string, F(db_user), "database check: user"},
        {"database", "password-file", parse_path, F(db_password_file),
         "database check: file holding the password"},
        {"nautobot", "tls-verify", parse_bool, F(tls_verify),
         "verify the server's TLS certificate"},
        {"nautobot", "ca-file", parse_path, F(ca_file), "CA bundle for TLS verification"},
        {"nautobot", "static-root", parse_path, F(static_root),
         "STATIC_ROOT that collectstatic fills (default <root>/static)"},
        {"nautobot", "units", parse_list, F(units),
         "systemd units that must be restarted after an upgrade"},
        {"nautobot", "probe", parse_path, F(probe),
         "the Django probe that nautobot-server runs (checks django=probe)"},
        {"nautobot", "output-max", parse_size, F(output_max), "bytes kept per child output stream"},
        {"credentials", "username", parse_string, F(username), "web UI service account"},
        {"credentials", "password-file", parse_path, F(password_file),
         "file holding the account's password"},
        {"credentials", "token-file", parse_path, F(token_file), "file holding the REST API token"},
        {"credentials", "password-credential", parse_string, F(password_credential),
         "credential name for the password"},
        {"credentials", "token-credential", parse_string, F(token_credential),
         "credential name for the token"},
        {"package", "name", parse_distribution, F(package),
         "the one app verified, a Python distribution (empty: every app the server loads)"},
        {"package", "app-label", parse_app_label, F(app_label),
         "its Django app label (required with name=)"},
        {"package", "job-module", parse_string, F(job_module), "module holding its Jobs"},
        {"package", "job-grouping", parse_string, F(job_grouping),
         "grouping the upgrade guide expects (empty: not compared)"},
        {"package", "jobs", parse_list, F(jobs),
         "Job classes expected besides those the installed code declares"},
        {"package", "panels", parse_list, F(panels),
         "home page panels expected besides those the installed code declares"},
        {"watch", "packages", parse_list, F(watch_packages),
         "distributions whose changes trigger a verification"},
        {"watch", "expect", parse_expectations, F(expectations),
         "version requirements on watched packages"},
        {"watch", "quiet-period", parse_seconds, F(quiet_usec),
         "an install has settled after this long without events"},
        {"watch", "settle-timeout", parse_seconds, F(settle_max_usec),
         "report an unsettled install after this long"},
        {"watch", "state-directory", parse_path, F(state_directory),
         "where the last verified versions are kept"},
        {"watch", "upgrade-deadline", parse_seconds, F(upgrade_deadline_usec),
         "verify an upgrade whose steps are still pending after this long"},
        {"watch", "step-interval", parse_seconds, F(step_interval_usec),
         "re-check the pending steps of an upgrade this often"},
        {"checks", "enable", parse_checks, 0, "checks to run"},
        {"checks", "django", parse_django, F(use_probe),
         "probe: one nautobot-server for system, migrations, jobs; command: one per check"},
        {"checks", "profiles", parse_dirs, F(profile_dirs),
         "directories searched in order for app profiles (<package>.conf); empty: none"},
        {"report", "prometheus-textfile", parse_textfile, F(prometheus_textfile),
         "file written for node_exporter's textfile collector after each run; empty: none"},
};
#undef F

_Static_assert(ELEMENTSOF(config_table) <= CONFIG_KEYS_MAX, "Config.key_line is too small");

#define CONFIG_SIZE_LP64 680

/*
 * config_copy() copies the keys of the table and, by name, the pointers outside it (config.h
 * lists them). A new field changes the size: look at config_copy() and config_free(), then
 * here. (LP64 only: the ABIs of the 64-bit Linux ports lay the struct out alike.)
 */
_Static_assert(sizeof(void *) != 8 || sizeof(Config) == CONFIG_SIZE_LP64,
               "Config changed: copy the new field in config_copy(), free it in config_free()");

/* [app NAME] keys, parsed into an AppSection by the parsers of the table above. */
typedef struct AppKey {
        const char *key;
        ConfigParser parse;
        size_t offset;
        const char *help;
} AppKey;

#define A(x) offsetof(AppSection, x)
static const AppKey app_table[] = {
        {"verify", parse_bool, A(verify), "no: this app is not verified"},
        {"app-label", parse_app_label, A(app_label),
         "its Django app label (empty: as the server reports it)"},
        {"job-module", parse_string, A(job_module),
         "module holding its Jobs (empty: <app-label>.jobs)"},
        {"job-grouping", parse_string, A(job_grouping),
         "grouping the upgrade guide expects (empty: not compared)"},
        {"jobs", parse_list, A(jobs),
         "Job classes expected besides those the installed code declares"},
        {"panels", parse_list, A(panels),
         "home page panels expected besides those the installed code declares"},
};
#undef A

/* Keys people reach for that would put a secret into the file. */
static const char *const refused_secret_keys[] = {"password", "token", "api-token", "secret"};

int config_new(Config **ret)
{
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->command_timeout_usec = 300 * USEC_PER_SEC;
        c->http_timeout_usec = 30 * USEC_PER_SEC;
        c->database_timeout_usec = 10 * USEC_PER_SEC;
        c->tls_verify = true;
        c->output_max = 256 * 1024;
        c->quiet_usec = 2 * USEC_PER_SEC;
        c->settle_max_usec = 120 * USEC_PER_SEC;
        c->upgrade_deadline_usec = 30 * 60 * USEC_PER_SEC;
        c->step_interval_usec = 5 * USEC_PER_SEC;
        c->use_probe = true;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                c->enabled[i] = true;

        if (!(c->instance = strdup("default")) ||
            !(c->server = strdup("/opt/nautobot/bin/nautobot-server")) ||
            !(c->root = strdup("/opt/nautobot")) || !(c->url = strdup("http://127.0.0.1:8080")) ||
            !(c->username = strdup("nautobot-verifyd")) ||
            !(c->password_credential = strdup("web-password")) ||
            !(c->token_credential = strdup("api-token")) || !(c->probe = strdup(NVD_PROBE_PATH)))
                return -ENOMEM;
        /* Nautobot's documented units (docs: installation/services.md). */
        if ((r = strv_extend(&c->units, "nautobot.service")) < 0 ||
            (r = strv_extend(&c->units, "nautobot-worker.service")) < 0 ||
            (r = strv_extend(&c->units, "nautobot-scheduler.service")) < 0)
                return r;
        /* No [package] name=: every app the server loads. config_finalize() puts a configured
         * package first. */
        if ((r = strv_extend(&c->watch_packages, "nautobot")) < 0)
                return r;
        /* What nautobot-contract-models 2026.5.17 really needs (its migrations need 3.1). */
        if ((r = strv_extend(&c->expectations, "nautobot >= 3.1.0")) < 0 ||
            (r = strv_extend(&c->expectations, "nautobot < 4")) < 0)
                return r;
        /* The admin's drop-ins first, then the ones installed with the daemon. */
        if ((r = strv_extend(&c->profile_dirs, PROFILE_DIR_ETC)) < 0 ||
            (r = strv_extend(&c->profile_dirs, NVD_PROFILE_DIR)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static void app_section_done(AppSection *a)
{
        free(a->package);
        free(a->app_label);
        free(a->job_module);
        free(a->job_grouping);
        strv_free(a->jobs);
        strv_free(a->panels);
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        free(c->instance);
        free(c->server);
        free(c->user);
        free(c->root);
        free(c->nautobot_config);
        free(c->environment_file);
        free(c->site_packages);
        free(c->url);
        free(c->ca_file);
        free(c->static_root);
        free(c->db_host);
        free(c->db_port);
        free(c->db_name);
        free(c->db_user);
        free(c->db_password_file);
        free(c->probe);
        strv_free(c->units);
        free(c->username);
        free(c->password_file);
        free(c->token_file);
        free(c->password_credential);
        free(c->token_credential);
        free(c->package);
        free(c->app_label);
        free(c->job_module);
        free(c->job_grouping);
        strv_free(c->jobs);
        strv_free(c->panels);
        strv_free(c->watch_packages);
        strv_free(c->expectations);
        strv_free(c->profile_dirs);
        free(c->prometheus_textfile);
        for (size_t i = 0; i < c->n_app_sections; i++)
                app_section_done(&c->app_sections[i]);
        free(c->app_sections);
        strv_free(c->other_app_labels);
        free(c->dropped_note);
        for (size_t i = 0; i < c->n_profiles; i++)
                profile_free(c->profiles[i]);
        free(c->profiles);
        free(c->state_directory);
        free(c->instance_state_directory);
        free(c->source);
        free(c);
        return NULL;
}

typedef struct ParseState {
        Config *config;
        bool assigned[CONFIG_KEYS_MAX]; /* per config_table entry: set in this file already */
        FILE *file;
        unsigned line;       /* of what the reader returned last */
        bool line_complete;  /* ... and it ended with a newline */
        bool indented;       /* ... and it began with white space */
        bool key_seen;       /* a key since the last section header: an indented line continues */
        AppSection *app;     /* the current section's, when it is an [app NAME] */
        char *error;         /* first error, without file:line */
        unsigned error_line; /* where it is, when not where inih stopped (0) */
        int r;
} ParseState;

/* "app NAME" → NAME ("" for a bare "app"), or NULL when the section is not an [app NAME]. */
static const char *app_section_name(const char *section)
{
        const char *name = startswith(section, "app");

        if (!name || (*name && *name != ' '))
                return NULL;
        return name + strspn(name, " ");
}

/* What pip accepts as a distribution name (PEP 508): metadata.c's rule, the probe's too. */
static bool distribution_name_valid(const char *s)
{
        _Static_assert(CONFIG_APP_NAME_MAX == PYTHON_NAME_MAX, "one limit for a distribution name");
        return python_name_valid(s);
}

static AppSection *find_app_section(const Config *c, const char *package)
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
        return find_app_section(c, package);
}

bool config_all_apps(const Config *c)
{
        return isempty(c->package);
}

/* Keeps the first error, at 'line' (0: where inih stops); a NULL error: out of memory. */
static void fail_at(ParseState *s, unsigned line, int r, char *error /* takes */)
{
        if (s->error || s->r < 0) {
                free(error);
                return;
        }
        s->error = error;
        s->error_line = line;
        s->r = error ? r : -ENOMEM;
}

/*
 * A section header: an [app NAME] gets its AppSection here (a NAME seen before, as PEP 503
 * normalises it, gets the same one), so that one without keys exists too and errors about
 * NAME point at the header.
 */
static void section_begin(ParseState *s, const char *section)
{
        Config *c = s->config;
        const char *name = app_section_name(section);
        AppSection *l;

        s->app = NULL;
        s->key_seen = false;
        if (!name)
                return; /* the handler judges the others, as their keys come */
        if (isempty(name))
                return fail_at(
                        s, s->line, -EINVAL,
                        strdup("[app] needs the name of a Python distribution: [app NAME], e.g. [app nautobot-dns-models]"));
        if (!distribution_name_valid(name)) {
                /* Said as it is written, but no ESC of it reaches the admin's terminal. */
                _cleanup_free_ char *es = str_escape_control(section),
                                    *en = str_escape_control(name);

                return fail_at(
                        s, s->line, -EINVAL,
                        es && en
                                ? strjoin_printf(
                                          "[%s]: '%s' is not a Python distribution name (ASCII letters, digits, '.', '_', '-', at most %d bytes, beginning and ending with a letter or digit)",
                                          es, en, CONFIG_APP_NAME_MAX)
                                : NULL);
        }
        s->app = find_app_section(c, name);
        if (s->app)
                return;
        if (c->n_app_sections >= CONFIG_APP_SECTIONS_MAX)
                return fail_at(s, s->line, -E2BIG,
                               strjoin_printf("more than %d [app NAME] sections",
                                              CONFIG_APP_SECTIONS_MAX));
        l = reallocarray(c->app_sections, c->n_app_sections + 1, sizeof(AppSection));
        if (!l)
                return fail_at(s, s->line, -ENOMEM, NULL);
        c->app_sections = l;
        l[c->n_app_sections] = (AppSection){.verify = true, .line = s->line};
        l[c->n_app_sections].package = strdup(name);
        if (!l[c->n_app_sections].package)
                return fail_at(s, s->line, -ENOMEM, NULL);
        s->app = &l[c->n_app_sections++];
}

/* A key of an [app NAME] section: 1 when done, 0 on an error (in s). */
static int app_handler(ParseState *s, const char *section, const char *key, const char *value)
{
        char *error = NULL;
        int r;

        if (!s->app) /* its header was refused */
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(app_table); i++) {
                const AppKey *k = &app_table[i];

                if (!streq(k->key, key))
                        continue;
                r = k->parse(s->config, (uint8_t *)s->app + k->offset, value, &error);
                if (r < 0) {
                        fail_at(s, 0, r,
                                strjoin_printf("[%s] %s=: %s", section, key,
                                               error ?: strerror(-r)));
                        free(error);
                        return 0;
                }
                return 1;
        }
        fail_at(s, 0, -EINVAL, strjoin_printf("unknown key '%s' in section [%s]", key, section));
        return 0;
}

static int handler(void *userdata, const char *section, const char *key, const char *value)
{
        ParseState *s = userdata;
        char *error = NULL;
        int r;

        if (!key) /* a bare section header */
                return 1;
        if (s->error || s->r < 0) /* keep the first error; inih goes on and keeps its line */
                return 1;
        s->key_seen = true;

        for (size_t i = 0; i < ELEMENTSOF(refused_secret_keys); i++)
                if (streq(key, refused_secret_keys[i])) {
                        s->error = strjoin_printf(
                                "[%s] %s=: secrets are not accepted in the configuration; use %s-file= or a systemd credential",
                                section, key, key);
                        s->r = -EPERM;
                        return 0;
                }
        if (app_section_name(section))
                return app_handler(s, section, key, value);

        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                const ConfigKey *k = &config_table[i];

                if (!streq(k->section, section) || !streq(k->key, key))
                        continue;
                /* A list named in the file replaces the default; further lines append. */
                if (key_is_list(k) && !s->assigned[i])
                        *(char ***)((uint8_t *)s->config + k->offset) =
                                strv_free(*(char ***)((uint8_t *)s->config + k->offset));
                s->assigned[i] = true;
                s->config->key_line[i] = s->line;
                r = k->parse(s->config, (uint8_t *)s->config + k->offset, value, &error);
                if (r < 0) {
                        s->error =
                                strjoin_printf("[%s] %s=: %s", section, key, error ?: strerror(-r));
                        free(error);
                        s->r = r;
                        return 0;
                }
                return 1;
        }

        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (streq(config_table[i].section, section)) {
                        s->error = strjoin_printf("unknown key '%s' in section [%s]", key, section);
                        s->r = -EINVAL;
                        return 0;
                }
        s->error = strjoin_printf("unknown section [%s]", section);
        s->r = -EINVAL;
        return 0;
}

/*
 * fgets() for inih that counts lines, so the handler knows where a key was set, and notices
 * section headers as inih reads them (it tells the handler nothing about them).
 */
static char *read_line(char *str, int num, void *userdata)
{
        ParseState *s = userdata;
        char *r = fgets(str, num, s->file);

        if (!r || s->r < 0)
                return s->r < 0 ? NULL : r;
        if (s->line_complete || s->line == 0)
                s->line++;
        s->line_complete = strchr(r, '\n') != NULL;
        /* inih would take the rest of a long line for a line of its own. */
        if (!s->line_complete && !feof(s->file)) {
                fail_at(s, 0, -EINVAL,
                        strjoin_printf(
                                "line longer than %d bytes: split a long list over repeated keys (each appends)",
                                num - 2));
                return NULL;
        }

        {
                _cleanup_free_ char *section = NULL;
                int q = ini_line_header(r, s->line, s->key_seen, &s->indented, &section);

                if (q < 0)
                        fail_at(s, s->line, q, NULL);
                else if (q > 0)
                        section_begin(s, section);
                if (s->r < 0)
                        return NULL;
        }
        return r;
}

int config_load(Config *c, const char *path, char **ret_error)
{
        ParseState s = {.config = c};
        _cleanup_free_ char *why = NULL;
        FILE *f = NULL;
        int line, fd = -1, r;

        /*
         * As root, only through directories and a file that no other account can
         * write (chase.h): the file says which account root becomes and what it runs.
         */
        if (geteuid() == 0)
                r = chase_open_strict(path, O_RDONLY | O_NOCTTY, &fd, &why);
        else
                r = (fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0 ? -errno : 0;
        if (r >= 0 && !(f = fdopen(fd, "re")))
                r = -errno;
        if (r < 0) {
                if (fd >= 0 && !f)
                        close(fd);
                if (ret_error)
                        *ret_error =
                                strjoin_printf("%s: cannot open: %s", path, why ?: strerror(-r));
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                c->key_line[i] = 0;
        if (free_and_strdup(&c->source, path) < 0) {
                fclose(f);
                return -ENOMEM;
        }
        s.file = f;
        line = ini_parse_stream(read_line, &s, handler, &s);
        fclose(f);

        if (s.error_line > 0)
                line = (int)s.error_line;
        else if (line == 0 && (s.error || s.r < 0)) /* the reader stopped it (a long line) */
                line = (int)s.line;
        if (line == 0)
                return 0;
        if (ret_error) {
                if (s.error)
                        *ret_error = strjoin_printf("%s:%d: %s", path, line, s.error);
                else if (s.r == -ENOMEM)
                        *ret_error = strjoin_printf("%s: cannot parse: out of memory", path);
                else if (line > 0)
                        *ret_error = strjoin_printf(
                                "%s:%d: syntax error (expected [section] or key = value)", path,
                                line);
                else
                        *ret_error = strjoin_printf("%s: cannot parse: out of memory", path);
        }
        free(s.error);
        return s.r < 0 ? s.r : -EBADMSG;
}

/* <venv>/bin/nautobot-server → the single <venv>/lib/python3.N/site-packages. */
static int derive_site_packages(const char *server, char **ret)
{
        _cleanup_free_ char *copy = NULL, *pattern = NULL;
        glob_t g = {};
        char *venv;
        int r;

        copy = strdup(server);
        if (!copy)
                return -ENOMEM;
        venv = dirname(dirname(copy));
        pattern = strjoin_printf("%s/lib/python3*/site-packages", venv);
        if (!pattern)
                return -ENOMEM;
        r = glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g);
        if (r == GLOB_NOMATCH || (r == 0 && g.gl_pathc != 1)) {
                r = r == 0 ? -ENOTUNIQ : -ENOENT;
                globfree(&g);
                return r;
        }
        if (r != 0)
                return -EIO;
        *ret = strdup(g.gl_pathv[0]);
        globfree(&g);
        return *ret ? 0 : -ENOMEM;
}

#define CHECK_BIT(id) (UINT64_C(1) << (id))
#define ALWAYS        UINT64_MAX

/* Keys whose value a check cannot do without: refused empty while such a check is enabled. */
static const struct {
        const char *section;
        const char *key;
        uint64_t checks; /* bits of the CheckIds that need it; ALWAYS: the run itself */
        bool single_app; /* only with [package] name= set (all-apps mode asks the server) */
} required_keys[] = {
        {"nautobot", "server", ALWAYS}, /* the child's PATH, site-packages */
        {"nautobot", "url", ALWAYS},
        {"credentials", "username", CHECK_BIT(CHECK_ID_PANELS)},
        {"package", "app-label", ALWAYS, true},
        {"watch", "packages", ALWAYS},
};

/* The line of the file that set [section] key= last, 0 when it did not. */
static unsigned key_line_of(const Config *c, const char *section, const char *key)
{
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (streq(config_table[i].section, section) && streq(config_table[i].key, key))
                        return c->key_line[i];
        return 0;
}

/* "file:line: " where the file set [section] key= ("" when it did not). */
static char *where_set(const Config *c, const char *section, const char *key)
{
        unsigned line = key_line_of(c, section, key);

        if (c->source && line > 0)
                return strjoin_printf("%s:%u: ", c->source, line);
        return strdup("");
}

static bool key_is_empty(const Config *c, const ConfigKey *k)
{
        const void *field = (const uint8_t *)c + k->offset;

        if (key_is_list(k))
                return strv_length(*(char **const *)field) == 0;
        if (k->parse == parse_string || k->parse == parse_path || k->parse == parse_url ||
            k->parse == parse_distribution || k->parse == parse_app_label)
                return isempty(*(char *const *)field);
        return false;
}

/* "file:line: [section] key= is empty, but the X check needs it ..." for the first such key. */
static int check_required_keys(const Config *c, char **ret_error)
{
        for (size_t i = 0; i < ELEMENTSOF(required_keys); i++) {
                _cleanup_free_ char *where = NULL, *needed = NULL;
                const ConfigKey *k = NULL;
                size_t index = 0;

                for (size_t j = 0; j < ELEMENTSOF(config_table); j++)
                        if (streq(config_table[j].section, required_keys[i].section) &&
                            streq(config_table[j].key, required_keys[i].key)) {
                                k = &config_table[j];
                                index = j;
                        }
                if (!k || !key_is_empty(c, k) ||
                    (required_keys[i].single_app && config_all_apps(c)))
                        continue;
                if (required_keys[i].checks != ALWAYS) {
                        Buf b;

                        buf_init(&b, 256);
                        for (CheckId id = 0; id < _CHECK_ID_MAX; id++)
                                if (c->enabled[id] && (required_keys[i].checks & CHECK_BIT(id)))
                                        (void)buf_printf(&b, "%s%s", b.len > 0 ? ", " : "",
                                                         check_id_to_string(id));
                        if (b.len == 0) { /* only disabled checks need it */
                                buf_done(&b);
                                continue;
                        }
                        needed = b.data; /* takes it */
                }
                if (!ret_error)
                        return -EINVAL;
                /* Not in the file at all: the key that made it needed is. */
                where = c->key_line[index] > 0 || !required_keys[i].single_app
                                ? where_set(c, k->section, k->key)
                                : where_set(c, "package", "name");
                if (!where)
                        return -ENOMEM;
                if (required_keys[i].single_app)
                        *ret_error = strjoin_printf(
                                "%s[%s] %s= must not be empty when [package] name= is set (the app's Django label)",
                                where, k->section, k->key);
                else if (needed)
                        *ret_error = strjoin_printf(
                                "%s[%s] %s= is empty, but the enabled check(s) %s need it: set it, or leave them out of [checks] enable=",
                                where, k->section, k->key, needed);
                else
                        *ret_error = strjoin_printf("%s[%s] %s= must not be empty", where,
                                                    k->section, k->key);
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/*
 * An admin's database password goes only where the admin said: without host=,
 * port= and name= beside it, the database check would take them from what the
 * probe reports (the app's code) or from the environment file (the nautobot
 * account's), and could hand the password to a server of their choosing.
 */
static int check_database_destination(const Config *c, char **ret_error)
{
        _cleanup_free_ char *where = NULL;
        const char *missing = !c->db_host   ? "host"
                              : !c->db_port ? "port"
                              : !c->db_name ? "name"
                                            : NULL;

        if (!c->db_password_file || !missing)
                return 0;
        if (!ret_error)
                return -EINVAL;
        where = where_set(c, "database", "password-file");
        if (!where)
                return -ENOMEM;
        *ret_error = strjoin_printf(
                "%s[database] password-file= is set but [database] %s= is not: the password is sent only to the host, port and database this file names, never to what the server's settings or the environment file say; set host=, port= and name=",
                where, missing);
        return *ret_error ? -EINVAL : -ENOMEM;
}

/* Watched packages name files (their state, their profile): distribution names only. */
static int check_watched_names(const Config *c, char **ret_error)
{
        _cleanup_free_ char *where = NULL, *shown = NULL;

        STRV_FOREACH (p, c->watch_packages) {
                if (python_name_valid(*p))
                        continue;
                if (!ret_error)
                        return -EINVAL;
                where = where_set(c, "watch", "packages");
                shown = str_escape_control(*p);
                *ret_error =
                        where && shown
                                ? strjoin_printf(
                                          "%s[watch] packages=: '%s' is not a Python distribution name (letters, digits, '.', '_', '-')",
                                          where, shown)
                                : NULL;
                return *ret_error ? -EINVAL : -ENOMEM;
        }
        return 0;
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

/* A copy of 'l' (NULL for NULL). */
static int strv_copy(char *const *l, char ***ret)
{
        _cleanup_strv_free_ char **n = NULL;
        int r;

        for (size_t i = 0; l && l[i]; i++)
                if ((r = strv_extend(&n, l[i])) < 0)
                        return r;
        *ret = TAKE_PTR(n);
        return 0;
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

        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                const ConfigKey *k = &config_table[i];
                bool one_app = false;

                for (size_t j = 0; j < ELEMENTSOF(one_app_keys); j++)
                        one_app = one_app ||
                                  (streq(k->section, "package") && streq(k->key, one_app_keys[j]));
                if (!one_app || key_is_empty(c, k))
                        continue;
                if (!ret_error)
                        return -EINVAL;
                where = where_set(c, k->section, k->key);
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
                where = where_set(c, "checks", "django");
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
        if (key_line_of(c, "watch", "packages") == 0 && !watched(c->watch_packages, c->package) &&
            (r = put_first(&c->watch_packages, c->package)) < 0)
                return r;
        if (!a)
                return 0;
        if ((r = strv_merge(&c->jobs, a->jobs)) < 0 || (r = strv_merge(&c->panels, a->panels)) < 0)
                return r;
        return 0;
}

int config_finalize(Config *c, char **ret_error)
{
        int r;

        if (!c->site_packages && c->server) {
                r = derive_site_packages(c->server, &c->site_packages);
                if (r == -ENOMEM)
                        return r;
                /* Not fatal: the version is then reported as unknown, with the reason. */
        }
        if (!c->state_directory) {
                /* systemd's StateDirectory= tells us where; else the FHS place. */
                const char *sd = getenv("STATE_DIRECTORY");
                _cleanup_free_ char *first = sd ? strndup(sd, strcspn(sd, ":")) : NULL;

                c->state_directory = strdup(!isempty(first) ? first : "/var/lib/nautobot-verifyd");
                if (!c->state_directory)
                        return -ENOMEM;
        }
        free(c->instance_state_directory);
        c->instance_state_directory = strjoin_printf("%s/%s", c->state_directory, c->instance);
        if (!c->instance_state_directory)
                return -ENOMEM;
        if (!c->static_root && c->root) {
                c->static_root = strjoin_printf("%s/static", c->root);
                if (!c->static_root)
                        return -ENOMEM;
        }
        if (!c->job_module && c->app_label) {
                c->job_module = strjoin_printf("%s.jobs", c->app_label);
                if (!c->job_module)
                        return -ENOMEM;
        }
        r = check_required_keys(c, ret_error);
        if (r < 0)
                return r;
        r = check_database_destination(c, ret_error);
        if (r < 0)
                return r;
        r = check_watched_names(c, ret_error);
        if (r < 0)
                return r;
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
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (c->enabled[i])
                        return 0;
        if (ret_error)
                *ret_error = strdup("[checks] enable= names no check");
        return -EINVAL;
}

/* One key of the table, from 'c' to 'n' (which holds nothing of it yet). */
static int copy_value(const Config *c, Config *n, const ConfigKey *k)
{
        const void *from = (const uint8_t *)c + k->offset;
        void *to = (uint8_t *)n + k->offset;

        if (k->parse == parse_checks)
                memcpy(n->enabled, c->enabled, sizeof(n->enabled));
        else if (parser_is_string(k->parse)) {
                const char *v = *(char *const *)from;

                if (v && !(*(char **)to = strdup(v)))
                        return -ENOMEM;
        } else if (key_is_list(k))
                return strv_copy(*(char **const *)from, (char ***)to);
        else if (k->parse == parse_seconds)
                *(uint64_t *)to = *(const uint64_t *)from;
        else if (k->parse == parse_bool || k->parse == parse_django)
                *(bool *)to = *(const bool *)from;
        else if (k->parse == parse_size)
                *(size_t *)to = *(const size_t *)from;
        else
                return -EOPNOTSUPP; /* a parser of a new kind: teach it here (test-config says) */
        return 0;
}

static int app_section_copy(const AppSection *a, AppSection *n)
{
        *n = (AppSection){.verify = a->verify, .line = a->line};
        if (!(n->package = strdup(a->package)) ||
            (a->app_label && !(n->app_label = strdup(a->app_label))) ||
            (a->job_module && !(n->job_module = strdup(a->job_module))) ||
            (a->job_grouping && !(n->job_grouping = strdup(a->job_grouping))) ||
            strv_copy(a->jobs, &n->jobs) < 0 || strv_copy(a->panels, &n->panels) < 0)
                return -ENOMEM;
        return 0;
}

int config_copy(const Config *c, Config **ret)
{
        _cleanup_(config_freep) Config *n = NULL;
        int r;

        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                r = copy_value(c, n, &config_table[i]);
                if (r < 0)
                        return r;
        }

        /* What is not in the table (config.h lists it). The profiles are not copied. */
        memcpy(n->key_line, c->key_line, sizeof(n->key_line));
        if ((c->source && !(n->source = strdup(c->source))) ||
            (c->instance_state_directory &&
             !(n->instance_state_directory = strdup(c->instance_state_directory))))
                return -ENOMEM;
        r = strv_copy(c->other_app_labels, &n->other_app_labels);
        if (r < 0)
                return r;
        n->secrets = c->secrets;
        if (c->dropped_note && !(n->dropped_note = strdup(c->dropped_note)))
                return -ENOMEM;
        if (c->n_app_sections > 0) {
                n->app_sections = calloc(c->n_app_sections, sizeof(AppSection));
                if (!n->app_sections)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_app_sections; i++) {
                n->n_app_sections++; /* freed with the rest, even half-copied */
                r = app_section_copy(&c->app_sections[i], &n->app_sections[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(n);
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

int config_set_instance(Config *c, const char *name, char **ret_error)
{
        size_t n = strlen(name);

        if (n == 0 || n > 64 || name[0] == '.' ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") !=
                    n) {
                if (ret_error)
                        *ret_error = strjoin_printf(
                                "'%s' is not an instance name (1-64 letters, digits, \"_\", \"-\" or \".\", not starting with \".\")",
                                name);
                return -EINVAL;
        }
        return free_and_strdup(&c->instance, name);
}

static void dump_value(const Config *c, const ConfigKey *k, FILE *f)
{
        const void *field = (const uint8_t *)c + k->offset;

        if (parser_is_string(k->parse))
                fprintf(f, "%s", strempty(*(char *const *)field));
        else if (k->parse == parse_seconds) {
                uint64_t u = *(const uint64_t *)field;

                if (u % USEC_PER_SEC == 0)
                        fprintf(f, "%" PRIu64 "s", u / USEC_PER_SEC);
                else
                        fprintf(f, "%" PRIu64 "ms", u / USEC_PER_MSEC);
        } else if (k->parse == parse_bool)
                fprintf(f, "%s", *(const bool *)field ? "yes" : "no");
        else if (k->parse == parse_django)
                fprintf(f, "%s", *(const bool *)field ? "probe" : "command");
        else if (k->parse == parse_size)
                fprintf(f, "%zu", *(const size_t *)field);
        else if (key_is_list(k)) {
                char *const *l = *(char **const *)field;

                for (size_t i = 0; l && l[i]; i++)
                        fprintf(f, "%s%s", i > 0 ? ", " : "", l[i]);
        } else if (k->parse == parse_checks) {
                bool first = true;

                for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                        if (c->enabled[i]) {
                                fprintf(f, "%s%s", first ? "" : ", ", check_id_to_string(i));
                                first = false;
                        }
        }
}

/* One key line per item past the first: short lines, and they append. */
static void dump_list(FILE *f, const char *key, char *const *l, const char *help)
{
        fprintf(f, "%s = %s ; %s\n", key, l && l[0] ? l[0] : "", help);
        for (size_t j = 1; l && l[j]; j++)
                fprintf(f, "%s = %s\n", key, l[j]);
}

static void dump_app_section(const AppSection *a, FILE *f)
{
        fprintf(f, "\n[app %s]\n", a->package);
        for (size_t i = 0; i < ELEMENTSOF(app_table); i++) {
                const AppKey *k = &app_table[i];
                const void *field = (const uint8_t *)a + k->offset;

                if (k->parse == parse_list)
                        dump_list(f, k->key, *(char **const *)field, k->help);
                else if (k->parse == parse_bool)
                        fprintf(f, "%s = %s ; %s\n", k->key, *(const bool *)field ? "yes" : "no",
                                k->help);
                else
                        fprintf(f, "%s = %s ; %s\n", k->key, strempty(*(char *const *)field),
                                k->help);
        }
}

int config_dump(const Config *c, FILE *f)
{
        const char *section = NULL;

        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                const ConfigKey *k = &config_table[i];

                if (!streq_ptr(section, k->section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
                        section = k->section;
                }
                if (k->parse == parse_list || k->parse == parse_expectations) {
                        dump_list(f, k->key, *(char **const *)((const uint8_t *)c + k->offset),
                                  k->help);
                        continue;
                }
                fprintf(f, "%s = ", k->key);
                dump_value(c, k, f);
                fprintf(f, " ; %s\n", k->help);
        }
        for (size_t i = 0; i < c->n_app_sections; i++)
                dump_app_section(&c->app_sections[i], f);
        if (config_all_apps(c))
                fprintf(f,
                        "; [package] name= is not set: every app the server loads is verified, as its [app NAME] section says\n");
        for (size_t i = 0; i < c->n_profiles; i++)
                fprintf(f, "; profile of %s: %s\n", c->profiles[i]->package, c->profiles[i]->path);
        fflush(f);
        return ferror(f) ? -EIO : 0;
}

int config_read_secret(const char *path, const char *credential, char **ret, char **ret_source,
                       char **ret_error)
{
        _cleanup_free_ char *cpath = NULL, *data = NULL;
        const char *dir = getenv("CREDENTIALS_DIRECTORY"), *source = NULL;
        size_t len, read_len;
        int r;

        if (!isempty(dir) && !isempty(credential) && !strchr(credential, '/')) {
                cpath = strjoin_printf("%s/%s", dir, credential);
                if (!cpath)
                        return -ENOMEM;
                if (access(cpath, F_OK) == 0)
                        source = cpath;
        }
        if (!source)
                source = path;
        if (!source)
                return -ENOKEY;
        if (ret_source) {
                *ret_source = strdup(source);
                if (!*ret_source)
                        return -ENOMEM;
        }

        /* As root: never through a link or a directory another account can write (chase.h). */
        r = read_file_trusted(source, SECRET_MAX, &data, &len, ret_error);
        if (r < 0)
                return r;
        read_len = len;
        if (len > 0 && data[len - 1] == '\n')
                data[--len] = 0;
        if (len > 0 && data[len - 1] == '\r')
                data[--len] = 0;
        if (len == 0)
                r = -ENODATA;
        for (size_t i = 0; r >= 0 && i < len; i++)
                if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f)
                        r = -EBADMSG;
        if (r < 0) {
                /* A refused secret is still a secret: wiped, every byte (a NUL may be in it). */
                explicit_bzero(data, read_len);
                return r;
        }
        *ret = TAKE_PTR(data);
        return 0;
}

static void secret_where(const Config *c, SecretId id, const char **ret_path,
                         const char **ret_credential)
{
        switch (id) {
        case SECRET_WEB_PASSWORD:
                *ret_path = c->password_file;
                *ret_credential = c->password_credential;
                return;
        case SECRET_API_TOKEN:
                *ret_path = c->token_file;
                *ret_credential = c->token_credential;
                return;
        default:
                *ret_path = c->db_password_file;
                *ret_credential = NULL;
                return;
        }
}

SecretSet *secret_set_free(SecretSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < _SECRET_MAX; i++) {
                erase_and_freep(&s->secret[i].value);
                free(s->secret[i].source);
                free(s->secret[i].error);
        }
        free(s);
        return NULL;
}

int secret_set_read(const Config *c, SecretSet **ret)
{
        _cleanup_(secret_set_freep) SecretSet *s = calloc(1, sizeof(SecretSet));

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < _SECRET_MAX; i++) {
                Secret *x = &s->secret[i];
                const char *path, *credential;

                secret_where(c, (SecretId)i, &path, &credential);
                x->r = config_read_secret(path, credential, &x->value, &x->source, &x->error);
                if (x->r == -ENOMEM)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int config_secret(const Config *c, SecretId id, char **ret, char **ret_source, char **ret_error)
{
        const Secret *x;
        const char *path, *credential;

        if (!c->secrets) {
                secret_where(c, id, &path, &credential);
                return config_read_secret(path, credential, ret, ret_source, ret_error);
        }
        x = &c->secrets->secret[id];
        if ((ret_source && x->source && !(*ret_source = strdup(x->source))) ||
            (ret_error && x->error && !(*ret_error = strdup(x->error))))
                return -ENOMEM;
        if (x->r < 0)
                return x->r;
        *ret = strdup(x->value);
        return *ret ? 0 : -ENOMEM;
}
