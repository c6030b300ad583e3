/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Environment files for nautobot-server. */
#include "envfile.h"
#include "test.h"

static void test_parse(void)
{
        _cleanup_strv_free_ char **env = NULL;
        unsigned line = 0;

        ASSERT(envfile_parse(
                       "# comment\n\n; other\nA=1\n  B = \"two words\"  \nC='x'\nA=3\nEMPTY=\n",
                       &env, &line) == 0);
        ASSERT(strv_length(env) == 4);
        ASSERT_STREQ(env[0], "A=3"); /* replaced in place */
        ASSERT(strv_contains(env, "B=two words"));
        ASSERT(strv_contains(env, "C=x"));
        ASSERT(strv_contains(env, "EMPTY="));
}

static void test_bad_lines(void)
{
        _cleanup_strv_free_ char **env = NULL;
        unsigned line = 0;

        ASSERT(envfile_parse("A=1\nnot a line\n", &env, &line) == -EINVAL);
        ASSERT(line == 2);
        ASSERT(envfile_parse("1A=x\n", &env, &line) == -EINVAL);
        ASSERT(line == 1);
        ASSERT(envfile_parse("export A=1\n", &env, &line) == -EINVAL);
}

static void test_limits(void)
{
        _cleanup_strv_free_ char **env = NULL;
        char key[32];
        int r = 0;

        for (int i = 0; i <= ENVFILE_ENTRIES_MAX && r == 0; i++) {
                snprintf(key, sizeof(key), "K%d", i);
                r = env_set(&env, key, "v");
        }
        ASSERT(r == -E2BIG);
        ASSERT(strv_length(env) == ENVFILE_ENTRIES_MAX);
        ASSERT(envfile_load("/nonexistent/env", &env, NULL) == -ENOENT);
}

int main(void)
{
        RUN(test_parse);
        RUN(test_bad_lines);
        RUN(test_limits);
        return 0;
}
