/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PEP 440 ordering, including the CalVer releases of nautobot-contract-models. */
#include "test.h"
#include "util.h"
#include "version.h"

static int cmp(const char *a, const char *b)
{
        int r = 99;

        if (version_compare(a, b, &r) < 0) {
                fprintf(stderr, "cannot compare '%s' and '%s'\n", a, b);
                abort();
        }
        return r;
}

static void test_order(void)
{
        /* Each is smaller than the next (PEP 440's own example order, plus CalVer). */
        static const char *const ordered[] = {
                "1.0.dev456",    "1.0a1",         "1.0a2.dev456", "1.0a12.dev456",
                "1.0a12",        "1.0b1.dev456",  "1.0b2",        "1.0b2.post345.dev456",
                "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",       "1.0",
                "1.0+abc.5",     "1.0+abc.7",     "1.0+5",        "1.0.post456.dev34",
                "1.0.post456",   "1.1.dev1",      "2026.5.9",     "2026.5.11",
                "2026.5.12",     "2026.5.17",     "2026.10.1",    "1!0.1",
        };

        for (size_t i = 0; i + 1 < ELEMENTSOF(ordered); i++) {
                if (cmp(ordered[i], ordered[i + 1]) >= 0 || cmp(ordered[i + 1], ordered[i]) <= 0) {
                        fprintf(stderr, "'%s' should sort before '%s'\n", ordered[i],
                                ordered[i + 1]);
                        abort();
                }
        }
}

static void test_equal_spellings(void)
{
        ASSERT(cmp("1.0", "1.0.0") == 0);
        ASSERT(cmp("1.0RC1", "1.0rc1") == 0);
        ASSERT(cmp("1.0-rc.1", "1.0rc1") == 0);
        ASSERT(cmp("1.0c1", "1.0rc1") == 0);
        ASSERT(cmp("1.0alpha", "1.0a0") == 0);
        ASSERT(cmp("1.0-1", "1.0.post1") == 0);
        ASSERT(cmp("v2026.5.17", "2026.5.17") == 0);
        ASSERT(cmp("1.0.dev", "1.0.dev0") == 0);
}

static void test_invalid(void)
{
        int r;

        ASSERT(version_compare("", "1", &r) == -EINVAL);
        ASSERT(version_compare("1.0 beta", "1", &r) == -EINVAL);
        ASSERT(version_compare("abc", "1", &r) == -EINVAL);
        ASSERT(version_compare("1.0+", "1", &r) == -EINVAL);
        ASSERT(version_compare("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", "1", &r) == -EINVAL);
        ASSERT(version_compare("99999999999999999999999", "1", &r) == -EINVAL);
}

static void test_change(void)
{
        ASSERT(version_change("2026.5.12", "2026.5.17") == VERSION_UPGRADED);
        ASSERT(version_change("2026.5.17", "2026.5.12") == VERSION_DOWNGRADED);
        ASSERT(version_change("2026.5.17", "2026.5.17") == VERSION_REINSTALLED);
        ASSERT(version_change(NULL, "2026.5.17") == VERSION_INSTALLED);
        ASSERT(version_change("2026.5.17", NULL) == VERSION_REMOVED);
        ASSERT(version_change("weird!", "other!") == VERSION_CHANGED);
        ASSERT_STREQ(version_change_to_string(VERSION_DOWNGRADED), "downgrade");
}

static void test_requirements(void)
{
        static const struct {
                const char *req, *installed;
                int met;
        } cases[] = {
                {"nautobot >= 3.1.0", "3.1.6", 1},
                {"nautobot >= 3.1.0", "3.0.11", 0},
                {"nautobot<4", "3.2.7", 1},
                {"nautobot < 4", "4.0.0rc1", 1}, /* PEP 440: rc sorts below 4 */
                {"nautobot<=3.1.6", "3.1.6", 1},
                {"nautobot==3.1.6", "3.1.6.0", 1},
                {"nautobot != 3.1.6", "3.1.6", 0},
                {"nautobot > 3.1.6", "3.1.6.post1", 1},
                {"x >= 2026.5.12", "2026.5.9", 0},
        };
        static const char *const bad[] = {"",
                                          "nautobot",
                                          ">= 3.1",
                                          "nautobot >=",
                                          "nautobot ~= 3.1",
                                          "nautobot >= banana",
                                          "nautobot => 3"};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                VersionRequirement r = {};

                ASSERT(version_requirement_parse(cases[i].req, &r) == 0);
                if (version_requirement_met(&r, cases[i].installed) != cases[i].met) {
                        fprintf(stderr, "'%s' for %s should be %d\n", cases[i].req,
                                cases[i].installed, cases[i].met);
                        abort();
                }
                version_requirement_done(&r);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                VersionRequirement r = {};

                if (version_requirement_parse(bad[i], &r) != -EINVAL) {
                        fprintf(stderr, "'%s' should not parse\n", bad[i]);
                        abort();
                }
        }
        VersionRequirement r = {};
        ASSERT(version_requirement_parse("  nautobot_core.x  >=  1.0 ", &r) == 0);
        ASSERT_STREQ(r.package, "nautobot_core.x");
        ASSERT(r.op == VERSION_OP_GE);
        ASSERT_STREQ(r.version, "1.0");
        ASSERT(version_requirement_met(&r, "not a version") == -EINVAL);
        version_requirement_done(&r);
}

int main(void)
{
        RUN(test_order);
        RUN(test_equal_spellings);
        RUN(test_invalid);
        RUN(test_change);
        RUN(test_requirements);
        return 0;
}
