/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Environment files for nautobot-server. See envfile.h.
 */
#include <ctype.h>

#include "envfile.h"

static bool key_valid(const char *k, size_t n)
{
        if (n == 0 || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
                        return false;
        return true;
}

static int env_set_entry(char ***env, char *entry /* takes */)
{
        size_t klen = strcspn(entry, "=");

        for (char **e = *env; e && *e; e++)
                if (strncmp(*e, entry, klen) == 0 && (*e)[klen] == '=') {
                        free(*e);
                        *e = entry;
                        return 0;
                }
        if (strv_length(*env) >= ENVFILE_ENTRIES_MAX) {
                free(entry);
                return -E2BIG;
        }
        return strv_push(env, entry);
}

int env_set(char ***env, const char *key, const char *value)
{
        char *e = strjoin_printf("%s=%s", key, value);

        if (!e)
                return -ENOMEM;
        return env_set_entry(env, e);
}

/*
 * systemd's EnvironmentFile= grammar (systemd.exec(5), "EnvironmentFile="; the
 * state machine of systemd's parse_env_file_internal()):
 *  - leading white space is skipped; a line starting with '#' or ';' is a
 *    comment (a comment ending in a backslash continues on the next line);
 *  - KEY, optional white space, '=', optional white space, then the value;
 *  - unquoted text: backslash-newline continues the line (the newline is
 *    dropped), a backslash before any other character keeps that character;
 *    trailing white space is dropped, interior white space kept;
 *  - '...': verbatim up to the next ', newlines included, no escapes;
 *  - "...": may span lines; \" \\ \` \$ keep the character, backslash-newline
 *    is dropped, a backslash before anything else is kept with it;
 *  - quoted and unquoted parts next to each other join (A='x'"y"z is xyz).
 * Stricter than systemd, which ignores such lines: a line without '=', an
 * invalid KEY (so also "export KEY=...") and a quote still open at the end of
 * the file are errors naming the line.
 */
typedef enum EnvState {
        PRE_KEY,
        KEY,
        PRE_VALUE,
        VALUE,
        VALUE_ESCAPE,
        SINGLE_QUOTE_VALUE,
        DOUBLE_QUOTE_VALUE,
        DOUBLE_QUOTE_VALUE_ESCAPE,
        COMMENT,
        COMMENT_ESCAPE,
} EnvState;

#define ENV_WHITESPACE " \t\n\r"
#define ENV_NEWLINE    "\n\r"

static int push(char ***env, Buf *key, Buf *value, size_t value_end)
{
        char *entry;

        if (!key_valid(strempty(key->data), key->len))
                return -EINVAL;
        entry = strjoin_printf("%s=%.*s", key->data, (int)value_end, strempty(value->data));
        if (!entry)
                return -ENOMEM;
        return env_set_entry(env, entry);
}

typedef struct EnvParser {
        EnvState state;
        char ***env;
        unsigned line;      /* of the character being read */
        unsigned item_line; /* where the assignment being read began */
        /* Where the unquoted trailing white space of the value (or key) starts; SIZE_MAX: none. */
        size_t value_ws, key_ws;
        Buf key, value;
} EnvParser;

/* The assignment read so far, without the unquoted white space that ends its value. */
static int push_assignment(EnvParser *p)
{
        return push(p->env, &p->key, &p->value,
                    p->value_ws != SIZE_MAX ? p->value_ws : p->value.len);
}

/* Before and in a KEY, up to its '='. */
static int step_key(EnvParser *p, char c, bool nl)
{
        if (p->state == PRE_KEY) {
                if (c == '#' || c == ';')
                        p->state = COMMENT;
                else if (!strchr(ENV_WHITESPACE, c)) {
                        p->state = KEY;
                        p->item_line = p->line;
                        buf_done(&p->key);
                        buf_done(&p->value);
                        p->key_ws = p->value_ws = SIZE_MAX;
                        return buf_append(&p->key, &c, 1);
                }
                return 0;
        }
        if (nl)
                return -EINVAL; /* no '=' */
        if (c == '=') {
                if (p->key_ws != SIZE_MAX) {
                        p->key.len = p->key_ws;
                        p->key.data[p->key.len] = 0;
                }
                p->state = PRE_VALUE;
                return 0;
        }
        if (!strchr(ENV_WHITESPACE, c))
                p->key_ws = SIZE_MAX;
        else if (p->key_ws == SIZE_MAX)
                p->key_ws = p->key.len;
        return buf_append(&p->key, &c, 1);
}

/* After the '=' and in unquoted text, up to the end of the line. */
static int step_value(EnvParser *p, char c, bool nl)
{
        switch (p->state) {
        case PRE_VALUE:
                if (nl) {
                        p->state = PRE_KEY;
                        return push_assignment(p);
                }
                if (c == '\'')
                        p->state = SINGLE_QUOTE_VALUE;
                else if (c == '"')
                        p->state = DOUBLE_QUOTE_VALUE;
                else if (c == '\\')
                        p->state = VALUE_ESCAPE;
                else if (!strchr(ENV_WHITESPACE, c)) {
                        p->state = VALUE;
                        p->value_ws = SIZE_MAX;
                        return buf_append(&p->value, &c, 1);
                }
                return 0;
        case VALUE:
                if (nl) {
                        p->state = PRE_KEY;
                        return push_assignment(p);
                }
                if (c == '\\') {
                        p->state = VALUE_ESCAPE;
                        p->value_ws = SIZE_MAX;
                        return 0;
                }
                if (!strchr(ENV_WHITESPACE, c))
                        p->value_ws = SIZE_MAX;
                else if (p->value_ws == SIZE_MAX)
                        p->value_ws = p->value.len;
                return buf_append(&p->value, &c, 1);
        default: /* VALUE_ESCAPE */
                p->state = VALUE;
                if (!nl) /* backslash-newline: a continuation, both dropped */
                        return buf_append(&p->value, &c, 1);
                return 0;
        }
}

/* Inside '...' and "...". */
static int step_quoted(EnvParser *p, char c)
{
        switch (p->state) {
        case SINGLE_QUOTE_VALUE:
                p->value_ws = SIZE_MAX;
                if (c == '\'') {
                        p->state = PRE_VALUE;
                        return 0;
                }
                return buf_append(&p->value, &c, 1);
        case DOUBLE_QUOTE_VALUE:
                p->value_ws = SIZE_MAX;
                if (c == '"')
                        p->state = PRE_VALUE;
                else if (c == '\\')
                        p->state = DOUBLE_QUOTE_VALUE_ESCAPE;
                else
                        return buf_append(&p->value, &c, 1);
                return 0;
        default: /* DOUBLE_QUOTE_VALUE_ESCAPE */
                p->state = DOUBLE_QUOTE_VALUE;
                if (strchr("\"\\`$", c))
                        return buf_append(&p->value, &c, 1);
                if (c != '\n')
                        return buf_append(&p->value, (char[]){'\\', c}, 2);
                return 0;
        }
}

/* One character (not the terminating NUL) through the state machine. */
static int step(EnvParser *p, char c)
{
        bool nl = strchr(ENV_NEWLINE, c) != NULL;

        switch (p->state) {
        case PRE_KEY:
        case KEY:
                return step_key(p, c, nl);
        case PRE_VALUE:
        case VALUE:
        case VALUE_ESCAPE:
                return step_value(p, c, nl);
        case SINGLE_QUOTE_VALUE:
        case DOUBLE_QUOTE_VALUE:
        case DOUBLE_QUOTE_VALUE_ESCAPE:
                return step_quoted(p, c);
        case COMMENT:
                if (c == '\\')
                        p->state = COMMENT_ESCAPE;
                else if (nl)
                        p->state = PRE_KEY;
                return 0;
        case COMMENT_ESCAPE:
                p->state = COMMENT;
                return 0;
        }
        return 0;
}

/* The end of the text: a quote still open is an error, an assignment being read is complete. */
static int finish(EnvParser *p)
{
        switch (p->state) {
        case SINGLE_QUOTE_VALUE:
        case DOUBLE_QUOTE_VALUE:
        case DOUBLE_QUOTE_VALUE_ESCAPE:
                return -EBADMSG;
        case KEY:
                return -EINVAL;
        case PRE_VALUE:
        case VALUE:
        case VALUE_ESCAPE:
                return push_assignment(p);
        default:
                return 0;
        }
}

int envfile_parse(const char *text, char ***env, unsigned *ret_line)
{
        EnvParser p = {
                .state = PRE_KEY,
                .env = env,
                .line = 1,
                .item_line = 1,
                .value_ws = SIZE_MAX,
                .key_ws = SIZE_MAX,
        };
        int r = 0;

        buf_init(&p.key, ENVFILE_SIZE_MAX);
        buf_init(&p.value, ENVFILE_SIZE_MAX);
        for (const char *s = text;; s++) {
                if (*s == 0) {
                        r = finish(&p);
                        break;
                }
                r = step(&p, *s);
                if (*s == '\n')
                        p.line++;
                if (r >= 0 && (p.key.truncated || p.value.truncated))
                        r = -E2BIG;
                if (r < 0)
                        break;
        }
        buf_done(&p.key);
        buf_done(&p.value);
        if (r < 0 && r != -ENOMEM && ret_line)
                *ret_line = p.item_line;
        return r;
}

const char *envfile_error_to_string(int r)
{
        switch (r) {
        case -EINVAL:
                return "not a KEY=VALUE line (KEY: letters, digits and '_', not starting with a digit)";
        case -EBADMSG:
                return "a quote opened here is not closed";
        case -E2BIG:
                return "too many variables, or a value too long";
        default:
                return strerror(-r);
        }
}

int envfile_load(const char *path, char ***env, unsigned *ret_line)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file_bounded(path, ENVFILE_SIZE_MAX, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len) /* a NUL byte: not a text file */
                return -EBADMSG;
        return envfile_parse(text, env, ret_line);
}
