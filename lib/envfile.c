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

int envfile_parse(const char *text, char ***env, unsigned *ret_line)
{
        unsigned line = 0;
        const char *p = text;

        while (*p) {
                const char *eol = strchrnul(p, '\n'), *k, *ke, *eq, *v, *ve;
                char *entry;
                int r;

                line++;
                k = p;
                p = *eol ? eol + 1 : eol;
                while (k < eol && isspace((unsigned char)*k))
                        k++;
                if (k == eol || *k == '#' || *k == ';')
                        continue;

                eq = memchr(k, '=', (size_t)(eol - k));
                ve = eol;
                while (ve > k && isspace((unsigned char)ve[-1]))
                        ve--;
                ke = eq;
                while (ke && ke > k && isspace((unsigned char)ke[-1]))
                        ke--;
                if (!eq || !key_valid(k, (size_t)(ke - k))) {
                        if (ret_line)
                                *ret_line = line;
                        return -EINVAL;
                }
                v = eq + 1;
                while (v < ve && isspace((unsigned char)*v))
                        v++;
                if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
                        v++;
                        ve--;
                }
                entry = strjoin_printf("%.*s=%.*s", (int)(ke - k), k, (int)(ve - v), v);
                if (!entry)
                        return -ENOMEM;
                r = env_set_entry(env, entry);
                if (r < 0) {
                        if (ret_line)
                                *ret_line = line;
                        return r;
                }
        }
        return 0;
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
