/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The secrets a configuration names (the web password, the API token, the
 * database password): never in the file, read from a systemd credential or a
 * file of their own, as root only through what no other account can write
 * (chase.h), wiped on every path. A daemon started as root reads them all
 * before it drops (SecretSet); a check asks config_secret().
 */
#include <unistd.h>

#include "chase.h"
#include "config.h"

#define SECRET_MAX 4096

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
