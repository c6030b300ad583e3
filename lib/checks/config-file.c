/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a configuration file into a Config: inih does the INI syntax
 * (sections, comments, continuation lines), this file counts the lines, keeps
 * the first error with its file:line, opens the file the way root must
 * (chase.h) and hands each key to its parser in config.c's table. And
 * config_load(), the one path from a file name to a finalized configuration
 * that both programs take.
 */
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>

#include "chase.h"
#include "config-internal.h"
#include "ini-line.h"

/* Keys people reach for that would put a secret into the file. */
static const char *const refused_secret_keys[] = {"password", "token", "api-token", "secret"};

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
        s->app = config_app_section_find(c, name);
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
        for (size_t i = 0; i < app_table_size; i++) {
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

        for (size_t i = 0; i < config_table_size; i++) {
                const ConfigKey *k = &config_table[i];

                if (!streq(k->section, section) || !streq(k->key, key))
                        continue;
                /* A list named in the file replaces the default; further lines append. */
                if (config_key_is_list(k) && !s->assigned[i])
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

        for (size_t i = 0; i < config_table_size; i++)
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

int config_parse_file(Config *c, const char *path, char **ret_error)
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
        for (size_t i = 0; i < config_table_size; i++)
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

char *config_default_path(const char *instance)
{
        if (!instance)
                return strdup(CONFIG_DEFAULT_PATH);
        return strjoin_printf("%s/%s/%s", CONFIG_DIR, instance, CONFIG_FILE_NAME);
}

/* config_load()'s steps on a new configuration; the reason in *error. */
static int load_into(Config *c, const char *path, const char *instance, ConfigLoadFlags flags,
                     char **error)
{
        int r;

        r = config_parse_file(c, path, error);
        if (r == -ENOENT && (flags & CONFIG_LOAD_MISSING_OK))
                *error = mfree(*error);
        else if (r < 0)
                return r;
        if (instance) {
                r = config_set_instance(c, instance, error);
                if (r < 0)
                        return r;
        }
        r = config_finalize(c, error);
        if (r < 0 && r != -ENOMEM && (flags & CONFIG_LOAD_REFUSED_OK))
                return 1;
        return r;
}

int config_load(const char *path, const char *instance, ConfigLoadFlags flags, Config **ret,
                char **ret_error)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *default_path = NULL, *error = NULL;
        int r;

        if (!path) {
                path = default_path = config_default_path(instance);
                if (!path)
                        return -ENOMEM;
        }
        r = config_new(&c);
        if (r < 0)
                return r;
        r = load_into(c, path, instance, flags, &error);
        if (ret_error)
                *ret_error = TAKE_PTR(error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return r;
}
