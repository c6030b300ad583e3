/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Migration lists. See migrations.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>

#include "migrations.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int migrations_list_dir(const char *site_packages, const char *label, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_close_ int sfd = -1, afd = -1;
        struct dirent *de;
        DIR *d;
        int r = 0, fd;

        sfd = open(site_packages, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        afd = openat(sfd, label, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (afd < 0)
                return errno == ENOTDIR ? -ELOOP : -errno;
        fd = openat(afd, "migrations", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ELOOP : -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                const char *n = de->d_name;
                size_t len = strlen(n);

                /* Django's loader takes every module; the numbered ones are the migrations. */
                if (len < 8 || !isdigit((unsigned char)n[0]) || !isdigit((unsigned char)n[1]) ||
                    !isdigit((unsigned char)n[2]) || !isdigit((unsigned char)n[3]) || n[4] != '_' ||
                    !endswith(n, ".py"))
                        continue;
                if (strv_length(l) >= MIGRATIONS_MAX) {
                        r = -E2BIG;
                        break;
                }
                r = strv_push(&l, strndup(n, len - 3));
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

int migrations_compare(char *const *on_disk, char *const *applied, char ***ret_unapplied,
                       char ***ret_unknown)
{
        _cleanup_strv_free_ char **unapplied = NULL, **unknown = NULL;
        int r;

        STRV_FOREACH (m, (char **)on_disk)
                if (!strv_contains(applied, *m) && (r = strv_extend(&unapplied, *m)) < 0)
                        return r;
        STRV_FOREACH (m, (char **)applied)
                if (!strv_contains(on_disk, *m) && (r = strv_extend(&unknown, *m)) < 0)
                        return r;
        *ret_unapplied = TAKE_PTR(unapplied);
        *ret_unknown = TAKE_PTR(unknown);
        return 0;
}
