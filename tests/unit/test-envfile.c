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

static void parsed(const char *text, const char *const *want)
{
        _cleanup_strv_free_ char **env = NULL;
        unsigned line = 0;
        int r = envfile_parse(text, &env, &line);

        if (r < 0) {
                fprintf(stderr, "envfile_parse(\"%s\") = %d at line %u\n", text, r, line);
                abort();
        }
        for (size_t i = 0; want[i]; i++)
                if (!strv_contains(env, want[i])) {
                        fprintf(stderr, "envfile_parse(\"%s\"): no \"%s\" in:\n", text, want[i]);
                        STRV_FOREACH (e, env)
                                fprintf(stderr, "  \"%s\"\n", *e);
                        abort();
                }
        ASSERT(strv_length(env) == strv_length((char **)want));
}

/* What systemd.exec(5) documents for EnvironmentFile=, case by case. */
static void test_systemd_syntax(void)
{
        /* Backslash-newline continues an unquoted value; the newline is dropped. */
        parsed("A=x\\\ny\nB=2\n", (const char *[]){"A=xy", "B=2", NULL});
        /* Unquoted: a backslash keeps the next character; "\\" is one backslash. */
        parsed("A=\\\"x\\\" a\\\\b\n", (const char *[]){"A=\"x\" a\\b", NULL});
        /* Leading and trailing white space goes, interior stays, an escaped one stays. */
        parsed("  A =   spaced   value  \t\nB=x\\ \n",
               (const char *[]){"A=spaced   value", "B=x ", NULL});
        /* Double quotes: \" \\ \` \$ keep the character, other escapes are kept whole,
         * backslash-newline is dropped, newlines inside are kept. */
        parsed("A=\"q\\\"q \\\\ \\` \\$HOME \\n\"\nB=\"one\\\ntwo\"\nC=\"line1\nline2\"\n",
               (const char *[]){"A=q\"q \\ ` $HOME \\n", "B=onetwo", "C=line1\nline2", NULL});
        /* Single quotes: verbatim, no escapes, may span lines; parts join up. */
        parsed("A='a\\b \"c\"'\nB='it'\"'\"'s'\nC='x\ny'z\n",
               (const char *[]){"A=a\\b \"c\"", "B=it's", "C=x\nyz", NULL});
        /* Comments only at the start of a line; a comment's trailing backslash continues it. */
        parsed("# c\n; c\n  # indented\nA=a # not a comment\n# more \\\nB=hidden\nC=1\n",
               (const char *[]){"A=a # not a comment", "C=1", NULL});
        /* CRLF line ends (a file edited on Windows), and an empty value. */
        parsed("A=1\r\nB=\"2\"\r\nC=\r\n", (const char *[]){"A=1", "B=2", "C=", NULL});
        /* No newline at the end. */
        parsed("A=last", (const char *[]){"A=last", NULL});
}

static void test_systemd_syntax_errors(void)
{
        _cleanup_strv_free_ char **env = NULL;
        unsigned line = 0;

        /* A quote left open: refused, naming the line where its assignment starts. */
        ASSERT(envfile_parse("A=1\nB=\"open\nC=2\n", &env, &line) == -EBADMSG);
        ASSERT(line == 2);
        ASSERT(envfile_parse("A='open", &env, &line) == -EBADMSG);
        ASSERT(line == 1);
        /* Line numbers count the lines inside a multi-line value. */
        ASSERT(envfile_parse("A='x\ny'\nB=\"1\n2\"\nbad line\n", &env, &line) == -EINVAL);
        ASSERT(line == 5);
        ASSERT(envfile_parse("A B=1\n", &env, &line) == -EINVAL);
        ASSERT(strstr(envfile_error_to_string(-EINVAL), "not a KEY=VALUE line") ==
               envfile_error_to_string(-EINVAL));
        ASSERT(strstr(envfile_error_to_string(-EBADMSG), "quote"));
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
        RUN(test_systemd_syntax);
        RUN(test_systemd_syntax_errors);
        RUN(test_limits);
        return 0;
}
