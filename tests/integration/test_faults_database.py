# SPDX-License-Identifier: LGPL-2.1-or-later
"""The database check on the real PostgreSQL of the test bed: the guide's hazards."""

import os
import subprocess
import nvdtest

DB_ONLY = {("checks", "enable"): "database"}
APP = "nautobot_contract_models"
LAST = "0010_icalaccesstoken_coveragesnapshot"


def psql(tb, sql):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", tb["NVD_TB_DB"], "-v", "ON_ERROR_STOP=1",
                           "-qAtc", sql], check=True, timeout=60, capture_output=True, text=True).stdout


def manage_shell(code):
    subprocess.run([nvdtest.TESTBED, "manage", "--name", nvdtest.load_testbed()["NVD_TB_NAME"], "--", "shell",
                    "--command", code], check=True, timeout=300, capture_output=True)


class DatabaseFaults(nvdtest.TestCase):
    def test_healthy_with_empty_snapshot_finding(self):
        r = nvdtest.Run(self.config(extra=DB_ONLY))
        self.assertEqual(r.code, 0, r.dump())
        e = self.assertResult(r, "database", "pass", f"all 10 migrations of '{APP}' are applied")
        self.assertIn(f"last applied: {LAST}", e["NVD_EVIDENCE"])
        self.assertTrue(any(f.startswith("0008_costsnapshot: the cost snapshot table is empty and no enabled schedule")
                            for f in r.findings("database")), r.dump())

    def test_forgotten_migrate(self):
        applied = psql(self.tb, f"SELECT applied FROM django_migrations WHERE app = '{APP}' AND name = '{LAST}'").strip()
        psql(self.tb, f"DELETE FROM django_migrations WHERE app = '{APP}' AND name = '{LAST}'")
        try:
            r = nvdtest.Run(self.config(extra=DB_ONLY))
        finally:
            psql(self.tb, f"INSERT INTO django_migrations (app, name, applied) VALUES ('{APP}', '{LAST}', '{applied}')")
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "database", "fail", f"1 migration(s) of '{APP}' are not applied ({LAST}): run \"nautobot-server migrate\"")

    def test_rollback_without_migrating_back(self):
        psql(self.tb, f"INSERT INTO django_migrations (app, name, applied) VALUES ('{APP}', '0011_from_a_newer_release', now())")
        try:
            r = nvdtest.Run(self.config(extra=DB_ONLY))
        finally:
            psql(self.tb, f"DELETE FROM django_migrations WHERE app = '{APP}' AND name = '0011_from_a_newer_release'")
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "database", "fail", "the package was rolled back without \"nautobot-server migrate nautobot_contract_models <target>\" first")

    def test_all_contracts_monthly_after_0007(self):
        manage_shell("import datetime\n"
                     "from nautobot.extras.models import Status\n"
                     "from nautobot_contract_models.models import Contract\n"
                     "Provider = Contract._meta.get_field('provider').related_model\n"
                     "p, _ = Provider.objects.get_or_create(name='nvd-provider')\n"
                     "st = Status.objects.get_for_model(Contract).first()\n"
                     "Contract.objects.create(name='nvd-annual-really', provider=p, status=st,\n"
                     "    start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2027, 1, 1))")
        try:
            r = nvdtest.Run(self.config(extra=DB_ONLY))
        finally:
            psql(self.tb, "DELETE FROM nautobot_contract_models_contract WHERE name = 'nvd-annual-really'")
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn("0007_contract_billing_period: all 1 contracts bill monthly, the migration's default: set the annual and quarterly ones, or the cost panels over-count",
                      r.findings("database"))

    def profiles(self, text):
        """An admin's drop-in directory holding this profile, searched before the shipped ones."""
        d = os.path.join(self.tmp, "profiles.d")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "nautobot-contract-models.conf")
        with open(path, "w") as f:
            f.write(text)
        return {**DB_ONLY, ("checks", "profiles"): f"{d}, {nvdtest.PROFILES}"}, path

    def test_admin_profile_wins_and_asks_the_real_database(self):
        extra, _ = self.profiles(
            "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"
            "[finding recorded]\nafter = 0001_initial\n"
            "query = SELECT true, count(*), max(name) FROM django_migrations\n"
            "  WHERE app = 'nautobot_contract_models'\n"
            "message = {1} migrations recorded, the last {2}\n")
        r = nvdtest.Run(self.config(extra=extra))
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(r.findings("database"), [f"10 migrations recorded, the last {LAST}"], r.dump())

    def test_broken_profile_is_refused_with_file_and_line(self):
        extra, path = self.profiles(
            "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"
            "[finding wipe]\nquery = DELETE FROM nautobot_contract_models_contract\nmessage = gone\n")
        r = subprocess.run([nvdtest.DAEMON, "--once", "-c", self.config(extra=extra)], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn(f"{path}:5: [finding wipe] query=: must be one SELECT statement", r.stderr)

    def test_database_unreachable(self):
        env = os.path.join(self.tmp, "nodb.env")
        with open(self.tb["NVD_TB_ENV_FILE"]) as src, open(env, "w") as dst:
            dst.write(src.read().rstrip("\n") + "\nNAUTOBOT_DB_PORT=1\n")
        r = nvdtest.Run(self.config(extra={**DB_ONLY, ("nautobot", "environment-file"): env}))
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "database", "error", "cannot connect to postgres@127.0.0.1:1/")


if __name__ == "__main__":
    nvdtest.main()
