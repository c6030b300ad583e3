/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing nautobot-server's output. Django's wording is matched only where it
 * is stable across 4.x and 5.x; everything else is kept as raw evidence.
 */
#include <ctype.h>

#include "parse-output.h"

#define ISSUES_MAX 64

void system_check_report_done(SystemCheckReport *r)
{
        r->issues = strv_free(r->issues);
        free(r->exception);
        r->exception = NULL;
}

void migrations_report_done(MigrationsReport *r)
{
        r->changes = strv_free(r->changes);
        free(r->exception);
        r->exception = NULL;
}

/* Calls f for each line (without its newline); stops when f returns < 0. */
static int for_each_line(const char *text, int (*f)(const char *line, size_t n, void *u), void *u)
{
        const char *p = text;

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                int r = f(p, (size_t)(eol - p), u);

                if (r < 0)
                        return r;
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

char *python_exception_line(const char *text)
{
        const char *tb, *p, *last = NULL;
        size_t last_n = 0;

        if (!text || !(tb = strstr(text, "Traceback (most recent call last):")))
                return NULL;
        /* The exception is the last line that does not start with white space. */
        for (p = tb; *p;) {
                const char *eol = strchrnul(p, '\n');

                if (eol > p && !isspace((unsigned char)*p)) {
                        last = p;
                        last_n = (size_t)(eol - p);
                }
                p = *eol ? eol + 1 : eol;
        }
        if (!last || startswith(last, "Traceback ("))
                return NULL;
        return strndup(last, last_n);
}

typedef struct IssueScan {
        bool in_section;
        char ***issues;
} IssueScan;

static int scan_issue_line(const char *line, size_t n, void *u)
{
        IssueScan *s = u;

        if (n == 0)
                return 0;
        if ((n == 7 && strncmp(line, "ERRORS:", 7) == 0) ||
            (n == 9 && strncmp(line, "WARNINGS:", 9) == 0)) {
                s->in_section = true;
                return 0;
        }
        if (strncmp(line, "System check identified", 23) == 0) {
                s->in_section = false;
                return 0;
        }
        if (!s->in_section || isspace((unsigned char)line[0]))
                return 0; /* HINT: lines are indented */
        if (strv_length(*s->issues) >= ISSUES_MAX)
                return 0;
        return strv_push(s->issues, strndup(line, n));
}

int system_check_parse(int exit_status, const char *out, const char *err, SystemCheckReport *ret)
{
        _cleanup_strv_free_ char **issues = NULL;
        IssueScan scan = {.issues = &issues};
        SystemCheckVerdict v;
        char *exc = NULL;
        int r;

        out = strempty(out);
        err = strempty(err);
        r = for_each_line(out, scan_issue_line, &scan);
        if (r >= 0) {
                scan.in_section = false;
                r = for_each_line(err, scan_issue_line, &scan);
        }
        if (r < 0)
                return r;

        if (exit_status == 0 && strstr(out, "System check identified no issues"))
                v = SYSTEM_CHECK_CLEAN;
        else if (exit_status == 0 && strstr(out, "System check identified"))
                v = SYSTEM_CHECK_WARNINGS;
        else if (exit_status != 0 && strstr(err, "SystemCheckError"))
                v = SYSTEM_CHECK_ERRORS;
        else if (exit_status != 0 && (exc = python_exception_line(err)))
                v = SYSTEM_CHECK_CRASHED;
        else
                v = SYSTEM_CHECK_UNEXPECTED;

        *ret = (SystemCheckReport){.verdict = v, .issues = TAKE_PTR(issues), .exception = exc};
        return 0;
}

typedef struct ChangeScan {
        bool in_block;
        const char *file; /* basename of the current migration file */
        size_t file_n;
        char ***changes;
} ChangeScan;

static int scan_change_line(const char *line, size_t n, void *u)
{
        ChangeScan *s = u;
        size_t indent = 0;

        if (n >= 15 && strncmp(line, "Migrations for ", 15) == 0) {
                s->in_block = true;
                s->file = NULL;
                return 0;
        }
        if (!s->in_block || n == 0)
                return 0;
        while (indent < n && line[indent] == ' ')
                indent++;
        if (indent == 0) {
                s->in_block = false;
                return 0;
        }
        if (indent <= 2 && n >= 3 && strncmp(line + n - 3, ".py", 3) == 0) {
                const char *slash = memrchr(line, '/', n);

                s->file = slash ? slash + 1 : line + indent;
                s->file_n = (size_t)(line + n - s->file);
                return 0;
        }
        if (indent > 2 && strv_length(*s->changes) < ISSUES_MAX)
                return strv_push(s->changes,
                                 s->file ? strjoin_printf("%.*s: %.*s", (int)s->file_n, s->file,
                                                          (int)(n - indent), line + indent)
                                         : strndup(line + indent, n - indent));
        return 0;
}

int migrations_parse(int exit_status, const char *label, const char *out, const char *err,
                     MigrationsReport *ret)
{
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_free_ char *no_app = NULL;
        ChangeScan scan = {.changes = &changes};
        MigrationsVerdict v;
        char *exc = NULL;
        int r;

        out = strempty(out);
        err = strempty(err);
        no_app = strjoin_printf("No installed app with label '%s'", label);
        if (!no_app)
                return -ENOMEM;
        r = for_each_line(out, scan_change_line, &scan);
        if (r < 0)
                return r;

        if (exit_status == 0 && strstr(out, "No changes detected"))
                v = MIGRATIONS_NO_CHANGES;
        else if (exit_status == 1 && strstr(out, "Migrations for "))
                v = MIGRATIONS_CHANGES;
        else if (exit_status == 2 && (strstr(err, no_app) || strstr(out, no_app)))
                v = MIGRATIONS_APP_NOT_LOADED;
        else if (exit_status != 0 && (exc = python_exception_line(err)))
                v = MIGRATIONS_CRASHED;
        else
                v = MIGRATIONS_UNEXPECTED;

        *ret = (MigrationsReport){.verdict = v, .changes = TAKE_PTR(changes), .exception = exc};
        return 0;
}
