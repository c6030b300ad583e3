/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /api/status/ as Nautobot 3.1.6 answers it, and malformed answers. */
#include "parse-status.h"
#include "test.h"

static void test_real(void)
{
        _cleanup_free_ char *path = fixture("status.json"), *text = NULL, *error = NULL;
        _cleanup_(status_report_freep) StatusReport *s = NULL;
        size_t len;

        ASSERT(read_file_bounded(path, 1 << 20, &text, &len) == 0);
        ASSERT(status_parse(text, len, &s, &error) == 0);
        ASSERT_STREQ(s->nautobot_version, "3.1.6");
        ASSERT(s->workers == 1);
        ASSERT_STREQ(status_app_version(s, "nautobot_contract_models"), "2026.5.17");
        ASSERT(!status_app_version(s, "nautobot_contract"));
        ASSERT(!status_app_version(s, "other"));
}

static void test_malformed(void)
{
        static const char *const bad[] = {"", "[]", "{\"nautobot-version\": 3}", "{} x",
                                          "{\"detail\": \"Invalid token.\"}"};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                StatusReport *s = NULL;
                char *error = NULL;

                ASSERT(status_parse(bad[i], strlen(bad[i]), &s, &error) == -EBADMSG);
                ASSERT(error && !s);
                free(error);
        }
}

static void test_missing_optional(void)
{
        _cleanup_(status_report_freep) StatusReport *s = NULL;
        char *error = NULL;
        const char *t = "{\"nautobot-version\": \"3.2.0\"}";

        ASSERT(status_parse(t, strlen(t), &s, &error) == 0);
        ASSERT(s->workers == -1 && !s->apps);
}

int main(void)
{
        RUN(test_real);
        RUN(test_malformed);
        RUN(test_missing_optional);
        return 0;
}
