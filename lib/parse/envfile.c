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

int envfile_parse(const char *text, char ***env, unsigned *ret_line)
{
        EnvState state = PRE_KEY;
        unsigned line = 1, item_line = 1;
        /* Where the unquoted trailing white space of the value (or key) starts; SIZE_MAX: none. */
        size_t value_ws = SIZE_MAX, key_ws = SIZE_MAX;
        Buf key, value;
        int r = 0;

        buf_init(&key, ENVFILE_SIZE_MAX);
        buf_init(&value, ENVFILE_SIZE_MAX);
        for (const char *p = text;; p++) {
                char c = *p;
                bool nl = c && strchr(ENV_NEWLINE, c);

                if (c == 0) {
                        if (state == SINGLE_QUOTE_VALUE || state == DOUBLE_QUOTE_VALUE ||
                            state == DOUBLE_QUOTE_VALUE_ESCAPE) {
                                r = -EBADMSG;
                                break;
                        }
                        if (state == KEY)
                                r = -EINVAL;
                        else if (state == PRE_VALUE || state == VALUE || state == VALUE_ESCAPE)
                                r = push(env, &key, &value,
                                         value_ws != SIZE_MAX ? value_ws : value.len);
                        break;
                }
                switch (state) {
                case PRE_KEY:
                        if (c == '#' || c == ';')
                                state = COMMENT;
                        else if (!strchr(ENV_WHITESPACE, c)) {
                                state = KEY;
                                item_line = line;
                                buf_done(&key);
                                buf_done(&value);
                                key_ws = value_ws = SIZE_MAX;
                                r = buf_append(&key, &c, 1);
                        }
                        break;
                case KEY:
                        if (nl) {
                                r = -EINVAL; /* no '=' */
                        } else if (c == '=') {
                                if (key_ws != SIZE_MAX) {
                                        key.len = key_ws;
                                        key.data[key.len] = 0;
                                }
                                state = PRE_VALUE;
                        } else {
                                if (!strchr(ENV_WHITESPACE, c))
                                        key_ws = SIZE_MAX;
                                else if (key_ws == SIZE_MAX)
                                        key_ws = key.len;
                                r = buf_append(&key, &c, 1);
                        }
                        break;
                case PRE_VALUE:
                        if (nl) {
                                state = PRE_KEY;
                                r = push(env, &key, &value,
                                         value_ws != SIZE_MAX ? value_ws : value.len);
                        } else if (c == '\'')
                                state = SINGLE_QUOTE_VALUE;
                        else if (c == '"')
                                state = DOUBLE_QUOTE_VALUE;
                        else if (c == '\\')
                                state = VALUE_ESCAPE;
                        else if (!strchr(ENV_WHITESPACE, c)) {
                                state = VALUE;
                                value_ws = SIZE_MAX;
                                r = buf_append(&value, &c, 1);
                        }
                        break;
                case VALUE:
                        if (nl) {
                                state = PRE_KEY;
                                r = push(env, &key, &value,
                                         value_ws != SIZE_MAX ? value_ws : value.len);
                        } else if (c == '\\') {
                                state = VALUE_ESCAPE;
                                value_ws = SIZE_MAX;
                        } else {
                                if (!strchr(ENV_WHITESPACE, c))
                                        value_ws = SIZE_MAX;
                                else if (value_ws == SIZE_MAX)
                                        value_ws = value.len;
                                r = buf_append(&value, &c, 1);
                        }
                        break;
                case VALUE_ESCAPE:
                        state = VALUE;
                        if (!nl) /* backslash-newline: a continuation, both dropped */
                                r = buf_append(&value, &c, 1);
                        break;
                case SINGLE_QUOTE_VALUE:
                        if (c == '\'')
                                state = PRE_VALUE;
                        else
                                r = buf_append(&value, &c, 1);
                        value_ws = SIZE_MAX;
                        break;
                case DOUBLE_QUOTE_VALUE:
                        if (c == '"')
                                state = PRE_VALUE;
                        else if (c == '\\')
                                state = DOUBLE_QUOTE_VALUE_ESCAPE;
                        else
                                r = buf_append(&value, &c, 1);
                        value_ws = SIZE_MAX;
                        break;
                case DOUBLE_QUOTE_VALUE_ESCAPE:
                        state = DOUBLE_QUOTE_VALUE;
                        if (strchr("\"\\`$", c))
                                r = buf_append(&value, &c, 1);
                        else if (c != '\n')
                                r = buf_append(&value, (char[]){'\\', c}, 2);
                        break;
                case COMMENT:
                        if (c == '\\')
                                state = COMMENT_ESCAPE;
                        else if (nl)
                                state = PRE_KEY;
                        break;
                case COMMENT_ESCAPE:
                        state = COMMENT;
                        break;
                }
                if (c == '\n')
                        line++;
                if (r >= 0 && (key.truncated || value.truncated))
                        r = -E2BIG;
                if (r < 0)
                        break;
        }
        buf_done(&key);
        buf_done(&value);
        if (r < 0 && r != -ENOMEM && ret_line)
                *ret_line = item_line;
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
