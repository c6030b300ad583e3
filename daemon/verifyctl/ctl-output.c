/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl's output helpers: colour only on a terminal and never
 * with NO_COLOR, lines cut to the terminal's width, JSON documents of one
 * schema with valid UTF-8 whatever the journal held, and times. See ctl.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "ctl.h"
#include "utf8.h"

#define RESULT_WORD_MAX 16

static const char *const color_table[] = {
        [COLOR_NONE] = "",          [COLOR_BOLD] = "\033[1m",    [COLOR_RED] = "\033[1;31m",
        [COLOR_GREEN] = "\033[32m", [COLOR_YELLOW] = "\033[33m", [COLOR_GREY] = "\033[2m",
};

const char *ctl_color_on(const CtlOptions *o, CtlColor c)
{
        return o->color ? color_table[c] : "";
}

const char *ctl_color_off(const CtlOptions *o, CtlColor c)
{
        return o->color && c != COLOR_NONE ? "\033[0m" : "";
}

CtlColor ctl_result_color(const char *result)
{
        if (!result)
                return COLOR_YELLOW;
        if (streq(result, "pass"))
                return COLOR_GREEN;
        if (streq(result, "fail"))
                return COLOR_RED;
        if (streq(result, "skipped"))
                return COLOR_GREY;
        return COLOR_YELLOW; /* error, incomplete, unfinished, unknown */
}

/* A word of letters, digits, '-' and '_': nothing a terminal acts on, and one column wide each. */
static bool is_plain_word(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= RESULT_WORD_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

const char *ctl_result_word(const char *result)
{
        if (!result)
                return "unknown";
        if (streq(result, "fail"))
                return "FAIL";
        /* It sits in a coloured column unescaped: a word of a later daemon is shown, anything
         * else is not a result ("--json" has it as it was). */
        return is_plain_word(result) ? result : "invalid";
}

void ctl_detect_terminal(CtlOptions *o)
{
        const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM"),
                   *columns = getenv("COLUMNS");
        struct winsize ws = {};
        unsigned long n;
        char *end;

        o->color = false;
        o->columns = 0;
        if (!isatty(STDOUT_FILENO))
                return;
        /* https://no-color.org: set and not empty means no colour. */
        o->color = isempty(no_color) && !streq_ptr(term, "dumb");
        if (o->full)
                return;
        /* $COLUMNS wins, as for systemctl; else the terminal says. */
        if (columns && (n = strtoul(columns, &end, 10)) > 0 && n < 100000 && !*end)
                o->columns = (unsigned)n;
        else if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                o->columns = ws.ws_col;
}

/*
 * The bytes of 's' to keep when it is wider than 'columns' terminal cells (one
 * cell per code point; escape sequences take none): as many as fill
 * columns - 1 cells, leaving one for the ellipsis.
 */
static size_t fit(const char *s, unsigned columns, bool *ret_cut)
{
        unsigned cells = 0;
        size_t i = 0, keep = 0;

        *ret_cut = false;
        while (s[i]) {
                if (s[i] == '\033') { /* ESC [ parameters final-byte */
                        i++;
                        if (s[i] == '[')
                                for (i++; s[i] && !(s[i] >= 0x40 && s[i] <= 0x7e); i++)
                                        ;
                        if (s[i])
                                i++;
                        continue;
                }
                if (cells == columns - 1)
                        keep = i;
                if (++cells > columns) {
                        *ret_cut = true;
                        return keep;
                }
                i++;
                while (((unsigned char)s[i] & 0xc0) == 0x80) /* continuation bytes */
                        i++;
        }
        return i;
}

void ctl_print_line(const CtlOptions *o, const char *line)
{
        bool cut;
        size_t n;

        if (o->columns < 8) {
                printf("%s\n", line);
                return;
        }
        n = fit(line, o->columns, &cut);
        if (!cut) {
                printf("%s\n", line);
                return;
        }
        /* Room for the ellipsis; a colour left on is switched off. */
        printf("%.*s\u2026%s\n", (int)n, line, o->color ? "\033[0m" : "");
}

/* Terminal cells of the first 'len' bytes of s: one per code point. */
static size_t cells_of(const char *s, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80)
                        n++;
        return n;
}

void ctl_print_wrapped(const CtlOptions *o, const char *prefix, size_t prefix_cells, size_t indent,
                       const char *text)
{
        size_t width, used = prefix_cells, len = strlen(text);
        const char *p = text;

        fputs(prefix, stdout);
        if (o->columns == 0 || indent + 20 > o->columns ||
            prefix_cells + cells_of(text, len) <= o->columns) {
                printf("%s\n", text);
                return;
        }
        width = o->columns;
        while (*p) {
                size_t room = width > used ? width - used : 0, take = 0, last_space = 0, cells = 0;

                /* As many bytes as fill 'room' cells, backing off to the last space. */
                while (p[take] && cells < room) {
                        if (p[take] == ' ')
                                last_space = take;
                        take++;
                        while (((unsigned char)p[take] & 0xc0) == 0x80)
                                take++;
                        cells++;
                }
                if (p[take] && p[take] != ' ' && last_space > 0)
                        take = last_space;
                if (take == 0) /* nothing fits: one character at least */
                        for (take = 1; ((unsigned char)p[take] & 0xc0) == 0x80; take++)
                                ;
                printf("%.*s\n", (int)take, p);
                p += take;
                while (*p == ' ')
                        p++;
                if (*p)
                        printf("%*s", (int)indent, "");
                used = indent;
        }
}

char *ctl_escape(const char *s)
{
        char *e = utf8_escape_control(strempty(s));

        return e ?: strdup("?");
}

json_object *ctl_json_string(const char *s)
{
        _cleanup_free_ char *copy = NULL;

        if (!s)
                return NULL;
        /* json-c copies bytes as they are: a string that is not UTF-8 would make the
         * document invalid JSON (RFC 8259, section 8.1). */
        if (utf8_is_valid(s, strlen(s)))
                return json_object_new_string(s);
        copy = utf8_sanitize(s);
        return copy ? json_object_new_string(copy) : NULL;
}

json_object *ctl_json_document(const char *command)
{
        json_object *doc = json_object_new_object();

        if (!doc)
                return NULL;
        json_object_object_add(doc, "schema", json_object_new_string(CTL_SCHEMA));
        json_object_object_add(doc, "command", json_object_new_string(command));
        return doc;
}

int ctl_json_print(json_object *doc)
{
        const char *text;
        int r = 0;

        if (!doc)
                return -ENOMEM;
        text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                r = -ENOMEM;
        else if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
                r = -EIO;
        json_object_put(doc);
        return r;
}

void ctl_json_add_time(json_object *o, const char *key, uint64_t usec)
{
        _cleanup_free_ char *k = strjoin_printf("%s_usec", key);
        time_t t = (time_t)(usec / USEC_PER_SEC);
        char buf[64];
        struct tm tm;

        if (!k)
                return;
        if (usec == 0 || !gmtime_r(&t, &tm) ||
            strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
                json_object_object_add(o, k, NULL);
                json_object_object_add(o, key, NULL);
                return;
        }
        json_object_object_add(o, k, json_object_new_int64((int64_t)usec));
        json_object_object_add(o, key, json_object_new_string(buf));
}

void ctl_format_time(uint64_t usec, char *buf, size_t size)
{
        time_t t = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "@%llu", (unsigned long long)(usec / USEC_PER_SEC));
}

void ctl_format_ago(uint64_t usec, uint64_t now, char *buf, size_t size)
{
        uint64_t s;

        if (usec > now + 5 * USEC_PER_SEC) {
                snprintf(buf, size, "in the future");
                return;
        }
        s = usec > now ? 0 : (now - usec) / USEC_PER_SEC;
        if (s < 120)
                snprintf(buf, size, "%llu s ago", (unsigned long long)s);
        else if (s < 2 * 3600)
                snprintf(buf, size, "%llu min ago", (unsigned long long)(s / 60));
        else if (s < 2 * 86400)
                snprintf(buf, size, "%llu h ago", (unsigned long long)(s / 3600));
        else
                snprintf(buf, size, "%llu days ago", (unsigned long long)(s / 86400));
}

void ctl_format_duration(uint64_t usec, char *buf, size_t size)
{
        if (usec < USEC_PER_SEC)
                snprintf(buf, size, "%llu ms", (unsigned long long)(usec / USEC_PER_MSEC));
        else
                snprintf(buf, size, "%.1f s", (double)usec / USEC_PER_SEC);
}

uint64_t ctl_now_realtime(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* Midnight (local time) of the day 'days_back' days before today. */
static int midnight(int days_back, uint64_t *ret)
{
        time_t now = time(NULL), t;
        struct tm tm;

        if (!localtime_r(&now, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday -= days_back;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = (uint64_t)t * USEC_PER_SEC;
        return 0;
}

int ctl_parse_time(const char *s, uint64_t *ret)
{
        static const char *const formats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                                              "%Y-%m-%dT%H:%M:%S"};
        _cleanup_free_ char *copy = NULL;
        const char *rel = NULL;
        uint64_t d, now = ctl_now_realtime();

        if (isempty(s))
                return -EINVAL;
        if (streq(s, "now")) {
                *ret = now;
                return 0;
        }
        if (streq(s, "today"))
                return midnight(0, ret);
        if (streq(s, "yesterday"))
                return midnight(1, ret);
        if (s[0] == '@') {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno || end == s + 1 || *end || v > UINT64_MAX / USEC_PER_SEC)
                        return -EINVAL;
                *ret = v * USEC_PER_SEC;
                return 0;
        }
        if (s[0] == '-')
                rel = s + 1;
        else if (endswith(s, " ago")) {
                copy = strndup(s, strlen(s) - 4);
                if (!copy)
                        return -ENOMEM;
                rel = copy;
        }
        if (rel) {
                char *end;
                unsigned long long v;

                /* parse_duration() knows s, ms, min, h; days here. */
                errno = 0;
                v = strtoull(rel, &end, 10);
                while (*end == ' ')
                        end++;
                if (!errno && end != rel && isdigit((unsigned char)*rel) &&
                    (streq(end, "d") || streq(end, "day") || streq(end, "days"))) {
                        if (v > UINT64_MAX / USEC_PER_SEC / 86400)
                                return -EINVAL;
                        d = v * 86400 * USEC_PER_SEC;
                } else if (parse_duration(rel, &d) < 0)
                        return -EINVAL;
                *ret = d > now ? 0 : now - d;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                struct tm tm = {.tm_isdst = -1};
                const char *end = strptime(s, formats[i], &tm);
                time_t t;

                if (!end || *end)
                        continue;
                t = mktime(&tm);
                if (t == (time_t)-1 || t < 0)
                        return -EINVAL;
                *ret = (uint64_t)t * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}
