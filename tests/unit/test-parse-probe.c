/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The probe's JSON: the document the live probe wrote, sections that failed, malformed input. */
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

/* Written by the real probe on the test bed (Nautobot 3.1.6, the app 2026.5.17). */
static void test_live(void)
{
        _cleanup_free_ char *path = fixture("probe.json"), *text = NULL;
        _cleanup_(probe_report_freep) ProbeReport *p = NULL;

        ASSERT(read_file_bounded(path, PROBE_RESULT_MAX, &text, NULL) == 0);
        p = parse_ok(text);
        ASSERT_STREQ(p->nautobot_version, "3.1.6");
        ASSERT(p->check.present && p->check.exit_status == 0);
        ASSERT(strstr(p->check.out, "System check identified no issues"));
        ASSERT(p->makemigrations.present && p->makemigrations.exit_status == 0);
        ASSERT(!p->unapplied && !p->applied_not_shipped && !p->plan_error);
        ASSERT(p->n_apps == 1);
        ASSERT_STREQ(p->apps[0].label, "nautobot_contract_models");
        ASSERT_STREQ(p->apps[0].version, "2026.5.17");
        ASSERT(!p->apps[0].max_version);
        ASSERT_STREQ(p->apps[0].package, "nautobot-contract-models");
        ASSERT(p->apps[0].admits_nautobot);
        ASSERT(probe_report_has_job(p, "nautobot_contract_models.jobs", "CoverageSnapshotJob"));
        ASSERT(!probe_report_has_job(p, "nautobot_contract_models.jobs", "NoSuchJob"));
        ASSERT_STREQ(p->db_host, "127.0.0.1");
        ASSERT_STREQ(p->db_port, "5432");
        ASSERT(!p->cache_error && !p->broker_error);
        ASSERT(strv_length(p->panels) == 6);
        ASSERT(strv_contains(p->panels, "Vendor Concentration"));
        ASSERT(!p->db_password); /* it follows the document, never inside it */
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
                "{\"format\": 1, \"nautobot_version\": \"3.1.7\", "
                "\"check\": {\"error\": \"ConnectionError: Redis\"}, "
                "\"makemigrations\": {\"exit_status\": 1, \"stdout\": \"Migrations for 'a':\", "
                "\"stderr\": \"\"}, " SECTIONS_OK
                "\"cache\": {\"error\": \"ConnectionError: x\"}, \"broker\": {\"ok\": true}}");
        ASSERT(!p->check.present);
        ASSERT_STREQ(p->check.error, "ConnectionError: Redis");
        ASSERT(p->makemigrations.present && p->makemigrations.exit_status == 1);
        ASSERT(strv_length(p->unapplied) == 2);
        ASSERT_STREQ(p->unapplied[0], "dcim.0070_x");
        ASSERT_STREQ(p->cache_error, "ConnectionError: x");
        ASSERT(!p->broker_error);
}

static void test_malformed(void)
{
        parse_bad("", "no result");
        parse_bad("{\"format\": 1", "not one JSON document");
        parse_bad("{\"format\": 1} {\"format\": 1}", "not one JSON document");
        parse_bad("[1, 2]", "not format 1");
        parse_bad("{\"format\": 2}", "not format 1");
        /* Sections missing or of the wrong type. */
        parse_bad("{\"format\": 1}", "malformed");
        parse_bad("{\"format\": 1, \"check\": {\"exit_status\": \"0\"}}", "malformed");
        parse_bad("{\"format\": 1, \"nautobot_version\": 3, \"check\": {}}", "malformed");
        /* Lists of objects: an element of another type is refused, whichever list. */
        parse_bad(
                "{\"format\": 1, \"check\": {\"error\": \"x\"}, \"makemigrations\": {\"error\": \"x\"}, "
                "\"migration_plan\": {\"error\": \"x\"}, \"apps\": [\"app\"], \"jobs\": {}, "
                "\"database\": {\"error\": \"x\"}, \"cache\": {}, \"broker\": {}}",
                "malformed");
        parse_bad(
                "{\"format\": 1, \"check\": {\"error\": \"x\"}, \"makemigrations\": {\"error\": \"x\"}, "
                "\"migration_plan\": {\"error\": \"x\"}, \"apps\": [], \"jobs\": {}, \"panels\": [1], "
                "\"database\": {\"error\": \"x\"}, \"cache\": {}, \"broker\": {}}",
                "malformed");
}

int main(void)
{
        RUN(test_live);
        RUN(test_sections);
        RUN(test_malformed);
        return 0;
}
