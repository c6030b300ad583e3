/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dist-info discovery and METADATA parsing, on the real file and on a temp tree. */
#include <sys/stat.h>

#include "metadata.h"
#include "pkgwatch.h"
#include "test.h"
#include "utf8.h"

static void test_normalize(void)
{
        _cleanup_free_ char *a = python_name_normalize("Nautobot_Contract.Models");
        _cleanup_free_ char *b = python_name_normalize("nautobot--contract__models");

        ASSERT_STREQ(a, "nautobot-contract-models");
        ASSERT_STREQ(b, "nautobot-contract-models");
}

/*
 * What may name a file: distribution names (PEP 508) and Django app labels (identifiers),
 * ASCII only, bounded; nothing with '/', "..", a control byte, or bytes of another script.
 */
static void test_names_valid(void)
{
        static const char *const dists[] = {
                "nautobot-contract-models",
                "nautobot_dns_models",
                "Nautobot.Golden-Config",
                "nautobot",
                "a",
                "A1",
                "zope.interface",
                "ruamel.yaml.clib",
                "x_y-z.0",
        };
        static const char *const not_dists[] = {
                "",    "../x",     "a/b",  "..",          ".",     "-a",   "a-",   "_a",  "a.",
                "a b", "a\033[2J", "\033", "caf\xc3\xa9", "a\xff", "a\nb", "a\\b", "a:b", "~a",
        };
        static const char *const labels[] = {
                "nautobot_contract_models",
                "nautobot_dns_models",
                "dcim",
                "_private",
                "A1",
                "auth",
                "contenttypes",
                "nautobot_golden_config",
                "x",
        };
        static const char *const not_labels[] = {
                "",      "../../etc", "..",    "a/b",     "1abc",        "nautobot-dns-models",
                "a.b",   "a b",       "a\033", "\033[2J", "caf\xc3\xa9", "\xce\xb1",
                "a\xff", "a\n",
        };
        _cleanup_free_ char *long_dist = NULL, *max_dist = NULL, *long_label = NULL,
                            *max_label = NULL;

        for (size_t i = 0; i < ELEMENTSOF(dists); i++)
                ASSERT(python_name_valid(dists[i]));
        for (size_t i = 0; i < ELEMENTSOF(not_dists); i++)
                ASSERT(!python_name_valid(not_dists[i]));
        for (size_t i = 0; i < ELEMENTSOF(labels); i++)
                ASSERT(python_identifier_valid(labels[i]));
        for (size_t i = 0; i < ELEMENTSOF(not_labels); i++)
                ASSERT(!python_identifier_valid(not_labels[i]));
        ASSERT(!python_name_valid(NULL) && !python_identifier_valid(NULL));

        max_dist = strjoin_printf("a%0*d", PYTHON_NAME_MAX - 1, 0);
        long_dist = strjoin_printf("a%0*d", PYTHON_NAME_MAX, 0);
        ASSERT(strlen(max_dist) == 128 && python_name_valid(max_dist));
        ASSERT(!python_name_valid(long_dist));
        max_label = strjoin_printf("a%0*d", PYTHON_IDENTIFIER_MAX - 1, 0);
        long_label = strjoin_printf("a%0*d", PYTHON_IDENTIFIER_MAX, 0);
        ASSERT(strlen(max_label) == 100 && python_identifier_valid(max_label));
        ASSERT(!python_identifier_valid(long_label));
}

static void test_real_metadata(void)
{
        _cleanup_free_ char *path = fixture("METADATA-nautobot-contract-models"), *text = NULL;
        _cleanup_free_ char *name = NULL, *version = NULL;

        ASSERT(read_file_bounded(path, METADATA_SIZE_MAX, &text, NULL) == 0);
        ASSERT(metadata_parse(text, &name, &version) == 0);
        ASSERT_STREQ(name, "nautobot-contract-models");
        ASSERT_STREQ(version, "2026.5.17");
}

static void test_bad_metadata(void)
{
        char *n = NULL, *v = NULL;

        ASSERT(metadata_parse("Name: x\n", &n, &v) == -EBADMSG);
        ASSERT(metadata_parse("Name: x\nVersion: 1.0 ; rm -rf\n", &n, &v) == -EBADMSG);
        /* A Version line in the body (after the blank line) does not count. */
        ASSERT(metadata_parse("Name: x\n\nVersion: 1.0\n", &n, &v) == -EBADMSG);
        ASSERT(metadata_parse("", &n, &v) == -EBADMSG);
        ASSERT(metadata_parse("Metadata-Version: 2.1\r\nName: x\r\nVersion: 2026.5.9\r\n\r\n", &n,
                              &v) == 0);
        ASSERT_STREQ(v, "2026.5.9");
        free(n), free(v);
}

static void mkdist(const char *root, const char *dir, const char *version)
{
        _cleanup_free_ char *d = strjoin_printf("%s/%s", root, dir),
                            *m = strjoin_printf("%s/%s/METADATA", root, dir);
        FILE *f;

        ASSERT(mkdir(d, 0755) == 0);
        f = fopen(m, "we");
        ASSERT(f);
        fprintf(f, "Metadata-Version: 2.1\nName: nautobot-contract-models\nVersion: %s\n\nbody\n",
                version);
        fclose(f);
}

static void test_find(void)
{
        char root[] = "/tmp/nvd-test-sp-XXXXXX";
        _cleanup_(dist_info_freep) DistInfo *d = NULL;
        _cleanup_strv_free_ char **conflicts = NULL;

        ASSERT(mkdtemp(root));
        ASSERT(dist_info_find(root, "nautobot-contract-models", &d, NULL) == -ENOENT);
        mkdist(root, "nautobot_contract_models-2026.5.12.dist-info", "2026.5.12");
        mkdist(root, "nautobot_contract_models_extra-1.0.dist-info", "1.0"); /* another package */
        ASSERT(dist_info_find(root, "nautobot-contract-models", &d, NULL) == 0);
        ASSERT_STREQ(d->version, "2026.5.12");
        ASSERT(endswith(d->path, "/nautobot_contract_models-2026.5.12.dist-info"));
        /* Mid-upgrade: two dist-info folders. */
        mkdist(root, "nautobot_contract_models-2026.5.17.dist-info", "2026.5.17");
        ASSERT(dist_info_find(root, "Nautobot_Contract_Models", &d, &conflicts) == -ENOTUNIQ);
        ASSERT(strv_length(conflicts) == 2);
        /* A folder name is any bytes: the names returned for messages are printable UTF-8. */
        mkdist(root, "nautobot_contract_models-9\xff\x1b[2J.dist-info", "9");
        conflicts = strv_free(conflicts);
        ASSERT(dist_info_find(root, "nautobot-contract-models", &d, &conflicts) == -ENOTUNIQ);
        ASSERT(strv_length(conflicts) == 3);
        STRV_FOREACH (c, conflicts)
                ASSERT(utf8_is_valid(*c, strlen(*c)) && !strchr(*c, '\033'));
        _cleanup_free_ char *escaped =
                strjoin_printf("%s/nautobot_contract_models-9\\xff\\x1b[2J.dist-info", root);
        ASSERT(strv_contains(conflicts, escaped));
        ASSERT(dist_info_find("/nonexistent", "x", &d, NULL) == -ENOENT);
        _cleanup_free_ char *rm = strjoin_printf("rm -rf '%s'", root);
        ASSERT(system(rm) == 0);
}

static char *read_fixture(const char *name, size_t *ret_len)
{
        _cleanup_free_ char *path = fixture(name);
        char *text = NULL;

        ASSERT(read_file_bounded(path, DIRECT_URL_SIZE_MAX, &text, ret_len) == 0);
        return text;
}

/* PEP 610 direct_url.json, as pip writes it, through what the watcher and the reports use. */
static void test_editable_probe(void)
{
        static const struct {
                const char *fixture;
                bool editable;
        } cases[] = {
                {"direct_url-editable.json", true},
                /* "editable" and true appear in it, but it is not an editable install. */
                {"direct_url-archive.json", false},
                {"direct_url-dir-not-editable.json", false},
                {"direct_url-vcs.json", false},
        };
        char root[] = "/tmp/nvd-test-sp-XXXXXX";

        ASSERT(mkdtemp(root));
        mkdist(root, "nautobot_contract_models-2026.5.17.dist-info", "2026.5.17");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = NULL, *path = NULL, *version = NULL, *problem = NULL,
                                    *cmd = NULL;
                size_t len;
                bool editable = !cases[i].editable;
                FILE *f;

                text = read_fixture(cases[i].fixture, &len);
                path = strjoin_printf("%s/nautobot_contract_models-2026.5.17.dist-info/"
                                      "direct_url.json",
                                      root);
                cmd = strjoin_printf(
                        "touch '%s/nautobot_contract_models-2026.5.17.dist-info/RECORD'", root);
                ASSERT(path && cmd && system(cmd) == 0);
                f = fopen(path, "we");
                ASSERT(f);
                ASSERT(fwrite(text, 1, len, f) == len);
                fclose(f);
                ASSERT(pkg_probe(root, "nautobot-contract-models", &version, &editable, &problem) ==
                       0);
                ASSERT(!problem);
                ASSERT_STREQ(version, "2026.5.17");
                if (editable != cases[i].editable) {
                        fprintf(stderr, "%s: editable=%d, expected %d\n", cases[i].fixture,
                                editable, cases[i].editable);
                        abort();
                }
        }
        _cleanup_free_ char *rm = strjoin_printf("rm -rf '%s'", root);
        ASSERT(system(rm) == 0);
}

static void test_direct_url_parse(void)
{
        _cleanup_free_ char *e = NULL, *a = NULL;
        size_t le, la;

        e = read_fixture("direct_url-editable.json", &le);
        a = read_fixture("direct_url-archive.json", &la);
        ASSERT(direct_url_parse_editable(e, le) == 1);
        ASSERT(direct_url_parse_editable(a, la) == 0);
        ASSERT(direct_url_parse_editable("", 0) == -EBADMSG);
        ASSERT(direct_url_parse_editable("[true]", 6) == -EBADMSG);
        ASSERT(direct_url_parse_editable("{\"dir_info\": {\"editable\": \"true\"}}", 34) == 0);
        ASSERT(direct_url_parse_editable("{\"dir_info\": {\"editable\": true}} x", 34) == -EBADMSG);
        ASSERT(direct_url_parse_editable("{\"dir_info\": {\"editable\": true}}\n", 33) == 1);
        ASSERT(dist_info_is_editable("/nonexistent") == -ENOENT);
}

int main(void)
{
        RUN(test_normalize);
        RUN(test_names_valid);
        RUN(test_real_metadata);
        RUN(test_bad_metadata);
        RUN(test_find);
        RUN(test_editable_probe);
        RUN(test_direct_url_parse);
        return 0;
}
