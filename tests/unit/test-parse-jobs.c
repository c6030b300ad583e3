/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job list pages: real pages from Nautobot 3.1.6 and malformed input. */
#include "parse-jobs.h"
#include "test.h"

static JobPage *parse_fixture(const char *name)
{
        _cleanup_free_ char *path = fixture(name), *text = NULL, *error = NULL;
        JobPage *p = NULL;
        size_t len;

        ASSERT(read_file_bounded(path, 1 << 24, &text, &len) == 0);
        ASSERT(job_page_parse(text, len, &p, &error) == 0);
        return p;
}

static void test_real_pages(void)
{
        _cleanup_(job_page_freep) JobPage *all = parse_fixture("jobs-all.json");
        _cleanup_(job_page_freep) JobPage *p1 = parse_fixture("jobs-page1.json");
        _cleanup_(job_page_freep) JobPage *p2 = parse_fixture("jobs-page2.json");
        size_t app = 0;

        ASSERT(all->count == (int64_t)all->n_jobs);
        ASSERT(!all->next);
        for (size_t i = 0; i < all->n_jobs; i++)
                if (streq(all->jobs[i].module_name, "nautobot_contract_models.jobs")) {
                        app++;
                        /* Live fact: grouped by module, not "Contracts"; created disabled. */
                        ASSERT_STREQ(all->jobs[i].grouping, "nautobot_contract_models.jobs");
                        ASSERT(all->jobs[i].installed);
                        ASSERT(!all->jobs[i].enabled);
                }
        ASSERT(app == 7);
        ASSERT(p1->count == 7 && p1->n_jobs == 4 && p1->next);
        ASSERT(strstr(p1->next, "offset=4"));
        ASSERT(p2->n_jobs == 3 && !p2->next);
}

static void expect_error(const char *text, const char *want)
{
        _cleanup_(job_page_freep) JobPage *p = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT(job_page_parse(text, strlen(text), &p, &error) < 0);
        ASSERT(!p);
        if (!strstr(error, want)) {
                fprintf(stderr, "error \"%s\" lacks \"%s\"\n", error, want);
                abort();
        }
}

static void test_malformed(void)
{
        expect_error("", "not JSON");
        expect_error("{\"count\": 1, \"results\": [", "not JSON");
        expect_error("{} {}", "trailing data");
        expect_error("[]", "no \"results\" array");
        expect_error("{\"results\": {}}", "no \"results\" array");
        expect_error("{\"detail\":\"Invalid token\"}", "no \"results\" array");
        expect_error("{\"results\": [1]}", "result 0: a result is not an object");
        expect_error("{\"results\": [{\"module_name\": \"m\"}]}",
                     "result 0: field 'job_class_name' is missing");
        expect_error(
                "{\"results\": [{\"module_name\": \"m\", \"job_class_name\": \"C\", \"name\": \"n\", \"installed\": \"yes\", \"enabled\": true}]}",
                "field 'installed' is missing or not a boolean");
        expect_error(
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
                "not JSON");
}

static void test_too_many(void)
{
        Buf b;

        buf_init(&b, 1 << 20);
        buf_printf(&b, "{\"results\": [");
        for (int i = 0; i <= JOB_PAGE_RESULTS_MAX; i++)
                buf_printf(&b, "%s{}", i ? "," : "");
        buf_printf(&b, "]}");
        expect_error(b.data, "more than 1000");
        buf_done(&b);
}

int main(void)
{
        RUN(test_real_pages);
        RUN(test_malformed);
        RUN(test_too_many);
        return 0;
}
