/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * App profiles (see profile.h), parsed by one table of known keys per kind of
 * section, as the configuration is. inih does the INI syntax; it tells the
 * handler nothing about section headers, so the line reader below notices
 * them (to validate the section that ends, refuse unknown or repeated ones,
 * and say which line a missing key belongs to) and marks the indented lines
 * that continue a value (joined with a space; a key set twice is an error).
 */
#include <ctype.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>

#include "metadata.h"
#include "ini-line.h"
#include "chase.h"
#include "profile.h"

typedef enum SectionKind {
        SECTION_NONE,
        SECTION_APP,
        SECTION_JOBS,
        SECTION_FINDING,
        SECTION_ROLLBACK,
} SectionKind;

typedef int (*ProfileCheck)(const char *value, char **ret_error);

typedef struct ProfileKey {
        SectionKind kind;
        const char *key;
        ProfileCheck check; /* of the whole value, after each of its lines */
        size_t offset;      /* in Profile, ProfileFinding or ProfileRollback, by kind */
        bool required;
} ProfileKey;

static bool name_chars(const char *s, const char *extra, size_t max)
{
        if (isempty(s) || strlen(s) > max)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
                        return false;
        return true;
}

static int check_package(const char *v, char **ret_error)
{
        size_t l = strlen(v);

        if (!name_chars(v, "._-", 100) || !isalnum((unsigned char)v[0]) ||
            !isalnum((unsigned char)v[l - 1])) {
                *ret_error = strjoin_printf("'%s' is not a Python package name", v);
                return -EINVAL;
        }
        return 0;
}

static int check_label(const char *v, char **ret_error)
{
        if (!name_chars(v, "_", 100) || isdigit((unsigned char)v[0])) {
                *ret_error =
                        strjoin_printf("'%s' is not a Django app label (letters, digits, _)", v);
                return -EINVAL;
        }
        return 0;
}

static int check_migration(const char *v, char **ret_error)
{
        if (!name_chars(v, "_", 100)) {
                *ret_error = strjoin_printf(
                        "'%s' is not a migration name (letters, digits, _), like 0001_initial", v);
                return -EINVAL;
        }
        return 0;
}

static int check_text(const char *v, char **ret_error)
{
        if (strlen(v) > PROFILE_TEXT_MAX) {
                *ret_error = strjoin_printf("longer than %d characters", PROFILE_TEXT_MAX);
                return -E2BIG;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                        *ret_error = strdup("contains a control character");
                        return -EINVAL;
                }
        return 0;
}

/*
 * Finds the placeholder "{N}" at p: returns its length and N, or 0 when p is
 * not one (a '{' that is just text). N may be out of range: the caller says so.
 */
static size_t placeholder(const char *p, unsigned *ret_n)
{
        size_t i = 1;
        unsigned n = 0;

        if (p[0] != '{' || !isdigit((unsigned char)p[1]))
                return 0;
        for (; isdigit((unsigned char)p[i]); i++)
                n = n > 1000 ? n : n * 10 + (unsigned)(p[i] - '0');
        if (p[i] != '}')
                return 0;
        *ret_n = n;
        return i + 1;
}

static int check_message(const char *v, char **ret_error)
{
        int r = check_text(v, ret_error);

        if (r < 0)
                return r;
        for (const char *p = v; *p; p++) {
                unsigned n;
                size_t l = placeholder(p, &n);

                if (l > 0 && (n < 1 || n > PROFILE_COLUMNS_MAX)) {
                        *ret_error = strjoin_printf(
                                "%.*s is not a placeholder: {1} to {%d} stand for the query's columns after the first",
                                (int)l, p, PROFILE_COLUMNS_MAX);
                        return -EINVAL;
                }
        }
        return 0;
}

static int check_query(const char *v, char **ret_error)
{
        const char *rest = NULL;

        if (strlen(v) > PROFILE_QUERY_MAX) {
                *ret_error = strjoin_printf("longer than %d characters", PROFILE_QUERY_MAX);
                return -E2BIG;
        }
        if (strncasecmp(v, "SELECT", 6) == 0)
                rest = v + 6;
        else if (strncasecmp(v, "WITH", 4) == 0)
                rest = v + 4;
        if (!rest || (*rest && !isspace((unsigned char)*rest) && *rest != '(') || strchr(v, ';')) {
                *ret_error = strdup(
                        "must be one SELECT statement (or WITH ... SELECT), without ';'; it runs in a read-only transaction");
                return -EINVAL;
        }
        return 0;
}

#define P(x) offsetof(Profile, x)
#define F(x) offsetof(ProfileFinding, x)
#define R(x) offsetof(ProfileRollback, x)
static const ProfileKey profile_table[] = {
        {SECTION_APP, "package", check_package, P(package), true},
        {SECTION_APP, "label", check_label, P(label), true},
        {SECTION_JOBS, "when-disabled", check_text, P(jobs_disabled), false},
        {SECTION_JOBS, "grouping", check_text, P(jobs_grouping), false},
        {SECTION_FINDING, "after", check_migration, F(after), false},
        {SECTION_FINDING, "query", check_query, F(query), true},
        {SECTION_FINDING, "message", check_message, F(message), true},
        {SECTION_ROLLBACK, "below", check_migration, R(below), true},
        {SECTION_ROLLBACK, "drops", check_text, R(drops), true},
};
#define KEYS_MAX 32
_Static_assert(ELEMENTSOF(profile_table) <= KEYS_MAX, "profile_table outgrew keys_set");

typedef struct ParseState {
        Profile *profile;
        const char *path;
        const char *package; /* what package= must say, or NULL */
        const char *next;    /* of the text, what the reader has not returned yet */
        unsigned line;       /* of what the reader returned last */
        bool indented;       /* ... and it began with white space */
        SectionKind kind;
        char *section; /* the current section's name, as written */
        unsigned section_line;
        unsigned app_line, jobs_line; /* where [app] and [jobs] began, 0: not yet */
        uint32_t keys_set;            /* bits of profile_table set in the current section */
        char *error;                  /* the first error, without path:line */
        unsigned error_line;
        int r;
} ParseState;

/* Keeps the first error, at 'line' (0: the line read last); NULL error: out of memory. */
static void fail_at(ParseState *s, unsigned line, int r, char *error /* takes */)
{
        if (s->error || s->r < 0) {
                free(error);
                return;
        }
        s->error = error;
        s->error_line = line ?: s->line;
        s->r = error ? r : -ENOMEM;
}

static void fail(ParseState *s, int r, char *error /* takes */)
{
        fail_at(s, 0, r, error);
}

/* Where the current section's values go. */
static void *section_target(ParseState *s)
{
        Profile *p = s->profile;

        if (s->kind == SECTION_FINDING)
                return &p->findings[p->n_findings - 1];
        if (s->kind == SECTION_ROLLBACK)
                return &p->rollbacks[p->n_rollbacks - 1];
        return p;
}

/* The section that ends has every required key. */
static void section_end(ParseState *s)
{
        if (s->r < 0)
                return;
        for (size_t i = 0; s->kind != SECTION_NONE && i < ELEMENTSOF(profile_table); i++)
                if (profile_table[i].kind == s->kind && profile_table[i].required &&
                    !(s->keys_set & (UINT32_C(1) << i))) {
                        fail_at(s, s->section_line, -EINVAL,
                                strjoin_printf("[%s] has no %s=", s->section,
                                               profile_table[i].key));
                        return;
                }
        if (s->kind == SECTION_FINDING) {
                ProfileFinding *f = section_target(s);

                for (const char *p = f->message; *p; p++) {
                        unsigned n;

                        if (placeholder(p, &n) > 0 && n > f->columns)
                                f->columns = n;
                }
        }
}

/* "finding NAME" → NAME, or NULL when the section is not of that kind. */
static const char *named(const char *section, const char *kind)
{
        const char *name = startswith(section, kind);

        if (!name || (*name && *name != ' '))
                return NULL;
        while (*name == ' ')
                name++;
        return name;
}

static void section_begin(ParseState *s, const char *section)
{
        Profile *p = s->profile;
        const char *name = NULL;
        unsigned *seen = NULL;
        SectionKind kind;

        section_end(s);
        if (s->r < 0)
                return;
        /* Until it has begun well, keys have nowhere to go (an error stops the reader anyway). */
        s->kind = SECTION_NONE;
        if (free_and_strdup(&s->section, section) < 0)
                return fail(s, -ENOMEM, NULL);
        s->section_line = s->line;
        s->keys_set = 0;
        if (streq(section, "app")) {
                kind = SECTION_APP;
                seen = &s->app_line;
        } else if (streq(section, "jobs")) {
                kind = SECTION_JOBS;
                seen = &s->jobs_line;
        } else if ((name = named(section, "finding")))
                kind = SECTION_FINDING;
        else if ((name = named(section, "rollback")))
                kind = SECTION_ROLLBACK;
        else
                return fail(
                        s, -EINVAL,
                        strjoin_printf(
                                "unknown section [%s] (known: [app], [jobs], [finding NAME], [rollback NAME])",
                                section));
        if (seen) {
                if (*seen > 0)
                        return fail(s, -EINVAL,
                                    strjoin_printf("[%s] appears twice (first on line %u)", section,
                                                   *seen));
                *seen = s->line;
                s->kind = kind;
                return;
        }

        if (!name_chars(name, "._-", PROFILE_NAME_MAX))
                return fail(
                        s, -EINVAL,
                        strjoin_printf(
                                "[%s] needs a name of at most %d letters, digits, '.', '_' or '-': [%s NAME]",
                                section, PROFILE_NAME_MAX,
                                kind == SECTION_FINDING ? "finding" : "rollback"));
        if (kind == SECTION_FINDING) {
                for (size_t i = 0; i < p->n_findings; i++)
                        if (streq(p->findings[i].name, name))
                                return fail(s, -EINVAL,
                                            strjoin_printf("[%s] appears twice (first on line %u)",
                                                           section, p->findings[i].line));
                if (p->n_findings >= PROFILE_FINDINGS_MAX)
                        return fail(s, -E2BIG,
                                    strjoin_printf("more than %d [finding] sections",
                                                   PROFILE_FINDINGS_MAX));
                p->findings[p->n_findings] = (ProfileFinding){.line = s->line};
                if (!(p->findings[p->n_findings++].name = strdup(name)))
                        return fail(s, -ENOMEM, NULL);
        } else {
                for (size_t i = 0; i < p->n_rollbacks; i++)
                        if (streq(p->rollbacks[i].name, name))
                                return fail(s, -EINVAL,
                                            strjoin_printf("[%s] appears twice (first on line %u)",
                                                           section, p->rollbacks[i].line));
                if (p->n_rollbacks >= PROFILE_ROLLBACKS_MAX)
                        return fail(s, -E2BIG,
                                    strjoin_printf("more than %d [rollback] sections",
                                                   PROFILE_ROLLBACKS_MAX));
                p->rollbacks[p->n_rollbacks] = (ProfileRollback){.line = s->line};
                if (!(p->rollbacks[p->n_rollbacks++].name = strdup(name)))
                        return fail(s, -ENOMEM, NULL);
        }
        s->kind = kind;
}

/*
 * inih's reader: one line of the text at a time, watched on its way. A line
 * longer than inih's buffer would come back cut in two: refused instead.
 */
static char *read_line(char *str, int num, void *userdata)
{
        ParseState *s = userdata;
        const char *nl;
        size_t len;

        if (s->r < 0 || !*s->next)
                return NULL;
        nl = strchr(s->next, '\n');
        len = nl ? (size_t)(nl - s->next) + 1 : strlen(s->next);
        s->line++;
        if (len >= (size_t)num) {
                fail(s, -E2BIG,
                     strjoin_printf(
                             "line longer than %d characters: continue a long value on indented lines",
                             num - 2));
                return NULL;
        }
        memcpy(str, s->next, len);
        str[len] = 0;
        s->next += len;

        {
                _cleanup_free_ char *section = NULL;
                int q = ini_line_header(str, s->line, s->keys_set, &s->indented, &section);

                if (q < 0)
                        fail(s, q, NULL);
                else if (q > 0)
                        section_begin(s, section);
                if (s->r < 0)
                        return NULL;
        }
        return str;
}

static int handler(void *userdata, const char *section, const char *key, const char *value)
{
        ParseState *s = userdata;
        _cleanup_free_ char *error = NULL;
        const ProfileKey *k = NULL;
        size_t index = 0;
        char **field;
        int r;

        if (!key || s->r < 0) /* a bare section header; or keep the first error */
                return 1;
        if (s->kind == SECTION_NONE) {
                fail(s, -EINVAL, strjoin_printf("%s= before any [section]", key));
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(profile_table); i++)
                if (profile_table[i].kind == s->kind && streq(profile_table[i].key, key)) {
                        k = &profile_table[i];
                        index = i;
                }
        if (!k) {
                fail(s, -EINVAL,
                     strjoin_printf("unknown key '%s' in section [%s]", key, s->section));
                return 0;
        }
        field = (char **)((uint8_t *)section_target(s) + k->offset);
        if (s->indented && (s->keys_set & (UINT32_C(1) << index))) {
                /* inih passes a continuation line with the previous key */
                char *joined = strjoin_printf("%s %s", strempty(*field), value);

                if (!joined) {
                        fail(s, -ENOMEM, NULL);
                        return 0;
                }
                free(*field);
                *field = joined;
        } else if (s->keys_set & (UINT32_C(1) << index)) {
                fail(s, -EINVAL, strjoin_printf("[%s] %s= is set twice", s->section, key));
                return 0;
        } else if (isempty(value)) {
                fail(s, -EINVAL, strjoin_printf("[%s] %s= is empty", s->section, key));
                return 0;
        } else if (free_and_strdup(field, value) < 0) {
                fail(s, -ENOMEM, NULL);
                return 0;
        }
        s->keys_set |= UINT32_C(1) << index;
        if (k->kind == SECTION_APP && streq(key, "label"))
                s->profile->label_line = s->line;

        r = k->check(*field, &error);
        if (r < 0) {
                fail(s, r, strjoin_printf("[%s] %s=: %s", s->section, key, error ?: strerror(-r)));
                return 0;
        }
        if (k->kind == SECTION_APP && streq(key, "package") && s->package) {
                _cleanup_free_ char *a = python_name_normalize(*field),
                                    *b = python_name_normalize(s->package);

                if (!a || !b) {
                        fail(s, -ENOMEM, NULL);
                        return 0;
                }
                if (!streq(a, b)) {
                        fail(s, -EINVAL,
                             strjoin_printf(
                                     "[app] package= is '%s', but this file is the profile of '%s' (its name)",
                                     *field, s->package));
                        return 0;
                }
        }
        return 1;
}

static void finding_done(ProfileFinding *f)
{
        free(f->name);
        free(f->after);
        free(f->query);
        free(f->message);
}

Profile *profile_free(Profile *p)
{
        if (!p)
                return NULL;
        free(p->path);
        free(p->package);
        free(p->label);
        free(p->jobs_disabled);
        free(p->jobs_grouping);
        for (size_t i = 0; i < p->n_findings; i++)
                finding_done(&p->findings[i]);
        for (size_t i = 0; i < p->n_rollbacks; i++) {
                free(p->rollbacks[i].name);
                free(p->rollbacks[i].below);
                free(p->rollbacks[i].drops);
        }
        free(p);
        return NULL;
}

int profile_parse(const char *text, const char *path, const char *package, Profile **ret,
                  char **ret_error)
{
        _cleanup_(profile_freep) Profile *p = NULL;
        ParseState s = {.path = path, .package = package, .next = text};
        int line, r = 0;

        p = calloc(1, sizeof(*p));
        if (!p || !(p->path = strdup(path)))
                return -ENOMEM;
        s.profile = p;
        line = ini_parse_stream(read_line, &s, handler, &s);
        if (line < 0)
                fail(&s, -ENOMEM, NULL);
        else if (line > 0 && (!s.error || (unsigned)line < s.error_line)) {
                /* inih goes on after a syntax error: when one came first, it is the error */
                s.error = mfree(s.error);
                s.r = 0;
                fail_at(&s, (unsigned)line, -EBADMSG,
                        strdup("syntax error (expected [section], key = value, or an indented line continuing a value)"));
        } else if (line == 0) {
                section_end(&s);
                if (s.app_line == 0 && !s.error)
                        r = -EINVAL; /* of the whole file: no line to name */
        }
        free(s.section);
        if (s.r < 0 || r < 0) {
                _cleanup_free_ char *error = s.error;

                if (s.r == -ENOMEM)
                        return -ENOMEM;
                if (ret_error) {
                        *ret_error =
                                error ? strjoin_printf("%s:%u: %s", path, s.error_line, error)
                                      : strjoin_printf("%s: no [app] section (package=, label=)",
                                                       path);
                        if (!*ret_error)
                                return -ENOMEM;
                }
                return s.r < 0 ? s.r : r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int profile_load(const char *path, const char *package, Profile **ret, char **ret_error)
{
        _cleanup_free_ char *text = NULL, *why = NULL;
        size_t len;
        int r;

        /* As root, through directories only root can write (chase.h): a profile's SQL runs. */
        r = read_file_trusted(path, PROFILE_SIZE_MAX, &text, &len, &why);
        if (r < 0) {
                if (ret_error)
                        *ret_error = why           ? strjoin_printf("%s: refused: %s", path, why)
                                     : r == -EFBIG ? strjoin_printf("%s: larger than %d bytes",
                                                                    path, PROFILE_SIZE_MAX)
                                                   : strjoin_printf("%s: cannot read: %s", path,
                                                                    read_file_error_to_string(r));
                return r;
        }
        if (strlen(text) != len) {
                if (ret_error)
                        *ret_error = strjoin_printf("%s: contains a NUL byte", path);
                return -EBADMSG;
        }
        return profile_parse(text, path, package, ret, ret_error);
}

int profile_find(char *const *dirs, const char *package, Profile **ret, char **ret_error)
{
        _cleanup_free_ char *name = python_name_normalize(package);

        if (!name)
                return -ENOMEM;
        /* A name that cannot be a file name in the directory has no profile. */
        if (!name_chars(name, "-", 200)) {
                *ret = NULL;
                return 0;
        }
        STRV_FOREACH (d, (char **)dirs) {
                _cleanup_free_ char *path = strjoin_printf("%s/%s.conf", *d, name);
                char *error = NULL;
                int r;

                if (!path)
                        return -ENOMEM;
                r = profile_load(path, package, ret, &error);
                if (r == -ENOENT) {
                        free(error);
                        continue;
                }
                if (r < 0 && ret_error)
                        *ret_error = error;
                else
                        free(error);
                return r;
        }
        *ret = NULL;
        return 0;
}

char *profile_finding_format(const ProfileFinding *f, char *const *values, size_t n_values)
{
        Buf b;

        buf_init(&b, PROFILE_TEXT_MAX + PROFILE_COLUMNS_MAX * PROFILE_VALUE_MAX);
        for (const char *p = f->message; *p;) {
                unsigned n = 0;
                size_t l = placeholder(p, &n);

                if (l > 0 && n >= 1 && n <= PROFILE_COLUMNS_MAX) {
                        const char *v = n <= n_values ? strempty(values[n - 1]) : "";
                        size_t vl = strlen(v);

                        if (vl > PROFILE_VALUE_MAX) /* cut, not inside a UTF-8 sequence */
                                for (vl = PROFILE_VALUE_MAX;
                                     vl > 0 && ((unsigned char)v[vl] & 0xc0) == 0x80; vl--)
                                        ;
                        if (buf_append(&b, v, vl) < 0)
                                goto oom;
                        p += l;
                } else {
                        if (buf_append(&b, p, 1) < 0)
                                goto oom;
                        p++;
                }
        }
        if (buf_append(&b, "", 0) < 0) /* an empty message is still a string */
                goto oom;
        return b.data;
oom:
        buf_done(&b);
        return NULL;
}

int profile_rollback_text(const Profile *p, char **ret)
{
        Buf b;

        if (!p || p->n_rollbacks == 0) {
                *ret = NULL;
                return 0;
        }
        buf_init(&b, PROFILE_ROLLBACKS_MAX * (PROFILE_TEXT_MAX + 128));
        for (size_t i = 0; i < p->n_rollbacks; i++)
                if (buf_printf(&b, "%sgoing below %s drops %s", i > 0 ? "; " : "",
                               p->rollbacks[i].below, p->rollbacks[i].drops) < 0) {
                        buf_done(&b);
                        return -ENOMEM;
                }
        *ret = b.data;
        return 0;
}
