/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Migration lists: the directory scan and the comparison with what was applied. */
#include <sys/stat.h>

#include "migrations.h"
#include "test.h"

static void touch(const char *dir, const char *name)
{
        _cleanup_free_ char *p = strjoin_printf("%s/%s", dir, name);
        FILE *f = fopen(p, "we");

        ASSERT(f);
        fclose(f);
}

static void test_list(void)
{
        char site[] = "/tmp/nvd-test-migrations-XXXXXX";
        _cleanup_strv_free_ char **l = NULL, **none = NULL;
        _cleanup_free_ char *rm = NULL, *sub = NULL, *dir = NULL, *app = NULL, *link = NULL;

        ASSERT(mkdtemp(site));
        app = strjoin_printf("%s/app", site);
        dir = strjoin_printf("%s/app/migrations", site);
        ASSERT(app && dir && mkdir(app, 0755) == 0 && mkdir(dir, 0755) == 0);
        touch(dir, "0010_icalaccesstoken_coveragesnapshot.py");
        touch(dir, "0001_initial.py");
        touch(dir, "0002_register_statuses.py");
        touch(dir, "__init__.py");
        touch(dir, "0003_notes.txt");
        touch(dir, "helpers.py");
        sub = strjoin_printf("%s/__pycache__", dir);
        ASSERT(mkdir(sub, 0755) == 0);
        ASSERT(migrations_list_dir(site, "app", &l) == 0);
        ASSERT(strv_length(l) == 3);
        ASSERT_STREQ(l[0], "0001_initial");
        ASSERT_STREQ(l[2], "0010_icalaccesstoken_coveragesnapshot");
        ASSERT(migrations_list_dir("/nonexistent", "app", &none) == -ENOENT);
        ASSERT(migrations_list_dir(site, "other", &none) == -ENOENT);
        /* The app's folder as a link (to any directory): not followed. */
        link = strjoin_printf("%s/linked", site);
        ASSERT(link && symlink(app, link) == 0);
        ASSERT(migrations_list_dir(site, "linked", &none) == -ELOOP && !none);
        rm = strjoin_printf("rm -rf '%s'", site);
        ASSERT(system(rm) == 0);
}

static void test_compare(void)
{
        char *disk[] = {"0001_initial", "0002_b", "0003_c", NULL};
        char *applied_all[] = {"0001_initial", "0002_b", "0003_c", NULL};
        char *applied_old[] = {"0001_initial", NULL};
        char *applied_newer[] = {"0001_initial", "0002_b", "0003_c", "0004_future", NULL};
        char **unapplied = NULL, **unknown = NULL;

        ASSERT(migrations_compare(disk, applied_all, &unapplied, &unknown) == 0);
        ASSERT(!unapplied && !unknown);
        ASSERT(migrations_compare(disk, applied_old, &unapplied, &unknown) == 0);
        ASSERT(strv_length(unapplied) == 2 && !unknown);
        ASSERT_STREQ(unapplied[0], "0002_b");
        unapplied = strv_free(unapplied);
        ASSERT(migrations_compare(disk, applied_newer, &unapplied, &unknown) == 0);
        ASSERT(!unapplied && strv_length(unknown) == 1);
        ASSERT_STREQ(unknown[0], "0004_future");
        strv_free(unknown);
}

int main(void)
{
        RUN(test_list);
        RUN(test_compare);
        return 0;
}
