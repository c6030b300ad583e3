/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nautobot-server check / makemigrations output, as Django 5.2 prints it. */
#include "parse-output.h"
#include "test.h"

static const char warnings_out[] =
        "System check identified some issues:\n"
        "\n"
        "WARNINGS:\n"
        "?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting.\n"
        "\tHINT: see the docs\n"
        "?: (security.W008) Your SECURE_SSL_REDIRECT setting is not set to True.\n"
        "\n"
        "System check identified 2 issues (0 silenced).\n";

static const char errors_err[] =
        "SystemCheckError: System check identified some issues:\n"
        "\n"
        "ERRORS:\n"
        "nautobot_contract_models.Contract.vendor: (fields.E300) Field defines a relation with model 'Vendor', which is either not installed, or is abstract.\n"
        "\n"
        "System check identified 1 issue (0 silenced).\n";

static const char traceback_err[] =
        "Traceback (most recent call last):\n"
        "  File \"/opt/nautobot/bin/nautobot-server\", line 8, in <module>\n"
        "    sys.exit(main())\n"
        "  File \"/opt/nautobot/lib/python3.11/site-packages/django/apps/config.py\", line 193, in create\n"
        "    import_module(entry)\n"
        "ModuleNotFoundError: No module named 'nautobot_contract_models'\n";

static void test_system(void)
{
        SystemCheckReport r = {};

        ASSERT(system_check_parse(0, "System check identified no issues (0 silenced).\n", "", &r) ==
               0);
        ASSERT(r.verdict == SYSTEM_CHECK_CLEAN && !r.issues);
        system_check_report_done(&r);

        ASSERT(system_check_parse(0, warnings_out, "", &r) == 0);
        ASSERT(r.verdict == SYSTEM_CHECK_WARNINGS);
        ASSERT(strv_length(r.issues) == 2);
        ASSERT(startswith(r.issues[1], "?: (security.W008)"));
        system_check_report_done(&r);

        ASSERT(system_check_parse(1, "", errors_err, &r) == 0);
        ASSERT(r.verdict == SYSTEM_CHECK_ERRORS);
        ASSERT(strv_length(r.issues) == 1 && strstr(r.issues[0], "(fields.E300)"));
        system_check_report_done(&r);

        ASSERT(system_check_parse(1, "", traceback_err, &r) == 0);
        ASSERT(r.verdict == SYSTEM_CHECK_CRASHED);
        ASSERT_STREQ(r.exception,
                     "ModuleNotFoundError: No module named 'nautobot_contract_models'");
        system_check_report_done(&r);

        ASSERT(system_check_parse(3, "huh", "", &r) == 0);
        ASSERT(r.verdict == SYSTEM_CHECK_UNEXPECTED);
        system_check_report_done(&r);
        /* Exit 0 without the sentence is not trusted either. */
        ASSERT(system_check_parse(0, "", "", &r) == 0);
        ASSERT(r.verdict == SYSTEM_CHECK_UNEXPECTED);
        system_check_report_done(&r);
}

static void test_migrations(void)
{
        static const char changes[] =
                "Migrations for 'nautobot_contract_models':\n"
                "  /opt/nautobot/lib/python3.11/site-packages/nautobot_contract_models/migrations/0011_contract_verifyd_probe.py\n"
                "    + Add field verifyd_probe to contract\n"
                "    ~ Alter field name on vendor\n";
        MigrationsReport r = {};

        ASSERT(migrations_parse(0, "nautobot_contract_models",
                                "No changes detected in app 'nautobot_contract_models'\n", "",
                                &r) == 0);
        ASSERT(r.verdict == MIGRATIONS_NO_CHANGES);
        migrations_report_done(&r);

        ASSERT(migrations_parse(1, "nautobot_contract_models", changes, "", &r) == 0);
        ASSERT(r.verdict == MIGRATIONS_CHANGES);
        ASSERT(strv_length(r.changes) == 2);
        ASSERT_STREQ(r.changes[0],
                     "0011_contract_verifyd_probe.py: + Add field verifyd_probe to contract");
        migrations_report_done(&r);

        ASSERT(migrations_parse(2, "nautobot_contract_models", "",
                                "No installed app with label 'nautobot_contract_models'.\n",
                                &r) == 0);
        ASSERT(r.verdict == MIGRATIONS_APP_NOT_LOADED);
        migrations_report_done(&r);
        /* The same words for another label do not count. */
        ASSERT(migrations_parse(2, "nautobot_contract_models", "",
                                "No installed app with label 'other'.\n", &r) == 0);
        ASSERT(r.verdict == MIGRATIONS_UNEXPECTED);
        migrations_report_done(&r);

        ASSERT(migrations_parse(1, "x", "", traceback_err, &r) == 0);
        ASSERT(r.verdict == MIGRATIONS_CRASHED);
        migrations_report_done(&r);
}

static void test_exception_line(void)
{
        _cleanup_free_ char *a = python_exception_line(
                "noise\nTraceback (most recent call last):\n  File x\nKeyError: 'k'\n");
        _cleanup_free_ char *b = python_exception_line("no traceback here\n");
        _cleanup_free_ char *c = python_exception_line("Traceback (most recent call last):\n");

        ASSERT_STREQ(a, "KeyError: 'k'");
        ASSERT(!b);
        ASSERT(!c);
}

int main(void)
{
        RUN(test_system);
        RUN(test_migrations);
        RUN(test_exception_line);
        return 0;
}
