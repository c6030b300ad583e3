/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* State files: round trip, atomic replace, corruption detected and moved aside. */
#include <dirent.h>
#include <sys/stat.h>

#include "state.h"
#include "test.h"

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        ASSERT(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        ASSERT(f);
        fputs(text, f);
        fclose(f);
}

static void test_round_trip(void)
{
        char root[] = "/tmp/nvd-test-state-XXXXXX";
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_(package_state_freep) PackageState *got = NULL;
        json_object *report = json_object_new_object();
        PackageState s = {.package = (char *)"nautobot-contract-models",
                          .version = (char *)"2026.5.17",
                          .verdict = (char *)"pass",
                          .verified_usec = 1764000000000000ULL,
                          .report = report};
        struct stat st;

        ASSERT(mkdtemp(root));
        dir = strjoin_printf("%s/sub/state", root); /* created on demand */
        json_object_object_add(report, "verdict", json_object_new_string("pass"));
        ASSERT(state_save(dir, &s) == 0);
        path = state_path(dir, "Nautobot_Contract_Models");
        ASSERT(endswith(path, "/nautobot-contract-models.json"));
        ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        ASSERT(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
        ASSERT(state_load(dir, "nautobot-contract-models", &got, NULL) == 0);
        ASSERT_STREQ(got->version, "2026.5.17");
        ASSERT_STREQ(got->verdict, "pass");
        ASSERT(got->verified_usec == 1764000000000000ULL);
        ASSERT(got->report && json_object_is_type(got->report, json_type_object));
        ASSERT(!got->site_packages); /* not given: not written (files of before 0.5 have none) */

        /* Which Nautobot the state describes, so two sharing an instance name are told apart. */
        s.site_packages = (char *)"/opt/nautobot/lib/python3.11/site-packages";
        ASSERT(state_save(dir, &s) == 0);
        got = package_state_free(got);
        ASSERT(state_load(dir, "nautobot-contract-models", &got, NULL) == 0);
        ASSERT_STREQ(got->site_packages, "/opt/nautobot/lib/python3.11/site-packages");

        /* Replacing leaves exactly one file: no temporary behind. */
        s.version = NULL;
        s.verdict = (char *)"removed";
        ASSERT(state_save(dir, &s) == 0);
        ASSERT(count_entries(dir) == 1);
        got = package_state_free(got);
        ASSERT(state_load(dir, "nautobot-contract-models", &got, NULL) == 0);
        ASSERT(!got->version);
        json_object_put(report);
        _cleanup_free_ char *rm = strjoin_printf("rm -rf '%s'", root);
        ASSERT(system(rm) == 0);
}

static void test_corrupt(void)
{
        static const char *const bad[] = {
                "",
                "not json",
                "[]",
                "{\"format\": 1}",
                "{\"format\": 2, \"package\": \"p\", \"version\": \"1\", \"verdict\": \"pass\", \"verified_usec\": 1}",
                "{\"format\": 1, \"package\": \"other\", \"version\": \"1\", \"verdict\": \"pass\", \"verified_usec\": 1}",
                "{\"format\": 1, \"package\": \"p\", \"version\": 7, \"verdict\": \"pass\", \"verified_usec\": 1}",
        };
        char dir[] = "/tmp/nvd-test-state-XXXXXX";
        _cleanup_free_ char *path = NULL, *aside = NULL;
        PackageState *got = NULL;
        struct stat st;

        ASSERT(mkdtemp(dir));
        path = state_path(dir, "p");
        aside = strjoin_printf("%s.corrupt", path);
        ASSERT(state_load(dir, "p", &got, NULL) == -ENOENT);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *error = NULL;

                write_text(path, bad[i]);
                ASSERT(state_load(dir, "p", &got, &error) == -EBADMSG);
                ASSERT(error && strstr(error, path));
                ASSERT(!got);
        }
        ASSERT(state_quarantine(dir, "p") == 0);
        ASSERT(stat(path, &st) < 0 && stat(aside, &st) == 0);
        ASSERT(state_load(dir, "p", &got, NULL) == -ENOENT);
        _cleanup_free_ char *rm = strjoin_printf("rm -rf '%s'", dir);
        ASSERT(system(rm) == 0);
}

/* nautobot-verifyctl verify's request: one request, one forced run. */
static void test_force_request(void)
{
        char dir[] = "/tmp/nvd-test-state-force-XXXXXX";
        _cleanup_free_ char *sub = NULL, *path = NULL;
        struct stat st;

        ASSERT(mkdtemp(dir));
        sub = strjoin_printf("%s/default", dir);
        path = strjoin_printf("%s/" STATE_FORCE_FILE, sub);
        ASSERT(sub && path);
        ASSERT(state_take_force_request(sub) == 0); /* no directory yet: no request */
        ASSERT(state_request_force(sub) == 0);
        ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
        ASSERT(state_request_force(sub) == 0); /* twice is still one request */
        ASSERT(state_take_force_request(sub) == 1);
        ASSERT(state_take_force_request(sub) == 0);
        ASSERT(stat(path, &st) < 0 && errno == ENOENT);
        ASSERT(rmdir(sub) == 0 && rmdir(dir) == 0);
}

/* The apps an instance has state for: files with an app label, sorted; Nautobot's is none. */
static void test_list_apps(void)
{
        char dir[] = "/tmp/nvd-test-state-apps-XXXXXX";
        _cleanup_strv_free_ char **packages = NULL, **labels = NULL;
        _cleanup_(package_state_freep) PackageState *back = NULL;
        _cleanup_free_ char *junk = NULL;

        ASSERT(mkdtemp(dir));
        ASSERT(state_list_apps(dir, &packages, &labels) == 0 && !packages && !labels);
        ASSERT(state_save(dir, &(PackageState){.package = (char *)"nautobot-dns-models",
                                               .app_label = (char *)"nautobot_dns_models",
                                               .version = (char *)"2.3.0",
                                               .verdict = (char *)"pass"}) == 0);
        ASSERT(state_save(dir, &(PackageState){.package = (char *)"nautobot-contract-models",
                                               .app_label = (char *)"nautobot_contract_models",
                                               .version = (char *)"2026.5.17",
                                               .verdict = (char *)"fail"}) == 0);
        ASSERT(state_save(dir, &(PackageState){.package = (char *)"nautobot",
                                               .version = (char *)"3.1.6",
                                               .verdict = (char *)"pass"}) == 0);
        junk = strjoin_printf("%s/broken.json", dir);
        ASSERT(junk);
        sh("printf '{not json' > %s", junk);
        ASSERT(state_list_apps(dir, &packages, &labels) == 0);
        ASSERT(strv_length(packages) == 2 && strv_length(labels) == 2);
        ASSERT_STREQ(packages[0], "nautobot-contract-models");
        ASSERT_STREQ(labels[0], "nautobot_contract_models");
        ASSERT_STREQ(packages[1], "nautobot-dns-models");
        ASSERT_STREQ(labels[1], "nautobot_dns_models");
        ASSERT(state_load(dir, "nautobot-dns-models", &back, NULL) == 0);
        ASSERT_STREQ(back->app_label, "nautobot_dns_models");
        sh("rm -rf %s", dir);
        packages = strv_free(packages);
        labels = strv_free(labels);
        /* No directory yet: none. */
        ASSERT(state_list_apps(dir, &packages, &labels) == 0 && !packages);
}

int main(void)
{
        RUN(test_round_trip);
        RUN(test_corrupt);
        RUN(test_force_request);
        RUN(test_list_apps);
        return 0;
}
