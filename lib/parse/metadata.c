/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading installed package versions from *.dist-info/METADATA. See metadata.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>

#include "metadata.h"

DistInfo *dist_info_free(DistInfo *d)
{
        if (!d)
                return NULL;
        free(d->name);
        free(d->version);
        free(d->path);
        free(d);
        return NULL;
}

char *python_name_normalize(const char *name)
{
        char *r = malloc(strlen(name) + 1), *p = r;

        if (!r)
                return NULL;
        for (const char *s = name; *s; s++) {
                if (*s == '-' || *s == '_' || *s == '.') {
                        if (p == r || p[-1] != '-')
                                *p++ = '-';
                } else
                        *p++ = (char)tolower((unsigned char)*s);
        }
        *p = 0;
        return r;
}

bool python_name_equal(const char *a, const char *b)
{
        _cleanup_free_ char *x = a ? python_name_normalize(a) : NULL,
                            *y = b ? python_name_normalize(b) : NULL;

        return x && y && streq(x, y);
}

/* Not isalnum(): the locale must not widen what may name a file. */
static bool ascii_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool python_name_valid(const char *s)
{
        size_t n = s ? strnlen(s, PYTHON_NAME_MAX + 1) : 0;

        if (n == 0 || n > PYTHON_NAME_MAX || !ascii_alnum(s[0]) || !ascii_alnum(s[n - 1]))
                return false;
        for (const char *p = s; *p; p++)
                if (!ascii_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
                        return false;
        return true;
}

bool python_identifier_valid(const char *s)
{
        size_t n = s ? strnlen(s, PYTHON_IDENTIFIER_MAX + 1) : 0;

        if (n == 0 || n > PYTHON_IDENTIFIER_MAX || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (const char *p = s; *p; p++)
                if (!ascii_alnum(*p) && *p != '_')
                        return false;
        return true;
}

static bool version_valid(const char *v)
{
        /* PEP 440 versions use a small alphabet; anything else is not one. */
        if (isempty(v) || strlen(v) > 128)
                return false;
        for (const char *p = v; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(".+-_!", *p))
                        return false;
        return true;
}

int metadata_parse(const char *text, char **ret_name, char **ret_version)
{
        _cleanup_free_ char *name = NULL, *version = NULL;
        const char *p = text;

        while (*p) {
                const char *eol = strchrnul(p, '\n'), *v;
                size_t n = (size_t)(eol - p);
                char **field = NULL;

                if (n == 0 || (n == 1 && *p == '\r'))
                        break; /* end of headers; the body is the description */
                if (strncasecmp(p, "Name:", 5) == 0) {
                        field = &name;
                        v = p + 5;
                } else if (strncasecmp(p, "Version:", 8) == 0) {
                        field = &version;
                        v = p + 8;
                }
                if (field && !*field) {
                        while (v < eol && (*v == ' ' || *v == '\t'))
                                v++;
                        n = (size_t)(eol - v);
                        while (n > 0 && isspace((unsigned char)v[n - 1]))
                                n--;
                        *field = strndup(v, n);
                        if (!*field)
                                return -ENOMEM;
                }
                p = *eol ? eol + 1 : eol;
        }
        if (isempty(name) || !version_valid(version))
                return -EBADMSG;
        *ret_name = TAKE_PTR(name);
        *ret_version = TAKE_PTR(version);
        return 0;
}

/*
 * Is 'entry' "<name>-<version>.dist-info" for the normalised name? 1 or 0, or
 * -ENOMEM: not "no", which would hide a second dist-info (an install in progress).
 */
static int dist_info_matches(const char *entry, const char *normalized)
{
        _cleanup_free_ char *prefix = NULL, *n = NULL;
        const char *dash;

        if (!endswith(entry, ".dist-info"))
                return 0;
        /* Distribution names in the folder never contain '-' (it is escaped to '_'). */
        dash = strchr(entry, '-');
        if (!dash)
                return 0;
        prefix = strndup(entry, (size_t)(dash - entry));
        if (!prefix)
                return -ENOMEM;
        n = python_name_normalize(prefix);
        if (!n)
                return -ENOMEM;
        return streq(n, normalized);
}

int dist_info_find(const char *site_packages, const char *name, DistInfo **ret,
                   char ***ret_conflicts)
{
        _cleanup_strv_free_ char **found = NULL;
        _cleanup_free_ char *normalized = NULL, *text = NULL, *mpath = NULL;
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        DIR *dir;
        struct dirent *de;
        int r = 0;

        normalized = python_name_normalize(name);
        if (!normalized)
                return -ENOMEM;
        dir = opendir(site_packages);
        if (!dir)
                return -errno;
        while ((errno = 0, de = readdir(dir))) {
                r = dist_info_matches(de->d_name, normalized);
                if (r < 0)
                        break;
                if (r == 0)
                        continue;
                r = strv_push(&found, strjoin_printf("%s/%s", site_packages, de->d_name));
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(dir);
        if (r < 0)
                return r;

        if (strv_length(found) == 0)
                return -ENOENT;
        if (strv_length(found) > 1) {
                /* For messages (the state file, a terminal): a folder's name is any bytes. */
                for (size_t i = 0; ret_conflicts && found[i]; i++) {
                        char *e = str_escape_control(found[i]);

                        if (!e)
                                return -ENOMEM;
                        free(found[i]);
                        found[i] = e;
                }
                if (ret_conflicts)
                        *ret_conflicts = TAKE_PTR(found);
                return -ENOTUNIQ;
        }

        mpath = strjoin_printf("%s/METADATA", found[0]);
        if (!mpath)
                return -ENOMEM;
        r = read_file_bounded(mpath, METADATA_SIZE_MAX, &text, NULL);
        if (r < 0)
                return r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        r = metadata_parse(text, &d->name, &d->version);
        if (r < 0)
                return r;
        d->path = TAKE_PTR(found[0]);
        *ret = TAKE_PTR(d);
        return 0;
}

int direct_url_parse_editable(const char *text, size_t len)
{
        json_tokener *tok;
        json_object *root, *dir_info, *editable;
        size_t end;
        int r;

        if (len > DIRECT_URL_SIZE_MAX)
                return -EFBIG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)len);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        /* One JSON object, nothing but white space after it. */
        while (root && end < len && strchr(" \t\r\n", text[end]) && text[end])
                end++;
        if (!root || end != len || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return -EBADMSG;
        }
        /* PEP 610: a local directory install has dir_info; "editable": true marks pip -e. */
        r = json_object_object_get_ex(root, "dir_info", &dir_info) &&
            json_object_is_type(dir_info, json_type_object) &&
            json_object_object_get_ex(dir_info, "editable", &editable) &&
            json_object_is_type(editable, json_type_boolean) && json_object_get_boolean(editable);
        json_object_put(root);
        return r;
}

int dist_info_is_editable(const char *dist_info_path)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        int r;

        path = strjoin_printf("%s/direct_url.json", dist_info_path);
        if (!path)
                return -ENOMEM;
        r = read_file_bounded(path, DIRECT_URL_SIZE_MAX, &text, &len);
        if (r < 0)
                return r;
        return direct_url_parse_editable(text, len);
}
