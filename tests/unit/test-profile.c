/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * App profiles: the shipped one (lib/checks/profiles/, the one tests and
 * admins use), each kind of error with its path:line and reason, the limits,
 * the search path and the message placeholders.
 */
#include <sys/stat.h>

#include "profile.h"
#include "test.h"

#define APP "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"

static char *shipped_path(void)
{
        _cleanup_free_ char *fixtures = fixture("");

        return strjoin_printf("%s/../../lib/checks/profiles/nautobot-contract-models.conf",
                              fixtures);
}

static void test_shipped(void)
{
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *path = shipped_path(), *error = NULL, *m = NULL, *rollback = NULL;
        char *one[] = {(char *)"1"};

        if (profile_load(path, "nautobot-contract-models", &p, &error) < 0) {
                fprintf(stderr, "%s\n", strempty(error));
                abort();
        }
        ASSERT_STREQ(p->package, "nautobot-contract-models");
        ASSERT_STREQ(p->label, "nautobot_contract_models");
        ASSERT_STREQ(p->jobs_disabled,
                     "e.g. schedule \"Capture cost history snapshot\" after an upgrade to 0008");
        ASSERT_STREQ(p->jobs_grouping, "Contracts");
        ASSERT(p->n_findings == 3);
        ASSERT_STREQ(p->findings[0].after, "0008_costsnapshot");
        ASSERT(strncmp(p->findings[0].query, "SELECT NOT EXISTS (SELECT 1 FROM ", 33) == 0);
        /* Continuation lines are joined with one space: the messages of before, word for word. */
        ASSERT_STREQ(
                p->findings[0].message,
                "0008_costsnapshot: the cost snapshot table is empty and no enabled schedule runs \"Capture cost history snapshot\" (CostHistoryJob): schedule it, or the cost history stays empty");
        ASSERT_STREQ(
                p->findings[1].message,
                "0008_costsnapshot: the cost snapshot table is empty; a schedule of \"Capture cost history snapshot\" will fill it at its next run");
        ASSERT_STREQ(p->findings[2].after, "0007_contract_billing_period");
        ASSERT(p->findings[2].columns == 1);
        m = profile_finding_format(&p->findings[2], one, 1);
        ASSERT_STREQ(
                m,
                "0007_contract_billing_period: all 1 contracts bill monthly, the migration's default: set the annual and quarterly ones, or the cost panels over-count");
        ASSERT(profile_rollback_text(p, &rollback) == 0);
        ASSERT_STREQ(rollback, "going below 0008_costsnapshot drops the captured cost history");
}

/* Parses text as "p.conf" and expects exactly this error ("p.conf:LINE: reason"). */
static void refused(const char *text, const char *want)
{
        Profile *p = NULL;
        _cleanup_free_ char *error = NULL;

        if (profile_parse(text, "p.conf", "nautobot-contract-models", &p, &error) >= 0) {
                fprintf(stderr, "accepted:\n%s\n", text);
                abort();
        }
        ASSERT(!p);
        ASSERT_STREQ(error, want);
}

static void test_errors(void)
{
        refused("package = x\n[app]\n", "p.conf:1: package= before any [section]");
        refused(APP "\n[apps]\nx = 1\n",
                "p.conf:5: unknown section [apps] (known: [app], [jobs], [finding NAME], [rollback NAME])");
        refused(APP "[finding a]\nquery = SELECT true\nmessage = m\nbogus = 1\n",
                "p.conf:7: unknown key 'bogus' in section [finding a]");
        refused("[app]\npackage = nautobot-contract-models\npackage = nautobot-contract-models\n",
                "p.conf:3: [app] package= is set twice");
        refused("[app]\npackage =\n", "p.conf:2: [app] package= is empty");
        refused("[app]\npackage = other-app\n",
                "p.conf:2: [app] package= is 'other-app', but this file is the profile of 'nautobot-contract-models' (its name)");
        refused("[app]\nlabel = 1abc\n",
                "p.conf:2: [app] label=: '1abc' is not a Django app label (letters, digits, _)");
        refused(APP "[app]\n", "p.conf:4: [app] appears twice (first on line 1)");
        refused(APP "[finding]\n",
                "p.conf:4: [finding] needs a name of at most 40 letters, digits, '.', '_' or '-': [finding NAME]");
        refused(APP "[finding a]\nquery = SELECT true\nmessage = m\n[finding a]\n",
                "p.conf:7: [finding a] appears twice (first on line 4)");
        /* A missing key is named at its section's header. */
        refused(APP "[finding a]\nmessage = m\n\n[jobs]\nwhen-disabled = x\n",
                "p.conf:4: [finding a] has no query=");
        refused(APP "[rollback r]\nbelow = 0001_initial\n", "p.conf:4: [rollback r] has no drops=");
        refused("[jobs]\nwhen-disabled = x\n[app]\npackage = nautobot-contract-models\n",
                "p.conf:3: [app] has no label=");
        refused("[jobs]\nwhen-disabled = x\n", "p.conf: no [app] section (package=, label=)");
        refused("", "p.conf: no [app] section (package=, label=)");
        /* Queries: one SELECT, nothing else. */
        refused(APP "[finding a]\nquery = DELETE FROM django_migrations\n",
                "p.conf:5: [finding a] query=: must be one SELECT statement (or WITH ... SELECT), without ';'; it runs in a read-only transaction");
        refused(APP "[finding a]\nquery = SELECT 1; DROP TABLE x\n",
                "p.conf:5: [finding a] query=: must be one SELECT statement (or WITH ... SELECT), without ';'; it runs in a read-only transaction");
        refused(APP "[finding a]\nquery = SELECTED\n",
                "p.conf:5: [finding a] query=: must be one SELECT statement (or WITH ... SELECT), without ';'; it runs in a read-only transaction");
        refused(APP "[finding a]\nafter = 0008 cost\n",
                "p.conf:5: [finding a] after=: '0008 cost' is not a migration name (letters, digits, _), like 0001_initial");
        refused(APP "[finding a]\nquery = select true\nmessage = {0} of\n  {10}\n",
                "p.conf:6: [finding a] message=: {0} is not a placeholder: {1} to {9} stand for the query's columns after the first");
        refused(APP "[finding a]\nquery = select true\nmessage = {1} and\n  {10}\n",
                "p.conf:7: [finding a] message=: {10} is not a placeholder: {1} to {9} stand for the query's columns after the first");
        /* inih's own syntax errors, and the first error is the one said. */
        refused(APP "garbage\n",
                "p.conf:4: syntax error (expected [section], key = value, or an indented line continuing a value)");
        refused(APP "[jobs\nwhen-disabled = x\n",
                "p.conf:4: syntax error (expected [section], key = value, or an indented line continuing a value)");
        refused(APP "garbage\nbogus = 1\n",
                "p.conf:4: syntax error (expected [section], key = value, or an indented line continuing a value)");
}

static void test_limits(void)
{
        _cleanup_free_ char *long_line = NULL, *long_text = NULL, *long_query = NULL, *many = NULL,
                            *long_name = NULL, *want = NULL;
        Buf b;

        buf_init(&b, 1 << 20);
        ASSERT(buf_printf(&b, APP "[jobs]\nwhen-disabled = ") == 0);
        for (int i = 0; i < 200; i++)
                ASSERT(buf_append(&b, "x", 1) == 0);
        long_line = b.data;
        refused(long_line,
                "p.conf:5: line longer than 198 characters: continue a long value on indented lines");

        buf_init(&b, 1 << 20);
        ASSERT(buf_printf(&b, APP "[jobs]\nwhen-disabled = x\n") == 0);
        for (int i = 0; i < 12; i++) /* 1 + 12 * 100 characters */
                ASSERT(buf_printf(&b, "  %0*d\n", 99, i) == 0);
        long_text = b.data;
        refused(long_text, "p.conf:16: [jobs] when-disabled=: longer than 1024 characters");

        buf_init(&b, 1 << 20);
        ASSERT(buf_printf(&b, APP "[finding q]\nquery = SELECT true\n") == 0);
        for (int i = 0; i < 42; i++)
                ASSERT(buf_printf(&b, "  AND %0*d = 1\n", 90, i) == 0);
        long_query = b.data;
        refused(long_query, "p.conf:47: [finding q] query=: longer than 4096 characters");

        buf_init(&b, 1 << 20);
        ASSERT(buf_printf(&b, APP) == 0);
        for (int i = 0; i <= PROFILE_FINDINGS_MAX; i++)
                ASSERT(buf_printf(&b, "[finding f%d]\nquery = SELECT true\nmessage = m\n", i) == 0);
        many = b.data;
        want = strjoin_printf("p.conf:%d: more than 16 [finding] sections",
                              4 + 3 * PROFILE_FINDINGS_MAX);
        refused(many, want);

        long_name = strjoin_printf(APP "[rollback %041d]\n", 0);
        refused(long_name,
                "p.conf:4: [rollback 00000000000000000000000000000000000000000] needs a name of at most 40 letters, digits, '.', '_' or '-': [rollback NAME]");
}

static void test_valid(void)
{
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *error = NULL, *m = NULL, *rollback = NULL, *none = NULL;
        char big[PROFILE_VALUE_MAX + 10];
        char *values[] = {(char *)"a", NULL, big};

        /* Comments, a BOM, CRLF, inline comments, a finding for every version (no after=). */
        ASSERT(profile_parse(
                       "\xEF\xBB\xBF# c\r\n[app]\r\npackage = Nautobot_Contract.Models ; x\r\n"
                       "label = nautobot_contract_models\r\n"
                       "[finding any]\nquery = WITH x AS (SELECT 1) SELECT true, 'v'\n"
                       "message = {1}/{2}/{3}/{x}/{/{4}/{9}\n"
                       "[jobs]\nwhen-disabled = see\n  [the guide]\n"
                       "[rollback a]\nbelow = 0002_b\ndrops = B\n"
                       "[rollback b]\nbelow = 0003_c\ndrops = C\n",
                       "p.conf", "nautobot-contract-models", &p, &error) == 0);
        ASSERT_STREQ(p->package, "Nautobot_Contract.Models");
        ASSERT(p->n_findings == 1 && !p->findings[0].after && p->findings[0].line == 5);
        ASSERT(p->findings[0].columns == 9);
        ASSERT_STREQ(p->jobs_disabled, "see [the guide]"); /* a continuation, not a section */

        /* Values cut at PROFILE_VALUE_MAX, not inside a UTF-8 sequence; missing ones empty. */
        memset(big, 'x', sizeof(big));
        memcpy(big + PROFILE_VALUE_MAX - 1, "\xc3\xa9", 2);
        big[sizeof(big) - 1] = 0;
        m = profile_finding_format(&p->findings[0], values, 3);
        ASSERT(m);
        ASSERT(strncmp(m, "a//xxx", 6) == 0);
        ASSERT(strlen(m) == strlen("a//") + PROFILE_VALUE_MAX - 1 + strlen("/{x}/{//"));
        ASSERT(endswith(m, "x/{x}/{//") && !strstr(m, "\xc3"));

        ASSERT(profile_rollback_text(p, &rollback) == 0);
        ASSERT_STREQ(rollback, "going below 0002_b drops B; going below 0003_c drops C");
        p = profile_free(p);
        ASSERT(profile_parse(APP, "p.conf", NULL, &p, NULL) == 0);
        ASSERT(profile_rollback_text(p, &none) == 0 && !none);
        ASSERT(profile_rollback_text(NULL, &none) == 0 && !none);
}

static void test_find(void)
{
        char a[] = "/tmp/nvd-test-profile-a-XXXXXX", b[] = "/tmp/nvd-test-profile-b-XXXXXX";
        _cleanup_free_ char *pa = NULL, *pb = NULL, *rm = NULL, *error = NULL, *want = NULL;
        char *dirs[] = {a, b, NULL};
        Profile *p = NULL;
        FILE *f;

        ASSERT(mkdtemp(a) && mkdtemp(b));
        /* None: normal. A name that cannot be a file name: none either. */
        ASSERT(profile_find(dirs, "nautobot-contract-models", &p, &error) == 0 && !p && !error);
        ASSERT(profile_find(dirs, "../../etc/passwd", &p, &error) == 0 && !p);

        pb = strjoin_printf("%s/nautobot-contract-models.conf", b);
        f = fopen(pb, "we");
        ASSERT(f);
        fputs(APP, f);
        fclose(f);
        ASSERT(profile_find(dirs, "Nautobot.Contract_Models", &p, &error) == 0 && p);
        ASSERT_STREQ(p->path, pb);
        p = profile_free(p);

        /* The first directory wins, broken or not. */
        pa = strjoin_printf("%s/nautobot-contract-models.conf", a);
        f = fopen(pa, "we");
        ASSERT(f);
        fputs(APP "[jobs]\n", f);
        fputs("when-disabled = a", f);
        fwrite("\0b\n", 1, 3, f);
        fclose(f);
        ASSERT(profile_find(dirs, "nautobot-contract-models", &p, &error) == -EBADMSG && !p);
        want = strjoin_printf("%s: contains a NUL byte", pa);
        ASSERT_STREQ(error, want);
        error = mfree(error);

        ASSERT(truncate(pa, PROFILE_SIZE_MAX + 1) == 0);
        ASSERT(profile_find(dirs, "nautobot-contract-models", &p, &error) == -EFBIG);
        free(want);
        want = strjoin_printf("%s: larger than 65536 bytes", pa);
        ASSERT_STREQ(error, want);
        error = mfree(error);

        ASSERT(unlink(pa) == 0 && mkdir(pa, 0700) == 0);
        ASSERT(profile_find(dirs, "nautobot-contract-models", &p, &error) == -EISDIR);
        free(want);
        want = strjoin_printf("%s: cannot read: not a regular file (a directory)", pa);
        ASSERT_STREQ(error, want);

        rm = strjoin_printf("rm -rf '%s' '%s'", a, b);
        ASSERT(system(rm) == 0);
}

int main(void)
{
        RUN(test_shipped);
        RUN(test_errors);
        RUN(test_limits);
        RUN(test_valid);
        RUN(test_find);
        return 0;
}
