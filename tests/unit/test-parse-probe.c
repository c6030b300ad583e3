/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe's JSON: the document the live probe wrote, sections that failed (as a whole, or
 * for one app), malformed input.
 */
#include "parse-probe.h"
#include "test.h"

static ProbeReport *parse_ok(const char *text)
{
        ProbeReport *p = NULL;
        char *error = NULL;

        ASSERT(probe_report_parse(text, strlen(text), &p, &error) == 0);
        ASSERT(!error);
        return p;
}

static void parse_bad(const char *text, const char *why)
{
        ProbeReport *p = NULL;
        char *error = NULL;

        ASSERT(probe_report_parse(text, strlen(text), &p, &error) == -EBADMSG);
        ASSERT(!p);
        ASSERT(error && strstr(error, why));
        free(error);
}

/*
 * Written by the real probe on the test bed (Nautobot 3.1.6, nautobot-contract-models
 * 2026.5.17 and nautobot-dns-models 2.3.0), asked for every app (NVD_PROBE_APP_LABELS=*).
 */
static void test_live(void)
{
        _cleanup_free_ char *path = fixture("probe.json"), *text = NULL;
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;
        const ProbeAppAnswer *contracts, *dns;

        ASSERT(read_file_bounded(path, PROBE_RESULT_MAX, &text, NULL) == 0);
        p = parse_ok(text);
        ASSERT_STREQ(p->nautobot_version, "3.1.6");
        ASSERT(p->check.present && p->check.exit_status == 0);
        ASSERT(strstr(p->check.out, "System check identified no issues"));
        ASSERT(!p->unapplied && !p->applied_not_shipped && !p->plan_error);
        ASSERT(p->n_apps == 2);
        ASSERT_STREQ(p->apps[0].label, "nautobot_contract_models");
        ASSERT_STREQ(p->apps[0].version, "2026.5.17");
        ASSERT(!p->apps[0].max_version);
        ASSERT_STREQ(p->apps[0].package, "nautobot-contract-models");
        ASSERT(p->apps[0].admits_nautobot);
        ASSERT_STREQ(p->apps[1].label, "nautobot_dns_models");
        ASSERT(probe_report_has_job(p, "nautobot_contract_models.jobs", "CoverageSnapshotJob"));
        ASSERT(!probe_report_has_job(p, "nautobot_contract_models.jobs", "NoSuchJob"));
        ASSERT(probe_report_has_job(p, "nautobot_dns_models.jobs", "AutoRenewDomains"));
        ASSERT_STREQ(p->db_host, "127.0.0.1");
        ASSERT_STREQ(p->db_port, "5432");
        ASSERT(!p->cache_error && !p->broker_error);
        ASSERT(!p->db_password); /* it follows the document, never inside it */

        /* Both apps answered, each on its own. */
        ASSERT(!p->makemigrations_error && !p->panels_error);
        ASSERT(p->n_answers == 2);
        contracts = probe_report_app(p, "nautobot_contract_models");
        ASSERT(contracts && contracts->makemigrations.present);
        ASSERT(contracts->makemigrations.exit_status == 0);
        ASSERT(strstr(contracts->makemigrations.out,
                      "No changes detected in app 'nautobot_contract_models'"));
        ASSERT(contracts->panels_present && !contracts->panels_error);
        ASSERT(strv_length(contracts->panels) == 6);
        ASSERT(strv_contains(contracts->panels, "Vendor Concentration"));
        dns = probe_report_app(p, "nautobot_dns_models");
        ASSERT(dns && dns->makemigrations.present && dns->makemigrations.exit_status == 0);
        ASSERT(strstr(dns->makemigrations.out, "No changes detected in app 'nautobot_dns_models'"));
        ASSERT(dns->panels_present && !dns->panels_error && !dns->panels); /* it declares none */
        ASSERT(!probe_report_app(p, "nautobot_golden_config"));
        ASSERT(!probe_report_app(p, "dcim"));
}

#define SECTIONS_OK                                                                                    \
        "\"migration_plan\": {\"unapplied\": [\"dcim.0070_x\", \"nautobot_contract_models.0010_y\"], " \
        "\"applied_not_shipped\": []}, \"apps\": [], \"jobs\": {}, "                                   \
        "\"database\": {\"host\": \"db\", \"port\": \"\", \"name\": \"nautobot\", \"user\": \"n\"}, "

static void test_sections(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;

        /* A section the probe could not answer carries its error; the others stand. */
        p = parse_ok(
                "{\"format\": 2, \"nautobot_version\": \"3.1.7\", "
                "\"check\": {\"error\": \"ConnectionError: Redis\"}, "
                "\"makemigrations\": {\"a\": {\"exit_status\": 1, \"stdout\": \"Migrations for 'a':\", "
                "\"stderr\": \"\"}}, " SECTIONS_OK "\"panels\": {\"a\": []}, "
                "\"cache\": {\"error\": \"ConnectionError: x\"}, \"broker\": {\"ok\": true}}");
        ASSERT(!p->check.present);
        ASSERT_STREQ(p->check.error, "ConnectionError: Redis");
        ASSERT(p->n_answers == 1);
        ASSERT(probe_report_app(p, "a")->makemigrations.present);
        ASSERT(probe_report_app(p, "a")->makemigrations.exit_status == 1);
        ASSERT(strv_length(p->unapplied) == 2);
        ASSERT_STREQ(p->unapplied[0], "dcim.0070_x");
        ASSERT_STREQ(p->cache_error, "ConnectionError: x");
        ASSERT(!p->broker_error);
        ASSERT(!p->booted_again);
        p = probe_report_free(p);

        /* Booted ahead, then again: the file written since is said. */
        p = parse_ok(
                "{\"format\": 2, \"nautobot_version\": \"3.1.7\", "
                "\"booted_again\": \"/opt/nautobot/nautobot_config.py\", "
                "\"check\": {\"error\": \"x\"}, \"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK
                "\"panels\": {\"a\": []}, \"cache\": {\"ok\": true}, \"broker\": {\"ok\": true}}");
        ASSERT_STREQ(p->booted_again, "/opt/nautobot/nautobot_config.py");
}

#define CHECK_OK "\"format\": 2, \"check\": {\"exit_status\": 0}, "
#define MIGRATIONS_OF(label, status)                                                               \
        "\"" label "\": {\"exit_status\": " #status ", \"stdout\": \"\", \"stderr\": \"\"}"
#define REST_OK                                                                                    \
        "\"database\": {\"error\": \"x\"}, \"cache\": {\"ok\": true}, \"broker\": {\"ok\": true}"

/* Two apps answered in one document, each on its own; an app the probe did not name. */
static void test_apps(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;
        const ProbeAppAnswer *a, *b;

        p = parse_ok(
                "{" CHECK_OK "\"makemigrations\": {" MIGRATIONS_OF("app_a", 0) ", " MIGRATIONS_OF(
                        "app_b", 1) "}, " SECTIONS_OK
                                    "\"panels\": {\"app_b\": [{\"name\": \"B1\", \"weight\": 100}, "
                                    "{\"name\": \"B2\", \"weight\": null, \"permissions\": []}], "
                                    "\"app_a\": [], \"app_c\": [{\"name\": \"C1\"}]}, " REST_OK
                                    "}");
        ASSERT(!p->makemigrations_error && !p->panels_error);
        /* In the order first named: makemigrations' apps, then those only panels names. */
        ASSERT(p->n_answers == 3);
        ASSERT_STREQ(p->answers[0].label, "app_a");
        ASSERT_STREQ(p->answers[1].label, "app_b");
        ASSERT_STREQ(p->answers[2].label, "app_c");
        a = probe_report_app(p, "app_a");
        b = probe_report_app(p, "app_b");
        ASSERT(a && b && a != b);
        ASSERT(a->makemigrations.present && a->makemigrations.exit_status == 0);
        ASSERT(a->panels_present && !a->panels && !a->panels_error);
        ASSERT(b->makemigrations.present && b->makemigrations.exit_status == 1);
        ASSERT(b->panels_present && strv_length(b->panels) == 2);
        ASSERT_STREQ(b->panels[0], "B1");
        ASSERT_STREQ(b->panels[1], "B2");
        /* Panels only: makemigrations said nothing of it. */
        ASSERT(!probe_report_app(p, "app_c")->makemigrations.present);
        ASSERT(!probe_report_app(p, "app_c")->makemigrations.error);
        /* Unknown, or asked the wrong way. */
        ASSERT(!probe_report_app(p, "app_d"));
        ASSERT(!probe_report_app(p, "app"));
        ASSERT(!probe_report_app(p, NULL));
        ASSERT(!probe_report_app(NULL, "app_a"));
}

/* One app's panels could not be read: that app says why, the other stands. */
static void test_app_panels_error(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;
        const ProbeAppAnswer *a;

        p = parse_ok("{" CHECK_OK "\"makemigrations\": {" MIGRATIONS_OF("app_a", 0) ", " MIGRATIONS_OF(
                "app_b",
                0) "}, " SECTIONS_OK
                   "\"panels\": {\"app_a\": {\"error\": \"AttributeError: 'AppConfig' object "
                   "has no attribute 'features'\"}, \"app_b\": [{\"name\": \"B1\"}]}, " REST_OK
                   "}");
        ASSERT(!p->panels_error);
        a = probe_report_app(p, "app_a");
        ASSERT(a && !a->panels_present && !a->panels);
        ASSERT_STREQ(a->panels_error,
                     "AttributeError: 'AppConfig' object has no attribute 'features'");
        ASSERT(a->makemigrations.present);
        a = probe_report_app(p, "app_b");
        ASSERT(a && a->panels_present && !a->panels_error && strv_length(a->panels) == 1);
}

/* A section keyed by app that failed as a whole; and an app labelled "error". */
static void test_section_errors(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL, *q = NULL;

        p = parse_ok(
                "{" CHECK_OK
                "\"makemigrations\": {\"error\": \"ChildProcessError: the probe's child for it "
                "ended with signal 9, without an answer\"}, " SECTIONS_OK
                "\"panels\": {\"error\": \"not asked for\"}, " REST_OK "}");
        ASSERT_STREQ(
                p->makemigrations_error,
                "ChildProcessError: the probe's child for it ended with signal 9, without an answer");
        ASSERT_STREQ(p->panels_error, "not asked for");
        ASSERT(p->n_answers == 0 && !p->answers);
        ASSERT(!probe_report_app(p, "app_a"));

        /* A string under "error" is the section's; an object or a list, an app's. */
        q = parse_ok("{" CHECK_OK "\"makemigrations\": {" MIGRATIONS_OF(
                "error", 0) "}, " SECTIONS_OK
                            "\"panels\": {\"error\": [{\"name\": \"E\"}]}, " REST_OK "}");
        ASSERT(!q->makemigrations_error && !q->panels_error);
        ASSERT(q->n_answers == 1);
        ASSERT(probe_report_app(q, "error")->makemigrations.present);
        ASSERT_STREQ(probe_report_app(q, "error")->panels[0], "E");
}

/* A probe of another release: refused, and the reason says which format it wrote. */
static void test_format(void)
{
        _cleanup_free_ char *path = fixture("probe.json"), *text = NULL;
        char *f;

        parse_bad("{\"format\": 1, \"nautobot_version\": \"3.1.6\", \"check\": {\"error\": \"x\"}, "
                  "\"makemigrations\": {\"exit_status\": 0, \"stdout\": \"\", \"stderr\": \"\"}, "
                  "\"panels\": [], " SECTIONS_OK REST_OK "}",
                  "the probe's result is format 1, not format 2");
        parse_bad("{\"format\": 3}", "the probe's result is format 3, not format 2");
        parse_bad("{\"format\": \"2\"}", "the probe's result is not format 2");
        parse_bad("{}", "the probe's result is not format 2");
        /* The live document, made format 1: the same. */
        ASSERT(read_file_bounded(path, PROBE_RESULT_MAX, &text, NULL) == 0);
        f = strstr(text, "\"format\": 2");
        ASSERT(f);
        f[strlen("\"format\": ")] = '1';
        parse_bad(text, "format 1, not format 2");
}

static void test_malformed(void)
{
        parse_bad("", "no result");
        parse_bad("{\"format\": 2", "not one JSON document");
        parse_bad("{\"format\": 2} {\"format\": 2}", "not one JSON document");
        parse_bad("[1, 2]", "not format 2");
        /* Sections missing or of the wrong type. */
        parse_bad("{\"format\": 2}", "malformed");
        parse_bad("{\"format\": 2, \"check\": {\"exit_status\": \"0\"}}", "malformed");
        parse_bad("{\"format\": 2, \"nautobot_version\": 3, \"check\": {}}", "malformed");
        parse_bad("{\"format\": 2, \"booted_again\": [], \"check\": {}}", "malformed");
        /* Lists of objects: an element of another type is refused, whichever list. */
        parse_bad(
                "{\"format\": 2, \"check\": {\"error\": \"x\"}, \"makemigrations\": {\"error\": \"x\"}, "
                "\"migration_plan\": {\"error\": \"x\"}, \"apps\": [\"app\"], \"jobs\": {}, "
                "\"panels\": {\"error\": \"x\"}, \"database\": {\"error\": \"x\"}, \"cache\": {}, "
                "\"broker\": {}}",
                "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK
                  "\"panels\": {\"a\": [1]}, " REST_OK "}",
                  "malformed");
        /* The sections by app: each app's answer of the right shape, a label, the panels section
         * present (format 1 did without). */
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"a\": 0}, " SECTIONS_OK
                  "\"panels\": {\"error\": \"x\"}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"a\": {\"exit_status\": \"1\"}}, " SECTIONS_OK
                  "\"panels\": {\"error\": \"x\"}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {" MIGRATIONS_OF(
                          "", 0) "}, " SECTIONS_OK "\"panels\": {\"error\": \"x\"}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": 3}, " SECTIONS_OK
                  "\"panels\": {\"error\": \"x\"}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK
                  "\"panels\": [], " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK
                  "\"panels\": {\"a\": {}}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK
                  "\"panels\": {\"a\": [{\"weight\": 1}]}, " REST_OK "}",
                  "malformed");
        parse_bad("{" CHECK_OK "\"makemigrations\": {\"error\": \"x\"}, " SECTIONS_OK REST_OK "}",
                  "malformed");
}

/* At most PROBE_APPS_MAX apps in one document. */
static void test_apps_bounded(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;
        Buf doc;

        for (size_t n = PROBE_APPS_MAX; n <= PROBE_APPS_MAX + 1; n++) {
                buf_init(&doc, PROBE_RESULT_MAX);
                ASSERT(buf_printf(&doc, "{" CHECK_OK "\"makemigrations\": {") == 0);
                for (size_t i = 0; i < n; i++)
                        ASSERT(buf_printf(&doc, "%s\"app_%zu\": {\"exit_status\": 0}",
                                          i ? ", " : "", i) == 0);
                ASSERT(buf_printf(&doc, "}, " SECTIONS_OK "\"panels\": {}, " REST_OK "}") == 0);
                if (n == PROBE_APPS_MAX) {
                        p = parse_ok(doc.data);
                        ASSERT(p->n_answers == PROBE_APPS_MAX);
                        ASSERT(probe_report_app(p, "app_255"));
                } else
                        parse_bad(doc.data, "too long a list");
                buf_done(&doc);
        }
}

/*
 * The account that owns the app's code decides what the probe says: an app whose label or
 * distribution would climb out of a path (<site-packages>/<label>/static, the state file)
 * is left out of apps, with the reason, its name escaped; the valid apps stand.
 */
static void test_apps_refused(void)
{
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;

        p = parse_ok("{" CHECK_OK "\"makemigrations\": {}, "
                     "\"migration_plan\": {\"unapplied\": [], \"applied_not_shipped\": []}, "
                     "\"apps\": ["
                     "{\"label\": \"../../etc\", \"name\": \"evil\", \"package\": \"evil\"}, "
                     "{\"label\": \"nautobot_dns_models\", \"name\": \"nautobot_dns_models\", "
                     "\"package\": \"nautobot-dns-models\"}, "
                     "{\"label\": \"ok_label\", \"name\": \"x\", \"package\": \"../x\"}, "
                     "{\"label\": \"esc\\u001b[2Jlabel\", \"name\": \"y\", \"package\": \"y\"}, "
                     "{\"label\": \"caf\\u00e9\", \"name\": \"z\", \"package\": \"z\"}, "
                     "{\"label\": \"no_package\", \"name\": \"w\", \"package\": null}, "
                     "{\"label\": \"nautobot_contract_models\", \"name\": \"n\", "
                     "\"package\": \"a/b\"}], "
                     "\"jobs\": {}, \"panels\": {}, " REST_OK "}");
        ASSERT(!p->apps_error);
        ASSERT(p->n_apps == 2);
        ASSERT_STREQ(p->apps[0].label, "nautobot_dns_models");
        ASSERT_STREQ(p->apps[0].package, "nautobot-dns-models");
        ASSERT_STREQ(p->apps[1].label, "no_package"); /* said by the daemon, no path from it */
        ASSERT(!p->apps[1].package);
        ASSERT(strv_length(p->apps_refused) == 5);
        ASSERT(strstr(p->apps_refused[0], "label '../../etc' is not a Django app label"));
        ASSERT(strstr(p->apps_refused[0], "not verified"));
        ASSERT(strstr(p->apps_refused[1], "app ok_label (x)"));
        ASSERT(strstr(p->apps_refused[1], "'../x' is not a Python distribution name"));
        ASSERT(strstr(p->apps_refused[2], "label 'esc\\x1b[2Jlabel' is not a Django app label"));
        ASSERT(!strchr(p->apps_refused[2], '\033'));
        ASSERT(strstr(p->apps_refused[3], "label 'café' is not"));
        ASSERT(strstr(p->apps_refused[4], "'a/b' is not a Python distribution name"));
        for (size_t i = 0; i < p->n_apps; i++)
                ASSERT(!strstr(p->apps[i].label, "..") && !strchr(p->apps[i].label, '/'));
}

int main(void)
{
        RUN(test_live);
        RUN(test_sections);
        RUN(test_apps);
        RUN(test_app_panels_error);
        RUN(test_section_errors);
        RUN(test_format);
        RUN(test_malformed);
        RUN(test_apps_bounded);
        RUN(test_apps_refused);
        return 0;
}
