/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration's keys, as one table: for each [section] key= its parser
 * (what a value must look like, with the reason when it does not), where it is
 * stored, its line of help. This file owns the table and everything that walks
 * it key by key: the defaults (config_new()), config_free(), config_copy(),
 * the effective-configuration dump and the instance name. inih and the file's
 * lines are config-file.c's; what is derived and refused once the file is read,
 * config-finalize.c's.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "config-internal.h"
#include "instance-name.h"
#include "version.h"

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
const ConfigKey config_table[] = {
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
const size_t config_table_size = ELEMENTSOF(config_table);

_Static_assert(ELEMENTSOF(config_table) <= CONFIG_KEYS_MAX, "Config.key_line is too small");

#define CONFIG_SIZE_LP64 680

/*
 * config_copy() copies the keys of the table and, by name, the pointers outside it (config.h
 * lists them). A new field changes the size: look at config_copy() and config_free(), then
 * here. (LP64 only: the ABIs of the 64-bit Linux ports lay the struct out alike.)
 */
_Static_assert(sizeof(void *) != 8 || sizeof(Config) == CONFIG_SIZE_LP64,
               "Config changed: copy the new field in config_copy(), free it in config_free()");

#define A(x) offsetof(AppSection, x)
const AppKey app_table[] = {
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
const size_t app_table_size = ELEMENTSOF(app_table);

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

bool config_key_is_list(const ConfigKey *k)
{
        return key_is_list(k);
}

const ConfigKey *config_key_find(const char *section, const char *key, size_t *ret_index)
{
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (streq(config_table[i].section, section) && streq(config_table[i].key, key)) {
                        if (ret_index)
                                *ret_index = i;
                        return &config_table[i];
                }
        return NULL;
}

unsigned config_key_line(const Config *c, const char *section, const char *key)
{
        size_t i;

        return config_key_find(section, key, &i) ? c->key_line[i] : 0;
}

char *config_where_set(const Config *c, const char *section, const char *key)
{
        unsigned line = config_key_line(c, section, key);

        if (c->source && line > 0)
                return strjoin_printf("%s:%u: ", c->source, line);
        return strdup("");
}

bool config_key_is_empty(const Config *c, const ConfigKey *k)
{
        const void *field = (const uint8_t *)c + k->offset;

        if (key_is_list(k))
                return strv_length(*(char **const *)field) == 0;
        if (k->parse == parse_string || k->parse == parse_path || k->parse == parse_url ||
            k->parse == parse_distribution || k->parse == parse_app_label)
                return isempty(*(char *const *)field);
        return false;
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

int config_set_instance(Config *c, const char *name, char **ret_error)
{
        if (!instance_name_valid(name)) {
                if (ret_error)
                        *ret_error = strjoin_printf(
                                "'%s' is not an instance name (" INSTANCE_NAME_RULE ")", name);
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
